//! Broken configurations fail with an actionable `file:line:col: message`;
//! keepalived-style fix-ups produce positioned warnings.

use rkeepalived_config::{parse_str, ConfigError, LoadOptions};

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("test".to_string()),
    }
}

const INSTANCE_HEAD: &str = "vrrp_instance VI_1 {\n    interface eth0\n";

/// (config, expected "line:col", message substring)
fn error_cases() -> Vec<(String, &'static str, &'static str)> {
    let inst = |body: &str| format!("{INSTANCE_HEAD}{body}}}\n");
    vec![
        (
            "vrrp_instance VI_1 {\n    interface eth0\n".into(),
            "1:20",
            "unclosed '{'",
        ),
        ("global_defs {\n}\n}\n".into(), "3:1", "unexpected '}'"),
        ("{\n}\n".into(), "1:1", "unexpected '{'"),
        (inst("    virtual_router_id 0\n"), "3:23", "value 0 out of range 1..255"),
        (inst("    virtual_router_id 256\n"), "3:23", "value 256 out of range 1..255"),
        (inst("    virtual_router_id 5x\n"), "3:23", "invalid number '5x'"),
        (inst("    virtual_router_id 0x33\n"), "3:23", "invalid number '0x33' (keepalived reads a decimal"),
        (inst("    priority 100\n"), "1:1", "has no 'virtual_router_id'"),
        (
            "vrrp_instance VI_1 extra {\n    interface eth0\n    virtual_router_id 51\n}\n".into(),
            "1:20",
            "vrrp_instance must have a name (one word)",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n}}\n{INSTANCE_HEAD}    virtual_router_id 52\n}}\n"),
            "5:1",
            "vrrp_instance 'VI_1' defined twice",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n}}\nvrrp_instance VI_2 {{\n    interface eth0\n    virtual_router_id 51\n}}\n"),
            "5:1",
            "virtual_router_id 51 on interface eth0 is already used by vrrp_instance 'VI_1'",
        ),
        // LVS values keepalived ignores or reads leniently are fix-ups
        // now (tests/fixups_lvs.rs); an unreadable virtual server address
        // loses the virtual server, and an HTTP_GET without url crashes
        // keepalived's checker process.
        (
            "virtual_server 192.0.2.100 80 {\n    real_server 192.0.2.11 80 {\n        HTTP_GET {\n            connect_timeout 3\n        }\n    }\n}\n".into(),
            "3:9",
            "HTTP_GET needs at least one 'url",
        ),
        (
            "virtual_server 192.0.2.300 80 {\n    protocol TCP\n    real_server 192.0.2.2 80 {\n    }\n}\n".into(),
            "1:16",
            "invalid IP address '192.0.2.300'",
        ),
        ("virtual_server 192.0.2.100 80\n".into(), "1:1", "needs a '{ ... }' block"),
        (
            "global_defs {\n    metrics_listen localhost\n}\n".into(),
            "2:20",
            "invalid socket address 'localhost'",
        ),
        (
            "global_defs {\n    metrics_serve_status maybe\n}\n".into(),
            "2:26",
            "invalid boolean 'maybe'",
        ),
        ("~SEQ(i, 1, 0, 5) x\n".into(), "1:1", "~SEQ: step does not reach"),
    ]
}

#[test]
fn broken_configs_report_exact_positions() {
    let mut failures = Vec::new();
    for (i, (text, at, needle)) in error_cases().into_iter().enumerate() {
        match parse_str(&text, "broken.conf", &opts()) {
            Ok(_) => failures.push(format!(
                "case {i}: loaded, expected error {at} {needle}\n{text}"
            )),
            Err(e) => {
                let hit = e
                    .diagnostics()
                    .iter()
                    .any(|d| format!("{}:{}", d.line, d.col) == at && d.message.contains(needle));
                let display = e.to_string();
                if !hit || !display.starts_with("broken.conf:") {
                    failures.push(format!(
                        "case {i}: expected {at} '{needle}', got:\n{display}\n---\n{text}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn error_kinds_are_grouped() {
    let read = rkeepalived_config::load(
        std::path::Path::new("/nonexistent-rkeepalived/x.conf"),
        &opts(),
    );
    assert!(matches!(read, Err(ConfigError::Read(_))));
    let syntax = parse_str("global_defs {\n", "a.conf", &opts());
    assert!(matches!(syntax, Err(ConfigError::Syntax(_))));
    let semantic = parse_str(
                "virtual_server 192.0.2.1 80 {\n    protocol TCP\n    real_server 192.0.2.2 80 {\n    }\n}\nvirtual_server 192.0.2.1 80 {\n    protocol TCP\n    real_server 192.0.2.3 80 {\n    }\n}\n",
        "a.conf",
        &opts(),
    );
    assert!(
        matches!(semantic, Err(ConfigError::Semantic(_))),
        "{semantic:?}"
    );
}

#[test]
fn all_errors_are_reported_not_just_the_first() {
    let text = format!(
        "{INSTANCE_HEAD}    virtual_router_id 0\n}}\nvrrp_instance VI_2 {{\n    virtual_router_id 5x\n}}\n"
    );
    let e = parse_str(&text, "a.conf", &opts()).unwrap_err();
    assert_eq!(e.diagnostics().len(), 2, "{e}");
}

/// (config, expected "line:col", warning substring) — keepalived warns and
/// carries on for these; so do we.
fn warning_cases() -> Vec<(String, &'static str, &'static str)> {
    vec![
        ("global_defs {\n    frobnicate 1 {\n        x\n    }\n}\n".into(), "2:5", "unknown keyword 'frobnicate' in global_defs"),
                        ("bogus_top\n".into(), "1:1", "unknown keyword 'bogus_top' in the top level"),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    priorty 100\n}}\n"),
            "4:5",
            "unknown keyword 'priorty' in vrrp_instance; ignored (did you mean 'priority'?)",
        ),
        (
            "global_defs {\n    lvs_sync_daemon eth1 VI_NOPE\n}\n".into(),
            "2:5",
            "Unable to find vrrp instance VI_NOPE for lvs_syncd - clearing lvs_syncd config",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    track_script {{\n        nosuch\n    }}\n}}\n"),
            "5:9",
            "track_script 'nosuch' is not a defined vrrp_script",
        ),
        (
            format!("vrrp_sync_group G {{\n    group {{\n        VI_1 VI_X\n    }}\n}}\n{INSTANCE_HEAD}    virtual_router_id 51\n}}\n"),
            "1:1",
            "vrrp_instance 'VI_X' does not exist",
        ),
                (
            "virtual_server group NOPE {\n    lb_algo rr\n    real_server 192.0.2.2 80 {\n    }\n}\n".into(),
            "1:1",
            "no virtual_server_group of that name",
        ),
        (
            "virtual_server 192.0.2.100 {\n    protocol TCP\n    real_server 192.0.2.2 {\n    }\n}\n".into(),
            "1:1",
            "zero port is only valid for persistent services; setting persistence_timeout 360",
        ),
        (
            "virtual_server 192.0.2.100 80 {\n    real_server 192.0.2.2 80 {\n    }\n}\n".into(),
            "1:1",
            "no protocol set; defaulting to UDP (as keepalived does)",
        ),
        ("virtual_server 192.0.2.100 80 {\n    protocol TCP\n}\n".into(), "1:1", "has no real servers; ignoring it"),
        (
            "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    lb_kind DR\n    quorum 5\n    real_server 192.0.2.2 8080 {\n    }\n}\n".into(),
            "1:1",
            "port differs from the virtual server's",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    unicast_src_ip 192.0.2.1\n    unicast_peer {{\n        2001:db8::2\n    }}\n}}\n"),
            "1:1",
            "unicast_peer 2001:db8::2 is not the instance's address family",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    advert_int 0.5\n}}\n"),
            "4:16",
            "version 2 advert_int must be a whole number of seconds; using 1s",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    state MASTER\n    priority 150\n    nopreempt\n}}\n"),
            "1:1",
            "nopreempt will not work with initial state MASTER",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    authentication {{\n        auth_type PASS\n        auth_pass 123456789\n    }}\n}}\n"),
            "6:19",
            "truncating",
        ),
        ("include /nonexistent-rkeepalived/*.conf\n".into(), "1:9", "matches no file"),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    state MASTR\n}}\n"),
            "4:11",
            "unknown state 'MASTR', defaulting to BACKUP (as keepalived does)",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    priority 0\n}}\n"),
            "4:14",
            "'0' not valid! must be between 1 & 255. Using default 100 (as keepalived does)",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    advert_int 300\n}}\n"),
            "4:16",
            "Advert interval (300) not valid!",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    authentication {{\n        auth_type MD5\n        auth_pass x\n    }}\n}}\n"),
            "5:19",
            "unknown authentication type 'MD5'; ignoring it (as keepalived does",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    unicast_peer {{\n        192.0.2.x\n    }}\n}}\n"),
            "5:9",
            "malformed unicast peer address [192.0.2.x]; skipping it (as keepalived does)",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    virtual_ipaddress {{\n        192.0.2.300/24\n        192.0.2.10\n    }}\n}}\n"),
            "5:9",
            "VRRP parsed invalid IP 192.0.2.300/24; skipping address",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    virtual_ipaddress {{\n        192.0.2.1/33\n    }}\n}}\n"),
            "5:9",
            "Invalid address prefix len 33 for address 192.0.2.1/33 - using 32 (as keepalived does)",
        ),
        // BFD: every case is in tests/bfd.rs; one of each kind here.
        (
            "bfd_instance b {\n    neighbor_ip 192.0.2.1\n    min_rx 0\n}\n".into(),
            "3:12",
            "BFD instance b min_rx value 0 is not valid (must be in range [1-4294967]), ignoring (as keepalived does)",
        ),
        (
            format!("{INSTANCE_HEAD}    virtual_router_id 51\n    track_bfd {{\n        nosuch\n    }}\n}}\n"),
            "5:9",
            "(VI_1) track bfd nosuch not found, ignoring... (as keepalived does)",
        ),
    ]
}

#[test]
fn keepalived_style_fixups_warn_with_positions() {
    let mut failures = Vec::new();
    for (i, (text, at, needle)) in warning_cases().into_iter().enumerate() {
        match parse_str(&text, "warn.conf", &opts()) {
            Err(e) => failures.push(format!("case {i}: failed: {e}\n{text}")),
            Ok(l) => {
                let hit = l
                    .warnings
                    .iter()
                    .any(|d| format!("{}:{}", d.line, d.col) == at && d.message.contains(needle));
                if !hit {
                    let got: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
                    failures.push(format!(
                        "case {i}: expected {at} '{needle}', got:\n{}\n---\n{text}",
                        got.join("\n")
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn fixups_change_the_config_as_keepalived_does() {
    let text = format!(
        "{INSTANCE_HEAD}    virtual_router_id 51\n    advert_int 0.5\n    state MASTER\n    priority 150\n    nopreempt\n    authentication {{\n        auth_type PASS\n        auth_pass 123456789\n    }}\n}}\n"
    );
    let l = parse_str(&text, "a.conf", &opts()).expect("loads");
    let v = &l.config.vrrp_instances[0];
    assert_eq!(v.advert_int, std::time::Duration::from_secs(1));
    assert!(!v.nopreempt);
    assert_eq!(
        v.authentication.as_ref().map(|a| a.auth_pass.as_str()),
        Some("12345678")
    );
}

fn instance(body: &str) -> rkeepalived_config::model::VrrpInstance {
    let text = format!(
        "vrrp_script s {{\n    script /bin/true\n    weight 10\n}}\nvrrp_track_file f {{\n    file /tmp/f\n}}\n{INSTANCE_HEAD}    virtual_router_id 51\n    virtual_ipaddress {{\n        192.0.2.1\n    }}\n{body}}}\n"
    );
    let l = parse_str(&text, "i.conf", &opts()).unwrap_or_else(|e| panic!("{e}"));
    l.config.vrrp_instances[0].clone()
}

#[test]
fn priority_and_state_derive_from_each_other_like_keepalived() {
    use rkeepalived_config::model::InitialState::*;
    let v = instance("    state MASTER\n");
    assert_eq!(
        (v.state, v.priority),
        (Master, 255),
        "MASTER without priority is the address owner"
    );
    let v = instance("    priority 255\n");
    assert_eq!(
        (v.state, v.priority),
        (Master, 255),
        "priority 255 without state starts MASTER"
    );
    let v = instance("");
    assert_eq!((v.state, v.priority), (Backup, 100));
    let v = instance("    state MASTER\n    priority 150\n");
    assert_eq!((v.state, v.priority), (Master, 150));
}

#[test]
fn strict_mode_fixups_like_keepalived() {
    use rkeepalived_config::model::InitialState::*;
    let v = instance("    strict_mode\n    state MASTER\n    priority 150\n    garp_lower_prio_repeat 3\n    preempt_delay 5\n");
    assert_eq!(v.state, Backup, "strict: MASTER only for the address owner");
    assert!(!v.accept, "strict v2: no accept");
    assert_eq!(v.garp_lower_prio_repeat, 0);
    assert!(v.lower_prio_no_advert && !v.higher_prio_send_advert);
    assert_eq!(v.preempt_delay, std::time::Duration::ZERO);
    let e = parse_str(
        &format!("{INSTANCE_HEAD}    virtual_router_id 51\n    strict_mode\n    virtual_ipaddress {{\n        192.0.2.1\n    }}\n    unicast_peer {{\n        192.0.2.2\n    }}\n}}\n"),
        "s.conf",
        &opts(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("unicast peers are not supported in strict mode"),
        "{e}"
    );
    let e = parse_str(
        &format!("{INSTANCE_HEAD}    virtual_router_id 51\n    version 3\n}}\n"),
        "s.conf",
        &opts(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no virtual_ipaddress"), "{e}");
}

#[test]
fn address_owner_and_sync_groups_ignore_weighted_tracking() {
    let v = instance("    priority 255\n    track_script {\n        s\n    }\n    track_file {\n        f\n    }\n    track_interface {\n        eth1 weight 5\n        eth2\n    }\n");
    assert!(
        v.track_scripts.is_empty(),
        "weighted script dropped for the owner"
    );
    assert_eq!(v.track_files.len(), 1);
    assert_eq!(
        v.track_files[0].weight, 0,
        "default file weight 1 becomes 0"
    );
    let names: Vec<&str> = v.track_interfaces.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["eth2"]);

    let text = format!(
        "vrrp_script s {{\n    script /bin/true\n    weight 10\n}}\nvrrp_script t {{\n    script /bin/true\n    weight 10\n}}\nvrrp_sync_group G {{\n    group {{\n        VI_1\n    }}\n}}\n{INSTANCE_HEAD}    virtual_router_id 51\n    track_script {{\n        s\n        t weight 0\n    }}\n    track_interface {{\n        eth1 weight 5\n    }}\n}}\n"
    );
    let l = parse_str(&text, "g.conf", &opts()).expect("loads");
    let v = &l.config.vrrp_instances[0];
    assert_eq!(
        v.track_scripts.len(),
        1,
        "only the unweighted script is kept"
    );
    assert_eq!(
        v.track_interfaces[0].weight, 0,
        "sync group: interface weight set to 0"
    );
    assert!(l
        .warnings
        .iter()
        .any(|w| w.message.contains("sync_group_tracking_weight")));
}

/// keepalived 2.2.7 vrrp_parser.c vrrp_gglobal_tracking_handler(): the
/// deprecated `global_tracking` keeps the members' tracking weights exactly
/// like `sync_group_tracking_weight`, with a deprecation warning.
#[test]
fn global_tracking_keeps_sync_group_members_weights() {
    let text = format!(
        "vrrp_script s {{\n    script /bin/true\n    weight 10\n}}\nvrrp_sync_group G {{\n    group {{\n        VI_1\n    }}\n    global_tracking\n}}\n{INSTANCE_HEAD}    virtual_router_id 51\n    track_script {{\n        s\n    }}\n    track_interface {{\n        eth1 weight 5\n    }}\n}}\n"
    );
    let l = parse_str(&text, "g.conf", &opts()).expect("loads");
    let g = &l.config.vrrp_sync_groups[0];
    assert!(g.global_tracking && g.sync_group_tracking_weight);
    let v = &l.config.vrrp_instances[0];
    assert_eq!(v.track_scripts.len(), 1, "weighted script kept");
    assert_eq!(v.track_interfaces[0].weight, 5, "interface weight kept");
    assert!(l.warnings.iter().any(|w| w.message
        == "(G) global_tracking is deprecated. Use track_interface/script/file on the sync group"));
}

#[test]
fn no_follow_on_errors_after_a_reported_one() {
    for text in [
        format!("{INSTANCE_HEAD}    virtual_router_id 300\n}}\n"),
        "vrrp_script s {\n    script /bin/true\n    user\n}\n".to_string(),
        "virtual_server 192.0.2.1 80 {\n    real_server 192.0.2.2 80 {\n        HTTP_GET {\n            url {\n                path\n            }\n        }\n    }\n}\n".to_string(),
    ] {
        let e = parse_str(&text, "a.conf", &opts()).unwrap_err();
        assert_eq!(e.diagnostics().len(), 1, "{e}");
    }
}

#[test]
fn lvs_fixups_change_the_config_as_keepalived_does() {
    let text = "virtual_server 192.0.2.100 80 {\n    lb_kind DR\n    quorum 5\n    hysteresis 9\n    real_server 192.0.2.2 8080 {\n        weight 2\n    }\n    real_server 192.0.2.3 {\n        lb_kind NAT\n    }\n}\nvirtual_server fwmark 7 {\n    protocol UDP\n    ha_suspend\n    lb_kind DR\n    real_server 192.0.2.4 80 {\n    }\n}\n";
    let c = parse_str(text, "a.conf", &opts()).expect("loads").config;
    let vs = &c.virtual_servers[0];
    assert_eq!(
        vs.protocol,
        rkeepalived_config::model::Protocol::Udp,
        "keepalived's default"
    );
    assert_eq!(
        vs.real_servers[0].port,
        Some(80),
        "DR real servers use the VS port"
    );
    assert_eq!(
        vs.real_servers[1].port,
        Some(80),
        "NAT real server without port gets the VS port"
    );
    assert_eq!(vs.quorum, 3, "quorum reduced to the total weight");
    assert_eq!(vs.hysteresis, 2, "hysteresis below quorum");
    let fw = &c.virtual_servers[1];
    assert!(!fw.ha_suspend);
    assert_eq!(
        fw.real_servers[0].port, None,
        "fwmark DR real servers have no port"
    );
}

/// Found by the print_round_trip fuzzer: quorum reduced to a total weight of
/// 0 must print to something that parses back the same.
#[test]
fn quorum_zero_after_fixup_round_trips() {
    let text = "virtual_server 192.0.2.1 80 {\n    protocol TCP\n    real_server 192.0.2.2 80 {\n        weight 0\n    }\n}\n";
    let first = parse_str(text, "a.conf", &opts()).expect("loads").config;
    assert_eq!(first.virtual_servers[0].quorum, 0);
    let printed = rkeepalived_config::print(&first);
    let again = parse_str(&printed, "b.conf", &opts())
        .expect("printed loads")
        .config;
    assert_eq!(first, again);
}

/// What keepalived 2.2.7's `keepalived -t -l` prints for each case above
/// (keyed by our message needle): the differential tests below look for this
/// specific line, so an unrelated complaint (a missing interface, "No VIP
/// specified") never counts as agreement. Captured from keepalived 2.2.7.
fn keepalived_says(needle: &str) -> Option<&'static str> {
    Some(match needle {
        // errors
        "unclosed '{'" => "missing '}'s or extra '{'s",
        "unexpected '}'" => "Extra '}' found",
        "unexpected '{'" => "Unexpected '{' - ignoring",
        // keepalived's read_unsigned range message for VRID 0.
        "value 0 out of range 1..255" => "number '0' outside range [1, 255]",
        "value 256 out of range 1..255" => "VRID '256' not valid",
        "invalid number '5x'" => "VRID '5x' not valid",
        "invalid number '0x33' (keepalived reads a decimal" => "VRID '0x33' not valid",
        "has no 'virtual_router_id'" => "the virtual router id must be set",
        "unknown type 'MD5'" => "unknown authentication type 'MD5'",
        "HTTP_GET needs at least one 'url" => "checker has no urls specified",
        "invalid IP address '192.0.2.300'" => {
            "Invalid virtual server IP address/port 192.0.2.300/80 - skipping"
        }
        "invalid IP address '192.0.2.x'" => "malformed unicast peer address[192.0.2.x]",
        "vrrp_instance must have a name (one word)" => "vrrp_instance must have a name",
        "vrrp_instance 'VI_1' defined twice" => "vrrp instance VI_1 already defined",
        "virtual_router_id 51 on interface eth0 is already used by vrrp_instance 'VI_1'" => {
            "both use VRID 51 with IPv4 on interface eth0"
        }
        // A virtual_server line without its block: keepalived drops the
        // service as having no real servers.
        "needs a '{ ... }' block" => "[192.0.2.100]:none:80 has no real servers - ignoring",
        "invalid boolean 'maybe'" => "Invalid value 'maybe' for global smtp_alert",
        "~SEQ: step does not reach" => "Invalid ~SEQ values",
        // warnings
        "unknown keyword 'frobnicate' in global_defs" => "Unknown keyword 'frobnicate'",
        "unknown keyword 'bogus_top' in the top level" => "Unknown keyword 'bogus_top'",
        "unknown keyword 'priorty' in vrrp_instance; ignored (did you mean 'priority'?)" => {
            "Unknown keyword 'priorty'"
        }
        "track_script 'nosuch' is not a defined vrrp_script" => "track script nosuch not found",
        "vrrp_instance 'VI_X' does not exist" => {
            "Virtual router VI_X specified in sync group G doesn't exist"
        }
        "zero port is only valid for persistent services; setting persistence_timeout 360" => {
            "zero port only valid for persistent services"
        }
        "no protocol set; defaulting to UDP (as keepalived does)" => {
            "no protocol set - defaulting to UDP"
        }
        "has no real servers; ignoring it" => "has no real servers - ignoring",
        "port differs from the virtual server's" => "ports don't match - resetting",
        "unicast_peer 2001:db8::2 is not the instance's address family" => {
            "unicast peer address[2001:db8::2] MUST be of the same family"
        }
        "version 2 advert_int must be a whole number of seconds; using 1s" => {
            "advertisement interval 0.500000s must be an integer. rounding"
        }
        "nopreempt will not work with initial state MASTER" => {
            "nopreempt will not work with initial state MASTER - clearing"
        }
        "truncating" => "Truncating auth_pass to 8 characters",
        "matches no file" => "Config files missing '/nonexistent-rkeepalived/*.conf'",
        "unknown state 'MASTR', defaulting to BACKUP (as keepalived does)" => {
            "(VI_1) unknown state 'MASTR', defaulting to BACKUP"
        }
        "'0' not valid! must be between 1 & 255. Using default 100 (as keepalived does)" => {
            "(VI_1) Priority not valid! must be between 1 & 255. Using default 100"
        }
        "Advert interval (300) not valid!" => "(VI_1) Advert interval (300) not valid!",
        "unknown authentication type 'MD5'; ignoring it (as keepalived does" => {
            "(VI_1) unknown authentication type 'MD5'"
        }
        "malformed unicast peer address [192.0.2.x]; skipping it (as keepalived does)" => {
            "malformed unicast peer address[192.0.2.x]. Skipping..."
        }
        "VRRP parsed invalid IP 192.0.2.300/24; skipping address" => {
            "VRRP parsed invalid IP 192.0.2.300/24. skipping IP..."
        }
        "Invalid address prefix len 33 for address 192.0.2.1/33 - using 32 (as keepalived does)" => {
            "Invalid address prefix len 33 for address 192.0.2.1/33 - using 32"
        }
        "BFD instance b min_rx value 0 is not valid (must be in range [1-4294967]), ignoring (as keepalived does)" => {
            "Configuration error: BFD instance b min_rx value 0 is not valid (must be in range [1-4294967]), ignoring"
        }
        "(VI_1) track bfd nosuch not found, ignoring... (as keepalived does)" => {
            "(VI_1) track bfd nosuch not found, ignoring..."
        }
        _ => return None,
    })
}

/// Our cases keepalived cannot judge: its output names a different problem.
/// Each is a deliberate difference listed in crates/config/README.md.
const NOT_KEEPALIVEDS: &[(&str, &str)] = &[
    // keepalived does not check these references at all.
    (
        "Unable to find vrrp instance VI_NOPE for lvs_syncd - clearing lvs_syncd config",
        "keepalived -t does not run this check; its VRRP process does, then crashes (tests/fixups_global.rs)",
    ),
    (
        "no virtual_server_group of that name",
        "keepalived drops the service silently",
    ),
];

/// Our extension keywords (crates/config/README.md): keepalived reports
/// them as unknown, so a case built on one of them has nothing to compare.
const EXTENSIONS: &[&str] = &[
    "metrics_listen",
    "metrics_serve_status",
    "metrics_web_config",
    "status_socket",
];

fn uses_extension(text: &str) -> bool {
    text.split_whitespace().any(|w| EXTENSIONS.contains(&w))
}

/// Run `keepalived -t -l -f FILE` on `text`; `None` (after saying why, or
/// panicking in CI) when keepalived is not installed.
fn keepalived_stderr(text: &str, path: &std::path::Path) -> Option<String> {
    let keepalived = std::path::Path::new("/usr/sbin/keepalived");
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Keepalived]) {
        return None;
    }
    std::fs::write(path, text).expect("write");
    let out = std::process::Command::new(keepalived)
        .args(["-t", "-l", "-f"])
        .arg(path)
        .output()
        .expect("run keepalived -t");
    Some(String::from_utf8_lossy(&out.stderr).into_owned())
}

struct Cleanup(std::path::PathBuf);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Differential check: keepalived 2.2.7 (`keepalived -t`) reports the same
/// problem, by its own specific message, for every config we reject, except
/// the deliberate differences in [`NOT_KEEPALIVEDS`].
#[test]
fn keepalived_also_complains_about_our_errors() {
    let path = std::env::temp_dir().join(format!("rk-errors-{}.conf", std::process::id()));
    let _cleanup = Cleanup(path.clone());
    let mut disagreements = Vec::new();
    for (text, _, needle) in error_cases() {
        if NOT_KEEPALIVEDS.iter().any(|(n, _)| *n == needle) || uses_extension(&text) {
            continue;
        }
        let expected = keepalived_says(needle)
            .unwrap_or_else(|| panic!("no keepalived message recorded for error case '{needle}'"));
        let Some(stderr) = keepalived_stderr(&text, &path) else {
            return;
        };
        if !stderr.contains(expected) {
            disagreements.push(format!(
                "ours: {needle}\nkeepalived should say: {expected}\nkeepalived said:\n{stderr}\nconfig:\n{text}"
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "keepalived does not report what we report:\n{}",
        disagreements.join("\n---\n")
    );
}

/// Differential check: every fix-up we warn about is reported by keepalived
/// 2.2.7 (`keepalived -t`) with its own specific message; a fix-up that
/// claims "as keepalived does" must have one.
#[test]
fn keepalived_also_warns_about_our_fixups() {
    let path = std::env::temp_dir().join(format!("rk-warn-{}.conf", std::process::id()));
    let _cleanup = Cleanup(path.clone());
    let mut disagreements = Vec::new();
    let mut checked = 0;
    for (text, _, needle) in warning_cases() {
        if NOT_KEEPALIVEDS.iter().any(|(n, _)| *n == needle) || uses_extension(&text) {
            continue;
        }
        let claims = parse_str(&text, "w.conf", &opts())
            .map(|l| {
                l.warnings
                    .iter()
                    .any(|w| w.message.contains(needle) && w.message.contains("as keepalived does"))
            })
            .unwrap_or(false);
        let Some(expected) = keepalived_says(needle) else {
            assert!(
                !claims,
                "'{needle}' claims keepalived's behaviour but has no keepalived message recorded"
            );
            panic!("no keepalived message recorded for warning case '{needle}'");
        };
        let Some(stderr) = keepalived_stderr(&text, &path) else {
            return;
        };
        checked += 1;
        if !stderr.contains(expected) {
            disagreements.push(format!(
                "ours: {needle}\nkeepalived should say: {expected}\nkeepalived said:\n{stderr}\nconfig:\n{text}"
            ));
        }
    }
    let excluded = warning_cases()
        .iter()
        .filter(|(t, _, n)| NOT_KEEPALIVEDS.iter().any(|(x, _)| x == n) || uses_extension(t))
        .count();
    assert_eq!(
        checked,
        warning_cases().len() - excluded,
        "every warning case is compared"
    );
    assert!(
        disagreements.is_empty(),
        "keepalived does not report the fix-ups we report:\n{}",
        disagreements.join("\n---\n")
    );
}

/// keepalived's `vrrp_complete_instance()`: an unset instance
/// `garp_lower_prio_delay`/`_repeat` takes the *global* values
/// (`vrrp_garp_lower_prio_*`, themselves the global GARP delay/repeat when
/// unset), not the instance's `garp_master_*` (keepalived 2.2.7's
/// keepalived.data shows "Gratuitous ARP lower priority delay = 5" for an
/// instance with `garp_master_delay 2`; tests/daemon_dump_fidelity.rs).
#[test]
fn garp_lower_prio_defaults_come_from_global_defs() {
    let v = instance("    garp_master_delay 2\n    garp_master_repeat 7\n");
    assert_eq!(v.garp_master_delay, std::time::Duration::from_secs(2));
    assert_eq!(v.garp_lower_prio_delay, std::time::Duration::from_secs(5));
    assert_eq!(v.garp_master_repeat, 7);
    assert_eq!(v.garp_lower_prio_repeat, 5);
}
