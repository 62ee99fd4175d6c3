//! Polish public holidays (dni wolne od pracy), computed in code so that generated
//! sessions never fall on one. Easter by the computus (the anonymous Gregorian
//! algorithm); the movable feasts follow from it. Christmas Eve (24.12) is a public
//! holiday from 2025. New Year's Eve (31.12) is not one: the office is only warned.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday, date};

/// Easter Sunday of a Gregorian year.
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // Month is 3 or 4 and day 1..=31 by construction.
    date(year, month as i8, day as i8)
}

/// The public holiday on `day`, if any, by its Polish name.
pub fn public_holiday(day: Date) -> Option<&'static str> {
    let fixed = match (day.month(), day.day()) {
        (1, 1) => Some("Nowy Rok"),
        (1, 6) => Some("Trzech Króli"),
        (5, 1) => Some("Święto Pracy"),
        (5, 3) => Some("Święto Konstytucji 3 Maja"),
        (8, 15) => Some("Wniebowzięcie NMP"),
        (11, 1) => Some("Wszystkich Świętych"),
        (11, 11) => Some("Święto Niepodległości"),
        (12, 24) if day.year() >= 2025 => Some("Wigilia"),
        (12, 25) => Some("Boże Narodzenie"),
        (12, 26) => Some("Drugi dzień Bożego Narodzenia"),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    let easter = easter_sunday(day.year());
    let offset = (day - easter).get_days();
    // Whole days between two dates: the span's days only (no months are produced).
    match offset {
        0 => Some("Wielkanoc"),
        1 => Some("Poniedziałek Wielkanocny"),
        49 => Some("Zielone Świątki"),
        60 => Some("Boże Ciało"),
        _ => None,
    }
}

/// The days of a weekly series from `from` to `to` (both included): the ones to keep,
/// and the ones skipped as public holidays (with the holiday's name).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeeklyPlan {
    pub keep: Vec<Date>,
    pub skipped: Vec<(Date, &'static str)>,
}

pub fn weekly(from: Date, to: Date, weekday: Weekday) -> WeeklyPlan {
    let mut plan = WeeklyPlan::default();
    let mut day = from;
    while day.weekday() != weekday {
        match day.checked_add(1.day()) {
            Ok(next) => day = next,
            Err(_) => return plan,
        }
    }
    while day <= to {
        match public_holiday(day) {
            Some(name) => plan.skipped.push((day, name)),
            None => plan.keep.push(day),
        }
        match day.checked_add(1.week()) {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    plan
}

/// Whether a day deserves a warning though it is a working day (New Year's Eve).
pub fn warn_about(day: Date) -> bool {
    day.month() == 12 && day.day() == 31
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_on_known_dates() {
        let known = [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2029, 4, 1),
            (2030, 4, 21),
            // Edge years of the algorithm: the latest and an early Easter.
            (1943, 4, 25),
            (2285, 3, 22),
        ];
        for (y, m, d) in known {
            assert_eq!(easter_sunday(y), date(y, m, d), "Easter {y}");
        }
    }

    #[test]
    fn movable_feasts_follow_easter() {
        // 2026: Easter 5.4 → Monday 6.4, Pentecost 24.5, Corpus Christi 4.6.
        assert_eq!(public_holiday(date(2026, 4, 5)), Some("Wielkanoc"));
        assert_eq!(
            public_holiday(date(2026, 4, 6)),
            Some("Poniedziałek Wielkanocny")
        );
        assert_eq!(public_holiday(date(2026, 5, 24)), Some("Zielone Świątki"));
        assert_eq!(public_holiday(date(2026, 6, 4)), Some("Boże Ciało"));
        assert_eq!(public_holiday(date(2025, 6, 19)), Some("Boże Ciało"));
        assert_eq!(public_holiday(date(2026, 4, 7)), None);
    }

    #[test]
    fn fixed_holidays_and_christmas_eve_from_2025() {
        for (m, d) in [
            (1, 1),
            (1, 6),
            (5, 1),
            (5, 3),
            (8, 15),
            (11, 1),
            (11, 11),
            (12, 24),
            (12, 25),
            (12, 26),
        ] {
            assert!(public_holiday(date(2026, m, d)).is_some(), "{m}.{d}");
        }
        assert_eq!(public_holiday(date(2024, 12, 24)), None);
        assert_eq!(public_holiday(date(2026, 12, 31)), None);
        assert!(warn_about(date(2026, 12, 31)));
        assert!(!warn_about(date(2026, 12, 30)));
    }

    #[test]
    fn weekly_series_skips_holidays() {
        // Thursdays of December 2026: 3, 10, 17, 24 (Wigilia), 31 (kept, warned).
        let plan = weekly(date(2026, 12, 1), date(2026, 12, 31), Weekday::Thursday);
        assert_eq!(
            plan.keep,
            vec![
                date(2026, 12, 3),
                date(2026, 12, 10),
                date(2026, 12, 17),
                date(2026, 12, 31)
            ]
        );
        assert_eq!(plan.skipped, vec![(date(2026, 12, 24), "Wigilia")]);
        // Mondays in April 2026: Easter Monday 6.4 skipped.
        let plan = weekly(date(2026, 4, 1), date(2026, 4, 30), Weekday::Monday);
        assert_eq!(
            plan.skipped,
            vec![(date(2026, 4, 6), "Poniedziałek Wielkanocny")]
        );
        assert_eq!(plan.keep.len(), 3);
        assert!(
            weekly(date(2026, 5, 2), date(2026, 5, 1), Weekday::Monday)
                .keep
                .is_empty()
        );
    }
}
