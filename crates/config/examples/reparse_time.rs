//! Times a cached reload's parse (issue #17 item 1): copies FILE to
//! FILE.cur<pid> and loads it to build a re-parse cache, then copies CHANGED
//! (FILE with one virtual server changed) over it and loads it with the
//! cache N times, printing each load's time (one path: the cache is keyed
//! by the file's name; one per process, so runs can overlap). For profiling the
//! supervisor's re-parse on its own (perf record, callgrind):
//!
//!   cargo run --release -p rkeepalived-config --example reparse_time -- FILE CHANGED [N] [--no-spares]
//!
//! Before each timed load the cache's spares are made (untimed), as the
//! background thread does between reloads; `--no-spares` times the clones.
use std::path::Path;
use std::time::Instant;

use rkeepalived_config::{load_reusing, LoadOptions, Processes};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(file), Some(changed)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: reparse_time FILE CHANGED [N]");
        std::process::exit(2);
    };
    let n: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(5);
    let opts = LoadOptions::default();
    // Spares only where this program makes them (untimed, below).
    rkeepalived_config::reparse::set_background_spares(false);
    // One path for both (the cache is keyed by the file's name).
    let cur = format!("{file}.cur{}", std::process::id());
    std::fs::copy(file, &cur).expect("copy");
    let t = Instant::now();
    let (first, cache, _) = load_reusing(Path::new(&cur), &opts, Processes::ALL, false, None);
    println!(
        "full load: {:.1} ms (ok: {})",
        t.elapsed().as_secs_f64() * 1e3,
        first.is_ok()
    );
    let Some(cache) = cache else {
        eprintln!("no re-parse cache");
        std::process::exit(1);
    };
    std::fs::copy(changed, &cur).expect("copy");
    let spares = !args.iter().any(|a| a == "--no-spares");
    if spares {
        let before = rss_kib();
        cache.prepare_spares();
        println!("spares: +{} KiB resident", rss_kib().saturating_sub(before));
    }
    for _ in 0..n {
        // Between reloads (seconds apart in the daemon) the spares are
        // made in the background; here, untimed, before each load.
        if spares {
            cache.prepare_spares();
        }
        let t = Instant::now();
        let (out, _, stats) =
            load_reusing(Path::new(&cur), &opts, Processes::ALL, false, Some(&cache));
        println!(
            "cached load: {:.1} ms ({} of {} re-parsed, {} spliced, {} cloned, fallback {:?}, ok: {})",
            t.elapsed().as_secs_f64() * 1e3,
            stats.reparsed(),
            stats.statements,
            stats.spliced,
            stats.cloned,
            stats.fallback,
            out.is_ok()
        );
    }
    let _ = std::fs::remove_file(&cur);
}

/// VmRSS of this process.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
