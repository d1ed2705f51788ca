//! The checker engine: a `CheckDriver` runs every checker (staggered by
//! warmup) from this task, and a central loop folds their state changes into the
//! [`HealthModel`], reprograms IPVS through the reconciler, runs
//! notify/quorum scripts, and answers control messages.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rkeepalived_control::Control;
use rkeepalived_ipvs::{OwnedSet, TimeoutKeeper};
use rkeepalived_script::{ScriptRunner, ScriptSecurity};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::addrwatch::LocalAddrs;
use crate::backend::EngineBackend;
use crate::checkers::{self, Checker};
use crate::driver::{CheckDriver, CheckerTask, Report, SlotId};
use crate::error::CheckError;
use crate::health::{alive_weight, CheckerRef, HealthModel, ScriptEffect};
use crate::metrics::{CheckerMetrics, EngineMetrics};
use crate::spec::{CheckPlan, CheckerSpec};

mod delta_sync;
mod dump;
mod ipvs_sync;
mod reload_delta;
mod reload_match;
mod reload_sync;

/// How often the whole kernel table is dumped and reconciled even without changes.
const FULL_RESYNC_INTERVAL: Duration = Duration::from_secs(60);

/// Builds the checker for a spec (tests inject fakes).
pub type CheckerFactory =
    Arc<dyn Fn(&Arc<CheckerSpec>, &ScriptRunner) -> Arc<dyn Checker> + Send + Sync>;

/// Engine knobs; [`EngineOptions::new`] has the production defaults.
pub struct EngineOptions {
    pub backend: EngineBackend,
    pub checker_factory: CheckerFactory,
    /// How often a failed IPVS sync is retried.
    pub ipvs_retry_interval: Duration,
    /// Upper bound for notify/quorum scripts.
    pub script_timeout: Duration,
    /// On stop, run the omega scripts and remove the IPVS entries we
    /// created (default). `false` is keepalived's `-I`
    /// (`--dont-release-ipvs`): check_daemon.c `checker_terminate_phase1`
    /// then skips `clear_services()`, which both removes the entries and
    /// runs the omega notifies, so the table stays as it is.
    pub release_ipvs_on_stop: bool,
    /// Where announced routes go ([`crate::announce`]); `None`: the
    /// kernel's tables over rtnetlink, opened when a plan announces.
    pub route_backend: Option<Box<dyn crate::announce_nl::RouteBackend>>,
}

impl EngineOptions {
    pub fn new(backend: EngineBackend) -> Self {
        Self {
            backend,
            checker_factory: Arc::new(|spec: &Arc<CheckerSpec>, runner: &ScriptRunner| {
                checkers::build(spec, runner)
            }),
            ipvs_retry_interval: Duration::from_secs(5),
            script_timeout: Duration::from_secs(60),
            release_ipvs_on_stop: true,
            route_backend: None,
        }
    }
}

/// Identity of a checker across reloads (only built while reloading).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CheckerKey {
    vs: Arc<str>,
    rs: rkeepalived_ipvs::DestKey,
    index: u32,
}

struct Engine {
    plan: Arc<CheckPlan>,
    model: HealthModel,
    /// Every running checker; each knows its place in `plan` (no map from
    /// keys: at 10,000 checkers it would cost ~1.5 MB for reloads only).
    checks: CheckDriver,
    scripts: JoinSet<()>,
    backend: EngineBackend,
    owned: OwnedSet,
    runner: ScriptRunner,
    factory: CheckerFactory,
    metrics: Arc<EngineMetrics>,
    addrs: Option<watch::Receiver<LocalAddrs>>,
    ipvs_dirty: bool,
    ipvs_failing: Option<String>,
    /// The table as we last programmed it; lets a health change be applied
    /// without dumping the whole kernel table (thousands of dests). Cleared
    /// on any failure and periodically, forcing a full dump + reconcile.
    kernel_cache: Option<rkeepalived_ipvs::IpvsState>,
    /// Health changes since `kernel_cache` was programmed, applied O(change)
    /// by [`Engine::sync_health`].
    delta: crate::health_delta::HealthDelta,
    /// Which virtual servers of `plan` take per-server updates.
    shape: crate::health_delta::PlanShape,
    /// After a delta reload's health carry-over: the kept virtual servers
    /// (new indices) whose IPVS entries may have changed with it; `None`
    /// when unknown (any other plan change). Read by
    /// [`Engine::sync_reload_delta`].
    reload_touched: Option<Vec<u32>>,
    /// Bumped by every batch of IPVS ops sent: a background dump started
    /// before an op may not show it.
    ops_generation: u64,
    /// The background resync's dump in progress, with the generation it
    /// started at.
    resync: Option<(u64, ResyncTask)>,
    ipvs_retry_interval: Duration,
    script_timeout: Duration,
    release_ipvs_on_stop: bool,
    /// keepalived's saved kernel timeouts (`lvs_timeouts`), restored on
    /// stop and on a reload without `lvs_timeouts`.
    timeouts: TimeoutKeeper,
    /// The timeouts of the current plan are still to be sent (at start, after
    /// each reload, and again after a failure).
    timeouts_pending: bool,
    /// Last failure to set them (logged once).
    timeouts_failing: Option<String>,
    /// `lvs_flush`: the whole table is flushed before the first sync.
    flush_pending: bool,
    /// `lvs_sync_daemon` without an instance: (re)start both sync daemons
    /// at the next sync.
    syncd_pending: bool,
    started: Instant,
    /// `notify_fifo` / `lvs_notify_fifo` event lines.
    fifos: crate::events::EventFifos,
    /// Alert e-mails ([`crate::mail`]), sent in the background.
    mail: Option<rkeepalived_smtp::Mailer>,
    /// Real servers a reload removed, kept at weight 0 (`drain_on_remove`).
    drains: crate::drain::Drainer<tokio::time::Instant>,
    /// BFD_CHECK checkers that got a BFD event (keepalived's `has_run`).
    bfd_seen: std::collections::HashSet<crate::health::CheckerRef>,
    /// The last state of every BFD session (replayed after a reload).
    bfd_states: HashMap<String, bool>,
    /// Route announcement (`announce_route`), once a plan has any.
    routes: Option<crate::announce::Announcer>,
    /// The injected route backend, until a plan announces.
    route_backend: Option<Box<dyn crate::announce_nl::RouteBackend>>,
    /// Delta reloads ([`delta`]): the digest of the configuration the
    /// plan is, once the supervisor named it.
    config_digest: Option<String>,
    /// Whether the last configuration given in full was applied (a digest
    /// named after a rejected one is not ours).
    last_reload_ok: bool,
}

type ResyncTask =
    tokio::task::JoinHandle<Result<rkeepalived_ipvs::IpvsState, rkeepalived_ipvs::IpvsError>>;

/// The background resync's dump, once it is done (never without one).
async fn resync_done(
    task: &mut Option<(u64, ResyncTask)>,
) -> (
    u64,
    Result<rkeepalived_ipvs::IpvsState, rkeepalived_ipvs::IpvsError>,
) {
    let Some((generation, handle)) = task.as_mut() else {
        return std::future::pending().await;
    };
    let generation = *generation;
    let result = handle.await.unwrap_or_else(|e| {
        Err(rkeepalived_ipvs::IpvsError::InvalidRequest(format!(
            "resync dump task failed: {e}"
        )))
    });
    *task = None;
    (generation, result)
}

/// Sleep until `at` (forever without one).
async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Run the engine on `plan` until `Control::Stop` (or the control channel closes).
pub async fn run_plan(
    plan: CheckPlan,
    mut ctl: mpsc::Receiver<Control>,
    opts: EngineOptions,
) -> Result<(), CheckError> {
    let mut engine = Engine::new(&plan, opts);
    let total: usize = plan
        .virtual_servers
        .iter()
        .flat_map(|v| v.real_servers.iter())
        .map(|r| r.checkers.len())
        .sum();
    tracing::info!(
        virtual_servers = plan.virtual_servers.len(),
        checkers = total,
        "health checker starting"
    );
    engine.apply_plan(plan, true);
    for line in engine.model.on_start_fifo_lines(&engine.plan) {
        engine.fifos.write(&line);
    }
    engine.sync_ipvs();
    engine.sync_routes();
    crate::sys::release_free_memory();
    let mut retry_at = tokio::time::Instant::now() + engine.ipvs_retry_interval;
    let mut resync = tokio::time::interval_at(
        tokio::time::Instant::now() + FULL_RESYNC_INTERVAL,
        FULL_RESYNC_INTERVAL,
    );
    resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            msg = ctl.recv() => match msg {
                None | Some(Control::Stop) => {
                    engine.stop().await;
                    return Ok(());
                }
                Some(Control::Reload(cfg)) => engine.reload(&cfg),
                Some(Control::Delta(msg)) => engine.reload_delta(msg),
                Some(Control::DumpData(reply)) => { let _ = reply.send(engine.dump_data()); }
                // keepalived clears no checker counters (its checker never gets SIGSTATS_CLEAR).
                Some(Control::DumpStats(reply) | Control::DumpStatsClear(reply)) => { let _ = reply.send(engine.dump_stats()); }
                Some(Control::DumpJson(reply)) => { let _ = reply.send(engine.dump_json()); }
                Some(Control::DumpKeepalivedJson(reply)) => { let _ = reply.send(format!("{:#}\n", engine.dump_json())); }
                Some(Control::Metrics(reply)) => { let _ = reply.send(engine.metrics_text()); }
                Some(Control::Bfd { name, up }) => {
                    engine.bfd_event(&name, up);
                    if engine.ipvs_dirty {
                        engine.sync_health();
                        engine.sync_routes();
                        retry_at = tokio::time::Instant::now() + engine.ipvs_retry_interval;
                    }
                }
                Some(Control::Drain(reply)) => { let _ = reply.send(engine.drain(true)); }
                Some(Control::Undrain(reply)) => { let _ = reply.send(engine.drain(false)); }
            },
            report = engine.checks.next_report() => {
                // This verdict reaches IPVS first (O(change), see
                // sync_health), before the results that came in meanwhile
                // are settled; those then go in one more pass.
                engine.apply_report(report);
                if engine.ipvs_dirty {
                    engine.sync_health();
                    engine.sync_routes();
                    retry_at = tokio::time::Instant::now() + engine.ipvs_retry_interval;
                }
                for report in engine.checks.ready_reports() {
                    engine.apply_report(report);
                }
                if engine.ipvs_dirty {
                    engine.sync_health();
                    engine.sync_routes();
                    retry_at = tokio::time::Instant::now() + engine.ipvs_retry_interval;
                }
            }
            _ = resync.tick() => {
                // Periodic full dump + reconcile: repairs entries changed
                // behind our back, in the background (see start_resync).
                engine.start_resync();
                if let Some(r) = &mut engine.routes {
                    r.invalidate();
                }
                engine.sync_routes();
            }
            _ = tokio::time::sleep_until(retry_at), if engine.ipvs_dirty || engine.routes_dirty() => {
                if engine.ipvs_dirty {
                    engine.sync_ipvs();
                }
                engine.sync_routes();
                retry_at = tokio::time::Instant::now() + engine.ipvs_retry_interval;
            }
            (generation, dump) = resync_done(&mut engine.resync) => {
                engine.finish_resync(generation, dump);
                if engine.ipvs_dirty {
                    retry_at = tokio::time::Instant::now() + engine.ipvs_retry_interval;
                }
            }
            Some(_) = engine.scripts.join_next(), if !engine.scripts.is_empty() => {}
            _ = sleep_until_opt(engine.drains.next_wakeup()), if !engine.drains.is_empty() => {
                engine.poll_drains();
            }
        }
    }
}

impl Engine {
    /// The engine before its first plan (`run_plan` applies it).
    fn new(plan: &CheckPlan, opts: EngineOptions) -> Engine {
        let runner = ScriptRunner::new(
            plan.script_security
                .clone()
                .unwrap_or_else(|| ScriptSecurity::new(false, None)),
        );
        Engine {
            model: HealthModel::new(plan),
            plan: Arc::new(CheckPlan::default()),
            checks: CheckDriver::new(),
            scripts: JoinSet::new(),
            backend: opts.backend,
            // Entries other tools add are never ours, `lvs_flush` or not:
            // keepalived flushes once at start and leaves later ones alone.
            owned: OwnedSet::default(),
            runner,
            factory: opts.checker_factory,
            metrics: Arc::new(EngineMetrics::default()),
            addrs: None,
            ipvs_dirty: true,
            ipvs_failing: None,
            kernel_cache: None,
            delta: Default::default(),
            shape: Default::default(),
            reload_touched: None,
            ops_generation: 0,
            resync: None,
            ipvs_retry_interval: opts.ipvs_retry_interval,
            script_timeout: opts.script_timeout,
            release_ipvs_on_stop: opts.release_ipvs_on_stop,
            timeouts: TimeoutKeeper::new(),
            timeouts_pending: true,
            timeouts_failing: None,
            // check_daemon.c start_check(): `if (!reload && global_data->lvs_flush) ipvs_flush_cmd();`
            flush_pending: plan.lvs_flush,
            syncd_pending: false,
            started: Instant::now(),
            fifos: Default::default(),
            mail: None,
            drains: Default::default(),
            bfd_seen: Default::default(),
            bfd_states: Default::default(),
            routes: None,
            route_backend: opts.route_backend,
            config_digest: None,
            last_reload_ok: true,
        }
    }

    /// `Control::Reload`: the new configuration's plan, applied in place;
    /// a plan that cannot be built leaves the running one.
    fn reload(&mut self, cfg: &rkeepalived_config::Config) {
        let started = Instant::now();
        let plan = crate::plan::from_config(cfg);
        self.config_digest = None;
        self.last_reload_ok = self.reload_plan(plan, started, None);
    }

    /// A reload's new plan (full or delta, built since `started`), applied
    /// in place; a plan that could not be built leaves the running one.
    /// `layout`: a delta's, which virtual servers are the running plan's
    /// (see [`Engine::match_delta`]). Whether it was applied.
    fn reload_plan(
        &mut self,
        plan: Result<CheckPlan, crate::error::PlanError>,
        started: Instant,
        layout: Option<&[rkeepalived_control::delta::VsSlot]>,
    ) -> bool {
        match plan {
            Ok(plan) => {
                let planned = started.elapsed();
                self.metrics.reloads.fetch_add(1, Relaxed);
                // drain_on_remove: the plan's view (every configured dest: 36,544
                // set entries at keepalived issue #2318's size) only when a
                // virtual server drains or dests are draining.
                let drains = !self.drains.is_empty()
                    || plan
                        .virtual_servers
                        .iter()
                        .any(|v| v.drain_on_remove.is_some() && !v.keys.is_empty());
                let view = drains.then(|| crate::drain::PlanView::of(&plan));
                let programmed = drains.then(|| self.desired());
                // A delta's IPVS side can be O(change) when the programmed
                // table was the running plan's exactly (no health change
                // pending, nothing failed) and no drain is involved.
                let old_plan = (layout.is_some() && programmed.is_none() && !self.ipvs_dirty)
                    .then(|| Arc::clone(&self.plan));
                self.apply_plan_with(plan, false, layout);
                if let (Some(old), Some(view)) = (programmed, view) {
                    let events = self.drains.reload(&old, &view, tokio::time::Instant::now());
                    events.iter().for_each(|e| tracing::info!("{e}"));
                }
                let matched = started.elapsed();
                let fast = match (old_plan, layout) {
                    (Some(old), Some(layout)) => self.sync_reload_delta(&old, layout),
                    _ => None,
                };
                let ops = match fast {
                    Some(ops) => ops,
                    None => self.sync_ipvs(),
                };
                self.metrics.ipvs_ops_last_reload.store(ops as u64, Relaxed);
                // Phases of the checker's side of a reload (the supervisor
                // logs the parse): plan = the new check plan from the
                // configuration, checkers = matching the running checkers
                // to it, IPVS = diff against the programmed table + apply.
                tracing::info!(
                    "reload: planned in {:.1} ms, checkers matched in {:.1} ms, applied {ops} IPVS change(s) in {:.1} ms",
                    ipvs_sync::ms(planned),
                    ipvs_sync::ms(matched - planned),
                    ipvs_sync::ms(started.elapsed() - matched)
                );
                self.sync_routes();
                crate::sys::release_free_memory();
                true
            }
            Err(e) => {
                self.metrics.reload_failures.fetch_add(1, Relaxed);
                tracing::error!("reload rejected, keeping the running configuration: {e}");
                false
            }
        }
    }

    /// Switch to `plan`, keeping unchanged checkers (task, state, timers)
    /// and the health state of everything that still exists.
    /// A BFD session changed state (check/check_bfd.c
    /// `bfd_check_handle_event()`); see [`crate::bfd_check`].
    fn bfd_event(&mut self, name: &str, up: bool) {
        self.bfd_states.insert(name.to_string(), up);
        self.bfd_apply(name, up, false);
    }

    fn bfd_apply(&mut self, name: &str, up: bool, replay: bool) {
        let changes = crate::bfd_check::on_event(
            &self.plan,
            &self.model,
            &mut self.bfd_seen,
            name,
            up,
            replay,
        );
        for (at, line) in changes {
            tracing::info!("{line}");
            self.apply_report(crate::driver::Report {
                at,
                shared: Vec::new(),
                up,
                weight: None,
            });
        }
    }

    fn apply_plan(&mut self, plan: CheckPlan, initial: bool) {
        self.apply_plan_with(plan, initial, None);
    }

    /// [`Engine::apply_plan`]; with a delta's `layout`, matching only the
    /// checkers of the virtual servers it changed when it can
    /// ([`Engine::match_delta`]), else all of them ([`Engine::match_all`]).
    fn apply_plan_with(
        &mut self,
        plan: CheckPlan,
        initial: bool,
        layout: Option<&[rkeepalived_control::delta::VsSlot]>,
    ) {
        // Checker positions change with the plan: every BFD_CHECK counts
        // as not run until its next event.
        self.bfd_seen.clear();
        let model = match layout {
            _ if initial => HealthModel::new(&plan),
            // A delta: the kept virtual servers' health moves over
            // (self.model is replaced below).
            Some(layout) => {
                let old = std::mem::replace(
                    &mut self.model,
                    HealthModel {
                        virtual_servers: Vec::new(),
                    },
                );
                let shape = &self.shape;
                let (model, touched) =
                    HealthModel::carry_over_delta_touched(&plan, layout, &self.plan, old, |i| {
                        shape.distinct(i)
                    });
                self.reload_touched = touched;
                model
            }
            None => HealthModel::carry_over(&plan, &self.plan, &self.model),
        };
        if initial || layout.is_none() {
            self.reload_touched = None;
        }
        self.apply_process_settings(&plan);
        let fast = match layout {
            Some(layout) if !initial => self.match_delta(&plan, layout, &model),
            _ => None,
        };
        let (kept, started, stopped) = match fast {
            Some(counts) => counts,
            None => self.match_all(&plan, &model),
        };
        if !initial {
            tracing::info!(kept, started, stopped, "configuration reloaded");
        }
        self.model = model;
        crate::mail::refresh(&mut self.mail, &self.plan, &plan);
        let old_plan = std::mem::replace(&mut self.plan, Arc::new(plan));
        self.shape = match layout {
            Some(layout) if !initial => {
                crate::health_delta::PlanShape::of_delta(&self.plan, layout, &self.shape, &old_plan)
            }
            _ => crate::health_delta::PlanShape::of(&self.plan),
        };
        drop(old_plan);
        self.delta.mark_full();
        self.ipvs_dirty = true;
        let states: Vec<(String, bool)> = self
            .bfd_states
            .iter()
            .map(|(n, u)| (n.clone(), *u))
            .collect();
        for (name, up) in states {
            self.bfd_apply(&name, up, true);
        }
        self.plan_routes();
    }

    /// Matches every checker of `plan` to the running ones (kept when its
    /// identity and spec are the same, one probe per distinct target),
    /// starts the new ones and stops the rest: (kept, started, stopped).
    fn match_all(&mut self, plan: &CheckPlan, model: &HealthModel) -> (usize, usize, usize) {
        let (mut old, candidates) = self.running_checkers();
        // One probe per distinct target: checkers with equal specs (and the
        // same ha_suspend addresses) share one slot, found by destination
        // and kind, then compared in full.
        let total = plan
            .virtual_servers
            .iter()
            .flat_map(|v| v.real_servers.iter())
            .map(|r| r.checkers.len())
            .sum();
        // Sized for every checker at once (no rehashing while 36,544 of
        // them are matched at keepalived issue #2318's size).
        let mut m = reload_match::Matching::with_capacity(total, 0);
        self.checks.reserve(total);
        for (vi, vs) in plan.virtual_servers.iter().enumerate() {
            self.match_virtual_server(vi, vs, model, &mut old, &mut m);
        }
        let mut stopped = 0usize;
        for id in candidates {
            if !m.in_use.contains(&id) {
                stopped += 1;
                self.checks.remove(id);
            }
        }
        (m.kept, m.started, stopped)
    }

    /// The process-wide parts of `plan`: script security, notify FIFOs,
    /// `lvs_timeouts`, the LVS sync daemons, the address watch of
    /// `ha_suspend` (before `self.plan` becomes `plan`).
    fn apply_process_settings(&mut self, plan: &CheckPlan) {
        if let Some(sec) = &plan.script_security {
            if Some(sec) != self.plan.script_security.as_ref() {
                self.runner = ScriptRunner::new(sec.clone());
            }
        }
        self.fifos.configure(&plan.notify_fifos, &self.runner);
        // start_check() on reload: set the timeouts again (or restore the
        // saved ones when lvs_timeouts went away); lvs_flush is not repeated.
        self.timeouts_pending = true;
        // start_check(): stop any sync daemons left over (at start) or
        // configured differently (reload: ipvs_syncd_changed()), then start
        // master and backup. A reload that drops lvs_sync_daemon leaves them
        // running, as keepalived does.
        if plan.checker_syncd.is_some()
            && rkeepalived_ipvs::syncd::changed(
                self.plan.checker_syncd.as_ref(),
                plan.checker_syncd.as_ref(),
            )
        {
            self.syncd_pending = true;
        }
        if self.addrs.is_none() && plan.virtual_servers.iter().any(|v| v.ha_suspend) {
            self.addrs = Some(crate::addrwatch::spawn());
        }
    }

    /// The running checkers by identity in the current plan, and every
    /// running slot.
    fn running_checkers(&self) -> (HashMap<CheckerKey, SlotId>, Vec<SlotId>) {
        // Running checkers by identity in the old plan: every user of a
        // shared probe maps to its slot.
        let mut old: HashMap<CheckerKey, SlotId> = HashMap::with_capacity(self.checks.len());
        // Every running slot; those no checker of the new plan uses stop at
        // the end (a real server listed twice used to run twice: its twin
        // slots end here too).
        let mut candidates: Vec<SlotId> = Vec::with_capacity(self.checks.len());
        // One name per virtual server, shared by its checkers' keys.
        let names: Vec<Arc<str>> = self
            .plan
            .virtual_servers
            .iter()
            .map(|v| Arc::from(v.name.as_str()))
            .collect();
        for (id, task) in self.checks.tasks() {
            candidates.push(id);
            for at in std::iter::once(&task.at).chain(self.checks.shared(id)) {
                let vs = &self.plan.virtual_servers[at.vs as usize];
                let key = CheckerKey {
                    vs: Arc::clone(&names[at.vs as usize]),
                    rs: vs.real_servers[at.rs as usize].dest.key(),
                    index: at.checker,
                };
                old.insert(key, id);
            }
        }
        (old, candidates)
    }

    /// Route announcement for the current plan: started with the first
    /// plan that announces, kept (to withdraw) once started.
    fn plan_routes(&mut self) {
        if let Some(r) = &mut self.routes {
            r.set_plan(&self.plan);
            return;
        }
        if self.plan.announce.is_none() {
            return;
        }
        let backend = match self.route_backend.take() {
            Some(b) => b,
            None => match crate::announce_nl::NetlinkRoutes::new() {
                Ok(b) => Box::new(b),
                Err(e) => {
                    tracing::error!("route announcement unavailable: {e}; the virtual servers are not announced");
                    return;
                }
            },
        };
        self.routes = Some(crate::announce::Announcer::new(backend, &self.plan));
    }

    /// `--signum=DRAIN` / `UNDRAIN`: withdraw every announced route and
    /// keep them withdrawn (checks, IPVS and established connections go on,
    /// the routers move new flows to the other directors), or announce
    /// again. Survives reloads; a respawned checker announces again.
    fn drain(&mut self, on: bool) -> String {
        let Some(routes) = &mut self.routes else {
            return "no route is announced (no virtual_server has announce_route)".into();
        };
        if on {
            let n = routes.withdraw_all();
            tracing::info!(
                routes = n,
                "drain: announced routes withdrawn; IPVS keeps serving"
            );
            format!("drained: {n} route(s) withdrawn\n")
        } else {
            routes.resume();
            self.sync_routes();
            let n = self.routes.as_ref().map_or(0, |r| r.announced().len());
            tracing::info!(routes = n, "undrain: routes announced again");
            format!("undrained: {n} route(s) announced\n")
        }
    }

    fn routes_dirty(&self) -> bool {
        self.routes.as_ref().is_some_and(|r| r.dirty)
    }

    /// Announce the VIPs of the virtual servers with quorum, withdraw the others.
    fn sync_routes(&mut self) {
        if let Some(r) = &mut self.routes {
            r.sync(crate::announce::desired(&self.plan, &self.model));
        }
    }

    fn spawn_checker(
        &mut self,
        at: CheckerRef,
        vs: Arc<str>,
        spec: Arc<CheckerSpec>,
        suspend_on: Option<Arc<[IpAddr]>>,
        up: bool,
    ) -> SlotId {
        let checker = (self.factory)(&spec, &self.runner);
        let suspend = suspend_on.and_then(|vips| self.addrs.clone().map(|rx| Box::new((rx, vips))));
        self.checks.add(CheckerTask {
            at,
            vs,
            checker,
            spec,
            initially_up: up,
            metrics: CheckerMetrics::new(up),
            suspend,
        })
    }

    fn apply_report(&mut self, report: Report) {
        // The driver drops reports of removed checkers and routes the rest
        // to their place in the current plan.
        for at in std::iter::once(report.at).chain(report.shared) {
            let before = crate::mail::Before::take(&self.model, at);
            let update = self
                .model
                .update_checker(&self.plan, at, report.up, report.weight);
            crate::mail::after_report(self.mail.as_ref(), &self.plan, &self.model, at, before);
            if update.changed {
                self.ipvs_dirty = true;
                self.delta.record(at, &update);
            }
            for line in &update.fifo_lines {
                self.fifos.write(line);
            }
            self.run_scripts(update.effects);
        }
    }

    /// Run the scripts of one transition in order (notify before quorum),
    /// in the background; different transitions run concurrently.
    fn run_scripts(&mut self, effects: Vec<ScriptEffect>) {
        if effects.is_empty() {
            return;
        }
        let runner = self.runner.clone();
        let metrics = Arc::clone(&self.metrics);
        let timeout = self.script_timeout;
        self.scripts.spawn(async move {
            for effect in effects {
                metrics.script_runs.fetch_add(1, Relaxed);
                match runner.run(&effect.script, &[], timeout).await {
                    Ok(out) if out.success() => tracing::debug!(reason = ?effect.reason, script = %effect.script, "script done"),
                    Ok(out) => {
                        metrics.script_failures.fetch_add(1, Relaxed);
                        tracing::warn!(reason = ?effect.reason, script = %effect.script, status = ?out.status, "script failed");
                    }
                    Err(e) => {
                        metrics.script_failures.fetch_add(1, Relaxed);
                        tracing::error!(reason = ?effect.reason, script = %effect.script, "script could not run: {e}");
                    }
                }
            }
        });
    }
}
