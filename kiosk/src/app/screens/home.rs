//! The home screen: three large tiles, nothing else to read.

use eframe::egui::{Ui, Vec2};

use super::View;
use crate::app::Action;
use crate::app::text::T;
use crate::app::widgets;

pub fn show(ui: &mut Ui, view: &mut View<'_>) -> Option<Action> {
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
        let tiles = [
            (T::SignUpTile, T::SignUpTileHint, Action::OpenClasses),
            (T::RequestTile, T::RequestTileHint, Action::OpenServices),
            (T::MineTile, T::MineTileHint, Action::OpenLookup),
        ];
        for (title, hint, tapped) in tiles {
            if widgets::tile(ui, view.p, view.t(title), view.t(hint), size).clicked() {
                action = Some(tapped);
            }
        }
    });
    action
}
