//! Real-kernel IPVS tests: boot the lab guest (tests/lab/lab.sh, Debian
//! 6.1 kernel under qemu) once and run `tests/lab/compare.sh`, which checks
//! rk-ipvsadm against ipvsadm 1.31 for every scheduler, forwarding method,
//! tunnel type and family, the reconciler against hand edits, config
//! get/set, zeroing and sync daemons. See that script for the checks.
//!
//! Missing prerequisites skip with a reason, or FAIL when `CI` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// Fail in CI, skip (with the reason printed and recorded) elsewhere.
fn missing(reason: &str) {
    rkeepalived_testkit::skip(&format!("lab prerequisite missing: {reason}"));
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// target/<profile>/examples/rk-ipvsadm next to this test binary; built on demand.
fn rk_ipvsadm() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate target dir")?;
    let bin = profile_dir.join("examples/rk-ipvsadm");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "rkeepalived-ipvs", "--example", "rk-ipvsadm"])
            .status()
            .map_err(|e| format!("cargo build: {e}"))?;
        if !status.success() || !bin.exists() {
            return Err(format!("could not build {}", bin.display()));
        }
    }
    Ok(bin)
}

#[test]
fn rk_ipvsadm_matches_ipvsadm_on_real_ipvs() {
    let root = workspace_root();
    let lab = root.join("tests/lab/lab.sh");
    if !lab.exists() {
        return missing("tests/lab/lab.sh not found");
    }
    for tool in ["qemu-system-x86_64", "ipvsadm", "busybox", "cpio"] {
        if !have(tool) {
            return missing(&format!("{tool} not installed (apt-get install -y qemu-system-x86 ipvsadm busybox-static cpio)"));
        }
    }
    let rk = match rk_ipvsadm() {
        Ok(p) => p,
        Err(e) => return missing(&e),
    };
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab");
    let out = Command::new(&lab)
        .arg("run")
        .arg(here.join("compare.sh"))
        .arg(&rk)
        .arg(here.join("commands.txt"))
        .env(
            "LAB_TIMEOUT",
            std::env::var("LAB_TIMEOUT").unwrap_or_else(|_| "600".into()),
        )
        .current_dir(&root)
        .output()
        .expect("run lab.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    let code = out.status.code();
    // lab.sh uses 124/125 for "guest did not run the script" (boot/timeout).
    if matches!(code, Some(124) | Some(125)) && !stdout.contains("SUMMARY") {
        if stderr.contains("cannot determine kernel version") || stderr.contains("apt-get download")
        {
            return missing(
                "lab kernel not available (run tests/lab/lab.sh build with network access)",
            );
        }
        panic!("lab guest failed to boot or timed out (exit {code:?})");
    }
    assert!(stdout.contains("SUMMARY"), "compare.sh printed no summary");
    assert!(!stdout.contains("FAIL "), "some lab checks failed");
    assert_eq!(code, Some(0), "compare.sh exit status");
}
