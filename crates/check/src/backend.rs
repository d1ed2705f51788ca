//! IPVS backends for the engine: the kernel via the ipvs crate's netlink
//! client (connected lazily, reconnected after errors, so a host without
//! IPVS keeps the engine running), any injected backend, and a shareable
//! wrapper for tests.

use std::sync::{Arc, Mutex};

use rkeepalived_ipvs::netlink::{DaemonState, ServiceDump, SyncDaemon, Timeouts};
use rkeepalived_ipvs::{DestKey, IpvsBackend, IpvsError, IpvsState, NetlinkIpvs, Op, ServiceKey};

/// The kernel, through generic netlink.
#[derive(Default)]
pub struct KernelIpvs {
    client: Option<NetlinkIpvs>,
}

impl KernelIpvs {
    pub fn new() -> Self {
        Self { client: None }
    }

    fn client(&mut self) -> Result<&mut NetlinkIpvs, IpvsError> {
        match &mut self.client {
            Some(c) => Ok(c),
            slot @ None => Ok(slot.insert(NetlinkIpvs::connect()?)),
        }
    }

    /// Services and dests with counters, for metrics.
    pub fn stats(&mut self) -> Result<Vec<ServiceDump>, IpvsError> {
        let result = self.client()?.dump_all();
        if result.is_err() {
            self.client = None;
        }
        result
    }
}

impl IpvsBackend for KernelIpvs {
    fn dump(&mut self) -> Result<IpvsState, IpvsError> {
        let result = self.client()?.dump();
        if result.is_err() {
            // Reconnect next time (module unloaded, socket trouble...).
            self.client = None;
        }
        result
    }

    fn apply(&mut self, op: &Op) -> Result<(), IpvsError> {
        self.client()?.apply(op)
    }

    fn apply_batch(&mut self, ops: &[Op]) -> Vec<Result<(), IpvsError>> {
        match self.client() {
            Ok(c) => c.apply_batch(ops),
            Err(e) => {
                let msg = e.to_string();
                ops.iter()
                    .map(|_| Err(IpvsError::InvalidRequest(msg.clone())))
                    .collect()
            }
        }
    }

    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        let result = self.client()?.timeouts();
        if result.is_err() {
            self.client = None;
        }
        result
    }

    fn set_timeouts(&mut self, t: Timeouts) -> Result<(), IpvsError> {
        self.client()?.set_timeouts(t)
    }

    fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
        self.client()?.start_daemon(d)
    }

    fn stop_daemon(&mut self, state: DaemonState) -> Result<(), IpvsError> {
        self.client()?.stop_daemon(state)
    }

    fn active_conns(&mut self, service: &ServiceKey) -> Result<Vec<(DestKey, u32)>, IpvsError> {
        self.client()?.active_conns(service)
    }
}

/// A backend shared with the test that injected it (inspect the table while the engine runs).
pub struct SharedBackend<B>(pub Arc<Mutex<B>>);

impl<B> Clone for SharedBackend<B> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<B: IpvsBackend> IpvsBackend for SharedBackend<B> {
    fn dump(&mut self) -> Result<IpvsState, IpvsError> {
        self.0
            .lock()
            .map_err(|_| IpvsError::InvalidRequest("backend lock poisoned".into()))?
            .dump()
    }

    fn apply(&mut self, op: &Op) -> Result<(), IpvsError> {
        self.0
            .lock()
            .map_err(|_| IpvsError::InvalidRequest("backend lock poisoned".into()))?
            .apply(op)
    }

    fn apply_batch(&mut self, ops: &[Op]) -> Vec<Result<(), IpvsError>> {
        match self.0.lock() {
            Ok(mut b) => b.apply_batch(ops),
            Err(_) => ops
                .iter()
                .map(|_| Err(IpvsError::InvalidRequest("backend lock poisoned".into())))
                .collect(),
        }
    }

    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        self.0
            .lock()
            .map_err(|_| IpvsError::InvalidRequest("backend lock poisoned".into()))?
            .timeouts()
    }

    fn set_timeouts(&mut self, t: Timeouts) -> Result<(), IpvsError> {
        self.0
            .lock()
            .map_err(|_| IpvsError::InvalidRequest("backend lock poisoned".into()))?
            .set_timeouts(t)
    }

    fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
        self.0
            .lock()
            .map_err(|_| IpvsError::InvalidRequest("backend lock poisoned".into()))?
            .start_daemon(d)
    }

    fn stop_daemon(&mut self, state: DaemonState) -> Result<(), IpvsError> {
        self.0
            .lock()
            .map_err(|_| IpvsError::InvalidRequest("backend lock poisoned".into()))?
            .stop_daemon(state)
    }

    fn active_conns(&mut self, service: &ServiceKey) -> Result<Vec<(DestKey, u32)>, IpvsError> {
        self.0
            .lock()
            .map_err(|_| IpvsError::InvalidRequest("backend lock poisoned".into()))?
            .active_conns(service)
    }
}

/// What the engine programs.
pub enum EngineBackend {
    Kernel(KernelIpvs),
    Custom(Box<dyn IpvsBackend + Send>),
}

impl EngineBackend {
    pub fn as_backend(&mut self) -> &mut dyn IpvsBackend {
        match self {
            EngineBackend::Kernel(k) => k,
            EngineBackend::Custom(b) => b.as_mut(),
        }
    }

    /// A dump of the whole table that can run on another thread (its own
    /// netlink socket), for the background resync; `None` for injected
    /// backends, which the engine dumps in place.
    #[allow(clippy::type_complexity)]
    pub fn background_dumper(
        &self,
    ) -> Option<Box<dyn FnOnce() -> Result<IpvsState, IpvsError> + Send>> {
        match self {
            EngineBackend::Kernel(_) => Some(Box::new(|| NetlinkIpvs::connect()?.dump())),
            EngineBackend::Custom(_) => None,
        }
    }

    /// Kernel counters when programming the kernel.
    pub fn stats(&mut self) -> Option<Vec<ServiceDump>> {
        match self {
            EngineBackend::Kernel(k) => k.stats().ok(),
            EngineBackend::Custom(_) => None,
        }
    }
}
