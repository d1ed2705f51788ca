//! `vrrp_track_process` through the kernel's process-event connector, in
//! the initial network namespace (where the kernel delivers process
//! events), without any network traffic: a `sleep` with an argument unique
//! to this run is started, and a shell renaming itself are started and killed three times, and every
//! quorum change (exec, comm, exit events) is reported well under the 1 s
//! `/proc` scan interval of the fallback. keepalived core/track_process.c
//! follows processes the same way. Needs root.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rkeepalived_config::model::{ParamMatch, VrrpTrackProcess};
use rkeepalived_testkit::{prerequisites, Need};
use rkeepalived_vrrp::track_process::{self, connector_available, following_events};
use rkeepalived_vrrp::watch::TrackUpdate;
use tokio::sync::mpsc;

fn def(name: &str, process: &str) -> VrrpTrackProcess {
    VrrpTrackProcess::new(name, process)
}

/// The next update for `name`, and how long it took from `since`.
async fn next(rx: &mut mpsc::Receiver<TrackUpdate>, since: Instant) -> (String, bool, Duration) {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(TrackUpdate::Process { name, up })) => (name, up, since.elapsed()),
        other => panic!("no process update within 5 s: {other:?}"),
    }
}

/// Well under the fallback's 1 s scan: at 1 s polling, three cycles of
/// three changes each would all land this fast only by luck.
const QUICK: Duration = Duration::from_millis(500);

#[test]
fn connector_reports_exec_comm_and_exit_at_once() {
    if !prerequisites(&[
        Need::Root,
        Need::Tool("sleep"),
        Need::That(
            connector_available(),
            "the process event connector (the initial network namespace and a kernel with CONFIG_PROC_EVENTS)",
        ),
    ]) {
        return;
    }
    let pid = std::process::id();
    let arg = format!("3600.{pid}");
    // By full command line: `sleep ARG` exactly.
    let mut by_cmdline = def("by_cmdline", "sleep");
    by_cmdline.full_command = true;
    by_cmdline.params = vec![arg.clone()];
    by_cmdline.param_match = ParamMatch::Exact;
    // By comm: the name the sleep is given through /proc/PID/comm.
    let comm = format!("tpev{}", pid % 100_000);
    let by_comm = def("by_comm", &comm);
    let defs = vec![by_cmdline, by_comm];

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let filters = track_process::initial(&defs);
        assert!(filters.iter().all(|f| !f.have_quorum()));
        let (tx, mut rx) = mpsc::channel(16);
        let h = track_process::spawn(defs, filters, tx);
        let t0 = Instant::now();
        while !following_events() {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "the kernel never confirmed the subscription"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for cycle in 0..3 {
            let started = Instant::now();
            let mut child = Command::new("sleep")
                .arg(&arg)
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn sleep");
            let (name, up, took) = next(&mut rx, started).await;
            assert_eq!((name.as_str(), up), ("by_cmdline", true), "exec");
            eprintln!("cycle {cycle}: exec seen after {took:?}");
            assert!(took < QUICK, "exec reported after {took:?}");

            // Only a process itself may rename itself: a shell that writes
            // its own comm, then waits on its stdin.
            let renamed = Instant::now();
            let mut shell = Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {comm} > /proc/$$/comm; read x"))
                .stdin(Stdio::piped())
                .spawn()
                .expect("spawn sh");
            let (name, up, took) = next(&mut rx, renamed).await;
            assert_eq!((name.as_str(), up), ("by_comm", true), "comm");
            eprintln!("cycle {cycle}: comm change seen after {took:?}");
            assert!(took < QUICK, "comm change reported after {took:?}");

            for (what, proc_) in [("by_cmdline", &mut child), ("by_comm", &mut shell)] {
                let killed = Instant::now();
                proc_.kill().expect("kill");
                proc_.wait().expect("reap");
                let (name, up, took) = next(&mut rx, killed).await;
                assert_eq!((name.as_str(), up), (what, false), "exit");
                eprintln!("cycle {cycle}: exit of {name} seen after {took:?}");
                assert!(took < QUICK, "exit reported after {took:?}");
            }
        }
        assert!(following_events(), "still on the connector, no fallback");
        h.abort();
        let _ = h.await;
    });
}

/// `process_monitor_rcv_bufs` at its smallest, and the engine kept from
/// reading (one runtime thread, busy starting 300 processes): the kernel
/// drops events (ENOBUFS), among them the exec of the tracked process. As
/// keepalived's `reinitialise_track_processes()`, the follower doubles its
/// buffer and scans `/proc` again a second later, so the process is found;
/// events then work again (its exit is reported at once).
#[test]
fn an_overflow_is_recovered_by_a_rescan_and_a_bigger_buffer() {
    if !prerequisites(&[
        Need::Root,
        Need::Tool("sleep"),
        Need::Tool("true"),
        Need::That(
            connector_available(),
            "the process event connector (the initial network namespace and a kernel with CONFIG_PROC_EVENTS)",
        ),
    ]) {
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_test_writer()
        .try_init();
    let arg = format!("3601.{}", std::process::id());
    let mut d = def("overflow", "sleep");
    d.full_command = true;
    d.params = vec![arg.clone()];
    d.param_match = ParamMatch::Exact;
    let defs = vec![d];
    // The process_monitor_rcv_bufs / _force keywords' model fields.
    let g = rkeepalived_config::model::GlobalDefs {
        process_monitor_rcv_bufs: Some(1),
        process_monitor_rcv_bufs_force: true,
        ..Default::default()
    };
    let bufs = track_process::RcvBufs::from_config(&g);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let filters = track_process::initial(&defs);
        let (tx, mut rx) = mpsc::channel(16);
        let h = track_process::spawn_with(defs, filters, tx, bufs);
        let t0 = Instant::now();
        while !following_events() {
            assert!(t0.elapsed() < Duration::from_secs(5), "no events");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Block the only runtime thread: the follower cannot read. Fill
        // its buffer, start the tracked process, and keep going until its
        // exec is surely over (and its event dropped).
        let burst = || {
            for _ in 0..150 {
                Command::new("true").status().expect("true");
            }
        };
        burst();
        let rescans = track_process::overflow_rescans();
        let started = Instant::now();
        let mut child = Command::new("sleep")
            .arg(&arg)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn sleep");
        burst();
        let (name, up, took) = next(&mut rx, started).await;
        assert_eq!((name.as_str(), up), ("overflow", true));
        eprintln!("found after the overflow in {took:?} (its exec event was lost: by the rescan)");
        assert!(
            track_process::overflow_rescans() > rescans,
            "found by the rescan after the overflow"
        );
        let killed = Instant::now();
        child.kill().expect("kill");
        child.wait().expect("reap");
        let (name, up, took) = next(&mut rx, killed).await;
        assert_eq!((name.as_str(), up), ("overflow", false));
        eprintln!("exit seen after {took:?}");
        assert!(took < QUICK, "events work again: {took:?}");
        assert!(following_events(), "no fallback to polling");
        h.abort();
        let _ = h.await;
    });
}
