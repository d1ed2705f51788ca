//! DNS reply classification and header parsing.
use rkeepalived_check::wire::dns::{classify_reply, Header};

pub fn run(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let id = u16::from_be_bytes([data[0], data[1]]);
    let _ = classify_reply(id, &data[2..]);
    let _ = Header::parse(&data[2..]);
}
