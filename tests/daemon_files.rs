//! Every file the daemon creates or opens for writing is symlink-safe: each
//! test plants, as an unprivileged user would in a shared directory, a
//! symlink (or a wrong file) at a path the daemon writes, and checks that
//! the root-owned target is untouched and the refusal is logged (the class
//! of keepalived's CVE-2018-19044/19045/19046). Needs root (netns).

mod daemon_util;

use std::os::unix::fs::{symlink, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::process::Command;

use daemon_util::*;

const SECRET: &str = "root:x:0:0:root:/root:/bin/bash\n";

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("stat {}: {e}", p.display()))
        .mode()
        & 0o7777
}

fn is_regular(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file())
}

fn running(d: &Daemon, role: &str) -> bool {
    d.status()
        .is_some_and(|s| s["children"][role]["state"] == "running")
}

/// A root-owned "system file" the attacker points the symlinks at.
fn secret(scratch: &Scratch) -> std::path::PathBuf {
    let target = scratch.write("passwd", SECRET);
    assert_eq!(std::fs::metadata(&target).expect("stat").uid(), 0);
    target
}

fn fifo_config(notify_fifo: &Path, vrrp_notify_fifo: &Path) -> String {
    config(
        "192.0.2.100",
        &format!(
            "    notify_fifo {}\n    vrrp_notify_fifo {}\n",
            notify_fifo.display(),
            vrrp_notify_fifo.display()
        ),
    )
}

#[test]
fn notify_fifo_symlink_and_regular_file_are_refused() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("fifolink");
    let scratch = Scratch::new("fifolink");
    let target = secret(&scratch);
    let link = scratch.p("notify.fifo");
    symlink(&target, &link).expect("plant symlink");
    let regular = scratch.write("vrrp.fifo", "a user's file\n");
    scratch.write("keepalived.conf", &fifo_config(&link, &regular));
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_for("VRRP master with its VIP", LIMIT, || {
        running(&d, "vrrp") && ns.addr_count("eth0", "192.0.2.100") == 1
    });
    // The transition to MASTER was notified (to nobody): give the write a moment.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(std::fs::read_to_string(&target).expect("read"), SECRET);
    assert_eq!(
        std::fs::read_to_string(&regular).expect("read"),
        "a user's file\n"
    );
    assert!(std::fs::symlink_metadata(&link)
        .expect("link")
        .file_type()
        .is_symlink());
    let log = d.log();
    assert!(
        log.contains("unable to open notify fifo")
            && log.contains("is a symbolic link: refusing to follow it"),
        "{log}"
    );
    assert!(
        log.contains("is a regular file, not a FIFO: refusing to use it"),
        "{log}"
    );
    assert!(running(&d, "vrrp"), "a refused FIFO is not fatal");
}

/// One daemon run with `-u 0`: a FIFO owned by another user is refused, our
/// own FIFO works, and every file the daemon creates has keepalived's mode
/// (never 0666/0777), with symlinks planted at the dump and pid-file paths.
#[test]
fn foreign_fifo_refused_and_created_files_are_private_with_umask_zero() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("filemodes");
    let scratch = Scratch::new("filemodes");
    let target = secret(&scratch);
    let target_mode = mode(&target);
    let foreign = scratch.p("notify.fifo");
    nix::unistd::mkfifo(&foreign, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).expect("chown nobody");
    let ours = scratch.p("vrrp.fifo");
    scratch.write("keepalived.conf", &fifo_config(&foreign, &ours));
    for planted in [
        "keepalived.data",
        "keepalived_check.data",
        "keepalived.stats",
        "keepalived.json",
        "keepalived.pid",
        "vrrp.pid",
        "checkers.pid",
    ] {
        symlink(&target, scratch.p(planted)).expect("plant symlink");
    }
    let log_file = scratch.p("k.log");
    let d = Daemon::start(
        &ns,
        &scratch,
        &["-u", "0", "-g", &log_file.display().to_string()],
        &[],
    );
    wait_for("both children", LIMIT, || {
        running(&d, "vrrp") && running(&d, "checker")
    });
    wait_for("VIP", LIMIT, || ns.addr_count("eth0", "192.0.2.100") == 1);

    // Our FIFO carries keepalived's line; the foreign one was never opened.
    let mut fifo = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&ours)
        .expect("open our fifo");
    let mut got = String::new();
    wait_for("MASTER line on the FIFO", LIMIT, || {
        let mut buf = [0u8; 512];
        if let Ok(n) = std::io::Read::read(&mut fifo, &mut buf) {
            got.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        got.contains("INSTANCE \"VI_1\" MASTER 150\n")
    });
    assert_eq!(mode(&ours), 0o600);
    assert!(
        d.log()
            .contains("is owned by uid 65534, not by uid 0: refusing to use it"),
        "{}",
        d.log()
    );

    d.signal("USR1");
    d.signal("USR2");
    let json = String::from_utf8_lossy(&sh(&[bin(), "--signum=JSON"]).stdout)
        .trim()
        .to_string();
    d.signal(&json);
    for f in [
        "keepalived.data",
        "keepalived_check.data",
        "keepalived.stats",
        "keepalived.json",
    ] {
        wait_for(f, LIMIT, || is_regular(&scratch.p(f)));
        assert_eq!(mode(&scratch.p(f)), 0o600, "{f}: dumps are 0600");
    }
    for f in ["keepalived.pid", "vrrp.pid", "checkers.pid"] {
        assert!(is_regular(&scratch.p(f)), "{f} replaced the symlink");
        assert_eq!(mode(&scratch.p(f)), 0o644, "{f}: pid files are 0644");
    }
    assert_eq!(mode(&log_file), 0o600, "-g log file");
    assert!(std::fs::metadata(&log_file).expect("log").len() > 0);
    assert_eq!(mode(&scratch.p("status.sock")), 0o660);
    assert_eq!(std::fs::read_to_string(&target).expect("read"), SECRET);
    assert_eq!(
        mode(&target),
        target_mode,
        "the target's mode is untouched too"
    );
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&scratch.dir)
        .expect("ls")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn log_file_symlink_refuses_to_start() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("logfile");
    let scratch = Scratch::new("logfile");
    let target = secret(&scratch);
    let link = scratch.p("k.log");
    symlink(&target, &link).expect("plant");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let mut d = Daemon::start(&ns, &scratch, &["-g", &link.display().to_string()], &[]);
    let st = d.wait_exit(LIMIT);
    assert!(!st.success(), "{st:?}");
    assert_eq!(std::fs::read_to_string(&target).expect("read"), SECRET);
    assert!(
        d.log()
            .contains("is a symbolic link: refusing to follow it"),
        "{}",
        d.log()
    );
    assert_eq!(ns.addr_count("eth0", "192.0.2.100"), 0, "nothing started");
}

#[test]
fn status_socket_path_holding_a_file_refuses_to_start_and_keeps_it() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("sockfile");
    let scratch = Scratch::new("sockfile");
    let file = scratch.write("status.sock", "precious\n");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let mut d = Daemon::start(&ns, &scratch, &[], &[]);
    let st = d.wait_exit(LIMIT);
    assert!(!st.success(), "{st:?}");
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), "precious\n");
    assert!(
        d.log()
            .contains("is a regular file, not a socket: refusing to remove it"),
        "{}",
        d.log()
    );
    assert!(!scratch.p("keepalived.pid").exists(), "pid file removed");
}

/// `-t=FILE` (no daemon, no network): keepalived opens it O_NOFOLLOW and
/// exits when it cannot.
#[test]
fn config_test_log_symlink_is_refused() {
    let dir = std::env::temp_dir().join(format!("rkd-tlog-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let target = dir.join("passwd");
    std::fs::write(&target, SECRET).expect("target");
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, config("192.0.2.100", "")).expect("conf");
    let link = dir.join("t.log");
    symlink(&target, &link).expect("plant");
    let out = Command::new(bin())
        .arg("-f")
        .arg(&conf)
        .arg(format!("--config-test={}", link.display()))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&target).expect("read"), SECRET);
    let _ = std::fs::remove_dir_all(&dir);
}
