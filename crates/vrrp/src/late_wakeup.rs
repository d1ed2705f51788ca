//! Late wake-ups of the engine: keepalived lib/scheduler.c checks, each
//! time its loop wakes, whether the earliest timer expired more than
//! `min_auto_priority_delay` ago. If so it logs "A thread timer expired
//! S.UUUUUU seconds ago" and calls `increment_process_priority()`
//! (lib/process.c), which raises the process to SCHED_RR when
//! `max_auto_priority` allows it. The engine reports its fsm deadlines
//! here (`observe`); the daemon installs what raising the priority means
//! ([`set_hook`], src/process_options.rs).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `min_auto_priority_delay` in microseconds (keepalived's default: 1 s).
static MIN_DELAY_US: AtomicU64 = AtomicU64::new(1_000_000);

type Hook = Box<dyn Fn() + Send + Sync>;
static HOOK: OnceLock<Hook> = OnceLock::new();

/// `min_auto_priority_delay` (from the configuration, at start and reload).
pub fn configure(min_delay: Duration) {
    let us = u64::try_from(min_delay.as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    MIN_DELAY_US.store(us, Ordering::Relaxed);
}

/// What a late wake-up triggers (set once per process).
pub fn set_hook(f: Hook) {
    let _ = HOOK.set(f);
}

/// How late `deadline` fired at `now`, when later than `min_delay`.
pub fn lateness(deadline: Instant, now: Instant, min_delay: Duration) -> Option<Duration> {
    now.checked_duration_since(deadline)
        .filter(|late| *late > min_delay)
}

/// keepalived's wording, seconds and microseconds.
pub fn message(late: Duration) -> String {
    format!(
        "A thread timer expired {}.{:06} seconds ago",
        late.as_secs(),
        late.subsec_micros()
    )
}

/// The engine woke up for `deadline` (its earliest fsm deadline).
pub(crate) fn observe(deadline: Option<Instant>) {
    let Some(deadline) = deadline else { return };
    let min = Duration::from_micros(MIN_DELAY_US.load(Ordering::Relaxed));
    if let Some(late) = lateness(deadline, Instant::now(), min) {
        tracing::info!(late_us = late.as_micros() as u64, "{}", message(late));
        if let Some(hook) = HOOK.get() {
            hook();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_later_than_the_minimum_counts() {
        let t = Instant::now();
        let min = Duration::from_millis(100);
        assert_eq!(lateness(t, t + Duration::from_millis(100), min), None);
        assert_eq!(lateness(t + Duration::from_secs(1), t, min), None);
        assert_eq!(
            lateness(t, t + Duration::from_millis(250), min),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            message(Duration::from_micros(1_020_304)),
            "A thread timer expired 1.020304 seconds ago"
        );
    }
}
