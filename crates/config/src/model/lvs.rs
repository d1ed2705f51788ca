//! LVS: `virtual_server_group`, `virtual_server`, `real_server`, `SSL`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::*;

/// `virtual_server_group NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualServerGroup {
    pub name: String,
    pub origin: Origin,
    pub members: Vec<VsgMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VsgMember {
    /// `IP [PORT]`; `first == last` for a single address. Ranges
    /// (`192.0.2.1-10`, `A-B`, `192.0.2.8/29`) are normalised to first/last.
    Range {
        first: IpAddr,
        last: IpAddr,
        port: Option<u16>,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        mark: u32,
        family: Option<AddressFamily>,
    },
}

/// What a virtual_server is keyed on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VirtualService {
    /// `IP [PORT]` (port may be omitted only for persistent services).
    Addr { addr: IpAddr, port: Option<u16> },
    /// `fwmark N`.
    Fwmark(u32),
    /// `group NAME` (a virtual_server_group).
    Group(String),
}

/// LVS scheduler (`lb_algo` / `lvs_sched`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scheduler {
    Rr,
    Wrr,
    Lc,
    Wlc,
    Lblc,
    Lblcr,
    Sh,
    Mh,
    Dh,
    Fo,
    Ovf,
    Sed,
    Nq,
    Twos,
}

impl Scheduler {
    pub const ALL: [Scheduler; 14] = [
        Scheduler::Rr,
        Scheduler::Wrr,
        Scheduler::Lc,
        Scheduler::Wlc,
        Scheduler::Lblc,
        Scheduler::Lblcr,
        Scheduler::Sh,
        Scheduler::Mh,
        Scheduler::Dh,
        Scheduler::Fo,
        Scheduler::Ovf,
        Scheduler::Sed,
        Scheduler::Nq,
        Scheduler::Twos,
    ];

    /// Kernel scheduler module name (as ipvsadm -s takes it).
    pub fn name(self) -> &'static str {
        match self {
            Scheduler::Rr => "rr",
            Scheduler::Wrr => "wrr",
            Scheduler::Lc => "lc",
            Scheduler::Wlc => "wlc",
            Scheduler::Lblc => "lblc",
            Scheduler::Lblcr => "lblcr",
            Scheduler::Sh => "sh",
            Scheduler::Mh => "mh",
            Scheduler::Dh => "dh",
            Scheduler::Fo => "fo",
            Scheduler::Ovf => "ovf",
            Scheduler::Sed => "sed",
            Scheduler::Nq => "nq",
            Scheduler::Twos => "twos",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Scheduler::ALL
            .iter()
            .copied()
            .find(|x| x.name().eq_ignore_ascii_case(s))
    }
}

/// Scheduler flags (`-b` in ipvsadm). `sh-fallback`/`mh-fallback` = flag-1,
/// `sh-port`/`mh-port` = flag-2 (IP_VS_SVC_F_SCHED1..3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulerFlags {
    pub flag_1: bool,
    pub flag_2: bool,
    pub flag_3: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TunnelType {
    Ipip,
    Gue { port: u16 },
    Gre,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TunnelChecksum {
    /// Not specified: kernel default.
    Default,
    NoCsum,
    Csum,
    RemCsum,
}

/// LVS forwarding method (`lb_kind` / `lvs_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ForwardingMethod {
    Nat,
    Dr,
    Tun {
        tunnel_type: TunnelType,
        checksum: TunnelChecksum,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

/// Checker options that flow down virtual_server -> real_server -> checker.
/// `None` = inherit (and finally the checker kind's keepalived default).
/// The resolved values live in each [`Checker::common`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckerDefaults {
    pub connect_timeout: Option<Duration>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub warmup: Option<Duration>,
    pub delay_loop: Option<Duration>,
    pub alpha: Option<bool>,
    /// Only settable on a checker (keepalived 2.2.7 has no VS/RS-level key).
    pub log_all_failures: Option<bool>,
}

/// `sorry_server IP [PORT]` + `sorry_server_inhibit` + `sorry_server_lvs_method`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SorryServer {
    pub addr: IpAddr,
    pub port: Option<u16>,
    /// Resolved: the virtual server's method when not given.
    pub lvs_method: ForwardingMethod,
    pub inhibit: bool,
}

/// `virtual_server IP PORT | fwmark N | group NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualServer {
    pub origin: Origin,
    pub service: VirtualService,
    /// Not written: UDP, as keepalived does (kernel default; with a warning).
    /// Meaningless for fwmark services.
    pub protocol: Protocol,
    pub lvs_sched: Scheduler,
    pub sched_flags: SchedulerFlags,
    /// One-packet scheduling (UDP).
    pub ops: bool,
    pub lvs_method: ForwardingMethod,
    pub persistence_engine: Option<String>,
    pub persistence_timeout: Option<Duration>,
    /// Netmask for persistence granularity (`-M`).
    pub persistence_granularity: Option<IpAddr>,
    pub ip_family: Option<AddressFamily>,
    pub ha_suspend: bool,
    pub smtp_alert: bool,
    pub virtualhost: Option<String>,
    /// Start with all real servers down (= `checker_defaults.alpha`).
    pub alpha: bool,
    pub omega: bool,
    pub quorum: u32,
    pub quorum_up: Option<Notify>,
    pub quorum_down: Option<Notify>,
    pub hysteresis: u32,
    pub inhibit_on_failure: bool,
    pub sorry_server: Option<SorryServer>,
    /// rkeepalived extension: `drain_on_remove SECONDS`. When a reload
    /// removes one of this virtual server's real servers from the
    /// configuration, its IPVS dest first goes to weight 0 and is deleted
    /// once it has no active connection or after this time (keepalived,
    /// and `None`/0 here without a `global_defs` default: deleted at once).
    /// `Some(0)` turns a global default off for this virtual server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_on_remove: Option<Duration>,
    /// rkeepalived extension: `announce_route` ([`crate::model::VsAnnounce`]),
    /// boxed: most virtual servers have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announce: Option<Box<VsAnnounce>>,
    /// Defaults handed to real servers/checkers (as written).
    pub checker_defaults: CheckerDefaults,
    pub real_servers: Vec<RealServer>,
}

impl VirtualServer {
    pub fn new(service: VirtualService) -> Self {
        VirtualServer {
            origin: Origin::default(),
            service,
            protocol: Protocol::Tcp,
            lvs_sched: Scheduler::Wlc,
            sched_flags: SchedulerFlags::default(),
            ops: false,
            lvs_method: ForwardingMethod::Nat,
            persistence_engine: None,
            persistence_timeout: None,
            persistence_granularity: None,
            ip_family: None,
            ha_suspend: false,
            smtp_alert: false,
            virtualhost: None,
            alpha: false,
            omega: false,
            quorum: defaults::QUORUM,
            quorum_up: None,
            quorum_down: None,
            hysteresis: defaults::HYSTERESIS,
            inhibit_on_failure: false,
            sorry_server: None,
            drain_on_remove: None,
            announce: None,
            checker_defaults: CheckerDefaults::default(),
            real_servers: Vec::new(),
        }
    }

    /// `delay_loop` of the virtual server (keepalived default 60s).
    pub fn delay_loop(&self) -> Duration {
        self.checker_defaults
            .delay_loop
            .unwrap_or(defaults::DELAY_LOOP)
    }
}

/// `real_server IP [PORT] { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealServer {
    pub origin: Origin,
    pub addr: IpAddr,
    /// Resolved as keepalived does: DR/TUN real servers use the VS port
    /// (none for fwmark services); NAT ones keep theirs, else the VS port.
    /// None = no port (fwmark / port-less persistent service).
    pub port: Option<u16>,
    pub weight: u32,
    /// Resolved from the virtual server.
    pub lvs_method: ForwardingMethod,
    /// Resolved from the virtual server.
    pub inhibit_on_failure: bool,
    pub notify_up: Option<Notify>,
    pub notify_down: Option<Notify>,
    pub uthreshold: Option<u32>,
    pub lthreshold: Option<u32>,
    pub smtp_alert: bool,
    pub virtualhost: Option<String>,
    /// As written on the real server (resolved values are in each checker).
    pub checker_defaults: CheckerDefaults,
    pub checkers: Vec<Checker>,
}

impl RealServer {
    pub fn new(addr: IpAddr, port: Option<u16>) -> Self {
        RealServer {
            origin: Origin::default(),
            addr,
            port,
            weight: defaults::WEIGHT,
            lvs_method: ForwardingMethod::Nat,
            inhibit_on_failure: false,
            notify_up: None,
            notify_down: None,
            uthreshold: None,
            lthreshold: None,
            smtp_alert: false,
            virtualhost: None,
            checker_defaults: CheckerDefaults::default(),
            checkers: Vec::new(),
        }
    }
}

/// Top-level `SSL { password; ca; certificate; key }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslConfig {
    pub password: Option<String>,
    pub ca: Option<PathBuf>,
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
}
