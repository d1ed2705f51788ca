//! `-t`, `-d`, `-v`, `--signum`: the one-shot command line modes.

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rkeepalived")
}

use rkeepalived_testkit::TempDir;

fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("run rkeepalived")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const GOOD: &str = "\
global_defs {
    router_id rkd_cli_test
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        192.0.2.100/24
    }
}
";

#[test]
fn version_prints_name_and_exits_zero() {
    for flag in ["-v", "--version"] {
        let out = run(&[flag]);
        assert!(out.status.success(), "{flag}: {out:?}");
        assert!(
            text(&out.stdout).starts_with("rkeepalived v"),
            "{flag}: {}",
            text(&out.stdout)
        );
    }
}

#[test]
fn help_lists_keepalived_flags() {
    let out = run(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for flag in [
        "--use-file",
        "--config-test",
        "--dont-fork",
        "--log-console",
        "--log-detail",
        "--log-facility",
        "--vrrp",
        "--check",
        "--pid",
        "--vrrp_pid",
        "--checkers_pid",
        "--config-id",
        "--dump-conf",
        "--dont-respawn",
        "--no-syslog",
        "--snmp",
        "--status",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
    assert!(!help.contains("--role"), "internal --role must stay hidden");
}

/// keepalived 2.2.7 itself is the oracle: `keepalived --signum=NAME` for
/// every name it knows.
#[test]
fn signum_matches_keepalived() {
    let keepalived = "/usr/sbin/keepalived";
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Path(
        keepalived,
        "keepalived 2.2.7: apt-get install keepalived",
    )]) {
        return;
    }
    for name in ["STOP", "RELOAD", "DATA", "STATS", "STATS_CLEAR", "JSON"] {
        let arg = format!("--signum={name}");
        let theirs = Command::new(keepalived)
            .arg(&arg)
            .output()
            .expect("run keepalived");
        assert!(theirs.status.success(), "keepalived {arg}: {theirs:?}");
        let ours = run(&[&arg]);
        assert!(ours.status.success(), "{arg}: {ours:?}");
        assert_eq!(
            text(&ours.stdout).trim(),
            text(&theirs.stdout).trim(),
            "{name}"
        );
    }
    // Names keepalived does not know (matched case-sensitively; TDUMP only
    // in THREAD_DUMP builds): the same message and exit status.
    for name in ["stop", "Json", "TDUMP", "BOGUS", ""] {
        let arg = format!("--signum={name}");
        let theirs = Command::new(keepalived)
            .arg(&arg)
            .output()
            .expect("run keepalived");
        let ours = run(&[&arg]);
        assert_eq!(ours.status.code(), theirs.status.code(), "{arg}: {ours:?}");
        assert_eq!(text(&ours.stdout), text(&theirs.stdout), "{arg}");
        if !name.is_empty() {
            assert_eq!(text(&ours.stderr), text(&theirs.stderr), "{arg}");
        }
    }
    // And the Linux values, so a keepalived built differently is noticed.
    assert_eq!(text(&run(&["--signum=STATS_CLEAR"]).stdout).trim(), "63");
    assert_eq!(text(&run(&["--signum=JSON"]).stdout).trim(), "36");
}

#[test]
fn config_test_good_config_exits_zero() {
    let dir = TempDir::new("cli-good");
    let conf = dir.write("keepalived.conf", GOOD);
    let out = run(&["-t", "-f", conf.to_str().expect("utf8 path")]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let out = run(&[
        "--config-test",
        "--use-file",
        conf.to_str().expect("utf8 path"),
    ]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
}

fn assert_bad(dir: &TempDir, name: &str, conf_text: &str, line: &str, needle: &str) {
    let conf = dir.write(name, conf_text);
    let out = run(&["-t", "-f", conf.to_str().expect("utf8 path")]);
    assert!(
        !out.status.success(),
        "{name}: a broken config must fail -t"
    );
    let stderr = text(&out.stderr);
    let expected = format!("{}:{line}:", conf.display());
    assert!(
        stderr.contains(&expected),
        "{name}: stderr lacks {expected}:\n{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains(needle),
        "{name}: stderr lacks '{needle}':\n{stderr}"
    );
}

#[test]
fn config_test_bad_configs_report_file_line_col() {
    let dir = TempDir::new("cli-bad");
    let missing = dir.0.join("does-not-exist.conf");
    let out = run(&["-t", "-f", missing.to_str().expect("utf8 path")]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&missing.display().to_string()),
        "{}",
        text(&out.stderr)
    );

    assert_bad(
        &dir,
        "vrid.conf",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n    priority 100\n}\n",
        "3",
        "virtual_router_id",
    );
    assert_bad(
        &dir,
        "dup.conf",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 5\n}\nvrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 6\n}\n",
        "5",
        "defined twice",
    );
}

/// Configs keepalived 2.2.7 runs after a fix-up pass `-t` (exit 0) with the
/// fix-up reported at `file:line:col`, as keepalived does.
#[test]
fn config_test_runs_keepalived_fixups_with_warnings() {
    let dir = TempDir::new("cli-fixups");
    let conf = dir.write(
        "keepalived.conf",
        "vrrp_instance VI_1 {\n    interface eth0\n    state master\n    virtual_router_id 5\n    priority 0\n    virtual_ipaddress {\n        192.0.2.300/24\n        192.0.2.10/24\n    }\n}\n",
    );
    let out = run(&["-t", "-f", conf.to_str().expect("utf8 path")]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{all}");
    for (line, needle) in [
        ("3:11", "unknown state 'master', defaulting to BACKUP"),
        ("5:14", "Using default 100"),
        ("7:9", "VRRP parsed invalid IP 192.0.2.300/24"),
    ] {
        let at = format!("{}:{line}:", conf.display());
        assert!(
            all.lines().any(|l| l.contains(&at) && l.contains(needle)),
            "no {at} '{needle}' in:\n{all}"
        );
    }
}

#[test]
fn config_test_writes_to_log_file_when_given() {
    let dir = TempDir::new("cli-logfile");
    let conf = dir.write(
        "k.conf",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 0\n}\n",
    );
    let log = dir.0.join("test.log");
    let out = run(&[
        &format!("--config-test={}", log.display()),
        "-f",
        conf.to_str().expect("utf8 path"),
    ]);
    assert!(!out.status.success());
    let logged = std::fs::read_to_string(&log).expect("log file written");
    assert!(
        logged.contains(&format!("{}:3:", conf.display())),
        "{logged}"
    );
}

#[test]
fn dump_conf_prints_the_parsed_configuration() {
    let dir = TempDir::new("cli-dump");
    let conf = dir.write("k.conf", GOOD);
    let out = run(&["-t", "-d", "-f", conf.to_str().expect("utf8 path")]);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let dump = text(&out.stdout);
    for needle in ["rkd_cli_test", "VI_1", "192.0.2.100"] {
        assert!(dump.contains(needle), "dump lacks {needle}:\n{dump}");
    }
}

#[test]
fn unknown_flag_is_rejected() {
    let out = run(&["--no-such-flag"]);
    assert!(!out.status.success());
    assert!(!Path::new("/nonexistent").exists());
}

/// A configuration keepalived acts on fully but rkeepalived does not:
/// `native_ipv6` (not supported by rkeepalived).
const NOT_ACTED_ON: &str = "\
global_defs {
    router_id rkd_cli_test
}
SSL {
    password secret
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    native_ipv6
    lvs_sync_daemon_interface eth0
    virtual_ipaddress {
        192.0.2.100/24
    }
}
";

fn last_line(s: &str) -> &str {
    s.trim_end().lines().last().unwrap_or_default()
}

#[test]
fn config_test_ends_with_the_not_acted_on_summary() {
    let dir = TempDir::new("cli-summary");
    let conf = dir.write("k.conf", NOT_ACTED_ON);
    let out = run(&["-t", "-f", conf.to_str().expect("utf8 path")]);
    assert!(out.status.success(), "-t stays permissive: {out:?}");
    let stderr = text(&out.stderr);
    assert_eq!(
        last_line(&stderr),
        "1 keyword parsed but not acted on: native_ipv6",
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("parsed but not acted on:").count(),
        1,
        "exactly one summary line:\n{stderr}"
    );
    // Each occurrence is warned at its position.
    assert!(
        stderr.contains(&format!(
            "{}:12:5: warning: keyword 'native_ipv6' is not supported by rkeepalived; ignored",
            conf.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{}:13:5: warning: (VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated",
            conf.display()
        )),
        "{stderr}"
    );

    // Nothing left out: the line is still there, with 0.
    let good = dir.write("good.conf", GOOD);
    let out = run(&["-t", "-f", good.to_str().expect("utf8 path")]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        last_line(&text(&out.stderr)),
        "0 keywords parsed but not acted on"
    );

    // With a log file the summary goes there too.
    let log = dir.0.join("t.log");
    let out = run(&[
        &format!("--config-test={}", log.display()),
        "-f",
        conf.to_str().expect("utf8 path"),
    ]);
    assert!(out.status.success(), "{out:?}");
    let logged = std::fs::read_to_string(&log).expect("log written");
    assert!(
        last_line(&logged).starts_with("1 keyword parsed but not acted on: "),
        "{logged}"
    );
}

#[test]
fn config_test_strict_fails_on_keywords_not_acted_on() {
    let dir = TempDir::new("cli-strict");
    let conf = dir.write("k.conf", NOT_ACTED_ON);
    let path = conf.to_str().expect("utf8 path");
    for args in [
        vec!["--config-test-strict", "-f", path],
        vec!["-t", "--config-test-strict", "-f", path],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(7), "{args:?}: {out:?}");
        assert!(
            last_line(&text(&out.stderr)).starts_with("1 keyword parsed but not acted on: "),
            "{}",
            text(&out.stderr)
        );
    }
    // A configuration rkeepalived acts on fully passes strict mode.
    let good = dir.write("good.conf", GOOD);
    let out = run(&[
        "--config-test-strict",
        "-f",
        good.to_str().expect("utf8 path"),
    ]);
    assert!(out.status.success(), "{out:?}");
    // Broken stays broken (5), strict or not.
    let bad = dir.write(
        "bad.conf",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n}\n",
    );
    let out = run(&[
        "--config-test-strict",
        "-f",
        bad.to_str().expect("utf8 path"),
    ]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    // `--config-test=strict` keeps keepalived's meaning: a log file "strict".
    let out = Command::new(bin())
        .current_dir(&dir.0)
        .args(["--config-test=strict", "-f", path])
        .output()
        .expect("run rkeepalived");
    assert!(out.status.success(), "{out:?}");
    assert!(dir.0.join("strict").exists(), "log file 'strict' written");
    // ... as keepalived 2.2.7 itself does.
    let keepalived = "/usr/sbin/keepalived";
    if rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Path(
        keepalived,
        "keepalived 2.2.7: apt-get install keepalived",
    )]) {
        let theirs = dir.0.join("theirs");
        std::fs::create_dir_all(&theirs).expect("dir");
        let out = Command::new(keepalived)
            .current_dir(&theirs)
            .args(["--config-test=strict", "-f", path])
            .output()
            .expect("run keepalived");
        assert!(
            theirs.join("strict").exists(),
            "keepalived wrote no file 'strict': {out:?}"
        );
    }
}

/// Debian's `keepalived.conf.conditional_conf` passes `-t` without `-i`, as
/// under keepalived 2.2.7: the script-less `vrrp_script` is removed with
/// its `track_script` reference (warnings), the rest runs.
#[test]
fn config_test_accepts_conditional_conf_without_config_id() {
    let sample = "/usr/share/doc/keepalived/samples/keepalived.conf.conditional_conf";
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Path(
        sample,
        "apt-get install -y keepalived",
    )]) {
        return;
    }
    let out = run(&["-t", "-f", sample]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(
        stderr.contains(
            "No script set for vrrp_script check_VI_0 - removing it (as keepalived does)"
        ),
        "{stderr}"
    );
}

/// `-e`/`--all-config` (keepalived's `include_check_set()`): a missing
/// include, or a glob matching nothing, stops the load with exit status 6
/// (KEEPALIVED_EXIT_NO_CONFIG), under `-t` and at start; without `-e` both
/// are skipped. keepalived 2.2.7 is the oracle for the `-t` status.
#[test]
fn all_config_refuses_missing_includes_like_keepalived() {
    let keepalived = "/usr/sbin/keepalived";
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Path(
        keepalived,
        "keepalived 2.2.7: apt-get install keepalived",
    )]) {
        return;
    }
    let dir = TempDir::new("cli-allconf");
    let missing = dir.0.join("missing.conf");
    let present = dir.write("present.conf", "");
    for (name, include) in [
        ("file", missing.display().to_string()),
        ("glob", dir.0.join("nothing-*.conf").display().to_string()),
        ("present", present.display().to_string()),
    ] {
        let conf = dir.write(
            &format!("main-{name}.conf"),
            &format!("{GOOD}include {include}\n"),
        );
        let conf = conf.display().to_string();
        for e in [true, false] {
            let mut args = vec!["-t"];
            if e {
                args.push("-e");
            }
            args.extend(["-f", &conf]);
            let theirs = Command::new(keepalived)
                .args(&args)
                .output()
                .expect("run keepalived");
            let ours = run(&args);
            assert_eq!(
                ours.status.code(),
                theirs.status.code(),
                "{name} -e={e}: ours {ours:?}, keepalived {theirs:?}"
            );
        }
    }
    // At start too: refused before anything runs.
    let conf = dir.0.join("main-file.conf").display().to_string();
    let pid = dir.0.join("ka.pid").display().to_string();
    let ours = run(&["-n", "-e", "-f", &conf, "-p", &pid, "--no-syslog"]);
    assert_eq!(ours.status.code(), Some(6), "{ours:?}");
    assert!(
        text(&ours.stderr).contains("Config files missing"),
        "{}",
        text(&ours.stderr)
    );
}

/// `-t` checks the instances' interfaces on this host as keepalived 2.2.7
/// does: without `dynamic_interfaces` a missing one is named and fails the
/// test (exit 5, keepalived's too); with it both pass.
#[test]
fn config_test_names_a_missing_interface_like_keepalived() {
    let dir = TempDir::new("cli-missing-if");
    let body = "vrrp_instance VI_1 {\n    interface rkdnosuch0\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.100/24\n    }\n}\n";
    for dynamic in [false, true] {
        let text_conf = if dynamic {
            format!("global_defs {{\n    dynamic_interfaces\n}}\n{body}")
        } else {
            body.to_string()
        };
        let conf = dir.write(&format!("k{dynamic}.conf"), &text_conf);
        let conf = conf.to_str().expect("utf8 path");
        let ours = run(&["-t", "-f", conf]);
        let stderr = text(&ours.stderr);
        let keepalived = Path::new("/usr/sbin/keepalived");
        if keepalived.exists() {
            let theirs = Command::new(keepalived)
                .args(["-t", "-f", conf])
                .output()
                .expect("run keepalived");
            assert_eq!(
                ours.status.code(),
                theirs.status.code(),
                "dynamic={dynamic}: ours {ours:?}, keepalived {theirs:?}"
            );
        }
        if dynamic {
            assert!(ours.status.success(), "{stderr}");
            assert!(!stderr.contains("doesn't exist"), "{stderr}");
        } else {
            assert_eq!(ours.status.code(), Some(5), "{stderr}");
            assert!(
                stderr.contains("interface rkdnosuch0 for vrrp_instance VI_1 doesn't exist"),
                "{stderr}"
            );
            assert!(
                stderr.contains("Non-existent interface specified in configuration"),
                "{stderr}"
            );
        }
    }
}
