//! The C formatting keepalived's dumps use.

use std::time::{SystemTime, UNIX_EPOCH};

/// printf's `%g` (precision 6): the shortest of `%e`/`%f` with trailing
/// zeros removed, as keepalived's `jsonw_float` and `%g` lines print it.
pub fn g(x: f64) -> String {
    g_prec(x, 6)
}

/// printf's `%.{p}g`.
pub fn g_prec(x: f64, p: usize) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let p = p.max(1);
    let sci = format!("{:.*e}", p - 1, x);
    let Some((mant, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        format!(
            "{}e{}{:02}",
            strip_zeros(mant),
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        )
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{x:.decimals$}"))
    }
}

fn strip_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// printf's `%f`.
pub fn f(x: f64) -> String {
    format!("{x:.6}")
}

/// Seconds and microseconds since the epoch (a `struct timeval`).
pub fn timeval(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(e) => (-(e.duration().as_secs() as i64), 0),
    }
}

/// keepalived's `ctime_us_r()`: `ctime_r()` with `.uuuuuu` after the
/// seconds and without the newline: `Sun Dec  6 08:56:12.033070 2026`.
/// Printed in UTC (keepalived uses the local time zone; servers mostly run
/// in UTC, and the dump's epoch value next to it is exact either way).
pub fn ctime_us(t: SystemTime) -> String {
    let (secs, usecs) = timeval(t);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    const WDAY: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let wday = WDAY[(days + 4).rem_euclid(7) as usize];
    let mon = MON[(m as usize).saturating_sub(1).min(11)];
    format!(
        "{wday} {mon} {d:2} {:02}:{:02}:{:02}.{usecs:06} {y}",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31) (H. Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn percent_g_like_c() {
        for (x, want) in [
            (5.0, "5"),
            (1.0, "1"),
            (0.5, "0.5"),
            (0.01, "0.01"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (2.25, "2.25"),
            (0.0, "0"),
        ] {
            assert_eq!(g(x), want, "{x}");
        }
    }

    #[test]
    fn ctime_with_microseconds() {
        let t = UNIX_EPOCH + Duration::new(1_796_547_372, 33_070_000);
        assert_eq!(ctime_us(t), "Sun Dec  6 08:56:12.033070 2026");
        assert_eq!(
            ctime_us(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "Tue Feb 29 00:00:00.000000 2000"
        );
    }
}
