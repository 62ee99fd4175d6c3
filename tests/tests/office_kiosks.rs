//! The kiosks page and the audit log over real HTTP, against a real server with a real
//! kiosk: a kiosk added on the page enrolls with the code the page showed, then shows as
//! enrolled, named, with its last sync and app version; the printable sheet carries the
//! address and the code, also in its QR code; rename and revoke are audited with the old
//! and new values, and a revoked kiosk's next sync is refused; the audit page's filters.

use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::kiosk::{RegistrationForm, system_clock};
use blisko_tests::for_each_backend;
use blisko_tests::harness::{ServerProcess, branch_id, setup_key, sync};
use blisko_tests::office::{Office, PASSWORD, add_staff, data_attrs};

const XSS_SCRIPT: &str = "<script>alert(1)</script>";
const XSS_IMG: &str = "\"><img src=x onerror=alert(1)>";

/// The one-time code on a page that shows one.
fn code_on(html: &str) -> Result<String> {
    data_attrs(html, "code")
        .into_iter()
        .next()
        .context("an enrollment code on the page")
}

/// The table row of a kiosk on the kiosks page.
fn kiosk_row<'a>(html: &'a str, kiosk: &str) -> Result<&'a str> {
    let at = html
        .find(&format!("data-kiosk=\"{kiosk}\""))
        .with_context(|| format!("kiosk {kiosk} listed"))?;
    let end = html[at..].find("</tr>").context("row end")?;
    Ok(&html[at..at + end])
}

/// Rows of the audit page as (action, actor) pairs.
fn audit_rows(html: &str) -> Vec<(String, String)> {
    data_attrs(html, "action")
        .into_iter()
        .zip(data_attrs(html, "actor"))
        .collect()
}

fn assert_escaped(html: &str) -> Result<()> {
    ensure!(
        !html.contains(XSS_SCRIPT) && !html.contains("<img src=x"),
        "a payload came back unescaped"
    );
    Ok(())
}

#[test]
fn kiosks_are_administered_and_audited_on_the_office_page() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        add_staff(&data, "admin", "office_admin", None)?;
        add_staff(&data, "org", "organizer", None)?;

        // Only the office admin has the kiosks and the audit log.
        let anonymous = Office::anonymous(&server.url())?;
        for path in ["/office/kiosks", "/office/audit"] {
            ensure!(
                anonymous.get(path)?.status().as_u16() == 303,
                "{path} anonymous"
            );
        }
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        for path in ["/office/kiosks", "/office/audit"] {
            ensure!(
                org.get(path)?.status().as_u16() == 403,
                "{path} for an organizer"
            );
        }
        let office = Office::login(&server.url(), "admin", PASSWORD)?;
        ensure!(
            office
                .page("/office/kiosks")?
                .contains("href=\"/office/audit\"")
        );

        // A name is required, and a bad one changes nothing.
        let before = office.page("/office/kiosks")?;
        let refused = office.post("/office/kiosks", &[("branch", &mal), ("name", "  ")])?;
        ensure!(
            refused.status().as_u16() == 400,
            "empty name: {}",
            refused.status()
        );
        ensure!(refused.text()?.contains("Nic nie zostało zmienione"));
        ensure!(
            data_attrs(&office.page("/office/kiosks")?, "kiosk") == data_attrs(&before, "kiosk")
        );

        // Add: the code is shown once, large.
        let added = office.post("/office/kiosks", &[("branch", &mal), ("name", "MAL — hol")])?;
        ensure!(added.status().as_u16() == 200, "add: {}", added.status());
        let added = added.text()?;
        ensure!(added.contains("class=\"enroll-code\""), "{added}");
        ensure!(
            added.contains("MAL — hol (kiosk nr"),
            "named on the code page"
        );
        let code = code_on(&added)?;
        let listed = office.page("/office/kiosks")?;
        let kiosk_id = data_attrs(&listed, "kiosk")
            .into_iter()
            .find(|k| kiosk_row(&listed, k).is_ok_and(|r| r.contains("MAL — hol")))
            .context("the new kiosk listed")?;
        ensure!(kiosk_row(&listed, &kiosk_id)?.contains("data-state=\"waiting\""));

        // The printable sheet: address, code, name, branch, instructions, and a QR code of
        // exactly `blisko-enroll:<address>#<code>`.
        let sheet = office.post(
            &format!("/office/kiosks/{kiosk_id}/sheet"),
            &[("code", &code)],
        )?;
        ensure!(sheet.status().as_u16() == 200, "sheet: {}", sheet.status());
        let sheet = sheet.text()?;
        let payload = format!("blisko-enroll:{}#{code}", server.url());
        ensure!(sheet.contains(&payload), "payload on the sheet: {sheet}");
        ensure!(sheet.contains(&server.url()) && sheet.contains("MAL — hol"));
        ensure!(sheet.contains("Instrukcja dla osoby w punkcie"));
        ensure!(!sheet.contains("<nav"), "a print page has no navigation");
        let expected =
            qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)?
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build();
        let expected = &expected[expected.find("<svg").context("svg")?..];
        ensure!(sheet.contains(expected), "the QR code encodes the payload");
        // A code that is not the kiosk's current one gets no sheet.
        let forged = office.post(
            &format!("/office/kiosks/{kiosk_id}/sheet"),
            &[("code", "AAAA-BBBB-CCCC")],
        )?;
        ensure!(
            forged.status().as_u16() == 400,
            "forged code: {}",
            forged.status()
        );

        // A real kiosk enrolls with the code from the page and syncs.
        let dir = tmp.path().join("kiosk");
        let kiosk = Mutex::new(blisko_kiosk::sync::enroll(
            &dir,
            &server.url(),
            &code,
            None,
            &setup_key(&dir)?,
            system_clock(),
        )?);
        sync(&kiosk)?;
        let listed = office.page("/office/kiosks")?;
        let row = kiosk_row(&listed, &kiosk_id)?;
        ensure!(row.contains("data-state=\"enrolled\""), "{row}");
        ensure!(row.contains("data-stale=\"false\""), "{row}");
        ensure!(row.contains("MAL — hol (kiosk nr"), "{row}");
        ensure!(
            row.contains("przed chwilą"),
            "last sync as a relative time: {row}"
        );
        let version = row
            .split("class=\"app-version\"")
            .nth(1)
            .and_then(|cell| cell.split_once('>'))
            .and_then(|(_, text)| text.split("</td>").next())
            .context("the app version's cell")?;
        ensure!(
            !version.is_empty() && version != "—",
            "the app version is shown: {row}"
        );

        // The class page names the kiosk; an allotment change is audited with old and new.
        let class = kiosk.lock().expect("kiosk").classes()?[0].id.to_string();
        let receipt = kiosk.lock().expect("kiosk").register(&RegistrationForm {
            class_id: class.clone(),
            given_name: "Zofia".into(),
            family_name: "Wójcik".into(),
            birth_year: 1948,
            consent: true,
            ..RegistrationForm::default()
        })?;
        sync(&kiosk)?;
        let allot = office.post(
            &format!("/office/classes/{class}/allotments"),
            &[("kiosk", &kiosk_id), ("seats", "1")],
        )?;
        ensure!(
            allot.status().as_u16() == 303,
            "allotment: {}",
            allot.status()
        );
        let class_page = office.page(&format!("/office/classes/{class}"))?;
        ensure!(
            class_page.contains("MAL — hol (kiosk nr"),
            "class page names the kiosk"
        );
        ensure!(
            office.page("/office")?.contains("MAL — hol (kiosk nr"),
            "overview too"
        );
        let person = office.page(&format!("/office/persons/{}", receipt.person_id))?;
        let reads = &person[person.find("id=\"reads\"").context("who viewed")?..];
        ensure!(
            reads.contains("Pracownik admin"),
            "who viewed: a name, not an id: {reads}"
        );

        // Rename, with the payloads escaped.
        for name in [XSS_SCRIPT, XSS_IMG, "MAL — sala 2"] {
            let renamed = office.post(
                &format!("/office/kiosks/{kiosk_id}/rename"),
                &[("name", name)],
            )?;
            ensure!(
                renamed.status().as_u16() == 303,
                "rename: {}",
                renamed.status()
            );
            assert_escaped(&office.page("/office/kiosks")?)?;
            assert_escaped(&office.page("/office/audit")?)?;
        }
        ensure!(
            office
                .page("/office/kiosks")?
                .contains("MAL — sala 2 (kiosk nr")
        );
        let xss_added = office.post("/office/kiosks", &[("branch", &mal), ("name", XSS_IMG)])?;
        assert_escaped(&xss_added.text()?)?;
        assert_escaped(&office.page(&format!(
            "/office/audit?person={}",
            XSS_SCRIPT.replace('<', "%3C").replace('>', "%3E")
        ))?)?;

        // A class edit is audited with the old and the new values.
        let edited = office.post(
            &format!("/office/classes/{class}"),
            &[
                ("title", "Joga XL"),
                ("capacity", "30"),
                ("waitlist_limit", "5"),
            ],
        )?;
        ensure!(
            edited.status().as_u16() == 303,
            "class edit: {}",
            edited.status()
        );
        let edits = office.page("/office/audit?what=class_edit")?;
        ensure!(edits.contains("data-field=\"capacity\""), "{edits}");
        ensure!(edits.contains("liczba miejsc"), "{edits}");
        ensure!(edits.contains("<span class=\"new\">30</span>"), "{edits}");
        ensure!(
            edits.contains("<span class=\"new\">Joga XL</span>"),
            "{edits}"
        );

        // Revoke: a confirmation that says what happens, then the next sync is refused.
        let confirm = office.page(&format!("/office/kiosks/{kiosk_id}/revoke"))?;
        ensure!(confirm.contains("revoke-consequences") && confirm.contains("nie giną"));
        let unconfirmed = office.post(&format!("/office/kiosks/{kiosk_id}/revoke"), &[])?;
        ensure!(unconfirmed.status().as_u16() == 400, "unconfirmed revoke");
        ensure!(
            kiosk_row(&office.page("/office/kiosks")?, &kiosk_id)?
                .contains("data-state=\"enrolled\"")
        );
        let revoked = office.post(
            &format!("/office/kiosks/{kiosk_id}/revoke"),
            &[("confirm", "yes")],
        )?;
        ensure!(
            revoked.status().as_u16() == 303,
            "revoke: {}",
            revoked.status()
        );
        ensure!(
            kiosk_row(&office.page("/office/kiosks")?, &kiosk_id)?
                .contains("data-state=\"revoked\"")
        );
        ensure!(sync(&kiosk).is_err(), "a revoked kiosk's sync is refused");
        let status = kiosk.lock().expect("kiosk").status()?;
        ensure!(status.revoked, "the kiosk knows it is revoked");

        // The audit log: filters by what, who, dates and person.
        let renames = office.page("/office/audit?what=kiosk_rename")?;
        let rows = audit_rows(&renames);
        ensure!(
            rows.len() == 3 && rows.iter().all(|(a, _)| a == "kiosk_rename"),
            "{rows:?}"
        );
        ensure!(
            renames.contains("MAL — hol</span> → <span class=\"new\">"),
            "old → new: {renames}"
        );
        ensure!(renames.contains("Pracownik admin"), "actor by name");
        let revokes = office.page("/office/audit?what=kiosk_revoke")?;
        ensure!(
            revokes.contains("zarejestrowany</span> → <span class=\"new\">wycofany"),
            "{revokes}"
        );
        let allotments = office.page("/office/audit?what=allotment_set")?;
        ensure!(
            allotments.contains("przydział: MAL — sala 2 (kiosk nr"),
            "{allotments}"
        );
        let admin = rows
            .first()
            .map(|(_, actor)| actor.clone())
            .context("actor")?;
        ensure!(admin.starts_with("staff:"));
        let by_admin = audit_rows(&office.page(&format!("/office/audit?who={admin}"))?);
        ensure!(!by_admin.is_empty() && by_admin.iter().all(|(_, a)| *a == admin));
        let by_kiosk = audit_rows(&office.page(&format!("/office/audit?who=kiosk:{kiosk_id}"))?);
        ensure!(by_kiosk.iter().any(|(a, _)| a == "enroll"), "{by_kiosk:?}");
        let today = jiff::Zoned::now().date();
        let tomorrow = today.tomorrow()?;
        let yesterday = today.yesterday()?;
        ensure!(audit_rows(&office.page(&format!("/office/audit?from={tomorrow}"))?).is_empty());
        ensure!(audit_rows(&office.page(&format!("/office/audit?to={yesterday}"))?).is_empty());
        ensure!(
            !audit_rows(&office.page(&format!("/office/audit?from={today}&to={today}"))?)
                .is_empty()
        );
        for person in [receipt.resident_code.clone(), receipt.person_id.to_string()] {
            let about = audit_rows(&office.page(&format!("/office/audit?person={person}"))?);
            ensure!(
                about.iter().any(|(a, _)| a == "person_read"),
                "{person}: {about:?}"
            );
            ensure!(
                about.iter().all(|(a, _)| a != "kiosk_rename"),
                "{person}: {about:?}"
            );
        }
        // 100 records a page, newest first, with a link to the older ones.
        for _ in 0..100 {
            office.page(&format!("/office/classes/{class}"))?;
        }
        let first = office.page("/office/audit?what=roster_read")?;
        let total: usize = first
            .split("Zdarzeń: ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .context("the count")?;
        ensure!(total > 100, "{total}");
        ensure!(audit_rows(&first).len() == 100);
        ensure!(first.contains("rel=\"next\" href=\"/office/audit?what=roster_read&amp;page=2\""));
        let second = office.page("/office/audit?what=roster_read&page=2")?;
        ensure!(audit_rows(&second).len() == total - 100);
        ensure!(second.contains("rel=\"prev\""));

        // The command line names kiosks too, and the page shows who did it.
        let added = server.admin(&[
            "kiosk",
            "add",
            "--branch",
            &mal,
            "--name",
            "MAL — świetlica",
        ])?;
        ensure!(added["name"] == "MAL — świetlica", "{added}");
        let cli_id = added["kiosk_id"].as_str().context("kiosk id")?.to_owned();
        let renamed = server.admin(&["kiosk", "rename", &cli_id, "MAL — piętro"])?;
        ensure!(renamed["name"] == "MAL — piętro", "{renamed}");
        ensure!(
            office
                .page("/office/kiosks")?
                .contains("MAL — piętro (kiosk nr")
        );
        let by_cli = office.page("/office/audit?who=admin&what=kiosk_rename")?;
        ensure!(audit_rows(&by_cli).len() == 1, "{by_cli}");
        ensure!(by_cli.contains("administrator (wiersz poleceń)"));
        ensure!(by_cli.contains("MAL — świetlica</span> → <span class=\"new\">MAL — piętro"));

        let bad = office.get("/office/audit?from=wczoraj")?;
        ensure!(bad.status().as_u16() == 400, "a bad date is refused");
        Ok(())
    })
}

/// A page's visible text: the HTML without its tags (and so without the ids its links
/// and data attributes carry).
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The first id-looking text (`0190c6e2-0000-…`) in `text`, if any.
fn uuid_in(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let hex = |s: &[u8]| {
        s.iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
    };
    (0..b.len().saturating_sub(13)).find_map(|i| {
        let s = &b[i..i + 14];
        (hex(&s[..8]) && s[8] == b'-' && hex(&s[9..13]) && s[13] == b'-')
            .then(|| text.get(i..i + 14).unwrap_or("?"))
    })
}

/// The labels of the audit page's "Co" filter, in their order.
fn what_options(html: &str) -> Result<Vec<String>> {
    let at = html.find("name=\"what\"").context("the what filter")?;
    let select = &html[at..at + html[at..].find("</select>").context("select end")?];
    Ok(select
        .split("<option")
        .skip(2)
        .filter_map(|o| {
            o.split_once('>')
                .and_then(|(_, r)| r.split_once("</option>"))
        })
        .map(|(label, _)| label.to_owned())
        .collect())
}

#[test]
fn the_audit_log_and_who_viewed_show_names_not_ids_or_codes() -> Result<()> {
    for_each_backend(|backend| {
        use blisko_kiosk::kiosk::IntakeForm;
        use blisko_tests::harness::server_and_mal_kiosk_on;

        let tmp = tempfile::tempdir()?;
        let (server, kiosk) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let data = tmp.path().join("server");
        let mal = branch_id(&data, "MAL")?;
        add_staff(&data, "admin", "office_admin", None)?;
        add_staff(&data, "org", "organizer", Some(&mal))?;
        let office = Office::login(&server.url(), "admin", PASSWORD)?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        // A refused page.
        ensure!(org.get("/office/kiosks")?.status().as_u16() == 403);

        // A request from the kiosk, read and moved on by the office.
        let service = kiosk
            .lock()
            .expect("kiosk")
            .services()?
            .into_iter()
            .find(|s| !s.requires_pesel)
            .context("a service without PESEL")?
            .id
            .to_string();
        let intake = kiosk.lock().expect("kiosk").submit_intake(&IntakeForm {
            service_id: service,
            given_name: "Zofia".into(),
            family_name: "Wójcik".into(),
            birth_year: 1950,
            description: "Rehabilitacja kolana.".into(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?;
        sync(&kiosk)?;
        let request = format!("/office/requests/{}", intake.request_id);
        office.page(&request)?;
        let moved = office.post(&request, &[("status", "in_review")])?;
        ensure!(moved.status().as_u16() == 303, "status: {}", moved.status());

        // A class with a session, a phone registration, the session cancelled.
        let created = office.post(
            "/office/classes",
            &[
                ("branch", &mal),
                ("title", "Brydż sportowy"),
                ("capacity", "5"),
                ("waitlist_limit", "2"),
            ],
        )?;
        ensure!(created.status().as_u16() == 303, "class created");
        let class = created
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.rsplit('/').next())
            .context("the class id")?
            .to_owned();
        let sessions = format!("/office/classes/{class}/daily/sessions");
        let added = office.post(
            &sessions,
            &[
                ("date", "2027-03-01"),
                ("start", "10:00"),
                ("minutes", "60"),
            ],
        )?;
        ensure!(
            added.status().as_u16() == 303,
            "session: {}",
            added.status()
        );
        let daily = office.page(&format!("/office/classes/{class}/daily"))?;
        let session = data_attrs(&daily, "session")
            .into_iter()
            .next()
            .context("the session")?;
        let registered = office.post(
            &format!("/office/classes/{class}/daily/register"),
            &[
                ("given", "Jan"),
                ("family", "Nowak"),
                ("birth_year", "1950"),
                ("phone", ""),
                ("clause", "1"),
            ],
        )?;
        ensure!(
            registered.status().is_success() || registered.status().is_redirection(),
            "phone registration: {}",
            registered.status()
        );
        let cancelled = office.post(&format!("{sessions}/{session}/cancel"), &[])?;
        ensure!(
            cancelled.status().as_u16() == 303,
            "cancel: {}",
            cancelled.status()
        );
        office.page(&format!("/office/classes/{class}"))?;

        // A staff edit (role and branch) and a kiosk added.
        let staff = office.page("/office/staff")?;
        let at = staff.find("data-staff=\"org\"").context("org listed")?;
        let org_id = staff[at..]
            .split("/office/staff/")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .context("a link to the account")?
            .to_owned();
        let edited = office.post(
            &format!("/office/staff/{org_id}"),
            &[
                ("name", "Olga Organizator"),
                ("role", "branch_staff"),
                ("branch", ""),
            ],
        )?;
        ensure!(
            edited.status().as_u16() == 303,
            "staff edit: {}",
            edited.status()
        );
        let kiosk_added =
            office.post("/office/kiosks", &[("branch", &mal), ("name", "MAL — hol")])?;
        ensure!(kiosk_added.status().as_u16() == 200);

        // The audit page: names, dates and words, no ids and no codes.
        let html = office.page("/office/audit")?;
        let text = visible_text(&html);
        ensure!(
            uuid_in(&text).is_none(),
            "an id on the audit page: {:?}",
            uuid_in(&text)
        );
        let mut codes = data_attrs(&html, "action");
        codes.sort();
        codes.dedup();
        for code in [
            "registration_phone",
            "staff_edit",
            "session_cancel",
            "request_status",
            "kiosk_add",
            "office_forbidden",
        ] {
            ensure!(
                codes.iter().any(|c| c == code),
                "{code} recorded: {codes:?}"
            );
        }
        for code in &codes {
            ensure!(
                !text.contains(code.as_str()),
                "the code {code} on the audit page"
            );
        }
        for words in [
            "zapis telefoniczny",
            "zapis: Nowak Jan · Brydż sportowy",
            "zmiana konta pracownika",
            "organizator",
            "pracownik punktu",
            "Miejsce Aktywności Lokalnej",
            "wszystkie punkty",
            "odwołanie spotkania",
            "1 marca 2027, pon., 10:00 · Brydż sportowy",
            "zmiana statusu wniosku",
            &format!("wniosek {}", intake.reference),
            "złożony",
            "w rozpatrzeniu",
            "dodanie kiosku",
            "MAL — hol",
            "strona: kioski",
            "adres: 127.0.0.1",
        ] {
            ensure!(text.contains(words), "{words:?} on the audit page: {text}");
        }
        // The "Co" filter lists the labels in Polish order.
        let labels = what_options(&html)?;
        let mut sorted = labels.clone();
        sorted.sort_by(|a, b| blisko_shared::collate::compare(a, b));
        ensure!(
            labels == sorted,
            "the what filter in Polish order: {labels:?}"
        );
        ensure!(labels.iter().any(|l| l == "zapis telefoniczny"));

        // Who viewed a person's data: names and words too.
        for (query, expected) in [
            ("Nowak", "Brydż sportowy"),
            ("Wójcik", intake.reference.as_str()),
        ] {
            let found = office.page(&format!("/office/persons?q={query}"))?;
            let person = data_attrs(&found, "person")
                .into_iter()
                .next()
                .context("the person found")?;
            office.page(&format!("/office/persons/{person}"))?;
            let page = office.page(&format!("/office/persons/{person}"))?;
            let reads = &page[page.find("id=\"reads\"").context("who viewed")?..];
            let reads = visible_text(&reads[..reads.find("</table>").context("table end")?]);
            ensure!(uuid_in(&reads).is_none(), "an id in who viewed: {reads}");
            ensure!(
                !reads.contains("data_access") && !reads.contains("_read"),
                "a code in who viewed: {reads}"
            );
            for words in ["odczyt danych osoby", "wgląd w dane osoby", expected] {
                ensure!(reads.contains(words), "{words:?} in who viewed: {reads}");
            }
            let consents = visible_text(&page);
            ensure!(
                consents.contains("klauzula informacyjna")
                    && !consents.contains("information_clause"),
                "consents in words"
            );
        }

        // In English too.
        office.get("/office/lang/en")?;
        let english = visible_text(&office.page("/office/audit")?);
        ensure!(
            uuid_in(&english).is_none(),
            "an id on the English audit page"
        );
        for words in [
            "registration by phone",
            "registration: Nowak Jan · Brydż sportowy",
            "staff account edited",
            "branch staff",
            "all branches",
            "session cancelled",
            "Mon 1 March 2027, 10:00 · Brydż sportowy",
            "request status changed",
            "in review",
            "page: kiosks",
        ] {
            ensure!(
                english.contains(words),
                "{words:?} on the English audit page: {english}"
            );
        }
        Ok(())
    })
}
