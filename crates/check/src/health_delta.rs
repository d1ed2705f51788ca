//! O(change) IPVS updates for health changes (issue #17): the ops a batch
//! of checker verdicts calls for, computed from the changed real servers
//! against the table as last programmed, without rebuilding the desired
//! table or diffing all of it.
//!
//! keepalived does the same: ipwrapper.c `perform_svr_state()` sends one
//! `LVS_CMD_ADD_DEST` / `LVS_CMD_DEL_DEST` for the real server whose state
//! changed (`update_svr_wgt()` one `LVS_CMD_EDIT_DEST` for a weight), and
//! only a flip of its virtual server's quorum (`update_quorum_state()` ->
//! `perform_quorum_state()`) touches every real server of that virtual
//! server and its sorry server.
//!
//! Sans-IO: [`delta_ops`] plans, [`commit`] records what was applied in
//! the programmed table. The engine keeps the full diff for everything
//! else (start, reloads, drains, failures, the periodic resync), and a
//! debug build checks every delta against the full rebuild
//! (`tests/health_delta.rs` does the same over random verdict sequences).

use std::collections::{HashMap, HashSet};

use rkeepalived_ipvs::{reconcile_dest, Dest, IpvsState, Op, OwnedSet};

use crate::health::{desired_dest, desired_sorry, CheckerRef, HealthModel, Update};
use crate::spec::{CheckPlan, VirtualServerSpec};

/// Health changes since the table was last programmed.
#[derive(Debug, Clone, Default)]
pub struct HealthDelta {
    /// Real servers whose checker state or weight changed: (vs, rs).
    real_servers: Vec<(u32, u32)>,
    /// Virtual servers whose quorum state flipped.
    virtual_servers: Vec<u32>,
    /// Something other than health changed (a new plan): diff it all.
    full: bool,
}

impl HealthDelta {
    /// Record the outcome of [`HealthModel::update_checker`] for `at`.
    pub fn record(&mut self, at: CheckerRef, update: &Update) {
        if update.quorum_changed {
            self.virtual_servers.push(at.vs);
        } else if update.changed {
            self.real_servers.push((at.vs, at.rs));
        }
    }

    /// The next sync must diff the whole table.
    pub fn mark_full(&mut self) {
        self.full = true;
    }

    /// The table was synced in full: nothing is pending.
    pub fn clear(&mut self) {
        self.real_servers.clear();
        self.virtual_servers.clear();
        self.full = false;
    }

    pub fn is_full(&self) -> bool {
        self.full
    }

    /// The virtual servers with a pending change (indices of the plan
    /// they were recorded for), with repeats.
    pub fn virtual_servers(&self) -> impl Iterator<Item = u32> + '_ {
        self.real_servers
            .iter()
            .map(|&(vs, _)| vs)
            .chain(self.virtual_servers.iter().copied())
    }

    pub fn is_empty(&self) -> bool {
        !self.full && self.real_servers.is_empty() && self.virtual_servers.is_empty()
    }
}

/// Which virtual servers of a plan take per-server updates: those whose
/// service keys belong to no other virtual server and whose real servers
/// and sorry server all have distinct addresses. For the others, two
/// configured entries land on the same kernel entry and only the full
/// rebuild knows which one wins. Computed once per plan.
#[derive(Debug, Clone, Default)]
pub struct PlanShape {
    independent: Vec<bool>,
    /// Whose real servers (and sorry server) have distinct addresses.
    distinct: Vec<bool>,
}

impl PlanShape {
    pub fn of(plan: &CheckPlan) -> Self {
        let distinct = plan.virtual_servers.iter().map(distinct_dests).collect();
        Self::with_distinct(plan, distinct)
    }

    /// The shape from each virtual server's distinct flag: independent
    /// when its dests are distinct and no other virtual server programs
    /// one of its services.
    fn with_distinct(plan: &CheckPlan, distinct: Vec<bool>) -> Self {
        let mut owners: HashMap<rkeepalived_ipvs::ServiceKey, usize> =
            HashMap::with_capacity(plan.virtual_servers.len());
        for vs in &plan.virtual_servers {
            for key in &vs.keys {
                *owners.entry(*key).or_default() += 1;
            }
        }
        let independent = plan
            .virtual_servers
            .iter()
            .zip(&distinct)
            .map(|(vs, &d)| d && vs.keys.iter().all(|k| owners.get(k) == Some(&1)))
            .collect();
        Self {
            independent,
            distinct,
        }
    }

    /// [`Self::of`] after a delta reload whose `layout` maps each virtual
    /// server of `plan` to `old_plan` (whose shape is `old`) as
    /// `VsSlot::Kept` (identical) or to a changed one. O(virtual servers)
    /// without hashing: only the service keys of the changed and the
    /// removed virtual servers can change who is independent, so the
    /// owners of those few keys are counted and everything else is taken
    /// from `old` (checking every real server's address again is 36,544
    /// set inserts at keepalived issue #2318's size, counting every key's
    /// owners 2,284 map inserts). Falls back to [`Self::of`] when a
    /// virtual server with one of those keys has others too (a group).
    pub fn of_delta(
        plan: &CheckPlan,
        layout: &[rkeepalived_control::delta::VsSlot],
        old: &PlanShape,
        old_plan: &CheckPlan,
    ) -> Self {
        let shape =
            Self::of_delta_inner(plan, layout, old, old_plan).unwrap_or_else(|| Self::of(plan));
        #[cfg(debug_assertions)]
        {
            let full = Self::of(plan);
            assert!(
                shape.independent == full.independent && shape.distinct == full.distinct,
                "the delta's plan shape differs from the full one"
            );
        }
        shape
    }

    fn of_delta_inner(
        plan: &CheckPlan,
        layout: &[rkeepalived_control::delta::VsSlot],
        old: &PlanShape,
        old_plan: &CheckPlan,
    ) -> Option<Self> {
        use rkeepalived_control::delta::VsSlot;
        let n_old = old_plan.virtual_servers.len();
        if layout.len() != plan.virtual_servers.len()
            || old.distinct.len() != n_old
            || old.independent.len() != n_old
        {
            return None;
        }
        // The keys whose owners may have changed: those of the changed
        // virtual servers and of the removed ones.
        let mut kept_old = vec![false; n_old];
        let mut touched: Vec<rkeepalived_ipvs::ServiceKey> = Vec::new();
        for (slot, vs) in layout.iter().zip(&plan.virtual_servers) {
            match *slot {
                VsSlot::Kept(i) => *kept_old.get_mut(i as usize)? = true,
                VsSlot::Changed(_) => touched.extend(vs.keys.iter().copied()),
            }
        }
        for (vs, kept) in old_plan.virtual_servers.iter().zip(&kept_old) {
            if !kept {
                touched.extend(vs.keys.iter().copied());
            }
        }
        touched.sort_unstable();
        touched.dedup();
        // Their owners in the new plan; a virtual server that has one of
        // them and another key needs the other's count: the full shape.
        let mut owners = vec![0u32; touched.len()];
        let mut hits: Vec<usize> = Vec::new();
        for (v, vs) in plan.virtual_servers.iter().enumerate() {
            let mut hit = false;
            for k in &vs.keys {
                if let Ok(t) = touched.binary_search(k) {
                    owners[t] += 1;
                    hit = true;
                }
            }
            if hit {
                if vs.keys.iter().any(|k| touched.binary_search(k).is_err()) {
                    return None;
                }
                hits.push(v);
            }
        }
        let mut distinct = Vec::with_capacity(layout.len());
        let mut independent = Vec::with_capacity(layout.len());
        for (slot, vs) in layout.iter().zip(&plan.virtual_servers) {
            match *slot {
                VsSlot::Kept(i) => {
                    distinct.push(old.distinct[i as usize]);
                    independent.push(old.independent[i as usize]);
                }
                VsSlot::Changed(_) => {
                    distinct.push(distinct_dests(vs));
                    independent.push(false);
                }
            }
        }
        for v in hits {
            let vs = &plan.virtual_servers[v];
            independent[v] = distinct[v]
                && vs
                    .keys
                    .iter()
                    .all(|k| touched.binary_search(k).is_ok_and(|t| owners[t] == 1));
        }
        Some(Self {
            independent,
            distinct,
        })
    }

    /// Whether the real servers (and sorry server) of virtual server `vs`
    /// have distinct addresses.
    pub fn distinct(&self, vs: usize) -> bool {
        self.distinct.get(vs).copied().unwrap_or(false)
    }

    fn independent(&self, vs: u32) -> bool {
        self.independent.get(vs as usize).copied().unwrap_or(false)
    }
}

fn distinct_dests(vs: &VirtualServerSpec) -> bool {
    let mut seen = HashSet::with_capacity(vs.real_servers.len() + 1);
    vs.real_servers
        .iter()
        .map(|r| r.dest.key())
        .chain(vs.sorry_server.map(|s| s.key()))
        .all(|k| seen.insert(k))
}

/// The ops that take `programmed` (the table as last programmed for
/// `plan`) to the table `model` calls for, when only the changes in
/// `delta` happened since: O(changed real servers), or O(real servers of
/// the virtual server) for one whose quorum flipped. `None` when the full
/// diff is needed (a new plan, a virtual server sharing kernel entries, a
/// service missing from `programmed`).
///
/// Only configured entries are looked at: draining and foreign dests are
/// not touched by a health change, as in the full diff. Ops are those
/// [`rkeepalived_ipvs::reconcile()`] would send for the same entries.
pub fn delta_ops(
    plan: &CheckPlan,
    shape: &PlanShape,
    model: &HealthModel,
    delta: &HealthDelta,
    programmed: &IpvsState,
    owned: &OwnedSet,
) -> Option<Vec<Op>> {
    if delta.full {
        return None;
    }
    let mut whole: Vec<u32> = delta.virtual_servers.clone();
    whole.sort_unstable();
    whole.dedup();
    let mut single: Vec<(u32, u32)> = delta
        .real_servers
        .iter()
        .copied()
        .filter(|(vs, _)| whole.binary_search(vs).is_err())
        .collect();
    single.sort_unstable();
    single.dedup();
    let mut ops = Vec::new();
    let entry = |vi: u32| {
        let (vs, vh) = (
            plan.virtual_servers.get(vi as usize)?,
            model.virtual_servers.get(vi as usize)?,
        );
        shape.independent(vi).then_some((vs, vh))
    };
    for &(vi, ri) in &single {
        let (vs, vh) = entry(vi)?;
        let rs = vs.real_servers.get(ri as usize)?;
        let want = desired_dest(vs, vh, ri as usize);
        dest_ops(vs, rs.dest, want, programmed, owned, &mut ops)?;
    }
    for &vi in &whole {
        let (vs, vh) = entry(vi)?;
        for (ri, rs) in vs.real_servers.iter().enumerate() {
            let want = desired_dest(vs, vh, ri);
            dest_ops(vs, rs.dest, want, programmed, owned, &mut ops)?;
        }
        if let Some(sorry) = vs.sorry_server {
            dest_ops(
                vs,
                sorry,
                desired_sorry(vs, vh),
                programmed,
                owned,
                &mut ops,
            )?;
        }
    }
    Some(ops)
}

/// The op of one configured dest in each service of `vs`.
fn dest_ops(
    vs: &VirtualServerSpec,
    configured: Dest,
    want: Option<Dest>,
    programmed: &IpvsState,
    owned: &OwnedSet,
    ops: &mut Vec<Op>,
) -> Option<()> {
    let dkey = configured.key();
    for key in &vs.keys {
        let have = programmed.services.get(key)?;
        ops.extend(reconcile_dest(
            key,
            &dkey,
            want.as_ref(),
            have.dests.get(&dkey),
            owned,
        ));
    }
    Some(())
}

/// Record `ops` (all applied) in `programmed` and `owned`, as the full
/// sync does: a dest we added or edited is ours; one we deleted stays
/// ours until a full sync finds it neither desired nor in the kernel.
pub fn commit(programmed: &mut IpvsState, owned: &mut OwnedSet, ops: &[Op]) {
    for op in ops {
        match op {
            Op::AddDest(key, dest) | Op::EditDest(key, dest) => {
                if let Some(entry) = programmed.services.get_mut(key) {
                    entry.dests.insert(dest.key(), *dest);
                }
                owned.dests.entry(*key).or_default().insert(dest.key());
            }
            Op::DelDest(key, dkey) => {
                if let Some(entry) = programmed.services.get_mut(key) {
                    entry.dests.remove(dkey);
                }
            }
            // Never planned by delta_ops: the service set only changes on reload.
            _ => {}
        }
    }
}
