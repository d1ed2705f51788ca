//! The engine's read-outs: keepalived_check.data, keepalived.stats, the
//! JSON dump, and the Prometheus metrics text.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use rkeepalived_metrics::{Kind, Labels, Writer};

use super::*;

impl Engine {
    /// keepalived_check.data after the global definitions: keepalived
    /// 2.2.7's layout ([`crate::check_print`]) from a snapshot of the state.
    pub(super) fn dump_data(&self) -> String {
        // When each checker that has run last finished (a probe shared by
        // twin checkers counts for each).
        let last_ran: HashMap<CheckerRef, u64> = self
            .checks
            .tasks()
            .filter(|(_, t)| {
                t.metrics.successes.load(Relaxed) + t.metrics.failures.load(Relaxed) > 0
            })
            .flat_map(|(id, t)| {
                let us = u64::from(t.metrics.last_ran_s.load(Relaxed)) * 1_000_000;
                std::iter::once(t.at)
                    .chain(self.checks.shared(id).iter().copied())
                    .map(move |at| (at, us))
            })
            .collect();
        // check_misc.c: a misc_dynamic status N (2..255) sets the weight
        // to N - 2, and `Last status` is the last such status (or 0).
        let checker_state = |at: CheckerRef, up: bool, base: i32, dynamic: Option<i32>| {
            let ran = last_ran.get(&at);
            crate::check_print::CheckerState {
                up,
                has_run: ran.is_some(),
                cur_weight: dynamic.map_or(0, |w| i64::from(w) - i64::from(base)),
                last_status: dynamic.map_or(0, |w| u32::try_from(w.saturating_add(2)).unwrap_or(0)),
                last_ran: ran.map(|us| std::time::UNIX_EPOCH + Duration::from_micros(*us)),
                ..Default::default()
            }
        };
        let ipvs_ok = self.ipvs_failing.is_none();
        let state = crate::check_print::State {
            virtual_servers: self
                .plan
                .virtual_servers
                .iter()
                .zip(&self.model.virtual_servers)
                .enumerate()
                .map(|(vi, (vs, vh))| crate::check_print::VsState {
                    alive: ipvs_ok,
                    quorum_up: vh.quorum_up,
                    real_servers: vs
                        .real_servers
                        .iter()
                        .zip(&vh.real_servers)
                        .enumerate()
                        .map(|(ri, (rs, rh))| crate::check_print::RsState {
                            alive: rh.alive,
                            effective_weight: i64::from(HealthModel::effective_weight(rs, rh)),
                            previous_weight: 0,
                            num_failed_checkers: rh.checkers.iter().filter(|c| !c.up).count()
                                as u32,
                            set: ipvs_ok && (rh.alive || rs.inhibit_on_failure),
                            checkers: rh
                                .checkers
                                .iter()
                                .enumerate()
                                .map(|(ci, ch)| {
                                    checker_state(
                                        CheckerRef {
                                            vs: vi as u32,
                                            rs: ri as u32,
                                            checker: ci as u32,
                                        },
                                        ch.up,
                                        rs.dest.weight,
                                        ch.dynamic_weight,
                                    )
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        };
        crate::check_print::check_data(&self.plan.dump.unpack(), &self.plan, &state)
    }

    pub(super) fn dump_stats(&self) -> String {
        let m = &self.metrics;
        let (ok, ko) = self.checks.tasks().fold((0, 0), |(a, b), (_, t)| {
            (
                a + t.metrics.successes.load(Relaxed),
                b + t.metrics.failures.load(Relaxed),
            )
        });
        format!(
            "------< Health checker statistics >------\n uptime {:?}\n checkers {}\n check successes {ok}\n check failures {ko}\n ipvs syncs {}\n ipvs sync failures {}\n ipvs op failures {}\n ipvs ops {} (last reload {})\n scripts run {}\n script failures {}\n reloads {} (rejected {})\n ipvs {}\n",
            self.started.elapsed(),
            self.checks.len(),
            m.ipvs_syncs.load(Relaxed),
            m.ipvs_sync_failures.load(Relaxed),
            m.ipvs_op_failures.load(Relaxed),
            m.ipvs_ops.load(Relaxed),
            m.ipvs_ops_last_reload.load(Relaxed),
            m.script_runs.load(Relaxed),
            m.script_failures.load(Relaxed),
            m.reloads.load(Relaxed),
            m.reload_failures.load(Relaxed),
            self.ipvs_failing.as_deref().map(|e| format!("unavailable: {e}")).unwrap_or_else(|| "ok".into()),
        )
    }

    pub(super) fn dump_json(&self) -> serde_json::Value {
        let vss: Vec<serde_json::Value> = self
            .plan
            .virtual_servers
            .iter()
            .zip(&self.model.virtual_servers)
            .map(|(vs, vh)| {
                let rss: Vec<serde_json::Value> = vs
                    .real_servers
                    .iter()
                    .zip(&vh.real_servers)
                    .map(|(rs, rh)| {
                        serde_json::json!({
                            "address": rs.dest.addr.to_string(),
                            "port": rs.dest.port,
                            "weight": rs.dest.weight,
                            "effective_weight": HealthModel::effective_weight(rs, rh),
                            "alive": rh.alive,
                            "inhibit_on_failure": rs.inhibit_on_failure,
                            "checkers": rs.checkers.iter().zip(&rh.checkers).map(|(c, h)| serde_json::json!({
                                "type": c.kind.name(),
                                "target": c.conn.dst.to_string(),
                                "up": h.up,
                                "dynamic_weight": h.dynamic_weight,
                            })).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "name": vs.name,
                    "services": vs.keys.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
                    "quorum": vs.quorum,
                    "hysteresis": vs.hysteresis,
                    "quorum_up": vh.quorum_up,
                    "alive_weight": alive_weight(vs, vh),
                    "real_servers": rss,
                })
            })
            .collect();
        let mut out = serde_json::json!({
            "virtual_servers": vss,
            "ipvs_error": self.ipvs_failing,
        });
        // Only with announce_route, so keepalived-shaped consumers see no change.
        if let (Some(r), Some(map)) = (&self.routes, out.as_object_mut()) {
            map.insert("announce".into(), r.status_json());
        }
        out
    }

    pub(super) fn metrics_text(&mut self) -> String {
        let mut w = Writer::new();
        // A shared probe's counters appear under each of its users (once
        // per label set: a real server listed twice is one series).
        let mut seen = std::collections::HashSet::new();
        let labeled: Vec<(Labels, &CheckerMetrics)> = self
            .checks
            .tasks()
            .flat_map(|(id, t)| {
                std::iter::once(t.at)
                    .chain(self.checks.shared(id).iter().copied())
                    .map(move |at| (at, t))
            })
            .filter(|(at, _)| {
                let vs = &self.plan.virtual_servers[at.vs as usize];
                seen.insert((
                    at.vs,
                    vs.real_servers[at.rs as usize].dest.key(),
                    at.checker,
                ))
            })
            .map(|(at, t)| (checker_labels(&self.plan, at, t), &t.metrics))
            .collect();
        crate::metrics::render_checkers(&mut w, labeled.iter().map(|(l, m)| (l, *m)));
        let mut rs_rows = Vec::new();
        let mut vs_rows = Vec::new();
        for (vs, vh) in self
            .plan
            .virtual_servers
            .iter()
            .zip(&self.model.virtual_servers)
        {
            vs_rows.push((Labels::new().with("vs", &vs.name), vh.quorum_up));
            for (rs, rh) in vs.real_servers.iter().zip(&vh.real_servers) {
                let labels = Labels::new().with("vs", &vs.name).with(
                    "rs",
                    rkeepalived_ipvs::model::SocketFmt(rs.dest.addr, rs.dest.port),
                );
                rs_rows.push((labels, rh.alive, HealthModel::effective_weight(rs, rh)));
            }
        }
        w.family(
            "rkeepalived_check_rs_up",
            "Real server alive (1) or failed (0).",
            Kind::Gauge,
        );
        for (l, alive, _) in &rs_rows {
            w.sample("rkeepalived_check_rs_up", l, *alive);
        }
        w.family(
            "rkeepalived_check_rs_weight",
            "Effective weight of a real server.",
            Kind::Gauge,
        );
        for (l, _, weight) in &rs_rows {
            w.sample("rkeepalived_check_rs_weight", l, *weight);
        }
        w.family(
            "rkeepalived_check_vs_quorum_up",
            "Virtual server quorum state.",
            Kind::Gauge,
        );
        for (l, up) in &vs_rows {
            w.sample("rkeepalived_check_vs_quorum_up", l, *up);
        }
        if let Some(r) = &self.routes {
            w.single(
                "rkeepalived_check_announced_routes",
                "Routes announced (announce_route) as last programmed.",
                Kind::Gauge,
                r.announced().len() as u64,
            );
            w.single(
                "rkeepalived_check_announce_drained",
                "Routes withdrawn by a drain (1) or following health (0).",
                Kind::Gauge,
                r.is_withdrawn(),
            );
        }
        crate::metrics::render_engine(&mut w, &self.metrics);
        if let Some(dump) = self.backend.stats() {
            render_ipvs_stats(&mut w, &dump);
        }
        w.finish()
    }
}

pub(super) fn render_ipvs_stats(w: &mut Writer, dump: &[rkeepalived_ipvs::netlink::ServiceDump]) {
    type Pick = fn(&rkeepalived_ipvs::netlink::message::Stats) -> u64;
    let fields: [(&str, Pick); 5] = [
        ("connections", |s| s.conns),
        ("in_packets", |s| s.inpkts),
        ("out_packets", |s| s.outpkts),
        ("in_bytes", |s| s.inbytes),
        ("out_bytes", |s| s.outbytes),
    ];
    for (field, pick) in fields {
        let name = format!("rkeepalived_ipvs_service_{field}_total");
        w.family(&name, "IPVS service counter.", Kind::Counter);
        for svc in dump {
            if let Some(s) = &svc.info.stats {
                let l = Labels::new().with("service", svc.info.service.key);
                w.sample(&name, &l, pick(s));
            }
        }
        let name = format!("rkeepalived_ipvs_dest_{field}_total");
        w.family(&name, "IPVS real server counter.", Kind::Counter);
        for svc in dump {
            for d in &svc.dests {
                if let Some(s) = &d.stats {
                    let l = Labels::new().with("service", svc.info.service.key).with(
                        "rs",
                        rkeepalived_ipvs::model::SocketFmt(d.dest.addr, d.dest.port),
                    );
                    w.sample(&name, &l, pick(s));
                }
            }
        }
    }
}

/// Prometheus label set of one checker, e.g.
/// `vs="TCP 192.0.2.1:80",rs="198.51.100.1:80",checker="TCP_CHECK",index="0"`.
pub(super) fn checker_labels(plan: &CheckPlan, at: CheckerRef, task: &CheckerTask) -> Labels {
    let vs = &plan.virtual_servers[at.vs as usize];
    let dest = &vs.real_servers[at.rs as usize].dest;
    Labels::new()
        .with("vs", &vs.name)
        .with(
            "rs",
            rkeepalived_ipvs::model::SocketFmt(dest.addr, dest.port),
        )
        .with("checker", task.spec.kind.name())
        .with("index", at.checker)
}
