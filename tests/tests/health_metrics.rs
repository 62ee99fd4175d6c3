//! Health, metrics and the request log of a real `blisko-server` on loopback: `/health`
//! answers 200 while both database files answer and 503 when one is gone; `/metrics` is
//! Prometheus text whose counters move with real syncs and log-ins; every request leaves
//! one log line with its id and its route, never a query string or a person's data.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};

use blisko_kiosk::kiosk::RegistrationForm;
use blisko_sync_server::store::{DB_FILE, PERSONAL_DB_FILE};
use blisko_tests::harness::{
    ServerProcess, branch_id, enroll_kiosk, letters, set_class_seats, sync,
};
use blisko_tests::office::{Office, PASSWORD, add_staff, client};

/// One sample: its metric name, its labels, its value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A page of the Prometheus text format (0.0.4), read strictly: every line is a comment
/// (`# HELP`, `# TYPE`) or a sample; every sample belongs to a family declared by a
/// `# TYPE` line before it (histograms through `_bucket`, `_sum`, `_count`); labels are
/// `name="value"` with the format's escapes; values are numbers.
struct Page {
    types: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

impl Page {
    fn parse(text: &str) -> Result<Page> {
        ensure!(text.ends_with('\n'), "the page ends with a newline");
        let mut types = BTreeMap::new();
        let mut samples = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let n = n + 1;
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix("# ") {
                let mut parts = comment.splitn(3, ' ');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some("TYPE"), Some(name), Some(kind)) => {
                        ensure!(valid_name(name), "line {n}: bad metric name {name:?}");
                        ensure!(
                            ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                            "line {n}: unknown type {kind:?}"
                        );
                        ensure!(
                            types.insert(name.to_owned(), kind.to_owned()).is_none(),
                            "line {n}: {name} typed twice"
                        );
                    }
                    (Some("HELP"), Some(name), _) => {
                        ensure!(valid_name(name), "line {n}: bad metric name {name:?}");
                    }
                    _ => {}
                }
                continue;
            }
            ensure!(
                !line.starts_with('#'),
                "line {n}: a comment without a space"
            );
            let sample = parse_sample(line).with_context(|| format!("line {n}: {line:?}"))?;
            let family = family_of(&types, &sample.name)
                .with_context(|| format!("line {n}: {} has no # TYPE before it", sample.name))?;
            if types[family] == "histogram" && sample.name.ends_with("_bucket") {
                ensure!(
                    sample.labels.contains_key("le"),
                    "line {n}: a bucket without le"
                );
            }
            samples.push(sample);
        }
        Ok(Page { types, samples })
    }

    /// The value of the sample with this name and exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Result<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
            .with_context(|| format!("no sample {name} {labels:?}"))
    }

    /// The value, or 0 when the sample is not on the page yet (a label set not seen).
    fn value_or_zero(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(name, labels).unwrap_or(0.0)
    }

    fn kind(&self, name: &str) -> Option<&str> {
        self.types.get(name).map(String::as_str)
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn family_of<'a>(types: &'a BTreeMap<String, String>, name: &str) -> Option<&'a String> {
    if let Some((family, _)) = types.get_key_value(name) {
        return Some(family);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let (family, kind) = types.get_key_value(name.strip_suffix(suffix)?)?;
        (kind == "histogram" || kind == "summary").then_some(family)
    })
}

fn parse_sample(line: &str) -> Result<Sample> {
    let name_end = line.find(['{', ' ']).context("a sample has a value")?;
    let name = &line[..name_end];
    ensure!(valid_name(name), "bad metric name {name:?}");
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        loop {
            // A label name up to '=', or the closing brace.
            let start = chars.peek().map(|(i, _)| *i).context("unclosed labels")?;
            if inner[start..].starts_with('}') {
                rest = &inner[start + 1..];
                break;
            }
            let eq = inner[start..].find('=').context("a label without '='")? + start;
            let label = &inner[start..eq];
            ensure!(valid_name(label), "bad label name {label:?}");
            ensure!(inner[eq + 1..].starts_with('"'), "a label value is quoted");
            while chars.peek().is_some_and(|(i, _)| *i <= eq + 1) {
                chars.next();
            }
            let mut value = String::new();
            loop {
                match chars.next().context("unclosed label value")? {
                    (_, '\\') => match chars.next().context("a lone backslash")? {
                        (_, 'n') => value.push('\n'),
                        (_, '\\') => value.push('\\'),
                        (_, '"') => value.push('"'),
                        (_, other) => bail!("unknown escape \\{other}"),
                    },
                    (_, '"') => break,
                    (_, c) => value.push(c),
                }
            }
            ensure!(
                labels.insert(label.to_owned(), value).is_none(),
                "label {label} twice"
            );
            if chars.peek().is_some_and(|(_, c)| *c == ',') {
                chars.next();
            }
        }
    }
    let mut fields = rest.split_whitespace();
    let value = fields.next().context("a sample has a value")?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v
            .parse()
            .with_context(|| format!("value {v:?} is a number"))?,
    };
    if let Some(timestamp) = fields.next() {
        timestamp
            .parse::<i64>()
            .with_context(|| format!("timestamp {timestamp:?}"))?;
    }
    ensure!(fields.next().is_none(), "nothing after the timestamp");
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

fn get(url: &str) -> Result<reqwest::blocking::Response> {
    Ok(client()?.get(url).send()?)
}

fn scrape(server: &ServerProcess) -> Result<Page> {
    let response = get(&format!("{}/metrics", server.url()))?;
    ensure!(
        response.status().is_success(),
        "/metrics answers {}",
        response.status()
    );
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    ensure!(
        kind.starts_with("text/plain") && kind.contains("version=0.0.4"),
        "the text format's content type, not {kind:?}"
    );
    Page::parse(&response.text()?)
}

fn health(server: &ServerProcess) -> Result<(u16, String)> {
    let response = get(&format!("{}/health", server.url()))?;
    Ok((response.status().as_u16(), response.text()?))
}

/// Move a database file (with its write-ahead log and shared memory) out of the data
/// folder, or back.
fn move_file(data: &Path, file: &str, from_suffix: &str, to_suffix: &str) -> Result<()> {
    for extra in ["", "-wal", "-shm"] {
        let from = data.join(format!("{file}{extra}{from_suffix}"));
        if from.exists() {
            std::fs::rename(&from, data.join(format!("{file}{extra}{to_suffix}")))
                .with_context(|| format!("move {}", from.display()))?;
        }
    }
    Ok(())
}

#[test]
fn health_answers_503_while_a_database_file_is_gone() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start(&data, true)?;
    assert_eq!(health(&server)?, (200, "ok".to_owned()));
    for file in [DB_FILE, PERSONAL_DB_FILE] {
        // The server holds the file open, so its own connection would go on reading the
        // moved file; a restart would not find it.
        move_file(&data, file, "", ".moved")?;
        let (status, body) = health(&server)?;
        assert_eq!(status, 503, "{file} gone: {body}");
        ensure!(
            !body.contains(&data.display().to_string()),
            "the answer names no path"
        );
        move_file(&data, file, ".moved", "")?;
        assert_eq!(health(&server)?, (200, "ok".to_owned()), "{file} back");
    }
    Ok(())
}

#[test]
fn metrics_are_prometheus_text_and_move_with_syncs_and_log_ins() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start(&data, true)?;
    let before = scrape(&server)?;
    for (name, kind) in [
        ("blisko_syncs_total", "counter"),
        ("blisko_sync_duration_seconds", "histogram"),
        ("blisko_sync_request_bytes_total", "counter"),
        ("blisko_sync_response_bytes_total", "counter"),
        ("blisko_office_logins_total", "counter"),
        ("blisko_kiosks_enrolled", "gauge"),
        ("blisko_kiosks_by_last_sync", "gauge"),
        ("blisko_compensation_tasks_open", "gauge"),
        ("blisko_store_bytes", "gauge"),
    ] {
        assert_eq!(before.kind(name), Some(kind), "{name} is a {kind}");
    }
    assert_eq!(before.value("blisko_kiosks_enrolled", &[])?, 0.0);
    assert_eq!(before.value("blisko_compensation_tasks_open", &[])?, 0.0);
    for file in ["server", "personal"] {
        ensure!(
            before.value("blisko_store_bytes", &[("file", file)])? > 0.0,
            "the {file} file has a size"
        );
    }

    // A kiosk enrolls and syncs.
    let mal = branch_id(&data, "MAL")?;
    let kiosk = enroll_kiosk(&server, &mal, &tmp.path().join("k"))?;
    let enrolled = scrape(&server)?;
    assert_eq!(enrolled.value("blisko_kiosks_enrolled", &[])?, 1.0);
    sync(&kiosk)?;
    let synced = scrape(&server)?;
    let ok = [("result", "ok"), ("code", "none")];
    ensure!(
        synced.value("blisko_syncs_total", &ok)? >= before.value("blisko_syncs_total", &ok)? + 1.0,
        "the sync is counted"
    );
    ensure!(
        synced.value("blisko_sync_duration_seconds_count", &[])?
            >= before.value("blisko_sync_duration_seconds_count", &[])? + 1.0,
        "its time is in the histogram"
    );
    let inf = [("le", "+Inf")];
    assert_eq!(
        synced.value("blisko_sync_duration_seconds_bucket", &inf)?,
        synced.value("blisko_sync_duration_seconds_count", &[])?,
        "the +Inf bucket holds every round"
    );
    for counter in [
        "blisko_sync_request_bytes_total",
        "blisko_sync_response_bytes_total",
    ] {
        ensure!(
            synced.value(counter, &[])? > before.value(counter, &[])?,
            "{counter} grew"
        );
    }
    assert_eq!(
        synced.value("blisko_kiosks_by_last_sync", &[("age", "under_5m")])?,
        1.0,
        "the kiosk just synced"
    );
    let ages: f64 = ["under_5m", "under_1h", "under_1d", "older", "never"]
        .iter()
        .map(|age| synced.value("blisko_kiosks_by_last_sync", &[("age", age)]))
        .sum::<Result<f64>>()?;
    assert_eq!(ages, 1.0, "every enrolled kiosk is in one bucket");

    // A sync with a made-up credential is refused, and counted by its code.
    let refused = [("result", "refused"), ("code", "unauthorized")];
    let answer = client()?
        .post(format!("{}/api/v1/sync", server.url()))
        .header(
            blisko_shared::sync::PROTOCOL_HEADER,
            blisko_shared::sync::PROTOCOL_VERSION.to_string(),
        )
        .bearer_auth("made-up-credential")
        .body(Vec::new())
        .send()?;
    assert_eq!(answer.status().as_u16(), 401);
    let after_refusal = scrape(&server)?;
    assert_eq!(
        after_refusal.value("blisko_syncs_total", &refused)?,
        synced.value_or_zero("blisko_syncs_total", &refused) + 1.0
    );

    // A wrong office password, then a right one.
    add_staff(&data, "ala", "office_admin", None)?;
    let mut visitor = Office::anonymous(&server.url())?;
    assert_eq!(
        visitor
            .try_login("ala", "not-the-password")?
            .status()
            .as_u16(),
        401
    );
    let refused_login = scrape(&server)?;
    let logins =
        |page: &Page, result: &str| page.value("blisko_office_logins_total", &[("result", result)]);
    assert_eq!(
        logins(&refused_login, "refused")?,
        logins(&before, "refused")? + 1.0
    );
    assert_eq!(logins(&refused_login, "ok")?, logins(&before, "ok")?);
    Office::login(&server.url(), "ala", PASSWORD)?;
    let logged_in = scrape(&server)?;
    assert_eq!(logins(&logged_in, "ok")?, logins(&before, "ok")? + 1.0);

    // Nothing on the page names a kiosk, a branch or a person.
    let page = get(&format!("{}/metrics", server.url()))?.text()?;
    let kiosk_id = kiosk
        .lock()
        .map_err(|_| anyhow::anyhow!("kiosk lock"))?
        .status()?
        .kiosk_id
        .to_string();
    for secret in [kiosk_id.as_str(), mal.as_str()] {
        ensure!(!page.contains(secret), "the page names {secret:?}");
    }
    Ok(())
}

#[test]
fn metrics_count_the_open_compensation_tasks() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start(&data, true)?;
    let mal = branch_id(&data, "MAL")?;
    let kiosk = enroll_kiosk(&server, &mal, &tmp.path().join("k"))?;
    sync(&kiosk)?;
    let class = kiosk
        .lock()
        .map_err(|_| anyhow::anyhow!("kiosk lock"))?
        .classes()?
        .first()
        .context("a demo class")?
        .id
        .to_string();
    set_class_seats(&server, "MAL", &class, 5, 5, tmp.path())?;
    sync(&kiosk)?;
    for i in 0..5 {
        let form = RegistrationForm {
            class_id: class.clone(),
            given_name: format!("Osoba {}", letters(i)),
            family_name: "Testowa".into(),
            birth_year: 1950,
            consent: true,
            ..RegistrationForm::default()
        };
        blisko_kiosk::sync::register(&kiosk, &form)?;
    }
    assert_eq!(
        scrape(&server)?.value("blisko_compensation_tasks_open", &[])?,
        0.0
    );
    // Two seats fewer than confirmed: the two newest are to be called.
    set_class_seats(&server, "MAL", &class, 3, 5, tmp.path())?;
    let tasks = server.admin(&["compensation"])?;
    let listed = tasks.as_array().context("compensation is an array")?.len();
    assert_eq!(listed, 2);
    assert_eq!(
        scrape(&server)?.value("blisko_compensation_tasks_open", &[])?,
        listed as f64
    );
    Ok(())
}

#[test]
fn each_request_is_logged_once_with_its_id_and_route_only() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let log = tmp.path().join("server.log");
    let mut server = ServerProcess::start_logged(&data, true, &log)?;
    let client = client()?;
    let id_of = |response: &reqwest::blocking::Response| -> Result<String> {
        Ok(response
            .headers()
            .get("x-request-id")
            .context("the answer carries x-request-id")?
            .to_str()?
            .to_owned())
    };
    // A search for a resident by name, a person's page, a set-up token in the path.
    let search = client
        .get(format!("{}/office/persons?q=Kowalska", server.url()))
        .send()?;
    let person = client
        .get(format!(
            "{}/office/persons/0190d6a2-7c3e-7000-8000-00000000beef?name=Jan+Nowak",
            server.url()
        ))
        .send()?;
    let setup = client
        .get(format!("{}/office/setup/TAJNYTOKEN123", server.url()))
        .send()?;
    // A proxy's plain id is kept; text that is no id is replaced.
    let proxied = client
        .get(format!("{}/health", server.url()))
        .header("x-request-id", "proxy-7f3a.1")
        .send()?;
    let odd = client
        .get(format!("{}/health", server.url()))
        .header("x-request-id", "Jan Kowalski")
        .send()?;
    let ids = [
        (id_of(&search)?, "/office/persons"),
        (id_of(&person)?, "/office/persons/{id}"),
        (id_of(&setup)?, "/office/setup/{token}"),
        (id_of(&proxied)?, "/health"),
        (id_of(&odd)?, "/health"),
    ];
    assert_eq!(ids[3].0, "proxy-7f3a.1");
    ensure!(ids[4].0 != "Jan Kowalski", "an odd id is replaced");
    server.stop()?;

    let text = std::fs::read_to_string(&log)?;
    for (id, route) in &ids {
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(&format!("id={id} ")))
            .collect();
        assert_eq!(lines.len(), 1, "one line for request {id}:\n{text}");
        let line = lines[0];
        for part in [" INFO ", &format!("route={route}}}"), "status=", "latency="] {
            ensure!(line.contains(part), "{part:?} in {line:?}");
        }
    }
    for secret in [
        "Kowalsk",
        "Nowak",
        "?q",
        "?name",
        "00000000beef",
        "TAJNYTOKEN",
        "\u{1b}[",
    ] {
        ensure!(!text.contains(secret), "{secret:?} in the log:\n{text}");
    }
    Ok(())
}
