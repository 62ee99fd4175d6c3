//! HTTPS served by `blisko-server serve --tls-cert --tls-key`, with certificates made here
//! (rcgen): a kiosk enrolled with the office's CA (`enroll --ca-cert`) syncs over https
//! with the real `blisko-kiosk` process; a kiosk that does not trust the server's
//! certificate refuses it and sends nothing (the server never sees a request); the office
//! log-in page answers over https with a Secure cookie; the server stops gracefully.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result, bail, ensure};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use serde_json::Value;

use blisko_tests::harness::{
    ServerProcess, branch_id, kiosk_code, open_kiosk, server_roster, sync,
};
use blisko_tests::kiosk_cli::kiosk_command;
use blisko_tests::ui::{
    TestClock, enroll_through_screens, harness_on, harness_with, has_text, options_on, wait_until,
};

/// A certificate authority made for one test, and where its certificate is written.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pem: PathBuf,
}

impl TestCa {
    fn new(dir: &Path, name: &str) -> Result<TestCa> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        let pem = dir.join(format!("{name}.pem"));
        std::fs::write(&pem, issuer.pem())?;
        Ok(TestCa { issuer, pem })
    }

    /// A server certificate for loopback, and its key: (certificate, key) files.
    fn server_cert(&self, dir: &Path, name: &str) -> Result<(PathBuf, PathBuf)> {
        let key = KeyPair::generate()?;
        let params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])?;
        let cert = params.signed_by(&key, &self.issuer)?;
        let (cert_file, key_file) = (
            dir.join(format!("{name}.crt")),
            dir.join(format!("{name}.key")),
        );
        std::fs::write(&cert_file, cert.pem())?;
        std::fs::write(&key_file, key.serialize_pem())?;
        Ok((cert_file, key_file))
    }
}

fn serve_tls(data: &Path, listen: SocketAddr, cert: &Path, key: &Path) -> Result<ServerProcess> {
    let server = ServerProcess::start_with(
        data,
        listen,
        true,
        &[
            "--tls-cert".as_ref(),
            cert.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
        ],
    )?;
    ensure!(server.url().starts_with("https://"), "{}", server.url());
    Ok(server)
}

/// The office's CA, and a demo server in `<tmp>/server` serving https with a certificate
/// it signed.
fn office_ca_and_server(tmp: &Path) -> Result<(TestCa, ServerProcess)> {
    let ca = TestCa::new(tmp, "office-ca")?;
    let (cert, key) = ca.server_cert(tmp, "server")?;
    let server = serve_tls(&tmp.join("server"), "127.0.0.1:0".parse()?, &cert, &key)?;
    Ok((ca, server))
}

/// `blisko-kiosk --data DIR --json ARGS`: exit code, and the JSON it printed (standard
/// output on success, the error on standard error).
fn kiosk_cli(dir: &Path, args: &[&str]) -> Result<(i32, Value)> {
    let output = kiosk_command(dir)
        .args(["--json", "--lang", "en"])
        .args(args)
        .env("BLISKO_LOG", "warn")
        .output()
        .context("run blisko-kiosk")?;
    let code = output.status.code().unwrap_or(-1);
    let text = if output.status.success() {
        &output.stdout
    } else {
        &output.stderr
    };
    // The JSON is the last line (a log line may come before it on standard error).
    let text = text
        .split(|b| *b == b'\n')
        .rfind(|line| !line.is_empty())
        .unwrap_or_default();
    let json = serde_json::from_slice(text).with_context(|| {
        format!(
            "blisko-kiosk {args:?} printed no JSON: {}",
            String::from_utf8_lossy(text)
        )
    })?;
    Ok((code, json))
}

/// Whether the server still has the kiosk waiting for enrollment (its code unused).
fn enrolled(server: &ServerProcess) -> Result<Vec<bool>> {
    let kiosks = server.admin(&["kiosk", "list"])?;
    kiosks
        .as_array()
        .context("kiosk list")?
        .iter()
        .map(|k| k["enrolled"].as_bool().context("enrolled"))
        .collect()
}

fn register(dir: &Path, class: &str, given: &str) -> Result<String> {
    let (code, receipt) = kiosk_cli(
        dir,
        &[
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
        ],
    )?;
    ensure!(code == 0, "register failed: {receipt}");
    Ok(receipt["registration_id"]
        .as_str()
        .context("registration_id")?
        .to_owned())
}

#[test]
fn a_kiosk_enrolls_and_syncs_over_https_and_the_office_answers() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let (ca, mut server) = office_ca_and_server(tmp.path())?;
    let mal = branch_id(&server.data, "MAL")?;
    let code = kiosk_code(&server, &mal)?;

    // Enrollment and the first sync, over https, trusting the office's CA.
    let dir = tmp.path().join("kiosk");
    let ca_pem = ca.pem.to_str().context("path")?;
    let (status, enrolled) = kiosk_cli(
        &dir,
        &[
            "enroll",
            "--server",
            &server.url(),
            "--code",
            &code,
            "--ca-cert",
            ca_pem,
        ],
    )?;
    ensure!(status == 0, "enroll failed: {enrolled}");
    ensure!(enrolled["sync"]["ok"].is_object(), "first sync: {enrolled}");

    // A registration goes up with a later sync, which uses the CA kept in the store.
    let (_, classes) = kiosk_cli(&dir, &["classes"])?;
    let class = classes[0]["id"].as_str().context("a class")?.to_owned();
    let registration = register(&dir, &class, "Anna")?;
    let (status, report) = kiosk_cli(&dir, &["sync"])?;
    ensure!(status == 0, "sync failed: {report}");
    assert_eq!(report["pending_changes"], 0);
    assert!(server_roster(&server, &class)?.contains_key(&registration));
    // The touch app's background sync builds its client the same way.
    sync(&Mutex::new(open_kiosk(&dir)?))?;

    // The office log-in page over https, its cookie marked Secure.
    blisko_kiosk::sync::install_tls_provider();
    let ca_cert = reqwest::Certificate::from_pem(&std::fs::read(&ca.pem)?)?;
    let browser = reqwest::blocking::Client::builder()
        .tls_certs_only([ca_cert])
        .build()?;
    let page = browser
        .get(format!("{}/office/login", server.url()))
        .header("accept-language", "pl")
        .send()?;
    assert_eq!(page.status(), 200);
    let cookie = page
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .context("the log-in form sets its CSRF cookie")?
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(page.text()?.contains("Logowanie"));

    // SIGTERM: the TLS server stops gracefully too.
    server.stop()
}

#[test]
fn a_kiosk_refuses_a_server_it_does_not_trust_and_sends_nothing() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let office = TestCa::new(tmp.path(), "office-ca")?;
    let stranger = TestCa::new(tmp.path(), "other-ca")?;
    let (cert, key) = office.server_cert(tmp.path(), "server")?;
    let data = tmp.path().join("server");
    let mut server = serve_tls(&data, "127.0.0.1:0".parse()?, &cert, &key)?;
    let mal = branch_id(&data, "MAL")?;
    let code = kiosk_code(&server, &mal)?;
    let url = server.url();
    let audit_before = server.admin(&["audit"])?;

    // Trusting another CA, or the system's roots only: refused with a clear error before
    // any request; the code stays unused, nothing is audited, nothing is set up here.
    let dir = tmp.path().join("kiosk");
    let other_pem = stranger.pem.to_str().context("path")?;
    for trust in [vec!["--ca-cert", other_pem], vec![]] {
        let mut args = vec!["enroll", "--server", &url, "--code", &code];
        args.extend(trust);
        let (status, error) = kiosk_cli(&dir, &args)?;
        ensure!(status != 0, "enrolled with an untrusted server: {error}");
        assert_eq!(error["error"]["code"], "untrusted_server", "{error}");
        let message = error["error"]["message"].as_str().context("message")?;
        assert!(message.contains("not trusted"), "{message}");
        assert_eq!(enrolled(&server)?, [false]);
        assert_eq!(server.admin(&["audit"])?, audit_before);
        let (_, status) = kiosk_cli(&dir, &["status"])?;
        assert_eq!(status["error"]["code"], "not_set_up", "{status}");
    }

    // The same code works with the right CA: it was never used.
    let office_pem = office.pem.to_str().context("path")?;
    let (status, enrolled_now) = kiosk_cli(
        &dir,
        &[
            "enroll",
            "--server",
            &url,
            "--code",
            &code,
            "--ca-cert",
            office_pem,
        ],
    )?;
    ensure!(status == 0, "enroll failed: {enrolled_now}");

    // The server comes back with a certificate of another CA (a stand-in, say): the
    // enrolled kiosk refuses it and its registration stays at the kiosk, unsent.
    let (_, classes) = kiosk_cli(&dir, &["classes"])?;
    let class = classes[0]["id"].as_str().context("a class")?.to_owned();
    let addr = server.addr;
    server.stop()?;
    let (cert, key) = stranger.server_cert(tmp.path(), "impostor")?;
    let server = serve_tls(&data, addr, &cert, &key)?;
    let roster_before = server_roster(&server, &class)?;
    register(&dir, &class, "Ewa")?;
    let (status, error) = kiosk_cli(&dir, &["sync"])?;
    if status == 0 {
        bail!("synced with an untrusted server: {error}");
    }
    assert_eq!(error["error"]["code"], "untrusted_server", "{error}");
    assert_eq!(server_roster(&server, &class)?, roster_before);
    let (_, status) = kiosk_cli(&dir, &["status"])?;
    assert!(status["pending_changes"].as_u64() > Some(0), "{status}");
    Ok(())
}

/// The touch app enrolled from its set-up screens with `--ca-cert`: it trusts the
/// office's CA for the https server, and its background sync brings the catalogue.
#[test]
fn the_touch_app_enrolls_over_https_with_the_offices_ca() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let (ca, server) = office_ca_and_server(tmp.path())?;
    let mal = branch_id(&server.data, "MAL")?;
    let clock = TestClock::monday();
    let dir = tmp.path().join("kiosk");

    // Without the CA, the server's certificate is not trusted: nothing is set up.
    let mut h = harness_on(&dir, &clock);
    enroll_through_screens(&mut h, &server.url(), &kiosk_code(&server, &mal)?);
    ensure!(
        h.state().kiosk().is_none(),
        "enrolled with an untrusted server"
    );
    ensure!(has_text(&h, "certyfikat") || has_text(&h, "Certyfikat"));
    drop(h);

    let mut options = options_on(&dir, &clock);
    options.server_ca = Some(std::fs::read_to_string(&ca.pem)?);
    let mut h = harness_with(options);
    enroll_through_screens(&mut h, &server.url(), &kiosk_code(&server, &mal)?);
    wait_until(&mut h, "the catalogue over https", |h| {
        h.state().kiosk().is_some_and(|k| {
            k.lock()
                .ok()
                .and_then(|k| k.classes().ok())
                .is_some_and(|c| !c.is_empty())
        })
    });
    Ok(())
}
