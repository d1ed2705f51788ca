//! What a reload (SIGHUP) does to each running `vrrp_instance`: the pure
//! "what changed -> keep / apply in place / stop and start" decision.
//!
//! keepalived 2.2.7 rebuilds every instance from the new configuration and
//! then carries the running state over to the new instance that
//! `vrrp_exist()` (vrrp.c) pairs with an old one: `vrrp->state =
//! old_vrrp->state` in `vrrp_complete_init()`, and `restore_vrrp_state()`
//! keeps the stats and the installed VIPs (`vipset`). `vrrp_exist()` pairs on
//! the instance's *identity*, never on its name or its other settings:
//!
//! * `vrid`, `family` and the configured interface;
//! * unicast or multicast; for unicast the source address, for multicast the
//!   group and whether a vmac is used.
//!
//! Everything else — priority, advert_int, version, preempt, tracking,
//! notify scripts, authentication, VIPs/routes/rules, unicast peers, garp
//! settings, even the instance name — is applied to the running instance:
//! a MASTER stays MASTER and keeps its VIPs (`reload_master`), a BACKUP stays
//! BACKUP. An old instance without a partner is deleted (`clear_diff_vrrp`:
//! priority 0, VIPs removed) and a new one without a partner starts from
//! INIT. This module mirrors that pairing; [`crate::fsm::Instance::reload`]
//! mirrors the state carry-over.
//!
//! Deliberate difference: any change of `use_vmac` (name, MAC,
//! `vmac_xmit_base`) restarts the instance, unicast or multicast; keepalived
//! 2.2.7 restarts a multicast instance only when a vmac is added or removed
//! (it compares the vmac flags), but the link has to be recreated anyway.

use std::net::IpAddr;

use rkeepalived_config::model::{AddressFamily, GlobalDefs, Vmac, VrrpInstance};

use crate::instance as glue;

/// keepalived's `vrrp_exist()` key: two instances with the same identity are
/// the same virtual router, whatever else changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub vrid: u8,
    pub family: AddressFamily,
    pub interface: String,
    /// `use_vmac` (keepalived compares only whether there is one, and only
    /// for multicast; see the module docs).
    pub vmac: Option<Vmac>,
    pub transport: Transport,
}

/// How adverts travel, as far as it identifies the instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// `unicast_peer`: keyed by the configured source (keepalived `saddr`).
    Unicast { src: Option<IpAddr> },
    /// Multicast: keyed by the group.
    Multicast { group: IpAddr },
}

impl Identity {
    pub fn of(inst: &VrrpInstance, global: &GlobalDefs) -> Identity {
        let transport = if inst.unicast_peers.is_empty() {
            Transport::Multicast {
                group: inst.mcast_group(global),
            }
        } else {
            Transport::Unicast {
                src: glue::configured_source(inst),
            }
        };
        Identity {
            vrid: inst.virtual_router_id,
            family: inst.family,
            interface: inst.interface.clone(),
            vmac: inst.use_vmac.clone(),
            transport,
        }
    }
}

/// What happens to one running instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Same configuration (as far as the instance uses it): nothing to do.
    Unchanged { new: usize },
    /// Same identity, other settings: apply them to the running instance.
    InPlace { new: usize },
    /// No instance with this identity any more: stop it.
    Stop,
}

/// The reload plan: one [`Fate`] per running instance (same order), and the
/// new instances (indices into the new list) that start from scratch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub fates: Vec<Fate>,
    pub start: Vec<usize>,
}

/// Pair `old` (running) with `new` (configured) instances the way
/// keepalived's `vrrp_exist()` does. A partner with the same name is
/// preferred; each new instance takes at most one old one.
pub fn plan(
    old: &[&VrrpInstance],
    old_global: &GlobalDefs,
    new: &[VrrpInstance],
    new_global: &GlobalDefs,
) -> Plan {
    let new_ids: Vec<Identity> = new.iter().map(|n| Identity::of(n, new_global)).collect();
    let mut taken = vec![false; new.len()];
    let mut fates = Vec::with_capacity(old.len());
    for o in old {
        let id = Identity::of(o, old_global);
        let candidates = || (0..new.len()).filter(|&j| !taken[j] && new_ids[j] == id);
        let partner = candidates()
            .find(|&j| new[j].name == o.name)
            .or_else(|| candidates().next());
        let fate = match partner {
            Some(j) => {
                taken[j] = true;
                if unchanged(o, old_global, &new[j], new_global) {
                    Fate::Unchanged { new: j }
                } else {
                    Fate::InPlace { new: j }
                }
            }
            None => Fate::Stop,
        };
        fates.push(fate);
    }
    let start = (0..new.len()).filter(|&j| !taken[j]).collect();
    Plan { fates, start }
}

/// True when nothing the running instance uses differs: its own block, and
/// what it derives from `global_defs` (fsm flags, receive policy, where
/// adverts go). Global settings the engine reads live (garp intervals,
/// notify, router_id) need no instance change.
pub fn unchanged(
    old: &VrrpInstance,
    old_global: &GlobalDefs,
    new: &VrrpInstance,
    new_global: &GlobalDefs,
) -> bool {
    let any: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
    old == new
        && glue::fsm_params(old, old_global, any) == glue::fsm_params(new, new_global, any)
        && glue::rx_policy(old, old_global) == glue::rx_policy(new, new_global)
        && glue::destinations(old, old_global) == glue::destinations(new, new_global)
}

/// Names of the `vrrp_instance` settings that differ (for the reload log),
/// e.g. `["priority", "advert_int"]`.
pub fn changed_fields(old: &VrrpInstance, new: &VrrpInstance) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return Vec::new();
    };
    let mut out: Vec<String> = a
        .iter()
        .filter(|(k, v)| k.as_str() != "origin" && b.get(k.as_str()) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    out.extend(b.keys().filter(|k| !a.contains_key(k.as_str())).cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeepalived_config::model::{
        Notify, TrackRef, UnicastPeer, VirtualIpAddress, VrrpInstance,
    };
    use std::time::Duration;

    fn inst(name: &str, vrid: u8) -> VrrpInstance {
        let mut i = VrrpInstance::new(name, "eth0", vrid);
        i.priority = 100;
        i.virtual_ipaddresses = vec![VirtualIpAddress::new(
            "192.0.2.100".parse().unwrap(),
            "eth0",
        )];
        i
    }

    fn fate(old: &VrrpInstance, new: &VrrpInstance) -> Fate {
        fate_g(old, new, &GlobalDefs::default(), &GlobalDefs::default())
    }

    fn fate_g(old: &VrrpInstance, new: &VrrpInstance, og: &GlobalDefs, ng: &GlobalDefs) -> Fate {
        let p = plan(&[old], og, std::slice::from_ref(new), ng);
        p.fates[0]
    }

    fn peer(a: &str) -> UnicastPeer {
        UnicastPeer {
            addr: a.parse().unwrap(),
            min_ttl: None,
            max_ttl: None,
        }
    }

    #[test]
    fn identical_config_is_unchanged() {
        let a = inst("VI_1", 51);
        assert_eq!(fate(&a, &a.clone()), Fate::Unchanged { new: 0 });
    }

    /// Issue #11 bug 2: every setting keepalived carries over is applied in
    /// place, never by a restart (which sent priority 0 and dropped the VIP).
    #[test]
    fn settings_keepalived_carries_over_apply_in_place() {
        let old = inst("VI_1", 51);
        let mut cases: Vec<(&str, VrrpInstance)> = Vec::new();
        let mut c = old.clone();
        c.priority = 50;
        cases.push(("priority", c));
        let mut c = old.clone();
        c.advert_int = Duration::from_secs(2);
        cases.push(("advert_int", c));
        let mut c = old.clone();
        c.nopreempt = true;
        cases.push(("nopreempt", c));
        let mut c = old.clone();
        c.preempt_delay = Duration::from_secs(5);
        cases.push(("preempt_delay", c));
        let mut c = old.clone();
        c.track_interfaces = vec![TrackRef {
            name: "eth1".into(),
            weight: -20,
            reverse: false,
        }];
        cases.push(("track_interface", c));
        let mut c = old.clone();
        c.track_scripts = vec![TrackRef {
            name: "chk".into(),
            weight: 10,
            reverse: false,
        }];
        cases.push(("track_script", c));
        let mut c = old.clone();
        c.notify_master = Some(Notify {
            command: "/bin/true".into(),
            user: None,
        });
        cases.push(("notify_master", c));
        let mut c = old.clone();
        c.virtual_ipaddresses.push(VirtualIpAddress::new(
            "192.0.2.101".parse().unwrap(),
            "eth0",
        ));
        cases.push(("virtual_ipaddress", c));
        let mut c = old.clone();
        c.garp_master_repeat = 2;
        c.garp_master_delay = Duration::from_secs(1);
        c.garp_master_refresh = Some(Duration::from_secs(10));
        cases.push(("garp", c));
        let mut c = old.clone();
        c.name = "VI_renamed".into();
        cases.push(("name", c));
        let mut c = old.clone();
        c.version = rkeepalived_config::model::VrrpVersion::V3;
        cases.push(("version", c));
        let mut c = old.clone();
        c.mcast_src_ip = Some("192.0.2.1".parse().unwrap());
        cases.push(("mcast_src_ip", c));
        for (what, new) in cases {
            assert_eq!(fate(&old, &new), Fate::InPlace { new: 0 }, "{what}");
        }
    }

    #[test]
    fn unicast_peer_changes_apply_in_place() {
        let mut old = inst("VI_1", 51);
        old.unicast_src_ip = Some("192.0.2.1".parse().unwrap());
        old.unicast_peers = vec![peer("192.0.2.2")];
        let mut new = old.clone();
        new.unicast_peers.push(peer("192.0.2.3"));
        assert_eq!(fate(&old, &new), Fate::InPlace { new: 0 });
        new.unicast_peers = vec![peer("192.0.2.4")];
        assert_eq!(fate(&old, &new), Fate::InPlace { new: 0 });
    }

    #[test]
    fn identity_changes_restart() {
        let old = inst("VI_1", 51);
        let mut cases: Vec<(&str, VrrpInstance)> = Vec::new();
        let mut c = old.clone();
        c.virtual_router_id = 52;
        cases.push(("vrid", c));
        let mut c = old.clone();
        c.interface = "eth1".into();
        cases.push(("interface", c));
        let mut c = old.clone();
        c.family = AddressFamily::Inet6;
        cases.push(("family", c));
        // keepalived vrrp_exist(): unicast <-> multicast, group, vmac.
        let mut c = old.clone();
        c.unicast_peers = vec![peer("192.0.2.2")];
        cases.push(("multicast -> unicast", c));
        let mut c = old.clone();
        c.mcast_dst_ip = Some("224.0.0.19".parse().unwrap());
        cases.push(("mcast group", c));
        let mut c = old.clone();
        c.use_vmac = Some(Vmac {
            name: "vrrp.51".into(),
            mac: None,
            xmit_base: false,
        });
        cases.push(("vmac", c));
        for (what, new) in cases {
            let p = plan(
                &[&old],
                &GlobalDefs::default(),
                std::slice::from_ref(&new),
                &GlobalDefs::default(),
            );
            assert_eq!(p.fates, vec![Fate::Stop], "{what}");
            assert_eq!(p.start, vec![0], "{what}");
        }
        let mut u = old.clone();
        u.unicast_peers = vec![peer("192.0.2.2")];
        u.unicast_src_ip = Some("192.0.2.1".parse().unwrap());
        let mut v = u.clone();
        v.unicast_src_ip = Some("192.0.2.9".parse().unwrap());
        assert_eq!(fate(&u, &v), Fate::Stop, "unicast source");
        let mut v = u.clone();
        v.use_vmac = Some(Vmac {
            name: "vrrp.51".into(),
            mac: None,
            xmit_base: false,
        });
        assert_eq!(fate(&u, &v), Fate::Stop, "unicast vmac");
    }

    #[test]
    fn global_changes_apply_in_place_unless_they_change_identity() {
        let a = inst("VI_1", 51);
        let og = GlobalDefs::default();
        let mut ng = og.clone();
        ng.router_id = Some("other".into());
        assert_eq!(
            fate_g(&a, &a, &og, &ng),
            Fate::Unchanged { new: 0 },
            "router_id"
        );
        let mut ng = og.clone();
        ng.vrrp_higher_prio_send_advert = true;
        assert_eq!(fate_g(&a, &a, &og, &ng), Fate::InPlace { new: 0 });
        let mut ng = og.clone();
        ng.vrrp_mcast_group4 = "224.0.0.19".parse().unwrap();
        assert_eq!(fate_g(&a, &a, &og, &ng), Fate::Stop, "multicast group");
    }

    #[test]
    fn pairing_prefers_the_same_name_and_starts_the_rest() {
        let a = inst("VI_1", 51);
        let b = inst("VI_2", 52);
        let mut b_new = b.clone();
        b_new.priority = 200;
        let c = inst("VI_3", 53);
        let p = plan(
            &[&a, &b],
            &GlobalDefs::default(),
            &[c.clone(), b_new, a.clone()],
            &GlobalDefs::default(),
        );
        assert_eq!(
            p.fates,
            vec![Fate::Unchanged { new: 2 }, Fate::InPlace { new: 1 }]
        );
        assert_eq!(p.start, vec![0]);
        // Removed: stop, nothing to start.
        let p = plan(&[&a], &GlobalDefs::default(), &[], &GlobalDefs::default());
        assert_eq!(p.fates, vec![Fate::Stop]);
        assert!(p.start.is_empty());
    }

    #[test]
    fn changed_fields_names_the_settings() {
        let a = inst("VI_1", 51);
        let mut b = a.clone();
        b.priority = 50;
        b.advert_int = Duration::from_secs(3);
        b.origin.line = 99;
        let mut got = changed_fields(&a, &b);
        got.sort();
        assert_eq!(got, vec!["advert_int".to_string(), "priority".to_string()]);
    }
}
