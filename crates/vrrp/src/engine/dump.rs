//! The engine's JSON state (status socket, SNMP) and the metrics
//! exposition; keepalived's dump files are in `ka_dump.rs`.

use super::*;

impl Engine {
    pub(super) fn dump_json(&self) -> serde_json::Value {
        let list: Vec<serde_json::Value> = self
            .instances
            .iter()
            .enumerate()
            .map(|(i, rt)| {
                let fsm = self.router.fsm(i);
                serde_json::json!({
                    "iname": rt.cfg.name,
                    "state": fsm.state().name(),
                    "vrid": rt.cfg.virtual_router_id,
                    "interface": rt.cfg.interface,
                    "version": rt.cfg.version.number(),
                    "priority": rt.cfg.priority,
                    "effective_priority": fsm.effective_priority(),
                    "master_addr": fsm.master_addr(),
                    "src": self.src(i),
                    "vips": rt.vips.iter().map(|v| format!("{}/{}", v.addr, v.prefix_len)).collect::<Vec<_>>(),
                    "last_transition": rt.last_transition
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_secs_f64()),
                    "stats": &rt.stats,
                })
            })
            .collect();
        serde_json::json!({ "vrrp": list })
    }

    pub(super) fn metrics(&self) -> String {
        let views: Vec<metrics::InstanceMetrics<'_>> = self
            .instances
            .iter()
            .enumerate()
            .map(|(i, rt)| (self.router.fsm(i), rt))
            .map(|(fsm, rt)| metrics::InstanceMetrics {
                name: &rt.cfg.name,
                interface: &rt.cfg.interface,
                vrid: rt.cfg.virtual_router_id,
                state: fsm.state(),
                priority: rt.cfg.priority,
                effective_priority: fsm.effective_priority(),
                stats: &rt.stats,
            })
            .collect();
        metrics::render(
            &views,
            &self.unmatched,
            metrics::EngineCounters {
                socket_errors: self.socket_errors,
                netlink_errors: self.netlink_errors,
            },
        )
    }
}
