//! VRRP-side configs keepalived 2.2.7 runs after a fix-up: we run them too,
//! with the same fix-up and a positioned warning saying so, and the
//! effective value in our model is the one keepalived's `-d` dump shows
//! (`rkeepalived_testkit::oracle::keepalived_dump`, one keepalived run per
//! group of fix-ups that do not interfere).

use std::net::IpAddr;
use std::time::Duration;

use rkeepalived_config::model::{Config, InitialState, VirtualIpAddress, VrrpInstance};
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_testkit::oracle::{keepalived_dump, KeepalivedRun};
use rkeepalived_testkit::{prerequisites, Need};

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("test".to_string()),
    }
}

/// One group: a config, the warnings we print (`line:col`, text), checks on
/// our model, and what keepalived's dump shows for the same config.
struct Group {
    conf: &'static str,
    /// (`line:col`, substring of our warning); the line is also where
    /// keepalived logs its own message for the fix-up.
    warnings: &'static [(&'static str, &'static str)],
    /// (line, substring of keepalived's message at that line).
    keepalived_says: &'static [(u32, &'static str)],
    /// (instance, dump key, dump value).
    dump: &'static [(&'static str, &'static str, &'static str)],
    /// (instance, the VIP lines of keepalived's dump, in order).
    vips: &'static [(&'static str, &'static [&'static str])],
    /// Lines (trimmed) found in keepalived's VRRP Topology or Static
    /// Addresses/Routes/Rules dump.
    topology: &'static [&'static str],
    check: fn(&Config),
}

fn inst<'a>(c: &'a Config, name: &str) -> &'a VrrpInstance {
    c.vrrp_instance(name)
        .unwrap_or_else(|| panic!("no instance {name}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// A VIP as keepalived's dump prints it: `ADDR[/LEN] [brd B] dev D scope S`.
fn dump_line(a: &VirtualIpAddress) -> String {
    let host = if a.addr.is_ipv4() { 32 } else { 128 };
    let mut s = a.addr.to_string();
    if a.prefix_len != host {
        s.push_str(&format!("/{}", a.prefix_len));
    }
    if let Some(b) = a.brd {
        s.push_str(&format!(" brd {b}"));
    }
    s.push_str(&format!(" dev {} scope global", a.dev));
    s
}

fn groups() -> Vec<Group> {
    vec![
        Group {
            // state / priority / advert_int / auth / GARP values
            conf: "global_defs {
    router_id test
}
vrrp_instance VI_1 {
    interface eth0
    state MASTR
    virtual_router_id 1
    priority 0
    virtual_ipaddress {
        192.0.2.10
    }
}
vrrp_instance VI_2 {
    interface eth0
    state master
    virtual_router_id 2
    priority 255
    advert_int 3;
    garp_master_delay 7;
    garp_master_repeat 0
    down_timer_adverts 0
    authentication {
        auth_type PASS;
        auth_pass secret
    }
    virtual_ipaddress {
        192.0.2.11
    }
}
vrrp_instance VI_3 {
    interface eth0
    state MASTER
    state BACKUP
    virtual_router_id 3
    priority 150;
    advert_int 300
    authentication {
        auth_type MD5
        auth_pass secret
    }
    virtual_ipaddress {
        192.0.2.12
    }
}
vrrp_instance VI_4 {
    interface eth0
    virtual_router_id 4
    mcast_dst_ip 192.0.2.5
    mcast_src_ip 192.0.2.x
    preempt_delay 2000
    advert_int abc
    virtual_ipaddress {
        192.0.2.13
    }
}
",
            warnings: &[
                ("6:11", "'state': unknown state 'MASTR', defaulting to BACKUP (as keepalived does)"),
                ("8:14", "'priority': '0' not valid! must be between 1 & 255. Using default 100 (as keepalived does)"),
                ("15:11", "'state': unknown state 'master', defaulting to BACKUP (as keepalived does: it matches MASTER and BACKUP case-sensitively)"),
                ("18:16", "'advert_int': Advert interval (3;) not valid! (0.01..255 seconds); ignoring it (as keepalived does)"),
                ("19:23", "'garp_master_delay': invalid number '7;'; using 7, the number it starts with (as keepalived does)"),
                ("20:5", "(VI_2): garp_master_repeat must be greater than 0, setting to 1 (as keepalived does)"),
                ("21:24", "'down_timer_adverts': '0' invalid (expected 1..100); ignoring it (as keepalived does)"),
                ("23:19", "'auth_type': unknown authentication type 'PASS;'; ignoring it (as keepalived does: PASS or AH, case-sensitive)"),
                ("33:11", "'state': state previously set as MASTER - ignoring BACKUP (as keepalived does)"),
                ("35:14", "'priority': '150;' not valid! must be between 1 & 255. Using default 100 (as keepalived does)"),
                ("36:16", "'advert_int': Advert interval (300) not valid!"),
                ("38:19", "'auth_type': unknown authentication type 'MD5'; ignoring it"),
                ("48:18", "'mcast_dst_ip': 192.0.2.5 not multicast; skipping it, the default group is used (as keepalived does)"),
                ("49:18", "'mcast_src_ip': malformed address [192.0.2.x]; skipping it (as keepalived does)"),
                ("50:19", "'preempt_delay': '2000' not valid! must be between 0-1000; using 0 (as keepalived does)"),
                ("51:16", "'advert_int': Advert interval (abc) not valid!"),
            ],
            keepalived_says: &[
                (6, "(VI_1) unknown state 'MASTR', defaulting to BACKUP"),
                (8, "(VI_1) Priority not valid! must be between 1 & 255. Using default 100"),
                (15, "(VI_2) unknown state 'master', defaulting to BACKUP"),
                (18, "(VI_2) Advert interval (3;) not valid! Must be > 0 - ignoring"),
                (19, "WARNING - invalid number '7;'"),
                (20, "(VI_2): garp_master_repeat must be greater than 0, setting to 1"),
                (21, "(VI_2): Invalid down_timer_adverts [1:100] '0'"),
                (23, "(VI_2) unknown authentication type 'PASS;'"),
                (33, "(VI_3) state previously set as MASTER - ignoring BACKUP"),
                (35, "(VI_3) Priority not valid! must be between 1 & 255. Using default 100"),
                (36, "(VI_3) Advert interval (300) not valid! Must be > 0 - ignoring"),
                (38, "(VI_3) unknown authentication type 'MD5'"),
                (48, "(VI_4) mcast_dst_ip 192.0.2.5 not multicast. Skipping..."),
                (49, "VRRP instance[VI_4] malformed src address[192.0.2.x]. Skipping..."),
                (50, "(VI_4) Preempt_delay not valid! must be between 0-1000"),
                (51, "(VI_4) Advert interval (abc) not valid! Must be > 0 - ignoring"),
            ],
            dump: &[
                ("VI_1", "Wantstate", "BACKUP"),
                ("VI_1", "Priority", "100"),
                ("VI_2", "Wantstate", "BACKUP"),
                ("VI_2", "Priority", "255"),
                ("VI_2", "Advert interval", "1 sec"),
                ("VI_2", "Gratuitous ARP delay", "7"),
                ("VI_2", "Gratuitous ARP repeat", "1"),
                ("VI_2", "Down timer adverts", "3"),
                ("VI_2", "Authentication type", "none"),
                ("VI_3", "Wantstate", "MASTER"),
                ("VI_3", "Priority", "100"),
                ("VI_3", "Advert interval", "1 sec"),
                ("VI_3", "Authentication type", "none"),
                ("VI_4", "Wantstate", "BACKUP"),
                ("VI_4", "Advert interval", "1 sec"),
            ],
            vips: &[],
            topology: &[],
            check: |c| {
                let v = inst(c, "VI_1");
                assert_eq!((v.state, v.priority), (InitialState::Backup, 100));
                let v = inst(c, "VI_2");
                assert_eq!((v.state, v.priority), (InitialState::Backup, 255));
                assert_eq!(v.advert_int, Duration::from_secs(1));
                assert_eq!(v.garp_master_delay, Duration::from_secs(7));
                assert_eq!(v.garp_master_repeat, 1);
                assert_eq!(v.down_timer_adverts, 3);
                assert!(v.authentication.is_none());
                let v = inst(c, "VI_3");
                assert_eq!((v.state, v.priority), (InitialState::Master, 100));
                assert_eq!(v.advert_int, Duration::from_secs(1));
                assert!(v.authentication.is_none());
                let v = inst(c, "VI_4");
                assert_eq!(v.mcast_dst_ip, None);
                assert_eq!(v.mcast_src_ip, None);
                assert_eq!(v.preempt_delay, Duration::ZERO);
                assert_eq!(v.advert_int, Duration::from_secs(1));
            },
        },
        Group {
            // VIP and unicast peer lines
            conf: "global_defs {
    router_id test
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        192.0.2.300/24
        192.0.2.20/33
        192.0.2.21/24;
        192.0.2.22/24 brd +
        192.0.2.23 foo
        192.0.2.24/24 peer 192.0.2.x
        192.0.2.25/28 brd -
        192.0.2.26/24 brd 2001:db8::1
        192.0.2.27 label abcdefghijklmnopq
        192.0.2.28 dev
        192.0.2.29/24 scope galaxy
        192.0.2.40-41/24
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 2
    unicast_src_ip 192.0.2.1
    unicast_peer {
        192.0.2.x
        192.0.2.2 min_ttl 300
        192.0.2.3 max_ttl 9 hops 2
    }
    virtual_ipaddress {
        192.0.2.30
    }
}
",
            warnings: &[
                ("8:9", "virtual_ipaddress: VRRP parsed invalid IP 192.0.2.300/24; skipping address '192.0.2.300/24' (as keepalived does)"),
                ("9:9", "virtual_ipaddress: Invalid address prefix len 33 for address 192.0.2.20/33 - using 32 (as keepalived does)"),
                ("10:9", "virtual_ipaddress: invalid number '24;' in '192.0.2.21/24;'; using /24, the number it starts with (as keepalived does)"),
                ("12:20", "virtual_ipaddress: Unknown configuration entry 'foo' for ip address - ignoring (as keepalived does)"),
                ("13:28", "virtual_ipaddress: Invalid peer address 192.0.2.x; ignoring the peer (as keepalived does)"),
                ("15:27", "virtual_ipaddress: VRRP is trying to assign invalid broadcast 2001:db8::1; skipping address '192.0.2.26/24' (as keepalived does)"),
                ("16:26", "virtual_ipaddress: Address label abcdefghijklmnopq is longer than maximum length 15; skipping address"),
                ("17:20", "virtual_ipaddress: No dev parameter specified for 192.0.2.28; skipping address '192.0.2.28' (as keepalived does)"),
                ("18:29", "virtual_ipaddress: Invalid scope 'galaxy' specified for 192.0.2.29/24 - ignoring (as keepalived does)"),
                ("19:9", "virtual_ipaddress: VRRP parsed invalid IP 192.0.2.40-41/24 (keepalived 2.2.7 has no address ranges in virtual_ipaddress); skipping address '192.0.2.40-41/24' (as keepalived does)"),
                ("27:9", "unicast_peer: malformed unicast peer address [192.0.2.x]; skipping it (as keepalived does)"),
                ("28:27", "unicast_peer: invalid min_ttl '300' (0..255); ignoring it (as keepalived does)"),
                ("29:29", "unicast_peer: unknown unicast_peer option hops; ignoring the rest of the line (as keepalived does)"),
            ],
            keepalived_says: &[
                (8, "VRRP parsed invalid IP 192.0.2.300/24. skipping IP..."),
                (9, "Invalid address prefix len 33 for address 192.0.2.20/33 - using 32"),
                (10, "WARNING - invalid number '24;'"),
                (12, "Unknown configuration entry 'foo' for ip address - ignoring"),
                (13, "Invalid peer address 192.0.2.x"),
                (15, "VRRP is trying to assign invalid broadcast 2001:db8::1. skipping VIP..."),
                (16, "Address label abcdefghijklmnopq is longer than maximum length 15 - removing address"),
                (17, "No dev parameter specified for 192.0.2.28"),
                (18, "Invalid scope 'galaxy' specified for 192.0.2.29/24 - ignoring"),
                (19, "VRRP parsed invalid IP 192.0.2.40-41/24. skipping IP..."),
                (27, "VRRP instance[VI_2] malformed unicast peer address[192.0.2.x]. Skipping..."),
                (28, "number '300' outside range [0, 255]"),
                (29, "(VI_2) unknown unicast_peer option hops"),
            ],
            dump: &[],
            vips: &[(
                "VI_1",
                &[
                    "192.0.2.20 dev eth0 scope global",
                    "192.0.2.21/24 dev eth0 scope global",
                    "192.0.2.22/24 brd 192.0.2.255 dev eth0 scope global",
                    "192.0.2.23 dev eth0 scope global",
                    "192.0.2.24/24 dev eth0 scope global",
                    "192.0.2.25/28 brd 192.0.2.16 dev eth0 scope global",
                    "192.0.2.29/24 dev eth0 scope global",
                ],
            )],
            topology: &["Check unicast src : yes", "192.0.2.3 min_ttl 0 max_ttl 9"],
            check: |c| {
                let v = inst(c, "VI_1");
                let lines: Vec<String> = v.virtual_ipaddresses.iter().map(dump_line).collect();
                assert_eq!(
                    lines,
                    [
                        "192.0.2.20 dev eth0 scope global",
                        "192.0.2.21/24 dev eth0 scope global",
                        "192.0.2.22/24 brd 192.0.2.255 dev eth0 scope global",
                        "192.0.2.23 dev eth0 scope global",
                        "192.0.2.24/24 dev eth0 scope global",
                        "192.0.2.25/28 brd 192.0.2.16 dev eth0 scope global",
                        "192.0.2.29/24 dev eth0 scope global",
                    ]
                );
                assert!(v.virtual_ipaddresses.iter().all(|a| a.peer.is_none()));
                let v = inst(c, "VI_2");
                let peers: Vec<(IpAddr, Option<u8>, Option<u8>)> = v
                    .unicast_peers
                    .iter()
                    .map(|p| (p.addr, p.min_ttl, p.max_ttl))
                    .collect();
                assert_eq!(
                    peers,
                    [(ip("192.0.2.2"), None, None), (ip("192.0.2.3"), None, Some(9))]
                );
                assert!(v.check_unicast_src, "a TTL limit turns it on");
            },
        },
        Group {
            // keywords without a value, booleans, version, notify
            conf: "global_defs {
    router_id test
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    nopreempt no
    accept no
    skip_check_adv_addr off
    strict_mode YES
    version 3
    version 2
    notify_master /bin/true
    notify_master /bin/false
    promote_secondaries off
    smtp_alert maybe
    virtual_ipaddress {
        192.0.2.10
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 2
    use_vmac vm/2 01:00:5e:00:00:01
    use_vmac vm2 02:00:00:00:00:02 extra
    notify_backup /bin/true root root extra
    virtual_ipaddress {
        192.0.2.11
    }
}
",
            warnings: &[
                ("7:15", "'nopreempt' takes no value; 'no' ignored and 'nopreempt' set (as keepalived does)"),
                ("8:12", "'accept' takes no value; 'no' ignored and 'accept' set (as keepalived does)"),
                ("9:5", "'skip_check_adv_addr off' sets skip_check_adv_addr (as keepalived does"),
                ("10:17", "'strict_mode': invalid value 'YES' (keepalived reads true|on|yes|false|off|no, lower case); ignoring it (as keepalived does)"),
                ("12:5", "vrrp_version 2 conflicts with configured version 3; ignoring (as keepalived does)"),
                ("14:5", "notify_master script already specified - ignoring /bin/false (as keepalived does"),
                ("15:25", "'promote_secondaries' takes no value; 'off' ignored and 'promote_secondaries' set (as keepalived does)"),
                ("16:16", "'smtp_alert': invalid value 'maybe'"),
                ("24:14", "'use_vmac': VMAC interface name 'vm/2' too long or invalid characters - ignoring (as keepalived does)"),
                ("24:19", "'use_vmac': VMAC MAC address is multicast 01:00:5e:00:00:01 - ignoring (as keepalived does)"),
                ("25:36", "'use_vmac': extra argument 'extra' - ignoring (as keepalived does)"),
                ("26:39", "'notify_backup': 'root' is read as the user and 'root' as the group, 'extra' and any further words are ignored (as keepalived does)"),
            ],
            keepalived_says: &[
                (10, "(VI_1) invalid strict_mode YES specified"),
                (12, "(VI_1) vrrp_version 2 conflicts with configured or deduced version 3; ignoring."),
                (14, "(VI_1) notify_master script already specified - ignoring /bin/false"),
                (16, "Invalid vrrp_instance smtp_alert parameter maybe"),
                (24, "VMAC interface name 'vm/2' too long or invalid characters - ignoring"),
                (24, "VMAC MAC address is multicast 01:00:5e:00:00:01 - ignoring"),
            ],
            dump: &[
                ("VI_1", "VRRP Version", "3"),
                ("VI_1", "Preempt", "disabled"),
                ("VI_1", "Accept", "enabled"),
                ("VI_1", "Promote_secondaries", "enabled"),
            ],
            vips: &[],
            topology: &["Backup state transition script = '/usr/bin/true', uid:gid 0:0"],
            check: |c| {
                let v = inst(c, "VI_1");
                assert!(v.nopreempt);
                assert!(v.accept);
                assert!(v.skip_check_adv_addr);
                assert!(!v.strict_mode);
                assert_eq!(v.version, rkeepalived_config::model::VrrpVersion::V3);
                assert_eq!(
                    v.notify_master.as_ref().map(|n| n.command.as_str()),
                    Some("/bin/true")
                );
                assert!(v.promote_secondaries);
                assert!(!v.smtp_alert);
                let m = inst(c, "VI_2").use_vmac.clone().expect("vmac kept");
                assert_eq!(m.name, "vm2");
                assert_eq!(m.mac, Some([2, 0, 0, 0, 0, 2]));
                let n = inst(c, "VI_2").notify_backup.clone().expect("notify kept");
                assert_eq!(n.command, "/bin/true");
                assert_eq!(n.user.map(|u| (u.user, u.group)), Some(("root".to_string(), Some("root".to_string()))));
            },
        },
        Group {
            // routes: protocol 18 unless no_track; no dev = not tracked
            conf: "global_defs {
    router_id test
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        192.0.2.10/24
    }
    virtual_routes {
        198.51.100.0/24 via 192.0.2.254
        203.0.113.0/24 dev eth0
        203.0.113.128/25 dev eth0 protocol 4
        198.51.100.128/25 via 192.0.2.254 no_track
    }
    virtual_rules {
        from 192.0.2.0/24 table 100 order 50
        to 198.51.100.0/24 type unreachable priority 60
    }
}
",
            warnings: &[
                ("11:9", "cannot track route 198.51.100.0/24 with no interface specified, not tracking (as keepalived does"),
                ("13:9", "route cannot be tracked unless protocol is 18 (keepalived); resetting protocol (as keepalived does)"),
            ],
            keepalived_says: &[
                (11, "Warning - cannot track route 198.51.100.0/24 with no interface specified, not tracking"),
                (13, "Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol"),
            ],
            dump: &[],
            vips: &[],
            topology: &[
                "prepend 198.51.100.0/24 via inet 192.0.2.254 proto 18 no_track",
                "prepend 203.0.113.0/24 dev eth0 proto 18",
                "prepend 203.0.113.128/25 dev eth0 proto 18",
                "prepend 198.51.100.128/25 via inet 192.0.2.254 no_track",
                "from 192.0.2.0/24 priority 50 tos 0x0 protocol 18 lookup 100",
                "from all to 198.51.100.0/24 priority 60 tos 0x0 protocol 18 type unreachable",
            ],
            check: |c| {
                let r: Vec<(Option<u8>, bool)> = inst(c, "VI_1")
                    .virtual_routes
                    .iter()
                    .map(|r| (r.protocol, r.no_track))
                    .collect();
                assert_eq!(
                    r,
                    [(Some(18), true), (Some(18), false), (Some(18), false), (None, true)]
                );
                let rules: Vec<Option<u32>> = inst(c, "VI_1")
                    .virtual_rules
                    .iter()
                    .map(|r| r.priority)
                    .collect();
                assert_eq!(rules, [Some(50), Some(60)]);
            },
        },
        Group {
            // static_*: track_group (static_track_group, not implemented)
            // ignored, the address/route/rule kept; use_vmac is no
            // static_ipaddress option
            conf: "global_defs {
    router_id test
}
static_ipaddress {
    192.0.2.50/24 dev eth0 track_group G use_vmac
}
static_routes {
    198.51.100.0/24 dev eth0 track_group G
}
static_rules {
    from 192.0.2.0/24 table 100 priority 70 track_group G
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {
        192.0.2.10/24
    }
}
",
            warnings: &[
                ("5:28", "static_ipaddress: track_group (static_track_group) is not supported by rkeepalived; ignored"),
                ("5:42", "static_ipaddress: Unknown configuration entry 'use_vmac' for ip address - ignoring (as keepalived does)"),
                ("8:30", "track_group (static_track_group) is not supported by rkeepalived; ignored"),
                ("11:45", "track_group (static_track_group) is not supported by rkeepalived; ignored"),
            ],
            keepalived_says: &[
                (5, "track_group G not found"),
                (5, "Unknown configuration entry 'use_vmac' for ip address - ignoring"),
                (8, "track_group G not found"),
                (11, "track_group G not found"),
            ],
            dump: &[],
            vips: &[],
            topology: &[
                "192.0.2.50/24 dev eth0 scope global set",
                "prepend 198.51.100.0/24 dev eth0 proto 18 [installed ifindex 0]",
                "from 192.0.2.0/24 priority 70 tos 0x0 protocol 18 lookup 100",
            ],
            check: |c| {
                assert_eq!(c.static_ipaddresses.len(), 1);
                assert!(!c.static_ipaddresses[0].use_vmac);
                assert_eq!(c.static_routes.len(), 1);
                assert_eq!(c.static_routes[0].protocol, Some(18));
                assert_eq!(c.static_rules.len(), 1);
                assert_eq!(c.static_rules[0].priority, Some(70));
            },
        },
    ]
}

/// keepalived's dump of `conf`; once more if a loaded machine cut it
/// short (the oracle waits at most 5 s for the Interfaces section).
fn dump(conf: &str) -> KeepalivedRun {
    let run = keepalived_dump(conf, &["eth0"]);
    if run
        .lines
        .iter()
        .any(|l| l.starts_with("------< Interfaces >------"))
    {
        return run;
    }
    keepalived_dump(conf, &["eth0"])
}

/// The VIP lines of one instance in keepalived's dump.
fn dumped_vips(run: &KeepalivedRun, instance: &str) -> Vec<String> {
    let topo = run.section("VRRP Topology");
    let Some(start) = topo
        .iter()
        .position(|l| l.trim() == format!("VRRP Instance = {instance}"))
    else {
        return Vec::new();
    };
    let rest = &topo[start + 1..];
    let Some(vip) = rest
        .iter()
        .position(|l| l.trim_start().starts_with("Virtual IP ("))
    else {
        return Vec::new();
    };
    // The parent process logs to the same stream: an unindented line
    // ("Startup complete") may land inside the dump; skip it.
    let mut out = Vec::new();
    for l in &rest[vip + 1..] {
        if l.starts_with("     ") {
            out.push(l.trim().to_string());
        } else if l.starts_with(' ') {
            break;
        }
    }
    out
}

#[test]
fn vrrp_fixups_warn_and_change_the_model() {
    for (i, g) in groups().iter().enumerate() {
        let l = parse_str(g.conf, "f.conf", &opts())
            .unwrap_or_else(|e| panic!("group {i} refused:\n{e}"));
        for (at, needle) in g.warnings {
            assert!(
                l.warnings
                    .iter()
                    .any(|w| format!("{}:{}", w.line, w.col) == *at && w.message.contains(needle)),
                "group {i}: no warning {at} '{needle}' in:\n{}",
                l.warnings
                    .iter()
                    .map(|w| w.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
        (g.check)(&l.config);
    }
}

#[test]
fn keepalived_applies_the_same_vrrp_fixups() {
    if !prerequisites(&[Need::Root, Need::Keepalived, Need::Tool("ip")]) {
        return;
    }
    for (i, g) in groups().iter().enumerate() {
        let run = dump(g.conf);
        let said = run.positioned();
        for (line, needle) in g.keepalived_says {
            assert!(
                said.iter().any(|(n, m)| n == line && m.contains(needle)),
                "group {i}: keepalived did not log '{needle}' at line {line}:\n{}",
                run.text()
            );
        }
        // Each keepalived message is at the line of one of our warnings.
        for (line, _) in g.keepalived_says {
            assert!(
                g.warnings
                    .iter()
                    .any(|(at, _)| at.split(':').next() == Some(&line.to_string())),
                "group {i}: no warning of ours at line {line}"
            );
        }
        for (instance, key, value) in g.dump {
            assert_eq!(
                run.instance_value(instance, key).as_deref(),
                Some(*value),
                "group {i}: {instance} {key}\n{}",
                run.text()
            );
        }
        let topo: Vec<String> = [
            "VRRP Topology",
            "Static Addresses",
            "Static Routes",
            "Static Rules",
        ]
        .iter()
        .flat_map(|t| run.section(t))
        .map(|l| l.trim().to_string())
        .collect();
        for line in g.topology {
            assert!(
                topo.iter().any(|l| l == line),
                "group {i}: no '{line}' in keepalived's dump\n{}",
                run.text()
            );
        }
        for (instance, lines) in g.vips {
            assert_eq!(
                dumped_vips(&run, instance),
                *lines,
                "group {i}: {instance} VIPs\n{}",
                run.text()
            );
        }
    }
}
