//! Health-driven route announcement (rkeepalived extension, issue #16).
//!
//! A virtual server with `announce_route` whose quorum is up has each of its
//! VIPs installed as a host route (`/32`, `/128`) in a dedicated kernel
//! routing table (`announce_table`), with our routing protocol number
//! (`announce_protocol`, default 249 `rkeepalived`) and `announce_metric`.
//! A routing daemon (BIRD's `protocol kernel { kernel table N; learn; }`,
//! FRR's `ip import-table N`) redistributes that table into BGP, so the
//! routers send a VIP's flows (ECMP) only to directors that can serve it.
//! Examples: `conf/bird.conf`, `conf/frr.conf`.
//!
//! The route is `unicast VIP dev lo scope link`: both daemons import a
//! plain interface route without special configuration (BIRD skips `local`
//! routes; `blackhole` routes are imported but FRR's import-table would then
//! install a blackhole for the VIP in the main table), it says "this
//! address is served here", and in a table no `ip rule` looks up it never
//! changes how the director forwards.
//!
//! Ownership, like the IPVS reconciler's: we only ever add or delete routes
//! of *our* protocol in *our* tables. Routes of another protocol there are
//! left alone (warned once per table: "table N has foreign routes"); one for
//! a VIP we announce makes our add fail (the kernel's EEXIST), which is
//! warned and retried at each full pass. Routes of our protocol that are not
//! desired are deleted, which at start removes what a killed checker left
//! (crash recovery, like the stale-VIP sweep).
//!
//! A VIP several virtual servers announce (ports 80 and 443 of one address)
//! is announced while at least one of them has quorum: withdrawing it for
//! one failed port would take the healthy ports away from this director too.
//! The lowest metric of those virtual servers wins.
//!
//! Graceful stop (engine): routes first, `announce_drain_delay` for the
//! routers to move new flows away (established ones keep their director
//! through IPVS `mh` on every director and `sloppy_tcp`, see
//! crates/check/README.md), then the IPVS entries.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use rkeepalived_ipvs::ServiceKey;

use crate::announce_nl::{RouteBackend, RouteError};
use crate::health::HealthModel;
use crate::spec::CheckPlan;

/// `announce_protocol`'s default (`rkeepalived`).
pub const DEFAULT_PROTOCOL: u8 = rkeepalived_config::model::RTPROT_RKEEPALIVED;

/// `announce_*` of `global_defs` as the engine needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnounceSettings {
    /// rtm_protocol of our routes.
    pub protocol: u8,
    /// On a graceful stop, between withdrawing and removing IPVS entries.
    pub drain_delay: std::time::Duration,
}

/// Where one virtual server's VIPs are announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VsRoute {
    pub table: u32,
    pub metric: u32,
}

/// One host route we want in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Route {
    pub table: u32,
    pub dst: IpAddr,
    pub metric: u32,
}

impl Route {
    pub fn prefix_len(&self) -> u8 {
        if self.dst.is_ipv4() {
            32
        } else {
            128
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} table {} metric {}",
            self.dst,
            self.prefix_len(),
            self.table,
            self.metric
        )
    }
}

/// A route the kernel has in one of our tables (any protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelRoute {
    pub table: u32,
    pub dst: IpAddr,
    pub prefix_len: u8,
    pub protocol: u8,
    pub metric: u32,
    /// Unicast through `lo` without a gateway: the shape we install.
    pub ours_shape: bool,
}

/// The VIPs a virtual server's keys announce: the addresses of its
/// (expanded) keys. A fwmark service has none (see [`unannounceable`]).
fn vips(keys: &[ServiceKey]) -> impl Iterator<Item = IpAddr> + '_ {
    keys.iter().filter_map(|k| match k {
        ServiceKey::Addr { addr, .. } => Some(*addr),
        ServiceKey::Fwmark { .. } => None,
    })
}

/// Names of announcing virtual servers with no address to announce
/// (fwmark services, fwmark-only groups): warned once per plan.
pub fn unannounceable(plan: &CheckPlan) -> Vec<&str> {
    plan.virtual_servers
        .iter()
        .filter(|vs| vs.announce.is_some() && vips(&vs.keys).next().is_none())
        .map(|vs| vs.name.as_str())
        .collect()
}

/// The routes the current health state wants: every VIP of every
/// announcing virtual server with quorum up, one route per (table, VIP)
/// with the lowest metric.
///
/// A virtual server is announced only once it is settled: every `alpha`
/// checker (started down) has reported once. With `alpha` and the default
/// quorum of 1, the first real server to pass would otherwise announce the
/// director while its other real servers are not in IPVS yet, so its `mh`
/// table would differ from the other directors' and the flows ECMP moves
/// to it would reach other real servers (and be reset).
pub fn desired(plan: &CheckPlan, model: &HealthModel) -> BTreeSet<Route> {
    let mut best: BTreeMap<(u32, IpAddr), u32> = BTreeMap::new();
    for (i, vs) in plan.virtual_servers.iter().enumerate() {
        let Some(r) = vs.announce else { continue };
        if !model
            .virtual_servers
            .get(i)
            .is_some_and(|h| h.quorum_up && h.settled)
        {
            continue;
        }
        for dst in vips(&vs.keys) {
            let metric = kernel_metric(dst, r.metric);
            best.entry((r.table, dst))
                .and_modify(|m| *m = (*m).min(metric))
                .or_insert(metric);
        }
    }
    best.into_iter()
        .map(|((table, dst), metric)| Route { table, dst, metric })
        .collect()
}

/// The metric the kernel gives a route: IPv6 turns 0 into 1024
/// (`IP6_RT_PRIO_USER`, net/ipv6/route.c), so that is what we want, or
/// every full pass would replace the route (and the routers see a flap).
pub fn kernel_metric(dst: IpAddr, metric: u32) -> u32 {
    if dst.is_ipv6() && metric == 0 {
        1024
    } else {
        metric
    }
}

/// The tables a plan announces into.
pub fn tables(plan: &CheckPlan) -> BTreeSet<u32> {
    plan.virtual_servers
        .iter()
        .filter_map(|vs| vs.announce.map(|r| r.table))
        .collect()
}

/// What one full pass does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoutePlan {
    /// Routes of our protocol to delete (not desired, or not in our shape).
    pub del: Vec<Route>,
    /// Desired routes the kernel lacks.
    pub add: Vec<Route>,
    /// Tables with routes of another protocol, and how many.
    pub foreign: BTreeMap<u32, usize>,
    /// Desired routes a foreign route already occupies (same table,
    /// destination and metric): the kernel would refuse ours.
    pub blocked: Vec<(Route, u8)>,
}

/// Compare the desired routes with what the kernel has in `tables`:
/// touch only routes of `protocol`; count the others.
pub fn reconcile(
    desired: &BTreeSet<Route>,
    kernel: &[KernelRoute],
    protocol: u8,
    tables: &BTreeSet<u32>,
) -> RoutePlan {
    let mut plan = RoutePlan::default();
    let mut present = BTreeSet::new();
    for k in kernel.iter().filter(|k| tables.contains(&k.table)) {
        let host = k.prefix_len == if k.dst.is_ipv4() { 32 } else { 128 };
        let route = Route {
            table: k.table,
            dst: k.dst,
            metric: k.metric,
        };
        if k.protocol != protocol {
            *plan.foreign.entry(k.table).or_default() += 1;
            if host && desired.contains(&route) {
                plan.blocked.push((route, k.protocol));
            }
            continue;
        }
        if host && k.ours_shape && desired.contains(&route) {
            present.insert(route);
        } else {
            plan.del.push(route);
        }
    }
    let blocked: BTreeSet<Route> = plan.blocked.iter().map(|(r, _)| *r).collect();
    plan.add = desired
        .iter()
        .filter(|r| !present.contains(r) && !blocked.contains(r))
        .copied()
        .collect();
    plan
}

pub use crate::routing_daemon::ROUTING_DAEMON_SOCKETS;

/// The engine's announcer: the desired routes in, the kernel reconciled.
/// Failures never stop the engine (no route support, a full table...):
/// they are logged once and retried with the IPVS retries.
pub struct Announcer {
    backend: Box<dyn RouteBackend>,
    settings: AnnounceSettings,
    /// Tables of the current plan.
    plan_tables: BTreeSet<u32>,
    /// Those, plus earlier plans' until emptied of our routes.
    tables: BTreeSet<u32>,
    /// What we last programmed; `None`: dump and reconcile at the next pass.
    installed: Option<BTreeSet<Route>>,
    /// Withdrawn (stop, drain): nothing is desired.
    withdrawn: bool,
    foreign_warned: BTreeSet<u32>,
    blocked_warned: BTreeSet<Route>,
    failing: Option<String>,
    /// The last pass did not reach the desired state.
    pub dirty: bool,
}

impl Announcer {
    pub fn new(backend: Box<dyn RouteBackend>, plan: &CheckPlan) -> Self {
        let mut a = Announcer {
            backend,
            settings: plan.announce.unwrap_or(AnnounceSettings {
                protocol: DEFAULT_PROTOCOL,
                drain_delay: std::time::Duration::ZERO,
            }),
            plan_tables: BTreeSet::new(),
            tables: BTreeSet::new(),
            installed: None,
            withdrawn: false,
            foreign_warned: BTreeSet::new(),
            blocked_warned: BTreeSet::new(),
            failing: None,
            dirty: true,
        };
        a.set_plan(plan);
        // BIRD or FRR may start after us: looked for during a grace
        // period, warned only if still missing (routing_daemon.rs).
        crate::routing_daemon::spawn_watch(format!("{:?}", a.tables));
        a
    }

    /// A new plan (start, reload): its protocol, delay and tables. Tables
    /// it no longer uses are kept until our routes there are gone.
    pub fn set_plan(&mut self, plan: &CheckPlan) {
        if let Some(s) = plan.announce {
            if s.protocol != self.settings.protocol {
                // A reload changed announce_protocol: our routes under the
                // old number go first (they would not be recognised later).
                let withdrawn = std::mem::replace(&mut self.withdrawn, true);
                self.installed = None;
                self.sync(BTreeSet::new());
                self.withdrawn = withdrawn;
            }
            self.settings = s;
        }
        for name in unannounceable(plan) {
            tracing::warn!("virtual server {name}: announce_route on a fwmark service has no address to announce");
        }
        self.plan_tables = tables(plan);
        self.tables.extend(self.plan_tables.iter().copied());
        self.installed = None;
        self.dirty = true;
    }

    pub fn settings(&self) -> AnnounceSettings {
        self.settings
    }

    /// The routes we believe installed (status, tests).
    pub fn announced(&self) -> Vec<Route> {
        self.installed
            .as_ref()
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn
    }

    /// For the status JSON: drained or not, the routes, the last error.
    pub fn status_json(&self) -> serde_json::Value {
        serde_json::json!({
            "protocol": self.settings.protocol,
            "drain_delay": self.settings.drain_delay.as_secs(),
            "drained": self.withdrawn,
            "routes": self.announced().iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "error": self.failing,
        })
    }

    /// Forget the cache: the next pass dumps and reconciles (periodic
    /// repair of routes changed behind our back).
    pub fn invalidate(&mut self) {
        self.installed = None;
    }

    /// Withdraw every route and keep them withdrawn (stop, drain); returns
    /// how many were withdrawn (a full pass: also routes we did not know
    /// were there).
    pub fn withdraw_all(&mut self) -> usize {
        self.withdrawn = true;
        self.installed = None;
        self.sync(BTreeSet::new())
    }

    /// Announce again after a drain.
    pub fn resume(&mut self) {
        self.withdrawn = false;
        self.installed = None;
        self.dirty = true;
    }

    fn failed(&mut self, e: &RouteError) {
        let msg = e.to_string();
        if self.failing.as_deref() != Some(msg.as_str()) {
            tracing::error!("route announcement: {msg}; retrying");
        }
        self.failing = Some(msg);
        self.installed = None;
        self.dirty = true;
    }

    /// One pass towards `desired` (empty while withdrawn); returns how
    /// many routes it withdrew.
    pub fn sync(&mut self, desired: BTreeSet<Route>) -> usize {
        let desired = if self.withdrawn {
            BTreeSet::new()
        } else {
            desired
        };
        let proto = self.settings.protocol;
        let plan = match &self.installed {
            Some(cached) => RoutePlan {
                del: cached.difference(&desired).copied().collect(),
                add: desired.difference(cached).copied().collect(),
                ..RoutePlan::default()
            },
            None => {
                let mut kernel = Vec::new();
                for &t in &self.tables {
                    match self.backend.dump(t) {
                        Ok(routes) => kernel.extend(routes),
                        Err(e) => {
                            self.failed(&e);
                            return 0;
                        }
                    }
                }
                let plan = reconcile(&desired, &kernel, proto, &self.tables);
                for (t, n) in &plan.foreign {
                    if self.foreign_warned.insert(*t) {
                        tracing::warn!(
                            table = t,
                            "announce table {t} has foreign routes ({n} of other protocols): \
                             left alone; rkeepalived only manages routes of protocol {proto} there"
                        );
                    }
                }
                for (r, p) in &plan.blocked {
                    if self.blocked_warned.insert(*r) {
                        tracing::warn!(
                            "route {r} already exists with protocol {p} (not ours): left alone, \
                             not announced by rkeepalived"
                        );
                    }
                }
                // Earlier plans' tables are dropped once no route of ours
                // is left there (those of this pass's deletes go now).
                let still: BTreeSet<u32> = plan
                    .del
                    .iter()
                    .map(|r| r.table)
                    .chain(self.plan_tables.iter().copied())
                    .collect();
                self.tables.retain(|t| still.contains(t));
                plan
            }
        };
        let blocked: BTreeSet<Route> = plan.blocked.iter().map(|(r, _)| *r).collect();
        let mut clean = true;
        let mut withdrawn = 0;
        for r in &plan.del {
            match self.backend.del(r, proto) {
                Ok(()) => {
                    withdrawn += 1;
                    tracing::info!(route = %r, "Withdrawing route {r}");
                }
                // Already gone: the goal is reached.
                Err(e) if e.errno() == Some(libc::ESRCH) => {}
                Err(e) => {
                    clean = false;
                    self.failed(&e);
                }
            }
        }
        for r in &plan.add {
            match self.backend.add(r, proto) {
                Ok(()) => tracing::info!(route = %r, "Announcing route {r}"),
                Err(e) => {
                    clean = false;
                    self.failed(&e);
                }
            }
        }
        if clean {
            if self.failing.take().is_some() {
                tracing::info!("route announcement: routes reconciled again");
            }
            self.installed = Some(desired.difference(&blocked).copied().collect());
            // A blocked VIP is retried at each periodic full pass only.
            self.dirty = false;
        }
        withdrawn
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const P: u8 = 249;

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    fn route(table: u32, dst: IpAddr, metric: u32) -> Route {
        Route { table, dst, metric }
    }

    fn kr(table: u32, dst: IpAddr, protocol: u8, metric: u32) -> KernelRoute {
        KernelRoute {
            table,
            dst,
            prefix_len: if dst.is_ipv4() { 32 } else { 128 },
            protocol,
            metric,
            ours_shape: true,
        }
    }

    fn set(routes: &[Route]) -> BTreeSet<Route> {
        routes.iter().copied().collect()
    }

    #[test]
    fn missing_routes_are_added_and_undesired_ours_deleted() {
        let t = BTreeSet::from([100]);
        let want = set(&[route(100, v4(1), 0), route(100, v4(2), 0)]);
        let kernel = [kr(100, v4(2), P, 0), kr(100, v4(3), P, 0)];
        let plan = reconcile(&want, &kernel, P, &t);
        assert_eq!(plan.add, vec![route(100, v4(1), 0)]);
        assert_eq!(plan.del, vec![route(100, v4(3), 0)]);
        assert!(plan.foreign.is_empty() && plan.blocked.is_empty());
    }

    #[test]
    fn start_with_nothing_desired_sweeps_stale_routes_of_our_protocol_only() {
        // Crash recovery: a killed checker's routes go, the admin's stay.
        let t = BTreeSet::from([100]);
        let kernel = [
            kr(100, v4(1), P, 0),
            kr(100, v4(9), 4, 0),
            kr(254, v4(5), P, 0), // not our table: never touched
        ];
        let plan = reconcile(&BTreeSet::new(), &kernel, P, &t);
        assert_eq!(plan.del, vec![route(100, v4(1), 0)]);
        assert!(plan.add.is_empty());
        assert_eq!(plan.foreign, BTreeMap::from([(100, 1)]));
    }

    #[test]
    fn foreign_route_for_our_vip_blocks_our_add_and_is_left_alone() {
        let t = BTreeSet::from([100]);
        let want = set(&[route(100, v4(1), 0)]);
        let kernel = [kr(100, v4(1), 3, 0)];
        let plan = reconcile(&want, &kernel, P, &t);
        assert!(plan.add.is_empty() && plan.del.is_empty());
        assert_eq!(plan.blocked, vec![(route(100, v4(1), 0), 3)]);
        // Another metric is another route: ours can go in beside it.
        let kernel = [kr(100, v4(1), 3, 5)];
        let plan = reconcile(&want, &kernel, P, &t);
        assert_eq!(plan.add, vec![route(100, v4(1), 0)]);
        assert_eq!(plan.foreign, BTreeMap::from([(100, 1)]));
    }

    #[test]
    fn our_route_with_another_shape_or_metric_is_replaced() {
        let t = BTreeSet::from([100]);
        let want = set(&[route(100, v4(1), 10)]);
        let mut odd = kr(100, v4(1), P, 10);
        odd.ours_shape = false; // e.g. someone made it a blackhole
        let plan = reconcile(&want, &[odd, kr(100, v4(1), P, 0)], P, &t);
        assert_eq!(plan.del, vec![route(100, v4(1), 10), route(100, v4(1), 0)]);
        assert_eq!(plan.add, vec![route(100, v4(1), 10)]);
        // A wider prefix of our protocol is not ours to keep either.
        let mut net = kr(100, v4(0), P, 10);
        net.prefix_len = 24;
        let plan = reconcile(&BTreeSet::new(), &[net], P, &t);
        assert_eq!(plan.del.len(), 1);
    }

    fn announcing_plan(table: u32) -> CheckPlan {
        use rkeepalived_ipvs::{Scheduler, Service};
        let key = ServiceKey::tcp(v4(1), 80);
        let mut vs = crate::spec::VirtualServerSpec::new(Service::new(key, Scheduler::Wlc));
        vs.announce = Some(VsRoute { table, metric: 0 });
        CheckPlan {
            virtual_servers: vec![vs],
            announce: Some(AnnounceSettings {
                protocol: P,
                drain_delay: std::time::Duration::ZERO,
            }),
            ..CheckPlan::default()
        }
    }

    #[test]
    fn full_passes_keep_looking_at_the_plans_table_while_nothing_is_announced() {
        use crate::announce_nl::{MockRoutes, RouteOp};
        let mock = MockRoutes::default();
        let mut a = Announcer::new(Box::new(mock.clone()), &announcing_plan(100));
        a.sync(BTreeSet::new()); // quorum down at start: nothing in table 100
        a.invalidate();
        a.sync(BTreeSet::new());
        let want = set(&[route(100, v4(1), 0)]);
        a.sync(want.clone());
        a.invalidate(); // the periodic full pass
        a.sync(want.clone());
        assert!(!a.dirty && a.failing.is_none(), "{:?}", a.failing);
        assert_eq!(mock.log(), vec![RouteOp::Add(route(100, v4(1), 0))]);
    }

    #[test]
    fn a_reload_to_another_table_empties_the_old_one() {
        use crate::announce_nl::MockRoutes;
        let mock = MockRoutes::default();
        let mut a = Announcer::new(Box::new(mock.clone()), &announcing_plan(100));
        a.sync(set(&[route(100, v4(1), 0)]));
        a.set_plan(&announcing_plan(101));
        a.sync(set(&[route(101, v4(1), 0)]));
        assert!(mock.dsts(100, P).is_empty());
        assert_eq!(mock.dsts(101, P), BTreeSet::from([v4(1)]));
        // The next full pass finds nothing of ours there and forgets it.
        a.invalidate();
        a.sync(set(&[route(101, v4(1), 0)]));
        assert_eq!(a.tables, BTreeSet::from([101]));
    }

    #[test]
    fn ipv6_metric_zero_is_the_kernels_1024() {
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(kernel_metric(v6, 0), 1024);
        assert_eq!(kernel_metric(v6, 7), 7);
        assert_eq!(kernel_metric(v4(1), 0), 0);
    }

    #[test]
    fn ipv6_vips_are_host_routes() {
        let dst = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
        let r = route(100, dst, 0);
        assert_eq!(r.prefix_len(), 128);
        assert_eq!(r.to_string(), "2001:db8::1/128 table 100 metric 0");
        let plan = reconcile(&set(&[r]), &[], P, &BTreeSet::from([100]));
        assert_eq!(plan.add, vec![r]);
    }
}
