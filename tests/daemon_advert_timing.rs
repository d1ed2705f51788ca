//! Adverts keep their interval under a CPU-burning neighbour: the daemon's
//! VRRP child (MASTER, VRRPv3, 100 ms adverts) with `vrrp_rt_priority` and
//! `vrrp_no_swap`, while one busy loop per CPU runs at normal priority in
//! the same cgroup (they are all children of this test). The adverts are
//! captured with tcpdump (an AF_PACKET capture with kernel receive
//! timestamps, so the capture's own scheduling does not matter) in a
//! second namespace at the other end of the veth, and no inter-arrival gap
//! may exceed 1.5 × the interval. The same run without real-time priority
//! (after a reload, which resets the scheduling as keepalived's
//! `reset_process_priorities()` does) is printed for contrast, not
//! asserted: how much the fair scheduler delays a mostly sleeping process
//! depends on the machine. keepalived offers these options against the
//! timer-starvation split brains reported on busy VMs. Needs root.

mod daemon_util;

use std::process::{Command, Stdio};
use std::time::Duration;

use daemon_util::*;

const INTERVAL: Duration = Duration::from_millis(100);

fn conf(global: &str) -> String {
    format!(
        "{}vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.1
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
",
        global_block(&format!("    vrrp_version 3\n{global}"))
    )
}

/// One busy loop per CPU, killed on drop.
struct Burners(Vec<Killed>);

impl Burners {
    fn start() -> Burners {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        Burners(
            (0..n)
                .map(|_| {
                    Killed(
                        Command::new("sh")
                            .args(["-c", "while :; do :; done"])
                            .stdin(Stdio::null())
                            .spawn()
                            .expect("spawn busy loop"),
                    )
                })
                .collect(),
        )
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        for b in &mut self.0 {
            let _ = b.0.kill();
        }
    }
}

/// Captures adverts in `ns` on `dev` for `d` with the burners running;
/// returns the advert gaps.
fn gaps_under_burn(ns: &rkeepalived_testkit::Netns, dev: &str, d: Duration) -> Vec<Duration> {
    let out = std::env::temp_dir().join(format!(
        "rkd-advert-timing-{}-{}.txt",
        std::process::id(),
        dev
    ));
    let file = std::fs::File::create(&out).expect("capture file");
    let cap = Killed(
        Command::new("ip")
            .args(["netns", "exec", ns.name(), "tcpdump"])
            .args([
                "-i",
                dev,
                "-n",
                "-l",
                "-tt",
                "--immediate-mode",
                "ip",
                "proto",
                "112",
            ])
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tcpdump"),
    );
    wait_for("the capture to see adverts", LIMIT, || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() >= 3)
    });
    let before = std::fs::read_to_string(&out)
        .unwrap_or_default()
        .lines()
        .count();
    {
        let _burn = Burners::start();
        std::thread::sleep(d);
    }
    std::thread::sleep(Duration::from_millis(300));
    drop(cap);
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let times: Vec<f64> = text
        .lines()
        .skip(before.saturating_sub(1))
        .filter(|l| l.contains("VRRPv3, Advertisement"))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert!(
        times.len() as u128 >= d.as_millis() / INTERVAL.as_millis() / 2,
        "too few adverts captured: {times:?}"
    );
    times
        .windows(2)
        .map(|w| Duration::from_secs_f64((w[1] - w[0]).max(0.0)))
        .collect()
}

fn summary(g: &[Duration]) -> String {
    let mut s = g.to_vec();
    s.sort();
    let pct = |p: usize| {
        s.get((s.len() * p / 100).min(s.len().saturating_sub(1)))
            .copied()
    };
    format!(
        "{} gaps, median {:?}, p99 {:?}, max {:?}",
        s.len(),
        pct(50).unwrap_or_default(),
        pct(99).unwrap_or_default(),
        s.last().copied().unwrap_or_default()
    )
}

#[test]
fn adverts_keep_their_interval_under_a_cpu_burning_neighbour_with_rt_priority() {
    if !prerequisites(&["tcpdump"]) {
        return;
    }
    let scratch = Scratch::new("advtiming");
    scratch.write(
        "keepalived.conf",
        &conf("    vrrp_rt_priority 50\n    vrrp_no_swap\n"),
    );
    let ns = Netns::new("advtiming");
    // The capture side: the veth's other end in its own namespace.
    let peer = rkeepalived_testkit::Netns::with_prefix("rkd", "advtiming-cap");
    ns.ip(&["link", "set", "peer0", "netns", peer.name()]);
    peer.ip(&["link", "set", "peer0", "up"]);
    let d = Daemon::start(&ns, &scratch, &["-P"], &[]);
    wait_for("MASTER with the VIP", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });
    let vrrp = d.child_pid("vrrp.pid").expect("vrrp.pid");
    let chrt = sh(&["chrt", "-p", &vrrp.to_string()]);
    assert!(
        String::from_utf8_lossy(&chrt.stdout).contains("SCHED_RR"),
        "vrrp_rt_priority applied: {chrt:?}"
    );

    let rt = gaps_under_burn(&peer, "peer0", Duration::from_secs(4));
    let max = rt.iter().max().copied().unwrap_or_default();
    eprintln!("with vrrp_rt_priority 50 + vrrp_no_swap: {}", summary(&rt));
    let limit = INTERVAL * 3 / 2;
    assert!(
        max <= limit,
        "an advert came {max:?} after the previous one (limit {limit:?}): {}",
        summary(&rt)
    );

    // Contrast, printed only: the same without real-time priority.
    scratch.write("keepalived.conf", &conf(""));
    d.signal("HUP");
    wait_for("SCHED_OTHER after the reload", LIMIT, || {
        String::from_utf8_lossy(&sh(&["chrt", "-p", &vrrp.to_string()]).stdout)
            .contains("SCHED_OTHER")
    });
    let other = gaps_under_burn(&peer, "peer0", Duration::from_secs(3));
    eprintln!("without (SCHED_OTHER, nice 0): {}", summary(&other));
}
