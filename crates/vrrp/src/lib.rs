//! VRRP engine (RFC 3768 v2, RFC 5798 v3) for IPv4 and IPv6.
//!
//! Pure core: [`packet`] (codec), [`fsm`] (state machine: events in, actions out).
//! IO edge: sockets, gratuitous ARP / unsolicited NA, VIPs via rtnetlink.

pub mod fsm;
pub mod packet;
pub mod sync_group;
pub mod track;

pub mod addr;
pub mod engine;
pub mod error;
pub mod garp;
pub mod instance;
pub mod metrics;
pub mod notify;
pub mod socket;
pub mod watch;
mod sys;

pub use error::{NetlinkError, SocketError, VrrpError};
pub use engine::run;
