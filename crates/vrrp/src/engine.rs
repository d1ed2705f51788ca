//! The VRRP engine: runs every `vrrp_instance` of the configuration with the
//! pure state machine ([`crate::fsm`]) and performs its actions at the IO edge.
//!
//! One task owns all instance state (no locks): it selects over control
//! messages, received datagrams (one reader task per socket), netlink events,
//! tracked-object updates and the earliest fsm deadline.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use rkeepalived_config::model::{
    Config, VirtualIpAddress, VirtualRoute, VirtualRule, VrrpInstance,
};
use rkeepalived_control::Control;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::addr::{self, NetEvent, Netlink};
use crate::auth_ah::{AhRole, AhState};
use crate::error::{NetlinkError, SocketError, VrrpError};
use crate::fsm::{self, Action, Event, State};
use crate::garp::Announcer;
use crate::iface::SockKey;
use crate::instance::{self as glue, TrackState};
use crate::metrics::{self, InstanceStats};
use crate::notify::{Notifier, Subject};
use crate::reload;
use crate::router::{Effect, Input, Router};
use crate::socket::{RawDatagram, VrrpSocket};
use crate::timer::DeadlineTimer;
use crate::watch::{self, TrackUpdate};
use crate::wire::{DropCounters, DropReason, Family, RxPolicy, IPPROTO_AH};

mod actions;
mod addr_opts;
mod dump;
mod fw_hooks;
mod ka_dump;
mod ka_links;
mod lifecycle;
mod lvs_syncd;
mod reconfigure;
mod tracking;

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
    loop {
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
            Some((key, res)) = engine.rx_rx.recv() => match res {
                Ok(d) => engine.on_datagram(&key, d).await,
                Err(e) => {
                    engine.socket_errors += 1;
                    tracing::warn!(error = %e, "VRRP socket receive error");
                }
            },
            Some(ev) = engine.net_rx.recv() => engine.on_net_event(ev).await,
            Some(up) = engine.track_rx.recv() => engine.on_track_update(up).await,
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

/// What an instance owns while Master besides its state: addresses, routes, rules.
struct AddrSet {
    vips: Vec<VirtualIpAddress>,
    routes: Vec<VirtualRoute>,
    rules: Vec<VirtualRule>,
}

#[derive(Clone, Copy)]
enum Change {
    Add,
    Delete,
}

/// Runtime of one vrrp_instance.
struct Runtime {
    cfg: VrrpInstance,
    policy: RxPolicy,
    family: Family,
    /// Interface adverts are received on (the configured one).
    rx_if: String,
    /// Interface adverts and GARPs leave from (the vmac unless vmac_xmit_base).
    tx_if: String,
    /// Created vmac interface, removed on stop.
    vmac: Option<String>,
    src: Option<IpAddr>,
    dsts: Vec<IpAddr>,
    /// VIPs with the vmac substitution applied to `dev`.
    vips: Vec<VirtualIpAddress>,
    /// Last (priority, fault) pushed into the fsm from tracking.
    tracked: (u8, bool),
    ident: u16,
    stats: InstanceStats,
    last_transition: Option<std::time::SystemTime>,
    /// `auth_type AH`: key and sequence counter (keepalived `ipsecah_counter`).
    ah: Option<AhState>,
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
    track: TrackState,
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
        let (rx_tx, rx_rx) = mpsc::channel(4096);
        let (track_tx, track_rx) = mpsc::channel(256);
        let notifier = Notifier::new(&cfg.global_defs);
        let mail = crate::mail::VrrpMail::new(&cfg);
        let lvs_syncd = lvs_syncd::LvsSyncd::from_config(&cfg);
        let firewall = fw_hooks::for_config(&cfg);
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
            track: TrackState::default(),
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
            router: Router::new(),
            iface_dirty: false,
            lvs_syncd,
            firewall,
            local_igmp: fw_hooks::LocalIgmp::default(),
            opts,
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

    /// Whether the instance named `name` is MASTER now.
    fn is_master(&self, name: &str) -> bool {
        self.instances
            .iter()
            .position(|r| r.cfg.name == name)
            .is_some_and(|i| self.router.fsm(i).state() == State::Master)
    }

    /// Spawn script pollers and track file readers for every object the
    /// configuration defines. On a reload, watchers whose definition did not
    /// change keep running, and a changed or restarted script resumes from its
    /// last status (keepalived `clear_diff_script()`), so a reload never sends
    /// a tracked instance through "no result yet" (FAULT, VIP dropped).
    fn start_watchers(&mut self) {
        let cfg = self.cfg.clone();
        let (keep, stop): (Vec<_>, Vec<_>) = std::mem::take(&mut self.watchers)
            .into_iter()
            .partition(|(w, _)| match w {
                Watched::Script(s) => cfg.vrrp_scripts.contains(s),
                Watched::File(f) => cfg.vrrp_track_files.contains(f),
                Watched::Processes(p) => *p == cfg.vrrp_track_processes,
            });
        for (_, h) in stop {
            h.abort();
        }
        self.watchers = keep;
        for s in &cfg.vrrp_scripts {
            let w = Watched::Script(s.clone());
            if self.watchers.iter().any(|(x, _)| *x == w) {
                continue;
            }
            let previous = self.track.scripts.get(&s.name).copied();
            let h = watch::spawn_script_resumed(
                s.clone(),
                self.notifier.runner().clone(),
                self.track_tx.clone(),
                previous,
            );
            self.watchers.push((w, h));
        }
        for f in &cfg.vrrp_track_files {
            let w = Watched::File(f.clone());
            if self.watchers.iter().any(|(x, _)| *x == w) {
                continue;
            }
            let h = watch::spawn_track_file(f.clone(), self.track_tx.clone());
            self.watchers.push((w, h));
        }
        self.start_process_tracking();
    }

    /// Current up/down of every interface an instance uses or tracks.
    pub(super) async fn refresh_link_states(&mut self) {
        let mut names: Vec<String> = Vec::new();
        for i in &self.cfg.vrrp_instances {
            names.push(i.interface.clone());
            names.extend(i.track_interfaces.iter().map(|t| t.name.clone()));
        }
        for g in &self.cfg.vrrp_sync_groups {
            names.extend(g.track_interfaces.iter().map(|t| t.name.clone()));
        }
        names.sort();
        names.dedup();
        for n in names {
            let up = match addr::ifindex(&n) {
                Some(idx) => self.nl.link_up(idx).await.unwrap_or(false),
                None => false,
            };
            self.track.interfaces.insert(n, up);
        }
    }

    fn socket_for(
        &mut self,
        ifname: &str,
        family: Family,
        groups: &[IpAddr],
        receive: bool,
    ) -> Result<(), VrrpError> {
        let key: SockKey = (ifname.to_string(), family);
        if let Some(s) = self.sockets.get(&key) {
            for g in groups {
                s.join(*g)?;
            }
        } else {
            let idx = addr::ifindex(ifname)
                .ok_or_else(|| SocketError::NoInterface(ifname.to_string()))?;
            let sock = Arc::new(VrrpSocket::open(family, ifname, idx, groups)?);
            self.sockets.insert(key.clone(), sock);
        }
        if receive && !self.socket_tasks.contains_key(&key) {
            if let Some(sock) = self.sockets.get(&key).cloned() {
                let tx = self.rx_tx.clone();
                let k = key.clone();
                let task = tokio::spawn(async move {
                    loop {
                        let res = sock.recv().await;
                        let failed = res.is_err();
                        if tx.send((k.clone(), res)).await.is_err() {
                            return;
                        }
                        if failed {
                            // Do not spin on a persistently failing socket.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                });
                self.socket_tasks.insert(key, task);
            }
        }
        Ok(())
    }

    /// keepalived opens the receive socket of an `auth_type AH` instance with
    /// protocol IPPROTO_AH (`vrrp_create_sockpool`): open one per interface and
    /// feed its datagrams into the same queue (the decoder handles both).
    /// Sending needs nothing extra: the IP_HDRINCL socket sends any protocol.
    fn ah_socket_for(&mut self, ifname: &str, groups: &[IpAddr]) -> Result<(), VrrpError> {
        if let Some((s, _)) = self.ah_sockets.get(ifname) {
            for g in groups {
                s.join(*g)?;
            }
            return Ok(());
        }
        let idx =
            addr::ifindex(ifname).ok_or_else(|| SocketError::NoInterface(ifname.to_string()))?;
        let sock = Arc::new(VrrpSocket::open_proto(
            IPPROTO_AH,
            Family::Ipv4,
            ifname,
            idx,
            groups,
        )?);
        let tx = self.rx_tx.clone();
        let key: SockKey = (ifname.to_string(), Family::Ipv4);
        let reader = sock.clone();
        let task = tokio::spawn(async move {
            loop {
                let res = reader.recv().await;
                let failed = res.is_err();
                if tx.send((key.clone(), res)).await.is_err() {
                    return;
                }
                if failed {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
        self.ah_sockets.insert(ifname.to_string(), (sock, task));
        Ok(())
    }

    fn announcer(&mut self, ifname: &str) -> Option<Arc<Announcer>> {
        if let Some(a) = self.announcers.get(ifname) {
            return Some(a.clone());
        }
        let idx = addr::ifindex(ifname)?;
        match Announcer::open(ifname, idx) {
            Ok(a) => {
                let a = Arc::new(a);
                self.announcers.insert(ifname.to_string(), a.clone());
                Some(a)
            }
            Err(e) => {
                tracing::warn!(iface = ifname, error = %e, "cannot open GARP/NA sockets");
                None
            }
        }
    }

    /// The `static_ipaddress` addresses of the running configuration.
    fn static_addrs(&self) -> Vec<IpAddr> {
        self.cfg.static_ipaddresses.iter().map(|a| a.addr).collect()
    }

    async fn start_instance(&mut self, cfg: VrrpInstance) {
        let global = self.cfg.global_defs.clone();
        let family = glue::family(cfg.family);
        let mut tx_if = cfg.interface.clone();
        let mut vmac = None;
        let mut stats = InstanceStats::default();
        if let Some(v) = &cfg.use_vmac {
            let mac = glue::vmac_mac(&cfg, v);
            let ipv6 = glue::vmac_needs_ipv6(&cfg);
            match self.nl.add_vmac(&v.name, &cfg.interface, mac, ipv6).await {
                Ok(_) => {
                    self.configure_vmac_arp(&cfg.interface, &v.name);
                    vmac = Some(v.name.clone());
                    if !v.xmit_base {
                        tx_if = v.name.clone();
                    }
                }
                // The base interface does not exist yet: the vmac is created
                // when it appears (lifecycle.rs), held in FAULT until then.
                Err(_) if addr::ifindex(&cfg.interface).is_none() => {
                    vmac = Some(v.name.clone());
                    if !v.xmit_base {
                        tx_if = v.name.clone();
                    }
                }
                Err(e) => {
                    stats.netlink_errors += 1;
                    tracing::error!(instance = %cfg.name, error = %e, "cannot create vmac; using the base interface");
                }
            }
        }
        self.set_promote_secondaries(&cfg);
        let vips = vips_on(&cfg, vmac.as_deref());
        let dsts = glue::destinations(&cfg, &global);
        let groups: Vec<IpAddr> = dsts.iter().copied().filter(|d| d.is_multicast()).collect();
        let mut ok = true;
        if let Err(e) = self.socket_for(&cfg.interface, family, &groups, true) {
            tracing::error!(instance = %cfg.name, error = %e, "cannot open VRRP socket");
            ok = false;
        }
        let mut ah = glue::ah_key(&cfg).map(AhState::new);
        if let (Some(ah), Some(counter)) = (ah.as_mut(), self.ah_counters.remove(&cfg.name)) {
            // keepalived `restore_vrrp_state`: a reloaded instance keeps its AH counter.
            ah.counter = counter;
        }
        if ah.is_some() {
            if let Err(e) = self.ah_socket_for(&cfg.interface, &groups) {
                tracing::error!(instance = %cfg.name, error = %e, "cannot open IPsec AH socket");
                ok = false;
            }
        }
        if tx_if != cfg.interface {
            if let Err(e) = self.socket_for(&tx_if, family, &[], false) {
                tracing::error!(instance = %cfg.name, error = %e, "cannot open VRRP socket on vmac");
                ok = false;
            }
        }
        let src = match glue::configured_source(&cfg) {
            Some(s) => Some(s),
            None => match addr::ifindex(&cfg.interface) {
                Some(idx) => match self.nl.addresses(idx).await {
                    Ok(list) => glue::pick_source_before_statics(
                        family,
                        &list,
                        &glue::advertised_addrs(&cfg),
                        &self.static_addrs(),
                    ),
                    Err(e) => {
                        stats.netlink_errors += 1;
                        tracing::error!(instance = %cfg.name, error = %e, "cannot list interface addresses");
                        None
                    }
                },
                None => None,
            },
        };
        if src.is_none() {
            tracing::error!(instance = %cfg.name, iface = %cfg.interface, family = ?family, "no source address for adverts; instance held in FAULT");
            ok = false;
        }
        let primary = src.unwrap_or(match family {
            Family::Ipv4 => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            Family::Ipv6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        });
        let mut params = glue::fsm_params(&cfg, &global, primary);
        // keepalived: sync group members go Master together (vrrp_sync_can_goto_master).
        params.sync_group_member = self.router.is_group_member(&cfg.name);
        let policy = glue::rx_policy(&cfg, &global);
        let fsm = fsm::Instance::new(params);
        let mut rt = Runtime {
            policy,
            family,
            rx_if: cfg.interface.clone(),
            tx_if,
            vmac,
            src,
            dsts,
            vips,
            tracked: (cfg.priority, false),
            ident: 0,
            stats,
            last_transition: None,
            ah,
            cfg,
        };
        let outcome = glue::tracked_priority(&rt.cfg, &self.cfg, &self.track);
        let fault = outcome.fault || !ok;
        rt.tracked = (outcome.priority, fault);
        tracing::info!(instance = %rt.cfg.name, vrid = rt.cfg.virtual_router_id, iface = %rt.rx_if, src = ?rt.src, "VRRP instance started");
        let idx = self.router.add(rt.cfg.name.clone(), fsm);
        self.instances.push(rt);
        debug_assert_eq!(idx + 1, self.instances.len());
        self.fw_vmac_up(idx);
        self.handle(Input::Start {
            instance: idx,
            priority: outcome.priority,
            fault,
        })
        .await;
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

    /// Shut one instance down: priority 0 if Master, VIPs removed, vmac deleted.
    async fn stop_instance(&mut self, idx: usize) {
        self.events(idx, vec![Event::Shutdown]).await;
        if self.keep_on_stop {
            return;
        }
        // Belt and braces: whatever the state, leave no VIPs behind.
        self.remove_vips(idx).await;
        if let Some(v) = self.instances[idx].vmac.clone() {
            self.fw_vmac_down(idx);
            if let Err(e) = self.nl.del_link(&v).await {
                self.instances[idx].stats.netlink_errors += 1;
                tracing::warn!(vmac = %v, error = %e, "cannot delete vmac");
            }
        }
    }

    /// keepalived's vmac ARP setup (vrrp_if_config.c): the base interface
    /// must not answer ARP for addresses living on the vmac (arp_ignore=1,
    /// arp_filter=1), so the LAN learns the virtual router MAC; the vmac
    /// itself answers only for its own addresses and accepts asymmetric
    /// traffic (rp_filter=0).
    fn configure_vmac_arp(&mut self, base: &str, vmac: &str) {
        for (key, value) in [("arp_ignore", "1"), ("arp_filter", "1")] {
            match addr::set_ipv4_conf(base, key, value) {
                Ok(old) => {
                    if !self
                        .sysctl_restore
                        .iter()
                        .any(|(i, k, _)| i == base && *k == key)
                    {
                        self.sysctl_restore.push((base.to_string(), key, old));
                    }
                }
                Err(e) => {
                    tracing::warn!(iface = base, key, error = %e, "cannot set sysctl for vmac")
                }
            }
        }
        for (key, value) in [
            ("arp_ignore", "1"),
            ("arp_filter", "1"),
            ("rp_filter", "0"),
            ("accept_local", "1"),
        ] {
            if let Err(e) = addr::set_ipv4_conf(vmac, key, value) {
                tracing::warn!(iface = vmac, key, error = %e, "cannot set sysctl for vmac");
            }
        }
    }

    async fn stop_all(&mut self) {
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

    async fn on_datagram(&mut self, key: &SockKey, d: RawDatagram) {
        let rx = match d.decode() {
            Ok(rx) => rx,
            Err(reason) => {
                self.unmatched.record(reason);
                tracing::debug!(iface = %key.0, src = %d.src, %reason, "dropped VRRP packet");
                return;
            }
        };
        let candidates: Vec<usize> = self
            .instances
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.rx_if == key.0 && r.family == key.1 && r.cfg.virtual_router_id == rx.adv.vrid
            })
            .map(|(i, _)| i)
            .collect();
        if candidates.is_empty() {
            self.unmatched.record(DropReason::VridMismatch);
            return;
        }
        let now = Instant::now();
        for idx in candidates {
            let rt = &mut self.instances[idx];
            if rt.src == Some(rx.src) {
                // Our own advert (looped back via a vmac or a second socket).
                continue;
            }
            let fsm = self.router.fsm(idx);
            let state = fsm.state();
            let role = match state {
                State::Backup => AhRole::Backup,
                State::Master => AhRole::Master,
                _ => AhRole::Other,
            };
            let wants_vip_check = fsm.wants_vip_check(rx.src);
            let verdict = rt
                .policy
                .check_with_ah(
                    &rx,
                    wants_vip_check,
                    rt.ah.as_mut().map(|a| a.receiver(role)),
                )
                .and_then(|()| glue::check_unicast_ttl(&rt.cfg, rx.src, rx.ttl));
            if let Err(reason) = verdict {
                rt.stats.drops.record(reason);
                tracing::debug!(instance = %rt.cfg.name, src = %rx.src, %reason, "dropped advert");
                continue;
            }
            rt.stats.adverts_rx += 1;
            if rx.adv.priority == 0 {
                rt.stats.priority_zero_rx += 1;
            }
            if let (Some(ah), Some(fields), State::Master) = (rt.ah.as_mut(), &rx.ah, state) {
                // keepalived `vrrp_state_master_rx`: resync on a lower priority advert.
                let cmp = rt.src.map_or(std::cmp::Ordering::Equal, |s| {
                    crate::auth_ah::cmp_addr(rx.src, s)
                });
                let synced = ah.counter.on_master_rx(
                    fields.seq,
                    rx.adv.priority,
                    fsm.effective_priority(),
                    cmp,
                );
                if synced {
                    tracing::info!(instance = %rt.cfg.name, seq = ah.counter.seq, "IPSEC-AH : Syncing seq_num - Increment seq");
                }
            }
            let input = Input::Events {
                instance: idx,
                events: vec![Event::AdvertReceived {
                    from: rx.src,
                    adv: rx.adv.clone(),
                }],
            };
            self.handle_at(input, now).await;
        }
    }

    async fn on_timer(&mut self) {
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
            // Route announcement is the checker's (rkeepalived_check::announce).
            Control::Drain(tx) | Control::Undrain(tx) => {
                let _ = tx.send(String::new());
            }
        }
    }
}
