//! The top level read as it streams (each statement parsed and dropped as
//! the tree builder closes it, see src/parse/stream.rs) gives exactly what
//! reading the whole tree gives: same model, same warnings in the same
//! order, same errors, on every configuration we have and on the orders
//! that make streaming start over.

use std::path::{Path, PathBuf};

use rkeepalived_config::{parse_str_streaming, LoadOptions};

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("lb1".into()),
    }
}

/// Streamed from the first statement (budget 0) and never (the whole top
/// level at the end), as text for a readable diff.
fn both(text: &str, name: &str) -> (String, String) {
    let streamed = parse_str_streaming(text, name, &opts(), 0);
    let whole = parse_str_streaming(text, name, &opts(), usize::MAX);
    (format!("{streamed:#?}"), format!("{whole:#?}"))
}

fn conf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            conf_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "conf") {
            out.push(p);
        }
    }
}

#[test]
fn every_configuration_we_have_reads_the_same_streamed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["tests/data", "conf", "crates/config/tests", "packaging"] {
        conf_files(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() >= 50, "only {} files", files.len());
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).expect("read")).into_owned();
        let name = f.display().to_string();
        let (streamed, whole) = both(&text, &name);
        assert!(
            streamed == whole,
            "{name}: streamed\n{streamed}\nwhole\n{whole}"
        );
    }
}

const VS: &str = "virtual_server 192.0.2.100 80 {\n    protocol TCP\n    real_server 192.0.2.11 80 {\n        TCP_CHECK {\n        }\n    }\n}\n";

#[test]
fn a_late_global_defs_or_group_starts_over_and_still_applies() {
    // Each of these comes after a virtual server that streaming has
    // already read; the two passes apply them to the whole file.
    let lates = [
        "global_defs {\n    router_id late\n    checker_log_all_failures\n    smtp_alert_checker\n}\n",
        "virtual_server_group G {\n    192.0.2.100 80\n}\nvirtual_server group G {\n    protocol TCP\n    real_server 192.0.2.12 80 {\n    }\n}\n",
        "vrrp_track_file F {\n    file /tmp/none\n    weight 7\n}\n",
        "vrrp_script S {\n    script /bin/true\n}\n",
    ];
    for late in lates {
        let text = format!("{VS}{VS}{late}{VS}");
        let (streamed, whole) = both(&text, "late.conf");
        assert!(
            streamed == whole,
            "{late}: streamed\n{streamed}\nwhole\n{whole}"
        );
    }
    let text = format!("{VS}global_defs {{\n    router_id late\n}}\n");
    let loaded = parse_str_streaming(&text, "late.conf", &opts(), 0).expect("loads");
    assert_eq!(loaded.config.global_defs.router_id.as_deref(), Some("late"));
}

#[test]
fn errors_and_unclosed_blocks_read_the_same_streamed() {
    let texts = [
        format!("{VS}virtual_server 192.0.2.101 80 {{\n    lb_algo nope\n}}\n{VS}"),
        format!("{VS}}}\n{VS}"),
        format!("{VS}virtual_server 192.0.2.101 80 {{\n    real_server 192.0.2.11 80 {{\n"),
        format!("{VS}global_defs {{\n    router_id x\n"),
        format!("{VS}bogus_top_level 1\n{VS}vrrp_instance VI {{\n    state NOPE\n}}\n"),
    ];
    for text in &texts {
        let (streamed, whole) = both(text, "err.conf");
        assert!(
            streamed == whole,
            "{text}: streamed\n{streamed}\nwhole\n{whole}"
        );
    }
}
