//! "Moje zajęcia": an instructor's start page. Their classes (the class's instructor
//! name as in the catalog equals the account's display name, any case), each with its
//! roster, today's session with its printable attendance list and the roll call, and the
//! next session.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use super::{Out, Perm, branch_names, dates, page};
use crate::http::AppState;

/// Whether a class's instructor is this account: the names match, ignoring case and
/// surrounding spaces.
pub fn is_instructor(class_instructor: &str, staff_name: &str) -> bool {
    let a = class_instructor.trim().to_lowercase();
    !a.is_empty() && a == staff_name.trim().to_lowercase()
}

pub async fn page_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(&state, &headers, Perm::MyClasses, |db, _, ctx| {
        let today = jiff::Zoned::now().date().to_string();
        let branches = branch_names(db)?;
        let classes: Vec<_> = db
            .o_classes(ctx.branch())?
            .into_iter()
            .filter(|c| is_instructor(&c.instructor, &ctx.staff.name))
            .collect();
        let t = |pl, en| ctx.t(pl, en);
        let mut cards = Vec::new();
        for class in &classes {
            let sessions = db.o_sessions(&class.id)?;
            let todays: Vec<_> = sessions.iter().filter(|s| s.date == today).cloned().collect();
            let next = sessions.iter().find(|s| s.date > today).cloned();
            cards.push((class, todays, next));
        }
        let body = html! {
            h1 { (t("Moje zajęcia", "My classes")) }
            @if cards.is_empty() {
                p.muted #no-classes { (t(
                    "Nie ma zajęć prowadzonych przez Panią/Pana. Zajęcia przypisuje się przez imię i nazwisko prowadzącego w katalogu — proszę poprosić organizatora o sprawdzenie.",
                    "No classes are led by you. Classes are matched by the instructor's name in the catalog; please ask an organizer to check it."
                )) }
                p { a href="/office/classes" { (t("Wszystkie zajęcia", "All classes")) } }
            }
            div.cards {
                @for (class, todays, next) in &cards {
                    section.card data-my-class=(class.id) {
                        h3 { (class.title) }
                        p.muted { (branches.get(&class.branch_id).map(String::as_str).unwrap_or("?")) }
                        p { a href=(format!("/office/classes/{}", class.id)) { (t("Lista uczestników", "Roster")) } }
                        @if todays.is_empty() {
                            p.muted { (t("Dziś nie ma zajęć.", "No session today.")) }
                        }
                        @for s in todays {
                            p.today {
                                strong { (t("Dziś ", "Today ")) (s.start) } br;
                                a href=(format!("/office/classes/{}/sessions/{}/print", class.id, s.id)) { (t("Lista obecności do druku", "Printable attendance list")) }
                                " · "
                                a.roll-call href=(super::roll_call::path(&class.id, &s.id)) { (t("Sprawdź obecność", "Take the roll call")) }
                            }
                        }
                        @if let Some(n) = next {
                            p.muted { (t("Następne: ", "Next: ")) (dates::day_text(ctx.lang, &n.date)) ", " (n.start) }
                        }
                    }
                }
            }
        };
        Ok(Out::Page {
            title: t("Moje zajęcia", "My classes").to_owned(),
            body,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::is_instructor;

    #[test]
    fn an_instructor_is_matched_by_name_ignoring_case_and_spaces() {
        assert!(is_instructor("Anna Wiśniewska", " anna wiśniewska "));
        assert!(!is_instructor("Anna Wiśniewska", "Anna Nowak"));
        assert!(!is_instructor("", ""));
    }
}
