//! The pure multi-instance VRRP core: every instance's state machine and the
//! `vrrp_sync_group`s between them, driven by [`Router::handle`] with virtual
//! time. It performs no I/O: it returns [`Effect`]s, which the engine
//! (`engine.rs`) carries out and the simulations (`tests/fsm_sim.rs`) record.
//!
//! Sync-group routing (keepalived 2.2.7 `vrrp_sync.c`) lives here only: a
//! member's transitions and Master wish go to its groups ([`SyncGroup`]), and
//! the commands they return are delivered to the other members as
//! `Event::SyncGroup`, depth first, in the order keepalived's
//! `vrrp_sync_master()` / `vrrp_sync_backup()` / `vrrp_sync_fault()` walk them.
//! Group state changes come out as [`Effect::GroupState`] (for the group's
//! notify scripts, keepalived `notify_group_instance`).
//!
//! Instances are indexed in the order they were added ([`Router::add`]);
//! [`Router::remove`] shifts the later ones down, like `Vec::remove`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use rkeepalived_config::model::Config;

use crate::demux::{self, Endpoint};
use crate::fsm::{Action, Event, Instance, InstanceParams, Reason, State, SyncCommand};
use crate::instance::TrackState;
use crate::sync_group::SyncGroup;
use crate::wire::{DropReason, Family, Received};

mod deadlines;
mod tracking;
use deadlines::DeadlineIndex;
pub use tracking::{LinkEvent, Tracked};

/// One input to the core.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Events for one instance (an accepted advert, a tracked priority,
    /// startup, shutdown...), handled in order; their actions are then
    /// performed together and reported to the instance's sync groups.
    Events { instance: usize, events: Vec<Event> },
    /// Fire every instance whose deadline is due at `now`.
    Timer,
    /// A new instance starts (after [`Router::add`]) with its tracked
    /// priority and whether it is held in FAULT (tracking, sockets or source
    /// address missing). Joining a group that is in FAULT holds it there too.
    Start {
        instance: usize,
        priority: u8,
        fault: bool,
    },
    /// Tracking gave a new priority and/or own fault. A fault change goes to
    /// the instance's sync groups first, then to the instance itself
    /// (the [`SyncGroup`] driver contract).
    Track {
        instance: usize,
        priority: Option<u8>,
        fault: Option<bool>,
    },
    /// In-place reload of a running instance ([`Instance::reload`]).
    Reload {
        instance: usize,
        params: Box<InstanceParams>,
        priority: u8,
    },
    /// A decoded advert received on `ifname`'s `family` socket: it goes to
    /// every instance with an [`Endpoint`] there for its VRID that is not
    /// its sender and whose receive policy accepts it ([`crate::demux`]).
    Datagram {
        ifname: String,
        family: Family,
        rx: Box<Received>,
    },
    /// A tracked object's new status: every instance tracking it (through
    /// the configuration given to [`Router::set_config`]) gets its new
    /// priority and fault ([`Effect::PriorityChanged`], then as [`Input::Track`]).
    Tracked(Tracked),
    /// Interface `ifname` went up, down or away: tracked interfaces
    /// re-evaluate their instances; gone, it takes the sockets of the
    /// instances receiving on it (not ready until [`Router::set_ready`]).
    Link { ifname: String, event: LinkEvent },
    /// Re-evaluate every instance's tracking, readiness and source address
    /// (after a reload, or once the I/O shell has (re)opened sockets).
    Retrack,
    /// Instances held for want of an advert source address have one now,
    /// with their state machine parameters for it.
    Sources {
        found: Vec<(usize, IpAddr, Box<InstanceParams>)>,
    },
}

/// What the core asks the I/O shell to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `instance` is about to become Master (keepalived
    /// `vrrp_state_goto_master()`), before any of the actions of the same
    /// step: the AH sequence counter moves on here.
    EnteringMaster { instance: usize },
    /// An fsm action of `instance` (send advert, add/remove VIPs, GARP/NA,
    /// notify, state change).
    Action { instance: usize, action: Action },
    /// Sync group `group` (index, name) entered `state`: run its notify scripts.
    GroupState {
        group: usize,
        name: String,
        state: State,
    },
    /// A datagram no instance receives (no endpoint for its VRID there).
    Unmatched { reason: DropReason },
    /// `instance`'s receive policy dropped an advert from `from`.
    Dropped {
        instance: usize,
        from: std::net::IpAddr,
        reason: DropReason,
    },
    /// `instance` accepted an advert (before the actions it causes).
    Accepted {
        instance: usize,
        priority_zero: bool,
    },
    /// Tracking changed `instance`'s effective priority (keepalived
    /// vrrp_track.c: "Changing effective priority from F to T"), while it
    /// was in `state`; the priority reaches the fsm right after.
    PriorityChanged {
        instance: usize,
        from: u8,
        to: u8,
        state: State,
    },
}

struct Slot {
    name: String,
    fsm: Instance,
    /// How it receives adverts; `None`: it receives none ([`Input::Datagram`]).
    endpoint: Option<Endpoint>,
    /// Last (priority, fault) tracking gave it.
    tracked: (u8, bool),
    /// The I/O shell has its sockets ([`Router::set_ready`]).
    ready: bool,
}

struct Group {
    name: String,
    members: Vec<String>,
    sg: SyncGroup,
    /// Last state reported through [`Effect::GroupState`].
    notified: Option<State>,
}

/// Every VRRP instance and sync group of one daemon.
#[derive(Default)]
pub struct Router {
    slots: Vec<Slot>,
    groups: Vec<Group>,
    /// The configuration tracking is evaluated against.
    config: Arc<Config>,
    track: TrackState,
    /// Instances by receiving interface, then (family, VRID): keepalived
    /// finds an advert's instance in its socket's VRID tree
    /// (`vrrp_dispatcher_read()`); a scan of every instance with a name
    /// compare was ~20 % of a backup's CPU at 1,000 instances. Built on
    /// demand, dropped whenever an instance or endpoint is added, replaced
    /// or removed. [`Router::endpoint_mut`] must not change the receive key.
    demux_index: Option<DemuxIndex>,
    /// Every instance's next fsm deadline, ordered ([`DeadlineIndex`]):
    /// up to date whenever `handle()` and the other `&mut self` methods return.
    deadlines: DeadlineIndex,
}

type DemuxIndex = HashMap<Box<str>, HashMap<(Family, u8), Vec<usize>>>;

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an instance (not started: see [`Input::Start`]); returns its index.
    pub fn add(&mut self, name: impl Into<String>, fsm: Instance) -> usize {
        let tracked = (fsm.effective_priority(), false);
        self.demux_index = None;
        self.slots.push(Slot {
            name: name.into(),
            fsm,
            endpoint: None,
            tracked,
            ready: true,
        });
        let idx = self.slots.len() - 1;
        self.deadlines.touch(idx);
        self.refresh_deadlines();
        idx
    }

    /// Forget instance `idx` (stopped already); later indices shift down.
    pub fn remove(&mut self, idx: usize) -> Option<Instance> {
        self.demux_index = None;
        let removed = (idx < self.slots.len()).then(|| self.slots.remove(idx).fsm);
        // Later slots shift down: re-index them all (rare: reloads only).
        self.deadlines
            .rebuild(self.slots.iter().map(|s| s.fsm.next_deadline()));
        removed
    }

    /// Replace the state machine of `idx` (a source address that appeared
    /// after startup fixes the tie-break address at construction).
    pub fn replace(&mut self, idx: usize, fsm: Instance) {
        if let Some(s) = self.slots.get_mut(idx) {
            s.fsm = fsm;
            self.deadlines.touch(idx);
            self.refresh_deadlines();
        }
    }

    /// Instance `idx`'s state machine, to drive it: its deadline is
    /// re-indexed at the next [`Router::refresh_deadlines`].
    fn fsm_mut(&mut self, idx: usize) -> &mut Instance {
        self.deadlines.touch(idx);
        &mut self.slots[idx].fsm
    }

    /// Re-index the deadlines of the instances driven since the last call;
    /// returns their indices (sorted).
    fn refresh_deadlines(&mut self) -> Vec<usize> {
        let slots = &self.slots;
        self.deadlines
            .refresh(|i| slots.get(i).and_then(|s| s.fsm.next_deadline()))
    }

    /// The configuration [`Input::Tracked`] and [`Input::Retrack`] evaluate
    /// tracking against (instances are found in it by name).
    pub fn set_config(&mut self, config: Arc<Config>) {
        self.config = config;
    }

    /// Set how instance `idx` receives adverts (and the AH state it sends with).
    pub fn set_endpoint(&mut self, idx: usize, endpoint: Endpoint) {
        self.demux_index = None;
        if let Some(s) = self.slots.get_mut(idx) {
            s.endpoint = Some(endpoint);
        }
    }

    /// Instance `idx`'s receive endpoint.
    pub fn endpoint(&self, idx: usize) -> Option<&Endpoint> {
        self.slots.get(idx).and_then(|s| s.endpoint.as_ref())
    }

    /// Instance `idx`'s receive endpoint, to update its source address or
    /// AH state; its interface, family and VRID stay (see `demux_index`).
    pub fn endpoint_mut(&mut self, idx: usize) -> Option<&mut Endpoint> {
        self.slots.get_mut(idx).and_then(|s| s.endpoint.as_mut())
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Instance `idx`'s state machine.
    ///
    /// # Panics
    /// If `idx` is out of range (an index the caller got from [`Router::add`]
    /// and kept in step with [`Router::remove`] never is).
    pub fn fsm(&self, idx: usize) -> &Instance {
        &self.slots[idx].fsm
    }

    pub fn name(&self, idx: usize) -> &str {
        &self.slots[idx].name
    }

    /// Index of the instance called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.name == name)
    }

    /// The earliest deadline of any instance (O(log n): keepalived
    /// vrrp_scheduler.c `vrrp_compute_timer()` takes the first of its
    /// `rb_sands` tree the same way).
    pub fn next_deadline(&self) -> Option<Instant> {
        debug_assert!(self.deadlines.is_clean(), "deadline index not refreshed");
        let first = self.deadlines.first();
        debug_assert_eq!(
            first,
            self.slots
                .iter()
                .filter_map(|s| s.fsm.next_deadline())
                .min(),
            "deadline index out of date"
        );
        first
    }

    /// Whether `name` belongs to a sync group.
    pub fn is_group_member(&self, name: &str) -> bool {
        self.groups
            .iter()
            .any(|g| g.members.iter().any(|m| m == name))
    }

    /// Aggregate state of sync group `group` (keepalived's group state).
    pub fn group_state(&self, group: usize) -> Option<State> {
        self.groups.get(group).map(|g| g.sg.state())
    }

    /// Replace the sync groups, `(name, member instance names)`, seeded with
    /// the current member states and own faults (`own_fault(idx)`), so a
    /// reload keeps running instances where they are. Seeding sends no commands.
    pub fn set_groups(
        &mut self,
        groups: impl IntoIterator<Item = (String, Vec<String>)>,
        own_fault: impl Fn(usize) -> bool,
    ) {
        self.groups = groups
            .into_iter()
            .map(|(name, members)| Group {
                sg: SyncGroup::new(members.len()),
                name,
                members,
                notified: None,
            })
            .collect();
        for grp in &mut self.groups {
            for (m, name) in grp.members.iter().enumerate() {
                if let Some(i) = self.slots.iter().position(|s| &s.name == name) {
                    let state = self.slots[i].fsm.state();
                    let _ = grp
                        .sg
                        .on_transition(m, State::Initialize, state, Reason::SyncGroup);
                    let _ = grp.sg.on_member_fault(m, own_fault(i));
                }
            }
        }
    }

    /// Handle one input at `now` and return what to do, in order.
    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<Effect> {
        let mut out = Vec::new();
        match input {
            Input::Events { instance, events } => {
                if instance < self.slots.len() {
                    let mut actions = Vec::new();
                    for e in events {
                        actions.extend(self.fsm_mut(instance).handle(e, now));
                    }
                    self.process(instance, actions, now, &mut out);
                }
            }
            Input::Timer => self.timer(now, &mut out),
            Input::Start {
                instance,
                priority,
                fault,
            } => {
                if let Some(s) = self.slots.get_mut(instance) {
                    s.tracked = (priority, fault);
                }
                self.start(instance, priority, fault, now, &mut out)
            }
            Input::Track {
                instance,
                priority,
                fault,
            } => self.track_changed(instance, priority, fault, now, &mut out),
            Input::Reload {
                instance,
                params,
                priority,
            } => {
                if let Some(s) = self.slots.get_mut(instance) {
                    s.tracked.0 = priority;
                    let actions = s.fsm.reload(*params, priority, now);
                    self.deadlines.touch(instance);
                    self.process(instance, actions, now, &mut out);
                }
            }
            Input::Datagram { ifname, family, rx } => {
                self.datagram(&ifname, family, &rx, now, &mut out)
            }
            Input::Tracked(t) => self.tracked_input(t, now, &mut out),
            Input::Link { ifname, event } => self.link(&ifname, event, now, &mut out),
            Input::Retrack => self.retrack(now, &mut out),
            Input::Sources { found } => self.sources(found, now, &mut out),
        }
        self.refresh_deadlines();
        out
    }

    /// Fire every instance whose deadline is due at `now`, in index order,
    /// visiting only the due ones. Same outcome as checking every slot in
    /// turn: a slot a sync group command makes due (or not due) before its
    /// turn comes is (or is not) fired, one before it waits for the next
    /// `Input::Timer`.
    fn timer(&mut self, now: Instant, out: &mut Vec<Effect>) {
        self.refresh_deadlines();
        let mut due = self.deadlines.due(now);
        while let Some(idx) = due.pop_first() {
            if self.slots[idx].fsm.next_deadline().is_none_or(|d| d > now) {
                continue;
            }
            let actions = self.fsm_mut(idx).handle(Event::Timer, now);
            self.process(idx, actions, now, out);
            for j in self.refresh_deadlines() {
                if j > idx && self.slots[j].fsm.next_deadline().is_some_and(|d| d <= now) {
                    due.insert(j);
                }
            }
        }
    }

    /// keepalived `vrrp_dispatcher_read()`: find the instances for the
    /// advert's VRID on this interface and family, skip our own adverts,
    /// apply each one's receive policy, and hand it to the accepting ones.
    fn datagram(
        &mut self,
        ifname: &str,
        family: Family,
        rx: &Received,
        now: Instant,
        out: &mut Vec<Effect>,
    ) {
        let slots = &self.slots;
        let index = self.demux_index.get_or_insert_with(|| {
            let mut index = DemuxIndex::new();
            for (i, e) in slots.iter().enumerate() {
                if let Some(e) = &e.endpoint {
                    index
                        .entry(e.ifname.as_str().into())
                        .or_default()
                        .entry((e.family, e.policy.vrid))
                        .or_default()
                        .push(i);
                }
            }
            index
        });
        let candidates = index
            .get(ifname)
            .and_then(|by_vrid| by_vrid.get(&(family, rx.adv.vrid)))
            .cloned()
            .unwrap_or_default();
        debug_assert_eq!(
            candidates,
            demux::candidates(
                self.slots.iter().map(|s| s.endpoint.as_ref()),
                ifname,
                family,
                rx.adv.vrid,
            ),
            "demux index out of date"
        );
        if candidates.is_empty() {
            out.push(Effect::Unmatched {
                reason: DropReason::VridMismatch,
            });
            return;
        }
        for idx in candidates {
            let slot = &mut self.slots[idx];
            let Some(ep) = slot.endpoint.as_mut() else {
                continue;
            };
            if ep.is_own(rx) {
                continue;
            }
            let state = slot.fsm.state();
            let vip_check = slot.fsm.wants_vip_check(rx.src);
            let prio = slot.fsm.effective_priority();
            if let Err(reason) = ep.accept(rx, state, vip_check, prio) {
                out.push(Effect::Dropped {
                    instance: idx,
                    from: rx.src,
                    reason,
                });
                continue;
            }
            out.push(Effect::Accepted {
                instance: idx,
                priority_zero: rx.adv.priority == 0,
            });
            self.deadlines.touch(idx);
            let actions = slot.fsm.handle(
                Event::AdvertReceived {
                    from: rx.src,
                    adv: rx.adv.clone(),
                },
                now,
            );
            self.process(idx, actions, now, out);
        }
    }

    fn start(
        &mut self,
        idx: usize,
        priority: u8,
        fault: bool,
        now: Instant,
        out: &mut Vec<Effect>,
    ) {
        if idx >= self.slots.len() {
            return;
        }
        let in_faulted_group = self
            .memberships(idx)
            .iter()
            .any(|(g, _)| self.groups[*g].sg.state() == State::Fault);
        let fsm = self.fsm_mut(idx);
        let mut actions = fsm.handle(Event::PriorityChanged(priority), now);
        if fault {
            actions.extend(fsm.handle(Event::Fault(true), now));
        }
        if in_faulted_group {
            actions.extend(fsm.handle(Event::SyncGroup(SyncCommand::GoFault), now));
        }
        actions.extend(fsm.handle(Event::Startup, now));
        if fault {
            let cmds = self.group_fault(idx, true);
            self.deliver(cmds, now, out);
        }
        self.process(idx, actions, now, out);
    }

    fn track_changed(
        &mut self,
        idx: usize,
        priority: Option<u8>,
        fault: Option<bool>,
        now: Instant,
        out: &mut Vec<Effect>,
    ) {
        if idx >= self.slots.len() {
            return;
        }
        let mut actions = Vec::new();
        if let Some(p) = priority {
            actions.extend(self.fsm_mut(idx).handle(Event::PriorityChanged(p), now));
        }
        if let Some(f) = fault {
            // Group peers first, then the member itself (sync_group.rs contract).
            let cmds = self.group_fault(idx, f);
            self.deliver(cmds, now, out);
            actions.extend(self.fsm_mut(idx).handle(Event::Fault(f), now));
        }
        if !actions.is_empty() {
            self.process(idx, actions, now, out);
        }
    }

    /// (group index, member index) of every sync group instance `idx` belongs to.
    fn memberships(&self, idx: usize) -> Vec<(usize, usize)> {
        let name = &self.slots[idx].name;
        self.groups
            .iter()
            .enumerate()
            .filter_map(|(g, grp)| grp.members.iter().position(|m| m == name).map(|m| (g, m)))
            .collect()
    }

    /// Tell the sync groups of `idx` that its own tracking fault changed.
    fn group_fault(&mut self, idx: usize, faulted: bool) -> Vec<(String, SyncCommand)> {
        let mut cmds = Vec::new();
        for (g, m) in self.memberships(idx) {
            let grp = &mut self.groups[g];
            for (j, cmd) in grp.sg.on_member_fault(m, faulted) {
                if let Some(member) = grp.members.get(j) {
                    cmds.push((member.clone(), cmd));
                }
            }
        }
        cmds
    }

    /// Emit `actions` of `idx`, report its transitions and Master wish to its
    /// groups, then deliver the resulting commands (depth first).
    fn process(&mut self, idx: usize, actions: Vec<Action>, now: Instant, out: &mut Vec<Effect>) {
        let entering_master = actions.iter().any(|a| {
            matches!(
                a,
                Action::StateChanged {
                    to: State::Master,
                    ..
                }
            )
        });
        if entering_master {
            // keepalived `vrrp_state_goto_master`, before the first advert as Master.
            if let Some(ah) = self.slots[idx]
                .endpoint
                .as_mut()
                .and_then(|e| e.ah.as_mut())
            {
                ah.counter.on_goto_master();
            }
            out.push(Effect::EnteringMaster { instance: idx });
        }
        let mut cmds = Vec::new();
        let mut group_states_due = false;
        for action in actions {
            let transition = match action {
                Action::StateChanged { from, to, reason } => Some((from, to, reason)),
                _ => None,
            };
            out.push(Effect::Action {
                instance: idx,
                action,
            });
            if let Some((from, to, reason)) = transition {
                for (g, m) in self.memberships(idx) {
                    let grp = &mut self.groups[g];
                    for (j, cmd) in grp.sg.on_transition(m, from, to, reason) {
                        if let Some(member) = grp.members.get(j) {
                            cmds.push((member.clone(), cmd));
                        }
                    }
                }
                // keepalived's order: at startup the groups' notifies come
                // first (vrrp_scheduler.c vrrp_init_state), on a later
                // transition after the instance's own (vrrp.c
                // send_instance_notifies, then vrrp_sync.c
                // vrrp_sync_master/backup -> send_group_notifies).
                if reason == Reason::Startup {
                    self.group_states(out);
                } else {
                    group_states_due = true;
                }
            }
        }
        if group_states_due {
            self.group_states(out);
        }
        // A member whose Master_Down_Timer fired only *wants* Master; the group
        // goes Master once every member wants it (sync_group.rs).
        let wants = self.slots[idx].fsm.wants_master();
        for (g, m) in self.memberships(idx) {
            let grp = &mut self.groups[g];
            for (j, cmd) in grp.sg.on_member_wants_master(m, wants) {
                if let Some(member) = grp.members.get(j) {
                    cmds.push((member.clone(), cmd));
                }
            }
        }
        self.deliver(cmds, now, out);
    }

    /// Deliver sync group commands; the transitions they cause carry
    /// `Reason::SyncGroup` and so never produce further commands.
    fn deliver(&mut self, cmds: Vec<(String, SyncCommand)>, now: Instant, out: &mut Vec<Effect>) {
        for (name, cmd) in cmds {
            if let Some(j) = self.find(&name) {
                let actions = self.fsm_mut(j).handle(Event::SyncGroup(cmd), now);
                self.process(j, actions, now, out);
            }
        }
    }

    /// [`Effect::GroupState`] for every group whose aggregate state changed.
    /// Startup passes through Initialize: nothing to report for it.
    fn group_states(&mut self, out: &mut Vec<Effect>) {
        for (g, grp) in self.groups.iter_mut().enumerate() {
            let state = grp.sg.state();
            if grp.notified == Some(state) {
                continue;
            }
            grp.notified = Some(state);
            if state != State::Initialize {
                out.push(Effect::GroupState {
                    group: g,
                    name: grp.name.clone(),
                    state,
                });
            }
        }
    }
}
