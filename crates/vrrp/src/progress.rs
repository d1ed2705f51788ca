//! The VRRP engine's progress counter, for the supervisor's liveness probe.
//!
//! The probe used to be a stats query answered by the engine loop itself, so
//! an engine busy for a few seconds (a takeover of 1,000 instances under
//! load) looked exactly like a hung one and was killed, which cost every VIP
//! (bench/vrrp/README.md, "Many instances"). keepalived has no such probe
//! (its parent only reaps a child that died). Now the engine counts every
//! loop iteration and every effect it carries out; the child answers a
//! liveness probe at once when the count moved since the previous probe
//! ([`advanced_since_last_probe`]) and only otherwise asks the engine, which
//! must then answer in time (an idle engine does; a hung one does not).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

static PROGRESS: AtomicU64 = AtomicU64::new(0);
static LAST_PROBED: AtomicU64 = AtomicU64::new(0);

/// The engine did something (a loop iteration, an effect).
pub fn tick() {
    PROGRESS.fetch_add(1, Ordering::Relaxed);
}

/// The count so far.
pub fn count() -> u64 {
    PROGRESS.load(Ordering::Relaxed)
}

/// Whether the engine made progress since the previous call (the previous
/// liveness probe). The first call after any progress says yes.
pub fn advanced_since_last_probe() -> bool {
    let now = count();
    LAST_PROBED.swap(now, Ordering::Relaxed) != now
}

/// Debug builds only, for tests of the liveness probe:
/// `RKEEPALIVED_TEST_VRRP_STALL=busy:SECS` keeps the engine loop busy for
/// SECS (blocking work in 50 ms slices, progressing, not serving its control
/// channel); `hang:SECS` stops it for SECS without progress. Logs
/// "test hook: engine busy|hung for SECS s" and "test hook: engine stall over".
pub(crate) async fn test_stall() {
    if !cfg!(debug_assertions) {
        return;
    }
    let Ok(spec) = std::env::var("RKEEPALIVED_TEST_VRRP_STALL") else {
        return;
    };
    let Some((kind, secs)) = spec.split_once(':') else {
        return;
    };
    let Ok(secs) = secs.parse::<u64>() else {
        return;
    };
    match kind {
        "busy" => {
            tracing::warn!("test hook: engine busy for {secs} s");
            for _ in 0..secs * 20 {
                std::thread::sleep(Duration::from_millis(50));
                tick();
                tokio::task::yield_now().await;
            }
        }
        "hang" => {
            tracing::warn!("test hook: engine hung for {secs} s");
            tokio::time::sleep(Duration::from_secs(secs)).await;
        }
        _ => return,
    }
    tracing::warn!("test hook: engine stall over");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_sees_progress_once() {
        tick();
        assert!(advanced_since_last_probe());
        assert!(!advanced_since_last_probe());
        tick();
        assert!(advanced_since_last_probe());
    }
}
