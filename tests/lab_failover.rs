//! Issue #6: two-director LVS failover labs in the real-kernel lab
//! (tests/lab/failover.sh, README there). For each daemon, one guest boot
//! runs the DR, NAT and TUN labs: steady traffic, master crash -> backup
//! takes over, web server killed -> its checker removes it, SIGHUP reload of
//! another service -> no loss. Per-phase losses are printed (LAB-RESULT);
//! the functional checks (LAB-CHECK) must all pass.

#[path = "lab/harness.rs"]
mod lab;

const MODES: &[&str] = &["DR", "NAT", "TUN"];

fn run_failover_labs(daemon: &str) {
    let Some(lab) = lab::require() else { return };
    let root = lab::repo_root();
    let mut script = String::from("#!/bin/bash\nrc=0\n");
    for mode in MODES {
        script.push_str(&format!(
            "{root}/tests/lab/failover.sh {daemon} {mode} || rc=1\n",
            root = root.display()
        ));
    }
    script.push_str("exit $rc\n");
    let out = lab.run_script_with(
        &script,
        &lab::RunOptions {
            timeout_s: Some(900),
            env: vec![(
                "RKEEPALIVED_BIN".into(),
                env!("CARGO_BIN_EXE_rkeepalived").into(),
            )],
            ..Default::default()
        },
    );
    let transcript = out.save(&format!("failover-{daemon}"));
    let results: Vec<&str> = out.lines_with_prefix("LAB-RESULT ").collect();
    let failed: Vec<&str> = out
        .lines_with_prefix("LAB-CHECK ")
        .filter(|l| l.contains(" FAIL "))
        .collect();
    eprintln!(
        "{daemon} failover labs, requests lost per phase (transcript {}):\n{}",
        transcript.display(),
        results.join("\n")
    );
    for mode in MODES {
        let passed = out
            .lines_with_prefix("LAB-CHECK ")
            .any(|l| l.contains(&format!("mode={mode} ")));
        assert!(
            passed,
            "{daemon} {mode}: the lab produced no checks (status {}):\n{}\n{}",
            out.status, out.stdout, out.lab_log
        );
    }
    assert!(
        failed.is_empty() && out.status == 0,
        "{daemon} failover labs failed (status {}):\n{}\n--- per-phase results ---\n{}\n--- full guest output ---\n{}\n--- lab.sh ---\n{}",
        out.status,
        failed.join("\n"),
        results.join("\n"),
        out.stdout,
        out.lab_log
    );
}

/// The lab is valid: the reference keepalived 2.2.7 passes every phase.
#[test]
fn keepalived_failover_dr_nat_tun() {
    run_failover_labs("keepalived");
}

/// Our daemon, same configs and phases.
#[test]
fn rkeepalived_failover_dr_nat_tun() {
    run_failover_labs("rkeepalived");
}
