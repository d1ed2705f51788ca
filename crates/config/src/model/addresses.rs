//! Addresses, routes and rules (`virtual_ipaddress`, `virtual_routes`,
//! `virtual_rules` and their `static_*` forms).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::*;

/// An entry of `virtual_ipaddress`, `virtual_ipaddress_excluded` or
/// `static_ipaddress`:
/// `IP[/PREFIX] [brd IP] [dev IF] [scope S] [label L] [peer IP] [home]
///  [-nodad] [mngtmpaddr] [noprefixroute] [autojoin] [no_track] [use_vmac]
///  [preferred_lft N|forever]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualIpAddress {
    pub addr: IpAddr,
    /// Default 32 (IPv4) / 128 (IPv6).
    pub prefix_len: u8,
    pub brd: Option<IpAddr>,
    /// Resolved: the instance's interface (static addresses: default_interface).
    pub dev: String,
    pub scope: Option<Scope>,
    pub label: Option<String>,
    /// `peer IP` (point-to-point peer address).
    pub peer: Option<IpAddr>,
    pub home: bool,
    pub nodad: bool,
    pub mngtmpaddr: bool,
    pub noprefixroute: bool,
    pub autojoin: bool,
    pub no_track: bool,
    pub use_vmac: bool,
    /// None = kernel default (forever); Some(0) is how IPv6 VIPs are deprecated.
    pub preferred_lft: Option<u32>,
}

impl VirtualIpAddress {
    pub fn new(addr: IpAddr, dev: impl Into<String>) -> Self {
        VirtualIpAddress {
            addr,
            prefix_len: if addr.is_ipv4() { 32 } else { 128 },
            brd: None,
            dev: dev.into(),
            scope: None,
            label: None,
            peer: None,
            home: false,
            nodad: false,
            mngtmpaddr: false,
            noprefixroute: false,
            autojoin: false,
            no_track: false,
            use_vmac: false,
            preferred_lft: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteType {
    Unicast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
    Local,
    Broadcast,
    Multicast,
}

/// One next hop (`via IP [dev IF] [onlink] [weight N]`); multiple next hops
/// are written `via A ... or via B ...` / `nexthop` in keepalived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextHop {
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub onlink: bool,
    /// 1..=255 as written (`weight N`, ip-route nexthop weight).
    pub weight: Option<u8>,
}

/// `virtual_routes { [src IP] [to] PREFIX [via|gw IP] [or IP] [dev IF] [table N]
///  [metric N] [scope S] [protocol N] [onlink] [mtu N] [no_track] ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualRoute {
    pub route_type: RouteType,
    pub to: IpPrefix,
    /// Source-specific routing (`from PREFIX`).
    pub from: Option<IpPrefix>,
    /// Preferred source address (`src IP`).
    pub src: Option<IpAddr>,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub onlink: bool,
    /// Extra next hops (`or IP` / `nexthop ...`), ECMP.
    pub nexthops: Vec<NextHop>,
    pub table: Option<u32>,
    pub metric: Option<u32>,
    pub scope: Option<Scope>,
    pub protocol: Option<u8>,
    pub tos: Option<u8>,
    pub mtu: Option<u32>,
    pub advmss: Option<u32>,
    pub no_track: bool,
}

impl VirtualRoute {
    pub fn new(to: IpPrefix) -> Self {
        VirtualRoute {
            route_type: RouteType::Unicast,
            to,
            from: None,
            src: None,
            via: None,
            dev: None,
            onlink: false,
            nexthops: Vec::new(),
            table: None,
            metric: None,
            scope: None,
            protocol: None,
            tos: None,
            mtu: None,
            advmss: None,
            no_track: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleAction {
    Table(u32),
    Goto(u32),
    Blackhole,
    Unreachable,
    Prohibit,
    Nop,
}

/// `virtual_rules { [from PREFIX] [to PREFIX] [table N] [priority N] ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualRule {
    /// Needed for `from all`-style rules without addresses; else from the addresses.
    pub family: AddressFamily,
    pub from: Option<IpPrefix>,
    pub to: Option<IpPrefix>,
    pub action: RuleAction,
    pub priority: Option<u32>,
    pub tos: Option<u8>,
    pub fwmark: Option<u32>,
    pub fwmask: Option<u32>,
    pub iif: Option<String>,
    pub oif: Option<String>,
    pub no_track: bool,
    pub invert: bool,
}

impl VirtualRule {
    pub fn new(family: AddressFamily, action: RuleAction) -> Self {
        VirtualRule {
            family,
            from: None,
            to: None,
            action,
            priority: None,
            tos: None,
            fwmark: None,
            fwmask: None,
            iif: None,
            oif: None,
            no_track: false,
            invert: false,
        }
    }
}
