//! BFD_CHECK: a real server follows a `bfd_instance` session (keepalived
//! 2.2.7 check/check_bfd.c). No probe runs; the BFD child's state events
//! (relayed by the supervisor, `Control::Bfd`) drive the checker, which is
//! up exactly while the session is up and starts in its `alpha` state like
//! every checker.

use std::collections::HashSet;

use crate::health::{CheckerRef, HealthModel};
use crate::spec::{CheckKind, CheckPlan};

/// The checkers one event changes, with keepalived's log line for each.
///
/// check_bfd.c `bfd_check_handle_event()`: every checker following `name`
/// whose state differs from the event's, or that has not run yet
/// (`has_run`, kept in `seen`), logs "BFD check of [NAME] RS(RS) is
/// UP|DOWN" and takes the new state (`update_svr_checker_state()`).
///
/// `replay`: the last known state applied again after a reload (new
/// checkers take the session's state; those already in it stay quiet).
pub fn on_event(
    plan: &CheckPlan,
    model: &HealthModel,
    seen: &mut HashSet<CheckerRef>,
    name: &str,
    up: bool,
    replay: bool,
) -> Vec<(CheckerRef, String)> {
    let mut out = Vec::new();
    for (vi, vs) in plan.virtual_servers.iter().enumerate() {
        for (ri, rs) in vs.real_servers.iter().enumerate() {
            for (ci, spec) in rs.checkers.iter().enumerate() {
                let CheckKind::Bfd(n) = &spec.kind else {
                    continue;
                };
                if &**n != name {
                    continue;
                }
                let at = CheckerRef {
                    vs: vi as u32,
                    rs: ri as u32,
                    checker: ci as u32,
                };
                let is_up = model
                    .virtual_servers
                    .get(vi)
                    .and_then(|v| v.real_servers.get(ri))
                    .and_then(|r| r.checkers.get(ci))
                    .map(|c| c.up);
                let has_run = !seen.insert(at) || replay;
                if is_up == Some(up) && has_run {
                    continue;
                }
                let line = format!(
                    "BFD check of [{name}] RS({}) is {}",
                    crate::logfmt::rs(rs, vs),
                    if up { "UP" } else { "DOWN" }
                );
                out.push((at, line));
            }
        }
    }
    out
}

/// Whether a checker is a BFD_CHECK (it gets no probe task).
pub fn is_bfd(kind: &CheckKind) -> bool {
    matches!(kind, CheckKind::Bfd(_))
}

/// The checker object of a BFD_CHECK for the factory: it never probes
/// (the engine starts no task for it; see [`is_bfd`]).
pub struct EventDriven;

impl crate::checkers::Checker for EventDriven {
    fn kind(&self) -> &'static str {
        "BFD_CHECK"
    }

    fn check(&self) -> crate::checkers::BoxFuture<'_, crate::checkers::CheckOutcome> {
        Box::pin(std::future::pending())
    }
}
