//! Helper threads for bursts of due checks.
//!
//! The driver starts every due attempt from the engine's task and most
//! finish inside that first poll (a TCP_CHECK's half-open probe to a near
//! server: connect, getpeername, connect(AF_UNSPEC), ~20 us, almost all of
//! it kernel TCP work). One thread therefore tops out near 50,000 checks a
//! second. When many attempts are due at once (a high check rate), the
//! driver hands part of the batch to helper threads, which make the same
//! first poll with the runtime entered (a probe still in flight registers
//! with the same reactor) and send the outcomes back; the driver settles
//! them like its own. Helpers start on the first large batch only, so a
//! daemon with a modest check rate never has one.
//!
//! keepalived's checker is one thread (scheduler.c); this is where we
//! deliberately differ: the checks and their verdicts are the same, they
//! are just started from more than one core.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::mpsc as tmpsc;
use tokio::time::Instant;

use crate::checkers::{BoxFuture, CheckOutcome, Checker};
use crate::error::CheckFailure;

/// Fewer due attempts than this in one pass are all started inline: a
/// handoff (a futex wake and a channel message each way) is only worth it
/// for a batch.
pub(crate) const OFFLOAD_MIN: usize = 24;

/// Helper threads wanted; `usize::MAX` = automatic (one fewer than the
/// cores, at most 3).
static PROBE_THREADS: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Set how many helper threads the check drivers created after this call
/// may start for bursts of due checks (0: every check is started from the
/// engine's task, as before). Default: one fewer than the available cores,
/// at most 3.
pub fn set_probe_threads(n: usize) {
    PROBE_THREADS.store(n, Relaxed);
}

pub(crate) fn configured_helpers() -> usize {
    match PROBE_THREADS.load(Relaxed) {
        usize::MAX => std::thread::available_parallelism()
            .map_or(0, |n| n.get().saturating_sub(1))
            .min(3),
        n => n,
    }
}

/// One due attempt: which slot, which generation, the checker, and when
/// it was due.
pub(crate) struct Due {
    pub id: u32,
    pub generation: u32,
    pub checker: Arc<dyn Checker>,
    pub due_at: Instant,
}

/// How an attempt ended: its outcome, and how long its last answer had
/// waited in the kernel for us ([`Checker::answer_waited`]).
pub(crate) struct Ended {
    pub outcome: CheckOutcome,
    pub answer_waited: Duration,
}

impl Ended {
    /// A checker bug: the attempt counts as failed.
    pub(crate) fn panicked() -> Self {
        Ended {
            outcome: CheckOutcome::Down(CheckFailure::Panicked),
            answer_waited: Duration::ZERO,
        }
    }
}

/// How the first poll of an attempt went.
pub(crate) enum First {
    /// Finished in the first poll, at this instant.
    Done(Ended, Instant),
    /// Has to wait: the driver spawns it.
    Waiting(BoxFuture<'static, Ended>),
}

/// An attempt after its first poll.
pub(crate) struct Started {
    pub id: u32,
    pub generation: u32,
    pub started: Instant,
    /// How long after its deadline it started.
    pub late: Duration,
    pub first: First,
}

/// Start an attempt: create its future and poll it once. A panic counts
/// as a failed attempt (a checker bug must not take the engine down).
pub(crate) fn start(due: Due) -> Started {
    let Due {
        id,
        generation,
        checker,
        due_at,
    } = due;
    let started = Instant::now();
    let late = started.saturating_duration_since(due_at);
    let mut attempt: BoxFuture<'static, Ended> = Box::pin(async move {
        let outcome = checker.check().await;
        Ended {
            outcome,
            answer_waited: checker.answer_waited(),
        }
    });
    // Polling with a no-op waker is fine: an attempt that is not done is
    // spawned and polled again at once with its real waker.
    let mut cx = Context::from_waker(Waker::noop());
    let first =
        std::panic::catch_unwind(AssertUnwindSafe(|| Pin::as_mut(&mut attempt).poll(&mut cx)));
    let first = match first {
        Ok(Poll::Pending) => First::Waiting(attempt),
        Ok(Poll::Ready(outcome)) => First::Done(outcome, Instant::now()),
        Err(_) => {
            tracing::error!("checker attempt panicked");
            First::Done(Ended::panicked(), Instant::now())
        }
    };
    Started {
        id,
        generation,
        started,
        late,
        first,
    }
}

/// A batch of started attempts, tagged with the driver's epoch (bumped by
/// `clear`, so a batch of checkers cleared meanwhile is dropped).
pub(crate) type Batch = (u64, Vec<Started>);

/// The helper threads of one driver. Dropping it ends them (their job
/// channels close).
pub(crate) struct ProbePool {
    jobs: Vec<mpsc::Sender<(u64, Vec<Due>)>>,
    pub results: tmpsc::UnboundedReceiver<Batch>,
    /// Batches handed out and not yet received.
    pub outstanding: usize,
}

impl ProbePool {
    /// Start `n` helper threads in the current runtime (None without one,
    /// or when no thread could be started).
    pub fn start(n: usize) -> Option<ProbePool> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let (done_tx, results) = tmpsc::unbounded_channel();
        let mut jobs = Vec::new();
        for i in 0..n {
            let (tx, rx) = mpsc::channel::<(u64, Vec<Due>)>();
            let done = done_tx.clone();
            let handle = handle.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("probe-{i}"))
                .stack_size(256 * 1024)
                .spawn(move || {
                    // Sockets of attempts still in flight register with the
                    // runtime's reactor, timers with its clock.
                    let _rt = handle.enter();
                    while let Ok((epoch, batch)) = rx.recv() {
                        let out = batch.into_iter().map(start).collect();
                        if done.send((epoch, out)).is_err() {
                            break;
                        }
                    }
                });
            match spawned {
                Ok(_) => jobs.push(tx),
                Err(e) => tracing::warn!("cannot start a probe thread: {e}"),
            }
        }
        (!jobs.is_empty()).then_some(ProbePool {
            jobs,
            results,
            outstanding: 0,
        })
    }

    /// Hand `due` out in equal parts to the helpers and return the part
    /// the caller starts itself (everything a helper could not take).
    pub fn share(&mut self, epoch: u64, mut due: Vec<Due>) -> Vec<Due> {
        let parts = self.jobs.len() + 1;
        let each = due.len() / parts;
        let mut own = Vec::new();
        for tx in &self.jobs {
            let part: Vec<Due> = due.split_off(due.len() - each);
            if let Err(mpsc::SendError((_, part))) = tx.send((epoch, part)) {
                own.extend(part);
            } else {
                self.outstanding += 1;
            }
        }
        own.extend(due);
        own
    }
}
