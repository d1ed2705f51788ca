//! Fuzz smoke harness shared by the `fuzz_corpus` tests of the crates that
//! have a `fuzz/` directory (included with `#[path]`, no extra crate).
//!
//! Each libFuzzer target's body lives in `fuzz/bodies/<target>.rs` as
//! `pub fn run(data: &[u8])`; the cargo-fuzz wrapper and this harness call the
//! same function. The harness, on the stable toolchain and without cargo-fuzz:
//!
//! 1. checks that every `[[bin]]` of the fuzz `Cargo.toml` is replayed (a new
//!    target without a test entry fails),
//! 2. replays every committed corpus file (`fuzz/corpus/<target>/*`; crash
//!    reproducers are committed there too, so they stay regression tests),
//! 3. runs a short, time-boxed random mutation pass over the corpus
//!    (`RKEEPALIVED_FUZZ_SMOKE_MS` per target, default 250 ms; 0 disables it;
//!    `RKEEPALIVED_FUZZ_SMOKE_SEED` picks the seed, default fixed).
//!
//! A panicking input is written to the temp directory and the test fails
//! with its path, ready for `scripts/fuzz.sh repro`.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub type Body = fn(&[u8]);

/// Largest input the mutation pass builds (libFuzzer's default -max_len is
/// similar for these corpora).
const MAX_LEN: usize = 8192;

pub fn run(fuzz_dir: &Path, targets: &[(&str, Body)]) {
    check_target_list(fuzz_dir, targets);
    let budget = Duration::from_millis(
        std::env::var("RKEEPALIVED_FUZZ_SMOKE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(250),
    );
    let seed: u64 = std::env::var("RKEEPALIVED_FUZZ_SMOKE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_f022_u64);
    let mut failures = Vec::new();
    for (name, body) in targets {
        let corpus = load_corpus(&fuzz_dir.join("corpus").join(name));
        assert!(
            !corpus.is_empty(),
            "{name}: no committed corpus in {}/corpus/{name}",
            fuzz_dir.display()
        );
        for (path, data) in &corpus {
            if let Err(msg) = call(*body, data) {
                failures.push(format!("{name}: corpus file {}: {msg}", path.display()));
            }
        }
        let (execs, found) = mutate(name, *body, &corpus, budget, seed);
        eprintln!(
            "fuzz smoke {name}: {} corpus files, {execs} mutated inputs in {budget:?}",
            corpus.len()
        );
        failures.extend(found);
    }
    assert!(
        failures.is_empty(),
        "fuzz smoke failures:\n{}",
        failures.join("\n")
    );
}

fn call(body: Body, data: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| body(data))).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".to_string())
    })
}

/// The `[[bin]]` names of the fuzz crate must be exactly the replayed targets.
fn check_target_list(fuzz_dir: &Path, targets: &[(&str, Body)]) {
    let toml = std::fs::read_to_string(fuzz_dir.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let mut in_bin = false;
    let mut bins = BTreeSet::new();
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin {
            if let Some(v) = line.strip_prefix("name") {
                let v = v
                    .trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"');
                bins.insert(v.to_string());
            }
        }
    }
    let replayed: BTreeSet<String> = targets.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        bins,
        replayed,
        "every fuzz target in {}/Cargo.toml needs a replay entry (and a corpus)",
        fuzz_dir.display()
    );
}

fn load_corpus(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(&p).ok().map(|d| (p, d)))
        .collect();
    out.sort();
    out
}

/// xorshift64*: deterministic for a seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(
    name: &str,
    body: Body,
    corpus: &[(PathBuf, Vec<u8>)],
    budget: Duration,
    seed: u64,
) -> (u64, Vec<String>) {
    let mut rng = Rng(seed
        ^ name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
        | 1);
    let start = Instant::now();
    let mut execs = 0u64;
    let mut found = Vec::new();
    while start.elapsed() < budget && found.len() < 3 {
        let mut data = corpus[rng.below(corpus.len())].1.clone();
        for _ in 0..1 + rng.below(4) {
            mutate_once(&mut rng, &mut data, corpus);
        }
        data.truncate(MAX_LEN);
        execs += 1;
        if let Err(msg) = call(body, &data) {
            let path = std::env::temp_dir()
                .join(format!("fuzz-smoke-{name}-{}-{execs}", std::process::id()));
            let _ = std::fs::write(&path, &data);
            found.push(format!(
                "{name}: mutated input saved to {}: {msg}",
                path.display()
            ));
        }
    }
    (execs, found)
}

fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, corpus: &[(PathBuf, Vec<u8>)]) {
    const INTERESTING: [u8; 8] = [0, 1, 0x7f, 0x80, 0xff, b'\n', b' ', b'{'];
    let len = data.len();
    match rng.below(8) {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = rng.next() as u8;
        }
        2 if len > 0 => {
            let i = rng.below(len);
            data[i] = INTERESTING[rng.below(INTERESTING.len())];
        }
        3 => {
            let i = rng.below(len + 1);
            data.insert(i, rng.next() as u8);
        }
        4 if len > 0 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(16)).min(len);
            data.drain(a..b);
        }
        5 if len > 0 => {
            data.truncate(rng.below(len));
        }
        6 if len > 0 => {
            // Duplicate a chunk in place (repeated options, attributes, lines).
            let a = rng.below(len);
            let b = (a + 1 + rng.below(64)).min(len);
            let chunk = data[a..b].to_vec();
            let at = rng.below(len + 1);
            data.splice(at..at, chunk);
        }
        _ => {
            // Splice in a piece of another corpus entry.
            let other = &corpus[rng.below(corpus.len())].1;
            if !other.is_empty() {
                let a = rng.below(other.len());
                let b = (a + 1 + rng.below(64)).min(other.len());
                let at = rng.below(len + 1);
                data.splice(at..at, other[a..b].iter().copied());
            }
        }
    }
}
