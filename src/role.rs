//! A role child (`rkeepalived --role vrrp|checker`): receives the validated
//! config from the supervisor over the inherited socket, runs the engine,
//! and turns supervisor requests and signals into `Control` messages.

use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Duration;

use rkeepalived_config::Config;
use rkeepalived_control::Control;
use tokio::net::UnixStream;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};

use crate::cli::Role;
use crate::engines::EngineError;
use crate::ipc::{self, FromChild, IpcError, Query, Reply, ToChild};
use crate::process_options::ProcessSettings;

/// The `vrrp_*` or `checker_*` process options of `role`.
fn process_options(role: Role, config: &Config) -> &rkeepalived_config::model::ProcessOptions {
    match role {
        Role::Vrrp => &config.global_defs.vrrp_process,
        Role::Checker => &config.global_defs.checker_process,
        Role::Bfd => &config.global_defs.bfd_process,
    }
}

/// How long an engine may take to answer a dump/metrics request.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an engine may take for a clean stop before the child gives up.
pub const ENGINE_STOP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("ipc descriptor {0} is not a usable socket: {1}")]
    BadIpcFd(RawFd, std::io::Error),
    #[error("supervisor ipc: {0}")]
    Ipc(#[from] IpcError),
    #[error("supervisor sent {0} before Start")]
    NoStart(&'static str),
    #[error("cannot install signal handler: {0}")]
    Signal(std::io::Error),
    #[error("{role} engine failed: {source}")]
    Engine {
        role: Role,
        #[source]
        source: EngineError,
    },
    #[error("{0} engine did not stop within its timeout")]
    StopTimeout(Role),
}

/// Takes ownership of the inherited IPC descriptor.
pub fn ipc_stream_from_fd(fd: RawFd) -> Result<UnixStream, RoleError> {
    let std_stream =
        crate::sys::take_inherited_socket(fd).map_err(|e| RoleError::BadIpcFd(fd, e))?;
    std_stream
        .set_nonblocking(true)
        .map_err(|e| RoleError::BadIpcFd(fd, e))?;
    UnixStream::from_std(std_stream).map_err(|e| RoleError::BadIpcFd(fd, e))
}

/// Runs a role child to completion.
pub async fn run_role(role: Role, stream: UnixStream) -> Result<(), RoleError> {
    let (mut rd, wr) = stream.into_split();
    let config: Config = match ipc::read_to_child(&mut rd).await? {
        Some(ToChild::Start(cfg)) => cfg.into_config()?,
        Some(ToChild::Reload(_)) => return Err(RoleError::NoStart("Reload")),
        Some(ToChild::Stop) => return Ok(()),
        Some(ToChild::Request { .. }) => return Err(RoleError::NoStart("Request")),
        Some(ToChild::Bfd(_)) => return Err(RoleError::NoStart("Bfd")),
        Some(ToChild::ReloadDelta(_)) => return Err(RoleError::NoStart("ReloadDelta")),
        Some(ToChild::ConfigDigest(_)) => return Err(RoleError::NoStart("ConfigDigest")),
        None => return Err(RoleError::Ipc(IpcError::Closed)),
    };

    let (out_tx, writer, mut in_rx, reader) = spawn_ipc(rd, wr);

    let mut sigterm = signal(SignalKind::terminate()).map_err(RoleError::Signal)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(RoleError::Signal)?;
    // Reload/dumps come from the supervisor; a stray HUP/USR1/USR2 (e.g. sent
    // to the whole process group) must not kill the child by default action.
    let mut sighup = signal(SignalKind::hangup()).map_err(RoleError::Signal)?;
    let mut sigusr1 = signal(SignalKind::user_defined1()).map_err(RoleError::Signal)?;
    let mut sigusr2 = signal(SignalKind::user_defined2()).map_err(RoleError::Signal)?;
    // RLIMIT_RTTIME's soft limit (process_options.rs) sends SIGXCPU.
    let mut sigxcpu = signal(SignalKind::from_raw(libc::SIGXCPU)).map_err(RoleError::Signal)?;
    let mut process_settings = ProcessSettings::default();
    process_settings.apply(role, process_options(role, &config));
    crate::process_names::apply_start(&config.global_defs.identity, Some(role));
    // net_namespace_ipvs: fixed at start (a reload cannot change it).
    rkeepalived_ipvs::netns::set_ipvs_namespace(
        config.global_defs.identity.net_namespace_ipvs.clone(),
    );
    let mut identity = config.global_defs.identity.clone();
    // A checker's clean stop includes announce_drain_delay (rkeepalived_check::announce).
    let mut drain_delay = config.global_defs.announce.drain_delay();
    crate::process_options::configure_auto_priority(
        &mut process_settings,
        role,
        &config.global_defs,
    );
    let mut late_wakeups = crate::process_options::LateWakeups::new(role);

    match role {
        Role::Vrrp => {
            crate::recovery::sweep_stale_vips(&config).await;
        }
        Role::Checker => {
            crate::recovery_ipvs::sweep_stale_ipvs(&config);
        }
        Role::Bfd => {}
    }
    let (ctl_tx, ctl_rx) = mpsc::channel::<Control>(64);
    let config = crate::engines::engine_config(role, config);
    let mut engine = tokio::spawn(crate::engines::run_engine(
        role,
        Arc::new(config),
        ctl_rx,
        out_tx.clone(),
    ));
    let _ = out_tx
        .send(FromChild::Ready {
            pid: std::process::id(),
        })
        .await;
    tracing::info!(%role, pid = std::process::id(), "{role} child started");

    let result = loop {
        tokio::select! {
            msg = in_rx.recv() => match msg {
                Some(Ok(ToChild::Stop)) => {
                    tracing::info!(%role, "stop requested by supervisor");
                    break stop_engine(role, &ctl_tx, &mut engine, drain_delay).await;
                }
                Some(Ok(ToChild::Reload(cfg))) => match cfg.into_config() {
                    Ok(cfg) => {
                        reload(role, cfg, &mut process_settings, &mut identity, &mut drain_delay, &ctl_tx, &out_tx).await;
                    }
                    Err(e) => tracing::error!(%role, "reload: bad configuration from supervisor: {e}; keeping the running one"),
                },
                Some(Ok(ToChild::Request { id, query })) => {
                    let out = out_tx.clone();
                    let ctl = ctl_tx.clone();
                    tokio::spawn(async move {
                        let reply = ask_engine(&ctl, query).await;
                        let _ = out.send(FromChild::Reply { id, reply }).await;
                    });
                }
                // keepalived vrrp_bfd.c / check_bfd.c read_bfd_event_thread().
                Some(Ok(ToChild::Bfd(s))) => {
                    log_bfd_event(role, &s);
                    let _ = ctl_tx.send(Control::Bfd { name: s.name, up: s.up }).await;
                }
                Some(Ok(ToChild::ReloadDelta(delta))) => {
                    crate::reload_delta::child_reload(role, *delta, &ctl_tx, &out_tx).await;
                }
                Some(Ok(ToChild::ConfigDigest(digest))) => {
                    let _ = ctl_tx.send(Control::Delta(rkeepalived_control::delta::DeltaMsg::Digest(digest))).await;
                }
                Some(Ok(ToChild::Start(_))) => tracing::warn!(%role, "ignoring a second Start from the supervisor"),
                Some(Err(IpcError::Closed)) => {
                    tracing::warn!(%role, "supervisor went away; stopping cleanly");
                    break stop_engine(role, &ctl_tx, &mut engine, drain_delay).await;
                }
                Some(Err(e)) => {
                    tracing::error!(%role, "bad message from supervisor: {e}; stopping cleanly");
                    break stop_engine(role, &ctl_tx, &mut engine, drain_delay).await;
                }
                None => break stop_engine(role, &ctl_tx, &mut engine, drain_delay).await,
            },
            _ = sigterm.recv() => break stop_engine(role, &ctl_tx, &mut engine, drain_delay).await,
            _ = sigint.recv() => break stop_engine(role, &ctl_tx, &mut engine, drain_delay).await,
            _ = sighup.recv() => tracing::debug!(%role, "SIGHUP ignored in child: reloads come from the supervisor"),
            _ = sigusr1.recv() => tracing::debug!(%role, "SIGUSR1 ignored in child: send it to the supervisor"),
            _ = sigusr2.recv() => tracing::debug!(%role, "SIGUSR2 ignored in child: send it to the supervisor"),
            // lib/scheduler.c: a timer fired late, raise the priority.
            _ = late_wakeups.recv() => {
                process_settings.increment(role);
            }
            // lib/signals.c log_sigxcpu.
            _ = sigxcpu.recv() => log_sigxcpu(role),
            res = &mut engine => break engine_returned(role, res),
        }
    };

    let error = result.as_ref().err().map(|e| e.to_string());
    let _ = out_tx.send(FromChild::Stopped { error }).await;
    drop(out_tx);
    // Let the final frame reach the supervisor, bounded.
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    reader.abort();
    result
}

/// The IPC tasks of a child: a writer sending what the returned sender
/// gets to the supervisor, and a reader forwarding the supervisor's frames
/// (then the error or close that ends them) to the returned receiver.
#[allow(clippy::type_complexity)]
fn spawn_ipc(
    mut rd: tokio::net::unix::OwnedReadHalf,
    mut wr: tokio::net::unix::OwnedWriteHalf,
) -> (
    mpsc::Sender<FromChild>,
    tokio::task::JoinHandle<()>,
    mpsc::Receiver<Result<ToChild, IpcError>>,
    tokio::task::JoinHandle<()>,
) {
    let (out_tx, mut out_rx) = mpsc::channel::<FromChild>(64);
    let writer = tokio::spawn(async move {
        while let Some(msg) = out_rx.recv().await {
            if let Err(e) = ipc::write_frame(&mut wr, &msg).await {
                tracing::debug!("ipc write to supervisor failed: {e}");
                break;
            }
        }
    });
    let (in_tx, in_rx) = mpsc::channel::<Result<ToChild, IpcError>>(64);
    let reader = tokio::spawn(async move {
        loop {
            let item = match ipc::read_to_child(&mut rd).await {
                Ok(Some(m)) => Ok(m),
                Ok(None) => Err(IpcError::Closed),
                Err(e) => Err(e),
            };
            let end = item.is_err();
            if in_tx.send(item).await.is_err() || end {
                break;
            }
        }
    });
    (out_tx, writer, in_rx, reader)
}

/// A reload from the supervisor: the child's process options, names and
/// drain delay, then the engine's new configuration.
async fn reload(
    role: Role,
    cfg: Config,
    process_settings: &mut ProcessSettings,
    identity: &mut rkeepalived_config::model::DaemonIdentity,
    drain_delay: &mut Duration,
    ctl_tx: &mpsc::Sender<Control>,
    out_tx: &mpsc::Sender<FromChild>,
) {
    tracing::info!(%role, "reloading configuration");
    // vrrp_daemon.c reload_vrrp_thread / check_daemon.c
    // reload_check_thread: reset, then start_* sets the
    // new options.
    process_settings.reset(role);
    process_settings.apply(role, process_options(role, &cfg));
    crate::process_names::apply_reload(identity, &cfg.global_defs.identity, Some(role));
    *identity = cfg.global_defs.identity.clone();
    *drain_delay = cfg.global_defs.announce.drain_delay();
    crate::process_options::configure_auto_priority(process_settings, role, &cfg.global_defs);
    let cfg = crate::engines::engine_config(role, cfg);
    if ctl_tx.send(Control::Reload(Arc::new(cfg))).await.is_ok() {
        let _ = out_tx.send(FromChild::Reloaded).await;
    }
}

/// A BFD state from the supervisor, logged with -D.
fn log_bfd_event(role: Role, s: &crate::ipc::BfdState) {
    if crate::engines::log_detail() {
        // vrrp_scheduler.c vrrp_handle_bfd_event(),
        // check_bfd.c bfd_check_handle_event() with -D.
        let delivered = crate::ipc::unix_us().saturating_sub(s.sent_unix_us);
        tracing::info!(
            %role,
            "Received BFD event: instance {} is in state {} (delivered in {delivered} usec)",
            s.name,
            if s.up { "Up" } else { "Down" }
        );
    }
}

/// lib/signals.c log_sigxcpu.
fn log_sigxcpu(role: Role) {
    tracing::info!(
        %role,
        "{} process has used too much CPU time, {}_rlimit_rttime may need to be increased",
        match role {
            Role::Vrrp => "VRRP",
            Role::Checker => "Checker",
            Role::Bfd => "BFD",
        },
        role.as_str()
    );
}

/// The engine task ended without a stop request.
fn engine_returned(
    role: Role,
    res: Result<Result<(), EngineError>, tokio::task::JoinError>,
) -> Result<(), RoleError> {
    match res {
        Ok(Ok(())) => {
            tracing::warn!(%role, "{role} engine returned without being asked to stop");
            Ok(())
        }
        Ok(Err(source)) => Err(RoleError::Engine { role, source }),
        Err(join) => Err(RoleError::Engine {
            role,
            source: join.into(),
        }),
    }
}

async fn stop_engine(
    role: Role,
    ctl: &mpsc::Sender<Control>,
    engine: &mut tokio::task::JoinHandle<Result<(), EngineError>>,
    drain_delay: Duration,
) -> Result<(), RoleError> {
    if engine.is_finished() {
        return match engine.await {
            Ok(r) => r.map_err(|source| RoleError::Engine { role, source }),
            Err(e) => Err(RoleError::Engine {
                role,
                source: e.into(),
            }),
        };
    }
    let _ = ctl.send(Control::Stop).await;
    match tokio::time::timeout(ENGINE_STOP_TIMEOUT + drain_delay, &mut *engine).await {
        Ok(Ok(r)) => r.map_err(|source| RoleError::Engine { role, source }),
        Ok(Err(e)) => Err(RoleError::Engine {
            role,
            source: e.into(),
        }),
        Err(_) => {
            engine.abort();
            Err(RoleError::StopTimeout(role))
        }
    }
}

/// Forwards one query to the engine and waits for its answer, bounded.
pub async fn ask_engine(ctl: &mpsc::Sender<Control>, query: Query) -> Reply {
    async fn text(
        ctl: &mpsc::Sender<Control>,
        make: fn(oneshot::Sender<String>) -> Control,
    ) -> Reply {
        let (tx, rx) = oneshot::channel();
        if ctl.send(make(tx)).await.is_err() {
            return Reply::Unavailable("engine stopped".into());
        }
        match tokio::time::timeout(QUERY_TIMEOUT, rx).await {
            Ok(Ok(s)) => Reply::Text(s),
            Ok(Err(_)) => Reply::Unavailable("engine dropped the request".into()),
            Err(_) => Reply::Unavailable(format!("engine did not answer within {QUERY_TIMEOUT:?}")),
        }
    }
    match query {
        Query::Data => text(ctl, Control::DumpData).await,
        Query::Stats => text(ctl, Control::DumpStats).await,
        // A busy engine that progresses is alive; otherwise it must answer
        // (rkeepalived_vrrp::progress; other engines never tick it).
        Query::Liveness if rkeepalived_vrrp::progress::advanced_since_last_probe() => {
            Reply::Text(format!("progress {}", rkeepalived_vrrp::progress::count()))
        }
        Query::Liveness => text(ctl, Control::DumpStats).await,
        Query::StatsClear => text(ctl, Control::DumpStatsClear).await,
        Query::Metrics => text(ctl, Control::Metrics).await,
        Query::KeepalivedJson => text(ctl, Control::DumpKeepalivedJson).await,
        Query::Drain => text(ctl, Control::Drain).await,
        Query::Undrain => text(ctl, Control::Undrain).await,
        Query::Json => {
            let (tx, rx) = oneshot::channel();
            if ctl.send(Control::DumpJson(tx)).await.is_err() {
                return Reply::Unavailable("engine stopped".into());
            }
            match tokio::time::timeout(QUERY_TIMEOUT, rx).await {
                Ok(Ok(v)) => Reply::Json(v),
                Ok(Err(_)) => Reply::Unavailable("engine dropped the request".into()),
                Err(_) => {
                    Reply::Unavailable(format!("engine did not answer within {QUERY_TIMEOUT:?}"))
                }
            }
        }
    }
}
