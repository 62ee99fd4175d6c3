//! The frame around every screen (title bar, sync indicator, back / start again, the
//! keyboard, the idle warning) and one module per group of screens. Screens draw from
//! the app's state and return the [`Action`] a tap asks for; they change nothing else
//! than the form being typed.
//!
//! Forms scroll inside the space above the on-screen keyboard, and the field being typed
//! into (with its label, and an error about the form under it) is scrolled into that
//! space whenever it becomes active or an error appears. In landscape the keyboard is at
//! the bottom of the screen; in portrait it sits right under the form.

mod home;
mod intake;
mod register;
mod resident;
mod setup;
mod staff;
mod voice;

use eframe::egui::{self, Align, Layout, Rect, RichText, Ui};

use blisko_shared::i18n::Lang;

use super::form::Form;
use super::keyboard::{self, Keyboard};
use super::session::Idle;
use super::text::T;
use super::theme::{self, Look, Palette};
use super::widgets::{self, Kind};
use super::{Action, KioskApp, Notice, Screen};
use crate::store::ClassRow;
use crate::sync::{SyncPhase, SyncState};

/// What every screen may read, and the form it may type into.
pub(super) struct View<'a> {
    pub lang: Lang,
    pub look: Look,
    pub p: &'static Palette,
    pub form: &'a mut Form,
    pub classes: &'a [ClassRow],
    pub services: &'a [blisko_shared::model::Service],
    pub staff_name: Option<&'a str>,
    pub sync: Option<SyncState>,
    pub fullscreen: bool,
    /// Minutes left of a PIN lock-out.
    pub pin_locked_minutes: Option<u64>,
    /// The office revoked this kiosk: residents are told it is out of service.
    pub out_of_service: bool,
    /// Reading aloud is on, and with what voice.
    pub speech_on: bool,
    pub voice: crate::speech::Voice,
    /// A receipt printer is set up: receipts offer to print a slip.
    pub can_print: bool,
}

impl View<'_> {
    pub fn t(&self, key: T) -> &'static str {
        key.tr(self.lang)
    }

    pub fn heading(&self, ui: &mut Ui, text: &str) {
        ui.label(
            RichText::new(text)
                .size(theme::heading_size(self.look))
                .strong(),
        );
    }

    pub fn button(&self, ui: &mut Ui, key: T, kind: Kind) -> bool {
        widgets::button(ui, self.p, self.t(key), kind, 200.0).clicked()
    }

    /// A code to keep (resident code, reference number), large and unmistakable.
    pub fn code(&self, ui: &mut Ui, text: &str) {
        ui.label(
            RichText::new(text)
                .size(theme::code_size(self.look))
                .monospace()
                .strong(),
        );
    }

    pub fn weak(&self, ui: &mut Ui, text: &str) {
        ui.label(RichText::new(text).color(self.p.text_weak));
    }
}

/// Screens with fields typed on the on-screen keyboard: they scroll as one.
fn is_form(screen: &Screen) -> bool {
    matches!(
        screen,
        Screen::SetupEnroll
            | Screen::RegisterDetails { .. }
            | Screen::IntakeDetails { .. }
            | Screen::IntakeNeed { .. }
            | Screen::Lookup
            | Screen::StaffPin
            | Screen::WalkIn { .. }
            | Screen::StaffSync { .. }
    )
}

/// A receipt: its one button ("Done") sits apart from where the previous screen's main
/// button was, so that a second tap of a double tap finds nothing there.
fn is_receipt(screen: &Screen) -> bool {
    matches!(
        screen,
        Screen::Registered { .. } | Screen::IntakeSent { .. } | Screen::SmsWithdrawn { .. }
    )
}

/// The screens whose main button sends what was typed: it must not sit where the
/// previous screen's "Next" was, or the second tap of a double tap would send it.
fn submits_apart(screen: &Screen) -> bool {
    matches!(
        screen,
        Screen::RegisterConsent { .. } | Screen::IntakeDeclaration { .. }
    )
}

/// Draw the frame and the current screen; return what was tapped. While `guarded`
/// (just after a screen change) nothing reacts to a touch.
pub(super) fn frame(
    app: &mut KioskApp,
    ui: &mut Ui,
    idle: Idle,
    sync: Option<SyncState>,
    guarded: bool,
) -> Option<Action> {
    if guarded {
        ui.disable();
    }
    let now_ms = app.now();
    let pin_locked_minutes = app
        .pin_guard
        .locked(app.now())
        .map(|ms| ms.div_ceil(60_000));
    let out_of_service = app.revoked;
    let help = app.help_shown();
    let (speech_on, voice) = (app.speech.on, app.speech.voice);
    let KioskApp {
        screen,
        form,
        keyboard,
        lang,
        look,
        notice,
        classes,
        services,
        staff,
        branch_name,
        options,
        cue_key,
        scroll_frames,
        visible_area,
        ..
    } = app;
    let mut view = View {
        lang: *lang,
        look: *look,
        p: theme::palette(*look),
        form,
        classes,
        services,
        staff_name: staff.as_ref().map(|s| s.name.as_str()),
        sync,
        fullscreen: options.fullscreen,
        pin_locked_minutes,
        out_of_service,
        speech_on,
        voice,
        can_print: options.printer.is_some(),
    };
    let mut action = None;

    egui::Panel::top("title").show(ui, |ui| {
        // The title bar keeps the normal size at every text step: it is not read, and
        // one line of it leaves the room to the form.
        let small = theme::body_size(Look::default()) * 0.85;
        ui.style_mut()
            .text_styles
            .insert(egui::TextStyle::Body, egui::FontId::proportional(small));
        // "Pomoc" and "Powtórz" keep the normal look's size too: a full touch target,
        // with the room of the larger steps left to the form.
        let normal = Look {
            high_contrast: view.look.high_contrast,
            ..Look::default()
        };
        ui.style_mut().text_styles.insert(
            egui::TextStyle::Button,
            egui::FontId::proportional(theme::body_size(normal) * 0.85),
        );
        ui.spacing_mut().interact_size.y = theme::button_height(normal);
        ui.spacing_mut().button_padding = egui::vec2(20.0, 10.0);
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                // Help and "repeat" sit in the top corner, away from the bottom bar
                // where every screen's main button is.
                if let Some(tapped) = voice::title_buttons(ui, &view) {
                    action = Some(tapped);
                }
                if let Some(name) = view.staff_name {
                    ui.label(RichText::new(format!("{} · {name}", view.t(T::StaffMenu))).strong());
                }
                sync_indicator(ui, &view);
                // The names take what is left, cut short on a narrow screen rather than
                // drawn over the indicator.
                ui.with_layout(Layout::left_to_right(Align::Center), |ui| {
                    ui.add(
                        egui::Label::new(RichText::new(T::AppTitle.tr(view.lang)).strong())
                            .truncate(),
                    );
                    if !branch_name.is_empty() {
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!("· {branch_name}")).color(view.p.text_weak),
                            )
                            .truncate(),
                        );
                    }
                });
            });
        });
        ui.add_space(4.0);
    });

    let portrait = ui.ctx().content_rect().aspect_ratio() < 1.0;
    // In portrait the keyboard follows the form, and the bar follows the keyboard.
    let bar_follows = portrait && is_form(screen) && view.form.active.is_some();
    if !bar_follows {
        egui::Panel::bottom("navigation").show(ui, |ui| {
            ui.add_space(8.0);
            ui.horizontal(|ui| nav_row(ui, &view, screen, &mut action));
            ui.add_space(8.0);
        });
    }
    let wanted_key = theme::button_height(view.look);
    if let Some(field) = view.form.active
        && !portrait
    {
        egui::Panel::bottom("keyboard").show(ui, |ui| {
            ui.add_space(8.0);
            show_keyboard(ui, &mut view, keyboard, field, now_ms, wanted_key);
            ui.add_space(8.0);
        });
    }

    // An error about a form goes under the field being typed (see `widgets::field`).
    let field_error = match (notice.as_ref(), view.form.active) {
        (Some(n), Some(_)) if !n.ok && is_form(screen) => Some(widgets::FieldError {
            text: n.text.clone(),
            fill: view.p.error_fill,
            color: view.p.error_text,
        }),
        _ => None,
    };
    // Scroll the active field into view when it, the screen or the notice changed.
    let key = format!(
        "{}|{:?}|{:?}|{:?}",
        super::screen_name(screen),
        view.form.active,
        notice,
        view.look
    );
    // A few frames running: a new text size settles its layout over more than one.
    if *cue_key != key {
        *cue_key = key;
        *scroll_frames = 3;
    }
    let scroll = *scroll_frames > 0;
    *scroll_frames = scroll_frames.saturating_sub(1);
    if *scroll_frames > 0 {
        // The frames that settle the scroll must come even if nobody touches the screen.
        ui.ctx().request_repaint();
    }
    ui.ctx().data_mut(|d| {
        d.insert_temp(
            widgets::cue_id(),
            widgets::FieldCue {
                scroll,
                error: field_error.clone(),
                drawn: None,
                field: None,
                untick_error: notice.as_ref().is_some_and(|n| !n.ok),
            },
        )
    });

    // The height the form was shown in last frame: what the active field must fit in.
    let last_viewport = visible_area.map(|r| r.height());
    *visible_area = None;
    egui::CentralPanel::default().show(ui, |ui| {
        if let Some(n) = notice.as_ref()
            && field_error.is_none()
        {
            show_notice(ui, view.p, n);
            ui.add_space(8.0);
        }
        if is_form(screen) {
            let keyboard_h = match view.form.active {
                Some(field) if portrait => {
                    let window_h = ui.ctx().content_rect().height();
                    let width = ui.available_width();
                    let bar = widgets::height(ui) + 24.0;
                    keyboard::height(field.layout(), width, window_h, wanted_key) + 16.0 + bar
                }
                _ => 0.0,
            };
            let max_h = (ui.available_height() - keyboard_h).max(120.0);
            let out = egui::ScrollArea::vertical()
                .id_salt(super::screen_name(screen))
                // A finger drags the form whether the touch screen reports touches or
                // a mouse (many do the latter under X).
                .scroll_source(egui::containers::scroll_area::ScrollSource::ALL)
                .max_height(max_h)
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    let tapped = screen_body(ui, &mut view, screen);
                    widgets::scroll_to_active(ui, last_viewport.unwrap_or(max_h).min(max_h));
                    tapped
                });
            // The part of the form on screen: the viewport, or less when the form is
            // shorter (portrait, where the keyboard follows the form).
            let shown = out.inner_rect.height().min(out.content_size.y);
            *visible_area = Some(Rect::from_min_size(
                out.inner_rect.min,
                egui::vec2(out.inner_rect.width(), shown),
            ));
            if out.inner.is_some() {
                action = out.inner;
            }
            if let Some(field) = view.form.active
                && portrait
            {
                // In portrait the keyboard follows the form, where the eyes are, and the
                // bar with "Next" follows the keyboard.
                ui.add_space(8.0);
                show_keyboard(ui, &mut view, keyboard, field, now_ms, wanted_key);
                ui.add_space(8.0);
                ui.horizontal(|ui| nav_row(ui, &view, screen, &mut action));
            }
        } else {
            let tapped = screen_body(ui, &mut view, screen);
            if tapped.is_some() {
                action = tapped;
            }
        }
    });

    if let Some((title, body)) = &help
        && voice::help_window(ui.ctx(), &view, title, body)
    {
        action = Some(Action::CloseHelp);
    }

    if let Idle::Warning { seconds_left } = idle
        && idle_warning(ui.ctx(), &view, seconds_left)
    {
        action = Some(Action::MoreTime);
    }
    action
}

/// The current screen's own content.
fn screen_body(ui: &mut Ui, view: &mut View<'_>, screen: &Screen) -> Option<Action> {
    {
        match screen {
            Screen::Setup => setup::choose(ui, view),
            Screen::SetupDemo => setup::demo(ui, view),
            Screen::SetupEnroll => setup::enroll(ui, view),
            Screen::Home => home::show(ui, view),
            Screen::Classes { day, page } => register::classes(ui, view, *day, *page),
            Screen::RegisterDetails { class } => register::details(ui, view, class),
            Screen::RegisterConsent { class } => register::consent(ui, view, class),
            Screen::Registered { receipt } => register::done(ui, view, receipt),
            Screen::Services { page } => intake::services(ui, view, *page),
            Screen::IntakeDetails { service } => intake::details(ui, view, service),
            Screen::IntakeNeed { service } => intake::need(ui, view, service),
            Screen::IntakeDeclaration { service } => intake::declaration(ui, view, service),
            Screen::IntakeSent { receipt } => intake::sent(ui, view, receipt),
            Screen::Lookup => resident::lookup(ui, view),
            Screen::Resident { overview } => resident::overview(ui, view, overview),
            Screen::CancelAsk { title, at, .. } => resident::cancel_ask(ui, view, title, *at),
            Screen::SmsWithdrawAsk { at, .. } => resident::stop_sms_ask(ui, view, *at),
            Screen::SmsWithdrawn { .. } => resident::sms_stopped(ui, view),
            Screen::StaffPin => staff::pin(ui, view),
            Screen::StaffMenu => staff::menu(ui, view),
            Screen::StaffSessions { sessions } => staff::sessions(ui, view, sessions),
            Screen::RollCall { roll } => staff::roll_call(ui, view, roll),
            Screen::WalkIn { session } => staff::walk_in(ui, view, session),
            Screen::StaffClasses { page } => staff::classes(ui, view, *page),
            Screen::StaffRoster {
                class,
                rows,
                compensation,
            } => staff::roster(ui, view, class, rows, compensation),
            Screen::StaffSync { status } => staff::sync(ui, view, status),
        }
    }
}

/// The bottom bar: back, start again and the screen's main action (settings on the start
/// screens). At the bottom of the screen, or right under the keyboard in portrait.
fn nav_row(ui: &mut Ui, view: &View<'_>, screen: &Screen, action: &mut Option<Action>) {
    let at_start = matches!(screen, Screen::Home | Screen::Setup);
    if at_start {
        ui.horizontal_wrapped(|ui| settings_row(ui, view, action));
    } else if is_receipt(screen) {
        // Alone, bottom right: "Sign me up" and "Send the request" were next to
        // "Back" at the left (see `submits_apart`), and nothing else is here.
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            let done = view.t(T::Done);
            if widgets::button(ui, view.p, done, Kind::Primary, 260.0).clicked() {
                *action = Some(Action::StartAgain);
            }
        });
    } else if submits_apart(screen) {
        // "Sign me up" and "Send the request" sit next to "Back", away from the
        // bottom right where the previous screen's "Next" was.
        ui.horizontal_wrapped(|ui| {
            if let Some(back) = back_of(screen)
                && view.button(ui, T::Back, Kind::Secondary)
            {
                *action = Some(back);
            }
            if let Some((key, next)) = primary_of(screen, view) {
                let text = view.t(key);
                if widgets::button(ui, view.p, text, Kind::Primary, 260.0).clicked() {
                    *action = Some(next);
                }
            }
            ui.add_space(32.0);
            if view.button(ui, T::StartAgain, Kind::Secondary) {
                *action = Some(Action::StartAgain);
            }
        });
    } else {
        if let Some(back) = back_of(screen)
            && view.button(ui, T::Back, Kind::Secondary)
        {
            *action = Some(back);
        }
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            // The screen's one main action sits here, always in view, never
            // pushed off the screen by the keyboard.
            if let Some((key, next)) = primary_of(screen, view) {
                let text = view.t(key);
                if widgets::button(ui, view.p, text, Kind::Primary, 260.0).clicked() {
                    *action = Some(next);
                }
            }
            if view.button(ui, T::StartAgain, Kind::Secondary) {
                *action = Some(Action::StartAgain);
            }
        });
    }
}

/// Where "back" goes from each screen; the start screens have none.
fn back_of(screen: &Screen) -> Option<Action> {
    Some(match screen {
        Screen::Setup | Screen::Home => return None,
        Screen::SetupDemo | Screen::SetupEnroll => Action::BackToSetup,
        Screen::Classes { .. } | Screen::Services { .. } | Screen::Lookup => Action::Home,
        Screen::RegisterDetails { .. } => Action::OpenClasses,
        Screen::RegisterConsent { .. } => Action::BackToDetails,
        Screen::Registered { .. } | Screen::IntakeSent { .. } => Action::Home,
        Screen::IntakeDetails { .. } => Action::OpenServices,
        Screen::IntakeNeed { .. } => Action::BackToIntakeDetails,
        Screen::IntakeDeclaration { .. } => Action::BackToIntakeNeed,
        Screen::Resident { .. } => Action::OpenLookup,
        Screen::CancelAsk { .. } => Action::KeepRegistration,
        Screen::SmsWithdrawAsk { .. } => Action::KeepSms,
        Screen::SmsWithdrawn { .. } => Action::Home,
        Screen::StaffPin | Screen::StaffMenu => Action::Home,
        Screen::StaffSessions { .. } | Screen::StaffClasses { .. } | Screen::StaffSync { .. } => {
            Action::StaffMenu
        }
        Screen::RollCall { .. } => Action::StaffSessions,
        Screen::WalkIn { .. } => Action::BackToRollCall,
        Screen::StaffRoster { .. } => Action::StaffClasses,
    })
}

/// The main action of a screen that has one, shown in the bottom bar.
fn primary_of(screen: &Screen, view: &View<'_>) -> Option<(T, Action)> {
    Some(match screen {
        Screen::RegisterDetails { .. } => (T::Next, Action::RegisterDetailsDone),
        Screen::RegisterConsent { .. } => (T::SignMeUp, Action::RegisterSubmit),
        Screen::IntakeDetails { .. } => (T::Next, Action::IntakeDetailsDone),
        Screen::IntakeNeed { .. } => (T::Next, Action::IntakeNeedDone),
        Screen::IntakeDeclaration { .. } => (T::SendRequest, Action::IntakeSubmit),
        Screen::Lookup => (T::Show, Action::LookupSubmit),
        Screen::StaffPin if view.pin_locked_minutes.is_none() => (T::Unlock, Action::PinSubmit),
        Screen::WalkIn { .. } => (T::AddPresent, Action::WalkInSubmit),
        Screen::SetupEnroll => (T::Connect, Action::SetupEnrollSubmit),
        Screen::StaffSync { status } if status.revoked || view.out_of_service => {
            (T::EnrollAgain, Action::ReenrollSubmit)
        }
        _ => return None,
    })
}

fn settings_row(ui: &mut Ui, view: &View<'_>, action: &mut Option<Action>) {
    let other = match view.lang {
        Lang::Pl => Lang::En,
        Lang::En => Lang::Pl,
    };
    if view.button(ui, T::OtherLanguage, Kind::Secondary) {
        *action = Some(Action::SetLang(other));
    }
    let text_key = if view.look.text == theme::TextStep::Largest {
        T::NormalText
    } else {
        T::LargerText
    };
    if view.button(ui, text_key, Kind::Secondary) {
        *action = Some(Action::ToggleLargeText);
    }
    let contrast_key = if view.look.high_contrast {
        T::NormalContrast
    } else {
        T::HighContrast
    };
    if view.button(ui, contrast_key, Kind::Secondary) {
        *action = Some(Action::ToggleContrast);
    }
    if let Some(tapped) = voice::switch(ui, view) {
        *action = Some(tapped);
    }
    // "Obsługa" keeps to the far corner where it fits beside the others, and goes to a
    // row of its own on a narrow screen rather than over the button before it.
    let staff = |ui: &mut Ui| widgets::button(ui, view.p, view.t(T::Staff), Kind::Secondary, 120.0);
    let wanted = 2.0 * widgets::height(ui) * 1.4 + ui.spacing().item_spacing.x;
    if ui.available_rect_before_wrap().width() >= wanted {
        ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
            if staff(ui).clicked() {
                *action = Some(Action::OpenStaff);
            }
        });
    } else {
        ui.end_row();
        if staff(ui).clicked() {
            *action = Some(Action::OpenStaff);
        }
    }
}

fn show_keyboard(
    ui: &mut Ui,
    view: &mut View<'_>,
    keyboard: &mut Keyboard,
    field: super::FieldId,
    now_ms: u64,
    wanted_key: f32,
) {
    if field.capitalizes() {
        let value = view.form.get(field);
        if value.is_empty() || value.ends_with([' ', '-']) {
            keyboard.shift = true;
        }
    }
    // Keys type at once and, while reading aloud, say their letter; not the PIN's (it is
    // masked), nor a PESEL's or phone number's, which the whole room would hear (EN 301
    // 549 5.1.3.8 and 5.1.3.9: no private data through a loudspeaker).
    let quiet = matches!(
        field,
        super::FieldId::Pin | super::FieldId::Pesel | super::FieldId::Phone
    );
    let set_typing = |ui: &Ui, typing: bool| {
        ui.ctx().data_mut(|d| {
            let e = d.get_temp_mut_or_default::<widgets::Explore>(widgets::explore_id());
            e.typing = typing;
            e.quiet = quiet;
        });
    };
    set_typing(ui, true);
    ui.vertical_centered(|ui| {
        let layout = field.layout();
        if let Some(press) = keyboard.show(ui, view.p, view.lang, layout, now_ms, wanted_key) {
            view.form.press(press);
        }
    });
    set_typing(ui, false);
}

fn show_notice(ui: &mut Ui, p: &Palette, notice: &Notice) {
    let (fill, color) = if notice.ok {
        (p.ok_fill, p.ok_text)
    } else {
        (p.error_fill, p.error_text)
    };
    widgets::notice(ui, fill, color, &notice.text);
}

/// Calm words, never an alarm: residents need not know about the network.
fn sync_indicator(ui: &mut Ui, view: &View<'_>) {
    let text = match &view.sync {
        None => view.t(T::SyncOffline).to_owned(),
        Some(s) if s.phase == SyncPhase::Syncing => view.t(T::SyncSyncing).to_owned(),
        Some(s) if s.phase == SyncPhase::Offline => view.t(T::SyncOffline).to_owned(),
        Some(s) => match s.last_success {
            None => view.t(T::SyncNever).to_owned(),
            Some(at) => {
                let minutes = at.elapsed().as_secs() / 60;
                if minutes == 0 {
                    format!("{} {}", view.t(T::SyncedAgo), view.t(T::JustNow))
                } else {
                    format!(
                        "{} {minutes} {}",
                        view.t(T::SyncedAgo),
                        view.t(T::MinutesAgo)
                    )
                }
            }
        },
    };
    ui.label(RichText::new(text).color(view.p.quiet_text));
}

/// The idle warning: a modal with a countdown and one big button. True when tapped.
fn idle_warning(ctx: &egui::Context, view: &View<'_>, seconds_left: u64) -> bool {
    let mut more = false;
    egui::Modal::new(egui::Id::unique("idle-warning")).show(ctx, |ui| {
        ui.set_width(640.0);
        ui.vertical_centered(|ui| {
            view.heading(ui, view.t(T::IdleTitle));
            ui.add_space(8.0);
            ui.label(view.t(T::IdleText));
            ui.add_space(8.0);
            ui.label(
                RichText::new(format!("{}: {seconds_left}", view.t(T::IdleSeconds)))
                    .size(theme::code_size(view.look))
                    .strong(),
            );
            ui.add_space(12.0);
            if widgets::button(ui, view.p, view.t(T::MoreTime), Kind::Primary, 480.0).clicked() {
                more = true;
            }
        });
    });
    more
}

/// A page of `items` that fits the height left, with buttons to turn pages (a list
/// that must be dragged to scroll would hide its end from a senior). Returns the range
/// to show and draws the page buttons under it via `footer`.
pub(super) fn page_range(
    ui: &Ui,
    total: usize,
    page: usize,
    row_height: f32,
    reserve: f32,
) -> (std::ops::Range<usize>, usize) {
    let spacing = ui.spacing().item_spacing.y;
    let fit = ((ui.available_height() - reserve) / (row_height + spacing)).floor();
    let per_page = (fit.max(1.0)) as usize;
    let pages = total.div_ceil(per_page).max(1);
    let page = page.min(pages - 1);
    let start = page * per_page;
    (start..(start + per_page).min(total), pages)
}

/// The "previous page / page N of M / next page" row.
pub(super) fn pager(ui: &mut Ui, view: &View<'_>, page: usize, pages: usize) -> Option<Action> {
    if pages <= 1 {
        return None;
    }
    let page = page.min(pages - 1);
    let mut action = None;
    ui.horizontal(|ui| {
        if page > 0 && view.button(ui, T::PreviousPage, Kind::Secondary) {
            action = Some(Action::Page(page - 1));
        }
        ui.label(format!("{} {} / {pages}", view.t(T::PageOf), page + 1));
        if page + 1 < pages && view.button(ui, T::NextPage, Kind::Secondary) {
            action = Some(Action::Page(page + 1));
        }
    });
    action
}
