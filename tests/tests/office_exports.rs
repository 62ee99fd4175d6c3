//! Lists, exports and search on the office page, over real HTTP against a real server
//! with a real kiosk: CSV files for Polish Excel (BOM, `;`, CRLF, formulas neutralised,
//! readable file names), XLSX files read back (text cells are strings, dates are dates),
//! every list in Polish alphabetical order, attendance with the unmarked people too, and
//! a search that ignores diacritics and case.

use std::io::Cursor;
use std::sync::Mutex;

use anyhow::{Context, Result, ensure};
use calamine::{Data, Reader, Xlsx};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm};
use blisko_shared::model::AttendanceStatus;
use blisko_tests::for_each_backend;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{Office, PASSWORD, add_staff, data_attrs, mark_attendance};

/// The names registered, in the order they are registered (no order at all).
const PEOPLE: [(&str, &str); 9] = [
    ("Zofia", "Żak"),
    ("Ewa", "Wójcik"),
    ("Adam", "Łukasiewicz"),
    ("Olga", "Ćwiklińska"),
    ("Piotr", "Wąsowicz"),
    ("Jan", "Lis"),
    ("Maria", "Czarnecki"),
    ("Iga", "Źródło"),
    ("Ala", "Zięba"),
];

/// The same people in Polish alphabetical order.
const POLISH_ORDER: [&str; 9] = [
    "Czarnecki Maria",
    "Ćwiklińska Olga",
    "Lis Jan",
    "Łukasiewicz Adam",
    "Wąsowicz Piotr",
    "Wójcik Ewa",
    "Zięba Ala",
    "Źródło Iga",
    "Żak Zofia",
];

const FORMULA_TITLE: &str = "=HYPERLINK(\"x\")";

fn register(kiosk: &Mutex<Kiosk>, class: &str, given: &str, family: &str) -> Result<()> {
    kiosk.lock().expect("kiosk").register(&RegistrationForm {
        class_id: class.to_owned(),
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        birth_year: 1950,
        consent: true,
        ..RegistrationForm::default()
    })?;
    Ok(())
}

/// A downloaded file: its bytes and the Content-Disposition header.
struct Download {
    bytes: Vec<u8>,
    disposition: String,
    content_type: String,
}

fn download(office: &Office, path: &str) -> Result<Download> {
    let response = office.get(path)?;
    ensure!(
        response.status().as_u16() == 200,
        "{path}: {}",
        response.status()
    );
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let disposition = header("content-disposition");
    let content_type = header("content-type");
    Ok(Download {
        bytes: response.bytes()?.to_vec(),
        disposition,
        content_type,
    })
}

/// The rows of a CSV file for Polish Excel, checking its form on the way: a UTF-8 BOM,
/// CRLF after every line, `;` between cells (RFC 4180 quotes).
fn csv_rows(file: &Download) -> Result<Vec<Vec<String>>> {
    ensure!(
        file.content_type.starts_with("text/csv"),
        "{}",
        file.content_type
    );
    ensure!(file.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
    let text = std::str::from_utf8(&file.bytes[3..])?;
    ensure!(text.ends_with("\r\n"), "the last line ends in CRLF");
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
    ensure!(
        !rows.is_empty() && rows[0].len() > 1,
        "`;` separates cells: {text:?}"
    );
    Ok(rows)
}

/// The first sheet of an XLSX file, and that it holds no formula.
fn xlsx_rows(file: &Download) -> Result<Vec<Vec<Data>>> {
    ensure!(
        file.content_type.contains("spreadsheetml"),
        "{}",
        file.content_type
    );
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(file.bytes.clone()))?;
    let name = book.sheet_names().first().cloned().context("a sheet")?;
    let formulas = book.worksheet_formula(&name)?;
    ensure!(
        formulas.rows().flatten().all(String::is_empty),
        "no formula in the file"
    );
    let range = book.worksheet_range(&name)?;
    Ok(range.rows().map(<[Data]>::to_vec).collect())
}

fn today() -> String {
    jiff::Zoned::now().date().to_string()
}

fn people_in_order(names: impl Iterator<Item = String>) -> Vec<String> {
    names
        .filter(|n| POLISH_ORDER.contains(&n.as_str()))
        .collect()
}

#[test]
fn exports_are_for_polish_excel_neutralise_formulas_and_list_people_in_polish_order() -> Result<()>
{
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        sync(&a)?;
        add_staff(&data, "org", "organizer", None)?;
        let office = Office::login(&server.url(), "org", PASSWORD)?;

        // A class whose title is a spreadsheet formula, a session, and seats for the kiosk.
        let created = office.post(
            "/office/classes",
            &[
                ("branch", &mal),
                ("title", FORMULA_TITLE),
                ("instructor", "Pani Ewa"),
                ("capacity", "20"),
                ("waitlist_limit", "5"),
            ],
        )?;
        ensure!(created.status().as_u16() == 303, "{}", created.status());
        let class = created
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.strip_prefix("/office/classes/"))
            .context("redirect to the new class")?
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
        ensure!(added.status().as_u16() == 303);
        let kiosk_a = a.lock().expect("kiosk").identity().kiosk_id.to_string();
        let allotted = office.post(
            &format!("/office/classes/{class}/allotments"),
            &[("kiosk", &kiosk_a), ("seats", "15")],
        )?;
        ensure!(allotted.status().as_u16() == 303, "{}", allotted.status());
        sync(&a)?;
        for (given, family) in PEOPLE {
            register(&a, &class, given, family)?;
        }
        // A name starting with "-" passes the kiosk's checks: it must not become a formula.
        register(&a, &class, "Anna", "-Dwa")?;
        let session = a
            .lock()
            .expect("kiosk")
            .store()
            .sessions_on("2026-12-05")?
            .into_iter()
            .find(|s| s.class_id.to_string() == class)
            .context("the session reached the kiosk")?;
        let lis = a
            .lock()
            .expect("kiosk")
            .roll_call(session.id)?
            .entries
            .into_iter()
            .find(|e| e.family_name == "Lis")
            .context("Lis on the roll call")?;
        mark_attendance(
            &a,
            session.id,
            lis.registration_id,
            AttendanceStatus::Present,
        )?;

        // The class page: the roster in Polish order, XLSX links beside the CSV ones.
        let page = office.page(&format!("/office/classes/{class}"))?;
        let shown = people_in_order(
            POLISH_ORDER
                .iter()
                .filter_map(|n| page.find(n).map(|at| (at, (*n).to_owned())))
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_values(),
        );
        ensure!(shown == POLISH_ORDER, "roster page order: {shown:?}");
        ensure!(page.contains(&format!("/office/export/roster/{class}/xlsx")));
        ensure!(page.contains(&format!("/office/export/attendance/{class}/xlsx")));
        ensure!(
            page.contains("5 grudnia 2026, sob."),
            "the session's day in words"
        );
        ensure!(!page.contains("<script>"));
        // The printable list of the session: its day in words, people in Polish order.
        let sessions = data_attrs(&page, "session");
        ensure!(sessions.len() == 1, "{sessions:?}");
        let print = office.page(&format!(
            "/office/classes/{class}/sessions/{}/print",
            sessions[0]
        ))?;
        ensure!(print.contains("5 grudnia 2026, sob."), "the day in words");
        let printed = people_in_order(
            POLISH_ORDER
                .iter()
                .filter_map(|n| print.find(n).map(|at| (at, (*n).to_owned())))
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_values(),
        );
        ensure!(printed == POLISH_ORDER, "print list order: {printed:?}");

        // Roster CSV.
        let roster = download(&office, &format!("/office/export/roster/{class}"))?;
        ensure!(
            roster
                .disposition
                .contains(&format!("filename=\"lista-HYPERLINK-x-{}.csv\"", today())),
            "{}",
            roster.disposition
        );
        ensure!(
            roster.disposition.contains(&format!(
                "filename*=UTF-8''lista-HYPERLINK-x-{}.csv",
                today()
            )),
            "{}",
            roster.disposition
        );
        let rows = csv_rows(&roster)?;
        ensure!(
            rows[0][0] == "zajęcia" && rows[0][1] == "osoba",
            "{:?}",
            rows[0]
        );
        ensure!(rows.len() == 11, "header and ten people: {rows:?}");
        for row in &rows[1..] {
            ensure!(
                row[0] == format!("'{FORMULA_TITLE}"),
                "title neutralised: {row:?}"
            );
            ensure!(row[2] == "potwierdzony", "{row:?}");
        }
        ensure!(
            rows.iter().any(|r| r[1] == "'-Dwa Anna"),
            "a name starting with - is neutralised: {rows:?}"
        );
        let order = people_in_order(rows[1..].iter().map(|r| r[1].clone()));
        ensure!(order == POLISH_ORDER, "roster CSV order: {order:?}");

        // The other formula starts, through the class title.
        for title in ["+1", "-2", "@SUM(A1)"] {
            let edited = office.post(
                &format!("/office/classes/{class}"),
                &[
                    ("title", title),
                    ("capacity", "20"),
                    ("waitlist_limit", "5"),
                ],
            )?;
            ensure!(
                edited.status().as_u16() == 303,
                "{title}: {}",
                edited.status()
            );
            let rows = csv_rows(&download(
                &office,
                &format!("/office/export/roster/{class}"),
            )?)?;
            ensure!(rows[1][0] == format!("'{title}"), "{title}: {:?}", rows[1]);
            let sheet = xlsx_rows(&download(
                &office,
                &format!("/office/export/roster/{class}/xlsx"),
            )?)?;
            ensure!(
                sheet[1][0] == Data::String(title.to_owned()),
                "{title}: {:?}",
                sheet[1]
            );
        }
        let edited = office.post(
            &format!("/office/classes/{class}"),
            &[
                ("title", "Gimnastyka z Łucją"),
                ("capacity", "20"),
                ("waitlist_limit", "5"),
            ],
        )?;
        ensure!(edited.status().as_u16() == 303);
        let renamed = download(&office, &format!("/office/export/roster/{class}"))?;
        ensure!(
            renamed.disposition.contains(&format!(
                "filename=\"lista-Gimnastyka-z-Lucja-{}.csv\"",
                today()
            )),
            "{}",
            renamed.disposition
        );
        ensure!(
            renamed.disposition.contains(&format!(
                "filename*=UTF-8''lista-Gimnastyka-z-%C5%81ucj%C4%85-{}.csv",
                today()
            )),
            "the UTF-8 name keeps the Polish letters: {}",
            renamed.disposition
        );

        // Roster XLSX: a bold header row, names as strings, in Polish order.
        let sheet = xlsx_rows(&download(
            &office,
            &format!("/office/export/roster/{class}/xlsx"),
        )?)?;
        ensure!(
            sheet[0][1] == Data::String("osoba".into()),
            "{:?}",
            sheet[0]
        );
        for row in &sheet[1..] {
            ensure!(
                matches!(row[1], Data::String(_)),
                "names are strings: {row:?}"
            );
            ensure!(
                matches!(row[4], Data::DateTime(_)),
                "registered is a date: {row:?}"
            );
        }
        ensure!(
            sheet
                .iter()
                .any(|r| r[1] == Data::String("-Dwa Anna".into())),
            "in XLSX the name stays as typed, a string"
        );
        let order = people_in_order(sheet[1..].iter().map(|r| r[1].to_string()));
        ensure!(order == POLISH_ORDER, "roster XLSX order: {order:?}");

        // Attendance: every confirmed person for the session, marked or not.
        let attendance = download(&office, &format!("/office/export/attendance/{class}"))?;
        ensure!(
            attendance.disposition.contains(&format!(
                "filename=\"obecnosc-Gimnastyka-z-Lucja-{}.csv\"",
                today()
            )),
            "{}",
            attendance.disposition
        );
        let rows = csv_rows(&attendance)?;
        ensure!(
            rows.len() == 11,
            "header and ten people × one session: {rows:?}"
        );
        ensure!(
            rows.iter()
                .any(|r| r[3] == "Lis Jan" && r[4] == "obecny" && r[1] == "2026-12-05"),
            "{rows:?}"
        );
        ensure!(
            rows.iter().any(|r| r[3] == "Żak Zofia" && r[4].is_empty()),
            "unmarked people are listed with a blank mark: {rows:?}"
        );
        let order = people_in_order(rows[1..].iter().map(|r| r[3].clone()));
        ensure!(order == POLISH_ORDER, "attendance CSV order: {order:?}");
        let sheet = xlsx_rows(&download(
            &office,
            &format!("/office/export/attendance/{class}/xlsx"),
        )?)?;
        ensure!(sheet.len() == 11, "{sheet:?}");
        ensure!(
            matches!(sheet[1][1], Data::DateTime(_)),
            "a date cell: {:?}",
            sheet[1]
        );
        ensure!(matches!(sheet[1][3], Data::String(_)), "{:?}", sheet[1]);

        // Requests: a request by Jan Ślązak, found by name without diacritics and by reference.
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
            given_name: "Jan".into(),
            family_name: "Ślązak".into(),
            birth_year: 1948,
            description: "Proszę o pomoc w domu.".into(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?;
        sync(&a)?;
        let request = intake.request_id.to_string();
        for q in [
            "slazak",
            "ŚLĄZAK",
            "jan slazak",
            "Ślązak Jan",
            &intake.reference,
        ] {
            let page = office.page(&format!("/office/requests?q={}", url(q)))?;
            ensure!(data_attrs(&page, "request") == vec![request.clone()], "{q}");
        }
        ensure!(data_attrs(&office.page("/office/requests?q=kowalski")?, "request").is_empty());
        let detail = office.page(&format!("/office/requests/{request}"))?;
        ensure!(detail.contains("sam/sama"), "the applicant role in words");
        ensure!(!detail.contains("self<"), "no role code");
        let file = download(
            &office,
            &format!("/office/export/requests?q={}", url("slazak")),
        )?;
        ensure!(
            file.disposition
                .contains(&format!("filename=\"wnioski-{}.csv\"", today())),
            "{}",
            file.disposition
        );
        let rows = csv_rows(&file)?;
        ensure!(
            rows.len() == 2 && rows[1][0] == intake.reference,
            "{rows:?}"
        );
        let sheet = xlsx_rows(&download(&office, "/office/export/requests/xlsx")?)?;
        ensure!(
            sheet[1][0] == Data::String(intake.reference.clone()),
            "{sheet:?}"
        );
        ensure!(matches!(sheet[1][3], Data::DateTime(_)), "{:?}", sheet[1]);

        add_staff(&data, "admin", "office_admin", None)?;
        let office = Office::login(&server.url(), "admin", PASSWORD)?;
        // Persons: diacritics and case ignored, given and family names in either order,
        // resident codes and request references, in Polish order.
        for (q, expect) in [
            ("slazak", "Ślązak Jan"),
            ("LUKASIEWICZ", "Łukasiewicz Adam"),
            ("adam lukasiewicz", "Łukasiewicz Adam"),
            ("Łukasiewicz Adam", "Łukasiewicz Adam"),
            ("olga", "Ćwiklińska Olga"),
            (intake.resident_code.as_str(), "Ślązak Jan"),
            (intake.reference.as_str(), "Ślązak Jan"),
        ] {
            let page = office.page(&format!("/office/persons?q={}", url(q)))?;
            ensure!(page.contains(expect), "{q} finds {expect}");
            ensure!(data_attrs(&page, "person").len() == 1, "{q}: only {expect}");
        }
        let page = office.page("/office/persons?q=z")?;
        ensure!(
            data_attrs(&page, "person").is_empty(),
            "two letters at least"
        );
        let everyone = office.page(&format!("/office/persons?q={}", url("a")))?;
        ensure!(data_attrs(&everyone, "person").is_empty());
        // "z" begins Zięba, Źródło, Żak (and the given name Zofia): in Polish order.
        let page = office.page(&format!("/office/persons?q={}", url("zi")))?;
        ensure!(page.contains("Zięba Ala"), "zi finds Zięba");
        let list = office.page(&format!("/office/persons?q={}", url("zo")))?;
        ensure!(list.contains("Żak Zofia"), "a given name is found");

        // An erased person reads as erased, in words, everywhere: no name, no year 0.
        let found = data_attrs(&office.page("/office/persons?q=zak")?, "person");
        ensure!(found.len() == 1, "zak finds Żak: {found:?}");
        let person = &found[0];
        let erased = office.post(
            &format!("/office/persons/{person}/erase"),
            &[("confirm", "yes")],
        )?;
        ensure!(erased.status().as_u16() == 303, "{}", erased.status());
        let page = office.page(&format!("/office/persons/{person}"))?;
        ensure!(
            page.contains("dane usunięte (RODO)"),
            "the person's page says so"
        );
        ensure!(
            !page.contains("Żak") && !page.contains("<td>0</td>"),
            "no name, no year 0"
        );
        let rows = csv_rows(&download(
            &office,
            &format!("/office/export/roster/{class}"),
        )?)?;
        ensure!(
            rows.last().is_some_and(|r| r[1] == "dane usunięte (RODO)"),
            "erased last on the roster: {rows:?}"
        );
        ensure!(!rows.iter().any(|r| r[1].contains("Żak")), "{rows:?}");
        let en = office.get("/office/lang/en")?;
        ensure!(en.status().is_success() || en.status().is_redirection());
        let page = office.page(&format!("/office/persons/{person}"))?;
        ensure!(page.contains("data erased (GDPR)"), "in English too");

        // XSS through the search boxes comes back escaped.
        for payload in [
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
        ] {
            for path in ["/office/persons?q=", "/office/requests?q="] {
                let page = office.page(&format!("{path}{}", url(payload)))?;
                ensure!(!page.contains(payload), "{path}: escaped");
            }
        }
        Ok(())
    })
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
