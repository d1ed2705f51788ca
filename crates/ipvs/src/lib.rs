//! IPVS (Linux Virtual Server) programming for rkeepalived.
//!
//! * [`model`]: pure description of services and real servers.
//! * [`reconcile()`]: minimal ops from a desired state and a kernel dump.
//! * [`IpvsBackend`]: the kernel seam; [`MockIpvs`] for tests.
//!
//! See `README.md` in this crate for the API other crates should use.

pub mod backend;
pub mod error;
pub mod globals;
pub mod ipvsadm;
pub mod mock;
pub mod model;
pub mod netlink;
pub mod netns;
pub mod reconcile;
pub mod syncd;

pub use backend::{sync, sync_from, IpvsBackend, SyncReport};
pub use error::{DecodeError, Errno, IpvsError};
pub use globals::{apply_timeouts, StopPolicy, TimeoutKeeper, TimeoutOutcome, TimeoutStep};
pub use mock::{MockIpvs, TableIpvs};
pub use model::{
    Dest, DestKey, Family, Forwarding, IpvsState, Op, Protocol, Scheduler, Service, ServiceEntry,
    ServiceFlags, ServiceKey, TunnelFlags, TunnelType,
};
pub use netlink::{AsyncNetlinkIpvs, NetlinkIpvs};
pub use reconcile::{reconcile, reconcile_dest, reconcile_service, OwnedSet};

#[cfg(test)]
mod tests;
