//! The home screen: three large tiles, nothing else to read; on a kiosk the office
//! revoked, only a polite sign that it is out of service.

use eframe::egui::{RichText, Ui, Vec2};

use blisko_shared::i18n::Lang;

use super::View;
use crate::app::Action;
use crate::app::text::{self, T};
use crate::app::{theme, widgets};
use crate::error::KioskError;

pub fn show(ui: &mut Ui, view: &mut View<'_>) -> Option<Action> {
    if view.out_of_service {
        out_of_service(ui, view);
        return None;
    }
    let mut action = None;
    ui.add_space(12.0);
    view.heading(ui, view.t(T::Welcome));
    ui.add_space(24.0);
    let gap = 24.0;
    let width = ((ui.available_width() - 2.0 * gap) / 3.0).max(200.0);
    let height = (ui.available_height() - 24.0).clamp(160.0, 320.0);
    let size = Vec2::new(width, height);
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = gap;
        // A tile names only what this branch offers: its own classes and services.
        let classes = text::offer_hint(
            view.classes.iter().map(|c| c.title.as_str()),
            T::SignUpTileHint,
            view.lang,
        );
        let services = text::offer_hint(
            view.services.iter().map(|s| s.name.as_str()),
            T::RequestTileHint,
            view.lang,
        );
        let tiles = [
            (T::SignUpTile, classes, Action::OpenClasses),
            (T::RequestTile, services, Action::OpenServices),
            (
                T::MineTile,
                view.t(T::MineTileHint).to_owned(),
                Action::OpenLookup,
            ),
        ];
        for (title, hint, tapped) in tiles {
            if widgets::tile(ui, view.p, view.t(title), &hint, size).clicked() {
                action = Some(tapped);
            }
        }
    });
    action
}

/// Where the tiles would be: the sign, in the chosen language first and the other under
/// it, large. Staff mode stays open at the bottom.
fn out_of_service(ui: &mut Ui, view: &View<'_>) {
    let other = match view.lang {
        Lang::Pl => Lang::En,
        Lang::En => Lang::Pl,
    };
    ui.add_space(48.0);
    ui.vertical_centered(|ui| {
        ui.label(
            RichText::new(KioskError::OutOfService.message(view.lang))
                .size(theme::code_size(view.look))
                .strong(),
        );
        ui.add_space(24.0);
        ui.label(
            RichText::new(KioskError::OutOfService.message(other))
                .size(theme::heading_size(view.look)),
        );
    });
}
