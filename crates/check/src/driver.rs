//! Runs every checker of the engine from the engine's own task.
//!
//! At 10,000 real servers a task per checker costs ~500 bytes each (task
//! cell, timer, loop state) for something that is idle 99.99% of the
//! time. Here an idle checker is one slot in a vector plus one entry in a
//! deadline heap; only a check in flight is a (short-lived) task, so a
//! MISC_CHECK script or a slow connect still never blocks the others and
//! removing a checker aborts its attempt.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use crate::addrwatch::LocalAddrs;
use crate::checkers::{CheckOutcome, Checker};
use crate::conn::random_u64;
use crate::error::CheckFailure;
use crate::fsm::{initial_delay, CheckerFsm};
use crate::metrics::CheckerMetrics;
use crate::spec::CheckerSpec;

/// Handle of one checker inside the driver.
pub type SlotId = u32;

/// Identity of a checker across reloads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckerKey {
    /// Shared by all checkers of one virtual server (thousands of keys).
    pub vs: Arc<str>,
    pub rs: rkeepalived_ipvs::DestKey,
    pub index: usize,
}

/// A checker's state or weight changed: the engine updates the model.
#[derive(Debug)]
pub struct Report {
    pub key: CheckerKey,
    pub up: bool,
    pub weight: Option<i32>,
}

/// Everything one checker needs to run.
pub struct CheckerTask {
    pub key: CheckerKey,
    pub checker: Arc<dyn Checker>,
    pub spec: Arc<CheckerSpec>,
    pub initially_up: bool,
    pub metrics: Arc<CheckerMetrics>,
    /// ha_suspend: the local-address watch and the VIPs (boxed: rare).
    pub suspend: Option<Box<(watch::Receiver<LocalAddrs>, Vec<IpAddr>)>>,
}

struct Slot {
    task: CheckerTask,
    fsm: CheckerFsm,
    last_weight: Option<i32>,
    /// The attempt in flight, if any (aborted when the checker is removed).
    inflight: Option<AbortHandle>,
}

/// Result of one attempt, tagged with the slot and its generation so a
/// result of a removed (or replaced) checker is recognised and dropped.
type Attempt = (SlotId, u32, CheckOutcome, Duration);

#[derive(Default)]
pub struct CheckDriver {
    slots: Vec<Option<Slot>>,
    /// Bumped when a slot is freed: stale deadlines and results are ignored.
    generations: Vec<u32>,
    free: Vec<SlotId>,
    /// Next attempt of every checker, earliest first.
    deadlines: BinaryHeap<Reverse<(Instant, SlotId, u32)>>,
    inflight: JoinSet<Attempt>,
    /// Which slot a running attempt belongs to (to recover from a panic).
    inflight_slots: HashMap<tokio::task::Id, (SlotId, u32)>,
}

impl CheckDriver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Start a checker: its first attempt comes after a random part of its
    /// `warmup` (keepalived staggers checks the same way).
    pub fn add(&mut self, task: CheckerTask) -> SlotId {
        let first = initial_delay(task.spec.timing.warmup, random_u64());
        let slot = Slot {
            fsm: CheckerFsm::new(!task.initially_up),
            task,
            last_weight: None,
            inflight: None,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = Some(slot);
                id
            }
            None => {
                self.slots.push(Some(slot));
                self.generations.push(0);
                (self.slots.len() - 1) as SlotId
            }
        };
        self.schedule(id, Instant::now() + first);
        id
    }

    /// Stop a checker; an attempt in flight is aborted.
    pub fn remove(&mut self, id: SlotId) {
        let Some(slot) = self.slots.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        if let Some(h) = slot.inflight {
            h.abort();
        }
        self.generations[id as usize] = self.generations[id as usize].wrapping_add(1);
        self.free.push(id);
    }

    /// Stop every checker.
    pub fn clear(&mut self) {
        self.inflight.abort_all();
        self.inflight_slots.clear();
        self.slots.clear();
        self.generations.clear();
        self.free.clear();
        self.deadlines.clear();
    }

    /// Run checks until one changes a checker's state (or weight).
    /// Cancel-safe: everything in progress lives in the driver.
    pub async fn next_report(&mut self) -> Report {
        loop {
            self.start_due();
            let next = self.deadlines.peek().map(|Reverse((at, _, _))| *at);
            tokio::select! {
                _ = sleep_until(next) => {}
                Some(done) = self.inflight.join_next_with_id(), if !self.inflight.is_empty() => {
                    if let Some(report) = self.finish(done) {
                        return report;
                    }
                }
            }
        }
    }

    /// Reports of attempts that already finished (coalesces a burst).
    pub fn ready_reports(&mut self) -> Vec<Report> {
        let mut out = Vec::new();
        while let Some(done) = self.inflight.try_join_next_with_id() {
            out.extend(self.finish(done));
        }
        out
    }

    fn schedule(&mut self, id: SlotId, at: Instant) {
        self.deadlines
            .push(Reverse((at, id, self.generations[id as usize])));
    }

    fn live(&mut self, id: SlotId, generation: u32) -> Option<&mut Slot> {
        if self.generations.get(id as usize) != Some(&generation) {
            return None;
        }
        self.slots.get_mut(id as usize)?.as_mut()
    }

    /// Start every attempt whose time has come.
    fn start_due(&mut self) {
        let now = Instant::now();
        while let Some(&Reverse((at, id, generation))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            let Some(slot) = self.live(id, generation) else {
                continue;
            };
            if let Some((addrs, vips)) = slot.task.suspend.as_deref() {
                let suspended = {
                    let local = addrs.borrow();
                    !vips.iter().any(|a| local.contains(a))
                };
                if suspended != slot.task.metrics.suspended.swap(suspended, Relaxed) {
                    tracing::info!(vs = %slot.task.key.vs, "checks {} (ha_suspend)", if suspended { "suspended" } else { "resumed" });
                }
                if suspended {
                    let again = now + slot.task.spec.timing.delay_loop;
                    self.schedule(id, again);
                    continue;
                }
            }
            let checker = Arc::clone(&slot.task.checker);
            let handle = self.inflight.spawn(async move {
                let started = Instant::now();
                let outcome = checker.check().await;
                (id, generation, outcome, started.elapsed())
            });
            self.inflight_slots.insert(handle.id(), (id, generation));
            if let Some(slot) = self.live(id, generation) {
                slot.inflight = Some(handle);
            }
        }
    }

    /// Account a finished attempt and schedule the next one.
    fn finish(
        &mut self,
        done: Result<(tokio::task::Id, Attempt), tokio::task::JoinError>,
    ) -> Option<Report> {
        let (id, generation, outcome, elapsed) = match done {
            Ok((task_id, attempt)) => {
                self.inflight_slots.remove(&task_id);
                attempt
            }
            Err(e) => {
                let (id, generation) = self.inflight_slots.remove(&e.id())?;
                if e.is_cancelled() {
                    return None;
                }
                // A checker bug must not silence the checker forever: count
                // the attempt as failed and carry on.
                tracing::error!("checker attempt panicked: {e}");
                (
                    id,
                    generation,
                    CheckOutcome::Down(CheckFailure::Panicked),
                    Duration::ZERO,
                )
            }
        };
        let slot = self.live(id, generation)?;
        slot.inflight = None;
        let (report, next_delay) = settle(slot, outcome, elapsed);
        self.schedule(id, Instant::now() + next_delay);
        report
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Account one attempt: metrics, the retry state machine, logging. Returns
/// the report for the engine (state or weight changed) and the delay
/// before the next attempt.
fn settle(slot: &mut Slot, outcome: CheckOutcome, elapsed: Duration) -> (Option<Report>, Duration) {
    let CheckerTask {
        key,
        checker,
        spec,
        metrics,
        ..
    } = &slot.task;
    let kind = checker.kind();
    let timing = &spec.timing;
    let (success, weight, failure) = match outcome {
        CheckOutcome::Up => (true, None, None),
        CheckOutcome::UpWithWeight(w) => (true, Some(w), None),
        CheckOutcome::Down(e) => (false, None, Some(e)),
    };
    metrics.record(success, elapsed);
    let fsm = &mut slot.fsm;
    let was_up = fsm.is_up;
    let step = fsm.on_result(success, timing);
    let weight_changed = weight.is_some() && weight != slot.last_weight;
    // Log real changes only (not the first result confirming the initial state).
    let changed = step.transition.is_some() && fsm.is_up != was_up;
    match (step.transition.filter(|_| changed), &failure) {
        (Some(true), _) => {
            tracing::info!(vs = %key.vs, target = %spec.conn.dst, "{kind} succeeded: checker UP")
        }
        (Some(false), Some(e)) => {
            tracing::warn!(vs = %key.vs, target = %spec.conn.dst, "{kind} failed after {} retries: {e}: checker DOWN", timing.retry)
        }
        (None, Some(e)) => {
            tracing::debug!(vs = %key.vs, target = %spec.conn.dst, "{kind} attempt failed: {e}")
        }
        _ => {}
    }
    let report = (step.transition.is_some() || weight_changed).then(|| {
        if weight.is_some() {
            slot.last_weight = weight;
        }
        metrics.up.store(fsm.is_up, Relaxed);
        Report {
            key: key.clone(),
            up: fsm.is_up,
            weight,
        }
    });
    (report, step.next_delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkers::BoxFuture;
    use crate::spec::{CheckKind, CheckTiming, ConnOpts};
    use std::sync::atomic::AtomicU32;

    /// Fails by panicking on every attempt.
    struct Panicky(Arc<AtomicU32>);

    impl Checker for Panicky {
        fn kind(&self) -> &'static str {
            "TCP_CHECK"
        }
        fn check(&self) -> BoxFuture<'_, CheckOutcome> {
            self.0.fetch_add(1, Relaxed);
            Box::pin(async { panic!("checker bug") })
        }
    }

    fn task(checker: Arc<dyn Checker>, vs: &str) -> CheckerTask {
        let mut timing = CheckTiming::defaults_for(&CheckKind::Tcp, Duration::from_secs(1));
        timing.retry = 0;
        timing.warmup = Duration::ZERO;
        CheckerTask {
            key: CheckerKey {
                vs: Arc::from(vs),
                rs: rkeepalived_ipvs::Dest::new(
                    "192.0.2.1".parse().expect("addr"),
                    80,
                    rkeepalived_ipvs::Forwarding::Masq,
                    1,
                )
                .key(),
                index: 0,
            },
            checker,
            spec: Arc::new(CheckerSpec {
                kind: CheckKind::Tcp,
                conn: ConnOpts::to("192.0.2.1:80".parse().expect("addr")),
                timing,
            }),
            initially_up: true,
            metrics: Arc::new(CheckerMetrics::new(true)),
            suspend: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_checker_counts_as_failed_and_keeps_running() {
        let calls = Arc::new(AtomicU32::new(0));
        let mut driver = CheckDriver::new();
        driver.add(task(Arc::new(Panicky(Arc::clone(&calls))), "vs"));
        let report = driver.next_report().await;
        assert!(!report.up, "a panic is a failed attempt");
        // It goes on: more attempts follow, one per delay_loop.
        tokio::time::timeout(Duration::from_secs(5), async {
            while calls.load(Relaxed) < 3 {
                let _ =
                    tokio::time::timeout(Duration::from_millis(100), driver.next_report()).await;
            }
        })
        .await
        .expect("the checker keeps running after a panic");
    }

    #[tokio::test(start_paused = true)]
    async fn a_removed_checker_stops_and_its_slot_is_reused() {
        let calls = Arc::new(AtomicU32::new(0));
        let mut driver = CheckDriver::new();
        let id = driver.add(task(Arc::new(Panicky(Arc::clone(&calls))), "old"));
        let _ = driver.next_report().await;
        driver.remove(id);
        let before = calls.load(Relaxed);
        let _ = tokio::time::timeout(Duration::from_secs(5), driver.next_report()).await;
        assert_eq!(calls.load(Relaxed), before, "no attempt after removal");
        let again = driver.add(task(Arc::new(Panicky(Arc::new(AtomicU32::new(0)))), "new"));
        assert_eq!(again, id, "freed slot reused");
        let report = driver.next_report().await;
        assert_eq!(
            &*report.key.vs, "new",
            "stale deadlines of the old checker are ignored"
        );
    }

    /// At 10,000 real servers every byte per checker is ~10 KB of RSS.
    #[test]
    fn idle_checkers_stay_small() {
        assert!(
            std::mem::size_of::<Slot>() <= 128,
            "{}",
            std::mem::size_of::<Slot>()
        );
        assert!(std::mem::size_of::<CheckerSpec>() <= 192);
        assert!(std::mem::size_of::<crate::spec::CheckKind>() <= 16);
    }
}
