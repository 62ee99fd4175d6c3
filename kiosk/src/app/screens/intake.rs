//! An intake request (wniosek): the service, who applies, the need in the person's own
//! words, the declaration and consent; then the reference number to keep.

use eframe::egui::{self, RichText, Ui, Vec2};

use blisko_shared::model::{ApplicantRole, Service};

use super::register::{clause, person_fields};
use super::{View, page_range, pager};
use crate::app::text::{self, T};
use crate::app::widgets::{self, Kind};
use crate::app::{Action, FieldId, printing, theme};
use crate::kiosk::IntakeReceipt;

pub fn services(ui: &mut Ui, view: &mut View<'_>, page: usize) -> Option<Action> {
    let mut action = None;
    view.heading(ui, view.t(T::ServicesTitle));
    let body = theme::body_size(view.look);
    let card_h = body * 5.0 + 24.0;
    let (range, pages) = page_range(ui, view.services.len(), page, card_h, 90.0);
    let width = ui.available_width();
    for service in &view.services[range] {
        let mut lines = vec![(service.description.clone(), view.p.text)];
        if service.requires_pesel {
            lines.push((view.t(T::NeedsPesel).to_owned(), view.p.text_weak));
        }
        let response = widgets::card(
            ui,
            view.p,
            &service.name,
            &lines,
            view.t(T::Choose),
            Vec2::new(width, card_h),
            &service.name,
        );
        if response.clicked() {
            action = Some(Action::PickService(service.id));
        }
    }
    if let Some(a) = pager(ui, view, page, pages) {
        action = Some(a);
    }
    action
}

pub fn details(ui: &mut Ui, view: &mut View<'_>, service: &Service) -> Option<Action> {
    view.heading(ui, &service.name);
    // Who applies comes first: it says whose details go in the fields below.
    ui.label(RichText::new(view.t(T::ApplicantRole)).strong());
    ui.horizontal_wrapped(|ui| {
        for (role, key) in [
            (ApplicantRole::SelfApplicant, T::RoleSelf),
            (ApplicantRole::LegalRepresentative, T::RoleLegal),
            (ApplicantRole::DeFactoCarer, T::RoleCarer),
        ] {
            let chosen = view.form.role.unwrap_or(ApplicantRole::SelfApplicant) == role;
            let kind = if chosen {
                Kind::Selected
            } else {
                Kind::Secondary
            };
            if widgets::button(ui, view.p, view.t(key), kind, 240.0).clicked() {
                view.form.role = Some(role);
            }
        }
    });
    ui.add_space(8.0);
    // Whose details go in the fields: the applicant's own, or (a parent, a carer) those
    // of the person the request is for.
    let whose = match view.form.role.unwrap_or(ApplicantRole::SelfApplicant) {
        ApplicantRole::SelfApplicant => T::DetailsOfSelf,
        ApplicantRole::LegalRepresentative | ApplicantRole::DeFactoCarer => T::DetailsOfOther,
    };
    ui.label(RichText::new(view.t(whose)).strong());
    let height = ui.available_height();
    let mut fields = vec![
        (FieldId::GivenName, T::GivenName),
        (FieldId::FamilyName, T::FamilyName),
        (FieldId::BirthYear, T::BirthYear),
        (FieldId::Phone, T::PhoneForCall),
        (FieldId::ResidentCode, T::ResidentCodeOptional),
    ];
    if service.requires_pesel {
        fields.push((FieldId::Pesel, T::Pesel));
    }
    person_fields(ui, view, &fields, height);
    None
}

pub fn need(ui: &mut Ui, view: &mut View<'_>, service: &Service) -> Option<Action> {
    view.heading(ui, &service.name);
    let width = ui.available_width().min(1100.0);
    let active = view.form.active == Some(FieldId::Description);
    // Four lines where the screen has room for them above the keyboard, two on a small
    // one (the box grows as the text does, its last line kept in view).
    let lines = if ui.ctx().content_rect().height() < 900.0 {
        2
    } else {
        4
    };
    let r = widgets::text_box(
        ui,
        view.p,
        view.t(T::Description),
        view.form.get(FieldId::Description),
        active,
        width,
        lines,
    );
    if r.clicked() {
        view.form.active = Some(FieldId::Description);
    }
    widgets::field_error(ui);
    None
}

pub fn declaration(ui: &mut Ui, view: &mut View<'_>, service: &Service) -> Option<Action> {
    view.heading(
        ui,
        &format!("{} — {}", service.name, view.t(T::DeclarationTitle)),
    );
    egui::ScrollArea::vertical().show(ui, |ui| {
        // The conditions come before the declaration that names them.
        ui.label(RichText::new(view.t(T::ConditionsTitle)).strong());
        match service.conditions.trim() {
            "" => ui.label(view.t(T::NoConditions)),
            conditions => ui.label(conditions),
        };
        ui.add_space(6.0);
        ui.label(text::declaration(&service.conditions, view.lang));
        let width = ui.available_width().min(900.0);
        let label = view.t(T::DeclarationTick);
        widgets::check(ui, view.p, &mut view.form.declaration, label, width);
        ui.add_space(8.0);
        // The box to tick comes before the long text it confirms, so that it is in view
        // without scrolling; the text follows at once.
        ui.label(RichText::new(view.t(T::IntakeInformationTitle)).strong());
        let label = view.t(T::ConsentRead);
        widgets::check(ui, view.p, &mut view.form.consent, label, width);
        if view.form.optional(FieldId::Phone).is_some() {
            let label = view.t(T::SmsConsent);
            widgets::check(ui, view.p, &mut view.form.sms_consent, label, width);
        }
        clause(ui, view, T::IntakeClause);
        if !service.legal_basis.trim().is_empty() {
            view.weak(
                ui,
                &format!("{}: {}", view.t(T::LegalBasisTitle), service.legal_basis),
            );
        }
    });
    None
}

pub fn sent(ui: &mut Ui, view: &mut View<'_>, receipt: &IntakeReceipt) -> Option<Action> {
    let mut action = None;
    widgets::notice(ui, view.p.ok_fill, view.p.ok_text, view.t(T::RequestSent));
    ui.add_space(8.0);
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.label(RichText::new(&receipt.service_name).strong());
        ui.label(view.t(T::ReferenceNumber));
        view.code(ui, &receipt.reference);
        ui.label(view.t(T::KeepYourCode));
        view.code(ui, &receipt.resident_code);
        ui.label(view.t(printing::intake_next(receipt.call_back)));
        if view.can_print && view.button(ui, T::Print, Kind::Secondary) {
            action = Some(Action::PrintSlip);
        }
    });
    action
}
