//! Issue #12, stateful director failover: established TCP connections
//! survive the crash of the master director when `lvs_sync_daemon` runs
//! (tests/lab/survive.sh; the full-size benchmark with DR, NAT and the
//! no-sync baseline is bench/survive/).
//!
//! One guest boot, LVS-NAT (the harder mode: the real servers' return
//! route follows a gateway VIP in a `vrrp_sync_group` with the service
//! VIP), `lvs_sync_daemon eth2 inst VI_EXT` over a dedicated sync link,
//! [`N`] connections exchanging a line every 100 ms, then a node crash of
//! the master (kill -9 of its daemon, all links down). For rkeepalived:
//! every setup check passes, the backup held (nearly) every connection in
//! its IPVS table before the crash — the sync daemon's doing — and at least
//! 99% of the established connections still echo after the takeover.
//! keepalived 2.2.7 runs the same lab in the same boot; its numbers are
//! printed next to ours, not asserted.

#[path = "lab/harness.rs"]
mod lab;

/// Connections per run (the benchmark uses 200).
const N: u64 = 40;
/// Required surviving fraction of the established connections.
const GOAL: f64 = 0.99;

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

fn num(line: &str, key: &str) -> u64 {
    field(line, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no numeric {key}= in {line}"))
}

#[test]
fn nat_connections_survive_master_crash_with_lvs_sync_daemon() {
    let Some(lab) = lab::require() else { return };
    let root = lab::repo_root();
    let survive = root.join("tests/lab/survive.sh");
    let script = format!(
        "#!/bin/bash\nrc=0\n\
         {s} rkeepalived NAT sync || rc=1\n\
         {s} keepalived NAT sync || true\n\
         exit $rc\n",
        s = survive.display()
    );
    let out = lab.run_script_with(
        &script,
        &lab::RunOptions {
            timeout_s: Some(600),
            env: vec![
                (
                    "RKEEPALIVED_BIN".into(),
                    env!("CARGO_BIN_EXE_rkeepalived").into(),
                ),
                ("LAB_SURVIVE_N".into(), N.to_string()),
                // The outage is ~4 s (takeover + one retransmission).
                ("LAB_SURVIVE_OBSERVE_S".into(), "12".into()),
                ("LAB_SURVIVE_SETTLE_S".into(), "4".into()),
            ],
            ..Default::default()
        },
    );
    let transcript = out.save("conn-survival");
    let results: Vec<&str> = out.lines_with_prefix("LAB-SURVIVE ").collect();
    eprintln!(
        "connection survival, NAT, lvs_sync_daemon (transcript {}):\n{}",
        transcript.display(),
        results.join("\n")
    );
    let theirs = results.iter().find(|l| l.contains("daemon=keepalived "));
    match theirs {
        Some(l) => eprintln!(
            "keepalived 2.2.7: {} of {} established connections survived",
            num(l, "survived"),
            num(l, "established")
        ),
        None => eprintln!("keepalived 2.2.7: no result (see the transcript)"),
    }
    let failed: Vec<&str> = out
        .lines_with_prefix("LAB-CHECK daemon=rkeepalived ")
        .filter(|l| l.contains(" FAIL "))
        .collect();
    let ours = results.iter().find(|l| l.contains("daemon=rkeepalived "));
    let Some(ours) = ours.filter(|_| failed.is_empty() && out.status == 0) else {
        panic!(
            "the rkeepalived run failed (status {}):\n{}\n--- guest output ---\n{}\n--- lab.sh ---\n{}",
            out.status,
            failed.join("\n"),
            out.stdout,
            out.lab_log
        );
    };
    let (established, survived) = (num(ours, "established"), num(ours, "survived"));
    let synced = num(ours, "dir2_conns_before");
    assert_eq!(
        established, N,
        "every connection must be established before the crash: {ours}"
    );
    assert!(
        synced as f64 >= GOAL * N as f64,
        "the backup must hold the connections before the crash (sync daemon): {ours}"
    );
    assert!(
        survived as f64 >= GOAL * established as f64,
        "only {survived} of {established} connections survived the failover: {ours}"
    );
}
