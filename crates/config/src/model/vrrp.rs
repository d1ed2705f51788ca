//! VRRP: `vrrp_script`, `vrrp_track_file`, `vrrp_sync_group`,
//! `vrrp_instance`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::*;

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

/// `vrrp_track_process NAME { process PATH [PARAM...]; param_match [initial|partial];
/// full_command; quorum N; quorum_max N; weight N [reverse]; delay S;
/// terminate_delay S; fork_delay S }`.
/// keepalived: vrrp/vrrp_parser.c `vrrp_tprocess_*_handler()`,
/// vrrp/vrrp_data.c `alloc_vrrp_process()` (quorum 1, quorum_max unlimited).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpTrackProcess {
    pub name: String,
    pub origin: Origin,
    /// Compared with the process's `comm` (at most 15 characters), or with
    /// its `argv[0]` when `full_command` is set.
    pub process: String,
    /// Parameters given after the process name (compared with `argv[1..]`).
    pub params: Vec<String>,
    pub param_match: ParamMatch,
    pub full_command: bool,
    pub quorum: u32,
    /// `u32::MAX`: no upper limit (keepalived `UINT_MAX`).
    pub quorum_max: u32,
    pub weight: i32,
    pub reverse: bool,
    /// Quorum lost is acted on after this (still lost then).
    pub terminate_delay: Option<Duration>,
    /// Quorum gained is acted on after this (still gained then).
    pub fork_delay: Option<Duration>,
}

impl VrrpTrackProcess {
    /// `vrrp_track_process NAME` before its keywords: keepalived's
    /// `alloc_vrrp_process()` defaults (quorum 1, no upper limit, weight 0).
    pub fn new(name: impl Into<String>, process: impl Into<String>) -> Self {
        VrrpTrackProcess {
            name: name.into(),
            origin: Origin::default(),
            process: process.into(),
            params: Vec::new(),
            param_match: ParamMatch::None,
            full_command: false,
            quorum: 1,
            quorum_max: u32::MAX,
            weight: 0,
            reverse: false,
            terminate_delay: None,
            fork_delay: None,
        }
    }
}

/// How a tracked process's parameters are compared (keepalived
/// core/track_process.c `check_params()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ParamMatch {
    /// Parameters are not compared.
    #[default]
    None,
    /// The parameters are exactly the given ones.
    Exact,
    /// The given parameters are the first ones, the last given one may be
    /// the start of a longer parameter (`param_match initial`).
    Initial,
    /// The given parameters are the first ones (`param_match partial`).
    Partial,
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
    pub track_processes: Vec<TrackRef>,
    /// `track_bfd { NAME [weight N [reverse|noreverse]] }` (model/bfd.rs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub track_bfds: Vec<TrackRef>,
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
            track_processes: Vec::new(),
            track_bfds: Vec::new(),
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
    pub track_processes: Vec<TrackRef>,
    /// `track_bfd { NAME [weight N [reverse|noreverse]] }` (model/bfd.rs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub track_bfds: Vec<TrackRef>,
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
    /// Always None: keepalived (vrrp_parser.c `vrrp_lvs_syncd_handler()`)
    /// reads the deprecated keyword into the global `lvs_sync_daemon` with
    /// this instance ([`crate::model::GlobalDefs::lvs_sync_daemon`]).
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
            track_processes: Vec::new(),
            track_bfds: Vec::new(),
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
