//! Tracking arithmetic, pure (keepalived 2.2.7 `vrrp_track.c` semantics).
//!
//! * [`status_contribution`]: a tracked interface / script / process that is up or down.
//!   - weight 0: down => FAULT (`reverse`: up => FAULT);
//!   - weight > 0: up => `+weight` (`reverse`: up => `-weight`);
//!   - weight < 0: down => `weight` (`reverse`: down => `-weight`, i.e. raises);
//!   - a script still initialising contributes nothing, but an *unweighted* one
//!     holds the instance out of Backup/Master until it has a result.
//! * [`file_contribution`]: `vrrp_track_file` value `v`: `v * weight` (`reverse`: negated),
//!   capped at +253; `<= -254` => FAULT; weight 0 => FAULT iff `v != 0` (`reverse`: iff `v == 0`).
//! * [`effective_priority`]: `base + Σ deltas`, clamped to 1..=254; the address owner
//!   (255) never moves (faults still apply).
//! * [`ScriptTracker`]: `vrrp_script` rise/fall filter with keepalived's result counter.
//!
//! The driver feeds the outcome to the state machine as
//! `fsm::Event::PriorityChanged(outcome.priority)` and `fsm::Event::Fault(outcome.fault)`.

use crate::fsm::PRIORITY_OWNER;

/// `weight N [reverse]` of one tracked object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Weight {
    pub weight: i32,
    pub reverse: bool,
}

impl Weight {
    pub fn new(weight: i32, reverse: bool) -> Self {
        Weight { weight, reverse }
    }
    fn multiplier(self) -> i64 {
        if self.reverse {
            -1
        } else {
            1
        }
    }
}

/// What one tracked object does to its instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contribution {
    /// Add this to the base priority (may be 0 or negative).
    Delta(i64),
    /// Force FAULT.
    Fault,
    /// Unweighted script without a result yet: stay out of Backup/Master.
    Pending,
}

/// Up/down object (interface, script, process). `up = None` means a script that has
/// not produced a result yet (keepalived `SCRIPT_INIT_STATE_INIT`).
pub fn status_contribution(w: Weight, up: Option<bool>) -> Contribution {
    let Some(up) = up else {
        return if w.weight == 0 {
            Contribution::Pending
        } else {
            Contribution::Delta(0)
        };
    };
    match w.weight {
        // keepalived: `IF_FLAGS_UP(ifp) != (weight_multiplier == 1)` => down,
        // i.e. FAULT when down, or when up with `reverse`.
        0 if up == w.reverse => Contribution::Fault,
        0 => Contribution::Delta(0),
        x if x > 0 && up => Contribution::Delta(i64::from(x) * w.multiplier()),
        x if x < 0 && !up => Contribution::Delta(i64::from(x) * w.multiplier()),
        _ => Contribution::Delta(0),
    }
}

/// `vrrp_track_file` with current `value`.
pub fn file_contribution(w: Weight, value: i64) -> Contribution {
    let status = if w.weight == 0 {
        // Non-zero value faults; with `reverse`, zero faults.
        if (value != 0) != w.reverse {
            -254
        } else {
            0
        }
    } else {
        value
            .saturating_mul(i64::from(w.weight))
            .saturating_mul(w.multiplier())
    };
    if status <= -254 {
        Contribution::Fault
    } else {
        Contribution::Delta(status.min(253))
    }
}

/// Result of combining all contributions of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackOutcome {
    /// Effective priority to advertise (1..=254, or 255 for the owner).
    pub priority: u8,
    /// Some object forces FAULT, or an unweighted script has no result yet.
    pub fault: bool,
    /// Only the "no result yet" part of `fault` (for status output).
    pub pending: bool,
}

/// `base` + contributions, keepalived's `vrrp_set_effective_priority()`.
pub fn effective_priority(
    base: u8,
    contributions: impl IntoIterator<Item = Contribution>,
) -> TrackOutcome {
    let mut total: i64 = i64::from(base);
    let mut fault = false;
    let mut pending = false;
    for c in contributions {
        match c {
            Contribution::Delta(d) => total = total.saturating_add(d),
            Contribution::Fault => fault = true,
            Contribution::Pending => pending = true,
        }
    }
    let priority = if base == PRIORITY_OWNER {
        PRIORITY_OWNER
    } else {
        u8::try_from(total.clamp(1, i64::from(PRIORITY_OWNER - 1))).unwrap_or(1)
    };
    TrackOutcome {
        priority,
        fault: fault || pending,
        pending,
    }
}

/// Filtered status of a `vrrp_script`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptStatus {
    /// No result yet (keepalived `SCRIPT_INIT_STATE_INIT`).
    Init,
    Up,
    Down,
}

impl ScriptStatus {
    /// As the `up` argument of [`status_contribution`].
    pub fn as_up(self) -> Option<bool> {
        match self {
            ScriptStatus::Init => None,
            ScriptStatus::Up => Some(true),
            ScriptStatus::Down => Some(false),
        }
    }
}

/// keepalived's rise/fall filter for `vrrp_script` (`vrrp_script_child_thread`):
/// a counter `result` in `0..=rise+fall-1`, up iff `result >= rise`.
/// Starts at `rise - 1` ("one success is enough") unless `init_fail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptTracker {
    rise: u32,
    fall: u32,
    result: u32,
    status: ScriptStatus,
}

impl ScriptTracker {
    /// `rise`/`fall` of 0 are treated as 1 (keepalived refuses 0 at parse time).
    pub fn new(rise: u32, fall: u32, init_fail: bool) -> Self {
        let rise = rise.max(1);
        let fall = fall.max(1);
        if init_fail {
            ScriptTracker {
                rise,
                fall,
                result: 0,
                status: ScriptStatus::Down,
            }
        } else {
            ScriptTracker {
                rise,
                fall,
                result: rise - 1,
                status: ScriptStatus::Init,
            }
        }
    }

    /// A tracker for a reloaded `vrrp_script` that carries the previous status
    /// over instead of starting from "no result" (keepalived
    /// `clear_diff_script()`): a script that was up is "considered successful
    /// on reload" (counter at its top, `rise + fall - 1`), one that was down
    /// "considered unsuccessful" (counter 0), one still initialising starts
    /// afresh. keepalived maps its old counter value; only the status is kept
    /// here, which errs towards the stable end of each side.
    pub fn carried_over(rise: u32, fall: u32, init_fail: bool, previous: ScriptStatus) -> Self {
        let mut t = ScriptTracker::new(rise, fall, init_fail);
        match previous {
            ScriptStatus::Init => {}
            ScriptStatus::Up => {
                t.result = t.rise + t.fall - 1;
                t.status = ScriptStatus::Up;
            }
            ScriptStatus::Down => {
                t.result = 0;
                t.status = ScriptStatus::Down;
            }
        }
        t
    }

    pub fn status(&self) -> ScriptStatus {
        self.status
    }

    /// Feed one script exit (success = exit status 0). Returns the new status when it
    /// changed (including leaving `Init`).
    pub fn record(&mut self, success: bool) -> Option<ScriptStatus> {
        let max = self.rise + self.fall - 1;
        let before = self.status;
        if success {
            if self.result < self.rise - 1 {
                self.result += 1;
            } else if self.result != max {
                if self.result < self.rise {
                    self.status = ScriptStatus::Up;
                }
                self.result = max;
            }
        } else if self.result > self.rise {
            self.result -= 1;
        } else {
            if self.result == self.rise || self.status == ScriptStatus::Init {
                self.status = ScriptStatus::Down;
            }
            self.result = 0;
        }
        (self.status != before).then_some(self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_and_reverse() {
        let w = |x, r| Weight::new(x, r);
        assert_eq!(
            status_contribution(w(10, false), Some(true)),
            Contribution::Delta(10)
        );
        assert_eq!(
            status_contribution(w(10, false), Some(false)),
            Contribution::Delta(0)
        );
        assert_eq!(
            status_contribution(w(-10, false), Some(false)),
            Contribution::Delta(-10)
        );
        assert_eq!(
            status_contribution(w(-10, false), Some(true)),
            Contribution::Delta(0)
        );
        // reverse: "priority is decreased when up and increased when down"
        assert_eq!(
            status_contribution(w(10, true), Some(true)),
            Contribution::Delta(-10)
        );
        assert_eq!(
            status_contribution(w(-10, true), Some(false)),
            Contribution::Delta(10)
        );
        assert_eq!(
            status_contribution(w(0, false), Some(false)),
            Contribution::Fault
        );
        assert_eq!(
            status_contribution(w(0, false), Some(true)),
            Contribution::Delta(0)
        );
        assert_eq!(
            status_contribution(w(0, true), Some(true)),
            Contribution::Fault
        );
        assert_eq!(
            status_contribution(w(0, false), None),
            Contribution::Pending
        );
        assert_eq!(
            status_contribution(w(5, false), None),
            Contribution::Delta(0)
        );
    }

    #[test]
    fn files() {
        let w = |x, r| Weight::new(x, r);
        assert_eq!(file_contribution(w(2, false), 10), Contribution::Delta(20));
        assert_eq!(file_contribution(w(2, true), 10), Contribution::Delta(-20));
        assert_eq!(
            file_contribution(w(100, false), 10),
            Contribution::Delta(253)
        );
        assert_eq!(file_contribution(w(1, false), -254), Contribution::Fault);
        assert_eq!(file_contribution(w(0, false), 3), Contribution::Fault);
        assert_eq!(file_contribution(w(0, false), 0), Contribution::Delta(0));
        assert_eq!(file_contribution(w(0, true), 0), Contribution::Fault);
        assert_eq!(
            file_contribution(w(i32::MAX, false), i64::MAX),
            Contribution::Delta(253)
        );
    }

    #[test]
    fn clamp_and_owner() {
        let o = effective_priority(100, [Contribution::Delta(500)]);
        assert_eq!(o.priority, 254);
        let o = effective_priority(100, [Contribution::Delta(-500)]);
        assert_eq!(o.priority, 1);
        let o = effective_priority(255, [Contribution::Delta(-50), Contribution::Fault]);
        assert_eq!((o.priority, o.fault), (255, true));
        let o = effective_priority(100, [Contribution::Pending]);
        assert!(o.fault && o.pending);
    }

    #[test]
    fn script_rise_fall() {
        // rise 2, fall 3: starts Init at result 1; one success => Up.
        let mut s = ScriptTracker::new(2, 3, false);
        assert_eq!(s.status(), ScriptStatus::Init);
        assert_eq!(s.record(true), Some(ScriptStatus::Up));
        // Needs 3 consecutive failures to go down.
        assert_eq!(s.record(false), None);
        assert_eq!(s.record(false), None);
        assert_eq!(s.record(false), Some(ScriptStatus::Down));
        // Needs 2 successes to come back.
        assert_eq!(s.record(true), None);
        assert_eq!(s.record(true), Some(ScriptStatus::Up));
        // A failure in between resets the fall counter only partially (counter semantics).
        assert_eq!(s.record(false), None);
        assert_eq!(s.record(true), None);
        assert_eq!(s.status(), ScriptStatus::Up);
    }

    #[test]
    fn reloaded_script_keeps_its_status() {
        let mut up = ScriptTracker::carried_over(2, 3, false, ScriptStatus::Up);
        assert_eq!(up.status(), ScriptStatus::Up);
        // Still needs `fall` failures to go down, as before the reload.
        assert_eq!(up.record(false), None);
        assert_eq!(up.record(false), None);
        assert_eq!(up.record(false), Some(ScriptStatus::Down));
        let mut down = ScriptTracker::carried_over(2, 3, false, ScriptStatus::Down);
        assert_eq!(down.status(), ScriptStatus::Down);
        assert_eq!(down.record(true), None);
        assert_eq!(down.record(true), Some(ScriptStatus::Up));
        let init = ScriptTracker::carried_over(2, 3, false, ScriptStatus::Init);
        assert_eq!(init, ScriptTracker::new(2, 3, false));
    }

    #[test]
    fn script_first_failure_from_init_is_down() {
        let mut s = ScriptTracker::new(3, 3, false);
        assert_eq!(s.record(false), Some(ScriptStatus::Down));
        let s = ScriptTracker::new(3, 3, true);
        assert_eq!(s.status(), ScriptStatus::Down);
    }
}
