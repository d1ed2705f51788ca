//! `vrrp_track_process`: count the running processes that match each
//! definition and report quorum gained / lost (keepalived 2.2.7
//! core/track_process.c).
//!
//! * [`matches()`] (pure): keepalived's `read_procs()` / `check_params()` rule.
//!   Without `full_command` the process's `comm` (from `/proc/PID/stat`, at
//!   most 15 characters; zombies never match) must equal `process`. With
//!   `full_command` (implied by parameters or `param_match`) `argv[0]` must
//!   equal `process` exactly (no basename), and with a `param_match` the
//!   rest of the command line is compared with the given parameters:
//!   exact (the same parameters), `partial` (they are the first ones),
//!   `initial` (they are the first ones, the last may be the start of a
//!   longer one).
//! * [`has_quorum`] (pure): `quorum <= count <= quorum_max`.
//! * [`QuorumFilter`] (pure): `fork_delay` / `terminate_delay` — a change
//!   of quorum is acted on once it has lasted that long (keepalived
//!   `process_gained_quorum_timer_thread()` / `process_lost_quorum_timer_thread()`;
//!   a change back meanwhile cancels it).
//! * [`spawn`]: the I/O. As keepalived, processes are followed through the
//!   kernel's process-event connector (`NETLINK_CONNECTOR`, `CN_IDX_PROC`:
//!   fork / exec / comm / exit events decoded by [`crate::proc_event`], the
//!   pid table in [`crate::proc_table`]), after one `/proc` scan made once
//!   subscribed, and again after the kernel dropped events (`ENOBUFS`).
//!   The kernel delivers these events only in the initial network
//!   namespace (and answers only the initial pid namespace): elsewhere, as
//!   in a container or a `net_namespace`, rkeepalived says so once and
//!   re-scans `/proc` every [`PROCESS_POLL`] instead, so a change is
//!   noticed within about a second, and a process that lives shorter than
//!   that may be missed. keepalived tracks nothing there (its instances
//!   stay in FAULT): a deliberate difference (crates/vrrp/README.md).
//!
//! The engine turns the reported status into priority or FAULT with the
//! same arithmetic as scripts ([`crate::track::status_contribution`],
//! keepalived vrrp/vrrp_track.c `process_update_track_process_status()`):
//! without a weight, no quorum faults the instance (`reverse`: quorum
//! faults it); a positive weight is added while quorum holds, a negative
//! one while it does not.

use std::path::Path;
use std::time::{Duration, Instant};

use rkeepalived_config::model::{ParamMatch, VrrpTrackProcess};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::proc_table::ProcTable;
use crate::watch::TrackUpdate;

mod connector;

pub use connector::{connector_available, following_events, overflow_rescans};

/// How often `/proc` is re-scanned.
pub const PROCESS_POLL: Duration = Duration::from_secs(1);

/// What one process looks like in `/proc`.
#[derive(Debug, Clone, Copy)]
pub struct ProcView<'a> {
    /// `comm` (the second field of `/proc/PID/stat`).
    pub comm: &'a [u8],
    /// State `Z` in `/proc/PID/stat`.
    pub zombie: bool,
    /// `/proc/PID/cmdline`: NUL-separated arguments.
    pub cmdline: &'a [u8],
}

/// Whether `p` is an instance of the tracked process `def`.
/// keepalived: core/track_process.c `read_procs()`, `check_process()`.
pub fn matches(def: &VrrpTrackProcess, p: &ProcView<'_>) -> bool {
    if !def.full_command {
        return !p.zombie && p.comm == def.process.as_bytes();
    }
    let (argv0, rest) = match p.cmdline.iter().position(|&b| b == 0) {
        Some(i) => (&p.cmdline[..i], &p.cmdline[i + 1..]),
        None => (p.cmdline, &[][..]),
    };
    if argv0 != def.process.as_bytes() {
        return false;
    }
    def.param_match == ParamMatch::None || check_params(def, rest)
}

/// keepalived `check_params()`: the given parameters, each followed by a
/// NUL, against the bytes after argv[0]'s NUL.
fn check_params(def: &VrrpTrackProcess, actual: &[u8]) -> bool {
    let mut spec: Vec<u8> = Vec::new();
    for a in &def.params {
        spec.extend_from_slice(a.as_bytes());
        spec.push(0);
    }
    let none = def.params.is_empty();
    if def.param_match == ParamMatch::Exact && none && actual.is_empty() {
        return true;
    }
    if actual.len() < spec.len() {
        return false;
    }
    match def.param_match {
        ParamMatch::Exact => actual == spec.as_slice(),
        _ if none => true,
        ParamMatch::Partial => actual.starts_with(&spec),
        // `initial`: the last parameter may be the start of a longer one.
        _ => spec.len() == 1 || actual.starts_with(&spec[..spec.len() - 1]),
    }
}

/// keepalived: `num_cur_proc >= quorum && num_cur_proc <= quorum_max`.
pub fn has_quorum(def: &VrrpTrackProcess, count: u32) -> bool {
    count >= def.quorum && count <= def.quorum_max
}

/// The quorum status of one tracked process, with its delays.
#[derive(Debug, Clone)]
pub struct QuorumFilter {
    have: bool,
    /// A change waiting for its delay: (new status, when it takes effect).
    pending: Option<(bool, Instant)>,
    fork_delay: Option<Duration>,
    terminate_delay: Option<Duration>,
}

impl QuorumFilter {
    /// The status of the first scan counts at once (keepalived
    /// `initialise_process_tracking_priorities()`).
    pub fn new(def: &VrrpTrackProcess, count: u32) -> Self {
        QuorumFilter {
            have: has_quorum(def, count),
            pending: None,
            fork_delay: def.fork_delay,
            terminate_delay: def.terminate_delay,
        }
    }

    pub fn have_quorum(&self) -> bool {
        self.have
    }

    /// When a delayed change is due.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.map(|(_, t)| t)
    }

    /// A new count at `now`: Some(status) when the reported status changes.
    pub fn observe(&mut self, def: &VrrpTrackProcess, count: u32, now: Instant) -> Option<bool> {
        let want = has_quorum(def, count);
        if want == self.have {
            // Back before the delay ran out: keepalived cancels the timer.
            self.pending = None;
            return None;
        }
        let delay = if want {
            self.fork_delay
        } else {
            self.terminate_delay
        };
        let due = match (delay, self.pending) {
            (None, _) => now,
            (Some(_), Some((w, t))) if w == want => t,
            (Some(d), _) => now + d,
        };
        if now >= due {
            self.have = want;
            self.pending = None;
            Some(want)
        } else {
            self.pending = Some((want, due));
            None
        }
    }
}

/// Reads what [`matches`] needs of one `/proc/PID` directory: the stat line
/// and the command line, each only when some definition needs it
/// (reading `cmdline` reads the process's memory; keepalived
/// `read_procs()` avoids it the same way). None: the process is gone.
fn read_proc(dir: &Path, need_stat: bool, need_cmdline: bool) -> Option<(Vec<u8>, Vec<u8>)> {
    let cmdline = if need_cmdline {
        std::fs::read(dir.join("cmdline")).ok()?
    } else {
        Vec::new()
    };
    let stat = if need_stat {
        std::fs::read(dir.join("stat")).ok()?
    } else {
        Vec::new()
    };
    Some((stat, cmdline))
}

/// Which files the definitions need: (stat, cmdline).
fn needs(defs: &[VrrpTrackProcess]) -> (bool, bool) {
    (
        defs.iter().any(|d| !d.full_command),
        defs.iter().any(|d| d.full_command),
    )
}

/// One process, read from `proc_root/PID`, into `table`.
fn read_into(table: &mut ProcTable, proc_root: &Path, defs: &[VrrpTrackProcess], pid: i32) {
    let (need_stat, need_cmdline) = needs(defs);
    match read_proc(&proc_root.join(pid.to_string()), need_stat, need_cmdline) {
        Some((stat, cmdline)) => {
            let (comm, zombie) = parse_stat(&stat);
            let view = ProcView {
                comm,
                zombie,
                cmdline: &cmdline,
            };
            table.seen(defs, pid, Some(&view));
        }
        None => table.seen(defs, pid, None),
    }
}

/// Every process under `proc_root` (normally `/proc`) that matches a
/// definition (keepalived `read_procs()`).
pub fn scan_table(proc_root: &Path, defs: &[VrrpTrackProcess]) -> ProcTable {
    let mut table = ProcTable::new(defs.len());
    let Ok(dir) = std::fs::read_dir(proc_root) else {
        return table;
    };
    for ent in dir.flatten() {
        let name = ent.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        read_into(&mut table, proc_root, defs, pid);
    }
    table
}

/// Counts of matching processes under `proc_root` (normally `/proc`), one
/// per definition.
pub fn scan(proc_root: &Path, defs: &[VrrpTrackProcess]) -> Vec<u32> {
    scan_table(proc_root, defs).counts().to_vec()
}

/// `comm` and whether the process is a zombie, from `/proc/PID/stat`
/// (`PID (COMM) STATE ...`; the comm may itself hold parentheses, so the
/// last `)` ends it).
fn parse_stat(stat: &[u8]) -> (&[u8], bool) {
    let Some(open) = stat.iter().position(|&b| b == b'(') else {
        return (&[], false);
    };
    let Some(close) = stat.iter().rposition(|&b| b == b')') else {
        return (&[], false);
    };
    if close <= open {
        return (&[], false);
    }
    let zombie = stat.get(close + 2) == Some(&b'Z');
    (&stat[open + 1..close], zombie)
}

/// The first scan, done before the instances start so they begin with the
/// right priority or FAULT (keepalived scans `/proc` in
/// `init_track_processes()` before `initialise_tracking_priorities()`).
pub fn initial(defs: &[VrrpTrackProcess]) -> Vec<QuorumFilter> {
    let counts = scan(Path::new("/proc"), defs);
    defs.iter()
        .zip(counts)
        .map(|(d, n)| QuorumFilter::new(d, n))
        .collect()
}

/// The connector socket's receive buffer (`process_monitor_rcv_bufs`,
/// `process_monitor_rcv_bufs_force`; keepalived `set_rcv_buf()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RcvBufs {
    /// SO_RCVBUF at start (None: the kernel's default).
    pub size: Option<u32>,
    /// SO_RCVBUFFORCE instead (beyond net.core.rmem_max).
    pub force: bool,
}

impl RcvBufs {
    pub fn from_config(g: &rkeepalived_config::model::GlobalDefs) -> RcvBufs {
        RcvBufs {
            size: g.process_monitor_rcv_bufs,
            force: g.process_monitor_rcv_bufs_force,
        }
    }
}

/// Follow the tracked processes and report every change of quorum: through
/// the kernel's process-event connector where it can be used, else by
/// re-scanning `/proc` every [`PROCESS_POLL`] ([`crate::track_process`]'s
/// module docs).
pub fn spawn(
    defs: Vec<VrrpTrackProcess>,
    filters: Vec<QuorumFilter>,
    tx: mpsc::Sender<TrackUpdate>,
) -> JoinHandle<()> {
    spawn_with(defs, filters, tx, RcvBufs::default())
}

/// [`spawn`] with the connector's receive buffer settings.
pub fn spawn_with(
    defs: Vec<VrrpTrackProcess>,
    filters: Vec<QuorumFilter>,
    tx: mpsc::Sender<TrackUpdate>,
    bufs: RcvBufs,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut t = Tracker { defs, filters, tx };
        let filters = match connector::subscribe(bufs) {
            Ok(sub) => match connector::follow(&mut t, sub, bufs).await {
                connector::Ended::ChannelClosed => return,
                connector::Ended::Unusable(why) => {
                    connector::log_unusable(&why);
                    t.filters
                }
            },
            Err(why) => {
                connector::log_unusable(&why);
                t.filters
            }
        };
        poll(t.defs, filters, t.tx).await;
    })
}

/// What the event follower and the poller share.
struct Tracker {
    defs: Vec<VrrpTrackProcess>,
    filters: Vec<QuorumFilter>,
    tx: mpsc::Sender<TrackUpdate>,
}

impl Tracker {
    /// Feeds new counts through the delays; reports changes. Err: the
    /// engine is gone.
    async fn observe(&mut self, counts: &[u32]) -> Result<(), ()> {
        let now = Instant::now();
        for ((d, f), n) in self.defs.iter().zip(self.filters.iter_mut()).zip(counts) {
            if let Some(up) = f.observe(d, *n, now) {
                report(&self.tx, d, *n, up).await?;
            }
        }
        Ok(())
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.filters.iter().filter_map(QuorumFilter::deadline).min()
    }
}

async fn report(
    tx: &mpsc::Sender<TrackUpdate>,
    d: &VrrpTrackProcess,
    count: u32,
    up: bool,
) -> Result<(), ()> {
    // keepalived vrrp/vrrp_track.c `process_update_track_process_status()`.
    tracing::info!(
        process = %d.name,
        count,
        "Quorum {} for tracked process {}",
        if up { "gained" } else { "lost" },
        d.name
    );
    let u = TrackUpdate::Process {
        name: d.name.clone(),
        up,
    };
    tx.send(u).await.map_err(|_| ())
}

/// The fallback: re-scan `/proc` every [`PROCESS_POLL`] (sooner when a
/// delay runs out) and report every change of quorum.
async fn poll(
    defs: Vec<VrrpTrackProcess>,
    filters: Vec<QuorumFilter>,
    tx: mpsc::Sender<TrackUpdate>,
) {
    let mut t = Tracker { defs, filters, tx };
    loop {
        let now = Instant::now();
        let wake = t
            .next_deadline()
            .map_or(now + PROCESS_POLL, |d| d.min(now + PROCESS_POLL));
        tokio::time::sleep(wake.saturating_duration_since(now)).await;
        // Off the engine's threads: reading every /proc entry can take
        // tens of milliseconds on a busy host, adverts must not wait.
        let d = t.defs.clone();
        let counts = match tokio::task::spawn_blocking(move || scan(Path::new("/proc"), &d)).await {
            Ok(c) => c,
            Err(_) => continue,
        };
        if t.observe(&counts).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(process: &str) -> VrrpTrackProcess {
        VrrpTrackProcess::new("chk", process)
    }

    fn view<'a>(comm: &'a str, cmdline: &'a [u8]) -> ProcView<'a> {
        ProcView {
            comm: comm.as_bytes(),
            zombie: false,
            cmdline,
        }
    }

    /// `process NAME` alone compares comm; zombies never match;
    /// `full_command` compares argv[0] exactly (a path is not a basename).
    #[test]
    fn process_name_is_comm_or_full_command_argv0() {
        let d = def("haproxy");
        assert!(matches(&d, &view("haproxy", b"/usr/sbin/haproxy\0-f\0")));
        assert!(!matches(&d, &view("haproxy-x", b"haproxy\0")));
        let mut z = view("haproxy", b"");
        z.zombie = true;
        assert!(!matches(&d, &z));
        let mut f = def("/usr/sbin/haproxy");
        f.full_command = true;
        assert!(matches(&f, &view("x", b"/usr/sbin/haproxy\0-f\0cfg\0")));
        assert!(!matches(&f, &view("haproxy", b"haproxy\0-f\0")));
        let mut g = def("haproxy");
        g.full_command = true;
        assert!(!matches(&g, &view("haproxy", b"/usr/sbin/haproxy\0")));
    }

    /// `param_match` (exact), `param_match partial`, `param_match initial`,
    /// as keepalived's `check_params()`.
    #[test]
    fn param_match_exact_partial_initial() {
        let mut d = def("sleep");
        d.full_command = true;
        d.params = vec!["1000".into(), "abc".into()];
        d.param_match = ParamMatch::Exact;
        assert!(matches(&d, &view("sleep", b"sleep\x001000\0abc\0")));
        assert!(!matches(&d, &view("sleep", b"sleep\x001000\0abcd\0")));
        assert!(!matches(&d, &view("sleep", b"sleep\x001000\0abc\0x\0")));
        assert!(!matches(&d, &view("sleep", b"sleep\x001000\0")));
        d.param_match = ParamMatch::Partial;
        assert!(matches(&d, &view("sleep", b"sleep\x001000\0abc\0x\0")));
        assert!(!matches(&d, &view("sleep", b"sleep\x001000\0abcd\0")));
        d.param_match = ParamMatch::Initial;
        assert!(matches(&d, &view("sleep", b"sleep\x001000\0abcd\0")));
        assert!(matches(&d, &view("sleep", b"sleep\x001000\0abc\0x\0")));
        assert!(!matches(&d, &view("sleep", b"sleep\x001000\0ab\0")));
        // Exact without parameters: the process must have none.
        let mut e = def("sleep");
        e.full_command = true;
        e.param_match = ParamMatch::Exact;
        assert!(matches(&e, &view("sleep", b"sleep\0")));
        assert!(!matches(&e, &view("sleep", b"sleep\x005\0")));
        // partial without parameters: anything.
        e.param_match = ParamMatch::Partial;
        assert!(matches(&e, &view("sleep", b"sleep\x005\0")));
    }

    /// `quorum` / `quorum_max`; `quorum_max 0` means "no process" (quorum 0).
    #[test]
    fn quorum_and_quorum_max() {
        let mut d = def("x");
        assert!(!has_quorum(&d, 0));
        assert!(has_quorum(&d, 1) && has_quorum(&d, 50));
        d.quorum = 2;
        d.quorum_max = 3;
        assert!(!has_quorum(&d, 1) && has_quorum(&d, 2) && has_quorum(&d, 3));
        assert!(!has_quorum(&d, 4));
        d.quorum = 0;
        d.quorum_max = 0;
        assert!(has_quorum(&d, 0) && !has_quorum(&d, 1));
    }

    /// `terminate_delay` holds a lost quorum back, `fork_delay` a gained
    /// one (`delay` sets both); a change back meanwhile cancels it.
    #[test]
    fn delay_terminate_delay_and_fork_delay() {
        let mut d = def("x");
        d.terminate_delay = Some(Duration::from_secs(2));
        let t0 = Instant::now();
        let mut f = QuorumFilter::new(&d, 1);
        assert!(f.have_quorum());
        assert_eq!(f.observe(&d, 0, t0), None);
        assert_eq!(f.deadline(), Some(t0 + Duration::from_secs(2)));
        assert_eq!(f.observe(&d, 0, t0 + Duration::from_secs(1)), None);
        assert_eq!(f.observe(&d, 0, t0 + Duration::from_secs(2)), Some(false));
        // No fork_delay: gained at once.
        assert_eq!(f.observe(&d, 1, t0 + Duration::from_secs(3)), Some(true));
        // Lost and back within the delay: nothing reported.
        assert_eq!(f.observe(&d, 0, t0 + Duration::from_secs(4)), None);
        assert_eq!(f.observe(&d, 1, t0 + Duration::from_secs(5)), None);
        assert_eq!(f.deadline(), None);
        assert_eq!(f.observe(&d, 0, t0 + Duration::from_secs(7)), None);
        d.fork_delay = Some(Duration::from_secs(1));
        let mut g = QuorumFilter::new(&d, 0);
        assert_eq!(g.observe(&d, 1, t0), None);
        assert_eq!(g.observe(&d, 1, t0 + Duration::from_secs(1)), Some(true));
    }

    #[test]
    fn stat_comm_and_zombie() {
        assert_eq!(parse_stat(b"12 (sleep) S 1 2"), (&b"sleep"[..], false));
        assert_eq!(parse_stat(b"12 (a) b) Z 1 2"), (&b"a) b"[..], true));
        assert_eq!(parse_stat(b"garbage"), (&b""[..], false));
    }

    /// A real `/proc` scan finds this test process by its comm.
    #[test]
    fn scan_finds_a_running_process() {
        let me = std::fs::read_to_string("/proc/self/comm").unwrap();
        let d = def(me.trim_end());
        let counts = scan(Path::new("/proc"), &[d]);
        assert!(counts[0] >= 1, "{counts:?}");
    }
}
