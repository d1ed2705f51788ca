//! Diagnostics (`file:line:col: message`) and the load error type.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    Error,
    Warning,
}

/// One message about the configuration, pointing at a source position.
/// `line`/`col` are 1-based; 0 means "the whole file" (e.g. unreadable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: u32,
    pub col: u32,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

/// A source position. Files are shared (`Arc`) because every token has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    pub file: Arc<PathBuf>,
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub fn error(&self, message: impl Into<String>) -> Diagnostic {
        self.diag(Severity::Error, message)
    }
    pub fn warning(&self, message: impl Into<String>) -> Diagnostic {
        self.diag(Severity::Warning, message)
    }
    fn diag(&self, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: (*self.file).clone(),
            line: self.line,
            col: self.col,
            severity,
            message: message.into(),
        }
    }
}

/// Most errors, and separately most warnings, one load reports: a garbage
/// file yields thousands (one per line), which would flood `-t`, the log
/// and every `/status` answer. keepalived prints them all; we keep the
/// first [`MAX_DIAGNOSTICS`] and one last line "... and N more ...".
pub const MAX_DIAGNOSTICS: usize = 100;

/// Keep the first [`MAX_DIAGNOSTICS`] of `diags` (already in report order)
/// and replace the rest by one diagnostic at the first dropped one's
/// position: "and N more errors not shown" (`what` = "errors"/"warnings").
pub fn cap_diagnostics(diags: &mut Vec<Diagnostic>, what: &str) {
    if diags.len() <= MAX_DIAGNOSTICS {
        return;
    }
    let more = diags.len() - MAX_DIAGNOSTICS;
    let first_dropped = diags.swap_remove(MAX_DIAGNOSTICS);
    diags.truncate(MAX_DIAGNOSTICS);
    diags.shrink_to_fit();
    diags.push(Diagnostic {
        message: format!("... and {more} more {what} not shown (first {MAX_DIAGNOSTICS} reported)"),
        ..first_dropped
    });
}

/// Why a configuration could not be loaded. Every variant carries at least
/// one error diagnostic (all errors found, not just the first).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    /// Reading files: missing/unreadable file or include, include loops,
    /// unterminated quotes, runaway parameter expansion.
    #[error("{}", join(.0))]
    Read(Vec<Diagnostic>),
    /// Structure and values: braces, missing arguments, bad numbers/addresses,
    /// unknown enum values, out-of-range values.
    #[error("{}", join(.0))]
    Syntax(Vec<Diagnostic>),
    /// Cross-object consistency: duplicates, dangling references.
    #[error("{}", join(.0))]
    Semantic(Vec<Diagnostic>),
}

impl ConfigError {
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ConfigError::Read(d) | ConfigError::Syntax(d) | ConfigError::Semantic(d) => d,
        }
    }
}

fn join(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
