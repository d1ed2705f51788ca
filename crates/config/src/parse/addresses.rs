//! Addresses: `virtual_ipaddress[_excluded]` entries, `static_ipaddress`,
//! and the address ranges they (and virtual_server_group) accept.

use std::net::IpAddr;

use super::{fixup, Parser};
use crate::lexer::Token;
use crate::model::*;
use crate::tree::Node;
use crate::values::{int, ip, scope, PResult};

impl Parser {
    /// A block of VIP lines; each after keepalived's address fix-ups.
    pub(super) fn vip_block(
        &mut self,
        n: &Node,
        default_dev: &str,
    ) -> PResult<Vec<VirtualIpAddress>> {
        let mut out = Vec::new();
        for k in n.require_block()? {
            match vip(k, default_dev) {
                Ok(list) => out.extend(
                    list.into_iter()
                        .filter_map(|a| fixup::vip_address(a, k, &mut self.warnings)),
                ),
                Err(e) => self.errors.push(e),
            }
        }
        Ok(out)
    }

    pub(super) fn static_ipaddress(&mut self, n: &Node) -> PResult<()> {
        let dev = self.cfg.global_defs.default_interface.clone();
        let list = self.vip_block(n, &dev)?;
        self.cfg.static_ipaddresses.extend(list);
        Ok(())
    }
}

/// One `virtual_ipaddress` line. Ranges (`192.0.2.10-12/24`) expand.
fn vip(k: &Node, default_dev: &str) -> PResult<Vec<VirtualIpAddress>> {
    let t = &k.name;
    let (addr_part, len_part) = match t.text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (t.text.as_str(), None),
    };
    let addrs = expand_range(addr_part).ok_or_else(|| {
        t.pos.error(format!(
            "virtual_ipaddress: invalid address '{}' (expected IP[/PREFIX])",
            t.text
        ))
    })?;
    let first = addrs[0];
    let max = if first.is_ipv4() { 32 } else { 128 };
    let prefix_len = match len_part {
        Some(l) => l.parse::<u8>().ok().filter(|v| *v <= max).ok_or_else(|| {
            t.pos.error(format!(
                "virtual_ipaddress: invalid prefix length '/{l}' (expected 0..{max})"
            ))
        })?,
        None => max,
    };
    let mut base = VirtualIpAddress::new(first, default_dev);
    base.prefix_len = prefix_len;
    let mut i = 0;
    let a = &k.args;
    while i < a.len() {
        let opt = a[i].text.as_str();
        let value = |j: usize| -> PResult<&Token> {
            a.get(j).ok_or_else(|| {
                a[i].pos
                    .error(format!("virtual_ipaddress: '{opt}' needs a value"))
            })
        };
        match opt {
            "brd" | "broadcast" => {
                base.brd = Some(ip(value(i + 1)?, "brd")?);
                i += 1;
            }
            "dev" => {
                base.dev = value(i + 1)?.text.clone();
                i += 1;
            }
            "scope" => {
                base.scope = Some(scope(value(i + 1)?, "scope")?);
                i += 1;
            }
            "label" => {
                base.label = Some(value(i + 1)?.text.clone());
                i += 1;
            }
            "peer" => {
                base.peer = Some(ip(value(i + 1)?, "peer")?);
                i += 1;
            }
            "preferred_lft" => {
                let v = value(i + 1)?;
                base.preferred_lft = Some(if v.text == "forever" {
                    u32::MAX
                } else {
                    int(v, 0, i64::from(u32::MAX), "preferred_lft")?
                });
                i += 1;
            }
            "home" => base.home = true,
            "-nodad" | "nodad" => base.nodad = true,
            "mngtmpaddr" => base.mngtmpaddr = true,
            "noprefixroute" => base.noprefixroute = true,
            "autojoin" => base.autojoin = true,
            "no_track" => base.no_track = true,
            "use_vmac" => base.use_vmac = true,
            _ => {
                return Err(a[i].pos.error(format!(
                    "virtual_ipaddress: unknown option '{opt}' (expected brd|dev|scope|label|peer|home|-nodad|mngtmpaddr|noprefixroute|autojoin|no_track|use_vmac|preferred_lft)"
                )))
            }
        }
        i += 1;
    }
    for (what, other) in [("brd", base.brd), ("peer", base.peer)] {
        if let Some(b) = other {
            if b.is_ipv4() != first.is_ipv4() {
                return Err(k.pos().error(format!(
                    "virtual_ipaddress: {what} address family differs from the address"
                )));
            }
        }
    }
    Ok(addrs
        .into_iter()
        .map(|addr| VirtualIpAddress {
            addr,
            ..base.clone()
        })
        .collect())
}

/// `A`, `A-N` (last octet / last IPv6 group), or `A-B`.
fn expand_range(s: &str) -> Option<Vec<IpAddr>> {
    let (first, last) = range_bounds(s)?;
    let mut out = Vec::new();
    let mut cur = first;
    loop {
        out.push(cur);
        if cur == last || out.len() > 65536 {
            break;
        }
        cur = next_ip(cur)?;
    }
    Some(out)
}

/// Bounds of `A`, `A-N` or `A-B` (inclusive). None if malformed or last < first.
pub(super) fn range_bounds(s: &str) -> Option<(IpAddr, IpAddr)> {
    let Some((a, b)) = s.split_once('-') else {
        let ip: IpAddr = s.parse().ok()?;
        return Some((ip, ip));
    };
    let first: IpAddr = a.parse().ok()?;
    let last: IpAddr = match b.parse::<IpAddr>() {
        Ok(full) => full,
        Err(_) => match first {
            IpAddr::V4(v4) => {
                let n: u8 = b.parse().ok()?;
                let mut o = v4.octets();
                o[3] = n;
                IpAddr::from(o)
            }
            IpAddr::V6(v6) => {
                let n = u16::from_str_radix(b, 16).ok()?;
                let mut seg = v6.segments();
                seg[7] = n;
                IpAddr::from(seg)
            }
        },
    };
    if first.is_ipv4() != last.is_ipv4() || ip_to_u128(last) < ip_to_u128(first) {
        return None;
    }
    Some((first, last))
}

pub(super) fn ip_to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

fn next_ip(a: IpAddr) -> Option<IpAddr> {
    match a {
        IpAddr::V4(v) => u32::from(v)
            .checked_add(1)
            .map(|n| IpAddr::from(std::net::Ipv4Addr::from(n))),
        IpAddr::V6(v) => u128::from(v)
            .checked_add(1)
            .map(|n| IpAddr::from(std::net::Ipv6Addr::from(n))),
    }
}
