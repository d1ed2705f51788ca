//! Clean start of a VRRP child: remove VIPs a previous run left behind.
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
use rkeepalived_config::Config;
use rkeepalived_vrrp::addr::{ifindex, Netlink};

/// Removes stale VIPs of BACKUP-initial instances; returns how many were removed.
pub async fn sweep_stale_vips(cfg: &Config) -> usize {
    let candidates: Vec<_> = cfg
        .vrrp_instances
        .iter()
        .filter(|i| i.state == InitialState::Backup && i.priority < 255)
        .flat_map(|i| {
            i.virtual_ipaddresses
                .iter()
                .chain(&i.virtual_ipaddresses_excluded)
                .map(move |v| (i, v))
        })
        .collect();
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
