//! Fuzz smoke: every committed corpus file of `fuzz/` (and the crash
//! reproducers kept there) through each fuzz target's body, then a short
//! time-boxed mutation pass. Runs on stable without cargo-fuzz; see FUZZING.md.

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[path = "../fuzz/bodies/arp_frame.rs"]
mod arp_frame;
#[path = "../fuzz/bodies/decode_ah.rs"]
mod decode_ah;
#[path = "../fuzz/bodies/decode_ipv4.rs"]
mod decode_ipv4;
#[path = "../fuzz/bodies/decode_ipv6.rs"]
mod decode_ipv6;
#[path = "../fuzz/bodies/decode_vrrp.rs"]
mod decode_vrrp;
#[path = "../fuzz/bodies/netlink_event.rs"]
mod netlink_event;
#[path = "../fuzz/bodies/proc_event.rs"]
mod proc_event;

#[test]
fn fuzz_corpus_replay_and_smoke() {
    replay::run(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz"),
        &[
            ("arp_frame", arp_frame::run),
            ("decode_ah", decode_ah::run),
            ("decode_ipv4", decode_ipv4::run),
            ("decode_ipv6", decode_ipv6::run),
            ("decode_vrrp", decode_vrrp::run),
            ("netlink_event", netlink_event::run),
            ("proc_event", proc_event::run),
        ],
    );
}
