//! Sans-IO BFD session: RFC 5880 §6.2 state machine, §6.8.1–6.8.4 timers,
//! §6.5 Poll/Final, §6.8.3 slow transmission while not Up, §6.8.7 jitter,
//! passive role. Time comes in as an [`Instant`]; what to do comes out as
//! [`Output`] values; [`Session::next_deadline`] says when to call
//! [`Session::handle_timers`] next.
//!
//! The behaviour mirrors keepalived 2.2.7's bfd/bfd.c and
//! bfd/bfd_scheduler.c function by function (each is named where it is
//! mirrored): its three timers (sender, expire, reset) become three
//! deadlines, its "event threads" (an immediate send) an immediate
//! [`Output::Send`]. Intervals are in microseconds, as keepalived keeps
//! them (its parser multiplies the configured milliseconds by 1000).
//! Demand mode is never used locally (keepalived sends D=0), but a peer's
//! D bit is honoured as keepalived does.

use std::time::{Duration, Instant};

use crate::rng::Rng;
use crate::wire::{ControlPacket, Diag, State};

/// What keepalived's bfd process reports to VRRP / the checker
/// (`bfd_event_send()`: Up when the local state is Up, else Down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    Up,
    Down,
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SessionState::Up => "Up",
            SessionState::Down => "Down",
        })
    }
}

/// A session's timing parameters (keepalived's bfd_instance keywords,
/// in microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionParams {
    /// `min_rx` (bfd.RequiredMinRxInterval).
    pub min_rx_us: u32,
    /// `min_tx` (bfd.DesiredMinTxInterval while Up).
    pub min_tx_us: u32,
    /// `idle_tx` (bfd.DesiredMinTxInterval while not Up, §6.8.3).
    pub idle_tx_us: u32,
    /// `multiplier` (bfd.DetectMult).
    pub detect_mult: u8,
    /// `passive`: do not send until the peer has been heard (§6.1).
    pub passive: bool,
}

/// keepalived's defaults (`alloc_bfd()` with include/bfd.h's
/// `BFD_MINRX_DEFAULT` 10 ms, `BFD_MINTX_DEFAULT` 10 ms,
/// `BFD_IDLETX_DEFAULT` 1000 ms, `BFD_MULTIPLIER_DEFAULT` 5).
impl Default for SessionParams {
    fn default() -> Self {
        SessionParams {
            min_rx_us: 10_000,
            min_tx_us: 10_000,
            idle_tx_us: 1_000_000,
            detect_mult: 5,
            passive: false,
        }
    }
}

/// Something the session wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this control packet to the neighbor now.
    Send(ControlPacket),
    /// Report the session's state (keepalived's `bfd_event_send()`).
    Event {
        state: SessionState,
        /// The local diagnostic at the time (why it went Down).
        diag: Diag,
        /// The neighbor's last diagnostic.
        remote_diag: Diag,
    },
}

/// One BFD session's state variables (RFC 5880 §6.8.1) and timers.
#[derive(Debug, Clone)]
pub struct Session {
    params: SessionParams,
    local_state: State,
    remote_state: State,
    local_discr: u32,
    remote_discr: u32,
    local_diag: Diag,
    remote_diag: Diag,
    remote_min_tx: u32,
    remote_min_rx: u32,
    remote_demand: bool,
    remote_detect_mult: u8,
    poll: bool,
    final_: bool,
    local_tx_intv: u32,
    remote_tx_intv: u32,
    local_detect_time: u64,
    remote_detect_time: u64,
    last_seen: Option<Instant>,
    /// keepalived's `thread_out`.
    next_tx: Option<Instant>,
    /// keepalived's `thread_exp`.
    expire_at: Option<Instant>,
    /// keepalived's `thread_rst`.
    reset_at: Option<Instant>,
    rng: Rng,
}

impl Session {
    /// A session in its initial state (`bfd_init_state()`): Down, a
    /// random local discriminator, the idle transmit interval. Call
    /// [`Session::start`] to begin.
    pub fn new(params: SessionParams, rng: Rng) -> Session {
        let mut rng = rng;
        let local_discr = rng.discriminator();
        Session {
            params,
            local_state: State::Down,
            remote_state: State::Down,
            local_discr,
            remote_discr: 0,
            local_diag: Diag::NoDiagnostic,
            remote_diag: Diag::NoDiagnostic,
            remote_min_tx: 0,
            remote_min_rx: 0,
            remote_demand: false,
            remote_detect_mult: 0,
            poll: false,
            final_: false,
            local_tx_intv: params.idle_tx_us,
            remote_tx_intv: 0,
            local_detect_time: 0,
            remote_detect_time: 0,
            last_seen: None,
            next_tx: None,
            expire_at: None,
            reset_at: None,
            rng,
        }
    }

    /// Starts the session (`bfd_register_workers()` at startup): reports
    /// its state (Down), and unless passive sends a packet now and
    /// schedules the next one.
    pub fn start(&mut self, now: Instant, out: &mut Vec<Output>) {
        self.event(out);
        if self.local_state != State::AdminDown && !self.params.passive {
            self.sender_schedule(now);
            self.send(out);
        }
    }

    /// The parameters in use.
    pub fn params(&self) -> SessionParams {
        self.params
    }

    /// bfd.SessionState.
    pub fn local_state(&self) -> State {
        self.local_state
    }

    /// bfd.RemoteSessionState.
    pub fn remote_state(&self) -> State {
        self.remote_state
    }

    /// bfd.LocalDiag.
    pub fn local_diag(&self) -> Diag {
        self.local_diag
    }

    /// bfd.LocalDiscr.
    pub fn local_discr(&self) -> u32 {
        self.local_discr
    }

    /// bfd.RemoteDiscr.
    pub fn remote_discr(&self) -> u32 {
        self.remote_discr
    }

    /// Replaces the local discriminator (the engine does when a random
    /// one collides with another session's, as `bfd_get_random_discr()`).
    pub fn reroll_discr(&mut self) {
        self.local_discr = self.rng.discriminator();
    }

    /// The negotiated transmit interval in µs (keepalived's `local_tx_intv`).
    pub fn tx_interval_us(&self) -> u32 {
        self.local_tx_intv
    }

    /// The detection time in µs (remote Detect Mult × agreed remote interval).
    pub fn detect_time_us(&self) -> u64 {
        self.local_detect_time
    }

    /// The peer's detection time of us in µs.
    pub fn remote_detect_time_us(&self) -> u64 {
        self.remote_detect_time
    }

    /// Whether a Poll Sequence is in progress (bfd.PollFlag).
    pub fn polling(&self) -> bool {
        self.poll
    }

    /// When the last valid packet from the peer arrived.
    pub fn last_seen(&self) -> Option<Instant> {
        self.last_seen
    }

    /// The earliest pending timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.next_tx, self.expire_at, self.reset_at]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs every timer due at `now`, earliest first.
    pub fn handle_timers(&mut self, now: Instant, out: &mut Vec<Output>) {
        loop {
            let due = |t: Option<Instant>| t.filter(|t| *t <= now);
            let candidates = [
                (due(self.expire_at), 0u8),
                (due(self.reset_at), 1),
                (due(self.next_tx), 2),
            ];
            let Some((_, which)) = candidates
                .iter()
                .filter_map(|(t, w)| t.map(|t| (t, *w)))
                .min()
            else {
                return;
            };
            match which {
                0 => self.expire(now, out),
                1 => {
                    self.reset_at = None;
                    self.reset_state();
                }
                _ => {
                    // bfd_sender_thread()
                    self.next_tx = None;
                    self.send(out);
                    self.sender_schedule(now);
                }
            }
        }
    }

    /// A reload's new parameters (`bfd_complete_init()` on reload: the
    /// state is kept, and a change of `min_rx` or `min_tx` starts a Poll
    /// Sequence, `bfd_cmp_timers()` + `bfd_set_poll()`).
    pub fn reconfigure(&mut self, params: SessionParams) {
        let timers_changed =
            params.min_rx_us != self.params.min_rx_us || params.min_tx_us != self.params.min_tx_us;
        self.params = params;
        if timers_changed {
            self.set_poll();
        }
    }

    /// Puts the session AdminDown (`bfd_state_admindown()`: keepalived does
    /// this when the output socket cannot be opened).
    pub fn admin_down(&mut self, out: &mut Vec<Output>) {
        self.local_state = State::AdminDown;
        self.local_diag = Diag::AdministrativelyDown;
        self.next_tx = None;
        tracing::warn!("Entering {} state", State::AdminDown);
        self.state_fall(false, out);
    }

    /// Leaves AdminDown (keepalived: `bfd_open_fd_out_thread()` once the
    /// output socket opens): Down, sending unless passive.
    pub fn admin_up(&mut self, now: Instant) {
        if self.local_state != State::AdminDown {
            return;
        }
        self.local_state = State::Down;
        if !self.params.passive {
            self.sender_schedule(now);
        }
    }

    /// A received control packet that passed the wire checks, the session
    /// lookup, the TTL check and the A-bit check (`bfd_handle_packet()`).
    pub fn handle_packet(&mut self, pkt: &ControlPacket, now: Instant, out: &mut Vec<Output>) {
        if self.local_state == State::AdminDown {
            // keepalived tries to reopen its output socket here; the
            // engine does that and calls admin_up() first.
            return;
        }
        let old_local_tx = self.local_tx_intv;
        let old_detect = self.local_detect_time;

        self.remote_discr = pkt.my_discr;
        self.remote_state = pkt.state;
        self.remote_diag = pkt.diag;
        self.remote_min_rx = pkt.required_min_rx;
        self.remote_min_tx = pkt.desired_min_tx;
        self.remote_demand = pkt.demand;
        self.remote_detect_mult = pkt.detect_mult;

        // §6.5: a Final terminates our Poll Sequence.
        if pkt.final_ {
            self.poll = false;
        }

        // Intervals change only at the end of a Poll Sequence, or while
        // the session is not Up (§6.8.3).
        if self.local_state != State::Up || pkt.poll || pkt.final_ {
            if self.remote_state == State::Up && matches!(self.local_state, State::Init | State::Up)
            {
                self.update_local_tx_intv();
            } else {
                self.idle_local_tx_intv();
            }
            // bfd_update_remote_tx_intv()
            self.remote_tx_intv = self.params.min_rx_us.max(self.remote_min_tx);
        }

        // §6.8.4 Detection Time.
        self.local_detect_time =
            u64::from(self.remote_detect_mult) * u64::from(self.remote_tx_intv);
        self.remote_detect_time =
            u64::from(self.params.detect_mult) * u64::from(self.local_tx_intv);

        // Reschedule the sender when the interval shrinks.
        if self.local_tx_intv < old_local_tx && self.next_tx.is_some() {
            self.sender_schedule(now);
        }
        if self.local_detect_time != old_detect {
            tracing::info!(
                "Detection time is {} us (was {} us)",
                self.local_detect_time,
                old_detect
            );
        }

        // §6.8.6 state machine (§6.2 diagram).
        if self.remote_state == State::AdminDown && self.local_state != State::Down {
            self.state_down(Diag::NeighborSignaledSessionDown, now, out);
        } else {
            match (self.local_state, self.remote_state) {
                (State::Down, State::Down) => self.state_init(now),
                (State::Down, State::Init) => self.state_up(now, out),
                (State::Init, State::Init | State::Up) => self.state_up(now, out),
                (State::Up, State::Down) => {
                    self.state_down(Diag::NeighborSignaledSessionDown, now, out)
                }
                _ => {}
            }
        }

        let both_up = self.local_state == State::Up && self.remote_state == State::Up;
        if self.remote_demand && both_up {
            // §6.6: the peer is in Demand mode, stop sending periodically.
            self.next_tx = None;
        } else if self.next_tx.is_none() {
            self.sender_schedule(now);
        }

        // §6.5: answer a Poll with a Final, at once.
        if pkt.poll {
            self.final_ = true;
            self.send(out);
        }

        self.last_seen = Some(now);
        if self.local_state == State::Up && self.expire_at.is_some() {
            self.expire_at = Some(now + us(self.local_detect_time));
        }
    }

    /// `bfd_build_packet()` + the send of `bfd_sender_thread()`.
    fn send(&mut self, out: &mut Vec<Output>) {
        // Answering a Poll while wanting to Poll: the Final carries the
        // new parameters already.
        if self.poll && self.final_ {
            self.poll = false;
        }
        out.push(Output::Send(ControlPacket {
            diag: self.local_diag,
            state: self.local_state,
            poll: self.poll,
            final_: self.final_,
            cpi: false,
            auth: false,
            demand: false,
            multipoint: false,
            detect_mult: self.params.detect_mult,
            length: crate::wire::HEADER_LEN as u8,
            my_discr: self.local_discr,
            your_discr: self.remote_discr,
            desired_min_tx: if self.local_state == State::Up {
                self.params.min_tx_us
            } else {
                self.params.idle_tx_us
            },
            required_min_rx: self.params.min_rx_us,
            required_min_echo_rx: 0,
        }));
        self.final_ = false;
    }

    /// `bfd_sender_schedule()`: the next packet in local_tx_intv minus jitter.
    fn sender_schedule(&mut self, now: Instant) {
        let jitter = self.jitter();
        self.next_tx = Some(now + us(u64::from(self.local_tx_intv - jitter)));
    }

    /// §6.8.7: reduce each interval by 0–25 %, or by 10–25 % when
    /// bfd.DetectMult is 1. (keepalived 2.2.7's `get_jitter()` tests
    /// `if (bfd->local_detect_mult)`, always true, so it always jitters by
    /// 10–25 %; we follow the RFC here, see the crate README.)
    fn jitter(&mut self) -> u32 {
        let min = if self.params.detect_mult == 1 {
            self.local_tx_intv / 10
        } else {
            0
        };
        self.rng.range(min, self.local_tx_intv / 4)
    }

    /// `bfd_update_local_tx_intv()`.
    fn update_local_tx_intv(&mut self) {
        self.local_tx_intv = self.params.min_tx_us.max(self.remote_min_rx);
    }

    /// `bfd_idle_local_tx_intv()`.
    fn idle_local_tx_intv(&mut self) {
        self.local_tx_intv = self.params.idle_tx_us.max(self.remote_min_rx);
    }

    /// `bfd_set_poll()`.
    fn set_poll(&mut self) {
        tracing::debug!("Starting poll sequence");
        if !self.final_ {
            self.poll = true;
        }
    }

    /// `bfd_reset_state()`: after a detection time in Down, forget the peer.
    fn reset_state(&mut self) {
        self.local_state = State::Down;
        self.remote_state = State::Down;
        self.remote_discr = 0;
        self.remote_diag = Diag::NoDiagnostic;
        self.remote_demand = false;
        self.poll = false;
        self.final_ = false;
        self.idle_local_tx_intv();
    }

    /// `bfd_expire_thread()`: no packet for a detection time.
    fn expire(&mut self, now: Instant, out: &mut Vec<Output>) {
        self.expire_at = None;
        if let Some(seen) = self.last_seen {
            let dead = now.saturating_duration_since(seen);
            if self.local_state == State::Up {
                tracing::warn!(
                    "Expired after {} ms ({} usec overdue)",
                    dead.as_millis(),
                    (dead.as_micros() as u64).saturating_sub(self.local_detect_time)
                );
            }
        }
        // §6.8.1: bfd.RemoteDiscr is zeroed after a detection time of silence.
        self.remote_discr = 0;
        self.state_down(Diag::ControlDetectionTimeExpired, now, out);
    }

    fn event(&self, out: &mut Vec<Output>) {
        out.push(Output::Event {
            state: if self.local_state == State::Up {
                SessionState::Up
            } else {
                SessionState::Down
            },
            diag: self.local_diag,
            remote_diag: self.remote_diag,
        });
    }

    /// `bfd_state_fall()`: common to Down and AdminDown.
    fn state_fall(&mut self, send_event: bool, out: &mut Vec<Output>) {
        // §6.8.3: at least 1 s while not Up.
        self.idle_local_tx_intv();
        self.expire_at = None;
        // keepalived does not report a peer's AdminDown as a failure (§6.8.16).
        if send_event && self.remote_state != State::AdminDown {
            self.event(out);
        }
    }

    /// `bfd_state_down()`.
    fn state_down(&mut self, diag: Diag, now: Instant, out: &mut Vec<Output>) {
        let old = self.local_state;
        if old == State::Up {
            self.local_discr = self.rng.discriminator();
            tracing::warn!(
                "Entering {} state (Local diagnostic - {}, Remote diagnostic - {})",
                State::Down,
                diag,
                self.remote_diag
            );
        }
        self.local_state = State::Down;
        self.local_diag = diag;
        self.reset_at = Some(now + us(self.local_detect_time));
        if self.params.passive {
            self.next_tx = None;
        }
        self.state_fall(old == State::Up, out);
    }

    /// `bfd_state_rise()`: common to Init and Up.
    fn state_rise(&mut self, now: Instant) {
        self.local_diag = Diag::NoDiagnostic;
        if self.local_state == State::Up {
            tracing::info!("Entering {} state", State::Up);
        }
        self.reset_at = None;
        if self.expire_at.is_none() {
            self.expire_at = Some(now + us(self.local_detect_time));
        }
    }

    /// `bfd_state_up()`.
    fn state_up(&mut self, now: Instant, out: &mut Vec<Output>) {
        self.local_state = State::Up;
        self.state_rise(now);
        // Desired Min TX changes from idle_tx to min_tx: §6.8.3 Poll.
        if self.params.idle_tx_us != self.params.min_tx_us {
            self.set_poll();
        }
        self.event(out);
    }

    /// `bfd_state_init()`.
    fn state_init(&mut self, now: Instant) {
        self.local_state = State::Init;
        self.state_rise(now);
        if self.params.passive && self.next_tx.is_none() {
            self.sender_schedule(now);
        }
    }
}

fn us(v: u64) -> Duration {
    Duration::from_micros(v)
}

#[cfg(test)]
mod tests;
