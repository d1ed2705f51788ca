//! Starting and stopping one instance: its vmac, sockets and advert source
//! address, then `Input::Start` for the core; on stop, priority 0, VIPs
//! removed and the vmac deleted.

use super::*;

impl Engine {
    /// The `static_ipaddress` addresses of the running configuration.
    pub(super) fn static_addrs(&self) -> Vec<IpAddr> {
        self.cfg.static_ipaddresses.iter().map(|a| a.addr).collect()
    }

    pub(super) async fn start_instance(&mut self, cfg: VrrpInstance) {
        let global = self.cfg.global_defs.clone();
        let family = glue::family(cfg.family);
        let mut tx_if = cfg.interface.clone();
        let mut vmac = None;
        let mut stats = InstanceStats::default();
        if let Some(v) = &cfg.use_vmac {
            let mac = glue::vmac_mac(&cfg, v);
            let ipv6 = glue::vmac_needs_ipv6(&cfg);
            match self.nl.add_vmac(&v.name, &cfg.interface, mac, ipv6).await {
                Ok(_) => {
                    self.configure_vmac_arp(&cfg.interface, &v.name);
                    vmac = Some(v.name.clone());
                    if !v.xmit_base {
                        tx_if = v.name.clone();
                    }
                }
                // The base interface does not exist yet: the vmac is created
                // when it appears (lifecycle.rs), held in FAULT until then.
                Err(_) if addr::ifindex(&cfg.interface).is_none() => {
                    vmac = Some(v.name.clone());
                    if !v.xmit_base {
                        tx_if = v.name.clone();
                    }
                }
                Err(e) => {
                    stats.netlink_errors += 1;
                    tracing::error!(instance = %cfg.name, error = %e, "cannot create vmac; using the base interface");
                }
            }
        }
        self.set_promote_secondaries(&cfg);
        let vips = vips_on(&cfg, vmac.as_deref());
        let dsts = glue::destinations(&cfg, &global);
        let groups: Vec<IpAddr> = dsts.iter().copied().filter(|d| d.is_multicast()).collect();
        let mut ok = true;
        if let Err(e) = self.socket_for(&cfg.interface, family, &groups, true) {
            tracing::error!(instance = %cfg.name, error = %e, "cannot open VRRP socket");
            ok = false;
        }
        let mut ah = glue::ah_key(&cfg).map(AhState::new);
        if let (Some(ah), Some(counter)) = (ah.as_mut(), self.ah_counters.remove(&cfg.name)) {
            // keepalived `restore_vrrp_state`: a reloaded instance keeps its AH counter.
            ah.counter = counter;
        }
        if ah.is_some() {
            if let Err(e) = self.ah_socket_for(&cfg.interface, &groups) {
                tracing::error!(instance = %cfg.name, error = %e, "cannot open IPsec AH socket");
                ok = false;
            }
        }
        if tx_if != cfg.interface {
            if let Err(e) = self.socket_for(&tx_if, family, &[], false) {
                tracing::error!(instance = %cfg.name, error = %e, "cannot open VRRP socket on vmac");
                ok = false;
            }
        }
        let src = match glue::configured_source(&cfg) {
            Some(s) => Some(s),
            None => match addr::ifindex(&cfg.interface) {
                Some(idx) => match self.nl.addresses(idx).await {
                    Ok(list) => glue::pick_source_before_statics(
                        family,
                        &list,
                        &glue::advertised_addrs(&cfg),
                        &self.static_addrs(),
                    ),
                    Err(e) => {
                        stats.netlink_errors += 1;
                        tracing::error!(instance = %cfg.name, error = %e, "cannot list interface addresses");
                        None
                    }
                },
                None => None,
            },
        };
        if src.is_none() {
            tracing::error!(instance = %cfg.name, iface = %cfg.interface, family = ?family, "no source address for adverts; instance held in FAULT");
            ok = false;
        }
        let primary = src.unwrap_or(match family {
            Family::Ipv4 => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            Family::Ipv6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        });
        let mut params = glue::fsm_params(&cfg, &global, primary);
        // keepalived: sync group members go Master together (vrrp_sync_can_goto_master).
        params.sync_group_member = self.router.is_group_member(&cfg.name);
        let endpoint = crate::demux::Endpoint::new(&cfg, &global, src, ah);
        let fsm = fsm::Instance::new(params);
        let rt = Runtime {
            family,
            rx_if: cfg.interface.clone(),
            tx_if,
            vmac,
            dsts,
            vips,
            ident: 0,
            stats,
            last_transition: None,
            cfg,
        };
        let outcome = glue::tracked_priority(&rt.cfg, &self.cfg, self.router.track());
        let fault = outcome.fault || !ok;
        tracing::info!(instance = %rt.cfg.name, vrid = rt.cfg.virtual_router_id, iface = %rt.rx_if, src = ?src, "VRRP instance started");
        let idx = self.router.add(rt.cfg.name.clone(), fsm);
        self.router.set_endpoint(idx, endpoint);
        self.instances.push(rt);
        debug_assert_eq!(idx + 1, self.instances.len());
        self.fw_vmac_up(idx);
        self.handle(Input::Start {
            instance: idx,
            priority: outcome.priority,
            fault,
        })
        .await;
    }

    /// Shut one instance down: priority 0 if Master, VIPs removed, vmac deleted.
    pub(super) async fn stop_instance(&mut self, idx: usize) {
        self.events(idx, vec![Event::Shutdown]).await;
        if self.keep_on_stop {
            return;
        }
        // Belt and braces: whatever the state, leave no VIPs behind.
        self.remove_vips(idx).await;
        if let Some(v) = self.instances[idx].vmac.clone() {
            self.fw_vmac_down(idx);
            if let Err(e) = self.nl.del_link(&v).await {
                self.instances[idx].stats.netlink_errors += 1;
                tracing::warn!(vmac = %v, error = %e, "cannot delete vmac");
            }
        }
    }

    /// keepalived's vmac ARP setup (vrrp_if_config.c): the base interface
    /// must not answer ARP for addresses living on the vmac (arp_ignore=1,
    /// arp_filter=1), so the LAN learns the virtual router MAC; the vmac
    /// itself answers only for its own addresses and accepts asymmetric
    /// traffic (rp_filter=0).
    pub(super) fn configure_vmac_arp(&mut self, base: &str, vmac: &str) {
        for (key, value) in [("arp_ignore", "1"), ("arp_filter", "1")] {
            match addr::set_ipv4_conf(base, key, value) {
                Ok(old) => {
                    if !self
                        .sysctl_restore
                        .iter()
                        .any(|(i, k, _)| i == base && *k == key)
                    {
                        self.sysctl_restore.push((base.to_string(), key, old));
                    }
                }
                Err(e) => {
                    tracing::warn!(iface = base, key, error = %e, "cannot set sysctl for vmac")
                }
            }
        }
        for (key, value) in [
            ("arp_ignore", "1"),
            ("arp_filter", "1"),
            ("rp_filter", "0"),
            ("accept_local", "1"),
        ] {
            if let Err(e) = addr::set_ipv4_conf(vmac, key, value) {
                tracing::warn!(iface = vmac, key, error = %e, "cannot set sysctl for vmac");
            }
        }
    }
}
