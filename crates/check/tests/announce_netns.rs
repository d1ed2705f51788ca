//! Route announcement against a real kernel and real routing daemons, in
//! network namespaces: the checker engine (IPVS mocked: the host kernel has
//! none) runs in a "director" namespace, a TCP real server in another, and
//! BIRD 2 in the director (with the shipped conf/bird.conf, verbatim) peers
//! over eBGP with a BIRD in a "router" namespace. The router must learn the
//! VIPs while the real server is up, lose them when it dies (quorum lost),
//! learn them again, and lose them on a graceful stop while the IPVS
//! entries are still there (announce_drain_delay).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rkeepalived_check::{
    from_config, run_plan, CheckPlan, EngineBackend, EngineOptions, SharedBackend,
};
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_control::Control;
use rkeepalived_ipvs::MockIpvs;
use rkeepalived_testkit::{prerequisites, Daemon, Need, Netns};
use tokio::sync::mpsc;

const VIP4: &str = "192.0.2.100";
const VIP6: &str = "2001:db8::100";

fn conf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf")
}

fn plan(drain_delay: u32) -> CheckPlan {
    let text = format!(
        "global_defs {{
  announce_table 100
  announce_protocol rkeepalived
  announce_metric 0
  announce_drain_delay {drain_delay}
}}
virtual_server {VIP4} 80 {{
  delay_loop 1
  announce_route
  real_server 203.0.113.2 8080 {{
    TCP_CHECK {{
      connect_timeout 1
      retry 0
    }}
  }}
}}
virtual_server {VIP6} 80 {{
  delay_loop 1
  announce_route
  real_server 2001:db8:1::2 8080 {{
    TCP_CHECK {{
      connect_timeout 1
      retry 0
    }}
  }}
}}
"
    );
    let loaded = parse_str(&text, "announce.conf", &LoadOptions::default()).expect("config parses");
    from_config(&loaded.config).expect("plan builds")
}

/// The engine on its own thread inside `ns` (so its rtnetlink and check
/// sockets are the namespace's), with a mock IPVS the test can read.
struct Engine {
    tx: mpsc::Sender<Control>,
    thread: Option<std::thread::JoinHandle<()>>,
    ipvs: Arc<Mutex<MockIpvs>>,
}

impl Engine {
    fn start(ns: &Netns, plan: CheckPlan) -> Engine {
        let (tx, rx) = mpsc::channel(8);
        let ipvs: Arc<Mutex<MockIpvs>> = Default::default();
        let backend = SharedBackend(Arc::clone(&ipvs));
        let path = format!("/var/run/netns/{}", ns.name());
        let thread = std::thread::spawn(move || {
            let file = std::fs::File::open(&path).expect("open netns");
            nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let mut opts = EngineOptions::new(EngineBackend::Custom(Box::new(backend)));
            opts.ipvs_retry_interval = Duration::from_millis(200);
            rt.block_on(run_plan(plan, rx, opts)).expect("engine ran");
        });
        Engine {
            tx,
            thread: Some(thread),
            ipvs,
        }
    }

    fn services(&self) -> usize {
        self.ipvs.lock().unwrap().state.services.len()
    }

    fn stop(&mut self) {
        let _ = self.tx.blocking_send(Control::Stop);
        if let Some(t) = self.thread.take() {
            t.join().expect("engine thread");
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP real server (v4 and v6 listeners) in `ns`; dropped = dead.
fn real_server(ns: &Netns) -> (TcpListener, TcpListener) {
    ns.run(|| {
        (
            TcpListener::bind("203.0.113.2:8080").expect("bind v4 real server"),
            TcpListener::bind("[2001:db8:1::2]:8080").expect("bind v6 real server"),
        )
    })
}

fn veth(a: &Netns, a_if: &str, a_addrs: &[&str], b: &Netns, b_if: &str, b_addrs: &[&str]) {
    rkeepalived_testkit::must(&[
        "ip",
        "link",
        "add",
        a_if,
        "netns",
        a.name(),
        "type",
        "veth",
        "peer",
        "name",
        b_if,
        "netns",
        b.name(),
    ]);
    for (ns, ifname, addrs) in [(a, a_if, a_addrs), (b, b_if, b_addrs)] {
        for addr in addrs {
            ns.ip(&["addr", "add", addr, "dev", ifname, "nodad"]);
        }
        ns.ip(&["link", "set", ifname, "up"]);
    }
}

/// A BIRD in `ns` with its own control socket under `dir`.
fn bird(ns: &Netns, dir: &Path, name: &str, config: &str) -> (Daemon, PathBuf) {
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(&conf, config).unwrap();
    let ctl = dir.join(format!("{name}.ctl"));
    let mut cmd = ns.command("bird");
    cmd.arg("-f")
        .arg("-c")
        .arg(&conf)
        .arg("-s")
        .arg(&ctl)
        .arg("-P")
        .arg(dir.join(format!("{name}.pid")));
    (Daemon::spawn(cmd, dir.join(format!("{name}.log"))), ctl)
}

/// The prefixes the router BIRD has learned for our VIPs.
fn learned(ctl: &Path) -> (bool, bool) {
    let out = Command::new("birdc")
        .arg("-s")
        .arg(ctl)
        .args(["show", "route"])
        .output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    (
        text.contains(&format!("{VIP4}/32")),
        text.contains(&format!("{VIP6}/128")),
    )
}

fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(cond(), "timed out after {limit:?} waiting for {what}");
    start.elapsed()
}

fn our_routes(ns: &Netns) -> String {
    let out = ns.exec(&["ip", "-o", "route", "show", "table", "100", "proto", "249"]);
    let out6 = ns.exec(&[
        "ip", "-o", "-6", "route", "show", "table", "100", "proto", "249",
    ]);
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out6.stdout)
    )
}

fn all_routes(ns: &Netns) -> String {
    let out = ns.exec(&["ip", "-o", "route", "show", "table", "100"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rk-announce-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct RmDir(PathBuf);
impl Drop for RmDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Director, router and real server namespaces, wired.
fn lab(tag: &str) -> (Netns, Netns, Netns) {
    let dir = Netns::new(&format!("{tag}d"));
    let rtr = Netns::new(&format!("{tag}r"));
    let rs = Netns::new(&format!("{tag}s"));
    let pid = std::process::id() % 100_000;
    veth(
        &dir,
        &format!("ad{pid}"),
        &["198.51.100.1/30", "2001:db8:ffff::1/64"],
        &rtr,
        &format!("ar{pid}"),
        &["198.51.100.2/30", "2001:db8:ffff::2/64"],
    );
    veth(
        &dir,
        &format!("as{pid}"),
        &["203.0.113.1/30", "2001:db8:1::1/64"],
        &rs,
        &format!("at{pid}"),
        &["203.0.113.2/30", "2001:db8:1::2/64"],
    );
    (dir, rtr, rs)
}

/// The router BIRD (the same for both director daemons).
fn router_bird(rtr_ns: &Netns, tmp: &Path) -> (Daemon, PathBuf) {
    bird(
        rtr_ns,
        tmp,
        "router",
        "router id 198.51.100.2;\nlog stderr all;\nprotocol device {}\n\
         protocol bgp dir1 { local as 65000; neighbor 198.51.100.1 as 65001;\n\
           hold time 60; connect retry time 2; error wait time 1, 5;\n\
           ipv4 { import all; export none; }; ipv6 { import all; export none; }; }\n",
    )
}

/// (Sessions use a long hold time and a short connect retry in the tests:
/// on a loaded CI machine a missed keepalive must not reset a session.)
///
/// Learn with quorum, lose on quorum loss, learn again, lose on a graceful
/// stop while IPVS still has the services. `v6`: the director's daemon
/// announces IPv6 too.
fn scenario(dir_ns: &Netns, rs_ns: &Netns, rtr_ctl: &Path, v6: bool) {
    let server = real_server(rs_ns);
    let mut engine = Engine::start(dir_ns, plan(6));
    let up = (true, v6);
    wait_for(
        Duration::from_secs(60),
        "the router to learn the VIPs",
        || learned(rtr_ctl) == up,
    );
    assert_eq!(engine.services(), 2);

    drop(server); // the real server dies: quorum lost
    wait_for(
        Duration::from_secs(20),
        "the router to lose the VIPs",
        || learned(rtr_ctl) == (false, false),
    );
    // Both virtual servers (their checks run independently) withdrew.
    wait_for(Duration::from_secs(10), "no route of ours left", || {
        our_routes(dir_ns).is_empty()
    });

    let _server = real_server(rs_ns); // back
    wait_for(
        Duration::from_secs(20),
        "the router to learn the VIPs again",
        || learned(rtr_ctl) == up,
    );

    // Graceful stop: withdrawn at the router while IPVS still has the
    // services, which go only after announce_drain_delay (6 s).
    let tx = engine.tx.clone();
    let stop_at = Instant::now();
    std::thread::spawn(move || tx.blocking_send(Control::Stop));
    let withdrawn_after = wait_for(
        Duration::from_secs(5),
        "the router to lose the VIPs on stop",
        || learned(rtr_ctl) == (false, false),
    );
    assert_eq!(
        engine.services(),
        2,
        "IPVS entries must still be there when the routes are withdrawn ({withdrawn_after:?} after the stop)"
    );
    engine.stop();
    let stopped_after = stop_at.elapsed();
    assert_eq!(
        engine.services(),
        0,
        "IPVS entries removed at the end of the stop"
    );
    assert!(
        stopped_after >= Duration::from_secs(6) && withdrawn_after < Duration::from_secs(5),
        "withdrawn after {withdrawn_after:?}, IPVS removed after {stopped_after:?}"
    );
    assert!(our_routes(dir_ns).is_empty());
}

#[test]
fn bird_peer_learns_the_vip_with_quorum_and_loses_it_before_ipvs_on_stop() {
    if !prerequisites(&[
        Need::Root,
        Need::Tool("ip"),
        Need::Tool("bird"),
        Need::Tool("birdc"),
    ]) {
        return;
    }
    let (dir_ns, rtr_ns, rs_ns) = lab("anb");
    let tmp = tempdir("bird");
    let _rm = RmDir(tmp.clone());
    let snippet = conf_dir().join("bird.conf");
    let snippet = snippet.canonicalize().expect("conf/bird.conf is shipped");
    let (_dir_bird, _) = bird(
        &dir_ns,
        &tmp,
        "director",
        &format!(
            "router id 198.51.100.1;\nlog stderr all;\nprotocol device {{}}\ninclude \"{}\";\n\
             protocol bgp uplink1 from rkeepalived_bgp {{ neighbor 198.51.100.2 as 65000;\n\
               hold time 60; connect retry time 2; error wait time 1, 5; }}\n",
            snippet.display()
        ),
    );
    let (_rtr_bird, rtr_ctl) = router_bird(&rtr_ns, &tmp);
    scenario(&dir_ns, &rs_ns, &rtr_ctl, true);
}

/// An FRR daemon stopped with SIGTERM, so that it removes its crash-log
/// directory (/var/tmp/frr/NAME.PID), which SIGKILL would leave behind.
struct FrrDaemon(Daemon, String);

impl Drop for FrrDaemon {
    fn drop(&mut self) {
        let pid = self.0.pid();
        self.0.signal(nix::sys::signal::Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if matches!(self.0.child().try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = std::fs::remove_dir_all(format!("/var/tmp/frr/{}.{pid}", self.1));
    }
}

/// zebra + bgpd in the director with conf/frr.conf (FRR 8.4: IPv4 only),
/// BIRD as the router.
#[test]
fn frr_peer_learns_the_vip_with_quorum_and_loses_it_before_ipvs_on_stop() {
    if !prerequisites(&[
        Need::Root,
        Need::Tool("ip"),
        Need::Tool("bird"),
        Need::Tool("birdc"),
        Need::Path("/usr/lib/frr/zebra", "apt-get install frr"),
        Need::Path("/usr/lib/frr/bgpd", "apt-get install frr"),
    ]) {
        return;
    }
    let (dir_ns, rtr_ns, rs_ns) = lab("anf");
    let tmp = tempdir("frr");
    let _rm = RmDir(tmp.clone());
    // FRR drops to its own user (in the frrvty group): its files are its.
    let frr = nix::unistd::User::from_name("frr")
        .ok()
        .flatten()
        .expect("user frr");
    let vty = tmp.join("vty");
    std::fs::create_dir_all(&vty).unwrap();
    for d in [&tmp, &vty] {
        nix::unistd::chown(d.as_path(), Some(frr.uid), Some(frr.gid)).unwrap();
    }
    let snippet =
        std::fs::read_to_string(conf_dir().join("frr.conf")).expect("conf/frr.conf is shipped");
    let conf = tmp.join("frr.conf");
    std::fs::write(
        &conf,
        format!(
            "{snippet}\nrouter bgp 65001\n bgp router-id 198.51.100.1\n neighbor 198.51.100.2 remote-as 65000\n\
             neighbor 198.51.100.2 timers 20 60\n neighbor 198.51.100.2 timers connect 2\n\
             address-family ipv4 unicast\n  neighbor 198.51.100.2 route-map RKEEPALIVED-OUT out\n exit-address-family\nexit\n"
        ),
    )
    .unwrap();
    let zserv = tmp.join("zserv.api");
    let daemon = |name: &str| {
        let mut cmd = dir_ns.command(format!("/usr/lib/frr/{name}"));
        cmd.arg("-z")
            .arg(&zserv)
            .arg("-i")
            .arg(tmp.join(format!("{name}.pid")))
            .arg("--vty_socket")
            .arg(&vty)
            .arg("-P")
            .arg("0")
            .arg("-f")
            .arg(&conf);
        FrrDaemon(
            Daemon::spawn(cmd, tmp.join(format!("{name}.log"))),
            name.to_string(),
        )
    };
    let _zebra = daemon("zebra");
    wait_for(Duration::from_secs(10), "zebra's socket", || zserv.exists());
    let _bgpd = daemon("bgpd");
    let (_rtr_bird, rtr_ctl) = router_bird(&rtr_ns, &tmp);
    scenario(&dir_ns, &rs_ns, &rtr_ctl, false);
}

#[test]
fn no_routing_daemon_stale_routes_swept_foreign_routes_kept() {
    if !prerequisites(&[Need::Root, Need::Tool("ip")]) {
        return;
    }
    let (dir_ns, _rtr_ns, rs_ns) = lab("ank");
    // A killed checker's route, and an administrator's routes in our table
    // (one for our VIP at another metric, one for another prefix).
    dir_ns.ip(&[
        "route",
        "add",
        "192.0.2.99/32",
        "dev",
        "lo",
        "table",
        "100",
        "proto",
        "249",
    ]);
    dir_ns.ip(&[
        "route",
        "add",
        "198.51.100.200/32",
        "dev",
        "lo",
        "table",
        "100",
        "proto",
        "static",
    ]);
    dir_ns.ip(&[
        "route",
        "add",
        "blackhole",
        "192.0.2.100/32",
        "table",
        "100",
        "proto",
        "static",
        "metric",
        "50",
    ]);
    let _server = real_server(&rs_ns);
    let mut engine = Engine::start(&dir_ns, plan(0));
    wait_for(
        Duration::from_secs(20),
        "both VIP routes in table 100",
        || {
            let ours = our_routes(&dir_ns);
            ours.contains("192.0.2.100 dev lo") && ours.contains("2001:db8::100 dev lo")
        },
    );
    let ours = our_routes(&dir_ns);
    assert!(!ours.contains("192.0.2.99"), "stale route swept: {ours}");
    assert!(ours.contains("scope link"), "{ours}");
    // The kernel stores an IPv6 metric 0 as 1024; the desired route says so
    // (else every full pass would replace it).
    assert!(ours.contains("2001:db8::100 dev lo metric 1024"), "{ours}");
    let all = all_routes(&dir_ns);
    assert!(all.contains("198.51.100.200 dev lo proto static"), "{all}");
    assert!(
        all.contains("blackhole 192.0.2.100 proto static metric 50"),
        "{all}"
    );
    // Nothing else changed: the main table has no VIP route.
    let main = dir_ns.exec(&["ip", "route", "show", "table", "main"]);
    assert!(!String::from_utf8_lossy(&main.stdout).contains("192.0.2.100"));
    engine.stop();
    assert!(our_routes(&dir_ns).is_empty());
    let all = all_routes(&dir_ns);
    assert!(
        all.contains("198.51.100.200 dev lo proto static") && all.contains("blackhole 192.0.2.100"),
        "foreign routes survive the stop: {all}"
    );
}
