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
use std::time::{Duration, SystemTime};

use rkeepalived_config::model as cfg;

use crate::logfmt::Trio;
use crate::spec::{CheckKind, CheckPlan, CheckerSpec};

mod checkers;
mod packed;
mod vs;

use checkers::*;
pub use checkers::{ctime_dot_us, status_code_lines};
pub use packed::PackedDump;
use vs::*;

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

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

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
