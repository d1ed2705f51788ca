use super::*;

/// Two sessions joined by a lossless, zero-delay link, in virtual time.
struct Pair {
    a: Session,
    b: Session,
    now: Instant,
    /// Whether each side's packets reach the other.
    a_alive: bool,
    b_alive: bool,
    a_events: Vec<(Instant, SessionState, Diag)>,
    b_events: Vec<(Instant, SessionState, Diag)>,
    a_sent: Vec<(Instant, ControlPacket)>,
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn params(min_tx_ms: u32, min_rx_ms: u32, mult: u8) -> SessionParams {
    SessionParams {
        min_rx_us: min_rx_ms * 1000,
        min_tx_us: min_tx_ms * 1000,
        idle_tx_us: 1_000_000,
        detect_mult: mult,
        passive: false,
    }
}

impl Pair {
    fn new(pa: SessionParams, pb: SessionParams) -> Pair {
        Pair::new_with(pa, pb, true)
    }

    fn new_with(pa: SessionParams, pb: SessionParams, b_alive: bool) -> Pair {
        let now = Instant::now();
        let mut p = Pair {
            a: Session::new(pa, Rng::seeded(1)),
            b: Session::new(pb, Rng::seeded(2)),
            now,
            a_alive: true,
            b_alive,
            a_events: vec![],
            b_events: vec![],
            a_sent: vec![],
        };
        let mut out = vec![];
        p.a.start(now, &mut out);
        p.route(true, out);
        let mut out = vec![];
        p.b.start(now, &mut out);
        p.route(false, out);
        p
    }

    /// Delivers `out` (from a when `from_a`), recursively.
    fn route(&mut self, from_a: bool, out: Vec<Output>) {
        for o in out {
            match o {
                Output::Event { state, diag, .. } => {
                    let ev = (self.now, state, diag);
                    if from_a {
                        self.a_events.push(ev)
                    } else {
                        self.b_events.push(ev)
                    }
                }
                Output::Send(pkt) => {
                    // Every packet we build must pass the wire checks.
                    let bytes = pkt.encode();
                    assert_eq!(ControlPacket::decode(&bytes), Ok(pkt));
                    let mut reply = vec![];
                    if from_a {
                        self.a_sent.push((self.now, pkt));
                        if self.a_alive && self.b_alive {
                            self.b.handle_packet(&pkt, self.now, &mut reply);
                            self.route(false, reply);
                        }
                    } else if self.b_alive && self.a_alive {
                        self.a.handle_packet(&pkt, self.now, &mut reply);
                        self.route(true, reply);
                    }
                }
            }
        }
    }

    /// Runs timers until `until`.
    fn run_until(&mut self, until: Instant) {
        loop {
            let next = [
                self.a.next_deadline(),
                self.b_alive.then(|| self.b.next_deadline()).flatten(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    let mut out = vec![];
                    self.a.handle_timers(self.now, &mut out);
                    self.route(true, out);
                    if self.b_alive {
                        let mut out = vec![];
                        self.b.handle_timers(self.now, &mut out);
                        self.route(false, out);
                    }
                }
                _ => break,
            }
        }
        self.now = until;
    }

    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }
}

#[test]
fn two_active_sessions_come_up_and_negotiate() {
    let mut p = Pair::new(params(100, 100, 3), params(300, 50, 5));
    p.run_for(ms(5000));
    assert_eq!(p.a.local_state(), State::Up);
    assert_eq!(p.b.local_state(), State::Up);
    assert_eq!(p.a.remote_discr(), p.b.local_discr());
    assert_eq!(p.b.remote_discr(), p.a.local_discr());
    // §6.8.2: a sends at max(its min_tx 100, b's min_rx 50) = 100 ms;
    // b at max(300, 100) = 300 ms.
    assert_eq!(p.a.tx_interval_us(), 100_000);
    assert_eq!(p.b.tx_interval_us(), 300_000);
    // §6.8.4: a detects with b's mult 5 × max(a's min_rx 100, b's min_tx 300).
    assert_eq!(p.a.detect_time_us(), 5 * 300_000);
    assert_eq!(p.b.detect_time_us(), 3 * 100_000);
    // The Poll Sequences (idle_tx -> min_tx) are complete.
    assert!(!p.a.polling() && !p.b.polling());
    // One Down at start, one Up, nothing else.
    let states: Vec<_> = p.a_events.iter().map(|e| e.1).collect();
    assert_eq!(states, [SessionState::Down, SessionState::Up]);
    let states: Vec<_> = p.b_events.iter().map(|e| e.1).collect();
    assert_eq!(states, [SessionState::Down, SessionState::Up]);
}

#[test]
fn silence_expires_within_the_detection_time() {
    let mut p = Pair::new(params(100, 100, 3), params(100, 100, 3));
    p.run_for(ms(5000));
    assert_eq!(p.a.local_state(), State::Up);
    let last = p.a.last_seen().expect("heard b");
    p.b_alive = false;
    p.run_for(ms(2000));
    assert_eq!(p.a.local_state(), State::Down);
    assert_eq!(p.a.local_diag(), Diag::ControlDetectionTimeExpired);
    let (at, state, diag) = *p.a_events.last().expect("event");
    assert_eq!(state, SessionState::Down);
    assert_eq!(diag, Diag::ControlDetectionTimeExpired);
    // Exactly detect mult × interval after the last packet heard.
    assert_eq!(at - last, ms(300));
    // §6.8.1: RemoteDiscr is zeroed; after Up a new local discriminator.
    assert_eq!(p.a.remote_discr(), 0);
}

#[test]
fn neighbor_signalled_down_and_admin_down() {
    let mut p = Pair::new(params(100, 100, 3), params(100, 100, 3));
    p.run_for(ms(5000));
    let mut down = *p.b.clone().send_template();
    down.state = State::Down;
    down.diag = Diag::ControlDetectionTimeExpired;
    let mut out = vec![];
    p.a.handle_packet(&down, p.now, &mut out);
    assert_eq!(p.a.local_state(), State::Down);
    assert_eq!(p.a.local_diag(), Diag::NeighborSignaledSessionDown);
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Event {
            state: SessionState::Down,
            diag: Diag::NeighborSignaledSessionDown,
            remote_diag: Diag::ControlDetectionTimeExpired,
        }
    )));

    // A peer's AdminDown takes the session Down but is not reported
    // (keepalived's bfd_state_fall(): remote_state != AdminDown).
    let mut p = Pair::new(params(100, 100, 3), params(100, 100, 3));
    p.run_for(ms(5000));
    let mut admin = *p.b.clone().send_template();
    admin.state = State::AdminDown;
    admin.diag = Diag::AdministrativelyDown;
    let mut out = vec![];
    p.a.handle_packet(&admin, p.now, &mut out);
    assert_eq!(p.a.local_state(), State::Down);
    assert!(!out.iter().any(|o| matches!(o, Output::Event { .. })));
}

impl Session {
    /// The packet this session would send now (tests).
    fn send_template(&mut self) -> Box<ControlPacket> {
        let mut out = vec![];
        self.send(&mut out);
        match out.pop() {
            Some(Output::Send(p)) => Box::new(p),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn slow_transmission_while_not_up() {
    // The peer never answers: a sends at idle_tx (1 s) minus 0–25 % jitter.
    let mut p = Pair::new_with(params(10, 10, 3), params(10, 10, 3), false);
    p.run_for(ms(20_000));
    let times: Vec<Instant> = p.a_sent.iter().map(|s| s.0).collect();
    assert!(times.len() >= 20, "{}", times.len());
    for w in times.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= ms(750) && gap <= ms(1000), "{gap:?}");
    }
    for (_, pkt) in &p.a_sent {
        assert_eq!(pkt.state, State::Down);
        assert_eq!(pkt.desired_min_tx, 1_000_000);
        assert_eq!(pkt.your_discr, 0);
    }
}

#[test]
fn jitter_bounds_follow_6_8_7() {
    for (mult, lo, hi) in [(3u8, 75u32, 100u32), (1, 75, 90)] {
        let mut s = Session::new(params(100, 100, mult), Rng::seeded(9));
        s.local_tx_intv = 100_000;
        let mut seen_lo = u32::MAX;
        let mut seen_hi = 0;
        for _ in 0..20_000 {
            let v = s.local_tx_intv - s.jitter();
            seen_lo = seen_lo.min(v);
            seen_hi = seen_hi.max(v);
        }
        assert!(seen_lo >= lo * 1000 && seen_hi <= hi * 1000);
        // The whole range is used.
        assert!(seen_lo < lo * 1000 + 500 && seen_hi > hi * 1000 - 500);
    }
}

#[test]
fn passive_waits_for_the_peer() {
    let mut pa = params(100, 100, 3);
    pa.passive = true;
    let mut p = Pair::new(pa, pa);
    p.run_for(ms(5000));
    assert!(p.a_sent.is_empty());
    assert_eq!(p.a.local_state(), State::Down);

    // Passive and active: up.
    let mut p = Pair::new(pa, params(100, 100, 3));
    p.run_for(ms(5000));
    assert_eq!(p.a.local_state(), State::Up);
    assert_eq!(p.b.local_state(), State::Up);
}

#[test]
fn reconfigure_polls_and_applies_new_interval() {
    let mut p = Pair::new(params(100, 100, 3), params(100, 100, 3));
    p.run_for(ms(5000));
    assert_eq!(p.b.detect_time_us(), 300_000);
    p.a.reconfigure(params(200, 200, 3));
    assert!(p.a.polling());
    let sent_before = p.a_sent.len();
    p.run_for(ms(2000));
    // The next packet a sent carried P and the new values; b answered F.
    let (_, polled) = p.a_sent[sent_before];
    assert!(polled.poll && polled.desired_min_tx == 200_000);
    assert!(!p.a.polling());
    assert_eq!(p.a.tx_interval_us(), 200_000);
    assert_eq!(p.b.detect_time_us(), 3 * 200_000);
    assert_eq!(p.a.detect_time_us(), 3 * 200_000);
    assert_eq!(p.a.local_state(), State::Up);
    // No Poll when nothing that is negotiated changed.
    let mut q = params(200, 200, 3);
    q.idle_tx_us = 2_000_000;
    p.a.reconfigure(q);
    assert!(!p.a.polling());
}

#[test]
fn comes_back_up_after_a_peer_restart() {
    let mut p = Pair::new(params(50, 50, 3), params(50, 50, 3));
    p.run_for(ms(5000));
    p.b_alive = false;
    p.run_for(ms(1000));
    assert_eq!(p.a.local_state(), State::Down);
    // A new peer process: fresh state.
    p.b = Session::new(params(50, 50, 3), Rng::seeded(77));
    p.b_alive = true;
    let mut out = vec![];
    p.b.start(p.now, &mut out);
    p.route(false, out);
    p.run_for(ms(5000));
    assert_eq!(p.a.local_state(), State::Up);
    assert_eq!(p.b.local_state(), State::Up);
    let ups = p
        .a_events
        .iter()
        .filter(|e| e.1 == SessionState::Up)
        .count();
    assert_eq!(ups, 2);
}

#[test]
fn poll_is_answered_with_final_at_once() {
    let mut p = Pair::new(params(100, 100, 3), params(100, 100, 3));
    p.run_for(ms(5000));
    let mut poll = *p.b.clone().send_template();
    poll.poll = true;
    let mut out = vec![];
    p.a.handle_packet(&poll, p.now, &mut out);
    let finals: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Send(pkt) => Some(*pkt),
            _ => None,
        })
        .collect();
    assert_eq!(finals.len(), 1);
    assert!(finals[0].final_ && !finals[0].poll);
    // The next periodic packet has F clear again.
    let mut out = vec![];
    let t = p.a.next_deadline().expect("timer");
    p.a.handle_timers(t, &mut out);
    assert!(out
        .iter()
        .all(|o| !matches!(o, Output::Send(pkt) if pkt.final_)));
}

#[test]
fn init_expiry_is_not_reported_and_reset_forgets_the_peer() {
    // a hears b's Down once (Init), then nothing.
    let mut a = Session::new(params(100, 100, 3), Rng::seeded(4));
    let t0 = Instant::now();
    let mut out = vec![];
    a.start(t0, &mut out);
    let mut b = Session::new(params(100, 100, 3), Rng::seeded(5));
    let down = *b.send_template();
    out.clear();
    a.handle_packet(&down, t0, &mut out);
    assert_eq!(a.local_state(), State::Init);
    assert_eq!(a.remote_discr(), b.local_discr());
    // Detection time: b's mult 3 x max(100 ms, b's idle 1 s) = 3 s.
    assert_eq!(a.detect_time_us(), 3_000_000);
    out.clear();
    a.handle_timers(t0 + ms(3000), &mut out);
    assert_eq!(a.local_state(), State::Down);
    assert_eq!(a.local_diag(), Diag::ControlDetectionTimeExpired);
    // Down from Init is not an event (keepalived: only Down from Up).
    assert!(!out.iter().any(|o| matches!(o, Output::Event { .. })));
    assert_eq!(a.remote_discr(), 0);
    // The reset timer (another detection time later) forgets the peer.
    out.clear();
    a.handle_timers(t0 + ms(6000), &mut out);
    assert_eq!(a.remote_state(), State::Down);
    assert_eq!(a.tx_interval_us(), 1_000_000);
}

#[test]
fn remote_demand_stops_periodic_transmission() {
    let mut p = Pair::new(params(100, 100, 3), params(100, 100, 3));
    p.run_for(ms(5000));
    let mut demand = *p.b.clone().send_template();
    demand.demand = true;
    let mut out = vec![];
    p.a.handle_packet(&demand, p.now, &mut out);
    assert_eq!(p.a.next_tx, None);
    // Without D again, a sends periodically again.
    demand.demand = false;
    p.a.handle_packet(&demand, p.now, &mut out);
    assert!(p.a.next_tx.is_some());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Random packet loss in both directions for a while, then a clean
    /// link: no panic, state invariants hold throughout, and the sessions
    /// always end Up with the negotiated timers.
    #[test]
    fn lossy_link_then_clean_link_converges(
        loss in proptest::collection::vec(proptest::bool::ANY, 200),
        mult_a in 1u8..5,
        mult_b in 1u8..5,
        tx_a in 10u32..300,
        tx_b in 10u32..300,
        passive in proptest::bool::ANY,
    ) {
        let mut pa = params(tx_a, tx_a, mult_a);
        pa.passive = passive;
        let mut p = Pair::new(pa, params(tx_b, tx_b, mult_b));
        // a_alive false cuts the link both ways for ~100 ms.
        for drop in &loss {
            p.a_alive = !drop;
            p.run_for(ms(97));
            for s in [&p.a, &p.b] {
                if s.local_state() == State::Up {
                    proptest::prop_assert_ne!(s.remote_discr(), 0);
                }
                proptest::prop_assert!(s.tx_interval_us() > 0);
            }
        }
        p.a_alive = true;
        p.b_alive = true;
        p.run_for(ms(20_000));
        proptest::prop_assert_eq!(p.a.local_state(), State::Up);
        proptest::prop_assert_eq!(p.b.local_state(), State::Up);
        proptest::prop_assert!(!p.a.polling() && !p.b.polling());
        let agreed = u64::from(tx_a.max(tx_b)) * 1000;
        proptest::prop_assert_eq!(p.a.detect_time_us(), u64::from(mult_b) * agreed);
        proptest::prop_assert_eq!(p.b.detect_time_us(), u64::from(mult_a) * agreed);
    }
}
