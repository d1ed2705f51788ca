//! Tracking and link inputs of the core: a tracked object's new status ->
//! the priority and fault of every instance that tracks it (keepalived 2.2.7
//! `vrrp_track.c`: `update_script_priorities()`, `process_update_track_file_status()`,
//! `process_update_track_process_status()`, `process_if_status_change()`;
//! the arithmetic is [`crate::track`] through [`glue::tracked_priority`]).
//!
//! Besides its tracked objects, an instance is held in FAULT while it has
//! no advert source address or the I/O shell has no sockets for it
//! ([`Router::set_ready`]; keepalived `cleanup_lost_interface()` ->
//! `down_instance()`), and released when both are back.

use std::net::IpAddr;
use std::time::Instant;

use super::{Effect, Router};
use crate::fsm::{Event, Instance, InstanceParams};
use crate::instance as glue;
use crate::track::ScriptStatus;

/// A tracked object's new status ([`super::Input::Tracked`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracked {
    /// `vrrp_script` result after its rise/fall filter.
    Script { name: String, status: ScriptStatus },
    /// `vrrp_track_file` value.
    File { name: String, value: i64 },
    /// `vrrp_track_process` quorum.
    Process { name: String, up: bool },
    /// A `bfd_instance` session's state (from the BFD child).
    Bfd { name: String, up: bool },
}

/// What happened to a network interface ([`super::Input::Link`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEvent {
    /// It exists and is up and running (also: it appeared, up).
    Up,
    /// It exists but is down (also: it appeared, down).
    Down,
    /// It was deleted or renamed away.
    Gone,
}

impl Router {
    /// Whether the I/O shell has what instance `idx` needs to receive and
    /// send adverts (its sockets); applied by the next [`super::Input::Retrack`].
    pub fn set_ready(&mut self, idx: usize, ready: bool) {
        if let Some(s) = self.slots.get_mut(idx) {
            s.ready = ready;
        }
    }

    /// The tracked objects' current status.
    pub fn track(&self) -> &glue::TrackState {
        &self.track
    }

    /// Set tracked objects' status without re-evaluating (the I/O shell's
    /// initial reads); [`super::Input::Retrack`] applies them.
    pub fn track_mut(&mut self) -> &mut glue::TrackState {
        &mut self.track
    }

    /// The (priority, fault) tracking last gave instance `idx`.
    pub fn tracked(&self, idx: usize) -> Option<(u8, bool)> {
        self.slots.get(idx).map(|s| s.tracked)
    }

    /// Whether an interface of that name is tracked (by an instance, its
    /// sync group, or as an instance's own interface).
    pub fn is_tracked_interface(&self, name: &str) -> bool {
        self.track.interfaces.contains_key(name)
    }

    pub(super) fn tracked_input(&mut self, t: Tracked, now: Instant, out: &mut Vec<Effect>) {
        match t {
            Tracked::Script { name, status } => {
                self.track.scripts.insert(name, status);
            }
            Tracked::File { name, value } => {
                self.track.files.insert(name, value);
            }
            Tracked::Process { name, up } => {
                self.track.processes.insert(name, up);
            }
            Tracked::Bfd { name, up } => {
                // vrrp_scheduler.c vrrp_handle_bfd_event(): an event that
                // does not change the session's state is ignored.
                if self.track.bfds.get(&name).copied().unwrap_or(false) == up {
                    return;
                }
                for inst in self.bfd_trackers(&name) {
                    tracing::info!(
                        "VRRP_Instance({inst}) Tracked BFD instance {name} is {}",
                        if up { "UP" } else { "DOWN" }
                    );
                }
                self.track.bfds.insert(name, up);
            }
        }
        self.retrack(now, out);
    }

    /// The instances tracking BFD `name` (own or sync-group entries).
    fn bfd_trackers(&self, name: &str) -> Vec<String> {
        self.config
            .vrrp_bfd_tracking()
            .into_iter()
            .filter(|t| t.bfd == name)
            .map(|t| t.instance.to_string())
            .collect()
    }

    /// keepalived `vrrp_netlink.c` link filter -> `process_if_status_change()`:
    /// a tracked interface going down, up or away re-evaluates every
    /// instance. An interface nobody tracks changes nothing here (its
    /// sockets follow in the I/O shell, which then reports readiness).
    pub(super) fn link(
        &mut self,
        ifname: &str,
        ev: LinkEvent,
        now: Instant,
        out: &mut Vec<Effect>,
    ) {
        let up = ev == LinkEvent::Up;
        if ev == LinkEvent::Gone {
            // Its sockets went with it.
            for s in self.slots.iter_mut() {
                if s.endpoint.as_ref().is_some_and(|e| e.ifname == ifname) {
                    s.ready = false;
                }
            }
        }
        match self.track.interfaces.get(ifname) {
            Some(was) if *was != up => {
                tracing::info!(iface = %ifname, up, "tracked interface changed");
                self.track.interfaces.insert(ifname.to_string(), up);
                self.retrack(now, out);
            }
            _ if ev == LinkEvent::Gone => self.retrack(now, out),
            _ => {}
        }
    }

    /// Recompute every instance's tracked priority and fault and feed the
    /// changes to it (keepalived `vrrp_set_effective_priority()`,
    /// `down_instance()` / `try_up_instance()`).
    pub(super) fn retrack(&mut self, now: Instant, out: &mut Vec<Effect>) {
        for idx in 0..self.slots.len() {
            let slot = &self.slots[idx];
            let Some(cfg) = self
                .config
                .vrrp_instances
                .iter()
                .find(|i| i.name == slot.name)
            else {
                continue;
            };
            let outcome = glue::tracked_priority(cfg, &self.config, &self.track);
            let no_src = slot.endpoint.as_ref().is_some_and(|e| e.src.is_none());
            let fault = outcome.fault || no_src || !slot.ready;
            let (was_prio, was_fault) = slot.tracked;
            let priority = (outcome.priority != was_prio).then_some(outcome.priority);
            let fault_changed = (fault != was_fault).then_some(fault);
            self.slots[idx].tracked = (outcome.priority, fault);
            if let Some(to) = priority {
                out.push(Effect::PriorityChanged {
                    instance: idx,
                    from: was_prio,
                    to,
                    state: self.slots[idx].fsm.state(),
                });
            }
            self.track_changed(idx, priority, fault_changed, now, out);
        }
    }

    /// Instances that lacked an advert source address got one: the fsm's
    /// tie-break address is fixed at construction, so each is rebuilt with
    /// `params` (it has been in FAULT, so no state is lost) and started
    /// held in FAULT; then tracking releases whichever nothing else holds.
    pub(super) fn sources(
        &mut self,
        found: Vec<(usize, IpAddr, Box<InstanceParams>)>,
        now: Instant,
        out: &mut Vec<Effect>,
    ) {
        if found.is_empty() {
            return;
        }
        for (idx, src, params) in found {
            let Some(slot) = self.slots.get_mut(idx) else {
                continue;
            };
            if let Some(e) = slot.endpoint.as_mut() {
                e.src = Some(src);
            }
            slot.fsm = Instance::new(*params);
            self.deadlines.touch(idx);
            let events = vec![
                Event::PriorityChanged(slot.tracked.0),
                Event::Fault(true),
                Event::Startup,
            ];
            let mut actions = Vec::new();
            for e in events {
                actions.extend(self.fsm_mut(idx).handle(e, now));
            }
            self.process(idx, actions, now, out);
        }
        // Clears the FAULT if nothing else holds it.
        for s in self.slots.iter_mut() {
            if s.endpoint.as_ref().is_some_and(|e| e.src.is_some()) {
                s.tracked.1 = s.tracked.1 || s.fsm.is_faulted();
            }
        }
        self.retrack(now, out);
    }
}
