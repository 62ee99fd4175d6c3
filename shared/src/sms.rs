//! Text messages to residents: what an SMS costs, how to make it cheaper, who can get
//! one, and the messages themselves.
//!
//! An SMS travels in one of two alphabets. The GSM 03.38 default alphabet (GSM-7) packs
//! 160 characters into one part; a text with any other character, and every Polish
//! letter with a diacritic is one (ą ć ę ł ń ó ś ź ż: GSM-7 has ò and ö, not ó), travels
//! as UCS-2 (UTF-16) with 70 characters in one part. A longer text is split into parts of 153 or 67, since each part carries
//! a header saying how to join them again, and the gateway bills every part.
//! [`transliterate`] turns a text into GSM-7 ("Zajęcia odwołane" → "Zajecia odwolane"),
//! which more than doubles what one part holds.
//!
//! The messages ([`Message::render`]) follow the kiosk's wording rules (one polite,
//! impersonal register; see `kiosk/src/app/text.rs`), name the class, the day, the
//! time and the room, and end with the sender's signature. With a class title of about
//! 25 characters each fits in two UCS-2 parts (134 characters), and in one GSM-7 part
//! once transliterated.
//!
//! Pure text: nothing here sends anything.

use jiff::civil::Date;

use crate::i18n::{Lang, month_in_date, polish_plural, weekday_short};

/// The alphabet an SMS travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// The GSM 03.38 default alphabet with its extension table: 7 bits a character.
    Gsm7,
    /// UTF-16: 16 bits a unit, two units for a character outside the BMP (most emoji).
    Ucs2,
}

/// How many parts a text is sent (and billed) as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets for GSM-7 (an extension character takes two), UTF-16 units for UCS-2.
    pub units: usize,
    /// Parts; at least 1, even for an empty text (a gateway still sends one part).
    pub count: usize,
}

/// What one part holds, alone and in a split message: (single, per part).
const GSM7_LIMITS: (usize, usize) = (160, 153);
const UCS2_LIMITS: (usize, usize) = (70, 67);

/// How a text travels: GSM-7 when every character is in the GSM 03.38 default alphabet
/// (basic table: 1 septet; extension table `^{}\[~]|€` and form feed: 2 septets), up to
/// 160 septets in one part and 153 per part when split; otherwise UCS-2, up to 70 UTF-16
/// units in one part and 67 per part, a character outside the BMP counting as 2 units.
///
/// A split never cuts a character in two: an extension character (escape + code) or a
/// surrogate pair that would straddle a part's end starts the next part, as phones and
/// gateways do, so such a text can take one part more than `units / 153` suggests.
///
/// An empty text is 1 part: the gateway still sends (and bills) one.
pub fn segments(text: &str) -> Segments {
    let (encoding, widths): (Encoding, Vec<usize>) = if is_gsm7(text) {
        let widths = text
            .chars()
            .map(|c| if is_gsm7_extension(c) { 2 } else { 1 })
            .collect();
        (Encoding::Gsm7, widths)
    } else {
        (Encoding::Ucs2, text.chars().map(char::len_utf16).collect())
    };
    let (single, per_part) = match encoding {
        Encoding::Gsm7 => GSM7_LIMITS,
        Encoding::Ucs2 => UCS2_LIMITS,
    };
    let units = widths.iter().sum();
    let count = if units <= single {
        1
    } else {
        let (mut parts, mut used) = (1, 0);
        for width in widths {
            if used + width > per_part {
                parts += 1;
                used = 0;
            }
            used += width;
        }
        parts
    };
    Segments {
        encoding,
        units,
        count,
    }
}

/// Whether every character of `text` is in the GSM 03.38 default alphabet (basic table
/// or extension table).
pub fn is_gsm7(text: &str) -> bool {
    text.chars()
        .all(|c| is_gsm7_basic(c) || is_gsm7_extension(c))
}

/// The GSM 03.38 basic table, except the escape code (0x1B), which is no character.
fn is_gsm7_basic(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '@' | '£'
                | '$'
                | '¥'
                | 'è'
                | 'é'
                | 'ù'
                | 'ì'
                | 'ò'
                | 'Ç'
                | '\n'
                | 'Ø'
                | 'ø'
                | '\r'
                | 'Å'
                | 'å'
                | 'Δ'
                | '_'
                | 'Φ'
                | 'Γ'
                | 'Λ'
                | 'Ω'
                | 'Π'
                | 'Ψ'
                | 'Σ'
                | 'Θ'
                | 'Ξ'
                | 'Æ'
                | 'æ'
                | 'ß'
                | 'É'
                | ' '
                | '!'
                | '"'
                | '#'
                | '¤'
                | '%'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | '+'
                | ','
                | '-'
                | '.'
                | '/'
                | ':'
                | ';'
                | '<'
                | '='
                | '>'
                | '?'
                | '¡'
                | 'Ä'
                | 'Ö'
                | 'Ñ'
                | 'Ü'
                | '§'
                | '¿'
                | 'ä'
                | 'ö'
                | 'ñ'
                | 'ü'
                | 'à'
        )
}

/// The GSM 03.38 extension table: each is sent as escape + code, 2 septets.
fn is_gsm7_extension(c: char) -> bool {
    matches!(
        c,
        '\u{0C}' | '^' | '{' | '}' | '\\' | '[' | '~' | ']' | '|' | '€'
    )
}

/// `text` in the GSM-7 alphabet, for a gateway that sends it at 160 characters a part.
///
/// Polish letters lose their diacritics (ą→a, Ł→L, ż→z, …); typographic quotes become
/// `"` and `'`, dashes `-`, an ellipsis `...`, no-break and other wide spaces a space, a
/// tab a space; invisible zero-width characters go. A letter from another alphabet
/// with a diacritic keeps its base letter ("Dvořák" → "Dvorak"); any other character
/// outside GSM-7 (Cyrillic, emoji, …) becomes `?`. GSM-7 text comes back unchanged, and
/// the result always satisfies [`is_gsm7`].
pub fn transliterate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_gsm7_basic(c) || is_gsm7_extension(c) {
            out.push(c);
            continue;
        }
        match c {
            'ą' => out.push('a'),
            'Ą' => out.push('A'),
            'ć' => out.push('c'),
            'Ć' => out.push('C'),
            'ę' => out.push('e'),
            'Ę' => out.push('E'),
            'ł' => out.push('l'),
            'Ł' => out.push('L'),
            'ń' => out.push('n'),
            'Ń' => out.push('N'),
            'ó' => out.push('o'),
            'Ó' => out.push('O'),
            'ś' => out.push('s'),
            'Ś' => out.push('S'),
            'ź' | 'ż' => out.push('z'),
            'Ź' | 'Ż' => out.push('Z'),
            '„' | '”' | '“' | '‟' | '«' | '»' | '″' => out.push('"'),
            '‘' | '’' | '‚' | '‛' | '′' | '‹' | '›' => out.push('\''),
            '–' | '—' | '‐' | '‑' | '‒' | '―' | '−' => out.push('-'),
            '…' => out.push_str("..."),
            '\t' | '\u{A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
                out.push(' ')
            }
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{AD}' => {}
            _ => {
                // A letter with a diacritic from another alphabet: its base letter. A
                // lone combining mark folds to nothing and goes.
                let base = crate::fold::without_diacritics(c.encode_utf8(&mut [0; 4]));
                if is_gsm7(&base) {
                    out.push_str(&base);
                } else {
                    out.push('?');
                }
            }
        }
    }
    out
}

/// The number as the SMSAPI gateway's `to` field takes it: `48` and the nine digits
/// (`+48601234567` → `48601234567`); `None` when it is not a Polish mobile number.
pub fn gateway_number(e164: &str) -> Option<String> {
    e164.strip_prefix('+')
        .filter(|_| crate::validate::is_polish_mobile(e164))
        .map(str::to_owned)
}

/// When and where a session takes place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWhen {
    pub date: Date,
    /// "HH:MM", local time of the branch.
    pub start: String,
    /// The room as the class names it ("sala 2"); none or blank leaves it out.
    pub room: Option<String>,
}

/// How the office decided on an intake request, as far as an SMS tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestOutcome {
    Accepted,
    Rejected,
    NeedsInformation,
}

/// A text message to a resident. [`Message::render`] words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Moved from the waiting list to confirmed; `next` = the next session, if any.
    SeatFreed {
        class_title: String,
        next: Option<SessionWhen>,
    },
    /// The day before a session the resident is confirmed for. `sessions_left`: how many
    /// sessions of the class follow this one (not counting cancelled ones), when the
    /// class's calendar ends; 0 says this is the last one. None leaves it out.
    Reminder {
        class_title: String,
        session: SessionWhen,
        sessions_left: Option<u32>,
    },
    SessionMoved {
        class_title: String,
        from: SessionWhen,
        to: SessionWhen,
    },
    SessionCancelled {
        class_title: String,
        session: SessionWhen,
    },
    /// An intake request's status changed (never the staff note). `reference` is the
    /// request's reference as printed on the resident's receipt (e.g. "MAL/01/2026/00042").
    RequestStatus {
        reference: String,
        outcome: RequestOutcome,
    },
    /// The office's test message.
    Test,
}

/// `text` on one line: runs of white space (a line break in a title) as one space, none
/// at either end.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The day and time: "wt. 8 grudnia, 10:00" / "Tue 8 December, 10:00".
fn day_and_time(lang: Lang, date: Date, start: &str) -> String {
    let weekday = weekday_short(date.weekday(), lang);
    let month = month_in_date(date.month(), lang);
    format!("{weekday} {} {month}, {}", date.day(), one_line(start))
}

fn room(when: &SessionWhen) -> Option<String> {
    when.room.as_deref().map(one_line).filter(|r| !r.is_empty())
}

/// Day, time and room: "wt. 8 grudnia, 10:00, sala 2".
fn when_and_where(lang: Lang, when: &SessionWhen) -> String {
    let mut text = day_and_time(lang, when.date, &when.start);
    if let Some(room) = room(when) {
        text.push_str(", ");
        text.push_str(&room);
    }
    text
}

/// What a moved session was, as short as still says which one: the day and time when
/// the day changed, the time alone on the same day, the room alone when only the room
/// changed (none when it had no room, or nothing changed).
fn moved_from(lang: Lang, from: &SessionWhen, to: &SessionWhen) -> Option<String> {
    if from.date != to.date {
        Some(day_and_time(lang, from.date, &from.start))
    } else if one_line(&from.start) != one_line(&to.start) {
        Some(one_line(&from.start))
    } else {
        room(from).filter(|was| room(to).as_ref() != Some(was))
    }
}

impl Message {
    /// The message in `lang`, ending with the sender's `signature` ("CUS Wola"; a blank
    /// one is left out). Titles, rooms and references are put on one line.
    pub fn render(&self, lang: Lang, signature: &str) -> String {
        let pl = lang == Lang::Pl;
        let mut text = match self {
            Message::SeatFreed { class_title, next } => {
                let title = one_line(class_title);
                match (next, pl) {
                    (Some(next), true) => format!(
                        "Zwolniło się miejsce, zapis potwierdzony: {title}, od {}.",
                        when_and_where(lang, next)
                    ),
                    (Some(next), false) => format!(
                        "A place came free, sign-up confirmed: {title}, from {}.",
                        when_and_where(lang, next)
                    ),
                    (None, true) => format!("Zwolniło się miejsce, zapis potwierdzony: {title}."),
                    (None, false) => format!("A place came free, sign-up confirmed: {title}."),
                }
            }
            Message::Reminder {
                class_title,
                session,
                sessions_left,
            } => {
                let title = one_line(class_title);
                let when = when_and_where(lang, session);
                let mut text = if pl {
                    format!("Przypomnienie: {title}, {when}.")
                } else {
                    format!("Reminder: {title}, {when}.")
                };
                if let Some(left) = sessions_left {
                    text.push(' ');
                    text.push_str(&sessions_after(lang, *left));
                }
                text
            }
            Message::SessionMoved {
                class_title,
                from,
                to,
            } => {
                let title = one_line(class_title);
                let now = when_and_where(lang, to);
                let retimed = from.date != to.date || one_line(&from.start) != one_line(&to.start);
                let heading = match (retimed || room(from) == room(to), pl) {
                    (true, true) => "Zmiana terminu",
                    (true, false) => "New time",
                    (false, true) => "Zmiana sali",
                    (false, false) => "New room",
                };
                match (moved_from(lang, from, to), pl) {
                    (Some(was), true) => format!("{heading}: {title}, {now} (zamiast {was})."),
                    (Some(was), false) => format!("{heading}: {title}, {now} (instead of {was})."),
                    (None, _) => format!("{heading}: {title}, {now}."),
                }
            }
            Message::SessionCancelled {
                class_title,
                session,
            } => {
                let title = one_line(class_title);
                let when = when_and_where(lang, session);
                if pl {
                    format!("Zajęcia odwołane: {title}, {when}.")
                } else {
                    format!("Session cancelled: {title}, {when}.")
                }
            }
            Message::RequestStatus { reference, outcome } => {
                let reference = one_line(reference);
                match (outcome, pl) {
                    (RequestOutcome::Accepted, true) => {
                        format!("Wniosek {reference}: przyjęty. Szczegóły w biurze.")
                    }
                    (RequestOutcome::Accepted, false) => {
                        format!("Request {reference} has been accepted. Details at the office.")
                    }
                    (RequestOutcome::Rejected, true) => format!(
                        "Wniosek {reference}: odmowa. Decyzja z pouczeniem jest do odbioru w biurze."
                    ),
                    (RequestOutcome::Rejected, false) => format!(
                        "Request {reference} was refused. The decision, with how to appeal, is at the office."
                    ),
                    (RequestOutcome::NeedsInformation, true) => format!(
                        "Wniosek {reference}: potrzebne są dodatkowe informacje. Proszę skontaktować się z biurem."
                    ),
                    (RequestOutcome::NeedsInformation, false) => format!(
                        "Request {reference}: more information is needed. Please contact the office."
                    ),
                }
            }
            Message::Test => if pl {
                "Wiadomość testowa. SMS-y docierają na ten numer."
            } else {
                "Test message. Texts reach this number."
            }
            .to_owned(),
        };
        let signature = one_line(signature);
        if !signature.is_empty() {
            text.push(' ');
            text.push_str(&signature);
        }
        text
    }
}

/// "Potem jeszcze 3 spotkania." / "3 more sessions after this one."; 0: the last one.
fn sessions_after(lang: Lang, left: u32) -> String {
    match (lang, left) {
        (Lang::Pl, 0) => "To ostatnie spotkanie.".to_owned(),
        (Lang::En, 0) => "This is the last session.".to_owned(),
        (Lang::Pl, n) => {
            let word = polish_plural(u64::from(n), ["spotkanie", "spotkania", "spotkań"]);
            format!("Potem jeszcze {n} {word}.")
        }
        (Lang::En, 1) => "1 more session after this one.".to_owned(),
        (Lang::En, n) => format!("{n} more sessions after this one."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn gsm(count: usize, encoding: Encoding, units: usize) -> Segments {
        Segments {
            encoding,
            units,
            count,
        }
    }

    #[test]
    fn gsm7_fits_160_in_one_part_and_153_per_part() {
        let a = |n| "a".repeat(n);
        assert_eq!(segments(&a(160)), gsm(1, Encoding::Gsm7, 160));
        assert_eq!(segments(&a(161)), gsm(2, Encoding::Gsm7, 161));
        assert_eq!(segments(&a(306)), gsm(2, Encoding::Gsm7, 306));
        assert_eq!(segments(&a(307)), gsm(3, Encoding::Gsm7, 307));
        assert_eq!(segments(&a(459)), gsm(3, Encoding::Gsm7, 459));
        assert_eq!(segments(&a(460)), gsm(4, Encoding::Gsm7, 460));
    }

    #[test]
    fn an_empty_text_is_one_part() {
        assert_eq!(segments(""), gsm(1, Encoding::Gsm7, 0));
    }

    #[test]
    fn extension_characters_take_two_septets() {
        for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€', '\u{0C}'] {
            let text = format!("{}{c}", "a".repeat(158));
            assert_eq!(segments(&text), gsm(1, Encoding::Gsm7, 160), "{c:?}");
            let text = format!("{}{c}", "a".repeat(159));
            assert_eq!(segments(&text), gsm(2, Encoding::Gsm7, 161), "{c:?}");
        }
        assert_eq!(segments("€€€"), gsm(1, Encoding::Gsm7, 6));
    }

    #[test]
    fn a_split_never_cuts_an_extension_character() {
        // 152 septets, then "€" (2): it would straddle the first part's end, so it
        // starts the second part, which then holds 2 + 151 = 153.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(151));
        assert_eq!(segments(&text), gsm(2, Encoding::Gsm7, 305));
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(segments(&text), gsm(3, Encoding::Gsm7, 306));
    }

    #[test]
    fn ucs2_fits_70_in_one_part_and_67_per_part() {
        // One Polish letter turns the whole text into UCS-2.
        let t = |n: usize| format!("ł{}", "a".repeat(n - 1));
        assert_eq!(segments(&t(70)), gsm(1, Encoding::Ucs2, 70));
        assert_eq!(segments(&t(71)), gsm(2, Encoding::Ucs2, 71));
        assert_eq!(segments(&t(134)), gsm(2, Encoding::Ucs2, 134));
        assert_eq!(segments(&t(135)), gsm(3, Encoding::Ucs2, 135));
        assert_eq!(segments(&t(201)), gsm(3, Encoding::Ucs2, 201));
        assert_eq!(segments(&t(202)), gsm(4, Encoding::Ucs2, 202));
    }

    #[test]
    fn a_polish_letter_forces_ucs2() {
        assert_eq!(segments("Zajecia odwolane").encoding, Encoding::Gsm7);
        for letter in "ąćęłńśźżĄĆĘŁŃŚŹŻ".chars() {
            let text = format!("Zaj{letter}cia");
            assert_eq!(segments(&text), gsm(1, Encoding::Ucs2, 7), "{letter}");
        }
        // "ó" is no GSM-7 letter either (only ò and ö are).
        assert_eq!(segments("ó").encoding, Encoding::Ucs2);
        // 161 GSM-7 characters are 2 parts; one "ą" among them makes it 3.
        assert_eq!(segments(&"a".repeat(161)).count, 2);
        assert_eq!(segments(&format!("ą{}", "a".repeat(160))).count, 3);
    }

    #[test]
    fn emoji_outside_the_bmp_take_two_units() {
        assert_eq!(segments("🙂"), gsm(1, Encoding::Ucs2, 2));
        let text = format!("{}🙂", "a".repeat(68));
        assert_eq!(segments(&text), gsm(1, Encoding::Ucs2, 70));
        let text = format!("{}🙂", "a".repeat(69));
        assert_eq!(segments(&text), gsm(2, Encoding::Ucs2, 71));
        // 66 units, then a pair that would straddle the first part's end.
        let text = format!("{}🙂{}", "a".repeat(66), "a".repeat(65));
        assert_eq!(segments(&text), gsm(2, Encoding::Ucs2, 133));
        let text = format!("{}🙂{}", "a".repeat(66), "a".repeat(66));
        assert_eq!(segments(&text), gsm(3, Encoding::Ucs2, 134));
    }

    #[test]
    fn transliterates_polish_and_typography() {
        assert_eq!(
            transliterate("Zażółć gęślą jaźń. ZAŻÓŁĆ GĘŚLĄ JAŹŃ"),
            "Zazolc gesla jazn. ZAZOLC GESLA JAZN"
        );
        assert_eq!(
            transliterate("„Tai Chi” – 10:00—11:00… ‘sala’ “B”\u{A0}2"),
            "\"Tai Chi\" - 10:00-11:00... 'sala' \"B\" 2"
        );
        assert_eq!(
            transliterate("Dvořák, Müller, café"),
            "Dvorak, Müller, café"
        );
        assert_eq!(transliterate("Привет 🙂 ✓"), "?????? ? ?");
        // A decomposed "ó" (o + combining acute) loses its mark.
        assert_eq!(transliterate("Go\u{301}ra\u{200B}"), "Gora");
        assert_eq!(transliterate("a\tb"), "a b");
    }

    #[test]
    fn gsm7_is_the_default_alphabet_and_its_extension() {
        assert!(is_gsm7(
            "Zapis potwierdzony: Joga, wt. 8 grudnia, 10:00. CUS Wola"
        ));
        assert!(is_gsm7(
            "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./"
        ));
        assert!(is_gsm7("0123456789:;<=>?¡ÄÖÑÜ§¿äöñüà^{}\\[~]|€\u{0C}"));
        assert!(is_gsm7(""));
        for not in [
            "ó", "ą", "`", "\t", "\u{1B}", "ç", "á", "–", "„", "🙂", "\u{A0}",
        ] {
            assert!(!is_gsm7(not), "{not:?}");
        }
    }

    /// Any string of the GSM-7 alphabet.
    fn gsm7_text() -> impl Strategy<Value = String> {
        let alphabet: Vec<char> = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./\
             0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà\
             ^{}\\[~]|€\u{0C}"
            .chars()
            .collect();
        proptest::collection::vec(proptest::sample::select(alphabet), 0..400)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn transliteration_is_always_gsm7(text in any::<String>()) {
            let out = transliterate(&text);
            prop_assert!(is_gsm7(&out), "{text:?} -> {out:?}");
            prop_assert_eq!(segments(&out).encoding, Encoding::Gsm7);
        }

        #[test]
        fn transliteration_of_polish_text_is_gsm7(text in "[a-zA-ZąćęłńóśźżĄĆĘŁŃÓŚŹŻ„”–… .,]{0,200}") {
            let out = transliterate(&text);
            prop_assert!(is_gsm7(&out), "{text:?} -> {out:?}");
            // One character for one, except the ellipsis.
            let expected = text.chars().count() + 2 * text.matches('…').count();
            prop_assert_eq!(out.chars().count(), expected);
        }

        #[test]
        fn gsm7_text_is_left_unchanged(text in gsm7_text()) {
            prop_assert!(is_gsm7(&text));
            prop_assert_eq!(transliterate(&text), text);
        }

        #[test]
        fn parts_hold_the_units(text in any::<String>()) {
            let s = segments(&text);
            let (single, per_part) = match s.encoding {
                Encoding::Gsm7 => GSM7_LIMITS,
                Encoding::Ucs2 => UCS2_LIMITS,
            };
            if s.units <= single {
                prop_assert_eq!(s.count, 1);
            } else {
                // At least enough parts, and at most one more per character cut avoided
                // (a character is 2 units at most, so a part loses 1 at most).
                prop_assert!(s.count * per_part >= s.units);
                prop_assert!(s.count * (per_part - 1) < s.units + per_part);
            }
        }
    }

    #[test]
    fn polish_mobile_prefixes() {
        for prefix in crate::validate::POLISH_MOBILE_PREFIXES {
            let number = format!("+48{prefix}1234567");
            assert_eq!(gateway_number(&number), Some(format!("48{prefix}1234567")));
        }
        assert_eq!(
            gateway_number("+48601234567").as_deref(),
            Some("48601234567")
        );
    }

    #[test]
    fn not_polish_mobiles() {
        for number in [
            "+48221234567",   // Warsaw landline
            "+48121234567",   // Kraków landline
            "+48581234567",   // Gdańsk landline
            "+48701234567",   // premium rate
            "+48801234567",   // shared cost
            "+4860123456",    // 8 digits
            "+486012345678",  // 10 digits
            "+380501234567",  // Ukrainian mobile
            "+4915123456789", // German mobile
            "+12025550143",
            "48601234567", // no plus
            "0048601234567",
            "601234567",
            "+48 601 234 567",
            "+48601-234567",
            "+48６01234567", // a full-width digit
            "",
            "+48",
        ] {
            assert_eq!(gateway_number(number), None, "{number}");
        }
    }

    // ---- messages ----

    const SIGNATURE: &str = "CUS Wola";
    /// A typical title: 25 characters, Polish letters in it.
    const TITLE: &str = "Gimnastyka dla seniorów 1";

    fn at(date: Date, start: &str, room: Option<&str>) -> SessionWhen {
        SessionWhen {
            date,
            start: start.to_owned(),
            room: room.map(str::to_owned),
        }
    }

    /// Every template, worded with `title`, `date` (and a day later for a moved one),
    /// `room` and a 17-character reference.
    fn every_message(title: &str, day: Date, room: &str) -> Vec<Message> {
        let when = at(day, "10:00", Some(room));
        let later = at(day.tomorrow().unwrap_or(day), "17:30", Some(room));
        let title = title.to_owned();
        let mut all = vec![
            Message::SeatFreed {
                class_title: title.clone(),
                next: Some(when.clone()),
            },
            Message::SeatFreed {
                class_title: title.clone(),
                next: None,
            },
        ];
        for sessions_left in [None, Some(0), Some(1), Some(12), Some(25)] {
            all.push(Message::Reminder {
                class_title: title.clone(),
                session: when.clone(),
                sessions_left,
            });
        }
        all.extend([
            Message::SessionMoved {
                class_title: title.clone(),
                from: when.clone(),
                to: later,
            },
            Message::SessionMoved {
                class_title: title.clone(),
                from: when.clone(),
                to: at(day, "11:15", Some(room)),
            },
            Message::SessionMoved {
                class_title: title.clone(),
                from: at(day, "10:00", Some("sala 1")),
                to: when.clone(),
            },
            Message::SessionCancelled {
                class_title: title,
                session: when,
            },
        ]);
        for outcome in [
            RequestOutcome::Accepted,
            RequestOutcome::Rejected,
            RequestOutcome::NeedsInformation,
        ] {
            all.push(Message::RequestStatus {
                reference: "MAL/01/2026/00042".to_owned(),
                outcome,
            });
        }
        all.push(Message::Test);
        all
    }

    #[test]
    fn the_title_is_25_characters() {
        assert_eq!(TITLE.chars().count(), 25);
    }

    #[test]
    fn every_message_fits_two_ucs2_parts_on_any_day_of_the_year() {
        // Every weekday and month, so the longest names ("niedz.", "października",
        // "September") are in, with a longer room name than most.
        let mut day = date(2026, 1, 1);
        let mut longest = (0, String::new());
        while day.year() == 2026 {
            for lang in [Lang::Pl, Lang::En] {
                for message in every_message(TITLE, day, "sala ruchowa") {
                    let text = message.render(lang, SIGNATURE);
                    let s = segments(&text);
                    assert!(s.units <= 134 && s.count <= 2, "{s:?}: {text}");
                    let plain = segments(&transliterate(&text));
                    assert_eq!(plain.encoding, Encoding::Gsm7, "{text}");
                    assert!(plain.count <= 2, "{plain:?}: {text}");
                    if s.units > longest.0 {
                        longest = (s.units, text);
                    }
                }
            }
            day = day.tomorrow().expect("a day in 2026");
        }
        // The check above did see long texts, not only short ones.
        assert!(longest.0 > 110, "{longest:?}");
    }

    #[test]
    fn every_message_is_filled_in_and_signed() {
        let day = date(2026, 12, 8);
        for lang in [Lang::Pl, Lang::En] {
            for message in every_message(TITLE, day, "sala 2") {
                let text = message.render(lang, SIGNATURE);
                assert!(text.ends_with(". CUS Wola"), "{text}");
                for placeholder in ["{", "}", "  ", "\n", "None", "Some"] {
                    assert!(!text.contains(placeholder), "{placeholder:?} in {text}");
                }
                match &message {
                    Message::RequestStatus { .. } => assert!(text.contains("MAL/01/2026/00042")),
                    Message::Test => {}
                    _ => assert!(text.contains(TITLE), "{text}"),
                }
                // The transliterated text travels in one GSM-7 part.
                assert_eq!(segments(&transliterate(&text)).count, 1, "{text}");
            }
        }
    }

    #[test]
    fn messages_read_as_a_resident_receives_them() {
        let tuesday = at(date(2026, 12, 8), "10:00", Some("sala 2"));
        let thursday = at(date(2026, 12, 10), "17:30", Some("sala 2"));
        let joga = || "Joga".to_owned();
        let cases = [
            (
                Message::SeatFreed {
                    class_title: joga(),
                    next: Some(tuesday.clone()),
                },
                "Zwolniło się miejsce, zapis potwierdzony: Joga, od wt. 8 grudnia, 10:00, sala 2. CUS Wola",
                "A place came free, sign-up confirmed: Joga, from Tue 8 December, 10:00, sala 2. CUS Wola",
            ),
            (
                Message::Reminder {
                    class_title: joga(),
                    session: tuesday.clone(),
                    sessions_left: None,
                },
                "Przypomnienie: Joga, wt. 8 grudnia, 10:00, sala 2. CUS Wola",
                "Reminder: Joga, Tue 8 December, 10:00, sala 2. CUS Wola",
            ),
            (
                Message::SessionMoved {
                    class_title: joga(),
                    from: tuesday.clone(),
                    to: thursday.clone(),
                },
                "Zmiana terminu: Joga, czw. 10 grudnia, 17:30, sala 2 (zamiast wt. 8 grudnia, 10:00). CUS Wola",
                "New time: Joga, Thu 10 December, 17:30, sala 2 (instead of Tue 8 December, 10:00). CUS Wola",
            ),
            (
                Message::SessionMoved {
                    class_title: joga(),
                    from: tuesday.clone(),
                    to: at(tuesday.date, "12:00", Some("sala 2")),
                },
                "Zmiana terminu: Joga, wt. 8 grudnia, 12:00, sala 2 (zamiast 10:00). CUS Wola",
                "New time: Joga, Tue 8 December, 12:00, sala 2 (instead of 10:00). CUS Wola",
            ),
            (
                Message::SessionMoved {
                    class_title: joga(),
                    from: tuesday.clone(),
                    to: at(tuesday.date, "10:00", Some("sala ruchowa")),
                },
                "Zmiana sali: Joga, wt. 8 grudnia, 10:00, sala ruchowa (zamiast sala 2). CUS Wola",
                "New room: Joga, Tue 8 December, 10:00, sala ruchowa (instead of sala 2). CUS Wola",
            ),
            (
                Message::SessionCancelled {
                    class_title: joga(),
                    session: at(tuesday.date, "10:00", None),
                },
                "Zajęcia odwołane: Joga, wt. 8 grudnia, 10:00. CUS Wola",
                "Session cancelled: Joga, Tue 8 December, 10:00. CUS Wola",
            ),
            (
                Message::RequestStatus {
                    reference: "MAL/01/2026/00042".to_owned(),
                    outcome: RequestOutcome::Accepted,
                },
                "Wniosek MAL/01/2026/00042: przyjęty. Szczegóły w biurze. CUS Wola",
                "Request MAL/01/2026/00042 has been accepted. Details at the office. CUS Wola",
            ),
            (
                Message::Test,
                "Wiadomość testowa. SMS-y docierają na ten numer. CUS Wola",
                "Test message. Texts reach this number. CUS Wola",
            ),
        ];
        for (message, pl, en) in cases {
            assert_eq!(message.render(Lang::Pl, SIGNATURE), pl);
            assert_eq!(message.render(Lang::En, SIGNATURE), en);
        }
    }

    #[test]
    fn a_move_names_what_it_was_only_when_that_says_something() {
        let day = date(2026, 12, 8);
        let moved = |from, to| {
            Message::SessionMoved {
                class_title: "Joga".to_owned(),
                from,
                to,
            }
            .render(Lang::Pl, "")
        };
        // A room given where there was none: nothing to compare it with.
        assert_eq!(
            moved(at(day, "10:00", None), at(day, "10:00", Some("sala 2"))),
            "Zmiana sali: Joga, wt. 8 grudnia, 10:00, sala 2."
        );
        // The room dropped: the new text has no room, the old one is named.
        assert_eq!(
            moved(at(day, "10:00", Some("sala 2")), at(day, "10:00", None)),
            "Zmiana sali: Joga, wt. 8 grudnia, 10:00 (zamiast sala 2)."
        );
        // The time changed and the room with it: the old time tells which session.
        assert_eq!(
            moved(
                at(day, "10:00", Some("sala 1")),
                at(day, "11:00", Some("sala 2"))
            ),
            "Zmiana terminu: Joga, wt. 8 grudnia, 11:00, sala 2 (zamiast 10:00)."
        );
    }

    #[test]
    fn reminders_count_the_sessions_left_in_polish() {
        let session = at(date(2026, 12, 8), "10:00", Some("sala 2"));
        let tail = |n: Option<u32>, lang| {
            let text = Message::Reminder {
                class_title: "Joga".to_owned(),
                session: session.clone(),
                sessions_left: n,
            }
            .render(lang, "");
            text.strip_prefix(match lang {
                Lang::Pl => "Przypomnienie: Joga, wt. 8 grudnia, 10:00, sala 2.",
                Lang::En => "Reminder: Joga, Tue 8 December, 10:00, sala 2.",
            })
            .map(str::to_owned)
            .unwrap_or(text)
        };
        for (n, pl, en) in [
            (0, " To ostatnie spotkanie.", " This is the last session."),
            (
                1,
                " Potem jeszcze 1 spotkanie.",
                " 1 more session after this one.",
            ),
            (
                2,
                " Potem jeszcze 2 spotkania.",
                " 2 more sessions after this one.",
            ),
            (
                5,
                " Potem jeszcze 5 spotkań.",
                " 5 more sessions after this one.",
            ),
            (
                12,
                " Potem jeszcze 12 spotkań.",
                " 12 more sessions after this one.",
            ),
            (
                22,
                " Potem jeszcze 22 spotkania.",
                " 22 more sessions after this one.",
            ),
            (
                25,
                " Potem jeszcze 25 spotkań.",
                " 25 more sessions after this one.",
            ),
        ] {
            assert_eq!(tail(Some(n), Lang::Pl), pl, "{n}");
            assert_eq!(tail(Some(n), Lang::En), en, "{n}");
        }
        assert_eq!(tail(None, Lang::Pl), "");
    }

    #[test]
    fn titles_rooms_and_signatures_go_on_one_line() {
        let message = Message::SessionCancelled {
            class_title: "  Taniec\nw kręgu ".to_owned(),
            session: at(date(2026, 12, 8), "10:00", Some("  ")),
        };
        assert_eq!(
            message.render(Lang::Pl, " CUS\r\nWola "),
            "Zajęcia odwołane: Taniec w kręgu, wt. 8 grudnia, 10:00. CUS Wola"
        );
        assert_eq!(
            Message::Test.render(Lang::En, "  "),
            "Test message. Texts reach this number."
        );
    }

    #[test]
    fn the_shortest_polish_messages_stay_in_one_ucs2_part() {
        // One "ł" makes a text UCS-2; these stay within 70 units all the same.
        for message in [
            Message::RequestStatus {
                reference: "MAL/01/2026/00042".to_owned(),
                outcome: RequestOutcome::Accepted,
            },
            Message::Test,
        ] {
            let text = message.render(Lang::Pl, SIGNATURE);
            assert_eq!(segments(&text).count, 1, "{text}");
        }
    }

    #[test]
    fn request_outcomes_never_mix_up() {
        let render = |outcome, lang| {
            Message::RequestStatus {
                reference: "MAL/01/2026/00042".to_owned(),
                outcome,
            }
            .render(lang, SIGNATURE)
        };
        assert!(render(RequestOutcome::Accepted, Lang::Pl).contains("przyjęty"));
        assert!(render(RequestOutcome::Rejected, Lang::Pl).contains("odmowa"));
        assert!(
            render(RequestOutcome::NeedsInformation, Lang::Pl).contains("dodatkowe informacje")
        );
        assert!(render(RequestOutcome::Accepted, Lang::En).contains("accepted"));
        assert!(render(RequestOutcome::Rejected, Lang::En).contains("refused"));
        assert!(render(RequestOutcome::NeedsInformation, Lang::En).contains("more information"));
    }

    #[test]
    fn polish_messages_keep_the_impersonal_register() {
        // The kiosk's wording check lives in the kiosk crate; these are the words an SMS
        // could slip into.
        let forbidden = [
            "ty", "twój", "twoja", "twoje", "pan", "pani", "państwo", "pana", "panią", "chcesz",
            "masz", "jesteś", "wybierz", "zapisz",
        ];
        for message in every_message(TITLE, date(2026, 12, 8), "sala 2") {
            let text = message.render(Lang::Pl, SIGNATURE);
            for word in text.split(|c: char| !c.is_alphanumeric()) {
                assert!(
                    !forbidden.contains(&word.to_lowercase().as_str()),
                    "{word} in {text}"
                );
            }
        }
    }
}
