#![no_main]
//! Thin libFuzzer wrapper: the body lives in `bodies/bfd_packet.rs` so that the
//! crate's `fuzz_corpus` test replays the committed corpus through it too.

#[path = "../bodies/bfd_packet.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
