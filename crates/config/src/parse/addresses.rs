//! Addresses: `virtual_ipaddress[_excluded]` entries, `static_ipaddress`,
//! and the address ranges they (and virtual_server_group) accept.

use std::net::IpAddr;

use super::{fixup, Parser};
use crate::diag::{Diagnostic, Pos};
use crate::model::*;
use crate::tree::Node;
use crate::values::{scope, PResult};

impl Parser {
    /// A block of VIP lines; each after keepalived's address fix-ups.
    /// `static_addr`: a `static_ipaddress` block (no `use_vmac`).
    pub(super) fn vip_block(
        &mut self,
        n: &Node,
        default_dev: &str,
        static_addr: bool,
    ) -> PResult<Vec<VirtualIpAddress>> {
        let mut out = Vec::new();
        for k in n.require_block()? {
            let list = vip(k, default_dev, static_addr, &mut self.warnings);
            out.extend(
                list.into_iter()
                    .filter_map(|a| fixup::vip_address(a, k, &mut self.warnings)),
            );
        }
        Ok(out)
    }

    pub(super) fn static_ipaddress(&mut self, n: &Node) -> PResult<()> {
        let dev = self.cfg.global_defs.default_interface.clone();
        let list = self.vip_block(n, &dev, true)?;
        self.cfg.static_ipaddresses.extend(list);
        Ok(())
    }
}

/// One `virtual_ipaddress` line, read as keepalived's
/// vrrp/vrrp_ipaddress.c `alloc_ipaddress()` reads it: whatever keepalived
/// cannot use is skipped (the whole address, or one option) with a warning
/// saying so.
fn vip(
    k: &Node,
    default_dev: &str,
    static_addr: bool,
    warnings: &mut Vec<Diagnostic>,
) -> Vec<VirtualIpAddress> {
    let t = &k.name;
    let ctx = if static_addr {
        "static_ipaddress"
    } else {
        "virtual_ipaddress"
    };
    let skip = |warnings: &mut Vec<Diagnostic>, pos: &Pos, why: String| {
        warnings.push(pos.warning(format!(
            "{ctx}: {why}; skipping address '{}' (as keepalived does)",
            t.text
        )));
        Vec::new()
    };
    let (addr_part, len_part) = match t.text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (t.text.as_str(), None),
    };
    // keepalived 2.2.7 reads one address (inet_pton): no ranges here.
    let Ok(first) = addr_part.parse::<IpAddr>() else {
        let why = if range_bounds(addr_part).is_some() {
            " (keepalived 2.2.7 has no address ranges in virtual_ipaddress)"
        } else {
            ""
        };
        return skip(
            warnings,
            &t.pos,
            format!("VRRP parsed invalid IP {}{why}", t.text),
        );
    };
    let max: u8 = if first.is_ipv4() { 32 } else { 128 };
    let prefix_len = match len_part {
        Some(l) => fixup::vip_prefix_len(ctx, t, l, max, warnings),
        None => max,
    };
    let mut base = VirtualIpAddress::new(first, default_dev);
    base.prefix_len = prefix_len;
    let mut dev_set = false;
    let mut brd_rel: Option<bool> = None;
    let mut i = 0;
    let a = &k.args;
    while i < a.len() {
        let opt = a[i].text.as_str();
        let takes_value = matches!(
            opt,
            "dev" | "scope" | "brd" | "broadcast" | "label" | "peer" | "preferred_lft"
        ) || (static_addr && opt == "track_group");
        let value = if takes_value {
            match a.get(i + 1) {
                Some(v) => v,
                None => {
                    return skip(
                        warnings,
                        &a[i].pos,
                        format!("No {opt} parameter specified for {}", t.text),
                    )
                }
            }
        } else {
            &a[i]
        };
        match opt {
            "dev" => {
                if dev_set {
                    return skip(
                        warnings,
                        &a[i].pos,
                        format!("Cannot specify ipaddress device more than once for {}", t.text),
                    );
                }
                dev_set = true;
                base.dev = value.text.clone();
            }
            "scope" => match scope(value, "scope") {
                Ok(sc) => base.scope = Some(sc),
                Err(_) => warnings.push(value.pos.warning(format!(
                    "{ctx}: Invalid scope '{}' specified for {} - ignoring (as keepalived does)",
                    value.text, t.text
                ))),
            },
            "brd" | "broadcast" => match value.text.as_str() {
                // IPv6 with brd: the address is skipped by fixup::vip_address.
                _ if first.is_ipv6() => base.brd = Some(first),
                "+" => brd_rel = Some(true),
                "-" => brd_rel = Some(false),
                b => match b.parse::<std::net::Ipv4Addr>() {
                    Ok(b4) => base.brd = Some(IpAddr::V4(b4)),
                    Err(_) => {
                        return skip(
                            warnings,
                            &value.pos,
                            format!("VRRP is trying to assign invalid broadcast {b}"),
                        )
                    }
                },
            },
            "label" => {
                if value.text.len() >= 16 {
                    return skip(
                        warnings,
                        &value.pos,
                        format!(
                            "Address label {} is longer than maximum length 15",
                            value.text
                        ),
                    );
                }
                base.label = Some(value.text.clone());
            }
            "peer" => fixup::vip_peer(ctx, &mut base, value, warnings),
            "preferred_lft" => {
                if value.text == "forever" {
                    base.preferred_lft = Some(u32::MAX);
                } else {
                    match fixup::ka_read_unsigned(&value.text, 0, u32::MAX.into(), true) {
                        Some((v, _)) => base.preferred_lft = u32::try_from(v).ok(),
                        None => warnings.push(value.pos.warning(format!(
                            "{ctx}: preferred_lft {} is invalid; ignoring it (as keepalived does)",
                            value.text
                        ))),
                    }
                }
            }
            "track_group" => warnings.push(a[i].pos.warning(
                "static_ipaddress: track_group (static_track_group) is not supported by rkeepalived; ignored",
            )),
            "home" => base.home = true,
            "-nodad" => base.nodad = true,
            "mngtmpaddr" => base.mngtmpaddr = true,
            "noprefixroute" => base.noprefixroute = true,
            "autojoin" => base.autojoin = true,
            "no_track" => base.no_track = true,
            "use_vmac" if !static_addr => base.use_vmac = true,
            _ => warnings.push(a[i].pos.warning(format!(
                "{ctx}: Unknown configuration entry '{opt}' for ip address - ignoring (as keepalived does)"
            ))),
        }
        i += if takes_value { 2 } else { 1 };
    }
    if let Some(plus) = brd_rel {
        fixup::vip_relative_brd(ctx, &mut base, plus, k, warnings);
    }
    vec![base]
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
