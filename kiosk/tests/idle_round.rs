//! A sync round that brings nothing (the server has every local change, and nothing
//! new is in the feed) writes nothing to the kiosk's store: a kiosk syncing every
//! minute would otherwise commit, and flush, the same values all day.

use std::sync::{Arc, LazyLock};

use blisko_kiosk::key::StoreKey;
use blisko_kiosk::kiosk::{Kiosk, RegistrationForm, WallClock};
use blisko_kiosk::store::DB_FILE;
use blisko_shared::sync::{KeyList, PersonList, SyncResponse};

static KEY: LazyLock<StoreKey> = LazyLock::new(StoreKey::random);

/// Monday 23 November 2026, noon UTC.
fn noon() -> WallClock {
    let ms = "2026-11-23T12:00:00Z"
        .parse::<jiff::Timestamp>()
        .expect("a valid timestamp")
        .as_millisecond() as u64;
    Arc::new(move || ms)
}

/// What the server answers when it has nothing for the kiosk, at `cursor`.
fn answer(cursor: u64, key_cursor: u64) -> SyncResponse {
    SyncResponse {
        changed: Vec::new(),
        cursor,
        more: false,
        pulled: Vec::new(),
        deferred: Vec::new(),
        keys: KeyList::default(),
        erased: PersonList::default(),
        key_cursor,
        server_instance: None,
    }
}

/// The write-ahead log's bytes: every commit appends to it.
fn log(dir: &std::path::Path) -> Vec<u8> {
    std::fs::read(dir.join(format!("{DB_FILE}-wal"))).expect("the store's write-ahead log")
}

#[test]
fn an_idle_round_writes_nothing_and_a_moved_cursor_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut k = Kiosk::setup_demo(dir.path(), "MAL", &KEY, noon()).expect("demo kiosk");
    let class = k.classes().expect("classes")[0].id.to_string();
    k.register(&RegistrationForm {
        class_id: class,
        given_name: "Halina".into(),
        family_name: "Wróbel".into(),
        birth_year: 1951,
        consent: true,
        ..RegistrationForm::default()
    })
    .expect("register");
    // The first round pushes the registration; the answer acknowledges it.
    let plan = k.prepare_sync("test").expect("plan");
    assert!(
        !plan.request.push.is_empty(),
        "the registration is to be pushed"
    );
    let (cursor, key_cursor) = (plan.request.cursor, plan.request.key_cursor);
    k.apply_sync(plan, answer(cursor, key_cursor))
        .expect("apply the acknowledgement");

    let idle = k.prepare_sync("test").expect("plan");
    assert!(idle.request.push.is_empty() && idle.request.pull.is_empty());
    assert!(idle.request.keys.0.is_empty() && idle.request.sms_withdrawals.is_empty());
    let before = log(dir.path());
    k.apply_sync(idle, answer(cursor, key_cursor))
        .expect("apply an idle answer");
    assert!(log(dir.path()) == before, "an idle round committed a write");

    // The same round with the feed moved on is written, and kept.
    let moved = k.prepare_sync("test").expect("plan");
    k.apply_sync(moved, answer(cursor + 7, key_cursor))
        .expect("apply a moved cursor");
    assert!(
        log(dir.path()) != before,
        "the moved cursor was not written"
    );
    drop(k);
    let mut k = Kiosk::open_with_clock(dir.path(), &KEY, noon()).expect("reopen");
    assert_eq!(
        k.prepare_sync("test").expect("plan").request.cursor,
        cursor + 7
    );
}
