//! A tokio engine running N BFD sessions: keepalived 2.2.7's bfd process
//! (bfd_daemon.c + bfd_scheduler.c) without the process around it.
//!
//! ```no_run
//! # async fn f() -> Result<(), rkeepalived_bfd::EngineError> {
//! use rkeepalived_bfd::{BfdEngine, SessionConfig};
//! let cfg = SessionConfig::new("peer1", "192.0.2.2".parse().unwrap());
//! let (handle, mut events) = BfdEngine::spawn(vec![cfg])?;
//! while let Some(ev) = events.recv().await {
//!     println!("{} {}", ev.name, ev.state);
//! }
//! # handle.shutdown(); Ok(()) }
//! ```
//!
//! The engine opens send sockets later too (a reload, a retry after
//! AdminDown), on the runtime's threads: run the runtime in the network
//! namespace the sessions live in.
//!
//! Every session reports its state once at start (Down, as
//! `bfd_register_workers()` does), then on each change keepalived reports
//! (`bfd_event_send()`: Up, and Down from Up unless the peer said AdminDown).

use std::collections::HashMap;
use std::net::{IpAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::Interest;
use tokio::net::UdpSocket as TokioUdp;
use tokio::sync::mpsc;

use crate::rng::Rng;
use crate::session::{Output, Session, SessionParams, SessionState};
use crate::socket::{self, Received, BFD_CONTROL_HOPLIMIT, BFD_CONTROL_PORT, BFD_CONTROL_TTL};
use crate::wire::{self, ControlPacket, Diag, DropReason, MAX_RECEIVE_LEN};

/// keepalived retries opening a session's output socket every 60 s
/// (`bfd_open_fd_out_thread()`).
const REOPEN_INTERVAL: Duration = Duration::from_secs(60);

/// One session, as a `bfd_instance` block describes it (plain data).
/// Intervals are in microseconds, as keepalived stores them (its parser
/// reads milliseconds with up to 3 decimals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// The instance name (`bfd_instance NAME`), reported with each event.
    pub name: String,
    /// `neighbor_ip`.
    pub neighbor: IpAddr,
    /// `source_ip`: packets to this session must arrive on it, and it is
    /// the address packets are sent from.
    pub source: Option<IpAddr>,
    /// `min_rx` (default 10 ms).
    pub min_rx_us: u32,
    /// `min_tx` (default 10 ms).
    pub min_tx_us: u32,
    /// `idle_tx` (default 1000 ms).
    pub idle_tx_us: u32,
    /// `multiplier` (default 5).
    pub multiplier: u8,
    /// `passive`.
    pub passive: bool,
    /// `ttl` / `hoplimit`: the TTL / hop limit sent, and the base of the
    /// receive check (`ttl - max_hops`). `None`: send 255 (RFC 5881 §5);
    /// check against keepalived's defaults, 255 for IPv4 and 64 for IPv6
    /// (`BFD_CONTROL_TTL`, `BFD_CONTROL_HOPLIMIT`). See the README.
    pub ttl: Option<u8>,
    /// `max_hops` (default 0: the TTL must be exactly `ttl`); 255 is
    /// keepalived's `max_hops -1`, no check.
    pub max_hops: u8,
}

impl SessionConfig {
    /// A session with keepalived's defaults.
    pub fn new(name: impl Into<String>, neighbor: IpAddr) -> SessionConfig {
        let d = SessionParams::default();
        SessionConfig {
            name: name.into(),
            neighbor,
            source: None,
            min_rx_us: d.min_rx_us,
            min_tx_us: d.min_tx_us,
            idle_tx_us: d.idle_tx_us,
            multiplier: d.detect_mult,
            passive: false,
            ttl: None,
            max_hops: 0,
        }
    }

    /// The TTL / hop limit sent: 255 unless configured. keepalived sends
    /// 64 to an IPv6 neighbor by default, which FRR's bfdd and BIRD drop
    /// (RFC 5881 §5 wants 255).
    pub fn effective_ttl(&self) -> u8 {
        self.ttl.unwrap_or(BFD_CONTROL_TTL)
    }

    /// The base of the receive check: the configured `ttl`, else
    /// keepalived's default (`bfd_end_handler()`): 255 for IPv4, 64 for
    /// IPv6, so a keepalived 2.2.7 peer's default IPv6 packets (hop limit
    /// 64) are accepted as keepalived accepts them.
    ///
    /// A link-local neighbor is checked against 255 (RFC 5881 §5, what FRR
    /// and BIRD send): keepalived 2.2.7 cannot run such a session at all
    /// ([`crate::scope`]), so there is no keepalived peer to stay
    /// compatible with, and a packet from off-link is refused.
    pub fn receive_ttl(&self) -> u8 {
        self.ttl.unwrap_or(
            if self.neighbor.is_ipv4() || crate::scope::is_link_local(self.neighbor) {
                BFD_CONTROL_TTL
            } else {
                BFD_CONTROL_HOPLIMIT
            },
        )
    }

    /// `max_hops`, capped to the receive base as keepalived's
    /// `bfd_end_handler()` caps it to `ttl` (255 stays: no check).
    pub fn effective_max_hops(&self) -> u8 {
        if self.max_hops == u8::MAX {
            u8::MAX
        } else {
            self.max_hops.min(self.receive_ttl())
        }
    }

    fn params(&self) -> SessionParams {
        SessionParams {
            min_rx_us: self.min_rx_us,
            min_tx_us: self.min_tx_us,
            idle_tx_us: self.idle_tx_us,
            detect_mult: self.multiplier.max(1),
            passive: self.passive,
        }
    }
}

/// A session's state change (keepalived's `bfd_event_t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdEvent {
    pub name: String,
    pub state: SessionState,
    /// Why (the local diagnostic).
    pub diag: Diag,
    pub remote_diag: Diag,
}

/// Per-reason drop counters and traffic counters, shared with the handle.
#[derive(Debug, Default)]
pub struct DropCounters {
    drops: [AtomicU64; DropReason::ALL.len()],
    received: AtomicU64,
    sent: AtomicU64,
    send_errors: AtomicU64,
}

impl DropCounters {
    /// Packets dropped for `reason`.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.drops[reason.index()].load(Ordering::Relaxed)
    }

    /// Every reason with its count.
    pub fn snapshot(&self) -> Vec<(DropReason, u64)> {
        DropReason::ALL.iter().map(|r| (*r, self.get(*r))).collect()
    }

    /// Valid packets handed to a session.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Packets sent.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Failed sends.
    pub fn send_errors(&self) -> u64 {
        self.send_errors.load(Ordering::Relaxed)
    }

    fn count_drop(&self, reason: DropReason) {
        self.drops[reason.index()].fetch_add(1, Ordering::Relaxed);
    }
}

/// Errors starting the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// keepalived: `Unable to open listening socket` (it exits).
    #[error("unable to open listening socket: {0}")]
    Listen(#[source] std::io::Error),
}

enum Command {
    Reconfigure(Vec<SessionConfig>),
    Query(tokio::sync::oneshot::Sender<Vec<SessionInfo>>),
}

/// A session's state as the engine sees it (for status and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub name: String,
    pub state: wire::State,
    pub remote_state: wire::State,
    pub local_discr: u32,
    pub remote_discr: u32,
    pub tx_interval_us: u32,
    pub detect_time_us: u64,
    /// When the last valid packet from the peer arrived.
    pub last_seen: Option<Instant>,
}

/// Control of a running engine; dropping it stops the engine.
#[derive(Debug)]
pub struct BfdHandle {
    cmd: mpsc::UnboundedSender<Command>,
    counters: Arc<DropCounters>,
    task: tokio::task::JoinHandle<()>,
}

impl BfdHandle {
    /// Applies a new set of sessions (a reload): sessions kept by name keep
    /// their state and start a Poll Sequence when `min_rx`/`min_tx` changed
    /// (`bfd_complete_init()`); new ones start Down; missing ones stop.
    pub fn reconfigure(&self, configs: Vec<SessionConfig>) {
        let _ = self.cmd.send(Command::Reconfigure(configs));
    }

    /// The counters.
    pub fn counters(&self) -> &Arc<DropCounters> {
        &self.counters
    }

    /// Every session's current state.
    pub async fn sessions(&self) -> Vec<SessionInfo> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.cmd.send(Command::Query(tx)).is_err() {
            return vec![];
        }
        rx.await.unwrap_or_default()
    }

    /// Stops the engine at once (its sockets close; peers detect the loss
    /// as after a crash, as keepalived's bfd process exiting).
    pub fn shutdown(&self) {
        self.task.abort();
    }
}

impl Drop for BfdHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Slot {
    cfg: SessionConfig,
    session: Session,
    sender: Option<UdpSocket>,
    /// The interface of a link-local session, resolved when `sender` was
    /// opened ([`crate::scope`]).
    scope: Option<u32>,
    /// When to retry opening `sender` (AdminDown meanwhile).
    reopen_at: Option<Instant>,
    send_error: bool,
}

/// The engine (spawned on the current tokio runtime).
pub struct BfdEngine {
    /// `None` only in the socket-less [`harness`].
    rx4: Option<TokioUdp>,
    rx6: Option<TokioUdp>,
    slots: Vec<Slot>,
    counters: Arc<DropCounters>,
    events: mpsc::UnboundedSender<BfdEvent>,
    rng: Rng,
}

impl BfdEngine {
    /// Opens the receive sockets on port 3784 and starts every session.
    pub fn spawn(
        configs: Vec<SessionConfig>,
    ) -> Result<(BfdHandle, mpsc::UnboundedReceiver<BfdEvent>), EngineError> {
        Self::spawn_on_port(configs, BFD_CONTROL_PORT)
    }

    /// [`BfdEngine::spawn`] with another receive port (tests).
    pub fn spawn_on_port(
        configs: Vec<SessionConfig>,
        port: u16,
    ) -> Result<(BfdHandle, mpsc::UnboundedReceiver<BfdEvent>), EngineError> {
        let rx4 = socket::open_receiver(false, port)
            .and_then(TokioUdp::from_std)
            .map_err(EngineError::Listen)?;
        // Like keepalived, carry on without IPv6 when the system has none.
        let rx6 = match socket::open_receiver(true, port).and_then(TokioUdp::from_std) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!("BFD: no IPv6 listening socket ({e})");
                None
            }
        };
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let counters = Arc::new(DropCounters::default());
        let mut engine = BfdEngine {
            rx4: Some(rx4),
            rx6,
            slots: vec![],
            counters: counters.clone(),
            events: ev_tx,
            rng: Rng::from_entropy(),
        };
        engine.apply(configs, Instant::now());
        let task = tokio::spawn(engine.run(cmd_rx));
        Ok((
            BfdHandle {
                cmd: cmd_tx,
                counters,
                task,
            },
            ev_rx,
        ))
    }

    async fn run(mut self, mut cmds: mpsc::UnboundedReceiver<Command>) {
        let mut buf = [0u8; MAX_RECEIVE_LEN];
        loop {
            let deadline = self.next_deadline();
            let sleep = async {
                match deadline {
                    Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
                    None => std::future::pending().await,
                }
            };
            let rx4 = async {
                match &self.rx4 {
                    Some(s) => s.readable().await,
                    None => std::future::pending().await,
                }
            };
            let rx6 = async {
                match &self.rx6 {
                    Some(s) => s.readable().await,
                    None => std::future::pending().await,
                }
            };
            // Packets first: when the process was starved past a deadline,
            // what the peer sent meanwhile is read before any expiry runs.
            tokio::select! {
                biased;
                _ = rx4 => self.drain(false, &mut buf),
                _ = rx6 => self.drain(true, &mut buf),
                _ = sleep => {
                    self.drain(false, &mut buf);
                    self.drain(true, &mut buf);
                    self.timers(Instant::now());
                }
                c = cmds.recv() => match c {
                    Some(Command::Reconfigure(cfgs)) => self.apply(cfgs, Instant::now()),
                    Some(Command::Query(tx)) => { let _ = tx.send(self.info()); }
                    None => return,
                },
            }
        }
    }

    fn info(&self) -> Vec<SessionInfo> {
        self.slots
            .iter()
            .map(|s| SessionInfo {
                name: s.cfg.name.clone(),
                state: s.session.local_state(),
                remote_state: s.session.remote_state(),
                local_discr: s.session.local_discr(),
                remote_discr: s.session.remote_discr(),
                tx_interval_us: s.session.tx_interval_us(),
                detect_time_us: s.session.detect_time_us(),
                last_seen: s.session.last_seen(),
            })
            .collect()
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.slots
            .iter()
            .flat_map(|s| [s.session.next_deadline(), s.reopen_at])
            .flatten()
            .min()
    }

    fn timers(&mut self, now: Instant) {
        for i in 0..self.slots.len() {
            if self.slots[i].reopen_at.is_some_and(|t| t <= now) {
                self.reopen(i, now);
            }
            let mut out = vec![];
            self.slots[i].session.handle_timers(now, &mut out);
            self.outputs(i, out);
        }
    }

    /// Reads every queued datagram of one socket.
    fn drain(&mut self, v6: bool, buf: &mut [u8; MAX_RECEIVE_LEN]) {
        loop {
            let sock = match if v6 { &self.rx6 } else { &self.rx4 } {
                Some(s) => s,
                None => return,
            };
            // Read directly (MSG_DONTWAIT), not only when the reactor has
            // seen the socket ready: after a stall the timers branch reads
            // what is queued before expiring anything.
            match socket::recv(sock, buf) {
                Ok(r) => {
                    let len = r.len.min(buf.len());
                    let data = buf[..len].to_vec();
                    self.on_datagram(&r, &data, Instant::now());
                }
                Err(e) => {
                    if e.kind() != std::io::ErrorKind::WouldBlock {
                        tracing::error!("recvmsg() error ({e})");
                    }
                    // Clear the reactor's readiness (kept if a new event came).
                    let _ = sock.try_io(Interest::READABLE, || {
                        Err::<(), _>(std::io::Error::from(std::io::ErrorKind::WouldBlock))
                    });
                    return;
                }
            }
        }
    }

    /// `bfd_receive_packet()` + `bfd_handle_packet()`'s checks, then the
    /// session (the fuzz target and tests reach it through [`harness`]).
    fn on_datagram(&mut self, r: &Received, data: &[u8], now: Instant) {
        match self.classify(r, data) {
            Ok((i, pkt)) => {
                self.counters.received.fetch_add(1, Ordering::Relaxed);
                if self.slots[i].session.local_state() == wire::State::AdminDown {
                    // keepalived tries to open the output socket again.
                    self.reopen(i, now);
                }
                let mut out = vec![];
                self.slots[i].session.handle_packet(&pkt, now, &mut out);
                self.outputs(i, out);
            }
            Err(reason) => {
                tracing::debug!("Discarding packet from {} ({reason})", r.src);
                self.counters.count_drop(reason);
            }
        }
    }

    fn classify(&self, r: &Received, data: &[u8]) -> Result<(usize, ControlPacket), DropReason> {
        if r.truncated {
            return Err(DropReason::Truncated);
        }
        let pkt = ControlPacket::decode(data)?;
        let i = find_session(&self.slots, &pkt, r.src.ip(), r.dst, r.ifindex)
            .ok_or(DropReason::NoSession)?;
        let cfg = &self.slots[i].cfg;
        if !wire::ttl_ok(r.ttl, cfg.receive_ttl(), cfg.effective_max_hops()) {
            return Err(DropReason::BadTtl);
        }
        if pkt.auth {
            return Err(DropReason::AuthNotSupported);
        }
        Ok((i, pkt))
    }

    fn outputs(&mut self, i: usize, out: Vec<Output>) {
        for o in out {
            match o {
                Output::Send(pkt) => self.send(i, &pkt),
                Output::Event {
                    state,
                    diag,
                    remote_diag,
                } => {
                    let name = self.slots[i].cfg.name.clone();
                    tracing::info!("BFD ({name}) {state} ({diag})");
                    let _ = self.events.send(BfdEvent {
                        name,
                        state,
                        diag,
                        remote_diag,
                    });
                }
            }
        }
        self.unique_discr(i);
    }

    fn send(&mut self, i: usize, pkt: &ControlPacket) {
        let slot = &mut self.slots[i];
        let Some(sock) = &slot.sender else {
            return;
        };
        let dst = socket::destination(slot.cfg.neighbor, slot.scope);
        match sock.send_to(&pkt.encode(), dst) {
            Ok(_) => {
                slot.send_error = false;
                self.counters.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.counters.send_errors.fetch_add(1, Ordering::Relaxed);
                if !slot.send_error {
                    tracing::error!("({}) Error sending packet ({e})", slot.cfg.name);
                    slot.send_error = true;
                }
            }
        }
    }

    /// `bfd_get_random_discr()`'s collision check.
    fn unique_discr(&mut self, i: usize) {
        while self
            .slots
            .iter()
            .enumerate()
            .any(|(j, s)| j != i && s.session.local_discr() == self.slots[i].session.local_discr())
        {
            self.slots[i].session.reroll_discr();
        }
    }

    fn reopen(&mut self, i: usize, now: Instant) {
        if self.rx4.is_none() {
            // The socket-less harness: no traffic leaves it.
            return;
        }
        let slot = &mut self.slots[i];
        let opened = crate::scope::resolve_scope(slot.cfg.neighbor, slot.cfg.source)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e))
            .and_then(|scope| {
                socket::open_sender(
                    slot.cfg.neighbor,
                    slot.cfg.source,
                    scope,
                    slot.cfg.effective_ttl(),
                    &mut self.rng,
                )
                .map(|s| (s, scope))
            });
        match opened {
            Ok((s, scope)) => {
                slot.sender = Some(s);
                slot.scope = scope;
                slot.reopen_at = None;
                slot.session.admin_up(now);
            }
            Err(e) => {
                if slot.session.local_state() != wire::State::AdminDown {
                    tracing::error!(
                        "({}) Unable to open output socket, disabling instance ({e})",
                        slot.cfg.name
                    );
                    let mut out = vec![];
                    slot.session.admin_down(&mut out);
                }
                slot.reopen_at = Some(now + REOPEN_INTERVAL);
            }
        }
    }

    /// Starts, keeps or stops sessions (`bfd_complete_init()`).
    fn apply(&mut self, configs: Vec<SessionConfig>, now: Instant) {
        let mut old: HashMap<String, Slot> = self
            .slots
            .drain(..)
            .map(|s| (s.cfg.name.clone(), s))
            .collect();
        for cfg in configs {
            if self.slots.iter().any(|s| s.cfg.name == cfg.name) {
                tracing::warn!("BFD instance {} already configured - ignoring", cfg.name);
                continue;
            }
            if let Some(mut slot) = old.remove(&cfg.name) {
                slot.session.reconfigure(cfg.params());
                let reopen = slot.cfg.neighbor != cfg.neighbor
                    || slot.cfg.source != cfg.source
                    || slot.cfg.effective_ttl() != cfg.effective_ttl();
                slot.cfg = cfg;
                self.slots.push(slot);
                if reopen {
                    let i = self.slots.len() - 1;
                    self.reopen(i, now);
                }
                continue;
            }
            let session = Session::new(cfg.params(), Rng::seeded(self.rng.next_u64()));
            self.slots.push(Slot {
                cfg,
                session,
                sender: None,
                scope: None,
                reopen_at: None,
                send_error: false,
            });
            let i = self.slots.len() - 1;
            self.unique_discr(i);
            self.reopen(i, now);
            let mut out = vec![];
            self.slots[i].session.start(now, &mut out);
            self.outputs(i, out);
        }
    }
}

/// keepalived's session lookup: by Your Discriminator when set
/// (`find_bfd_by_discr()`), else by the neighbor (source) address and, for
/// a session with a `source_ip`, the destination address
/// (`find_bfd_by_addr()`). A link-local neighbor is matched only on the
/// interface its session uses (the same fe80:: address may live on every
/// link; keepalived 2.2.7 cannot run link-local sessions, see
/// [`crate::scope`]).
fn find_session(
    slots: &[Slot],
    pkt: &ControlPacket,
    src: IpAddr,
    dst: Option<IpAddr>,
    ifindex: u32,
) -> Option<usize> {
    if pkt.your_discr != 0 {
        return slots
            .iter()
            .position(|s| s.session.local_discr() == pkt.your_discr);
    }
    let src = canonical(src);
    slots.iter().position(|s| {
        canonical(s.cfg.neighbor) == src
            && match (s.scope, ifindex) {
                (Some(want), got) if got != 0 => want == got,
                _ => true,
            }
            && match (s.cfg.source, dst) {
                (None, _) | (_, None) => true,
                (Some(a), Some(d)) => canonical(a) == canonical(d),
            }
    })
}

fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// For the fuzz target and tests: one datagram through the engine's
/// checks and a session, without sockets.
pub mod harness {
    use super::*;

    /// A socket-less engine with `configs`, its sessions started at `now`.
    pub struct Harness {
        engine: BfdEngine,
        pub events: mpsc::UnboundedReceiver<BfdEvent>,
    }

    impl Harness {
        /// Opens no socket and sends nothing.
        pub fn new(configs: Vec<SessionConfig>, now: Instant) -> Harness {
            let (ev_tx, events) = mpsc::unbounded_channel();
            let mut engine = BfdEngine {
                rx4: None,
                rx6: None,
                slots: vec![],
                counters: Arc::default(),
                events: ev_tx,
                rng: Rng::seeded(1),
            };
            engine.apply(configs, now);
            Harness { engine, events }
        }

        /// Feeds one datagram.
        pub fn datagram(&mut self, r: &Received, data: &[u8], now: Instant) {
            self.engine.on_datagram(r, data, now);
        }

        /// A reload (as [`BfdHandle::reconfigure`]).
        pub fn reconfigure(&mut self, configs: Vec<SessionConfig>, now: Instant) {
            self.engine.apply(configs, now);
        }

        /// Runs the timers due at `now`.
        pub fn timers(&mut self, now: Instant) {
            self.engine.timers(now);
        }

        /// The counters.
        pub fn counters(&self) -> &DropCounters {
            &self.engine.counters
        }

        /// Session states.
        pub fn sessions(&self) -> Vec<SessionInfo> {
            self.engine.info()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(neighbor: &str, scope: Option<u32>) -> Slot {
        let cfg = SessionConfig::new("s", neighbor.parse().expect("addr"));
        let session = Session::new(cfg.params(), Rng::seeded(1));
        Slot {
            cfg,
            session,
            sender: None,
            scope,
            reopen_at: None,
            send_error: false,
        }
    }

    fn down() -> ControlPacket {
        ControlPacket {
            diag: Diag::NoDiagnostic,
            state: wire::State::Down,
            poll: false,
            final_: false,
            cpi: false,
            auth: false,
            demand: false,
            multipoint: false,
            detect_mult: 3,
            length: 24,
            my_discr: 7,
            your_discr: 0,
            desired_min_tx: 1_000_000,
            required_min_rx: 100_000,
            required_min_echo_rx: 0,
        }
    }

    /// The same fe80:: address can live on every link: a link-local
    /// neighbor's packet matches its session only on the session's
    /// interface (IPV6_PKTINFO's ifindex; 0 = unknown passes).
    #[test]
    fn link_local_neighbor_matches_only_on_its_interface() {
        let slots = vec![slot("fe80::2", Some(3)), slot("2001:db8::2", None)];
        let src: IpAddr = "fe80::2".parse().expect("addr");
        assert_eq!(find_session(&slots, &down(), src, None, 3), Some(0));
        assert_eq!(find_session(&slots, &down(), src, None, 4), None);
        assert_eq!(find_session(&slots, &down(), src, None, 0), Some(0));
        // A global neighbor does not care about the interface.
        let g: IpAddr = "2001:db8::2".parse().expect("addr");
        assert_eq!(find_session(&slots, &down(), g, None, 9), Some(1));
    }

    #[test]
    fn link_local_neighbor_receive_check_is_255() {
        let ll = SessionConfig::new("ll", "fe80::2".parse().expect("addr"));
        assert_eq!((ll.receive_ttl(), ll.effective_ttl()), (255, 255));
        let g = SessionConfig::new("g", "2001:db8::2".parse().expect("addr"));
        assert_eq!((g.receive_ttl(), g.effective_ttl()), (64, 255));
        let mut set = ll.clone();
        set.ttl = Some(64);
        assert_eq!(set.receive_ttl(), 64, "a configured hoplimit wins");
    }
}
