//! Desired-state reconciler: compute the minimal ops that turn the kernel
//! table (`current`, from a dump) into `desired`, without touching entries
//! some other tool created unless the policy says to flush them.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Dest, DestKey, IpvsState, Op, ServiceEntry, ServiceKey};

/// What this daemon is allowed to remove.
///
/// We only delete entries we created ourselves (recorded in `services` /
/// `dests` after earlier applies) so that services added by hand or by
/// another tool survive a reload — the keepalived behaviour. With
/// `flush_foreign` (keepalived's `lvs_flush`) everything not desired goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedSet {
    pub services: BTreeSet<ServiceKey>,
    /// Per service (ours or not): the dests we added to it. Grouped so
    /// 10,000 dests of one service cost 10,000 `DestKey`s, not 10,000
    /// service keys beside them.
    pub dests: BTreeMap<ServiceKey, BTreeSet<DestKey>>,
    pub flush_foreign: bool,
}

impl OwnedSet {
    /// Own nothing, delete nothing foreign.
    pub fn new() -> Self {
        Self::default()
    }

    /// Policy that removes everything not in the desired state (`lvs_flush`).
    pub fn flush_all() -> Self {
        OwnedSet {
            flush_foreign: true,
            ..Self::default()
        }
    }

    /// Record every entry of `state` as ours (call after applying it).
    pub fn record(&mut self, state: &IpvsState) {
        for (key, entry) in &state.services {
            self.services.insert(*key);
            if !entry.dests.is_empty() {
                self.dests
                    .entry(*key)
                    .or_default()
                    .extend(entry.dests.keys().copied());
            }
        }
    }

    /// Forget entries that are neither desired nor still present in the kernel.
    pub fn retain_relevant(&mut self, desired: &IpvsState, current: &IpvsState) {
        let present = |state: &IpvsState, k: &ServiceKey| state.services.contains_key(k);
        self.services
            .retain(|k| present(desired, k) || present(current, k));
        self.dests.retain(|k, dests| {
            let (want, have) = (desired.services.get(k), current.services.get(k));
            dests.retain(|d| {
                want.is_some_and(|e| e.dests.contains_key(d))
                    || have.is_some_and(|e| e.dests.contains_key(d))
            });
            !dests.is_empty()
        });
    }

    pub fn owns_service(&self, key: &ServiceKey) -> bool {
        self.flush_foreign || self.services.contains(key)
    }

    pub fn owns_dest(&self, key: &ServiceKey, dest: &DestKey) -> bool {
        self.flush_foreign || self.dests.get(key).is_some_and(|d| d.contains(dest))
    }
}

/// Ops that make `current` match `desired`, smallest set first:
///
/// 1. delete owned services that are no longer desired (their dests go with them),
/// 2. add missing services / edit changed ones in place (`SET`, so existing
///    connections and dest stats survive),
/// 3. per desired service: delete owned stale dests, edit changed dests,
///    add missing ones (restoring entries deleted by hand).
///
/// Deleting stale dests before adding keeps the table from transiently
/// exceeding its intended size; edits never use delete+add.
pub fn reconcile(desired: &IpvsState, current: &IpvsState, owned: &OwnedSet) -> Vec<Op> {
    let mut ops = Vec::new();

    for key in current.services.keys() {
        if !desired.services.contains_key(key) && owned.owns_service(key) {
            ops.push(Op::DelService(*key));
        }
    }

    for (key, want) in &desired.services {
        reconcile_service(key, want, current.services.get(key), owned, &mut ops);
    }
    ops
}

/// The ops of [`reconcile`] for one desired service: add it (and its dests)
/// when `have` is missing, else edit it and its dests in place, delete
/// owned stale dests first. O(dests of this service): the checker's
/// health changes use it for the one virtual server whose quorum changed.
pub fn reconcile_service(
    key: &ServiceKey,
    want: &ServiceEntry,
    have: Option<&ServiceEntry>,
    owned: &OwnedSet,
    ops: &mut Vec<Op>,
) {
    let Some(have) = have else {
        ops.push(Op::AddService(want.service.clone()));
        ops.extend(want.dests.values().map(|d| Op::AddDest(*key, *d)));
        return;
    };
    if want.service.differs_from(&have.service) {
        ops.push(Op::EditService(want.service.clone()));
    }
    for dkey in have.dests.keys() {
        if !want.dests.contains_key(dkey) {
            ops.extend(reconcile_dest(key, dkey, None, have.dests.get(dkey), owned));
        }
    }
    for (dkey, dest) in &want.dests {
        ops.extend(reconcile_dest(
            key,
            dkey,
            Some(dest),
            have.dests.get(dkey),
            owned,
        ));
    }
}

/// The op (if any) of [`reconcile`] for one dest of an existing service:
/// `want` is the desired entry, `have` the current one. O(1): a real
/// server's health change is applied with it alone.
pub fn reconcile_dest(
    key: &ServiceKey,
    dkey: &DestKey,
    want: Option<&Dest>,
    have: Option<&Dest>,
    owned: &OwnedSet,
) -> Option<Op> {
    match (want, have) {
        (None, Some(_)) if owned.owns_dest(key, dkey) => Some(Op::DelDest(*key, *dkey)),
        (Some(dest), None) => Some(Op::AddDest(*key, *dest)),
        (Some(dest), Some(existing)) if existing != dest => Some(Op::EditDest(*key, *dest)),
        _ => None,
    }
}
