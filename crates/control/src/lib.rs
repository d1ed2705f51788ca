//! Messages from the role runner (child process main loop) to an engine.
//! A crate of its own so that the config crate (pure parsing) does not
//! depend on tokio.
//!
//! Every engine crate (`rkeepalived-vrrp`, `rkeepalived-check`) exposes
//! `pub async fn run(cfg: Arc<Config>, ctl: mpsc::Receiver<Control>) -> Result<(), Error>`.
//! The role runner turns signals (SIGHUP, SIGTERM, SIGUSR1/2, SIGJSON) and
//! status/metrics requests from the supervisor into these messages.

pub mod delta;
pub mod packed_json;

use std::sync::Arc;

use tokio::sync::oneshot;

use rkeepalived_config::Config;

#[derive(Debug)]
pub enum Control {
    /// Apply a new, already validated configuration (diff-based: unchanged
    /// objects keep their state).
    Reload(Arc<Config>),
    /// Clean stop: VRRP sends priority 0 and removes VIPs; the checker
    /// removes the IPVS entries it owns. `run` returns afterwards.
    Stop,
    /// SIGUSR1: state dump (VRRP: keepalived's /tmp/keepalived.data layout).
    DumpData(oneshot::Sender<String>),
    /// SIGUSR2: statistics dump (VRRP: keepalived's /tmp/keepalived.stats layout).
    DumpStats(oneshot::Sender<String>),
    /// SIGSTATS_CLEAR (SIGRTMAX-1): the statistics dump, then every VRRP
    /// instance's counters reset to zero right after they were written
    /// (keepalived's `vrrp_print_stats(true)`). keepalived's checker never
    /// gets this signal, so the checker only dumps.
    DumpStatsClear(oneshot::Sender<String>),
    /// The engine's JSON state (the status socket, SNMP).
    DumpJson(oneshot::Sender<serde_json::Value>),
    /// SIGJSON: `/tmp/keepalived.json` in keepalived 2.2.7's exact shape
    /// and bytes (vrrp/vrrp_json.c); the checker, which keepalived never
    /// asks, answers with its own JSON state.
    DumpKeepalivedJson(oneshot::Sender<String>),
    /// Prometheus text exposition of this engine's metrics (metric families
    /// prefixed `rkeepalived_`), for the supervisor's /metrics endpoint.
    Metrics(oneshot::Sender<String>),
    /// A `bfd_instance` session this process follows changed state (from
    /// the BFD child; keepalived's bfd event pipe): VRRP `track_bfd`,
    /// checker `BFD_CHECK`. Sent for every session at the process's start.
    Bfd { name: String, up: bool },
    /// rkeepalived extension (`--signum=DRAIN`): the checker withdraws its
    /// announced routes and keeps them withdrawn (checks and IPVS go on);
    /// answers what it did. Other engines answer with an empty string.
    Drain(oneshot::Sender<String>),
    /// `--signum=UNDRAIN`: announce again what the health state wants.
    Undrain(oneshot::Sender<String>),
    /// A delta reload ([`delta`]): only the checker applies them; other
    /// engines ignore it (they are never sent one).
    Delta(delta::DeltaMsg),
}
