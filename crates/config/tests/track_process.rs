//! `vrrp_track_process` and an instance's `track_process` list, read as
//! keepalived 2.2.7 reads them (vrrp/vrrp_parser.c `vrrp_tprocess_*_handler()`,
//! vrrp/vrrp_track.c `alloc_track_process()`): defaults, implied settings,
//! fix-up messages, and a print/parse round trip.

use std::time::Duration;

use rkeepalived_config::model::ParamMatch;
use rkeepalived_config::{parse_str, print, LoadOptions, Loaded};

fn load(text: &str) -> Loaded {
    let opts = LoadOptions {
        config_id: Some("x".into()),
    };
    parse_str(text, "k.conf", &opts).expect("loads")
}

fn warned(l: &Loaded, needle: &str) -> bool {
    l.warnings.iter().any(|w| w.to_string().contains(needle))
}

const INSTANCE: &str = "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.10/24
    }
    track_process {
        haproxy
        sleeper weight 10 reverse
        missing
        haproxy
    }
}
";

#[test]
fn vrrp_track_process_defaults_fixups_and_round_trip() {
    let text = format!(
        "vrrp_track_process haproxy {{
    process haproxy
    quorum 1
    delay 2
}}
vrrp_track_process sleeper {{
    param_match initial
    process /bin/sleep 36 ab
    quorum_max 3
    quorum 2
    weight -5
    weight 7
    fork_delay 0.5
    terminate_delay 0
}}
vrrp_track_process noproc {{
    quorum 2
}}
vrrp_track_process zero {{
    process x
    quorum_max 0
    param_match bogus
}}
{INSTANCE}"
    );
    let l = load(&text);
    let c = &l.config;
    assert_eq!(c.vrrp_track_processes.len(), 3, "noproc is removed");
    let h = &c.vrrp_track_processes[0];
    assert_eq!((h.process.as_str(), h.full_command), ("haproxy", false));
    assert_eq!((h.quorum, h.quorum_max), (1, u32::MAX));
    assert_eq!(h.param_match, ParamMatch::None);
    assert_eq!(h.terminate_delay, Some(Duration::from_secs(2)));
    assert_eq!(h.fork_delay, Some(Duration::from_secs(2)));
    assert_eq!(h.weight, 0);
    let s = &c.vrrp_track_processes[1];
    assert_eq!(s.process, "/bin/sleep");
    assert_eq!(s.params, ["36", "ab"]);
    assert_eq!(
        s.param_match,
        ParamMatch::Initial,
        "kept: set before process"
    );
    assert!(s.full_command, "parameters imply full_command");
    assert_eq!((s.quorum, s.quorum_max), (2, 3));
    assert_eq!(s.weight, -5, "the first weight counts");
    assert!(warned(
        &l,
        "Weight already set for track process sleeper - ignoring 7"
    ));
    assert_eq!(s.fork_delay, Some(Duration::from_millis(500)));
    assert_eq!(s.terminate_delay, None);
    assert!(warned(
        &l,
        "terminate_delay (0) for vrrp_track_process sleeper must be between [0.000001..3600]"
    ));
    assert!(warned(
        &l,
        "track process 'noproc' process name not specified"
    ));
    let z = &c.vrrp_track_processes[2];
    assert_eq!(
        (z.quorum, z.quorum_max),
        (0, 0),
        "quorum_max 0: no process wanted"
    );
    assert!(warned(&l, "Invalid param_match type bogus - ignoring"));

    let refs = &c.vrrp_instances[0].track_processes;
    assert_eq!(refs.len(), 2, "{refs:?}");
    assert_eq!(
        (refs[0].name.as_str(), refs[0].weight, refs[0].reverse),
        ("haproxy", 0, false)
    );
    assert_eq!(
        (refs[1].name.as_str(), refs[1].weight, refs[1].reverse),
        ("sleeper", 10, true)
    );
    assert!(warned(
        &l,
        "track_process 'missing' is not a defined vrrp_track_process"
    ));
    assert!(warned(&l, "duplicate track_process haproxy - ignoring"));
    assert!(l.not_acted_on.is_empty(), "{:?}", l.not_acted_on);

    // What the printer writes reads back to the same model.
    let printed = print(c);
    let again = load(&printed);
    assert_eq!(
        again.config.vrrp_track_processes, c.vrrp_track_processes,
        "{printed}"
    );
    assert_eq!(
        again.config.vrrp_instances[0].track_processes, *refs,
        "{printed}"
    );
}

/// `quorum` above `quorum_max` and `quorum_max` below `quorum` are ignored.
#[test]
fn quorum_max_and_quorum_checked_against_each_other() {
    let l = load(&format!(
        "vrrp_track_process haproxy {{
    process haproxy
    quorum_max 2
    quorum 3
}}
vrrp_track_process sleeper {{
    process sleep
    quorum 4
    quorum_max 3
}}
{INSTANCE}"
    ));
    let c = &l.config;
    assert_eq!(
        (
            c.vrrp_track_processes[0].quorum,
            c.vrrp_track_processes[0].quorum_max
        ),
        (1, 2)
    );
    assert_eq!(
        (
            c.vrrp_track_processes[1].quorum,
            c.vrrp_track_processes[1].quorum_max
        ),
        (4, u32::MAX)
    );
    assert!(warned(&l, "Quorum is greater than quorum_max - ignoring"));
    assert!(warned(&l, "quorum_max is less than quorum - ignoring"));
}

/// A sync group's `track_process` list is read like an instance's.
#[test]
fn sync_group_track_process() {
    let l = load(&format!(
        "vrrp_track_process haproxy {{
    process haproxy
    weight 5
}}
vrrp_track_process sleeper {{
    process sleep
}}
{INSTANCE}vrrp_sync_group G {{
    group {{
        VI_1
    }}
    track_process {{
        haproxy weight -3
    }}
}}
"
    ));
    let g = &l.config.vrrp_sync_groups[0];
    assert_eq!(g.track_processes.len(), 1);
    assert_eq!(
        (
            g.track_processes[0].name.as_str(),
            g.track_processes[0].weight
        ),
        ("haproxy", -3)
    );
    assert!(l.not_acted_on.is_empty(), "{:?}", l.not_acted_on);
    let again = load(&print(&l.config));
    assert_eq!(
        again.config.vrrp_sync_groups[0].track_processes,
        g.track_processes
    );
}
