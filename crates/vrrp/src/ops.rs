//! The I/O edge behind small traits, as the checker injects its IPVS
//! backend: [`AddressOps`] (VIPs, virtual routes and rules, GARP/NA) and
//! [`AdvertSocket`] (sending an advert). The engine carries out the core's
//! effects through `&dyn` ones ([`change_addrs`], [`send_advert`],
//! [`announce`]); the real implementations stay in [`crate::addr`]
//! (rtnetlink), [`crate::socket`] (raw IP-112) and [`crate::garp`]
//! (AF_PACKET / ICMPv6), and tests use recording fakes.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;
use std::time::Duration;

use futures::future::join_all;
use rkeepalived_config::model::{VirtualIpAddress, VirtualRoute, VirtualRule};

use crate::addr::Netlink;
use crate::error::{NetlinkError, SocketError};
use crate::garp::Announcer;
use crate::socket::VrrpSocket;

/// A boxed netlink request.
pub type NlFuture<'a> = Pin<Box<dyn Future<Output = Result<(), NetlinkError>> + Send + 'a>>;
/// A boxed advert send.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SocketError>> + Send + 'a>>;

/// Adding and deleting what a Master owns (keepalived vrrp_ipaddress.c,
/// vrrp_iproute.c, vrrp_iprule.c).
pub trait AddressOps: Sync {
    fn add_address<'a>(&'a self, v: &'a VirtualIpAddress) -> NlFuture<'a>;
    fn del_address<'a>(&'a self, v: &'a VirtualIpAddress) -> NlFuture<'a>;
    fn add_route<'a>(&'a self, r: &'a VirtualRoute) -> NlFuture<'a>;
    fn del_route<'a>(&'a self, r: &'a VirtualRoute) -> NlFuture<'a>;
    fn add_rule<'a>(&'a self, r: &'a VirtualRule) -> NlFuture<'a>;
    fn del_rule<'a>(&'a self, r: &'a VirtualRule) -> NlFuture<'a>;
}

/// Gratuitous ARP / unsolicited neighbour advertisement on one interface
/// (keepalived vrrp_arp.c, vrrp_ndisc.c).
pub trait Announce: Send + Sync {
    fn send_garp(&self, ip: Ipv4Addr) -> Result<(), SocketError>;
    fn send_na(&self, ip: Ipv6Addr, router: bool) -> Result<(), SocketError>;
}

/// Sending an encoded advert on one interface (keepalived vrrp_send_pkt()).
pub trait AdvertSocket: Sync {
    /// A full IPv4 packet to `dst`.
    fn send_v4<'a>(&'a self, dst: Ipv4Addr, ip_packet: &'a [u8]) -> SendFuture<'a>;
    /// A VRRP message from `src` to `dst` (the kernel adds the IPv6 header).
    fn send_v6<'a>(&'a self, src: Ipv6Addr, dst: Ipv6Addr, vrrp: &'a [u8]) -> SendFuture<'a>;
}

impl AddressOps for Netlink {
    fn add_address<'a>(&'a self, v: &'a VirtualIpAddress) -> NlFuture<'a> {
        Box::pin(Netlink::add_address(self, v))
    }
    fn del_address<'a>(&'a self, v: &'a VirtualIpAddress) -> NlFuture<'a> {
        Box::pin(Netlink::del_address(self, v))
    }
    fn add_route<'a>(&'a self, r: &'a VirtualRoute) -> NlFuture<'a> {
        Box::pin(Netlink::add_route(self, r))
    }
    fn del_route<'a>(&'a self, r: &'a VirtualRoute) -> NlFuture<'a> {
        Box::pin(Netlink::del_route(self, r))
    }
    fn add_rule<'a>(&'a self, r: &'a VirtualRule) -> NlFuture<'a> {
        Box::pin(Netlink::add_rule(self, r))
    }
    fn del_rule<'a>(&'a self, r: &'a VirtualRule) -> NlFuture<'a> {
        Box::pin(Netlink::del_rule(self, r))
    }
}

impl Announce for Announcer {
    fn send_garp(&self, ip: Ipv4Addr) -> Result<(), SocketError> {
        Announcer::send_garp(self, ip)
    }
    fn send_na(&self, ip: Ipv6Addr, router: bool) -> Result<(), SocketError> {
        Announcer::send_na(self, ip, router)
    }
}

impl AdvertSocket for VrrpSocket {
    fn send_v4<'a>(&'a self, dst: Ipv4Addr, ip_packet: &'a [u8]) -> SendFuture<'a> {
        Box::pin(VrrpSocket::send_v4(self, dst, ip_packet))
    }
    fn send_v6<'a>(&'a self, src: Ipv6Addr, dst: Ipv6Addr, vrrp: &'a [u8]) -> SendFuture<'a> {
        Box::pin(VrrpSocket::send_v6(self, src, dst, vrrp))
    }
}

/// What an instance owns while Master besides its state: addresses, routes, rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddrSet {
    pub vips: Vec<VirtualIpAddress>,
    pub routes: Vec<VirtualRoute>,
    pub rules: Vec<VirtualRule>,
}

impl AddrSet {
    /// The entries of `self` that `other` does not have.
    pub fn minus(&self, other: &AddrSet) -> AddrSet {
        AddrSet {
            vips: self
                .vips
                .iter()
                .filter(|v| !other.vips.contains(v))
                .cloned()
                .collect(),
            routes: self
                .routes
                .iter()
                .filter(|r| !other.routes.contains(r))
                .cloned()
                .collect(),
            rules: self
                .rules
                .iter()
                .filter(|r| !other.rules.contains(r))
                .cloned()
                .collect(),
        }
    }
}

impl AddrSet {
    /// What a reload releases of an instance it stopped (`self`): the
    /// entries no `owners` (the MASTER instances after the reload) hold.
    /// Returns the VIPs kept because a MASTER owns them, and the rest.
    pub fn unowned(self, owners: &[AddrSet]) -> (Vec<VirtualIpAddress>, AddrSet) {
        let (kept, vips): (Vec<_>, Vec<_>) = self
            .vips
            .into_iter()
            .partition(|v| owners.iter().any(|o| o.vips.contains(v)));
        let routes = self
            .routes
            .into_iter()
            .filter(|r| !owners.iter().any(|o| o.routes.contains(r)))
            .collect();
        let rules = self
            .rules
            .into_iter()
            .filter(|r| !owners.iter().any(|o| o.rules.contains(r)))
            .collect();
        (
            kept,
            AddrSet {
                vips,
                routes,
                rules,
            },
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Add,
    Delete,
}

/// Add or delete `set`: rules and routes go before the addresses they use
/// on delete and after them on add (keepalived vrrp_state_become_master() /
/// vrrp_restore_interface()). Failures are logged (for `instance`) and
/// counted, never fatal; returns the number of failures.
///
/// All VIP requests go out back to back, then the acks are collected: N
/// VIPs cost one netlink round trip, not N. The kernel still applies them
/// in order (first in a subnet = primary), as they are sent in order on one
/// socket.
pub async fn change_addrs(
    ops: &dyn AddressOps,
    change: Change,
    set: &AddrSet,
    instance: &str,
) -> u64 {
    let mut errors = 0;
    let mut report = |what: &str, e: NetlinkError| {
        errors += 1;
        match change {
            Change::Add => tracing::error!(%instance, error = %e, "cannot add {what}"),
            Change::Delete => tracing::warn!(%instance, error = %e, "cannot delete {what}"),
        }
    };
    match change {
        Change::Add => {
            for res in join_all(set.vips.iter().map(|v| ops.add_address(v))).await {
                if let Err(e) = res {
                    report("VIP", e);
                }
            }
            for r in &set.routes {
                if let Err(e) = ops.add_route(r).await {
                    report("virtual route", e);
                }
            }
            for r in &set.rules {
                if let Err(e) = ops.add_rule(r).await {
                    report("virtual rule", e);
                }
            }
        }
        Change::Delete => {
            for r in &set.rules {
                if let Err(e) = ops.del_rule(r).await {
                    report("virtual rule", e);
                }
            }
            for r in &set.routes {
                if let Err(e) = ops.del_route(r).await {
                    report("virtual route", e);
                }
            }
            for res in join_all(set.vips.iter().map(|v| ops.del_address(v))).await {
                if let Err(e) = res {
                    report("VIP", e);
                }
            }
        }
    }
    errors
}

/// How one advert send went, per destination.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendOutcome {
    pub sent: u64,
    pub failed: u64,
}

/// Send the encoded adverts `packets` (destination, bytes) from `src`.
/// A destination of the other family than `src` is skipped (IPv6 needs
/// an IPv6 source).
pub async fn send_advert(
    sock: &dyn AdvertSocket,
    src: IpAddr,
    packets: &[(IpAddr, Vec<u8>)],
    instance: &str,
) -> SendOutcome {
    let mut out = SendOutcome::default();
    for (dst, bytes) in packets {
        let res = match (src, *dst) {
            (_, IpAddr::V4(d)) => sock.send_v4(d, bytes).await,
            (IpAddr::V6(s), IpAddr::V6(d)) => sock.send_v6(s, d, bytes).await,
            _ => continue,
        };
        match res {
            Ok(()) => out.sent += 1,
            Err(e) => {
                out.failed += 1;
                tracing::warn!(%instance, error = %e, "advert send failed");
            }
        }
    }
    out
}

/// `repeat` rounds of GARP / unsolicited NA for every `(sender, address)`,
/// spaced by `garp_interval` / `gna_interval` (keepalived
/// vrrp_garp_interval / vrrp_gna_interval: the delay between messages on an
/// interface, 0 = back to back).
pub async fn announce<A: AsRef<dyn Announce>>(
    targets: &[(A, IpAddr)],
    repeat: u32,
    garp_interval: Duration,
    gna_interval: Duration,
    instance: &str,
) {
    for _ in 0..repeat {
        for (a, ip) in targets {
            let (res, gap) = match ip {
                IpAddr::V4(v4) => (a.as_ref().send_garp(*v4), garp_interval),
                IpAddr::V6(v6) => (a.as_ref().send_na(*v6, false), gna_interval),
            };
            if let Err(e) = res {
                tracing::warn!(%instance, error = %e, "gratuitous announcement failed");
            }
            if !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeepalived_config::model::{AddressFamily, IpPrefix, RuleAction};
    use std::sync::{Arc, Mutex};

    /// Records every request; fails the ones whose text contains `fail`.
    #[derive(Default)]
    struct Recorder {
        log: Mutex<Vec<String>>,
        fail: Option<&'static str>,
    }

    impl Recorder {
        fn op(&self, what: String) -> Result<(), NetlinkError> {
            let failed = self.fail.is_some_and(|f| what.contains(f));
            self.log.lock().expect("log").push(what);
            if failed {
                Err(NetlinkError::LinkNotFound("test0".into()))
            } else {
                Ok(())
            }
        }
        fn log(&self) -> Vec<String> {
            self.log.lock().expect("log").clone()
        }
    }

    impl AddressOps for Recorder {
        fn add_address<'a>(&'a self, v: &'a VirtualIpAddress) -> NlFuture<'a> {
            let r = self.op(format!("add addr {}", v.addr));
            Box::pin(async move { r })
        }
        fn del_address<'a>(&'a self, v: &'a VirtualIpAddress) -> NlFuture<'a> {
            let r = self.op(format!("del addr {}", v.addr));
            Box::pin(async move { r })
        }
        fn add_route<'a>(&'a self, r: &'a VirtualRoute) -> NlFuture<'a> {
            let r = self.op(format!("add route {}", r.to));
            Box::pin(async move { r })
        }
        fn del_route<'a>(&'a self, r: &'a VirtualRoute) -> NlFuture<'a> {
            let r = self.op(format!("del route {}", r.to));
            Box::pin(async move { r })
        }
        fn add_rule<'a>(&'a self, r: &'a VirtualRule) -> NlFuture<'a> {
            let r = self.op(format!("add rule {:?}", r.action));
            Box::pin(async move { r })
        }
        fn del_rule<'a>(&'a self, r: &'a VirtualRule) -> NlFuture<'a> {
            let r = self.op(format!("del rule {:?}", r.action));
            Box::pin(async move { r })
        }
    }

    fn set() -> AddrSet {
        let vip = |a: &str| VirtualIpAddress::new(a.parse().expect("ip"), "eth0");
        let route = VirtualRoute::new(IpPrefix {
            addr: "198.51.100.0".parse().expect("ip"),
            len: 24,
        });
        let rule = VirtualRule::new(AddressFamily::Inet, RuleAction::Table(100));
        AddrSet {
            vips: vec![vip("192.0.2.10"), vip("192.0.2.11")],
            routes: vec![route],
            rules: vec![rule],
        }
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    /// Addresses before the routes and rules that use them on add; the
    /// other way round on delete; failures counted, the rest still done.
    #[test]
    fn change_addrs_orders_requests_and_counts_failures() {
        let rec = Recorder::default();
        assert_eq!(block_on(change_addrs(&rec, Change::Add, &set(), "VI_1")), 0);
        let add = rec.log();
        assert!(add[0].starts_with("add addr 192.0.2.10"));
        assert!(add[1].starts_with("add addr 192.0.2.11"));
        assert!(add[2].starts_with("add route"));
        assert!(add[3].starts_with("add rule"));
        let rec = Recorder {
            fail: Some("192.0.2.10"),
            ..Recorder::default()
        };
        assert_eq!(
            block_on(change_addrs(&rec, Change::Delete, &set(), "VI_1")),
            1
        );
        let del = rec.log();
        assert!(del[0].starts_with("del rule"));
        assert!(del[1].starts_with("del route"));
        assert_eq!(&del[2..], ["del addr 192.0.2.10", "del addr 192.0.2.11"]);
    }

    #[test]
    fn addr_set_difference() {
        let all = set();
        let mut fewer = set();
        fewer.vips.remove(0);
        fewer.rules.clear();
        let d = all.minus(&fewer);
        assert_eq!(d.vips, vec![all.vips[0].clone()]);
        assert!(d.routes.is_empty());
        assert_eq!(d.rules, all.rules);
    }

    /// A reload that stopped an instance releases only what no MASTER
    /// holds now (a vrid change of an address owner keeps its VIP).
    #[test]
    fn reload_releases_only_unowned_entries() {
        let stopped = set();
        let mut master = set();
        master.vips.remove(1);
        master.routes.clear();
        let (kept, release) = stopped.clone().unowned(&[master]);
        assert_eq!(kept, vec![stopped.vips[0].clone()]);
        assert_eq!(release.vips, vec![stopped.vips[1].clone()]);
        assert_eq!(release.routes, stopped.routes);
        assert!(release.rules.is_empty());
        let (kept, release) = stopped.clone().unowned(&[]);
        assert!(kept.is_empty());
        assert_eq!(release, stopped);
    }

    /// Records adverts; fails IPv4 sends to 192.0.2.99.
    #[derive(Default)]
    struct Sock(Mutex<Vec<(IpAddr, usize)>>);

    impl AdvertSocket for Sock {
        fn send_v4<'a>(&'a self, dst: Ipv4Addr, p: &'a [u8]) -> SendFuture<'a> {
            self.0.lock().expect("log").push((dst.into(), p.len()));
            let fail = dst == Ipv4Addr::new(192, 0, 2, 99);
            Box::pin(async move {
                if fail {
                    Err(SocketError::NoInterface("test0".into()))
                } else {
                    Ok(())
                }
            })
        }
        fn send_v6<'a>(&'a self, _: Ipv6Addr, dst: Ipv6Addr, p: &'a [u8]) -> SendFuture<'a> {
            self.0.lock().expect("log").push((dst.into(), p.len()));
            Box::pin(async { Ok(()) })
        }
    }

    #[test]
    fn send_advert_to_every_destination_of_its_family() {
        let sock = Sock::default();
        let v4 = |s: &str| -> IpAddr { s.parse().expect("ip") };
        let packets = vec![
            (v4("224.0.0.18"), vec![0; 40]),
            (v4("192.0.2.99"), vec![0; 40]),
            (v4("2001:db8::1"), vec![0; 20]),
        ];
        let out = block_on(send_advert(&sock, v4("192.0.2.1"), &packets, "VI_1"));
        assert_eq!(out, SendOutcome { sent: 1, failed: 1 });
        // An IPv6 destination needs an IPv6 source: skipped.
        assert_eq!(sock.0.lock().expect("log").len(), 2);
    }

    /// Records announcements.
    #[derive(Default)]
    struct Ann(Mutex<Vec<IpAddr>>);

    impl Announce for Ann {
        fn send_garp(&self, ip: Ipv4Addr) -> Result<(), SocketError> {
            self.0.lock().expect("log").push(ip.into());
            Ok(())
        }
        fn send_na(&self, ip: Ipv6Addr, _router: bool) -> Result<(), SocketError> {
            self.0.lock().expect("log").push(ip.into());
            Ok(())
        }
    }

    #[test]
    fn announce_repeats_every_address() {
        let rec = Arc::new(Ann::default());
        let ann: Arc<dyn Announce> = rec.clone();
        let targets = vec![
            (ann.clone(), "192.0.2.10".parse().expect("ip")),
            (ann, "2001:db8::10".parse().expect("ip")),
        ];
        block_on(announce(
            &targets,
            3,
            Duration::ZERO,
            Duration::from_millis(1),
            "VI_1",
        ));
        let log = rec.0.lock().expect("log").clone();
        assert_eq!(log.len(), 6);
        assert_eq!(log[0], targets[0].1);
        assert_eq!(log[1], targets[1].1);
    }
}
