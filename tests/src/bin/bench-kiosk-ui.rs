//! Benchmark of the touch app: the CPU time of one frame (egui layout and
//! tessellation, the work the app does per frame) of the class list and the roll call on
//! a store with 5,000 classes and 5,000 persons, and the start-up time to the first frame,
//! in-process and (when Xvfb is there) as the real binary in a real window.
//!
//! Prints one JSON line on stdout. Run with
//! `cargo run --release -p blisko-tests --bin bench-kiosk-ui`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use eframe::egui;
use serde_json::json;

use blisko_kiosk::app::{Action, AppOptions, KioskApp};
use blisko_kiosk::kiosk::{Kiosk, RegistrationForm, WallClock};
use blisko_shared::demo::{self, DEMO_STAFF_PIN};
use blisko_shared::ids::{ClassId, KioskId, SessionId};
use blisko_shared::model::{Class, Session, Weekday, WeeklySlot};
use blisko_tests::harness::{key_file, letters, setup_key};
use blisko_tests::window::{KioskWindow, Xvfb};

#[derive(Debug, Parser)]
#[command(
    name = "bench-kiosk-ui",
    about = "Frame time and start-up time of the touch app"
)]
struct Args {
    #[arg(long, default_value_t = 5_000)]
    classes: usize,
    #[arg(long, default_value_t = 5_000)]
    persons: usize,
    /// People registered for the session whose roll call is measured.
    #[arg(long, default_value_t = 40)]
    roll_call: usize,
    /// Frames measured per screen.
    #[arg(long, default_value_t = 300)]
    frames: usize,
}

/// Monday 23 November 2026, 9:00 UTC.
fn clock() -> WallClock {
    let ms = "2026-11-23T09:00:00Z"
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond() as u64)
        .unwrap_or(0);
    Arc::new(move || ms)
}

fn build_store(dir: &Path, args: &Args) -> Result<SessionId> {
    let kiosk_id = KioskId::new();
    let today = jiff::civil::date(2026, 11, 23);
    let mut catalog = demo::catalogs(today, 1, None)
        .into_iter()
        .next()
        .context("demo catalogue")?;
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    catalog.classes = (0..args.classes)
        .map(|i| Class {
            id: ClassId::derived(&format!("bench-class-{i}")),
            branch_id: catalog.branch.id,
            title: format!("Zajęcia {:04} — {}", i, letters(i)),
            description: "Zajęcia dla każdego, w małej grupie.".into(),
            instructor: format!("Prowadząca {}", letters(i)),
            room: format!("sala {}", i % 12 + 1),
            capacity: 30,
            waitlist_limit: 20,
            age_group: "wszyscy".into(),
            schedule: vec![WeeklySlot {
                weekday: days[i % days.len()],
                start: format!("{:02}:00", 8 + i % 12),
                minutes: 60,
            }],
            registration_opens: None,
            registration_closes: None,
        })
        .collect();
    catalog.sessions = catalog
        .classes
        .iter()
        .filter(|c| c.schedule[0].weekday == Weekday::Mon)
        .map(|c| Session {
            id: SessionId::derived(&format!("{}/2026-11-23", c.id)),
            class_id: c.id,
            date: "2026-11-23".into(),
            start: c.schedule[0].start.clone(),
            minutes: 60,
            cancelled: false,
        })
        .collect();
    catalog.allotments = catalog
        .classes
        .iter()
        .map(|c| (c.id, BTreeMap::from([(kiosk_id, c.capacity)])))
        .collect();
    let roll_call_session = catalog.sessions[0].clone();
    let key = setup_key(dir)?;
    let mut kiosk = Kiosk::setup_with_catalog(dir, kiosk_id, &catalog, &key, clock())?;
    for i in 0..args.persons {
        let class = if i < args.roll_call {
            roll_call_session.class_id
        } else {
            catalog.classes[i % catalog.classes.len()].id
        };
        kiosk.register(&RegistrationForm {
            class_id: class.to_string(),
            given_name: format!("Anna {}", letters(i)),
            family_name: format!("Nowak {}", letters(i / 7)),
            birth_year: 1940 + (i % 50) as i32,
            consent: true,
            ..RegistrationForm::default()
        })?;
    }
    Ok(roll_call_session.id)
}

/// CPU time of the calling thread.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

struct Frames {
    ctx: egui::Context,
    time: f64,
}

impl Frames {
    fn input(&mut self, events: Vec<egui::Event>) -> egui::RawInput {
        self.time += 1.0 / 60.0;
        egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(1280.0, 1024.0),
            )),
            time: Some(self.time),
            focused: true,
            events,
            ..Default::default()
        }
    }

    /// One frame: layout, painting and tessellation. Returns the CPU time this thread
    /// spent on it (not wall time, so other processes on the machine do not count).
    fn frame(&mut self, app: &mut KioskApp, events: Vec<egui::Event>) -> Duration {
        let input = self.input(events);
        let start = thread_cpu_time();
        let output = self.ctx.run_ui(input, |ui| app.show(ui));
        let primitives = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        let elapsed = thread_cpu_time().saturating_sub(start);
        std::hint::black_box(primitives);
        elapsed
    }

    fn measure(&mut self, app: &mut KioskApp, n: usize) -> serde_json::Value {
        // Settle the layout (first frames size grids and load fonts).
        for _ in 0..5 {
            self.frame(app, Vec::new());
        }
        let mut ms: Vec<f64> = (0..n)
            .map(|_| self.frame(app, Vec::new()).as_secs_f64() * 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        json!({
            "p50_ms": (pick(0.5) * 1000.0).round() / 1000.0,
            "p99_ms": (pick(0.99) * 1000.0).round() / 1000.0,
            "max_ms": (pick(1.0) * 1000.0).round() / 1000.0,
        })
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let work = tempfile::tempdir()?;
    let data = work.path().join("kiosk");
    let built = Instant::now();
    let session = build_store(&data, &args)?;
    eprintln!(
        "store with {} classes and {} persons built in {:.1} s",
        args.classes,
        args.persons,
        built.elapsed().as_secs_f64()
    );

    let mut frames = Frames {
        ctx: egui::Context::default(),
        time: 0.0,
    };
    let mut options = AppOptions::new(&data, key_file(&data));
    options.clock = clock();
    let started = Instant::now();
    let mut app = KioskApp::new(options)?;
    frames.frame(&mut app, Vec::new());
    // Wall time here: opening the store waits on the disk too.
    let in_process_first_frame_ms = started.elapsed().as_secs_f64() * 1000.0;

    app.handle(Action::OpenClasses);
    let class_list = frames.measure(&mut app, args.frames);
    app.handle(Action::ClassDay(Some(Weekday::Mon)));
    let class_list_monday = frames.measure(&mut app, args.frames);

    app.handle(Action::OpenStaff);
    frames.frame(&mut app, vec![egui::Event::Text(DEMO_STAFF_PIN.into())]);
    app.handle(Action::PinSubmit);
    anyhow::ensure!(app.staff().is_some(), "the demo PIN opens staff mode");
    app.handle(Action::OpenRollCall(session));
    let roll_call = frames.measure(&mut app, args.frames);

    let window_first_frame_ms = match Xvfb::start(1280, 1024) {
        Ok(x) => {
            drop(app);
            let mut window = KioskWindow::open(&x, &data, work.path(), (1280, 1024))?;
            let first = window.first_frame()?;
            window.close()?;
            Some((first.as_secs_f64() * 1000.0).round())
        }
        Err(e) => {
            eprintln!("no real window measured: {e:#}");
            None
        }
    };

    println!(
        "{}",
        json!({
            "classes": args.classes,
            "persons": args.persons,
            "roll_call_people": args.roll_call,
            "frame_class_list": class_list,
            "frame_class_list_one_day": class_list_monday,
            "frame_roll_call": roll_call,
            "first_frame_in_process_ms": (in_process_first_frame_ms * 10.0).round() / 10.0,
            "first_frame_window_ms": window_first_frame_ms,
        })
    );
    Ok(())
}
