//! Fuzz every IPVS decoder: netlink framing, the typed attribute levels and
//! the validated model conversions. Any panic is a bug; errors are fine.

use rkeepalived_ipvs::netlink::message::{
    dest_from_attrs, service_from_attrs, service_key_from_attrs,
};
use rkeepalived_ipvs::netlink::{
    encode_request, parse_frames, CmdAttr, Frame, IpvsInfo, IpvsMessage, SyncDaemon, Timeouts,
};

pub fn run(data: &[u8]) {
    if let Ok(frames) = parse_frames(data, 0x20) {
        for frame in frames {
            if let Frame::Ipvs { msg, seq } = frame {
                check_message(&msg);
                // Whatever decodes must re-encode and decode to the same value.
                let again = encode_request(0x20, seq, 0, msg.clone());
                match parse_frames(&again, 0x20).as_deref() {
                    Ok([Frame::Ipvs { msg: back, .. }]) => assert_eq!(back, &msg),
                    other => panic!("re-encoded message does not decode: {other:?}"),
                }
            }
        }
    }
    if let Some((&cmd, rest)) = data.split_first() {
        if let Ok(msg) = IpvsMessage::parse(cmd, rest) {
            check_message(&msg);
        }
    }
}

fn check_message(msg: &IpvsMessage) {
    let _ = IpvsInfo::from_message(msg);
    let _ = Timeouts::from_message(msg);
    for attr in &msg.attrs {
        if let CmdAttr::Daemon(d) = attr {
            let _ = SyncDaemon::from_attrs(d);
        }
    }
    if let Some(svc) = msg.service_attrs() {
        let _ = service_from_attrs(svc);
        if let (Ok(key), Some(dest)) = (service_key_from_attrs(svc), msg.dest_attrs()) {
            let _ = dest_from_attrs(dest, key.family());
        }
    }
}
