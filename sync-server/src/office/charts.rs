//! Charts drawn on the server as inline SVG (no scripts, no external assets): attendance
//! rate per month for each branch (or one class), and requests per service and status.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};

use blisko_shared::i18n::Lang;

use super::layout::request_status;
use super::{Out, Perm, page};
use crate::http::AppState;

const STATUS_COLOURS: [(&str, &str); 5] = [
    ("submitted", "#8a929b"),
    ("in_review", "#0b5cad"),
    ("more_information_needed", "#c77700"),
    ("accepted", "#1e6b31"),
    ("rejected", "#a4161a"),
];

/// Bars of attendance rate (0–100 %) per month, with the counts in each bar's title.
pub fn attendance_svg(title: &str, months: &[(String, i64, i64)], lang: Lang) -> Markup {
    let (w, h, left, bottom) = (640.0_f64, 220.0_f64, 40.0_f64, 30.0_f64);
    let n = months.len().max(1) as f64;
    let slot = (w - left - 10.0) / n;
    let bar = (slot * 0.7).max(2.0);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(title) {
            title { (title) }
            @for pct in [0, 50, 100] {
                @let y = h - bottom - (h - bottom - 20.0) * f64::from(pct) / 100.0;
                line x1=(left) x2=(w - 10.0) y1=(y) y2=(y) stroke="#d5d9de" {}
                text x=(left - 4.0) y=(y + 4.0) text-anchor="end" font-size="11" fill="#555d66" { (pct) "%" }
            }
            @for (i, (month, present, marked)) in months.iter().enumerate() {
                @let rate = if *marked > 0 { *present as f64 / *marked as f64 } else { 0.0 };
                @let bh = (h - bottom - 20.0) * rate;
                @let x = left + slot * i as f64 + (slot - bar) / 2.0;
                rect x=(format!("{x:.1}")) y=(format!("{:.1}", h - bottom - bh)) width=(format!("{bar:.1}")) height=(format!("{bh:.1}")) fill="#0b5cad" {
                    title { (super::dates::month_text(lang, month)) ": " (format!("{:.0}%", rate * 100.0)) " (" (present) "/" (marked) ")" }
                }
                text x=(format!("{:.1}", x + bar / 2.0)) y=(h - bottom + 14.0) text-anchor="middle" font-size="10" fill="#1b1f24" { (super::dates::month_short(lang, month)) }
            }
            @if months.is_empty() {
                text x=(w / 2.0) y=(h / 2.0) text-anchor="middle" font-size="13" fill="#555d66" { (super::tr(lang, "brak danych", "no data")) }
            }
        }
    }
}

/// Horizontal stacked bars: one per service, a segment per status.
pub fn requests_svg(rows: &[(String, BTreeMap<String, i64>)], lang: Lang) -> Markup {
    let label_w = 230.0_f64;
    let w = 700.0_f64;
    let row_h = 26.0_f64;
    let h = 40.0 + row_h * rows.len().max(1) as f64 + 30.0;
    let max = rows
        .iter()
        .map(|(_, m)| m.values().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let scale = (w - label_w - 50.0) / max;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(super::tr(lang, "Wnioski według usług i statusów", "Requests per service and status")) {
            @for (i, (service, counts)) in rows.iter().enumerate() {
                @let y = 20.0 + row_h * i as f64;
                text x=(label_w - 6.0) y=(y + 15.0) text-anchor="end" font-size="12" fill="#1b1f24" { (service) }
                @let segs = segments(counts, label_w, scale);
                @for (x, bw, status, colour, c) in &segs {
                    rect x=(format!("{x:.1}")) y=(y) width=(format!("{bw:.1}")) height=(row_h - 6.0) fill=(colour) {
                        title { (service) ", " (request_status(lang, status)) ": " (c) }
                    }
                }
                @let x = segs.last().map(|s| s.0 + s.1).unwrap_or(label_w);
                text x=(format!("{:.1}", x + 4.0)) y=(y + 15.0) font-size="11" fill="#555d66" { (counts.values().sum::<i64>()) }
            }
            @for (i, (status, colour)) in STATUS_COLOURS.iter().enumerate() {
                @let lx = 10.0 + 135.0 * i as f64;
                rect x=(lx) y=(h - 22.0) width="12" height="12" fill=(colour) {}
                text x=(lx + 16.0) y=(h - 12.0) font-size="11" fill="#1b1f24" { (request_status(lang, status)) }
            }
        }
    }
}

/// Stacked segments of one bar: (x, width, status, colour, count).
fn segments(
    counts: &BTreeMap<String, i64>,
    start: f64,
    scale: f64,
) -> Vec<(f64, f64, &'static str, &'static str, i64)> {
    let mut x = start;
    let mut out = Vec::new();
    for (status, colour) in STATUS_COLOURS {
        let c = counts.get(status).copied().unwrap_or(0);
        if c > 0 {
            let bw = c as f64 * scale;
            out.push((x, bw, status, colour, c));
            x += bw;
        }
    }
    out
}

pub async fn page_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    page(&state, &headers, Perm::Charts, move |db, _, ctx| {
        let l = ctx.lang;
        let t = |pl, en| ctx.t(pl, en);
        let class = query.get("class").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let class_row = match &class {
            Some(id) => {
                let row = db
                    .o_class(id)?
                    .ok_or_else(|| super::OfficeError::NotFound(format!("class {id}")))?;
                ctx.in_branch(&row.branch_id, "class", id)?;
                Some(row)
            }
            None => None,
        };
        let mut branch_charts = Vec::new();
        for b in db.branches()?.into_iter().filter(|b| ctx.sees_branch(&b.id.to_string())) {
            let months = db.o_attendance_by_month(None, Some(&b.id.to_string()))?;
            branch_charts.push((b.name, months));
        }
        let class_chart = match &class_row {
            Some(c) => Some((c.title.clone(), db.o_attendance_by_month(Some(&c.id), None)?)),
            None => None,
        };
        let services: HashMap<String, String> = db.o_services()?.into_iter().collect();
        let mut per_service: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        if ctx.can(Perm::Requests) {
            for (service, status, count) in db.o_requests_by_service()? {
                let name = services.get(&service).cloned().unwrap_or(service);
                *per_service.entry(name).or_default().entry(status).or_default() += count;
            }
        }
        let mut service_rows: Vec<_> = per_service.into_iter().collect();
        // Services in Polish alphabetical order ("Ćwiczenia" after "Czytanie").
        service_rows.sort_by_cached_key(|(name, _)| blisko_shared::collate::sort_key(name));
        let classes = db.o_classes(ctx.branch())?;
        let body = html! {
            h1 { (t("Wykresy", "Charts")) }
            form.filters method="get" action="/office/charts" {
                label { (t("Frekwencja zajęć", "Attendance of a class"))
                    select name="class" {
                        option value="" { (t("— wybierz —", "— choose —")) }
                        @for c in &classes { option value=(c.id) selected[class.as_deref() == Some(c.id.as_str())] { (c.title) } }
                    }
                }
                button type="submit" { (t("Pokaż", "Show")) }
            }
            @if let Some((title, months)) = &class_chart {
                h2 { (t("Frekwencja w miesiącach: ", "Attendance per month: ")) (title) }
                (attendance_svg(title, months, l))
            }
            h2 { (t("Frekwencja w miesiącach według punktów", "Attendance per month by branch")) }
            @for (name, months) in &branch_charts {
                h3 { (name) }
                (attendance_svg(name, months, l))
            }
            @if ctx.can(Perm::Requests) {
                h2 { (t("Wnioski według usług i statusów", "Requests per service and status")) }
                (requests_svg(&service_rows, l))
            }
        };
        Ok(Out::Page { title: t("Wykresy", "Charts").to_owned(), body })
    })
    .await
}
