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
    let plain = without_diacritics(text);
    let mut out = String::with_capacity(plain.len());
    for word in plain.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

/// `text` with its letters' diacritics taken off, case kept ("Łódź" → "Lodz"), as for
/// a file name that must stay ASCII.
pub fn without_diacritics(text: &str) -> String {
    let decomposed = DecomposingNormalizerBorrowed::new_nfd().normalize(text);
    let mut out = String::with_capacity(text.len());
    for c in decomposed.chars().filter(|c| !is_combining_mark(*c)) {
        match c {
            'ł' => out.push('l'),
            'Ł' => out.push('L'),
            'đ' => out.push('d'),
            'Đ' => out.push('D'),
            'ø' => out.push('o'),
            'Ø' => out.push('O'),
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'Æ' => out.push_str("AE"),
            'œ' => out.push_str("oe"),
            'Œ' => out.push_str("OE"),
            _ => out.push(c),
        }
    }
    out
}

/// An ASCII file-name part: letters transliterated ([`without_diacritics`]), anything
/// but letters and digits as one `-`, at most `max` characters ("Język angielski (B1)"
/// → "Jezyk-angielski-B1").
pub fn file_slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in without_diacritics(text).chars() {
        if c.is_ascii_alphanumeric() {
            if out.len() >= max {
                break;
            }
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
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
        assert_eq!(without_diacritics("Łódź Żółć"), "Lodz Zolc");
    }

    #[test]
    fn file_slugs_are_ascii_letters_digits_and_dashes() {
        assert_eq!(file_slug("Gimnastyka", 40), "Gimnastyka");
        assert_eq!(file_slug("Język angielski (B1)", 40), "Jezyk-angielski-B1");
        assert_eq!(file_slug("=HYPERLINK(\"x\")", 40), "HYPERLINK-x");
        assert_eq!(file_slug("Zajęcia ../../etc", 40), "Zajecia-etc");
        assert_eq!(file_slug("ąąąąą", 3), "aaa");
        assert_eq!(file_slug("???", 40), "");
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
