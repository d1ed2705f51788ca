//! Every signal keepalived 2.2.7 handles (`--signum` names: STOP, RELOAD,
//! DATA, STATS, STATS_CLEAR, JSON) has its effect on a running daemon, and
//! no other signal — real-time ones included — kills it or its children by
//! the default action (keepalived sets them all to SIG_IGN,
//! lib/signals.c `signal_handler_parent_init`). Needs root (netns).

mod daemon_util;

use std::process::{Command, Stdio};
use std::time::Duration;

use daemon_util::*;

fn signum(name: &str) -> String {
    let out = sh(&[bin(), &format!("--signum={name}")]);
    assert!(out.status.success(), "--signum={name}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn running(d: &Daemon, role: &str) -> bool {
    d.status()
        .is_some_and(|s| s["children"][role]["state"] == "running")
}

fn kill(sig: &str, pid: i32) {
    let out = sh(&["kill", &format!("-{sig}"), &pid.to_string()]);
    assert!(out.status.success(), "kill -{sig} {pid}: {out:?}");
}

/// Signals no keepalived function is bound to: the first and last
/// application real-time signals, one in between, and classic ones whose
/// default action is to terminate.
fn unhandled() -> Vec<String> {
    let rtmin = libc::SIGRTMIN();
    let rtmax = libc::SIGRTMAX();
    let mut v: Vec<String> = [rtmin, rtmin + 5, rtmax]
        .iter()
        .map(|n| n.to_string())
        .collect();
    v.extend(["ALRM", "VTALRM", "PROF", "IO", "PWR", "XCPU"].map(String::from));
    v
}

/// Reads a dump once it has been (re)written after `removed` it.
fn fresh_dump(scratch: &Scratch, name: &str) -> String {
    let p = scratch.p(name);
    wait_for(name, LIMIT, || p.exists());
    // Written through a temp file and renamed: complete once it exists.
    std::fs::read_to_string(&p).expect("read dump")
}

fn counter(stats: &str, label: &str) -> u64 {
    stats
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no '{label}' in:\n{stats}"))
}

#[test]
fn every_keepalived_signal_works_and_no_other_signal_kills() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("signals");
    let scratch = Scratch::new("signals");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let mut d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_for("both children", LIMIT, || {
        running(&d, "vrrp") && running(&d, "checker")
    });
    wait_for("VIP", LIMIT, || ns.addr_count("eth0", "192.0.2.100") == 1);
    let vrrp = d.child_pid("vrrp.pid").expect("vrrp pid");
    let checker = d.child_pid("checkers.pid").expect("checker pid");

    // Unhandled signals, to every process (also what `kill -- -PGID` does).
    for sig in unhandled() {
        for pid in [d.pid, vrrp, checker] {
            kill(&sig, pid);
        }
    }
    // Handled by the supervisor only: sent straight to a child, ignored.
    for name in ["DATA", "STATS", "STATS_CLEAR", "JSON", "RELOAD"] {
        for pid in [vrrp, checker] {
            kill(&signum(name), pid);
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    assert!(d.is_running(), "supervisor survived:\n{}", d.log());
    assert!(alive(vrrp) && alive(checker), "children survived");
    assert_eq!(d.child_pid("vrrp.pid"), Some(vrrp), "not respawned");
    assert_eq!(d.child_pid("checkers.pid"), Some(checker), "not respawned");
    assert!(running(&d, "vrrp") && running(&d, "checker"));
    // The swallowed child signals must not have produced dumps.
    for f in ["keepalived.data", "keepalived.stats", "keepalived.json"] {
        let _ = std::fs::remove_file(scratch.p(f));
    }

    // DATA, STATS, JSON: keepalived's files.
    d.signal(&signum("DATA"));
    let data = fresh_dump(&scratch, "keepalived.data");
    assert!(data.contains("VI_1"), "{data}");
    fresh_dump(&scratch, "keepalived_check.data");
    d.signal(&signum("JSON"));
    let json = fresh_dump(&scratch, "keepalived.json");
    serde_json::from_str::<serde_json::Value>(&json).expect("keepalived.json is JSON");

    // STATS, then STATS_CLEAR writes the stats and clears them (keepalived's
    // vrrp_print_stats(true)), so the next STATS starts from zero.
    d.signal(&signum("STATS"));
    let before = fresh_dump(&scratch, "keepalived.stats");
    assert_eq!(counter(&before, "Became master:"), 1, "{before}");
    std::fs::remove_file(scratch.p("keepalived.stats")).expect("rm");
    let cleared_at = std::time::Instant::now();
    d.signal(&signum("STATS_CLEAR"));
    let cleared = fresh_dump(&scratch, "keepalived.stats");
    assert_eq!(
        counter(&cleared, "Became master:"),
        1,
        "written before clearing: {cleared}"
    );
    std::fs::remove_file(scratch.p("keepalived.stats")).expect("rm");
    d.signal(&signum("STATS"));
    let after = fresh_dump(&scratch, "keepalived.stats");
    assert_eq!(counter(&after, "Became master:"), 0, "cleared: {after}");
    // advert_int 1: at most one advert per second since the clear (+1 for
    // the one that may be in flight).
    let since_clear = cleared_at.elapsed().as_secs() + 2;
    assert!(
        counter(&after, "Sent:") <= since_clear,
        "adverts sent restart from zero ({since_clear} s):\n{cleared}\n{after}"
    );
    assert!(
        d.log().contains("Printing and clearing VRRP stats"),
        "{}",
        d.log()
    );

    // RELOAD applies; the instance keeps its state (no new transition).
    d.signal(&signum("RELOAD"));
    wait_for("reload", LIMIT, || d.log().contains("reload complete"));
    assert_eq!(ns.addr_count("eth0", "192.0.2.100"), 1);

    // STOP: clean exit, VIP released.
    d.signal(&signum("STOP"));
    let st = d.wait_exit(LIMIT);
    assert!(st.success(), "{st:?}");
    assert_eq!(ns.addr_count("eth0", "192.0.2.100"), 0);
}

/// The oracle: keepalived 2.2.7 itself survives the same unhandled signals.
#[test]
fn keepalived_also_survives_unhandled_signals() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let ns = Netns::new("kasignals");
    let scratch = Scratch::new("kasignals");
    let conf = scratch.write(
        "keepalived.conf",
        &format!("{}{}", global_block(""), vrrp_block("192.0.2.100")),
    );
    let s = |n: &str| scratch.p(n).display().to_string();
    let mut ka = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "keepalived",
            "-n",
            "-l",
            "-P",
            "-f",
        ])
        .arg(&conf)
        .args(["-p", &s("ka.pid"), "-r", &s("ka_vrrp.pid")])
        .args(["-c", &s("ka_check.pid"), "-b", &s("ka_bfd.pid")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn keepalived");
    struct Reap<'a>(&'a mut std::process::Child);
    impl Drop for Reap<'_> {
        fn drop(&mut self) {
            let _ = sh(&["kill", "-TERM", &self.0.id().to_string()]);
            for _ in 0..100 {
                if let Ok(Some(_)) = self.0.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let pid = ka.id() as i32;
    let ka = Reap(&mut ka);
    wait_for("keepalived VIP", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });
    let vrrp = read_pid(&scratch.p("ka_vrrp.pid")).expect("keepalived vrrp pid");
    for sig in unhandled() {
        for p in [pid, vrrp] {
            kill(&sig, p);
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        alive(pid) && alive(vrrp),
        "keepalived survives unhandled signals"
    );
    drop(ka);
}
