//! `global_defs`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::*;

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
    /// `nftables [TABLE]`, `nftables_priority`, `nftables_ifindex`,
    /// `nftables_counters` (and the legacy `vrrp_iptables`).
    #[serde(default)]
    pub nftables: NftablesOptions,
    /// `disable_local_igmp`: net.ipv4.igmp_link_local_mcast_reports off
    /// while the VRRP process runs, and no IPv4 vmac IGMP rule.
    #[serde(default)]
    pub disable_local_igmp: bool,
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
    /// `bfd_priority`, `bfd_rt_priority`, `bfd_no_swap`, `bfd_cpu_affinity`,
    /// `bfd_rlimit_rttime`: keepalived's BFD process (model/bfd.rs).
    #[serde(default, skip_serializing_if = "ProcessOptions::is_unset")]
    pub bfd_process: ProcessOptions,
    /// `max_auto_priority [N]`: the highest SCHED_RR priority a child raises
    /// itself to after waking up late (keepalived lib/process.c
    /// `increment_process_priority()`); 0 (default) never, -1 disabled,
    /// no value: the maximum (99).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max_auto_priority: i32,
    /// `min_auto_priority_delay USECS`: how late a timer must fire to count
    /// as a late wake-up (default 1 s; keepalived lib/scheduler.c).
    #[serde(
        default = "default_min_auto_priority_delay",
        skip_serializing_if = "is_default_min_auto_priority_delay"
    )]
    pub min_auto_priority_delay: Duration,
    /// `process_monitor_rcv_bufs N`: SO_RCVBUF of the process-event
    /// connector socket (track_process); None: the kernel's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_monitor_rcv_bufs: Option<u32>,
    /// `process_monitor_rcv_bufs_force`: SO_RCVBUFFORCE (beyond rmem_max).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub process_monitor_rcv_bufs_force: bool,
    /// `dynamic_interfaces [allow_if_changes]`.
    pub dynamic_interfaces: bool,
    pub vmac_prefix: String,
    /// `enable_snmp_*`, `enable_traps`, `snmp_socket`.
    pub snmp: SnmpOptions,
    /// rkeepalived extension: Prometheus `/metrics` listener.
    pub metrics_listen: Option<SocketAddr>,
    /// rkeepalived extension: also serve `/status` (JSON) on `metrics_listen`.
    pub metrics_serve_status: bool,
    /// rkeepalived extension: TLS and basic auth for `metrics_listen`, from a
    /// Prometheus exporter-toolkit web configuration file.
    pub metrics_web_config: Option<PathBuf>,
    /// rkeepalived extension: unix socket serving JSON status.
    pub status_socket: Option<PathBuf>,
    /// `net_namespace`, `instance`, process names... ([`DaemonIdentity`]).
    #[serde(default, skip_serializing_if = "DaemonIdentity::is_default")]
    pub identity: DaemonIdentity,
    /// rkeepalived extension: `drain_on_remove SECONDS`, the default for
    /// every `virtual_server` (see [`crate::model::VirtualServer::drain_on_remove`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_on_remove: Option<Duration>,
    /// rkeepalived extension: `announce_*` route announcement defaults
    /// ([`crate::model::AnnounceDefaults`]).
    #[serde(default, skip_serializing_if = "AnnounceDefaults::is_default")]
    pub announce: AnnounceDefaults,
}

fn is_zero(v: &i32) -> bool {
    *v == 0
}

/// keepalived's default `min_auto_priority_delay` (core/global_data.c).
fn default_min_auto_priority_delay() -> Duration {
    Duration::from_micros(1_000_000)
}

fn is_default_min_auto_priority_delay(d: &Duration) -> bool {
    *d == default_min_auto_priority_delay()
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
            nftables: NftablesOptions::default(),
            disable_local_igmp: false,
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
            bfd_process: ProcessOptions::default(),
            max_auto_priority: 0,
            min_auto_priority_delay: default_min_auto_priority_delay(),
            process_monitor_rcv_bufs: None,
            process_monitor_rcv_bufs_force: false,
            dynamic_interfaces: false,
            vmac_prefix: VMAC_PREFIX.to_string(),
            snmp: SnmpOptions::default(),
            metrics_listen: None,
            metrics_serve_status: false,
            metrics_web_config: None,
            status_socket: None,
            identity: DaemonIdentity::default(),
            drain_on_remove: None,
            announce: AnnounceDefaults::default(),
        }
    }
}

/// keepalived 2.2.7's nftables settings for VRRP (core/global_parser.c
/// `vrrp_nftables_handler()` and its neighbours; global_data.c defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NftablesOptions {
    /// `nftables [TABLE]` (default name "keepalived"); None = not configured
    /// (the VRRP process then uses "keepalived" when an instance needs a
    /// firewall: no accept mode, or a vmac).
    pub table: Option<String>,
    /// `nftables_priority N`: the base chains' priority (default -1).
    pub priority: i32,
    /// `nftables_ifindex`: link-local VIPs always keyed by interface index.
    pub ifindex: bool,
    /// `nftables_counters`: a counter in every rule.
    pub counters: bool,
}

impl Default for NftablesOptions {
    fn default() -> Self {
        NftablesOptions {
            table: None,
            priority: -1,
            ifindex: false,
            counters: false,
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

/// The SNMP keywords of `global_defs` (keepalived core/global_parser.c
/// `snmp_*_handler()`); `-x` on the command line enables every MIB.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnmpOptions {
    /// `enable_snmp_vrrp` (and its old name `enable_snmp_keepalived`).
    pub vrrp: bool,
    /// `enable_snmp_checker`.
    pub checker: bool,
    /// `enable_snmp_rfcv2` (`enable_snmp_rfc` sets both RFC MIBs).
    pub rfcv2: bool,
    /// `enable_snmp_rfcv3`.
    pub rfcv3: bool,
    /// `enable_traps`.
    pub traps: bool,
    /// `snmp_socket`: the AgentX master's socket.
    pub socket: Option<String>,
}

impl SnmpOptions {
    /// Any MIB enabled: the subagent runs.
    pub fn any(&self) -> bool {
        self.vrrp || self.checker || self.rfcv2 || self.rfcv3
    }
}
