//! The nftables keywords of global_defs as Debian's keepalived 2.2.7 reads
//! them (built with nftables, without iptables and libipset):
//! `nftables [TABLE]`, `nftables_priority`, `nftables_ifindex`,
//! `nftables_counters`, and the legacy `vrrp_iptables`, which that build
//! maps to nftables with the default table. `vrrp_nftables` is no keepalived
//! keyword (unknown in both); `vrrp_ipsets` is unknown to that build and
//! "not supported" here. Their runtime effect: tests/vrrp_nftables.rs.

use std::process::Command;

use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_testkit::{prerequisites, Need};

const CONF: &str = "global_defs {
    nftables_priority 10
    nftables fw1
    nftables fw2
    nftables_priority abc
    nftables_ifindex
    nftables_counters
    vrrp_iptables IN OUT
    vrrp_nftables x
}
";

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("x".into()),
    }
}

#[test]
fn nftables_keywords_read_as_debian_keepalived_reads_them() {
    let loaded = parse_str(CONF, "k.conf", &opts()).expect("loads");
    let o = &loaded.config.global_defs.nftables;
    // `nftables` resets the priority set before it; vrrp_iptables then
    // switches to the default table (keepalived overwrites the name).
    assert_eq!(o.table.as_deref(), Some("keepalived"));
    assert_eq!(o.priority, -1);
    assert!(o.ifindex && o.counters);
    let shown: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        shown,
        [
            "k.conf:4:5: nftables already specified - ignoring",
            "k.conf:5:23: invalid nftables chain priority 'abc'",
            "k.conf:8:5: iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option",
            "k.conf:9:5: unknown keyword 'vrrp_nftables' in global_defs; ignored (did you mean 'vrrp_iptables'?)",
        ]
    );
    assert!(loaded.not_acted_on.is_empty(), "{:?}", loaded.not_acted_on);

    let named = parse_str(
        "global_defs {\n    nftables mine\n    nftables_priority -150\n}\n",
        "k.conf",
        &opts(),
    )
    .expect("loads");
    let o = &named.config.global_defs.nftables;
    assert_eq!((o.table.as_deref(), o.priority), (Some("mine"), -150));
    let default = parse_str("global_defs {\n    nftables\n}\n", "k.conf", &opts()).expect("loads");
    assert_eq!(
        default.config.global_defs.nftables.table.as_deref(),
        Some("keepalived")
    );
    let long = format!("global_defs {{\n    nftables {}\n}}\n", "t".repeat(256));
    let loaded = parse_str(&long, "k.conf", &opts()).expect("loads");
    assert_eq!(loaded.config.global_defs.nftables.table, None);
    assert!(loaded.warnings[0]
        .to_string()
        .contains("nftables table name too long - ignoring"));
}

/// keepalived 2.2.7 reports the same lines (`keepalived -t`).
#[test]
fn keepalived_reports_the_same_lines() {
    if !prerequisites(&[Need::Tool("keepalived")]) {
        return;
    }
    let path = std::env::temp_dir().join(format!("rk-nftables-kw-{}.conf", std::process::id()));
    std::fs::write(&path, CONF).expect("write");
    let out = Command::new("keepalived")
        .args(["-t", "-f"])
        .arg(&path)
        .output()
        .expect("keepalived -t");
    let _ = std::fs::remove_file(&path);
    let text =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    for want in [
        "(Line 4) nftables already specified - ignoring",
        "(Line 5) invalid nftables chain priority 'abc'",
        "(Line 8) iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option",
        "(Line 9) Unknown keyword 'vrrp_nftables'",
    ] {
        assert!(text.contains(want), "keepalived -t said:\n{text}\nnot: {want}");
    }
}
