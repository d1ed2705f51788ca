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
use crate::fsm::{self, Action, Event, Reason, State, SyncCommand};
use crate::garp::Announcer;
use crate::iface::SockKey;
use crate::instance::{self as glue, TrackState};
use crate::metrics::{self, InstanceStats};
use crate::notify::{Notifier, Subject};
use crate::packet::{DropCounters, DropReason, Family, RxPolicy, IPPROTO_AH};
use crate::reload;
use crate::socket::{RawDatagram, VrrpSocket};
use crate::sync_group::SyncGroup;
use crate::timer::DeadlineTimer;
use crate::watch::{self, TrackUpdate};

mod lifecycle;

/// Run every configured VRRP instance until [`Control::Stop`] (or the control
/// channel closes): then priority-0 adverts are sent, VIPs removed, and this returns.
pub async fn run(cfg: Arc<Config>, mut ctl: mpsc::Receiver<Control>) -> Result<(), VrrpError> {
    let mut engine = Engine::new(cfg)?;
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
            _ = timer.sleep_until(deadline) => engine.on_timer().await,
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
    fsm: fsm::Instance,
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

impl Runtime {
    fn state_name(&self) -> &'static str {
        state_name(self.fsm.state())
    }
}

fn state_name(s: State) -> &'static str {
    match s {
        State::Initialize => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
    }
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
    /// Drops before an instance could be identified (decode errors, unknown VRID).
    unmatched: DropCounters,
    socket_errors: u64,
    /// Failed netlink requests not tied to an instance (static addresses/routes/rules).
    netlink_errors: u64,
    /// Original `net.ipv4.conf.<base>.*` values changed for vmacs, restored on stop.
    sysctl_restore: Vec<(String, &'static str, String)>,
    /// Sync groups (membership by instance name) with their pure coordinators.
    groups: Vec<GroupRt>,
    /// Re-check interfaces before the next wait (set by a failed send).
    iface_dirty: bool,
}

/// What a watcher task watches (a reload keeps the unchanged ones running).
#[derive(Debug, Clone, PartialEq)]
enum Watched {
    Script(rkeepalived_config::model::VrrpScript),
    File(rkeepalived_config::model::VrrpTrackFile),
}

/// One vrrp_sync_group at runtime.
struct GroupRt {
    name: String,
    members: Vec<String>,
    sg: SyncGroup,
    /// Last state reported to the group's notify scripts / FIFO.
    notified: Option<State>,
}

impl Engine {
    fn new(cfg: Arc<Config>) -> Result<Engine, VrrpError> {
        let nl = Netlink::connect()?;
        let (net_tx, net_rx) = mpsc::channel(1024);
        let net_task = addr::watch(net_tx)?;
        let (rx_tx, rx_rx) = mpsc::channel(4096);
        let (track_tx, track_rx) = mpsc::channel(256);
        let notifier = Notifier::new(&cfg.global_defs);
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
            unmatched: DropCounters::default(),
            socket_errors: 0,
            netlink_errors: 0,
            sysctl_restore: Vec::new(),
            groups: Vec::new(),
            iface_dirty: false,
        })
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.instances
            .iter()
            .filter_map(|r| r.fsm.next_deadline())
            .min()
    }

    // -- startup / shutdown ---------------------------------------------------

    async fn start_all(&mut self) {
        let cfg = self.cfg.clone();
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
        for inst in &cfg.vrrp_instances {
            self.start_instance(inst.clone()).await;
        }
    }

    /// static_ipaddress / static_routes / static_rules: owned for the
    /// daemon's lifetime regardless of VRRP state. `old` = what is installed
    /// now (None at startup); entries missing from `new` are removed.
    async fn apply_statics(&mut self, old: Option<&Config>, new: &Config) {
        let mut errors = 0u64;
        if let Some(old) = old {
            for r in old
                .static_rules
                .iter()
                .filter(|r| !new.static_rules.contains(r))
            {
                if let Err(e) = self.nl.del_rule(r).await {
                    errors += 1;
                    tracing::warn!(error = %e, "cannot delete static rule");
                }
            }
            for r in old
                .static_routes
                .iter()
                .filter(|r| !new.static_routes.contains(r))
            {
                if let Err(e) = self.nl.del_route(r).await {
                    errors += 1;
                    tracing::warn!(error = %e, "cannot delete static route");
                }
            }
            for a in old
                .static_ipaddresses
                .iter()
                .filter(|a| !new.static_ipaddresses.contains(a))
            {
                if let Err(e) = self.nl.del_address(a).await {
                    errors += 1;
                    tracing::warn!(error = %e, "cannot delete static address");
                }
            }
        }
        for a in &new.static_ipaddresses {
            if let Err(e) = self.nl.add_address(a).await {
                errors += 1;
                tracing::error!(error = %e, "cannot add static address");
            }
        }
        for r in &new.static_routes {
            if let Err(e) = self.nl.add_route(r).await {
                errors += 1;
                tracing::error!(error = %e, "cannot add static route");
            }
        }
        for r in &new.static_rules {
            if let Err(e) = self.nl.add_rule(r).await {
                errors += 1;
                tracing::error!(error = %e, "cannot add static rule");
            }
        }
        self.netlink_errors += errors;
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
    }

    /// Current up/down of every interface an instance uses or tracks.
    async fn refresh_link_states(&mut self) {
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

    async fn start_instance(&mut self, cfg: VrrpInstance) {
        let global = self.cfg.global_defs.clone();
        let family = glue::family(cfg.family);
        let mut tx_if = cfg.interface.clone();
        let mut vmac = None;
        let mut stats = InstanceStats::default();
        if let Some(v) = &cfg.use_vmac {
            let mac = glue::vmac_mac(&cfg, v);
            match self.nl.add_vmac(&v.name, &cfg.interface, mac).await {
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
                    Ok(list) => glue::pick_source(family, &list, &glue::advertised_addrs(&cfg)),
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
        params.sync_group_member = !self.memberships(&cfg.name).is_empty();
        let policy = glue::rx_policy(&cfg, &global);
        let mut rt = Runtime {
            fsm: fsm::Instance::new(params),
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
        let now = Instant::now();
        let outcome = glue::tracked_priority(&rt.cfg, &self.cfg, &self.track);
        let fault = outcome.fault || !ok;
        rt.tracked = (outcome.priority, fault);
        let mut actions = rt.fsm.handle(Event::PriorityChanged(outcome.priority), now);
        if fault {
            actions.extend(rt.fsm.handle(Event::Fault(true), now));
        }
        // Joining a sync group that is already held in FAULT.
        let name = rt.cfg.name.clone();
        if self
            .memberships(&name)
            .iter()
            .any(|(g, _)| self.groups[*g].sg.state() == State::Fault)
        {
            actions.extend(rt.fsm.handle(Event::SyncGroup(SyncCommand::GoFault), now));
        }
        actions.extend(rt.fsm.handle(Event::Startup, now));
        tracing::info!(instance = %rt.cfg.name, vrid = rt.cfg.virtual_router_id, iface = %rt.rx_if, src = ?rt.src, "VRRP instance started");
        self.instances.push(rt);
        let idx = self.instances.len() - 1;
        if fault {
            let cmds = self.group_fault(&name, true);
            self.apply_sync(cmds).await;
        }
        self.execute(idx, actions).await;
    }

    /// Shut one instance down: priority 0 if Master, VIPs removed, vmac deleted.
    async fn stop_instance(&mut self, idx: usize) {
        let actions = self.instances[idx]
            .fsm
            .handle(Event::Shutdown, Instant::now());
        self.execute(idx, actions).await;
        // Belt and braces: whatever the state, leave no VIPs behind.
        self.remove_vips(idx).await;
        if let Some(v) = self.instances[idx].vmac.clone() {
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
        for idx in 0..self.instances.len() {
            self.stop_instance(idx).await;
        }
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
        tracing::info!("VRRP engine stopped");
    }

    // -- actions ----------------------------------------------------------------

    async fn execute(&mut self, idx: usize, actions: Vec<Action>) {
        if let Some(ah) = self.instances[idx].ah.as_mut() {
            // keepalived `vrrp_state_goto_master`, before the first advert as Master.
            if actions.iter().any(|a| {
                matches!(
                    a,
                    Action::StateChanged {
                        to: State::Master,
                        ..
                    }
                )
            }) {
                ah.counter.on_goto_master();
            }
        }
        let mut follow_ups: Vec<(String, SyncCommand)> = Vec::new();
        for action in actions {
            match action {
                Action::SendAdvert { priority } => self.send_advert(idx, priority).await,
                Action::AddVips => self.add_vips(idx).await,
                Action::RemoveVips => self.remove_vips(idx).await,
                Action::SendGratuitous { repeat } => self.send_gratuitous(idx, repeat),
                Action::Notify(n) => self.notify(idx, n),
                Action::StateChanged { from, to, reason } => {
                    let rt = &mut self.instances[idx];
                    rt.stats.transitions += 1;
                    rt.last_transition = Some(std::time::SystemTime::now());
                    if to == State::Master {
                        rt.stats.became_master += 1;
                    }
                    if from == State::Master {
                        rt.stats.released_master += 1;
                    }
                    tracing::info!(instance = %rt.cfg.name, from = state_name(from), to = state_name(to), ?reason, priority = rt.fsm.effective_priority(), "VRRP state change");
                    let name = rt.cfg.name.clone();
                    for (g, m) in self.memberships(&name) {
                        let grp = &mut self.groups[g];
                        for (j, cmd) in grp.sg.on_transition(m, from, to, reason) {
                            if let Some(member) = grp.members.get(j) {
                                follow_ups.push((member.clone(), cmd));
                            }
                        }
                    }
                    self.notify_groups();
                }
            }
        }
        // A member whose Master_Down_Timer fired only *wants* Master; the group
        // goes Master once every member wants it (sync_group.rs).
        let wants = self.instances[idx].fsm.wants_master();
        let name = self.instances[idx].cfg.name.clone();
        for (g, m) in self.memberships(&name) {
            let grp = &mut self.groups[g];
            for (j, cmd) in grp.sg.on_member_wants_master(m, wants) {
                if let Some(member) = grp.members.get(j) {
                    follow_ups.push((member.clone(), cmd));
                }
            }
        }
        self.apply_sync(follow_ups).await;
    }

    /// (group index, member index) of every sync group `name` belongs to.
    fn memberships(&self, name: &str) -> Vec<(usize, usize)> {
        self.groups
            .iter()
            .enumerate()
            .filter_map(|(g, grp)| grp.members.iter().position(|m| m == name).map(|m| (g, m)))
            .collect()
    }

    /// Tell the sync groups of `name` that its own tracking fault changed.
    fn group_fault(&mut self, name: &str, faulted: bool) -> Vec<(String, SyncCommand)> {
        let mut out = Vec::new();
        for (g, m) in self.memberships(name) {
            let grp = &mut self.groups[g];
            for (j, cmd) in grp.sg.on_member_fault(m, faulted) {
                if let Some(member) = grp.members.get(j) {
                    out.push((member.clone(), cmd));
                }
            }
        }
        out
    }

    /// Deliver sync group commands; the transitions they cause carry
    /// `Reason::SyncGroup` and so never produce further commands.
    async fn apply_sync(&mut self, cmds: Vec<(String, SyncCommand)>) {
        for (name, cmd) in cmds {
            if let Some(j) = self.instances.iter().position(|r| r.cfg.name == name) {
                let actions = self.instances[j]
                    .fsm
                    .handle(Event::SyncGroup(cmd), Instant::now());
                Box::pin(self.execute(j, actions)).await;
            }
        }
    }

    /// Build the sync group coordinators from the configuration, seeded with
    /// the current member states (reload keeps running instances).
    fn rebuild_groups(&mut self) {
        self.groups = self
            .cfg
            .vrrp_sync_groups
            .iter()
            .map(|g| GroupRt {
                name: g.name.clone(),
                members: g.group.clone(),
                sg: SyncGroup::new(g.group.len()),
                notified: None,
            })
            .collect();
        for grp in &mut self.groups {
            for (m, name) in grp.members.iter().enumerate() {
                if let Some(rt) = self.instances.iter().find(|r| &r.cfg.name == name) {
                    // Seeding only: the commands are already in effect.
                    let _ = grp.sg.on_transition(
                        m,
                        State::Initialize,
                        rt.fsm.state(),
                        Reason::SyncGroup,
                    );
                    let _ = grp.sg.on_member_fault(m, rt.tracked.1);
                }
            }
        }
    }

    /// Notify group scripts / FIFO when a group's aggregate state changes.
    fn notify_groups(&mut self) {
        let cfg = self.cfg.clone();
        for grp in &mut self.groups {
            let state = grp.sg.state();
            if grp.notified == Some(state) {
                continue;
            }
            grp.notified = Some(state);
            let Some(g) = cfg.vrrp_sync_groups.iter().find(|g| g.name == grp.name) else {
                continue;
            };
            let (label, specific) = match state {
                State::Master => ("MASTER", g.notify_master.as_ref()),
                State::Backup => ("BACKUP", g.notify_backup.as_ref()),
                State::Fault => ("FAULT", g.notify_fault.as_ref()),
                // Startup passes through Initialize: nothing to report yet.
                State::Initialize => continue,
            };
            self.notifier.notify(
                Subject::Group(&g.name),
                label,
                0,
                specific,
                g.notify.as_ref(),
            );
        }
    }

    async fn send_advert(&mut self, idx: usize, priority: u8) {
        let rt = &mut self.instances[idx];
        let Some(src) = rt.src else { return };
        let Some(sock) = self.sockets.get(&(rt.tx_if.clone(), rt.family)).cloned() else {
            self.iface_dirty = true;
            return;
        };
        let adv = glue::advertisement(&rt.cfg, priority);
        // AH: one sequence number per advert, whatever the number of peers.
        let unicast = !rt.cfg.unicast_peers.is_empty();
        let ah = rt.ah.as_mut().map(|a| (a.key.clone(), a.counter.next_tx()));
        for dst in rt.dsts.clone() {
            rt.ident = rt.ident.wrapping_add(1).max(1);
            let encoded = match &ah {
                Some((key, seq)) => glue::encode_advert_ah(
                    &adv,
                    src,
                    dst,
                    rt.ident,
                    rt.cfg.unicast_ttl,
                    key,
                    *seq,
                    unicast,
                ),
                None => glue::encode_advert(&adv, src, dst, rt.ident, rt.cfg.unicast_ttl),
            };
            let bytes = match encoded {
                Ok(b) => b,
                Err(e) => {
                    rt.stats.send_errors += 1;
                    tracing::error!(instance = %rt.cfg.name, error = %e, "cannot encode advert");
                    continue;
                }
            };
            let res = match (src, dst) {
                (_, IpAddr::V4(d)) => sock.send_v4(d, &bytes).await,
                (IpAddr::V6(s), IpAddr::V6(d)) => sock.send_v6(s, d, &bytes).await,
                _ => continue,
            };
            match res {
                Ok(()) => {
                    rt.stats.adverts_tx += 1;
                    if priority == 0 {
                        rt.stats.priority_zero_tx += 1;
                    }
                }
                Err(e) => {
                    rt.stats.send_errors += 1;
                    self.iface_dirty = true;
                    tracing::warn!(instance = %rt.cfg.name, error = %e, "advert send failed");
                }
            }
        }
    }

    async fn add_vips(&mut self, idx: usize) {
        let rt = &self.instances[idx];
        let set = AddrSet {
            vips: rt.vips.clone(),
            routes: rt.cfg.virtual_routes.clone(),
            rules: rt.cfg.virtual_rules.clone(),
        };
        self.change_addrs(idx, Change::Add, &set).await;
    }

    async fn remove_vips(&mut self, idx: usize) {
        let rt = &self.instances[idx];
        let set = AddrSet {
            vips: rt.vips.clone(),
            routes: rt.cfg.virtual_routes.clone(),
            rules: rt.cfg.virtual_rules.clone(),
        };
        self.change_addrs(idx, Change::Delete, &set).await;
    }

    /// Add or delete an instance's addresses, routes and rules: rules and
    /// routes go before the addresses they use on delete and after them on
    /// add. Failures are logged and counted on the instance, never fatal.
    async fn change_addrs(&mut self, idx: usize, change: Change, set: &AddrSet) {
        let mut errors = 0;
        let name = self.instances[idx].cfg.name.clone();
        let mut report = |what: &str, e: NetlinkError| {
            errors += 1;
            match change {
                Change::Add => tracing::error!(instance = %name, error = %e, "cannot add {what}"),
                Change::Delete => {
                    tracing::warn!(instance = %name, error = %e, "cannot delete {what}")
                }
            }
        };
        match change {
            Change::Add => {
                // All VIP requests go out back to back, then the acks are
                // collected: N VIPs cost one netlink round trip, not N. The
                // kernel still applies them in order (first in a subnet =
                // primary), as they are sent in order on one socket.
                let nl = &self.nl;
                for res in join_all(set.vips.iter().map(|v| nl.add_address(v))).await {
                    if let Err(e) = res {
                        report("VIP", e);
                    }
                }
                for r in &set.routes {
                    if let Err(e) = self.nl.add_route(r).await {
                        report("virtual route", e);
                    }
                }
                for r in &set.rules {
                    if let Err(e) = self.nl.add_rule(r).await {
                        report("virtual rule", e);
                    }
                }
            }
            Change::Delete => {
                for r in &set.rules {
                    if let Err(e) = self.nl.del_rule(r).await {
                        report("virtual rule", e);
                    }
                }
                for r in &set.routes {
                    if let Err(e) = self.nl.del_route(r).await {
                        report("virtual route", e);
                    }
                }
                let nl = &self.nl;
                for res in join_all(set.vips.iter().map(|v| nl.del_address(v))).await {
                    if let Err(e) = res {
                        report("VIP", e);
                    }
                }
            }
        }
        self.instances[idx].stats.netlink_errors += errors;
    }

    /// `repeat` rounds of GARP / unsolicited NA for every VIP, spaced by
    /// vrrp_garp_interval / vrrp_gna_interval, in the background.
    fn send_gratuitous(&mut self, idx: usize, repeat: u32) {
        let vips = self.instances[idx].vips.clone();
        let mut targets = Vec::new();
        for v in &vips {
            if let Some(a) = self.announcer(&v.dev) {
                targets.push((a, v.addr));
            }
        }
        let v4 = targets.iter().filter(|(_, a)| a.is_ipv4()).count() as u64;
        let v6 = targets.len() as u64 - v4;
        let rt = &mut self.instances[idx];
        rt.stats.garp_sent += v4 * u64::from(repeat);
        rt.stats.na_sent += v6 * u64::from(repeat);
        let garp_interval = self.cfg.global_defs.vrrp_garp_interval;
        let gna_interval = self.cfg.global_defs.vrrp_gna_interval;
        let name = rt.cfg.name.clone();
        tokio::spawn(async move {
            for _ in 0..repeat {
                for (a, ip) in &targets {
                    // vrrp_garp_interval / vrrp_gna_interval: delay between
                    // messages on an interface (keepalived), 0 = back to back.
                    let (res, gap) = match ip {
                        IpAddr::V4(v4) => (a.send_garp(*v4), garp_interval),
                        IpAddr::V6(v6) => (a.send_na(*v6, false), gna_interval),
                    };
                    if let Err(e) = res {
                        tracing::warn!(instance = %name, error = %e, "gratuitous announcement failed");
                    }
                    if !gap.is_zero() {
                        tokio::time::sleep(gap).await;
                    }
                }
            }
        });
    }

    fn notify(&mut self, idx: usize, n: fsm::Notify) {
        let rt = &self.instances[idx];
        let c = &rt.cfg;
        let (state, specific, generic) = match n {
            fsm::Notify::Master => ("MASTER", c.notify_master.as_ref(), c.notify.as_ref()),
            fsm::Notify::Backup => ("BACKUP", c.notify_backup.as_ref(), c.notify.as_ref()),
            fsm::Notify::Fault => ("FAULT", c.notify_fault.as_ref(), c.notify.as_ref()),
            fsm::Notify::Stop => ("STOP", c.notify_stop.as_ref(), c.notify.as_ref()),
            fsm::Notify::MasterRxLowerPri => (
                "MASTER_RX_LOWER_PRI",
                c.notify_master_rx_lower_pri.as_ref(),
                None,
            ),
        };
        let before = self.notifier.errors;
        self.notifier.notify(
            Subject::Instance(&c.name),
            state,
            rt.fsm.effective_priority(),
            specific,
            generic,
        );
        let failed = self.notifier.errors - before;
        self.instances[idx].stats.script_errors += failed;
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
            let state = rt.fsm.state();
            let role = match state {
                State::Backup => AhRole::Backup,
                State::Master => AhRole::Master,
                _ => AhRole::Other,
            };
            let wants_vip_check = rt.fsm.wants_vip_check(rx.src);
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
                    rt.fsm.effective_priority(),
                    cmp,
                );
                if synced {
                    tracing::info!(instance = %rt.cfg.name, seq = ah.counter.seq, "IPSEC-AH : Syncing seq_num - Increment seq");
                }
            }
            let actions = rt.fsm.handle(
                Event::AdvertReceived {
                    from: rx.src,
                    adv: rx.adv.clone(),
                },
                now,
            );
            self.execute(idx, actions).await;
        }
    }

    async fn on_timer(&mut self) {
        let now = Instant::now();
        for idx in 0..self.instances.len() {
            if self.instances[idx]
                .fsm
                .next_deadline()
                .is_some_and(|d| d <= now)
            {
                let actions = self.instances[idx].fsm.handle(Event::Timer, now);
                self.execute(idx, actions).await;
            }
        }
    }

    async fn on_net_event(&mut self, ev: NetEvent) {
        tracing::debug!(event = ?ev, "netlink event");
        match ev {
            NetEvent::AddressRemoved { ifindex, addr, .. } => {
                let name = nix::net::if_::if_indextoname(ifindex)
                    .ok()
                    .and_then(|c| c.into_string().ok());
                for idx in 0..self.instances.len() {
                    let rt = &self.instances[idx];
                    if rt.fsm.state() != State::Master {
                        continue;
                    }
                    let lost: Vec<VirtualIpAddress> = rt
                        .vips
                        .iter()
                        .filter(|v| v.addr == addr && name.as_deref().is_none_or(|n| n == v.dev))
                        // Gone with its interface (a deleted vmac): restored
                        // when that is re-created (lifecycle.rs).
                        .filter(|v| addr::ifindex(&v.dev).is_some())
                        .cloned()
                        .collect();
                    let inst_name = rt.cfg.name.clone();
                    for v in lost {
                        tracing::warn!(instance = %inst_name, vip = %addr::vip_label(&v), "VIP removed externally while MASTER; restoring");
                        match self.nl.add_address(&v).await {
                            Ok(()) => self.instances[idx].stats.vip_restores += 1,
                            Err(e) => {
                                self.instances[idx].stats.netlink_errors += 1;
                                tracing::error!(error = %e, "VIP restore failed");
                            }
                        }
                    }
                }
            }
            NetEvent::Link { ifname, up, .. } => {
                if self.track.interfaces.get(&ifname) != Some(&up)
                    && self.is_tracked_interface(&ifname)
                {
                    tracing::info!(iface = %ifname, up, "tracked interface changed");
                    self.track.interfaces.insert(ifname, up);
                    self.retrack().await;
                }
                // Appeared, re-created or renamed: sockets and vmacs follow.
                self.sync_interfaces().await;
            }
            NetEvent::LinkRemoved { ifname, .. } => {
                if self.is_tracked_interface(&ifname) {
                    self.track.interfaces.insert(ifname, false);
                    self.retrack().await;
                }
                self.sync_interfaces().await;
            }
            NetEvent::AddressAdded { ifindex } => self.resolve_missing_sources(ifindex).await,
        }
    }

    /// Instances that started without a usable source address (e.g. IPv6
    /// link-local not yet configured) pick one up when it appears.
    async fn resolve_missing_sources(&mut self, ifindex: u32) {
        let mut changed = false;
        for idx in 0..self.instances.len() {
            let rt = &self.instances[idx];
            if rt.src.is_some() || addr::ifindex(&rt.rx_if) != Some(ifindex) {
                continue;
            }
            let list = match self.nl.addresses(ifindex).await {
                Ok(l) => l,
                Err(e) => {
                    self.instances[idx].stats.netlink_errors += 1;
                    tracing::warn!(error = %e, "cannot list interface addresses");
                    continue;
                }
            };
            tracing::debug!(ifindex, addresses = ?list, "address added; looking for a source address");
            let sync_member = !self.memberships(&self.instances[idx].cfg.name).is_empty();
            let rt = &mut self.instances[idx];
            if let Some(src) = glue::pick_source(rt.family, &list, &glue::advertised_addrs(&rt.cfg))
            {
                tracing::info!(instance = %rt.cfg.name, %src, "advert source address available");
                rt.src = Some(src);
                // The fsm's tie-break address is fixed at construction: rebuild it
                // (the instance has been in FAULT, so no state is lost).
                let mut params = glue::fsm_params(&rt.cfg, &self.cfg.global_defs, src);
                params.sync_group_member = sync_member;
                let mut fresh = fsm::Instance::new(params);
                let now = Instant::now();
                let mut actions = fresh.handle(Event::PriorityChanged(rt.tracked.0), now);
                actions.extend(fresh.handle(Event::Fault(true), now));
                actions.extend(fresh.handle(Event::Startup, now));
                rt.fsm = fresh;
                self.execute(idx, actions).await;
                changed = true;
            }
        }
        if changed {
            // Clears the FAULT if nothing else holds it.
            for rt in self.instances.iter_mut().filter(|r| r.src.is_some()) {
                rt.tracked.1 = rt.tracked.1 || rt.fsm.is_faulted();
            }
            self.retrack().await;
        }
    }

    fn is_tracked_interface(&self, name: &str) -> bool {
        self.track.interfaces.contains_key(name)
    }

    async fn on_track_update(&mut self, up: TrackUpdate) {
        match up {
            TrackUpdate::Script { name, status } => {
                self.track.scripts.insert(name, status);
            }
            TrackUpdate::File { name, value } => {
                self.track.files.insert(name, value);
            }
            TrackUpdate::ScriptError { name } => {
                for rt in self
                    .instances
                    .iter_mut()
                    .filter(|r| r.cfg.track_scripts.iter().any(|t| t.name == name))
                {
                    rt.stats.script_errors += 1;
                }
                return;
            }
        }
        self.retrack().await;
    }

    /// Recompute every instance's tracked priority/fault and feed changes to the fsm.
    async fn retrack(&mut self) {
        for idx in 0..self.instances.len() {
            let now = Instant::now();
            // Never Master without sockets to advertise on (lifecycle.rs).
            let ready = self.sockets_ready(idx);
            let rt = &mut self.instances[idx];
            let outcome = glue::tracked_priority(&rt.cfg, &self.cfg, &self.track);
            // A missing source address keeps the instance in fault regardless.
            let fault = outcome.fault || rt.src.is_none() || !ready;
            let prio = outcome.priority;
            let mut actions = Vec::new();
            if prio != rt.tracked.0 {
                tracing::info!(instance = %rt.cfg.name, from = rt.tracked.0, to = prio, "priority changed by tracking");
                actions.extend(rt.fsm.handle(Event::PriorityChanged(prio), now));
            }
            let fault_changed = fault != rt.tracked.1;
            rt.tracked = (prio, fault);
            if fault_changed {
                let name = rt.cfg.name.clone();
                // Group peers first, then the member itself (sync_group.rs contract).
                let cmds = self.group_fault(&name, fault);
                self.apply_sync(cmds).await;
                actions.extend(self.instances[idx].fsm.handle(Event::Fault(fault), now));
            }
            if !actions.is_empty() {
                self.execute(idx, actions).await;
            }
        }
    }

    // -- control ------------------------------------------------------------------

    async fn control(&mut self, msg: Control) {
        match msg {
            Control::Reload(new) => self.reload(new).await,
            Control::Stop => {}
            Control::DumpData(tx) => {
                let _ = tx.send(self.dump_data());
            }
            Control::DumpStats(tx) => {
                let _ = tx.send(self.dump_stats());
            }
            Control::DumpStatsClear(tx) => {
                // keepalived's vrrp_print_stats(true) (vrrp/vrrp_print.c):
                // write each instance's stats, then zero them.
                tracing::info!(
                    "Printing and clearing VRRP stats for process({}) on signal",
                    std::process::id()
                );
                let _ = tx.send(self.dump_stats());
                for rt in &mut self.instances {
                    rt.stats = InstanceStats::default();
                }
            }
            Control::DumpJson(tx) => {
                let _ = tx.send(self.dump_json());
            }
            Control::Metrics(tx) => {
                let _ = tx.send(self.metrics());
            }
        }
    }

    /// Reload as keepalived 2.2.7 does (`reload_vrrp_thread` →
    /// `clear_diff_vrrp`; the pairing is [`reload::plan`]): an instance whose
    /// identity (vrid, interface, family, transport) is still configured keeps
    /// its state and gets every other change in place
    /// ([`Engine::update_in_place`]); one that is gone stops (priority 0);
    /// a new one starts. Addresses of a stopped instance stay installed until
    /// the new instances have started, and only those no MASTER instance owns
    /// then are removed: a vrid or interface change of an instance that owns
    /// its VIP at once (priority 255, `state MASTER`) keeps the VIP without a gap.
    async fn reload(&mut self, new: Arc<Config>) {
        tracing::info!("VRRP reload");
        let old_cfg = self.cfg.clone();
        let olds: Vec<&VrrpInstance> = self.instances.iter().map(|r| &r.cfg).collect();
        let plan = reload::plan(
            &olds,
            &old_cfg.global_defs,
            &new.vrrp_instances,
            &new.global_defs,
        );
        // 1. Stop the instances that are gone, holding their addresses.
        let mut held: Vec<AddrSet> = Vec::new();
        let mut updates: Vec<(usize, usize)> = Vec::new();
        let mut idx = 0;
        for fate in &plan.fates {
            match *fate {
                reload::Fate::Stop => {
                    tracing::info!(instance = %self.instances[idx].cfg.name, "VRRP reload: instance removed or its vrid/interface/family changed; stopping it");
                    if self.instances[idx].vmac.is_some() {
                        // Its addresses live on its vmac, which goes with it.
                        self.stop_instance(idx).await;
                    } else {
                        held.push(self.stop_instance_holding(idx).await);
                    }
                    let gone = self.instances.remove(idx);
                    if let Some(ah) = gone.ah {
                        // Restarted under the same name (a vrid or interface
                        // change): keep the AH sequence counter.
                        self.ah_counters.insert(gone.cfg.name, ah.counter);
                    }
                }
                reload::Fate::InPlace { new: j } => {
                    updates.push((idx, j));
                    idx += 1;
                }
                reload::Fate::Unchanged { new: j } => {
                    // Joining or leaving a sync group changes how the
                    // instance goes Master (consensus): update it too.
                    let member = |c: &Config, name: &str| {
                        c.vrrp_sync_groups
                            .iter()
                            .any(|g| g.group.iter().any(|m| m == name))
                    };
                    let name = self.instances[idx].cfg.name.as_str();
                    if member(&old_cfg, name) != member(&new, name) {
                        updates.push((idx, j));
                    }
                    idx += 1;
                }
            }
        }
        // 2. The new configuration's objects: global settings, tracking.
        self.cfg = new.clone();
        if old_cfg.global_defs != new.global_defs {
            self.notifier = Notifier::new(&new.global_defs);
            // Script pollers run with the notifier's runner (script_user...):
            // restart them, their status carried over.
            for (_, w) in self.watchers.drain(..) {
                w.abort();
            }
        }
        self.start_watchers();
        self.refresh_link_states().await;
        // 3. Changed instances, in place.
        for (idx, j) in updates {
            if let Some(inst) = new.vrrp_instances.get(j) {
                self.update_in_place(idx, inst.clone()).await;
            }
        }
        self.apply_statics(Some(&old_cfg), &new).await;
        self.rebuild_groups();
        // 4. New instances.
        for j in plan.start {
            if let Some(inst) = new.vrrp_instances.get(j) {
                self.start_instance(inst.clone()).await;
            }
        }
        self.ah_counters.clear();
        // 5. Release what the stopped instances held and no MASTER owns now.
        for set in held {
            self.release_unowned(set).await;
        }
        // Tracking of the new configuration (new objects, weights, faults).
        self.retrack().await;
        // Close sockets nobody uses any more.
        let used: Vec<SockKey> = self
            .instances
            .iter()
            .flat_map(|r| [(r.rx_if.clone(), r.family), (r.tx_if.clone(), r.family)])
            .collect();
        self.sockets.retain(|k, _| used.contains(k));
        self.ah_sockets.retain(|ifname, (_, t)| {
            let keep = self
                .instances
                .iter()
                .any(|r| r.ah.is_some() && &r.rx_if == ifname);
            if !keep {
                t.abort();
            }
            keep
        });
        self.socket_tasks.retain(|k, t| {
            let keep = used.contains(k);
            if !keep {
                t.abort();
            }
            keep
        });
    }

    /// [`Engine::stop_instance`] for a reload of an instance without a vmac:
    /// priority 0 and STOP as usual, but the addresses stay installed. They
    /// are returned so the caller can remove those no instance owns once the
    /// new instances have started.
    async fn stop_instance_holding(&mut self, idx: usize) -> AddrSet {
        let actions: Vec<Action> = self.instances[idx]
            .fsm
            .handle(Event::Shutdown, Instant::now())
            .into_iter()
            .filter(|a| *a != Action::RemoveVips)
            .collect();
        self.execute(idx, actions).await;
        let rt = &self.instances[idx];
        AddrSet {
            vips: rt.vips.clone(),
            routes: rt.cfg.virtual_routes.clone(),
            rules: rt.cfg.virtual_rules.clone(),
        }
    }

    /// Remove the entries of `set` that no MASTER instance owns.
    async fn release_unowned(&mut self, set: AddrSet) {
        let masters: Vec<&Runtime> = self
            .instances
            .iter()
            .filter(|r| r.fsm.state() == State::Master)
            .collect();
        let owned_vip = |v: &VirtualIpAddress| masters.iter().any(|r| r.vips.contains(v));
        let owned_route =
            |x: &VirtualRoute| masters.iter().any(|r| r.cfg.virtual_routes.contains(x));
        let owned_rule = |x: &VirtualRule| masters.iter().any(|r| r.cfg.virtual_rules.contains(x));
        let rules: Vec<VirtualRule> = set.rules.into_iter().filter(|x| !owned_rule(x)).collect();
        let routes: Vec<VirtualRoute> =
            set.routes.into_iter().filter(|x| !owned_route(x)).collect();
        let (kept, vips): (Vec<_>, Vec<_>) = set.vips.into_iter().partition(|v| owned_vip(v));
        for v in &kept {
            tracing::info!(vip = %addr::vip_label(v), "VRRP reload: address kept by the new MASTER instance");
        }
        let mut errors = 0u64;
        for r in &rules {
            if let Err(e) = self.nl.del_rule(r).await {
                errors += 1;
                tracing::warn!(error = %e, "cannot delete virtual rule");
            }
        }
        for r in &routes {
            if let Err(e) = self.nl.del_route(r).await {
                errors += 1;
                tracing::warn!(error = %e, "cannot delete virtual route");
            }
        }
        for v in &vips {
            if let Err(e) = self.nl.del_address(v).await {
                errors += 1;
                tracing::warn!(error = %e, "cannot delete VIP");
            }
        }
        self.netlink_errors += errors;
    }

    /// Apply a changed configuration to a running instance of the same
    /// identity (keepalived `restore_vrrp_state()` + `vrrp_init_state()`):
    /// state, counters and installed addresses stay; while Master only the
    /// addresses that differ are removed or added, and newly added ones are
    /// announced (GARP/NA). Everything the instance derives from its
    /// configuration is rebuilt; the state machine takes the new parameters
    /// through [`fsm::Instance::reload`] (a Master advertises the new
    /// priority and interval at once, a Backup restarts Master_Down_Timer).
    async fn update_in_place(&mut self, idx: usize, new: VrrpInstance) {
        let global = self.cfg.global_defs.clone();
        let rt = &self.instances[idx];
        let changed = reload::changed_fields(&rt.cfg, &new);
        tracing::info!(instance = %new.name, changed = ?changed, "VRRP reload: applied in place");
        let vips = vips_on(&new, rt.vmac.as_deref());
        let master = rt.fsm.state() == State::Master;
        let mut added_addrs = false;
        if master {
            let minus = |a: &AddrSet, b: &AddrSet| AddrSet {
                vips: a
                    .vips
                    .iter()
                    .filter(|v| !b.vips.contains(v))
                    .cloned()
                    .collect(),
                routes: a
                    .routes
                    .iter()
                    .filter(|r| !b.routes.contains(r))
                    .cloned()
                    .collect(),
                rules: a
                    .rules
                    .iter()
                    .filter(|r| !b.rules.contains(r))
                    .cloned()
                    .collect(),
            };
            let old = AddrSet {
                vips: rt.vips.clone(),
                routes: rt.cfg.virtual_routes.clone(),
                rules: rt.cfg.virtual_rules.clone(),
            };
            let next = AddrSet {
                vips: vips.clone(),
                routes: new.virtual_routes.clone(),
                rules: new.virtual_rules.clone(),
            };
            let add = minus(&next, &old);
            added_addrs = !add.vips.is_empty();
            self.change_addrs(idx, Change::Delete, &minus(&old, &next))
                .await;
            self.change_addrs(idx, Change::Add, &add).await;
        }
        // A changed mcast_src_ip (multicast; a unicast source is identity):
        // pick the advert source again.
        let mut src = self.instances[idx].src;
        if glue::configured_source(&new) != glue::configured_source(&self.instances[idx].cfg) {
            src = match glue::configured_source(&new) {
                Some(s) => Some(s),
                None => match addr::ifindex(&new.interface) {
                    Some(i) => match self.nl.addresses(i).await {
                        Ok(list) => glue::pick_source(
                            self.instances[idx].family,
                            &list,
                            &glue::advertised_addrs(&new),
                        ),
                        Err(e) => {
                            self.instances[idx].stats.netlink_errors += 1;
                            tracing::warn!(error = %e, "cannot list interface addresses");
                            None
                        }
                    },
                    None => None,
                },
            };
        }
        let family = self.instances[idx].family;
        let primary = src.unwrap_or(match family {
            Family::Ipv4 => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            Family::Ipv6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        });
        let mut params = glue::fsm_params(&new, &global, primary);
        params.sync_group_member = self
            .cfg
            .vrrp_sync_groups
            .iter()
            .any(|g| g.group.contains(&new.name));
        let outcome = glue::tracked_priority(&new, &self.cfg, &self.track);
        let policy = glue::rx_policy(&new, &global);
        let dsts = glue::destinations(&new, &global);
        let rt = &mut self.instances[idx];
        if outcome.priority != rt.fsm.effective_priority() {
            tracing::info!(instance = %new.name, from = rt.fsm.effective_priority(), to = outcome.priority, "VRRP reload: priority changed");
        }
        rt.vips = vips;
        rt.policy = policy;
        rt.dsts = dsts;
        rt.src = src;
        rt.tracked.0 = outcome.priority;
        // auth_type/auth_pass changed to, from or within AH: a new key, the
        // sequence counter kept (keepalived `restore_vrrp_state`).
        let ah_key = glue::ah_key(&new);
        if rt.ah.as_ref().map(|a| &a.key) != ah_key.as_ref() {
            let counter = rt.ah.as_ref().map(|a| a.counter);
            rt.ah = ah_key.map(|k| {
                let mut st = AhState::new(k);
                if let Some(c) = counter {
                    st.counter = c;
                }
                st
            });
        }
        let needs_ah_socket = rt.ah.is_some() && !self.ah_sockets.contains_key(&new.interface);
        let groups: Vec<IpAddr> = rt
            .dsts
            .iter()
            .copied()
            .filter(|d| d.is_multicast())
            .collect();
        rt.cfg = new;
        if needs_ah_socket {
            let ifname = self.instances[idx].cfg.interface.clone();
            if let Err(e) = self.ah_socket_for(&ifname, &groups) {
                self.socket_errors += 1;
                tracing::error!(iface = %ifname, error = %e, "cannot open IPsec AH socket");
            }
        }
        let rt = &mut self.instances[idx];
        let actions = rt.fsm.reload(params, outcome.priority, Instant::now());
        self.execute(idx, actions).await;
        if master && added_addrs {
            // keepalived restore_vrrp_state(): addresses were added, so
            // vrrp_send_link_update(garp_rep).
            let repeat = self.instances[idx].cfg.garp_master_repeat;
            self.send_gratuitous(idx, repeat);
        }
    }

    fn dump_data(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::from("------< VRRP Topology >------\n");
        for rt in &self.instances {
            let c = &rt.cfg;
            let _ = writeln!(s, " VRRP Instance = {}", c.name);
            let _ = writeln!(s, "   State = {}", rt.state_name());
            let _ = writeln!(s, "   Interface = {}", c.interface);
            let _ = writeln!(s, "   Virtual Router ID = {}", c.virtual_router_id);
            let _ = writeln!(s, "   VRRP Version = {}", c.version.number());
            let _ = writeln!(s, "   Priority = {}", c.priority);
            let _ = writeln!(s, "   Effective priority = {}", rt.fsm.effective_priority());
            let _ = writeln!(s, "   Advert interval = {}ms", c.advert_int.as_millis());
            let _ = writeln!(
                s,
                "   Preempt = {}",
                if c.nopreempt { "disabled" } else { "enabled" }
            );
            if let Some(src) = rt.src {
                let _ = writeln!(s, "   Using src_ip = {src}");
            }
            if let Some(m) = rt.fsm.master_addr() {
                let _ = writeln!(s, "   Master router = {m}");
                let _ = writeln!(
                    s,
                    "   Master priority = {}",
                    rt.fsm.master_priority().unwrap_or(0)
                );
            }
            let _ = writeln!(s, "   Virtual IP = {}", rt.vips.len());
            for v in &rt.vips {
                let _ = writeln!(s, "     {}", addr::vip_label(v));
            }
        }
        s
    }

    fn dump_stats(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        for rt in &self.instances {
            let st = &rt.stats;
            let _ = writeln!(s, "VRRP Instance: {}", rt.cfg.name);
            let _ = writeln!(
                s,
                "  Advertisements:\n    Received: {}\n    Sent: {}",
                st.adverts_rx, st.adverts_tx
            );
            let _ = writeln!(
                s,
                "  Became master: {}\n  Released master: {}",
                st.became_master, st.released_master
            );
            let _ = writeln!(
                s,
                "  Priority Zero:\n    Received: {}\n    Sent: {}",
                st.priority_zero_rx, st.priority_zero_tx
            );
            let _ = writeln!(s, "  VIP restores: {}", st.vip_restores);
            let _ = writeln!(s, "  Drops:");
            for (reason, n) in st.drops.iter().filter(|(_, n)| *n > 0) {
                let _ = writeln!(s, "    {reason}: {n}");
            }
        }
        let _ = writeln!(s, "Unmatched drops: {}", self.unmatched.total());
        s
    }

    fn dump_json(&self) -> serde_json::Value {
        let list: Vec<serde_json::Value> = self
            .instances
            .iter()
            .map(|rt| {
                serde_json::json!({
                    "iname": rt.cfg.name,
                    "state": rt.state_name(),
                    "vrid": rt.cfg.virtual_router_id,
                    "interface": rt.cfg.interface,
                    "version": rt.cfg.version.number(),
                    "priority": rt.cfg.priority,
                    "effective_priority": rt.fsm.effective_priority(),
                    "master_addr": rt.fsm.master_addr(),
                    "src": rt.src,
                    "vips": rt.vips.iter().map(|v| format!("{}/{}", v.addr, v.prefix_len)).collect::<Vec<_>>(),
                    "last_transition": rt.last_transition
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_secs_f64()),
                    "stats": &rt.stats,
                })
            })
            .collect();
        serde_json::json!({ "vrrp": list })
    }

    fn metrics(&self) -> String {
        let views: Vec<metrics::InstanceMetrics<'_>> = self
            .instances
            .iter()
            .map(|rt| metrics::InstanceMetrics {
                name: &rt.cfg.name,
                interface: &rt.cfg.interface,
                vrid: rt.cfg.virtual_router_id,
                state: rt.state_name(),
                priority: rt.cfg.priority,
                effective_priority: rt.fsm.effective_priority(),
                stats: &rt.stats,
            })
            .collect();
        metrics::render(
            &views,
            &self.unmatched,
            metrics::EngineCounters {
                socket_errors: self.socket_errors,
                netlink_errors: self.netlink_errors,
            },
        )
    }
}
