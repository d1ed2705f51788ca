//! Runs every checker of the engine from the engine's own task.
//!
//! At 10,000 real servers a task per checker costs ~500 bytes each (task
//! cell, timer, loop state) for something that is idle 99.99% of the
//! time. Here an idle checker is one slot in a vector plus one entry in a
//! deadline queue ([`Deadlines`]). A due attempt is polled once right
//! here; most finish in that poll (a TCP_CHECK to a near server). Only an
//! attempt that has to wait becomes a (short-lived) task, so a MISC_CHECK
//! script or a slow connect never blocks the others, and removing a
//! checker aborts its attempt.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use crate::addrwatch::LocalAddrs;
use crate::checkers::{BoxFuture, CheckOutcome, Checker};
use crate::conn::random_u64;
use crate::deadlines::Deadlines;
use crate::error::CheckFailure;
use crate::fsm::{initial_delay, CheckerFsm};
use crate::health::CheckerRef;
use crate::metrics::CheckerMetrics;
use crate::spec::CheckerSpec;

/// Handle of one checker inside the driver.
pub type SlotId = u32;

/// A checker's state or weight changed: the engine updates the model.
#[derive(Debug)]
pub struct Report {
    /// Where the checker is in the current plan.
    pub at: CheckerRef,
    /// The other users of the same probe (see [`CheckDriver::add_user`]).
    pub shared: Vec<CheckerRef>,
    pub up: bool,
    pub weight: Option<i32>,
}

/// ha_suspend: checks run only while one of these VIPs is a local address.
pub type SuspendOn = (watch::Receiver<LocalAddrs>, Arc<[IpAddr]>);

/// Everything one checker needs to run.
pub struct CheckerTask {
    /// Where the checker is in the engine's plan (updated on reload).
    pub at: CheckerRef,
    /// The virtual server's name, for logs (shared by its checkers).
    pub vs: Arc<str>,
    pub checker: Arc<dyn Checker>,
    pub spec: Arc<CheckerSpec>,
    pub initially_up: bool,
    /// Inline, not shared: only the driver writes them, the engine reads
    /// them through the driver.
    pub metrics: CheckerMetrics,
    /// ha_suspend: the local-address watch and the VIPs (boxed: rare).
    pub suspend: Option<Box<SuspendOn>>,
}

/// A slot and its generation side by side (one cache miss, not two, per
/// attempt at 10,000 checkers).
struct SlotCell {
    /// Bumped when the slot is freed: stale deadlines and results are ignored.
    generation: u32,
    slot: Option<Slot>,
}

struct Slot {
    task: CheckerTask,
    fsm: CheckerFsm,
    last_weight: Option<i32>,
    /// The attempt in flight, if any (aborted when the checker is removed).
    inflight: Option<AbortHandle>,
}

/// A settled change of state or weight, before it becomes a [`Report`].
struct Change {
    up: bool,
    weight: Option<i32>,
}

/// Result of one attempt, tagged with the slot and its generation so a
/// result of a removed (or replaced) checker is recognised and dropped.
type Attempt = (SlotId, u32, CheckOutcome, Duration);

#[derive(Default)]
pub struct CheckDriver {
    slots: Vec<SlotCell>,
    free: Vec<SlotId>,
    /// Next attempt of every checker (slot, generation), earliest first.
    deadlines: Deadlines<(SlotId, u32)>,
    inflight: JoinSet<Attempt>,
    /// Which slot a running attempt belongs to (to recover from a panic).
    inflight_slots: HashMap<tokio::task::Id, (SlotId, u32)>,
    /// Changes settled but not yet handed to the engine, with their slot
    /// and generation (a checker removed meanwhile is skipped). The report
    /// takes the slot's `at` when handed over: a reload may move it.
    ready: VecDeque<(SlotId, u32, Change)>,
    /// One probe per distinct target: the other checkers of the plan with
    /// the same spec as a slot's (same real server behind several virtual
    /// servers, or listed twice); each result fans out to them too. Kept
    /// beside the slots: most slots have none, and a slot is ~170 bytes.
    shared: HashMap<SlotId, Vec<CheckerRef>>,
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
                self.slots[id as usize].slot = Some(slot);
                id
            }
            None => {
                self.slots.push(SlotCell {
                    generation: 0,
                    slot: Some(slot),
                });
                (self.slots.len() - 1) as SlotId
            }
        };
        let generation = self.slots[id as usize].generation;
        self.deadlines
            .push_at(Instant::now() + first, (id, generation));
        id
    }

    /// Stop a checker; an attempt in flight is aborted.
    pub fn remove(&mut self, id: SlotId) {
        let Some(cell) = self.slots.get_mut(id as usize) else {
            return;
        };
        let Some(slot) = cell.slot.take() else {
            return;
        };
        cell.generation = cell.generation.wrapping_add(1);
        self.shared.remove(&id);
        if let Some(h) = slot.inflight {
            h.abort();
        }
        self.free.push(id);
    }

    /// Record where a kept checker is in a new plan.
    pub fn set_ref(&mut self, id: SlotId, at: CheckerRef) {
        if let Some(slot) = self
            .slots
            .get_mut(id as usize)
            .and_then(|c| c.slot.as_mut())
        {
            slot.task.at = at;
            self.shared.remove(&id);
        }
    }

    /// Another checker of the plan uses the probe in `id` (call after
    /// [`CheckDriver::set_ref`] or [`CheckDriver::add`] on each reload).
    pub fn add_user(&mut self, id: SlotId, at: CheckerRef) {
        if self.task(id).is_some() {
            self.shared.entry(id).or_default().push(at);
        }
    }

    /// The other users of the probe in `id`.
    pub fn shared(&self, id: SlotId) -> &[CheckerRef] {
        self.shared.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The running checker in `id`.
    pub fn task(&self, id: SlotId) -> Option<&CheckerTask> {
        self.slots.get(id as usize)?.slot.as_ref().map(|s| &s.task)
    }

    /// Every running checker.
    pub fn tasks(&self) -> impl Iterator<Item = (SlotId, &CheckerTask)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(id, c)| Some((id as SlotId, &c.slot.as_ref()?.task)))
    }

    /// How many checkers run.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Make room for `n` checkers in all (exactly: at 10,000 checkers a
    /// doubled vector wastes ~0.7 MB).
    pub fn reserve(&mut self, n: usize) {
        // Free slots are reused first, so the vector needs n slots in all.
        self.slots.reserve_exact(n.saturating_sub(self.slots.len()));
    }

    /// Stop every checker.
    pub fn clear(&mut self) {
        self.inflight.abort_all();
        self.inflight_slots.clear();
        self.slots.clear();
        self.free.clear();
        self.deadlines.clear();
        self.ready.clear();
        self.shared.clear();
    }

    /// Run checks until one changes a checker's state (or weight).
    /// Cancel-safe: everything in progress lives in the driver.
    pub async fn next_report(&mut self) -> Report {
        loop {
            if let Some(report) = self.pop_ready() {
                return report;
            }
            self.start_due();
            if let Some(report) = self.pop_ready() {
                return report;
            }
            let next = self.deadlines.next_at();
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
        while let Some(report) = self.pop_ready() {
            out.push(report);
        }
        out
    }

    /// The oldest settled report of a checker that still exists.
    fn pop_ready(&mut self) -> Option<Report> {
        while let Some((id, generation, change)) = self.ready.pop_front() {
            let shared = self.shared(id).to_vec();
            if let Some(slot) = self.live(id, generation) {
                return Some(Report {
                    at: slot.task.at,
                    shared,
                    up: change.up,
                    weight: change.weight,
                });
            }
        }
        None
    }

    /// Next attempt of `id` after `delay` (one of few distinct delays).
    fn schedule_after(&mut self, id: SlotId, now: Instant, delay: Duration) {
        let generation = self.slots[id as usize].generation;
        self.deadlines.push_after(now, delay, (id, generation));
    }

    fn live(&mut self, id: SlotId, generation: u32) -> Option<&mut Slot> {
        let cell = self.slots.get_mut(id as usize)?;
        if cell.generation != generation {
            return None;
        }
        cell.slot.as_mut()
    }

    /// Start every attempt whose time has come.
    fn start_due(&mut self) {
        let now = Instant::now();
        while let Some((id, generation)) = self.deadlines.pop_due(now) {
            let Some(slot) = self.live(id, generation) else {
                continue;
            };
            if let Some((addrs, vips)) = slot.task.suspend.as_deref() {
                let suspended = {
                    let local = addrs.borrow();
                    !vips.iter().any(|a| local.contains(a))
                };
                if suspended != slot.task.metrics.suspended.swap(suspended, Relaxed) {
                    tracing::info!(vs = %slot.task.vs, "checks {} (ha_suspend)", if suspended { "suspended" } else { "resumed" });
                }
                if suspended {
                    let delay_loop = slot.task.spec.timing.delay_loop;
                    self.schedule_after(id, now, delay_loop);
                    continue;
                }
            }
            let checker = Arc::clone(&slot.task.checker);
            let started = Instant::now();
            let mut attempt: BoxFuture<'static, CheckOutcome> =
                Box::pin(async move { checker.check().await });
            // Most attempts finish in their first poll (a TCP_CHECK to a
            // near server is answered before connect() returns): settle
            // those here and only pay for a task when one has to wait.
            // Polling with a no-op waker is fine: the task polls again
            // at once and registers its real waker.
            let mut cx = Context::from_waker(Waker::noop());
            let first =
                std::panic::catch_unwind(AssertUnwindSafe(|| attempt.as_mut().poll(&mut cx)));
            let outcome = match first {
                Ok(Poll::Pending) => None,
                Ok(Poll::Ready(outcome)) => Some(outcome),
                Err(_) => {
                    // A checker bug must not take the engine down (nor
                    // silence the checker): the attempt counts as failed.
                    tracing::error!("checker attempt panicked");
                    Some(CheckOutcome::Down(CheckFailure::Panicked))
                }
            };
            if let Some(outcome) = outcome {
                let end = Instant::now();
                self.settle_and_schedule(id, generation, outcome, end - started, end);
                continue;
            }
            let handle = self.inflight.spawn(async move {
                let outcome = attempt.await;
                (id, generation, outcome, started.elapsed())
            });
            self.inflight_slots.insert(handle.id(), (id, generation));
            if let Some(slot) = self.live(id, generation) {
                slot.inflight = Some(handle);
            }
        }
    }

    /// Account an attempt finished inline; its report (if any) waits in
    /// `ready` for the next [`CheckDriver::next_report`].
    fn settle_and_schedule(
        &mut self,
        id: SlotId,
        generation: u32,
        outcome: CheckOutcome,
        elapsed: Duration,
        now: Instant,
    ) {
        let Some(slot) = self.live(id, generation) else {
            return;
        };
        let (report, next_delay) = settle(slot, outcome, elapsed);
        self.schedule_after(id, now, next_delay);
        self.ready
            .extend(report.map(|report| (id, generation, report)));
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
        self.live(id, generation)?.inflight = None;
        self.settle_and_schedule(id, generation, outcome, elapsed, Instant::now());
        self.pop_ready()
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
fn settle(slot: &mut Slot, outcome: CheckOutcome, elapsed: Duration) -> (Option<Change>, Duration) {
    let CheckerTask {
        vs,
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
    if let (true, true, Some(e)) = (was_up, timing.log_all_failures, &failure) {
        // log_all_failures: every failure of an up checker (check_tcp.c &c.).
        let chk = crate::logfmt::Trio(
            spec.conn.dst.ip(),
            Some(rkeepalived_ipvs::model::Protocol::Tcp),
            spec.conn.dst.port(),
        );
        tracing::info!(vs = %vs, target = %spec.conn.dst, error = %e, "{}", crate::failure_log::line(kind, e, &chk.to_string(), vs));
    }
    match (step.transition.filter(|_| changed), &failure) {
        // check_tcp.c tcp_epilog: keepalived's wording (other checkers
        // follow TCP_CHECK's); the reason is the `error` field.
        (Some(true), _) => {
            let chk = crate::logfmt::Trio(
                spec.conn.dst.ip(),
                Some(rkeepalived_ipvs::model::Protocol::Tcp),
                spec.conn.dst.port(),
            );
            if kind == "TCP_CHECK" {
                tracing::info!(vs = %vs, target = %spec.conn.dst, up = true, "TCP connection to {chk} success.")
            } else {
                tracing::info!(vs = %vs, target = %spec.conn.dst, up = true, "{kind} on service {chk} success.")
            }
        }
        (Some(false), Some(e)) => {
            let chk = crate::logfmt::Trio(
                spec.conn.dst.ip(),
                Some(rkeepalived_ipvs::model::Protocol::Tcp),
                spec.conn.dst.port(),
            );
            if timing.retry > 0 {
                tracing::warn!(vs = %vs, target = %spec.conn.dst, up = false, error = %e, "{kind} on service {chk} failed after {} retries.", timing.retry)
            } else {
                tracing::warn!(vs = %vs, target = %spec.conn.dst, up = false, error = %e, "{kind} on service {chk} failed.")
            }
        }
        (None, Some(e)) => {
            tracing::debug!(vs = %vs, target = %spec.conn.dst, "{kind} attempt failed: {e}")
        }
        _ => {}
    }
    let report = (step.transition.is_some() || weight_changed).then(|| {
        if weight.is_some() {
            slot.last_weight = weight;
        }
        metrics.up.store(fsm.is_up, Relaxed);
        Change {
            up: fsm.is_up,
            weight,
        }
    });
    (report, step.next_delay)
}

#[cfg(test)]
mod tests {
    use super::*;
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
            // Tell checkers apart by name in the reports.
            at: CheckerRef {
                vs: 0,
                rs: 0,
                checker: u32::from(vs == "new"),
            },
            vs: Arc::from(vs),
            checker,
            spec: Arc::new(CheckerSpec {
                kind: CheckKind::Tcp,
                conn: ConnOpts::to("192.0.2.1:80".parse().expect("addr")),
                timing: Arc::new(timing),
            }),
            initially_up: true,
            metrics: CheckerMetrics::new(true),
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
            report.at.checker, 1,
            "stale deadlines of the old checker are ignored"
        );
    }

    /// At 10,000 real servers every byte per checker is ~10 KB of RSS.
    /// (The slot holds the checker's counters, ~80 bytes.)
    #[test]
    fn idle_checkers_stay_small() {
        let sizes = (
            std::mem::size_of::<Slot>(),
            std::mem::size_of::<CheckerSpec>(),
            std::mem::size_of::<crate::spec::ConnOpts>(),
            std::mem::size_of::<crate::spec::CheckKind>(),
        );
        assert!(
            sizes.0 <= 168 && sizes.1 <= 64 && sizes.2 <= 40 && sizes.3 <= 16,
            "slot, spec, conn, kind: {sizes:?}"
        );
    }
}
