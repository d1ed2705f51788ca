//! The keyword table: one line per keyword the parser knows (a few have
//! one line per block where their status differs), and the tests often
//! named in it. See the parent module for how to edit it.

use super::{Ctx, Status};

pub(super) struct Entry {
    pub(super) kw: &'static str,
    pub(super) ctx: Ctx,
    pub(super) status: Status,
}

const fn any(kw: &'static str, status: Status) -> Entry {
    Entry {
        kw,
        ctx: Ctx::Any,
        status,
    }
}
const fn at(ctx: Ctx, kw: &'static str, status: Status) -> Entry {
    Entry { kw, ctx, status }
}
const fn acted(test: &'static str) -> Status {
    Status::Acted(test)
}
const fn read_by(file: &'static str) -> Status {
    Status::Unobserved(file)
}
const fn via(kw: &'static str) -> Status {
    Status::Via(kw)
}
// No keyword is only partly acted on at the moment.
#[allow(dead_code)]
const fn partly(companion: &'static str, missing: &'static str) -> Status {
    Status::Partly { companion, missing }
}
#[allow(dead_code)] // no keyword is `todo` at the moment
pub(super) const fn todo(companion: &'static str, keepalived: &'static str) -> Status {
    Status::NotActedOn {
        companion,
        keepalived,
    }
}

// Tests often named below.
const ANNOUNCE_BIRD: &str =
    "crates/check/tests/announce_netns.rs::bird_peer_learns_the_vip_with_quorum_and_loses_it_before_ipvs_on_stop";
const VRRP_OPS: &str = "crates/vrrp/tests/netns_ops.rs::vmac_routes_rules_and_excluded_addresses";
const STATIC_OPS: &str =
    "crates/vrrp/tests/netns_ops.rs::static_addresses_and_routes_live_with_the_daemon";
const ELECTION: &str =
    "crates/vrrp/tests/netns_election.rs::higher_priority_wins_and_graceful_stop_hands_over";
const LAB_IPVS: &str =
    "tests/lab_keepalived_compare.rs::rkeepalived_programs_the_same_ipvs_as_keepalived";
const PLAN: &str = "crates/check/tests/plan.rs::keepalived_conf_maps_to_checkers_with_defaults";
const TCP_BIND: &str = "crates/check/tests/checkers.rs::tcp_check_honours_bindto_and_bind_port";
const RETRY: &str =
    "crates/check/tests/engine.rs::failure_is_detected_within_delay_loop_plus_retry_budget";
const NOTIFY_RS: &str =
    "crates/check/tests/engine.rs::quorum_and_notify_scripts_run_on_transitions";
const SORRY: &str = "crates/check/tests/engine.rs::inhibit_sorry_server_and_dumps";
const SSL_CLIENT: &str =
    "crates/check/tests/ssl_client.rs::ssl_get_presents_the_client_certificate";
const HTTP_REGEX: &str =
    "crates/check/tests/keepalived_compare.rs::http_regex_and_digest_match_keepalived";
const FILE_CHECK: &str =
    "crates/check/tests/features.rs::file_check_drains_and_reweights_real_servers";
const UDP: &str = "crates/check/tests/checkers.rs::udp_check_reply_patterns_and_unreachable";
const TRACK_SCRIPT: &str =
    "crates/vrrp/tests/netns_features.rs::failing_track_script_lowers_priority";
const TRACK_PROCESS: &str =
    "tests/daemon_track_process.rs::track_process_faults_the_instance_until_the_process_runs";
const GARP_FSM: &str =
    "crates/vrrp/tests/fsm_behaviour.rs::becoming_master_adds_vips_then_adverts_then_garps";
const SYNC_WEIGHTS: &str =
    "crates/config/tests/errors.rs::address_owner_and_sync_groups_ignore_weighted_tracking";
const SYNC: &str = "crates/vrrp/tests/netns_features.rs::sync_group_members_fail_over_together";
const ADDR_OPTS: &str =
    "crates/vrrp/tests/netns_addr_opts.rs::vip_route_rule_options_match_keepalived";
const SNMP_WALK: &str = "tests/daemon_snmp.rs::keepalived_mib_walk_matches_keepalived";
const SCRIPT_SEC: &str =
    "crates/script/tests/config.rs::refused_scripts_are_removed_the_way_keepalived_does";
const METRICS: &str = "tests/daemon_metrics.rs::a_real_prometheus_scrapes_the_daemon";
const INCLUDE: &str =
    "crates/config/tests/preprocess.rs::include_glob_relative_to_including_file_sorted";
const MCAST: &str =
    "crates/vrrp/tests/config_keywords.rs::multicast_group_keywords_choose_the_advert_destination";
const PLAN_KW: &str =
    "crates/check/tests/plan_keywords.rs::service_and_dest_keywords_reach_the_desired_ipvs_entries";
const ADDR: &str = "crates/vrrp/src/addr.rs";
const VIP_OPTS: Status = acted("crates/vrrp/src/addr.rs::address_message_carries_vip_options");
const CHECK_PLAN: &str = "crates/check/src/plan.rs";

/// Words of the process keywords (`vrrp_no_swap`, ...), known for "did you
/// mean" hints; alone they are unknown keywords, in keepalived too.
const BARE_PROCESS: &str = "not a keyword alone: part of vrrp_* / checker_* process options";

/// keepalived 2.2.7's nftables rules (built with nftables, as Debian's):
/// the ruleset compared with keepalived's, VIP traffic dropped as keepalived
/// drops it (vrrp/vrrp_nftables.c, vrrp/vrrp_firewall.c).
const NFT_RULESET: &str =
    "tests/vrrp_nftables.rs::strict_mode_ruleset_matches_keepalived_and_is_removed_on_stop";
const NFT_NAMED: &str =
    "tests/vrrp_nftables.rs::named_table_priority_and_no_accept_match_keepalived";

/// The checker's events on the notify FIFOs (check/ipwrapper.c
/// `notify_fifo_vs()`, `notify_fifo_rs()`); the VRRP process's lines on the
/// global `notify_fifo` are observed by
/// crates/vrrp/tests/netns_ops.rs `notify_fifo_lines_and_diff_reload`.
const LVS_FIFO: Status =
    acted("crates/check/tests/fifo_events.rs::notify_fifo_and_lvs_notify_fifo_get_rs_and_vs_lines");

/// Observed by tests/daemon_namespace.rs.
const NET_NS: &str =
    "tests/daemon_namespace.rs::net_namespace_runs_the_daemon_inside_with_keepalived_paths";
const SIDE_BY_SIDE: &str =
    "tests/daemon_namespace.rs::two_daemons_side_by_side_by_instance_and_namespace";
const PROC_NAMES: &str =
    "tests/daemon_namespace.rs::process_name_keywords_name_processes_like_keepalived";

// BFD (#16): the BFD child runs the sessions; VRRP and the checker
// follow them (observed against keepalived 2.2.7 by tests/daemon_bfd.rs).
const BFD_DAEMON: &str =
    "tests/daemon_bfd.rs::track_bfd_bfd_check_and_the_bfd_child_against_keepalived";
const BFD_RT: &str = "tests/daemon_bfd.rs::bfd_rt_priority_and_rlimit_rttime_and_no_bfd";

/// One line per keyword (a few per block). Keep sorted by keyword.
pub(super) const TABLE: &[Entry] = &[
    any("-nodad", via("nodad")),
    any("BFD_CHECK", acted(BFD_DAEMON)),
    any("DNS_CHECK", acted("crates/check/tests/checkers.rs::dns_check_noerror_nxdomain_and_no_server")),
    any("FILE_CHECK", acted(FILE_CHECK)),
    any("HTTP_GET", acted("crates/check/tests/checkers.rs::http_get_status_codes")),
    any("ICMP_CHECK", via("PING_CHECK")),
    any("MISC_CHECK", acted("crates/check/tests/checkers.rs::misc_check_exit_codes_dynamic_and_timeout")),
    any("PING_CHECK", acted("crates/check/tests/checkers.rs::ping_check_loopback_v4_v6")),
    any("SMTP_CHECK", acted("crates/check/tests/checkers.rs::smtp_check_banner_helo_quit")),
    any("SSL", acted(SSL_CLIENT)),
    any("SSL_GET", acted("crates/check/tests/checkers.rs::ssl_get_without_verification_and_with_sni")),
    any("TCP_CHECK", acted("crates/check/tests/checkers.rs::tcp_check_up_then_refused")),
    any("UDP_CHECK", acted(UDP)),
    any("accept", acted("tests/vrrp_nftables.rs::vip_traffic_is_dropped_exactly_when_keepalived_drops_it")),
    any("advert_int", acted("crates/vrrp/tests/fsm_sim.rs::reload_advert_interval_takes_effect_on_the_next_advert")),
    at(Ctx::Route, "advmss", acted(ADDR_OPTS)),
    any("alpha", acted("crates/check/src/health.rs::alpha_starts_down_and_group_keys_share_dests")),
    any("announce_drain_delay", acted(ANNOUNCE_BIRD)),
    any("announce_metric", acted(ANNOUNCE_BIRD)),
    any("announce_protocol", acted(ANNOUNCE_BIRD)),
    any("announce_route", acted(ANNOUNCE_BIRD)),
    any("announce_table", acted(ANNOUNCE_BIRD)),
    any("auth_pass", acted("crates/vrrp/tests/interop_keepalived.rs::v2_pass_auth_both_ways")),
    any("auth_type", acted("crates/vrrp/tests/interop_ah.rs::ah_ours_master_keepalived_backup_and_failover")),
    any("authentication", acted("crates/vrrp/tests/interop_keepalived.rs::v2_pass_auth_both_ways")),
    any("autojoin", VIP_OPTS),
    any("bfd_cpu_affinity", acted(BFD_DAEMON)),
    any("bfd_instance", acted(BFD_DAEMON)),
    any("bfd_no_swap", acted(BFD_DAEMON)),
    any("bfd_priority", acted(BFD_DAEMON)),
    any("bfd_process_name", acted(BFD_DAEMON)),
    any("bfd_rlimit_rtime", via("bfd_rlimit_rttime")),
    any("bfd_rlimit_rttime", acted(BFD_RT)),
    any("bfd_rt_priority", acted(BFD_RT)),
    any("bind_if", acted(PLAN_KW)),
    any("bind_port", acted(TCP_BIND)),
    any("bindto", acted(TCP_BIND)),
    any("brd", VIP_OPTS),
    any("broadcast", via("brd")),
    any("ca", acted(SSL_CLIENT)),
    any("certificate", acted(SSL_CLIENT)),
    any("check_unicast_src", acted("crates/vrrp/tests/config_keywords.rs::check_unicast_src_drops_adverts_from_unknown_peers")),
    at(Ctx::Bfd, "checker", via("bfd_instance")),
    any("checker_cpu_affinity", acted("tests/daemon_process_options.rs::nice_no_swap_and_affinity_apply_to_each_child_and_follow_a_reload")),
    any("checker_log_all_failures", acted("crates/check/tests/fifo_events.rs::checker_log_all_failures_logs_each_failure_while_up")),
    any("checker_no_swap", acted("tests/daemon_process_options.rs::nice_no_swap_and_affinity_apply_to_each_child_and_follow_a_reload")),
    any("checker_priority", acted("tests/daemon_process_options.rs::nice_no_swap_and_affinity_apply_to_each_child_and_follow_a_reload")),
    any("checker_process_name", acted(PROC_NAMES)),
    any("checker_rlimit_rtime", via("checker_rlimit_rttime")),
    any("checker_rlimit_rttime", acted("tests/daemon_process_options.rs::realtime_priority_with_rttime_limit_wins_over_nice")),
    any("checker_rt_priority", acted("tests/daemon_process_options.rs::realtime_priority_with_rttime_limit_wins_over_nice")),
    any("connect_ip", acted("crates/check/tests/engine.rs::reload_keeps_state_and_edits_in_place")),
    any("connect_port", acted("crates/check/tests/features.rs::one_probe_per_distinct_target_fans_out")),
    any("connect_timeout", acted("crates/check/tests/bounds.rs::http_get_dripping_head_fails_by_connect_timeout")),
    any("cpu_affinity", Status::NoEffect(BARE_PROCESS)),
    any("data_use_instance", acted(NET_NS)),
    any("debug", Status::NoEffect("keepalived 2.2.7 only prints it in its -d dump")),
    any("default_interface", acted("crates/config/tests/keyword_effects.rs::default_interface_is_the_interface_of_instances_without_one")),
    any("delay", acted("crates/vrrp/src/track_process.rs::delay_terminate_delay_and_fork_delay")),
    any("delay_before_retry", acted(RETRY)),
    any("delay_loop", acted(RETRY)),
    any("dev", acted(VRRP_OPS)),
    any("digest", acted(HTTP_REGEX)),
    any("disable_local_igmp", acted("tests/vrrp_nftables.rs::disable_local_igmp_turns_reports_off_instead_of_the_vmac_rule")),
    any("dont_track_primary", acted("crates/vrrp/src/instance.rs::primary_interface_down_is_fault_unless_dont_track_primary")),
    any("down_timer_adverts", acted("crates/vrrp/tests/config_keywords.rs::down_timer_adverts_sets_the_master_down_interval")),
    any("drain_on_remove", acted("crates/check/tests/drain.rs::reload_drains_a_removed_real_server_until_idle_or_timeout")),
    at(Ctx::Route, "dsfield", via("tos")),
    at(Ctx::Rule, "dsfield", via("tos")),
    any("dynamic", Status::NoEffect("FILE_CHECK dynamic is newer than keepalived 2.2.7")),
    any("dynamic_interfaces", acted("crates/vrrp/tests/netns_iface.rs::late_interface_dynamic_vs_ours")),
    any("enable_script_security", acted(SCRIPT_SEC)),
    any("enable_sni", acted("crates/check/tests/checkers.rs::ssl_get_without_verification_and_with_sni")),
    any("enable_snmp_checker", acted("tests/daemon_snmp.rs::virtual_and_real_server_tables")),
    any("enable_snmp_keepalived", via("enable_snmp_vrrp")),
    any("enable_snmp_rfc", via("enable_snmp_rfcv2")),
    any("enable_snmp_rfcv2", acted(SNMP_WALK)),
    any("enable_snmp_rfcv3", acted(SNMP_WALK)),
    any("enable_snmp_vrrp", acted(SNMP_WALK)),
    any("enable_traps", acted(SNMP_WALK)),
    any("fall", acted(TRACK_SCRIPT)),
    any("fast_recovery", Status::NoEffect("keepalived 2.2.7 only prints it in its -d dump")),
    any("file", acted(FILE_CHECK)),
    any("flag-1", acted("crates/ipvs/tests/golden.rs::every_captured_request_matches_our_encoding")),
    any("flag-2", acted("crates/ipvs/tests/golden.rs::every_captured_request_matches_our_encoding")),
    any("flag-3", acted(PLAN_KW)),
    any("fork_delay", acted("crates/vrrp/src/track_process.rs::delay_terminate_delay_and_fork_delay")),
    any("from", acted(VRRP_OPS)),
    any("full_command", acted("crates/vrrp/src/track_process.rs::process_name_is_comm_or_full_command_argv0")),
    any("fwmark", acted(PLAN)),
    any("garp_lower_prio_delay", read_by("crates/vrrp/src/fsm.rs")),
    any("garp_lower_prio_repeat", acted("crates/vrrp/tests/fsm_behaviour.rs::lower_prio_no_advert_and_higher_prio_send_advert")),
    any("garp_master_delay", acted(GARP_FSM)),
    any("garp_master_refresh", acted("crates/vrrp/tests/fsm_behaviour.rs::fault_at_startup_and_garp_refresh")),
    any("garp_master_refresh_repeat", acted("crates/vrrp/tests/fsm_behaviour.rs::fault_at_startup_and_garp_refresh")),
    any("garp_master_repeat", acted(GARP_FSM)),
    any("global_defs", acted(ELECTION)),
    any("global_tracking", acted("crates/config/tests/errors.rs::global_tracking_keeps_sync_group_members_weights")),
    at(Ctx::Rule, "goto", read_by(ADDR)),
    any("group", acted(SYNC)),
    any("gw", via("via")),
    any("ha_suspend", acted("crates/check/tests/netns.rs::ha_suspend_follows_the_virtual_address")),
    any("hashed", Status::NoEffect("keepalived 2.2.7 reads it as a scheduler flag it never sets (check_parser.c lbflags_handler())")),
    any("helo_name", acted("crates/check/tests/checkers.rs::smtp_check_banner_helo_quit")),
    any("higher_prio_send_advert", acted("crates/vrrp/tests/fsm_behaviour.rs::lower_prio_no_advert_and_higher_prio_send_advert")),
    any("home", VIP_OPTS),
    at(Ctx::Bfd, "hoplimit", via("bfd_instance")),
    any("host", acted(PLAN_KW)),
    any("http_protocol", acted(PLAN_KW)),
    any("hysteresis", acted("crates/check/src/health.rs::quorum_with_hysteresis_and_sorry_server")),
    at(Ctx::Bfd, "idle_tx", via("bfd_instance")),
    at(Ctx::Rule, "iif", read_by(ADDR)),
    any("include", acted(INCLUDE)),
    any("inhibit_on_failure", acted(SORRY)),
    any("init_fail", acted("crates/vrrp/src/track.rs::script_first_failure_from_init_is_down")),
    any("init_file", read_by("crates/vrrp/src/watch.rs")),
    any("instance", acted(SIDE_BY_SIDE)),
    any("interface", acted(ELECTION)),
    any("interval", acted(TRACK_SCRIPT)),
    any("ip_family", read_by(CHECK_PLAN)),
    any("key", acted(SSL_CLIENT)),
    any("label", VIP_OPTS),
    any("lb_algo", acted(LAB_IPVS)),
    any("lb_flags", via("lvs_flags")),
    any("lb_kind", acted(LAB_IPVS)),
    any("log_all_failures", acted("crates/check/tests/fifo_events.rs::log_all_failures_logs_each_failure_while_up")),
    at(Ctx::Rule, "lookup", via("table")),
    any("lower_prio_no_advert", acted("crates/vrrp/tests/fsm_behaviour.rs::lower_prio_no_advert_and_higher_prio_send_advert")),
    any("lthreshold", acted(PLAN_KW)),
    any("lvs_flags", Status::NoEffect("keepalived 2.2.7 does not know it (its flags are one keyword each: sh-port, flag-1, ...): ignored there and here")),
    any("lvs_flush", acted("crates/ipvs/src/tests.rs::foreign_services_and_dests_survive_unless_flushing")),
    any("lvs_flush_on_stop", acted("crates/check/tests/engine_lvs_globals.rs::lvs_flush_on_stop_all_flushes_the_whole_table")),
    any("lvs_flush_onstop", via("lvs_flush_on_stop")),
    any("lvs_method", via("lb_kind")),
    any("lvs_notify_fifo", LVS_FIFO),
    any("lvs_notify_fifo_script", LVS_FIFO),
    any("lvs_process_name", via("checker_process_name")),
    any("lvs_sched", via("lb_algo")),
    any("lvs_sync_daemon", acted("crates/check/tests/engine_lvs_globals.rs::lvs_sync_daemon_without_instance_runs_both_daemons_in_the_checker")),
    any("lvs_sync_daemon_interface", acted("crates/config/tests/keyword_effects.rs::instance_lvs_sync_daemon_interface_is_the_global_lvs_sync_daemon")),
    any("lvs_timeouts", acted("crates/check/tests/engine_lvs_globals.rs::lvs_timeouts_set_at_start_reapplied_on_reload_restored_on_stop")),
    any("max_auto_priority", acted("tests/daemon_auto_priority.rs::late_wakeups_raise_the_vrrp_child_to_sched_rr_as_keepalived")),
    at(Ctx::Bfd, "max_hops", via("bfd_instance")),
    any("max_reply_length", acted("crates/check/src/checkers/udp.rs::reply_verification")),
    any("max_ttl", acted("crates/vrrp/src/instance.rs::unicast_peer_ttl_window")),
    any("mcast_dst_ip", acted(MCAST)),
    any("mcast_src_ip", acted(MCAST)),
    at(Ctx::Route, "metric", read_by(ADDR)),
    any("metrics_listen", acted(METRICS)),
    any("metrics_serve_status", acted("tests/daemon_metrics.rs::status_is_opt_in_and_promtool_accepts_the_exposition")),
    any("metrics_web_config", acted("tests/daemon_metrics.rs::tls_and_basic_auth_from_a_web_config_file")),
    any("mh-fallback", via("flag-1")),
    any("mh-port", via("flag-2")),
    any("min_auto_priority_delay", acted("tests/daemon_auto_priority.rs::late_wakeups_raise_the_vrrp_child_to_sched_rr_as_keepalived")),
    any("min_reply_length", acted("crates/check/src/checkers/udp.rs::reply_verification")),
    at(Ctx::Bfd, "min_rx", via("bfd_instance")),
    any("min_ttl", acted("crates/vrrp/src/instance.rs::unicast_peer_ttl_window")),
    at(Ctx::Bfd, "min_tx", via("bfd_instance")),
    any("misc_dynamic", acted("crates/check/tests/engine.rs::misc_dynamic_weight_reaches_ipvs")),
    any("misc_path", acted("crates/check/tests/checkers.rs::misc_check_exit_codes_dynamic_and_timeout")),
    any("misc_timeout", acted("crates/check/tests/checkers.rs::misc_check_exit_codes_dynamic_and_timeout")),
    any("mngtmpaddr", VIP_OPTS),
    at(Ctx::Route, "mtu", acted(ADDR_OPTS)),
    at(Ctx::Bfd, "multiplier", via("bfd_instance")),
    any("name", acted("crates/check/tests/checkers.rs::dns_check_noerror_nxdomain_and_no_server")),
    any("namespace_with_ipsets", Status::NoEffect("keepalived 2.2.7 reads it only on kernels older than 3.13 (vrrp/vrrp_ipset.c ipset_initialise())")),
    any("nat_mask", Status::Unsupported),
    any("nb_get_retry", via("retry")),
    at(Ctx::Bfd, "neighbor_ip", via("bfd_instance")),
    at(Ctx::Bfd, "neighbour_ip", via("bfd_instance")),
    any("net_namespace", acted(NET_NS)),
    any("net_namespace_ipvs", acted("crates/ipvs/tests/netns_namespace.rs::net_namespace_ipvs_opens_the_socket_in_the_named_namespace")),
    at(Ctx::Route, "nexthop", acted(ADDR_OPTS)),
    any("nftables", acted(NFT_NAMED)),
    any("nftables_counters", acted(NFT_RULESET)),
    any("nftables_ifindex", acted(NFT_RULESET)),
    any("nftables_priority", acted(NFT_NAMED)),
    any("no_accept", acted(NFT_NAMED)),
    any("no_email_faults", acted("tests/daemon_smtp_alerts.rs::no_email_faults_matches_keepalived")),
    any("no_swap", Status::NoEffect(BARE_PROCESS)),
    at(Ctx::Address, "no_track", acted(ADDR_OPTS)),
    at(Ctx::Route, "no_track", acted(ADDR_OPTS)),
    at(Ctx::Rule, "no_track", acted(ADDR_OPTS)),
    any("nodad", VIP_OPTS),
    any("nopreempt", acted("crates/vrrp/tests/netns_election.rs::nopreempt_keeps_the_current_master")),
    any("noprefixroute", VIP_OPTS),
    at(Ctx::Rule, "not", read_by(ADDR)),
    any("notification_email", acted("tests/daemon_smtp_alerts.rs::vrrp_state_mails_match_keepalived")),
    any("notification_email_from", acted("tests/daemon_smtp_alerts.rs::no_email_faults_matches_keepalived")),
    any("notify", read_by("crates/vrrp/src/engine/actions.rs")),
    any("notify_backup", read_by("crates/vrrp/src/engine/actions.rs")),
    any("notify_deleted", Status::Unsupported),
    any("notify_down", acted(NOTIFY_RS)),
    any("notify_fault", read_by("crates/vrrp/src/engine/actions.rs")),
    any("notify_fifo", LVS_FIFO),
    any("notify_fifo_script", via("notify_fifo")),
    any("notify_master", acted("tests/daemon_script_security.rs::insecure_scripts_are_never_executed")),
    any("notify_master_rx_lower_pri", read_by("crates/vrrp/src/engine/actions.rs")),
    any("notify_priority_changes", acted(ADDR_OPTS)),
    any("notify_stop", read_by("crates/vrrp/src/engine/actions.rs")),
    any("notify_up", acted(NOTIFY_RS)),
    at(Ctx::Route, "oif", via("dev")),
    at(Ctx::Rule, "oif", read_by(ADDR)),
    any("omega", acted("crates/check/src/health.rs::omega_runs_down_scripts_on_stop")),
    at(Ctx::Route, "onlink", read_by(ADDR)),
    any("ops", acted(PLAN_KW)),
    at(Ctx::Route, "or", via("nexthop")),
    at(Ctx::Rule, "order", via("priority")),
    any("param_match", acted(TRACK_PROCESS)),
    at(Ctx::Bfd, "passive", via("bfd_instance")),
    any("password", acted("crates/check/tests/ssl_client.rs::ssl_password_decrypts_encrypted_client_keys")),
    any("path", acted("crates/check/tests/checkers.rs::http_get_status_codes")),
    any("payload", acted(UDP)),
    at(Ctx::Address, "peer", acted(ADDR_OPTS)),
    any("persistence_engine", acted(PLAN_KW)),
    any("persistence_granularity", acted(PLAN_KW)),
    any("persistence_timeout", acted(LAB_IPVS)),
    any("preempt", acted("crates/vrrp/tests/fsm_sim.rs::higher_priority_router_preempts")),
    any("preempt_delay", acted("crates/vrrp/tests/fsm_sim.rs::preempt_delay_postpones_takeover")),
    at(Ctx::Rule, "pref", via("priority")),
    at(Ctx::Route, "preference", via("metric")),
    at(Ctx::Rule, "preference", via("priority")),
    at(Ctx::Address, "preferred_lft", acted(ADDR_OPTS)),
    any("priority", acted(ELECTION)),
    any("process", acted(TRACK_PROCESS)),
    any("process_monitor_rcv_bufs", acted("crates/vrrp/tests/track_process_events.rs::an_overflow_is_recovered_by_a_rescan_and_a_bigger_buffer")),
    any("process_monitor_rcv_bufs_force", acted("crates/vrrp/tests/track_process_events.rs::an_overflow_is_recovered_by_a_rescan_and_a_bigger_buffer")),
    any("process_name", acted(PROC_NAMES)),
    any("process_names", acted(PROC_NAMES)),
    any("promote_secondaries", acted(ADDR_OPTS)),
    at(Ctx::Route, "proto", via("protocol")),
    any("protocol", acted(LAB_IPVS)),
    any("quorum", acted(NOTIFY_RS)),
    any("quorum_down", acted(NOTIFY_RS)),
    any("quorum_max", acted("crates/vrrp/src/track_process.rs::quorum_and_quorum_max")),
    any("quorum_up", acted(NOTIFY_RS)),
    any("real_server", acted(LAB_IPVS)),
    any("regex", acted(HTTP_REGEX)),
    any("regex_max_offset", acted(HTTP_REGEX)),
    any("regex_min_offset", acted(HTTP_REGEX)),
    any("regex_no_match", acted(HTTP_REGEX)),
    any("regex_options", Status::Unsupported),
    any("regex_stack", acted("crates/check/tests/http_features.rs::regex_stack_is_validated_and_no_pattern_runs_out_of_stack")),
    any("require_reply", acted(UDP)),
    any("retry", acted(RETRY)),
    any("rise", acted(TRACK_SCRIPT)),
    any("router_id", acted("tests/daemon_snmp.rs::keepalived_mib_walk_matches_keepalived")),
    any("rt_priority", Status::NoEffect(BARE_PROCESS)),
    any("scope", VIP_OPTS),
    at(Ctx::Route, "scope", read_by(ADDR)),
    any("script", acted(TRACK_SCRIPT)),
    any("script_user", acted("crates/script/tests/config.rs::unknown_users_remove_scripts_instead_of_running_them_as_root")),
    any("sh-fallback", via("flag-1")),
    any("sh-port", via("flag-2")),
    any("shutdown_script", acted("tests/daemon_startup_scripts.rs::same_order_user_and_log_lines_as_keepalived")),
    any("shutdown_script_timeout", acted("tests/daemon_startup_scripts.rs::timeouts_behave_as_keepalived")),
    any("skip_check_adv_addr", acted("crates/vrrp/tests/config_keywords.rs::skip_check_adv_addr_skips_the_vip_check_for_the_current_master")),
    any("smtp_alert", acted("tests/daemon_smtp_alerts.rs::vrrp_state_mails_match_keepalived")),
    any("smtp_alert_checker", acted("tests/daemon_smtp_alerts.rs::real_server_check_mails")),
    any("smtp_alert_vrrp", acted("tests/daemon_smtp_alerts.rs::fault_mail_matches_keepalived")),
    any("smtp_connect_timeout", acted("crates/smtp/tests/dialogue.rs::silent_server_bounded_by_timeout")),
    any("smtp_helo_name", acted("tests/daemon_smtp_alerts.rs::no_email_faults_matches_keepalived")),
    any("smtp_server", acted("tests/daemon_smtp_alerts.rs::vrrp_state_mails_match_keepalived")),
    any("snmp_name", Status::Unsupported),
    any("snmp_socket", acted(SNMP_WALK)),
    any("sorry_server", acted(SORRY)),
    any("sorry_server_inhibit", acted("crates/check/src/health.rs::sorry_server_inhibit_keeps_it_at_weight_zero")),
    any("sorry_server_lvs_method", acted(PLAN_KW)),
    at(Ctx::Bfd, "source_ip", via("bfd_instance")),
    any("src", read_by(ADDR)),
    any("startup_script", acted("tests/daemon_startup_scripts.rs::same_order_user_and_log_lines_as_keepalived")),
    any("startup_script_timeout", acted("tests/daemon_startup_scripts.rs::timeouts_behave_as_keepalived")),
    any("state", acted("crates/vrrp/tests/fsm_behaviour.rs::address_owner_with_state_master_starts_as_master")),
    any("static_ipaddress", acted(STATIC_OPS)),
    any("static_routes", acted(STATIC_OPS)),
    any("static_rules", read_by("crates/vrrp/src/engine/reconfigure.rs")),
    any("status_code", acted("crates/check/tests/checkers.rs::http_get_status_codes")),
    any("status_socket", acted("tests/daemon_names.rs::two_daemons_with_their_own_pid_files_get_their_own_status_sockets")),
    any("strict_mode", acted(NFT_RULESET)),
    any("sync_group_tracking_weight", acted(SYNC_WEIGHTS)),
    any("table", acted(VRRP_OPS)),
    any("terminate_delay", acted("crates/vrrp/src/track_process.rs::delay_terminate_delay_and_fork_delay")),
    any("timeout", acted(TRACK_SCRIPT)),
    any("tls_compliant", Status::NoEffect("newer than keepalived 2.2.7")),
    any("to", read_by(ADDR)),
    any("tos", read_by(ADDR)),
    any("track_bfd", acted(BFD_DAEMON)),
    any("track_file", acted(FILE_CHECK)),
    any("track_group", Status::Unsupported),
    any("track_interface", acted("crates/vrrp/tests/netns_features.rs::track_interface_down_moves_the_vip")),
    any("track_process", acted(TRACK_PROCESS)),
    any("track_script", acted(TRACK_SCRIPT)),
    at(Ctx::Bfd, "ttl", via("bfd_instance")),
    any("type", acted("crates/check/tests/checkers.rs::dns_check_noerror_nxdomain_and_no_server")),
    any("unicast_fault_no_peer", acted("crates/vrrp/src/instance.rs::unicast_fault_no_peer_without_peers_is_fault")),
    any("unicast_peer", acted("crates/vrrp/tests/netns_features.rs::unicast_peers_elect_a_master")),
    any("unicast_src_ip", acted("crates/vrrp/tests/interop_keepalived.rs::unicast_v2_and_v3_both_ways")),
    any("unicast_ttl", acted("crates/vrrp/src/instance.rs::unicast_peer_ttl_window")),
    any("url", acted("crates/check/tests/checkers.rs::http_get_status_codes")),
    any("use_pid_dir", acted(SIDE_BY_SIDE)),
    any("use_vmac", acted(NFT_RULESET)),
    any("user", acted(SCRIPT_SEC)),
    any("uthreshold", acted(PLAN_KW)),
    any("version", acted("crates/vrrp/tests/interop_keepalived.rs::v3_ipv4_both_ways")),
    any("via", acted(VRRP_OPS)),
    any("virtual_ipaddress", acted(ELECTION)),
    any("virtual_ipaddress_excluded", acted(VRRP_OPS)),
    any("virtual_router_id", acted(ELECTION)),
    any("virtual_routes", acted(VRRP_OPS)),
    any("virtual_rules", acted(VRRP_OPS)),
    any("virtual_server", acted(LAB_IPVS)),
    any("virtual_server_group", acted(PLAN)),
    any("virtualhost", acted("crates/check/tests/checkers.rs::http_get_digest_and_virtualhost")),
    any("vmac_prefix", acted("crates/config/tests/keyword_effects.rs::vmac_prefix_names_unnamed_vmacs")),
    any("vmac_xmit_base", read_by("crates/vrrp/src/engine.rs")),
    at(Ctx::Bfd, "vrrp", via("bfd_instance")),
    any("vrrp_check_unicast_src", via("check_unicast_src")),
    any("vrrp_cpu_affinity", acted("tests/daemon_process_options.rs::nice_no_swap_and_affinity_apply_to_each_child_and_follow_a_reload")),
    any("vrrp_down_timer_adverts", via("down_timer_adverts")),
    any("vrrp_garp_interval", read_by("crates/vrrp/src/engine/actions.rs")),
    any("vrrp_garp_lower_prio_delay", via("garp_lower_prio_delay")),
    any("vrrp_garp_lower_prio_repeat", via("garp_lower_prio_repeat")),
    any("vrrp_garp_master_delay", via("garp_master_delay")),
    any("vrrp_garp_master_refresh", via("garp_master_refresh")),
    any("vrrp_garp_master_refresh_repeat", via("garp_master_refresh_repeat")),
    any("vrrp_garp_master_repeat", via("garp_master_repeat")),
    any("vrrp_gna_interval", read_by("crates/vrrp/src/engine/actions.rs")),
    any("vrrp_higher_prio_send_advert", via("higher_prio_send_advert")),
    any("vrrp_instance", acted(ELECTION)),
    // Debian's build has no iptables: the default nftables table instead.
    any("vrrp_iptables", acted("crates/config/tests/nftables_keywords.rs::nftables_keywords_read_as_debian_keepalived_reads_them")),
    any("vrrp_lower_prio_no_advert", via("lower_prio_no_advert")),
    any("vrrp_mcast_group4", acted(MCAST)),
    any("vrrp_mcast_group6", acted(MCAST)),
    any("vrrp_min_garp", via("garp_master_repeat")),
    any("vrrp_no_swap", acted("tests/daemon_process_options.rs::nice_no_swap_and_affinity_apply_to_each_child_and_follow_a_reload")),
    any("vrrp_notify_fifo", read_by("crates/vrrp/src/notify.rs")),
    any("vrrp_notify_fifo_script", read_by("crates/vrrp/src/notify.rs")),
    any("vrrp_priority", acted("tests/daemon_process_options.rs::nice_no_swap_and_affinity_apply_to_each_child_and_follow_a_reload")),
    any("vrrp_process_name", acted(PROC_NAMES)),
    any("vrrp_rlimit_rtime", via("vrrp_rlimit_rttime")),
    any("vrrp_rlimit_rttime", acted("tests/daemon_process_options.rs::realtime_priority_with_rttime_limit_wins_over_nice")),
    any("vrrp_rt_priority", acted("tests/daemon_process_options.rs::realtime_priority_with_rttime_limit_wins_over_nice")),
    any("vrrp_script", acted(TRACK_SCRIPT)),
    any("vrrp_skip_check_adv_addr", via("skip_check_adv_addr")),
    any("vrrp_startup_delay", read_by("crates/vrrp/src/engine.rs")),
    any("vrrp_strict", via("strict_mode")),
    any("vrrp_sync_group", acted(SYNC)),
    any("vrrp_track_file", acted(FILE_CHECK)),
    any("vrrp_track_process", acted(TRACK_PROCESS)),
    any("vrrp_version", via("version")),
    any("warmup", acted("crates/check/tests/engine.rs::checks_are_staggered_across_warmup")),
    any("weight", acted("crates/vrrp/tests/fsm_sim.rs::tracking_priority_drop_lets_the_backup_preempt")),
    at(Ctx::Route, "weight", acted(ADDR_OPTS)),
];
