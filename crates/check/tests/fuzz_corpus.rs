//! Fuzz smoke: every committed corpus file of `fuzz/` (and the crash
//! reproducers kept there) through each fuzz target's body, then a short
//! time-boxed mutation pass. Runs on stable without cargo-fuzz; see FUZZING.md.

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[path = "../fuzz/bodies/dns_reply.rs"]
mod dns_reply;
#[path = "../fuzz/bodies/http_response.rs"]
mod http_response;
#[path = "../fuzz/bodies/icmp_reply.rs"]
mod icmp_reply;
#[path = "../fuzz/bodies/smtp_reply.rs"]
mod smtp_reply;
#[path = "../fuzz/bodies/udp_reply.rs"]
mod udp_reply;

#[test]
fn fuzz_corpus_replay_and_smoke() {
    replay::run(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz"),
        &[
            ("dns_reply", dns_reply::run),
            ("http_response", http_response::run),
            ("icmp_reply", icmp_reply::run),
            ("smtp_reply", smtp_reply::run),
            ("udp_reply", udp_reply::run),
        ],
    );
}
