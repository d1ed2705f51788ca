//! Loading never blocks or grows without bound: includes of FIFOs and
//! devices are skipped (as keepalived does), the total size and the include
//! depth are capped, and diagnostics are capped at MAX_DIAGNOSTICS plus a
//! count.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rkeepalived_config::{
    load, ConfigError, LoadOptions, Loaded, MAX_CONFIG_BYTES, MAX_DIAGNOSTICS,
};

/// A scratch directory removed on drop (also when the test fails).
use rkeepalived_testkit::TempDir;

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("test".to_string()),
    }
}

/// Load on another thread: a load that blocks fails the test instead of
/// hanging it.
fn load_promptly(path: &Path) -> Result<Loaded, ConfigError> {
    let (tx, rx) = mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(load(&path, &opts()));
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("loading the configuration blocked")
}

const INSTANCE: &str = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 7\n}\n";

#[test]
fn include_of_a_fifo_is_skipped_with_a_warning_and_never_blocks() {
    let t = TempDir::new("config-bounds");
    let fifo = t.0.join("fifo.conf");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    // Literal and glob includes both go through the same check.
    let main = t.write(
        "main.conf",
        &format!(
            "{INSTANCE}include fifo.conf\ninclude {}/fifo*\n",
            t.0.display()
        ),
    );
    let loaded = load_promptly(&main).expect("the FIFO is skipped, the rest loads");
    assert_eq!(loaded.config.vrrp_instances.len(), 1);
    let w: Vec<String> = loaded.warnings.iter().map(|d| d.to_string()).collect();
    let expected = format!(
        "Configuration file '{}' is not a regular non-executable file - skipping",
        fifo.display()
    );
    assert!(
        w.iter()
            .any(|l| l.ends_with(&format!("main.conf:5:9: {expected}"))),
        "{w:#?}"
    );
    assert_eq!(
        w.iter().filter(|l| l.contains(&expected)).count(),
        2,
        "{w:#?}"
    );
}

#[test]
fn include_of_dev_zero_and_a_directory_is_skipped() {
    let t = TempDir::new("config-bounds");
    std::fs::create_dir(t.0.join("sub")).unwrap();
    let main = t.write(
        "main.conf",
        &format!("include /dev/zero\n{INSTANCE}include sub\n"),
    );
    let loaded = load_promptly(&main).expect("loads");
    assert_eq!(loaded.config.vrrp_instances.len(), 1);
    let w: Vec<String> = loaded.warnings.iter().map(|d| d.to_string()).collect();
    assert!(
        w[0].ends_with(
            "main.conf:1:9: Configuration file '/dev/zero' is not a regular non-executable file - skipping"
        ),
        "{w:#?}"
    );
    assert!(w[1].contains("main.conf:6:9: Configuration file"), "{w:#?}");
}

#[test]
fn a_fifo_or_device_as_the_main_file_is_an_error() {
    let e = load_promptly(Path::new("/dev/zero")).unwrap_err();
    assert!(matches!(e, ConfigError::Read(_)));
    assert!(
        e.to_string()
            .contains("is not a regular non-executable file"),
        "{e}"
    );
}

#[test]
fn executable_includes_are_skipped_as_keepalived_does() {
    use std::os::unix::fs::PermissionsExt;
    let t = TempDir::new("config-bounds");
    let inc = t.write("exec.conf", INSTANCE);
    std::fs::set_permissions(&inc, std::fs::Permissions::from_mode(0o755)).unwrap();
    let main = t.write("main.conf", "include exec.conf\n");
    let loaded = load_promptly(&main).expect("loads");
    assert!(loaded.config.vrrp_instances.is_empty());
    assert!(loaded.warnings[0]
        .message
        .contains("not a regular non-executable file"));
}

#[test]
fn oversized_configuration_is_an_error_without_reading_it() {
    let t = TempDir::new("config-bounds");
    // Sparse: rejected by its size before a byte is read.
    let big = t.0.join("big.conf");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(MAX_CONFIG_BYTES + 1)
        .unwrap();
    let e = load_promptly(&big).unwrap_err();
    assert!(
        e.to_string()
            .contains("configuration larger than 64 MiB in total"),
        "{e}"
    );
    // The cap is over all files (lexer unit test
    // `size_cap_counts_every_included_file`).
}

#[test]
fn deep_include_recursion_is_an_error() {
    let t = TempDir::new("config-bounds");
    for i in 0..40 {
        t.write(&format!("d{i}.conf"), &format!("include d{}.conf\n", i + 1));
    }
    t.write("d40.conf", INSTANCE);
    let e = load_promptly(&t.0.join("d0.conf")).unwrap_err();
    assert!(matches!(e, ConfigError::Read(_)));
    assert_eq!(e.diagnostics().len(), 1, "{e}");
    assert!(
        e.to_string()
            .contains("d31.conf:1:9: includes nested deeper than 32 levels"),
        "{e}"
    );
}

/// 1 MB of garbage gives thousands of errors; the first MAX_DIAGNOSTICS are
/// reported, then one line with the count of the rest.
#[test]
fn diagnostics_are_capped_with_a_count_of_the_rest() {
    let t = TempDir::new("config-bounds");
    let garbage = rkeepalived_testkit::garbage_config();
    let main = t.0.join("garbage.conf");
    std::fs::write(&main, &garbage).unwrap();
    let e = load_promptly(&main).unwrap_err();
    let d = e.diagnostics();
    assert_eq!(d.len(), MAX_DIAGNOSTICS + 1, "{}", d.len());
    let last = d.last().unwrap().to_string();
    let more: usize = last
        .split("... and ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {last}"));
    assert!(more > 500, "{last}");
    assert!(last.contains("more errors not shown"), "{last}");
}
