//! Carrying out the core's effects: adverts, addresses, GARP/NA, notify.

use super::takeover::{Held, Step};
use super::*;

impl Engine {
    /// Carry out the router's effects, in order per instance; a mass
    /// takeover's VIP work is held and done in chunks ([`super::takeover`]).
    pub(super) async fn execute(&mut self, effects: Vec<Effect>) {
        for step in self.takeovers.plan(effects) {
            match step {
                Step::Now(effect) => self.execute_one(effect).await,
                Step::Flush(held) => self.run_held(vec![held]).await,
            }
        }
    }

    /// The next chunk of a mass takeover's held effects.
    pub(super) async fn takeover_chunk(&mut self) {
        let chunk = self.takeovers.next_chunk();
        self.run_held(chunk).await;
    }

    /// Every held takeover effect, now (before a reload or the shutdown).
    pub(super) async fn flush_takeovers(&mut self) {
        while !self.takeovers.is_empty() {
            self.takeover_chunk().await;
        }
    }

    /// Carry out held effects: the addresses of all of them concurrently
    /// (each instance's as `add_vips()`: accept-mode rules, then VIPs,
    /// routes, rules), then each instance's remaining effects in order.
    async fn run_held(&mut self, held: Vec<Held>) {
        let mut adds = Vec::new();
        for h in &held {
            if matches!(
                h.effects.first(),
                Some(Effect::Action {
                    action: Action::AddVips,
                    ..
                })
            ) {
                self.fw_accept_mode(h.instance, true);
                let rt = &self.instances[h.instance];
                let set = AddrSet {
                    vips: rt.vips.clone(),
                    routes: rt.cfg.virtual_routes.clone(),
                    rules: rt.cfg.virtual_rules.clone(),
                };
                adds.push((h.instance, rt.cfg.name.clone(), set));
            }
        }
        let nl = &self.nl;
        let errors = futures::future::join_all(
            adds.iter()
                .map(|(_, name, set)| ops::change_addrs(nl, Change::Add, set, name)),
        )
        .await;
        for ((idx, _, _), e) in adds.iter().zip(errors) {
            self.instances[*idx].stats.netlink_errors += e;
        }
        for h in held {
            let mut effects = h.effects.into_iter().peekable();
            if matches!(
                effects.peek(),
                Some(Effect::Action {
                    action: Action::AddVips,
                    ..
                })
            ) {
                effects.next();
            }
            for e in effects {
                self.execute_one(e).await;
            }
        }
    }

    async fn execute_one(&mut self, effect: Effect) {
        crate::progress::tick();
        match effect {
            // The core moved the AH sequence counter on already.
            Effect::EnteringMaster { .. } => {}
            Effect::Action { instance, action } => self.perform(instance, action).await,
            Effect::GroupState { name, state, .. } => self.notify_group(&name, state),
            Effect::Unmatched { reason } => self.unmatched.record(reason),
            Effect::Dropped {
                instance,
                from,
                reason,
            } => {
                let rt = &mut self.instances[instance];
                rt.stats.drops.record(reason);
                tracing::debug!(instance = %rt.cfg.name, src = %from, %reason, "dropped advert");
            }
            Effect::PriorityChanged {
                instance,
                from,
                to,
                state,
            } => {
                let name = &self.instances[instance].cfg.name;
                // keepalived vrrp_track.c: "(%s) Changing effective priority from %d to %d".
                tracing::info!(instance = %name, from, to, "({}) Changing effective priority from {} to {}", name, from, to);
                self.notify_priority_change(instance, to, state);
            }
            Effect::Accepted {
                instance,
                priority_zero,
            } => {
                let rt = &mut self.instances[instance];
                rt.stats.adverts_rx += 1;
                if priority_zero {
                    rt.stats.priority_zero_rx += 1;
                }
            }
        }
    }

    pub(super) async fn perform(&mut self, idx: usize, action: Action) {
        match action {
            // -V / --dont-release-vrrp: stopping leaves the addresses and
            // sends no priority-0 advert (vrrp_daemon.c vrrp_terminate_phase2).
            Action::SendAdvert { priority: 0 } | Action::RemoveVips if self.keep_on_stop => {}
            Action::SendAdvert { priority } => self.send_advert(idx, priority).await,
            Action::AddVips => self.add_vips(idx).await,
            Action::RemoveVips => self.remove_vips(idx).await,
            Action::SendGratuitous { repeat } => self.send_gratuitous(idx, repeat),
            Action::Notify(n) => self.notify(idx, n),
            Action::StateChanged { from, to, reason } => {
                let rt = &mut self.instances[idx];
                rt.stats.transitions += 1;
                rt.last_transition = Some(std::time::SystemTime::now());
                if to == State::Master {
                    rt.stats.became_master += 1;
                }
                if from == State::Master {
                    rt.stats.released_master += 1;
                }
                // keepalived's wording, which operators alert on:
                // "(VI_1) Entering MASTER STATE" (vrrp.c vrrp_state_master_tx,
                // vrrp_state_leave_master/_fault), "... (init)" at startup
                // (vrrp_scheduler.c vrrp_init_state).
                let init = if reason == fsm::Reason::Startup {
                    " (init)"
                } else {
                    ""
                };
                let priority = self.router.fsm(idx).effective_priority();
                if reason == fsm::Reason::Shutdown {
                    // keepalived logs no state line when it stops (vrrp.c
                    // `vrrp_restore_interface()` only says "(VI_1) sent 0
                    // priority", and only with -D): debug level here.
                    tracing::debug!(instance = %rt.cfg.name, from = from.name(), to = to.name(), ?reason, priority, "({}) Entering {} STATE", rt.cfg.name, to.name());
                } else {
                    tracing::info!(instance = %rt.cfg.name, from = from.name(), to = to.name(), ?reason, priority, "({}) Entering {} STATE{init}", rt.cfg.name, to.name());
                }
                if let Some(s) = &mut self.lvs_syncd {
                    s.on_state(&self.instances[idx].cfg.name, from, to);
                }
            }
        }
    }

    /// The sync groups of the configuration, seeded with the current member
    /// states (reload keeps running instances).
    pub(super) fn rebuild_groups(&mut self) {
        let groups = self
            .cfg
            .vrrp_sync_groups
            .iter()
            .map(|g| (g.name.clone(), g.group.clone()));
        let faults: Vec<bool> = (0..self.instances.len())
            .map(|i| self.router.tracked(i).is_some_and(|t| t.1))
            .collect();
        self.router
            .set_groups(groups, |i| faults.get(i).copied().unwrap_or(false));
    }

    /// Notify group scripts / FIFO: the group's aggregate state changed.
    pub(super) fn notify_group(&mut self, name: &str, state: State) {
        let cfg = self.cfg.clone();
        let Some(g) = cfg.vrrp_sync_groups.iter().find(|g| g.name == name) else {
            return;
        };
        let specific = match state {
            State::Master => g.notify_master.as_ref(),
            State::Backup => g.notify_backup.as_ref(),
            State::Fault => g.notify_fault.as_ref(),
            State::Initialize => return,
        };
        self.notifier.notify(
            Subject::Group(&g.name),
            state.name(),
            0,
            specific,
            g.notify.as_ref(),
        );
        self.mail.group(&g.name, state.name());
    }

    /// keepalived's `notify_shutdown` (vrrp_notify.c): after every
    /// instance's STOP, every sync group gets STOP too (its `notify_stop`,
    /// its generic `notify` with `GROUP NAME STOP 0`, the FIFO line).
    pub(super) fn notify_groups_stopped(&mut self) {
        let cfg = self.cfg.clone();
        for g in &cfg.vrrp_sync_groups {
            self.notifier.notify(
                Subject::Group(&g.name),
                "STOP",
                0,
                g.notify_stop.as_ref(),
                g.notify.as_ref(),
            );
            self.mail.group(&g.name, "STOP");
        }
    }

    pub(super) async fn send_advert(&mut self, idx: usize, priority: u8) {
        let Some(src) = self.src(idx) else { return };
        let rt = &mut self.instances[idx];
        let Some(sock) = self.sockets.get(&(rt.tx_if.clone(), rt.family)).cloned() else {
            self.iface_dirty = true;
            return;
        };
        let adv = glue::advertisement(&rt.cfg, priority);
        // AH: one sequence number per advert, whatever the number of peers.
        let unicast = !rt.cfg.unicast_peers.is_empty();
        let ah = self
            .router
            .endpoint_mut(idx)
            .and_then(|e| e.ah.as_mut())
            .map(|a| (a.key.clone(), a.counter.next_tx()));
        let mut packets = Vec::with_capacity(rt.dsts.len());
        for dst in rt.dsts.clone() {
            rt.ident = rt.ident.wrapping_add(1).max(1);
            let encoded = match &ah {
                Some((key, seq)) => glue::encode_advert_ah(
                    &adv,
                    src,
                    dst,
                    rt.ident,
                    rt.cfg.unicast_ttl,
                    key,
                    *seq,
                    unicast,
                ),
                None => glue::encode_advert(&adv, src, dst, rt.ident, rt.cfg.unicast_ttl),
            };
            match encoded {
                Ok(b) => packets.push((dst, b)),
                Err(e) => {
                    rt.stats.send_errors += 1;
                    tracing::error!(instance = %rt.cfg.name, error = %e, "cannot encode advert");
                }
            }
        }
        let out = ops::send_advert(sock.as_ref(), src, &packets, &rt.cfg.name).await;
        rt.stats.adverts_tx += out.sent;
        if priority == 0 {
            rt.stats.priority_zero_tx += out.sent;
        }
        rt.stats.send_errors += out.failed;
        if out.failed > 0 {
            self.iface_dirty = true;
        }
    }

    pub(super) async fn add_vips(&mut self, idx: usize) {
        // keepalived vrrp_state_become_master(): drop rules before the VIPs.
        self.fw_accept_mode(idx, true);
        let rt = &self.instances[idx];
        let set = AddrSet {
            vips: rt.vips.clone(),
            routes: rt.cfg.virtual_routes.clone(),
            rules: rt.cfg.virtual_rules.clone(),
        };
        self.change_addrs(idx, Change::Add, &set).await;
    }

    pub(super) async fn remove_vips(&mut self, idx: usize) {
        let rt = &self.instances[idx];
        let set = AddrSet {
            vips: rt.vips.clone(),
            routes: rt.cfg.virtual_routes.clone(),
            rules: rt.cfg.virtual_rules.clone(),
        };
        self.change_addrs(idx, Change::Delete, &set).await;
        self.fw_accept_mode(idx, false);
    }

    /// Add or delete an instance's addresses, routes and rules
    /// ([`ops::change_addrs`]); failures are counted on the instance.
    pub(super) async fn change_addrs(&mut self, idx: usize, change: Change, set: &AddrSet) {
        let name = self.instances[idx].cfg.name.clone();
        let errors = ops::change_addrs(&self.nl, change, set, &name).await;
        self.instances[idx].stats.netlink_errors += errors;
    }

    /// `repeat` rounds of GARP / unsolicited NA for every VIP, spaced by
    /// vrrp_garp_interval / vrrp_gna_interval, in the background.
    pub(super) fn send_gratuitous(&mut self, idx: usize, repeat: u32) {
        let vips = self.instances[idx].vips.clone();
        let mut targets: Vec<(Arc<dyn ops::Announce>, IpAddr)> = Vec::new();
        for v in &vips {
            if let Some(a) = self.announcer(&v.dev) {
                targets.push((a, v.addr));
            }
        }
        let v4 = targets.iter().filter(|(_, a)| a.is_ipv4()).count() as u64;
        let v6 = targets.len() as u64 - v4;
        let rt = &mut self.instances[idx];
        rt.stats.garp_sent += v4 * u64::from(repeat);
        rt.stats.na_sent += v6 * u64::from(repeat);
        let garp_interval = self.cfg.global_defs.vrrp_garp_interval;
        let gna_interval = self.cfg.global_defs.vrrp_gna_interval;
        let name = rt.cfg.name.clone();
        tokio::spawn(async move {
            ops::announce(&targets, repeat, garp_interval, gna_interval, &name).await;
        });
    }

    pub(super) fn notify(&mut self, idx: usize, n: fsm::Notify) {
        let rt = &self.instances[idx];
        let c = &rt.cfg;
        let state = n.name();
        let (specific, generic) = match n {
            fsm::Notify::Master => (c.notify_master.as_ref(), c.notify.as_ref()),
            fsm::Notify::Backup => (c.notify_backup.as_ref(), c.notify.as_ref()),
            fsm::Notify::Fault => (c.notify_fault.as_ref(), c.notify.as_ref()),
            fsm::Notify::Stop => (c.notify_stop.as_ref(), c.notify.as_ref()),
            fsm::Notify::MasterRxLowerPri => (c.notify_master_rx_lower_pri.as_ref(), None),
        };
        let before = self.notifier.errors;
        self.notifier.notify(
            Subject::Instance(&c.name),
            state,
            self.router.fsm(idx).effective_priority(),
            specific,
            generic,
        );
        let failed = self.notifier.errors - before;
        self.instances[idx].stats.script_errors += failed;
        // send_instance_notifies(): the e-mail comes last.
        let name = self.instances[idx].cfg.name.clone();
        self.mail.instance(&name, state);
    }
}
