//! Checkers of a real server (`TCP_CHECK`, `HTTP_GET`, `SSL_GET`,
//! `SMTP_CHECK`, `DNS_CHECK`, `MISC_CHECK`, `PING_CHECK`, `UDP_CHECK`,
//! `FILE_CHECK`, `BFD_CHECK`), their `url` blocks, and the timing options
//! inherited virtual_server -> real_server -> checker.

use std::time::Duration;

use super::keywords::ignored;
use super::{origin, positive_timer, reverse_flag, Block, Parser};
use crate::lexer::Token;
use crate::model::*;
use crate::tree::Node;
use crate::values::{self, PResult};

struct CheckerBuilder<'a> {
    node: &'a Node,
    vs: &'a VirtualServer,
    rs: &'a RealServer,
    kind: CheckerKind,
    /// The checker's own timing options.
    own: CheckerDefaults,
    /// The checker's connection options.
    net: CheckerCommon,
    misc_timeout: Option<Duration>,
    file_weight: Option<i32>,
    /// Legacy SMTP_CHECK host{} blocks: one checker each.
    smtp_hosts: Vec<CheckerCommon>,
    checker_vhost: Option<String>,
    have_misc_path: bool,
    bfd_name: Option<String>,
    urls: Vec<(HttpUrl, bool)>,
}

/// A checker keyword's empty model.
fn checker_kind(n: &Node) -> PResult<CheckerKind> {
    Ok(match n.key() {
        "TCP_CHECK" => CheckerKind::Tcp,
        "HTTP_GET" => CheckerKind::Http(HttpCheck::default()),
        "SSL_GET" => CheckerKind::Ssl(HttpCheck::default()),
        "SMTP_CHECK" => CheckerKind::Smtp(SmtpCheck {
            helo_name: defaults::SMTP_HELO_NAME.to_string(),
        }),
        "DNS_CHECK" => CheckerKind::Dns(DnsCheck {
            query_type: DnsType::Soa,
            name: defaults::DNS_NAME.to_string(),
        }),
        "MISC_CHECK" => CheckerKind::Misc(MiscCheck {
            misc_path: String::new(),
            misc_timeout: Duration::ZERO,
            misc_dynamic: false,
            user: None,
        }),
        "PING_CHECK" | "ICMP_CHECK" => CheckerKind::Ping,
        "UDP_CHECK" => CheckerKind::Udp(UdpCheck::default()),
        "FILE_CHECK" => CheckerKind::File(FileCheck {
            track_file: String::new(),
            dynamic: false,
            weight: 0,
            reverse: false,
        }),
        "BFD_CHECK" => CheckerKind::Bfd {
            name: String::new(),
        },
        _ => return Err(n.pos().error(format!("unknown checker '{}'", n.key()))),
    })
}

impl CheckerBuilder<'_> {
    /// The keywords of one checker type.
    fn kind_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        match (&mut self.kind, k.key()) {
            (CheckerKind::Http(h) | CheckerKind::Ssl(h), key) => match key {
                "url" => self.urls.push(p.url(k)?),
                "virtualhost" => self.checker_vhost = Some(k.string(0)?),
                "http_protocol" => {
                    h.http_protocol = match k.arg(0, "1.0, 1.0C or 1.1")?.text.as_str() {
                        "1.0" => HttpProtocol::V1_0,
                        "1.0C" | "1.0c" => HttpProtocol::V1_0C,
                        "1.1" => HttpProtocol::V1_1,
                        other => {
                            return Err(k.args[0].pos.error(format!(
                        "'http_protocol': unknown version '{other}' (expected 1.0, 1.0C or 1.1)"
                    )))
                        }
                    }
                }
                "fast_recovery" => h.fast_recovery = k.flag()?,
                "enable_sni" => h.enable_sni = k.flag()?,
                "tls_compliant" => h.tls_compliant = k.flag()?,
                _ => p.push_unknown(k, self.node.key()),
            },
            (CheckerKind::Smtp(s), key) => match key {
                "helo_name" => s.helo_name = k.string(0)?,
                "host" => {
                    // Legacy: each host{} block is a separate check.
                    let mut h = self.net.clone();
                    for hk in k.require_block()? {
                        if !connection_kw(&mut h, hk)? {
                            p.push_unknown(hk, "SMTP_CHECK host");
                        }
                    }
                    self.smtp_hosts.push(h);
                }
                _ => p.push_unknown(k, "SMTP_CHECK"),
            },
            (CheckerKind::Dns(d), key) => match key {
                "type" => {
                    let t = k.arg(0, "a query type")?;
                    d.query_type = DnsType::ALL
                        .iter()
                        .copied()
                        .find(|x| x.name().eq_ignore_ascii_case(&t.text))
                        .ok_or_else(|| {
                            t.pos.error(format!(
                                "'type': unknown DNS type '{}' (expected A|NS|CNAME|SOA|MX|TXT|AAAA)",
                                t.text
                            ))
                        })?;
                }
                "name" => d.name = k.string(0)?,
                _ => p.push_unknown(k, "DNS_CHECK"),
            },
            (CheckerKind::Misc(m), key) => match key {
                "misc_path" => {
                    m.misc_path = k.string(0)?;
                    self.have_misc_path = true;
                }
                "misc_timeout" => self.misc_timeout = Some(k.secs(0, 1, u64::from(u32::MAX))?),
                "misc_dynamic" => m.misc_dynamic = k.flag()?,
                "user" => m.user = Some(k.script_user()?),
                _ => p.push_unknown(k, "MISC_CHECK"),
            },
            (CheckerKind::Udp(u), key) => match key {
                "payload" => {
                    if k.args.is_empty() {
                        return Err(k
                            .pos()
                            .error("'payload' needs hex bytes (e.g. payload 01 02 ab)"));
                    }
                    let bytes = values::hex_bytes(&k.args, "payload", false)?;
                    u.payload = Some(bytes.into_iter().map(|b| b.value).collect());
                }
                "require_reply" => {
                    u.require_reply = Some(values::hex_bytes(&k.args, "require_reply", true)?)
                }
                "min_reply_length" => u.min_reply_length = k.int(0, 0, 65535)?,
                "max_reply_length" => u.max_reply_length = k.int(0, 0, 65535)?,
                _ => p.push_unknown(k, "UDP_CHECK"),
            },
            (CheckerKind::File(f), key) => match key {
                "track_file" | "file" => f.track_file = k.string(0)?,
                "dynamic" => f.dynamic = k.flag()?,
                "weight" => {
                    self.file_weight =
                        Some(k.int(0, i64::from(i32::MIN) + 1, i64::from(i32::MAX))?);
                    f.reverse = reverse_flag(k, 1)?;
                }
                _ => p.push_unknown(k, "FILE_CHECK"),
            },
            (CheckerKind::Bfd { .. }, "name") => self.bfd_name = Some(k.string(0)?),
            _ => p.push_unknown(k, self.node.key()),
        }
        Ok(())
    }

    /// What each checker type needs or inherits (url virtualhosts,
    /// misc_timeout, the track file's weight, the BFD name).
    fn complete_kind(&mut self, p: &mut Parser, delay_loop: Duration) -> PResult<()> {
        let n = self.node;
        match &mut self.kind {
            CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
                h.virtualhost = self
                    .checker_vhost
                    .take()
                    .or_else(|| self.rs.virtualhost.clone())
                    .or_else(|| self.vs.virtualhost.clone());
                for (mut u, _) in std::mem::take(&mut self.urls) {
                    if u.virtualhost.is_none() {
                        u.virtualhost = h.virtualhost.clone();
                    }
                    h.urls.push(u);
                }
                if h.urls.is_empty() {
                    return Err(n.pos().error(format!(
                        "{} needs at least one 'url {{ path ... }}' block",
                        n.key()
                    )));
                }
            }
            CheckerKind::Misc(m) => {
                if !self.have_misc_path {
                    return Err(n.pos().error("MISC_CHECK needs 'misc_path'"));
                }
                m.misc_timeout = self.misc_timeout.unwrap_or(delay_loop);
            }
            CheckerKind::File(f) => {
                if f.track_file.is_empty() {
                    return Err(n.pos().error("FILE_CHECK needs 'track_file NAME'"));
                }
                let tf = p.cfg.vrrp_track_file(&f.track_file).ok_or_else(|| {
                    n.pos().error(format!(
                        "FILE_CHECK: track_file '{}' is not a defined vrrp_track_file",
                        f.track_file
                    ))
                })?;
                f.weight = self.file_weight.unwrap_or(tf.weight);
            }
            CheckerKind::Bfd { name } => {
                *name = self
                    .bfd_name
                    .take()
                    .ok_or_else(|| n.pos().error("BFD_CHECK needs 'name'"))?;
                p.warnings.push(n.pos().warning(
                    "BFD_CHECK: BFD is not implemented by rkeepalived; the checker will never report up",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

impl<'a> Block<'a> for CheckerBuilder<'a> {
    type Output = Vec<Checker>;

    fn keyword(&mut self, p: &mut Parser, k: &'a Node) -> PResult<()> {
        let kind = &self.kind;
        // keepalived: MISC_CHECK has only the timing options (no
        // connect_timeout), FILE_CHECK/BFD_CHECK none of them.
        let timing_ok = !matches!(kind, CheckerKind::File(_) | CheckerKind::Bfd { .. })
            && (!matches!(kind, CheckerKind::Misc(_)) || k.key() != "connect_timeout");
        let connection_ok = !matches!(
            kind,
            CheckerKind::Misc(_) | CheckerKind::File(_) | CheckerKind::Bfd { .. }
        );
        if timing_ok && checker_default_kw(&mut self.own, k, true)? {
            return Ok(());
        }
        if connection_ok && connection_kw(&mut self.net, k)? {
            return Ok(());
        }
        self.kind_keyword(p, k)
    }

    /// Inherit virtual_server -> real_server -> checker, complete the type,
    /// check bindto's family; one checker per SMTP host{} block.
    fn finish(mut self, p: &mut Parser) -> PResult<Vec<Checker>> {
        let n = self.node;
        let merged = merge_defaults(&[
            &self.vs.checker_defaults,
            &self.rs.checker_defaults,
            &self.own,
        ]);
        let delay_loop = merged.delay_loop.unwrap_or(defaults::DELAY_LOOP);
        let mut common = CheckerCommon::defaults_for(&self.kind, delay_loop);
        let net = &self.net;
        common.connect_ip = net.connect_ip;
        common.connect_port = net.connect_port;
        common.bindto = net.bindto;
        common.bind_port = net.bind_port;
        common.bind_if = net.bind_if.clone();
        common.fwmark = net.fwmark;
        apply_defaults(
            &mut common,
            &merged,
            self.vs.alpha,
            p.cfg.global_defs.checker_log_all_failures,
        );
        self.complete_kind(p, delay_loop)?;
        // keepalived: the source must be of the destination's family.
        let dest = common.connect_ip.unwrap_or(self.rs.addr);
        if let Some(b) = common.bindto {
            if b.is_ipv4() != dest.is_ipv4() {
                return Err(n.pos().error(format!(
                    "{}: bindto {b} is not the address family of {dest}",
                    n.key()
                )));
            }
        }
        let origin = origin(n.pos());
        let kind = self.kind;
        if self.smtp_hosts.is_empty() {
            return Ok(vec![Checker {
                origin,
                common,
                kind,
            }]);
        }
        Ok(self
            .smtp_hosts
            .into_iter()
            .map(|h| {
                let mut c = common.clone();
                c.connect_ip = h.connect_ip;
                c.connect_port = h.connect_port;
                c.bindto = h.bindto;
                c.bind_port = h.bind_port;
                c.bind_if = h.bind_if;
                c.fwmark = h.fwmark;
                Checker {
                    origin: origin.clone(),
                    common: c,
                    kind: kind.clone(),
                }
            })
            .collect())
    }
}

impl Parser {
    pub(super) fn checker(
        &mut self,
        n: &Node,
        vs: &VirtualServer,
        rs: &RealServer,
    ) -> PResult<Vec<Checker>> {
        let block: &[Node] = match &n.block {
            Some(b) => &b.nodes,
            None => &[],
        };
        let b = CheckerBuilder {
            node: n,
            vs,
            rs,
            kind: checker_kind(n)?,
            own: CheckerDefaults::default(),
            net: CheckerCommon::defaults_for(&CheckerKind::Tcp, Duration::ZERO),
            misc_timeout: None,
            file_weight: None,
            smtp_hosts: Vec::new(),
            checker_vhost: None,
            have_misc_path: false,
            bfd_name: None,
            urls: Vec::new(),
        };
        Ok(self.build(b, block)?.unwrap_or_default())
    }

    fn url(&mut self, n: &Node) -> PResult<(HttpUrl, bool)> {
        let errors_before = self.errors.len();
        let mut u = HttpUrl::new("");
        let mut have_path = false;
        for k in n.require_block()? {
            match k.key() {
                "path" => {
                    u.path = k.string(0)?;
                    have_path = true;
                }
                "digest" => {
                    let t = k.arg(0, "an MD5 hex digest")?;
                    if t.text.len() != 32 || !t.text.chars().all(|c| c.is_ascii_hexdigit()) {
                        return Err(t.pos.error(format!(
                            "'digest': '{}' is not an MD5 hex digest (32 hex digits, see genhash)",
                            t.text
                        )));
                    }
                    u.digest = Some(t.text.to_ascii_lowercase());
                }
                "status_code" => {
                    let mut ranges = Vec::new();
                    if k.args.is_empty() {
                        return Err(k
                            .pos()
                            .error("'status_code' needs a code or range (e.g. 200 or 200-299)"));
                    }
                    for t in &k.args {
                        ranges.push(status_range(t)?);
                    }
                    u.status_codes = ranges;
                }
                "virtualhost" => u.virtualhost = Some(k.string(0)?),
                "regex" => u.regex = Some(k.string(0)?),
                "regex_no_match" => u.regex_no_match = k.flag()?,
                "regex_min_offset" => {
                    u.regex_min_offset = Some(k.int(0, 0, i64::from(u32::MAX))?)
                }
                "regex_max_offset" => {
                    u.regex_max_offset = Some(k.int(0, 0, i64::from(u32::MAX))?)
                }
                "regex_options" | "regex_stack" => self.warnings.push(ignored(k)),
                _ => self.push_unknown(k, "url"),
            }
        }
        if self.errors.len() > errors_before {
            // Already reported; don't pile follow-on errors on top.
            return Ok((u, false));
        }
        if !have_path {
            return Err(n.pos().error("'url' needs a 'path'"));
        }
        Ok((u, true))
    }
}

pub(super) fn is_checker(key: &str) -> bool {
    matches!(
        key,
        "TCP_CHECK"
            | "HTTP_GET"
            | "SSL_GET"
            | "SMTP_CHECK"
            | "DNS_CHECK"
            | "MISC_CHECK"
            | "PING_CHECK"
            | "ICMP_CHECK"
            | "UDP_CHECK"
            | "FILE_CHECK"
            | "BFD_CHECK"
    )
}

/// Timing keys shared by virtual_server, real_server and checkers.
pub(super) fn checker_default_kw(
    d: &mut CheckerDefaults,
    k: &Node,
    checker_level: bool,
) -> PResult<bool> {
    match k.key() {
        "connect_timeout" => d.connect_timeout = Some(positive_timer(k)?),
        // keepalived: 0 only on a checker (MISC_CHECK's default).
        "retry" | "nb_get_retry" => {
            d.retry = Some(k.int(0, if checker_level { 0 } else { 1 }, i64::from(u32::MAX))?)
        }
        "delay_before_retry" => d.delay_before_retry = Some(k.timer(0)?),
        "warmup" => d.warmup = Some(k.timer(0)?),
        "delay_loop" => d.delay_loop = Some(positive_timer(k)?),
        "alpha" => d.alpha = Some(k.flag()?),
        "log_all_failures" if checker_level => d.log_all_failures = Some(k.flag()?),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Connection keys of a checker (and SMTP host{} blocks).
fn connection_kw(c: &mut CheckerCommon, k: &Node) -> PResult<bool> {
    match k.key() {
        "connect_ip" => c.connect_ip = Some(k.ip(0)?),
        "connect_port" => c.connect_port = Some(k.int(0, 1, 65535)?),
        "bindto" => c.bindto = Some(k.ip(0)?),
        "bind_port" => c.bind_port = Some(k.int(0, 1, 65535)?),
        "bind_if" => c.bind_if = Some(k.string(0)?),
        "fwmark" => c.fwmark = Some(k.int(0, 0, i64::from(u32::MAX))?),
        _ => return Ok(false),
    }
    Ok(true)
}

fn merge_defaults(levels: &[&CheckerDefaults]) -> CheckerDefaults {
    let mut out = CheckerDefaults::default();
    for l in levels {
        out.connect_timeout = l.connect_timeout.or(out.connect_timeout);
        out.retry = l.retry.or(out.retry);
        out.delay_before_retry = l.delay_before_retry.or(out.delay_before_retry);
        out.warmup = l.warmup.or(out.warmup);
        out.delay_loop = l.delay_loop.or(out.delay_loop);
        out.alpha = l.alpha.or(out.alpha);
        out.log_all_failures = l.log_all_failures.or(out.log_all_failures);
    }
    out
}

fn apply_defaults(c: &mut CheckerCommon, d: &CheckerDefaults, vs_alpha: bool, log_all: bool) {
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
    c.alpha = d.alpha.unwrap_or(vs_alpha);
    c.log_all_failures = d.log_all_failures.unwrap_or(log_all);
}

fn status_range(t: &Token) -> PResult<StatusRange> {
    let bad = || {
        t.pos.error(format!(
            "'status_code': invalid code or range '{}' (expected e.g. 200 or 200-299, codes 100..599)",
            t.text
        ))
    };
    let code =
        |s: &str| -> Option<u16> { s.parse::<u16>().ok().filter(|c| (100..=599).contains(c)) };
    let (min, max) = match t.text.split_once('-') {
        Some((a, b)) => (code(a).ok_or_else(bad)?, code(b).ok_or_else(bad)?),
        None => {
            let c = code(&t.text).ok_or_else(bad)?;
            (c, c)
        }
    };
    if min > max {
        return Err(bad());
    }
    Ok(StatusRange { min, max })
}
