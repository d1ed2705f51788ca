//! VRRPv2 `auth_type AH` interoperability with the reference keepalived 2.2.7
//! in a netns lab (root required), both ways: the Backup must accept the
//! Master's AH adverts and stay Backup, the Backup takes over when the Master
//! is killed, and the killed node, restarted with a fresh sequence counter,
//! preempts again (keepalived's counter resynchronisation).
//!
//! Our node is the shipped daemon (`Lab::with_daemon`: target/debug/rkeepalived
//! `-P` on the keepalived.conf text), as operators run it.

mod common;

use std::time::Duration;

use common::{prerequisites, Impl, InstConf, Lab, NodeConf};

const VIP: &str = "192.0.2.100";
const SETTLE: Duration = Duration::from_secs(20);
/// More than our Master_Down_Interval at priority 100 (3 × 1 s + 0.61 s): a
/// Backup that dropped the Master's adverts would have taken the VIP by then.
const HOLD: Duration = Duration::from_secs(6);

fn ah(prio: u8) -> NodeConf {
    let mut i = InstConf::new("VI_1", 81, prio, VIP);
    // 10 characters: keepalived and we both key the HMAC with the first 8.
    i.auth_pass = Some("ahsecret42".into());
    i.auth_ah = true;
    NodeConf::one(i)
}

/// keepalived's complaints about AH adverts (vrrp_check_packet / vrrp_in_chk_ipsecah).
fn keepalived_auth_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.contains("IPSEC-AH : invalid")
                || l.contains("invalid IPSEC SPI")
                || l.contains("already processed")
                || l.contains("auth, expecting")
                || l.contains("AH header")
                || l.contains("too short")
                || l.contains("too long")
        })
        .collect()
}

fn stat(d: &serde_json::Value, key: &str) -> u64 {
    d["vrrp"][0]["stats"][key].as_u64().unwrap_or(0)
}

fn drops(d: &serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    d["vrrp"][0]["stats"]["drops"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// Kill node `i` with SIGKILL and remove the VIP it leaves behind (a dead host).
fn kill_master(lab: &mut Lab, i: usize) {
    lab.kill9(i);
    let _ = lab.exec(i, &format!("ip addr del {VIP}/32 dev eth0"));
}

fn settle(lab: &Lab, node: usize, what: &str) {
    let ok = lab.wait_sole_holder(node, VIP, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(ok, "{what}; holders {:?}", lab.holders(VIP));
}

#[test]
fn ah_keepalived_master_ours_backup_and_failover() {
    if !prerequisites(true) {
        return;
    }
    let mut lab = Lab::new("ah1", 2).with_daemon();
    lab.start(1, Impl::Keepalived, &ah(150));
    settle(&lab, 1, "keepalived alone becomes master");
    lab.start(2, Impl::Ours, &ah(100));
    std::thread::sleep(HOLD);
    let d = lab.dump(2).expect("dump");
    if lab.holders(VIP) != vec![1] {
        lab.dump_logs();
    }
    assert_eq!(lab.holders(VIP), vec![1], "ours must stay BACKUP: {d}");
    assert_eq!(d["vrrp"][0]["state"], "BACKUP", "{d}");
    assert!(
        stat(&d, "adverts_rx") >= 3,
        "keepalived's AH adverts accepted: {d}"
    );
    assert!(
        drops(&d).is_empty(),
        "no AH advert of keepalived dropped: {d}"
    );

    // keepalived dies: we take over.
    kill_master(&mut lab, 1);
    settle(&lab, 2, "ours takes over after keepalived is killed");
    assert_eq!(lab.state(2, "VI_1").as_deref(), Some("MASTER"));

    // keepalived restarts with a fresh counter: it accepts our numbers as
    // Backup, preempts with the next one, and we accept it.
    lab.start(1, Impl::Keepalived, &ah(150));
    settle(&lab, 1, "restarted keepalived (150) preempts ours (100)");
    assert_eq!(lab.state(2, "VI_1").as_deref(), Some("BACKUP"));
    let d = lab.dump(2).expect("dump");
    let d_drops = drops(&d);
    assert!(
        !d_drops.contains_key("ah_icv_mismatch") && !d_drops.contains_key("ah_spi_mismatch"),
        "{d}"
    );
    let log = lab.log(1);
    assert!(
        keepalived_auth_errors(&log).is_empty(),
        "keepalived refused our AH adverts: {:?}",
        keepalived_auth_errors(&log)
    );
}

#[test]
fn ah_ours_master_keepalived_backup_and_failover() {
    if !prerequisites(true) {
        return;
    }
    let mut lab = Lab::new("ah2", 2).with_daemon();
    lab.start(1, Impl::Ours, &ah(150));
    settle(&lab, 1, "ours alone becomes master");
    lab.start(2, Impl::Keepalived, &ah(100));
    std::thread::sleep(HOLD);
    let log = lab.log(2);
    if lab.holders(VIP) != vec![1] {
        lab.dump_logs();
    }
    assert_eq!(lab.holders(VIP), vec![1], "keepalived must stay BACKUP");
    assert!(log.contains("Entering BACKUP STATE"), "{log}");
    assert!(!log.contains("Entering MASTER STATE"), "{log}");
    assert!(
        keepalived_auth_errors(&log).is_empty(),
        "keepalived refused our AH adverts: {:?}",
        keepalived_auth_errors(&log)
    );
    let d = lab.dump(1).expect("dump");
    assert!(stat(&d, "adverts_tx") >= 5, "{d}");

    // We die: keepalived takes over.
    kill_master(&mut lab, 1);
    settle(&lab, 2, "keepalived takes over after ours is killed");

    // We restart with a fresh counter: we accept keepalived's numbers as
    // Backup, preempt with the next one, and keepalived accepts it.
    lab.start(1, Impl::Ours, &ah(150));
    settle(&lab, 1, "restarted ours (150) preempts keepalived (100)");
    let log = lab.log(2);
    assert!(log.contains("Entering BACKUP STATE"), "{log}");
    let d = lab.dump(1).expect("dump");
    assert!(stat(&d, "adverts_rx") >= 1, "ours heard keepalived: {d}");
    let d_drops = drops(&d);
    assert!(
        !d_drops.contains_key("ah_icv_mismatch") && !d_drops.contains_key("ah_spi_mismatch"),
        "{d}"
    );
    assert!(
        keepalived_auth_errors(&log).is_empty(),
        "keepalived refused our AH adverts: {:?}",
        keepalived_auth_errors(&log)
    );
}

#[test]
fn ah_wrong_password_is_dropped_and_counted() {
    if !prerequisites(true) {
        return;
    }
    let mut lab = Lab::new("ah3", 2).with_daemon();
    lab.start(1, Impl::Keepalived, &ah(150));
    let mut ours = ah(100);
    ours.instances[0].auth_pass = Some("otherkey".into());
    lab.start(2, Impl::Ours, &ours);
    let counted = common::wait_until(SETTLE, || {
        lab.dump(2)
            .map(|d| drops(&d).contains_key("ah_icv_mismatch"))
            .unwrap_or(false)
    });
    if !counted {
        lab.dump_logs();
    }
    assert!(
        counted,
        "AH adverts with another key are dropped as ah_icv_mismatch"
    );
}

/// Cut node `i` off the other nodes (bridge port isolation keeps the link up,
/// so nobody goes to FAULT) or reconnect it.
fn isolate(lab: &Lab, i: usize, on: bool) {
    let cmd = format!(
        "ip netns exec {} bridge link set dev p{i} isolated {}",
        lab.br_ns(),
        if on { "on" } else { "off" }
    );
    let ok = std::process::Command::new("sh")
        .args(["-c", &cmd])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "{cmd} failed");
}

/// After a partition, our Master (150) with a fresh, low counter hears
/// keepalived's Master (100) whose numbers are far ahead. keepalived drops our
/// adverts as replays (and, since a keepalived Master restarts its advert timer
/// on every packet it reads, soon stops advertising at all), so only the shared
/// counter brings ours past keepalived's: accepting its number moves our
/// counter, and `vrrp_state_master_rx`'s "Syncing seq_num" adds one. Without
/// both, the two would stay Master (checked by disabling them).
#[test]
fn ah_partition_heals_by_master_seq_resync() {
    if !prerequisites(true) || !common::require_tools(&["bridge"]) {
        return;
    }
    let mut lab = Lab::new("ah4", 2).with_daemon();
    lab.start(2, Impl::Keepalived, &ah(100));
    settle(&lab, 2, "keepalived alone becomes master");
    // Let keepalived's counter run ahead of a fresh one: by the heal it leads
    // by well over 10 (6 s here plus our Master_Down_Interval).
    std::thread::sleep(Duration::from_secs(6));
    isolate(&lab, 1, true);
    isolate(&lab, 2, true);
    lab.start(1, Impl::Ours, &ah(150));
    let both = common::wait_until(SETTLE, || lab.holders(VIP) == vec![1, 2]);
    assert!(
        both,
        "partitioned: both are master; holders {:?}",
        lab.holders(VIP)
    );
    isolate(&lab, 1, false);
    isolate(&lab, 2, false);
    // keepalived steps down at the first of our adverts after its own.
    let ok = lab.wait_sole_holder(1, VIP, Duration::from_secs(5));
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "healed: keepalived (100) steps down for ours (150) at once; holders {:?}",
        lab.holders(VIP)
    );
    assert!(
        lab.log(1).contains("Syncing seq_num"),
        "our Master resynchronised its AH counter: {}",
        lab.log(1)
    );
    let d = lab.dump(1).expect("dump");
    assert_eq!(d["vrrp"][0]["state"], "MASTER", "{d}");
}
