//! From the block tree to the typed model: keyword dispatch, value checks,
//! keepalived defaults and inheritance.
//!
//! Errors are collected per statement (one bad line does not hide the
//! next). Unknown keywords are warnings, as in keepalived.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::diag::{Diagnostic, Pos};
use crate::lexer::Token;
use crate::model::*;
use crate::tree::Node;
use crate::values::{self, boolean, int, ip, ip_prefix, scope, table, PResult};

/// rtnetlink route protocol number keepalived uses for routes it tracks.
const RTPROT_KEEPALIVED: u8 = 18;

/// Keywords keepalived knows that rkeepalived accepts but does not act on.
const IGNORED_TOP: &[&str] = &[
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "instance",
    "use_pid_dir",
    "linkbeat_use_polling",
    "child_wait_time",
    "linkbeat_interfaces",
    "interface_up_down_delays",
    "static_track_group",
    "garp_group",
    "bfd_instance",
    "vrrp_track_process",
];

const IGNORED_GLOBAL: &[&str] = &[
    "tmp_config_directory",
    "config_save_dir",
    "process_names",
    "process_name",
    "vrrp_process_name",
    "checker_process_name",
    "bfd_process_name",
    "vrrp_garp_extra_if",
    "vrrp_iptables",
    "vrrp_ipsets",
    "vrrp_nftables",
    "nftables",
    "nftables_priority",
    "nftables_ifindex",
    "nftables_counters",
    "vrrp_higher_prio_send_advert_extra",
    "max_auto_priority",
    "min_auto_priority_delay",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "rs_init_notifies",
    "no_checker_emails",
    "enable_traps",
    "enable_snmp_vrrp",
    "enable_snmp_keepalived",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_checker",
    "snmp_socket",
    "enable_dbus",
    "dbus_service_name",
    "bfd_priority",
    "bfd_rt_priority",
    "bfd_no_swap",
    "bfd_cpu_affinity",
    "bfd_rlimit_rttime",
    "vrrp_rx_bufs_policy",
    "vrrp_rx_bufs_multiplier",
    "umask",
    "random_seed",
    "reload_time_file",
    "reload_repeat",
    "reload_file",
    "data_use_instance",
    "fifo_write_vrrp_states_on_reload",
    "vrrp_owner_ignore_adverts",
    "vrrp_track_process",
    "vrrp_socket_priority",
    "vrrp_startup_delay_ms",
    "vrrp_use_ipvlan",
    "load_balancer_process_name",
    "smtp_alert_bfd",
    "checker_log_all_failures_flag",
    "notify_fifo_script_user",
    "script_security",
];

const IGNORED_INSTANCE: &[&str] = &[
    "vrf",
    "use_vmac_addr",
    "use_ipvlan",
    "native_ipv6",
    "track_process",
    "track_bfd",
    "track_src_ip",
    "old_unicast_checksum",
    "garp_extra_if",
    "kernel_rx_buf_size",
    "linkbeat_use_polling",
    "notify_deleted",
    "snmp_name",
];

/// Every keyword the parser knows (for "did you mean" suggestions).
const KNOWN_KEYWORDS: &[&str] = &[
    "-nodad",
    "BFD_CHECK",
    "DNS_CHECK",
    "FILE_CHECK",
    "HTTP_GET",
    "ICMP_CHECK",
    "MISC_CHECK",
    "PING_CHECK",
    "SMTP_CHECK",
    "SSL",
    "SSL_GET",
    "TCP_CHECK",
    "UDP_CHECK",
    "accept",
    "advert_int",
    "advmss",
    "alpha",
    "auth_pass",
    "auth_type",
    "authentication",
    "autojoin",
    "bind_if",
    "bind_port",
    "bindto",
    "brd",
    "certificate",
    "check_unicast_src",
    "checker_cpu_affinity",
    "checker_log_all_failures",
    "checker_no_swap",
    "checker_priority",
    "checker_rlimit_rttime",
    "checker_rt_priority",
    "connect_ip",
    "connect_port",
    "connect_timeout",
    "cpu_affinity",
    "debug",
    "default_interface",
    "delay_before_retry",
    "delay_loop",
    "dev",
    "digest",
    "dont_track_primary",
    "down_timer_adverts",
    "dsfield",
    "dynamic",
    "dynamic_interfaces",
    "enable_script_security",
    "enable_sni",
    "fall",
    "fast_recovery",
    "file",
    "flag-1",
    "flag-2",
    "flag-3",
    "from",
    "fwmark",
    "garp_lower_prio_delay",
    "garp_lower_prio_repeat",
    "garp_master_delay",
    "garp_master_refresh",
    "garp_master_refresh_repeat",
    "garp_master_repeat",
    "global_defs",
    "global_tracking",
    "goto",
    "ha_suspend",
    "helo_name",
    "higher_prio_send_advert",
    "home",
    "http_protocol",
    "hysteresis",
    "iif",
    "include",
    "inhibit_on_failure",
    "init_fail",
    "init_file",
    "interface",
    "interval",
    "ip_family",
    "key",
    "label",
    "lb_algo",
    "lb_flags",
    "lb_kind",
    "log_all_failures",
    "lookup",
    "lower_prio_no_advert",
    "lthreshold",
    "lvs_flags",
    "lvs_flush",
    "lvs_flush_on_stop",
    "lvs_method",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "lvs_sched",
    "lvs_sync_daemon",
    "lvs_sync_daemon_interface",
    "lvs_timeouts",
    "max_reply_length",
    "mcast_dst_ip",
    "mcast_src_ip",
    "metric",
    "metrics_listen",
    "metrics_serve_status",
    "metrics_web_config",
    "mh-fallback",
    "mh-port",
    "min_reply_length",
    "misc_dynamic",
    "misc_path",
    "misc_timeout",
    "mngtmpaddr",
    "mtu",
    "name",
    "nat_mask",
    "nb_get_retry",
    "nexthop",
    "no_accept",
    "no_email_faults",
    "no_swap",
    "no_track",
    "nodad",
    "nopreempt",
    "noprefixroute",
    "notification_email",
    "notification_email_from",
    "notify",
    "notify_backup",
    "notify_deleted",
    "notify_down",
    "notify_fault",
    "notify_fifo",
    "notify_fifo_script",
    "notify_master",
    "notify_master_rx_lower_pri",
    "notify_priority_changes",
    "notify_stop",
    "notify_up",
    "oif",
    "omega",
    "onlink",
    "ops",
    "password",
    "path",
    "payload",
    "peer",
    "persistence_engine",
    "persistence_granularity",
    "persistence_timeout",
    "preempt",
    "preempt_delay",
    "pref",
    "preference",
    "preferred_lft",
    "priority",
    "promote_secondaries",
    "proto",
    "protocol",
    "quorum",
    "quorum_down",
    "quorum_up",
    "real_server",
    "regex",
    "regex_max_offset",
    "regex_min_offset",
    "regex_no_match",
    "regex_options",
    "regex_stack",
    "require_reply",
    "retry",
    "rise",
    "router_id",
    "rt_priority",
    "scope",
    "script",
    "script_user",
    "sh-fallback",
    "sh-port",
    "shutdown_script",
    "shutdown_script_timeout",
    "skip_check_adv_addr",
    "smtp_alert",
    "smtp_alert_checker",
    "smtp_alert_vrrp",
    "smtp_connect_timeout",
    "smtp_helo_name",
    "smtp_server",
    "snmp_name",
    "sorry_server",
    "sorry_server_inhibit",
    "sorry_server_lvs_method",
    "src",
    "startup_script",
    "startup_script_timeout",
    "state",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "status_code",
    "status_socket",
    "strict_mode",
    "sync_group_tracking_weight",
    "table",
    "timeout",
    "tls_compliant",
    "tos",
    "track_bfd",
    "track_file",
    "track_interface",
    "track_process",
    "track_script",
    "unicast_fault_no_peer",
    "unicast_peer",
    "unicast_src_ip",
    "unicast_ttl",
    "url",
    "use_vmac",
    "user",
    "uthreshold",
    "version",
    "via",
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "virtual_router_id",
    "virtual_routes",
    "virtual_rules",
    "virtual_server",
    "virtual_server_group",
    "virtualhost",
    "vmac_prefix",
    "vmac_xmit_base",
    "vrrp_check_unicast_src",
    "vrrp_cpu_affinity",
    "vrrp_down_timer_adverts",
    "vrrp_garp_interval",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_garp_master_delay",
    "vrrp_garp_master_refresh",
    "vrrp_garp_master_refresh_repeat",
    "vrrp_garp_master_repeat",
    "vrrp_gna_interval",
    "vrrp_higher_prio_send_advert",
    "vrrp_instance",
    "vrrp_lower_prio_no_advert",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "vrrp_min_garp",
    "vrrp_no_swap",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "vrrp_priority",
    "vrrp_rlimit_rttime",
    "vrrp_rt_priority",
    "vrrp_script",
    "vrrp_skip_check_adv_addr",
    "vrrp_startup_delay",
    "vrrp_strict",
    "vrrp_sync_group",
    "vrrp_track_file",
    "vrrp_version",
    "warmup",
];

fn ignored(n: &Node) -> Diagnostic {
    n.pos().warning(format!(
        "keyword '{}' is not supported by rkeepalived; ignored",
        n.key()
    ))
}

/// Suggestions are computed for this many unknown keywords per load (a
/// file of junk must stay fast; operators read the first ones anyway).
const MAX_SUGGESTIONS: usize = 100;

fn unknown(n: &Node, ctx: &str, with_hint: bool) -> Diagnostic {
    let hint = with_hint
        .then(|| suggest(n.key()))
        .flatten()
        .map(|k| format!(" (did you mean '{k}'?)"))
        .unwrap_or_default();
    n.pos().warning(format!(
        "unknown keyword '{}' in {ctx}; ignored{hint}",
        n.key()
    ))
}

/// The closest known keyword, if it is a likely typo (small edit distance).
fn suggest(word: &str) -> Option<&'static str> {
    if word.len() < 4 || word.len() > 64 {
        return None;
    }
    let limit = (word.len() / 4).clamp(1, 3);
    KNOWN_KEYWORDS
        .iter()
        .chain(IGNORED_GLOBAL.iter())
        .chain(IGNORED_INSTANCE.iter())
        .chain(IGNORED_TOP.iter())
        // Cheap length filter first: a config full of junk stays fast.
        .filter(|k| k.len().abs_diff(word.len()) <= limit)
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance (ASCII keywords; bytes are fine).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Builds a [`Config`] from the tree.
pub struct Parser {
    /// Unknown keywords seen so far (bounds the suggestion work).
    unknown_count: usize,
    /// Where global lvs_sync_daemon was written (for later diagnostics).
    pub lvs_sync_pos: Option<Pos>,
    /// Global smtp_alert or smtp_alert_checker was written.
    smtp_alert_set: bool,
    /// Priority for the next rule written without one (keepalived: 16384 down).
    next_rule_priority: u32,
    pub cfg: Config,
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
}

/// Global values whose default depends on whether they were set.
#[derive(Default)]
struct GlobalSeen {
    smtp_alert: bool,
    lower_prio_delay: bool,
    lower_prio_repeat: bool,
    smtp_alert_vrrp: bool,
    smtp_alert_checker: bool,
}

impl Parser {
    pub fn new() -> Self {
        Parser {
            unknown_count: 0,
            lvs_sync_pos: None,
            smtp_alert_set: false,
            next_rule_priority: 16384,
            cfg: Config::default(),
            warnings: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn push_unknown(&mut self, n: &Node, ctx: &str) {
        let with_hint = self.unknown_count < MAX_SUGGESTIONS;
        self.unknown_count += 1;
        self.warnings.push(unknown(n, ctx, with_hint));
    }

    fn run(&mut self, r: PResult<()>) {
        if let Err(d) = r {
            self.errors.push(d);
        }
    }

    /// Top level. global_defs first and script/track-file definitions next,
    /// so instances and checkers see their defaults and weights regardless of
    /// the order in the file.
    pub fn top(&mut self, nodes: &[Node]) {
        let mut seen = GlobalSeen::default();
        for n in nodes.iter().filter(|n| n.key() == "global_defs") {
            match n.require_block() {
                Ok(block) => self.global_defs(block, &mut seen),
                Err(e) => self.errors.push(e),
            }
        }
        let g = &mut self.cfg.global_defs;
        if !seen.lower_prio_delay {
            g.vrrp_garp_lower_prio_delay = g.vrrp_garp_master_delay;
        }
        if !seen.lower_prio_repeat {
            g.vrrp_garp_lower_prio_repeat = g.vrrp_garp_master_repeat;
        }
        if !seen.smtp_alert_vrrp {
            g.smtp_alert_vrrp = g.smtp_alert;
        }
        if !seen.smtp_alert_checker {
            g.smtp_alert_checker = g.smtp_alert;
        }
        self.smtp_alert_set = seen.smtp_alert || seen.smtp_alert_checker;
        for n in nodes {
            let r = match n.key() {
                "vrrp_script" => self.vrrp_script(n),
                "vrrp_track_file" | "track_file" => self.vrrp_track_file(n),
                _ => Ok(()),
            };
            self.run(r);
        }
        for n in nodes {
            let r = match n.key() {
                "global_defs" | "vrrp_script" | "vrrp_track_file" | "track_file" => Ok(()),
                "vrrp_sync_group" => self.sync_group(n),
                "vrrp_instance" => self.vrrp_instance(n),
                "virtual_server_group" => self.virtual_server_group(n),
                "virtual_server" => self.virtual_server(n),
                "static_ipaddress" => self.static_ipaddress(n),
                "static_routes" => self.static_routes(n),
                "static_rules" => self.static_rules(n),
                "SSL" => self.ssl(n),
                k if IGNORED_TOP.contains(&k) => {
                    self.warnings.push(ignored(n));
                    Ok(())
                }
                _ => {
                    self.push_unknown(n, "the top level");
                    Ok(())
                }
            };
            self.run(r);
        }
    }

    // -------------------------------------------------------------------
    // global_defs
    // -------------------------------------------------------------------

    fn global_defs(&mut self, block: &[Node], seen: &mut GlobalSeen) {
        for n in block {
            let r = self.global_kw(n, seen);
            self.run(r);
        }
    }

    fn global_kw(&mut self, n: &Node, seen: &mut GlobalSeen) -> PResult<()> {
        let g = &mut self.cfg.global_defs;
        match n.key() {
            "router_id" => g.router_id = Some(n.string(0)?),
            "notification_email" => {
                g.notification_email = n
                    .block_words()
                    .into_iter()
                    .map(|t| t.text.clone())
                    .collect();
                if n.block.is_none() {
                    g.notification_email = n.args.iter().map(|t| t.text.clone()).collect();
                }
            }
            "notification_email_from" => g.notification_email_from = Some(n.string(0)?),
            "smtp_server" => {
                let host = n.string(0)?;
                let port = match n.args.get(1) {
                    Some(_) => n.int(1, 1, 65535)?,
                    None => defaults::SMTP_PORT,
                };
                g.smtp_server = Some(SmtpServer { host, port });
            }
            "smtp_helo_name" => g.smtp_helo_name = Some(n.string(0)?),
            "smtp_connect_timeout" => {
                g.smtp_connect_timeout = n.secs(0, 0, 4294)?;
                if g.smtp_connect_timeout.is_zero() {
                    self.warnings.push(n.pos().warning(
                        "smtp_connect_timeout must be greater than 0; using 1 (as keepalived does)",
                    ));
                    g.smtp_connect_timeout = Duration::from_secs(1);
                }
            }
            "smtp_alert" => {
                g.smtp_alert = n.flag()?;
                seen.smtp_alert = true;
            }
            "smtp_alert_vrrp" => {
                g.smtp_alert_vrrp = n.flag()?;
                seen.smtp_alert_vrrp = true;
            }
            "smtp_alert_checker" => {
                g.smtp_alert_checker = n.flag()?;
                seen.smtp_alert_checker = true;
            }
            "no_email_faults" => g.no_email_faults = n.flag()?,
            "checker_log_all_failures" => g.checker_log_all_failures = n.flag()?,
            "script_user" => g.script_user = Some(n.script_user()?),
            "enable_script_security" => g.enable_script_security = n.flag()?,
            "startup_script" => g.startup_script = Some(n.notify()?),
            "startup_script_timeout" => {
                g.startup_script_timeout = Duration::from_secs(n.int(0, 1, 1000)?)
            }
            "shutdown_script" => g.shutdown_script = Some(n.notify()?),
            "shutdown_script_timeout" => {
                g.shutdown_script_timeout = Duration::from_secs(n.int(0, 1, 1000)?)
            }
            "default_interface" => g.default_interface = n.string(0)?,
            "vrrp_version" => g.vrrp_version = vrrp_version(n)?,
            "vrrp_mcast_group4" => match n.ip(0)? {
                IpAddr::V4(a) if a.is_multicast() => g.vrrp_mcast_group4 = a,
                _ => {
                    return Err(n.args[0].pos.error(format!(
                        "'vrrp_mcast_group4': '{}' is not an IPv4 multicast address",
                        n.args[0].text
                    )))
                }
            },
            "vrrp_mcast_group6" => match n.ip(0)? {
                IpAddr::V6(a) if a.is_multicast() => g.vrrp_mcast_group6 = a,
                _ => {
                    return Err(n.args[0].pos.error(format!(
                        "'vrrp_mcast_group6': '{}' is not an IPv6 multicast address",
                        n.args[0].text
                    )))
                }
            },
            "vrrp_garp_master_delay" => g.vrrp_garp_master_delay = n.secs(0, 0, 86400)?,
            "vrrp_garp_master_repeat" => g.vrrp_garp_master_repeat = n.int(0, 1, 65535)?,
            "vrrp_garp_master_refresh" => {
                g.vrrp_garp_master_refresh = nonzero(n.secs(0, 0, 86400)?)
            }
            "vrrp_garp_master_refresh_repeat" => {
                g.vrrp_garp_master_refresh_repeat = n.int(0, 1, 65535)?
            }
            "vrrp_garp_lower_prio_delay" => {
                g.vrrp_garp_lower_prio_delay = n.secs(0, 0, 86400)?;
                seen.lower_prio_delay = true;
            }
            "vrrp_garp_lower_prio_repeat" => {
                g.vrrp_garp_lower_prio_repeat = n.int(0, 0, 65535)?;
                seen.lower_prio_repeat = true;
            }
            "vrrp_garp_interval" => g.vrrp_garp_interval = n.timer(0)?,
            "vrrp_gna_interval" => g.vrrp_gna_interval = n.timer(0)?,
            "vrrp_min_garp" => {
                g.vrrp_min_garp = n.flag()?;
                if g.vrrp_min_garp {
                    // keepalived: one GARP, no second block.
                    g.vrrp_garp_master_repeat = 1;
                    g.vrrp_garp_master_delay = Duration::ZERO;
                }
            }
            "vrrp_down_timer_adverts" => g.vrrp_down_timer_adverts = n.int(0, 1, 100)?,
            "vrrp_lower_prio_no_advert" => g.vrrp_lower_prio_no_advert = n.flag()?,
            "vrrp_higher_prio_send_advert" => g.vrrp_higher_prio_send_advert = n.flag()?,
            "vrrp_strict" => g.vrrp_strict = n.flag()?,
            "vrrp_skip_check_adv_addr" => g.vrrp_skip_check_adv_addr = n.flag()?,
            "vrrp_check_unicast_src" => g.vrrp_check_unicast_src = n.flag()?,
            "vrrp_startup_delay" => g.vrrp_startup_delay = n.timer(0)?,
            "notify_fifo" => g.notify_fifo = Some(fifo(n, g.notify_fifo.take())?),
            "vrrp_notify_fifo" => g.vrrp_notify_fifo = Some(fifo(n, g.vrrp_notify_fifo.take())?),
            "lvs_notify_fifo" => g.lvs_notify_fifo = Some(fifo(n, g.lvs_notify_fifo.take())?),
            "notify_fifo_script" => fifo_script(n, &mut g.notify_fifo)?,
            "vrrp_notify_fifo_script" => fifo_script(n, &mut g.vrrp_notify_fifo)?,
            "lvs_notify_fifo_script" => fifo_script(n, &mut g.lvs_notify_fifo)?,
            "lvs_sync_daemon" => {
                g.lvs_sync_daemon = Some(lvs_sync_daemon(n)?);
                self.lvs_sync_pos = Some(n.pos().clone());
            }
            "lvs_timeouts" => g.lvs_timeouts = lvs_timeouts(n)?,
            "lvs_flush" => g.lvs_flush = n.flag()?,
            "lvs_flush_on_stop" => {
                g.lvs_flush_on_stop = match n.args.first().map(|t| t.text.as_str()) {
                    None => LvsFlushOnStop::Flush,
                    Some("VS") => LvsFlushOnStop::VirtualServers,
                    Some(_) => match boolean(&n.args[0], n.key())? {
                        true => LvsFlushOnStop::Flush,
                        false => LvsFlushOnStop::No,
                    },
                }
            }
            "dynamic_interfaces" => {
                g.dynamic_interfaces = match n.args.first() {
                    Some(t) if t.text == "allow_if_changes" => true,
                    _ => n.flag()?,
                }
            }
            "vmac_prefix" => g.vmac_prefix = n.string(0)?,
            "metrics_listen" => {
                let t = n.arg(0, "ADDR:PORT")?;
                g.metrics_listen = Some(t.text.parse().map_err(|_| {
                    t.pos.error(format!(
                        "'metrics_listen': invalid socket address '{}' (expected e.g. 127.0.0.1:9650 or [::1]:9650)",
                        t.text
                    ))
                })?);
            }
            "metrics_serve_status" => g.metrics_serve_status = n.flag()?,
            "metrics_web_config" => g.metrics_web_config = Some(PathBuf::from(n.string(0)?)),
            "status_socket" => g.status_socket = Some(PathBuf::from(n.string(0)?)),
            k => {
                if let Some(rest) = k.strip_prefix("vrrp_").filter(|r| is_process_kw(r)) {
                    process_kw(&mut g.vrrp_process, rest, n)?;
                } else if let Some(rest) = k.strip_prefix("checker_").filter(|r| is_process_kw(r)) {
                    process_kw(&mut g.checker_process, rest, n)?;
                } else if IGNORED_GLOBAL.contains(&k) {
                    self.warnings.push(ignored(n));
                } else {
                    self.push_unknown(n, "global_defs");
                }
            }
        }
        Ok(())
    }

    // -------------------------------------------------------------------
    // vrrp_script / vrrp_track_file / vrrp_sync_group
    // -------------------------------------------------------------------

    fn vrrp_script(&mut self, n: &Node) -> PResult<()> {
        let errors_before = self.errors.len();
        let name = n.string(0)?;
        let block = n.require_block()?;
        let mut s = VrrpScript::new(name, "");
        s.origin = origin(n.pos());
        let mut timeout = None;
        let mut have_script = false;
        for k in block {
            let r: PResult<()> = (|| {
                match k.key() {
                    "script" => {
                        s.script = k.string(0)?;
                        have_script = true;
                        if k.args.len() > 1 {
                            // keepalived joins unquoted words into one command line.
                            s.script = k
                                .args
                                .iter()
                                .map(|t| t.text.as_str())
                                .collect::<Vec<_>>()
                                .join(" ");
                        }
                    }
                    "interval" => s.interval = k.secs(0, 1, 4294)?,
                    "timeout" => timeout = Some(k.secs(0, 1, 4294)?),
                    "weight" => {
                        s.weight = k.int(0, -253, 253)?;
                        s.weight_reverse = reverse_flag(k, 1)?;
                    }
                    "rise" => s.rise = k.int(0, 1, i64::from(u32::MAX))?,
                    "fall" => s.fall = k.int(0, 1, i64::from(u32::MAX))?,
                    "user" => s.user = Some(k.script_user()?),
                    "init_fail" => s.init_fail = k.flag()?,
                    _ => self.push_unknown(k, "vrrp_script"),
                }
                Ok(())
            })();
            self.run(r);
        }
        if self.errors.len() > errors_before {
            // Already reported; don't pile follow-on errors on top.
            return Ok(());
        }
        s.timeout = timeout.unwrap_or(s.interval);
        if !have_script {
            return Err(n
                .pos()
                .error(format!("vrrp_script '{}' has no 'script' line", s.name)));
        }
        if self.cfg.vrrp_script(&s.name).is_some() {
            return Err(n
                .pos()
                .error(format!("vrrp_script '{}' defined twice", s.name)));
        }
        self.cfg.vrrp_scripts.push(s);
        Ok(())
    }

    fn vrrp_track_file(&mut self, n: &Node) -> PResult<()> {
        let errors_before = self.errors.len();
        let name = n.string(0)?;
        let block = n.require_block()?;
        let mut file = None;
        let mut t = VrrpTrackFile {
            name,
            origin: origin(n.pos()),
            file: PathBuf::new(),
            weight: defaults::TRACK_FILE_WEIGHT,
            reverse: false,
            init_file: None,
        };
        for k in block {
            let r: PResult<()> = (|| {
                match k.key() {
                    "file" => file = Some(PathBuf::from(k.string(0)?)),
                    "weight" => {
                        t.weight = k.int(0, -254, 254)?;
                        t.reverse = reverse_flag(k, 1)?;
                    }
                    "init_file" => {
                        let mut init = TrackFileInit {
                            value: 0,
                            overwrite: false,
                        };
                        for a in &k.args {
                            if a.text == "overwrite" {
                                init.overwrite = true;
                            } else {
                                init.value = int(a, -254, 254, "init_file")?;
                            }
                        }
                        t.init_file = Some(init);
                    }
                    _ => self.push_unknown(k, "vrrp_track_file"),
                }
                Ok(())
            })();
            self.run(r);
        }
        if self.errors.len() > errors_before {
            // Already reported; don't pile follow-on errors on top.
            return Ok(());
        }
        t.file = file.ok_or_else(|| {
            n.pos()
                .error(format!("vrrp_track_file '{}' has no 'file' line", t.name))
        })?;
        if self.cfg.vrrp_track_file(&t.name).is_some() {
            return Err(n
                .pos()
                .error(format!("vrrp_track_file '{}' defined twice", t.name)));
        }
        self.cfg.vrrp_track_files.push(t);
        Ok(())
    }

    fn sync_group(&mut self, n: &Node) -> PResult<()> {
        let name = n.string(0)?;
        let block = n.require_block()?;
        let mut g = VrrpSyncGroup::new(name);
        g.origin = origin(n.pos());
        for k in block {
            let r: PResult<()> = (|| {
                match k.key() {
                    "group" => {
                        for t in k.block_words() {
                            g.group.push(t.text.clone());
                        }
                    }
                    "track_interface" => g.track_interfaces = self.track_interfaces(k)?,
                    "track_script" => g.track_scripts = self.track_scripts(k)?,
                    "track_file" => g.track_files = self.track_files(k)?,
                    "notify_master" => g.notify_master = Some(k.notify()?),
                    "notify_backup" => g.notify_backup = Some(k.notify()?),
                    "notify_fault" => g.notify_fault = Some(k.notify()?),
                    "notify_stop" => g.notify_stop = Some(k.notify()?),
                    "notify" => g.notify = Some(k.notify()?),
                    "notify_priority_changes" => g.notify_priority_changes = k.flag()?,
                    "smtp_alert" => g.smtp_alert = k.flag()?,
                    "global_tracking" => g.global_tracking = k.flag()?,
                    "sync_group_tracking_weight" => g.sync_group_tracking_weight = k.flag()?,
                    "track_process" | "track_bfd" | "notify_deleted" => {
                        self.warnings.push(ignored(k))
                    }
                    _ => self.push_unknown(k, "vrrp_sync_group"),
                }
                Ok(())
            })();
            self.run(r);
        }
        if self.cfg.vrrp_sync_groups.iter().any(|x| x.name == g.name) {
            return Err(n
                .pos()
                .error(format!("vrrp_sync_group '{}' defined twice", g.name)));
        }
        self.cfg.vrrp_sync_groups.push(g);
        Ok(())
    }

    /// `track_interface { IF [weight N [reverse]] }`.
    fn track_interfaces(&mut self, n: &Node) -> PResult<Vec<TrackRef>> {
        let mut out = Vec::new();
        for k in n.require_block()? {
            let (weight, reverse) = track_weight(k, -254, 254)?;
            out.push(TrackRef {
                name: k.key().to_string(),
                weight: weight.unwrap_or(0),
                reverse,
            });
        }
        Ok(out)
    }

    /// `track_script { NAME [weight N [reverse]] }`; weight defaults to the
    /// script's. Undefined scripts: warning and ignored, as keepalived does.
    fn track_scripts(&mut self, n: &Node) -> PResult<Vec<TrackRef>> {
        let mut out = Vec::new();
        for k in n.require_block()? {
            let (weight, reverse) = track_weight(k, -253, 253)?;
            match self.cfg.vrrp_script(k.key()) {
                Some(s) => out.push(TrackRef {
                    name: s.name.clone(),
                    weight: weight.unwrap_or(s.weight),
                    reverse: if weight.is_some() {
                        reverse
                    } else {
                        s.weight_reverse
                    },
                }),
                None => self.warnings.push(k.pos().warning(format!(
                    "track_script '{}' is not a defined vrrp_script; ignoring it (as keepalived does)",
                    k.key()
                ))),
            }
        }
        Ok(out)
    }

    fn track_files(&mut self, n: &Node) -> PResult<Vec<TrackRef>> {
        let mut out = Vec::new();
        for k in n.require_block()? {
            let (weight, reverse) = track_weight(k, -254, 254)?;
            match self.cfg.vrrp_track_file(k.key()) {
                Some(f) => out.push(TrackRef {
                    name: f.name.clone(),
                    weight: weight.unwrap_or(f.weight),
                    reverse: if weight.is_some() { reverse } else { f.reverse },
                }),
                None => self.warnings.push(k.pos().warning(format!(
                    "track_file '{}' is not a defined vrrp_track_file; ignoring it (as keepalived does)",
                    k.key()
                ))),
            }
        }
        Ok(out)
    }

    // -------------------------------------------------------------------
    // vrrp_instance
    // -------------------------------------------------------------------

    fn vrrp_instance(&mut self, n: &Node) -> PResult<()> {
        let errors_before = self.errors.len();
        let name = n.string(0)?;
        let block = n.require_block()?;
        let g = self.cfg.global_defs.clone();
        let mut v = VrrpInstance::new(name, String::new(), 0);
        v.origin = origin(n.pos());
        v.version = g.vrrp_version;
        v.garp_master_delay = g.vrrp_garp_master_delay;
        v.garp_master_repeat = g.vrrp_garp_master_repeat;
        v.garp_master_refresh = g.vrrp_garp_master_refresh;
        v.garp_master_refresh_repeat = g.vrrp_garp_master_refresh_repeat;
        v.garp_lower_prio_delay = g.vrrp_garp_lower_prio_delay;
        v.garp_lower_prio_repeat = g.vrrp_garp_lower_prio_repeat;
        v.down_timer_adverts = g.vrrp_down_timer_adverts;
        v.lower_prio_no_advert = g.vrrp_lower_prio_no_advert;
        v.higher_prio_send_advert = g.vrrp_higher_prio_send_advert;
        v.strict_mode = g.vrrp_strict;
        v.skip_check_adv_addr = g.vrrp_skip_check_adv_addr;
        v.check_unicast_src = g.vrrp_check_unicast_src;
        v.smtp_alert = g.smtp_alert_vrrp;

        let mut interface: Option<String> = None;
        let mut vrid: Option<(u8, Pos)> = None;
        let mut version_set: Option<Pos> = None;
        let mut accept: Option<bool> = None;
        let mut advert: Option<(Duration, Pos)> = None;
        let mut lower_delay_set = false;
        let mut lower_repeat_set = false;
        let mut state_set = false;
        let mut priority_set = false;
        let mut lpna_set = false;
        let mut hpsa_set = false;
        let mut vmac: Option<(Option<String>, Option<[u8; 6]>)> = None;
        let mut xmit_base = false;
        // VIPs are parsed after the interface is known (their default dev).
        let mut vip_nodes: Vec<(&Node, bool)> = Vec::new();

        for k in block {
            let r: PResult<()> = (|| {
                match k.key() {
                    "state" => {
                        state_set = true;
                        v.state = match k.arg(0, "MASTER or BACKUP")?.text.as_str() {
                            "MASTER" => InitialState::Master,
                            "BACKUP" => InitialState::Backup,
                            other => {
                                return Err(k.args[0].pos.error(format!(
                                    "'state': unknown state '{other}' (expected MASTER or BACKUP)"
                                )))
                            }
                        }
                    }
                    "interface" => interface = Some(k.string(0)?),
                    "virtual_router_id" => vrid = Some((k.int(0, 1, 255)?, k.pos().clone())),
                    "priority" => {
                        v.priority = k.int(0, 1, 255)?;
                        priority_set = true;
                    }
                    "advert_int" => {
                        let d = k.timer(0)?;
                        if d < Duration::from_millis(10) || d > Duration::from_secs(255) {
                            return Err(k.args[0].pos.error(format!(
                                "'advert_int': {} out of range 0.01..255 seconds",
                                k.args[0].text
                            )));
                        }
                        advert = Some((d, k.args[0].pos.clone()));
                    }
                    "version" => {
                        v.version = vrrp_version(k)?;
                        version_set = Some(k.pos().clone());
                    }
                    "nopreempt" => v.nopreempt = true,
                    "preempt" => v.nopreempt = false,
                    "preempt_delay" => {
                        let d = k.timer(0)?;
                        if d > Duration::from_secs(1000) {
                            return Err(k.args[0]
                                .pos
                                .error("'preempt_delay': out of range 0..1000 seconds"));
                        }
                        v.preempt_delay = d;
                    }
                    "mcast_src_ip" => v.mcast_src_ip = Some(k.ip(0)?),
                    "unicast_src_ip" => v.unicast_src_ip = Some(k.ip(0)?),
                    "mcast_dst_ip" => {
                        let a = k.ip(0)?;
                        if !a.is_multicast() {
                            return Err(k.args[0].pos.error(format!(
                                "'mcast_dst_ip': '{a}' is not a multicast address"
                            )));
                        }
                        v.mcast_dst_ip = Some(a);
                    }
                    "unicast_peer" => {
                        for p in k.require_block()? {
                            v.unicast_peers.push(unicast_peer(p)?);
                        }
                    }
                    "unicast_ttl" => v.unicast_ttl = Some(k.int(0, 0, 255)?),
                    "unicast_fault_no_peer" => v.unicast_fault_no_peer = k.flag()?,
                    "check_unicast_src" => {
                        // A plain flag in keepalived: cannot undo the global one.
                        v.check_unicast_src = k.flag()? || g.vrrp_check_unicast_src
                    }
                    "authentication" => v.authentication = self.authentication(k)?,
                    "virtual_ipaddress" => vip_nodes.push((k, false)),
                    "virtual_ipaddress_excluded" => vip_nodes.push((k, true)),
                    "virtual_routes" => v.virtual_routes.extend(self.routes(k)?),
                    "virtual_rules" => v.virtual_rules.extend(self.rules(k)?),
                    "track_interface" => v.track_interfaces.extend(self.track_interfaces(k)?),
                    "track_script" => v.track_scripts.extend(self.track_scripts(k)?),
                    "track_file" => v.track_files.extend(self.track_files(k)?),
                    "dont_track_primary" => v.dont_track_primary = k.flag()?,
                    "use_vmac" => {
                        let mut name = None;
                        let mut mac = None;
                        for a in &k.args {
                            match parse_mac(&a.text) {
                                Some(m) => mac = Some(m),
                                None if name.is_none() => name = Some(a.text.clone()),
                                None => {
                                    return Err(a.pos.error(format!(
                                    "'use_vmac': unexpected argument '{}' (expected [NAME] [MAC])",
                                    a.text
                                )))
                                }
                            }
                        }
                        vmac = Some((name, mac));
                    }
                    "vmac_xmit_base" => xmit_base = k.flag()?,
                    "accept" => accept = Some(k.flag()?),
                    "no_accept" => accept = Some(false),
                    "strict_mode" => v.strict_mode = k.flag()?,
                    "skip_check_adv_addr" => v.skip_check_adv_addr = k.flag()?,
                    "promote_secondaries" => v.promote_secondaries = k.flag()?,
                    "notify_master" => v.notify_master = Some(k.notify()?),
                    "notify_backup" => v.notify_backup = Some(k.notify()?),
                    "notify_fault" => v.notify_fault = Some(k.notify()?),
                    "notify_stop" => v.notify_stop = Some(k.notify()?),
                    "notify" => v.notify = Some(k.notify()?),
                    "notify_master_rx_lower_pri" => {
                        v.notify_master_rx_lower_pri = Some(k.notify()?)
                    }
                    "notify_priority_changes" => v.notify_priority_changes = k.flag()?,
                    "smtp_alert" => v.smtp_alert = k.flag()?,
                    "garp_master_delay" => v.garp_master_delay = k.secs(0, 0, 86400)?,
                    "garp_master_repeat" => v.garp_master_repeat = k.int(0, 1, 65535)?,
                    "garp_master_refresh" => v.garp_master_refresh = nonzero(k.secs(0, 0, 86400)?),
                    "garp_master_refresh_repeat" => {
                        v.garp_master_refresh_repeat = k.int(0, 1, 65535)?
                    }
                    "garp_lower_prio_delay" => {
                        v.garp_lower_prio_delay = k.secs(0, 0, 86400)?;
                        lower_delay_set = true;
                    }
                    "garp_lower_prio_repeat" => {
                        v.garp_lower_prio_repeat = k.int(0, 0, 65535)?;
                        lower_repeat_set = true;
                    }
                    "down_timer_adverts" => v.down_timer_adverts = k.int(0, 1, 100)?,
                    "lower_prio_no_advert" => {
                        v.lower_prio_no_advert = k.flag()?;
                        lpna_set = true;
                    }
                    "higher_prio_send_advert" => {
                        v.higher_prio_send_advert = k.flag()?;
                        hpsa_set = true;
                    }
                    "lvs_sync_daemon_interface" => {
                        let want = k.string(0)?;
                        let earlier = self
                            .cfg
                            .vrrp_instances
                            .iter()
                            .find_map(|o| o.lvs_sync_daemon_interface.clone());
                        match earlier {
                            Some(prev) if prev != want => self.warnings.push(k.pos().warning(format!(
                                "lvs_sync_daemon_interface has already been specified as {prev}; ignoring (as keepalived does). Prefer the global lvs_sync_daemon"
                            ))),
                            _ => v.lvs_sync_daemon_interface = Some(want),
                        }
                    }
                    "debug" => {
                        v.debug = k
                            .args
                            .first()
                            .map(|_| k.int(0, 0, 4))
                            .transpose()?
                            .unwrap_or(0)
                    }
                    kw if IGNORED_INSTANCE.contains(&kw) => self.warnings.push(ignored(k)),
                    _ => self.push_unknown(k, "vrrp_instance"),
                }
                Ok(())
            })();
            self.run(r);
        }

        if self.errors.len() > errors_before {
            // Already reported; don't pile follow-on errors on top.
            return Ok(());
        }
        // garp_lower_prio_* default to the instance's garp_master_* when the
        // global lower_prio values were not set either.
        if !lower_delay_set && g.vrrp_garp_lower_prio_delay == g.vrrp_garp_master_delay {
            v.garp_lower_prio_delay = v.garp_master_delay;
        }
        if !lower_repeat_set && g.vrrp_garp_lower_prio_repeat == g.vrrp_garp_master_repeat {
            v.garp_lower_prio_repeat = v.garp_master_repeat;
        }

        v.interface = match interface {
            Some(i) => i,
            None => {
                self.warnings.push(n.pos().warning(format!(
                    "vrrp_instance '{}' has no 'interface'; using default_interface '{}'",
                    v.name, g.default_interface
                )));
                g.default_interface.clone()
            }
        };
        let Some((vrid, _)) = vrid else {
            return Err(n.pos().error(format!(
                "vrrp_instance '{}' has no 'virtual_router_id' (1..255)",
                v.name
            )));
        };
        v.virtual_router_id = vrid;

        for (k, excluded) in vip_nodes {
            let list = match self.vip_block(k, &v.interface) {
                Ok(l) => l,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            if excluded {
                v.virtual_ipaddresses_excluded.extend(list);
            } else {
                v.virtual_ipaddresses.extend(list);
            }
        }

        // Family: from the first VIP (else the unicast/mcast source, else IPv4).
        let family_source = v
            .virtual_ipaddresses
            .first()
            .map(|a| a.addr)
            .or(v.unicast_src_ip)
            .or(v.mcast_src_ip)
            .or(v.unicast_peers.first().map(|p| p.addr));
        v.family = family_source
            .as_ref()
            .map(AddressFamily::of)
            .unwrap_or(AddressFamily::Inet);
        let fam = v.family;
        let before = v.virtual_ipaddresses.len();
        v.virtual_ipaddresses
            .retain(|a| AddressFamily::of(&a.addr) == fam);
        if v.virtual_ipaddresses.len() != before {
            self.warnings.push(n.pos().warning(format!(
                "vrrp_instance '{}': virtual_ipaddress entries of the other address family ignored (as keepalived does); use virtual_ipaddress_excluded for them",
                v.name
            )));
        }
        let mut dropped_peers = Vec::new();
        v.unicast_peers.retain(|p| {
            let ok = AddressFamily::of(&p.addr) == fam;
            if !ok {
                dropped_peers.push(p.addr);
            }
            ok
        });
        for p in dropped_peers {
            self.warnings.push(n.pos().warning(format!(
                "vrrp_instance '{}': unicast_peer {p} is not the instance's address family; ignoring it (as keepalived does)",
                v.name
            )));
        }
        for (what, addr) in [
            ("unicast_src_ip", &mut v.unicast_src_ip),
            ("mcast_src_ip", &mut v.mcast_src_ip),
        ] {
            if let Some(a) = addr {
                if AddressFamily::of(a) != fam {
                    self.warnings.push(n.pos().warning(format!(
                        "vrrp_instance '{}': {what} {a} is not the instance's address family; ignoring it",
                        v.name
                    )));
                    *addr = None;
                }
            }
        }

        // The rest mirrors keepalived's vrrp_complete_instance(), in order.
        let name = v.name.clone();
        let mut fixups: Vec<Diagnostic> = Vec::new();
        let mut warn = |msg: String| {
            fixups.push(n.pos().warning(format!("vrrp_instance '{name}': {msg}")));
        };
        if fam == AddressFamily::Inet6 && v.version == VrrpVersion::V2 {
            if version_set.is_some() {
                warn(
                    "IPv6 requires VRRP version 3 (RFC 3768 is IPv4 only); using version 3".into(),
                );
            }
            v.version = VrrpVersion::V3;
        }
        if v.virtual_ipaddresses.is_empty()
            && (v.version == VrrpVersion::V3 || fam == AddressFamily::Inet6 || v.strict_mode)
        {
            return Err(n.pos().error(format!(
                "vrrp_instance '{}': no virtual_ipaddress; at least one is required with VRRP version 3, IPv6 or strict mode",
                v.name
            )));
        }
        let owner = defaults::PRIORITY_OWNER;
        // No priority: derived from the state (MASTER = address owner).
        if !priority_set {
            v.priority = if v.state == InitialState::Master && state_set {
                owner
            } else {
                defaults::PRIORITY
            };
        }
        // No state: derived from the priority.
        if !state_set {
            v.state = if v.priority == owner {
                InitialState::Master
            } else {
                InitialState::Backup
            };
        } else if v.strict_mode && ((v.state == InitialState::Master) != (v.priority == owner)) {
            warn("strict mode: state MASTER must match being address owner (priority 255); fixing the state (as keepalived does)".into());
            v.state = if v.priority == owner {
                InitialState::Master
            } else {
                InitialState::Backup
            };
        }
        if let Some(auth) = &v.authentication {
            let drop_reason = if v.strict_mode {
                Some("strict mode does not support authentication")
            } else if v.version == VrrpVersion::V3 {
                Some("VRRP version 3 does not support authentication")
            } else if auth.auth_type == AuthType::Ah && fam == AddressFamily::Inet6 {
                Some("AH authentication cannot be used with IPv6")
            } else {
                None
            };
            if let Some(reason) = drop_reason {
                warn(format!("{reason}; ignoring it (as keepalived does)"));
                v.authentication = None;
            } else if auth.auth_type == AuthType::Ah
                && v.state == InitialState::Master
                && v.priority != owner
            {
                warn("initial state MASTER is incompatible with AH authentication; using BACKUP (as keepalived does)".into());
                v.state = InitialState::Backup;
            }
        }
        if v.strict_mode && !v.unicast_peers.is_empty() {
            return Err(n.pos().error(format!(
                "vrrp_instance '{}': unicast peers are not supported in strict mode",
                v.name
            )));
        }
        // RFC 5798 §5.2.9: with IPv6 the first address is the link-local one.
        if fam == AddressFamily::Inet6 && v.unicast_peers.is_empty() {
            if let Some(IpAddr::V6(first)) = v.virtual_ipaddresses.first().map(|a| a.addr) {
                if (first.segments()[0] & 0xffc0) != 0xfe80 {
                    warn(format!(
                        "the first IPv6 virtual_ipaddress ({first}) should be link local (RFC 5798 5.2.9)"
                    ));
                }
            }
        }
        // The address count field is 8 bits (RFC 5798 §5.2.6).
        if v.virtual_ipaddresses.len() > 255 {
            warn(format!(
                "{} virtual_ipaddress entries exceed the 255 an advert can carry; moving the excess to virtual_ipaddress_excluded (as keepalived does)",
                v.virtual_ipaddresses.len()
            ));
            let excess = v.virtual_ipaddresses.split_off(255);
            v.virtual_ipaddresses_excluded.extend(excess);
        }
        if v.priority == owner && v.nopreempt {
            warn("nopreempt is incompatible with priority 255; clearing nopreempt (as keepalived does)".into());
            v.nopreempt = false;
        }
        if v.state == InitialState::Master {
            if v.nopreempt {
                warn("nopreempt will not work with initial state MASTER; clearing nopreempt (as keepalived does)".into());
                v.nopreempt = false;
            }
            if !v.preempt_delay.is_zero() {
                warn("preempt_delay will not work with initial state MASTER; clearing it (as keepalived does)".into());
                v.preempt_delay = Duration::ZERO;
            }
        }
        if !v.preempt_delay.is_zero() && (v.strict_mode || v.nopreempt) {
            warn("preempt_delay is incompatible with strict mode and nopreempt; resetting it (as keepalived does)".into());
            v.preempt_delay = Duration::ZERO;
        }
        v.accept = accept.unwrap_or(!v.strict_mode);
        if v.accept && v.priority != owner && v.strict_mode && v.version == VrrpVersion::V2 {
            warn("accept mode for VRRP version 2 does not comply with RFC 3768 in strict mode; disabling accept".into());
            v.accept = false;
        }
        if v.strict_mode {
            if lower_repeat_set && v.garp_lower_prio_repeat != 0 {
                warn("strict mode requires garp_lower_prio_repeat 0; resetting".into());
            }
            if lower_delay_set && !v.garp_lower_prio_delay.is_zero() {
                warn("strict mode requires garp_lower_prio_delay 0; resetting".into());
            }
            if lpna_set && !v.lower_prio_no_advert {
                warn("strict mode requires lower_prio_no_advert; setting it".into());
            }
            if hpsa_set && v.higher_prio_send_advert {
                warn("strict mode requires higher_prio_send_advert off; clearing it".into());
            }
            if v.down_timer_adverts != defaults::DOWN_TIMER_ADVERTS {
                warn("down_timer_adverts is incompatible with strict mode; resetting to 3 (as keepalived does)".into());
                v.down_timer_adverts = defaults::DOWN_TIMER_ADVERTS;
            }
            v.garp_lower_prio_repeat = 0;
            v.garp_lower_prio_delay = Duration::ZERO;
            v.lower_prio_no_advert = true;
            v.higher_prio_send_advert = false;
        }
        if let Some((d, pos)) = advert {
            v.advert_int = d;
            match v.version {
                VrrpVersion::V2 => {
                    // RFC 3768 §5.3.7: Adver Int is whole seconds.
                    let rounded = Duration::from_secs(((d.as_millis() + 500) / 1000).max(1) as u64);
                    if rounded != d {
                        self.warnings.push(pos.warning(format!(
                            "vrrp_instance '{}': VRRP version 2 advert_int must be a whole number of seconds; using {}s (as keepalived does)",
                            v.name,
                            rounded.as_secs()
                        )));
                        v.advert_int = rounded;
                    }
                }
                VrrpVersion::V3 => {
                    // RFC 5798 §5.2.7: Max Adver Int in centiseconds (12 bits).
                    let cs = (d.as_micros() + 5_000) / 10_000;
                    let cs = cs.clamp(1, 4095);
                    let rounded = Duration::from_millis(u64::try_from(cs * 10).unwrap_or(40950));
                    if rounded != d {
                        self.warnings.push(pos.warning(format!(
                            "vrrp_instance '{}': VRRP version 3 advert_int has centisecond resolution (max 40.95s); using {}s",
                            v.name,
                            fmt_duration(rounded)
                        )));
                        v.advert_int = rounded;
                    }
                }
            }
        }

        if v.unicast_peers.is_empty() && v.unicast_ttl.is_some() {
            warn("unicast_ttl without unicast peers; ignoring it (as keepalived does)".into());
            v.unicast_ttl = None;
        }
        if !v.unicast_peers.is_empty() && v.mcast_dst_ip.is_some() {
            warn("mcast_dst_ip with unicast peers; ignoring it (as keepalived does)".into());
            v.mcast_dst_ip = None;
        }
        match vmac {
            Some((name, mac)) => {
                if !v.unicast_peers.is_empty() && !xmit_base {
                    warn("unicast with use_vmac requires vmac_xmit_base; setting it (as keepalived does)".into());
                    xmit_base = true;
                }
                if xmit_base && v.strict_mode {
                    warn("vmac_xmit_base is incompatible with strict mode; clearing it (as keepalived does)".into());
                    xmit_base = false;
                }
                if v.promote_secondaries {
                    warn("promote_secondaries is automatic with use_vmac; ignoring it (as keepalived does)".into());
                    v.promote_secondaries = false;
                }
                v.use_vmac = Some(Vmac {
                    name: name.unwrap_or_else(|| format!("{}.{}", g.vmac_prefix, vrid)),
                    mac,
                    xmit_base,
                });
            }
            None if xmit_base => {
                warn("vmac_xmit_base is only valid with use_vmac; ignoring it".into())
            }
            None => {}
        }
        let own = v.interface.clone();
        let before = v.track_interfaces.len();
        v.track_interfaces.retain(|t| t.name != own);
        if v.track_interfaces.len() != before {
            warn(format!(
                "ignoring track_interface {own}: it is the instance's own interface (as keepalived does)"
            ));
        }
        if v.priority == owner {
            // keepalived: the address owner ignores weighted tracking.
            drop_weighted_tracking(&mut v, false, &mut warn, "address owner");
        }
        self.warnings.extend(fixups);

        if self.cfg.vrrp_instance(&v.name).is_some() {
            return Err(n
                .pos()
                .error(format!("vrrp_instance '{}' defined twice", v.name)));
        }
        if let Some(other) = self.cfg.vrrp_instances.iter().find(|o| {
            o.virtual_router_id == v.virtual_router_id
                && o.interface == v.interface
                && o.family == v.family
                && o.unicast_peers.is_empty() == v.unicast_peers.is_empty()
        }) {
            return Err(n.pos().error(format!(
                "vrrp_instance '{}': virtual_router_id {} on interface {} is already used by vrrp_instance '{}' ({})",
                v.name, v.virtual_router_id, v.interface, other.name, other.origin
            )));
        }
        self.cfg.vrrp_instances.push(v);
        Ok(())
    }

    fn authentication(&mut self, n: &Node) -> PResult<Option<Authentication>> {
        let mut auth_type = None;
        let mut pass: Option<(String, Pos)> = None;
        for k in n.require_block()? {
            match k.key() {
                "auth_type" => {
                    auth_type = Some(match k.arg(0, "PASS or AH")?.text.as_str() {
                        "PASS" => AuthType::Pass,
                        "AH" => AuthType::Ah,
                        other => {
                            return Err(k.args[0].pos.error(format!(
                                "'auth_type': unknown type '{other}' (expected PASS or AH)"
                            )))
                        }
                    })
                }
                "auth_pass" => pass = Some((k.string(0)?, k.args[0].pos.clone())),
                _ => self.push_unknown(k, "authentication"),
            }
        }
        let (Some(auth_type), Some((mut auth_pass, pos))) = (auth_type, pass) else {
            self.warnings.push(n.pos().warning(
                "authentication needs both auth_type and auth_pass; ignoring it (as keepalived does)",
            ));
            return Ok(None);
        };
        if auth_pass.is_empty() {
            self.warnings.push(pos.warning(
                "authentication with an empty auth_pass; ignoring it (as keepalived does)",
            ));
            return Ok(None);
        }
        if auth_pass.len() > defaults::AUTH_PASS_MAX_LEN {
            self.warnings.push(pos.warning(format!(
                "auth_pass longer than {} characters; truncating (as keepalived does)",
                defaults::AUTH_PASS_MAX_LEN
            )));
            let mut cut = defaults::AUTH_PASS_MAX_LEN;
            while !auth_pass.is_char_boundary(cut) {
                cut -= 1;
            }
            auth_pass.truncate(cut);
        }
        Ok(Some(Authentication {
            auth_type,
            auth_pass,
        }))
    }

    fn vip_block(&mut self, n: &Node, default_dev: &str) -> PResult<Vec<VirtualIpAddress>> {
        let mut out = Vec::new();
        for k in n.require_block()? {
            match vip(k, default_dev) {
                Ok(list) => {
                    for mut a in list {
                        if a.addr.is_ipv6() && a.brd.is_some() {
                            self.warnings.push(k.pos().warning(format!(
                                "{}: IPv6 addresses have no broadcast address; skipping this address (as keepalived does)",
                                a.addr
                            )));
                            continue;
                        }
                        if a.peer.is_some() {
                            let host = if a.addr.is_ipv4() { 32 } else { 128 };
                            if a.prefix_len != host {
                                self.warnings.push(k.pos().warning(format!(
                                    "{}: a prefix cannot be given with a peer address; using /{host} (as keepalived does)",
                                    a.addr
                                )));
                                a.prefix_len = host;
                            }
                            if a.brd.is_some() {
                                self.warnings.push(k.pos().warning(format!(
                                    "{}: broadcast and peer cannot both be given; ignoring brd (as keepalived does)",
                                    a.addr
                                )));
                                a.brd = None;
                            }
                        }
                        if a.addr.is_ipv6() && a.label.is_some() {
                            self.warnings.push(k.pos().warning(format!(
                                "{}: IPv6 addresses cannot have a label; ignoring the label (as keepalived does)",
                                a.addr
                            )));
                            a.label = None;
                        }
                        out.push(a);
                    }
                }
                Err(e) => self.errors.push(e),
            }
        }
        Ok(out)
    }

    fn static_ipaddress(&mut self, n: &Node) -> PResult<()> {
        let dev = self.cfg.global_defs.default_interface.clone();
        let list = self.vip_block(n, &dev)?;
        self.cfg.static_ipaddresses.extend(list);
        Ok(())
    }

    /// keepalived skips a malformed route/rule with a warning; so do we.
    fn routes(&mut self, n: &Node) -> PResult<Vec<VirtualRoute>> {
        let mut out = Vec::new();
        for k in n.require_block()? {
            match route(k) {
                Ok(mut r) => {
                    if !r.no_track && r.protocol.is_some_and(|p| p != RTPROT_KEEPALIVED) {
                        self.warnings.push(k.pos().warning(format!(
                            "route cannot be tracked unless protocol is {RTPROT_KEEPALIVED} (keepalived); resetting protocol (as keepalived does)"
                        )));
                        r.protocol = Some(RTPROT_KEEPALIVED);
                    }
                    out.push(r)
                }
                Err(e) => self.warnings.push(skipped(e, "route")),
            }
        }
        Ok(out)
    }

    fn rules(&mut self, n: &Node) -> PResult<Vec<VirtualRule>> {
        let mut out = Vec::new();
        for k in n.require_block()? {
            match rule(k) {
                Ok(mut r) => {
                    if r.priority.is_none() {
                        // keepalived numbers unprioritised rules down from 16384.
                        r.priority = Some(self.next_rule_priority);
                        self.warnings.push(k.pos().warning(format!(
                            "rule has no priority; using {} (as keepalived does). This is probably not what you want",
                            self.next_rule_priority
                        )));
                        self.next_rule_priority = self.next_rule_priority.saturating_sub(1);
                    }
                    out.push(r)
                }
                Err(e) => self.warnings.push(skipped(e, "rule")),
            }
        }
        Ok(out)
    }

    fn static_routes(&mut self, n: &Node) -> PResult<()> {
        let r = self.routes(n)?;
        self.cfg.static_routes.extend(r);
        Ok(())
    }

    fn static_rules(&mut self, n: &Node) -> PResult<()> {
        let r = self.rules(n)?;
        self.cfg.static_rules.extend(r);
        Ok(())
    }

    fn ssl(&mut self, n: &Node) -> PResult<()> {
        let mut s = SslConfig::default();
        for k in n.require_block()? {
            match k.key() {
                "password" => s.password = Some(k.string(0)?),
                "ca" => s.ca = Some(PathBuf::from(k.string(0)?)),
                "certificate" => s.certificate = Some(PathBuf::from(k.string(0)?)),
                "key" => s.key = Some(PathBuf::from(k.string(0)?)),
                _ => self.push_unknown(k, "SSL"),
            }
        }
        self.cfg.ssl = Some(s);
        Ok(())
    }

    // -------------------------------------------------------------------
    // LVS
    // -------------------------------------------------------------------

    fn virtual_server_group(&mut self, n: &Node) -> PResult<()> {
        let name = n.string(0)?;
        let mut g = VirtualServerGroup {
            name,
            origin: origin(n.pos()),
            members: Vec::new(),
        };
        for k in n.require_block()? {
            match vsg_member(k) {
                Ok(m) => g.members.push(m),
                Err(e) => self.errors.push(e),
            }
        }
        let has4 = g.members.iter().any(|m| {
            matches!(
                m,
                VsgMember::Range {
                    first: IpAddr::V4(_),
                    ..
                }
            )
        });
        let has6 = g.members.iter().any(|m| {
            matches!(
                m,
                VsgMember::Range {
                    first: IpAddr::V6(_),
                    ..
                }
            )
        });
        let bare_fwmark = g
            .members
            .iter()
            .any(|m| matches!(m, VsgMember::Fwmark { family: None, .. }));
        if has4 && has6 && bare_fwmark {
            return Err(n.pos().error(format!(
                "virtual_server_group '{}' has IPv4 and IPv6 addresses and a fwmark without inet/inet6; give the fwmark a family",
                g.name
            )));
        }
        if self.cfg.virtual_server_group(&g.name).is_some() {
            return Err(n
                .pos()
                .error(format!("virtual_server_group '{}' defined twice", g.name)));
        }
        self.cfg.virtual_server_groups.push(g);
        Ok(())
    }

    fn virtual_server(&mut self, n: &Node) -> PResult<()> {
        let service = match n
            .arg(0, "IP [PORT], 'fwmark N' or 'group NAME'")?
            .text
            .as_str()
        {
            "fwmark" => VirtualService::Fwmark(n.int(1, 1, i64::from(u32::MAX))?),
            "group" => VirtualService::Group(n.string(1)?),
            _ => {
                let addr = n.ip(0)?;
                let port = n
                    .args
                    .get(1)
                    .map(|t| int(t, 0, 65535, "virtual_server"))
                    .transpose()?;
                VirtualService::Addr { addr, port }
            }
        };
        let block = n.require_block()?;
        let mut vs = VirtualServer::new(service);
        vs.origin = origin(n.pos());
        vs.smtp_alert = self.cfg.global_defs.smtp_alert_checker;
        let mut sorry: Option<(IpAddr, Option<u16>)> = None;
        let mut sorry_method = None;
        let mut sorry_inhibit = false;
        let mut persistence_set = false;
        let mut protocol_set = false;
        for k in block.iter().filter(|k| k.key() != "real_server") {
            let r: PResult<()> = (|| {
                if checker_default_kw(&mut vs.checker_defaults, k, false)? {
                    return Ok(());
                }
                match k.key() {
                    "lb_algo" | "lvs_sched" => {
                        let t = k.arg(0, "a scheduler (rr|wrr|lc|wlc|...)")?;
                        vs.lvs_sched = Scheduler::from_name(&t.text).ok_or_else(|| {
                            t.pos.error(format!(
                                "'{}': unknown scheduler '{}' (expected one of {})",
                                k.key(),
                                t.text,
                                Scheduler::ALL.map(|s| s.name()).join("|")
                            ))
                        })?;
                    }
                    "lb_kind" | "lvs_method" => vs.lvs_method = forwarding_method(k)?,
                    "protocol" => {
                        protocol_set = true;
                        vs.protocol = match k
                            .arg(0, "TCP, UDP or SCTP")?
                            .text
                            .to_ascii_uppercase()
                            .as_str()
                        {
                            "TCP" => Protocol::Tcp,
                            "UDP" => Protocol::Udp,
                            "SCTP" => Protocol::Sctp,
                            _ => {
                                return Err(k.args[0].pos.error(format!(
                                    "'protocol': unknown protocol '{}' (expected TCP, UDP or SCTP)",
                                    k.args[0].text
                                )))
                            }
                        }
                    }
                    "persistence_timeout" => {
                        persistence_set = true;
                        vs.persistence_timeout = Some(match k.args.first() {
                            Some(_) => Duration::from_secs(k.int(0, 1, i64::from(u32::MAX))?),
                            None => defaults::PERSISTENCE_TIMEOUT,
                        });
                    }
                    "persistence_granularity" => vs.persistence_granularity = Some(k.ip(0)?),
                    "persistence_engine" => vs.persistence_engine = Some(k.string(0)?),
                    "ip_family" => {
                        vs.ip_family = Some(match k.arg(0, "inet or inet6")?.text.as_str() {
                            "inet" => AddressFamily::Inet,
                            "inet6" => AddressFamily::Inet6,
                            other => {
                                return Err(k.args[0].pos.error(format!(
                                    "'ip_family': unknown family '{other}' (expected inet or inet6)"
                                )))
                            }
                        })
                    }
                    "sorry_server" => {
                        let addr = k.ip(0)?;
                        let port = k
                            .args
                            .get(1)
                            .map(|t| int(t, 0, 65535, "sorry_server"))
                            .transpose()?;
                        sorry = Some((addr, port));
                    }
                    "sorry_server_inhibit" => sorry_inhibit = k.flag()?,
                    "sorry_server_lvs_method" => sorry_method = Some(forwarding_method(k)?),
                    "quorum" => {
                        vs.quorum = k.int(0, 0, i64::from(u32::MAX))?;
                        if vs.quorum == 0 {
                            self.warnings.push(k.pos().warning(
                                "'quorum': must be at least 1; using 1 (as keepalived does)",
                            ));
                            vs.quorum = 1;
                        }
                    }
                    "quorum_up" => vs.quorum_up = Some(k.notify()?),
                    "quorum_down" => vs.quorum_down = Some(k.notify()?),
                    "hysteresis" => vs.hysteresis = k.int(0, 0, i64::from(u32::MAX))?,
                    "inhibit_on_failure" => vs.inhibit_on_failure = k.flag()?,
                    "omega" => vs.omega = k.flag()?,
                    "ha_suspend" => vs.ha_suspend = k.flag()?,
                    "virtualhost" => vs.virtualhost = Some(k.string(0)?),
                    "smtp_alert" => vs.smtp_alert = k.flag()?,
                    "ops" => vs.ops = k.flag()?,
                    "flag-1" | "sh-fallback" | "mh-fallback" => vs.sched_flags.flag_1 = true,
                    "flag-2" | "sh-port" | "mh-port" => vs.sched_flags.flag_2 = true,
                    "flag-3" => vs.sched_flags.flag_3 = true,
                    "lvs_flags" | "lb_flags" => {
                        for a in &k.args {
                            match a.text.as_str() {
                                "flag-1" | "sh-fallback" | "mh-fallback" => {
                                    vs.sched_flags.flag_1 = true
                                }
                                "flag-2" | "sh-port" | "mh-port" => vs.sched_flags.flag_2 = true,
                                "flag-3" => vs.sched_flags.flag_3 = true,
                                "ops" => vs.ops = true,
                                other => {
                                    return Err(a
                                        .pos
                                        .error(format!("'{}': unknown flag '{other}'", k.key())))
                                }
                            }
                        }
                    }
                    "snmp_name" | "nat_mask" => self.warnings.push(ignored(k)),
                    _ => self.push_unknown(k, "virtual_server"),
                }
                Ok(())
            })();
            self.run(r);
        }
        // keepalived's VS `alpha` is a plain flag: only "on" is meaningful.
        if vs.checker_defaults.alpha == Some(false) {
            vs.checker_defaults.alpha = None;
        }
        vs.alpha = vs.checker_defaults.alpha.unwrap_or(false);
        if matches!(vs.service, VirtualService::Fwmark(_)) && protocol_set {
            self.warnings.push(n.pos().warning(
                "virtual_server fwmark: protocol is ignored for firewall-mark services (as keepalived does)",
            ));
            vs.protocol = Protocol::Tcp;
        }
        let by_address = !matches!(vs.service, VirtualService::Fwmark(_));
        if by_address && !protocol_set {
            // The kernel's default for protocol 0 is UDP; keepalived makes it explicit.
            self.warnings.push(n.pos().warning(
                "virtual_server: no protocol set; defaulting to UDP (as keepalived does). Add 'protocol TCP' for TCP services",
            ));
            vs.protocol = Protocol::Udp;
        }
        if let VirtualService::Addr { port: None, .. } = vs.service {
            if !persistence_set {
                self.warnings.push(n.pos().warning(
                    "virtual_server: a zero port is only valid for persistent services; setting persistence_timeout 360 (as keepalived does)",
                ));
                vs.persistence_timeout = Some(defaults::PERSISTENCE_TIMEOUT);
            }
        }
        if matches!(vs.service, VirtualService::Fwmark(_)) && vs.ha_suspend {
            self.warnings.push(n.pos().warning(
                "virtual_server fwmark: ha_suspend cannot be used with firewall marks; clearing it (as keepalived does)",
            ));
            vs.ha_suspend = false;
        }
        if matches!(vs.service, VirtualService::Addr { .. })
            && vs.ops
            && vs.protocol != Protocol::Udp
        {
            self.warnings.push(n.pos().warning(
                "virtual_server: 'ops' is only valid with protocol UDP; ignoring it (as keepalived does)",
            ));
            vs.ops = false;
        }
        vs.sorry_server = sorry.map(|(addr, port)| SorryServer {
            addr,
            port,
            lvs_method: sorry_method.unwrap_or(vs.lvs_method),
            inhibit: sorry_inhibit,
        });
        for k in block.iter().filter(|k| k.key() == "real_server") {
            match self.real_server(k, &vs) {
                Ok(rs) => {
                    if vs
                        .real_servers
                        .iter()
                        .any(|o| o.addr == rs.addr && o.port == rs.port)
                    {
                        self.warnings.push(k.pos().warning(format!(
                            "real_server {} {} defined twice in this virtual_server; ignoring the duplicate",
                            rs.addr,
                            rs.port.map(|p| p.to_string()).unwrap_or_default()
                        )));
                    } else {
                        vs.real_servers.push(rs);
                    }
                }
                Err(e) => self.errors.push(e),
            }
        }
        // keepalived: non-tunnelled real/sorry servers share the VS family.
        let vs_family = match (&vs.service, vs.ip_family) {
            (VirtualService::Addr { addr, .. }, Some(f)) if AddressFamily::of(addr) != f => {
                return Err(n.pos().error(format!(
                    "virtual_server: ip_family conflicts with the address {addr}"
                )))
            }
            (VirtualService::Addr { addr, .. }, _) => Some(AddressFamily::of(addr)),
            (_, f) => f,
        };
        if let Some(fam) = vs_family {
            let direct = vs
                .real_servers
                .iter()
                .filter(|rs| !matches!(rs.lvs_method, ForwardingMethod::Tun { .. }))
                .map(|rs| (rs.addr, rs.origin.line))
                .chain(
                    vs.sorry_server
                        .iter()
                        .filter(|s| !matches!(s.lvs_method, ForwardingMethod::Tun { .. }))
                        .map(|s| (s.addr, vs.origin.line)),
                );
            for (addr, line) in direct {
                if AddressFamily::of(&addr) != fam {
                    return Err(Pos {
                        line,
                        ..n.pos().clone()
                    }
                    .error(format!(
                        "{addr}: address family differs from the virtual server's (only tunnelled real servers may differ)"
                    )));
                }
            }
        }
        if vs.real_servers.is_empty() {
            self.warnings.push(n.pos().warning(format!(
                "virtual_server {} has no real servers; ignoring it (as keepalived does)",
                crate::validate::service_name(&vs.service)
            )));
            return Ok(());
        }
        self.fix_ports_and_quorum(&mut vs, n);
        self.cfg.virtual_servers.push(vs);
        Ok(())
    }

    /// keepalived's validate_check_config() fix-ups for one virtual server:
    /// real/sorry server ports follow the virtual server (except NAT), quorum
    /// at most the total weight, hysteresis below quorum.
    fn fix_ports_and_quorum(&mut self, vs: &mut VirtualServer, n: &Node) {
        let vs_port = match vs.service {
            VirtualService::Addr { port, .. } => Some(port),
            VirtualService::Fwmark(_) => Some(None),
            VirtualService::Group(_) => None,
        };
        let fwmark = matches!(vs.service, VirtualService::Fwmark(_));
        let mut notes = Vec::new();
        let mut fix = |what: String, method: ForwardingMethod, port: &mut Option<u16>| {
            let Some(vs_port) = vs_port else { return };
            if method == ForwardingMethod::Nat {
                if !fwmark && port.is_none() {
                    *port = vs_port;
                }
                return;
            }
            if fwmark {
                if port.is_some() {
                    notes.push(format!("fwmark virtual_server: {what} has a port; clearing it (as keepalived does)"));
                    *port = None;
                }
            } else if port.is_none() {
                *port = vs_port;
            } else if *port != vs_port {
                notes.push(format!("{what}: port differs from the virtual server's (only NAT can remap ports); using the virtual server's port (as keepalived does)"));
                *port = vs_port;
            }
        };
        for rs in &mut vs.real_servers {
            fix(
                format!("real_server {}", rs.addr),
                rs.lvs_method,
                &mut rs.port,
            );
        }
        if let Some(s) = &mut vs.sorry_server {
            fix("sorry_server".to_string(), s.lvs_method, &mut s.port);
        }
        let weight_sum: u64 = vs.real_servers.iter().map(|r| u64::from(r.weight)).sum();
        if u64::from(vs.quorum) > weight_sum {
            let q = u32::try_from(weight_sum).unwrap_or(u32::MAX);
            notes.push(format!(
                "quorum {} exceeds the total weight of the real servers {weight_sum}; reducing quorum to {q} (as keepalived does)",
                vs.quorum
            ));
            vs.quorum = q;
        }
        if vs.hysteresis > 0 && vs.hysteresis >= vs.quorum {
            let h = vs.quorum.saturating_sub(1);
            notes.push(format!(
                "hysteresis {} >= quorum {}; setting hysteresis to {h} (as keepalived does)",
                vs.hysteresis, vs.quorum
            ));
            vs.hysteresis = h;
        }
        for m in notes {
            self.warnings.push(n.pos().warning(format!(
                "virtual_server {}: {m}",
                crate::validate::service_name(&vs.service)
            )));
        }
    }

    fn real_server(&mut self, n: &Node, vs: &VirtualServer) -> PResult<RealServer> {
        let addr = n.ip(0)?;
        let port = n
            .args
            .get(1)
            .map(|t| int(t, 0, 65535, "real_server"))
            .transpose()?;
        let block = n.require_block()?;
        let mut rs = RealServer::new(addr, port);
        rs.origin = origin(n.pos());
        rs.lvs_method = vs.lvs_method;
        rs.inhibit_on_failure = vs.inhibit_on_failure;
        // keepalived: a real server alerts by default unless smtp_alert /
        // smtp_alert_checker was set globally (backwards compatibility).
        rs.smtp_alert = if self.smtp_alert_set {
            self.cfg.global_defs.smtp_alert_checker
        } else {
            true
        };
        for k in block.iter().filter(|k| !is_checker(k.key())) {
            let r: PResult<()> = (|| {
                if checker_default_kw(&mut rs.checker_defaults, k, false)? {
                    return Ok(());
                }
                match k.key() {
                    "weight" => rs.weight = k.int(0, 0, i64::from(i32::MAX))?,
                    "lb_kind" | "lvs_method" => rs.lvs_method = forwarding_method(k)?,
                    "inhibit_on_failure" => rs.inhibit_on_failure = k.flag()?,
                    "notify_up" => rs.notify_up = Some(k.notify()?),
                    "notify_down" => rs.notify_down = Some(k.notify()?),
                    "uthreshold" => rs.uthreshold = Some(k.int(0, 0, i64::from(u32::MAX))?),
                    "lthreshold" => rs.lthreshold = Some(k.int(0, 0, i64::from(u32::MAX))?),
                    "smtp_alert" => rs.smtp_alert = k.flag()?,
                    "virtualhost" => rs.virtualhost = Some(k.string(0)?),
                    "snmp_name" => self.warnings.push(ignored(k)),
                    _ => self.push_unknown(k, "real_server"),
                }
                Ok(())
            })();
            self.run(r);
        }
        if let (Some(u), Some(l)) = (rs.uthreshold, rs.lthreshold) {
            if l > u {
                return Err(n.pos().error(format!(
                    "real_server {addr}: lthreshold {l} is greater than uthreshold {u}"
                )));
            }
        }
        for k in block.iter().filter(|k| is_checker(k.key())) {
            match self.checker(k, vs, &rs) {
                Ok(list) => rs.checkers.extend(list),
                Err(e) => self.errors.push(e),
            }
        }
        Ok(rs)
    }

    fn checker(&mut self, n: &Node, vs: &VirtualServer, rs: &RealServer) -> PResult<Vec<Checker>> {
        let errors_before = self.errors.len();
        let block: &[Node] = match &n.block {
            Some(b) => &b.nodes,
            None => &[],
        };
        let mut kind = match n.key() {
            "TCP_CHECK" => CheckerKind::Tcp,
            "HTTP_GET" => CheckerKind::Http(HttpCheck::default()),
            "SSL_GET" => CheckerKind::Ssl(HttpCheck::default()),
            "SMTP_CHECK" => CheckerKind::Smtp(SmtpCheck {
                helo_name: defaults::SMTP_HELO_NAME.to_string(),
            }),
            "DNS_CHECK" => CheckerKind::Dns(DnsCheck {
                query_type: DnsType::Soa,
                name: defaults::DNS_NAME.to_string(),
            }),
            "MISC_CHECK" => CheckerKind::Misc(MiscCheck {
                misc_path: String::new(),
                misc_timeout: Duration::ZERO,
                misc_dynamic: false,
                user: None,
            }),
            "PING_CHECK" | "ICMP_CHECK" => CheckerKind::Ping,
            "UDP_CHECK" => CheckerKind::Udp(UdpCheck::default()),
            "FILE_CHECK" => CheckerKind::File(FileCheck {
                track_file: String::new(),
                dynamic: false,
                weight: 0,
                reverse: false,
            }),
            "BFD_CHECK" => CheckerKind::Bfd {
                name: String::new(),
            },
            _ => return Err(n.pos().error(format!("unknown checker '{}'", n.key()))),
        };
        let mut own = CheckerDefaults::default();
        let mut net = CheckerCommon::defaults_for(&CheckerKind::Tcp, Duration::ZERO);
        let mut misc_timeout = None;
        let mut file_weight: Option<i32> = None;
        let mut smtp_hosts: Vec<CheckerCommon> = Vec::new();
        let mut checker_vhost: Option<String> = None;
        let mut have_misc_path = false;
        let mut bfd_name = None;
        let mut urls: Vec<(HttpUrl, bool)> = Vec::new();
        for k in block {
            let r: PResult<()> = (|| {
                // keepalived: MISC_CHECK has only the timing options (no
                // connect_timeout), FILE_CHECK/BFD_CHECK none of them.
                let timing_ok = !matches!(kind, CheckerKind::File(_) | CheckerKind::Bfd { .. })
                    && (!matches!(kind, CheckerKind::Misc(_)) || k.key() != "connect_timeout");
                let connection_ok = !matches!(
                    kind,
                    CheckerKind::Misc(_) | CheckerKind::File(_) | CheckerKind::Bfd { .. }
                );
                if timing_ok && checker_default_kw(&mut own, k, true)? {
                    return Ok(());
                }
                if connection_ok && connection_kw(&mut net, k)? {
                    return Ok(());
                }
                match (&mut kind, k.key()) {
                    (CheckerKind::Http(h) | CheckerKind::Ssl(h), key) => match key {
                        "url" => urls.push(self.url(k)?),
                        "virtualhost" => checker_vhost = Some(k.string(0)?),
                        "http_protocol" => {
                            h.http_protocol = match k.arg(0, "1.0, 1.0C or 1.1")?.text.as_str() {
                                "1.0" => HttpProtocol::V1_0,
                                "1.0C" | "1.0c" => HttpProtocol::V1_0C,
                                "1.1" => HttpProtocol::V1_1,
                                other => {
                                    return Err(k.args[0].pos.error(format!(
                                        "'http_protocol': unknown version '{other}' (expected 1.0, 1.0C or 1.1)"
                                    )))
                                }
                            }
                        }
                        "fast_recovery" => h.fast_recovery = k.flag()?,
                        "enable_sni" => h.enable_sni = k.flag()?,
                        "tls_compliant" => h.tls_compliant = k.flag()?,
                        _ => self.push_unknown(k, n.key()),
                    },
                    (CheckerKind::Smtp(s), key) => match key {
                        "helo_name" => s.helo_name = k.string(0)?,
                        "host" => {
                            // Legacy: each host{} block is a separate check.
                            let mut h = net.clone();
                            for hk in k.require_block()? {
                                if !connection_kw(&mut h, hk)? {
                                    self.push_unknown(hk, "SMTP_CHECK host");
                                }
                            }
                            smtp_hosts.push(h);
                        }
                        _ => self.push_unknown(k, "SMTP_CHECK"),
                    },
                    (CheckerKind::Dns(d), key) => match key {
                        "type" => {
                            let t = k.arg(0, "a query type")?;
                            d.query_type = DnsType::ALL
                                .iter()
                                .copied()
                                .find(|x| x.name().eq_ignore_ascii_case(&t.text))
                                .ok_or_else(|| {
                                    t.pos.error(format!(
                                        "'type': unknown DNS type '{}' (expected A|NS|CNAME|SOA|MX|TXT|AAAA)",
                                        t.text
                                    ))
                                })?;
                        }
                        "name" => d.name = k.string(0)?,
                        _ => self.push_unknown(k, "DNS_CHECK"),
                    },
                    (CheckerKind::Misc(m), key) => match key {
                        "misc_path" => {
                            m.misc_path = k.string(0)?;
                            have_misc_path = true;
                        }
                        "misc_timeout" => misc_timeout = Some(k.secs(0, 1, u64::from(u32::MAX))?),
                        "misc_dynamic" => m.misc_dynamic = k.flag()?,
                        "user" => m.user = Some(k.script_user()?),
                        _ => self.push_unknown(k, "MISC_CHECK"),
                    },
                    (CheckerKind::Udp(u), key) => match key {
                                                "payload" => {
                            if k.args.is_empty() {
                                return Err(k.pos().error("'payload' needs hex bytes (e.g. payload 01 02 ab)"));
                            }
                            let bytes = values::hex_bytes(&k.args, "payload", false)?;
                            u.payload = Some(bytes.into_iter().map(|b| b.value).collect());
                        }
                        "require_reply" => u.require_reply = Some(values::hex_bytes(&k.args, "require_reply", true)?),
                        "min_reply_length" => u.min_reply_length = k.int(0, 0, 65535)?,
                        "max_reply_length" => u.max_reply_length = k.int(0, 0, 65535)?,
                        _ => self.push_unknown(k, "UDP_CHECK"),
                    },
                    (CheckerKind::File(f), key) => match key {
                        "track_file" | "file" => f.track_file = k.string(0)?,
                        "dynamic" => f.dynamic = k.flag()?,
                        "weight" => {
                            file_weight = Some(k.int(0, i64::from(i32::MIN) + 1, i64::from(i32::MAX))?);
                            f.reverse = reverse_flag(k, 1)?;
                        }
                        _ => self.push_unknown(k, "FILE_CHECK"),
                    },
                    (CheckerKind::Bfd { .. }, "name") => bfd_name = Some(k.string(0)?),
                    _ => self.push_unknown(k, n.key()),
                }
                Ok(())
            })();
            self.run(r);
        }

        if self.errors.len() > errors_before {
            // Already reported; don't pile follow-on errors on top.
            return Ok(Vec::new());
        }
        // Inherit: virtual_server -> real_server -> checker.
        let merged = merge_defaults(&[&vs.checker_defaults, &rs.checker_defaults, &own]);
        let delay_loop = merged.delay_loop.unwrap_or(defaults::DELAY_LOOP);
        let mut common = CheckerCommon::defaults_for(&kind, delay_loop);
        common.connect_ip = net.connect_ip;
        common.connect_port = net.connect_port;
        common.bindto = net.bindto;
        common.bind_port = net.bind_port;
        common.bind_if = net.bind_if.clone();
        common.fwmark = net.fwmark;
        apply_defaults(
            &mut common,
            &merged,
            vs.alpha,
            self.cfg.global_defs.checker_log_all_failures,
        );

        match &mut kind {
            CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
                h.virtualhost = checker_vhost
                    .or_else(|| rs.virtualhost.clone())
                    .or_else(|| vs.virtualhost.clone());
                for (mut u, _) in urls {
                    if u.virtualhost.is_none() {
                        u.virtualhost = h.virtualhost.clone();
                    }
                    h.urls.push(u);
                }
                if h.urls.is_empty() {
                    return Err(n.pos().error(format!(
                        "{} needs at least one 'url {{ path ... }}' block",
                        n.key()
                    )));
                }
            }
            CheckerKind::Misc(m) => {
                if !have_misc_path {
                    return Err(n.pos().error("MISC_CHECK needs 'misc_path'"));
                }
                m.misc_timeout = misc_timeout.unwrap_or(delay_loop);
            }
            CheckerKind::File(f) => {
                if f.track_file.is_empty() {
                    return Err(n.pos().error("FILE_CHECK needs 'track_file NAME'"));
                }
                let tf = self.cfg.vrrp_track_file(&f.track_file).ok_or_else(|| {
                    n.pos().error(format!(
                        "FILE_CHECK: track_file '{}' is not a defined vrrp_track_file",
                        f.track_file
                    ))
                })?;
                f.weight = file_weight.unwrap_or(tf.weight);
            }
            CheckerKind::Bfd { name } => {
                *name = bfd_name.ok_or_else(|| n.pos().error("BFD_CHECK needs 'name'"))?;
                self.warnings.push(n.pos().warning(
                    "BFD_CHECK: BFD is not implemented by rkeepalived; the checker will never report up",
                ));
            }
            _ => {}
        }

        // keepalived: the source must be of the destination's family.
        let dest = common.connect_ip.unwrap_or(rs.addr);
        if let Some(b) = common.bindto {
            if b.is_ipv4() != dest.is_ipv4() {
                return Err(n.pos().error(format!(
                    "{}: bindto {b} is not the address family of {dest}",
                    n.key()
                )));
            }
        }
        let origin = origin(n.pos());
        if smtp_hosts.is_empty() {
            return Ok(vec![Checker {
                origin,
                common,
                kind,
            }]);
        }
        Ok(smtp_hosts
            .into_iter()
            .map(|h| {
                let mut c = common.clone();
                c.connect_ip = h.connect_ip;
                c.connect_port = h.connect_port;
                c.bindto = h.bindto;
                c.bind_port = h.bind_port;
                c.bind_if = h.bind_if;
                c.fwmark = h.fwmark;
                Checker {
                    origin: origin.clone(),
                    common: c,
                    kind: kind.clone(),
                }
            })
            .collect())
    }

    fn url(&mut self, n: &Node) -> PResult<(HttpUrl, bool)> {
        let errors_before = self.errors.len();
        let mut u = HttpUrl::new("");
        let mut have_path = false;
        for k in n.require_block()? {
            match k.key() {
                "path" => {
                    u.path = k.string(0)?;
                    have_path = true;
                }
                "digest" => {
                    let t = k.arg(0, "an MD5 hex digest")?;
                    if t.text.len() != 32 || !t.text.chars().all(|c| c.is_ascii_hexdigit()) {
                        return Err(t.pos.error(format!(
                            "'digest': '{}' is not an MD5 hex digest (32 hex digits, see genhash)",
                            t.text
                        )));
                    }
                    u.digest = Some(t.text.to_ascii_lowercase());
                }
                "status_code" => {
                    let mut ranges = Vec::new();
                    if k.args.is_empty() {
                        return Err(k
                            .pos()
                            .error("'status_code' needs a code or range (e.g. 200 or 200-299)"));
                    }
                    for t in &k.args {
                        ranges.push(status_range(t)?);
                    }
                    u.status_codes = ranges;
                }
                "virtualhost" => u.virtualhost = Some(k.string(0)?),
                "regex" => u.regex = Some(k.string(0)?),
                "regex_no_match" => u.regex_no_match = k.flag()?,
                "regex_min_offset" => {
                    u.regex_min_offset = Some(k.int(0, 0, i64::from(u32::MAX))?)
                }
                "regex_max_offset" => {
                    u.regex_max_offset = Some(k.int(0, 0, i64::from(u32::MAX))?)
                }
                "regex_options" | "regex_stack" => self.warnings.push(ignored(k)),
                _ => self.push_unknown(k, "url"),
            }
        }
        if self.errors.len() > errors_before {
            // Already reported; don't pile follow-on errors on top.
            return Ok((u, false));
        }
        if !have_path {
            return Err(n.pos().error("'url' needs a 'path'"));
        }
        Ok((u, true))
    }
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

// ---------------------------------------------------------------------------
// Free helpers
// ---------------------------------------------------------------------------

fn origin(pos: &Pos) -> Origin {
    Origin {
        file: (*pos.file).clone(),
        line: pos.line,
    }
}

/// keepalived's rule for weights that must not float (sync-group members
/// without sync_group_tracking_weight, and the address owner): weighted
/// interfaces get weight 0 (sync group) or are dropped (owner); weighted
/// scripts are dropped; files with the default weight 1 get 0, other
/// weighted files are dropped.
pub(crate) fn drop_weighted_tracking(
    v: &mut VrrpInstance,
    sync_group: bool,
    warn: &mut impl FnMut(String),
    why: &str,
) {
    let mut kept = Vec::new();
    for mut t in std::mem::take(&mut v.track_interfaces) {
        if t.weight != 0 {
            warn(format!(
                "ignoring the weight of track_interface {} due to {why} (as keepalived does)",
                t.name
            ));
            if !sync_group {
                continue;
            }
            t.weight = 0;
        }
        kept.push(t);
    }
    v.track_interfaces = kept;
    v.track_scripts.retain(|t| {
        let keep = t.weight == 0;
        if !keep {
            warn(format!(
                "ignoring track_script {} with a weight due to {why} (as keepalived does)",
                t.name
            ));
        }
        keep
    });
    let mut kept = Vec::new();
    for mut t in std::mem::take(&mut v.track_files) {
        if t.weight == 1 {
            warn(format!(
                "ignoring the weight of track_file {} due to {why}; specify weight 0 (as keepalived does)",
                t.name
            ));
            t.weight = 0;
        } else if t.weight != 0 {
            warn(format!(
                "ignoring track_file {} with weight {} due to {why} (as keepalived does)",
                t.name, t.weight
            ));
            continue;
        }
        kept.push(t);
    }
    v.track_files = kept;
}

fn skipped(mut d: Diagnostic, what: &str) -> Diagnostic {
    d.severity = crate::diag::Severity::Warning;
    d.message = format!("{}; skipping this {what} (as keepalived does)", d.message);
    d
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

fn positive_timer(n: &Node) -> PResult<Duration> {
    let d = n.timer(0)?;
    if d.is_zero() {
        return Err(n.args[0]
            .pos
            .error(format!("'{}': must be greater than 0", n.key())));
    }
    Ok(d)
}

pub fn fmt_duration(d: Duration) -> String {
    let micros = d.subsec_micros();
    if micros == 0 {
        d.as_secs().to_string()
    } else {
        let frac = format!("{micros:06}");
        format!("{}.{}", d.as_secs(), frac.trim_end_matches('0'))
    }
}

fn vrrp_version(n: &Node) -> PResult<VrrpVersion> {
    match n.int::<u8>(0, 2, 3)? {
        2 => Ok(VrrpVersion::V2),
        _ => Ok(VrrpVersion::V3),
    }
}

/// `weight N [reverse|noreverse|no_reverse]` after a track name.
fn track_weight(k: &Node, min: i64, max: i64) -> PResult<(Option<i32>, bool)> {
    match k.args.first() {
        None => Ok((None, false)),
        Some(t) if t.text == "weight" => {
            let w = k.int(1, min, max)?;
            Ok((Some(w), reverse_flag(k, 2)?))
        }
        Some(t) => Err(t.pos.error(format!(
            "'{}': unexpected '{}' (expected 'weight N [reverse]')",
            k.key(),
            t.text
        ))),
    }
}

fn reverse_flag(k: &Node, i: usize) -> PResult<bool> {
    match k.args.get(i).map(|t| t.text.as_str()) {
        None => Ok(false),
        Some("reverse") => Ok(true),
        Some("noreverse" | "no_reverse") => Ok(false),
        Some(other) => Err(k.args[i].pos.error(format!(
            "'{}': unexpected '{other}' (expected reverse or noreverse)",
            k.key()
        ))),
    }
}

fn is_process_kw(rest: &str) -> bool {
    matches!(
        rest,
        "priority" | "rt_priority" | "no_swap" | "cpu_affinity" | "rlimit_rttime" | "rlimit_rtime"
    )
}

fn process_kw(p: &mut ProcessOptions, rest: &str, n: &Node) -> PResult<()> {
    match rest {
        "priority" => p.priority = Some(n.int(0, -20, 19)?),
        "rt_priority" => p.rt_priority = Some(n.int(0, 1, 99)?),
        "no_swap" => p.no_swap = n.flag()?,
        "cpu_affinity" => {
            p.cpu_affinity = n
                .args
                .iter()
                .map(|t| int(t, 0, 4095, n.key()))
                .collect::<PResult<_>>()?
        }
        _ => p.rlimit_rttime = Some(n.int(0, 1, i64::from(u32::MAX))?),
    }
    Ok(())
}

fn fifo(n: &Node, previous: Option<NotifyFifo>) -> PResult<NotifyFifo> {
    let path = PathBuf::from(n.string(0)?);
    let user = n.args.get(1).map(|u| ScriptUser {
        user: u.text.clone(),
        group: n.args.get(2).map(|g| g.text.clone()),
    });
    Ok(NotifyFifo {
        path,
        user,
        script: previous.and_then(|p| p.script),
    })
}

fn fifo_script(n: &Node, fifo: &mut Option<NotifyFifo>) -> PResult<()> {
    let script = n.notify()?;
    match fifo {
        Some(f) => f.script = Some(script),
        None => {
            return Err(n.pos().error(format!(
                "'{}' needs the matching notify_fifo defined before it",
                n.key()
            )))
        }
    }
    Ok(())
}

fn lvs_sync_daemon(n: &Node) -> PResult<LvsSyncDaemon> {
    let interface = n.string(0)?;
    let mut d = LvsSyncDaemon {
        interface,
        vrrp_instance: None,
        sync_id: None,
        maxlen: None,
        port: defaults::LVS_SYNC_PORT,
        ttl: None,
        group: IpAddr::V4(defaults::LVS_SYNC_GROUP),
    };
    let mut i = 1;
    while i < n.args.len() {
        let key = n.args[i].text.as_str();
        match key {
            "inst" => d.vrrp_instance = Some(n.string(i + 1)?),
            "id" => d.sync_id = Some(n.int(i + 1, 0, 255)?),
            "maxlen" => d.maxlen = Some(n.int(i + 1, 1, 65507)?),
            "port" => d.port = n.int(i + 1, 1, 65535)?,
            "ttl" => d.ttl = Some(n.int(i + 1, 1, 255)?),
                        "group" => {
                d.group = n.ip(i + 1)?;
                if !d.group.is_multicast() {
                    return Err(n.args[i + 1].pos.error(format!(
                        "'lvs_sync_daemon': group {} is not a multicast address",
                        d.group
                    )));
                }
            }
            _ if i == 1 => {
                // Legacy form: the instance name without `inst`.
                d.vrrp_instance = Some(key.to_string());
                i += 1;
                continue;
            }
            _ => {
                return Err(n.args[i].pos.error(format!(
                    "'lvs_sync_daemon': unknown option '{key}' (expected inst|id|maxlen|port|ttl|group)"
                )))
            }
        }
        i += 2;
    }
    Ok(d)
}

fn lvs_timeouts(n: &Node) -> PResult<LvsTimeouts> {
    let mut t = LvsTimeouts::default();
    if n.args.is_empty() {
        return Err(n
            .pos()
            .error("'lvs_timeouts' needs at least one of tcp|tcpfin|udp SECS"));
    }
    let mut i = 0;
    while i < n.args.len() {
        let secs = Some(Duration::from_secs(n.int(i + 1, 1, 86400 * 31)?));
        match n.args[i].text.as_str() {
            "tcp" => t.tcp = secs,
            "tcpfin" => t.tcpfin = secs,
            "udp" => t.udp = secs,
            other => {
                return Err(n.args[i].pos.error(format!(
                    "'lvs_timeouts': unknown protocol '{other}' (expected tcp, tcpfin or udp)"
                )))
            }
        }
        i += 2;
    }
    Ok(t)
}

fn unicast_peer(p: &Node) -> PResult<UnicastPeer> {
    let addr: IpAddr = ip(&p.name, "unicast_peer")?;
    let mut peer = UnicastPeer {
        addr,
        min_ttl: None,
        max_ttl: None,
    };
    let mut i = 0;
    while i < p.args.len() {
        match p.args[i].text.as_str() {
            "min_ttl" => peer.min_ttl = Some(p.int(i + 1, 0, 255)?),
            "max_ttl" => peer.max_ttl = Some(p.int(i + 1, 0, 255)?),
            other => {
                return Err(p.args[i].pos.error(format!(
                    "unicast_peer: unknown option '{other}' (expected min_ttl or max_ttl)"
                )))
            }
        }
        i += 2;
    }
    Ok(peer)
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (m, p) in mac.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *m = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

/// One `virtual_ipaddress` line. Ranges (`192.0.2.10-12/24`) expand.
fn vip(k: &Node, default_dev: &str) -> PResult<Vec<VirtualIpAddress>> {
    let t = &k.name;
    let (addr_part, len_part) = match t.text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (t.text.as_str(), None),
    };
    let addrs = expand_range(addr_part).ok_or_else(|| {
        t.pos.error(format!(
            "virtual_ipaddress: invalid address '{}' (expected IP[/PREFIX])",
            t.text
        ))
    })?;
    let first = addrs[0];
    let max = if first.is_ipv4() { 32 } else { 128 };
    let prefix_len = match len_part {
        Some(l) => l.parse::<u8>().ok().filter(|v| *v <= max).ok_or_else(|| {
            t.pos.error(format!(
                "virtual_ipaddress: invalid prefix length '/{l}' (expected 0..{max})"
            ))
        })?,
        None => max,
    };
    let mut base = VirtualIpAddress::new(first, default_dev);
    base.prefix_len = prefix_len;
    let mut i = 0;
    let a = &k.args;
    while i < a.len() {
        let opt = a[i].text.as_str();
        let value = |j: usize| -> PResult<&Token> {
            a.get(j).ok_or_else(|| {
                a[i].pos
                    .error(format!("virtual_ipaddress: '{opt}' needs a value"))
            })
        };
        match opt {
            "brd" | "broadcast" => {
                base.brd = Some(ip(value(i + 1)?, "brd")?);
                i += 1;
            }
            "dev" => {
                base.dev = value(i + 1)?.text.clone();
                i += 1;
            }
            "scope" => {
                base.scope = Some(scope(value(i + 1)?, "scope")?);
                i += 1;
            }
            "label" => {
                base.label = Some(value(i + 1)?.text.clone());
                i += 1;
            }
            "peer" => {
                base.peer = Some(ip(value(i + 1)?, "peer")?);
                i += 1;
            }
            "preferred_lft" => {
                let v = value(i + 1)?;
                base.preferred_lft = Some(if v.text == "forever" {
                    u32::MAX
                } else {
                    int(v, 0, i64::from(u32::MAX), "preferred_lft")?
                });
                i += 1;
            }
            "home" => base.home = true,
            "-nodad" | "nodad" => base.nodad = true,
            "mngtmpaddr" => base.mngtmpaddr = true,
            "noprefixroute" => base.noprefixroute = true,
            "autojoin" => base.autojoin = true,
            "no_track" => base.no_track = true,
            "use_vmac" => base.use_vmac = true,
            _ => {
                return Err(a[i].pos.error(format!(
                    "virtual_ipaddress: unknown option '{opt}' (expected brd|dev|scope|label|peer|home|-nodad|mngtmpaddr|noprefixroute|autojoin|no_track|use_vmac|preferred_lft)"
                )))
            }
        }
        i += 1;
    }
    for (what, other) in [("brd", base.brd), ("peer", base.peer)] {
        if let Some(b) = other {
            if b.is_ipv4() != first.is_ipv4() {
                return Err(k.pos().error(format!(
                    "virtual_ipaddress: {what} address family differs from the address"
                )));
            }
        }
    }
    Ok(addrs
        .into_iter()
        .map(|addr| VirtualIpAddress {
            addr,
            ..base.clone()
        })
        .collect())
}

/// `A`, `A-N` (last octet / last IPv6 group), or `A-B`.
fn expand_range(s: &str) -> Option<Vec<IpAddr>> {
    let (first, last) = range_bounds(s)?;
    let mut out = Vec::new();
    let mut cur = first;
    loop {
        out.push(cur);
        if cur == last || out.len() > 65536 {
            break;
        }
        cur = next_ip(cur)?;
    }
    Some(out)
}

/// Bounds of `A`, `A-N` or `A-B` (inclusive). None if malformed or last < first.
pub fn range_bounds(s: &str) -> Option<(IpAddr, IpAddr)> {
    let Some((a, b)) = s.split_once('-') else {
        let ip: IpAddr = s.parse().ok()?;
        return Some((ip, ip));
    };
    let first: IpAddr = a.parse().ok()?;
    let last: IpAddr = match b.parse::<IpAddr>() {
        Ok(full) => full,
        Err(_) => match first {
            IpAddr::V4(v4) => {
                let n: u8 = b.parse().ok()?;
                let mut o = v4.octets();
                o[3] = n;
                IpAddr::from(o)
            }
            IpAddr::V6(v6) => {
                let n = u16::from_str_radix(b, 16).ok()?;
                let mut seg = v6.segments();
                seg[7] = n;
                IpAddr::from(seg)
            }
        },
    };
    if first.is_ipv4() != last.is_ipv4() || ip_to_u128(last) < ip_to_u128(first) {
        return None;
    }
    Some((first, last))
}

fn ip_to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

fn next_ip(a: IpAddr) -> Option<IpAddr> {
    match a {
        IpAddr::V4(v) => u32::from(v)
            .checked_add(1)
            .map(|n| IpAddr::from(std::net::Ipv4Addr::from(n))),
        IpAddr::V6(v) => u128::from(v)
            .checked_add(1)
            .map(|n| IpAddr::from(std::net::Ipv6Addr::from(n))),
    }
}

fn route_type(s: &str) -> Option<RouteType> {
    Some(match s {
        "unicast" => RouteType::Unicast,
        "blackhole" => RouteType::Blackhole,
        "unreachable" => RouteType::Unreachable,
        "prohibit" => RouteType::Prohibit,
        "throw" => RouteType::Throw,
        "local" => RouteType::Local,
        "broadcast" => RouteType::Broadcast,
        "multicast" => RouteType::Multicast,
        _ => return None,
    })
}

/// One route line: the words of the keyword and its arguments.
fn route(k: &Node) -> PResult<VirtualRoute> {
    let words: Vec<&Token> = std::iter::once(&k.name).chain(k.args.iter()).collect();
    let mut to: Option<IpPrefix> = None;
    let mut nexthop_used = false;
    let mut r = VirtualRoute::new(IpPrefix {
        addr: IpAddr::from([0, 0, 0, 0]),
        len: 0,
    });
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let key = w.text.as_str();
        let value = |j: usize| -> PResult<&Token> {
            words
                .get(j)
                .copied()
                .ok_or_else(|| w.pos.error(format!("route: '{key}' needs a value")))
        };
        match key {
            "src" => {
                r.src = Some(ip(value(i + 1)?, "src")?);
                i += 1;
            }
            "from" => {
                r.from = Some(ip_prefix(value(i + 1)?, "from")?);
                i += 1;
            }
            "to" => {
                to = Some(ip_prefix(value(i + 1)?, "to")?);
                i += 1;
            }
            "via" | "gw" => {
                let a = ip(value(i + 1)?, key)?;
                match r.nexthops.last_mut() {
                    Some(nh) if nexthop_used => nh.via = Some(a),
                    _ => r.via = Some(a),
                }
                i += 1;
            }
            "nexthop" => {
                nexthop_used = true;
                r.nexthops.push(NextHop {
                    via: None,
                    dev: None,
                    onlink: false,
                    weight: None,
                });
            }
            "or" => {
                let via = ip(value(i + 1)?, "or")?;
                r.nexthops.push(NextHop {
                    via: Some(via),
                    dev: None,
                    onlink: false,
                    weight: None,
                });
                i += 1;
            }
            "dev" | "oif" => {
                let d = value(i + 1)?.text.clone();
                match r.nexthops.last_mut() {
                    Some(nh) => nh.dev = Some(d),
                    None => r.dev = Some(d),
                }
                i += 1;
            }
            "table" => {
                r.table = Some(table(value(i + 1)?, "table")?);
                i += 1;
            }
            "metric" | "preference" | "priority" => {
                r.metric = Some(int(value(i + 1)?, 0, i64::from(u32::MAX), key)?);
                i += 1;
            }
            "scope" => {
                r.scope = Some(scope(value(i + 1)?, "scope")?);
                i += 1;
            }
            "protocol" | "proto" => {
                let v = value(i + 1)?;
                r.protocol = Some(match v.text.as_str() {
                    "redirect" => 1,
                    "kernel" => 2,
                    "boot" => 3,
                    "static" => 4,
                    "keepalived" => 18,
                    _ => int(v, 0, 255, "protocol")?,
                });
                i += 1;
            }
            "tos" | "dsfield" => {
                r.tos = Some(int(value(i + 1)?, 0, 255, key)?);
                i += 1;
            }
            "mtu" => {
                r.mtu = Some(int(value(i + 1)?, 0, i64::from(u32::MAX), key)?);
                i += 1;
            }
            "advmss" => {
                r.advmss = Some(int(value(i + 1)?, 0, i64::from(u32::MAX), key)?);
                i += 1;
            }
            "weight" => {
                let wv: u8 = int(value(i + 1)?, 1, 255, key)?;
                if let Some(nh) = r.nexthops.last_mut() {
                    nh.weight = Some(wv);
                }
                i += 1;
            }
            "onlink" => match r.nexthops.last_mut() {
                Some(nh) => nh.onlink = true,
                None => r.onlink = true,
            },
            "no_track" => r.no_track = true,
            _ => {
                if let Some(t) = route_type(key).filter(|_| to.is_none()) {
                    r.route_type = t;
                } else if to.is_none()
                    && (key.contains('/') || key.parse::<IpAddr>().is_ok() || key == "default")
                {
                    to = Some(if key == "default" {
                        IpPrefix {
                            addr: IpAddr::from([0, 0, 0, 0]),
                            len: 0,
                        }
                    } else {
                        ip_prefix(w, "route")?
                    });
                } else {
                    return Err(w.pos.error(format!(
                        "route: unknown option '{key}' (expected [TYPE] [src IP] [to] PREFIX [via IP] [dev IF] [table N] [metric N] [scope S] ...)"
                    )));
                }
            }
        }
        i += 1;
    }
    r.to = to.ok_or_else(|| k.pos().error("route: no destination prefix"))?;
    // `nexthop` form: the first hop is the route's own gateway (unless weighted).
    if nexthop_used
        && r.via.is_none()
        && r.dev.is_none()
        && !r.onlink
        && r.nexthops.first().is_some_and(|nh| nh.weight.is_none())
    {
        let first = r.nexthops.remove(0);
        r.via = first.via;
        r.dev = first.dev;
        r.onlink = first.onlink;
    }
    if r.nexthops
        .iter()
        .any(|nh| nh.via.is_none() && nh.dev.is_none())
    {
        return Err(k.pos().error("route: 'nexthop' needs 'via IP' or 'dev IF'"));
    }
    if let Some(f) = r.from {
        if f.addr.is_ipv4() {
            return Err(k.pos().error(format!(
                "route: 'from {f}' (source-specific routing) is only supported with IPv6"
            )));
        }
        if !r.to.addr.is_ipv6() {
            return Err(k
                .pos()
                .error("route: 'from' and destination are different address families"));
        }
    }
    for nh in &r.nexthops {
        if let Some(a) = nh.via {
            if a.is_ipv4() != r.to.addr.is_ipv4() {
                return Err(k.pos().error(format!(
                    "route: nexthop {a} is not the destination's address family"
                )));
            }
        }
    }
    for (what, a) in [("via", r.via), ("src", r.src)] {
        if let Some(a) = a {
            if a.is_ipv4() != r.to.addr.is_ipv4() {
                return Err(k.pos().error(format!(
                    "route: {what} {a} is not the destination's address family"
                )));
            }
        }
    }
    Ok(r)
}

fn rule(k: &Node) -> PResult<VirtualRule> {
    let words: Vec<&Token> = std::iter::once(&k.name).chain(k.args.iter()).collect();
    let mut r = VirtualRule::new(AddressFamily::Inet, RuleAction::Nop);
    let mut action = None;
    let mut family = None;
    let mut i = 0;
    let prefix_or_all = |t: &Token, key: &str| -> PResult<Option<IpPrefix>> {
        if t.text == "all" {
            Ok(None)
        } else {
            ip_prefix(t, key).map(Some)
        }
    };
    while i < words.len() {
        let w = words[i];
        let key = w.text.as_str();
        let value = |j: usize| -> PResult<&Token> {
            words
                .get(j)
                .copied()
                .ok_or_else(|| w.pos.error(format!("rule: '{key}' needs a value")))
        };
        match key {
            "from" => {
                r.from = prefix_or_all(value(i + 1)?, "from")?;
                i += 1;
            }
            "to" => {
                r.to = prefix_or_all(value(i + 1)?, "to")?;
                i += 1;
            }
            "table" | "lookup" => {
                action = Some(RuleAction::Table(table(value(i + 1)?, "table")?));
                i += 1;
            }
            "goto" => {
                action = Some(RuleAction::Goto(int(value(i + 1)?, 0, i64::from(u32::MAX), key)?));
                i += 1;
            }
            "priority" | "preference" | "pref" => {
                r.priority = Some(int(value(i + 1)?, 0, i64::from(u32::MAX), key)?);
                i += 1;
            }
            "tos" | "dsfield" => {
                r.tos = Some(int(value(i + 1)?, 0, 255, key)?);
                i += 1;
            }
            "fwmark" => {
                let v = value(i + 1)?;
                let (m, mask) = match v.text.split_once('/') {
                    Some((m, mk)) => (m, Some(mk)),
                    None => (v.text.as_str(), None),
                };
                let num = |s: &str| -> PResult<u32> {
                    let t = Token {
                        text: s.to_string(),
                        pos: v.pos.clone(),
                        quoted: false,
                    };
                    int(&t, 0, i64::from(u32::MAX), "fwmark")
                };
                r.fwmark = Some(num(m)?);
                r.fwmask = mask.map(num).transpose()?;
                i += 1;
            }
            "iif" | "dev" => {
                r.iif = Some(value(i + 1)?.text.clone());
                i += 1;
            }
            "oif" => {
                r.oif = Some(value(i + 1)?.text.clone());
                i += 1;
            }
            "not" => r.invert = true,
            "no_track" => r.no_track = true,
            "inet" => family = Some(AddressFamily::Inet),
            "inet6" => family = Some(AddressFamily::Inet6),
            "blackhole" => action = Some(RuleAction::Blackhole),
            "unreachable" => action = Some(RuleAction::Unreachable),
            "prohibit" => action = Some(RuleAction::Prohibit),
            "nop" => action = Some(RuleAction::Nop),
            _ => {
                return Err(w.pos.error(format!(
                    "rule: unknown option '{key}' (expected from|to|table|goto|priority|tos|fwmark|iif|oif|not|no_track|inet|inet6|blackhole|unreachable|prohibit|nop)"
                )))
            }
        }
        i += 1;
    }
    r.action = action.ok_or_else(|| {
        k.pos().error(
            "rule: needs an action (table N, goto N, blackhole, unreachable, prohibit or nop)",
        )
    })?;
    let addr_family = r.from.or(r.to).map(|p| AddressFamily::of(&p.addr));
    if let (Some(f), Some(a)) = (r.from, r.to) {
        if f.addr.is_ipv4() != a.addr.is_ipv4() {
            return Err(k
                .pos()
                .error("rule: from and to are different address families"));
        }
    }
    r.family = match (family, addr_family) {
        (Some(f), Some(a)) if f != a => {
            return Err(k
                .pos()
                .error("rule: inet/inet6 does not match the addresses"))
        }
        (Some(f), _) => f,
        (None, Some(a)) => a,
        (None, None) => AddressFamily::Inet,
    };
    Ok(r)
}

fn vsg_member(k: &Node) -> PResult<VsgMember> {
    if k.key() == "fwmark" {
        let mark = k.int(0, 1, i64::from(u32::MAX))?;
        let family = match k.args.get(1).map(|t| t.text.as_str()) {
            None => None,
            Some("inet") => Some(AddressFamily::Inet),
            Some("inet6") => Some(AddressFamily::Inet6),
            Some(other) => {
                return Err(k.args[1].pos.error(format!(
                    "virtual_server_group: fwmark family '{other}' (expected inet or inet6)"
                )))
            }
        };
        return Ok(VsgMember::Fwmark { mark, family });
    }
    let t = &k.name;
    let bad = || {
        t.pos.error(format!(
            "virtual_server_group: invalid address or range '{}' (expected IP, IP-LAST, IP-IP or IP/LEN)",
            t.text
        ))
    };
    let (first, last) = if let Some((a, l)) = t.text.split_once('/') {
        let p = crate::values::parse_prefix(&t.text).ok_or_else(bad)?;
        let _ = (a, l);
        let bits = if p.addr.is_ipv4() { 32 } else { 128 };
        let host_bits = bits - u32::from(p.len);
        let base = ip_to_u128(p.addr);
        let mask: u128 = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let lo = base & !mask;
        let hi = lo | mask;
        let conv = |v: u128| -> IpAddr {
            if p.addr.is_ipv4() {
                IpAddr::from(std::net::Ipv4Addr::from(
                    u32::try_from(v).unwrap_or(u32::MAX),
                ))
            } else {
                IpAddr::from(std::net::Ipv6Addr::from(v))
            }
        };
        (conv(lo), conv(hi))
    } else {
        range_bounds(&t.text).ok_or_else(bad)?
    };
    let port = k
        .args
        .first()
        .map(|p| int(p, 0, 65535, "virtual_server_group"))
        .transpose()?;
    if k.args.len() > 1 {
        return Err(k.args[1]
            .pos
            .error("virtual_server_group: unexpected argument after the port"));
    }
    Ok(VsgMember::Range { first, last, port })
}

/// `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
fn forwarding_method(k: &Node) -> PResult<ForwardingMethod> {
    let t = k.arg(0, "NAT, DR or TUN")?;
    match t.text.to_ascii_uppercase().as_str() {
        "NAT" => Ok(ForwardingMethod::Nat),
        "DR" => Ok(ForwardingMethod::Dr),
        "TUN" => {
            let mut tunnel_type = TunnelType::Ipip;
            let mut checksum = TunnelChecksum::Default;
            let mut i = 1;
            while i < k.args.len() {
                match k.args[i].text.as_str() {
                    "type" => {
                        match k.arg(i + 1, "a tunnel type")?.text.as_str() {
                            "ipip" => tunnel_type = TunnelType::Ipip,
                            "gre" => tunnel_type = TunnelType::Gre,
                            "gue" => {
                                if k.args.get(i + 2).map(|t| t.text.as_str()) != Some("port") {
                                    return Err(k.args[i + 1]
                                        .pos
                                        .error("tunnel type gue needs 'port N'"));
                                }
                                tunnel_type = TunnelType::Gue {
                                    port: k.int(i + 3, 1, 65535)?,
                                };
                                i += 2;
                            }
                            other => {
                                return Err(k.args[i + 1].pos.error(format!(
                                    "unknown tunnel type '{other}' (expected ipip, gue or gre)"
                                )))
                            }
                        }
                        i += 1;
                    }
                    "nocsum" => checksum = TunnelChecksum::NoCsum,
                    "csum" => checksum = TunnelChecksum::Csum,
                    "remcsum" => checksum = TunnelChecksum::RemCsum,
                    other => {
                        return Err(k.args[i]
                            .pos
                            .error(format!("'{}': unexpected '{other}' after TUN", k.key())))
                    }
                }
                i += 1;
            }
            if checksum != TunnelChecksum::Default && tunnel_type == TunnelType::Ipip {
                return Err(k
                    .pos()
                    .error("tunnel type ipip does not support checksum options"));
            }
            if checksum == TunnelChecksum::RemCsum && tunnel_type == TunnelType::Gre {
                return Err(k.pos().error("tunnel type gre does not support remcsum"));
            }
            Ok(ForwardingMethod::Tun {
                tunnel_type,
                checksum,
            })
        }
        _ => Err(t.pos.error(format!(
            "'{}': unknown forwarding method '{}' (expected NAT, DR or TUN)",
            k.key(),
            t.text
        ))),
    }
}

fn is_checker(key: &str) -> bool {
    matches!(
        key,
        "TCP_CHECK"
            | "HTTP_GET"
            | "SSL_GET"
            | "SMTP_CHECK"
            | "DNS_CHECK"
            | "MISC_CHECK"
            | "PING_CHECK"
            | "ICMP_CHECK"
            | "UDP_CHECK"
            | "FILE_CHECK"
            | "BFD_CHECK"
    )
}

/// Timing keys shared by virtual_server, real_server and checkers.
fn checker_default_kw(d: &mut CheckerDefaults, k: &Node, checker_level: bool) -> PResult<bool> {
    match k.key() {
        "connect_timeout" => d.connect_timeout = Some(positive_timer(k)?),
        // keepalived: 0 only on a checker (MISC_CHECK's default).
        "retry" | "nb_get_retry" => {
            d.retry = Some(k.int(0, if checker_level { 0 } else { 1 }, i64::from(u32::MAX))?)
        }
        "delay_before_retry" => d.delay_before_retry = Some(k.timer(0)?),
        "warmup" => d.warmup = Some(k.timer(0)?),
        "delay_loop" => d.delay_loop = Some(positive_timer(k)?),
        "alpha" => d.alpha = Some(k.flag()?),
        "log_all_failures" if checker_level => d.log_all_failures = Some(k.flag()?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Connection keys of a checker (and SMTP host{} blocks).
fn connection_kw(c: &mut CheckerCommon, k: &Node) -> PResult<bool> {
    match k.key() {
        "connect_ip" => c.connect_ip = Some(k.ip(0)?),
        "connect_port" => c.connect_port = Some(k.int(0, 1, 65535)?),
        "bindto" => c.bindto = Some(k.ip(0)?),
        "bind_port" => c.bind_port = Some(k.int(0, 1, 65535)?),
        "bind_if" => c.bind_if = Some(k.string(0)?),
        "fwmark" => c.fwmark = Some(k.int(0, 0, i64::from(u32::MAX))?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn merge_defaults(levels: &[&CheckerDefaults]) -> CheckerDefaults {
    let mut out = CheckerDefaults::default();
    for l in levels {
        out.connect_timeout = l.connect_timeout.or(out.connect_timeout);
        out.retry = l.retry.or(out.retry);
        out.delay_before_retry = l.delay_before_retry.or(out.delay_before_retry);
        out.warmup = l.warmup.or(out.warmup);
        out.delay_loop = l.delay_loop.or(out.delay_loop);
        out.alpha = l.alpha.or(out.alpha);
        out.log_all_failures = l.log_all_failures.or(out.log_all_failures);
    }
    out
}

fn apply_defaults(c: &mut CheckerCommon, d: &CheckerDefaults, vs_alpha: bool, log_all: bool) {
    if let Some(v) = d.connect_timeout {
        c.connect_timeout = v;
    }
    if let Some(v) = d.retry {
        c.retry = v;
    }
    if let Some(v) = d.delay_before_retry {
        c.delay_before_retry = v;
    }
    if let Some(v) = d.warmup {
        c.warmup = v;
    }
    c.alpha = d.alpha.unwrap_or(vs_alpha);
    c.log_all_failures = d.log_all_failures.unwrap_or(log_all);
}

fn status_range(t: &Token) -> PResult<StatusRange> {
    let bad = || {
        t.pos.error(format!(
            "'status_code': invalid code or range '{}' (expected e.g. 200 or 200-299, codes 100..599)",
            t.text
        ))
    };
    let code =
        |s: &str| -> Option<u16> { s.parse::<u16>().ok().filter(|c| (100..=599).contains(c)) };
    let (min, max) = match t.text.split_once('-') {
        Some((a, b)) => (code(a).ok_or_else(bad)?, code(b).ok_or_else(bad)?),
        None => {
            let c = code(&t.text).ok_or_else(bad)?;
            (c, c)
        }
    };
    if min > max {
        return Err(bad());
    }
    Ok(StatusRange { min, max })
}
