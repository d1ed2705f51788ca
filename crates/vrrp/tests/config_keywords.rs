//! keepalived.conf keywords whose whole effect is on the VRRP core (timers,
//! receive policy, destinations): config text through the real parser into
//! the engine's inputs (`instance::fsm_params`, `rx_policy`,
//! `destinations`) and the effect observed on the state machine or on a
//! received advert, as keepalived gives it (vrrp/vrrp.c, vrrp_scheduler.c).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use rkeepalived_config::model::{Config, VrrpInstance};
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_vrrp::fsm::{Event, Instance, State};
use rkeepalived_vrrp::instance;
use rkeepalived_vrrp::wire::{ChecksumVariant, DropReason, Family, Received};

fn load(text: &str) -> Config {
    parse_str(
        text,
        "test.conf",
        &LoadOptions {
            config_id: Some("t".into()),
        },
    )
    .expect("config parses")
    .config
}

fn vi(body: &str, global: &str) -> (Config, VrrpInstance) {
    let cfg = load(&format!(
        "global_defs {{\n{global}\n}}\nvrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    advert_int 1\n    virtual_ipaddress {{\n        192.0.2.100/32\n    }}\n{body}\n}}\n"
    ));
    let inst = cfg.vrrp_instances[0].clone();
    (cfg, inst)
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

fn fsm(cfg: &Config, inst: &VrrpInstance) -> Instance {
    Instance::new(instance::fsm_params(
        inst,
        &cfg.global_defs,
        ip("192.0.2.1"),
    ))
}

/// `down_timer_adverts N` (and global `vrrp_down_timer_adverts`): a backup
/// declares the master down after N advert intervals plus the skew, not 3.
#[test]
fn down_timer_adverts_sets_the_master_down_interval() {
    let (cfg, inst) = vi("", "");
    let default = fsm(&cfg, &inst).master_down_interval();
    let skew = Duration::from_micros((256 - 100) * 1_000_000 / 256);
    assert_eq!(default, Duration::from_secs(3) + skew);
    let (cfg, inst) = vi("    down_timer_adverts 5", "");
    assert_eq!(
        fsm(&cfg, &inst).master_down_interval(),
        Duration::from_secs(5) + skew
    );
    let (cfg, inst) = vi("", "    vrrp_down_timer_adverts 7");
    assert_eq!(
        fsm(&cfg, &inst).master_down_interval(),
        Duration::from_secs(7) + skew
    );
}

fn unicast_advert_from(cfg: &Config, inst: &VrrpInstance, src: &str) -> Received {
    let _ = cfg;
    Received {
        adv: instance::advertisement(inst, 100),
        family: Family::Ipv4,
        src: ip(src),
        dst: ip("192.0.2.1"),
        ttl: Some(255),
        checksum: ChecksumVariant::Standard,
        ipv4_ident: None,
        ipv4_tos: None,
        ah: None,
    }
}

/// `check_unicast_src` (and global `vrrp_check_unicast_src`): a unicast
/// advert from an address that is not a unicast_peer is dropped.
#[test]
fn check_unicast_src_drops_adverts_from_unknown_peers() {
    let unicast = "    unicast_src_ip 192.0.2.1\n    unicast_peer {\n        192.0.2.2\n    }";
    for (body, global, checked) in [
        (unicast.to_string(), "", false),
        (format!("{unicast}\n    check_unicast_src"), "", true),
        (unicast.to_string(), "    vrrp_check_unicast_src", true),
    ] {
        let (cfg, inst) = vi(&body, global);
        let policy = instance::rx_policy(&inst, &cfg.global_defs);
        let peer = unicast_advert_from(&cfg, &inst, "192.0.2.2");
        assert_eq!(policy.check(&peer, true), Ok(()), "{body} {global}");
        let stranger = unicast_advert_from(&cfg, &inst, "192.0.2.3");
        let expected = if checked {
            Err(DropReason::UnknownUnicastPeer)
        } else {
            Ok(())
        };
        assert_eq!(policy.check(&stranger, true), expected, "{body} {global}");
    }
}

/// `skip_check_adv_addr` (and global `vrrp_skip_check_adv_addr`): a backup
/// no longer checks the address list of adverts from the master it follows.
#[test]
fn skip_check_adv_addr_skips_the_vip_check_for_the_current_master() {
    for (body, global, skips) in [
        ("", "", false),
        ("    skip_check_adv_addr", "", true),
        ("", "    vrrp_skip_check_adv_addr", true),
    ] {
        let (cfg, inst) = vi(body, global);
        let mut i = fsm(&cfg, &inst);
        let now = Instant::now();
        i.handle(Event::Startup, now);
        assert_eq!(i.state(), State::Backup);
        let master = ip("192.0.2.9");
        i.handle(
            Event::AdvertReceived {
                from: master,
                adv: instance::advertisement(&inst, 200),
            },
            now,
        );
        assert_eq!(i.wants_vip_check(master), !skips, "{body} {global}");
        // Another sender is always checked.
        assert!(i.wants_vip_check(ip("192.0.2.10")));
    }
}

/// `vrrp_mcast_group4` / `vrrp_mcast_group6` / `mcast_dst_ip`: where
/// multicast adverts are sent; `mcast_src_ip`: their source address.
#[test]
fn multicast_group_keywords_choose_the_advert_destination() {
    let (_, inst) = vi("    mcast_src_ip 192.0.2.7", "");
    assert_eq!(instance::configured_source(&inst), Some(ip("192.0.2.7")));
    let (cfg, inst) = vi("", "");
    assert_eq!(
        instance::destinations(&inst, &cfg.global_defs),
        [ip("224.0.0.18")]
    );
    let (cfg, inst) = vi("", "    vrrp_mcast_group4 224.0.0.19");
    assert_eq!(
        instance::destinations(&inst, &cfg.global_defs),
        [ip("224.0.0.19")]
    );
    let (cfg, inst) = vi(
        "    mcast_dst_ip 224.0.0.20",
        "    vrrp_mcast_group4 224.0.0.19",
    );
    assert_eq!(
        instance::destinations(&inst, &cfg.global_defs),
        [ip("224.0.0.20")]
    );
    let cfg = load(
        "global_defs {\n    vrrp_mcast_group6 ff02::1:12\n}\nvrrp_instance VI_6 {\n    interface eth0\n    virtual_router_id 52\n    virtual_ipaddress {\n        2001:db8::100/128\n    }\n}\n",
    );
    let inst = &cfg.vrrp_instances[0];
    assert_eq!(
        instance::destinations(inst, &cfg.global_defs),
        [ip("ff02::1:12")]
    );
}
