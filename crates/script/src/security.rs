//! `enable_script_security`: keepalived's `check_script_secure()` (lib/notify.c).
//!
//! A script that runs as root (uid or gid 0, or a setuid/setgid-root file)
//! is insecure when the file or any directory on its path is owned by a
//! non-root user, or is group-writable by a non-root group, or is
//! world-writable (directories with the sticky bit are exempt from the
//! write-bit rules, files are not).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::ScriptError;
use crate::runner::DEFAULT_PATH;
use crate::user::RunAs;
use crate::Script;

const S_ISUID: u32 = 0o4000;
const S_ISGID: u32 = 0o2000;
const S_ISVTX: u32 = 0o1000;
const S_IWGRP: u32 = 0o020;
const S_IWOTH: u32 = 0o002;

/// Global script policy from `global_defs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSecurity {
    /// `enable_script_security`: refuse insecure scripts instead of warning.
    pub enable_script_security: bool,
    /// `script_user` (or keepalived's default, see [`RunAs::default_script_user`]).
    pub default_user: RunAs,
}

impl ScriptSecurity {
    /// Policy from `global_defs`: `script_user` if given, else keepalived's default user.
    pub fn new(enable_script_security: bool, script_user: Option<RunAs>) -> Self {
        Self {
            enable_script_security,
            default_user: script_user.unwrap_or_else(RunAs::default_script_user),
        }
    }

    /// Who runs `script`.
    pub fn run_as<'a>(&'a self, script: &'a Script) -> &'a RunAs {
        script.user.as_ref().unwrap_or(&self.default_user)
    }
}

impl Default for ScriptSecurity {
    fn default() -> Self {
        Self::new(false, None)
    }
}

/// Result of a successful security check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityVerdict {
    /// Absolute (or as configured) path of the program after PATH search.
    pub resolved_program: PathBuf,
    /// The first insecure path component, when security is not enforced
    /// (the script will still run; keepalived logs a warning).
    pub insecure_component: Option<PathBuf>,
}

/// Check a script at config-load time (keepalived does it once per script
/// after parsing). Errors: not found, not executable by its user, or
/// insecure while `enable_script_security` is set.
pub fn check_security(
    script: &Script,
    security: &ScriptSecurity,
) -> Result<SecurityVerdict, ScriptError> {
    let run_as = security.run_as(script);
    let program = script.program();
    let resolved = resolve_program(program, run_as)?;
    let meta = std::fs::metadata(&resolved).map_err(|source| ScriptError::Stat {
        path: resolved.clone(),
        source,
    })?;
    if !meta.is_file() || !is_executable(&meta, run_as) {
        return Err(ScriptError::NotExecutable {
            path: resolved,
            uid: run_as.uid,
            gid: run_as.gid,
        });
    }
    let mode = meta.permissions().mode();
    let runs_with_root_rights = run_as.is_root()
        || (meta.uid() == 0 && mode & 0o100 != 0 && mode & S_ISUID != 0)
        || (meta.gid() == 0 && mode & 0o010 != 0 && mode & S_ISGID != 0);
    let mut verdict = SecurityVerdict {
        resolved_program: resolved.clone(),
        insecure_component: None,
    };
    if !runs_with_root_rights {
        return Ok(verdict);
    }
    for component in path_prefixes(&resolved) {
        let meta = std::fs::metadata(&component).map_err(|source| ScriptError::Stat {
            path: component.clone(),
            source,
        })?;
        if is_insecure(&meta) {
            if security.enable_script_security {
                return Err(ScriptError::Insecure {
                    script: script.to_string(),
                    component,
                });
            }
            tracing::warn!(script = %script, component = %component.display(), "unsafe permissions found for script");
            verdict.insecure_component = Some(component);
            break;
        }
    }
    Ok(verdict)
}

fn is_insecure(meta: &std::fs::Metadata) -> bool {
    let mode = meta.permissions().mode();
    let sticky_dir = mode & S_ISVTX != 0 && !meta.is_file();
    meta.uid() != 0
        || (!sticky_dir && ((meta.gid() != 0 && mode & S_IWGRP != 0) || mode & S_IWOTH != 0))
}

/// keepalived's `is_executable()`: root may run anything with any x bit.
fn is_executable(meta: &std::fs::Metadata, run_as: &RunAs) -> bool {
    let mode = meta.permissions().mode();
    (run_as.uid == 0 && mode & 0o111 != 0)
        || (run_as.uid == meta.uid() && mode & 0o100 != 0)
        || (run_as.uid != meta.uid()
            && ((run_as.gid == meta.gid() && mode & 0o010 != 0)
                || (run_as.gid != meta.gid() && mode & 0o001 != 0)))
}

/// `/`, `/a`, `/a/b`, ... `/a/b/script` (relative paths start at their first component).
fn path_prefixes(path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut acc = PathBuf::new();
    for c in path.components() {
        acc.push(c);
        out.push(acc.clone());
    }
    out
}

/// A bare program name is searched in [`DEFAULT_PATH`] (the environment
/// scripts get); keepalived warns to use a full path.
pub(crate) fn resolve_program(program: &str, run_as: &RunAs) -> Result<PathBuf, ScriptError> {
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    for dir in DEFAULT_PATH.split(':') {
        let candidate = Path::new(dir).join(program);
        if let Ok(meta) = std::fs::metadata(&candidate) {
            if meta.is_file() && is_executable(&meta, run_as) {
                tracing::info!("script '{program}' resolved by path search to '{}'; please specify the full path", candidate.display());
                return Ok(candidate);
            }
        }
    }
    Err(ScriptError::NotFound(program.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rkc-sec-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        d
    }

    fn write_script(path: &Path, mode: u32) {
        std::fs::write(path, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn root_policy(enforce: bool) -> ScriptSecurity {
        ScriptSecurity {
            enable_script_security: enforce,
            default_user: RunAs::root(),
        }
    }

    #[test]
    fn bare_names_are_searched_in_path() {
        let s = Script::parse("true").unwrap();
        let v = check_security(&s, &root_policy(true)).unwrap();
        assert!(v.resolved_program.ends_with("true"));
        assert!(matches!(
            check_security(
                &Script::parse("no-such-prog-rkc").unwrap(),
                &root_policy(true)
            ),
            Err(ScriptError::NotFound(_))
        ));
    }

    #[test]
    fn world_writable_script_is_refused_when_enforced() {
        if !nix::unistd::geteuid().is_root() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run this test as root"
            );
            eprintln!("skipping: needs root to create root-owned files");
            return;
        }
        let d = temp_dir("ww");
        let p = d.join("check.sh");
        write_script(&p, 0o777);
        let s = Script::parse(&format!("{} arg", p.display())).unwrap();
        match check_security(&s, &root_policy(true)) {
            Err(ScriptError::Insecure { component, .. }) => assert_eq!(component, p),
            other => panic!("expected Insecure, got {other:?}"),
        }
        // Not enforced: allowed with a warning.
        let v = check_security(&s, &root_policy(false)).unwrap();
        assert_eq!(v.insecure_component, Some(p.clone()));
        // Safe file in a world-writable directory (no sticky bit): refused for the directory.
        write_script(&p, 0o755);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        match check_security(&s, &root_policy(true)) {
            Err(ScriptError::Insecure { component, .. }) => assert_eq!(component, d),
            other => panic!("expected Insecure dir, got {other:?}"),
        }
        // Sticky world-writable directory (like /tmp) is fine.
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(check_security(&s, &root_policy(true)).is_ok());
        // Owned by a non-root user: refused.
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        nix::unistd::chown(&p, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        assert!(matches!(
            check_security(&s, &root_policy(true)),
            Err(ScriptError::Insecure { .. })
        ));
        // ... but fine when the script runs as that unprivileged user.
        let nobody = Script::parse(&p.display().to_string())
            .unwrap()
            .with_user(RunAs {
                name: "nobody".into(),
                uid: 65534,
                gid: 65534,
            });
        assert!(check_security(&nobody, &root_policy(true)).is_ok());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn non_executable_is_an_error() {
        let d = temp_dir("nx");
        let p = d.join("check.sh");
        write_script(&p, 0o644);
        let s = Script::parse(&p.display().to_string()).unwrap();
        assert!(matches!(
            check_security(&s, &root_policy(true)),
            Err(ScriptError::NotExecutable { .. })
        ));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
