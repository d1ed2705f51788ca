//! The deterministic generator behind the round-trip properties: builds a
//! valid [`Config`] from a proptest-chosen seed, respecting the model's
//! invariants (what the parser resolves: families, v2 whole-second adverts,
//! inherited virtualhosts, ...).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use rkeepalived_config::model::*;

#[path = "generator_lvs.rs"]
mod lvs;
use lvs::*;

/// `tame`: only values keepalived 2.2.7 itself can read back (its quoting
/// does not handle quotes, braces or comment characters inside strings, and
/// it does not know rkeepalived's extensions).
struct Gen(u64, bool);

impl Gen {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo + 1).unwrap_or(1))).unwrap_or(0)
    }
    fn bool(&mut self) -> bool {
        self.below(2) == 0
    }
    fn maybe<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.bool() {
            Some(f(self))
        } else {
            None
        }
    }
    fn u32(&mut self, lo: u32, hi: u32) -> u32 {
        u32::try_from(self.range(i64::from(lo), i64::from(hi))).unwrap_or(lo)
    }
    /// Any printable-ish string, including characters that need quoting.
    fn text(&mut self) -> String {
        if self.1 {
            return self.word("t");
        }
        const CHARS: &[char] = &[
            'a', 'b', 'z', 'A', '0', '9', '_', '-', '.', '/', ' ', '#', '!', '"', '\'', '\\', '$',
            '{', '}', '@', '~', '\t', '\n', 'é', ':', '=', '%', ',',
        ];
        let len = self.below(12) + 1;
        (0..len)
            .map(|_| CHARS[usize::try_from(self.below(CHARS.len() as u64)).unwrap_or(0)])
            .collect()
    }
    fn word(&mut self, prefix: &str) -> String {
        format!("{prefix}{}", self.below(1000))
    }
    /// Microsecond-resolution duration up to `max_secs`.
    fn dur(&mut self, max_secs: u64) -> Duration {
        if self.bool() {
            Duration::from_secs(self.below(max_secs + 1))
        } else {
            Duration::from_micros(self.below(max_secs * 1_000_000 + 1))
        }
    }
    /// keepalived reads some timers as whole seconds only.
    fn secs(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_secs(lo + self.below(hi - lo + 1))
    }
    fn pos_dur(&mut self, max_secs: u64) -> Duration {
        self.dur(max_secs).max(Duration::from_micros(1))
    }
    fn v4(&mut self) -> Ipv4Addr {
        // Documentation ranges only.
        let nets = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
        let n = nets[usize::try_from(self.below(3)).unwrap_or(0)];
        Ipv4Addr::new(n[0], n[1], n[2], u8::try_from(self.below(256)).unwrap_or(1))
    }
    fn v6(&mut self) -> Ipv6Addr {
        Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            0,
            0,
            0,
            0,
            u16::try_from(self.below(65536)).unwrap_or(1),
        )
    }
    fn ip(&mut self, v6: bool) -> IpAddr {
        if v6 {
            IpAddr::V6(self.v6())
        } else {
            IpAddr::V4(self.v4())
        }
    }
    fn any_ip(&mut self) -> IpAddr {
        let v6 = self.bool();
        self.ip(v6)
    }
    fn prefix(&mut self, v6: bool) -> IpPrefix {
        let addr = self.ip(v6);
        let len = u8::try_from(self.below(if v6 { 129 } else { 33 })).unwrap_or(0);
        IpPrefix { addr, len }
    }
    fn user(&mut self) -> ScriptUser {
        ScriptUser {
            user: self.word("u"),
            group: self.maybe(|g| g.word("g")),
        }
    }
    fn notify(&mut self) -> Notify {
        Notify {
            command: self.text(),
            user: self.maybe(Gen::user),
        }
    }
    fn scope(&mut self) -> Scope {
        match self.below(6) {
            0 => Scope::Global,
            1 => Scope::Site,
            2 => Scope::Link,
            3 => Scope::Host,
            4 => Scope::Nowhere,
            _ => Scope::Other(u8::try_from(self.range(1, 199)).unwrap_or(1)),
        }
    }
    fn method(&mut self) -> ForwardingMethod {
        match self.below(3) {
            0 => ForwardingMethod::Nat,
            1 => ForwardingMethod::Dr,
            _ => {
                let tunnel_type = match self.below(3) {
                    0 => TunnelType::Ipip,
                    1 => TunnelType::Gre,
                    _ => TunnelType::Gue {
                        port: u16::try_from(self.range(1, 65535)).unwrap_or(1),
                    },
                };
                let mut checksum = match self.below(4) {
                    0 => TunnelChecksum::Default,
                    1 => TunnelChecksum::NoCsum,
                    2 => TunnelChecksum::Csum,
                    _ => TunnelChecksum::RemCsum,
                };
                if tunnel_type == TunnelType::Gre && checksum == TunnelChecksum::RemCsum {
                    checksum = TunnelChecksum::Csum;
                }
                // keepalived: ipip tunnels take no checksum option.
                if tunnel_type == TunnelType::Ipip {
                    checksum = TunnelChecksum::Default;
                }
                ForwardingMethod::Tun {
                    tunnel_type,
                    checksum,
                }
            }
        }
    }
}

fn vip(g: &mut Gen, v6: bool, dev: &str) -> VirtualIpAddress {
    let addr = g.ip(v6);
    let mut a = VirtualIpAddress::new(addr, dev);
    a.prefix_len = u8::try_from(g.below(if v6 { 129 } else { 33 })).unwrap_or(0);
    // keepalived: IPv6 addresses have neither broadcast nor label.
    a.brd = if v6 { None } else { g.maybe(|g| g.ip(v6)) };
    if g.bool() {
        a.dev = g.word("eth");
    }
    // keepalived ignores a scope on an IPv6 address.
    a.scope = if v6 { None } else { g.maybe(Gen::scope) };
    a.label = if v6 {
        None
    } else {
        g.maybe(|g| g.word("eth0:"))
    };
    a.peer = g.maybe(|g| g.ip(v6));
    if a.peer.is_some() {
        // keepalived: a peer address means a host prefix and no broadcast.
        a.prefix_len = if v6 { 128 } else { 32 };
        a.brd = None;
    }
    a.home = g.bool();
    a.nodad = g.bool();
    a.mngtmpaddr = g.bool();
    a.noprefixroute = g.bool();
    a.autojoin = g.bool();
    a.no_track = g.bool();
    a.use_vmac = g.bool() && !g.1; // not accepted by keepalived 2.2.7 itself
    a.preferred_lft = g.maybe(|g| g.u32(0, u32::MAX));
    a
}

fn route(g: &mut Gen) -> VirtualRoute {
    let v6 = g.bool();
    let mut r = VirtualRoute::new(g.prefix(v6));
    r.route_type = [
        RouteType::Unicast,
        RouteType::Blackhole,
        RouteType::Unreachable,
        RouteType::Prohibit,
        RouteType::Throw,
        RouteType::Local,
        RouteType::Broadcast,
        RouteType::Multicast,
    ][usize::try_from(g.below(8)).unwrap_or(0)];
    // keepalived: source-specific routes are IPv6 only.
    r.from = if v6 { g.maybe(|g| g.prefix(v6)) } else { None };
    r.src = g.maybe(|g| g.ip(v6));
    r.via = g.maybe(|g| g.ip(v6));
    r.dev = g.maybe(|g| g.word("eth"));
    r.onlink = g.bool();
    // Extra next hops only after a gateway (else the first would become it).
    for _ in 0..if r.via.is_some() { g.below(3) } else { 0 } {
        let nh = NextHop {
            via: Some(g.ip(v6)),
            dev: g.maybe(|g| g.word("eth")),
            onlink: g.bool(),
            weight: g.maybe(|g| u8::try_from(g.range(1, 255)).unwrap_or(1)),
        };
        r.nexthops.push(nh);
    }
    r.table = g.maybe(|g| g.u32(0, u32::MAX));
    r.metric = g.maybe(|g| g.u32(0, u32::MAX));
    r.scope = g.maybe(Gen::scope);
    r.protocol = g.maybe(|g| u8::try_from(g.below(256)).unwrap_or(0));
    r.tos = g.maybe(|g| u8::try_from(g.below(256)).unwrap_or(0));
    r.no_track = g.bool();
    // keepalived: tracked routes always use protocol 18 (keepalived), and
    // a route without its own dev (as printed) is not tracked.
    if !r.no_track {
        r.protocol = Some(18);
        if !r.nexthops.is_empty() || r.dev.is_none() {
            r.no_track = true;
        }
    }
    r.mtu = g.maybe(|g| g.u32(0, u32::MAX));
    r.advmss = g.maybe(|g| g.u32(0, u32::MAX));
    r
}

fn rule(g: &mut Gen) -> VirtualRule {
    let v6 = g.bool();
    let family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let action = match g.below(6) {
        0 => RuleAction::Table(g.u32(0, u32::MAX)),
        1 => RuleAction::Goto(g.u32(0, u32::MAX)),
        2 => RuleAction::Blackhole,
        3 => RuleAction::Unreachable,
        4 => RuleAction::Prohibit,
        _ => RuleAction::Nop,
    };
    let mut r = VirtualRule::new(family, action);
    r.from = g.maybe(|g| g.prefix(v6));
    r.to = g.maybe(|g| g.prefix(v6));
    // keepalived numbers rules without a priority itself, and skips a goto
    // rule whose priority is not below its target.
    r.priority = Some(match r.action {
        RuleAction::Goto(0) => {
            r.action = RuleAction::Goto(1);
            0
        }
        RuleAction::Goto(target) => g.u32(0, target - 1),
        _ => g.u32(0, u32::MAX),
    });
    r.tos = g.maybe(|g| u8::try_from(g.below(256)).unwrap_or(0));
    r.fwmark = g.maybe(|g| g.u32(0, u32::MAX));
    if r.fwmark.is_some() {
        r.fwmask = g.maybe(|g| g.u32(0, u32::MAX));
    }
    r.iif = g.maybe(|g| g.word("eth"));
    r.oif = g.maybe(|g| g.word("eth"));
    r.no_track = g.bool();
    r.invert = g.bool();
    r
}

fn track_refs(g: &mut Gen, names: &[String], lo: i64, hi: i64) -> Vec<TrackRef> {
    let mut out = Vec::new();
    for n in names {
        if g.bool() {
            out.push(TrackRef {
                name: n.clone(),
                weight: i32::try_from(g.range(lo, hi)).unwrap_or(0),
                reverse: g.bool(),
            });
        }
    }
    out
}

pub(crate) fn config(seed: u64, tame: bool) -> Config {
    let mut g = Gen(seed, tame);
    let mut cfg = Config::default();
    gen_global(&mut g, &mut cfg.global_defs);

    cfg.static_ipaddresses = (0..g.below(3))
        .map(|_| {
            // keepalived: `use_vmac` is a virtual_ipaddress option only.
            let mut a = vip(&mut g, false, "eth0");
            a.use_vmac = false;
            a
        })
        .collect();
    cfg.static_routes = (0..g.below(3)).map(|_| route(&mut g)).collect();
    cfg.static_rules = (0..g.below(3)).map(|_| rule(&mut g)).collect();

    for i in 0..g.below(3) {
        let mut s = VrrpScript::new(format!("chk_{i}"), g.text());
        s.interval = g.secs(1, 100);
        s.timeout = g.secs(1, 100);
        s.weight = i32::try_from(g.range(-253, 253)).unwrap_or(0);
        s.weight_reverse = g.bool();
        s.rise = g.u32(1, 100);
        s.fall = g.u32(1, 100);
        s.user = g.maybe(Gen::user);
        s.init_fail = g.bool();
        cfg.vrrp_scripts.push(s);
    }
    for i in 0..g.below(3) {
        cfg.vrrp_track_files.push(VrrpTrackFile {
            name: format!("tf_{i}"),
            origin: Origin::default(),
            file: PathBuf::from(g.text()),
            weight: i32::try_from(g.range(-254, 254)).unwrap_or(0),
            reverse: g.bool(),
            init_file: g.maybe(|g| TrackFileInit {
                value: g.range(-254, 254),
                overwrite: g.bool(),
            }),
        });
    }
    let script_names: Vec<String> = cfg.vrrp_scripts.iter().map(|s| s.name.clone()).collect();
    let file_names: Vec<String> = cfg
        .vrrp_track_files
        .iter()
        .map(|s| s.name.clone())
        .collect();

    for i in 0..g.below(4) {
        let v = gen_instance(&mut g, i, &cfg.global_defs, &script_names, &file_names);
        cfg.vrrp_instances.push(v);
    }
    let instance_names: Vec<String> = cfg.vrrp_instances.iter().map(|v| v.name.clone()).collect();
    cfg.global_defs.lvs_sync_daemon = g.maybe(|g| LvsSyncDaemon {
        interface: g.word("eth"),
        vrrp_instance: instance_names.first().cloned().filter(|_| g.bool()),
        sync_id: g.maybe(|g| u8::try_from(g.below(256)).unwrap_or(0)),
        maxlen: g.maybe(|g| u16::try_from(g.range(1, 65507)).unwrap_or(1)),
        port: u16::try_from(g.range(1, 65535)).unwrap_or(8848),
        ttl: g.maybe(|g| u8::try_from(g.range(1, 255)).unwrap_or(1)),
        group: if g.bool() {
            IpAddr::V4(Ipv4Addr::new(224, 0, 0, 81))
        } else {
            IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x81))
        },
    });
    if instance_names.len() >= 2 && g.bool() {
        let mut sg = VrrpSyncGroup::new("SG_1");
        sg.group = instance_names[..2].to_vec();
        // Otherwise keepalived (and we) zero the members' tracking weights.
        sg.sync_group_tracking_weight = true;
        let ifs = vec!["sgif".to_string()];
        sg.track_interfaces = track_refs(&mut g, &ifs, -253, 253);
        sg.track_scripts = track_refs(&mut g, &script_names, -253, 253);
        sg.track_files = track_refs(&mut g, &file_names, -254, 254);
        sg.notify_master = g.maybe(Gen::notify);
        sg.notify_backup = g.maybe(Gen::notify);
        sg.notify_fault = g.maybe(Gen::notify);
        sg.notify_stop = g.maybe(Gen::notify);
        sg.notify = g.maybe(Gen::notify);
        sg.notify_priority_changes = g.bool();
        sg.smtp_alert = g.bool();
        sg.global_tracking = g.bool();
        cfg.vrrp_sync_groups.push(sg);
    }
    cfg.ssl = g.maybe(|g| SslConfig {
        password: g.maybe(Gen::text),
        ca: g.maybe(|g| PathBuf::from(g.text())),
        certificate: g.maybe(|g| PathBuf::from(g.text())),
        key: g.maybe(|g| PathBuf::from(g.text())),
    });
    for i in 0..g.below(3) {
        let vsg = gen_virtual_server_group(&mut g, i);
        cfg.virtual_server_groups.push(vsg);
    }
    let group_names: Vec<String> = cfg
        .virtual_server_groups
        .iter()
        .map(|g| g.name.clone())
        .collect();
    for i in 0..g.below(4) {
        let vs = gen_virtual_server(&mut g, i, &group_names, &cfg);
        cfg.virtual_servers.push(vs);
    }
    // Last, so that the values drawn for everything above stay the same.
    gen_bfd(&mut g, &mut cfg);
    cfg
}

/// The BFD process options, `bfd_instance` blocks and their `track_bfd` /
/// `BFD_CHECK` references
/// (model/bfd.rs): valid sessions with distinct neighbors, within
/// keepalived's get_rt_rlimit() makes 1 into 2 ("the rlim value is divided
/// by 2 elsewhere"), as our parser does: 1 cannot round-trip.
fn rlimit_rttime(g: &mut Gen) -> u64 {
    g.below(100_000) + 2
}

/// keepalived's ranges (no "larger than max sensible" interval).
fn gen_bfd(g: &mut Gen, cfg: &mut Config) {
    let p = &mut cfg.global_defs.bfd_process;
    p.priority = g.maybe(|g| i32::try_from(g.range(-20, 19)).unwrap_or(0));
    p.rt_priority = g.maybe(|g| g.u32(1, 99));
    p.no_swap = g.bool();
    // keepalived checks CPU ids against the host: none when tame.
    let n_cpus = if g.1 { 0 } else { g.below(3) };
    p.cpu_affinity = (0..n_cpus).map(|_| g.u32(0, 64)).collect();
    p.rlimit_rttime = g.maybe(rlimit_rttime);
    for i in 0..g.below(4) {
        let v6 = g.bool();
        let nbr: IpAddr = if v6 {
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                0xbfd,
                0,
                0,
                0,
                0,
                u16::try_from(i + 1).unwrap_or(1),
            ))
        } else {
            IpAddr::V4(Ipv4Addr::new(203, 0, 113, u8::try_from(i + 1).unwrap_or(1)))
        };
        let mut s = BfdSession::new(nbr);
        s.source_ip = g.maybe(|g| g.ip(v6));
        s.min_rx_us = g.u32(1_000, 10_000_000);
        s.min_tx_us = g.u32(1_000, 10_000_000);
        s.idle_tx_us = g.u32(1_000_000, 10_000_000);
        s.multiplier = u8::try_from(g.range(1, 255)).unwrap_or(5);
        s.passive = g.bool();
        s.ttl = u8::try_from(g.range(1, 255)).unwrap_or(255);
        s.max_hops = u8::try_from(g.range(0, i64::from(s.ttl))).unwrap_or(0);
        let mut b = BfdInstance::new(format!("bfd_{i}"), Some(s));
        b.weight = i32::try_from(g.range(-253, 253)).unwrap_or(0);
        b.reverse = g.bool();
        match g.below(4) {
            0 => b.checker = false,
            1 => b.vrrp = false,
            _ => {}
        }
        cfg.bfd_instances.push(b);
    }
    let names = |want: fn(&BfdInstance) -> bool| -> Vec<String> {
        cfg.bfd_instances
            .iter()
            .filter(|b| want(b))
            .map(|b| b.name.clone())
            .collect()
    };
    let (vrrp, checker) = (names(|b| b.vrrp), names(|b| b.checker));
    for v in &mut cfg.vrrp_instances {
        v.track_bfds = track_refs(g, &vrrp, -253, 253);
    }
    for sg in &mut cfg.vrrp_sync_groups {
        sg.track_bfds = track_refs(g, &vrrp, -253, 253);
    }
    let log_all = cfg.global_defs.checker_log_all_failures;
    for vs in &mut cfg.virtual_servers {
        for rs in &mut vs.real_servers {
            for name in &checker {
                if g.below(3) != 0 {
                    continue;
                }
                let (v, r) = (&vs.checker_defaults, &rs.checker_defaults);
                let merged = CheckerDefaults {
                    delay_loop: r.delay_loop.or(v.delay_loop),
                    connect_timeout: r.connect_timeout.or(v.connect_timeout),
                    retry: r.retry.or(v.retry),
                    delay_before_retry: r.delay_before_retry.or(v.delay_before_retry),
                    warmup: r.warmup.or(v.warmup),
                    alpha: r.alpha.or(v.alpha),
                    log_all_failures: r.log_all_failures.or(v.log_all_failures),
                };
                let kind = CheckerKind::Bfd { name: name.clone() };
                let mut common = inherited_common(&kind, &merged, log_all);
                common.alpha = g.bool();
                rs.checkers.push(Checker {
                    origin: Origin::default(),
                    common,
                    kind,
                });
            }
        }
    }
}

/// `global_defs` (the `tame` variant leaves out what keepalived 2.2.7 does
/// not know).
fn gen_global(g: &mut Gen, gd: &mut GlobalDefs) {
    gd.router_id = g.maybe(Gen::text);
    gd.notification_email = (0..g.below(3)).map(|_| g.text()).collect();
    gd.notification_email_from = g.maybe(Gen::text);
    gd.smtp_server = g.maybe(|g| SmtpServer {
        host: if g.1 {
            "192.0.2.25".to_string()
        } else {
            g.word("mail")
        },
        port: u16::try_from(g.range(1, 65535)).unwrap_or(25),
    });
    gd.smtp_helo_name = g.maybe(Gen::text);
    gd.smtp_connect_timeout = g.secs(1, 100);
    gd.smtp_alert = g.bool();
    gd.smtp_alert_vrrp = g.bool();
    gd.smtp_alert_checker = g.bool();
    gd.no_email_faults = g.bool();
    gd.checker_log_all_failures = g.bool();
    gd.script_user = g.maybe(Gen::user);
    gd.enable_script_security = g.bool();
    gd.startup_script = g.maybe(Gen::notify);
    gd.startup_script_timeout = Duration::from_secs(g.below(1000) + 1);
    gd.shutdown_script = g.maybe(Gen::notify);
    gd.shutdown_script_timeout = Duration::from_secs(g.below(1000) + 1);
    gd.default_interface = g.word("eth");
    gd.vrrp_version = if g.bool() {
        VrrpVersion::V2
    } else {
        VrrpVersion::V3
    };
    gd.vrrp_mcast_group4 = Ipv4Addr::new(224, 0, 0, u8::try_from(g.below(256)).unwrap_or(18));
    gd.vrrp_mcast_group6 = Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        0,
        0,
        u16::try_from(g.below(65536)).unwrap_or(0x12),
    );
    gd.vrrp_min_garp = g.bool();
    gd.vrrp_garp_master_delay = g.secs(0, 100);
    gd.vrrp_garp_master_repeat = g.u32(1, 65535);
    gd.vrrp_garp_master_refresh = g.maybe(|g| g.secs(1, 100));
    gd.vrrp_garp_master_refresh_repeat = g.u32(1, 65535);
    gd.vrrp_garp_lower_prio_delay = g.secs(0, 100);
    gd.vrrp_garp_lower_prio_repeat = g.u32(0, 65535);
    gd.vrrp_garp_interval = g.dur(2);
    gd.vrrp_gna_interval = g.dur(2);
    gd.vrrp_down_timer_adverts = g.u32(1, 100);
    gd.vrrp_lower_prio_no_advert = g.bool();
    gd.vrrp_higher_prio_send_advert = g.bool();
    gd.vrrp_strict = g.bool();
    gd.vrrp_skip_check_adv_addr = g.bool();
    gd.vrrp_check_unicast_src = g.bool();
    // keepalived's vrrp_startup_delay_handler() rejects less than 1 ms
    // (TIMER_HZ / 1000) and keeps 0: such a value cannot round-trip.
    gd.vrrp_startup_delay = Some(g.dur(100))
        .filter(|d| *d >= Duration::from_millis(1))
        .unwrap_or_default();
    let fifo = |g: &mut Gen| NotifyFifo {
        path: PathBuf::from(g.text()),
        user: g.maybe(Gen::user),
        script: g.maybe(Gen::notify),
    };
    gd.notify_fifo = g.maybe(fifo);
    gd.vrrp_notify_fifo = g.maybe(fifo);
    gd.lvs_notify_fifo = g.maybe(fifo);
    gd.lvs_timeouts = LvsTimeouts {
        tcp: g.maybe(|g| Duration::from_secs(g.below(1000) + 1)),
        tcpfin: g.maybe(|g| Duration::from_secs(g.below(1000) + 1)),
        udp: g.maybe(|g| Duration::from_secs(g.below(1000) + 1)),
    };
    gd.lvs_flush = g.bool();
    gd.lvs_flush_on_stop = [
        LvsFlushOnStop::No,
        LvsFlushOnStop::Flush,
        LvsFlushOnStop::VirtualServers,
    ][usize::try_from(g.below(3)).unwrap_or(0)];
    for p in [&mut gd.vrrp_process, &mut gd.checker_process] {
        p.priority = g.maybe(|g| i32::try_from(g.range(-20, 19)).unwrap_or(0));
        p.rt_priority = g.maybe(|g| g.u32(1, 99));
        p.no_swap = g.bool();
        // keepalived checks CPU ids against the host: none when tame.
        let n_cpus = if g.1 { 0 } else { g.below(3) };
        p.cpu_affinity = (0..n_cpus).map(|_| g.u32(0, 64)).collect();
        p.rlimit_rttime = g.maybe(rlimit_rttime);
    }
    gd.dynamic_interfaces = g.bool();
    gd.vmac_prefix = g.word("vm");
    if !g.1 {
        gd.metrics_listen =
            g.maybe(|g| SocketAddr::new(g.any_ip(), u16::try_from(g.below(65536)).unwrap_or(0)));
        gd.metrics_serve_status = g.bool();
        gd.metrics_web_config = g.maybe(|g| PathBuf::from(g.text()));
        gd.status_socket = g.maybe(|g| PathBuf::from(g.text()));
    }
}

/// `vrrp_instance` number `i`.
fn gen_instance(
    g: &mut Gen,
    i: u64,
    global: &GlobalDefs,
    script_names: &[String],
    file_names: &[String],
) -> VrrpInstance {
    let vrid = u8::try_from(i + 1).unwrap_or(1);
    let v6 = g.below(3) == 0;
    let mut v = VrrpInstance::new(format!("VI_{i}"), g.word("eth"), vrid);
    v.state = if g.bool() {
        InitialState::Master
    } else {
        InitialState::Backup
    };
    // Not 255: the address owner drops weighted tracking (keepalived rule).
    v.priority = u8::try_from(g.range(1, 254)).unwrap_or(100);
    v.family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    v.version = if v6 || g.bool() {
        VrrpVersion::V3
    } else {
        VrrpVersion::V2
    };
    v.advert_int = match v.version {
        VrrpVersion::V2 => Duration::from_secs(g.below(255) + 1),
        VrrpVersion::V3 => Duration::from_millis(10 * (g.below(4095) + 1)),
    };
    v.nopreempt = v.state == InitialState::Backup && g.bool();
    v.preempt_delay = g.dur(1000);
    if v.nopreempt || v.state == InitialState::Master {
        v.preempt_delay = Duration::ZERO;
    }
    // The family comes from the first VIP: always have one.
    v.virtual_ipaddresses = (0..=g.below(3)).map(|_| vip(g, v6, "eth0")).collect();
    v.virtual_ipaddresses_excluded = (0..g.below(3))
        .map(|_| {
            let fam6 = g.bool();
            vip(g, fam6, "eth0")
        })
        .collect();
    gen_transport(g, &mut v, v6, global);
    if v.version == VrrpVersion::V2 && g.bool() {
        let pass: String = (0..=g.below(8))
            .map(|_| ['a', 'Z', '1', ' ', '#'][usize::try_from(g.below(5)).unwrap_or(0)])
            .collect();
        v.authentication = Some(Authentication {
            auth_type: if g.bool() {
                AuthType::Pass
            } else {
                AuthType::Ah
            },
            auth_pass: pass,
        });
    }
    if matches!(&v.authentication, Some(a) if a.auth_type == AuthType::Ah) {
        v.state = InitialState::Backup;
    }
    // keepalived strict mode (RFC conformance) forces these.
    v.strict_mode = v.unicast_peers.is_empty()
        && v.authentication.is_none()
        && v.state == InitialState::Backup
        && g.bool();
    v.accept = g.bool() && !(v.strict_mode && v.version == VrrpVersion::V2);
    v.virtual_routes = (0..g.below(3)).map(|_| route(g)).collect();
    v.virtual_rules = (0..g.below(3)).map(|_| rule(g)).collect();
    let ifs: Vec<String> = (0..g.below(3)).map(|k| format!("trk{k}")).collect();
    v.track_interfaces = track_refs(g, &ifs, -253, 253);
    v.track_scripts = track_refs(g, script_names, -253, 253);
    v.track_files = track_refs(g, file_names, -254, 254);
    v.dont_track_primary = g.bool();
    v.use_vmac = g.maybe(|g| Vmac {
        // keepalived ignores a vmac name another instance already uses.
        name: g.word(&format!("vrrp{i}.")),
        mac: g.maybe(|g| {
            let b = g.next().to_be_bytes();
            // keepalived ignores a multicast MAC (and the RFC 5798 ones,
            // which a first byte with bit 1 set never is).
            [b[0] & 0xfe | 0x02, b[1], b[2], b[3], b[4], b[5]]
        }),
        // keepalived: any unicast keyword turns it on.
        xmit_base: g.bool()
            || !v.unicast_peers.is_empty()
            || v.unicast_src_ip.is_some()
            || v.unicast_fault_no_peer
            || v.check_unicast_src,
    });
    // keepalived: set by the global one or the keyword, never cleared.
    v.skip_check_adv_addr = g.bool() || global.vrrp_skip_check_adv_addr;
    v.promote_secondaries = g.bool();
    gen_instance_options(g, &mut v, i);
    if v.strict_mode {
        v.preempt_delay = Duration::ZERO;
        v.garp_lower_prio_repeat = 0;
        v.garp_lower_prio_delay = Duration::ZERO;
        v.down_timer_adverts = 3;
        v.lower_prio_no_advert = true;
        v.higher_prio_send_advert = false;
        if let Some(m) = &mut v.use_vmac {
            m.xmit_base = false;
            m.mac = None;
        }
    }
    if v.use_vmac.is_some() {
        v.promote_secondaries = false;
    }
    v
}

/// Multicast/unicast addresses and peers of an instance.
fn gen_transport(g: &mut Gen, v: &mut VrrpInstance, v6: bool, global: &GlobalDefs) {
    v.mcast_src_ip = g.maybe(|g| g.ip(v6));
    v.mcast_dst_ip = g.maybe(|_| {
        if v6 {
            IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12))
        } else {
            IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18))
        }
    });
    v.unicast_src_ip = g.maybe(|g| g.ip(v6));
    v.unicast_peers = (0..g.below(3))
        .map(|_| UnicastPeer {
            addr: g.ip(v6),
            min_ttl: g.maybe(|g| u8::try_from(g.below(256)).unwrap_or(0)),
            max_ttl: g.maybe(|g| u8::try_from(g.below(256)).unwrap_or(0)),
        })
        .collect();
    v.unicast_ttl = if v.unicast_peers.is_empty() {
        None
    } else {
        g.maybe(|g| u8::try_from(g.below(256)).unwrap_or(0))
    };
    if !v.unicast_peers.is_empty() {
        v.mcast_dst_ip = None;
    }
    v.unicast_fault_no_peer = g.bool();
    // keepalived: a peer's TTL limit turns check_unicast_src on.
    v.check_unicast_src = g.bool()
        || global.vrrp_check_unicast_src
        || v.unicast_peers
            .iter()
            .any(|p| p.min_ttl.is_some() || p.max_ttl.is_some());
}

/// Notify scripts, GARP, advert options and the rest of an instance.
fn gen_instance_options(g: &mut Gen, v: &mut VrrpInstance, i: u64) {
    v.notify_master = g.maybe(Gen::notify);
    v.notify_backup = g.maybe(Gen::notify);
    v.notify_fault = g.maybe(Gen::notify);
    v.notify_stop = g.maybe(Gen::notify);
    v.notify = g.maybe(Gen::notify);
    v.notify_master_rx_lower_pri = g.maybe(Gen::notify);
    v.notify_priority_changes = g.bool();
    v.smtp_alert = g.bool();
    v.garp_master_delay = g.secs(0, 100);
    v.garp_master_repeat = g.u32(1, 65535);
    v.garp_master_refresh = g.maybe(|g| g.secs(1, 100));
    v.garp_master_refresh_repeat = g.u32(1, 65535);
    v.garp_lower_prio_delay = g.secs(0, 100);
    v.garp_lower_prio_repeat = g.u32(0, 65535);
    v.down_timer_adverts = g.u32(1, 100);
    v.lower_prio_no_advert = g.bool();
    v.higher_prio_send_advert = g.bool();
    // lvs_sync_daemon_interface is read into the global lvs_sync_daemon
    // (keyword_effects.rs); the draw keeps the generator's random stream.
    if i == 0 {
        let _ = g.maybe(|g| g.word("eth"));
    }
    v.debug = u8::try_from(g.below(5)).unwrap_or(0);
}
