//! `-x` / `--snmp`: the AgentX subagent serving KEEPALIVED-MIB, run by the
//! supervisor (keepalived runs it in its VRRP and checker children; here the
//! supervisor already answers for both through the status query, so one
//! subagent serves the whole tree). The master agent's socket is `-A`, else
//! net-snmp's default `unix:/var/agentx/master`, as in keepalived.
//!
//! Each request is answered from a snapshot (at most 1 s old) built from the
//! running configuration and the engines' status JSON. A poller compares a
//! fresh snapshot every second with the previous one and sends keepalived's
//! notifications (vrrpInstanceStateChange, vrrpSyncGroupStateChange,
//! realServerStateChange), only with `enable_traps`, as keepalived.
//!
//! The subagent runs with `-x` (every MIB, keepalived's `snmp_option`) or
//! when the configuration enables a MIB (`enable_snmp_vrrp`,
//! `enable_snmp_checker`, `enable_snmp_rfcv2`, `enable_snmp_rfcv3`); it
//! registers KEEPALIVED-MIB for the first two and the RFC MIBs for the
//! others. The master socket is `-A`, else `snmp_socket`, else net-snmp's
//! default.

use std::sync::Arc;
use std::time::Duration;

use rkeepalived_snmp::keepalived_mib::{self, Live};
use rkeepalived_snmp::subagent::{self, MasterSocket, Settings, Snapshot};
use rkeepalived_snmp::Mib;
use tokio::sync::{mpsc, watch};

use crate::cli::Cli;
use crate::ipc::ConfigWire;
use crate::metrics_http::Exposition;
use rkeepalived_config::Config;

/// The running subagent; stops when dropped.
pub struct Agent {
    /// The running configuration, decoded once per load (the snapshots,
    /// one a second for the notifications, read it).
    config: watch::Sender<Arc<Config>>,
    task: tokio::task::JoinHandle<()>,
    poller: tokio::task::JoinHandle<()>,
    /// Notifications to the master (kept open: closing it ends the session).
    _traps: mpsc::Sender<Vec<rkeepalived_snmp::agentx::VarBind>>,
}

/// Whether the subagent runs: `-x`, or a MIB enabled in `global_defs`.
pub fn wanted(cli: &Cli, global_defs: &rkeepalived_config::model::GlobalDefs) -> bool {
    cli.snmp || global_defs.snmp.any()
}

/// The `-A` socket, else the default.
pub fn master_socket(cli: &Cli) -> MasterSocket {
    match &cli.snmp_agent_socket {
        Some(p) => MasterSocket::parse(&p.to_string_lossy()),
        None => MasterSocket::parse(subagent::DEFAULT_SOCKET),
    }
}

/// keepalived's version.0 is "Keepalived v2.2.7 (01/16,2022)".
pub fn version_string() -> String {
    format!("rkeepalived v{}", env!("CARGO_PKG_VERSION"))
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

fn ifindex(name: &str) -> Option<u32> {
    nix::net::if_::if_nametoindex(name).ok()
}

impl Agent {
    /// Starts the subagent when `-x` is given or the configuration enables
    /// an SNMP MIB. Decided from `global_defs` first: only a subagent that
    /// runs needs the model decoded from `wire` (at keepalived issue #2318
    /// size, 34 MB of JSON inflated and decoded on the supervisor's start
    /// path before any child was spawned; bench/scale/README.md, "Startup
    /// and reload under systemd").
    pub fn start<E: Exposition>(
        cli: &Cli,
        source: Arc<E>,
        global_defs: &rkeepalived_config::model::GlobalDefs,
        wire: &ConfigWire,
    ) -> Option<Agent> {
        if !wanted(cli, global_defs) {
            return None;
        }
        let cfg = match wire.config() {
            Ok(c) => Arc::new(c),
            Err(e) => {
                if cli.snmp {
                    tracing::error!(
                        "SNMP: cannot decode the running configuration: {e}; no subagent"
                    );
                }
                return None;
            }
        };
        let mut opts = cfg.global_defs.snmp.clone();
        if cli.snmp {
            // keepalived core/global_data.c: `-x` enables every MIB.
            opts.vrrp = true;
            opts.checker = true;
            opts.rfcv2 = true;
            opts.rfcv3 = true;
        }
        if !opts.any() {
            return None;
        }
        let socket = match (&cli.snmp_agent_socket, &opts.socket) {
            (None, Some(s)) => MasterSocket::parse(s),
            _ => master_socket(cli),
        };
        tracing::info!("Starting SNMP subagent (master agent {socket})");
        let (config, config_rx) = watch::channel(cfg);
        let snapshot: Snapshot = Arc::new(move || {
            let source = source.clone();
            let cfg = config_rx.borrow().clone();
            Box::pin(async move {
                let status = source.status_json().await;
                let version = version_string();
                let host = hostname();
                let live = Live {
                    status: Some(&status),
                    version: &version,
                    hostname: &host,
                    ifindex: Some(&ifindex),
                };
                keepalived_mib::build(&cfg, &live)
            })
        });
        let settings = Settings {
            socket,
            subtrees: [
                (
                    (opts.vrrp || opts.checker),
                    keepalived_mib::keepalived_oid(),
                ),
                (opts.rfcv2, rkeepalived_snmp::vrrp_mib::vrrp_mib_oid()),
                (opts.rfcv3, rkeepalived_snmp::vrrp_mib::vrrpv3_mib_oid()),
            ]
            .into_iter()
            .filter_map(|(on, oid)| on.then_some(oid))
            .collect(),
            descr: "rkeepalived".into(),
            retry: Duration::from_secs(15),
        };
        let (traps, traps_rx) = mpsc::channel(64);
        // keepalived sends notifications only with `enable_traps`.
        let poller = if opts.traps {
            tokio::spawn(poll_traps(snapshot.clone(), traps.clone()))
        } else {
            tokio::spawn(std::future::pending::<()>())
        };
        let task = tokio::spawn(subagent::run(settings, snapshot, traps_rx));
        Some(Agent {
            config,
            task,
            poller,
            _traps: traps,
        })
    }

    /// A reload: later snapshots use the new configuration.
    pub fn set_config(&self, wire: &ConfigWire) {
        match wire.config() {
            Ok(c) => {
                self.config.send_replace(Arc::new(c));
            }
            Err(e) => tracing::warn!(
                "SNMP: cannot decode the reloaded configuration: {e}; serving the previous one"
            ),
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.poller.abort();
        self.task.abort();
    }
}

/// Every second: a fresh snapshot, compared with the previous one.
async fn poll_traps(
    snapshot: Snapshot,
    traps: mpsc::Sender<Vec<rkeepalived_snmp::agentx::VarBind>>,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prev: Option<Mib> = None;
    loop {
        tick.tick().await;
        let now = snapshot().await;
        if let Some(prev) = &prev {
            for t in rkeepalived_snmp::traps::diff(prev, &now) {
                // A full queue (no session) drops the notification, as
                // net-snmp does without a master.
                let _ = traps.try_send(t);
            }
        }
        prev = Some(now);
    }
}
