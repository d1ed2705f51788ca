//! Keyword tables: what rkeepalived accepts but ignores, every keyword it
//! knows (for "did you mean" hints), and the two warnings they produce.

use crate::diag::Diagnostic;
use crate::tree::Node;

/// Keywords keepalived knows that rkeepalived accepts but does not act on.
pub(super) const IGNORED_TOP: &[&str] = &[
    "linkbeat_use_polling",
    "child_wait_time",
    "linkbeat_interfaces",
    "interface_up_down_delays",
    "static_track_group",
    "garp_group",
];

pub(super) const IGNORED_GLOBAL: &[&str] = &[
    // keepalived 2.2.7 global_parser.c keywords with no rkeepalived effect
    // (nftables for IPVS, process-monitor buffers, reload
    // checks, logging options); tests/data/keepalived-2.2.7-keywords.txt.
    "include_check",
    "log_unknown_vrids",
    "nftables_ipvs",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "reload_check_config",
    "vmac_addr_prefix",
    "vrrp_notify_priority_changes",
    "vrrp_vmac_garp_intvl",
    "tmp_config_directory",
    "config_save_dir",
    "vrrp_garp_extra_if",
    // Debian's keepalived 2.2.7 has no libipset: "Unknown keyword 'vrrp_ipsets'".
    "vrrp_ipsets",
    "vrrp_higher_prio_send_advert_extra",
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
    "enable_dbus",
    "dbus_service_name",
    "vrrp_rx_bufs_policy",
    "vrrp_rx_bufs_multiplier",
    "umask",
    "random_seed",
    "reload_time_file",
    "reload_repeat",
    "reload_file",
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

pub(super) const IGNORED_INSTANCE: &[&str] = &[
    "vrf",
    "use_vmac_addr",
    "use_ipvlan",
    "native_ipv6",
    "track_src_ip",
    "old_unicast_checksum",
    "garp_extra_if",
    "vmac_garp_intvl",
    "kernel_rx_buf_size",
    "linkbeat_use_polling",
    "notify_deleted",
    "snmp_name",
];

/// Every keyword the parser knows (for "did you mean" suggestions).
pub(super) const KNOWN_KEYWORDS: &[&str] = &[
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
    "announce_drain_delay",
    "announce_metric",
    "announce_protocol",
    "announce_route",
    "announce_table",
    "auth_pass",
    "auth_type",
    "authentication",
    "autojoin",
    "bfd_cpu_affinity",
    "bfd_instance",
    "bfd_no_swap",
    "bfd_priority",
    "bfd_process_name",
    "bfd_rlimit_rtime",
    "bfd_rlimit_rttime",
    "bfd_rt_priority",
    "bind_if",
    "bind_port",
    "bindto",
    "brd",
    "broadcast",
    "ca",
    "certificate",
    "check_unicast_src",
    "checker",
    "checker_cpu_affinity",
    "checker_log_all_failures",
    "checker_no_swap",
    "checker_priority",
    "checker_process_name",
    "checker_rlimit_rtime",
    "checker_rlimit_rttime",
    "checker_rt_priority",
    "connect_ip",
    "connect_port",
    "connect_timeout",
    "cpu_affinity",
    "data_use_instance",
    "debug",
    "default_interface",
    "delay",
    "delay_before_retry",
    "delay_loop",
    "dev",
    "digest",
    "disable_local_igmp",
    "dont_track_primary",
    "down_timer_adverts",
    "drain_on_remove",
    "dsfield",
    "dynamic",
    "dynamic_interfaces",
    "enable_script_security",
    "enable_sni",
    "enable_snmp_checker",
    "enable_snmp_keepalived",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_vrrp",
    "enable_traps",
    "fall",
    "fast_recovery",
    "file",
    "flag-1",
    "flag-2",
    "flag-3",
    "fork_delay",
    "from",
    "full_command",
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
    "group",
    "gw",
    "ha_suspend",
    "hashed",
    "helo_name",
    "higher_prio_send_advert",
    "home",
    "hoplimit",
    "host",
    "http_protocol",
    "hysteresis",
    "idle_tx",
    "iif",
    "include",
    "inhibit_on_failure",
    "init_fail",
    "init_file",
    "instance",
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
    "lvs_flush_onstop",
    "lvs_method",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "lvs_process_name",
    "lvs_sched",
    "lvs_sync_daemon",
    "lvs_sync_daemon_interface",
    "lvs_timeouts",
    "max_auto_priority",
    "max_hops",
    "max_reply_length",
    "max_ttl",
    "mcast_dst_ip",
    "mcast_src_ip",
    "metric",
    "metrics_listen",
    "metrics_serve_status",
    "metrics_web_config",
    "mh-fallback",
    "mh-port",
    "min_auto_priority_delay",
    "min_reply_length",
    "min_rx",
    "min_ttl",
    "min_tx",
    "misc_dynamic",
    "misc_path",
    "misc_timeout",
    "mngtmpaddr",
    "mtu",
    "multiplier",
    "name",
    "namespace_with_ipsets",
    "nat_mask",
    "nb_get_retry",
    "neighbor_ip",
    "neighbour_ip",
    "net_namespace",
    "net_namespace_ipvs",
    "nexthop",
    "nftables",
    "nftables_counters",
    "nftables_ifindex",
    "nftables_priority",
    "no_accept",
    "no_email_faults",
    "no_swap",
    "no_track",
    "nodad",
    "nopreempt",
    "noprefixroute",
    "not",
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
    "or",
    "order",
    "param_match",
    "passive",
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
    "process",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "process_name",
    "process_names",
    "promote_secondaries",
    "proto",
    "protocol",
    "quorum",
    "quorum_down",
    "quorum_max",
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
    "snmp_socket",
    "sorry_server",
    "sorry_server_inhibit",
    "sorry_server_lvs_method",
    "source_ip",
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
    "terminate_delay",
    "timeout",
    "tls_compliant",
    "to",
    "tos",
    "track_bfd",
    "track_file",
    "track_group",
    "track_interface",
    "track_process",
    "track_script",
    "ttl",
    "type",
    "unicast_fault_no_peer",
    "unicast_peer",
    "unicast_src_ip",
    "unicast_ttl",
    "url",
    "use_pid_dir",
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
    "vrrp",
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
    "vrrp_iptables",
    "vrrp_lower_prio_no_advert",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "vrrp_min_garp",
    "vrrp_no_swap",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "vrrp_priority",
    "vrrp_process_name",
    "vrrp_rlimit_rtime",
    "vrrp_rlimit_rttime",
    "vrrp_rt_priority",
    "vrrp_script",
    "vrrp_skip_check_adv_addr",
    "vrrp_startup_delay",
    "vrrp_strict",
    "vrrp_sync_group",
    "vrrp_track_file",
    "vrrp_track_process",
    "vrrp_version",
    "warmup",
    "weight",
];

pub(super) fn ignored(n: &Node) -> Diagnostic {
    n.pos().warning(format!(
        "keyword '{}' is not supported by rkeepalived; ignored",
        n.key()
    ))
}

/// Suggestions are computed for this many unknown keywords per load (a
/// file of junk must stay fast; operators read the first ones anyway).
pub(super) const MAX_SUGGESTIONS: usize = 100;

pub(super) fn unknown(n: &Node, ctx: &str, with_hint: bool) -> Diagnostic {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks whose lines are list entries (addresses, names), not keywords.
    const LIST_BLOCKS: &[&str] = &[
        "notification_email",
        "static_ipaddress",
        "static_routes",
        "static_rules",
        "virtual_ipaddress",
        "virtual_ipaddress_excluded",
        "virtual_routes",
        "virtual_rules",
        "unicast_peer",
        "group",
        "track_interface",
        "track_script",
        "track_file",
        "track_process",
        "track_bfd",
        "virtual_server_group",
    ];

    /// Every keyword the printer writes (it writes every effective value)
    /// is in KNOWN_KEYWORDS, so typos of it get a "did you mean" hint. A
    /// new keyword without its entry fails here.
    #[test]
    fn known_keywords_cover_every_printed_keyword() {
        let text = include_str!("../../tests/golden/fixups.conf");
        let opts = crate::LoadOptions {
            config_id: Some("x".into()),
        };
        let loaded = crate::parse_str(text, "fixups.conf", &opts).expect("fixture loads");
        let printed = crate::print(&loaded.config);
        let mut stack: Vec<String> = Vec::new();
        let mut missing = Vec::new();
        for line in printed.lines().map(str::trim) {
            if line == "}" {
                stack.pop();
                continue;
            }
            let word = line.split_whitespace().next().unwrap_or_default();
            let in_list = stack
                .last()
                .is_some_and(|b| LIST_BLOCKS.contains(&b.as_str()));
            if !in_list && !KNOWN_KEYWORDS.contains(&word) && !missing.contains(&word) {
                missing.push(word);
            }
            if line.ends_with('{') {
                stack.push(word.to_string());
            }
        }
        assert!(missing.is_empty(), "not in KNOWN_KEYWORDS: {missing:?}");
    }

    #[test]
    fn known_keywords_are_sorted_and_unique() {
        let mut sorted = KNOWN_KEYWORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sorted, KNOWN_KEYWORDS,
            "keep KNOWN_KEYWORDS sorted, no duplicates"
        );
    }
}
