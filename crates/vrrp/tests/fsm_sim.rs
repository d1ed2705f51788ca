//! Multi-router simulations of the pure VRRP core: each simulated router runs
//! its instances in one [`Router`] (the daemon's own core, sync groups
//! included), and the routers exchange real encoded adverts
//! (packet::emit_ipv4 -> decode_ipv4 -> RxPolicy::check) over an in-memory
//! multicast "wire" with 1 ms latency, driven by virtual time (plain
//! `Instant`s offset from a fixed origin; no sleeping, no wall clock).

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use rkeepalived_vrrp::fsm::{Action, Event, Instance, InstanceParams, Notify, Reason, State};
use rkeepalived_vrrp::packet::{
    decode_ipv4, emit_ipv4, AdverInt, Advertisement, Auth, DropCounters, Family, Ipv4Emit,
    RxPolicy, Version, VRRP_MCAST_V4,
};
use rkeepalived_vrrp::router::{Effect, Input, Router};

const LATENCY: Duration = Duration::from_millis(1);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

/// One VRRP instance on one simulated router.
struct Node {
    router: usize,
    /// Index of the instance in its router's [`Router`].
    local: usize,
    addr: Ipv4Addr,
    vips: Vec<IpAddr>,
    running: bool,
    holds_vips: bool,
    drops: DropCounters,
    /// (time, from, to, reason)
    transitions: Vec<(Duration, State, State, Reason)>,
    sent: Vec<(Duration, u8)>,
    notifies: Vec<(Duration, Notify)>,
    garps: u32,
}

struct Wire {
    origin: Instant,
    now: Instant,
    nodes: Vec<Node>,
    /// One core per simulated router.
    routers: Vec<Router>,
    /// Sync groups per router: (name, member instance names).
    group_defs: Vec<Vec<(String, Vec<String>)>>,
    /// Every sync group, in creation order: (router, index in that router).
    groups: Vec<(usize, usize)>,
    /// (deliver at, sender node, IPv4 packet bytes)
    in_flight: Vec<(Instant, usize, Vec<u8>)>,
}

impl Wire {
    fn new() -> Self {
        let origin = Instant::now();
        Wire {
            origin,
            now: origin,
            nodes: Vec::new(),
            routers: Vec::new(),
            group_defs: Vec::new(),
            groups: Vec::new(),
            in_flight: Vec::new(),
        }
    }

    /// Add an instance on router `router` (address 192.0.2.{router+1}).
    fn add(&mut self, router: usize, params: impl FnOnce(&mut InstanceParams)) -> usize {
        let addr = Ipv4Addr::new(192, 0, 2, u8::try_from(router + 1).unwrap());
        let mut p = InstanceParams::new(Version::V3, 51, IpAddr::V4(addr));
        params(&mut p);
        p.primary_addr = IpAddr::V4(addr);
        let vips = vec![IpAddr::V4(Ipv4Addr::new(203, 0, 113, p.vrid))];
        while self.routers.len() <= router {
            self.routers.push(Router::new());
            self.group_defs.push(Vec::new());
        }
        let n = self.nodes.len();
        let local = self.routers[router].add(format!("node{n}"), Instance::new(p));
        self.nodes.push(Node {
            router,
            local,
            addr,
            vips,
            running: false,
            holds_vips: false,
            drops: DropCounters::default(),
            transitions: Vec::new(),
            sent: Vec::new(),
            notifies: Vec::new(),
            garps: 0,
        });
        n
    }

    /// A `vrrp_sync_group` of `members` (all on one router).
    fn sync_group(&mut self, members: &[usize]) {
        let r = self.nodes[members[0]].router;
        assert!(members.iter().all(|&m| self.nodes[m].router == r));
        let defs = &mut self.group_defs[r];
        defs.push((
            format!("group{}", self.groups.len()),
            members.iter().map(|m| format!("node{m}")).collect(),
        ));
        self.groups.push((r, defs.len() - 1));
        self.routers[r].set_groups(defs.clone(), |_| false);
    }

    fn inst(&self, n: usize) -> &Instance {
        let node = &self.nodes[n];
        self.routers[node.router].fsm(node.local)
    }

    fn group_state(&self, g: usize) -> State {
        let (r, local) = self.groups[g];
        self.routers[r].group_state(local).expect("group exists")
    }

    fn elapsed(&self) -> Duration {
        self.now - self.origin
    }

    fn at(&self, d: Duration) -> Instant {
        self.origin + d
    }

    fn policy(&self, n: usize) -> RxPolicy {
        let node = &self.nodes[n];
        let p = self.inst(n).params();
        RxPolicy {
            version: p.version,
            family: Family::Ipv4,
            vrid: p.vrid,
            auth: Auth::None,
            adver_int: p.wire_adver_int(),
            vips: node.vips.clone(),
            unicast_peers: vec![],
            check_unicast_src: false,
            accept_legacy_unicast_checksum: false,
        }
    }

    /// Feed `input` to the core of node `n`'s router and perform the effects.
    fn input(&mut self, n: usize, input: Input) {
        let r = self.nodes[n].router;
        let effects = self.routers[r].handle(input, self.now);
        self.perform(r, effects);
    }

    /// Deliver `event` to node `n` (its sync groups see the outcome).
    fn event(&mut self, n: usize, event: Event) {
        let instance = self.nodes[n].local;
        self.input(
            n,
            Input::Events {
                instance,
                events: vec![event],
            },
        );
    }

    fn perform(&mut self, router: usize, effects: Vec<Effect>) {
        let t = self.elapsed();
        for effect in effects {
            let Effect::Action { instance, action } = effect else {
                continue;
            };
            let n = self
                .nodes
                .iter()
                .position(|x| x.router == router && x.local == instance)
                .expect("effect for a known instance");
            let p = self.inst(n).params().clone();
            let node = &mut self.nodes[n];
            match action {
                Action::SendAdvert { priority } => {
                    node.sent.push((t, priority));
                    let adv = Advertisement {
                        version: p.version,
                        vrid: p.vrid,
                        priority,
                        adver_int: p.wire_adver_int(),
                        addrs: node.vips.clone(),
                        auth: Auth::None,
                    };
                    let bytes = emit_ipv4(&adv, &Ipv4Emit::new(node.addr, VRRP_MCAST_V4, 1), false)
                        .expect("emit");
                    self.in_flight.push((self.now + LATENCY, n, bytes));
                }
                Action::AddVips => {
                    assert!(!node.holds_vips, "AddVips twice on node {n}");
                    node.holds_vips = true;
                }
                Action::RemoveVips => node.holds_vips = false,
                Action::SendGratuitous { repeat } => node.garps += repeat,
                Action::Notify(x) => node.notifies.push((t, x)),
                Action::StateChanged { from, to, reason } => {
                    node.transitions.push((t, from, to, reason));
                }
            }
        }
    }

    /// Number of state transitions of node `n` after `t`.
    fn transitions_after(&self, n: usize, t: Duration) -> usize {
        self.nodes[n].transitions.iter().filter(|x| x.0 > t).count()
    }

    /// Own tracking fault on node `n` (the core routes it through its sync group first).
    fn fault(&mut self, n: usize, faulted: bool) {
        let instance = self.nodes[n].local;
        self.input(
            n,
            Input::Track {
                instance,
                priority: None,
                fault: Some(faulted),
            },
        );
    }

    fn start(&mut self, n: usize) {
        self.nodes[n].running = true;
        self.event(n, Event::Startup);
    }

    fn shutdown(&mut self, n: usize) {
        self.event(n, Event::Shutdown);
        self.nodes[n].running = false;
    }

    /// Reload node `n` with changed parameters (keepalived: the instance keeps
    /// its state; tracking gives the configured priority here).
    fn reload(&mut self, n: usize, change: impl FnOnce(&mut InstanceParams)) {
        let mut p = self.inst(n).params().clone();
        change(&mut p);
        let priority = p.priority;
        let instance = self.nodes[n].local;
        self.input(
            n,
            Input::Reload {
                instance,
                params: Box::new(p),
                priority,
            },
        );
    }

    /// Run to `until` in 10 ms steps, asserting someone holds the VIP throughout.
    fn run_holding_vip(&mut self, vrid: u8, until: Duration) {
        while self.elapsed() < until {
            let step = (self.elapsed() + ms(10)).min(until);
            self.run_until(step);
            assert!(
                !self.vip_holders(vrid).is_empty(),
                "VIP gap at {:?}",
                self.elapsed()
            );
        }
    }

    /// Power off without priority 0 (crash / cable cut).
    fn crash(&mut self, n: usize) {
        self.nodes[n].running = false;
        self.nodes[n].holds_vips = false;
    }

    /// Advance virtual time to `until` (offset from origin), processing timers and
    /// packet deliveries in time order.
    fn run_until(&mut self, until: Duration) {
        let end = self.at(until);
        for _ in 0..1_000_000 {
            let next_timer = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, x)| x.running)
                .filter_map(|(i, _)| self.inst(i).next_deadline().map(|d| (d, i)))
                .min();
            let next_pkt = self
                .in_flight
                .iter()
                .enumerate()
                .map(|(i, (t, _, _))| (*t, i))
                .min();
            let next = match (next_timer, next_pkt) {
                (Some((t, _)), Some((p, _))) => t.min(p),
                (Some((t, _)), None) => t,
                (None, Some((p, _))) => p,
                (None, None) => break,
            };
            if next > end {
                break;
            }
            self.now = self.now.max(next);
            if let Some((p, i)) = next_pkt {
                if p <= self.now {
                    let (_, from, bytes) = self.in_flight.remove(i);
                    self.deliver(from, &bytes);
                    continue;
                }
            }
            if let Some((_, n)) = next_timer {
                self.event(n, Event::Timer);
            }
        }
        self.now = end;
    }

    fn deliver(&mut self, from: usize, bytes: &[u8]) {
        let from_router = self.nodes[from].router;
        for n in 0..self.nodes.len() {
            if self.nodes[n].router == from_router || !self.nodes[n].running {
                continue;
            }
            let rx = decode_ipv4(bytes).expect("wire carries valid packets");
            let check = self.inst(n).wants_vip_check(rx.src);
            match self.policy(n).check(&rx, check) {
                Ok(()) => self.event(
                    n,
                    Event::AdvertReceived {
                        from: rx.src,
                        adv: rx.adv,
                    },
                ),
                Err(reason) => self.nodes[n].drops.record(reason),
            }
        }
    }

    fn state(&self, n: usize) -> State {
        self.inst(n).state()
    }

    fn masters(&self, vrid: u8) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&n| {
                self.nodes[n].running
                    && self.inst(n).params().vrid == vrid
                    && self.state(n) == State::Master
            })
            .collect()
    }

    fn vip_holders(&self, vrid: u8) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&n| self.inst(n).params().vrid == vrid && self.nodes[n].holds_vips)
            .collect()
    }

    /// Time node `n` last entered `to`.
    fn entered(&self, n: usize, to: State) -> Option<Duration> {
        self.nodes[n]
            .transitions
            .iter()
            .rev()
            .find(|(_, _, t, _)| *t == to)
            .map(|(t, ..)| *t)
    }
}

fn prio(p: u8) -> impl FnOnce(&mut InstanceParams) {
    move |x| x.priority = p
}

#[test]
fn three_routers_elect_the_highest_priority() {
    let mut w = Wire::new();
    let a = w.add(0, prio(100));
    let b = w.add(1, prio(200));
    let c = w.add(2, prio(150));
    for n in [a, b, c] {
        w.start(n);
    }
    w.run_until(ms(10_000));
    assert_eq!(w.masters(51), vec![b]);
    assert_eq!(w.vip_holders(51), vec![b]);
    // 3 * 1 s + ((256-200) * 1 s / 256 = 218.75 ms, in µs as keepalived) = 3.21875 s.
    assert_eq!(w.entered(b, State::Master), Some(us(3_218_750)));
    // The others never became master.
    assert_eq!(w.entered(a, State::Master), None);
    assert_eq!(w.entered(c, State::Master), None);
    assert_eq!(w.nodes[a].drops.total(), 0);
}

#[test]
fn equal_priority_higher_address_wins() {
    let mut w = Wire::new();
    let low = w.add(0, prio(100));
    let high = w.add(1, prio(100));
    w.start(low);
    w.start(high);
    w.run_until(ms(10_000));
    // Both time out together; the one with the higher primary address keeps Master.
    assert_eq!(w.masters(51), vec![high]);
    assert_eq!(w.vip_holders(51), vec![high]);
    let back = w.nodes[low].transitions.last().unwrap();
    assert_eq!(
        (back.2, back.3),
        (State::Backup, Reason::HigherPriorityAdvert)
    );
}

#[test]
fn higher_priority_router_preempts() {
    let mut w = Wire::new();
    let low = w.add(0, prio(100));
    let high = w.add(1, prio(200));
    w.start(low);
    w.run_until(ms(10_000));
    assert_eq!(w.masters(51), vec![low]);
    w.start(high);
    w.run_until(ms(20_000));
    assert_eq!(w.masters(51), vec![high]);
    assert_eq!(w.vip_holders(51), vec![high]);
    // The new router ignores lower-priority adverts and takes over when its
    // Master_Down_Timer (3.21875 s) fires.
    assert_eq!(w.entered(high, State::Master), Some(us(13_218_750)));
    assert_eq!(w.entered(low, State::Backup), Some(us(13_219_750)));
}

#[test]
fn nopreempt_keeps_the_current_master() {
    let mut w = Wire::new();
    let low = w.add(0, prio(100));
    let high = w.add(1, |p| {
        p.priority = 200;
        p.preempt = false;
    });
    w.start(low);
    w.run_until(ms(10_000));
    w.start(high);
    w.run_until(ms(60_000));
    assert_eq!(w.masters(51), vec![low]);
    assert_eq!(w.state(high), State::Backup);
    assert_eq!(w.entered(high, State::Master), None);
}

#[test]
fn preempt_delay_postpones_takeover() {
    let mut w = Wire::new();
    let low = w.add(0, prio(100));
    let high = w.add(1, |p| {
        p.priority = 200;
        p.preempt_delay = Duration::from_secs(5);
    });
    w.start(low);
    w.run_until(ms(10_000));
    w.start(high);
    w.run_until(ms(15_000));
    assert_eq!(w.masters(51), vec![low], "still within the preempt delay");
    w.run_until(ms(30_000));
    assert_eq!(w.masters(51), vec![high]);
    let t = w.entered(high, State::Master).unwrap();
    // The first lower advert (< 1 s after start) starts the 5 s delay; adverts are
    // accepted until it ends, then the down timer (3.21875 s) runs out from the last
    // accepted one: start + delay + 3.21875 s, minus up to one advert interval.
    assert!(
        t >= us(17_218_750) && t <= us(19_218_750),
        "took over at {t:?}"
    );
    assert_eq!(t, us(17_829_125)); // adverts at x.609375 s: last accepted 14.610375 s
}

#[test]
fn priority_zero_handover_within_skew_time() {
    let mut w = Wire::new();
    let master = w.add(0, prio(200));
    let backup = w.add(1, prio(100));
    w.start(master);
    w.start(backup);
    w.run_until(ms(10_000));
    assert_eq!(w.masters(51), vec![master]);
    let skew = w.inst(backup).skew_time();
    assert_eq!(skew, Duration::from_micros(609_375)); // (256-100) * 1 s / 256
    w.shutdown(master);
    assert_eq!(w.nodes[master].sent.last().map(|s| s.1), Some(0));
    assert!(!w.nodes[master].holds_vips);
    w.run_until(ms(20_000));
    assert_eq!(w.masters(51), vec![backup]);
    // Priority 0 arrives after 1 ms latency; Backup sets Master_Down_Timer = Skew_Time.
    assert_eq!(
        w.entered(backup, State::Master),
        Some(ms(10_000) + LATENCY + skew)
    );
    let last = w.nodes[backup].transitions.last().unwrap();
    assert_eq!(last.3, Reason::MasterStopped);
    assert!(w.nodes[master]
        .notifies
        .iter()
        .any(|(_, n)| *n == Notify::Stop));
}

#[test]
fn backup_learns_master_adver_interval_v3() {
    let mut w = Wire::new();
    let master = w.add(0, |p| {
        p.priority = 200;
        p.adver_int = ms(500);
    });
    let backup = w.add(1, |p| {
        p.priority = 100;
        p.adver_int = ms(1000);
    });
    w.start(master);
    w.start(backup);
    w.run_until(ms(10_000));
    assert_eq!(w.masters(51), vec![master]);
    // RFC 5798 §6.4.2: Backup takes Master_Adver_Interval from the advert.
    assert_eq!(
        w.inst(backup).master_adver_interval(),
        AdverInt::Centiseconds(50)
    );
    // 3 * 500 ms + (156 * 500 ms / 256 = 304.687 ms) = 1.804687 s
    assert_eq!(w.inst(backup).master_down_interval(), us(1_804_687));
    let last_advert = w.nodes[master].sent.last().unwrap().0;
    w.crash(master);
    w.run_until(ms(20_000));
    assert_eq!(w.masters(51), vec![backup]);
    assert_eq!(
        w.entered(backup, State::Master),
        Some(last_advert + LATENCY + us(1_804_687))
    );
    // As master it advertises its own configured interval again.
    assert_eq!(
        w.inst(backup).master_adver_interval(),
        AdverInt::Centiseconds(100)
    );
}

#[test]
fn tracking_fault_hands_over_and_recovery_preempts_back() {
    let mut w = Wire::new();
    let a = w.add(0, prio(200));
    let b = w.add(1, prio(100));
    w.start(a);
    w.start(b);
    w.run_until(ms(10_000));
    assert_eq!(w.masters(51), vec![a]);
    w.fault(a, true);
    assert_eq!(w.state(a), State::Fault);
    assert_eq!(
        w.nodes[a].sent.last().map(|s| s.1),
        Some(0),
        "fault sends prio 0"
    );
    assert!(!w.nodes[a].holds_vips);
    w.run_until(ms(15_000));
    assert_eq!(w.masters(51), vec![b]);
    assert_eq!(
        w.entered(b, State::Master),
        Some(ms(10_000) + LATENCY + us(609_375))
    );
    w.fault(a, false);
    assert_eq!(w.state(a), State::Backup);
    w.run_until(ms(25_000));
    assert_eq!(w.masters(51), vec![a]);
    assert_eq!(
        w.entered(a, State::Master),
        Some(ms(15_000) + us(3_218_750))
    );
    assert_eq!(w.vip_holders(51), vec![a]);
}

#[test]
fn tracking_priority_drop_lets_the_backup_preempt() {
    let mut w = Wire::new();
    let a = w.add(0, prio(150));
    let b = w.add(1, prio(120));
    w.start(a);
    w.start(b);
    w.run_until(ms(10_000));
    assert_eq!(w.masters(51), vec![a]);
    // A tracked script with weight -50 fails on A: 150 -> 100 < 120.
    w.event(a, Event::PriorityChanged(100));
    w.run_until(ms(20_000));
    assert_eq!(w.masters(51), vec![b]);
    assert_eq!(w.state(a), State::Backup);
}

#[test]
fn sync_group_members_fail_over_together() {
    let mut w = Wire::new();
    // Router 0 is preferred for both vrids; each router groups its two instances.
    let a1 = w.add(0, |p| {
        p.vrid = 61;
        p.priority = 200;
        p.sync_group_member = true;
    });
    let a2 = w.add(0, |p| {
        p.vrid = 62;
        p.priority = 200;
        p.sync_group_member = true;
    });
    let b1 = w.add(1, |p| {
        p.vrid = 61;
        p.priority = 100;
        p.sync_group_member = true;
    });
    let b2 = w.add(1, |p| {
        p.vrid = 62;
        p.priority = 100;
        p.sync_group_member = true;
    });
    w.sync_group(&[a1, a2]);
    w.sync_group(&[b1, b2]);
    for n in [a1, a2, b1, b2] {
        w.start(n);
    }
    w.run_until(ms(10_000));
    assert_eq!((w.masters(61), w.masters(62)), (vec![a1], vec![a2]));
    // Only a1's tracked interface fails; a2 must follow it into FAULT.
    w.fault(a1, true);
    assert_eq!((w.state(a1), w.state(a2)), (State::Fault, State::Fault));
    w.run_until(ms(15_000));
    assert_eq!((w.masters(61), w.masters(62)), (vec![b1], vec![b2]));
    // Recovery releases both; they preempt back together.
    w.fault(a1, false);
    assert_eq!((w.state(a1), w.state(a2)), (State::Backup, State::Backup));
    w.run_until(ms(25_000));
    assert_eq!((w.masters(61), w.masters(62)), (vec![a1], vec![a2]));
    assert_eq!(w.group_state(0), State::Master);
}

#[test]
fn sync_group_consensus_waits_for_the_slowest_member() {
    let mut w = Wire::new();
    let a1 = w.add(0, |p| {
        p.vrid = 81;
        p.priority = 100;
        p.sync_group_member = true;
    });
    let a2 = w.add(0, |p| {
        p.vrid = 82;
        p.priority = 200;
        p.sync_group_member = true;
    });
    w.sync_group(&[a1, a2]);
    w.start(a1);
    w.start(a2);
    w.run_until(ms(3_500));
    // a2's timer fired at 3.21875 s but a1 does not want Master yet: both wait.
    assert_eq!((w.state(a1), w.state(a2)), (State::Backup, State::Backup));
    assert!(w.inst(a2).wants_master());
    w.run_until(ms(10_000));
    assert_eq!(w.entered(a1, State::Master), Some(us(3_609_375)));
    assert_eq!(w.entered(a2, State::Master), Some(us(3_609_375)));
}

#[test]
fn sync_groups_with_split_priorities_do_not_flap() {
    let mut w = Wire::new();
    // Router 0 prefers vrid 92, router 1 prefers vrid 91: the groups disagree.
    let a1 = w.add(0, |p| {
        p.vrid = 91;
        p.priority = 150;
        p.sync_group_member = true;
    });
    let a2 = w.add(0, |p| {
        p.vrid = 92;
        p.priority = 200;
        p.sync_group_member = true;
    });
    let b1 = w.add(1, |p| {
        p.vrid = 91;
        p.priority = 200;
        p.sync_group_member = true;
    });
    let b2 = w.add(1, |p| {
        p.vrid = 92;
        p.priority = 100;
        p.sync_group_member = true;
    });
    w.sync_group(&[a1, a2]);
    w.sync_group(&[b1, b2]);
    for n in [a1, a2, b1, b2] {
        w.start(n);
    }
    w.run_until(ms(60_000));
    // Group A reached consensus first (3.41 s); group B never does, because b2
    // keeps accepting a2's adverts: one router holds both, nothing flaps.
    assert_eq!((w.masters(91), w.masters(92)), (vec![a1], vec![a2]));
    for n in [a1, a2, b1, b2] {
        assert_eq!(w.transitions_after(n, ms(5_000)), 0, "node {n} flapped");
    }
    assert!(w.inst(b1).wants_master());
    assert!(!w.inst(b2).wants_master());
}

#[test]
fn sync_group_pulls_peer_to_master() {
    // Without `sync_group_member` (no consensus), a member that becomes Master pulls
    // the others along at once.
    let mut w = Wire::new();
    // b1 has priority over a1, but a2 over b2: without the group they'd split.
    let a1 = w.add(0, |p| {
        p.vrid = 71;
        p.priority = 100;
    });
    let a2 = w.add(0, |p| {
        p.vrid = 72;
        p.priority = 200;
    });
    let b1 = w.add(1, |p| {
        p.vrid = 71;
        p.priority = 200;
    });
    let b2 = w.add(1, |p| {
        p.vrid = 72;
        p.priority = 100;
    });
    w.sync_group(&[a1, a2]);
    w.start(a1);
    w.start(a2);
    w.run_until(ms(5_000));
    // a2 became master; the group pulled a1 along immediately.
    assert_eq!(w.state(a1), State::Master);
    assert_eq!(w.entered(a1, State::Master), w.entered(a2, State::Master));
    let _ = (b1, b2);
}

#[test]
fn v2_and_v3_timing_units() {
    let origin = Instant::now();
    let addr: IpAddr = "192.0.2.1".parse().unwrap();
    // v2: Skew_Time = (256-100)/256 s = 609.375 ms; down = 3 s + skew.
    let mut p = InstanceParams::new(Version::V2, 1, addr);
    p.priority = 100;
    let mut v2 = Instance::new(p);
    assert_eq!(v2.skew_time(), Duration::from_micros(609_375));
    assert_eq!(v2.params().wire_adver_int(), AdverInt::Seconds(1));
    v2.handle(Event::Startup, origin);
    assert_eq!(
        v2.next_deadline(),
        Some(origin + Duration::from_micros(3_609_375))
    );
    assert!(v2
        .handle(Event::Timer, origin + Duration::from_micros(3_609_374))
        .is_empty());
    let acts = v2.handle(Event::Timer, origin + Duration::from_micros(3_609_375));
    assert_eq!(
        acts[..2],
        [Action::AddVips, Action::SendAdvert { priority: 100 }]
    );
    assert_eq!(v2.state(), State::Master);

    // v3: Skew_Time in microseconds (keepalived): (156 * 1 s) / 256 = 609.375 ms.
    let mut p = InstanceParams::new(Version::V3, 1, addr);
    p.priority = 100;
    let mut v3 = Instance::new(p);
    assert_eq!(v3.skew_time(), Duration::from_micros(609_375));
    assert_eq!(v3.params().wire_adver_int(), AdverInt::Centiseconds(100));
    v3.handle(Event::Startup, origin);
    assert_eq!(
        v3.next_deadline(),
        Some(origin + Duration::from_micros(3_609_375))
    );
}

/// Regression (issue #11 bug 4): three routers at 10 ms adverts. With
/// Skew_Time truncated to whole centiseconds every backup had a skew of 0 and
/// both declared the master down at the same instant; in microseconds (as
/// keepalived) the higher priority times out ~2 ms earlier, its advert reaches
/// the other backup first, and only it takes over, every time.
#[test]
fn three_routers_at_10ms_only_the_highest_backup_takes_over() {
    for crash in 0..20u64 {
        let v3_10ms = |p: u8| {
            move |x: &mut InstanceParams| {
                x.priority = p;
                x.adver_int = ms(10);
            }
        };
        let mut w = Wire::new();
        let master = w.add(0, v3_10ms(200));
        let high = w.add(1, v3_10ms(150));
        let low = w.add(2, v3_10ms(100));
        for n in [master, high, low] {
            w.start(n);
        }
        w.run_until(ms(1_000));
        assert_eq!(w.masters(51), vec![master]);
        // Crash at a different phase of the advert cycle each round.
        let at = ms(1_000) + us(crash * 499);
        w.run_until(at);
        w.crash(master);
        w.run_until(at + ms(500));
        assert_eq!(w.masters(51), vec![high], "round {crash}");
        assert_eq!(w.vip_holders(51), vec![high], "round {crash}");
        assert_eq!(
            w.entered(low, State::Master),
            None,
            "round {crash}: the lower backup never became Master"
        );
        assert!(
            w.nodes[low].garps == 0,
            "round {crash}: the lower backup sent no GARPs"
        );
    }
}

/// Issue #11 bug 2, RFC 5798 §6.4: a reload lowering the Master's priority
/// below a preempting Backup's keeps the Master (and the VIP) until the
/// Backup, ignoring the now lower-priority adverts, takes over when its
/// Master_Down_Timer fires; raising it again lets the old Master preempt back
/// the same way. Never a priority-0 advert, never a moment without the VIP.
#[test]
fn reload_priority_hands_over_without_gap_or_priority_zero() {
    let mut w = Wire::new();
    let a = w.add(0, prio(200));
    let b = w.add(1, prio(150));
    w.start(a);
    w.start(b);
    w.run_until(ms(10_000));
    assert_eq!(w.masters(51), vec![a]);
    let t0 = ms(10_300);
    w.run_until(t0);
    let last_a = w.nodes[a].sent.last().unwrap().0;
    w.reload(a, |p| p.priority = 100);
    // The Master advertises its new priority at once (keepalived reload_master).
    assert_eq!(w.nodes[a].sent.last(), Some(&(t0, 100)));
    assert_eq!(w.state(a), State::Master);
    w.run_holding_vip(51, ms(20_000));
    assert_eq!(w.masters(51), vec![b]);
    // b ignored a's priority-100 adverts: its timer ran from a's last
    // priority-200 advert.
    let down_b = w.inst(b).master_down_interval();
    assert_eq!(w.entered(b, State::Master), Some(last_a + LATENCY + down_b));
    assert_eq!(
        w.entered(a, State::Backup),
        Some(last_a + LATENCY + down_b + LATENCY)
    );
    // Raised again: a (Backup, preempt) restarts its down timer at the reload
    // and takes over when it fires.
    let t1 = ms(20_000);
    w.reload(a, |p| p.priority = 200);
    assert_eq!(w.state(a), State::Backup);
    let down_a = w.inst(a).master_down_interval();
    w.run_holding_vip(51, ms(30_000));
    assert_eq!(w.masters(51), vec![a]);
    assert_eq!(w.entered(a, State::Master), Some(t1 + down_a));
    for n in [a, b] {
        assert!(
            w.nodes[n].sent.iter().all(|s| s.1 != 0),
            "node {n} sent priority 0"
        );
    }
}

/// A reload changing the advert interval of a Master: the next advert carries
/// it at once, the following one comes one new interval later, and a v3
/// Backup learns it from the wire; no transition anywhere.
#[test]
fn reload_advert_interval_takes_effect_on_the_next_advert() {
    let mut w = Wire::new();
    let a = w.add(0, prio(200));
    let b = w.add(1, prio(100));
    w.start(a);
    w.start(b);
    w.run_until(ms(10_000));
    let transitions = (w.nodes[a].transitions.len(), w.nodes[b].transitions.len());
    let t0 = ms(10_250);
    w.run_until(t0);
    w.reload(a, |p| p.adver_int = ms(300));
    w.run_holding_vip(51, ms(12_000));
    let sent: Vec<Duration> = w.nodes[a]
        .sent
        .iter()
        .filter(|s| s.0 >= t0)
        .map(|s| s.0)
        .collect();
    assert_eq!(sent[..3], [t0, t0 + ms(300), t0 + ms(600)]);
    assert_eq!(
        w.inst(b).master_adver_interval(),
        AdverInt::Centiseconds(30)
    );
    assert_eq!(
        (w.nodes[a].transitions.len(), w.nodes[b].transitions.len()),
        transitions,
        "no transition"
    );
}

/// A Backup reloaded with other parameters stays Backup and restarts its
/// Master_Down_Timer with the new interval (keepalived vrrp_init_state);
/// a Master's pending GARP refresh follows a changed garp_master_refresh.
#[test]
fn reload_keeps_states_and_restarts_the_backup_timer() {
    let mut w = Wire::new();
    let a = w.add(0, prio(200));
    let b = w.add(1, prio(100));
    w.start(a);
    w.start(b);
    w.run_until(ms(10_000));
    let t0 = w.elapsed();
    w.reload(b, |p| {
        p.priority = 120;
        p.adver_int = ms(2_000);
    });
    assert_eq!(w.state(b), State::Backup);
    assert_eq!(
        w.inst(b).next_deadline(),
        Some(w.at(t0) + w.inst(b).master_down_interval())
    );
    // Own interval until the master is heard again (then learned: 1 s).
    assert_eq!(
        w.inst(b).master_adver_interval(),
        AdverInt::Centiseconds(200)
    );
    w.run_until(ms(11_000));
    assert_eq!(
        w.inst(b).master_adver_interval(),
        AdverInt::Centiseconds(100)
    );
    w.reload(a, |p| p.garp.master_refresh = Some(ms(500)));
    let garps = w.nodes[a].garps;
    w.run_until(ms(11_600));
    assert_eq!(
        w.nodes[a].garps,
        garps + 1,
        "refresh burst 500 ms after the reload"
    );
    assert_eq!(w.masters(51), vec![a]);
}
