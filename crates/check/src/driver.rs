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
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use crate::addrwatch::LocalAddrs;
use crate::checkers::{CheckOutcome, Checker};
use crate::conn::random_u64;
use crate::deadlines::Deadlines;
use crate::fsm::{initial_delay, CheckerFsm};
use crate::health::CheckerRef;
use crate::metrics::CheckerMetrics;
use crate::probe_pool::{self, Batch, Due, Ended, First, ProbePool, Started, OFFLOAD_MIN};
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
/// The durations are the attempt's own and how late it started.
type Attempt = (SlotId, u32, Ended, Duration, Duration);

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
    /// Helper threads this driver may start for bursts of due attempts.
    helpers: usize,
    /// The helpers, once a burst needed them.
    pool: Option<ProbePool>,
    /// Bumped by `clear`: helper batches of an earlier epoch are dropped.
    epoch: u64,
    /// Due attempts not started yet because a settled change was waiting:
    /// a verdict goes to the engine (and IPVS) before the rest of a batch
    /// of probes is started. Started first on the next pass.
    backlog: VecDeque<Due>,
}

impl CheckDriver {
    pub fn new() -> Self {
        Self {
            helpers: probe_pool::configured_helpers(),
            ..Self::default()
        }
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

    /// Whether any probe has other users (the engine's delta matching
    /// then matches every checker).
    pub fn has_shared(&self) -> bool {
        self.shared.values().any(|u| !u.is_empty())
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
        self.backlog.clear();
        self.epoch += 1;
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
                Some(batch) = next_batch(&mut self.pool), if self.pool.as_ref().is_some_and(|p| p.outstanding > 0) => {
                    self.take_batch(batch);
                }
            }
        }
    }

    /// Reports of attempts that already finished (coalesces a burst).
    pub fn ready_reports(&mut self) -> Vec<Report> {
        let mut out = Vec::new();
        while let Some(batch) = self.pool.as_mut().and_then(|p| p.results.try_recv().ok()) {
            self.take_batch(batch);
        }
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

    /// Start every attempt whose time has come. A large batch is shared
    /// with helper threads ([`crate::probe_pool`]); their attempts are
    /// settled when their batch comes back. As soon as an attempt started
    /// here settles a change of state, the rest of the batch waits in
    /// `backlog` (started by the next pass, right after the engine took
    /// the report): verdicts go first, no attempt is skipped or moved by
    /// more than that one report's handling.
    fn start_due(&mut self) {
        let now = Instant::now();
        let mut due: Vec<Due> = self.backlog.drain(..).collect();
        while let Some((due_at, (id, generation))) = self.deadlines.pop_due(now) {
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
            due.push(Due {
                id,
                generation,
                checker: Arc::clone(&slot.task.checker),
                due_at,
            });
        }
        if due.len() >= OFFLOAD_MIN && self.helpers > 0 {
            if self.pool.is_none() {
                self.pool = ProbePool::start(self.helpers);
                if self.pool.is_none() {
                    self.helpers = 0; // no runtime or no thread: stay inline
                }
            }
            if let Some(pool) = &mut self.pool {
                due = pool.share(self.epoch, due);
            }
        }
        let mut due = due.into_iter();
        while let Some(d) = due.next() {
            if self.live(d.id, d.generation).is_none() {
                continue; // removed while it waited in the backlog
            }
            let started = probe_pool::start(d);
            self.take_started(started);
            if !self.ready.is_empty() {
                self.backlog.extend(due);
                return;
            }
        }
    }

    /// Settle an attempt after its first poll, or spawn it if it waits.
    fn take_started(&mut self, s: Started) {
        let Started {
            id,
            generation,
            started,
            late,
            first,
        } = s;
        match first {
            First::Done(ended, end) => {
                self.settle_and_schedule(id, generation, ended, (end - started, late), end);
            }
            First::Waiting(attempt) => {
                if self.live(id, generation).is_none() {
                    return; // removed while a helper started it
                }
                let handle = self.inflight.spawn(async move {
                    let ended = attempt.await;
                    (id, generation, ended, started.elapsed(), late)
                });
                self.inflight_slots.insert(handle.id(), (id, generation));
                if let Some(slot) = self.live(id, generation) {
                    slot.inflight = Some(handle);
                }
            }
        }
    }

    /// A helper's batch came back.
    fn take_batch(&mut self, (epoch, batch): Batch) {
        if let Some(pool) = &mut self.pool {
            pool.outstanding = pool.outstanding.saturating_sub(1);
        }
        if epoch != self.epoch {
            return; // the driver was cleared meanwhile
        }
        for s in batch {
            self.take_started(s);
        }
    }

    /// Account an attempt that ended (its duration and how late it
    /// started) and seen at `now`; its report (if any) waits in `ready`
    /// for the next [`CheckDriver::next_report`].
    fn settle_and_schedule(
        &mut self,
        id: SlotId,
        generation: u32,
        ended: Ended,
        (elapsed, late): (Duration, Duration),
        now: Instant,
    ) {
        let Some(slot) = self.live(id, generation) else {
            return;
        };
        let Ended {
            outcome,
            answer_waited,
        } = ended;
        let (report, next_delay) = settle(slot, outcome, elapsed);
        let end = answer_arrival(now, elapsed, answer_waited);
        self.schedule_after(id, end, catch_up(next_delay, late));
        self.ready
            .extend(report.map(|report| (id, generation, report)));
    }

    /// Account a finished attempt and schedule the next one.
    fn finish(
        &mut self,
        done: Result<(tokio::task::Id, Attempt), tokio::task::JoinError>,
    ) -> Option<Report> {
        let (id, generation, outcome, elapsed, late) = match done {
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
                    Ended::panicked(),
                    Duration::ZERO,
                    Duration::ZERO,
                )
            }
        };
        self.live(id, generation)?.inflight = None;
        self.settle_and_schedule(id, generation, outcome, (elapsed, late), Instant::now());
        self.pop_ready()
    }
}

/// Lateness under this is keepalived's "delay after the end" as it is.
const LATE_SLACK: Duration = Duration::from_millis(10);

/// The delay from an attempt's end to the next attempt: `delay`, less how
/// late this attempt started when that is more than [`LATE_SLACK`] (modulo
/// `delay`: rounds missed in a long stall are skipped, not run back to
/// back).
///
/// keepalived schedules a checker's next attempt `delay_loop` (or
/// `delay_before_retry`) after the attempt *ended* (check_tcp.c
/// `tcp_epilog()` -> `thread_add_timer()`, the same in every checker), so
/// any lateness of the start carries into every later attempt. When the
/// process stalls (host load, a long startup) every checker due meanwhile
/// starts at once, ends at about the same time and stays bunched with
/// the others from then on; bunches merge and never spread out again. With
/// 10,000 HTTP_GET checks every 2 s on a loaded host that made bursts of
/// 8,000 connections every 3 s instead of 5,000 connections a second, and
/// keepalived's own first round fires all at once after its startup.
/// Taking our own lateness back keeps each checker on its phase; an
/// attempt that starts on time keeps keepalived's timing exactly.
pub(crate) fn catch_up(delay: Duration, late: Duration) -> Duration {
    if late < LATE_SLACK || delay.is_zero() {
        return delay;
    }
    let late_ns = late.as_nanos() % delay.as_nanos();
    delay - Duration::from_nanos(u64::try_from(late_ns).unwrap_or(0))
}

/// When an attempt really ended, for the "delay after the end": `now`
/// (when the driver saw it end), less how long its answer had waited in
/// the kernel for us, never before the attempt started (`elapsed` ago at
/// most). No slack as for a late start ([`catch_up`]): the kernel reports
/// the wait in whole ticks (4 ms at HZ=250) rounded down, so an answer
/// read at once reads 0 or one tick and the end taken is never earlier
/// than the answer's arrival; in runs at 10,000 HTTP_GETs a second a
/// 10 ms slack let bunches form more often (bench/check/README.md).
///
/// keepalived's next check is `delay_loop` after its epilog ran, i.e.
/// after the process *read* the answer. When the process is busy (a burst
/// of answers read in one pass) that read is late, and every checker whose
/// answer waited is rescheduled from the same instant: they come due
/// together, their answers arrive together and wait again, and the bunch
/// lasts for good (`bench/check/bunching.sh`: at 7,500 HTTP_GETs a second
/// thousands of connections sat answered and unread at once, and the
/// checks ran at 68-84 % of the offered rate with half a core idle).
/// Timing from the answer's arrival keeps each checker on its own phase;
/// an answer read at once (the usual case, and keepalived's on an idle
/// host) keeps keepalived's timing to within one kernel tick.
pub(crate) fn answer_arrival(now: Instant, elapsed: Duration, answer_waited: Duration) -> Instant {
    now.checked_sub(answer_waited.min(elapsed)).unwrap_or(now)
}

async fn next_batch(pool: &mut Option<ProbePool>) -> Option<Batch> {
    match pool {
        Some(pool) => pool.results.recv().await,
        None => std::future::pending().await,
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
    use crate::checkers::BoxFuture;
    use crate::error::CheckFailure;
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

    /// Fails at once, or after a short wait; records the thread of its
    /// first poll.
    struct Recorder {
        wait: bool,
        threads: Arc<std::sync::Mutex<Vec<std::thread::ThreadId>>>,
    }

    impl Checker for Recorder {
        fn kind(&self) -> &'static str {
            "TCP_CHECK"
        }
        fn check(&self) -> BoxFuture<'_, CheckOutcome> {
            self.threads
                .lock()
                .expect("lock")
                .push(std::thread::current().id());
            let wait = self.wait;
            Box::pin(async move {
                if wait {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                CheckOutcome::Down(CheckFailure::Panicked)
            })
        }
    }

    /// A burst of due attempts is shared with a helper thread: every
    /// attempt runs once, those that finish at once and those that wait
    /// (spawned after a helper's first poll) are all settled and reported.
    #[tokio::test]
    async fn a_burst_is_shared_with_a_helper_and_every_attempt_settles() {
        let threads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut driver = CheckDriver {
            helpers: 1,
            ..CheckDriver::default()
        };
        let n = 4 * OFFLOAD_MIN;
        for i in 0..n {
            let checker = Arc::new(Recorder {
                wait: i % 2 == 1,
                threads: Arc::clone(&threads),
            });
            let mut t = task(checker, "vs");
            t.at.rs = i as u32;
            driver.add(t);
        }
        let mut seen = std::collections::HashSet::new();
        tokio::time::timeout(Duration::from_secs(10), async {
            while seen.len() < n {
                let report = driver.next_report().await;
                assert!(!report.up);
                seen.insert(report.at.rs);
            }
        })
        .await
        .expect("every checker reports its failure");
        assert!(driver.pool.is_some(), "the burst started the helper");
        let me = std::thread::current().id();
        let threads = threads.lock().expect("lock");
        assert!(threads.len() >= n, "every attempt ran");
        assert!(
            threads.iter().any(|t| *t != me),
            "part of the burst ran on the helper"
        );
        assert!(threads.contains(&me), "part ran on the driver's thread");
    }

    /// Results of a batch started before `clear` are dropped, not applied
    /// to the checkers added afterwards in the same slots.
    #[tokio::test]
    async fn a_batch_from_before_clear_is_ignored() {
        let threads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut driver = CheckDriver {
            helpers: 1,
            ..CheckDriver::default()
        };
        for _ in 0..OFFLOAD_MIN * 2 {
            driver.add(task(
                Arc::new(Recorder {
                    wait: false,
                    threads: Arc::clone(&threads),
                }),
                "old",
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        driver.start_due();
        assert!(driver.pool.as_ref().is_some_and(|p| p.outstanding > 0));
        driver.clear();
        let calls = Arc::new(AtomicU32::new(0));
        let id = driver.add(task(Arc::new(Panicky(Arc::clone(&calls))), "new"));
        let report = tokio::time::timeout(Duration::from_secs(5), driver.next_report())
            .await
            .expect("a report");
        assert_eq!(report.at.checker, 1, "only the new checker reports");
        // Let the helper's batch land, then take everything that is ready.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let _ = driver.ready_reports();
        let failures = driver
            .task(id)
            .expect("slot")
            .metrics
            .failures
            .load(Relaxed);
        assert_eq!(
            failures,
            u64::from(calls.load(Relaxed)),
            "only the new checker's own attempts were counted"
        );
        assert_eq!(driver.len(), 1);
    }

    /// A verdict settled while a batch of due probes is being started goes
    /// to the engine before the rest of the batch starts (issue #17: a
    /// failed real server leaves IPVS without waiting behind thousands of
    /// probes); the rest starts on the next pass, none is lost.
    #[tokio::test(start_paused = true)]
    async fn a_verdict_is_reported_before_the_rest_of_the_batch_starts() {
        let mut driver = CheckDriver {
            helpers: 0,
            ..CheckDriver::default()
        };
        let failing = Arc::new(AtomicU32::new(0));
        driver.add(task(Arc::new(Panicky(Arc::clone(&failing))), "new"));
        tokio::time::advance(Duration::from_millis(1)).await;
        let others = Arc::new(AtomicU32::new(0));
        let n = 100;
        for i in 0..n {
            let mut t = task(Arc::new(Panicky(Arc::clone(&others))), "vs");
            t.at.rs = 1 + i;
            driver.add(t);
        }
        // Both the failing checker (due first) and the batch are due now.
        tokio::time::advance(Duration::from_millis(1)).await;
        let report = driver.next_report().await;
        assert_eq!(report.at.checker, 1, "the first due checker's verdict");
        assert!(!report.up);
        assert_eq!(failing.load(Relaxed), 1);
        assert_eq!(
            others.load(Relaxed),
            0,
            "no probe of the batch started before the verdict was handed over"
        );
        // The next pass starts the whole batch, each probe once.
        for _ in 0..n {
            let report = driver.next_report().await;
            assert!(report.at.rs >= 1 && !report.up);
        }
        assert_eq!(others.load(Relaxed), n);
        assert!(driver.backlog.is_empty());
    }

    #[test]
    fn lateness_is_taken_back_only_past_the_slack() {
        let second = Duration::from_secs(1);
        assert_eq!(catch_up(second, Duration::from_millis(3)), second);
        assert_eq!(
            catch_up(second, Duration::from_millis(300)),
            Duration::from_millis(700)
        );
        // A stall of several rounds: back on the phase, without reruns.
        assert_eq!(
            catch_up(second, Duration::from_millis(2300)),
            Duration::from_millis(700)
        );
        assert_eq!(catch_up(second, Duration::from_secs(5)), second);
    }

    /// Runs the driver for `d` (taking every report).
    async fn drive(driver: &mut CheckDriver, d: Duration) {
        let end = Instant::now() + d;
        while tokio::time::timeout_at(end, driver.next_report())
            .await
            .is_ok()
        {}
    }

    /// A driver (no helper threads) with four checkers `make(i)` (`at.rs`
    /// = i) added 200 ms apart: on phases 0, 200, 400 and 600 ms of their
    /// 1 s delay_loop from the returned instant.
    async fn four_on_phases(make: impl Fn(u32) -> Arc<dyn Checker>) -> (CheckDriver, Instant) {
        let mut driver = CheckDriver {
            helpers: 0,
            ..CheckDriver::default()
        };
        let t0 = Instant::now();
        for i in 0..4u32 {
            let mut t = task(make(i), "vs");
            t.at.rs = i;
            driver.add(t);
            drive(&mut driver, Duration::from_millis(200)).await;
        }
        (driver, t0)
    }

    /// Records when each attempt starts; always up.
    struct Stamp(u32, Arc<std::sync::Mutex<Vec<(u32, Instant)>>>);

    impl Checker for Stamp {
        fn kind(&self) -> &'static str {
            "TCP_CHECK"
        }
        fn check(&self) -> BoxFuture<'_, CheckOutcome> {
            if let Ok(mut v) = self.1.lock() {
                v.push((self.0, Instant::now()));
            }
            Box::pin(async { CheckOutcome::Up })
        }
    }

    /// Checkers on different phases that a stall made start together go
    /// back to their own phases after that one late attempt, instead of
    /// staying bunched for good (keepalived's "delay after the end" alone
    /// would keep them together).
    #[tokio::test(start_paused = true)]
    async fn a_stall_does_not_bunch_checkers_for_good() {
        let stamps = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (mut driver, t0) = four_on_phases(|i| Arc::new(Stamp(i, Arc::clone(&stamps)))).await;
        drive(&mut driver, Duration::from_millis(1500)).await;
        // The engine stalls for 2.5 s: every checker is due meanwhile.
        tokio::time::advance(Duration::from_millis(2500)).await;
        let stall_end = Instant::now();
        drive(&mut driver, Duration::from_millis(3000)).await;

        let stamps = stamps.lock().unwrap().clone();
        let phase = |t: Instant| (t - t0).as_millis() % 1000;
        for i in 0..4u32 {
            let after: Vec<Instant> = stamps
                .iter()
                .filter(|(c, t)| *c == i && *t >= stall_end)
                .map(|(_, t)| *t)
                .collect();
            assert!(after.len() >= 3, "checker {i}: {after:?}");
            let gaps: Vec<Duration> = after.windows(2).map(|w| w[1] - w[0]).collect();
            assert!(
                gaps.iter().all(|g| *g >= Duration::from_millis(200)),
                "checker {i} ran twice back to back: {gaps:?}"
            );
            assert_eq!(after[0], stall_end, "checker {i} ran as the stall ended");
            // Then back on its phase (i x 200 ms), each later attempt too.
            for t in &after[1..] {
                assert_eq!(phase(*t), u128::from(i) * 200, "checker {i}: {after:?}");
            }
        }
    }

    #[test]
    fn an_answer_read_late_counts_from_its_arrival() {
        let now = Instant::now() + Duration::from_secs(10);
        let ms = Duration::from_millis;
        // Read at once: keepalived's "after the end".
        assert_eq!(answer_arrival(now, ms(50), ms(0)), now);
        assert_eq!(answer_arrival(now, ms(50), ms(4)), now - ms(4));
        assert_eq!(answer_arrival(now, ms(500), ms(300)), now - ms(300));
        // Never before the attempt started.
        assert_eq!(answer_arrival(now, ms(20), ms(300)), now - ms(20));
    }

    /// Its answer arrives 1 ms after the start; the process reads it at
    /// `busy_until` at the earliest (busy with other checks' answers).
    struct LateReader {
        id: u32,
        busy_until: Arc<std::sync::Mutex<Option<Instant>>>,
        stamps: Arc<std::sync::Mutex<Vec<(u32, Instant)>>>,
        waited_us: std::sync::atomic::AtomicU64,
    }

    impl Checker for LateReader {
        fn kind(&self) -> &'static str {
            "HTTP_GET"
        }
        fn check(&self) -> BoxFuture<'_, CheckOutcome> {
            Box::pin(async move {
                let start = Instant::now();
                self.stamps.lock().unwrap().push((self.id, start));
                let answer = start + Duration::from_millis(1);
                let busy = *self.busy_until.lock().unwrap();
                let read_at = busy.map_or(answer, |b| b.max(answer));
                tokio::time::sleep_until(read_at).await;
                let waited = read_at - answer;
                self.waited_us.store(waited.as_micros() as u64, Relaxed);
                CheckOutcome::Up
            })
        }
        fn answer_waited(&self) -> Duration {
            Duration::from_micros(self.waited_us.load(Relaxed))
        }
    }

    /// Checkers on their own phases whose answers were all read late at
    /// the same instant (the process busy) stay on their phases: the next
    /// attempt counts from each answer's arrival, not from the read.
    #[tokio::test(start_paused = true)]
    async fn answers_read_late_together_do_not_bunch_their_checkers() {
        let stamps = Arc::new(std::sync::Mutex::new(Vec::new()));
        let busy_until = Arc::new(std::sync::Mutex::new(None));
        let (mut driver, t0) = four_on_phases(|i| {
            Arc::new(LateReader {
                id: i,
                busy_until: Arc::clone(&busy_until),
                stamps: Arc::clone(&stamps),
                waited_us: Default::default(),
            })
        })
        .await;
        drive(&mut driver, Duration::from_millis(1100)).await;
        // Every answer arriving from now until 2.9 s is read at 2.9 s.
        let busy_end = t0 + Duration::from_millis(2900);
        *busy_until.lock().unwrap() = Some(busy_end);
        drive(&mut driver, busy_end - Instant::now()).await;
        *busy_until.lock().unwrap() = None;
        drive(&mut driver, Duration::from_millis(3000)).await;

        let stamps = stamps.lock().unwrap().clone();
        let phase = |t: Instant| (t - t0).as_millis() % 1000;
        for i in 0..4u32 {
            let after: Vec<u128> = stamps
                .iter()
                .filter(|(c, t)| *c == i && *t > busy_end)
                .map(|(_, t)| phase(*t))
                .collect();
            assert!(after.len() >= 3, "checker {i}: {after:?}");
            // Its own phase (i x 200 ms), plus 1 ms a round (the answer's
            // time: still "delay after the end").
            let own = u128::from(i) * 200;
            assert!(
                after.iter().all(|p| (own..own + 20).contains(p)),
                "checker {i} left its phase {own}: {after:?}"
            );
        }
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
