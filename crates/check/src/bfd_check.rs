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
/// (`has_run`, kept in `seen`), logs "BFD check of \[NAME\] RS(RS) is
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
                if n.as_str() != name {
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

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "bfd_instance b1 {
    neighbor_ip 192.0.2.201
}
virtual_server 192.0.2.100 80 {
    protocol TCP
    real_server 192.0.2.11 80 {
        BFD_CHECK {
            name b1
        }
    }
    real_server 192.0.2.12 80 {
        BFD_CHECK {
            name b1
            alpha
        }
    }
    real_server 192.0.2.13 80 {
        TCP_CHECK {
        }
    }
}
";

    /// check_bfd.c bfd_check_handle_event(): the first event of each
    /// checker is logged (even when it matches the `alpha` start state),
    /// later ones only when they change the state; other checkers are
    /// never touched.
    #[test]
    fn events_reach_the_checkers_of_their_session_with_keepalived_lines() {
        let cfg = rkeepalived_config::parse_str(CONF, "t.conf", &Default::default())
            .expect("config")
            .config;
        let plan = crate::plan::from_config(&cfg).expect("plan");
        let mut model = HealthModel::new(&plan);
        let mut seen = HashSet::new();
        // Start states: up without alpha, down with it.
        assert!(model.virtual_servers[0].real_servers[0].checkers[0].up);
        assert!(!model.virtual_servers[0].real_servers[1].checkers[0].up);
        let down = on_event(&plan, &model, &mut seen, "b1", false, false);
        let lines: Vec<&str> = down.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            lines,
            [
                "BFD check of [b1] RS([192.0.2.11]:tcp:80) is DOWN",
                "BFD check of [b1] RS([192.0.2.12]:tcp:80) is DOWN"
            ]
        );
        for (at, _) in &down {
            model.update_checker(&plan, *at, false, None);
        }
        assert!(on_event(&plan, &model, &mut seen, "b1", false, false).is_empty());
        assert!(on_event(&plan, &model, &mut seen, "other", true, false).is_empty());
        let up = on_event(&plan, &model, &mut seen, "b1", true, false);
        assert_eq!(up.len(), 2);
        assert!(up[1].1.ends_with("RS([192.0.2.12]:tcp:80) is UP"));
        // A reload's replay (the model still has both down) is quiet for
        // checkers already in that state, and applies a different one.
        seen.clear();
        assert!(on_event(&plan, &model, &mut seen, "b1", false, true).is_empty());
        assert_eq!(
            on_event(&plan, &model, &mut seen, "b1", true, true).len(),
            2
        );
    }
}
