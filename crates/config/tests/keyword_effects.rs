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

/// keepalived vrrp/vrrp_if.c `get_default_if()`: an instance without
/// `interface` runs on `default_interface`.
#[test]
fn default_interface_is_the_interface_of_instances_without_one() {
    let vi = instance(
        "global_defs {\n    default_interface lo\n}\nvrrp_instance VI_1 {\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.10/32\n    }\n}\n",
    );
    assert_eq!(vi.interface, "lo");
}

/// keepalived vrrp/vrrp.c `vrrp_complete_instance()`: a vmac without a
/// name is called `<vmac_prefix>.<vrid>`.
#[test]
fn vmac_prefix_names_unnamed_vmacs() {
    let body = "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 51\n    use_vmac\n    virtual_ipaddress {\n        192.0.2.10/32\n    }\n}\n";
    let vi = instance(body);
    assert_eq!(vi.use_vmac.map(|v| v.name).as_deref(), Some("vrrp.51"));
    let vi = instance(&format!("global_defs {{\n    vmac_prefix vm\n}}\n{body}"));
    assert_eq!(vi.use_vmac.map(|v| v.name).as_deref(), Some("vm.51"));
}
