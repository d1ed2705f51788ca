//! Clean start of a VRRP child: remove the VIPs, routes and rules a previous
//! run left behind.
//!
//! keepalived enters BACKUP at init with the instance's VIPs removed
//! (vrrp.c `vrrp_restore_interfaces_startup` → `vrrp_restore_interface`
//! with `force`, which also deletes the instance's virtual rules and
//! routes). Our VRRP child may be a respawn after its predecessor was
//! SIGKILLed while MASTER (or the whole daemon was killed): the kernel still
//! holds those VIPs and routes, and while this node is BACKUP a peer may own
//! them — a duplicate address on the wire. So before the engine starts, every
//! instance that starts as BACKUP has its (excluded and non-excluded) VIPs,
//! its virtual routes and its virtual rules removed; instances configured
//! MASTER re-claim theirs at once anyway.
//!
//! A child killed in the middle of a reload (or between the supervisor
//! accepting a reload and the child applying it) leaves items of the *old*
//! configuration that the new one does not name: keepalived itself leaks
//! those. The supervisor therefore keeps a journal ([`Journal`], next to the
//! VRRP pid file) of every VIP, route and rule of each configuration it
//! handed to a VRRP child since that child started, and the next child
//! removes whatever the journal lists that its own configuration does not.
//! (Deliberate difference from keepalived, documented in systemd/README.md:
//! an address an administrator adds by hand that was a VIP of a
//! configuration reloaded away during the same child's life is removed by
//! the next respawn.)

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use crate::addr::{ifindex, Netlink};
use rkeepalived_config::model::{InitialState, VirtualIpAddress, VirtualRoute, VirtualRule};
use rkeepalived_config::Config;
use serde::{Deserialize, Serialize};

/// Environment variable by which the supervisor tells a VRRP child where
/// the journal of previously handed-out VIPs/routes/rules is.
pub const JOURNAL_ENV: &str = "RKEEPALIVED_VRRP_JOURNAL";

/// The VIPs (incl. excluded), routes and rules of VRRP instances.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    pub vips: Vec<VirtualIpAddress>,
    pub routes: Vec<VirtualRoute>,
    pub rules: Vec<VirtualRule>,
}

fn vip_key(v: &VirtualIpAddress) -> (IpAddr, u8, &str) {
    (v.addr, v.prefix_len, v.dev.as_str())
}

impl Owned {
    /// Everything the VRRP instances of `cfg` may install.
    pub fn of(cfg: &Config) -> Owned {
        let mut o = Owned::default();
        for i in &cfg.vrrp_instances {
            o.vips.extend(i.virtual_ipaddresses.iter().cloned());
            o.vips
                .extend(i.virtual_ipaddresses_excluded.iter().cloned());
            o.routes.extend(i.virtual_routes.iter().cloned());
            o.rules.extend(i.virtual_rules.iter().cloned());
        }
        o.dedup();
        o
    }

    /// Adds what `other` has and `self` lacks.
    pub fn union(&mut self, other: &Owned) {
        self.vips.extend(other.vips.iter().cloned());
        self.routes.extend(other.routes.iter().cloned());
        self.rules.extend(other.rules.iter().cloned());
        self.dedup();
    }

    fn dedup(&mut self) {
        let mut seen = HashSet::new();
        self.vips
            .retain(|v| seen.insert((v.addr, v.prefix_len, v.dev.clone())));
        let mut routes: Vec<VirtualRoute> = Vec::with_capacity(self.routes.len());
        for r in self.routes.drain(..) {
            if !routes.contains(&r) {
                routes.push(r);
            }
        }
        self.routes = routes;
        let mut rules: Vec<VirtualRule> = Vec::with_capacity(self.rules.len());
        for r in self.rules.drain(..) {
            if !rules.contains(&r) {
                rules.push(r);
            }
        }
        self.rules = rules;
    }

    /// What `self` has that `current` does not (VIPs compared by address,
    /// prefix and device: a changed label or flag is the same address).
    pub fn minus(&self, current: &Owned) -> Owned {
        let keep: HashSet<_> = current.vips.iter().map(vip_key).collect();
        Owned {
            vips: self
                .vips
                .iter()
                .filter(|v| !keep.contains(&vip_key(v)))
                .cloned()
                .collect(),
            routes: self
                .routes
                .iter()
                .filter(|r| !current.routes.contains(r))
                .cloned()
                .collect(),
            rules: self
                .rules
                .iter()
                .filter(|r| !current.rules.contains(r))
                .cloned()
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.vips.is_empty() && self.routes.is_empty() && self.rules.is_empty()
    }
}

/// The supervisor's journal of the VIPs, routes and rules handed to VRRP
/// children (`/run/vrrp.pid` → `/run/vrrp.owned.json`).
pub type Journal = rkeepalived_script::journal::Journal<Owned>;

/// The default journal name stem when the pid file has none.
pub const JOURNAL_STEM: &str = "vrrp";

impl rkeepalived_script::journal::Owned for Owned {
    const OWNER: &'static str = "VRRP";
    fn union(&mut self, other: &Self) {
        Owned::union(self, other)
    }
}

fn read_journal(path: &Path) -> Owned {
    rkeepalived_script::journal::read_journal(path)
}

/// Removes stale VIPs (and routes and rules) of BACKUP-initial instances,
/// and whatever the journal named by [`JOURNAL_ENV`] lists that `cfg` does
/// not; returns how many addresses were removed.
pub async fn sweep_stale_vips(cfg: &Config) -> usize {
    let journal = std::env::var_os(JOURNAL_ENV).map(|p| read_journal(Path::new(&p)));
    sweep(cfg, journal.unwrap_or_default()).await
}

async fn sweep(cfg: &Config, journal: Owned) -> usize {
    let gone = journal.minus(&Owned::of(cfg));
    let backup: Vec<_> = cfg
        .vrrp_instances
        .iter()
        .filter(|i| i.state == InitialState::Backup && i.priority < 255)
        .collect();
    let candidates: Vec<(&str, &VirtualIpAddress)> = backup
        .iter()
        .flat_map(|i| {
            i.virtual_ipaddresses
                .iter()
                .chain(&i.virtual_ipaddresses_excluded)
                .map(move |v| (i.name.as_str(), v))
        })
        .chain(gone.vips.iter().map(|v| ("(no longer configured)", v)))
        .collect();
    let routes: Vec<(&str, &VirtualRoute)> = backup
        .iter()
        .flat_map(|i| i.virtual_routes.iter().map(move |r| (i.name.as_str(), r)))
        .chain(gone.routes.iter().map(|r| ("(no longer configured)", r)))
        .collect();
    let rules: Vec<(&str, &VirtualRule)> = backup
        .iter()
        .flat_map(|i| i.virtual_rules.iter().map(move |r| (i.name.as_str(), r)))
        .chain(gone.rules.iter().map(|r| ("(no longer configured)", r)))
        .collect();
    if candidates.is_empty() && routes.is_empty() && rules.is_empty() {
        return 0;
    }
    let nl = match Netlink::connect() {
        Ok(nl) => nl,
        Err(e) => {
            tracing::warn!("cannot check for stale VIPs: {e}");
            return 0;
        }
    };
    // Rules and routes first, as keepalived's vrrp_restore_interface.
    for (inst, rule) in rules {
        if let Err(e) = nl.del_rule(rule).await {
            tracing::debug!(instance = %inst, "stale virtual rule not removed: {e}");
        }
    }
    for (inst, route) in routes {
        match nl.del_route(route).await {
            Ok(()) => tracing::debug!(instance = %inst, ?route, "no stale virtual route left"),
            Err(e) => tracing::debug!(instance = %inst, "stale virtual route not removed: {e}"),
        }
    }
    let mut present: HashMap<String, HashSet<(IpAddr, u8)>> = HashMap::new();
    let mut removed = 0;
    let mut done = HashSet::new();
    for (inst, vip) in candidates {
        if !done.insert(vip_key(vip)) {
            continue;
        }
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
                    instance = %inst,
                    "removed stale VIP {}/{} on {} left by a previous run (instance starts as BACKUP or the address is no longer configured)",
                    vip.addr,
                    vip.prefix_len,
                    vip.dev
                );
            }
            Err(e) => {
                tracing::error!(instance = %inst, "cannot remove stale VIP {}: {e}", vip.addr)
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip(a: &str) -> VirtualIpAddress {
        VirtualIpAddress::new(a.parse().expect("addr"), "eth0")
    }

    #[test]
    fn minus_keys_vips_by_address_prefix_and_device() {
        let mut old = Owned {
            vips: vec![vip("192.0.2.1"), vip("192.0.2.2")],
            ..Default::default()
        };
        let mut relabelled = vip("192.0.2.1");
        relabelled.label = Some("eth0:1".into());
        let new = Owned {
            vips: vec![relabelled],
            ..Default::default()
        };
        let gone = old.minus(&new);
        assert_eq!(gone.vips, vec![vip("192.0.2.2")]);
        old.union(&new);
        assert_eq!(old.vips.len(), 2, "union dedups by key");
    }
}
