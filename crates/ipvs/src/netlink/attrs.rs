//! Level 1 of the codec: typed netlink attributes of the IPVS family, one
//! enum per nesting level, as laid out in `include/uapi/linux/ip_vs.h`
//! ("IPVS Generic Netlink interface definitions"). Parsing is over the
//! checked [`NlaBuffer`] view of netlink-packet-core; unknown attributes
//! are kept verbatim (`Other`) so a decode -> encode round trip is lossless.

use netlink_packet_core::{DefaultNla, Nla, NlaBuffer, NlasIterator, NLA_F_NESTED};

use crate::error::DecodeError;

/// `IPVS_CMD_*` (ip_vs.h: "Generic Netlink command attributes").
pub mod cmd {
    pub const NEW_SERVICE: u8 = 1;
    pub const SET_SERVICE: u8 = 2;
    pub const DEL_SERVICE: u8 = 3;
    pub const GET_SERVICE: u8 = 4;
    pub const NEW_DEST: u8 = 5;
    pub const SET_DEST: u8 = 6;
    pub const DEL_DEST: u8 = 7;
    pub const GET_DEST: u8 = 8;
    pub const NEW_DAEMON: u8 = 9;
    pub const DEL_DAEMON: u8 = 10;
    pub const GET_DAEMON: u8 = 11;
    pub const SET_CONFIG: u8 = 12;
    pub const GET_CONFIG: u8 = 13;
    pub const SET_INFO: u8 = 14;
    pub const GET_INFO: u8 = 15;
    pub const ZERO: u8 = 16;
    pub const FLUSH: u8 = 17;
}

/// `IPVS_CMD_ATTR_*`
const CMD_ATTR_SERVICE: u16 = 1;
const CMD_ATTR_DEST: u16 = 2;
const CMD_ATTR_DAEMON: u16 = 3;
const CMD_ATTR_TIMEOUT_TCP: u16 = 4;
const CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
const CMD_ATTR_TIMEOUT_UDP: u16 = 6;

/// `IPVS_SVC_ATTR_*`
const SVC_AF: u16 = 1;
const SVC_PROTOCOL: u16 = 2;
const SVC_ADDR: u16 = 3;
const SVC_PORT: u16 = 4;
const SVC_FWMARK: u16 = 5;
const SVC_SCHED_NAME: u16 = 6;
const SVC_FLAGS: u16 = 7;
const SVC_TIMEOUT: u16 = 8;
const SVC_NETMASK: u16 = 9;
const SVC_STATS: u16 = 10;
const SVC_PE_NAME: u16 = 11;
const SVC_STATS64: u16 = 12;

/// `IPVS_DEST_ATTR_*`
const DEST_ADDR: u16 = 1;
const DEST_PORT: u16 = 2;
const DEST_FWD_METHOD: u16 = 3;
const DEST_WEIGHT: u16 = 4;
const DEST_U_THRESH: u16 = 5;
const DEST_L_THRESH: u16 = 6;
const DEST_ACTIVE_CONNS: u16 = 7;
const DEST_INACT_CONNS: u16 = 8;
const DEST_PERSIST_CONNS: u16 = 9;
const DEST_STATS: u16 = 10;
const DEST_ADDR_FAMILY: u16 = 11;
const DEST_STATS64: u16 = 12;
const DEST_TUN_TYPE: u16 = 13;
const DEST_TUN_PORT: u16 = 14;
const DEST_TUN_FLAGS: u16 = 15;

/// `IPVS_DAEMON_ATTR_*`
const DAEMON_STATE: u16 = 1;
const DAEMON_MCAST_IFN: u16 = 2;
const DAEMON_SYNC_ID: u16 = 3;
const DAEMON_SYNC_MAXLEN: u16 = 4;
const DAEMON_MCAST_GROUP: u16 = 5;
const DAEMON_MCAST_GROUP6: u16 = 6;
const DAEMON_MCAST_PORT: u16 = 7;
const DAEMON_MCAST_TTL: u16 = 8;

/// `IPVS_INFO_ATTR_*` (top level of a GET_INFO reply)
const INFO_VERSION: u16 = 1;
const INFO_CONN_TAB_SIZE: u16 = 2;

/// Whether nested attributes we emit carry `NLA_F_NESTED`. libnl's
/// `nla_nest_start()` sets it (observed in ipvsadm 1.31 / libnl 3.7
/// captures), the kernel accepts both; we match ipvsadm byte for byte.
const EMIT_NESTED_FLAG: bool = true;

fn nested_kind(kind: u16) -> u16 {
    if EMIT_NESTED_FLAG {
        kind | NLA_F_NESTED
    } else {
        kind
    }
}

// ---------- value readers (checked) ----------

fn exact<const N: usize>(name: &'static str, v: &[u8]) -> Result<[u8; N], DecodeError> {
    v.try_into().map_err(|_| DecodeError::BadAttrSize {
        name,
        expected: N,
        got: v.len(),
    })
}

fn u8_of(name: &'static str, v: &[u8]) -> Result<u8, DecodeError> {
    Ok(exact::<1>(name, v)?[0])
}
fn u16_of(name: &'static str, v: &[u8]) -> Result<u16, DecodeError> {
    Ok(u16::from_ne_bytes(exact(name, v)?))
}
fn be16_of(name: &'static str, v: &[u8]) -> Result<u16, DecodeError> {
    Ok(u16::from_be_bytes(exact(name, v)?))
}
fn u32_of(name: &'static str, v: &[u8]) -> Result<u32, DecodeError> {
    Ok(u32::from_ne_bytes(exact(name, v)?))
}
fn u64_of(name: &'static str, v: &[u8]) -> Result<u64, DecodeError> {
    Ok(u64::from_ne_bytes(exact(name, v)?))
}
/// NLA_NUL_STRING: text up to the first NUL (the kernel always sends one).
fn string_of(name: &'static str, v: &[u8]) -> Result<String, DecodeError> {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    std::str::from_utf8(&v[..end])
        .map(str::to_owned)
        .map_err(|_| DecodeError::BadString(name))
}

/// Iterate the attributes in `buf`, mapping framing errors to ours.
pub(crate) fn nlas(buf: &[u8]) -> impl Iterator<Item = Result<NlaBuffer<&[u8]>, DecodeError>> {
    let mut offset = 0usize;
    NlasIterator::new(buf).map(move |r| match r {
        Ok(nla) => {
            offset += (nla.length() as usize + 3) & !3;
            Ok(nla)
        }
        Err(_) => Err(DecodeError::BadNlaLength {
            offset,
            len: buf.len().saturating_sub(offset),
        }),
    })
}

fn parse_all<T>(
    buf: &[u8],
    mut one: impl FnMut(&NlaBuffer<&[u8]>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    nlas(buf).map(|r| r.and_then(|nla| one(&nla))).collect()
}

fn other(nla: &NlaBuffer<&[u8]>) -> DefaultNla {
    let mut kind = nla.kind();
    if nla.nested_flag() {
        kind |= NLA_F_NESTED;
    }
    if nla.network_byte_order_flag() {
        kind |= netlink_packet_core::NLA_F_NET_BYTEORDER;
    }
    DefaultNla::new(kind, nla.value().to_vec())
}

/// One attribute's type, value size and value bytes. Emission writes the
/// type verbatim (flags included): netlink-packet-core's `Nla` emitter
/// drops `NLA_F_NET_BYTEORDER` when `NLA_F_NESTED` is also set, which would
/// break the round trip of unknown attributes (found by the fuzzer).
pub trait AttrValue {
    fn kind(&self) -> u16;
    fn value_len(&self) -> usize;
    fn emit_value(&self, buf: &mut [u8]);
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Bytes one attribute takes, header and padding included.
pub fn attr_len<T: AttrValue>(attr: &T) -> usize {
    4 + align4(attr.value_len())
}

/// Bytes a list of attributes takes.
pub fn attrs_len<T: AttrValue>(attrs: &[T]) -> usize {
    attrs.iter().map(attr_len).sum()
}

/// Write `attrs` into `buf`, which must be exactly `attrs_len(attrs)` long.
pub fn emit_attrs<T: AttrValue>(attrs: &[T], buf: &mut [u8]) {
    let mut at = 0;
    for attr in attrs {
        let len = attr.value_len();
        // A value over 65531 bytes cannot be represented; the cast keeps
        // emission panic-free and the length check on decode rejects it.
        buf[at..at + 2].copy_from_slice(&((len + 4) as u16).to_ne_bytes());
        buf[at + 2..at + 4].copy_from_slice(&attr.kind().to_ne_bytes());
        attr.emit_value(&mut buf[at + 4..at + 4 + len]);
        buf[at + 4 + len..at + 4 + align4(len)].fill(0);
        at += 4 + align4(len);
    }
}

fn emit_nested<T: AttrValue>(items: &[T], buf: &mut [u8]) {
    emit_attrs(items, buf)
}

fn nested_len<T: AttrValue>(items: &[T]) -> usize {
    attrs_len(items)
}

// ---------- statistics ----------

/// `IPVS_STATS_ATTR_*` entry. Inside `*_ATTR_STATS` the counters are u32
/// except the byte counters (u64); inside `*_ATTR_STATS64` all are u64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsAttr {
    U32(u16, u32),
    U64(u16, u64),
    /// `IPVS_STATS_ATTR_PAD` and unknown attributes.
    Other(DefaultNla),
}

pub mod stats_kind {
    pub const CONNS: u16 = 1;
    pub const INPKTS: u16 = 2;
    pub const OUTPKTS: u16 = 3;
    pub const INBYTES: u16 = 4;
    pub const OUTBYTES: u16 = 5;
    pub const CPS: u16 = 6;
    pub const INPPS: u16 = 7;
    pub const OUTPPS: u16 = 8;
    pub const INBPS: u16 = 9;
    pub const OUTBPS: u16 = 10;
}

impl AttrValue for StatsAttr {
    fn value_len(&self) -> usize {
        match self {
            StatsAttr::U32(..) => 4,
            StatsAttr::U64(..) => 8,
            StatsAttr::Other(o) => o.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            StatsAttr::U32(k, _) | StatsAttr::U64(k, _) => *k,
            StatsAttr::Other(o) => o.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            StatsAttr::U32(_, v) => buf.copy_from_slice(&v.to_ne_bytes()),
            StatsAttr::U64(_, v) => buf.copy_from_slice(&v.to_ne_bytes()),
            StatsAttr::Other(o) => o.emit_value(buf),
        }
    }
}

fn parse_stats(buf: &[u8]) -> Result<Vec<StatsAttr>, DecodeError> {
    parse_all(buf, |nla| {
        let v = nla.value();
        Ok(match (nla.kind(), v.len()) {
            (1..=10, 4) => StatsAttr::U32(nla.kind(), u32_of("stats", v)?),
            (1..=10, 8) => StatsAttr::U64(nla.kind(), u64_of("stats", v)?),
            (1..=10, got) => {
                return Err(DecodeError::BadAttrSize {
                    name: "stats counter",
                    expected: 8,
                    got,
                })
            }
            _ => StatsAttr::Other(other(nla)),
        })
    })
}

// ---------- service ----------

/// Attributes inside `IPVS_CMD_ATTR_SERVICE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SvcAttr {
    Af(u16),
    Protocol(u16),
    /// `union nf_inet_addr`: 16 bytes on the wire (4 accepted on input).
    Addr(Vec<u8>),
    /// Host order here; network order on the wire.
    Port(u16),
    Fwmark(u32),
    SchedName(String),
    /// `struct ip_vs_flags { flags, mask }`
    Flags {
        flags: u32,
        mask: u32,
    },
    Timeout(u32),
    /// Raw `__be32` bytes: an IPv4 netmask, or an IPv6 prefix length in host order.
    Netmask([u8; 4]),
    Stats(Vec<StatsAttr>),
    PeName(String),
    Stats64(Vec<StatsAttr>),
    Other(DefaultNla),
}

impl AttrValue for SvcAttr {
    fn value_len(&self) -> usize {
        match self {
            SvcAttr::Af(_) | SvcAttr::Protocol(_) | SvcAttr::Port(_) => 2,
            SvcAttr::Addr(a) => a.len(),
            SvcAttr::Fwmark(_) | SvcAttr::Timeout(_) | SvcAttr::Netmask(_) => 4,
            SvcAttr::SchedName(s) | SvcAttr::PeName(s) => s.len() + 1,
            SvcAttr::Flags { .. } => 8,
            SvcAttr::Stats(s) | SvcAttr::Stats64(s) => nested_len(s),
            SvcAttr::Other(o) => o.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            SvcAttr::Af(_) => SVC_AF,
            SvcAttr::Protocol(_) => SVC_PROTOCOL,
            SvcAttr::Addr(_) => SVC_ADDR,
            SvcAttr::Port(_) => SVC_PORT,
            SvcAttr::Fwmark(_) => SVC_FWMARK,
            SvcAttr::SchedName(_) => SVC_SCHED_NAME,
            SvcAttr::Flags { .. } => SVC_FLAGS,
            SvcAttr::Timeout(_) => SVC_TIMEOUT,
            SvcAttr::Netmask(_) => SVC_NETMASK,
            SvcAttr::Stats(_) => nested_kind(SVC_STATS),
            SvcAttr::PeName(_) => SVC_PE_NAME,
            SvcAttr::Stats64(_) => nested_kind(SVC_STATS64),
            SvcAttr::Other(o) => o.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            SvcAttr::Af(v) | SvcAttr::Protocol(v) => buf.copy_from_slice(&v.to_ne_bytes()),
            SvcAttr::Port(v) => buf.copy_from_slice(&v.to_be_bytes()),
            SvcAttr::Addr(a) => buf.copy_from_slice(a),
            SvcAttr::Fwmark(v) | SvcAttr::Timeout(v) => buf.copy_from_slice(&v.to_ne_bytes()),
            SvcAttr::Netmask(m) => buf.copy_from_slice(m),
            SvcAttr::SchedName(s) | SvcAttr::PeName(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            SvcAttr::Flags { flags, mask } => {
                buf[..4].copy_from_slice(&flags.to_ne_bytes());
                buf[4..].copy_from_slice(&mask.to_ne_bytes());
            }
            SvcAttr::Stats(s) | SvcAttr::Stats64(s) => emit_nested(s, buf),
            SvcAttr::Other(o) => o.emit_value(buf),
        }
    }
}

pub(crate) fn parse_svc(buf: &[u8]) -> Result<Vec<SvcAttr>, DecodeError> {
    parse_all(buf, |nla| {
        let v = nla.value();
        Ok(match nla.kind() {
            SVC_AF => SvcAttr::Af(u16_of("IPVS_SVC_ATTR_AF", v)?),
            SVC_PROTOCOL => SvcAttr::Protocol(u16_of("IPVS_SVC_ATTR_PROTOCOL", v)?),
            SVC_ADDR => SvcAttr::Addr(addr_bytes("IPVS_SVC_ATTR_ADDR", v)?),
            SVC_PORT => SvcAttr::Port(be16_of("IPVS_SVC_ATTR_PORT", v)?),
            SVC_FWMARK => SvcAttr::Fwmark(u32_of("IPVS_SVC_ATTR_FWMARK", v)?),
            SVC_SCHED_NAME => SvcAttr::SchedName(string_of("IPVS_SVC_ATTR_SCHED_NAME", v)?),
            SVC_FLAGS => {
                let raw: [u8; 8] = exact("IPVS_SVC_ATTR_FLAGS", v)?;
                let (f, m) = raw.split_at(4);
                SvcAttr::Flags {
                    flags: u32_of("IPVS_SVC_ATTR_FLAGS", f)?,
                    mask: u32_of("IPVS_SVC_ATTR_FLAGS", m)?,
                }
            }
            SVC_TIMEOUT => SvcAttr::Timeout(u32_of("IPVS_SVC_ATTR_TIMEOUT", v)?),
            SVC_NETMASK => SvcAttr::Netmask(exact("IPVS_SVC_ATTR_NETMASK", v)?),
            SVC_STATS => SvcAttr::Stats(parse_stats(v)?),
            SVC_PE_NAME => SvcAttr::PeName(string_of("IPVS_SVC_ATTR_PE_NAME", v)?),
            SVC_STATS64 => SvcAttr::Stats64(parse_stats(v)?),
            _ => SvcAttr::Other(other(nla)),
        })
    })
}

fn addr_bytes(name: &'static str, v: &[u8]) -> Result<Vec<u8>, DecodeError> {
    match v.len() {
        4 | 16 => Ok(v.to_vec()),
        got => Err(DecodeError::BadAttrSize {
            name,
            expected: 16,
            got,
        }),
    }
}

// ---------- dest ----------

/// Attributes inside `IPVS_CMD_ATTR_DEST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestAttr {
    Addr(Vec<u8>),
    Port(u16),
    FwdMethod(u32),
    Weight(i32),
    UThresh(u32),
    LThresh(u32),
    ActiveConns(u32),
    InactConns(u32),
    PersistConns(u32),
    Stats(Vec<StatsAttr>),
    AddrFamily(u16),
    Stats64(Vec<StatsAttr>),
    TunType(u8),
    /// Host order here; network order on the wire.
    TunPort(u16),
    TunFlags(u16),
    Other(DefaultNla),
}

impl AttrValue for DestAttr {
    fn value_len(&self) -> usize {
        match self {
            DestAttr::Addr(a) => a.len(),
            DestAttr::Port(_)
            | DestAttr::AddrFamily(_)
            | DestAttr::TunPort(_)
            | DestAttr::TunFlags(_) => 2,
            DestAttr::TunType(_) => 1,
            DestAttr::FwdMethod(_)
            | DestAttr::Weight(_)
            | DestAttr::UThresh(_)
            | DestAttr::LThresh(_)
            | DestAttr::ActiveConns(_)
            | DestAttr::InactConns(_)
            | DestAttr::PersistConns(_) => 4,
            DestAttr::Stats(s) | DestAttr::Stats64(s) => nested_len(s),
            DestAttr::Other(o) => o.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            DestAttr::Addr(_) => DEST_ADDR,
            DestAttr::Port(_) => DEST_PORT,
            DestAttr::FwdMethod(_) => DEST_FWD_METHOD,
            DestAttr::Weight(_) => DEST_WEIGHT,
            DestAttr::UThresh(_) => DEST_U_THRESH,
            DestAttr::LThresh(_) => DEST_L_THRESH,
            DestAttr::ActiveConns(_) => DEST_ACTIVE_CONNS,
            DestAttr::InactConns(_) => DEST_INACT_CONNS,
            DestAttr::PersistConns(_) => DEST_PERSIST_CONNS,
            DestAttr::Stats(_) => nested_kind(DEST_STATS),
            DestAttr::AddrFamily(_) => DEST_ADDR_FAMILY,
            DestAttr::Stats64(_) => nested_kind(DEST_STATS64),
            DestAttr::TunType(_) => DEST_TUN_TYPE,
            DestAttr::TunPort(_) => DEST_TUN_PORT,
            DestAttr::TunFlags(_) => DEST_TUN_FLAGS,
            DestAttr::Other(o) => o.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            DestAttr::Addr(a) => buf.copy_from_slice(a),
            DestAttr::Port(v) | DestAttr::TunPort(v) => buf.copy_from_slice(&v.to_be_bytes()),
            DestAttr::AddrFamily(v) | DestAttr::TunFlags(v) => {
                buf.copy_from_slice(&v.to_ne_bytes())
            }
            DestAttr::TunType(v) => buf[0] = *v,
            DestAttr::Weight(v) => buf.copy_from_slice(&v.to_ne_bytes()),
            DestAttr::FwdMethod(v)
            | DestAttr::UThresh(v)
            | DestAttr::LThresh(v)
            | DestAttr::ActiveConns(v)
            | DestAttr::InactConns(v)
            | DestAttr::PersistConns(v) => buf.copy_from_slice(&v.to_ne_bytes()),
            DestAttr::Stats(s) | DestAttr::Stats64(s) => emit_nested(s, buf),
            DestAttr::Other(o) => o.emit_value(buf),
        }
    }
}

pub(crate) fn parse_dest(buf: &[u8]) -> Result<Vec<DestAttr>, DecodeError> {
    parse_all(buf, |nla| {
        let v = nla.value();
        Ok(match nla.kind() {
            DEST_ADDR => DestAttr::Addr(addr_bytes("IPVS_DEST_ATTR_ADDR", v)?),
            DEST_PORT => DestAttr::Port(be16_of("IPVS_DEST_ATTR_PORT", v)?),
            DEST_FWD_METHOD => DestAttr::FwdMethod(u32_of("IPVS_DEST_ATTR_FWD_METHOD", v)?),
            DEST_WEIGHT => DestAttr::Weight(u32_of("IPVS_DEST_ATTR_WEIGHT", v)? as i32),
            DEST_U_THRESH => DestAttr::UThresh(u32_of("IPVS_DEST_ATTR_U_THRESH", v)?),
            DEST_L_THRESH => DestAttr::LThresh(u32_of("IPVS_DEST_ATTR_L_THRESH", v)?),
            DEST_ACTIVE_CONNS => DestAttr::ActiveConns(u32_of("IPVS_DEST_ATTR_ACTIVE_CONNS", v)?),
            DEST_INACT_CONNS => DestAttr::InactConns(u32_of("IPVS_DEST_ATTR_INACT_CONNS", v)?),
            DEST_PERSIST_CONNS => {
                DestAttr::PersistConns(u32_of("IPVS_DEST_ATTR_PERSIST_CONNS", v)?)
            }
            DEST_STATS => DestAttr::Stats(parse_stats(v)?),
            DEST_ADDR_FAMILY => DestAttr::AddrFamily(u16_of("IPVS_DEST_ATTR_ADDR_FAMILY", v)?),
            DEST_STATS64 => DestAttr::Stats64(parse_stats(v)?),
            DEST_TUN_TYPE => DestAttr::TunType(u8_of("IPVS_DEST_ATTR_TUN_TYPE", v)?),
            DEST_TUN_PORT => DestAttr::TunPort(be16_of("IPVS_DEST_ATTR_TUN_PORT", v)?),
            DEST_TUN_FLAGS => DestAttr::TunFlags(u16_of("IPVS_DEST_ATTR_TUN_FLAGS", v)?),
            _ => DestAttr::Other(other(nla)),
        })
    })
}

// ---------- sync daemon ----------

/// Attributes inside `IPVS_CMD_ATTR_DAEMON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAttr {
    /// `IP_VS_STATE_MASTER` (1) / `IP_VS_STATE_BACKUP` (2)
    State(u32),
    McastIfn(String),
    SyncId(u32),
    SyncMaxlen(u16),
    McastGroup([u8; 4]),
    McastGroup6([u8; 16]),
    McastPort(u16),
    McastTtl(u8),
    Other(DefaultNla),
}

impl AttrValue for DaemonAttr {
    fn value_len(&self) -> usize {
        match self {
            DaemonAttr::State(_) | DaemonAttr::SyncId(_) | DaemonAttr::McastGroup(_) => 4,
            DaemonAttr::McastIfn(s) => s.len() + 1,
            DaemonAttr::SyncMaxlen(_) | DaemonAttr::McastPort(_) => 2,
            DaemonAttr::McastGroup6(_) => 16,
            DaemonAttr::McastTtl(_) => 1,
            DaemonAttr::Other(o) => o.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            DaemonAttr::State(_) => DAEMON_STATE,
            DaemonAttr::McastIfn(_) => DAEMON_MCAST_IFN,
            DaemonAttr::SyncId(_) => DAEMON_SYNC_ID,
            DaemonAttr::SyncMaxlen(_) => DAEMON_SYNC_MAXLEN,
            DaemonAttr::McastGroup(_) => DAEMON_MCAST_GROUP,
            DaemonAttr::McastGroup6(_) => DAEMON_MCAST_GROUP6,
            DaemonAttr::McastPort(_) => DAEMON_MCAST_PORT,
            DaemonAttr::McastTtl(_) => DAEMON_MCAST_TTL,
            DaemonAttr::Other(o) => o.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            DaemonAttr::State(v) | DaemonAttr::SyncId(v) => buf.copy_from_slice(&v.to_ne_bytes()),
            DaemonAttr::McastIfn(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            // Both host order: the kernel uses nla_get_u16/nla_put_u16 for them.
            DaemonAttr::SyncMaxlen(v) | DaemonAttr::McastPort(v) => {
                buf.copy_from_slice(&v.to_ne_bytes())
            }
            DaemonAttr::McastGroup(a) => buf.copy_from_slice(a),
            DaemonAttr::McastGroup6(a) => buf.copy_from_slice(a),
            DaemonAttr::McastTtl(v) => buf[0] = *v,
            DaemonAttr::Other(o) => o.emit_value(buf),
        }
    }
}

fn parse_daemon(buf: &[u8]) -> Result<Vec<DaemonAttr>, DecodeError> {
    parse_all(buf, |nla| {
        let v = nla.value();
        Ok(match nla.kind() {
            DAEMON_STATE => DaemonAttr::State(u32_of("IPVS_DAEMON_ATTR_STATE", v)?),
            DAEMON_MCAST_IFN => DaemonAttr::McastIfn(string_of("IPVS_DAEMON_ATTR_MCAST_IFN", v)?),
            DAEMON_SYNC_ID => DaemonAttr::SyncId(u32_of("IPVS_DAEMON_ATTR_SYNC_ID", v)?),
            DAEMON_SYNC_MAXLEN => {
                DaemonAttr::SyncMaxlen(u16_of("IPVS_DAEMON_ATTR_SYNC_MAXLEN", v)?)
            }
            DAEMON_MCAST_GROUP => DaemonAttr::McastGroup(exact("IPVS_DAEMON_ATTR_MCAST_GROUP", v)?),
            DAEMON_MCAST_GROUP6 => {
                DaemonAttr::McastGroup6(exact("IPVS_DAEMON_ATTR_MCAST_GROUP6", v)?)
            }
            DAEMON_MCAST_PORT => DaemonAttr::McastPort(u16_of("IPVS_DAEMON_ATTR_MCAST_PORT", v)?),
            DAEMON_MCAST_TTL => DaemonAttr::McastTtl(u8_of("IPVS_DAEMON_ATTR_MCAST_TTL", v)?),
            _ => DaemonAttr::Other(other(nla)),
        })
    })
}

// ---------- top level ----------

/// Top-level attributes of an IPVS generic netlink message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdAttr {
    Service(Vec<SvcAttr>),
    Dest(Vec<DestAttr>),
    Daemon(Vec<DaemonAttr>),
    TimeoutTcp(u32),
    TimeoutTcpFin(u32),
    TimeoutUdp(u32),
    /// `IPVS_INFO_ATTR_VERSION` (only in GET_INFO replies, which reuse numbers 1-2).
    InfoVersion(u32),
    /// `IPVS_INFO_ATTR_CONN_TAB_SIZE`
    InfoConnTabSize(u32),
    Other(DefaultNla),
}

impl AttrValue for CmdAttr {
    fn value_len(&self) -> usize {
        match self {
            CmdAttr::Service(s) => nested_len(s),
            CmdAttr::Dest(d) => nested_len(d),
            CmdAttr::Daemon(d) => nested_len(d),
            CmdAttr::TimeoutTcp(_)
            | CmdAttr::TimeoutTcpFin(_)
            | CmdAttr::TimeoutUdp(_)
            | CmdAttr::InfoVersion(_)
            | CmdAttr::InfoConnTabSize(_) => 4,
            CmdAttr::Other(o) => o.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            CmdAttr::Service(_) => nested_kind(CMD_ATTR_SERVICE),
            CmdAttr::Dest(_) => nested_kind(CMD_ATTR_DEST),
            CmdAttr::Daemon(_) => nested_kind(CMD_ATTR_DAEMON),
            CmdAttr::TimeoutTcp(_) => CMD_ATTR_TIMEOUT_TCP,
            CmdAttr::TimeoutTcpFin(_) => CMD_ATTR_TIMEOUT_TCP_FIN,
            CmdAttr::TimeoutUdp(_) => CMD_ATTR_TIMEOUT_UDP,
            CmdAttr::InfoVersion(_) => INFO_VERSION,
            CmdAttr::InfoConnTabSize(_) => INFO_CONN_TAB_SIZE,
            CmdAttr::Other(o) => o.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            CmdAttr::Service(s) => emit_nested(s, buf),
            CmdAttr::Dest(d) => emit_nested(d, buf),
            CmdAttr::Daemon(d) => emit_nested(d, buf),
            CmdAttr::TimeoutTcp(v)
            | CmdAttr::TimeoutTcpFin(v)
            | CmdAttr::TimeoutUdp(v)
            | CmdAttr::InfoVersion(v)
            | CmdAttr::InfoConnTabSize(v) => buf.copy_from_slice(&v.to_ne_bytes()),
            CmdAttr::Other(o) => o.emit_value(buf),
        }
    }
}

/// Parse the top-level attributes of a message with command `command`.
pub(crate) fn parse_cmd_attrs(command: u8, buf: &[u8]) -> Result<Vec<CmdAttr>, DecodeError> {
    let info = command == cmd::SET_INFO || command == cmd::GET_INFO;
    parse_all(buf, |nla| {
        let v = nla.value();
        Ok(match (info, nla.kind()) {
            (true, INFO_VERSION) => CmdAttr::InfoVersion(u32_of("IPVS_INFO_ATTR_VERSION", v)?),
            (true, INFO_CONN_TAB_SIZE) => {
                CmdAttr::InfoConnTabSize(u32_of("IPVS_INFO_ATTR_CONN_TAB_SIZE", v)?)
            }
            (true, _) => CmdAttr::Other(other(nla)),
            (false, CMD_ATTR_SERVICE) => CmdAttr::Service(parse_svc(v)?),
            (false, CMD_ATTR_DEST) => CmdAttr::Dest(parse_dest(v)?),
            (false, CMD_ATTR_DAEMON) => CmdAttr::Daemon(parse_daemon(v)?),
            (false, CMD_ATTR_TIMEOUT_TCP) => {
                CmdAttr::TimeoutTcp(u32_of("IPVS_CMD_ATTR_TIMEOUT_TCP", v)?)
            }
            (false, CMD_ATTR_TIMEOUT_TCP_FIN) => {
                CmdAttr::TimeoutTcpFin(u32_of("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN", v)?)
            }
            (false, CMD_ATTR_TIMEOUT_UDP) => {
                CmdAttr::TimeoutUdp(u32_of("IPVS_CMD_ATTR_TIMEOUT_UDP", v)?)
            }
            (false, _) => CmdAttr::Other(other(nla)),
        })
    })
}
