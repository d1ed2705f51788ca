//! BFD (RFC 5880 / RFC 5881 single-hop, IPv4 and IPv6) as keepalived 2.2.7's
//! bfd process runs it.
//!
//! * [`wire`]: the Control packet codec and the reception checks, each
//!   failure a [`wire::DropReason`] with its own counter.
//! * [`session`]: the sans-IO session state machine (time in, outputs out).
//! * [`socket`]: the RFC 5881 UDP edge (port 3784 in, 49152–65535 out,
//!   TTL / hop limit sent and checked).
//! * [`scope`]: the interface of an IPv6 link-local session.
//! * [`engine`]: a tokio engine running N sessions from plain
//!   [`SessionConfig`]s, reporting `(name, SessionState)` changes.
//!
//! See the crate README for the RFC sections covered and the differences
//! from keepalived.

pub mod engine;
pub mod rng;
pub mod scope;
pub mod session;
pub mod socket;
pub mod wire;

pub use engine::{
    BfdEngine, BfdEvent, BfdHandle, DropCounters, EngineError, SessionConfig, SessionInfo,
};
pub use session::{SessionParams, SessionState};
pub use wire::{ControlPacket, Diag, DropReason, State};
