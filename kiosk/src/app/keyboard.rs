//! The on-screen keyboard: letters with every Polish letter, and a number pad.
//!
//! egui has no on-screen keyboard, and none of the crates fits: this one returns the key
//! pressed and the form puts it in the field being typed. No auto-repeat, no long-press
//! alternatives (ą is a key of its own), and a second press of the same key within
//! [`BOUNCE_S`] is taken for a shaky finger and ignored.

use eframe::egui::{Ui, Vec2};

use super::text::T;
use super::theme::{BUTTON_HEIGHT, Palette};
use super::widgets::{self, Kind};
use blisko_shared::i18n::Lang;

/// Presses of one key closer together than this count once.
pub const BOUNCE_S: f64 = 0.08;

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

const DIGIT_ROW: &str = "1234567890";
const LETTER_ROWS: [&str; 4] = ["qwertyuiop", "asdfghjkl-", "zxcvbnm.,'", "ąćęłńóśźż"];
const CODE_ROWS: [&str; 4] = ["1234567890", "qwertyuiop", "asdfghjkl:", "zxcvbnm./-"];

const DIGIT_ROWS: [&str; 4] = ["123", "456", "789", "+0"];

#[derive(Debug, Clone, Default)]
pub struct Keyboard {
    /// The next letter is a capital (one-shot, like a phone's keyboard).
    pub shift: bool,
    last_press: Option<(String, f64)>,
}

impl Keyboard {
    /// Draw the keyboard and return what was pressed this frame.
    pub fn show(&mut self, ui: &mut Ui, p: &Palette, lang: Lang, layout: Layout) -> Option<Press> {
        let now = ui.input(|i| i.time);
        let mut pressed: Option<(String, Press)> = None;
        let gap = 8.0;
        ui.spacing_mut().item_spacing = Vec2::splat(gap);
        match layout {
            Layout::Letters | Layout::Text | Layout::Code => {
                let key_w = ((ui.available_width() - 9.0 * gap) / 10.0).clamp(BUTTON_HEIGHT, 96.0);
                let rows: Vec<&str> = match layout {
                    Layout::Letters => LETTER_ROWS.to_vec(),
                    Layout::Text => std::iter::once(DIGIT_ROW).chain(LETTER_ROWS).collect(),
                    _ => CODE_ROWS.to_vec(),
                };
                for row in rows {
                    ui.horizontal(|ui| char_row(ui, p, row, self.shift, key_w, &mut pressed));
                }
                ui.horizontal(|ui| {
                    let shift_kind = if self.shift {
                        Kind::Selected
                    } else {
                        Kind::Secondary
                    };
                    if widgets::button(ui, p, T::Shift.tr(lang), shift_kind, key_w * 2.0).clicked()
                    {
                        self.shift = !self.shift;
                    }
                    key(
                        ui,
                        p,
                        T::Space.tr(lang),
                        Press::Char(' '),
                        key_w * 4.0,
                        &mut pressed,
                    );
                    key(
                        ui,
                        p,
                        T::Erase.tr(lang),
                        Press::Backspace,
                        key_w * 2.0,
                        &mut pressed,
                    );
                    let hide = T::HideKeyboard.tr(lang);
                    key(ui, p, hide, Press::Hide, key_w * 2.0, &mut pressed);
                });
            }
            Layout::Digits => {
                let key_w = 96.0;
                for row in DIGIT_ROWS {
                    ui.horizontal(|ui| {
                        char_row(ui, p, row, false, key_w, &mut pressed);
                        if row == "+0" {
                            key(
                                ui,
                                p,
                                T::Erase.tr(lang),
                                Press::Backspace,
                                key_w,
                                &mut pressed,
                            );
                        }
                    });
                }
                let hide = T::HideKeyboard.tr(lang);
                key(ui, p, hide, Press::Hide, key_w * 3.0, &mut pressed);
            }
        }
        let (label, press) = pressed?;
        if let Some((last, at)) = &self.last_press
            && *last == label
            && now - at < BOUNCE_S
        {
            return None;
        }
        self.last_press = Some((label, now));
        if matches!(press, Press::Char(c) if c.is_alphabetic()) {
            self.shift = false;
        }
        Some(press)
    }
}

/// One key; a tap records what it types and the key's name (for the bounce check).
fn key(
    ui: &mut Ui,
    p: &Palette,
    label: &str,
    press: Press,
    width: f32,
    pressed: &mut Option<(String, Press)>,
) {
    if widgets::button(ui, p, label, Kind::Secondary, width).clicked() {
        *pressed = Some((label.to_owned(), press));
    }
}

/// A row of character keys, in capitals when `shift` is on.
fn char_row(
    ui: &mut Ui,
    p: &Palette,
    row: &str,
    shift: bool,
    width: f32,
    pressed: &mut Option<(String, Press)>,
) {
    for c in row.chars() {
        let c = if shift { upper(c) } else { c };
        key(ui, p, &c.to_string(), Press::Char(c), width, pressed);
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
