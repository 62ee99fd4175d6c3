//! Polish alphabetical order for names and titles.
//!
//! Byte order puts every letter with a diacritic after "z" (Ćwiklińska, Łukasiewicz and
//! Żurawski at the end of a list); Polish order is a ą b c ć d e ę f g h i j k l ł m n
//! ń o ó p q r s ś t u v w x y z ź ż. The rules come from the CLDR collation data for
//! Polish compiled into `icu_collator`, not from a table of our own, so mixed-in names
//! from other languages (Müller, Nguyễn) sort sensibly too.
//!
//! Lists of people sort by "family given" ([`person_sort_key`]); SQL does not order
//! names (SQLite only knows byte order): rows are read, then sorted here.

use std::cmp::Ordering;
use std::sync::OnceLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};

fn collator() -> Option<&'static CollatorBorrowed<'static>> {
    static COLLATOR: OnceLock<Option<CollatorBorrowed<'static>>> = OnceLock::new();
    COLLATOR
        .get_or_init(|| {
            // Compiled-in data: this only fails if the build left the Polish data out;
            // then byte order is the fallback rather than a panic.
            Collator::try_new(
                icu_locale_core::locale!("pl").into(),
                CollatorOptions::default(),
            )
            .ok()
        })
        .as_ref()
}

/// Compares two texts in Polish alphabetical order.
pub fn compare(a: &str, b: &str) -> Ordering {
    match collator() {
        Some(c) => c.compare(a, b).then_with(|| a.cmp(b)),
        None => a.cmp(b),
    }
}

/// A key whose byte order is the Polish alphabetical order of `text` (for
/// `sort_by_cached_key`, where a list is long).
pub fn sort_key(text: &str) -> Vec<u8> {
    let mut key = Vec::new();
    match collator() {
        Some(c) => {
            let Ok(()) = c.write_sort_key_to(text, &mut key);
        }
        None => key.extend_from_slice(text.as_bytes()),
    }
    // Ties (texts the collation holds equal) are broken by the text itself, so the
    // order is the same on every run.
    key.push(0);
    key.extend_from_slice(text.as_bytes());
    key
}

/// The key a person sorts by: family name, then given name.
pub fn person_sort_key(family: &str, given: &str) -> Vec<u8> {
    sort_key(&format!("{family} {given}"))
}

/// Sorts `items` in Polish order of the text `text_of` gives for each.
pub fn sort_by_text<T>(items: &mut [T], text_of: impl Fn(&T) -> String) {
    items.sort_by_cached_key(|item| sort_key(&text_of(item)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polish_family_names_sort_in_alphabet_order() {
        let mut names = vec![
            "Ćwiklińska",
            "Czarnecki",
            "Łukasiewicz",
            "Lis",
            "Źródło",
            "Żak",
            "Zięba",
            "Wąsowicz",
            "Wójcik",
        ];
        sort_by_text(&mut names, |n| n.to_string());
        assert_eq!(
            names,
            [
                "Czarnecki",
                "Ćwiklińska",
                "Lis",
                "Łukasiewicz",
                "Wąsowicz",
                "Wójcik",
                "Zięba",
                "Źródło",
                "Żak",
            ]
        );
        let mut by_compare = names.clone();
        by_compare.reverse();
        by_compare.sort_by(|a, b| compare(a, b));
        assert_eq!(by_compare, names);
    }

    #[test]
    fn family_name_first_then_given_name() {
        let mut people = vec![
            ("Nowak", "Zofia"),
            ("Nowak", "Adam"),
            ("Nowakowski", "Adam"),
            ("Łoś", "Ewa"),
        ];
        people.sort_by_cached_key(|(f, g)| person_sort_key(f, g));
        assert_eq!(
            people,
            [
                ("Łoś", "Ewa"),
                ("Nowak", "Adam"),
                ("Nowak", "Zofia"),
                ("Nowakowski", "Adam")
            ]
        );
    }

    #[test]
    fn case_and_equal_texts_have_a_stable_order() {
        assert_eq!(compare("anna", "Anna"), compare("anna", "Anna"));
        assert_ne!(compare("anna", "Anna"), Ordering::Equal);
        assert_eq!(compare("Ala", "Ala"), Ordering::Equal);
        assert!(compare("ala", "Ąla") == Ordering::Less);
    }
}
