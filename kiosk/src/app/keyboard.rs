//! The on-screen keyboard: letters with every Polish letter, and a number pad.
//!
//! egui has no on-screen keyboard, and none of the crates fits: this one returns the key
//! pressed and the form puts it in the field being typed. No auto-repeat, no long-press
//! alternatives (ą is a key of its own), and a second press of the same physical key
//! within the repeat guard (default [`DEFAULT_REPEAT_GUARD_MS`]) is taken for a shaky
//! finger and ignored: "T" then "t" on the same key is one press, and so is a double tap
//! on the shift key.
//!
//! The keys scale with the screen and the text size: as wide as a tenth of the width
//! allows (up to 1.6 times their height), as tall as the text size asks, but the whole
//! keyboard never takes more than [`MAX_SHARE`] of the window's height, so the field
//! being typed into always has room above it.

use eframe::egui::{FontId, TextStyle, Ui, Vec2};

use super::text::T;
use super::theme::{MIN_TARGET, Palette};
use super::widgets::{self, Kind};
use blisko_shared::i18n::Lang;

/// Presses of one key closer together than this count once, unless configured.
pub const DEFAULT_REPEAT_GUARD_MS: u64 = 300;
/// The longest repeat guard allowed: longer would swallow a deliberate "oo" or "ll".
pub const MAX_REPEAT_GUARD_MS: u64 = 500;
/// The largest part of the window's height the keyboard may take.
pub const MAX_SHARE: f32 = 0.38;
/// What a tall window keeps above and below the keyboard (points).
pub const FORM_ROOM: f32 = 560.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Names: letters with the Polish ones, no digits.
    Letters,
    /// Free text: digits, letters and the Polish ones.
    Text,
    /// Codes and addresses: digits and plain letters.
    Code,
    /// Numbers only: a number pad.
    Digits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Press {
    Char(char),
    Backspace,
    Hide,
}

/// A physical key: its row and place in the row (the bottom row's keys by name), the
/// same whatever case it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyId {
    At(usize, usize),
    Shift,
    Space,
    Erase,
    Hide,
}

const DIGIT_ROW: &str = "1234567890";
const LETTER_ROWS: [&str; 4] = ["qwertyuiop", "asdfghjkl-", "zxcvbnm.,'", "ąćęłńóśźż"];
const CODE_ROWS: [&str; 4] = ["1234567890", "qwertyuiop", "asdfghjkl:", "zxcvbnm./-"];

const DIGIT_ROWS: [&str; 4] = ["123", "456", "789", "+0"];

#[derive(Debug, Clone)]
pub struct Keyboard {
    /// The next letter is a capital (one-shot, like a phone's keyboard).
    pub shift: bool,
    /// Presses of one physical key closer together than this (ms) count once.
    pub repeat_guard_ms: u64,
    last_press: Option<(KeyId, u64)>,
}

impl Default for Keyboard {
    fn default() -> Keyboard {
        Keyboard::new(DEFAULT_REPEAT_GUARD_MS)
    }
}

/// The size of one key for a keyboard of `rows` rows (the bottom row included) in a
/// space `width` wide, in a window `window_height` tall, at a text size asking for keys
/// `wanted` tall. `gap` is the space between keys.
pub fn key_size(width: f32, window_height: f32, rows: usize, wanted: f32, gap: f32) -> Vec2 {
    let rows = rows as f32;
    // The keyboard takes up to MAX_SHARE of the window, or more on a tall window where
    // FORM_ROOM points stay for the title, the form and the bottom bar.
    let max_h = (window_height * MAX_SHARE).max(window_height - FORM_ROOM);
    let fit_h = (max_h - gap * (rows + 1.0)) / rows;
    let h = wanted.min(fit_h).max(MIN_TARGET);
    let w = ((width - 9.0 * gap) / 10.0).clamp(MIN_TARGET, h * 1.6);
    Vec2::new(w, h)
}

/// The height the keyboard of `layout` takes in a space `width` wide.
pub fn height(layout: Layout, width: f32, window_height: f32, wanted: f32) -> f32 {
    let gap = 8.0;
    let rows = match layout {
        Layout::Letters | Layout::Code => 5,
        Layout::Text => 6,
        Layout::Digits => 5,
    };
    let size = key_size(width, window_height, rows, wanted, gap);
    rows as f32 * (size.y + gap)
}

impl Keyboard {
    pub fn new(repeat_guard_ms: u64) -> Keyboard {
        Keyboard {
            shift: false,
            repeat_guard_ms: repeat_guard_ms.min(MAX_REPEAT_GUARD_MS),
            last_press: None,
        }
    }

    /// Draw the keyboard and return what was pressed this frame. `now_ms` is the app's
    /// clock; `wanted` the key height the text size asks for.
    pub fn show(
        &mut self,
        ui: &mut Ui,
        p: &Palette,
        lang: Lang,
        layout: Layout,
        now_ms: u64,
        wanted: f32,
    ) -> Option<Press> {
        let mut pressed: Option<(KeyId, Option<Press>)> = None;
        let gap = 8.0;
        ui.spacing_mut().item_spacing = Vec2::splat(gap);
        ui.spacing_mut().button_padding = Vec2::new(8.0, 2.0);
        let body = ui.style().text_styles[&TextStyle::Body].size;
        // Letters as large as the text size, unless the key is lower than that.
        let letters = |ui: &mut Ui, key_h: f32| {
            ui.spacing_mut().interact_size.y = key_h;
            let size = body.min(key_h * 0.7);
            ui.style_mut()
                .text_styles
                .insert(TextStyle::Button, FontId::proportional(size));
        };
        let window_h = ui.ctx().content_rect().height();
        match layout {
            Layout::Letters | Layout::Text | Layout::Code => {
                let rows: Vec<&str> = match layout {
                    Layout::Letters => LETTER_ROWS.to_vec(),
                    Layout::Text => std::iter::once(DIGIT_ROW).chain(LETTER_ROWS).collect(),
                    _ => CODE_ROWS.to_vec(),
                };
                let size = key_size(ui.available_width(), window_h, rows.len() + 1, wanted, gap);
                // A row is as tall as its keys, not as the ordinary buttons.
                letters(ui, size.y);
                let span = |keys: f32| Vec2::new(size.x * keys + gap * (keys - 1.0), size.y);
                for (r, row) in rows.iter().enumerate() {
                    ui.horizontal(|ui| char_row(ui, p, r, row, self.shift, size, &mut pressed));
                }
                ui.horizontal(|ui| {
                    // The named keys' words in smaller letters, to fit their keys.
                    let small = (body * 0.75).min(size.y * 0.5);
                    ui.style_mut()
                        .text_styles
                        .insert(TextStyle::Button, FontId::proportional(small));
                    let shift_kind = if self.shift {
                        Kind::Selected
                    } else {
                        Kind::Secondary
                    };
                    if widgets::key(ui, p, T::Shift.tr(lang), shift_kind, span(2.5)).clicked() {
                        pressed = Some((KeyId::Shift, None));
                    }
                    let space = span(2.5);
                    key(
                        ui,
                        p,
                        T::Space.tr(lang),
                        KeyId::Space,
                        Press::Char(' '),
                        space,
                        &mut pressed,
                    );
                    let erase = T::Erase.tr(lang);
                    key(
                        ui,
                        p,
                        erase,
                        KeyId::Erase,
                        Press::Backspace,
                        span(2.0),
                        &mut pressed,
                    );
                    let hide = T::HideKeyboard.tr(lang);
                    key(
                        ui,
                        p,
                        hide,
                        KeyId::Hide,
                        Press::Hide,
                        span(3.0),
                        &mut pressed,
                    );
                });
            }
            Layout::Digits => {
                let size = key_size(ui.available_width(), window_h, 5, wanted, gap);
                let size = Vec2::new(size.y * 1.6, size.y);
                letters(ui, size.y);
                for (r, row) in DIGIT_ROWS.iter().enumerate() {
                    ui.horizontal(|ui| {
                        char_row(ui, p, r, row, false, size, &mut pressed);
                        if *row == "+0" {
                            let erase = T::Erase.tr(lang);
                            key(
                                ui,
                                p,
                                erase,
                                KeyId::Erase,
                                Press::Backspace,
                                size,
                                &mut pressed,
                            );
                        }
                    });
                }
                let hide = T::HideKeyboard.tr(lang);
                let wide = Vec2::new(size.x * 3.0 + 2.0 * gap, size.y);
                key(ui, p, hide, KeyId::Hide, Press::Hide, wide, &mut pressed);
            }
        }
        let (id, press) = pressed?;
        self.accept(id, now_ms)?;
        let Some(press) = press else {
            // The shift key types nothing.
            self.shift = !self.shift;
            return None;
        };
        if matches!(press, Press::Char(c) if c.is_alphabetic()) {
            self.shift = false;
        }
        Some(press)
    }

    /// Whether a press of `id` at `now_ms` counts: not when the same physical key was
    /// pressed less than the repeat guard ago.
    fn accept(&mut self, id: KeyId, now_ms: u64) -> Option<()> {
        if let Some((last, at)) = self.last_press
            && last == id
            && now_ms.saturating_sub(at) < self.repeat_guard_ms
        {
            return None;
        }
        self.last_press = Some((id, now_ms));
        Some(())
    }
}

/// One key; a tap records which physical key it was and what it types.
fn key(
    ui: &mut Ui,
    p: &Palette,
    label: &str,
    id: KeyId,
    press: Press,
    size: Vec2,
    pressed: &mut Option<(KeyId, Option<Press>)>,
) {
    if widgets::key(ui, p, label, Kind::Secondary, size).clicked() {
        *pressed = Some((id, Some(press)));
    }
}

/// A row of character keys, in capitals when `shift` is on.
fn char_row(
    ui: &mut Ui,
    p: &Palette,
    r: usize,
    row: &str,
    shift: bool,
    size: Vec2,
    pressed: &mut Option<(KeyId, Option<Press>)>,
) {
    for (i, c) in row.chars().enumerate() {
        let c = if shift { upper(c) } else { c };
        key(
            ui,
            p,
            &c.to_string(),
            KeyId::At(r, i),
            Press::Char(c),
            size,
            pressed,
        );
    }
}

fn upper(c: char) -> char {
    c.to_uppercase().next().unwrap_or(c)
}

/// Put a key press into a field's text, within `max_chars`.
pub fn apply(value: &mut String, press: Press, max_chars: usize) {
    match press {
        Press::Char(c) if value.chars().count() < max_chars => value.push(c),
        Press::Char(_) | Press::Hide => {}
        Press::Backspace => {
            value.pop();
        }
    }
}

/// Every letter of the Polish alphabet is on the letter keyboard, in both cases.
#[cfg(test)]
fn letters() -> impl Iterator<Item = char> {
    LETTER_ROWS
        .iter()
        .flat_map(|row| row.chars())
        .filter(|c| c.is_alphabetic())
        .flat_map(|c| [c, upper(c)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_letter_keyboard_has_every_polish_letter_in_both_cases() {
        let keys: String = letters().collect();
        for c in "aąbcćdeęfghijklłmnńoóprsśtuwyzźżAĄBCĆDEĘFGHIJKLŁMNŃOÓPRSŚTUWYZŹŻ".chars()
        {
            assert!(keys.contains(c), "missing {c}");
        }
    }

    #[test]
    fn the_repeat_guard_is_per_physical_key() {
        let mut k = Keyboard::new(300);
        // "T" then "t" on the same key 100 ms apart: one press.
        assert!(k.accept(KeyId::At(0, 4), 1_000).is_some());
        assert!(k.accept(KeyId::At(0, 4), 1_100).is_none());
        // Beyond the guard, a second press counts.
        assert!(k.accept(KeyId::At(0, 4), 1_400).is_some());
        // Another key at once counts; shift is guarded like any key.
        assert!(k.accept(KeyId::At(0, 5), 1_410).is_some());
        assert!(k.accept(KeyId::Shift, 1_420).is_some());
        assert!(k.accept(KeyId::Shift, 1_600).is_none());
        assert_eq!(Keyboard::new(900).repeat_guard_ms, MAX_REPEAT_GUARD_MS);
    }

    #[test]
    fn keys_grow_with_the_text_but_leave_room_above_the_keyboard() {
        // 1024x768, five rows (names): the keyboard keeps within its share.
        let small = key_size(1000.0, 768.0, 5, 64.0, 8.0);
        assert!(small.y >= MIN_TARGET && small.x >= MIN_TARGET);
        assert!(5.0 * (small.y + 8.0) <= 768.0 * MAX_SHARE + 8.0);
        // Six rows (free text) would need keys under the minimum: they keep it.
        assert_eq!(key_size(1000.0, 768.0, 6, 64.0, 8.0).y, MIN_TARGET);
        // 1920x1080: taller keys for larger text, wider for the wide screen.
        let normal = key_size(1900.0, 1080.0, 5, 64.0, 8.0);
        let large = key_size(1900.0, 1080.0, 5, 90.0, 8.0);
        assert!(large.y > normal.y && large.x > normal.x);
    }

    #[test]
    fn typing_respects_the_limit_and_backspace_removes_one_letter() {
        let mut v = String::new();
        for c in "Żółć".chars() {
            apply(&mut v, Press::Char(c), 3);
        }
        assert_eq!(v, "Żół");
        apply(&mut v, Press::Backspace, 3);
        assert_eq!(v, "Żó");
    }
}
