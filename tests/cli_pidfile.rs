//! Pid files as keepalived writes them, the live-daemon refusal, forking,
//! and SIGTERM cleanup. The configuration has nothing to run, so these
//! tests need neither root nor the engines.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rkeepalived")
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("rkd-pid-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create temp dir");
        std::fs::write(
            d.join("k.conf"),
            "global_defs {\n    router_id rkd_pid_test\n}\n",
        )
        .expect("conf");
        TempDir(d)
    }
    fn p(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn args(&self) -> Vec<String> {
        let s = |n: &str| self.p(n).display().to_string();
        vec![
            "-G".into(),
            "-f".into(),
            s("k.conf"),
            "-p".into(),
            s("k.pid"),
            "-r".into(),
            s("v.pid"),
            "-c".into(),
            s("c.pid"),
            "--status-socket".into(),
            s("status.sock"),
            "--dump-dir".into(),
            s(""),
        ]
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Never leave a daemon behind, whatever failed.
        if let Some(pid) = read_pid(&self.p("k.pid")) {
            let _ = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_pid(p: &Path) -> Option<i32> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn foreground_pid_file_refusal_and_sigterm_cleanup() {
    let dir = TempDir::new("fg");
    let mut args = dir.args();
    args.push("-n".into());
    let daemon = Guard(
        Command::new(bin())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    let pid = daemon.0.id() as i32;
    wait_for("pid file", Duration::from_secs(20), || {
        read_pid(&dir.p("k.pid")) == Some(pid)
    });
    let content = std::fs::read_to_string(dir.p("k.pid")).expect("pid file");
    assert_eq!(
        content,
        format!("{pid}\n"),
        "keepalived format: pid and newline"
    );

    // A second daemon on the same pid file must refuse to start.
    let second = Command::new(bin()).args(&args).output().expect("second");
    assert!(!second.status.success(), "second daemon must refuse");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("already running") && err.contains(&pid.to_string()),
        "{err}"
    );
    assert_eq!(
        read_pid(&dir.p("k.pid")),
        Some(pid),
        "the refused daemon must not touch the pid file"
    );

    // The status socket answers while running.
    let status = Command::new(bin())
        .args([
            "--status",
            "--status-socket",
            &dir.p("status.sock").display().to_string(),
        ])
        .output()
        .expect("status");
    assert!(status.status.success(), "{status:?}");
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status is JSON");
    assert_eq!(json["pid"], serde_json::json!(pid));

    let mut daemon = daemon;
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let start = Instant::now();
    let code = loop {
        if let Some(st) = daemon.0.try_wait().expect("wait") {
            break st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "daemon did not exit on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(code.success(), "clean stop exits 0: {code:?}");
    assert!(!dir.p("k.pid").exists(), "pid file removed on exit");
    assert!(
        !dir.p("status.sock").exists(),
        "status socket removed on exit"
    );
}

#[test]
fn stale_pid_file_does_not_block_start() {
    let dir = TempDir::new("stale");
    std::fs::write(dir.p("k.pid"), "4194304999\n").expect("stale pid");
    let mut args = dir.args();
    args.push("-n".into());
    let daemon = Guard(
        Command::new(bin())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    let pid = daemon.0.id() as i32;
    wait_for("pid file rewritten", Duration::from_secs(20), || {
        read_pid(&dir.p("k.pid")) == Some(pid)
    });
}

#[test]
fn forks_into_background_without_dont_fork() {
    let dir = TempDir::new("fork");
    let out = Command::new(bin()).args(dir.args()).output().expect("run");
    assert!(
        out.status.success(),
        "launcher exits 0 after forking: {out:?}"
    );
    wait_for("daemon pid file", Duration::from_secs(20), || {
        read_pid(&dir.p("k.pid")).is_some()
    });
    let pid = read_pid(&dir.p("k.pid")).expect("pid");
    assert!(alive(pid), "daemonized process {pid} is running");
    // Detached: its own session, not our child.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    assert_ne!(
        fields.get(1).copied(),
        Some(std::process::id().to_string().as_str())
    );
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    wait_for("daemon exit", Duration::from_secs(30), || !alive(pid));
    assert!(!dir.p("k.pid").exists(), "pid file removed on exit");
}

#[test]
fn status_without_a_running_daemon_fails_clearly() {
    let dir = TempDir::new("nostatus");
    let sock = dir.p("status.sock");
    let out = Command::new(bin())
        .args(["--status", "--status-socket", &sock.display().to_string()])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is rkeepalived running?") && err.contains(&sock.display().to_string()),
        "{err}"
    );
}

#[test]
fn log_file_receives_the_daemon_log() {
    let dir = TempDir::new("logfile");
    let log = dir.p("rk.log");
    let mut args = dir.args();
    args.extend(["-n".into(), "-g".into(), log.display().to_string()]);
    let mut daemon = Guard(
        Command::new(bin())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    let pid = daemon.0.id() as i32;
    wait_for("pid file", Duration::from_secs(20), || {
        read_pid(&dir.p("k.pid")) == Some(pid)
    });
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let start = Instant::now();
    while daemon.0.try_wait().expect("wait").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "daemon did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&log).expect("log file");
    assert!(
        text.contains("starting rkeepalived") && text.contains("rkeepalived stopped"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no terminal colours in a file");
}
