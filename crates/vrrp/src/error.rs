//! Typed errors of the VRRP IO edge, grouped by where they happen.

use std::io;

/// Top-level error returned by [`crate::run`].
#[derive(Debug, thiserror::Error)]
pub enum VrrpError {
    #[error("socket: {0}")]
    Socket(#[from] SocketError),
    #[error("netlink: {0}")]
    Netlink(#[from] NetlinkError),
    #[error("configuration: {0}")]
    Config(String),
}

/// Errors on raw VRRP / AF_PACKET sockets.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("cannot open {what} socket: {source}")]
    Open {
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("cannot set {option} on {iface}: {source}")]
    Option {
        option: &'static str,
        iface: String,
        #[source]
        source: io::Error,
    },
    #[error("send on {iface} failed: {source}")]
    Send {
        iface: String,
        #[source]
        source: io::Error,
    },
    #[error("receive on {iface} failed: {source}")]
    Recv {
        iface: String,
        #[source]
        source: io::Error,
    },
    #[error("interface {0} not found")]
    NoInterface(String),
    #[error("interface {iface} has no usable {family} source address")]
    NoSourceAddress { iface: String, family: &'static str },
}

/// Errors talking rtnetlink (addresses, routes, rules, links).
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("cannot open rtnetlink socket: {0}")]
    Connect(#[source] io::Error),
    #[error("{op} {target} failed: {source}")]
    Request {
        op: &'static str,
        target: String,
        #[source]
        source: rtnetlink::Error,
    },
    #[error("interface {0} not found")]
    LinkNotFound(String),
}

impl NetlinkError {
    /// The kernel errno behind a failed request, if any (e.g. EEXIST, ESRCH).
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Request {
                source: rtnetlink::Error::NetlinkError(msg),
                ..
            } => msg.code.map(|c| -c.get()),
            _ => None,
        }
    }
}
