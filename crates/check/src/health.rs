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
    pub vs: usize,
    pub rs: usize,
    pub checker: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerHealth {
    pub up: bool,
    /// MISC_CHECK misc_dynamic: last weight reported (exit status - 2).
    pub dynamic_weight: Option<i32>,
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
        let virtual_servers = plan
            .virtual_servers
            .iter()
            .map(|vs| {
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
                            })
                            .collect();
                        let alive = checkers.iter().all(|c| c.up);
                        RsHealth { checkers, alive }
                    })
                    .collect();
                let mut v = VsHealth {
                    real_servers,
                    quorum_up: false,
                };
                v.quorum_up = alive_weight(vs, &v) >= u64::from(vs.quorum);
                v
            })
            .collect();
        Self { virtual_servers }
    }

    /// Rebuild for `new` after a reload, keeping the state of every
    /// virtual server (by name), real server (by address) and unchanged
    /// checker (same position and spec) that still exists. No scripts run.
    pub fn carry_over(new: &CheckPlan, old_plan: &CheckPlan, old: &HealthModel) -> Self {
        let mut model = Self::new(new);
        for (vi, vs) in new.virtual_servers.iter().enumerate() {
            let Some(ovi) = old_plan
                .virtual_servers
                .iter()
                .position(|o| o.name == vs.name)
            else {
                continue;
            };
            let (ovs, ohealth) = (&old_plan.virtual_servers[ovi], &old.virtual_servers[ovi]);
            let vh = &mut model.virtual_servers[vi];
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
                        vh.real_servers[ri].checkers[ci] =
                            ohealth.real_servers[ori].checkers[ci].clone();
                    }
                }
                let rh = &mut vh.real_servers[ri];
                rh.alive = rh.checkers.iter().all(|c| c.up);
            }
            vh.quorum_up = ohealth.quorum_up;
            // Re-evaluate with the new weights/quorum, silently.
            let _ = update_quorum(vs, vh);
        }
        model
    }

    /// Record a checker's new state; returns the scripts to run.
    pub fn set_checker(
        &mut self,
        plan: &CheckPlan,
        at: CheckerRef,
        up: bool,
        dynamic_weight: Option<i32>,
    ) -> Vec<ScriptEffect> {
        let mut effects = Vec::new();
        let (Some(vs), Some(vh)) = (
            plan.virtual_servers.get(at.vs),
            self.virtual_servers.get_mut(at.vs),
        ) else {
            return effects;
        };
        let (Some(rs), Some(rh)) = (vs.real_servers.get(at.rs), vh.real_servers.get_mut(at.rs))
        else {
            return effects;
        };
        let Some(ch) = rh.checkers.get_mut(at.checker) else {
            return effects;
        };
        ch.up = up;
        if up && dynamic_weight.is_some() {
            ch.dynamic_weight = dynamic_weight;
        }
        let alive = rh.checkers.iter().all(|c| c.up);
        if alive != rh.alive {
            rh.alive = alive;
            tracing::info!(vs = %vs.name, rs = %rs_name(rs), "real server {}", if alive { "UP" } else { "DOWN" });
            let (script, reason) = if alive {
                (
                    &rs.notify_up,
                    ScriptReason::NotifyUp {
                        vs: vs.name.clone(),
                        rs: rs_name(rs),
                    },
                )
            } else {
                (
                    &rs.notify_down,
                    ScriptReason::NotifyDown {
                        vs: vs.name.clone(),
                        rs: rs_name(rs),
                    },
                )
            };
            if let Some(script) = script {
                effects.push(ScriptEffect {
                    script: script.clone(),
                    reason,
                });
            }
        }
        if let Some(now_up) = update_quorum(vs, vh) {
            tracing::info!(vs = %vs.name, "quorum {}", if now_up { "gained" } else { "lost" });
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
                effects.push(ScriptEffect {
                    script: script.clone(),
                    reason,
                });
            }
        }
        effects
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
                if let (true, Some(script)) = (rh.alive, &rs.notify_down) {
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

    /// The IPVS table this health state calls for.
    pub fn desired_ipvs(&self, plan: &CheckPlan) -> IpvsState {
        let mut state = IpvsState::new();
        for (vs, vh) in plan.virtual_servers.iter().zip(&self.virtual_servers) {
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

/// keepalived `perform_quorum_state`: with quorum (or no sorry server) the
/// alive real servers are in IPVS; without quorum and with a sorry server,
/// only the sorry server is. Inhibited servers stay with weight 0.
fn desired_dests(vs: &VirtualServerSpec, vh: &VsHealth) -> Vec<Dest> {
    let sorry_active = !vh.quorum_up && vs.sorry_server.is_some();
    let mut out = Vec::new();
    for (rs, rh) in vs.real_servers.iter().zip(&vh.real_servers) {
        if rh.alive && !sorry_active {
            out.push(Dest {
                weight: HealthModel::effective_weight(rs, rh),
                ..rs.dest
            });
        } else if rs.inhibit_on_failure {
            out.push(Dest {
                weight: 0,
                ..rs.dest
            });
        }
    }
    if let Some(sorry) = &vs.sorry_server {
        if sorry_active {
            out.push(*sorry);
        } else if vs.sorry_server_inhibit {
            out.push(Dest {
                weight: 0,
                ..*sorry
            });
        }
    }
    out
}
