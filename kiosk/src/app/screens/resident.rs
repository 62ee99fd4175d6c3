//! A returning resident: their code, then their registrations and requests; cancelling a
//! registration and stopping SMS reminders, each with one confirmation step.

use eframe::egui::{self, RichText, Ui};

use blisko_shared::seats::SeatStatus;

use super::View;
use crate::app::text::{self, T};
use crate::app::widgets::{self, Kind};
use crate::app::{Action, FieldId};
use crate::kiosk::ResidentOverview;

pub fn lookup(ui: &mut Ui, view: &mut View<'_>) -> Option<Action> {
    view.heading(ui, view.t(T::EnterCode));
    let width = ui.available_width().min(560.0);
    let active = view.form.active == Some(FieldId::LookupCode);
    let r = widgets::field(
        ui,
        view.p,
        view.t(T::ResidentCode),
        view.form.get(FieldId::LookupCode),
        active,
        false,
        width,
    );
    if r.clicked() {
        view.form.active = Some(FieldId::LookupCode);
    }
    widgets::field_error(ui);
    None
}

pub fn overview(ui: &mut Ui, view: &mut View<'_>, overview: &ResidentOverview) -> Option<Action> {
    let mut action = None;
    // A greeting without the first name: the kiosk is not on first-name terms. The code
    // says whose overview this is.
    view.heading(ui, view.t(T::HelloName));
    view.weak(
        ui,
        &format!("{}: {}", view.t(T::ResidentCode), overview.resident_code),
    );
    if overview.erased {
        view.weak(ui, view.t(T::ErasedPerson));
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.label(RichText::new(view.t(T::YourRegistrations)).strong());
        if overview.registrations.is_empty() {
            ui.label(view.t(T::NoneYet));
        }
        for r in &overview.registrations {
            ui.horizontal(|ui| {
                let mut status = text::seat_status(r.status, view.lang).to_owned();
                if let Some(pos) = r.position {
                    status.push_str(&format!(" ({})", text::waitlist_place(pos, view.lang)));
                }
                ui.label(RichText::new(&r.class_title).strong());
                ui.label(format!("— {status}"));
                if r.status != SeatStatus::Cancelled {
                    let text = view.t(T::CancelRegistration);
                    let b = widgets::button(ui, view.p, text, Kind::Secondary, 200.0);
                    if b.clicked() {
                        let (id, title) = (r.registration_id, r.class_title.clone());
                        action = Some(Action::AskCancel(id, title, b.rect));
                    }
                }
            });
        }
        ui.add_space(12.0);
        ui.label(RichText::new(view.t(T::YourRequests)).strong());
        if overview.requests.is_empty() {
            ui.label(view.t(T::NoneYet));
        }
        for r in &overview.requests {
            ui.label(format!(
                "{} · {} — {}",
                r.reference,
                r.service_name,
                text::request_status(&r.status, view.lang)
            ));
            if let Some(message) = &r.message {
                ui.label(format!("{} {message}", view.t(T::OfficeMessage)));
            }
        }
        // Last, below the lists: the question that follows puts its safe answer where
        // this button is, clear of its own heading.
        if overview.sms_consent {
            ui.add_space(12.0);
            ui.horizontal(|ui| {
                ui.label(RichText::new(view.t(T::SmsReminders)).strong());
                let b = widgets::button(ui, view.p, view.t(T::StopSms), Kind::Secondary, 200.0);
                if b.clicked() {
                    action = Some(Action::AskStopSms(b.rect));
                }
            });
        }
    });
    action
}

/// The question before cancelling. The safe answer ("No, keep it") sits exactly where
/// "Cancel my registration" was tapped, so a shaky second tap keeps the seat; "Yes" is
/// in the other half of the screen.
pub fn cancel_ask(ui: &mut Ui, view: &mut View<'_>, title: &str, at: egui::Rect) -> Option<Action> {
    let area = ui.max_rect();
    view.heading(ui, view.t(T::CancelQuestion));
    ui.label(RichText::new(title).strong());
    let answer = ask(ui, view, area, at, T::NoKeep, T::YesCancel);
    answer.map(|yes| match yes {
        true => Action::ConfirmCancel,
        false => Action::KeepRegistration,
    })
}

/// The question before stopping SMS reminders, laid out as [`cancel_ask`]: "No, keep SMS
/// reminders" where "Nie chcę SMS" was tapped.
pub fn stop_sms_ask(ui: &mut Ui, view: &mut View<'_>, at: egui::Rect) -> Option<Action> {
    let area = ui.max_rect();
    view.heading(ui, view.t(T::StopSmsQuestion));
    ui.label(view.t(T::StopSmsHint));
    let answer = ask(ui, view, area, at, T::NoKeepSms, T::YesStopSms);
    answer.map(|yes| match yes {
        true => Action::ConfirmStopSms,
        false => Action::KeepSms,
    })
}

/// SMS reminders stopped: what happens now. Its one button ("Done") is in the bottom bar.
pub fn sms_stopped(ui: &mut Ui, view: &mut View<'_>) -> Option<Action> {
    view.heading(ui, view.t(T::SmsStopped));
    ui.label(view.t(T::SmsStoppedText));
    None
}

/// A yes-or-no question's two answers: the safe one (`no`) exactly where the question's
/// button was tapped (`at`), so a shaky second tap lands on it; `yes` in the other half of
/// `area`. Returns the answer tapped (`true`: yes).
fn ask(
    ui: &mut Ui,
    view: &mut View<'_>,
    area: egui::Rect,
    at: egui::Rect,
    no_key: T,
    yes_key: T,
) -> Option<bool> {
    let mut answer = None;
    let h = widgets::height(ui);
    let no_size = egui::vec2(at.width().max(200.0), at.height().max(h));
    let no_rect = egui::Rect::from_min_size(at.min, no_size);
    let yes_width = 420.0_f32.min(area.width());
    // Far from the tap: in the lower part when the tap was high, and the other way.
    let yes_top = if no_rect.center().y < area.center().y {
        area.bottom() - h - 8.0
    } else {
        ui.cursor().top() + 16.0
    };
    let yes_left = if no_rect.center().x < area.center().x {
        area.right() - yes_width
    } else {
        area.left()
    };
    let yes_rect =
        egui::Rect::from_min_size(egui::pos2(yes_left, yes_top), egui::vec2(yes_width, h));
    let no = ui.put(no_rect, |ui: &mut Ui| {
        widgets::button(ui, view.p, view.t(no_key), Kind::Secondary, no_size.x)
    });
    if no.clicked() {
        answer = Some(false);
    }
    let yes = ui.put(yes_rect, |ui: &mut Ui| {
        widgets::button(ui, view.p, view.t(yes_key), Kind::Primary, yes_width)
    });
    if yes.clicked() {
        answer = Some(true);
    }
    answer
}
