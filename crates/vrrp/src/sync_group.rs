//! `vrrp_sync_group` coordination, pure (keepalived 2.2.7 `vrrp_sync.c` semantics):
//!
//! * any member in (its own) FAULT holds every other member in FAULT;
//!   when no member is faulted any more, the others are released (to Backup);
//! * members built with `InstanceParams::sync_group_member` only *want* Master when
//!   their Master_Down_Timer fires; the group goes Master together once every member
//!   wants it (`vrrp_sync_can_goto_master`: "prefer backup state to avoid thrashing"),
//!   see [`SyncGroup::on_member_wants_master`];
//! * a member becoming Master on its own (not a `sync_group_member`) pulls the others
//!   to Master;
//! * a member dropping from Master to Backup on its own pushes the others to Backup.
//!
//! Transitions that a sync command caused (`Reason::SyncGroup`) are not propagated
//! again, so there are no loops.
//!
//! Driver usage, for a group with members indexed `0..n`:
//!
//! ```text
//! // whenever tracking changes member i's own fault state:
//! for (j, cmd) in group.on_member_fault(i, faulted) { inst[j].handle(Event::SyncGroup(cmd), now) }
//! inst[i].handle(Event::Fault(faulted), now)
//! // for every Action::StateChanged { from, to, reason } that member i emits:
//! for (j, cmd) in group.on_transition(i, from, to, reason) { inst[j].handle(Event::SyncGroup(cmd), now) }
//! // after every inst[i].handle(..) (cheap, deduplicated):
//! for (j, cmd) in group.on_member_wants_master(i, inst[i].wants_master()) { inst[j].handle(Event::SyncGroup(cmd), now) }
//! ```
//! (and feed the `StateChanged` actions those produce back into `on_transition`;
//! they carry `Reason::SyncGroup` and so produce no further commands).
//!
//! [`SyncGroup::observe`] does the last two steps in one call:
//! `group.observe(i, &actions, inst[i].wants_master())` after every `inst[i].handle(..)`.

use crate::fsm::{Action, Reason, State, SyncCommand};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Member {
    state: State,
    own_fault: bool,
    /// keepalived `wantstate == MASTER`.
    wants_master: bool,
}

/// One sync group's view of its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroup {
    members: Vec<Member>,
}

impl SyncGroup {
    /// A group of `n` members, all in `Initialize` and not faulted.
    pub fn new(n: usize) -> Self {
        SyncGroup {
            members: vec![
                Member {
                    state: State::Initialize,
                    own_fault: false,
                    wants_master: false,
                };
                n
            ],
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Group state as keepalived reports it (for group notify scripts): FAULT if any
    /// member is faulted, MASTER if all members are Master, BACKUP if all are at least
    /// running, otherwise Initialize.
    pub fn state(&self) -> State {
        if self
            .members
            .iter()
            .any(|m| m.own_fault || m.state == State::Fault)
        {
            State::Fault
        } else if !self.members.is_empty() && self.members.iter().all(|m| m.state == State::Master)
        {
            State::Master
        } else if self.members.iter().any(|m| m.state == State::Initialize) {
            State::Initialize
        } else {
            State::Backup
        }
    }

    fn others(&self, member: usize, cmd: SyncCommand) -> Vec<(usize, SyncCommand)> {
        (0..self.members.len())
            .filter(|&j| j != member)
            .map(|j| (j, cmd))
            .collect()
    }

    /// Member `member`'s own tracking fault changed. Returns commands for the others.
    /// Out-of-range indices are ignored (no commands).
    pub fn on_member_fault(&mut self, member: usize, faulted: bool) -> Vec<(usize, SyncCommand)> {
        let Some(m) = self.members.get_mut(member) else {
            return Vec::new();
        };
        if m.own_fault == faulted {
            return Vec::new();
        }
        m.own_fault = faulted;
        if faulted {
            self.others(member, SyncCommand::GoFault)
        } else if self.members.iter().any(|m| m.own_fault) {
            // Another member still holds the group in fault. The recovering member
            // got GoFault when that member faulted, so it stays held: nothing to send.
            Vec::new()
        } else {
            // The last fault cleared: the group comes up (keepalived
            // vrrp_scheduler.c try_up_instance(): `--sync->num_member_fault`
            // reaches 0, then vrrp_sync_backup()). Every member was held by
            // the others' faults, the recovering one too if another faulted
            // while it was faulted itself (it got GoFault then): release
            // them all, the recovering member last (its own Fault(false)
            // follows).
            let mut cmds = self.others(member, SyncCommand::ClearFault);
            cmds.push((member, SyncCommand::ClearFault));
            cmds
        }
    }

    /// Everything the group needs to see after `member` handled an event: every
    /// `StateChanged` in `actions` (in order), then its `Instance::wants_master()`.
    /// Returns the commands for the members, to deliver as `Event::SyncGroup`.
    pub fn observe(
        &mut self,
        member: usize,
        actions: &[Action],
        wants_master: bool,
    ) -> Vec<(usize, SyncCommand)> {
        let mut out = Vec::new();
        for a in actions {
            if let Action::StateChanged { from, to, reason } = a {
                out.extend(self.on_transition(member, *from, *to, *reason));
            }
        }
        out.extend(self.on_member_wants_master(member, wants_master));
        out
    }

    /// Member `member`'s `Instance::wants_master()` is now `wants`. When this makes
    /// every member want Master (and none is faulted), returns `GoMaster` for every
    /// member not already Master; otherwise nothing (the member keeps waiting in
    /// Backup, its down timer restarted by the state machine).
    pub fn on_member_wants_master(
        &mut self,
        member: usize,
        wants: bool,
    ) -> Vec<(usize, SyncCommand)> {
        let Some(m) = self.members.get_mut(member) else {
            return Vec::new();
        };
        if m.wants_master == wants {
            return Vec::new();
        }
        m.wants_master = wants;
        let all_want = self
            .members
            .iter()
            .all(|m| !m.own_fault && (m.wants_master || m.state == State::Master));
        if !wants || !all_want {
            return Vec::new();
        }
        // keepalived: the member whose wish completes the consensus goes
        // MASTER itself first (`vrrp_state_goto_master`), then
        // `vrrp_sync_master` moves the others in group order; so with equal
        // timers the last member to expire installs its VIPs first.
        let mut out: Vec<(usize, SyncCommand)> = self
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.state != State::Master)
            .map(|(j, _)| (j, SyncCommand::GoMaster))
            .collect();
        if let Some(pos) = out.iter().position(|(j, _)| *j == member) {
            let first = out.remove(pos);
            out.insert(0, first);
        }
        out
    }

    /// Member `member` reported `StateChanged { from, to, reason }`.
    /// Returns commands for the others.
    pub fn on_transition(
        &mut self,
        member: usize,
        from: State,
        to: State,
        reason: Reason,
    ) -> Vec<(usize, SyncCommand)> {
        let Some(m) = self.members.get_mut(member) else {
            return Vec::new();
        };
        m.state = to;
        // Master counts as wanting Master; any other state resets the wish
        // (keepalived sets wantstate on these transitions).
        m.wants_master = to == State::Master;
        if reason == Reason::SyncGroup {
            return Vec::new();
        }
        match (from, to) {
            (_, State::Master) => self.others(member, SyncCommand::GoMaster),
            (State::Master, State::Backup) => self.others(member, SyncCommand::GoBackup),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_holds_everyone_until_all_clear() {
        let mut g = SyncGroup::new(3);
        assert_eq!(
            g.on_member_fault(0, true),
            vec![(1, SyncCommand::GoFault), (2, SyncCommand::GoFault)]
        );
        assert_eq!(
            g.on_member_fault(1, true),
            vec![(0, SyncCommand::GoFault), (2, SyncCommand::GoFault)]
        );
        // Member 0 recovers but 1 is still faulted: 0 stays held.
        assert!(g.on_member_fault(0, false).is_empty());
        assert_eq!(g.state(), State::Fault);
        // The last one recovers: everyone is released, itself included (it
        // got GoFault from member 0 while faulted).
        assert_eq!(
            g.on_member_fault(1, false),
            vec![
                (0, SyncCommand::ClearFault),
                (2, SyncCommand::ClearFault),
                (1, SyncCommand::ClearFault)
            ]
        );
        assert!(g.on_member_fault(7, true).is_empty());
    }

    #[test]
    fn consensus_waits_for_every_member() {
        let mut g = SyncGroup::new(3);
        for i in 0..3 {
            assert!(g
                .on_transition(i, State::Initialize, State::Backup, Reason::Startup)
                .is_empty());
        }
        assert!(g.on_member_wants_master(0, true).is_empty());
        assert!(g.on_member_wants_master(0, true).is_empty(), "deduplicated");
        assert!(g.on_member_wants_master(2, true).is_empty());
        // Member 1 accepted a master's advert meanwhile: no consensus.
        assert!(g.on_member_wants_master(1, false).is_empty());
        assert_eq!(
            g.on_member_wants_master(1, true),
            vec![
                (1, SyncCommand::GoMaster),
                (0, SyncCommand::GoMaster),
                (2, SyncCommand::GoMaster)
            ]
        );
        // A faulted member blocks consensus.
        let mut g = SyncGroup::new(2);
        g.on_member_fault(1, true);
        g.on_member_wants_master(1, true);
        assert!(g.on_member_wants_master(0, true).is_empty());
    }

    #[test]
    fn master_and_backup_propagate_once() {
        let mut g = SyncGroup::new(2);
        assert_eq!(
            g.on_transition(0, State::Backup, State::Master, Reason::MasterDown),
            vec![(1, SyncCommand::GoMaster)]
        );
        assert!(g
            .on_transition(1, State::Backup, State::Master, Reason::SyncGroup)
            .is_empty());
        assert_eq!(g.state(), State::Master);
        assert_eq!(
            g.on_transition(
                1,
                State::Master,
                State::Backup,
                Reason::HigherPriorityAdvert
            ),
            vec![(0, SyncCommand::GoBackup)]
        );
    }
}
