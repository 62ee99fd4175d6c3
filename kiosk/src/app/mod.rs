//! The touch app (eframe). A resident registers, submits a request or looks up what they
//! did, by touch alone; staff take the roll call behind a PIN.
//!
//! Layout: `KioskApp` holds the view state and the one command handler (`handle`);
//! `screens/` draws each screen from that state and returns an [`Action`]; `session`
//! holds the time rules (idle reset, PIN lock-out) outside egui, on an injected clock;
//! `keyboard`, `widgets`, `theme` and `text` are the parts every screen shares; `spoken`
//! says what each screen reads aloud (through `crate::speech`). Every domain rule is the
//! kiosk core's (`crate::kiosk`): the app never re-implements one.

mod form;
mod keyboard;
pub mod printing;
mod screens;
pub mod session;
mod spoken;
pub mod text;
pub mod theme;
mod widgets;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eframe::egui::{self, Ui};

use blisko_shared::i18n::Lang;
use blisko_shared::ids::{ClassId, RegistrationId, ServiceId, SessionId};
use blisko_shared::model::{AttendanceStatus, Service, Weekday};
use blisko_shared::seats::SeatStatus;

use crate::error::KioskError;
use crate::key;
use crate::kiosk::{
    self, IntakeReceipt, Kiosk, RegistrationReceipt, ResidentOverview, RollCall, StaffMember,
    WallClock,
};
use crate::store::{ClassRow, NamedRegistration, SessionRow, StoreKey};
use crate::sync::{BackgroundSync, SyncClient, SyncSchedule, SyncState, lock};

pub use form::{FieldId, Form};
use keyboard::Keyboard;
use session::{Idle, IdleTimeouts, IdleTimer, PinGuard};
use theme::Look;

/// Where the app is. Each screen carries the data it shows, loaded when it is entered
/// (never queried per frame).
#[derive(Debug, Clone)]
pub enum Screen {
    Setup,
    SetupDemo,
    SetupEnroll,
    Home,
    Classes {
        day: Option<Weekday>,
        page: usize,
    },
    RegisterDetails {
        class: Box<ClassRow>,
    },
    RegisterConsent {
        class: Box<ClassRow>,
    },
    Registered {
        receipt: Box<RegistrationReceipt>,
    },
    Services {
        page: usize,
    },
    IntakeDetails {
        service: Box<Service>,
    },
    IntakeNeed {
        service: Box<Service>,
    },
    IntakeDeclaration {
        service: Box<Service>,
    },
    IntakeSent {
        receipt: Box<IntakeReceipt>,
    },
    Lookup,
    Resident {
        overview: Box<ResidentOverview>,
    },
    CancelAsk {
        overview: Box<ResidentOverview>,
        registration: RegistrationId,
        title: String,
        /// Where "Cancel my registration" was tapped: "No, keep it" sits there.
        at: egui::Rect,
    },
    /// "Nie chcę SMS": stop SMS reminders?
    SmsWithdrawAsk {
        overview: Box<ResidentOverview>,
        /// Where "Nie chcę SMS" was tapped: "No, keep SMS reminders" sits there.
        at: egui::Rect,
    },
    /// The SMS consent was withdrawn here.
    SmsWithdrawn {
        overview: Box<ResidentOverview>,
    },
    StaffPin,
    StaffMenu,
    StaffSessions {
        sessions: Vec<SessionRow>,
    },
    RollCall {
        roll: Box<RollCall>,
    },
    WalkIn {
        session: Box<SessionRow>,
    },
    StaffClasses {
        page: usize,
    },
    StaffRoster {
        class: Box<ClassRow>,
        rows: Vec<NamedRegistration>,
        /// Registrations beyond the class's limits after a merge, for staff to call.
        compensation: Vec<blisko_shared::seats::CompensationTask>,
    },
    StaffSync {
        status: Box<kiosk::Status>,
    },
}

/// What a tap asks for; `KioskApp::handle` carries it out.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    StartAgain,
    Home,
    SetLang(Lang),
    ToggleLargeText,
    ToggleContrast,
    MoreTime,
    OpenClasses,
    ClassDay(Option<Weekday>),
    Page(usize),
    PickClass(ClassId),
    RegisterDetailsDone,
    BackToDetails,
    RegisterSubmit,
    OpenServices,
    PickService(ServiceId),
    IntakeDetailsDone,
    IntakeNeedDone,
    BackToIntakeDetails,
    BackToIntakeNeed,
    IntakeSubmit,
    OpenLookup,
    LookupSubmit,
    /// Cancel this registration (of this class)? `Rect`: where the tap landed.
    AskCancel(RegistrationId, String, egui::Rect),
    ConfirmCancel,
    KeepRegistration,
    /// "Nie chcę SMS" was tapped (`Rect`: where): ask before withdrawing the consent.
    AskStopSms(egui::Rect),
    ConfirmStopSms,
    KeepSms,
    OpenStaff,
    PinSubmit,
    StaffMenu,
    StaffSessions,
    OpenRollCall(SessionId),
    Mark(RegistrationId, AttendanceStatus),
    OpenWalkIn,
    WalkInSubmit,
    BackToRollCall,
    StaffClasses,
    StaffRoster(ClassId),
    StaffSync,
    SyncNow,
    /// Staff enroll a revoked kiosk again with a new code (from its sync screen).
    ReenrollSubmit,
    LeaveStaff,
    CloseApp,
    OpenSetupDemo,
    OpenSetupEnroll,
    SetupDemo(String),
    SetupEnrollSubmit,
    BackToSetup,
    /// "Czytaj na głos": read each screen aloud, and explore controls by touch.
    ToggleSpeech,
    /// Say the current screen again.
    RepeatSpeech,
    SpeechLouder,
    SpeechQuieter,
    SpeechFaster,
    SpeechSlower,
    /// The "Pomoc" window: how to get help here (staff: the staff notice).
    OpenHelp,
    CloseHelp,
    /// Print the receipt on screen as a slip (shown only with a printer).
    PrintSlip,
}

/// How the app was started.
#[derive(Clone)]
pub struct AppOptions {
    pub data: PathBuf,
    /// The key file of the kiosk's encrypted store (outside `data`); set-up creates it.
    pub key_file: PathBuf,
    pub fullscreen: bool,
    /// Window size in logical points (ignored in fullscreen).
    pub size: [f32; 2],
    pub idle: IdleTimeouts,
    pub sync: SyncSchedule,
    /// Milliseconds of wall time; tests inject their own.
    pub clock: WallClock,
    /// Write the touch targets of each new screen here (JSON), so that tests can tap
    /// the real window; from `BLISKO_UI_MAP`.
    pub ui_map: Option<PathBuf>,
    /// When the process started, for the "first frame after" log line.
    pub started: Instant,
    /// Days residents' details stay here once the server has them.
    pub retention_days: u32,
    /// The CA certificate (PEM) an https:// server must be signed by when this kiosk is
    /// enrolled from the set-up screen (kept in the store for every later sync); without
    /// it the system's roots are trusted.
    pub server_ca: Option<String>,
    /// The voice that reads screens aloud (espeak-ng through the system); tests put a
    /// recorder here.
    pub speaker: crate::speech::SharedSpeaker,
    /// The reading voice's volume and speed when the app starts.
    pub voice: crate::speech::Voice,
    /// The CUPS queue of a receipt printer (`--printer`); without it no "print" button.
    pub printer: Option<String>,
    /// The receipt printer's paper (`--slip-width 58|80`).
    pub slip_width: kiosk::slip::PaperWidth,
    /// Milliseconds after a screen change during which touches are ignored, so that the
    /// second tap of a double tap does not act on the new screen.
    pub touch_guard_ms: u64,
    /// Milliseconds within which a second press of the same on-screen key counts once
    /// (at most `keyboard::MAX_REPEAT_GUARD_MS`).
    pub repeat_guard_ms: u64,
}

/// The default of [`AppOptions::touch_guard_ms`].
pub const DEFAULT_TOUCH_GUARD_MS: u64 = 600;
pub use keyboard::{DEFAULT_REPEAT_GUARD_MS, MAX_REPEAT_GUARD_MS};

impl AppOptions {
    pub fn new(data: &Path, key_file: PathBuf) -> AppOptions {
        AppOptions {
            data: data.to_owned(),
            key_file,
            fullscreen: false,
            size: [1280.0, 1024.0],
            idle: IdleTimeouts::default(),
            sync: SyncSchedule::default(),
            clock: kiosk::system_clock(),
            ui_map: None,
            started: Instant::now(),
            retention_days: kiosk::DEFAULT_RETENTION_DAYS,
            server_ca: None,
            speaker: crate::speech::system(),
            voice: crate::speech::Voice::default(),
            printer: None,
            slip_width: kiosk::slip::PaperWidth::default(),
            touch_guard_ms: DEFAULT_TOUCH_GUARD_MS,
            repeat_guard_ms: DEFAULT_REPEAT_GUARD_MS,
        }
    }
}

pub struct KioskApp {
    options: AppOptions,
    kiosk: Option<Arc<Mutex<Kiosk>>>,
    branch_name: String,
    sync: Option<BackgroundSync>,
    seen_sync: Option<Instant>,
    pub(crate) screen: Screen,
    pub(crate) form: Form,
    keyboard: Keyboard,
    lang: Lang,
    look: Look,
    applied_look: Option<Look>,
    /// A message above the current screen: what went wrong, or what just happened.
    notice: Option<Notice>,
    idle: IdleTimer,
    pin_guard: PinGuard,
    staff: Option<StaffMember>,
    /// Lists the list screens page through, loaded on entry.
    classes: Vec<ClassRow>,
    services: Vec<Service>,
    /// Set when staff asked to close the app (fullscreen has no other way out).
    quit: bool,
    frames: u64,
    last_ui_map: String,
    /// A registration or request waiting for a returning resident's details, which the
    /// sync started for it asks the server for; tried again when a sync succeeds.
    awaiting_details: Option<AwaitingDetails>,
    /// A registration at a full class waiting for the sync that asks the server's pool
    /// for a seat (see `RegistrationReceipt::awaiting_pool`).
    awaiting_pool: Option<AwaitingDetails>,
    /// The office revoked this kiosk: residents see that it is out of service.
    revoked: bool,
    /// Reading aloud: the switch, the voice, what was said.
    speech: spoken::SpeechState,
    /// The help window is open.
    help_open: bool,
    /// This kiosk's branch from the catalogue (its help text, address, hours).
    branch: Option<blisko_shared::model::Branch>,
    /// The field an error notice is about and its value then: the notice goes once the
    /// value is changed.
    notice_field: Option<(FieldId, String)>,
    /// The screen last drawn and when it first was (app clock), for the touch guard.
    guard_screen: String,
    screen_since: u64,
    /// Touches are ignored this frame (just after a screen change).
    guarded: bool,
    /// What the active field was last scrolled into view for (see `screens::frame`).
    cue_key: String,
    /// Frames left in which to scroll the active field into view.
    scroll_frames: u8,
    /// Where a form shows above the keyboard this frame (points), for the tests.
    visible_area: Option<egui::Rect>,
    /// Where the active field was drawn this frame: label, box and any error under it.
    active_area: Option<egui::Rect>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AwaitingDetails {
    /// Sync failures when it was asked: one more means the server cannot be reached.
    failures: u32,
    /// Tries left (a sync already under way when it was asked did not ask yet).
    tries_left: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub ok: bool,
}

impl KioskApp {
    /// Open the app on the store in `options.data`: the home screen if the kiosk is set
    /// up, the set-up screen otherwise. An enrolled kiosk starts syncing in the
    /// background.
    pub fn new(options: AppOptions) -> Result<KioskApp, KioskError> {
        let now = (options.clock)();
        let voice = options.voice;
        let repeat_guard_ms = options.repeat_guard_ms;
        let mut app = KioskApp {
            idle: IdleTimer::new(options.idle, now),
            options,
            kiosk: None,
            branch_name: String::new(),
            sync: None,
            seen_sync: None,
            screen: Screen::Setup,
            form: Form::default(),
            keyboard: Keyboard::new(repeat_guard_ms),
            lang: Lang::Pl,
            look: Look::default(),
            applied_look: None,
            notice: None,
            pin_guard: PinGuard::default(),
            staff: None,
            classes: Vec::new(),
            services: Vec::new(),
            quit: false,
            frames: 0,
            last_ui_map: String::new(),
            awaiting_details: None,
            awaiting_pool: None,
            revoked: false,
            speech: spoken::SpeechState {
                voice,
                ..spoken::SpeechState::default()
            },
            help_open: false,
            branch: None,
            notice_field: None,
            guard_screen: String::new(),
            screen_since: now,
            guarded: false,
            cue_key: String::new(),
            scroll_frames: 0,
            visible_area: None,
            active_area: None,
        };
        // Before set-up there is no store, and maybe no key file yet.
        if app.options.data.join(crate::store::DB_FILE).exists() {
            let key = StoreKey::load(&app.options.key_file)?;
            match Kiosk::open_with_clock(&app.options.data, &key, app.options.clock.clone()) {
                Ok(k) => app.attach(k)?,
                Err(KioskError::NotSetUp(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(app)
    }

    fn attach(&mut self, mut kiosk: Kiosk) -> Result<(), KioskError> {
        kiosk.set_retention_days(self.options.retention_days);
        self.branch = kiosk.store().branch(kiosk.identity().branch_id)?;
        self.branch_name = self
            .branch
            .as_ref()
            .map(|b| b.name.clone())
            .unwrap_or_default();
        let client = if kiosk.identity().mode == kiosk::KioskMode::Enrolled {
            Some(SyncClient::for_kiosk(&kiosk)?)
        } else {
            None
        };
        self.revoked = kiosk.is_revoked()?;
        let shared = Arc::new(Mutex::new(kiosk));
        self.sync = client.map(|c| BackgroundSync::start(shared.clone(), c, self.options.sync));
        self.kiosk = Some(shared);
        self.screen = Screen::Home;
        // The home tiles name what this branch offers.
        self.load_offer();
        Ok(())
    }

    /// The kiosk core, shared with the background sync.
    pub fn kiosk(&self) -> Option<&Arc<Mutex<Kiosk>>> {
        self.kiosk.as_ref()
    }

    pub fn screen(&self) -> &Screen {
        &self.screen
    }

    pub fn form(&self) -> &Form {
        &self.form
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn look(&self) -> Look {
        self.look
    }

    pub fn staff(&self) -> Option<&StaffMember> {
        self.staff.as_ref()
    }

    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// Whether the app shows residents that this kiosk is out of service.
    pub fn out_of_service(&self) -> bool {
        self.revoked
    }

    pub fn quit_requested(&self) -> bool {
        self.quit
    }

    /// Where the current form shows above the on-screen keyboard (points), when the
    /// screen is a form.
    pub fn visible_area(&self) -> Option<egui::Rect> {
        self.visible_area
    }

    /// Where the active field was drawn (points): its label, its box and an error under
    /// it; `None` without an active field.
    pub fn active_field_area(&self) -> Option<egui::Rect> {
        self.active_area
    }

    /// Whether touches are ignored now (just after a screen change).
    pub fn touch_guarded(&self) -> bool {
        self.guarded
    }

    fn now(&self) -> u64 {
        (self.options.clock)()
    }

    fn with_kiosk<R>(
        &self,
        f: impl FnOnce(&mut Kiosk) -> Result<R, KioskError>,
    ) -> Result<R, KioskError> {
        let shared = self
            .kiosk
            .as_ref()
            .ok_or_else(|| KioskError::NotSetUp(self.options.data.display().to_string()))?;
        f(&mut lock(shared))
    }

    fn sync_state(&self) -> Option<SyncState> {
        self.sync.as_ref().map(BackgroundSync::state)
    }

    /// Nothing of anyone is on the screen: the idle timer has nothing to clear.
    fn pristine(&self) -> bool {
        matches!(self.screen, Screen::Home | Screen::Setup)
            && self.form.is_empty()
            && self.notice.is_none()
            && self.staff.is_none()
            && self.lang == Lang::Pl
            && self.look == Look::default()
            && !self.speech.on
            && !self.help_open
    }

    /// Back to the start with nothing of the previous person left: every field, every
    /// choice, staff mode, the language and the look return to their defaults.
    pub fn reset(&mut self) {
        self.awaiting_details = None;
        self.give_up_pool_seat();
        self.form = Form::default();
        self.keyboard = Keyboard::new(self.options.repeat_guard_ms);
        self.notice = None;
        self.notice_field = None;
        self.staff = None;
        self.lang = Lang::Pl;
        self.look = Look::default();
        self.help_open = false;
        if self.speech.on {
            self.options.speaker.stop();
        }
        self.speech.on = false;
        self.speech.last = None;
        self.screen = if self.kiosk.is_some() {
            Screen::Home
        } else {
            Screen::Setup
        };
        let now = self.now();
        self.idle.restart(now);
    }

    fn fail(&mut self, e: &KioskError) {
        // Ids and codes only: a person's data never goes to the log.
        tracing::warn!(code = e.code(), "action refused or failed");
        self.notice = Some(Notice {
            text: e.message(self.lang),
            ok: false,
        });
        // The error names a field of this form: the keyboard goes to it, and the notice
        // goes once it is changed.
        self.notice_field = None;
        if let Some(field) = error_field(e, &self.screen) {
            self.form.active = Some(field);
            self.notice_field = Some((field, self.form.get(field).to_owned()));
        }
    }

    /// The classes and services of this branch, for the home tiles and the lists.
    fn load_offer(&mut self) {
        if let Ok((classes, services)) = self.with_kiosk(|k| Ok((k.classes()?, k.services()?))) {
            self.classes = classes;
            self.services = services;
        }
    }

    /// An error about a field goes once the person changed that field.
    fn clear_fixed_notice(&mut self) {
        let Some((field, value)) = &self.notice_field else {
            return;
        };
        if self.form.get(*field) != value {
            self.notice = None;
            self.notice_field = None;
        }
    }

    /// Print the receipt on screen; a failure is said politely and loses nothing.
    fn print_slip(&mut self) {
        let Some(queue) = self.options.printer.clone() else {
            return;
        };
        let slip = match &self.screen {
            Screen::Registered { receipt } => {
                printing::registration_slip(receipt, &self.branch_name, self.lang)
            }
            Screen::IntakeSent { receipt } => {
                printing::intake_slip(receipt, &self.branch_name, self.lang)
            }
            _ => return,
        };
        let text = kiosk::slip::format_slip(&slip, self.options.slip_width);
        let (key, ok) = match kiosk::slip::print(&queue, &text) {
            Ok(()) => (text::T::Printed, true),
            Err(e) => {
                tracing::warn!(code = e.code(), error = %e, "printing a slip failed");
                (text::T::PrintFailed, false)
            }
        };
        self.notice = Some(Notice {
            text: key.tr(self.lang).to_owned(),
            ok,
        });
    }

    fn go(&mut self, screen: Screen) {
        self.screen = screen;
        self.notice = None;
        self.notice_field = None;
        self.form.active = None;
    }

    /// Draw one frame and carry out what was tapped.
    pub fn show(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        let screen_before = std::mem::discriminant(&self.screen);
        if self.applied_look != Some(self.look) {
            theme::apply(&ctx, self.look);
            theme::tune_input(&ctx);
            self.applied_look = Some(self.look);
            // This frame still draws with the old style: draw the next one at once.
            ctx.request_repaint();
        }
        if self.options.ui_map.is_some() {
            ctx.data_mut(|d| {
                d.insert_temp(
                    widgets::map_id(),
                    widgets::TargetMap {
                        enabled: true,
                        targets: Vec::new(),
                    },
                )
            });
        }
        let now = self.now();
        self.physical_keys(&ctx);
        if ctx.input(|i| i.pointer.any_pressed() || !i.events.is_empty() && i.focused) {
            self.idle.touch(now);
        }
        if self.pristine() {
            self.idle.restart(now);
        }
        let idle = self.idle.state(now);
        if idle == Idle::Expired {
            self.reset();
        }
        // Read once per frame: the indicator and the refresh below share it.
        let sync = self.sync_state();
        if let Some(state) = &sync {
            // Cleared only by enrolling again (the store keeps it across restarts).
            self.revoked |= state.revoked;
            self.refresh_after_sync(state.last_success);
            if let Some(waiting) = self.awaiting_details
                && state.failures > waiting.failures
            {
                self.awaiting_details = None;
                self.fail(&KioskError::PersonalDataNotHere);
            }
            if let Some(waiting) = self.awaiting_pool
                && state.failures > waiting.failures
            {
                // Offline: the pool cannot be asked, and the class is full here.
                self.give_up_pool_seat();
            }
        }

        self.fit_to_screen(&ctx);
        let name = screen_name(&self.screen);
        if name != self.guard_screen {
            self.guard_screen = name;
            self.screen_since = now;
        }
        let guarded_for = (self.screen_since + self.options.touch_guard_ms).saturating_sub(now);
        self.guarded = guarded_for > 0;
        if self.guarded {
            ctx.request_repaint_after(Duration::from_millis(guarded_for));
        }
        let on = self.speech.on;
        ctx.data_mut(|d| {
            let explore = d.get_temp_mut_or_default::<widgets::Explore>(widgets::explore_id());
            explore.enabled = on;
            explore.said = None;
            if !on {
                explore.armed = None;
            }
        });
        let action = screens::frame(self, ui, idle, sync, self.guarded);
        self.active_area = ctx.data(|d| {
            d.get_temp::<widgets::FieldCue>(widgets::cue_id())
                .and_then(|c| c.drawn)
        });
        let said = ctx.data_mut(|d| {
            let explore = d.get_temp_mut_or_default::<widgets::Explore>(widgets::explore_id());
            if action.is_some() {
                // What was armed belonged to the screen before this action.
                explore.armed = None;
            }
            explore.said.take()
        });
        self.clear_fixed_notice();
        if let Some(action) = action.clone() {
            let now = self.now();
            self.idle.touch(now);
            self.handle(action);
            ctx.request_repaint();
        }
        if std::mem::discriminant(&self.screen) != screen_before {
            // A screen changed by itself (idle reset, a sync's news): nothing stays armed.
            ctx.data_mut(|d| {
                d.get_temp_mut_or_default::<widgets::Explore>(widgets::explore_id())
                    .armed = None;
            });
        }
        self.speak(said);
        if self.quit {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        self.frames += 1;
        if self.frames == 1 {
            tracing::info!(
                ms = self.options.started.elapsed().as_millis() as u64,
                "first frame"
            );
        }
        if action.is_none() {
            self.write_ui_map(&ctx);
        }
        if !self.pristine() {
            let wait = self.idle.next_change_in(self.now());
            ctx.request_repaint_after(Duration::from_millis(wait.clamp(50, 30_000)));
        } else if self.sync.is_some() {
            // Keep "synced N minutes ago" current.
            ctx.request_repaint_after(Duration::from_secs(20));
        }
    }

    /// Read aloud what changed: the screen's text when it is new, else the control a
    /// first touch explored.
    fn speak(&mut self, said: Option<widgets::Said>) {
        if !self.speech.on {
            self.speech.last = None;
            return;
        }
        let idle = match self.idle.state(self.now()) {
            warning @ Idle::Warning { .. } => warning,
            _ => Idle::Active,
        };
        let text = spoken::current(self, idle);
        let utterance = if self.speech.last.as_deref() != Some(text.as_str()) {
            self.speech.last = Some(text.clone());
            Some(text)
        } else {
            said.map(|said| match said {
                widgets::Said::Control(label) => {
                    format!("{label}. {}", text::T::TouchAgain.tr(self.lang))
                }
                widgets::Said::Key(key) => key,
                widgets::Said::Ticked(label, on) => {
                    let state = if on {
                        text::T::Ticked
                    } else {
                        text::T::NotTicked
                    };
                    format!("{label}: {}", state.tr(self.lang))
                }
            })
        };
        if let Some(text) = utterance {
            self.options.speaker.say(crate::speech::Utterance {
                text,
                lang: self.lang,
                voice: self.speech.voice,
            });
        }
    }

    /// The text the current screen reads aloud (in the app's language).
    pub fn spoken_text(&self) -> String {
        spoken::screen_text(self)
    }

    /// The help window's title and text, when it is open.
    pub fn help_shown(&self) -> Option<(String, String)> {
        self.help_open
            .then(|| spoken::help(self.lang, self.branch.as_ref(), self.staff.is_some()))
    }

    pub fn speech_on(&self) -> bool {
        self.speech.on
    }

    pub fn voice(&self) -> crate::speech::Voice {
        self.speech.voice
    }

    /// Scale the layout to the screen: pixels per point from the screen's size in pixels
    /// (see `theme::pixels_per_point` for the rule).
    fn fit_to_screen(&self, ctx: &egui::Context) {
        let ppp = ctx.pixels_per_point();
        let pixels = ctx.content_rect().size() * ppp;
        let native = ctx.native_pixels_per_point().unwrap_or(1.0);
        let zoom = theme::pixels_per_point(pixels.x, pixels.y) / native;
        if (ctx.zoom_factor() - zoom).abs() > 0.001 {
            ctx.set_zoom_factor(zoom);
        }
    }

    /// Write where the touch targets are, when the screen settled on a new layout.
    fn write_ui_map(&mut self, ctx: &egui::Context) {
        let Some(path) = &self.options.ui_map else {
            return;
        };
        let map = ctx.data(|d| d.get_temp::<widgets::TargetMap>(widgets::map_id()));
        let targets: Vec<serde_json::Value> = map
            .map(|m| m.targets)
            .unwrap_or_default()
            .into_iter()
            .map(|(label, r)| {
                serde_json::json!({
                    "label": label,
                    "x": r.center().x, "y": r.center().y,
                    "w": r.width(), "h": r.height(),
                })
            })
            .collect();
        let name = screen_name(&self.screen);
        let body = serde_json::json!({
            "screen": name,
            "pixels_per_point": ctx.pixels_per_point(),
            // Taps are ignored until this is false (just after a screen change).
            "guarded": self.guarded,
            "targets": targets,
        })
        .to_string();
        if body == self.last_ui_map {
            return;
        }
        let tmp = path.with_extension("tmp");
        let written = std::fs::write(&tmp, &body).and_then(|()| std::fs::rename(&tmp, path));
        match written {
            Ok(()) => self.last_ui_map = body,
            Err(e) => tracing::warn!(error = %e, "could not write the UI map"),
        }
    }

    /// A physical keyboard (staff may plug one in) types into the active field too.
    fn physical_keys(&mut self, ctx: &egui::Context) {
        if self.form.active.is_none() {
            return;
        }
        let events = ctx.input(|i| i.events.clone());
        for event in events {
            match event {
                egui::Event::Text(text) => {
                    for c in text.chars() {
                        self.form.press(keyboard::Press::Char(c));
                    }
                }
                egui::Event::Key {
                    key: egui::Key::Backspace,
                    pressed: true,
                    ..
                } => {
                    self.form.press(keyboard::Press::Backspace);
                }
                _ => {}
            }
        }
    }

    /// When a sync brought news, reload what the current screen shows.
    fn refresh_after_sync(&mut self, last_success: Option<Instant>) {
        if last_success == self.seen_sync {
            return;
        }
        self.seen_sync = last_success;
        // The catalogue may have brought new help text or hours.
        if let Ok(Some(branch)) =
            self.with_kiosk(|k| Ok(k.store().branch(k.identity().branch_id)?))
        {
            self.branch_name = branch.name.clone();
            self.branch = Some(branch);
        }
        if self.awaiting_details.is_some() {
            match &self.screen {
                Screen::RegisterConsent { .. } => self.register(),
                Screen::IntakeDeclaration { .. } => self.submit_intake(),
                _ => self.awaiting_details = None,
            }
        }
        match &self.screen {
            Screen::Classes { .. } | Screen::StaffClasses { .. } => self.load_classes(),
            Screen::Home => self.load_offer(),
            Screen::RollCall { roll } => {
                let id = roll.session.id;
                if let Ok(roll) = self.with_kiosk(|k| k.roll_call(id)) {
                    self.screen = Screen::RollCall {
                        roll: Box::new(roll),
                    };
                }
            }
            Screen::StaffSync { .. } => {
                if let Ok(status) = self.with_kiosk(|k| k.status()) {
                    self.screen = Screen::StaffSync {
                        status: Box::new(status),
                    };
                }
            }
            // Online, a waiting resident may get a seat from the server's shared pool in
            // the sync right after registering: the receipt shows the good news.
            Screen::Registered { receipt } if receipt.awaiting_pool => {
                let id = receipt.registration_id;
                let now = self
                    .with_kiosk(|k| Ok(k.store().registration(id)?))
                    .ok()
                    .flatten();
                match (now, &mut self.screen, self.awaiting_pool) {
                    (Some(row), Screen::Registered { receipt }, _)
                        if row.status == SeatStatus::Confirmed =>
                    {
                        receipt.status = row.status;
                        receipt.position = None;
                        receipt.awaiting_pool = false;
                        self.awaiting_pool = None;
                    }
                    // A sync already under way when it registered may not have carried it.
                    (_, _, Some(w)) if w.tries_left > 0 => {
                        self.awaiting_pool = Some(AwaitingDetails {
                            tries_left: w.tries_left - 1,
                            ..w
                        });
                        self.after_write();
                    }
                    _ => self.give_up_pool_seat(),
                }
            }
            Screen::Registered { receipt } if receipt.status == SeatStatus::Waitlisted => {
                let (code, id) = (receipt.resident_code.clone(), receipt.registration_id);
                let now = self.with_kiosk(|k| k.resident(&code)).ok().and_then(|o| {
                    o.registrations
                        .into_iter()
                        .find(|r| r.registration_id == id)
                });
                if let (Some(now), Screen::Registered { receipt }) = (now, &mut self.screen) {
                    receipt.status = now.status;
                    receipt.position = now.position;
                }
            }
            _ => {}
        }
    }

    fn load_classes(&mut self) {
        match self.with_kiosk(|k| k.classes()) {
            Ok(classes) => self.classes = classes,
            Err(e) => self.fail(&e),
        }
    }

    /// The pool had no seat (or could not be asked): withdraw the registration that
    /// waited for it and say that the class is full.
    fn give_up_pool_seat(&mut self) {
        self.awaiting_pool = None;
        let Screen::Registered { receipt } = &self.screen else {
            return;
        };
        if !receipt.awaiting_pool {
            return;
        }
        let (id, title) = (receipt.registration_id, receipt.class_title.clone());
        match self.with_kiosk(|k| k.withdraw_pool_attempt(id)) {
            Ok(_) => {
                self.after_write();
                self.screen = Screen::Home;
                self.fail(&KioskError::ClassFull { title });
            }
            Err(e) => self.fail(&e),
        }
    }

    fn after_write(&self) {
        if let Some(sync) = &self.sync {
            sync.sync_now();
        }
    }

    /// The one place where taps become actions on the kiosk.
    pub fn handle(&mut self, action: Action) {
        match action {
            Action::StartAgain => self.reset(),
            Action::Home => {
                self.form = Form::default();
                let home = if self.kiosk.is_some() {
                    Screen::Home
                } else {
                    Screen::Setup
                };
                self.go(home);
            }
            Action::SetLang(lang) => self.lang = lang,
            // Three steps, then back to normal; kept until the session resets.
            Action::ToggleLargeText => self.look.text = self.look.text.next(),
            Action::ToggleContrast => self.look.high_contrast = !self.look.high_contrast,
            Action::MoreTime => {
                let now = self.now();
                self.idle.more_time(now);
            }
            Action::OpenClasses => {
                self.load_classes();
                self.form = Form::default();
                self.go(Screen::Classes { day: None, page: 0 });
            }
            Action::ClassDay(day) => self.go(Screen::Classes { day, page: 0 }),
            Action::Page(page) => match &mut self.screen {
                Screen::Classes { page: p, .. }
                | Screen::Services { page: p }
                | Screen::StaffClasses { page: p } => *p = page,
                _ => {}
            },
            Action::PickClass(id) => match self.with_kiosk(|k| k.class(&id.to_string())) {
                Ok(class) => {
                    self.go(Screen::RegisterDetails {
                        class: Box::new(class),
                    });
                    self.form.active = Some(FieldId::GivenName);
                    self.keyboard.shift = true;
                }
                Err(e) => self.fail(&e),
            },
            Action::RegisterDetailsDone => {
                if let Screen::RegisterDetails { class } = &self.screen {
                    let class = class.clone();
                    match self
                        .check_person_fields()
                        .and_then(|()| self.check_code_fits())
                    {
                        Ok(()) => self.go(Screen::RegisterConsent { class }),
                        Err(e) => self.fail(&e),
                    }
                }
            }
            Action::BackToDetails => {
                if let Screen::RegisterConsent { class } = &self.screen {
                    let class = class.clone();
                    self.go(Screen::RegisterDetails { class });
                }
            }
            Action::RegisterSubmit => self.register(),
            Action::OpenServices => {
                match self.with_kiosk(|k| k.services()) {
                    Ok(services) => self.services = services,
                    Err(e) => self.fail(&e),
                }
                self.form = Form::default();
                self.go(Screen::Services { page: 0 });
            }
            Action::PickService(id) => {
                if let Some(service) = self.services.iter().find(|s| s.id == id).cloned() {
                    // No field active yet: the screen opens on who applies, which says
                    // whose details the fields take; a tap on a field brings the keyboard.
                    self.go(Screen::IntakeDetails {
                        service: Box::new(service),
                    });
                }
            }
            Action::IntakeDetailsDone => {
                if let Screen::IntakeDetails { service } = &self.screen {
                    let service = service.clone();
                    match self
                        .check_intake_person(&service)
                        .and_then(|()| self.check_code_fits())
                    {
                        Ok(()) => {
                            self.go(Screen::IntakeNeed { service });
                            self.form.active = Some(FieldId::Description);
                            self.keyboard.shift = true;
                        }
                        // The keyboard goes to the field the error is about.
                        Err(e) => self.fail(&e),
                    }
                }
            }
            Action::IntakeNeedDone => {
                if let Screen::IntakeNeed { service } = &self.screen {
                    let service = service.clone();
                    let typed = self.form.get(FieldId::Description);
                    match blisko_shared::validate::free_text(
                        blisko_shared::validate::Field::Description,
                        typed,
                        blisko_shared::validate::DESCRIPTION_MAX_CHARS,
                    ) {
                        Ok(_) => self.go(Screen::IntakeDeclaration { service }),
                        Err(e) => self.fail(&e.into()),
                    }
                }
            }
            Action::BackToIntakeDetails => {
                if let Screen::IntakeNeed { service } = &self.screen {
                    let service = service.clone();
                    self.go(Screen::IntakeDetails { service });
                }
            }
            Action::BackToIntakeNeed => {
                if let Screen::IntakeDeclaration { service } = &self.screen {
                    let service = service.clone();
                    self.go(Screen::IntakeNeed { service });
                }
            }
            Action::IntakeSubmit => self.submit_intake(),
            Action::OpenLookup => {
                self.form = Form::default();
                self.go(Screen::Lookup);
                self.form.active = Some(FieldId::LookupCode);
            }
            Action::LookupSubmit => {
                let code = self.form.get(FieldId::LookupCode).to_owned();
                match self.with_kiosk(|k| k.resident(&code)) {
                    Ok(overview) => self.go(Screen::Resident {
                        overview: Box::new(overview),
                    }),
                    Err(e) => self.fail(&e),
                }
            }
            Action::AskCancel(registration, title, at) => {
                if let Screen::Resident { overview } = &self.screen {
                    let overview = overview.clone();
                    self.go(Screen::CancelAsk {
                        overview,
                        registration,
                        title,
                        at,
                    });
                }
            }
            Action::KeepRegistration => {
                if let Screen::CancelAsk { overview, .. } = &self.screen {
                    let overview = overview.clone();
                    self.go(Screen::Resident { overview });
                }
            }
            Action::ConfirmCancel => self.cancel(),
            Action::AskStopSms(at) => {
                if let Screen::Resident { overview } = &self.screen {
                    let overview = overview.clone();
                    self.go(Screen::SmsWithdrawAsk { overview, at });
                }
            }
            Action::KeepSms => {
                if let Screen::SmsWithdrawAsk { overview, .. } = &self.screen {
                    let overview = overview.clone();
                    self.go(Screen::Resident { overview });
                }
            }
            Action::ConfirmStopSms => self.stop_sms(),
            Action::OpenStaff => {
                self.form = Form::default();
                self.go(Screen::StaffPin);
                self.form.active = Some(FieldId::Pin);
            }
            Action::PinSubmit => self.check_pin(),
            Action::StaffMenu => self.staff_screen(Screen::StaffMenu),
            Action::StaffSessions => match self.with_kiosk(|k| k.sessions_today()) {
                Ok(sessions) => self.staff_screen(Screen::StaffSessions { sessions }),
                Err(e) => self.fail(&e),
            },
            Action::OpenRollCall(id) => self.open_roll_call(id),
            Action::BackToRollCall => {
                if let Screen::WalkIn { session } = &self.screen {
                    let id = session.id;
                    self.open_roll_call(id);
                }
            }
            Action::Mark(registration, status) => self.mark(registration, status),
            Action::OpenWalkIn => {
                if let Screen::RollCall { roll } = &self.screen {
                    let session = Box::new(roll.session.clone());
                    self.form = Form::default();
                    self.staff_screen(Screen::WalkIn { session });
                    self.form.active = Some(FieldId::GivenName);
                    self.keyboard.shift = true;
                }
            }
            Action::WalkInSubmit => self.walk_in(),
            Action::StaffClasses => {
                self.load_classes();
                self.staff_screen(Screen::StaffClasses { page: 0 });
            }
            Action::StaffRoster(id) => {
                let loaded = self.with_kiosk(|k| {
                    let class = k.class(&id.to_string())?;
                    let rows = k.named_roster(id)?;
                    let compensation = k.class_compensation(id)?;
                    Ok((class, rows, compensation))
                });
                match loaded {
                    Ok((class, rows, compensation)) => self.staff_screen(Screen::StaffRoster {
                        class: Box::new(class),
                        rows,
                        compensation,
                    }),
                    Err(e) => self.fail(&e),
                }
            }
            Action::StaffSync => match self.with_kiosk(|k| k.status()) {
                Ok(status) => {
                    let revoked = status.revoked || self.revoked;
                    let url = status.server_url.clone().unwrap_or_default();
                    self.staff_screen(Screen::StaffSync {
                        status: Box::new(status),
                    });
                    if revoked && self.staff.is_some() {
                        // The server is known; the new code is what staff type.
                        self.form = Form::default();
                        self.form.set(FieldId::ServerUrl, &url);
                        self.form.active = Some(FieldId::EnrollmentCode);
                    }
                }
                Err(e) => self.fail(&e),
            },
            Action::ReenrollSubmit => self.reenroll(),
            Action::SyncNow => {
                if let Some(sync) = &self.sync {
                    sync.sync_now();
                }
            }
            Action::LeaveStaff => self.reset(),
            Action::CloseApp => {
                if self.staff.is_some() {
                    self.quit = true;
                }
            }
            Action::OpenSetupDemo => self.go(Screen::SetupDemo),
            Action::OpenSetupEnroll => {
                self.form = Form::default();
                self.go(Screen::SetupEnroll);
                self.form.active = Some(FieldId::ServerUrl);
            }
            Action::BackToSetup => self.go(Screen::Setup),
            Action::ToggleSpeech => {
                self.speech.on = !self.speech.on;
                self.speech.last = None;
                if !self.speech.on {
                    self.options.speaker.stop();
                }
            }
            // Said again on this frame: nothing counts as said yet.
            Action::RepeatSpeech => self.speech.last = None,
            Action::SpeechLouder => self.speech.voice = self.speech.voice.louder(),
            Action::SpeechQuieter => self.speech.voice = self.speech.voice.quieter(),
            Action::SpeechFaster => self.speech.voice = self.speech.voice.faster(),
            Action::SpeechSlower => self.speech.voice = self.speech.voice.slower(),
            Action::OpenHelp => self.help_open = true,
            Action::CloseHelp => self.help_open = false,
            Action::PrintSlip => self.print_slip(),
            Action::SetupDemo(branch) => {
                let options = &self.options;
                let setup = key::set_up_with(&options.key_file, &options.data, |key| {
                    Kiosk::setup_demo(&options.data, &branch, key, options.clock.clone())
                })
                .and_then(|k| self.attach(k));
                match setup {
                    Ok(()) => self.reset(),
                    Err(e) => self.fail(&e),
                }
            }
            Action::SetupEnrollSubmit => {
                let server = self.form.get(FieldId::ServerUrl).trim().to_owned();
                let code = self.form.get(FieldId::EnrollmentCode).trim().to_owned();
                // A one-off step done by staff: it waits for the server on purpose.
                let options = &self.options;
                let setup = key::set_up_with(&options.key_file, &options.data, |key| {
                    crate::sync::enroll(
                        &options.data,
                        &server,
                        &code,
                        options.server_ca.as_deref(),
                        key,
                        options.clock.clone(),
                    )
                })
                .and_then(|k| self.attach(k));
                match setup {
                    Ok(()) => self.reset(),
                    Err(e) => self.fail(&e),
                }
            }
        }
    }

    /// Enroll this revoked kiosk again with the code staff typed: it keeps its data, takes
    /// the new credential, and syncs at once with a worker using it.
    fn reenroll(&mut self) {
        if self.staff.is_none() {
            return self.go(Screen::StaffPin);
        }
        let server = self.form.get(FieldId::ServerUrl).trim().to_owned();
        let code = self.form.get(FieldId::EnrollmentCode).trim().to_owned();
        let app_ca = self.options.server_ca.clone();
        // A one-off step done by staff: it waits for the server on purpose.
        let result = self.with_kiosk(|k| {
            let ca = match app_ca {
                Some(pem) => Some(pem),
                None => k.server_ca()?,
            };
            crate::sync::reenroll(k, &server, &code, ca.as_deref())?;
            Ok((SyncClient::for_kiosk(k)?, k.status()?))
        });
        match result {
            Ok((client, status)) => {
                self.revoked = false;
                // The old worker knows only the dead credential.
                self.sync = None;
                self.sync = self
                    .kiosk
                    .as_ref()
                    .map(|k| BackgroundSync::start(k.clone(), client, self.options.sync));
                self.form = Form::default();
                self.go(Screen::StaffSync {
                    status: Box::new(status),
                });
                self.notice = Some(Notice {
                    text: text::T::EnrolledAgain.tr(self.lang).to_owned(),
                    ok: true,
                });
            }
            Err(e) => self.fail(&e),
        }
    }

    /// Staff screens open only in staff mode.
    fn staff_screen(&mut self, screen: Screen) {
        if self.staff.is_some() {
            self.go(screen);
        } else {
            self.go(Screen::StaffPin);
        }
    }

    fn birth_year(&self) -> i32 {
        // An empty or non-numeric year is refused by the same rule as an absurd one.
        self.form
            .get(FieldId::BirthYear)
            .trim()
            .parse()
            .unwrap_or(0)
    }

    /// The person's fields, checked before moving on, with the core's own rules.
    fn check_person_fields(&self) -> Result<(), KioskError> {
        use blisko_shared::validate::{self, Field};
        validate::person_name(Field::GivenName, self.form.get(FieldId::GivenName))?;
        validate::person_name(Field::FamilyName, self.form.get(FieldId::FamilyName))?;
        let year = kiosk::local_date(self.now()).year() as i32;
        validate::parse_birth_year(self.form.get(FieldId::BirthYear), year)?;
        if let Some(phone) = self.form.optional(FieldId::Phone) {
            validate::phone(&phone)?;
        }
        if let Some(code) = self.form.optional(FieldId::ResidentCode)
            && blisko_shared::codes::normalize_resident_code(&code).is_none()
        {
            return Err(KioskError::UnknownResidentCode(code));
        }
        Ok(())
    }

    /// A resident code typed with the details must be that person's: said on the form,
    /// not after the consent screen (the core's own rule, nothing written).
    fn check_code_fits(&self) -> Result<(), KioskError> {
        let Some(code) = self.form.optional(FieldId::ResidentCode) else {
            return Ok(());
        };
        let given = self.form.get(FieldId::GivenName).to_owned();
        let family = self.form.get(FieldId::FamilyName).to_owned();
        let year = self.birth_year();
        self.with_kiosk(|k| k.check_resident_code(&code, &given, &family, year))
    }

    fn check_intake_person(&self, service: &Service) -> Result<(), KioskError> {
        self.check_person_fields()?;
        if service.requires_pesel {
            let pesel = self.form.get(FieldId::Pesel);
            if pesel.trim().is_empty() {
                return Err(KioskError::PeselRequired);
            }
            blisko_shared::validate::pesel(pesel)?;
            blisko_shared::validate::pesel_matches_birth_year(pesel, self.birth_year())?;
        }
        Ok(())
    }

    fn register(&mut self) {
        let Screen::RegisterConsent { class } = &self.screen else {
            return;
        };
        let form = kiosk::RegistrationForm {
            class_id: class.id.to_string(),
            given_name: self.form.get(FieldId::GivenName).to_owned(),
            family_name: self.form.get(FieldId::FamilyName).to_owned(),
            birth_year: self.birth_year(),
            phone: self.form.optional(FieldId::Phone),
            consent: self.form.consent,
            sms_consent: self.form.sms_consent,
            // The texts were shown in the app's language: the SMS consent was given to
            // that language's text, and its messages come in it.
            lang: self.lang,
            resident_code: self.form.optional(FieldId::ResidentCode),
        };
        match self.with_kiosk(|k| k.register(&form)) {
            Ok(receipt) => {
                self.awaiting_details = None;
                self.awaiting_pool = match receipt.awaiting_pool {
                    true => self.sync_state().map(|s| AwaitingDetails {
                        failures: s.failures,
                        tries_left: 1,
                    }),
                    false => None,
                };
                self.after_write();
                // The receipt screen shows the code; the typed details go.
                self.form = Form::default();
                self.go(Screen::Registered {
                    receipt: Box::new(receipt),
                });
            }
            Err(e) => self.refused(&e),
        }
    }

    fn submit_intake(&mut self) {
        let Screen::IntakeDeclaration { service } = &self.screen else {
            return;
        };
        let form = kiosk::IntakeForm {
            service_id: service.id.to_string(),
            given_name: self.form.get(FieldId::GivenName).to_owned(),
            family_name: self.form.get(FieldId::FamilyName).to_owned(),
            birth_year: self.birth_year(),
            phone: self.form.optional(FieldId::Phone),
            applicant_role: self.form.role.map(|r| r.code().to_owned()),
            description: self.form.get(FieldId::Description).to_owned(),
            pesel: self.form.optional(FieldId::Pesel),
            declaration: self.form.declaration,
            consent: self.form.consent,
            sms_consent: self.form.sms_consent,
            lang: self.lang,
            resident_code: self.form.optional(FieldId::ResidentCode),
        };
        match self.with_kiosk(|k| k.submit_intake(&form)) {
            Ok(receipt) => {
                self.awaiting_details = None;
                self.after_write();
                self.form = Form::default();
                self.go(Screen::IntakeSent {
                    receipt: Box::new(receipt),
                });
            }
            Err(e) => self.refused(&e),
        }
    }

    /// A registration or request was refused. A returning resident whose details this
    /// kiosk dropped waits while a sync asks the server for them, and the action runs
    /// again when it is back (up to twice); offline, or if the server has nothing, staff
    /// are asked.
    fn refused(&mut self, e: &KioskError) {
        if !matches!(e, KioskError::DetailsRequested) {
            self.awaiting_details = None;
            return self.fail(e);
        }
        let waiting = match self.awaiting_details {
            None => self.sync_state().map(|s| AwaitingDetails {
                failures: s.failures,
                tries_left: 2,
            }),
            Some(w) if w.tries_left > 0 => Some(AwaitingDetails {
                tries_left: w.tries_left - 1,
                ..w
            }),
            Some(_) => None,
        };
        self.awaiting_details = waiting;
        match (waiting, &self.sync) {
            (Some(_), Some(sync)) => {
                sync.sync_now();
                self.notice = Some(Notice {
                    text: e.message(self.lang),
                    ok: true,
                });
            }
            _ => {
                self.awaiting_details = None;
                self.fail(&KioskError::PersonalDataNotHere);
            }
        }
    }

    fn cancel(&mut self) {
        let Screen::CancelAsk {
            overview,
            registration,
            ..
        } = &self.screen
        else {
            return;
        };
        let (code, id) = (overview.resident_code.clone(), *registration);
        let result = self.with_kiosk(|k| {
            k.cancel(&id.to_string())?;
            k.resident(&code)
        });
        match result {
            Ok(overview) => {
                self.after_write();
                self.go(Screen::Resident {
                    overview: Box::new(overview),
                });
                self.notice = Some(Notice {
                    text: text::T::Cancelled.tr(self.lang).to_owned(),
                    ok: true,
                });
            }
            Err(e) => self.fail(&e),
        }
    }

    fn stop_sms(&mut self) {
        let Screen::SmsWithdrawAsk { overview, .. } = &self.screen else {
            return;
        };
        let (code, person) = (overview.resident_code.clone(), overview.person_id);
        let result = self.with_kiosk(|k| {
            k.withdraw_sms_consent(person)?;
            k.resident(&code)
        });
        match result {
            Ok(overview) => {
                self.after_write();
                self.go(Screen::SmsWithdrawn {
                    overview: Box::new(overview),
                });
            }
            Err(e) => self.fail(&e),
        }
    }

    fn check_pin(&mut self) {
        let now = self.now();
        if self.pin_guard.locked(now).is_some() {
            self.form.clear(&[FieldId::Pin]);
            return;
        }
        let pin = self.form.get(FieldId::Pin).to_owned();
        self.form.clear(&[FieldId::Pin]);
        match self.with_kiosk(|k| k.staff_by_pin(&pin)) {
            Ok(Some(member)) => {
                self.pin_guard.succeeded();
                tracing::info!(staff = %member.id, "staff mode opened");
                self.staff = Some(member);
                self.go(Screen::StaffMenu);
            }
            Ok(None) => {
                self.pin_guard.failed(now);
                tracing::warn!(failures = self.pin_guard.failures(), "wrong staff PIN");
                self.notice = Some(Notice {
                    text: text::T::WrongPin.tr(self.lang).to_owned(),
                    ok: false,
                });
                self.form.active = Some(FieldId::Pin);
            }
            Err(e) => self.fail(&e),
        }
    }

    fn open_roll_call(&mut self, id: SessionId) {
        if self.staff.is_none() {
            return self.go(Screen::StaffPin);
        }
        match self.with_kiosk(|k| k.roll_call(id)) {
            Ok(roll) => {
                self.form = Form::default();
                self.go(Screen::RollCall {
                    roll: Box::new(roll),
                });
            }
            Err(e) => self.fail(&e),
        }
    }

    fn mark(&mut self, registration: RegistrationId, status: AttendanceStatus) {
        let (Screen::RollCall { roll }, Some(staff)) = (&self.screen, &self.staff) else {
            return;
        };
        let (session, by) = (roll.session.id, staff.id);
        let result = self.with_kiosk(|k| {
            k.mark_attendance(session, registration, status, by)?;
            k.roll_call(session)
        });
        match result {
            Ok(roll) => {
                self.after_write();
                self.screen = Screen::RollCall {
                    roll: Box::new(roll),
                };
            }
            Err(e) => self.fail(&e),
        }
    }

    fn walk_in(&mut self) {
        let (Screen::WalkIn { session }, Some(staff)) = (&self.screen, &self.staff) else {
            return;
        };
        let (session, by) = (session.id, staff.id);
        let form = kiosk::RegistrationForm {
            class_id: String::new(),
            given_name: self.form.get(FieldId::GivenName).to_owned(),
            family_name: self.form.get(FieldId::FamilyName).to_owned(),
            birth_year: self.birth_year(),
            phone: None,
            consent: self.form.consent,
            sms_consent: false,
            lang: self.lang,
            resident_code: self.form.optional(FieldId::ResidentCode),
        };
        let result = self.with_kiosk(|k| {
            k.add_walk_in(session, &form, by)?;
            k.roll_call(session)
        });
        match result {
            Ok(roll) => {
                self.after_write();
                self.form = Form::default();
                self.go(Screen::RollCall {
                    roll: Box::new(roll),
                });
            }
            Err(e) => self.fail(&e),
        }
    }
}

/// The field of the current form an error is about, if that form has it.
fn error_field(e: &KioskError, screen: &Screen) -> Option<FieldId> {
    use blisko_shared::validate::Field;
    let field = match e {
        KioskError::Invalid(f) => match f.field() {
            Field::GivenName => FieldId::GivenName,
            Field::FamilyName => FieldId::FamilyName,
            Field::BirthYear => FieldId::BirthYear,
            Field::Phone => FieldId::Phone,
            Field::Pesel => FieldId::Pesel,
            Field::Description => FieldId::Description,
            Field::Pin => FieldId::Pin,
            _ => return None,
        },
        KioskError::PeselRequired | KioskError::PeselNotNeeded => FieldId::Pesel,
        KioskError::UnknownResidentCode(_) if matches!(screen, Screen::Lookup) => {
            FieldId::LookupCode
        }
        KioskError::UnknownResidentCode(_)
        | KioskError::ResidentDetailsMismatch
        | KioskError::PersonalDataNotHere => FieldId::ResidentCode,
        KioskError::SmsConsentNeedsPhone => FieldId::Phone,
        _ => return None,
    };
    let on_screen: &[FieldId] = match screen {
        Screen::RegisterDetails { .. } => &[
            FieldId::GivenName,
            FieldId::FamilyName,
            FieldId::BirthYear,
            FieldId::Phone,
            FieldId::ResidentCode,
        ],
        Screen::WalkIn { .. } => &[
            FieldId::GivenName,
            FieldId::FamilyName,
            FieldId::BirthYear,
            FieldId::ResidentCode,
        ],
        Screen::IntakeDetails { service } if service.requires_pesel => &[
            FieldId::GivenName,
            FieldId::FamilyName,
            FieldId::BirthYear,
            FieldId::Phone,
            FieldId::ResidentCode,
            FieldId::Pesel,
        ],
        Screen::IntakeDetails { .. } => &[
            FieldId::GivenName,
            FieldId::FamilyName,
            FieldId::BirthYear,
            FieldId::Phone,
            FieldId::ResidentCode,
        ],
        Screen::IntakeNeed { .. } => &[FieldId::Description],
        Screen::Lookup => &[FieldId::LookupCode],
        _ => &[],
    };
    on_screen.contains(&field).then_some(field)
}

/// The name of a screen's variant ("RegisterDetails"), for the UI map and scroll ids.
pub(crate) fn screen_name(screen: &Screen) -> String {
    let debug = format!("{screen:?}");
    debug
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_owned()
}

impl eframe::App for KioskApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }
}

/// Open the app window (or the whole screen) and run until it is closed.
pub fn run(options: AppOptions) -> anyhow::Result<()> {
    let app = KioskApp::new(options.clone())?;
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Blisko")
        .with_app_id("blisko-kiosk")
        .with_inner_size(options.size)
        .with_min_inner_size([800.0, 600.0]);
    if options.fullscreen {
        viewport = viewport.with_fullscreen(true).with_decorations(false);
    }
    let native = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    let fullscreen = options.fullscreen;
    eframe::run_native(
        "Blisko",
        native,
        Box::new(move |_cc| Ok(Box::new(Guarded { app, fullscreen }))),
    )
    .map_err(|e| anyhow::anyhow!("the kiosk window failed: {e}"))
}

/// In fullscreen the window refuses to close unless staff asked for it.
struct Guarded {
    app: KioskApp,
    fullscreen: bool,
}

impl eframe::App for Guarded {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        if self.fullscreen
            && !self.app.quit_requested()
            && ui.ctx().input(|i| i.viewport().close_requested())
        {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        self.app.show(ui);
    }
}
