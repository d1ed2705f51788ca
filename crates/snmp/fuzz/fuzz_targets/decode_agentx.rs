#![no_main]
//! Bytes from the master agent: decoding never panics, and whatever decodes
//! re-encodes to something that decodes to the same PDU.

use libfuzzer_sys::fuzz_target;
use rkeepalived_snmp::agentx::{decode, encode};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((header, pdu, _))) = decode(data) {
        if let Ok(bytes) = encode(&header, &pdu) {
            let again = decode(&bytes).expect("re-encoded PDU decodes");
            assert_eq!(again.map(|(_, p, _)| p), Some(pdu));
        }
    }
});
