//! Netlink and tracking inputs: link and address events, script / track
//! file results, and the tracked priority and fault fed to the core.

use super::*;
use crate::router::{LinkEvent, Tracked};

impl Engine {
    /// `-a`/`--address-monitoring`: keepalived_netlink.c
    /// `netlink_if_address_filter()` logs every address change.
    fn log_address_change(&self, ev: &NetEvent) {
        let (ifindex, addr, what) = match ev {
            NetEvent::AddressAdded {
                ifindex,
                addr: Some(addr),
            } => (*ifindex, *addr, "added to"),
            NetEvent::AddressRemoved { ifindex, addr, .. } => (*ifindex, *addr, "removed from"),
            _ => return,
        };
        let ifname = nix::net::if_::if_indextoname(ifindex)
            .ok()
            .and_then(|c| c.into_string().ok())
            .unwrap_or_else(|| ifindex.to_string());
        tracing::info!("Netlink reflector reports IP {addr} {what} {ifname}");
    }

    pub(super) async fn on_net_event(&mut self, ev: NetEvent) {
        tracing::debug!(event = ?ev, "netlink event");
        if self.opts.log_address_changes {
            self.log_address_change(&ev);
        }
        match ev {
            NetEvent::AddressRemoved { ifindex, addr, .. } => {
                let name = nix::net::if_::if_indextoname(ifindex)
                    .ok()
                    .and_then(|c| c.into_string().ok());
                for idx in 0..self.instances.len() {
                    let rt = &self.instances[idx];
                    if self.router.fsm(idx).state() != State::Master {
                        continue;
                    }
                    let lost: Vec<VirtualIpAddress> = rt
                        .vips
                        .iter()
                        .filter(|v| v.addr == addr && name.as_deref().is_none_or(|n| n == v.dev))
                        // Gone with its interface (a deleted vmac): restored
                        // when that is re-created (lifecycle.rs).
                        .filter(|v| addr::ifindex(&v.dev).is_some())
                        // `no_track`: its deletion is not our business
                        // (keepalived netlink_if_address_filter()).
                        .filter(|v| !v.no_track)
                        .cloned()
                        .collect();
                    let inst_name = rt.cfg.name.clone();
                    for v in lost {
                        tracing::warn!(instance = %inst_name, vip = %addr::vip_label(&v), "VIP removed externally while MASTER; restoring");
                        match self.nl.add_address(&v).await {
                            Ok(()) => self.instances[idx].stats.vip_restores += 1,
                            Err(e) => {
                                self.instances[idx].stats.netlink_errors += 1;
                                tracing::error!(error = %e, "VIP restore failed");
                            }
                        }
                    }
                }
            }
            NetEvent::Link { ifname, up, .. } => {
                let event = if up { LinkEvent::Up } else { LinkEvent::Down };
                self.handle(Input::Link { ifname, event }).await;
                // Appeared, re-created or renamed: sockets and vmacs follow.
                self.sync_interfaces().await;
            }
            NetEvent::LinkRemoved { ifname, .. } => {
                let event = LinkEvent::Gone;
                self.handle(Input::Link { ifname, event }).await;
                self.sync_interfaces().await;
            }
            NetEvent::AddressAdded { ifindex, .. } => self.resolve_missing_sources(ifindex).await,
            NetEvent::Overrun => self.resync_after_overrun().await,
        }
    }

    /// Events were lost (ENOBUFS on the event socket): rebuild from the
    /// kernel's current state instead of trusting the missed deltas, as
    /// keepalived re-reads its interfaces after an overrun. Links and tracked
    /// interfaces are re-read, sockets and vmacs follow, and every MASTER
    /// puts back any VIP that went missing meanwhile (adding an address that
    /// exists is a no-op).
    async fn resync_after_overrun(&mut self) {
        self.netlink_errors += 1;
        tracing::warn!(
            netlink_errors = self.netlink_errors,
            "Netlink: Receive buffer overrun on monitor socket - resyncing links and addresses"
        );
        self.refresh_link_states().await;
        self.sync_interfaces().await;
        self.retrack().await;
        for idx in 0..self.instances.len() {
            if self.router.fsm(idx).state() != State::Master {
                continue;
            }
            let vips: Vec<VirtualIpAddress> = self.instances[idx]
                .vips
                .iter()
                .filter(|v| addr::ifindex(&v.dev).is_some() && !v.no_track)
                .cloned()
                .collect();
            for v in vips {
                if let Err(e) = self.nl.add_address(&v).await {
                    self.instances[idx].stats.netlink_errors += 1;
                    tracing::error!(vip = %addr::vip_label(&v), error = %e, "VIP restore after overrun failed");
                }
            }
        }
    }

    /// Instances that started without a usable source address (e.g. IPv6
    /// link-local not yet configured) pick one up when it appears; the core
    /// restarts them with it ([`Input::Sources`]).
    pub(super) async fn resolve_missing_sources(&mut self, ifindex: u32) {
        let mut found = Vec::new();
        for idx in 0..self.instances.len() {
            let rt = &self.instances[idx];
            if self.src(idx).is_some() || addr::ifindex(&rt.rx_if) != Some(ifindex) {
                continue;
            }
            let list = match self.nl.addresses(ifindex).await {
                Ok(l) => l,
                Err(e) => {
                    self.instances[idx].stats.netlink_errors += 1;
                    tracing::warn!(error = %e, "cannot list interface addresses");
                    continue;
                }
            };
            tracing::debug!(ifindex, addresses = ?list, "address added; looking for a source address");
            let rt = &self.instances[idx];
            if let Some(src) = glue::pick_source(rt.family, &list, &glue::advertised_addrs(&rt.cfg))
            {
                tracing::info!(instance = %rt.cfg.name, %src, "advert source address available");
                let mut params = glue::fsm_params(&rt.cfg, &self.cfg.global_defs, src);
                params.sync_group_member = self.router.is_group_member(&rt.cfg.name);
                found.push((idx, src, Box::new(params)));
            }
        }
        if !found.is_empty() {
            self.mark_ready();
            self.handle(Input::Sources { found }).await;
        }
    }

    pub(super) async fn on_track_update(&mut self, up: TrackUpdate) {
        let tracked = match up {
            TrackUpdate::Script { name, status } => Tracked::Script { name, status },
            TrackUpdate::File { name, value } => Tracked::File { name, value },
            TrackUpdate::Process { name, up } => Tracked::Process { name, up },
            TrackUpdate::ScriptError { name } => {
                for rt in self
                    .instances
                    .iter_mut()
                    .filter(|r| r.cfg.track_scripts.iter().any(|t| t.name == name))
                {
                    rt.stats.script_errors += 1;
                }
                return;
            }
        };
        self.mark_ready();
        self.handle(Input::Tracked(tracked)).await;
    }

    /// Tell the core which instances have their sockets (lifecycle.rs).
    fn mark_ready(&mut self) {
        for idx in 0..self.instances.len() {
            // Never Master without sockets to advertise on.
            let ready = self.sockets_ready(idx);
            self.router.set_ready(idx, ready);
        }
    }

    /// Recompute every instance's tracked priority/fault and feed changes to the fsm.
    pub(super) async fn retrack(&mut self) {
        self.mark_ready();
        self.handle(Input::Retrack).await;
    }
}
