//! Hybrid Logical Clock stamps: wall time + counter + kiosk id.
//!
//! Stamps order events deterministically across kiosks whose clocks disagree: a kiosk
//! never issues a stamp lower than one it has issued or observed, and ties on wall time
//! are broken by the counter and then by the kiosk id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::KioskId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch, as the issuing kiosk saw it.
    pub wall_ms: u64,
    pub counter: u32,
    pub node: KioskId,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid clock stamp: {0:?}")]
pub struct ParseHlcError(String);

impl Hlc {
    pub const fn new(wall_ms: u64, counter: u32, node: KioskId) -> Self {
        Hlc {
            wall_ms,
            counter,
            node,
        }
    }
}

/// Fixed-width text, so that string order equals stamp order (useful in SQL).
impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:015}-{:010}-{}", self.wall_ms, self.counter, self.node)
    }
}

impl FromStr for Hlc {
    type Err = ParseHlcError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseHlcError(s.chars().take(80).collect());
        let (wall, rest) = s.split_once('-').ok_or_else(bad)?;
        let (counter, node) = rest.split_once('-').ok_or_else(bad)?;
        if wall.len() != 15 || counter.len() != 10 {
            return Err(bad());
        }
        Ok(Hlc {
            wall_ms: wall.parse().map_err(|_| bad())?,
            counter: counter.parse().map_err(|_| bad())?,
            node: node.parse().map_err(|_| bad())?,
        })
    }
}

impl Serialize for Hlc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The clock of one kiosk. Wall time is passed in, so tests can move it freely.
#[derive(Debug, Clone)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    pub fn new(node: KioskId) -> Self {
        HlcClock {
            last: Hlc::new(0, 0, node),
        }
    }

    /// Resume after a restart from the last stamp this kiosk persisted.
    pub fn resume(last: Hlc) -> Self {
        HlcClock { last }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A stamp for a local event.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        if now_ms > self.last.wall_ms {
            self.last.wall_ms = now_ms;
            self.last.counter = 0;
        } else {
            self.bump_counter();
        }
        self.last
    }

    /// Another writer of the same node's stamps (a second server process on one
    /// database) stamped up to `seen`: later stamps here sort after it. Unlike
    /// [`HlcClock::observe`], nothing is stamped now.
    pub fn catch_up(&mut self, seen: Hlc) {
        if (seen.wall_ms, seen.counter) > (self.last.wall_ms, self.last.counter) {
            self.last.wall_ms = seen.wall_ms;
            self.last.counter = seen.counter;
        }
    }

    /// Take a stamp seen in merged data into account, so later local stamps sort after it.
    pub fn observe(&mut self, seen: Hlc, now_ms: u64) {
        let wall = now_ms.max(self.last.wall_ms).max(seen.wall_ms);
        if wall == self.last.wall_ms && wall == seen.wall_ms {
            self.last.counter = self.last.counter.max(seen.counter);
            self.bump_counter();
        } else if wall == self.last.wall_ms {
            self.bump_counter();
        } else if wall == seen.wall_ms {
            self.last.wall_ms = wall;
            self.last.counter = seen.counter;
            self.bump_counter();
        } else {
            self.last.wall_ms = wall;
            self.last.counter = 0;
        }
    }

    fn bump_counter(&mut self) {
        match self.last.counter.checked_add(1) {
            Some(c) => self.last.counter = c,
            // Four billion events in one millisecond: move into the next millisecond.
            None => {
                self.last.wall_ms += 1;
                self.last.counter = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u128) -> KioskId {
        KioskId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn text_form_round_trips_and_sorts_like_stamps() {
        let a = Hlc::new(1_700_000_000_000, 3, node(1));
        let b = Hlc::new(1_700_000_000_000, 12, node(1));
        let c = Hlc::new(1_700_000_000_001, 0, node(0));
        for h in [a, b, c] {
            assert_eq!(h.to_string().parse::<Hlc>(), Ok(h));
        }
        assert!(a < b && b < c);
        assert!(a.to_string() < b.to_string() && b.to_string() < c.to_string());
        assert!("12-3".parse::<Hlc>().is_err());
    }

    #[test]
    fn a_clock_caught_up_stamps_after_the_other_writer_without_stamping_itself() {
        let mut here = HlcClock::new(node(0));
        let mut there = HlcClock::new(node(0));
        let mine = here.tick(1_000);
        let theirs = [there.tick(1_000), there.tick(1_000)];
        assert_eq!(mine, theirs[0], "two processes, one node: the same stamp");
        here.catch_up(theirs[1]);
        assert_eq!(here.last(), theirs[1], "catching up stamps nothing new");
        here.catch_up(mine);
        assert_eq!(here.last(), theirs[1], "an older stamp changes nothing");
        assert!(here.tick(1_000) > theirs[1]);
    }

    #[test]
    fn stamps_increase_even_when_the_wall_clock_goes_back() {
        let mut clock = HlcClock::new(node(7));
        let first = clock.tick(5_000);
        let second = clock.tick(4_000);
        let third = clock.tick(4_000);
        assert!(first < second && second < third);
        assert_eq!(third.wall_ms, 5_000);
    }

    #[test]
    fn observing_a_future_stamp_moves_the_clock_past_it() {
        let mut slow = HlcClock::new(node(1));
        let remote = Hlc::new(9_000, 4, node(2));
        slow.observe(remote, 1_000);
        let next = slow.tick(1_001);
        assert!(next > remote);
    }

    #[test]
    fn resume_continues_after_the_persisted_stamp() {
        let mut clock = HlcClock::new(node(3));
        let last = clock.tick(10_000);
        let mut resumed = HlcClock::resume(last);
        assert!(resumed.tick(10_000) > last);
    }

    #[test]
    fn counter_overflow_spills_into_wall_time() {
        let mut clock = HlcClock::resume(Hlc::new(10, u32::MAX, node(1)));
        let next = clock.tick(10);
        assert_eq!((next.wall_ms, next.counter), (11, 0));
    }
}
