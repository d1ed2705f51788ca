//! Reload (keepalived `reload_vrrp_thread` -> `clear_diff_vrrp`): which
//! instances stop, change in place or start, and the addresses they hold.

use super::*;

impl Engine {
    /// Reload as keepalived 2.2.7 does (`reload_vrrp_thread` →
    /// `clear_diff_vrrp`; the pairing is [`reload::plan`]): an instance whose
    /// identity (vrid, interface, family, transport) is still configured keeps
    /// its state and gets every other change in place
    /// ([`Engine::update_in_place`]); one that is gone stops (priority 0);
    /// a new one starts. Addresses of a stopped instance stay installed until
    /// the new instances have started, and only those no MASTER instance owns
    /// then are removed: a vrid or interface change of an instance that owns
    /// its VIP at once (priority 255, `state MASTER`) keeps the VIP without a gap.
    pub(super) async fn reload(&mut self, new: Arc<Config>) {
        tracing::info!("VRRP reload");
        // Instance indices may shift: nothing may stay held.
        self.flush_takeovers().await;
        let old_cfg = self.cfg.clone();
        let olds: Vec<&VrrpInstance> = self.instances.iter().map(|r| &r.cfg).collect();
        let plan = reload::plan(
            &olds,
            &old_cfg.global_defs,
            &new.vrrp_instances,
            &new.global_defs,
        );
        // 1. Stop the instances that are gone, holding their addresses.
        let mut held: Vec<AddrSet> = Vec::new();
        let mut updates: Vec<(usize, usize)> = Vec::new();
        let mut idx = 0;
        for fate in &plan.fates {
            match *fate {
                reload::Fate::Stop => {
                    tracing::info!(instance = %self.instances[idx].cfg.name, "VRRP reload: instance removed or its vrid/interface/family changed; stopping it");
                    if self.instances[idx].vmac.is_some() {
                        // Its addresses live on its vmac, which goes with it.
                        self.stop_instance(idx).await;
                    } else {
                        held.push(self.stop_instance_holding(idx).await);
                    }
                    let ah = self.router.endpoint(idx).and_then(|e| e.ah.clone());
                    self.router.remove(idx);
                    let gone = self.instances.remove(idx);
                    if let Some(ah) = ah {
                        // Restarted under the same name (a vrid or interface
                        // change): keep the AH sequence counter.
                        self.ah_counters.insert(gone.cfg.name, ah.counter);
                    }
                }
                reload::Fate::InPlace { new: j } => {
                    updates.push((idx, j));
                    idx += 1;
                }
                reload::Fate::Unchanged { new: j } => {
                    // Joining or leaving a sync group changes how the
                    // instance goes Master (consensus): update it too.
                    let member = |c: &Config, name: &str| {
                        c.vrrp_sync_groups
                            .iter()
                            .any(|g| g.group.iter().any(|m| m == name))
                    };
                    let name = self.instances[idx].cfg.name.as_str();
                    if member(&old_cfg, name) != member(&new, name) {
                        updates.push((idx, j));
                    }
                    idx += 1;
                }
            }
        }
        // 2. The new configuration's objects: global settings, tracking.
        self.cfg = new.clone();
        self.router.set_config(new.clone());
        self.mail.reconfigure(&new);
        if old_cfg.global_defs != new.global_defs {
            self.notifier = Notifier::new(&new.global_defs);
            // Script pollers run with the notifier's runner (script_user...):
            // restart them, their status carried over.
            for (_, w) in self.watchers.drain(..) {
                w.abort();
            }
        }
        self.start_watchers();
        self.refresh_link_states().await;
        // 3. Changed instances, in place.
        for (idx, j) in updates {
            if let Some(inst) = new.vrrp_instances.get(j) {
                self.update_in_place(idx, inst.clone()).await;
            }
        }
        self.apply_statics(Some(&old_cfg), &new).await;
        self.rebuild_groups();
        // 4. New instances.
        for j in plan.start {
            if let Some(inst) = new.vrrp_instances.get(j) {
                self.start_instance(inst.clone()).await;
            }
        }
        self.ah_counters.clear();
        // 5. Release what the stopped instances held and no MASTER owns now.
        for set in held {
            self.release_unowned(set).await;
        }
        self.fw_after_reload();
        // Tracking of the new configuration (new objects, weights, faults).
        self.retrack().await;
        // lvs_sync_daemon of the new configuration (reload_vrrp_thread()).
        // Without it now, the daemons are left running and no longer follow.
        self.lvs_syncd = match super::lvs_syncd::LvsSyncd::from_config(&new) {
            Some(mut s) => {
                let master = self.is_master(&s.instance);
                s.reloaded(self.lvs_syncd.take(), master);
                Some(s)
            }
            None => None,
        };
        self.close_unused_sockets();
    }

    /// Close the sockets (and their reader tasks) no instance uses any more.
    fn close_unused_sockets(&mut self) {
        let used: Vec<SockKey> = self
            .instances
            .iter()
            .flat_map(|r| [(r.rx_if.clone(), r.family), (r.tx_if.clone(), r.family)])
            .collect();
        self.sockets.retain(|k, _| used.contains(k));
        let router = &self.router;
        self.ah_sockets.retain(|ifname, (_, t)| {
            let keep = self.instances.iter().enumerate().any(|(i, r)| {
                &r.rx_if == ifname && router.endpoint(i).is_some_and(|e| e.ah.is_some())
            });
            if !keep {
                t.abort();
            }
            keep
        });
        self.socket_tasks.retain(|k, t| {
            let keep = used.contains(k);
            if !keep {
                t.abort();
            }
            keep
        });
    }

    /// [`Engine::stop_instance`] for a reload of an instance without a vmac:
    /// priority 0 and STOP as usual, but the addresses stay installed. They
    /// are returned so the caller can remove those no instance owns once the
    /// new instances have started.
    pub(super) async fn stop_instance_holding(&mut self, idx: usize) -> AddrSet {
        let effects: Vec<Effect> = self
            .router
            .handle(
                Input::Events {
                    instance: idx,
                    events: vec![Event::Shutdown],
                },
                Instant::now(),
            )
            .into_iter()
            .filter(|e| {
                !matches!(e, Effect::Action { instance, action: Action::RemoveVips } if *instance == idx)
            })
            .collect();
        self.execute(effects).await;
        let rt = &self.instances[idx];
        AddrSet {
            vips: rt.vips.clone(),
            routes: rt.cfg.virtual_routes.clone(),
            rules: rt.cfg.virtual_rules.clone(),
        }
    }

    /// Remove the entries of `set` that no MASTER instance owns.
    pub(super) async fn release_unowned(&mut self, set: AddrSet) {
        let owners: Vec<AddrSet> = self
            .instances
            .iter()
            .enumerate()
            .filter(|(i, _)| self.router.fsm(*i).state() == State::Master)
            .map(|(_, r)| AddrSet {
                vips: r.vips.clone(),
                routes: r.cfg.virtual_routes.clone(),
                rules: r.cfg.virtual_rules.clone(),
            })
            .collect();
        let (
            kept,
            AddrSet {
                vips,
                routes,
                rules,
            },
        ) = set.unowned(&owners);
        for v in &kept {
            tracing::info!(vip = %addr::vip_label(v), "VRRP reload: address kept by the new MASTER instance");
        }
        let mut errors = 0u64;
        for r in &rules {
            if let Err(e) = self.nl.del_rule(r).await {
                errors += 1;
                tracing::warn!(error = %e, "cannot delete virtual rule");
            }
        }
        for r in &routes {
            if let Err(e) = self.nl.del_route(r).await {
                errors += 1;
                tracing::warn!(error = %e, "cannot delete virtual route");
            }
        }
        for v in &vips {
            if let Err(e) = self.nl.del_address(v).await {
                errors += 1;
                tracing::warn!(error = %e, "cannot delete VIP");
            }
        }
        self.netlink_errors += errors;
    }

    /// Apply a changed configuration to a running instance of the same
    /// identity (keepalived `restore_vrrp_state()` + `vrrp_init_state()`):
    /// state, counters and installed addresses stay; while Master only the
    /// addresses that differ are removed or added, and newly added ones are
    /// announced (GARP/NA). Everything the instance derives from its
    /// configuration is rebuilt; the state machine takes the new parameters
    /// through [`fsm::Instance::reload`] (a Master advertises the new
    /// priority and interval at once, a Backup restarts Master_Down_Timer).
    pub(super) async fn update_in_place(&mut self, idx: usize, new: VrrpInstance) {
        let global = self.cfg.global_defs.clone();
        let rt = &self.instances[idx];
        let changed = reload::changed_fields(&rt.cfg, &new);
        tracing::info!(instance = %new.name, changed = ?changed, "VRRP reload: applied in place");
        let vips = vips_on(&new, rt.vmac.as_deref());
        let master = self.router.fsm(idx).state() == State::Master;
        if master {
            self.fw_reloaded_master(idx, &new, &vips);
        }
        let added_addrs = master && self.replace_master_addrs(idx, &new, &vips).await;
        // A changed mcast_src_ip (multicast; a unicast source is identity):
        // pick the advert source again.
        let mut src = self.src(idx);
        if glue::configured_source(&new) != glue::configured_source(&self.instances[idx].cfg) {
            src = self.pick_source_for(idx, &new).await;
        }
        let family = self.instances[idx].family;
        let primary = src.unwrap_or(match family {
            Family::Ipv4 => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            Family::Ipv6 => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        });
        let mut params = glue::fsm_params(&new, &global, primary);
        params.sync_group_member = self
            .cfg
            .vrrp_sync_groups
            .iter()
            .any(|g| g.group.contains(&new.name));
        let outcome = glue::tracked_priority(&new, &self.cfg, self.router.track());
        let dsts = glue::destinations(&new, &global);
        let rt = &mut self.instances[idx];
        let effective = self.router.fsm(idx).effective_priority();
        if outcome.priority != effective {
            tracing::info!(instance = %new.name, from = effective, to = outcome.priority, "VRRP reload: priority changed");
        }
        rt.vips = vips;
        rt.dsts = dsts;
        // auth_type/auth_pass changed to, from or within AH: a new key, the
        // sequence counter kept (keepalived `restore_vrrp_state`).
        let old_ah = self.router.endpoint(idx).and_then(|e| e.ah.clone());
        let ah_key = glue::ah_key(&new);
        let ah = if old_ah.as_ref().map(|a| &a.key) != ah_key.as_ref() {
            ah_key.map(|k| {
                let mut st = AhState::new(k);
                if let Some(c) = old_ah.as_ref().map(|a| a.counter) {
                    st.counter = c;
                }
                st
            })
        } else {
            old_ah
        };
        let needs_ah_socket = ah.is_some() && !self.ah_sockets.contains_key(&new.interface);
        self.router
            .set_endpoint(idx, crate::demux::Endpoint::new(&new, &global, src, ah));
        let groups: Vec<IpAddr> = rt
            .dsts
            .iter()
            .copied()
            .filter(|d| d.is_multicast())
            .collect();
        rt.cfg = new;
        if needs_ah_socket {
            let ifname = self.instances[idx].cfg.interface.clone();
            if let Err(e) = self.ah_socket_for(&ifname, &groups) {
                self.socket_errors += 1;
                tracing::error!(iface = %ifname, error = %e, "cannot open IPsec AH socket");
            }
        }
        self.handle(Input::Reload {
            instance: idx,
            params: Box::new(params),
            priority: outcome.priority,
        })
        .await;
        if master && added_addrs {
            // keepalived restore_vrrp_state(): addresses were added, so
            // vrrp_send_link_update(garp_rep).
            let repeat = self.instances[idx].cfg.garp_master_repeat;
            self.send_gratuitous(idx, repeat);
        }
    }

    /// A Master's reload: remove the addresses, routes and rules the new
    /// configuration drops, add the ones it brings (only the difference, so
    /// the kept ones never blink). Returns whether addresses were added.
    pub(super) async fn replace_master_addrs(
        &mut self,
        idx: usize,
        new: &VrrpInstance,
        vips: &[VirtualIpAddress],
    ) -> bool {
        let rt = &self.instances[idx];
        let old = AddrSet {
            vips: rt.vips.clone(),
            routes: rt.cfg.virtual_routes.clone(),
            rules: rt.cfg.virtual_rules.clone(),
        };
        let next = AddrSet {
            vips: vips.to_vec(),
            routes: new.virtual_routes.clone(),
            rules: new.virtual_rules.clone(),
        };
        let add = next.minus(&old);
        self.change_addrs(idx, Change::Delete, &old.minus(&next))
            .await;
        self.change_addrs(idx, Change::Add, &add).await;
        !add.vips.is_empty()
    }

    /// The advert source address for `new`: configured, or picked from the
    /// interface's addresses (None if there is none yet).
    pub(super) async fn pick_source_for(
        &mut self,
        idx: usize,
        new: &VrrpInstance,
    ) -> Option<IpAddr> {
        match glue::configured_source(new) {
            Some(s) => Some(s),
            None => match addr::ifindex(&new.interface) {
                Some(i) => match self.nl.addresses(i).await {
                    Ok(list) => glue::pick_source_before_statics(
                        self.instances[idx].family,
                        &list,
                        &glue::advertised_addrs(new),
                        &self.static_addrs(),
                    ),
                    Err(e) => {
                        self.instances[idx].stats.netlink_errors += 1;
                        tracing::warn!(error = %e, "cannot list interface addresses");
                        None
                    }
                },
                None => None,
            },
        }
    }

    /// static_ipaddress / static_routes / static_rules: owned for the
    /// daemon's lifetime regardless of VRRP state. `old` = what is installed
    /// now (None at startup); entries missing from `new` are removed.
    pub(super) async fn apply_statics(&mut self, old: Option<&Config>, new: &Config) {
        let mut errors = 0u64;
        if let Some(old) = old {
            for r in old
                .static_rules
                .iter()
                .filter(|r| !new.static_rules.contains(r))
            {
                if let Err(e) = self.nl.del_rule(r).await {
                    errors += 1;
                    tracing::warn!(error = %e, "cannot delete static rule");
                }
            }
            for r in old
                .static_routes
                .iter()
                .filter(|r| !new.static_routes.contains(r))
            {
                if let Err(e) = self.nl.del_route(r).await {
                    errors += 1;
                    tracing::warn!(error = %e, "cannot delete static route");
                }
            }
            for a in old
                .static_ipaddresses
                .iter()
                .filter(|a| !new.static_ipaddresses.contains(a))
            {
                if let Err(e) = self.nl.del_address(a).await {
                    errors += 1;
                    tracing::warn!(error = %e, "cannot delete static address");
                }
            }
        }
        for a in &new.static_ipaddresses {
            if let Err(e) = self.nl.add_address(a).await {
                errors += 1;
                tracing::error!(error = %e, "cannot add static address");
            }
        }
        for r in &new.static_routes {
            if let Err(e) = self.nl.add_route(r).await {
                errors += 1;
                tracing::error!(error = %e, "cannot add static route");
            }
        }
        for r in &new.static_rules {
            if let Err(e) = self.nl.add_rule(r).await {
                errors += 1;
                tracing::error!(error = %e, "cannot add static rule");
            }
        }
        self.netlink_errors += errors;
    }
}
