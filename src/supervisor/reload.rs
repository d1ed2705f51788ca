//! SIGHUP: loading the file again off the event loop, and applying the
//! new configuration to the running children.

use std::time::{SystemTime, UNIX_EPOCH};

use rkeepalived_config::Config;

use super::*;

/// How much lower than the supervisor's the priority of the encoding that
/// follows a delta reload is (see [`Supervisor::apply_config`]).
const ENCODE_NICE: i32 = 10;

impl Supervisor {
    /// SIGHUP: parse and validate the file again, off the event loop (see
    /// reload_loader.rs); [`Self::finish_reload`] applies the result. A
    /// SIGHUP during a load reloads again once it is done.
    pub(super) fn start_reload(&mut self) {
        if self.reload_load.is_some() {
            tracing::info!("SIGHUP: a reload is in progress; reloading again after it");
            self.reload_again = true;
            return;
        }
        tracing::info!("SIGHUP: reloading {}", self.cli.config_file.display());
        self.notifier.reloading();
        self.reload_load = Some(reload_loader::start(
            self.cli.config_file.clone(),
            self.cli.config_id.clone(),
            config_source::processes(&self.cli),
            self.reparse.clone(),
        ));
    }

    /// A reload's load finished: apply it, or keep the running config on error.
    pub(super) async fn finish_reload(&mut self, loaded: LoadResult, took: std::time::Duration) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .ok();
        match loaded {
            Err(err) => {
                for d in &err.diagnostics {
                    tracing::error!("reload: {d}");
                }
                tracing::error!(
                    "reload failed ({} error(s)); keeping the running configuration",
                    err.diagnostics.len()
                );
                self.shared.metrics.reload(false, err.diagnostics.len());
                // The rejected parse's scratch is freed; return its pages.
                crate::sys::release_free_memory();
                if let Ok(mut r) = self.shared.reloads.lock() {
                    r.failed += 1;
                    r.last_unix = now;
                    r.last_ok = Some(false);
                    r.last_errors = err.diagnostics.clone();
                }
            }
            Ok(loaded) => {
                for w in &loaded.warnings {
                    tracing::warn!("reload: {w}");
                }
                let st = &loaded.reparse_stats;
                match &st.fallback {
                    // The splice (rkeepalived_config::reparse): blocks whose
                    // bytes are unchanged were taken without reading them.
                    None if st.spliced > 0 => tracing::info!(
                        "reload: {} of {} virtual servers re-parsed; {} unchanged ones taken without reading them{}",
                        st.reparsed(),
                        st.statements,
                        st.spliced,
                        match st.cloned {
                            0 => String::new(),
                            n => format!(" ({n} copied now: their spares were not ready)"),
                        }
                    ),
                    None => tracing::info!(
                        "reload: {} of {} virtual servers re-parsed",
                        st.reparsed(),
                        st.statements
                    ),
                    Some(why) => tracing::info!(
                        "reload: {} of {} virtual servers re-parsed ({why}: read in full)",
                        st.reparsed(),
                        st.statements
                    ),
                }
                // The new configuration's cache (None: the next reload
                // reads in full and makes one).
                self.reparse = loaded.reparse.clone();
                let started = std::time::Instant::now();
                self.apply_config(loaded.config).await;
                // The supervisor's phases; each child logs its own
                // (the checker: "reload: planned in ..., applied N IPVS
                // change(s) in ...").
                tracing::info!(
                    "reload: parsed in {:.1} ms, handed to the children in {:.1} ms",
                    took.as_secs_f64() * 1000.0,
                    started.elapsed().as_secs_f64() * 1000.0
                );
                if let Err(e) = self.bind_status_socket() {
                    tracing::error!("{e}; status socket unchanged");
                }
                self.bind_metrics().await;
                self.shared.metrics.reload(true, 0);
                if let Ok(mut r) = self.shared.reloads.lock() {
                    r.ok += 1;
                    r.last_unix = now;
                    r.last_ok = Some(true);
                    r.last_errors.clear();
                }
                tracing::info!("reload complete (roles: {})", role_list(&self.roles));
            }
        }
        self.notifier.ready();
        if std::mem::take(&mut self.reload_again) {
            self.start_reload();
        }
    }

    pub(super) async fn apply_config(&mut self, mut config: Config) {
        let new_roles = roles_to_run(&self.cli, &config);
        let started = std::time::Instant::now();
        let fingerprints =
            crate::reload_delta::fingerprints_reusing(&mut config, self.reparse.as_deref());
        let plan = crate::reload_delta::ReloadPlan::decide(
            self.config.fingerprints.get(),
            &fingerprints,
            &config,
            new_roles == self.roles,
        );
        tracing::debug!(
            "reload: configuration fingerprinted in {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        // The checker's delta goes first: encoding the whole configuration
        // (for respawns) and the owned sets below need not delay it.
        let mut delta_sent = false;
        if let (Some(delta), Some(v)) = (plan.checker_delta, self.shared.child(Role::Checker)) {
            let old = self.config.fingerprints.get();
            let (changed, dropped) = (delta.changed(), delta.dropped(old.virtual_servers.len()));
            if std::mem::take(&mut self.digest_owed) {
                // The checker started before the start's fingerprints were
                // done: name its base now, in order before the delta.
                if let Some(msg) = crate::reload_delta::digest_message(old) {
                    let _ = v.link.send(msg).await;
                }
            }
            match v.link.send(ToChild::ReloadDelta(Box::new(delta))).await {
                Ok(()) => {
                    delta_sent = true;
                    tracing::info!(
                        "reload: only virtual servers changed: the checker gets {changed} changed or added, {dropped} removed or replaced, of {}",
                        fingerprints.virtual_servers.len()
                    );
                }
                Err(e) => tracing::warn!("cannot send the reload to the checker child: {e}"),
            }
        }
        let started = std::time::Instant::now();
        // Off the event loop's thread: the link task writes the delta to
        // the checker meanwhile (on this current-thread runtime it would
        // otherwise wait for the whole encoding).
        let roles = new_roles.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("reload-encode".into())
            .spawn(move || {
                if delta_sent {
                    // The checker is applying the delta meanwhile (issue #17
                    // item 1: at #2318 size this encoding is ~0.3 s of CPU,
                    // and a lab guest has 2 vCPUs): the respawn copy is not
                    // urgent, so it yields to the checker. A thread of its
                    // own, as nice is per thread.
                    let tid = nix::unistd::gettid().as_raw();
                    let nice = crate::sys::thread_nice(tid).unwrap_or(0);
                    let _ = crate::sys::set_thread_nice(tid, (nice + ENCODE_NICE).min(19));
                }
                let _ = tx.send(RunningConfig::new(config, Some(fingerprints), &roles, None));
            });
        let running = match spawned {
            Ok(_) => rx.await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let running = match running {
            Ok(running) => running,
            Err(e) => {
                tracing::error!(
                    "reload: the encoding task failed: {e}; keeping the running configuration"
                );
                return;
            }
        };
        tracing::debug!(
            "reload: configuration encoded for the children in {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0
        );
        match running {
            Ok(mut running) => {
                let new = crate::reload_identity::effective(
                    std::mem::take(&mut running.identity),
                    &self.cli,
                );
                running.identity = crate::reload_identity::on_reload(&self.config.identity, new);
                self.bfd.set_routes(running.bfd_routes.clone());
                self.config = running;
                if let Some(snmp) = &self.snmp {
                    snmp.set_config(&self.config.wire);
                }
            }
            Err(e) => {
                tracing::error!("reload: cannot encode the configuration for the children: {e}; keeping the running one");
                // A delta already sent makes the checker's base differ from
                // ours: the next reload's delta is refused and it gets the
                // whole configuration then.
                return;
            }
        }
        let old_roles = std::mem::replace(&mut self.roles, new_roles.clone());
        if let Ok(mut r) = self.shared.roles.lock() {
            *r = new_roles.clone();
        }
        for role in Role::ALL {
            let view = self.shared.child(role);
            match (old_roles.contains(&role), new_roles.contains(&role), view) {
                (_, true, Some(_)) if role == Role::Checker && delta_sent => {
                    self.ipvs_journal.reload_sent(&self.config.ipvs_owned);
                }
                (true, true, Some(_)) if role != Role::Checker && plan.others_unchanged => {
                    tracing::info!(%role, "reload: nothing of the {role} child's configuration changed; not reloading it");
                }
                (_, true, Some(_)) => self.send_full_reload(role).await,
                // Not running and no respawn pending (a new role): start it.
                // A pending respawn uses the new config anyway.
                (_, true, None) if self.slots.get(&role).is_none_or(|s| s.respawn_at.is_none()) => {
                    self.start_child(role).await;
                }
                (true, false, Some(v)) => {
                    tracing::info!(%role, "{role} no longer configured: stopping its child");
                    let _ = v.link.send(ToChild::Stop).await;
                }
                _ => {}
            }
        }
    }

    /// The whole running configuration to `role`'s child, as a reload
    /// (and to the checker, its digest: the base of the next delta).
    pub(super) async fn send_full_reload(&mut self, role: Role) {
        let Some(v) = self.shared.child(role) else {
            return;
        };
        match role {
            Role::Vrrp => self.journal.reload_sent(&self.config.vrrp_owned),
            Role::Checker => self.ipvs_journal.reload_sent(&self.config.ipvs_owned),
            Role::Bfd => {}
        }
        if let Err(e) = v
            .link
            .send(ToChild::Reload(ConfigPayload::Wire(
                self.config.wire_for(role).clone(),
            )))
            .await
        {
            tracing::warn!(%role, "cannot send the reload to the {role} child: {e}");
            return;
        }
        if role == Role::Checker {
            if let Some(msg) = crate::reload_delta::digest_message(self.config.fingerprints.get()) {
                let _ = v.link.send(msg).await;
            }
            self.digest_owed = false;
        }
    }
}
