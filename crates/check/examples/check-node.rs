//! Stand-alone health checker for labs and benchmarks until the daemon's
//! checker role is used: load a keepalived.conf, run the engine against the
//! kernel's IPVS (or an in-memory table with `--mock`).
//!
//! ```text
//! check-node [--mock] [--op-log FILE] [--dump-on-exit] [--threads N] [--probe-threads N] /etc/keepalived/keepalived.conf
//! ```
//! `--mock` programs an in-memory table instead of the kernel: it answers
//! dumps with what was programmed, as the kernel would, so the engine's
//! periodic resync finds nothing to do (bench/check/host.sh uses it on this
//! IPVS-less host; the table's memory, which the kernel holds in
//! production, is counted against us there).
//! `--op-log FILE` appends every IPVS op the engine applies to FILE as
//! `<CLOCK_REALTIME ns> <op>`: the benchmarks time detection with it.
//! The configuration is parsed in a short-lived child process (this binary
//! re-executed with `--emit-config-json`) and handed over as JSON, as the
//! daemon's supervisor hands it to its checker role: the parser's
//! transient allocations never inflate the long-running checker.
//! `--threads 1` (default) runs the engine on a single-threaded runtime,
//! like keepalived's one-thread checker; more threads use tokio's
//! multi-threaded scheduler.
//! `--probe-threads N`: helper threads for bursts of due checks (default:
//! one fewer than the cores, at most 3; 0 starts every check from the
//! engine's task; see `rkeepalived_check::set_probe_threads`).
//! Signals: SIGHUP reload, SIGUSR1 state dump, SIGUSR2 stats dump (to
//! stderr), SIGTERM/SIGINT clean stop. Log level via RUST_LOG (default info).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rkeepalived_check::{run_plan, EngineBackend, EngineOptions, KernelIpvs, SharedBackend};
use rkeepalived_config::{load, LoadOptions};
use rkeepalived_control::Control;
use rkeepalived_ipvs::{IpvsBackend, IpvsError, IpvsState, Op, TableIpvs};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};

fn usage() -> ! {
    eprintln!("usage: check-node [--mock] [--op-log FILE] [--dump-on-exit] [--threads N] [--probe-threads N] CONFIG");
    std::process::exit(2)
}

/// Child mode: parse CONFIG and write it to stdout as JSON (warnings to stderr).
fn emit_config_json(path: &str) -> std::process::ExitCode {
    match load(std::path::Path::new(path), &LoadOptions::default()) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            match serde_json::to_writer(
                std::io::BufWriter::new(std::io::stdout().lock()),
                &loaded.config,
            ) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("cannot write the configuration: {e}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Parse `path` in a child process and read the result.
fn load_via_child(path: &std::path::Path) -> Result<rkeepalived_config::Config, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find own executable: {e}"))?;
    let mut child = std::process::Command::new(exe)
        .arg("--emit-config-json")
        .arg(path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the config parser: {e}"))?;
    let stdout = child.stdout.take().ok_or("no parser output")?;
    let parsed = serde_json::from_reader(std::io::BufReader::new(stdout));
    let status = child.wait().map_err(|e| format!("config parser: {e}"))?;
    if !status.success() {
        return Err(format!("{}: configuration rejected", path.display()));
    }
    parsed.map_err(|e| format!("config parser output: {e}"))
}

/// Backend wrapper that timestamps every applied op into a file.
struct OpLog<B> {
    inner: B,
    out: std::fs::File,
}

impl<B> OpLog<B> {
    fn record(&mut self, op: &Op) {
        use std::io::Write;
        let ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let _ = writeln!(self.out, "{ns} {op}");
    }
}

impl<B: IpvsBackend> IpvsBackend for OpLog<B> {
    fn dump(&mut self) -> Result<IpvsState, IpvsError> {
        self.inner.dump()
    }

    fn apply(&mut self, op: &Op) -> Result<(), IpvsError> {
        self.record(op);
        self.inner.apply(op)
    }

    fn apply_batch(&mut self, ops: &[Op]) -> Vec<Result<(), IpvsError>> {
        ops.iter().for_each(|op| self.record(op));
        self.inner.apply_batch(ops)
    }

    fn timeouts(&mut self) -> Result<rkeepalived_ipvs::netlink::Timeouts, IpvsError> {
        self.inner.timeouts()
    }

    fn set_timeouts(&mut self, t: rkeepalived_ipvs::netlink::Timeouts) -> Result<(), IpvsError> {
        self.inner.set_timeouts(t)
    }

    fn start_daemon(&mut self, d: &rkeepalived_ipvs::netlink::SyncDaemon) -> Result<(), IpvsError> {
        self.inner.start_daemon(d)
    }

    fn stop_daemon(&mut self, s: rkeepalived_ipvs::netlink::DaemonState) -> Result<(), IpvsError> {
        self.inner.stop_daemon(s)
    }

    fn active_conns(
        &mut self,
        s: &rkeepalived_ipvs::ServiceKey,
    ) -> Result<Vec<(rkeepalived_ipvs::DestKey, u32)>, IpvsError> {
        self.inner.active_conns(s)
    }
}

fn main() -> std::process::ExitCode {
    let mut raw = std::env::args().skip(1);
    if let (Some("--emit-config-json"), Some(path)) = (raw.next().as_deref(), raw.next()) {
        return emit_config_json(&path);
    }
    let threads = std::env::args()
        .skip_while(|a| a != "--threads")
        .nth(1)
        .map(|n| n.parse::<usize>().unwrap_or_else(|_| usage()))
        .unwrap_or(1);
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    match runtime {
        Ok(rt) => rt.block_on(async_main()),
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn async_main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut mock = false;
    let mut dump_on_exit = false;
    let mut op_log = None;
    let mut path = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mock" => mock = true,
            "--threads" => {
                args.next();
            }
            "--probe-threads" => {
                let n = args.next().and_then(|n| n.parse().ok());
                rkeepalived_check::set_probe_threads(n.unwrap_or_else(|| usage()));
            }
            "--dump-on-exit" => dump_on_exit = true,
            "--op-log" => op_log = Some(args.next().unwrap_or_else(|| usage())),
            "-h" | "--help" => usage(),
            _ if path.is_none() => path = Some(PathBuf::from(arg)),
            _ => usage(),
        }
    }
    let Some(path) = path else { usage() };
    let load_config = || match load_via_child(&path) {
        Ok(config) => Some(Arc::new(config)),
        Err(e) => {
            eprintln!("{e}");
            None
        }
    };
    let Some(config) = load_config() else {
        return std::process::ExitCode::FAILURE;
    };
    let plan = match rkeepalived_check::from_config(&config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    drop(config);
    let table = Arc::new(Mutex::new(TableIpvs::default()));
    let log_file = match op_log.as_deref().map(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
    }) {
        Some(Err(e)) => {
            eprintln!("--op-log: {e}");
            return std::process::ExitCode::FAILURE;
        }
        Some(Ok(f)) => Some(f),
        None => None,
    };
    let backend = match (mock, log_file) {
        (true, None) => EngineBackend::Custom(Box::new(SharedBackend(Arc::clone(&table)))),
        (true, Some(out)) => EngineBackend::Custom(Box::new(OpLog {
            inner: SharedBackend(Arc::clone(&table)),
            out,
        })),
        (false, None) => EngineBackend::Kernel(KernelIpvs::new()),
        (false, Some(out)) => EngineBackend::Custom(Box::new(OpLog {
            inner: KernelIpvs::new(),
            out,
        })),
    };
    let (tx, rx) = mpsc::channel(16);
    let engine = tokio::spawn(run_plan(plan, rx, EngineOptions::new(backend)));
    let (mut hup, mut usr1, mut usr2, mut term, mut int) = match (
        signal(SignalKind::hangup()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::user_defined2()),
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e)) => (a, b, c, d, e),
        _ => {
            eprintln!("cannot install signal handlers");
            return std::process::ExitCode::FAILURE;
        }
    };
    loop {
        tokio::select! {
            _ = hup.recv() => {
                if let Some(c) = load_config() {
                    let _ = tx.send(Control::Reload(c)).await;
                }
            }
            _ = usr1.recv() => {
                let (otx, orx) = oneshot::channel();
                let _ = tx.send(Control::DumpData(otx)).await;
                if let Ok(s) = orx.await { eprint!("{s}"); }
            }
            _ = usr2.recv() => {
                let (otx, orx) = oneshot::channel();
                let _ = tx.send(Control::DumpStats(otx)).await;
                if let Ok(s) = orx.await { eprint!("{s}"); }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    if dump_on_exit {
        let (otx, orx) = oneshot::channel();
        let _ = tx.send(Control::DumpData(otx)).await;
        if let Ok(s) = orx.await {
            eprint!("{s}");
        }
    }
    let _ = tx.send(Control::Stop).await;
    match engine.await {
        Ok(Ok(())) => std::process::ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("engine task failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
