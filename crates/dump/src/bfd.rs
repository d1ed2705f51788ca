//! keepalived 2.2.7's BFD dump sections, from the configuration:
//!
//! * [`bfd_topology`]: `------< BFD Topology >------` of the BFD process's
//!   `/tmp/keepalived_bfd.data` (bfd/bfd_data.c `dump_bfd_data()` /
//!   `dump_bfd()`), the configuration lines of each session. keepalived
//!   writes the session state after them (`fd_out` ... `last_seen`), which
//!   the BFD engine that runs the session appends;
//! * [`vrrp_track_bfds`]: `------< VRRP Track BFDs >------` of
//!   `/tmp/keepalived.data` (vrrp/vrrp_data.c `dump_vrrp_tracked_bfd()`),
//!   given each session's state;
//! * [`tracked_bfds`]: the `   Tracked BFDs :` lines of a vrrp instance or
//!   sync group (vrrp/vrrp_track.c `dump_tracked_bfd()`).

use std::fmt::Write;

use rkeepalived_config::model::{BfdInstance, Config, TrackRef};

fn tf(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "Yes"
    } else {
        "No"
    }
}

/// The `BFD Topology` section (nothing without a session), configuration
/// lines only.
pub fn bfd_topology(cfg: &Config) -> String {
    let mut out = String::new();
    let sessions: Vec<&BfdInstance> = cfg
        .bfd_instances
        .iter()
        .filter(|b| b.session.is_some())
        .collect();
    if sessions.is_empty() {
        return out;
    }
    out.push_str("------< BFD Topology >------\n");
    for b in sessions {
        out.push_str(&bfd_instance(b));
    }
    out
}

/// `dump_bfd()`'s configuration lines of one instance (empty without a
/// session).
pub fn bfd_instance(b: &BfdInstance) -> String {
    let mut out = String::new();
    let Some(s) = &b.session else {
        return out;
    };
    let _ = writeln!(out, " BFD Instance = {}", b.name);
    let _ = writeln!(out, "   Neighbor IP = {}", s.neighbor_ip);
    if let Some(src) = s.source_ip {
        let _ = writeln!(out, "   Source IP = {src}");
    }
    let _ = writeln!(out, "   Required min RX interval = {} us", s.min_rx_us);
    let _ = writeln!(out, "   Desired min TX interval = {} us", s.min_tx_us);
    let _ = writeln!(out, "   Desired idle TX interval = {} us", s.idle_tx_us);
    let _ = writeln!(out, "   Detection multiplier = {}", s.multiplier);
    let ttl = if s.neighbor_ip.is_ipv4() {
        "TTL"
    } else {
        "hoplimit"
    };
    let _ = writeln!(out, "   {ttl} = {}", s.ttl);
    let _ = writeln!(out, "   max_hops = {}", s.max_hops);
    let _ = writeln!(out, "   passive = {}", tf(s.passive));
    let _ = writeln!(out, "   send event to VRRP process = {}", yes_no(b.vrrp));
    let _ = writeln!(
        out,
        "   send event to checker process = {}",
        yes_no(b.checker)
    );
    out
}

/// `   Tracked BFDs :` and one line per entry (nothing for no entry).
pub fn tracked_bfds(list: &[TrackRef]) -> String {
    let mut out = String::new();
    if list.is_empty() {
        return out;
    }
    out.push_str("   Tracked BFDs :\n");
    for t in list {
        let _ = writeln!(
            out,
            "     {}: weight {}{}",
            t.name,
            t.weight,
            if t.reverse { " reverse" } else { "" }
        );
    }
    out
}

/// The `VRRP Track BFDs` section: every bfd_instance the VRRP process
/// knows, its default weight, whether `up(name)` says it is up, and the
/// instances tracking it (own entries in instance order, then those a
/// sync group adds: vrrp/vrrp.c `vrrp_complete_instance()` before
/// `vrrp_complete_init()`).
pub fn vrrp_track_bfds(cfg: &Config, up: impl Fn(&str) -> bool) -> String {
    let mut out = String::new();
    let known: Vec<&BfdInstance> = cfg.bfd_instances.iter().filter(|b| b.vrrp).collect();
    if known.is_empty() {
        return out;
    }
    out.push_str("------< VRRP Track BFDs >------\n");
    let tracking = cfg.vrrp_bfd_tracking();
    for b in known {
        let _ = writeln!(out, " VRRP Track BFD = {}", b.name);
        let _ = writeln!(
            out,
            "   Weight = {}{}",
            b.weight,
            if b.reverse { " reverse" } else { "" }
        );
        let _ = writeln!(out, "   Bfd is {}", if up(&b.name) { "up" } else { "down" });
        out.push_str("   Tracking VRRP instances :\n");
        let own = |inst: &str| {
            cfg.vrrp_instance(inst)
                .is_some_and(|v| v.track_bfds.iter().any(|t| t.name == b.name))
        };
        let mine: Vec<_> = tracking.iter().filter(|t| t.bfd == b.name).collect();
        if mine.is_empty() {
            continue;
        }
        out.push_str("   Tracking instances :\n");
        let ordered = mine
            .iter()
            .filter(|t| own(t.instance))
            .chain(mine.iter().filter(|t| !own(t.instance)));
        for t in ordered {
            let _ = writeln!(
                out,
                "     {}, weight {}{}",
                t.instance,
                t.weight,
                if t.reverse { " reverse" } else { "" }
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeepalived_config::{parse_str, LoadOptions};

    fn load(text: &str) -> Config {
        let opts = LoadOptions {
            config_id: Some("x".into()),
        };
        parse_str(text, "bfd.conf", &opts).expect("loads").config
    }

    const CONF: &str = "\
bfd_instance b1 {
    neighbor_ip 192.0.2.1
    source_ip 192.0.2.2
    min_rx 3.312
    passive
    weight 20 reverse
}
bfd_instance b6 {
    neighbor_ip 2001:db8::1
    checker
}
bfd_instance off {
    weight -5
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100
    }
    track_bfd {
        b1
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    virtual_ipaddress {
        192.0.2.101
    }
}
vrrp_sync_group G {
    group {
        VI_2
    }
    track_bfd {
        b1 weight 7
    }
    sync_group_tracking_weight
}
";

    /// The lines and units of keepalived's `dump_bfd()`.
    #[test]
    fn bfd_topology_has_keepalived_lines() {
        let cfg = load(CONF);
        assert_eq!(
            bfd_topology(&cfg),
            "\
------< BFD Topology >------
 BFD Instance = b1
   Neighbor IP = 192.0.2.1
   Source IP = 192.0.2.2
   Required min RX interval = 3312 us
   Desired min TX interval = 10000 us
   Desired idle TX interval = 1000000 us
   Detection multiplier = 5
   TTL = 255
   max_hops = 0
   passive = true
   send event to VRRP process = Yes
   send event to checker process = Yes
 BFD Instance = b6
   Neighbor IP = 2001:db8::1
   Required min RX interval = 10000 us
   Desired min TX interval = 10000 us
   Desired idle TX interval = 1000000 us
   Detection multiplier = 5
   hoplimit = 64
   max_hops = 0
   passive = false
   send event to VRRP process = No
   send event to checker process = Yes
"
        );
    }

    /// keepalived's `dump_vrrp_tracked_bfd()` and `dump_tracked_bfd()`.
    #[test]
    fn vrrp_track_bfds_have_keepalived_lines() {
        let cfg = load(CONF);
        assert_eq!(
            vrrp_track_bfds(&cfg, |n| n == "b1"),
            "\
------< VRRP Track BFDs >------
 VRRP Track BFD = b1
   Weight = 20 reverse
   Bfd is up
   Tracking VRRP instances :
   Tracking instances :
     VI_1, weight 20 reverse
     VI_2, weight 7 reverse
 VRRP Track BFD = off
   Weight = -5
   Bfd is down
   Tracking VRRP instances :
"
        );
        let v = cfg.vrrp_instance("VI_1").expect("VI_1");
        assert_eq!(
            tracked_bfds(&v.track_bfds),
            "   Tracked BFDs :\n     b1: weight 20 reverse\n"
        );
    }
}
