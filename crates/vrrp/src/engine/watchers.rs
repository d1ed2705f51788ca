//! The tracked objects' watchers: vrrp_script pollers, vrrp_track_file
//! readers and the vrrp_track_process scanner, whose results come back as
//! `TrackUpdate`s (engine/tracking.rs turns them into core inputs).

use super::*;

impl Engine {
    /// Spawn script pollers and track file readers for every object the
    /// configuration defines. On a reload, watchers whose definition did not
    /// change keep running, and a changed or restarted script resumes from its
    /// last status (keepalived `clear_diff_script()`), so a reload never sends
    /// a tracked instance through "no result yet" (FAULT, VIP dropped).
    pub(super) fn start_watchers(&mut self) {
        let cfg = self.cfg.clone();
        let (keep, stop): (Vec<_>, Vec<_>) = std::mem::take(&mut self.watchers)
            .into_iter()
            .partition(|(w, _)| match w {
                Watched::Script(s) => cfg.vrrp_scripts.contains(s),
                Watched::File(f) => cfg.vrrp_track_files.contains(f),
                Watched::Processes(p) => *p == cfg.vrrp_track_processes,
            });
        for (_, h) in stop {
            h.abort();
        }
        self.watchers = keep;
        for s in &cfg.vrrp_scripts {
            let w = Watched::Script(s.clone());
            if self.watchers.iter().any(|(x, _)| *x == w) {
                continue;
            }
            let previous = self.router.track().scripts.get(&s.name).copied();
            let h = watch::spawn_script_resumed(
                s.clone(),
                self.notifier.runner().clone(),
                self.track_tx.clone(),
                previous,
            );
            self.watchers.push((w, h));
        }
        for f in &cfg.vrrp_track_files {
            let w = Watched::File(f.clone());
            if self.watchers.iter().any(|(x, _)| *x == w) {
                continue;
            }
            let h = watch::spawn_track_file(f.clone(), self.track_tx.clone());
            self.watchers.push((w, h));
        }
        self.start_process_tracking();
    }

    /// vrrp_track_process: scan `/proc` once now (instances start with the
    /// right status, as keepalived's `init_track_processes()` /
    /// `reload_track_processes()`), then keep one scanner running for all
    /// definitions ([`crate::track_process`]). An unchanged set keeps its
    /// scanner over a reload.
    pub(super) fn start_process_tracking(&mut self) {
        let defs = self.cfg.vrrp_track_processes.clone();
        self.router
            .track_mut()
            .processes
            .retain(|n, _| defs.iter().any(|d| d.name == *n));
        if defs.is_empty()
            || self
                .watchers
                .iter()
                .any(|(w, _)| matches!(w, Watched::Processes(_)))
        {
            return;
        }
        let filters = crate::track_process::initial(&defs);
        for (d, f) in defs.iter().zip(&filters) {
            let have = f.have_quorum();
            tracing::debug!(process = %d.name, have_quorum = have, "tracked process scanned");
            self.router
                .track_mut()
                .processes
                .insert(d.name.clone(), have);
            // keepalived vrrp/vrrp_track.c `initialise_process_tracking_priorities()`.
            for inst in &self.cfg.vrrp_instances {
                let holds = inst
                    .track_processes
                    .iter()
                    .any(|r| r.name == d.name && r.weight == 0 && have == r.reverse);
                if holds {
                    tracing::info!(
                        instance = %inst.name,
                        process = %d.name,
                        "({}) entering FAULT state (tracked process {} quorum not achieved)",
                        inst.name,
                        d.name
                    );
                }
            }
        }
        let bufs = crate::track_process::RcvBufs::from_config(&self.cfg.global_defs);
        let h =
            crate::track_process::spawn_with(defs.clone(), filters, self.track_tx.clone(), bufs);
        self.watchers.push((Watched::Processes(defs), h));
    }
}
