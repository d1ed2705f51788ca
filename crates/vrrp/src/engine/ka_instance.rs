//! keepalived.data's VRRP Topology section, one instance (vrrp/vrrp_data.c
//! `dump_vrrp()`), in keepalived 2.2.7's layout.

use rkeepalived_config::model::{AuthType, VrrpVersion};
use rkeepalived_dump::cfmt;
use std::fmt::Write as _;
use std::time::SystemTime;

use super::ka_dump::*;
use super::*;

impl Engine {
    /// vrrp_data.c `dump_vrrp()`.
    pub(super) fn ka_dump_instance(&self, out: &mut String, idx: usize) {
        let rt = &self.instances[idx];
        let c = &rt.cfg;
        let fsm = self.router.fsm(idx);
        let state = fsm.state();
        let v3 = c.version == VrrpVersion::V3;
        let unicast = !c.unicast_peers.is_empty();
        let _ = writeln!(out, " VRRP Instance = {}", c.name);
        let _ = writeln!(out, "   VRRP Version = {}", c.version.number());
        if let Some(g) = self
            .cfg
            .vrrp_sync_groups
            .iter()
            .find(|g| g.group.contains(&c.name))
        {
            let _ = writeln!(out, "   Sync group = {}", g.name);
        }
        if rt.family == Family::Ipv6 {
            let _ = writeln!(out, "   Using Native IPv6");
        }
        let _ = writeln!(out, "   State = {}", state.name());
        if state == State::Backup {
            let master = fsm.master_addr().map_or_else(
                || match rt.family {
                    Family::Ipv4 => "0.0.0.0".to_string(),
                    Family::Ipv6 => "::".to_string(),
                },
                |a| a.to_string(),
            );
            let _ = writeln!(out, "   Master router = {master}");
            let _ = writeln!(
                out,
                "   Master priority = {}",
                fsm.master_priority().unwrap_or(0)
            );
            if v3 {
                let _ = writeln!(
                    out,
                    "   Master advert int = {:.2} sec",
                    fsm.master_adver_interval().as_duration().as_secs_f64()
                );
            }
        }
        let saddr_from_config = glue::configured_source(c).is_some();
        let flags = unicast
            || c.unicast_fault_no_peer
            || c.dont_track_primary
            || c.skip_check_adv_addr
            || saddr_from_config
            || c.check_unicast_src
            || c.promote_secondaries
            || c.nopreempt
            || c.use_vmac.is_some();
        if flags {
            let _ = writeln!(out, "   Flags:");
            if unicast {
                let _ = writeln!(out, "     Using unicast");
            }
            if c.unicast_fault_no_peer {
                let _ = writeln!(out, "     If unicast go to fault state if no peers");
            }
        } else {
            let _ = writeln!(out, "   Flags: none");
        }
        let _ = writeln!(out, "   Wantstate = {}", state.name());
        let _ = writeln!(out, "   Number of config faults = 0");
        let _ = writeln!(
            out,
            "   Number of interface and track script faults = {}",
            u8::from(self.tracked_of(rt).1)
        );
        let _ = writeln!(
            out,
            "   Number of track scripts init = {}",
            self.track_scripts_init(idx)
        );
        let _ = writeln!(
            out,
            "   Last transition = {}",
            time_line(rt.last_transition.unwrap_or(self.started))
        );
        match fsm.next_deadline() {
            Some(d) => {
                let now = Instant::now();
                let at = SystemTime::now() + d.saturating_duration_since(now);
                let _ = writeln!(out, "   Read timeout = {}", time_line(at));
            }
            None => {
                let _ = writeln!(out, "   Read timeout = DISABLED");
            }
        }
        let _ = writeln!(
            out,
            "   Master down timer = {} usecs",
            fsm.master_down_interval().as_micros()
        );
        if let Some(v) = &c.use_vmac {
            let up = addr::ifindex(&v.name).is_some();
            let _ = writeln!(
                out,
                "   Use VMAC, i/f name {}, is_up = {}, xmit_base = {}",
                v.name,
                tf(up),
                tf(v.xmit_base)
            );
            let _ = writeln!(
                out,
                "   Interface = {}, vmac on {}{}",
                v.name,
                c.interface,
                if v.xmit_base { ", xmit base i/f" } else { "" }
            );
        } else {
            let _ = writeln!(out, "   Interface = {}", c.interface);
        }
        self.ka_dump_instance_settings(out, idx);
        self.ka_dump_instance_lists(out, idx);
    }

    /// `dump_vrrp()`, continued: options, source address, timers, priorities.
    fn ka_dump_instance_settings(&self, out: &mut String, idx: usize) {
        let rt = &self.instances[idx];
        let saddr_from_config = glue::configured_source(&rt.cfg).is_some();
        let c = &rt.cfg;
        let unicast = !c.unicast_peers.is_empty();
        if c.dont_track_primary {
            let _ = writeln!(out, "   VRRP interface tracking disabled");
        }
        if c.skip_check_adv_addr {
            let _ = writeln!(out, "   Skip checking advert IP addresses");
        }
        if c.strict_mode {
            let _ = writeln!(out, "   Enforcing strict VRRP compliance");
        }
        let _ = writeln!(
            out,
            "   Using src_ip = {}{}",
            self.endpoint_of(rt)
                .and_then(|e| e.src)
                .map_or_else(|| "(none)".to_string(), |s| s.to_string()),
            if saddr_from_config {
                " (from configuration)"
            } else {
                ""
            }
        );
        if !unicast {
            let group = c.mcast_group(&self.cfg.global_defs);
            match rt.family {
                Family::Ipv4 => {
                    let _ = writeln!(out, "   Multicast address {group}");
                }
                Family::Ipv6 => {
                    let _ = writeln!(
                        out,
                        "   Multicast address {group}, ifindex {}",
                        addr::ifindex(&rt.rx_if).unwrap_or(0)
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "   Gratuitous ARP delay = {}",
            c.garp_master_delay.as_secs()
        );
        let _ = writeln!(out, "   Gratuitous ARP repeat = {}", c.garp_master_repeat);
        let _ = writeln!(
            out,
            "   Gratuitous ARP refresh = {}",
            c.garp_master_refresh.map_or(0, |d| d.as_secs())
        );
        let _ = writeln!(
            out,
            "   Gratuitous ARP refresh repeat = {}",
            c.garp_master_refresh_repeat
        );
        let _ = writeln!(
            out,
            "   Gratuitous ARP lower priority delay = {}",
            c.garp_lower_prio_delay.as_secs()
        );
        let _ = writeln!(
            out,
            "   Gratuitous ARP lower priority repeat = {}",
            c.garp_lower_prio_repeat
        );
        let _ = writeln!(out, "   Down timer adverts = {}", c.down_timer_adverts);
        let _ = writeln!(
            out,
            "   Send advert after receive lower priority advert = {}",
            tf(!c.lower_prio_no_advert)
        );
        let _ = writeln!(
            out,
            "   Send advert after receive higher priority advert = {}",
            tf(c.higher_prio_send_advert)
        );
        self.ka_dump_instance_priorities(out, idx);
    }

    /// `dump_vrrp()`, continued: VRID, priorities, advert timers, preemption.
    fn ka_dump_instance_priorities(&self, out: &mut String, idx: usize) {
        let rt = &self.instances[idx];
        let c = &rt.cfg;
        let fsm = self.router.fsm(idx);
        let state = fsm.state();
        let v3 = c.version == VrrpVersion::V3;
        let _ = writeln!(out, "   Virtual Router ID = {}", c.virtual_router_id);
        let _ = writeln!(out, "   Priority = {}", c.priority);
        let _ = writeln!(out, "   Effective priority = {}", fsm.effective_priority());
        let _ = writeln!(out, "   Total priority = {}", self.tracked_of(rt).0);
        if v3 {
            let _ = writeln!(
                out,
                "   Advert interval = {} milli-sec",
                c.advert_int.as_millis()
            );
        } else {
            let _ = writeln!(out, "   Advert interval = {} sec", c.advert_int.as_secs());
        }
        if state == State::Backup && v3 {
            let _ = writeln!(
                out,
                "   Master advert interval = {} milli-sec",
                fsm.master_adver_interval().as_duration().as_millis()
            );
        }
        let _ = writeln!(
            out,
            "   Accept = {}",
            if c.accept { "enabled" } else { "disabled" }
        );
        let _ = writeln!(
            out,
            "   Preempt = {}",
            if c.nopreempt { "disabled" } else { "enabled" }
        );
        if !c.preempt_delay.is_zero() {
            let _ = writeln!(
                out,
                "   Preempt delay = {} secs",
                cfmt::g(c.preempt_delay.as_secs_f64())
            );
        }
        let _ = writeln!(
            out,
            "   Promote_secondaries = {}",
            if c.promote_secondaries {
                "enabled"
            } else {
                "disabled"
            }
        );
        match &c.authentication {
            Some(a) => {
                let _ = writeln!(
                    out,
                    "   Authentication type = {}",
                    match a.auth_type {
                        AuthType::Ah => "IPSEC_AH",
                        AuthType::Pass => "SIMPLE_PASSWORD",
                    }
                );
                if a.auth_type == AuthType::Pass {
                    let _ = writeln!(out, "   Password = {}", a.auth_pass);
                }
            }
            None if !v3 => {
                let _ = writeln!(out, "   Authentication type = none");
            }
            None => {}
        }
    }

    /// `dump_vrrp()`, continued: addresses, peers, routes, rules, tracking, notify.
    fn ka_dump_instance_lists(&self, out: &mut String, idx: usize) {
        let rt = &self.instances[idx];
        let c = &rt.cfg;
        let fsm = self.router.fsm(idx);
        let state = fsm.state();
        let unicast = !c.unicast_peers.is_empty();
        if c.debug > 0 {
            let _ = writeln!(out, "   Debug level = {}", c.debug);
        }
        let set = state == State::Master;
        if !c.virtual_ipaddresses.is_empty() {
            let _ = writeln!(out, "   Virtual IP ({}):", c.virtual_ipaddresses.len());
            for v in &rt.vips[..c.virtual_ipaddresses.len().min(rt.vips.len())] {
                let _ = writeln!(out, "     {}", format_ipaddress(v, set));
            }
        }
        if !c.virtual_ipaddresses_excluded.is_empty() {
            let _ = writeln!(out, "   Virtual IP Excluded :");
            for v in rt.vips.iter().skip(c.virtual_ipaddresses.len()) {
                let _ = writeln!(out, "     {}", format_ipaddress(v, set));
            }
        }
        if unicast {
            let _ = writeln!(out, "   Unicast TTL = {}", c.unicast_ttl.unwrap_or(255));
            let _ = writeln!(
                out,
                "   Check unicast src : {}",
                yes_no(c.check_unicast_src)
            );
            let _ = writeln!(out, "   Unicast Peer :");
            for p in &c.unicast_peers {
                let _ = writeln!(
                    out,
                    "     {} min_ttl {} max_ttl {}",
                    p.addr,
                    p.min_ttl.unwrap_or(0),
                    p.max_ttl.unwrap_or(255)
                );
            }
            let _ = writeln!(out, "   Unicast checksum compatibility = no");
        }
        let fd = self.pool_fd(rt);
        if fd >= 0 {
            let _ = writeln!(out, "   fd_in {fd}, fd_out {fd}");
        } else {
            let _ = writeln!(out, "   No sockets allocated");
        }
        if !c.virtual_routes.is_empty() {
            let _ = writeln!(out, "   Virtual Routes :");
            for r in &c.virtual_routes {
                let _ = writeln!(out, "     {r:?}");
            }
        }
        if !c.virtual_rules.is_empty() {
            let _ = writeln!(out, "   Virtual Rules :");
            for r in &c.virtual_rules {
                let _ = writeln!(out, "     {r:?}");
            }
        }
        let tracked =
            |out: &mut String, title: &str, list: &[rkeepalived_config::model::TrackRef]| {
                if !list.is_empty() {
                    let _ = writeln!(out, "   {title} :");
                    for t in list {
                        let _ = writeln!(
                            out,
                            "     {} weight {}{}",
                            t.name,
                            t.weight,
                            if t.reverse { " reverse" } else { "" }
                        );
                    }
                }
            };
        tracked(out, "Tracked interfaces", &c.track_interfaces);
        tracked(out, "Tracked scripts", &c.track_scripts);
        tracked(out, "Tracked files", &c.track_files);
        tracked(out, "Tracked processes", &c.track_processes);
        out.push_str(&rkeepalived_dump::bfd::tracked_bfds(&c.track_bfds));
        let _ = writeln!(out, "   Using smtp notification = {}", yes_no(c.smtp_alert));
        let _ = writeln!(out, "   Notify deleted = Fault");
        self.notify_line(out, &c.notify_backup, "Backup");
        self.notify_line(out, &c.notify_master, "Master");
        self.notify_line(out, &c.notify_fault, "Fault");
        self.notify_line(out, &c.notify_stop, "Stop");
        self.notify_line(out, &c.notify, "Generic");
        self.notify_line(out, &c.notify_master_rx_lower_pri, "Master rx lower pri");
        let _ = writeln!(
            out,
            "   Notify priority changes = {}",
            tf(c.notify_priority_changes)
        );
    }
}
