//! Per-instance counters and their Prometheus text exposition.

use rkeepalived_metrics::{Kind, Labels, Writer};
use serde::Serialize;

use crate::fsm::State;
use crate::wire::DropCounters;

/// Counters of one VRRP instance (keepalived's `vrrp_stats` plus ours).
/// Per-instance counters; serialized as-is in the JSON dump.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InstanceStats {
    pub adverts_rx: u64,
    pub adverts_tx: u64,
    pub priority_zero_rx: u64,
    pub priority_zero_tx: u64,
    pub became_master: u64,
    pub released_master: u64,
    /// Every state change (incl. to/from FAULT).
    pub transitions: u64,
    /// VIPs re-added after they were removed behind our back while Master.
    pub vip_restores: u64,
    pub garp_sent: u64,
    pub na_sent: u64,
    pub send_errors: u64,
    pub netlink_errors: u64,
    pub script_errors: u64,
    #[serde(serialize_with = "nonzero_drops")]
    pub drops: DropCounters,
}

/// JSON form of the drop counters: only the reasons that happened, by label.
fn nonzero_drops<S: serde::Serializer>(drops: &DropCounters, ser: S) -> Result<S::Ok, S::Error> {
    ser.collect_map(drops.iter().filter(|(_, n)| *n > 0))
}

/// (metric name, help, accessor) of one per-instance counter family.
type CounterFamily = (&'static str, &'static str, fn(&InstanceStats) -> u64);

/// One instance's view for the exposition.
pub struct InstanceMetrics<'a> {
    pub name: &'a str,
    pub interface: &'a str,
    pub vrid: u8,
    pub state: State,
    pub priority: u8,
    pub effective_priority: u8,
    pub stats: &'a InstanceStats,
}

impl InstanceMetrics<'_> {
    /// `vrrp_instance`, `interface`, `vrid`: not `instance`, which is the
    /// label Prometheus gives every scraped target.
    fn labels(&self) -> Labels {
        Labels::new()
            .with("vrrp_instance", self.name)
            .with("interface", self.interface)
            .with("vrid", self.vrid)
    }
}

/// Engine-wide counters not tied to an instance.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineCounters {
    /// Receive errors on VRRP sockets.
    pub socket_errors: u64,
    /// Failed static address/route/rule requests.
    pub netlink_errors: u64,
}

const COUNTERS: [CounterFamily; 12] = [
    (
        "rkeepalived_vrrp_transitions_total",
        "State transitions.",
        |s| s.transitions,
    ),
    (
        "rkeepalived_vrrp_adverts_received_total",
        "Valid adverts received.",
        |s| s.adverts_rx,
    ),
    (
        "rkeepalived_vrrp_adverts_sent_total",
        "Adverts sent.",
        |s| s.adverts_tx,
    ),
    (
        "rkeepalived_vrrp_priority_zero_received_total",
        "Priority 0 adverts received.",
        |s| s.priority_zero_rx,
    ),
    (
        "rkeepalived_vrrp_priority_zero_sent_total",
        "Priority 0 adverts sent.",
        |s| s.priority_zero_tx,
    ),
    (
        "rkeepalived_vrrp_became_master_total",
        "Transitions to MASTER.",
        |s| s.became_master,
    ),
    (
        "rkeepalived_vrrp_released_master_total",
        "Transitions out of MASTER.",
        |s| s.released_master,
    ),
    (
        "rkeepalived_vrrp_vip_restores_total",
        "VIPs re-added after external removal.",
        |s| s.vip_restores,
    ),
    (
        "rkeepalived_vrrp_garp_sent_total",
        "Gratuitous ARPs sent.",
        |s| s.garp_sent,
    ),
    (
        "rkeepalived_vrrp_na_sent_total",
        "Unsolicited neighbour advertisements sent.",
        |s| s.na_sent,
    ),
    ("rkeepalived_vrrp_send_errors_total", "Failed sends.", |s| {
        s.send_errors
    }),
    (
        "rkeepalived_vrrp_netlink_errors_total",
        "Failed netlink requests.",
        |s| s.netlink_errors,
    ),
];

/// Prometheus text format 0.0.4 for all instances plus engine-wide counters
/// (`unmatched`: drops before an instance could be identified).
pub fn render(
    instances: &[InstanceMetrics<'_>],
    unmatched: &DropCounters,
    engine: EngineCounters,
) -> String {
    let labels: Vec<Labels> = instances.iter().map(InstanceMetrics::labels).collect();
    let mut w = Writer::new();
    w.family(
        "rkeepalived_vrrp_state",
        "VRRP state (0 init, 1 backup, 2 master, 3 fault, 4 stop).",
        Kind::Gauge,
    );
    for (i, l) in instances.iter().zip(&labels) {
        w.sample("rkeepalived_vrrp_state", l, i.state.number());
    }
    w.family(
        "rkeepalived_vrrp_priority",
        "Configured priority.",
        Kind::Gauge,
    );
    for (i, l) in instances.iter().zip(&labels) {
        w.sample("rkeepalived_vrrp_priority", l, i.priority);
    }
    w.family(
        "rkeepalived_vrrp_effective_priority",
        "Priority after tracking weights.",
        Kind::Gauge,
    );
    for (i, l) in instances.iter().zip(&labels) {
        w.sample(
            "rkeepalived_vrrp_effective_priority",
            l,
            i.effective_priority,
        );
    }
    for (name, help, get) in COUNTERS {
        w.family(name, help, Kind::Counter);
        for (i, l) in instances.iter().zip(&labels) {
            w.sample(name, l, get(i.stats));
        }
    }
    w.family(
        "rkeepalived_vrrp_drops_total",
        "Received packets of an instance dropped, by reason.",
        Kind::Counter,
    );
    for (i, l) in instances.iter().zip(&labels) {
        for (reason, n) in i.stats.drops.iter() {
            w.sample_with("rkeepalived_vrrp_drops_total", l, "reason", reason, n);
        }
    }
    w.family(
        "rkeepalived_vrrp_unmatched_drops_total",
        "Received packets dropped before an instance could be identified, by reason.",
        Kind::Counter,
    );
    for (reason, n) in unmatched.iter() {
        w.sample_with(
            "rkeepalived_vrrp_unmatched_drops_total",
            &Labels::new(),
            "reason",
            reason,
            n,
        );
    }
    w.single(
        "rkeepalived_vrrp_socket_receive_errors_total",
        "Receive errors on VRRP sockets.",
        Kind::Counter,
        engine.socket_errors,
    );
    w.single(
        "rkeepalived_vrrp_static_netlink_errors_total",
        "Failed netlink requests for static addresses/routes/rules.",
        Kind::Counter,
        engine.netlink_errors,
    );
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::DropReason;

    #[test]
    fn exposition_has_state_and_drops() {
        let mut stats = InstanceStats::default();
        stats.drops.record(DropReason::BadTtl);
        stats.vip_restores = 2;
        let text = render(
            &[InstanceMetrics {
                name: "VI_1",
                interface: "eth0",
                vrid: 51,
                state: State::Master,
                priority: 100,
                effective_priority: 90,
                stats: &stats,
            }],
            &DropCounters::default(),
            EngineCounters::default(),
        );
        let l = "vrrp_instance=\"VI_1\",interface=\"eth0\",vrid=\"51\"";
        assert!(
            text.contains(&format!("rkeepalived_vrrp_state{{{l}}} 2")),
            "{text}"
        );
        assert!(
            text.contains(&format!("rkeepalived_vrrp_vip_restores_total{{{l}}} 2")),
            "{text}"
        );
        assert!(
            !text.contains("{instance=") && !text.contains(",instance="),
            "{text}"
        );
        rkeepalived_metrics::check(&text).expect("valid exposition");
        assert!(text.contains(&format!("reason=\"{}\"}} 1", DropReason::BadTtl.label())));
    }
}
