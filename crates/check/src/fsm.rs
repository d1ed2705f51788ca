//! Per-checker retry/up/down state machine, exactly keepalived's epilog
//! logic (check_tcp.c `tcp_epilog`, shared by the other checkers): a
//! success, or a failure after `retry` extra attempts, settles the state
//! and waits `delay_loop`; an earlier failure retries after
//! `delay_before_retry`. Pure: the scheduler feeds results and sleeps.

use std::time::Duration;

use crate::spec::CheckTiming;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerFsm {
    pub is_up: bool,
    /// False until the first settled result (so the first result is always reported).
    pub has_run: bool,
    /// Failed attempts so far in the current retry sequence.
    pub retry_it: u32,
}

/// What to do after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// `Some(up)` when the checker's state changed (or was settled for the first time).
    pub transition: Option<bool>,
    /// Sleep this long before the next attempt.
    pub next_delay: Duration,
}

impl CheckerFsm {
    /// Initial state: up unless `alpha`.
    pub fn new(alpha: bool) -> Self {
        Self {
            is_up: !alpha,
            has_run: false,
            retry_it: 0,
        }
    }

    pub fn on_result(&mut self, success: bool, timing: &CheckTiming) -> Step {
        if success || self.retry_it >= timing.retry {
            self.retry_it = 0;
            let changed = !self.has_run || self.is_up != success;
            self.has_run = true;
            self.is_up = success;
            Step {
                transition: changed.then_some(success),
                next_delay: timing.delay_loop,
            }
        } else {
            self.retry_it += 1;
            Step {
                transition: None,
                next_delay: timing.delay_before_retry,
            }
        }
    }
}

/// Initial delay of a checker: uniform in `[0, warmup]` (keepalived's
/// warmup; default delay_loop), so thousands of checks spread out.
pub fn initial_delay(warmup: Duration, random: u64) -> Duration {
    if warmup.is_zero() {
        return Duration::ZERO;
    }
    let span = warmup.as_micros().min(u64::MAX as u128) as u64;
    Duration::from_micros(random % (span + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(retry: u32) -> CheckTiming {
        CheckTiming {
            delay_loop: Duration::from_secs(6),
            connect_timeout: Duration::from_secs(1),
            retry,
            delay_before_retry: Duration::from_secs(2),
            warmup: Duration::ZERO,
            alpha: false,
            log_all_failures: false,
        }
    }

    #[test]
    fn failure_needs_retry_plus_one_attempts() {
        let t = timing(2);
        let mut f = CheckerFsm::new(false);
        assert_eq!(
            f.on_result(true, &t),
            Step {
                transition: Some(true),
                next_delay: t.delay_loop
            }
        );
        assert_eq!(
            f.on_result(true, &t),
            Step {
                transition: None,
                next_delay: t.delay_loop
            }
        );
        assert_eq!(
            f.on_result(false, &t),
            Step {
                transition: None,
                next_delay: t.delay_before_retry
            }
        );
        assert_eq!(
            f.on_result(false, &t),
            Step {
                transition: None,
                next_delay: t.delay_before_retry
            }
        );
        assert_eq!(
            f.on_result(false, &t),
            Step {
                transition: Some(false),
                next_delay: t.delay_loop
            }
        );
        assert!(!f.is_up);
        // Still down: failures keep cycling through retries without transitions.
        assert_eq!(f.on_result(false, &t).transition, None);
        // One success brings it back up at once.
        assert_eq!(
            f.on_result(true, &t),
            Step {
                transition: Some(true),
                next_delay: t.delay_loop
            }
        );
    }

    #[test]
    fn retry_sequence_is_reset_by_success() {
        let t = timing(1);
        let mut f = CheckerFsm::new(false);
        f.on_result(true, &t);
        assert_eq!(f.on_result(false, &t).transition, None);
        assert_eq!(f.on_result(true, &t).transition, None);
        assert_eq!(
            f.on_result(false, &t).transition,
            None,
            "retry counter was reset"
        );
    }

    #[test]
    fn alpha_starts_down_and_reports_first_result() {
        let t = timing(0);
        let mut f = CheckerFsm::new(true);
        assert!(!f.is_up);
        assert_eq!(f.on_result(false, &t).transition, Some(false));
        assert_eq!(f.on_result(true, &t).transition, Some(true));
    }

    #[test]
    fn warmup_is_bounded() {
        let w = Duration::from_secs(3);
        for r in [0, 1, u64::MAX, 3_000_000, 3_000_001] {
            assert!(initial_delay(w, r) <= w);
        }
        assert_eq!(initial_delay(Duration::ZERO, 99), Duration::ZERO);
    }
}
