//! The kiosks page: every kiosk with its name, branch, state, last sync and app version,
//! and what staff do with kiosks: add one (the one-time enrollment code shown once, large,
//! with a printable enrollment sheet and its QR code), rename, revoke (after a confirmation
//! that says what happens) and issue a new enrollment code. The operations are the core's
//! (`central::kiosks`), as for `blisko-server kiosk add / rename / revoke / reenroll`.
//!
//! The QR code on the sheet encodes `blisko-enroll:<server address>#<code>`, e.g.
//! `blisko-enroll:https://cus.example.pl#ABCD-EFGH-JKLM`: the address the kiosk's set-up
//! screen asks for and the code, in one string a scanner can split at the last `#`.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use blisko_shared::i18n::Lang;
use blisko_shared::ids::{BranchId, KioskId};

use super::layout::csrf;
use super::names::Names;
use super::{Ctx, OResult, OfficeError, Out, Perm, action, invalid, page, parse_id, tr, typed};
use crate::central::{kiosks, seats};
use crate::http::AppState;
use crate::store::{Db, KioskRow};

/// A kiosk that has not synced for this long is highlighted on the kiosks page.
pub const STALE_HOURS: i64 = 24;

/// The prefix of the enrollment payload in the sheet's QR code.
pub const ENROLL_PAYLOAD_PREFIX: &str = "blisko-enroll:";

/// What the QR code of an enrollment sheet encodes (see the module's documentation).
pub fn enroll_payload(server: &str, code: &str) -> String {
    format!("{ENROLL_PAYLOAD_PREFIX}{server}#{code}")
}

#[derive(Debug, Deserialize)]
struct AddForm {
    branch: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct RenameForm {
    name: String,
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    confirm: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SheetForm {
    code: String,
}

/// Where a kiosk is in its life, for the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KioskState {
    WaitingForEnrollment,
    Enrolled,
    Revoked,
}

impl KioskState {
    pub fn of(k: &KioskRow) -> KioskState {
        if k.revoked {
            KioskState::Revoked
        } else if k.enrolled {
            KioskState::Enrolled
        } else {
            KioskState::WaitingForEnrollment
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            KioskState::WaitingForEnrollment => "waiting",
            KioskState::Enrolled => "enrolled",
            KioskState::Revoked => "revoked",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            KioskState::WaitingForEnrollment => {
                tr(lang, "czeka na rejestrację", "waiting for enrollment")
            }
            KioskState::Enrolled => tr(lang, "zarejestrowany", "enrolled"),
            KioskState::Revoked => tr(lang, "wycofany", "revoked"),
        }
    }
}

/// "3 dni temu" / "3 days ago", with Polish plural forms.
pub fn ago(lang: Lang, seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    let (n, forms_pl, en) = if minutes < 1 {
        return tr(lang, "przed chwilą", "just now").to_owned();
    } else if minutes < 60 {
        (minutes, ["minutę", "minuty", "minut"], "minute")
    } else if minutes < 48 * 60 {
        (minutes / 60, ["godzinę", "godziny", "godzin"], "hour")
    } else {
        (minutes / (24 * 60), ["dzień", "dni", "dni"], "day")
    };
    match lang {
        Lang::Pl => format!(
            "{n} {} temu",
            blisko_shared::i18n::polish_plural(n.unsigned_abs(), forms_pl)
        ),
        Lang::En => format!("{n} {en}{} ago", if n == 1 { "" } else { "s" }),
    }
}

/// A kiosk the visitor may see; one of another branch is refused as
/// [`OfficeError::OtherBranch`] (audited), an unknown one as not found.
fn visible_kiosk(db: &Db<'_>, ctx: &Ctx, kiosk: KioskId) -> OResult<KioskRow> {
    let row = db
        .kiosk(kiosk)?
        .ok_or_else(|| OfficeError::NotFound(format!("kiosk {kiosk}")))?;
    ctx.in_branch(&row.branch_id.to_string(), "kiosk", kiosk)?;
    Ok(row)
}

/// The server's address for kiosks: `BLISKO_PUBLIC_URL` when the operator configured one
/// (behind a proxy, say), otherwise the address this page was opened at.
fn server_address(headers: &HeaderMap) -> String {
    if let Ok(url) = std::env::var("BLISKO_PUBLIC_URL") {
        let url = url.trim().trim_end_matches('/');
        if !url.is_empty() {
            return url.to_owned();
        }
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = if super::auth::over_tls(headers) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(&state, &headers, Perm::Kiosks, |db, _, ctx| {
        render_list(db, ctx)
    })
    .await
}

fn render_list(db: &Db<'_>, ctx: &Ctx) -> OResult<Out> {
    let l = ctx.lang;
    let t = |pl, en| ctx.t(pl, en);
    let names = Names::load(db, l)?;
    let branches: Vec<_> = db
        .branches()?
        .into_iter()
        .filter(|b| ctx.sees_branch(&b.id.to_string()))
        .collect();
    let kiosks: Vec<_> = db
        .kiosks()?
        .into_iter()
        .filter(|k| ctx.sees_branch(&k.branch_id.to_string()))
        .collect();
    let visible_branches: Vec<BranchId> = branches.iter().map(|b| b.id).collect();
    let mut tasks: HashMap<KioskId, usize> = HashMap::new();
    for task in seats::compensation(db, Some(&visible_branches))? {
        *tasks.entry(task.kiosk_id).or_default() += 1;
    }
    let now = jiff::Timestamp::now();
    let body = html! {
        h1 { (t("Kioski", "Kiosks")) }
        p.muted { (t("Kiosk, który zarejestrowano, a który nie synchronizował się dłużej niż 24 godziny, jest wyróżniony.",
                     "An enrolled kiosk that has not synced for more than 24 hours is highlighted.")) }
        div.table-scroll {
        table.fold #kiosks {
            thead { tr {
                th { (t("Nazwa", "Name")) } th { (t("Punkt", "Branch")) } th.num { (t("Nr", "No.")) }
                th { (t("Stan", "State")) } th { (t("Ostatnia synchronizacja", "Last sync")) }
                th { (t("Wersja aplikacji", "App version")) } th.num { (t("Do wyjaśnienia", "To resolve")) }
                th { (t("Działania", "Actions")) }
            } }
            tbody { @for k in &kiosks {
                @let state = KioskState::of(k);
                @let synced = k.last_sync.as_deref().and_then(|s| s.parse::<jiff::Timestamp>().ok());
                @let since = synced.map(|s| now.duration_since(s).as_secs());
                @let stale = state == KioskState::Enrolled && since.is_none_or(|s| s > STALE_HOURS * 3600);
                @let open = tasks.get(&k.kiosk_id).copied().unwrap_or(0);
                tr.stale[stale] data-kiosk=(k.kiosk_id) data-state=(state.code()) data-stale=(stale) {
                    td.kiosk-name data-label=(t("Nazwa", "Name")) { (names.kiosk(&k.kiosk_id.to_string())) }
                    td data-label=(t("Punkt", "Branch")) { (branches.iter().find(|b| b.id == k.branch_id).map(|b| b.name.as_str()).unwrap_or("?")) }
                    td.num data-label=(t("Nr", "No.")) { (k.number) }
                    td data-label=(t("Stan", "State")) { (state.label(l)) @if stale { " " span.stale-badge { (t("nie synchronizuje się", "not syncing")) } } }
                    td.last-sync data-label=(t("Ostatnia synchronizacja", "Last sync")) {
                        @match (&k.last_sync, since) {
                            (Some(at), Some(secs)) => { (super::dates::moment(ctx.lang, at)) br; span.muted { (ago(l, secs)) } }
                            _ => { span.muted { (t("nigdy", "never")) } }
                        }
                    }
                    td.app-version data-label=(t("Wersja aplikacji", "App version")) { (k.app_version.as_deref().unwrap_or("—")) }
                    td.num data-label=(t("Do wyjaśnienia", "To resolve")) { @if open > 0 { a.pending href="/office#compensation" { (open) } } @else { "0" } }
                    td.actions data-label=(t("Działania", "Actions")) {
                        form.inline method="post" action=(format!("/office/kiosks/{}/rename", k.kiosk_id)) {
                            (csrf(ctx))
                            label.inline-label { span.visually-hidden { (t("Nowa nazwa", "New name")) }
                                input type="text" name="name" value=(k.name) maxlength=(kiosks::NAME_MAX) required; }
                            button.secondary type="submit" { (t("Zmień nazwę", "Rename")) }
                        }
                        form.inline method="post" action=(format!("/office/kiosks/{}/reenroll", k.kiosk_id)) {
                            (csrf(ctx))
                            button.secondary type="submit" { (t("Nowy kod rejestracji", "New enrollment code")) }
                        }
                        @if state != KioskState::Revoked {
                            a.danger-link href=(format!("/office/kiosks/{}/revoke", k.kiosk_id)) { (t("Wycofaj…", "Revoke…")) }
                        }
                    }
                }
            } }
        }
        }
        h2 { (t("Dodaj kiosk", "Add a kiosk")) }
        @if branches.is_empty() {
            p.notice #no-branches { (t("Kiosk stoi w punkcie, a nie ma jeszcze żadnego punktu. ", "A kiosk stands at a branch, and there is no branch yet. "))
                @if ctx.can(Perm::Branches) { a href="/office/branches#add" { (t("Najpierw proszę dodać punkt.", "Please add a branch first.")) } } }
        } @else {
        form.stack #add-kiosk method="post" action="/office/kiosks" {
            (csrf(ctx))
            label { (t("Punkt", "Branch"))
                select name="branch" required { @for b in &branches { option value=(b.id) { (b.name) " (" (b.code) ")" } } } }
            label { (t("Nazwa (gdzie stoi), np. „MAL — hol”", "Name (where it stands), e.g. \"MAL — hall\""))
                input type="text" name="name" maxlength=(kiosks::NAME_MAX) required; }
            button type="submit" { (t("Dodaj kiosk i pokaż kod rejestracji", "Add the kiosk and show its enrollment code")) }
        }
        }
        p.muted { (t("Administrator może to samo zrobić w wierszu poleceń: ", "An administrator can do the same on the command line: "))
            code { "blisko-server kiosk add --branch ID --name NAZWA" } }
    };
    Ok(Out::Page {
        title: t("Kioski", "Kiosks").to_owned(),
        body,
    })
}

pub async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(&state, &headers, Perm::Kiosks, form, |db, _, ctx, form| {
        let form: AddForm = typed(form)?;
        let branch: BranchId = parse_id(&form.branch, "punkt", "branch")?;
        ctx.in_branch(&branch.to_string(), "branch", branch)?;
        let (row, code) = kiosks::add(db, branch, Some(&form.name), &ctx.actor())?;
        code_page(db, ctx, &row, &code, false)
    })
    .await
}

pub async fn rename(
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
        move |db, _, ctx, form| {
            let kiosk: KioskId = parse_id(&id, "kiosk", "kiosk")?;
            let form: RenameForm = typed(form)?;
            visible_kiosk(db, ctx, kiosk)?;
            kiosks::rename(db, kiosk, &form.name, &ctx.actor())?;
            Ok(Out::Redirect("/office/kiosks".to_owned()))
        },
    )
    .await
}

/// What revoking does, said before it is done.
fn revoke_consequences(ctx: &Ctx) -> Markup {
    let t = |pl, en| ctx.t(pl, en);
    html! {
        ul #revoke-consequences {
            li { (t("Kiosk od razu przestaje się synchronizować: serwer odrzuca jego poświadczenie, a kiosk pokazuje, że jest wyłączony z pracy, i nie przyjmuje już zapisów ani wniosków.",
                    "The kiosk stops syncing at once: the server refuses its credential, and the kiosk shows that it is out of service and takes no more registrations or requests.")) }
            li { (t("Dane, których kiosk jeszcze nie wysłał, nie giną: zostają w kiosku (zaszyfrowane) i trafią na serwer, gdy kiosk zostanie zarejestrowany ponownie nowym kodem.",
                    "What the kiosk has not sent yet is not lost: it stays on the kiosk (encrypted) and reaches the server once the kiosk is enrolled again with a new code.")) }
            li { (t("Niewykorzystany kod rejestracji tego kiosku przestaje działać.",
                    "An unused enrollment code of this kiosk stops working.")) }
            li { (t("Przywrócenie: „Nowy kod rejestracji” na liście kiosków i wpisanie kodu na ekranie obsługi kiosku.",
                    "To bring it back: \"New enrollment code\" on the kiosks list, and the code typed on the kiosk's staff screen.")) }
        }
    }
}

pub async fn revoke_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    page(&state, &headers, Perm::Kiosks, move |db, _, ctx| {
        let kiosk: KioskId = parse_id(&id, "kiosk", "kiosk")?;
        let row = visible_kiosk(db, ctx, kiosk)?;
        let names = Names::load(db, ctx.lang)?;
        let t = |pl, en| ctx.t(pl, en);
        let body = html! {
            h1 { (t("Wycofać kiosk?", "Revoke the kiosk?")) }
            p.kiosk-name { strong { (names.kiosk(&kiosk.to_string())) } }
            @if row.revoked {
                p { (t("Ten kiosk jest już wycofany.", "This kiosk is already revoked.")) }
            } @else {
                (revoke_consequences(ctx))
                form.stack #revoke method="post" action=(format!("/office/kiosks/{kiosk}/revoke")) {
                    (csrf(ctx))
                    label { input type="checkbox" name="confirm" value="yes" required;
                        (t("Potwierdzam wycofanie tego kiosku", "I confirm revoking this kiosk")) }
                    button.danger type="submit" { (t("Wycofaj kiosk", "Revoke the kiosk")) }
                }
            }
            p { a href="/office/kiosks" { (t("Wróć do listy kiosków", "Back to the kiosks")) } }
        };
        Ok(Out::Page {
            title: t("Wycofać kiosk?", "Revoke the kiosk?").to_owned(),
            body,
        })
    })
    .await
}

pub async fn revoke(
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
        move |db, _, ctx, form| {
            let kiosk: KioskId = parse_id(&id, "kiosk", "kiosk")?;
            let form: RevokeForm = typed(form)?;
            if form.confirm.as_deref() != Some("yes") {
                return Err(invalid(
                    "Proszę zaznaczyć potwierdzenie wycofania.",
                    "Please tick the confirmation to revoke.",
                ));
            }
            visible_kiosk(db, ctx, kiosk)?;
            kiosks::revoke(db, kiosk, &ctx.actor())?;
            Ok(Out::Redirect("/office/kiosks".to_owned()))
        },
    )
    .await
}

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
            visible_kiosk(db, ctx, kiosk)?;
            let (row, code) = kiosks::reenroll(db, kiosk, &ctx.actor())?;
            code_page(db, ctx, &row, &code, true)
        },
    )
    .await
}

/// The one-time code, large, once; with the way to the printable sheet.
fn code_page(db: &Db<'_>, ctx: &Ctx, row: &KioskRow, code: &str, reenroll: bool) -> OResult<Out> {
    let names = Names::load(db, ctx.lang)?;
    let t = |pl, en| ctx.t(pl, en);
    let title = if reenroll {
        t(
            "Nowy kod rejestracji kiosku",
            "New enrollment code for a kiosk",
        )
    } else {
        t("Dodano kiosk", "Kiosk added")
    };
    let body = html! {
        h1 { (title) }
        p.kiosk-name { strong { (names.kiosk(&row.kiosk_id.to_string())) } }
        p { (t("Kod rejestracji (ważny 7 dni, działa jeden raz). Proszę go zapisać albo wydrukować teraz: nie zostanie pokazany ponownie.",
               "Enrollment code (valid for 7 days, works once). Please write it down or print it now: it is not shown again.")) }
        p.enroll-code data-code=(code) { (code) }
        form.inline #sheet method="post" action=(format!("/office/kiosks/{}/sheet", row.kiosk_id)) {
            (csrf(ctx))
            input type="hidden" name="code" value=(code);
            button type="submit" { (t("Arkusz rejestracji do druku (z kodem QR)", "Printable enrollment sheet (with a QR code)")) }
        }
        p { (t("Na kiosku (ten sam folder danych): ", "On the kiosk (the same data folder): "))
            code { "blisko-kiosk --data DIR enroll --server URL --code " (code) } }
        @if reenroll {
            p.muted { (t("Kiosk dostanie nowe poświadczenie, a jeśli był wycofany, wróci do pracy i wyśle wszystko, co przyjął. Dotychczasowe poświadczenie już nie zadziała.",
                         "The kiosk gets a new credential; if it was revoked, it is back in service and sends everything it took in. Its old credential never works again.")) }
        }
        p { a href="/office/kiosks" { (t("Wróć do listy kiosków", "Back to the kiosks")) } }
    };
    Ok(Out::Page {
        title: title.to_owned(),
        body,
    })
}

/// The QR code of `payload` as an inline SVG element (made here from the payload alone).
pub fn qr_svg(payload: &str) -> OResult<String> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| invalid(format!("Kod QR: {e}."), format!("QR code: {e}.")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    // Drop the XML declaration: the element goes inside the HTML page.
    Ok(svg
        .find("<svg")
        .map(|at| svg[at..].to_owned())
        .unwrap_or(svg))
}

pub async fn sheet(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let server = server_address(&headers);
    action(
        &state,
        &headers,
        Perm::Kiosks,
        form,
        move |db, _, ctx, form| {
            let kiosk: KioskId = parse_id(&id, "kiosk", "kiosk")?;
            let form: SheetForm = typed(form)?;
            let row = visible_kiosk(db, ctx, kiosk)?;
            // Only the kiosk's current, unused code goes on a sheet.
            if !kiosks::is_current_code(db, kiosk, &form.code)? {
                return Err(invalid(
                    "Ten kod nie jest aktualnym kodem rejestracji tego kiosku. Proszę wydać nowy kod.",
                    "This is not the kiosk's current enrollment code. Please issue a new code.",
                ));
            }
            let code = form.code.trim().to_owned();
            let branch = db
                .branches()?
                .into_iter()
                .find(|b| b.id == row.branch_id)
                .map(|b| format!("{} ({})", b.name, b.code))
                .unwrap_or_default();
            let names = Names::load(db, ctx.lang)?;
            let payload = enroll_payload(&server, &code);
            let svg = qr_svg(&payload)?;
            let t = |pl, en| ctx.t(pl, en);
            let body = html! {
                div.enroll-sheet {
                    h1 { (t("Rejestracja kiosku Blisko", "Enrolling a Blisko kiosk")) }
                    table.sheet-facts {
                        tr { th { (t("Kiosk", "Kiosk")) } td.kiosk-name { (names.kiosk(&kiosk.to_string())) } }
                        tr { th { (t("Punkt", "Branch")) } td { (branch) } }
                        tr { th { (t("Adres serwera", "Server address")) } td { code #server-address { (server) } } }
                        tr { th { (t("Kod rejestracji", "Enrollment code")) } td { span.enroll-code data-code=(code) { (code) } } }
                    }
                    figure.qr {
                        (PreEscaped(svg))
                        figcaption.muted { (t("Kod QR zawiera adres serwera i kod rejestracji: ", "The QR code holds the server address and the enrollment code: "))
                            code #qr-payload { (payload) } }
                    }
                    h2 { "Instrukcja dla osoby w punkcie" }
                    ol.sheet-steps {
                        li { "Proszę włączyć kiosk. Na ekranie pojawi się napis „Ten kiosk nie jest jeszcze przygotowany”. Proszę nacisnąć „Połącz z serwerem”." }
                        li { "W polu „Adres serwera” proszę wpisać adres podany wyżej (dokładnie, razem z http:// lub https://)." }
                        li { "W polu „Kod rejestracji kiosku” proszę wpisać kod podany wyżej. Wielkość liter i myślniki nie mają znaczenia." }
                        li { "Proszę nacisnąć „Połącz”. Kiosk połączy się z serwerem i pobierze zajęcia; po chwili pokaże ekran powitalny." }
                        li { "Kod działa jeden raz i jest ważny 7 dni. Jeśli kiosk go nie przyjmie, proszę zadzwonić do biura CUS po nowy kod." }
                        li { "Po rejestracji arkusz proszę zniszczyć (kod nie będzie już działał, ale nie powinien leżeć na widoku)." }
                    }
                    p.no-print { a href="/office/kiosks" { (t("Wróć do listy kiosków", "Back to the kiosks")) } }
                }
            };
            Ok(Out::Print {
                title: t("Arkusz rejestracji kiosku", "Kiosk enrollment sheet").to_owned(),
                body,
            })
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_uses_polish_plural_forms() {
        let day = 24 * 3600;
        assert_eq!(ago(Lang::Pl, 10), "przed chwilą");
        assert_eq!(ago(Lang::Pl, 60), "1 minutę temu");
        assert_eq!(ago(Lang::Pl, 3 * 60), "3 minuty temu");
        assert_eq!(ago(Lang::Pl, 12 * 60), "12 minut temu");
        assert_eq!(ago(Lang::Pl, 22 * 60), "22 minuty temu");
        assert_eq!(ago(Lang::Pl, 5 * 3600), "5 godzin temu");
        assert_eq!(ago(Lang::Pl, 3 * day), "3 dni temu");
        assert_eq!(ago(Lang::En, 3 * day), "3 days ago");
        assert_eq!(ago(Lang::En, 3600), "1 hour ago");
    }

    #[test]
    fn the_payload_holds_the_address_and_the_code() {
        assert_eq!(
            enroll_payload("https://cus.example.pl", "ABCD-EFGH-JKLM"),
            "blisko-enroll:https://cus.example.pl#ABCD-EFGH-JKLM"
        );
        let svg = qr_svg("blisko-enroll:http://x#A").expect("qr");
        assert!(svg.starts_with("<svg"), "{svg}");
    }
}
