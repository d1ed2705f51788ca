//! Stand-alone health checker for labs and benchmarks until the daemon's
//! checker role is used: load a keepalived.conf, run the engine against the
//! kernel's IPVS (or an in-memory table with `--mock`).
//!
//! ```text
//! check-node [--mock] [--dump-on-exit] [--threads N] /etc/keepalived/keepalived.conf
//! ```
//! `--threads 1` (default) runs the engine on a single-threaded runtime,
//! like keepalived's one-thread checker; more threads use tokio's
//! multi-threaded scheduler.
//! Signals: SIGHUP reload, SIGUSR1 state dump, SIGUSR2 stats dump (to
//! stderr), SIGTERM/SIGINT clean stop. Log level via RUST_LOG (default info).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rkeepalived_check::{run_plan, EngineBackend, EngineOptions, KernelIpvs, SharedBackend};
use rkeepalived_config::{load, Control, LoadOptions};
use rkeepalived_ipvs::MockIpvs;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};

fn usage() -> ! {
    eprintln!("usage: check-node [--mock] [--dump-on-exit] [--threads N] CONFIG");
    std::process::exit(2)
}

fn main() -> std::process::ExitCode {
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
    let mut path = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mock" => mock = true,
            "--threads" => {
                args.next();
            }
            "--dump-on-exit" => dump_on_exit = true,
            "-h" | "--help" => usage(),
            _ if path.is_none() => path = Some(PathBuf::from(arg)),
            _ => usage(),
        }
    }
    let Some(path) = path else { usage() };
    let load_config = || match load(&path, &LoadOptions::default()) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            Some(Arc::new(loaded.config))
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
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
    let table = Arc::new(Mutex::new(MockIpvs::new()));
    let backend = if mock {
        EngineBackend::Custom(Box::new(SharedBackend(Arc::clone(&table))))
    } else {
        EngineBackend::Kernel(KernelIpvs::new())
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
