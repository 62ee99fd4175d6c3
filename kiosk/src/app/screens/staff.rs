//! Staff mode, behind a PIN: today's roll call with walk-ins, rosters and waiting
//! lists, and the sync state with "sync now".

use eframe::egui::{self, RichText, Ui, Vec2};

use blisko_shared::model::AttendanceStatus;
use blisko_shared::seats::{CompensationTask, SeatStatus};

use super::register::{person_fields, seats};
use super::{View, page_range, pager};
use crate::app::text::{self, T};
use crate::app::theme;
use crate::app::widgets::{self, Kind};
use crate::app::{Action, FieldId};
use crate::kiosk::{RollCall, Status};
use crate::store::{ClassRow, NamedRegistration, SessionRow};

pub fn pin(ui: &mut Ui, view: &mut View<'_>) -> Option<Action> {
    view.heading(ui, view.t(T::EnterPin));
    if let Some(minutes) = view.pin_locked_minutes {
        widgets::notice(
            ui,
            view.p.error_fill,
            view.p.error_text,
            &text::pin_locked(minutes, view.lang),
        );
        return None;
    }
    let width = ui.available_width().min(400.0);
    let active = view.form.active == Some(FieldId::Pin);
    let r = widgets::field(
        ui,
        view.p,
        "PIN",
        view.form.get(FieldId::Pin),
        active,
        true,
        width,
    );
    if r.clicked() {
        view.form.active = Some(FieldId::Pin);
    }
    widgets::field_error(ui);
    None
}

pub fn menu(ui: &mut Ui, view: &mut View<'_>) -> Option<Action> {
    let mut action = None;
    view.heading(ui, view.t(T::StaffMenu));
    let width = ui.available_width().min(640.0);
    let mut items = vec![
        (T::RollCallTile, Action::StaffSessions, Kind::Primary),
        (T::RostersTile, Action::StaffClasses, Kind::Secondary),
        (T::SyncTile, Action::StaffSync, Kind::Secondary),
        (T::LeaveStaff, Action::LeaveStaff, Kind::Secondary),
    ];
    if view.fullscreen {
        items.push((T::CloseApp, Action::CloseApp, Kind::Secondary));
    }
    for (key, tapped, kind) in items {
        if widgets::button(ui, view.p, view.t(key), kind, width).clicked() {
            action = Some(tapped);
        }
    }
    if let Some(tapped) = super::voice::staff_settings(ui, view) {
        action = Some(tapped);
    }
    action
}

pub fn sessions(ui: &mut Ui, view: &mut View<'_>, sessions: &[SessionRow]) -> Option<Action> {
    let mut action = None;
    view.heading(ui, view.t(T::RollCallTile));
    if sessions.is_empty() {
        ui.label(view.t(T::NoSessionsToday));
    }
    let width = ui.available_width();
    egui::ScrollArea::vertical().show(ui, |ui| {
        for s in sessions {
            let label = format!(
                "{} {} · {} · {}",
                s.start,
                s.class_title,
                view.t(T::Room),
                s.room
            );
            if widgets::button(ui, view.p, &label, Kind::Secondary, width).clicked() {
                action = Some(Action::OpenRollCall(s.id));
            }
        }
    });
    action
}

/// A registered person's name; without it, why: erased by the office, or not here yet.
fn person_name(view: &View<'_>, given: &str, family: &str, erased: bool) -> String {
    if erased {
        view.t(T::ErasedPerson).to_owned()
    } else if given.is_empty() && family.is_empty() {
        view.t(T::UnknownPerson).to_owned()
    } else {
        format!("{family} {given}")
    }
}

pub fn roll_call(ui: &mut Ui, view: &mut View<'_>, roll: &RollCall) -> Option<Action> {
    let mut action = None;
    let s = &roll.session;
    view.heading(ui, &format!("{} · {} {}", s.class_title, s.date, s.start));
    if view.button(ui, T::AddWalkIn, Kind::Primary) {
        action = Some(Action::OpenWalkIn);
    }
    if roll.entries.is_empty() {
        ui.label(view.t(T::NoOneRegistered));
    }
    let row_h = theme::body_size(view.look) * 2.0 + 40.0;
    egui::ScrollArea::vertical().show_rows(ui, row_h, roll.entries.len(), |ui, range| {
        for e in &roll.entries[range] {
            ui.horizontal(|ui| {
                ui.set_min_height(row_h - 8.0);
                ui.vertical(|ui| {
                    ui.set_width(360.0);
                    ui.label(
                        RichText::new(person_name(view, &e.given_name, &e.family_name, e.erased))
                            .strong(),
                    );
                    if e.seat == SeatStatus::Waitlisted {
                        view.weak(ui, text::seat_status(e.seat, view.lang));
                    }
                    if e.conflict {
                        ui.label(RichText::new(view.t(T::ConflictMark)).color(view.p.error_text));
                    }
                });
                for status in [
                    AttendanceStatus::Present,
                    AttendanceStatus::Absent,
                    AttendanceStatus::Excused,
                ] {
                    let kind = if e.mark == Some(status) {
                        Kind::Selected
                    } else {
                        Kind::Secondary
                    };
                    let label = view.t(text::attendance(status));
                    if widgets::button(ui, view.p, label, kind, 200.0).clicked() {
                        action = Some(Action::Mark(e.registration_id, status));
                    }
                }
            });
        }
    });
    action
}

pub fn walk_in(ui: &mut Ui, view: &mut View<'_>, session: &SessionRow) -> Option<Action> {
    view.heading(
        ui,
        &format!("{} — {}", session.class_title, view.t(T::AddWalkIn)),
    );
    // The consent tick box under the fields must show too.
    let height = ui.available_height() - widgets::height(ui) - 3.0 * ui.spacing().item_spacing.y;
    {
        person_fields(
            ui,
            view,
            &[
                (FieldId::GivenName, T::GivenName),
                (FieldId::FamilyName, T::FamilyName),
                (FieldId::BirthYear, T::BirthYear),
                (FieldId::ResidentCode, T::ResidentCodeOptional),
            ],
            height,
        );
        ui.add_space(8.0);
        let width = ui.available_width().min(900.0);
        let label = view.t(T::WalkInConsent);
        widgets::check(ui, view.p, &mut view.form.consent, label, width);
    }
    None
}

pub fn classes(ui: &mut Ui, view: &mut View<'_>, page: usize) -> Option<Action> {
    let mut action = None;
    view.heading(ui, view.t(T::RostersTile));
    let body = theme::body_size(view.look);
    let card_h = body * 3.5 + 24.0;
    let (range, pages) = page_range(ui, view.classes.len(), page, card_h, 90.0);
    let width = ui.available_width();
    for class in &view.classes[range] {
        let (seats_text, _) = seats(class, view);
        let counts = format!(
            "{}: {} / {} · {}",
            view.t(T::Roster),
            class.confirmed,
            class.capacity,
            seats_text
        );
        let lines = vec![(counts, view.p.text)];
        let r = widgets::card(
            ui,
            view.p,
            &class.title,
            &lines,
            view.t(T::Choose),
            Vec2::new(width, card_h),
            &class.title,
        );
        if r.clicked() {
            action = Some(Action::StaffRoster(class.id));
        }
    }
    if let Some(a) = pager(ui, view, page, pages) {
        action = Some(a);
    }
    action
}

pub fn roster(
    ui: &mut Ui,
    view: &mut View<'_>,
    class: &ClassRow,
    rows: &[NamedRegistration],
    compensation: &[CompensationTask],
) -> Option<Action> {
    view.heading(
        ui,
        &format!("{} · {} / {}", class.title, class.confirmed, class.capacity),
    );
    let confirmed: Vec<_> = rows
        .iter()
        .filter(|r| r.status == SeatStatus::Confirmed)
        .collect();
    let waiting: Vec<_> = rows
        .iter()
        .filter(|r| r.status == SeatStatus::Waitlisted)
        .collect();
    let beyond = |r: &NamedRegistration| {
        compensation
            .iter()
            .any(|t| t.registration_id == r.registration_id)
    };
    let line = |view: &View<'_>, n: usize, r: &NamedRegistration| {
        let name = person_name(view, &r.given_name, &r.family_name, r.erased);
        match beyond(r) {
            true => format!("{n}. {name} — {}", view.t(T::BeyondLimit)),
            false => format!("{n}. {name}"),
        }
    };
    egui::ScrollArea::vertical().show(ui, |ui| {
        if !compensation.is_empty() {
            warning(ui, view, view.t(T::CompensationNotice));
        }
        ui.label(RichText::new(format!("{} ({})", view.t(T::Roster), confirmed.len())).strong());
        for (i, r) in confirmed.iter().enumerate() {
            ui.label(line(view, i + 1, r));
        }
        ui.add_space(12.0);
        ui.label(RichText::new(format!("{} ({})", view.t(T::Waitlist), waiting.len())).strong());
        for r in &waiting {
            ui.label(line(view, r.position.unwrap_or(0) as usize, r));
        }
    });
    None
}

/// A framed notice in the warning colours.
fn warning(ui: &mut Ui, view: &View<'_>, text: &str) {
    egui::Frame::new()
        .fill(view.p.wait_fill)
        .stroke(egui::Stroke::new(3.0, view.p.wait_text))
        .corner_radius(12.0)
        .inner_margin(16.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(text).color(view.p.wait_text).strong());
        });
    ui.add_space(12.0);
}

pub fn sync(ui: &mut Ui, view: &mut View<'_>, status: &Status) -> Option<Action> {
    let mut action = None;
    view.heading(ui, view.t(T::SyncTile));
    let dash = "—".to_owned();
    let server = status
        .server_url
        .clone()
        .unwrap_or_else(|| view.t(T::Standalone).to_owned());
    let lines = [
        (T::Server, server),
        (
            T::LastSync,
            status.last_sync.clone().unwrap_or_else(|| dash.clone()),
        ),
        (T::PendingChanges, status.pending_changes.to_string()),
        (
            T::LastError,
            status.last_sync_error.clone().unwrap_or(dash.clone()),
        ),
        (
            T::KioskClock,
            status
                .clock_offset_s
                .map(|s| text::clock_offset(s, view.lang))
                .unwrap_or(dash),
        ),
    ];
    for (key, value) in lines {
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("{}:", view.t(key))).strong());
            ui.label(value);
        });
    }
    if let Some(state) = &view.sync
        && let Some(e) = &state.last_error
    {
        view.weak(ui, e);
    }
    if status.clock_is_off() {
        ui.add_space(8.0);
        widgets::notice(
            ui,
            view.p.error_fill,
            view.p.error_text,
            view.t(T::SetTheClock),
        );
    }
    ui.add_space(12.0);
    if status.revoked || view.out_of_service {
        return reenroll(ui, view);
    }
    if status.server_url.is_some() && view.button(ui, T::SyncNow, Kind::Primary) {
        action = Some(Action::SyncNow);
    }
    action
}

/// A revoked kiosk: the server's address and a new enrollment code from the office.
fn reenroll(ui: &mut Ui, view: &mut View<'_>) -> Option<Action> {
    widgets::notice(
        ui,
        view.p.error_fill,
        view.p.error_text,
        view.t(T::RevokedStaff),
    );
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
    // "Enroll again" sits in the bottom bar, above the keyboard.
    None
}
