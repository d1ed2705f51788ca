//! Splitting a received datagram into netlink messages (checked
//! [`NetlinkBuffer`] views) and classifying them: IPVS payload, ACK,
//! error, end of dump.

use netlink_packet_core::{NetlinkBuffer, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN};

use super::message::IpvsMessage;
use crate::error::DecodeError;

/// `struct nlmsghdr` size.
pub const NLMSG_HDRLEN: usize = 16;
/// `struct genlmsghdr` size (cmd, version, reserved u16).
pub const GENL_HDRLEN: usize = 4;

/// One message from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A message of the IPVS family (dump entry or GET reply).
    Ipvs { seq: u32, msg: IpvsMessage },
    /// NLMSG_ERROR with code 0: the request `seq` succeeded.
    Ack { seq: u32 },
    /// NLMSG_ERROR with a negative errno: request `seq` failed.
    Error { seq: u32, errno: i32 },
    /// NLMSG_DONE: end of a dump; `errno` is set if the dump itself failed.
    Done { seq: u32, errno: i32 },
    /// Any other message type (e.g. a CTRL reply); its raw payload.
    Other {
        seq: u32,
        msg_type: u16,
        payload: Vec<u8>,
    },
}

impl Frame {
    pub fn seq(&self) -> u32 {
        match self {
            Frame::Ipvs { seq, .. }
            | Frame::Ack { seq }
            | Frame::Error { seq, .. }
            | Frame::Done { seq, .. }
            | Frame::Other { seq, .. } => *seq,
        }
    }
}

fn i32_at(payload: &[u8]) -> Result<i32, DecodeError> {
    payload
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(i32::from_ne_bytes)
        .ok_or(DecodeError::Truncated {
            need: 4,
            have: payload.len(),
        })
}

/// Parse every netlink message in `buf`; messages whose type is
/// `ipvs_family` are decoded as [`IpvsMessage`].
pub fn parse_frames(buf: &[u8], ipvs_family: u16) -> Result<Vec<Frame>, DecodeError> {
    let mut frames = Vec::new();
    let mut offset = 0;
    while offset < buf.len() {
        let rest = &buf[offset..];
        let nl = NetlinkBuffer::new_checked(rest)
            .map_err(|_| DecodeError::BadMessageLength { len: rest.len() })?;
        let len = nl.length() as usize;
        if len < NLMSG_HDRLEN {
            return Err(DecodeError::BadMessageLength { len });
        }
        let seq = nl.sequence_number();
        let payload = nl.payload();
        let frame = match nl.message_type() {
            NLMSG_ERROR => match i32_at(payload)? {
                0 => Frame::Ack { seq },
                // wrapping: a hostile i32::MIN must not overflow (fuzzer finding)
                code => Frame::Error {
                    seq,
                    errno: code.wrapping_neg(),
                },
            },
            NLMSG_DONE => Frame::Done {
                seq,
                // Older kernels send an empty DONE payload.
                errno: i32_at(payload).map(i32::wrapping_neg).unwrap_or(0),
            },
            NLMSG_NOOP | NLMSG_OVERRUN => {
                offset += (len + 3) & !3;
                continue;
            }
            t if t == ipvs_family => {
                if payload.len() < GENL_HDRLEN {
                    return Err(DecodeError::Truncated {
                        need: GENL_HDRLEN,
                        have: payload.len(),
                    });
                }
                Frame::Ipvs {
                    seq,
                    msg: IpvsMessage::parse(payload[0], &payload[GENL_HDRLEN..])?,
                }
            }
            msg_type => Frame::Other {
                seq,
                msg_type,
                payload: payload.to_vec(),
            },
        };
        frames.push(frame);
        offset += (len + 3) & !3;
    }
    Ok(frames)
}
