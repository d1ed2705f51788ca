//! The notify FIFO lines and the notify scripts' arguments, byte for byte
//! against keepalived 2.2.7 (vrrp/vrrp_notify.c `notify_fifo`,
//! `notify_script_exec`, `send_instance_notifies`): the same config runs
//! under both, each in its own network namespace, through the same events
//! (start, BACKUP -> MASTER, stop). Needs root.

mod daemon_util;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use daemon_util::*;

/// A FIFO at `path` and a thread collecting everything written to it until
/// the last writer closes it (the daemon exits).
fn fifo_reader(path: &Path) -> std::thread::JoinHandle<Vec<u8>> {
    let out = sh(&["mkfifo", "-m", "0600", &path.display().to_string()]);
    assert!(out.status.success(), "mkfifo: {out:?}");
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Ok(mut f) = std::fs::File::open(&path) {
            let _ = f.read_to_end(&mut buf);
        }
        buf
    })
}

fn script(dir: &Path, name: &str, out: &Path) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            // One append per call: scripts run concurrently.
            "#!/bin/sh\nline=\"{name}\"\nfor a in \"$@\"; do line=\"$line [$a]\"; done\necho \"$line\" >> {out}\n",
            out = out.display()
        ),
    )
    .expect("script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

fn config(dir: &Path, who: &str, group: bool) -> String {
    let out = dir.join(format!("calls-{who}"));
    let s = |n: &str| {
        script(dir, &format!("{n}-{who}.sh"), &out)
            .display()
            .to_string()
    };
    let (notify, master, backup, stop) = (s("notify"), s("master"), s("backup"), s("stop"));
    let fifo = dir.join(format!("fifo-{who}")).display().to_string();
    let sync_group = if group {
        let (gnotify, gmaster, gbackup, gstop) =
            (s("gnotify"), s("gmaster"), s("gbackup"), s("gstop"));
        format!(
            "vrrp_sync_group G1 {{
    group {{
        VI_1
    }}
    notify \"{gnotify} g\"
    notify_master {gmaster}
    notify_backup {gbackup}
    notify_stop {gstop}
}}
"
        )
    } else {
        String::new()
    };
    format!(
        "global_defs {{
    router_id rkd_notify
    script_user root
    enable_script_security
    notify_fifo {fifo}
}}
{sync_group}vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    notify \"{notify} first 'two words'\"
    notify_master \"{master} m1\"
    notify_backup {backup}
    notify_stop {stop}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
"
    )
}

/// Script calls with the per-daemon suffix removed, sorted (notify scripts
/// run concurrently, so only the set of calls is comparable).
fn calls(dir: &Path, who: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(dir.join(format!("calls-{who}")))
        .unwrap_or_default()
        .lines()
        .map(|l| l.replace(&format!("-{who}.sh"), ".sh"))
        .collect();
    v.sort();
    v
}

#[test]
fn fifo_lines_and_script_arguments_match_keepalived() {
    compare("notifyfid", false);
}

/// The same with the instance in a sync group: GROUP lines and the group's
/// scripts too.
#[test]
fn sync_group_fifo_lines_and_script_arguments_match_keepalived() {
    compare("notifygrp", true);
}

fn compare(tag: &str, group: bool) {
    if !prerequisites(&["keepalived", "mkfifo"]) {
        return;
    }
    let scratch = Scratch::new(tag);
    std::fs::set_permissions(&scratch.dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let dir = scratch.dir.clone();
    let ka_ns = Netns::new(&format!("{tag}-ka"));
    let rk_ns = Netns::new(&format!("{tag}-rk"));
    let ka_fifo = fifo_reader(&dir.join("fifo-ka"));
    let rk_fifo = fifo_reader(&dir.join("fifo-rk"));
    let ka_conf = scratch.write("ka.conf", &config(&dir, "ka", group));
    scratch.write("keepalived.conf", &config(&dir, "rk", group));

    let ka = spawn_keepalived(&ka_ns, &scratch, &ka_conf, &["-P", "-G"], "ka.log");
    let mut rk = Daemon::start(&rk_ns, &scratch, &["-P"], &[]);
    wait_for("both MASTER (VIP)", LIMIT, || {
        ka_ns.addr_count("eth0", "192.0.2.100") == 1 && rk_ns.addr_count("eth0", "192.0.2.100") == 1
    });
    // Let the MASTER notify scripts finish.
    wait_for("notify_master ran under both", LIMIT, || {
        calls(&dir, "ka").iter().any(|l| l.starts_with("master"))
            && calls(&dir, "rk").iter().any(|l| l.starts_with("master"))
    });
    drop(ka);
    rk.signal("TERM");
    assert!(rk.wait_exit(LIMIT).success());
    let ka_lines = ka_fifo.join().expect("ka fifo");
    let rk_lines = rk_fifo.join().expect("rk fifo");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(
        text(&ka_lines).contains("INSTANCE \"VI_1\" MASTER 150\n"),
        "keepalived's FIFO: {:?}",
        text(&ka_lines)
    );
    assert_eq!(
        text(&rk_lines),
        text(&ka_lines),
        "FIFO lines, ours vs keepalived 2.2.7"
    );
    // The stop scripts run last; give them a moment under both.
    wait_for("notify_stop ran under both", LIMIT, || {
        calls(&dir, "ka").iter().any(|l| l.starts_with("stop"))
            && calls(&dir, "rk").iter().any(|l| l.starts_with("stop"))
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        calls(&dir, "rk"),
        calls(&dir, "ka"),
        "notify script calls (program and arguments), ours vs keepalived 2.2.7"
    );
}
