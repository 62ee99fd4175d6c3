//! A request's statutory deadline: the office decides within 30 days of the filing day
//! (Kodeks postępowania administracyjnego, art. 35), and a deadline near or past stands
//! out in the queue.

use jiff::civil::Date;

/// Days the office has to decide on a request, counted from the day it was filed.
pub const DECISION_DAYS: i64 = 30;
/// A deadline this close (in days) stands out in the queue.
pub const SOON_DAYS: i64 = 5;

/// How pressing a request's deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// Decided (accepted or rejected): the deadline no longer runs.
    Decided,
    Open,
    /// At most [`SOON_DAYS`] days left.
    Soon,
    Past,
}

/// A request's statutory deadline as of `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub filed: Date,
    pub due: Date,
    pub days_waiting: i64,
    /// Negative when the deadline has passed.
    pub days_left: i64,
    pub urgency: Urgency,
}

/// The deadline of a request filed on `filed`, seen on `today`.
pub fn deadline(filed: Date, today: Date, decided: bool) -> Deadline {
    let due = filed
        .checked_add(jiff::Span::new().days(DECISION_DAYS))
        .unwrap_or(filed);
    let days = |from: Date, to: Date| -> i64 {
        from.until(to)
            .map(|span| i64::from(span.get_days()))
            .unwrap_or(0)
    };
    let days_left = days(today, due);
    let urgency = if decided {
        Urgency::Decided
    } else if days_left < 0 {
        Urgency::Past
    } else if days_left <= SOON_DAYS {
        Urgency::Soon
    } else {
        Urgency::Open
    };
    Deadline {
        filed,
        due,
        days_waiting: days(filed, today).max(0),
        days_left,
        urgency,
    }
}
