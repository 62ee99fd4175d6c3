//! Spreadsheet formulas typed into the office's fields never become formulas in its
//! exports: a branch's name (the requests CSV/XLSX), a class's title and a person's name
//! registered by phone (the attendance CSV/XLSX), each beginning with `=`, `+`, `-`, `@`,
//! a tab or a carriage return. In CSV such a cell starts with `'`; in XLSX it is a plain
//! string and the file holds no formula. A field that refuses the text is fine too, as
//! long as nothing of it reaches a file. Also: the request queue found by a resident code
//! and by a given name alone.

use std::io::Cursor;

use anyhow::{Context, Result, ensure};
use calamine::{Data, Reader, Xlsx};

use blisko_kiosk::kiosk::IntakeForm;
use blisko_tests::for_each_backend;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{Office, PASSWORD, add_staff, data_attrs};

/// What a spreadsheet would read as a formula (or as the start of one).
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Texts beginning with each trigger, as someone could type them into a field.
const PAYLOADS: [&str; 6] = [
    "=HYPERLINK(\"http://x\";\"y\")",
    "+48 600 100 200",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=2+2",
];

/// Family names beginning with each trigger (a name has letters only, and `-`).
const NAMES: [&str; 6] = ["=Nowak", "+Nowak", "-Nowak", "@Nowak", "\t-Kos", "\r-Lis"];

fn download(office: &Office, path: &str) -> Result<(Vec<u8>, String)> {
    let response = office.get(path)?;
    ensure!(
        response.status().as_u16() == 200,
        "{path}: {}",
        response.status()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((response.bytes()?.to_vec(), content_type))
}

/// The cells of a CSV file for Polish Excel (BOM, `;`, CRLF, RFC 4180 quotes).
fn csv_rows(office: &Office, path: &str) -> Result<Vec<Vec<String>>> {
    let (bytes, content_type) = download(office, path)?;
    ensure!(content_type.starts_with("text/csv"), "{content_type}");
    ensure!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..])?;
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ';' if !quoted => row.push(std::mem::take(&mut cell)),
            '\r' if !quoted => {
                ensure!(chars.next() == Some('\n'), "CR is followed by LF: {text:?}");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            '\n' if !quoted => anyhow::bail!("a bare LF ends a line: {text:?}"),
            other => cell.push(other),
        }
    }
    ensure!(!quoted && cell.is_empty(), "the file ends with a full line");
    Ok(rows)
}

/// The first sheet of an XLSX file; fails if the file holds any formula.
fn xlsx_rows(office: &Office, path: &str) -> Result<Vec<Vec<Data>>> {
    let (bytes, content_type) = download(office, path)?;
    ensure!(content_type.contains("spreadsheetml"), "{content_type}");
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes))?;
    let name = book.sheet_names().first().cloned().context("a sheet")?;
    let formulas = book.worksheet_formula(&name)?;
    ensure!(
        formulas.rows().flatten().all(String::is_empty),
        "{path}: a formula in the file"
    );
    let range = book.worksheet_range(&name)?;
    Ok(range.rows().map(<[Data]>::to_vec).collect())
}

/// A CSV cell holding `stored` (the field's value as saved): neutralised by a leading `'`
/// when it begins as a formula would, unchanged otherwise.
fn csv_neutral(cell: &str, stored: &str) -> Result<()> {
    if stored.starts_with(TRIGGERS) {
        ensure!(
            cell == format!("'{stored}"),
            "{stored:?} is not neutralised in CSV: {cell:?}"
        );
    } else {
        ensure!(cell == stored, "{stored:?} changed in CSV: {cell:?}");
    }
    Ok(())
}

/// What a one-line field keeps of `typed`: surrounding whitespace goes, nothing else.
fn stored(typed: &str) -> &str {
    typed.trim()
}

/// A query-string value, percent-encoded.
fn url(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[test]
fn formulas_typed_into_fields_never_reach_an_export_as_formulas() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        sync(&a)?;
        add_staff(&data, "admin", "office_admin", None)?;
        let office = Office::login(&server.url(), "admin", PASSWORD)?;

        // A request at MAL: its branch column carries the branch's name.
        let service = a
            .lock()
            .expect("kiosk")
            .services()?
            .into_iter()
            .find(|s| !s.requires_pesel)
            .context("a service without PESEL")?
            .id
            .to_string();
        let intake = a.lock().expect("kiosk").submit_intake(&IntakeForm {
            service_id: service,
            given_name: "Bogumiła".into(),
            family_name: "Kręcka".into(),
            birth_year: 1947,
            description: "Proszę o pomoc w zakupach.".into(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?;
        sync(&a)?;
        ensure!(data_attrs(&office.page("/office/requests")?, "request").len() == 1);
        let reference = intake.reference.clone();
        let mut accepted = 0;
        for payload in PAYLOADS {
            let edited = office.post(
                &format!("/office/branches/{mal}"),
                &[
                    ("code", "MAL"),
                    ("name", payload),
                    ("address", payload),
                    ("opening_hours", payload),
                    ("help", payload),
                ],
            )?;
            match edited.status().as_u16() {
                303 => accepted += 1,
                400 => {
                    // Refused: nothing of it was saved.
                    let body = edited.text()?;
                    ensure!(body.contains("branch-refused"), "{payload:?}: {body}");
                    continue;
                }
                other => anyhow::bail!("{payload:?}: {other}"),
            }
            let query = format!("?q={}", url(&reference));
            let rows = csv_rows(&office, &format!("/office/export/requests{query}"))?;
            ensure!(rows.len() == 2 && rows[1][0] == reference, "{rows:?}");
            ensure!(rows[0][2] == "punkt", "the branch column: {:?}", rows[0]);
            csv_neutral(&rows[1][2], stored(payload))?;
            for cell in &rows[1] {
                ensure!(
                    !cell.starts_with(TRIGGERS),
                    "{payload:?}: a CSV cell begins as a formula: {:?}",
                    rows[1]
                );
            }
            let sheet = xlsx_rows(&office, &format!("/office/export/requests/xlsx{query}"))?;
            ensure!(
                sheet[1][2] == Data::String(stored(payload).to_owned()),
                "{payload:?}: the XLSX cell is the plain text: {:?}",
                sheet[1]
            );
        }
        ensure!(accepted >= 4, "the branch's name takes =, +, - and @");

        // A class with a session; its title and a person's name in the attendance export.
        let created = office.post(
            "/office/classes",
            &[
                ("branch", &mal),
                ("title", "Joga"),
                ("capacity", "10"),
                ("waitlist_limit", "2"),
            ],
        )?;
        ensure!(created.status().as_u16() == 303, "{}", created.status());
        let class = created
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.strip_prefix("/office/classes/"))
            .context("the new class")?
            .to_owned();
        let added = office.post(
            &format!("/office/classes/{class}/sessions"),
            &[
                ("date", "2026-12-05"),
                ("start", "10:00"),
                ("minutes", "60"),
                ("confirm", "1"),
            ],
        )?;
        ensure!(added.status().as_u16() == 303, "{}", added.status());
        // Names by phone: a name may begin with a hyphen; the other starts are refused.
        let mut names = Vec::new();
        for (i, family) in NAMES.iter().enumerate() {
            let registered = office.post(
                &format!("/office/classes/{class}/daily/register"),
                &[
                    ("given", "Anna"),
                    ("family", family),
                    ("birth_year", &(1940 + i).to_string()),
                    ("clause", "1"),
                    ("new_person", "1"),
                ],
            )?;
            match registered.status().as_u16() {
                303 => names.push(format!("{} Anna", stored(family))),
                400 => {
                    let body = registered.text()?;
                    ensure!(body.contains("phone-refused"), "{family:?}: {body}");
                }
                other => anyhow::bail!("{family:?}: {other}"),
            }
        }
        ensure!(
            names.iter().any(|n| n == "-Nowak Anna") && names.iter().any(|n| n == "-Kos Anna"),
            "a name beginning with - was registered: {names:?}"
        );
        for payload in PAYLOADS {
            let edited = office.post(
                &format!("/office/classes/{class}"),
                &[
                    ("title", payload),
                    ("capacity", "10"),
                    ("waitlist_limit", "2"),
                ],
            )?;
            let title = match edited.status().as_u16() {
                303 => stored(payload),
                400 => continue,
                other => anyhow::bail!("{payload:?}: {other}"),
            };
            let rows = csv_rows(&office, &format!("/office/export/attendance/{class}"))?;
            ensure!(
                rows[0][0] == "zajęcia" && rows[0][3] == "osoba",
                "{:?}",
                rows[0]
            );
            ensure!(rows.len() == names.len() + 1, "{rows:?}");
            for row in &rows[1..] {
                csv_neutral(&row[0], title)?;
                for cell in row {
                    ensure!(!cell.starts_with(TRIGGERS), "{payload:?}: {row:?}");
                }
            }
            for name in &names {
                let row = rows
                    .iter()
                    .find(|r| r[3].trim_start_matches('\'') == name)
                    .with_context(|| format!("{name:?} in {rows:?}"))?;
                csv_neutral(&row[3], name)?;
            }
            let sheet = xlsx_rows(&office, &format!("/office/export/attendance/{class}/xlsx"))?;
            ensure!(sheet.len() == names.len() + 1, "{sheet:?}");
            for row in &sheet[1..] {
                ensure!(row[0] == Data::String(title.to_owned()), "{row:?}");
            }
            for name in &names {
                ensure!(
                    sheet[1..]
                        .iter()
                        .any(|r| r[3] == Data::String(name.clone())),
                    "{name:?} a plain string in XLSX: {sheet:?}"
                );
            }
            // The roster export of the same class, with the same cells.
            let roster = csv_rows(&office, &format!("/office/export/roster/{class}"))?;
            for row in &roster[1..] {
                csv_neutral(&row[0], title)?;
                ensure!(!row[1].starts_with(TRIGGERS), "{row:?}");
            }
            xlsx_rows(&office, &format!("/office/export/roster/{class}/xlsx"))?;
        }
        Ok(())
    })
}

#[test]
fn the_request_queue_is_found_by_a_resident_code_and_by_a_given_name_alone() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        sync(&a)?;
        add_staff(&data, "org", "organizer", None)?;
        let office = Office::login(&server.url(), "org", PASSWORD)?;
        let service = a
            .lock()
            .expect("kiosk")
            .services()?
            .into_iter()
            .find(|s| !s.requires_pesel)
            .context("a service without PESEL")?
            .id
            .to_string();
        let mut receipts = Vec::new();
        for (given, family) in [("Bronisława", "Żmuda"), ("Tadeusz", "Kowal")] {
            receipts.push(a.lock().expect("kiosk").submit_intake(&IntakeForm {
                service_id: service.clone(),
                given_name: given.into(),
                family_name: family.into(),
                birth_year: 1945,
                description: "Proszę o pomoc.".into(),
                declaration: true,
                consent: true,
                ..IntakeForm::default()
            })?);
        }
        sync(&a)?;
        let ids: Vec<String> = receipts.iter().map(|r| r.request_id.to_string()).collect();
        let found = |q: &str| -> Result<Vec<String>> {
            Ok(data_attrs(
                &office.page(&format!("/office/requests?q={}", url(q)))?,
                "request",
            ))
        };
        ensure!(found("")?.len() == 2, "both requests are in the queue");

        // A resident code: exactly that person's request, also typed in lower case.
        let code = receipts[0].resident_code.clone();
        ensure!(
            found(&code)? == vec![ids[0].clone()],
            "the resident code {code} finds its request"
        );
        ensure!(
            found(&code.to_lowercase())? == vec![ids[0].clone()],
            "{code} in lower case"
        );
        ensure!(
            found(&receipts[1].resident_code)? == vec![ids[1].clone()],
            "the other code"
        );
        // A code nobody has (the first one with its last character changed) finds nothing.
        let mut other = code.clone();
        let last = other.pop().context("a code")?;
        other.push(if last == '2' { '3' } else { '2' });
        ensure!(found(&other)?.is_empty(), "{other} finds nobody");

        // A given name alone, with or without diacritics; another given name finds nothing.
        ensure!(found("Bronisława")? == vec![ids[0].clone()]);
        ensure!(found("bronislawa")? == vec![ids[0].clone()]);
        ensure!(found("Tadeusz")? == vec![ids[1].clone()]);
        ensure!(found("Wiesława")?.is_empty(), "a given name nobody has");
        // The export follows the same search.
        let file = office.get(&format!("/office/export/requests?q={}", url("Tadeusz")))?;
        ensure!(file.status().as_u16() == 200);
        let text = file.text()?;
        ensure!(
            text.contains(&receipts[1].reference) && !text.contains(&receipts[0].reference),
            "{text}"
        );
        Ok(())
    })
}
