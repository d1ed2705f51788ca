//! `rkeepalived_config::Config` -> [`CheckPlan`]: virtual_server_group
//! expansion (address ranges, fwmarks), forwarding/scheduler mapping to the
//! ipvs model, checker specs, and load-time script security checks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rkeepalived_config::model as cfg;
use rkeepalived_config::Config;
use rkeepalived_ipvs::netlink::Timeouts;
use rkeepalived_ipvs::{
    Dest, Family, Forwarding, Protocol, Scheduler, Service, ServiceFlags, ServiceKey, StopPolicy,
    TunnelFlags, TunnelType,
};
use rkeepalived_script::{Script, ScriptSecurity};

use crate::error::PlanError;
use crate::spec::*;

/// Most addresses one virtual_server_group range may expand to (a typo
/// like 2001:db8::/64 must not allocate the universe).
pub const MAX_GROUP_RANGE: u128 = 65_536;

/// Build the check plan for `config`.
pub fn from_config(config: &Config) -> Result<CheckPlan, PlanError> {
    let mut plan = without_dump(config)?;
    plan.dump = crate::check_print::PackedDump::from_config(config);
    Ok(plan)
}

/// [`from_config`] without the copy of the configuration as written that
/// only keepalived_check.data needs (an empty one instead): for callers
/// that only look at what the plan programs (the supervisor's IPVS
/// journal), which would otherwise clone every virtual server (~20 MB at
/// keepalived issue #2318 scale).
pub fn without_dump(config: &Config) -> Result<CheckPlan, PlanError> {
    let gd = &config.global_defs;
    // An unknown script_user disables the scripts that would use it (the
    // supervisor reported it); it is not fatal and never means root.
    let security = rkeepalived_script::config::security_from_config(gd);
    let mut virtual_servers = Vec::new();
    let mut timings = Timings::default();
    let ssl = client_auth(config);
    for vs in &config.virtual_servers {
        virtual_servers.push(virtual_server(
            config,
            vs,
            &security,
            &mut timings,
            ssl.as_ref(),
        )?);
    }
    let announce = announce_settings(&virtual_servers, gd);
    Ok(CheckPlan {
        alerts: crate::mail::AlertPlan::from_config(config),
        announce,
        virtual_servers,
        lvs_flush: gd.lvs_flush,
        lvs_timeouts: lvs_timeouts(&gd.lvs_timeouts),
        lvs_flush_on_stop: match gd.lvs_flush_on_stop {
            cfg::LvsFlushOnStop::No => StopPolicy::RemoveOwn,
            cfg::LvsFlushOnStop::VirtualServers => StopPolicy::VirtualServers,
            cfg::LvsFlushOnStop::Flush => StopPolicy::FlushAll,
        },
        checker_syncd: gd
            .lvs_sync_daemon
            .as_ref()
            .filter(|d| d.vrrp_instance.is_none())
            .map(|d| {
                // Without an instance the sync id defaults to 0 (vrrp.c
                // vrrp_complete_init; check_daemon.c start_check()).
                rkeepalived_ipvs::syncd::SyncdConfig::new(
                    &d.interface,
                    d.sync_id.map_or(0, u32::from),
                    d.maxlen,
                    d.port,
                    d.ttl,
                    d.group,
                )
            }),
        script_security: Some(security),
        notify_fifos: crate::events::fifos_from_config(gd),
        dump: Default::default(),
    })
}

/// `announce_protocol` and `announce_drain_delay`, when a virtual server
/// announces a route.
pub(crate) fn announce_settings(
    virtual_servers: &[VirtualServerSpec],
    gd: &cfg::GlobalDefs,
) -> Option<crate::announce::AnnounceSettings> {
    virtual_servers
        .iter()
        .any(|v| v.announce.is_some())
        .then(|| crate::announce::AnnounceSettings {
            protocol: gd.announce.protocol(),
            drain_delay: gd.announce.drain_delay(),
        })
}

/// `lvs_timeouts` as keepalived keeps them: whole seconds, 0 = not set
/// (global_parser.c `lvs_timeouts()` reads unsigned seconds up to
/// LVS_MAX_TIMEOUT, 31 days, so they always fit).
fn lvs_timeouts(t: &cfg::LvsTimeouts) -> Timeouts {
    let secs = |d: Option<std::time::Duration>| {
        d.map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
    };
    Timeouts {
        tcp: secs(t.tcp),
        tcp_fin: secs(t.tcpfin),
        udp: secs(t.udp),
    }
}

fn protocol(p: cfg::Protocol) -> Protocol {
    match p {
        cfg::Protocol::Tcp => Protocol::Tcp,
        cfg::Protocol::Udp => Protocol::Udp,
        cfg::Protocol::Sctp => Protocol::Sctp,
    }
}

pub fn forwarding(m: cfg::ForwardingMethod) -> Forwarding {
    match m {
        cfg::ForwardingMethod::Nat => Forwarding::Masq,
        cfg::ForwardingMethod::Dr => Forwarding::Direct,
        cfg::ForwardingMethod::Tun {
            tunnel_type,
            checksum,
        } => {
            let (tun_type, port) = match tunnel_type {
                cfg::TunnelType::Ipip => (TunnelType::Ipip, 0),
                cfg::TunnelType::Gue { port } => (TunnelType::Gue, port),
                cfg::TunnelType::Gre => (TunnelType::Gre, 0),
            };
            let flags = match checksum {
                cfg::TunnelChecksum::Default | cfg::TunnelChecksum::NoCsum => {
                    TunnelFlags(TunnelFlags::NOCSUM)
                }
                cfg::TunnelChecksum::Csum => TunnelFlags(TunnelFlags::CSUM),
                cfg::TunnelChecksum::RemCsum => TunnelFlags(TunnelFlags::REMCSUM),
            };
            Forwarding::Tunnel {
                tun_type,
                port,
                flags,
            }
        }
    }
}

fn family(f: cfg::AddressFamily) -> Family {
    match f {
        cfg::AddressFamily::Inet => Family::Inet,
        cfg::AddressFamily::Inet6 => Family::Inet6,
    }
}

/// Family of a fwmark service: explicit, else the real servers', else IPv4.
fn fwmark_family(explicit: Option<cfg::AddressFamily>, vs: &cfg::VirtualServer) -> Family {
    explicit
        .or(vs.ip_family)
        .map(family)
        .or_else(|| vs.real_servers.first().map(|rs| Family::of(&rs.addr)))
        .unwrap_or(Family::Inet)
}

fn expand_range(first: IpAddr, last: IpAddr, vs_name: &str) -> Result<Vec<IpAddr>, PlanError> {
    let err = |msg: String| PlanError::VirtualServer {
        vs: vs_name.to_string(),
        msg,
    };
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let (a, b) = (u32::from(a), u32::from(b));
            if b < a || u128::from(b - a) >= MAX_GROUP_RANGE {
                return Err(err(format!(
                    "address range {first}-{last} is empty or too large"
                )));
            }
            Ok((a..=b).map(|n| IpAddr::V4(Ipv4Addr::from(n))).collect())
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let (a, b) = (u128::from(a), u128::from(b));
            if b < a || b - a >= MAX_GROUP_RANGE {
                return Err(err(format!(
                    "address range {first}-{last} is empty or too large"
                )));
            }
            Ok((a..=b).map(|n| IpAddr::V6(Ipv6Addr::from(n))).collect())
        }
        _ => Err(err(format!("address range {first}-{last} mixes families"))),
    }
}

fn service_keys(
    config: &Config,
    vs: &cfg::VirtualServer,
) -> Result<(String, Vec<ServiceKey>), PlanError> {
    let proto = protocol(vs.protocol);
    Ok(match &vs.service {
        cfg::VirtualService::Addr { addr, port } => {
            let key = ServiceKey::Addr {
                proto,
                addr: *addr,
                port: port.unwrap_or(0),
            };
            (key.to_string(), vec![key])
        }
        cfg::VirtualService::Fwmark(mark) => {
            let key = ServiceKey::Fwmark {
                mark: *mark,
                family: fwmark_family(None, vs),
            };
            (key.to_string(), vec![key])
        }
        cfg::VirtualService::Group(name) => {
            let vs_name = format!("group {name} {proto:?}");
            let group =
                config
                    .virtual_server_group(name)
                    .ok_or_else(|| PlanError::VirtualServer {
                        vs: vs_name.clone(),
                        msg: format!("unknown virtual_server_group '{name}'"),
                    })?;
            let mut keys = Vec::new();
            for member in &group.members {
                match member {
                    cfg::VsgMember::Range { first, last, port } => {
                        for addr in expand_range(*first, *last, &vs_name)? {
                            keys.push(ServiceKey::Addr {
                                proto,
                                addr,
                                port: port.unwrap_or(0),
                            });
                        }
                    }
                    cfg::VsgMember::Fwmark { mark, family } => {
                        keys.push(ServiceKey::Fwmark {
                            mark: *mark,
                            family: fwmark_family(*family, vs),
                        });
                    }
                }
            }
            keys.sort();
            keys.dedup();
            (vs_name, keys)
        }
    })
}

fn netmask(vs: &cfg::VirtualServer, fam: Family) -> u32 {
    match vs.persistence_granularity {
        Some(IpAddr::V4(m)) => u32::from(m),
        Some(IpAddr::V6(m)) => u128::from(m).count_ones(),
        None => fam.full_netmask(),
    }
}

fn load_script(
    notify: &cfg::Notify,
    security: &ScriptSecurity,
    what: &str,
) -> Result<Result<Script, String>, PlanError> {
    // The one security check; also refuses unknown users (the supervisor
    // already removed what it refused, so this only catches later changes).
    Ok(
        match rkeepalived_script::config::prepare_notify(notify, security) {
            Ok(p) => Ok(p.script),
            Err(e) => {
                tracing::error!("{what} script '{}' disabled: {e}", notify.command);
                Err(e.to_string())
            }
        },
    )
}

/// Optional notify script: a refused script is dropped (keepalived
/// "Disabling notify script ... due to insecure").
fn optional_script(
    n: &Option<cfg::Notify>,
    security: &ScriptSecurity,
    what: &str,
) -> Result<Option<Script>, PlanError> {
    match n {
        None => Ok(None),
        Some(n) => Ok(load_script(n, security, what)?.ok()),
    }
}

/// One shared [`CheckTiming`] per distinct value: 10,000 checkers of a
/// virtual server then cost one 72-byte timing, not 10,000.
#[derive(Default)]
struct Timings(std::collections::HashSet<Arc<CheckTiming>>);

impl Timings {
    fn intern(&mut self, timing: CheckTiming) -> Arc<CheckTiming> {
        if let Some(shared) = self.0.get(&timing) {
            return Arc::clone(shared);
        }
        let shared = Arc::new(timing);
        self.0.insert(Arc::clone(&shared));
        shared
    }
}

fn virtual_server(
    config: &Config,
    vs: &cfg::VirtualServer,
    security: &ScriptSecurity,
    timings: &mut Timings,
    ssl: Option<&Arc<crate::tls::ClientAuth>>,
) -> Result<VirtualServerSpec, PlanError> {
    let (name, keys) = service_keys(config, vs)?;
    let first = *keys.first().ok_or_else(|| PlanError::VirtualServer {
        vs: name.clone(),
        msg: "no services".into(),
    })?;
    let mut flags = ServiceFlags::default();
    flags = flags.with(ServiceFlags::SCHED1, vs.sched_flags.flag_1);
    flags = flags.with(ServiceFlags::SCHED2, vs.sched_flags.flag_2);
    flags = flags.with(ServiceFlags::SCHED3, vs.sched_flags.flag_3);
    flags = flags.with(ServiceFlags::ONEPACKET, vs.ops);
    let mut service = Service::new(first, Scheduler::from_name(vs.lvs_sched.name()));
    service.flags = flags;
    if let Some(t) = vs.persistence_timeout {
        service = service.persistent(t.as_secs().min(u64::from(u32::MAX)) as u32);
    }
    service.netmask = netmask(vs, first.family());
    service.pe_name = vs.persistence_engine.clone();
    let vs_port = first.port();

    let mut real_servers = Vec::new();
    for rs in &vs.real_servers {
        let port = rs.port.unwrap_or(vs_port);
        let rs_label = rkeepalived_ipvs::model::SocketFmt(rs.addr, port).to_string();
        let weight = i32::try_from(rs.weight).map_err(|_| PlanError::RealServer {
            vs: name.clone(),
            rs: rs_label.clone(),
            msg: format!("weight {} out of range", rs.weight),
        })?;
        let mut dest = Dest::new(rs.addr, port, forwarding(rs.lvs_method), weight);
        dest.u_threshold = rs.uthreshold.unwrap_or(0);
        dest.l_threshold = rs.lthreshold.unwrap_or(0);
        let mut checkers = Vec::new();
        for c in &rs.checkers {
            match checker(config, c, &dest, security, timings, ssl)? {
                Some(spec) => checkers.push(Arc::new(spec)),
                None => {
                    tracing::warn!(vs = %name, rs = %rs_label, "{} is not supported by rkeepalived; ignored", c.kind.keyword())
                }
            }
        }
        checkers.shrink_to_fit();
        real_servers.push(RealServerSpec {
            dest,
            inhibit_on_failure: rs.inhibit_on_failure,
            notify_up: optional_script(&rs.notify_up, security, "notify_up")?.map(Box::new),
            notify_down: optional_script(&rs.notify_down, security, "notify_down")?.map(Box::new),
            checkers,
            alpha: false,
        });
    }
    let sorry_server = vs.sorry_server.as_ref().map(|s| {
        Dest::new(
            s.addr,
            s.port.unwrap_or(vs_port),
            forwarding(s.lvs_method),
            1,
        )
    });
    real_servers.shrink_to_fit();
    Ok(VirtualServerSpec {
        name,
        service,
        keys,
        real_servers: real_servers.into(),
        sorry_server,
        sorry_server_inhibit: vs.sorry_server.as_ref().is_some_and(|s| s.inhibit),
        quorum: vs.quorum,
        hysteresis: vs.hysteresis,
        quorum_up: optional_script(&vs.quorum_up, security, "quorum_up")?,
        quorum_down: optional_script(&vs.quorum_down, security, "quorum_down")?,
        omega: vs.omega,
        ha_suspend: vs.ha_suspend,
        // The virtual server's own value (0 = off) wins over global_defs'.
        drain_on_remove: vs
            .drain_on_remove
            .or(config.global_defs.drain_on_remove)
            .filter(|d| !d.is_zero()),
        announce: announce_route(vs, &config.global_defs.announce),
    })
}

/// `announce_route` of a virtual server: on, with a table (its own or
/// `announce_table`); without a table it is not announced (warned by
/// the config crate's `parse::announce::validate`).
fn announce_route(
    vs: &cfg::VirtualServer,
    global: &cfg::AnnounceDefaults,
) -> Option<crate::announce::VsRoute> {
    let a = vs.announce.as_deref().filter(|a| a.enabled)?;
    Some(crate::announce::VsRoute {
        table: a.table.or(global.table)?,
        metric: a.metric.or(global.metric).unwrap_or(0),
    })
}

/// A url's `regex`. One that does not compile is logged and dropped, so
/// the url is checked without it (keepalived `prepare_regex`: "Invalid
/// regex: ... - the url's other checks still run); it never stops the
/// checker.
fn url_regex(u: &cfg::HttpUrl, checker: &str) -> Option<Box<UrlRegex>> {
    let pattern = u.regex.as_deref()?;
    match UrlRegex::new(
        pattern,
        u.regex_no_match,
        u.regex_min_offset,
        u.regex_max_offset,
    ) {
        Ok(r) => Some(Box::new(r)),
        Err(e) => {
            tracing::error!(
                "{checker} url {}: Invalid regex: '{pattern}': {e}; keyword 'regex' ignored",
                u.path
            );
            None
        }
    }
}

/// The `SSL { }` block for SSL_GET. Unreadable or invalid files are
/// logged naming the keyword and the SSL_GET checkers run without a client
/// certificate. **Difference**: keepalived terminates its checker process
/// ("Error Initialize SSL, ctx Instance" ... "Terminate...").
fn client_auth(config: &Config) -> Option<Arc<crate::tls::ClientAuth>> {
    let ssl = config.ssl.as_ref()?;
    let needed = config.virtual_servers.iter().any(|vs| {
        vs.real_servers.iter().any(|rs| {
            rs.checkers
                .iter()
                .any(|c| matches!(c.kind, cfg::CheckerKind::Ssl(_)))
        })
    });
    if !needed {
        return None;
    }
    match crate::tls::ClientAuth::load(ssl) {
        Ok(a) => Some(Arc::new(a)),
        Err(e) => {
            tracing::error!("{e}; SSL_GET checks run without a client certificate");
            None
        }
    }
}

fn http_spec(
    h: &cfg::HttpCheck,
    tls: bool,
    client_auth: Option<&Arc<crate::tls::ClientAuth>>,
) -> HttpSpec {
    let checker = if tls { "SSL_GET" } else { "HTTP_GET" };
    HttpSpec {
        tls,
        urls: h
            .urls
            .iter()
            .map(|u| UrlSpec {
                path: u.path.clone(),
                digest: u.digest.clone(),
                status_codes: StatusCodes(u.status_codes.iter().map(|r| (r.min, r.max)).collect()),
                virtualhost: u.virtualhost.clone(),
                regex: url_regex(u, checker),
            })
            .collect(),
        protocol: match h.http_protocol {
            cfg::HttpProtocol::V1_0 => HttpProtocol::Http10,
            cfg::HttpProtocol::V1_0C => HttpProtocol::Http10Close,
            cfg::HttpProtocol::V1_1 => HttpProtocol::Http11,
        },
        virtualhost: h.virtualhost.clone(),
        enable_sni: h.enable_sni,
        client_auth: if tls { client_auth.cloned() } else { None },
    }
}

/// How often FILE_CHECK reads its file (keepalived uses inotify).
pub const FILE_CHECK_POLL: Duration = Duration::from_secs(1);

/// One checker; `None` for a checker keepalived drops.
fn checker(
    config: &Config,
    c: &cfg::Checker,
    rs: &Dest,
    security: &ScriptSecurity,
    timings: &mut Timings,
    plan_ssl: Option<&Arc<crate::tls::ClientAuth>>,
) -> Result<Option<CheckerSpec>, PlanError> {
    let co = &c.common;
    let kind = match &c.kind {
        cfg::CheckerKind::Tcp => CheckKind::Tcp,
        cfg::CheckerKind::Http(h) => CheckKind::Http(Box::new(http_spec(h, false, None))),
        cfg::CheckerKind::Ssl(h) => CheckKind::Http(Box::new(http_spec(h, true, plan_ssl))),
        cfg::CheckerKind::Smtp(s) => CheckKind::Smtp(Box::new(SmtpSpec {
            helo_name: s.helo_name.clone(),
        })),
        cfg::CheckerKind::Dns(d) => CheckKind::Dns(Box::new(DnsSpec {
            qtype: d.query_type.qtype(),
            name: d.name.clone(),
        })),
        cfg::CheckerKind::Misc(m) => {
            let notify = cfg::Notify {
                command: m.misc_path.clone(),
                user: m.user.clone(),
            };
            let (script, refused) = match load_script(&notify, security, "MISC_CHECK")? {
                Ok(s) => (s, None),
                Err(why) => (Script::parse(&m.misc_path)?, Some(why)),
            };
            CheckKind::Misc(Box::new(MiscSpec {
                script,
                timeout: Some(m.misc_timeout),
                dynamic: m.misc_dynamic,
                refused,
            }))
        }
        cfg::CheckerKind::Ping => CheckKind::Ping,
        cfg::CheckerKind::Udp(u) => CheckKind::Udp(Box::new(UdpSpec {
            payload: u.payload.clone(),
            require_reply: u.require_reply.is_some(),
            reply_pattern: u
                .require_reply
                .as_ref()
                .filter(|p| !p.is_empty())
                .map(|p| ReplyPattern(p.iter().map(|b| (b.value, b.mask)).collect())),
            min_reply_length: u.min_reply_length as usize,
            max_reply_length: u.max_reply_length as usize,
        })),
        cfg::CheckerKind::File(f) => return Ok(file_checker(config, f, co, rs, timings)),
        // check/check_bfd.c: only `name` and `alpha`; the session's events
        // drive it (crate::bfd_check), no timing option applies.
        cfg::CheckerKind::Bfd { name } => return Ok(Some(bfd_checker(name, co, rs, timings))),
    };
    let dst = SocketAddr::new(
        co.connect_ip.unwrap_or(rs.addr),
        co.connect_port.unwrap_or(rs.port),
    );
    Ok(Some(CheckerSpec {
        kind,
        conn: ConnOpts::with_source(
            dst,
            SourceOpts {
                bindto: co.bindto,
                bind_port: co.bind_port,
                bind_if: co.bind_if.clone(),
                fwmark: co.fwmark,
            },
        ),
        timing: timings.intern(CheckTiming {
            delay_loop: co.delay_loop,
            connect_timeout: co.connect_timeout,
            retry: co.retry,
            delay_before_retry: co.delay_before_retry,
            warmup: co.warmup,
            alpha: co.alpha,
            log_all_failures: co.log_all_failures || config.global_defs.checker_log_all_failures,
        }),
    }))
}

/// A FILE_CHECK; `None` when its `track_file` does not exist.
fn file_checker(
    config: &Config,
    f: &cfg::FileCheck,
    co: &cfg::CheckerCommon,
    rs: &Dest,
    timings: &mut Timings,
) -> Option<CheckerSpec> {
    // check_file.c `track_file_handler`: "track_file %s not found"
    // drops the checker (the parser already warned).
    let Some(tf) = config.vrrp_track_file(&f.track_file) else {
        tracing::warn!("track_file {} not found", f.track_file);
        return None;
    };
    Some(CheckerSpec {
        kind: CheckKind::File(Box::new(FileSpec {
            path: tf.file.clone(),
            weight: f.weight,
            // keepalived file_end_handler: without its own weight the
            // checker takes the track_file's weight *and* reverse
            // (the model keeps no "weight given" flag; an explicit
            // equal weight without reverse is read the same way).
            reverse: f.reverse || (f.weight == tf.weight && tf.reverse),
            base_weight: rs.weight,
        })),
        conn: ConnOpts::to(SocketAddr::new(rs.addr, rs.port)),
        // No timing options (keepalived: the file is watched, not
        // polled): read every second, no retry, no warmup; alpha is
        // cleared (check_file.c `add_rs_to_track_files`).
        timing: timings.intern(CheckTiming {
            delay_loop: co.delay_loop.min(FILE_CHECK_POLL),
            connect_timeout: FILE_CHECK_POLL,
            retry: 0,
            delay_before_retry: FILE_CHECK_POLL,
            warmup: Duration::ZERO,
            alpha: false,
            log_all_failures: false,
        }),
    })
}

/// A BFD_CHECK (check/check_bfd.c).
fn bfd_checker(
    name: &str,
    co: &cfg::CheckerCommon,
    rs: &Dest,
    timings: &mut Timings,
) -> CheckerSpec {
    CheckerSpec {
        kind: CheckKind::Bfd(Box::new(name.to_owned())),
        conn: ConnOpts::to(SocketAddr::new(rs.addr, rs.port)),
        timing: timings.intern(CheckTiming {
            delay_loop: co.delay_loop,
            connect_timeout: co.connect_timeout,
            retry: 0,
            delay_before_retry: co.delay_before_retry,
            warmup: Duration::ZERO,
            alpha: co.alpha,
            log_all_failures: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ranges_expand_and_are_bounded() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.3".parse().unwrap();
        assert_eq!(expand_range(a, b, "g").unwrap().len(), 3);
        assert!(expand_range(b, a, "g").is_err());
        let big: IpAddr = "2001:db8::".parse().unwrap();
        let bigger: IpAddr = "2001:db8::ffff:ffff".parse().unwrap();
        assert!(expand_range(big, bigger, "g").is_err());
        assert!(expand_range(a, big, "g").is_err());
    }

    #[test]
    fn config_maps_to_plan() {
        let mut config = Config::default();
        config.virtual_server_groups.push(cfg::VirtualServerGroup {
            name: "web".into(),
            origin: cfg::Origin::default(),
            members: vec![
                cfg::VsgMember::Range {
                    first: "192.0.2.10".parse().unwrap(),
                    last: "192.0.2.11".parse().unwrap(),
                    port: Some(80),
                },
                cfg::VsgMember::Fwmark {
                    mark: 7,
                    family: None,
                },
            ],
        });
        let mut vs = cfg::VirtualServer::new(cfg::VirtualService::Group("web".into()));
        vs.persistence_timeout = Some(std::time::Duration::from_secs(300));
        vs.sorry_server = Some(cfg::SorryServer {
            addr: "198.51.100.99".parse().unwrap(),
            port: Some(8080),
            lvs_method: cfg::ForwardingMethod::Nat,
            inhibit: true,
        });
        let mut rs = cfg::RealServer::new("198.51.100.1".parse().unwrap(), Some(8080));
        rs.weight = 3;
        let kind = cfg::CheckerKind::Tcp;
        rs.checkers.push(cfg::Checker {
            origin: cfg::Origin::default(),
            common: cfg::CheckerCommon::defaults_for(&kind, std::time::Duration::from_secs(6)),
            kind,
        });
        vs.real_servers.push(rs);
        config.virtual_servers.push(vs);
        let plan = from_config(&config).unwrap();
        let v = &plan.virtual_servers[0];
        assert_eq!(v.keys.len(), 3);
        assert!(v.service.flags.contains(ServiceFlags::PERSISTENT));
        assert_eq!(v.service.timeout, 300);
        assert_eq!(v.real_servers[0].dest.weight, 3);
        assert_eq!(
            v.real_servers[0].checkers[0].conn.dst,
            "198.51.100.1:8080".parse().unwrap()
        );
        assert_eq!(v.real_servers[0].checkers[0].timing.retry, 1);
        assert!(v.sorry_server_inhibit);
    }
}
