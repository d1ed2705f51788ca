//! Fuzz smoke: every committed corpus file of `fuzz/` (and the crash
//! reproducers kept there) through each fuzz target's body, then a short
//! time-boxed mutation pass. Runs on stable without cargo-fuzz; see FUZZING.md.

#[path = "../fuzz/replay.rs"]
mod replay;

#[path = "../fuzz/bodies/http_head.rs"]
mod http_head;
#[path = "../fuzz/bodies/ipc_frame.rs"]
mod ipc_frame;
#[path = "../fuzz/bodies/web_config.rs"]
mod web_config;

#[test]
fn fuzz_corpus_replay_and_smoke() {
    replay::run(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz"),
        &[
            ("http_head", http_head::run),
            ("ipc_frame", ipc_frame::run),
            ("web_config", web_config::run),
        ],
    );
}
