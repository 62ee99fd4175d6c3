//! The receipt and its printed slip, through a real CUPS: a private `cupsd` in a temp
//! folder (its own cupsd.conf and cups-files.conf, listening on a socket there, run in the
//! foreground as this test's child and killed at the end) with a raw queue that writes to
//! a file. The app, started with `printer` set, prints with `lp` when "Wydrukuj" is tapped
//! (pointed at the private scheduler by `CUPS_SERVER`), and the file is read back.
//!
//! cupsd needs root to start its scheduler (it changes to the `lp` user for filters and
//! owns its spool); CI runs as root. As another user the test says so and stops.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use blisko_kiosk::Kiosk;
use blisko_kiosk::app::text::{long_date, time_span};
use blisko_kiosk::app::{KioskApp, Screen};
use blisko_kiosk::kiosk::slip::PaperWidth;
use blisko_shared::i18n::Lang;
use blisko_tests::harness::setup_key;
use blisko_tests::ui::{
    TestClock, harness_with, has_text, options_on, screen_name, tap, tap_containing, tick,
    type_into,
};

/// A receipt printer's description for CUPS: plain text in, the same bytes out.
const SLIP_PPD: &str = r#"*PPD-Adobe: "4.3"
*FormatVersion: "4.3"
*FileVersion: "1.0"
*LanguageVersion: English
*LanguageEncoding: ISOLatin1
*PCFileName: "SLIP.PPD"
*Manufacturer: "Blisko"
*Product: "(Slip)"
*ModelName: "Blisko receipt slip"
*ShortNickName: "Blisko slip"
*NickName: "Blisko receipt slip"
*PSVersion: "(3010.000) 0"
*LanguageLevel: "3"
*ColorDevice: False
*DefaultColorSpace: Gray
*FileSystem: False
*Throughput: "1"
*cupsFilter: "text/plain 0 gziptoany"
*OpenUI *PageSize/Media Size: PickOne
*OrderDependency: 10 AnySetup *PageSize
*DefaultPageSize: Slip
*PageSize Slip/Slip: ""
*CloseUI: *PageSize
*DefaultImageableArea: Slip
*ImageableArea Slip/Slip: "0 0 164 800"
*DefaultPaperDimension: Slip
*PaperDimension Slip/Slip: "164 800"
"#;

/// A private CUPS scheduler and one file-backed queue, `slip`.
struct Cups {
    child: Child,
    dir: tempfile::TempDir,
}

impl Cups {
    fn socket(&self) -> PathBuf {
        self.dir.path().join("cups.sock")
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("printed.txt")
    }

    fn start() -> Result<Cups> {
        let dir = tempfile::Builder::new().prefix("cups").tempdir_in("/tmp")?;
        let d = dir.path();
        for sub in ["spool", "tmp", "cache", "state", "log", "root"] {
            std::fs::create_dir_all(d.join(sub))?;
        }
        std::fs::write(
            d.join("cups-files.conf"),
            format!(
                "FileDevice Yes\nServerRoot {d}/root\nRequestRoot {d}/spool\nTempDir {d}/tmp\n\
                 CacheDir {d}/cache\nStateDir {d}/state\nErrorLog {d}/log/error_log\n\
                 AccessLog {d}/log/access_log\nPageLog {d}/log/page_log\n\
                 ServerBin /usr/lib/cups\nDataDir /usr/share/cups\nSandboxing Relaxed\n",
                d = d.display()
            ),
        )?;
        std::fs::write(
            d.join("cupsd.conf"),
            format!(
                "Listen {}\nLogLevel info\nMaxLogSize 0\nBrowsing Off\nWebInterface No\nDefaultAuthType None\n\
                 <Location />\n  Order allow,deny\n  Allow all\n</Location>\n\
                 <Location /admin>\n  Order allow,deny\n  Allow all\n</Location>\n\
                 <Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n",
                d.join("cups.sock").display()
            ),
        )?;
        let child = Command::new("cupsd")
            .arg("-f")
            .arg("-c")
            .arg(d.join("cupsd.conf"))
            .arg("-s")
            .arg(d.join("cups-files.conf"))
            .stdin(Stdio::null())
            .spawn()
            .context("start cupsd (Debian package cups)")?;
        let cups = Cups { child, dir };
        cups.wait_until_running()?;
        // A raw queue ("-m raw") to a file: device completes its jobs without writing
        // anything in CUPS 2.4: nothing runs between the spool and the file. A PPD whose
        // one filter passes text through (gziptoany copies what is not compressed) makes
        // the scheduler write the job to the file unchanged.
        let ppd = cups.dir.path().join("slip.ppd");
        std::fs::write(&ppd, SLIP_PPD)?;
        let uri = format!("file://{}", cups.out().display());
        let ppd = ppd.display().to_string();
        cups.run("lpadmin", &["-p", "slip", "-E", "-v", &uri, "-P", &ppd])?;
        Ok(cups)
    }

    /// Run a CUPS client against this scheduler.
    fn run(&self, program: &str, args: &[&str]) -> Result<String> {
        let out = Command::new(program)
            .args(args)
            .env("CUPS_SERVER", self.socket())
            .output()
            .with_context(|| format!("run {program} (Debian package cups-client)"))?;
        ensure!(
            out.status.success(),
            "{program} {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/error_log")).unwrap_or_default()
    }

    fn wait_until_running(&self) -> Result<()> {
        for _ in 0..400 {
            if self.socket().exists() && self.run("lpstat", &["-r"]).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("cupsd did not start:\n{}", self.log())
    }

    /// What the queue printed, once every job is done.
    fn printed(&self, expect: &str) -> Result<String> {
        for _ in 0..600 {
            let done = self
                .run("lpstat", &["-o", "slip"])
                .is_ok_and(|jobs| jobs.trim().is_empty());
            let text = std::fs::read_to_string(self.out()).unwrap_or_default();
            if done && text.contains(expect) {
                return Ok(text);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "nothing with {expect:?} was printed; the file holds {:?}\n{}",
            std::fs::read_to_string(self.out()).unwrap_or_default(),
            self.log()
        )
    }

    fn forget_printed(&self) -> Result<()> {
        if self.out().exists() {
            std::fs::write(self.out(), "")?;
        }
        Ok(())
    }
}

impl Drop for Cups {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A demo kiosk of MAL and the app on it, printing to `printer` on `paper`.
fn app_printing(
    data: &Path,
    printer: Option<&str>,
    paper: PaperWidth,
) -> (TestClock, Harness<'static, KioskApp>) {
    let clock = TestClock::monday();
    if !data.join(blisko_kiosk::store::DB_FILE).exists() {
        let key = setup_key(data).expect("key");
        Kiosk::setup_demo(data, "MAL", &key, clock.wall()).expect("demo kiosk");
    }
    let mut options = options_on(data, &clock);
    options.printer = printer.map(str::to_owned);
    options.slip_width = paper;
    (clock, harness_with(options))
}

fn register_for_pilates(h: &mut Harness<'_, KioskApp>) {
    tap(h, "Zapisy na zajęcia");
    tap_containing(h, "Pilates");
    type_into(h, "Imię", "Grażyna");
    type_into(h, "Nazwisko", "Żółć");
    type_into(h, "Rok urodzenia", "1948");
    tap(h, "Dalej");
    tick(h, "Potwierdzam zapoznanie się z informacją");
    tap(h, "Zapisz mnie");
}

#[test]
fn the_receipt_names_the_next_session_and_prints_it_on_a_receipt_printer() -> Result<()> {
    let tmp = tempfile::tempdir()?;

    // Without a printer: the receipt shows the session and the code, and no print button.
    let (_clock, mut h) = app_printing(&tmp.path().join("plain"), None, PaperWidth::Mm80);
    register_for_pilates(&mut h);
    let Screen::Registered { receipt } = h.state().screen() else {
        bail!("not on the receipt: {}", screen_name(h.state().screen()));
    };
    let session = receipt.next_session.clone().context("a next session")?;
    let date = long_date(&session.date, Lang::Pl);
    let time = time_span(&session.start, session.minutes);
    ensure!(
        date.starts_with("środa, "),
        "Pilates is on Wednesdays: {date}"
    );
    ensure!(time == "18:00–19:00", "{time}");
    for text in [
        format!("Data: {date}"),
        format!("Godzina: {time}"),
        "Sala: sala ruchowa".to_owned(),
        receipt.resident_code.clone(),
    ] {
        ensure!(has_text(&h, &text), "the receipt does not show {text:?}");
    }
    ensure!(
        h.query_by_role_and_label(eframe::egui::Role::Button, "Wydrukuj")
            .is_none(),
        "a print button without a printer"
    );
    drop(h);

    if !is_root() {
        eprintln!(
            "skipping the CUPS part: cupsd starts its scheduler only as root (CI runs as root)"
        );
        return Ok(());
    }
    let cups = Cups::start()?;
    // SAFETY: the only test in this binary; set before the app starts, and read by the
    // `lp` it runs.
    unsafe { std::env::set_var("CUPS_SERVER", cups.socket()) };

    // A 58 mm printer: the slip holds the class, the date, the time, the room and the
    // code, in lines that fit the paper.
    let (_clock, mut h) = app_printing(&tmp.path().join("k"), Some("slip"), PaperWidth::Mm58);
    register_for_pilates(&mut h);
    let Screen::Registered { receipt } = h.state().screen() else {
        bail!("not on the receipt: {}", screen_name(h.state().screen()));
    };
    let receipt = receipt.clone();
    let session = receipt.next_session.clone().context("a next session")?;
    tap(&mut h, "Wydrukuj");
    ensure!(
        has_text(&h, "Potwierdzenie zostało wydrukowane."),
        "{:?}",
        h.state().notice()
    );
    let spaced: String = receipt
        .resident_code
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ");
    let printed = cups.printed(&spaced)?;
    let flat = printed.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "Potwierdzenie zapisu".to_owned(),
        "Pilates".to_owned(),
        format!("Data: {}", long_date(&session.date, Lang::Pl)),
        format!("Godzina: {}", time_span(&session.start, session.minutes)),
        "Sala: sala ruchowa".to_owned(),
        "Kod mieszkańca:".to_owned(),
        spaced.clone(),
    ] {
        ensure!(
            flat.contains(&needle),
            "{needle:?} not on the slip:\n{printed}"
        );
    }
    for line in printed.lines() {
        ensure!(
            line.chars().count() <= PaperWidth::Mm58.chars(),
            "{line:?} is wider than 58 mm paper"
        );
    }
    // Still on the receipt, the code still shown.
    ensure!(matches!(h.state().screen(), Screen::Registered { .. }));

    // The intake receipt prints its reference number.
    cups.forget_printed()?;
    tap(&mut h, "Gotowe");
    tap(&mut h, "Wniosek o usługę");
    tap_containing(&mut h, "Podolog");
    type_into(&mut h, "Imię", "Grażyna");
    type_into(&mut h, "Nazwisko", "Żółć");
    type_into(&mut h, "Rok urodzenia", "1948");
    type_into(
        &mut h,
        "Kod mieszkańca (jeśli jest)",
        &receipt.resident_code.replace('-', ""),
    );
    tap(&mut h, "Dalej");
    type_into(&mut h, "Proszę krótko opisać, czego potrzeba", "Stopy");
    tap(&mut h, "Dalej");
    tick(&mut h, "Potwierdzam spełnienie warunków");
    tick(&mut h, "Potwierdzam zapoznanie się z informacją");
    tap(&mut h, "Wyślij wniosek");
    let Screen::IntakeSent { receipt: request } = h.state().screen() else {
        bail!(
            "not on the request receipt: {}",
            screen_name(h.state().screen())
        );
    };
    let reference = request.reference.clone();
    tap(&mut h, "Wydrukuj");
    let spaced_ref: String = reference
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ");
    let printed = cups.printed("Podolog")?;
    let flat = printed.split_whitespace().collect::<Vec<_>>().join(" ");
    ensure!(
        flat.contains("Potwierdzenie złożenia wniosku")
            && (flat.contains(&spaced_ref) || flat.contains(&reference)),
        "{reference} not on the slip:\n{printed}"
    );
    drop(h);

    // A queue that is not there: a polite notice, and the receipt stays.
    let (_clock, mut h) = app_printing(&tmp.path().join("k"), Some("nosuch"), PaperWidth::Mm80);
    register_for_pilates_again(&mut h);
    tap(&mut h, "Wydrukuj");
    ensure!(
        h.state().notice().is_some_and(|n| !n.ok
            && n.text
                .starts_with("Nie udało się wydrukować potwierdzenia.")),
        "{:?}",
        h.state().notice()
    );
    ensure!(matches!(h.state().screen(), Screen::Registered { .. }));
    Ok(())
}

/// Another person for Pilates (the first one is registered already).
fn register_for_pilates_again(h: &mut Harness<'_, KioskApp>) {
    tap(h, "Zapisy na zajęcia");
    tap_containing(h, "Pilates");
    type_into(h, "Imię", "Jan");
    type_into(h, "Nazwisko", "Ząb");
    type_into(h, "Rok urodzenia", "1947");
    tap(h, "Dalej");
    tick(h, "Potwierdzam zapoznanie się z informacją");
    tap(h, "Zapisz mnie");
}
