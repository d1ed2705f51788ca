//! Issue #16, active-active directors behind ECMP, on real IPVS
//! (tests/lab/ecmp.sh in the qemu lab; the full-size benchmark with both
//! routers and the comparison with a VRRP pair is bench/ecmp/).
//!
//! One guest boot, reduced size: a client namespace, a router running BIRD
//! with ECMP (`merge paths`, fib_multipath_hash_policy=1) and BFD, three
//! directors each running rkeepalived (mh + mh-port, DR, TCP_CHECK,
//! `announce_route`, sloppy_tcp) and BIRD with conf/bird.conf verbatim,
//! three DR real servers. Every functional row of the script's table must
//! hold (the script exits 1 otherwise):
//!
//! * spread: 200 short connections, no errors, every director gets some;
//! * drain (`--signum=DRAIN`): the router drops the path, 0 new flows reach
//!   the drained director, none of the 30 long-lived connections is reset
//!   and all keep echoing; UNDRAIN brings the path back;
//! * scale-up: a 4th director joins, its path is added, no long-lived
//!   connection is reset, new flows reach all four;
//! * crash (kill -9 of rkeepalived and BIRD, link down): the path is
//!   withdrawn, new connections see no errors afterwards;
//! * service loss (the real servers unreachable from one director only):
//!   that director withdraws, new connections see no errors afterwards.
//!
//! Timing (withdrawal in ms, shares within +-10 %) is printed, not
//! asserted; the crash survival is asserted at a generous 90 % (goal 99 %,
//! the benchmark measures it with 300 connections). BFD runs at 300 ms x 5
//! here: 100 ms x 3 sessions flap on the loaded emulated CPU (the benchmark
//! uses 100 ms x 3 and counts the flaps).

#[path = "lab/harness.rs"]
mod lab;

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

#[test]
fn ecmp_directors_spread_drain_scale_up_crash_and_service_loss() {
    let Some(lab) = lab::require() else { return };
    let missing: Vec<&str> = ["/usr/sbin/bird", "/usr/sbin/birdc"]
        .into_iter()
        .filter(|p| !std::path::Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        // Panics when CI is set, like every other prerequisite.
        rkeepalived_testkit::skip(&format!(
            "the ECMP lab needs BIRD 2 on the host (the guest runs it): missing {missing:?} (apt-get install bird2)"
        ));
        return;
    }
    let ecmp = lab::repo_root().join("tests/lab/ecmp.sh");
    let script = format!(
        "#!/bin/bash\nexport ROUTER=bird DIRECTORS=3 CONNS=200 DURATION=5 LONG=30 OBSERVE_S=8 \
         BFD_MS=300 BFD_MULT=5\nexec {}\n",
        ecmp.display()
    );
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
    let transcript = out.save("ecmp");
    let rows: Vec<&str> = out.lines_with_prefix("ECMP-RESULT ").collect();
    let table: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("| ")).collect();
    eprintln!(
        "ECMP lab (transcript {}):\n{}",
        transcript.display(),
        table.join("\n")
    );
    let failed: Vec<&&str> = rows
        .iter()
        .filter(|l| field(l, "kind") == Some("F") && field(l, "met") == Some("no"))
        .collect();
    assert!(
        out.status == 0 && failed.is_empty() && !rows.is_empty(),
        "ECMP lab failed (status {}):\n{}\n--- guest output ---\n{}\n--- lab.sh ---\n{}",
        out.status,
        failed
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        out.stdout,
        out.lab_log
    );
    // Every scenario ran (a script that stopped early has no rows for the rest).
    for scenario in ["spread", "drain", "scaleup", "crash", "service_loss"] {
        assert!(
            rows.iter().any(|l| field(l, "scenario") == Some(scenario)),
            "no result for {scenario}: {}",
            out.stdout
        );
    }
    let survived = rows
        .iter()
        .find(|l| field(l, "metric") == Some("long_survived"))
        .and_then(|l| field(l, "value"))
        .and_then(|v| v.split('%').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no crash survival row: {}", out.stdout));
    // Only meaningful when the router kept the other paths: a starved
    // emulated CPU can take every BGP/BFD session down at once, and then
    // the connections wait out TCP's back-off instead of moving (the
    // benchmark reports it as `bgp_session_downs_at_router`; the crash
    // itself is one).
    let downs: u64 = rows
        .iter()
        .find(|l| field(l, "metric") == Some("bgp_session_downs_at_router"))
        .and_then(|l| field(l, "value"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if downs <= 1 {
        assert!(
            survived >= 90.0,
            "only {survived}% of the long-lived connections survived the director crash"
        );
    } else {
        eprintln!(
            "crash survival {survived}% not asserted: {downs} BGP session downs at the router \
             (sessions flapped on the loaded emulated CPU)"
        );
    }
}
