//! Every keepalived 2.2.7 sample configuration loads.

use std::path::Path;

use rkeepalived_config::{load, LoadOptions};

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

#[test]
fn keepalived_samples_load() {
    let dir = Path::new(SAMPLES);
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Path(
        SAMPLES,
        "apt-get install -y keepalived",
    )]) {
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("read samples dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("keepalived.conf."))
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 20,
        "expected the keepalived samples, found {files:?}"
    );
    let mut failures = Vec::new();
    let mut unknown = Vec::new();
    for f in &files {
        // conditional_conf is written for `-i high` / `-i low`.
        for id in ["high", "low"] {
            let opts = LoadOptions {
                config_id: Some(id.to_string()),
            };
            match load(f, &opts) {
                Ok(l) => {
                    for w in l.warnings {
                        eprintln!("[{id}] warning: {w}");
                        // keepalived -t reports these two itself (a sync group
                        // without its group{} block in the lvs_syncd sample).
                        let keepalived_too = w.message.contains("'VI_2' in vrrp_sync_group")
                            || w.message.contains("'VI_3' in vrrp_sync_group");
                        if w.message.contains("unknown keyword") && !keepalived_too {
                            unknown.push(w.to_string());
                        }
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", f.display())),
            }
        }
    }
    unknown.sort();
    unknown.dedup();
    for u in &unknown {
        eprintln!("unknown keyword warning: {u}");
    }
    assert!(
        failures.is_empty(),
        "samples failed:\n{}",
        failures.join("\n")
    );
    assert!(
        unknown.is_empty(),
        "unknown keywords in samples:\n{}",
        unknown.join("\n")
    );
}

/// print() of every sample parses back to an equal Config.
#[test]
fn keepalived_samples_round_trip_through_print() {
    let dir = Path::new(SAMPLES);
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Path(
        SAMPLES,
        "apt-get install -y keepalived",
    )]) {
        return;
    }
    let opts = LoadOptions {
        config_id: Some("high".to_string()),
    };
    for entry in std::fs::read_dir(dir).expect("read samples dir") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !name.starts_with("keepalived.conf.") {
            continue;
        }
        let first = load(&path, &opts).expect("sample loads").config;
        let text = rkeepalived_config::print(&first);
        let again = rkeepalived_config::parse_str(&text, "printed.conf", &opts)
            .unwrap_or_else(|e| panic!("{name}: printed config does not parse:\n{e}\n---\n{text}"));
        assert_eq!(
            first, again.config,
            "{name}: round trip differs\n---\n{text}"
        );
    }
}

/// Debian's `keepalived.conf.conditional_conf` is written for `-i high` /
/// `-i low`; without `-i` keepalived 2.2.7 still runs it: the `@high`/`@low`
/// lines drop out, `vrrp_script check_VI_0` has no `script` and is removed
/// ("No script set for vrrp_script check_VI_0 - removing") together with
/// VI_0's reference to it ("track script check_VI_0 not found,
/// ignoring..."). So do we, with positioned warnings.
#[test]
fn conditional_conf_loads_without_config_id_like_keepalived() {
    let path = Path::new(SAMPLES).join("keepalived.conf.conditional_conf");
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Path(
        SAMPLES,
        "apt-get install -y keepalived",
    )]) {
        return;
    }
    let opts = LoadOptions {
        config_id: Some("rkeepalived-not-high-or-low".to_string()),
    };
    let l = load(&path, &opts).unwrap_or_else(|e| panic!("conditional_conf without -i: {e}"));
    let warnings: Vec<String> = l.warnings.iter().map(|w| w.to_string()).collect();
    let has = |line: u32, needle: &str| {
        l.warnings
            .iter()
            .any(|w| w.line == line && w.message.contains(needle))
    };
    assert!(
        has(
            6,
            "No script set for vrrp_script check_VI_0 - removing it (as keepalived does)"
        ),
        "{warnings:#?}"
    );
    assert!(
        has(
            25,
            "track_script 'check_VI_0' is not a defined vrrp_script; ignoring it"
        ),
        "{warnings:#?}"
    );
    assert!(l.config.vrrp_scripts.is_empty());
    let vi0 = l
        .config
        .vrrp_instances
        .iter()
        .find(|v| v.name == "VI_0")
        .expect("VI_0 kept");
    assert!(vi0.track_scripts.is_empty());
    assert_eq!(vi0.priority, 100, "no @high/@low priority: the default");
}
