//! keepalived 2.2.7 runs these configurations after its own fix-ups in
//! global_defs, vrrp_script and the include/lexer layer; so do we, with the
//! same effective values and a positioned warning "(as keepalived does)".
//!
//! Each case pins (a) our warning's `line:col` and wording, (b) the value in
//! our model, and (c) with root + keepalived, keepalived's own message at the
//! same line and, where its `-d` dump shows it, the same effective value
//! (all cases share one config so keepalived is started once).

use rkeepalived_config::model::Config;
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_testkit::oracle::{keepalived_dump, KeepalivedRun};

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("test".to_string()),
    }
}

/// One config, line numbers matter (see `CASES`).
const CONF: &str = "global_defs {
    router_id
    smtp_connect_timeout 0
    smtp_alert maybe
    vrrp_mcast_group4 192.0.2.1
    vrrp_garp_master_repeat 0
    vrrp_garp_master_refresh abc
    vrrp_garp_master_refresh_repeat 7;
    vrrp_garp_master_delay 9x
    vrrp_garp_lower_prio_repeat -1
    vrrp_down_timer_adverts 500
    vrrp_version 4
    vrrp_strict off
    vrrp_skip_check_adv_addr no
    lvs_timeouts tcp 50 udp x tcpfin
    vrrp_rt_priority 200
    vrrp_priority 30
    lvs_flush_on_stop on
    dynamic_interfaces foo
    notify_fifo_script /bin/true
    notify_fifo /tmp/rk-fixups-global.fifo
    smtp_alert_vrrp YES
}
include /nonexistent-rkeepalived/x.conf
vrrp_script chk_none {
    interval 2
}
vrrp_script chk_ok {
    script \"/bin/true\"
    interval 0
    timeout abc
    weight 300 foo
    rise x
    fall 0
}
vrrp_script chk_ok {
    script \"/bin/false\"
    weight 5
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.10
    }
    track_script {
        chk_none
        chk_ok
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    virtual_ipaddress {
        192.0.2.11
    }
}
vrrp_sync_group G1 {
    group {
        VI_2
    }
}
vrrp_sync_group G2 {
    group {
        VI_2
    }
}
global_defs {
    router_id R1#x
    smtp_helo_name h\\#1
}
global_defs {
    notification_email_from \"unterminated
    default_interface it's
}
";

/// How keepalived shows the value in its `-d` dump.
#[derive(Clone, Copy)]
enum Dump {
    /// Not shown (or not comparable): keepalived's message is the proof.
    None,
    /// `KEY = VALUE` in "Global definitions".
    Global(&'static str),
    /// `KEY = VALUE` of script `chk_ok` in "VRRP Scripts".
    Script(&'static str),
    /// `KEY = VALUE` of VI_1 in "VRRP Topology".
    Instance(&'static str),
}

struct Case {
    /// Our warning: "line:col" and a substring.
    at: &'static str,
    ours: &'static str,
    /// Our effective value, formatted as keepalived's dump shows it.
    value: fn(&Config) -> String,
    expected: &'static str,
    /// keepalived's message at the same line ("N|message" when keepalived
    /// reports it at line N, e.g. at the closing brace of the block; N = 0:
    /// logged after parsing, without a line).
    keepalived: &'static str,
    dump: Dump,
}

fn secs(d: std::time::Duration) -> String {
    d.as_secs().to_string()
}

fn script(c: &Config) -> &rkeepalived_config::model::VrrpScript {
    c.vrrp_script("chk_ok").expect("chk_ok kept")
}

const CASES: &[Case] = &[
    Case {
        at: "2:5",
        ours: "'router_id' needs a value; ignoring this line (as keepalived does)",
        // (set again at line 71)
        value: |c| format!("{:?}", c.global_defs.router_id),
        expected: "Some(\"R1\")",
        keepalived: "routerid name missing - ignoring",
        dump: Dump::None,
    },
    Case {
        at: "3:5",
        ours: "smtp_connect_timeout must be greater than 0; using 1 (as keepalived does)",
        value: |c| secs(c.global_defs.smtp_connect_timeout),
        expected: "1",
        keepalived: "smtp_conect_timeout must be greater than 0, setting to 1",
        dump: Dump::Global("Smtp server connection timeout"),
    },
    Case {
        at: "4:16",
        ours: "'smtp_alert': invalid boolean 'maybe' (expected on|off|true|false|yes|no); ignoring this line (as keepalived does)",
        value: |c| c.global_defs.smtp_alert.to_string(),
        expected: "false",
        keepalived: "Invalid value 'maybe' for global smtp_alert specified",
        dump: Dump::None,
    },
    Case {
        at: "5:23",
        ours: "vrrp_mcast_group4 [192.0.2.1] is not multicast, keeping the default group; ignoring this line (as keepalived does)",
        value: |c| c.global_defs.vrrp_mcast_group4.to_string(),
        expected: "224.0.0.18",
        keepalived: "vrrp_mcast_group4 [192.0.2.1] is not multicast. Skipping",
        dump: Dump::Global("VRRP IPv4 mcast group"),
    },
    Case {
        at: "6:5",
        ours: "vrrp_garp_master_repeat must be greater than 0, setting to 1 (as keepalived does)",
        value: |c| c.global_defs.vrrp_garp_master_repeat.to_string(),
        expected: "1",
        keepalived: "vrrp_garp_master_repeat must be greater than 0, setting to 1",
        dump: Dump::Global("Gratuitous ARP repeat"),
    },
    Case {
        at: "7:30",
        ours: "'vrrp_garp_master_refresh': invalid number 'abc'; using 0 (as keepalived does)",
        value: |c| secs(c.global_defs.vrrp_garp_master_refresh.unwrap_or_default()),
        expected: "0",
        keepalived: "WARNING - invalid number 'abc'",
        dump: Dump::Global("Gratuitous ARP refresh timer"),
    },
    Case {
        // A trailing ';' is not stripped: keepalived's number reader stops
        // there and, in the running daemon, uses the number.
        at: "8:37",
        ours: "'vrrp_garp_master_refresh_repeat': invalid number '7;'; using 7 (as keepalived does)",
        value: |c| c.global_defs.vrrp_garp_master_refresh_repeat.to_string(),
        expected: "7",
        keepalived: "WARNING - invalid number '7;'",
        dump: Dump::Global("Gratuitous ARP refresh repeat"),
    },
    Case {
        // ... and every instance inherits it.
        at: "8:37",
        ours: "'vrrp_garp_master_refresh_repeat': invalid number '7;'; using 7 (as keepalived does)",
        value: |c| c.vrrp_instances[0].garp_master_refresh_repeat.to_string(),
        expected: "7",
        keepalived: "WARNING - invalid number '7;'",
        dump: Dump::Instance("Gratuitous ARP refresh repeat"),
    },
    Case {
        at: "9:28",
        ours: "'vrrp_garp_master_delay': invalid number '9x'; using 9 (as keepalived does)",
        value: |c| secs(c.global_defs.vrrp_garp_master_delay),
        expected: "9",
        keepalived: "WARNING - invalid number '9x'",
        dump: Dump::Global("Gratuitous ARP delay"),
    },
    Case {
        // Ignored; unset, it follows vrrp_garp_master_repeat (1).
        at: "10:33",
        ours: "'vrrp_garp_lower_prio_repeat': invalid value '-1' (expected an integer 0..2147483647); ignoring this line (as keepalived does)",
        value: |c| c.global_defs.vrrp_garp_lower_prio_repeat.to_string(),
        expected: "1",
        keepalived: "Invalid vrrp_garp_lower_prio_repeat '-1'",
        dump: Dump::Global("Gratuitous ARP lower priority repeat"),
    },
    Case {
        at: "11:29",
        ours: "'vrrp_down_timer_adverts': invalid value '500' (expected an integer 1..100); ignoring this line (as keepalived does)",
        value: |c| c.global_defs.vrrp_down_timer_adverts.to_string(),
        expected: "3",
        keepalived: "Invalid vrrp_down_timer_adverts [1:100] '500'",
        dump: Dump::Global("Num adverts before down"),
    },
    Case {
        at: "12:18",
        ours: "'vrrp_version': invalid value '4' (expected an integer 2..3); ignoring this line (as keepalived does)",
        value: |c| c.global_defs.vrrp_version.number().to_string(),
        expected: "2",
        keepalived: "VRRP Error: Version must be either 2 or 3",
        dump: Dump::Global("VRRP default protocol version"),
    },
    Case {
        // keepalived's handler reads no argument: `vrrp_strict off` is ON.
        at: "13:17",
        ours: "'vrrp_strict' takes no value; 'off' ignored and vrrp_strict set (as keepalived does)",
        value: |c| c.global_defs.vrrp_strict.to_string(),
        expected: "true",
        keepalived: "",
        dump: Dump::Global("VRRP strict mode"),
    },
    Case {
        at: "14:30",
        ours: "'vrrp_skip_check_adv_addr' takes no value; 'no' ignored and vrrp_skip_check_adv_addr set (as keepalived does)",
        value: |c| c.global_defs.vrrp_skip_check_adv_addr.to_string(),
        expected: "true",
        keepalived: "",
        dump: Dump::Global("VRRP skip check advert addresses"),
    },
    Case {
        at: "15:29",
        ours: "Invalid lvs_timeout udp (x); ignoring it (as keepalived does)",
        value: |c| format!("{:?}", c.global_defs.lvs_timeouts.udp),
        expected: "None",
        keepalived: "Invalid lvs_timeout udp (x) - ignoring",
        dump: Dump::None,
    },
    Case {
        at: "15:31",
        ours: "No value specified for lvs_timeout tcpfin; ignoring it (as keepalived does)",
        value: |c| secs(c.global_defs.lvs_timeouts.tcp.unwrap_or_default()),
        expected: "50",
        keepalived: "No value specified for lvs_timeout tcpfin - ignoring",
        dump: Dump::Global("LVS TCP timeout"),
    },
    Case {
        at: "16:22",
        ours: "vrrp_rt_priority 200 outside 1..99 - setting to maximum 99 (as keepalived does)",
        value: |c| format!("{}", c.global_defs.vrrp_process.rt_priority.unwrap_or(0)),
        expected: "99",
        keepalived: "vrrp process real-time priority 200 greater than maximum 99 - setting to maximum",
        dump: Dump::Global("VRRP realtime priority"),
    },
    Case {
        at: "17:19",
        ours: "'vrrp_priority': invalid value '30' (expected an integer -20..19); ignoring this line (as keepalived does)",
        value: |c| format!("{}", c.global_defs.vrrp_process.priority.unwrap_or(0)),
        expected: "0",
        keepalived: "Invalid vrrp process priority specified",
        dump: Dump::Global("VRRP process priority"),
    },
    Case {
        at: "18:23",
        ours: "Unknown lvs_flush_on_stop type on (expected no value or VS); ignoring this line (as keepalived does)",
        value: |c| {
            match c.global_defs.lvs_flush_on_stop {
                rkeepalived_config::model::LvsFlushOnStop::No => "disabled",
                _ => "enabled",
            }
            .to_string()
        },
        expected: "disabled",
        keepalived: "Unknown lvs_flush_on_stop type on",
        dump: Dump::Global("LVS flush on stop"),
    },
    Case {
        at: "19:24",
        ours: "Unknown dynamic_interfaces option 'foo'; dynamic_interfaces is set (as keepalived does)",
        value: |c| c.global_defs.dynamic_interfaces.to_string(),
        expected: "true",
        keepalived: "Unknown dynamic_interfaces option 'foo'",
        dump: Dump::Global("Dynamic interfaces"),
    },
    Case {
        at: "22:21",
        ours: "'smtp_alert_vrrp': invalid boolean 'YES' (expected on|off|true|false|yes|no); ignoring this line (as keepalived does)",
        value: |c| c.global_defs.smtp_alert_vrrp.to_string(),
        expected: "false",
        keepalived: "Invalid value 'YES' for global smtp_alert_vrrp specified",
        dump: Dump::None,
    },
    Case {
        at: "24:9",
        ours: "Config files missing '/nonexistent-rkeepalived/x.conf' - skipping (as keepalived does)",
        value: |c| c.vrrp_instances.len().to_string(),
        expected: "2",
        keepalived: "Config files missing '/nonexistent-rkeepalived/x.conf'",
        dump: Dump::None,
    },
    Case {
        at: "25:1",
        ours: "No script set for vrrp_script chk_none - removing it (as keepalived does)",
        value: |c| format!("{}", c.vrrp_script("chk_none").is_some()),
        expected: "false",
        keepalived: "27|No script set for vrrp_script chk_none - removing",
        dump: Dump::None,
    },
    Case {
        at: "30:14",
        ours: "(chk_ok): vrrp script interval must be greater than 0, setting to 1 (as keepalived does)",
        value: |c| format!("{} sec", secs(script(c).interval)),
        expected: "1 sec",
        keepalived: "(chk_ok): vrrp script interval must be greater than 0, setting to 1",
        dump: Dump::Script("Interval"),
    },
    Case {
        at: "31:13",
        ours: "'timeout': invalid number 'abc'; using 0 (as keepalived does)",
        value: |c| format!("{} sec", secs(script(c).timeout)),
        expected: "1 sec",
        keepalived: "(chk_ok): vrrp script timeout must be greater than 0, setting to 1",
        dump: Dump::Script("Timeout"),
    },
    Case {
        at: "32:12",
        ours: "vrrp_script chk_ok weight 300 must be in [-253, 253]; using 300 anyway (as keepalived does)",
        value: |c| script(c).weight.to_string(),
        expected: "300",
        keepalived: "vrrp_script chk_ok weight 300 must be in [-253, 253]",
        dump: Dump::Script("Weight"),
    },
    Case {
        at: "32:16",
        ours: "vrrp_script chk_ok unknown weight option foo; ignoring it (as keepalived does)",
        value: |c| script(c).weight_reverse.to_string(),
        expected: "false",
        keepalived: "vrrp_script chk_ok unknown weight option foo",
        dump: Dump::None,
    },
    Case {
        at: "33:10",
        ours: "(chk_ok): vrrp script rise value 'x' invalid, defaulting to 1 (as keepalived does)",
        value: |c| script(c).rise.to_string(),
        expected: "1",
        keepalived: "(chk_ok): vrrp script rise value 'x' invalid, defaulting to 1",
        dump: Dump::Script("Rise"),
    },
    Case {
        at: "34:10",
        ours: "(chk_ok): vrrp script fall value '0' invalid, defaulting to 1 (as keepalived does)",
        value: |c| script(c).fall.to_string(),
        expected: "1",
        keepalived: "(chk_ok): vrrp script fall value '0' invalid, defaulting to 1",
        dump: Dump::Script("Fall"),
    },
    Case {
        // keepalived keeps both, tracks the first and drops the unused
        // second ("Warning - script chk_ok is not used", no line).
        at: "36:1",
        ours: "vrrp_script 'chk_ok' defined twice (first at line 28); ignoring this one (as keepalived does)",
        value: |c| script(c).script.clone(),
        expected: "/bin/true",
        keepalived: "",
        dump: Dump::None,
    },
    Case {
        at: "48:9",
        ours: "track_script 'chk_none' is not a defined vrrp_script; ignoring it (as keepalived does)",
        value: |c| {
            let v = &c.vrrp_instances[0];
            v.track_scripts
                .iter()
                .map(|t| format!("{} weight {}", t.name, t.weight))
                .collect::<Vec<_>>()
                .join(",")
        },
        expected: "chk_ok weight 300",
        keepalived: "(VI_1) track script chk_none not found, ignoring...",
        dump: Dump::None,
    },
    Case {
        at: "65:1",
        ours: "vrrp_sync_group 'G2': vrrp_instance 'VI_2' cannot exist in more than one sync group; ignoring it here (as keepalived does)",
        value: |c| {
            c.vrrp_sync_groups
                .iter()
                .map(|g| format!("{}:{}", g.name, g.group.join("+")))
                .collect::<Vec<_>>()
                .join(",")
        },
        expected: "G1:VI_2,G2:",
        keepalived: "0|Virtual router VI_2 cannot exist in more than one sync group; ignoring G2",
        dump: Dump::None,
    },
    Case {
        // keepalived's decomment(): '#'/'!' start a comment anywhere
        // outside quotes; "\#" is the character.
        at: "71:17",
        ours: "'#' starts a comment even inside a word; the rest of the line is ignored (as keepalived does",
        value: |c| format!("{:?}/{:?}", c.global_defs.router_id, c.global_defs.smtp_helo_name),
        expected: "Some(\"R1\")/Some(\"h#1\")",
        keepalived: "",
        dump: Dump::None,
    },
    Case {
        at: "75:29",
        ours: "unterminated quoted string; the rest of the line is ignored (as keepalived does)",
        value: |c| format!("{:?}", c.global_defs.notification_email_from),
        expected: "None",
        keepalived: "Unterminated quote",
        dump: Dump::None,
    },
    Case {
        at: "75:5",
        ours: "'notification_email_from' needs a value; ignoring this line (as keepalived does)",
        value: |c| format!("{:?}", c.global_defs.notification_email_from),
        expected: "None",
        keepalived: "emailfrom missing - ignoring",
        dump: Dump::None,
    },
    Case {
        // A lone apostrophe is a character, as in keepalived.
        at: "75:29",
        ours: "unterminated quoted string",
        value: |c| c.global_defs.default_interface.clone(),
        expected: "it's",
        keepalived: "",
        // keepalived's dump shows the resolved interface (eth0 when absent).
        dump: Dump::None,
    },
];

fn loaded() -> rkeepalived_config::Loaded {
    parse_str(CONF, "fixups.conf", &opts()).unwrap_or_else(|e| panic!("keepalived runs it:\n{e}"))
}

#[test]
fn global_and_script_fixups_warn_and_apply() {
    let l = loaded();
    let mut failures = Vec::new();
    for c in CASES {
        let hit = l
            .warnings
            .iter()
            .any(|d| format!("{}:{}", d.line, d.col) == c.at && d.message.contains(c.ours));
        if !hit {
            failures.push(format!("{}: no warning '{}'", c.at, c.ours));
        }
        let v = (c.value)(&l.config);
        if v != c.expected {
            failures.push(format!("{}: value {v}, expected {}", c.at, c.expected));
        }
    }
    let shown: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        failures.is_empty(),
        "{}\n--- our warnings:\n{}",
        failures.join("\n"),
        shown.join("\n")
    );
}

/// `KEY = VALUE` of script `name` in keepalived's "VRRP Scripts" dump.
fn script_value(run: &KeepalivedRun, name: &str, key: &str) -> Option<String> {
    let sec = run.section("VRRP Scripts");
    let start = sec
        .iter()
        .position(|l| l.trim() == format!("VRRP Script = {name}"))?;
    sec[start + 1..]
        .iter()
        .take_while(|l| !l.trim_start().starts_with("VRRP Script = "))
        .find_map(|l| {
            let (k, v) = l.trim().split_once(" = ")?;
            (k == key).then(|| v.to_string())
        })
}

/// The same config under keepalived 2.2.7: it runs, reports each case at
/// the same line, and its effective values equal ours.
#[test]
fn keepalived_applies_the_same_fixups() {
    if !rkeepalived_testkit::prerequisites(&[
        rkeepalived_testkit::Need::Root,
        rkeepalived_testkit::Need::Keepalived,
    ]) {
        return;
    }
    let l = loaded();
    let run = keepalived_dump(CONF, &["eth0"]);
    let positioned = run.positioned();
    let mut failures = Vec::new();
    assert!(
        !run.section("VRRP Topology").is_empty(),
        "keepalived did not run the config:\n{}",
        run.text()
    );
    for c in CASES {
        let line: u32 =
            c.at.split(':')
                .next()
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
        let (kline, said) = match c.keepalived.split_once('|') {
            Some((n, m)) => (n.parse().unwrap_or(0), m),
            None => (line, c.keepalived),
        };
        // Line 0: logged after parsing, without a position.
        let found = if kline == 0 {
            run.text().contains(said)
        } else {
            positioned
                .iter()
                .any(|(n, m)| *n == kline && m.contains(said))
        };
        if !said.is_empty() && !found {
            failures.push(format!("line {kline}: keepalived did not say '{said}'"));
        }
        let theirs = match c.dump {
            Dump::None => continue,
            Dump::Global(k) => run.global_value(k),
            Dump::Script(k) => script_value(&run, "chk_ok", k),
            Dump::Instance(k) => run.instance_value("VI_1", k),
        };
        let ours = (c.value)(&l.config);
        if theirs.as_deref() != Some(ours.as_str()) {
            failures.push(format!(
                "line {line}: ours {ours}, keepalived {theirs:?} ({:?})",
                match c.dump {
                    Dump::Global(k) | Dump::Script(k) | Dump::Instance(k) => k,
                    Dump::None => "",
                }
            ));
        }
    }
    if run.global_value("Router ID").as_deref() != Some("R1") {
        failures.push(format!(
            "Router ID: keepalived {:?}",
            run.global_value("Router ID")
        ));
    }
    // The script-less vrrp_script and the duplicate are gone, the first
    // chk_ok is tracked with keepalived's weight.
    let scripts: Vec<String> = run
        .section("VRRP Scripts")
        .into_iter()
        .filter(|l| l.trim_start().starts_with("VRRP Script = "))
        .collect();
    // (The dump may appear twice in the log, so compare names, not counts.)
    let only_chk_ok = !scripts.is_empty()
        && scripts.iter().all(|s| s.trim() == "VRRP Script = chk_ok")
        && run.text().contains("Warning - script chk_ok is not used");
    if !only_chk_ok || l.config.vrrp_scripts.len() != 1 {
        failures.push(format!(
            "scripts: keepalived {scripts:?}, ours {}",
            l.config.vrrp_scripts.len()
        ));
    }
    let tracked = run
        .section("VRRP Topology")
        .iter()
        .skip_while(|l| l.trim() != "Tracked scripts :")
        .nth(1)
        .map(|l| l.trim().to_string());
    if tracked.as_deref() != Some("chk_ok weight 300") {
        failures.push(format!("tracked scripts: keepalived {tracked:?}"));
    }
    assert!(
        failures.is_empty(),
        "{}\n--- keepalived said:\n{}",
        failures.join("\n"),
        run.text()
    );
}

/// Fix-ups keepalived applies on the checker side or that its VRRP dump
/// does not show (including its misreading of a sync group with two
/// `group` blocks: the second block's `}` ends the sync group): our warnings and model, and keepalived's own messages
/// from `keepalived -t` (no root needed). Not in this config: a reference
/// to a file-less track_file, on which keepalived 2.2.7 crashes (SIGSEGV
/// in `-t`); we ignore the reference with a warning.
const CONF2: &str = "global_defs {
    lvs_sync_daemon eth0 VI_1 id 300 port 0 ttl x group 192.0.2.9 bogus
    lvs_sync_daemon eth1
    vmac_prefix vx
    vmac_prefix vy
}
track_file tf {
    file /tmp/rk-fixups-global-tf
}
track_file tf {
    file /tmp/rk-fixups-global-tf2
}
track_file tf_none {
    weight 3
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.10
    }
    track_file {
        tf weight 300
    }
    track_interface {
        eth0 weight 254
        eth0
        lo bogus
    }
}
track_file tf3 {
    file /tmp/rk-fixups-global-tf3
    init_file 300 bogus
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    virtual_ipaddress {
        192.0.2.11
    }
}
vrrp_sync_group G {
    group {
        VI_2
    }
    group {
        VI_2
    }
    notify_master /bin/true
    notify_master /bin/false
}
";

/// (line:col, our warning, keepalived's message)
const CASES2: &[(&str, &str, &str)] = &[
    ("2:31", "Invalid syncid (300) - defaulting to vrid; ignoring it (as keepalived does)", "Invalid syncid (300) - defaulting to vrid"),
    ("2:38", "Invalid lvs_sync_daemon port (0); ignoring it (as keepalived does)", "Invalid lvs_sync_daemon port (0) - ignoring"),
    ("2:45", "Invalid lvs_sync_daemon ttl (x); ignoring it (as keepalived does)", "Invalid lvs_sync_daemon ttl (x) - ignoring"),
    ("2:51", "lvs_sync_daemon group address 192.0.2.9 is not multicast; ignoring it (as keepalived does)", "lvs_sync_daemon group address 192.0.2.9 is not multicast - ignoring"),
    ("2:67", "Unknown option bogus specified for lvs_sync_daemon; ignoring it (as keepalived does)", "Unknown option bogus specified for lvs_sync_daemon"),
    ("3:5", "lvs_sync_daemon has already been specified as eth0 VI_1 - ignoring (as keepalived does)", "lvs_sync_daemon has already been specified as eth0 VI_1 - ignoring"),
    ("5:5", "vmac prefix has already been specified - ignoring vy (as keepalived does)", "vmac prefix has already been specified - ignoring vy"),
    ("10:1", "vrrp_track_file 'tf' defined twice (first at line 7); ignoring this one (as keepalived does)", ""),
    ("13:1", "No file set for track_file tf_none - ignoring it (as keepalived does)", "15|No file set for track_file tf_none - ignoring"),
    ("23:19", "track_file tf: weight 300 must be between [-254..254]; using 1 (as keepalived does)", "weight for track file tf must be in [-254..254] inclusive. Ignoring..."),
    ("26:21", "weight for eth0 cannot be +/-254. Setting to 253 (as keepalived does)", "weight for eth0 cannot be +/-254. Setting to +/-253"),
    ("27:9", "duplicate track_interface eth0 - ignoring (as keepalived does)", "duplicate track_interface eth0 - ignoring"),
    ("28:12", "unknown track_interface lo option bogus; ignoring this entry (as keepalived does)", "unknown track_interface lo option bogus - ignoring"),
    ("33:15", "Track file tf3 init value 300 is outside sensible range [-254, 254] (keepalived warns too)", "Track file tf3 init value 300 is outside sensible range [-254, 254]"),
    ("33:19", "Unknown track file init option bogus; ignoring it (as keepalived does)", "Unknown track file init option bogus"),
    ("46:5", "Group list already specified for sync group G; ignoring this one, and keepalived ends the sync group at its '}' (as keepalived does)", "Group list already specified for sync group G"),
    ("49:5", "'notify_master' is not part of vrrp_sync_group G", "Unknown keyword 'notify_master'"),
    ("50:5", "'notify_master' is not part of vrrp_sync_group G", "Unknown keyword 'notify_master'"),
];

#[test]
fn lvs_sync_daemon_track_file_and_track_list_fixups() {
    let l = parse_str(CONF2, "fixups2.conf", &opts())
        .unwrap_or_else(|e| panic!("keepalived runs it:\n{e}"));
    let shown: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    for (at, ours, _) in CASES2 {
        assert!(
            l.warnings
                .iter()
                .any(|d| format!("{}:{}", d.line, d.col) == *at && d.message.contains(ours)),
            "{at}: no warning '{ours}'\n--- our warnings:\n{}",
            shown.join("\n")
        );
    }
    let g = &l.config.global_defs;
    let d = g
        .lvs_sync_daemon
        .as_ref()
        .expect("first lvs_sync_daemon kept");
    assert_eq!(
        (
            d.interface.as_str(),
            d.vrrp_instance.as_deref(),
            d.sync_id,
            d.port,
            d.ttl
        ),
        ("eth0", Some("VI_1"), None, 8848, None)
    );
    assert_eq!(d.group.to_string(), "224.0.0.81");
    assert_eq!(g.vmac_prefix, "vx");
    assert_eq!(l.config.vrrp_track_files.len(), 2);
    let tf3 = l.config.vrrp_track_file("tf3").expect("tf3");
    assert_eq!(
        tf3.init_file.as_ref().map(|i| (i.value, i.overwrite)),
        Some((300, false))
    );
    let g = &l.config.vrrp_sync_groups[0];
    assert_eq!(g.group, ["VI_2"]);
    assert_eq!(g.notify_master, None, "lost after the second group block");
    assert_eq!(
        l.config.vrrp_track_files[0].file.to_string_lossy(),
        "/tmp/rk-fixups-global-tf"
    );
    let v = &l.config.vrrp_instances[0];
    let files: Vec<(String, i32)> = v
        .track_files
        .iter()
        .map(|t| (t.name.clone(), t.weight))
        .collect();
    assert_eq!(files, [("tf".to_string(), 1)]);
    let ifs: Vec<(String, i32)> = v
        .track_interfaces
        .iter()
        .map(|t| (t.name.clone(), t.weight))
        .collect();
    // eth0 is the instance's own interface: keepalived drops it from the
    // tracked list (vrrp.c), which the VRRP fix-ups do after this list.
    assert!(ifs.iter().all(|(n, _)| n != "lo"), "{ifs:?}");

    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Keepalived]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("rk-fixups-global-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join("k.conf");
    std::fs::write(&path, CONF2).expect("write");
    let run = rkeepalived_testkit::oracle::keepalived_check(&path);
    let _ = std::fs::remove_dir_all(&dir);
    let positioned = run.positioned();
    let mut missing = Vec::new();
    for (at, _, theirs) in CASES2 {
        let line: u32 = at
            .split(':')
            .next()
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        // "N|message": keepalived reports it at line N (end of block).
        let (line, theirs) = match theirs.split_once('|') {
            Some((n, m)) => (n.parse().unwrap_or(0), m),
            None => (line, *theirs),
        };
        if !theirs.is_empty()
            && !positioned
                .iter()
                .any(|(n, m)| *n == line && m.contains(theirs))
        {
            missing.push(format!("line {line}: {theirs}"));
        }
    }
    assert!(
        missing.is_empty(),
        "keepalived -t did not say:\n{}\n--- it said:\n{}",
        missing.join("\n"),
        run.text()
    );
}

/// `lvs_sync_daemon IF INSTANCE` naming no vrrp_instance: keepalived's
/// `vrrp_complete_init()` (vrrp/vrrp.c) logs "Unable to find vrrp instance
/// %s for lvs_syncd - clearing lvs_syncd config"; so do we. (keepalived
/// 2.2.7's VRRP process then crashes with SIGSEGV and is respawned in a
/// loop, so there is no running keepalived to compare with.)
#[test]
fn lvs_sync_daemon_of_a_missing_instance_is_cleared() {
    let l = parse_str(
        "global_defs {\n    lvs_sync_daemon eth0 VI_NOPE\n}\n",
        "s.conf",
        &opts(),
    )
    .expect("loads");
    assert!(l.config.global_defs.lvs_sync_daemon.is_none());
    assert!(l.warnings.iter().any(|w| w.line == 2
        && w.col == 5
        && w.message
            == "Unable to find vrrp instance VI_NOPE for lvs_syncd - clearing lvs_syncd config (as keepalived does)"));
}

/// keepalived's decimal reader glues the text after the point on first:
/// `vrrp_garp_interval 0.5x` is 5 us in keepalived's dump ("Gratuitous ARP
/// interval = 0.000005", checked by hand against 2.2.7), and so here.
#[test]
fn decimal_timers_are_read_like_keepalived() {
    let l = parse_str(
        "global_defs {\n    vrrp_garp_interval 0.5x\n    vrrp_startup_delay 2.5;\n    vrrp_gna_interval 0.25\n}\n",
        "d.conf",
        &opts(),
    )
    .expect("loads");
    let g = &l.config.global_defs;
    assert_eq!(g.vrrp_garp_interval, std::time::Duration::from_micros(5));
    assert_eq!(g.vrrp_startup_delay, std::time::Duration::ZERO);
    assert_eq!(g.vrrp_gna_interval, std::time::Duration::from_millis(250));
    let w: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        w.iter().any(|w| w.contains("d.conf:2:24: 'vrrp_garp_interval': invalid number '0.5x'; using 0.000005s (as keepalived does)")),
        "{w:#?}"
    );
    assert!(
        w.iter().any(
            |w| w.contains("d.conf:3:24: 'vrrp_startup_delay': invalid time '2.5;'")
                && w.contains("ignoring this line (as keepalived does)")
        ),
        "{w:#?}"
    );
}

/// keepalived 2.2.7 still reads the deprecated spelling `lvs_flush_onstop`
/// (core/global_parser.c installs both names on `lvs_flush_on_stop_handler()`).
#[test]
fn lvs_flush_onstop_is_the_old_spelling() {
    use rkeepalived_config::model::LvsFlushOnStop;
    for (text, want) in [
        ("lvs_flush_onstop", LvsFlushOnStop::Flush),
        ("lvs_flush_onstop VS", LvsFlushOnStop::VirtualServers),
    ] {
        let conf = format!("global_defs {{\n    {text}\n}}\n");
        let l = parse_str(&conf, "k.conf", &opts()).expect("loads");
        assert_eq!(l.config.global_defs.lvs_flush_on_stop, want, "{text}");
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    }
}

/// A second `track_script` block appends to the first, and a script tracked
/// by the earlier block is a duplicate (keepalived: vrrp/vrrp_track.c
/// `alloc_track_script()` checks the instance's whole list; `keepalived -t`
/// says "(VI_1) duplicate track_script a - ignoring" at line 15). Found by
/// the print_round_trip fuzz target.
#[test]
fn track_blocks_append_and_duplicates_span_blocks() {
    let text = "vrrp_script a {\n script /bin/true\n}\nvrrp_script b {\n script /bin/true\n weight -2\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n track_script {\n  a weight 2\n }\n track_script {\n  a weight 2\n  b\n }\n}\n";
    let l = parse_str(text, "k.conf", &opts()).expect("loads");
    let names: Vec<(&str, i32)> = l.config.vrrp_instances[0]
        .track_scripts
        .iter()
        .map(|t| (t.name.as_str(), t.weight))
        .collect();
    assert_eq!(names, [("a", 2), ("b", -2)]);
    assert!(
        l.warnings
            .iter()
            .any(|w| w.line == 15 && w.message.starts_with("duplicate track_script a - ignoring")),
        "{:?}",
        l.warnings
    );
}
