//! The seam between the reconciler and the kernel: [`IpvsBackend`] and
//! [`sync`], which dumps, reconciles and applies in one step. The in-memory
//! stand-ins ([`MockIpvs`](crate::MockIpvs), [`TableIpvs`](crate::TableIpvs))
//! live in [`crate::mock`].

use crate::error::IpvsError;
use crate::model::{DestKey, IpvsState, Op, ServiceKey};
use crate::netlink::{DaemonState, SyncDaemon, Timeouts};
use crate::reconcile::{reconcile, OwnedSet};

/// Something that holds an IPVS table: the kernel (via netlink) or a mock.
pub trait IpvsBackend {
    /// Read the whole table (services and their dests).
    fn dump(&mut self) -> Result<IpvsState, IpvsError>;

    /// Apply one op.
    fn apply(&mut self, op: &Op) -> Result<(), IpvsError>;

    /// Apply many ops; one result per op, in order. Backends that can
    /// pipeline (netlink) override this; a failed op doesn't stop the rest.
    fn apply_batch(&mut self, ops: &[Op]) -> Vec<Result<(), IpvsError>> {
        ops.iter().map(|op| self.apply(op)).collect()
    }

    /// The connection timeouts (`IPVS_CMD_GET_CONFIG`). Backends without
    /// table-wide settings refuse.
    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        Err(IpvsError::InvalidRequest(
            "this IPVS backend has no timeouts".into(),
        ))
    }

    /// Set the connection timeouts (`IPVS_CMD_SET_CONFIG`; a zero field
    /// leaves that timeout unchanged, as in the kernel).
    fn set_timeouts(&mut self, t: Timeouts) -> Result<(), IpvsError> {
        let _ = t;
        Err(IpvsError::InvalidRequest(
            "this IPVS backend has no timeouts".into(),
        ))
    }

    /// Start a connection-sync daemon (`IPVS_CMD_NEW_DAEMON`).
    fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
        let _ = d;
        Err(IpvsError::InvalidRequest(
            "this IPVS backend has no sync daemons".into(),
        ))
    }

    /// Stop a connection-sync daemon (`IPVS_CMD_DEL_DAEMON`).
    fn stop_daemon(&mut self, state: DaemonState) -> Result<(), IpvsError> {
        let _ = state;
        Err(IpvsError::InvalidRequest(
            "this IPVS backend has no sync daemons".into(),
        ))
    }

    /// The active connection count of each dest of one service
    /// (`IPVS_DEST_ATTR_ACTIVE_CONNS` of a `GET_DEST` dump, ipvsadm's
    /// ActiveConn). Backends without connections refuse.
    fn active_conns(&mut self, service: &ServiceKey) -> Result<Vec<(DestKey, u32)>, IpvsError> {
        let _ = service;
        Err(IpvsError::InvalidRequest(
            "this IPVS backend has no connection counters".into(),
        ))
    }
}

impl<B: IpvsBackend + ?Sized> IpvsBackend for Box<B> {
    fn dump(&mut self) -> Result<IpvsState, IpvsError> {
        (**self).dump()
    }
    fn apply(&mut self, op: &Op) -> Result<(), IpvsError> {
        (**self).apply(op)
    }
    fn apply_batch(&mut self, ops: &[Op]) -> Vec<Result<(), IpvsError>> {
        (**self).apply_batch(ops)
    }
    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        (**self).timeouts()
    }
    fn set_timeouts(&mut self, t: Timeouts) -> Result<(), IpvsError> {
        (**self).set_timeouts(t)
    }
    fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
        (**self).start_daemon(d)
    }
    fn stop_daemon(&mut self, state: DaemonState) -> Result<(), IpvsError> {
        (**self).stop_daemon(state)
    }
    fn active_conns(&mut self, service: &ServiceKey) -> Result<Vec<(DestKey, u32)>, IpvsError> {
        (**self).active_conns(service)
    }
}

/// Outcome of one [`sync`] pass.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Ops the reconciler planned.
    pub planned: Vec<Op>,
    /// Ops the backend accepted.
    pub applied: usize,
    /// Ops the backend rejected, with why.
    pub failed: Vec<(Op, IpvsError)>,
}

impl SyncReport {
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Dump the backend, reconcile against `desired`, apply the ops and update
/// `owned` (entries we created become ours; entries we failed to delete
/// stay ours so the next pass retries). Errors on individual ops are
/// reported, not fatal; only a failed dump is.
pub fn sync<B: IpvsBackend + ?Sized>(
    backend: &mut B,
    desired: &IpvsState,
    owned: &mut OwnedSet,
) -> Result<SyncReport, IpvsError> {
    let current = backend.dump()?;
    Ok(sync_from(backend, desired, &current, owned))
}

/// [`sync`] against a `current` table the caller already dumped (so a
/// caller can skip building `desired` while the dump fails).
pub fn sync_from<B: IpvsBackend + ?Sized>(
    backend: &mut B,
    desired: &IpvsState,
    current: &IpvsState,
    owned: &mut OwnedSet,
) -> SyncReport {
    let planned = reconcile(desired, current, owned);
    let results = backend.apply_batch(&planned);
    let mut report = SyncReport {
        planned: planned.clone(),
        ..SyncReport::default()
    };
    for (op, result) in planned.into_iter().zip(results) {
        match result {
            Ok(()) => report.applied += 1,
            Err(e) => {
                tracing::warn!(%op, error = %e, "IPVS op failed");
                report.failed.push((op, e));
            }
        }
    }
    owned.record(desired);
    owned.retain_relevant(desired, current);
    report
}
