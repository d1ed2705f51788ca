//! Shared pieces of the fault tests (tests/fault_*.rs): a seeded RNG whose
//! seed is printed (rerun with `FAULT_SEED=N`), our full daemon (supervisor,
//! VRRP and checker children) started in a lab node's namespace, a
//! timestamped advert capture and an address-holder sampler. The namespaces
//! and the keepalived 2.2.7 peer come from crates/vrrp/tests/common (`Lab`).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// xorshift64*: small, deterministic, no dependency.
pub struct Rng(u64);

impl Rng {
    /// Seeded from `FAULT_SEED` or the clock; prints the seed so a failing
    /// run can be replayed.
    pub fn from_env(test: &str) -> Rng {
        let seed = std::env::var("FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("{test}: FAULT_SEED={seed}");
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rkeepalived")
}

pub fn sh(cmd: &str) -> (bool, String) {
    match Command::new("sh").arg("-c").arg(cmd).output() {
        Ok(o) => (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (false, e.to_string()),
    }
}

pub fn read_pid(p: &Path) -> Option<i32> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

pub fn kill(pid: i32, sig: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
}

/// Our daemon (`rkeepalived -n -l -D`, both roles) in namespace `ns`, with
/// its pid files, status socket and dumps in `dir` and its log appended to
/// `dir/daemon.log` (restarts keep one log).
pub struct Ours {
    pub ns: String,
    pub dir: PathBuf,
    child: Option<Child>,
    pub env: Vec<(String, String)>,
}

impl Ours {
    pub fn new(ns: &str, dir: &Path) -> Ours {
        std::fs::create_dir_all(dir).expect("daemon dir");
        Ours {
            ns: ns.to_string(),
            dir: dir.to_path_buf(),
            child: None,
            env: Vec::new(),
        }
    }

    pub fn conf(&self) -> PathBuf {
        self.dir.join("keepalived.conf")
    }

    pub fn write_conf(&self, text: &str) {
        std::fs::write(self.conf(), text).expect("write conf");
    }

    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("daemon.log"))
            .expect("log");
        let d = |n: &str| self.dir.join(n);
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns, bin()])
            .args(["-n", "-l", "-D", "--no-syslog", "-f"])
            .arg(self.conf())
            .arg("-p")
            .arg(d("keepalived.pid"))
            .arg("-r")
            .arg(d("vrrp.pid"))
            .arg("-c")
            .arg(d("checkers.pid"))
            .arg("--status-socket")
            .arg(d("status.sock"))
            .arg("--dump-dir")
            .arg(&self.dir)
            .env("RUST_LOG", "info")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().expect("spawn rkeepalived"));
    }

    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    pub fn child_pid(&self, role: &str) -> Option<i32> {
        let file = if role == "vrrp" {
            "vrrp.pid"
        } else {
            "checkers.pid"
        };
        read_pid(&self.dir.join(file)).filter(|p| alive(*p))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        if let Some(p) = self.pid() {
            kill(p, sig);
        }
    }

    /// SIGKILL of the supervisor only (its children get their death signal).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `rkeepalived --status` JSON.
    pub fn status(&self) -> Option<serde_json::Value> {
        let out = Command::new(bin())
            .args(["--status", "--status-socket"])
            .arg(self.dir.join("status.sock"))
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| serde_json::from_slice(&out.stdout).ok())
            .flatten()
    }

    /// Stops the daemon (SIGTERM, bounded wait).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            kill(c.id() as i32, nix::sys::signal::Signal::SIGTERM);
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(15) {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Ours {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("---- rkeepalived log ----\n{}\n-----", self.log());
        }
    }
}

/// One advert seen by tcpdump: (arrival, source, priority).
#[derive(Debug, Clone)]
pub struct Advert {
    pub at: Instant,
    pub src: String,
    pub prio: u32,
}

/// tcpdump of VRRP (IP protocol 112) on `eth0` of a namespace.
pub struct Capture {
    child: Child,
    seen: Arc<Mutex<Vec<Advert>>>,
}

impl Capture {
    pub fn start(ns: &str) -> Capture {
        let mut child = Command::new("ip")
            .args([
                "netns", "exec", ns, "tcpdump", "-l", "-nn", "-p", "-i", "eth0",
            ])
            .arg("ip proto 112")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tcpdump");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().expect("stdout");
        let s = seen.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some((src, prio)) = parse_advert(&line) {
                    if let Ok(mut v) = s.lock() {
                        v.push(Advert {
                            at: Instant::now(),
                            src,
                            prio,
                        });
                    }
                }
            }
        });
        let err = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let _ = rx.recv_timeout(Duration::from_secs(5));
        Capture { child, seen }
    }

    pub fn seen(&self) -> Vec<Advert> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `IP 192.0.2.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 150, ...`
pub fn parse_advert(line: &str) -> Option<(String, u32)> {
    let (head, vrrp) = line.split_once(": VRRP")?;
    let src = head.split_whitespace().rev().nth(2)?.to_string();
    let prio = vrrp
        .split(", ")
        .find_map(|f| f.strip_prefix("prio "))?
        .parse()
        .ok()?;
    Some((src, prio))
}

/// Largest gap between consecutive adverts from `src` within `[from, to]`.
pub fn max_gap(adverts: &[Advert], src: &str, from: Instant, to: Instant) -> Option<Duration> {
    let times: Vec<Instant> = adverts
        .iter()
        .filter(|a| a.src == src && a.at >= from && a.at <= to)
        .map(|a| a.at)
        .collect();
    times.windows(2).map(|w| w[1] - w[0]).max()
}

/// (when, nodes holding the address).
pub type Sample = (Instant, Vec<usize>);

/// Samples every 50 ms which namespaces hold `addr`.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn holds(ns: &str, addr: &str) -> bool {
    Command::new("ip")
        .args(["-n", ns, "-o", "addr", "show"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .any(|w| w.split('/').next() == Some(addr))
        })
        .unwrap_or(false)
}

impl Sampler {
    /// `nss[i]` is node `i + 1`.
    pub fn start(nss: Vec<String>, addr: &str) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (st, sa, addr) = (stop.clone(), samples.clone(), addr.to_string());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                let holders: Vec<usize> = nss
                    .iter()
                    .enumerate()
                    .filter(|(_, ns)| holds(ns, &addr))
                    .map(|(i, _)| i + 1)
                    .collect();
                if let Ok(mut s) = sa.lock() {
                    s.push((Instant::now(), holders));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Sampler {
            stop,
            samples,
            thread: Some(thread),
        }
    }

    pub fn samples(&self) -> Vec<Sample> {
        self.samples.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Longest stretch during which more than one node held the address.
    pub fn longest_overlap(&self) -> Duration {
        let mut longest = Duration::ZERO;
        let mut since: Option<Instant> = None;
        for (t, h) in self.samples() {
            if h.len() > 1 {
                let s = *since.get_or_insert(t);
                longest = longest.max(t - s);
            } else {
                since = None;
            }
        }
        longest
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
