//! The LVS half of the generator: checker defaults, checkers,
//! `virtual_server_group`s and `virtual_server`s.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use rkeepalived_config::model::*;

use super::*;

pub(super) fn checker_defaults(g: &mut Gen) -> CheckerDefaults {
    CheckerDefaults {
        connect_timeout: g.maybe(|g| g.pos_dur(100)),
        retry: g.maybe(|g| g.u32(1, 100)), // keepalived: >= 1 above checker level
        delay_before_retry: g.maybe(|g| g.dur(100)),
        warmup: g.maybe(|g| g.dur(100)),
        delay_loop: g.maybe(|g| g.pos_dur(100)),
        alpha: g.maybe(Gen::bool),
        log_all_failures: None, // checker-level only in keepalived
    }
}

/// What a checker inherits when it cannot set an option itself (keepalived:
/// MISC_CHECK has no connection options, FILE_CHECK/BFD_CHECK no options).
pub(super) fn inherited_common(
    kind: &CheckerKind,
    d: &CheckerDefaults,
    global_log_all: bool,
) -> CheckerCommon {
    let delay_loop = d.delay_loop.unwrap_or(Duration::from_secs(60));
    let mut c = CheckerCommon::defaults_for(kind, delay_loop);
    if let Some(v) = d.connect_timeout {
        c.connect_timeout = v;
    }
    if let Some(v) = d.retry {
        c.retry = v;
    }
    if let Some(v) = d.delay_before_retry {
        c.delay_before_retry = v;
    }
    if let Some(v) = d.warmup {
        c.warmup = v;
    }
    c.alpha = d.alpha.unwrap_or(false);
    c.log_all_failures = d.log_all_failures.unwrap_or(global_log_all);
    c
}

pub(super) fn checker(
    g: &mut Gen,
    cfg: &Config,
    rs_vhost: &Option<String>,
    inherit: &CheckerDefaults,
) -> Checker {
    let kind = match g.below(10) {
        0 => CheckerKind::Tcp,
        1 | 2 => {
            let mut h = HttpCheck {
                http_protocol: [HttpProtocol::V1_0, HttpProtocol::V1_0C, HttpProtocol::V1_1]
                    [usize::try_from(g.below(3)).unwrap_or(0)],
                fast_recovery: g.bool(),
                urls: Vec::new(),
                virtualhost: g.maybe(Gen::text).or_else(|| rs_vhost.clone()),
                enable_sni: g.bool(),
                tls_compliant: g.bool() && !g.1, // newer than keepalived 2.2.7
            };
            for _ in 0..=g.below(3) {
                let mut u = HttpUrl::new(g.text());
                u.digest = g.maybe(|g| format!("{:016x}{:016x}", g.next(), g.next()));
                u.status_codes = (0..=g.below(3))
                    .map(|_| {
                        let min = u16::try_from(g.range(100, 599)).unwrap_or(200);
                        let max = u16::try_from(g.range(i64::from(min), 599)).unwrap_or(min);
                        StatusRange { min, max }
                    })
                    .collect();
                u.virtualhost = g.maybe(Gen::text).or_else(|| h.virtualhost.clone());
                u.regex = g.maybe(Gen::text);
                u.regex_no_match = g.bool();
                u.regex_min_offset = g.maybe(|g| g.u32(0, 1000));
                u.regex_max_offset = g.maybe(|g| g.u32(0, 1000));
                h.urls.push(u);
            }
            if g.bool() {
                CheckerKind::Http(h)
            } else {
                CheckerKind::Ssl(h)
            }
        }
        3 => CheckerKind::Smtp(SmtpCheck {
            helo_name: g.text(),
        }),
        4 => CheckerKind::Dns(DnsCheck {
            query_type: DnsType::ALL[usize::try_from(g.below(7)).unwrap_or(0)],
            // keepalived refuses names with an empty label (".x", "a..b").
            name: {
                let n = g.text().replace("..", "._");
                if n.len() > 1 && n.starts_with('.') {
                    format!("x{n}")
                } else {
                    n
                }
            },
        }),
        5 => CheckerKind::Misc(MiscCheck {
            misc_path: g.text(),
            misc_timeout: g.secs(1, 100),
            misc_dynamic: g.bool(),
            user: g.maybe(Gen::user),
        }),
        6 => CheckerKind::Ping,
        7 => CheckerKind::Udp(UdpCheck {
            payload: g.maybe(|g| {
                (0..=g.below(5))
                    .map(|_| u8::try_from(g.below(256)).unwrap_or(0))
                    .collect()
            }),
            require_reply: g.maybe(|g| {
                (0..g.below(6))
                    .map(|_| {
                        let mask =
                            [0xff, 0xf0, 0x0f, 0x00][usize::try_from(g.below(4)).unwrap_or(0)];
                        let value = u8::try_from(g.below(256)).unwrap_or(0) & mask;
                        MaskedByte { value, mask }
                    })
                    .collect()
            }),
            min_reply_length: g.u32(0, 65535),
            max_reply_length: g.u32(0, 65535),
        }),
        _ => match cfg.vrrp_track_files.first() {
            Some(tf) => CheckerKind::File(FileCheck {
                track_file: tf.name.clone(),
                dynamic: g.bool() && !g.1, // newer than keepalived 2.2.7
                weight: i32::try_from(g.range(-1000, 1000)).unwrap_or(0),
                reverse: g.bool(),
            }),
            None => CheckerKind::Tcp,
        },
    };
    let common = CheckerCommon {
        connect_ip: g.maybe(|g| g.any_ip()),
        connect_port: g.maybe(|g| u16::try_from(g.range(1, 65535)).unwrap_or(1)),
        bindto: None,
        bind_port: g.maybe(|g| u16::try_from(g.range(1, 65535)).unwrap_or(1)),
        bind_if: g.maybe(|g| g.word("eth")),
        fwmark: g.maybe(|g| g.u32(0, u32::MAX)),
        connect_timeout: g.pos_dur(100),
        retry: g.u32(0, 100),
        delay_before_retry: g.dur(100),
        delay_loop: g.pos_dur(100),
        warmup: g.dur(100),
        alpha: g.bool(),
        log_all_failures: g.bool(),
    };
    // keepalived: the source address must be of the destination's family.
    let mut common = common;
    let dest_v6 = common.connect_ip.is_some_and(|a| a.is_ipv6());
    common.bindto = g.maybe(|g| g.ip(dest_v6));
    let base = inherited_common(&kind, inherit, cfg.global_defs.checker_log_all_failures);
    let common = match kind {
        CheckerKind::Misc(_) => CheckerCommon {
            connect_ip: None,
            connect_port: None,
            bindto: None,
            bind_port: None,
            bind_if: None,
            fwmark: None,
            connect_timeout: base.connect_timeout,
            ..common
        },
        CheckerKind::File(_) | CheckerKind::Bfd { .. } => base,
        _ => common,
    };
    Checker {
        origin: Origin::default(),
        common,
        kind,
    }
}

/// `virtual_server_group` number `i`.
pub(super) fn gen_virtual_server_group(g: &mut Gen, i: u64) -> VirtualServerGroup {
    let members = (0..=g.below(3))
        .map(|_| {
            if g.bool() {
                VsgMember::Fwmark {
                    mark: g.u32(1, u32::MAX),
                    // Always with a family: keepalived refuses a bare fwmark
                    // in a group mixing IPv4 and IPv6 addresses.
                    family: Some(if g.bool() {
                        AddressFamily::Inet
                    } else {
                        AddressFamily::Inet6
                    }),
                }
            } else {
                let v6 = g.bool();
                let first = g.ip(v6);
                let last = match first {
                    IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(
                        u32::from(a).saturating_add(u32::try_from(g.below(20)).unwrap_or(0)),
                    )),
                    IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(
                        u128::from(a).saturating_add(u128::from(g.below(20))),
                    )),
                };
                VsgMember::Range {
                    first,
                    last,
                    // keepalived: a port of only zeros is no port.
                    port: Some(u16::try_from(g.below(65535) + 1).unwrap_or(1)),
                }
            }
        })
        .collect();
    VirtualServerGroup {
        name: format!("VSG_{i}"),
        origin: Origin::default(),
        members,
    }
}

/// `virtual_server` number `i`.
pub(super) fn gen_virtual_server(
    g: &mut Gen,
    i: u64,
    group_names: &[String],
    cfg: &Config,
) -> VirtualServer {
    let port = u16::try_from(i + 1).unwrap_or(1);
    let service = match g.below(3) {
        0 => VirtualService::Fwmark(u32::try_from(i + 1).unwrap_or(1)),
        1 if usize::try_from(i).unwrap_or(usize::MAX) < group_names.len() => {
            VirtualService::Group(group_names[usize::try_from(i).unwrap_or(0)].clone())
        }
        _ => VirtualService::Addr {
            addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, u8::try_from(i + 1).unwrap_or(1))),
            port: if g.bool() { Some(port) } else { None },
        },
    };
    let mut vs = VirtualServer::new(service);
    vs.protocol =
        [Protocol::Tcp, Protocol::Udp, Protocol::Sctp][usize::try_from(g.below(3)).unwrap_or(0)];
    vs.lvs_sched = Scheduler::ALL[usize::try_from(g.below(14)).unwrap_or(0)];
    vs.sched_flags = SchedulerFlags {
        flag_1: g.bool(),
        flag_2: g.bool(),
        flag_3: g.bool(),
    };
    if matches!(vs.service, VirtualService::Fwmark(_)) {
        vs.protocol = Protocol::Tcp; // keepalived ignores it for fwmark services
    }
    vs.ops = vs.protocol == Protocol::Udp && g.bool();
    vs.lvs_method = g.method();
    // keepalived keeps at most 15 bytes of the name.
    vs.persistence_engine = g.maybe(|g| {
        let mut t = g.text();
        while t.len() > 15 {
            t.pop();
        }
        t
    });
    vs.persistence_timeout = g.maybe(|g| Duration::from_secs(g.below(100_000) + 1));
    if let VirtualService::Addr { port: None, .. } = vs.service {
        vs.persistence_timeout
            .get_or_insert(Duration::from_secs(360));
    }
    vs.persistence_granularity = g.maybe(|g| g.ip(false));
    if vs.persistence_granularity.is_some() {
        // keepalived: a granularity makes the service persistent.
        vs.persistence_timeout
            .get_or_insert(Duration::from_secs(360));
    }
    // Real servers are IPv4 here; another family would conflict.
    vs.ip_family = g.maybe(|_| AddressFamily::Inet);
    vs.ha_suspend = matches!(vs.service, VirtualService::Addr { .. }) && g.bool();
    vs.smtp_alert = g.bool();
    vs.virtualhost = g.maybe(Gen::text);
    vs.omega = g.bool();
    vs.quorum = g.u32(1, 1000);
    vs.quorum_up = g.maybe(Gen::notify);
    vs.quorum_down = g.maybe(Gen::notify);
    vs.hysteresis = g.u32(0, 1000);
    vs.inhibit_on_failure = g.bool();
    vs.sorry_server = g.maybe(|g| SorryServer {
        addr: g.ip(false),
        // keepalived reads a zero port as no port.
        port: g.maybe(|g| u16::try_from(g.range(1, 65535)).unwrap_or(1)),
        lvs_method: g.method(),
        inhibit: g.bool(),
    });
    vs.checker_defaults = checker_defaults(g);
    // keepalived's VS-level `alpha` is a plain flag (on or absent).
    if vs.checker_defaults.alpha == Some(false) {
        vs.checker_defaults.alpha = None;
    }
    vs.alpha = vs.checker_defaults.alpha.unwrap_or(false);
    for r in 0..=g.below(3) {
        let mut rs = RealServer::new(
            IpAddr::V4(Ipv4Addr::new(
                198,
                51,
                100,
                u8::try_from(r + 1).unwrap_or(1),
            )),
            // keepalived reads a zero port as no port.
            g.maybe(|g| u16::try_from(g.range(1, 65535)).unwrap_or(1)),
        );
        rs.weight = g.u32(0, 1_000_000);
        rs.lvs_method = g.method();
        rs.inhibit_on_failure = g.bool();
        rs.notify_up = g.maybe(Gen::notify);
        rs.notify_down = g.maybe(Gen::notify);
        rs.uthreshold = g.maybe(|g| g.u32(1000, 2000));
        rs.lthreshold = g.maybe(|g| g.u32(0, 999));
        rs.smtp_alert = g.bool();
        rs.virtualhost = g.maybe(Gen::text);
        rs.checker_defaults = checker_defaults(g);
        let inherited = rs.virtualhost.clone().or_else(|| vs.virtualhost.clone());
        let (v, r) = (&vs.checker_defaults, &rs.checker_defaults);
        let merged = CheckerDefaults {
            connect_timeout: r.connect_timeout.or(v.connect_timeout),
            retry: r.retry.or(v.retry),
            delay_before_retry: r.delay_before_retry.or(v.delay_before_retry),
            warmup: r.warmup.or(v.warmup),
            delay_loop: r.delay_loop.or(v.delay_loop),
            alpha: r.alpha.or(v.alpha),
            log_all_failures: r.log_all_failures.or(v.log_all_failures),
        };
        rs.checkers = (0..g.below(3))
            .map(|_| checker(g, cfg, &inherited, &merged))
            .collect();
        vs.real_servers.push(rs);
    }
    // The keepalived rules the parser applies (generate fix-points only):
    // ports follow the VS except NAT, quorum <= total weight, hysteresis < quorum.
    let vs_port = match &vs.service {
        VirtualService::Addr { port, .. } => Some(*port),
        VirtualService::Fwmark(_) => Some(None),
        VirtualService::Group(_) => None,
    };
    let fwmark = matches!(vs.service, VirtualService::Fwmark(_));
    let fix = |method: ForwardingMethod, port: &mut Option<u16>| {
        let Some(vp) = vs_port else { return };
        if method == ForwardingMethod::Nat {
            if !fwmark && port.is_none() {
                *port = vp;
            }
        } else {
            *port = vp;
        }
    };
    // A sorry server that is also a real server takes its inhibit setting
    // (keepalived's fix-up, tested in fixups_lvs.rs): keep them apart here.
    if let Some(s) = &mut vs.sorry_server {
        while vs.real_servers.iter().any(|r| r.addr == s.addr) {
            s.addr = match s.addr {
                IpAddr::V4(a) => IpAddr::V4(std::net::Ipv4Addr::from(u32::from(a).wrapping_add(1))),
                IpAddr::V6(a) => {
                    IpAddr::V6(std::net::Ipv6Addr::from(u128::from(a).wrapping_add(1)))
                }
            };
        }
    }
    for rs in &mut vs.real_servers {
        fix(rs.lvs_method, &mut rs.port);
    }
    if let Some(s) = &mut vs.sorry_server {
        fix(s.lvs_method, &mut s.port);
    }
    let sum: u64 = vs.real_servers.iter().map(|r| u64::from(r.weight)).sum();
    vs.quorum = vs.quorum.min(u32::try_from(sum).unwrap_or(u32::MAX));
    if vs.hysteresis >= vs.quorum {
        vs.hysteresis = vs.quorum.saturating_sub(1);
    }
    vs
}
