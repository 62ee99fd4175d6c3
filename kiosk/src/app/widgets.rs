//! The few widgets every screen is built from, all at least 48x48 points, none with a
//! meaning behind hover, long press or double tap. Each carries an accessible name, so
//! screen readers and the UI tests find it by what it says.

use eframe::egui::{
    self, Align2, Color32, FontId, Response, RichText, Role, Sense, Stroke, Ui, Vec2, WidgetInfo,
};

use super::theme::Palette;

/// The height of buttons and fields at the current text size (set by `theme::apply`).
pub fn height(ui: &Ui) -> f32 {
    ui.spacing().interact_size.y
}

/// The touch targets drawn this frame, by accessible name: kept only when the app runs
/// with `BLISKO_UI_MAP`, so tests can tap the real window (see `KioskApp::write_ui_map`).
#[derive(Debug, Clone, Default)]
pub struct TargetMap {
    pub enabled: bool,
    pub targets: Vec<(String, egui::Rect)>,
}

pub fn map_id() -> egui::Id {
    egui::Id::unique("blisko-touch-targets")
}

fn record(ui: &Ui, label: &str, rect: egui::Rect) {
    // Only the part a finger can reach: a field half under the keyboard is tapped on
    // its visible half.
    let rect = rect.intersect(ui.clip_rect());
    if !rect.is_positive() {
        return;
    }
    ui.ctx().data_mut(|d| {
        let map = d.get_temp_mut_or_default::<TargetMap>(map_id());
        if map.enabled {
            map.targets.push((label.to_owned(), rect));
        }
    });
}

/// Touch to explore, while the kiosk reads aloud: as screen readers on phones do, the
/// first touch of a control says what it is, and a second touch of the same control
/// activates it. Keys of the on-screen keyboard type at once and say their letter (they
/// have their own double-press filter), except on a field whose value is hidden.
#[derive(Debug, Clone, Default)]
pub struct Explore {
    pub enabled: bool,
    /// The keyboard is being drawn.
    pub typing: bool,
    /// Keys say nothing (the PIN).
    pub quiet: bool,
    /// The control touched once, waiting for its second touch.
    pub armed: Option<egui::Id>,
    /// What a touch asked to say this frame.
    pub said: Option<Said>,
}

/// What a touch asked to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// A control touched once: its name, and that a second touch uses it.
    Control(String),
    /// A key typed: its letter.
    Key(String),
    /// A tick box used (its second touch): its name and whether it is now ticked.
    Ticked(String, bool),
}

pub fn explore_id() -> egui::Id {
    egui::Id::unique("blisko-explore-by-touch")
}

/// Let a click through, or (the first touch, while reading aloud) turn it into words.
fn gate(ui: &Ui, label: &str, response: &mut Response) {
    if !response.clicked() {
        return;
    }
    ui.ctx().data_mut(|d| {
        let explore = d.get_temp_mut_or_default::<Explore>(explore_id());
        if !explore.enabled {
            return;
        }
        if explore.typing {
            if !explore.quiet {
                explore.said = Some(Said::Key(label.to_owned()));
            }
            return;
        }
        if explore.armed == Some(response.id) {
            explore.armed = None;
            return;
        }
        explore.armed = Some(response.id);
        explore.said = Some(Said::Control(label.to_owned()));
        response
            .flags
            .remove(egui::response::Flags::CLICKED | egui::response::Flags::FAKE_PRIMARY_CLICKED);
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The one main action of a screen.
    Primary,
    /// Everything else: back, choices, pages.
    Secondary,
    /// A choice that is currently chosen (a day, an attendance mark).
    Selected,
}

/// A button as tall as the text size asks ([`height`]), at least `min_width` wide.
pub fn button(ui: &mut Ui, p: &Palette, text: &str, kind: Kind, min_width: f32) -> Response {
    let h = height(ui);
    key(ui, p, text, kind, Vec2::new(min_width, h))
}

/// A button of at least `size` (a key of the on-screen keyboard, or any button).
pub fn key(ui: &mut Ui, p: &Palette, text: &str, kind: Kind, size: Vec2) -> Response {
    let (fill, color) = match kind {
        Kind::Primary => (p.primary_fill, p.primary_text),
        Kind::Secondary => (p.secondary_fill, p.secondary_text),
        Kind::Selected => (p.selected_fill, p.selected_text),
    };
    let stroke = match kind {
        Kind::Selected => Stroke::new(4.0, p.text),
        _ => Stroke::new(2.0, p.border),
    };
    let font = ui.style().text_styles[&egui::TextStyle::Button].size;
    let mut response = ui.add(
        egui::Button::new(RichText::new(text).color(color).size(font))
            .fill(fill)
            .stroke(stroke)
            .min_size(size.max(Vec2::splat(super::theme::MIN_TARGET))),
    );
    record(ui, text, response.rect);
    gate(ui, text, &mut response);
    response
}

/// A large home-screen tile: a title and a plain hint under it.
pub fn tile(ui: &mut Ui, p: &Palette, title: &str, hint: &str, size: Vec2) -> Response {
    let (rect, mut response) = ui.allocate_exact_size(size, Sense::click());
    response.widget_info(|| WidgetInfo::labeled(Role::Button, true, title));
    // What the tile offers, for screen readers (and tests) as well as the eye.
    ui.ctx().accesskit_node_builder(response.id, |node| {
        node.set_description(hint.to_owned());
    });
    record(ui, title, rect);
    gate(ui, &format!("{title}. {hint}"), &mut response);
    if ui.is_rect_visible(rect) {
        let painter = ui.painter();
        painter.rect(
            rect,
            16.0,
            p.primary_fill,
            Stroke::new(3.0, p.border),
            egui::StrokeKind::Inside,
        );
        let body = ui.style().text_styles[&egui::TextStyle::Body].size;
        // As large as the text size asks, smaller only where the tile cannot hold it.
        let mut scale = 1.0;
        let (title_galley, hint_galley) = loop {
            let lay = |text: &str, size: f32| {
                painter.layout(
                    text.to_owned(),
                    FontId::proportional(size * scale),
                    p.primary_text,
                    rect.width() - 32.0,
                )
            };
            let (t, h) = (lay(title, body * 1.5), lay(hint, body));
            let fits = t.size().y + 12.0 + h.size().y <= rect.height() - 16.0
                && t.size().x.max(h.size().x) <= rect.width() - 24.0;
            if fits || scale < 0.5 {
                break (t, h);
            }
            scale *= 0.9;
        };
        let total = title_galley.size().y + 12.0 + hint_galley.size().y;
        let top = rect.center().y - total / 2.0;
        let title_pos = egui::pos2(rect.center().x - title_galley.size().x / 2.0, top);
        let hint_pos = egui::pos2(
            rect.center().x - hint_galley.size().x / 2.0,
            top + title_galley.size().y + 12.0,
        );
        painter.galley(title_pos, title_galley, p.primary_text);
        painter.galley(hint_pos, hint_galley, p.primary_text);
    }
    response
}

/// A text field that the on-screen keyboard types into: a label above a tall box.
/// Tapping it makes it the field the keyboard writes to.
pub fn field(
    ui: &mut Ui,
    p: &Palette,
    label: &str,
    value: &str,
    active: bool,
    masked: bool,
    width: f32,
) -> Response {
    // The label is part of the target: a finger that lands on it opens the field.
    let label_response =
        ui.add(egui::Label::new(RichText::new(label).strong()).sense(Sense::click()));
    let label_rect = label_response.rect;
    tuck_under_label(ui);
    let shown: String = if masked {
        "*".repeat(value.chars().count())
    } else {
        value.to_owned()
    };
    let (rect, mut response) = ui.allocate_exact_size(Vec2::new(width, height(ui)), Sense::click());
    if label_response.clicked() {
        response.flags |= egui::response::Flags::CLICKED;
    }
    let accessible_value = shown.clone();
    record(ui, label, rect);
    gate(ui, label, &mut response);
    response.widget_info(|| {
        let mut info = WidgetInfo::labeled(Role::TextInput, true, label);
        info.current_text_value = Some(accessible_value.clone());
        info
    });
    if ui.is_rect_visible(rect) {
        let painter = ui.painter();
        let (fill, stroke) = if active {
            (p.field_active_fill, Stroke::new(4.0, p.text))
        } else {
            (p.field_fill, Stroke::new(2.0, p.border))
        };
        painter.rect(rect, 8.0, fill, stroke, egui::StrokeKind::Inside);
        let font = FontId::proportional(ui.style().text_styles[&egui::TextStyle::Body].size * 1.1);
        let text = if active { format!("{shown}|") } else { shown };
        painter.text(
            rect.left_center() + Vec2::new(16.0, 0.0),
            Align2::LEFT_CENTER,
            text,
            font,
            p.text,
        );
    }
    if active {
        let shown = label_rect.union(rect);
        ui.ctx().data_mut(|d| {
            let cue = d.get_temp_mut_or_default::<FieldCue>(cue_id());
            cue.drawn = Some(shown);
            cue.field = Some(shown);
        });
    }
    response
}

/// A field's box sits close under its label (they are read together, and a larger text
/// step would otherwise push the box away from it).
fn tuck_under_label(ui: &mut Ui) {
    let gap = ui.spacing().item_spacing.y;
    ui.add_space(6.0_f32.min(gap) - gap);
}

/// Under a row of fields (or a lone field): the error about the form, when the active
/// field is in what was just drawn. The error sits where the eyes are, across the whole
/// row, instead of above the form where it would push the field away.
pub fn field_error(ui: &mut Ui) {
    let cue = ui
        .ctx()
        .data(|d| d.get_temp::<FieldCue>(cue_id()))
        .unwrap_or_default();
    let (Some(drawn), Some(error)) = (cue.drawn, cue.error) else {
        return;
    };
    ui.add_space(4.0);
    let r = egui::Frame::new()
        .fill(error.fill)
        .stroke(Stroke::new(2.0, error.color))
        .corner_radius(10.0)
        .inner_margin(10.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(&error.text).color(error.color).strong());
        })
        .response
        .rect;
    ui.ctx().data_mut(|d| {
        let cue = d.get_temp_mut_or_default::<FieldCue>(cue_id());
        cue.error = None;
        cue.drawn = Some(drawn.union(r));
    });
}

/// At the end of a form: scroll the active field (with its label and error) into view
/// when the frame asked for it; `viewport` is the height the form is shown in.
pub fn scroll_to_active(ui: &mut Ui, viewport: f32) {
    let cue = ui
        .ctx()
        .data(|d| d.get_temp::<FieldCue>(cue_id()))
        .unwrap_or_default();
    if let (true, Some(drawn), Some(field)) = (cue.scroll, cue.drawn, cue.field) {
        let viewport = viewport.min(ui.clip_rect().height());
        if drawn.height() <= viewport {
            ui.scroll_to_rect(drawn, Some(egui::Align::Center));
        } else if field.height() <= viewport {
            // The field and its label at least, when its error does not fit with it.
            ui.scroll_to_rect(field, Some(egui::Align::Center));
        } else {
            // Not even the label fits with the box (the largest text on a small screen):
            // the box, where the typing shows, with as much of its label as fits.
            ui.scroll_to_rect(field, Some(egui::Align::Max));
        }
    }
}

/// What the frame asks of the active field this frame: to be scrolled into view (it just
/// became active, or an error appeared), and the error to show under it. The field
/// answers with where it was drawn (label, box and error together).
#[derive(Debug, Clone, Default)]
pub struct FieldCue {
    pub scroll: bool,
    pub error: Option<FieldError>,
    pub drawn: Option<egui::Rect>,
    /// The label and box alone.
    pub field: Option<egui::Rect>,
    /// An error on a screen of tick boxes: the first one not ticked scrolls into view.
    pub untick_error: bool,
}

#[derive(Debug, Clone)]
pub struct FieldError {
    pub text: String,
    pub fill: Color32,
    pub color: Color32,
}

pub fn cue_id() -> egui::Id {
    egui::Id::unique("blisko-field-cue")
}

/// A large tick box: the whole row is the target.
pub fn check(ui: &mut Ui, p: &Palette, checked: &mut bool, label: &str, width: f32) -> Response {
    let font = FontId::proportional(ui.style().text_styles[&egui::TextStyle::Body].size);
    let galley = ui
        .painter()
        .layout(label.to_owned(), font, p.text, width - 88.0);
    let row_height = (galley.size().y + 24.0).max(height(ui));
    let (rect, mut response) = ui.allocate_exact_size(Vec2::new(width, row_height), Sense::click());
    gate(ui, label, &mut response);
    if response.clicked() {
        *checked = !*checked;
        response.mark_changed();
        let now = *checked;
        ui.ctx().data_mut(|d| {
            let explore = d.get_temp_mut_or_default::<Explore>(explore_id());
            if explore.enabled {
                explore.said = Some(Said::Ticked(label.to_owned(), now));
            }
        });
    }
    let now = *checked;
    // After an error, the first box still to tick comes into view.
    let cue = ui
        .ctx()
        .data(|d| d.get_temp::<FieldCue>(cue_id()))
        .unwrap_or_default();
    if cue.scroll && cue.untick_error && !now {
        ui.scroll_to_rect(rect, Some(egui::Align::Center));
        ui.ctx().data_mut(|d| {
            d.get_temp_mut_or_default::<FieldCue>(cue_id()).untick_error = false;
        });
    }
    response.widget_info(|| WidgetInfo::selected(Role::CheckBox, true, now, label));
    record(ui, label, rect);
    if ui.is_rect_visible(rect) {
        let painter = ui.painter();
        painter.rect(
            rect,
            8.0,
            p.field_fill,
            Stroke::new(2.0, p.border),
            egui::StrokeKind::Inside,
        );
        let boxr = egui::Rect::from_center_size(
            egui::pos2(rect.left() + 40.0, rect.center().y),
            Vec2::splat(40.0),
        );
        painter.rect(
            boxr,
            6.0,
            if now { p.selected_fill } else { p.field_fill },
            Stroke::new(3.0, p.text),
            egui::StrokeKind::Inside,
        );
        if now {
            // A drawn tick: no font needed, the same in every theme.
            let a = boxr.left_center() + Vec2::new(8.0, 0.0);
            let b = boxr.center_bottom() + Vec2::new(-3.0, -9.0);
            let c = boxr.right_top() + Vec2::new(-7.0, 8.0);
            painter.line_segment([a, b], Stroke::new(5.0, p.selected_text));
            painter.line_segment([b, c], Stroke::new(5.0, p.selected_text));
        }
        painter.galley(
            egui::pos2(rect.left() + 80.0, rect.center().y - galley.size().y / 2.0),
            galley,
            p.text,
        );
    }
    response
}

/// A boxed message: the outcome of an action, or what went wrong. Returns where it is.
pub fn notice(ui: &mut Ui, fill: Color32, color: Color32, text: &str) -> egui::Rect {
    egui::Frame::new()
        .fill(fill)
        .stroke(Stroke::new(2.0, color))
        .corner_radius(10.0)
        .inner_margin(16.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(text).color(color).strong());
        })
        .response
        .rect
}

/// A whole card as one button: a title and lines under it, with a "choose" cue.
/// `label` is what a screen reader says (and what the tests look for).
pub fn card(
    ui: &mut Ui,
    p: &Palette,
    title: &str,
    lines: &[(String, Color32)],
    cue: &str,
    size: Vec2,
    label: &str,
) -> Response {
    // The text is laid out first: the card grows to hold it where it wraps more than
    // `size` allows (a narrow screen, a larger text step).
    let body = ui.style().text_styles[&egui::TextStyle::Body].size;
    let painter = ui.painter().clone();
    let cue_galley = painter.layout_no_wrap(
        cue.to_owned(),
        FontId::proportional(body * 1.1),
        p.primary_text,
    );
    let cue_width = cue_galley.size().x + 32.0;
    let text_width = (size.x - cue_width - 16.0 - 40.0 - 20.0).max(100.0);
    let title_galley = painter.layout(
        title.to_owned(),
        FontId::proportional(body * 1.2),
        p.text,
        text_width,
    );
    let line_galleys: Vec<_> = lines
        .iter()
        .map(|(line, color)| {
            painter.layout(line.clone(), FontId::proportional(body), *color, text_width)
        })
        .collect();
    let needed = 12.0
        + title_galley.size().y
        + 4.0
        + line_galleys.iter().map(|g| g.size().y + 2.0).sum::<f32>()
        + 12.0;
    let size = Vec2::new(size.x, size.y.max(needed));
    let (rect, mut response) = ui.allocate_exact_size(size, Sense::click());
    response.widget_info(|| WidgetInfo::labeled(Role::Button, true, label));
    record(ui, label, rect);
    gate(ui, label, &mut response);
    if ui.is_rect_visible(rect) {
        painter.rect(
            rect,
            12.0,
            p.field_fill,
            Stroke::new(2.0, p.border),
            egui::StrokeKind::Inside,
        );
        let cue_rect = egui::Rect::from_min_size(
            egui::pos2(
                rect.right() - cue_width - 16.0,
                rect.center().y - height(ui) / 2.0,
            ),
            Vec2::new(cue_width, height(ui)),
        );
        let mut y = rect.top() + 12.0;
        let title_height = title_galley.size().y;
        painter.galley(egui::pos2(rect.left() + 20.0, y), title_galley, p.text);
        y += title_height + 4.0;
        for (galley, (_, color)) in line_galleys.into_iter().zip(lines) {
            let h = galley.size().y;
            painter.galley(egui::pos2(rect.left() + 20.0, y), galley, *color);
            y += h + 2.0;
        }
        painter.rect(
            cue_rect,
            10.0,
            p.primary_fill,
            Stroke::new(2.0, p.border),
            egui::StrokeKind::Inside,
        );
        painter.galley(
            cue_rect.center() - cue_galley.size() / 2.0,
            cue_galley,
            p.primary_text,
        );
    }
    response
}

/// A text field of several lines (a description in the person's own words): the text
/// wraps inside the box, so what was typed stays in view as it grows.
pub fn text_box(
    ui: &mut Ui,
    p: &Palette,
    label: &str,
    value: &str,
    active: bool,
    width: f32,
    lines: usize,
) -> Response {
    let label_rect = ui.label(RichText::new(label).strong()).rect;
    tuck_under_label(ui);
    let font = FontId::proportional(ui.style().text_styles[&egui::TextStyle::Body].size * 1.1);
    let line_height = ui.text_style_height(&egui::TextStyle::Body) * 1.1;
    let text = if active {
        format!("{value}|")
    } else {
        value.to_owned()
    };
    let galley = ui
        .painter()
        .layout(text, font, p.text, (width - 32.0).max(48.0));
    let box_height = (line_height * lines as f32 + 16.0)
        .max(galley.size().y + 16.0)
        .max(height(ui));
    let (rect, mut response) = ui.allocate_exact_size(Vec2::new(width, box_height), Sense::click());
    record(ui, label, rect);
    gate(ui, label, &mut response);
    let accessible_value = value.to_owned();
    response.widget_info(|| {
        // The same role as a one-line field: screen readers and tests find it alike.
        let mut info = WidgetInfo::labeled(Role::TextInput, true, label);
        info.current_text_value = Some(accessible_value.clone());
        info
    });
    if ui.is_rect_visible(rect) {
        let painter = ui.painter();
        let (fill, stroke) = if active {
            (p.field_active_fill, Stroke::new(4.0, p.text))
        } else {
            (p.field_fill, Stroke::new(2.0, p.border))
        };
        painter.rect(rect, 8.0, fill, stroke, egui::StrokeKind::Inside);
        painter.galley(rect.left_top() + Vec2::new(16.0, 12.0), galley, p.text);
    }
    if active {
        // As a one-line field: the frame keeps the box and its label above the keyboard.
        let shown = label_rect.union(rect);
        ui.ctx().data_mut(|d| {
            let cue = d.get_temp_mut_or_default::<FieldCue>(cue_id());
            cue.drawn = Some(shown);
            cue.field = Some(shown);
        });
    }
    response
}
