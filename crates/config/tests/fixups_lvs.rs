//! virtual_server / real_server / checker values that keepalived 2.2.7
//! ignores, reads leniently or replaces with a default: we run the same
//! configuration the same way, with a positioned warning naming the
//! fix-up. Each case is proven against the real keepalived: its own
//! message (with its line) from a real run (`oracle::keepalived_dump`; the
//! checker child parses and logs its fix-ups, then stops for want of IPVS
//! on this host), and, where keepalived's later messages reveal it, the
//! same effective value (a quorum reduced to the total weight shows the
//! weights, "ports don't match" shows the forwarding method, the service
//! name shows the port).

use rkeepalived_config::model::*;
use rkeepalived_config::{parse_str, Config, LoadOptions};
use rkeepalived_testkit::oracle::{keepalived_dump, KeepalivedRun};
use rkeepalived_testkit::{prerequisites, Need};
use std::time::Duration;

struct Case {
    name: &'static str,
    conf: &'static str,
    /// Our warning: "line:col" and a substring (None: no fix-up warning,
    /// only the effective value).
    ours: Option<(&'static str, &'static str)>,
    /// keepalived's messages: (line for a positioned parser message, or
    /// None for a message without position; substring).
    keepalived: &'static [(Option<u32>, &'static str)],
    /// Messages keepalived must NOT log (a value it did not refuse).
    not_keepalived: &'static [&'static str],
    /// Our effective value.
    check: fn(&Config),
}

fn vs(c: &Config) -> &VirtualServer {
    &c.virtual_servers[0]
}

fn rs(c: &Config, i: usize) -> &RealServer {
    &c.virtual_servers[0].real_servers[i]
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "lb_algo not in keepalived's list",
            conf: "virtual_server 192.0.2.100 80 {\n    lb_algo fastest\n    protocol TCP\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("2:13", "invalid scheduler 'fastest'")),
            keepalived: &[
                (Some(2), "Invalid lvs_scheduler 'fastest' - ignoring"),
                (None, "no scheduler set, setting default 'wlc'"),
            ],
            not_keepalived: &[],
            check: |c| assert_eq!(vs(c).lvs_sched, Scheduler::Wlc),
        },
        Case {
            name: "lb_algo matched case-sensitively",
            conf: "virtual_server 192.0.2.100 80 {\n    lb_algo RR\n    protocol TCP\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("2:13", "invalid scheduler 'RR'")),
            keepalived: &[
                (Some(2), "Invalid lvs_scheduler 'RR' - ignoring"),
                (None, "setting default 'wlc'"),
            ],
            not_keepalived: &[],
            check: |c| assert_eq!(vs(c).lvs_sched, Scheduler::Wlc),
        },
        Case {
            // NAT keeps the real server's own port: no "ports don't match".
            name: "lb_kind dr is NAT, and the real server keeps its port",
            conf: "virtual_server 192.0.2.100 80 {\n    lb_kind dr\n    protocol TCP\n    real_server 192.0.2.11 8080 {\n    }\n}\n",
            ours: Some(("2:13", "unknown forwarding method 'dr'")),
            keepalived: &[
                (Some(2), "PARSER : unknown [dr] routing method for virtual server."),
                (None, "no forwarding method set, setting default NAT"),
                (None, "Shutting down service [192.0.2.11]:tcp:8080"),
            ],
            not_keepalived: &["ports don't match"],
            check: |c| {
                assert_eq!(vs(c).lvs_method, ForwardingMethod::Nat);
                assert_eq!(rs(c, 0).lvs_method, ForwardingMethod::Nat);
                assert_eq!(rs(c, 0).port, Some(8080));
            },
        },
        Case {
            // 2.2.7 reads only lvs_method in a real_server: it stays DR.
            name: "lb_kind inside real_server is not a 2.2.7 keyword",
            conf: "virtual_server 192.0.2.100 80 {\n    lb_kind DR\n    protocol TCP\n    real_server 192.0.2.11 8080 {\n        lb_kind NAT\n    }\n}\n",
            ours: Some(("5:9", "unknown keyword 'lb_kind' in real_server")),
            keepalived: &[
                (Some(5), "Unknown keyword 'lb_kind'"),
                (None, "ports don't match - resetting"),
            ],
            not_keepalived: &[],
            check: |c| {
                assert_eq!(rs(c, 0).lvs_method, ForwardingMethod::Dr);
                assert_eq!(rs(c, 0).port, Some(80));
            },
        },
        Case {
            name: "TUN with a bad tunnel option stays TUN",
            conf: "virtual_server 192.0.2.100 80 {\n    lb_kind TUN type ipip csum\n    protocol TCP\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("2:5", "ipip tunnels do not support checksum option")),
            keepalived: &[(Some(2), "ipip tunnels do not support checksum option.")],
            not_keepalived: &["no forwarding method set"],
            check: |c| {
                assert_eq!(
                    vs(c).lvs_method,
                    ForwardingMethod::Tun {
                        tunnel_type: TunnelType::Ipip,
                        checksum: TunnelChecksum::Default
                    }
                )
            },
        },
        Case {
            name: "unknown protocol: UDP",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol icmp\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("2:14", "unknown protocol 'icmp'")),
            keepalived: &[
                (Some(2), "Unknown protocol icmp - ignoring"),
                (None, "no protocol set - defaulting to UDP"),
                (None, "Shutting down service [192.0.2.11]:udp:80"),
            ],
            not_keepalived: &[],
            check: |c| assert_eq!(vs(c).protocol, Protocol::Udp),
        },
        Case {
            // "weight 1;" and "quorum 2;" are read as 1 and 2: quorum 2 is
            // then reduced to the total weight 1.
            name: "trailing ';' on weight and quorum",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    quorum 2;\n    real_server 192.0.2.11 80 {\n        weight 1;\n    }\n}\n",
            ours: Some(("5:16", "invalid number '1;' read as 1")),
            keepalived: &[
                (Some(3), "WARNING - invalid number '2;'"),
                (Some(5), "WARNING - invalid number '1;'"),
                (None, "quorum 2 for [192.0.2.100]:tcp:80 exceeds total weight of real servers 1"),
            ],
            not_keepalived: &["Real server weight 1; is outside range", "Quorum 2; must be"],
            check: |c| {
                assert_eq!(rs(c, 0).weight, 1);
                assert_eq!(vs(c).quorum, 1, "2, reduced to the total weight 1");
            },
        },
        Case {
            name: "negative weight: the default",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    quorum 3\n    real_server 192.0.2.11 80 {\n        weight -1\n    }\n}\n",
            ours: Some(("5:16", "negative number '-1'; ignoring this line")),
            keepalived: &[
                (Some(5), "Real server weight -1 is outside range 0-2147483647"),
                (None, "quorum 3 for [192.0.2.100]:tcp:80 exceeds total weight of real servers 1"),
            ],
            not_keepalived: &[],
            check: |c| assert_eq!(rs(c, 0).weight, 1),
        },
        Case {
            name: "virtual_server weight is the real servers' default",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    weight 5\n    quorum 100\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("1:1", "exceeds the total weight of the real servers 5")),
            keepalived: &[(None, "exceeds total weight of real servers 5")],
            not_keepalived: &["Unknown keyword 'weight'"],
            check: |c| {
                assert_eq!(rs(c, 0).weight, 5);
                assert_eq!(vs(c).quorum, 5);
            },
        },
        Case {
            name: "quorum 0 is 1",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    quorum 0\n    real_server 192.0.2.11 80 {\n        weight 4\n    }\n}\n",
            ours: Some(("3:12", "using 1")),
            keepalived: &[(Some(3), "Quorum 0 must be in [1, 4294967295]. Setting to 1.")],
            not_keepalived: &["exceeds total weight"],
            check: |c| assert_eq!(vs(c).quorum, 1),
        },
        Case {
            name: "delay_loop 0 is ignored",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    delay_loop 0\n    real_server 192.0.2.11 80 {\n        TCP_CHECK {\n        }\n    }\n}\n",
            ours: Some(("3:16", "outside range")),
            keepalived: &[(Some(3), "virtual server delay loop '0' invalid - ignoring")],
            not_keepalived: &[],
            check: |c| {
                assert_eq!(rs(c, 0).checkers[0].common.delay_loop, Duration::from_secs(60))
            },
        },
        Case {
            // keepalived scales "3;" to "3;000000" before strtoull: 3 us.
            name: "trailing ';' on a timer: microseconds",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n        TCP_CHECK {\n            connect_timeout 3;\n        }\n    }\n}\n",
            ours: Some(("5:29", "read as 3 microseconds")),
            keepalived: &[(Some(5), "WARNING - invalid number '3;'")],
            not_keepalived: &["connect_timeout 3; invalid"],
            check: |c| {
                assert_eq!(
                    rs(c, 0).checkers[0].common.connect_timeout,
                    Duration::from_micros(3)
                )
            },
        },
        Case {
            name: "nb_get_retry is not a TCP_CHECK keyword",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n        TCP_CHECK {\n            nb_get_retry 7\n        }\n    }\n}\n",
            ours: Some(("5:13", "unknown keyword 'nb_get_retry' in this checker")),
            keepalived: &[(Some(5), "Unknown keyword 'nb_get_retry'")],
            not_keepalived: &[],
            check: |c| assert_eq!(rs(c, 0).checkers[0].common.retry, 1),
        },
        Case {
            name: "a checker block on one line: only its first keyword is read",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    lb_kind NAT\n    real_server 192.0.2.11 80 {\n        TCP_CHECK { connect_timeout 2 retry 3 }\n    }\n}\n",
            ours: Some(("5:39", "'retry 3' after the value is not read")),
            keepalived: &[],
            not_keepalived: &["Unknown keyword 'retry'", "connect_timeout"],
            check: |c| {
                let common = &rs(c, 0).checkers[0].common;
                assert_eq!(common.connect_timeout, Duration::from_secs(2));
                assert_eq!(common.retry, 1);
            },
        },
        Case {
            name: "nb_get_retry in HTTP_GET is retry",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n        HTTP_GET {\n            nb_get_retry 7\n            url {\n                path /\n            }\n        }\n    }\n}\n",
            ours: Some(("5:13", "nb_get_retry is deprecated")),
            keepalived: &[(Some(5), "nb_get_retry is deprecated - please use 'retry'")],
            not_keepalived: &["Unknown keyword 'nb_get_retry'"],
            check: |c| assert_eq!(rs(c, 0).checkers[0].common.retry, 7),
        },
        Case {
            name: "url without path is dropped, bad status code and digest ignored",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n        HTTP_GET {\n            url {\n                status_code 200\n            }\n            url {\n                path /ok\n                status_code 99 301\n                digest xyz\n            }\n        }\n    }\n}\n",
            ours: Some(("10:29", "invalid code or range '99'")),
            keepalived: &[
                (None, "HTTP/SSL_GET checker url has no path - ignoring"),
                (Some(10), "Invalid HTTP_GET status code '99'"),
                (Some(11), "digest 'xyz' character length should be 32 rather than 3"),
            ],
            not_keepalived: &[],
            check: |c| {
                let CheckerKind::Http(h) = &rs(c, 0).checkers[0].kind else {
                    panic!("HTTP_GET")
                };
                assert_eq!(h.urls.len(), 1);
                assert_eq!(h.urls[0].path, "/ok");
                assert_eq!(h.urls[0].status_codes, [StatusRange { min: 301, max: 301 }]);
                assert_eq!(h.urls[0].digest, None);
            },
        },
        Case {
            name: "http_protocol matched exactly",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n        HTTP_GET {\n            http_protocol 1.1x\n            url {\n                path /\n            }\n        }\n    }\n}\n",
            ours: Some(("5:27", "invalid http_protocol version '1.1x'")),
            keepalived: &[(Some(5), "Invalid http_protocol version 1.1x")],
            not_keepalived: &[],
            check: |c| {
                let CheckerKind::Http(h) = &rs(c, 0).checkers[0].kind else {
                    panic!("HTTP_GET")
                };
                assert_eq!(h.http_protocol, HttpProtocol::V1_0);
            },
        },
        Case {
            name: "MISC_CHECK without misc_path is dropped",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n        MISC_CHECK {\n            misc_timeout 3\n        }\n    }\n}\n",
            ours: Some(("4:9", "No script path has been specified for MISC_CHECKER")),
            keepalived: &[(None, "No script path has been specified for MISC_CHECKER - skipping")],
            not_keepalived: &[],
            check: |c| assert!(rs(c, 0).checkers.is_empty()),
        },
        Case {
            name: "DNS type: any case, unknown ignored",
            conf: "virtual_server 192.0.2.100 53 {\n    protocol UDP\n    real_server 192.0.2.11 53 {\n        DNS_CHECK {\n            type aaaa\n        }\n        DNS_CHECK {\n            type BOGUS\n        }\n    }\n}\n",
            ours: Some(("8:18", "unknown DNS type 'BOGUS'")),
            keepalived: &[(Some(8), "Unknown DNS check type BOGUS - ignoring")],
            not_keepalived: &["Unknown DNS check type aaaa"],
            check: |c| {
                let t = |i: usize| match &rs(c, 0).checkers[i].kind {
                    CheckerKind::Dns(d) => d.query_type,
                    _ => panic!("DNS_CHECK"),
                };
                assert_eq!((t(0), t(1)), (DnsType::Aaaa, DnsType::Soa));
            },
        },
        Case {
            name: "unreadable real server address skips the real server",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.300 80 {\n        TCP_CHECK {\n        }\n    }\n    real_server 192.0.2.12 80 {\n    }\n}\n",
            ours: Some(("3:17", "skipping this real server")),
            keepalived: &[(Some(3), "Invalid real server ip address/port 192.0.2.300/80 - skipping")],
            not_keepalived: &["has no real servers"],
            check: |c| {
                assert_eq!(vs(c).real_servers.len(), 1);
                assert_eq!(rs(c, 0).addr.to_string(), "192.0.2.12");
            },
        },
        Case {
            name: "real server of the other family is skipped",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 2001:db8::11 80 {\n    }\n    real_server 192.0.2.12 80 {\n    }\n}\n",
            ours: Some(("3:5", "don't match - skipping real server")),
            keepalived: &[(
                None,
                "Address family of virtual server and real server 2001:db8::11 don't match - skipping real server.",
            )],
            not_keepalived: &[],
            check: |c| assert_eq!(vs(c).real_servers.len(), 1),
        },
        Case {
            name: "sorry_server_inhibit before sorry_server",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    sorry_server_inhibit\n    sorry_server 192.0.2.50 80\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("3:5", "used before or without sorry_server")),
            keepalived: &[(
                Some(3),
                "Ignoring sorry_server inhibit used before or without sorry_server",
            )],
            not_keepalived: &[],
            check: |c| assert!(!vs(c).sorry_server.as_ref().expect("sorry").inhibit),
        },
        Case {
            name: "sh-port before lb_algo sh",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    sh-port\n    lb_algo sh\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("3:5", "'sh-port' only applies to the sh scheduler")),
            keepalived: &[(Some(3), "sh-port only applies to sh scheduler - ignoring")],
            not_keepalived: &[],
            check: |c| assert!(!vs(c).sched_flags.flag_2),
        },
        Case {
            name: "lvs_flags is not a 2.2.7 keyword",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    lvs_flags flag-1\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("3:5", "unknown keyword 'lvs_flags'")),
            keepalived: &[(Some(3), "Unknown keyword 'lvs_flags'")],
            not_keepalived: &[],
            check: |c| assert!(!vs(c).sched_flags.flag_1),
        },
        Case {
            name: "FILE_CHECK on an undefined track file is dropped",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n        FILE_CHECK {\n            track_file nosuch\n        }\n    }\n}\n",
            ours: Some(("5:24", "track_file 'nosuch' not found")),
            keepalived: &[
                (Some(5), "track_file nosuch not found"),
                (None, "FILE_CHECK has no track_file specified - ignoring"),
            ],
            not_keepalived: &[],
            check: |c| assert!(rs(c, 0).checkers.is_empty()),
        },
        Case {
            name: "virtual_server_group entry with host bits is skipped",
            conf: "virtual_server_group G {\n    192.0.2.1/24 80\n    192.0.2.10 80\n}\nvirtual_server group G {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("2:5", "Address mask bits not empty - 192.0.2.1/24")),
            keepalived: &[(Some(2), "Address mask bits not empty - 192.0.2.1/24 - skipping")],
            not_keepalived: &[],
            check: |c| assert_eq!(c.virtual_server_groups[0].members.len(), 1),
        },
        Case {
            name: "empty virtual_server_group is removed",
            conf: "virtual_server_group G {\n    192.0.2.1/24 80\n}\nvirtual_server group G {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("1:1", "has no entries - removing it")),
            keepalived: &[(None, "virtual server group G has no entries - removing")],
            not_keepalived: &[],
            check: |c| {
                assert!(c.virtual_server_groups.is_empty());
                assert!(c.virtual_servers.is_empty());
            },
        },
        Case {
            name: "virtualhost without a value is ignored",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    virtualhost\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("3:5", "virtual server virtualhost missing - ignoring this line")),
            keepalived: &[(Some(3), "virtual server virtualhost missing")],
            not_keepalived: &[],
            check: |c| assert_eq!(vs(c).virtualhost, None),
        },
        Case {
            name: "SSL file without a value is ignored",
            conf: "SSL {\n    password\n    ca /etc/ssl/ca.pem\n}\nvirtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("2:5", "SSL password missing")),
            keepalived: &[(Some(2), "SSL password missing")],
            not_keepalived: &[],
            check: |c| {
                let ssl = c.ssl.as_ref().expect("SSL");
                assert_eq!(ssl.password, None);
                assert!(ssl.ca.is_some());
            },
        },
        Case {
            name: "a second notify_up is ignored",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n        notify_up /bin/true\n        notify_up /bin/false\n    }\n}\n",
            ours: Some(("5:9", "notify_up script already specified - ignoring")),
            keepalived: &[(Some(5), "notify_up script already specified - ignoring")],
            not_keepalived: &[],
            check: |c| {
                assert_eq!(
                    rs(c, 0).notify_up.as_ref().map(|n| n.command.as_str()),
                    Some("/bin/true")
                )
            },
        },
        Case {
            name: "persistence_engine name truncated",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    persistence_engine abcdefghijklmnopq\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("3:5", "truncating to 'abcdefghijklmno'")),
            keepalived: &[(Some(3), "persistence_name too long, truncating - abcdefghijklmnopq")],
            not_keepalived: &[],
            check: |c| assert_eq!(vs(c).persistence_engine.as_deref(), Some("abcdefghijklmno")),
        },
        Case {
            name: "a real server that is the sorry server sets its inhibit",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    sorry_server 192.0.2.11 80\n    real_server 192.0.2.11 80 {\n        inhibit_on_failure\n    }\n}\n",
            ours: Some(("1:1", "matches the sorry server, but inhibit_on_failure differs; setting it")),
            keepalived: &[(None, "matches sorry server, but inhibit setting differs, setting on sorry server")],
            not_keepalived: &[],
            check: |c| assert!(vs(c).sorry_server.as_ref().expect("sorry").inhibit),
        },
        Case {
            name: "no forwarding method: NAT",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n    }\n}\n",
            ours: Some(("1:1", "no forwarding method set, setting default NAT")),
            keepalived: &[(None, "no forwarding method set, setting default NAT")],
            not_keepalived: &[],
            check: |c| assert_eq!(rs(c, 0).lvs_method, ForwardingMethod::Nat),
        },
        Case {
            name: "every real server with its own method: no default needed",
            conf: "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n        lvs_method DR\n    }\n}\n",
            ours: None,
            keepalived: &[],
            not_keepalived: &["no forwarding method set"],
            check: |c| assert_eq!(rs(c, 0).lvs_method, ForwardingMethod::Dr),
        },
        Case {
            name: "persistence_granularity makes the service persistent",
            conf: "virtual_server 192.0.2.100 {\n    protocol TCP\n    lb_kind NAT\n    persistence_granularity 255.255.255.0\n    real_server 192.0.2.11 {\n    }\n}\n",
            ours: None,
            keepalived: &[],
            not_keepalived: &["zero port only valid for persistent services"],
            check: |c| {
                assert_eq!(vs(c).persistence_timeout, Some(Duration::from_secs(360)));
            },
        },
    ]
}

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("test".to_string()),
    }
}

/// Our warning at the expected position, and our effective value.
#[test]
fn our_fixups_warn_and_apply() {
    let mut failures = Vec::new();
    for case in cases() {
        let loaded = match parse_str(case.conf, "lvs.conf", &opts()) {
            Ok(l) => l,
            Err(e) => {
                failures.push(format!("{}: refused: {e}", case.name));
                continue;
            }
        };
        let got: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
        match case.ours {
            Some((at, needle)) => {
                let hit = loaded.warnings.iter().any(|w| {
                    format!("{}:{}", w.line, w.col) == at
                        && w.message.contains(needle)
                        && w.message.contains("keepalived")
                });
                if !hit {
                    failures.push(format!(
                        "{}: expected {at} '{needle}', got:\n{}",
                        case.name,
                        got.join("\n")
                    ));
                }
            }
            None => {
                if !got.is_empty() {
                    failures.push(format!(
                        "{}: unexpected warnings:\n{}",
                        case.name,
                        got.join("\n")
                    ));
                }
            }
        }
        let check = case.check;
        let config = loaded.config;
        if let Err(p) = std::panic::catch_unwind(|| check(&config)) {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: effective value: {msg}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn judge(case: &Case, run: &KeepalivedRun) -> Option<String> {
    let mut bad = Vec::new();
    let positioned = run.positioned();
    for (line, needle) in case.keepalived {
        let found = match line {
            Some(l) => positioned.iter().any(|(n, m)| n == l && m.contains(needle)),
            None => run.lines.iter().any(|m| m.contains(needle)),
        };
        if !found {
            bad.push(format!("missing {line:?} '{needle}'"));
        }
    }
    // A crash is not a fix-up: keepalived cannot run such a config.
    if run
        .lines
        .iter()
        .any(|m| m.contains("died: Respawning") || m.contains("Please report a bug"))
    {
        bad.push("keepalived's checker process crashed".to_string());
    }
    for needle in case.not_keepalived {
        if run.lines.iter().any(|m| m.contains(needle)) {
            bad.push(format!("unexpected '{needle}'"));
        }
    }
    (!bad.is_empty()).then(|| {
        format!(
            "{}: {}\nkeepalived said:\n{}",
            case.name,
            bad.join("; "),
            run.text()
        )
    })
}

/// keepalived 2.2.7 logs the same fix-up for every case (at the same
/// line), and its later messages agree with our effective value.
#[test]
fn keepalived_applies_the_same_fixups() {
    if !prerequisites(&[Need::Root, Need::Keepalived, Need::Tool("ip")]) {
        return;
    }
    let cases = cases();
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(4))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|case| judge(case, &keepalived_dump(case.conf, &[])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("oracle thread"))
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The lab fixtures (tests/data/lvs-fixups, for the qemu ipvsadm comparison
/// with keepalived) load with the effective values their comments promise.
#[test]
fn lab_fixtures_load_as_documented() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/lvs-fixups");
    let load = |name: &str| {
        rkeepalived_config::load(&dir.join(name), &opts())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .config
    };
    let c = load("keepalived.conf.method_and_scheduler");
    let a = &c.virtual_servers[0];
    assert_eq!(
        (a.lvs_sched, a.lvs_method),
        (Scheduler::Wlc, ForwardingMethod::Nat)
    );
    let rs: Vec<(Option<u16>, u32)> = a.real_servers.iter().map(|r| (r.port, r.weight)).collect();
    assert_eq!(rs, [(Some(8080), 3), (Some(8081), 1)]);
    let b = &c.virtual_servers[1];
    assert_eq!(
        (b.lvs_sched, b.lvs_method),
        (Scheduler::Wlc, ForwardingMethod::Dr)
    );
    assert_eq!(b.sched_flags, SchedulerFlags::default());
    let r = &b.real_servers[0];
    assert_eq!(
        (r.port, r.weight, r.lvs_method),
        (Some(443), 4, ForwardingMethod::Dr)
    );

    let c = load("keepalived.conf.dropped_checkers");
    let a = &c.virtual_servers[0];
    assert_eq!(a.protocol, Protocol::Tcp);
    assert_eq!(a.real_servers.len(), 1);
    assert!(a.real_servers[0].checkers.is_empty());
    assert_eq!(c.virtual_servers[1].protocol, Protocol::Udp);
}

/// A NAT real server without a port takes the virtual server's; if an
/// earlier real server already has that address and port, the two are one
/// IPVS destination: the second is dropped with a warning (keepalived's
/// duplicate check runs before the port is filled in, so it adds it twice
/// and the kernel refuses the second). Found by the print_round_trip fuzz
/// target: printing the effective port made the reparse drop it.
#[test]
fn port_less_duplicate_of_an_earlier_real_server_is_one_destination() {
    let text = "virtual_server 2001:db8:10::10 443 {\n    protocol TCP\n    lb_kind NAT\n    real_server 2001:db8:20::1 443 {\n    }\n    real_server 2001:db8:20::1 {\n    }\n}\n";
    let opts = rkeepalived_config::LoadOptions {
        config_id: Some("x".into()),
    };
    let l = rkeepalived_config::parse_str(text, "k.conf", &opts).expect("loads");
    let rs: Vec<_> = l.config.virtual_servers[0]
        .real_servers
        .iter()
        .map(|r| (r.addr.to_string(), r.port))
        .collect();
    assert_eq!(rs, [("2001:db8:20::1".to_string(), Some(443))]);
    assert!(
        l.warnings.iter().any(|w| w
            .message
            .contains("the same IPVS destination as an earlier real_server")),
        "{:?}",
        l.warnings
    );
    let again =
        rkeepalived_config::parse_str(&rkeepalived_config::print(&l.config), "p.conf", &opts)
            .expect("printed config loads");
    assert_eq!(again.config, l.config);
}
