//! BFD configuration (`bfd_instance`, `track_bfd`, `BFD_CHECK`): the model
//! with keepalived 2.2.7's defaults and units, every keepalived check and
//! warning at its `file:line:col`, and each warning compared with what the
//! real keepalived 2.2.7 says (`keepalived -t`) about the same file.

use std::net::IpAddr;

use rkeepalived_config::model::*;
use rkeepalived_config::{parse_str, print, LoadOptions, Loaded};
use rkeepalived_testkit::keepalived_messages::{self, classify, Class};

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("test".to_string()),
    }
}

fn load(text: &str) -> Loaded {
    parse_str(text, "bfd.conf", &opts()).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

const VALID: &str = "\
bfd_instance b1 {
    neighbor_ip 192.0.2.1
    source_ip 192.0.2.2
    min_rx 3.312
    min_tx 20
    idle_tx 2000.5
    multiplier 3
    passive
    ttl 64
    max_hops 2
    weight 20 reverse
}
bfd_instance b6 {
    neighbour_ip 2001:db8::1
    hoplimit 255
    max_hops -1
    vrrp
}
bfd_instance bc {
    neighbor_ip 198.51.100.1
    checker
}
bfd_instance off {
    min_rx 50
    weight -30
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.100
    }
    track_bfd {
        b1
        b6 weight -10
        off weight 5 noreverse
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    virtual_ipaddress {
        192.0.2.101
    }
    track_bfd {
        b6 weight 0
    }
}
vrrp_sync_group G {
    group {
        VI_2
    }
    track_bfd {
        b1 weight 7 reverse
        b6 weight 9
    }
    sync_group_tracking_weight
}
virtual_server 192.0.2.50 80 {
    protocol TCP
    real_server 192.0.2.51 80 {
        BFD_CHECK {
            name bc
            alpha
        }
        BFD_CHECK {
            name b1
        }
    }
}
";

/// Defaults and units as keepalived's `alloc_bfd()` / `bfd_end_handler()`
/// set them: intervals written in ms are kept in us, the TTL follows the
/// family, `max_hops -1` is 255 (no check) then capped at the IPv6 hop
/// limit, `vrrp`/`checker` route the events, a block without a neighbor
/// has no session but keeps its name and weight.
#[test]
fn bfd_instances_have_keepalived_defaults_and_units() {
    let l = load(VALID);
    let c = &l.config;
    assert_eq!(c.bfd_instances.len(), 4);
    let b1 = c.bfd_instance("b1").expect("b1");
    assert_eq!(b1.weight, 20);
    assert!(b1.reverse);
    assert!(b1.vrrp && b1.checker);
    let s = b1.session.as_ref().expect("b1 session");
    assert_eq!(s.neighbor_ip, ip("192.0.2.1"));
    assert_eq!(s.source_ip, Some(ip("192.0.2.2")));
    assert_eq!(s.min_rx_us, 3_312);
    assert_eq!(s.min_tx_us, 20_000);
    assert_eq!(s.idle_tx_us, 2_000_500);
    assert_eq!(s.multiplier, 3);
    assert!(s.passive);
    assert_eq!(s.ttl, 64);
    assert_eq!(s.max_hops, 2);

    let b6 = c.bfd_instance("b6").expect("b6");
    assert!(b6.vrrp && !b6.checker);
    let s6 = b6.session.as_ref().expect("b6 session");
    assert_eq!(s6.min_rx_us, bfd_defaults::MIN_RX_US);
    assert_eq!(s6.min_rx_us, 10_000);
    assert_eq!(s6.min_tx_us, 10_000);
    assert_eq!(s6.idle_tx_us, 1_000_000);
    assert_eq!(s6.multiplier, 5);
    assert!(!s6.passive);
    assert_eq!(s6.ttl, 255);
    assert_eq!(s6.max_hops, 255, "-1 is 255: no TTL check");

    let bc = c.bfd_instance("bc").expect("bc");
    assert!(!bc.vrrp && bc.checker);
    assert_eq!(bc.session.as_ref().map(|s| s.ttl), Some(255));
    assert_eq!(bc.session.as_ref().map(|s| s.max_hops), Some(0));

    let off = c.bfd_instance("off").expect("off");
    assert_eq!(off.session, None);
    assert_eq!(off.weight, -30);

    // The flat list for a BFD engine: sessions only, with their routing.
    let sessions: Vec<(&str, bool, bool)> = c
        .bfd_sessions()
        .iter()
        .map(|s| (s.name, s.to_vrrp, s.to_checker))
        .collect();
    assert_eq!(
        sessions,
        [("b1", true, true), ("b6", true, false), ("bc", false, true)]
    );
}

/// `track_bfd` entries: no weight takes the bfd_instance's weight and
/// reverse, an explicit one its own; sync-group entries reach each member,
/// and a member's own weighted entry takes the group's weight
/// (vrrp/vrrp.c `add_vrrp_to_track_bfd()`), an unweighted one stays 0.
#[test]
fn track_bfd_weights_resolve_like_keepalived() {
    let l = load(VALID);
    let c = &l.config;
    let v1 = c.vrrp_instance("VI_1").expect("VI_1");
    let got: Vec<(&str, i32, bool)> = v1
        .track_bfds
        .iter()
        .map(|t| (t.name.as_str(), t.weight, t.reverse))
        .collect();
    assert_eq!(
        got,
        [("b1", 20, true), ("b6", -10, false), ("off", 5, false)]
    );
    let g = c.vrrp_sync_groups.first().expect("G");
    assert_eq!(g.track_bfds.len(), 2);
    let tracking: Vec<(&str, &str, i32, bool, Option<&str>)> = c
        .vrrp_bfd_tracking()
        .iter()
        .map(|t| (t.instance, t.bfd, t.weight, t.reverse, t.from_sync_group))
        .collect();
    assert_eq!(
        tracking,
        [
            ("VI_1", "b1", 20, true, None),
            ("VI_1", "b6", -10, false, None),
            ("VI_1", "off", 5, false, None),
            ("VI_2", "b6", 0, false, None),
            ("VI_2", "b1", 7, true, Some("G")),
        ]
    );
    // keepalived logs this one when its VRRP process starts.
    assert!(l.warnings.iter().any(|w| w.message.contains(
        "(VI_2) track_bfd b6 is configured on VRRP instance and sync group. Remove vrrp instance config"
    )));
    let checks: Vec<&str> = c.bfd_checks().iter().map(|(_, _, n)| *n).collect();
    assert_eq!(checks, ["bc", "b1"]);
    let rs = &c.virtual_servers[0].real_servers[0];
    assert!(rs.checkers[0].common.alpha, "BFD_CHECK alpha");
}

/// Printed and read back, the configuration is the same (the bfd
/// instances come before the blocks that name them).
#[test]
fn bfd_configuration_round_trips_through_the_printer() {
    let l = load(VALID);
    let text = print(&l.config);
    assert!(text.contains("bfd_instance b1 {"), "{text}");
    assert!(text.contains("    min_rx 3.312\n"), "{text}");
    assert!(text.contains("    hoplimit 255\n"), "{text}");
    assert!(
        text.find("bfd_instance").unwrap_or(usize::MAX) < text.find("vrrp_instance").unwrap_or(0)
    );
    let again = load(&text);
    assert_eq!(again.config, l.config, "{text}");
}

/// The daemon runs the sessions (tests/daemon_bfd.rs): no BFD keyword is
/// reported as not acted on any more.
#[test]
fn bfd_keywords_are_acted_on() {
    let l = load(VALID);
    assert!(l.not_acted_on.is_empty(), "{:?}", l.not_acted_on);
    assert!(
        !l.warnings
            .iter()
            .any(|w| w.message.contains("not acted on")),
        "{:#?}",
        l.warnings
    );
}

/// (configuration, our warning's line:col, our message substring,
/// keepalived 2.2.7's message substring from `keepalived -t`).
fn cases() -> Vec<(String, &'static str, &'static str, &'static str)> {
    let mut cases = session_cases();
    cases.extend(instance_cases());
    cases.extend(track_bfd_cases());
    cases.extend(bfd_check_cases());
    cases
}

/// [`cases`] of the session options inside a `bfd_instance`.
fn session_cases() -> Vec<(String, &'static str, &'static str, &'static str)> {
    let bfd = |body: &str| format!("bfd_instance b {{\n{body}}}\n");
    let nbr = "    neighbor_ip 192.0.2.1\n";
    vec![
        (
            bfd(&format!("{nbr}    min_rx 0\n")),
            "3:12",
            "Configuration error: BFD instance b min_rx value 0 is not valid (must be in range [1-4294967]), ignoring (as keepalived does)",
            "Configuration error: BFD instance b min_rx value 0 is not valid (must be in range [1-4294967]), ignoring",
        ),
        (
            bfd(&format!("{nbr}    min_tx 5x\n")),
            "3:12",
            "BFD instance b min_tx value 5x is not valid (must be in range [1-4294967]), ignoring",
            "Configuration error: BFD instance b min_tx value 5x is not valid (must be in range [1-4294967]), ignoring",
        ),
        (
            bfd(&format!("{nbr}    idle_tx 5\n")),
            "3:13",
            "BFD instance b idle_tx value 5 is not valid (must be in range [1000-4294967]), ignoring",
            "Configuration error: BFD instance b idle_tx value 5 is not valid (must be in range [1000-4294967]), ignoring",
        ),
        (
            bfd(&format!("{nbr}    min_rx 10.1234\n")),
            "3:12",
            "number '10.1234' has too many decimal places; using 10.123 ms",
            "number '10.1234' has too many decimal places",
        ),
        (
            bfd(&format!("{nbr}    multiplier 300\n")),
            "3:16",
            "BFD instance b multiplier value 300 not valid (must be in range [1-255]), ignoring",
            "Configuration error: BFD instance b multiplier value 300 not valid (must be in range [1-255]), ignoring",
        ),
        (
            bfd(&format!("{nbr}    ttl 0\n")),
            "3:9",
            "BFD instance b ttl/hoplimit value 0 not valid (must be in range [1-255]), ignoring",
            "Configuration error: BFD instance b ttl/hoplimit value 0 not valid (must be in range [1-255]), ignoring",
        ),
        (
            bfd(&format!("{nbr}    hoplimit 256\n")),
            "3:14",
            "BFD instance b ttl/hoplimit value 256 not valid (must be in range [1-255]), ignoring",
            "Configuration error: BFD instance b ttl/hoplimit value 256 not valid (must be in range [1-255]), ignoring",
        ),
        (
            bfd(&format!("{nbr}    max_hops -2\n")),
            "3:14",
            "BFD instance b max_hops value -2 not valid (must be in range [-1-255]), ignoring",
            "Configuration error: BFD instance b max_hops value -2 not valid (must be in range [-1-255]), ignoring",
        ),
        (
            bfd("    neighbor_ip 2001:db8::1\n    max_hops 100\n"),
            "1:1",
            "BFD instance b: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit (as keepalived does)",
            "BFD instance b: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit",
        ),
        (
            bfd(&format!("{nbr}    weight 300\n")),
            "3:12",
            "BFD instance b weight value 300 not valid (must be in range [-253-253]), ignoring",
            "Configuration error: BFD instance b weight value 300 not valid (must be in range [-253-253]), ignoring",
        ),
        (
            bfd(&format!("{nbr}    weight 10 sideways\n")),
            "3:15",
            "Configuration error: BFD instance b unknown weight option sideways",
            "Configuration error: BFD instance b unknown weight option sideways",
        ),
    ]
}

/// [`cases`] of whole `bfd_instance` blocks (neighbor, name, duplicates).
fn instance_cases() -> Vec<(String, &'static str, &'static str, &'static str)> {
    let bfd = |body: &str| format!("bfd_instance b {{\n{body}}}\n");
    let nbr = "    neighbor_ip 192.0.2.1\n";
    let long = "abcdefghijabcdefghijabcdefghijabc";
    vec![
        (
            bfd("    min_rx 20\n"),
            "1:1",
            "Configuration error: BFD instance b has no neighbor address set, disabling instance (as keepalived does)",
            "Configuration error: BFD instance b has no neighbor address set, disabling instance",
        ),
        (
            bfd("    neighbor_ip 192.0.2.x\n    min_rx 20\n"),
            "2:17",
            "Configuration error: BFD instance b has malformed neighbor address 192.0.2.x, ignoring instance",
            "Configuration error: BFD instance b has malformed neighbor address 192.0.2.x, ignoring instance",
        ),
        (
            bfd(&format!("{nbr}    source_ip 192.0.2.y\n")),
            "3:15",
            "Configuration error: BFD instance b has malformed source address 192.0.2.y, ignoring",
            "Configuration error: BFD instance b has malformed source address 192.0.2.y, ignoring",
        ),
        // IPv6 link-local with a scope: keepalived's inet_stosockaddr()
        // is inet_pton(), which has no `%scope` (see crates/bfd scope.rs).
        (
            bfd("    neighbor_ip fe80::1%eth0\n    min_rx 20\n"),
            "2:17",
            "Configuration error: BFD instance b has malformed neighbor address fe80::1%eth0, ignoring instance",
            "Configuration error: BFD instance b has malformed neighbor address fe80::1%eth0, ignoring instance",
        ),
        (
            bfd("    neighbor_ip fe80::1\n    source_ip fe80::2%eth0\n"),
            "3:15",
            "Configuration error: BFD instance b has malformed source address fe80::2%eth0, ignoring",
            "Configuration error: BFD instance b has malformed source address fe80::2%eth0, ignoring",
        ),
        (
            // keepalived prints the source address twice (one static
            // buffer); the rest of its message is compared.
            bfd(&format!("{nbr}    source_ip 2001:db8::2\n")),
            "1:1",
            "Configuration error: BFD instance b source address 2001:db8::2 and neighbor address 192.0.2.1 are not of the same family, disabling instance",
            "are not of the same family, disabling instance",
        ),
        (
            format!("{}bfd_instance b {{\n    neighbor_ip 192.0.2.9\n}}\n", bfd(nbr)),
            "4:1",
            "Configuration error: BFD instance b already configured - ignoring",
            "Configuration error: BFD instance b already configured - ignoring",
        ),
        (
            format!("{}bfd_instance c {{\n{nbr}}}\n", bfd(nbr)),
            "4:1",
            "Configuration error: BFD instance c has duplicate neighbor address 192.0.2.1, ignoring instance",
            "Configuration error: BFD instance c has duplicate neighbor address 192.0.2.1, ignoring instance",
        ),
        (
            format!(
                "{}bfd_instance c {{\n{nbr}    source_ip 192.0.2.2\n}}\n",
                bfd(&format!("{nbr}    source_ip 192.0.2.2\n"))
            ),
            "5:1",
            "Configuration error: BFD instance c has duplicate source/neighbor address 192.0.2.2/192.0.2.1, ignoring instance",
            "Configuration error: BFD instance c has duplicate source/neighbor address 192.0.2.2/192.0.2.1, ignoring instance",
        ),
        (
            format!("bfd_instance {long} {{\n{nbr}}}\n"),
            "1:1",
            "name too long (maximum length is 31 characters) - ignoring",
            "name too long (maximum length is 31 characters) - ignoring",
        ),
    ]
}

/// [`cases`] of `track_bfd` in a `vrrp_instance`.
fn track_bfd_cases() -> Vec<(String, &'static str, &'static str, &'static str)> {
    let bfd = |body: &str| format!("bfd_instance b {{\n{body}}}\n");
    let nbr = "    neighbor_ip 192.0.2.1\n";
    let vi = |track: &str| {
        format!(
            "{}vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {{\n        192.0.2.100\n    }}\n    track_bfd {{\n{track}    }}\n}}\n",
            bfd(nbr)
        )
    };
    vec![
        (
            vi("        nope\n"),
            "11:9",
            "(VI_1) track bfd nope not found, ignoring... (as keepalived does)",
            "(VI_1) track bfd nope not found, ignoring...",
        ),
        (
            vi("        b\n        b weight 5\n"),
            "12:9",
            "(VI_1) duplicate track_bfd b - ignoring",
            "(VI_1) duplicate track_bfd b - ignoring",
        ),
        (
            vi("        b wait\n"),
            "11:11",
            "(VI_1) unknown track bfd b option wait - ignoring",
            "(VI_1) unknown track bfd b option wait - ignoring",
        ),
        (
            vi("        b weight\n"),
            "11:11",
            "(VI_1) weight without value specified for track bfd b - ignoring",
            "(VI_1) weight without value specified for track bfd b - ignoring",
        ),
        (
            vi("        b weight -300\n"),
            "11:18",
            "(VI_1) weight for track bfd b must be in [-253..253] inclusive. Ignoring...",
            "(VI_1) weight for track bfd b must be in [-253..253] inclusive. Ignoring...",
        ),
        (
            vi("        b weight 5 sideways\n"),
            "11:20",
            "(VI_1) unknown track bfd b weight option sideways - ignoring",
            "(VI_1) unknown track bfd b weight option sideways - ignoring",
        ),
        (
            // Events of a checker-only instance never reach the VRRP process.
            format!(
                "bfd_instance c {{\n    neighbor_ip 192.0.2.3\n    checker\n}}\n{}",
                vi("        c\n")
            ),
            "15:9",
            "(VI_1) track bfd c not found, ignoring...",
            "(VI_1) track bfd c not found, ignoring...",
        ),
        (
            // Resolved in file order.
            "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.100\n    }\n    track_bfd {\n        b\n    }\n}\nbfd_instance b {\n    neighbor_ip 192.0.2.1\n}\n".to_string(),
            "8:9",
            "(VI_1) track bfd b not found, ignoring...",
            "(VI_1) track bfd b not found, ignoring...",
        ),
        (
            format!(
                "{}vrrp_sync_group G {{\n    group {{\n        VI_1\n    }}\n    track_bfd {{\n        nope\n    }}\n}}\n",
                vi("        b\n")
            ),
            "19:9",
            "(G) track bfd nope not found, ignoring...",
            "(G) track bfd nope not found, ignoring...",
        ),
        (
            vi("        b weight 10\n").replace("virtual_router_id 51\n", "virtual_router_id 51\n    priority 255\n"),
            "4:1",
            "ignoring tracked bfd b with weight 10 due to address owner (as keepalived does)",
            "(VI_1) ignoring tracked bfd b with weight 10 due to address_owner",
        ),
        (
            format!(
                "{}vrrp_sync_group G {{\n    group {{\n        VI_1\n    }}\n}}\n",
                vi("        b weight 10\n")
            ),
            "4:1",
            "ignoring tracked bfd b with weight 10 due to its sync group (as keepalived does)",
            "(VI_1) ignoring tracked bfd b with weight 10 due to SYNC group",
        ),
        (
            format!(
                "{}vrrp_sync_group G {{\n    group {{\n        VI_1\n    }}\n    track_bfd {{\n        b weight 7\n    }}\n}}\n",
                vi("        b weight 0\n")
                    .replace("virtual_router_id 51\n", "virtual_router_id 51\n    priority 255\n")
            ),
            "15:1",
            "(G) Cannot have weighted track bfd 'b' with member having priority 255 - setting weight 0 (as keepalived does)",
            "(G) Cannot have weighted track bfd 'b' with member having priority 255 - setting weight 0",
        ),
    ]
}

/// [`cases`] of `BFD_CHECK` on a real server.
fn bfd_check_cases() -> Vec<(String, &'static str, &'static str, &'static str)> {
    let bfd = |body: &str| format!("bfd_instance b {{\n{body}}}\n");
    let nbr = "    neighbor_ip 192.0.2.1\n";
    let rs = |pre: &str, checks: &str| {
        format!(
            "{pre}virtual_server 192.0.2.50 80 {{\n    protocol TCP\n    real_server 192.0.2.51 80 {{\n{checks}    }}\n}}\n"
        )
    };
    let long = "abcdefghijabcdefghijabcdefghijabc";
    vec![
        (
            rs(&bfd(nbr), "        BFD_CHECK {\n            name nope\n        }\n"),
            "8:13",
            "BFD_CHECK - BFD nope not configured; ignoring this checker (as keepalived does)",
            "([192.0.2.51]:tcp:80) BFD_CHECK - BFD nope not configured",
        ),
        (
            rs(&bfd(nbr), "        BFD_CHECK {\n        }\n"),
            "7:9",
            "BFD_CHECK: No name has been specified for BFD_CHECKER - ignoring this checker (as keepalived does)",
            "([192.0.2.51]:tcp:80) No name has been specified for BFD_CHECKER - skipping",
        ),
        (
            rs(&bfd(nbr), "        BFD_CHECK {\n            name b b\n        }\n"),
            "8:13",
            "BFD_CHECK - No or too many names specified - skipping checker",
            "([192.0.2.51]:tcp:80) BFD_CHECK - No or too many names specified - skipping checker",
        ),
        (
            rs(
                &format!("{}bfd_instance c {{\n    neighbor_ip 192.0.2.3\n}}\n", bfd(nbr)),
                "        BFD_CHECK {\n            name b\n            name c\n        }\n",
            ),
            "12:13",
            "BFD_CHECK - BFD c already specified as b",
            "([192.0.2.51]:tcp:80) BFD_CHECK - BFD c already specified as b",
        ),
        (
            rs(
                &bfd(nbr),
                "        BFD_CHECK {\n            name b\n        }\n        BFD_CHECK {\n            name b\n        }\n",
            ),
            "11:13",
            "BFD_CHECK - RS already monitoring b",
            "([192.0.2.51]:tcp:80) BFD_CHECK - RS already monitoring b",
        ),
        (
            rs(
                "bfd_instance v {\n    neighbor_ip 192.0.2.3\n    vrrp\n}\n",
                "        BFD_CHECK {\n            name v\n        }\n",
            ),
            "9:13",
            "BFD_CHECK - BFD v not configured",
            "([192.0.2.51]:tcp:80) BFD_CHECK - BFD v not configured",
        ),
        (
            rs(
                &format!("bfd_instance {long} {{\n{nbr}}}\n"),
                &format!("        BFD_CHECK {{\n            name {long}\n        }}\n"),
            ),
            "8:13",
            "BFD_CHECK - BFD name abcdefghijabcdefghijabcdefghijabc too long",
            "([192.0.2.51]:tcp:80) BFD_CHECK - BFD name abcdefghijabcdefghijabcdefghijabc too long",
        ),
    ]
}

/// Every keepalived check, at the line and column of what it is about.
#[test]
fn bfd_warnings_have_keepalived_wording_and_positions() {
    let mut failures = Vec::new();
    for (i, (text, at, ours, _)) in cases().into_iter().enumerate() {
        let l = match parse_str(&text, "bfd.conf", &opts()) {
            Ok(l) => l,
            Err(e) => {
                failures.push(format!("case {i}: failed: {e}\n{text}"));
                continue;
            }
        };
        let hit = l
            .warnings
            .iter()
            .any(|d| format!("{}:{}", d.line, d.col) == at && d.message.contains(ours));
        if !hit {
            let got: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
            failures.push(format!(
                "case {i}: expected {at} '{ours}', got:\n{}\n---\n{text}",
                got.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// keepalived's BFD process options (core/global_parser.c
/// `bfd_prio_handler()` ...), read as the VRRP and checker ones.
#[test]
fn bfd_process_options_are_read_like_the_other_processes() {
    let l = load("global_defs {\n    bfd_priority -5\n    bfd_rt_priority 50\n    bfd_no_swap\n    bfd_cpu_affinity 0 1\n    bfd_rlimit_rtime 1\n}\n");
    let p = &l.config.global_defs.bfd_process;
    assert_eq!(p.priority, Some(-5));
    assert_eq!(p.rt_priority, Some(50));
    assert!(p.no_swap);
    assert_eq!(p.cpu_affinity, [0, 1]);
    assert_eq!(p.rlimit_rttime, Some(2), "keepalived's minimum");
    assert_eq!(l.config.global_defs.vrrp_process, ProcessOptions::default());
    let again = load(&print(&l.config));
    assert_eq!(again.config, l.config);
}

/// What each broken case leaves, as keepalived leaves it.
#[test]
fn bad_values_leave_keepalived_defaults() {
    let c = load("bfd_instance b {\n    neighbor_ip 192.0.2.1\n    min_rx 0\n    min_tx 5x\n    idle_tx 5\n    multiplier 300\n    ttl 0\n    max_hops 300\n    min_rx 10.1235\n}\n").config;
    let s = c.bfd_instances[0].session.clone().expect("session");
    assert_eq!(s.min_rx_us, 10_124, "rounded on the 4th decimal");
    assert_eq!(s.min_tx_us, 10_000);
    assert_eq!(s.idle_tx_us, 1_000_000);
    assert_eq!(s.multiplier, 5);
    assert_eq!(s.ttl, 255);
    assert_eq!(s.max_hops, 0);
    let c = load("bfd_instance b {\n    neighbor_ip 2001:db8::1\n}\n").config;
    let s = c.bfd_instances[0].session.clone().expect("session");
    assert_eq!((s.ttl, s.max_hops), (64, 0), "IPv6 hop limit default");
    // A malformed neighbor disables the session but the VRRP process
    // still reads the weight after it.
    let c = load("bfd_instance b {\n    neighbor_ip nope\n    weight 9\n}\n").config;
    assert_eq!(c.bfd_instances[0].session, None);
    assert_eq!(c.bfd_instances[0].weight, 9);
    // Dropped checkers are gone; the real server keeps the good one.
    let text = cases()
        .into_iter()
        .find(|(_, _, o, _)| o.contains("RS already monitoring"))
        .map(|(t, ..)| t)
        .expect("case");
    let c = load(&text).config;
    assert_eq!(c.virtual_servers[0].real_servers[0].checkers.len(), 1);
}

/// Differential: keepalived 2.2.7 (`keepalived -t`) prints its message for
/// each case above.
#[test]
fn keepalived_reports_the_same_bfd_problems() {
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Keepalived]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("rk-bfd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let _cleanup = Cleanup(dir.clone());
    let mut disagreements = Vec::new();
    for (i, (text, _, ours, theirs)) in cases().into_iter().enumerate() {
        let path = dir.join(format!("case{i}.conf"));
        std::fs::write(&path, &text).expect("write");
        let out = std::process::Command::new("/usr/sbin/keepalived")
            .args(["-t", "-l", "-f"])
            .arg(&path)
            .output()
            .expect("run keepalived -t");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !stderr.contains(theirs) {
            disagreements.push(format!(
                "case {i}: ours: {ours}\nkeepalived should say: {theirs}\nkeepalived said:\n{stderr}\nconfig:\n{text}"
            ));
        }
        // Every BFD message is one the shared table knows as a fix-up
        // (keepalived runs the rest), as the corpus and round-trip
        // comparisons need.
        for (_, msg) in keepalived_messages::parse(&stderr) {
            let bfd = msg.to_ascii_lowercase().contains("bfd") || msg.contains("decimal places");
            if bfd && classify(&msg) != Some(Class::FixedUpAndRuns) {
                disagreements.push(format!(
                    "case {i}: keepalived message not classified as a fix-up in crates/testkit/src/keepalived_messages.rs: {msg}"
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{}",
        disagreements.join("\n---\n")
    );
}

/// The valid configuration is accepted by keepalived 2.2.7 without any
/// BFD complaint, as written and as printed by us.
#[test]
fn keepalived_accepts_the_valid_bfd_configuration() {
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Keepalived]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("rk-bfd-ok-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let _cleanup = Cleanup(dir.clone());
    let printed = print(&load(VALID).config);
    for (name, text) in [("valid.conf", VALID), ("printed.conf", printed.as_str())] {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        let out = std::process::Command::new("/usr/sbin/keepalived")
            .args(["-t", "-l", "-f"])
            .arg(&path)
            .output()
            .expect("run keepalived -t");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let bfd_lines: Vec<&str> = stderr
            .lines()
            .filter(|l| {
                let l = l.to_ascii_lowercase();
                (l.contains("bfd") && !l.contains("no neighbor address set"))
                    || l.contains("decimal places")
            })
            .collect();
        // `off` has no neighbor on purpose: that one message is expected.
        assert!(
            bfd_lines.is_empty(),
            "{name}: keepalived complains:\n{}\n---\n{text}",
            bfd_lines.join("\n")
        );
        assert!(
            stderr.contains("BFD instance off has no neighbor address set"),
            "{name}: {stderr}"
        );
    }
}

/// IPv6 link-local neighbor and source addresses without a scope are
/// what keepalived 2.2.7 accepts (`keepalived -t` says nothing about
/// them); they keep the IPv6 defaults, and the engine finds their
/// interface (crates/bfd/src/scope.rs).
const LINK_LOCAL: &str = "\
bfd_instance ll {
    neighbor_ip fe80::2
    source_ip fe80::1
    min_rx 100
    min_tx 100
    multiplier 3
}
bfd_instance llnosrc {
    neighbour_ip fe80::3
}
";

#[test]
fn link_local_addresses_are_read_as_keepalived_reads_them() {
    let l = load(LINK_LOCAL);
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let s = l.config.bfd_instances[0].session.clone().expect("session");
    assert_eq!(s.neighbor_ip, ip("fe80::2"));
    assert_eq!(s.source_ip, Some(ip("fe80::1")));
    assert_eq!((s.ttl, s.max_hops), (64, 0), "keepalived's IPv6 defaults");
    let s = l.config.bfd_instances[1].session.clone().expect("session");
    assert_eq!((s.neighbor_ip, s.source_ip), (ip("fe80::3"), None));
    let again = load(&print(&l.config));
    assert_eq!(again.config, l.config);
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Keepalived]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("rk-bfd-ll-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let _cleanup = Cleanup(dir.clone());
    let path = dir.join("ll.conf");
    std::fs::write(&path, LINK_LOCAL).expect("write");
    let out = std::process::Command::new("/usr/sbin/keepalived")
        .args(["-t", "-l", "-f"])
        .arg(&path)
        .output()
        .expect("run keepalived -t");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.to_ascii_lowercase().contains("bfd"),
        "keepalived complains:\n{stderr}"
    );
}

struct Cleanup(std::path::PathBuf);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
