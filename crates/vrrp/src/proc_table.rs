//! Which running processes count for which `vrrp_track_process`, kept up
//! to date from process events (pure: the caller reads `/proc` and passes
//! what it saw). keepalived core/track_process.c keeps the same table (its
//! `process_tree`, pid → tracked processes) and updates it in
//! `check_process()`, `check_process_fork()`, `check_process_comm_change()`
//! and `check_process_termination()`.

use std::collections::HashMap;

use rkeepalived_config::model::VrrpTrackProcess;

use crate::track_process::{matches, ProcView};

/// The pid table and the per-definition counts.
#[derive(Debug, Clone, Default)]
pub struct ProcTable {
    /// pid → indexes of the definitions it counts for (never empty).
    pids: HashMap<i32, Vec<usize>>,
    counts: Vec<u32>,
}

impl ProcTable {
    pub fn new(defs: usize) -> Self {
        ProcTable {
            pids: HashMap::new(),
            counts: vec![0; defs],
        }
    }

    /// Matching processes per definition.
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// Whether `pid` counts for anything.
    pub fn tracks(&self, pid: i32) -> bool {
        self.pids.contains_key(&pid)
    }

    fn set(&mut self, pid: i32, now: Vec<usize>) {
        let before = if now.is_empty() {
            self.pids.remove(&pid)
        } else {
            self.pids.insert(pid, now.clone())
        }
        .unwrap_or_default();
        for i in &before {
            if !now.contains(i) {
                if let Some(c) = self.counts.get_mut(*i) {
                    *c = c.saturating_sub(1);
                }
            }
        }
        for i in &now {
            if !before.contains(i) {
                if let Some(c) = self.counts.get_mut(*i) {
                    *c = c.saturating_add(1);
                }
            }
        }
    }

    /// `pid` as seen in `/proc` (the initial scan, or after an exec):
    /// it counts for exactly the definitions it matches now
    /// (keepalived `check_process(pid, NULL, ...)`). `None`: it could not
    /// be read (gone already), so it counts for nothing.
    pub fn seen(&mut self, defs: &[VrrpTrackProcess], pid: i32, view: Option<&ProcView<'_>>) {
        let now = match view {
            Some(v) => defs
                .iter()
                .enumerate()
                .filter(|(_, d)| matches(d, v))
                .map(|(i, _)| i)
                .collect(),
            None => Vec::new(),
        };
        self.set(pid, now);
    }

    /// A new process: the child of a counted process counts for the same
    /// definitions (same comm and command line until it execs;
    /// keepalived `check_process_fork()`). A child already known (seen by a
    /// scan that raced with the event) is left alone.
    pub fn fork(&mut self, parent: i32, child: i32) {
        if self.pids.contains_key(&child) {
            return;
        }
        if let Some(of) = self.pids.get(&parent).cloned() {
            self.set(child, of);
        }
    }

    /// The process renamed itself (`PROC_EVENT_COMM`): definitions matched
    /// on `comm` are re-evaluated with the new name, those on the full
    /// command line are unchanged (keepalived `check_process_comm_change()`
    /// then `check_process(pid, comm, ...)`).
    pub fn comm(&mut self, defs: &[VrrpTrackProcess], pid: i32, comm: &[u8]) {
        let before = self.pids.get(&pid).cloned().unwrap_or_default();
        let now: Vec<usize> = defs
            .iter()
            .enumerate()
            .filter(|(i, d)| {
                if d.full_command {
                    before.contains(i)
                } else {
                    d.process.as_bytes() == comm
                }
            })
            .map(|(i, _)| i)
            .collect();
        self.set(pid, now);
    }

    /// The process exited (keepalived `check_process_termination()`).
    pub fn exit(&mut self, pid: i32) {
        self.set(pid, Vec::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(process: &str, full: bool) -> VrrpTrackProcess {
        VrrpTrackProcess {
            full_command: full,
            ..VrrpTrackProcess::new(process, process)
        }
    }

    fn v<'a>(comm: &'a str, cmdline: &'a [u8]) -> ProcView<'a> {
        ProcView {
            comm: comm.as_bytes(),
            zombie: false,
            cmdline,
        }
    }

    #[test]
    fn exec_fork_comm_exit_keep_the_counts() {
        let defs = [def("haproxy", false), def("/usr/bin/sleep", true)];
        let mut t = ProcTable::new(2);
        // A shell forks and execs haproxy.
        t.seen(&defs, 10, Some(&v("bash", b"bash\0")));
        assert!(!t.tracks(10));
        t.seen(&defs, 10, Some(&v("haproxy", b"/usr/sbin/haproxy\0")));
        assert_eq!(t.counts(), &[1, 0]);
        // haproxy forks a worker: counted too; a duplicate fork is ignored.
        t.fork(10, 11);
        t.fork(10, 11);
        assert_eq!(t.counts(), &[2, 0]);
        // An untracked parent's child is not tracked.
        t.fork(99, 100);
        assert!(!t.tracks(100));
        // The worker renames itself: no longer "haproxy".
        t.comm(&defs, 11, b"haproxy-w");
        assert_eq!(t.counts(), &[1, 0]);
        t.comm(&defs, 11, b"haproxy");
        assert_eq!(t.counts(), &[2, 0]);
        t.exit(11);
        t.exit(11);
        assert_eq!(t.counts(), &[1, 0]);
        // The master execs something else.
        t.seen(&defs, 10, Some(&v("sleep", b"/usr/bin/sleep\x009\0")));
        assert_eq!(t.counts(), &[0, 1]);
        // A comm change keeps a full_command match.
        t.comm(&defs, 10, b"haproxy");
        assert_eq!(t.counts(), &[1, 1]);
        // Gone before /proc could be read: counts for nothing.
        t.seen(&defs, 10, None);
        assert_eq!(t.counts(), &[0, 0]);
        assert!(!t.tracks(10));
    }
}
