//! Heap used to parse a large configuration, per real server: a guard
//! against layout regressions of the parser and the model (keepalived issue
//! #2318 has 37,298 real servers; bench/scale/README.md has the `-t`
//! numbers against keepalived).
//!
//! Every allocation of this test binary is counted (the `cap` allocator),
//! so this file holds a single test: another test running at the same time
//! would be counted too. The bounds are bytes, never time.

use std::alloc::System;

use cap::Cap;
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_testkit::configs::issue_2318 as gen_2318;

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

#[test]
fn parse_heap_per_real_server_is_bounded() {
    const VS: usize = 150;
    const RS_PER_VS: usize = 16;
    const RS: usize = VS * RS_PER_VS;
    let text = gen_2318(VS, RS_PER_VS);
    let opts = LoadOptions {
        config_id: Some("scale".into()),
    };
    let before = ALLOCATOR.allocated();
    let loaded =
        parse_str(&text, "gen_2318.conf", &opts).expect("the generated configuration loads");
    // The highest the heap has been, less what was there before the parse:
    // an upper bound of what the parse needed at its peak.
    let peak = ALLOCATOR.max_allocated().saturating_sub(before);
    let kept = ALLOCATOR.allocated().saturating_sub(before);
    let real_servers: usize = loaded
        .config
        .virtual_servers
        .iter()
        .map(|vs| vs.real_servers.len())
        .sum();
    assert_eq!(real_servers, RS);
    let (peak_per_rs, kept_per_rs) = (peak / RS, kept / RS);
    eprintln!(
        "{RS} real servers in {} bytes of text: peak {peak} bytes ({peak_per_rs}/real server), model {kept} bytes ({kept_per_rs}/real server)",
        text.len()
    );
    // Measured when this test was written (x86_64): peak 681, model 647
    // bytes per real server (the peak includes the statements queued before
    // streaming starts, ~400 bytes per real server at this size). Reading
    // the whole tree first peaked at ~2,500; a spare Vec<Checker> capacity
    // of 4 costs ~770 more in the model. keepalived 2.2.7's whole process
    // peaks at ~870 bytes per real server (32 MB at 36,544).
    assert!(
        kept_per_rs <= 900,
        "the model takes {kept_per_rs} bytes per real server"
    );
    assert!(
        peak_per_rs <= 1200,
        "parsing peaks at {peak_per_rs} bytes per real server"
    );
    drop(loaded);
}
