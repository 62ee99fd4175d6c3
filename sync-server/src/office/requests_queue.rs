//! Requests as a caseworker's queue: the statutory deadline of each request (30 days from
//! filing), assignment to a caseworker ("take it" or a choice of the staff who decide),
//! and the PESEL behind a button whose every use is audited.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde::de::value::MapDeserializer;

use blisko_shared::ids::{RequestId, StaffId};
use blisko_shared::model::StaffRole;

use super::{Ctx, OResult, OfficeError, Out, Perm, action, invalid, now_text, parse_id};
use crate::central::requests::{self, decides_requests};
use crate::http::AppState;
use crate::store::{Db, ORequest, StaffRow};

pub use blisko_shared::deadline::{DECISION_DAYS, Deadline, SOON_DAYS, Urgency, deadline};

/// The deadline of a projected request, today (local time).
pub fn deadline_of(request: &ORequest) -> Deadline {
    let zone = jiff::tz::TimeZone::system();
    let today = jiff::Zoned::now().with_time_zone(zone.clone()).date();
    let filed = jiff::Timestamp::from_millisecond(request.submitted_ms)
        .map(|t| t.to_zoned(zone).date())
        .unwrap_or(today);
    deadline(
        filed,
        today,
        matches!(request.status.as_str(), "accepted" | "rejected"),
    )
}

/// The deadline cell: "termin 4 stycznia 2027", with what is left, marked when close
/// or past.
pub fn deadline_cell(ctx: &Ctx, d: &Deadline) -> Markup {
    let t = |pl, en| ctx.t(pl, en);
    let class = match d.urgency {
        Urgency::Soon => "deadline deadline-soon",
        Urgency::Past => "deadline deadline-past",
        Urgency::Open | Urgency::Decided => "deadline",
    };
    html! {
        td class=(class) data-deadline=(d.due) data-label=(t("Termin decyzji", "Decision due")) {
            (t("termin ", "due ")) (super::dates::long(ctx.lang, d.due))
            @match d.urgency {
                Urgency::Past => { br; (t("po terminie: ", "overdue: ")) (-d.days_left) " " (t("dni", "days")) }
                Urgency::Soon => { br; (t("zostało: ", "left: ")) (d.days_left) " " (t("dni", "days")) }
                Urgency::Open | Urgency::Decided => {}
            }
        }
    }
}

/// Accounts a request may be assigned to: active, deciding on requests, seeing `branch`.
pub fn caseworkers(db: &Db<'_>, branch: &str) -> OResult<Vec<StaffRow>> {
    Ok(db
        .staff_list()?
        .into_iter()
        .filter(|s| !s.disabled)
        .filter(|s| StaffRole::from_code(&s.role).is_some_and(decides_requests))
        .filter(|s| s.branch_id.as_deref().is_none_or(|b| b == branch))
        .collect())
}

/// The request of `id`, if this account sees its branch.
pub fn request_for(db: &Db<'_>, ctx: &Ctx, id: RequestId) -> OResult<ORequest> {
    let row = db
        .o_request(&id.to_string())?
        .ok_or_else(|| OfficeError::NotFound(format!("intake:{id}")))?;
    ctx.in_branch(&row.branch_id, "intake", id)?;
    Ok(row)
}

/// The assignment form: the caseworker's staff id.
#[derive(Debug, Deserialize)]
pub struct AssignForm {
    pub staff: StaffId,
}

impl AssignForm {
    fn from_fields(form: &HashMap<String, String>) -> OResult<AssignForm> {
        let fields = form.iter().map(|(k, v)| (k.as_str(), v.trim()));
        AssignForm::deserialize(MapDeserializer::<_, serde::de::value::Error>::new(fields)).map_err(
            |_| {
                invalid(
                    "Proszę wybrać osobę, której przydzielić wniosek.",
                    "Choose whom to assign the request to.",
                )
            },
        )
    }
}

/// POST `/office/requests/{id}/assign`: `staff` is a caseworker's id ("take it" sends
/// the visitor's own).
pub async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Requests,
        form,
        move |db, _, ctx, form| {
            let id: RequestId = parse_id(&id, "wniosek", "request")?;
            request_for(db, ctx, id)?;
            let form = AssignForm::from_fields(form)?;
            requests::assign(db, &ctx.actor(), id, &form.staff.to_string())?;
            Ok(Out::Redirect(format!("/office/requests/{id}")))
        },
    )
    .await
}

/// POST `/office/requests/{id}/pesel`: the request's page with its PESEL shown. A POST
/// (not a link) so that a reading is a deliberate act; each one is audited.
pub async fn show_pesel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::ReadPesel,
        form,
        move |db, _, ctx, _| {
            let id: RequestId = parse_id(&id, "wniosek", "request")?;
            request_for(db, ctx, id)?;
            db.audit(
                &now_text(),
                &ctx.actor(),
                "pesel_read",
                &format!("intake:{id}"),
                None,
            )?;
            super::requests::render_detail(db, ctx, id, None, true)
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::Date;

    fn date(text: &str) -> Date {
        text.parse().expect("a date")
    }

    #[test]
    fn the_deadline_is_thirty_days_from_filing_and_marked_when_close_or_past() {
        let filed = date("2026-12-05");
        let d = deadline(filed, date("2026-12-05"), false);
        assert_eq!(d.due, date("2027-01-04"));
        assert_eq!((d.days_waiting, d.days_left), (0, 30));
        assert_eq!(d.urgency, Urgency::Open);
        assert_eq!(
            crate::office::dates::long(blisko_shared::i18n::Lang::Pl, d.due),
            "4 stycznia 2027"
        );
        assert_eq!(
            crate::office::dates::long(blisko_shared::i18n::Lang::En, d.due),
            "4 January 2027"
        );
        let soon = deadline(filed, date("2026-12-30"), false);
        assert_eq!((soon.days_waiting, soon.days_left), (25, 5));
        assert_eq!(soon.urgency, Urgency::Soon);
        assert_eq!(
            deadline(filed, date("2026-12-29"), false).urgency,
            Urgency::Open
        );
        let past = deadline(filed, date("2027-01-05"), false);
        assert_eq!((past.days_left, past.urgency), (-1, Urgency::Past));
        assert_eq!(
            deadline(filed, date("2027-01-05"), true).urgency,
            Urgency::Decided
        );
        assert_eq!(
            crate::office::dates::long(blisko_shared::i18n::Lang::Pl, date("2026-09-01")),
            "1 września 2026"
        );
    }
}
