//! The IPVS side of a delta reload in O(change) (issue #17 item 1): the
//! ops that take the table as last programmed for the running plan to the
//! new plan's, computed from the virtual servers the delta changed, added
//! or removed only, instead of building the whole desired table and
//! diffing all of it (`reconcile`, 36,544 dests at keepalived issue #2318's
//! size, for one changed weight).
//!
//! keepalived's reload walks every service (ipwrapper.c
//! `clear_diff_services()`, `vs_exist()` / `rs_exist()`) and then sends
//! only what differs; the ops here are those of the full diff
//! ([`rkeepalived_ipvs::reconcile()`]), in the same order: a kept virtual
//! server is identical (`VsSlot::Kept`) with the same health, so the full
//! diff sends nothing for its services, and what is left is the diff of
//! the services of the changed, added and removed ones.
//!
//! Sans-IO: [`plan`] computes, [`ReloadIpvs::commit`] records an applied
//! result in the programmed table and the owned set. `None` from [`plan`]
//! (the caller runs the full sync) when a service of those is also one of
//! an unaffected kept virtual server (two virtual servers on one kernel
//! entry: only the full rebuild knows which wins) or the layout does not
//! fit the plans. The engine checks the rest (drains, pending timeouts,
//! sync daemons, flush, no programmed table, a failed previous sync).

use std::collections::BTreeSet;

use rkeepalived_control::delta::VsSlot;
use rkeepalived_ipvs::{reconcile_service, IpvsState, Op, OwnedSet, ServiceKey};

use crate::health::HealthModel;
use crate::spec::CheckPlan;

/// A delta reload's IPVS update: its ops, and what they make of the
/// affected services.
#[derive(Debug, Clone)]
pub struct ReloadIpvs {
    /// Every service the delta may change (of the changed, added, removed
    /// and health-touched virtual servers, old and new).
    keys: BTreeSet<ServiceKey>,
    /// The new plan's entries of those services (those absent are gone).
    want: IpvsState,
    /// The full diff's ops for them, in its order.
    pub ops: Vec<Op>,
}

impl ReloadIpvs {
    /// How many services were diffed.
    pub fn services(&self) -> usize {
        self.keys.len()
    }

    /// Record the applied ops as the full sync does after `reconcile`:
    /// the affected services of `programmed` become the desired ones; the
    /// owned set gets every desired entry (`OwnedSet::record`) and, for
    /// those services, forgets entries neither desired nor programmed
    /// before (`OwnedSet::retain_relevant`). Owned entries of other
    /// services are left as they are (the full sync would forget the ones
    /// that are in neither table; the next full sync, at the latest the
    /// periodic resync, does).
    pub fn commit(self, programmed: &mut IpvsState, owned: &mut OwnedSet) {
        for key in &self.keys {
            let want = self.want.services.get(key);
            let had = programmed.services.get(key);
            if let Some(w) = want {
                owned.services.insert(*key);
                if !w.dests.is_empty() {
                    owned
                        .dests
                        .entry(*key)
                        .or_default()
                        .extend(w.dests.keys().copied());
                }
            }
            if want.is_none() && had.is_none() {
                owned.services.remove(key);
            }
            if let Some(dests) = owned.dests.get_mut(key) {
                dests.retain(|d| {
                    want.is_some_and(|e| e.dests.contains_key(d))
                        || had.is_some_and(|e| e.dests.contains_key(d))
                });
                if dests.is_empty() {
                    owned.dests.remove(key);
                }
            }
        }
        let ReloadIpvs { keys, mut want, .. } = self;
        for key in keys {
            match want.services.remove(&key) {
                Some(entry) => {
                    programmed.services.insert(key, entry);
                }
                None => {
                    programmed.services.remove(&key);
                }
            }
        }
    }
}

/// The IPVS update of a delta reload from `old` to `new` (`layout`: each
/// virtual server of `new` is `old`'s unchanged one or a changed one),
/// with `model` the health of `new`, `touched` the kept virtual servers
/// (indices of `new`) whose entries may differ anyway (health carried over
/// or changed since), `programmed` the table as last programmed for `old`
/// (exactly its desired table, foreign entries aside) and `owned` what we
/// created. O(changed virtual servers' real servers + virtual servers).
pub fn plan(
    old: &CheckPlan,
    new: &CheckPlan,
    layout: &[VsSlot],
    touched: &[u32],
    model: &HealthModel,
    programmed: &IpvsState,
    owned: &OwnedSet,
) -> Option<ReloadIpvs> {
    if layout.len() != new.virtual_servers.len()
        || model.virtual_servers.len() != new.virtual_servers.len()
    {
        return None;
    }
    let mut kept_old = vec![false; old.virtual_servers.len()];
    let mut affected: Vec<usize> = Vec::new();
    for (v, slot) in layout.iter().enumerate() {
        match *slot {
            VsSlot::Kept(i) => *kept_old.get_mut(i as usize)? = true,
            VsSlot::Changed(_) => affected.push(v),
        }
    }
    for &v in touched {
        if (v as usize) >= new.virtual_servers.len() {
            return None;
        }
        affected.push(v as usize);
    }
    affected.sort_unstable();
    affected.dedup();
    let mut keys: BTreeSet<ServiceKey> = BTreeSet::new();
    for &v in &affected {
        keys.extend(new.virtual_servers[v].keys.iter().copied());
    }
    for (vs, kept) in old.virtual_servers.iter().zip(&kept_old) {
        if !kept {
            keys.extend(vs.keys.iter().copied());
        }
    }
    // A service shared with an unaffected kept virtual server: the full
    // rebuild merges both (IpvsState::upsert_service), leave it to it.
    let shared = new.virtual_servers.iter().enumerate().any(|(v, vs)| {
        affected.binary_search(&v).is_err() && vs.keys.iter().any(|k| keys.contains(k))
    });
    if shared {
        return None;
    }
    let want = model.desired_ipvs_of(new, &affected);
    // reconcile()'s order: owned services no longer desired first (in key
    // order), then each desired service in key order.
    let mut ops = Vec::new();
    for key in &keys {
        if !want.services.contains_key(key)
            && programmed.services.contains_key(key)
            && owned.owns_service(key)
        {
            ops.push(Op::DelService(*key));
        }
    }
    for (key, entry) in &want.services {
        reconcile_service(key, entry, programmed.services.get(key), owned, &mut ops);
    }
    Some(ReloadIpvs { keys, want, ops })
}
