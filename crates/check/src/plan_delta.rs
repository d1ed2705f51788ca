//! A delta reload's plan ([`rkeepalived_control::delta`]): the running
//! plan's unchanged virtual servers as they are, the changed and added
//! ones planned from the delta's configuration. Only valid when the delta's
//! base is the configuration `old` was planned from (the engine checks the
//! digest): everything besides the virtual servers is then the same, and
//! so is what a virtual server's plan depends on (groups, global_defs,
//! SSL, script security: the supervisor removed refused scripts from the
//! model, so a change of verdict changes the virtual server's
//! fingerprint).
//!
//! The result equals [`crate::plan::from_config`] of the whole new
//! configuration (tests/plan_delta.rs), `keepalived_check.data`'s
//! configuration included.

use rkeepalived_control::delta::{ConfigDelta, VsSlot};

use crate::error::PlanError;
use crate::spec::CheckPlan;

fn bad_layout(what: &str, index: u32) -> PlanError {
    PlanError::VirtualServer {
        vs: format!("#{index}"),
        msg: format!("delta reload names a {what} virtual server that does not exist"),
    }
}

/// The plan of `delta` applied to `old`.
pub fn apply(old: &CheckPlan, delta: &ConfigDelta) -> Result<CheckPlan, PlanError> {
    let mut plan = crate::plan::without_dump(&delta.config)?;
    let mut fresh: Vec<Option<_>> = std::mem::take(&mut plan.virtual_servers)
        .into_iter()
        .map(Some)
        .collect();
    let fresh_vs_alerts = std::mem::take(&mut plan.alerts.vs);
    let fresh_rs_alerts = std::mem::take(&mut plan.alerts.rs);
    let alerts = plan.alerts.settings.is_some();
    let mut virtual_servers = Vec::with_capacity(delta.layout.len());
    for slot in &delta.layout {
        match *slot {
            VsSlot::Kept(i) => {
                let vs = old
                    .virtual_servers
                    .get(i as usize)
                    .ok_or_else(|| bad_layout("kept", i))?;
                virtual_servers.push(vs.clone());
                if alerts {
                    // The old plan's flags when it mailed too (the same
                    // settings: global_defs is unchanged).
                    let i = i as usize;
                    plan.alerts
                        .vs
                        .push(old.alerts.vs.get(i).copied().unwrap_or(false));
                    plan.alerts.rs.push(
                        old.alerts
                            .rs
                            .get(i)
                            .cloned()
                            .unwrap_or_else(|| vec![false; vs.real_servers.len()]),
                    );
                }
            }
            VsSlot::Changed(i) => {
                let vs = fresh
                    .get_mut(i as usize)
                    .and_then(Option::take)
                    .ok_or_else(|| bad_layout("changed", i))?;
                virtual_servers.push(vs);
                if alerts {
                    let i = i as usize;
                    plan.alerts
                        .vs
                        .push(fresh_vs_alerts.get(i).copied().unwrap_or(false));
                    plan.alerts
                        .rs
                        .push(fresh_rs_alerts.get(i).cloned().unwrap_or_default());
                }
            }
        }
    }
    virtual_servers.shrink_to_fit();
    plan.announce = crate::plan::announce_settings(&virtual_servers, &delta.config.global_defs);
    plan.virtual_servers = virtual_servers;
    plan.dump = old
        .dump
        .patched(&delta.layout, &delta.config.virtual_servers);
    Ok(plan)
}
