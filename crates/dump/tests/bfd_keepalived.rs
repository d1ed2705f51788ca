//! The BFD dump lines against keepalived 2.2.7's own SIGUSR1 dumps: the
//! same configuration runs under keepalived (BFD, VRRP and checker
//! processes) in a private network namespace; its `keepalived_bfd.data`
//! (`BFD Topology`, configuration lines of each session) and
//! `keepalived.data` (`VRRP Track BFDs`, `Tracked BFDs`) must equal what
//! `rkeepalived_dump::bfd` writes from our model of the file. Needs root
//! and keepalived; the sessions never come up (no neighbor answers), which
//! is what keepalived dumps too ("Bfd is down").

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_dump::bfd::{bfd_topology, tracked_bfds, vrrp_track_bfds};
use rkeepalived_testkit::{prerequisites, Need, Netns};

const CONF: &str = "\
global_defs {
    router_id bfd_dump
}
bfd_instance b4 {
    neighbor_ip 192.0.2.1
    source_ip 192.0.2.2
    min_rx 3.312
    min_tx 20
    idle_tx 2000.5
    multiplier 3
    passive
    ttl 64
    max_hops 2
    weight 20 reverse
}
bfd_instance b6 {
    neighbor_ip 2001:db8::1
    max_hops -1
}
bfd_instance bv {
    neighbor_ip 192.0.2.7
    vrrp
}
bfd_instance bc {
    neighbor_ip 192.0.2.8
    checker
}
bfd_instance off {
    weight -5
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.100/24
    }
    track_bfd {
        b4
        b6 weight -10
        off weight 5 noreverse
    }
}
vrrp_instance VI_2 {
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 100
    virtual_ipaddress {
        192.0.2.101/24
    }
    track_bfd {
        bv weight 0
    }
}
vrrp_sync_group G {
    group {
        VI_2
    }
    track_bfd {
        b4 weight 7
        bv weight 9
    }
    sync_group_tracking_weight
}
";

struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn wait_for(path: &Path, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            // keepalived writes the file in one go; its last section ends
            // the file.
            if s.contains(what) {
                return s;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never got {what}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The lines of the section headed `header`, up to the next section.
fn section(text: &str, header: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("------<") {
            inside = line == header;
        }
        if inside {
            out.push(line.to_string());
        }
    }
    out
}

#[test]
fn bfd_dump_lines_match_keepalived() {
    if !prerequisites(&[Need::Root, Need::Keepalived, Need::Tool("ip")]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("rk-bfd-dump-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let dir = Dir(dir);
    let p = |n: &str| dir.0.join(n).display().to_string();
    std::fs::write(dir.0.join("k.conf"), CONF).expect("write conf");

    let ns = Netns::new("bfddump");
    ns.ip(&[
        "link", "add", "eth0", "type", "veth", "peer", "name", "peer0",
    ]);
    ns.ip(&["link", "set", "eth0", "up"]);
    ns.ip(&["link", "set", "peer0", "up"]);
    ns.ip(&["addr", "add", "192.0.2.2/24", "dev", "eth0"]);
    ns.ip(&["addr", "add", "2001:db8::2/64", "dev", "eth0", "nodad"]);

    let log = std::fs::File::create(dir.0.join("ka.log")).expect("log");
    let child = ns
        .command("/usr/sbin/keepalived")
        .args(["-n", "-l", "-f", &p("k.conf")])
        .args(["-p", &p("ka.pid"), "-r", &p("ka-v.pid")])
        .args(["-c", &p("ka-c.pid"), "-b", &p("ka-b.pid")])
        .env("TMPDIR", &dir.0)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup"))
        .stderr(log)
        .spawn()
        .expect("spawn keepalived");
    let ka = Running(child);
    // The children are up once they wrote their pid files.
    for f in ["ka-v.pid", "ka-b.pid"] {
        wait_for(&dir.0.join(f), "");
    }
    std::thread::sleep(Duration::from_millis(500));
    let pid = std::fs::read_to_string(dir.0.join("ka.pid")).expect("pid");
    let status = std::process::Command::new("kill")
        .args(["-USR1", pid.trim()])
        .status()
        .expect("kill");
    assert!(status.success());
    let bfd_data = wait_for(&dir.0.join("keepalived_bfd.data"), "BFD Topology");
    let vrrp_data = wait_for(&dir.0.join("keepalived.data"), "VRRP Track BFDs");
    drop(ka);

    let opts = LoadOptions {
        config_id: Some("x".into()),
    };
    let cfg = parse_str(CONF, "k.conf", &opts).expect("loads").config;

    // keepalived follows each session's configuration with its state
    // (`fd_out` ... `last_seen`): keep the configuration lines.
    let theirs: Vec<String> = section(&bfd_data, "------< BFD Topology >------")
        .into_iter()
        .filter(|l| {
            l.starts_with("------<")
                || l.starts_with(" BFD Instance")
                || [
                    "Neighbor IP",
                    "Source IP",
                    "Required min RX",
                    "Desired min TX",
                    "Desired idle TX",
                    "Detection multiplier",
                    "TTL =",
                    "hoplimit =",
                    "max_hops =",
                    "passive =",
                    "send event to",
                ]
                .iter()
                .any(|k| l.trim_start().starts_with(k))
        })
        .collect();
    let ours: Vec<String> = bfd_topology(&cfg).lines().map(String::from).collect();
    assert_eq!(ours.len(), 1 + 12 + 3 * 11, "four sessions: {ours:#?}");
    assert_eq!(ours, theirs, "BFD Topology\n{bfd_data}");

    let theirs = section(&vrrp_data, "------< VRRP Track BFDs >------");
    let ours: Vec<String> = vrrp_track_bfds(&cfg, |_| false)
        .lines()
        .map(String::from)
        .collect();
    assert!(ours.len() > 15, "{ours:#?}");
    assert_eq!(ours, theirs, "VRRP Track BFDs\n{vrrp_data}");

    // The instance's own list (after its sync group's: keepalived adds
    // the group's entries at run time, not to the instance's list).
    let v = cfg.vrrp_instance("VI_1").expect("VI_1");
    let want = tracked_bfds(&v.track_bfds);
    assert!(
        vrrp_data.contains(&want),
        "VI_1 Tracked BFDs:\n{want}\n---\n{vrrp_data}"
    );
    let g = &cfg.vrrp_sync_groups[0];
    let want = tracked_bfds(&g.track_bfds);
    assert!(
        vrrp_data.contains(&want),
        "G Tracked BFDs:\n{want}\n---\n{vrrp_data}"
    );
}
