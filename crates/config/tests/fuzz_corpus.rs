//! Fuzz smoke: every committed corpus file of `fuzz/` (and the crash
//! reproducers kept there) through each fuzz target's body, then a short
//! time-boxed mutation pass. Runs on stable without cargo-fuzz; see FUZZING.md.

#[path = "../../../fuzz/replay.rs"]
mod replay;

#[path = "../fuzz/bodies/parse_config.rs"]
mod parse_config;
#[path = "../fuzz/bodies/print_round_trip.rs"]
mod print_round_trip;

#[test]
fn fuzz_corpus_replay_and_smoke() {
    replay::run(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz"),
        &[
            ("parse_config", parse_config::run),
            ("print_round_trip", print_round_trip::run),
        ],
    );
}
