//! Health checkers of a real server.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::*;

/// A health checker with its fully resolved options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checker {
    pub origin: Origin,
    pub common: CheckerCommon,
    pub kind: CheckerKind,
}

/// Options every checker has (MISC_CHECK uses only the timing ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckerCommon {
    /// None = the real server's address.
    pub connect_ip: Option<IpAddr>,
    /// None = the real server's port.
    pub connect_port: Option<u16>,
    pub bindto: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    /// SO_MARK for checker packets.
    pub fwmark: Option<u32>,
    pub connect_timeout: Duration,
    /// Extra attempts after a failure before declaring the RS down
    /// (`retry` / legacy `nb_get_retry`).
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub delay_loop: Duration,
    /// Random initial delay up to this (keepalived default: delay_loop; 0 = off).
    pub warmup: Duration,
    /// Start with the RS considered down.
    pub alpha: bool,
    pub log_all_failures: bool,
}

impl CheckerCommon {
    /// keepalived defaults for a checker of `kind` with the given delay_loop.
    pub fn defaults_for(kind: &CheckerKind, delay_loop: Duration) -> Self {
        use defaults::*;
        let (retry, delay_before_retry) = match kind {
            CheckerKind::Http(_) | CheckerKind::Ssl(_) => (RETRY, DELAY_BEFORE_RETRY_HTTP),
            CheckerKind::Dns(_) => (RETRY_DNS, delay_loop),
            CheckerKind::Misc(_) => (RETRY_MISC, DELAY_BEFORE_RETRY),
            _ => (RETRY, DELAY_BEFORE_RETRY),
        };
        CheckerCommon {
            connect_ip: None,
            connect_port: None,
            bindto: None,
            bind_port: None,
            bind_if: None,
            fwmark: None,
            connect_timeout: CONNECT_TIMEOUT,
            retry,
            delay_before_retry,
            delay_loop,
            warmup: delay_loop,
            alpha: false,
            log_all_failures: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CheckerKind {
    Tcp,
    Http(HttpCheck),
    Ssl(HttpCheck),
    Smtp(SmtpCheck),
    Dns(DnsCheck),
    Misc(MiscCheck),
    Ping,
    Udp(UdpCheck),
    File(FileCheck),
    /// BFD_CHECK { name }: follows the named bfd_instance session.
    Bfd {
        name: String,
    },
}

impl CheckerKind {
    /// The keepalived.conf keyword (`TCP_CHECK`, `HTTP_GET`, ...).
    pub fn keyword(&self) -> &'static str {
        match self {
            CheckerKind::Tcp => "TCP_CHECK",
            CheckerKind::Http(_) => "HTTP_GET",
            CheckerKind::Ssl(_) => "SSL_GET",
            CheckerKind::Smtp(_) => "SMTP_CHECK",
            CheckerKind::Dns(_) => "DNS_CHECK",
            CheckerKind::Misc(_) => "MISC_CHECK",
            CheckerKind::Ping => "PING_CHECK",
            CheckerKind::Udp(_) => "UDP_CHECK",
            CheckerKind::File(_) => "FILE_CHECK",
            CheckerKind::Bfd { .. } => "BFD_CHECK",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpProtocol {
    /// `1.0` (keepalived default).
    V1_0,
    /// `1.0C`: 1.0 plus `Connection: close`.
    V1_0C,
    V1_1,
}

/// HTTP_GET / SSL_GET.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpCheck {
    pub http_protocol: HttpProtocol,
    pub fast_recovery: bool,
    pub urls: Vec<HttpUrl>,
    /// Resolved: checker, else real server, else virtual server virtualhost.
    pub virtualhost: Option<String>,
    /// SSL_GET only: send SNI.
    pub enable_sni: bool,
    /// Close TLS connections properly (close_notify).
    pub tls_compliant: bool,
}

impl Default for HttpCheck {
    fn default() -> Self {
        HttpCheck {
            http_protocol: HttpProtocol::V1_0,
            fast_recovery: false,
            urls: Vec::new(),
            virtualhost: None,
            enable_sni: false,
            tls_compliant: false,
        }
    }
}

/// An inclusive HTTP status range; `status_code 200` is 200..=200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRange {
    pub min: u16,
    pub max: u16,
}

impl StatusRange {
    pub fn contains(&self, code: u16) -> bool {
        (self.min..=self.max).contains(&code)
    }
}

/// `url { path P; digest D; status_code ...; virtualhost H; regex R ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpUrl {
    pub path: String,
    /// Lower-case hex MD5 of the body (from genhash).
    pub digest: Option<String>,
    /// Default 200-299.
    pub status_codes: Vec<StatusRange>,
    /// Resolved: url, else the checker's virtualhost.
    pub virtualhost: Option<String>,
    pub regex: Option<String>,
    pub regex_no_match: bool,
    pub regex_min_offset: Option<u32>,
    pub regex_max_offset: Option<u32>,
    /// `regex_stack START MAX`: keepalived's PCRE2 JIT stack sizes (bytes),
    /// validated as keepalived does. The `regex` crate does not backtrack
    /// and needs no match stack, so no pattern fails for lack of one; the
    /// value is kept for the configuration dump.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex_stack: Option<(u64, u64)>,
}

impl HttpUrl {
    pub fn new(path: impl Into<String>) -> Self {
        HttpUrl {
            path: path.into(),
            digest: None,
            status_codes: vec![StatusRange { min: 200, max: 299 }],
            virtualhost: None,
            regex: None,
            regex_no_match: false,
            regex_min_offset: None,
            regex_max_offset: None,
            regex_stack: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpCheck {
    pub helo_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DnsType {
    A,
    Ns,
    Cname,
    Soa,
    Mx,
    Txt,
    Aaaa,
}

impl DnsType {
    pub const ALL: [DnsType; 7] = [
        DnsType::A,
        DnsType::Ns,
        DnsType::Cname,
        DnsType::Soa,
        DnsType::Mx,
        DnsType::Txt,
        DnsType::Aaaa,
    ];
    pub fn name(self) -> &'static str {
        match self {
            DnsType::A => "A",
            DnsType::Ns => "NS",
            DnsType::Cname => "CNAME",
            DnsType::Soa => "SOA",
            DnsType::Mx => "MX",
            DnsType::Txt => "TXT",
            DnsType::Aaaa => "AAAA",
        }
    }
    /// RFC 1035 §3.2.2 / RFC 3596 QTYPE value.
    pub fn qtype(self) -> u16 {
        match self {
            DnsType::A => 1,
            DnsType::Ns => 2,
            DnsType::Cname => 5,
            DnsType::Soa => 6,
            DnsType::Mx => 15,
            DnsType::Txt => 16,
            DnsType::Aaaa => 28,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsCheck {
    /// Default SOA.
    pub query_type: DnsType,
    /// Default ".".
    pub name: String,
}

/// MISC_CHECK: run a program; exit 0 = up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiscCheck {
    pub misc_path: String,
    /// Resolved: delay_loop when not given.
    pub misc_timeout: Duration,
    pub misc_dynamic: bool,
    pub user: Option<ScriptUser>,
}

/// One byte of a `require_reply` pattern; `mask` has 0 bits where the config
/// had an `X` nibble (don't care).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedByte {
    pub value: u8,
    pub mask: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpCheck {
    /// None = random payload.
    pub payload: Option<Vec<u8>>,
    /// None = no reply needed; Some(empty) = any reply; else match prefix.
    pub require_reply: Option<Vec<MaskedByte>>,
    pub min_reply_length: u32,
    pub max_reply_length: u32,
}

impl Default for UdpCheck {
    fn default() -> Self {
        UdpCheck {
            payload: None,
            require_reply: None,
            min_reply_length: 0,
            max_reply_length: defaults::UDP_MAX_REPLY_LENGTH,
        }
    }
}

/// `FILE_CHECK { track_file NAME; dynamic; weight N [reverse] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCheck {
    pub track_file: String,
    pub dynamic: bool,
    /// Resolved: the vrrp_track_file's weight when not given.
    pub weight: i32,
    pub reverse: bool,
}
