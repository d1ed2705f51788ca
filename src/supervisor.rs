//! The parent process: starts one re-exec'd child per role with work,
//! hands each the validated config over a socketpair, respawns crashed
//! children with exponential backoff, and turns signals into reloads,
//! dumps and a clean stop. It owns no data-path sockets.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::Signal;
use rkeepalived_config::Config;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::cli::{Cli, Role};
use crate::config_source;
use crate::ipc::{ConfigPayload, ConfigWire, FromChild, IpcError, Query, Reply, ToChild};
use crate::metrics::ParentMetrics;
use crate::metrics_http;
use crate::notify::Notifier;
use crate::recovery::{self, Journal};
use crate::recovery_ipvs::{self, IpvsJournal};
use crate::reload_loader::{self, LoadResult, PendingLoad};
use crate::startup_scripts::{StartStopScripts, Which};
use crate::{dump, pidfile, status, sys};

mod bfd_relay;
mod children;
mod link;
mod reload;
mod shared;

use link::{ChildLink, Event};
pub use shared::Shared;
use shared::{ChildView, ReloadRecord};

/// First respawn delay; doubles per consecutive failure up to the max.
pub const RESPAWN_BASE: Duration = Duration::from_millis(200);
pub const RESPAWN_MAX: Duration = Duration::from_secs(30);
/// A child that ran this long is considered healthy again (backoff reset).
pub const HEALTHY_RUN: Duration = Duration::from_secs(30);
const ASK_TIMEOUT: Duration = Duration::from_secs(8);
const KILL_GRACE: Duration = Duration::from_secs(5);
/// Unanswered liveness probes in a row before a child is restarted.
pub const MISSED_PROBES_LIMIT: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("cannot install signal handler: {0}")]
    Signal(std::io::Error),
    #[error("cannot start {role} child: {source}")]
    Spawn { role: Role, source: std::io::Error },
    #[error("{role} child exited and --dont-respawn is set")]
    ChildDied { role: Role },
    #[error("status socket {path}: {source}")]
    StatusSocket {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("metrics listener {addr}: {source}")]
    MetricsListen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot encode the configuration for the children: {0}")]
    Config(crate::ipc::IpcError),
}

/// Exponential respawn backoff for the n-th consecutive failure (0-based).
pub fn respawn_delay(consecutive_failures: u32) -> Duration {
    let factor = 1u32
        .checked_shl(consecutive_failures.min(16))
        .unwrap_or(u32::MAX);
    RESPAWN_BASE.saturating_mul(factor).min(RESPAWN_MAX)
}

/// Which roles to run: `-P`/`-C` restrict, `--all` forces, otherwise only
/// the roles whose configuration has work (as keepalived).
pub fn roles_to_run(cli: &Cli, cfg: &Config) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| match r {
            Role::Vrrp => !cli.check_only || cli.vrrp_only,
            Role::Checker => !cli.vrrp_only || cli.check_only,
            // core/main.c: only -B clears DAEMON_BFD (-P / -C do not).
            Role::Bfd => !cli.no_bfd,
        })
        .filter(|r| cli.all || config_source::role_has_work(cfg, *r))
        .collect()
}

struct Slot {
    generation: u64,
    pid: Option<u32>,
    kill: Option<mpsc::Sender<Signal>>,
    started: Instant,
    consecutive_failures: u32,
    respawn_at: Option<tokio::time::Instant>,
    /// Liveness: a probe is in flight / how many in a row went unanswered.
    probing: bool,
    missed_probes: u32,
}

/// The running configuration as the supervisor keeps it: the wire form it
/// hands to children (see [`ConfigWire`]) and the few settings it uses
/// itself; the model is dropped.
struct RunningConfig {
    wire: ConfigWire,
    /// What the VRRP and BFD children get (reload_delta.rs
    /// `for_other_children`): no virtual servers.
    others_wire: ConfigWire,
    /// global_defs `metrics_listen` (+ `metrics_serve_status`,
    /// `metrics_web_config`) and `status_socket`.
    metrics: metrics_http::EndpointSettings,
    status_socket: Option<PathBuf>,
    /// VIPs, routes and rules of the VRRP instances (for the journal).
    vrrp_owned: recovery::Owned,
    /// IPVS entries of the virtual servers (for the checker's journal).
    ipvs_owned: recovery_ipvs::IpvsOwned,
    /// global_defs `startup_script` / `shutdown_script`.
    scripts: StartStopScripts,
    /// `net_namespace`, `instance`, process names, `data_use_instance`.
    identity: rkeepalived_config::model::DaemonIdentity,
    /// For keepalived_parent.data (SIGUSR1).
    global_defs: rkeepalived_config::model::GlobalDefs,
    /// Which children each BFD session's states go to.
    bfd_routes: std::collections::HashMap<String, (bool, bool)>,
    /// What the next reload's delta is computed against (reload_delta.rs).
    fingerprints: crate::reload_delta::KeptFingerprints,
}

impl RunningConfig {
    /// The configuration `role`'s child gets.
    fn wire_for(&self, role: Role) -> &ConfigWire {
        match role {
            Role::Checker => &self.wire,
            Role::Vrrp | Role::Bfd => &self.others_wire,
        }
    }

    /// `reparse`: the start's re-parse cache, whose fingerprint slots the
    /// background fingerprinting fills (reload_delta.rs).
    fn new(
        config: Config,
        fingerprints: Option<rkeepalived_control::delta::Fingerprints>,
        roles: &[Role],
        reparse: Option<Arc<rkeepalived_config::ReparseCache>>,
    ) -> Result<RunningConfig, IpcError> {
        let (wire, ipvs_owned) = wire_and_ipvs_owned(&config);
        let mut running = RunningConfig {
            fingerprints: crate::reload_delta::KeptFingerprints::Ready(Default::default()),
            others_wire: ConfigWire::new(&crate::reload_delta::for_other_children(
                &config,
                roles.contains(&Role::Checker),
            ))?,
            wire: wire?,
            metrics: config_source::metrics_endpoint(&config),
            status_socket: config_source::status_socket(&config),
            vrrp_owned: recovery::Owned::of(&config),
            ipvs_owned,
            scripts: StartStopScripts::of(&config.global_defs),
            identity: config.global_defs.identity.clone(),
            global_defs: config.global_defs.clone(),
            bfd_routes: bfd_relay::routes(&config),
        };
        match fingerprints {
            Some(fp) => {
                running.fingerprints = crate::reload_delta::KeptFingerprints::Ready(fp);
                drop(config);
            }
            // The thread frees the model when it is done.
            None => {
                running.fingerprints =
                    crate::reload_delta::KeptFingerprints::background(config, reparse)
            }
        }
        // The model and the parser's scratch (tokens, block tree: ~40 MB
        // with 10,000 real servers) are gone: give their pages back.
        crate::sys::release_free_memory();
        Ok(running)
    }
}

/// The configuration's wire form and its IPVS entries, side by side: each
/// is a pass over every real server (the JSON encoding; a check plan), the
/// two largest parts of the supervisor's start before the checker child
/// can get its configuration (~0.1 s each at keepalived issue #2318 size).
/// The owned set is built on a thread of its own (its plan's pages are
/// then freed whole, as `rkeepalived_check::plan_apart` does for the
/// checker's); on this one if no thread can be started.
fn wire_and_ipvs_owned(
    config: &Config,
) -> (Result<ConfigWire, IpcError>, recovery_ipvs::IpvsOwned) {
    if config.virtual_servers.is_empty() {
        return (ConfigWire::new(config), recovery_ipvs::IpvsOwned::default());
    }
    std::thread::scope(|s| {
        let owned = std::thread::Builder::new()
            .name("ipvs-owned".into())
            .spawn_scoped(s, || recovery_ipvs::IpvsOwned::of(config));
        let wire = ConfigWire::new(config);
        let owned = match owned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => recovery_ipvs::IpvsOwned::of(config),
        };
        (wire, owned)
    })
}

/// Everything the supervisor needs besides the config.
pub struct Supervisor {
    cli: Cli,
    config: RunningConfig,
    roles: Vec<Role>,
    slots: BTreeMap<Role, Slot>,
    shared: Arc<Shared>,
    events_tx: mpsc::Sender<Event>,
    events: mpsc::Receiver<Event>,
    notifier: Notifier,
    awaiting_ready: HashSet<Role>,
    ready_sent: bool,
    stopping: bool,
    next_generation: u64,
    status_server: Option<status::Server>,
    metrics_server: Option<metrics_http::Endpoint>,
    /// `-x`: the AgentX subagent.
    snmp: Option<crate::snmp_agent::Agent>,
    /// A reload being parsed off the event loop, and whether another
    /// SIGHUP arrived meanwhile (it reloads again once this one is done).
    reload_load: Option<PendingLoad>,
    reload_again: bool,
    /// What VRRP children were handed (recovery.rs): the next child removes
    /// what a killed one may have left.
    journal: Journal,
    ipvs_journal: IpvsJournal,
    /// The checker child was started before the configuration's digest
    /// was known: it is named before the next delta (reload_delta.rs).
    digest_owed: bool,
    /// BFD session states from the BFD child to the others.
    bfd: bfd_relay::BfdRelay,
    /// The running configuration's re-parse cache: a reload parses only
    /// the virtual_server blocks that changed (rkeepalived_config::reparse).
    reparse: Option<Arc<rkeepalived_config::ReparseCache>>,
}

impl Supervisor {
    /// `reparse`: the start's re-parse cache (config_source.rs
    /// `load_config_reusing`), for the first reload.
    pub fn new(
        cli: Cli,
        config: Config,
        reparse: Option<Arc<rkeepalived_config::ReparseCache>>,
    ) -> Result<Supervisor, SupervisorError> {
        let roles = roles_to_run(&cli, &config);
        let started = std::time::Instant::now();
        // Fingerprinted in the background (reload_delta::KeptFingerprints).
        let mut config = RunningConfig::new(config, None, &roles, reparse.clone())
            .map_err(SupervisorError::Config)?;
        tracing::debug!(
            "configuration encoded for the children in {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        config.identity =
            crate::reload_identity::effective(std::mem::take(&mut config.identity), &cli);
        let (events_tx, events) = mpsc::channel(256);
        let started_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let shared = Arc::new(Shared {
            metrics: ParentMetrics::new(),
            children: Mutex::new(BTreeMap::new()),
            restarts: Mutex::new(BTreeMap::new()),
            roles: Mutex::new(roles.clone()),
            reloads: Mutex::new(ReloadRecord::default()),
            started: Instant::now(),
            started_unix,
            config_file: cli.config_file.clone(),
        });
        let journal = Journal::new(cli.pid_file_for(Role::Vrrp), recovery::JOURNAL_STEM);
        let ipvs_journal =
            IpvsJournal::new(cli.pid_file_for(Role::Checker), recovery_ipvs::JOURNAL_STEM);
        let bfd = bfd_relay::BfdRelay::new(config.bfd_routes.clone());
        Ok(Supervisor {
            bfd,
            cli,
            config,
            roles,
            slots: BTreeMap::new(),
            shared,
            events_tx,
            events,
            notifier: Notifier::from_env(),
            awaiting_ready: HashSet::new(),
            ready_sent: false,
            stopping: false,
            next_generation: 1,
            status_server: None,
            metrics_server: None,
            snmp: None,
            reload_load: None,
            reload_again: false,
            journal,
            ipvs_journal,
            digest_owed: false,
            reparse,
        })
    }

    fn status_socket_path(&self) -> PathBuf {
        status::socket_path(
            self.cli.status_socket.as_deref(),
            self.config.status_socket.as_deref(),
            self.cli.default_status_socket(),
        )
    }

    /// Runs until SIGTERM/SIGINT (Ok) or a fatal condition.
    pub async fn run(mut self) -> Result<(), SupervisorError> {
        let mut sigterm = signal(SignalKind::terminate()).map_err(SupervisorError::Signal)?;
        let mut sigint = signal(SignalKind::interrupt()).map_err(SupervisorError::Signal)?;
        let mut sighup = signal(SignalKind::hangup()).map_err(SupervisorError::Signal)?;
        let mut sigusr1 = signal(SignalKind::user_defined1()).map_err(SupervisorError::Signal)?;
        let mut sigusr2 = signal(SignalKind::user_defined2()).map_err(SupervisorError::Signal)?;
        let mut sigjson =
            signal(SignalKind::from_raw(crate::cli::sigjson())).map_err(SupervisorError::Signal)?;
        let mut sigstats_clear = signal(SignalKind::from_raw(crate::cli::sigstats_clear()))
            .map_err(SupervisorError::Signal)?;
        let mut sigdrain = signal(SignalKind::from_raw(crate::cli::sigdrain()))
            .map_err(SupervisorError::Signal)?;
        let mut sigundrain = signal(SignalKind::from_raw(crate::cli::sigundrain()))
            .map_err(SupervisorError::Signal)?;

        crate::limits::raise_nofile_limit();
        self.bind_status_socket()?;
        self.bind_metrics().await;
        self.snmp = crate::snmp_agent::Agent::start(
            &self.cli,
            self.shared.clone(),
            &self.config.global_defs,
            &self.config.wire,
        );

        // core/main.c: the startup script runs before any child starts. A
        // stop request meanwhile kills it and stops without children.
        let stop_early = tokio::select! {
            _ = self.config.scripts.run(Which::Startup, self.cli.log_detail) => false,
            _ = sigterm.recv() => { tracing::info!("SIGTERM: stopping"); tracing::info!("Stopping"); true }
            _ = sigint.recv() => { tracing::info!("SIGINT: stopping"); tracing::info!("Stopping"); true }
        };
        if stop_early {
            self.notifier.stopping();
            self.config
                .scripts
                .run(Which::Shutdown, self.cli.log_detail)
                .await;
            return Ok(());
        }

        for role in self.roles.clone() {
            self.start_child(role).await;
        }
        if self.roles.is_empty() {
            tracing::warn!(
                "configuration has nothing to run (no vrrp_instance, no virtual_server)"
            );
        }
        self.check_ready();
        let watchdog = crate::notify::watchdog_interval();
        let mut watchdog_tick =
            tokio::time::interval(watchdog.unwrap_or(Duration::from_secs(3600)));

        let liveness = Duration::from_secs(self.cli.liveness_interval_secs.max(1));
        let mut liveness_tick =
            tokio::time::interval_at(tokio::time::Instant::now() + liveness, liveness);
        liveness_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        let outcome = loop {
            let next_respawn = self.slots.values().filter_map(|s| s.respawn_at).min();
            let respawn_sleep = async {
                match next_respawn {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = sigterm.recv() => { tracing::info!("SIGTERM: stopping"); tracing::info!("Stopping"); break Ok(()); }
                _ = sigint.recv() => { tracing::info!("SIGINT: stopping"); tracing::info!("Stopping"); break Ok(()); }
                _ = sighup.recv() => self.start_reload(),
                (loaded, took) = reload_loader::next_result(&mut self.reload_load) => {
                    self.finish_reload(loaded, took).await;
                }
                _ = sigusr1.recv() => self.spawn_dump(Query::Data),
                _ = sigusr2.recv() => self.spawn_dump(Query::Stats),
                _ = sigjson.recv() => self.spawn_dump(Query::KeepalivedJson),
                _ = sigstats_clear.recv() => self.spawn_dump(Query::StatsClear),
                _ = sigdrain.recv() => self.spawn_drain(Query::Drain),
                _ = sigundrain.recv() => self.spawn_drain(Query::Undrain),
                _ = watchdog_tick.tick(), if watchdog.is_some() => self.notifier.watchdog(),
                _ = liveness_tick.tick() => self.probe_children(),
                _ = respawn_sleep => self.respawn_due().await,
                Some(ev) = self.events.recv() => {
                    if let Err(e) = self.on_event(ev).await {
                        break Err(e);
                    }
                }
            }
        };

        if let Err(e) = &outcome {
            self.notifier.status(&format!("failed: {e}"));
        }
        self.notifier.stopping();
        self.stop_all().await;
        // core/main.c sigend: the shutdown script runs once the children
        // are gone; the daemon exits when it is done (or killed).
        self.config
            .scripts
            .run(Which::Shutdown, self.cli.log_detail)
            .await;
        self.snmp = None;
        self.metrics_server = None;
        self.status_server = None;
        outcome
    }

    /// (Re)binds the status socket if its path changed. A second daemon
    /// already answering there is fatal at startup (it manages the same
    /// VIPs), and so is a non-socket file at the path (never deleted); later
    /// failures only cost observability.
    fn bind_status_socket(&mut self) -> Result<(), SupervisorError> {
        let path = self.status_socket_path();
        if self
            .status_server
            .as_ref()
            .is_some_and(|s| s.path() == path)
        {
            return Ok(());
        }
        self.status_server = None;
        match status::Server::bind(&path, self.shared.clone()) {
            Ok(server) => {
                tracing::info!("status socket {}", path.display());
                self.status_server = Some(server);
                Ok(())
            }
            // Another daemon, or a non-socket file we must not delete.
            Err(source)
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::AddrInUse | std::io::ErrorKind::AlreadyExists
                ) =>
            {
                Err(SupervisorError::StatusSocket { path, source })
            }
            Err(e) => {
                tracing::error!(
                    "cannot serve status on {}: {e}; running without it",
                    path.display()
                );
                Ok(())
            }
        }
    }

    /// Starts, moves or stops the metrics endpoint to match the config
    /// (`--metrics-listen` overrides `metrics_listen`). Never fatal.
    async fn bind_metrics(&mut self) {
        let mut wanted = self.config.metrics.clone();
        wanted.addr = self.cli.metrics_listen.or(wanted.addr);
        metrics_http::reconcile(
            &mut self.metrics_server,
            wanted,
            &self.shared,
            &self.shared.metrics.http,
        );
    }

    /// Asks every ready child's engine for its stats, one probe in flight
    /// per child. An engine that stops answering (deadlock, stuck syscall,
    /// SIGSTOP) is restarted after [`MISSED_PROBES_LIMIT`] misses: a hung
    /// VRRP engine would otherwise hold VIPs without advertising.
    fn probe_children(&mut self) {
        let timeout = Duration::from_secs(self.cli.liveness_interval_secs.max(1)).min(ASK_TIMEOUT);
        for (role, view) in self.shared.running() {
            let Some(slot) = self.slots.get_mut(&role) else {
                continue;
            };
            if !view.ready || slot.probing {
                continue;
            }
            slot.probing = true;
            let generation = slot.generation;
            let events = self.events_tx.clone();
            tokio::spawn(async move {
                let answered = matches!(
                    tokio::time::timeout(timeout, view.link.ask(Query::Liveness)).await,
                    Ok(Reply::Text(_) | Reply::Json(_))
                );
                let _ = events
                    .send(Event::Probe {
                        role,
                        generation,
                        answered,
                    })
                    .await;
            });
        }
    }

    async fn on_event(&mut self, ev: Event) -> Result<(), SupervisorError> {
        match ev {
            Event::Probe {
                role,
                generation,
                answered,
            } => {
                self.on_probe(role, generation, answered);
                Ok(())
            }
            Event::Message {
                role,
                generation,
                msg,
            } => {
                self.on_message(role, generation, msg).await;
                Ok(())
            }
            Event::Exited {
                role,
                generation,
                pid,
                status,
                clean,
            } => {
                let Some(slot) = self.slots.get_mut(&role) else {
                    return Ok(());
                };
                if slot.generation != generation {
                    return Ok(());
                }
                slot.pid = None;
                slot.kill = None;
                let ran_for = slot.started.elapsed();
                pidfile::remove_if_owned(self.cli.pid_file_for(role), pid);
                if let Ok(mut c) = self.shared.children.lock() {
                    c.remove(&role);
                }
                self.shared.metrics.set_child_up(role, false);
                self.awaiting_ready.remove(&role);
                self.check_ready();
                if !self.roles.contains(&role) {
                    let why = if self.stopping {
                        "daemon stopping"
                    } else {
                        "role no longer configured"
                    };
                    tracing::info!(%role, pid, "{role} child exited ({status}); {why}");
                    self.slots.remove(&role);
                    return Ok(());
                }
                tracing::error!(%role, pid, clean, "{role} child exited unexpectedly ({status})");
                // lib/scheduler.c log_child_died, vrrp_respawn_thread.
                let what = if self.cli.dont_respawn {
                    "Exiting"
                } else {
                    "Respawning"
                };
                tracing::error!(%role, pid, "{} child process({pid}) died: {what}", role.keepalived_name());
                if self.cli.dont_respawn {
                    return Err(SupervisorError::ChildDied { role });
                }
                let Some(slot) = self.slots.get_mut(&role) else {
                    return Ok(());
                };
                if ran_for >= HEALTHY_RUN {
                    slot.consecutive_failures = 0;
                }
                let delay = respawn_delay(slot.consecutive_failures);
                slot.consecutive_failures += 1;
                slot.respawn_at = Some(tokio::time::Instant::now() + delay);
                tracing::info!(%role, "respawning the {role} child in {delay:?}");
                Ok(())
            }
        }
    }

    /// A liveness probe answered or not: [`MISSED_PROBES_LIMIT`] misses kill
    /// the child for a respawn.
    fn on_probe(&mut self, role: Role, generation: u64, answered: bool) {
        let Some(slot) = self.slots.get_mut(&role) else {
            return;
        };
        if slot.generation != generation {
            return;
        }
        slot.probing = false;
        if answered {
            slot.missed_probes = 0;
            return;
        }
        slot.missed_probes += 1;
        tracing::warn!(%role, missed = slot.missed_probes, "{role} child did not answer a liveness probe");
        if slot.missed_probes == MISSED_PROBES_LIMIT {
            tracing::error!(%role, "{role} child is unresponsive: killing it for a respawn");
            if let Some(kill) = slot.kill.clone() {
                self.shared.metrics.child_hung(role);
                tokio::spawn(async move {
                    // A clean stop first; SIGKILL if it cannot even do that.
                    let _ = kill.send(Signal::SIGTERM).await;
                    tokio::time::sleep(KILL_GRACE).await;
                    let _ = kill.send(Signal::SIGKILL).await;
                });
            }
        }
    }

    /// A frame from a child of the current generation.
    async fn on_message(&mut self, role: Role, generation: u64, msg: FromChild) {
        if self.slots.get(&role).map(|s| s.generation) != Some(generation) {
            return;
        }
        match msg {
            FromChild::Ready { pid } => {
                tracing::info!(%role, pid, "{role} child is running");
                if let Ok(mut c) = self.shared.children.lock() {
                    if let Some(v) = c.get_mut(&role) {
                        v.ready = true;
                    }
                }
                self.shared.metrics.set_child_up(role, true);
                self.awaiting_ready.remove(&role);
                self.check_ready();
                // After READY=1: at keepalived issue #2318 size the journal
                // is 36,544 entries to write, and nothing waits for it.
                match role {
                    Role::Vrrp => self.journal.child_ready(),
                    Role::Checker => self.ipvs_journal.child_ready(),
                    Role::Bfd => {}
                }
            }
            FromChild::Reloaded => {
                tracing::info!(%role, "{role} child applied the new configuration")
            }
            FromChild::NeedFullConfig if role == Role::Checker => {
                tracing::info!(%role, "{role} child needs the whole configuration: handing it over");
                self.send_full_reload(role).await;
            }
            FromChild::NeedFullConfig => {}
            FromChild::Stopped { error: Some(e) } => {
                tracing::error!(%role, "{role} child stopping: {e}")
            }
            FromChild::Stopped { error: None } => {
                tracing::info!(%role, "{role} child stopped cleanly");
                if !self.roles.contains(&role) {
                    // Stopped on request: what it installed is gone.
                    match role {
                        Role::Vrrp => self.journal.clean_stop(),
                        Role::Checker => self.ipvs_journal.clean_stop(),
                        Role::Bfd => {}
                    }
                }
            }
            FromChild::Reply { .. } => {}
            FromChild::Bfd(state) if role == Role::Bfd => {
                for to in self.bfd.on_state(&state) {
                    if let Some(v) = self.shared.child(to) {
                        if let Err(e) = v.link.send(ToChild::Bfd(state.clone())).await {
                            tracing::warn!(role = %to, "cannot send a BFD state to the {to} child: {e}");
                        }
                    }
                }
            }
            FromChild::Bfd(_) => {}
        }
    }

    async fn respawn_due(&mut self) {
        let now = tokio::time::Instant::now();
        let due: Vec<Role> = self
            .slots
            .iter()
            .filter(|(_, s)| s.respawn_at.is_some_and(|at| at <= now))
            .map(|(r, _)| *r)
            .collect();
        for role in due {
            if let Some(slot) = self.slots.get_mut(&role) {
                slot.respawn_at = None;
            }
            if !self.roles.contains(&role) {
                self.slots.remove(&role);
                continue;
            }
            self.shared.metrics.child_restarted(role);
            if let Ok(mut r) = self.shared.restarts.lock() {
                *r.entry(role).or_default() += 1;
            }
            self.start_child(role).await;
        }
    }

    fn check_ready(&mut self) {
        if !self.ready_sent && self.awaiting_ready.is_empty() {
            self.ready_sent = true;
            self.notifier.ready();
            self.notifier
                .status(&format!("running: {}", role_list(&self.roles)));
            tracing::info!("rkeepalived ready (roles: {})", role_list(&self.roles));
            // core/main.c: the line keepalived logs once its children run.
            tracing::info!("Startup complete");
        }
    }

    fn spawn_dump(&self, query: Query) {
        let shared = self.shared.clone();
        let dir = self.cli.dump_dir.clone();
        let id = self.cli.instance_id();
        let data_use_instance = self.config.identity.data_use_instance;
        if query == Query::Data {
            // core/main.c print_parent_data(): the parent's own dump.
            tracing::info!(
                "Printing parent data for process({}) on signal",
                std::process::id()
            );
            let path =
                crate::runtime_paths::data_file(&dir, dump::PARENT_DATA, &id, data_use_instance);
            let text = dump::parent_data(&self.config.global_defs, &self.cli);
            if let Err(e) = dump::write_atomic(&path, text.as_bytes()) {
                tracing::error!("cannot write {}: {e}", path.display());
            }
        }
        // keepalived_check.data starts with the same global definitions
        // (check_print.c dump_data_check(): dump_global_data() first).
        let check_head =
            (query == Query::Data).then(|| dump::parent_data(&self.config.global_defs, &self.cli));
        tokio::spawn(async move {
            for (role, reply) in shared.ask_all(query).await {
                let Some(path) =
                    crate::runtime_paths::dump_path(&dir, role, query, &id, data_use_instance)
                else {
                    continue;
                };
                let content = match reply {
                    Reply::Text(t) if role == Role::Checker => {
                        format!("{}{t}", check_head.as_deref().unwrap_or(""))
                    }
                    Reply::Text(t) => t,
                    Reply::Json(v) => format!("{v:#}\n"),
                    Reply::Unavailable(why) => {
                        tracing::warn!(%role, "no {query:?} dump from the {role} child: {why}");
                        continue;
                    }
                };
                match dump::write_atomic(&path, content.as_bytes()) {
                    Ok(()) => tracing::info!(%role, "wrote {}", path.display()),
                    Err(e) => tracing::error!(%role, "cannot write {}: {e}", path.display()),
                }
            }
        });
    }

    /// `--signum=DRAIN` / `UNDRAIN`: to the checker child, which owns the
    /// announced routes (rkeepalived_check::announce).
    fn spawn_drain(&self, query: Query) {
        let Some(view) = self.shared.child(Role::Checker) else {
            tracing::warn!("{query:?}: no checker child is running; nothing is announced");
            return;
        };
        tokio::spawn(async move {
            match view.link.ask(query).await {
                Reply::Text(t) => tracing::info!("{query:?}: {}", t.trim_end()),
                other => tracing::warn!("{query:?}: the checker did not answer: {other:?}"),
            }
        });
    }

    /// Clean stop: Stop to every child, wait (bounded), then SIGTERM, then SIGKILL.
    async fn stop_all(&mut self) {
        self.stopping = true;
        self.roles.clear();
        for (role, view) in self.shared.running() {
            tracing::info!(%role, "stopping the {role} child");
            let _ = view.link.send(ToChild::Stop).await;
        }
        for slot in self.slots.values_mut() {
            slot.respawn_at = None;
        }
        // The checker withdraws announced routes and waits
        // announce_drain_delay before removing its IPVS entries.
        let deadline = tokio::time::Instant::now()
            + Duration::from_secs(self.cli.stop_timeout_secs)
            + self.config.global_defs.announce.drain_delay();
        if !self.wait_children_until(deadline).await {
            tracing::warn!("children did not stop in time: sending SIGTERM");
            self.signal_children(Signal::SIGTERM).await;
            if !self
                .wait_children_until(tokio::time::Instant::now() + KILL_GRACE)
                .await
            {
                tracing::error!("children still alive: sending SIGKILL");
                self.signal_children(Signal::SIGKILL).await;
                self.wait_children_until(tokio::time::Instant::now() + KILL_GRACE)
                    .await;
            }
        }
    }

    async fn signal_children(&self, sig: Signal) {
        for slot in self.slots.values() {
            if let Some(kill) = &slot.kill {
                let _ = kill.send(sig).await;
            }
        }
    }

    /// True when every child exited before `deadline`.
    async fn wait_children_until(&mut self, deadline: tokio::time::Instant) -> bool {
        while self.slots.values().any(|s| s.pid.is_some()) {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(ev)) => {
                    let _ = self.on_event(ev).await;
                }
                Ok(None) | Err(_) => return false,
            }
        }
        true
    }
}

fn role_list(roles: &[Role]) -> String {
    if roles.is_empty() {
        return "none".into();
    }
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(respawn_delay(0), RESPAWN_BASE);
        assert_eq!(respawn_delay(1), RESPAWN_BASE * 2);
        assert_eq!(respawn_delay(3), RESPAWN_BASE * 8);
        assert_eq!(respawn_delay(20), RESPAWN_MAX);
        assert_eq!(respawn_delay(u32::MAX), RESPAWN_MAX);
    }

    #[test]
    fn role_selection_flags() {
        let cfg = Config::default();
        let parse = |args: &[&str]| {
            let mut v = vec!["rkeepalived", "--all", "-B"];
            v.extend_from_slice(args);
            Cli::try_parse_from(v).expect("cli")
        };
        assert_eq!(
            roles_to_run(&parse(&[]), &cfg),
            vec![Role::Vrrp, Role::Checker]
        );
        assert_eq!(roles_to_run(&parse(&["-P"]), &cfg), vec![Role::Vrrp]);
        assert_eq!(roles_to_run(&parse(&["-C"]), &cfg), vec![Role::Checker]);
        assert_eq!(
            roles_to_run(&parse(&["-P", "-C"]), &cfg),
            vec![Role::Vrrp, Role::Checker]
        );
        // core/main.c running_bfd(): a bfd_instance (or --all) runs the BFD
        // child, -P / -C leave it, only -B stops it.
        let all = |args: &[&str]| {
            let mut v = vec!["rkeepalived", "--all"];
            v.extend_from_slice(args);
            Cli::try_parse_from(v).expect("cli")
        };
        assert_eq!(
            roles_to_run(&all(&["-P"]), &cfg),
            vec![Role::Vrrp, Role::Bfd]
        );
        let mut with_bfd = Config::default();
        with_bfd
            .bfd_instances
            .push(rkeepalived_config::model::BfdInstance::new("b", None));
        let plain = |args: &[&str]| {
            let mut v = vec!["rkeepalived"];
            v.extend_from_slice(args);
            Cli::try_parse_from(v).expect("cli")
        };
        assert_eq!(roles_to_run(&plain(&[]), &with_bfd), vec![Role::Bfd]);
        assert!(roles_to_run(&plain(&["-B"]), &with_bfd).is_empty());
    }
}
