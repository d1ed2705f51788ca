//! The engine's O(change) path for health changes ([`crate::health_delta`]): a
//! verdict reaches IPVS as the one op of its real server (ipwrapper.c
//! `perform_svr_state()`), however big the table is.

use std::sync::atomic::Ordering::Relaxed;

use super::ipvs_sync::ms;
use super::*;

/// Tables up to this size are checked against the full rebuild after every
/// delta in debug builds (tests); bigger ones would make the check the cost.
#[cfg(debug_assertions)]
const CROSS_CHECK_MAX_DESTS: usize = 4096;

impl Engine {
    /// Apply the pending health changes: O(change) from the table as last
    /// programmed when only health changed since, else the full diff of
    /// [`Self::sync_ipvs`]. Returns the ops sent.
    pub(super) fn sync_health(&mut self) -> usize {
        if self.timeouts_pending || self.syncd_pending || self.flush_pending {
            return self.sync_ipvs();
        }
        let started = std::time::Instant::now();
        let planned = self.kernel_cache.as_ref().and_then(|programmed| {
            crate::health_delta::delta_ops(
                &self.plan,
                &self.shape,
                &self.model,
                &self.delta,
                programmed,
                &self.owned,
            )
        });
        let Some(ops) = planned else {
            return self.sync_ipvs();
        };
        self.metrics.ipvs_syncs.fetch_add(1, Relaxed);
        self.delta.clear();
        let diffed = started.elapsed();
        let failed = self.send_ops(&ops);
        tracing::debug!(
            ops = ops.len(),
            failed,
            "IPVS health change: planned in {:.3} ms, applied in {:.3} ms",
            ms(diffed),
            ms(started.elapsed() - diffed)
        );
        if failed > 0 {
            return self.full_sync_after_failures(failed);
        }
        if let Some(programmed) = self.kernel_cache.as_mut() {
            crate::health_delta::commit(programmed, &mut self.owned, &ops);
        }
        self.ipvs_dirty = false;
        #[cfg(debug_assertions)]
        self.cross_check_delta();
        ops.len()
    }

    /// Debug builds: `desired` with the dests of `programmed` that are not
    /// ours (the full diff leaves them alone, so they stay on both sides of
    /// a cross-check).
    #[cfg(debug_assertions)]
    pub(super) fn with_foreign_dests(
        &self,
        desired: &rkeepalived_ipvs::IpvsState,
        programmed: &rkeepalived_ipvs::IpvsState,
    ) -> rkeepalived_ipvs::IpvsState {
        let mut want = desired.clone();
        for (key, entry) in &programmed.services {
            if let Some(w) = want.services.get_mut(key) {
                for (dkey, dest) in &entry.dests {
                    if !self.owned.owns_dest(key, dkey) {
                        w.dests.entry(*dkey).or_insert(*dest);
                    }
                }
            }
        }
        want
    }

    /// Debug builds: the table after a delta is the full rebuild's.
    #[cfg(debug_assertions)]
    fn cross_check_delta(&self) {
        let Some(programmed) = &self.kernel_cache else {
            return;
        };
        if programmed.dest_count() > CROSS_CHECK_MAX_DESTS {
            return;
        }
        let desired = self.desired();
        let want = self.with_foreign_dests(&desired, programmed);
        assert_eq!(
            programmed.services, want.services,
            "the O(change) update differs from the full rebuild"
        );
    }
}
