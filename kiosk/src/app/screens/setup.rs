//! An empty store: start with the demo catalogue, or enroll with a server.

use eframe::egui::Ui;

use super::View;
use crate::app::text::T;
use crate::app::widgets::{self, Kind};
use crate::app::{Action, FieldId};

pub fn choose(ui: &mut Ui, view: &mut View<'_>) -> Option<Action> {
    let mut action = None;
    view.heading(ui, view.t(T::SetupTitle));
    ui.add_space(16.0);
    if view.button(ui, T::SetupDemo, Kind::Primary) {
        action = Some(Action::OpenSetupDemo);
    }
    if view.button(ui, T::SetupEnroll, Kind::Secondary) {
        action = Some(Action::OpenSetupEnroll);
    }
    action
}

pub fn demo(ui: &mut Ui, view: &mut View<'_>) -> Option<Action> {
    let mut action = None;
    view.heading(ui, view.t(T::ChooseBranch));
    ui.add_space(16.0);
    for (_, code) in blisko_shared::demo::branch_ids() {
        if widgets::button(ui, view.p, code, Kind::Secondary, 240.0).clicked() {
            action = Some(Action::SetupDemo(code.to_owned()));
        }
    }
    action
}

pub fn enroll(ui: &mut Ui, view: &mut View<'_>) -> Option<Action> {
    view.heading(ui, view.t(T::SetupEnroll));
    let width = ui.available_width().min(720.0);
    for (id, label) in [
        (FieldId::ServerUrl, T::ServerAddress),
        (FieldId::EnrollmentCode, T::EnrollmentCode),
    ] {
        let active = view.form.active == Some(id);
        if widgets::field(
            ui,
            view.p,
            view.t(label),
            view.form.get(id),
            active,
            false,
            width,
        )
        .clicked()
        {
            view.form.active = Some(id);
        }
        widgets::field_error(ui);
    }
    None
}
