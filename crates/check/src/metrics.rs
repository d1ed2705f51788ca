//! Lock-free counters updated by checker tasks, rendered as Prometheus text.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use rkeepalived_metrics::{Kind, Labels, Writer};

/// Latency histogram bucket bounds, seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Counters of one checker.
#[derive(Debug)]
pub struct CheckerMetrics {
    pub successes: AtomicU64,
    pub failures: AtomicU64,
    /// Current settled state of the checker.
    pub up: AtomicBool,
    pub suspended: AtomicBool,
    /// When the last check finished, seconds since the epoch (0: never;
    /// keepalived_check.data's MISC_CHECK `Last ran`). Whole seconds: a u32
    /// keeps the checker slot within its size budget (driver.rs
    /// `idle_checkers_stay_small`), and keepalived's microseconds are a
    /// run-dependent value anyway.
    pub last_ran_s: AtomicU32,
    /// Per-bucket counts; u32 (136 years of one check a second) because
    /// there is one histogram per checker, thousands of them.
    buckets: [AtomicU32; LATENCY_BUCKETS.len()],
    sum_micros: AtomicU64,
    // The histogram's count is successes + failures: not kept twice.
}

impl CheckerMetrics {
    pub fn new(up: bool) -> Self {
        Self {
            successes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            up: AtomicBool::new(up),
            suspended: AtomicBool::new(false),
            last_ran_s: AtomicU32::new(0),
            buckets: Default::default(),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn record(&self, success: bool, latency: Duration) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        self.last_ran_s.store(now, Relaxed);
        if success {
            self.successes.fetch_add(1, Relaxed);
        } else {
            self.failures.fetch_add(1, Relaxed);
        }
        let secs = latency.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.sum_micros
            .fetch_add(latency.as_micros().min(u64::MAX as u128) as u64, Relaxed);
    }
}

/// Engine-wide counters.
#[derive(Debug, Default)]
pub struct EngineMetrics {
    pub ipvs_syncs: AtomicU64,
    pub ipvs_sync_failures: AtomicU64,
    pub ipvs_op_failures: AtomicU64,
    /// IPVS operations sent (every add, edit and delete, accepted or not).
    pub ipvs_ops: AtomicU64,
    /// IPVS operations the last configuration reload sent: a reload that
    /// changes one real server sends one (no unchanged service is touched).
    pub ipvs_ops_last_reload: AtomicU64,
    /// Full dumps of the kernel table that repaired a difference (entries
    /// changed or deleted behind our back).
    pub ipvs_repairs: AtomicU64,
    pub script_runs: AtomicU64,
    pub script_failures: AtomicU64,
    pub reloads: AtomicU64,
    pub reload_failures: AtomicU64,
}

/// Render checker families; each checker comes with its label set
/// (built at scrape time, not kept per checker).
pub fn render_checkers<'a>(
    w: &mut Writer,
    checkers: impl Iterator<Item = (&'a Labels, &'a CheckerMetrics)> + Clone,
) {
    w.family(
        "rkeepalived_check_result",
        "Current checker state (1 = up, 0 = down).",
        Kind::Gauge,
    );
    for (l, c) in checkers.clone() {
        w.sample("rkeepalived_check_result", l, c.up.load(Relaxed));
    }
    w.family(
        "rkeepalived_check_runs_total",
        "Check attempts by result.",
        Kind::Counter,
    );
    for (l, c) in checkers.clone() {
        let name = "rkeepalived_check_runs_total";
        w.sample_with(name, l, "result", "success", c.successes.load(Relaxed));
        w.sample_with(name, l, "result", "failure", c.failures.load(Relaxed));
    }
    w.family(
        "rkeepalived_check_suspended",
        "Checker suspended by ha_suspend (1) or running (0).",
        Kind::Gauge,
    );
    for (l, c) in checkers.clone() {
        w.sample("rkeepalived_check_suspended", l, c.suspended.load(Relaxed));
    }
    w.family(
        "rkeepalived_check_duration_seconds",
        "Duration of check attempts.",
        Kind::Histogram,
    );
    for (l, c) in checkers {
        let count = c.successes.load(Relaxed) + c.failures.load(Relaxed);
        w.histogram(
            "rkeepalived_check_duration_seconds",
            l,
            LATENCY_BUCKETS
                .iter()
                .zip(&c.buckets)
                .map(|(bound, n)| (*bound, u64::from(n.load(Relaxed)))),
            count,
            c.sum_micros.load(Relaxed) as f64 / 1e6,
        );
    }
}

pub fn render_engine(w: &mut Writer, m: &EngineMetrics) {
    let counters: [(&str, &str, &AtomicU64); 9] = [
        (
            "rkeepalived_check_ipvs_syncs_total",
            "IPVS reconcile passes.",
            &m.ipvs_syncs,
        ),
        (
            "rkeepalived_check_ipvs_sync_failures_total",
            "IPVS reconcile passes that could not read the table (e.g. no IPVS in the kernel).",
            &m.ipvs_sync_failures,
        ),
        (
            "rkeepalived_check_ipvs_op_failures_total",
            "IPVS operations the kernel rejected.",
            &m.ipvs_op_failures,
        ),
        (
            "rkeepalived_check_ipvs_ops_total",
            "IPVS operations sent (adds, edits and deletes of services and real servers).",
            &m.ipvs_ops,
        ),
        (
            "rkeepalived_check_ipvs_repairs_total",
            "Background resyncs that found the kernel table changed behind our back and repaired it.",
            &m.ipvs_repairs,
        ),
        (
            "rkeepalived_check_script_runs_total",
            "notify/quorum scripts started.",
            &m.script_runs,
        ),
        (
            "rkeepalived_check_script_failures_total",
            "notify/quorum scripts that failed, timed out or could not start.",
            &m.script_failures,
        ),
        (
            "rkeepalived_check_reloads_total",
            "Configuration reloads applied.",
            &m.reloads,
        ),
        (
            "rkeepalived_check_reload_failures_total",
            "Configuration reloads rejected.",
            &m.reload_failures,
        ),
    ];
    for (name, help, v) in counters {
        w.single(name, help, Kind::Counter, v.load(Relaxed));
    }
    w.single(
        "rkeepalived_check_ipvs_ops_last_reload",
        "IPVS operations the last configuration reload sent.",
        Kind::Gauge,
        m.ipvs_ops_last_reload.load(Relaxed),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let c = CheckerMetrics::new(true);
        c.record(true, Duration::from_millis(3));
        c.record(false, Duration::from_millis(700));
        let mut w = Writer::new();
        let l = Labels::new().with("a", "b");
        render_checkers(&mut w, [(&l, &c)].into_iter());
        let out = w.finish();
        rkeepalived_metrics::check(&out).expect("valid exposition");
        assert!(
            out.contains("rkeepalived_check_duration_seconds_bucket{a=\"b\",le=\"0.005\"} 1"),
            "{out}"
        );
        assert!(
            out.contains("rkeepalived_check_duration_seconds_bucket{a=\"b\",le=\"1\"} 2"),
            "{out}"
        );
        assert!(
            out.contains("rkeepalived_check_runs_total{a=\"b\",result=\"failure\"} 1"),
            "{out}"
        );
        assert!(out.contains("rkeepalived_check_result{a=\"b\"} 1"), "{out}");
    }
}
