//! ipvsadm compatibility: parse an ipvsadm-style command line into a
//! [`Command`], and print a dump exactly like `ipvsadm -Sn` (ipvsadm 1.31).
//! Pure: no sockets here; `examples/rk-ipvsadm.rs` does the I/O.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use crate::model::{
    Dest, DestKey, Family, Forwarding, Protocol, Scheduler, Service, ServiceFlags, ServiceKey,
    SocketFmt, TunnelFlags, TunnelType,
};
use crate::netlink::{DaemonState, ServiceDump, SyncDaemon, Timeouts};

/// ipvsadm's default scheduler.
pub const DEFAULT_SCHED: Scheduler = Scheduler::Wlc;
/// ipvsadm's default persistence timeout for a bare `-p`.
pub const DEFAULT_PERSISTENCE: u32 = 360;

/// One ipvsadm invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    AddService(Service),
    EditService(Service),
    DelService(ServiceKey),
    AddDest(ServiceKey, Dest),
    EditDest(ServiceKey, Dest),
    DelDest(ServiceKey, DestKey),
    Flush,
    Zero(Option<ServiceKey>),
    /// `-S` (always numeric here).
    Save,
    /// `-L`/`-l`, optionally `--timeout` / `--daemon` / `--stats`.
    List(ListWhat),
    SetTimeouts(Timeouts),
    StartDaemon(SyncDaemon),
    StopDaemon(DaemonState),
    /// `-R`: read commands from stdin.
    Restore,
    /// `--apply FILE`: reconcile the kernel to a JSON desired state.
    Apply {
        path: String,
        flush: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListWhat {
    Services,
    Timeout,
    Daemon,
}

/// Parse errors, with ipvsadm-like wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Split `addr[:port]` / `[v6]:port` like ipvsadm's `parse_service`:
/// a bracketed IPv6 address must carry a port; `what` names the argument
/// in the error ("real server" / "virtual server").
fn parse_addr_port(
    s: &str,
    default_port: Option<u16>,
    what: &str,
) -> Result<(IpAddr, u16), UsageError> {
    let bad = || UsageError(format!("illegal {what} address[:port] specified"));
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        (host, Some(after.strip_prefix(':').ok_or_else(bad)?))
    } else if s.matches(':').count() == 1 {
        let (h, p) = s.split_once(':').ok_or_else(bad)?;
        (h, Some(p))
    } else {
        (s, None)
    };
    let addr: IpAddr = host.parse().map_err(|_| bad())?;
    let port = match port {
        Some(p) => p.parse().map_err(|_| bad())?,
        None => default_port.ok_or_else(bad)?,
    };
    Ok((addr, port))
}

fn parse_netmask(s: &str, family: Family) -> Result<u32, UsageError> {
    match family {
        Family::Inet6 => match s.parse::<u32>() {
            Ok(n) if (1..=128).contains(&n) => Ok(n),
            _ => usage("illegal ipv6 netmask specified"),
        },
        Family::Inet => {
            if let Ok(a) = s.parse::<Ipv4Addr>() {
                Ok(u32::from(a))
            } else {
                match s.parse::<u32>() {
                    Ok(n) if n <= 32 => Ok(if n == 0 { 0 } else { u32::MAX << (32 - n) }),
                    _ => usage("illegal virtual server persistent mask specified"),
                }
            }
        }
    }
}

fn parse_sched_flags(s: &str) -> Result<u32, UsageError> {
    let mut flags = 0;
    for name in s.split(',') {
        flags |= match name {
            "sh-fallback" | "mh-fallback" | "flag-1" => ServiceFlags::SCHED1,
            "sh-port" | "mh-port" | "flag-2" => ServiceFlags::SCHED2,
            "flag-3" => ServiceFlags::SCHED3,
            other => return usage(format!("invalid scheduler flag: {other}")),
        };
    }
    Ok(flags)
}

fn num<T: std::str::FromStr>(s: Option<&String>, what: &str) -> Result<T, UsageError> {
    s.and_then(|v| v.parse().ok())
        .ok_or_else(|| UsageError(format!("illegal {what} specified")))
}

/// Expand clustered short flags ("-Sn" -> "-S", "-n").
fn expand(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for a in args {
        let b = a.as_bytes();
        if b.len() > 2
            && b[0] == b'-'
            && b[1] != b'-'
            && a[1..].chars().all(|c| "SLlnCZ6goimR".contains(c))
        {
            out.extend(a[1..].chars().map(|c| format!("-{c}")));
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// Parse one ipvsadm command line (without the program name).
pub fn parse_command(args: &[String]) -> Result<Command, UsageError> {
    let args = expand(args);
    let mut cmd: Option<char> = None;
    let mut svc_spec: Option<(&str, String)> = None;
    let mut inet6 = false;
    let mut sched = None;
    let mut sched_flags = None;
    let mut persistent: Option<u32> = None;
    let mut netmask_arg: Option<String> = None;
    let mut one_packet = false;
    let mut pe: Option<String> = None;
    let mut real: Option<String> = None;
    let mut fwd: Option<char> = None;
    let mut tun_type = TunnelType::Ipip;
    let mut tun_port = 0u16;
    let mut tun_flags = 0u16;
    let mut weight: Option<i32> = None;
    let mut uth = 0u32;
    let mut lth = 0u32;
    let mut timeouts = None;
    let mut daemon_state: Option<DaemonState> = None;
    let mut mcast_ifn = String::new();
    let mut sync_id = 255u32;
    let mut list_what = ListWhat::Services;
    let mut apply_path = None;
    let mut flush_foreign = false;

    let set_cmd = |c: char, cmd: &mut Option<char>| -> Result<(), UsageError> {
        if cmd.is_some() {
            return usage("only one command may be given");
        }
        *cmd = Some(c);
        Ok(())
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let next = args.get(i + 1);
        let mut take = || {
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| UsageError(format!("option {a} requires an argument")))
        };
        match a {
            "-A" | "--add-service" => set_cmd('A', &mut cmd)?,
            "-E" | "--edit-service" => set_cmd('E', &mut cmd)?,
            "-D" | "--delete-service" => set_cmd('D', &mut cmd)?,
            "-C" | "--clear" => set_cmd('C', &mut cmd)?,
            "-a" | "--add-server" => set_cmd('a', &mut cmd)?,
            "-e" | "--edit-server" => set_cmd('e', &mut cmd)?,
            "-d" | "--delete-server" => set_cmd('d', &mut cmd)?,
            "-Z" | "--zero" => set_cmd('Z', &mut cmd)?,
            "-S" | "--save" => set_cmd('S', &mut cmd)?,
            "-L" | "-l" | "--list" => set_cmd('L', &mut cmd)?,
            "-R" | "--restore" => set_cmd('R', &mut cmd)?,
            "--set" => {
                set_cmd('T', &mut cmd)?;
                let tcp = num(args.get(i + 1), "timeout")?;
                let tcp_fin = num(args.get(i + 2), "timeout")?;
                let udp = num(args.get(i + 3), "timeout")?;
                timeouts = Some(Timeouts { tcp, tcp_fin, udp });
                i += 3;
            }
            "--start-daemon" | "--stop-daemon" => {
                set_cmd(if a == "--start-daemon" { '+' } else { '-' }, &mut cmd)?;
                daemon_state = Some(match take()?.as_str() {
                    "master" => DaemonState::Master,
                    "backup" => DaemonState::Backup,
                    other => {
                        return usage(format!("illegal start-daemon parameter specified: {other}"))
                    }
                });
            }
            "--apply" => {
                set_cmd('J', &mut cmd)?;
                apply_path = Some(take()?);
            }
            "--flush-foreign" => flush_foreign = true,
            "--mcast-interface" => mcast_ifn = take()?,
            "--syncid" => sync_id = num(Some(&take()?), "syncid")?,
            "--timeout" => list_what = ListWhat::Timeout,
            "--daemon" => list_what = ListWhat::Daemon,
            "-n" | "--numeric" | "--exact" | "--stats" | "--rate" | "--thresholds" | "--sort" => {}
            "-t" | "--tcp-service" => svc_spec = Some(("t", take()?)),
            "-u" | "--udp-service" => svc_spec = Some(("u", take()?)),
            "--sctp-service" => svc_spec = Some(("s", take()?)),
            "-f" | "--fwmark-service" => svc_spec = Some(("f", take()?)),
            "-6" | "--ipv6" => inet6 = true,
            "-s" | "--scheduler" => sched = Some(Scheduler::from_name(&take()?)),
            "-b" | "--sched-flags" => sched_flags = Some(parse_sched_flags(&take()?)?),
            "-p" | "--persistent" => {
                // Optional argument, as with popt: taken only when numeric.
                match next.and_then(|n| n.parse::<u32>().ok()) {
                    Some(t) => {
                        persistent = Some(t);
                        i += 1;
                    }
                    None => persistent = Some(DEFAULT_PERSISTENCE),
                }
            }
            "-M" | "--netmask" => netmask_arg = Some(take()?),
            "-o" | "--ops" => one_packet = true,
            "--pe" => pe = Some(take()?),
            "-r" | "--real-server" => real = Some(take()?),
            "-g" | "--gatewaying" => fwd = Some('g'),
            "-m" | "--masquerading" => fwd = Some('m'),
            "-i" | "--ipip" => fwd = Some('i'),
            "--tun-type" => {
                tun_type = match take()?.as_str() {
                    "ipip" => TunnelType::Ipip,
                    "gue" => TunnelType::Gue,
                    "gre" => TunnelType::Gre,
                    other => return usage(format!("illegal tunnel type: {other}")),
                }
            }
            "--tun-port" => tun_port = num(Some(&take()?), "tunnel port")?,
            "--tun-nocsum" => tun_flags = TunnelFlags::NOCSUM,
            "--tun-csum" => tun_flags = TunnelFlags::CSUM,
            "--tun-remcsum" => tun_flags = TunnelFlags::REMCSUM,
            "-w" | "--weight" => weight = Some(num(Some(&take()?), "weight")?),
            "-x" | "--u-threshold" => uth = num(Some(&take()?), "upper threshold")?,
            "-y" | "--l-threshold" => lth = num(Some(&take()?), "lower threshold")?,
            other => return usage(format!("unknown option: {other}")),
        }
        i += 1;
    }

    let key = match &svc_spec {
        None => None,
        Some(("f", mark)) => Some(ServiceKey::Fwmark {
            mark: num(Some(mark), "firewall mark")?,
            family: if inet6 { Family::Inet6 } else { Family::Inet },
        }),
        Some((kind, spec)) => {
            let (addr, port) = parse_addr_port(spec, None, "virtual server")?;
            let proto = match *kind {
                "t" => Protocol::Tcp,
                "u" => Protocol::Udp,
                _ => Protocol::Sctp,
            };
            Some(ServiceKey::Addr { proto, addr, port })
        }
    };
    let need_key = || key.ok_or_else(|| UsageError("no service specified".into()));

    let build_service = |key: ServiceKey| -> Result<Service, UsageError> {
        let mut svc = Service::new(key, sched.clone().unwrap_or(DEFAULT_SCHED));
        if let Some(t) = persistent {
            svc = svc.persistent(t);
        }
        if let Some(m) = &netmask_arg {
            svc.netmask = parse_netmask(m, key.family())?;
        }
        if one_packet {
            if !matches!(
                key,
                ServiceKey::Addr {
                    proto: Protocol::Udp,
                    ..
                }
            ) {
                return usage("One-Packet Scheduling is only for UDP virtual services");
            }
            svc.flags = svc.flags.with(ServiceFlags::ONEPACKET, true);
        }
        if let Some(f) = sched_flags {
            svc.flags = ServiceFlags(svc.flags.0 | f);
        }
        svc.pe_name = pe.clone();
        Ok(svc)
    };

    let build_dest = |key: ServiceKey, is_delete: bool| -> Result<Dest, UsageError> {
        let spec = real
            .as_ref()
            .ok_or_else(|| UsageError("no real server specified".into()))?;
        let (addr, mut port) = parse_addr_port(spec, Some(key.port()), "real server")?;
        let fwd = match fwd.unwrap_or('g') {
            'm' => Forwarding::Masq,
            'i' => {
                if tun_type == TunnelType::Gue && tun_port == 0 {
                    return usage(
                        "You need to supply the 'tun-port' option for the 'gue' tunnel type",
                    );
                }
                if tun_type == TunnelType::Gre && tun_flags == TunnelFlags::REMCSUM {
                    return usage("Illegal 'tun-remcsum' option with the 'gre' tunnel type");
                }
                Forwarding::Tunnel {
                    tun_type,
                    port: tun_port,
                    flags: TunnelFlags(tun_flags),
                }
            }
            _ => Forwarding::Direct,
        };
        // ipvsadm: with DR and tunnels the real port must equal the
        // virtual port (fwmark services keep what was given).
        if !is_delete
            && matches!(key, ServiceKey::Addr { .. })
            && matches!(fwd, Forwarding::Direct | Forwarding::Tunnel { .. })
        {
            port = key.port();
        }
        Ok(Dest {
            addr,
            port,
            fwd,
            weight: weight.unwrap_or(1),
            u_threshold: uth,
            l_threshold: lth,
        })
    };

    Ok(match cmd {
        Some('A') => Command::AddService(build_service(need_key()?)?),
        Some('E') => Command::EditService(build_service(need_key()?)?),
        Some('D') => Command::DelService(need_key()?),
        Some('C') => Command::Flush,
        Some('a') => {
            let k = need_key()?;
            Command::AddDest(k, build_dest(k, false)?)
        }
        Some('e') => {
            let k = need_key()?;
            Command::EditDest(k, build_dest(k, false)?)
        }
        Some('d') => {
            let k = need_key()?;
            Command::DelDest(k, build_dest(k, true)?.key())
        }
        Some('Z') => Command::Zero(key),
        Some('S') => Command::Save,
        Some('L') => Command::List(list_what),
        Some('R') => Command::Restore,
        Some('T') => Command::SetTimeouts(timeouts.unwrap_or_default()),
        Some('+') => Command::StartDaemon(SyncDaemon {
            state: daemon_state.unwrap_or(DaemonState::Master),
            mcast_ifn,
            sync_id,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        }),
        Some('-') => Command::StopDaemon(daemon_state.unwrap_or(DaemonState::Master)),
        Some('J') => Command::Apply {
            path: apply_path.unwrap_or_default(),
            flush: flush_foreign,
        },
        _ => return usage("no command specified"),
    })
}

// ---------- printing ----------

fn svc_spec(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Fwmark { mark, family } => match family {
            Family::Inet => format!("-f {mark}"),
            Family::Inet6 => format!("-f {mark} -6"),
        },
        ServiceKey::Addr { proto, addr, port } => {
            let flag = match proto {
                Protocol::Tcp => "-t".to_string(),
                Protocol::Udp => "-u".to_string(),
                Protocol::Sctp => "--sctp-service".to_string(),
                Protocol::Other(n) => format!("--protocol-{n}"),
            };
            format!("{flag} {}", SocketFmt(*addr, *port))
        }
    }
}

fn sched_flag_names(sched: &Scheduler, flags: u32) -> String {
    let names: [&str; 3] = match sched {
        Scheduler::Sh => ["sh-fallback", "sh-port", "flag-3"],
        Scheduler::Mh => ["mh-fallback", "mh-port", "flag-3"],
        _ => ["flag-1", "flag-2", "flag-3"],
    };
    [
        ServiceFlags::SCHED1,
        ServiceFlags::SCHED2,
        ServiceFlags::SCHED3,
    ]
    .iter()
    .zip(names)
    .filter(|(bit, _)| flags & **bit != 0)
    .map(|(_, n)| n)
    .collect::<Vec<_>>()
    .join(",")
}

/// One `-A ...` line as ipvsadm 1.31 prints it.
pub fn format_service_rule(svc: &Service) -> String {
    let mut line = format!("-A {} -s {}", svc_spec(&svc.key), svc.sched);
    let flags = svc.flags.0;
    if flags & ServiceFlags::PERSISTENT != 0 {
        let _ = write!(line, " -p {}", svc.timeout);
        match svc.key.family() {
            Family::Inet if svc.netmask != 0xffff_ffff => {
                let _ = write!(line, " -M {}", Ipv4Addr::from(svc.netmask));
            }
            Family::Inet6 if svc.netmask != 128 => {
                let _ = write!(line, " -M {}", svc.netmask);
            }
            _ => {}
        }
    }
    if let Some(pe) = &svc.pe_name {
        let _ = write!(line, " --pe {pe}");
    }
    if flags & ServiceFlags::ONEPACKET != 0 {
        line.push_str(" -o");
    }
    let sched_bits = flags & (ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3);
    if sched_bits != 0 {
        let _ = write!(line, " -b {}", sched_flag_names(&svc.sched, sched_bits));
    }
    line
}

/// One `-a ...` line as ipvsadm 1.31 prints it (thresholds are not saved).
pub fn format_dest_rule(key: &ServiceKey, dest: &Dest) -> String {
    let fwd = match dest.fwd {
        Forwarding::Masq => "-m",
        Forwarding::Tunnel { .. } => "-i",
        Forwarding::Direct | Forwarding::Local => "-g",
        Forwarding::Bypass => "(null)",
    };
    let mut line = format!(
        "-a {} -r {} {fwd} -w {}",
        svc_spec(key),
        SocketFmt(dest.addr, dest.port),
        dest.weight
    );
    if let Forwarding::Tunnel {
        tun_type,
        port,
        flags,
    } = dest.fwd
    {
        let _ = write!(line, " --tun-type {}", tun_type.name());
        if tun_type == TunnelType::Gue {
            let _ = write!(line, " --tun-port {port}");
        }
        if tun_type != TunnelType::Ipip {
            line.push_str(match flags.0 {
                TunnelFlags::CSUM => " --tun-csum",
                TunnelFlags::REMCSUM => " --tun-remcsum",
                _ => " --tun-nocsum",
            });
        }
    }
    line
}

/// libipvs `ipvs_cmp_services`: fwmark, family, protocol, address, port.
/// The C code subtracts unsigned values into an int; we keep that order.
pub fn cmp_services(a: &Service, b: &Service) -> Ordering {
    fn parts(k: &ServiceKey) -> (u32, u16, u16, [u32; 4], u16) {
        match k {
            ServiceKey::Fwmark { mark, family } => (*mark, family.to_raw(), 0, [0; 4], 0),
            ServiceKey::Addr { proto, addr, port } => (
                0,
                Family::of(addr).to_raw(),
                proto.to_raw(),
                addr_words(addr),
                *port,
            ),
        }
    }
    let (am, af, ap, aa, aport) = parts(&a.key);
    let (bm, bf, bp, ba, bport) = parts(&b.key);
    c_sub(am, bm)
        .then(af.cmp(&bf))
        .then(ap.cmp(&bp))
        .then_with(|| cmp_words(&aa, &ba))
        .then(aport.cmp(&bport))
}

/// libipvs `ipvs_cmp_dests`: family, address, port.
fn cmp_dests(a: &Dest, b: &Dest) -> Ordering {
    a.family()
        .to_raw()
        .cmp(&b.family().to_raw())
        .then_with(|| cmp_words(&addr_words(&a.addr), &addr_words(&b.addr)))
        .then(a.port.cmp(&b.port))
}

fn addr_words(addr: &IpAddr) -> [u32; 4] {
    match addr {
        IpAddr::V4(a) => [u32::from(*a), 0, 0, 0],
        IpAddr::V6(a) => {
            let o = a.octets();
            let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            [w(0), w(4), w(8), w(12)]
        }
    }
}

/// Sign of `(int)(a - b)` for unsigned a, b, as the C comparators compute it.
fn c_sub(a: u32, b: u32) -> Ordering {
    (a.wrapping_sub(b) as i32).cmp(&0)
}

fn cmp_words(a: &[u32; 4], b: &[u32; 4]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| c_sub(*x, *y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// The whole table as `ipvsadm -Sn` prints it (sorted like ipvsadm).
pub fn format_save(dump: &[ServiceDump]) -> String {
    let mut services: Vec<&ServiceDump> = dump.iter().collect();
    services.sort_by(|a, b| cmp_services(&a.info.service, &b.info.service));
    let mut out = String::new();
    for s in services {
        out.push_str(&format_service_rule(&s.info.service));
        out.push('\n');
        let mut dests: Vec<&Dest> = s.dests.iter().map(|d| &d.dest).collect();
        dests.sort_by(|a, b| cmp_dests(a, b));
        for d in dests {
            out.push_str(&format_dest_rule(&s.info.service.key, d));
            out.push('\n');
        }
    }
    out
}

/// The service column of `ipvsadm -Ln` ("TCP  192.0.2.1:80", "FWM  7 IPv6").
fn list_service_name(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Fwmark { mark, family } => match family {
            Family::Inet => format!("FWM  {mark}"),
            Family::Inet6 => format!("FWM  {mark} IPv6"),
        },
        ServiceKey::Addr { proto, addr, port } => {
            let p = match proto {
                Protocol::Tcp => "TCP".to_string(),
                Protocol::Udp => "UDP".to_string(),
                Protocol::Sctp => "SCTP".to_string(),
                Protocol::Other(n) => n.to_string(),
            };
            let mut name = format!("{p:<4} {}", SocketFmt(*addr, *port));
            // ipvsadm cuts IPv4 names at 33 characters.
            if matches!(addr, IpAddr::V4(_)) {
                name.truncate(33);
            }
            name
        }
    }
}

/// One service line of `ipvsadm -Ln`.
pub fn format_service_list(svc: &Service) -> String {
    let mut line = format!("{} {}", list_service_name(&svc.key), svc.sched);
    let flags = svc.flags.0;
    let sched_bits = flags & (ServiceFlags::SCHED1 | ServiceFlags::SCHED2 | ServiceFlags::SCHED3);
    if sched_bits != 0 {
        let _ = write!(line, " ({})", sched_flag_names(&svc.sched, sched_bits));
    }
    if flags & ServiceFlags::PERSISTENT != 0 {
        let _ = write!(line, " persistent {}", svc.timeout);
        match svc.key.family() {
            Family::Inet if svc.netmask != 0xffff_ffff => {
                let _ = write!(line, " mask {}", Ipv4Addr::from(svc.netmask));
            }
            Family::Inet6 if svc.netmask != 128 => {
                let _ = write!(line, " mask {}", svc.netmask);
            }
            _ => {}
        }
        if let Some(pe) = &svc.pe_name {
            let _ = write!(line, " pe {pe}");
        }
    }
    if flags & ServiceFlags::ONEPACKET != 0 {
        line.push_str(" ops");
    }
    line
}

/// `ipvsadm -Ln` (default columns), sorted like ipvsadm.
pub fn format_list(info: &crate::netlink::IpvsInfo, dump: &[ServiceDump]) -> String {
    let v = info.version;
    let mut out = format!(
        "IP Virtual Server version {}.{}.{} (size={})\n",
        v >> 16,
        (v >> 8) & 0xff,
        v & 0xff,
        info.conn_tab_size
    );
    out.push_str("Prot LocalAddress:Port Scheduler Flags\n");
    out.push_str("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
    let mut services: Vec<&ServiceDump> = dump.iter().collect();
    services.sort_by(|a, b| cmp_services(&a.info.service, &b.info.service));
    for s in services {
        out.push_str(&format_service_list(&s.info.service));
        out.push('\n');
        let mut dests: Vec<&crate::netlink::DestInfo> = s.dests.iter().collect();
        dests.sort_by(|a, b| cmp_dests(&a.dest, &b.dest));
        for d in dests {
            let mut name = SocketFmt(d.dest.addr, d.dest.port).to_string();
            if s.info.service.key.family() == Family::Inet {
                name.truncate(28);
            }
            let fwd = match d.dest.fwd {
                Forwarding::Masq => "Masq",
                Forwarding::Local => "Local",
                Forwarding::Tunnel { .. } => "Tunnel",
                Forwarding::Direct => "Route",
                Forwarding::Bypass => "(null)",
            };
            let _ = writeln!(
                out,
                "  -> {name:<28} {fwd:<7} {:<6} {:<10} {:<10}",
                d.dest.weight, d.active_conns, d.inact_conns
            );
        }
    }
    out
}

/// Apply a parsed modifying command as a reconciler [`crate::Op`], if it is one.
pub fn command_op(cmd: &Command) -> Option<crate::Op> {
    use crate::Op;
    Some(match cmd {
        Command::AddService(s) => Op::AddService(s.clone()),
        Command::EditService(s) => Op::EditService(s.clone()),
        Command::DelService(k) => Op::DelService(*k),
        Command::AddDest(k, d) => Op::AddDest(*k, *d),
        Command::EditDest(k, d) => Op::EditDest(*k, *d),
        Command::DelDest(k, d) => Op::DelDest(*k, *d),
        Command::Flush => Op::Flush,
        _ => return None,
    })
}

/// Split a rules line into arguments (whitespace; no quoting in ipvsadm rules).
pub fn split_line(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

/// Build a desired state from `ipvsadm -S` rules text (`-A` and `-a`
/// lines; blank lines and `#` comments ignored).
pub fn state_from_rules(text: &str) -> Result<crate::IpvsState, UsageError> {
    let mut state = crate::IpvsState::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |e: UsageError| UsageError(format!("line {}: {}", n + 1, e.0));
        match parse_command(&split_line(line)).map_err(at)? {
            Command::AddService(s) => {
                state.upsert_service(s);
            }
            Command::AddDest(k, d) => {
                if !state.upsert_dest(&k, d) {
                    return Err(at(UsageError(format!("service {k} not defined"))));
                }
            }
            other => {
                return Err(at(UsageError(format!(
                    "only -A and -a lines allowed, got {other:?}"
                ))))
            }
        }
    }
    Ok(state)
}

/// ipvsadm's wording for a failed command (libipvs `ipvs_strerror`).
pub fn error_text(cmd: &Command, errno: crate::Errno) -> &'static str {
    use crate::Errno as E;
    match (cmd, errno) {
        (_, E::Permission) => "Permission denied (you must be root)",
        (Command::AddService(_), E::Exists) => "Service already exists",
        (Command::AddService(_) | Command::EditService(_), E::NotFound) => {
            "Scheduler or persistence engine not found"
        }
        (Command::AddDest(..), E::NoSuchService) => "Service not defined",
        (Command::AddDest(..), E::Exists) => "Destination already exists",
        (Command::EditDest(..) | Command::DelDest(..), E::NotFound) => "No such destination",
        (Command::StopDaemon(_), E::Exists | E::NoSuchService) => "No daemon is running",
        (_, E::NoSuchService) => "No such service",
        (_, E::Range) => "Weight or threshold out of range",
        (_, E::Invalid) => {
            "Invalid operation.  Possibly wrong module version, address not unicast, ..."
        }
        (_, E::NoMemory) => "Memory allocation problem",
        _ => "Unknown error",
    }
}

/// JSON desired state for `--apply x.json`:
/// `{"services":[{"proto":"tcp","addr":"192.0.2.1","port":80,"sched":"wrr",
///   "persistent":300,"dests":[{"addr":"198.51.100.1","port":8080,"fwd":"masq","weight":2}]}]}`
/// (`"fwmark": 7` instead of proto/addr/port; fwd is masq|dr|tun|local; `"flags"` takes
/// ipvsadm `-b` names; `"ops": true` for one-packet scheduling).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonState {
    services: Vec<JsonService>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonService {
    proto: Option<String>,
    addr: Option<IpAddr>,
    port: Option<u16>,
    fwmark: Option<u32>,
    #[serde(default)]
    ipv6: bool,
    sched: Option<String>,
    persistent: Option<u32>,
    netmask: Option<u32>,
    pe: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    ops: bool,
    #[serde(default)]
    dests: Vec<JsonDest>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDest {
    addr: IpAddr,
    port: Option<u16>,
    fwd: Option<String>,
    weight: Option<i32>,
    #[serde(default)]
    u_threshold: u32,
    #[serde(default)]
    l_threshold: u32,
    tun_type: Option<String>,
    #[serde(default)]
    tun_port: u16,
    #[serde(default)]
    tun_flags: u16,
}

/// Parse the JSON desired-state format (see the `JsonState` docs above).
pub fn state_from_json(text: &str) -> Result<crate::IpvsState, UsageError> {
    let parsed: JsonState =
        serde_json::from_str(text).map_err(|e| UsageError(format!("invalid JSON state: {e}")))?;
    let mut state = crate::IpvsState::new();
    for js in parsed.services {
        let key = match (js.fwmark, js.addr, js.port) {
            (Some(mark), None, None) => ServiceKey::Fwmark {
                mark,
                family: if js.ipv6 { Family::Inet6 } else { Family::Inet },
            },
            (None, Some(addr), Some(port)) => ServiceKey::Addr {
                proto: match js.proto.as_deref().unwrap_or("tcp") {
                    "tcp" => Protocol::Tcp,
                    "udp" => Protocol::Udp,
                    "sctp" => Protocol::Sctp,
                    other => return usage(format!("unknown proto {other}")),
                },
                addr,
                port,
            },
            _ => return usage("a service needs either fwmark, or addr and port"),
        };
        let mut svc = Service::new(
            key,
            js.sched
                .as_deref()
                .map(Scheduler::from_name)
                .unwrap_or(DEFAULT_SCHED),
        );
        if let Some(t) = js.persistent {
            svc = svc.persistent(t);
        }
        if let Some(m) = js.netmask {
            svc.netmask = m;
        }
        if js.ops {
            svc.flags = svc.flags.with(ServiceFlags::ONEPACKET, true);
        }
        if !js.flags.is_empty() {
            svc.flags = ServiceFlags(svc.flags.0 | parse_sched_flags(&js.flags.join(","))?);
        }
        svc.pe_name = js.pe;
        state.upsert_service(svc);
        for jd in js.dests {
            let fwd = match jd.fwd.as_deref().unwrap_or("dr") {
                "masq" | "nat" => Forwarding::Masq,
                "dr" | "route" => Forwarding::Direct,
                "local" => Forwarding::Local,
                "tun" | "tunnel" => Forwarding::Tunnel {
                    tun_type: match jd.tun_type.as_deref().unwrap_or("ipip") {
                        "ipip" => TunnelType::Ipip,
                        "gue" => TunnelType::Gue,
                        "gre" => TunnelType::Gre,
                        other => return usage(format!("unknown tun_type {other}")),
                    },
                    port: jd.tun_port,
                    flags: TunnelFlags(jd.tun_flags),
                },
                other => return usage(format!("unknown fwd {other}")),
            };
            state.upsert_dest(
                &key,
                Dest {
                    addr: jd.addr,
                    port: jd.port.unwrap_or(key.port()),
                    fwd,
                    weight: jd.weight.unwrap_or(1),
                    u_threshold: jd.u_threshold,
                    l_threshold: jd.l_threshold,
                },
            );
        }
    }
    Ok(state)
}
