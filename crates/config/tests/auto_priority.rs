//! `max_auto_priority [N]` and `min_auto_priority_delay USECS` read as
//! keepalived 2.2.7's `max_auto_priority_handler()` /
//! `min_auto_priority_delay_handler()` (core/global_parser.c) read them:
//! no value is the SCHED_RR maximum (99), -1 disables, a value outside
//! [-1, 99] or a delay outside [1, 10000000] µs is reported and ignored.
//! With root and keepalived, its `--dump-conf` shows the same effective
//! values ("Max auto priority = N", "Min auto priority delay = N usecs").

use std::time::Duration;

use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_testkit::oracle::keepalived_dump;

fn conf(global: &str) -> String {
    format!("global_defs {{\n    router_id test\n{global}}}\n\nvrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 1\n    priority 100\n    virtual_ipaddress {{\n        192.0.2.1/24\n    }}\n}}\n")
}

/// (configuration lines, max_auto_priority, min_auto_priority_delay µs,
/// keepalived's dump line for the maximum, whether a warning is expected)
const CASES: &[(&str, i32, u64, &str, bool)] = &[
    ("", 0, 1_000_000, "Max auto priority = 0", false),
    (
        "    max_auto_priority\n    min_auto_priority_delay 250000\n",
        99,
        250_000,
        "Max auto priority = 99",
        false,
    ),
    (
        "    max_auto_priority 7\n",
        7,
        1_000_000,
        "Max auto priority = 7",
        false,
    ),
    (
        "    max_auto_priority -1\n",
        -1,
        1_000_000,
        "Max auto priority = Disabled",
        false,
    ),
    (
        "    max_auto_priority 150\n    min_auto_priority_delay 0\n",
        0,
        1_000_000,
        "Max auto priority = 0",
        true,
    ),
];

#[test]
fn max_auto_priority_and_min_auto_priority_delay_as_keepalived_reads_them() {
    let opts = LoadOptions {
        config_id: Some("test".into()),
    };
    let with_keepalived = rkeepalived_testkit::prerequisites(&[
        rkeepalived_testkit::Need::Root,
        rkeepalived_testkit::Need::Keepalived,
    ]);
    for (lines, max, delay_us, ka_line, warns) in CASES {
        let text = conf(lines);
        let loaded = parse_str(&text, "keepalived.conf", &opts).expect("parses");
        let g = &loaded.config.global_defs;
        assert_eq!(g.max_auto_priority, *max, "{lines}");
        assert_eq!(
            g.min_auto_priority_delay,
            Duration::from_micros(*delay_us),
            "{lines}"
        );
        let ours: Vec<String> = loaded
            .warnings
            .iter()
            .map(|w| w.message.clone())
            .filter(|m| m.contains("auto_priority"))
            .collect();
        assert_eq!(!ours.is_empty(), *warns, "{lines}: {ours:?}");
        assert!(
            !loaded
                .not_acted_on
                .iter()
                .any(|k| k.contains("auto_priority")),
            "acted on: {:?}",
            loaded.not_acted_on
        );
        if with_keepalived {
            let run = keepalived_dump(&text, &["eth0"]);
            let dump = run.text();
            assert!(dump.contains(ka_line), "keepalived: {dump}");
            assert!(
                dump.contains(&format!("Min auto priority delay = {delay_us} usecs")),
                "keepalived: {dump}"
            );
            if *warns {
                assert!(
                    dump.contains("must be in [0, 99] (or -1 to disable) - ignoring"),
                    "{dump}"
                );
                assert!(
                    ours.iter()
                        .any(|m| m.contains("must be in [0, 99] (or -1 to disable)")),
                    "{ours:?}"
                );
            }
        }
    }
}

/// `process_monitor_rcv_bufs N` (0 leaves the default) and
/// `process_monitor_rcv_bufs_force [BOOL]`, as keepalived's handlers read
/// them (its dump: "process_monitor_rcv_bufs = N", "..._force = 0|1").
#[test]
fn process_monitor_rcv_bufs_as_keepalived_reads_them() {
    let opts = LoadOptions {
        config_id: Some("test".into()),
    };
    let with_keepalived = rkeepalived_testkit::prerequisites(&[
        rkeepalived_testkit::Need::Root,
        rkeepalived_testkit::Need::Keepalived,
    ]);
    let cases: &[(&str, Option<u32>, bool)] = &[
        ("    process_monitor_rcv_bufs 0\n", None, false),
        (
            "    process_monitor_rcv_bufs 262144\n    process_monitor_rcv_bufs_force\n",
            Some(262_144),
            true,
        ),
        (
            "    process_monitor_rcv_bufs 65536\n    process_monitor_rcv_bufs_force false\n",
            Some(65_536),
            false,
        ),
    ];
    for (lines, size, force) in cases {
        let text = conf(lines);
        let loaded = parse_str(&text, "keepalived.conf", &opts).expect("parses");
        let g = &loaded.config.global_defs;
        assert_eq!(
            (g.process_monitor_rcv_bufs, g.process_monitor_rcv_bufs_force),
            (*size, *force),
            "{lines}"
        );
        assert!(
            !loaded
                .not_acted_on
                .iter()
                .any(|k| k.starts_with("process_monitor")),
            "{:?}",
            loaded.not_acted_on
        );
        if with_keepalived {
            let dump = keepalived_dump(&text, &["eth0"]).text();
            assert!(
                dump.contains(&format!("process_monitor_rcv_bufs = {}", size.unwrap_or(0))),
                "keepalived: {dump}"
            );
            assert!(
                dump.contains(&format!(
                    "process_monitor_rcv_bufs_force = {}",
                    u8::from(*force)
                )),
                "keepalived: {dump}"
            );
        }
    }
}
