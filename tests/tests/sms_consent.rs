//! Withdrawing the SMS consent end to end, with a real server process and real kiosk
//! stores: at another kiosk of the branch while offline ("Nie chcę SMS"), at the office
//! (the person page's button) and from the command line; each reaches every kiosk of the
//! branch through the people document. A kiosk of another branch cannot withdraw for
//! this branch's residents.

use std::sync::{Mutex, MutexGuard};

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::RegistrationForm;
use blisko_kiosk::sync::{APP_VERSION, SyncClient, SyncError, Traffic};
use blisko_shared::hlc::Hlc;
use blisko_shared::i18n::Lang;
use blisko_shared::ids::PersonId;
use blisko_shared::sync::SmsWithdrawal;
use blisko_tests::for_each_backend;
use blisko_tests::harness::{
    ServerProcess, admin, branch_id, enroll_kiosk, kiosk_sql, open_kiosk, server_heads, setup_key,
    sync, sync_until_quiet,
};
use blisko_tests::office::{Office, PASSWORD, add_staff};

fn lock(kiosk: &Mutex<Kiosk>) -> Result<MutexGuard<'_, Kiosk>> {
    kiosk.lock().map_err(|_| anyhow::anyhow!("kiosk lock"))
}

/// Register a resident at `kiosk` with the SMS consent, the form shown in `lang`.
fn register_with_sms(kiosk: &Mutex<Kiosk>, family: &str, lang: Lang) -> Result<(PersonId, String)> {
    let mut k = lock(kiosk)?;
    let class = k.classes()?.first().context("a class")?.id;
    let receipt = k.register(&RegistrationForm {
        class_id: class.to_string(),
        given_name: "Teodora".to_owned(),
        family_name: family.to_owned(),
        birth_year: 1946,
        phone: Some("601 234 567".to_owned()),
        consent: true,
        sms_consent: true,
        lang,
        ..RegistrationForm::default()
    })?;
    Ok((receipt.person_id, receipt.resident_code))
}

fn consent_at(kiosk: &Mutex<Kiosk>, person: PersonId) -> Result<Option<String>> {
    Ok(lock(kiosk)?.sms_consent(person)?)
}

/// The audit records of an action, newest first.
fn audited(server: &ServerProcess, action: &str) -> Result<Vec<serde_json::Value>> {
    let log = server.admin(&["audit", "--limit", "100000"])?;
    Ok(log
        .as_array()
        .context("the audit log is an array")?
        .iter()
        .filter(|r| r["action"] == action)
        .cloned()
        .collect())
}

/// The SMS consent cell of the office's person page.
fn office_sms_cell(office: &Office, person: PersonId) -> Result<String> {
    let page = office.page(&format!("/office/persons/{person}"))?;
    let at = page
        .find("id=\"sms-consent\"")
        .context("the SMS consent row")?;
    let cell = &page[at..];
    Ok(cell[..cell.find("</td>").context("the cell ends")?].to_owned())
}

#[test]
fn a_withdrawal_at_another_kiosk_offline_reaches_the_kiosk_that_registered() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let mut server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        let b = enroll_kiosk(&server, &mal, &tmp.path().join("b"))?;
        sync_until_quiet(&[&a, &b])?;
        let (person, code) = register_with_sms(&a, "Wiśniewska", Lang::Pl)?;
        sync_until_quiet(&[&a, &b])?;
        assert_eq!(
            consent_at(&b, person)?.as_deref(),
            Some("zgoda-sms-2026-02"),
            "kiosk B knows the consent"
        );
        add_staff(&data, "admin", "office_admin", None)?;

        // The server goes away; at kiosk B the resident finds themselves by code and stops
        // SMS. B says so at once, and keeps it through a failed sync.
        let addr = server.addr;
        server.stop()?;
        {
            let mut k = lock(&b)?;
            let overview = k.resident(&code)?;
            ensure!(overview.sms_consent, "B offers \"Nie chcę SMS\"");
            ensure!(k.withdraw_sms_consent(overview.person_id)?);
            ensure!(!k.resident(&code)?.sms_consent);
        }
        ensure!(sync(&b).is_err(), "the server is down");
        assert_eq!(consent_at(&b, person)?, None);

        // Back online: B's sync carries the withdrawal, the office sees it, and A learns it.
        let server = ServerProcess::start_on(&data, addr, true)?;
        let office = Office::login(&server.url(), "admin", PASSWORD)?;
        ensure!(office_sms_cell(&office, person)?.contains("zgoda-sms-2026-02"));
        sync(&b)?;
        let cell = office_sms_cell(&office, person)?;
        ensure!(
            !cell.contains("zgoda-sms") && cell.contains("brak zgody"),
            "the office shows no consent: {cell}"
        );
        assert_eq!(
            consent_at(&a, person)?.as_deref(),
            Some("zgoda-sms-2026-02"),
            "A has not synced yet"
        );
        sync_until_quiet(&[&a, &b])?;
        assert_eq!(consent_at(&a, person)?, None, "A's copy has no consent");
        assert_eq!(consent_at(&b, person)?, None);
        ensure!(!lock(&a)?.resident(&code)?.sms_consent);

        // Audited once, by kiosk B, about the person, without their data.
        let records = audited(&server, "sms_consent_withdrawn")?;
        ensure!(records.len() == 1, "{records:?}");
        let b_id = lock(&b)?.identity().kiosk_id;
        assert_eq!(records[0]["actor"], format!("kiosk:{b_id}"));
        assert_eq!(records[0]["subject"], format!("person:{person}"));
        let text = records[0].to_string();
        // The phone in both its typed and its stored form; three digits alone can turn up
        // in the record's timestamp.
        for personal in ["Teodora", "Wiśniewska", "601 234 567", "601234567", &code] {
            ensure!(!text.contains(personal), "{personal} in {text}");
        }
        // Sent once: later syncs carry nothing more.
        sync_until_quiet(&[&a, &b])?;
        ensure!(audited(&server, "sms_consent_withdrawn")?.len() == 1);
        Ok(())
    })
}

#[test]
fn the_office_and_the_command_line_withdraw_and_the_kiosks_learn_it() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        let b = enroll_kiosk(&server, &mal, &tmp.path().join("b"))?;
        sync_until_quiet(&[&a, &b])?;
        let (english, _) = register_with_sms(&a, "Kowalczyk", Lang::En)?;
        let (polish, _) = register_with_sms(&a, "Zielińska", Lang::Pl)?;
        sync_until_quiet(&[&a, &b])?;
        add_staff(&data, "admin", "office_admin", None)?;
        let office = Office::login(&server.url(), "admin", PASSWORD)?;

        // The page shows the consent, its language and version, and the button.
        let page = office.page(&format!("/office/persons/{english}"))?;
        let cell = office_sms_cell(&office, english)?;
        ensure!(
            cell.contains("angielsku") && cell.contains("zgoda-sms-2026-02-en"),
            "{cell}"
        );
        ensure!(page.contains("Wycofaj zgodę na SMS"));
        let answer = office.post(&format!("/office/persons/{english}/sms-withdraw"), &[])?;
        ensure!(answer.status().as_u16() == 303, "{}", answer.status());
        let page = office.page(&format!("/office/persons/{english}"))?;
        ensure!(office_sms_cell(&office, english)?.contains("brak zgody"));
        ensure!(
            !page.contains("Wycofaj zgodę na SMS"),
            "no button without a consent"
        );
        // A second press (a stale page) is no error and changes nothing.
        let again = office.post(&format!("/office/persons/{english}/sms-withdraw"), &[])?;
        ensure!(again.status().as_u16() == 303, "{}", again.status());
        // Without the CSRF token nothing happens.
        let forged = office
            .http
            .post(format!(
                "{}/office/persons/{polish}/sms-withdraw",
                office.base
            ))
            .form(&[("csrf", "wrong")])
            .send()?;
        ensure!(forged.status().as_u16() != 303, "{}", forged.status());
        ensure!(office_sms_cell(&office, polish)?.contains("zgoda-sms-2026-02"));

        // The command line, as the office button.
        let out = admin(
            &data,
            &["sms-consent-withdraw", "--person", &polish.to_string()],
        )?;
        assert_eq!(out["withdrawn"], true, "{out}");
        let out = admin(
            &data,
            &["sms-consent-withdraw", "--person", &polish.to_string()],
        )?;
        assert_eq!(out["withdrawn"], false, "idempotent: {out}");
        let unknown = admin(
            &data,
            &[
                "sms-consent-withdraw",
                "--person",
                &PersonId::new().to_string(),
            ],
        );
        ensure!(unknown.is_err(), "an unknown person is an error");

        ensure!(audited(&server, "sms_consent_withdrawn")?.len() == 2);
        sync_until_quiet(&[&a, &b])?;
        for k in [&a, &b] {
            assert_eq!(consent_at(k, english)?, None);
            assert_eq!(consent_at(k, polish)?, None);
        }
        Ok(())
    })
}

#[test]
fn a_kiosk_of_another_branch_cannot_withdraw_for_this_branchs_resident() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let branches = admin(&data, &["branches"])?;
        let other = branches
            .as_array()
            .and_then(|bs| bs.iter().find(|b| b["code"] != "MAL"))
            .and_then(|b| b["id"].as_str())
            .context("another branch")?
            .to_owned();
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        let c = enroll_kiosk(&server, &other, &tmp.path().join("c"))?;
        sync_until_quiet(&[&a, &c])?;
        let (person, _) = register_with_sms(&a, "Nowicka", Lang::Pl)?;
        sync(&a)?;
        sync(&c)?;

        // Kiosk C sends a withdrawal for A's resident with its own credential.
        let (client, mut request, node) = {
            let mut k = lock(&c)?;
            let client = SyncClient::for_kiosk(&k)?;
            let plan = k.prepare_sync(APP_VERSION)?;
            (client, plan.request, k.identity().kiosk_id)
        };
        request.sms_withdrawals = vec![SmsWithdrawal {
            person,
            at: Hlc::new(blisko_kiosk::kiosk::system_clock()(), 0, node),
        }];
        let before = server_heads(&data, &mal)?;
        match client.round(&request, &mut Traffic::default()) {
            Err(SyncError::Refused { status, code, .. }) => {
                assert_eq!((status, code.as_str()), (403, "forbidden"));
            }
            other => anyhow::bail!("expected a refusal, got {other:?}"),
        }
        assert_eq!(server_heads(&data, &mal)?, before, "nothing changed");
        ensure!(audited(&server, "sms_consent_withdrawn")?.is_empty());
        ensure!(
            !audited(&server, "sync_refused")?.is_empty(),
            "the refusal is recorded"
        );
        sync(&a)?;
        assert_eq!(
            consent_at(&a, person)?.as_deref(),
            Some("zgoda-sms-2026-02"),
            "the consent stands"
        );
        Ok(())
    })
}

/// A kiosk store from before SMS consents were projected (migration 6) learns its
/// residents' consents when the new version first opens it: the migration has the people
/// documents projected again.
#[test]
fn an_upgraded_kiosk_store_knows_the_consents_given_before() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("kiosk");
    let key = setup_key(&dir)?;
    let kiosk = Mutex::new(Kiosk::setup_demo(
        &dir,
        "MAL",
        &key,
        blisko_kiosk::kiosk::system_clock(),
    )?);
    let (person, code) = register_with_sms(&kiosk, "Majewska", Lang::Pl)?;
    drop(kiosk);
    // Back to the store as migration 6 left it (migrations 7 and 8 undone).
    kiosk_sql(&dir)?.execute_batch(
        "ALTER TABLE documents DROP COLUMN seal;
         ALTER TABLE persons DROP COLUMN sms_consent;
         DROP TABLE sms_withdrawals;
         DELETE FROM meta WHERE key = 'people_to_project';
         PRAGMA user_version = 6;",
    )?;
    let kiosk = Mutex::new(open_kiosk(&dir)?);
    assert_eq!(
        consent_at(&kiosk, person)?.as_deref(),
        Some("zgoda-sms-2026-02")
    );
    ensure!(lock(&kiosk)?.resident(&code)?.sms_consent);
    Ok(())
}
