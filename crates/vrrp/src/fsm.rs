//! VRRP state machine, one per instance (RFC 5798 §6, RFC 3768 §6) plus keepalived's
//! FAULT state and its extensions (preempt_delay, garp scheduling, sync groups).
//!
//! Pure: no sockets, no clocks. The driver owns IO and time:
//!
//! ```text
//! let mut inst = Instance::new(params);
//! actions = inst.handle(Event::Startup, now);             // perform actions in order
//! loop {
//!     select! {
//!         sleep_until(inst.next_deadline()) => inst.handle(Event::Timer, now),
//!         pkt = socket.recv() => {
//!             // decode + RxPolicy::check(&rx, inst.wants_vip_check(rx.src)) first
//!             inst.handle(Event::AdvertReceived { from: rx.src, adv: rx.adv }, now)
//!         }
//!         tracking change => inst.handle(Event::PriorityChanged(p) / Event::Fault(bool), now),
//!         sync group cmd  => inst.handle(Event::SyncGroup(cmd), now),
//!         shutdown        => inst.handle(Event::Shutdown, now),
//!     }
//! }
//! ```
//!
//! All timers are deadlines stored *inside* the state enum ([`Timers`] per state), so
//! leaving a state cancels its timers by construction. `handle(Event::Timer, now)`
//! fires every deadline `<= now`; it is harmless to call it early or twice.
//!
//! RFC names: `Master_Adver_Interval`, `Skew_Time`, `Master_Down_Interval`
//! (RFC 5798 §6.1). For VRRPv3, Skew_Time is the RFC's
//! `((256 - Priority) * Master_Adver_Interval) / 256`; for VRRPv2 it is
//! `(256 - Priority) / 256` seconds (RFC 3768 §6.1). Both are computed in integer
//! microseconds, as keepalived does (`VRRP_TIMER_SKEW_CALC`), never truncated to
//! the centiseconds of the wire format.
//!
//! Where keepalived 2.2.7 and the RFC differ, this follows keepalived (operators swap
//! binaries and keep their networks): a Backup that is preempt-eligible *ignores*
//! lower-priority adverts and takes over when Master_Down_Timer fires; a Master that
//! hears a lower priority sends an advert at once (unless `lower_prio_no_advert`).
//!
//! Other keepalived semantics mirrored here:
//! * startup: priority 255 *with* `state MASTER` goes Master at once (RFC 5798
//!   §6.4.1); everything else starts in Backup (or Fault if tracking says so);
//! * Master -> Fault (tracking or sync group) and shutdown send a priority-0 advert
//!   before removing the VIPs; Backup on priority 0 sets Master_Down_Timer to Skew_Time;
//! * Backup learns Master_Adver_Interval from v3 adverts it accepts (and from the
//!   higher-priority advert that demotes a Master); becoming Master restores ours;
//! * `preempt_delay`: the first lower-priority advert starts the delay; until it
//!   ends such adverts are accepted (keepalived `preempt_time`);
//! * a tracking priority change in Backup moves the running Master_Down_Timer by the
//!   change in Skew_Time; the owner's priority never moves; tracking clamps to 1..=254;
//! * two address owners: the one with the lower address drops to 254;
//! * GARP/NA: `garp_master_repeat` on becoming Master and again after
//!   `garp_master_delay`; `garp_master_refresh` periodically; `garp_lower_prio_repeat`
//!   (+ delayed repeat) when a lower priority is heard.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::wire::{AdverInt, Advertisement, Version};

/// Priority of the address owner (RFC 5798 §5.2.4).
pub const PRIORITY_OWNER: u8 = 255;
/// Priority a stopping master advertises (RFC 5798 §5.2.4).
pub const PRIORITY_STOP: u8 = 0;

/// Instance state (RFC 5798 §6.4 + keepalived FAULT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started, or stopped (keepalived "STOP" on shutdown).
    Initialize,
    Backup,
    Master,
    /// Tracked interface/script/file down, or sync group peer in fault.
    Fault,
}

impl State {
    /// The name keepalived prints for the state: logs, `/tmp/keepalived.data`
    /// ("State = MASTER"), the JSON dump, notify scripts and the FIFO
    /// (keepalived `vrrp_print.c` / `vrrp_notify.c`). The one table of state
    /// names: everything else asks here.
    pub fn name(self) -> &'static str {
        match self {
            State::Initialize => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        }
    }

    /// keepalived's numbering (`VRRP_STATE_*`, also the SNMP
    /// `vrrpInstanceState` values): 0 init, 1 backup, 2 master, 3 fault.
    /// (4 is STOP, a notification, not a state an instance stays in.)
    pub fn number(self) -> u8 {
        match self {
            State::Initialize => 0,
            State::Backup => 1,
            State::Master => 2,
            State::Fault => 3,
        }
    }
}

/// Why a transition happened (for logs, metrics and `StateChanged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Startup into Backup/Fault.
    Startup,
    /// Priority 255 with `state MASTER`: immediate Master (RFC 5798 §6.4.1).
    AddressOwner,
    /// Master_Down_Timer fired (master silent, or we preempt a lower priority).
    MasterDown,
    /// Master_Down_Timer fired early after the master sent priority 0.
    MasterStopped,
    /// A higher priority (or equal priority, higher address) advert was received.
    HigherPriorityAdvert,
    /// Tracking reported a fault.
    Fault,
    /// Tracking faults cleared.
    FaultCleared,
    /// Driven by a sync group peer.
    SyncGroup,
    /// Daemon/instance shutdown.
    Shutdown,
}

/// A notification for notify scripts / FIFO / D-Bus (keepalived `notify_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notify {
    Master,
    Backup,
    Fault,
    Stop,
    /// keepalived `notify_master_rx_lower_pri`: we are Master and heard a lower priority.
    MasterRxLowerPri,
}

impl Notify {
    /// The word notify scripts and the FIFO get (keepalived `vrrp_notify.c`):
    /// the state's [`State::name`], or STOP / MASTER_RX_LOWER_PRI.
    pub fn name(self) -> &'static str {
        match self {
            Notify::Master => State::Master.name(),
            Notify::Backup => State::Backup.name(),
            Notify::Fault => State::Fault.name(),
            Notify::Stop => "STOP",
            Notify::MasterRxLowerPri => "MASTER_RX_LOWER_PRI",
        }
    }
}

/// Commands a sync group coordinator ([`crate::sync_group`]) sends to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncCommand {
    /// A peer became Master: follow it (if not in fault).
    GoMaster,
    /// A peer left Master for Backup: follow it.
    GoBackup,
    /// A peer is in fault: hold this instance in Fault.
    GoFault,
    /// No peer is in fault any more: leave a sync-held Fault.
    ClearFault,
}

/// Inputs to [`Instance::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Startup,
    Shutdown,
    /// A validated advert (passed `wire::RxPolicy::check`) from `from`.
    AdvertReceived {
        from: IpAddr,
        adv: Advertisement,
    },
    /// Wake-up: fire every deadline `<= now`.
    Timer,
    /// New effective priority from tracking ([`crate::track`]); ignored for the owner.
    PriorityChanged(u8),
    /// Own tracking fault state (weight-0 object down, scripts still initialising).
    Fault(bool),
    SyncGroup(SyncCommand),
}

/// Outputs of [`Instance::handle`], to be performed in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send one advertisement with this priority (0 = stopping).
    SendAdvert { priority: u8 },
    /// Add the virtual addresses (and e-VIPs/routes/rules).
    AddVips,
    /// Remove them.
    RemoveVips,
    /// Send `repeat` gratuitous ARPs / unsolicited NAs for every VIP
    /// (spaced by `garp_interval`/`gna_interval`, the driver's business).
    SendGratuitous { repeat: u32 },
    /// Run notify scripts etc.
    Notify(Notify),
    StateChanged {
        from: State,
        to: State,
        reason: Reason,
    },
}

/// Gratuitous ARP / NA scheduling (keepalived `garp_*` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GarpParams {
    /// `garp_master_delay`: second burst after becoming master (ZERO = none). Default 5 s.
    pub master_delay: Duration,
    /// `garp_master_repeat`: messages per burst. Default 5.
    pub master_repeat: u32,
    /// `garp_master_refresh`: periodic burst while master (None = off, the default).
    pub master_refresh: Option<Duration>,
    /// `garp_master_refresh_repeat`. Default 1.
    pub master_refresh_repeat: u32,
    /// `garp_lower_prio_delay`: second burst after a lower priority advert. Default = master_delay.
    pub lower_prio_delay: Duration,
    /// `garp_lower_prio_repeat`: 0 disables. Default = master_repeat.
    pub lower_prio_repeat: u32,
}

impl Default for GarpParams {
    fn default() -> Self {
        GarpParams {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_prio_delay: Duration::from_secs(5),
            lower_prio_repeat: 5,
        }
    }
}

/// Static per-instance parameters (from `vrrp_instance`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceParams {
    pub version: Version,
    pub vrid: u8,
    /// Configured `priority` (1..=255; 255 = address owner).
    pub priority: u8,
    /// Configured `advert_int`. v2 rounds to whole seconds, v3 to centiseconds.
    pub adver_int: Duration,
    /// `!nopreempt`.
    pub preempt: bool,
    /// `preempt_delay` (ZERO = none).
    pub preempt_delay: Duration,
    /// `state MASTER`: with priority 255 go Master at once on startup.
    pub initial_master: bool,
    /// Our primary address on the interface (tie-break, RFC 5798 §6.4.3).
    pub primary_addr: IpAddr,
    pub garp: GarpParams,
    /// `higher_prio_send_advert`.
    pub higher_prio_send_advert: bool,
    /// `lower_prio_no_advert`.
    pub lower_prio_no_advert: bool,
    /// `skip_check_adv_addr`.
    pub skip_check_adv_addr: bool,
    /// `down_timer_adverts` (default 3, RFC value).
    pub down_timer_adverts: u32,
    /// Member of a `vrrp_sync_group` (keepalived consensus, `vrrp_sync.c`): when
    /// Master_Down_Timer fires the instance does not take over on its own; it only
    /// *wants* Master ([`Instance::wants_master`]), restarts the timer, and waits for
    /// [`crate::sync_group::SyncGroup::on_member_wants_master`] to send
    /// `SyncCommand::GoMaster` once every member wants Master. Default false.
    pub sync_group_member: bool,
}

impl InstanceParams {
    /// Defaults as keepalived: preempt on, 1 s adverts, priority 100.
    pub fn new(version: Version, vrid: u8, primary_addr: IpAddr) -> Self {
        InstanceParams {
            version,
            vrid,
            priority: 100,
            adver_int: Duration::from_secs(1),
            preempt: true,
            preempt_delay: Duration::ZERO,
            initial_master: false,
            primary_addr,
            garp: GarpParams::default(),
            higher_prio_send_advert: false,
            lower_prio_no_advert: false,
            skip_check_adv_addr: false,
            down_timer_adverts: 3,
            sync_group_member: false,
        }
    }

    /// The advert interval as it goes on the wire.
    pub fn wire_adver_int(&self) -> AdverInt {
        AdverInt::from_duration(self.version, self.adver_int)
    }
}

/// Deadlines of the current state. Replaced wholesale on every transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timers {
    Idle,
    Backup {
        /// Master_Down_Timer.
        master_down: Instant,
        /// keepalived `preempt_time`: until then lower-priority adverts are accepted.
        preempt_until: Option<Instant>,
        /// Set when the down timer was shortened by a priority-0 advert.
        master_stopped: bool,
    },
    Master {
        /// Adver_Timer.
        adver: Instant,
        /// Second GARP burst after becoming master (`garp_master_delay`).
        garp_delayed: Option<Instant>,
        /// Next `garp_master_refresh` burst.
        garp_refresh: Option<Instant>,
        /// Second GARP burst after a lower priority advert (`garp_lower_prio_delay`).
        garp_lower_prio: Option<Instant>,
    },
}

/// One VRRP instance's state machine.
#[derive(Debug, Clone)]
pub struct Instance {
    params: InstanceParams,
    state: State,
    timers: Timers,
    /// Priority we advertise; base priority adjusted by tracking (owner: fixed 255).
    effective_priority: u8,
    /// Master_Adver_Interval: configured interval, or learned from the master (v3, Backup).
    master_adver_interval: AdverInt,
    own_fault: bool,
    sync_fault: bool,
    /// Address and priority of the current master as last heard (Backup).
    master_addr: Option<IpAddr>,
    master_priority: Option<u8>,
    /// keepalived `wantstate == MASTER` while still Backup (sync group members only).
    wants_master: bool,
}

impl Instance {
    pub fn new(params: InstanceParams) -> Self {
        let adv = params.wire_adver_int();
        let effective_priority = params.priority.max(1);
        Instance {
            params,
            state: State::Initialize,
            timers: Timers::Idle,
            effective_priority,
            master_adver_interval: adv,
            own_fault: false,
            sync_fault: false,
            master_addr: None,
            master_priority: None,
            wants_master: false,
        }
    }

    pub fn params(&self) -> &InstanceParams {
        &self.params
    }
    pub fn state(&self) -> State {
        self.state
    }
    pub fn timers(&self) -> &Timers {
        &self.timers
    }
    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }
    /// Master_Adver_Interval (RFC 5798 §6.1).
    pub fn master_adver_interval(&self) -> AdverInt {
        self.master_adver_interval
    }
    /// Last master heard (Backup), for status output.
    pub fn master_addr(&self) -> Option<IpAddr> {
        self.master_addr
    }
    pub fn master_priority(&self) -> Option<u8> {
        self.master_priority
    }
    /// keepalived's `wantstate == MASTER`: Master, or a sync group member in Backup
    /// whose Master_Down_Timer fired without an accepted advert since. Sync group
    /// drivers pass this to `SyncGroup::on_member_wants_master` after every `handle`.
    pub fn wants_master(&self) -> bool {
        self.state == State::Master || (self.state == State::Backup && self.wants_master)
    }

    /// Whether own tracking or the sync group holds the instance in fault.
    pub fn is_faulted(&self) -> bool {
        self.own_fault || self.sync_fault
    }

    /// Skew_Time (RFC 5798 §6.1 / RFC 3768 §6.1) for the current effective priority.
    pub fn skew_time(&self) -> Duration {
        let weight = 256 - u64::from(self.effective_priority);
        match self.params.version {
            // (256 - Priority) / 256 seconds.
            Version::V2 => Duration::from_micros(weight * 1_000_000 / 256),
            // ((256 - Priority) * Master_Adver_Interval) / 256, computed in
            // microseconds as keepalived does (VRRP_TIMER_SKEW_CALC in vrrp.h:
            // `pri * (master_adver_int / TIMER_CENTI_HZ) * 625 / 16`, i.e.
            // pri * centiseconds * 10_000 / 256 µs). Whole centiseconds would
            // make every skew 0 at 10 ms adverts, and all backups would declare
            // the master down at the same instant.
            Version::V3 => {
                let cs = u64::from(self.master_adver_interval.centiseconds());
                Duration::from_micros(weight * cs * 625 / 16)
            }
        }
    }

    /// Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time (RFC 5798 §6.1);
    /// the 3 is keepalived's `down_timer_adverts`.
    pub fn master_down_interval(&self) -> Duration {
        self.master_adver_interval.as_duration() * self.params.down_timer_adverts.max(1)
            + self.skew_time()
    }

    /// Whether an advert from `src` needs its address list checked
    /// (false only with `skip_check_adv_addr` for the master we already follow),
    /// mirroring keepalived's `vrrp_state_backup()`. Pass to `RxPolicy::check`.
    pub fn wants_vip_check(&self, src: IpAddr) -> bool {
        !(self.params.skip_check_adv_addr
            && self.state == State::Backup
            && self.master_addr == Some(src))
    }

    /// Earliest pending deadline, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.timers {
            Timers::Idle => None,
            Timers::Backup { master_down, .. } => Some(master_down),
            Timers::Master {
                adver,
                garp_delayed,
                garp_refresh,
                garp_lower_prio,
            } => [Some(adver), garp_delayed, garp_refresh, garp_lower_prio]
                .into_iter()
                .flatten()
                .min(),
        }
    }

    /// The one transition function: every side effect is an [`Action`] returned here.
    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Startup => self.on_startup(now, &mut out),
            Event::Shutdown => self.on_shutdown(&mut out),
            Event::AdvertReceived { from, adv } => self.on_advert(from, &adv, now, &mut out),
            Event::Timer => self.on_timer(now, &mut out),
            Event::PriorityChanged(p) => self.on_priority(p),
            Event::Fault(f) => {
                self.own_fault = f;
                self.on_fault_change(now, Reason::Fault, Reason::FaultCleared, &mut out);
            }
            Event::SyncGroup(cmd) => self.on_sync(cmd, now, &mut out),
        }
        out
    }

    /// Apply a reloaded configuration to the running instance, keeping its state
    /// (no transition, no notify), as keepalived 2.2.7 does for an instance that
    /// `vrrp_exist()` finds in the new configuration (see [`crate::reload`]):
    ///
    /// * `vrrp_complete_init()`: `vrrp->state = old_vrrp->state`, and the new
    ///   instance starts with its own `master_adver_int`, no master address and
    ///   no preempt time (they are fields of the freshly built instance);
    /// * Master (`reload_master`): `vrrp_init_instance_sands()` sets the advert
    ///   timer to *now*, so one advert with the new priority and interval goes
    ///   out at once, and the next after the new interval. A lowered priority
    ///   is then seen by the backups: one with preempt ignores the adverts and
    ///   takes over when its Master_Down_Timer fires (RFC 5798 §6.4.2);
    /// * Backup: `vrrp_init_state()` restarts Master_Down_Timer with the new
    ///   Master_Down_Interval (`VRRP_MS_DOWN_TIMER`). A raised priority with
    ///   preempt ignores the lower-priority master from now on and takes over
    ///   when that timer fires;
    /// * Fault / Initialize: unchanged (tracking re-decides faults).
    ///
    /// `tracked_priority` is the effective priority tracking computes for the
    /// new configuration (ignored for the address owner, clamped to 1..=254).
    ///
    /// Deliberate difference: keepalived cancels a pending delayed GARP burst
    /// (`garp_master_delay`, `garp_lower_prio_delay`) on reload; it stays
    /// scheduled here if the new configuration still asks for it. A changed
    /// `garp_master_refresh` restarts the refresh timer from now.
    pub fn reload(
        &mut self,
        params: InstanceParams,
        tracked_priority: u8,
        now: Instant,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        let old = std::mem::replace(&mut self.params, params);
        self.effective_priority = if self.params.priority == PRIORITY_OWNER {
            PRIORITY_OWNER
        } else {
            tracked_priority.clamp(1, PRIORITY_OWNER - 1)
        };
        self.master_adver_interval = self.params.wire_adver_int();
        self.master_addr = None;
        self.master_priority = None;
        // keepalived: vrrp->wantstate = old_vrrp->state.
        self.wants_master = false;
        let garp = self.params.garp;
        match self.timers {
            Timers::Idle => {}
            Timers::Backup { .. } => {
                self.timers = Timers::Backup {
                    master_down: now + self.master_down_interval(),
                    preempt_until: None,
                    master_stopped: false,
                };
            }
            Timers::Master {
                garp_delayed,
                garp_refresh,
                garp_lower_prio,
                ..
            } => {
                out.push(Action::SendAdvert {
                    priority: self.effective_priority,
                });
                let garp_refresh = if old.garp.master_refresh == garp.master_refresh {
                    garp_refresh
                } else {
                    garp.master_refresh.map(|d| now + d)
                };
                self.timers = Timers::Master {
                    adver: now + self.master_adver_interval.as_duration(),
                    garp_delayed: garp_delayed.filter(|_| !garp.master_delay.is_zero()),
                    garp_refresh,
                    garp_lower_prio: garp_lower_prio
                        .filter(|_| garp.lower_prio_repeat > 0 && !garp.lower_prio_delay.is_zero()),
                };
            }
        }
        out
    }

    // -- transitions --------------------------------------------------------

    fn on_startup(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.state != State::Initialize {
            return;
        }
        if self.is_faulted() {
            self.enter_fault(Reason::Startup, out);
        } else if self.params.priority == PRIORITY_OWNER && self.params.initial_master {
            if self.params.sync_group_member {
                // The group decides; the owner wants Master from the start.
                self.enter_backup(now, Reason::Startup, out);
                self.wants_master = true;
            } else {
                // RFC 5798 §6.4.1: the owner goes straight to Master.
                self.enter_master(now, Reason::AddressOwner, out);
            }
        } else {
            self.enter_backup(now, Reason::Startup, out);
        }
    }

    fn on_shutdown(&mut self, out: &mut Vec<Action>) {
        if self.state == State::Initialize {
            return;
        }
        if self.state == State::Master {
            // RFC 5798 §6.4.3: send priority 0 so a Backup takes over after Skew_Time.
            out.push(Action::SendAdvert {
                priority: PRIORITY_STOP,
            });
            out.push(Action::RemoveVips);
        }
        self.transition(State::Initialize, Reason::Shutdown, Timers::Idle, out);
        out.push(Action::Notify(Notify::Stop));
    }

    fn on_fault_change(
        &mut self,
        now: Instant,
        enter_reason: Reason,
        leave_reason: Reason,
        out: &mut Vec<Action>,
    ) {
        match (self.state, self.is_faulted()) {
            (State::Initialize, _) => {}
            (State::Fault, false) => {
                // keepalived try_up_instance(): back to Backup, or Master for the owner.
                self.master_adver_interval = self.params.wire_adver_int();
                if self.params.priority == PRIORITY_OWNER && self.params.initial_master {
                    self.enter_master(now, leave_reason, out);
                } else {
                    self.enter_backup(now, leave_reason, out);
                }
            }
            (State::Backup | State::Master, true) => self.enter_fault(enter_reason, out),
            _ => {}
        }
    }

    fn on_sync(&mut self, cmd: SyncCommand, now: Instant, out: &mut Vec<Action>) {
        match cmd {
            SyncCommand::GoFault => {
                self.sync_fault = true;
                self.on_fault_change(now, Reason::SyncGroup, Reason::SyncGroup, out);
            }
            SyncCommand::ClearFault => {
                self.sync_fault = false;
                self.on_fault_change(now, Reason::SyncGroup, Reason::SyncGroup, out);
            }
            SyncCommand::GoMaster => {
                if self.state == State::Backup && !self.is_faulted() {
                    self.enter_master(now, Reason::SyncGroup, out);
                }
            }
            SyncCommand::GoBackup => {
                if self.state == State::Master {
                    out.push(Action::RemoveVips);
                    self.enter_backup(now, Reason::SyncGroup, out);
                }
            }
        }
    }

    fn on_priority(&mut self, p: u8) {
        // The owner's priority is fixed (keepalived disables tracking weights for 255).
        if self.params.priority == PRIORITY_OWNER {
            return;
        }
        let old_down = self.master_down_interval();
        // Tracking may never produce 0 (stop) or 255 (owner): clamp to 1..=254.
        self.effective_priority = p.clamp(1, PRIORITY_OWNER - 1);
        // As Master the next advert carries the new priority; as Backup the running
        // Master_Down_Timer moves by the change in Skew_Time (keepalived
        // vrrp_set_effective_priority), and the next lower-priority advert is ignored
        // so we preempt when it fires.
        let new_down = self.master_down_interval();
        if let Timers::Backup { master_down, .. } = &mut self.timers {
            *master_down = if new_down >= old_down {
                *master_down + (new_down - old_down)
            } else {
                master_down
                    .checked_sub(old_down - new_down)
                    .unwrap_or(*master_down)
            };
        }
    }

    fn on_timer(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.timers {
            Timers::Idle => {}
            Timers::Backup {
                master_down,
                master_stopped,
                preempt_until,
            } => {
                if master_down <= now && self.params.sync_group_member {
                    // keepalived vrrp_sync_can_goto_master() said no (or not yet):
                    // want Master, restart the down timer, let the group decide.
                    self.wants_master = true;
                    self.timers = Timers::Backup {
                        master_down: now + self.master_down_interval(),
                        preempt_until,
                        master_stopped: false,
                    };
                } else if master_down <= now {
                    // RFC 5798 §6.4.2: Master_Down_Timer fired -> Master.
                    let reason = if master_stopped {
                        Reason::MasterStopped
                    } else {
                        Reason::MasterDown
                    };
                    self.enter_master(now, reason, out);
                }
            }
            Timers::Master {
                mut adver,
                mut garp_delayed,
                mut garp_refresh,
                mut garp_lower_prio,
            } => {
                if adver <= now {
                    out.push(Action::SendAdvert {
                        priority: self.effective_priority,
                    });
                    adver = now + self.params.wire_adver_int().as_duration();
                }
                if garp_delayed.is_some_and(|t| t <= now) {
                    out.push(Action::SendGratuitous {
                        repeat: self.params.garp.master_repeat,
                    });
                    garp_delayed = None;
                }
                if garp_lower_prio.is_some_and(|t| t <= now) {
                    out.push(Action::SendGratuitous {
                        repeat: self.params.garp.lower_prio_repeat,
                    });
                    garp_lower_prio = None;
                }
                if let (Some(t), Some(every)) = (garp_refresh, self.params.garp.master_refresh) {
                    if t <= now {
                        out.push(Action::SendGratuitous {
                            repeat: self.params.garp.master_refresh_repeat,
                        });
                        garp_refresh = Some(now + every);
                    }
                }
                self.timers = Timers::Master {
                    adver,
                    garp_delayed,
                    garp_refresh,
                    garp_lower_prio,
                };
            }
        }
    }

    fn on_advert(
        &mut self,
        from: IpAddr,
        adv: &Advertisement,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        match self.state {
            State::Backup => self.backup_rx(from, adv, now),
            State::Master => self.master_rx(from, adv, now, out),
            State::Initialize | State::Fault => {}
        }
    }

    /// RFC 5798 §6.4.2 "If an ADVERTISEMENT is received" in Backup, as keepalived
    /// `vrrp_state_backup()` implements it (including preempt_delay).
    fn backup_rx(&mut self, from: IpAddr, adv: &Advertisement, now: Instant) {
        let Timers::Backup {
            master_down,
            preempt_until,
            master_stopped,
        } = self.timers
        else {
            return;
        };
        let ours = self.effective_priority;
        if adv.priority == PRIORITY_STOP {
            // Master is stopping: take over after Skew_Time.
            self.timers = Timers::Backup {
                master_down: now + self.skew_time(),
                preempt_until,
                master_stopped: true,
            };
            return;
        }
        let preempt_delay = self.params.preempt_delay;
        let delay_pending = !preempt_delay.is_zero() && preempt_until.is_none_or(|t| t > now);
        if !self.params.preempt || adv.priority >= ours || delay_pending {
            // Accept this master (keepalived: wantstate = BACKUP).
            self.wants_master = false;
            if self.params.version == Version::V3 {
                // RFC 5798 §6.4.2: learn Master_Adver_Interval from the advert.
                self.master_adver_interval = adv.adver_int;
            }
            let preempt_until = if preempt_delay.is_zero() || adv.priority >= ours {
                None
            } else {
                // Lower-priority master heard: start (or keep) the preempt delay.
                Some(preempt_until.unwrap_or(now + preempt_delay))
            };
            self.master_addr = Some(from);
            self.master_priority = Some(adv.priority);
            self.timers = Timers::Backup {
                master_down: now + self.master_down_interval(),
                preempt_until,
                master_stopped: false,
            };
        } else {
            // Preempt-eligible and the advert is lower priority: discard it, so the
            // down timer runs out and we take over (keepalived behaviour).
            self.master_addr = Some(from);
            self.master_priority = Some(adv.priority);
            self.timers = Timers::Backup {
                master_down,
                preempt_until,
                master_stopped,
            };
        }
    }

    /// RFC 5798 §6.4.3 "If an ADVERTISEMENT is received" in Master, as keepalived
    /// `vrrp_state_master_rx()`.
    fn master_rx(
        &mut self,
        from: IpAddr,
        adv: &Advertisement,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        let addr_cmp = cmp_addr(from, self.params.primary_addr);
        let beats = |ours: u8| {
            adv.priority > ours || (adv.priority == ours && addr_cmp == std::cmp::Ordering::Greater)
        };
        let ours = self.effective_priority;

        if adv.priority == PRIORITY_STOP {
            // Another master stopping: assert ourselves now and restart Adver_Timer.
            out.push(Action::SendAdvert { priority: ours });
            self.reset_adver_timer(now);
            return;
        }
        if self.params.higher_prio_send_advert && beats(ours) {
            out.push(Action::SendAdvert { priority: ours });
        }
        if adv.priority == ours && ours == PRIORITY_OWNER && addr_cmp != std::cmp::Ordering::Equal {
            // Two address owners: keepalived lowers its own priority to break the tie.
            self.params.priority = PRIORITY_OWNER - 1;
            self.effective_priority = PRIORITY_OWNER - 1;
            tracing::warn!(
                vrid = self.params.vrid,
                peer = %from,
                "both this router and a peer are configured as address owner (priority 255); lowering ours to 254"
            );
        }
        let ours = self.effective_priority;
        if beats(ours) {
            if self.params.version == Version::V3 {
                self.master_adver_interval = adv.adver_int;
            }
            self.master_addr = Some(from);
            self.master_priority = Some(adv.priority);
            out.push(Action::RemoveVips);
            self.enter_backup_keep_interval(now, Reason::HigherPriorityAdvert, out);
            return;
        }
        if addr_cmp == std::cmp::Ordering::Equal && adv.priority == ours {
            tracing::warn!(
                vrid = self.params.vrid,
                "equal priority advert from a host with our own address"
            );
            return;
        }
        // Lower priority (or equal, lower address): re-assert, refresh ARP caches.
        if !self.params.lower_prio_no_advert {
            out.push(Action::SendAdvert { priority: ours });
        }
        let garp = self.params.garp;
        if garp.lower_prio_repeat > 0 {
            out.push(Action::SendGratuitous {
                repeat: garp.lower_prio_repeat,
            });
            if !garp.lower_prio_delay.is_zero() {
                if let Timers::Master {
                    garp_lower_prio, ..
                } = &mut self.timers
                {
                    *garp_lower_prio = Some(now + garp.lower_prio_delay);
                }
            }
        }
        out.push(Action::Notify(Notify::MasterRxLowerPri));
    }

    fn reset_adver_timer(&mut self, now: Instant) {
        let next = now + self.params.wire_adver_int().as_duration();
        if let Timers::Master { adver, .. } = &mut self.timers {
            *adver = next;
        }
    }

    // -- state entry --------------------------------------------------------

    fn enter_master(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        // Our own interval goes on the wire again (keepalived vrrp_state_become_master).
        self.master_adver_interval = self.params.wire_adver_int();
        self.master_addr = None;
        self.master_priority = None;
        let garp = self.params.garp;
        // RFC 5798 §6.4.2 (Backup -> Master) lists the advert first, and keepalived
        // sends it before become_master so the old master drops the VIPs before our
        // GARPs. The VIPs themselves do not depend on the advert: install them
        // first, as they are what a failover waits for (the advert's syscall and
        // any send error stay off that path), and keep advert-before-GARPs.
        out.push(Action::AddVips);
        out.push(Action::SendAdvert {
            priority: self.effective_priority,
        });
        out.push(Action::SendGratuitous {
            repeat: garp.master_repeat,
        });
        let timers = Timers::Master {
            adver: now + self.master_adver_interval.as_duration(),
            garp_delayed: (!garp.master_delay.is_zero()).then(|| now + garp.master_delay),
            garp_refresh: garp.master_refresh.map(|d| now + d),
            garp_lower_prio: None,
        };
        self.transition(State::Master, reason, timers, out);
        out.push(Action::Notify(Notify::Master));
    }

    fn enter_backup(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        self.master_adver_interval = self.params.wire_adver_int();
        self.enter_backup_keep_interval(now, reason, out);
    }

    /// Enter Backup keeping Master_Adver_Interval (just learned from a higher master).
    fn enter_backup_keep_interval(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        self.wants_master = false;
        let timers = Timers::Backup {
            master_down: now + self.master_down_interval(),
            preempt_until: None,
            master_stopped: false,
        };
        self.transition(State::Backup, reason, timers, out);
        out.push(Action::Notify(Notify::Backup));
    }

    fn enter_fault(&mut self, reason: Reason, out: &mut Vec<Action>) {
        if self.state == State::Master {
            // keepalived: a master going to fault sends priority 0 for fast handover.
            out.push(Action::SendAdvert {
                priority: PRIORITY_STOP,
            });
            out.push(Action::RemoveVips);
        }
        self.master_addr = None;
        self.master_priority = None;
        self.wants_master = false;
        self.transition(State::Fault, reason, Timers::Idle, out);
        out.push(Action::Notify(Notify::Fault));
    }

    fn transition(&mut self, to: State, reason: Reason, timers: Timers, out: &mut Vec<Action>) {
        let from = self.state;
        self.state = to;
        self.timers = timers;
        out.push(Action::StateChanged { from, to, reason });
    }
}

/// Compare addresses as unsigned integers in network byte order (RFC 5798 §6.4.3:
/// "primary IPvX Address of the sender is greater than the local primary IPvX Address").
fn cmp_addr(a: IpAddr, b: IpAddr) -> std::cmp::Ordering {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets().cmp(&b.octets()),
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets().cmp(&b.octets()),
        // Never happens for a validated advert; order families deterministically.
        (IpAddr::V4(_), IpAddr::V6(_)) => std::cmp::Ordering::Less,
        (IpAddr::V6(_), IpAddr::V4(_)) => std::cmp::Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_and_down_interval_v2() {
        let mut p = InstanceParams::new(Version::V2, 1, "192.0.2.1".parse().unwrap());
        p.priority = 128;
        let i = Instance::new(p);
        assert_eq!(i.skew_time(), Duration::from_millis(500));
        assert_eq!(i.master_down_interval(), Duration::from_millis(3500));
    }

    #[test]
    fn skew_and_down_interval_v3_microseconds() {
        let mut p = InstanceParams::new(Version::V3, 1, "192.0.2.1".parse().unwrap());
        p.priority = 100;
        p.adver_int = Duration::from_millis(100); // 10 cs
        let i = Instance::new(p);
        // ((256-100) * 100 ms) / 256 = 60.9375 ms (keepalived: 156 * 10 * 625 / 16 µs).
        assert_eq!(i.skew_time(), Duration::from_micros(60_937));
        assert_eq!(i.master_down_interval(), Duration::from_micros(360_937));
    }

    /// Regression (issue #11 bug 4): at 10 ms adverts whole centiseconds made
    /// every skew 0, so all backups timed out together. In microseconds every
    /// priority gets its own skew, strictly decreasing with priority.
    #[test]
    fn v3_skew_at_10ms_differs_per_priority() {
        let skew = |prio: u8| {
            let mut p = InstanceParams::new(Version::V3, 1, "192.0.2.1".parse().unwrap());
            p.priority = prio;
            p.adver_int = Duration::from_millis(10);
            Instance::new(p).skew_time()
        };
        // keepalived: (256 - 100) * 1 cs * 625 / 16 = 6093 µs.
        assert_eq!(skew(100), Duration::from_micros(6_093));
        assert_eq!(skew(254), Duration::from_micros(78));
        assert_eq!(skew(1), Duration::from_micros(9_960));
        for prio in 1..254u8 {
            assert!(skew(prio) > skew(prio + 1), "priority {prio}");
        }
    }
}
