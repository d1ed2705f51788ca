//! VIPs, virtual routes and rules via rtnetlink, plus the link/address event
//! watch that restores VIPs removed behind our back and feeds
//! track_interface state into the instances.

use std::net::{IpAddr, Ipv4Addr};

use futures::{StreamExt, TryStreamExt};
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressMessage, AddressScope, CacheInfo,
};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteMetric, RouteNextHop, RouteNextHopFlags,
    RouteProtocol, RouteScope, RouteType as NlRouteType,
};
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleFlags, RuleMessage};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::{Handle, MulticastGroup, RouteMessageBuilder};
use tokio::sync::mpsc;

use rkeepalived_config::model::{
    IpPrefix, RouteType, RuleAction as CfgRuleAction, VirtualIpAddress, VirtualRoute, VirtualRule,
};

use crate::error::NetlinkError;

/// Short human form of a VIP for logs and error messages.
pub fn vip_label(vip: &VirtualIpAddress) -> String {
    format!("{}/{} dev {}", vip.addr, vip.prefix_len, vip.dev)
}

/// Kernel events the engine cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// An address appeared (lets instances without a source address recover).
    AddressAdded {
        ifindex: u32,
        /// The address (for `-a`'s log line).
        addr: Option<IpAddr>,
    },
    AddressRemoved {
        ifindex: u32,
        addr: IpAddr,
        prefix_len: u8,
    },
    /// Link state: `up` means IFF_UP and IFF_RUNNING (carrier).
    Link {
        ifindex: u32,
        ifname: String,
        up: bool,
    },
    LinkRemoved {
        ifindex: u32,
        ifname: String,
    },
    /// The event socket overran (ENOBUFS): events were lost, so the engine
    /// must resync its view of links and addresses (keepalived:
    /// "Netlink: Receive buffer overrun on monitor socket").
    Overrun,
}

/// Interface index by name (`if_nametoindex`).
pub fn ifindex(name: &str) -> Option<u32> {
    nix::net::if_::if_nametoindex(name).ok()
}

/// Handle on an rtnetlink connection (cheap to clone).
#[derive(Clone)]
pub struct Netlink {
    handle: Handle,
}

const EEXIST: i32 = libc::EEXIST;
const EADDRNOTAVAIL: i32 = libc::EADDRNOTAVAIL;
const ESRCH: i32 = libc::ESRCH;
const ENOENT: i32 = libc::ENOENT;
fn request_err(op: &'static str, target: String) -> impl FnOnce(rtnetlink::Error) -> NetlinkError {
    move |source| NetlinkError::Request { op, target, source }
}

/// Treat "already there" / "already gone" as success (idempotent ops).
fn tolerate(r: Result<(), NetlinkError>, ok_errnos: &[i32]) -> Result<(), NetlinkError> {
    match r {
        Err(e) if e.errno().is_some_and(|n| ok_errnos.contains(&n)) => Ok(()),
        other => other,
    }
}

impl Netlink {
    /// Open a request connection; the connection task runs on the current runtime.
    pub fn connect() -> Result<Netlink, NetlinkError> {
        let (conn, handle, _) = rtnetlink::new_connection().map_err(NetlinkError::Connect)?;
        tokio::spawn(conn);
        Ok(Netlink { handle })
    }

    fn index_of(name: &str) -> Result<u32, NetlinkError> {
        ifindex(name).ok_or_else(|| NetlinkError::LinkNotFound(name.to_string()))
    }

    fn address_message(vip: &VirtualIpAddress) -> Result<AddressMessage, NetlinkError> {
        let index = Self::index_of(&vip.dev)?;
        let mut msg = match vip.addr {
            IpAddr::V4(a) => rtnetlink::AddressMessageBuilder::<Ipv4Addr>::new()
                .index(index)
                .address(a, vip.prefix_len)
                .build(),
            IpAddr::V6(a) => rtnetlink::AddressMessageBuilder::<std::net::Ipv6Addr>::new()
                .index(index)
                .address(a, vip.prefix_len)
                .build(),
        };
        // Like `ip addr add` (and keepalived), no broadcast unless `brd` is given.
        msg.attributes
            .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
        if let Some(IpAddr::V4(brd)) = vip.brd {
            msg.attributes.push(AddressAttribute::Broadcast(brd));
        }
        if let Some(scope) = vip.scope {
            msg.header.scope = AddressScope::from(scope.as_u8());
        }
        if let Some(label) = &vip.label {
            msg.attributes.push(AddressAttribute::Label(label.clone()));
        }
        // `peer IP`: a point-to-point address, IFA_LOCAL = the VIP and
        // IFA_ADDRESS = the peer (keepalived vrrp_ipaddress.c netlink_ipaddress()).
        if let Some(peer) = vip.peer {
            msg.attributes.retain(|a| {
                !matches!(a, AddressAttribute::Address(_) | AddressAttribute::Local(_))
            });
            msg.attributes.push(AddressAttribute::Local(vip.addr));
            msg.attributes.push(AddressAttribute::Address(peer));
        }
        // `preferred_lft` (IPv6 only): IFA_CACHEINFO with the preferred
        // lifetime and an infinite valid one. keepalived's default is 0 for a
        // /128 (deprecated, so never picked as a source address) and forever
        // otherwise (vrrp_ipaddress.c parse_ipaddress()/netlink_ipaddress()).
        if let Some(preferred) = ipv6_preferred_lft(vip) {
            let mut ci = CacheInfo::default();
            ci.ifa_preferred = preferred;
            ci.ifa_valid = INFINITY_LIFE_TIME;
            msg.attributes.push(AddressAttribute::CacheInfo(ci));
        }
        let mut flags = AddressFlags::empty();
        if vip.addr.is_ipv6() {
            // keepalived adds IPv6 VIPs without DAD so that NAs can use them at once.
            flags |= AddressFlags::Nodad;
        }
        if vip.noprefixroute {
            flags |= AddressFlags::Noprefixroute;
        }
        if vip.home {
            flags |= AddressFlags::Homeaddress;
        }
        if vip.mngtmpaddr {
            flags |= AddressFlags::Managetempaddr;
        }
        if vip.autojoin {
            flags |= AddressFlags::Mcautojoin;
        }
        if !flags.is_empty() {
            msg.attributes.push(AddressAttribute::Flags(flags));
        }
        Ok(msg)
    }

    /// `ip addr add`; an already present address is not an error.
    pub async fn add_address(&self, vip: &VirtualIpAddress) -> Result<(), NetlinkError> {
        let msg = Self::address_message(vip)?;
        let index = msg.header.index;
        let mut req = self.handle.address().add(index, vip.addr, vip.prefix_len);
        *req.message_mut() = msg;
        tolerate(
            req.execute()
                .await
                .map_err(request_err("add address", vip_label(vip))),
            &[EEXIST],
        )
    }

    /// `ip addr del`; an already absent address is not an error.
    pub async fn del_address(&self, vip: &VirtualIpAddress) -> Result<(), NetlinkError> {
        let msg = match Self::address_message(vip) {
            // Interface gone: so is the address.
            Err(NetlinkError::LinkNotFound(_)) => return Ok(()),
            other => other?,
        };
        let r = self
            .handle
            .address()
            .del(without_add_only_address_attrs(msg))
            .execute()
            .await
            .map_err(request_err("delete address", vip_label(vip)));
        tolerate(r, &[EADDRNOTAVAIL, ESRCH, ENOENT])
    }

    /// Addresses currently on `ifindex` (first = primary).
    pub async fn addresses(&self, ifindex: u32) -> Result<Vec<(IpAddr, u8)>, NetlinkError> {
        let mut stream = self
            .handle
            .address()
            .get()
            .set_link_index_filter(ifindex)
            .execute();
        let mut out = Vec::new();
        while let Some(msg) = stream
            .try_next()
            .await
            .map_err(request_err("list addresses", ifindex.to_string()))?
        {
            if msg.header.index != ifindex {
                continue;
            }
            for attr in &msg.attributes {
                if let AddressAttribute::Address(a) = attr {
                    out.push((*a, msg.header.prefix_len));
                }
            }
        }
        Ok(out)
    }

    fn route_message(r: &VirtualRoute) -> Result<RouteMessage, NetlinkError> {
        let target = r.to.to_string();
        let bad = |e: String| NetlinkError::Request {
            op: "build route",
            target: target.clone(),
            source: rtnetlink::Error::InvalidNla(e),
        };
        let mut b = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(r.to.addr, r.to.len)
            .map_err(|e| bad(e.to_string()))?;
        if let Some(from) = r.from {
            b = b
                .source_prefix(from.addr, from.len)
                .map_err(|e| bad(e.to_string()))?;
        }
        if let Some(gw) = r.via {
            b = b.gateway(gw).map_err(|e| bad(e.to_string()))?;
        }
        if let Some(src) = r.src {
            b = b.pref_source(src).map_err(|e| bad(e.to_string()))?;
        }
        if let Some(dev) = &r.dev {
            b = b.output_interface(Self::index_of(dev)?);
        }
        if r.onlink {
            b = b.onlink();
        }
        if let Some(t) = r.table {
            b = b.table_id(t);
        }
        if let Some(m) = r.metric {
            b = b.priority(m);
        }
        // keepalived vrrp_iproute.c netlink_route(): the configured protocol,
        // else RTPROT_KEEPALIVED (18).
        b = b.protocol(RouteProtocol::from(r.protocol.unwrap_or(RTPROT_KEEPALIVED)));
        if let Some(t) = r.tos {
            b = b.tos(t);
        }
        b = b.kind(match r.route_type {
            RouteType::Unicast => NlRouteType::Unicast,
            RouteType::Blackhole => NlRouteType::BlackHole,
            RouteType::Unreachable => NlRouteType::Unreachable,
            RouteType::Prohibit => NlRouteType::Prohibit,
            RouteType::Throw => NlRouteType::Throw,
            RouteType::Local => NlRouteType::Local,
            RouteType::Broadcast => NlRouteType::Broadcast,
            RouteType::Multicast => NlRouteType::Multicast,
        });
        // keepalived `netlink_route` sends RT_SCOPE_UNIVERSE unless `scope`
        // is configured: unlike `ip route add P dev D`, a gateway-less route
        // does not become link-scope.
        if let Some(s) = r.scope {
            b = b.scope(RouteScope::from(s.as_u8()));
        }
        let mut msg = b.build();
        route_extras(&mut msg, r)?;
        Ok(msg)
    }

    pub async fn add_route(&self, r: &VirtualRoute) -> Result<(), NetlinkError> {
        let msg = Self::route_message(r)?;
        let res = self.handle.route().add(msg).execute().await;
        tolerate(
            res.map_err(request_err("add route", r.to.to_string())),
            &[EEXIST],
        )
    }

    pub async fn del_route(&self, r: &VirtualRoute) -> Result<(), NetlinkError> {
        let msg = match Self::route_message(r) {
            Err(NetlinkError::LinkNotFound(_)) => return Ok(()),
            other => other?,
        };
        let res = self.handle.route().del(msg).execute().await;
        tolerate(
            res.map_err(request_err("delete route", r.to.to_string())),
            &[ESRCH, ENOENT],
        )
    }

    fn rule_message(&self, r: &VirtualRule) -> RuleMessage {
        let mut req = self.handle.rule().add();
        if let Some(p) = r.priority {
            req = req.priority(p);
        }
        if let Some(m) = r.fwmark {
            req = req.fw_mark(m);
        }
        if let Some(t) = r.tos {
            req = req.tos(t);
        }
        if let Some(i) = &r.iif {
            req = req.input_interface(i.clone());
        }
        if let Some(o) = &r.oif {
            req = req.output_interface(o.clone());
        }
        let v6 = r.family == rkeepalived_config::model::AddressFamily::Inet6;
        let mut msg = if v6 {
            let mut q = req.v6();
            if let Some(IpPrefix {
                addr: IpAddr::V6(a),
                len,
            }) = r.from
            {
                q = q.source_prefix(a, len);
            }
            if let Some(IpPrefix {
                addr: IpAddr::V6(a),
                len,
            }) = r.to
            {
                q = q.destination_prefix(a, len);
            }
            q.message_mut().clone()
        } else {
            let mut q = req.v4();
            if let Some(IpPrefix {
                addr: IpAddr::V4(a),
                len,
            }) = r.from
            {
                q = q.source_prefix(a, len);
            }
            if let Some(IpPrefix {
                addr: IpAddr::V4(a),
                len,
            }) = r.to
            {
                q = q.destination_prefix(a, len);
            }
            q.message_mut().clone()
        };
        if let Some(mask) = r.fwmask {
            msg.attributes.push(RuleAttribute::FwMask(mask));
        }
        if r.invert {
            msg.header.flags |= RuleFlags::Invert;
        }
        // keepalived vrrp_iprule.c alloc_rule(): a tracked rule gets
        // FRA_PROTOCOL RTPROT_KEEPALIVED (`protocol 18` in `ip rule`);
        // a no_track one none.
        if !r.no_track {
            msg.attributes
                .push(RuleAttribute::Protocol(RouteProtocol::from(
                    RTPROT_KEEPALIVED,
                )));
        }
        match &r.action {
            CfgRuleAction::Table(t) => {
                msg.header.action = RuleAction::ToTable;
                msg.header.table = if *t < 256 { *t as u8 } else { 0 };
                msg.attributes
                    .retain(|a| !matches!(a, RuleAttribute::Table(_)));
                msg.attributes.push(RuleAttribute::Table(*t));
            }
            CfgRuleAction::Goto(target) => {
                msg.header.action = RuleAction::Goto;
                msg.header.table = 0;
                msg.attributes.push(RuleAttribute::Goto(*target));
            }
            CfgRuleAction::Blackhole => msg.header.action = RuleAction::Blackhole,
            CfgRuleAction::Unreachable => msg.header.action = RuleAction::Unreachable,
            CfgRuleAction::Prohibit => msg.header.action = RuleAction::Prohibit,
            CfgRuleAction::Nop => msg.header.action = RuleAction::Nop,
        }
        msg
    }

    pub async fn add_rule(&self, r: &VirtualRule) -> Result<(), NetlinkError> {
        let msg = self.rule_message(r);
        let mut req = self.handle.rule().add();
        *req.message_mut() = msg;
        tolerate(
            req.execute()
                .await
                .map_err(request_err("add rule", format!("{:?}", r.action))),
            &[EEXIST],
        )
    }

    pub async fn del_rule(&self, r: &VirtualRule) -> Result<(), NetlinkError> {
        let msg = self.rule_message(r);
        let res = self.handle.rule().del(msg).execute().await;
        tolerate(
            res.map_err(request_err("delete rule", format!("{:?}", r.action))),
            &[ENOENT, ESRCH],
        )
    }

    /// Create a macvlan VMAC interface (RFC 5798 §7.3 virtual router MAC)
    /// on `base`, or reuse an existing one of that name. Without `ipv6`
    /// (an IPv4 instance with no IPv6 address) IPv6 is disabled on it
    /// before it goes up, as keepalived's `netlink_link_add_vmac` does
    /// (`link_set_ipv6(ifp, false)`): no link-local address is generated
    /// from the shared virtual router MAC (RFC 5798 §7.4), which would be
    /// the same on every router.
    pub async fn add_vmac(
        &self,
        name: &str,
        base: &str,
        mac: [u8; 6],
        ipv6: bool,
    ) -> Result<u32, NetlinkError> {
        if let Some(i) = ifindex(name) {
            return Ok(i);
        }
        let base_index = Self::index_of(base)?;
        let msg = rtnetlink::LinkMacVlan::new(
            name,
            base_index,
            netlink_packet_route::link::MacVlanMode::Private,
        )
        .address(mac.to_vec())
        .build();
        let r = self
            .handle
            .link()
            .add(msg)
            .execute()
            .await
            .map_err(request_err("add vmac", name.to_string()));
        tolerate(r, &[EEXIST])?;
        let index = Self::index_of(name)?;
        if !ipv6 {
            let path = format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6");
            if let Err(e) = std::fs::write(&path, "1") {
                tracing::warn!(vmac = name, error = %e, "cannot disable IPv6 on vmac");
            }
        }
        let mut up = LinkMessage::default();
        up.header.index = index;
        up.header.flags = LinkFlags::Up;
        up.header.change_mask = LinkFlags::Up;
        self.handle
            .link()
            .set(up)
            .execute()
            .await
            .map_err(request_err("set vmac up", name.to_string()))?;
        Ok(index)
    }

    pub async fn del_link(&self, name: &str) -> Result<(), NetlinkError> {
        let Some(index) = ifindex(name) else {
            return Ok(());
        };
        let r = self
            .handle
            .link()
            .del(index)
            .execute()
            .await
            .map_err(request_err("delete link", name.to_string()));
        tolerate(r, &[libc::ENODEV])
    }

    /// Current link state of `ifindex` (up + running).
    pub async fn link_up(&self, ifindex: u32) -> Result<bool, NetlinkError> {
        let mut s = self.handle.link().get().match_index(ifindex).execute();
        match s
            .try_next()
            .await
            .map_err(request_err("get link", ifindex.to_string()))?
        {
            Some(m) => Ok(link_is_up(&m)),
            None => Ok(false),
        }
    }
}

/// RTPROT_KEEPALIVED (keepalived include/vrrp_iproute.h).
pub const RTPROT_KEEPALIVED: u8 = 18;
/// INFINITY_LIFE_TIME (keepalived, iproute2): a lifetime of "forever".
const INFINITY_LIFE_TIME: u32 = u32::MAX;

/// The preferred lifetime keepalived sends for a VIP, `None` for none
/// (IPv4, or forever).
pub fn ipv6_preferred_lft(vip: &VirtualIpAddress) -> Option<u32> {
    if !vip.addr.is_ipv6() {
        return None;
    }
    let lft = vip.preferred_lft.unwrap_or(if vip.prefix_len == 128 {
        0
    } else {
        INFINITY_LIFE_TIME
    });
    (lft != INFINITY_LIFE_TIME).then_some(lft)
}

/// A delete carries no lifetimes. With a peer, IFA_ADDRESS stays the peer
/// (the kernel matches it against the address's peer prefix).
fn without_add_only_address_attrs(mut msg: AddressMessage) -> AddressMessage {
    msg.attributes
        .retain(|a| !matches!(a, AddressAttribute::CacheInfo(_)));
    msg
}

/// The route options rtnetlink's builder lacks: RTA_METRICS (`mtu` =
/// RTAX_MTU, `advmss` = RTAX_ADVMSS) and RTA_MULTIPATH (`nexthop via IP
/// [dev IF] [onlink] [weight N]`, rtnh_hops = weight - 1), as keepalived
/// vrrp_iproute.c netlink_route()/add_nexthops() build them.
fn route_extras(msg: &mut RouteMessage, r: &VirtualRoute) -> Result<(), NetlinkError> {
    let mut metrics = Vec::new();
    if let Some(mtu) = r.mtu {
        metrics.push(RouteMetric::Mtu(mtu));
    }
    if let Some(advmss) = r.advmss {
        metrics.push(RouteMetric::Advmss(advmss));
    }
    if !metrics.is_empty() {
        msg.attributes.push(RouteAttribute::Metrics(metrics));
    }
    if !r.nexthops.is_empty() {
        let mut hops = Vec::with_capacity(r.nexthops.len());
        for nh in &r.nexthops {
            let mut hop = RouteNextHop::default();
            if let Some(via) = nh.via {
                hop.attributes.push(RouteAttribute::Gateway(match via {
                    IpAddr::V4(a) => RouteAddress::Inet(a),
                    IpAddr::V6(a) => RouteAddress::Inet6(a),
                }));
            }
            if let Some(dev) = &nh.dev {
                hop.interface_index = Netlink::index_of(dev)?;
            }
            if nh.onlink {
                hop.flags |= RouteNextHopFlags::Onlink;
            }
            if let Some(w) = nh.weight {
                hop.hops = w.saturating_sub(1);
            }
            hops.push(hop);
        }
        msg.attributes.push(RouteAttribute::MultiPath(hops));
    }
    Ok(())
}

fn link_is_up(m: &LinkMessage) -> bool {
    m.header.flags.contains(LinkFlags::Up) && m.header.flags.contains(LinkFlags::Running)
}

fn link_name(m: &LinkMessage) -> String {
    m.attributes
        .iter()
        .find_map(|a| {
            if let LinkAttribute::IfName(n) = a {
                Some(n.clone())
            } else {
                None
            }
        })
        .unwrap_or_default()
}

/// Translate one rtnetlink notification; `None` for the ones we ignore.
pub fn translate(msg: &RouteNetlinkMessage) -> Option<NetEvent> {
    match msg {
        RouteNetlinkMessage::DelAddress(m) => {
            let addr = m.attributes.iter().find_map(|a| match a {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            });
            let addr = addr.or_else(|| {
                m.attributes.iter().find_map(|a| match a {
                    AddressAttribute::Address(ip) => Some(*ip),
                    _ => None,
                })
            })?;
            Some(NetEvent::AddressRemoved {
                ifindex: m.header.index,
                addr,
                prefix_len: m.header.prefix_len,
            })
        }
        RouteNetlinkMessage::NewAddress(m) => Some(NetEvent::AddressAdded {
            ifindex: m.header.index,
            addr: m
                .attributes
                .iter()
                .find_map(|a| match a {
                    AddressAttribute::Local(ip) => Some(*ip),
                    _ => None,
                })
                .or_else(|| {
                    m.attributes.iter().find_map(|a| match a {
                        AddressAttribute::Address(ip) => Some(*ip),
                        _ => None,
                    })
                }),
        }),
        RouteNetlinkMessage::NewLink(m) => Some(NetEvent::Link {
            ifindex: m.header.index,
            ifname: link_name(m),
            up: link_is_up(m),
        }),
        RouteNetlinkMessage::DelLink(m) => Some(NetEvent::LinkRemoved {
            ifindex: m.header.index,
            ifname: link_name(m),
        }),
        _ => None,
    }
}

/// Receive buffer of the link/address monitor socket.
///
/// keepalived 2.2.7 uses 64 KiB unless `vrrp_netlink_monitor_rcv_bufs` says
/// otherwise (keepalived_netlink.c `IF_DEFAULT_BUFSIZE`,
/// `netlink_set_rx_buf_size()`). A takeover of many instances adds one
/// address per VIP, and every add comes back on this socket as an
/// RTM_NEWADDR; 4,000 VIPs are ~4,000 notifications of ~1 KiB of skb each.
/// If the socket overruns, the events are lost and the engine must resync
/// (an error and a full dump, in the middle of the takeover). We deliberately
/// differ: 8 MiB, forced past `net.core.rmem_max` (SO_RCVBUFFORCE: the VRRP
/// process has CAP_NET_ADMIN), falling back to SO_RCVBUF (capped by
/// rmem_max). The memory is only used while events wait to be read.
pub const MONITOR_RCVBUF: usize = 8 << 20;

/// SO_RCVBUFFORCE, or SO_RCVBUF where that is refused (no CAP_NET_ADMIN).
fn set_monitor_rcvbuf(sock: &rtnetlink::sys::Socket, size: usize) -> std::io::Result<()> {
    use nix::sys::socket::{setsockopt, sockopt};
    match setsockopt(sock, sockopt::RcvBufForce, &size) {
        Ok(()) => Ok(()),
        Err(_) => sock.set_rx_buf_sz(size),
    }
}

/// Subscribe to link and address notifications (like `ip monitor link address`).
/// Events flow into `tx` until the receiver is dropped.
pub fn watch(tx: mpsc::Sender<NetEvent>) -> Result<tokio::task::JoinHandle<()>, NetlinkError> {
    let groups = [
        MulticastGroup::Link,
        MulticastGroup::Ipv4Ifaddr,
        MulticastGroup::Ipv6Ifaddr,
    ];
    let (mut conn, _handle, mut messages) =
        rtnetlink::new_multicast_connection(&groups).map_err(NetlinkError::Connect)?;
    {
        use rtnetlink::sys::AsyncSocket;
        let sock = conn.socket_mut().socket_mut();
        if let Err(e) = set_monitor_rcvbuf(sock, MONITOR_RCVBUF) {
            tracing::warn!(error = %e, "Cannot set SO_RCVBUF on the netlink monitor socket");
        }
    }
    tokio::spawn(conn);
    Ok(tokio::spawn(async move {
        while let Some((msg, _)) = messages.next().await {
            let ev = match msg.payload {
                NetlinkPayload::InnerMessage(inner) => translate(&inner),
                // netlink-proto reports the kernel's ENOBUFS on this socket as
                // an Overrun message: events were dropped.
                NetlinkPayload::Overrun(_) => Some(NetEvent::Overrun),
                _ => None,
            };
            if let Some(ev) = ev {
                if tx.send(ev).await.is_err() {
                    return;
                }
            }
        }
    }))
}

/// Set `net.ipv4.conf.<ifname>.<key>` (in the current network namespace),
/// returning the previous value so it can be restored.
pub fn set_ipv4_conf(ifname: &str, key: &str, value: &str) -> std::io::Result<String> {
    let path = format!("/proc/sys/net/ipv4/conf/{ifname}/{key}");
    let old = std::fs::read_to_string(&path)?.trim().to_string();
    if old != value {
        std::fs::write(&path, value)?;
    }
    Ok(old)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::NetlinkMessage;
    use proptest::prelude::*;

    #[test]
    fn address_message_carries_vip_options() {
        let mut vip = VirtualIpAddress::new("2001:db8::100".parse().unwrap(), "lo");
        vip.prefix_len = 64;
        vip.label = Some("lo:vip".into());
        let msg = Netlink::address_message(&vip).expect("lo exists");
        assert_eq!(msg.header.prefix_len, 64);
        assert!(msg
            .attributes
            .contains(&AddressAttribute::Flags(AddressFlags::Nodad)));
        assert!(msg
            .attributes
            .contains(&AddressAttribute::Label("lo:vip".into())));
        let v4 = VirtualIpAddress::new("192.0.2.1".parse().unwrap(), "lo");
        let msg = Netlink::address_message(&v4).expect("lo exists");
        assert!(!msg
            .attributes
            .iter()
            .any(|a| matches!(a, AddressAttribute::Broadcast(_))));
        // The option words of a VIP line: flags, broadcast and scope.
        let mut v6 = VirtualIpAddress::new("2001:db8::101".parse().unwrap(), "lo");
        v6.noprefixroute = true;
        v6.home = true;
        v6.mngtmpaddr = true;
        v6.autojoin = true;
        let msg = Netlink::address_message(&v6).expect("lo exists");
        assert!(msg.attributes.contains(&AddressAttribute::Flags(
            AddressFlags::Nodad
                | AddressFlags::Noprefixroute
                | AddressFlags::Homeaddress
                | AddressFlags::Managetempaddr
                | AddressFlags::Mcautojoin
        )));
        let mut v4 = VirtualIpAddress::new("192.0.2.1".parse().unwrap(), "lo");
        v4.brd = Some("192.0.2.255".parse().unwrap());
        v4.scope = Some(rkeepalived_config::model::Scope::Host);
        let msg = Netlink::address_message(&v4).expect("lo exists");
        assert!(msg
            .attributes
            .contains(&AddressAttribute::Broadcast("192.0.2.255".parse().unwrap())));
        assert_eq!(msg.header.scope, AddressScope::Host);
        let missing = VirtualIpAddress::new("192.0.2.1".parse().unwrap(), "no-such-if0");
        assert!(matches!(
            Netlink::address_message(&missing),
            Err(NetlinkError::LinkNotFound(_))
        ));
    }

    #[test]
    fn ipv6_host_vips_are_deprecated_unless_configured() {
        let mut vip = VirtualIpAddress::new("2001:db8::ff".parse().unwrap(), "lo");
        vip.prefix_len = 128;
        assert_eq!(ipv6_preferred_lft(&vip), Some(0));
        vip.preferred_lft = Some(INFINITY_LIFE_TIME);
        assert_eq!(ipv6_preferred_lft(&vip), None);
        vip.preferred_lft = None;
        vip.prefix_len = 64;
        assert_eq!(ipv6_preferred_lft(&vip), None);
        let v4 = VirtualIpAddress::new("192.0.2.1".parse().unwrap(), "lo");
        assert_eq!(ipv6_preferred_lft(&v4), None);
    }

    #[test]
    fn routes_carry_keepalived_protocol_and_universe_scope() {
        // keepalived `netlink_route`: RTPROT_KEEPALIVED unless configured,
        // RT_SCOPE_UNIVERSE unless configured (also without a gateway).
        let mut r = VirtualRoute::new(IpPrefix {
            addr: "198.51.100.0".parse().unwrap(),
            len: 24,
        });
        r.dev = Some("lo".into());
        let msg = Netlink::route_message(&r).expect("lo exists");
        assert_eq!(msg.header.protocol, RouteProtocol::from(RTPROT_KEEPALIVED));
        assert_eq!(msg.header.scope, RouteScope::Universe);
        r.protocol = Some(4);
        r.scope = Some(rkeepalived_config::model::Scope::Link);
        let msg = Netlink::route_message(&r).expect("lo exists");
        assert_eq!(msg.header.protocol, RouteProtocol::from(4));
        assert_eq!(msg.header.scope, RouteScope::Link);
    }

    #[test]
    fn address_message_peer_and_preferred_lft() {
        // keepalived netlink_ipaddress(): IFA_LOCAL = VIP, IFA_ADDRESS = peer.
        let mut p = VirtualIpAddress::new("192.0.2.101".parse().unwrap(), "lo");
        p.prefix_len = 32;
        p.peer = Some("192.0.2.201".parse().unwrap());
        let msg = Netlink::address_message(&p).expect("lo exists");
        let locals: Vec<_> = msg
            .attributes
            .iter()
            .filter_map(|a| match a {
                AddressAttribute::Local(x) => Some(*x),
                _ => None,
            })
            .collect();
        let addrs: Vec<_> = msg
            .attributes
            .iter()
            .filter_map(|a| match a {
                AddressAttribute::Address(x) => Some(*x),
                _ => None,
            })
            .collect();
        assert_eq!(locals, [p.addr]);
        assert_eq!(addrs, [p.peer.unwrap()]);
        let cache = |v: &VirtualIpAddress| {
            let msg = Netlink::address_message(v).expect("lo exists");
            let del = without_add_only_address_attrs(msg.clone());
            assert!(!del
                .attributes
                .iter()
                .any(|a| matches!(a, AddressAttribute::CacheInfo(_))));
            msg.attributes.iter().find_map(|a| match a {
                AddressAttribute::CacheInfo(c) => Some((c.ifa_preferred, c.ifa_valid)),
                _ => None,
            })
        };
        // IPv6 /128 defaults to 0 (deprecated), other prefixes to forever.
        let mut v6 = VirtualIpAddress::new("2001:db8::1".parse().unwrap(), "lo");
        v6.prefix_len = 128;
        assert_eq!(cache(&v6), Some((0, u32::MAX)));
        v6.prefix_len = 64;
        assert_eq!(cache(&v6), None);
        v6.preferred_lft = Some(120);
        assert_eq!(cache(&v6), Some((120, u32::MAX)));
        v6.prefix_len = 128;
        v6.preferred_lft = Some(u32::MAX);
        assert_eq!(cache(&v6), None, "forever");
        // IPv4: never (keepalived sends IFA_CACHEINFO for IPv6 only).
        let mut v4 = VirtualIpAddress::new("192.0.2.1".parse().unwrap(), "lo");
        v4.preferred_lft = Some(0);
        assert_eq!(cache(&v4), None);
    }

    #[test]
    fn route_message_metrics_multipath_and_protocol() {
        use rkeepalived_config::model::NextHop;
        let to = IpPrefix {
            addr: "198.51.100.0".parse().unwrap(),
            len: 24,
        };
        let mut r = VirtualRoute::new(to);
        r.via = Some("192.0.2.254".parse().unwrap());
        r.mtu = Some(1400);
        r.advmss = Some(1360);
        let msg = Netlink::route_message(&r).expect("builds");
        assert_eq!(msg.header.protocol, RouteProtocol::from(RTPROT_KEEPALIVED));
        assert!(msg.attributes.contains(&RouteAttribute::Metrics(vec![
            RouteMetric::Mtu(1400),
            RouteMetric::Advmss(1360)
        ])));
        r.protocol = Some(4);
        let msg = Netlink::route_message(&r).expect("builds");
        assert_eq!(msg.header.protocol, RouteProtocol::from(4));

        let mut mp = VirtualRoute::new(to);
        mp.nexthops = vec![
            NextHop {
                via: Some("192.0.2.253".parse().unwrap()),
                dev: Some("lo".into()),
                onlink: true,
                weight: Some(3),
            },
            NextHop {
                via: Some("192.0.2.254".parse().unwrap()),
                dev: None,
                onlink: false,
                weight: None,
            },
        ];
        let msg = Netlink::route_message(&mp).expect("builds");
        let hops = msg
            .attributes
            .iter()
            .find_map(|a| match a {
                RouteAttribute::MultiPath(h) => Some(h.clone()),
                _ => None,
            })
            .expect("RTA_MULTIPATH");
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[0].hops, 2, "weight 3 = rtnh_hops 2");
        assert!(hops[0].flags.contains(RouteNextHopFlags::Onlink));
        assert_eq!(Some(hops[0].interface_index), ifindex("lo"));
        assert_eq!(hops[1].hops, 0);
        assert_eq!(
            hops[1].attributes,
            [RouteAttribute::Gateway(RouteAddress::Inet(
                "192.0.2.254".parse().unwrap()
            ))]
        );
        mp.nexthops[1].dev = Some("no-such-if0".into());
        assert!(matches!(
            Netlink::route_message(&mp),
            Err(NetlinkError::LinkNotFound(_))
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_netlink_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&bytes) {
                if let NetlinkPayload::InnerMessage(inner) = msg.payload {
                    let _ = translate(&inner);
                }
            }
        }
    }
}
