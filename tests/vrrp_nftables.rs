//! Issue #11, firewall integration: keepalived 2.2.7's nftables rules for
//! VRRP (`vrrp_strict` / `strict_mode`, `no_accept` / `accept`, `nftables`,
//! `nftables_priority`, `nftables_ifindex`, `nftables_counters`, and the
//! `use_vmac` rules), compared with the real keepalived in private network
//! namespaces with Debian's `nft`:
//!
//! * the same `nft list ruleset` once every instance is MASTER (counter
//!   values dropped, set elements sorted), and an empty ruleset after a
//!   graceful stop;
//! * VIP traffic from a peer namespace is dropped exactly when keepalived
//!   drops it (a MASTER that is not the owner and not in accept mode);
//! * after kill -9 of the VRRP process, or of the whole daemon, the stale
//!   tables are deleted by the next start ("Deleting old ip keepalived
//!   table", as keepalived) and nothing is left after the final stop.
//!
//! VRRPv3 at 100 ms adverts, so instances are MASTER within a second.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use rkeepalived_testkit::{prerequisites, Daemon, Need, Netns};

const LIMIT: Duration = Duration::from_secs(20);

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rkeepalived")
}

fn needs() -> bool {
    prerequisites(&[
        Need::Root,
        Need::Tool("ip"),
        Need::Tool("nft"),
        Need::Tool("keepalived"),
        Need::Tool("ping"),
    ])
}

/// Strict mode with every kind of entry: an IPv4 non-owner (drop rule), an
/// IPv6 one with a link-local and a global VIP (keyed by interface index:
/// nftables_ifindex wins over dont_track_primary), a vmac instance (IGMP
/// rule) and an owner (no drop rule).
const STRICT_ALL: &str = "global_defs {
    vrrp_strict
    nftables_counters
    nftables_ifindex
    vrrp_version 3
}
vrrp_instance V4 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.100/32
    }
}
vrrp_instance V6 {
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 0.1
    dont_track_primary
    virtual_ipaddress {
        fe80::100/64
        2001:db8::100/128
    }
}
vrrp_instance VM {
    interface eth0
    use_vmac
    virtual_router_id 53
    priority 100
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.101/32
    }
}
vrrp_instance OWN {
    interface eth0
    virtual_router_id 54
    priority 255
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.102/32
    }
}
";

/// A named table at another priority, link-local VIPs keyed by name
/// (dont_track_primary without nftables_ifindex), `no_accept` without
/// strict mode.
const NAMED_TABLE: &str = "global_defs {
    nftables rk_fw
    nftables_priority -150
    vrrp_version 3
}
vrrp_instance N6 {
    interface eth0
    virtual_router_id 61
    priority 100
    advert_int 0.1
    no_accept
    dont_track_primary
    virtual_ipaddress {
        fe80::61/64
        2001:db8::61/128
    }
}
vrrp_instance N4 {
    interface eth0
    virtual_router_id 62
    priority 100
    advert_int 0.1
    no_accept
    virtual_ipaddress {
        192.0.2.61/32
    }
}
";

/// For the traffic test: one instance of each kind, all MASTER.
const TRAFFIC: &str = "global_defs {
    vrrp_strict
    vrrp_version 3
}
vrrp_instance NOACC {
    interface eth0
    virtual_router_id 71
    priority 100
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
vrrp_instance ACC {
    interface eth0
    virtual_router_id 72
    priority 100
    advert_int 0.1
    accept
    virtual_ipaddress {
        192.0.2.101/24
    }
}
vrrp_instance OWN {
    interface eth0
    virtual_router_id 73
    priority 255
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.102/24
    }
}
vrrp_instance NOACC6 {
    interface eth0
    virtual_router_id 74
    priority 100
    advert_int 0.1
    virtual_ipaddress {
        fe80::74/64
        2001:db8::100/64
    }
}
vrrp_instance ACC6 {
    interface eth0
    virtual_router_id 75
    priority 100
    advert_int 0.1
    accept
    virtual_ipaddress {
        fe80::75/64
        2001:db8::101/64
    }
}
";

/// The daemon's namespace (`eth0`, 192.0.2.2/24, 2001:db8::2/64) and, with
/// `peer`, a second one linked to it (`eth0`, 192.0.2.1/24, 2001:db8::1/64).
struct Site {
    ns: Netns,
    peer: Option<Netns>,
    dir: PathBuf,
}

impl Site {
    fn new(tag: &str, peer: bool) -> Site {
        let ns = Netns::new(tag);
        let dir = std::env::temp_dir().join(format!("{}-dir", ns.name()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let peer = peer.then(|| {
            let p = Netns::new(&format!("{tag}p"));
            ns.ip(&[
                "link",
                "add",
                "eth0",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                p.name(),
            ]);
            p.ip(&["addr", "add", "192.0.2.1/24", "dev", "eth0"]);
            p.ip(&["addr", "add", "2001:db8::1/64", "dev", "eth0", "nodad"]);
            p.ip(&["link", "set", "eth0", "up"]);
            p
        });
        if peer.is_none() {
            ns.ip(&[
                "link", "add", "eth0", "type", "veth", "peer", "name", "peer0",
            ]);
            ns.ip(&["link", "set", "peer0", "up"]);
        }
        // No DAD: link-local addresses (advert sources) usable at once.
        let _ = ns.exec(&["sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0"]);
        ns.ip(&["addr", "add", "192.0.2.2/24", "dev", "eth0"]);
        ns.ip(&["addr", "add", "2001:db8::2/64", "dev", "eth0", "nodad"]);
        ns.ip(&["link", "set", "eth0", "up"]);
        Site { ns, peer, dir }
    }

    fn conf(&self, text: &str) -> PathBuf {
        let p = self.dir.join("keepalived.conf");
        std::fs::write(&p, text).expect("write conf");
        p
    }

    fn keepalived(&self, conf: &Path) -> Daemon {
        self.ns.spawn_keepalived(conf, &self.dir, &[])
    }

    fn ours(&self, conf: &Path) -> Daemon {
        self.ns
            .spawn_rkeepalived(bin(), conf, &self.dir, &["--no-syslog", "-D"])
    }

    fn ruleset(&self) -> String {
        let out = self.ns.exec(&["nft", "list", "ruleset"]);
        assert!(out.status.success(), "nft list ruleset: {out:?}");
        normalize(&String::from_utf8_lossy(&out.stdout))
    }

    fn has_vips(&self, vips: &[&str]) -> bool {
        let out = self.ns.exec(&["ip", "-o", "addr"]);
        let text = String::from_utf8_lossy(&out.stdout);
        vips.iter().all(|v| text.contains(&format!(" {v}/")))
    }

    fn pid_file(&self, name: &str) -> Option<i32> {
        std::fs::read_to_string(self.dir.join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Counter values dropped, each `elements = { ... }` sorted (the kernel's
/// hash order is not keepalived's concern), whitespace folded.
fn normalize(ruleset: &str) -> String {
    let mut out = Vec::new();
    let mut lines = ruleset.lines();
    while let Some(line) = lines.next() {
        let mut l = line.trim().to_string();
        if l.starts_with("elements = {") {
            while !l.ends_with('}') {
                match lines.next() {
                    Some(more) => {
                        l.push(' ');
                        l.push_str(more.trim());
                    }
                    None => break,
                }
            }
            let inner = l
                .trim_start_matches("elements = {")
                .trim_end_matches('}')
                .to_string();
            let mut items: Vec<String> = inner.split(',').map(|s| s.trim().to_string()).collect();
            items.sort();
            l = format!("elements = {{ {} }}", items.join(", "));
        }
        let words: Vec<&str> = l.split_whitespace().collect();
        let mut kept = Vec::new();
        let mut i = 0;
        while i < words.len() {
            if words[i] == "packets" || words[i] == "bytes" {
                i += 2;
                continue;
            }
            kept.push(words[i]);
            i += 1;
        }
        if !kept.is_empty() {
            out.push(kept.join(" "));
        }
    }
    out.join("\n")
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < LIMIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The ruleset once `vips` are all up and it stopped changing.
fn settled_ruleset(site: &Site, vips: &[&str]) -> String {
    wait_until("every VIP", || site.has_vips(vips));
    let mut last = site.ruleset();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = site.ruleset();
        if now == last {
            return now;
        }
        last = now;
    }
}

/// SIGTERM and wait for the exit.
fn stop(d: &mut Daemon) {
    d.signal(Signal::SIGTERM);
    let start = Instant::now();
    while d.child().try_wait().expect("wait").is_none() {
        assert!(start.elapsed() < LIMIT, "daemon did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `conf` under keepalived and under rkeepalived (each in its own
/// namespace, at the same time) and returns both settled rulesets and what
/// each left behind after a graceful stop.
fn both(tag: &str, conf: &str, vips: &[&str]) -> [(String, String); 2] {
    let ka_site = Site::new(&format!("{tag}k"), false);
    let rk_site = Site::new(&format!("{tag}r"), false);
    let mut ka = ka_site.keepalived(&ka_site.conf(conf));
    let mut rk = rk_site.ours(&rk_site.conf(conf));
    let ka_rules = settled_ruleset(&ka_site, vips);
    let rk_rules = settled_ruleset(&rk_site, vips);
    stop(&mut ka);
    stop(&mut rk);
    [(ka_rules, ka_site.ruleset()), (rk_rules, rk_site.ruleset())]
}

#[test]
fn strict_mode_ruleset_matches_keepalived_and_is_removed_on_stop() {
    if !needs() {
        return;
    }
    let [(ka, ka_left), (rk, rk_left)] = both(
        "nftstrict",
        STRICT_ALL,
        &[
            "192.0.2.100",
            "2001:db8::100",
            "fe80::100",
            "192.0.2.101",
            "192.0.2.102",
        ],
    );
    assert!(
        ka.contains("table ip keepalived"),
        "keepalived's ruleset:\n{ka}"
    );
    assert!(ka.contains("map vmac_map"), "{ka}");
    assert_eq!(
        rk, ka,
        "rkeepalived's ruleset (left) differs from keepalived's (right)"
    );
    assert_eq!(ka_left, "", "keepalived left rules behind");
    assert_eq!(rk_left, "", "rkeepalived left rules behind");
}

#[test]
fn named_table_priority_and_no_accept_match_keepalived() {
    if !needs() {
        return;
    }
    let [(ka, ka_left), (rk, rk_left)] = both(
        "nftnamed",
        NAMED_TABLE,
        &["2001:db8::61", "fe80::61", "192.0.2.61"],
    );
    assert!(
        ka.contains("table ip6 rk_fw"),
        "keepalived's ruleset:\n{ka}"
    );
    assert!(ka.contains("vips_link_local_name"), "{ka}");
    assert!(ka.contains("priority mangle;"), "{ka}");
    assert_eq!(
        rk, ka,
        "rkeepalived's ruleset (left) differs from keepalived's (right)"
    );
    assert_eq!((ka_left.as_str(), rk_left.as_str()), ("", ""));
}

/// (VIP, answered a ping from the peer namespace) for each VIP of TRAFFIC.
fn pings(site: &Site) -> Vec<(&'static str, bool)> {
    let peer = site.peer.as_ref().expect("peer namespace");
    [
        "192.0.2.100",
        "192.0.2.101",
        "192.0.2.102",
        "2001:db8::100",
        "2001:db8::101",
    ]
    .into_iter()
    .map(|vip| {
        // Two tries: the first may wait for neighbour resolution.
        let ok = (0..2).any(|_| {
            peer.exec(&["ping", "-n", "-q", "-c", "1", "-W", "1", vip])
                .status
                .success()
        });
        (vip, ok)
    })
    .collect()
}

#[test]
fn vip_traffic_is_dropped_exactly_when_keepalived_drops_it() {
    if !needs() {
        return;
    }
    let vips = [
        "192.0.2.100",
        "192.0.2.101",
        "192.0.2.102",
        "2001:db8::100",
        "2001:db8::101",
    ];
    let mut results = Vec::new();
    for (who, tag) in [("keepalived", "nfttk"), ("rkeepalived", "nfttr")] {
        let site = Site::new(tag, true);
        let conf = site.conf(TRAFFIC);
        let mut d = if who == "keepalived" {
            site.keepalived(&conf)
        } else {
            site.ours(&conf)
        };
        settled_ruleset(&site, &vips);
        let got = pings(&site);
        stop(&mut d);
        // After the stop the VIPs are gone: nothing answers.
        results.push((who, got));
    }
    let expected = vec![
        ("192.0.2.100", false), // MASTER, not owner, no accept: dropped
        ("192.0.2.101", true),  // accept
        ("192.0.2.102", true),  // address owner
        ("2001:db8::100", false),
        ("2001:db8::101", true),
    ];
    assert_eq!(results[0].1, expected, "keepalived");
    assert_eq!(
        results[1].1, results[0].1,
        "rkeepalived differs from keepalived"
    );
}

fn kill9(pid: i32) {
    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
}

#[test]
fn stale_rules_are_replaced_after_kill_9_and_nothing_is_left_after_stop() {
    if !needs() {
        return;
    }
    let vips = [
        "192.0.2.100",
        "2001:db8::100",
        "fe80::100",
        "192.0.2.101",
        "192.0.2.102",
    ];
    let site = Site::new("nftkill", false);
    let conf = site.conf(STRICT_ALL);
    // The reference: a clean start.
    let mut d = site.ours(&conf);
    let fresh = settled_ruleset(&site, &vips);
    assert!(fresh.contains("table ip6 keepalived"), "{fresh}");
    // kill -9 of the VRRP process: the supervisor respawns it, and the new
    // one replaces the tables left behind.
    let child = site.pid_file("vrrp.pid").expect("vrrp.pid");
    kill9(child);
    wait_until("a respawned VRRP process", || {
        site.pid_file("vrrp.pid").is_some_and(|p| p != child)
    });
    wait_until("the stale tables deleted", || {
        d.log().contains("Deleting old ip keepalived table")
            && d.log().contains("Deleting old ip6 keepalived table")
    });
    assert_eq!(settled_ruleset(&site, &vips), fresh, "after the respawn");
    // kill -9 of the whole daemon leaves the tables (keepalived too: only
    // its exit path deletes them); the next start replaces them.
    let vrrp = site.pid_file("vrrp.pid");
    kill9(d.pid() as i32);
    if let Some(p) = vrrp {
        kill9(p);
    }
    let _ = d.child().wait();
    wait_until("the VRRP process gone", || {
        vrrp.is_none_or(|p| !Path::new(&format!("/proc/{p}")).exists())
    });
    assert!(
        site.ruleset().contains("table ip keepalived"),
        "left by kill -9"
    );
    drop(d);
    let log_before = std::fs::read_to_string(site.dir.join("rkeepalived.log")).unwrap_or_default();
    let mut d = site.ours(&conf);
    wait_until("the stale tables deleted by the new daemon", || {
        d.log().len() > log_before.len()
            && d.log()[log_before.len()..].contains("Deleting old ip keepalived table")
    });
    assert_eq!(settled_ruleset(&site, &vips), fresh, "after a new start");
    stop(&mut d);
    assert_eq!(site.ruleset(), "", "rules left after the stop");
}

/// Before the reload: a non-accepting instance and an accepting one.
const BEFORE_RELOAD: &str = "global_defs {
    vrrp_version 3
    nftables
}
vrrp_instance R1 {
    interface eth0
    virtual_router_id 81
    priority 100
    advert_int 0.1
    no_accept
    virtual_ipaddress {
        192.0.2.100/32
        192.0.2.101/32
    }
}
vrrp_instance R2 {
    interface eth0
    virtual_router_id 82
    priority 100
    advert_int 0.1
    accept
    virtual_ipaddress {
        192.0.2.110/32
    }
}
";

/// After it: R1 drops a VIP and gains one, R2 stops accepting
/// (keepalived `clear_diff_vrrp_vip()`, `restore_vrrp_state()`).
const AFTER_RELOAD: &str = "global_defs {
    vrrp_version 3
    nftables
}
vrrp_instance R1 {
    interface eth0
    virtual_router_id 81
    priority 100
    advert_int 0.1
    no_accept
    virtual_ipaddress {
        192.0.2.100/32
        192.0.2.102/32
    }
}
vrrp_instance R2 {
    interface eth0
    virtual_router_id 82
    priority 100
    advert_int 0.1
    no_accept
    virtual_ipaddress {
        192.0.2.110/32
    }
}
";

#[test]
fn a_reload_updates_the_drop_rules_as_keepalived() {
    if !needs() {
        return;
    }
    let ka_site = Site::new("nftrelk", false);
    let rk_site = Site::new("nftrelr", false);
    let mut ka = ka_site.keepalived(&ka_site.conf(BEFORE_RELOAD));
    let mut rk = rk_site.ours(&rk_site.conf(BEFORE_RELOAD));
    let before = ["192.0.2.100", "192.0.2.101", "192.0.2.110"];
    let ka_before = settled_ruleset(&ka_site, &before);
    assert_eq!(
        settled_ruleset(&rk_site, &before),
        ka_before,
        "before the reload"
    );
    assert!(
        ka_before.contains("elements = { 192.0.2.100, 192.0.2.101 }"),
        "{ka_before}"
    );
    ka_site.conf(AFTER_RELOAD);
    rk_site.conf(AFTER_RELOAD);
    ka.signal(Signal::SIGHUP);
    rk.signal(Signal::SIGHUP);
    let after = ["192.0.2.100", "192.0.2.102", "192.0.2.110"];
    let ka_after = settled_ruleset(&ka_site, &after);
    assert!(
        ka_after.contains("elements = { 192.0.2.100, 192.0.2.102, 192.0.2.110 }"),
        "keepalived after the reload:\n{ka_after}"
    );
    wait_until("rkeepalived's rules after the reload", || {
        rk_site.ruleset() == ka_after
    });
    stop(&mut ka);
    stop(&mut rk);
    assert_eq!(
        (ka_site.ruleset(), rk_site.ruleset()),
        (String::new(), String::new())
    );
}

/// A vmac deleted by hand is re-created; its map entry follows the new
/// interface index and the old one goes (keepalived `nft_add_vmac()` with
/// the old interface).
#[test]
fn vmac_entries_follow_a_re_created_vmac() {
    if !needs() {
        return;
    }
    let site = Site::new("nftvmac", false);
    let conf = site.conf(
        "global_defs {
    vrrp_version 3
}
vrrp_instance VM {
    interface eth0
    use_vmac
    virtual_router_id 53
    priority 100
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.101/32
    }
}
",
    );
    let mut d = site.ours(&conf);
    let fresh = settled_ruleset(&site, &["192.0.2.101"]);
    assert!(
        fresh.contains("elements = { \"vrrp.53\" : \"eth0\" }"),
        "{fresh}"
    );
    let index = |site: &Site| {
        let out = site.ns.exec(&["cat", "/sys/class/net/vrrp.53/ifindex"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let old = index(&site);
    site.ns.ip(&["link", "del", "vrrp.53"]);
    wait_until("the vmac re-created", || {
        let now = index(&site);
        !now.is_empty() && now != old
    });
    assert_eq!(settled_ruleset(&site, &["192.0.2.101"]), fresh);
    stop(&mut d);
    assert_eq!(site.ruleset(), "");
}

/// `disable_local_igmp`: link-local IGMP reports off while running (the
/// namespace's net.ipv4.igmp_link_local_mcast_reports), restored at stop,
/// and so no IPv4 vmac rule, as keepalived.
#[test]
fn disable_local_igmp_turns_reports_off_instead_of_the_vmac_rule() {
    if !needs() {
        return;
    }
    let conf = "global_defs {
    vrrp_version 3
    disable_local_igmp
}
vrrp_instance VM {
    interface eth0
    use_vmac
    virtual_router_id 53
    priority 100
    advert_int 0.1
    virtual_ipaddress {
        192.0.2.101/32
    }
}
";
    let sysctl = |site: &Site| {
        let out = site
            .ns
            .exec(&["sysctl", "-n", "net.ipv4.igmp_link_local_mcast_reports"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let mut seen = Vec::new();
    for (who, tag) in [("keepalived", "nftigk"), ("rkeepalived", "nftigr")] {
        let site = Site::new(tag, false);
        let path = site.conf(conf);
        let before = sysctl(&site);
        let mut d = if who == "keepalived" {
            site.keepalived(&path)
        } else {
            site.ours(&path)
        };
        let rules = settled_ruleset(&site, &["192.0.2.101"]);
        let running = sysctl(&site);
        stop(&mut d);
        // (sysctl before, while running, ruleset, sysctl after, ruleset after)
        seen.push([before, running, rules, sysctl(&site), site.ruleset()]);
    }
    assert_eq!(seen[0], ["1", "0", "", "1", ""], "keepalived");
    assert_eq!(seen[1], seen[0], "rkeepalived differs from keepalived");
}
