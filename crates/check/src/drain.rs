//! Graceful drain on reload: `drain_on_remove SECONDS` (an rkeepalived
//! extension, in `virtual_server` or as a `global_defs` default).
//!
//! keepalived deletes the IPVS dest of a real server that a reload removes
//! from the configuration (ipwrapper.c `clear_diff_rs()`), and the kernel
//! then drops the packets of its established connections (`ip_vs_in()`:
//! the dest is no longer available). With `drain_on_remove`, the dest first
//! goes to weight 0 (no new connections are scheduled to it) and is
//! deleted when the kernel counts no active connection for it, or when the
//! time is up, whichever comes first.
//!
//! This module is the sans-IO core: the engine hands it the table it had
//! programmed and the new plan at each reload, overlays the draining dests
//! onto every desired table it programs, and feeds it the kernel's active
//! connection counts (`IPVS_DEST_ATTR_ACTIVE_CONNS`) once per
//! [`POLL_INTERVAL`]. Time is a type parameter, so tests run on virtual
//! time.
//!
//! Across further reloads: a real server put back into the configuration
//! ends its drain (the plan's dest, with its weight, replaces the weight-0
//! one); a virtual server that goes away, or no longer drains, ends the
//! drain at once (keepalived's behaviour); otherwise the drain goes on with
//! its first deadline. On stop the draining dests are removed with
//! everything else (or flushed, `lvs_flush_on_stop`), as keepalived removes
//! its real servers.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::ops::Add;
use std::time::Duration;

use rkeepalived_ipvs::{Dest, DestKey, IpvsState, ServiceKey};

use crate::spec::CheckPlan;

/// How often the active connections of draining dests are read.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// A dest being drained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draining<I> {
    /// The dest as programmed, with weight 0.
    pub dest: Dest,
    /// Deleted at this instant whatever its connections.
    pub deadline: I,
    /// The last active connection count read (None: not read yet).
    pub active: Option<u32>,
}

/// Why a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainEnd {
    /// No active connection left: deleted.
    Idle,
    /// The time is up: deleted with the connections it still had.
    Timeout { active: Option<u32> },
    /// A reload put the real server back: its configured weight returns.
    BackInConfig,
    /// Its virtual server is gone or no longer drains: deleted at once.
    Dropped,
    /// The dest is no longer in the kernel's table (removed by someone else).
    Gone,
}

/// What happened to one dest, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainEvent {
    pub service: ServiceKey,
    pub dest: DestKey,
    /// `Ok(time)`: the drain started for at most `time`; `Err(end)`: it ended.
    pub what: Result<Duration, DrainEnd>,
}

impl fmt::Display for DrainEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rs = rkeepalived_ipvs::model::SocketFmt(self.dest.addr, self.dest.port);
        let vs = self.service;
        match self.what {
            Ok(t) => write!(
                f,
                "Draining real server {rs} of {vs} (removed from the configuration): weight 0, deleted when it has no active connection or in {} s (drain_on_remove)",
                t.as_secs()
            ),
            Err(DrainEnd::Idle) => write!(
                f,
                "Drained real server {rs} of {vs}: no active connection left, removing it"
            ),
            Err(DrainEnd::Timeout { active }) => write!(
                f,
                "Drain of real server {rs} of {vs} timed out with {} active connection(s), removing it",
                active.map_or_else(|| "unknown".to_string(), |n| n.to_string())
            ),
            Err(DrainEnd::BackInConfig) => write!(
                f,
                "Real server {rs} of {vs} is back in the configuration: drain cancelled"
            ),
            Err(DrainEnd::Dropped) => write!(
                f,
                "Drain of real server {rs} of {vs} ended: its virtual server is gone or no longer drains, removing it"
            ),
            Err(DrainEnd::Gone) => write!(
                f,
                "Draining real server {rs} of {vs} is no longer in the IPVS table: drain ended"
            ),
        }
    }
}

/// The draining dests and when to look at them next.
#[derive(Debug, Clone)]
pub struct Drainer<I> {
    entries: BTreeMap<(ServiceKey, DestKey), Draining<I>>,
    next_poll: Option<I>,
}

impl<I> Default for Drainer<I> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
            next_poll: None,
        }
    }
}

/// What the new plan says, for [`Drainer::reload`].
pub struct PlanView {
    /// Every (service, dest) the plan configures: real servers and sorry servers.
    configured: HashSet<(ServiceKey, DestKey)>,
    /// The drain time of each service whose virtual server drains.
    drain: HashMap<ServiceKey, Duration>,
}

impl PlanView {
    pub fn of(plan: &CheckPlan) -> Self {
        let mut configured = HashSet::new();
        let mut drain = HashMap::new();
        for vs in &plan.virtual_servers {
            for key in &vs.keys {
                for rs in vs.real_servers.iter() {
                    configured.insert((*key, rs.dest.key()));
                }
                if let Some(s) = &vs.sorry_server {
                    configured.insert((*key, s.key()));
                }
                if let Some(t) = vs.drain_on_remove {
                    drain.insert(*key, t);
                }
            }
        }
        Self { configured, drain }
    }

    /// Whether any virtual server of the plan drains.
    pub fn drains(&self) -> bool {
        !self.drain.is_empty()
    }
}

impl<I: Copy + Ord + Add<Duration, Output = I>> Drainer<I> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn get(&self, service: &ServiceKey, dest: &DestKey) -> Option<&Draining<I>> {
        self.entries.get(&(*service, *dest))
    }

    /// A reload from `old` (the table as programmed before it, draining
    /// dests included) to the plan `new`: dests `old` has that `new` no
    /// longer configures start draining when their virtual server drains;
    /// running drains end when their real server is back or their virtual
    /// server no longer drains.
    pub fn reload(&mut self, old: &IpvsState, new: &PlanView, now: I) -> Vec<DrainEvent> {
        let mut events = Vec::new();
        self.entries.retain(|(s, d), _| {
            let end = if new.configured.contains(&(*s, *d)) {
                DrainEnd::BackInConfig
            } else if !new.drain.contains_key(s) {
                DrainEnd::Dropped
            } else {
                return true;
            };
            events.push(DrainEvent {
                service: *s,
                dest: *d,
                what: Err(end),
            });
            false
        });
        for (skey, entry) in &old.services {
            let Some(&time) = new.drain.get(skey) else {
                continue;
            };
            for (dkey, dest) in &entry.dests {
                let k = (*skey, *dkey);
                if new.configured.contains(&k) || self.entries.contains_key(&k) {
                    continue;
                }
                self.entries.insert(
                    k,
                    Draining {
                        dest: Dest { weight: 0, ..*dest },
                        deadline: now + time,
                        active: None,
                    },
                );
                events.push(DrainEvent {
                    service: *skey,
                    dest: *dkey,
                    what: Ok(time),
                });
            }
        }
        // Read the connections right after the weight-0 edit.
        self.next_poll = (!self.entries.is_empty()).then_some(now);
        events
    }

    /// Add the draining dests (weight 0) to a table about to be programmed.
    pub fn overlay(&self, desired: &mut IpvsState) {
        for ((s, d), drain) in &self.entries {
            if let Some(entry) = desired.services.get_mut(s) {
                entry.dests.entry(*d).or_insert(drain.dest);
            }
        }
    }

    /// When the engine should call [`Drainer::poll`] next (None: nothing drains).
    pub fn next_wakeup(&self) -> Option<I> {
        let deadline = self.entries.values().map(|d| d.deadline).min()?;
        Some(self.next_poll.map_or(deadline, |p| p.min(deadline)))
    }

    /// The services whose dests drain, to read their connection counts.
    pub fn services(&self) -> BTreeSet<ServiceKey> {
        self.entries.keys().map(|(s, _)| *s).collect()
    }

    /// One poll at `now`: `conns` gives each draining service's counts as
    /// the kernel reported them (None for a service whose read failed: its
    /// dests wait for the next poll or their deadline). Dests without
    /// active connections, dests past their deadline and dests no longer in
    /// the kernel's table end their drain.
    pub fn poll(
        &mut self,
        conns: &BTreeMap<ServiceKey, Option<Vec<(DestKey, u32)>>>,
        now: I,
    ) -> Vec<DrainEvent> {
        let mut events = Vec::new();
        self.entries.retain(|(s, d), drain| {
            if let Some(Some(counts)) = conns.get(s) {
                drain.active = counts.iter().find(|(k, _)| k == d).map(|(_, n)| *n);
            }
            let end = match (conns.get(s), drain.active) {
                (Some(Some(_)), None) => Some(DrainEnd::Gone),
                (Some(Some(_)), Some(0)) => Some(DrainEnd::Idle),
                _ if drain.deadline <= now => Some(DrainEnd::Timeout {
                    active: drain.active,
                }),
                _ => None,
            };
            match end {
                Some(end) => {
                    events.push(DrainEvent {
                        service: *s,
                        dest: *d,
                        what: Err(end),
                    });
                    false
                }
                None => true,
            }
        });
        self.next_poll = (!self.entries.is_empty()).then(|| now + POLL_INTERVAL);
        events
    }

    /// Forget every drain (stop: the dests go with the rest of the table).
    pub fn clear(&mut self) -> usize {
        let n = self.entries.len();
        self.entries.clear();
        self.next_poll = None;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeepalived_ipvs::{Forwarding, Scheduler, Service};
    use std::net::IpAddr;

    const T0: Duration = Duration::from_secs(1000);

    fn svc() -> ServiceKey {
        ServiceKey::tcp("192.0.2.100".parse().unwrap(), 80)
    }
    fn dest(last: u8, weight: i32) -> Dest {
        let addr: IpAddr = format!("198.51.100.{last}").parse().unwrap();
        Dest::new(addr, 80, Forwarding::Masq, weight)
    }
    fn table(dests: &[Dest]) -> IpvsState {
        let mut t = IpvsState::new();
        t.upsert_service(Service::new(svc(), Scheduler::Wlc));
        for d in dests {
            t.upsert_dest(&svc(), *d);
        }
        t
    }
    fn view(configured: &[Dest], drain: Option<u64>) -> PlanView {
        PlanView {
            configured: configured.iter().map(|d| (svc(), d.key())).collect(),
            drain: drain
                .map(|s| (svc(), Duration::from_secs(s)))
                .into_iter()
                .collect(),
        }
    }
    fn counts(pairs: &[(Dest, u32)]) -> BTreeMap<ServiceKey, Option<Vec<(DestKey, u32)>>> {
        BTreeMap::from([(
            svc(),
            Some(pairs.iter().map(|(d, n)| (d.key(), *n)).collect()),
        )])
    }
    fn ends(events: &[DrainEvent]) -> Vec<(DestKey, DrainEnd)> {
        events
            .iter()
            .filter_map(|e| e.what.err().map(|end| (e.dest, end)))
            .collect()
    }

    #[test]
    fn without_drain_on_remove_nothing_drains() {
        let (a, b) = (dest(1, 3), dest(2, 5));
        let mut dr = Drainer::new();
        let ev = dr.reload(&table(&[a, b]), &view(&[a], None), T0);
        assert!(ev.is_empty() && dr.is_empty() && dr.next_wakeup().is_none());
        let mut desired = table(&[a]);
        dr.overlay(&mut desired);
        assert_eq!(
            desired,
            table(&[a]),
            "b is deleted at once, as keepalived does"
        );
    }

    #[test]
    fn removed_dest_stays_at_weight_zero_until_it_is_idle() {
        let (a, b) = (dest(1, 3), dest(2, 5));
        let mut dr = Drainer::new();
        let ev = dr.reload(&table(&[a, b]), &view(&[a], Some(30)), T0);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].what, Ok(Duration::from_secs(30)));
        assert!(ev[0].to_string().contains("198.51.100.2:80"), "{}", ev[0]);
        // Programmed: b with weight 0, a unchanged.
        let mut desired = table(&[a]);
        dr.overlay(&mut desired);
        assert_eq!(desired, table(&[a, dest(2, 0)]));
        // Polled at once, then every second.
        assert_eq!(dr.next_wakeup(), Some(T0));
        let ev = dr.poll(&counts(&[(a, 9), (dest(2, 0), 2)]), T0);
        assert!(ev.is_empty());
        assert_eq!(dr.get(&svc(), &b.key()).unwrap().active, Some(2));
        assert_eq!(dr.next_wakeup(), Some(T0 + POLL_INTERVAL));
        let t = T0 + Duration::from_secs(5);
        let ev = dr.poll(&counts(&[(a, 9), (dest(2, 0), 0)]), t);
        assert_eq!(ends(&ev), [(b.key(), DrainEnd::Idle)]);
        assert!(dr.is_empty() && dr.next_wakeup().is_none());
        let mut desired = table(&[a]);
        dr.overlay(&mut desired);
        assert_eq!(desired, table(&[a]), "deleted now");
    }

    #[test]
    fn drain_ends_at_the_deadline_with_connections_left() {
        let (a, b) = (dest(1, 3), dest(2, 5));
        let mut dr = Drainer::new();
        dr.reload(&table(&[a, b]), &view(&[a], Some(10)), T0);
        let mut now = T0;
        let mut ended = Vec::new();
        while now <= T0 + Duration::from_secs(20) {
            if dr.next_wakeup().is_some_and(|w| w <= now) {
                ended.extend(
                    ends(&dr.poll(&counts(&[(a, 1), (dest(2, 0), 4)]), now))
                        .into_iter()
                        .map(|e| (now, e)),
                );
            }
            now += Duration::from_millis(250);
        }
        assert_eq!(
            ended,
            [(
                T0 + Duration::from_secs(10),
                (b.key(), DrainEnd::Timeout { active: Some(4) })
            )]
        );
        assert!(ended[0].1 .1 != DrainEnd::Idle);
    }

    #[test]
    fn failed_reads_leave_only_the_deadline() {
        let (a, b) = (dest(1, 3), dest(2, 5));
        let mut dr = Drainer::new();
        dr.reload(&table(&[a, b]), &view(&[a], Some(3)), T0);
        let failed = BTreeMap::from([(svc(), None)]);
        assert!(dr.poll(&failed, T0 + Duration::from_secs(1)).is_empty());
        let ev = dr.poll(&failed, T0 + Duration::from_secs(3));
        assert_eq!(ends(&ev), [(b.key(), DrainEnd::Timeout { active: None })]);
    }

    #[test]
    fn a_dest_missing_from_the_kernel_ends_its_drain() {
        let (a, b) = (dest(1, 3), dest(2, 5));
        let mut dr = Drainer::new();
        dr.reload(&table(&[a, b]), &view(&[a], Some(30)), T0);
        let ev = dr.poll(&counts(&[(a, 1)]), T0);
        assert_eq!(ends(&ev), [(b.key(), DrainEnd::Gone)]);
    }

    #[test]
    fn further_reloads_keep_cancel_or_drop_the_drain() {
        let (a, b, c) = (dest(1, 3), dest(2, 5), dest(3, 7));
        let mut dr = Drainer::new();
        dr.reload(&table(&[a, b, c]), &view(&[a], Some(30)), T0);
        assert_eq!(dr.len(), 2);
        // Another reload (the old table has the draining dests at weight 0):
        // the drains go on with their first deadline, none is restarted.
        let mut programmed = table(&[a]);
        dr.overlay(&mut programmed);
        let t1 = T0 + Duration::from_secs(10);
        let ev = dr.reload(&programmed, &view(&[a], Some(60)), t1);
        assert!(ev.is_empty(), "{ev:?}");
        assert_eq!(
            dr.get(&svc(), &b.key()).unwrap().deadline,
            T0 + Duration::from_secs(30)
        );
        // b is configured again: its drain ends, the plan's dest (weight 5) is programmed.
        let mut programmed = table(&[a]);
        dr.overlay(&mut programmed);
        let ev = dr.reload(&programmed, &view(&[a, b], Some(30)), t1);
        assert_eq!(ends(&ev), [(b.key(), DrainEnd::BackInConfig)]);
        let mut desired = table(&[a, b]);
        dr.overlay(&mut desired);
        assert_eq!(desired, table(&[a, b, dest(3, 0)]));
        // The virtual server no longer drains: c goes at once.
        let ev = dr.reload(&desired, &view(&[a, b], None), t1);
        assert_eq!(ends(&ev), [(c.key(), DrainEnd::Dropped)]);
        assert!(dr.is_empty());
    }

    #[test]
    fn only_dests_that_were_programmed_drain() {
        // b was down (not in the table): nothing to drain.
        let (a, b) = (dest(1, 3), dest(2, 5));
        let mut dr = Drainer::new();
        let ev = dr.reload(&table(&[a]), &view(&[a], Some(30)), T0);
        assert!(ev.is_empty());
        let _ = b;
    }

    #[test]
    fn clear_forgets_everything() {
        let (a, b) = (dest(1, 3), dest(2, 5));
        let mut dr = Drainer::new();
        dr.reload(&table(&[a, b]), &view(&[], Some(30)), T0);
        assert_eq!(dr.clear(), 2);
        assert!(dr.next_wakeup().is_none());
    }
}
