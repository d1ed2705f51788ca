//! Clean start of the VRRP engine: remove VIPs a previous run left behind
//! (the daemon's VRRP child calls [`sweep_stale_vips`] before [`crate::run`]).
//!
//! keepalived enters BACKUP at init with the instance's VIPs removed. Our
//! VRRP child may be a respawn after its predecessor was SIGKILLed while
//! MASTER (or the whole daemon was killed): the kernel still holds those
//! VIPs, and while this node is BACKUP a peer may own them — a duplicate
//! address on the wire. So before the engine starts, every instance that
//! starts as BACKUP has its (excluded and non-excluded) VIPs removed;
//! instances configured MASTER re-claim theirs at once anyway.

use std::collections::HashSet;
use std::net::IpAddr;

use rkeepalived_config::model::InitialState;
use rkeepalived_config::model::{VirtualIpAddress, VrrpInstance};
use rkeepalived_config::Config;

use crate::addr::{ifindex, Netlink};

/// The addresses a clean start checks: every (excluded or not) VIP of an
/// instance that starts as BACKUP. An address owner (priority 255) or a
/// `state MASTER` instance claims its VIPs at once, so they stay.
pub fn candidates(cfg: &Config) -> Vec<(&VrrpInstance, &VirtualIpAddress)> {
    cfg.vrrp_instances
        .iter()
        .filter(|i| i.state == InitialState::Backup && i.priority < 255)
        .flat_map(|i| {
            i.virtual_ipaddresses
                .iter()
                .chain(&i.virtual_ipaddresses_excluded)
                .map(move |v| (i, v))
        })
        .collect()
}

/// Removes stale VIPs of BACKUP-initial instances; returns how many were removed.
pub async fn sweep_stale_vips(cfg: &Config) -> usize {
    let candidates = candidates(cfg);
    if candidates.is_empty() {
        return 0;
    }
    let nl = match Netlink::connect() {
        Ok(nl) => nl,
        Err(e) => {
            tracing::warn!("cannot check for stale VIPs: {e}");
            return 0;
        }
    };
    let mut present: std::collections::HashMap<String, HashSet<(IpAddr, u8)>> = Default::default();
    let mut removed = 0;
    for (inst, vip) in candidates {
        if !present.contains_key(&vip.dev) {
            let addrs = match ifindex(&vip.dev) {
                Some(idx) => nl.addresses(idx).await.unwrap_or_default(),
                None => Vec::new(),
            };
            present.insert(vip.dev.clone(), addrs.into_iter().collect());
        }
        let on_dev = present
            .get(&vip.dev)
            .is_some_and(|s| s.contains(&(vip.addr, vip.prefix_len)));
        if !on_dev {
            continue;
        }
        match nl.del_address(vip).await {
            Ok(()) => {
                removed += 1;
                tracing::warn!(
                    instance = %inst.name,
                    "removed stale VIP {}/{} on {} left by a previous run (instance starts as BACKUP)",
                    vip.addr,
                    vip.prefix_len,
                    vip.dev
                );
            }
            Err(e) => {
                tracing::error!(instance = %inst.name, "cannot remove stale VIP {}: {e}", vip.addr)
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_backup_instances_below_owner_priority_are_swept() {
        let text = "
vrrp_instance B {
    interface lo
    virtual_router_id 1
    priority 100
    state BACKUP
    virtual_ipaddress { 192.0.2.10/32 }
    virtual_ipaddress_excluded { 192.0.2.11/32 }
}
vrrp_instance M {
    interface lo
    virtual_router_id 2
    priority 100
    state MASTER
    virtual_ipaddress { 192.0.2.20/32 }
}
vrrp_instance O {
    interface lo
    virtual_router_id 3
    priority 255
    state BACKUP
    virtual_ipaddress { 192.0.2.30/32 }
}
";
        let cfg = rkeepalived_config::parse_str(text, "t.conf", &Default::default())
            .expect("config parses")
            .config;
        let got: Vec<(String, String)> = candidates(&cfg)
            .into_iter()
            .map(|(i, v)| (i.name.clone(), v.addr.to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("B".to_string(), "192.0.2.10".to_string()),
                ("B".to_string(), "192.0.2.11".to_string()),
            ]
        );
    }
}
