//! People on office pages and exports: names rather than ids, erased persons said so
//! in words, and lists in Polish alphabetical order (family name, then given name).

use std::collections::HashMap;

use blisko_shared::collate;
use blisko_shared::i18n::Lang;
use blisko_shared::model::ApplicantRole;
use blisko_shared::seats::SeatStatus;

use super::OResult;
use super::persons::ERASED;
use crate::store::{Db, OPerson, ORegistration};

/// What an erased person's name reads as.
pub fn erased_label(lang: Lang) -> &'static str {
    match lang {
        Lang::Pl => "dane usunięte (RODO)",
        Lang::En => "data erased (GDPR)",
    }
}

/// Whether the projection holds this person as erased (the key is gone, the names read
/// [`ERASED`]).
pub fn is_erased(p: &OPerson) -> bool {
    p.given == ERASED || p.family == ERASED
}

/// "Family Given", or the erased label.
pub fn display_name(lang: Lang, p: &OPerson) -> String {
    if is_erased(p) {
        erased_label(lang).to_owned()
    } else {
        format!("{} {}", p.family, p.given)
    }
}

/// "Given Family", or the erased label (for a heading about one person).
pub fn given_first(lang: Lang, p: &OPerson) -> String {
    if is_erased(p) {
        erased_label(lang).to_owned()
    } else {
        format!("{} {}", p.given, p.family)
    }
}

/// The birth year, or "—" where there is none to show (erased, unknown): never "0".
pub fn birth_year(p: &OPerson) -> String {
    if is_erased(p) || p.birth_year <= 0 {
        "—".to_owned()
    } else {
        p.birth_year.to_string()
    }
}

/// The order a person sorts in: family name, then given name; erased persons last.
pub fn sort_key(p: &OPerson) -> (bool, Vec<u8>) {
    (is_erased(p), collate::person_sort_key(&p.family, &p.given))
}

/// Sorts persons in Polish alphabetical order.
pub fn sort_persons(persons: &mut [OPerson]) {
    persons.sort_by_cached_key(sort_key);
}

/// A person's name as a list shows it, with the key it sorts by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub key: (bool, Vec<u8>),
}

/// Names of persons by id (the office projection), in `lang`.
pub fn names(
    db: &Db<'_>,
    lang: Lang,
    ids: impl IntoIterator<Item = String>,
) -> OResult<HashMap<String, Named>> {
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        if let Some(p) = db.o_person(&id)? {
            out.insert(
                id,
                Named {
                    name: display_name(lang, &p),
                    key: sort_key(&p),
                },
            );
        }
    }
    Ok(out)
}

fn status_rank(status: SeatStatus) -> u8 {
    match status {
        SeatStatus::Confirmed => 0,
        SeatStatus::Waitlisted => 1,
        _ => 2,
    }
}

/// A roster in the order the office reads it: confirmed persons by name, then the
/// waiting list by position, then cancellations by name.
pub fn sort_roster(regs: &mut [ORegistration], names: &HashMap<String, Named>) {
    regs.sort_by_cached_key(|r| {
        let rank = status_rank(r.status);
        let position = if r.status == SeatStatus::Waitlisted {
            r.position
        } else {
            None
        };
        let key = names.get(&r.person_id).map(|n| n.key.clone());
        (rank, position, key, r.id.clone())
    });
}

/// Who applied, in words.
pub fn applicant_role(lang: Lang, role: ApplicantRole) -> &'static str {
    match (role, lang) {
        (ApplicantRole::SelfApplicant, Lang::Pl) => "sam/sama",
        (ApplicantRole::SelfApplicant, Lang::En) => "the person themselves",
        (ApplicantRole::LegalRepresentative, Lang::Pl) => "rodzic lub opiekun prawny",
        (ApplicantRole::LegalRepresentative, Lang::En) => "parent or legal guardian",
        (ApplicantRole::DeFactoCarer, Lang::Pl) => "opiekun faktyczny",
        (ApplicantRole::DeFactoCarer, Lang::En) => "de facto carer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(given: &str, family: &str, year: i64) -> OPerson {
        OPerson {
            id: format!("{family}-{given}"),
            branch_id: String::new(),
            kiosk_id: None,
            given: given.to_owned(),
            family: family.to_owned(),
            birth_year: year,
            phone: None,
            resident_code: String::new(),
            created: String::new(),
        }
    }

    #[test]
    fn erased_persons_read_in_words_and_never_as_year_zero() {
        let erased = person(ERASED, ERASED, 0);
        assert_eq!(display_name(Lang::Pl, &erased), "dane usunięte (RODO)");
        assert_eq!(display_name(Lang::En, &erased), "data erased (GDPR)");
        assert_eq!(birth_year(&erased), "—");
        assert_eq!(birth_year(&person("Ewa", "Lis", 0)), "—");
        assert_eq!(birth_year(&person("Ewa", "Lis", 1950)), "1950");
    }

    #[test]
    fn persons_sort_by_family_then_given_name_in_polish_order_erased_last() {
        let mut people = vec![
            person(ERASED, ERASED, 0),
            person("Jan", "Żak", 1950),
            person("Ewa", "Łukasiewicz", 1950),
            person("Adam", "Lis", 1950),
            person("Zofia", "Lis", 1950),
        ]
        .into_iter()
        .collect::<Vec<_>>();
        sort_persons(&mut people);
        let names: Vec<String> = people.iter().map(|p| display_name(Lang::Pl, p)).collect();
        assert_eq!(
            names,
            [
                "Lis Adam",
                "Lis Zofia",
                "Łukasiewicz Ewa",
                "Żak Jan",
                "dane usunięte (RODO)"
            ]
        );
    }

    #[test]
    fn applicant_roles_have_labels() {
        assert_eq!(
            applicant_role(Lang::Pl, ApplicantRole::SelfApplicant),
            "sam/sama"
        );
        assert_eq!(
            applicant_role(Lang::Pl, ApplicantRole::LegalRepresentative),
            "rodzic lub opiekun prawny"
        );
        assert_eq!(
            applicant_role(Lang::Pl, ApplicantRole::DeFactoCarer),
            "opiekun faktyczny"
        );
    }
}
