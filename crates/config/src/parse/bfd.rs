//! `bfd_instance NAME { ... }`, `track_bfd { ... }` (vrrp_instance,
//! vrrp_sync_group) and the `name` of `BFD_CHECK`.
//!
//! keepalived 2.2.7 reads a `bfd_instance` in each of its processes
//! (bfd/bfd_parser.c `init_bfd_keywords()`, see [`crate::model::BfdInstance`]);
//! the model holds the union: the session as the BFD process reads it
//! (`bfd_*_handler()`, `bfd_end_handler()`), the name, default weight and
//! event routing as the VRRP and checker processes read them
//! (`bfd_vrrp_handler()`, `bfd_vrrp_weight_handler()`,
//! `bfd_checker_handler()`). Every message is keepalived's own wording,
//! followed by "(as keepalived does)"; values keepalived refuses leave the
//! previous value (or the default) in place, as its handlers do.
//!
//! References are resolved as keepalived resolves them: while the file is
//! read, so a `bfd_instance` must come before the `track_bfd` or
//! `BFD_CHECK` naming it.

use std::net::IpAddr;

use super::lvs_read::{self, Read};
use super::{origin, Block, Parser};
use crate::diag::Pos;
use crate::model::*;
use crate::tree::Node;
use crate::values::{keepalived_decimal, KeepalivedNumber, PResult};

/// What the parser remembers between `bfd_instance` blocks.
#[derive(Debug, Default)]
pub(crate) struct BfdState {
    /// Names refused as too long: keepalived's checker process still knows
    /// them, and `BFD_CHECK` then says "BFD name %s too long".
    long_names: Vec<String>,
    /// keepalived's `neighbor_str`: "neighbour" once a `neighbor_ip` line
    /// had the *value* `neighbour_ip` (bfd_parser.c `bfd_nbrip_handler()`
    /// compares the address, not the keyword; the word then sticks for the
    /// rest of the load).
    neighbour: bool,
}

impl BfdState {
    fn neighbor_word(&self) -> &'static str {
        if self.neighbour {
            "neighbour"
        } else {
            "neighbor"
        }
    }
}

struct BfdBuilder {
    name: String,
    pos: Pos,
    neighbor: Option<IpAddr>,
    source: Option<IpAddr>,
    min_rx_us: u32,
    min_tx_us: u32,
    idle_tx_us: u32,
    multiplier: u8,
    passive: bool,
    ttl: Option<u8>,
    /// keepalived keeps it in a `uint8_t`: `-1` is 255 (no TTL check).
    max_hops: u8,
    weight: i32,
    reverse: bool,
    /// `vrrp` / `checker` written in the block (`specified_event_processes`).
    said_vrrp: bool,
    said_checker: bool,
    /// The BFD process disabled the instance at a malformed neighbor and
    /// skipped the rest of the block (`skip_block(false)`); the VRRP and
    /// checker processes go on reading it.
    disabled: bool,
}

/// The warning for a line keepalived reports and ignores.
fn ka(msg: String) -> String {
    format!("{msg} (as keepalived does)")
}

impl BfdBuilder {
    fn new(name: String, pos: Pos) -> Self {
        BfdBuilder {
            name,
            pos,
            neighbor: None,
            source: None,
            min_rx_us: bfd_defaults::MIN_RX_US,
            min_tx_us: bfd_defaults::MIN_TX_US,
            idle_tx_us: bfd_defaults::IDLE_TX_US,
            multiplier: bfd_defaults::MULTIPLIER,
            passive: false,
            ttl: None,
            max_hops: 0,
            weight: 0,
            reverse: false,
            said_vrrp: false,
            said_checker: false,
            disabled: false,
        }
    }

    /// `min_rx`, `min_tx`, `idle_tx`: milliseconds with up to 3 decimals,
    /// kept in microseconds (`read_decimal_unsigned_strvec(..., 3, false)`):
    /// more decimals are rounded ("has too many decimal places") and used;
    /// anything else that is not a clean number in range ignores the line.
    /// keepalived: bfd_parser.c `bfd_minrx_handler()`, `bfd_mintx_handler()`,
    /// `bfd_idletx_handler()`.
    fn interval(&self, p: &mut Parser, k: &Node, min_ms: u32) -> PResult<Option<u32>> {
        let t = k.arg(0, "an interval in milliseconds")?;
        let text = t.text.as_str();
        let what = k.key();
        let max_ms = bfd_defaults::INTERVAL_MAX_MS;
        let read = keepalived_decimal(text, u64::from(min_ms) * 1000, u64::from(max_ms) * 1000, 3);
        let value = match read {
            KeepalivedNumber::Exact(v) => u32::try_from(v).ok(),
            KeepalivedNumber::Prefix(_) | KeepalivedNumber::Rejected => None,
        };
        let Some(us) = value else {
            p.warnings.push(t.pos.warning(ka(format!(
                "Configuration error: BFD instance {} {what} value {text} is not valid (must be in range [{min_ms}-{max_ms}]), ignoring",
                self.name
            ))));
            return Ok(None);
        };
        if text
            .split_once('.')
            .is_some_and(|(_, frac)| frac.chars().count() > 3)
        {
            p.warnings.push(t.pos.warning(ka(format!(
                "number '{text}' has too many decimal places; using {} ms",
                fmt_ms(us)
            ))));
        }
        if us > bfd_defaults::INTERVAL_MAX_SENSIBLE_MS * 1000 {
            p.warnings.push(t.pos.warning(format!(
                "Configuration warning: BFD instance {} {what} value {text} is larger than max sensible ({}) (keepalived warns too)",
                self.name,
                bfd_defaults::INTERVAL_MAX_SENSIBLE_MS
            )));
        }
        Ok(Some(us))
    }

    /// `neighbor_ip` / `neighbour_ip` of a `bfd_instance`.
    fn neighbor_ip(&mut self, p: &mut Parser, k: &Node, name: &str) -> PResult<()> {
        let t = k.arg(0, "an IP address")?;
        if t.text == "neighbour_ip" {
            p.bfd.neighbour = true;
        }
        match lvs_read::sockaddr(&t.text, None) {
            Read::Ok((a, _)) | Read::Lenient((a, _), _) => self.neighbor = Some(a),
            Read::Bad(_) => {
                p.warnings.push(t.pos.warning(ka(format!(
                    "Configuration error: BFD instance {name} has malformed {} address {}, ignoring instance",
                    p.bfd.neighbor_word(),
                    t.text
                ))));
                self.disabled = true;
            }
        }
        Ok(())
    }

    /// `weight [reverse]` of a `bfd_instance`.
    fn weight(&mut self, p: &mut Parser, k: &Node, name: &str) -> PResult<()> {
        let t = k.arg(0, "a number -253..253")?;
        let bad = || {
            format!(
                "Configuration error: BFD instance {name} weight value {} not valid (must be in range [{}-{}]), ignoring",
                t.text,
                bfd_defaults::WEIGHT_MIN,
                bfd_defaults::WEIGHT_MAX
            )
        };
        let read = lvs_read::int(
            &t.text,
            i64::from(bfd_defaults::WEIGHT_MIN),
            i64::from(bfd_defaults::WEIGHT_MAX),
            true,
        );
        match read {
            Read::Ok(v) => self.weight = i32::try_from(v).unwrap_or(0),
            Read::Lenient(v, note) => {
                p.warnings.push(
                    t.pos
                        .warning(ka(format!("BFD instance {name} weight: {note}"))),
                );
                self.weight = i32::try_from(v).unwrap_or(0);
            }
            Read::Bad(_) => p.warnings.push(t.pos.warning(ka(bad()))),
        }
        if let Some(r) = k.args.get(1) {
            if r.text == "reverse" {
                self.reverse = true;
            } else {
                p.warnings.push(r.pos.warning(ka(format!(
                    "Configuration error: BFD instance {name} unknown weight option {}",
                    r.text
                ))));
            }
        }
        Ok(())
    }
}

/// Microseconds as keepalived.conf milliseconds: `10`, `3.312`, `0.5`.
pub(crate) fn fmt_ms(us: u32) -> String {
    let (ms, frac) = (us / 1000, us % 1000);
    if frac == 0 {
        ms.to_string()
    } else {
        format!("{ms}.{}", format!("{frac:03}").trim_end_matches('0'))
    }
}

impl Block<'_> for BfdBuilder {
    type Output = BfdInstance;

    fn keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let name = self.name.clone();
        let session_kw = matches!(
            k.key(),
            "neighbor_ip"
                | "neighbour_ip"
                | "source_ip"
                | "min_rx"
                | "min_tx"
                | "idle_tx"
                | "multiplier"
                | "passive"
                | "ttl"
                | "hoplimit"
                | "max_hops"
        );
        if session_kw && self.disabled {
            return Ok(());
        }
        match k.key() {
            // bfd_nbrip_handler(): inet_stosockaddr(), a range or mask cut off.
            "neighbor_ip" | "neighbour_ip" => self.neighbor_ip(p, k, &name)?,
            // bfd_srcip_handler().
            "source_ip" => {
                let t = k.arg(0, "an IP address")?;
                match lvs_read::sockaddr(&t.text, None) {
                    Read::Ok((a, _)) | Read::Lenient((a, _), _) => self.source = Some(a),
                    Read::Bad(_) => p.warnings.push(t.pos.warning(ka(format!(
                        "Configuration error: BFD instance {name} has malformed source address {}, ignoring",
                        t.text
                    )))),
                }
            }
            "min_rx" => {
                if let Some(v) = self.interval(p, k, bfd_defaults::MIN_RX_TX_MIN_MS)? {
                    self.min_rx_us = v;
                }
            }
            "min_tx" => {
                if let Some(v) = self.interval(p, k, bfd_defaults::MIN_RX_TX_MIN_MS)? {
                    self.min_tx_us = v;
                }
            }
            "idle_tx" => {
                if let Some(v) = self.interval(p, k, bfd_defaults::IDLE_TX_MIN_MS)? {
                    self.idle_tx_us = v;
                }
            }
            // bfd_multiplier_handler(): read_unsigned_strvec(1, 255, false).
            "multiplier" => {
                let t = k.arg(0, "a number 1..255")?;
                match lvs_read::unsigned(&t.text, 1, 255, false) {
                    Read::Ok(v) => self.multiplier = u8::try_from(v).unwrap_or(self.multiplier),
                    _ => p.warnings.push(t.pos.warning(ka(format!(
                        "Configuration error: BFD instance {name} multiplier value {} not valid (must be in range [1-255]), ignoring",
                        t.text
                    )))),
                }
            }
            "passive" => self.passive = true,
            // bfd_ttl_handler() (both spellings, either family).
            "ttl" | "hoplimit" => {
                let t = k.arg(0, "a number 1..255")?;
                match lvs_read::unsigned(&t.text, 1, 255, false) {
                    Read::Ok(v) => self.ttl = u8::try_from(v).ok(),
                    _ => p.warnings.push(t.pos.warning(ka(format!(
                        "Configuration error: BFD instance {name} ttl/hoplimit value {} not valid (must be in range [1-255]), ignoring",
                        t.text
                    )))),
                }
            }
            // bfd_maxhops_handler(): read_int_strvec(-1, 255, false) into a uint8_t.
            "max_hops" => {
                let t = k.arg(0, "a number -1..255")?;
                match lvs_read::int(&t.text, -1, 255, false) {
                    Read::Ok(-1) => self.max_hops = bfd_defaults::MAX_HOPS_NO_CHECK,
                    Read::Ok(v) => self.max_hops = u8::try_from(v).unwrap_or(self.max_hops),
                    _ => p.warnings.push(t.pos.warning(ka(format!(
                        "Configuration error: BFD instance {name} max_hops value {} not valid (must be in range [-1-255]), ignoring",
                        t.text
                    )))),
                }
            }
            // bfd_vrrp_weight_handler() (the VRRP process):
            // read_int_strvec(-253, 253, true), then `reverse` (only).
            "weight" => self.weight(p, k, &name)?,
            // bfd_event_vrrp_handler(), bfd_event_checker_handler().
            "vrrp" => self.said_vrrp = true,
            "checker" => self.said_checker = true,
            _ => p.push_unknown(k, "bfd_instance"),
        }
        Ok(())
    }

    /// keepalived: bfd_parser.c `bfd_end_handler()` (the BFD process) and
    /// `bfd_vrrp_end_handler()` / `bfd_checker_end_handler()`.
    fn finish(self, p: &mut Parser) -> PResult<BfdInstance> {
        let specified = self.said_vrrp || self.said_checker;
        let mut b = BfdInstance::new(self.name.clone(), None);
        b.origin = origin(&self.pos);
        b.weight = self.weight;
        b.reverse = self.reverse;
        b.vrrp = !specified || self.said_vrrp;
        b.checker = !specified || self.said_checker;
        if !self.disabled {
            b.session = session(&self, p);
        }
        Ok(b)
    }
}

/// The session `bfd_end_handler()` keeps, or None (warned) when it
/// disables the instance.
fn session(bb: &BfdBuilder, p: &mut Parser) -> Option<BfdSession> {
    let name = &bb.name;
    let nw = p.bfd.neighbor_word();
    let Some(nbr) = bb.neighbor else {
        p.warnings.push(bb.pos.warning(ka(format!(
            "Configuration error: BFD instance {name} has no {nw} address set, disabling instance"
        ))));
        return None;
    };
    if let Some(src) = bb.source.filter(|s| s.is_ipv4() != nbr.is_ipv4()) {
        // keepalived prints the source address twice here (one static
        // buffer for both addresses); we print both addresses.
        p.warnings.push(bb.pos.warning(ka(format!(
            "Configuration error: BFD instance {name} source address {src} and {nw} address {nbr} are not of the same family, disabling instance"
        ))));
        return None;
    }
    // bfd_data.c `find_bfd_by_addr()`: the same neighbor twice needs two
    // different source addresses.
    let dup = p
        .cfg
        .bfd_instances
        .iter()
        .filter_map(|o| o.session.as_ref())
        .any(|o| {
            o.neighbor_ip == nbr
                && match (o.source_ip, bb.source) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        });
    if dup {
        let msg = match bb.source {
            Some(src) => format!(
                "Configuration error: BFD instance {name} has duplicate source/{nw} address {src}/{nbr}, ignoring instance"
            ),
            None => format!(
                "Configuration error: BFD instance {name} has duplicate {nw} address {nbr}, ignoring instance"
            ),
        };
        p.warnings.push(bb.pos.warning(ka(msg)));
        return None;
    }
    let mut s = BfdSession::new(nbr);
    s.source_ip = bb.source;
    s.min_rx_us = bb.min_rx_us;
    s.min_tx_us = bb.min_tx_us;
    s.idle_tx_us = bb.idle_tx_us;
    s.multiplier = bb.multiplier;
    s.passive = bb.passive;
    s.ttl = bb.ttl.unwrap_or_else(|| default_ttl(&nbr));
    s.max_hops = bb.max_hops;
    super::fixup::bfd::max_hops_at_most_ttl(&mut s, name, &bb.pos, &mut p.warnings);
    Some(s)
}

impl Parser {
    /// `bfd_instance NAME { ... }` (bfd_parser.c `bfd_handler()`,
    /// bfd_data.c `alloc_bfd()`): a name of 32 characters or more, or one
    /// already used, skips the block.
    pub(super) fn bfd_instance(&mut self, n: &Node) -> PResult<()> {
        let name = n.string(0)?;
        let block = n.require_block()?;
        if name.len() > bfd_defaults::NAME_MAX {
            self.warnings.push(n.pos().warning(ka(format!(
                "Configuration error: BFD instance {name} name too long (maximum length is {} characters) - ignoring",
                bfd_defaults::NAME_MAX
            ))));
            self.bfd.long_names.push(name);
            return Ok(());
        }
        if self.cfg.bfd_instance(&name).is_some() {
            // The BFD process says "already configured" when the first one
            // holds a session; the VRRP and checker processes ("BFD %s
            // already specified") keep the first block in any case. (When
            // keepalived's BFD process disabled the first block, it would
            // run this one's session; the other processes keep the first
            // block's weight and routing. We keep the first block whole.)
            self.warnings.push(n.pos().warning(ka(format!(
                "Configuration error: BFD instance {name} already configured - ignoring"
            ))));
            return Ok(());
        }
        let b = BfdBuilder::new(name, n.pos().clone());
        if let Some(inst) = self.build(b, block)? {
            self.cfg.bfd_instances.push(inst);
        }
        Ok(())
    }

    /// `track_bfd { NAME [weight N [reverse|noreverse]] }` of the vrrp
    /// instance or sync group `owner`, appended to `out`. keepalived:
    /// vrrp/vrrp_track.c `alloc_track_bfd()`: an unknown BFD (or one whose
    /// events go to the checker only), a duplicate, an unknown option or
    /// `weight` without a value drop the entry; an invalid weight keeps
    /// the entry with the bfd_instance's weight; an entry without weight
    /// takes the bfd_instance's `weight` and `reverse`.
    pub(super) fn track_bfd_refs(
        &mut self,
        n: &Node,
        owner: &str,
        out: &mut Vec<TrackRef>,
    ) -> PResult<()> {
        for k in n.require_block()? {
            let name = k.key();
            let Some(b) = self.cfg.bfd_instance(name).filter(|b| b.vrrp) else {
                self.warnings.push(k.pos().warning(ka(format!(
                    "({owner}) track bfd {name} not found, ignoring..."
                ))));
                continue;
            };
            if out.iter().any(|t| t.name == name) {
                self.warnings.push(k.pos().warning(ka(format!(
                    "({owner}) duplicate track_bfd {name} - ignoring"
                ))));
                continue;
            }
            let (mut weight, mut reverse) = (b.weight, b.reverse);
            if let Some(first) = k.args.first() {
                if first.text != "weight" {
                    self.warnings.push(first.pos.warning(ka(format!(
                        "({owner}) unknown track bfd {name} option {} - ignoring",
                        first.text
                    ))));
                    continue;
                }
                let Some(v) = k.args.get(1) else {
                    self.warnings.push(first.pos.warning(ka(format!(
                        "({owner}) weight without value specified for track bfd {name} - ignoring"
                    ))));
                    continue;
                };
                match lvs_read::int(
                    &v.text,
                    i64::from(bfd_defaults::WEIGHT_MIN),
                    i64::from(bfd_defaults::WEIGHT_MAX),
                    true,
                ) {
                    Read::Ok(x) => weight = i32::try_from(x).unwrap_or(weight),
                    Read::Lenient(x, note) => {
                        self.warnings.push(v.pos.warning(ka(format!(
                            "({owner}) track bfd {name} weight: {note}"
                        ))));
                        weight = i32::try_from(x).unwrap_or(weight);
                    }
                    Read::Bad(_) => self.warnings.push(v.pos.warning(ka(format!(
                        "({owner}) weight for track bfd {name} must be in [-253..253] inclusive. Ignoring..."
                    )))),
                }
                if let Some(r) = k.args.get(2) {
                    match r.text.as_str() {
                        "reverse" => reverse = true,
                        "noreverse" => reverse = false,
                        other => {
                            self.warnings.push(r.pos.warning(ka(format!(
                                "({owner}) unknown track bfd {name} weight option {other} - ignoring"
                            ))));
                            continue;
                        }
                    }
                }
            }
            out.push(TrackRef {
                name: name.to_string(),
                weight,
                reverse,
            });
        }
        Ok(())
    }

    /// `BFD_CHECK { name NAME }` (check/check_bfd.c `bfd_name_handler()`):
    /// the BFD name, or the message with which keepalived drops the whole
    /// checker. `rs` is the real server (with its checkers so far), `have`
    /// a name this checker already has.
    pub(super) fn bfd_check_name(
        &self,
        k: &Node,
        rs: &RealServer,
        have: Option<&str>,
    ) -> Result<String, String> {
        let [t] = k.args.as_slice() else {
            return Err("BFD_CHECK - No or too many names specified - skipping checker".into());
        };
        let name = t.text.as_str();
        let known = self.cfg.bfd_instance(name).is_some_and(|b| b.checker)
            || self.bfd.long_names.iter().any(|l| l == name);
        if !known {
            return Err(format!("BFD_CHECK - BFD {name} not configured"));
        }
        if let Some(h) = have {
            return Err(format!("BFD_CHECK - BFD {name} already specified as {h}"));
        }
        if name.len() > bfd_defaults::NAME_MAX {
            return Err(format!("BFD_CHECK - BFD name {name} too long"));
        }
        let monitored = rs
            .checkers
            .iter()
            .any(|c| matches!(&c.kind, CheckerKind::Bfd { name: n } if n == name));
        if monitored {
            return Err(format!("BFD_CHECK - RS already monitoring {name}"));
        }
        Ok(name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::fmt_ms;

    #[test]
    fn milliseconds_print_with_up_to_three_decimals() {
        assert_eq!(fmt_ms(10_000), "10");
        assert_eq!(fmt_ms(3_312), "3.312");
        assert_eq!(fmt_ms(500), "0.5");
        assert_eq!(fmt_ms(1_000_010), "1000.01");
    }
}
