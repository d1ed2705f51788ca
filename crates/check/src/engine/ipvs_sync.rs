//! The engine's IPVS side: the table to program, drains, the reconciler's
//! sync and full resync, `lvs_timeouts`, the LVS sync daemons, and
//! clearing the services on stop.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use rkeepalived_ipvs::{StopPolicy, TimeoutOutcome};

use super::*;

/// Milliseconds, for the timing logs.
pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

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
            self.delta.mark_full();
            self.sync_ipvs();
        }
    }

    /// The timeouts and sync daemons waiting to be set (every full sync and
    /// every delta reload's, as keepalived's start_check() does).
    pub(super) fn apply_pending_globals(&mut self) {
        if self.timeouts_pending {
            self.apply_timeouts();
        }
        if self.syncd_pending {
            self.start_sync_daemons();
        }
    }

    /// `failed` ops of an O(change) update were refused (someone else
    /// changed the table, or the kernel refused): counted, then a full
    /// pass from a fresh dump. Returns its ops.
    pub(super) fn full_sync_after_failures(&mut self, failed: usize) -> usize {
        self.metrics
            .ipvs_op_failures
            .fetch_add(failed as u64, Relaxed);
        self.kernel_cache = None;
        self.sync_ipvs()
    }

    /// One reconcile pass; returns the ops sent. Errors never stop the
    /// engine: a missing IPVS (no kernel module) is logged once, counted,
    /// and retried.
    ///
    /// Normally O(change) in the kernel: the desired table is diffed
    /// against the table as we last programmed it (`kernel_cache`) and
    /// only the differences are sent, so a failed real server leaves the
    /// kernel right after its verdict however big the table is. The full
    /// dump runs only without a cache (start, after a failure) and in the
    /// background resync ([`Self::start_resync`]).
    pub(super) fn sync_ipvs(&mut self) -> usize {
        let started = std::time::Instant::now();
        self.metrics.ipvs_syncs.fetch_add(1, Relaxed);
        // A full diff covers every pending health change.
        self.delta.clear();
        self.apply_pending_globals();
        // Fast path: diff against what we last programmed, no dump.
        let mut built = None;
        if let Some(cached) = self.kernel_cache.take() {
            let desired = self.desired();
            let ops = rkeepalived_ipvs::reconcile(&desired, &cached, &self.owned);
            let diffed = started.elapsed();
            let failed = self.send_ops(&ops);
            tracing::debug!(
                ops = ops.len(),
                failed,
                "IPVS sync from the last programmed table: diffed in {:.1} ms, applied in {:.1} ms",
                ms(diffed),
                ms(started.elapsed() - diffed)
            );
            if failed == 0 {
                self.owned.record(&desired);
                self.owned.retain_relevant(&desired, &cached);
                self.kernel_cache = Some(desired);
                self.ipvs_dirty = false;
                return ops.len();
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
                return 0;
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
        self.ops_sent(report.planned.len());
        tracing::debug!(
            ops = report.planned.len(),
            failed = report.failed.len(),
            "IPVS sync with a full dump in {:.1} ms",
            ms(started.elapsed())
        );
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
        report.planned.len()
    }

    /// Send `ops` as one batch; returns how many failed.
    pub(super) fn send_ops(&mut self, ops: &[rkeepalived_ipvs::Op]) -> usize {
        if ops.is_empty() {
            return 0;
        }
        self.ops_sent(ops.len());
        self.backend
            .as_backend()
            .apply_batch(ops)
            .iter()
            .filter(|r| r.is_err())
            .count()
    }

    fn ops_sent(&mut self, n: usize) {
        if n > 0 {
            self.metrics.ipvs_ops.fetch_add(n as u64, Relaxed);
            self.ops_generation += 1;
        }
    }

    /// The periodic resync (every `FULL_RESYNC_INTERVAL`): repairs entries
    /// changed or deleted behind our back (`ipvsadm -d` by hand...). With
    /// the kernel backend the full dump (seconds at 10,000 dests under
    /// emulation) runs on a blocking thread with its own netlink socket,
    /// so health changes and reloads are never queued behind it;
    /// [`Self::finish_resync`] applies its result. Other backends (tests'
    /// in-memory tables) dump in place.
    pub(super) fn start_resync(&mut self) {
        if self.resync.is_some() {
            return;
        }
        if self.kernel_cache.is_none() {
            // No programmed table to compare with: the full pass is the sync.
            self.sync_ipvs();
            return;
        }
        match self.backend.background_dumper() {
            Some(dump) => {
                let generation = self.ops_generation;
                let task = tokio::task::spawn_blocking(dump);
                self.resync = Some((generation, task));
            }
            None => {
                let n = self.repair_from(None);
                if n > 0 {
                    tracing::info!(
                        "IPVS resync: {n} op(s) repaired entries changed behind our back"
                    );
                }
            }
        }
    }

    /// The background dump of [`Self::start_resync`] is in: if no op was
    /// sent meanwhile (else the dump may predate our own change, and the
    /// next resync tries again), diff the desired table against it and
    /// repair what differs.
    pub(super) fn finish_resync(
        &mut self,
        generation: u64,
        dump: Result<rkeepalived_ipvs::IpvsState, rkeepalived_ipvs::IpvsError>,
    ) {
        match dump {
            Ok(current) if generation == self.ops_generation && self.kernel_cache.is_some() => {
                let n = self.repair_from(Some(current));
                if n > 0 {
                    tracing::info!(
                        "IPVS resync: {n} op(s) repaired entries changed behind our back"
                    );
                }
            }
            Ok(_) => tracing::debug!("IPVS resync skipped: the table changed during the dump"),
            Err(e) => {
                // The next sync goes through a full dump and reports it.
                tracing::debug!("IPVS resync dump failed: {e}");
                self.kernel_cache = None;
                self.ipvs_dirty = true;
            }
        }
    }

    /// Reconcile against `current` (a fresh dump), or dump in place.
    fn repair_from(&mut self, current: Option<rkeepalived_ipvs::IpvsState>) -> usize {
        let before = self.metrics.ipvs_ops.load(Relaxed);
        match current {
            Some(current) => self.kernel_cache = Some(current),
            None => self.kernel_cache = None,
        }
        let n = self.sync_ipvs();
        if n > 0 && self.metrics.ipvs_ops.load(Relaxed) > before {
            self.metrics.ipvs_repairs.fetch_add(1, Relaxed);
        }
        n
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
