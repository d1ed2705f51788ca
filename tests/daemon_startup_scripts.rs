//! global_defs `startup_script` / `shutdown_script` on the real daemon, as
//! keepalived 2.2.7's parent runs them (core/main.c): the startup script
//! before any child starts (the children wait for it), the shutdown script
//! after the children stopped and released their VIP; both as the script
//! user (never root when `script_user` says otherwise); a script running
//! past its `*_script_timeout` is killed with its process group and the
//! daemon goes on; an insecure one is never run under
//! `enable_script_security`. Each script leaves marker lines. Needs root.

mod daemon_util;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use daemon_util::*;

/// Scratch dir (0755) with `safe/` (0755, scripts) and `out/` (0777, where
/// the scripts, running as nobody, write their markers).
struct Dirs {
    scratch: Scratch,
    safe: PathBuf,
    out: PathBuf,
}

impl Dirs {
    fn new(tag: &str) -> Dirs {
        let scratch = Scratch::traversable(tag);
        let safe = scratch.subdir("safe", 0o755);
        let out = scratch.subdir("out", 0o777);
        Dirs { scratch, safe, out }
    }

    /// A root-owned script `body` (after `#!/bin/sh`) in `dir`, with `mode`.
    fn script(&self, dir: &Path, name: &str, body: &str, mode: u32) -> String {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}")).expect("write script");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
        p.display().to_string()
    }

    fn marker(&self) -> PathBuf {
        self.out.join("marker")
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.marker())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn vrrp_only(global: &str) -> String {
    format!("{}{}", global_block(global), vrrp_block("192.0.2.100"))
}

#[test]
fn startup_runs_before_the_children_and_shutdown_after_they_stopped_as_script_user() {
    if !prerequisites(&[]) {
        return;
    }
    let d = Dirs::new("startstop");
    let ns = Netns::new("startstop");
    let marker = d.marker().display().to_string();
    let vrrp_pid = d.scratch.p("vrrp.pid").display().to_string();
    // The startup script takes a second: the children must wait for it.
    let startup = d.script(
        &d.safe,
        "startup.sh",
        &format!(
            "echo \"startup uid=$(id -u) vrrp_pid_file=$(test -e {vrrp_pid} && echo yes || echo no)\" >> {marker}
sleep 1
echo \"startup-end vrrp_pid_file=$(test -e {vrrp_pid} && echo yes || echo no)\" >> {marker}
"
        ),
        0o755,
    );
    let shutdown = d.script(
        &d.safe,
        "shutdown.sh",
        &format!(
            "echo \"shutdown uid=$(id -u) vrrp_pid_file=$(test -e {vrrp_pid} && echo yes || echo no) vip=$(ip -o addr show dev eth0 | grep -c ' 192.0.2.100/')\" >> {marker}
exit 3
"
        ),
        0o755,
    );
    d.scratch.write(
        "keepalived.conf",
        &vrrp_only(&format!(
            "    script_user nobody\n    enable_script_security\n    startup_script {startup}\n    shutdown_script {shutdown}\n"
        )),
    );
    let started = Instant::now();
    let mut daemon = Daemon::start(&ns, &d.scratch, &[], &[]);
    wait_for("the vrrp child", LIMIT, || {
        daemon.child_pid("vrrp.pid").is_some()
    });
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the children started before the 1 s startup script ended"
    );
    assert_eq!(
        d.lines(),
        vec![
            "startup uid=65534 vrrp_pid_file=no".to_string(),
            "startup-end vrrp_pid_file=no".to_string(),
        ],
        "startup script ran once, as nobody, before the vrrp child started"
    );
    wait_for("VIP on eth0", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });

    daemon.signal("TERM");
    let st = daemon.wait_exit(LIMIT);
    assert!(st.success(), "{st:?}\n{}", daemon.log());
    let lines = d.lines();
    assert_eq!(
        lines.get(2).map(String::as_str),
        Some("shutdown uid=65534 vrrp_pid_file=no vip=0"),
        "shutdown script ran as nobody after the child stopped and released the VIP: {lines:?}"
    );
    assert_eq!(lines.len(), 3, "{lines:?}");
    let log = daemon.log();
    // core/main.c startup_shutdown_script_completed: its wording, doubled
    // "script" included; "Running ..." with -D (the test daemon has it).
    assert!(log.contains("Running startup script "), "{log}");
    assert!(log.contains("Running shutdown script "), "{log}");
    assert!(log.contains("startup script script succeeded"), "{log}");
    assert!(
        log.contains("shutdown script script failed, status 3"),
        "{log}"
    );
}

#[test]
fn startup_script_past_its_timeout_is_killed_and_the_children_start() {
    if !prerequisites(&[]) {
        return;
    }
    let d = Dirs::new("starttimeout");
    let ns = Netns::new("starttmo");
    let marker = d.marker().display().to_string();
    // Records its pid, then a background sleeper's, and sleeps far past the
    // 1 s timeout: the whole process group must be killed.
    let startup = d.script(
        &d.safe,
        "slow.sh",
        &format!(
            "echo \"begin $$\" >> {marker}
sleep 60 &
echo \"bg $!\" >> {marker}
sleep 60
echo end >> {marker}
"
        ),
        0o755,
    );
    d.scratch.write(
        "keepalived.conf",
        &vrrp_only(&format!(
            "    script_user nobody\n    startup_script {startup}\n    startup_script_timeout 1\n"
        )),
    );
    let started = Instant::now();
    let daemon = Daemon::start(&ns, &d.scratch, &[], &[]);
    wait_for("the vrrp child", LIMIT, || {
        daemon.child_pid("vrrp.pid").is_some()
    });
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(20),
        "children started {waited:?} after start: not after the 1 s timeout"
    );
    let lines = d.lines();
    assert!(
        lines.iter().all(|l| l != "end"),
        "the script was not stopped: {lines:?}"
    );
    let pids: Vec<i32> = lines
        .iter()
        .filter_map(|l| l.split_once(' ').and_then(|(_, p)| p.parse().ok()))
        .collect();
    assert_eq!(pids.len(), 2, "{lines:?}");
    wait_for("script and its background child killed", LIMIT, || {
        pids.iter().all(|p| !alive(*p))
    });
    let log = daemon.log();
    assert!(log.contains("startup script timed out"), "{log}");
}

#[test]
fn insecure_startup_script_never_runs_with_script_security() {
    if !prerequisites(&[]) {
        return;
    }
    let d = Dirs::new("startinsecure");
    let ns = Netns::new("startinsec");
    let marker = d.marker().display().to_string();
    // Writable by anyone: a non-root user could make root... run anything;
    // keepalived refuses it ("SECURITY VIOLATION", script removed).
    let ww = d.script(
        &d.safe,
        "ww.sh",
        &format!("echo ran-insecure >> {marker}\n"),
        0o777,
    );
    let shutdown = d.script(
        &d.safe,
        "ok.sh",
        &format!("echo shutdown-ok >> {marker}\n"),
        0o755,
    );
    d.scratch.write(
        "keepalived.conf",
        &vrrp_only(&format!(
            "    script_user root\n    enable_script_security\n    startup_script {ww}\n    shutdown_script {shutdown}\n"
        )),
    );
    let mut daemon = Daemon::start(&ns, &d.scratch, &[], &[]);
    wait_for("the vrrp child", LIMIT, || {
        daemon.child_pid("vrrp.pid").is_some()
    });
    daemon.signal("TERM");
    let st = daemon.wait_exit(LIMIT);
    assert!(st.success(), "{st:?}");
    assert_eq!(
        d.lines(),
        vec!["shutdown-ok".to_string()],
        "the insecure startup script must not run; the secure shutdown one does"
    );
    let log = daemon.log();
    // keepalived 2.2.7 logs "Unsafe permissions found for script
    // '<path>' - disabling." for the same file and never runs it either.
    assert!(
        log.contains(&format!(
            "Unsafe permissions found for script '{ww}' - disabling"
        )),
        "the refusal is logged with keepalived's wording: {log}"
    );
}

/// keepalived 2.2.7 and ours on the same config (each in its namespace,
/// each script told where its daemon's vrrp pid file is): the same marker
/// lines (order relative to the VRRP child, user, VIP released before the
/// shutdown script) and the same key log lines.
///
/// The scripts run as root here: keepalived 2.2.7 kills itself at start
/// when a startup/shutdown script has another user (lib/notify.c
/// `check_script_secure` restores PDEATHSIG and compares `getppid()` with
/// `main_pid`, which the parent only sets later in `start_keepalived`, then
/// sends itself SIGTERM). We run such a configuration (see
/// [`startup_runs_before_the_children_and_shutdown_after_they_stopped_as_script_user`]
/// and README.md).
#[test]
fn same_order_user_and_log_lines_as_keepalived() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let d = Dirs::new("startstop-ka");
    let ka_ns = Netns::new("ssk-ka");
    let rk_ns = Netns::new("ssk-rk");
    let startup = d.script(
        &d.safe,
        "startup.sh",
        "echo \"startup uid=$(id -u) vrrp_pid_file=$(test -e $2 && echo yes || echo no)\" >> $1
sleep 1
",
        0o755,
    );
    let shutdown = d.script(
        &d.safe,
        "shutdown.sh",
        "echo \"shutdown uid=$(id -u) vrrp_pid_file=$(test -e $2 && echo yes || echo no) vip=$(ip -o addr show dev eth0 | grep -c ' 192.0.2.100/')\" >> $1
exit 3
",
        0o755,
    );
    let conf_for = |who: &str, vrrp_pid: &str| {
        let marker = d.out.join(format!("marker-{who}")).display().to_string();
        let vrrp_pid = d.scratch.p(vrrp_pid).display().to_string();
        d.scratch.write(
            &format!("{who}.conf"),
            &vrrp_only(&format!(
                "    script_user root\n    enable_script_security\n    startup_script \"{startup} {marker} {vrrp_pid}\"\n    shutdown_script \"{shutdown} {marker} {vrrp_pid}\"\n"
            )),
        )
    };
    let ka_conf = conf_for("ka", "ka-v.pid");
    let rk_conf = conf_for("rk", "vrrp.pid");
    std::fs::copy(&rk_conf, d.scratch.p("keepalived.conf")).expect("copy conf");

    let p = |n: &str| d.scratch.p(n).display().to_string();
    let ka_log = std::fs::File::create(d.scratch.p("ka.log")).expect("log");
    let mut ka = std::process::Command::new("ip")
        .args(["netns", "exec", &ka_ns.name, "/usr/sbin/keepalived"])
        .args([
            "-P",
            "-n",
            "-l",
            "-D",
            "-G",
            "-f",
            &ka_conf.display().to_string(),
        ])
        .args([
            "-p",
            &p("ka.pid"),
            "-r",
            &p("ka-v.pid"),
            "-c",
            &p("ka-c.pid"),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(ka_log.try_clone().expect("dup"))
        .stderr(ka_log)
        .spawn()
        .expect("spawn keepalived");
    let mut rk = Daemon::start(&rk_ns, &d.scratch, &["-P"], &[]);

    wait_for("both VIPs", LIMIT, || {
        ka_ns.addr_count("eth0", "192.0.2.100") == 1 && rk_ns.addr_count("eth0", "192.0.2.100") == 1
    });
    let _ = sh(&["kill", "-TERM", &ka.id().to_string()]);
    rk.signal("TERM");
    let rk_status = rk.wait_exit(LIMIT);
    let mut ka_status = None;
    wait_for("keepalived to exit", LIMIT, || {
        ka_status = ka.try_wait().ok().flatten();
        ka_status.is_some()
    });
    assert!(rk_status.success(), "{rk_status:?}");
    let read = |who: &str| {
        std::fs::read_to_string(d.out.join(format!("marker-{who}"))).unwrap_or_default()
    };
    let (ka_lines, rk_lines) = (read("ka"), read("rk"));
    assert_eq!(
        ka_lines, "startup uid=0 vrrp_pid_file=no\nshutdown uid=0 vrrp_pid_file=no vip=0\n",
        "keepalived's own behaviour changed?"
    );
    assert_eq!(rk_lines, ka_lines);

    let ka_log = std::fs::read_to_string(d.scratch.p("ka.log")).unwrap_or_default();
    let rk_log = rk.log();
    for line in [
        format!("Running startup script {startup}"),
        format!("Running shutdown script {shutdown}"),
        "shutdown script script failed, status 3".to_string(),
    ] {
        assert!(
            ka_log.contains(&line),
            "keepalived logs {line:?}:\n{ka_log}"
        );
        assert!(rk_log.contains(&line), "we log {line:?}:\n{rk_log}");
    }
}

/// Both scripts sleeping past their 1 s timeouts, under keepalived 2.2.7 and
/// ours: each logs "startup script timed out" / "shutdown script timed out",
/// starts its VRRP child anyway, exits after the shutdown script was killed,
/// and leaves no script process (nor what the script started) behind.
#[test]
fn timeouts_behave_as_keepalived() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let d = Dirs::new("timeouts-ka");
    let ka_ns = Netns::new("tmo-ka");
    let rk_ns = Netns::new("tmo-rk");
    // $1: marker file. Records its pid and a background sleeper's.
    let slow = d.script(
        &d.safe,
        "slow.sh",
        "sleep 60 &\necho \"$$ $!\" >> $1\nsleep 60\necho end >> $1\n",
        0o755,
    );
    let conf_for = |who: &str| {
        let marker = d.out.join(format!("pids-{who}")).display().to_string();
        d.scratch.write(
            &format!("{who}.conf"),
            &vrrp_only(&format!(
                "    script_user root\n    startup_script \"{slow} {marker}\"\n    startup_script_timeout 1\n    shutdown_script \"{slow} {marker}\"\n    shutdown_script_timeout 1\n"
            )),
        )
    };
    let ka_conf = conf_for("ka");
    let rk_conf = conf_for("rk");
    std::fs::copy(&rk_conf, d.scratch.p("keepalived.conf")).expect("copy conf");
    let p = |n: &str| d.scratch.p(n).display().to_string();
    let ka_log = std::fs::File::create(d.scratch.p("ka.log")).expect("log");
    let mut ka = std::process::Command::new("ip")
        .args(["netns", "exec", &ka_ns.name, "/usr/sbin/keepalived"])
        .args(["-P", "-n", "-l", "-G", "-f", &ka_conf.display().to_string()])
        .args([
            "-p",
            &p("ka.pid"),
            "-r",
            &p("ka-v.pid"),
            "-c",
            &p("ka-c.pid"),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(ka_log.try_clone().expect("dup"))
        .stderr(ka_log)
        .spawn()
        .expect("spawn keepalived");
    let mut rk = Daemon::start(&rk_ns, &d.scratch, &["-P"], &[]);
    wait_for(
        "both vrrp children, after the startup timeout",
        LIMIT,
        || {
            read_pid(&d.scratch.p("ka-v.pid")).is_some_and(alive)
                && rk.child_pid("vrrp.pid").is_some_and(alive)
        },
    );
    let _ = sh(&["kill", "-TERM", &ka.id().to_string()]);
    rk.signal("TERM");
    assert!(rk.wait_exit(LIMIT).success());
    let mut ka_done = false;
    wait_for("keepalived to exit", LIMIT, || {
        ka_done = matches!(ka.try_wait(), Ok(Some(_)));
        ka_done
    });
    let ka_log = std::fs::read_to_string(d.scratch.p("ka.log")).unwrap_or_default();
    let rk_log = rk.log();
    for line in ["startup script timed out", "shutdown script timed out"] {
        assert!(ka_log.contains(line), "keepalived logs {line:?}:\n{ka_log}");
        assert!(rk_log.contains(line), "we log {line:?}:\n{rk_log}");
    }
    for who in ["ka", "rk"] {
        let text = std::fs::read_to_string(d.out.join(format!("pids-{who}"))).unwrap_or_default();
        assert!(
            !text.contains("end"),
            "{who}: a script ran to its end: {text}"
        );
        let pids: Vec<i32> = text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(pids.len(), 4, "{who}: two runs, two pids each: {text}");
        wait_for("no script process left", LIMIT, || {
            pids.iter().all(|p| !alive(*p))
        });
    }
}

/// A reload's configuration brings its own shutdown script (keepalived's
/// reload_config re-reads and re-checks it); the startup script is not run
/// again at a reload.
#[test]
fn reload_replaces_the_shutdown_script_and_does_not_rerun_startup() {
    if !prerequisites(&[]) {
        return;
    }
    let d = Dirs::new("startreload");
    let ns = Netns::new("startrld");
    let marker = d.marker().display().to_string();
    let mk = |name: &str| {
        d.script(
            &d.safe,
            &format!("{name}.sh"),
            &format!("echo {name} >> {marker}\n"),
            0o755,
        )
    };
    let (startup, old_stop, new_stop) = (mk("startup"), mk("old-stop"), mk("new-stop"));
    let conf = |stop: &str| {
        vrrp_only(&format!(
            "    script_user root\n    startup_script {startup}\n    shutdown_script {stop}\n"
        ))
    };
    d.scratch.write("keepalived.conf", &conf(&old_stop));
    let mut daemon = Daemon::start(&ns, &d.scratch, &[], &[]);
    wait_for("the vrrp child", LIMIT, || {
        daemon.child_pid("vrrp.pid").is_some()
    });
    d.scratch.write("keepalived.conf", &conf(&new_stop));
    daemon.signal("HUP");
    wait_for("the reload", LIMIT, || {
        daemon.log().contains("reload complete")
    });
    daemon.signal("TERM");
    assert!(daemon.wait_exit(LIMIT).success());
    assert_eq!(
        d.lines(),
        vec!["startup".to_string(), "new-stop".to_string()],
        "startup once, then the reloaded shutdown script"
    );
}
