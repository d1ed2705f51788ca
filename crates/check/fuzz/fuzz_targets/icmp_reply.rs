#![no_main]
//! Thin libFuzzer wrapper: the body lives in `bodies/icmp_reply.rs` so that the
//! crate's `fuzz_corpus` test replays the committed corpus through it too.

#[path = "../bodies/icmp_reply.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
