//! Validation of everything a resident can type on the kiosk.
//!
//! Residents, many of them seniors, type on a touch screen, so typing slips are normal:
//! stray spaces, a phone number written with dashes, a PESEL with a space at the end.
//! Each function here accepts every reasonable spelling, returns the one normalized form
//! the rest of the system stores, and otherwise returns a [`FieldError`] that can be
//! shown as a plain, friendly sentence in Polish or English.
//!
//! The module is pure: no I/O and no clock. Whatever depends on today's date (the birth
//! year range) takes the current year as an argument, so the rules are testable and the
//! kiosk and the server agree on them.

use std::fmt;

use crate::i18n::Lang;

/// Longest given or family name, in characters. Long enough for double-barrelled Polish
/// names, short enough to fit on a printed ticket and a kiosk screen.
pub const NAME_MAX_CHARS: usize = 50;
/// Longest description of a case, in characters: a few paragraphs, no more.
pub const DESCRIPTION_MAX_CHARS: usize = 2000;
/// Longest note, in characters.
pub const NOTE_MAX_CHARS: usize = 1000;
/// The oldest age accepted: anybody born earlier than this many years ago is taken
/// to be a typing slip (1852 for 1952) rather than a real resident.
pub const OLDEST_AGE: i32 = 120;

/// Every field a person can type. Errors name the field so the screen can point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    GivenName,
    FamilyName,
    BirthYear,
    Phone,
    Email,
    Description,
    Pesel,
    Pin,
    Note,
}

impl Field {
    /// Short lowercase name of the field, for form labels and lists such as
    /// "please check: imię, telefon". Full sentences use [`FieldError::message`].
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Field::GivenName, Lang::Pl) => "imię",
            (Field::GivenName, Lang::En) => "given name",
            (Field::FamilyName, Lang::Pl) => "nazwisko",
            (Field::FamilyName, Lang::En) => "family name",
            (Field::BirthYear, Lang::Pl) => "rok urodzenia",
            (Field::BirthYear, Lang::En) => "birth year",
            (Field::Phone, Lang::Pl) => "telefon",
            (Field::Phone, Lang::En) => "phone",
            (Field::Email, _) => "e-mail",
            (Field::Description, Lang::Pl) => "opis",
            (Field::Description, Lang::En) => "description",
            (Field::Pesel, _) => "PESEL",
            (Field::Pin, _) => "PIN",
            (Field::Note, Lang::Pl) => "notatka",
            (Field::Note, Lang::En) => "note",
        }
    }

    /// The field as the subject of a sentence ("Imię może…", "Your given name can…").
    /// Separate from [`Field::label`] because Polish and English sentences need a
    /// fuller, capitalized form.
    fn subject(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Field::GivenName, Lang::Pl) => "Imię",
            (Field::GivenName, Lang::En) => "Your given name",
            (Field::FamilyName, Lang::Pl) => "Nazwisko",
            (Field::FamilyName, Lang::En) => "Your family name",
            (Field::BirthYear, Lang::Pl) => "Rok urodzenia",
            (Field::BirthYear, Lang::En) => "Your birth year",
            (Field::Phone, Lang::Pl) => "Numer telefonu",
            (Field::Phone, Lang::En) => "Your phone number",
            (Field::Email, Lang::Pl) => "Adres e-mail",
            (Field::Email, Lang::En) => "Your e-mail address",
            (Field::Description, Lang::Pl) => "Opis",
            (Field::Description, Lang::En) => "The description",
            (Field::Pesel, Lang::Pl) => "Numer PESEL",
            (Field::Pesel, Lang::En) => "Your PESEL number",
            (Field::Pin, Lang::Pl) => "PIN",
            (Field::Pin, Lang::En) => "Your PIN",
            (Field::Note, Lang::Pl) => "Notatka",
            (Field::Note, Lang::En) => "The note",
        }
    }

    /// The field as the object of "please enter …". Polish needs the accusative
    /// ("notatkę", not "notatka").
    fn object(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Field::GivenName, Lang::Pl) => "imię",
            (Field::GivenName, Lang::En) => "your given name",
            (Field::FamilyName, Lang::Pl) => "nazwisko",
            (Field::FamilyName, Lang::En) => "your family name",
            (Field::BirthYear, Lang::Pl) => "rok urodzenia",
            (Field::BirthYear, Lang::En) => "your birth year",
            (Field::Phone, Lang::Pl) => "numer telefonu",
            (Field::Phone, Lang::En) => "your phone number",
            (Field::Email, Lang::Pl) => "adres e-mail",
            (Field::Email, Lang::En) => "your e-mail address",
            (Field::Description, Lang::Pl) => "opis",
            (Field::Description, Lang::En) => "a description",
            (Field::Pesel, Lang::Pl) => "numer PESEL",
            (Field::Pesel, Lang::En) => "your PESEL number",
            (Field::Pin, Lang::Pl) => "PIN",
            (Field::Pin, Lang::En) => "your PIN",
            (Field::Note, Lang::Pl) => "notatkę",
            (Field::Note, Lang::En) => "a note",
        }
    }
}

/// Why a typed value was refused.
///
/// The variants carry data, not text, so the screen can render the message in the
/// resident's language at display time and logs can record the stable [`code`].
///
/// [`code`]: FieldError::code
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// Nothing but whitespace was typed in a required field.
    Empty { field: Field },
    /// More characters than the field holds.
    TooLong { field: Field, max_chars: usize },
    /// Fewer characters than the field needs.
    TooShort { field: Field, min_chars: usize },
    /// A character the field does not accept (a digit in a name, a control character).
    InvalidCharacters { field: Field },
    /// A birth year too far in the past or in the future.
    BirthYearOutOfRange { min: i32, max: i32 },
    /// Not a Polish nine-digit number nor an international one.
    InvalidPhone,
    /// Not shaped like an e-mail address.
    InvalidEmail,
    /// Wrong length, wrong check digit or an impossible date of birth.
    InvalidPesel,
    /// The date of birth in a valid PESEL is in another year than the birth year given.
    PeselBirthYearMismatch { pesel_year: i32, birth_year: i32 },
    /// Not 4 to 8 digits.
    InvalidPin,
    /// SMS reminders were asked for, but the number is not a Polish mobile one (see
    /// [`is_polish_mobile`]): a landline or a foreign number stays allowed without them.
    SmsNeedsPolishMobile,
}

impl FieldError {
    /// The field the error belongs to, so the screen can highlight it.
    pub fn field(&self) -> Field {
        match *self {
            FieldError::Empty { field }
            | FieldError::TooLong { field, .. }
            | FieldError::TooShort { field, .. }
            | FieldError::InvalidCharacters { field } => field,
            FieldError::BirthYearOutOfRange { .. } => Field::BirthYear,
            FieldError::InvalidPhone | FieldError::SmsNeedsPolishMobile => Field::Phone,
            FieldError::InvalidEmail => Field::Email,
            FieldError::InvalidPesel | FieldError::PeselBirthYearMismatch { .. } => Field::Pesel,
            FieldError::InvalidPin => Field::Pin,
        }
    }

    /// A stable machine-readable code, for logs, statistics and API responses.
    /// Never changes when the wording of [`FieldError::message`] does.
    pub fn code(&self) -> &'static str {
        match self {
            FieldError::Empty { .. } => "empty",
            FieldError::TooLong { .. } => "too_long",
            FieldError::TooShort { .. } => "too_short",
            FieldError::InvalidCharacters { .. } => "invalid_characters",
            FieldError::BirthYearOutOfRange { .. } => "birth_year_out_of_range",
            FieldError::InvalidPhone => "invalid_phone",
            FieldError::InvalidEmail => "invalid_email",
            FieldError::InvalidPesel => "invalid_pesel",
            FieldError::PeselBirthYearMismatch { .. } => "pesel_birth_year_mismatch",
            FieldError::InvalidPin => "invalid_pin",
            FieldError::SmsNeedsPolishMobile => "sms_needs_polish_mobile",
        }
    }

    /// A full sentence for the resident: it names the field and, where it helps, says
    /// what to type instead. Written for people who do not know the jargon.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (FieldError::Empty { field }, Lang::Pl) => {
                format!("Proszę wpisać {}.", field.object(lang))
            }
            (FieldError::Empty { field }, Lang::En) => {
                format!("Please enter {}.", field.object(lang))
            }
            (FieldError::TooLong { field, max_chars }, Lang::Pl) => format!(
                "{} może mieć najwyżej {max_chars} {}.",
                field.subject(lang),
                chars_word(*max_chars, lang)
            ),
            (FieldError::TooLong { field, max_chars }, Lang::En) => format!(
                "{} can be at most {max_chars} {} long.",
                field.subject(lang),
                chars_word(*max_chars, lang)
            ),
            (FieldError::TooShort { field, min_chars }, Lang::Pl) => format!(
                "{} musi mieć co najmniej {min_chars} {}.",
                field.subject(lang),
                chars_word(*min_chars, lang)
            ),
            (FieldError::TooShort { field, min_chars }, Lang::En) => format!(
                "{} must be at least {min_chars} {} long.",
                field.subject(lang),
                chars_word(*min_chars, lang)
            ),
            (FieldError::InvalidCharacters { field }, _) => invalid_characters(*field, lang),
            (FieldError::BirthYearOutOfRange { min, max }, Lang::Pl) => {
                format!("Rok urodzenia musi być między {min} a {max}.")
            }
            (FieldError::BirthYearOutOfRange { min, max }, Lang::En) => {
                format!("Your birth year must be between {min} and {max}.")
            }
            (FieldError::InvalidPhone, Lang::Pl) => {
                "Ten numer telefonu jest niepoprawny. Proszę wpisać 9 cyfr, np. 601 234 567."
                    .to_owned()
            }
            (FieldError::InvalidPhone, Lang::En) => {
                "This phone number is not valid. Please enter 9 digits, for example 601 234 567."
                    .to_owned()
            }
            (FieldError::InvalidEmail, Lang::Pl) => "Ten adres e-mail jest niepoprawny. \
                 Proszę sprawdzić, czy wygląda tak: anna.nowak@example.com."
                .to_owned(),
            (FieldError::InvalidEmail, Lang::En) => "This e-mail address is not valid. \
                 Please check that it looks like this: anna.nowak@example.com."
                .to_owned(),
            (FieldError::InvalidPesel, Lang::Pl) => {
                "Ten numer PESEL jest niepoprawny. Proszę sprawdzić wszystkie 11 cyfr.".to_owned()
            }
            (FieldError::InvalidPesel, Lang::En) => {
                "This PESEL number is not valid. Please check all 11 digits.".to_owned()
            }
            (
                FieldError::PeselBirthYearMismatch {
                    pesel_year,
                    birth_year,
                },
                Lang::Pl,
            ) => format!(
                "PESEL wskazuje rok urodzenia {pesel_year}, a podano {birth_year}. \
                 Proszę sprawdzić PESEL i rok urodzenia."
            ),
            (
                FieldError::PeselBirthYearMismatch {
                    pesel_year,
                    birth_year,
                },
                Lang::En,
            ) => format!(
                "The PESEL gives birth year {pesel_year}, but {birth_year} was entered. \
                 Please check the PESEL and the birth year."
            ),
            (FieldError::InvalidPin, Lang::Pl) => "PIN musi mieć od 4 do 8 cyfr.".to_owned(),
            (FieldError::InvalidPin, Lang::En) => "Your PIN must have 4 to 8 digits.".to_owned(),
            (FieldError::SmsNeedsPolishMobile, Lang::Pl) => {
                "Wiadomości SMS można wysyłać tylko na polski numer komórkowy. \
                 Proszę wpisać numer komórkowy albo nie zaznaczać zgody na SMS."
                    .to_owned()
            }
            (FieldError::SmsNeedsPolishMobile, Lang::En) => {
                "Text messages can go only to a Polish mobile number. \
                 Please enter a mobile number, or leave the text message box unticked."
                    .to_owned()
            }
        }
    }
}

/// English, because logs and developer-facing output are in English; residents see
/// [`FieldError::message`] in their own language.
impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

/// "InvalidCharacters" tells the resident what *is* allowed, which depends on the field.
fn invalid_characters(field: Field, lang: Lang) -> String {
    let subject = field.subject(lang);
    match (field, lang) {
        (Field::GivenName | Field::FamilyName, Lang::Pl) => format!(
            "{subject} może zawierać tylko litery, spacje, łączniki (-), apostrofy (') i kropki (.)."
        ),
        (Field::GivenName | Field::FamilyName, Lang::En) => format!(
            "{subject} can only contain letters, spaces, hyphens (-), apostrophes (') and dots (.)."
        ),
        (Field::Phone, Lang::Pl) => {
            format!("{subject} może zawierać tylko cyfry, spacje, łączniki i znak +.")
        }
        (Field::Phone, Lang::En) => {
            format!("{subject} can only contain digits, spaces, dashes and a + sign.")
        }
        (Field::BirthYear | Field::Pesel | Field::Pin, Lang::Pl) => {
            format!("{subject} może zawierać tylko cyfry.")
        }
        (Field::BirthYear | Field::Pesel | Field::Pin, Lang::En) => {
            format!("{subject} can only contain digits.")
        }
        (Field::Email | Field::Description | Field::Note, Lang::Pl) => {
            format!("{subject} zawiera niedozwolone znaki. Proszę poprawić tekst.")
        }
        (Field::Email | Field::Description | Field::Note, Lang::En) => {
            format!("{subject} contains characters that are not allowed. Please correct the text.")
        }
    }
}

/// "character(s)" with the right grammatical number. Polish has three forms:
/// 1 znak, 2–4 znaki (but 12–14 znaków), 5+ znaków.
fn chars_word(n: usize, lang: Lang) -> &'static str {
    match lang {
        Lang::En if n == 1 => "character",
        Lang::En => "characters",
        Lang::Pl => crate::i18n::polish_plural(n as u64, ["znak", "znaki", "znaków"]),
    }
}

/// Whether `c` is a combining diacritical mark (U+0300–U+036F).
///
/// Text pasted from some systems spells "ż" as "z" followed by a combining dot; such a
/// mark is not [`char::is_alphabetic`], yet refusing a correctly spelled name would be
/// wrong, so a mark is accepted right after a letter.
fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// Whether two names, each as `person_name` returned it, are the same name: letter case
/// does not matter, diacritics do ("Łukasz" is not "Lukasz").
pub fn same_name(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// Validates a given or family name and returns it normalized.
///
/// Surrounding whitespace is dropped and inner runs of whitespace become one space,
/// because on a touch keyboard a doubled space is a slip, not part of the name.
/// Letters of any script are accepted (so every Polish diacritic and names of residents
/// from abroad), as are the separators real names use: space, hyphen ("Nowak-Kowalska"),
/// apostrophe ("D'Arc", also typographic ’) and dot ("St. John"). Digits, symbols,
/// emoji and control characters are refused, and so is a name without a single letter.
/// The limit counts characters, not bytes, so "ż" counts once.
pub fn person_name(field: Field, input: &str) -> Result<String, FieldError> {
    let mut name = String::with_capacity(input.len());
    for word in input.split_whitespace() {
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(word);
    }
    if name.is_empty() {
        return Err(FieldError::Empty { field });
    }

    let mut has_letter = false;
    let mut after_letter = false;
    for c in name.chars() {
        if c.is_alphabetic() {
            has_letter = true;
            after_letter = true;
        } else if is_combining_mark(c) && after_letter {
            // Still "after a letter": a letter may carry several marks.
        } else if matches!(c, ' ' | '-' | '\'' | '\u{2019}' | '.') {
            after_letter = false;
        } else {
            return Err(FieldError::InvalidCharacters { field });
        }
    }
    if !has_letter {
        return Err(FieldError::InvalidCharacters { field });
    }

    if name.chars().count() > NAME_MAX_CHARS {
        return Err(FieldError::TooLong {
            field,
            max_chars: NAME_MAX_CHARS,
        });
    }
    Ok(name)
}

/// Checks a birth year against the plausible range
/// `current_year - OLDEST_AGE ..= current_year`.
///
/// The current year is passed in rather than read from a clock so this stays pure and
/// the kiosk, the server and the tests all use the same rule.
pub fn birth_year(year: i32, current_year: i32) -> Result<u16, FieldError> {
    let min = current_year.saturating_sub(OLDEST_AGE);
    let max = current_year;
    let out_of_range = FieldError::BirthYearOutOfRange { min, max };
    if !(min..=max).contains(&year) {
        return Err(out_of_range);
    }
    u16::try_from(year).map_err(|_| out_of_range)
}

/// Parses a typed birth year, then checks it with [`birth_year`].
///
/// Only ASCII digits are accepted, so "19 50" or "1950r." get a message about the
/// characters instead of a confusing range error.
pub fn parse_birth_year(input: &str, current_year: i32) -> Result<u16, FieldError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(FieldError::Empty {
            field: Field::BirthYear,
        });
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::InvalidCharacters {
            field: Field::BirthYear,
        });
    }
    match text.parse::<i32>() {
        Ok(year) => birth_year(year, current_year),
        // Only digits, so the parse can fail only by overflow: far out of range.
        Err(_) => Err(FieldError::BirthYearOutOfRange {
            min: current_year.saturating_sub(OLDEST_AGE),
            max: current_year,
        }),
    }
}

/// Validates a phone number and returns it in E.164 form, e.g. `+48601234567`.
///
/// People write numbers in many ways ("601 234 567", "601-234-567", "(22) 123 45 67",
/// "+48 601 234 567", "0048 601 234 567"), so spaces, dashes, dots and parentheses are
/// ignored, and one store-and-compare form comes out. Nine digits with no country code
/// are a Polish number (which never starts with 0). A number with a country code ('+'
/// or "00") must have 8 to 15 digits, must not start with 0, and when the country code
/// is 48 it must be followed by exactly nine digits.
pub fn phone(input: &str) -> Result<String, FieldError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(FieldError::Empty {
            field: Field::Phone,
        });
    }

    let mut digits = String::with_capacity(16);
    let mut plus = false;
    for c in text.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if !plus && digits.is_empty() => plus = true,
            '-' | '.' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            _ => return Err(FieldError::InvalidPhone),
        }
    }

    let international = if plus {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    match international {
        Some(number) => {
            if !(8..=15).contains(&number.len()) || number.starts_with('0') {
                return Err(FieldError::InvalidPhone);
            }
            if let Some(national) = number.strip_prefix("48")
                && !is_polish_national(national)
            {
                return Err(FieldError::InvalidPhone);
            }
            Ok(format!("+{number}"))
        }
        None if is_polish_national(&digits) => Ok(format!("+48{digits}")),
        None => Err(FieldError::InvalidPhone),
    }
}

/// The first two digits of Polish mobile numbers (the national numbering plan's mobile
/// ranges); every other Polish number is a landline or a special service, which cannot
/// receive SMS.
pub const POLISH_MOBILE_PREFIXES: [&str; 13] = [
    "45", "50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88",
];

/// Whether a number as [`phone`] returns it ("+48" and nine digits) is a Polish mobile
/// one, the only kind SMS reminders go to.
pub fn is_polish_mobile(e164: &str) -> bool {
    e164.strip_prefix("+48").is_some_and(|national| {
        is_polish_national(national)
            && national.bytes().all(|b| b.is_ascii_digit())
            && POLISH_MOBILE_PREFIXES
                .iter()
                .any(|prefix| national.starts_with(prefix))
    })
}

/// A Polish national number: nine digits, never starting with 0.
fn is_polish_national(digits: &str) -> bool {
    digits.len() == 9 && !digits.starts_with('0')
}

/// Characters that cannot appear unquoted in an address. Refusing them catches common
/// slips ("jan,kowalski@…") and pasted "Name <address>" forms; quoted local parts are
/// legal but nobody types them on a kiosk.
const EMAIL_FORBIDDEN: &[char] = &['(', ')', ',', ':', ';', '<', '>', '[', ']', '\\', '"'];

/// Validates an e-mail address and returns it with the domain lowercased.
///
/// Only the domain is lowercased: domains are case-insensitive, while the part before
/// '@' may in principle be case-sensitive, so it is kept as typed. The check is about
/// shape (one '@', a non-empty local part, a dotted domain with no empty labels, no
/// spaces or control characters, at most 254 characters); whether the address exists
/// is only known by sending to it.
pub fn email(input: &str) -> Result<String, FieldError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(FieldError::Empty {
            field: Field::Email,
        });
    }
    if text
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || EMAIL_FORBIDDEN.contains(&c))
    {
        return Err(FieldError::InvalidEmail);
    }
    let Some((local, domain)) = text.split_once('@') else {
        return Err(FieldError::InvalidEmail);
    };
    if local.is_empty() || domain.contains('@') {
        return Err(FieldError::InvalidEmail);
    }
    if !domain.contains('.') || domain.split('.').any(str::is_empty) {
        return Err(FieldError::InvalidEmail);
    }
    let address = format!("{local}@{}", domain.to_lowercase());
    // Counted after lowercasing: a few characters grow when lowercased.
    if address.chars().count() > 254 {
        return Err(FieldError::InvalidEmail);
    }
    Ok(address)
}

/// Validates free text (a description, a note) and returns it cleaned.
///
/// Line breaks are normalized to "\n" (Windows "\r\n" and old Mac "\r" alike) so the
/// same text is stored the same way whatever device sent it, and the text is trimmed.
/// Newlines and tabs are kept because people format their descriptions; other control
/// characters are refused because they are invisible, break printing and can hide text.
/// The limit counts characters, not bytes.
pub fn free_text(field: Field, input: &str, max_chars: usize) -> Result<String, FieldError> {
    let normalized = input.replace("\r\n", "\n").replace('\r', "\n");
    let text = normalized.trim();
    if text.is_empty() {
        return Err(FieldError::Empty { field });
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(FieldError::InvalidCharacters { field });
    }
    if text.chars().count() > max_chars {
        return Err(FieldError::TooLong { field, max_chars });
    }
    Ok(text.to_owned())
}

/// Weights of the PESEL check digit, for digits 1 to 10.
const PESEL_WEIGHTS: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];

/// Validates a PESEL and returns its 11 digits.
///
/// Besides the length and the check digit, the date of birth it encodes must exist:
/// the check digit alone still lets through one in ten typos that swap a digit of the
/// date, and "born on 30 February" is always one.
pub fn pesel(input: &str) -> Result<String, FieldError> {
    let text = input.trim();
    let digits = pesel_digits(text).ok_or(FieldError::InvalidPesel)?;

    let sum: u32 = PESEL_WEIGHTS
        .iter()
        .zip(&digits)
        .map(|(weight, digit)| weight * digit)
        .sum();
    if (10 - sum % 10) % 10 != digits[10] {
        return Err(FieldError::InvalidPesel);
    }

    if pesel_birth_date(&digits).is_none() {
        return Err(FieldError::InvalidPesel);
    }
    Ok(text.to_owned())
}

/// The year of birth encoded in a valid PESEL, or `None` if the PESEL is not valid.
///
/// Lets a form cross-check the typed birth year against the PESEL without asking the
/// resident for it twice.
pub fn pesel_birth_year(pesel: &str) -> Option<i32> {
    let valid = self::pesel(pesel).ok()?;
    let digits = pesel_digits(&valid)?;
    pesel_birth_date(&digits).map(|(year, _, _)| year)
}

/// Checks that the date of birth in a PESEL falls in `birth_year`, the year the person
/// gave: a PESEL typed for someone else, or a slip in either field, is caught before it
/// is filed. An invalid PESEL is [`FieldError::InvalidPesel`].
pub fn pesel_matches_birth_year(pesel: &str, birth_year: i32) -> Result<(), FieldError> {
    let pesel_year = pesel_birth_year(pesel).ok_or(FieldError::InvalidPesel)?;
    if pesel_year == birth_year {
        Ok(())
    } else {
        Err(FieldError::PeselBirthYearMismatch {
            pesel_year,
            birth_year,
        })
    }
}

/// The 11 digit values of `text`, if it is exactly 11 ASCII digits.
fn pesel_digits(text: &str) -> Option<[u32; 11]> {
    let bytes: [u8; 11] = text.as_bytes().try_into().ok()?;
    let mut digits = [0u32; 11];
    for (digit, byte) in digits.iter_mut().zip(bytes) {
        if !byte.is_ascii_digit() {
            return None;
        }
        *digit = u32::from(byte - b'0');
    }
    Some(digits)
}

/// Decodes (year, month, day) from PESEL digits, if it is a real calendar date.
///
/// The century is encoded in the month: +80 for the 1800s, +0 for the 1900s, +20 for
/// the 2000s, +40 for the 2100s and +60 for the 2200s.
fn pesel_birth_date(digits: &[u32; 11]) -> Option<(i32, u32, u32)> {
    let yy = digits[0] * 10 + digits[1];
    let encoded_month = digits[2] * 10 + digits[3];
    let day = digits[4] * 10 + digits[5];

    let (century, month) = match encoded_month {
        81..=92 => (1800, encoded_month - 80),
        1..=12 => (1900, encoded_month),
        21..=32 => (2000, encoded_month - 20),
        41..=52 => (2100, encoded_month - 40),
        61..=72 => (2200, encoded_month - 60),
        _ => return None,
    };
    let year = century + i32::try_from(yy).ok()?;
    if day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some((year, month, day))
}

/// Days in a month of the Gregorian calendar.
fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Validates a PIN: 4 to 8 ASCII digits, returned without surrounding whitespace.
///
/// Digits only, because the kiosk shows a numeric keypad for it; at least 4 so it is
/// not trivially guessed, at most 8 so a senior can remember it.
pub fn pin(input: &str) -> Result<String, FieldError> {
    let text = input.trim();
    if (4..=8).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(FieldError::InvalidPin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const ALL_FIELDS: [Field; 9] = [
        Field::GivenName,
        Field::FamilyName,
        Field::BirthYear,
        Field::Phone,
        Field::Email,
        Field::Description,
        Field::Pesel,
        Field::Pin,
        Field::Note,
    ];
    const LANGS: [Lang; 2] = [Lang::Pl, Lang::En];
    const POLISH_DIACRITICS: &str = "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ";

    /// One error of every variant (with a representative field where one is needed).
    fn every_variant() -> Vec<FieldError> {
        vec![
            FieldError::Empty {
                field: Field::GivenName,
            },
            FieldError::TooLong {
                field: Field::FamilyName,
                max_chars: NAME_MAX_CHARS,
            },
            FieldError::TooShort {
                field: Field::Description,
                min_chars: 3,
            },
            FieldError::InvalidCharacters {
                field: Field::GivenName,
            },
            FieldError::BirthYearOutOfRange {
                min: 1906,
                max: 2026,
            },
            FieldError::InvalidPhone,
            FieldError::InvalidEmail,
            FieldError::InvalidPesel,
            FieldError::PeselBirthYearMismatch {
                pesel_year: 1944,
                birth_year: 1950,
            },
            FieldError::InvalidPin,
            FieldError::SmsNeedsPolishMobile,
        ]
    }

    /// Appends the correct PESEL check digit to the first ten digits.
    fn with_check_digit(first_ten: &str) -> String {
        assert_eq!(first_ten.len(), 10);
        let sum: u32 = first_ten
            .bytes()
            .zip(PESEL_WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        format!("{first_ten}{}", (10 - sum % 10) % 10)
    }

    /// Builds a PESEL for a birth date, encoding the century in the month.
    fn pesel_for(year: i32, month: u32, day: u32, serial: &str) -> String {
        let offset = match year / 100 {
            18 => 80,
            19 => 0,
            20 => 20,
            21 => 40,
            22 => 60,
            _ => panic!("no PESEL century for {year}"),
        };
        with_check_digit(&format!(
            "{:02}{:02}{:02}{serial}",
            year % 100,
            month + offset,
            day
        ))
    }

    /// The same PESEL with its check digit replaced by a wrong one.
    fn with_wrong_check_digit(valid: &str) -> String {
        let (body, check) = valid.split_at(10);
        let wrong = (check.as_bytes()[0] - b'0' + 1) % 10;
        format!("{body}{wrong}")
    }

    // ---- Field ----

    #[test]
    fn field_labels() {
        let expected = [
            (Field::GivenName, "imię", "given name"),
            (Field::FamilyName, "nazwisko", "family name"),
            (Field::BirthYear, "rok urodzenia", "birth year"),
            (Field::Phone, "telefon", "phone"),
            (Field::Email, "e-mail", "e-mail"),
            (Field::Description, "opis", "description"),
            (Field::Pesel, "PESEL", "PESEL"),
            (Field::Pin, "PIN", "PIN"),
            (Field::Note, "notatka", "note"),
        ];
        assert_eq!(expected.len(), ALL_FIELDS.len());
        for (field, pl, en) in expected {
            assert_eq!(field.label(Lang::Pl), pl);
            assert_eq!(field.label(Lang::En), en);
        }
    }

    #[test]
    fn field_serializes_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&Field::GivenName).unwrap(),
            "\"given_name\""
        );
        assert_eq!(
            serde_json::to_string(&Field::BirthYear).unwrap(),
            "\"birth_year\""
        );
        assert_eq!(serde_json::to_string(&Field::Pesel).unwrap(), "\"pesel\"");
    }

    // ---- FieldError ----

    #[test]
    fn every_variant_has_distinct_nonempty_polish_and_english_messages() {
        for err in every_variant() {
            let pl = err.message(Lang::Pl);
            let en = err.message(Lang::En);
            assert!(!pl.trim().is_empty(), "{err:?}");
            assert!(!en.trim().is_empty(), "{err:?}");
            assert_ne!(pl, en, "{err:?}");
            for msg in [&pl, &en] {
                assert!(msg.ends_with('.'), "not a full sentence: {msg}");
                assert!(
                    msg.chars().next().is_some_and(char::is_uppercase),
                    "not a full sentence: {msg}"
                );
            }
        }
    }

    #[test]
    fn every_variant_field_combination_has_messages() {
        for field in ALL_FIELDS {
            for err in [
                FieldError::Empty { field },
                FieldError::TooLong {
                    field,
                    max_chars: 10,
                },
                FieldError::TooShort {
                    field,
                    min_chars: 2,
                },
                FieldError::InvalidCharacters { field },
            ] {
                let pl = err.message(Lang::Pl);
                let en = err.message(Lang::En);
                assert!(!pl.is_empty() && !en.is_empty());
                assert_ne!(pl, en, "{err:?}");
                assert_eq!(err.field(), field);
            }
        }
    }

    #[test]
    fn messages_name_the_field() {
        // Each field gets its own wording, so the resident knows which box to fix.
        for lang in LANGS {
            let messages: HashSet<String> = ALL_FIELDS
                .iter()
                .map(|&field| FieldError::Empty { field }.message(lang))
                .collect();
            assert_eq!(messages.len(), ALL_FIELDS.len());
        }
        let too_long = FieldError::TooLong {
            field: Field::FamilyName,
            max_chars: 50,
        };
        assert!(too_long.message(Lang::Pl).contains("Nazwisko"));
        assert!(too_long.message(Lang::En).contains("family name"));
    }

    #[test]
    fn example_messages() {
        let empty = FieldError::Empty {
            field: Field::GivenName,
        };
        assert_eq!(empty.message(Lang::Pl), "Proszę wpisać imię.");
        assert_eq!(empty.message(Lang::En), "Please enter your given name.");
        assert_eq!(
            FieldError::Empty { field: Field::Note }.message(Lang::Pl),
            "Proszę wpisać notatkę."
        );
        let range = FieldError::BirthYearOutOfRange {
            min: 1906,
            max: 2026,
        };
        assert_eq!(
            range.message(Lang::Pl),
            "Rok urodzenia musi być między 1906 a 2026."
        );
        assert_eq!(
            range.message(Lang::En),
            "Your birth year must be between 1906 and 2026."
        );
        let too_long = FieldError::TooLong {
            field: Field::GivenName,
            max_chars: 50,
        };
        assert_eq!(
            too_long.message(Lang::Pl),
            "Imię może mieć najwyżej 50 znaków."
        );
        assert_eq!(
            too_long.message(Lang::En),
            "Your given name can be at most 50 characters long."
        );
    }

    #[test]
    fn polish_plural_of_characters() {
        let cases = [
            (1, "znak"),
            (2, "znaki"),
            (4, "znaki"),
            (5, "znaków"),
            (12, "znaków"),
            (14, "znaków"),
            (22, "znaki"),
            (50, "znaków"),
            (104, "znaki"),
            (112, "znaków"),
            (1000, "znaków"),
        ];
        for (n, word) in cases {
            assert_eq!(chars_word(n, Lang::Pl), word, "{n}");
        }
        assert_eq!(chars_word(1, Lang::En), "character");
        assert_eq!(chars_word(2, Lang::En), "characters");
        assert_eq!(
            FieldError::TooShort {
                field: Field::Note,
                min_chars: 3
            }
            .message(Lang::Pl),
            "Notatka musi mieć co najmniej 3 znaki."
        );
    }

    #[test]
    fn codes_are_unique_and_stable() {
        let codes: Vec<&str> = every_variant().iter().map(FieldError::code).collect();
        let unique: HashSet<&str> = codes.iter().copied().collect();
        assert_eq!(unique.len(), codes.len(), "{codes:?}");
        assert_eq!(
            codes,
            [
                "empty",
                "too_long",
                "too_short",
                "invalid_characters",
                "birth_year_out_of_range",
                "invalid_phone",
                "invalid_email",
                "invalid_pesel",
                "pesel_birth_year_mismatch",
                "invalid_pin",
                "sms_needs_polish_mobile",
            ]
        );
        for code in codes {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
    }

    #[test]
    fn error_fields() {
        let fields: Vec<Field> = every_variant().iter().map(FieldError::field).collect();
        assert_eq!(
            fields,
            [
                Field::GivenName,
                Field::FamilyName,
                Field::Description,
                Field::GivenName,
                Field::BirthYear,
                Field::Phone,
                Field::Email,
                Field::Pesel,
                Field::Pesel,
                Field::Pin,
                Field::Phone,
            ]
        );
    }

    #[test]
    fn display_is_the_english_message() {
        for err in every_variant() {
            assert_eq!(err.to_string(), err.message(Lang::En));
        }
    }

    // ---- person_name ----

    #[test]
    fn accepts_every_polish_diacritic_and_preserves_it() {
        for c in POLISH_DIACRITICS.chars() {
            let name = format!("A{c}a");
            assert_eq!(person_name(Field::GivenName, &name), Ok(name.clone()));
        }
        let all = format!("Ola {POLISH_DIACRITICS}");
        assert_eq!(person_name(Field::FamilyName, &all), Ok(all.clone()));
    }

    #[test]
    fn accepts_real_polish_names() {
        for name in [
            "Małgorzata",
            "Łukasz",
            "Żaneta",
            "Ścibor",
            "Jędrzej",
            "Bożena",
            "Józef",
            "Grzegorz Brzęczyszczykiewicz",
            "Źrebiec",
            "Ćwikliński",
            "Ślązak",
            "ŁUCJA ŻÓŁĆ",
        ] {
            assert_eq!(person_name(Field::GivenName, name), Ok(name.to_owned()));
        }
    }

    #[test]
    fn accepts_letters_of_other_scripts() {
        for name in ["Олена", "Ξένια", "José", "Müller", "Øyvind", "李", "محمد"] {
            assert_eq!(person_name(Field::GivenName, name), Ok(name.to_owned()));
        }
    }

    #[test]
    fn accepts_hyphens_apostrophes_and_dots() {
        for name in [
            "Nowak-Kowalska",
            "D'Arc",
            "D\u{2019}Arc",
            "O'Brien",
            "St. John",
            "Anna Maria",
        ] {
            assert_eq!(person_name(Field::FamilyName, name), Ok(name.to_owned()));
        }
    }

    #[test]
    fn accepts_combining_marks_after_a_letter() {
        // "Żaneta" spelled with a combining dot above, as some systems paste it.
        let decomposed = "Z\u{0307}aneta";
        assert_eq!(
            person_name(Field::GivenName, decomposed),
            Ok(decomposed.to_owned())
        );
        for bad in ["\u{0301}Jan", "Jan \u{0301}", "Jan-\u{0301}"] {
            assert_eq!(
                person_name(Field::GivenName, bad),
                Err(FieldError::InvalidCharacters {
                    field: Field::GivenName
                }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn trims_and_collapses_whitespace() {
        let cases = [
            ("  Jan  ", "Jan"),
            ("Anna    Maria", "Anna Maria"),
            ("\tAnna \t Maria\n", "Anna Maria"),
            ("Anna\u{00A0}\u{00A0}Maria", "Anna Maria"),
            (" Nowak -  Kowalska ", "Nowak - Kowalska"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                person_name(Field::GivenName, input),
                Ok(expected.to_owned()),
                "{input:?}"
            );
        }
    }

    #[test]
    fn empty_name() {
        for input in ["", " ", "\t\n", "\u{00A0}"] {
            assert_eq!(
                person_name(Field::FamilyName, input),
                Err(FieldError::Empty {
                    field: Field::FamilyName
                })
            );
        }
    }

    #[test]
    fn rejects_digits_symbols_emoji_and_control_characters() {
        for input in [
            "Jan2",
            "R2D2",
            "1",
            "<script>",
            "<script>alert(1)</script>",
            "Jan 😀",
            "😀",
            "Jan\u{0000}",
            "Ja\u{0007}n",
            "Jan_Kowalski",
            "Jan@",
            "Anna, Maria",
            "Jan\u{200B}",
            "١٢٣",
        ] {
            assert_eq!(
                person_name(Field::GivenName, input),
                Err(FieldError::InvalidCharacters {
                    field: Field::GivenName
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn rejects_names_without_a_letter() {
        for input in ["-", "...", "' -", "’"] {
            assert_eq!(
                person_name(Field::GivenName, input),
                Err(FieldError::InvalidCharacters {
                    field: Field::GivenName
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn name_length_counts_characters_not_bytes() {
        let fifty = "ż".repeat(NAME_MAX_CHARS);
        assert_eq!(fifty.len(), 2 * NAME_MAX_CHARS);
        assert_eq!(person_name(Field::GivenName, &fifty), Ok(fifty.clone()));

        let fifty_one = "ż".repeat(NAME_MAX_CHARS + 1);
        assert_eq!(
            person_name(Field::GivenName, &fifty_one),
            Err(FieldError::TooLong {
                field: Field::GivenName,
                max_chars: NAME_MAX_CHARS
            })
        );
    }

    #[test]
    fn name_length_is_measured_after_normalizing() {
        // 50 characters once the padding and the doubled space are gone.
        let input = format!("   {}  {}   ", "Ł".repeat(24), "ą".repeat(25));
        let name = person_name(Field::FamilyName, &input).unwrap();
        assert_eq!(name.chars().count(), NAME_MAX_CHARS);
    }

    // ---- birth year ----

    #[test]
    fn birth_year_bounds() {
        let now = 2026;
        let range = FieldError::BirthYearOutOfRange {
            min: 1906,
            max: 2026,
        };
        assert_eq!(birth_year(1906, now), Ok(1906));
        assert_eq!(birth_year(2026, now), Ok(2026));
        assert_eq!(birth_year(1950, now), Ok(1950));
        assert_eq!(birth_year(1905, now), Err(range.clone()));
        assert_eq!(birth_year(2027, now), Err(range.clone()));
        assert_eq!(birth_year(0, now), Err(range.clone()));
        assert_eq!(birth_year(-1950, now), Err(range.clone()));
        assert_eq!(birth_year(i32::MAX, now), Err(range));
    }

    #[test]
    fn birth_year_never_overflows() {
        assert!(birth_year(i32::MIN, i32::MIN).is_err());
        assert!(birth_year(0, i32::MAX).is_err());
        assert!(birth_year(70_000, 70_000).is_err());
    }

    #[test]
    fn parse_birth_year_cases() {
        let now = 2026;
        assert_eq!(parse_birth_year("1950", now), Ok(1950));
        assert_eq!(parse_birth_year("  1906 ", now), Ok(1906));
        assert_eq!(parse_birth_year("2026", now), Ok(2026));
        assert_eq!(parse_birth_year("01950", now), Ok(1950));
        let empty = FieldError::Empty {
            field: Field::BirthYear,
        };
        assert_eq!(parse_birth_year("", now), Err(empty.clone()));
        assert_eq!(parse_birth_year("   ", now), Err(empty));
        for bad in ["19 50", "1950r.", "-1950", "+1950", "abcd", "195O", "١٩٥٠"] {
            assert_eq!(
                parse_birth_year(bad, now),
                Err(FieldError::InvalidCharacters {
                    field: Field::BirthYear
                }),
                "{bad:?}"
            );
        }
        let range = FieldError::BirthYearOutOfRange {
            min: 1906,
            max: 2026,
        };
        assert_eq!(parse_birth_year("1905", now), Err(range.clone()));
        assert_eq!(parse_birth_year("2027", now), Err(range.clone()));
        assert_eq!(parse_birth_year("52", now), Err(range.clone()));
        assert_eq!(parse_birth_year("99999999999999999999", now), Err(range));
    }

    // ---- phone ----

    #[test]
    fn polish_phone_spellings() {
        for input in [
            "601234567",
            "601 234 567",
            "601-234-567",
            "601.234.567",
            " 601 234 567 ",
            "+48601234567",
            "+48 601 234 567",
            "+48 601-234-567",
            "(+48) 601 234 567",
            "0048601234567",
            "0048 601 234 567",
            "60 12 34 567",
            "601\u{00A0}234\u{00A0}567",
        ] {
            assert_eq!(phone(input), Ok("+48601234567".to_owned()), "{input:?}");
        }
        assert_eq!(phone("(22) 123 45 67"), Ok("+48221234567".to_owned()));
        assert_eq!(phone("22 123-45-67"), Ok("+48221234567".to_owned()));
    }

    #[test]
    fn international_phones() {
        assert_eq!(phone("+1 (202) 555-0143"), Ok("+12025550143".to_owned()));
        assert_eq!(phone("+44 20 7946 0958"), Ok("+442079460958".to_owned()));
        assert_eq!(phone("00380 44 123 4567"), Ok("+380441234567".to_owned()));
        // E.164 bounds: 8 and 15 digits after '+'.
        assert_eq!(phone("+12345678"), Ok("+12345678".to_owned()));
        assert_eq!(phone("+123456789012345"), Ok("+123456789012345".to_owned()));
        assert_eq!(phone("+1234567"), Err(FieldError::InvalidPhone));
        assert_eq!(phone("+1234567890123456"), Err(FieldError::InvalidPhone));
    }

    #[test]
    fn polish_mobiles() {
        for prefix in [
            "45", "50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88",
        ] {
            let number = phone(&format!("{prefix}1 234 567")).expect("a valid number");
            assert!(is_polish_mobile(&number), "{number}");
        }
        assert!(is_polish_mobile(&phone("+48 601 234 567").expect("valid")));
        assert!(is_polish_mobile(&phone("0048 881 234 567").expect("valid")));
    }

    #[test]
    fn not_polish_mobiles() {
        for number in [
            // Landlines (Warsaw, Kraków, Gdańsk, Łódź) and special services.
            "+48221234567",
            "+48121234567",
            "+48581234567",
            "+48421234567",
            "+48801234567",
            "+48701234567",
            // Foreign mobiles, even with a "mobile" prefix after the country code.
            "+447911123456",
            "+380501234567",
            "+4960123456",
            // Not the shape `phone` returns.
            "+4860123456",
            "+486012345678",
            "601234567",
            "+48 60123456",
            "+4860123456x",
            "",
        ] {
            assert!(!is_polish_mobile(number), "{number}");
        }
    }

    #[test]
    fn bad_phones() {
        for input in [
            "12345",
            "601 234 56",
            "601 234 5678",
            "012 345 678",
            "48601234567",
            "+48 601 234 56",
            "+48 601 234 5678",
            "+48 012 345 678",
            "++48601234567",
            "601+234567",
            "+0 601 234 567",
            "+0048601234567",
            "00 48",
            "601 234 567 wew. 12",
            "tel. 601234567",
            "601/234/567",
            "６０１２３４５６７",
            "--",
            "+",
            "()",
        ] {
            assert_eq!(phone(input), Err(FieldError::InvalidPhone), "{input:?}");
        }
    }

    #[test]
    fn empty_phone() {
        for input in ["", "   "] {
            assert_eq!(
                phone(input),
                Err(FieldError::Empty {
                    field: Field::Phone
                })
            );
        }
    }

    // ---- email ----

    #[test]
    fn good_emails() {
        let cases = [
            ("jan@example.com", "jan@example.com"),
            ("  jan@example.com ", "jan@example.com"),
            ("Jan.Kowalski@Example.COM", "Jan.Kowalski@example.com"),
            ("anna+kiosk@poczta.gmina.pl", "anna+kiosk@poczta.gmina.pl"),
            ("ŁUCJA@ŻÓŁW.PL", "ŁUCJA@żółw.pl"),
            ("a@b.c", "a@b.c"),
        ];
        for (input, expected) in cases {
            assert_eq!(email(input), Ok(expected.to_owned()), "{input:?}");
        }
    }

    #[test]
    fn bad_emails() {
        for input in [
            "jan",
            "jan@",
            "@example.com",
            "jan@example",
            "jan@@example.com",
            "jan@ex@ample.com",
            "jan@.example.com",
            "jan@example.com.",
            "jan@example..com",
            "jan kowalski@example.com",
            "jan@exa mple.com",
            "jan\u{0000}@example.com",
            "jan\t@example.com",
            "jan,kowalski@example.com",
            "Jan <jan@example.com>",
            "<jan@example.com>",
            "jan@example,com",
        ] {
            assert_eq!(email(input), Err(FieldError::InvalidEmail), "{input:?}");
        }
    }

    #[test]
    fn email_length_limit() {
        let domain = "@example.com"; // 12 characters
        let ok = format!("{}{domain}", "a".repeat(254 - domain.len()));
        assert_eq!(email(&ok), Ok(ok.clone()));
        let too_long = format!("{}{domain}", "a".repeat(255 - domain.len()));
        assert_eq!(email(&too_long), Err(FieldError::InvalidEmail));
    }

    #[test]
    fn empty_email() {
        for input in ["", " \t "] {
            assert_eq!(
                email(input),
                Err(FieldError::Empty {
                    field: Field::Email
                })
            );
        }
    }

    // ---- free text ----

    #[test]
    fn free_text_trims_and_keeps_newlines_and_tabs() {
        assert_eq!(
            free_text(Field::Description, "  Potrzebuję pomocy.  ", 100),
            Ok("Potrzebuję pomocy.".to_owned())
        );
        let text = "Pierwsza linia\n\tdruga linia\n\ntrzecia";
        assert_eq!(free_text(Field::Note, text, 100), Ok(text.to_owned()));
    }

    #[test]
    fn free_text_normalizes_line_breaks() {
        assert_eq!(
            free_text(Field::Note, "a\r\nb\r\n\r\nc\r\n", 100),
            Ok("a\nb\n\nc".to_owned())
        );
        assert_eq!(free_text(Field::Note, "a\rb", 100), Ok("a\nb".to_owned()));
    }

    #[test]
    fn free_text_rejects_control_characters() {
        for input in [
            "a\u{0000}b",
            "bell\u{0007}",
            "esc\u{001B}[31m",
            "del\u{007F}",
            "c1\u{0085}x",
        ] {
            assert_eq!(
                free_text(Field::Description, input, 100),
                Err(FieldError::InvalidCharacters {
                    field: Field::Description
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn free_text_accepts_polish_and_emoji() {
        let text = "Zażółć gęślą jaźń 😀 <b>nie HTML</b>";
        assert_eq!(free_text(Field::Note, text, 100), Ok(text.to_owned()));
    }

    #[test]
    fn free_text_length_counts_characters_after_trimming() {
        let exact = "ę".repeat(NOTE_MAX_CHARS);
        assert_eq!(
            free_text(Field::Note, &format!("  {exact}\r\n"), NOTE_MAX_CHARS),
            Ok(exact.clone())
        );
        let over = "ę".repeat(NOTE_MAX_CHARS + 1);
        assert_eq!(
            free_text(Field::Note, &over, NOTE_MAX_CHARS),
            Err(FieldError::TooLong {
                field: Field::Note,
                max_chars: NOTE_MAX_CHARS
            })
        );
        let description = "x".repeat(DESCRIPTION_MAX_CHARS);
        assert!(free_text(Field::Description, &description, DESCRIPTION_MAX_CHARS).is_ok());
        assert!(
            free_text(
                Field::Description,
                &format!("{description}x"),
                DESCRIPTION_MAX_CHARS
            )
            .is_err()
        );
    }

    #[test]
    fn free_text_empty() {
        for input in ["", "   ", "\r\n\r\n", "\t\n "] {
            assert_eq!(
                free_text(Field::Description, input, 100),
                Err(FieldError::Empty {
                    field: Field::Description
                }),
                "{input:?}"
            );
        }
    }

    // ---- PESEL ----

    #[test]
    fn test_helper_computes_known_check_digits() {
        assert_eq!(with_check_digit("4405140135"), "44051401359");
        assert_eq!(with_check_digit("0207080362"), "02070803628");
    }

    #[test]
    fn known_valid_pesels() {
        // The standard example: born 14 May 1944.
        assert_eq!(pesel("44051401359"), Ok("44051401359".to_owned()));
        assert_eq!(pesel_birth_year("44051401359"), Some(1944));
        // Born 8 July 1902.
        assert_eq!(pesel("02070803628"), Ok("02070803628".to_owned()));
        assert_eq!(pesel_birth_year("02070803628"), Some(1902));
        // Surrounding whitespace is a slip, not part of the number.
        assert_eq!(pesel(" 44051401359\n"), Ok("44051401359".to_owned()));
    }

    #[test]
    fn pesel_born_in_the_2000s() {
        // 15 February 2003: month 02 + 20 = 22.
        let p = pesel_for(2003, 2, 15, "1234");
        assert_eq!(p, "03221512343");
        assert_eq!(pesel(&p), Ok(p.clone()));
        assert_eq!(pesel_birth_year(&p), Some(2003));
    }

    #[test]
    fn pesel_every_century() {
        for (year, month, day) in [
            (1800, 1, 1),
            (1899, 12, 31),
            (1900, 1, 1),
            (1999, 12, 31),
            (2000, 1, 1),
            (2099, 12, 31),
            (2100, 6, 15),
            (2299, 12, 31),
        ] {
            let p = pesel_for(year, month, day, "0001");
            assert_eq!(pesel(&p), Ok(p.clone()), "{year}-{month}-{day}");
            assert_eq!(pesel_birth_year(&p), Some(year));
        }
    }

    #[test]
    fn pesel_check_digit_zero() {
        // Serials chosen so the weighted sum is a multiple of ten.
        let p = (0..10_000)
            .map(|serial| pesel_for(1980, 3, 3, &format!("{serial:04}")))
            .find(|p| p.ends_with('0'))
            .unwrap();
        assert_eq!(pesel(&p), Ok(p.clone()));
    }

    #[test]
    fn pesel_wrong_check_digit() {
        for valid in ["44051401359", "02070803628", "03221512343"] {
            let bad = with_wrong_check_digit(valid);
            assert_eq!(pesel(&bad), Err(FieldError::InvalidPesel), "{bad}");
            assert_eq!(pesel_birth_year(&bad), None);
        }
        // A swapped pair of digits is caught too.
        assert_eq!(pesel("44051401395"), Err(FieldError::InvalidPesel));
    }

    #[test]
    fn pesel_impossible_dates_with_correct_check_digit() {
        for first_ten in [
            "0302300000", // 30 February 1903
            "0322300000", // 30 February 2003
            "0102290000", // 29 February 1901
            "0002290000", // 29 February 1900: not a leap year
            "0042290000", // 29 February 2100: not a leap year
            "8004310000", // 31 April 1980
            "8001000000", // day 0
            "8001320000", // 32 January
            "8000010000", // month 0
            "8013010000", // month 13
            "8033010000", // month 33
            "8073010000", // month 73
            "8093010000", // month 93
        ] {
            let p = with_check_digit(first_ten);
            assert_eq!(pesel(&p), Err(FieldError::InvalidPesel), "{p}");
            assert_eq!(pesel_birth_year(&p), None);
        }
    }

    #[test]
    fn pesel_leap_days() {
        for (year, serial) in [(2000, "1111"), (2004, "2222"), (1996, "3333")] {
            let p = pesel_for(year, 2, 29, serial);
            assert_eq!(pesel(&p), Ok(p.clone()), "{p}");
        }
    }

    #[test]
    fn pesel_must_agree_with_the_birth_year() {
        // 44051401359: born 14 May 1944.
        assert_eq!(pesel_matches_birth_year("44051401359", 1944), Ok(()));
        let mismatch = pesel_matches_birth_year("44051401359", 1950).unwrap_err();
        assert_eq!(
            mismatch,
            FieldError::PeselBirthYearMismatch {
                pesel_year: 1944,
                birth_year: 1950
            }
        );
        assert_eq!(mismatch.field(), Field::Pesel);
        assert_eq!(mismatch.code(), "pesel_birth_year_mismatch");
        assert_eq!(
            mismatch.message(Lang::Pl),
            "PESEL wskazuje rok urodzenia 1944, a podano 1950. \
             Proszę sprawdzić PESEL i rok urodzenia."
        );
        assert_eq!(
            mismatch.message(Lang::En),
            "The PESEL gives birth year 1944, but 1950 was entered. \
             Please check the PESEL and the birth year."
        );
        // The same two digits of the year in every century: the month tells them apart.
        for (year, month) in [(1844, 5), (1944, 5), (2044, 5), (2144, 12), (2244, 1)] {
            let p = pesel_for(year, month, 14, "0135");
            assert_eq!(pesel_matches_birth_year(&p, year), Ok(()), "{p}");
            for other in [1844, 1944, 2044, 2144, 2244] {
                if other != year {
                    assert_eq!(
                        pesel_matches_birth_year(&p, other),
                        Err(FieldError::PeselBirthYearMismatch {
                            pesel_year: year,
                            birth_year: other
                        }),
                        "{p} against {other}"
                    );
                }
            }
        }
        // The first and last day of a year belong to it.
        assert_eq!(
            pesel_matches_birth_year(&pesel_for(1999, 12, 31, "0001"), 1999),
            Ok(())
        );
        assert_eq!(
            pesel_matches_birth_year(&pesel_for(2000, 1, 1, "0001"), 2000),
            Ok(())
        );
        // An invalid PESEL is invalid, whatever the year: a wrong check digit, an
        // impossible date (30 February, month 13, a month code of no century, day 0).
        for bad in [
            with_wrong_check_digit(&pesel_for(1950, 3, 3, "0001")),
            with_check_digit("5002300001"),
            with_check_digit("5013010001"),
            with_check_digit("5073010001"),
            with_check_digit("5003000001"),
            "1234".to_owned(),
        ] {
            assert_eq!(
                pesel_matches_birth_year(&bad, 1950),
                Err(FieldError::InvalidPesel),
                "{bad}"
            );
        }
    }

    #[test]
    fn pesel_wrong_shape() {
        for input in [
            "",
            "4405140135",
            "440514013590",
            "4405140135a",
            "44 051401359",
            "4405-1401359",
            "４4051401359",
            "+4405140135",
        ] {
            assert_eq!(pesel(input), Err(FieldError::InvalidPesel), "{input:?}");
        }
        assert_eq!(pesel_birth_year(""), None);
        assert_eq!(pesel_birth_year("ż"), None);
    }

    // ---- PIN ----

    #[test]
    fn pins() {
        for input in ["1234", "0000", "12345678", " 4321 "] {
            assert_eq!(pin(input), Ok(input.trim().to_owned()), "{input:?}");
        }
        for input in [
            "",
            "123",
            "123456789",
            "12a4",
            "12 34",
            "-123",
            "١٢٣٤",
            "１２３４",
        ] {
            assert_eq!(pin(input), Err(FieldError::InvalidPin), "{input:?}");
        }
    }

    // ---- properties ----

    proptest::proptest! {
        #[test]
        fn person_name_never_panics_and_normalizes(input in proptest::prelude::any::<String>()) {
            check_person_name(&input)?;
        }

        #[test]
        fn person_name_on_name_like_input(
            input in "[ \t\u{00A0}a-zA-ZąćęłńóśźżĄĆĘŁŃÓŚŹŻ'’.\\-]{0,80}"
        ) {
            check_person_name(&input)?;
        }

        #[test]
        fn free_text_never_panics_and_cleans(
            input in proptest::prelude::any::<String>(),
            max_chars in 0usize..300,
        ) {
            if let Ok(text) = free_text(Field::Note, &input, max_chars) {
                proptest::prop_assert!(!text.is_empty());
                proptest::prop_assert_eq!(text.trim(), text.as_str());
                proptest::prop_assert!(text.chars().count() <= max_chars);
                proptest::prop_assert!(!text.contains('\r'));
                proptest::prop_assert!(
                    text.chars().all(|c| !c.is_control() || c == '\n' || c == '\t')
                );
            }
        }

        #[test]
        fn other_validators_never_panic(input in proptest::prelude::any::<String>()) {
            let _ = parse_birth_year(&input, 2026);
            if let Ok(number) = phone(&input) {
                proptest::prop_assert!(number.starts_with('+'));
                proptest::prop_assert!(number[1..].bytes().all(|b| b.is_ascii_digit()));
            }
            let _ = email(&input);
            let _ = pesel(&input);
            let _ = pesel_birth_year(&input);
            let _ = pin(&input);
        }
    }

    fn check_person_name(input: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        if let Ok(name) = person_name(Field::GivenName, input) {
            proptest::prop_assert!(!name.is_empty());
            proptest::prop_assert_eq!(name.trim(), name.as_str());
            proptest::prop_assert!(!name.contains("  "));
            proptest::prop_assert!(name.chars().all(|c| !c.is_whitespace() || c == ' '));
            proptest::prop_assert!(name.chars().count() <= NAME_MAX_CHARS);
        }
        Ok(())
    }
}
