//! The checker's `keepalived_check.data` after its global definitions, in
//! keepalived 2.2.7's layout, line for line: check/check_data.c
//! `dump_check_data()` (`dump_ssl`, `dump_vsg`, `dump_vs`, `dump_rs`,
//! `dump_forwarding_method`), check/check_api.c `dump_checker()` /
//! `dump_connection_opts()`, and each checker's dump function
//! (check_tcp.c `dump_tcp_check`, check_http.c `dump_http_check` /
//! `dump_url`, check_misc.c, check_smtp.c, check_dns.c, check_udp.c,
//! check_ping.c, check_file.c).
//!
//! Pure: the configuration as written ([`DumpConfig`]), the plan (resolved
//! checker destinations and timings) and a snapshot of the run-time state
//! ([`State`]) in, text out.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rkeepalived_config::model as cfg;

use crate::logfmt::Trio;
use crate::spec::{CheckKind, CheckPlan, CheckerSpec};

/// The parts of the configuration the dump shows as written (the plan keeps
/// only what the engine runs).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct DumpConfig {
    pub groups: Vec<cfg::VirtualServerGroup>,
    pub virtual_servers: Vec<cfg::VirtualServer>,
    pub ssl: Option<cfg::SslConfig>,
    pub global_defs: cfg::GlobalDefs,
    pub track_files: Vec<cfg::VrrpTrackFile>,
    /// The `bfd_instance` names the checker process knows (those whose
    /// events go to it, `BfdInstance::checker`), in file order.
    pub bfd_names: Vec<String>,
}

// The model holds no floats that could be NaN.
impl Eq for DumpConfig {}

/// [`DumpConfig`]'s fields borrowed from a [`cfg::Config`], serialized in
/// the same shape (so they deserialize into a `DumpConfig`) without first
/// cloning the model.
#[derive(serde::Serialize)]
struct DumpConfigRef<'a> {
    groups: &'a [cfg::VirtualServerGroup],
    virtual_servers: &'a [cfg::VirtualServer],
    ssl: &'a Option<cfg::SslConfig>,
    global_defs: &'a cfg::GlobalDefs,
    track_files: &'a [cfg::VrrpTrackFile],
    bfd_names: Vec<&'a str>,
}

/// The configuration `keepalived_check.data` prints, as the checker keeps
/// it between dumps: [`DumpConfig`]'s JSON, DEFLATE-compressed, unpacked
/// only on SIGUSR1. As a model it was the checker's largest allocation
/// (a second copy of every virtual and real server: at 10,000 real servers
/// the daemon's checker tree went from 20 to 38 MB RSS, bench/check
/// host.sh of 2026-12-06); packed it is a few hundred KB.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PackedDump {
    deflated: std::sync::Arc<[u8]>,
}

impl std::fmt::Debug for PackedDump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PackedDump({} bytes deflated)", self.deflated.len())
    }
}

impl PackedDump {
    pub fn from_config(c: &cfg::Config) -> Self {
        let parts = DumpConfigRef {
            groups: &c.virtual_server_groups,
            virtual_servers: &c.virtual_servers,
            ssl: &c.ssl,
            global_defs: &c.global_defs,
            track_files: &c.vrrp_track_files,
            bfd_names: c
                .bfd_instances
                .iter()
                .filter(|b| b.checker)
                .map(|b| b.name.as_str())
                .collect(),
        };
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        // Buffered: serde_json writes token by token (see src/ipc.rs ConfigWire).
        let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut z);
        let packed = serde_json::to_writer(&mut w, &parts)
            .map_err(std::io::Error::from)
            .and_then(|()| std::io::Write::flush(&mut w));
        drop(w);
        match packed.and_then(|()| z.finish()) {
            Ok(deflated) => PackedDump {
                deflated: deflated.into(),
            },
            Err(e) => {
                // Cannot happen for an in-memory writer; the dump then shows
                // no configuration rather than the checker failing.
                tracing::warn!("cannot keep the configuration for keepalived_check.data: {e}");
                PackedDump::default()
            }
        }
    }

    /// The configuration for one dump (empty if none was packed).
    pub fn unpack(&self) -> DumpConfig {
        if self.deflated.is_empty() {
            return DumpConfig::default();
        }
        let reader = flate2::read::DeflateDecoder::new(&self.deflated[..]);
        serde_json::from_reader(std::io::BufReader::new(reader)).unwrap_or_else(|e| {
            tracing::warn!("cannot unpack the configuration for keepalived_check.data: {e}");
            DumpConfig::default()
        })
    }
}

impl DumpConfig {
    pub fn from_config(c: &cfg::Config) -> Self {
        DumpConfig {
            groups: c.virtual_server_groups.clone(),
            virtual_servers: c.virtual_servers.clone(),
            ssl: c.ssl.clone(),
            global_defs: c.global_defs.clone(),
            track_files: c.vrrp_track_files.clone(),
            bfd_names: c
                .bfd_instances
                .iter()
                .filter(|b| b.checker)
                .map(|b| b.name.clone())
                .collect(),
        }
    }
}

/// One checker's run-time state (check_api.h `checker_t`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckerState {
    pub up: bool,
    pub has_run: bool,
    /// `cur_weight`: the weight change a MISC_CHECK misc_dynamic reported.
    pub cur_weight: i64,
    pub retry_it: u32,
    /// MISC_CHECK: when the script last ran and its exit status.
    pub last_ran: Option<SystemTime>,
    pub last_status: u32,
}

/// One real server's run-time state (check_data.h `real_server_t`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RsState {
    pub alive: bool,
    pub effective_weight: i64,
    pub previous_weight: i64,
    pub num_failed_checkers: u32,
    /// In the IPVS table.
    pub set: bool,
    pub checkers: Vec<CheckerState>,
}

/// One virtual server's run-time state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VsState {
    pub alive: bool,
    pub quorum_up: bool,
    pub real_servers: Vec<RsState>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub virtual_servers: Vec<VsState>,
}

/// keepalived's `TIMER_HZ`-based defaults (check_data.c `alloc_vs`).
const VS_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const VS_DELAY_LOOP: Duration = Duration::from_secs(60);
/// ip_vs.h `IPVS_WEIGHT_LIMIT`.
const IPVS_WEIGHT_LIMIT: i64 = i32::MAX as i64;

/// check_data.c `format_decimal(val, TIMER_HZ_DIGITS)`: seconds with six
/// decimals from microseconds.
pub fn format_decimal(d: Duration) -> String {
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

fn us(d: Duration) -> u128 {
    d.as_micros()
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "ON"
    } else {
        "OFF"
    }
}

fn en_dis(b: bool) -> &'static str {
    if b {
        "en"
    } else {
        "dis"
    }
}

fn proto_name(p: cfg::Protocol) -> rkeepalived_ipvs::model::Protocol {
    match p {
        cfg::Protocol::Tcp => rkeepalived_ipvs::model::Protocol::Tcp,
        cfg::Protocol::Udp => rkeepalived_ipvs::model::Protocol::Udp,
        cfg::Protocol::Sctp => rkeepalived_ipvs::model::Protocol::Sctp,
    }
}

/// keepalived's `service_type`: none for a fwmark service (its
/// `protocol` is ignored, with a warning) and for a group of fwmarks only.
pub fn service_type(
    vs: &cfg::VirtualServer,
    groups: &[cfg::VirtualServerGroup],
) -> Option<cfg::Protocol> {
    match &vs.service {
        cfg::VirtualService::Fwmark(_) => None,
        cfg::VirtualService::Group(name) => groups
            .iter()
            .find(|g| g.name == *name)
            .is_some_and(|g| {
                g.members
                    .iter()
                    .any(|m| matches!(m, cfg::VsgMember::Range { .. }))
            })
            .then_some(vs.protocol),
        cfg::VirtualService::Addr { .. } => Some(vs.protocol),
    }
}

/// check_data.c `format_vs()` (FMT_VS).
pub fn format_vs(vs: &cfg::VirtualServer) -> String {
    match &vs.service {
        cfg::VirtualService::Group(name) => format!("[{name}]:0"),
        cfg::VirtualService::Fwmark(m) => format!("FWM {m}"),
        cfg::VirtualService::Addr { addr, port } => {
            Trio(*addr, Some(proto_name(vs.protocol)), port.unwrap_or(0)).to_string()
        }
    }
}

/// check_data.c `format_rs()` (FMT_RS / FMT_CHK): the real server with its
/// virtual server's protocol.
pub fn format_rs(rs: &cfg::RealServer, vs: &cfg::VirtualServer, c: &DumpConfig) -> String {
    Trio(
        rs.addr,
        service_type(vs, &c.groups).map(proto_name),
        rs.port.unwrap_or(0),
    )
    .to_string()
}

/// lib/utils.c `inet_sockaddrtopair()`: `[addr]:port`.
fn pair(addr: IpAddr, port: u16) -> String {
    format!("[{addr}]:{port}")
}

/// Everything keepalived's `dump_check_data()` prints.
pub fn check_data(c: &DumpConfig, plan: &CheckPlan, st: &State) -> String {
    let mut out = String::new();
    let any_ssl_get = c.virtual_servers.iter().any(|vs| {
        vs.real_servers.iter().any(|rs| {
            rs.checkers
                .iter()
                .any(|k| matches!(k.kind, cfg::CheckerKind::Ssl(_)))
        })
    });
    if c.ssl.is_some() || any_ssl_get {
        out.push_str("------< SSL definitions >------\n");
        dump_ssl(&mut out, c.ssl.as_ref());
    }
    if !c.virtual_servers.is_empty() {
        out.push_str("------< LVS Topology >------\n");
        // ip_vs.h IP_VS_VERSION_CODE 0x010201.
        out.push_str(" System is compiled with LVS v1.2.1\n");
        for g in &c.groups {
            dump_vsg(&mut out, g, c, st);
        }
        for (vi, vs) in c.virtual_servers.iter().enumerate() {
            dump_vs(&mut out, vs, c, st.virtual_servers.get(vi));
        }
    }
    dump_checkers_queue(&mut out, c, plan, st);
    dump_track_bfds(&mut out, c);
    // Only the track files a FILE_CHECK follows (keepalived's checker
    // drops the others).
    let used: Vec<&cfg::VrrpTrackFile> = c
        .track_files
        .iter()
        .filter(|tf| {
            c.virtual_servers
                .iter()
                .flat_map(|v| &v.real_servers)
                .any(|rs| file_checks(rs, c).any(|(n, _, _)| n == tf.name))
        })
        .collect();
    if !used.is_empty() {
        out.push_str("------< Checker track files >------\n");
        for tf in used {
            dump_track_file(&mut out, tf, c);
        }
    }
    out
}

/// The BFD_CHECKs of a real server: their BFD instance names.
fn bfd_checks(rs: &cfg::RealServer) -> impl Iterator<Item = &str> {
    rs.checkers.iter().filter_map(|k| match &k.kind {
        cfg::CheckerKind::Bfd { name } => Some(name.as_str()),
        _ => None,
    })
}

/// check_data.c `dump_checker_bfd()`: every `bfd_instance` the checker
/// process knows, in file order, with the real servers whose BFD_CHECK
/// follows it (check_bfd.c `dump_bfds_rs()`).
fn dump_track_bfds(out: &mut String, c: &DumpConfig) {
    let mut names: Vec<&str> = c.bfd_names.iter().map(String::as_str).collect();
    for rs in c.virtual_servers.iter().flat_map(|v| &v.real_servers) {
        for n in bfd_checks(rs) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    if names.is_empty() {
        return;
    }
    out.push_str("------< Checker track BFDs >------\n");
    for name in names {
        let _ = writeln!(out, " Checker Track BFD = {name}");
        out.push_str("   Tracking RS :\n");
        for vs in &c.virtual_servers {
            for rs in &vs.real_servers {
                for _ in bfd_checks(rs).filter(|n| *n == name) {
                    let _ = writeln!(out, "   {}", format_rs(rs, vs, c));
                }
            }
        }
    }
}

/// The FILE_CHECKs of a real server: (track file name, weight, reverse),
/// the weight being the checker's, else the track file's with its reverse
/// (check_file.c `file_end_handler`; the same reading as the plan's).
fn file_checks<'a>(
    rs: &'a cfg::RealServer,
    c: &'a DumpConfig,
) -> impl Iterator<Item = (&'a str, i32, bool)> + 'a {
    rs.checkers.iter().filter_map(move |k| match &k.kind {
        cfg::CheckerKind::File(f) => {
            let tf_rev = c
                .track_files
                .iter()
                .find(|t| t.name == f.track_file)
                .is_some_and(|t| t.weight == f.weight && t.reverse);
            Some((f.track_file.as_str(), f.weight, f.reverse || tf_rev))
        }
        _ => None,
    })
}

fn reverse(r: bool) -> &'static str {
    if r {
        " reverse"
    } else {
        ""
    }
}

/// trackers/track_file.c `dump_track_file()` with check_data.c
/// `dump_tracking_rs()` for each FILE_CHECK following the file. The
/// status is the value last read (0 until then).
fn dump_track_file(out: &mut String, tf: &cfg::VrrpTrackFile, c: &DumpConfig) {
    let _ = writeln!(out, " Track file = {}", tf.name);
    let _ = writeln!(out, "   File = {}", tf.file.display());
    out.push_str("   Status = 0\n");
    let _ = writeln!(out, "   Weight = {}{}", tf.weight, reverse(tf.reverse));
    let mut first = true;
    for vs in &c.virtual_servers {
        for rs in &vs.real_servers {
            for (name, weight, rev) in file_checks(rs, c) {
                if name != tf.name {
                    continue;
                }
                if first {
                    out.push_str("   Tracking instances :\n");
                    first = false;
                }
                let _ = writeln!(
                    out,
                    "     {} -> {}, weight {weight}{}",
                    format_vs(vs),
                    format_rs(rs, vs, c),
                    reverse(rev)
                );
            }
        }
    }
}

/// check_data.c `dump_ssl()`.
fn dump_ssl(out: &mut String, ssl: Option<&cfg::SslConfig>) {
    let Some(ssl) = ssl.filter(|s| {
        s.password.is_some() || s.ca.is_some() || s.certificate.is_some() || s.key.is_some()
    }) else {
        out.push_str(" Using autogen SSL context\n");
        return;
    };
    if let Some(p) = &ssl.password {
        let _ = writeln!(out, " Password : {p}");
    }
    if let Some(p) = &ssl.ca {
        let _ = writeln!(out, " CA-file : {}", p.display());
    }
    if let Some(p) = &ssl.certificate {
        let _ = writeln!(out, " Certificate file : {}", p.display());
    }
    if let Some(p) = &ssl.key {
        let _ = writeln!(out, " Key file : {}", p.display());
    }
}

/// check_data.c `dump_vsg()` / `dump_vsg_entry()`. The "Alive" counters
/// are the virtual servers on this group, per protocol, that are up.
fn dump_vsg(out: &mut String, g: &cfg::VirtualServerGroup, c: &DumpConfig, st: &State) {
    let have4 = g.members.iter().any(|m| match m {
        cfg::VsgMember::Range { first, .. } => first.is_ipv4(),
        cfg::VsgMember::Fwmark { family, .. } => *family == Some(cfg::AddressFamily::Inet),
    });
    let have6 = g.members.iter().any(|m| match m {
        cfg::VsgMember::Range { first, .. } => first.is_ipv6(),
        cfg::VsgMember::Fwmark { family, .. } => *family == Some(cfg::AddressFamily::Inet6),
    });
    out.push_str(" ------< Virtual server group >------\n");
    let _ = writeln!(
        out,
        " Virtual Server Group = {}, IPv4 = {}, IPv6 = {}",
        g.name,
        yes_no(have4),
        yes_no(have6)
    );
    let alive = |proto: Option<cfg::Protocol>, fam: Option<cfg::AddressFamily>| -> usize {
        c.virtual_servers
            .iter()
            .enumerate()
            .filter(|(_, vs)| matches!(&vs.service, cfg::VirtualService::Group(n) if *n == g.name))
            .filter(|(_, vs)| proto.is_none_or(|p| vs.protocol == p))
            .filter(|(_, vs)| fam.is_none_or(|f| vs.ip_family.unwrap_or(f) == f))
            .filter(|(i, _)| st.virtual_servers.get(*i).is_some_and(|s| s.alive))
            .count()
    };
    // keepalived lists the address ranges first, then the fwmarks.
    for m in &g.members {
        if let cfg::VsgMember::Range { first, last, port } = m {
            let port = port.unwrap_or(0);
            if first != last {
                let _ = writeln!(out, "   VIP Range = {first}-{last}, VPORT = {port}");
            } else {
                let _ = writeln!(out, "   VIP = {first}, VPORT = {port}");
            }
            let _ = writeln!(
                out,
                "     Alive: {} tcp, {} udp, {} sctp",
                alive(Some(cfg::Protocol::Tcp), None),
                alive(Some(cfg::Protocol::Udp), None),
                alive(Some(cfg::Protocol::Sctp), None)
            );
            out.push_str("     reloaded = False\n");
        }
    }
    for m in &g.members {
        if let cfg::VsgMember::Fwmark { mark, family } = m {
            let fam = match family {
                Some(cfg::AddressFamily::Inet) => " IPv4",
                Some(cfg::AddressFamily::Inet6) => " IPv6",
                None => "",
            };
            let _ = writeln!(out, "   FWMARK = {mark}{fam}");
            let _ = writeln!(
                out,
                "     Alive: {} IPv4, {} IPv6",
                alive(None, Some(cfg::AddressFamily::Inet)),
                alive(None, Some(cfg::AddressFamily::Inet6))
            );
            out.push_str("     reloaded = False\n");
        }
    }
}

fn group_families(c: &DumpConfig, name: &str) -> (bool, bool) {
    let Some(g) = c.groups.iter().find(|g| g.name == name) else {
        return (false, false);
    };
    let mut v4 = false;
    let mut v6 = false;
    for m in &g.members {
        match m {
            cfg::VsgMember::Range { first, .. } => {
                v4 |= first.is_ipv4();
                v6 |= first.is_ipv6();
            }
            cfg::VsgMember::Fwmark { family, .. } => match family {
                Some(cfg::AddressFamily::Inet6) => v6 = true,
                Some(cfg::AddressFamily::Inet) => v4 = true,
                None => {}
            },
        }
    }
    (v4, v6)
}

/// check_data.c `dump_forwarding_method()`, with keepalived's quirk that
/// the GUE and GRE lines carry no prefix.
fn dump_forwarding_method(out: &mut String, prefix: &str, m: &cfg::ForwardingMethod) {
    const FWD: &str = "forwarding method = ";
    match m {
        cfg::ForwardingMethod::Nat => {
            let _ = writeln!(out, "   {prefix}{FWD}NAT");
        }
        cfg::ForwardingMethod::Dr => {
            let _ = writeln!(out, "   {prefix}{FWD}DR");
        }
        cfg::ForwardingMethod::Tun {
            tunnel_type,
            checksum,
        } => {
            let csum = match checksum {
                cfg::TunnelChecksum::Default | cfg::TunnelChecksum::NoCsum => ", no checksum",
                cfg::TunnelChecksum::Csum => ", checksum",
                cfg::TunnelChecksum::RemCsum => ", remote checksum",
            };
            match tunnel_type {
                cfg::TunnelType::Ipip => {
                    let _ = writeln!(out, "   {prefix}{FWD}TUN, type = IPIP");
                }
                cfg::TunnelType::Gue { port } => {
                    let _ = writeln!(out, "   {FWD}TUN, type = GUE, port = {port}{csum}");
                }
                cfg::TunnelType::Gre => {
                    let _ = writeln!(out, "   {FWD}TUN, type = GRE{csum}");
                }
            }
        }
    }
}

fn script_line(n: &cfg::Notify, gd: &cfg::GlobalDefs) -> String {
    let (uid, gid) = rkeepalived_dump::script_ids(n, gd);
    format!(
        "{}, uid:gid {uid}:{gid}",
        rkeepalived_dump::cmd_str_resolved(&n.command)
    )
}

/// The persistence granularity as keepalived keeps it: an IPv4 netmask, or
/// an IPv6 prefix length.
fn granularity(mask: IpAddr, af6: bool) -> String {
    match mask {
        IpAddr::V6(m) if af6 => u128::from(m).count_ones().to_string(),
        IpAddr::V6(m) => m.to_string(),
        IpAddr::V4(m) if af6 => u32::from(m).count_ones().to_string(),
        IpAddr::V4(m) => m.to_string(),
    }
}

/// check_data.c `dump_vs()`.
fn dump_vs(out: &mut String, vs: &cfg::VirtualServer, c: &DumpConfig, st: Option<&VsState>) {
    let gd = &c.global_defs;
    out.push_str(" ------< Virtual server >------\n");
    let af6 = match &vs.service {
        cfg::VirtualService::Group(_) => {
            let _ = writeln!(out, " VS GROUP = {}", format_vs(vs));
            vs.ip_family == Some(cfg::AddressFamily::Inet6)
        }
        cfg::VirtualService::Fwmark(m) => {
            let _ = writeln!(out, " VS FWMARK = {m}");
            vs.ip_family
                .or_else(|| {
                    vs.real_servers
                        .first()
                        .map(|r| cfg::AddressFamily::of(&r.addr))
                })
                .unwrap_or(cfg::AddressFamily::Inet)
                == cfg::AddressFamily::Inet6
        }
        cfg::VirtualService::Addr { addr, port } => {
            let _ = writeln!(out, " VS VIP = {addr}, VPORT = {}", port.unwrap_or(0));
            addr.is_ipv6()
        }
    };
    if let Some(v) = &vs.virtualhost {
        let _ = writeln!(out, "   VirtualHost = {v}");
    }
    let af = match &vs.service {
        cfg::VirtualService::Group(name) if vs.ip_family.is_none() => {
            match group_families(c, name) {
                (true, true) => "IPv4 & IPv6",
                (true, false) => "inet",
                (false, true) => "inet6",
                // A group of fwmarks without a family: the real servers'.
                (false, false) => match vs.real_servers.first().map(|r| r.addr) {
                    Some(IpAddr::V4(_)) => "inet",
                    Some(IpAddr::V6(_)) => "inet6",
                    None => "unknown",
                },
            }
        }
        _ if af6 => "inet6",
        _ => "inet",
    };
    let _ = writeln!(out, "   Address family = {af}");
    let d = &vs.checker_defaults;
    let _ = writeln!(
        out,
        "   connection timeout = {}",
        format_decimal(d.connect_timeout.unwrap_or(VS_CONNECT_TIMEOUT))
    );
    let _ = writeln!(
        out,
        "   delay_loop = {}",
        format_decimal(d.delay_loop.unwrap_or(VS_DELAY_LOOP))
    );
    let sched = vs.lvs_sched.name();
    let _ = writeln!(out, "   lvs_sched = {sched}");
    out.push_str("   Hashed = disabled\n");
    let f = &vs.sched_flags;
    match sched {
        // ip_vs.h: SH/MH_FALLBACK = SCHED1, SH/MH_PORT = SCHED2.
        "sh" | "mh" => {
            let _ = writeln!(out, "   {sched}-port = {}abled", en_dis(f.flag_2));
            let _ = writeln!(out, "   {sched}-fallback = {}abled", en_dis(f.flag_1));
        }
        _ => {
            let _ = writeln!(out, "   flag-1 = {}abled", en_dis(f.flag_1));
            let _ = writeln!(out, "   flag-2 = {}abled", en_dis(f.flag_2));
            let _ = writeln!(out, "   flag-3 = {}abled", en_dis(f.flag_3));
        }
    }
    let _ = writeln!(
        out,
        "   One packet scheduling = {}abled{}",
        en_dis(vs.ops),
        if vs.ops && service_type(vs, &c.groups) != Some(cfg::Protocol::Udp) {
            " (inactive due to not UDP)"
        } else {
            ""
        }
    );
    if let Some(t) = vs.persistence_timeout.filter(|t| !t.is_zero()) {
        let _ = writeln!(out, "   persistence timeout = {}", t.as_secs());
    }
    if let Some(m) = vs.persistence_granularity {
        let _ = writeln!(out, "   persistence granularity = {}", granularity(m, af6));
    }
    let _ = writeln!(
        out,
        "   protocol = {}",
        match service_type(vs, &c.groups) {
            Some(cfg::Protocol::Tcp) => "TCP",
            Some(cfg::Protocol::Udp) => "UDP",
            Some(cfg::Protocol::Sctp) => "SCTP",
            None => "none",
        }
    );
    let _ = writeln!(out, "   alpha is {}", on_off(vs.alpha));
    let _ = writeln!(out, "   omega is {}", on_off(vs.omega));
    if let Some(r) = d.retry {
        let _ = writeln!(out, "   Retry count = {r}");
    }
    if let Some(r) = d.delay_before_retry {
        let _ = writeln!(out, "   Retry delay = {}", format_decimal(r));
    }
    if let Some(w) = d.warmup {
        let _ = writeln!(out, "   Warmup = {}", format_decimal(w));
    }
    let _ = writeln!(
        out,
        "   Inhibit on failure is {}",
        on_off(vs.inhibit_on_failure)
    );
    let _ = writeln!(
        out,
        "   quorum = {}, hysteresis = {}",
        vs.quorum, vs.hysteresis
    );
    if let Some(n) = &vs.quorum_up {
        let _ = writeln!(out, "   Quorum up notify script = {}", script_line(n, gd));
    }
    if let Some(n) = &vs.quorum_down {
        let _ = writeln!(out, "   Quorum down notify script = {}", script_line(n, gd));
    }
    if vs.ha_suspend {
        out.push_str("   Using HA suspend\n");
    }
    let _ = writeln!(
        out,
        "   Using smtp notification = {}",
        yes_no(vs.smtp_alert)
    );
    dump_forwarding_method(out, "default ", &vs.lvs_method);
    if let Some(s) = &vs.sorry_server {
        let port = s.port.or(match vs.service {
            cfg::VirtualService::Addr { port, .. } => port,
            _ => None,
        });
        let dup = vs
            .real_servers
            .iter()
            .any(|r| r.addr == s.addr && r.port == port);
        let _ = writeln!(
            out,
            "   sorry server {}= {}",
            if dup { "(duplicates rs) " } else { "" },
            Trio(
                s.addr,
                service_type(vs, &c.groups).map(proto_name),
                port.unwrap_or(0)
            )
        );
        dump_forwarding_method(out, "  ", &s.lvs_method);
        let _ = writeln!(out, "     Inhibit on failure is {}", on_off(s.inhibit));
    }
    let _ = writeln!(out, "   alive = {}", st.is_some_and(|s| s.alive) as u8);
    let _ = writeln!(
        out,
        "   quorum_state_up = {}",
        st.is_some_and(|s| s.quorum_up) as u8
    );
    out.push_str("   reloaded = 0\n");
    for (ri, rs) in vs.real_servers.iter().enumerate() {
        dump_rs(out, rs, vs, c, st.and_then(|s| s.real_servers.get(ri)));
    }
}

/// check_data.c `dump_rs()`; the unset options inherit the virtual
/// server's (`validate_check_config()`).
fn dump_rs(
    out: &mut String,
    rs: &cfg::RealServer,
    vs: &cfg::VirtualServer,
    c: &DumpConfig,
    st: Option<&RsState>,
) {
    let gd = &c.global_defs;
    let eff = st.map_or(i64::from(rs.weight), |s| s.effective_weight);
    let d = &rs.checker_defaults;
    let v = &vs.checker_defaults;
    out.push_str("   ------< Real server >------\n");
    let _ = writeln!(
        out,
        "   RIP = {}, RPORT = {}, WEIGHT = {} EFF WEIGHT = {eff}",
        rs.addr,
        rs.port.unwrap_or(0),
        eff.clamp(0, IPVS_WEIGHT_LIMIT)
    );
    dump_forwarding_method(out, "", &rs.lvs_method);
    let _ = writeln!(out, "   Alpha is {}", on_off(d.alpha.unwrap_or(vs.alpha)));
    let _ = writeln!(
        out,
        "   connection timeout = {}",
        format_decimal(
            d.connect_timeout
                .or(v.connect_timeout)
                .unwrap_or(VS_CONNECT_TIMEOUT)
        )
    );
    let _ = writeln!(
        out,
        "   connection limit range = {} -> {}",
        rs.lthreshold.unwrap_or(0),
        rs.uthreshold.unwrap_or(0)
    );
    let _ = writeln!(
        out,
        "   Delay loop = {}",
        format_decimal(d.delay_loop.or(v.delay_loop).unwrap_or(VS_DELAY_LOOP))
    );
    if let Some(r) = d.retry.or(v.retry) {
        let _ = writeln!(out, "   Retry count = {r}");
    }
    if let Some(r) = d.delay_before_retry.or(v.delay_before_retry) {
        let _ = writeln!(out, "   Retry delay = {}", format_decimal(r));
    }
    if let Some(w) = d.warmup.or(v.warmup) {
        let _ = writeln!(out, "   Warmup = {}", format_decimal(w));
    }
    let _ = writeln!(
        out,
        "   Inhibit on failure is {}",
        on_off(rs.inhibit_on_failure)
    );
    if let Some(n) = &rs.notify_up {
        let _ = writeln!(out, "     RS up notify script = {}", script_line(n, gd));
    }
    if let Some(n) = &rs.notify_down {
        let _ = writeln!(out, "     RS down notify script = {}", script_line(n, gd));
    }
    if let Some(v) = &rs.virtualhost {
        let _ = writeln!(out, "    VirtualHost = '{v}'");
    }
    let _ = writeln!(
        out,
        "   Using smtp notification = {}",
        yes_no(rs.smtp_alert)
    );
    let _ = writeln!(out, "   initial weight = {}", rs.weight);
    let _ = writeln!(out, "   effective weight = {eff}");
    let _ = writeln!(
        out,
        "   previous effective_weight = {}",
        st.map_or(0, |s| s.previous_weight)
    );
    let _ = writeln!(out, "   alive = {}", st.is_some_and(|s| s.alive) as u8);
    let _ = writeln!(
        out,
        "   num failed checkers = {}",
        st.map_or(0, |s| s.num_failed_checkers)
    );
    let _ = writeln!(out, "   RS set = {}", st.is_some_and(|s| s.set) as u8);
    out.push_str("   reloaded = 0\n");
    let mut files = file_checks(rs, c).peekable();
    if files.peek().is_some() {
        out.push_str("   Tracked Files\n");
        for (name, weight, rev) in files {
            let _ = writeln!(out, "     {name}, weight {weight}{}", reverse(rev));
        }
    }
    let mut bfds = bfd_checks(rs).peekable();
    if bfds.peek().is_some() {
        out.push_str("   Tracked BFDs\n");
        for name in bfds {
            let _ = writeln!(out, "     {name}");
        }
    }
}

/// check_api.c `dump_checkers_queue()`: every checker, in configuration
/// order. A BFD_CHECK (not run by rkeepalived) is listed from the
/// configuration alone.
fn dump_checkers_queue(out: &mut String, c: &DumpConfig, plan: &CheckPlan, st: &State) {
    let mut header = false;
    for (vi, vs) in c.virtual_servers.iter().enumerate() {
        let pvs = plan.virtual_servers.get(vi);
        for (ri, rs) in vs.real_servers.iter().enumerate() {
            let prs = pvs.and_then(|p| p.real_servers.get(ri));
            let srs = st
                .virtual_servers
                .get(vi)
                .and_then(|s| s.real_servers.get(ri));
            let mut pi = 0usize;
            for chk in &rs.checkers {
                if !header {
                    out.push_str("------< Health checkers >------\n");
                    header = true;
                }
                let spec = if matches!(chk.kind, cfg::CheckerKind::Bfd { .. }) {
                    None
                } else {
                    let s = prs.and_then(|p| p.checkers.get(pi)).map(|a| &**a);
                    let cs = srs.and_then(|s| s.checkers.get(pi)).copied();
                    pi += 1;
                    Some((s, cs.unwrap_or_default()))
                };
                dump_checker(out, c, vs, rs, chk, spec);
            }
        }
    }
}

/// keepalived's `default_delay_before_retry` per checker type (check_api.c
/// `queue_checker`: 1 s; check_http.c: 3 s; check_dns.c: 0, which means
/// delay_loop).
fn default_delay_before_retry(kind: &cfg::CheckerKind) -> Duration {
    match kind {
        cfg::CheckerKind::Http(_) | cfg::CheckerKind::Ssl(_) => Duration::from_secs(3),
        cfg::CheckerKind::Dns(_) => Duration::ZERO,
        _ => Duration::from_secs(1),
    }
}

/// check_api.c `dump_checker()` and `dump_connection_opts()`, then the
/// checker type's own lines.
fn dump_checker(
    out: &mut String,
    c: &DumpConfig,
    vs: &cfg::VirtualServer,
    rs: &cfg::RealServer,
    chk: &cfg::Checker,
    run: Option<(Option<&CheckerSpec>, CheckerState)>,
) {
    let (spec, state) = match run {
        Some((s, st)) => (s, st),
        None => (None, CheckerState::default()),
    };
    let cm = &chk.common;
    let _ = writeln!(out, " {} -> {}", format_vs(vs), format_rs(rs, vs, c));
    out.push_str("   Enabled = yes\n");
    let _ = writeln!(out, "   Up = {}", yes_no(state.up));
    let _ = writeln!(out, "   Has run = {}", yes_no(state.has_run));
    let _ = writeln!(out, "   Current weight = {}", state.cur_weight);
    let is_file = matches!(chk.kind, cfg::CheckerKind::File(_));
    if matches!(chk.kind, cfg::CheckerKind::Bfd { .. }) {
        // check_bfd.c queues its checker without the common options:
        // keepalived prints their "unset" values (ULONG_MAX, UINT_MAX).
        let _ = writeln!(out, "   Alpha = {}", yes_no(cm.alpha));
        let _ = writeln!(out, "   Delay loop = {} us", u64::MAX);
        let _ = writeln!(out, "   Warmup = {} us", u64::MAX);
        let _ = writeln!(out, "   Retries = {}", u32::MAX);
        let _ = writeln!(out, "   Delay before retry = {} us", u64::MAX);
        let _ = writeln!(out, "   Retries iterations = {}", u32::MAX);
        out.push_str("   Default delay before retry = 1000000 us\n");
    } else if !is_file {
        let delay_loop = spec.map_or(cm.delay_loop, |s| s.timing.delay_loop);
        let warmup = spec.map_or(cm.warmup, |s| s.timing.warmup);
        let retry = spec.map_or(cm.retry, |s| s.timing.retry);
        let dbr = spec.map_or(cm.delay_before_retry, |s| s.timing.delay_before_retry);
        let _ = writeln!(out, "   Alpha = {}", yes_no(cm.alpha));
        let _ = writeln!(out, "   Delay loop = {} us", us(delay_loop));
        let _ = writeln!(out, "   Warmup = {} us", us(warmup));
        let _ = writeln!(out, "   Retries = {retry}");
        if retry != 0 {
            let _ = writeln!(out, "   Delay before retry = {} us", us(dbr));
            let _ = writeln!(out, "   Retries iterations = {}", state.retry_it);
        }
        let _ = writeln!(
            out,
            "   Default delay before retry = {} us",
            us(default_delay_before_retry(&chk.kind))
        );
    }
    let _ = writeln!(out, "   Log all failures = {}", yes_no(cm.log_all_failures));
    let has_conn = !matches!(
        chk.kind,
        cfg::CheckerKind::Misc(_) | cfg::CheckerKind::File(_) | cfg::CheckerKind::Bfd { .. }
    );
    if has_conn {
        let dst = spec.map(|s| s.conn.dst).unwrap_or_else(|| {
            std::net::SocketAddr::new(
                cm.connect_ip.unwrap_or(rs.addr),
                cm.connect_port.or(rs.port).unwrap_or(0),
            )
        });
        out.push_str("   Connection\n");
        let _ = writeln!(out, "     Dest = {}", pair(dst.ip(), dst.port()));
        if let Some(b) = cm.bindto {
            let _ = writeln!(out, "     Bind to = {}", pair(b, cm.bind_port.unwrap_or(0)));
        }
        if let Some(i) = &cm.bind_if {
            let _ = writeln!(out, "     Bind i/f = {i}");
        }
        if let Some(m) = cm.fwmark.filter(|m| *m != 0) {
            let _ = writeln!(out, "     Mark = {m}");
        }
        let _ = writeln!(
            out,
            "     Timeout = {}",
            rkeepalived_dump::cfmt::f(cm.connect_timeout.as_secs_f64())
        );
    }
    dump_kind(out, c, (vs, rs), chk, spec, &state);
}

fn dump_kind(
    out: &mut String,
    c: &DumpConfig,
    (vs, rs): (&cfg::VirtualServer, &cfg::RealServer),
    chk: &cfg::Checker,
    spec: Option<&CheckerSpec>,
    state: &CheckerState,
) {
    match &chk.kind {
        cfg::CheckerKind::Tcp => out.push_str("   Keepalive method = TCP_CHECK\n"),
        cfg::CheckerKind::Ping => out.push_str("   Keepalive method = PING_CHECK\n"),
        cfg::CheckerKind::Http(h) => dump_http(out, c, (vs, rs), h, false),
        cfg::CheckerKind::Ssl(h) => dump_http(out, c, (vs, rs), h, true),
        cfg::CheckerKind::Smtp(s) => {
            out.push_str("   Keepalive method = SMTP_CHECK\n");
            let _ = writeln!(out, "   helo = {}", s.helo_name);
        }
        cfg::CheckerKind::Dns(d) => {
            out.push_str("   Keepalive method = DNS_CHECK\n");
            let ty = spec
                .and_then(|s| match &s.kind {
                    CheckKind::Dns(d) => Some(dns_type_name(d.qtype)),
                    _ => None,
                })
                .unwrap_or_else(|| format!("{:?}", d.query_type).to_uppercase());
            let _ = writeln!(out, "   Type = {ty}");
            let _ = writeln!(out, "   Name = {}", d.name);
        }
        cfg::CheckerKind::Misc(m) => {
            out.push_str("   Keepalive method = MISC_CHECK\n");
            let n = cfg::Notify {
                command: m.misc_path.clone(),
                user: m.user.clone(),
            };
            let (uid, gid) = rkeepalived_dump::script_ids(&n, &c.global_defs);
            let _ = writeln!(
                out,
                "   script = {}",
                rkeepalived_dump::cmd_str_resolved(&m.misc_path)
            );
            let _ = writeln!(out, "   timeout = {}", m.misc_timeout.as_secs());
            let _ = writeln!(
                out,
                "   dynamic = {}",
                if m.misc_dynamic { "YES" } else { "NO" }
            );
            let _ = writeln!(out, "   uid:gid = {uid}:{gid}");
            let t = state.last_ran.unwrap_or(UNIX_EPOCH);
            let (secs, usecs) = rkeepalived_dump::cfmt::timeval(t);
            let _ = writeln!(out, "   Last ran = {secs}.{usecs:06} ({})", ctime_dot_us(t));
            let _ = writeln!(out, "   Last status = {}", state.last_status);
        }
        cfg::CheckerKind::Udp(u) => {
            out.push_str("   Keepalive method = UDP_CHECK\n");
            match &u.payload {
                Some(p) => {
                    let _ = writeln!(out, "   Payload len = {}", p.len());
                }
                None => out.push_str("   Payload specified = no\n"),
            }
            let _ = writeln!(
                out,
                "   Require reply = {}",
                yes_no(u.require_reply.is_some())
            );
            if let Some(r) = &u.require_reply {
                let _ = writeln!(out, "     Min reply length = {}", u.min_reply_length);
                let _ = writeln!(out, "     Max reply length = {}", u.max_reply_length);
                let _ = writeln!(out, "     Reply data len = {}", r.len());
                if !r.is_empty() {
                    let _ = writeln!(
                        out,
                        "     Reply data mask = {}",
                        yes_no(r.iter().any(|b| b.mask != 0xff))
                    );
                }
            }
        }
        cfg::CheckerKind::File(f) => {
            out.push_str("   Keepalive method = FILE_CHECK\n");
            let _ = writeln!(out, "     Tracked file = {}", f.track_file);
            out.push_str("     Reloaded = No\n");
        }
        cfg::CheckerKind::Bfd { name } => {
            out.push_str("   Keepalive method = BFD_CHECK\n");
            let _ = writeln!(out, "   Name = {name}");
            let _ = writeln!(out, "   Alpha is {}", on_off(chk.common.alpha));
        }
    }
}

/// check_misc.c `dump_misc_check()`'s `"%.24s.%6.6ld"`: `ctime_r()`
/// without its newline, then the microseconds after the year:
/// `Sun Dec  6 10:05:40 2026.410109`.
pub fn ctime_dot_us(t: SystemTime) -> String {
    let s = rkeepalived_dump::cfmt::ctime_us(t);
    match (s.rfind('.'), s.rfind(' ')) {
        (Some(dot), Some(sp)) if dot < sp => format!("{}{}{}", &s[..dot], &s[sp..], &s[dot..sp]),
        _ => s,
    }
}

/// check_dns.c `dns_type_name()`.
fn dns_type_name(t: u16) -> String {
    match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        46 => "RRSIG",
        48 => "DNSKEY",
        _ => "(unknown)",
    }
    .to_string()
}

/// check_http.c `dump_http_check()` and `dump_url()`.
fn dump_http(
    out: &mut String,
    c: &DumpConfig,
    (vs, rs): (&cfg::VirtualServer, &cfg::RealServer),
    h: &cfg::HttpCheck,
    ssl: bool,
) {
    let _ = writeln!(
        out,
        "   Keepalive method = {}_GET, http protocol {}",
        if ssl { "SSL" } else { "HTTP" },
        match h.http_protocol {
            cfg::HttpProtocol::V1_0C => "1.0C",
            cfg::HttpProtocol::V1_1 => "1.1",
            _ => "1.0",
        }
    );
    // The model resolves the checker's virtualhost from the real or
    // virtual server's, and each url's from the checker's; keepalived
    // prints only those set on the checker or the url.
    let inherited = rs.virtualhost.as_ref().or(vs.virtualhost.as_ref());
    if let Some(v) = h.virtualhost.as_ref().filter(|v| Some(*v) != inherited) {
        let _ = writeln!(out, "   Virtualhost = {v}");
    }
    let _ = writeln!(
        out,
        "   Enable SNI {}set",
        if h.enable_sni { "" } else { "un" }
    );
    let _ = writeln!(
        out,
        "   Fast recovery {}set",
        if h.fast_recovery { "" } else { "un" }
    );
    for u in &h.urls {
        let _ = writeln!(out, "   Checked url = {}", u.path);
        if let Some(d) = &u.digest {
            let _ = writeln!(out, "     digest = {d}");
        }
        out.push_str("     HTTP Status Code(s)\n");
        for line in status_code_lines(&u.status_codes) {
            let _ = writeln!(out, "       {line}");
        }
        if let Some(v) = u
            .virtualhost
            .as_ref()
            .filter(|_| u.virtualhost != h.virtualhost)
        {
            let _ = writeln!(out, "     Virtual host = {v}");
        }
        if let Some(re) = &u.regex {
            let _ = writeln!(out, "     Regex = \"{re}\"");
            if u.regex_no_match {
                out.push_str("     Regex no match\n");
            }
            let min = u.regex_min_offset.unwrap_or(0);
            match u.regex_max_offset {
                Some(max) => {
                    let _ = writeln!(out, "     Regex min offset = {min}, max_offset = {max}");
                }
                None if min != 0 => {
                    let _ = writeln!(out, "     Regex min offset = {min}");
                }
                None => {}
            }
            out.push_str("     Regex options:\n");
            let _ = writeln!(out, "     Regex ref count = {}", regex_refs(c, re));
        }
    }
}

/// How many urls share this pattern (keepalived compiles each distinct
/// pattern once and counts its users).
fn regex_refs(c: &DumpConfig, re: &str) -> usize {
    c.virtual_servers
        .iter()
        .flat_map(|v| &v.real_servers)
        .flat_map(|r| &r.checkers)
        .filter_map(|k| match &k.kind {
            cfg::CheckerKind::Http(h) | cfg::CheckerKind::Ssl(h) => Some(h),
            _ => None,
        })
        .flat_map(|h| &h.urls)
        .filter(|u| u.regex.as_deref() == Some(re))
        .count()
}

/// check_http.c `dump_url()`'s status code ranges: the set codes from 100
/// to 599 as runs, `200-299` when none was configured.
pub fn status_code_lines(ranges: &[cfg::StatusRange]) -> Vec<String> {
    const MIN: u16 = 100;
    const MAX: u16 = 599;
    let mut set = [false; (MAX - MIN + 1) as usize];
    if ranges.is_empty() {
        for c in 200..=299 {
            set[(c - MIN) as usize] = true;
        }
    }
    for r in ranges {
        let (lo, hi) = (r.min, r.max);
        for c in lo.max(MIN)..=hi.min(MAX) {
            set[(c - MIN) as usize] = true;
        }
    }
    let mut out = Vec::new();
    let mut start: Option<u16> = None;
    for c in MIN..=MAX + 1 {
        let on = c <= MAX && set[(c - MIN) as usize];
        match (on, start) {
            (true, None) => start = Some(c),
            (false, Some(s)) => {
                if c - 1 == s {
                    out.push(s.to_string());
                } else {
                    out.push(format!("{s}-{}", c - 1));
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(text: &str, st: &State) -> String {
        let loaded = rkeepalived_config::parse_str(
            text,
            "t.conf",
            &rkeepalived_config::LoadOptions {
                config_id: Some("t".into()),
            },
        )
        .expect("config parses");
        let plan = crate::plan::from_config(&loaded.config).expect("plan");
        check_data(&plan.dump.unpack(), &plan, st)
    }

    fn has(out: &str, lines: &[&str]) {
        let all: Vec<&str> = out.lines().collect();
        let start = all
            .iter()
            .position(|l| *l == lines[0])
            .unwrap_or_else(|| panic!("no {:?} in\n{out}", lines[0]));
        assert_eq!(&all[start..start + lines.len()], lines, "\n{out}");
    }

    #[test]
    fn c_formats() {
        assert_eq!(format_decimal(Duration::from_millis(5_250)), "5.250000");
        assert_eq!(format_decimal(Duration::ZERO), "0.000000");
        let t = UNIX_EPOCH + Duration::new(1_796_551_540, 410_109_000);
        assert_eq!(ctime_dot_us(t), "Sun Dec  6 10:05:40 2026.410109");
        assert_eq!(ctime_dot_us(UNIX_EPOCH), "Thu Jan  1 00:00:00 1970.000000");
        assert_eq!(dns_type_name(28), "AAAA");
        assert_eq!(dns_type_name(99), "(unknown)");
        assert_eq!(
            granularity("255.255.0.0".parse().unwrap(), false),
            "255.255.0.0"
        );
        assert_eq!(granularity("ffff:ffff::".parse().unwrap(), true), "32");
    }

    #[test]
    fn status_codes_as_runs() {
        let r = |min, max| cfg::StatusRange { min, max };
        assert_eq!(status_code_lines(&[]), ["200-299"]);
        assert_eq!(
            status_code_lines(&[r(301, 301), r(200, 204), r(203, 210), r(599, 599)]),
            ["200-210", "301", "599"]
        );
        assert_eq!(status_code_lines(&[r(500, 599)]), ["500-599"]);
        assert_eq!(status_code_lines(&[r(100, 100)]), ["100"]);
    }

    /// check_udp.c `dump_udp_check()` with a payload and a pattern with
    /// "don't care" nibbles; check_misc.c with its last run.
    #[test]
    fn udp_and_misc_lines() {
        let text = "virtual_server 192.0.2.1 53 {
    lb_algo rr
    lb_kind NAT
    protocol UDP
    real_server 192.0.2.2 53 {
        UDP_CHECK {
            payload 010203
            require_reply 0aXb
        }
        MISC_CHECK {
            misc_path /bin/true
        }
    }
}
";
        let ran = UNIX_EPOCH + Duration::new(1_796_551_540, 410_109_000);
        let st = State {
            virtual_servers: vec![VsState {
                alive: true,
                quorum_up: true,
                real_servers: vec![RsState {
                    checkers: vec![
                        CheckerState::default(),
                        CheckerState {
                            last_ran: Some(ran),
                            last_status: 1,
                            has_run: true,
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                }],
            }],
        };
        let out = dump(text, &st);
        has(
            &out,
            &[
                "   Keepalive method = UDP_CHECK",
                "   Payload len = 3",
                "   Require reply = yes",
                "     Min reply length = 0",
                "     Max reply length = 255",
                "     Reply data len = 2",
                "     Reply data mask = yes",
            ],
        );
        has(
            &out,
            &[
                "   Keepalive method = MISC_CHECK",
                &format!(
                    "   script = {}",
                    rkeepalived_dump::cmd_str_resolved("/bin/true")
                ),
                "   timeout = 60",
                "   dynamic = NO",
            ],
        );
        has(
            &out,
            &[
                "   Last ran = 1796551540.410109 (Sun Dec  6 10:05:40 2026.410109)",
                "   Last status = 1",
            ],
        );
        assert_eq!(out.matches("   Has run = yes\n").count(), 1, "{out}");
    }

    /// The `mh` flags, one-packet scheduling kept on a fwmark group, ha_suspend, an SSL
    /// block with files, a fwmark group entry with its family.
    #[test]
    fn virtual_server_options() {
        let text = "SSL {
    password secret
    ca /etc/ca.pem
    certificate /etc/c.pem
    key /etc/k.pem
}
virtual_server_group g {
    fwmark 3 inet6
}
virtual_server group g {
    lb_algo mh
    mh-fallback
    lb_kind DR
    ops
    real_server 2001:db8::2 80 {
        weight 4
        TCP_CHECK {
        }
    }
}
virtual_server 192.0.2.1 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    ops
    ha_suspend
    real_server 192.0.2.2 80 {
        TCP_CHECK {
        }
    }
}
";
        let st = State {
            virtual_servers: vec![VsState {
                real_servers: vec![RsState {
                    effective_weight: 7,
                    checkers: vec![CheckerState {
                        cur_weight: 3,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let out = dump(text, &st);
        has(
            &out,
            &[
                "------< SSL definitions >------",
                " Password : secret",
                " CA-file : /etc/ca.pem",
                " Certificate file : /etc/c.pem",
                " Key file : /etc/k.pem",
                "------< LVS Topology >------",
            ],
        );
        has(
            &out,
            &[
                " Virtual Server Group = g, IPv4 = no, IPv6 = yes",
                "   FWMARK = 3 IPv6",
                "     Alive: 0 IPv4, 0 IPv6",
                "     reloaded = False",
                " ------< Virtual server >------",
                " VS GROUP = [g]:0",
                "   Address family = inet6",
            ],
        );
        has(
            &out,
            &[
                "   lvs_sched = mh",
                "   Hashed = disabled",
                "   mh-port = disabled",
                "   mh-fallback = enabled",
                "   One packet scheduling = enabled (inactive due to not UDP)",
                "   protocol = none",
            ],
        );
        has(
            &out,
            &["   Using HA suspend", "   Using smtp notification = no"],
        );
        has(
            &out,
            &["   RIP = 2001:db8::2, RPORT = 80, WEIGHT = 7 EFF WEIGHT = 7"],
        );
        has(
            &out,
            &[
                " [g]:0 -> [2001:db8::2]:none:80",
                "   Enabled = yes",
                "   Up = no",
                "   Has run = no",
                "   Current weight = 3",
            ],
        );
        // ...but an address service on TCP loses it (validate_check_config).
        assert!(
            out.contains("   One packet scheduling = disabled\n   protocol = TCP\n"),
            "{out}"
        );
    }
}
