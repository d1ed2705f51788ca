//! The engine's IPVS side: the table to program, drains, the reconciler's
//! sync and full resync, `lvs_timeouts`, the LVS sync daemons, and
//! clearing the services on stop.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use rkeepalived_ipvs::{StopPolicy, TimeoutOutcome};

use super::*;

impl Engine {
    /// The table to program: the plan's, with draining dests at weight 0.
    pub(super) fn desired(&self) -> rkeepalived_ipvs::IpvsState {
        let mut desired = self.model.desired_ipvs(&self.plan);
        self.drains.overlay(&mut desired);
        desired
    }

    /// `drain_on_remove`: read the draining dests' active connections;
    /// those idle or past their time are deleted by the next sync.
    pub(super) fn poll_drains(&mut self) {
        let backend = self.backend.as_backend();
        let conns = self
            .drains
            .services()
            .into_iter()
            .map(|s| (s, backend.active_conns(&s).ok()))
            .collect();
        let events = self.drains.poll(&conns, tokio::time::Instant::now());
        if !events.is_empty() {
            events.iter().for_each(|e| tracing::info!("{e}"));
            self.sync_ipvs();
        }
    }

    /// One reconcile pass. Errors never stop the engine: a missing IPVS
    /// (no kernel module) is logged once, counted, and retried.
    pub(super) fn sync_ipvs(&mut self) {
        self.metrics.ipvs_syncs.fetch_add(1, Relaxed);
        if self.timeouts_pending {
            self.apply_timeouts();
        }
        if self.syncd_pending {
            self.start_sync_daemons();
        }
        // Fast path: diff against what we last programmed, no dump.
        let mut built = None;
        if let Some(cached) = self.kernel_cache.take() {
            let desired = self.desired();
            let ops = rkeepalived_ipvs::reconcile(&desired, &cached, &self.owned);
            let failed = self
                .backend
                .as_backend()
                .apply_batch(&ops)
                .iter()
                .filter(|r| r.is_err())
                .count();
            if failed == 0 {
                self.owned.record(&desired);
                self.owned.retain_relevant(&desired, &cached);
                self.kernel_cache = Some(desired);
                self.ipvs_dirty = false;
                return;
            }
            // Someone else changed the table (or the kernel refused): full pass below.
            self.metrics
                .ipvs_op_failures
                .fetch_add(failed as u64, Relaxed);
            built = Some(desired);
        }
        // Dump first: while IPVS is unreachable (no module) the desired
        // table of thousands of dests is not even built. `lvs_flush` empties
        // the table before its first programming.
        let current = match self
            .flush_if_pending()
            .and_then(|()| self.backend.as_backend().dump())
        {
            Ok(current) => current,
            Err(e) => {
                self.metrics.ipvs_sync_failures.fetch_add(1, Relaxed);
                let msg = e.to_string();
                if self.ipvs_failing.as_deref() != Some(msg.as_str()) {
                    tracing::error!(
                        "cannot program IPVS: {msg}; health checks keep running, retrying every {:?}",
                        self.ipvs_retry_interval
                    );
                } else {
                    tracing::debug!("IPVS still unavailable: {msg}");
                }
                self.ipvs_failing = Some(msg);
                self.ipvs_dirty = true;
                return;
            }
        };
        let desired = built.unwrap_or_else(|| self.desired());
        let report = rkeepalived_ipvs::sync_from(
            self.backend.as_backend(),
            &desired,
            &current,
            &mut self.owned,
        );
        drop(current);
        if report.is_clean() {
            self.kernel_cache = Some(desired);
        }
        if self.ipvs_failing.take().is_some() {
            tracing::info!("IPVS is reachable again; table reconciled");
        }
        self.metrics
            .ipvs_op_failures
            .fetch_add(report.failed.len() as u64, Relaxed);
        self.ipvs_dirty = !report.is_clean();
    }

    /// `lvs_timeouts` of the current plan (all zero: restore the saved
    /// values, if any). keepalived logs "Failed to set ipvs timeouts" and
    /// carries on; we do too, and try again at the next sync.
    pub(super) fn apply_timeouts(&mut self) {
        let want = Some(self.plan.lvs_timeouts);
        match rkeepalived_ipvs::apply_timeouts(self.backend.as_backend(), &mut self.timeouts, want)
        {
            Ok(outcome) => {
                if let TimeoutOutcome::Set(t) = outcome {
                    tracing::info!(
                        "IPVS timeouts set: tcp {} tcpfin {} udp {}",
                        t.tcp,
                        t.tcp_fin,
                        t.udp
                    );
                }
                self.timeouts_pending = false;
                self.timeouts_failing = None;
            }
            Err(e) => {
                let msg = e.to_string();
                if self.timeouts_failing.as_deref() != Some(msg.as_str()) {
                    tracing::warn!("Failed to set ipvs timeouts: {msg}");
                }
                self.timeouts_failing = Some(msg);
            }
        }
    }

    /// Both sync daemons for `lvs_sync_daemon` without an instance
    /// (check_daemon.c `start_check()`). Retried at the next sync only while
    /// IPVS cannot be reached; a kernel refusal is logged, as by keepalived.
    pub(super) fn start_sync_daemons(&mut self) {
        use rkeepalived_ipvs::syncd;
        let Some(cfg) = self.plan.checker_syncd.clone() else {
            self.syncd_pending = false;
            return;
        };
        let backend = self.backend.as_backend();
        syncd::run(backend, &syncd::stop_both(), true);
        let results = syncd::run(backend, &syncd::start_both(&cfg), false);
        self.syncd_pending = results
            .iter()
            .any(|r| matches!(r, Err(e) if e.errno().is_none()));
        if results.iter().all(Result::is_ok) {
            tracing::info!(
                interface = %cfg.ifname,
                sync_id = cfg.sync_id,
                "IPVS sync daemons started (master and backup)"
            );
        }
    }

    /// `lvs_flush`: IPVS_CMD_FLUSH once, before the first programming.
    pub(super) fn flush_if_pending(&mut self) -> Result<(), rkeepalived_ipvs::IpvsError> {
        if self.flush_pending {
            self.backend
                .as_backend()
                .apply(&rkeepalived_ipvs::Op::Flush)?;
            tracing::info!("IPVS table flushed (lvs_flush)");
            self.flush_pending = false;
            self.kernel_cache = None;
        }
        Ok(())
    }

    /// check_daemon.c: `checker_terminate_phase1()` runs `clear_services()`
    /// (unless `--dont-release-ipvs`), then `stop_check()` runs `ipvs_stop()`,
    /// which restores the saved timeouts in every case.
    pub(super) async fn stop(&mut self) {
        tracing::info!("health checker stopping");
        self.checks.clear();
        // Draining dests go with the rest (clear_services), or stay with -I.
        self.drains.clear();
        // Graceful director drain: the routers stop sending new flows here
        // before the IPVS entries (and the connections they carry) go.
        if let Some(routes) = &mut self.routes {
            let delay = routes.settings().drain_delay;
            let withdrawn = routes.withdraw_all();
            if withdrawn > 0 && self.release_ipvs_on_stop && !delay.is_zero() {
                tracing::info!(
                    routes = withdrawn,
                    "routes withdrawn; waiting {}s (announce_drain_delay) before removing the IPVS entries",
                    delay.as_secs()
                );
                tokio::time::sleep(delay).await;
            }
        }
        if self.release_ipvs_on_stop {
            let effects = self.model.on_stop(&self.plan);
            for line in self.model.on_stop_fifo_lines(&self.plan) {
                self.fifos.write(&line);
            }
            self.run_scripts(effects);
            self.clear_services();
        } else {
            tracing::info!("leaving the IPVS entries in place (--dont-release-ipvs)");
        }
        // stop_check(): both sync daemons, if this process runs them.
        if self.plan.checker_syncd.is_some() {
            use rkeepalived_ipvs::syncd;
            syncd::run(self.backend.as_backend(), &syncd::stop_both(), true);
        }
        if self.timeouts.original().is_some() {
            match rkeepalived_ipvs::apply_timeouts(
                self.backend.as_backend(),
                &mut self.timeouts,
                None,
            ) {
                Ok(TimeoutOutcome::Set(t)) => tracing::info!(
                    "IPVS timeouts restored: tcp {} tcpfin {} udp {}",
                    t.tcp,
                    t.tcp_fin,
                    t.udp
                ),
                Ok(TimeoutOutcome::Unchanged) => {}
                Err(e) => tracing::warn!("Failed to restore ipvs timeouts: {e}"),
            }
        }
        let deadline = self.script_timeout + Duration::from_secs(2);
        let _ = tokio::time::timeout(deadline, async {
            while self.scripts.join_next().await.is_some() {}
        })
        .await;
        // checker_terminate_phase2(): notify_fifo_close().
        self.fifos.close();
    }

    /// ipwrapper.c `clear_services()`: `lvs_flush_on_stop` flushes the
    /// whole table; otherwise (default, and `VS`, which differ only in
    /// whether keepalived deletes the real servers before their service)
    /// the virtual servers we programmed are deleted and the kernel drops
    /// their real servers with them; other services stay.
    pub(super) fn clear_services(&mut self) {
        if self.plan.lvs_flush_on_stop == StopPolicy::FlushAll {
            match self
                .backend
                .as_backend()
                .apply(&rkeepalived_ipvs::Op::Flush)
            {
                Ok(()) => tracing::info!("IPVS table flushed (lvs_flush_on_stop)"),
                Err(e) => tracing::warn!("could not flush the IPVS table on stop: {e}"),
            }
            return;
        }
        match rkeepalived_ipvs::sync(
            self.backend.as_backend(),
            &Default::default(),
            &mut self.owned,
        ) {
            Ok(r) if r.is_clean() => {}
            Ok(r) => tracing::warn!(
                failed = r.failed.len(),
                "some IPVS entries could not be removed on stop"
            ),
            Err(e) => tracing::warn!("could not remove IPVS entries on stop: {e}"),
        }
    }
}
