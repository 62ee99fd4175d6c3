//! The SMS outbox and sender against a fake SMSAPI on loopback (real HTTP, a real data
//! folder), with the sender's clock in the test's hands: quiet hours hold messages until
//! morning, the daily limit holds the rest until the next day, retries never deliver
//! twice, no consent means no message, an erasure cancels what waits, reminders go out
//! the day before, and a moved or cancelled session is told to the people with a seat.

use std::time::Duration;

use anyhow::{Context, Result};
use jiff::Timestamp;
use jiff::civil::{Date, Time};

use blisko_shared::demo;
use blisko_shared::ids::{ClassId, PersonId, RegistrationId, SessionId};
use blisko_shared::model::{Catalog, Session};
use blisko_sync_server::central::Central;
use blisko_sync_server::central::daily::{PhoneOutcome, PhoneRegistration};
use blisko_sync_server::notices::gateway::SmsApi;
use blisko_sync_server::notices::sender::{PassReport, SmsConfig, deliver_due};
use blisko_sync_server::notices::zone;
use blisko_sync_server::store::{NoticeFilter, NoticeRow};
use blisko_tests::harness::TestCentral;
use blisko_tests::smsapi::{Behaviour, FakeSmsApi};
use blisko_tests::{Backend, for_each_backend};

const TOKEN: &str = "test-token-0123456789";
/// The mobile of the resident the messages are for, as SMSAPI's `to` carries it.
const MOBILE: &str = "601 234 567";
const MOBILE_TO: &str = "48601234567";

struct World {
    _tmp: tempfile::TempDir,
    central: TestCentral,
    catalog: Catalog,
    fake: FakeSmsApi,
    gateway: SmsApi,
}

/// A data folder with the MAL demo branch, every class one seat and a waiting list, and
/// sessions from today on; a fake SMSAPI and a gateway pointed at it.
fn world(backend: Backend) -> Result<World> {
    let tmp = tempfile::tempdir()?;
    let mut central = TestCentral::open(backend, &tmp.path().join("server"))?;
    let today = jiff::Zoned::now().with_time_zone(zone()).date();
    let mut catalog = demo::catalogs(today, 4, None)
        .into_iter()
        .find(|c| c.branch.code == "MAL")
        .context("the MAL demo branch")?;
    for class in &mut catalog.classes {
        class.capacity = 1;
        class.waitlist_limit = 10;
    }
    catalog.allotments.clear();
    // Sessions from next week on: the passes below, over the next days, send no reminders
    // unless a test adds a session of its own.
    let next_week = today
        .checked_add(jiff::Span::new().days(7))
        .context("a date")?
        .to_string();
    catalog.sessions.retain(|s| s.date >= next_week);
    central.import_catalogs(std::slice::from_ref(&catalog))?;
    let fake = FakeSmsApi::start(TOKEN)?;
    let gateway = SmsApi::new(&fake.url(), TOKEN, Some("CUS Test"))?;
    Ok(World {
        _tmp: tmp,
        central,
        catalog,
        fake,
        gateway,
    })
}

fn config() -> SmsConfig {
    SmsConfig {
        quiet: Some("20:00-08:00".parse().expect("quiet hours")),
        signature: "CUS Test".to_owned(),
        ..SmsConfig::default()
    }
}

/// `date` at `time`, local time of the notices.
fn at(date: Date, time: &str) -> Timestamp {
    date.to_datetime(Time::strptime("%H:%M", time).expect("time"))
        .to_zoned(zone())
        .expect("local time")
        .timestamp()
}

fn today() -> Date {
    jiff::Zoned::now().with_time_zone(zone()).date()
}

fn days(n: i64) -> Date {
    today()
        .checked_add(jiff::Span::new().days(n))
        .expect("a date")
}

struct Registered {
    registration: RegistrationId,
    person: PersonId,
    waiting: bool,
}

fn register(
    central: &mut Central,
    class: ClassId,
    name: &str,
    existing: Option<PersonId>,
    phone: Option<&str>,
    sms: bool,
) -> Result<Registered> {
    let receipt = central.register_by_phone(&PhoneRegistration {
        class,
        existing,
        given_name: name.to_owned(),
        family_name: "Testowa".to_owned(),
        birth_year: "1950".to_owned(),
        phone: phone.map(str::to_owned),
        clause_read: true,
        sms_consent: sms,
    })?;
    Ok(Registered {
        registration: receipt.registration,
        person: receipt.person,
        waiting: matches!(receipt.outcome, PhoneOutcome::Waitlisted { .. }),
    })
}

/// One seat taken by someone else, `waiting` on the list; the seat freed: the pool gives
/// it to `waiting`, which is worth a message.
fn free_a_seat_for(
    central: &mut Central,
    class: ClassId,
    waiting_name: &str,
    existing: Option<PersonId>,
    phone: Option<&str>,
    sms: bool,
) -> Result<PersonId> {
    let first = register(central, class, "Pierwsza", None, None, false)?;
    assert!(!first.waiting, "the first takes the seat");
    let waiting = register(central, class, waiting_name, existing, phone, sms)?;
    assert!(waiting.waiting, "the second waits");
    central.cancel_registration(class, first.registration)?;
    Ok(waiting.person)
}

fn notices(central: &mut Central) -> Result<Vec<NoticeRow>> {
    Ok(central.notices(&NoticeFilter::default(), 1000)?)
}

fn pass(w: &mut World, now: Timestamp) -> Result<PassReport> {
    Ok(deliver_due(
        &mut w.central,
        Some(&w.gateway),
        &config(),
        now,
    )?)
}

#[test]
fn quiet_hours_hold_messages_until_morning_and_the_daily_limit_until_the_next_day() -> Result<()> {
    for_each_backend(|backend| {
        let mut w = world(backend)?;
        let classes: Vec<ClassId> = w.catalog.classes.iter().take(4).map(|c| c.id).collect();
        assert_eq!(classes.len(), 4, "the demo branch has four classes");
        let mut person = None;
        for class in &classes {
            let p = free_a_seat_for(&mut w.central, *class, "Helena", person, Some(MOBILE), true)?;
            person = Some(p);
        }
        let queued = notices(&mut w.central)?;
        assert_eq!(queued.len(), 4, "one message for each seat: {queued:?}");
        assert!(
            queued
                .iter()
                .all(|n| n.kind == "seat_freed" && n.status == "queued")
        );

        // 22:00 tomorrow: quiet hours; everything waits for 08:00.
        let report = pass(&mut w, at(days(1), "22:00"))?;
        assert_eq!((report.sent, report.held), (0, 4), "{report:?}");
        assert_eq!(w.fake.requests(), 0, "nothing reaches the gateway at night");
        let held = notices(&mut w.central)?;
        assert!(
            held.iter()
                .all(|n| n.reason.as_deref() == Some("quiet_hours"))
        );
        assert!(
            held.iter()
                .all(|n| n.due_ms == at(days(2), "08:00").as_millisecond())
        );
        assert_eq!(pass(&mut w, at(days(2), "07:59"))?, PassReport::default());

        // 08:00: three go out (the daily limit), the fourth waits for the next morning.
        let report = pass(&mut w, at(days(2), "08:00"))?;
        assert_eq!((report.sent, report.held), (3, 1), "{report:?}");
        let delivered = w.fake.delivered();
        assert_eq!(delivered.len(), 3);
        assert!(delivered.iter().all(|d| d.to == MOBILE_TO));
        assert!(
            delivered
                .iter()
                .all(|d| d.from.as_deref() == Some("CUS Test"))
        );
        let mut idx: Vec<_> = delivered.iter().map(|d| d.idx.clone()).collect();
        idx.dedup();
        assert_eq!(idx.len(), 3, "each message its own idx");
        let waiting: Vec<_> = notices(&mut w.central)?
            .into_iter()
            .filter(|n| n.status == "queued")
            .collect();
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].reason.as_deref(), Some("daily_limit"));
        assert_eq!(waiting[0].due_ms, at(days(3), "08:00").as_millisecond());

        let report = pass(&mut w, at(days(3), "08:00"))?;
        assert_eq!(report.sent, 1, "{report:?}");
        assert_eq!(w.fake.delivered().len(), 4);
        // Each message names its class; the outbox keeps parts and the gateway's id, not the text.
        for class in w.catalog.classes.iter().take(4) {
            assert!(
                w.fake
                    .delivered()
                    .iter()
                    .any(|d| d.message.contains(&class.title)),
                "a message names {}",
                class.title
            );
        }
        for n in notices(&mut w.central)? {
            assert_eq!(n.status, "sent");
            assert!(n.segments.is_some_and(|s| s >= 1));
            assert!(n.gateway_id.is_some());
            for number in [MOBILE, &MOBILE_TO[2..]] {
                assert!(!n.params.contains(number), "no number in the outbox");
            }
        }
        Ok(())
    })
}

#[test]
fn no_consent_means_no_message_and_an_erasure_cancels_what_waits() -> Result<()> {
    for_each_backend(|backend| {
        let mut w = world(backend)?;
        let c = &w.catalog.classes;
        let (a, b) = (c[0].id, c[1].id);
        let without = free_a_seat_for(&mut w.central, a, "Bez", None, Some(MOBILE), false)?;
        let erased = free_a_seat_for(
            &mut w.central,
            b,
            "Usunięta",
            None,
            Some("602 345 678"),
            true,
        )?;
        assert_eq!(notices(&mut w.central)?.len(), 2);

        w.central.erase_person(erased, "admin")?;
        let after_erase = notices(&mut w.central)?;
        let of_erased = after_erase
            .iter()
            .find(|n| n.person_id.as_deref() == Some(&erased.to_string()))
            .context("the erased person's notice")?;
        assert_eq!(of_erased.status, "cancelled");
        assert_eq!(of_erased.reason.as_deref(), Some("erased"));

        let report = pass(&mut w, at(days(1), "12:00"))?;
        assert_eq!(report.sent, 0, "{report:?}");
        assert_eq!(w.fake.requests(), 0, "nothing reaches the gateway");
        let of_without = notices(&mut w.central)?
            .into_iter()
            .find(|n| n.person_id.as_deref() == Some(&without.to_string()))
            .context("the notice of the person without consent")?;
        assert_eq!(of_without.status, "skipped");
        assert_eq!(of_without.reason.as_deref(), Some("no_consent"));
        Ok(())
    })
}

#[test]
fn without_a_gateway_notices_wait_and_are_never_dropped() -> Result<()> {
    for_each_backend(|backend| {
        let mut w = world(backend)?;
        let class = w.catalog.classes[0].id;
        free_a_seat_for(&mut w.central, class, "Czeka", None, Some(MOBILE), true)?;
        let report = deliver_due(&mut w.central, None, &config(), at(days(1), "12:00"))?;
        assert_eq!((report.sent, report.held), (0, 1), "{report:?}");
        let n = &notices(&mut w.central)?[0];
        assert_eq!(n.status, "queued");
        assert_eq!(n.reason.as_deref(), Some("no_gateway"));
        // A gateway configured at the next start: the notice goes out.
        w.central.release_notices_held_for_gateway()?;
        let report = pass(&mut w, at(days(1), "12:00"))?;
        assert_eq!(report.sent, 1, "{report:?}");
        assert_eq!(w.fake.delivered().len(), 1);
        Ok(())
    })
}

#[test]
fn retries_back_off_and_never_deliver_twice() -> Result<()> {
    for_each_backend(|backend| {
        let mut w = world(backend)?;
        let c = &w.catalog.classes;
        let (a, b) = (c[0].id, c[1].id);
        free_a_seat_for(&mut w.central, a, "Ponowna", None, Some(MOBILE), true)?;
        let t0 = at(days(1), "12:00");

        // A 503, then a connection dropped after the gateway took the message.
        w.fake.then(Behaviour::Status(503));
        w.fake.then(Behaviour::DropAfterAccept);
        let report = pass(&mut w, t0)?;
        assert_eq!(report.retried, 1, "{report:?}");
        assert_eq!(w.fake.delivered().len(), 0);
        // The first pause is 30 s: nothing happens before it.
        assert_eq!(
            pass(&mut w, t0 + Duration::from_secs(29))?,
            PassReport::default()
        );
        let report = pass(&mut w, t0 + Duration::from_secs(30))?;
        assert_eq!(report.retried, 1, "the answer was lost: {report:?}");
        assert_eq!(w.fake.delivered().len(), 1, "but the message was taken");
        // The pause doubles; the retry carries the same idx, which the gateway refuses to
        // deliver again, and the notice counts as sent.
        assert_eq!(
            pass(&mut w, t0 + Duration::from_secs(30 + 59))?,
            PassReport::default()
        );
        let report = pass(&mut w, t0 + Duration::from_secs(30 + 60))?;
        assert_eq!(report.sent, 1, "{report:?}");
        assert_eq!(w.fake.delivered().len(), 1, "delivered once");
        assert_eq!(w.fake.requests(), 3);
        let n = &notices(&mut w.central)?[0];
        assert_eq!((n.status.code(), n.attempts), ("sent", 3));

        // A permanent error (a number SMSAPI will not take) is not retried.
        free_a_seat_for(&mut w.central, b, "Błędna", None, Some("603 456 789"), true)?;
        w.fake.then(Behaviour::Error(13));
        let report = pass(&mut w, t0 + Duration::from_secs(200))?;
        assert_eq!(report.failed, 1, "{report:?}");
        let failed = notices(&mut w.central)?
            .into_iter()
            .find(|n| n.status == "failed")
            .context("the failed notice")?;
        assert!(failed.reason.as_deref().is_some_and(|r| r.contains("13")));
        assert_eq!(
            pass(&mut w, t0 + Duration::from_secs(4000))?,
            PassReport::default()
        );
        assert_eq!(w.fake.delivered().len(), 1);
        Ok(())
    })
}

#[test]
fn reminders_go_out_the_day_before_and_session_changes_reach_the_seated() -> Result<()> {
    for_each_backend(|backend| {
        let mut w = world(backend)?;
        let class = w.catalog.classes[0].id;
        // A session the day after tomorrow at 17:00, the only one of this class.
        let session = Session {
            id: SessionId::new(),
            class_id: class,
            date: days(2).to_string(),
            start: "17:00".to_owned(),
            minutes: 60,
            cancelled: false,
        };
        w.catalog.sessions.retain(|s| s.class_id != class);
        w.catalog.sessions.push(session.clone());
        w.central
            .import_catalogs(std::slice::from_ref(&w.catalog))?;
        let seated = register(&mut w.central, class, "Seated", None, Some(MOBILE), true)?;
        assert!(!seated.waiting);
        let waiting = register(
            &mut w.central,
            class,
            "Waiting",
            None,
            Some("604 567 890"),
            true,
        )?;
        assert!(waiting.waiting);

        // Before 10:00 the day before, nothing; at 10:00 one reminder, to the seated only.
        assert_eq!(pass(&mut w, at(days(1), "09:59"))?.reminders, 0);
        let report = pass(&mut w, at(days(1), "10:00"))?;
        assert_eq!((report.reminders, report.sent), (1, 1), "{report:?}");
        let delivered = w.fake.delivered();
        assert_eq!(delivered[0].to, MOBILE_TO);
        assert!(delivered[0].message.contains("17:00"));
        assert_eq!(
            pass(&mut w, at(days(1), "10:05"))?.reminders,
            0,
            "once a day"
        );

        // The office moves the session to 18:30: the seated hear of it.
        let moved = Session {
            start: "18:30".to_owned(),
            ..session.clone()
        };
        w.catalog.sessions.retain(|s| s.id != session.id);
        w.catalog.sessions.push(moved.clone());
        w.central
            .import_catalogs(std::slice::from_ref(&w.catalog))?;
        let report = pass(&mut w, at(days(1), "11:00"))?;
        assert_eq!(report.sent, 1, "{report:?}");
        let delivered = w.fake.delivered();
        assert_eq!(delivered.len(), 2);
        assert_eq!(delivered[1].to, MOBILE_TO);
        assert!(delivered[1].message.contains("18:30"), "{:?}", delivered[1]);

        // Then cancels it.
        let cancelled = Session {
            cancelled: true,
            ..moved.clone()
        };
        w.catalog.sessions.retain(|s| s.id != session.id);
        w.catalog.sessions.push(cancelled);
        w.central
            .import_catalogs(std::slice::from_ref(&w.catalog))?;
        let report = pass(&mut w, at(days(1), "12:00"))?;
        assert_eq!(report.sent, 1, "{report:?}");
        let delivered = w.fake.delivered();
        assert_eq!(delivered.len(), 3);
        assert!(
            delivered.iter().all(|d| d.to == MOBILE_TO),
            "never the waiting one"
        );
        let kinds: Vec<String> = notices(&mut w.central)?
            .into_iter()
            .map(|n| n.kind)
            .collect();
        for kind in ["reminder", "session_moved", "session_cancelled"] {
            assert_eq!(kinds.iter().filter(|k| *k == kind).count(), 1, "{kinds:?}");
        }
        Ok(())
    })
}

#[test]
fn parts_are_counted_as_billed_and_transliteration_saves_them() -> Result<()> {
    for_each_backend(|backend| {
        let mut w = world(backend)?;
        let c = &w.catalog.classes;
        let (a, b) = (c[0].id, c[1].id);
        free_a_seat_for(&mut w.central, a, "Łucja", None, Some(MOBILE), true)?;
        let report = pass(&mut w, at(days(1), "12:00"))?;
        assert_eq!(report.sent, 1);
        let polish = w.fake.delivered()[0].message.clone();
        assert!(
            !blisko_shared::sms::is_gsm7(&polish),
            "Polish letters: {polish}"
        );
        let parts = blisko_shared::sms::segments(&polish).count as i64;
        let n = &notices(&mut w.central)?[0];
        assert_eq!(n.segments, Some(parts), "the parts of what was sent");

        // With --sms-transliterate the same kind of message goes as GSM-7, in fewer parts.
        free_a_seat_for(&mut w.central, b, "Żaneta", None, Some("602 345 678"), true)?;
        let plain = SmsConfig {
            transliterate: true,
            ..config()
        };
        let report = deliver_due(
            &mut w.central,
            Some(&w.gateway),
            &plain,
            at(days(1), "12:05"),
        )?;
        assert_eq!(report.sent, 1);
        let sent = w.fake.delivered()[1].message.clone();
        assert!(blisko_shared::sms::is_gsm7(&sent), "{sent}");
        let fewer = blisko_shared::sms::segments(&sent).count as i64;
        let n = notices(&mut w.central)?
            .into_iter()
            .find(|n| n.sent_ms.is_some() && n.segments == Some(fewer))
            .context("the transliterated notice")?;
        assert!(
            fewer < parts || parts == 1,
            "{fewer} parts instead of {parts}"
        );
        assert_eq!(n.status, "sent");
        Ok(())
    })
}
