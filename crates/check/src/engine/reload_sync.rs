//! The engine's O(change) IPVS update after a delta reload
//! ([`crate::reload_ipvs`]): only the services of the virtual servers the
//! delta changed, added or removed are diffed against the table as last
//! programmed, with the ops [`Engine::sync_ipvs`]'s full diff would send.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use rkeepalived_control::delta::VsSlot;

use super::ipvs_sync::ms;
use super::Engine;
use crate::spec::CheckPlan;

/// Tables up to this size are checked against the full rebuild after every
/// delta reload in debug builds (tests); bigger ones would make the check
/// the cost.
#[cfg(debug_assertions)]
const CROSS_CHECK_MAX_DESTS: usize = 4096;

impl Engine {
    /// Apply a delta reload (from `old`, the plan the table was last
    /// programmed for with nothing pending, to `self.plan` by `layout`) to
    /// IPVS in O(change): the ops sent, or `None`, with nothing sent, when
    /// the full sync must run (no programmed table, a flush pending,
    /// draining dests, a health carry-over that was not the delta one, a
    /// service shared with an unchanged virtual server). Timeouts and sync
    /// daemons are set first, as by [`Engine::sync_ipvs`].
    pub(super) fn sync_reload_delta(
        &mut self,
        old: &CheckPlan,
        layout: &[VsSlot],
    ) -> Option<usize> {
        if self.flush_pending || !self.drains.is_empty() {
            return None;
        }
        let started = std::time::Instant::now();
        // Kept virtual servers whose entries may differ: the carry-over's
        // recomputed flags, and health changes recorded since (BFD replay).
        let mut touched = self.reload_touched.clone()?;
        touched.extend(self.delta.virtual_servers());
        let plan = Arc::clone(&self.plan);
        let programmed = self.kernel_cache.as_ref()?;
        let update = crate::reload_ipvs::plan(
            old,
            &plan,
            layout,
            &touched,
            &self.model,
            programmed,
            &self.owned,
        )?;
        #[cfg(debug_assertions)]
        let before = (programmed.dest_count() <= CROSS_CHECK_MAX_DESTS)
            .then(|| (programmed.clone(), self.owned.clone()));
        self.metrics.ipvs_syncs.fetch_add(1, Relaxed);
        self.delta.clear();
        // As sync_ipvs: every reload sets the timeouts again (start_check()).
        self.apply_pending_globals();
        let diffed = started.elapsed();
        let services = update.services();
        let failed = self.send_ops(&update.ops);
        let n = update.ops.len();
        tracing::debug!(
            ops = n,
            failed,
            services,
            "IPVS sync of a delta reload ({services} service(s)): diffed in {:.3} ms, applied in {:.3} ms",
            ms(diffed),
            ms(started.elapsed() - diffed)
        );
        if failed > 0 {
            self.delta.mark_full();
            return Some(self.full_sync_after_failures(failed));
        }
        #[cfg(debug_assertions)]
        let sent = update.ops.clone();
        if let Some(programmed) = self.kernel_cache.as_mut() {
            update.commit(programmed, &mut self.owned);
        }
        self.ipvs_dirty = false;
        #[cfg(debug_assertions)]
        if let Some((programmed, owned)) = before {
            self.cross_check_reload(&sent, &programmed, owned);
        }
        Some(n)
    }

    /// Debug builds: the ops of a delta reload are the full diff's, and
    /// the programmed table and owned set after it are the full sync's
    /// (entries owned in services the delta did not touch aside: the full
    /// sync forgets those in neither table, this path leaves them).
    #[cfg(debug_assertions)]
    fn cross_check_reload(
        &self,
        sent: &[rkeepalived_ipvs::Op],
        before: &rkeepalived_ipvs::IpvsState,
        mut owned: rkeepalived_ipvs::OwnedSet,
    ) {
        let desired = self.desired();
        let full = rkeepalived_ipvs::reconcile(&desired, before, &owned);
        assert_eq!(
            sent, full,
            "the O(change) reload ops differ from the full diff"
        );
        let Some(programmed) = &self.kernel_cache else {
            return;
        };
        let mut want = self.with_foreign_dests(&desired, programmed);
        // Foreign services too (never in `desired`).
        for (key, entry) in &programmed.services {
            if !desired.services.contains_key(key) && !self.owned.owns_service(key) {
                want.services.insert(*key, entry.clone());
            }
        }
        assert_eq!(
            programmed.services, want.services,
            "the O(change) reload's table differs from the full rebuild"
        );
        owned.record(&desired);
        owned.retain_relevant(&desired, before);
        // The O(change) update does not prune the owned dests of services
        // it did not diff: one removed by a health change (a failed real
        // server) is neither desired nor in the table, and the full sync
        // forgets it at once, the O(change) one at the next full sync
        // (the periodic resync). Compared after that prune.
        let mut pruned = self.owned.clone();
        pruned.retain_relevant(&desired, before);
        for key in desired.services.keys() {
            assert_eq!(
                owned.dests.get(key),
                pruned.dests.get(key),
                "the O(change) reload's owned dests of {key:?} differ from the full sync's"
            );
            assert!(self.owned.services.contains(key));
        }
    }
}
