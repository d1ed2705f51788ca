//! Network-namespace lab for VRRP system tests: N nodes (`eth0`) on one
//! bridge living in its own namespace, documentation addresses only, and a
//! Drop guard that kills every process and deletes every namespace.
//!
//! Nodes run either our engine (`vrrp-node` example, or the daemon
//! `rkeepalived -P -n -l -f CONF` when `RKV_DAEMON=path` is set) or the
//! reference keepalived 2.2.7.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use rkeepalived_config::model::{
    self, AddressFamily, AuthType, Authentication, Config, InitialState, TrackRef, UnicastPeer,
    VirtualIpAddress, VrrpInstance, VrrpScript, VrrpSyncGroup, VrrpVersion,
};

/// Fail (in CI) or skip (locally) when the environment cannot run the lab.
/// Returns false when the test should return early. A thin wrapper over
/// [`rkeepalived_testkit::prerequisites`].
pub fn prerequisites(needs_keepalived: bool) -> bool {
    use rkeepalived_testkit::Need;
    let mut needs = vec![Need::Root, Need::Tool("ip"), Need::Tool("sysctl")];
    if needs_keepalived {
        needs.push(Need::Keepalived);
    }
    rkeepalived_testkit::prerequisites(&needs)
}

/// Like [`prerequisites`] for extra tools (tcpdump, ping): fail in CI, skip
/// with a printed reason otherwise.
pub fn require_tools(tools: &[&str]) -> bool {
    let needs: Vec<_> = tools
        .iter()
        .map(|t| rkeepalived_testkit::Need::Tool(t))
        .collect();
    rkeepalived_testkit::prerequisites(&needs)
}

pub fn which(tool: &str) -> bool {
    rkeepalived_testkit::which(tool)
}

fn run(cmd: &str) -> Result<String, String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{cmd}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

fn must(cmd: &str) -> String {
    run(cmd).unwrap_or_else(|e| panic!("lab setup failed: {e}"))
}

/// Poll `cond` every 20 ms until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Which implementation a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    Ours,
    Keepalived,
}

static LAB_SEQ: AtomicU32 = AtomicU32::new(0);

pub struct Lab {
    pub tag: String,
    pub nodes: usize,
    pub dir: PathBuf,
    procs: Vec<(usize, Child, Impl)>,
    /// `Impl::Ours` runs the shipped daemon binary (not the `vrrp-node`
    /// example) even without `RKV_DAEMON`: see [`Lab::with_daemon`].
    ours_is_daemon: bool,
}

pub const V4_NET: &str = "192.0.2";
pub const V6_NET: &str = "2001:db8:";

impl Lab {
    /// For the interop sets: our side is the shipped daemon
    /// (target/debug/rkeepalived, `-P`), the code path operators run, not
    /// the `vrrp-node` example; `RKV_DAEMON=path` still overrides.
    pub fn with_daemon(mut self) -> Lab {
        self.ours_is_daemon = true;
        self
    }

    /// The daemon binary `Impl::Ours` runs, or `None` for `vrrp-node`.
    fn ours_daemon(&self) -> Option<PathBuf> {
        daemon_bin().or_else(|| self.ours_is_daemon.then(shipped_daemon))
    }

    /// `tag` must be short: namespace names are `rkv-<tag><pid-seq>-nI`.
    pub fn new(tag: &str, nodes: usize) -> Lab {
        let seq = LAB_SEQ.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{tag}{}{seq}", std::process::id() % 10000);
        let dir = std::env::temp_dir().join(format!("rkv-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("lab dir");
        let lab = Lab {
            tag,
            nodes,
            dir,
            procs: Vec::new(),
            ours_is_daemon: false,
        };
        let br = lab.br_ns();
        must(&format!("ip netns add {br}"));
        must(&format!("ip -n {br} link add br0 type bridge"));
        // No STP/forward delay: ports forward at once.
        must(&format!(
            "ip -n {br} link set br0 type bridge forward_delay 0 stp_state 0"
        ));
        must(&format!("ip netns exec {br} sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0"));
        must(&format!("ip -n {br} addr add {V4_NET}.254/24 dev br0"));
        must(&format!(
            "ip -n {br} addr add {V6_NET}:254/64 dev br0 nodad"
        ));
        must(&format!("ip -n {br} link set br0 up"));
        must(&format!("ip -n {br} link set lo up"));
        for i in 1..=nodes {
            let ns = lab.ns(i);
            must(&format!("ip netns add {ns}"));
            must(&format!("ip netns exec {ns} sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0"));
            must(&format!(
                "ip -n {br} link add p{i} type veth peer name eth0 netns {ns}"
            ));
            must(&format!("ip -n {br} link set p{i} master br0 up"));
            must(&format!("ip -n {ns} link set lo up"));
            must(&format!("ip -n {ns} addr add {} dev eth0", lab.v4_cidr(i)));
            must(&format!(
                "ip -n {ns} addr add {V6_NET}:{}/64 dev eth0 nodad",
                10 + i
            ));
            must(&format!("ip -n {ns} link set eth0 up"));
        }
        // Link-local addresses appear once the links are up (no DAD).
        for i in 1..=nodes {
            let ns = lab.ns(i);
            assert!(
                wait_until(Duration::from_secs(5), || run(&format!(
                    "ip -n {ns} -6 addr show dev eth0 scope link"
                ))
                .map(|o| o.contains("fe80"))
                .unwrap_or(false)),
                "no IPv6 link-local address on {ns}"
            );
        }
        lab
    }

    pub fn br_ns(&self) -> String {
        format!("rkv-{}-br", self.tag)
    }
    pub fn ns(&self, i: usize) -> String {
        format!("rkv-{}-n{i}", self.tag)
    }
    pub fn v4(&self, i: usize) -> String {
        format!("{V4_NET}.{}", 10 + i)
    }
    pub fn v4_cidr(&self, i: usize) -> String {
        format!("{}/24", self.v4(i))
    }
    pub fn link_local(&self, i: usize) -> String {
        let out = run(&format!(
            "ip -n {} -6 -o addr show dev eth0 scope link",
            self.ns(i)
        ))
        .unwrap_or_default();
        out.split_whitespace()
            .skip_while(|w| *w != "inet6")
            .nth(1)
            .map(|a| a.split('/').next().unwrap_or("").to_string())
            .unwrap_or_default()
    }

    /// Run a shell command inside node `i`'s namespace.
    pub fn exec(&self, i: usize, cmd: &str) -> Result<String, String> {
        run(&format!("ip netns exec {} {cmd}", self.ns(i)))
    }

    pub fn has_addr(&self, i: usize, addr: &str) -> bool {
        let out = run(&format!("ip -n {} -o addr show", self.ns(i))).unwrap_or_default();
        out.split_whitespace()
            .any(|w| w.split('/').next() == Some(addr))
    }

    /// Nodes currently holding `addr`.
    pub fn holders(&self, addr: &str) -> Vec<usize> {
        (1..=self.nodes)
            .filter(|i| self.has_addr(*i, addr))
            .collect()
    }

    /// Wait until exactly node `i` holds `addr`.
    pub fn wait_sole_holder(&self, i: usize, addr: &str, limit: Duration) -> bool {
        wait_until(limit, || self.holders(addr) == vec![i])
    }

    pub fn set_link(&self, i: usize, up: bool) {
        must(&format!(
            "ip -n {} link set eth0 {}",
            self.ns(i),
            if up { "up" } else { "down" }
        ));
    }

    /// Start node `i` with `inst` (all instances of the node).
    pub fn start(&mut self, i: usize, which: Impl, node: &NodeConf) {
        let ns = self.ns(i);
        let log = std::fs::File::create(self.dir.join(format!("n{i}.log"))).expect("log file");
        let child = match which {
            Impl::Keepalived => {
                let conf = self.dir.join(format!("n{i}.keepalived.conf"));
                std::fs::write(&conf, node.keepalived_conf()).expect("write conf");
                Command::new("ip")
                    .args([
                        "netns",
                        "exec",
                        &ns,
                        "keepalived",
                        "-n",
                        "-l",
                        "-D",
                        "-P",
                        "-f",
                    ])
                    .arg(&conf)
                    .arg("-p")
                    .arg(self.dir.join(format!("n{i}.ka.pid")))
                    .arg("-r")
                    .arg(self.dir.join(format!("n{i}.ka-vrrp.pid")))
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .expect("spawn keepalived")
            }
            Impl::Ours => match self.ours_daemon() {
                Some(daemon) => {
                    let conf = self.dir.join(format!("n{i}.rkeepalived.conf"));
                    std::fs::write(&conf, node.keepalived_conf()).expect("write conf");
                    let dump_dir = self.dir.join(format!("n{i}"));
                    std::fs::create_dir_all(&dump_dir).expect("dump dir");
                    Command::new("ip")
                        .args(["netns", "exec", &ns])
                        .arg(daemon)
                        .args(["-P", "-n", "-l", "-f"])
                        .arg(&conf)
                        .arg("-p")
                        .arg(self.dir.join(format!("n{i}.rk.pid")))
                        .arg("-r")
                        .arg(self.dir.join(format!("n{i}.rk-vrrp.pid")))
                        .arg("--dump-dir")
                        .arg(&dump_dir)
                        .arg("--status-socket")
                        .arg(dump_dir.join("status.sock"))
                        .stdout(Stdio::null())
                        .stderr(log)
                        .spawn()
                        .expect("spawn rkeepalived")
                }
                None => {
                    // RKV_NODE_JSON=1 feeds the typed config directly (bypasses the parser).
                    let conf = if std::env::var_os("RKV_NODE_JSON").is_some() {
                        let p = self.dir.join(format!("n{i}.json"));
                        let json =
                            serde_json::to_string_pretty(&node.config()).expect("serialize config");
                        std::fs::write(&p, json).expect("write conf");
                        p
                    } else {
                        let p = self.dir.join(format!("n{i}.conf"));
                        std::fs::write(&p, node.keepalived_conf()).expect("write conf");
                        p
                    };
                    Command::new("ip")
                        .args(["netns", "exec", &ns])
                        .arg(vrrp_node_bin())
                        .arg("-f")
                        .arg(&conf)
                        .arg("--dump")
                        .arg(self.dir.join(format!("n{i}.dump.json")))
                        .env(
                            "RUST_LOG",
                            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
                        )
                        .stdout(Stdio::null())
                        .stderr(log)
                        .spawn()
                        .expect("spawn vrrp-node")
                }
            },
        };
        self.procs.push((i, child, which));
        if which == Impl::Ours {
            // A dump signal before the handler is installed would kill the node:
            // wait until it has logged its startup.
            let log = self.dir.join(format!("n{i}.log"));
            wait_until(Duration::from_secs(10), || {
                std::fs::read_to_string(&log)
                    .map(|t| t.contains("instance started") || t.contains("rror"))
                    .unwrap_or(false)
            });
        }
    }

    /// Rewrite node `i`'s configuration and send SIGHUP (reload).
    pub fn reload(&self, i: usize, node: &NodeConf) {
        let (path, text) = if self.ours_daemon().is_some() {
            (
                self.dir.join(format!("n{i}.rkeepalived.conf")),
                node.keepalived_conf(),
            )
        } else if std::env::var_os("RKV_NODE_JSON").is_some() {
            (
                self.dir.join(format!("n{i}.json")),
                serde_json::to_string_pretty(&node.config()).expect("json"),
            )
        } else {
            (self.dir.join(format!("n{i}.conf")), node.keepalived_conf())
        };
        std::fs::write(path, text).expect("write conf");
        self.signal(i, nix::sys::signal::Signal::SIGHUP);
    }

    fn pids(&self, i: usize) -> Vec<i32> {
        self.procs
            .iter()
            .filter(|(n, _, _)| *n == i)
            .map(|(_, c, _)| c.id() as i32)
            .collect()
    }

    /// SIGTERM node `i` and wait for it to exit.
    pub fn stop(&mut self, i: usize) {
        self.signal(i, nix::sys::signal::Signal::SIGTERM);
        self.reap(i, Duration::from_secs(10));
    }

    /// SIGKILL node `i` (keepalived: its VRRP child too).
    pub fn kill9(&mut self, i: usize) {
        for pid in self.pids(i) {
            // keepalived forks a VRRP child that gets SIGTERM when its parent
            // dies: freeze the whole namespace first so nobody exits gracefully.
            let _ = run(&format!(
                "ip netns pids {} | xargs -r kill -STOP",
                self.ns(i)
            ));
            let _ = run(&format!("ip netns pids {} | xargs -r kill -9", self.ns(i)));
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        self.reap(i, Duration::from_secs(5));
    }

    pub fn signal(&self, i: usize, sig: nix::sys::signal::Signal) {
        for pid in self.pids(i) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
        }
    }

    fn reap(&mut self, i: usize, limit: Duration) {
        let start = Instant::now();
        for (n, child, _) in self.procs.iter_mut() {
            if *n != i {
                continue;
            }
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if start.elapsed() > limit => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        self.procs.retain(|(n, _, _)| *n != i);
    }

    /// Our node's JSON dump (vrrp-node: SIGUSR1; daemon: its status
    /// socket, since its keepalived.json has keepalived's own shape), e.g.
    /// to read its state. Returns `{"vrrp": [ {iname, state, stats, ...} ]}`.
    pub fn dump(&self, i: usize) -> Option<serde_json::Value> {
        if let Some(daemon) = self.ours_daemon() {
            let sock = self.dir.join(format!("n{i}")).join("status.sock");
            let mut v = None;
            wait_until(Duration::from_secs(3), || {
                v = Command::new(&daemon)
                    .arg("--status")
                    .arg("--status-socket")
                    .arg(&sock)
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
                    .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
                    .and_then(|v| find_vrrp(&v));
                v.is_some()
            });
            return v;
        }
        let path = self.dir.join(format!("n{i}.dump.json"));
        let _ = std::fs::remove_file(&path);
        self.signal(i, nix::sys::signal::Signal::SIGUSR1);
        let mut v = None;
        wait_until(Duration::from_secs(3), || {
            v = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
            v.is_some()
        });
        v.map(|v: serde_json::Value| find_vrrp(&v).unwrap_or(v))
    }

    /// State of instance `name` on our node `i` ("MASTER", "BACKUP", ...).
    pub fn state(&self, i: usize, name: &str) -> Option<String> {
        let d = self.dump(i)?;
        d["vrrp"]
            .as_array()?
            .iter()
            .find(|x| x["iname"] == name)
            .map(|x| x["state"].as_str().unwrap_or("").to_string())
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("n{i}.log"))).unwrap_or_default()
    }

    /// Print all node logs (call before failing assertions).
    pub fn dump_logs(&self) {
        for i in 1..=self.nodes {
            eprintln!("===== node {i} log =====\n{}", self.log(i));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (_, child, _) in self.procs.iter_mut() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for (_, child, _) in self.procs.iter_mut() {
            while Instant::now() < deadline {
                if !matches!(child.try_wait(), Ok(None)) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        for i in 1..=self.nodes {
            let _ = run(&format!("ip netns pids {} | xargs -r kill -9", self.ns(i)));
            let _ = run(&format!("ip netns del {}", self.ns(i)));
        }
        let _ = run(&format!("ip netns del {}", self.br_ns()));
        if std::thread::panicking() {
            eprintln!("lab files kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The daemon binary if the tests should drive it: `RKV_DAEMON=path`, or
/// `RKV_DAEMON=auto` for target/debug/rkeepalived when it supports `-P`.
pub fn daemon_bin() -> Option<PathBuf> {
    let v = std::env::var_os("RKV_DAEMON")?;
    if v != "auto" {
        return Some(PathBuf::from(v));
    }
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("rkeepalived");
    let help = Command::new(&p).arg("--help").output().ok()?;
    String::from_utf8_lossy(&help.stdout)
        .contains("-P")
        .then_some(p)
}

/// target/debug/rkeepalived next to this test binary. It must exist and be
/// newer than this crate's sources (`cargo test --workspace` builds it; with
/// `-p rkeepalived-vrrp` alone, run `cargo build --bin rkeepalived` first).
pub fn shipped_daemon() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let p = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("rkeepalived");
    let built = std::fs::metadata(&p)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}: run `cargo build --bin rkeepalived` (cargo test --workspace builds it)",
                p.display()
            )
        });
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let newest = newest_mtime(&src);
    assert!(
        newest.is_none_or(|n| n <= built),
        "{} is older than crates/vrrp/src: run `cargo build --bin rkeepalived`",
        p.display()
    );
    p
}

fn newest_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let m = if e.path().is_dir() {
            newest_mtime(&e.path())
        } else {
            e.metadata().ok().and_then(|m| m.modified().ok())
        };
        newest = newest.max(m);
    }
    newest
}

/// The `{"vrrp": [...]}` object wherever the daemon nests it.
fn find_vrrp(v: &serde_json::Value) -> Option<serde_json::Value> {
    if v.get("vrrp").is_some_and(|x| x.is_array()) {
        return Some(v.clone());
    }
    match v {
        serde_json::Value::Object(m) => m.values().find_map(find_vrrp),
        serde_json::Value::Array(a) => a.iter().find_map(find_vrrp),
        _ => None,
    }
}

/// Path of the vrrp-node example next to this test binary: the newest of
/// `examples/vrrp-node` and `examples/vrrp_node-HASH`. Plain
/// `cargo test -p rkeepalived-vrrp` builds it; `cargo test --test X` does
/// not, so a binary older than the crate sources is refused loudly.
pub fn vrrp_node_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("examples");
    let newest = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            (n == "vrrp-node" || n.starts_with("vrrp_node-")) && !n.contains('.')
        })
        .filter(|e| e.metadata().map(|m| m.len() > 0).unwrap_or(false))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max();
    let Some((built, path)) = newest else {
        panic!(
            "no vrrp-node in {}: run `cargo build -p rkeepalived-vrrp --examples`",
            dir.display()
        );
    };
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    let newest_src = ["src", "examples"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(src.join(d))
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max();
    if newest_src.is_some_and(|t| t > built) {
        panic!(
            "{} is older than the crate sources: run `cargo build -p rkeepalived-vrrp --examples` (or plain `cargo test -p rkeepalived-vrrp`)",
            path.display()
        );
    }
    path
}

/// One instance as the tests describe it; rendered both to our typed
/// `Config` and to keepalived.conf text.
#[derive(Debug, Clone)]
pub struct InstConf {
    pub name: String,
    pub vrid: u8,
    pub priority: u8,
    pub master: bool,
    pub version: VrrpVersion,
    pub v6: bool,
    /// advert_int in milliseconds.
    pub advert_ms: u64,
    pub vips: Vec<String>,
    pub nopreempt: bool,
    pub auth_pass: Option<String>,
    /// With `auth_pass`: `auth_type AH` instead of PASS.
    pub auth_ah: bool,
    pub unicast_src: Option<String>,
    pub unicast_peers: Vec<String>,
    pub track_interfaces: Vec<(String, i32)>,
    /// (script name, weight)
    pub track_scripts: Vec<(String, i32)>,
    pub notify_fifo: Option<String>,
    /// Raw keepalived.conf lines added inside the instance block (conf mode
    /// only: the typed JSON path ignores them).
    pub extra: String,
}

impl InstConf {
    pub fn new(name: &str, vrid: u8, priority: u8, vip: &str) -> InstConf {
        InstConf {
            name: name.into(),
            vrid,
            priority,
            master: false,
            version: VrrpVersion::V2,
            v6: false,
            advert_ms: 1000,
            vips: vec![vip.into()],
            nopreempt: false,
            auth_pass: None,
            auth_ah: false,
            unicast_src: None,
            unicast_peers: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            notify_fifo: None,
            extra: String::new(),
        }
    }
    pub fn v3(mut self, advert_ms: u64) -> Self {
        self.version = VrrpVersion::V3;
        self.advert_ms = advert_ms;
        self
    }
    pub fn v6(mut self) -> Self {
        self.version = VrrpVersion::V3;
        self.v6 = true;
        self
    }
}

/// A script definition shared by the node (`vrrp_script`).
#[derive(Debug, Clone)]
pub struct ScriptConf {
    pub name: String,
    pub command: String,
    pub interval_ms: u64,
    pub weight: i32,
    pub rise: u32,
    pub fall: u32,
}

#[derive(Debug, Clone, Default)]
pub struct NodeConf {
    pub instances: Vec<InstConf>,
    pub scripts: Vec<ScriptConf>,
    /// (group name, members)
    pub sync_groups: Vec<(String, Vec<String>)>,
    pub notify_fifo: Option<String>,
    /// Raw top-level keepalived.conf text (conf mode only).
    pub extra_top: String,
    /// Raw lines inside global_defs (conf mode only).
    pub global_extra: String,
    /// The instances' interface (default eth0).
    pub interface: Option<String>,
}

impl NodeConf {
    pub fn one(inst: InstConf) -> NodeConf {
        NodeConf {
            instances: vec![inst],
            ..Default::default()
        }
    }

    fn ifname(&self) -> &str {
        self.interface.as_deref().unwrap_or("eth0")
    }

    pub fn config(&self) -> Config {
        let mut cfg = Config::default();
        cfg.global_defs.vrrp_garp_master_delay = Duration::from_secs(1);
        cfg.global_defs.notify_fifo = self.notify_fifo.as_ref().map(|p| model::NotifyFifo {
            path: p.into(),
            user: None,
            script: None,
        });
        for s in &self.scripts {
            let mut d = VrrpScript::new(&s.name, &s.command);
            d.interval = Duration::from_millis(s.interval_ms);
            d.timeout = Duration::from_millis(s.interval_ms);
            d.weight = s.weight;
            d.rise = s.rise;
            d.fall = s.fall;
            cfg.vrrp_scripts.push(d);
        }
        for (name, members) in &self.sync_groups {
            let mut g = VrrpSyncGroup::new(name);
            g.group = members.clone();
            cfg.vrrp_sync_groups.push(g);
        }
        for c in &self.instances {
            let mut i = VrrpInstance::new(&c.name, self.ifname(), c.vrid);
            i.priority = c.priority;
            i.state = if c.master {
                InitialState::Master
            } else {
                InitialState::Backup
            };
            i.version = c.version;
            i.family = if c.v6 {
                AddressFamily::Inet6
            } else {
                AddressFamily::Inet
            };
            i.advert_int = Duration::from_millis(c.advert_ms);
            i.nopreempt = c.nopreempt;
            i.garp_master_delay = Duration::from_secs(1);
            i.authentication = c.auth_pass.as_ref().map(|p| Authentication {
                auth_type: if c.auth_ah {
                    AuthType::Ah
                } else {
                    AuthType::Pass
                },
                auth_pass: p.clone(),
            });
            i.unicast_src_ip = c
                .unicast_src
                .as_ref()
                .map(|s| s.parse().expect("unicast_src"));
            i.unicast_peers = c
                .unicast_peers
                .iter()
                .map(|p| UnicastPeer {
                    addr: p.parse().expect("peer"),
                    min_ttl: None,
                    max_ttl: None,
                })
                .collect();
            i.virtual_ipaddresses = c
                .vips
                .iter()
                .map(|v| {
                    let (a, len) = v.split_once('/').unwrap_or((v, ""));
                    let addr: IpAddr = a.parse().expect("vip");
                    let mut vip = VirtualIpAddress::new(addr, self.ifname());
                    if let Ok(l) = len.parse() {
                        vip.prefix_len = l;
                    }
                    vip
                })
                .collect();
            i.track_interfaces = c
                .track_interfaces
                .iter()
                .map(|(n, w)| TrackRef {
                    name: n.clone(),
                    weight: *w,
                    reverse: false,
                })
                .collect();
            i.track_scripts = c
                .track_scripts
                .iter()
                .map(|(n, w)| TrackRef {
                    name: n.clone(),
                    weight: *w,
                    reverse: false,
                })
                .collect();
            cfg.vrrp_instances.push(i);
        }
        cfg
    }

    pub fn keepalived_conf(&self) -> String {
        let mut s = String::new();
        let fifo = self
            .notify_fifo
            .as_ref()
            .map(|f| format!("    notify_fifo {f}\n"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "global_defs {{\n    router_id rkv_test\n    vrrp_garp_master_delay 1\n    script_user root\n    enable_script_security\n{fifo}{}}}",
            self.global_extra
        );
        s.push_str(&self.extra_top);
        for sc in &self.scripts {
            let _ = writeln!(
                s,
                "vrrp_script {} {{\n    script \"{}\"\n    interval {}\n    weight {}\n    rise {}\n    fall {}\n}}",
                sc.name,
                sc.command,
                (sc.interval_ms as f64 / 1000.0).max(1.0),
                sc.weight,
                sc.rise,
                sc.fall
            );
        }
        for (name, members) in &self.sync_groups {
            let _ = writeln!(
                s,
                "vrrp_sync_group {name} {{\n    group {{\n        {}\n    }}\n}}",
                members.join("\n        ")
            );
        }
        for c in &self.instances {
            let _ = writeln!(s, "vrrp_instance {} {{", c.name);
            let _ = writeln!(
                s,
                "    state {}",
                if c.master { "MASTER" } else { "BACKUP" }
            );
            let _ = writeln!(
                s,
                "    interface {}\n    virtual_router_id {}\n    priority {}",
                self.ifname(),
                c.vrid,
                c.priority
            );
            let _ = writeln!(
                s,
                "    version {}",
                if c.version == VrrpVersion::V2 { 2 } else { 3 }
            );
            let _ = writeln!(s, "    advert_int {}", c.advert_ms as f64 / 1000.0);
            let _ = writeln!(s, "    garp_master_delay 1");
            if c.v6 {
                let _ = writeln!(s, "    native_ipv6");
            }
            if c.nopreempt {
                let _ = writeln!(s, "    nopreempt");
            }
            if let Some(p) = &c.auth_pass {
                let kind = if c.auth_ah { "AH" } else { "PASS" };
                let _ = writeln!(
                    s,
                    "    authentication {{\n        auth_type {kind}\n        auth_pass {p}\n    }}"
                );
            }
            if let Some(src) = &c.unicast_src {
                let _ = writeln!(s, "    unicast_src_ip {src}");
            }
            if !c.unicast_peers.is_empty() {
                let _ = writeln!(
                    s,
                    "    unicast_peer {{\n        {}\n    }}",
                    c.unicast_peers.join("\n        ")
                );
            }
            if !c.track_interfaces.is_empty() {
                let _ = writeln!(s, "    track_interface {{");
                for (n, w) in &c.track_interfaces {
                    let _ = writeln!(s, "        {n} weight {w}");
                }
                let _ = writeln!(s, "    }}");
            }
            if !c.track_scripts.is_empty() {
                let _ = writeln!(s, "    track_script {{");
                for (n, w) in &c.track_scripts {
                    let _ = writeln!(s, "        {n} weight {w}");
                }
                let _ = writeln!(s, "    }}");
            }
            s.push_str(&c.extra);
            let _ = writeln!(
                s,
                "    virtual_ipaddress {{\n        {}\n    }}",
                c.vips
                    .iter()
                    .map(|v| format!("{v} dev {}", self.ifname()))
                    .collect::<Vec<_>>()
                    .join("\n        ")
            );
            let _ = writeln!(s, "}}");
        }
        s
    }
}
