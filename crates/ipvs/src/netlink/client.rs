//! Synchronous IPVS client over a `NETLINK_GENERIC` socket, implementing
//! [`IpvsBackend`], plus a tokio-friendly wrapper.
//!
//! Bulk changes are pipelined: up to [`NetlinkIpvs::batch_limit`] requests
//! go out in one `sendmsg` (the kernel's `netlink_rcv_skb` walks every
//! message of the datagram), only the last one asks for an ACK, and errors
//! of the others come back as NLMSG_ERROR with their sequence numbers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, ParseableParametrized, NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlHeader, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

use super::attrs::{cmd, CmdAttr};
use super::frame::{parse_frames, Frame, GENL_HDRLEN};
use super::message::{
    dest_from_attrs, encode_request, op_message, service_from_attrs, service_identity,
    service_key_attrs, DaemonState, DestInfo, IpvsInfo, IpvsMessage, ServiceInfo, SyncDaemon,
    Timeouts, REQUEST_ACK, REQUEST_DUMP,
};
use crate::backend::IpvsBackend;
use crate::error::{DecodeError, Errno, IpvsError};
use crate::model::{IpvsState, Op, ServiceEntry, ServiceKey};

/// `GENL_ID_CTRL`
const GENL_ID_CTRL: u16 = 0x10;
/// Receive buffer for one datagram: dump parts are at most ~32 KiB.
const RECV_CHUNK: usize = 64 * 1024;
/// Socket buffers big enough for a window of error replies.
const SOCKET_BUFFER: usize = 4 * 1024 * 1024;

/// A service with its dests and counters, for metrics and `ipvsadm -Sn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDump {
    pub info: ServiceInfo,
    pub dests: Vec<DestInfo>,
}

/// What the client did, for metrics: requests sent, datagrams, and the
/// failures by kind (kernel rejections, undecodable replies, socket errors).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientCounters {
    pub requests: u64,
    pub datagrams: u64,
    pub kernel_errors: u64,
    pub decode_errors: u64,
    pub io_errors: u64,
}

/// IPVS over generic netlink.
pub struct NetlinkIpvs {
    counters: ClientCounters,
    socket: Socket,
    family_id: u16,
    seq: u32,
    recv_buf: Vec<u8>,
    /// Most requests sent in one datagram by [`NetlinkIpvs::apply_ops`].
    pub batch_limit: usize,
    /// Most GET_DEST dumps sent in one datagram by [`NetlinkIpvs::dests_many`]
    /// (default 1, see there).
    pub dump_window: usize,
}

impl NetlinkIpvs {
    /// Open a socket and resolve the "IPVS" family through the controller.
    /// Fails with [`IpvsError::FamilyNotFound`] when `ip_vs` isn't loaded.
    pub fn connect() -> Result<Self, IpvsError> {
        // net_namespace_ipvs: the socket is opened in that namespace.
        let ns = crate::netns::ipvs_namespace();
        let mut socket =
            crate::netns::in_namespace(ns.as_deref(), || Socket::new(NETLINK_GENERIC))??;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Best effort: bigger buffers only make batching safer. As root,
        // SO_RCVBUFFORCE lifts the net.core.rmem_max cap.
        if nix::sys::socket::setsockopt(
            &socket,
            nix::sys::socket::sockopt::RcvBufForce,
            &SOCKET_BUFFER,
        )
        .is_err()
        {
            let _ = socket.set_rx_buf_sz(SOCKET_BUFFER);
        }
        let _ = socket.set_cap_ack(true);
        let mut client = NetlinkIpvs {
            counters: ClientCounters::default(),
            socket,
            family_id: 0,
            seq: 0,
            recv_buf: Vec::with_capacity(RECV_CHUNK),
            batch_limit: 256,
            dump_window: 1,
        };
        client.family_id = client.resolve_family()?;
        Ok(client)
    }

    /// The dynamically assigned generic netlink id of "IPVS".
    pub fn family_id(&self) -> u16 {
        self.family_id
    }

    /// Counters since `connect`.
    pub fn counters(&self) -> ClientCounters {
        self.counters
    }

    /// Send one datagram holding `requests` netlink requests.
    fn send_datagram(&mut self, datagram: &[u8], requests: usize) -> Result<(), IpvsError> {
        self.counters.datagrams += 1;
        self.counters.requests += requests as u64;
        self.socket.send(datagram, 0).map(|_| ()).map_err(|e| {
            self.counters.io_errors += 1;
            IpvsError::Io(e)
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn resolve_family(&mut self) -> Result<u16, IpvsError> {
        let seq = self.next_seq();
        let mut genl = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(
                super::message::IPVS_GENL_NAME.to_string(),
            )],
        });
        genl.finalize();
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST;
        header.sequence_number = seq;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::from(genl));
        nl.finalize();
        let mut buf = vec![0u8; nl.buffer_len()];
        nl.serialize(&mut buf);
        self.socket.send(&buf, 0)?;
        loop {
            for frame in self.recv_frames()? {
                match frame {
                    Frame::Error { seq: s, errno } if s == seq => {
                        return Err(if errno == libc::ENOENT {
                            IpvsError::FamilyNotFound
                        } else {
                            IpvsError::Kernel {
                                op: "resolve generic netlink family IPVS".into(),
                                errno: Errno::from_raw(errno),
                            }
                        });
                    }
                    Frame::Other {
                        seq: s,
                        msg_type: GENL_ID_CTRL,
                        payload,
                    } if s == seq => return family_id_from_ctrl(&payload),
                    _ => {}
                }
            }
        }
    }

    fn recv_frames(&mut self) -> Result<Vec<Frame>, IpvsError> {
        self.recv_buf.clear();
        self.recv_buf.reserve(RECV_CHUNK);
        let n = match self.socket.recv(&mut self.recv_buf, 0) {
            Ok(n) => n,
            Err(e) => {
                self.counters.io_errors += 1;
                return Err(e.into());
            }
        };
        let frames = if n > self.recv_buf.len() {
            Err(DecodeError::Truncated {
                need: n,
                have: self.recv_buf.len(),
            })
        } else {
            parse_frames(&self.recv_buf, self.family_id)
        };
        let frames = frames.inspect_err(|_| self.counters.decode_errors += 1)?;
        self.counters.kernel_errors += frames
            .iter()
            .filter(|f| matches!(f, Frame::Error { .. } | Frame::Done { errno: 1.., .. }))
            .count() as u64;
        Ok(frames)
    }

    /// Send one request and wait for its ACK; `what` names it in errors.
    pub fn request(&mut self, msg: IpvsMessage, what: &str) -> Result<(), IpvsError> {
        let seq = self.next_seq();
        self.send_datagram(&encode_request(self.family_id, seq, REQUEST_ACK, msg), 1)?;
        loop {
            for frame in self.recv_frames()? {
                match frame {
                    Frame::Ack { seq: s } if s == seq => return Ok(()),
                    Frame::Error { seq: s, errno } if s == seq => {
                        return Err(IpvsError::Kernel {
                            op: what.to_string(),
                            errno: Errno::from_raw(errno),
                        })
                    }
                    _ => {}
                }
            }
        }
    }

    /// Send a GET request (dump if `dump`) and collect the IPVS replies.
    pub fn query(
        &mut self,
        msg: IpvsMessage,
        dump: bool,
        what: &str,
    ) -> Result<Vec<IpvsMessage>, IpvsError> {
        let seq = self.next_seq();
        let flags = if dump { REQUEST_DUMP } else { REQUEST_ACK };
        self.send_datagram(&encode_request(self.family_id, seq, flags, msg), 1)?;
        let mut out = Vec::new();
        let kernel_err = |errno: i32| IpvsError::Kernel {
            op: what.to_string(),
            errno: Errno::from_raw(errno),
        };
        loop {
            for frame in self.recv_frames()? {
                match frame {
                    Frame::Ipvs { seq: s, msg } if s == seq => {
                        out.push(msg);
                    }
                    Frame::Done { seq: s, errno } if s == seq => {
                        return if errno == 0 {
                            Ok(out)
                        } else {
                            Err(kernel_err(errno))
                        };
                    }
                    Frame::Ack { seq: s } if s == seq => return Ok(out),
                    Frame::Error { seq: s, errno } if s == seq => return Err(kernel_err(errno)),
                    _ => {}
                }
            }
        }
    }

    /// All services with counters (`IPVS_CMD_GET_SERVICE` dump).
    pub fn services(&mut self) -> Result<Vec<ServiceInfo>, IpvsError> {
        let replies = self.query(
            IpvsMessage::new(cmd::GET_SERVICE, vec![]),
            true,
            "dump services",
        )?;
        replies
            .iter()
            .map(|m| {
                let attrs = m
                    .service_attrs()
                    .ok_or(DecodeError::Missing("IPVS_CMD_ATTR_SERVICE"))?;
                Ok(service_from_attrs(attrs)?)
            })
            .collect()
    }

    /// Dests of one service with counters (`IPVS_CMD_GET_DEST` dump).
    pub fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestInfo>, IpvsError> {
        let msg = IpvsMessage::new(cmd::GET_DEST, vec![CmdAttr::Service(service_identity(key))]);
        let replies = self.query(msg, true, &format!("dump dests of {key}"))?;
        replies
            .iter()
            .map(|m| {
                let attrs = m
                    .dest_attrs()
                    .ok_or(DecodeError::Missing("IPVS_CMD_ATTR_DEST"))?;
                Ok(dest_from_attrs(attrs, key.family())?)
            })
            .collect()
    }

    /// Every service with its dests and counters, in kernel order.
    pub fn dump_all(&mut self) -> Result<Vec<ServiceDump>, IpvsError> {
        let services = self.services()?;
        let keys: Vec<ServiceKey> = services.iter().map(|s| s.service.key).collect();
        let dests = self.dests_many(&keys)?;
        Ok(services
            .into_iter()
            .zip(dests)
            .map(|(info, dests)| ServiceDump { info, dests })
            .collect())
    }

    /// Dests of many services: `dump_window` GET_DEST dumps per datagram.
    /// A socket runs one dump at a time: IPVS's dumpit always needs a
    /// second pass (triggered by our recvmsg) to emit NLMSG_DONE, so any
    /// further dump request in the same datagram gets EBUSY
    /// (`netlink_dump_start` while `cb_running`) and is retried alone.
    /// Measured in the lab, hence the default window of 1; kept
    /// configurable for kernels that finish small dumps in one pass.
    pub fn dests_many(&mut self, keys: &[ServiceKey]) -> Result<Vec<Vec<DestInfo>>, IpvsError> {
        let mut out = Vec::with_capacity(keys.len());
        for window in keys.chunks(self.dump_window.max(1)) {
            let mut datagram = Vec::new();
            let mut slot_of_seq = HashMap::with_capacity(window.len());
            for (i, key) in window.iter().enumerate() {
                let seq = self.next_seq();
                let msg =
                    IpvsMessage::new(cmd::GET_DEST, vec![CmdAttr::Service(service_identity(key))]);
                datagram.extend(encode_request(self.family_id, seq, REQUEST_DUMP, msg));
                slot_of_seq.insert(seq, i);
            }
            self.send_datagram(&datagram, window.len())?;
            let mut results: Vec<Vec<DestInfo>> = vec![Vec::new(); window.len()];
            let mut retry = Vec::new();
            let mut closed = vec![false; window.len()];
            let mut open = window.len();
            while open > 0 {
                for frame in self.recv_frames()? {
                    let Some(&i) = slot_of_seq.get(&frame.seq()) else {
                        continue;
                    };
                    if closed[i] {
                        continue;
                    }
                    if !matches!(frame, Frame::Ipvs { .. } | Frame::Other { .. }) {
                        closed[i] = true;
                    }
                    match frame {
                        Frame::Ipvs { msg, .. } => {
                            let attrs = msg
                                .dest_attrs()
                                .ok_or(DecodeError::Missing("IPVS_CMD_ATTR_DEST"))?;
                            results[i].push(dest_from_attrs(attrs, window[i].family())?);
                        }
                        Frame::Done { errno: 0, .. } | Frame::Ack { .. } => open -= 1,
                        Frame::Error { errno, .. } | Frame::Done { errno, .. }
                            if errno == libc::EBUSY =>
                        {
                            retry.push(i);
                            open -= 1;
                        }
                        Frame::Error { errno, .. } | Frame::Done { errno, .. } => {
                            return Err(IpvsError::Kernel {
                                op: format!("dump dests of {}", window[i]),
                                errno: Errno::from_raw(errno),
                            })
                        }
                        Frame::Other { .. } => {}
                    }
                }
            }
            for i in retry {
                results[i] = self.dests(&window[i])?;
            }
            out.extend(results);
        }
        Ok(out)
    }

    /// Apply many ops, pipelined; one result per op, in order.
    pub fn apply_ops(&mut self, ops: &[Op]) -> Vec<Result<(), IpvsError>> {
        let mut results = Vec::with_capacity(ops.len());
        for window in ops.chunks(self.batch_limit.max(1)) {
            results.extend(self.apply_window(window));
        }
        results
    }

    fn apply_window(&mut self, ops: &[Op]) -> Vec<Result<(), IpvsError>> {
        let mut datagram = Vec::with_capacity(ops.len() * 128);
        let mut index_of_seq = HashMap::with_capacity(ops.len());
        let mut last_seq = 0;
        for (i, op) in ops.iter().enumerate() {
            let seq = self.next_seq();
            // Only the last request is acked; failures are always reported.
            let flags = if i + 1 == ops.len() {
                REQUEST_ACK
            } else {
                NLM_F_REQUEST
            };
            datagram.extend(encode_request(self.family_id, seq, flags, op_message(op)));
            index_of_seq.insert(seq, i);
            last_seq = seq;
        }
        let mut results: Vec<Result<(), IpvsError>> = ops.iter().map(|_| Ok(())).collect();
        if let Err(e) = self.send_datagram(&datagram, ops.len()) {
            let text = e.to_string();
            return ops
                .iter()
                .map(|_| Err(IpvsError::Io(std::io::Error::other(text.clone()))))
                .collect();
        }
        loop {
            let frames = match self.recv_frames() {
                Ok(f) => f,
                Err(e) => {
                    // We cannot tell which ops succeeded: report all as unknown-failed.
                    let text = e.to_string();
                    return ops
                        .iter()
                        .map(|_| Err(IpvsError::Io(std::io::Error::other(text.clone()))))
                        .collect();
                }
            };
            let mut finished = false;
            for frame in frames {
                let seq = frame.seq();
                let Some(&i) = index_of_seq.get(&seq) else {
                    continue;
                };
                match frame {
                    Frame::Error { errno, .. } => {
                        results[i] = Err(IpvsError::kernel(&ops[i], Errno::from_raw(errno)));
                    }
                    Frame::Ack { .. } => {}
                    _ => continue,
                }
                if seq == last_seq {
                    finished = true;
                }
            }
            if finished {
                return results;
            }
        }
    }

    pub fn flush(&mut self) -> Result<(), IpvsError> {
        self.request(IpvsMessage::new(cmd::FLUSH, vec![]), "flush")
    }

    /// Zero counters of one service, or of all (`ipvsadm -Z`).
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), IpvsError> {
        let attrs = key
            .map(|k| vec![CmdAttr::Service(service_key_attrs(k))])
            .unwrap_or_default();
        self.request(IpvsMessage::new(cmd::ZERO, attrs), "zero counters")
    }

    pub fn info(&mut self) -> Result<IpvsInfo, IpvsError> {
        let replies = self.query(IpvsMessage::new(cmd::GET_INFO, vec![]), false, "get info")?;
        let msg = replies
            .first()
            .ok_or(DecodeError::Missing("GET_INFO reply"))?;
        Ok(IpvsInfo::from_message(msg)?)
    }

    pub fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        let replies = self.query(Timeouts::get_message(), false, "get config")?;
        let msg = replies
            .first()
            .ok_or(DecodeError::Missing("GET_CONFIG reply"))?;
        Ok(Timeouts::from_message(msg))
    }

    /// Set timeouts; zero fields are left unchanged.
    pub fn set_timeouts(&mut self, t: Timeouts) -> Result<(), IpvsError> {
        self.request(t.to_message(), "set timeouts")
    }

    pub fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
        self.request(d.start_message(), "start sync daemon")
    }

    pub fn stop_daemon(&mut self, state: DaemonState) -> Result<(), IpvsError> {
        self.request(SyncDaemon::stop_message(state), "stop sync daemon")
    }

    /// Running sync daemons (`IPVS_CMD_GET_DAEMON` dump).
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>, IpvsError> {
        let replies = self.query(
            IpvsMessage::new(cmd::GET_DAEMON, vec![]),
            true,
            "dump daemons",
        )?;
        let mut out = Vec::new();
        for m in &replies {
            for a in &m.attrs {
                if let CmdAttr::Daemon(d) = a {
                    out.push(SyncDaemon::from_attrs(d)?);
                }
            }
        }
        Ok(out)
    }
}

fn family_id_from_ctrl(payload: &[u8]) -> Result<u16, IpvsError> {
    let header = GenlHeader::parse(payload).map_err(|_| DecodeError::Truncated {
        need: GENL_HDRLEN,
        have: payload.len(),
    })?;
    let body = payload.get(GENL_HDRLEN..).unwrap_or_default();
    let ctrl = GenlCtrl::parse_with_param(body, header)
        .map_err(|_| DecodeError::Missing("CTRL_ATTR_FAMILY_ID"))?;
    ctrl.nlas
        .iter()
        .find_map(|a| match a {
            GenlCtrlAttrs::FamilyId(id) => Some(*id),
            _ => None,
        })
        .ok_or(IpvsError::FamilyNotFound)
}

impl IpvsBackend for NetlinkIpvs {
    fn dump(&mut self) -> Result<IpvsState, IpvsError> {
        let mut state = IpvsState::new();
        for svc in self.dump_all()? {
            let mut entry = ServiceEntry::new(svc.info.service);
            for d in svc.dests {
                entry.dests.insert(d.dest.key(), d.dest);
            }
            state.services.insert(entry.service.key, entry);
        }
        Ok(state)
    }

    fn apply(&mut self, op: &Op) -> Result<(), IpvsError> {
        let what = op.to_string();
        self.request(op_message(op), &what)
    }

    fn apply_batch(&mut self, ops: &[Op]) -> Vec<Result<(), IpvsError>> {
        self.apply_ops(ops)
    }

    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        NetlinkIpvs::timeouts(self)
    }

    fn set_timeouts(&mut self, t: Timeouts) -> Result<(), IpvsError> {
        NetlinkIpvs::set_timeouts(self, t)
    }

    fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
        NetlinkIpvs::start_daemon(self, d)
    }

    fn stop_daemon(&mut self, state: DaemonState) -> Result<(), IpvsError> {
        NetlinkIpvs::stop_daemon(self, state)
    }

    fn active_conns(
        &mut self,
        service: &ServiceKey,
    ) -> Result<Vec<(crate::model::DestKey, u32)>, IpvsError> {
        Ok(self
            .dests(service)?
            .into_iter()
            .map(|d| (d.dest.key(), d.active_conns))
            .collect())
    }
}

/// Tokio-friendly handle: each call runs the blocking client on the
/// blocking pool, so the reactor never waits on the kernel.
#[derive(Clone)]
pub struct AsyncNetlinkIpvs {
    inner: Arc<Mutex<NetlinkIpvs>>,
}

impl AsyncNetlinkIpvs {
    pub async fn connect() -> Result<Self, IpvsError> {
        let client = tokio::task::spawn_blocking(NetlinkIpvs::connect)
            .await
            .map_err(|e| IpvsError::Io(std::io::Error::other(e)))??;
        Ok(AsyncNetlinkIpvs {
            inner: Arc::new(Mutex::new(client)),
        })
    }

    /// Run `f` with exclusive access to the client on the blocking pool.
    pub async fn with<T, F>(&self, f: F) -> Result<T, IpvsError>
    where
        T: Send + 'static,
        F: FnOnce(&mut NetlinkIpvs) -> Result<T, IpvsError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut guard = inner
                .lock()
                .map_err(|_| IpvsError::InvalidRequest("IPVS client lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| IpvsError::Io(std::io::Error::other(e)))?
    }

    /// Dump, reconcile and apply `desired` (see [`crate::sync`]).
    pub async fn sync(
        &self,
        desired: IpvsState,
        mut owned: crate::OwnedSet,
    ) -> Result<(crate::SyncReport, crate::OwnedSet), IpvsError> {
        self.with(move |c| {
            let report = crate::sync(c, &desired, &mut owned)?;
            Ok((report, owned))
        })
        .await
    }

    pub async fn dump_all(&self) -> Result<Vec<ServiceDump>, IpvsError> {
        self.with(|c| c.dump_all()).await
    }

    pub async fn counters(&self) -> Result<ClientCounters, IpvsError> {
        self.with(|c| Ok(c.counters())).await
    }
}
