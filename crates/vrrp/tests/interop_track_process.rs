//! `track_process` failover on the wire against keepalived 2.2.7, the
//! HAProxy-pair case: rkeepalived (the shipped daemon) is MASTER at
//! priority 150 and tracks a long-running process with `weight -60`;
//! keepalived 2.2.7 is BACKUP at 100 in another namespace. The process is
//! killed: our priority drops to 90, keepalived ignores the lower-priority
//! adverts and takes the VIP when its Master_Down_Timer runs out (RFC 5798
//! §6.4.2: 3 × Advertisement_Interval + Skew_Time). The process restarts:
//! our priority is 150 again and we preempt keepalived, as keepalived would
//! (preemption is the default). With `nopreempt` on our side we stay
//! BACKUP instead.
//!
//! Inside a network namespace the kernel's process-event connector is not
//! available, so rkeepalived notices the process through its `/proc` scan
//! (every second, crates/vrrp/README.md): the bound asserted is that scan
//! interval plus the RFC bound plus a margin for a loaded machine.
//!
//! One-sided: the reverse (keepalived tracking the process) cannot be run
//! in a namespace, because keepalived 2.2.7 needs the connector and has no
//! fallback: it logs "Failed to set/clear process event listen - errno 111"
//! and keeps the tracking instance in FAULT whether the process runs or not
//! (tests/daemon_track_process.rs shows it side by side). Root required.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{prerequisites, Impl, InstConf, Lab, NodeConf};

const VIP: &str = "192.0.2.100";
const SETTLE: Duration = Duration::from_secs(20);
const ADVERT: Duration = Duration::from_millis(100);

/// RFC 5798 Master_Down_Interval for the backup's priority.
fn master_down(prio: u32) -> Duration {
    3 * ADVERT + ADVERT * (256 - prio) / 256
}

/// The tracked stand-in for haproxy, killed on drop.
struct Tracked(Child);

impl Tracked {
    fn start(arg: &str) -> Tracked {
        Tracked(
            Command::new("sleep")
                .arg(arg)
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn sleep"),
        )
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nodes(arg: &str, nopreempt: bool) -> (NodeConf, NodeConf) {
    let mut ours = InstConf::new("VI_1", 81, 150, VIP).v3(ADVERT.as_millis() as u64);
    // keepalived clears nopreempt on a MASTER-state instance ("nopreempt
    // will not work with initial state MASTER"): start as BACKUP then.
    ours.master = !nopreempt;
    ours.nopreempt = nopreempt;
    ours.extra = "    track_process {\n        chk_haproxy weight -60\n    }\n".into();
    let mut ours = NodeConf::one(ours);
    ours.extra_top = format!(
        "vrrp_track_process chk_haproxy {{\n    process sleep {arg}\n    param_match\n    quorum 1\n}}\n"
    );
    let theirs = NodeConf::one(InstConf::new("VI_1", 81, 100, VIP).v3(ADVERT.as_millis() as u64));
    (ours, theirs)
}

/// Polls every 10 ms until node `i` alone holds the VIP; the time taken.
fn time_to_sole_holder(lab: &Lab, i: usize, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if lab.holders(VIP) == [i] {
            return Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn run(tag: &str, nopreempt: bool) {
    if !prerequisites(true) || !common::require_tools(&["sleep"]) {
        return;
    }
    let arg = format!("3600.{}{}", std::process::id(), u8::from(nopreempt));
    let mut lab = Lab::new(tag, 2).with_daemon();
    let (ours, theirs) = nodes(&arg, nopreempt);
    let haproxy = Tracked::start(&arg);
    lab.start(1, Impl::Ours, &ours);
    lab.start(2, Impl::Keepalived, &theirs);
    if time_to_sole_holder(&lab, 1, SETTLE).is_none() {
        lab.dump_logs();
        panic!(
            "ours (150, process running) should be master: {:?}",
            lab.holders(VIP)
        );
    }

    // The tracked process dies: keepalived takes over.
    drop(haproxy);
    let bound = Duration::from_secs(1) + master_down(100);
    let margin = Duration::from_millis(1500);
    let took = time_to_sole_holder(&lab, 2, bound + margin + SETTLE);
    let Some(took) = took else {
        lab.dump_logs();
        panic!("keepalived never took the VIP: {:?}", lab.holders(VIP));
    };
    eprintln!(
        "{tag}: keepalived took the VIP {took:?} after the process died (scan 1 s + Master_Down_Interval {:?})",
        master_down(100)
    );
    if took > bound + margin {
        lab.dump_logs();
        panic!("failover took {took:?}, bound {bound:?} + margin {margin:?}");
    }
    let log = lab.log(1);
    assert!(
        log.contains("Quorum lost for tracked process chk_haproxy"),
        "{log}"
    );

    // The process is back.
    let _haproxy = Tracked::start(&arg);
    if nopreempt {
        // keepalived's rule: a nopreempt backup does not take over from a
        // lower-priority master; ours stays BACKUP.
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(lab.holders(VIP), [2], "nopreempt: keepalived keeps the VIP");
        return;
    }
    let bound = Duration::from_secs(1) + master_down(150);
    let took = time_to_sole_holder(&lab, 1, bound + margin + SETTLE);
    let Some(took) = took else {
        lab.dump_logs();
        panic!("ours never preempted back: {:?}", lab.holders(VIP));
    };
    eprintln!("{tag}: ours preempted back {took:?} after the process restarted");
    if took > bound + margin {
        lab.dump_logs();
        panic!("preemption took {took:?}, bound {bound:?} + margin {margin:?}");
    }
}

#[test]
fn process_death_hands_the_vip_to_keepalived_and_restart_preempts_back() {
    run("tpfo", false);
}

#[test]
fn with_nopreempt_the_restarted_side_stays_backup() {
    run("tpnp", true);
}
