//! Search keys: a text folded so that a search ignores case and Polish diacritics
//! ("slazak" finds "Ślązak", "LUKASIEWICZ" finds "Łukasiewicz").
//!
//! Most Polish letters with a diacritic (ą ć ę ń ó ś ź ż) decompose canonically into a
//! base letter and a combining mark, so decomposition (NFD) and dropping the marks
//! folds them. "ł" does not: the stroke is part of the letter in Unicode, with no
//! decomposition, so it (and a few like it in names from neighbouring languages: đ, ø,
//! ß) is mapped explicitly — the way a person types the name on a keyboard without
//! Polish letters.

use icu_normalizer::DecomposingNormalizerBorrowed;

/// `text` lowercased, without diacritics, with runs of white space as one space and no
/// space at either end.
pub fn fold(text: &str) -> String {
    let decomposed = DecomposingNormalizerBorrowed::new_nfd().normalize(text);
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in decomposed.chars() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match c {
            'ł' | 'Ł' => out.push('l'),
            'đ' | 'Đ' => out.push('d'),
            'ø' | 'Ø' => out.push('o'),
            'ß' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The combining marks that follow a base letter after decomposition (Latin, Greek
/// and Cyrillic names need nothing beyond these blocks).
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// Whether a person with these names matches a search text: every word of the search
/// begins a word of "given family" (so "anna now", "nowak anna" and "slazak" all match
/// Anna Nowak-Ślązak).
pub fn name_matches(search: &str, given: &str, family: &str) -> bool {
    let search = fold(search);
    let words: Vec<String> = fold(&format!("{given} {family}"))
        .split([' ', '-'])
        .map(str::to_owned)
        .collect();
    let mut terms = search.split(' ').filter(|t| !t.is_empty()).peekable();
    terms.peek().is_some() && terms.all(|t| words.iter().any(|w| w.starts_with(t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polish_letters_fold_to_their_base_letters() {
        assert_eq!(fold("Ślązak"), "slazak");
        assert_eq!(fold("ŁUKASIEWICZ"), "lukasiewicz");
        assert_eq!(
            fold("Źródło Żak Ćwiklińska Gęś"),
            "zrodlo zak cwiklinska ges"
        );
        assert_eq!(fold("  Anna   Maria\tNowak "), "anna maria nowak");
        assert_eq!(fold("Straße Øster Đorđević"), "strasse oster dordevic");
        // Composed and decomposed input fold the same.
        assert_eq!(fold("S\u{301}la\u{328}zak"), "slazak");
    }

    #[test]
    fn names_match_in_either_order_and_by_beginnings() {
        assert!(name_matches("slazak", "Jan", "Ślązak"));
        assert!(name_matches("LUKASIEWICZ", "Ewa", "Łukasiewicz"));
        assert!(name_matches("jan", "Jan", "Ślązak"));
        assert!(name_matches("jan slazak", "Jan", "Ślązak"));
        assert!(name_matches("ślązak jan", "Jan", "Ślązak"));
        assert!(name_matches("now", "Anna", "Kowalska-Nowak"));
        assert!(!name_matches("jan kowalski", "Jan", "Ślązak"));
        assert!(!name_matches("", "Jan", "Ślązak"));
        assert!(!name_matches("lazak", "Jan", "Ślązak"));
    }
}
