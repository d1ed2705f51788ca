//! The engine side of the interface lifecycle ([`crate::iface`] plans it):
//! vmacs re-created, sockets closed and reopened on the interface's current
//! index, source addresses picked again, and FAULT held while an instance
//! lacks a socket. Runs on every link event and after a failed send.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use super::Engine;
use crate::addr;
use crate::fsm::State;
use crate::iface::{self, SockKey, SockOp, VmacWant};
use crate::instance as glue;

impl Engine {
    /// Current up/down of every interface an instance uses or tracks.
    pub(super) async fn refresh_link_states(&mut self) {
        let mut names: Vec<String> = Vec::new();
        for i in &self.cfg.vrrp_instances {
            names.push(i.interface.clone());
            names.extend(i.track_interfaces.iter().map(|t| t.name.clone()));
        }
        for g in &self.cfg.vrrp_sync_groups {
            names.extend(g.track_interfaces.iter().map(|t| t.name.clone()));
        }
        names.sort();
        names.dedup();
        for n in names {
            let up = match addr::ifindex(&n) {
                Some(idx) => self.nl.link_up(idx).await.unwrap_or(false),
                None => false,
            };
            self.router.track_mut().interfaces.insert(n, up);
        }
    }

    /// Sockets the instances need, with whether adverts are received on them
    /// (the configured interface) or only sent (a vmac).
    fn wanted_sockets(&self) -> HashMap<SockKey, bool> {
        let mut m: HashMap<SockKey, bool> = HashMap::new();
        for rt in &self.instances {
            m.insert((rt.rx_if.clone(), rt.family), true);
        }
        for rt in &self.instances {
            m.entry((rt.tx_if.clone(), rt.family)).or_insert(false);
        }
        m
    }

    /// Both of the instance's sockets are open on the interfaces' current
    /// index (the last [`Engine::sync_interfaces`] saw them): it can receive
    /// and send adverts. An instance that is not ready is held in FAULT
    /// (keepalived: `cleanup_lost_interface()` -> `down_instance()`).
    pub(super) fn sockets_ready(&self, idx: usize) -> bool {
        let rt = &self.instances[idx];
        self.sockets.contains_key(&(rt.rx_if.clone(), rt.family))
            && self.sockets.contains_key(&(rt.tx_if.clone(), rt.family))
            // An AH instance hears its peers only on its IPPROTO_AH socket:
            // without it, it would declare a live Master down.
            && (!self.has_ah(idx) || self.ah_sockets.contains_key(&rt.rx_if))
    }

    /// The IPPROTO_AH receive sockets follow their interfaces like the VRRP
    /// ones: closed when the interface is gone or has a new index, reopened
    /// (with the instances' multicast groups) once it exists.
    fn sync_ah_sockets(&mut self) {
        self.ah_sockets.retain(|ifname, (sock, task)| {
            let keep = addr::ifindex(ifname) == Some(sock.ifindex());
            if !keep {
                tracing::info!(iface = %ifname, "closing its IPsec AH socket");
                task.abort();
            }
            keep
        });
        let mut wanted: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (_, rt) in self
            .instances
            .iter()
            .enumerate()
            .filter(|(i, _)| self.has_ah(*i))
        {
            wanted
                .entry(rt.rx_if.clone())
                .or_default()
                .extend(rt.dsts.iter().copied().filter(|d| d.is_multicast()));
        }
        for (ifname, mut groups) in wanted {
            if self.ah_sockets.contains_key(&ifname) || addr::ifindex(&ifname).is_none() {
                continue;
            }
            groups.sort();
            groups.dedup();
            match self.ah_socket_for(&ifname, &groups) {
                Ok(()) => tracing::info!(iface = %ifname, "IPsec AH socket opened"),
                Err(e) => {
                    self.socket_errors += 1;
                    tracing::error!(iface = %ifname, error = %e, "cannot open IPsec AH socket");
                }
            }
        }
    }

    /// Log every instance whose interface does not exist at startup
    /// (keepalived refuses to start without `dynamic_interfaces`; we wait).
    pub(super) fn report_missing_interfaces(&self) {
        let dynamic = self.cfg.global_defs.dynamic_interfaces;
        let msg = iface::missing_at_start_message(dynamic);
        for inst in &self.cfg.vrrp_instances {
            if addr::ifindex(&inst.interface).is_none() {
                if dynamic {
                    tracing::warn!(instance = %inst.name, iface = %inst.interface, "{msg}");
                } else {
                    tracing::error!(instance = %inst.name, iface = %inst.interface, "{msg}");
                }
            }
        }
    }

    /// Bring vmacs, sockets, GARP senders, source addresses and interface
    /// tracking in line with the interfaces that exist now, then re-evaluate
    /// faults. Idempotent: with nothing changed it only makes a few
    /// `if_nametoindex` calls.
    pub(super) async fn sync_interfaces(&mut self) {
        self.iface_dirty = false;
        let recreated = self.recreate_vmacs().await;
        // GARP/NA senders are bound to an index too.
        self.announcers
            .retain(|name, a| addr::ifindex(name) == Some(a.ifindex()));
        let lost = self.sync_sockets();
        self.sync_ah_sockets();
        // A source address picked from a lost interface went with it (a
        // re-created interface may well get another link-local address).
        for idx in 0..self.instances.len() {
            let rt = &self.instances[idx];
            if self.src(idx).is_some()
                && glue::configured_source(&rt.cfg).is_none()
                && lost.contains(&(rt.rx_if.clone(), rt.family))
            {
                tracing::info!(instance = %rt.cfg.name, iface = %rt.rx_if, "advert source address lost with the interface");
                self.set_src(idx, None);
            }
        }
        // Renamed away: no RTM_DELLINK for the old name.
        for (name, up) in self.router.track_mut().interfaces.iter_mut() {
            if *up && addr::ifindex(name).is_none() {
                tracing::info!(iface = %name, "tracked interface gone");
                *up = false;
            }
        }
        self.retrack().await;
        // A source address on the (new) interface, if it already has one.
        let mut indexes: Vec<u32> = self
            .instances
            .iter()
            .enumerate()
            .filter(|(i, _)| self.src(*i).is_none())
            .filter_map(|(_, r)| addr::ifindex(&r.rx_if))
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        for ifindex in indexes {
            self.resolve_missing_sources(ifindex).await;
        }
        self.restore_on_recreated_vmacs(&recreated).await;
    }

    /// vmacs deleted by hand or with their base interface are created again
    /// (keepalived: recreate_vmac_thread()); returns their names.
    async fn recreate_vmacs(&mut self) -> Vec<String> {
        let wants: Vec<VmacWant> = self
            .instances
            .iter()
            .filter_map(|rt| {
                rt.vmac.as_ref().map(|v| VmacWant {
                    vmac: v.clone(),
                    base: rt.cfg.interface.clone(),
                })
            })
            .collect();
        let mut recreated: Vec<String> = Vec::new();
        for w in iface::plan_vmacs(&wants, addr::ifindex) {
            let Some(idx) = self
                .instances
                .iter()
                .position(|r| r.vmac.as_deref() == Some(w.vmac.as_str()))
            else {
                continue;
            };
            let cfg = &self.instances[idx].cfg;
            let Some(v) = cfg.use_vmac.as_ref() else {
                continue;
            };
            let mac = glue::vmac_mac(cfg, v);
            let ipv6 = glue::vmac_needs_ipv6(cfg);
            match self.nl.add_vmac(&w.vmac, &w.base, mac, ipv6).await {
                Ok(_) => {
                    tracing::info!(vmac = %w.vmac, base = %w.base, "vmac (re)created");
                    self.configure_vmac_arp(&w.base, &w.vmac);
                    self.fw_vmac_up(idx);
                    recreated.push(w.vmac);
                }
                Err(e) => {
                    self.instances[idx].stats.netlink_errors += 1;
                    tracing::error!(vmac = %w.vmac, base = %w.base, error = %e, "cannot re-create vmac");
                }
            }
        }
        recreated
    }

    /// Sockets: close the ones on lost/replaced interfaces, open the missing.
    /// Returns the keys of the sockets closed.
    fn sync_sockets(&mut self) -> Vec<SockKey> {
        let wanted = self.wanted_sockets();
        let wanted_keys: HashSet<SockKey> = wanted.keys().cloned().collect();
        let open: HashMap<SockKey, u32> = self
            .sockets
            .iter()
            .map(|(k, s)| (k.clone(), s.ifindex()))
            .collect();
        let mut lost: Vec<SockKey> = Vec::new();
        for op in iface::plan_sockets(&wanted_keys, &open, addr::ifindex) {
            match op {
                SockOp::Close(k) => {
                    // keepalived's wording (netlink_if_link_filter()).
                    let renamed = open
                        .get(&k)
                        .and_then(|i| nix::net::if_::if_indextoname(*i).ok())
                        .and_then(|c| c.into_string().ok())
                        .filter(|n| !n.is_empty() && *n != k.0);
                    let gone = addr::ifindex(&k.0) != open.get(&k).copied();
                    match renamed {
                        _ if !gone => {} // only no longer used (reload)
                        Some(to) => {
                            tracing::info!("Interface name has changed from {} to {to}", k.0)
                        }
                        None => tracing::info!("Interface {} deleted", k.0),
                    }
                    tracing::info!(iface = %k.0, family = ?k.1, "closing its VRRP socket");
                    self.sockets.remove(&k);
                    if let Some(t) = self.socket_tasks.remove(&k) {
                        t.abort();
                    }
                    lost.push(k);
                }
                SockOp::Open(k, ifindex) => {
                    let receive = wanted.get(&k).copied().unwrap_or(false);
                    let groups: Vec<IpAddr> = if receive {
                        let mut g: Vec<IpAddr> = self
                            .instances
                            .iter()
                            .filter(|r| r.rx_if == k.0 && r.family == k.1)
                            .flat_map(|r| r.dsts.iter().copied())
                            .filter(|d| d.is_multicast())
                            .collect();
                        g.sort();
                        g.dedup();
                        g
                    } else {
                        Vec::new()
                    };
                    match self.socket_for(&k.0, k.1, &groups, receive) {
                        Ok(()) => {
                            tracing::info!(iface = %k.0, ifindex, family = ?k.1, "VRRP socket opened")
                        }
                        Err(e) => {
                            self.socket_errors += 1;
                            tracing::error!(iface = %k.0, error = %e, "cannot open VRRP socket");
                        }
                    }
                }
            }
        }
        lost
    }

    /// A Master whose vmac was re-created lost its VIPs with the old one:
    /// put them back, announce them and advertise at once.
    async fn restore_on_recreated_vmacs(&mut self, recreated: &[String]) {
        for idx in 0..self.instances.len() {
            let rt = &self.instances[idx];
            let on_new_vmac = rt.vmac.as_ref().is_some_and(|v| recreated.contains(v));
            if on_new_vmac
                && self.router.fsm(idx).state() == State::Master
                && self.sockets_ready(idx)
            {
                tracing::info!(instance = %rt.cfg.name, "restoring VIPs on the re-created vmac");
                let repeat = rt.cfg.garp_master_repeat;
                let priority = self.router.fsm(idx).effective_priority();
                self.add_vips(idx).await;
                self.send_advert(idx, priority).await;
                self.send_gratuitous(idx, repeat);
            }
        }
    }
}
