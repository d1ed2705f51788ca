//! Keywords whose whole effect is a keepalived default or fix-up applied
//! while loading: the engines see the result in the model (the VRRP engine
//! uses `interface` and `use_vmac`'s name as they are).

use rkeepalived_config::{parse_str, LoadOptions};

fn instance(text: &str) -> rkeepalived_config::model::VrrpInstance {
    let opts = LoadOptions {
        config_id: Some("x".into()),
    };
    let loaded = parse_str(text, "k.conf", &opts).expect("loads");
    loaded.config.vrrp_instances[0].clone()
}

/// A unicast instance without `interface` runs on `default_interface`
/// (keepalived runs it from its unicast_src_ip, see crates/config/README.md);
/// a multicast one cannot run (keepalived vrrp/vrrp.c `chk_min_cfg()`:
/// "Unknown interface!", its VRRP process exits), and neither can one whose
/// only interface is the loopback (`vrrp_int_handler()` drops it).
#[test]
fn default_interface_is_the_interface_of_instances_without_one() {
    let vi = instance(
        "global_defs {\n    default_interface eth7\n}\nvrrp_instance VI_1 {\n    virtual_router_id 51\n    unicast_src_ip 192.0.2.1\n    unicast_peer {\n        192.0.2.2\n    }\n    virtual_ipaddress {\n        192.0.2.10/32\n    }\n}\n",
    );
    assert_eq!(vi.interface, "eth7");
    let opts = LoadOptions {
        config_id: Some("x".into()),
    };
    for head in ["", "    interface lo\n"] {
        let text = format!(
            "global_defs {{\n    default_interface eth7\n}}\nvrrp_instance VI_1 {{\n{head}    virtual_router_id 51\n    virtual_ipaddress {{\n        192.0.2.10/32\n    }}\n}}\n"
        );
        let err = parse_str(&text, "k.conf", &opts).expect_err("multicast without interface");
        assert!(
            err.to_string().contains("(VI_1) Unknown interface!"),
            "{err}"
        );
    }
}

/// keepalived vrrp/vrrp.c `vrrp_complete_instance()`: a vmac without a
/// name is called `<vmac_prefix>.<vrid>`.
#[test]
fn vmac_prefix_names_unnamed_vmacs() {
    let body = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    use_vmac\n    virtual_ipaddress {\n        192.0.2.10/32\n    }\n}\n";
    let vi = instance(body);
    assert_eq!(vi.use_vmac.map(|v| v.name).as_deref(), Some("vrrp.51"));
    let vi = instance(&format!("global_defs {{\n    vmac_prefix vm\n}}\n{body}"));
    assert_eq!(vi.use_vmac.map(|v| v.name).as_deref(), Some("vm.51"));
}

/// `lvs_sync_daemon_interface IFACE` in a vrrp_instance: deprecated in
/// keepalived 2.2.7 (vrrp_parser.c `vrrp_lvs_syncd_handler()`), which reads
/// it as the global `lvs_sync_daemon IFACE INSTANCE` unless one is already
/// set; the VRRP process then runs the IPVS sync daemon by that instance's
/// state (crates/vrrp/src/engine/lvs_syncd.rs). Same messages as
/// `keepalived -t` on the same text.
#[test]
fn instance_lvs_sync_daemon_interface_is_the_global_lvs_sync_daemon() {
    let inst = |name: &str, vrid: u8, iface: &str| {
        format!(
            "vrrp_instance {name} {{\n    interface eth0\n    virtual_router_id {vrid}\n    lvs_sync_daemon_interface {iface}\n    virtual_ipaddress {{\n        192.0.2.{vrid}/24\n    }}\n}}\n"
        )
    };
    let text = format!("{}{}", inst("VI_1", 51, "eth1"), inst("VI_2", 52, "eth2"));
    let loaded = parse_str(&text, "k.conf", &LoadOptions::default()).expect("loads");
    let global = "global_defs {\n    lvs_sync_daemon eth1 inst VI_1\n}\n";
    let want = parse_str(
        &format!(
            "{global}{}",
            inst("VI_1", 51, "x").replace("    lvs_sync_daemon_interface x\n", "")
        ),
        "g.conf",
        &LoadOptions::default(),
    )
    .expect("loads");
    assert_eq!(
        loaded.config.global_defs.lvs_sync_daemon,
        want.config.global_defs.lvs_sync_daemon
    );
    let d = loaded
        .config
        .global_defs
        .lvs_sync_daemon
        .as_ref()
        .expect("set");
    assert_eq!(
        (d.interface.as_str(), d.vrrp_instance.as_deref()),
        ("eth1", Some("VI_1"))
    );
    assert!(loaded.not_acted_on.is_empty(), "{:?}", loaded.not_acted_on);
    let shown: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        shown,
        [
            "k.conf:4:5: (VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon",
            "k.conf:12:5: (VI_2) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon",
            "k.conf:12:5: (VI_2) lvs_sync_daemon_interface has already been specified as eth1 - ignoring (as keepalived does)",
        ]
    );
    // A global lvs_sync_daemon wins over the instance keyword.
    let text = format!(
        "global_defs {{\n    lvs_sync_daemon eth3\n}}\n{}",
        inst("VI_1", 51, "eth1")
    );
    let loaded = parse_str(&text, "k.conf", &LoadOptions::default()).expect("loads");
    let d = loaded
        .config
        .global_defs
        .lvs_sync_daemon
        .as_ref()
        .expect("set");
    assert_eq!(
        (d.interface.as_str(), d.vrrp_instance.as_deref()),
        ("eth3", None)
    );
}
