//! The BFD child's engine (`rkeepalived --role bfd`): keepalived 2.2.7's
//! bfd process (bfd/bfd_daemon.c `start_bfd()` / `reload_bfd_thread()`)
//! running the `bfd_instance` sessions with [`rkeepalived_bfd::BfdEngine`]
//! and reporting every state change to the supervisor, which relays it to
//! the VRRP and checker children (keepalived writes each event to one pipe
//! per process, bfd/bfd_event.c `bfd_event_send()`).

use std::fmt::Write as _;
use std::sync::Arc;

use rkeepalived_bfd::{BfdEngine, SessionConfig, SessionState};
use rkeepalived_config::model::default_ttl;
use rkeepalived_config::Config;
use rkeepalived_control::Control;
use tokio::sync::mpsc;

use crate::engines::EngineError;
use crate::ipc::{BfdState, FromChild};

/// The sessions the engine runs: [`Config::bfd_sessions`] (disabled
/// instances left out, as keepalived's bfd process leaves them out).
pub fn session_configs(cfg: &Config) -> Vec<SessionConfig> {
    cfg.bfd_sessions()
        .into_iter()
        .map(|spec| {
            let s = spec.session;
            let mut c = SessionConfig::new(spec.name, s.neighbor_ip);
            c.source = s.source_ip;
            c.min_rx_us = s.min_rx_us;
            c.min_tx_us = s.min_tx_us;
            c.idle_tx_us = s.idle_tx_us;
            c.multiplier = s.multiplier;
            c.passive = s.passive;
            // The model keeps keepalived's effective ttl; only a value
            // other than keepalived's default is "configured" (the engine
            // then sends 255, see crates/bfd/README.md).
            c.ttl = (s.ttl != default_ttl(&s.neighbor_ip)).then_some(s.ttl);
            c.max_hops = s.max_hops;
            c
        })
        .collect()
}

/// Runs the sessions of `cfg` until [`Control::Stop`]; each state change
/// goes to `out` as [`FromChild::Bfd`].
pub async fn run(
    cfg: Arc<Config>,
    mut ctl: mpsc::Receiver<Control>,
    out: mpsc::Sender<FromChild>,
) -> Result<(), EngineError> {
    let mut cfg = cfg;
    let (handle, mut events) = BfdEngine::spawn(session_configs(&cfg))?;
    tracing::info!(sessions = cfg.bfd_sessions().len(), "BFD engine started");
    loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else {
                    tracing::error!("BFD engine stopped");
                    return Ok(());
                };
                let state = BfdState::now(ev.name, ev.state == SessionState::Up);
                if out.send(FromChild::Bfd(state)).await.is_err() {
                    return Ok(());
                }
            }
            msg = ctl.recv() => match msg {
                None | Some(Control::Stop) => {
                    handle.shutdown();
                    return Ok(());
                }
                Some(Control::Reload(new)) => {
                    // bfd_daemon.c reload_bfd_thread() -> bfd_complete_init():
                    // sessions kept by name keep their state.
                    handle.reconfigure(session_configs(&new));
                    cfg = new;
                }
                Some(Control::DumpData(tx)) => {
                    let _ = tx.send(dump_data(&cfg, &handle).await);
                }
                Some(Control::DumpStats(tx) | Control::DumpStatsClear(tx)) => {
                    let _ = tx.send(dump_stats(&handle));
                }
                Some(Control::DumpJson(tx)) => {
                    let _ = tx.send(dump_json(&handle).await);
                }
                Some(Control::DumpKeepalivedJson(tx)) => {
                    let _ = tx.send(format!("{:#}\n", dump_json(&handle).await));
                }
                Some(Control::Metrics(tx)) => {
                    let _ = tx.send(metrics(&handle).await);
                }
                Some(Control::Bfd { .. }) => {}
                // Route announcement is the checker's; answer as the VRRP engine does.
                Some(Control::Drain(tx) | Control::Undrain(tx)) => {
                    let _ = tx.send(String::new());
                }
                // Delta reloads are the checker's.
                Some(Control::Delta(_)) => {}
            }
        }
    }
}

/// keepalived_bfd.data: the `BFD Topology` section, each session followed
/// by its running state.
async fn dump_data(cfg: &Config, handle: &rkeepalived_bfd::BfdHandle) -> String {
    let mut out = rkeepalived_dump::bfd::bfd_topology(cfg);
    for s in handle.sessions().await {
        let _ = writeln!(out, " BFD Instance = {} (running)", s.name);
        let _ = writeln!(out, "   Local state = {}", s.state.as_str());
        let _ = writeln!(out, "   Remote state = {}", s.remote_state.as_str());
        let _ = writeln!(out, "   Local discriminator = 0x{:08x}", s.local_discr);
        let _ = writeln!(out, "   Remote discriminator = 0x{:08x}", s.remote_discr);
        let _ = writeln!(out, "   TX interval = {} us", s.tx_interval_us);
        let _ = writeln!(out, "   Detection time = {} us", s.detect_time_us);
    }
    out
}

fn dump_stats(handle: &rkeepalived_bfd::BfdHandle) -> String {
    let c = handle.counters();
    let mut out = String::new();
    let _ = writeln!(out, "BFD packets received = {}", c.received());
    let _ = writeln!(out, "BFD packets sent = {}", c.sent());
    let _ = writeln!(out, "BFD send errors = {}", c.send_errors());
    for (reason, n) in c.snapshot() {
        let _ = writeln!(out, "BFD packets dropped ({}) = {n}", reason.name());
    }
    out
}

async fn dump_json(handle: &rkeepalived_bfd::BfdHandle) -> serde_json::Value {
    let sessions: Vec<serde_json::Value> = handle
        .sessions()
        .await
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "state": s.state.as_str(),
                "remote_state": s.remote_state.as_str(),
                "local_discriminator": s.local_discr,
                "remote_discriminator": s.remote_discr,
                "tx_interval_us": s.tx_interval_us,
                "detect_time_us": s.detect_time_us,
            })
        })
        .collect();
    let c = handle.counters();
    serde_json::json!({
        "sessions": sessions,
        "received": c.received(),
        "sent": c.sent(),
        "send_errors": c.send_errors(),
        "dropped": c
            .snapshot()
            .into_iter()
            .map(|(r, n)| (r.name().to_string(), serde_json::Value::from(n)))
            .collect::<serde_json::Map<_, _>>(),
    })
}

async fn metrics(handle: &rkeepalived_bfd::BfdHandle) -> String {
    let mut out = String::new();
    out.push_str("# HELP rkeepalived_bfd_session_up Whether the BFD session is Up.\n");
    out.push_str("# TYPE rkeepalived_bfd_session_up gauge\n");
    for s in handle.sessions().await {
        let up = u8::from(s.state == rkeepalived_bfd::State::Up);
        let _ = writeln!(
            out,
            "rkeepalived_bfd_session_up{{session=\"{}\"}} {up}",
            s.name.replace('\\', "\\\\").replace('"', "\\\"")
        );
    }
    let c = handle.counters();
    out.push_str(
        "# HELP rkeepalived_bfd_packets_received_total Valid BFD control packets received.\n",
    );
    out.push_str("# TYPE rkeepalived_bfd_packets_received_total counter\n");
    let _ = writeln!(
        out,
        "rkeepalived_bfd_packets_received_total {}",
        c.received()
    );
    out.push_str("# HELP rkeepalived_bfd_packets_sent_total BFD control packets sent.\n");
    out.push_str("# TYPE rkeepalived_bfd_packets_sent_total counter\n");
    let _ = writeln!(out, "rkeepalived_bfd_packets_sent_total {}", c.sent());
    out.push_str("# HELP rkeepalived_bfd_packets_dropped_total BFD packets dropped, by reason.\n");
    out.push_str("# TYPE rkeepalived_bfd_packets_dropped_total counter\n");
    for (reason, n) in c.snapshot() {
        let _ = writeln!(
            out,
            "rkeepalived_bfd_packets_dropped_total{{reason=\"{}\"}} {n}",
            reason.name()
        );
    }
    out
}
