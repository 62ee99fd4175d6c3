//! SMS from the real server process (its own sender, on its own clock) to a fake SMSAPI on
//! loopback: a seat freed at a kiosk reaches the waiting resident once; a server killed
//! with -9 while the gateway is answering sends nothing twice after its restart; the
//! office's SMS page lists the outbox and sends a test message; `notices --json` never
//! shows a number or a text.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::Value;

use blisko_kiosk::kiosk::RegistrationForm;
use blisko_tests::harness::{
    ServerProcess, branch_id, enroll_kiosk, set_class_seats, sync, sync_until_complete,
};
use blisko_tests::office::{Office, PASSWORD, add_staff};
use blisko_tests::smsapi::{Behaviour, FakeSmsApi};
use blisko_tests::{Backend, for_each_backend};

const TOKEN: &str = "proc-test-token-42";

fn sms_options(fake: &FakeSmsApi, dir: &Path) -> Result<Vec<String>> {
    let token = dir.join("sms-token");
    std::fs::write(&token, format!("{TOKEN}\n"))?;
    Ok(vec![
        "--sms-api-url".into(),
        fake.url(),
        "--sms-token-file".into(),
        token.display().to_string(),
        "--sms-sender".into(),
        "CUS Test".into(),
        "--sms-quiet-hours".into(),
        "off".into(),
    ])
}

fn form(class: &str, name: &str, phone: Option<&str>, sms: bool) -> RegistrationForm {
    RegistrationForm {
        class_id: class.to_owned(),
        given_name: name.to_owned(),
        family_name: "Kowalska".to_owned(),
        birth_year: 1948,
        phone: phone.map(str::to_owned),
        consent: true,
        sms_consent: sms,
        ..RegistrationForm::default()
    }
}

fn notices(server: &ServerProcess) -> Result<Vec<Value>> {
    Ok(server
        .admin(&["notices"])?
        .as_array()
        .context("notices is an array")?
        .clone())
}

/// Wait until the outbox holds a notice of `kind` in `status`.
fn wait_for_notice(server: &ServerProcess, kind: &str, status: &str) -> Result<Value> {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let all = notices(server)?;
        if let Some(n) = all
            .iter()
            .find(|n| n["kind"] == kind && n["status"] == status)
        {
            return Ok(n.clone());
        }
        anyhow::ensure!(
            Instant::now() < until,
            "no {kind} notice became {status}: {all:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

struct World {
    tmp: tempfile::TempDir,
    server: ServerProcess,
    fake: FakeSmsApi,
    options: Vec<String>,
    kiosk: std::sync::Mutex<blisko_kiosk::Kiosk>,
    class: String,
    title: String,
    seated: String,
    /// Barbara's resident code (she waits, with SMS consent).
    code: String,
}

/// A server sending through the fake, a MAL kiosk, a class of one seat taken by a
/// resident without SMS, and a resident with SMS consent waiting for it.
fn world(backend: Backend) -> Result<World> {
    let tmp = tempfile::tempdir()?;
    let fake = FakeSmsApi::start(TOKEN)?;
    let options = sms_options(&fake, tmp.path())?;
    let server = ServerProcess::start_backend_with(
        backend,
        &tmp.path().join("server"),
        "127.0.0.1:0".parse()?,
        true,
        &options,
    )?;
    let mal = branch_id(&server.data, "MAL")?;
    let kiosk = enroll_kiosk(&server, &mal, &tmp.path().join("kiosk"))?;
    sync(&kiosk)?;
    let (class, title) = {
        let k = kiosk.lock().expect("kiosk");
        let c = k.classes()?.into_iter().next().context("a class")?;
        (c.id.to_string(), c.title.clone())
    };
    set_class_seats(&server, "MAL", &class, 1, 5, tmp.path())?;
    sync(&kiosk)?;
    let seated = blisko_kiosk::sync::register(&kiosk, &form(&class, "Anna", None, false))?;
    assert_eq!(seated.status, "confirmed");
    let waiting =
        blisko_kiosk::sync::register(&kiosk, &form(&class, "Barbara", Some("601 234 567"), true))?;
    assert_eq!(waiting.status, "waitlisted");
    Ok(World {
        tmp,
        server,
        fake,
        options,
        kiosk,
        class,
        title,
        seated: seated.registration_id.to_string(),
        code: waiting.resident_code.clone(),
    })
}

#[test]
fn a_seat_freed_at_a_kiosk_reaches_the_waiting_resident_once() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend)?;
        // Anna got her seat from the pool while at the screen: the SMS held for it was
        // withdrawn when the kiosk reported the seat shown.
        let before = notices(&w.server)?;
        assert_eq!(before.len(), 1, "{before:?}");
        assert_eq!(before[0]["status"], "cancelled");
        assert_eq!(before[0]["reason"], "shown_at_kiosk");
        // Anna cancels at the kiosk; the merge gives Barbara the seat.
        w.kiosk.lock().expect("kiosk").cancel(&w.seated)?;
        sync_until_complete(&w.kiosk)?;
        let delivered = w.fake.wait_for(1, Duration::from_secs(30));
        assert_eq!(delivered.len(), 1, "{delivered:?}");
        assert_eq!(delivered[0].to, "48601234567");
        assert!(
            delivered[0].message.contains(&w.title),
            "{:?}",
            delivered[0]
        );
        assert_eq!(delivered[0].from.as_deref(), Some("CUS Test"));
        let sent = wait_for_notice(&w.server, "seat_freed", "sent")?;
        assert!(sent["segments"].as_i64().is_some_and(|s| s >= 1));
        // Later syncs and passes add nothing.
        sync(&w.kiosk)?;
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(w.fake.delivered().len(), 1);
        assert_eq!(notices(&w.server)?.len(), 2);
        // Scripts see kinds and states, never a number or a text.
        let listing = serde_json::to_string(&notices(&w.server)?)?;
        assert!(!listing.contains("601234567") && !listing.contains(&w.title));
        // Monitoring counts the outbox by status.
        let metrics = reqwest::blocking::get(format!("{}/metrics", w.server.url()))?.text()?;
        assert!(
            metrics.contains("blisko_sms_notices{status=\"sent\"} 1"),
            "{metrics}"
        );
        let _ = &w.class;
        Ok(())
    })
}

#[test]
fn a_server_killed_mid_send_sends_nothing_twice_after_restart() -> Result<()> {
    for_each_backend(|backend| {
        let mut w = world(backend)?;
        // The gateway takes the message and answers slowly; the server dies meanwhile.
        w.fake.then(Behaviour::Slow(Duration::from_secs(20)));
        w.kiosk.lock().expect("kiosk").cancel(&w.seated)?;
        sync_until_complete(&w.kiosk)?;
        let until = Instant::now() + Duration::from_secs(30);
        while w.fake.requests() == 0 {
            anyhow::ensure!(Instant::now() < until, "the server never sent");
            std::thread::sleep(Duration::from_millis(50));
        }
        w.server.kill();
        assert_eq!(w.fake.delivered().len(), 1, "taken once");
        let n = notices(&w.server)?
            .into_iter()
            .find(|n| n["status"] != "cancelled")
            .context("Barbara's notice")?;
        assert_eq!(n["status"], "sending", "cut off mid-send: {n}");

        let server = ServerProcess::start_with(
            &w.tmp.path().join("server"),
            w.server.addr,
            true,
            &w.options,
        )?;
        let sent = wait_for_notice(&server, "seat_freed", "sent")?;
        assert_eq!(sent["attempts"], 2, "{sent}");
        assert_eq!(w.fake.requests(), 2, "sent again with the same idx");
        assert_eq!(w.fake.delivered().len(), 1, "delivered once");
        Ok(())
    })
}

#[test]
fn the_office_sees_the_outbox_and_sends_a_test_message() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend)?;
        w.kiosk.lock().expect("kiosk").cancel(&w.seated)?;
        sync_until_complete(&w.kiosk)?;
        wait_for_notice(&w.server, "seat_freed", "sent")?;

        add_staff(&w.server.data, "admin", "office_admin", None)?;
        let office = Office::login(&w.server.url(), "admin", PASSWORD)?;
        let page = office.page("/office/sms")?;
        assert!(page.contains("zwolnione miejsce"), "the kind in words");
        assert!(page.contains("Barbara Kowalska"), "the person by name");
        assert!(!page.contains("601 234 567") && !page.contains("601234567"));
        assert!(page.contains(r#"id="per-day""#), "parts per day");

        // A landline is refused, with the form shown again; a mobile gets the test.
        let refused = office.post("/office/sms/test", &[("phone", "22 123 45 67")])?;
        assert_eq!(refused.status(), 400);
        assert!(refused.text()?.contains("komórkowego"));
        assert_eq!(w.fake.delivered().len(), 1);
        let sent = office.post("/office/sms/test", &[("phone", "602 000 111")])?;
        assert_eq!(sent.status(), 303, "sent, then to the page that says so");
        let location = sent
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .context("a redirect")?
            .to_owned();
        let shown = office.page(&location)?;
        assert!(shown.contains("Wiadomość testowa wysłana"), "{shown}");
        let delivered = w.fake.delivered();
        assert_eq!(delivered.len(), 2);
        assert_eq!(delivered[1].to, "48602000111");
        let test = notices(&w.server)?
            .into_iter()
            .find(|n| n["kind"] == "test")
            .context("the test is in the outbox")?;
        assert_eq!(test["status"], "sent");
        assert!(!serde_json::to_string(&test)?.contains("602000111"));
        Ok(())
    })
}

#[test]
fn a_decision_on_a_request_reaches_the_resident_without_the_staff_note() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend)?;
        // Barbara, who gave SMS consent when she registered, files a request with her code.
        let service = {
            let k = w.kiosk.lock().expect("kiosk");
            k.services()?
                .into_iter()
                .find(|s| !s.requires_pesel)
                .context("a service")?
                .id
                .to_string()
        };
        let receipt =
            w.kiosk
                .lock()
                .expect("kiosk")
                .submit_intake(&blisko_kiosk::kiosk::IntakeForm {
                    service_id: service,
                    given_name: "Barbara".into(),
                    family_name: "Kowalska".into(),
                    birth_year: 1948,
                    description: "Proszę o pomoc w zakupach.".into(),
                    declaration: true,
                    consent: true,
                    resident_code: Some(w.code.clone()),
                    ..Default::default()
                })?;
        sync_until_complete(&w.kiosk)?;
        add_staff(&w.server.data, "org", "organizer", None)?;
        let org = Office::login(&w.server.url(), "org", PASSWORD)?;
        let path = format!("/office/requests/{}", receipt.request_id);
        let note = "Notatka wewnętrzna: sąsiadka pomaga";
        // "In review" is no news; "more information" and the decision are.
        org.post(&path, &[("status", "in_review")])?;
        org.post(
            &path,
            &[("status", "more_information_needed"), ("note", note)],
        )?;
        org.post(&path, &[("status", "accepted")])?;
        let delivered = w.fake.wait_for(2, Duration::from_secs(30));
        assert_eq!(delivered.len(), 2, "{delivered:?}");
        for d in &delivered {
            assert_eq!(d.to, "48601234567");
            assert!(d.message.contains(&receipt.reference), "{d:?}");
            assert!(
                !d.message.contains("sąsiadka"),
                "never the staff note: {d:?}"
            );
        }
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(w.fake.delivered().len(), 2, "nothing for in review");
        let decisions = notices(&w.server)?
            .into_iter()
            .filter(|n| n["kind"] == "request_status")
            .count();
        assert_eq!(decisions, 2);
        Ok(())
    })
}

#[test]
fn a_resident_told_waiting_offline_hears_when_the_pool_seats_them() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend)?;
        let (class, title) = {
            let k = w.kiosk.lock().expect("kiosk");
            let c = k.classes()?.into_iter().nth(1).context("a second class")?;
            (c.id.to_string(), c.title.clone())
        };
        // The import gives the first class its usual seats back: Barbara, waiting there, is
        // seated by the pool and told so.
        set_class_seats(&w.server, "MAL", &class, 3, 5, w.tmp.path())?;
        let barbara = w.fake.wait_for(1, Duration::from_secs(30));
        assert_eq!(barbara.len(), 1, "{barbara:?}");
        assert_eq!(barbara[0].to, "48601234567");
        sync(&w.kiosk)?;
        // Offline, with no allotment, the kiosk can only put her on the waiting list...
        // She uses the kiosk in English: her SMS is in English.
        let receipt = w.kiosk.lock().expect("kiosk").register(&RegistrationForm {
            lang: blisko_shared::i18n::Lang::En,
            ..form(&class, "Celina", Some("605 111 222"), true)
        })?;
        assert_eq!(receipt.status, "waitlisted");
        // ... and the next sync gets her a seat from the pool: she has left; an SMS tells her.
        sync_until_complete(&w.kiosk)?;
        let delivered = w.fake.wait_for(2, Duration::from_secs(30));
        assert_eq!(delivered.len(), 2, "{delivered:?}");
        assert_eq!(delivered[1].to, "48605111222");
        assert!(delivered[1].message.contains(&title));
        assert!(
            delivered[1].message.starts_with("A place came free"),
            "in English: {:?}",
            delivered[1].message
        );
        assert!(delivered[0].message.starts_with("Zwolniło się miejsce"));
        // Someone registering online, seated by the pool while reading the screen: no SMS.
        let online = blisko_kiosk::sync::register(
            &w.kiosk,
            &form(&class, "Danuta", Some("606 111 222"), true),
        )?;
        assert_eq!(online.status, "confirmed");
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(
            w.fake.delivered().len(),
            2,
            "no SMS for what the screen showed"
        );
        let withdrawn = notices(&w.server)?
            .into_iter()
            .filter(|n| n["reason"] == "shown_at_kiosk")
            .count();
        assert_eq!(withdrawn, 2, "Anna's and Danuta's");
        Ok(())
    })
}
