//! The process options of a role child: `vrrp_priority`, `vrrp_rt_priority`,
//! `vrrp_rlimit_rttime`, `vrrp_no_swap`, `vrrp_cpu_affinity` and the
//! `checker_*` ones. Each child applies its own at start and again after a
//! reload, as keepalived's `start_vrrp` (vrrp/vrrp_daemon.c) and
//! `start_check` (check/check_daemon.c) call `set_process_priorities` and
//! `set_process_cpu_affinity` (lib/process.c), with `reset_process_priorities`
//! at the beginning of each reload.
//!
//! keepalived's children are single-threaded, so its per-thread syscalls
//! (`setpriority(PRIO_PROCESS, 0)`, `sched_setscheduler(getpid())`,
//! `sched_setaffinity(0)`) cover the whole process. Ours run a runtime with
//! worker threads: the same settings are applied to every thread of the
//! process (`/proc/self/task`); threads created later inherit them (nice,
//! affinity) or, for SCHED_RR, start SCHED_OTHER because of
//! SCHED_RESET_ON_FORK, which keepalived sets too so that scripts never
//! inherit real-time scheduling.
//!
//! A failure is logged with keepalived's wording and never fatal.

use rkeepalived_config::model::ProcessOptions;

use crate::cli::Role;
use crate::sys;

/// keepalived's RT_RLIMIT_DEFAULT (lib/process.h): the RLIMIT_RTTIME hard
/// limit in microseconds when `*_rt_priority` is set without
/// `*_rlimit_rttime`.
pub const RT_RLIMIT_DEFAULT: u64 = 10_000;

/// What to do for one set of options (sans-IO, see [`plan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// SCHED_RR priority and RLIMIT_RTTIME hard limit (µs; soft = half).
    pub realtime: Option<(i32, u64)>,
    /// Nice value: only without real-time priority, and not for 0.
    pub nice: Option<i32>,
    pub no_swap: bool,
    /// CPUs to pin to (empty = leave the affinity alone).
    pub affinity: Vec<usize>,
    /// A `cpu_affinity` id beyond the online CPUs: keepalived's parser then
    /// reports "Invalid cpu_id" and clears the whole set.
    pub invalid_cpu: Option<u32>,
}

/// keepalived's reading of the options (lib/process.c
/// `set_process_priorities`, core/global_parser.c `get_rt_rlimit`,
/// `get_cpu_affinity`):
/// - a real-time priority wins: the nice value is then not applied;
/// - RLIMIT_RTTIME only matters with a real-time priority; default 10000 µs,
///   and 1 is raised to 2 (the soft limit is half of it and must not be 0);
/// - a nice value of 0 changes nothing;
/// - one cpu id >= the number of online CPUs empties the whole set.
pub fn plan(opts: &ProcessOptions, online_cpus: usize) -> Plan {
    let realtime = opts.rt_priority.filter(|p| *p > 0).map(|p| {
        let prio = i32::try_from(p).unwrap_or(99);
        let limit = opts.rlimit_rttime.unwrap_or(RT_RLIMIT_DEFAULT).max(2);
        (prio, limit)
    });
    let nice = match realtime {
        Some(_) => None,
        None => opts.priority.filter(|p| *p != 0),
    };
    let invalid_cpu = opts
        .cpu_affinity
        .iter()
        .copied()
        .find(|c| usize::try_from(*c).map_or(true, |c| c >= online_cpus));
    let affinity = match invalid_cpu {
        Some(_) => Vec::new(),
        None => {
            let mut v: Vec<usize> = opts
                .cpu_affinity
                .iter()
                .filter_map(|c| usize::try_from(*c).ok())
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        }
    };
    Plan {
        realtime,
        nice,
        no_swap: opts.no_swap,
        affinity,
        invalid_cpu,
    }
}

/// The next automatic SCHED_RR priority (keepalived
/// `increment_process_priority()`): none when `max` is 0 or reached, the
/// minimum (1) when not real-time yet.
pub fn next_auto_priority(cur: u32, max: u32) -> Option<u32> {
    if max == 0 {
        return None;
    }
    if cur == 0 {
        return Some(1);
    }
    (cur < max).then_some(cur + 1)
}

/// What a child changed, so a reload can put it back first
/// (`reset_process_priorities`).
#[derive(Debug, Default)]
pub struct ProcessSettings {
    realtime: bool,
    /// keepalived `cur_rt_priority`: the SCHED_RR priority now (0: none).
    cur_rt: u32,
    /// keepalived `max_rt_priority` (`max_auto_priority`; 0: never raise).
    max_rt: u32,
    /// keepalived `default_rlimit_rttime`: the RLIMIT_RTTIME set with an
    /// automatic raise when no `*_rt_priority` set one.
    default_rttime: u64,
    rttime_set: bool,
    orig_rttime: Option<(u64, u64)>,
    orig_nice: Option<i32>,
    locked: bool,
}

/// The threads of this process (always at least this one).
fn threads() -> Vec<libc::pid_t> {
    let mut tids: Vec<libc::pid_t> = std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    if tids.is_empty() {
        tids.push(nix::unistd::gettid().as_raw());
    }
    tids
}

/// Runs `f` on every thread; the first error, if any.
fn each_thread(mut f: impl FnMut(libc::pid_t) -> std::io::Result<()>) -> std::io::Result<()> {
    let mut first = None;
    for tid in threads() {
        if let Err(e) = f(tid) {
            // A thread that exited meanwhile is not a failure.
            if e.raw_os_error() != Some(libc::ESRCH) && first.is_none() {
                first = Some(e);
            }
        }
    }
    first.map_or(Ok(()), Err)
}

fn rttime() -> Option<(u64, u64)> {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_RTTIME).ok()
}

impl ProcessSettings {
    /// RLIMIT_RTTIME hard `limit` µs, soft half of it (keepalived
    /// `set_process_priorities()`); the original limit is kept for `reset`.
    fn set_rttime(&mut self, role: Role, limit: u64) {
        let before = rttime();
        match nix::sys::resource::setrlimit(
            nix::sys::resource::Resource::RLIMIT_RTTIME,
            limit / 2,
            limit,
        ) {
            Err(e) => {
                tracing::warn!(%role, error = %e, "child process cannot set realtime rlimit")
            }
            Ok(()) => {
                self.rttime_set = true;
                self.orig_rttime = self.orig_rttime.or(before);
            }
        }
    }

    /// Applies `opts` for `role`; returns true when real-time scheduling is
    /// on (the caller then handles SIGXCPU, as keepalived's
    /// `set_sigxcpu_handler`).
    pub fn apply(&mut self, role: Role, opts: &ProcessOptions) -> bool {
        let plan = plan(opts, sys::online_cpus());
        let name = role.as_str();
        if let Some(cpu) = plan.invalid_cpu {
            tracing::warn!(%role, "Invalid cpu_id:{cpu} specified for {name} process");
        }
        if let Some((prio, limit)) = plan.realtime {
            match each_thread(|tid| sys::set_thread_realtime(tid, Some(prio))) {
                Err(e) => {
                    tracing::warn!(%role, error = %e, "child process: cannot raise priority")
                }
                Ok(()) => {
                    self.realtime = true;
                    self.cur_rt = u32::try_from(prio).unwrap_or(0);
                    tracing::info!(%role, "{name} process: SCHED_RR priority {prio}, RLIMIT_RTTIME {limit} us");
                    self.set_rttime(role, limit);
                }
            }
        } else {
            self.default_rttime = opts.rlimit_rttime.unwrap_or(RT_RLIMIT_DEFAULT).max(2);
        }
        if let Some(nice) = plan.nice {
            let orig = sys::thread_nice(nix::unistd::gettid().as_raw()).unwrap_or(0);
            match each_thread(|tid| sys::set_thread_nice(tid, nice)) {
                Err(e) => tracing::info!(%role, "Unable to set process priority to {nice} - {e}"),
                Ok(()) => self.orig_nice = self.orig_nice.or(Some(orig)),
            }
        }
        if plan.no_swap {
            match sys::lock_memory(true) {
                Err(e) => tracing::info!(%role, "Unable to lock process in memory - {e}"),
                Ok(()) => self.locked = true,
            }
        }
        if !plan.affinity.is_empty() {
            let mut set = nix::sched::CpuSet::new();
            let filled = plan.affinity.iter().try_for_each(|c| set.set(*c));
            let res = filled.map_err(std::io::Error::from).and_then(|()| {
                each_thread(|tid| {
                    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(tid), &set)
                        .map_err(std::io::Error::from)
                })
            });
            if let Err(e) = res {
                tracing::warn!(%role, "unable to set cpu affinity to {name} process ({e})");
            }
        }
        self.realtime
    }

    /// `max_auto_priority` (keepalived `set_process_priorities()`: -1
    /// leaves the previous maximum).
    pub fn set_max_auto_priority(&mut self, max_auto_priority: i32) {
        if max_auto_priority != -1 {
            self.max_rt = u32::try_from(max_auto_priority).unwrap_or(0);
        }
    }

    /// keepalived lib/process.c `increment_process_priority()`, after a
    /// late wake-up: SCHED_RR at the lowest priority (1) the first time,
    /// one more each time after, up to `max_auto_priority`; RLIMIT_RTTIME
    /// as `*_rlimit_rttime` (default 10000 µs) the first time. Returns true
    /// when real-time scheduling is on.
    pub fn increment(&mut self, role: Role) -> bool {
        let Some(next) = next_auto_priority(self.cur_rt, self.max_rt) else {
            return self.realtime;
        };
        self.cur_rt = next;
        let prio = i32::try_from(next).unwrap_or(99);
        match each_thread(|tid| sys::set_thread_realtime(tid, Some(prio))) {
            Err(e) => {
                tracing::warn!(%role, error = %e, "child process: cannot raise priority");
                return self.realtime;
            }
            Ok(()) => self.realtime = true,
        }
        if !self.rttime_set && self.default_rttime > 0 {
            self.set_rttime(role, self.default_rttime);
        }
        tracing::info!(%role, "Set realtime priority {next}");
        true
    }

    /// keepalived's `reset_process_priorities`: back to SCHED_OTHER and the
    /// original RLIMIT_RTTIME, the original nice value, memory unlocked.
    /// The CPU affinity stays (keepalived does not reset it either).
    pub fn reset(&mut self, role: Role) {
        if self.realtime {
            match each_thread(|tid| sys::set_thread_realtime(tid, None)) {
                Err(e) => {
                    tracing::warn!(%role, error = %e, "child process: cannot reset realtime scheduling")
                }
                Ok(()) => {
                    self.realtime = false;
                    self.cur_rt = 0;
                    self.rttime_set = false;
                    if let Some((soft, hard)) = self.orig_rttime.take() {
                        if let Err(e) = nix::sys::resource::setrlimit(
                            nix::sys::resource::Resource::RLIMIT_RTTIME,
                            soft,
                            hard,
                        ) {
                            tracing::warn!(%role, error = %e, "child process cannot reset realtime rlimit");
                        }
                    }
                }
            }
        }
        if let Some(orig) = self.orig_nice.take() {
            if let Err(e) = each_thread(|tid| sys::set_thread_nice(tid, orig)) {
                tracing::info!(%role, "Unable to reset process priority - {e}");
            }
        }
        if self.locked {
            let _ = sys::lock_memory(false);
            self.locked = false;
        }
    }
}

/// `max_auto_priority` and `min_auto_priority_delay` for `role`, at start
/// and after a reload (keepalived passes both to `set_process_priorities()`
/// in `start_vrrp()`). Only the VRRP child watches its timers for late
/// wake-ups (the checker's engine does not report them yet).
pub fn configure_auto_priority(
    settings: &mut ProcessSettings,
    role: Role,
    g: &rkeepalived_config::model::GlobalDefs,
) {
    settings.set_max_auto_priority(g.max_auto_priority);
    if role == Role::Vrrp {
        rkeepalived_vrrp::late_wakeup::configure(g.min_auto_priority_delay);
    }
}

/// Late wake-ups reported by the VRRP engine ([`rkeepalived_vrrp::late_wakeup`]),
/// for the child's loop to call [`ProcessSettings::increment`].
pub struct LateWakeups {
    rx: tokio::sync::mpsc::Receiver<()>,
    _keep: tokio::sync::mpsc::Sender<()>,
}

impl LateWakeups {
    pub fn new(role: Role) -> LateWakeups {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        if role == Role::Vrrp {
            let hook = tx.clone();
            rkeepalived_vrrp::late_wakeup::set_hook(Box::new(move || {
                let _ = hook.try_send(());
            }));
        }
        LateWakeups { rx, _keep: tx }
    }

    /// The next late wake-up.
    pub async fn recv(&mut self) {
        let _ = self.rx.recv().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ProcessOptions {
        ProcessOptions::default()
    }

    #[test]
    fn auto_priority_starts_at_one_and_stops_at_the_maximum() {
        assert_eq!(next_auto_priority(0, 0), None, "max_auto_priority 0: never");
        assert_eq!(next_auto_priority(0, 3), Some(1));
        assert_eq!(next_auto_priority(1, 3), Some(2));
        assert_eq!(next_auto_priority(3, 3), None);
        // Already above the maximum through vrrp_rt_priority: unchanged.
        assert_eq!(next_auto_priority(50, 3), None);
        assert_eq!(next_auto_priority(98, 99), Some(99));
    }

    #[test]
    fn nothing_configured_changes_nothing() {
        let p = plan(&opts(), 4);
        assert_eq!(
            p,
            Plan {
                realtime: None,
                nice: None,
                no_swap: false,
                affinity: vec![],
                invalid_cpu: None
            }
        );
    }

    #[test]
    fn realtime_priority_wins_over_nice_and_defaults_the_rttime() {
        let o = ProcessOptions {
            priority: Some(-5),
            rt_priority: Some(20),
            ..opts()
        };
        let p = plan(&o, 4);
        assert_eq!(p.realtime, Some((20, RT_RLIMIT_DEFAULT)));
        assert_eq!(
            p.nice, None,
            "keepalived ignores *_priority with *_rt_priority"
        );
    }

    #[test]
    fn rttime_of_one_is_raised_to_two_and_ignored_without_rt() {
        let o = ProcessOptions {
            rt_priority: Some(1),
            rlimit_rttime: Some(1),
            ..opts()
        };
        assert_eq!(plan(&o, 1).realtime, Some((1, 2)));
        let o = ProcessOptions {
            priority: Some(7),
            rlimit_rttime: Some(50_000),
            ..opts()
        };
        let p = plan(&o, 1);
        assert_eq!(p.realtime, None);
        assert_eq!(p.nice, Some(7));
    }

    #[test]
    fn nice_zero_is_no_change() {
        let o = ProcessOptions {
            priority: Some(0),
            ..opts()
        };
        assert_eq!(plan(&o, 1).nice, None);
    }

    #[test]
    fn one_offline_cpu_clears_the_affinity() {
        let o = ProcessOptions {
            cpu_affinity: vec![1, 0, 1],
            ..opts()
        };
        assert_eq!(plan(&o, 2).affinity, vec![0, 1]);
        let o = ProcessOptions {
            cpu_affinity: vec![0, 2],
            ..opts()
        };
        let p = plan(&o, 2);
        assert_eq!(p.affinity, Vec::<usize>::new());
        assert_eq!(p.invalid_cpu, Some(2));
    }
}
