//! The router's deadline index: every instance's next fsm deadline, ordered,
//! so [`super::Router::next_deadline`] is O(log n) and `Input::Timer` visits
//! only the due instances instead of scanning all of them (at 1,000
//! instances the two scans were ~40 % of a backup's VRRP CPU).
//!
//! keepalived keeps each socket's instances in a red-black tree ordered by
//! deadline (`rb_sands`) and takes the first one (vrrp_scheduler.c
//! `vrrp_compute_timer()`: `rb_first_cached`); this is the same with a
//! `BTreeSet<(Instant, slot)>`. Entries are exact (no lazy deletion): each
//! slot's indexed deadline is cached, so an update removes the old entry.
//!
//! The router marks a slot dirty whenever it hands its fsm out mutably
//! ([`DeadlineIndex::touch`]) and calls [`DeadlineIndex::refresh`] before the
//! index is read again.

use std::collections::BTreeSet;
use std::time::Instant;

#[derive(Default)]
pub(super) struct DeadlineIndex {
    /// (deadline, slot) of every slot with a deadline.
    set: BTreeSet<(Instant, usize)>,
    /// The deadline each slot is indexed under (`None`: not in `set`).
    at: Vec<Option<Instant>>,
    /// Slots whose fsm may have changed since the last refresh.
    dirty: Vec<usize>,
}

impl DeadlineIndex {
    /// Slot `idx`'s fsm may change: re-read its deadline at the next refresh.
    pub(super) fn touch(&mut self, idx: usize) {
        self.dirty.push(idx);
    }

    /// Re-index the touched slots with `deadline(slot)`; returns them
    /// (sorted, without duplicates).
    pub(super) fn refresh(&mut self, deadline: impl Fn(usize) -> Option<Instant>) -> Vec<usize> {
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for &idx in &dirty {
            self.set_at(idx, deadline(idx));
        }
        dirty
    }

    fn set_at(&mut self, idx: usize, d: Option<Instant>) {
        if idx >= self.at.len() {
            self.at.resize(idx + 1, None);
        }
        let old = std::mem::replace(&mut self.at[idx], d);
        if old == d {
            return;
        }
        if let Some(o) = old {
            self.set.remove(&(o, idx));
        }
        if let Some(n) = d {
            self.set.insert((n, idx));
        }
    }

    /// Rebuild from scratch for `n` slots (after slots were removed and the
    /// later ones shifted down).
    pub(super) fn rebuild(&mut self, deadlines: impl Iterator<Item = Option<Instant>>) {
        self.set.clear();
        self.at.clear();
        self.dirty.clear();
        for (idx, d) in deadlines.enumerate() {
            self.set_at(idx, d);
        }
    }

    /// The earliest indexed deadline.
    pub(super) fn first(&self) -> Option<Instant> {
        self.set.first().map(|(d, _)| *d)
    }

    /// The slots due at `now` (deadline <= now), in slot order.
    pub(super) fn due(&self, now: Instant) -> BTreeSet<usize> {
        self.set
            .range(..=(now, usize::MAX))
            .map(|(_, idx)| *idx)
            .collect()
    }

    /// Whether the index has no pending updates (for debug assertions).
    pub(super) fn is_clean(&self) -> bool {
        self.dirty.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn updates_replace_the_old_entry() {
        let t0 = Instant::now();
        let s = |ms| Some(t0 + Duration::from_millis(ms));
        let mut ix = DeadlineIndex::default();
        let mut d = [s(30), s(10), None];
        ix.rebuild(d.iter().copied());
        assert_eq!(ix.first(), s(10));
        d[1] = s(50);
        ix.touch(1);
        ix.touch(1);
        assert_eq!(ix.refresh(|i| d[i]), vec![1]);
        assert_eq!(ix.first(), s(30));
        assert_eq!(ix.due(t0 + Duration::from_millis(30)), BTreeSet::from([0]));
        d[0] = None;
        ix.touch(0);
        ix.refresh(|i| d[i]);
        assert_eq!(ix.first(), s(50));
        assert!(ix.due(t0 + Duration::from_millis(49)).is_empty());
    }
}
