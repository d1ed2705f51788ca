//! The shipped unit file: `systemd-analyze verify` accepts it, and it keeps
//! the properties the supervisor relies on (notify protocol, SIGTERM to the
//! main process only, reload by SIGHUP, address families).

use std::path::PathBuf;
use std::process::Command;

fn unit_text() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("systemd/rkeepalived.service");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn directive(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_owned)
        .collect()
}

#[test]
fn unit_keeps_the_supervisor_contract() {
    let text = unit_text();
    assert_eq!(directive(&text, "Type"), ["notify"]);
    assert_eq!(
        directive(&text, "KillMode"),
        ["mixed"],
        "SIGTERM must reach the supervisor only"
    );
    assert!(directive(&text, "ExecStart")
        .iter()
        .any(|e| e.contains("--dont-fork")));
    assert!(directive(&text, "ExecReload")
        .iter()
        .any(|e| e.contains("kill -HUP $MAINPID")));
    // keepalived's own option files first (Debian, RHEL), ours last (wins).
    assert_eq!(
        directive(&text, "EnvironmentFile"),
        [
            "-/etc/default/keepalived",
            "-/etc/sysconfig/keepalived",
            "-/etc/default/rkeepalived"
        ]
    );
    for exec in ["ExecStartPre", "ExecStart"] {
        assert!(
            directive(&text, exec)
                .iter()
                .all(|e| e.contains("$DAEMON_ARGS") && e.contains("$KEEPALIVED_OPTIONS")),
            "{exec} must pass Debian's DAEMON_ARGS and RHEL's KEEPALIVED_OPTIONS"
        );
    }
    assert_eq!(
        directive(&text, "RestartPreventExitStatus"),
        ["5"],
        "a config error (exit 5) must not be restarted in a loop"
    );
    assert_eq!(directive(&text, "LimitNOFILE"), ["65536"]);
    assert_eq!(
        directive(&text, "PrivateTmp"),
        ["no"],
        "dump files go to the real /tmp"
    );
    let families = directive(&text, "RestrictAddressFamilies").join(" ");
    for fam in ["AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET", "AF_UNIX"] {
        assert!(
            families.split_whitespace().any(|f| f == fam),
            "{fam} missing: {families}"
        );
    }
    let caps = directive(&text, "CapabilityBoundingSet").join(" ");
    for cap in ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SETUID", "CAP_SETGID"] {
        assert!(caps.contains(cap), "{cap} missing: {caps}");
    }
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let have = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::That(
        have,
        "systemd-analyze (Debian package `systemd`)",
    )]) {
        return;
    }
    // verify checks that ExecStart binaries exist: point them at the one
    // cargo just built.
    let dir = std::env::temp_dir().join(format!("rkd-unit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let unit = dir.join("rkeepalived.service");
    std::fs::write(
        &unit,
        unit_text().replace("/usr/sbin/rkeepalived", env!("CARGO_BIN_EXE_rkeepalived")),
    )
    .expect("write unit");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .expect("run systemd-analyze");
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let about_us: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("rkeepalived"))
        .collect();
    assert!(
        out.status.success() && about_us.is_empty(),
        "systemd-analyze verify: {stderr}"
    );
}
