//! The checker engine's own view of the configuration: virtual servers,
//! real servers and checkers with every keepalived default resolved
//! (man keepalived.conf 2.2.7, "Virtual server(s)"). Built from
//! `rkeepalived_config::Config` by [`crate::from_config`], or directly in tests.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rkeepalived_ipvs::{Dest, Forwarding, Service, ServiceKey};
use rkeepalived_script::Script;

/// keepalived: "delay timer for checker polling (60 seconds if not specified)".
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
/// keepalived: "The default is 5 seconds".
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// keepalived: "Default: 1 unless specified below" (DNS 3, MISC 0).
pub const DEFAULT_RETRY: u32 = 1;
pub const DEFAULT_DNS_RETRY: u32 = 3;
pub const DEFAULT_MISC_RETRY: u32 = 0;
/// keepalived: 3 seconds for HTTP_GET and SSL_GET, delay_loop for DNS_CHECK, 1 second otherwise.
pub const DEFAULT_HTTP_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(3);
pub const DEFAULT_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(1);
/// check_smtp.c SMTP_DEFAULT_HELO.
pub const DEFAULT_SMTP_HELO: &str = "smtpchecker.keepalived.org";
/// UDP_CHECK max_reply_length default.
pub const DEFAULT_UDP_MAX_REPLY: usize = 255;

/// Timing of one checker, all keepalived defaults already applied.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckTiming {
    pub delay_loop: Duration,
    pub connect_timeout: Duration,
    /// Extra attempts after a failure before the checker is declared down.
    pub retry: u32,
    pub delay_before_retry: Duration,
    /// Random initial delay in `[0, warmup]` (default: delay_loop; 0 disables).
    pub warmup: Duration,
    /// Start in the failed state.
    pub alpha: bool,
    /// `log_all_failures` (or the global `checker_log_all_failures`): log
    /// every failed attempt while the checker is up, not only state changes.
    pub log_all_failures: bool,
}

impl CheckTiming {
    /// Defaults for a checker of `kind` under `delay_loop`.
    pub fn defaults_for(kind: &CheckKind, delay_loop: Duration) -> Self {
        let (retry, delay_before_retry) = match kind {
            CheckKind::Http(_) => (DEFAULT_RETRY, DEFAULT_HTTP_DELAY_BEFORE_RETRY),
            CheckKind::Dns(_) => (DEFAULT_DNS_RETRY, delay_loop),
            CheckKind::Misc(_) => (DEFAULT_MISC_RETRY, DEFAULT_DELAY_BEFORE_RETRY),
            _ => (DEFAULT_RETRY, DEFAULT_DELAY_BEFORE_RETRY),
        };
        Self {
            delay_loop,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry,
            delay_before_retry,
            warmup: delay_loop,
            alpha: false,
            log_all_failures: false,
        }
    }
}

/// Where a checker connects to (`connect_ip`, `connect_port`) and the
/// rarely set source options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnOpts {
    pub dst: SocketAddr,
    /// Boxed: a plan keeps one `ConnOpts` per checker (thousands), and
    /// almost none of them set a source option.
    pub source: Option<Box<SourceOpts>>,
}

/// `bindto`, `bind_port`, `bind_if`, `fwmark`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceOpts {
    pub bindto: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    pub fwmark: Option<u32>,
}

impl ConnOpts {
    pub fn to(dst: SocketAddr) -> Self {
        Self { dst, source: None }
    }

    /// `dst` with `source`, boxed only when some option is set.
    pub fn with_source(dst: SocketAddr, source: SourceOpts) -> Self {
        Self {
            dst,
            source: (source != SourceOpts::default()).then(|| Box::new(source)),
        }
    }

    pub fn bindto(&self) -> Option<IpAddr> {
        self.source.as_ref().and_then(|s| s.bindto)
    }

    pub fn bind_port(&self) -> Option<u16> {
        self.source.as_ref().and_then(|s| s.bind_port)
    }

    pub fn bind_if(&self) -> Option<&str> {
        self.source.as_ref().and_then(|s| s.bind_if.as_deref())
    }

    pub fn fwmark(&self) -> Option<u32> {
        self.source.as_ref().and_then(|s| s.fwmark)
    }
}

/// `http_protocol 1.0|1.0C|1.1` (default 1.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpProtocol {
    #[default]
    Http10,
    /// 1.0 plus `Connection: close`.
    Http10Close,
    Http11,
}

/// `status_code 200 200-299 ...`; empty = keepalived's default 200-299.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusCodes(pub Vec<(u16, u16)>);

impl StatusCodes {
    pub fn matches(&self, code: u16) -> bool {
        if self.0.is_empty() {
            return (200..=299).contains(&code);
        }
        self.0.iter().any(|(lo, hi)| (*lo..=*hi).contains(&code))
    }
}

/// `regex`, `regex_no_match`, `regex_min_offset`, `regex_max_offset` of a
/// url (keepalived check_http.c `check_regex`): the check passes when the
/// leftmost match starting at or after `min_offset` of the subject starts
/// at or before `max_offset` (inverted by `no_match`). The subject is the
/// response as keepalived buffers it (see `checkers::http`).
#[derive(Debug, Clone)]
pub struct UrlRegex {
    /// The pattern as written (for logs, dumps and reload diffing).
    pub pattern: String,
    pub regex: regex::bytes::Regex,
    pub no_match: bool,
    pub min_offset: usize,
    /// Last acceptable start offset (inclusive, as configured).
    pub max_offset: Option<usize>,
}

impl UrlRegex {
    /// Compile `pattern` with PCRE2's defaults for a byte subject (no
    /// UTF mode: `.` is any byte but `\n`; `^`/`$` anchor the body).
    pub fn new(
        pattern: &str,
        no_match: bool,
        min_offset: Option<u32>,
        max_offset: Option<u32>,
    ) -> Result<Self, regex::Error> {
        let regex = regex::bytes::RegexBuilder::new(pattern)
            .unicode(false)
            .build()
            .or_else(|_| regex::bytes::RegexBuilder::new(pattern).build())?;
        Ok(Self {
            pattern: pattern.to_string(),
            regex,
            no_match,
            min_offset: min_offset.unwrap_or(0) as usize,
            max_offset: max_offset.map(|m| m as usize),
        })
    }

    /// Whether `body` (the regex subject: the response as keepalived
    /// buffers it) matches within the offsets.
    pub fn is_match(&self, body: &[u8]) -> bool {
        if self.min_offset > body.len() {
            return false;
        }
        self.regex
            .find_at(body, self.min_offset)
            .is_some_and(|m| self.max_offset.is_none_or(|max| m.start() <= max))
    }

    /// The url passes (keepalived: `regex_matched != regex_no_match`).
    pub fn passes(&self, body: &[u8]) -> bool {
        self.is_match(body) != self.no_match
    }
}

impl PartialEq for UrlRegex {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
            && self.no_match == other.no_match
            && self.min_offset == other.min_offset
            && self.max_offset == other.max_offset
    }
}

impl Eq for UrlRegex {}

/// One `url { }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlSpec {
    pub path: String,
    /// Expected MD5 of the body (genhash output), lower-case hex.
    pub digest: Option<String>,
    pub status_codes: StatusCodes,
    pub virtualhost: Option<String>,
    /// Boxed: rare.
    pub regex: Option<Box<UrlRegex>>,
}

impl UrlSpec {
    pub fn path(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            digest: None,
            status_codes: StatusCodes::default(),
            virtualhost: None,
            regex: None,
        }
    }
}

/// HTTP_GET / SSL_GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSpec {
    pub tls: bool,
    pub urls: Vec<UrlSpec>,
    pub protocol: HttpProtocol,
    /// `virtualhost` inherited from the real/virtual server.
    pub virtualhost: Option<String>,
    /// SSL_GET `enable_sni`: send the virtualhost as SNI.
    pub enable_sni: bool,
    /// SSL_GET: the top-level `SSL { }` block's client certificate.
    pub client_auth: Option<Arc<crate::tls::ClientAuth>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSpec {
    pub helo_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSpec {
    /// Query type (A=1, NS=2, CNAME=5, SOA=6, MX=15, TXT=16, AAAA=28); default SOA.
    pub qtype: u16,
    /// Default ".".
    pub name: String,
}

impl Default for DnsSpec {
    fn default() -> Self {
        Self {
            qtype: crate::wire::dns::TYPE_SOA,
            name: ".".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MiscSpec {
    pub script: Script,
    /// `misc_timeout`; None = delay_loop.
    pub timeout: Option<Duration>,
    pub dynamic: bool,
    /// Set when the script failed the load-time security check: the check
    /// then always fails instead of running it.
    pub refused: Option<String>,
}

/// UDP_CHECK `require_reply HEX` pattern as (value, mask) bytes; mask
/// nibbles are 0 where the config had `x` (don't care).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPattern(pub Vec<(u8, u8)>);

impl ReplyPattern {
    /// Compare up to min(len(reply), len(pattern)) bytes under the mask.
    pub fn matches(&self, reply: &[u8]) -> bool {
        self.0
            .iter()
            .zip(reply)
            .all(|((value, mask), byte)| byte & mask == value & mask)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpSpec {
    /// None = random payload.
    pub payload: Option<Vec<u8>>,
    pub require_reply: bool,
    pub reply_pattern: Option<ReplyPattern>,
    pub min_reply_length: usize,
    pub max_reply_length: usize,
}

impl Default for UdpSpec {
    fn default() -> Self {
        Self {
            payload: None,
            require_reply: false,
            reply_pattern: None,
            min_reply_length: 0,
            max_reply_length: DEFAULT_UDP_MAX_REPLY,
        }
    }
}

/// FILE_CHECK (keepalived check_file.c + track_file.c): the real server
/// follows the integer in a tracked file (`track_file NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// The tracked file's `file` path.
    pub path: std::path::PathBuf,
    /// FILE_CHECK `weight`, else the track_file's. 0: any non-zero value
    /// is a fault (zero with `reverse`); else the real server's weight
    /// moves by value x weight (x -1 with `reverse`).
    pub weight: i32,
    pub reverse: bool,
    /// The real server's configured weight (the value is added to it).
    pub base_weight: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// The variants with settings are boxed: a plan holds one spec per checker
/// (thousands), and most are TCP_CHECK with none.
pub enum CheckKind {
    Tcp,
    Http(Box<HttpSpec>),
    Smtp(Box<SmtpSpec>),
    Dns(Box<DnsSpec>),
    Misc(Box<MiscSpec>),
    Ping,
    Udp(Box<UdpSpec>),
    File(Box<FileSpec>),
    /// BFD_CHECK: follows the named `bfd_instance` session; no probe runs,
    /// the BFD child's events drive it (`crate::bfd_check`). Boxed: a thin
    /// pointer keeps `CheckKind` at 16 bytes.
    Bfd(Box<String>),
}

impl CheckKind {
    /// keepalived's keyword for the checker.
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Tcp => "TCP_CHECK",
            CheckKind::Http(h) if h.tls => "SSL_GET",
            CheckKind::Http(_) => "HTTP_GET",
            CheckKind::Smtp(_) => "SMTP_CHECK",
            CheckKind::Dns(_) => "DNS_CHECK",
            CheckKind::Misc(_) => "MISC_CHECK",
            CheckKind::Ping => "PING_CHECK",
            CheckKind::Udp(_) => "UDP_CHECK",
            CheckKind::File(_) => "FILE_CHECK",
            CheckKind::Bfd(_) => "BFD_CHECK",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerSpec {
    pub kind: CheckKind,
    pub conn: ConnOpts,
    /// Shared: the checkers of a virtual server almost always have the
    /// same timing, and there is one spec per checker (thousands).
    pub timing: Arc<CheckTiming>,
}

/// One `real_server` (or the `sorry_server`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServerSpec {
    /// The IPVS destination with its configured weight.
    pub dest: Dest,
    pub inhibit_on_failure: bool,
    /// Boxed: rare, and a real server is kept for each of thousands.
    pub notify_up: Option<Box<Script>>,
    pub notify_down: Option<Box<Script>>,
    /// Empty = always alive (keepalived: a real server without checkers is up).
    /// Shared with the engine's running checker (one copy per checker).
    pub checkers: Vec<Arc<CheckerSpec>>,
    /// Start down until the checkers succeed (`alpha` on the RS or VS).
    pub alpha: bool,
}

/// A virtual server's real servers, shared between the plans that have
/// the virtual server unchanged (a delta reload copies a reference, not
/// 16 specs: plan_delta.rs). Reads as a `Vec`; [`Self::make_mut`] copies
/// on write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RealServers(Arc<Vec<RealServerSpec>>);

impl RealServers {
    /// The real servers to change in place (copied first if shared).
    pub fn make_mut(&mut self) -> &mut Vec<RealServerSpec> {
        Arc::make_mut(&mut self.0)
    }
}

impl std::ops::Deref for RealServers {
    type Target = Vec<RealServerSpec>;
    fn deref(&self) -> &Vec<RealServerSpec> {
        &self.0
    }
}

impl From<Vec<RealServerSpec>> for RealServers {
    fn from(v: Vec<RealServerSpec>) -> Self {
        RealServers(Arc::new(v))
    }
}

impl FromIterator<RealServerSpec> for RealServers {
    fn from_iter<I: IntoIterator<Item = RealServerSpec>>(iter: I) -> Self {
        Vec::from_iter(iter).into()
    }
}

impl<'a> IntoIterator for &'a RealServers {
    type Item = &'a RealServerSpec;
    type IntoIter = std::slice::Iter<'a, RealServerSpec>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// One `virtual_server` (a group reference expands to several service keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServerSpec {
    /// Stable identity for logs, metrics and reload diffing, e.g. "TCP 192.0.2.1:80".
    pub name: String,
    /// IPVS service template; its key is the first entry of `keys`.
    pub service: Service,
    /// All kernel services this virtual server programs (one unless a group).
    pub keys: Vec<ServiceKey>,
    /// Shared, not copied, between the plans of a delta reload: a kept
    /// virtual server's real servers (36,544 at keepalived issue #2318's
    /// size) cost one reference count (plan_delta.rs).
    pub real_servers: RealServers,
    pub sorry_server: Option<Dest>,
    pub sorry_server_inhibit: bool,
    /// Default 1.
    pub quorum: u32,
    /// Default 0.
    pub hysteresis: u32,
    pub quorum_up: Option<Script>,
    pub quorum_down: Option<Script>,
    pub omega: bool,
    /// Suspend checks while none of these addresses is local (`ha_suspend`).
    pub ha_suspend: bool,
    /// `drain_on_remove` (rkeepalived extension, [`crate::drain`]): how long
    /// a real server a reload removes stays at weight 0 while connections
    /// remain. `None`: deleted at once, as keepalived does.
    pub drain_on_remove: Option<std::time::Duration>,
    /// `announce_route` (rkeepalived extension, [`crate::announce`]): the
    /// table and metric of this virtual server's VIP routes while its
    /// quorum is up. `None`: not announced.
    pub announce: Option<crate::announce::VsRoute>,
}

impl VirtualServerSpec {
    /// A plain virtual server with one key and keepalived defaults.
    pub fn new(service: Service) -> Self {
        Self {
            name: service.key.to_string(),
            keys: vec![service.key],
            service,
            real_servers: RealServers::default(),
            sorry_server: None,
            sorry_server_inhibit: false,
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            omega: false,
            ha_suspend: false,
            drain_on_remove: None,
            announce: None,
        }
    }

    /// Addresses whose presence enables checks under `ha_suspend`.
    pub fn vip_addrs(&self) -> Vec<IpAddr> {
        self.keys
            .iter()
            .filter_map(|k| match k {
                ServiceKey::Addr { addr, .. } => Some(*addr),
                ServiceKey::Fwmark { .. } => None,
            })
            .collect()
    }
}

/// Everything the checker engine runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckPlan {
    pub virtual_servers: Vec<VirtualServerSpec>,
    /// `lvs_flush`: flush the whole IPVS table once, when the checker
    /// starts (not on reload), before programming it (keepalived's
    /// `start_check()` calls `ipvs_flush_cmd()` when `!reload && lvs_flush`).
    pub lvs_flush: bool,
    /// `lvs_timeouts` in seconds, 0 = not configured (keep the kernel's).
    pub lvs_timeouts: rkeepalived_ipvs::netlink::Timeouts,
    /// `lvs_flush_on_stop`: what stopping does to the table.
    pub lvs_flush_on_stop: rkeepalived_ipvs::StopPolicy,
    /// `lvs_sync_daemon` without a VRRP instance: the checker runs both
    /// sync daemons (check_daemon.c `checker_ipvs_syncd_needed()`); with an
    /// instance the VRRP process drives them and this is None.
    pub checker_syncd: Option<rkeepalived_ipvs::syncd::SyncdConfig>,
    /// Scripts policy (`script_user`, `enable_script_security`).
    pub script_security: Option<rkeepalived_script::ScriptSecurity>,
    /// Global `notify_fifo` and `lvs_notify_fifo`: where virtual and real
    /// server state changes are written ([`crate::events`]).
    pub notify_fifos: Vec<rkeepalived_config::model::NotifyFifo>,
    /// Alert e-mails (`smtp_alert` of virtual and real servers).
    pub alerts: crate::mail::AlertPlan,
    /// The LVS configuration as written, for `keepalived_check.data`
    /// ([`crate::check_print`]).
    pub dump: crate::check_print::PackedDump,
    /// `announce_protocol` and `announce_drain_delay` (rkeepalived
    /// extension, [`crate::announce`]); `None` when no virtual server
    /// announces a route.
    pub announce: Option<crate::announce::AnnounceSettings>,
}

/// Forwarding default of keepalived virtual servers (NAT).
pub const DEFAULT_FORWARDING: Forwarding = Forwarding::Masq;
