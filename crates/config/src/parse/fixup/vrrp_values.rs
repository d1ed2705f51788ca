//! How keepalived 2.2.7 *reads* vrrp_instance values, and what it does with
//! a value it cannot use: its number readers (lib/parser.c
//! `read_unsigned_func()`, `read_decimal_unsigned_long_func()`), and the
//! handlers of vrrp/vrrp_parser.c that log a bad value and go on with a
//! default or the previous value. The running daemon (not `-t`) is
//! mirrored: with `ignore_error` a number followed by junk (`1;`) is still
//! used when its leading digits are in range.

use std::net::IpAddr;
use std::time::Duration;

use crate::diag::Diagnostic;
use crate::lexer::Token;
use crate::model::defaults::PRIORITY;
use crate::model::*;
use crate::tree::Node;
use crate::values::PResult;

/// keepalived: lib/parser.c `read_unsigned_func()` (base 10) as the running
/// daemon reads a number: `Some((value, clean))`, `clean` false when junk
/// follows the digits and keepalived used the digits anyway (only with
/// `ignore_error`), `None` when keepalived rejects the value.
pub(crate) fn ka_read_unsigned(
    text: &str,
    min: u64,
    max: u64,
    ignore_error: bool,
) -> Option<(u64, bool)> {
    let s = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits_start) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n_digits = digits_start.bytes().take_while(u8::is_ascii_digit).count();
    let digits = &digits_start[..n_digits];
    // strtoul: no digits = 0 with nothing consumed.
    let consumed_all = if n_digits == 0 {
        s.is_empty()
    } else {
        n_digits == digits_start.len()
    };
    let val: Option<u64> = if n_digits == 0 {
        Some(0)
    } else {
        digits
            .parse::<u64>()
            .ok()
            .filter(|v| *v <= u64::from(u32::MAX))
    };
    // strtoul negates: only "-0" stays in any range.
    let val = match (negative, val) {
        (true, Some(0)) => Some(0),
        (true, _) => None,
        (false, v) => v,
    };
    let in_range = val.filter(|v| (min..=max).contains(v));
    if !negative && consumed_all {
        return in_range.map(|v| (v, true));
    }
    if ignore_error {
        in_range.map(|v| (v, false))
    } else {
        None
    }
}

/// keepalived: lib/parser.c `read_decimal_unsigned_long_func()`: a decimal
/// with up to `shift` places, returned in units of 10^-shift, as the running
/// daemon reads it (see [`ka_read_unsigned`] for the result).
pub(crate) fn ka_read_decimal(
    text: &str,
    min: u64,
    max: u64,
    shift: usize,
    ignore_error: bool,
) -> Option<(u64, bool)> {
    if text.starts_with('-') {
        return None;
    }
    let (int_part, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    let mut round_up = false;
    let mut updated = int_part.to_string();
    if let Some(f) = frac {
        let fb = f.as_bytes();
        if fb.len() > shift {
            round_up = fb[shift] >= b'5';
            updated.push_str(f.get(..shift).unwrap_or(f));
        } else {
            updated.push_str(f);
        }
        let used = fb.len().min(shift);
        updated.extend(std::iter::repeat_n('0', shift - used));
    } else {
        updated.extend(std::iter::repeat_n('0', shift));
    }
    // strtoull on the shifted text.
    let s = updated.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let body = s.strip_prefix('+').unwrap_or(s);
    let n_digits = body.bytes().take_while(u8::is_ascii_digit).count();
    let valid = if n_digits == 0 {
        s.is_empty()
    } else {
        n_digits == body.len()
    };
    let mut val = if n_digits == 0 {
        0
    } else {
        body[..n_digits].parse::<u64>().ok()?
    };
    if round_up {
        val = val.checked_add(1)?;
    }
    let in_range = (min..=max).contains(&val);
    match (valid, in_range) {
        (true, true) => Some((val, true)),
        (false, true) if ignore_error => Some((val, false)),
        _ => None,
    }
}

/// keepalived's TIMER_HZ: its timers count microseconds.
const TIMER_HZ: u64 = 1_000_000;

fn warn_junk(t: &Token, key: &str, used: &str, warnings: &mut Vec<Diagnostic>) {
    warnings.push(t.pos.warning(format!(
        "'{key}': invalid number '{}'; using {used}, the number it starts with (as keepalived does)",
        t.text
    )));
}

/// `state`: only `MASTER` and `BACKUP`, case-sensitive; anything else is
/// BACKUP, and `BACKUP` after `MASTER` is ignored.
/// keepalived: vrrp/vrrp_parser.c `vrrp_state_handler()` ("unknown state
/// '%s', defaulting to BACKUP", "state previously set as MASTER - ignoring
/// BACKUP").
pub(in crate::parse) fn state_value(
    t: &Token,
    v: &mut VrrpInstance,
    state_set: &mut bool,
    warnings: &mut Vec<Diagnostic>,
) {
    match t.text.as_str() {
        "MASTER" => v.state = InitialState::Master,
        "BACKUP" if *state_set && v.state == InitialState::Master => {
            warnings.push(t.pos.warning(
                "'state': state previously set as MASTER - ignoring BACKUP (as keepalived does)",
            ));
        }
        "BACKUP" => v.state = InitialState::Backup,
        other => {
            let how =
                if other.eq_ignore_ascii_case("MASTER") || other.eq_ignore_ascii_case("BACKUP") {
                    "as keepalived does: it matches MASTER and BACKUP case-sensitively"
                } else {
                    "as keepalived does"
                };
            warnings.push(t.pos.warning(format!(
                "'state': unknown state '{other}', defaulting to BACKUP ({how})"
            )));
            v.state = InitialState::Backup;
        }
    }
    *state_set = true;
}

/// `priority`: 1..255, else the default 100 (not "unset": a `state MASTER`
/// then keeps priority 100).
/// keepalived: vrrp/vrrp_parser.c `vrrp_prio_handler()` ("Priority not
/// valid! must be between 1 & 255. Using default 100").
pub(in crate::parse) fn priority_value(t: &Token, warnings: &mut Vec<Diagnostic>) -> u8 {
    match ka_read_unsigned(&t.text, 1, 255, false) {
        Some((p, _)) => u8::try_from(p).unwrap_or(PRIORITY),
        None => {
            warnings.push(t.pos.warning(format!(
                "'priority': '{}' not valid! must be between 1 & 255. Using default {PRIORITY} (as keepalived does)",
                t.text
            )));
            PRIORITY
        }
    }
}

/// `advert_int`: 0.01..255 seconds (microsecond resolution); anything else
/// is ignored (the previous value or the default 1 s stays).
/// keepalived: vrrp/vrrp_parser.c `vrrp_adv_handler()` ("Advert interval
/// (%s) not valid! Must be > 0 - ignoring").
pub(in crate::parse) fn advert_int_value(
    t: &Token,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Duration> {
    match ka_read_decimal(&t.text, TIMER_HZ / 100, 255 * TIMER_HZ, 6, true) {
        Some((us, clean)) => {
            let d = Duration::from_micros(us);
            if !clean {
                warn_junk(t, "advert_int", &format!("{} s", d.as_secs_f64()), warnings);
            }
            Some(d)
        }
        None => {
            warnings.push(t.pos.warning(format!(
                "'advert_int': Advert interval ({}) not valid! (0.01..255 seconds); ignoring it (as keepalived does)",
                t.text
            )));
            None
        }
    }
}

/// `preempt_delay`: 0..1000 seconds, else 0.
/// keepalived: vrrp/vrrp_parser.c `vrrp_preempt_delay_handler()`
/// ("Preempt_delay not valid! must be between 0-1000").
pub(in crate::parse) fn preempt_delay_value(t: &Token, warnings: &mut Vec<Diagnostic>) -> Duration {
    match ka_read_decimal(&t.text, 0, 1000 * TIMER_HZ, 6, true) {
        Some((us, clean)) => {
            let d = Duration::from_micros(us);
            if !clean {
                warn_junk(
                    t,
                    "preempt_delay",
                    &format!("{} s", d.as_secs_f64()),
                    warnings,
                );
            }
            d
        }
        None => {
            warnings.push(t.pos.warning(format!(
                "'preempt_delay': '{}' not valid! must be between 0-1000; using 0 (as keepalived does)",
                t.text
            )));
            Duration::ZERO
        }
    }
}

/// A whole number `min..=max` read as keepalived's handlers read it
/// (`ignore_error` as the handler passes it); `None` (with keepalived's
/// "invalid - ignoring" warning) when keepalived ignores the line.
/// keepalived: vrrp/vrrp_parser.c `vrrp_garp_*_handler()`,
/// `vrrp_down_timer_adverts_handler()`, `vrrp_ttl_handler()`,
/// `vrrp_debug_handler()`. A missing value is an error: keepalived exits
/// ("is missing a parameter", lib/parser.c `null_strvec()`).
pub(in crate::parse) fn unsigned_or_ignored(
    k: &Node,
    min: u64,
    max: u64,
    ignore_error: bool,
    warnings: &mut Vec<Diagnostic>,
) -> PResult<Option<u64>> {
    let t = k.arg(0, &format!("a number {min}..{max}"))?;
    Ok(match ka_read_unsigned(&t.text, min, max, ignore_error) {
        Some((v, clean)) => {
            if !clean {
                warn_junk(t, k.key(), &v.to_string(), warnings);
            }
            Some(v)
        }
        None => {
            warnings.push(t.pos.warning(format!(
                "'{}': '{}' invalid (expected {min}..{max}); ignoring it (as keepalived does)",
                k.key(),
                t.text
            )));
            None
        }
    })
}

/// `auth_type`: only `PASS` and `AH`, case-sensitive; anything else is
/// ignored, which leaves the instance without authentication.
/// keepalived: vrrp/vrrp_parser.c `vrrp_auth_type_handler()` ("unknown
/// authentication type '%s'").
pub(in crate::parse) fn auth_type_value(
    t: &Token,
    warnings: &mut Vec<Diagnostic>,
) -> Option<AuthType> {
    match t.text.as_str() {
        "PASS" => Some(AuthType::Pass),
        "AH" => Some(AuthType::Ah),
        other => {
            warnings.push(t.pos.warning(format!(
                "'auth_type': unknown authentication type '{other}'; ignoring it (as keepalived does: PASS or AH, case-sensitive)"
            )));
            None
        }
    }
}

/// A keepalived boolean: no value is true; `true|on|yes` / `false|off|no`,
/// lower case only; anything else leaves the setting unchanged.
/// keepalived: lib/parser.c `check_true_false()` (`strcmp`), and the
/// handlers of vrrp/vrrp_parser.c ("invalid %s %s specified").
pub(in crate::parse) fn ka_bool(k: &Node, warnings: &mut Vec<Diagnostic>) -> Option<bool> {
    let Some(t) = k.args.first() else {
        return Some(true);
    };
    match t.text.as_str() {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        other => {
            warnings.push(t.pos.warning(format!(
                "'{}': invalid value '{other}' (keepalived reads true|on|yes|false|off|no, lower case); ignoring it (as keepalived does)",
                k.key()
            )));
            None
        }
    }
}

/// A keyword keepalived takes without a value: any value is ignored and
/// the keyword is set (`accept no` is `accept`).
/// keepalived: vrrp/vrrp_parser.c `vrrp_accept_handler()`,
/// `vrrp_dont_track_handler()`, `vrrp_nopreempt_handler()`, ... (their
/// `strvec` is unused).
pub(in crate::parse) fn bare_keyword(k: &Node, warnings: &mut Vec<Diagnostic>) {
    if let Some(t) = k.args.first() {
        warnings.push(t.pos.warning(format!(
            "'{}' takes no value; '{}' ignored and '{}' set (as keepalived does)",
            k.key(),
            t.text,
            k.key()
        )));
    }
}

/// `skip_check_adv_addr [BOOL]`: any valid boolean, `false` included, sets
/// it; an invalid one is ignored.
/// keepalived: vrrp/vrrp_parser.c `vrrp_skip_check_adv_addr_handler()`
/// (`if (res >= 0) __set_bit(...)`).
pub(in crate::parse) fn skip_check_adv_addr_value(
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) -> Option<bool> {
    let v = ka_bool(k, warnings)?;
    if !v {
        warnings.push(k.pos().warning(format!(
            "'skip_check_adv_addr {}' sets skip_check_adv_addr (as keepalived does: it only checks the value is a boolean)",
            k.args.first().map_or("", |t| t.text.as_str())
        )));
    }
    Some(true)
}

/// A second `notify_*` of the same kind is ignored: the first one stays.
/// keepalived: vrrp/vrrp_parser.c `vrrp_notify_*_handler()` ("%s script
/// already specified - ignoring %s").
pub(in crate::parse) fn notify_once(
    slot: &mut Option<Notify>,
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) -> PResult<()> {
    let n = if k.args.len() > 3 && !k.args[0].text.is_empty() {
        notify_extra_words(k, warnings)
    } else {
        k.notify()?
    };
    if slot.is_some() {
        warnings.push(k.pos().warning(format!(
            "{} script already specified - ignoring {} (as keepalived does: the first one is used)",
            k.key(),
            n.command
        )));
    } else {
        *slot = Some(n);
    }
    Ok(())
}

/// `notify_* SCRIPT USER GROUP EXTRA...`: keepalived takes the second and
/// third words as user and group and ignores the rest (and drops the
/// script at startup when that user does not exist).
/// keepalived: lib/notify.c `notify_script_init()`, `set_script_uid_gid()`.
fn notify_extra_words(k: &Node, warnings: &mut Vec<Diagnostic>) -> Notify {
    let w = |i: usize| k.args.get(i).map(|t| t.text.clone()).unwrap_or_default();
    if let Some(t) = k.args.get(3) {
        warnings.push(t.pos.warning(format!(
            "'{}': '{}' is read as the user and '{}' as the group, '{}' and any further words are ignored (as keepalived does); quote the script if it has arguments",
            k.key(),
            w(1),
            w(2),
            t.text
        )));
    }
    Notify {
        command: w(0),
        user: Some(ScriptUser {
            user: w(1),
            group: Some(w(2)),
        }),
    }
}

/// `version 2|3`: another value is ignored, and so is a version that
/// differs from one already set in the block.
/// keepalived: vrrp/vrrp_parser.c `vrrp_version_handler()` ("Version must
/// be either 2 or 3", "vrrp_version %d conflicts with configured or deduced
/// version %d; ignoring.").
pub(in crate::parse) fn version_value(
    k: &Node,
    current: Option<VrrpVersion>,
    warnings: &mut Vec<Diagnostic>,
) -> PResult<Option<VrrpVersion>> {
    let Some(n) = unsigned_or_ignored(k, 2, 3, true, warnings)? else {
        return Ok(None);
    };
    let want = if n == 2 {
        VrrpVersion::V2
    } else {
        VrrpVersion::V3
    };
    if let Some(cur) = current.filter(|c| *c != want) {
        warnings.push(k.pos().warning(format!(
            "vrrp_version {n} conflicts with configured version {}; ignoring (as keepalived does)",
            if cur == VrrpVersion::V2 { 2 } else { 3 }
        )));
        return Ok(None);
    }
    Ok(Some(want))
}

/// `use_vmac [NAME] [MAC]`: the first two words; a word with `:` is the
/// MAC. A bad or second MAC, a bad or second name, or a name another
/// instance uses is ignored (the vmac stays, with the default name/MAC).
/// keepalived: vrrp/vrrp_parser.c `vrrp_vmac_handler()`.
pub(in crate::parse) fn use_vmac_args(
    k: &Node,
    mut name: Option<String>,
    mut mac: Option<[u8; 6]>,
    taken: &[(String, String)],
    warnings: &mut Vec<Diagnostic>,
) -> (Option<String>, Option<[u8; 6]>) {
    let mut ignore = |t: &Token, why: String| {
        warnings.push(
            t.pos
                .warning(format!("'use_vmac': {why} - ignoring (as keepalived does)")),
        )
    };
    for (i, t) in k.args.iter().enumerate() {
        if i >= 2 {
            ignore(t, format!("extra argument '{}'", t.text));
            continue;
        }
        if t.text.contains(':') {
            if mac.is_some() {
                ignore(t, "VMAC interface address already specified".into());
                continue;
            }
            match parse_mac(&t.text) {
                None => ignore(t, format!("VMAC invalid MAC address {}", t.text)),
                Some(m) if m[0] & 1 == 1 => {
                    ignore(t, format!("VMAC MAC address is multicast {}", t.text))
                }
                Some(m) if m[..4] == [0, 0, 0x5e, 0] && matches!(m[4], 1 | 2) => ignore(
                    t,
                    format!(
                        "VMAC MAC address not allowed to be RFC5798 address ({})",
                        t.text
                    ),
                ),
                Some(m) => mac = Some(m),
            }
        } else if name.is_some() {
            ignore(t, "VMAC interface name already specified".into());
        } else if !dev_name_valid(&t.text) {
            ignore(
                t,
                format!(
                    "VMAC interface name '{}' too long or invalid characters",
                    t.text
                ),
            );
        } else if let Some((_, other)) = taken.iter().find(|(n, _)| *n == t.text) {
            ignore(
                t,
                format!("VRRP instance {other} is already using {}", t.text),
            );
        } else {
            name = Some(t.text.clone());
        }
    }
    (name, mac)
}

/// keepalived: vrrp/vrrp_parser.c `dev_name_valid()` (from the kernel).
fn dev_name_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_ascii_whitespace())
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (m, p) in mac.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *m = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

/// `mcast_src_ip` / `unicast_src_ip` / `mcast_dst_ip`: a malformed
/// address is skipped (the line is ignored).
/// keepalived: vrrp/vrrp_parser.c `vrrp_srcip_handler()` ("malformed src
/// address[%s]. Skipping..."), `vrrp_mcast_dstip_handler()`.
pub(in crate::parse) fn instance_address(
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) -> PResult<Option<IpAddr>> {
    let t = k.arg(0, "an IP address")?;
    Ok(match t.text.parse::<IpAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            warnings.push(t.pos.warning(format!(
                "'{}': malformed address [{}]; skipping it (as keepalived does)",
                k.key(),
                t.text
            )));
            None
        }
    })
}

/// `mcast_dst_ip` must be multicast (IPv6: link-local multicast), else it
/// is ignored and the default group is used.
/// keepalived: vrrp/vrrp_parser.c `vrrp_mcast_dstip_handler()` ("mcast_dst_ip
/// %s not%s multicast. Skipping...").
pub(in crate::parse) fn mcast_dst_ip_multicast(
    k: &Node,
    a: IpAddr,
    warnings: &mut Vec<Diagnostic>,
) -> Option<IpAddr> {
    let ok = match a {
        IpAddr::V4(v4) => v4.is_multicast(),
        // IN6_IS_ADDR_MC_LINKLOCAL: ff02::/16 (any flags nibble: ffX2).
        IpAddr::V6(v6) => {
            let s0 = v6.segments()[0];
            s0 >> 8 == 0xff && s0 & 0x000f == 0x2
        }
    };
    if ok {
        return Some(a);
    }
    let pos = k.args.first().map_or(k.pos(), |t| &t.pos);
    warnings.push(pos.warning(format!(
        "'mcast_dst_ip': {a} not{} multicast; skipping it, the default group is used (as keepalived does)",
        if a.is_ipv6() { " link-local" } else { "" }
    )));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_like_strtoul() {
        assert_eq!(ka_read_unsigned("100", 1, 255, false), Some((100, true)));
        assert_eq!(ka_read_unsigned("100;", 1, 255, false), None);
        assert_eq!(ka_read_unsigned("100;", 1, 255, true), Some((100, false)));
        assert_eq!(ka_read_unsigned("0", 1, 255, true), None);
        assert_eq!(ka_read_unsigned("256", 1, 255, true), None);
        assert_eq!(ka_read_unsigned("-1", 0, 255, true), None);
        assert_eq!(ka_read_unsigned("abc", 1, 255, true), None);
        assert_eq!(ka_read_unsigned("abc", 0, 255, true), Some((0, false)));
        assert_eq!(ka_read_unsigned("99999999999", 0, u64::MAX, true), None);
    }

    #[test]
    fn decimal_like_keepalived() {
        let r = |s| ka_read_decimal(s, 10_000, 255_000_000, 6, true);
        assert_eq!(r("1"), Some((1_000_000, true)));
        assert_eq!(r("0.5"), Some((500_000, true)));
        assert_eq!(r("0.01"), Some((10_000, true)));
        assert_eq!(r("1.0000005"), Some((1_000_001, true)));
        // "1;" reads as 1 µs (the shift is appended after the junk).
        assert_eq!(r("1;"), None);
        assert_eq!(r("12345x"), Some((12_345, false)));
        assert_eq!(r("300"), None);
        assert_eq!(r("abc"), None);
        assert_eq!(r("0.001"), None);
        assert_eq!(r("-1"), None);
    }
}
