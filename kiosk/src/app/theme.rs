//! The kiosk's look: two palettes (normal and high contrast), three text sizes, and the
//! scale that fits the layout to the screen.
//!
//! egui's stock themes draw 13 pt text and buttons whose edge barely differs from the
//! panel (about 1.3:1), so the kiosk ships its own. Every pair of colours that carries
//! text or marks a control is checked with the WCAG contrast formula in the tests below.

use eframe::egui::{self, Color32, CornerRadius, FontFamily, FontId, Stroke, TextStyle};

/// The smallest touch target the kiosk allows (logical points at scale 1).
pub const MIN_TARGET: f32 = 48.0;
/// The height of ordinary buttons and fields at the normal text size: comfortably above
/// the minimum. Larger text makes them taller (see [`button_height`]).
pub const BUTTON_HEIGHT: f32 = 64.0;

/// Body text in points at the normal size. Seniors need capitals of at least 6 mm: on a
/// 19" 1280x1024 panel (0.294 mm per pixel, one pixel per point) that is 20.4 px, and
/// egui's default font draws capitals at about 0.69 of the size (measured from the font
/// in the tests below), so 32 points give about 22 px (6.5 mm).
pub const BODY_POINTS: f32 = 32.0;

/// The three text sizes the "Larger text" button steps through. Each enlarges everything
/// drawn from the text size: text, buttons, fields and the on-screen keyboard's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextStep {
    #[default]
    Normal,
    /// About 1.3 times the normal size.
    Larger,
    /// About 1.6 times the normal size.
    Largest,
}

impl TextStep {
    pub const ALL: [TextStep; 3] = [TextStep::Normal, TextStep::Larger, TextStep::Largest];

    pub fn factor(self) -> f32 {
        match self {
            TextStep::Normal => 1.0,
            TextStep::Larger => 1.3,
            TextStep::Largest => 1.6,
        }
    }

    /// The step the button moves to; after the largest, back to normal.
    pub fn next(self) -> TextStep {
        match self {
            TextStep::Normal => TextStep::Larger,
            TextStep::Larger => TextStep::Largest,
            TextStep::Largest => TextStep::Normal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Look {
    pub text: TextStep,
    pub high_contrast: bool,
}

/// Physical pixels per logical point for a screen of `width` x `height` pixels.
///
/// The layout is drawn in points and scales from the shorter side of the screen: a
/// 1024-pixel shorter side (1280x1024, and 1024 wide in portrait) is one pixel per point;
/// 1080 (1920x1080, 1080x1920) draws everything about 5 % larger. It never goes below 1,
/// so a 1024x768 screen keeps the full size of text (its pixels are about as large as a
/// 19" panel's, and the capitals stay above 6 mm); the layout there shows fewer fields at
/// once and scrolls the one being typed into above the keyboard. Capped at 1.5 for large
/// screens of small pixels.
pub fn pixels_per_point(width: f32, height: f32) -> f32 {
    (width.min(height) / 1024.0).clamp(1.0, 1.5)
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

/// Body text size in points.
pub fn body_size(look: Look) -> f32 {
    BODY_POINTS * look.text.factor()
}

pub fn heading_size(look: Look) -> f32 {
    body_size(look) * 1.25
}

/// The size of the resident code and reference numbers on receipts.
pub fn code_size(look: Look) -> f32 {
    body_size(look) * 1.7
}

/// The height of buttons, fields and keys at this text size: the text with room around
/// it, never under [`BUTTON_HEIGHT`].
pub fn button_height(look: Look) -> f32 {
    (body_size(look) * 1.9).max(BUTTON_HEIGHT)
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
                FontId::new(body, FontFamily::Proportional),
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
        let f = look.text.factor();
        let height = button_height(look);
        style.spacing.item_spacing = egui::vec2(16.0, 14.0) * f;
        style.spacing.button_padding = egui::vec2(20.0, 10.0) * f;
        style.spacing.interact_size = egui::vec2(height, height);
        style.spacing.icon_width = 40.0;
        style.spacing.icon_width_inner = 26.0;
        style.spacing.icon_spacing = 14.0;
        // A touch screen has no hover: nothing may depend on it.
        style.interaction.tooltip_delay = f32::INFINITY;
        style.interaction.show_tooltips_only_when_still = true;
        style.animation_time = 0.0;
        // Touches are ignored for a moment after a screen change by disabling the whole
        // frame (see `KioskApp::show`); that moment must not look any different.
        style.visuals.disabled_alpha = 1.0;

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
        for text in TextStep::ALL {
            let look = Look {
                text,
                high_contrast: false,
            };
            assert!(body_size(look) * 0.85 >= 18.0);
        }
    }

    /// The height of a capital "H" drawn at `size` points, in points, from egui's own
    /// font: the glyph's ink as the font rasterises it.
    fn cap_height(ctx: &egui::Context, size: f32) -> f32 {
        let galley = ctx.fonts_mut(|f| {
            f.layout_no_wrap(
                "H".to_owned(),
                FontId::new(size, FontFamily::Proportional),
                Color32::BLACK,
            )
        });
        galley.rows[0].row.glyphs[0].uv_rect.size.y
    }

    #[test]
    fn body_capitals_are_six_millimetres_on_a_19_inch_panel() {
        let ctx = egui::Context::default();
        // One frame, so that the fonts are loaded.
        let mut out = ctx.run_ui(egui::RawInput::default(), |_| {});
        out.textures_delta.clear();
        let mm_per_px = 0.294;
        let ppp = pixels_per_point(1280.0, 1024.0);
        assert_eq!(ppp, 1.0);
        let normal = cap_height(&ctx, body_size(Look::default())) * ppp;
        // The same from the ratio at a large size, where a pixel of rounding is nothing.
        let ratio = cap_height(&ctx, 400.0) / 400.0;
        let exact = ratio * body_size(Look::default()) * ppp;
        assert!(exact * mm_per_px >= 6.0, "capitals are {exact:.1} px");
        assert!(
            normal * mm_per_px >= 6.0,
            "capitals are {normal:.1} px = {:.2} mm",
            normal * mm_per_px
        );
        // The ratio the size comment relies on.
        assert!((0.66..0.72).contains(&ratio), "cap height ratio {ratio}");
        // The steps: about 1.3 and 1.6 times the normal capitals.
        for (step, factor) in [(TextStep::Larger, 1.3), (TextStep::Largest, 1.6)] {
            let look = Look {
                text: step,
                high_contrast: false,
            };
            let h = cap_height(&ctx, body_size(look)) * ppp;
            let got = h / normal;
            assert!((got - factor).abs() < 0.08, "{step:?}: {got:.2}x");
            assert!(button_height(look) > button_height(Look::default()));
        }
        assert_eq!(TextStep::Largest.next(), TextStep::Normal);
    }

    #[test]
    fn the_scale_never_shrinks_and_grows_with_the_shorter_side() {
        assert_eq!(pixels_per_point(1024.0, 768.0), 1.0);
        assert_eq!(pixels_per_point(1280.0, 1024.0), 1.0);
        assert!(pixels_per_point(1920.0, 1080.0) > 1.0);
        assert_eq!(
            pixels_per_point(1080.0, 1920.0),
            pixels_per_point(1920.0, 1080.0)
        );
        assert_eq!(pixels_per_point(3840.0, 2160.0), 1.5);
    }
}
