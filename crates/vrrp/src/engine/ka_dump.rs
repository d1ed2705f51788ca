//! The files keepalived 2.2.7's VRRP process writes on a signal, in its
//! layout, so that exporters and scripts written for keepalived read ours:
//!
//! * `keepalived.data` (SIGUSR1): vrrp/vrrp_data.c `dump_data_vrrp()`:
//!   global definitions, VRRP Topology (`dump_vrrp`), Sockpool, Sync
//!   groups, Scripts, Interfaces (vrrp/vrrp_if.c `dump_if`);
//! * `keepalived.stats` (SIGUSR2): vrrp/vrrp_print.c `vrrp_print_stats()`;
//! * `keepalived.json` (SIGJSON): vrrp/vrrp_json.c `vrrp_json_dump()`.
//!
//! Values keepalived keeps and we do not are printed as keepalived prints
//! them by default (crates/vrrp/README.md lists the differences).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use rkeepalived_config::model::{AuthType, Notify, Scope, VirtualIpAddress};
use rkeepalived_dump::{cfmt, cmd_str_resolved, json::JsonWriter, script_ids};

use super::*;
use crate::track::ScriptStatus;

/// keepalived's counters, from our per-reason drop counters (the same
/// mapping as the SNMP VRRP-MIB statistics).
struct KaStats {
    advert_rcvd: u64,
    advert_sent: u64,
    become_master: u64,
    release_master: u64,
    packet_len_err: u64,
    advert_interval_err: u64,
    ip_ttl_err: u64,
    invalid_type_rcvd: u64,
    addr_list_err: u64,
    invalid_authtype: u64,
    authtype_mismatch: u64,
    auth_failure: u64,
    pri_zero_rcvd: u64,
    pri_zero_sent: u64,
}

impl KaStats {
    fn of(s: &InstanceStats) -> Self {
        let d = |rs: &[DropReason]| {
            rs.iter()
                .map(|r| s.drops.get(*r))
                .fold(0u64, u64::saturating_add)
        };
        KaStats {
            advert_rcvd: s.adverts_rx,
            advert_sent: s.adverts_tx,
            become_master: s.became_master,
            release_master: s.released_master,
            packet_len_err: d(&[
                DropReason::Truncated,
                DropReason::LengthMismatch,
                DropReason::IpLengthMismatch,
            ]),
            advert_interval_err: d(&[DropReason::AdverIntMismatch]),
            ip_ttl_err: d(&[DropReason::BadTtl]),
            invalid_type_rcvd: d(&[DropReason::BadType]),
            addr_list_err: d(&[DropReason::AddrListMismatch, DropReason::AddrCountMismatch]),
            invalid_authtype: d(&[DropReason::InvalidAuthType]),
            authtype_mismatch: d(&[DropReason::AuthTypeMismatch]),
            auth_failure: d(&[
                DropReason::AuthFailure,
                DropReason::AhIcvMismatch,
                DropReason::AhSpiMismatch,
                DropReason::AhReplay,
            ]),
            pri_zero_rcvd: s.priority_zero_rx,
            pri_zero_sent: s.priority_zero_tx,
        }
    }
}

pub(super) fn scope_name(s: Option<Scope>) -> String {
    match s.unwrap_or(Scope::Global) {
        Scope::Global => "global".into(),
        Scope::Site => "site".into(),
        Scope::Link => "link".into(),
        Scope::Host => "host".into(),
        Scope::Nowhere => "nowhere".into(),
        Scope::Other(n) => n.to_string(),
    }
}

/// vrrp_ipaddress.c `format_ipaddress()`; `set` when the address is on
/// the interface (the instance is MASTER).
pub(super) fn format_ipaddress(v: &VirtualIpAddress, set: bool) -> String {
    let full = if v.addr.is_ipv4() { 32 } else { 128 };
    let mut s = v.addr.to_string();
    if v.prefix_len != full {
        let _ = write!(s, "/{}", v.prefix_len);
    }
    if let (Some(b), true) = (v.brd, v.addr.is_ipv4()) {
        let _ = write!(s, " brd {b}");
    }
    let _ = write!(s, " dev {}", v.dev);
    if v.use_vmac {
        s.push_str(" use_vmac");
    }
    let _ = write!(s, " scope {}", scope_name(v.scope));
    if let Some(l) = &v.label {
        let _ = write!(s, " label {l}");
    }
    if let Some(p) = v.peer {
        let _ = write!(s, " peer {p}/{}", v.prefix_len);
    }
    for (on, word) in [
        (v.home, " home"),
        (v.nodad, " -nodad"),
        (v.mngtmpaddr, " mngtmpaddr"),
        (v.noprefixroute, " noprefixroute"),
        (v.autojoin, " autojoin"),
        (v.no_track, " no_track"),
    ] {
        if on {
            s.push_str(word);
        }
    }
    if v.addr.is_ipv6() {
        match v.preferred_lft {
            Some(0) => s.push_str(" deprecated"),
            None => s.push_str(" preferred_lft forever"),
            Some(n) => {
                let _ = write!(s, " preferred_lft {n}");
            }
        }
    }
    if set {
        s.push_str(" set");
    }
    s
}

pub(super) fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

pub(super) fn tf(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// `%ld.%6.6ld (ctime)` of a time.
pub(super) fn time_line(t: SystemTime) -> String {
    let (s, us) = cfmt::timeval(t);
    format!("{s}.{us:06} ({})", cfmt::ctime_us(t))
}

/// The socket a dump shows for an instance: keepalived's sock pool key.
#[derive(Clone, PartialEq, Eq)]
struct PoolKey {
    ifname: String,
    family: Family,
    ah: bool,
    unicast_src: Option<IpAddr>,
}

impl Engine {
    pub(super) fn notify_line(&self, out: &mut String, n: &Option<Notify>, kind: &str) {
        if let Some(n) = n {
            let (u, g) = script_ids(n, &self.cfg.global_defs);
            let _ = writeln!(
                out,
                "   {kind} state transition script = {}, uid:gid {u}:{g}",
                cmd_str_resolved(&n.command)
            );
        }
    }

    fn pool_key(&self, rt: &Runtime) -> PoolKey {
        let unicast = !rt.cfg.unicast_peers.is_empty();
        PoolKey {
            ifname: rt.rx_if.clone(),
            family: rt.family,
            ah: self.endpoint_of(rt).is_some_and(|e| e.ah.is_some()),
            unicast_src: if unicast {
                self.endpoint_of(rt).and_then(|e| e.src)
            } else {
                None
            },
        }
    }

    pub(super) fn pool_fd(&self, rt: &Runtime) -> i32 {
        self.sockets
            .get(&(rt.rx_if.clone(), rt.family))
            .map_or(-1, |s| s.raw_fd())
    }

    fn pool(&self) -> Vec<(PoolKey, Vec<usize>)> {
        let mut pool: Vec<(PoolKey, Vec<usize>)> = Vec::new();
        for (i, rt) in self.instances.iter().enumerate() {
            let key = self.pool_key(rt);
            match pool.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(i),
                None => pool.push((key, vec![i])),
            }
        }
        for (_, v) in &mut pool {
            v.sort_by_key(|i| self.instances[*i].cfg.virtual_router_id);
        }
        pool
    }

    pub(super) fn track_scripts_init(&self, idx: usize) -> usize {
        self.instances[idx]
            .cfg
            .track_scripts
            .iter()
            .filter(|t| {
                self.router
                    .track()
                    .scripts
                    .get(&t.name)
                    .is_none_or(|s| *s == ScriptStatus::Init)
            })
            .count()
    }

    /// vrrp_data.c `dump_sock_pool()`.
    fn ka_dump_sockpool(&self, out: &mut String) {
        for (key, members) in self.pool() {
            let fd = members
                .first()
                .map_or(-1, |i| self.pool_fd(&self.instances[*i]));
            let _ = writeln!(out, " fd_in {fd} fd_out = {fd}");
            let _ = writeln!(out, "   Interface = {}", key.ifname);
            let _ = writeln!(
                out,
                "   Family = {}",
                match key.family {
                    Family::Ipv4 => "IPv4",
                    Family::Ipv6 => "IPv6",
                }
            );
            let _ = writeln!(out, "   Protocol = {}", if key.ah { "AH" } else { "VRRP" });
            let _ = writeln!(
                out,
                "   Type = {}icast",
                if key.unicast_src.is_some() {
                    "Un"
                } else {
                    "Mult"
                }
            );
            if let Some(a) = key.unicast_src {
                let _ = writeln!(out, "   Address = {a}");
            }
            let _ = writeln!(out, "   Rx buf size = 0");
            let _ = writeln!(out, "   VRRP instances");
            for i in members {
                let c = &self.instances[i].cfg;
                let _ = writeln!(out, "     {} vrid {}", c.name, c.virtual_router_id);
            }
        }
    }

    /// vrrp_data.c `dump_sync_group()`.
    fn ka_dump_sync_groups(&self, out: &mut String) {
        for (gi, g) in self.cfg.vrrp_sync_groups.iter().enumerate() {
            let members: Vec<usize> = g
                .group
                .iter()
                .filter_map(|n| self.instances.iter().position(|r| r.cfg.name == *n))
                .collect();
            let count = |s: State| {
                members
                    .iter()
                    .filter(|i| self.router.fsm(**i).state() == s)
                    .count()
            };
            let state = self.router.group_state(gi).unwrap_or(State::Initialize);
            let _ = writeln!(out, " VRRP Sync Group = {}, {}", g.name, state.name());
            let _ = writeln!(
                out,
                "   Num member fault {}, num member init {}",
                count(State::Fault),
                count(State::Initialize)
            );
            if !members.is_empty() {
                let _ = writeln!(out, "   VRRP member instances :");
                for i in &members {
                    let _ = writeln!(out, "     {}", self.instances[*i].cfg.name);
                }
            }
            if g.sync_group_tracking_weight {
                let _ = writeln!(out, "   sync group tracking weight set");
            }
            let _ = writeln!(out, "   Using smtp notification = {}", yes_no(g.smtp_alert));
            if g.notify_priority_changes {
                let _ = writeln!(out, "   Notify priority changes = yes");
            }
            for (title, list) in [
                ("Tracked interfaces", &g.track_interfaces),
                ("Tracked scripts", &g.track_scripts),
                ("Tracked files", &g.track_files),
                ("Tracked process", &g.track_processes),
            ] {
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
            }
            out.push_str(&rkeepalived_dump::bfd::tracked_bfds(&g.track_bfds));
            self.notify_line(out, &g.notify_backup, "Backup");
            self.notify_line(out, &g.notify_master, "Master");
            self.notify_line(out, &g.notify_fault, "Fault");
            self.notify_line(out, &g.notify_stop, "Stop");
            self.notify_line(out, &g.notify, "Generic");
        }
    }

    /// vrrp_data.c `dump_vscript()`.
    fn ka_dump_scripts(&self, out: &mut String) {
        let gd = &self.cfg.global_defs;
        for s in &self.cfg.vrrp_scripts {
            let status = self
                .router
                .track()
                .scripts
                .get(&s.name)
                .copied()
                .unwrap_or(ScriptStatus::Init);
            let result = match status {
                ScriptStatus::Up => s.rise + s.fall - 1,
                ScriptStatus::Down | ScriptStatus::Init => 0,
            };
            let ids = script_ids(
                &Notify {
                    command: s.script.clone(),
                    user: s.user.clone(),
                },
                gd,
            );
            let _ = writeln!(out, " VRRP Script = {}", s.name);
            let _ = writeln!(out, "   Command = {}", cmd_str_resolved(&s.script));
            let _ = writeln!(out, "   Interval = {} sec", s.interval.as_secs());
            // keepalived keeps an unset timeout at 0 (the interval is used);
            // the model resolves it to the interval.
            let timeout = if s.timeout == s.interval {
                0
            } else {
                s.timeout.as_secs()
            };
            let _ = writeln!(out, "   Timeout = {timeout} sec");
            let _ = writeln!(
                out,
                "   Weight = {}{}",
                s.weight,
                if s.weight_reverse { " reverse" } else { "" }
            );
            let _ = writeln!(out, "   Rise = {}", s.rise);
            let _ = writeln!(out, "   Fall = {}", s.fall);
            let _ = writeln!(out, "   Result = {result}");
            let _ = writeln!(out, "   Insecure = no");
            let init = match status {
                ScriptStatus::Init if s.init_fail => "INIT/FAILED",
                ScriptStatus::Init => "INIT",
                _ => "unknown",
            };
            let _ = writeln!(out, "   Init state = {init}");
            let _ = writeln!(
                out,
                "   Status = {}",
                if status == ScriptStatus::Up {
                    "GOOD"
                } else {
                    "BAD"
                }
            );
            let _ = writeln!(out, "   Script uid:gid = {}:{}", ids.0, ids.1);
            let _ = writeln!(out, "   VRRP instances :");
            let users: Vec<(&str, i32)> = self
                .cfg
                .vrrp_instances
                .iter()
                .filter_map(|i| {
                    i.track_scripts
                        .iter()
                        .find(|t| t.name == s.name)
                        .map(|t| (i.name.as_str(), t.weight))
                })
                .collect();
            if !users.is_empty() {
                let _ = writeln!(out, "   Tracking instances :");
                for (name, w) in users {
                    let _ = writeln!(out, "     {name}, weight {w}");
                }
            }
            let _ = writeln!(out, "   State = idle");
        }
    }

    /// vrrp_if.c `dump_if()` for every interface of the namespace.
    fn ka_dump_interfaces(&self, out: &mut String) {
        let vips: Vec<IpAddr> = self
            .instances
            .iter()
            .flat_map(|r| r.vips.iter().map(|v| v.addr))
            .collect();
        for link in super::ka_links::links() {
            let _ = writeln!(out, " Name = {}", link.name);
            let _ = writeln!(out, "   index = {}", link.index);
            // keepalived's `sin_addr` / `sin6_addr`: the primary IPv4
            // address (its own VIPs aside) and the IPv6 link-local one.
            let v4 = link.v4.iter().find(|a| !vips.contains(a));
            let v6 = link.v6.iter().find(|a| match a {
                IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
                IpAddr::V4(_) => false,
            });
            let show =
                |a: Option<&IpAddr>| a.map_or_else(|| "(none)".to_string(), |a| a.to_string());
            let _ = writeln!(out, "   IPv4 address = {}", show(v4));
            let _ = writeln!(out, "   IPv6 address = {}", show(v6));
            if let Some((mac, brd)) = &link.mac {
                let _ = writeln!(out, "   MAC = {mac}");
                let _ = writeln!(out, "   MAC broadcast = {brd}");
            }
            let _ = writeln!(out, "   State = {}", link.state_text());
            let _ = writeln!(out, "   Seen up = {}", u8::from(link.up()));
            let _ = writeln!(out, "   Delayed state change running = false");
            let _ = writeln!(out, "   Up debounce timer = 0us");
            let _ = writeln!(out, "   Down debounce timer = 0us");
            let is_vmac = self
                .instances
                .iter()
                .any(|r| r.vmac.as_deref() == Some(link.name.as_str()));
            if is_vmac {
                let _ = writeln!(out, "   I/f created by keepalived");
            }
            let _ = writeln!(out, "   MTU = {}", link.mtu);
            let _ = writeln!(out, "   HW Type = {}", link.hw_type());
            let _ = writeln!(out, "   NIC netlink status update");
            let _ = writeln!(out, "   Reset ARP config counter 0");
            let _ = writeln!(out, "   Original arp_ignore 0");
            let _ = writeln!(out, "   Original arp_filter 0");
            let _ = writeln!(out, "   Original promote_secondaries 0");
            let _ = writeln!(out, "   Reset promote_secondaries counter 0");
            // vrrp_ndisc.c: sending unsolicited NAs checks whether the
            // interface forwards IPv6 (vrrp_if_config.c get_ipv6_forwarding).
            let na_sent = self
                .instances
                .iter()
                .filter(|r| r.family == Family::Ipv6 && r.tx_if == link.name)
                .filter(|r| r.stats.became_master > 0)
                .filter_map(|r| r.last_transition)
                .max();
            if let Some(t) = na_sent {
                let forwarding = std::fs::read_to_string(format!(
                    "/proc/sys/net/ipv6/conf/{}/forwarding",
                    link.name
                ))
                .is_ok_and(|v| v.trim() == "1");
                let (s, us) = cfmt::timeval(t);
                let ctime = cfmt::ctime_us(t);
                // "%.24s.%6.6ld": ctime without the microseconds, then them.
                let (date, year) = ctime.rsplit_once(' ').unwrap_or((&ctime, ""));
                let date = date.rsplit_once('.').map_or(date, |(d, _)| d);
                let _ = writeln!(
                    out,
                    "   {}IPv6 forwarding. Last checked {s}.{us:06} ({date} {year}.{us:06})",
                    if forwarding { "" } else { "Not " }
                );
            }
            let mut tracking: Vec<(&str, i32, bool)> = Vec::new();
            for i in &self.cfg.vrrp_instances {
                if i.interface == link.name && !i.dont_track_primary {
                    tracking.push((&i.name, 0, false));
                }
                for t in i.track_interfaces.iter().filter(|t| t.name == link.name) {
                    tracking.push((&i.name, t.weight, t.reverse));
                }
            }
            if !tracking.is_empty() {
                let _ = writeln!(out, "   Tracking VRRP instances :");
                for (name, w, rev) in tracking {
                    let _ = writeln!(
                        out,
                        "     {name}, weight {w}{}",
                        if rev { " reverse" } else { "" }
                    );
                }
            }
        }
    }

    /// `/tmp/keepalived.data`: vrrp_data.c `dump_data_vrrp()`.
    pub(super) fn keepalived_data(&self) -> String {
        let mut out =
            rkeepalived_dump::global::global_definitions(&self.cfg.global_defs, &self.opts.dump);
        let o = &mut out;
        if !self.cfg.static_ipaddresses.is_empty() {
            let _ = writeln!(o, "------< Static Addresses >------");
            for a in &self.cfg.static_ipaddresses {
                let _ = writeln!(o, "     {}", format_ipaddress(a, true));
            }
        }
        if !self.instances.is_empty() {
            let _ = writeln!(o, "------< VRRP Topology >------");
            for i in 0..self.instances.len() {
                self.ka_dump_instance(o, i);
            }
            let _ = writeln!(o, "------< VRRP Sockpool >------");
            self.ka_dump_sockpool(o);
        }
        if !self.cfg.vrrp_sync_groups.is_empty() {
            let _ = writeln!(o, "------< VRRP Sync groups >------");
            self.ka_dump_sync_groups(o);
        }
        if !self.cfg.vrrp_scripts.is_empty() {
            let _ = writeln!(o, "------< VRRP Scripts >------");
            self.ka_dump_scripts(o);
        }
        // vrrp_data.c dump_vrrp_data(): "VRRP Track BFDs" with each
        // session's last state (track_bfd).
        let bfds = &self.router.track().bfds;
        o.push_str(&rkeepalived_dump::bfd::vrrp_track_bfds(&self.cfg, |n| {
            bfds.get(n).copied().unwrap_or(false)
        }));
        let _ = writeln!(o, "------< Interfaces >------");
        self.ka_dump_interfaces(o);
        out
    }

    /// `/tmp/keepalived.stats`: vrrp_print.c `vrrp_print_stats()`.
    pub(super) fn keepalived_stats(&self) -> String {
        let mut s = String::new();
        for rt in &self.instances {
            let k = KaStats::of(&rt.stats);
            let _ = writeln!(s, "VRRP Instance: {}", rt.cfg.name);
            let _ = writeln!(s, "  Advertisements:");
            let _ = writeln!(s, "    Received: {}", k.advert_rcvd);
            let _ = writeln!(s, "    Sent: {}", k.advert_sent);
            let _ = writeln!(s, "  Became master: {}", k.become_master);
            let _ = writeln!(s, "  Released master: {}", k.release_master);
            let _ = writeln!(s, "  Packet Errors:");
            let _ = writeln!(s, "    Length: {}", k.packet_len_err);
            let _ = writeln!(s, "    TTL: {}", k.ip_ttl_err);
            let _ = writeln!(s, "    Invalid Type: {}", k.invalid_type_rcvd);
            let _ = writeln!(s, "    Advertisement Interval: {}", k.advert_interval_err);
            let _ = writeln!(s, "    Address List: {}", k.addr_list_err);
            let _ = writeln!(s, "  Authentication Errors:");
            let _ = writeln!(s, "    Invalid Type: {}", k.invalid_authtype);
            let _ = writeln!(s, "    Type Mismatch: {}", k.authtype_mismatch);
            let _ = writeln!(s, "    Failure: {}", k.auth_failure);
            let _ = writeln!(s, "  Priority Zero:");
            let _ = writeln!(s, "    Received: {}", k.pri_zero_rcvd);
            let _ = writeln!(s, "    Sent: {}", k.pri_zero_sent);
        }
        s
    }

    /// `/tmp/keepalived.json`: vrrp_json.c `vrrp_json_dump()`, byte for byte.
    pub(super) fn keepalived_json(&self) -> String {
        let mut w = JsonWriter::new();
        w.start_array();
        for (i, rt) in self.instances.iter().enumerate() {
            let c = &rt.cfg;
            let fsm = self.router.fsm(i);
            let state = fsm.state();
            let secs = |d: Duration| d.as_secs_f64();
            w.start_object();
            w.name("data");
            w.start_object();
            w.string_field("iname", &c.name);
            w.uint_field("dont_track_primary", u64::from(c.dont_track_primary));
            w.uint_field("skip_check_adv_addr", u64::from(c.skip_check_adv_addr));
            w.uint_field("strict_mode", u64::from(c.strict_mode));
            w.string_field(
                "vmac_ifname",
                c.use_vmac.as_ref().map_or("", |v| v.name.as_str()),
            );
            w.string_field("ifp_ifname", rt.vmac.as_deref().unwrap_or(&rt.rx_if));
            w.uint_field(
                "master_priority",
                if state == State::Backup {
                    u64::from(fsm.master_priority().unwrap_or(0))
                } else {
                    0
                },
            );
            let (s, us) = cfmt::timeval(rt.last_transition.unwrap_or(self.started));
            w.name("last_transition");
            w.float_f(s as f64 + f64::from(us) / 1e6);
            w.float_field("garp_delay", secs(c.garp_master_delay));
            w.uint_field(
                "garp_refresh",
                c.garp_master_refresh.map_or(0, |d| d.as_secs()),
            );
            w.uint_field("garp_rep", u64::from(c.garp_master_repeat));
            w.uint_field("garp_refresh_rep", u64::from(c.garp_master_refresh_repeat));
            w.uint_field("garp_lower_prio_delay", c.garp_lower_prio_delay.as_secs());
            w.uint_field("garp_lower_prio_rep", u64::from(c.garp_lower_prio_repeat));
            w.uint_field("lower_prio_no_advert", u64::from(c.lower_prio_no_advert));
            w.uint_field(
                "higher_prio_send_advert",
                u64::from(c.higher_prio_send_advert),
            );
            w.uint_field("vrid", u64::from(c.virtual_router_id));
            w.uint_field("base_priority", u64::from(c.priority));
            w.uint_field("effective_priority", u64::from(fsm.effective_priority()));
            w.bool_field("vipset", state == State::Master);
            w.bool_field("promote_secondaries", c.promote_secondaries);
            w.float_field("adver_int", secs(c.advert_int));
            w.float_field(
                "master_adver_int",
                secs(fsm.master_adver_interval().as_duration()),
            );
            w.uint_field("accept", u64::from(c.accept));
            w.bool_field("nopreempt", c.nopreempt);
            w.uint_field("preempt_delay", c.preempt_delay.as_secs());
            w.uint_field("state", u64::from(state.number()));
            w.uint_field("wantstate", u64::from(state.number()));
            w.uint_field("version", u64::from(c.version.number()));
            w.bool_field("smtp_alert", c.smtp_alert);
            w.bool_field("notify_deleted", false);
            for (name, n) in [
                ("script_backup", &c.notify_backup),
                ("script_master", &c.notify_master),
                ("script_fault", &c.notify_fault),
                ("script_stop", &c.notify_stop),
                ("script", &c.notify),
                ("script_master_rx_lower_pri", &c.notify_master_rx_lower_pri),
            ] {
                if let Some(n) = n {
                    w.string_field(name, &cmd_str_resolved(&n.command));
                }
            }
            self.json_lists(&mut w, i);
            w.uint_field(
                "auth_type",
                match c.authentication.as_ref().map(|a| a.auth_type) {
                    None => 0,
                    Some(AuthType::Pass) => 1,
                    Some(AuthType::Ah) => 2,
                },
            );
            if let Some(a) = &c.authentication {
                w.string_field("auth_data", &a.auth_pass);
            }
            w.end_object();
            json_stats(&mut w, &KaStats::of(&rt.stats));
            w.end_object();
        }
        w.end_array();
        w.finish()
    }

    /// `vrrp_json_dump()`: an instance's address and tracking lists.
    fn json_lists(&self, w: &mut JsonWriter, i: usize) {
        let rt = &self.instances[i];
        let c = &rt.cfg;
        let state = self.router.fsm(i).state();
        let set = state == State::Master;
        let nvip = c.virtual_ipaddresses.len().min(rt.vips.len());
        for (name, list) in [("vips", &rt.vips[..nvip]), ("evips", &rt.vips[nvip..])] {
            if !list.is_empty() {
                w.name(name);
                w.start_array();
                for v in list {
                    w.string(&format_ipaddress(v, set));
                }
                w.end_array();
            }
        }
        if !c.track_interfaces.is_empty() {
            w.name("track_ifp");
            w.start_array();
            for t in &c.track_interfaces {
                w.string(&t.name);
            }
            w.end_array();
        }
        if !c.track_scripts.is_empty() {
            w.name("track_script");
            w.start_array();
            for t in &c.track_scripts {
                let cmd = self
                    .cfg
                    .vrrp_scripts
                    .iter()
                    .find(|s| s.name == t.name)
                    .map_or_else(|| t.name.clone(), |s| cmd_str_resolved(&s.script));
                w.string(&cmd);
            }
            w.end_array();
        }
    }
}

/// `vrrp_json_dump()`: an instance's "stats" object.
fn json_stats(w: &mut JsonWriter, k: &KaStats) {
    w.name("stats");
    w.start_object();
    w.uint_field("advert_rcvd", k.advert_rcvd);
    w.uint_field("advert_sent", k.advert_sent);
    w.uint_field("become_master", k.become_master);
    w.uint_field("release_master", k.release_master);
    w.uint_field("packet_len_err", k.packet_len_err);
    w.uint_field("advert_interval_err", k.advert_interval_err);
    w.uint_field("ip_ttl_err", k.ip_ttl_err);
    w.uint_field("invalid_type_rcvd", k.invalid_type_rcvd);
    w.uint_field("addr_list_err", k.addr_list_err);
    w.uint_field("invalid_authtype", k.invalid_authtype);
    w.uint_field("authtype_mismatch", k.authtype_mismatch);
    w.uint_field("auth_failure", k.auth_failure);
    w.uint_field("pri_zero_rcvd", k.pri_zero_rcvd);
    w.uint_field("pri_zero_sent", k.pri_zero_sent);
    w.end_object();
}
