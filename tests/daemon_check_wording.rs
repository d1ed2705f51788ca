//! The checker's key log lines, the ones people alert on, compared with
//! keepalived 2.2.7 on the same config and the same events: a real server
//! that fails its TCP check ("TCP_CHECK on service ... failed.", "Removing
//! service [..]:tcp:PORT from VS [..]:tcp:80") and then comes up ("TCP
//! connection to ... success.", "Adding service ... to VS ..."). The host
//! kernel has no IPVS: keepalived runs with bench/check/fake_ipvs.so
//! preloaded, ours keeps checking without IPVS. The VRRP state lines
//! ("(VI_1) Entering MASTER STATE") likewise. Needs root.

mod daemon_util;

use std::path::Path;
use std::process::{Command, Stdio};

use daemon_util::*;

const CONFIG: &str = "global_defs {
    router_id rkd_wording
}
virtual_server 192.0.2.100 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.2 8082 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
        }
    }
}
";

/// Accepts and closes connections on 192.0.2.2:8082 for at most 60 s.
const LISTENER: &str = "import socket, signal
signal.alarm(60)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('192.0.2.2', 8082))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
";

fn spawn(ns: &Netns, args: &[&str], env: &[(&str, &str)], log: &Path) -> Killed {
    let log = std::fs::File::create(log).expect("log");
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.name])
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup"))
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Killed(cmd.spawn().expect("spawn"))
}

/// keepalived and our daemon on the same config, each in its own network
/// namespace, run as `MODE` (`-C` checker only, `-P` VRRP only), logging to
/// `ka.log` and `daemon.log` in `scratch`. Fields drop in order: the daemons
/// stop before their namespaces go.
struct Pair {
    _ka: Killed,
    _rk: Killed,
    ka_ns: Netns,
    rk_ns: Netns,
    ka_log: std::path::PathBuf,
    rk_log: std::path::PathBuf,
}

fn start_pair(
    scratch: &Scratch,
    tag: &str,
    mode: &str,
    conf: &str,
    ka_env: &[(&str, &str)],
) -> Pair {
    let ka_ns = Netns::new(&format!("{tag}-ka"));
    let rk_ns = Netns::new(&format!("{tag}-rk"));
    let p = |n: &str| scratch.p(n).display().to_string();
    let (ka_log, rk_log) = (scratch.p("ka.log"), scratch.p("daemon.log"));
    let (ka_pid, ka_c, ka_v) = (p("ka.pid"), p("ka-c.pid"), p("ka-v.pid"));
    let (rk_pid, rk_c, rk_v) = (p("rk.pid"), p("rk-c.pid"), p("rk-v.pid"));
    let dump_dir = scratch.dir.display().to_string();
    let common = |bin: &'static str| vec![bin, mode, "-n", "-l", "-G", "-f", conf];
    let mut ka_args = common("/usr/sbin/keepalived");
    ka_args.extend(["-p", &ka_pid, "-c", &ka_c, "-r", &ka_v]);
    let mut rk_args = common(bin());
    rk_args.extend([
        "-p",
        &rk_pid,
        "-c",
        &rk_c,
        "-r",
        &rk_v,
        "--dump-dir",
        &dump_dir,
    ]);
    let _ka = spawn(&ka_ns, &ka_args, ka_env, &ka_log);
    let _rk = spawn(&rk_ns, &rk_args, &[("RUST_LOG", "info")], &rk_log);
    Pair {
        _ka,
        _rk,
        ka_ns,
        rk_ns,
        ka_log,
        rk_log,
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// keepalived's console lines are `DATE: MESSAGE`; the key ones only.
fn keepalived_key_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.split_once(": ").map(|(_, m)| m.trim().to_string()))
        .filter(|m| {
            m.starts_with("Removing service")
                || m.starts_with("Adding service")
                || m.starts_with("TCP connection to")
                || m.starts_with("TCP_CHECK on service")
        })
        .collect()
}

#[test]
fn checker_lines_match_keepalived_wording() {
    if !prerequisites(&["keepalived", "cc", "python3"]) {
        return;
    }
    let scratch = Scratch::new("wording");
    let conf = scratch
        .write("keepalived.conf", CONFIG)
        .display()
        .to_string();
    let shim = scratch.fake_ipvs();

    let shim_s = shim.display().to_string();
    let pair = start_pair(
        &scratch,
        "word",
        "-C",
        &conf,
        &[("LD_PRELOAD", shim_s.as_str())],
    );
    let (ka_ns, rk_ns, ka_log, rk_log) = (&pair.ka_ns, &pair.rk_ns, &pair.ka_log, &pair.rk_log);
    let removed = "Removing service [192.0.2.2]:tcp:8082 from VS [192.0.2.100]:tcp:80";
    wait_for("both remove the failing real server", LIMIT, || {
        read(ka_log).contains(removed) && read(rk_log).contains(removed)
    });
    let _listen_ka = spawn(ka_ns, &["python3", "-c", LISTENER], &[], &scratch.p("l1"));
    let _listen_rk = spawn(rk_ns, &["python3", "-c", LISTENER], &[], &scratch.p("l2"));
    let added = "Adding service [192.0.2.2]:tcp:8082 to VS [192.0.2.100]:tcp:80";
    wait_for("both add it back once it answers", LIMIT, || {
        read(ka_log).contains(added) && read(rk_log).contains(added)
    });

    let theirs = keepalived_key_lines(&read(ka_log));
    let ours = read(rk_log);
    for want in [
        "TCP_CHECK on service [192.0.2.2]:tcp:8082 failed.",
        removed,
        "TCP connection to [192.0.2.2]:tcp:8082 success.",
        added,
    ] {
        assert!(
            theirs.iter().any(|l| l == want),
            "keepalived (the oracle) no longer says '{want}': {theirs:#?}"
        );
    }
    // Every key line keepalived wrote for these events, we wrote too.
    for line in &theirs {
        assert!(
            ours.lines().any(|l| l.contains(line.as_str())),
            "missing '{line}' in our log:\n{ours}"
        );
    }
}

const VRRP_CONFIG: &str = "global_defs {
    router_id rkd_wording
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
";

/// The VRRP state lines operators alert on ("(VI_1) Entering BACKUP STATE
/// (init)", "(VI_1) Entering MASTER STATE"), compared with keepalived 2.2.7
/// running the same config alone on its segment.
#[test]
fn vrrp_state_lines_match_keepalived_wording() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let scratch = Scratch::new("vwording");
    let conf = scratch
        .write("keepalived.conf", VRRP_CONFIG)
        .display()
        .to_string();
    let pair = start_pair(&scratch, "vword", "-P", &conf, &[]);
    let (ka_log, rk_log) = (&pair.ka_log.clone(), &pair.rk_log.clone());
    let master = "(VI_1) Entering MASTER STATE";
    wait_for("both become MASTER", LIMIT, || {
        read(ka_log).contains(master) && read(rk_log).contains(master)
    });
    let theirs: Vec<String> = read(ka_log)
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, m)| m.trim().to_string()))
        .filter(|m| m.starts_with("(VI_1) Entering"))
        .collect();
    assert!(
        theirs
            .iter()
            .any(|l| l == "(VI_1) Entering BACKUP STATE (init)"),
        "keepalived (the oracle) no longer logs its init line: {theirs:#?}"
    );
    let ours = read(rk_log);
    for line in &theirs {
        assert!(
            ours.lines().any(|l| l.contains(line.as_str())),
            "missing '{line}' in our log:\n{ours}"
        );
    }
    // A clean stop: keepalived logs "Stopping" (core/main.c
    // `stop_keepalived()`) and no state line for its instances; so do we.
    let (ka_len, rk_len) = (read(ka_log).len(), read(rk_log).len());
    drop(pair);
    let ka_stop = read(ka_log)[ka_len..].to_string();
    let rk_stop = read(rk_log)[rk_len..].to_string();
    assert!(
        ka_stop.lines().any(|l| l.ends_with(": Stopping")),
        "keepalived (the oracle) no longer logs Stopping: {ka_stop}"
    );
    assert!(
        rk_stop.lines().any(|l| l.trim_end().ends_with(" Stopping")),
        "{rk_stop}"
    );
    for stop in [&ka_stop, &rk_stop] {
        assert!(
            !stop.contains("(VI_1) Entering"),
            "a state line at stop: {stop}"
        );
    }
}
