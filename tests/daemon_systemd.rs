//! The shipped unit under a real systemd: Debian's `systemd` runs as PID 1
//! of its own pid, mount, network and UTS namespaces (`container=other`,
//! tmpfs /run and /tmp, a minimal default target), with our unit installed
//! in /run/systemd/system as shipped, only the binary path pointed at the
//! one cargo built. Driven with `nsenter -t PID1 -a systemctl ...`:
//! `Type=notify` start brings the VIP up, reload keeps the MainPID, a
//! broken reload fails while the service keeps running with its VIP, the
//! watchdog restarts a hung (SIGSTOPped) daemon, and stop removes the VIP.
//! Options come from Debian's /etc/default/keepalived (`DAEMON_ARGS`), as
//! on a host that ran keepalived before.
//!
//! Test-only changes, by drop-in: `WatchdogSec=3` (the shipped 30 s would
//! make the test slow). Needs root, `unshare`, `nsenter` and systemd.

mod daemon_util;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use daemon_util::*;

const VIP: &str = "192.0.2.100";
const SYSTEMD: &str = "/lib/systemd/systemd";

/// A systemd "machine": the `unshare` child and systemd's pid as the host
/// sees it. Killing PID 1 of the pid namespace on drop takes every process
/// of the machine with it; the network namespace goes with them.
struct Machine {
    unshare: Child,
    pid1: i32,
    stage: PathBuf,
}

impl Machine {
    fn boot(stage: &Path, unit: &str, config: &str) -> Machine {
        let units = stage.join("units");
        std::fs::create_dir_all(units.join("rkeepalived.service.d")).expect("stage dir");
        std::fs::write(
            units.join("rkd-test.target"),
            "[Unit]\nDescription=rkeepalived test machine\n",
        )
        .expect("target");
        std::fs::write(units.join("rkeepalived.service"), unit).expect("unit");
        std::fs::write(
            units.join("rkeepalived.service.d/test.conf"),
            "[Service]\nWatchdogSec=3\n",
        )
        .expect("drop-in");
        std::fs::write(stage.join("keepalived.conf"), config).expect("config");
        // Debian's keepalived option file, as a host that ran keepalived has it.
        std::fs::write(stage.join("default-keepalived"), "DAEMON_ARGS=\"-D\"\n").expect("default");
        let inner = format!(
            r#"set -e
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /etc/keepalived
mount -t tmpfs tmpfs /etc/default
mkdir -p /run/systemd/system
cp -r {stage}/units/. /run/systemd/system/
cp {stage}/keepalived.conf /etc/keepalived/keepalived.conf
cp {stage}/default-keepalived /etc/default/keepalived
ip link set lo up
ip link add eth0 type veth peer name peer0
ip addr add 192.0.2.2/24 dev eth0
ip link set eth0 up
ip link set peer0 up
export container=other
exec {SYSTEMD} --system --unit=rkd-test.target
"#,
            stage = stage.display()
        );
        std::fs::write(stage.join("inner.sh"), inner).expect("inner script");
        let log = std::fs::File::create(stage.join("machine.log")).expect("log");
        let unshare = Command::new("unshare")
            .args([
                "--pid",
                "--fork",
                "--mount",
                "--propagation",
                "private",
                "--uts",
                "--net",
                "--mount-proc",
                "sh",
            ])
            .arg(stage.join("inner.sh"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn unshare");
        let upid = unshare.id();
        let mut pid1 = 0;
        wait_for("systemd as PID 1 of the machine", LIMIT, || {
            pid1 = std::fs::read_to_string(format!("/proc/{upid}/task/{upid}/children"))
                .ok()
                .and_then(|c| c.split_whitespace().next()?.parse().ok())
                .unwrap_or(0);
            pid1 > 0
                && std::fs::read_link(format!("/proc/{pid1}/exe"))
                    .is_ok_and(|e| e.to_string_lossy().contains("systemd"))
        });
        let m = Machine {
            unshare,
            pid1,
            stage: stage.to_path_buf(),
        };
        wait_for("systemd to finish booting", LIMIT, || {
            let state = m.systemctl(&["is-system-running"]);
            let s = String::from_utf8_lossy(&state.stdout);
            s.trim() == "running" || s.trim() == "degraded"
        });
        m
    }

    fn nsenter(&self, args: &[&str]) -> Output {
        Command::new("nsenter")
            .args(["-t", &self.pid1.to_string(), "-a"])
            .args(args)
            .output()
            .expect("nsenter")
    }

    fn systemctl(&self, args: &[&str]) -> Output {
        let mut full = vec!["systemctl", "--no-pager"];
        full.extend_from_slice(args);
        self.nsenter(&full)
    }

    fn show(&self, prop: &str) -> String {
        let out = self.systemctl(&["show", "-p", prop, "--value", "rkeepalived.service"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn main_pid(&self) -> i32 {
        self.show("MainPID").parse().unwrap_or(0)
    }

    fn active(&self) -> String {
        self.show("ActiveState")
    }

    fn has_vip(&self) -> bool {
        let out = self.nsenter(&["ip", "-o", "addr", "show", "dev", "eth0"]);
        String::from_utf8_lossy(&out.stdout).contains(&format!(" {VIP}/"))
    }

    fn write_config(&self, text: &str) {
        std::fs::write(self.stage.join("next.conf"), text).expect("config");
        let cmd = format!(
            "cp {}/next.conf /etc/keepalived/keepalived.conf",
            self.stage.display()
        );
        let out = self.nsenter(&["sh", "-c", &cmd]);
        assert!(out.status.success(), "{out:?}");
    }

    /// What systemd and the daemon said, for assertion messages.
    fn story(&self) -> String {
        let status = self.systemctl(&["status", "-n", "60", "rkeepalived.service"]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        )
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.pid1),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.stage);
        } else {
            eprintln!("systemd machine files kept in {}", self.stage.display());
        }
    }
}

fn shipped_unit() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("systemd/rkeepalived.service");
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .replace("/usr/sbin/rkeepalived", bin())
}

#[test]
fn shipped_unit_under_real_systemd() {
    if !prerequisites(&["unshare", "nsenter", "systemctl"]) {
        return;
    }
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Path(
        SYSTEMD,
        "Debian package `systemd`",
    )]) {
        return;
    }
    // Not under /tmp: the machine covers /tmp with its own tmpfs.
    let stage = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rkd-systemd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage).expect("stage");
    let good = config(VIP, "");
    let m = Machine::boot(&stage, &shipped_unit(), &good);

    // Type=notify: `systemctl start` returns once READY=1 arrived.
    let start = m.systemctl(&["start", "rkeepalived.service"]);
    assert!(start.status.success(), "start failed:\n{}", m.story());
    assert_eq!(m.active(), "active", "{}", m.story());
    let pid = m.main_pid();
    assert!(pid > 0, "{}", m.story());
    // DAEMON_ARGS from Debian's /etc/default/keepalived reached the daemon.
    // (MainPID is a pid of the machine's pid namespace: look from inside.)
    let cmdline = m.nsenter(&["cat", &format!("/proc/{pid}/cmdline")]).stdout;
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert!(
        args.iter().any(|a| a == "-D"),
        "DAEMON_ARGS not passed: {args:?}"
    );
    wait_for("the VIP under systemd", LIMIT, || m.has_vip());

    // Reload keeps the main process (and the VIP).
    let reload = m.systemctl(&["reload", "rkeepalived.service"]);
    assert!(reload.status.success(), "reload failed:\n{}", m.story());
    assert_eq!(m.main_pid(), pid, "reload replaced the main process");
    assert_eq!(m.active(), "active");
    assert!(m.has_vip(), "VIP lost on reload");

    // A broken config: reload fails, the service keeps running its old
    // config, with the same main process and the VIP.
    m.write_config("vrrp_instance VI_1 {\n    interface eth0\n");
    let broken = m.systemctl(&["reload", "rkeepalived.service"]);
    assert!(
        !broken.status.success(),
        "a broken reload succeeded:\n{}",
        m.story()
    );
    assert_eq!(m.active(), "active", "{}", m.story());
    assert_eq!(
        m.main_pid(),
        pid,
        "a broken reload replaced the main process"
    );
    assert!(m.has_vip(), "VIP lost on a broken reload");
    m.write_config(&good);

    // A hung supervisor stops pinging the watchdog: systemd aborts it and
    // restarts the service (Restart=on-failure).
    let restarts = m.show("NRestarts");
    let stop = m.nsenter(&["kill", "-STOP", &pid.to_string()]);
    assert!(stop.status.success(), "SIGSTOP: {stop:?}");
    wait_for(
        "the watchdog to restart the hung daemon",
        Duration::from_secs(60),
        || {
            let now = m.main_pid();
            now > 0 && now != pid && m.active() == "active"
        },
    );
    assert_ne!(m.show("NRestarts"), restarts, "{}", m.story());
    let hung_alive = m
        .nsenter(&["kill", "-0", &pid.to_string()])
        .status
        .success();
    assert!(!hung_alive, "the hung daemon {pid} survived its restart");
    wait_for("the VIP after the watchdog restart", LIMIT, || m.has_vip());

    // Stop removes the VIP.
    let stop = m.systemctl(&["stop", "rkeepalived.service"]);
    assert!(stop.status.success(), "stop failed:\n{}", m.story());
    assert_eq!(m.active(), "inactive", "{}", m.story());
    assert!(!m.has_vip(), "VIP left behind after stop");
}

fn shipped_net_namespace_dropin() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("systemd/rkeepalived.service.d/net-namespace.conf");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `net_namespace` under the shipped unit: without CAP_SYS_ADMIN the
/// daemon cannot enter the namespace (it exits 0 as keepalived does, and
/// the start fails); with the shipped opt-in drop-in it runs there, VIP and pid
/// files (/run/keepalived/NS/) included, and stop cleans both up.
#[test]
fn net_namespace_under_real_systemd_with_the_shipped_dropin() {
    if !prerequisites(&["unshare", "nsenter", "systemctl"]) {
        return;
    }
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Path(
        SYSTEMD,
        "Debian package `systemd`",
    )]) {
        return;
    }
    let stage = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rkd-systemd-ns-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage).expect("stage");
    // The machine has its own /run: the name cannot collide with the host's.
    let ns = "vipns";
    let m = Machine::boot(
        &stage,
        &shipped_unit(),
        &format!("net_namespace {ns}\n{}", config(VIP, "")),
    );
    for cmd in [
        format!("ip netns add {ns}"),
        format!("ip -n {ns} link add eth0 type veth peer name peer0"),
        format!("ip -n {ns} addr add 192.0.2.2/24 dev eth0"),
        format!("ip -n {ns} link set eth0 up"),
        format!("ip -n {ns} link set peer0 up"),
    ] {
        let out = m.nsenter(&["sh", "-c", &cmd]);
        assert!(out.status.success(), "{cmd}: {out:?}");
    }
    let vip_in_ns = || {
        let out = m.nsenter(&["ip", "-n", ns, "-o", "addr", "show", "dev", "eth0"]);
        String::from_utf8_lossy(&out.stdout).contains(&format!(" {VIP}/"))
    };

    let start = m.systemctl(&["start", "rkeepalived.service"]);
    assert!(
        !start.status.success(),
        "started without CAP_SYS_ADMIN:\n{}",
        m.story()
    );
    // keepalived's exit status after "Unable to set network namespace":
    // 0, before READY=1.
    assert_eq!(m.show("Result"), "protocol", "{}", m.story());
    assert_eq!(m.show("ExecMainStatus"), "0", "{}", m.story());

    std::fs::write(stage.join("ns.conf"), shipped_net_namespace_dropin()).expect("drop-in");
    let cp = format!(
        "cp {}/ns.conf /run/systemd/system/rkeepalived.service.d/net-namespace.conf",
        stage.display()
    );
    assert!(m.nsenter(&["sh", "-c", &cp]).status.success());
    assert!(m.systemctl(&["daemon-reload"]).status.success());
    let _ = m.systemctl(&["reset-failed", "rkeepalived.service"]);
    let start = m.systemctl(&["start", "rkeepalived.service"]);
    assert!(start.status.success(), "start failed:\n{}", m.story());
    assert_eq!(m.active(), "active", "{}", m.story());
    wait_for("the VIP inside the namespace", LIMIT, vip_in_ns);
    assert!(!m.has_vip(), "VIP outside the namespace");
    let pid = m.main_pid();
    let pid_file = format!("/run/keepalived/{ns}/keepalived.pid");
    let recorded = m.nsenter(&["cat", &pid_file]);
    assert_eq!(
        String::from_utf8_lossy(&recorded.stdout).trim(),
        pid.to_string(),
        "{}",
        m.story()
    );

    let stop = m.systemctl(&["stop", "rkeepalived.service"]);
    assert!(stop.status.success(), "stop failed:\n{}", m.story());
    assert!(!vip_in_ns(), "VIP left behind after stop");
    let gone = m.nsenter(&["test", "-e", &format!("/run/keepalived/{ns}")]);
    assert!(!gone.status.success(), "/run/keepalived/{ns} left behind");
}
