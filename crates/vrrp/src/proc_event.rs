//! The kernel's process-event connector (`NETLINK_CONNECTOR`, group
//! `CN_IDX_PROC`, linux/cn_proc.h): the pure codec. [`decode`] turns one
//! received datagram into a [`ProcMessage`]; [`listen_message`] builds the
//! `PROC_CN_MCAST_LISTEN` / `PROC_CN_MCAST_IGNORE` request. The socket is in
//! `sys::ProcConnector`, the tracking in [`crate::track_process`].
//!
//! One datagram is one `nlmsghdr` (16 bytes), one `cn_msg` (20 bytes) and
//! one `struct proc_event` (40 bytes), in host byte order. The kernel never
//! chains several events in one datagram (keepalived core/track_process.c
//! `handle_proc_ev()` explains why: the 8-byte alignment of `proc_event`
//! cannot hold for a second one), so only the first message is decoded.
//! Fields are read from bytes, never through a cast, so the 4-byte offset of
//! `proc_event` in the datagram does not matter here.

use thiserror::Error;

/// `NETLINK_CONNECTOR` (linux/netlink.h).
pub const NETLINK_CONNECTOR: i32 = 11;
/// `CN_IDX_PROC` / `CN_VAL_PROC` (linux/connector.h); the index is also the
/// multicast group bound to.
pub const CN_IDX_PROC: u32 = 1;
pub const CN_VAL_PROC: u32 = 1;

const NLMSG_HDRLEN: usize = 16;
const CN_MSG_LEN: usize = 20;
/// `sizeof(struct proc_event)`: what, cpu, timestamp_ns, a 24-byte union.
pub const PROC_EVENT_LEN: usize = 40;
/// The datagram the kernel sends for one event.
pub const DATAGRAM_LEN: usize = NLMSG_HDRLEN + CN_MSG_LEN + PROC_EVENT_LEN;

const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;

/// `enum proc_cn_mcast_op`.
const PROC_CN_MCAST_LISTEN: u32 = 1;
const PROC_CN_MCAST_IGNORE: u32 = 2;

/// `enum what` of `struct proc_event`.
pub const PROC_EVENT_NONE: u32 = 0;
pub const PROC_EVENT_FORK: u32 = 0x0000_0001;
pub const PROC_EVENT_EXEC: u32 = 0x0000_0002;
pub const PROC_EVENT_COMM: u32 = 0x0000_0200;
pub const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// `TASK_COMM_LEN`.
pub const COMM_LEN: usize = 16;

/// The request that subscribes (`enable`) to process events or cancels the
/// subscription: keepalived `set_proc_ev_listen()`. `pid` is the socket's
/// netlink port id (the kernel does not check it).
pub fn listen_message(enable: bool, pid: u32) -> [u8; NLMSG_HDRLEN + CN_MSG_LEN + 4] {
    let mut m = [0u8; NLMSG_HDRLEN + CN_MSG_LEN + 4];
    let len = m.len() as u32;
    m[0..4].copy_from_slice(&len.to_ne_bytes());
    m[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
    // flags 0, seq 0
    m[12..16].copy_from_slice(&pid.to_ne_bytes());
    m[16..20].copy_from_slice(&CN_IDX_PROC.to_ne_bytes());
    m[20..24].copy_from_slice(&CN_VAL_PROC.to_ne_bytes());
    // cn seq 0, ack 0
    m[32..34].copy_from_slice(&4u16.to_ne_bytes());
    // cn flags 0
    let op = if enable {
        PROC_CN_MCAST_LISTEN
    } else {
        PROC_CN_MCAST_IGNORE
    };
    m[36..40].copy_from_slice(&op.to_ne_bytes());
    m
}

/// What one event says (the events track_process needs; the others are
/// [`ProcEvent::Other`]). Pids are the kernel's: `pid` is the thread id,
/// `tgid` the process id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcEvent {
    /// `PROC_EVENT_NONE` with `cn_msg.ack` set: the answer to a listen
    /// request (`err` 0: subscribed).
    Ack {
        err: u32,
    },
    Fork {
        parent_pid: i32,
        parent_tgid: i32,
        child_pid: i32,
        child_tgid: i32,
    },
    Exec {
        pid: i32,
        tgid: i32,
    },
    /// `prctl(PR_SET_NAME)` or a write to `/proc/PID/comm`.
    Comm {
        pid: i32,
        tgid: i32,
        comm: [u8; COMM_LEN],
    },
    Exit {
        pid: i32,
        tgid: i32,
        exit_code: u32,
        exit_signal: u32,
    },
    /// UID, GID, SID, PTRACE, COREDUMP, NONZERO_EXIT, or a newer kind.
    Other {
        what: u32,
    },
}

impl ProcEvent {
    /// Whether the event is about a whole process rather than one of its
    /// other threads (keepalived ignores thread events: `tgid == pid`).
    pub fn is_process(&self) -> bool {
        match *self {
            ProcEvent::Fork {
                child_pid,
                child_tgid,
                ..
            } => child_pid == child_tgid,
            ProcEvent::Exec { pid, tgid }
            | ProcEvent::Comm { pid, tgid, .. }
            | ProcEvent::Exit { pid, tgid, .. } => pid == tgid,
            ProcEvent::Ack { .. } | ProcEvent::Other { .. } => true,
        }
    }
}

/// `comm` up to its first NUL.
pub fn comm_str(comm: &[u8; COMM_LEN]) -> &[u8] {
    let end = comm.iter().position(|&b| b == 0).unwrap_or(COMM_LEN);
    &comm[..end]
}

/// One decoded datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcMessage {
    /// CPU that produced the event; `cn_msg.seq` counts per CPU, so a gap
    /// means lost events.
    pub cpu: u32,
    pub seq: u32,
    pub event: ProcEvent,
}

/// Why a datagram is not a process event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("process event datagram too short ({0} bytes)")]
    Short(usize),
    #[error("netlink message length {len} does not fit the {got}-byte datagram")]
    BadLength { len: u32, got: usize },
    /// `NLMSG_ERROR` / `NLMSG_NOOP` (keepalived skips them).
    #[error("netlink control message (type {0})")]
    Control(u16),
    #[error("connector message for {idx}:{val}, not the process connector")]
    NotProc { idx: u32, val: u32 },
    #[error("connector payload of {0} bytes is shorter than a proc_event")]
    ShortPayload(u16),
    /// keepalived: `(proc_ev.what == PROC_EVENT_NONE) != cn_msg.ack` is skipped.
    #[error("ack flag does not match the event")]
    AckMismatch,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(&b[at..at + 2]);
    u16::from_ne_bytes(a)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_ne_bytes(a)
}

fn i32_at(b: &[u8], at: usize) -> i32 {
    u32_at(b, at) as i32
}

/// Decodes one datagram received on the connector socket (keepalived
/// `handle_proc_ev()`'s checks, in its order). Never panics.
pub fn decode(buf: &[u8]) -> Result<ProcMessage, DecodeError> {
    if buf.len() < NLMSG_HDRLEN {
        return Err(DecodeError::Short(buf.len()));
    }
    let nl_len = u32_at(buf, 0);
    // NLMSG_OK(): the header fits and the message fits the datagram.
    if (nl_len as usize) < NLMSG_HDRLEN || nl_len as usize > buf.len() {
        return Err(DecodeError::BadLength {
            len: nl_len,
            got: buf.len(),
        });
    }
    let nl_type = u16_at(buf, 4);
    if nl_type == NLMSG_ERROR || nl_type == NLMSG_NOOP {
        return Err(DecodeError::Control(nl_type));
    }
    let msg = &buf[..nl_len as usize];
    if msg.len() < NLMSG_HDRLEN + CN_MSG_LEN {
        return Err(DecodeError::Short(msg.len()));
    }
    let cn = &msg[NLMSG_HDRLEN..];
    let (idx, val) = (u32_at(cn, 0), u32_at(cn, 4));
    if idx != CN_IDX_PROC || val != CN_VAL_PROC {
        return Err(DecodeError::NotProc { idx, val });
    }
    let seq = u32_at(cn, 8);
    let ack = u32_at(cn, 12);
    let data_len = u16_at(cn, 16);
    let data = &cn[CN_MSG_LEN..];
    if (data_len as usize) < PROC_EVENT_LEN || data.len() < PROC_EVENT_LEN {
        return Err(DecodeError::ShortPayload(data_len.min(data.len() as u16)));
    }
    let what = u32_at(data, 0);
    let cpu = u32_at(data, 4);
    if (what == PROC_EVENT_NONE) != (ack != 0) {
        return Err(DecodeError::AckMismatch);
    }
    let d = &data[16..PROC_EVENT_LEN];
    let event = match what {
        PROC_EVENT_NONE => ProcEvent::Ack { err: u32_at(d, 0) },
        PROC_EVENT_FORK => ProcEvent::Fork {
            parent_pid: i32_at(d, 0),
            parent_tgid: i32_at(d, 4),
            child_pid: i32_at(d, 8),
            child_tgid: i32_at(d, 12),
        },
        PROC_EVENT_EXEC => ProcEvent::Exec {
            pid: i32_at(d, 0),
            tgid: i32_at(d, 4),
        },
        PROC_EVENT_COMM => {
            let mut comm = [0u8; COMM_LEN];
            comm.copy_from_slice(&d[8..8 + COMM_LEN]);
            ProcEvent::Comm {
                pid: i32_at(d, 0),
                tgid: i32_at(d, 4),
                comm,
            }
        }
        PROC_EVENT_EXIT => ProcEvent::Exit {
            pid: i32_at(d, 0),
            tgid: i32_at(d, 4),
            exit_code: u32_at(d, 8),
            exit_signal: u32_at(d, 12),
        },
        what => ProcEvent::Other { what },
    };
    Ok(ProcMessage { cpu, seq, event })
}

/// Per-CPU sequence numbers: a gap means the kernel dropped events for us
/// (keepalived logs "Missed %d messages on CPU %u"). Returns how many were
/// missed, if any.
#[derive(Debug, Default, Clone)]
pub struct SeqTracker {
    last: Vec<Option<u32>>,
}

impl SeqTracker {
    pub fn observe(&mut self, m: &ProcMessage) -> Option<u32> {
        // keepalived ignores events from a cpu >= the configured CPU count
        // (3.10 kernels send UINT32_MAX); bound the table the same way.
        let cpu = usize::try_from(m.cpu).ok().filter(|c| *c < 4096)?;
        if self.last.len() <= cpu {
            self.last.resize(cpu + 1, None);
        }
        let prev = self.last[cpu].replace(m.seq);
        let prev = prev?;
        let missed = m.seq.wrapping_sub(prev).wrapping_sub(1);
        (missed != 0 && missed < u32::MAX / 2).then_some(missed)
    }

    pub fn reset(&mut self) {
        self.last.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // Captured on x86_64 (Linux 6.18): the answer to a listen request, then
    // a shell (pid 0x184d) forked by pid 0x1824, exec'ing, renaming itself
    // ("x\n" written to /proc/self/comm) and exiting with signal 17 to its
    // parent.
    const ACK: &str = "4c00000003000000c1000000000000000100000001000000c1000000010000002800000000000000010000001c822bd2db140000000000000000000000000000000000000000000000000000";
    const FORK: &str = "4c00000003000000c2000000000000000100000001000000c2000000000000002800000001000000010000001a1c2ed2db14000024180000241800004d1800004d1800000000000000000000";
    const EXEC: &str = "4c00000003000000c3000000000000000100000001000000c300000000000000280000000200000001000000691833d2db1400004d1800004d18000000000000000000000000000000000000";
    const COMM: &str = "4c00000003000000c4000000000000000100000001000000c400000000000000280000000002000001000000c9f884d2db1400004d1800004d180000780a0000000000000000000000000000";
    const EXIT: &str = "4c00000003000000f7000000000000000100000001000000f7000000000000002800000000000080000000004ff588dedb1400004d1800004d18000000000000110000002418000024180000";

    #[cfg(target_endian = "little")]
    #[test]
    fn golden_events_decode() {
        let ack = decode(&hex(ACK)).unwrap();
        assert_eq!(ack.event, ProcEvent::Ack { err: 0 });
        assert_eq!((ack.cpu, ack.seq), (1, 0xc1));
        assert_eq!(
            decode(&hex(FORK)).unwrap().event,
            ProcEvent::Fork {
                parent_pid: 0x1824,
                parent_tgid: 0x1824,
                child_pid: 0x184d,
                child_tgid: 0x184d
            }
        );
        assert_eq!(
            decode(&hex(EXEC)).unwrap().event,
            ProcEvent::Exec {
                pid: 0x184d,
                tgid: 0x184d
            }
        );
        let comm = decode(&hex(COMM)).unwrap().event;
        match comm {
            ProcEvent::Comm { pid, tgid, comm } => {
                assert_eq!((pid, tgid), (0x184d, 0x184d));
                assert_eq!(comm_str(&comm), b"x\n");
            }
            other => panic!("{other:?}"),
        }
        let exit = decode(&hex(EXIT)).unwrap();
        assert_eq!(
            exit.event,
            ProcEvent::Exit {
                pid: 0x184d,
                tgid: 0x184d,
                exit_code: 0,
                exit_signal: 17
            }
        );
        assert_eq!((exit.cpu, exit.seq), (0, 0xf7));
        assert!(exit.event.is_process());
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn listen_request_matches_keepalived_layout() {
        // struct { nlmsghdr; cn_msg; enum proc_cn_mcast_op } as keepalived's
        // set_proc_ev_listen() sends it: 40 bytes, NLMSG_DONE, 1:1, len 4.
        assert_eq!(
            listen_message(true, 0x1234).to_vec(),
            hex("28000000030000000000000034120000010000000100000000000000000000000400000001000000")
        );
        assert_eq!(listen_message(false, 0)[36], 2);
    }

    #[test]
    fn malformed_datagrams_are_typed_errors() {
        let good = hex(EXEC);
        assert_eq!(decode(&good[..10]), Err(DecodeError::Short(10)));
        // Length beyond the datagram.
        assert!(matches!(
            decode(&good[..70]),
            Err(DecodeError::BadLength { len: 76, got: 70 })
        ));
        let mut b = good.clone();
        b[4] = 2; // NLMSG_ERROR
        assert_eq!(decode(&b), Err(DecodeError::Control(2)));
        let mut b = good.clone();
        b[16] = 9; // another connector index
        assert!(matches!(
            decode(&b),
            Err(DecodeError::NotProc { idx: 9, .. })
        ));
        let mut b = good.clone();
        b[28] = 1; // ack on a non-NONE event
        assert_eq!(decode(&b), Err(DecodeError::AckMismatch));
        let mut b = good.clone();
        b[32] = 8; // payload length below a proc_event
        assert!(matches!(decode(&b), Err(DecodeError::ShortPayload(8))));
        let mut b = good;
        b[36..40].copy_from_slice(&0x100u32.to_ne_bytes()); // PTRACE
        assert_eq!(decode(&b).unwrap().event, ProcEvent::Other { what: 0x100 });
    }

    #[test]
    fn thread_events_are_not_process_events() {
        let e = ProcEvent::Exit {
            pid: 11,
            tgid: 10,
            exit_code: 0,
            exit_signal: 0,
        };
        assert!(!e.is_process());
        let f = ProcEvent::Fork {
            parent_pid: 1,
            parent_tgid: 1,
            child_pid: 11,
            child_tgid: 10,
        };
        assert!(!f.is_process());
    }

    #[test]
    fn sequence_gaps_count_missed_events() {
        let m = |cpu, seq| ProcMessage {
            cpu,
            seq,
            event: ProcEvent::Other { what: 4 },
        };
        let mut s = SeqTracker::default();
        assert_eq!(s.observe(&m(0, 5)), None);
        assert_eq!(s.observe(&m(1, 100)), None);
        assert_eq!(s.observe(&m(0, 6)), None);
        assert_eq!(s.observe(&m(0, 9)), Some(2));
        assert_eq!(s.observe(&m(1, 101)), None);
        assert_eq!(s.observe(&m(1, 200)), Some(98));
        // A jump backwards is not counted as billions of lost events.
        assert_eq!(s.observe(&m(1, 150)), None);
        assert_eq!(s.observe(&m(1, u32::MAX)), None);
        assert_eq!(s.observe(&m(1, 0)), None, "wraps");
        assert_eq!(s.observe(&m(u32::MAX, 0)), None, "bogus cpu ignored");
    }
}
