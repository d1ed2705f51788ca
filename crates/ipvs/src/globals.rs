//! Table-wide IPVS settings a daemon owns besides services: the connection
//! timeouts (`lvs_timeouts`) with keepalived's save-and-restore rule, and the
//! whole-table flush (`lvs_flush`, `lvs_flush_on_stop`).
//!
//! [`TimeoutKeeper`] is a sans-IO mirror of keepalived 2.2.7's
//! `check/libipvs.c` `ipvs_set_timeout()` together with its callers
//! (`check/ipvswrapper.c` `ipvs_set_timeouts()` / `ipvs_stop()`,
//! `check/check_daemon.c` `start_check()`):
//!
//! * the first time a timeout is to be changed, the kernel's values are read
//!   (`IPVS_CMD_GET_CONFIG`) and kept as the originals;
//! * `IPVS_CMD_SET_CONFIG` then carries every configured value, and the
//!   original for each one not configured (so on a reload that drops
//!   `lvs_timeouts udp`, UDP returns to the value found at start);
//! * a reload without `lvs_timeouts` and the stop restore the originals,
//!   if they were ever read; nothing is sent when they were not.

use crate::backend::IpvsBackend;
use crate::error::IpvsError;
use crate::netlink::Timeouts;

/// The kernel's defaults (`net/netfilter/ipvs/ip_vs_proto_{tcp,udp}.c`):
/// TCP established 15 min, FIN_WAIT 2 min, UDP 5 min; what
/// `ipvsadm -L --timeout` prints on a fresh kernel (900 120 300).
pub const KERNEL_DEFAULT_TIMEOUTS: Timeouts = Timeouts {
    tcp: 900,
    tcp_fin: 120,
    udp: 300,
};

/// What [`TimeoutKeeper::next`] asks the caller to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutStep {
    /// Send `IPVS_CMD_GET_CONFIG` and hand the reply to
    /// [`TimeoutKeeper::got_original`] (or [`TimeoutKeeper::original_unreadable`]),
    /// then ask again.
    ReadOriginal,
    /// Send `IPVS_CMD_SET_CONFIG` with these values.
    Set(Timeouts),
    /// Nothing to send.
    Nothing,
}

/// Where the keeper is in keepalived's save-and-restore of the timeouts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeoutKeeper {
    /// The kernel's values before we changed any (`orig_ipvs_timeouts`).
    original: Option<Timeouts>,
    /// Reading them failed for the current request: send what is configured
    /// (zero = "leave unchanged" to the kernel), as keepalived does after
    /// logging "Failed to get IPVS timeouts".
    unreadable: bool,
}

impl TimeoutKeeper {
    pub fn new() -> Self {
        Self::default()
    }

    /// The originals, once read.
    pub fn original(&self) -> Option<Timeouts> {
        self.original
    }

    /// Next step towards `want`: `Some(configured)` applies `lvs_timeouts`
    /// (a zero field is one not configured), `None` restores the originals
    /// (a reload without `lvs_timeouts`, or the stop).
    pub fn next(&self, want: Option<Timeouts>) -> TimeoutStep {
        // ipvs_set_timeouts(): an all-zero request is no request.
        let want = want.filter(|t| *t != Timeouts::default());
        match (want, self.original) {
            // ipvs_set_timeout(NULL) with nothing saved: return 0.
            (None, None) => TimeoutStep::Nothing,
            (None, Some(orig)) => TimeoutStep::Set(orig),
            (Some(_), None) if !self.unreadable => TimeoutStep::ReadOriginal,
            (Some(w), orig) => {
                let orig = orig.unwrap_or_default();
                let pick = |w: u32, o: u32| if w != 0 { w } else { o };
                TimeoutStep::Set(Timeouts {
                    tcp: pick(w.tcp, orig.tcp),
                    tcp_fin: pick(w.tcp_fin, orig.tcp_fin),
                    udp: pick(w.udp, orig.udp),
                })
            }
        }
    }

    /// The `IPVS_CMD_GET_CONFIG` reply. keepalived only treats the originals
    /// as saved when the TCP value is non-zero (`!orig_ipvs_timeouts.tcp_timeout`).
    pub fn got_original(&mut self, t: Timeouts) {
        self.unreadable = false;
        if t.tcp != 0 {
            self.original = Some(t);
        } else {
            self.unreadable = true;
        }
    }

    /// Reading the originals failed: this request goes out with the
    /// configured values only; the next one tries to read again.
    pub fn original_unreadable(&mut self) {
        self.unreadable = true;
    }

    /// A `SET_CONFIG` went out (or failed): the next request starts afresh.
    fn sent(&mut self) {
        self.unreadable = false;
    }
}

/// What [`apply_timeouts`] did, for logging and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutOutcome {
    /// Nothing was sent.
    Unchanged,
    /// `SET_CONFIG` with these values was accepted.
    Set(Timeouts),
}

/// Drive `keeper` towards `want` against `backend` (see [`TimeoutKeeper::next`]).
/// A failed read of the originals is logged like keepalived ("Failed to get
/// IPVS timeouts") and the configured values are still sent.
pub fn apply_timeouts<B: IpvsBackend + ?Sized>(
    backend: &mut B,
    keeper: &mut TimeoutKeeper,
    want: Option<Timeouts>,
) -> Result<TimeoutOutcome, IpvsError> {
    loop {
        match keeper.next(want) {
            TimeoutStep::Nothing => {
                keeper.sent();
                return Ok(TimeoutOutcome::Unchanged);
            }
            TimeoutStep::ReadOriginal => match backend.timeouts() {
                Ok(t) => keeper.got_original(t),
                Err(e) => {
                    tracing::info!("Failed to get IPVS timeouts: {e}");
                    keeper.original_unreadable();
                }
            },
            TimeoutStep::Set(t) => {
                keeper.sent();
                backend.set_timeouts(t)?;
                return Ok(TimeoutOutcome::Set(t));
            }
        }
    }
}

/// What the daemon does to the IPVS table when it stops
/// (keepalived's `lvs_flush_on_stop`, `check/ipwrapper.c` `clear_services()`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StopPolicy {
    /// Default: remove the configured virtual servers (keepalived deletes
    /// each live real server, then the service); everything else stays.
    #[default]
    RemoveOwn,
    /// `lvs_flush_on_stop VS`: delete the configured virtual servers only
    /// (the kernel drops their real servers with them). The resulting table
    /// is the same as with [`StopPolicy::RemoveOwn`].
    VirtualServers,
    /// `lvs_flush_on_stop` without a value: `IPVS_CMD_FLUSH`, the whole
    /// table goes, services other tools created included.
    FlushAll,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MockIpvs;

    const fn t(tcp: u32, tcp_fin: u32, udp: u32) -> Timeouts {
        Timeouts { tcp, tcp_fin, udp }
    }

    #[test]
    fn nothing_configured_sends_nothing_at_start_reload_or_stop() {
        let mut k = TimeoutKeeper::new();
        let mut m = MockIpvs::new();
        for want in [None, Some(Timeouts::default()), None] {
            assert_eq!(
                apply_timeouts(&mut m, &mut k, want).unwrap(),
                TimeoutOutcome::Unchanged
            );
        }
        assert_eq!(m.timeout_reads, 0);
        assert!(m.timeout_log.is_empty());
    }

    #[test]
    fn start_reads_originals_once_and_fills_unconfigured_fields_from_them() {
        let mut k = TimeoutKeeper::new();
        let mut m = MockIpvs::new();
        m.timeouts = t(7200, 60, 30);
        // lvs_timeouts tcp 900
        let out = apply_timeouts(&mut m, &mut k, Some(t(900, 0, 0))).unwrap();
        assert_eq!(out, TimeoutOutcome::Set(t(900, 60, 30)));
        assert_eq!(m.timeouts, t(900, 60, 30));
        assert_eq!(m.timeout_reads, 1);
        // Reload to lvs_timeouts udp 10: tcp goes back to the original 7200.
        let out = apply_timeouts(&mut m, &mut k, Some(t(0, 0, 10))).unwrap();
        assert_eq!(out, TimeoutOutcome::Set(t(7200, 60, 10)));
        assert_eq!(m.timeout_reads, 1, "originals are read once");
        // Reload without lvs_timeouts: originals restored.
        apply_timeouts(&mut m, &mut k, None).unwrap();
        assert_eq!(m.timeouts, t(7200, 60, 30));
        // Stop: restored again (keepalived's ipvs_stop always restores once saved).
        apply_timeouts(&mut m, &mut k, None).unwrap();
        assert_eq!(m.timeout_log.len(), 4);
        assert_eq!(m.timeouts, t(7200, 60, 30));
    }

    #[test]
    fn unreadable_originals_send_configured_values_and_read_again_next_time() {
        let mut k = TimeoutKeeper::new();
        assert_eq!(k.next(Some(t(100, 0, 0))), TimeoutStep::ReadOriginal);
        k.original_unreadable();
        assert_eq!(k.next(Some(t(100, 0, 0))), TimeoutStep::Set(t(100, 0, 0)));
        k.sent();
        assert_eq!(k.next(Some(t(100, 0, 0))), TimeoutStep::ReadOriginal);
        // Nothing saved: a restore sends nothing.
        assert_eq!(k.next(None), TimeoutStep::Nothing);
        // A zero TCP value does not count as saved (keepalived's test).
        k.got_original(t(0, 5, 5));
        assert_eq!(k.original(), None);
        assert_eq!(k.next(Some(t(100, 0, 0))), TimeoutStep::Set(t(100, 0, 0)));
    }

    #[test]
    fn rejected_set_is_an_error_and_keeps_the_originals() {
        let mut k = TimeoutKeeper::new();
        let mut m = MockIpvs::new();
        m.inject.push_back(crate::Errno::Invalid);
        assert!(apply_timeouts(&mut m, &mut k, Some(t(1, 2, 3))).is_err());
        assert_eq!(m.timeouts, KERNEL_DEFAULT_TIMEOUTS);
        assert_eq!(k.original(), Some(KERNEL_DEFAULT_TIMEOUTS));
        assert_eq!(
            apply_timeouts(&mut m, &mut k, Some(t(1, 2, 3))).unwrap(),
            TimeoutOutcome::Set(t(1, 2, 3))
        );
        assert_eq!(m.timeout_reads, 1);
    }
}
