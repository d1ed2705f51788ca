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

/// Everything that can go wrong preparing or running a script. The texts of
/// the refusals follow keepalived 2.2.7's log lines (lib/notify.c).
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error(transparent)]
    CommandLine(#[from] CommandLineError),
    /// keepalived `set_uid_gid()`: "Script user '%s' does not exist".
    #[error("Script user '{0}' does not exist")]
    UnknownUser(String),
    #[error("Script group '{0}' does not exist")]
    UnknownGroup(String),
    #[error("Unable to resolve script username '{name}': {source}")]
    UserLookup { name: String, source: nix::Error },
    /// No `user` on the script and no usable default user: `script_user`
    /// names an unknown user/group, or `enable_script_security` is set and
    /// `keepalived_script` does not exist (keepalived
    /// `get_default_script_user()`). Such a script never runs (never as root).
    #[error("no default script user: {0}")]
    NoDefaultUser(String),
    /// Bare name not found by the PATH search.
    #[error("Cannot find script {0} in path - disabling")]
    NotFound(String),
    /// `realpath()` failed (missing file, dangling symlink, loop).
    #[error("Script {path} cannot be accessed - {source}")]
    Inaccessible {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("WARNING - script '{path}' is not executable for uid:gid {uid}:{gid} - disabling.")]
    NotExecutable { path: PathBuf, uid: u32, gid: u32 },
    /// A component of the configured or the resolved path is not a
    /// directory (or, last, not a file or symlink).
    #[error("Wrong file type found in script path '{script}' ('{component}')")]
    WrongFileType { script: String, component: PathBuf },
    /// `enable_script_security` refused the script: `component` (of the
    /// configured or of the resolved path) is not owned by root or is
    /// writable by a non-root user.
    #[error("Unsafe permissions found for script '{script}' - disabling ('{component}' is not owned by root or is writable by a non-root user)")]
    Insecure { script: String, component: PathBuf },
    #[error("check_script_secure could not find script '{path}' - disabling ({source})")]
    Stat {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The daemon is not root and the script asked for another user: it is
    /// not run as the daemon's user instead.
    #[error("cannot run '{program}' as uid:gid {uid}:{gid} without root privileges")]
    CannotSwitchUser { program: String, uid: u32, gid: u32 },
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

/// Why a script was refused, grouped the way keepalived words its
/// "Disabling ..." lines (`SC_INHIBIT`, `SC_NOTFOUND`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The command line cannot be split.
    CommandLine,
    /// The script's own `user USER [GROUP]` cannot be resolved.
    User,
    /// No `user` and no usable default user.
    DefaultUser,
    /// Not found / not accessible (`SC_NOTFOUND`).
    NotFound,
    /// Not executable by its user.
    NotExecutable,
    /// Insecure path or wrong file type (`SC_INHIBIT`).
    Insecure,
    /// Could not be started (run time only).
    Run,
}

impl ScriptError {
    /// keepalived's class of this refusal.
    pub fn refusal(&self) -> Refusal {
        match self {
            ScriptError::CommandLine(_) => Refusal::CommandLine,
            ScriptError::UnknownUser(_)
            | ScriptError::UnknownGroup(_)
            | ScriptError::UserLookup { .. } => Refusal::User,
            ScriptError::NoDefaultUser(_) => Refusal::DefaultUser,
            ScriptError::NotFound(_)
            | ScriptError::Inaccessible { .. }
            | ScriptError::Stat { .. } => Refusal::NotFound,
            ScriptError::NotExecutable { .. } => Refusal::NotExecutable,
            ScriptError::WrongFileType { .. } | ScriptError::Insecure { .. } => Refusal::Insecure,
            ScriptError::CannotSwitchUser { .. }
            | ScriptError::Spawn { .. }
            | ScriptError::Wait { .. } => Refusal::Run,
        }
    }
}
