//! `bfd_instance` blocks (model/bfd.rs). Written before the vrrp instances,
//! sync groups and virtual servers, since keepalived resolves `track_bfd`
//! and `BFD_CHECK` against the blocks read before them.

use super::{q, Out};
use crate::model::*;
use crate::parse::fmt_ms;

pub(super) fn bfd_instance(w: &mut Out, b: &BfdInstance) {
    w.open(&format!("bfd_instance {}", q(&b.name)));
    // No session: keepalived's BFD process disables the block again
    // ("no neighbor address set"); the name, weight and routing remain.
    if let Some(s) = &b.session {
        w.kv("neighbor_ip", s.neighbor_ip);
        if let Some(src) = s.source_ip {
            w.kv("source_ip", src);
        }
        w.kv("min_rx", fmt_ms(s.min_rx_us));
        w.kv("min_tx", fmt_ms(s.min_tx_us));
        w.kv("idle_tx", fmt_ms(s.idle_tx_us));
        w.kv("multiplier", s.multiplier);
        w.plain("passive", s.passive);
        let ttl = if s.neighbor_ip.is_ipv4() {
            "ttl"
        } else {
            "hoplimit"
        };
        w.kv(ttl, s.ttl);
        w.kv("max_hops", s.max_hops);
    }
    if b.weight != 0 || b.reverse {
        w.line(&format!("weight {}{}", b.weight, super::rev(b.reverse)));
    }
    // Neither word: events to both processes.
    if !(b.vrrp && b.checker) {
        w.plain("vrrp", b.vrrp);
        w.plain("checker", b.checker);
    }
    w.close();
}
