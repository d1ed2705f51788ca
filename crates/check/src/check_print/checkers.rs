//! check_api.c `dump_checkers_queue()` / `dump_checker()` and each
//! checker's own dump function (check_tcp.c, check_http.c, check_misc.c,
//! check_smtp.c, check_dns.c, check_udp.c, check_ping.c, check_file.c).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rkeepalived_config::model as cfg;

use super::*;

/// check_api.c `dump_checkers_queue()`: every checker, in configuration
/// order. A BFD_CHECK (not run by rkeepalived) is listed from the
/// configuration alone.
pub(super) fn dump_checkers_queue(out: &mut String, c: &DumpConfig, plan: &CheckPlan, st: &State) {
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
pub(super) fn default_delay_before_retry(kind: &cfg::CheckerKind) -> Duration {
    match kind {
        cfg::CheckerKind::Http(_) | cfg::CheckerKind::Ssl(_) => Duration::from_secs(3),
        cfg::CheckerKind::Dns(_) => Duration::ZERO,
        _ => Duration::from_secs(1),
    }
}

/// check_api.c `dump_checker()` and `dump_connection_opts()`, then the
/// checker type's own lines.
pub(super) fn dump_checker(
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

pub(super) fn dump_kind(
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
pub(super) fn dns_type_name(t: u16) -> String {
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
pub(super) fn dump_http(
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
pub(super) fn regex_refs(c: &DumpConfig, re: &str) -> usize {
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
