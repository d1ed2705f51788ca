//! `rkeepalived -t` on configurations that used to block or grow without
//! bound: an include of a FIFO or /dev/zero, an oversized file, runaway
//! include nesting, a megabyte of garbage.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rkeepalived")
}

use rkeepalived_testkit::TempDir;

/// Run `cmd`, failing the test (and killing it) if it takes over 30 s.
fn run_bounded(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("rkeepalived -t did not return within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn config_test(conf: &std::path::Path) -> (bool, String) {
    let mut cmd = Command::new(bin());
    cmd.arg("-t").arg("-f").arg(conf);
    let out = run_bounded(cmd);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const GOOD: &str = "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100/24
    }
}
";

#[test]
fn include_of_a_fifo_or_dev_zero_returns_promptly_with_a_warning() {
    let t = TempDir::new("cli-bounds-fifo");
    let fifo = t.0.join("fifo.conf");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let conf = t.write(
        "keepalived.conf",
        &format!("{GOOD}include {}\ninclude /dev/zero\n", fifo.display()),
    );
    let (ok, err) = config_test(&conf);
    assert!(ok, "{err}");
    let at = |line: u32| format!("{}:{line}:9: warning: Configuration file", conf.display());
    assert!(
        err.contains(&format!(
            "{} '{}' is not a regular non-executable file - skipping",
            at(8),
            fifo.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{} '/dev/zero' is not a regular non-executable file - skipping",
            at(9)
        )),
        "{err}"
    );
}

/// A config file over 64 MiB is refused by its size, before it is read:
/// `-t` fails with a clear error and its peak RSS stays small.
#[test]
fn oversized_config_is_refused_with_bounded_memory() {
    let t = TempDir::new("cli-bounds-big");
    let conf = t.0.join("keepalived.conf");
    std::fs::File::create(&conf)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();
    // GNU time (scripts/setup-deps.sh) reports the peak RSS in KiB.
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "maxrss_kib=%M", bin(), "-t", "-f"])
        .arg(&conf);
    let out = run_bounded(cmd);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "{}:0:0: configuration larger than 64 MiB in total",
            conf.display()
        )),
        "{err}"
    );
    let kib: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss in {err}"));
    assert!(kib < 32 * 1024, "peak RSS {kib} KiB");
}

#[test]
fn deep_include_recursion_is_a_clear_error() {
    let t = TempDir::new("cli-bounds-deep");
    for i in 0..50 {
        t.write(&format!("d{i}.conf"), &format!("include d{}.conf\n", i + 1));
    }
    t.write("d50.conf", GOOD);
    // And a file that includes itself.
    let own = t.write("self.conf", "include self.conf\n");
    let (ok, err) = config_test(&t.0.join("d0.conf"));
    assert!(!ok);
    assert!(
        err.contains("includes nested deeper than 32 levels"),
        "{err}"
    );
    let (ok, err) = config_test(&own);
    assert!(!ok);
    assert!(err.contains("include loop"), "{err}");
}

/// A megabyte of garbage: the first 100 errors, then "... and N more".
#[test]
fn garbage_config_diagnostics_are_capped() {
    let t = TempDir::new("cli-bounds-garbage");
    let garbage = rkeepalived_testkit::garbage_config();
    let conf = t.0.join("keepalived.conf");
    std::fs::write(&conf, &garbage).unwrap();
    let (ok, err) = config_test(&conf);
    assert!(!ok);
    let prefix = format!("{}:", conf.display());
    let diags: Vec<&str> = err.lines().filter(|l| l.starts_with(&prefix)).collect();
    assert_eq!(diags.len(), 101, "{}", diags.len());
    assert!(
        diags[100].contains("more errors not shown (first 100 reported)"),
        "{}",
        diags[100]
    );
}
