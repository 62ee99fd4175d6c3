//! Kiosk administration on the office page: a new enrollment code for a kiosk (after a
//! revocation, or for a replaced device), shown once, large. The operation itself is the
//! core's (`central::kiosks::reenroll`), as for `blisko-server kiosk reenroll`.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use blisko_shared::ids::KioskId;

use super::{Ctx, OResult, Out, Perm, action, parse_id};
use crate::central::kiosks;
use crate::http::AppState;
use crate::store::Db;

pub async fn reenroll(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Kiosks,
        form,
        move |db, _, ctx, _| {
            let kiosk: KioskId = parse_id(&id, "kiosk", "kiosk")?;
            issue(db, ctx, kiosk)
        },
    )
    .await
}

fn issue(db: &Db<'_>, ctx: &Ctx, kiosk: KioskId) -> OResult<Out> {
    let visible = db
        .kiosk(kiosk)?
        .is_some_and(|k| ctx.sees_branch(&k.branch_id.to_string()));
    if !visible {
        return Err(super::OfficeError::NotFound(format!("kiosk {kiosk}")));
    }
    let (row, code) = kiosks::reenroll(db, kiosk, &ctx.actor())?;
    let t = |pl, en| ctx.t(pl, en);
    let body = html! {
        h1 { (t("Nowy kod rejestracji kiosku", "New enrollment code for a kiosk")) " #" (row.number) }
        p { (t("Kod jest ważny 7 dni i działa jeden raz. Zapisz go teraz: nie zostanie pokazany ponownie.",
               "The code is valid for 7 days and works once. Write it down now: it is not shown again.")) }
        p.enroll-code data-code=(code) { (code) }
        p { (t("Na kiosku (ten sam folder danych): ", "On the kiosk (the same data folder): "))
            code { "blisko-kiosk --data DIR enroll --server URL --code " (code) } }
        p.muted { (t("Kiosk dostanie nowe poświadczenie, a jeśli był wycofany, wróci do pracy i wyśle wszystko, co przyjął. Dotychczasowe poświadczenie już nie zadziała.",
                     "The kiosk gets a new credential; if it was revoked, it is back in service and sends everything it took in. Its old credential never works again.")) }
        p { a href="/office" { (t("Wróć do przeglądu", "Back to the overview")) } }
    };
    Ok(Out::Page {
        title: t(
            "Nowy kod rejestracji kiosku",
            "New enrollment code for a kiosk",
        )
        .to_owned(),
        body,
    })
}
