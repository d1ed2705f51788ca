//! IPVS over generic netlink: attribute codec, messages, and the client.

pub mod attrs;
pub mod client;
pub mod frame;
pub mod message;

pub use attrs::{cmd, CmdAttr, DaemonAttr, DestAttr, StatsAttr, SvcAttr};
pub use client::{AsyncNetlinkIpvs, ClientCounters, NetlinkIpvs, ServiceDump};
pub use frame::{parse_frames, Frame};
pub use message::{
    encode_request, op_message, DaemonState, DestInfo, IpvsInfo, IpvsMessage, ServiceInfo, Stats,
    SyncDaemon, Timeouts,
};
