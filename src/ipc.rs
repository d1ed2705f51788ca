//! Supervisor <-> role child protocol over an inherited unix socketpair.
//!
//! Frames are a 4-byte big-endian length followed by that many bytes of
//! JSON. The length's top bit ([`DEFLATED`]) marks a body of
//! DEFLATE-compressed JSON: a configuration (`Start`, `Reload`) goes as the
//! supervisor keeps it, a few hundred KB instead of tens of MB of JSON for
//! a child that may be busy with tens of thousands of checks. The first frame the parent sends is [`ToChild::Start`] carrying the
//! exact `Config` the parent validated, so a child never re-reads the file
//! (no race with an operator editing it).

use std::io::Read;
use std::sync::Arc;

use rkeepalived_config::Config;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Upper bound for one frame; a config with thousands of real servers is a
/// few MiB of JSON.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

/// Length-prefix flag: the body is DEFLATE-compressed JSON (inflated to at
/// most [`MAX_FRAME`] bytes).
pub const DEFLATED: u32 = 1 << 31;

#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    #[error("ipc frame of {0} bytes exceeds the {MAX_FRAME} byte limit")]
    FrameTooLarge(usize),
    #[error("ipc frame is not valid: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("ipc i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("ipc frame is not valid: {0}")]
    Corrupt(&'static str),
    #[error("peer closed the ipc channel")]
    Closed,
    #[error(
        "ipc frame truncated: the peer closed the channel after {got} of its {expected} bytes"
    )]
    Truncated { expected: usize, got: usize },
    #[error("peer did not answer within {0:?}")]
    Timeout(std::time::Duration),
}

/// A validated configuration as the supervisor keeps it: its JSON wire
/// form, DEFLATE-compressed. The supervisor needs the configuration only to
/// hand it to children (start, respawn, reload), so it does not keep the
/// model: with 10,000 real servers the model is ~15 MB and its JSON ~8 MB,
/// this is a few hundred KB.
#[derive(Clone, PartialEq)]
pub struct ConfigWire {
    deflated: Arc<[u8]>,
}

impl std::fmt::Debug for ConfigWire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConfigWire({} bytes deflated)", self.deflated.len())
    }
}

impl ConfigWire {
    pub fn new(cfg: &Config) -> Result<ConfigWire, IpcError> {
        let deflated = rkeepalived_control::packed_json::deflate_json(cfg)?;
        Ok(ConfigWire {
            deflated: deflated.into(),
        })
    }

    /// The configuration's JSON text.
    pub fn json(&self) -> Result<String, IpcError> {
        let mut json = String::new();
        flate2::read::DeflateDecoder::new(&self.deflated[..]).read_to_string(&mut json)?;
        Ok(json)
    }

    /// The configuration, decoded as it inflates (its JSON never exists
    /// whole: 34 MB at keepalived issue #2318 size).
    pub fn config(&self) -> Result<Config, IpcError> {
        decode_config(PartsInflater::single(&self.deflated))
    }

    pub fn deflated_len(&self) -> usize {
        self.deflated.len()
    }
}

/// The configuration in a [`ToChild`] frame. The supervisor sends the
/// [`ConfigWire`] it keeps (its JSON goes into the frame as is, never
/// through a model); a child always decodes a [`Config`].
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigPayload {
    Wire(ConfigWire),
    Parsed(Box<Config>),
}

impl ConfigPayload {
    pub fn into_config(self) -> Result<Config, IpcError> {
        match self {
            ConfigPayload::Parsed(cfg) => Ok(*cfg),
            ConfigPayload::Wire(wire) => wire.config(),
        }
    }
}

impl Serialize for ConfigPayload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        match self {
            ConfigPayload::Parsed(cfg) => cfg.serialize(s),
            ConfigPayload::Wire(wire) => {
                let json = wire.json().map_err(S::Error::custom)?;
                serde_json::value::RawValue::from_string(json)
                    .map_err(S::Error::custom)?
                    .serialize(s)
            }
        }
    }
}

impl<'de> Deserialize<'de> for ConfigPayload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Config::deserialize(d).map(|cfg| ConfigPayload::Parsed(Box::new(cfg)))
    }
}

/// State queries the supervisor relays to an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Query {
    Data,
    Stats,
    Json,
    Metrics,
    /// The stats dump, then VRRP counters cleared (SIGSTATS_CLEAR).
    StatsClear,
    /// SIGJSON: the text of keepalived.json (keepalived's exact bytes).
    KeepalivedJson,
    /// `--signum=DRAIN` / `UNDRAIN` (rkeepalived extension): withdraw the
    /// announced routes, or announce them again (checker only).
    Drain,
    Undrain,
    /// The supervisor's liveness probe: answered at once while the engine
    /// makes progress (the VRRP engine's `progress` counter), else by the
    /// engine like `Stats`.
    Liveness,
}

/// A BFD session's state, as keepalived's bfd process writes it to the
/// VRRP and checker processes' pipes (bfd/bfd_event.c `bfd_event_send()`:
/// the instance name and whether it is up). The BFD child sends it to the
/// supervisor, which relays it to the children the session's `vrrp` /
/// `checker` options name (supervisor/bfd_relay.rs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BfdState {
    pub name: String,
    pub up: bool,
    /// When the BFD child sent it (µs since the epoch; keepalived's
    /// `bfd_event_t.sent_time`), for the `-D` "delivered in" line.
    #[serde(default)]
    pub sent_unix_us: u64,
}

impl BfdState {
    /// A state stamped with the current time.
    pub fn now(name: String, up: bool) -> BfdState {
        BfdState {
            name,
            up,
            sent_unix_us: unix_us(),
        }
    }
}

/// Microseconds since the epoch (0 if the clock is before it).
pub fn unix_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToChild {
    /// First frame: run this configuration.
    Start(ConfigPayload),
    /// Apply a new validated configuration.
    Reload(ConfigPayload),
    /// Clean stop (VIPs released, IPVS entries removed), then exit.
    Stop,
    Request {
        id: u64,
        query: Query,
    },
    /// A tracked BFD session changed state (VRRP and checker children).
    Bfd(BfdState),
    /// Checker child: apply a reload as a difference from the running
    /// configuration (rkeepalived_control::delta); answered by `Reloaded`,
    /// or `NeedFullConfig` when its base is not what the child runs.
    ReloadDelta(Box<rkeepalived_control::delta::ConfigDelta>),
    /// Checker child: the digest of the configuration just sent in full
    /// (`Start` / `Reload`), the base of the next delta.
    ConfigDigest(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Text(String),
    Json(serde_json::Value),
    /// The engine did not answer (gone, busy, or does not support it).
    Unavailable(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FromChild {
    /// The engine is running with the Start config.
    Ready {
        pid: u32,
    },
    Reply {
        id: u64,
        reply: Reply,
    },
    /// The reload was handed to the engine.
    Reloaded,
    /// The engine returned; `error` is why, if it failed.
    Stopped {
        error: Option<String>,
    },
    /// The BFD child: a session changed state.
    Bfd(BfdState),
    /// A `ReloadDelta` did not apply to the running configuration: send
    /// the whole one.
    NeedFullConfig,
}

pub fn encode_frame<T: Serialize>(msg: &T) -> Result<Vec<u8>, IpcError> {
    let body = serde_json::to_vec(msg)?;
    if body.len() > MAX_FRAME {
        return Err(IpcError::FrameTooLarge(body.len()));
    }
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes one frame from the front of `buf`: `Ok(None)` if more bytes are
/// needed, else the message and the number of bytes consumed.
pub fn decode_frame<T: DeserializeOwned>(buf: &[u8]) -> Result<Option<(T, usize)>, IpcError> {
    let Some(len_bytes) = buf.get(..4) else {
        return Ok(None);
    };
    let flagged = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
    let len = (flagged & !DEFLATED) as usize;
    if len > MAX_FRAME {
        return Err(IpcError::FrameTooLarge(len));
    }
    let Some(body) = buf.get(4..4 + len) else {
        return Ok(None);
    };
    Ok(Some((decode_body(flagged, body)?, 4 + len)))
}

/// A [`ToChild`] frame, with the configuration of a `Start` or `Reload`
/// sent as the supervisor keeps it: the DEFLATE'd JSON of the
/// [`ConfigWire`] inside a DEFLATE'd `{"Start":...}` / `{"Reload":...}`
/// envelope, never inflated here (a 36,544 real server configuration is
/// ~34 MB of JSON; the child decodes the same bytes `encode_frame` would
/// have sent). Other messages: [`encode_frame`].
pub fn encode_to_child(msg: &ToChild) -> Result<Vec<u8>, IpcError> {
    Ok(to_child_pieces(msg)?.concat())
}

/// The bytes of a [`ToChild`] frame as the pieces [`write_to_child`]
/// writes one after the other: for a configuration, the kept deflated
/// stream is borrowed, never copied behind the length (it is the frame's
/// bulk: megabytes at keepalived issue #2318 size).
fn to_child_pieces(msg: &ToChild) -> Result<Vec<std::borrow::Cow<'_, [u8]>>, IpcError> {
    use std::borrow::Cow;
    let (tag, wire) = match msg {
        ToChild::Start(ConfigPayload::Wire(w)) => ("Start", w),
        ToChild::Reload(ConfigPayload::Wire(w)) => ("Reload", w),
        ToChild::ReloadDelta(_) => return Ok(vec![Cow::Owned(encode_delta(msg)?)]),
        other => return Ok(vec![Cow::Owned(encode_frame(other)?)]),
    };
    // The body: length-prefixed DEFLATE streams, inflated one after the
    // other (the kept stream is complete, with its final block: it cannot
    // simply be spliced into another).
    let part = |bytes: Vec<u8>| {
        let mut v = (bytes.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(&bytes);
        v
    };
    let head = part(deflate(format!("{{\"{tag}\":").as_bytes())?);
    let tail = part(deflate(b"}")?);
    let len = head.len() + 4 + wire.deflated.len() + tail.len();
    if len > MAX_FRAME {
        return Err(IpcError::FrameTooLarge(len));
    }
    let mut first = (len as u32 | DEFLATED).to_be_bytes().to_vec();
    first.extend_from_slice(&head);
    first.extend_from_slice(&(wire.deflated.len() as u32).to_be_bytes());
    Ok(vec![
        Cow::Owned(first),
        Cow::Borrowed(&wire.deflated[..]),
        Cow::Owned(tail),
    ])
}

/// A delta that carries many virtual servers (a change of every one:
/// lines moved, a weight in each) is as large as the whole configuration:
/// from [`DELTA_DEFLATE_FROM`] bytes of JSON on it goes deflated, like a
/// whole configuration.
pub const DELTA_DEFLATE_FROM: usize = 1 << 20;

fn encode_delta(msg: &ToChild) -> Result<Vec<u8>, IpcError> {
    let json = serde_json::to_vec(msg)?;
    if json.len() < DELTA_DEFLATE_FROM {
        if json.len() > MAX_FRAME {
            return Err(IpcError::FrameTooLarge(json.len()));
        }
        let mut out = Vec::with_capacity(4 + json.len());
        out.extend_from_slice(&(json.len() as u32).to_be_bytes());
        out.extend_from_slice(&json);
        return Ok(out);
    }
    if json.len() > MAX_FRAME {
        return Err(IpcError::FrameTooLarge(json.len()));
    }
    let part = deflate(&json)?;
    drop(json);
    let len = 4 + part.len();
    if len > MAX_FRAME {
        return Err(IpcError::FrameTooLarge(len));
    }
    let mut out = Vec::with_capacity(4 + len);
    out.extend_from_slice(&(len as u32 | DEFLATED).to_be_bytes());
    out.extend_from_slice(&(part.len() as u32).to_be_bytes());
    out.extend_from_slice(&part);
    Ok(out)
}

fn deflate(bytes: &[u8]) -> Result<Vec<u8>, IpcError> {
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(bytes)?;
    Ok(z.finish()?)
}

/// The JSON of a [`DEFLATED`] body as a reader: its length-prefixed
/// DEFLATE streams inflated one after the other, at most [`MAX_FRAME`]
/// bytes in all. The decoder reads it as it inflates, so a configuration's
/// JSON (34 MB at keepalived issue #2318 size) never exists whole next to
/// the model decoded from it. A bad body ends the reading with an error
/// kept in [`PartsInflater::failure`].
struct PartsInflater<'a> {
    /// Length-prefixed parts not started yet.
    rest: &'a [u8],
    /// Whether `rest` is a single bare DEFLATE stream (a [`ConfigWire`]).
    bare: bool,
    current: Option<flate2::read::DeflateDecoder<&'a [u8]>>,
    /// JSON bytes produced so far.
    total: usize,
    failure: Option<IpcError>,
}

impl<'a> PartsInflater<'a> {
    fn new(body: &'a [u8]) -> Self {
        PartsInflater {
            rest: body,
            bare: false,
            current: None,
            total: 0,
            failure: None,
        }
    }

    /// One DEFLATE stream without a length prefix.
    fn single(stream: &'a [u8]) -> Self {
        PartsInflater {
            bare: true,
            ..PartsInflater::new(stream)
        }
    }

    fn fail(&mut self, e: IpcError) -> std::io::Error {
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string());
        self.failure = Some(e);
        io
    }
}

impl Read for PartsInflater<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(z) = self.current.as_mut() {
                // One byte past the bound is enough to know it is exceeded.
                let room = (MAX_FRAME + 1).saturating_sub(self.total).min(buf.len());
                let n = z.read(&mut buf[..room])?;
                if n > 0 {
                    self.total += n;
                    if self.total > MAX_FRAME {
                        return Err(self.fail(IpcError::FrameTooLarge(self.total)));
                    }
                    return Ok(n);
                }
                self.current = None;
            }
            if self.rest.is_empty() {
                return Ok(0);
            }
            if self.bare {
                self.current = Some(flate2::read::DeflateDecoder::new(self.rest));
                self.rest = &[];
                continue;
            }
            let Some((part, after)) = next_part(self.rest) else {
                return Err(self.fail(IpcError::Corrupt("truncated deflated part")));
            };
            self.rest = after;
            self.current = Some(flate2::read::DeflateDecoder::new(part));
        }
    }
}

/// serde_json's reader reads byte by byte: a buffer between it and the
/// inflater.
const DECODE_BUFFER: usize = 1 << 16;

/// A message decoded from `parts` as they inflate; a bad body is its typed
/// error (too large, corrupt), not the JSON error it caused.
fn decode_inflated<T: DeserializeOwned>(parts: &mut PartsInflater<'_>) -> Result<T, IpcError> {
    let decoded = serde_json::from_reader(std::io::BufReader::with_capacity(
        DECODE_BUFFER,
        &mut *parts,
    ));
    match (decoded, parts.failure.take()) {
        (Ok(msg), _) => Ok(msg),
        (Err(_), Some(failure)) => Err(failure),
        (Err(e), None) => Err(e.into()),
    }
}

/// The configuration whose JSON `parts` inflate, one virtual server at a
/// time (crate::config_stream); a bad body is its typed error.
fn decode_config(mut parts: PartsInflater<'_>) -> Result<Config, IpcError> {
    match crate::config_stream::decode(&mut parts) {
        Ok(config) => Ok(config),
        Err(e) => Err(parts.failure.take().unwrap_or(e)),
    }
}

/// The next length-prefixed part of a [`DEFLATED`] body, and what follows.
fn next_part(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, after) = body.split_first_chunk::<4>()?;
    let len = u32::from_be_bytes(*len) as usize;
    Some((after.get(..len)?, after.get(len..)?))
}

/// A small part inflated (at most `max` bytes).
fn inflate_small(part: &[u8], max: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(part)
        .take(max)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// A `Start` / `Reload` frame as [`to_child_pieces`] makes it (the
/// envelope's head, the configuration's own stream, the envelope's tail),
/// its configuration decoded as it inflates without its whole JSON
/// (crate::config_stream). `None`: not of that shape, for the generic
/// decoder.
fn decode_config_frame(body: &[u8]) -> Option<Result<ToChild, IpcError>> {
    let (head, rest) = next_part(body)?;
    let (config, rest) = next_part(rest)?;
    let (tail, rest) = next_part(rest)?;
    if !rest.is_empty() || inflate_small(tail, 2)? != b"}" {
        return None;
    }
    let start = match &inflate_small(head, 16)?[..] {
        b"{\"Start\":" => true,
        b"{\"Reload\":" => false,
        _ => return None,
    };
    Some(decode_config(PartsInflater::single(config)).map(|config| {
        let payload = ConfigPayload::Parsed(Box::new(config));
        if start {
            ToChild::Start(payload)
        } else {
            ToChild::Reload(payload)
        }
    }))
}

/// The message in a frame's body (inflated as it is decoded if
/// [`DEFLATED`]).
fn decode_body<T: DeserializeOwned>(flagged_len: u32, body: &[u8]) -> Result<T, IpcError> {
    if flagged_len & DEFLATED != 0 {
        decode_inflated(&mut PartsInflater::new(body))
    } else {
        Ok(serde_json::from_slice(body)?)
    }
}

/// The JSON of a [`DEFLATED`] body, whole (tests compare frames with it).
#[cfg(test)]
fn frame_json(flagged_len: u32, body: &[u8]) -> Result<Vec<u8>, IpcError> {
    if flagged_len & DEFLATED == 0 {
        return Ok(body.to_vec());
    }
    let mut parts = PartsInflater::new(body);
    let mut json = Vec::new();
    match parts.read_to_end(&mut json) {
        Ok(_) => Ok(json),
        Err(e) => Err(parts.failure.take().unwrap_or(IpcError::Io(e))),
    }
}

/// [`write_frame`] of a [`ToChild`] through [`encode_to_child`].
pub async fn write_to_child<W: AsyncWrite + Unpin>(
    w: &mut W,
    msg: &ToChild,
) -> Result<(), IpcError> {
    for piece in to_child_pieces(msg)? {
        w.write_all(&piece).await?;
    }
    w.flush().await?;
    Ok(())
}

pub async fn write_frame<W: AsyncWrite + Unpin, T: Serialize>(
    w: &mut W,
    msg: &T,
) -> Result<(), IpcError> {
    let frame = encode_frame(msg)?;
    w.write_all(&frame).await?;
    w.flush().await?;
    Ok(())
}

/// Reads one frame; `Ok(None)` on a clean end of stream between frames.
/// Not cancel-safe: run it in a dedicated reader task.
pub async fn read_frame<R: AsyncRead + Unpin, T: DeserializeOwned>(
    r: &mut R,
) -> Result<Option<T>, IpcError> {
    let Some((flagged, body)) = read_body(r).await? else {
        return Ok(None);
    };
    timed_decode(flagged, &body, || decode_body(flagged, &body)).map(Some)
}

/// [`read_frame`] of a [`ToChild`]: a configuration (`Start`, `Reload`) is
/// decoded one virtual server at a time as it inflates, its whole JSON
/// never in memory (34 MB at keepalived issue #2318 size).
pub async fn read_to_child<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<ToChild>, IpcError> {
    let Some((flagged, body)) = read_body(r).await? else {
        return Ok(None);
    };
    timed_decode(flagged, &body, || {
        if flagged & DEFLATED != 0 {
            if let Some(decoded) = decode_config_frame(&body) {
                return decoded;
            }
        }
        decode_body(flagged, &body)
    })
    .map(Some)
}

/// `decode()` of a frame, timed: a configuration's decode is a start and
/// reload phase (`-D`).
fn timed_decode<T>(
    flagged: u32,
    body: &[u8],
    decode: impl FnOnce() -> Result<T, IpcError>,
) -> Result<T, IpcError> {
    let started = std::time::Instant::now();
    let msg = decode()?;
    if flagged & DEFLATED != 0 || body.len() >= 1 << 16 {
        tracing::debug!(
            "ipc: decoded a {} byte frame in {:.1} ms",
            body.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    Ok(msg)
}

/// One frame's length word and body; `Ok(None)` on a clean end of stream
/// between frames.
async fn read_body<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<(u32, Vec<u8>)>, IpcError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < len.len() {
        match r.read(&mut len[got..]).await? {
            0 if got == 0 => return Ok(None),
            0 => return Err(IpcError::Truncated { expected: 4, got }),
            n => got += n,
        }
    }
    let flagged = u32::from_be_bytes(len);
    let len = (flagged & !DEFLATED) as usize;
    if len > MAX_FRAME {
        return Err(IpcError::FrameTooLarge(len));
    }
    // Grown as the bytes arrive: a length that lies costs no allocation.
    let mut body = Vec::new();
    (&mut *r).take(len as u64).read_to_end(&mut body).await?;
    if body.len() < len {
        return Err(IpcError::Truncated {
            expected: len,
            got: body.len(),
        });
    }
    Ok(Some((flagged, body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// conf/keepalived.conf, loaded.
    fn example_config() -> rkeepalived_config::Loaded {
        rkeepalived_config::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conf/keepalived.conf"),
            &rkeepalived_config::LoadOptions::default(),
        )
        .expect("example config")
    }

    #[test]
    fn round_trip_every_message() {
        let msgs = vec![
            ToChild::Start(ConfigPayload::Parsed(Box::default())),
            ToChild::Reload(ConfigPayload::Parsed(Box::default())),
            ToChild::Stop,
            ToChild::Request {
                id: 7,
                query: Query::Metrics,
            },
            ToChild::Bfd(BfdState::now("b1".into(), true)),
            ToChild::ReloadDelta(Box::new(rkeepalived_control::delta::ConfigDelta {
                base: "ab".into(),
                digest: "cd".into(),
                layout: vec![
                    rkeepalived_control::delta::VsSlot::Kept(3),
                    rkeepalived_control::delta::VsSlot::Changed(0),
                ],
                config: Config::default(),
            })),
            ToChild::ConfigDigest("ab".into()),
        ];
        for m in msgs {
            let bytes = encode_frame(&m).expect("encode");
            let (back, used): (ToChild, usize) =
                decode_frame(&bytes).expect("decode").expect("complete");
            assert_eq!(back, m);
            assert_eq!(used, bytes.len());
        }
        let r = FromChild::Reply {
            id: 1,
            reply: Reply::Json(serde_json::json!({"a": [1, 2]})),
        };
        let bytes = encode_frame(&r).expect("encode");
        assert_eq!(
            decode_frame::<FromChild>(&bytes).expect("decode"),
            Some((r, bytes.len()))
        );
        let bytes = encode_frame(&FromChild::NeedFullConfig).expect("encode");
        assert_eq!(
            decode_frame::<FromChild>(&bytes).expect("decode"),
            Some((FromChild::NeedFullConfig, bytes.len()))
        );
    }

    #[test]
    fn partial_and_oversized_frames() {
        let bytes = encode_frame(&FromChild::Reloaded).expect("encode");
        for cut in 0..bytes.len() {
            assert!(decode_frame::<FromChild>(&bytes[..cut])
                .expect("partial is fine")
                .is_none());
        }
        let huge = ((MAX_FRAME + 1) as u32).to_be_bytes();
        assert!(matches!(
            decode_frame::<FromChild>(&huge),
            Err(IpcError::FrameTooLarge(_))
        ));
    }

    /// The supervisor keeps the configuration deflated and sends its JSON
    /// as is: the child decodes the very configuration that was validated.
    #[test]
    fn a_kept_config_reaches_the_child_unchanged() {
        let loaded = example_config();
        let wire = ConfigWire::new(&loaded.config).expect("deflate");
        assert!(wire.deflated_len() < wire.json().expect("inflate").len());
        let bytes = encode_frame(&ToChild::Start(ConfigPayload::Wire(wire))).expect("encode");
        let (back, _): (ToChild, usize) = decode_frame(&bytes).expect("decode").expect("complete");
        match back {
            ToChild::Start(payload) => {
                assert_eq!(payload.into_config().expect("config"), loaded.config)
            }
            other => panic!("expected Start, got {other:?}"),
        }
    }

    /// The configuration goes deflated, and decodes to the same message.
    #[test]
    fn encode_to_child_sends_the_kept_deflated_config() {
        let loaded = example_config();
        let wire = ConfigWire::new(&loaded.config).expect("deflate");
        for msg in [
            ToChild::Start(ConfigPayload::Wire(wire.clone())),
            ToChild::Reload(ConfigPayload::Wire(wire)),
            ToChild::Stop,
            ToChild::Bfd(BfdState::now("b1".into(), true)),
        ] {
            let fast = encode_to_child(&msg).expect("encode");
            let slow = encode_frame(&msg).expect("encode");
            let (back, used): (ToChild, usize) =
                decode_frame(&fast).expect("decode").expect("complete");
            if matches!(msg, ToChild::Start(_) | ToChild::Reload(_)) {
                // Sent deflated, as kept: far smaller than its JSON, and
                // the same JSON once inflated.
                let flagged = u32::from_be_bytes(fast[..4].try_into().unwrap());
                assert_ne!(flagged & DEFLATED, 0);
                assert!(
                    fast.len() * 3 < slow.len(),
                    "{} vs {}",
                    fast.len(),
                    slow.len()
                );
                assert_eq!(
                    &frame_json(flagged, &fast[4..]).expect("inflate")[..],
                    &slow[4..]
                );
            } else {
                assert_eq!(fast, slow);
            }
            assert_eq!(used, fast.len());
            if let ToChild::Reload(p) = back {
                assert_eq!(p.into_config().expect("config"), loaded.config);
            }
        }
    }

    /// A small delta goes as plain JSON, a large one deflated; both decode
    /// to the same message.
    #[test]
    fn large_deltas_go_deflated() {
        let loaded = example_config();
        let delta = |copies: usize| {
            let mut config = loaded.config.clone();
            let vss = config.virtual_servers.clone();
            for _ in 0..copies {
                config.virtual_servers.extend(vss.iter().cloned());
            }
            ToChild::ReloadDelta(Box::new(rkeepalived_control::delta::ConfigDelta {
                base: "a".into(),
                digest: "b".into(),
                layout: Vec::new(),
                config,
            }))
        };
        for (copies, deflated) in [(0, false), (2000, true)] {
            let msg = delta(copies);
            let bytes = encode_to_child(&msg).expect("encode");
            let flagged = u32::from_be_bytes(bytes[..4].try_into().unwrap());
            assert_eq!(flagged & DEFLATED != 0, deflated, "{copies} copies");
            let (back, used): (ToChild, usize) =
                decode_frame(&bytes).expect("decode").expect("complete");
            assert_eq!(used, bytes.len());
            assert_eq!(back, msg);
        }
    }

    /// A configuration frame as `write_to_child` streams it (the kept
    /// deflated stream written from where it is kept) is byte for byte
    /// `encode_to_child`'s, and the reader decodes it as it inflates.
    #[tokio::test]
    async fn a_streamed_config_frame_reads_back() {
        let loaded = example_config();
        let msg = ToChild::Start(ConfigPayload::Wire(
            ConfigWire::new(&loaded.config).expect("deflate"),
        ));
        let frame = encode_to_child(&msg).expect("encode");
        let (mut a, mut b) = tokio::io::duplex(frame.len() + 64);
        write_to_child(&mut a, &msg).await.expect("write");
        drop(a);
        let mut sent = Vec::new();
        b.read_to_end(&mut sent).await.expect("read");
        assert_eq!(sent, frame);
        for split in [true, false] {
            let mut r = &sent[..];
            let got = if split {
                read_to_child(&mut r).await
            } else {
                read_frame::<_, ToChild>(&mut r).await
            };
            match got.expect("decode") {
                Some(ToChild::Start(p)) => {
                    assert_eq!(p.into_config().expect("config"), loaded.config)
                }
                other => panic!("expected Start, got {other:?}"),
            }
        }
        // A Reload too, and every other message through the same reader.
        let reload = ToChild::Reload(ConfigPayload::Wire(
            ConfigWire::new(&loaded.config).expect("deflate"),
        ));
        for msg in [reload, ToChild::Stop, ToChild::ConfigDigest("ab".into())] {
            let frame = encode_to_child(&msg).expect("encode");
            let back = read_to_child(&mut &frame[..]).await.expect("decode");
            match (back, &msg) {
                (Some(ToChild::Reload(p)), ToChild::Reload(_)) => {
                    assert_eq!(p.into_config().expect("config"), loaded.config)
                }
                (back, msg) => assert_eq!(back.as_ref(), Some(msg)),
            }
        }
    }

    /// A configuration frame cut anywhere (the supervisor killed while it
    /// wrote it): the child gets a clear error, never a panic, a hang or a
    /// partial configuration; only a cut before the first byte is a clean
    /// end of stream.
    #[tokio::test]
    async fn a_truncated_streamed_config_frame_is_an_error() {
        let loaded = example_config();
        let wire = ConfigWire::new(&loaded.config).expect("deflate");
        let frame = encode_to_child(&ToChild::Start(ConfigPayload::Wire(wire))).expect("encode");
        let mut cuts: Vec<usize> = (0..12).collect();
        cuts.extend((12..frame.len()).step_by(97));
        cuts.push(frame.len() - 1);
        for cut in cuts {
            assert!(decode_frame::<ToChild>(&frame[..cut])
                .expect("a partial frame waits for more")
                .is_none());
            for got in [
                read_frame::<_, ToChild>(&mut &frame[..cut]).await,
                read_to_child(&mut &frame[..cut]).await,
            ] {
                match (cut, got) {
                    (0, Ok(None)) => {}
                    (1..=3, Err(IpcError::Truncated { expected: 4, got })) => {
                        assert_eq!(got, cut)
                    }
                    (_, Err(IpcError::Truncated { expected, got })) => {
                        assert_eq!((expected, got), (frame.len() - 4, cut - 4))
                    }
                    (cut, other) => panic!("cut at {cut}: {other:?}"),
                }
            }
        }
    }

    /// A complete frame whose deflated configuration is cut inside, or
    /// whose part lengths do not add up: a typed error, not a panic.
    #[test]
    fn a_garbled_streamed_config_frame_is_an_error() {
        let loaded = example_config();
        let wire = ConfigWire::new(&loaded.config).expect("deflate");
        let frame_of = |parts: &[&[u8]], declared: &[usize]| {
            let mut body = Vec::new();
            for (part, len) in parts.iter().zip(declared) {
                body.extend_from_slice(&(*len as u32).to_be_bytes());
                body.extend_from_slice(part);
            }
            let mut frame = ((body.len() as u32) | DEFLATED).to_be_bytes().to_vec();
            frame.extend_from_slice(&body);
            frame
        };
        let (head, tail) = (
            deflate(b"{\"Start\":").expect("deflate"),
            deflate(b"}").expect("deflate"),
        );
        let (head, tail) = (&head[..], &tail[..]);
        let whole = &wire.deflated[..];
        let cut = &whole[..whole.len() / 2];
        let ok = frame_of(&[head, whole, tail], &[head.len(), whole.len(), tail.len()]);
        assert!(matches!(
            decode_frame::<ToChild>(&ok),
            Ok(Some((ToChild::Start(_), _)))
        ));
        assert!(matches!(
            decode_config_frame(&ok[4..]),
            Some(Ok(ToChild::Start(_)))
        ));
        // The configuration's stream cut in the middle: its JSON ends early.
        let short = frame_of(&[head, cut, tail], &[head.len(), cut.len(), tail.len()]);
        assert!(matches!(
            decode_frame::<ToChild>(&short),
            Err(IpcError::Decode(_))
        ));
        assert!(matches!(decode_config_frame(&short[4..]), Some(Err(_))));
        // A part longer than what is left of the body.
        let lying = frame_of(&[head, cut], &[head.len(), whole.len()]);
        assert!(matches!(
            decode_frame::<ToChild>(&lying),
            Err(IpcError::Corrupt(_))
        ));
        assert!(decode_config_frame(&lying[4..]).is_none());
        // Garbage instead of a DEFLATE stream.
        let junk = [0xffu8; 64];
        let garbage = frame_of(
            &[head, &junk[..], tail],
            &[head.len(), junk.len(), tail.len()],
        );
        assert!(decode_frame::<ToChild>(&garbage).is_err());
        assert!(matches!(decode_config_frame(&garbage[4..]), Some(Err(_))));
        // A configuration past MAX_FRAME once inflated.
        let spaces = deflate(&vec![b' '; MAX_FRAME + 10]).expect("deflate");
        let bomb = frame_of(
            &[head, &spaces, tail],
            &[head.len(), spaces.len(), tail.len()],
        );
        assert!(matches!(
            decode_config_frame(&bomb[4..]),
            Some(Err(IpcError::FrameTooLarge(_)))
        ));
    }

    #[tokio::test]
    async fn async_read_write_and_eof() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        write_frame(&mut a, &ToChild::Stop).await.expect("write");
        drop(a);
        let got: Option<ToChild> = read_frame(&mut b).await.expect("read");
        assert_eq!(got, Some(ToChild::Stop));
        let eof: Option<ToChild> = read_frame(&mut b).await.expect("eof");
        assert_eq!(eof, None);
    }

    /// A deflated body that inflates past MAX_FRAME is refused, not
    /// inflated without bound.
    #[test]
    fn a_deflate_bomb_is_refused() {
        let zeros = vec![b' '; MAX_FRAME + 10];
        let part = deflate(&zeros).expect("deflate");
        let mut frame = Vec::new();
        frame.extend_from_slice(&(((4 + part.len()) as u32) | DEFLATED).to_be_bytes());
        frame.extend_from_slice(&(part.len() as u32).to_be_bytes());
        frame.extend_from_slice(&part);
        assert!(matches!(
            decode_frame::<ToChild>(&frame),
            Err(IpcError::FrameTooLarge(_))
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_frame::<ToChild>(&bytes);
            let _ = decode_frame::<FromChild>(&bytes);
        }

        #[test]
        fn arbitrary_deflated_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut frame = ((bytes.len() as u32) | DEFLATED).to_be_bytes().to_vec();
            frame.extend_from_slice(&bytes);
            let _ = decode_frame::<ToChild>(&frame);
        }
    }
}
