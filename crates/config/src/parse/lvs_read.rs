//! keepalived 2.2.7's value readers as its checker side uses them
//! (lib/parser.c `read_unsigned_func()`, `read_decimal_unsigned_long_func()`
//! via `read_timer()`, `check_true_false()`), so that a virtual_server,
//! real_server or checker value is read exactly as keepalived reads it.
//!
//! keepalived reads numbers with `strtoul()`: it stops at the first
//! character that is not a digit. When the handler passes `ignore_error`
//! (most LVS handlers do) and the digits read are in range, a running
//! keepalived logs "WARNING - invalid number" and *uses* them: `weight 1;`
//! is weight 1. Timers are scaled to microseconds by appending zeros to
//! the text before `strtoull()`, so `connect_timeout 3;` is read as
//! "3;000000" = 3 microseconds. Out-of-range or negative values make the
//! handler ignore the line. (`keepalived -t` differs: in config-test mode
//! `read_unsigned_func()` refuses the lenient reading; we follow the
//! running daemon.)

use std::net::IpAddr;
use std::time::Duration;

use super::Parser;
use crate::tree::Node;
use crate::values::PResult;

/// Longest timer we keep (u32::MAX seconds); keepalived's limit
/// (ULONG_MAX - 1 microseconds) would overflow timer arithmetic.
const MAX_TIMER_US: u64 = u32::MAX as u64 * 1_000_000;

/// The outcome of one keepalived read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Read<T> {
    /// A clean value.
    Ok(T),
    /// keepalived reads the text leniently (trailing garbage, or too many
    /// decimal places) and uses this value; the note says how.
    Lenient(T, String),
    /// keepalived refuses the value and ignores the line; the reason.
    Bad(String),
}

/// `strtoul()`/`strtoull()` base 10: skips leading white space and one
/// sign, reads the digits. Returns (value, rest, overflowed); no digits
/// gives 0 and the whole text as the rest.
fn strtoul(s: &str) -> (u64, &str, bool) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'+') => (false, &t[1..]),
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return (0, s, false);
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    for b in t[..digits].bytes() {
        match v
            .checked_mul(10)
            .and_then(|x| x.checked_add(u64::from(b - b'0')))
        {
            Some(x) => v = x,
            None => {
                overflow = true;
                v = u64::MAX;
            }
        }
    }
    if neg {
        v = v.wrapping_neg();
    }
    (v, &t[digits..], overflow)
}

/// `read_unsigned_strvec(strvec, i, &res, min, max, ignore_error)` in a
/// running keepalived (lib/parser.c `read_unsigned_func()`).
pub(super) fn unsigned(text: &str, min: u64, max: u64, ignore_error: bool) -> Read<u64> {
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (val, rest, overflow) = strtoul(text);
    let in_range = val >= min && val <= max && !overflow && val <= u64::from(u32::MAX);
    if trimmed.starts_with('-') {
        return Read::Bad(format!("negative number '{text}'"));
    }
    if !rest.is_empty() {
        if ignore_error && in_range {
            return Read::Lenient(
                val,
                format!("invalid number '{text}' read as {val} (keepalived stops at the first non-digit)"),
            );
        }
        return Read::Bad(format!("invalid number '{text}'"));
    }
    if overflow || val > u64::from(u32::MAX) {
        return Read::Bad(format!("number '{text}' outside unsigned integer range"));
    }
    if !in_range {
        return Read::Bad(format!("number '{text}' outside range [{min}, {max}]"));
    }
    Read::Ok(val)
}

/// `read_int_strvec(strvec, i, &res, min, max, ignore_error)` in a running
/// keepalived (lib/parser.c `read_int_func()`, `strtol()`).
pub(super) fn int(text: &str, min: i64, max: i64, ignore_error: bool) -> Read<i64> {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let neg = t.starts_with('-');
    let (mag, rest, overflow) = strtoul(text);
    let val = if neg {
        0i64.saturating_sub(i64::try_from(mag.wrapping_neg()).unwrap_or(i64::MAX))
    } else {
        i64::try_from(mag).unwrap_or(i64::MAX)
    };
    let in_int = !overflow && (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&val);
    let in_range = in_int && val >= min && val <= max;
    if !rest.is_empty() {
        if ignore_error && in_range {
            return Read::Lenient(
                val,
                format!("invalid number '{text}' read as {val} (keepalived stops at the first non-digit)"),
            );
        }
        return Read::Bad(format!("invalid number '{text}'"));
    }
    if !in_int {
        return Read::Bad(format!("number '{text}' outside integer range"));
    }
    if !in_range {
        return Read::Bad(format!("number '{text}' outside range [{min}, {max}]"));
    }
    Read::Ok(val)
}

/// `read_timer(strvec, i, &res, min_us, max_us, true)` (lib/parser.c
/// `read_decimal_unsigned_long_func()` with 6 decimal places): seconds
/// with up to microsecond resolution; `max_us` 0 means keepalived's
/// TIMER_MAXIMUM.
pub(super) fn timer(text: &str, min_us: u64, max_us: u64) -> Read<Duration> {
    let max_us = if max_us == 0 { u64::MAX - 1 } else { max_us };
    if text.starts_with('-') {
        return Read::Bad(format!("negative number '{text}'"));
    }
    let mut notes = Vec::new();
    // The text with the decimal point removed and padded to 6 places
    // (bytes: only the digits before the first other character matter).
    let bytes = text.as_bytes();
    let (scaled, round_up) = match bytes.iter().position(|&b| b == b'.') {
        Some(dp) => {
            let frac = &bytes[dp + 1..];
            let mut round_up = false;
            let kept = if frac.len() > 6 {
                notes.push(format!("'{text}' has too many decimal places"));
                round_up = frac[6] >= b'5';
                &frac[..6]
            } else {
                frac
            };
            let mut v = bytes[..dp].to_vec();
            v.extend_from_slice(kept);
            v.resize(v.len() + 6 - kept.len(), b'0');
            (String::from_utf8_lossy(&v).into_owned(), round_up)
        }
        None => (format!("{text}000000"), false),
    };
    let (mut val, rest, overflow) = strtoul(&scaled);
    if round_up {
        val = val.saturating_add(1);
    }
    if overflow {
        return Read::Bad(format!("number '{text}' outside unsigned decimal range"));
    }
    if !rest.is_empty() {
        notes.push(format!(
            "invalid number '{text}' read as {} (keepalived scales the text to microseconds, then stops at the first non-digit)",
            describe_us(val)
        ));
    }
    if val < min_us || val > max_us {
        return Read::Bad(format!(
            "number '{text}' outside range [{}, {}]",
            describe_us(min_us),
            describe_us(max_us)
        ));
    }
    let d = Duration::from_micros(val.min(MAX_TIMER_US));
    if notes.is_empty() {
        Read::Ok(d)
    } else {
        Read::Lenient(d, notes.join("; "))
    }
}

/// `inet_stosockaddr(ip, port)` as keepalived's `alloc_vs()`, `alloc_rs()`
/// and `alloc_ssvr()` call it (lib/utils.c): a port of only zeros is no
/// port; the port is read with `read_unsigned(1, 65535, ignore_error)`;
/// anything from the first '-' or '/' of the address on is cut off.
pub(super) fn sockaddr(ip: &str, port: Option<&str>) -> Read<(IpAddr, Option<u16>)> {
    let mut notes = Vec::new();
    let port = match port.filter(|p| p.bytes().any(|b| b != b'0')) {
        None => None,
        Some(p) => match unsigned(p, 1, 65535, true) {
            Read::Ok(v) => u16::try_from(v).ok(),
            Read::Lenient(v, note) => {
                notes.push(format!("port {note}"));
                u16::try_from(v).ok()
            }
            Read::Bad(why) => return Read::Bad(format!("invalid port: {why}")),
        },
    };
    let cut = ip.find(['-', '/']).map_or(ip, |i| &ip[..i]);
    let parsed = if cut.contains(':') {
        cut.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        cut.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
    };
    let Some(addr) = parsed else {
        return Read::Bad(format!("invalid IP address '{ip}'"));
    };
    if cut.len() != ip.len() {
        notes.push(format!(
            "'{ip}' read as {addr} (keepalived ignores a range or mask here)"
        ));
    }
    if notes.is_empty() {
        Read::Ok((addr, port))
    } else {
        Read::Lenient((addr, port), notes.join("; "))
    }
}

/// "3 microseconds", "1.5s".
fn describe_us(us: u64) -> String {
    if us == 1 {
        "1 microsecond".to_string()
    } else if us % 1_000_000 == 0 {
        format!("{}s", us / 1_000_000)
    } else if us < 1_000_000 {
        format!("{us} microseconds")
    } else {
        super::fmt_duration(Duration::from_micros(us)) + "s"
    }
}

/// `check_true_false()`: exactly true/on/yes or false/off/no.
pub(super) fn true_false(text: &str) -> Option<bool> {
    match text {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

impl Parser {
    /// Applies one keepalived read of `k`'s first argument: the value to
    /// use, or None when keepalived ignores the line. Both a lenient
    /// reading and an ignored line warn at the value.
    pub(super) fn ka_apply<T>(&mut self, k: &Node, r: Read<T>) -> Option<T> {
        let pos = k
            .args
            .first()
            .map_or_else(|| k.pos().clone(), |t| t.pos.clone());
        match r {
            Read::Ok(v) => Some(v),
            Read::Lenient(v, note) => {
                self.warnings
                    .push(pos.warning(format!("'{}': {note} (as keepalived does)", k.key())));
                Some(v)
            }
            Read::Bad(why) => {
                self.warnings.push(pos.warning(format!(
                    "'{}': {why}; ignoring this line (as keepalived does)",
                    k.key()
                )));
                None
            }
        }
    }

    /// `read_unsigned_strvec(strvec, 1, ...)` of `k`: the value to use, or
    /// None (warned) when keepalived ignores the line. A missing value is an
    /// error: keepalived exits on it.
    pub(super) fn ka_unsigned(
        &mut self,
        k: &Node,
        min: u64,
        max: u64,
        ignore_error: bool,
    ) -> PResult<Option<u64>> {
        let t = k.arg(0, &format!("a number {min}..{max}"))?;
        let r = unsigned(&t.text, min, max, ignore_error);
        self.extra_text_ignored(k);
        Ok(self.ka_apply(k, r))
    }

    /// `read_timer(strvec, 1, ..., min_us, max_us, true)` of `k`.
    pub(super) fn ka_timer(
        &mut self,
        k: &Node,
        min_us: u64,
        max_us: u64,
    ) -> PResult<Option<Duration>> {
        let t = k.arg(0, "a time in seconds")?;
        let r = timer(&t.text, min_us, max_us);
        self.extra_text_ignored(k);
        Ok(self.ka_apply(k, r))
    }

    /// keepalived's one-value handlers read `strvec[1]` and nothing after
    /// it, silently. The usual way to get there is a block written on one
    /// line, `TCP_CHECK { connect_timeout 2 retry 1 }`: keepalived's
    /// read_line() (lib/parser.c) splits off the braces, so `retry 1` is
    /// text after connect_timeout's value and never read. We read the same,
    /// and say so.
    fn extra_text_ignored(&mut self, k: &Node) {
        let [_, first, rest @ ..] = &k.args[..] else {
            return;
        };
        let text = std::iter::once(first)
            .chain(rest)
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        self.warnings.push(first.pos.warning(format!(
            "'{}': '{text}' after the value is not read (keepalived reads one value here and ignores the rest of the line; write one keyword per line)",
            k.key()
        )));
    }

    /// A string value whose handler checks that it is there (`virtualhost`,
    /// `helo_name`, the SSL files, ...): missing, keepalived logs `missing`
    /// and ignores the line (other handlers exit: `k.string(0)` there).
    pub(super) fn ka_string(&mut self, k: &Node, missing: &str) -> Option<String> {
        match k.args.first() {
            Some(t) => Some(t.text.clone()),
            None => {
                self.warnings.push(k.pos().warning(format!(
                    "{missing} - ignoring this line (as keepalived does)"
                )));
                None
            }
        }
    }

    /// `keyword [true|on|yes|false|off|no]` read with `check_true_false()`:
    /// no argument is true; anything else makes keepalived ignore the line.
    pub(super) fn ka_bool(&mut self, k: &Node) -> Option<bool> {
        let Some(t) = k.args.first() else {
            return Some(true);
        };
        let r = match true_false(&t.text) {
            Some(b) => Read::Ok(b),
            None => Read::Bad(format!(
                "invalid value '{}' (keepalived accepts exactly true|on|yes|false|off|no)",
                t.text
            )),
        };
        self.ka_apply(k, r)
    }

    /// A keyword keepalived's handler sets without reading its argument
    /// (`ha_suspend`, `omega`, the virtual server's `alpha` and
    /// `inhibit_on_failure`, `sorry_server_inhibit`): always true; an
    /// argument such as `off` is not read, and we say so.
    pub(super) fn ka_always_on(&mut self, k: &Node) -> bool {
        if let Some(t) = k.args.first() {
            if true_false(&t.text) != Some(true) {
                self.warnings.push(t.pos.warning(format!(
                    "'{}': keepalived does not read an argument here and turns it on; '{}' ignored, '{}' is on (as keepalived does)",
                    k.key(),
                    t.text,
                    k.key()
                )));
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_like_strtoul() {
        assert_eq!(unsigned("5", 0, 10, true), Read::Ok(5));
        assert!(matches!(unsigned("1;", 0, 10, true), Read::Lenient(1, _)));
        assert!(matches!(unsigned("1;", 0, 10, false), Read::Bad(_)));
        assert!(matches!(unsigned("abc", 0, 10, true), Read::Lenient(0, _)));
        assert!(matches!(unsigned("abc", 1, 10, true), Read::Bad(_)));
        assert!(matches!(unsigned("-1", 0, 10, true), Read::Bad(_)));
        assert!(matches!(unsigned("11", 0, 10, true), Read::Bad(_)));
        assert!(matches!(
            unsigned("99999999999", 0, u64::MAX, true),
            Read::Bad(_)
        ));
        assert_eq!(unsigned(" 7", 0, 10, true), Read::Ok(7));
    }

    #[test]
    fn int_like_strtol() {
        assert_eq!(int("-5", -10, 10, true), Read::Ok(-5));
        assert!(matches!(int("-5x", -10, 10, true), Read::Lenient(-5, _)));
        assert!(matches!(int("-11", -10, 10, true), Read::Bad(_)));
    }

    #[test]
    fn timer_in_microseconds() {
        assert_eq!(timer("3", 1, 0), Read::Ok(Duration::from_secs(3)));
        assert_eq!(timer("0.5", 1, 0), Read::Ok(Duration::from_millis(500)));
        assert!(matches!(timer("3;", 1, 0), Read::Lenient(d, _) if d == Duration::from_micros(3)));
        assert!(matches!(timer("0", 1, 0), Read::Bad(_)));
        assert_eq!(timer("0", 0, 0), Read::Ok(Duration::ZERO));
        assert!(matches!(timer("-1", 0, 0), Read::Bad(_)));
        assert!(
            matches!(timer("1.0000005", 1, 0), Read::Lenient(d, _) if d == Duration::from_micros(1_000_001))
        );
        assert!(matches!(
            timer("5000", 1, u64::from(u32::MAX)),
            Read::Bad(_)
        ));
        assert!(matches!(timer("abc", 1, 0), Read::Bad(_)));
        // Never panics on multi-byte text around the decimal point.
        let _ = timer("1.12345é7", 1, 0);
        let _ = timer("é.é", 0, 0);
    }
}
