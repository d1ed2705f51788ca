#![no_main]
//! Thin libFuzzer wrapper: the body lives in `bodies/proc_event.rs` so that the
//! crate's `fuzz_corpus` test replays the committed corpus through it too.

#[path = "../bodies/proc_event.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::run(data));
