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
