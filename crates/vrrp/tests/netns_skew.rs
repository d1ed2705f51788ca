//! Skew_Time at 10 ms adverts with the real engine in a netns lab (issue #11
//! bug 4). With the skew truncated to whole centiseconds every backup had a
//! skew of 0, so on a master crash all backups declared it down at the same
//! instant and went MASTER together. In microseconds (keepalived) the
//! highest-priority backup times out first and its advert holds the others.
//! Needs root and tcpdump.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{prerequisites, wait_until, Impl, InstConf, Lab, NodeConf};

const VIP: &str = "192.0.2.100";

/// 10 ms adverts leave ~10 ms between the backups' timeouts: a build hogging
/// the CPUs of a shared test host can starve a router that long. Run the
/// routers with SCHED_FIFO, as keepalived's `vrrp_realtime_priority` does in
/// production, so the test measures Skew_Time and not the host's load.
fn realtime(lab: &Lab, i: usize) {
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ip netns pids {} | xargs -r -n1 chrt -a -f -p 10",
            lab.ns(i)
        ))
        .status();
}

/// (epoch seconds, source address) of every advert seen so far.
type Adverts = Arc<Mutex<Vec<(f64, String)>>>;

/// Every advert on the bridge, captured by tcpdump until the returned child
/// is killed.
fn capture_adverts(lab: &Lab) -> (std::process::Child, Adverts) {
    let mut dump = Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.br_ns(),
            "tcpdump",
            "-l",
            "-nn",
            "-tt",
            "-i",
            "br0",
            "ip proto 112",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tcpdump");
    let sources: Adverts = Arc::default();
    let out = dump.stdout.take().expect("stdout");
    let s = sources.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            // "1733450000.123456 IP 192.0.2.13 > 224.0.0.18: VRRPv3, Advertisement, ..."
            let mut w = line.split_whitespace();
            let (Some(t), Some(src)) = (w.next().and_then(|t| t.parse().ok()), w.nth(1)) else {
                continue;
            };
            if let Ok(mut v) = s.lock() {
                v.push((t, src.to_string()));
            }
        }
    });
    assert!(
        wait_until(Duration::from_secs(5), || sources
            .lock()
            .map(|v| v.len() > 5)
            .unwrap_or(false)),
        "capture running"
    );
    (dump, sources)
}

#[test]
fn three_routers_at_10ms_only_the_highest_backup_takes_over() {
    if !prerequisites(false) || !common::require_tools(&["tcpdump"]) {
        return;
    }
    let mut lab = Lab::new("sk", 3);
    // Priorities far apart in Skew_Time (253: 0.1 ms, 1: 10 ms) so a loaded
    // machine cannot blur them; truncated to centiseconds both skews were 0.
    let node = |prio: u8| NodeConf::one(InstConf::new("VI_1", 61, prio, VIP).v3(10));
    let (master, high, low) = (node(254), node(253), node(1));
    lab.start(3, Impl::Ours, &low);
    realtime(&lab, 3);
    lab.start(2, Impl::Ours, &high);
    realtime(&lab, 2);
    lab.start(1, Impl::Ours, &master);
    realtime(&lab, 1);
    assert!(
        lab.wait_sole_holder(1, VIP, Duration::from_secs(10)),
        "node 1 MASTER"
    );

    let (mut dump, sources) = capture_adverts(&lab);

    let low_addr = lab.v4(3);
    let epoch = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    };
    let mut crashes = Vec::new();
    let mut failures = Vec::new();
    for round in 0..20 {
        crashes.push(epoch());
        lab.kill9(1);
        // A dead router's addresses stay in its namespace: take the VIP away
        // so only the live routers count.
        let _ = lab.exec(1, &format!("ip addr del {VIP}/32 dev eth0"));
        if !lab.wait_sole_holder(2, VIP, Duration::from_secs(3)) {
            failures.push(format!("round {round}: holders {:?}", lab.holders(VIP)));
            break;
        }
        // Back to the start: node 1 preempts.
        lab.start(1, Impl::Ours, &master);
        realtime(&lab, 1);
        if !lab.wait_sole_holder(1, VIP, Duration::from_secs(5)) {
            failures.push(format!(
                "round {round}: node 1 did not take back: {:?}",
                lab.holders(VIP)
            ));
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let _ = dump.kill();
    let _ = dump.wait();
    let adverts = sources.lock().map(|v| v.clone()).unwrap_or_default();
    // A second MASTER after a crash: the priority-1 router advertising before
    // (or with) the takeover advert of the priority-253 router. With equal
    // (zero) skews both fire together; with keepalived's skews node 3 would
    // fire ~9.8 ms after node 2 and has heard node 2 long before.
    //
    // A round is judged only if node 2 took over in time: its takeover advert
    // at most 39 ms (3 x 10 ms + its 0.1 ms skew + 8.9 ms slack) after node
    // 1's last advert. If the whole host stalled past node 3's deadline too
    // (both then fire on the same wake-up), the round says nothing about
    // Skew_Time.
    let high_addr = lab.v4(2);
    let master_addr = lab.v4(1);
    let mut stray = adverts.iter().filter(|(_, s)| *s == low_addr).count();
    let mut judged = 0;
    for (round, t) in crashes.iter().enumerate() {
        let Some(took_over) = adverts
            .iter()
            .find(|(at, src)| *src == high_addr && *at >= *t)
            .map(|(at, _)| *at)
        else {
            failures.push(format!("round {round}: no takeover advert from node 2"));
            continue;
        };
        let last_master = adverts
            .iter()
            .filter(|(at, src)| *src == master_addr && *at < took_over)
            .map(|(at, _)| *at)
            .fold(f64::MIN, f64::max);
        let n = adverts
            .iter()
            .filter(|(at, src)| *src == low_addr && *at >= *t && *at <= took_over + 0.005)
            .count();
        stray -= n;
        if took_over - last_master > 0.039 {
            eprintln!(
                "note: round {round}: host stalled ({:.1} ms from the last advert to the takeover); not judged",
                (took_over - last_master) * 1000.0
            );
            continue;
        }
        judged += 1;
        if n > 0 {
            failures.push(format!(
                "round {round}: node 3 (priority 1) went MASTER with node 2 ({n} adverts)"
            ));
        }
    }
    if judged < 10 {
        failures.push(format!(
            "only {judged} of 20 rounds ran without a host stall"
        ));
    }
    // Elsewhere only a scheduling stall of > 40 ms on the master can make
    // node 3 advertise: report it, it says nothing about Skew_Time.
    if stray > 0 {
        eprintln!("note: {stray} adverts from node 3 outside the takeovers (loaded host?)");
    }
    if !failures.is_empty() {
        lab.dump_logs();
    }
    assert_eq!(crashes.len(), 20);
    assert!(failures.is_empty(), "{failures:#?}");
}
