//! enable_script_security, performed as an attack on the real daemon:
//! scripts in a world-writable directory, or reached through a root-owned
//! symlink into one, must never run (each would leave a marker file), for
//! vrrp_script, notify_master and MISC_CHECK; scripts with an unknown user
//! must never run (not as root either), and `-t` must fail on both with
//! keepalived's wording. Safe control scripts in the same config prove the
//! daemon does run scripts.

mod daemon_util;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use daemon_util::*;

/// Scratch dir with `safe/` (0755) and `ww/` (0777, no sticky bit).
struct Dirs {
    scratch: Scratch,
    safe: PathBuf,
    ww: PathBuf,
}

impl Dirs {
    fn new(tag: &str) -> Dirs {
        let scratch = Scratch::traversable(tag);
        let safe = scratch.subdir("safe", 0o755);
        let ww = scratch.subdir("ww", 0o777);
        Dirs { scratch, safe, ww }
    }

    /// A root-owned 0755 script in `dir` that creates `markers/<marker>`.
    fn script(&self, dir: &Path, name: &str, marker: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\ntouch {}\nexit 0\n",
                self.marker(marker).display()
            ),
        )
        .expect("write script");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    /// A root-owned symlink in `safe/` to a script in `ww/`.
    fn link_into_ww(&self, name: &str, marker: &str) -> PathBuf {
        let target = self.script(&self.ww, &format!("{name}.real"), marker);
        let link = self.safe.join(name);
        std::os::unix::fs::symlink(target, &link).expect("symlink");
        link
    }

    fn marker(&self, name: &str) -> PathBuf {
        let d = self.scratch.p("markers");
        let _ = std::fs::create_dir_all(&d);
        d.join(name)
    }

    fn ran(&self, name: &str) -> bool {
        self.marker(name).exists()
    }
}

fn config_test(conf: &Path) -> (bool, String) {
    let out = Command::new(bin())
        .args(["-t", "-f", &conf.display().to_string()])
        .output()
        .expect("run -t");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn attack_config(d: &Dirs) -> String {
    let ww_track = d.script(&d.ww, "track.sh", "ww-track");
    let link_track = d.link_into_ww("link-track.sh", "link-track");
    let ok_track = d.script(&d.safe, "ok-track.sh", "ok-track");
    let ww_master = d.script(&d.ww, "master.sh", "ww-master");
    let link_notify = d.link_into_ww("link-notify.sh", "link-notify");
    let ok_master = d.script(&d.safe, "ok-master.sh", "ok-master");
    let link_master = d.link_into_ww("link-master.sh", "link-master");
    let ww_misc = d.script(&d.ww, "misc.sh", "ww-misc");
    let link_misc = d.link_into_ww("link-misc.sh", "link-misc");
    let ok_misc = d.script(&d.safe, "ok-misc.sh", "ok-misc");
    let s = |p: &PathBuf| p.display().to_string();
    format!(
        "global_defs {{
    router_id rkd_test
    script_user root
    enable_script_security
}}
vrrp_script chk_ww {{
    script \"{}\"
    interval 1
}}
vrrp_script chk_link {{
    script \"{}\"
    interval 1
}}
vrrp_script chk_ok {{
    script \"{}\"
    interval 1
}}
vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {{
        192.0.2.50/24
    }}
    track_script {{
        chk_ww
        chk_link
        chk_ok
    }}
    notify_master \"{}\"
    notify \"{}\"
}}
vrrp_instance VI_2 {{
    state MASTER
    interface eth0
    virtual_router_id 52
    priority 150
    advert_int 1
    virtual_ipaddress {{
        192.0.2.51/24
    }}
    notify_master \"{}\"
}}
vrrp_instance VI_3 {{
    state MASTER
    interface eth0
    virtual_router_id 53
    priority 150
    advert_int 1
    virtual_ipaddress {{
        192.0.2.52/24
    }}
    notify_master \"{}\"
}}
virtual_server 192.0.2.100 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 192.0.2.11 80 {{
        MISC_CHECK {{
            misc_path \"{}\"
        }}
    }}
    real_server 192.0.2.12 80 {{
        MISC_CHECK {{
            misc_path \"{}\"
        }}
    }}
    real_server 192.0.2.13 80 {{
        MISC_CHECK {{
            misc_path \"{}\"
        }}
    }}
}}
",
        s(&ww_track),
        s(&link_track),
        s(&ok_track),
        s(&ww_master),
        s(&link_notify),
        s(&ok_master),
        s(&link_master),
        s(&ww_misc),
        s(&link_misc),
        s(&ok_misc),
    )
}

#[test]
fn insecure_scripts_are_never_executed() {
    if !prerequisites(&[]) {
        return;
    }
    let d = Dirs::new("scriptsec");
    let conf = d.scratch.write("keepalived.conf", &attack_config(&d));

    // -t reports every refused script at its block, with keepalived's words.
    let (ok, out) = config_test(&conf);
    assert!(!ok, "-t must fail on refused scripts:\n{out}");
    for needle in [
        "Disabling track script chk_ww due to insecure",
        "Disabling track script chk_link due to insecure",
        "(VI_1) notify_master: Unsafe permissions found for script",
        "(VI_1) notify: Unsafe permissions found for script",
        "(VI_3) notify_master: Unsafe permissions found for script",
        "Disabling misc script",
    ] {
        assert!(out.contains(needle), "-t lacks '{needle}':\n{out}");
    }
    assert!(!out.contains("chk_ok"), "{out}");
    assert!(
        out.contains(&format!("{}:6:1: error:", conf.display())),
        "file:line of vrrp_script chk_ww:\n{out}"
    );
    assert_eq!(out.matches("Disabling misc script").count(), 2, "{out}");

    // The daemon runs without them: the safe scripts run, the others never.
    let ns = Netns::new("scriptsec");
    let daemon = Daemon::start(&ns, &d.scratch, &[], &[]);
    wait_for("the safe scripts to run", LIMIT, || {
        d.ran("ok-track") && d.ran("ok-master") && d.ran("ok-misc")
    });
    // A few more intervals for anything that would still run.
    std::thread::sleep(Duration::from_secs(3));
    for marker in [
        "ww-track",
        "link-track",
        "ww-master",
        "link-notify",
        "link-master",
        "ww-misc",
        "link-misc",
    ] {
        assert!(!d.ran(marker), "insecure script '{marker}' was executed");
    }
    // VI_1 still became MASTER: the refused track scripts were removed, not failing.
    wait_for("VI_1's VIP", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.50") == 1
    });

    // Reload: the supervisor checks the new configuration too. chk_ok now
    // points into the world-writable directory.
    let ww_reload = d.script(&d.ww, "reload.sh", "ww-reload");
    let ok_track = d.safe.join("ok-track.sh").display().to_string();
    let text = std::fs::read_to_string(&conf).expect("read conf");
    std::fs::write(
        &conf,
        text.replace(&ok_track, &ww_reload.display().to_string()),
    )
    .expect("rewrite conf");
    daemon.signal("HUP");
    wait_for("the reload to refuse chk_ok", LIMIT, || {
        daemon
            .log()
            .contains("Disabling track script chk_ok due to insecure")
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(!d.ran("ww-reload"), "insecure script ran after a reload");
}

#[test]
fn keepalived_refuses_the_same_scripts() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let d = Dirs::new("scriptsec-ka");
    let conf = d.scratch.write("keepalived.conf", &attack_config(&d));
    let ns = Netns::new("scriptsec-ka");
    let out = ns.exec(&["keepalived", "-t", "-f", &conf.display().to_string()]);
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    for needle in [
        "Disabling track script chk_ww due to insecure",
        "Disabling track script chk_link due to insecure",
    ] {
        assert!(
            text.contains(needle),
            "keepalived -t lacks '{needle}':\n{text}"
        );
    }
    assert!(!text.contains("chk_ok"), "{text}");

    // keepalived running the same configuration (VRRP only: no IPVS here)
    // runs the safe scripts and none of the others, like us.
    let s = |n: &str| d.scratch.p(n).display().to_string();
    let mut ka = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "keepalived",
            "-n",
            "-l",
            "-D",
            "-P",
        ])
        .args(["-f", &conf.display().to_string()])
        .args([
            "-p",
            &s("ka.pid"),
            "-r",
            &s("ka-vrrp.pid"),
            "-c",
            &s("ka-check.pid"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn keepalived");
    let ran = || d.ran("ok-track") && d.ran("ok-master");
    let start = std::time::Instant::now();
    while !ran() && start.elapsed() < LIMIT {
        std::thread::sleep(Duration::from_millis(100));
    }
    if ran() {
        std::thread::sleep(Duration::from_secs(3));
    }
    let _ = Command::new("kill")
        .args(["-TERM", &ka.id().to_string()])
        .status();
    let _ = ka.wait();
    assert!(ran(), "keepalived did not run the safe scripts");
    for marker in [
        "ww-track",
        "link-track",
        "ww-master",
        "link-notify",
        "link-master",
    ] {
        assert!(!d.ran(marker), "keepalived ran insecure script '{marker}'");
    }
    let (_, ours) = config_test(&conf);
    for needle in [
        "Disabling track script chk_ww due to insecure",
        "Disabling track script chk_link due to insecure",
    ] {
        assert!(ours.contains(needle), "{ours}");
    }
}

#[test]
fn unknown_script_user_fails_config_test_and_never_runs_as_root() {
    if !prerequisites(&[]) {
        return;
    }
    let d = Dirs::new("scriptuser");
    let track = d.script(&d.safe, "track.sh", "unknown-track");
    let notify = d.script(&d.safe, "notify.sh", "unknown-notify");
    let ok = d.script(&d.safe, "ok.sh", "ok-master");
    let user = format!("rkd-no-such-user-{}", std::process::id());
    let conf = d.scratch.write(
        "keepalived.conf",
        &format!(
            "global_defs {{
    router_id rkd_test
    script_user root
    enable_script_security
}}
vrrp_script chk_user {{
    script \"{}\"
    interval 1
    user {user}
}}
vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {{
        192.0.2.50/24
    }}
    track_script {{
        chk_user
    }}
    notify_master \"{}\" {user}
    notify \"{}\"
}}
",
            track.display(),
            notify.display(),
            ok.display()
        ),
    );
    let (passed, out) = config_test(&conf);
    assert!(!passed, "-t must fail on an unknown user:\n{out}");
    assert!(
        out.contains(&format!(
            "Unable to set uid/gid for script {}",
            track.display()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("Script user '{user}' does not exist")),
        "{out}"
    );
    assert!(
        out.contains("(VI_1) Invalid user/group for notify_master script"),
        "{out}"
    );

    let ns = Netns::new("scriptuser");
    let _daemon = Daemon::start(&ns, &d.scratch, &[], &[]);
    wait_for("the control notify script", LIMIT, || d.ran("ok-master"));
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !d.ran("unknown-track"),
        "vrrp_script with an unknown user ran"
    );
    assert!(
        !d.ran("unknown-notify"),
        "notify_master with an unknown user ran"
    );
}
