//! One shape for `roster --json`: the server and the kiosk print the same fields for a
//! class, and after a sync the same rows.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use serde_json::Value;

use blisko_tests::harness::{allot, server_and_mal_kiosk};
use blisko_tests::kiosk_cli::kiosk_json;

fn keys(row: &Value) -> BTreeSet<String> {
    row.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn rows(v: &Value) -> Result<Vec<Value>> {
    let mut rows = v.as_array().context("a roster is an array")?.clone();
    rows.sort_by_key(|r| r["registration_id"].as_str().unwrap_or("").to_owned());
    Ok(rows)
}

#[test]
fn the_server_and_the_kiosk_print_one_roster_shape() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let (server, kiosk) = server_and_mal_kiosk(tmp.path())?;
    let dir = tmp.path().join("a");
    let class = kiosk
        .lock()
        .expect("kiosk")
        .classes()?
        .first()
        .context("a demo class")?
        .id
        .to_string();
    allot(&server, &class, &kiosk, 1)?;
    // The command line opens the kiosk's folder itself.
    drop(kiosk);
    kiosk_json(&dir, &["sync"]);
    let mut ids = Vec::new();
    for given in ["Anna", "Barbara", "Celina"] {
        let receipt = kiosk_json(
            &dir,
            &[
                "register",
                "--class",
                &class,
                "--given",
                given,
                "--family",
                "Nowak",
                "--birth-year",
                "1950",
                "--consent",
            ],
        );
        ids.push(
            receipt["registration_id"]
                .as_str()
                .context("id")?
                .to_owned(),
        );
    }
    kiosk_json(&dir, &["cancel", "--registration", &ids[2]]);
    server.admin(&[
        "register",
        "--class",
        &class,
        "--given-name",
        "Dorota",
        "--family-name",
        "Lis",
        "--birth-year",
        "1948",
        "--clause-read",
    ])?;
    kiosk_json(&dir, &["sync"]);
    kiosk_json(&dir, &["sync"]);

    let at_server = rows(&server.admin(&["roster", "--class", &class])?)?;
    let at_kiosk = rows(&kiosk_json(&dir, &["roster", "--class", &class]))?;
    assert_eq!(at_server.len(), 4, "{at_server:?}");
    let expected: BTreeSet<String> = [
        "registration_id",
        "class_id",
        "person_id",
        "kiosk_id",
        "status",
        "position",
        "seat_of",
        "created",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for row in at_server.iter().chain(&at_kiosk) {
        assert_eq!(keys(row), expected, "{row}");
    }
    // Both compute the rows from the same merged roster.
    assert_eq!(at_server, at_kiosk);
    assert!(
        at_server
            .iter()
            .any(|r| r["status"] == "confirmed" && r["seat_of"].is_string()),
        "a confirmed row names whose seat it holds: {at_server:?}"
    );
    assert!(
        at_server
            .iter()
            .filter(|r| r["status"] != "confirmed")
            .all(|r| r["seat_of"].is_null())
    );
    assert!(at_server.iter().all(|r| r["class_id"] == class.as_str()));
    Ok(())
}
