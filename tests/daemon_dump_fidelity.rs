//! The signal dump files against keepalived 2.2.7, line for line: the same
//! configuration (VIPs, a sync group, unicast, track_interface,
//! track_script, a notify script) runs under both daemons, each in its own
//! network namespace; each gets SIGUSR1 (`/tmp/keepalived.data` and the
//! parent's `/tmp/keepalived_parent.data`), SIGUSR2
//! (`/tmp/keepalived.stats`) and SIGJSON (`/tmp/keepalived.json`), and the
//! files must be equal once the values that legitimately differ are blanked:
//! times, descriptor numbers, MAC and link-local addresses, advert counters.
//! keepalived writes into `$TMPDIR`, ours into `--dump-dir`. Needs root.
//!
//! Also `-V`/`--dont-release-vrrp` against keepalived: the VIP stays after
//! a stop.

mod daemon_util;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use daemon_util::*;

const CONF: &str = "global_defs {
    router_id rkd_dump
}
vrrp_script chk_ok {
    script \"/bin/true\"
    interval 1
    weight -10
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
        192.0.2.101/24 dev eth0
    }
}
vrrp_instance VI_2 {
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    unicast_src_ip 192.0.2.2
    unicast_peer {
        192.0.2.3
    }
    virtual_ipaddress {
        198.51.100.10/24
    }
}
vrrp_instance VI_3 {
    state BACKUP
    interface eth0
    virtual_router_id 53
    priority 90
    advert_int 1
    nopreempt
    track_interface {
        peer0 weight -20
    }
    track_script {
        chk_ok
    }
    notify_master \"/bin/true master\"
    virtual_ipaddress {
        203.0.113.10/24
    }
}
";

/// VRRPv3 over IPv6 with an excluded VIP and its own GARP delay (whose
/// lower-priority delay must stay the global one), a v2 instance with a
/// password, a brd/label VIP and every notify script, a static address.
const CONF_V3: &str = "global_defs {
    router_id rkd_dump3
    vrrp_garp_master_refresh 60
}
static_ipaddress {
    192.0.2.200/32 dev eth0
}
vrrp_instance V6 {
    state MASTER
    interface eth0
    virtual_router_id 61
    priority 200
    advert_int 0.5
    version 3
    preempt_delay 3
    garp_master_delay 2
    smtp_alert
    virtual_ipaddress {
        2001:db8::10/64
    }
    virtual_ipaddress_excluded {
        2001:db8:1::10/64
    }
}
vrrp_instance V2P {
    state MASTER
    interface eth0
    virtual_router_id 62
    priority 120
    advert_int 2
    authentication {
        auth_type PASS
        auth_pass secret1
    }
    notify \"/bin/echo generic\"
    notify_backup /bin/true
    notify_fault /bin/true
    notify_stop /bin/true
    virtual_ipaddress {
        192.0.2.150
        192.0.2.151/24 brd 192.0.2.255 dev eth0 label eth0:1
    }
}
";

/// A FAULT instance (tracked interface down) next to a MASTER.
const CONF_STATES: &str = "global_defs {
    router_id rkd_states
}
vrrp_instance VI_M {
    state MASTER
    interface eth0
    virtual_router_id 70
    priority 200
    advert_int 1
    virtual_ipaddress {
        198.51.100.70/24
    }
}
vrrp_instance VI_F {
    state BACKUP
    interface eth0
    virtual_router_id 71
    priority 100
    advert_int 1
    track_interface {
        dum0
    }
    virtual_ipaddress {
        203.0.113.71/24
    }
}
";

/// keepalived 2.2.7 in `ns` with `TMPDIR=tmpdir` (where its dumps go).
fn keepalived_with_tmpdir(
    ns: &Netns,
    scratch: &Scratch,
    conf: &Path,
    tmpdir: &Path,
    args: &[&str],
) -> Killed {
    let p = |n: &str| scratch.p(n).display().to_string();
    let out = std::fs::File::create(scratch.p("ka.log")).expect("log");
    Killed(
        Command::new("ip")
            .args(["netns", "exec", &ns.name, "/usr/sbin/keepalived"])
            .args(args)
            .args(["-n", "-l", "-G", "-f", &conf.display().to_string()])
            .args([
                "-p",
                &p("ka.pid"),
                "-r",
                &p("ka-v.pid"),
                "-c",
                &p("ka-c.pid"),
            ])
            .env("TMPDIR", tmpdir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .spawn()
            .expect("spawn keepalived"),
    )
}

/// Replaces the number after each `key` (digits, '.', '-') with `N`.
fn blank_after(s: &str, key: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(key) {
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(rest.len());
        if end > 0 {
            out.push('N');
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// keepalived.data with the volatile values blanked.
fn normalise_data(s: &str) -> String {
    s.lines()
        .map(|l| {
            let t = l.trim_start();
            let indent = &l[..l.len() - t.len()];
            if t.starts_with("Last transition = ") {
                format!("{indent}Last transition = T")
            } else if t.starts_with("Read timeout = ") && !t.ends_with("DISABLED") {
                format!("{indent}Read timeout = T")
            } else if t.starts_with("MAC = ") {
                format!("{indent}MAC = M")
            } else if t.starts_with("IPv6 address = fe80:") {
                format!("{indent}IPv6 address = fe80::L")
            } else if t.starts_with("Using src_ip = fe80:") {
                format!("{indent}Using src_ip = fe80::L")
            } else if t.contains("IPv6 forwarding. Last checked ") {
                let (head, _) = t.split_once("Last checked ").unwrap_or((t, ""));
                format!("{indent}{head}Last checked T")
            } else if t.starts_with("fd_in ") {
                // "   fd_in 13, fd_out 14" and the pool's " fd_in 13 fd_out = 14".
                let l = blank_after(l, "fd_in ");
                blank_after(&blank_after(&l, "fd_out "), "fd_out = ")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn normalise_stats(s: &str) -> String {
    // Advert counters depend on timing; the error counters must match.
    let mut out = Vec::new();
    let mut in_adverts = false;
    for l in s.lines() {
        if l == "  Advertisements:" {
            in_adverts = true;
        } else if !l.starts_with("    ") {
            in_adverts = false;
        }
        if in_adverts && l.starts_with("    ") {
            out.push(blank_after(l, ": "));
        } else {
            out.push(l.to_string());
        }
    }
    out.join("\n")
}

fn normalise_json(s: &str) -> String {
    let s = blank_after(s, "\"last_transition\":");
    let s = blank_after(&s, "\"advert_rcvd\":");
    blank_after(&s, "\"advert_sent\":")
}

fn wait_file(p: &Path) -> String {
    wait_for(&format!("{}", p.display()), LIMIT, || {
        std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
    });
    // Written in one go by both (keepalived: fclose; ours: rename).
    std::thread::sleep(Duration::from_millis(300));
    std::fs::read_to_string(p).expect("read dump")
}

/// Runs `conf` under keepalived and under ours, each in its own namespace,
/// waits until every address of `vips` is up under both, sends DATA,
/// STATS and JSON to both and compares the files.
fn side_by_side(tag: &str, conf_text: &str, vips: &[&str], setup: &dyn Fn(&Netns)) -> String {
    let scratch = Scratch::new(tag);
    let conf = scratch.write("keepalived.conf", conf_text);
    let ka_tmp = scratch.subdir("ka-tmp", 0o700);
    let ka_ns = Netns::new(&format!("{tag}ka"));
    let rk_ns = Netns::new(&format!("{tag}rk"));
    setup(&ka_ns);
    setup(&rk_ns);
    let ka = keepalived_with_tmpdir(&ka_ns, &scratch, &conf, &ka_tmp, &["-P"]);
    let rk = Daemon::start(&rk_ns, &scratch, &["-P"], &[]);
    let all_up = |ns: &Netns| vips.iter().all(|v| ns.addr_count("eth0", v) == 1);
    wait_for("every instance MASTER under both", LIMIT, || {
        all_up(&ka_ns) && all_up(&rk_ns)
    });
    // Let the last transition settle into its advert timer.
    std::thread::sleep(Duration::from_secs(2));
    let ka_pid = read_pid(&scratch.p("ka.pid")).expect("keepalived pid");
    let sig = |name: &str| {
        let out = sh(&[bin(), &format!("--signum={name}")]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    for name in ["DATA", "STATS", "JSON"] {
        let n = sig(name);
        let out = sh(&["kill", &format!("-{n}"), &ka_pid.to_string()]);
        assert!(out.status.success(), "kill keepalived: {out:?}");
        rk.signal(&n);
    }

    let ka_data = wait_file(&ka_tmp.join("keepalived.data"));
    let rk_data = wait_file(&scratch.p("keepalived.data"));
    let (ka_n, rk_n) = (normalise_data(&ka_data), normalise_data(&rk_data));
    if ka_n != rk_n {
        for (i, (a, b)) in ka_n.lines().zip(rk_n.lines()).enumerate() {
            if a != b {
                eprintln!("line {}: keepalived {a:?}\n         ours      {b:?}", i + 1);
            }
        }
    }
    assert_eq!(rk_n, ka_n, "keepalived.data differs");

    // The parent's own SIGUSR1 file: the global definitions as the parent
    // process prints them (no "Default interface", GARP lower priority unset).
    let ka_parent = wait_file(&ka_tmp.join("keepalived_parent.data"));
    let rk_parent = wait_file(&scratch.p("keepalived_parent.data"));
    assert_eq!(rk_parent, ka_parent, "keepalived_parent.data differs");

    let ka_stats = wait_file(&ka_tmp.join("keepalived.stats"));
    let rk_stats = wait_file(&scratch.p("keepalived.stats"));
    assert_eq!(
        normalise_stats(&rk_stats),
        normalise_stats(&ka_stats),
        "keepalived.stats differs"
    );

    let ka_json = wait_file(&ka_tmp.join("keepalived.json"));
    let rk_json = wait_file(&scratch.p("keepalived.json"));
    assert_eq!(
        normalise_json(&rk_json),
        normalise_json(&ka_json),
        "keepalived.json differs (byte for byte, volatile numbers aside)"
    );
    drop(rk);
    drop(ka);
    rk_data
}

#[test]
fn dumps_match_keepalived_line_for_line() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    side_by_side(
        "dumpfid",
        CONF,
        &["192.0.2.100", "198.51.100.10", "203.0.113.10"],
        &|_| {},
    );
}

#[test]
fn dumps_match_keepalived_vrrpv3_ipv6_auth_statics() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    side_by_side(
        "dumpv3",
        CONF_V3,
        &[
            "2001:db8::10",
            "2001:db8:1::10",
            "192.0.2.150",
            "192.0.2.151",
        ],
        &|_| {},
    );
}

#[test]
fn dumps_match_keepalived_fault_state() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let data = side_by_side("dumpst", CONF_STATES, &["198.51.100.70"], &|ns| {
        ns.ip(&[
            "link", "add", "dum0", "type", "veth", "peer", "name", "dum1",
        ]);
    });
    for want in ["   State = FAULT\n", " Name = dum0\n"] {
        assert!(data.contains(want), "{want:?} in\n{data}");
    }
}

/// `-V` / `--dont-release-vrrp`: after a clean stop the VIP is still on
/// the interface, under keepalived and under ours; without it, it is gone.
#[test]
fn dont_release_vrrp_keeps_the_vip_like_keepalived() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let scratch = Scratch::new("dontrel");
    let conf = scratch.write(
        "keepalived.conf",
        &format!("{}{}", global_block(""), vrrp_block("192.0.2.77")),
    );
    let ka_tmp = scratch.subdir("ka-tmp", 0o700);
    let ka_ns = Netns::new("dontrelka");
    let rk_ns = Netns::new("dontrelrk");
    let ka = keepalived_with_tmpdir(&ka_ns, &scratch, &conf, &ka_tmp, &["-P", "-V"]);
    let mut rk = Daemon::start(&rk_ns, &scratch, &["-P", "-V"], &[]);
    wait_for("both MASTER", LIMIT, || {
        ka_ns.addr_count("eth0", "192.0.2.77") == 1 && rk_ns.addr_count("eth0", "192.0.2.77") == 1
    });
    drop(ka); // SIGTERM, waits for the exit
    rk.signal("TERM");
    let st = rk.wait_exit(LIMIT);
    assert!(st.success(), "rkeepalived -V exit: {st:?}\n{}", rk.log());
    assert_eq!(
        ka_ns.addr_count("eth0", "192.0.2.77"),
        1,
        "keepalived -V keeps the VIP"
    );
    assert_eq!(
        rk_ns.addr_count("eth0", "192.0.2.77"),
        1,
        "rkeepalived -V must keep the VIP\n{}",
        rk.log()
    );
    assert!(
        rk.log().contains("--dont-release-vrrp"),
        "the stop says why the VIP stays"
    );

    // Without -V the same stop removes it (and a restart cleans up the
    // address left by the previous run before it takes over again).
    let mut rk = Daemon::start(&rk_ns, &scratch, &["-P"], &[]);
    wait_for("MASTER again, one copy of the VIP", LIMIT, || {
        rk_ns.addr_count("eth0", "192.0.2.77") == 1 && rk.log().contains("Entering MASTER STATE")
    });
    rk.signal("TERM");
    let st = rk.wait_exit(LIMIT);
    assert!(st.success(), "exit: {st:?}");
    assert_eq!(
        rk_ns.addr_count("eth0", "192.0.2.77"),
        0,
        "released without -V"
    );
}

/// Lines of a checker dump with the values that depend on the run blanked:
/// whether each checker has run and is up, what that made of the real and
/// virtual servers (keepalived's checks ran against addresses that answer
/// nothing, ours in a netns without IPVS), the last errno, when a
/// MISC_CHECK last ran and a tracked file's last value.
fn checker_dump_lines(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| !l.starts_with("     Last errno = "))
        .map(|l| {
            if l.starts_with(" Default script uid:gid") {
                return " Default script uid:gid U:G".to_string();
            }
            for key in [
                "   Up = ",
                "   Has run = ",
                "   Retries iterations = ",
                "   alive = ",
                "   quorum_state_up = ",
                "   num failed checkers = ",
                "   RS set = ",
                "   Last ran = ",
                "   Status = ",
                "     Alive: ",
            ] {
                if l.starts_with(key) {
                    return format!("{key}X");
                }
            }
            l.to_string()
        })
        .collect()
}

fn assert_same_lines(ours: &[String], golden: &[String]) {
    for (i, (a, b)) in ours.iter().zip(golden).enumerate() {
        assert_eq!(a, b, "line {} differs\n{}", i + 1, ours.join("\n"));
    }
    assert_eq!(ours.len(), golden.len(), "{}", ours.join("\n"));
}

/// Starts rkeepalived -C on `conf` and returns its keepalived_check.data.
fn our_checker_dump(name: &str, scratch: &Scratch, conf: &str) -> String {
    scratch.write("keepalived.conf", conf);
    let ns = Netns::new(name);
    let rk = Daemon::start(&ns, scratch, &["-C"], &[]);
    wait_for("checker child", LIMIT, || {
        rk.child_pid("checkers.pid").is_some()
    });
    let p = scratch.p("keepalived_check.data");
    wait_for("the checker's dump", LIMIT, || {
        rk.signal("USR1");
        std::thread::sleep(Duration::from_millis(500));
        p.exists()
    });
    let ours = std::fs::read_to_string(&p).expect("read");
    drop(rk);
    ours
}

/// Every checker type, virtual server groups (ranges and fwmarks), a
/// fwmark service, TUN and `sh` flags, persistence, quorum and notify
/// scripts, a sorry server, SSL_GET with every connection option and url
/// setting, regexes and a tracked file, against keepalived 2.2.7's dump of
/// the same configuration (`tests/data/keepalived_check_all.golden.*`,
/// captured like the one below; `@DIR@` stands for the directory of the
/// scripts and the tracked file).
#[test]
fn checker_dump_of_every_checker_has_keepalived_layout() {
    if !prerequisites(&[]) {
        return;
    }
    let scratch = Scratch::new("chkdumpall");
    let dir = scratch.p("").display().to_string();
    let dir = dir.trim_end_matches('/');
    let ok = scratch.write("ok.sh", "#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&ok, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    scratch.write("weightfile", "0\n");
    let conf = include_str!("data/keepalived_check_all.golden.conf").replace("@DIR@", dir);
    let golden = include_str!("data/keepalived_check_all.golden.data").replace("@DIR@", dir);
    let ours = our_checker_dump("chkdumpall", &scratch, &conf);
    assert_same_lines(&checker_dump_lines(&ours), &checker_dump_lines(&golden));
}

/// A FILE_CHECK on a `track_file` with a negative, reversed weight, and a
/// track file nothing follows (keepalived's checker leaves it out).
#[test]
fn checker_dump_of_track_files_has_keepalived_layout() {
    if !prerequisites(&[]) {
        return;
    }
    let scratch = Scratch::new("chkdumptf");
    let dir = scratch.p("").display().to_string();
    let dir = dir.trim_end_matches('/');
    scratch.write("weightfile", "0\n");
    let conf = include_str!("data/keepalived_check_track.golden.conf").replace("@DIR@", dir);
    let golden = include_str!("data/keepalived_check_track.golden.data").replace("@DIR@", dir);
    let ours = our_checker_dump("chkdumptf", &scratch, &conf);
    assert_same_lines(&checker_dump_lines(&ours), &checker_dump_lines(&golden));
}

/// IPv6, GUE and GRE tunnels (keepalived prints the GUE and GRE lines
/// without their "default " prefix), a sorry server with its own method,
/// bare UDP_CHECKs and a BFD_CHECK (listed though rkeepalived does not run
/// BFD), against keepalived 2.2.7's dump of the same configuration.
#[test]
fn checker_dump_of_tunnels_and_bfd_has_keepalived_layout() {
    if !prerequisites(&[]) {
        return;
    }
    let scratch = Scratch::new("chkdumpbfd");
    let ours = our_checker_dump(
        "chkdumpbfd",
        &scratch,
        include_str!("data/keepalived_check_tun_bfd.golden.conf"),
    );
    assert_same_lines(
        &checker_dump_lines(&ours),
        &checker_dump_lines(include_str!("data/keepalived_check_tun_bfd.golden.data")),
    );
}

/// The checker's `keepalived_check.data` against keepalived 2.2.7's, which
/// cannot run here without IPVS: `tests/data/keepalived_check.golden.data`
/// was written by keepalived 2.2.7 (`-C`, SIGUSR1) for
/// `tests/data/keepalived_check.golden.conf`, run with
/// `bench/check/fake_ipvs.c` preloaded in place of the kernel's IPVS. The
/// whole file must match it line for line, with only the values that
/// depend on the run blanked: whether each checker has run and is up, and
/// what that made of the real and virtual servers (no IPVS here either).
#[test]
fn checker_dump_has_keepalived_layout() {
    if !prerequisites(&[]) {
        return;
    }
    let golden = include_str!("data/keepalived_check.golden.data");
    let scratch = Scratch::new("chkdump");
    let ours = our_checker_dump(
        "chkdump",
        &scratch,
        include_str!("data/keepalived_check.golden.conf"),
    );
    assert_same_lines(&checker_dump_lines(&ours), &checker_dump_lines(golden));
}
