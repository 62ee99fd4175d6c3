//! Staff accounts and log-in over real HTTP against a real `blisko-server`: the password
//! policy (command line and pages), accounts added with a temporary password that must be
//! changed first, edits audited with old and new values, disabling that ends sessions at
//! once, password resets, the last office admin kept, the first run's one-time set-up
//! link, the per-login back-off that grows and resets, and the per-address limit that
//! believes `X-Forwarded-For` only from a `--trusted-proxy`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use blisko_tests::for_each_backend;
use blisko_tests::harness::{ServerProcess, branch_id, new_store, server_command};
use blisko_tests::office::{Office, PASSWORD, add_staff, client, csrf_in, data_attrs};

fn audit(server: &ServerProcess) -> Result<Vec<Value>> {
    Ok(server
        .admin(&["audit", "--limit", "1000"])?
        .as_array()
        .context("audit is a list")?
        .clone())
}

fn audit_rows<'a>(log: &'a [Value], action: &str) -> Vec<&'a Value> {
    log.iter().filter(|r| r["action"] == action).collect()
}

/// `blisko-server staff add` with `password` on standard input: its exit code and stderr.
fn staff_add(data: &std::path::Path, login: &str, password: &str) -> Result<(i32, String)> {
    let mut child = server_command(data)?
        .args(["staff", "add", "--login", login, "--name", "Ktoś"])
        .args(["--role", "office_admin"])
        .env("BLISKO_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(format!("{password}\n").as_bytes())?;
    let out = child.wait_with_output()?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Log in with a password that must be changed: the server sends the visitor to the
/// password page; the returned client has its CSRF token from there.
fn login_temporary(base: &str, login: &str, password: &str) -> Result<Office> {
    let mut office = Office::anonymous(base)?;
    let response = office.try_login(login, password)?;
    ensure!(response.status().as_u16() == 303, "log-in of {login}");
    assert_eq!(
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/office/password"),
        "a temporary password leads to the password page"
    );
    let page = office.page("/office/password")?;
    office.csrf = csrf_in(&page).context("csrf on the password page")?;
    Ok(office)
}

fn location(response: &reqwest::blocking::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Add an account on the page; its id and the temporary password shown once.
fn add_on_page(
    admin: &Office,
    login: &str,
    name: &str,
    role: &str,
    branch: &str,
) -> Result<(String, String)> {
    let response = admin.post(
        "/office/staff",
        &[
            ("login", login),
            ("name", name),
            ("role", role),
            ("branch", branch),
        ],
    )?;
    let status = response.status().as_u16();
    let body = response.text()?;
    ensure!(status == 200, "add {login}: {status}: {body}");
    let password = data_attrs(&body, "password")
        .into_iter()
        .next()
        .context("the temporary password is shown")?;
    let list = admin.page("/office/staff")?;
    let at = list
        .find(&format!("data-staff=\"{login}\""))
        .context("the account is listed")?;
    let id = list[at..]
        .split("/office/staff/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .context("a link to the account")?
        .to_owned();
    Ok((id, password))
}

fn refused_with(response: reqwest::blocking::Response, words: &str) -> Result<()> {
    let status = response.status().as_u16();
    let body = response.text()?;
    ensure!(
        status == 400 && body.contains(words) && body.contains("Nic nie zostało zmienione"),
        "expected a refusal with {words:?}, got {status}: {body}"
    );
    Ok(())
}

#[test]
fn the_password_policy_holds_on_the_command_line_and_the_page() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        for weak in [
            "            ",
            "aaaaaaaaaaaa",
            "short-pass1",
            "zaq12wsxcde3",
            "QWERTYUIOP12",
            "Haslo1234567",
        ] {
            let (code, stderr) = staff_add(&data, "ala", weak)?;
            assert_eq!(code, 2, "staff add with {weak:?} is refused");
            ensure!(stderr.contains("password"), "it says why: {stderr}");
        }
        assert_eq!(
            server.admin(&["staff", "list"])?.as_array().map(Vec::len),
            Some(0),
            "nothing was created"
        );
        let (code, _) = staff_add(&data, "ala", PASSWORD)?;
        assert_eq!(code, 0);

        // The own-password page applies the same policy, in Polish and English.
        let office = Office::login(&server.url(), "ala", PASSWORD)?;
        let page = office.page("/office/password")?;
        ensure!(page.contains("Zmiana hasła"));
        for (new, repeat, words) in [
            ("zaq12wsxcde3", "zaq12wsxcde3", "zbyt popularne"),
            ("qwertyuiop12", "qwertyuiop12", "zbyt popularne"),
            ("bbbbbbbbbbbbbb", "bbbbbbbbbbbbbb", "jednym znakiem"),
            ("              ", "              ", "samych spacji"),
            ("krotkie", "krotkie", "co najmniej 12"),
            ("nowe-dobre-haslo-1", "nowe-dobre-haslo-2", "różnią się"),
        ] {
            let response = office.post(
                "/office/password",
                &[("current", PASSWORD), ("new", new), ("repeat", repeat)],
            )?;
            refused_with(response, words)?;
        }
        refused_with(
            office.post(
                "/office/password",
                &[
                    ("current", "not-the-password"),
                    ("new", "nowe-dobre-haslo-1"),
                    ("repeat", "nowe-dobre-haslo-1"),
                ],
            )?,
            "Obecne hasło jest nieprawidłowe",
        )?;
        // The same refusal in English.
        assert_eq!(office.get("/office/lang/en")?.status().as_u16(), 303);
        let english = office.post(
            "/office/password",
            &[
                ("current", PASSWORD),
                ("new", "haslo1234567"),
                ("repeat", "haslo1234567"),
            ],
        )?;
        assert_eq!(english.status().as_u16(), 400);
        let text = english.text()?;
        ensure!(
            text.contains("too common") && text.contains("Nothing was changed"),
            "English refusal: {text}"
        );
        // Nothing changed: the old password still logs in.
        Office::login(&server.url(), "ala", PASSWORD)?;

        // The administrator's alternative for a forgotten password: a temporary one, printed
        // once, to be changed at the next log-in.
        let reset = server.admin(&["staff", "reset-password", "--login", "ala"])?;
        let temporary = reset["temporary_password"]
            .as_str()
            .context("a temporary password")?;
        ensure!(
            Office::anonymous(&server.url())?
                .try_login("ala", PASSWORD)?
                .status()
                .as_u16()
                == 401
        );
        login_temporary(&server.url(), "ala", temporary)?;
        Ok(())
    })
}

#[test]
fn an_admin_adds_edits_resets_and_disables_accounts() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        add_staff(&data, "admin", "office_admin", None)?;
        add_staff(&data, "org", "organizer", None)?;
        let admin = Office::login(&server.url(), "admin", PASSWORD)?;
        ensure!(
            admin.page("/office")?.contains("href=\"/office/staff\""),
            "admins have the menu link"
        );

        // Other roles may not open the staff pages.
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        assert_eq!(org.get("/office/staff")?.status().as_u16(), 403);
        ensure!(!org.page("/office")?.contains("href=\"/office/staff\""));
        assert_eq!(
            org.post(
                "/office/staff",
                &[
                    ("login", "x-y"),
                    ("name", "X"),
                    ("role", "office_admin"),
                    ("branch", "")
                ]
            )?
            .status()
            .as_u16(),
            403
        );
        // Anonymous visitors are sent to the log-in.
        let anonymous = Office::anonymous(&server.url())?;
        for path in ["/office/staff", "/office/staff/x", "/office/password"] {
            assert_eq!(location(&anonymous.get(path)?), "/office/login", "{path}");
        }

        // Bad input is refused and creates nothing.
        refused_with(
            admin.post(
                "/office/staff",
                &[
                    ("login", "Ewa Nowak"),
                    ("name", "Ewa"),
                    ("role", "organizer"),
                    ("branch", ""),
                ],
            )?,
            "Login ma od 3 do 40 znaków",
        )?;
        let taken = admin.post(
            "/office/staff",
            &[
                ("login", "org"),
                ("name", "Druga Osoba"),
                ("role", "branch_staff"),
                ("branch", &mal),
            ],
        )?;
        let kept = taken.text()?;
        ensure!(
            kept.contains("id=\"staff-add-refused\"")
                && kept.contains("value=\"Druga Osoba\"")
                && kept.contains("value=\"branch_staff\" selected")
                && kept.contains(&format!("value=\"{mal}\" selected")),
            "the list comes back with the form as typed: {kept}"
        );
        refused_with(
            admin.post(
                "/office/staff",
                &[
                    ("login", "org"),
                    ("name", "Druga"),
                    ("role", "organizer"),
                    ("branch", ""),
                ],
            )?,
            "jest już zajęty",
        )?;
        refused_with(
            admin.post(
                "/office/staff",
                &[
                    ("login", "ewa"),
                    ("name", "Ewa"),
                    ("role", "king"),
                    ("branch", ""),
                ],
            )?,
            "Formularz",
        )?;

        // A new account, with a temporary password shown once, and XSS in the name escaped.
        let xss = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";
        let (ewa, temporary) = add_on_page(&admin, "ewa", xss, "organizer", &mal)?;
        assert_eq!(temporary.len(), 19);
        let list = admin.page("/office/staff")?;
        ensure!(
            !list.contains("<script>alert(1)") && !list.contains("<img src=x"),
            "the name is escaped"
        );
        ensure!(list.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        ensure!(
            !list.contains(&temporary),
            "the password is shown once only"
        );
        let detail = admin.page(&format!("/office/staff/{ewa}"))?;
        ensure!(!detail.contains("<script>alert(1)") && !detail.contains(&temporary));

        // The temporary password leads to the password page, and nowhere else until changed.
        let ewa_office = login_temporary(&server.url(), "ewa", &temporary)?;
        for path in ["/office", "/office/classes", "/office/requests"] {
            assert_eq!(
                location(&ewa_office.get(path)?),
                "/office/password",
                "{path} waits for the new password"
            );
        }
        assert_eq!(
            location(
                &ewa_office.post("/office/requests/0190c6e2-0000-7000-8000-000000000000", &[])?
            ),
            "/office/password"
        );
        refused_with(
            ewa_office.post(
                "/office/password",
                &[
                    ("current", &temporary),
                    ("new", &temporary),
                    ("repeat", &temporary),
                ],
            )?,
            "musi różnić się",
        )?;
        let own = "ewa-wlasne-haslo-2026";
        let changed = ewa_office.post(
            "/office/password",
            &[("current", &temporary), ("new", own), ("repeat", own)],
        )?;
        assert_eq!(changed.status().as_u16(), 200);
        ensure!(changed.text()?.contains("Zapisano"));
        ensure!(
            ewa_office.page("/office")?.contains("Przegląd"),
            "free to work now"
        );
        ensure!(
            Office::anonymous(&server.url())?
                .try_login("ewa", &temporary)?
                .status()
                .as_u16()
                == 401,
            "the temporary password no longer works"
        );
        let ewa_office = Office::login(&server.url(), "ewa", own)?;

        // Edit: name, role and branch; the audit has old and new values.
        let edited = admin.post(
            &format!("/office/staff/{ewa}"),
            &[
                ("name", "Ewa Nowak"),
                ("role", "office_admin"),
                ("branch", ""),
            ],
        )?;
        assert_eq!(edited.status().as_u16(), 303);
        let list = admin.page("/office/staff")?;
        ensure!(list.contains("Ewa Nowak") && list.contains("administrator biura"));
        ensure!(
            ewa_office.page("/office/staff")?.contains("Pracownicy"),
            "the new role applies to the open session"
        );
        let log = audit(&server)?;
        let edit = audit_rows(&log, "staff_edit");
        let detail: Value = serde_json::from_str(
            edit.first().context("an edit record")?["detail"]
                .as_str()
                .unwrap_or_default(),
        )?;
        ensure!(
            detail["old"]["role"] == "organizer"
                && detail["new"]["role"] == "office_admin"
                && detail["old"]["branch"] == format!("branch:{mal}").as_str()
                && detail["new"]["branch"].is_null()
                && detail["new"]["name"] == "Ewa Nowak",
            "old and new values: {detail}"
        );
        // The audit page says it in words: roles by their names, branches by theirs.
        let page = admin.page("/office/audit?what=staff_edit")?;
        for words in [
            "organizator",
            "administrator biura",
            "Miejsce Aktywności Lokalnej",
            "wszystkie punkty",
            "zmiana konta pracownika",
        ] {
            ensure!(page.contains(words), "{words:?} on the audit page");
        }
        ensure!(!page.contains("office_admin<") && !page.contains("→ all"));

        // Disable: the open session ends at once, and the account cannot log in.
        let disabled = admin.post(&format!("/office/staff/{ewa}/disable"), &[])?;
        assert_eq!(disabled.status().as_u16(), 303);
        assert_eq!(location(&ewa_office.get("/office")?), "/office/login");
        assert_eq!(
            Office::anonymous(&server.url())?
                .try_login("ewa", own)?
                .status()
                .as_u16(),
            401
        );
        ensure!(
            admin
                .page("/office/staff")?
                .contains("data-staff=\"ewa\" data-status=\"disabled\"")
        );
        admin.post(&format!("/office/staff/{ewa}/enable"), &[])?;
        let ewa_office = Office::login(&server.url(), "ewa", own)?;

        // A reset: the session ends, a new temporary password must be changed first.
        let reset = admin.post(&format!("/office/staff/{ewa}/password"), &[])?;
        let body = reset.text()?;
        let second = data_attrs(&body, "password")
            .into_iter()
            .next()
            .context("the new temporary password is shown")?;
        ensure!(second != temporary);
        assert_eq!(location(&ewa_office.get("/office")?), "/office/login");
        ensure!(
            Office::anonymous(&server.url())?
                .try_login("ewa", own)?
                .status()
                .as_u16()
                == 401
        );
        login_temporary(&server.url(), "ewa", &second)?;

        // The last active office admin cannot be disabled or demoted.
        admin.post(&format!("/office/staff/{ewa}/disable"), &[])?;
        let list = admin.page("/office/staff")?;
        let admin_id = list[list.find("data-staff=\"admin\"").context("admin listed")?..]
            .split("/office/staff/")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .context("admin's link")?
            .to_owned();
        refused_with(
            admin.post(&format!("/office/staff/{admin_id}/disable"), &[])?,
            "ostatnie aktywne konto administratora",
        )?;
        refused_with(
            admin.post(
                &format!("/office/staff/{admin_id}"),
                &[("name", "Admin"), ("role", "organizer"), ("branch", "")],
            )?,
            "ostatnie aktywne konto administratora",
        )?;
        ensure!(
            admin.page("/office/staff")?.contains("Pracownicy"),
            "still an admin"
        );

        // The audit holds every change, never a password.
        let log = audit(&server)?;
        for action in [
            "staff_add",
            "staff_edit",
            "staff_disable",
            "staff_enable",
            "staff_password_reset",
            "staff_password_change",
        ] {
            ensure!(!audit_rows(&log, action).is_empty(), "{action} audited");
        }
        let text = serde_json::to_string(&log)?;
        for secret in [temporary.as_str(), second.as_str(), own, PASSWORD] {
            ensure!(!text.contains(secret), "no password in the audit");
        }
        Ok(())
    })
}

#[test]
fn an_office_admin_always_has_all_branches() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        add_staff(&data, "admin", "office_admin", None)?;
        add_staff(&data, "org", "organizer", Some(&mal))?;
        let admin = Office::login(&server.url(), "admin", PASSWORD)?;

        // The command line refuses an office admin of one branch.
        let cli = add_staff(&data, "adminmal", "office_admin", Some(&mal));
        let error = format!("{:#}", cli.err().context("refused on the command line")?);
        ensure!(error.contains("always has all branches"), "{error}");

        // So does the page, adding and editing, and nothing changes.
        refused_with(
            admin.post(
                "/office/staff",
                &[
                    ("login", "adminmal"),
                    ("name", "Adam Mal"),
                    ("role", "office_admin"),
                    ("branch", &mal),
                ],
            )?,
            "wszystkich punktów",
        )?;
        let list = admin.page("/office/staff")?;
        ensure!(
            !list.contains("data-staff=\"adminmal\""),
            "no account added"
        );
        let org = list[list.find("data-staff=\"org\"").context("org listed")?..]
            .split("/office/staff/")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .context("org's link")?
            .to_owned();
        refused_with(
            admin.post(
                &format!("/office/staff/{org}"),
                &[("name", "Org"), ("role", "office_admin"), ("branch", &mal)],
            )?,
            "wszystkich punktów",
        )?;
        let log = audit(&server)?;
        ensure!(audit_rows(&log, "staff_edit").is_empty(), "nothing changed");
        ensure!(
            Office::login(&server.url(), "org", PASSWORD)?
                .get("/office/staff")?
                .status()
                .as_u16()
                == 403,
            "still an organizer"
        );

        // With all branches the same edit is taken.
        let taken = admin.post(
            &format!("/office/staff/{org}"),
            &[("name", "Org"), ("role", "office_admin"), ("branch", "")],
        )?;
        assert_eq!(taken.status().as_u16(), 303);
        ensure!(
            Office::login(&server.url(), "org", PASSWORD)?
                .page("/office/staff")?
                .contains("Pracownicy"),
            "an office admin now"
        );
        Ok(())
    })
}

/// A `serve` without `--demo` whose standard output is kept: the set-up link is its
/// second line.
struct FirstRun {
    child: Child,
    base: String,
    lines: BufReader<std::process::ChildStdout>,
}

impl FirstRun {
    fn start(data: &std::path::Path) -> Result<FirstRun> {
        let mut child = server_command(data)?
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("BLISKO_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?);
        let mut first = String::new();
        lines.read_line(&mut first)?;
        let base = first
            .trim()
            .strip_prefix("listening on ")
            .with_context(|| format!("the first line: {first:?}"))?
            .to_owned();
        Ok(FirstRun { child, base, lines })
    }

    /// The path of the set-up link printed after the first line.
    fn setup_path(&mut self) -> Result<String> {
        let mut line = String::new();
        self.lines.read_line(&mut line)?;
        let at = line
            .find(&format!("{}/office/setup/", self.base))
            .with_context(|| format!("a set-up link in {line:?}"))?;
        Ok(line[at + self.base.len()..].trim().to_owned())
    }

    /// Stop the server; what else it printed.
    fn stop(mut self) -> Result<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut rest = String::new();
        self.lines.read_to_string(&mut rest)?;
        Ok(rest)
    }
}

impl Drop for FirstRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn setup_form(base: &str, path: &str) -> Result<(reqwest::blocking::Client, String)> {
    let http = client()?;
    let response = http.get(format!("{base}{path}")).send()?;
    ensure!(response.status().as_u16() == 200, "the set-up page opens");
    let csrf = csrf_in(&response.text()?).context("csrf")?;
    Ok((http, csrf))
}

#[test]
fn the_first_run_link_creates_the_first_admin_once() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        // The servers below run on the folder's store while this holds it.
        let _store = new_store(backend, &data)?;

        // Each start without an admin prints a new link; the older one stops working.
        let mut run = FirstRun::start(&data)?;
        let old = run.setup_path()?;
        ensure!(old.len() == "/office/setup/".len() + 64);
        run.stop()?;
        let mut run = FirstRun::start(&data)?;
        let path = run.setup_path()?;
        ensure!(path != old);
        let http = client()?;
        assert_eq!(
            http.get(format!("{}{old}", run.base))
                .send()?
                .status()
                .as_u16(),
            404
        );
        let wrong = format!("/office/setup/{}", "0".repeat(64));
        assert_eq!(
            http.get(format!("{}{wrong}", run.base))
                .send()?
                .status()
                .as_u16(),
            404
        );

        // The policy applies; a refusal creates nothing.
        let (http, mut csrf) = setup_form(&run.base, &path)?;
        for (password, repeat, words) in [
            ("haslo1234567", "haslo1234567", "zbyt popularne"),
            ("dobre-haslo-szefa-1", "dobre-haslo-szefa-2", "różnią się"),
        ] {
            let response = http
                .post(format!("{}{path}", run.base))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("login", "szef"),
                    ("name", "<script>alert(1)</script>"),
                    ("password", password),
                    ("repeat", repeat),
                ])
                .send()?;
            assert_eq!(response.status().as_u16(), 400);
            let body = response.text()?;
            ensure!(body.contains(words), "{words}: {body}");
            // What was typed comes back (escaped), the passwords never.
            ensure!(
                body.contains("value=\"szef\"")
                    && body.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\"")
                    && !body.contains(password),
                "the login and name are kept: {body}"
            );
            // The form comes back with a fresh token.
            csrf = csrf_in(&body).context("csrf")?;
        }
        let no_csrf = client()?
            .post(format!("{}{path}", run.base))
            .form(&[
                ("login", "szef"),
                ("name", "Szef"),
                ("password", "dobre-haslo-szefa-1"),
                ("repeat", "dobre-haslo-szefa-1"),
            ])
            .send()?;
        assert_eq!(no_csrf.status().as_u16(), 403);
        assert_eq!(
            blisko_tests::harness::admin(&data, &["staff", "list"])?
                .as_array()
                .map(Vec::len),
            Some(0)
        );

        let created = http
            .post(format!("{}{path}", run.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("login", "szef"),
                ("name", "<script>alert(1)</script>"),
                ("password", "dobre-haslo-szefa-1"),
                ("repeat", "dobre-haslo-szefa-1"),
            ])
            .send()?;
        assert_eq!(created.status().as_u16(), 303);
        assert_eq!(location(&created), "/office/login");
        // Once set up, the link is gone.
        assert_eq!(
            http.get(format!("{}{path}", run.base))
                .send()?
                .status()
                .as_u16(),
            404
        );
        let again = http
            .post(format!("{}{path}", run.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("login", "drugi"),
                ("name", "Drugi"),
                ("password", "dobre-haslo-szefa-1"),
                ("repeat", "dobre-haslo-szefa-1"),
            ])
            .send()?;
        assert_eq!(again.status().as_u16(), 404);
        let admin = Office::login(&run.base, "szef", "dobre-haslo-szefa-1")?;
        let list = admin.page("/office/staff")?;
        ensure!(list.contains("administrator biura"));
        ensure!(!list.contains("<script>alert(1)"), "escaped");
        let listed = blisko_tests::harness::admin(&data, &["staff", "list"])?;
        assert_eq!(listed.as_array().map(Vec::len), Some(1));
        run.stop()?;

        // A start with an admin prints no link.
        let run = FirstRun::start(&data)?;
        let base = run.base.clone();
        let http = client()?;
        assert_eq!(
            http.get(format!("{base}/office")).send()?.status().as_u16(),
            303
        );
        let rest = run.stop()?;
        ensure!(!rest.contains("/office/setup/"), "no link: {rest:?}");

        // `serve --demo` prints no link either, and serves.
        let demo_data = tmp.path().join("demo");
        let demo = ServerProcess::start_backend(backend, &demo_data, true)?;
        assert_eq!(
            client()?
                .get(format!("{}/office/login", demo.url()))
                .send()?
                .status()
                .as_u16(),
            200
        );
        Ok(())
    })
}

fn post_login(
    base: &str,
    forwarded_for: Option<&str>,
    login: &str,
    password: &str,
) -> Result<reqwest::blocking::Response> {
    let http = client()?;
    let form = http.get(format!("{base}/office/login")).send()?.text()?;
    let csrf = csrf_in(&form).context("csrf")?;
    let mut request = http.post(format!("{base}/office/login")).form(&[
        ("csrf", csrf.as_str()),
        ("login", login),
        ("password", password),
    ]);
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    Ok(request.send()?)
}

fn retry_after(response: &reqwest::blocking::Response) -> Option<u64> {
    response
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

#[test]
fn log_in_back_off_grows_and_resets_and_addresses_count_behind_trusted_proxies() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        add_staff(&data, "ala", "office_admin", None)?;
        let base = server.url();

        // Three failures cost nothing, the fourth makes the next try wait 1 s, the fifth 2 s.
        for _ in 0..4 {
            assert_eq!(
                post_login(&base, None, "ala", "zle-haslo-123")?
                    .status()
                    .as_u16(),
                401
            );
        }
        let wait = post_login(&base, None, "ala", PASSWORD)?;
        assert_eq!(wait.status().as_u16(), 429, "even the right password waits");
        assert_eq!(retry_after(&wait), Some(1));
        ensure!(wait.text()?.contains("za 1 s"));
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(
            post_login(&base, None, "ala", "zle-haslo-123")?
                .status()
                .as_u16(),
            401
        );
        let wait = post_login(&base, None, "ala", PASSWORD)?;
        assert_eq!(wait.status().as_u16(), 429);
        assert_eq!(retry_after(&wait), Some(2), "the delay doubles");
        // Other logins are not delayed by ala's failures.
        assert_eq!(
            post_login(&base, None, "ktos", "zle-haslo-123")?
                .status()
                .as_u16(),
            401
        );
        std::thread::sleep(Duration::from_millis(2100));
        assert_eq!(
            post_login(&base, None, "ala", PASSWORD)?.status().as_u16(),
            303,
            "the owner gets in once the short delay has passed"
        );
        // A success starts the count again: three free failures.
        for _ in 0..3 {
            assert_eq!(
                post_login(&base, None, "ala", "zle-haslo-123")?
                    .status()
                    .as_u16(),
                401
            );
        }
        assert_eq!(
            post_login(&base, None, "ala", PASSWORD)?.status().as_u16(),
            303
        );

        // Refusals are audited with the client address, never the password or the login typed.
        let log = audit(&server)?;
        let refused = audit_rows(&log, "office_login_refused");
        ensure!(refused.len() >= 8);
        ensure!(
            refused.iter().all(|r| r["detail"] == "address: 127.0.0.1"),
            "the socket address counts without --trusted-proxy: {refused:?}"
        );
        let text = serde_json::to_string(&log)?;
        ensure!(!text.contains("zle-haslo") && !text.contains("ktos"));

        // Without --trusted-proxy, X-Forwarded-For is ignored: 20 failures from this socket
        // address (9 above) stop every log-in from it, whatever the header says.
        for i in 0..11 {
            let xff = format!("10.0.0.{i}");
            let r = post_login(&base, Some(&xff), &format!("nikt{i}"), "zle-haslo-123")?;
            assert_eq!(r.status().as_u16(), 401);
        }
        let limited = post_login(&base, Some("10.9.9.9"), "ala", PASSWORD)?;
        assert_eq!(
            limited.status().as_u16(),
            429,
            "the address is over its limit"
        );
        drop(server);

        // With --trusted-proxy, the address the proxy names counts: one client over its limit
        // does not stop another behind the same proxy; a client's own header part is not
        // believed.
        let data = tmp.path().join("proxied");
        let server = ServerProcess::start_backend_with(
            backend,
            &data,
            "127.0.0.1:0".parse()?,
            true,
            &["--trusted-proxy", "127.0.0.1"],
        )?;
        add_staff(&data, "ala", "office_admin", None)?;
        let base = server.url();
        for i in 0..20 {
            let r = post_login(
                &base,
                Some("203.0.113.7"),
                &format!("nikt{i}"),
                "zle-haslo-123",
            )?;
            assert_eq!(r.status().as_u16(), 401);
        }
        let limited = post_login(&base, Some("203.0.113.7"), "ala", PASSWORD)?;
        assert_eq!(
            limited.status().as_u16(),
            429,
            "that client is over its limit"
        );
        let spoofed = post_login(&base, Some("198.51.100.1, 203.0.113.7"), "ala", PASSWORD)?;
        assert_eq!(
            spoofed.status().as_u16(),
            429,
            "a client-written part of the header is not believed"
        );
        assert_eq!(
            post_login(&base, Some("203.0.113.8"), "ala", PASSWORD)?
                .status()
                .as_u16(),
            303,
            "another client behind the proxy logs in"
        );
        // Someone guessing the admin's password from elsewhere earns a delay for themselves,
        // never for the owner.
        for _ in 0..5 {
            post_login(&base, Some("203.0.113.9"), "ala", "zle-haslo-123")?;
        }
        assert_eq!(
            post_login(&base, Some("203.0.113.9"), "ala", PASSWORD)?
                .status()
                .as_u16(),
            429,
            "the guesser waits"
        );
        assert_eq!(
            post_login(&base, Some("203.0.113.8"), "ala", PASSWORD)?
                .status()
                .as_u16(),
            303,
            "the owner, at another address, is not held back by someone else's guesses"
        );
        let log = audit(&server)?;
        ensure!(
            audit_rows(&log, "office_login_refused")
                .iter()
                .all(|r| r["detail"] == "address: 203.0.113.7"
                    || r["detail"] == "address: 203.0.113.9"),
            "the proxied address is audited"
        );
        ensure!(
            audit_rows(&log, "office_login_limited")
                .iter()
                .any(|r| r["detail"] == "address: 203.0.113.7")
        );
        Ok(())
    })
}

#[test]
fn unknown_accounts_pages_are_not_found() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        add_staff(&data, "admin", "office_admin", None)?;
        let admin = Office::login(&server.url(), "admin", PASSWORD)?;
        let unknown = "/office/staff/0190c6e2-0000-7000-8000-000000000000";
        assert_eq!(admin.get(unknown)?.status().as_u16(), 404);
        assert_eq!(
            admin
                .post(&format!("{unknown}/disable"), &[])?
                .status()
                .as_u16(),
            404
        );
        assert_eq!(admin.get("/office/staff/not-an-id")?.status().as_u16(), 400);
        if admin.get("/office/staff")?.status().as_u16() != 200 {
            bail!("the list opens");
        }
        Ok(())
    })
}
