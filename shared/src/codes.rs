//! Human-facing codes issued offline: the resident code a person keeps, and the
//! reference number of an intake request.

use rand::{Rng, RngExt};

/// Letters and digits that cannot be mistaken for one another when read aloud or
/// copied by hand (no 0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B).
pub const RESIDENT_CODE_ALPHABET: &[u8] = b"ACDEFHJKMNPRTUVWXY3479";
/// 8 symbols from 22: about 5.5e10 codes, so a town's residents collide with
/// probability well under 1% (the kiosk still checks its own store before issuing one).
pub const RESIDENT_CODE_LEN: usize = 8;

/// A fresh resident code, shown as "XXXX-XXXX".
pub fn new_resident_code(rng: &mut impl Rng) -> String {
    let symbols: String = (0..RESIDENT_CODE_LEN)
        .map(|_| {
            let i = rng.random_range(0..RESIDENT_CODE_ALPHABET.len());
            RESIDENT_CODE_ALPHABET[i] as char
        })
        .collect();
    format!("{}-{}", &symbols[..4], &symbols[4..])
}

/// The canonical form of a typed resident code, or `None` if it cannot be one.
/// Case, spaces and dashes do not matter.
pub fn normalize_resident_code(input: &str) -> Option<String> {
    let symbols: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = symbols.len() == RESIDENT_CODE_LEN
        && symbols.bytes().all(|b| RESIDENT_CODE_ALPHABET.contains(&b));
    valid.then(|| format!("{}-{}", &symbols[..4], &symbols[4..]))
}

/// An intake request's reference number: branch code, kiosk number, year, sequence,
/// e.g. "MAL/01/2026/00042". Unique because each kiosk number is unique and each kiosk
/// keeps its own sequence.
pub fn reference_number(branch_code: &str, kiosk_number: u32, year: i16, sequence: u64) -> String {
    format!("{branch_code}/{kiosk_number:02}/{year}/{sequence:05}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_well_formed_and_normalize_to_themselves() {
        let mut rng = rand::rng();
        for _ in 0..200 {
            let code = new_resident_code(&mut rng);
            assert_eq!(code.len(), 9);
            assert_eq!(
                normalize_resident_code(&code).as_deref(),
                Some(code.as_str())
            );
        }
    }

    #[test]
    fn typed_codes_are_forgiving_about_case_and_separators() {
        assert_eq!(
            normalize_resident_code(" acde fh-jk ").as_deref(),
            Some("ACDE-FHJK")
        );
        assert_eq!(normalize_resident_code("ACDE-FHJ"), None);
        assert_eq!(normalize_resident_code("ACDE-FHJ0"), None);
        assert_eq!(normalize_resident_code("ĄCDE-FHJK"), None);
    }

    #[test]
    fn reference_numbers_are_padded() {
        assert_eq!(reference_number("MAL", 1, 2026, 42), "MAL/01/2026/00042");
    }
}
