//! Test helpers shared by every rkeepalived test binary (a dev-dependency
//! only, never published).
//!
//! * [`prerequisites`]: one rule for tests that need root, a tool, the qemu
//!   lab or any other part of the machine. When something is missing the
//!   test is skipped with the reason printed (`SKIP <test>: needs ...`);
//!   when the `CI` environment variable is set it fails instead, so CI never
//!   passes a test that did not run. Every skip is also appended to the
//!   file named by `RKEEPALIVED_SKIP_LOG` (set by `.ci/run`), which prints
//!   them in its summary (the test harness hides a passing test's stderr).
//! * [`Netns`]: a private network namespace, created on `new`, deleted (and
//!   every process in it killed) on drop, also when the test panicked.
//! * [`Daemon`]: a child process (keepalived or rkeepalived) killed on drop.
//! * [`oracle`]: keepalived 2.2.7 as an oracle: `keepalived -t` messages and
//!   the effective configuration it dumps (`-d`) in a private netns.
//! * [`log_capture`]: the tracing lines a test's own thread logs, immune to
//!   parallel tests reaching the same callsites first.
//!
//! A new netns test, in full:
//!
//! ```no_run
//! use rkeepalived_testkit::{prerequisites, Need, Netns};
//!
//! #[test]
//! fn my_netns_test() {
//!     if !prerequisites(&[Need::Root, Need::Tool("ip")]) {
//!         return;
//!     }
//!     let ns = Netns::new("mytest");
//!     ns.ip(&["addr", "add", "192.0.2.1/24", "dev", "lo"]);
//!     let up = ns.run(|| std::net::UdpSocket::bind("192.0.2.1:0").is_ok());
//!     assert!(up);
//! }
//! ```

pub mod configs;
pub mod keepalived_messages;
pub mod log_capture;
pub mod oracle;

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A scratch directory under the system's temporary directory, unique to
/// this process and call (`rkd-<tag>-<pid>-<n>`), removed on drop, also
/// when the test panicked.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let d = std::env::temp_dir().join(format!("rkd-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("create temp dir");
        TempDir(d)
    }
    /// `name` inside the directory (not created).
    pub fn p(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    /// Writes `text` to `rel` (its directories created) and returns the path.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("create dir");
        }
        std::fs::write(&p, text).expect("write file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Environment variable naming the file every skip is appended to.
pub const SKIP_LOG_ENV: &str = "RKEEPALIVED_SKIP_LOG";

/// Something a test needs from the machine it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need<'a> {
    /// Effective uid 0.
    Root,
    /// A command found on `PATH`, `/usr/sbin` or `/sbin`.
    Tool(&'a str),
    /// The reference keepalived 2.2.7 (`apt-get install keepalived`).
    Keepalived,
    /// A file or directory that must exist (with the hint shown when not).
    Path(&'a str, &'a str),
    /// Any other condition, described by what is missing when it is false.
    That(bool, &'a str),
}

impl Need<'_> {
    /// `None` when met, else what is missing.
    fn missing(&self) -> Option<String> {
        match *self {
            Need::Root => (!is_root()).then(|| "root".to_string()),
            Need::Tool(tool) => (!which(tool)).then(|| format!("the `{tool}` command")),
            Need::Keepalived => {
                (!which("keepalived")).then(|| "keepalived (apt-get install keepalived)".into())
            }
            Need::Path(path, hint) => {
                (!Path::new(path).exists()).then(|| format!("{path} ({hint})"))
            }
            Need::That(ok, what) => (!ok).then(|| what.to_string()),
        }
    }
}

/// True when every need is met. Otherwise: panics when `CI` is set, else
/// prints `SKIP <test>: needs <what>`, records the skip in the file named by
/// [`SKIP_LOG_ENV`], and returns false (the test returns early).
#[track_caller]
pub fn prerequisites(needs: &[Need<'_>]) -> bool {
    let missing: Vec<String> = needs.iter().filter_map(Need::missing).collect();
    if missing.is_empty() {
        return true;
    }
    skip(&format!("needs {}", missing.join(", ")));
    false
}

/// Skips the current test for `reason` (fails it when `CI` is set). For
/// conditions only known mid-test; prefer [`prerequisites`] up front.
#[track_caller]
pub fn skip(reason: &str) {
    let test = test_name();
    if in_ci() {
        panic!("{test}: {reason} (CI is set: failing instead of skipping)");
    }
    let line = format!("SKIP {test}: {reason}");
    eprintln!("{line}");
    if let Some(log) = std::env::var_os(SKIP_LOG_ENV) {
        // One short O_APPEND write per skip: lines from concurrent test
        // binaries do not interleave.
        if let Ok(mut f) = OpenOptions::new().create(true).append(true).open(log) {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    }
}

/// Whether the `CI` environment variable is set (to anything but empty,
/// `0` or `false`).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether the effective uid is 0.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Whether `tool` is on `PATH` (or in `/usr/sbin`, `/sbin`, which a
/// non-login root shell may lack).
pub fn which(tool: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].iter().map(PathBuf::from))
        .any(|dir| dir.join(tool).is_file())
}

/// `<test binary> <test name>`: libtest names each test's thread after the
/// test (`main` when it runs tests on the main thread).
fn test_name() -> String {
    let bin = std::env::args()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .map(|b| match b.rsplit_once('-') {
            // cargo's test binaries are `<name>-<16 hex digits>`.
            Some((name, hash)) if hash.len() == 16 => name.to_string(),
            _ => b,
        })
        .unwrap_or_default();
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    format!("{bin}::{test}")
}

/// A megabyte of deterministic garbage (xorshift64 bytes) that fails to
/// load with far more than 100 errors: random bytes are mostly comments,
/// unknown keywords and unterminated quotes (warnings, as in keepalived),
/// so 2000 stray `}` lines follow them. For the diagnostics-cap tests.
pub fn garbage_config() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut garbage: Vec<u8> = (0..1_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    garbage.extend("\n}\n".repeat(2000).bytes());
    garbage
}

/// Runs a command, panicking (with the command) when it cannot start.
pub fn sh(args: &[&str]) -> Output {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Runs a command, panicking with its stderr when it fails.
pub fn must(args: &[&str]) {
    let out = sh(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) static SEQ: AtomicU32 = AtomicU32::new(0);

/// A network namespace `rkt-<tag>-<pid>[-<n>]` with loopback up, deleted on
/// drop after every process inside it is killed. Names are unique per
/// process and call, so concurrent tests never share one.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `rkt-<tag>-<pid>` (a sequence number is added from the
    /// second namespace of a process on). Panics when it cannot.
    pub fn new(tag: &str) -> Netns {
        Netns::with_prefix("rkt", tag)
    }

    /// Like [`Netns::new`] with another name prefix (`<prefix>-<tag>-<pid>`).
    pub fn with_prefix(prefix: &str, tag: &str) -> Netns {
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let name = match seq {
            0 => format!("{prefix}-{tag}-{}", std::process::id()),
            n => format!("{prefix}-{tag}-{}-{n}", std::process::id()),
        };
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        must(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// The namespace's name (for `ip netns exec`, `ip -n`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n <ns> <args>`, panicking when it fails.
    pub fn ip(&self, args: &[&str]) {
        let mut full = vec!["ip", "-n", self.name.as_str()];
        full.extend_from_slice(args);
        must(&full);
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Runs a command inside the namespace and returns its output.
    pub fn exec(&self, args: &[&str]) -> Output {
        let mut full = vec!["ip", "netns", "exec", self.name.as_str()];
        full.extend_from_slice(args);
        sh(&full)
    }

    /// Runs `f` on a fresh thread that has entered the namespace (build a
    /// tokio runtime inside `f` if it needs one).
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).expect("open netns");
            nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    /// Starts keepalived 2.2.7 inside the namespace in the foreground
    /// (`-n -l -D`) on `conf`, with its own pid files under `dir`.
    pub fn spawn_keepalived(&self, conf: &Path, dir: &Path, extra: &[&str]) -> Daemon {
        let mut cmd = self.command("keepalived");
        cmd.args(["-n", "-l", "-D", "-f"]).arg(conf);
        cmd.arg("-p").arg(dir.join("keepalived.pid"));
        cmd.arg("-r").arg(dir.join("vrrp.pid"));
        cmd.arg("-c").arg(dir.join("checkers.pid"));
        cmd.args(extra);
        Daemon::spawn(cmd, dir.join("keepalived.log"))
    }

    /// Starts rkeepalived (`bin`, e.g. `env!("CARGO_BIN_EXE_rkeepalived")`)
    /// inside the namespace in the foreground (`-n -l`) on `conf`, with its
    /// own pid files under `dir`.
    pub fn spawn_rkeepalived(&self, bin: &str, conf: &Path, dir: &Path, extra: &[&str]) -> Daemon {
        let mut cmd = self.command(bin);
        cmd.args(["-n", "-l", "-f"]).arg(conf);
        cmd.arg("-p").arg(dir.join("rkeepalived.pid"));
        cmd.arg("-r").arg(dir.join("vrrp.pid"));
        cmd.arg("-c").arg(dir.join("checkers.pid"));
        cmd.args(extra);
        Daemon::spawn(cmd, dir.join("rkeepalived.log"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill")
                    .args(["-9", pid])
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// A daemon under test, its stdout and stderr in `log`; killed (SIGKILL)
/// and reaped on drop. On a panicking test the log is printed.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Spawns `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(mut cmd: Command, log: PathBuf) -> Daemon {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let err = out.try_clone().expect("dup log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
        Daemon { child, log }
    }

    /// The child's pid (of `ip netns exec`, which execs the daemon).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the daemon printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` (e.g. `nix::sys::signal::Signal::SIGHUP`).
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, signal);
    }

    /// The child, for waiting on its exit status.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {} ---\n{}", self.log.display(), self.log());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn met_needs_do_not_skip() {
        assert!(prerequisites(&[
            Need::That(true, "nothing"),
            Need::Tool("sh")
        ]));
    }

    #[test]
    fn unmet_needs_skip_or_fail_in_ci() {
        let r = std::panic::catch_unwind(|| {
            prerequisites(&[
                Need::That(false, "a unicorn"),
                Need::Tool("no-such-tool-xyz"),
            ])
        });
        match r {
            Ok(ran) => assert!(!in_ci() && !ran),
            Err(e) => {
                assert!(in_ci());
                let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
                assert!(
                    msg.contains("needs a unicorn, the `no-such-tool-xyz` command"),
                    "{msg}"
                );
            }
        }
    }
}
