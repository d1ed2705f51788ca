//! Typed argument parsing with positioned errors.

use std::net::IpAddr;
use std::time::Duration;

use crate::diag::Diagnostic;
use crate::lexer::Token;
use crate::model::{IpPrefix, Notify, Scope, ScriptUser};
use crate::tree::Node;

pub type PResult<T> = Result<T, Diagnostic>;

impl Node {
    /// Argument `i` or an error at the keyword: "'key' needs WHAT".
    pub fn arg(&self, i: usize, what: &str) -> PResult<&Token> {
        self.args
            .get(i)
            .ok_or_else(|| self.pos().error(format!("'{}' needs {what}", self.key())))
    }

    /// The block of a block keyword, or an error.
    pub fn require_block(&self) -> PResult<&[Node]> {
        self.block
            .as_ref()
            .map(|b| b.nodes.as_slice())
            .ok_or_else(|| {
                self.pos()
                    .error(format!("'{}' needs a '{{ ... }}' block", self.key()))
            })
    }

    pub fn int<T: TryFrom<i64>>(&self, i: usize, min: i64, max: i64) -> PResult<T> {
        let what = format!("an integer {min}..{max}");
        int(self.arg(i, &what)?, min, max, self.key())
    }

    /// Argument `i` read as keepalived's daemon reads numbers
    /// ([`keepalived_int`]); a missing argument is an error (keepalived
    /// exits: "Configuration line ... is missing a parameter").
    pub fn kint<T: TryFrom<i64>>(
        &self,
        i: usize,
        min: i64,
        max: i64,
        warnings: &mut Vec<Diagnostic>,
    ) -> PResult<T> {
        let what = format!("an integer {min}..{max}");
        keepalived_int(self.arg(i, &what)?, min, max, self.key(), warnings)
    }

    /// `keyword [true|on|yes|false|off|no]` as keepalived reads it
    /// (case-sensitive `check_true_false()`): no argument is true; an
    /// unknown word is an error the caller turns into "ignoring".
    pub fn kflag(&self) -> PResult<bool> {
        match self.args.first() {
            None => Ok(true),
            Some(t) => keepalived_bool(&t.text).ok_or_else(|| {
                t.pos.error(format!(
                    "'{}': invalid boolean '{}' (expected on|off|true|false|yes|no)",
                    self.key(),
                    t.text
                ))
            }),
        }
    }

    /// An enumerated value as keepalived reads it: exact, case-sensitive
    /// `strcmp` against `table`; anything else logs and falls back to
    /// `default` (`default_name` in the warning: "unknown lb_kind 'dr',
    /// using NAT (as keepalived does)"). A missing argument is an error.
    // Shared reader for the block parsers' enumerated keywords (state,
    // lb_kind, lb_algo, auth_type, ...).
    #[allow(dead_code)]
    pub fn kenum<T: Copy>(
        &self,
        i: usize,
        table: &[(&str, T)],
        default: (T, &str),
        warnings: &mut Vec<Diagnostic>,
    ) -> PResult<T> {
        let t = self.arg(i, "a value")?;
        if let Some((_, v)) = table.iter().find(|(name, _)| *name == t.text) {
            return Ok(*v);
        }
        warnings.push(t.pos.warning(format!(
            "unknown {} '{}', using {} (as keepalived does)",
            self.key(),
            t.text,
            default.1
        )));
        Ok(default.0)
    }

    /// A timer read as keepalived's daemon reads it
    /// ([`keepalived_decimal`], microseconds `min_us..=max_us`): a warning
    /// when trailing text was ignored, an error when keepalived would not
    /// use the value.
    pub fn ktimer(
        &self,
        i: usize,
        min_us: u64,
        max_us: u64,
        warnings: &mut Vec<Diagnostic>,
    ) -> PResult<Duration> {
        let t = self.arg(i, "a time in seconds")?;
        match keepalived_decimal(&t.text, min_us, max_us, 6) {
            KeepalivedNumber::Exact(v) => Ok(Duration::from_micros(v.unsigned_abs())),
            KeepalivedNumber::Prefix(v) => {
                let d = Duration::from_micros(v.unsigned_abs());
                warnings.push(t.pos.warning(format!(
                    "'{}': invalid number '{}'; using {}s (as keepalived does)",
                    self.key(),
                    t.text,
                    crate::parse::fmt_duration(d)
                )));
                Ok(d)
            }
            KeepalivedNumber::Rejected => Err(t.pos.error(format!(
                "'{}': invalid time '{}' (expected seconds, e.g. 3 or 0.5)",
                self.key(),
                t.text
            ))),
        }
    }

    pub fn ip(&self, i: usize) -> PResult<IpAddr> {
        ip(self.arg(i, "an IP address")?, self.key())
    }

    pub fn string(&self, i: usize) -> PResult<String> {
        Ok(self.arg(i, "a value")?.text.clone())
    }

    /// `keyword [<BOOL>]`: no argument means true.
    pub fn flag(&self) -> PResult<bool> {
        match self.args.first() {
            None => Ok(true),
            Some(t) => boolean(t, self.key()),
        }
    }

    /// `keyword CMD [user [group]]`.
    pub fn notify(&self) -> PResult<Notify> {
        let command = self.arg(0, "a script (quote it if it has arguments)")?;
        if command.text.is_empty() {
            return Err(command.pos.error(format!("'{}': empty script", self.key())));
        }
        if self.args.len() > 3 {
            return Err(self.args[3].pos.error(format!(
                "'{}': too many arguments (expected SCRIPT [user [group]]); quote the script if it has arguments",
                self.key()
            )));
        }
        let user = self.args.get(1).map(|u| ScriptUser {
            user: u.text.clone(),
            group: self.args.get(2).map(|g| g.text.clone()),
        });
        Ok(Notify {
            command: command.text.clone(),
            user,
        })
    }

    /// `keyword USER [GROUP]`.
    pub fn script_user(&self) -> PResult<ScriptUser> {
        let user = self.arg(0, "a user name")?;
        Ok(ScriptUser {
            user: user.text.clone(),
            group: self.args.get(1).map(|g| g.text.clone()),
        })
    }
}

/// How keepalived 2.2.7's number readers treat a word in the running daemon
/// (lib/parser.c `read_int_func`/`read_unsigned_func`, base 10, called with
/// `ignore_error` true as most handlers do): `strtol` reads the number at
/// the start of the word; if text follows ("100;", "5x", "abc" = 0) keepalived
/// logs "WARNING - invalid number" and, when that number is in range, uses
/// it anyway (under `-t` it would not). Out of range or unreadable: not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepalivedNumber {
    /// A clean number in range.
    Exact(i64),
    /// The leading number, in range, with text after it that keepalived
    /// ignores (after logging "invalid number").
    Prefix(i64),
    /// Out of range, negative for an unsigned reader, or overflowing:
    /// keepalived does not use it.
    Rejected,
}

/// See [`KeepalivedNumber`]. `unsigned` selects `read_unsigned` (a leading
/// `-` is refused) over `read_int`.
pub fn keepalived_number(s: &str, min: i64, max: i64, unsigned: bool) -> KeepalivedNumber {
    // strtol/strtoul: leading white space, optional sign, decimal digits.
    let body = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits_on) = match body.as_bytes().first() {
        Some(b'-') => (true, &body[1..]),
        Some(b'+') => (false, &body[1..]),
        _ => (false, body),
    };
    let end = digits_on
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits_on.len());
    let digits = &digits_on[..end];
    // No digits: strtol reads 0 and stops at the start of the word.
    let (value, rest_empty) = if digits.is_empty() {
        (Some(0i64), s.is_empty())
    } else {
        let v = digits.parse::<i64>().ok().map(|v| if neg { -v } else { v });
        (v, end == digits_on.len())
    };
    let Some(value) = value else {
        return KeepalivedNumber::Rejected; // ERANGE
    };
    if unsigned && neg && value != 0 {
        return KeepalivedNumber::Rejected;
    }
    if !(min..=max).contains(&value) {
        return KeepalivedNumber::Rejected;
    }
    if rest_empty {
        KeepalivedNumber::Exact(value)
    } else {
        KeepalivedNumber::Prefix(value)
    }
}

/// keepalived's decimal reader (lib/parser.c
/// `read_decimal_unsigned_long_func()`, `ignore_error` true, as the daemon
/// runs it): the digits after the first `.` (at most `shift`, rounding on
/// the next one) are appended to the integer part, padded with zeros, and
/// the result read with `strtoull`; trailing text keeps the number read so
/// far, so `0.5x` is 5 units (5 us for a timer), not 0.5 s. Values in units
/// of 10^-shift.
pub fn keepalived_decimal(s: &str, min: u64, max: u64, shift: usize) -> KeepalivedNumber {
    if s.starts_with('-') {
        return KeepalivedNumber::Rejected;
    }
    // Only too many decimal places round (keepalived's `round_up`).
    let (mut digits, round_up) = match s.split_once('.') {
        Some((int, frac)) => {
            let take: String = frac.chars().take(shift).collect();
            let round = frac.chars().nth(shift).is_some_and(|c| c >= '5');
            let pad = shift.saturating_sub(take.chars().count());
            (format!("{int}{take}{}", "0".repeat(pad)), round)
        }
        None => (format!("{s}{}", "0".repeat(shift)), false),
    };
    let body = digits.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let body = body.strip_prefix('+').unwrap_or(body);
    let end = body
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(body.len());
    let clean = end == body.len() && !body.is_empty();
    let value = if end == 0 {
        Some(0)
    } else {
        body[..end].parse::<u64>().ok()
    };
    digits.clear();
    let Some(mut v) = value else {
        return KeepalivedNumber::Rejected;
    };
    if round_up {
        v = v.saturating_add(1);
    }
    if !(min..=max).contains(&v) {
        return KeepalivedNumber::Rejected;
    }
    let v = i64::try_from(v).unwrap_or(i64::MAX);
    if clean {
        KeepalivedNumber::Exact(v)
    } else {
        KeepalivedNumber::Prefix(v)
    }
}

/// A number read as keepalived's daemon reads it ([`keepalived_number`]):
/// the value (a warning in `warnings` when trailing text was ignored), or an
/// error diagnostic when keepalived would not use it (the caller decides
/// what keepalived does then: usually ignore the line).
pub fn keepalived_int<T: TryFrom<i64>>(
    t: &Token,
    min: i64,
    max: i64,
    key: &str,
    warnings: &mut Vec<Diagnostic>,
) -> PResult<T> {
    let unsigned = min >= 0;
    let v = match keepalived_number(&t.text, min, max, unsigned) {
        KeepalivedNumber::Exact(v) => v,
        KeepalivedNumber::Prefix(v) => {
            warnings.push(t.pos.warning(format!(
                "'{key}': invalid number '{}'; using {v} (as keepalived does)",
                t.text
            )));
            v
        }
        KeepalivedNumber::Rejected => {
            return Err(t.pos.error(format!(
                "'{key}': invalid value '{}' (expected an integer {min}..{max})",
                t.text
            )))
        }
    };
    T::try_from(v).map_err(|_| {
        t.pos
            .error(format!("'{key}': value {v} out of range {min}..{max}"))
    })
}

/// keepalived's `check_true_false()` (lib/parser.c): exactly
/// `true|on|yes` / `false|off|no`, case-sensitive. None for anything else.
pub fn keepalived_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

/// An error turned into a warning saying keepalived ignores the line (its
/// handler logs and returns, keeping the previous value or default).
pub fn ignoring_line(mut d: Diagnostic) -> Diagnostic {
    d.severity = crate::diag::Severity::Warning;
    d.message = format!("{}; ignoring this line (as keepalived does)", d.message);
    d
}

pub fn int<T: TryFrom<i64>>(t: &Token, min: i64, max: i64, key: &str) -> PResult<T> {
    let parsed = parse_i64(&t.text);
    match parsed {
        Some(v) if (min..=max).contains(&v) => T::try_from(v).map_err(|_| {
            t.pos
                .error(format!("'{key}': value {v} out of range {min}..{max}"))
        }),
        Some(v) => Err(t
            .pos
            .error(format!("'{key}': value {v} out of range {min}..{max}"))),
        None => Err(t.pos.error(format!(
            "'{key}': invalid number '{}' (expected an integer {min}..{max})",
            t.text
        ))),
    }
}

fn parse_i64(s: &str) -> Option<i64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    s.parse::<i64>().ok()
}

pub fn ip(t: &Token, key: &str) -> PResult<IpAddr> {
    t.text.parse::<IpAddr>().map_err(|_| {
        t.pos
            .error(format!("'{key}': invalid IP address '{}'", t.text))
    })
}

/// `ADDR[/LEN]`; without `/LEN` the host prefix (32/128).
pub fn ip_prefix(t: &Token, key: &str) -> PResult<IpPrefix> {
    parse_prefix(&t.text).ok_or_else(|| {
        t.pos.error(format!(
            "'{key}': invalid address/prefix '{}' (expected e.g. 192.0.2.0/24)",
            t.text
        ))
    })
}

pub fn parse_prefix(s: &str) -> Option<IpPrefix> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => {
            let v: u8 = l.parse().ok()?;
            if v > max {
                return None;
            }
            v
        }
        None => max,
    };
    Some(IpPrefix { addr, len })
}

pub fn boolean(t: &Token, key: &str) -> PResult<bool> {
    match t.text.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(t.pos.error(format!(
            "'{key}': invalid boolean '{}' (expected on|off|true|false|yes|no)",
            t.text
        ))),
    }
}

pub fn scope(t: &Token, key: &str) -> PResult<Scope> {
    Ok(match t.text.as_str() {
        "global" | "universe" => Scope::Global,
        "site" => Scope::Site,
        "link" => Scope::Link,
        "host" => Scope::Host,
        "nowhere" => Scope::Nowhere,
        _ => match t.text.parse::<u8>() {
            Ok(0) => Scope::Global,
            Ok(200) => Scope::Site,
            Ok(253) => Scope::Link,
            Ok(254) => Scope::Host,
            Ok(255) => Scope::Nowhere,
            Ok(n) => Scope::Other(n),
            Err(_) => {
                return Err(t.pos.error(format!(
                "'{key}': invalid scope '{}' (expected global|site|link|host|nowhere or 0..255)",
                t.text
            )))
            }
        },
    })
}

/// Routing table: number or main/local/default.
pub fn table(t: &Token, key: &str) -> PResult<u32> {
    match t.text.as_str() {
        "main" => Ok(254),
        "local" => Ok(255),
        "default" => Ok(253),
        _ => int(t, 0, i64::from(u32::MAX), key),
    }
}

/// Hex string (UDP_CHECK payload): free format, whitespace separated groups,
/// an odd group gets a leading 0 nibble per byte group (keepalived rules).
pub fn hex_bytes(
    tokens: &[Token],
    key: &str,
    allow_wild: bool,
) -> PResult<Vec<crate::model::MaskedByte>> {
    let mut out = Vec::new();
    for t in tokens {
        let chars: Vec<char> = t.text.chars().collect();
        // keepalived.conf(5): pairs from the left, a trailing single nibble
        // is the low half of a byte: "Ab12f" -> AB 12 0F, "456" -> 45 06.
        let mut nibbles: Vec<Option<u8>> = Vec::new();
        for c in chars {
            let n = match c {
                'x' | 'X' if allow_wild => None,
                _ => match c.to_digit(16) {
                    Some(d) => Some(u8::try_from(d).unwrap_or(0)),
                    None => {
                        return Err(t
                            .pos
                            .error(format!("'{key}': invalid hex digit '{c}' in '{}'", t.text)))
                    }
                },
            };
            nibbles.push(n);
        }
        for pair in nibbles.chunks(2) {
            // A lone trailing nibble: known zero high half.
            let (hi, lo) = match pair {
                [hi, lo] => (*hi, *lo),
                [lo] => (Some(0), *lo),
                _ => continue,
            };
            let value = (hi.unwrap_or(0) << 4) | lo.unwrap_or(0);
            let mask =
                (if hi.is_some() { 0xf0 } else { 0 }) | (if lo.is_some() { 0x0f } else { 0 });
            out.push(crate::model::MaskedByte { value, mask });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Pos;
    use std::sync::Arc;

    fn tok(s: &str) -> Token {
        Token {
            text: s.to_string(),
            pos: Pos {
                file: Arc::new("t".into()),
                line: 1,
                col: 1,
            },
            quoted: false,
        }
    }

    #[test]
    fn prefixes_default_to_host_length() {
        let p = parse_prefix("192.0.2.1").expect("v4");
        assert_eq!(p.len, 32);
        assert_eq!(parse_prefix("2001:db8::/32").map(|p| p.len), Some(32));
        assert_eq!(parse_prefix("192.0.2.0/33"), None);
        assert_eq!(parse_prefix("192.0.2.0/x"), None);
    }

    #[test]
    fn hex_strings_follow_keepalived_grouping() {
        // keepalived.conf(5): "Ab12f 3 456 546443123" ->
        // AB 12 0F 03 45 06 54 64 43 12 03.
        let toks = [tok("Ab12f"), tok("3"), tok("456"), tok("546443123")];
        let v: Vec<u8> = hex_bytes(&toks, "payload", false)
            .expect("hex")
            .iter()
            .map(|b| b.value)
            .collect();
        assert_eq!(
            v,
            [0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03]
        );
        let wild = hex_bytes(&[tok("aX")], "require_reply", true).expect("wild");
        assert_eq!((wild[0].value, wild[0].mask), (0xa0, 0xf0));
        assert!(hex_bytes(&[tok("zz")], "payload", false).is_err());
        assert!(hex_bytes(&[tok("X1")], "payload", false).is_err());
    }

    #[test]
    fn numbers_are_read_like_keepalived_daemon() {
        use KeepalivedNumber::*;
        assert_eq!(keepalived_number("100", 1, 255, true), Exact(100));
        assert_eq!(keepalived_number("100;", 1, 255, true), Prefix(100));
        assert_eq!(keepalived_number("abc", 0, 10, true), Prefix(0));
        assert_eq!(keepalived_number("abc", 1, 10, true), Rejected);
        assert_eq!(keepalived_number("-5", 0, 10, true), Rejected);
        assert_eq!(keepalived_number("-5", -10, 10, false), Exact(-5));
        assert_eq!(keepalived_number("0x10", 0, 100, true), Prefix(0));
        assert_eq!(keepalived_number("300", 1, 255, true), Rejected);
        assert_eq!(
            keepalived_number("99999999999999999999", 0, 10, true),
            Rejected
        );
        assert_eq!(keepalived_bool("on"), Some(true));
        assert_eq!(keepalived_bool("ON"), None);
    }

    #[test]
    fn enums_are_case_sensitive_with_a_default() {
        let n = Node {
            name: tok("lb_kind"),
            args: vec![tok("dr")],
            block: None,
        };
        let mut w = Vec::new();
        let table = [("NAT", 1), ("DR", 2)];
        assert_eq!(n.kenum(0, &table, (1, "NAT"), &mut w).ok(), Some(1));
        assert_eq!(
            w[0].message,
            "unknown lb_kind 'dr', using NAT (as keepalived does)"
        );
    }

    #[test]
    fn decimals_are_read_like_keepalived_daemon() {
        use KeepalivedNumber::*;
        let max = u64::from(u32::MAX);
        assert_eq!(keepalived_decimal("0.5", 1, max, 6), Exact(500_000));
        assert_eq!(keepalived_decimal("3", 1, max, 6), Exact(3_000_000));
        // keepalived's quirk: the text after the point is glued on first.
        assert_eq!(keepalived_decimal("0.5x", 1, max, 6), Prefix(5));
        assert_eq!(keepalived_decimal("2.5;", 1000, max, 6), Rejected);
        assert_eq!(keepalived_decimal("0.0000015", 1, max, 6), Exact(2));
        assert_eq!(keepalived_decimal("-1", 0, max, 6), Rejected);
    }

    #[test]
    fn booleans_and_scopes() {
        assert_eq!(boolean(&tok("YES"), "k").ok(), Some(true));
        assert_eq!(boolean(&tok("off"), "k").ok(), Some(false));
        assert!(boolean(&tok("2"), "k").is_err());
        assert_eq!(scope(&tok("link"), "k").ok(), Some(Scope::Link));
        assert_eq!(scope(&tok("254"), "k").ok(), Some(Scope::Host));
        assert_eq!(scope(&tok("17"), "k").ok(), Some(Scope::Other(17)));
    }
}
