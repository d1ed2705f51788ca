//! The supervisor's side of one child's IPC channel: a task per child
//! that forwards commands to it and turns its frames, liveness probes and
//! exit into [`Event`]s for the supervisor loop.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot};

use crate::cli::Role;
use crate::ipc::{self, FromChild, IpcError, Query, Reply, ToChild};

use super::{Shared, ASK_TIMEOUT};

/// Messages from per-child tasks to the supervisor loop.
#[derive(Debug)]
pub(super) enum Event {
    /// Result of a liveness probe (a Stats query answered by the engine).
    Probe {
        role: Role,
        generation: u64,
        answered: bool,
    },
    Message {
        role: Role,
        generation: u64,
        msg: FromChild,
    },
    Exited {
        role: Role,
        generation: u64,
        pid: u32,
        status: String,
        clean: bool,
    },
}

pub(super) enum LinkCmd {
    Send(ToChild),
    Ask(Query, oneshot::Sender<Reply>),
}

/// Handle on one running child's IPC channel.
#[derive(Clone)]
pub(super) struct ChildLink {
    pub(super) tx: mpsc::Sender<LinkCmd>,
}

impl ChildLink {
    pub(super) fn start(
        role: Role,
        generation: u64,
        stream: UnixStream,
        events: mpsc::Sender<Event>,
        shared: Arc<Shared>,
    ) -> (ChildLink, oneshot::Receiver<()>) {
        let (tx, mut rx) = mpsc::channel::<LinkCmd>(64);
        // Dropped once every frame the child sent has been forwarded, so the
        // waiter can report the exit strictly after the child's last words.
        let (drained_tx, drained_rx) = oneshot::channel::<()>();
        let (mut rd, mut wr) = stream.into_split();
        let (frames_tx, mut frames) = mpsc::channel::<FromChild>(64);
        // read_frame is not cancel-safe: it gets a task of its own.
        tokio::spawn(async move {
            loop {
                match ipc::read_frame::<_, FromChild>(&mut rd).await {
                    Ok(Some(msg)) => {
                        if frames_tx.send(msg).await.is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(%role, "bad ipc frame from {role} child: {e}");
                        shared.metrics.ipc_error();
                        break;
                    }
                }
            }
        });
        tokio::spawn(async move {
            let mut pending: HashMap<u64, oneshot::Sender<Reply>> = HashMap::new();
            let mut next_id = 1u64;
            loop {
                tokio::select! {
                    cmd = rx.recv() => match cmd {
                        Some(LinkCmd::Send(msg)) => {
                            let started = std::time::Instant::now();
                            if let Err(e) = ipc::write_to_child(&mut wr, &msg).await {
                                tracing::debug!(%role, "ipc write to {role} child failed: {e}");
                            }
                            if matches!(msg, ToChild::Start(_) | ToChild::Reload(_)) {
                                tracing::debug!(%role, "configuration encoded and written to the {role} child in {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
                                // The configuration's JSON and frame (megabytes
                                // with thousands of real servers) are gone now.
                                drop(msg);
                                crate::sys::release_free_memory();
                            }
                        }
                        Some(LinkCmd::Ask(query, reply)) => {
                            let id = next_id;
                            next_id += 1;
                            match ipc::write_frame(&mut wr, &ToChild::Request { id, query }).await {
                                Ok(()) => { pending.insert(id, reply); }
                                Err(e) => { let _ = reply.send(Reply::Unavailable(e.to_string())); }
                            }
                        }
                        None => break,
                    },
                    frame = frames.recv() => match frame {
                        Some(FromChild::Reply { id, reply }) => {
                            if let Some(waiter) = pending.remove(&id) {
                                let _ = waiter.send(reply);
                            }
                        }
                        Some(msg) => {
                            if events.send(Event::Message { role, generation, msg }).await.is_err() {
                                break;
                            }
                        }
                        None => break,
                    },
                }
            }
            // Pending waiters learn the child is gone when their senders drop.
            drop(drained_tx);
        });
        (ChildLink { tx }, drained_rx)
    }

    pub(super) async fn send(&self, msg: ToChild) -> Result<(), IpcError> {
        self.tx
            .send(LinkCmd::Send(msg))
            .await
            .map_err(|_| IpcError::Closed)
    }

    pub(super) async fn ask(&self, query: Query) -> Reply {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(LinkCmd::Ask(query, tx)).await.is_err() {
            return Reply::Unavailable("child is not running".into());
        }
        match tokio::time::timeout(ASK_TIMEOUT, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Reply::Unavailable("child went away".into()),
            Err(_) => Reply::Unavailable(format!("child did not answer within {ASK_TIMEOUT:?}")),
        }
    }
}
