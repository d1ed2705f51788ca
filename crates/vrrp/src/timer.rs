//! Microsecond-precise wake-ups for the engine's fsm deadlines.
//!
//! tokio's timer wheel has a 1 ms tick: `sleep_until` rounds the deadline up to
//! the next tick and the driver's epoll timeout is rounded up to whole
//! milliseconds again, so a deadline fires 1-2 ms late. For Master_Down_Timer
//! that lateness is added to every failover (5 % of Master_Down_Interval at
//! 10 ms adverts, RFC 5798 §6.4.2). A `timerfd` (hrtimer, CLOCK_MONOTONIC, the
//! clock of [`std::time::Instant`]) wakes the engine within tens of
//! microseconds instead. Where a timerfd cannot be created, tokio's timer is
//! used as before.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::unix::AsyncFd;

/// `TimerFd` implements `AsFd` only; `AsyncFd` wants `AsRawFd`.
struct RawTimerFd(TimerFd);

impl AsFd for RawTimerFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl AsRawFd for RawTimerFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

/// One re-armable deadline. Dropping a [`DeadlineTimer::sleep_until`] future
/// (another `select!` branch won) keeps the timer armed, so awaiting the same
/// deadline again costs no syscall and loses no expiry.
pub struct DeadlineTimer {
    fd: Option<AsyncFd<RawTimerFd>>,
    /// Deadline the timerfd is armed for (None: disarmed or expired and read).
    armed: Option<Instant>,
}

impl DeadlineTimer {
    /// A timerfd-backed timer, or tokio's timer if the timerfd cannot be set up
    /// (logged once; behaviour stays correct, only 1-2 ms coarser).
    pub fn new() -> DeadlineTimer {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(io::Error::from)
        .and_then(|t| crate::sys::register_async(RawTimerFd(t)));
        let fd = match fd {
            Ok(fd) => Some(fd),
            Err(e) => {
                tracing::warn!(error = %e, "no timerfd; VRRP timers use tokio's 1 ms timer");
                None
            }
        };
        DeadlineTimer { fd, armed: None }
    }

    /// Whether wake-ups come from the timerfd (false: tokio's timer).
    pub fn is_precise(&self) -> bool {
        self.fd.is_some()
    }

    /// Complete at `deadline` (at once if it has passed); never for `None`.
    pub async fn sleep_until(&mut self, deadline: Option<Instant>) {
        let Some(deadline) = deadline else {
            return std::future::pending().await;
        };
        let Some(fd) = &self.fd else {
            return tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
        };
        if self.armed != Some(deadline) {
            let left = deadline.saturating_duration_since(Instant::now());
            // A zero one-shot value would disarm the timerfd (timerfd_settime(2)).
            if left.is_zero() {
                self.armed = None;
                return;
            }
            if let Err(e) = arm(fd, left) {
                tracing::warn!(error = %e, "cannot arm timerfd; using tokio's timer for this deadline");
                self.armed = None;
                return tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
            }
            self.armed = Some(deadline);
        }
        loop {
            let mut guard = match fd.readable().await {
                Ok(g) => g,
                Err(e) => {
                    tracing::warn!(error = %e, "timerfd poll failed; using tokio's timer");
                    self.armed = None;
                    return tokio::time::sleep_until(tokio::time::Instant::from_std(deadline))
                        .await;
                }
            };
            // Reading the expiry count clears readiness; EAGAIN (a stale
            // readiness from an earlier arming) clears tokio's flag and we wait on.
            match guard.try_io(|t| t.get_ref().0.wait().map_err(io::Error::from)) {
                Ok(Ok(())) => {
                    self.armed = None;
                    return;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "timerfd read failed");
                    self.armed = None;
                    return;
                }
                Err(_would_block) => continue,
            }
        }
    }
}

impl Default for DeadlineTimer {
    fn default() -> Self {
        DeadlineTimer::new()
    }
}

/// Arm `fd` to expire once after `left` (relative: CLOCK_MONOTONIC deadlines of
/// `Instant` are not exposed as timespecs). Re-arming resets the expiry count.
fn arm(fd: &AsyncFd<RawTimerFd>, left: Duration) -> Result<(), Errno> {
    fd.get_ref().0.set(
        Expiration::OneShot(TimeSpec::from_duration(left)),
        TimerSetTimeFlags::empty(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fires_at_the_deadline_not_a_tick_later() {
        let mut t = DeadlineTimer::new();
        assert!(t.is_precise(), "timerfd unavailable");
        let mut worst = Duration::ZERO;
        for _ in 0..20 {
            let deadline = Instant::now() + Duration::from_micros(2_300);
            t.sleep_until(Some(deadline)).await;
            let now = Instant::now();
            assert!(now >= deadline, "woke {:?} early", deadline - now);
            worst = worst.max(now - deadline);
        }
        // Not a timing assertion on the machine's speed: only that the wake-up is
        // not the tokio tick rounding (which is always >= the next whole ms).
        println!("worst lateness {worst:?}");
    }

    #[tokio::test]
    async fn past_deadline_completes_at_once_and_none_never() {
        let mut t = DeadlineTimer::new();
        t.sleep_until(Some(Instant::now() - Duration::from_millis(5)))
            .await;
        let never = tokio::time::timeout(Duration::from_millis(20), t.sleep_until(None)).await;
        assert!(never.is_err());
    }

    #[tokio::test]
    async fn a_dropped_wait_keeps_the_deadline_armed() {
        let mut t = DeadlineTimer::new();
        let deadline = Instant::now() + Duration::from_millis(30);
        // Abandon the first wait (as a losing select! branch does) ...
        let first = tokio::time::timeout(Duration::from_millis(5), t.sleep_until(Some(deadline)));
        assert!(first.await.is_err());
        // ... then wait for the same deadline again: it still fires, on time.
        t.sleep_until(Some(deadline)).await;
        assert!(Instant::now() >= deadline);
        // A new, earlier deadline replaces an armed later one.
        let later = Instant::now() + Duration::from_secs(10);
        let _ = tokio::time::timeout(Duration::from_millis(2), t.sleep_until(Some(later))).await;
        let sooner = Instant::now() + Duration::from_millis(3);
        tokio::time::timeout(Duration::from_secs(2), t.sleep_until(Some(sooner)))
            .await
            .expect("re-armed deadline fired");
    }
}
