//! A revoked kiosk loses nothing: it learns it is revoked (`sync --json` says `revoked`),
//! goes out of service for new registrations and requests while keeping its data, and a
//! new enrollment code the office issues for the same kiosk (`kiosk reenroll`) brings it
//! back with everything it acknowledged. A code for another kiosk changes nothing in its
//! folder. Real `blisko-server` and `blisko-kiosk` processes, real stores.

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use blisko_tests::for_each_backend;
use blisko_tests::harness::{ServerProcess, ServerSql, StorePart, branch_id, kiosk_sql};
use blisko_tests::kiosk_cli::{kiosk, kiosk_command, kiosk_json, text};
use blisko_tests::office::{Office, PASSWORD, add_staff, data_attrs};

/// A command that must be refused: its exit code and the JSON error it printed.
fn refusal(out: &Output) -> Result<(i32, Value)> {
    ensure!(
        !out.status.success(),
        "expected a refusal, got: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let body: Value = serde_json::from_slice(&out.stderr).with_context(|| {
        format!(
            "no JSON error on stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok((out.status.code().unwrap_or(-1), body["error"].clone()))
}

fn register_args<'a>(class: &'a str, given: &'a str) -> Vec<&'a str> {
    vec![
        "register",
        "--class",
        class,
        "--given",
        given,
        "--family",
        "Nowak",
        "--birth-year",
        "1950",
        "--consent",
    ]
}

/// Everything a kiosk folder's store holds about itself and its documents: its settings
/// (credential, server, revocation) and each document's size and pending changes.
fn folder_state(dir: &Path) -> Result<Vec<String>> {
    let conn = kiosk_sql(dir)?;
    let mut rows: Vec<String> = conn
        .prepare("SELECT key, value FROM meta ORDER BY key")?
        .query_map([], |r| {
            Ok(format!(
                "meta {}={}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let docs: Vec<String> = conn
        .prepare(
            "SELECT doc_id, length(snapshot), chunk_count, pending_changes, updated_at
             FROM documents ORDER BY doc_id",
        )?
        .query_map([], |r| {
            Ok(format!(
                "doc {} {} {} {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.extend(docs);
    Ok(rows)
}

#[test]
fn a_revoked_kiosk_keeps_its_work_and_delivers_it_after_reenrollment() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
        let mal = branch_id(&server.data, "MAL")?;
        let url = server.url();
        let added = server.admin(&["kiosk", "add", "--branch", &mal])?;
        let id = text(&added, "kiosk_id");
        let dir = tmp.path().join("kiosk");
        let enrolled = kiosk_json(
            &dir,
            &["enroll", "--server", &url, "--code", &text(&added, "code")],
        );
        ensure!(enrolled["sync"]["ok"].is_object(), "first sync: {enrolled}");
        ensure!(enrolled["reenrolled"] != true, "a new kiosk: {enrolled}");

        // Seats this kiosk may confirm on its own, so that the registrations below are
        // confirmed without the server.
        let classes = kiosk_json(&dir, &["classes"]);
        let class = text(&classes[0], "id");
        server.admin(&["allot", "--class", &class, "--kiosk", &id, "--seats", "3"])?;
        kiosk_json(&dir, &["sync"]);

        // Three residents and one request, acknowledged before the kiosk syncs again.
        for given in ["Anna", "Barbara", "Celina"] {
            let receipt = kiosk_json(&dir, &register_args(&class, given));
            assert_eq!(receipt["status"], "confirmed", "{receipt}");
        }
        let services = kiosk_json(&dir, &["services"]);
        let service = services
            .as_array()
            .and_then(|s| s.iter().find(|s| s["requires_pesel"] == false))
            .context("a service without PESEL")?;
        let intake = [
            "intake",
            "--service",
            service["id"].as_str().context("service id")?,
            "--given",
            "Dorota",
            "--family",
            "Lis",
            "--birth-year",
            "1947",
            "--description",
            "Pomoc w domu",
            "--declaration",
            "--consent",
        ];
        kiosk_json(&dir, &intake);

        server.admin(&["kiosk", "revoke", &id])?;

        // The sync is refused, and says why.
        let (exit, error) = refusal(&kiosk(&dir, &["--json", "sync"]))?;
        assert_eq!(error["code"], "revoked", "exit {exit}: {error}");
        let status = kiosk_json(&dir, &["status"]);
        assert_eq!(status["revoked"], true, "{status}");
        assert_eq!(status["last_sync_error"], "revoked");
        assert!(status["pending_changes"].as_u64() > Some(0), "{status}");

        // Out of service: a new registration, a request, a batch line are refused, and
        // nothing is written.
        let before = folder_state(&dir)?;
        let (exit, error) = refusal(&kiosk(&dir, &{
            let mut args = vec!["--json"];
            args.extend(register_args(&class, "Ewa"));
            args
        }))?;
        assert_eq!(error["code"], "out_of_service", "{error}");
        assert_eq!(exit, 2, "refused, nothing written");
        let english = kiosk(&dir, &register_args(&class, "Ewa"));
        assert!(
            String::from_utf8_lossy(&english.stderr).contains("This kiosk is out of service"),
            "{}",
            String::from_utf8_lossy(&english.stderr)
        );
        let polish = kiosk_command(&dir)
            .env("BLISKO_LANG", "pl")
            .args(register_args(&class, "Ewa"))
            .output()?;
        assert!(
            String::from_utf8_lossy(&polish.stderr)
                .contains("Ten kiosk jest wyłączony z użytku. Proszę zwrócić się do obsługi"),
            "{}",
            String::from_utf8_lossy(&polish.stderr)
        );
        let mut args = vec!["--json"];
        args.extend(intake);
        let (_, error) = refusal(&kiosk(&dir, &args))?;
        assert_eq!(error["code"], "out_of_service");
        let mut batch = kiosk_command(&dir)
            .args(["--json", "batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let line = serde_json::json!({ "register": {
        "class": class, "given": "Ewa", "family": "Nowak", "birth_year": 1950, "consent": true
    } });
        writeln!(batch.stdin.take().context("stdin")?, "{line}")?;
        let out = batch.wait_with_output()?;
        let answer: Value = serde_json::from_slice(&out.stdout)?;
        assert_eq!(answer["error"]["code"], "out_of_service", "{answer}");
        assert_eq!(
            folder_state(&dir)?,
            before,
            "an out-of-service kiosk writes nothing"
        );

        // A code for another kiosk is refused on this folder, which stays as it was.
        let other = server.admin(&["kiosk", "add", "--branch", &mal])?;
        let (exit, error) = refusal(&kiosk(
            &dir,
            &[
                "--json",
                "enroll",
                "--server",
                &url,
                "--code",
                &text(&other, "code"),
            ],
        ))?;
        assert_eq!(error["code"], "enrollment_for_another_kiosk", "{error}");
        assert_eq!(exit, 2);
        assert_eq!(folder_state(&dir)?, before, "the folder is unchanged");
        assert_eq!(kiosk_json(&dir, &["status"])["revoked"], true);

        // The office issues a new code for the same kiosk; it stays revoked until redeemed.
        let again = server.admin(&["kiosk", "reenroll", &id])?;
        assert_eq!(text(&again, "kiosk_id"), id);
        let code = text(&again, "code");
        assert_eq!(code.len(), 14, "the format of `kiosk add`: {code}");
        let listed = server.admin(&["kiosk", "list"])?;
        let row = listed
            .as_array()
            .and_then(|ks| ks.iter().find(|k| k["kiosk_id"] == id.as_str()))
            .context("the kiosk is listed")?;
        assert_eq!(row["revoked"], true, "revoked until the code is redeemed");

        let old_token = kiosk_sql(&dir)?.query_row(
            "SELECT value FROM meta WHERE key = 'sync_token'",
            [],
            |r| r.get::<_, String>(0),
        )?;
        let enrolled = kiosk_json(&dir, &["enroll", "--server", &url, "--code", &code]);
        assert_eq!(enrolled["reenrolled"], true, "{enrolled}");
        assert_eq!(enrolled["kiosk"]["kiosk_id"], id.as_str());
        ensure!(
            enrolled["sync"]["ok"].is_object(),
            "the sync after: {enrolled}"
        );
        let new_token = kiosk_sql(&dir)?.query_row(
            "SELECT value FROM meta WHERE key = 'sync_token'",
            [],
            |r| r.get::<_, String>(0),
        )?;
        assert_ne!(old_token, new_token, "a new credential");

        // Everything it acknowledged reached the server.
        let roster = server.admin(&["roster", "--class", &class])?;
        let mine: Vec<&Value> = roster
            .as_array()
            .context("roster")?
            .iter()
            .filter(|r| r["kiosk_id"] == id.as_str())
            .collect();
        assert_eq!(mine.len(), 3, "{roster}");
        assert!(mine.iter().all(|r| r["status"] == "confirmed"), "{roster}");
        let intakes = ServerSql::open_read_only(&server.data, StorePart::Main)?.count(
            "SELECT count(*) FROM documents WHERE kind = 'intake' AND owner_kiosk = $1",
            &[&id],
        )?;
        assert_eq!(intakes, 1, "the request reached the server");
        let keys = ServerSql::open_read_only(&server.data, StorePart::Personal)?.count(
            "SELECT count(*) FROM person_keys WHERE owner_kiosk = $1 AND key IS NOT NULL",
            &[&id],
        )?;
        assert_eq!(keys, 4, "every person's key reached the server");
        let status = kiosk_json(&dir, &["status"]);
        assert_eq!(status["revoked"], false, "{status}");
        assert_eq!(status["pending_changes"], 0, "{status}");
        let listed = server.admin(&["kiosk", "list"])?;
        let row = listed
            .as_array()
            .and_then(|ks| ks.iter().find(|k| k["kiosk_id"] == id.as_str()))
            .context("the kiosk is listed")?;
        assert_eq!(row["revoked"], false, "the revocation is lifted");

        // Back in service.
        kiosk_json(&dir, &register_args(&class, "Ewa"));
        kiosk_json(&dir, &["sync"]);

        // The audit names the kiosk all along.
        let log = server.admin(&["audit", "--limit", "500"])?;
        let log = log.as_array().context("audit")?;
        let subject = format!("kiosk:{id}");
        let has = |action: &str, detail: Option<&str>| {
            log.iter().any(|r| {
                r["action"] == action
                    && r["subject"] == subject.as_str()
                    && detail.is_none_or(|d| r["detail"] == d)
            })
        };
        assert!(has("sync_unauthorized", Some("revoked")), "{log:?}");
        assert!(has("kiosk_reenroll", Some("revoked")), "{log:?}");
        assert!(
            has("enroll", Some("reenroll, revocation lifted")),
            "{log:?}"
        );
        assert!(
            !log.iter()
                .any(|r| r["action"] == "sync_unauthorized" && r["subject"] == "kiosk:?"),
            "no refusal of this kiosk is anonymous: {log:?}"
        );
        Ok(())
    })
}

#[test]
fn a_revocation_withdraws_codes_not_yet_used() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
        let mal = branch_id(&server.data, "MAL")?;
        let url = server.url();
        let added = server.admin(&["kiosk", "add", "--branch", &mal])?;
        let id = text(&added, "kiosk_id");
        let dir = tmp.path().join("kiosk");
        kiosk_json(
            &dir,
            &["enroll", "--server", &url, "--code", &text(&added, "code")],
        );
        // A code handed out, then the kiosk revoked: the code must not undo the revocation.
        let early = server.admin(&["kiosk", "reenroll", &id])?;
        server.admin(&["kiosk", "revoke", &id])?;
        let (_, error) = refusal(&kiosk(
            &dir,
            &[
                "--json",
                "enroll",
                "--server",
                &url,
                "--code",
                &text(&early, "code"),
            ],
        ))?;
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("enrollment code is wrong")),
            "{error}"
        );
        // Only the latest code works.
        let first = server.admin(&["kiosk", "reenroll", &id])?;
        let second = server.admin(&["kiosk", "reenroll", &id])?;
        let (_, error) = refusal(&kiosk(
            &dir,
            &[
                "--json",
                "enroll",
                "--server",
                &url,
                "--code",
                &text(&first, "code"),
            ],
        ))?;
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("enrollment code is wrong")),
            "{error}"
        );
        let enrolled = kiosk_json(
            &dir,
            &["enroll", "--server", &url, "--code", &text(&second, "code")],
        );
        ensure!(enrolled["sync"]["ok"].is_object(), "{enrolled}");
        Ok(())
    })
}

#[test]
fn the_office_admin_issues_a_new_code_from_the_overview() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
        let mal = branch_id(&server.data, "MAL")?;
        let url = server.url();
        let added = server.admin(&["kiosk", "add", "--branch", &mal])?;
        let id = text(&added, "kiosk_id");
        let dir = tmp.path().join("kiosk");
        kiosk_json(
            &dir,
            &["enroll", "--server", &url, "--code", &text(&added, "code")],
        );
        let classes = kiosk_json(&dir, &["classes"]);
        let class = text(&classes[0], "id");
        server.admin(&["kiosk", "revoke", &id])?;
        kiosk_json(&dir, &register_args(&class, "Anna"));
        refusal(&kiosk(&dir, &["--json", "sync"]))?;

        add_staff(&server.data, "admin", "office_admin", None)?;
        add_staff(&server.data, "organizer", "organizer", None)?;
        let path = format!("/office/kiosks/{id}/reenroll");
        // Only the office admin sees the button, and may use it.
        let organizer = Office::login(&url, "organizer", PASSWORD)?;
        ensure!(!organizer.page("/office")?.contains(&path));
        assert_eq!(organizer.post(&path, &[])?.status().as_u16(), 403);
        let admin = Office::login(&url, "admin", PASSWORD)?;
        let overview = admin.page("/office")?;
        ensure!(overview.contains(&path), "a button for the kiosk");
        let answer = admin.post(&path, &[])?;
        assert_eq!(answer.status().as_u16(), 200);
        let page = answer.text()?;
        let code = data_attrs(&page, "code")
            .into_iter()
            .next()
            .context("the code is shown")?;
        ensure!(page.contains("enroll-code"), "shown large");

        let enrolled = kiosk_json(&dir, &["enroll", "--server", &url, "--code", &code]);
        assert_eq!(enrolled["reenrolled"], true, "{enrolled}");
        ensure!(enrolled["sync"]["ok"].is_object(), "{enrolled}");
        let roster = server.admin(&["roster", "--class", &class])?;
        ensure!(
            roster
                .as_array()
                .is_some_and(|rs| rs.iter().any(|r| r["kiosk_id"] == id.as_str())),
            "the registration made while revoked-but-unaware arrived: {roster}"
        );
        let log = server.admin(&["audit", "--limit", "100"])?;
        ensure!(
            log.as_array().is_some_and(|rs| rs.iter().any(|r| {
                r["action"] == "kiosk_reenroll"
                    && r["subject"] == format!("kiosk:{id}").as_str()
                    && r["actor"].as_str().is_some_and(|a| a.starts_with("staff:"))
            })),
            "audited with the staff member: {log}"
        );
        Ok(())
    })
}
