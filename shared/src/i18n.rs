//! Interface languages.
//!
//! Everything a resident reads on the kiosk exists in Polish and English. Polish comes
//! first because the kiosks stand in Polish municipal offices; English is there for
//! residents who do not read Polish.

use std::str::FromStr;

/// The interface languages. Polish is the default.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Pl,
    En,
}

/// The Polish counting form of `n` among `[one, few, many]`: 1 miejsce, 2–4 miejsca (but
/// 12–14 miejsc), 5+ miejsc.
pub fn polish_plural<T: Copy>(n: u64, [one, few, many]: [T; 3]) -> T {
    if n == 1 {
        one
    } else if (2..=4).contains(&(n % 10)) && !(12..=14).contains(&(n % 100)) {
        few
    } else {
        many
    }
}

impl Lang {
    /// The ISO 639-1 code, the same spelling serde uses, so stored settings, URLs and
    /// logs all agree on one name per language.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Pl => "pl",
            Lang::En => "en",
        }
    }
}

/// A language code that is neither `pl` nor `en`.
///
/// Carries what was given so a log line or a settings error can show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language code {0:?}: expected \"pl\" or \"en\"")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;

    /// Accepts `pl` and `en` in any letter case (and with surrounding whitespace),
    /// because codes arrive from configuration files and `Accept-Language`-like
    /// settings that are not always lowercase.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim();
        if code.eq_ignore_ascii_case("pl") {
            Ok(Lang::Pl)
        } else if code.eq_ignore_ascii_case("en") {
            Ok(Lang::En)
        } else {
            Err(UnknownLang(s.to_owned()))
        }
    }
}

/// Month names: on their own in Polish (nominative), "grudzień 2026"
pub const MONTHS_PL_NOMINATIVE: [&str; 12] = [
    "styczeń",
    "luty",
    "marzec",
    "kwiecień",
    "maj",
    "czerwiec",
    "lipiec",
    "sierpień",
    "wrzesień",
    "październik",
    "listopad",
    "grudzień",
];
/// Month names in a Polish date (genitive): "5 grudnia 2026".
pub const MONTHS_PL_GENITIVE: [&str; 12] = [
    "stycznia",
    "lutego",
    "marca",
    "kwietnia",
    "maja",
    "czerwca",
    "lipca",
    "sierpnia",
    "września",
    "października",
    "listopada",
    "grudnia",
];
/// Month names in English.
pub const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The month (1–12) as a date names it: "grudnia" in "5 grudnia 2026", "December".
pub fn month_in_date(month: i8, lang: Lang) -> &'static str {
    let i = usize::try_from(month - 1).unwrap_or(0).min(11);
    match lang {
        Lang::Pl => MONTHS_PL_GENITIVE[i],
        Lang::En => MONTHS_EN[i],
    }
}

/// Weekday names in Polish, Monday first (as [`jiff::civil::Weekday::to_monday_zero_offset`]).
pub const WEEKDAYS_PL: [&str; 7] = [
    "poniedziałek",
    "wtorek",
    "środa",
    "czwartek",
    "piątek",
    "sobota",
    "niedziela",
];
/// Weekday abbreviations in Polish, Monday first: "wt. 8 grudnia".
pub const WEEKDAYS_PL_SHORT: [&str; 7] = ["pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz."];
/// Weekday names in English, Monday first.
pub const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
/// Weekday abbreviations in English, Monday first: "Tue 8 December".
pub const WEEKDAYS_EN_SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn weekday_index(day: jiff::civil::Weekday) -> usize {
    usize::try_from(day.to_monday_zero_offset())
        .unwrap_or(0)
        .min(6)
}

/// The weekday's name: "wtorek", "Tuesday".
pub fn weekday_name(day: jiff::civil::Weekday, lang: Lang) -> &'static str {
    match lang {
        Lang::Pl => WEEKDAYS_PL[weekday_index(day)],
        Lang::En => WEEKDAYS_EN[weekday_index(day)],
    }
}

/// The weekday abbreviated as a short date writes it: "wt.", "Tue".
pub fn weekday_short(day: jiff::civil::Weekday, lang: Lang) -> &'static str {
    match lang {
        Lang::Pl => WEEKDAYS_PL_SHORT[weekday_index(day)],
        Lang::En => WEEKDAYS_EN_SHORT[weekday_index(day)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_polish() {
        assert_eq!(Lang::default(), Lang::Pl);
    }

    #[test]
    fn codes() {
        assert_eq!(Lang::Pl.code(), "pl");
        assert_eq!(Lang::En.code(), "en");
    }

    #[test]
    fn parses_case_insensitively() {
        for (s, lang) in [
            ("pl", Lang::Pl),
            ("PL", Lang::Pl),
            ("Pl", Lang::Pl),
            ("en", Lang::En),
            ("EN", Lang::En),
            ("eN", Lang::En),
            (" en ", Lang::En),
        ] {
            assert_eq!(s.parse::<Lang>(), Ok(lang), "{s:?}");
        }
    }

    #[test]
    fn code_round_trips_through_from_str() {
        for lang in [Lang::Pl, Lang::En] {
            assert_eq!(lang.code().parse::<Lang>(), Ok(lang));
        }
    }

    #[test]
    fn rejects_other_codes() {
        for s in ["", "de", "pol", "english", "p l", "pl-PL", "ęn"] {
            let err = s.parse::<Lang>().unwrap_err();
            assert_eq!(err, UnknownLang(s.to_owned()));
            assert!(err.to_string().contains("expected"), "{err}");
        }
    }

    #[test]
    fn serde_uses_the_lowercase_code() {
        for lang in [Lang::Pl, Lang::En] {
            let json = serde_json::to_string(&lang).unwrap();
            assert_eq!(json, format!("\"{}\"", lang.code()));
            assert_eq!(serde_json::from_str::<Lang>(&json).unwrap(), lang);
        }
    }

    #[test]
    fn weekdays_start_on_monday() {
        use jiff::civil::date;
        // 7 December 2026 is a Monday; the week runs on to Sunday 13 December.
        let pl: Vec<_> = (7..=13)
            .map(|d| weekday_short(date(2026, 12, d).weekday(), Lang::Pl))
            .collect();
        assert_eq!(pl, ["pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz."]);
        let en: Vec<_> = (7..=13)
            .map(|d| weekday_short(date(2026, 12, d).weekday(), Lang::En))
            .collect();
        assert_eq!(en, ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]);
        assert_eq!(
            weekday_name(date(2026, 12, 8).weekday(), Lang::Pl),
            "wtorek"
        );
        assert_eq!(
            weekday_name(date(2026, 12, 13).weekday(), Lang::En),
            "Sunday"
        );
    }
}
