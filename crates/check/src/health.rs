//! Pure health model: checker results -> real server alive/weight ->
//! virtual server quorum (with hysteresis) -> desired IPVS table, plus the
//! scripts those transitions trigger. Mirrors keepalived's ipwrapper.c
//! (`update_svr_checker_state`, `update_quorum_state`, `perform_quorum_state`).

use rkeepalived_ipvs::{Dest, IpvsState, Service};
use rkeepalived_script::Script;

use crate::spec::{CheckPlan, RealServerSpec, VirtualServerSpec};

/// Address of one checker inside a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckerRef {
    // u32: one is kept per running checker (thousands).
    pub vs: u32,
    pub rs: u32,
    pub checker: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerHealth {
    pub up: bool,
    /// MISC_CHECK misc_dynamic: last weight reported (exit status - 2).
    pub dynamic_weight: Option<i32>,
    /// Started down (`alpha`) and has not reported a result yet.
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsHealth {
    pub checkers: Vec<CheckerHealth>,
    pub alive: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsHealth {
    pub real_servers: Vec<RsHealth>,
    pub quorum_up: bool,
    /// Every checker that started down (`alpha`) has reported once. Sticky:
    /// once settled, a virtual server stays settled (also across reloads).
    /// Route announcement waits for it (see [`crate::announce::desired`]).
    pub settled: bool,
}

impl VsHealth {
    fn nothing_pending(&self) -> bool {
        self.real_servers
            .iter()
            .all(|r| r.checkers.iter().all(|c| !c.pending))
    }
}

/// Why a script runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptReason {
    NotifyUp { vs: String, rs: String },
    NotifyDown { vs: String, rs: String },
    QuorumUp { vs: String },
    QuorumDown { vs: String },
}

/// A side effect the engine must perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptEffect {
    pub script: Script,
    pub reason: ScriptReason,
}

/// Result of [`HealthModel::update_checker`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Update {
    /// Checker, real server or quorum state changed (the desired IPVS table may differ).
    pub changed: bool,
    pub effects: Vec<ScriptEffect>,
    /// Notify FIFO lines of this transition ([`crate::events`]), in order.
    pub fifo_lines: Vec<String>,
    /// The virtual server's quorum state flipped: every one of its dests
    /// (and its sorry server) may change, not only this real server's
    /// (ipwrapper.c `update_quorum_state()` -> `perform_quorum_state()`).
    pub quorum_changed: bool,
}

/// Health of every virtual server of a plan (same indices as the plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthModel {
    pub virtual_servers: Vec<VsHealth>,
}

fn rs_name(rs: &RealServerSpec) -> String {
    rkeepalived_ipvs::model::SocketFmt(rs.dest.addr, rs.dest.port).to_string()
}

impl HealthModel {
    /// Initial state: checkers up unless alpha; quorum from the initial weights.
    pub fn new(plan: &CheckPlan) -> Self {
        let virtual_servers = plan.virtual_servers.iter().map(fresh_vs).collect();
        Self { virtual_servers }
    }

    /// Rebuild for `new` after a reload, keeping the state of every
    /// virtual server (by name), real server (by address) and unchanged
    /// checker (same position and spec) that still exists. No scripts run.
    pub fn carry_over(new: &CheckPlan, old_plan: &CheckPlan, old: &HealthModel) -> Self {
        let old_at = first_by_name(old_plan);
        let virtual_servers = new
            .virtual_servers
            .iter()
            .map(|vs| carry_vs(vs, old_plan, old, &old_at))
            .collect();
        Self { virtual_servers }
    }

    /// [`Self::carry_over`] for a delta reload (issue #17 item 1), with
    /// the same result: `layout` says which virtual servers of `new` are
    /// `old_plan`'s unchanged (`VsSlot::Kept`, identical specs) and
    /// `distinct(i)` whether the real servers of old virtual server `i`
    /// have distinct addresses. A kept virtual server whose name is first
    /// at its old place and whose real servers are distinct gets every
    /// checker's state from its old place in `carry_over`, so its old
    /// health is moved, not rebuilt and compared checker by checker
    /// (36,544 at keepalived issue #2318's size): only the derived flags
    /// are recomputed, as `carry_over` does. When that does not hold for
    /// every kept one, `carry_over` itself runs.
    pub fn carry_over_delta(
        new: &CheckPlan,
        layout: &[rkeepalived_control::delta::VsSlot],
        old_plan: &CheckPlan,
        old: HealthModel,
        distinct: impl Fn(usize) -> bool,
    ) -> Self {
        Self::carry_over_delta_touched(new, layout, old_plan, old, distinct).0
    }

    /// [`Self::carry_over_delta`], and which kept virtual servers (new
    /// indices, ascending) may call for other IPVS entries than before:
    /// those whose recomputed `alive` or quorum flags differ from their
    /// old ones (`desired_dests` reads nothing else that carry-over
    /// changes). `None` when the full carry-over ran (anything may
    /// differ). The engine's O(change) IPVS reload diffs these besides
    /// the changed ones (engine/reload_sync.rs).
    pub fn carry_over_delta_touched(
        new: &CheckPlan,
        layout: &[rkeepalived_control::delta::VsSlot],
        old_plan: &CheckPlan,
        old: HealthModel,
        distinct: impl Fn(usize) -> bool,
    ) -> (Self, Option<Vec<u32>>) {
        use rkeepalived_control::delta::VsSlot;
        let old_at = first_by_name(old_plan);
        let mut taken = vec![false; old.virtual_servers.len()];
        let kept_ok = layout.len() == new.virtual_servers.len()
            && old.virtual_servers.len() == old_plan.virtual_servers.len()
            && layout
                .iter()
                .zip(&new.virtual_servers)
                .all(|(slot, vs)| match *slot {
                    VsSlot::Kept(i) => {
                        let i = i as usize;
                        old_at.get(vs.name.as_str()) == Some(&i)
                            && distinct(i)
                            && taken
                                .get_mut(i)
                                .is_some_and(|t| !std::mem::replace(t, true))
                    }
                    VsSlot::Changed(_) => true,
                });
        if !kept_ok {
            return (Self::carry_over(new, old_plan, &old), None);
        }
        // Debug builds check the shortcut against the full carry-over.
        #[cfg(debug_assertions)]
        let full = Self::carry_over(new, old_plan, &old);
        // The changed ones first, while every old health is in place (one
        // may carry over from the place of a kept one of the same name).
        let mut changed: Vec<Option<VsHealth>> = layout
            .iter()
            .zip(&new.virtual_servers)
            .map(|(slot, vs)| {
                matches!(slot, VsSlot::Changed(_)).then(|| carry_vs(vs, old_plan, &old, &old_at))
            })
            .collect();
        let mut old_vs: Vec<Option<VsHealth>> = old.virtual_servers.into_iter().map(Some).collect();
        let mut virtual_servers = Vec::with_capacity(layout.len());
        let mut touched = Vec::new();
        for (v, ((slot, vs), fresh)) in layout
            .iter()
            .zip(&new.virtual_servers)
            .zip(&mut changed)
            .enumerate()
        {
            let vh = match *slot {
                VsSlot::Changed(_) => fresh.take(),
                VsSlot::Kept(i) => {
                    old_vs
                        .get_mut(i as usize)
                        .and_then(Option::take)
                        .map(|mut vh| {
                            // carry_over's steps after the checkers are copied.
                            let mut differs = false;
                            for rh in &mut vh.real_servers {
                                let alive = rh.checkers.iter().all(|c| c.up);
                                differs |= alive != rh.alive;
                                rh.alive = alive;
                            }
                            vh.settled = vh.settled || vh.nothing_pending();
                            differs |= update_quorum(vs, &mut vh).is_some();
                            if differs {
                                touched.push(v as u32);
                            }
                            vh
                        })
                }
            };
            // Every kept place is taken once (checked above): the fresh
            // state is only for a layout that is not what it claims.
            virtual_servers.push(vh.unwrap_or_else(|| fresh_vs(vs)));
        }
        let model = Self { virtual_servers };
        #[cfg(debug_assertions)]
        assert_eq!(
            model, full,
            "the delta's health carry-over differs from the full one"
        );
        (model, Some(touched))
    }

    /// Record a checker's new state; returns the scripts to run.
    pub fn set_checker(
        &mut self,
        plan: &CheckPlan,
        at: CheckerRef,
        up: bool,
        dynamic_weight: Option<i32>,
    ) -> Vec<ScriptEffect> {
        self.update_checker(plan, at, up, dynamic_weight).effects
    }

    /// Record a checker's new state; says whether anything that affects
    /// IPVS changed (so the engine only reconciles when needed) and which
    /// scripts to run. O(real servers of one virtual server).
    pub fn update_checker(
        &mut self,
        plan: &CheckPlan,
        at: CheckerRef,
        up: bool,
        dynamic_weight: Option<i32>,
    ) -> Update {
        let mut update = Update::default();
        let (Some(vs), Some(vh)) = (
            plan.virtual_servers.get(at.vs as usize),
            self.virtual_servers.get_mut(at.vs as usize),
        ) else {
            return update;
        };
        let (Some(rs), Some(rh)) = (
            vs.real_servers.get(at.rs as usize),
            vh.real_servers.get_mut(at.rs as usize),
        ) else {
            return update;
        };
        let Some(ch) = rh.checkers.get_mut(at.checker as usize) else {
            return update;
        };
        let new_weight = if up && dynamic_weight.is_some() {
            dynamic_weight
        } else {
            ch.dynamic_weight
        };
        update.changed = ch.up != up || ch.dynamic_weight != new_weight;
        ch.up = up;
        ch.dynamic_weight = new_weight;
        let was_pending = std::mem::take(&mut ch.pending);
        let alive = rh.checkers.iter().all(|c| c.up);
        if alive != rh.alive {
            rh.alive = alive;
            // ipwrapper.c perform_svr_state: keepalived's wording.
            let (verb, prep) = match (alive, rs.inhibit_on_failure) {
                (true, false) => ("Adding", "to"),
                (true, true) => ("Enabling", "of"),
                (false, false) => ("Removing", "from"),
                (false, true) => ("Disabling", "of"),
            };
            tracing::info!(vs = %vs.name, rs = %rs_name(rs), up = alive, "{verb} service {} {prep} VS {}", crate::logfmt::rs(rs, vs), crate::logfmt::vs(vs));
            // ipwrapper.c do_rs_notifies() -> notify_fifo_rs().
            update
                .fifo_lines
                .push(crate::events::rs_line(rs, vs, alive));
            let (script, reason) = if alive {
                (
                    rs.notify_up.as_deref(),
                    ScriptReason::NotifyUp {
                        vs: vs.name.clone(),
                        rs: rs_name(rs),
                    },
                )
            } else {
                (
                    rs.notify_down.as_deref(),
                    ScriptReason::NotifyDown {
                        vs: vs.name.clone(),
                        rs: rs_name(rs),
                    },
                )
            };
            if let Some(script) = script {
                update.effects.push(ScriptEffect {
                    script: script.clone(),
                    reason,
                });
            }
        }
        if let Some(now_up) = update_quorum(vs, vh) {
            update.quorum_changed = true;
            tracing::info!(vs = %vs.name, "quorum {}", if now_up { "gained" } else { "lost" });
            // ipwrapper.c do_vs_notifies() -> notify_fifo_vs().
            update.fifo_lines.push(crate::events::vs_line(vs, now_up));
            let (script, reason) = if now_up {
                (
                    &vs.quorum_up,
                    ScriptReason::QuorumUp {
                        vs: vs.name.clone(),
                    },
                )
            } else {
                (
                    &vs.quorum_down,
                    ScriptReason::QuorumDown {
                        vs: vs.name.clone(),
                    },
                )
            };
            if let Some(script) = script {
                update.effects.push(ScriptEffect {
                    script: script.clone(),
                    reason,
                });
            }
        }
        if was_pending && !vh.settled && vh.nothing_pending() {
            vh.settled = true;
            // The announced routes may now include this virtual server.
            update.changed = true;
        }
        update
    }

    /// Scripts to run on a clean stop: with `omega`, notify_down for every
    /// alive real server and quorum_down if quorum was up.
    pub fn on_stop(&self, plan: &CheckPlan) -> Vec<ScriptEffect> {
        let mut effects = Vec::new();
        for (vs, vh) in plan.virtual_servers.iter().zip(&self.virtual_servers) {
            if !vs.omega {
                continue;
            }
            for (rs, rh) in vs.real_servers.iter().zip(&vh.real_servers) {
                if let (true, Some(script)) = (rh.alive, rs.notify_down.as_deref()) {
                    effects.push(ScriptEffect {
                        script: script.clone(),
                        reason: ScriptReason::NotifyDown {
                            vs: vs.name.clone(),
                            rs: rs_name(rs),
                        },
                    });
                }
            }
            if let (true, Some(script)) = (vh.quorum_up, &vs.quorum_down) {
                effects.push(ScriptEffect {
                    script: script.clone(),
                    reason: ScriptReason::QuorumDown {
                        vs: vs.name.clone(),
                    },
                });
            }
        }
        effects
    }

    /// Notify FIFO lines at the checker's start (ipwrapper.c
    /// `init_service_vs()` -> `update_quorum_state(vs, true)`: keepalived
    /// starts every virtual server with its quorum down, so one that has
    /// quorum "Gained quorum" and writes `VS ... UP`; one without quorum
    /// writes `VS ... DOWN` ("Starting with quorum down") only when it has
    /// a sorry server to add). Not on reloads: keepalived's
    /// `set_quorum_states()` then presets the state.
    pub fn on_start_fifo_lines(&self, plan: &CheckPlan) -> Vec<String> {
        plan.virtual_servers
            .iter()
            .zip(&self.virtual_servers)
            .filter(|(vs, vh)| vh.quorum_up || vs.sorry_server.is_some())
            .map(|(vs, vh)| crate::events::vs_line(vs, vh.quorum_up))
            .collect()
    }

    /// Notify FIFO lines of a clean stop (ipwrapper.c `clear_services()`):
    /// with `omega`, `RS ... DOWN` for every alive real server (only when
    /// the real servers are removed one by one, `lvs_flush_on_stop` unset),
    /// then `VS ... DOWN` (`update_vs_notifies(vs, true)`, whatever the
    /// quorum state was).
    pub fn on_stop_fifo_lines(&self, plan: &CheckPlan) -> Vec<String> {
        let mut lines = Vec::new();
        let per_rs = plan.lvs_flush_on_stop == rkeepalived_ipvs::StopPolicy::RemoveOwn;
        for (vs, vh) in plan.virtual_servers.iter().zip(&self.virtual_servers) {
            if !vs.omega {
                continue;
            }
            if per_rs {
                for (rs, rh) in vs.real_servers.iter().zip(&vh.real_servers) {
                    if rh.alive {
                        lines.push(crate::events::rs_line(rs, vs, false));
                    }
                }
            }
            lines.push(crate::events::vs_line(vs, false));
        }
        lines
    }

    /// The IPVS table this health state calls for.
    pub fn desired_ipvs(&self, plan: &CheckPlan) -> IpvsState {
        let mut state = IpvsState::new();
        for (vs, vh) in plan.virtual_servers.iter().zip(&self.virtual_servers) {
            add_desired(&mut state, vs, vh);
        }
        state
    }

    /// The part of [`Self::desired_ipvs`] that virtual servers `vss`
    /// (indices, ascending) program: built the same way, in plan order, so
    /// for services no other virtual server has it is the full table's
    /// entry. O(their real servers).
    pub fn desired_ipvs_of(&self, plan: &CheckPlan, vss: &[usize]) -> IpvsState {
        let mut state = IpvsState::new();
        for &v in vss {
            let (Some(vs), Some(vh)) = (plan.virtual_servers.get(v), self.virtual_servers.get(v))
            else {
                continue;
            };
            add_desired(&mut state, vs, vh);
        }
        state
    }

    /// Effective weight of a real server: configured weight adjusted by
    /// misc_dynamic results (keepalived: each dynamic checker moves the
    /// weight to exit status - 2).
    pub fn effective_weight(rs: &RealServerSpec, rh: &RsHealth) -> i32 {
        let base = rs.dest.weight;
        let adjust: i64 = rh
            .checkers
            .iter()
            .filter_map(|c| c.dynamic_weight)
            .map(|w| i64::from(w) - i64::from(base))
            .sum();
        (i64::from(base) + adjust).clamp(0, i64::from(i32::MAX)) as i32
    }
}

/// Sum of the weights of alive real servers.
pub fn alive_weight(vs: &VirtualServerSpec, vh: &VsHealth) -> u64 {
    vs.real_servers
        .iter()
        .zip(&vh.real_servers)
        .filter(|(_, rh)| rh.alive)
        .map(|(rs, rh)| HealthModel::effective_weight(rs, rh) as u64)
        .sum()
}

/// Initial state of one virtual server ([`HealthModel::new`]): checkers up
/// unless alpha; quorum from the initial weights.
fn fresh_vs(vs: &VirtualServerSpec) -> VsHealth {
    let real_servers: Vec<RsHealth> = vs
        .real_servers
        .iter()
        .map(|rs| {
            let checkers: Vec<CheckerHealth> = rs
                .checkers
                .iter()
                .map(|c| CheckerHealth {
                    up: !(c.timing.alpha || rs.alpha),
                    dynamic_weight: None,
                    pending: c.timing.alpha || rs.alpha,
                })
                .collect();
            let alive = checkers.iter().all(|c| c.up);
            RsHealth { checkers, alive }
        })
        .collect();
    let mut v = VsHealth {
        real_servers,
        quorum_up: false,
        settled: false,
    };
    v.settled = v.nothing_pending();
    v.quorum_up = alive_weight(vs, &v) >= u64::from(vs.quorum);
    v
}

/// The old virtual servers by name (the first of a name, as a search from
/// the start finds): one lookup each, not a scan of the old list per new
/// virtual server (2,284 x 2,284 at keepalived issue #2318's size).
fn first_by_name(plan: &CheckPlan) -> std::collections::HashMap<&str, usize> {
    let mut old_at = std::collections::HashMap::with_capacity(plan.virtual_servers.len());
    for (i, o) in plan.virtual_servers.iter().enumerate() {
        old_at.entry(o.name.as_str()).or_insert(i);
    }
    old_at
}

/// One virtual server of [`HealthModel::carry_over`]: its initial state,
/// with the state of its old namesake's real servers (by address) and
/// unchanged checkers (same position and spec).
fn carry_vs(
    vs: &VirtualServerSpec,
    old_plan: &CheckPlan,
    old: &HealthModel,
    old_at: &std::collections::HashMap<&str, usize>,
) -> VsHealth {
    let mut vh = fresh_vs(vs);
    let Some((ovs, ohealth)) = old_at.get(vs.name.as_str()).and_then(|&ovi| {
        Some((
            old_plan.virtual_servers.get(ovi)?,
            old.virtual_servers.get(ovi)?,
        ))
    }) else {
        return vh;
    };
    for (ri, rs) in vs.real_servers.iter().enumerate() {
        let Some(ori) = ovs
            .real_servers
            .iter()
            .position(|o| o.dest.key() == rs.dest.key())
        else {
            continue;
        };
        let ors = &ovs.real_servers[ori];
        for (ci, c) in rs.checkers.iter().enumerate() {
            if ors.checkers.get(ci) == Some(c) {
                if let Some(h) = ohealth
                    .real_servers
                    .get(ori)
                    .and_then(|r| r.checkers.get(ci))
                {
                    vh.real_servers[ri].checkers[ci] = h.clone();
                }
            }
        }
        let rh = &mut vh.real_servers[ri];
        rh.alive = rh.checkers.iter().all(|c| c.up);
    }
    vh.quorum_up = ohealth.quorum_up;
    vh.settled = ohealth.settled || vh.nothing_pending();
    // Re-evaluate with the new weights/quorum, silently.
    let _ = update_quorum(vs, &mut vh);
    vh
}

/// keepalived `update_quorum_state`: gain at `>= quorum + hysteresis`, lose
/// at `< quorum - hysteresis` (or when no weight is left). Returns the new
/// state when it changed.
fn update_quorum(vs: &VirtualServerSpec, vh: &mut VsHealth) -> Option<bool> {
    let sum = alive_weight(vs, vh);
    let quorum = u64::from(vs.quorum);
    let hysteresis = u64::from(vs.hysteresis);
    if !vh.quorum_up && sum >= quorum + hysteresis {
        vh.quorum_up = true;
        return Some(true);
    }
    if vh.quorum_up && (sum == 0 || sum < quorum.saturating_sub(hysteresis)) {
        vh.quorum_up = false;
        return Some(false);
    }
    None
}

/// The services and dests virtual server `vs` (health `vh`) programs,
/// added to `state` ([`HealthModel::desired_ipvs`] and its part for some
/// virtual servers, `desired_ipvs_of`, build them the same way).
fn add_desired(state: &mut IpvsState, vs: &VirtualServerSpec, vh: &VsHealth) {
    let dests = desired_dests(vs, vh);
    for key in &vs.keys {
        let entry = state.upsert_service(Service {
            key: *key,
            ..vs.service.clone()
        });
        for d in &dests {
            entry.dests.insert(d.key(), *d);
        }
    }
}

/// keepalived `perform_quorum_state`: with quorum (or no sorry server) the
/// alive real servers are in IPVS; without quorum and with a sorry server,
/// only the sorry server is. Inhibited servers stay with weight 0.
pub(crate) fn desired_dests(vs: &VirtualServerSpec, vh: &VsHealth) -> Vec<Dest> {
    let sorry_active = !vh.quorum_up && vs.sorry_server.is_some();
    let mut out: Vec<Dest> = vs
        .real_servers
        .iter()
        .zip(&vh.real_servers)
        .filter_map(|(rs, rh)| rs_dest(rs, rh, sorry_active))
        .collect();
    out.extend(desired_sorry(vs, vh));
    out
}

/// The entry of one real server in its virtual server's services, if any
/// (ipwrapper.c `perform_svr_state()`: the one dest a health change of
/// this server touches while the quorum state holds). O(its checkers).
pub(crate) fn desired_dest(vs: &VirtualServerSpec, vh: &VsHealth, rs: usize) -> Option<Dest> {
    let sorry_active = !vh.quorum_up && vs.sorry_server.is_some();
    rs_dest(
        vs.real_servers.get(rs)?,
        vh.real_servers.get(rs)?,
        sorry_active,
    )
}

/// The sorry server's entry, if any: in while the quorum is down, else at
/// weight 0 with `sorry_server_inhibit` (ipwrapper.c `perform_quorum_state()`).
pub(crate) fn desired_sorry(vs: &VirtualServerSpec, vh: &VsHealth) -> Option<Dest> {
    let sorry = vs.sorry_server.as_ref()?;
    if !vh.quorum_up {
        Some(*sorry)
    } else if vs.sorry_server_inhibit {
        Some(Dest {
            weight: 0,
            ..*sorry
        })
    } else {
        None
    }
}

/// Alive (and no sorry server standing in): the effective weight; else
/// weight 0 with `inhibit_on_failure`, or no entry.
fn rs_dest(rs: &RealServerSpec, rh: &RsHealth, sorry_active: bool) -> Option<Dest> {
    if rh.alive && !sorry_active {
        Some(Dest {
            weight: HealthModel::effective_weight(rs, rh),
            ..rs.dest
        })
    } else if rs.inhibit_on_failure {
        Some(Dest {
            weight: 0,
            ..rs.dest
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::*;
    use rkeepalived_ipvs::{DestKey, Forwarding, Scheduler, ServiceKey};
    use std::sync::Arc;
    use std::time::Duration;

    fn script(name: &str) -> Script {
        Script::parse(&format!("/bin/echo {name}")).unwrap()
    }

    fn checker() -> CheckerSpec {
        let kind = CheckKind::Tcp;
        CheckerSpec {
            timing: Arc::new(CheckTiming::defaults_for(&kind, Duration::from_secs(1))),
            conn: ConnOpts::to("198.51.100.1:80".parse().unwrap()),
            kind,
        }
    }

    fn rs(last: u8, weight: i32) -> RealServerSpec {
        RealServerSpec {
            dest: Dest::new(
                format!("198.51.100.{last}").parse().unwrap(),
                80,
                Forwarding::Masq,
                weight,
            ),
            inhibit_on_failure: false,
            notify_up: Some(Box::new(script(&format!("up{last}")))),
            notify_down: Some(Box::new(script(&format!("down{last}")))),
            checkers: vec![Arc::new(checker())],
            alpha: false,
        }
    }

    fn plan(real_servers: Vec<RealServerSpec>, quorum: u32, hysteresis: u32) -> CheckPlan {
        let key = ServiceKey::tcp("192.0.2.1".parse().unwrap(), 80);
        let mut vs = VirtualServerSpec::new(Service::new(key, Scheduler::Wlc));
        vs.real_servers = real_servers.into();
        vs.quorum = quorum;
        vs.hysteresis = hysteresis;
        vs.quorum_up = Some(script("qup"));
        vs.quorum_down = Some(script("qdown"));
        CheckPlan {
            virtual_servers: vec![vs],
            ..CheckPlan::default()
        }
    }

    fn at(rs: u32) -> CheckerRef {
        CheckerRef {
            vs: 0,
            rs,
            checker: 0,
        }
    }

    fn reasons(effects: &[ScriptEffect]) -> Vec<String> {
        effects.iter().map(|e| e.script.argv[1].clone()).collect()
    }

    fn dest_weights(model: &HealthModel, plan: &CheckPlan) -> Vec<(u8, i32)> {
        let state = model.desired_ipvs(plan);
        let entry = state.services.values().next().unwrap();
        entry
            .dests
            .values()
            .map(|d| match d.addr {
                std::net::IpAddr::V4(a) => (a.octets()[3], d.weight),
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn failed_server_is_removed_and_restored_with_notify_scripts() {
        let p = plan(vec![rs(1, 1), rs(2, 1)], 1, 0);
        let mut m = HealthModel::new(&p);
        assert_eq!(dest_weights(&m, &p), [(1, 1), (2, 1)]);
        assert_eq!(reasons(&m.set_checker(&p, at(0), false, None)), ["down1"]);
        assert_eq!(dest_weights(&m, &p), [(2, 1)]);
        assert!(
            m.set_checker(&p, at(0), false, None).is_empty(),
            "no repeated scripts"
        );
        assert_eq!(reasons(&m.set_checker(&p, at(0), true, None)), ["up1"]);
        assert_eq!(dest_weights(&m, &p), [(1, 1), (2, 1)]);
    }

    #[test]
    fn inhibit_on_failure_keeps_weight_zero() {
        let mut r = rs(1, 5);
        r.inhibit_on_failure = true;
        let p = plan(vec![r, rs(2, 1)], 1, 0);
        let mut m = HealthModel::new(&p);
        m.set_checker(&p, at(0), false, None);
        assert_eq!(dest_weights(&m, &p), [(1, 0), (2, 1)]);
    }

    #[test]
    fn quorum_with_hysteresis_and_sorry_server() {
        // Weights 2+2+2, quorum 4, hysteresis 1: lose below 3, regain at >= 5.
        let mut p = plan(vec![rs(1, 2), rs(2, 2), rs(3, 2)], 4, 1);
        let sorry = Dest::new("203.0.113.9".parse().unwrap(), 80, Forwarding::Masq, 1);
        p.virtual_servers[0].sorry_server = Some(sorry);
        let mut m = HealthModel::new(&p);
        assert!(m.virtual_servers[0].quorum_up);
        // 4 left: still >= quorum - hysteresis = 3.
        assert_eq!(reasons(&m.set_checker(&p, at(0), false, None)), ["down1"]);
        assert!(m.virtual_servers[0].quorum_up);
        // 2 left: < 3 => quorum lost, sorry server replaces the live servers.
        assert_eq!(
            reasons(&m.set_checker(&p, at(1), false, None)),
            ["down2", "qdown"]
        );
        assert_eq!(dest_weights(&m, &p), [(9, 1)]);
        // 4 again: not yet >= quorum + hysteresis = 5.
        assert_eq!(reasons(&m.set_checker(&p, at(1), true, None)), ["up2"]);
        assert!(!m.virtual_servers[0].quorum_up);
        assert_eq!(dest_weights(&m, &p), [(9, 1)]);
        // 6: quorum regained, sorry server removed.
        assert_eq!(
            reasons(&m.set_checker(&p, at(0), true, None)),
            ["up1", "qup"]
        );
        assert_eq!(dest_weights(&m, &p), [(1, 2), (2, 2), (3, 2)]);
    }

    #[test]
    fn sorry_server_inhibit_keeps_it_at_weight_zero() {
        let mut p = plan(vec![rs(1, 1)], 1, 0);
        p.virtual_servers[0].sorry_server = Some(Dest::new(
            "203.0.113.9".parse().unwrap(),
            80,
            Forwarding::Masq,
            1,
        ));
        p.virtual_servers[0].sorry_server_inhibit = true;
        let mut m = HealthModel::new(&p);
        assert_eq!(dest_weights(&m, &p), [(1, 1), (9, 0)]);
        m.set_checker(&p, at(0), false, None);
        assert_eq!(dest_weights(&m, &p), [(9, 1)]);
    }

    #[test]
    fn misc_dynamic_weight_sets_the_server_weight() {
        let p = plan(vec![rs(1, 1), rs(2, 1)], 1, 0);
        let mut m = HealthModel::new(&p);
        m.set_checker(&p, at(0), true, Some(10));
        assert_eq!(dest_weights(&m, &p), [(1, 10), (2, 1)]);
        m.set_checker(&p, at(0), true, Some(20));
        assert_eq!(dest_weights(&m, &p), [(1, 20), (2, 1)]);
        assert_eq!(
            alive_weight(&p.virtual_servers[0], &m.virtual_servers[0]),
            21
        );
    }

    #[test]
    fn a_server_is_up_only_when_all_its_checkers_are() {
        let mut r = rs(1, 1);
        r.checkers.push(Arc::new(checker()));
        let p = plan(vec![r], 1, 0);
        let mut m = HealthModel::new(&p);
        m.set_checker(
            &p,
            CheckerRef {
                vs: 0,
                rs: 0,
                checker: 1,
            },
            false,
            None,
        );
        assert!(!m.virtual_servers[0].real_servers[0].alive);
        m.set_checker(&p, at(0), false, None);
        assert!(m
            .set_checker(&p, at(0), true, None)
            .iter()
            .all(|e| e.script.argv[1] != "up1"));
        m.set_checker(
            &p,
            CheckerRef {
                vs: 0,
                rs: 0,
                checker: 1,
            },
            true,
            None,
        );
        assert!(m.virtual_servers[0].real_servers[0].alive);
    }

    #[test]
    fn alpha_starts_down_and_group_keys_share_dests() {
        let mut p = plan(vec![rs(1, 1)], 1, 0);
        Arc::make_mut(
            &mut Arc::make_mut(&mut p.virtual_servers[0].real_servers.make_mut()[0].checkers[0])
                .timing,
        )
        .alpha = true;
        let extra = ServiceKey::tcp("192.0.2.2".parse().unwrap(), 80);
        p.virtual_servers[0].keys.push(extra);
        let mut m = HealthModel::new(&p);
        assert!(!m.virtual_servers[0].quorum_up);
        assert_eq!(m.desired_ipvs(&p).dest_count(), 0);
        assert_eq!(
            reasons(&m.set_checker(&p, at(0), true, None)),
            ["up1", "qup"]
        );
        let state = m.desired_ipvs(&p);
        assert_eq!(state.services.len(), 2);
        assert_eq!(state.dest_count(), 2);
        assert!(state.services[&extra].dests.contains_key(&DestKey {
            addr: "198.51.100.1".parse().unwrap(),
            port: 80
        }));
    }

    #[test]
    fn alpha_settles_once_every_alpha_checker_reported_and_stays_settled() {
        let mut p = plan(vec![rs(1, 1), rs(2, 1)], 1, 0);
        for r in p.virtual_servers[0].real_servers.make_mut() {
            r.alpha = true;
        }
        p.virtual_servers[0].announce = Some(crate::announce::VsRoute {
            table: 100,
            metric: 0,
        });
        let announced = |m: &HealthModel| crate::announce::desired(&p, m).len();
        let mut m = HealthModel::new(&p);
        assert!(!m.virtual_servers[0].settled);
        // The first real server passes: quorum 1 is up, but the second has
        // not reported yet, so the virtual server is not settled.
        assert!(m.update_checker(&p, at(0), true, None).changed);
        assert!(m.virtual_servers[0].quorum_up && !m.virtual_servers[0].settled);
        assert_eq!(announced(&m), 0, "not announced before it is settled");
        // The second one's first result (a failure: no state change) settles it.
        assert!(m.update_checker(&p, at(1), false, None).changed);
        assert!(m.virtual_servers[0].settled);
        assert_eq!(announced(&m), 1);
        // A reload adding an alpha real server does not unsettle it.
        let mut p2 = plan(vec![rs(1, 1), rs(2, 1), rs(3, 1)], 1, 0);
        for r in p2.virtual_servers[0].real_servers.make_mut() {
            r.alpha = true;
        }
        let m2 = HealthModel::carry_over(&p2, &p, &m);
        assert!(m2.virtual_servers[0].settled);
        // Without alpha, a virtual server is settled from the start.
        assert!(HealthModel::new(&plan(vec![rs(1, 1)], 1, 0)).virtual_servers[0].settled);
    }

    #[test]
    fn omega_runs_down_scripts_on_stop() {
        let mut p = plan(vec![rs(1, 1), rs(2, 1)], 1, 0);
        let m0 = HealthModel::new(&p);
        assert!(m0.on_stop(&p).is_empty(), "no omega, no scripts");
        p.virtual_servers[0].omega = true;
        let mut m = HealthModel::new(&p);
        m.set_checker(&p, at(1), false, None);
        assert_eq!(reasons(&m.on_stop(&p)), ["down1", "qdown"]);
    }

    #[test]
    fn reload_carries_state_of_unchanged_objects() {
        let p = plan(vec![rs(1, 1), rs(2, 1)], 1, 0);
        let mut m = HealthModel::new(&p);
        m.set_checker(&p, at(0), false, None);
        // New config: rs 2 removed, rs 3 added, rs 1 unchanged.
        let p2 = plan(vec![rs(1, 1), rs(3, 1)], 1, 0);
        let m2 = HealthModel::carry_over(&p2, &p, &m);
        assert!(
            !m2.virtual_servers[0].real_servers[0].alive,
            "rs 1 keeps its failed state"
        );
        assert!(
            m2.virtual_servers[0].real_servers[1].alive,
            "new rs 3 starts up (no alpha)"
        );
        // Changed checker spec on rs 1: state starts fresh.
        let mut p3 = p2.clone();
        Arc::make_mut(
            &mut Arc::make_mut(&mut p3.virtual_servers[0].real_servers.make_mut()[0].checkers[0])
                .timing,
        )
        .retry = 7;
        let m3 = HealthModel::carry_over(&p3, &p2, &m2);
        assert!(m3.virtual_servers[0].real_servers[0].alive);
    }

    /// A delta's carry-over (kept virtual servers moved) is the full one's:
    /// a kept virtual server with failed checkers, a changed one, one moved
    /// to another place, and one whose real servers share an address (the
    /// full carry-over runs then).
    #[test]
    fn a_delta_carries_over_like_the_full_reload() {
        use rkeepalived_control::delta::VsSlot;
        let vs_at = |port: u16, rss: Vec<RealServerSpec>| {
            let key = ServiceKey::tcp("192.0.2.1".parse().unwrap(), port);
            let mut vs = VirtualServerSpec::new(Service::new(key, Scheduler::Wlc));
            vs.real_servers = rss.into();
            vs.quorum = 1;
            vs
        };
        let old = CheckPlan {
            virtual_servers: vec![
                vs_at(80, vec![rs(1, 1), rs(2, 1)]),
                vs_at(81, vec![rs(1, 1), rs(2, 1)]),
                vs_at(82, vec![rs(3, 1), rs(4, 1)]),
            ],
            ..CheckPlan::default()
        };
        let mut m = HealthModel::new(&old);
        for vs in 0..3 {
            m.set_checker(
                &old,
                CheckerRef {
                    vs,
                    rs: 1,
                    checker: 0,
                },
                false,
                None,
            );
        }
        // 81 changed (a weight), 82 moved to the front, 80 kept.
        let new = CheckPlan {
            virtual_servers: vec![
                old.virtual_servers[2].clone(),
                old.virtual_servers[0].clone(),
                vs_at(81, vec![rs(1, 1), rs(2, 5)]),
            ],
            ..CheckPlan::default()
        };
        let layout = [VsSlot::Kept(2), VsSlot::Kept(0), VsSlot::Changed(0)];
        let full = HealthModel::carry_over(&new, &old, &m);
        let fast = HealthModel::carry_over_delta(&new, &layout, &old, m.clone(), |_| true);
        assert_eq!(fast, full);
        assert!(
            !fast.virtual_servers[0].real_servers[1].alive,
            "82's failure kept"
        );
        assert!(
            !fast.virtual_servers[2].real_servers[1].alive,
            "81's failure kept"
        );
        // Real servers sharing an address: as the full carry-over.
        let mut dup = old.clone();
        dup.virtual_servers[0].real_servers = vec![rs(1, 1), rs(1, 2)].into();
        let mut md = HealthModel::new(&dup);
        md.set_checker(
            &dup,
            CheckerRef {
                vs: 0,
                rs: 1,
                checker: 0,
            },
            false,
            None,
        );
        let layout = [VsSlot::Kept(0), VsSlot::Kept(1), VsSlot::Kept(2)];
        let distinct = |i: usize| i != 0;
        assert_eq!(
            HealthModel::carry_over_delta(&dup, &layout, &dup, md.clone(), distinct),
            HealthModel::carry_over(&dup, &dup, &md)
        );
    }
}
