//! "Parsed but not acted on": every keyword rkeepalived parses without an
//! engine acting on it warns at each occurrence (`file:line:col`) and is
//! listed in `Loaded::not_acted_on` (the classification and the
//! enumeration test over every known keyword are in
//! `src/parse/acted.rs`).

use rkeepalived_config::{parse_str, LoadOptions};

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("x".into()),
    }
}

/// One configuration using every keyword that is parsed but not acted on,
/// in each block where it is read. (keyword, line, col) of each warning.
const CONF: &str = "\
global_defs {
    notification_email {
        root@example.com
    }
    notification_email_from lb@example.com
    smtp_server 192.0.2.25
    smtp_helo_name lb1
    smtp_connect_timeout 30
    smtp_alert
    smtp_alert_vrrp
    smtp_alert_checker
    no_email_faults
    checker_log_all_failures
    startup_script /bin/true
    startup_script_timeout 5
    shutdown_script /bin/true
    shutdown_script_timeout 5
    lvs_notify_fifo /run/lvs.fifo
    lvs_notify_fifo_script /bin/true
    lvs_sync_daemon eth0 VI_1
    lvs_timeouts tcp 900 tcpfin 120 udp 300
    lvs_flush_on_stop
    vrrp_priority -5
    vrrp_rt_priority 50
    vrrp_no_swap
    vrrp_cpu_affinity 0
    vrrp_rlimit_rttime 10000
    checker_priority -5
    checker_rt_priority 50
    checker_no_swap
    checker_cpu_affinity 1
    checker_rlimit_rtime 10000
    checker_rlimit_rttime 10000
    vrrp_ipsets
    bfd_priority -5
    bfd_rt_priority 50
    bfd_no_swap
    bfd_cpu_affinity 0
    bfd_rlimit_rtime 10000
    bfd_rlimit_rttime 10000
}
bfd_instance B1 {
    neighbor_ip 192.0.2.5
    min_rx 50
}
vrrp_sync_group G1 {
    group {
        VI_1
    }
    smtp_alert
    global_tracking
    notify_priority_changes
    track_bfd {
        B1
    }
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    smtp_alert
    promote_secondaries
    no_accept
    notify_priority_changes
    lvs_sync_daemon_interface eth0
    track_bfd {
        B1 weight 10
    }
    virtual_ipaddress {
        192.0.2.10/24 dev eth0 peer 192.0.2.11 preferred_lft 0 no_track
    }
    virtual_routes {
        198.51.100.0/24 via 192.0.2.1 dev eth0 mtu 1400 advmss 1360 no_track
        203.0.113.0/24 nexthop via 192.0.2.1 weight 2 nexthop via 192.0.2.2
    }
    virtual_rules {
        from 198.51.100.0/24 table 100 no_track
    }
}
SSL {
    password secret
}
virtual_server 192.0.2.10 80 {
    protocol TCP
    smtp_alert
    real_server 198.51.100.1 80 {
        smtp_alert
        TCP_CHECK {
            log_all_failures
        }
        BFD_CHECK {
            name B1
        }
    }
}
";

/// Every keyword is acted on now (BFD since #16 was wired): the
/// configuration above warns about none.
const EXPECTED: &[(&str, u32, u32)] = &[];

#[test]
fn every_not_acted_on_keyword_warns_at_each_occurrence() {
    let loaded = parse_str(CONF, "k.conf", &opts()).expect("loads");
    let got: Vec<(String, u32, u32)> = loaded
        .warnings
        .iter()
        .filter(|w| w.message.contains("parsed but not acted on"))
        .map(|w| {
            let kw = w.message.split('\'').nth(1).unwrap_or_default().to_string();
            (kw, w.line, w.col)
        })
        .collect();
    let mut want: Vec<(String, u32, u32)> = EXPECTED
        .iter()
        .map(|(k, l, c)| (k.to_string(), *l, *c))
        .collect();
    let mut got_sorted = got.clone();
    got_sorted.sort_by_key(|(_, l, c)| (*l, *c));
    want.sort_by_key(|(_, l, c)| (*l, *c));
    assert_eq!(got_sorted, want, "all warnings:\n{:#?}", loaded.warnings);
}

#[test]
fn not_acted_on_lists_each_keyword_once_sorted_with_unsupported_ones() {
    let loaded = parse_str(CONF, "k.conf", &opts()).expect("loads");
    let list = &loaded.not_acted_on;
    let mut sorted = list.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(list, &sorted, "sorted, each once");
    // "not supported by rkeepalived; ignored" keywords count too.
    assert!(list.contains(&"vrrp_ipsets".to_string()), "{list:?}");
    for (kw, _, _) in EXPECTED {
        assert!(list.contains(&kw.to_string()), "{kw} missing from {list:?}");
    }
    assert_eq!(list.len(), {
        let mut kws: Vec<&str> = EXPECTED.iter().map(|(k, _, _)| *k).collect();
        kws.push("vrrp_ipsets");
        kws.sort_unstable();
        kws.dedup();
        kws.len()
    });
}

#[test]
fn acted_on_keywords_do_not_warn() {
    let text = "\
global_defs {
    router_id lb1
    lvs_flush
    vrrp_garp_master_delay 2
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    accept
    debug 2
    virtual_ipaddress {
        192.0.2.10/24 dev eth0 label eth0:1
    }
}
";
    let loaded = parse_str(text, "k.conf", &opts()).expect("loads");
    assert!(loaded.not_acted_on.is_empty(), "{:?}", loaded.not_acted_on);
    assert!(
        !loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("not acted on")),
        "{:?}",
        loaded.warnings
    );
}

/// The firewall keywords are acted on (tests/vrrp_nftables.rs): strict
/// mode, vmacs and accept mode warn no more.
#[test]
fn strict_mode_vmac_and_accept_mode_are_acted_on() {
    let text = "\
global_defs {
    vrrp_strict
    nftables
    nftables_counters
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    strict_mode
    use_vmac
    no_accept
    virtual_ipaddress {
        192.0.2.10/24
    }
}
";
    let loaded = parse_str(text, "k.conf", &opts()).expect("loads");
    assert!(
        !loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("acted on")),
        "{:?}",
        loaded.warnings
    );
    assert!(loaded.not_acted_on.is_empty(), "{:?}", loaded.not_acted_on);
}

/// The global notify_fifo carries VRRP events and, in a configuration with
/// virtual servers, the checker's events too (crates/check/tests/fifo_events.rs):
/// it is acted on either way.
#[test]
fn global_notify_fifo_is_acted_on_with_or_without_virtual_servers() {
    let vrrp_only = "\
global_defs {
    notify_fifo /run/k.fifo
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.10/24
    }
}
";
    let loaded = parse_str(vrrp_only, "k.conf", &opts()).expect("loads");
    assert!(loaded.not_acted_on.is_empty(), "{:?}", loaded.warnings);
    let with_lvs = format!(
        "{vrrp_only}virtual_server 192.0.2.10 80 {{\n    protocol TCP\n    real_server 198.51.100.1 80 {{\n    }}\n}}\n"
    );
    let loaded = parse_str(&with_lvs, "k.conf", &opts()).expect("loads");
    assert!(loaded.not_acted_on.is_empty(), "{:?}", loaded.warnings);
}

/// Unsupported keywords deep in checker `url` blocks and rule lines that
/// start with an option word are found too.
#[test]
fn nested_url_options_and_leading_rule_options_are_found() {
    let text = "\
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.10/24
    }
    virtual_rules {
        no_track from 198.51.100.0/24 table 100
    }
}
virtual_server 192.0.2.10 80 {
    protocol TCP
    real_server 198.51.100.1 80 {
        HTTP_GET {
            url {
                path /
                regex ok
                regex_options caseless
            }
        }
    }
}
";
    let loaded = parse_str(text, "k.conf", &opts()).expect("loads");
    // A rule's leading `no_track` is acted on now (protocol and tracking):
    // it must be recognised there and so not reported.
    assert_eq!(
        loaded.not_acted_on,
        ["regex_options"],
        "{:?}",
        loaded.warnings
    );
    assert!(
        !loaded
            .warnings
            .iter()
            .any(|w| w.message.contains("'no_track'")),
        "{:?}",
        loaded.warnings
    );
}
