//! Bounded takeover batches. When one router input makes many instances
//! Master at once (a backup taking over 1,000 instances after the master
//! died, or a node starting up), carrying the effects out in order means one
//! netlink round trip per instance for its VIPs, back to back, before the
//! engine looks at anything else: at 1,000 instances that held every other
//! Master's adverts and every received advert up for about a second.
//!
//! So, for a batch with more than [`CHUNK`] `AddVips`:
//! * each new Master's advert is sent at once, in the batch (keepalived
//!   vrrp.c `vrrp_state_master_tx()` sends it before
//!   `vrrp_state_become_master()` too, "so the old master removes the VIPs
//!   before our GARPs");
//! * the rest of each instance's effects, from its `AddVips` on (addresses,
//!   then GARP/NA, state log, notifies: the order of keepalived's
//!   `vrrp_state_become_master()`), is held in a queue, per instance and in
//!   order;
//! * the engine loop runs the queue [`CHUNK`] instances at a time, the
//!   addresses of a chunk concurrently, returning to its `select!` between
//!   chunks.
//!
//! An instance with held effects gets them carried out before any new effect
//! of its own (a higher-priority advert's `RemoveVips` never overtakes the
//! `AddVips` it follows); a sync group's state (no instance) first flushes
//! the whole queue; a reload and the shutdown flush it first too. Smaller
//! batches run in order as before.

use std::collections::{HashSet, VecDeque};

use crate::fsm::Action;
use crate::router::Effect;

/// Instances per chunk (and the batch size from which effects are held).
pub(super) const CHUNK: usize = 32;

/// One instance's held effects, in order; the first is its `AddVips`.
#[derive(Debug, PartialEq)]
pub(super) struct Held {
    pub(super) instance: usize,
    pub(super) effects: Vec<Effect>,
}

/// What to do, in order, with a batch of effects.
#[derive(Debug, PartialEq)]
pub(super) enum Step {
    Now(Effect),
    /// Carry out these held effects (held earlier) first.
    Flush(Held),
}

/// The queue of held effects.
#[derive(Default)]
pub(super) struct Takeovers {
    queue: VecDeque<Held>,
    held: HashSet<usize>,
}

fn instance_of(e: &Effect) -> Option<usize> {
    match e {
        Effect::EnteringMaster { instance }
        | Effect::Action { instance, .. }
        | Effect::Dropped { instance, .. }
        | Effect::Accepted { instance, .. }
        | Effect::PriorityChanged { instance, .. } => Some(*instance),
        Effect::GroupState { .. } | Effect::Unmatched { .. } => None,
    }
}

fn is_action(e: &Effect, want: fn(&Action) -> bool) -> bool {
    matches!(e, Effect::Action { action, .. } if want(action))
}

impl Takeovers {
    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Split `effects` into what to do now (in order) and what to hold.
    pub(super) fn plan(&mut self, effects: Vec<Effect>) -> Vec<Step> {
        let adds = effects
            .iter()
            .filter(|e| is_action(e, |a| *a == Action::AddVips))
            .count();
        let batching = adds > CHUNK;
        let mut fresh: HashSet<usize> = HashSet::new();
        let mut last: Option<usize> = None;
        let mut steps = Vec::with_capacity(effects.len());
        for e in effects {
            match instance_of(&e) {
                Some(i) if fresh.contains(&i) => {
                    let Some(h) = self.queue.iter_mut().rev().find(|h| h.instance == i) else {
                        steps.push(Step::Now(e));
                        continue;
                    };
                    let releasing = h
                        .effects
                        .iter()
                        .any(|x| is_action(x, |a| *a == Action::RemoveVips));
                    if is_action(&e, |a| matches!(a, Action::SendAdvert { .. })) && !releasing {
                        // The first advert as Master goes out at once.
                        steps.push(Step::Now(e));
                    } else {
                        h.effects.push(e);
                    }
                }
                Some(i) if self.held.contains(&i) => {
                    if let Some(h) = self.take(i) {
                        steps.push(Step::Flush(h));
                    }
                    steps.push(Step::Now(e));
                }
                Some(i) if batching && is_action(&e, |a| *a == Action::AddVips) => {
                    self.queue.push_back(Held {
                        instance: i,
                        effects: vec![e],
                    });
                    self.held.insert(i);
                    fresh.insert(i);
                    last = Some(i);
                }
                Some(_) => steps.push(Step::Now(e)),
                None if matches!(e, Effect::GroupState { .. }) => {
                    if let Some(h) =
                        last.and_then(|i| self.queue.iter_mut().rev().find(|h| h.instance == i))
                    {
                        // After the member it follows, as before.
                        h.effects.push(e);
                    } else {
                        let earlier: Vec<Held> = self.take_all();
                        steps.extend(earlier.into_iter().map(Step::Flush));
                        steps.push(Step::Now(e));
                    }
                }
                None => steps.push(Step::Now(e)),
            }
        }
        steps
    }

    fn take(&mut self, instance: usize) -> Option<Held> {
        let pos = self.queue.iter().position(|h| h.instance == instance)?;
        self.held.remove(&instance);
        self.queue.remove(pos)
    }

    /// The next chunk to carry out.
    pub(super) fn next_chunk(&mut self) -> Vec<Held> {
        let n = self.queue.len().min(CHUNK);
        let chunk: Vec<Held> = self.queue.drain(..n).collect();
        for h in &chunk {
            self.held.remove(&h.instance);
        }
        chunk
    }

    /// Everything held, in order.
    pub(super) fn take_all(&mut self) -> Vec<Held> {
        self.held.clear();
        self.queue.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::{Notify, Reason, State};

    fn act(instance: usize, action: Action) -> Effect {
        Effect::Action { instance, action }
    }

    /// What the router returns for instance `i` going Master (fsm.rs
    /// `enter_master()`).
    fn takeover(i: usize) -> Vec<Effect> {
        vec![
            Effect::EnteringMaster { instance: i },
            act(i, Action::AddVips),
            act(i, Action::SendAdvert { priority: 100 }),
            act(i, Action::SendGratuitous { repeat: 5 }),
            act(
                i,
                Action::StateChanged {
                    from: State::Backup,
                    to: State::Master,
                    reason: Reason::MasterDown,
                },
            ),
            act(i, Action::Notify(Notify::Master)),
        ]
    }

    fn now(steps: &[Step]) -> Vec<&Effect> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Now(e) => Some(e),
                Step::Flush(_) => None,
            })
            .collect()
    }

    #[test]
    fn small_batches_run_in_order() {
        let mut t = Takeovers::default();
        let effects: Vec<Effect> = (0..CHUNK).flat_map(takeover).collect();
        let steps = t.plan(effects.clone());
        assert_eq!(now(&steps), effects.iter().collect::<Vec<_>>());
        assert!(t.is_empty());
    }

    #[test]
    fn a_mass_takeover_sends_adverts_now_and_holds_the_rest_in_chunks() {
        let mut t = Takeovers::default();
        let n = 3 * CHUNK + 5;
        let steps = t.plan((0..n).flat_map(takeover).collect());
        // Now: every instance's EnteringMaster and first advert, in order.
        let sent: Vec<usize> = now(&steps)
            .iter()
            .filter_map(|e| match e {
                Effect::Action {
                    instance,
                    action: Action::SendAdvert { .. },
                } => Some(*instance),
                _ => None,
            })
            .collect();
        assert_eq!(sent, (0..n).collect::<Vec<_>>());
        assert_eq!(now(&steps).len(), 2 * n);
        // Held: per instance, AddVips, GARP, state, notify (keepalived
        // vrrp_state_become_master order), in chunks of CHUNK.
        let mut chunks = Vec::new();
        while !t.is_empty() {
            chunks.push(t.next_chunk());
        }
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            [CHUNK, CHUNK, CHUNK, 5]
        );
        let first = &chunks[0][0];
        assert_eq!(first.instance, 0);
        let expect: Vec<Effect> = takeover(0)
            .into_iter()
            .filter(|e| {
                !matches!(
                    e,
                    Effect::EnteringMaster { .. }
                        | Effect::Action {
                            action: Action::SendAdvert { .. },
                            ..
                        }
                )
            })
            .collect();
        assert_eq!(first.effects, expect);
    }

    #[test]
    fn a_later_effect_of_a_held_instance_flushes_it_first() {
        let mut t = Takeovers::default();
        t.plan((0..CHUNK + 1).flat_map(takeover).collect());
        // Instance 7 hears a higher-priority advert: back to Backup.
        let steps = t.plan(vec![
            act(3, Action::SendAdvert { priority: 100 }),
            act(7, Action::RemoveVips),
        ]);
        match &steps[..] {
            [Step::Flush(h3), Step::Now(a), Step::Flush(h7), Step::Now(r)] => {
                assert_eq!(h3.instance, 3);
                assert_eq!(*a, act(3, Action::SendAdvert { priority: 100 }));
                assert_eq!(h7.instance, 7);
                assert_eq!(h7.effects[0], act(7, Action::AddVips));
                assert_eq!(h7.effects.len(), 4);
                assert_eq!(*r, act(7, Action::RemoveVips));
            }
            other => panic!("unexpected steps {other:?}"),
        }
        let left: Vec<usize> = t.take_all().iter().map(|h| h.instance).collect();
        assert_eq!(left.len(), CHUNK + 1 - 2);
        assert!(!left.contains(&7) && !left.contains(&3));
    }

    #[test]
    fn a_group_state_without_a_batch_flushes_everything_first() {
        let mut t = Takeovers::default();
        t.plan((0..CHUNK + 1).flat_map(takeover).collect());
        let g = Effect::GroupState {
            group: 0,
            name: "G".into(),
            state: State::Master,
        };
        let steps = t.plan(vec![g.clone()]);
        assert_eq!(steps.len(), CHUNK + 2);
        assert_eq!(steps.last(), Some(&Step::Now(g)));
        assert!(t.is_empty());
    }
}
