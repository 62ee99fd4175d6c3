//! Dates as office staff read them: `5 grudnia 2026, sob.` (day, month in the
//! genitive, year, abbreviated weekday) and `Sat 5 December 2026`; months on their own
//! in the nominative (`grudzień 2026`, `December 2026`). Every office page that shows a
//! date goes through here; CSV files keep ISO dates (a spreadsheet reads those).

use blisko_shared::i18n::{
    Lang, MONTHS_EN, MONTHS_PL_GENITIVE, MONTHS_PL_NOMINATIVE, weekday_short,
};
use jiff::civil::Date;

fn month_index(date: Date) -> usize {
    usize::try_from(date.month() - 1).unwrap_or(0).min(11)
}

/// `5 grudnia 2026, sob.` / `Sat 5 December 2026`.
pub fn day(lang: Lang, date: Date) -> String {
    let weekday = weekday_short(date.weekday(), lang);
    match lang {
        Lang::Pl => format!(
            "{} {} {}, {weekday}",
            date.day(),
            MONTHS_PL_GENITIVE[month_index(date)],
            date.year()
        ),
        Lang::En => format!(
            "{weekday} {} {} {}",
            date.day(),
            MONTHS_EN[month_index(date)],
            date.year()
        ),
    }
}

/// `4 stycznia 2027` / `4 January 2027`: a day without its weekday, as in a deadline.
pub fn long(lang: Lang, date: Date) -> String {
    let month = match lang {
        Lang::Pl => MONTHS_PL_GENITIVE[month_index(date)],
        Lang::En => MONTHS_EN[month_index(date)],
    };
    format!("{} {month} {}", date.day(), date.year())
}

/// An ISO date (`2026-12-05`) as [`day`]; anything else as it is.
pub fn day_text(lang: Lang, iso: &str) -> String {
    iso.parse::<Date>()
        .map(|d| day(lang, d))
        .unwrap_or_else(|_| iso.to_owned())
}

/// `grudzień 2026` / `December 2026`.
pub fn month(lang: Lang, year: i16, month: i8) -> String {
    let i = usize::try_from(month - 1).unwrap_or(0).min(11);
    match lang {
        Lang::Pl => format!("{} {year}", MONTHS_PL_NOMINATIVE[i]),
        Lang::En => format!("{} {year}", MONTHS_EN[i]),
    }
}

/// A `YYYY-MM` month, short, for a chart's axis: `gru 26` / `Dec 26`.
pub fn month_short(lang: Lang, year_month: &str) -> String {
    const PL: [&str; 12] = [
        "sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru",
    ];
    match parse_month(year_month) {
        Some((y, m)) => {
            let i = usize::try_from(m - 1).unwrap_or(0).min(11);
            let name = match lang {
                Lang::Pl => PL[i].to_owned(),
                Lang::En => MONTHS_EN[i].chars().take(3).collect(),
            };
            format!("{name} {:02}", y.rem_euclid(100))
        }
        None => year_month.to_owned(),
    }
}

fn parse_month(year_month: &str) -> Option<(i16, i8)> {
    let (y, m) = year_month.split_once('-')?;
    let y: i16 = y.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    (1..=12).contains(&m).then_some((y, m))
}

/// A `YYYY-MM` month as [`month`]; anything else as it is.
pub fn month_text(lang: Lang, year_month: &str) -> String {
    match parse_month(year_month) {
        Some((y, m)) => month(lang, y, m),
        None => year_month.to_owned(),
    }
}

/// A moment (an HLC stamp as stored, or RFC 3339) as the server's local date and time.
pub fn local(text: &str) -> Option<jiff::civil::DateTime> {
    let from_stamp = text
        .split('-')
        .next()
        .filter(|ms| ms.len() > 4)
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok());
    let at = from_stamp.or_else(|| text.parse::<jiff::Timestamp>().ok())?;
    Some(at.to_zoned(jiff::tz::TimeZone::system()).datetime())
}

/// A moment as the local day and time: `5 grudnia 2026, sob., 14:30` /
/// `Sat 5 December 2026, 14:30`; text that is no moment as it is.
pub fn moment(lang: Lang, text: &str) -> String {
    match local(text) {
        Some(at) => format!("{}, {}", day(lang, at.date()), at.strftime("%H:%M")),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_saturday_in_december_reads_in_both_languages() {
        assert_eq!(day(Lang::Pl, date(2026, 12, 5)), "5 grudnia 2026, sob.");
        assert_eq!(day(Lang::En, date(2026, 12, 5)), "Sat 5 December 2026");
        assert_eq!(day_text(Lang::Pl, "2026-12-05"), "5 grudnia 2026, sob.");
        assert_eq!(day_text(Lang::Pl, "soon"), "soon");
        assert_eq!(month(Lang::Pl, 2026, 12), "grudzień 2026");
        assert_eq!(month_text(Lang::En, "2026-12"), "December 2026");
        assert_eq!(month_text(Lang::Pl, "2026-13"), "2026-13");
        assert_eq!(month_short(Lang::Pl, "2026-12"), "gru 26");
        assert_eq!(month_short(Lang::En, "2026-05"), "May 26");
    }

    #[test]
    fn every_month_has_its_polish_genitive_and_nominative() {
        let genitive = [
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
        let nominative = [
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
        for (i, (gen_, nom)) in genitive.iter().zip(nominative).enumerate() {
            let m = i8::try_from(i + 1).expect("a month");
            let text = day(Lang::Pl, date(2026, m, 1));
            assert!(text.starts_with(&format!("1 {gen_} 2026, ")), "{text}");
            assert_eq!(month(Lang::Pl, 2026, m), format!("{nom} 2026"));
            assert_eq!(month(Lang::En, 2026, m), format!("{} 2026", MONTHS_EN[i]));
        }
    }

    #[test]
    fn every_weekday_has_its_abbreviation() {
        // 30 November 2026 is a Monday.
        let pl = ["pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz."];
        let en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        for (i, (p, e)) in pl.iter().zip(en).enumerate() {
            let d = date(2026, 11, 30)
                .checked_add(jiff::Span::new().days(i64::try_from(i).expect("a day")))
                .expect("a date");
            assert!(
                day(Lang::Pl, d).ends_with(&format!(", {p}")),
                "{}",
                day(Lang::Pl, d)
            );
            assert!(
                day(Lang::En, d).starts_with(&format!("{e} ")),
                "{}",
                day(Lang::En, d)
            );
        }
    }

    #[test]
    fn a_stored_stamp_reads_as_day_and_time() {
        let text = moment(Lang::Pl, "2026-12-05T12:00:00Z");
        assert!(text.contains("grudnia 2026"), "{text}");
        let stamp = moment(Lang::En, "001796472000000-0000000000-kiosk");
        assert!(stamp.contains("2026"), "{stamp}");
        assert_eq!(moment(Lang::En, "not a time"), "not a time");
    }
}
