//! Process names and per-instance runtime paths, compared with keepalived
//! 2.2.7: the three processes' comm and command line (`ps`, `pgrep`), a
//! daemon started as `keepalived`, and two daemons side by side in two
//! network namespaces. Needs root.

mod daemon_util;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use daemon_util::*;

const KEEPALIVED: &str = "/usr/sbin/keepalived";

/// A daemon started by the test with its own command line; SIGTERM, then
/// SIGKILL, on drop.
struct Proc {
    child: Option<Child>,
}

impl Proc {
    fn spawn(program: &str, args: &[&str], log: &Path) -> Proc {
        let log = std::fs::File::create(log).expect("log file");
        let child = Command::new(program)
            .args(args)
            .env("RUST_LOG", "info")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        Proc { child: Some(child) }
    }

    fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap_or(0)
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = sh(&["kill", "-TERM", &child.id().to_string()]);
        for _ in 0..200 {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// (comm, argv) of a process.
fn identity(pid: i32) -> (String, Vec<String>) {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim_end()
        .to_string();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let argv = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    (comm, argv)
}

/// Waits for the three pid files and returns the identities of parent,
/// VRRP child and checker child.
fn three_identities(dir: &Path) -> [(String, Vec<String>); 3] {
    let files = ["k.pid", "v.pid", "c.pid"].map(|f| dir.join(f));
    wait_for("the three pid files", LIMIT, || {
        files.iter().all(|f| read_pid(f).is_some_and(alive))
    });
    // Give exec'd children a moment to rename themselves.
    std::thread::sleep(Duration::from_millis(500));
    files.map(|f| identity(read_pid(&f).unwrap_or(0)))
}

fn vrrp_only_config() -> String {
    format!("{}{}", global_block(""), vrrp_block("192.0.2.100"))
}

fn pid_args(dir: &Path) -> Vec<String> {
    let p = |n: &str| dir.join(n).display().to_string();
    vec![
        "-p".into(),
        p("k.pid"),
        "-r".into(),
        p("v.pid"),
        "-c".into(),
        p("c.pid"),
    ]
}

/// keepalived's children are forks: the same comm and the same command line
/// as the parent. Ours re-exec but show the same; started as `keepalived`
/// (a symlink) all three are named `keepalived`, exactly like the real one.
#[test]
fn three_processes_are_named_like_keepalived() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let scratch = Scratch::new("names");
    let conf = scratch.write("keepalived.conf", &vrrp_only_config());
    let conf = conf.display().to_string();

    // The oracle: keepalived 2.2.7 itself (--all starts the checker too).
    let ka_ns = Netns::new("names-ka");
    let ka_dir = scratch.p("ka");
    std::fs::create_dir_all(&ka_dir).expect("dir");
    let mut args: Vec<String> = ["netns", "exec", &ka_ns.name, KEEPALIVED]
        .map(String::from)
        .to_vec();
    args.extend(["--all", "-n", "-l", "-G", "-f", &conf].map(String::from));
    args.extend(pid_args(&ka_dir));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut ka = Proc::spawn("ip", &args, &scratch.p("ka.log"));
    let theirs = three_identities(&ka_dir);
    ka.stop();

    // Ours, started through a `keepalived` symlink.
    let ours_ns = Netns::new("names-rk");
    let rk_dir = scratch.p("rk");
    std::fs::create_dir_all(&rk_dir).expect("dir");
    let link = scratch.p("keepalived");
    std::os::unix::fs::symlink(bin(), &link).expect("symlink");
    let link = link.display().to_string();
    let status = rk_dir.join("status.sock").display().to_string();
    let mut args: Vec<String> = ["netns", "exec", &ours_ns.name, &link]
        .map(String::from)
        .to_vec();
    args.extend(["--all", "-n", "-l", "-G", "-f", &conf].map(String::from));
    args.extend(pid_args(&rk_dir));
    args.extend(["--status-socket".to_string(), status]);
    args.extend([
        "-g".to_string(),
        rk_dir.join("run.log").display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut ours = Proc::spawn("ip", &args, &scratch.p("daemon.log"));
    let mine = three_identities(&rk_dir);

    // `-g FILE`: one log file per process, named as keepalived's
    // make_file_name names them (Debian's keepalived is built without
    // --enable-log-file, so the oracle here is its source, lib/logger.c).
    let mut logs: Vec<String> = std::fs::read_dir(&rk_dir)
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".log"))
        .collect();
    logs.sort();
    // `--all` runs the BFD child too (core/main.c running_bfd()).
    assert_eq!(
        logs,
        ["run.log", "run_bfd.log", "run_check.log", "run_vrrp.log"]
    );
    for (who, ids) in [("keepalived", &theirs), ("rkeepalived", &mine)] {
        let [parent, vrrp, checker] = ids;
        assert_eq!(parent.0, "keepalived", "{who} parent comm: {ids:?}");
        assert_eq!(vrrp.0, parent.0, "{who} VRRP child comm: {ids:?}");
        assert_eq!(checker.0, parent.0, "{who} checker child comm: {ids:?}");
        assert_eq!(vrrp.1, parent.1, "{who} VRRP child argv: {ids:?}");
        assert_eq!(checker.1, parent.1, "{who} checker child argv: {ids:?}");
    }
    assert_eq!(mine[0].1[0], link, "argv[0] is how it was started");
    // The supervisor's lines about its children, in keepalived's words.
    let (ka_log, rk_log) = (
        std::fs::read_to_string(scratch.p("ka.log")).unwrap_or_default(),
        std::fs::read_to_string(scratch.p("daemon.log")).unwrap_or_default(),
    );
    for line in [
        format!(
            "Starting VRRP child process, pid={}",
            read_pid(&rk_dir.join("v.pid")).unwrap_or(0)
        ),
        format!(
            "Starting Healthcheck child process, pid={}",
            read_pid(&rk_dir.join("c.pid")).unwrap_or(0)
        ),
        "Startup complete".to_string(),
    ] {
        assert!(rk_log.contains(&line), "ours lacks '{line}':\n{rk_log}");
        let generic = line.split("pid=").next().unwrap_or(&line).to_string();
        assert!(
            ka_log.contains(&generic),
            "keepalived lacks '{generic}':\n{ka_log}"
        );
    }
    // Invoked as `keepalived`, it behaves as rkeepalived: it is running
    // both engines and answers on its status socket.
    let st = Command::new(bin())
        .args(["--status", "--status-socket"])
        .arg(rk_dir.join("status.sock"))
        .output()
        .expect("status");
    assert!(st.status.success(), "{st:?}");
    ours.stop();

    // Started under its own name, all three are `rkeepalived`.
    let d = Daemon::start(&ours_ns, &scratch, &["--all"], &[]);
    let files = ["keepalived.pid", "vrrp.pid", "checkers.pid"].map(|f| scratch.p(f));
    wait_for("pid files", LIMIT, || {
        files.iter().all(|f| read_pid(f).is_some_and(alive))
    });
    std::thread::sleep(Duration::from_millis(500));
    let ids = files.map(|f| identity(read_pid(&f).unwrap_or(0)));
    for (comm, argv) in &ids {
        assert_eq!(comm, "rkeepalived", "{ids:?}");
        assert_eq!(argv, &ids[0].1, "{ids:?}");
    }
    drop(d);
}

/// Removes the per-namespace runtime directories a `-s NS` daemon creates.
struct RunDirs(Vec<PathBuf>);

impl Drop for RunDirs {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn status_of(args: &[&str]) -> Option<serde_json::Value> {
    let out = Command::new(bin())
        .arg("--status")
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn status_pid(args: &[&str]) -> Option<i64> {
    status_of(args)?.get("pid")?.as_i64()
}

/// keepalived's `-s NS`: pid files in /run/keepalived/NS/ (core/namespaces.c),
/// and so is our status socket (/run/rkeepalived/NS/). Two daemons in two
/// namespaces run side by side with no path given; stopping one leaves the
/// other.
#[test]
fn two_daemons_side_by_side_with_namespace_paths() {
    if !prerequisites(&[]) {
        return;
    }
    let scratch = Scratch::new("sbs-ns");
    let conf = scratch
        .write("keepalived.conf", &vrrp_only_config())
        .display()
        .to_string();
    let a = Netns::new("sbs-a");
    let b = Netns::new("sbs-b");
    let _dirs = RunDirs(
        [&a.name, &b.name]
            .iter()
            .flat_map(|n| {
                [
                    Path::new("/run/keepalived").join(n),
                    Path::new("/run/rkeepalived").join(n),
                ]
            })
            .collect(),
    );
    let start = |ns: &Netns, log: &str| {
        let dump = scratch.dir.display().to_string();
        Proc::spawn(
            bin(),
            &[
                "-n",
                "-l",
                "-G",
                "-f",
                &conf,
                "-s",
                &ns.name,
                "--dump-dir",
                &dump,
            ],
            &scratch.p(log),
        )
    };
    let mut da = start(&a, "daemon.log");
    let db = start(&b, "b.log");
    let pid_file = |ns: &Netns, f: &str| Path::new("/run/keepalived").join(&ns.name).join(f);
    for ns in [&a, &b] {
        wait_for("both pid files of each daemon", LIMIT, || {
            ["keepalived.pid", "vrrp.pid"]
                .iter()
                .all(|f| read_pid(&pid_file(ns, f)).is_some_and(alive))
        });
    }
    assert_eq!(read_pid(&pid_file(&a, "keepalived.pid")), Some(da.pid()));
    assert_eq!(read_pid(&pid_file(&b, "keepalived.pid")), Some(db.pid()));
    assert!(
        Path::new("/run/rkeepalived")
            .join(&a.name)
            .join("status.sock")
            .exists(),
        "status socket per namespace"
    );
    // `--status -s NS` finds the right daemon by the same derivation.
    let sa = ["-f", conf.as_str(), "-s", a.name.as_str()];
    let sb = ["-f", conf.as_str(), "-s", b.name.as_str()];
    wait_for("both status sockets answer", LIMIT, || {
        status_pid(&sa) == Some(da.pid().into()) && status_pid(&sb) == Some(db.pid().into())
    });
    // The VIPs went to the right namespaces.
    wait_for("each daemon holds its VIP", LIMIT, || {
        a.addr_count("eth0", "192.0.2.100") == 1 && b.addr_count("eth0", "192.0.2.100") == 1
    });

    da.stop();
    assert!(
        !pid_file(&a, "keepalived.pid").exists(),
        "the stopped daemon removed its pid file"
    );
    assert_eq!(status_pid(&sa), None, "the stopped daemon's socket is gone");
    for dir in ["/run/keepalived", "/run/rkeepalived"] {
        let d = Path::new(dir).join(&a.name);
        assert!(!d.exists(), "{} removed on exit", d.display());
    }
    assert_eq!(
        status_pid(&sb),
        Some(db.pid().into()),
        "the other one runs on"
    );
    assert_eq!(read_pid(&pid_file(&b, "keepalived.pid")), Some(db.pid()));
    assert_eq!(b.addr_count("eth0", "192.0.2.100"), 1);
}

/// The reported failure: two daemons in two namespaces (`ip netns exec`),
/// each with its own -p/-r/-c. The second refused to start because both
/// defaulted to one status socket; now each socket sits beside its pid file.
#[test]
fn two_daemons_with_their_own_pid_files_get_their_own_status_sockets() {
    if !prerequisites(&[]) {
        return;
    }
    let scratch = Scratch::new("sbs-pid");
    let conf = scratch
        .write("keepalived.conf", &vrrp_only_config())
        .display()
        .to_string();
    let a = Netns::new("sbp-a");
    let b = Netns::new("sbp-b");
    let start = |ns: &Netns, sub: &str| {
        let dir = scratch.p(sub);
        std::fs::create_dir_all(&dir).expect("dir");
        let mut args: Vec<String> = ["netns", "exec", &ns.name, bin()]
            .map(String::from)
            .to_vec();
        args.extend(["-n", "-l", "-G", "-f", &conf, "--dump-dir"].map(String::from));
        args.push(dir.display().to_string());
        args.extend(pid_args(&dir));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Proc::spawn("ip", &args, &dir.join("daemon.log"))
    };
    let mut da = start(&a, "a");
    let db = start(&b, "b");
    let k = |sub: &str| scratch.p(sub).join("k.pid").display().to_string();
    let (ka, kb) = (k("a"), k("b"));
    let sa = ["-p", ka.as_str()];
    let sb = ["-p", kb.as_str()];
    wait_for(
        "both daemons answer on their own status socket",
        LIMIT,
        || status_pid(&sa) == Some(da.pid().into()) && status_pid(&sb) == Some(db.pid().into()),
    );
    assert!(scratch.p("a").join("k.status.sock").exists());
    assert!(scratch.p("b").join("k.status.sock").exists());
    da.stop();
    assert_eq!(status_pid(&sa), None);
    assert_eq!(status_pid(&sb), Some(db.pid().into()));
    assert!(read_pid(&scratch.p("b").join("v.pid")).is_some_and(alive));
}
