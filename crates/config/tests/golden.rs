//! The parsed model is pinned: the Debian keepalived samples, the shipped
//! `conf/` files and `tests/golden/fixups.conf` (which exercises the
//! keepalived fix-ups) serialize to the committed JSON in `tests/golden/`,
//! warnings and the printed (canonical) text included. The model's JSON is
//! what the supervisor hands to the engine roles, so a refactor of the
//! parser must not change it.
//!
//! Regenerate after a deliberate change with
//! `GOLDEN_BLESS=1 cargo test -p rkeepalived-config --test golden` and
//! review the diff.

use std::path::{Path, PathBuf};

use rkeepalived_config::{load, print, LoadOptions};

const SAMPLES: &str = "/usr/share/doc/keepalived/samples";

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (golden name, file, config id).
fn inputs() -> Vec<(String, PathBuf, &'static str)> {
    let root = manifest().join("../..");
    let mut out = vec![
        (
            "fixups".to_string(),
            manifest().join("tests/golden/fixups.conf"),
            "x",
        ),
        ("conf-master".into(), root.join("conf/keepalived.conf"), "x"),
        (
            "conf-backup".into(),
            root.join("conf/keepalived-backup.conf"),
            "x",
        ),
    ];
    for ex in ["ipv6-vrrp3", "unicast", "http-get"] {
        for id in ["director1", "director2"] {
            out.push((
                format!("conf-{ex}-{id}"),
                root.join(format!("conf/examples/{ex}.conf")),
                id,
            ));
        }
    }
    if let Ok(rd) = std::fs::read_dir(SAMPLES) {
        let mut files: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("keepalived.conf."))
            })
            .collect();
        files.sort();
        for f in files {
            let name = f
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .trim_start_matches("keepalived.conf.")
                .to_string();
            if name == "conditional_conf" {
                // Written for `-i high` / `-i low`.
                for id in ["high", "low"] {
                    out.push((format!("sample-{name}-{id}"), f.clone(), id));
                }
            } else {
                out.push((format!("sample-{name}"), f.clone(), "high"));
            }
        }
    } else {
        let msg = format!("{SAMPLES} missing: apt-get install -y keepalived");
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("SKIP samples: {msg}");
    }
    out
}

/// The model and warnings as JSON, with this checkout's path made neutral.
fn render(path: &Path, id: &str) -> String {
    let opts = LoadOptions {
        config_id: Some(id.to_string()),
    };
    let value = match load(path, &opts) {
        Ok(l) => serde_json::json!({
            "config": serde_json::to_string(&l.config).expect("serialize"),
            "warnings": l.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            "printed": print(&l.config),
        }),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    let text = serde_json::to_string_pretty(&value).expect("json");
    let root = manifest().join("../..");
    let root = root.canonicalize().unwrap_or(root);
    text.replace(&manifest().display().to_string(), "$CRATE")
        .replace(&root.display().to_string(), "$ROOT")
        .replace("$CRATE/../..", "$ROOT")
}

#[test]
fn model_json_matches_golden() {
    let bless = std::env::var_os("GOLDEN_BLESS").is_some();
    let dir = manifest().join("tests/golden");
    let mut failures = Vec::new();
    for (name, path, id) in inputs() {
        let got = render(&path, id);
        let file = dir.join(format!("{name}.json"));
        if bless {
            std::fs::write(&file, format!("{got}\n")).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&file) {
            Ok(want) if want.trim_end() == got => {}
            Ok(_) => failures.push(format!("{name}: differs from {}", file.display())),
            Err(e) => failures.push(format!("{name}: {}: {e}", file.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
