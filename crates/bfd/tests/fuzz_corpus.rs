//! Fuzz smoke: every committed corpus file of `fuzz/` (and the crash
//! reproducers kept there) through each fuzz target's body, then a short
//! time-boxed mutation pass. Runs on stable without cargo-fuzz; see FUZZING.md.

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[path = "../fuzz/bodies/bfd_packet.rs"]
mod bfd_packet;

#[test]
fn fuzz_corpus_replay_and_smoke() {
    replay::run(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz"),
        &[("bfd_packet", bfd_packet::run)],
    );
}
