//! The VRRP engine: the I/O shell around the pure core ([`crate::router`]).
//! It runs every `vrrp_instance` of the configuration: it owns the sockets,
//! vmacs, netlink, timers, watchers and dumps, turns what happens into
//! router inputs (a received datagram is decoded here and demultiplexed by
//! the core) and carries out the router's effects through the edge traits
//! ([`crate::ops`]).
//!
//! One task owns all instance state (no locks): it selects over control
//! messages, received datagrams (one reader task per socket), netlink events,
//! tracked-object updates and the earliest fsm deadline.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rkeepalived_config::model::{Config, VirtualIpAddress, VrrpInstance};
use rkeepalived_control::Control;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::addr::{self, NetEvent, Netlink};
use crate::auth_ah::AhState;
use crate::error::{SocketError, VrrpError};
use crate::fsm::{self, Action, Event, State};
use crate::garp::Announcer;
use crate::iface::SockKey;
use crate::instance as glue;
use crate::metrics::{self, InstanceStats};
use crate::notify::{Notifier, Subject};
use crate::ops::{self, AddrSet, Change};
use crate::reload;
use crate::router::{Effect, Input, Router};
use crate::socket::{RawDatagram, VrrpSocket};

/// Received datagrams waiting for the engine (all sockets share the queue).
const RX_QUEUE: usize = 4096;
use crate::timer::DeadlineTimer;
use crate::watch::{self, TrackUpdate};
use crate::wire::{DropCounters, DropReason, Family, IPPROTO_AH};

mod actions;
mod addr_opts;
mod dump;
mod fw_hooks;
mod instances;
mod ka_dump;
mod ka_instance;
mod ka_links;
mod lifecycle;
mod lvs_syncd;
mod reconfigure;
mod sockets;
mod takeover;
mod tracking;
mod watchers;

/// keepalived's command-line options the VRRP process honours.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `-V` / `--dont-release-vrrp` (keepalived `DONT_RELEASE_VRRP_BIT`):
    /// on stop, leave the VIPs, routes, rules and vmacs in place and send no
    /// priority-0 advert (vrrp_daemon.c `vrrp_terminate_phase2()` skips
    /// `shutdown_vrrp_instances()` and `restore_vrrp_interfaces()`).
    pub dont_release_vrrp: bool,
    /// `-X` / `--release-vips` (keepalived `RELEASE_VIPS_BIT`): leaving
    /// MASTER removes every configured VIP, also ones this run did not add
    /// (vrrp.c `vrrp_restore_interface()`).
    pub release_vips: bool,
    /// `-a` / `--address-monitoring` (keepalived `LOG_ADDRESS_CHANGES`):
    /// log every address added or removed ("Netlink reflector reports IP
    /// ADDR added to IF").
    pub log_address_changes: bool,
    /// What the global section of keepalived.data says about the process.
    pub dump: rkeepalived_dump::global::Context,
}

/// Run every configured VRRP instance until [`Control::Stop`] (or the control
/// channel closes): then priority-0 adverts are sent, VIPs removed, and this returns.
pub async fn run(cfg: Arc<Config>, ctl: mpsc::Receiver<Control>) -> Result<(), VrrpError> {
    run_with(cfg, ctl, RunOptions::default()).await
}

/// [`run`] with keepalived's command-line options.
pub async fn run_with(
    cfg: Arc<Config>,
    mut ctl: mpsc::Receiver<Control>,
    opts: RunOptions,
) -> Result<(), VrrpError> {
    let mut engine = Engine::new(cfg, opts)?;
    let mut timer = DeadlineTimer::new();
    engine.start_all().await;
    crate::progress::test_stall().await;
    loop {
        crate::progress::tick();
        if engine.iface_dirty {
            // A send failed: its interface may be gone or replaced.
            engine.sync_interfaces().await;
        }
        let deadline = engine.next_deadline();
        if deadline.is_some_and(|d| d <= Instant::now()) {
            // Due already (e.g. Skew_Time 0 after a priority-0 advert): act now
            // rather than after a timer round trip. Fired deadlines move
            // forward, so this cannot spin.
            crate::late_wakeup::observe(deadline);
            engine.on_timer().await;
            continue;
        }
        tokio::select! {
            msg = ctl.recv() => match msg {
                Some(Control::Stop) | None => break,
                Some(other) => engine.control(other).await,
            },
            Some((key, res)) = engine.rx_rx.recv() => engine.on_received(key, res).await,
            Some(ev) = engine.net_rx.recv() => engine.on_net_event(ev).await,
            Some(up) = engine.track_rx.recv() => engine.on_track_update(up).await,
            // A mass takeover's held VIP adds, a chunk per turn ([`takeover`]).
            _ = std::future::ready(()), if !engine.takeovers.is_empty() => {
                engine.takeover_chunk().await
            }
            _ = timer.sleep_until(deadline) => {
                crate::late_wakeup::observe(deadline);
                engine.on_timer().await
            }
        }
    }
    engine.stop_all().await;
    Ok(())
}

/// The addresses an instance owns while Master, with `dev` moved to its vmac
/// (if any) where they sit on the base interface.
fn vips_on(cfg: &VrrpInstance, vmac: Option<&str>) -> Vec<VirtualIpAddress> {
    glue::owned_addrs(cfg)
        .map(|v| {
            let mut v = v.clone();
            if let Some(name) = vmac {
                if v.dev == cfg.interface {
                    v.dev = name.to_string();
                }
            }
            v
        })
        .collect()
}

/// Runtime of one vrrp_instance.
struct Runtime {
    cfg: VrrpInstance,
    family: Family,
    /// Interface adverts are received on (the configured one).
    rx_if: String,
    /// Interface adverts and GARPs leave from (the vmac unless vmac_xmit_base).
    tx_if: String,
    /// Created vmac interface, removed on stop.
    vmac: Option<String>,
    dsts: Vec<IpAddr>,
    /// VIPs with the vmac substitution applied to `dev`.
    vips: Vec<VirtualIpAddress>,
    ident: u16,
    stats: InstanceStats,
    last_transition: Option<std::time::SystemTime>,
}

struct Engine {
    cfg: Arc<Config>,
    nl: Netlink,
    instances: Vec<Runtime>,
    sockets: HashMap<SockKey, Arc<VrrpSocket>>,
    socket_tasks: HashMap<SockKey, JoinHandle<()>>,
    /// IPPROTO_AH receive sockets of `auth_type AH` instances, per interface
    /// (their datagrams arrive under the interface's IPv4 key).
    ah_sockets: HashMap<String, (Arc<VrrpSocket>, JoinHandle<()>)>,
    /// AH sequence counters of instances a reload restarts, by name.
    ah_counters: HashMap<String, crate::auth_ah::SeqCounter>,
    rx_tx: mpsc::Sender<(SockKey, Result<RawDatagram, SocketError>)>,
    rx_rx: mpsc::Receiver<(SockKey, Result<RawDatagram, SocketError>)>,
    net_rx: mpsc::Receiver<NetEvent>,
    _net_task: JoinHandle<()>,
    track_tx: mpsc::Sender<TrackUpdate>,
    track_rx: mpsc::Receiver<TrackUpdate>,
    /// Running script pollers / track file readers with their definitions.
    watchers: Vec<(Watched, JoinHandle<()>)>,
    announcers: HashMap<String, Arc<Announcer>>,
    notifier: Notifier,
    /// Alert e-mails (`smtp_alert`), sent in the background.
    mail: crate::mail::VrrpMail,
    /// Drops before an instance could be identified (decode errors, unknown VRID).
    unmatched: DropCounters,
    socket_errors: u64,
    /// Failed netlink requests not tied to an instance (static addresses/routes/rules).
    netlink_errors: u64,
    /// Original `net.ipv4.conf.<base>.*` values changed for vmacs, restored on stop.
    sysctl_restore: Vec<(String, &'static str, String)>,
    /// Every instance's state machine and the sync groups between them
    /// (index `i` is `instances[i]`).
    router: Router,
    /// Re-check interfaces before the next wait (set by a failed send).
    iface_dirty: bool,
    /// `lvs_sync_daemon ... inst NAME`: IPVS sync daemons following NAME.
    lvs_syncd: Option<lvs_syncd::LvsSyncd>,
    /// keepalived's nftables rules (no accept mode, vmac reports), if needed.
    firewall: Option<crate::firewall::Firewall>,
    /// `disable_local_igmp` in effect, and the sysctl to restore.
    local_igmp: fw_hooks::LocalIgmp,
    /// keepalived's command-line options.
    opts: RunOptions,
    /// Effects held back from a mass takeover ([`takeover`]).
    takeovers: takeover::Takeovers,
    /// When the configuration was loaded (keepalived's initial `last_transition`).
    started: std::time::SystemTime,
    /// Stopping with `-V`: addresses, routes, rules and vmacs stay.
    keep_on_stop: bool,
}

/// What a watcher task watches (a reload keeps the unchanged ones running).
#[derive(Debug, Clone, PartialEq)]
enum Watched {
    Script(rkeepalived_config::model::VrrpScript),
    File(rkeepalived_config::model::VrrpTrackFile),
    /// Every vrrp_track_process (one /proc scanner for all).
    Processes(Vec<rkeepalived_config::model::VrrpTrackProcess>),
}

impl Engine {
    fn new(cfg: Arc<Config>, opts: RunOptions) -> Result<Engine, VrrpError> {
        let nl = Netlink::connect()?;
        let (net_tx, net_rx) = mpsc::channel(1024);
        let net_task = addr::watch(net_tx)?;
        let (rx_tx, rx_rx) = mpsc::channel(RX_QUEUE);
        let (track_tx, track_rx) = mpsc::channel(256);
        let notifier = Notifier::new(&cfg.global_defs);
        let mail = crate::mail::VrrpMail::new(&cfg);
        let lvs_syncd = lvs_syncd::LvsSyncd::from_config(&cfg);
        let firewall = fw_hooks::for_config(&cfg);
        let mut router = Router::new();
        router.set_config(cfg.clone());
        Ok(Engine {
            cfg,
            nl,
            instances: Vec::new(),
            sockets: HashMap::new(),
            socket_tasks: HashMap::new(),
            ah_sockets: HashMap::new(),
            ah_counters: HashMap::new(),
            rx_tx,
            rx_rx,
            net_rx,
            _net_task: net_task,
            track_tx,
            track_rx,
            watchers: Vec::new(),
            announcers: HashMap::new(),
            notifier,
            mail,
            unmatched: DropCounters::default(),
            socket_errors: 0,
            netlink_errors: 0,
            sysctl_restore: Vec::new(),
            router,
            iface_dirty: false,
            lvs_syncd,
            firewall,
            local_igmp: fw_hooks::LocalIgmp::default(),
            opts,
            takeovers: takeover::Takeovers::default(),
            started: std::time::SystemTime::now(),
            keep_on_stop: false,
        })
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.router.next_deadline()
    }

    // -- startup / shutdown ---------------------------------------------------

    async fn start_all(&mut self) {
        let cfg = self.cfg.clone();
        self.local_igmp = fw_hooks::LocalIgmp::start(cfg.global_defs.disable_local_igmp);
        self.apply_statics(None, &cfg).await;
        self.rebuild_groups();
        self.start_watchers();
        self.refresh_link_states().await;
        self.report_missing_interfaces();
        let delay = cfg.global_defs.vrrp_startup_delay;
        if !delay.is_zero() {
            // keepalived `vrrp_startup_delay`: let the network settle after boot.
            tracing::info!(?delay, "delaying VRRP startup");
            tokio::time::sleep(delay).await;
        }
        if let Some(s) = &mut self.lvs_syncd {
            s.init();
        }
        for inst in &cfg.vrrp_instances {
            self.start_instance(inst.clone()).await;
        }
    }

    /// Instance `idx`'s advert source address (kept in its core endpoint).
    fn src(&self, idx: usize) -> Option<IpAddr> {
        self.router.endpoint(idx).and_then(|e| e.src)
    }

    fn set_src(&mut self, idx: usize, src: Option<IpAddr>) {
        if let Some(e) = self.router.endpoint_mut(idx) {
            e.src = src;
        }
    }

    /// The core endpoint of `rt` (one of `self.instances`).
    fn endpoint_of(&self, rt: &Runtime) -> Option<&crate::demux::Endpoint> {
        let idx = self.instances.iter().position(|r| std::ptr::eq(r, rt))?;
        self.router.endpoint(idx)
    }

    /// The (priority, fault) tracking last gave `rt` (one of `self.instances`).
    fn tracked_of(&self, rt: &Runtime) -> (u8, bool) {
        self.instances
            .iter()
            .position(|r| std::ptr::eq(r, rt))
            .and_then(|i| self.router.tracked(i))
            .unwrap_or((rt.cfg.priority, false))
    }

    /// Whether instance `idx` uses `auth_type AH`.
    fn has_ah(&self, idx: usize) -> bool {
        self.router.endpoint(idx).is_some_and(|e| e.ah.is_some())
    }

    /// Whether the instance named `name` is MASTER now.
    fn is_master(&self, name: &str) -> bool {
        self.instances
            .iter()
            .position(|r| r.cfg.name == name)
            .is_some_and(|i| self.router.fsm(i).state() == State::Master)
    }

    /// Feed one input to the router and carry out its effects.
    async fn handle(&mut self, input: Input) {
        self.handle_at(input, Instant::now()).await;
    }

    async fn handle_at(&mut self, input: Input, now: Instant) {
        let effects = self.router.handle(input, now);
        self.execute(effects).await;
    }

    /// Events for one instance, through the router.
    async fn events(&mut self, idx: usize, events: Vec<Event>) {
        self.handle(Input::Events {
            instance: idx,
            events,
        })
        .await;
    }

    async fn stop_all(&mut self) {
        self.flush_takeovers().await;
        // Before the instances step down (vrrp_terminate_phase1()).
        if let Some(mut s) = self.lvs_syncd.take() {
            let master = self.is_master(&s.instance);
            s.stop(master);
        }
        if self.opts.dont_release_vrrp {
            tracing::info!(
                "--dont-release-vrrp: leaving the VRRP addresses, routes and rules in place"
            );
            self.keep_on_stop = true;
            // keepalived keeps the vmacs' ARP settings with them.
            self.sysctl_restore.clear();
        }
        for idx in 0..self.instances.len() {
            self.stop_instance(idx).await;
        }
        self.notify_groups_stopped();
        let cfg = self.cfg.clone();
        self.apply_statics(Some(&cfg), &Config::default()).await;
        for (iface, key, old) in self.sysctl_restore.drain(..) {
            if let Err(e) = addr::set_ipv4_conf(&iface, key, &old) {
                tracing::warn!(%iface, key, error = %e, "cannot restore sysctl");
            }
        }
        for (_, w) in self.watchers.drain(..) {
            w.abort();
        }
        for (_, t) in self.socket_tasks.drain() {
            t.abort();
        }
        for (_, (_, t)) in self.ah_sockets.drain() {
            t.abort();
        }
        self.fw_fini();
        self.notifier.finish_stop_scripts().await;
        tracing::info!("VRRP engine stopped");
    }

    // -- inputs -----------------------------------------------------------------

    /// Decode at the edge; the core picks the instances ([`crate::demux`]).
    async fn on_datagram(&mut self, key: &SockKey, d: RawDatagram) {
        match d.decode() {
            Ok(rx) => {
                self.handle(Input::Datagram {
                    ifname: key.0.clone(),
                    family: key.1,
                    rx: Box::new(rx),
                })
                .await
            }
            Err(reason) => {
                self.unmatched.record(reason);
                tracing::debug!(iface = %key.0, src = %d.src, %reason, "dropped VRRP packet");
            }
        }
    }

    async fn on_received(&mut self, key: SockKey, res: Result<RawDatagram, SocketError>) {
        match res {
            Ok(d) => self.on_datagram(&key, d).await,
            Err(e) => {
                self.socket_errors += 1;
                tracing::warn!(error = %e, "VRRP socket receive error");
            }
        }
    }

    /// Timers fire only after every advert already received: an advert
    /// that waits in the queue arrived before the deadline, and a backup
    /// that fell behind (a mass takeover's netlink work, a busy host) must
    /// not declare a live master down because of its own backlog.
    /// keepalived reads every pending packet of a ready socket
    /// (vrrp_scheduler.c `vrrp_dispatcher_read()`) and a read event beats
    /// the read thread's timeout. Bounded by the channel's capacity.
    async fn on_timer(&mut self) {
        for _ in 0..RX_QUEUE {
            match self.rx_rx.try_recv() {
                Ok((key, res)) => self.on_received(key, res).await,
                Err(_) => break,
            }
        }
        self.handle(Input::Timer).await;
    }

    // -- control ------------------------------------------------------------------

    async fn control(&mut self, msg: Control) {
        match msg {
            Control::Reload(new) => self.reload(new).await,
            Control::Stop => {}
            Control::DumpData(tx) => {
                let _ = tx.send(self.keepalived_data());
            }
            Control::DumpStats(tx) => {
                let _ = tx.send(self.keepalived_stats());
            }
            Control::DumpStatsClear(tx) => {
                // keepalived's vrrp_print_stats(true) (vrrp/vrrp_print.c):
                // write each instance's stats, then zero them.
                tracing::info!(
                    "Printing and clearing VRRP stats for process({}) on signal",
                    std::process::id()
                );
                let _ = tx.send(self.keepalived_stats());
                for rt in &mut self.instances {
                    rt.stats = InstanceStats::default();
                }
            }
            Control::DumpJson(tx) => {
                let _ = tx.send(self.dump_json());
            }
            Control::DumpKeepalivedJson(tx) => {
                let _ = tx.send(self.keepalived_json());
            }
            Control::Metrics(tx) => {
                let _ = tx.send(self.metrics());
            }
            // track_bfd: the BFD child's session states.
            Control::Bfd { name, up } => {
                self.handle(Input::Tracked(crate::router::Tracked::Bfd { name, up }))
                    .await;
            }
            // Route announcement is the checker's (rkeepalived_check::announce).
            Control::Drain(tx) | Control::Undrain(tx) => {
                let _ = tx.send(String::new());
            }
            // Delta reloads are the checker's (rkeepalived_control::delta).
            Control::Delta(_) => {}
        }
    }
}
