//! Typed errors, grouped by where they happen: the socket, the kernel's
//! answer, decoding the kernel's bytes, and requests we refuse to send.

use crate::model::Op;

/// Errno the kernel (or [`crate::MockIpvs`]) returned for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Errno {
    /// EEXIST: service or dest already present.
    Exists,
    /// ESRCH: the virtual service does not exist.
    NoSuchService,
    /// ENOENT: dest, scheduler module or persistence engine not found.
    NotFound,
    /// EINVAL: malformed or inconsistent request.
    Invalid,
    /// ERANGE: weight or threshold out of range.
    Range,
    /// EPERM / EACCES: missing CAP_NET_ADMIN.
    Permission,
    /// EBUSY
    Busy,
    /// ENOMEM
    NoMemory,
    /// EAFNOSUPPORT: address family not supported (e.g. IPv6 disabled).
    FamilyNotSupported,
    Other(i32),
}

impl Errno {
    pub fn from_raw(errno: i32) -> Errno {
        match errno {
            libc::EEXIST => Errno::Exists,
            libc::ESRCH => Errno::NoSuchService,
            libc::ENOENT => Errno::NotFound,
            libc::EINVAL => Errno::Invalid,
            libc::ERANGE => Errno::Range,
            libc::EPERM | libc::EACCES => Errno::Permission,
            libc::EBUSY => Errno::Busy,
            libc::ENOMEM => Errno::NoMemory,
            libc::EAFNOSUPPORT => Errno::FamilyNotSupported,
            other => Errno::Other(other),
        }
    }

    pub fn raw(self) -> i32 {
        match self {
            Errno::Exists => libc::EEXIST,
            Errno::NoSuchService => libc::ESRCH,
            Errno::NotFound => libc::ENOENT,
            Errno::Invalid => libc::EINVAL,
            Errno::Range => libc::ERANGE,
            Errno::Permission => libc::EPERM,
            Errno::Busy => libc::EBUSY,
            Errno::NoMemory => libc::ENOMEM,
            Errno::FamilyNotSupported => libc::EAFNOSUPPORT,
            Errno::Other(e) => e,
        }
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Errno::Exists => "already exists",
            Errno::NoSuchService => "no such service",
            Errno::NotFound => "no such destination, scheduler or persistence engine",
            Errno::Invalid => "invalid argument",
            Errno::Range => "value out of range",
            Errno::Permission => "permission denied (need CAP_NET_ADMIN)",
            Errno::Busy => "busy",
            Errno::NoMemory => "out of memory",
            Errno::FamilyNotSupported => "address family not supported",
            Errno::Other(_) => "error",
        };
        write!(f, "{text} (errno {})", self.raw())
    }
}

/// Why bytes from the kernel (or a capture) could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("buffer truncated: need {need} bytes, have {have}")]
    Truncated { need: usize, have: usize },
    #[error("netlink attribute length {len} invalid at offset {offset}")]
    BadNlaLength { offset: usize, len: usize },
    #[error("attribute {name}: expected {expected} bytes, got {got}")]
    BadAttrSize {
        name: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("missing attribute {0}")]
    Missing(&'static str),
    #[error("unknown address family {0}")]
    BadFamily(u16),
    #[error("unknown forwarding method {0}")]
    BadForwarding(u32),
    #[error("unknown tunnel type {0}")]
    BadTunnelType(u8),
    #[error("attribute {0} is not valid UTF-8 / NUL-terminated text")]
    BadString(&'static str),
    #[error("netlink message length {len} invalid")]
    BadMessageLength { len: usize },
    #[error("unexpected netlink message type {0}")]
    UnexpectedMessageType(u16),
    #[error("unexpected generic netlink command {0}")]
    UnexpectedCommand(u8),
}

/// Everything that can go wrong talking to IPVS.
#[derive(Debug, thiserror::Error)]
pub enum IpvsError {
    #[error("netlink socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("generic netlink family \"IPVS\" not found: is the ip_vs module loaded?")]
    FamilyNotFound,
    #[error("kernel rejected {op}: {errno}")]
    Kernel { op: String, errno: Errno },
    #[error("cannot decode kernel reply: {0}")]
    Decode(#[from] DecodeError),
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl IpvsError {
    pub fn kernel(op: &Op, errno: Errno) -> IpvsError {
        IpvsError::Kernel {
            op: op.to_string(),
            errno,
        }
    }

    /// The kernel errno, if this is a kernel rejection.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            IpvsError::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}
