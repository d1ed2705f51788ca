//! Following the tracked processes through the kernel's process-event
//! connector, as keepalived core/track_process.c does: subscribe
//! (`set_proc_ev_listen()`), scan `/proc` once (`read_procs()`), then keep
//! the pid table up to date from fork / exec / comm / exit events
//! (`handle_proc_ev()`). When the kernel drops events (`ENOBUFS`), the
//! receive buffer is doubled and `/proc` scanned again a second later
//! (`reinitialise_track_processes()`).
//!
//! The kernel delivers process events only to sockets of the initial
//! network namespace (and answers listen requests only from the initial
//! pid and user namespaces). Elsewhere the connector is unusable: in
//! another network namespace the listen request fails with ECONNREFUSED,
//! in another pid namespace it is never answered. keepalived then tracks
//! nothing at all (its instances stay in FAULT); rkeepalived logs why once
//! and falls back to scanning `/proc` every [`PROCESS_POLL`].

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::proc_event::{self, comm_str, decode, ProcEvent, SeqTracker};
use crate::proc_table::ProcTable;
use crate::sys::ProcConnector;

use super::{read_into, scan_table, Tracker, PROCESS_POLL};

/// How long the kernel has to answer the listen request before the
/// connector is taken as unusable (keepalived warns after 100 ms; this
/// leaves room for a loaded host).
const ACK_WAIT: Duration = Duration::from_secs(2);
/// keepalived `process_lost_messages_timer_thread()`: rescan one second
/// after the last overflow.
const RESCAN_AFTER_OVERFLOW: Duration = Duration::from_secs(1);
/// Datagrams handled per wake-up before other tasks get a turn.
const BATCH: usize = 256;

/// Why the connector cannot be used: keepalived's log line (if it has one)
/// and ours.
#[derive(Debug)]
pub(super) struct Unusable {
    keepalived: Option<String>,
    why: String,
}

pub(super) enum Ended {
    /// The engine went away.
    ChannelClosed,
    Unusable(Unusable),
}

/// `%m` of keepalived's messages.
fn errno_text(e: &io::Error) -> (i32, String) {
    let n = e.raw_os_error().unwrap_or(0);
    (n, nix::errno::Errno::from_raw(n).desc().to_string())
}

/// The subscribed socket; dropping it cancels the subscription
/// (`PROC_CN_MCAST_IGNORE`, keepalived `end_process_monitor()`): the kernel
/// counts listeners and stops building events when none is left.
pub(super) struct Subscription {
    sock: ProcConnector,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let _ = self
            .sock
            .send(&proc_event::listen_message(false, self.sock.port_id()));
    }
}

impl AsFd for Subscription {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for Subscription {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

/// Opens the connector and asks for process events (keepalived
/// `nl_connect()` and `set_proc_ev_listen()`, with their log lines).
pub(super) fn subscribe(bufs: super::RcvBufs) -> Result<Subscription, Unusable> {
    let sock = ProcConnector::open().map_err(|e| {
        let (n, m) = errno_text(&e);
        let keepalived = if n == libc::EPROTONOSUPPORT {
            "track_process not available - is CONFIG_PROC_EVENTS enabled in kernel config?"
                .to_string()
        } else {
            format!("Failed to open process monitoring socket - errno {n} - {m}")
        };
        Unusable {
            keepalived: Some(keepalived),
            why: format!("cannot open the process event connector ({m})"),
        }
    })?;
    // keepalived `init_track_processes()`: the configured buffer first.
    if let Some(size) = bufs.size {
        if let Err(e) = sock.set_recv_buffer(size as usize, bufs.force) {
            let (n, m) = errno_text(&e);
            tracing::info!(
                "Cannot set process monitor SO_RCVBUF{} option. errno={n} ({m})",
                if bufs.force { "FORCE" } else { "" }
            );
        }
    }
    if let Err(e) = sock.send(&proc_event::listen_message(true, sock.port_id())) {
        let (n, m) = errno_text(&e);
        let why = if n == libc::ECONNREFUSED {
            "the kernel sends process events only to the initial network namespace".to_string()
        } else {
            format!("the process event listen request failed ({m})")
        };
        return Err(Unusable {
            keepalived: Some(format!(
                "Failed to set/clear process event listen - errno {n} - {m}"
            )),
            why,
        });
    }
    Ok(Subscription { sock })
}

static LOGGED: AtomicBool = AtomicBool::new(false);

/// Says once per process why `/proc` is scanned instead.
pub(super) fn log_unusable(u: &Unusable) {
    if LOGGED.swap(true, Ordering::Relaxed) {
        tracing::debug!(reason = %u.why, "process event connector unusable");
        return;
    }
    if let Some(k) = &u.keepalived {
        tracing::info!("{k}");
    }
    tracing::info!(
        reason = %u.why,
        "track_process: process event connector unusable ({}); scanning /proc every {} s instead",
        u.why,
        PROCESS_POLL.as_secs()
    );
}

/// Rescans after an overflow, since start.
static OVERFLOW_RESCANS: AtomicUsize = AtomicUsize::new(0);

/// How many times an overflow (ENOBUFS) made a follower scan `/proc`
/// again, in this process.
pub fn overflow_rescans() -> usize {
    OVERFLOW_RESCANS.load(Ordering::Relaxed)
}

/// Followers whose subscription the kernel confirmed.
static FOLLOWING: AtomicUsize = AtomicUsize::new(0);

/// Counts one confirmed follower while it lives.
struct Following;

impl Following {
    fn start() -> Following {
        FOLLOWING.fetch_add(1, Ordering::Relaxed);
        Following
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        FOLLOWING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether tracked processes are followed through process events now
/// (false: `/proc` is polled, or tracking has not started).
pub fn following_events() -> bool {
    FOLLOWING.load(Ordering::Relaxed) > 0
}

/// Whether the process-event connector can be subscribed to from here
/// (the initial network namespace, a kernel with CONFIG_PROC_EVENTS).
/// The subscription is cancelled again at once; an unanswered request
/// (another pid namespace) is not detected here.
pub fn connector_available() -> bool {
    subscribe(super::RcvBufs::default()).is_ok()
}

/// Follows events until the engine goes away, or returns why the
/// connector cannot be used (the caller then polls, with `t.filters` as
/// they are).
pub(super) async fn follow(t: &mut Tracker, sub: Subscription, bufs: super::RcvBufs) -> Ended {
    let fd = match crate::sys::register_async(sub) {
        Ok(fd) => fd,
        Err(e) => {
            return Ended::Unusable(Unusable {
                keepalived: None,
                why: format!("cannot register the connector socket ({e})"),
            })
        }
    };
    let proc_root = Path::new("/proc");
    // Scanned after subscribing, so no process starts or ends unseen in
    // between (an event for a process the scan saw already changes nothing).
    let mut table = rescan(&t.defs).await;
    if t.observe(table.counts()).await.is_err() {
        return Ended::ChannelClosed;
    }
    let mut ack_by = Some(Instant::now() + ACK_WAIT);
    let mut rescan_at: Option<Instant> = None;
    let mut seq = SeqTracker::default();
    let mut _following = None;
    let mut buf = [0u8; 512];
    loop {
        let wake = [ack_by, rescan_at, t.next_deadline()]
            .into_iter()
            .flatten()
            .min();
        tokio::select! {
            guard = fd.readable() => {
                let mut guard = match guard {
                    Ok(g) => g,
                    Err(e) => return Ended::Unusable(Unusable {
                        keepalived: None,
                        why: format!("connector socket error ({e})"),
                    }),
                };
                for _ in 0..BATCH {
                    let res = match guard.try_io(|s| s.get_ref().sock.recv(&mut buf)) {
                        Ok(r) => r,
                        Err(_would_block) => break,
                    };
                    let (n, from) = match res {
                        Ok(r) => r,
                        Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                            // keepalived `handle_proc_ev()`: events were lost;
                            // let things settle, then start again from /proc.
                            tracing::debug!("process event connector overflow (ENOBUFS)");
                            // keepalived restarts its one-second timer at
                            // each overflow, so a sustained overflow never
                            // gets its rescan (nor its bigger buffer); the
                            // first overflow's deadline stands here.
                            rescan_at.get_or_insert(Instant::now() + RESCAN_AFTER_OVERFLOW);
                            // Events flow (the ack may be among the lost).
                            if ack_by.take().is_some() {
                                _following = Some(Following::start());
                            }
                            continue;
                        }
                        Err(e) => {
                            let (n, m) = errno_text(&e);
                            tracing::info!("process monitor netlink recv error {n} - {m}");
                            break;
                        }
                    };
                    // Only the kernel speaks for the process connector.
                    if from != 0 {
                        continue;
                    }
                    let Ok(msg) = decode(buf.get(..n).unwrap_or_default()) else {
                        continue;
                    };
                    if let Some(missed) = seq.observe(&msg) {
                        if rescan_at.is_none() {
                            tracing::info!("Missed {missed} messages on CPU {}", msg.cpu);
                        }
                    }
                    // Any event proves the subscription (its ack may have
                    // been dropped on a full buffer).
                    if !matches!(msg.event, ProcEvent::Ack { err } if err != 0)
                        && ack_by.take().is_some()
                    {
                        _following = Some(Following::start());
                        tracing::debug!("proc_events has confirmed it is configured");
                    }
                    if !msg.event.is_process() {
                        continue;
                    }
                    match msg.event {
                        ProcEvent::Ack { err: 0 } => {}
                        ProcEvent::Ack { err } => {
                            return Ended::Unusable(Unusable {
                                keepalived: None,
                                why: format!("the kernel refused the listen request (error {err})"),
                            });
                        }
                        ProcEvent::Fork { parent_tgid, child_tgid, .. } => {
                            table.fork(parent_tgid, child_tgid)
                        }
                        ProcEvent::Exec { tgid, .. } => read_into(&mut table, proc_root, &t.defs, tgid),
                        ProcEvent::Comm { tgid, comm, .. } => table.comm(&t.defs, tgid, comm_str(&comm)),
                        ProcEvent::Exit { tgid, .. } => table.exit(tgid),
                        ProcEvent::Other { .. } => {}
                    }
                }
            }
            _ = sleep_until(wake) => {
                let now = Instant::now();
                if ack_by.is_some_and(|t| t <= now) {
                    return Ended::Unusable(Unusable {
                        keepalived: Some(
                            "WARNING - the kernel does not support proc events - track_process will not work"
                                .to_string(),
                        ),
                        why: "the kernel did not answer the listen request (not the initial pid namespace, or no CONFIG_PROC_EVENTS)".to_string(),
                    });
                }
                if rescan_at.is_some_and(|t| t <= now) {
                    rescan_at = None;
                    grow_buffer(fd.get_ref(), bufs.force);
                    OVERFLOW_RESCANS.fetch_add(1, Ordering::Relaxed);
                    seq.reset();
                    table = rescan(&t.defs).await;
                }
            }
        }
        if t.observe(table.counts()).await.is_err() {
            return Ended::ChannelClosed;
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

/// A whole `/proc` scan, off the engine's threads.
async fn rescan(defs: &[rkeepalived_config::model::VrrpTrackProcess]) -> ProcTable {
    let d = defs.to_vec();
    let n = d.len();
    tokio::task::spawn_blocking(move || scan_table(Path::new("/proc"), &d))
        .await
        .unwrap_or_else(|_| ProcTable::new(n))
}

/// keepalived `reinitialise_track_processes()`: twice the receive buffer
/// after an overflow, with its advice.
fn grow_buffer(sub: &Subscription, force: bool) {
    let Ok(cur) = sub.sock.recv_buffer() else {
        return;
    };
    // The kernel reports twice the size set; keepalived doubles what it
    // reads, i.e. sets twice the reported size.
    let size = cur.saturating_mul(2);
    if let Err(e) = sub.sock.set_recv_buffer(size, force) {
        let (n, m) = errno_text(&e);
        tracing::info!(
            "Cannot set process monitor SO_RCVBUF{} option. errno={n} ({m})",
            if force { "FORCE" } else { "" }
        );
    }
    tracing::info!(
        "Setting global_def process_monitor_rcv_bufs to {size} - recommend updating configuration file"
    );
}
