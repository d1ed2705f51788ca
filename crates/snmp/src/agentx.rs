//! AgentX protocol version 1 (RFC 2741) PDU codec, sans-IO.
//!
//! [`decode`] takes bytes from the master agent and returns one PDU (or
//! `Ok(None)` when more bytes are needed); every malformed input is a typed
//! [`AgentxError`], never a panic. [`encode`] writes PDUs in network byte
//! order (the NETWORK_BYTE_ORDER flag set, §6.1); received PDUs may use
//! either order.

use crate::oid::Oid;

/// §6.1: header length.
pub const HEADER_LEN: usize = 20;
/// Upper bound on one PDU's payload; a GetBulk answer for a big table is far
/// below it. Larger announced payloads are refused before buffering them.
pub const MAX_PAYLOAD: usize = 4 * 1024 * 1024;
/// §6.1 h.flags.
pub const FLAG_INSTANCE_REGISTRATION: u8 = 0x01;
pub const FLAG_NON_DEFAULT_CONTEXT: u8 = 0x08;
pub const FLAG_NETWORK_BYTE_ORDER: u8 = 0x10;
/// An OID's sub-identifier count is one octet (§5.1); SNMP caps OIDs at 128.
pub const MAX_SUBIDS: usize = 128;

/// §6.1 h.type.
pub mod pdu_type {
    pub const OPEN: u8 = 1;
    pub const CLOSE: u8 = 2;
    pub const REGISTER: u8 = 3;
    pub const UNREGISTER: u8 = 4;
    pub const GET: u8 = 5;
    pub const GET_NEXT: u8 = 6;
    pub const GET_BULK: u8 = 7;
    pub const TEST_SET: u8 = 8;
    pub const COMMIT_SET: u8 = 9;
    pub const UNDO_SET: u8 = 10;
    pub const CLEANUP_SET: u8 = 11;
    pub const NOTIFY: u8 = 12;
    pub const PING: u8 = 13;
    pub const INDEX_ALLOCATE: u8 = 14;
    pub const INDEX_DEALLOCATE: u8 = 15;
    pub const ADD_AGENT_CAPS: u8 = 16;
    pub const REMOVE_AGENT_CAPS: u8 = 17;
    pub const RESPONSE: u8 = 18;
}

/// §6.2.16 res.error values this subagent sends or reads.
pub mod res_error {
    pub const NO_ERROR: u16 = 0;
    pub const GEN_ERR: u16 = 5;
    pub const NOT_WRITABLE: u16 = 17;
    pub const OPEN_FAILED: u16 = 256;
    pub const NOT_OPEN: u16 = 257;
    pub const DUPLICATE_REGISTRATION: u16 = 263;
    pub const UNKNOWN_REGISTRATION: u16 = 264;
    pub const PARSE_ERROR: u16 = 266;
    pub const REQUEST_DENIED: u16 = 267;
    pub const PROCESSING_ERROR: u16 = 268;
}

/// §6.2.2 close reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    Other,
    ParseError,
    ProtocolError,
    Timeouts,
    Shutdown,
    ByManager,
    Unknown(u8),
}

impl CloseReason {
    fn from_u8(b: u8) -> CloseReason {
        match b {
            1 => CloseReason::Other,
            2 => CloseReason::ParseError,
            3 => CloseReason::ProtocolError,
            4 => CloseReason::Timeouts,
            5 => CloseReason::Shutdown,
            6 => CloseReason::ByManager,
            n => CloseReason::Unknown(n),
        }
    }
    fn to_u8(self) -> u8 {
        match self {
            CloseReason::Other => 1,
            CloseReason::ParseError => 2,
            CloseReason::ProtocolError => 3,
            CloseReason::Timeouts => 4,
            CloseReason::Shutdown => 5,
            CloseReason::ByManager => 6,
            CloseReason::Unknown(n) => n,
        }
    }
}

/// §5.4 value encodings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Integer(i32),
    OctetString(Vec<u8>),
    Null,
    ObjectIdentifier(Oid),
    IpAddress([u8; 4]),
    Counter32(u32),
    Gauge32(u32),
    TimeTicks(u32),
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
}

impl Value {
    fn tag(&self) -> u16 {
        match self {
            Value::Integer(_) => 2,
            Value::OctetString(_) => 4,
            Value::Null => 5,
            Value::ObjectIdentifier(_) => 6,
            Value::IpAddress(_) => 64,
            Value::Counter32(_) => 65,
            Value::Gauge32(_) => 66,
            Value::TimeTicks(_) => 67,
            Value::Opaque(_) => 68,
            Value::Counter64(_) => 70,
            Value::NoSuchObject => 128,
            Value::NoSuchInstance => 129,
            Value::EndOfMibView => 130,
        }
    }

    /// A DisplayString.
    pub fn string(s: impl AsRef<str>) -> Value {
        Value::OctetString(s.as_ref().as_bytes().to_vec())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarBind {
    pub name: Oid,
    pub value: Value,
}

/// §5.2: a search range; `include` applies to `start`. An empty `end`
/// means "no upper bound".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRange {
    pub start: Oid,
    pub include: bool,
    pub end: Oid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub flags: u8,
    pub session_id: u32,
    pub transaction_id: u32,
    pub packet_id: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu {
    Open {
        timeout: u8,
        id: Oid,
        descr: Vec<u8>,
    },
    Close {
        reason: CloseReason,
    },
    Register {
        timeout: u8,
        priority: u8,
        range_subid: u8,
        subtree: Oid,
        upper_bound: Option<u32>,
    },
    Unregister {
        priority: u8,
        range_subid: u8,
        subtree: Oid,
        upper_bound: Option<u32>,
    },
    Get {
        ranges: Vec<SearchRange>,
    },
    GetNext {
        ranges: Vec<SearchRange>,
    },
    GetBulk {
        non_repeaters: u16,
        max_repetitions: u16,
        ranges: Vec<SearchRange>,
    },
    TestSet {
        varbinds: Vec<VarBind>,
    },
    CommitSet,
    UndoSet,
    CleanupSet,
    Notify {
        varbinds: Vec<VarBind>,
    },
    Ping,
    Response {
        sys_uptime: u32,
        error: u16,
        index: u16,
        varbinds: Vec<VarBind>,
    },
    /// A PDU type a subagent never receives (IndexAllocate, AddAgentCaps, ...):
    /// decoded as far as the header.
    Other {
        pdu_type: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentxError {
    #[error("AgentX version {0} is not supported (only version 1)")]
    Version(u8),
    #[error("AgentX payload of {0} bytes exceeds the {MAX_PAYLOAD} byte limit")]
    TooLarge(usize),
    #[error("AgentX payload length {0} is not a multiple of 4")]
    Unaligned(usize),
    #[error("AgentX PDU truncated: {0}")]
    Truncated(&'static str),
    #[error("AgentX OID has {0} sub-identifiers (at most {MAX_SUBIDS})")]
    OidTooLong(usize),
    #[error("AgentX value type {0} is unknown")]
    ValueType(u16),
    #[error("AgentX {0} has trailing bytes")]
    Trailing(&'static str),
    #[error("AgentX value cannot be encoded: {0}")]
    Encode(&'static str),
}

/// A bounds-checked reader over one PDU's payload.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    big_endian: bool,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], AgentxError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(AgentxError::Truncated(what))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(AgentxError::Truncated(what))?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, AgentxError> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, AgentxError> {
        let b = self.take(2, what)?;
        let a = [b[0], b[1]];
        Ok(if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        })
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, AgentxError> {
        let b = self.take(4, what)?;
        let a = [b[0], b[1], b[2], b[3]];
        Ok(if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        })
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, AgentxError> {
        let hi = self.u32(what)? as u64;
        let lo = self.u32(what)? as u64;
        // §5.4: a Counter64 is sent most significant 32 bits first in
        // network byte order; in little-endian PDUs the whole 8 octets are
        // little-endian, i.e. the low word comes first.
        Ok(if self.big_endian {
            (hi << 32) | lo
        } else {
            (lo << 32) | hi
        })
    }
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// §5.1 Object Identifier; returns (oid, include).
    fn oid(&mut self) -> Result<(Oid, bool), AgentxError> {
        let n = self.u8("oid n_subid")? as usize;
        let prefix = self.u8("oid prefix")?;
        let include = self.u8("oid include")? != 0;
        self.u8("oid reserved")?;
        if n > MAX_SUBIDS {
            return Err(AgentxError::OidTooLong(n));
        }
        let mut v = Vec::with_capacity(n + 5);
        if prefix != 0 {
            v.extend_from_slice(&[1, 3, 6, 1, prefix as u32]);
        }
        for _ in 0..n {
            v.push(self.u32("oid sub-identifier")?);
        }
        Ok((Oid(v), include))
    }

    /// §5.3 Octet String (padded to a multiple of 4).
    fn octets(&mut self, what: &'static str) -> Result<Vec<u8>, AgentxError> {
        let len = self.u32(what)? as usize;
        if len > MAX_PAYLOAD {
            return Err(AgentxError::Truncated(what));
        }
        let data = self.take(len, what)?.to_vec();
        let pad = (4 - len % 4) % 4;
        self.take(pad, what)?;
        Ok(data)
    }

    fn value(&mut self, tag: u16) -> Result<Value, AgentxError> {
        Ok(match tag {
            2 => Value::Integer(self.u32("integer")? as i32),
            4 => Value::OctetString(self.octets("octet string")?),
            5 => Value::Null,
            6 => Value::ObjectIdentifier(self.oid()?.0),
            64 => {
                let b = self.octets("ip address")?;
                let a: [u8; 4] = b
                    .as_slice()
                    .try_into()
                    .map_err(|_| AgentxError::Truncated("ip address is not 4 octets"))?;
                Value::IpAddress(a)
            }
            65 => Value::Counter32(self.u32("counter32")?),
            66 => Value::Gauge32(self.u32("gauge32")?),
            67 => Value::TimeTicks(self.u32("timeticks")?),
            68 => Value::Opaque(self.octets("opaque")?),
            70 => Value::Counter64(self.u64("counter64")?),
            128 => Value::NoSuchObject,
            129 => Value::NoSuchInstance,
            130 => Value::EndOfMibView,
            t => return Err(AgentxError::ValueType(t)),
        })
    }

    fn varbinds(&mut self) -> Result<Vec<VarBind>, AgentxError> {
        let mut out = Vec::new();
        while !self.done() {
            let tag = self.u16("varbind type")?;
            self.u16("varbind reserved")?;
            let (name, _) = self.oid()?;
            let value = self.value(tag)?;
            out.push(VarBind { name, value });
        }
        Ok(out)
    }

    fn ranges(&mut self) -> Result<Vec<SearchRange>, AgentxError> {
        let mut out = Vec::new();
        while !self.done() {
            let (start, include) = self.oid()?;
            let (end, _) = self.oid()?;
            out.push(SearchRange {
                start,
                include,
                end,
            });
        }
        Ok(out)
    }
}

/// Decodes one PDU from the front of `buf`: `Ok(None)` if more bytes are
/// needed, else the header, the PDU and the number of bytes consumed.
pub fn decode(buf: &[u8]) -> Result<Option<(Header, Pdu, usize)>, AgentxError> {
    let Some(h) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    if h[0] != 1 {
        return Err(AgentxError::Version(h[0]));
    }
    let ty = h[1];
    let flags = h[2];
    let big_endian = flags & FLAG_NETWORK_BYTE_ORDER != 0;
    let mut hr = Reader {
        buf: &h[4..],
        pos: 0,
        big_endian,
    };
    let header = Header {
        flags,
        session_id: hr.u32("header")?,
        transaction_id: hr.u32("header")?,
        packet_id: hr.u32("header")?,
    };
    let len = hr.u32("header")? as usize;
    if len > MAX_PAYLOAD {
        return Err(AgentxError::TooLarge(len));
    }
    if len % 4 != 0 {
        return Err(AgentxError::Unaligned(len));
    }
    let Some(payload) = buf.get(HEADER_LEN..HEADER_LEN + len) else {
        return Ok(None);
    };
    let mut r = Reader {
        buf: payload,
        pos: 0,
        big_endian,
    };
    // §6.1.1: a context precedes the PDU-specific fields of the PDUs that
    // may carry one. It is read and ignored: only the default context is
    // registered.
    let has_context = flags & FLAG_NON_DEFAULT_CONTEXT != 0;
    let skip_context = |r: &mut Reader<'_>| -> Result<(), AgentxError> {
        if has_context {
            r.octets("context")?;
        }
        Ok(())
    };
    use pdu_type::*;
    let pdu = match ty {
        OPEN => {
            let timeout = r.u8("open")?;
            r.take(3, "open")?;
            let (id, _) = r.oid()?;
            let descr = r.octets("open descr")?;
            Pdu::Open { timeout, id, descr }
        }
        CLOSE => {
            let reason = CloseReason::from_u8(r.u8("close")?);
            r.take(3, "close")?;
            Pdu::Close { reason }
        }
        REGISTER | UNREGISTER => {
            skip_context(&mut r)?;
            let timeout = r.u8("register")?;
            let priority = r.u8("register")?;
            let range_subid = r.u8("register")?;
            r.u8("register")?;
            let (subtree, _) = r.oid()?;
            let upper_bound = if range_subid != 0 {
                Some(r.u32("register upper bound")?)
            } else {
                None
            };
            if ty == REGISTER {
                Pdu::Register {
                    timeout,
                    priority,
                    range_subid,
                    subtree,
                    upper_bound,
                }
            } else {
                Pdu::Unregister {
                    priority,
                    range_subid,
                    subtree,
                    upper_bound,
                }
            }
        }
        GET | GET_NEXT => {
            skip_context(&mut r)?;
            let ranges = r.ranges()?;
            if ty == GET {
                Pdu::Get { ranges }
            } else {
                Pdu::GetNext { ranges }
            }
        }
        GET_BULK => {
            skip_context(&mut r)?;
            let non_repeaters = r.u16("getbulk")?;
            let max_repetitions = r.u16("getbulk")?;
            let ranges = r.ranges()?;
            Pdu::GetBulk {
                non_repeaters,
                max_repetitions,
                ranges,
            }
        }
        TEST_SET => {
            skip_context(&mut r)?;
            Pdu::TestSet {
                varbinds: r.varbinds()?,
            }
        }
        COMMIT_SET => Pdu::CommitSet,
        UNDO_SET => Pdu::UndoSet,
        CLEANUP_SET => Pdu::CleanupSet,
        NOTIFY => {
            skip_context(&mut r)?;
            Pdu::Notify {
                varbinds: r.varbinds()?,
            }
        }
        PING => {
            skip_context(&mut r)?;
            Pdu::Ping
        }
        RESPONSE => {
            let sys_uptime = r.u32("response")?;
            let error = r.u16("response")?;
            let index = r.u16("response")?;
            Pdu::Response {
                sys_uptime,
                error,
                index,
                varbinds: r.varbinds()?,
            }
        }
        other => {
            r.pos = payload.len();
            Pdu::Other { pdu_type: other }
        }
    };
    if !r.done() {
        return Err(AgentxError::Trailing("PDU"));
    }
    Ok(Some((header, pdu, HEADER_LEN + len)))
}

/// Big-endian writer.
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn oid(&mut self, oid: &Oid, include: bool) -> Result<(), AgentxError> {
        let s = oid.as_slice();
        // §5.1: the internet prefix 1.3.6.1.<n> with n < 256 is compressed.
        let (prefix, rest) = match s {
            [1, 3, 6, 1, p, rest @ ..] if *p > 0 && *p < 256 => (*p as u8, rest),
            _ => (0, s),
        };
        if rest.len() > MAX_SUBIDS {
            return Err(AgentxError::OidTooLong(rest.len()));
        }
        self.u8(rest.len() as u8);
        self.u8(prefix);
        self.u8(include as u8);
        self.u8(0);
        for v in rest {
            self.u32(*v);
        }
        Ok(())
    }
    fn octets(&mut self, b: &[u8]) -> Result<(), AgentxError> {
        let len = u32::try_from(b.len()).map_err(|_| AgentxError::Encode("octet string"))?;
        self.u32(len);
        self.0.extend_from_slice(b);
        let pad = (4 - b.len() % 4) % 4;
        self.0.extend(std::iter::repeat_n(0u8, pad));
        Ok(())
    }
    fn varbinds(&mut self, vbs: &[VarBind]) -> Result<(), AgentxError> {
        for vb in vbs {
            self.u16(vb.value.tag());
            self.u16(0);
            self.oid(&vb.name, false)?;
            match &vb.value {
                Value::Integer(i) => self.u32(*i as u32),
                Value::OctetString(b) | Value::Opaque(b) => self.octets(b)?,
                Value::IpAddress(a) => self.octets(a)?,
                Value::ObjectIdentifier(o) => self.oid(o, false)?,
                Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => self.u32(*v),
                Value::Counter64(v) => {
                    self.u32((*v >> 32) as u32);
                    self.u32(*v as u32);
                }
                Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => {
                }
            }
        }
        Ok(())
    }
    fn ranges(&mut self, ranges: &[SearchRange]) -> Result<(), AgentxError> {
        for r in ranges {
            self.oid(&r.start, r.include)?;
            self.oid(&r.end, false)?;
        }
        Ok(())
    }
}

/// Encodes one PDU in network byte order. The NON_DEFAULT_CONTEXT flag is
/// never set (no context is written).
pub fn encode(header: &Header, pdu: &Pdu) -> Result<Vec<u8>, AgentxError> {
    use pdu_type::*;
    let mut w = Writer(Vec::new());
    let ty = match pdu {
        Pdu::Open { timeout, id, descr } => {
            w.u8(*timeout);
            w.0.extend_from_slice(&[0, 0, 0]);
            w.oid(id, false)?;
            w.octets(descr)?;
            OPEN
        }
        Pdu::Close { reason } => {
            w.u8(reason.to_u8());
            w.0.extend_from_slice(&[0, 0, 0]);
            CLOSE
        }
        Pdu::Register {
            timeout,
            priority,
            range_subid,
            subtree,
            upper_bound,
        } => {
            w.u8(*timeout);
            w.u8(*priority);
            w.u8(*range_subid);
            w.u8(0);
            w.oid(subtree, false)?;
            if *range_subid != 0 {
                w.u32(upper_bound.unwrap_or(0));
            }
            REGISTER
        }
        Pdu::Unregister {
            priority,
            range_subid,
            subtree,
            upper_bound,
        } => {
            w.u8(0);
            w.u8(*priority);
            w.u8(*range_subid);
            w.u8(0);
            w.oid(subtree, false)?;
            if *range_subid != 0 {
                w.u32(upper_bound.unwrap_or(0));
            }
            UNREGISTER
        }
        Pdu::Get { ranges } => {
            w.ranges(ranges)?;
            GET
        }
        Pdu::GetNext { ranges } => {
            w.ranges(ranges)?;
            GET_NEXT
        }
        Pdu::GetBulk {
            non_repeaters,
            max_repetitions,
            ranges,
        } => {
            w.u16(*non_repeaters);
            w.u16(*max_repetitions);
            w.ranges(ranges)?;
            GET_BULK
        }
        Pdu::TestSet { varbinds } => {
            w.varbinds(varbinds)?;
            TEST_SET
        }
        Pdu::CommitSet => COMMIT_SET,
        Pdu::UndoSet => UNDO_SET,
        Pdu::CleanupSet => CLEANUP_SET,
        Pdu::Notify { varbinds } => {
            w.varbinds(varbinds)?;
            NOTIFY
        }
        Pdu::Ping => PING,
        Pdu::Response {
            sys_uptime,
            error,
            index,
            varbinds,
        } => {
            w.u32(*sys_uptime);
            w.u16(*error);
            w.u16(*index);
            w.varbinds(varbinds)?;
            RESPONSE
        }
        Pdu::Other { pdu_type } => *pdu_type,
    };
    let payload = w.0;
    if payload.len() > MAX_PAYLOAD {
        return Err(AgentxError::TooLarge(payload.len()));
    }
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.push(1);
    out.push(ty);
    out.push((header.flags & FLAG_INSTANCE_REGISTRATION) | FLAG_NETWORK_BYTE_ORDER);
    out.push(0);
    out.extend_from_slice(&header.session_id.to_be_bytes());
    out.extend_from_slice(&header.transaction_id.to_be_bytes());
    out.extend_from_slice(&header.packet_id.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn oid(s: &str) -> Oid {
        s.parse().expect("oid")
    }

    fn round_trip(pdu: Pdu) {
        let h = Header {
            flags: 0,
            session_id: 7,
            transaction_id: 8,
            packet_id: 9,
        };
        let bytes = encode(&h, &pdu).expect("encode");
        let (h2, back, used) = decode(&bytes).expect("decode").expect("complete");
        assert_eq!(back, pdu);
        assert_eq!(used, bytes.len());
        assert_eq!((h2.session_id, h2.transaction_id, h2.packet_id), (7, 8, 9));
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
    }

    #[test]
    fn every_pdu_round_trips() {
        let vbs = vec![
            VarBind {
                name: oid("1.3.6.1.2.1.1.3.0"),
                value: Value::TimeTicks(42),
            },
            VarBind {
                name: oid("1.3.6.1.6.3.1.1.4.1.0"),
                value: Value::ObjectIdentifier(oid("1.3.6.1.4.1.9586.100.5.2.10.0.2")),
            },
            VarBind {
                name: oid("1.2.3"),
                value: Value::OctetString(vec![0xc0, 0, 2, 1, 9]),
            },
            VarBind {
                name: oid("1.3.6.1.4.1.9586.100.5.1.1.0"),
                value: Value::Counter64(0x0102_0304_0506_0708),
            },
            VarBind {
                name: oid("1.3.6.1.2.1.68.1.3.1.7.3.51"),
                value: Value::IpAddress([192, 0, 2, 1]),
            },
            VarBind {
                name: oid("1.3.6.1.2.1.68.1.1.0"),
                value: Value::Integer(-2),
            },
            VarBind {
                name: oid("1.3"),
                value: Value::EndOfMibView,
            },
        ];
        let ranges = vec![
            SearchRange {
                start: oid("1.3.6.1.4.1.9586.100.5"),
                include: true,
                end: oid("1.3.6.1.4.1.9586.100.6"),
            },
            SearchRange {
                start: oid("1.3.6.1.2.1.68.1"),
                include: false,
                end: Oid::default(),
            },
        ];
        round_trip(Pdu::Open {
            timeout: 0,
            id: oid("1.3.6.1.4.1.9586.100.5"),
            descr: b"rkeepalived".to_vec(),
        });
        round_trip(Pdu::Close {
            reason: CloseReason::Shutdown,
        });
        round_trip(Pdu::Register {
            timeout: 0,
            priority: 127,
            range_subid: 0,
            subtree: oid("1.3.6.1.4.1.9586.100.5.1"),
            upper_bound: None,
        });
        round_trip(Pdu::Register {
            timeout: 5,
            priority: 127,
            range_subid: 11,
            subtree: oid("1.3.6.1.2.1.68.1.3.1.2.3.51"),
            upper_bound: Some(60),
        });
        round_trip(Pdu::Get {
            ranges: ranges.clone(),
        });
        round_trip(Pdu::GetNext {
            ranges: ranges.clone(),
        });
        round_trip(Pdu::GetBulk {
            non_repeaters: 1,
            max_repetitions: 10,
            ranges,
        });
        round_trip(Pdu::Notify {
            varbinds: vbs.clone(),
        });
        round_trip(Pdu::TestSet {
            varbinds: vbs.clone(),
        });
        round_trip(Pdu::Ping);
        round_trip(Pdu::Response {
            sys_uptime: 100,
            error: res_error::NOT_WRITABLE,
            index: 1,
            varbinds: vbs,
        });
    }

    /// A GetNext as net-snmp's master sends it, little-endian (captured
    /// shape: flags 0, prefix-compressed OIDs).
    #[test]
    fn little_endian_getnext_from_a_master() {
        let mut b = vec![1u8, 6, 0, 0];
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes());
        let mut payload = vec![4u8, 4, 1, 0];
        for s in [1u32, 9586, 100, 5] {
            payload.extend_from_slice(&s.to_le_bytes());
        }
        payload.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        b.extend_from_slice(&payload);
        let (h, pdu, used) = decode(&b).expect("decode").expect("complete");
        assert_eq!((h.session_id, h.packet_id, used), (1, 3, b.len()));
        assert_eq!(
            pdu,
            Pdu::GetNext {
                ranges: vec![SearchRange {
                    start: oid("1.3.6.1.4.1.9586.100.5"),
                    include: true,
                    end: Oid::default(),
                }]
            }
        );
    }

    #[test]
    fn hostile_headers_are_errors() {
        let mut b = vec![2u8, 5, 0x10, 0];
        b.extend_from_slice(&[0; 16]);
        assert_eq!(decode(&b), Err(AgentxError::Version(2)));
        let mut b = vec![1u8, 5, 0x10, 0];
        b.extend_from_slice(&[0; 12]);
        b.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(decode(&b), Err(AgentxError::TooLarge(_))));
        // An OID claiming 255 sub-identifiers.
        let mut b = vec![1u8, 5, 0x10, 0];
        b.extend_from_slice(&[0; 12]);
        b.extend_from_slice(&4u32.to_be_bytes());
        b.extend_from_slice(&[255, 0, 0, 0]);
        assert_eq!(decode(&b), Err(AgentxError::OidTooLong(255)));
    }

    fn arb_oid() -> impl Strategy<Value = Oid> {
        proptest::collection::vec(any::<u32>(), 0..20).prop_map(Oid)
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i32>().prop_map(Value::Integer),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::OctetString),
            Just(Value::Null),
            arb_oid().prop_map(Value::ObjectIdentifier),
            any::<[u8; 4]>().prop_map(Value::IpAddress),
            any::<u32>().prop_map(Value::Counter32),
            any::<u32>().prop_map(Value::Gauge32),
            any::<u32>().prop_map(Value::TimeTicks),
            any::<u64>().prop_map(Value::Counter64),
            Just(Value::NoSuchObject),
            Just(Value::EndOfMibView),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = decode(&bytes);
        }

        /// Arbitrary bytes behind a valid header exercise every PDU decoder.
        #[test]
        fn arbitrary_payloads_never_panic(
            ty in 0u8..20,
            flags in any::<u8>(),
            payload in proptest::collection::vec(any::<u8>(), 0..50).prop_map(|mut v| { v.truncate(v.len() / 4 * 4); v })
        ) {
            let mut b = vec![1u8, ty, flags, 0];
            b.extend_from_slice(&[0; 12]);
            let len = payload.len() as u32;
            if flags & FLAG_NETWORK_BYTE_ORDER != 0 {
                b.extend_from_slice(&len.to_be_bytes());
            } else {
                b.extend_from_slice(&len.to_le_bytes());
            }
            b.extend_from_slice(&payload);
            // Whatever decodes re-encodes to the same PDU (the fuzz target's
            // property, on stable).
            if let Ok(Some((h, pdu, _))) = decode(&b) {
                let bytes = encode(&h, &pdu).expect("encode");
                let again = decode(&bytes).expect("decode").map(|(_, p, _)| p);
                prop_assert_eq!(again, Some(pdu));
            }
        }

        #[test]
        fn responses_round_trip(vals in proptest::collection::vec((arb_oid(), arb_value()), 0..8), up in any::<u32>()) {
            let varbinds: Vec<VarBind> = vals.into_iter().map(|(name, value)| VarBind { name, value }).collect();
            let pdu = Pdu::Response { sys_uptime: up, error: 0, index: 0, varbinds };
            let bytes = encode(&Header::default(), &pdu).expect("encode");
            let (_, back, used) = decode(&bytes).expect("decode").expect("complete");
            prop_assert_eq!(back, pdu);
            prop_assert_eq!(used, bytes.len());
        }
    }
}
