//! `-P` / `-C`: each keepalived process skips the other's blocks unread
//! (core/main.c installs the other process's keywords inactive), so a
//! broken `vrrp_instance` does not stop `keepalived -C` and a broken
//! `virtual_server` does not stop `keepalived -P`. `load_for` mirrors it;
//! `load` (and `-t`) read everything.

use rkeepalived_config::{load, load_for, LoadOptions, Processes};

const CONF: &str = "\
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    preempt_delay
}
virtual_server 192.0.2.10 80 {
    protocol TCP
    real_server 192.0.2.20 80 {
        weight
    }
}
";

#[test]
fn each_process_skips_the_others_blocks_unread() {
    let dir = std::env::temp_dir().join(format!("rkd-procs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, CONF).unwrap();
    let opts = LoadOptions {
        config_id: Some("x".into()),
    };
    let all = load(&path, &opts).expect_err("both broken blocks are errors");
    let text = all.to_string();
    assert!(
        text.contains("preempt_delay") && text.contains("weight"),
        "{text}"
    );

    let checker = Processes {
        vrrp: false,
        checker: true,
    };
    let e = load_for(&path, &opts, checker).expect_err("the LVS block is still read");
    assert!(!e.to_string().contains("preempt_delay"), "{e}");

    let vrrp = Processes {
        vrrp: true,
        checker: false,
    };
    let e = load_for(&path, &opts, vrrp).expect_err("the VRRP block is still read");
    assert!(!e.to_string().contains("'weight'"), "{e}");

    std::fs::write(&path, CONF.replace("    preempt_delay\n", "")).unwrap();
    let l = load_for(&path, &opts, vrrp).expect("VRRP side loads");
    assert_eq!(l.config.vrrp_instances.len(), 1);
    assert!(l.config.virtual_servers.is_empty(), "skipped unread");
    std::fs::write(&path, CONF.replace("        weight\n", "")).unwrap();
    let l = load_for(&path, &opts, checker).expect("checker side loads");
    assert_eq!(l.config.virtual_servers.len(), 1);
    assert!(l.config.vrrp_instances.is_empty(), "skipped unread");
    let _ = std::fs::remove_dir_all(&dir);
}
