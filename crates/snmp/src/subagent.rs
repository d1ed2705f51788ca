//! The AgentX session with the master agent (RFC 2741 §7.1): open,
//! register the served subtrees, answer Get / GetNext / GetBulk from a
//! snapshot, refuse sets (every object is read-only, like keepalived's
//! without SNMP writes), send notifications, and reconnect when the master
//! goes away — as net-snmp's subagent support does for keepalived.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::agentx::{self, res_error, AgentxError, CloseReason, Header, Pdu, VarBind};
use crate::mib::Mib;
use crate::oid::Oid;

/// net-snmp's default AgentX master socket (keepalived's default too).
pub const DEFAULT_SOCKET: &str = "unix:/var/agentx/master";
/// At most this many varbinds in one GetBulk answer.
const MAX_BULK: usize = 1000;
/// A snapshot younger than this answers the next request (a walk is one
/// request per object; the master times out a request after 1 s).
const SNAPSHOT_MAX_AGE: Duration = Duration::from_millis(1000);
/// How long to wait for the master's answer to Open / Register.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the master agent listens: `unix:/path`, `/path`, `tcp:host:port`
/// or `host:port` (net-snmp's agentXSocket syntax; keepalived's
/// `snmp_socket` / `-A`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MasterSocket {
    Unix(PathBuf),
    Tcp(String),
}

impl MasterSocket {
    pub fn parse(s: &str) -> MasterSocket {
        if let Some(p) = s.strip_prefix("unix:") {
            MasterSocket::Unix(PathBuf::from(p))
        } else if s.starts_with('/') {
            MasterSocket::Unix(PathBuf::from(s))
        } else if let Some(a) = s.strip_prefix("tcp:") {
            MasterSocket::Tcp(a.to_string())
        } else {
            MasterSocket::Tcp(s.to_string())
        }
    }
}

impl std::fmt::Display for MasterSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterSocket::Unix(p) => write!(f, "unix:{}", p.display()),
            MasterSocket::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub socket: MasterSocket,
    /// Subtrees registered with the master.
    pub subtrees: Vec<Oid>,
    /// The Open PDU's description.
    pub descr: String,
    /// Pause between connection attempts (net-snmp: agentxRetryInterval, 15 s).
    pub retry: Duration,
}

/// Produces the current objects.
pub type Snapshot = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Mib> + Send>> + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot connect to the AgentX master agent at {socket}: {source}")]
    Connect {
        socket: MasterSocket,
        source: std::io::Error,
    },
    #[error("AgentX i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("AgentX: {0}")]
    Codec(#[from] AgentxError),
    #[error("the master agent closed the session ({0:?})")]
    Closed(Option<CloseReason>),
    #[error("the master agent refused {what} (error {code})")]
    Refused { what: String, code: u16 },
    #[error("the master agent did not answer {0} in time")]
    Timeout(&'static str),
}

/// Runs forever: connects, serves, and reconnects after `retry`.
/// Notifications queued while disconnected are dropped (as net-snmp does).
pub async fn run(settings: Settings, snapshot: Snapshot, mut traps: mpsc::Receiver<Vec<VarBind>>) {
    let mut warned = false;
    loop {
        match serve_once(&settings, &snapshot, &mut traps).await {
            Ok(()) => return,
            Err(e @ SessionError::Connect { .. }) => {
                if !warned {
                    // keepalived (net-snmp) logs this once per outage.
                    tracing::warn!("Warning: Failed to connect to the agentx master agent: {e}");
                    warned = true;
                }
            }
            Err(e) => {
                tracing::warn!("AgentX session ended: {e}; reconnecting");
                warned = false;
            }
        }
        // Drop traps that piled up while there was no session.
        while traps.try_recv().is_ok() {}
        tokio::time::sleep(settings.retry).await;
    }
}

/// One session; `Ok(())` only when the trap sender is gone (shutdown).
async fn serve_once(
    settings: &Settings,
    snapshot: &Snapshot,
    traps: &mut mpsc::Receiver<Vec<VarBind>>,
) -> Result<(), SessionError> {
    let connect_err = |source| SessionError::Connect {
        socket: settings.socket.clone(),
        source,
    };
    match &settings.socket {
        MasterSocket::Unix(p) => {
            let s = tokio::net::UnixStream::connect(p)
                .await
                .map_err(connect_err)?;
            Session::new(s).serve(settings, snapshot, traps).await
        }
        MasterSocket::Tcp(a) => {
            let s = tokio::net::TcpStream::connect(a.as_str())
                .await
                .map_err(connect_err)?;
            Session::new(s).serve(settings, snapshot, traps).await
        }
    }
}

struct Session<S> {
    stream: S,
    buf: Vec<u8>,
    session_id: u32,
    packet_id: u32,
    started: Instant,
    cache: Option<(Instant, Arc<Mib>)>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    fn new(stream: S) -> Self {
        Session {
            stream,
            buf: Vec::new(),
            session_id: 0,
            packet_id: 0,
            started: Instant::now(),
            cache: None,
        }
    }

    async fn send(&mut self, pdu: &Pdu, reply_to: Option<&Header>) -> Result<(), SessionError> {
        let header = match reply_to {
            Some(h) => Header {
                flags: 0,
                session_id: h.session_id,
                transaction_id: h.transaction_id,
                packet_id: h.packet_id,
            },
            None => {
                self.packet_id = self.packet_id.wrapping_add(1);
                Header {
                    flags: 0,
                    session_id: self.session_id,
                    transaction_id: 0,
                    packet_id: self.packet_id,
                }
            }
        };
        let bytes = agentx::encode(&header, pdu)?;
        self.stream.write_all(&bytes).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Reads one PDU (not cancel-safe across partial reads: the buffer is
    /// kept in `self`, so a cancelled read loses nothing).
    async fn recv(&mut self) -> Result<(Header, Pdu), SessionError> {
        loop {
            if let Some((h, pdu, used)) = agentx::decode(&self.buf)? {
                self.buf.drain(..used);
                return Ok((h, pdu));
            }
            let mut chunk = [0u8; 8192];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(SessionError::Closed(None));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends an administrative PDU and waits for its Response (requests
    /// from the master arriving meanwhile cannot happen before Open/Register
    /// complete).
    async fn call(&mut self, pdu: Pdu, what: &str) -> Result<Header, SessionError> {
        self.send(&pdu, None).await?;
        let want = self.packet_id;
        let wait = async {
            loop {
                let (h, reply) = self.recv().await?;
                match reply {
                    Pdu::Response { error, .. } if h.packet_id == want => {
                        if error != res_error::NO_ERROR {
                            return Err(SessionError::Refused {
                                what: what.to_string(),
                                code: error,
                            });
                        }
                        return Ok(h);
                    }
                    Pdu::Close { reason } => return Err(SessionError::Closed(Some(reason))),
                    _ => continue,
                }
            }
        };
        tokio::time::timeout(ADMIN_TIMEOUT, wait)
            .await
            .map_err(|_| SessionError::Timeout("Open/Register"))?
    }

    async fn snapshot(&mut self, source: &Snapshot) -> Arc<Mib> {
        if let Some((at, mib)) = &self.cache {
            if at.elapsed() < SNAPSHOT_MAX_AGE {
                return mib.clone();
            }
        }
        let mib = Arc::new(source().await);
        self.cache = Some((Instant::now(), mib.clone()));
        mib
    }

    fn uptime(&self) -> u32 {
        (self.started.elapsed().as_millis() / 10) as u32
    }

    async fn serve(
        mut self,
        settings: &Settings,
        source: &Snapshot,
        traps: &mut mpsc::Receiver<Vec<VarBind>>,
    ) -> Result<(), SessionError> {
        let id = settings.subtrees.first().cloned().unwrap_or_default();
        let h = self
            .call(
                Pdu::Open {
                    timeout: 0,
                    id,
                    descr: settings.descr.as_bytes().to_vec(),
                },
                "Open",
            )
            .await?;
        self.session_id = h.session_id;
        for subtree in &settings.subtrees {
            self.call(
                Pdu::Register {
                    timeout: 0,
                    priority: 127,
                    range_subid: 0,
                    subtree: subtree.clone(),
                    upper_bound: None,
                },
                &format!("the registration of {subtree}"),
            )
            .await?;
        }
        tracing::info!("AgentX subagent connected to {}", settings.socket);
        loop {
            tokio::select! {
                pdu = self.recv() => {
                    let (h, pdu) = pdu?;
                    self.answer(&h, pdu, source).await?;
                }
                trap = traps.recv() => match trap {
                    Some(varbinds) => self.send(&Pdu::Notify { varbinds }, None).await?,
                    None => {
                        let _ = self.send(&Pdu::Close { reason: CloseReason::Shutdown }, None).await;
                        return Ok(());
                    }
                },
            }
        }
    }

    async fn answer(
        &mut self,
        h: &Header,
        pdu: Pdu,
        source: &Snapshot,
    ) -> Result<(), SessionError> {
        let (error, index, varbinds) = match pdu {
            Pdu::Get { ranges } => {
                let mib = self.snapshot(source).await;
                let vbs = ranges
                    .iter()
                    .map(|r| VarBind {
                        name: r.start.clone(),
                        value: mib.get(&r.start),
                    })
                    .collect();
                (res_error::NO_ERROR, 0, vbs)
            }
            Pdu::GetNext { ranges } => {
                let mib = self.snapshot(source).await;
                (
                    res_error::NO_ERROR,
                    0,
                    ranges.iter().map(|r| mib.get_next(r)).collect(),
                )
            }
            Pdu::GetBulk {
                non_repeaters,
                max_repetitions,
                ranges,
            } => {
                let mib = self.snapshot(source).await;
                let vbs = mib.get_bulk(non_repeaters, max_repetitions, &ranges, MAX_BULK);
                (res_error::NO_ERROR, 0, vbs)
            }
            // Every object is read-only.
            Pdu::TestSet { .. } => (res_error::NOT_WRITABLE, 1, Vec::new()),
            Pdu::CommitSet | Pdu::UndoSet | Pdu::CleanupSet => (res_error::NO_ERROR, 0, Vec::new()),
            Pdu::Close { reason } => return Err(SessionError::Closed(Some(reason))),
            // Answers to our Notify / Ping: nothing to do.
            Pdu::Response { .. } => return Ok(()),
            Pdu::Ping => (res_error::NO_ERROR, 0, Vec::new()),
            _ => (res_error::PROCESSING_ERROR, 0, Vec::new()),
        };
        let reply = Pdu::Response {
            sys_uptime: self.uptime(),
            error,
            index,
            varbinds,
        };
        self.send(&reply, Some(h)).await
    }
}

/// snmpTrapOID.0 (SNMPv2-MIB) and sysUpTime.0, the first varbinds of a
/// notification (RFC 2741 §6.2.10).
pub fn notification(trap_oid: Oid, uptime_centis: u32, mut objects: Vec<VarBind>) -> Vec<VarBind> {
    let mut v = vec![
        VarBind {
            name: Oid::new(&[1, 3, 6, 1, 2, 1, 1, 3, 0]),
            value: agentx::Value::TimeTicks(uptime_centis),
        },
        VarBind {
            name: Oid::new(&[1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0]),
            value: agentx::Value::ObjectIdentifier(trap_oid),
        },
    ];
    v.append(&mut objects);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agentx::{SearchRange, Value};

    #[test]
    fn socket_syntax() {
        assert_eq!(
            MasterSocket::parse("unix:/var/agentx/master"),
            MasterSocket::Unix("/var/agentx/master".into())
        );
        assert_eq!(MasterSocket::parse("/x"), MasterSocket::Unix("/x".into()));
        assert_eq!(
            MasterSocket::parse("tcp:127.0.0.1:705"),
            MasterSocket::Tcp("127.0.0.1:705".into())
        );
    }

    /// A scripted master: Open, Register, GetNext, TestSet, Close.
    #[tokio::test]
    async fn session_against_a_scripted_master() {
        let (ours, mut master) = tokio::io::duplex(1 << 16);
        let mut mib = Mib::new();
        mib.insert(
            "1.3.6.1.4.1.9586.100.5.1.1.0".parse().unwrap(),
            Value::string("v"),
        );
        let mib = Arc::new(mib);
        let snapshot: Snapshot = {
            let mib = mib.clone();
            Arc::new(move || {
                let mib = (*mib).clone();
                Box::pin(async move { mib })
            })
        };
        let settings = Settings {
            socket: MasterSocket::Unix("/unused".into()),
            subtrees: vec!["1.3.6.1.4.1.9586.100.5".parse().unwrap()],
            descr: "test".into(),
            retry: Duration::from_secs(1),
        };
        let (_trap_tx, mut trap_rx) = mpsc::channel(1);
        let agent = tokio::spawn(async move {
            Session::new(ours)
                .serve(&settings, &snapshot, &mut trap_rx)
                .await
        });
        let mut buf = Vec::new();
        async fn next(m: &mut tokio::io::DuplexStream, buf: &mut Vec<u8>) -> (Header, Pdu) {
            loop {
                if let Some((h, p, used)) = agentx::decode(buf).expect("decode") {
                    buf.drain(..used);
                    return (h, p);
                }
                let mut c = [0u8; 4096];
                let n = m.read(&mut c).await.expect("read");
                assert!(n > 0, "subagent hung up");
                buf.extend_from_slice(&c[..n]);
            }
        }
        let reply = |h: &Header, session: u32| {
            agentx::encode(
                &Header {
                    session_id: session,
                    ..*h
                },
                &Pdu::Response {
                    sys_uptime: 0,
                    error: 0,
                    index: 0,
                    varbinds: vec![],
                },
            )
            .unwrap()
        };
        let (h, open) = next(&mut master, &mut buf).await;
        assert!(matches!(open, Pdu::Open { .. }));
        master.write_all(&reply(&h, 42)).await.unwrap();
        let (h, reg) = next(&mut master, &mut buf).await;
        assert_eq!(h.session_id, 42);
        assert!(matches!(reg, Pdu::Register { .. }));
        master.write_all(&reply(&h, 42)).await.unwrap();
        let req = Header {
            flags: 0,
            session_id: 42,
            transaction_id: 5,
            packet_id: 6,
        };
        let getnext = Pdu::GetNext {
            ranges: vec![SearchRange {
                start: "1.3.6.1.4.1.9586.100.5".parse().unwrap(),
                include: false,
                end: Oid::default(),
            }],
        };
        master
            .write_all(&agentx::encode(&req, &getnext).unwrap())
            .await
            .unwrap();
        let (h, resp) = next(&mut master, &mut buf).await;
        assert_eq!((h.transaction_id, h.packet_id), (5, 6));
        match resp {
            Pdu::Response { varbinds, .. } => assert_eq!(varbinds[0].value, Value::string("v")),
            other => panic!("unexpected {other:?}"),
        }
        let set = Pdu::TestSet {
            varbinds: vec![VarBind {
                name: "1.3.6.1.4.1.9586.100.5.1.1.0".parse().unwrap(),
                value: Value::string("x"),
            }],
        };
        master
            .write_all(&agentx::encode(&req, &set).unwrap())
            .await
            .unwrap();
        let (_, resp) = next(&mut master, &mut buf).await;
        assert!(matches!(
            resp,
            Pdu::Response {
                error: res_error::NOT_WRITABLE,
                ..
            }
        ));
        master
            .write_all(
                &agentx::encode(
                    &req,
                    &Pdu::Close {
                        reason: CloseReason::Shutdown,
                    },
                )
                .unwrap(),
            )
            .await
            .unwrap();
        let out = agent.await.expect("join");
        assert!(matches!(
            out,
            Err(SessionError::Closed(Some(CloseReason::Shutdown)))
        ));
    }
}
