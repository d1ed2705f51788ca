//! keepalived 2.2.7's command-line options with an observable effect,
//! each run side by side with keepalived (own network namespaces):
//! `-a`/`--address-monitoring` logs every address change, `-m`/`--core-dump`
//! lifts RLIMIT_CORE. (`-V` is in daemon_dump_fidelity.rs, `-e` and
//! `--signum` in cli_config.rs, `-I` in the IPVS lab tests.) Needs root.

mod daemon_util;

use std::time::Duration;

use daemon_util::*;

fn core_limit(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .map(|l| l.split_whitespace().skip(4).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[test]
fn address_monitoring_and_core_dump_like_keepalived() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let scratch = Scratch::new("cliopts");
    let conf = scratch.write(
        "keepalived.conf",
        &format!("{}{}", global_block(""), vrrp_block("192.0.2.78")),
    );
    let ka_ns = Netns::new("cliopka");
    let rk_ns = Netns::new("clioprk");
    let _ka = spawn_keepalived(&ka_ns, &scratch, &conf, &["-P", "-G", "-a", "-m"], "ka.log");
    let rk = Daemon::start(&rk_ns, &scratch, &["-P", "-a", "-m"], &[]);
    wait_for("both MASTER", LIMIT, || {
        ka_ns.addr_count("eth0", "192.0.2.78") == 1 && rk_ns.addr_count("eth0", "192.0.2.78") == 1
    });
    let ka_log = || std::fs::read_to_string(scratch.p("ka.log")).unwrap_or_default();

    // -a: an address added and removed by hand is reported by both.
    for ns in [&ka_ns, &rk_ns] {
        ns.ip(&["addr", "add", "198.51.100.77/32", "dev", "eth0"]);
    }
    let added = "Netlink reflector reports IP 198.51.100.77 added to eth0";
    wait_for("keepalived reports the new address", LIMIT, || {
        ka_log().contains(added)
    });
    wait_for("we report the new address", LIMIT, || {
        rk.log().contains(added)
    });
    for ns in [&ka_ns, &rk_ns] {
        ns.ip(&["addr", "del", "198.51.100.77/32", "dev", "eth0"]);
    }
    let removed = "Netlink reflector reports IP 198.51.100.77 removed from eth0";
    wait_for("keepalived reports the removal", LIMIT, || {
        ka_log().contains(removed)
    });
    wait_for("we report the removal", LIMIT, || {
        rk.log().contains(removed)
    });

    // -m: RLIMIT_CORE unlimited in the parent and the VRRP child.
    let ka_pid = read_pid(&scratch.p("ka.pid")).expect("keepalived pid");
    let ka_vrrp = read_pid(&scratch.p("ka-v.pid")).expect("keepalived vrrp pid");
    let rk_vrrp = rk.child_pid("vrrp.pid").expect("vrrp pid");
    for (who, pid) in [
        ("keepalived", ka_pid),
        ("keepalived vrrp", ka_vrrp),
        ("rkeepalived", rk.pid),
        ("rkeepalived vrrp", rk_vrrp),
    ] {
        assert_eq!(core_limit(pid), "unlimited unlimited bytes", "{who} (-m)");
    }
    std::thread::sleep(Duration::from_millis(100));
}

/// Without `-a` neither daemon reports an address added by hand.
#[test]
fn no_address_reports_without_address_monitoring() {
    if !prerequisites(&[]) {
        return;
    }
    let scratch = Scratch::new("noaddrmon");
    scratch.write(
        "keepalived.conf",
        &format!("{}{}", global_block(""), vrrp_block("192.0.2.79")),
    );
    let ns = Netns::new("noaddrmon");
    let rk = Daemon::start(&ns, &scratch, &["-P"], &[]);
    wait_for("MASTER", LIMIT, || ns.addr_count("eth0", "192.0.2.79") == 1);
    ns.ip(&["addr", "add", "198.51.100.79/32", "dev", "eth0"]);
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !rk.log()
            .contains("Netlink reflector reports IP 198.51.100.79"),
        "{}",
        rk.log()
    );
}
