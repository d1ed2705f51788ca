//! Reading configuration files without ever blocking or growing without
//! bound.
//!
//! keepalived reads only regular, non-executable files: lib/parser.c
//! `check_glob_file` stats every file (including a literal include, which
//! goes through `glob()` too) and skips anything else with "Configuration
//! file '%s' is not a regular non-executable file - skipping". It checks
//! with `stat()` before `fopen()`, so a FIFO swapped in between still
//! blocks it; here the file is opened with `O_NONBLOCK` first (a FIFO
//! without a writer then opens at once instead of waiting for one) and
//! the check runs on the open descriptor (`fstat`), so what is checked is
//! what is read.
//!
//! keepalived has no bound on what it reads (`include /dev/zero` is skipped,
//! but a huge regular file is read whole); we read at most
//! [`MAX_CONFIG_BYTES`] over all files of one load.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::rc::Rc;

/// Most bytes read over the main file and all its includes in one load.
/// The largest real configurations (10,000 real servers) are a few MiB.
pub const MAX_CONFIG_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read {path}: {err}")]
    Io { path: String, err: std::io::Error },
    /// keepalived's wording (lib/parser.c `check_glob_file`).
    #[error("Configuration file '{path}' is not a regular non-executable file - skipping")]
    NotRegular { path: String },
    #[error(
        "configuration larger than {} MiB in total; {path} not read",
        MAX_CONFIG_BYTES / (1024 * 1024)
    )]
    TooLarge { path: String },
}

/// Open `path` if it is a regular, non-executable file of at most `budget`
/// bytes, for reading with [`Lines`]. Never blocks on a FIFO or device.
pub fn open_regular(path: &Path, budget: &Rc<Cell<u64>>) -> Result<Lines, SourceError> {
    let (file, _) = open_checked(path, budget.get())?;
    Ok(Lines {
        reader: BufReader::with_capacity(64 * 1024, file),
        path: path.display().to_string(),
        budget: budget.clone(),
        buf: Vec::new(),
        error: None,
    })
}

/// The lines of a file opened by [`open_regular`], as `str::lines` splits
/// text (no `\n`, no `\r` before it; invalid UTF-8 replaced as
/// `String::from_utf8_lossy` does). Stops at the end of the file, at a read
/// error, or once more than the budget has been read (even if the file
/// grows while being read); [`Lines::error`] then says why.
pub struct Lines {
    reader: BufReader<File>,
    path: String,
    /// Bytes still allowed over all files of the load (shared with the
    /// lines of the including files).
    budget: Rc<Cell<u64>>,
    buf: Vec<u8>,
    error: Option<SourceError>,
}

impl Lines {
    /// Why reading stopped before the end of the file.
    pub fn error(&mut self) -> Option<SourceError> {
        self.error.take()
    }
}

impl Iterator for Lines {
    type Item = std::borrow::Cow<'static, str>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.error.is_some() {
            return None;
        }
        self.buf.clear();
        let budget = self.budget.get();
        let limit = budget.saturating_add(1);
        let n = match (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.buf)
        {
            Ok(n) => n,
            Err(err) => {
                self.error = Some(SourceError::Io {
                    path: self.path.clone(),
                    err,
                });
                return None;
            }
        };
        if n == 0 {
            return None;
        }
        if n as u64 > budget {
            self.error = Some(SourceError::TooLarge {
                path: self.path.clone(),
            });
            return None;
        }
        self.budget.set(budget - n as u64);
        let mut line = &self.buf[..];
        if let Some(l) = line.strip_suffix(b"\n") {
            line = l.strip_suffix(b"\r").unwrap_or(l);
        }
        // Valid UTF-8 (the usual case) is checked by the faster validator
        // and copied once.
        let line = match std::str::from_utf8(line) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(line).into_owned(),
        };
        Some(std::borrow::Cow::Owned(line))
    }
}

/// Read `path` whole (the re-parse cache keeps a file's bytes to find what
/// changed, reparse.rs), with [`open_regular`]'s checks and errors, taking
/// its size from `budget`. Ok(None) if it could not be read whole within
/// the budget (a read error, or it grew past the budget while being read):
/// the caller reads it again with [`open_regular`], which stops where
/// keepalived would and says why.
pub fn read_whole(path: &Path, budget: &Rc<Cell<u64>>) -> Result<Option<Vec<u8>>, SourceError> {
    let left = budget.get();
    let (file, size) = open_checked(path, left)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    if read_at_most(file, left, &mut bytes).is_err() || bytes.len() as u64 > left {
        return Ok(None);
    }
    budget.set(left - bytes.len() as u64);
    Ok(Some(bytes))
}

/// The lines of bytes read whole, exactly as [`Lines`] gives them, with
/// where each starts (a line of valid UTF-8 is borrowed, not copied).
pub struct ByteLines<'b> {
    bytes: &'b [u8],
    pos: usize,
    last_start: usize,
}

impl<'b> ByteLines<'b> {
    pub fn new(bytes: &'b [u8]) -> Self {
        ByteLines {
            bytes,
            pos: 0,
            last_start: 0,
        }
    }

    /// Where the line last returned starts.
    pub fn last_start(&self) -> usize {
        self.last_start
    }

    /// Where the next line starts.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Go on from `pos`, the start of a line (or the end).
    pub fn jump(&mut self, pos: usize) {
        self.pos = pos.min(self.bytes.len());
    }
}

impl<'b> Iterator for ByteLines<'b> {
    type Item = std::borrow::Cow<'b, str>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.bytes.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        self.last_start = self.pos;
        let (mut line, n) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos += n;
        if n > line.len() {
            line = line.strip_suffix(b"\r").unwrap_or(line);
        }
        Some(match std::str::from_utf8(line) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(line),
        })
    }
}

/// Opens and checks `path` (see [`open_regular`]); also returns its size.
fn open_checked(path: &Path, budget: u64) -> Result<(File, u64), SourceError> {
    let shown = || path.display().to_string();
    let io = |err| SourceError::Io { path: shown(), err };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.file_type().is_file() || meta.permissions().mode() & 0o111 != 0 {
        return Err(SourceError::NotRegular { path: shown() });
    }
    if meta.size() > budget {
        return Err(SourceError::TooLarge { path: shown() });
    }
    Ok((file, meta.size()))
}

/// Read `path` if it is a regular, non-executable file of at most `budget`
/// bytes. Never blocks on a FIFO or device and never reads more than
/// `budget` (+1) bytes, even if the file grows while being read.
#[cfg(test)]
pub fn read_regular(path: &Path, budget: u64) -> Result<Vec<u8>, SourceError> {
    let shown = || path.display().to_string();
    let io = |err| SourceError::Io { path: shown(), err };
    let (file, size) = open_checked(path, budget)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    read_at_most(file, budget, &mut bytes).map_err(io)?;
    if bytes.len() as u64 > budget {
        return Err(SourceError::TooLarge { path: shown() });
    }
    Ok(bytes)
}

/// Reads at most `budget` + 1 bytes of `file` into `out` (one more than
/// allowed, so that a file that grew past the budget is seen to).
fn read_at_most(file: File, budget: u64, out: &mut Vec<u8>) -> std::io::Result<()> {
    file.take(budget.saturating_add(1)).read_to_end(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_not_read() {
        for p in ["/dev/zero", "/dev/null", "/"] {
            assert!(
                matches!(
                    read_regular(Path::new(p), MAX_CONFIG_BYTES),
                    Err(SourceError::NotRegular { .. })
                ),
                "{p}"
            );
        }
    }
}
