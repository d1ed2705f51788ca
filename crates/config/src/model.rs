//! The typed configuration model.
//!
//! Every value here is *effective*: the parser fills keepalived 2.2.7's
//! defaults (keepalived.conf(5)) and resolves inheritance (global -> instance,
//! virtual server -> real server -> checker), so engines never need to know a
//! default. Where keepalived leaves something to run time (e.g. router_id
//! defaults to the host name) the field is an `Option` and the doc says what
//! `None` means.
//!
//! Everything is `Serialize + Deserialize` because the supervisor hands the
//! validated config to child processes as JSON.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// keepalived 2.2.7 defaults, in one place so parser, printer and tests agree.
pub mod defaults {
    use super::*;

    pub const ADVERT_INT: Duration = Duration::from_secs(1);
    pub const PRIORITY: u8 = 100;
    /// RFC 5798 §5.2.7: priority 255 is the address owner.
    pub const PRIORITY_OWNER: u8 = 255;
    pub const GARP_MASTER_DELAY: Duration = Duration::from_secs(5);
    pub const GARP_MASTER_REPEAT: u32 = 5;
    pub const GARP_MASTER_REFRESH_REPEAT: u32 = 1;
    pub const DOWN_TIMER_ADVERTS: u32 = 3;
    pub const MCAST_GROUP4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
    pub const MCAST_GROUP6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
    pub const DEFAULT_INTERFACE: &str = "eth0";
    pub const SMTP_PORT: u16 = 25;
    pub const SMTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
    pub const SCRIPT_INTERVAL: Duration = Duration::from_secs(1);
    pub const SCRIPT_RISE: u32 = 1;
    pub const SCRIPT_FALL: u32 = 1;
    pub const TRACK_FILE_WEIGHT: i32 = 1;
    pub const DELAY_LOOP: Duration = Duration::from_secs(60);
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// `retry` default for every checker except DNS_CHECK (3) and MISC_CHECK (0).
    pub const RETRY: u32 = 1;
    pub const RETRY_DNS: u32 = 3;
    pub const RETRY_MISC: u32 = 0;
    /// `delay_before_retry` default except HTTP/SSL (3s) and DNS (= delay_loop).
    pub const DELAY_BEFORE_RETRY: Duration = Duration::from_secs(1);
    pub const DELAY_BEFORE_RETRY_HTTP: Duration = Duration::from_secs(3);
    pub const WEIGHT: u32 = 1;
    pub const QUORUM: u32 = 1;
    pub const HYSTERESIS: u32 = 0;
    /// `persistence_timeout` given without a value.
    pub const PERSISTENCE_TIMEOUT: Duration = Duration::from_secs(360);
    pub const LVS_SYNC_PORT: u16 = 8848;
    pub const LVS_SYNC_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 81);
    pub const UDP_MAX_REPLY_LENGTH: u32 = 255;
    pub const SMTP_HELO_NAME: &str = "smtpchecker.keepalived.org";
    pub const DNS_NAME: &str = ".";
    pub const VMAC_PREFIX: &str = "vrrp";
    pub const STARTUP_SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);
    /// auth_type PASS carries at most 8 octets (RFC 2338 §5.3.10).
    pub const AUTH_PASS_MAX_LEN: usize = 8;
}

/// Where an object was defined (for later diagnostics). Deliberately ignored
/// by equality: a reload diff or a print/parse round-trip compares
/// configuration, not layout.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Origin {
    pub file: PathBuf,
    pub line: u32,
}

impl PartialEq for Origin {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A whole, validated keepalived.conf.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub global_defs: GlobalDefs,
    /// `static_ipaddress { }`: addresses configured regardless of VRRP state.
    pub static_ipaddresses: Vec<VirtualIpAddress>,
    pub static_routes: Vec<VirtualRoute>,
    pub static_rules: Vec<VirtualRule>,
    pub vrrp_scripts: Vec<VrrpScript>,
    pub vrrp_track_files: Vec<VrrpTrackFile>,
    pub vrrp_sync_groups: Vec<VrrpSyncGroup>,
    pub vrrp_instances: Vec<VrrpInstance>,
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    pub virtual_servers: Vec<VirtualServer>,
    /// Top-level `SSL { }` block used by SSL_GET checkers.
    pub ssl: Option<SslConfig>,
}

impl Config {
    pub fn vrrp_script(&self, name: &str) -> Option<&VrrpScript> {
        self.vrrp_scripts.iter().find(|s| s.name == name)
    }
    pub fn vrrp_track_file(&self, name: &str) -> Option<&VrrpTrackFile> {
        self.vrrp_track_files.iter().find(|s| s.name == name)
    }
    pub fn vrrp_instance(&self, name: &str) -> Option<&VrrpInstance> {
        self.vrrp_instances.iter().find(|s| s.name == name)
    }
    pub fn virtual_server_group(&self, name: &str) -> Option<&VirtualServerGroup> {
        self.virtual_server_groups.iter().find(|s| s.name == name)
    }
    /// The sync group an instance belongs to, if any.
    pub fn sync_group_of(&self, instance: &str) -> Option<&VrrpSyncGroup> {
        self.vrrp_sync_groups
            .iter()
            .find(|g| g.group.iter().any(|m| m == instance))
    }
}

// ---------------------------------------------------------------------------
// Shared small types
// ---------------------------------------------------------------------------

/// `user USERNAME [GROUPNAME]` (also `script_user`). No group = the user's group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptUser {
    pub user: String,
    pub group: Option<String>,
}

/// A script to run: `<STRING>|<QUOTED-STRING> [username [groupname]]`.
/// `command` is the command line as written (after unquoting); the script
/// crate splits it into argv with keepalived's rules. `user: None` means the
/// global `script_user` (default keepalived_script, else root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    pub command: String,
    pub user: Option<ScriptUser>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressFamily {
    Inet,
    Inet6,
}

impl AddressFamily {
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        }
    }
}

/// An address with prefix length, e.g. `192.0.2.0/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpPrefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl std::fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Route/address scope (`ip addr ... scope S`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Global,
    Site,
    Link,
    Host,
    Nowhere,
    /// Numeric scope not covered by a name.
    Other(u8),
}

impl Scope {
    pub fn as_u8(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
            Scope::Other(n) => n,
        }
    }
}

/// A tracked object with its weight: `NAME [weight N [reverse|noreverse]]`.
/// The weight is resolved (an omitted weight takes the weight declared in the
/// tracked object's definition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackRef {
    pub name: String,
    pub weight: i32,
    pub reverse: bool,
}

// ---------------------------------------------------------------------------
// global_defs
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalDefs {
    /// None = local host name.
    pub router_id: Option<String>,
    pub notification_email: Vec<String>,
    /// None = `keepalived@<local host name>`.
    pub notification_email_from: Option<String>,
    pub smtp_server: Option<SmtpServer>,
    /// None = local host name.
    pub smtp_helo_name: Option<String>,
    pub smtp_connect_timeout: Duration,
    pub smtp_alert: bool,
    pub smtp_alert_vrrp: bool,
    pub smtp_alert_checker: bool,
    pub no_email_faults: bool,
    pub checker_log_all_failures: bool,
    /// None = keepalived_script if that user exists, else root.
    pub script_user: Option<ScriptUser>,
    pub enable_script_security: bool,
    pub startup_script: Option<Notify>,
    pub startup_script_timeout: Duration,
    pub shutdown_script: Option<Notify>,
    pub shutdown_script_timeout: Duration,
    pub default_interface: String,
    pub vrrp_version: VrrpVersion,
    pub vrrp_mcast_group4: Ipv4Addr,
    pub vrrp_mcast_group6: Ipv6Addr,
    pub vrrp_garp_master_delay: Duration,
    pub vrrp_garp_master_repeat: u32,
    /// None = no periodic refresh.
    pub vrrp_garp_master_refresh: Option<Duration>,
    pub vrrp_garp_master_refresh_repeat: u32,
    pub vrrp_garp_lower_prio_delay: Duration,
    pub vrrp_garp_lower_prio_repeat: u32,
    pub vrrp_garp_interval: Duration,
    pub vrrp_gna_interval: Duration,
    pub vrrp_min_garp: bool,
    pub vrrp_down_timer_adverts: u32,
    pub vrrp_lower_prio_no_advert: bool,
    pub vrrp_higher_prio_send_advert: bool,
    pub vrrp_strict: bool,
    pub vrrp_skip_check_adv_addr: bool,
    pub vrrp_check_unicast_src: bool,
    pub vrrp_startup_delay: Duration,
    /// Global `notify_fifo` (both processes), plus per-process ones.
    pub notify_fifo: Option<NotifyFifo>,
    pub vrrp_notify_fifo: Option<NotifyFifo>,
    pub lvs_notify_fifo: Option<NotifyFifo>,
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    pub lvs_timeouts: LvsTimeouts,
    pub lvs_flush: bool,
    pub lvs_flush_on_stop: LvsFlushOnStop,
    pub vrrp_process: ProcessOptions,
    pub checker_process: ProcessOptions,
    /// `dynamic_interfaces [allow_if_changes]`.
    pub dynamic_interfaces: bool,
    pub vmac_prefix: String,
    /// rkeepalived extension: Prometheus `/metrics` listener.
    pub metrics_listen: Option<SocketAddr>,
    /// rkeepalived extension: also serve `/status` (JSON) on `metrics_listen`.
    pub metrics_serve_status: bool,
    /// rkeepalived extension: TLS and basic auth for `metrics_listen`, from a
    /// Prometheus exporter-toolkit web configuration file.
    pub metrics_web_config: Option<PathBuf>,
    /// rkeepalived extension: unix socket serving JSON status.
    pub status_socket: Option<PathBuf>,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        use defaults::*;
        GlobalDefs {
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: SMTP_CONNECT_TIMEOUT,
            smtp_alert: false,
            smtp_alert_vrrp: false,
            smtp_alert_checker: false,
            no_email_faults: false,
            checker_log_all_failures: false,
            script_user: None,
            enable_script_security: false,
            startup_script: None,
            startup_script_timeout: STARTUP_SCRIPT_TIMEOUT,
            shutdown_script: None,
            shutdown_script_timeout: STARTUP_SCRIPT_TIMEOUT,
            default_interface: DEFAULT_INTERFACE.to_string(),
            vrrp_version: VrrpVersion::V2,
            vrrp_mcast_group4: MCAST_GROUP4,
            vrrp_mcast_group6: MCAST_GROUP6,
            vrrp_garp_master_delay: GARP_MASTER_DELAY,
            vrrp_garp_master_repeat: GARP_MASTER_REPEAT,
            vrrp_garp_master_refresh: None,
            vrrp_garp_master_refresh_repeat: GARP_MASTER_REFRESH_REPEAT,
            vrrp_garp_lower_prio_delay: GARP_MASTER_DELAY,
            vrrp_garp_lower_prio_repeat: GARP_MASTER_REPEAT,
            vrrp_garp_interval: Duration::ZERO,
            vrrp_gna_interval: Duration::ZERO,
            vrrp_min_garp: false,
            vrrp_down_timer_adverts: DOWN_TIMER_ADVERTS,
            vrrp_lower_prio_no_advert: false,
            vrrp_higher_prio_send_advert: false,
            vrrp_strict: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_check_unicast_src: false,
            vrrp_startup_delay: Duration::ZERO,
            notify_fifo: None,
            vrrp_notify_fifo: None,
            lvs_notify_fifo: None,
            lvs_sync_daemon: None,
            lvs_timeouts: LvsTimeouts::default(),
            lvs_flush: false,
            lvs_flush_on_stop: LvsFlushOnStop::No,
            vrrp_process: ProcessOptions::default(),
            checker_process: ProcessOptions::default(),
            dynamic_interfaces: false,
            vmac_prefix: VMAC_PREFIX.to_string(),
            metrics_listen: None,
            metrics_serve_status: false,
            metrics_web_config: None,
            status_socket: None,
        }
    }
}

/// `smtp_server HOST [PORT]` (HOST is an IP address or a DNS name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
}

/// `notify_fifo PATH [username [groupname]]` + `notify_fifo_script CMD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyFifo {
    pub path: PathBuf,
    pub user: Option<ScriptUser>,
    pub script: Option<Notify>,
}

/// `lvs_sync_daemon IF [[inst] INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group IP]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LvsSyncDaemon {
    pub interface: String,
    pub vrrp_instance: Option<String>,
    /// None = the VRID of `vrrp_instance`, or 0 without one.
    pub sync_id: Option<u8>,
    pub maxlen: Option<u16>,
    pub port: u16,
    pub ttl: Option<u8>,
    pub group: IpAddr,
}

/// `lvs_timeouts [tcp S] [tcpfin S] [udp S]`; None = leave the kernel's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LvsTimeouts {
    pub tcp: Option<Duration>,
    pub tcpfin: Option<Duration>,
    pub udp: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LvsFlushOnStop {
    /// Remove each real and virtual server individually (keepalived default).
    No,
    /// `lvs_flush_on_stop`: flush the whole IPVS table.
    Flush,
    /// `lvs_flush_on_stop VS`: remove virtual servers, kernel drops their RSs.
    VirtualServers,
}

/// Process options for the vrrp/checker children (`vrrp_priority`,
/// `vrrp_rt_priority`, `vrrp_no_swap`, `vrrp_cpu_affinity`, `vrrp_rlimit_rttime`
/// and the `checker_*` equivalents).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessOptions {
    /// Nice value, -20..19.
    pub priority: Option<i32>,
    pub rt_priority: Option<u32>,
    pub no_swap: bool,
    pub cpu_affinity: Vec<u32>,
    pub rlimit_rttime: Option<u64>,
}

// ---------------------------------------------------------------------------
// VRRP
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VrrpVersion {
    /// RFC 3768 (IPv4 only, advert_int in whole seconds).
    V2,
    /// RFC 5798 (IPv4/IPv6, advert_int in centiseconds).
    V3,
}

impl VrrpVersion {
    pub fn number(self) -> u8 {
        match self {
            VrrpVersion::V2 => 2,
            VrrpVersion::V3 => 3,
        }
    }
}

/// Configured initial state (`state MASTER|BACKUP`). keepalived starts every
/// instance as BACKUP unless state MASTER (or priority 255).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InitialState {
    Master,
    Backup,
}

/// `vrrp_script NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpScript {
    pub name: String,
    pub origin: Origin,
    pub script: String,
    pub interval: Duration,
    /// keepalived: defaults to `interval`.
    pub timeout: Duration,
    /// -253..253; 0 = the instance goes to FAULT when the script fails.
    pub weight: i32,
    pub weight_reverse: bool,
    pub rise: u32,
    pub fall: u32,
    pub user: Option<ScriptUser>,
    /// Start in the failed state until the script first succeeds
    /// (keepalived default: start as succeeded).
    pub init_fail: bool,
}

impl VrrpScript {
    pub fn new(name: impl Into<String>, script: impl Into<String>) -> Self {
        VrrpScript {
            name: name.into(),
            origin: Origin::default(),
            script: script.into(),
            interval: defaults::SCRIPT_INTERVAL,
            timeout: defaults::SCRIPT_INTERVAL,
            weight: 0,
            weight_reverse: false,
            rise: defaults::SCRIPT_RISE,
            fall: defaults::SCRIPT_FALL,
            user: None,
            init_fail: false,
        }
    }
}

/// `vrrp_track_file NAME { file PATH; weight N [reverse]; init_file [VALUE] [overwrite] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpTrackFile {
    pub name: String,
    pub origin: Origin,
    pub file: PathBuf,
    pub weight: i32,
    pub reverse: bool,
    pub init_file: Option<TrackFileInit>,
}

/// `init_file [VALUE] [overwrite]`: create the file with VALUE (default 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackFileInit {
    pub value: i64,
    pub overwrite: bool,
}

/// `vrrp_sync_group NAME { group { ... } ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpSyncGroup {
    pub name: String,
    pub origin: Origin,
    /// Member vrrp_instance names.
    pub group: Vec<String>,
    pub track_interfaces: Vec<TrackRef>,
    pub track_scripts: Vec<TrackRef>,
    pub track_files: Vec<TrackRef>,
    pub notify_master: Option<Notify>,
    pub notify_backup: Option<Notify>,
    pub notify_fault: Option<Notify>,
    pub notify_stop: Option<Notify>,
    pub notify: Option<Notify>,
    pub notify_priority_changes: bool,
    pub smtp_alert: bool,
    pub global_tracking: bool,
    pub sync_group_tracking_weight: bool,
}

impl VrrpSyncGroup {
    pub fn new(name: impl Into<String>) -> Self {
        VrrpSyncGroup {
            name: name.into(),
            origin: Origin::default(),
            group: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            notify_master: None,
            notify_backup: None,
            notify_fault: None,
            notify_stop: None,
            notify: None,
            notify_priority_changes: false,
            smtp_alert: false,
            global_tracking: false,
            sync_group_tracking_weight: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthType {
    /// Simple text password (RFC 2338 §5.3.6, removed in RFC 3768).
    Pass,
    /// IPsec AH (keepalived's legacy HMAC-MD5-96 variant).
    Ah,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    pub auth_type: AuthType,
    /// Truncated to 8 octets as keepalived does (with a warning).
    pub auth_pass: String,
}

/// `use_vmac [NAME] [MAC]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vmac {
    /// Resolved: default `<vmac_prefix>.<vrid>` (keepalived: `vrrp.51`).
    pub name: String,
    /// None = the RFC 5798 §7.3 virtual MAC 00-00-5E-00-01/02-{VRID}.
    pub mac: Option<[u8; 6]>,
    /// `vmac_xmit_base`: send adverts on the base interface.
    pub xmit_base: bool,
}

/// `unicast_peer { IP [min_ttl N] [max_ttl N] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnicastPeer {
    pub addr: IpAddr,
    pub min_ttl: Option<u8>,
    pub max_ttl: Option<u8>,
}

/// An entry of `virtual_ipaddress`, `virtual_ipaddress_excluded` or
/// `static_ipaddress`:
/// `IP[/PREFIX] [brd IP] [dev IF] [scope S] [label L] [peer IP] [home]
///  [-nodad] [mngtmpaddr] [noprefixroute] [autojoin] [no_track] [use_vmac]
///  [preferred_lft N|forever]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualIpAddress {
    pub addr: IpAddr,
    /// Default 32 (IPv4) / 128 (IPv6).
    pub prefix_len: u8,
    pub brd: Option<IpAddr>,
    /// Resolved: the instance's interface (static addresses: default_interface).
    pub dev: String,
    pub scope: Option<Scope>,
    pub label: Option<String>,
    /// `peer IP` (point-to-point peer address).
    pub peer: Option<IpAddr>,
    pub home: bool,
    pub nodad: bool,
    pub mngtmpaddr: bool,
    pub noprefixroute: bool,
    pub autojoin: bool,
    pub no_track: bool,
    pub use_vmac: bool,
    /// None = kernel default (forever); Some(0) is how IPv6 VIPs are deprecated.
    pub preferred_lft: Option<u32>,
}

impl VirtualIpAddress {
    pub fn new(addr: IpAddr, dev: impl Into<String>) -> Self {
        VirtualIpAddress {
            addr,
            prefix_len: if addr.is_ipv4() { 32 } else { 128 },
            brd: None,
            dev: dev.into(),
            scope: None,
            label: None,
            peer: None,
            home: false,
            nodad: false,
            mngtmpaddr: false,
            noprefixroute: false,
            autojoin: false,
            no_track: false,
            use_vmac: false,
            preferred_lft: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteType {
    Unicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
    Local,
    Broadcast,
    Multicast,
}

/// One next hop (`via IP [dev IF] [onlink] [weight N]`); multiple next hops
/// are written `via A ... or via B ...` / `nexthop` in keepalived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextHop {
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub onlink: bool,
    /// 1..=255 as written (`weight N`, ip-route nexthop weight).
    pub weight: Option<u8>,
}

/// `virtual_routes { [src IP] [to] PREFIX [via|gw IP] [or IP] [dev IF] [table N]
///  [metric N] [scope S] [protocol N] [onlink] [mtu N] [no_track] ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualRoute {
    pub route_type: RouteType,
    pub to: IpPrefix,
    /// Source-specific routing (`from PREFIX`).
    pub from: Option<IpPrefix>,
    /// Preferred source address (`src IP`).
    pub src: Option<IpAddr>,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub onlink: bool,
    /// Extra next hops (`or IP` / `nexthop ...`), ECMP.
    pub nexthops: Vec<NextHop>,
    pub table: Option<u32>,
    pub metric: Option<u32>,
    pub scope: Option<Scope>,
    pub protocol: Option<u8>,
    pub tos: Option<u8>,
    pub mtu: Option<u32>,
    pub advmss: Option<u32>,
    pub no_track: bool,
}

impl VirtualRoute {
    pub fn new(to: IpPrefix) -> Self {
        VirtualRoute {
            route_type: RouteType::Unicast,
            to,
            from: None,
            src: None,
            via: None,
            dev: None,
            onlink: false,
            nexthops: Vec::new(),
            table: None,
            metric: None,
            scope: None,
            protocol: None,
            tos: None,
            mtu: None,
            advmss: None,
            no_track: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleAction {
    Table(u32),
    Goto(u32),
    Blackhole,
    Unreachable,
    Prohibit,
    Nop,
}

/// `virtual_rules { [from PREFIX] [to PREFIX] [table N] [priority N] ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualRule {
    /// Needed for `from all`-style rules without addresses; else from the addresses.
    pub family: AddressFamily,
    pub from: Option<IpPrefix>,
    pub to: Option<IpPrefix>,
    pub action: RuleAction,
    pub priority: Option<u32>,
    pub tos: Option<u8>,
    pub fwmark: Option<u32>,
    pub fwmask: Option<u32>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub no_track: bool,
    pub invert: bool,
}

impl VirtualRule {
    pub fn new(family: AddressFamily, action: RuleAction) -> Self {
        VirtualRule {
            family,
            from: None,
            to: None,
            action,
            priority: None,
            tos: None,
            fwmark: None,
            fwmask: None,
            iif: None,
            oif: None,
            no_track: false,
            invert: false,
        }
    }
}

/// `vrrp_instance NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpInstance {
    pub name: String,
    pub origin: Origin,
    pub state: InitialState,
    /// Resolved: global default_interface when omitted (with a warning).
    pub interface: String,
    pub virtual_router_id: u8,
    /// 1..=255 (255 = address owner, RFC 5798 §5.2.4).
    pub priority: u8,
    /// Resolved: v2 -> whole seconds; v3 -> multiple of 10 ms (centiseconds).
    pub advert_int: Duration,
    /// Resolved from global vrrp_version; IPv6 instances are always V3.
    pub version: VrrpVersion,
    /// Resolved from the VIP family.
    pub family: AddressFamily,
    pub nopreempt: bool,
    pub preempt_delay: Duration,
    pub mcast_src_ip: Option<IpAddr>,
    /// None = the instance family's global vrrp_mcast_group.
    pub mcast_dst_ip: Option<IpAddr>,
    pub unicast_src_ip: Option<IpAddr>,
    pub unicast_peers: Vec<UnicastPeer>,
    pub unicast_ttl: Option<u8>,
    pub unicast_fault_no_peer: bool,
    pub check_unicast_src: bool,
    pub authentication: Option<Authentication>,
    pub virtual_ipaddresses: Vec<VirtualIpAddress>,
    pub virtual_ipaddresses_excluded: Vec<VirtualIpAddress>,
    pub virtual_routes: Vec<VirtualRoute>,
    pub virtual_rules: Vec<VirtualRule>,
    pub track_interfaces: Vec<TrackRef>,
    pub track_scripts: Vec<TrackRef>,
    pub track_files: Vec<TrackRef>,
    pub dont_track_primary: bool,
    pub use_vmac: Option<Vmac>,
    /// Resolved: keepalived default is accept unless strict mode.
    pub accept: bool,
    pub strict_mode: bool,
    pub skip_check_adv_addr: bool,
    pub promote_secondaries: bool,
    pub notify_master: Option<Notify>,
    pub notify_backup: Option<Notify>,
    pub notify_fault: Option<Notify>,
    pub notify_stop: Option<Notify>,
    pub notify: Option<Notify>,
    pub notify_master_rx_lower_pri: Option<Notify>,
    pub notify_priority_changes: bool,
    pub smtp_alert: bool,
    pub garp_master_delay: Duration,
    pub garp_master_repeat: u32,
    pub garp_master_refresh: Option<Duration>,
    pub garp_master_refresh_repeat: u32,
    pub garp_lower_prio_delay: Duration,
    pub garp_lower_prio_repeat: u32,
    pub down_timer_adverts: u32,
    pub lower_prio_no_advert: bool,
    pub higher_prio_send_advert: bool,
    pub lvs_sync_daemon_interface: Option<String>,
    pub debug: u8,
}

impl VrrpInstance {
    /// An instance with keepalived's defaults (global_defs defaults applied).
    pub fn new(name: impl Into<String>, interface: impl Into<String>, vrid: u8) -> Self {
        use defaults::*;
        VrrpInstance {
            name: name.into(),
            origin: Origin::default(),
            state: InitialState::Backup,
            interface: interface.into(),
            virtual_router_id: vrid,
            priority: PRIORITY,
            advert_int: ADVERT_INT,
            version: VrrpVersion::V2,
            family: AddressFamily::Inet,
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            mcast_src_ip: None,
            mcast_dst_ip: None,
            unicast_src_ip: None,
            unicast_peers: Vec::new(),
            unicast_ttl: None,
            unicast_fault_no_peer: false,
            check_unicast_src: false,
            authentication: None,
            virtual_ipaddresses: Vec::new(),
            virtual_ipaddresses_excluded: Vec::new(),
            virtual_routes: Vec::new(),
            virtual_rules: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            dont_track_primary: false,
            use_vmac: None,
            accept: true,
            strict_mode: false,
            skip_check_adv_addr: false,
            promote_secondaries: false,
            notify_master: None,
            notify_backup: None,
            notify_fault: None,
            notify_stop: None,
            notify: None,
            notify_master_rx_lower_pri: None,
            notify_priority_changes: false,
            smtp_alert: false,
            garp_master_delay: GARP_MASTER_DELAY,
            garp_master_repeat: GARP_MASTER_REPEAT,
            garp_master_refresh: None,
            garp_master_refresh_repeat: GARP_MASTER_REFRESH_REPEAT,
            garp_lower_prio_delay: GARP_MASTER_DELAY,
            garp_lower_prio_repeat: GARP_MASTER_REPEAT,
            down_timer_adverts: DOWN_TIMER_ADVERTS,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            lvs_sync_daemon_interface: None,
            debug: 0,
        }
    }

    /// The multicast group adverts go to when no unicast peers are set.
    pub fn mcast_group(&self, global: &GlobalDefs) -> IpAddr {
        if let Some(ip) = self.mcast_dst_ip {
            return ip;
        }
        match self.family {
            AddressFamily::Inet => IpAddr::V4(global.vrrp_mcast_group4),
            AddressFamily::Inet6 => IpAddr::V6(global.vrrp_mcast_group6),
        }
    }
}

// ---------------------------------------------------------------------------
// LVS
// ---------------------------------------------------------------------------

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// A health checker with its fully resolved options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checker {
    pub origin: Origin,
    pub common: CheckerCommon,
    pub kind: CheckerKind,
}

/// Options every checker has (MISC_CHECK uses only the timing ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckerCommon {
    /// None = the real server's address.
    pub connect_ip: Option<IpAddr>,
    /// None = the real server's port.
    pub connect_port: Option<u16>,
    pub bindto: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    /// SO_MARK for checker packets.
    pub fwmark: Option<u32>,
    pub connect_timeout: Duration,
    /// Extra attempts after a failure before declaring the RS down
    /// (`retry` / legacy `nb_get_retry`).
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub delay_loop: Duration,
    /// Random initial delay up to this (keepalived default: delay_loop; 0 = off).
    pub warmup: Duration,
    /// Start with the RS considered down.
    pub alpha: bool,
    pub log_all_failures: bool,
}

impl CheckerCommon {
    /// keepalived defaults for a checker of `kind` with the given delay_loop.
    pub fn defaults_for(kind: &CheckerKind, delay_loop: Duration) -> Self {
        use defaults::*;
        let (retry, delay_before_retry) = match kind {
            CheckerKind::Http(_) | CheckerKind::Ssl(_) => (RETRY, DELAY_BEFORE_RETRY_HTTP),
            CheckerKind::Dns(_) => (RETRY_DNS, delay_loop),
            CheckerKind::Misc(_) => (RETRY_MISC, DELAY_BEFORE_RETRY),
            _ => (RETRY, DELAY_BEFORE_RETRY),
        };
        CheckerCommon {
            connect_ip: None,
            connect_port: None,
            bindto: None,
            bind_port: None,
            bind_if: None,
            fwmark: None,
            connect_timeout: CONNECT_TIMEOUT,
            retry,
            delay_before_retry,
            delay_loop,
            warmup: delay_loop,
            alpha: false,
            log_all_failures: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CheckerKind {
    Tcp,
    Http(HttpCheck),
    Ssl(HttpCheck),
    Smtp(SmtpCheck),
    Dns(DnsCheck),
    Misc(MiscCheck),
    Ping,
    Udp(UdpCheck),
    File(FileCheck),
    /// BFD_CHECK { name } (BFD itself is not implemented by rkeepalived).
    Bfd {
        name: String,
    },
}

impl CheckerKind {
    /// The keepalived.conf keyword (`TCP_CHECK`, `HTTP_GET`, ...).
    pub fn keyword(&self) -> &'static str {
        match self {
            CheckerKind::Tcp => "TCP_CHECK",
            CheckerKind::Http(_) => "HTTP_GET",
            CheckerKind::Ssl(_) => "SSL_GET",
            CheckerKind::Smtp(_) => "SMTP_CHECK",
            CheckerKind::Dns(_) => "DNS_CHECK",
            CheckerKind::Misc(_) => "MISC_CHECK",
            CheckerKind::Ping => "PING_CHECK",
            CheckerKind::Udp(_) => "UDP_CHECK",
            CheckerKind::File(_) => "FILE_CHECK",
            CheckerKind::Bfd { .. } => "BFD_CHECK",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpProtocol {
    /// `1.0` (keepalived default).
    V1_0,
    /// `1.0C`: 1.0 plus `Connection: close`.
    V1_0C,
    V1_1,
}

/// HTTP_GET / SSL_GET.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpCheck {
    pub http_protocol: HttpProtocol,
    pub fast_recovery: bool,
    pub urls: Vec<HttpUrl>,
    /// Resolved: checker, else real server, else virtual server virtualhost.
    pub virtualhost: Option<String>,
    /// SSL_GET only: send SNI.
    pub enable_sni: bool,
    /// Close TLS connections properly (close_notify).
    pub tls_compliant: bool,
}

impl Default for HttpCheck {
    fn default() -> Self {
        HttpCheck {
            http_protocol: HttpProtocol::V1_0,
            fast_recovery: false,
            urls: Vec::new(),
            virtualhost: None,
            enable_sni: false,
            tls_compliant: false,
        }
    }
}

/// An inclusive HTTP status range; `status_code 200` is 200..=200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRange {
    pub min: u16,
    pub max: u16,
}

impl StatusRange {
    pub fn contains(&self, code: u16) -> bool {
        (self.min..=self.max).contains(&code)
    }
}

/// `url { path P; digest D; status_code ...; virtualhost H; regex R ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpUrl {
    pub path: String,
    /// Lower-case hex MD5 of the body (from genhash).
    pub digest: Option<String>,
    /// Default 200-299.
    pub status_codes: Vec<StatusRange>,
    /// Resolved: url, else the checker's virtualhost.
    pub virtualhost: Option<String>,
    pub regex: Option<String>,
    pub regex_no_match: bool,
    pub regex_min_offset: Option<u32>,
    pub regex_max_offset: Option<u32>,
}

impl HttpUrl {
    pub fn new(path: impl Into<String>) -> Self {
        HttpUrl {
            path: path.into(),
            digest: None,
            status_codes: vec![StatusRange { min: 200, max: 299 }],
            virtualhost: None,
            regex: None,
            regex_no_match: false,
            regex_min_offset: None,
            regex_max_offset: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpCheck {
    pub helo_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DnsType {
    A,
    Ns,
    Cname,
    Soa,
    Mx,
    Txt,
    Aaaa,
}

impl DnsType {
    pub const ALL: [DnsType; 7] = [
        DnsType::A,
        DnsType::Ns,
        DnsType::Cname,
        DnsType::Soa,
        DnsType::Mx,
        DnsType::Txt,
        DnsType::Aaaa,
    ];
    pub fn name(self) -> &'static str {
        match self {
            DnsType::A => "A",
            DnsType::Ns => "NS",
            DnsType::Cname => "CNAME",
            DnsType::Soa => "SOA",
            DnsType::Mx => "MX",
            DnsType::Txt => "TXT",
            DnsType::Aaaa => "AAAA",
        }
    }
    /// RFC 1035 §3.2.2 / RFC 3596 QTYPE value.
    pub fn qtype(self) -> u16 {
        match self {
            DnsType::A => 1,
            DnsType::Ns => 2,
            DnsType::Cname => 5,
            DnsType::Soa => 6,
            DnsType::Mx => 15,
            DnsType::Txt => 16,
            DnsType::Aaaa => 28,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsCheck {
    /// Default SOA.
    pub query_type: DnsType,
    /// Default ".".
    pub name: String,
}

/// MISC_CHECK: run a program; exit 0 = up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiscCheck {
    pub misc_path: String,
    /// Resolved: delay_loop when not given.
    pub misc_timeout: Duration,
    pub misc_dynamic: bool,
    pub user: Option<ScriptUser>,
}

/// One byte of a `require_reply` pattern; `mask` has 0 bits where the config
/// had an `X` nibble (don't care).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedByte {
    pub value: u8,
    pub mask: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpCheck {
    /// None = random payload.
    pub payload: Option<Vec<u8>>,
    /// None = no reply needed; Some(empty) = any reply; else match prefix.
    pub require_reply: Option<Vec<MaskedByte>>,
    pub min_reply_length: u32,
    pub max_reply_length: u32,
}

impl Default for UdpCheck {
    fn default() -> Self {
        UdpCheck {
            payload: None,
            require_reply: None,
            min_reply_length: 0,
            max_reply_length: defaults::UDP_MAX_REPLY_LENGTH,
        }
    }
}

/// FILE_CHECK { track_file NAME; dynamic; weight N [reverse] }.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCheck {
    pub track_file: String,
    pub dynamic: bool,
    /// Resolved: the vrrp_track_file's weight when not given.
    pub weight: i32,
    pub reverse: bool,
}

/// Top-level `SSL { password; ca; certificate; key }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslConfig {
    pub password: Option<String>,
    pub ca: Option<PathBuf>,
    pub certificate: Option<PathBuf>,
    pub key: Option<PathBuf>,
}
