//! A returning resident: their code, then their registrations and requests, and
//! cancelling a registration with one confirmation step.

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
                if r.status != SeatStatus::Cancelled
                    && widgets::button(
                        ui,
                        view.p,
                        view.t(T::CancelRegistration),
                        Kind::Secondary,
                        200.0,
                    )
                    .clicked()
                {
                    action = Some(Action::AskCancel(r.registration_id, r.class_title.clone()));
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
    });
    action
}

pub fn cancel_ask(ui: &mut Ui, view: &mut View<'_>, title: &str) -> Option<Action> {
    let mut action = None;
    view.heading(ui, view.t(T::CancelQuestion));
    ui.label(RichText::new(title).strong());
    ui.add_space(16.0);
    ui.horizontal(|ui| {
        if view.button(ui, T::NoKeep, Kind::Secondary) {
            action = Some(Action::KeepRegistration);
        }
        if view.button(ui, T::YesCancel, Kind::Primary) {
            action = Some(Action::ConfirmCancel);
        }
    });
    action
}
