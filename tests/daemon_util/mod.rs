//! Shared helpers for the root-needing daemon tests: a private network
//! namespace (`rkd-*`, documentation addresses only), a daemon under test
//! with its own pid/status/dump paths, bounded polling. Every guard cleans
//! up on drop, also when the test failed.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const LIMIT: Duration = Duration::from_secs(30);

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rkeepalived")
}

/// Returns false (after saying why) when the test cannot run here; panics
/// instead when `CI` is set, so CI never skips silently. A thin wrapper
/// over [`rkeepalived_testkit::prerequisites`]: root, `ip` and `needs`.
pub fn prerequisites(needs: &[&str]) -> bool {
    use rkeepalived_testkit::Need;
    let mut all = vec![Need::Root, Need::Tool("ip")];
    all.extend(needs.iter().map(|t| Need::Tool(t)));
    rkeepalived_testkit::prerequisites(&all)
}

pub fn sh(args: &[&str]) -> std::process::Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// A network namespace with `eth0` (192.0.2.2/24) veth-paired to `peer0`,
/// both inside the namespace, and loopback up; a [`rkeepalived_testkit::Netns`]
/// (deleted, its processes killed, on drop).
pub struct Netns {
    pub name: String,
    ns: rkeepalived_testkit::Netns,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let inner = rkeepalived_testkit::Netns::with_prefix("rkd", tag);
        let ns = Netns {
            name: inner.name().to_string(),
            ns: inner,
        };
        ns.ip(&[
            "link", "add", "eth0", "type", "veth", "peer", "name", "peer0",
        ]);
        ns.ip(&["addr", "add", "192.0.2.2/24", "dev", "eth0"]);
        ns.ip(&["link", "set", "eth0", "up"]);
        ns.ip(&["link", "set", "peer0", "up"]);
        ns
    }

    pub fn ip(&self, args: &[&str]) {
        self.ns.ip(args);
    }

    /// Runs a command inside the namespace.
    pub fn exec(&self, args: &[&str]) -> std::process::Output {
        self.ns.exec(args)
    }

    /// How many times `addr` is configured on `dev` (duplicates would show twice).
    pub fn addr_count(&self, dev: &str, addr: &str) -> usize {
        let out = sh(&["ip", "-n", &self.name, "-o", "addr", "show", "dev", dev]);
        let needle = format!(" {addr}/");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains(&needle))
            .count()
    }
}

/// Scratch directory holding the config, pid files, status socket, dumps, log.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("rkd-daemon-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch { dir }
    }
    pub fn p(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.p(name);
        std::fs::write(&p, text).expect("write");
        p
    }
    /// bench/check/fake_ipvs.c built here: preloaded (`LD_PRELOAD`) it
    /// stands in for the kernel's IPVS, which this host lacks, so that
    /// keepalived's checker runs (it exits without IPVS).
    pub fn fake_ipvs(&self) -> PathBuf {
        let shim = self.p("fake_ipvs.so");
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/check/fake_ipvs.c");
        let out = sh(&[
            "cc",
            "-O2",
            "-shared",
            "-fPIC",
            "-o",
            &shim.display().to_string(),
            &src.display().to_string(),
            "-ldl",
        ]);
        assert!(out.status.success(), "build the IPVS shim: {out:?}");
        shim
    }
    /// A scratch dir that others may traverse (0755), for scripts run as
    /// another user by the script-security tests.
    pub fn traversable(tag: &str) -> Scratch {
        use std::os::unix::fs::PermissionsExt;
        let s = Scratch::new(tag);
        std::fs::set_permissions(&s.dir, std::fs::Permissions::from_mode(0o755))
            .expect("chmod scratch");
        s
    }
    /// A subdirectory with exactly `mode` (umask does not apply).
    pub fn subdir(&self, name: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let d = self.p(name);
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).expect("chmod");
        d
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Ok(log) = std::fs::read_to_string(self.p("daemon.log")) {
                eprintln!("---- daemon log ----\n{log}\n--------------------");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The daemon under test, started with `ip netns exec NS rkeepalived -n ...`
/// (exec keeps the pid, so `pid()` is the supervisor).
pub struct Daemon {
    child: Option<Child>,
    pub pid: i32,
    pub scratch_dir: PathBuf,
}

impl Daemon {
    pub fn start(ns: &Netns, scratch: &Scratch, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        Self::launch(Some(ns), scratch, extra, env)
    }

    /// Starts the daemon in the host namespace (it may move itself with `-s`).
    pub fn start_outside(scratch: &Scratch, extra: &[&str]) -> Daemon {
        Self::launch(None, scratch, extra, &[])
    }

    fn launch(
        ns: Option<&Netns>,
        scratch: &Scratch,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        let log = std::fs::File::create(scratch.p("daemon.log")).expect("log file");
        let s = |n: &str| scratch.p(n).display().to_string();
        let mut args: Vec<String> = match ns {
            Some(ns) => vec!["netns".into(), "exec".into(), ns.name.clone(), bin().into()],
            None => Vec::new(),
        };
        args.extend([
            "--dont-fork".into(),
            "--log-console".into(),
            "--log-detail".into(),
            "-f".into(),
            s("keepalived.conf"),
            "-p".into(),
            s("keepalived.pid"),
            "-r".into(),
            s("vrrp.pid"),
            "-c".into(),
            s("checkers.pid"),
            "--status-socket".into(),
            s("status.sock"),
            "--dump-dir".into(),
            scratch.dir.display().to_string(),
        ]);
        if !extra.contains(&"--syslog-socket") {
            args.push("--no-syslog".into());
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let mut cmd = Command::new(if ns.is_some() { "ip" } else { bin() });
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log);
        cmd.env("RUST_LOG", "debug")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn daemon");
        let pid = child.id() as i32;
        Daemon {
            child: Some(child),
            pid,
            scratch_dir: scratch.dir.clone(),
        }
    }

    pub fn signal(&self, sig: &str) {
        let out = sh(&["kill", &format!("-{sig}"), &self.pid.to_string()]);
        assert!(
            out.status.success(),
            "kill -{sig} {}: {}",
            self.pid,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.scratch_dir.join("daemon.log")).unwrap_or_default()
    }

    pub fn child_pid(&self, file: &str) -> Option<i32> {
        read_pid(&self.scratch_dir.join(file))
    }

    pub fn status(&self) -> Option<serde_json::Value> {
        let out = Command::new(bin())
            .args([
                "--status",
                "--status-socket",
                &self.scratch_dir.join("status.sock").display().to_string(),
            ])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    /// Bounded wait for the supervisor to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("daemon child");
        let start = Instant::now();
        loop {
            if let Some(st) = child.try_wait().expect("try_wait") {
                self.child = None;
                return st;
            }
            assert!(
                start.elapsed() < limit,
                "daemon did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().map(|s| s.is_none()).unwrap_or(false),
            None => false,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.pid.to_string()])
                .stderr(Stdio::null())
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A process started by a test (keepalived, a helper server), stopped on
/// drop: SIGTERM, up to 10 s to exit (a clean keepalived stop runs its
/// shutdown scripts), then SIGKILL.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = sh(&["kill", "-TERM", &self.0.id().to_string()]);
        for _ in 0..200 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// keepalived 2.2.7 in `ns` on `conf` in the foreground (`-n -l`), with
/// `args` (e.g. `-P`, `-D`), its pid files in `scratch` (`ka.pid`,
/// `ka-v.pid`, `ka-c.pid`) and its output in `scratch/<log>`.
pub fn spawn_keepalived(
    ns: &Netns,
    scratch: &Scratch,
    conf: &Path,
    args: &[&str],
    log: &str,
) -> Killed {
    let p = |n: &str| scratch.p(n).display().to_string();
    let out = std::fs::File::create(scratch.p(log)).expect("log");
    Killed(
        Command::new("ip")
            .args(["netns", "exec", &ns.name, "/usr/sbin/keepalived"])
            .args(args)
            .args(["-n", "-l", "-f", &conf.display().to_string()])
            .args([
                "-p",
                &p("ka.pid"),
                "-r",
                &p("ka-v.pid"),
                "-c",
                &p("ka-c.pid"),
            ])
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .spawn()
            .expect("spawn keepalived"),
    )
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

/// Bounded polling: panics with `what` if `f` is not true within `limit`.
pub fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn global_block(extra_global: &str) -> String {
    format!("global_defs {{\n    router_id rkd_test\n{extra_global}}}\n\n")
}

/// One VRRP instance (VIP `vip`/24) on eth0, MASTER so it owns the VIP at once.
pub fn vrrp_block(vip: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {{
        {vip}/24
    }}
}}

"
    )
}

/// One virtual server with a TCP-checked real server (no IPVS on the test
/// host: the checker must cope).
pub fn virtual_server_block() -> String {
    "virtual_server 192.0.2.100 80 {
    delay_loop 6
    lb_algo wlc
    lb_kind DR
    protocol TCP
    real_server 192.0.2.11 80 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
"
    .to_string()
}

/// A config with one VRRP instance (VIP `vip`) on eth0 and one virtual
/// server with a TCP-checked real server, all on documentation addresses.
pub fn config(vip: &str, extra_global: &str) -> String {
    format!(
        "{}{}{}",
        global_block(extra_global),
        vrrp_block(vip),
        virtual_server_block()
    )
}
