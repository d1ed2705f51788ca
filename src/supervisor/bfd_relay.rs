//! BFD session states from the BFD child to the VRRP and checker children.
//!
//! keepalived 2.2.7 opens one pipe per consumer before forking
//! (bfd/bfd_event.c `open_bfd_pipes()`), and the bfd process writes each
//! event to the VRRP pipe and/or the checker pipe as the session's `vrrp` /
//! `checker` options say (`bfd_event_send()`). Here the BFD child sends the
//! event to the supervisor over its IPC channel and the supervisor writes it
//! to the consumers' channels: one in-memory hop more, well under a
//! millisecond. The supervisor keeps the last state of every session, so a
//! consumer that (re)starts gets every session's state right after its
//! configuration, as keepalived's bfd process sends the states at start
//! (`bfd_dispatcher_init()` -> `bfd_event_send()` per session) and a
//! restarted consumer reads the pipe it inherits.

use std::collections::{BTreeMap, HashMap};

use rkeepalived_config::Config;

use crate::cli::Role;
use crate::ipc::BfdState;

/// Which consumers each session's events go to: (`to_vrrp`, `to_checker`).
pub(super) fn routes(cfg: &Config) -> HashMap<String, (bool, bool)> {
    cfg.bfd_sessions()
        .into_iter()
        .map(|s| (s.name.to_string(), (s.to_vrrp, s.to_checker)))
        .collect()
}

#[derive(Debug, Default)]
pub(super) struct BfdRelay {
    routes: HashMap<String, (bool, bool)>,
    /// Last state each session reported (absent: none yet, i.e. down).
    states: BTreeMap<String, bool>,
}

impl BfdRelay {
    pub(super) fn new(routes: HashMap<String, (bool, bool)>) -> BfdRelay {
        BfdRelay {
            routes,
            states: BTreeMap::new(),
        }
    }

    /// A reload: new routes; sessions that are gone are forgotten.
    pub(super) fn set_routes(&mut self, routes: HashMap<String, (bool, bool)>) {
        self.states.retain(|name, _| routes.contains_key(name));
        self.routes = routes;
    }

    fn wants(&self, name: &str, role: Role) -> bool {
        match (self.routes.get(name), role) {
            (Some((vrrp, _)), Role::Vrrp) => *vrrp,
            (Some((_, checker)), Role::Checker) => *checker,
            _ => false,
        }
    }

    /// A state from the BFD child: the consumers that get it.
    pub(super) fn on_state(&mut self, state: &BfdState) -> Vec<Role> {
        if !self.routes.contains_key(&state.name) {
            return Vec::new();
        }
        self.states.insert(state.name.clone(), state.up);
        [Role::Vrrp, Role::Checker]
            .into_iter()
            .filter(|r| self.wants(&state.name, *r))
            .collect()
    }

    /// What a starting `role` child is told: every known session state it
    /// follows.
    pub(super) fn initial(&self, role: Role) -> Vec<BfdState> {
        self.states
            .iter()
            .filter(|(name, _)| self.wants(name, role))
            .map(|(name, up)| BfdState::now(name.clone(), *up))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(name: &str, up: bool) -> BfdState {
        BfdState {
            name: name.into(),
            up,
            sent_unix_us: 0,
        }
    }

    fn names(v: Vec<BfdState>) -> Vec<(String, bool)> {
        v.into_iter().map(|s| (s.name, s.up)).collect()
    }

    #[test]
    fn routes_states_to_the_consumers_the_session_names() {
        let mut r = BfdRelay::new(HashMap::from([
            ("both".to_string(), (true, true)),
            ("v".to_string(), (true, false)),
            ("c".to_string(), (false, true)),
        ]));
        assert_eq!(
            r.on_state(&st("both", true)),
            vec![Role::Vrrp, Role::Checker]
        );
        assert_eq!(r.on_state(&st("v", true)), vec![Role::Vrrp]);
        assert_eq!(r.on_state(&st("c", false)), vec![Role::Checker]);
        assert!(r.on_state(&st("unknown", true)).is_empty());
        // A restarted consumer gets every state it follows.
        let named = |n: &[(&str, bool)]| -> Vec<(String, bool)> {
            n.iter().map(|(a, b)| (a.to_string(), *b)).collect()
        };
        assert_eq!(
            names(r.initial(Role::Vrrp)),
            named(&[("both", true), ("v", true)])
        );
        assert_eq!(
            names(r.initial(Role::Checker)),
            named(&[("both", true), ("c", false)])
        );
        assert!(r.initial(Role::Bfd).is_empty());
        // A reload drops sessions that are gone.
        r.set_routes(HashMap::from([("v".to_string(), (true, true))]));
        assert_eq!(names(r.initial(Role::Checker)), named(&[("v", true)]));
    }
}
