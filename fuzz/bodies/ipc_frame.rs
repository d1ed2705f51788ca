//! Supervisor <-> child frames: any bytes decode to a message or a typed
//! error, never a panic.

use rkeepalived::ipc::{decode_frame, encode_frame, FromChild, ToChild};

pub fn run(data: &[u8]) {
    if let Ok(Some((msg, used))) = decode_frame::<ToChild>(data) {
        assert!(used <= data.len());
        // What decodes re-encodes to a frame that decodes to the same value.
        let again = encode_frame(&msg).expect("re-encode");
        let (back, _) = decode_frame::<ToChild>(&again)
            .expect("decode")
            .expect("complete");
        assert_eq!(back, msg);
    }
    let _ = decode_frame::<FromChild>(data);
}
