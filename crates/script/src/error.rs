use std::path::PathBuf;

/// A script string that cannot be split into an argv.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandLineError {
    #[error("empty script command line")]
    Empty,
    #[error("unterminated {quote} quote in script command line")]
    UnterminatedQuote { quote: char },
    #[error("trailing backslash in script command line")]
    TrailingBackslash,
    #[error("NUL byte in script command line")]
    NulByte,
}

/// Everything that can go wrong preparing or running a script.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error(transparent)]
    CommandLine(#[from] CommandLineError),
    #[error("unknown user '{0}'")]
    UnknownUser(String),
    #[error("unknown group '{0}'")]
    UnknownGroup(String),
    #[error("user database lookup failed for '{name}': {source}")]
    UserLookup { name: String, source: nix::Error },
    #[error("script '{0}' not found (not an absolute path and not in PATH, or not accessible)")]
    NotFound(String),
    #[error("script '{path}' is not executable by uid {uid} gid {gid}")]
    NotExecutable { path: PathBuf, uid: u32, gid: u32 },
    #[error("script '{script}' refused by enable_script_security: '{component}' is writable by a non-root user")]
    Insecure { script: String, component: PathBuf },
    #[error("cannot stat '{path}': {source}")]
    Stat {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot spawn '{program}': {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("waiting for '{program}' failed: {source}")]
    Wait {
        program: String,
        source: std::io::Error,
    },
}
