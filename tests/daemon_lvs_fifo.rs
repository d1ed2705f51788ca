//! The checker's notify FIFO lines and `log_all_failures` lines compared
//! with keepalived 2.2.7 on the same config and the same events: a real
//! server fails its TCP check (`log_all_failures`), then comes up.
//! Each daemon runs its own `lvs_notify_fifo` with an
//! `lvs_notify_fifo_script` copying the FIFO to a file; both files must
//! hold exactly the same lines (`VS [..]:tcp:80 UP` at start, then
//! `RS [..]:tcp:8082 [..]:tcp:80 DOWN`, `VS [..]:tcp:80 DOWN`, then UP),
//! and both logs the same per-failure line (`TCP connection to
//! [..]:tcp:8082 failed.`, once per failed attempt while the checker is up). The host kernel has no IPVS:
//! keepalived runs with bench/check/fake_ipvs.so preloaded, ours keeps
//! checking without IPVS. Needs root.

mod daemon_util;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use daemon_util::*;

fn config(fifo: &Path, script: &Path) -> String {
    format!(
        "global_defs {{
    router_id rkd_lvs_fifo
    lvs_notify_fifo {fifo}
    lvs_notify_fifo_script {script}
}}
virtual_server 192.0.2.100 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.2 8082 {{
        TCP_CHECK {{
            connect_timeout 1
            retry 0
            log_all_failures
        }}
    }}
}}
",
        fifo = fifo.display(),
        script = script.display()
    )
}

/// Accepts and closes connections on 192.0.2.2:8082 for at most 60 s.
const LISTENER: &str = "import socket, signal
signal.alarm(60)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('192.0.2.2', 8082))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = sh(&["kill", "-TERM", &self.0.id().to_string()]);
        for _ in 0..100 {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(ns: &Netns, args: &[&str], env: &[(&str, &str)], log: &Path) -> Killed {
    let log = std::fs::File::create(log).expect("log");
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.name])
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup"))
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Killed(cmd.spawn().expect("spawn"))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

const RS: &str = "RS [192.0.2.2]:tcp:8082 [192.0.2.100]:tcp:80";
const VS: &str = "VS [192.0.2.100]:tcp:80";
const FAILED: &str = "TCP connection to [192.0.2.2]:tcp:8082 failed.";

#[test]
fn lvs_notify_fifo_and_log_all_failures_match_keepalived() {
    if !prerequisites(&["keepalived", "cc", "python3"]) {
        return;
    }
    let scratch = Scratch::new("lvs-fifo");
    let shim = scratch.fake_ipvs();

    // Per daemon: its FIFO, the reader script's copy, config, pid files.
    let side = |who: &str| {
        let copy = scratch.p(&format!("{who}-events"));
        let script = scratch.write(
            &format!("{who}-reader.sh"),
            &format!("#!/bin/sh\nexec cat \"$1\" >> {}\n", copy.display()),
        );
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let conf = scratch.write(
            &format!("{who}.conf"),
            &config(&scratch.p(&format!("{who}.fifo")), &script),
        );
        (copy, conf.display().to_string())
    };
    let (ka_copy, ka_conf) = side("ka");
    let (rk_copy, rk_conf) = side("rk");
    let p = |n: &str| scratch.p(n).display().to_string();
    let ka_ns = Netns::new("lvsfifo-ka");
    let rk_ns = Netns::new("lvsfifo-rk");
    let (ka_log, rk_log) = (scratch.p("ka.log"), scratch.p("daemon.log"));
    let shim_s = shim.display().to_string();
    let (ka_pid, ka_c, ka_v) = (p("ka.pid"), p("ka-c.pid"), p("ka-v.pid"));
    let (rk_pid, rk_c, rk_v) = (p("rk.pid"), p("rk-c.pid"), p("rk-v.pid"));
    let dump_dir = scratch.dir.display().to_string();
    let ka = spawn(
        &ka_ns,
        &[
            "/usr/sbin/keepalived",
            "-C",
            "-n",
            "-l",
            "-G",
            "-f",
            &ka_conf,
            "-p",
            &ka_pid,
            "-c",
            &ka_c,
            "-r",
            &ka_v,
        ],
        &[("LD_PRELOAD", shim_s.as_str())],
        &ka_log,
    );
    let rk = spawn(
        &rk_ns,
        &[
            bin(),
            "-C",
            "-n",
            "-l",
            "-G",
            "-f",
            &rk_conf,
            "-p",
            &rk_pid,
            "-c",
            &rk_c,
            "-r",
            &rk_v,
            "--dump-dir",
            &dump_dir,
        ],
        &[("RUST_LOG", "info")],
        &rk_log,
    );

    let down = [
        format!("{VS} UP"),
        format!("{RS} DOWN"),
        format!("{VS} DOWN"),
    ];
    let lines = |p: &Path| -> Vec<String> { read(p).lines().map(str::to_string).collect() };
    let deadline = std::time::Instant::now() + LIMIT;
    while !(lines(&ka_copy) == down && lines(&rk_copy) == down) {
        assert!(
            std::time::Instant::now() < deadline,
            "DOWN lines: keepalived {:?}, ours {:?}\nkeepalived's log:\n{}",
            lines(&ka_copy),
            lines(&rk_copy),
            read(&ka_log)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _listen_ka = spawn(&ka_ns, &["python3", "-c", LISTENER], &[], &scratch.p("l1"));
    let _listen_rk = spawn(&rk_ns, &["python3", "-c", LISTENER], &[], &scratch.p("l2"));
    let all = [
        format!("{VS} UP"),
        format!("{RS} DOWN"),
        format!("{VS} DOWN"),
        format!("{RS} UP"),
        format!("{VS} UP"),
    ];
    wait_for("both write the UP lines", LIMIT, || {
        lines(&ka_copy).len() >= 5 && lines(&rk_copy).len() >= 5
    });
    assert_eq!(lines(&ka_copy), all, "keepalived (the oracle) changed");
    assert_eq!(lines(&rk_copy), all);

    // log_all_failures: the failed attempt of the up checker (without it
    // only "TCP_CHECK on service ... failed." is logged), none of those
    // that follow while it is down.
    let count = |p: &Path| read(p).lines().filter(|l| l.contains(FAILED)).count();
    assert_eq!(
        count(&ka_log),
        1,
        "keepalived (the oracle):\n{}",
        read(&ka_log)
    );
    assert_eq!(count(&rk_log), 1, "ours:\n{}", read(&rk_log));
    drop((ka, rk));
}

/// With both processes running, keepalived starts the global
/// `notify_fifo_script` once, in the checker (vrrp.c
/// `vrrp_complete_init()`: "Only one process must run the script to
/// process the global fifo, so let the checker process do so"): that one
/// reader gets the VRRP process's `INSTANCE` lines and the checker's `VS` /
/// `RS` lines (observed with keepalived 2.2.7 on this config).
#[test]
fn global_notify_fifo_script_runs_once_and_reads_both_processes() {
    if !prerequisites(&[]) {
        return;
    }
    let scratch = Scratch::new("global-fifo");
    let starts = scratch.p("starts");
    let copy = scratch.p("events");
    let script = scratch.write(
        "reader.sh",
        &format!(
            "#!/bin/sh\necho started >> {}\nexec cat \"$1\" >> {}\n",
            starts.display(),
            copy.display()
        ),
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let conf = scratch.write(
        "rk.conf",
        &format!(
            "global_defs {{
    router_id rkd_global_fifo
    notify_fifo {fifo}
    notify_fifo_script {script}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {{
        192.0.2.100/32
    }}
}}
virtual_server 192.0.2.100 80 {{
    delay_loop 1
    protocol TCP
    real_server 192.0.2.2 8082 {{
        TCP_CHECK {{
            connect_timeout 1
        }}
    }}
}}
",
            fifo = scratch.p("g.fifo").display(),
            script = script.display()
        ),
    );
    let ns = Netns::new("glfifo");
    let p = |n: &str| scratch.p(n).display().to_string();
    let (pid, c, v) = (p("rk.pid"), p("rk-c.pid"), p("rk-v.pid"));
    let dump_dir = scratch.dir.display().to_string();
    let conf = conf.display().to_string();
    let rk = spawn(
        &ns,
        &[
            bin(),
            "-n",
            "-l",
            "-f",
            &conf,
            "-p",
            &pid,
            "-c",
            &c,
            "-r",
            &v,
            "--dump-dir",
            &dump_dir,
        ],
        &[("RUST_LOG", "info")],
        &scratch.p("daemon.log"),
    );
    wait_for(
        "the VRRP and checker lines reach the one reader",
        LIMIT,
        || {
            let text = read(&copy);
            text.contains("INSTANCE \"VI_1\" BACKUP 100")
                && text.contains("RS [192.0.2.2]:tcp:8082 [192.0.2.100]:tcp:80 DOWN")
        },
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(read(&starts).lines().count(), 1, "{}", read(&starts));
    drop(rk);
}
