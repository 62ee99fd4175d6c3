//! Signing up for a class: the class list, the person's details, the information
//! clause, and the receipt that says plainly whether the seat is confirmed.

use eframe::egui::{self, RichText, Ui, Vec2};

use blisko_shared::model::Weekday;
use blisko_shared::seats::{self, Admission, SeatStatus};

use super::{View, page_range, pager};
use crate::app::printing;
use crate::app::text::{self, T};
use crate::app::theme;
use crate::app::widgets::{self, Kind};
use crate::app::{Action, FieldId};
use crate::kiosk::RegistrationReceipt;
use crate::store::ClassRow;

/// "poniedziałek 17:00, czwartek 17:00 (90 min)".
fn when(class: &ClassRow, view: &View<'_>) -> String {
    class
        .schedule
        .iter()
        .map(|s| {
            format!(
                "{} {} ({} min)",
                text::weekday(s.weekday, view.lang),
                s.start,
                s.minutes
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Free seats or the waiting list, in words, and whether a tap can still register.
pub(super) fn seats(class: &ClassRow, view: &View<'_>) -> (String, bool) {
    let admission = seats::admission_for(class.free_seats, class.waitlisted, class.waitlist_limit);
    match admission {
        Admission::Confirm => (text::free_seats(class.free_seats, view.lang), true),
        Admission::Full => (view.t(T::NoWaitlist).to_owned(), false),
        Admission::Waitlist { .. } => {
            let waiting = text::waiting(class.waitlisted, view.lang);
            (format!("{} · {waiting}", view.t(T::NoFreeSeats)), true)
        }
    }
}

pub fn classes(
    ui: &mut Ui,
    view: &mut View<'_>,
    day: Option<Weekday>,
    page: usize,
) -> Option<Action> {
    let mut action = None;
    view.heading(ui, view.t(T::SignUpTile));
    ui.horizontal_wrapped(|ui| {
        let kind = |selected: bool| {
            if selected {
                Kind::Selected
            } else {
                Kind::Secondary
            }
        };
        if widgets::button(ui, view.p, view.t(T::AllDays), kind(day.is_none()), 120.0).clicked() {
            action = Some(Action::ClassDay(None));
        }
        for d in Weekday::ALL {
            let name = text::weekday(d, view.lang);
            if widgets::button(ui, view.p, name, kind(day == Some(d)), 120.0).clicked() {
                action = Some(Action::ClassDay(Some(d)));
            }
        }
    });
    ui.add_space(8.0);
    let mut shown: Vec<(&ClassRow, String)> = view
        .classes
        .iter()
        .filter_map(|c| match day {
            None => Some((c, String::new())),
            Some(d) => c
                .schedule
                .iter()
                .find(|s| s.weekday == d)
                .map(|s| (c, s.start.clone())),
        })
        .collect();
    if day.is_some() {
        shown.sort_by(|a, b| {
            a.1.cmp(&b.1)
                .then_with(|| blisko_shared::collate::compare(&a.0.title, &b.0.title))
        });
    }
    if shown.is_empty() {
        ui.label(view.t(T::NoClasses));
        return action;
    }
    let body = theme::body_size(view.look);
    let card_h = body * 5.6 + 16.0;
    let (range, pages) = page_range(ui, shown.len(), page, card_h, 70.0);
    let width = ui.available_width();
    for (class, _) in &shown[range] {
        let (seats_text, open) = seats(class, view);
        let lines = vec![
            (when(class, view), view.p.text),
            (
                format!(
                    "{}: {} · {}: {} · {}: {}",
                    view.t(T::Room),
                    class.room,
                    view.t(T::Instructor),
                    class.instructor,
                    view.t(T::AgeGroup),
                    class.age_group
                ),
                view.p.text_weak,
            ),
            (seats_text.clone(), view.p.text),
        ];
        let label = format!("{}. {seats_text}", class.title);
        let cue = if open { view.t(T::Choose) } else { "—" };
        let response = widgets::card(
            ui,
            view.p,
            &class.title,
            &lines,
            cue,
            Vec2::new(width, card_h),
            &label,
        );
        if response.clicked() && open {
            action = Some(Action::PickClass(class.id));
        }
    }
    if let Some(a) = pager(ui, view, page, pages) {
        action = Some(a);
    }
    action
}

/// Fields narrower than this would wrap their labels ("Telefon (nieobowiązkowo)").
const MIN_FIELD_WIDTH: f32 = 340.0;

/// The fields of a person in a grid, with a tap choosing the field to type into. Two to a
/// row, or more where that is what it takes to show them all within `height` (the space
/// above the on-screen keyboard): a field below the fold is one a senior never finds.
/// Where even that is not enough (large text), a tapped field scrolls into view.
pub(super) fn person_fields(
    ui: &mut Ui,
    view: &mut View<'_>,
    fields: &[(FieldId, T)],
    height: f32,
) {
    let gap = 24.0;
    let spacing = ui.spacing().item_spacing.y;
    let row_height =
        ui.text_style_height(&egui::TextStyle::Body) + widgets::height(ui) + 2.0 * spacing;
    let grow = widgets::height(ui) / theme::BUTTON_HEIGHT;
    let full_width = ui.available_width();
    let width_of = |columns: usize| (full_width - gap * (columns - 1) as f32) / columns as f32;
    let fits = |columns: usize| fields.len().div_ceil(columns) as f32 * row_height <= height;
    let mut columns = 2;
    while !fits(columns)
        && columns < fields.len()
        && width_of(columns + 1) >= MIN_FIELD_WIDTH * grow
    {
        columns += 1;
    }
    // One column where two would wrap the labels (portrait, or large text).
    if width_of(columns) < MIN_FIELD_WIDTH * grow {
        columns = 1;
    }
    let width = width_of(columns).min(560.0 * grow);
    for row in fields.chunks(columns) {
        ui.horizontal_top(|ui| {
            ui.spacing_mut().item_spacing.x = gap;
            for (id, label) in row {
                ui.vertical(|ui| {
                    ui.set_width(width);
                    let active = view.form.active == Some(*id);
                    let masked = *id == FieldId::Pin;
                    let r = widgets::field(
                        ui,
                        view.p,
                        view.t(*label),
                        view.form.get(*id),
                        active,
                        masked,
                        width,
                    );
                    if r.clicked() {
                        view.form.active = Some(*id);
                    }
                });
            }
        });
        widgets::field_error(ui);
    }
}

pub fn details(ui: &mut Ui, view: &mut View<'_>, class: &ClassRow) -> Option<Action> {
    view.heading(ui, &class.title);
    waitlist_warning(ui, view, class);
    ui.label(RichText::new(view.t(T::YourDetails)).strong());
    view.weak(ui, view.t(T::TapFieldToType));
    // The frame scrolls the form, bringing the active field into view.
    let height = ui.available_height();
    person_fields(
        ui,
        view,
        &[
            (FieldId::GivenName, T::GivenName),
            (FieldId::FamilyName, T::FamilyName),
            (FieldId::BirthYear, T::BirthYear),
            (FieldId::Phone, T::Phone),
            (FieldId::ResidentCode, T::ResidentCodeOptional),
        ],
        height,
    );
    None
}

/// An information clause (art. 13 RODO) in full. Its version is recorded with the
/// consent, never shown: residents read the text, not its code.
pub(super) fn clause(ui: &mut Ui, view: &View<'_>, text: T) {
    egui::Frame::new()
        .fill(view.p.field_fill)
        .stroke(egui::Stroke::new(2.0, view.p.border))
        .corner_radius(10.0)
        .inner_margin(16.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(view.t(text));
        });
}

/// Said on the form, before anything is sent: a full class puts the person on its
/// waiting list.
pub(super) fn waitlist_warning(ui: &mut Ui, view: &View<'_>, class: &ClassRow) {
    if let Some(warning) = text::waitlist_ahead(class, view.lang) {
        widgets::notice(ui, view.p.wait_fill, view.p.wait_text, &warning);
        ui.add_space(6.0);
    }
}

pub fn consent(ui: &mut Ui, view: &mut View<'_>, class: &ClassRow) -> Option<Action> {
    view.heading(
        ui,
        &format!("{} — {}", class.title, view.t(T::InformationTitle)),
    );
    waitlist_warning(ui, view, class);
    clause(ui, view, T::InformationClause);
    ui.add_space(8.0);
    let width = ui.available_width().min(900.0);
    let label = view.t(T::ConsentRead);
    widgets::check(ui, view.p, &mut view.form.consent, label, width);
    if view.form.optional(FieldId::Phone).is_some() {
        let label = view.t(T::SmsConsent);
        widgets::check(ui, view.p, &mut view.form.sms_consent, label, width);
    }
    None
}

pub fn done(ui: &mut Ui, view: &mut View<'_>, receipt: &RegistrationReceipt) -> Option<Action> {
    if receipt.awaiting_pool {
        ui.label(
            RichText::new(view.t(T::CheckingPool))
                .size(theme::heading_size(view.look))
                .strong(),
        );
        ui.label(view.t(T::CheckingPoolDetail));
        return None;
    }
    let mut action = None;
    let confirmed = receipt.status == SeatStatus::Confirmed;
    let (fill, color) = if confirmed {
        (view.p.ok_fill, view.p.ok_text)
    } else {
        (view.p.wait_fill, view.p.wait_text)
    };
    egui::ScrollArea::vertical().show(ui, |ui| {
        egui::Frame::new()
            .fill(fill)
            .stroke(egui::Stroke::new(3.0, color))
            .corner_radius(12.0)
            .inner_margin(24.0)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                let detail = if confirmed {
                    view.t(T::ConfirmedDetail)
                } else {
                    view.t(T::WaitlistDetail)
                };
                ui.label(
                    RichText::new(printing::registration_status(receipt, view.lang))
                        .size(theme::heading_size(view.look))
                        .color(color)
                        .strong(),
                );
                ui.label(RichText::new(&receipt.class_title).color(color).strong());
                ui.label(RichText::new(detail).color(color));
            });
        // The code to keep comes first, in view on the smallest screen; the next
        // session follows.
        ui.add_space(12.0);
        ui.label(view.t(T::KeepYourCode));
        view.code(ui, &receipt.resident_code);
        ui.add_space(12.0);
        ui.label(RichText::new(view.t(T::NextSession)).strong());
        match printing::next_session(receipt, view.lang) {
            Some(lines) => {
                for (label, value) in lines {
                    ui.label(
                        RichText::new(format!("{}: {value}", view.t(label)))
                            .size(theme::body_size(view.look) * 1.1)
                            .strong(),
                    );
                }
            }
            None => {
                ui.label(view.t(T::NoNextSession));
            }
        }
        if view.can_print && view.button(ui, T::Print, Kind::Secondary) {
            action = Some(Action::PrintSlip);
        }
    });
    action
}
