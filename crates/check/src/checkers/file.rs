//! FILE_CHECK (keepalived check_file.c, trackers/track_file.c): the real
//! server follows the integer written in a tracked file, the usual way to
//! drain a server for maintenance (`echo 1 > /run/drain-web1`).
//!
//! keepalived reads the file (`process_track_file`: at most 127 bytes,
//! `strtol(buf, NULL, 0)`; a missing or empty file reads as 0; a value
//! outside 32 bits is logged "Invalid number ... - ignoring" and the
//! previous value kept) and applies, per tracking real server
//! (`update_track_file_status`):
//! * `weight 0`: a non-zero value is a fault (with `reverse`, zero is);
//! * otherwise status = value x weight (x -1 with `reverse`), clamped to
//!   32 bits; `INT_MIN` is a fault, anything else moves the real server's
//!   weight by status (`process_update_checker_track_file_status`).
//!
//! **Difference**: keepalived is woken by inotify; here the file is read
//! every second (the checker's delay_loop is at most 1 s), so a change is
//! applied within a second.

use std::sync::Mutex;

use super::{BoxFuture, CheckOutcome, Checker};
use crate::error::CheckFailure;
use crate::spec::FileSpec;

pub struct FileChecker {
    pub spec: FileSpec,
    /// Last valid value read (keepalived `tfile->last_status`).
    last: Mutex<i64>,
}

impl FileChecker {
    pub fn new(spec: FileSpec) -> Self {
        Self {
            spec,
            last: Mutex::new(0),
        }
    }
}

/// keepalived's `strtol(buf, NULL, 0)` on the first 127 bytes: optional
/// leading white space and sign, then `0x` hex, `0` octal or decimal,
/// stopping at the first other character; nothing parsable reads as 0.
/// `None` when the value overflows `long` (errno ERANGE) or leaves
/// [INT32_MIN, INT32_MAX + 1] (keepalived's range check).
pub fn parse_value(data: &[u8]) -> Option<i64> {
    let data = &data[..data.len().min(127)];
    let mut i = 0;
    while i < data.len() && (data[i] == b' ' || (b'\t'..=b'\r').contains(&data[i])) {
        i += 1;
    }
    let mut negative = false;
    if i < data.len() && (data[i] == b'+' || data[i] == b'-') {
        negative = data[i] == b'-';
        i += 1;
    }
    let rest = &data[i..];
    let (radix, digits) = if rest.len() > 2
        && rest[0] == b'0'
        && (rest[1] | 0x20) == b'x'
        && rest[2].is_ascii_hexdigit()
    {
        (16, &rest[2..])
    } else if rest.first() == Some(&b'0') {
        (8, rest)
    } else {
        (10, rest)
    };
    let mut value: i128 = 0;
    for &b in digits {
        let d = match (b as char).to_digit(radix) {
            Some(d) => d,
            None => break,
        };
        value = value * i128::from(radix) + i128::from(d);
        if value > i128::from(i64::MAX) + 1 {
            return None; // strtol: ERANGE
        }
    }
    let value = if negative { -value } else { value };
    let value = i64::try_from(value).ok()?;
    (i64::from(i32::MIN)..=i64::from(i32::MAX) + 1)
        .contains(&value)
        .then_some(value)
}

/// The checker's verdict for `value` (keepalived `update_track_file_status`
/// and `process_update_checker_track_file_status`).
pub fn outcome(spec: &FileSpec, value: i64, path: &str) -> CheckOutcome {
    if spec.weight == 0 {
        let fault = (value != 0) != spec.reverse;
        return if fault {
            CheckOutcome::Down(CheckFailure::TrackFile {
                path: path.to_string(),
                value,
            })
        } else {
            CheckOutcome::Up
        };
    }
    let multiplier = if spec.reverse { -1 } else { 1 };
    let status = (i128::from(value) * i128::from(spec.weight) * multiplier)
        .clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i64;
    if status == i64::from(i32::MIN) {
        return CheckOutcome::Down(CheckFailure::TrackFile {
            path: path.to_string(),
            value,
        });
    }
    // keepalived real_weight(): the effective weight stays in [0, INT32_MAX].
    let weight = (i64::from(spec.base_weight) + status).clamp(0, i64::from(i32::MAX)) as i32;
    // Also at status 0: a value going back to 0 restores the configured weight.
    CheckOutcome::UpWithWeight(weight)
}

impl Checker for FileChecker {
    fn kind(&self) -> &'static str {
        "FILE_CHECK"
    }

    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async move {
            let path = self.spec.path.display().to_string();
            // keepalived opens O_NONBLOCK and reads once: a FIFO or a
            // device must not block the checker either.
            let read = tokio::task::spawn_blocking({
                let p = self.spec.path.clone();
                move || read_head(&p)
            })
            .await
            .unwrap_or(None);
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            match read {
                // Missing, unreadable or empty file: 0 (keepalived).
                None => *last = 0,
                Some(bytes) if bytes.is_empty() => *last = 0,
                Some(bytes) => match parse_value(&bytes) {
                    Some(v) => *last = v,
                    None => tracing::info!("Invalid number read from {path} - ignoring"),
                },
            }
            let value = *last;
            drop(last);
            outcome(&self.spec, value, &path)
        })
    }
}

/// Up to 127 bytes of the file, `None` when it cannot be opened or read.
fn read_head(path: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let mut buf = [0u8; 127];
    let n = f.read(&mut buf).ok()?;
    Some(buf[..n].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(weight: i32, reverse: bool) -> FileSpec {
        FileSpec {
            path: "/nonexistent".into(),
            weight,
            reverse,
            base_weight: 10,
        }
    }

    #[test]
    fn strtol_like_parsing() {
        assert_eq!(parse_value(b"1\n"), Some(1));
        assert_eq!(parse_value(b"  -5 trailing"), Some(-5));
        assert_eq!(parse_value(b"0x10"), Some(16));
        assert_eq!(parse_value(b"010"), Some(8));
        assert_eq!(parse_value(b"abc"), Some(0));
        assert_eq!(parse_value(b""), Some(0));
        assert_eq!(parse_value(b"2147483648"), Some(2147483648));
        assert_eq!(parse_value(b"2147483649"), None);
        assert_eq!(parse_value(b"-2147483649"), None);
        assert_eq!(parse_value(b"99999999999999999999999"), None);
    }

    #[test]
    fn weight_zero_is_up_down() {
        assert!(outcome(&spec(0, false), 0, "f").is_up());
        assert!(!outcome(&spec(0, false), 1, "f").is_up());
        assert!(!outcome(&spec(0, false), -3, "f").is_up());
        assert!(!outcome(&spec(0, true), 0, "f").is_up());
        assert!(outcome(&spec(0, true), 7, "f").is_up());
    }

    #[test]
    fn weighted_moves_the_weight_and_int_min_is_a_fault() {
        match outcome(&spec(-5, false), 1, "f") {
            CheckOutcome::UpWithWeight(w) => assert_eq!(w, 5),
            o => panic!("{o:?}"),
        }
        match outcome(&spec(5, true), 3, "f") {
            CheckOutcome::UpWithWeight(w) => assert_eq!(w, 0),
            o => panic!("{o:?}"),
        }
        // value x weight at or below INT_MIN is FAULT (keepalived IPVS_WEIGHT_FAULT).
        assert!(!outcome(&spec(i32::MAX, false), -2, "f").is_up());
        assert!(outcome(&spec(1, false), 0, "f").is_up());
    }
}
