//! VIPs, virtual routes and rules via rtnetlink, plus the link/address event
//! watch that restores VIPs removed behind our back and feeds
//! track_interface state into the instances.

use std::net::{IpAddr, Ipv4Addr};

use futures::{StreamExt, TryStreamExt};
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{RouteMessage, RouteScope};
use netlink_packet_route::rule::{RuleAction, RuleMessage};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::{Handle, MulticastGroup, RouteMessageBuilder};
use tokio::sync::mpsc;

use crate::error::NetlinkError;

/// One address to own while Master (virtual_ipaddress / _excluded line).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VipSpec {
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub broadcast: Option<Ipv4Addr>,
    pub ifname: String,
    pub scope: Option<u8>,
    pub label: Option<String>,
}

impl std::fmt::Display for VipSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} dev {}", self.addr, self.prefix_len, self.ifname)
    }
}

/// One virtual_routes line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteSpec {
    pub dst: IpAddr,
    pub prefix_len: u8,
    pub gateway: Option<IpAddr>,
    pub src: Option<IpAddr>,
    pub ifname: Option<String>,
    pub table: Option<u32>,
    pub metric: Option<u32>,
    pub scope: Option<u8>,
}

/// One virtual_rules line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleSpec {
    pub v6: bool,
    pub from: Option<(IpAddr, u8)>,
    pub to: Option<(IpAddr, u8)>,
    pub table: u32,
    pub priority: Option<u32>,
    pub fwmark: Option<u32>,
}

/// Kernel events the engine cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
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

    fn address_message(vip: &VipSpec) -> Result<AddressMessage, NetlinkError> {
        let index = Self::index_of(&vip.ifname)?;
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
        if let Some(brd) = vip.broadcast {
            msg.attributes
                .retain(|a| !matches!(a, AddressAttribute::Broadcast(_)));
            msg.attributes.push(AddressAttribute::Broadcast(brd));
        }
        if let Some(scope) = vip.scope {
            msg.header.scope = AddressScope::from(scope);
        }
        if let Some(label) = &vip.label {
            msg.attributes.push(AddressAttribute::Label(label.clone()));
        }
        if vip.addr.is_ipv6() {
            // keepalived adds VIPs without DAD so that NAs can use them at once.
            msg.attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
        }
        Ok(msg)
    }

    /// `ip addr add`; an already present address is not an error.
    pub async fn add_address(&self, vip: &VipSpec) -> Result<(), NetlinkError> {
        let msg = Self::address_message(vip)?;
        let index = msg.header.index;
        let mut req = self.handle.address().add(index, vip.addr, vip.prefix_len);
        *req.message_mut() = msg;
        tolerate(
            req.execute()
                .await
                .map_err(request_err("add address", vip.to_string())),
            &[EEXIST],
        )
    }

    /// `ip addr del`; an already absent address is not an error.
    pub async fn del_address(&self, vip: &VipSpec) -> Result<(), NetlinkError> {
        let msg = match Self::address_message(vip) {
            // Interface gone: so is the address.
            Err(NetlinkError::LinkNotFound(_)) => return Ok(()),
            other => other?,
        };
        let r = self
            .handle
            .address()
            .del(msg)
            .execute()
            .await
            .map_err(request_err("delete address", vip.to_string()));
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

    fn route_message(r: &RouteSpec) -> Result<RouteMessage, NetlinkError> {
        let target = format!("{}/{}", r.dst, r.prefix_len);
        let bad = |e: String| NetlinkError::Request {
            op: "build route",
            target: target.clone(),
            source: rtnetlink::Error::InvalidNla(e),
        };
        let mut b = RouteMessageBuilder::<IpAddr>::new()
            .destination_prefix(r.dst, r.prefix_len)
            .map_err(|e| bad(e.to_string()))?;
        if let Some(gw) = r.gateway {
            b = b.gateway(gw).map_err(|e| bad(e.to_string()))?;
        }
        if let Some(src) = r.src {
            b = b.pref_source(src).map_err(|e| bad(e.to_string()))?;
        }
        if let Some(dev) = &r.ifname {
            b = b.output_interface(Self::index_of(dev)?);
        }
        if let Some(t) = r.table {
            b = b.table_id(t);
        }
        if let Some(m) = r.metric {
            b = b.priority(m);
        }
        match r.scope {
            Some(s) => b = b.scope(RouteScope::from(s)),
            None if r.gateway.is_none() && r.ifname.is_some() => b = b.scope(RouteScope::Link),
            None => {}
        }
        Ok(b.build())
    }

    pub async fn add_route(&self, r: &RouteSpec) -> Result<(), NetlinkError> {
        let msg = Self::route_message(r)?;
        let res = self.handle.route().add(msg).execute().await;
        tolerate(
            res.map_err(request_err(
                "add route",
                format!("{}/{}", r.dst, r.prefix_len),
            )),
            &[EEXIST],
        )
    }

    pub async fn del_route(&self, r: &RouteSpec) -> Result<(), NetlinkError> {
        let msg = match Self::route_message(r) {
            Err(NetlinkError::LinkNotFound(_)) => return Ok(()),
            other => other?,
        };
        let res = self.handle.route().del(msg).execute().await;
        tolerate(
            res.map_err(request_err(
                "delete route",
                format!("{}/{}", r.dst, r.prefix_len),
            )),
            &[ESRCH, ENOENT],
        )
    }

    fn rule_message(&self, r: &RuleSpec) -> RuleMessage {
        let mut req = self
            .handle
            .rule()
            .add()
            .table_id(r.table)
            .action(RuleAction::ToTable);
        if let Some(p) = r.priority {
            req = req.priority(p);
        }
        if let Some(m) = r.fwmark {
            req = req.fw_mark(m);
        }
        let mut msg = if r.v6 {
            let mut q = req.v6();
            if let Some((IpAddr::V6(a), l)) = r.from {
                q = q.source_prefix(a, l);
            }
            if let Some((IpAddr::V6(a), l)) = r.to {
                q = q.destination_prefix(a, l);
            }
            q.message_mut().clone()
        } else {
            let mut q = req.v4();
            if let Some((IpAddr::V4(a), l)) = r.from {
                q = q.source_prefix(a, l);
            }
            if let Some((IpAddr::V4(a), l)) = r.to {
                q = q.destination_prefix(a, l);
            }
            q.message_mut().clone()
        };
        msg.header.action = RuleAction::ToTable;
        msg
    }

    pub async fn add_rule(&self, r: &RuleSpec) -> Result<(), NetlinkError> {
        let msg = self.rule_message(r);
        let mut req = self.handle.rule().add();
        *req.message_mut() = msg;
        tolerate(
            req.execute()
                .await
                .map_err(request_err("add rule", format!("table {}", r.table))),
            &[EEXIST],
        )
    }

    pub async fn del_rule(&self, r: &RuleSpec) -> Result<(), NetlinkError> {
        let msg = self.rule_message(r);
        let res = self.handle.rule().del(msg).execute().await;
        tolerate(
            res.map_err(request_err("delete rule", format!("table {}", r.table))),
            &[ENOENT, ESRCH],
        )
    }

    /// Create a macvlan VMAC interface (RFC 5798 §7.3 virtual router MAC)
    /// on `base`, or reuse an existing one of that name.
    pub async fn add_vmac(
        &self,
        name: &str,
        base: &str,
        mac: [u8; 6],
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
        .up()
        .build();
        let r = self
            .handle
            .link()
            .add(msg)
            .execute()
            .await
            .map_err(request_err("add vmac", name.to_string()));
        tolerate(r, &[EEXIST])?;
        Self::index_of(name)
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

/// Subscribe to link and address notifications (like `ip monitor link address`).
/// Events flow into `tx` until the receiver is dropped.
pub fn watch(tx: mpsc::Sender<NetEvent>) -> Result<tokio::task::JoinHandle<()>, NetlinkError> {
    let groups = [
        MulticastGroup::Link,
        MulticastGroup::Ipv4Ifaddr,
        MulticastGroup::Ipv6Ifaddr,
    ];
    let (conn, _handle, mut messages) =
        rtnetlink::new_multicast_connection(&groups).map_err(NetlinkError::Connect)?;
    tokio::spawn(conn);
    Ok(tokio::spawn(async move {
        while let Some((msg, _)) = messages.next().await {
            if let NetlinkPayload::InnerMessage(inner) = msg.payload {
                if let Some(ev) = translate(&inner) {
                    if tx.send(ev).await.is_err() {
                        return;
                    }
                }
            }
        }
    }))
}
