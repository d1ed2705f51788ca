//! `log_all_failures` (per checker) and `checker_log_all_failures`
//! (global): keepalived 2.2.7 then logs every failed attempt of a checker
//! that is still up (the retries before it is declared down, and the one
//! that declares it down), not only the state change. The lines are
//! keepalived's, by checker:
//!
//! * TCP_CHECK (check_tcp.c `tcp_check_thread`): `TCP connection to %s
//!   timeout.` / `TCP connection to %s failed.`
//! * UDP_CHECK (check_udp.c `udp_check_thread`): `UDP check to %s reply
//!   data mismatch.` / `UDP connection to %s failed.`
//! * PING_CHECK (check_ping.c `icmp_check_thread`): `ICMP connection to
//!   address %s timeout.` / `ICMP connection to %s of %s failed.`
//! * HTTP_GET / SSL_GET (check_http.c `timeout_epilog`): `%s server %s.`
//!   with the failing step (`Timeout connecting`, `HTTP status code error
//!   to`, `MD5 digest error to`, ...).
//!
//! SMTP_CHECK, DNS_CHECK and MISC_CHECK build their own detailed lines in
//! keepalived (check_smtp.c `smtp_final`, check_dns.c `dns_final`,
//! check_misc.c `misc_check_child_thread`); for them we log
//! `<KIND> on service <rs> failed: <reason>.` (documented in the README).

use crate::error::CheckFailure;

/// The line keepalived logs for one failed attempt of a `kind` checker of
/// the real server `chk` (FMT_CHK) of virtual server `vs` (FMT_VS), when
/// `log_all_failures` is in effect and the checker is up.
pub fn line(kind: &str, failure: &CheckFailure, chk: &str, vs: &str) -> String {
    use CheckFailure as F;
    let timeout = matches!(failure, F::Timeout(_) | F::NoReply);
    match kind {
        "TCP_CHECK" if timeout => format!("TCP connection to {chk} timeout."),
        "TCP_CHECK" => format!("TCP connection to {chk} failed."),
        "UDP_CHECK" => match failure {
            F::ReplyMismatch | F::ReplyLength { .. } => {
                format!("UDP check to {chk} reply data mismatch.")
            }
            _ => format!("UDP connection to {chk} failed."),
        },
        "PING_CHECK" if timeout => format!("ICMP connection to address {chk} timeout."),
        "PING_CHECK" => format!("ICMP connection to {chk} of {vs} failed."),
        "HTTP_GET" | "SSL_GET" => format!("{} server {chk}.", http_step(failure)),
        _ => format!("{kind} on service {chk} failed: {failure}."),
    }
}

/// check_http.c: the `debug_msg` `timeout_epilog()` gets for each failure.
fn http_step(failure: &CheckFailure) -> &'static str {
    use CheckFailure as F;
    match failure {
        F::Timeout("connect") => "Timeout connecting",
        F::Timeout("TLS handshake") | F::Tls(_) => {
            "SSL handshake/communication error connecting to"
        }
        F::Timeout("HTTP request") => "Timeout WEB write",
        F::Timeout(_) => "Timeout HTTP read",
        F::Connect(_) | F::Unreachable(_) => "Error connecting",
        F::Socket(_) => "Connection failed",
        F::HttpStatus { .. } => "HTTP status code error to",
        F::Digest { .. } => "MD5 digest error to",
        F::Regex { .. } => "Regex match failed",
        F::Closed => "Read, no data received from",
        _ => "Read error with",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHK: &str = "[192.0.2.20]:tcp:8080";
    const VS: &str = "[192.0.2.10]:tcp:80";

    #[test]
    fn lines_are_keepalived_s() {
        let refused =
            || CheckFailure::Connect(std::io::Error::from_raw_os_error(libc::ECONNREFUSED));
        assert_eq!(
            line("TCP_CHECK", &refused(), CHK, VS),
            "TCP connection to [192.0.2.20]:tcp:8080 failed."
        );
        assert_eq!(
            line("TCP_CHECK", &CheckFailure::Timeout("connect"), CHK, VS),
            "TCP connection to [192.0.2.20]:tcp:8080 timeout."
        );
        assert_eq!(
            line("HTTP_GET", &refused(), CHK, VS),
            "Error connecting server [192.0.2.20]:tcp:8080."
        );
        assert_eq!(
            line(
                "HTTP_GET",
                &CheckFailure::HttpStatus {
                    path: "/".into(),
                    got: 500
                },
                CHK,
                VS
            ),
            "HTTP status code error to server [192.0.2.20]:tcp:8080."
        );
        assert_eq!(
            line("PING_CHECK", &CheckFailure::Timeout("ICMP echo"), CHK, VS),
            "ICMP connection to address [192.0.2.20]:tcp:8080 timeout."
        );
        assert_eq!(
            line("UDP_CHECK", &CheckFailure::ReplyMismatch, CHK, VS),
            "UDP check to [192.0.2.20]:tcp:8080 reply data mismatch."
        );
    }
}
