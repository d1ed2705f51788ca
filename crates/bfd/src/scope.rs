//! IPv6 link-local sessions: which interface a `fe80::/10` neighbor or
//! source address lives on.
//!
//! keepalived 2.2.7's `inet_stosockaddr()` (lib/utils.c) parses
//! `neighbor_ip` / `source_ip` with `inet_pton()`, so a `%scope` suffix is
//! "malformed" and a link-local address reaches the sockets with no scope
//! id: `bfd_open_fd_out()` fails with `bind() error (No such device)` for
//! a link-local `source_ip` (AdminDown), and `bfd_send_packet()` with
//! `sendto() error (Network is unreachable)` for a link-local neighbor
//! without one. The configuration language has no interface keyword, so
//! we take the interface from the addresses the kernel has, whenever the
//! session's sockets are opened (start, reload, the AdminDown retry):
//!
//! 1. a link-local `source_ip`: the one interface holding that address;
//! 2. else a link-local neighbor: the one interface that is up, not
//!    loopback, and has an IPv6 link-local address;
//! 3. otherwise (none, or more than one) the session cannot be opened and
//!    goes AdminDown with the reason, retried as any socket error is.
//!
//! [`pick_scope`] is the pure rule; [`resolve_scope`] feeds it the
//! kernel's addresses (`getifaddrs()`).

use std::net::{IpAddr, Ipv6Addr};

/// Why a link-local session has no interface.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("link-local source address {0} is on no interface")]
    SourceNotFound(Ipv6Addr),
    #[error("link-local source address {0} is on several interfaces ({1})")]
    SourceAmbiguous(Ipv6Addr, String),
    #[error(
        "no interface with an IPv6 link-local address for neighbor {0}; set a link-local source_ip"
    )]
    NoInterface(Ipv6Addr),
    #[error(
        "link-local neighbor {0} could be on several interfaces ({1}); set a link-local source_ip"
    )]
    NeighborAmbiguous(Ipv6Addr, String),
    #[error("getifaddrs() error ({0})")]
    Getifaddrs(String),
}

/// One IPv6 address of one interface, as `getifaddrs()` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    pub ifname: String,
    pub ifindex: u32,
    pub addr: Ipv6Addr,
    /// IFF_UP and not IFF_LOOPBACK.
    pub usable: bool,
}

/// RFC 4291 §2.5.6: fe80::/10.
pub fn is_link_local(a: IpAddr) -> bool {
    match a {
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
        IpAddr::V4(_) => false,
    }
}

/// Whether the session needs a scope id: its neighbor or its source is
/// link-local.
pub fn needs_scope(neighbor: IpAddr, source: Option<IpAddr>) -> bool {
    is_link_local(neighbor) || source.is_some_and(is_link_local)
}

/// The interface index a session's link-local addresses use (`None`: the
/// session needs none), by the rules in the module documentation.
pub fn pick_scope(
    neighbor: IpAddr,
    source: Option<IpAddr>,
    addrs: &[IfAddr],
) -> Result<Option<u32>, ScopeError> {
    if let Some(IpAddr::V6(src)) = source.filter(|s| is_link_local(*s)) {
        let mut found: Vec<&IfAddr> = addrs.iter().filter(|a| a.addr == src).collect();
        found.sort_by_key(|a| a.ifindex);
        found.dedup_by_key(|a| a.ifindex);
        return match found.as_slice() {
            [] => Err(ScopeError::SourceNotFound(src)),
            [one] => Ok(Some(one.ifindex)),
            many => Err(ScopeError::SourceAmbiguous(src, names(many))),
        };
    }
    let IpAddr::V6(nbr) = neighbor else {
        return Ok(None);
    };
    if !is_link_local(neighbor) {
        return Ok(None);
    }
    let mut found: Vec<&IfAddr> = addrs
        .iter()
        .filter(|a| a.usable && is_link_local(IpAddr::V6(a.addr)))
        .collect();
    found.sort_by_key(|a| a.ifindex);
    found.dedup_by_key(|a| a.ifindex);
    match found.as_slice() {
        [] => Err(ScopeError::NoInterface(nbr)),
        [one] => Ok(Some(one.ifindex)),
        many => Err(ScopeError::NeighborAmbiguous(nbr, names(many))),
    }
}

fn names(a: &[&IfAddr]) -> String {
    a.iter()
        .map(|a| a.ifname.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`pick_scope`] over the current namespace's addresses; `Ok(None)`
/// without asking the kernel when the session has no link-local address.
pub fn resolve_scope(neighbor: IpAddr, source: Option<IpAddr>) -> Result<Option<u32>, ScopeError> {
    if !needs_scope(neighbor, source) {
        return Ok(None);
    }
    pick_scope(neighbor, source, &interface_addrs()?)
}

/// Every IPv6 address of every interface (`getifaddrs()`); the scope id
/// the kernel reports with a link-local address is its interface index.
pub fn interface_addrs() -> Result<Vec<IfAddr>, ScopeError> {
    use nix::net::if_::InterfaceFlags;
    let ifs = nix::ifaddrs::getifaddrs().map_err(|e| ScopeError::Getifaddrs(e.to_string()))?;
    let mut out = vec![];
    for i in ifs {
        let Some(sin6) = i.address.as_ref().and_then(|a| a.as_sockaddr_in6()) else {
            continue;
        };
        let ifindex = match sin6.scope_id() {
            0 => nix::net::if_::if_nametoindex(i.interface_name.as_str()).unwrap_or(0),
            s => s,
        };
        if ifindex == 0 {
            continue;
        }
        out.push(IfAddr {
            ifname: i.interface_name.clone(),
            ifindex,
            addr: sin6.ip(),
            usable: i.flags.contains(InterfaceFlags::IFF_UP)
                && !i.flags.contains(InterfaceFlags::IFF_LOOPBACK),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(ifname: &str, ifindex: u32, addr: &str, usable: bool) -> IfAddr {
        IfAddr {
            ifname: ifname.into(),
            ifindex,
            addr: addr.parse().expect("addr"),
            usable,
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("addr")
    }

    fn table() -> Vec<IfAddr> {
        vec![
            a("lo", 1, "::1", false),
            a("eth0", 2, "fe80::a", true),
            a("eth0", 2, "2001:db8::1", true),
            a("eth1", 3, "fe80::1:a", true),
            a("down0", 4, "fe80::4", false),
        ]
    }

    #[test]
    fn link_local_is_fe80_slash_10() {
        assert!(is_link_local(ip("fe80::1")));
        assert!(is_link_local(ip("febf::1")));
        assert!(!is_link_local(ip("fec0::1")));
        assert!(!is_link_local(ip("2001:db8::1")));
        assert!(!is_link_local(ip("169.254.0.1")));
    }

    #[test]
    fn global_sessions_need_no_scope() {
        assert_eq!(
            pick_scope(ip("2001:db8::2"), Some(ip("2001:db8::1")), &table()),
            Ok(None)
        );
        assert_eq!(pick_scope(ip("192.0.2.2"), None, &[]), Ok(None));
        assert_eq!(resolve_scope(ip("192.0.2.2"), None), Ok(None));
    }

    #[test]
    fn link_local_source_picks_its_interface() {
        assert_eq!(
            pick_scope(ip("fe80::b"), Some(ip("fe80::1:a")), &table()),
            Ok(Some(3))
        );
        // Even if the interface is down: the bind then fails as it would.
        assert_eq!(
            pick_scope(ip("fe80::b"), Some(ip("fe80::4")), &table()),
            Ok(Some(4))
        );
        assert_eq!(
            pick_scope(ip("fe80::b"), Some(ip("fe80::99")), &table()),
            Err(ScopeError::SourceNotFound("fe80::99".parse().expect("a")))
        );
        let mut t = table();
        t.push(a("eth2", 5, "fe80::a", true));
        assert_eq!(
            pick_scope(ip("fe80::b"), Some(ip("fe80::a")), &t),
            Err(ScopeError::SourceAmbiguous(
                "fe80::a".parse().expect("a"),
                "eth0, eth2".into()
            ))
        );
    }

    #[test]
    fn link_local_neighbor_without_source_needs_one_candidate() {
        assert_eq!(
            pick_scope(ip("fe80::b"), None, &table()),
            Err(ScopeError::NeighborAmbiguous(
                "fe80::b".parse().expect("a"),
                "eth0, eth1".into()
            ))
        );
        let one: Vec<IfAddr> = table().into_iter().filter(|a| a.ifindex != 3).collect();
        assert_eq!(pick_scope(ip("fe80::b"), None, &one), Ok(Some(2)));
        // A global source does not name the link either.
        assert_eq!(
            pick_scope(ip("fe80::b"), Some(ip("2001:db8::1")), &one),
            Ok(Some(2))
        );
        assert_eq!(
            pick_scope(ip("fe80::b"), None, &[a("lo", 1, "::1", false)]),
            Err(ScopeError::NoInterface("fe80::b".parse().expect("a")))
        );
    }
}
