//! Checkers of a real server (`TCP_CHECK`, `HTTP_GET`, `SSL_GET`,
//! `SMTP_CHECK`, `DNS_CHECK`, `MISC_CHECK`, `PING_CHECK`, `UDP_CHECK`,
//! `FILE_CHECK`, `BFD_CHECK`), their `url` blocks, and the timing options
//! inherited virtual_server -> real_server -> checker.

use std::net::IpAddr;
use std::time::Duration;

use super::keywords::ignored;
use super::{lvs_read, origin, Block, Parser};
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
    file_weight: Option<(i32, bool)>,
    /// Legacy SMTP_CHECK host{} blocks: one checker each (with the host's
    /// own connect_timeout, if any).
    smtp_hosts: Vec<(CheckerCommon, Option<Duration>)>,
    checker_vhost: Option<String>,
    have_misc_path: bool,
    /// DNS_CHECK `name` given (keepalived keeps the first one).
    dns_name_set: bool,
    bfd_name: Option<String>,
    /// keepalived dropped this BFD_CHECK at a bad `name` (already warned):
    /// its other lines are not read (check/check_bfd.c `new_checker` NULL).
    bfd_dropped: bool,
    urls: Vec<HttpUrl>,
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
        "PING_CHECK" => CheckerKind::Ping,
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
    /// The keywords of one checker type, read as keepalived's
    /// check/check_{http,smtp,dns,misc,udp,file,bfd}.c handlers read them.
    fn kind_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        match self.kind {
            CheckerKind::Http(_) | CheckerKind::Ssl(_) => self.http_keyword(p, k),
            CheckerKind::Smtp(_) => self.smtp_keyword(p, k),
            CheckerKind::Dns(_) => self.dns_keyword(p, k),
            CheckerKind::Misc(_) => self.misc_keyword(p, k),
            CheckerKind::Udp(_) => self.udp_keyword(p, k),
            CheckerKind::File(_) => self.file_keyword(p, k),
            CheckerKind::Bfd { .. } => self.bfd_keyword(p, k),
            _ => {
                p.push_unknown(k, self.node.key());
                Ok(())
            }
        }
    }

    /// HTTP_GET and SSL_GET keywords (keepalived: check/check_http.c).
    fn http_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let (CheckerKind::Http(h) | CheckerKind::Ssl(h)) = &mut self.kind else {
            return Ok(());
        };
        match k.key() {
            "url" => {
                if let Some(u) = p.url(k)? {
                    self.urls.push(u);
                }
            }
            "virtualhost" => {
                if let Some(v) = p.ka_string(k, "HTTP_GET virtualhost name missing") {
                    self.checker_vhost = Some(v);
                }
            }
            "http_protocol" => {
                let Some(t) = k.args.first() else {
                    p.ka_string(k, "Missing http_protocol version");
                    return Ok(());
                };
                // keepalived: http_protocol_handler(), exact strings.
                let r = match t.text.as_str() {
                    "1.0" => lvs_read::Read::Ok(HttpProtocol::V1_0),
                    "1.0C" | "1.0c" => lvs_read::Read::Ok(HttpProtocol::V1_0C),
                    "1.1" => lvs_read::Read::Ok(HttpProtocol::V1_1),
                    other => lvs_read::Read::Bad(format!(
                        "invalid http_protocol version '{other}' (expected 1.0, 1.0C or 1.1)"
                    )),
                };
                if let Some(v) = p.ka_apply(k, r) {
                    h.http_protocol = v;
                }
            }
            "fast_recovery" => {
                if let Some(b) = p.ka_bool(k) {
                    h.fast_recovery = b;
                }
            }
            "enable_sni" => {
                if let Some(b) = p.ka_bool(k) {
                    h.enable_sni = b;
                }
            }
            "tls_compliant" => h.tls_compliant = k.flag()?,
            _ => p.push_unknown(k, self.node.key()),
        }
        Ok(())
    }

    /// SMTP_CHECK keywords (keepalived: check/check_smtp.c).
    fn smtp_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let CheckerKind::Smtp(s) = &mut self.kind else {
            return Ok(());
        };
        match k.key() {
            "helo_name" => {
                if let Some(v) = p.ka_string(k, "SMTP_CHECK helo name missing") {
                    s.helo_name = v;
                }
            }
            "host" => {
                // Legacy: each host{} block is a separate check, with
                // its own connection options (keepalived:
                // check_smtp.c smtp_host_handler() starts from a fresh
                // one aimed at the real server) and the checker's timing.
                let mut h = CheckerCommon::defaults_for(&CheckerKind::Tcp, Duration::ZERO);
                let mut timeout = None;
                for hk in k.require_block()? {
                    if hk.key() == "connect_timeout" {
                        if let Some(v) = p.ka_timer(hk, 1, CONNECT_TIMEOUT_MAX_US)? {
                            timeout = Some(v);
                        }
                        continue;
                    }
                    let level = Level::Checker {
                        http: false,
                        connection: true,
                    };
                    if p.lvs_timing_kw(&mut self.own, hk, level)? {
                        continue;
                    }
                    if !p.connection_kw(&mut h, hk, self.rs.addr)? {
                        p.push_unknown(hk, "SMTP_CHECK host");
                    }
                }
                if link_local_without_bind_if(&h, self.rs.addr, k, &mut p.warnings) {
                    return Ok(());
                }
                self.smtp_hosts.push((h, timeout));
            }
            _ => p.push_unknown(k, "SMTP_CHECK"),
        }
        Ok(())
    }

    /// DNS_CHECK keywords (keepalived: check/check_dns.c).
    fn dns_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let CheckerKind::Dns(d) = &mut self.kind else {
            return Ok(());
        };
        match k.key() {
            "type" => {
                let t = k.arg(0, "a query type")?;
                // keepalived: dns_type_handler(), strcasecmp.
                let r = match DnsType::ALL
                    .iter()
                    .copied()
                    .find(|x| x.name().eq_ignore_ascii_case(&t.text))
                {
                    Some(x) => lvs_read::Read::Ok(x),
                    None => lvs_read::Read::Bad(format!(
                        "unknown DNS type '{}' (expected A|NS|CNAME|SOA|MX|TXT|AAAA)",
                        t.text
                    )),
                };
                if let Some(x) = p.ka_apply(k, r) {
                    d.query_type = x;
                }
            }
            "name" => {
                let t = k.arg(0, "a domain name")?;
                // keepalived: dns_name_handler() keeps the first name and
                // refuses empty labels.
                let name = &t.text;
                let empty_label = (name.starts_with('.') && name.len() > 1) || name.contains("..");
                let r = if self.dns_name_set {
                    lvs_read::Read::Bad("DNS_CHECK name already specified".to_string())
                } else if empty_label {
                    lvs_read::Read::Bad(format!("DNS_CHECK name '{name}' has an empty label"))
                } else {
                    lvs_read::Read::Ok(name.clone())
                };
                if let Some(v) = p.ka_apply(k, r) {
                    d.name = v;
                    self.dns_name_set = true;
                }
            }
            _ => p.push_unknown(k, "DNS_CHECK"),
        }
        Ok(())
    }

    /// MISC_CHECK keywords (keepalived: check/check_misc.c).
    fn misc_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let CheckerKind::Misc(m) = &mut self.kind else {
            return Ok(());
        };
        match k.key() {
            "misc_path" => {
                m.misc_path = k.string(0)?;
                self.have_misc_path = true;
            }
            "misc_timeout" => {
                // keepalived: misc_timeout_handler(), whole seconds;
                // 0 means the delay_loop.
                if let Some(v) = p.ka_unsigned(k, 0, u64::from(u32::MAX) / 1_000_000, true)? {
                    self.misc_timeout = Some(Duration::from_secs(v));
                }
            }
            "misc_dynamic" => m.misc_dynamic = p.ka_always_on(k),
            "user" => {
                if p.ka_string(k, "No user specified for misc checker script")
                    .is_some()
                {
                    m.user = Some(k.script_user()?);
                }
            }
            _ => p.push_unknown(k, "MISC_CHECK"),
        }
        Ok(())
    }

    /// UDP_CHECK keywords (keepalived: check/check_udp.c).
    fn udp_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let CheckerKind::Udp(u) = &mut self.kind else {
            return Ok(());
        };
        match k.key() {
            "payload" => {
                if k.args.is_empty() {
                    p.warnings.push(k.pos().warning(
                        "UDP_CHECK payload requires a payload - ignoring this line (as keepalived does)",
                    ));
                    return Ok(());
                }
                match values::hex_bytes(&k.args, "payload", false) {
                    Ok(bytes) => u.payload = Some(bytes.into_iter().map(|b| b.value).collect()),
                    Err(d) => p.warnings.push(super::skipped(d, "line")),
                }
            }
            "require_reply" => match values::hex_bytes(&k.args, "require_reply", true) {
                Ok(v) => u.require_reply = Some(v),
                Err(d) => {
                    // keepalived still requires a reply (any reply).
                    u.require_reply = Some(Vec::new());
                    p.warnings.push(super::skipped(d, "reply pattern"));
                }
            },
            "min_reply_length" => {
                if let Some(v) = p.ka_unsigned(k, 0, 65535, false)? {
                    u.min_reply_length = u32::try_from(v).unwrap_or(0);
                }
            }
            "max_reply_length" => {
                if let Some(v) = p.ka_unsigned(k, 0, 65535, false)? {
                    u.max_reply_length = u32::try_from(v).unwrap_or(0);
                }
            }
            _ => p.push_unknown(k, "UDP_CHECK"),
        }
        Ok(())
    }

    /// FILE_CHECK keywords (keepalived: check/check_file.c).
    fn file_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        let CheckerKind::File(f) = &mut self.kind else {
            return Ok(());
        };
        match k.key() {
            "track_file" | "file" => {
                let name = k.string(0)?;
                // keepalived: track_file_handler() ignores an undefined
                // vrrp_track_file ("track_file X not found").
                if p.cfg.vrrp_track_file(&name).is_some() {
                    f.track_file = name;
                } else {
                    p.warnings.push(k.args[0].pos.warning(format!(
                        "FILE_CHECK: track_file '{name}' not found (not a defined vrrp_track_file) - ignoring this line (as keepalived does)"
                    )));
                }
            }
            "dynamic" => f.dynamic = k.flag()?,
            "weight" => {
                if p.ka_string(k, "track file weight missing").is_none() {
                    return Ok(());
                }
                let t = &k.args[0];
                let r = lvs_read::int(&t.text, -IPVS_WEIGHT_LIMIT, IPVS_WEIGHT_LIMIT, true);
                let Some(w) = p.ka_apply(k, r) else {
                    return Ok(());
                };
                let reverse = match k.args.get(1).map(|t| t.text.as_str()) {
                    None | Some("noreverse") => false,
                    Some("reverse") => true,
                    Some(other) => {
                        p.warnings.push(k.args[1].pos.warning(format!(
                            "unknown track file weight option '{other}' - ignoring this line (as keepalived does)"
                        )));
                        return Ok(());
                    }
                };
                self.file_weight = Some((i32::try_from(w).unwrap_or(0), reverse));
            }
            _ => p.push_unknown(k, "FILE_CHECK"),
        }
        Ok(())
    }

    /// BFD_CHECK keywords (keepalived: check/check_bfd.c).
    fn bfd_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        match k.key() {
            "name" | "alpha" if self.bfd_dropped => {}
            // check/check_bfd.c `bfd_name_handler()`: a bad name drops the
            // whole checker.
            "name" => match p.bfd_check_name(k, self.rs, self.bfd_name.as_deref()) {
                Ok(name) => self.bfd_name = Some(name),
                Err(why) => {
                    p.warnings.push(k.pos().warning(format!(
                        "real_server {}: {why}; ignoring this checker (as keepalived does)",
                        self.rs.addr
                    )));
                    self.bfd_dropped = true;
                }
            },
            "alpha" => {
                if let Some(b) = p.ka_bool(k) {
                    self.own.alpha = Some(b);
                }
            }
            _ => p.push_unknown(k, self.node.key()),
        }
        Ok(())
    }

    /// What each checker type needs or inherits (url virtualhosts,
    /// misc_timeout, the track file's weight, the BFD name). False when
    /// keepalived drops the checker (warned): MISC_CHECK without misc_path,
    /// FILE_CHECK without a track file, BFD_CHECK without name. HTTP_GET
    /// without a url is an error: keepalived 2.2.7 logs that it ignores it,
    /// then its checker process crashes (check_http.c
    /// `http_get_check_end()` reads the checker it has just freed) and is
    /// respawned, crashing again, forever.
    fn complete_kind(&mut self, p: &mut Parser, delay_loop: Duration) -> PResult<bool> {
        let n = self.node;
        let drop = |p: &mut Parser, why: &str| {
            super::fixup::checker_dropped(n, why, &mut p.warnings);
            Ok(false)
        };
        match &mut self.kind {
            CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
                h.virtualhost = self
                    .checker_vhost
                    .take()
                    .or_else(|| self.rs.virtualhost.clone())
                    .or_else(|| self.vs.virtualhost.clone());
                for mut u in std::mem::take(&mut self.urls) {
                    if u.virtualhost.is_none() {
                        u.virtualhost = h.virtualhost.clone();
                    }
                    h.urls.push(u);
                }
                if h.urls.is_empty() {
                    return Err(n.pos().error(format!(
                        "{} needs at least one 'url {{ path ... }}' block (keepalived 2.2.7 says \"checker has no urls specified - ignoring\", then its checker process crashes on it)",
                        n.key()
                    )));
                }
            }
            CheckerKind::Misc(m) => {
                if !self.have_misc_path {
                    return drop(p, "No script path has been specified for MISC_CHECKER");
                }
                m.misc_timeout = self
                    .misc_timeout
                    .filter(|d| !d.is_zero())
                    .unwrap_or(delay_loop);
            }
            CheckerKind::File(f) => {
                if f.track_file.is_empty() {
                    return drop(p, "FILE_CHECK has no track_file specified");
                }
                let Some(tf) = p.cfg.vrrp_track_file(&f.track_file) else {
                    return drop(p, "FILE_CHECK has no track_file specified");
                };
                match self.file_weight {
                    Some((w, rev)) => {
                        f.weight = w;
                        f.reverse = rev;
                    }
                    None => f.weight = tf.weight,
                }
            }
            // keepalived check/check_udp.c `udp_check_end_handler()`: kept,
            // with a warning.
            CheckerKind::Udp(u) if u.min_reply_length > u.max_reply_length => {
                p.warnings.push(n.pos().warning(format!(
                    "UDP_CHECK: min_reply_length {} > max_reply_length {}; the check will always fail (keepalived warns too)",
                    u.min_reply_length, u.max_reply_length
                )));
            }
            CheckerKind::Bfd { .. } if self.bfd_dropped => return Ok(false),
            // check/check_bfd.c `bfd_end_handler()`.
            CheckerKind::Bfd { name } => {
                let Some(b) = self.bfd_name.take() else {
                    return drop(p, "No name has been specified for BFD_CHECKER");
                };
                *name = b;
            }
            _ => {}
        }
        Ok(true)
    }
}

/// keepalived's check/check_api.c `check_conn_opts()`: a checker (or SMTP
/// host) whose destination is an IPv6 link-local address needs `bind_if`,
/// or keepalived drops it. True when dropped (warned).
fn link_local_without_bind_if(
    c: &CheckerCommon,
    rs_addr: IpAddr,
    n: &Node,
    w: &mut Vec<crate::diag::Diagnostic>,
) -> bool {
    let dest = c.connect_ip.unwrap_or(rs_addr);
    let link_local = matches!(dest, IpAddr::V6(a) if (a.segments()[0] & 0xffc0) == 0xfe80);
    if link_local && c.bind_if.is_none() {
        super::fixup::checker_dropped(
            n,
            &format!("Checker link local address {dest} requires a bind_if"),
            w,
        );
        return true;
    }
    false
}

impl<'a> Block<'a> for CheckerBuilder<'a> {
    type Output = Vec<Checker>;

    fn keyword(&mut self, p: &mut Parser, k: &'a Node) -> PResult<()> {
        let kind = &self.kind;
        // keepalived: MISC_CHECK has only the timing options (no
        // connect_timeout), FILE_CHECK/BFD_CHECK none of them.
        let http = matches!(kind, CheckerKind::Http(_) | CheckerKind::Ssl(_));
        let connection = !matches!(
            kind,
            CheckerKind::Misc(_) | CheckerKind::File(_) | CheckerKind::Bfd { .. }
        );
        let timing = !matches!(kind, CheckerKind::File(_) | CheckerKind::Bfd { .. });
        if timing && p.lvs_timing_kw(&mut self.own, k, Level::Checker { http, connection })? {
            return Ok(());
        }
        if connection && p.connection_kw(&mut self.net, k, self.rs.addr)? {
            return Ok(());
        }
        self.kind_keyword(p, k)
    }

    /// Inherit virtual_server -> real_server -> checker, complete the type;
    /// one checker per SMTP host{} block.
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
        if !self.complete_kind(p, delay_loop)? {
            return Ok(Vec::new());
        }
        let origin = origin(n.pos());
        let kind = self.kind;
        let is_smtp = matches!(kind, CheckerKind::Smtp(_));
        if self.smtp_hosts.is_empty() {
            let connection = !matches!(
                kind,
                CheckerKind::Misc(_) | CheckerKind::File(_) | CheckerKind::Bfd { .. }
            );
            if connection && link_local_without_bind_if(&common, self.rs.addr, n, &mut p.warnings) {
                return Ok(Vec::new());
            }
            return Ok(vec![Checker {
                origin,
                common,
                kind,
            }]);
        }
        debug_assert!(is_smtp);
        Ok(self
            .smtp_hosts
            .into_iter()
            .map(|(h, timeout)| {
                let mut c = common.clone();
                c.connect_ip = h.connect_ip;
                c.connect_port = h.connect_port;
                c.bindto = h.bindto;
                c.bind_port = h.bind_port;
                c.bind_if = h.bind_if;
                c.fwmark = h.fwmark;
                if let Some(t) = timeout {
                    c.connect_timeout = t;
                }
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
            dns_name_set: false,
            bfd_name: None,
            bfd_dropped: false,
            urls: Vec::new(),
        };
        Ok(self.build(b, block)?.unwrap_or_default())
    }

    /// One `url { }` block, read as keepalived's check/check_http.c
    /// handlers read it; None when keepalived drops it (no `path`:
    /// `url_check()` "HTTP/SSL_GET checker url has no path - ignoring").
    fn url(&mut self, n: &Node) -> PResult<Option<HttpUrl>> {
        let mut u = HttpUrl::new("");
        let mut have_path = false;
        let mut codes = Vec::new();
        for k in n.require_block()? {
            match k.key() {
                "path" => {
                    u.path = k.string(0)?;
                    have_path = true;
                }
                "digest" => {
                    // keepalived: digest_handler() ignores a duplicate, a
                    // length other than 32 and non-hex digits.
                    let t = k.arg(0, "an MD5 hex digest")?;
                    let r = if u.digest.is_some() {
                        lvs_read::Read::Bad(format!("digest '{}' is a duplicate", t.text))
                    } else if t.text.len() != 32 {
                        lvs_read::Read::Bad(format!(
                            "digest '{}' character length should be 32 rather than {}",
                            t.text,
                            t.text.len()
                        ))
                    } else if !t.text.chars().all(|c| c.is_ascii_hexdigit()) {
                        lvs_read::Read::Bad(format!(
                            "'{}' is not an MD5 hex digest (32 hex digits, see genhash)",
                            t.text
                        ))
                    } else {
                        lvs_read::Read::Ok(t.text.to_ascii_lowercase())
                    };
                    if let Some(d) = self.ka_apply(k, r) {
                        u.digest = Some(d);
                    }
                }
                "status_code" => {
                    // keepalived: status_code_handler() adds every valid
                    // code or range (over all status_code lines) and skips
                    // invalid ones; none at all means 200-299.
                    for t in &k.args {
                        match status_range(t) {
                            Ok(r) => codes.push(r),
                            Err(d) => self.warnings.push(super::skipped(d, "status code")),
                        }
                    }
                }
                "virtualhost" => {
                    if let Some(v) = self.ka_string(k, "Missing HTTP_GET virtualhost name") {
                        u.virtualhost = Some(v);
                    }
                }
                "regex" => u.regex = Some(k.string(0)?),
                "regex_no_match" => u.regex_no_match = self.ka_always_on(k),
                "regex_min_offset" | "regex_max_offset" => {
                    if let Some(v) = self.ka_unsigned(k, 0, u64::from(u32::MAX), false)? {
                        let v = u32::try_from(v).ok();
                        if k.key() == "regex_min_offset" {
                            u.regex_min_offset = v;
                        } else {
                            u.regex_max_offset = v;
                        }
                    }
                }
                "regex_stack" => {
                    if let Some(v) = regex_stack(k, &mut self.warnings) {
                        u.regex_stack = Some(v);
                    }
                }
                "regex_options" => self.warnings.push(ignored(k)),
                _ => self.push_unknown(k, "url"),
            }
        }
        if !codes.is_empty() {
            u.status_codes = codes;
        }
        if u.regex.is_none() && u.regex_stack.is_some() {
            // check_http.c url_end_handler(): regex options without a
            // regex are reset, with this message.
            self.warnings.push(n.pos().warning(
                "regex parameters specified without regex; ignoring regex_stack (as keepalived does)",
            ));
            u.regex_stack = None;
        }
        if !have_path {
            self.warnings.push(n.pos().warning(
                "'url' has no 'path' - ignoring this url (as keepalived does: \"HTTP/SSL_GET checker url has no path\")",
            ));
            return Ok(None);
        }
        Ok(Some(u))
    }
}

/// `regex_stack START MAX` as check_http.c `regex_stack_handler()` reads
/// it: exactly two values, each all of a `strtoul(.., 10)` number (a leading
/// '-' wraps, as in C), START not above MAX; otherwise its message and the
/// line is ignored.
fn regex_stack(k: &Node, warnings: &mut Vec<crate::diag::Diagnostic>) -> Option<(u64, u64)> {
    let warn = |warnings: &mut Vec<crate::diag::Diagnostic>, msg: &str| {
        warnings.push(
            k.pos()
                .warning(format!("{msg}; ignoring this line (as keepalived does)")),
        );
        None
    };
    let [start, max] = k.args.as_slice() else {
        return warn(warnings, "regex_stack requires start and max values");
    };
    let Some(start) = strtoul(&start.text) else {
        return warn(warnings, "regex_stack invalid start value");
    };
    let Some(max) = strtoul(&max.text) else {
        return warn(warnings, "regex_stack invalid max value");
    };
    if start > max {
        return warn(warnings, "regex stack start cannot exceed max value");
    }
    Some((start, max))
}

/// C's `strtoul(s, &end, 10)` with `*end == '\0'` required (64-bit
/// unsigned long): optional leading spaces and sign, digits; a '-' negates
/// modulo 2^64; overflow saturates (ERANGE is not checked by keepalived).
fn strtoul(s: &str) -> Option<u64> {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // strtoul("") and strtoul("-") convert nothing: end points at the
    // start, which is not '\0' unless the string is empty.
    if digits.is_empty() {
        return s.is_empty().then_some(0);
    }
    let v = digits.parse::<u64>().unwrap_or(u64::MAX);
    Some(if neg { v.wrapping_neg() } else { v })
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
            | "UDP_CHECK"
            | "FILE_CHECK"
            | "BFD_CHECK"
    )
}

/// Where a timing keyword is read: keepalived installs a different handler
/// (with different limits) at each level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    VirtualServer,
    RealServer,
    /// A checker; `http` = HTTP_GET/SSL_GET (the only ones with the
    /// deprecated `nb_get_retry`), `connection` = it has connection options
    /// (not MISC_CHECK).
    Checker {
        http: bool,
        connection: bool,
    },
}

/// keepalived's IPVS_WEIGHT_LIMIT (ip_vs.h): INT_MAX.
const IPVS_WEIGHT_LIMIT: i64 = i32::MAX as i64;

/// keepalived's `connect_timeout` limit: UINT_MAX microseconds.
const CONNECT_TIMEOUT_MAX_US: u64 = u32::MAX as u64;

impl Parser {
    /// Timing keys shared by virtual_server, real_server and checkers, read
    /// as keepalived reads them (check/check_parser.c `vs_*_handler()`,
    /// `rs_*_handler()`, check/check_api.c `install_checker_common_keywords()`):
    /// a bad value ignores the line, and `nb_get_retry` exists only in
    /// HTTP_GET/SSL_GET.
    pub(super) fn lvs_timing_kw(
        &mut self,
        d: &mut CheckerDefaults,
        k: &Node,
        level: Level,
    ) -> PResult<bool> {
        let checker = matches!(level, Level::Checker { .. });
        match k.key() {
            "connect_timeout" => {
                if let Level::Checker {
                    connection: false, ..
                } = level
                {
                    return Ok(false);
                }
                if let Some(v) = self.ka_timer(k, 1, CONNECT_TIMEOUT_MAX_US)? {
                    d.connect_timeout = Some(v);
                }
            }
            "retry" => {
                // keepalived: 1.. on a virtual/real server (strict reading),
                // 0.. on a checker (MISC_CHECK's default is 0).
                let (min, lenient) = if checker { (0, true) } else { (1, false) };
                if let Some(v) = self.ka_unsigned(k, min, u64::from(u32::MAX), lenient)? {
                    d.retry = u32::try_from(v).ok();
                }
            }
            "nb_get_retry" => match level {
                Level::Checker { http: true, .. } => {
                    self.warnings.push(k.pos().warning(
                        "nb_get_retry is deprecated - please use 'retry' (read as retry, as keepalived does)",
                    ));
                    if let Some(v) = self.ka_unsigned(k, 0, u64::from(u32::MAX), true)? {
                        d.retry = u32::try_from(v).ok();
                    }
                }
                _ => {
                    let ctx = match level {
                        Level::VirtualServer => "virtual_server",
                        Level::RealServer => "real_server",
                        Level::Checker { .. } => "this checker",
                    };
                    super::fixup::not_a_keepalived_keyword(
                        k,
                        ctx,
                        "only HTTP_GET and SSL_GET read the deprecated nb_get_retry; use 'retry'. The retry count stays at its default",
                        &mut self.warnings,
                    );
                }
            },
            "delay_before_retry" => {
                if let Some(v) = self.ka_timer(k, 0, 0)? {
                    d.delay_before_retry = Some(v);
                }
            }
            "warmup" => {
                if let Some(v) = self.ka_timer(k, 0, 0)? {
                    d.warmup = Some(v);
                }
            }
            "delay_loop" => {
                if let Some(v) = self.ka_timer(k, 1, 0)? {
                    d.delay_loop = Some(v);
                }
            }
            "alpha" => {
                if let Some(b) = self.ka_bool(k) {
                    d.alpha = Some(b);
                }
            }
            "log_all_failures" if checker => {
                if let Some(b) = self.ka_bool(k) {
                    d.log_all_failures = Some(b);
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Connection keys of a checker (and SMTP host{} blocks), read as
    /// keepalived's check/check_api.c `co_*_handler()` read them: a bad
    /// value ignores the line; `bindto` and `connect_ip` of different
    /// families: the later line is ignored (the destination defaults to the
    /// real server's address).
    fn connection_kw(&mut self, c: &mut CheckerCommon, k: &Node, rs_addr: IpAddr) -> PResult<bool> {
        match k.key() {
            "connect_ip" | "bindto" => {
                let t = k.arg(0, "an IP address")?;
                let r = match lvs_read::sockaddr(&t.text, None) {
                    lvs_read::Read::Ok((a, _)) => {
                        let other = if k.key() == "bindto" {
                            Some(c.connect_ip.unwrap_or(rs_addr))
                        } else {
                            c.bindto
                        };
                        match other {
                            Some(o) if o.is_ipv4() != a.is_ipv4() => lvs_read::Read::Bad(format!(
                                "{} address {a} does not match the address family of {}",
                                k.key(),
                                if k.key() == "bindto" {
                                    "the checked address"
                                } else {
                                    "bindto"
                                }
                            )),
                            _ => lvs_read::Read::Ok(a),
                        }
                    }
                    lvs_read::Read::Lenient((a, _), n) => lvs_read::Read::Lenient(a, n),
                    lvs_read::Read::Bad(why) => lvs_read::Read::Bad(why),
                };
                if let Some(a) = self.ka_apply(k, r) {
                    if k.key() == "bindto" {
                        c.bindto = Some(a);
                    } else {
                        c.connect_ip = Some(a);
                    }
                }
            }
            "connect_port" => {
                if let Some(v) = self.ka_unsigned(k, 1, 65535, true)? {
                    c.connect_port = u16::try_from(v).ok();
                }
            }
            "bind_port" => {
                if let Some(v) = self.ka_unsigned(k, 1, 65535, true)? {
                    c.bind_port = u16::try_from(v).ok();
                }
            }
            "bind_if" => {
                let t = k.arg(0, "an interface name")?;
                let r = if t.text.len() > 15 {
                    lvs_read::Read::Bad(format!("interface name {} is too long", t.text))
                } else {
                    lvs_read::Read::Ok(t.text.clone())
                };
                if let Some(v) = self.ka_apply(k, r) {
                    c.bind_if = Some(v);
                }
            }
            "fwmark" => {
                if let Some(v) = self.ka_unsigned(k, 0, u64::from(u32::MAX), true)? {
                    c.fwmark = u32::try_from(v).ok();
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
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
