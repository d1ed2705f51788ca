//! `/tmp/keepalived.data`, `.stats`, `.json` and the metrics exposition.

use super::*;

impl Engine {
    pub(super) fn dump_data(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::from("------< VRRP Topology >------\n");
        for (i, rt) in self.instances.iter().enumerate() {
            let c = &rt.cfg;
            let fsm = self.router.fsm(i);
            let _ = writeln!(s, " VRRP Instance = {}", c.name);
            let _ = writeln!(s, "   State = {}", fsm.state().name());
            let _ = writeln!(s, "   Interface = {}", c.interface);
            let _ = writeln!(s, "   Virtual Router ID = {}", c.virtual_router_id);
            let _ = writeln!(s, "   VRRP Version = {}", c.version.number());
            let _ = writeln!(s, "   Priority = {}", c.priority);
            let _ = writeln!(s, "   Effective priority = {}", fsm.effective_priority());
            let _ = writeln!(s, "   Advert interval = {}ms", c.advert_int.as_millis());
            let _ = writeln!(
                s,
                "   Preempt = {}",
                if c.nopreempt { "disabled" } else { "enabled" }
            );
            if let Some(src) = rt.src {
                let _ = writeln!(s, "   Using src_ip = {src}");
            }
            if let Some(m) = fsm.master_addr() {
                let _ = writeln!(s, "   Master router = {m}");
                let _ = writeln!(
                    s,
                    "   Master priority = {}",
                    fsm.master_priority().unwrap_or(0)
                );
            }
            let _ = writeln!(s, "   Virtual IP = {}", rt.vips.len());
            for v in &rt.vips {
                let _ = writeln!(s, "     {}", addr::vip_label(v));
            }
        }
        s
    }

    pub(super) fn dump_stats(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        for rt in &self.instances {
            let st = &rt.stats;
            let _ = writeln!(s, "VRRP Instance: {}", rt.cfg.name);
            let _ = writeln!(
                s,
                "  Advertisements:\n    Received: {}\n    Sent: {}",
                st.adverts_rx, st.adverts_tx
            );
            let _ = writeln!(
                s,
                "  Became master: {}\n  Released master: {}",
                st.became_master, st.released_master
            );
            let _ = writeln!(
                s,
                "  Priority Zero:\n    Received: {}\n    Sent: {}",
                st.priority_zero_rx, st.priority_zero_tx
            );
            let _ = writeln!(s, "  VIP restores: {}", st.vip_restores);
            let _ = writeln!(s, "  Drops:");
            for (reason, n) in st.drops.iter().filter(|(_, n)| *n > 0) {
                let _ = writeln!(s, "    {reason}: {n}");
            }
        }
        let _ = writeln!(s, "Unmatched drops: {}", self.unmatched.total());
        s
    }

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
                    "src": rt.src,
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
