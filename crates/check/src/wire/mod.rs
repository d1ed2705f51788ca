//! Sans-IO protocol codecs used by the checkers. Every decoder takes
//! untrusted bytes and returns a typed error, never panics (fuzzed in
//! `crates/check/fuzz`, and by proptests in stable `cargo test`).

pub mod dns;
pub mod http;
pub mod icmp;
pub mod smtp;
