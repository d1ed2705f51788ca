//! A delta reload's matching of the running checkers to the new plan
//! (issue #17 item 1): only the checkers of the virtual servers the delta
//! changed are matched; those of the unchanged ones keep their slots and
//! are re-pointed only if their virtual server moved.
//!
//! [`Engine::match_all`] walks every checker of the plan (36,544 at
//! keepalived issue #2318's size) with a map of every running one. Here a
//! delta's kept virtual servers are the running plan's (`VsSlot::Kept`:
//! identical), so `match_all` would keep each of their checkers in its own
//! slot at the new position, as long as no probe is shared: it shares a
//! slot between checkers with equal specs only, and after any match no two
//! running slots have equal specs. What is left is `match_all`'s work for
//! the changed virtual servers, against the slots of the virtual servers
//! that are gone (the changed ones replace them by name). When that
//! reasoning does not hold (a probe shared now, a changed checker that
//! would share a kept one's probe, a virtual server name twice), nothing is
//! touched and `match_all` runs.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rkeepalived_control::delta::VsSlot;

use super::{CheckerKey, Engine};
use crate::driver::{CheckerTask, SlotId};
use crate::health::{CheckerRef, HealthModel};
use crate::spec::{CheckPlan, VirtualServerSpec};

/// What matching checkers to running slots accumulates
/// ([`Engine::match_virtual_server`]).
#[derive(Default)]
pub(super) struct Matching {
    /// Running probes by target (destination, kind), then compared in full.
    probes: HashMap<(SocketAddr, &'static str), Vec<SlotId>>,
    /// Slots serving a checker of the new plan.
    pub(super) in_use: HashSet<SlotId>,
    pub(super) kept: usize,
    pub(super) started: usize,
}

impl Matching {
    /// Room for `checkers` matches; `kept` already counted.
    pub(super) fn with_capacity(checkers: usize, kept: usize) -> Self {
        Matching {
            probes: HashMap::with_capacity(checkers),
            in_use: HashSet::with_capacity(checkers),
            kept,
            started: 0,
        }
    }
}

impl Engine {
    /// [`Engine::match_all`] for a delta whose `layout` maps each virtual
    /// server of `plan` to the running plan's or to a changed one:
    /// (kept, started, stopped), or None, with nothing changed, when it
    /// cannot be sure to match as `match_all` would (see the module docs).
    pub(super) fn match_delta(
        &mut self,
        plan: &CheckPlan,
        layout: &[VsSlot],
        model: &HealthModel,
    ) -> Option<(usize, usize, usize)> {
        let old = Arc::clone(&self.plan);
        if self.checks.has_shared() || layout.len() != plan.virtual_servers.len() {
            return None;
        }
        // Identity and health carry over by name: names must be unique.
        let mut names = HashSet::with_capacity(plan.virtual_servers.len());
        if !plan
            .virtual_servers
            .iter()
            .all(|v| names.insert(v.name.as_str()))
        {
            return None;
        }
        let mut old_names = HashSet::with_capacity(old.virtual_servers.len());
        if !old
            .virtual_servers
            .iter()
            .all(|v| old_names.insert(v.name.as_str()))
        {
            return None;
        }
        // The new position of each kept virtual server; the changed ones.
        let mut remap: Vec<Option<u32>> = vec![None; old.virtual_servers.len()];
        let mut changed: Vec<usize> = Vec::new();
        for (v, slot) in layout.iter().enumerate() {
            match *slot {
                VsSlot::Kept(i) => {
                    let r = remap.get_mut(i as usize)?;
                    // plan_delta copies the running plan's virtual server
                    // for a kept slot: equal by construction.
                    if r.is_some() {
                        return None;
                    }
                    *r = Some(u32::try_from(v).ok()?);
                }
                VsSlot::Changed(_) => changed.push(v),
            }
        }
        // The changed checkers' probes, to find a kept one they would share:
        // sorted, a few per changed virtual server, searched once per
        // running checker (36,544 at keepalived issue #2318's size: no
        // hashing per checker).
        let mut changed_probes: Vec<(SocketAddr, &'static str)> = Vec::new();
        for &v in &changed {
            for rs in plan.virtual_servers[v].real_servers.iter() {
                for spec in &rs.checkers {
                    if !crate::bfd_check::is_bfd(&spec.kind) {
                        changed_probes.push((spec.conn.dst, spec.kind.name()));
                    }
                }
            }
        }
        changed_probes.sort_unstable();
        changed_probes.dedup();
        // One pass over the running slots: the kept ones' new places, the
        // others by identity.
        let mut moved: Vec<(SlotId, CheckerRef)> = Vec::new();
        let mut gone: HashMap<CheckerKey, SlotId> = HashMap::new();
        let mut gone_slots: Vec<SlotId> = Vec::new();
        let mut kept_probes: HashMap<(SocketAddr, &'static str), Vec<SlotId>> = HashMap::new();
        let mut kept = 0usize;
        for (id, task) in self.checks.tasks() {
            let at = task.at;
            let ovs = old.virtual_servers.get(at.vs as usize)?;
            match remap.get(at.vs as usize).copied().flatten() {
                Some(v) => {
                    kept += 1;
                    if v != at.vs {
                        moved.push((id, CheckerRef { vs: v, ..at }));
                    }
                    let probe = (task.spec.conn.dst, task.spec.kind.name());
                    if changed_probes.binary_search(&probe).is_ok() {
                        kept_probes.entry(probe).or_default().push(id);
                    }
                }
                None => {
                    gone_slots.push(id);
                    let key = CheckerKey {
                        vs: Arc::from(ovs.name.as_str()),
                        rs: ovs.real_servers.get(at.rs as usize)?.dest.key(),
                        index: at.checker,
                    };
                    gone.insert(key, id);
                }
            }
        }
        // A changed checker that would share a kept one's probe: the
        // order of the plan decides which slot stays; leave it to match_all.
        for &v in &changed {
            let vs = &plan.virtual_servers[v];
            let suspend_on: Option<Arc<[IpAddr]>> = vs.ha_suspend.then(|| vs.vip_addrs().into());
            for rs in vs.real_servers.iter() {
                for spec in &rs.checkers {
                    let Some(ids) = kept_probes.get(&(spec.conn.dst, spec.kind.name())) else {
                        continue;
                    };
                    let same = |task: &CheckerTask| {
                        task.spec == *spec
                            && task.suspend.as_ref().map(|s| &s.1) == suspend_on.as_ref()
                    };
                    if ids.iter().any(|&id| self.checks.task(id).is_some_and(same)) {
                        return None;
                    }
                }
            }
        }
        // Sure now: re-point the kept checkers that moved, match the
        // changed virtual servers' checkers as match_all does.
        for (id, at) in moved {
            self.checks.set_ref(id, at);
        }
        let mut m = Matching::with_capacity(0, kept);
        for &vi in &changed {
            self.match_virtual_server(vi, &plan.virtual_servers[vi], model, &mut gone, &mut m);
        }
        let mut stopped = 0usize;
        for id in gone_slots {
            if !m.in_use.contains(&id) {
                stopped += 1;
                self.checks.remove(id);
            }
        }
        #[cfg(debug_assertions)]
        self.assert_matches(plan);
        Some((m.kept, m.started, stopped))
    }

    /// Match the checkers of `vs` (at `vi` in the new plan) to the running
    /// slots, as [`Engine::match_all`] does for every virtual server and
    /// [`Engine::match_delta`] for the changed ones: a checker joins a
    /// running probe with an equal spec (one probe per distinct target),
    /// else keeps its own slot from `old` (by identity, spec unchanged),
    /// else starts. Slots taken from `old` are removed from it.
    pub(super) fn match_virtual_server(
        &mut self,
        vi: usize,
        vs: &VirtualServerSpec,
        model: &HealthModel,
        old: &mut HashMap<CheckerKey, SlotId>,
        m: &mut Matching,
    ) {
        let suspend_on: Option<Arc<[IpAddr]>> = vs.ha_suspend.then(|| vs.vip_addrs().into());
        let vs_name: Arc<str> = Arc::from(vs.name.as_str());
        for (ri, rs) in vs.real_servers.iter().enumerate() {
            for (ci, spec) in rs.checkers.iter().enumerate() {
                // BFD_CHECK: driven by BFD events, no probe task.
                if crate::bfd_check::is_bfd(&spec.kind) {
                    continue;
                }
                let key = CheckerKey {
                    vs: Arc::clone(&vs_name),
                    rs: rs.dest.key(),
                    index: ci as u32,
                };
                let at = CheckerRef {
                    vs: vi as u32,
                    rs: ri as u32,
                    checker: ci as u32,
                };
                let same = |task: &CheckerTask| {
                    task.spec == *spec && task.suspend.as_ref().map(|s| &s.1) == suspend_on.as_ref()
                };
                let probe_key = (spec.conn.dst, spec.kind.name());
                let running = m.probes.get(&probe_key).and_then(|ids| {
                    ids.iter()
                        .copied()
                        .find(|&id| self.checks.task(id).is_some_and(same))
                });
                if let Some(id) = running {
                    old.remove(&key);
                    self.checks.add_user(id, at);
                    continue;
                }
                let id = match old.remove(&key) {
                    Some(id)
                        if !m.in_use.contains(&id) && self.checks.task(id).is_some_and(same) =>
                    {
                        m.kept += 1;
                        self.checks.set_ref(id, at);
                        id
                    }
                    _ => {
                        m.started += 1;
                        let up = model.virtual_servers[vi].real_servers[ri].checkers[ci].up;
                        self.spawn_checker(
                            at,
                            Arc::clone(&vs_name),
                            Arc::clone(spec),
                            suspend_on.clone(),
                            up,
                        )
                    }
                };
                m.in_use.insert(id);
                m.probes.entry(probe_key).or_default().push(id);
            }
        }
    }

    /// Debug builds: after a delta's matching, every probing checker of
    /// `plan` is served by exactly one running slot (as its owner or a
    /// user) with its virtual server's name and its spec, as after
    /// [`Engine::match_all`].
    #[cfg(debug_assertions)]
    fn assert_matches(&self, plan: &CheckPlan) {
        let mut served: HashMap<CheckerRef, usize> = HashMap::new();
        for (id, task) in self.checks.tasks() {
            for at in std::iter::once(&task.at).chain(self.checks.shared(id)) {
                let vs = &plan.virtual_servers[at.vs as usize];
                let spec = &vs.real_servers[at.rs as usize].checkers[at.checker as usize];
                assert!(
                    task.spec == *spec && (at != &task.at || *task.vs == *vs.name),
                    "delta matching: slot {id} serves {at:?} with another checker"
                );
                *served.entry(*at).or_default() += 1;
            }
        }
        for (vi, vs) in plan.virtual_servers.iter().enumerate() {
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                for (ci, spec) in rs.checkers.iter().enumerate() {
                    if crate::bfd_check::is_bfd(&spec.kind) {
                        continue;
                    }
                    let at = CheckerRef {
                        vs: vi as u32,
                        rs: ri as u32,
                        checker: ci as u32,
                    };
                    assert_eq!(
                        served.get(&at).copied(),
                        Some(1),
                        "delta matching: {at:?} ({}) not served exactly once",
                        vs.name
                    );
                }
            }
        }
    }
}
