//! LVS: virtual server groups, virtual and real servers, checkers.

use std::fmt::Write;

use super::*;

pub(super) fn virtual_server_group(w: &mut Out, g: &VirtualServerGroup) {
    w.open(&format!("virtual_server_group {}", q(&g.name)));
    for m in &g.members {
        w.line(&match m {
            VsgMember::Range { first, last, port } => {
                let mut s = if first == last {
                    first.to_string()
                } else {
                    format!("{first}-{last}")
                };
                if let Some(p) = port {
                    let _ = write!(s, " {p}");
                }
                s
            }
            VsgMember::Fwmark { mark, family } => {
                format!("fwmark {mark}{}", family.map(fam).unwrap_or_default())
            }
        });
    }
    w.close();
}

pub(super) fn method(m: &ForwardingMethod) -> String {
    match m {
        ForwardingMethod::Nat => "NAT".into(),
        ForwardingMethod::Dr => "DR".into(),
        ForwardingMethod::Tun {
            tunnel_type,
            checksum,
        } => {
            let mut s = match tunnel_type {
                TunnelType::Ipip => "TUN type ipip".to_string(),
                TunnelType::Gre => "TUN type gre".to_string(),
                TunnelType::Gue { port } => format!("TUN type gue port {port}"),
            };
            s.push_str(match checksum {
                TunnelChecksum::Default => "",
                TunnelChecksum::NoCsum => " nocsum",
                TunnelChecksum::Csum => " csum",
                TunnelChecksum::RemCsum => " remcsum",
            });
            s
        }
    }
}
pub(super) fn checker_defaults(w: &mut Out, d: &CheckerDefaults) {
    if let Some(v) = d.connect_timeout {
        w.time("connect_timeout", v);
    }
    if let Some(v) = d.retry {
        w.kv("retry", v);
    }
    if let Some(v) = d.delay_before_retry {
        w.time("delay_before_retry", v);
    }
    if let Some(v) = d.warmup {
        w.time("warmup", v);
    }
    if let Some(v) = d.delay_loop {
        w.time("delay_loop", v);
    }
    if let Some(v) = d.alpha {
        w.flag("alpha", v);
    }
}
pub(super) fn virtual_server(w: &mut Out, vs: &VirtualServer) {
    let head = match &vs.service {
        VirtualService::Addr { addr, port } => match port {
            Some(p) => format!("virtual_server {addr} {p}"),
            None => format!("virtual_server {addr}"),
        },
        VirtualService::Fwmark(m) => format!("virtual_server fwmark {m}"),
        VirtualService::Group(g) => format!("virtual_server group {}", q(g)),
    };
    w.open(&head);
    // keepalived ignores (and warns about) a protocol on fwmark services.
    if !matches!(vs.service, VirtualService::Fwmark(_)) {
        w.kv(
            "protocol",
            match vs.protocol {
                Protocol::Tcp => "TCP",
                Protocol::Udp => "UDP",
                Protocol::Sctp => "SCTP",
            },
        );
    }
    w.kv("lvs_sched", vs.lvs_sched.name());
    for (on, f) in [
        (vs.sched_flags.flag_1, "flag-1"),
        (vs.sched_flags.flag_2, "flag-2"),
        (vs.sched_flags.flag_3, "flag-3"),
    ] {
        if on {
            w.line(f);
        }
    }
    w.plain("ops", vs.ops);
    w.kv("lvs_method", method(&vs.lvs_method));
    opt(
        w,
        "persistence_engine",
        vs.persistence_engine.as_deref().map(q),
    );
    opt(
        w,
        "persistence_timeout",
        vs.persistence_timeout.map(|d| d.as_secs().to_string()),
    );
    opt(
        w,
        "persistence_granularity",
        // keepalived reads an IPv6 granularity as a prefix length.
        vs.persistence_granularity.map(|a| match a {
            std::net::IpAddr::V6(m) => u128::from(m).count_ones().to_string(),
            v4 => v4.to_string(),
        }),
    );
    if let Some(f) = vs.ip_family {
        w.kv("ip_family", fam(f).trim());
    }
    w.plain("ha_suspend", vs.ha_suspend);
    if let Some(d) = vs.drain_on_remove {
        w.kv("drain_on_remove", d.as_secs());
    }
    if let Some(a) = &vs.announce {
        let mut line = String::from(if a.enabled {
            "announce_route"
        } else {
            "announce_route off"
        });
        if let Some(t) = a.table {
            line.push_str(&format!(" table {t}"));
        }
        if let Some(m) = a.metric {
            line.push_str(&format!(" metric {m}"));
        }
        w.line(&line);
    }
    w.flag("smtp_alert", vs.smtp_alert);
    opt(w, "virtualhost", vs.virtualhost.as_deref().map(q));
    w.plain("omega", vs.omega);
    w.kv("quorum", vs.quorum);
    opt(w, "quorum_up", vs.quorum_up.as_ref().map(notify));
    opt(w, "quorum_down", vs.quorum_down.as_ref().map(notify));
    w.kv("hysteresis", vs.hysteresis);
    w.plain("inhibit_on_failure", vs.inhibit_on_failure);
    if let Some(s) = &vs.sorry_server {
        match s.port {
            Some(p) => w.line(&format!("sorry_server {} {p}", s.addr)),
            None => w.line(&format!("sorry_server {}", s.addr)),
        }
        w.kv("sorry_server_lvs_method", method(&s.lvs_method));
        w.plain("sorry_server_inhibit", s.inhibit);
    }
    // The VS `alpha` is a plain flag in keepalived (= checker_defaults.alpha).
    let mut d = vs.checker_defaults.clone();
    w.plain("alpha", d.alpha.take().unwrap_or(false));
    checker_defaults(w, &d);
    for rs in &vs.real_servers {
        real_server(w, rs);
    }
    w.close();
}
pub(super) fn real_server(w: &mut Out, rs: &RealServer) {
    match rs.port {
        Some(p) => w.open(&format!("real_server {} {p}", rs.addr)),
        None => w.open(&format!("real_server {}", rs.addr)),
    }
    w.kv("weight", rs.weight);
    w.kv("lvs_method", method(&rs.lvs_method));
    w.flag("inhibit_on_failure", rs.inhibit_on_failure);
    opt(w, "notify_up", rs.notify_up.as_ref().map(notify));
    opt(w, "notify_down", rs.notify_down.as_ref().map(notify));
    opt(w, "uthreshold", rs.uthreshold.map(|v| v.to_string()));
    opt(w, "lthreshold", rs.lthreshold.map(|v| v.to_string()));
    w.flag("smtp_alert", rs.smtp_alert);
    opt(w, "virtualhost", rs.virtualhost.as_deref().map(q));
    checker_defaults(w, &rs.checker_defaults);
    for c in &rs.checkers {
        checker(w, c);
    }
    w.close();
}
pub(super) fn checker(w: &mut Out, c: &Checker) {
    w.open(c.kind.keyword());
    let cm = &c.common;
    // keepalived: MISC_CHECK takes only the timing options (no
    // connect_timeout); FILE_CHECK and BFD_CHECK take none.
    let (connection, timing) = match c.kind {
        CheckerKind::Misc(_) => (false, true),
        CheckerKind::File(_) | CheckerKind::Bfd { .. } => (false, false),
        _ => (true, true),
    };
    if connection {
        opt(w, "connect_ip", cm.connect_ip.map(|a| a.to_string()));
        opt(w, "connect_port", cm.connect_port.map(|a| a.to_string()));
        opt(w, "bindto", cm.bindto.map(|a| a.to_string()));
        opt(w, "bind_port", cm.bind_port.map(|a| a.to_string()));
        opt(w, "bind_if", cm.bind_if.as_deref().map(q));
        opt(w, "fwmark", cm.fwmark.map(|a| a.to_string()));
        w.time("connect_timeout", cm.connect_timeout);
    }
    if timing {
        w.kv("retry", cm.retry);
        w.time("delay_before_retry", cm.delay_before_retry);
        w.time("delay_loop", cm.delay_loop);
        w.time("warmup", cm.warmup);
        w.flag("alpha", cm.alpha);
        w.flag("log_all_failures", cm.log_all_failures);
    }
    match &c.kind {
        CheckerKind::Tcp | CheckerKind::Ping => {}
        CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
            w.kv(
                "http_protocol",
                match h.http_protocol {
                    HttpProtocol::V1_0 => "1.0",
                    HttpProtocol::V1_0C => "1.0C",
                    HttpProtocol::V1_1 => "1.1",
                },
            );
            w.flag("fast_recovery", h.fast_recovery);
            opt(w, "virtualhost", h.virtualhost.as_deref().map(q));
            w.plain("enable_sni", h.enable_sni);
            // Newer than keepalived 2.2.7: written only when used.
            w.plain("tls_compliant", h.tls_compliant);
            for u in &h.urls {
                url(w, u);
            }
        }
        CheckerKind::Smtp(s) => w.kv("helo_name", q(&s.helo_name)),
        CheckerKind::Dns(d) => {
            w.kv("type", d.query_type.name());
            w.kv("name", q(&d.name));
        }
        CheckerKind::Misc(m) => {
            w.kv("misc_path", q(&m.misc_path));
            w.time("misc_timeout", m.misc_timeout);
            w.plain("misc_dynamic", m.misc_dynamic);
            opt(w, "user", m.user.as_ref().map(user));
        }
        CheckerKind::Udp(u) => {
            if let Some(p) = &u.payload {
                let hex: Vec<String> = p.iter().map(|b| format!("{b:02x}")).collect();
                w.line(format!("payload {}", hex.join(" ")).trim_end());
            }
            if let Some(r) = &u.require_reply {
                let hex = masked_hex(r);
                w.line(format!("require_reply {}", hex.join(" ")).trim_end());
            }
            w.kv("min_reply_length", u.min_reply_length);
            w.kv("max_reply_length", u.max_reply_length);
        }
        CheckerKind::File(f) => {
            w.kv("track_file", q(&f.track_file));
            w.plain("dynamic", f.dynamic);
            w.line(&format!("weight {}{}", f.weight, rev(f.reverse)));
        }
        CheckerKind::Bfd { name } => {
            w.kv("name", q(name));
            // check/check_bfd.c `bfd_alpha_handler()`: BFD_CHECK's only option.
            w.flag("alpha", cm.alpha);
        }
    }
    w.close();
}
pub(super) fn url(w: &mut Out, u: &HttpUrl) {
    w.open("url");
    w.kv("path", q(&u.path));
    opt(w, "digest", u.digest.clone());
    let codes: Vec<String> = u
        .status_codes
        .iter()
        .map(|r| {
            if r.min == r.max {
                r.min.to_string()
            } else {
                format!("{}-{}", r.min, r.max)
            }
        })
        .collect();
    if !codes.is_empty() {
        w.kv("status_code", codes.join(" "));
    }
    opt(w, "virtualhost", u.virtualhost.as_deref().map(q));
    opt(w, "regex", u.regex.as_deref().map(q));
    w.plain("regex_no_match", u.regex_no_match);
    opt(
        w,
        "regex_min_offset",
        u.regex_min_offset.map(|v| v.to_string()),
    );
    opt(
        w,
        "regex_max_offset",
        u.regex_max_offset.map(|v| v.to_string()),
    );
    opt(
        w,
        "regex_stack",
        u.regex_stack.map(|(start, max)| format!("{start} {max}")),
    );
    w.close();
}

/// `require_reply` bytes, `X` for a wildcard nibble.
pub(super) fn masked_hex(r: &[MaskedByte]) -> Vec<String> {
    r.iter()
        .map(|b| {
            let hi = if b.mask & 0xf0 != 0 {
                format!("{:x}", b.value >> 4)
            } else {
                "X".into()
            };
            let lo = if b.mask & 0x0f != 0 {
                format!("{:x}", b.value & 0xf)
            } else {
                "X".into()
            };
            format!("{hi}{lo}")
        })
        .collect()
}
