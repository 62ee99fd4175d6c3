//! The kiosk's look: two palettes (normal and high contrast) and two text sizes.
//!
//! egui's stock themes draw 13 pt text and buttons whose edge barely differs from the
//! panel (about 1.3:1), so the kiosk ships its own. Every pair of colours that carries
//! text or marks a control is checked with the WCAG contrast formula in the tests below.

use eframe::egui::{self, Color32, CornerRadius, FontFamily, FontId, Stroke, TextStyle};

/// The smallest touch target the kiosk allows (logical points at scale 1).
pub const MIN_TARGET: f32 = 48.0;
/// The height of ordinary buttons and fields: comfortably above the minimum.
pub const BUTTON_HEIGHT: f32 = 64.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Look {
    pub large_text: bool,
    pub high_contrast: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette {
    pub background: Color32,
    pub text: Color32,
    /// Secondary text (hints, details); still at least 4.5:1 (7:1 in high contrast).
    pub text_weak: Color32,
    pub primary_fill: Color32,
    pub primary_text: Color32,
    pub secondary_fill: Color32,
    pub secondary_text: Color32,
    /// Edges of buttons and fields: at least 3:1 against the background (WCAG 1.4.11).
    pub border: Color32,
    pub field_fill: Color32,
    pub field_active_fill: Color32,
    pub selected_fill: Color32,
    pub selected_text: Color32,
    pub ok_fill: Color32,
    pub ok_text: Color32,
    pub wait_fill: Color32,
    pub wait_text: Color32,
    pub error_fill: Color32,
    pub error_text: Color32,
    /// The calm sync indicator.
    pub quiet_text: Color32,
}

const NORMAL: Palette = Palette {
    background: Color32::from_rgb(0xFA, 0xFA, 0xF7),
    text: Color32::from_rgb(0x1A, 0x1A, 0x1A),
    text_weak: Color32::from_rgb(0x45, 0x45, 0x45),
    primary_fill: Color32::from_rgb(0x0B, 0x4F, 0x94),
    primary_text: Color32::WHITE,
    secondary_fill: Color32::from_rgb(0xE6, 0xEC, 0xF5),
    secondary_text: Color32::from_rgb(0x10, 0x2A, 0x4A),
    border: Color32::from_rgb(0x3C, 0x4A, 0x5E),
    field_fill: Color32::WHITE,
    field_active_fill: Color32::from_rgb(0xFF, 0xF4, 0xC2),
    selected_fill: Color32::from_rgb(0x1D, 0x5E, 0x2C),
    selected_text: Color32::WHITE,
    ok_fill: Color32::from_rgb(0xDD, 0xF2, 0xE0),
    ok_text: Color32::from_rgb(0x12, 0x4A, 0x1F),
    wait_fill: Color32::from_rgb(0xFF, 0xEC, 0xC7),
    wait_text: Color32::from_rgb(0x5C, 0x33, 0x00),
    error_fill: Color32::from_rgb(0xFC, 0xE4, 0xE4),
    error_text: Color32::from_rgb(0x8A, 0x10, 0x10),
    quiet_text: Color32::from_rgb(0x4E, 0x4E, 0x4E),
};

const HIGH_CONTRAST: Palette = Palette {
    background: Color32::BLACK,
    text: Color32::WHITE,
    text_weak: Color32::from_rgb(0xE6, 0xE6, 0xE6),
    primary_fill: Color32::from_rgb(0xFF, 0xE6, 0x00),
    primary_text: Color32::BLACK,
    secondary_fill: Color32::BLACK,
    secondary_text: Color32::from_rgb(0xFF, 0xE6, 0x00),
    border: Color32::from_rgb(0xFF, 0xE6, 0x00),
    field_fill: Color32::BLACK,
    field_active_fill: Color32::from_rgb(0x00, 0x24, 0x5C),
    selected_fill: Color32::from_rgb(0x7C, 0xFF, 0x8A),
    selected_text: Color32::BLACK,
    ok_fill: Color32::BLACK,
    ok_text: Color32::from_rgb(0x7C, 0xFF, 0x8A),
    wait_fill: Color32::BLACK,
    wait_text: Color32::from_rgb(0xFF, 0xE6, 0x00),
    error_fill: Color32::BLACK,
    error_text: Color32::from_rgb(0xFF, 0x9E, 0x9E),
    quiet_text: Color32::from_rgb(0xDD, 0xDD, 0xDD),
};

pub fn palette(look: Look) -> &'static Palette {
    if look.high_contrast {
        &HIGH_CONTRAST
    } else {
        &NORMAL
    }
}

/// Body text size in points: at least 18 at the default scale.
pub fn body_size(look: Look) -> f32 {
    if look.large_text { 28.0 } else { 22.0 }
}

pub fn heading_size(look: Look) -> f32 {
    if look.large_text { 42.0 } else { 34.0 }
}

/// The size of the resident code and reference numbers on receipts.
pub fn code_size(look: Look) -> f32 {
    if look.large_text { 64.0 } else { 56.0 }
}

/// Set egui's style for this look. Cheap, but only needed when the look changes.
pub fn apply(ctx: &egui::Context, look: Look) {
    let p = palette(look);
    let body = body_size(look);
    ctx.global_style_mut(|style| {
        style.text_styles = [
            (
                TextStyle::Small,
                FontId::new(body * 0.85, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(body, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(body + 2.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(body, FontFamily::Monospace),
            ),
            (
                TextStyle::Heading,
                FontId::new(heading_size(look), FontFamily::Proportional),
            ),
        ]
        .into();
        style.spacing.item_spacing = egui::vec2(16.0, 14.0);
        style.spacing.button_padding = egui::vec2(20.0, 12.0);
        style.spacing.interact_size = egui::vec2(BUTTON_HEIGHT, BUTTON_HEIGHT);
        style.spacing.icon_width = 40.0;
        style.spacing.icon_width_inner = 26.0;
        style.spacing.icon_spacing = 14.0;
        // A touch screen has no hover: nothing may depend on it.
        style.interaction.tooltip_delay = f32::INFINITY;
        style.interaction.show_tooltips_only_when_still = true;
        style.animation_time = 0.0;

        let v = &mut style.visuals;
        v.dark_mode = look.high_contrast;
        v.override_text_color = Some(p.text);
        v.panel_fill = p.background;
        v.window_fill = p.background;
        v.extreme_bg_color = p.field_fill;
        v.window_stroke = Stroke::new(3.0, p.border);
        v.selection.bg_fill = p.field_active_fill;
        v.selection.stroke = Stroke::new(2.0, p.text);
        for w in [
            &mut v.widgets.noninteractive,
            &mut v.widgets.inactive,
            &mut v.widgets.hovered,
            &mut v.widgets.active,
            &mut v.widgets.open,
        ] {
            w.bg_fill = p.secondary_fill;
            w.weak_bg_fill = p.secondary_fill;
            w.bg_stroke = Stroke::new(2.0, p.border);
            w.fg_stroke = Stroke::new(2.0, p.secondary_text);
            w.corner_radius = CornerRadius::same(10);
            w.expansion = 0.0;
        }
        v.widgets.noninteractive.bg_fill = p.background;
        v.widgets.noninteractive.weak_bg_fill = p.background;
        v.widgets.noninteractive.fg_stroke = Stroke::new(1.0, p.text);
        v.widgets.active.bg_stroke = Stroke::new(4.0, p.border);
    });
}

/// Seniors tap slowly and their finger moves: egui's defaults drop a press held over
/// 0.8 s or moved over 6 points. A long press still means nothing more than a tap.
pub fn tune_input(ctx: &egui::Context) {
    ctx.options_mut(|o| {
        o.input_options.max_click_duration = 10.0;
        o.input_options.max_click_dist = 24.0;
        // No double-tap meaning anywhere; keep two taps two taps.
        o.input_options.max_double_click_delay = 0.0;
    });
}

/// WCAG 2.x relative luminance of an sRGB colour.
pub fn luminance(c: Color32) -> f64 {
    let lin = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
}

/// WCAG contrast ratio, from 1 to 21.
pub fn contrast(a: Color32, b: Color32) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_pairs(p: &Palette) -> Vec<(&'static str, Color32, Color32)> {
        vec![
            ("text", p.text, p.background),
            ("weak text", p.text_weak, p.background),
            ("quiet text", p.quiet_text, p.background),
            ("primary button", p.primary_text, p.primary_fill),
            ("secondary button", p.secondary_text, p.secondary_fill),
            ("field", p.text, p.field_fill),
            ("active field", p.text, p.field_active_fill),
            ("selected", p.selected_text, p.selected_fill),
            ("confirmed", p.ok_text, p.ok_fill),
            ("waiting", p.wait_text, p.wait_fill),
            ("error", p.error_text, p.error_fill),
        ]
    }

    #[test]
    fn the_formula_matches_known_values() {
        assert!((contrast(Color32::BLACK, Color32::WHITE) - 21.0).abs() < 1e-9);
        assert!((contrast(Color32::WHITE, Color32::WHITE) - 1.0).abs() < 1e-9);
        // #767676 on white is the classic 4.54:1.
        let grey = Color32::from_rgb(0x76, 0x76, 0x76);
        assert!((contrast(grey, Color32::WHITE) - 4.54).abs() < 0.01);
    }

    #[test]
    fn normal_palette_meets_aa_for_text_and_controls() {
        for (what, fg, bg) in text_pairs(&NORMAL) {
            let c = contrast(fg, bg);
            assert!(c >= 4.5, "{what}: {c:.2}:1");
        }
        for (what, fill) in [
            ("border", NORMAL.border),
            ("primary button", NORMAL.primary_fill),
        ] {
            let c = contrast(fill, NORMAL.background);
            assert!(c >= 3.0, "{what} against the background: {c:.2}:1");
        }
    }

    #[test]
    fn high_contrast_palette_meets_aaa() {
        for (what, fg, bg) in text_pairs(&HIGH_CONTRAST) {
            let c = contrast(fg, bg);
            assert!(c >= 7.0, "{what}: {c:.2}:1");
        }
        let c = contrast(HIGH_CONTRAST.border, HIGH_CONTRAST.background);
        assert!(c >= 7.0, "border: {c:.2}:1");
    }

    #[test]
    fn text_is_at_least_18_points() {
        for large_text in [false, true] {
            let look = Look {
                large_text,
                high_contrast: false,
            };
            assert!(body_size(look) * 0.85 >= 18.0);
        }
    }
}
