//! Reading aloud and help, on every screen: the "Pomoc" and "Powtórz" buttons of the
//! title bar, the "Czytaj na głos" switch, the help window, and the voice settings in
//! staff mode.

use eframe::egui::{self, RichText, Ui};

use super::View;
use crate::app::Action;
use crate::app::text::T;
use crate::app::theme;
use crate::app::widgets::{self, Kind};
use crate::speech::Voice;

/// "Pomoc" (rightmost, always) and "Powtórz" (while reading aloud), drawn right to left.
pub fn title_buttons(ui: &mut Ui, view: &View<'_>) -> Option<Action> {
    let mut action = None;
    if widgets::button(ui, view.p, view.t(T::Help), Kind::Primary, 160.0).clicked() {
        action = Some(Action::OpenHelp);
    }
    if view.speech_on
        && widgets::button(ui, view.p, view.t(T::Repeat), Kind::Secondary, 160.0).clicked()
    {
        action = Some(Action::RepeatSpeech);
    }
    action
}

/// The "Czytaj na głos" switch: it says what a tap will do.
pub fn switch(ui: &mut Ui, view: &View<'_>) -> Option<Action> {
    let (key, kind) = if view.speech_on {
        (T::StopReadingAloud, Kind::Selected)
    } else {
        (T::ReadAloud, Kind::Secondary)
    };
    view.button(ui, key, kind).then_some(Action::ToggleSpeech)
}

/// The help window; true when it is closed.
pub fn help_window(ctx: &egui::Context, view: &View<'_>, title: &str, body: &str) -> bool {
    let mut close = false;
    let modal = egui::Modal::new(egui::Id::unique("blisko-help")).show(ctx, |ui| {
        ui.set_width(720.0_f32.min(ctx.content_rect().width() - 64.0));
        ui.vertical_centered(|ui| {
            view.heading(ui, title);
            ui.add_space(12.0);
        });
        ui.label(RichText::new(body).size(theme::body_size(view.look)));
        ui.add_space(16.0);
        ui.vertical_centered(|ui| {
            if widgets::button(ui, view.p, view.t(T::Close), Kind::Primary, 320.0).clicked() {
                close = true;
            }
        });
    });
    close || modal.should_close()
}

/// Staff mode: reading aloud always at hand, with its volume and speed.
pub fn staff_settings(ui: &mut Ui, view: &View<'_>) -> Option<Action> {
    let mut action = None;
    ui.add_space(16.0);
    ui.label(RichText::new(view.t(T::ReadingVoice)).strong());
    view.weak(ui, view.t(T::ReadingVoiceHint));
    ui.horizontal_wrapped(|ui| {
        if let Some(tapped) = switch(ui, view) {
            action = Some(tapped);
        }
    });
    let step = |ui: &mut Ui, name: T, value: usize, less: (T, Action), more: (T, Action)| {
        let mut tapped = None;
        ui.horizontal(|ui| {
            ui.label(format!("{}: {value} / {}", view.t(name), Voice::STEPS));
            if view.button(ui, less.0, Kind::Secondary) {
                tapped = Some(less.1);
            }
            if view.button(ui, more.0, Kind::Secondary) {
                tapped = Some(more.1);
            }
        });
        tapped
    };
    let volume = step(
        ui,
        T::Volume,
        view.voice.volume_step(),
        (T::Quieter, Action::SpeechQuieter),
        (T::Louder, Action::SpeechLouder),
    );
    let speed = step(
        ui,
        T::Speed,
        view.voice.speed_step(),
        (T::Slower, Action::SpeechSlower),
        (T::Faster, Action::SpeechFaster),
    );
    action.or(volume).or(speed)
}
