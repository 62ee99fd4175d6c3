//! The time rules of a public screen, outside egui so tests can move the clock:
//! the idle timeout with its warning, and the lock-out after wrong staff PINs.
//! Times are milliseconds from the app's clock.

/// How long the screen waits without a touch before warning, and how long the warning
/// counts down before everything is cleared. WCAG 2.2.1 asks for at least 20 s of
/// warning and an extension by one simple action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleTimeouts {
    pub idle_ms: u64,
    pub warning_ms: u64,
}

impl Default for IdleTimeouts {
    fn default() -> Self {
        IdleTimeouts {
            idle_ms: 90_000,
            warning_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    Active,
    /// The warning is up; this many whole seconds remain (rounded up).
    Warning {
        seconds_left: u64,
    },
    /// Time is up: reset to the start.
    Expired,
}

#[derive(Debug, Clone)]
pub struct IdleTimer {
    timeouts: IdleTimeouts,
    last_touch: u64,
    extensions: u32,
}

impl IdleTimer {
    pub fn new(timeouts: IdleTimeouts, now: u64) -> IdleTimer {
        IdleTimer {
            timeouts,
            last_touch: now,
            extensions: 0,
        }
    }

    pub fn timeouts(&self) -> IdleTimeouts {
        self.timeouts
    }

    /// A touch or key press. Ignored while the warning is up: only "more time" (a
    /// deliberate tap on the big button) or the reset ends the warning.
    pub fn touch(&mut self, now: u64) {
        if self.state(now) == Idle::Active {
            self.last_touch = now;
        }
    }

    /// "I need more time": a full idle period again. There is no limit to how often.
    pub fn more_time(&mut self, now: u64) {
        self.last_touch = now;
        self.extensions += 1;
    }

    pub fn extensions(&self) -> u32 {
        self.extensions
    }

    /// Start afresh (after a reset).
    pub fn restart(&mut self, now: u64) {
        self.last_touch = now;
        self.extensions = 0;
    }

    pub fn state(&self, now: u64) -> Idle {
        let idle = now.saturating_sub(self.last_touch);
        let t = self.timeouts;
        if idle < t.idle_ms {
            Idle::Active
        } else if idle < t.idle_ms + t.warning_ms {
            let left_ms = t.idle_ms + t.warning_ms - idle;
            Idle::Warning {
                seconds_left: left_ms.div_ceil(1000),
            }
        } else {
            Idle::Expired
        }
    }

    /// Milliseconds until the state next changes on its own (for scheduling a repaint).
    pub fn next_change_in(&self, now: u64) -> u64 {
        let idle = now.saturating_sub(self.last_touch);
        let t = self.timeouts;
        if idle < t.idle_ms {
            t.idle_ms - idle
        } else {
            // Count the warning down second by second.
            1000 - (idle - t.idle_ms) % 1000
        }
    }
}

/// After this many wrong PINs in a row, staff mode locks.
pub const PIN_ATTEMPTS: u32 = 5;
/// For this long.
pub const PIN_LOCKOUT_MS: u64 = 5 * 60_000;

/// Counts wrong PINs and locks staff mode for a while after [`PIN_ATTEMPTS`].
#[derive(Debug, Clone, Default)]
pub struct PinGuard {
    failures: u32,
    locked_until: Option<u64>,
}

impl PinGuard {
    /// `Some(ms left)` while locked.
    pub fn locked(&self, now: u64) -> Option<u64> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    pub fn failed(&mut self, now: u64) {
        if self.locked_until.is_some_and(|until| until <= now) {
            // The lock ran out: a fresh series of attempts.
            self.locked_until = None;
            self.failures = 0;
        }
        self.failures += 1;
        if self.failures >= PIN_ATTEMPTS {
            self.locked_until = Some(now + PIN_LOCKOUT_MS);
        }
    }

    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.locked_until = None;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: IdleTimeouts = IdleTimeouts {
        idle_ms: 60_000,
        warning_ms: 30_000,
    };

    #[test]
    fn warns_then_expires_and_more_time_restarts_the_wait() {
        let mut idle = IdleTimer::new(T, 0);
        assert_eq!(idle.state(59_999), Idle::Active);
        assert_eq!(idle.state(60_000), Idle::Warning { seconds_left: 30 });
        assert_eq!(idle.state(89_001), Idle::Warning { seconds_left: 1 });
        assert_eq!(idle.state(90_000), Idle::Expired);
        idle.more_time(85_000);
        assert_eq!(idle.state(144_999), Idle::Active);
        assert_eq!(idle.extensions(), 1);
    }

    #[test]
    fn a_touch_during_the_warning_does_not_silently_extend() {
        let mut idle = IdleTimer::new(T, 0);
        idle.touch(30_000);
        assert_eq!(idle.state(89_999), Idle::Active);
        idle.touch(95_000);
        assert!(matches!(idle.state(95_000), Idle::Warning { .. }));
    }

    #[test]
    fn at_least_ten_extensions_are_allowed() {
        let mut idle = IdleTimer::new(T, 0);
        let mut now = 0;
        for _ in 0..12 {
            now += 70_000;
            assert!(matches!(idle.state(now), Idle::Warning { .. }));
            idle.more_time(now);
        }
        assert_eq!(idle.state(now), Idle::Active);
    }

    #[test]
    fn five_wrong_pins_lock_staff_mode_for_a_while() {
        let mut guard = PinGuard::default();
        for i in 0..PIN_ATTEMPTS {
            assert_eq!(guard.locked(i as u64), None);
            guard.failed(i as u64);
        }
        assert_eq!(guard.locked(10), Some(PIN_LOCKOUT_MS + 4 - 10));
        assert_eq!(guard.locked(PIN_LOCKOUT_MS + 4), None);
        // After the lock, one more wrong PIN does not lock again at once.
        guard.failed(PIN_LOCKOUT_MS + 5);
        assert_eq!(guard.locked(PIN_LOCKOUT_MS + 6), None);
        assert_eq!(guard.failures(), 1);
        guard.succeeded();
        assert_eq!(guard.failures(), 0);
    }
}
