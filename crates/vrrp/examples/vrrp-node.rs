//! Minimal VRRP node for tests and benchmarks until the daemon is used:
//!
//! ```text
//! vrrp-node -f CONFIG [--dump PATH]
//! ```
//!
//! CONFIG is a keepalived.conf (loaded with `rkeepalived_config::load`), or a
//! serialized `rkeepalived_config::Config` if it ends in `.json`. SIGTERM /
//! SIGINT -> `Control::Stop` (priority 0, VIPs removed); SIGHUP -> reload the
//! file; SIGUSR1 -> write the JSON state dump to PATH (default
//! /tmp/vrrp-node.<pid>.json).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rkeepalived_config::Config;
use rkeepalived_control::Control;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};

fn load(path: &Path) -> Result<Config, String> {
    if path.extension().is_some_and(|e| e == "json") {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        return serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()));
    }
    let loaded = rkeepalived_config::load(path, &Default::default()).map_err(|e| e.to_string())?;
    for w in &loaded.warnings {
        eprintln!("vrrp-node: warning: {w}");
    }
    Ok(loaded.config)
}

fn usage() -> ! {
    eprintln!("usage: vrrp-node -f CONFIG [--dump PATH]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let mut conf = None;
    let mut dump = PathBuf::from(format!("/tmp/vrrp-node.{}.json", std::process::id()));
    while let Some(a) = args.next() {
        match a.as_str() {
            "-f" | "--use-file" => conf = args.next().map(PathBuf::from),
            "--dump" => dump = args.next().map(PathBuf::from).unwrap_or_else(|| usage()),
            _ => usage(),
        }
    }
    let Some(conf) = conf else { usage() };
    let cfg = match load(&conf) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("vrrp-node: {e}");
            std::process::exit(1);
        }
    };
    let (tx, rx) = mpsc::channel(16);
    let engine = tokio::spawn(rkeepalived_vrrp::run(cfg, rx));
    let (Ok(mut term), Ok(mut int), Ok(mut hup), Ok(mut usr1)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
        signal(SignalKind::user_defined1()),
    ) else {
        eprintln!("vrrp-node: cannot install signal handlers");
        std::process::exit(1);
    };
    let mut engine = engine;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => match load(&conf) {
                Ok(c) => { let _ = tx.send(Control::Reload(Arc::new(c))).await; }
                Err(e) => eprintln!("vrrp-node: reload refused: {e}"),
            },
            _ = usr1.recv() => {
                let (otx, orx) = oneshot::channel();
                let _ = tx.send(Control::DumpJson(otx)).await;
                if let Ok(v) = orx.await {
                    let tmp = dump.with_extension("tmp");
                    if std::fs::write(&tmp, v.to_string()).and_then(|_| std::fs::rename(&tmp, &dump)).is_err() {
                        eprintln!("vrrp-node: cannot write {}", dump.display());
                    }
                }
            }
            res = &mut engine => {
                eprintln!("vrrp-node: engine ended: {res:?}");
                std::process::exit(1);
            }
        }
    }
    let _ = tx.send(Control::Stop).await;
    match engine.await {
        Ok(Ok(())) => {}
        other => {
            eprintln!("vrrp-node: engine ended: {other:?}");
            std::process::exit(1);
        }
    }
}
