//! `enable_script_security`: keepalived's `check_script_secure()` and
//! `check_security()` (lib/notify.c), plus [`prepare`], the one entry point
//! every script the daemon runs goes through.
//!
//! A script that runs with root rights (uid or gid 0, or a setuid/setgid-root
//! file) is insecure when any component of its path, looked at with
//! `lstat` (symlinks are not followed), is owned by a non-root user, or is a
//! regular file or a directory without the sticky bit that is group-writable
//! by a non-root group or world-writable. Both the configured path and the
//! resolved (canonical) path are checked, so a root-owned symlink into a
//! world-writable directory does not hide it. The script is then run by its
//! resolved path (keepalived `replace_cmd_name()`), never through the
//! symlinks again.

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
    /// `script_user`, else keepalived's default (see
    /// [`RunAs::default_script_user`]). `None`: there is no usable default
    /// user, and scripts without their own `user` are refused.
    pub default_user: Option<RunAs>,
}

impl ScriptSecurity {
    /// Policy from `global_defs`: `script_user` if given, else keepalived's
    /// default user (`keepalived_script`; the daemon's user without
    /// `enable_script_security`; none with it).
    pub fn new(enable_script_security: bool, script_user: Option<RunAs>) -> Self {
        let default_user = match script_user {
            Some(u) => Some(u),
            None => match RunAs::default_script_user(enable_script_security) {
                Ok(u) => Some(u),
                Err(e) => {
                    tracing::warn!("{e}");
                    None
                }
            },
        };
        Self {
            enable_script_security,
            default_user,
        }
    }

    /// Scripts run as root by default (tests, tools).
    pub fn root(enable_script_security: bool) -> Self {
        Self {
            enable_script_security,
            default_user: Some(RunAs::root()),
        }
    }

    /// Who runs `script`: its own user, else the default user. Never falls
    /// back to root.
    pub fn run_as<'a>(&'a self, script: &'a Script) -> Result<&'a RunAs, ScriptError> {
        match (&script.user, &self.default_user) {
            (Some(u), _) | (None, Some(u)) => Ok(u),
            (None, None) => Err(ScriptError::NoDefaultUser(
                "script_user cannot be resolved, or keepalived_script does not exist while enable_script_security is set".into(),
            )),
        }
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
    /// What to execute: the resolved path, keeping the configured file name
    /// when it names the same file in the resolved directory (keepalived
    /// `check_script_secure()`, "some executables alter their behaviour
    /// based on what they are called").
    pub resolved_program: PathBuf,
    /// The first insecure path component, when security is not enforced
    /// (the script will still run; keepalived logs "Unsafe permissions found
    /// for script").
    pub insecure_component: Option<PathBuf>,
}

/// A script that passed [`prepare`]: ready to hand to the runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// `argv[0]` is the resolved path; `user` is always set (resolved).
    pub script: Script,
    /// Set when the script is insecure but `enable_script_security` is off.
    pub insecure_component: Option<PathBuf>,
}

/// THE entry point for every script the daemon runs (vrrp_script, notify
/// scripts, FIFO scripts, MISC_CHECK, checker and quorum notifies,
/// startup/shutdown): split the command line, resolve its user (an unknown
/// user or group is an error, never a fallback to root), search `PATH` for a
/// bare name, resolve symlinks and run [`check_security`].
pub fn prepare(
    command: &str,
    user: Option<(&str, Option<&str>)>,
    security: &ScriptSecurity,
) -> Result<Prepared, ScriptError> {
    let mut script = Script::parse(command)?;
    let run_as = match user {
        Some((u, g)) => RunAs::resolve(u, g)?,
        None => security.run_as(&script)?.clone(),
    };
    script.user = Some(run_as);
    if is_file_open_test(script.program()) {
        // keepalived `check_script_secure()`: a command starting with `<`
        // and `/` ("</dev/tcp/127.0.0.1/80") only tests that a file opens;
        // it is SC_SYSTEM, never checked, and `system_call_script()` runs
        // it with system(), i.e. `/bin/sh -c` on the words joined by
        // spaces (`cmd_str()`), as the script's user.
        let line = script.argv.join(" ");
        script.argv = vec!["/bin/sh".into(), "-c".into(), line];
        return Ok(Prepared {
            script,
            insecure_component: None,
        });
    }
    let verdict = check_security(&script, security)?;
    let program = verdict
        .resolved_program
        .to_str()
        .ok_or_else(|| ScriptError::Inaccessible {
            path: verdict.resolved_program.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "resolved path is not UTF-8",
            ),
        })?
        .to_string();
    if let Some(first) = script.argv.first_mut() {
        *first = program;
    }
    Ok(Prepared {
        script,
        insecure_component: verdict.insecure_component,
    })
}

/// keepalived's SC_SYSTEM test: `<`, optional blanks, then `/`.
fn is_file_open_test(program: &str) -> bool {
    program
        .strip_prefix('<')
        .is_some_and(|rest| rest.trim_start_matches([' ', '\t']).starts_with('/'))
}

/// keepalived `check_script_secure()`. Errors: no usable user, not found,
/// not executable by its user, a wrong file type on the path, or insecure
/// while `enable_script_security` is set.
pub fn check_security(
    script: &Script,
    security: &ScriptSecurity,
) -> Result<SecurityVerdict, ScriptError> {
    let run_as = security.run_as(script)?;
    let configured = resolve_program(script.program(), run_as)?;
    let canonical =
        std::fs::canonicalize(&configured).map_err(|source| ScriptError::Inaccessible {
            path: configured.clone(),
            source,
        })?;
    let (exec_path, real_path) = exec_path(&configured, &canonical);
    let target = real_path.as_ref().unwrap_or(&exec_path);
    let meta = std::fs::metadata(target).map_err(|source| ScriptError::Inaccessible {
        path: target.clone(),
        source,
    })?;
    if !meta.is_file() || !is_executable(&meta, run_as) {
        return Err(ScriptError::NotExecutable {
            path: configured,
            uid: run_as.uid,
            gid: run_as.gid,
        });
    }
    let mode = meta.permissions().mode();
    let runs_with_root_rights = run_as.is_root()
        || (meta.uid() == 0 && mode & 0o100 != 0 && mode & S_ISUID != 0)
        || (meta.gid() == 0 && mode & 0o010 != 0 && mode & S_ISGID != 0);
    let mut verdict = SecurityVerdict {
        resolved_program: exec_path.clone(),
        insecure_component: None,
    };
    if !runs_with_root_rights {
        return Ok(verdict);
    }
    // keepalived checks the path it will execute and the real file; we also
    // check the path as configured (and found by the PATH search), so a
    // symlink anywhere on it is looked at, not through.
    let mut paths = vec![configured];
    for p in [Some(exec_path), real_path].into_iter().flatten() {
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    for path in &paths {
        if let Some(component) = first_insecure_component(script, path)? {
            if security.enable_script_security {
                return Err(ScriptError::Insecure {
                    script: script.program().to_string(),
                    component,
                });
            }
            tracing::warn!(
                "Unsafe permissions found for script '{}' ('{}').",
                script.program(),
                component.display()
            );
            verdict.insecure_component = Some(component);
            break;
        }
    }
    Ok(verdict)
}

/// keepalived: run the canonical path, but keep the configured file name if
/// it is the same file in the canonical directory. Returns (path to
/// execute, the real file when it differs from that path).
fn exec_path(configured: &Path, canonical: &Path) -> (PathBuf, Option<PathBuf>) {
    if configured == canonical || configured.file_name() == canonical.file_name() {
        return (canonical.to_path_buf(), None);
    }
    let (Some(dir), Some(name)) = (canonical.parent(), configured.file_name()) else {
        return (canonical.to_path_buf(), None);
    };
    let candidate = dir.join(name);
    match (std::fs::metadata(&candidate), std::fs::metadata(canonical)) {
        (Ok(a), Ok(b)) if a.dev() == b.dev() && a.ino() == b.ino() => {
            (candidate, Some(canonical.to_path_buf()))
        }
        _ => (canonical.to_path_buf(), None),
    }
}

/// keepalived `check_security()`: `lstat` every component from `/` to the
/// file. Directories (or symlinks) before the last, a regular file or a
/// symlink last; anything else is refused whatever the policy.
fn first_insecure_component(script: &Script, path: &Path) -> Result<Option<PathBuf>, ScriptError> {
    let prefixes = path_prefixes(path);
    let last = prefixes.len().saturating_sub(1);
    for (i, component) in prefixes.into_iter().enumerate() {
        let meta = std::fs::symlink_metadata(&component).map_err(|source| ScriptError::Stat {
            path: component.clone(),
            source,
        })?;
        let ft = meta.file_type();
        let right_type = if i < last {
            ft.is_dir() || ft.is_symlink()
        } else {
            ft.is_file() || ft.is_symlink()
        };
        if !right_type {
            return Err(ScriptError::WrongFileType {
                script: script.program().to_string(),
                component,
            });
        }
        if is_insecure(&meta) {
            return Ok(Some(component));
        }
    }
    Ok(None)
}

/// Owner not root, or (a regular file, or a directory without the sticky
/// bit) writable by a non-root group or by everyone. A symlink's own mode is
/// meaningless; only its owner counts.
fn is_insecure(meta: &std::fs::Metadata) -> bool {
    let mode = meta.permissions().mode();
    let ft = meta.file_type();
    let write_bits_matter = ft.is_file() || (ft.is_dir() && mode & S_ISVTX == 0);
    meta.uid() != 0
        || (write_bits_matter && ((meta.gid() != 0 && mode & S_IWGRP != 0) || mode & S_IWOTH != 0))
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

/// `/`, `/a`, `/a/b`, ... `/a/b/script` (`.` and `..` kept as written:
/// `lstat` looks at each one the way the kernel will walk it).
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
/// scripts get); keepalived warns to use a full path. A relative path is
/// taken from `/`, the directory scripts run in.
pub(crate) fn resolve_program(program: &str, run_as: &RunAs) -> Result<PathBuf, ScriptError> {
    if program.contains('/') {
        return Ok(Path::new("/").join(program));
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

    /// Creating root-owned files needs root: skip (fail in CI) otherwise.
    fn is_root() -> bool {
        rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Root])
    }

    /// A fresh 0755 directory of ours under the temp dir, which must itself
    /// be a secure base (root-owned; sticky if world-writable, like /tmp).
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            let base = std::env::temp_dir();
            let d = base.join(format!("rkc-sec-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
            TempDir(d)
        }
        fn dir(&self, name: &str, mode: u32) -> PathBuf {
            let d = self.0.join(name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
            d
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn write_script(path: &Path, mode: u32) {
        std::fs::write(path, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn root_policy(enforce: bool) -> ScriptSecurity {
        ScriptSecurity::root(enforce)
    }

    fn script(p: &Path) -> Script {
        Script::parse(&format!("{} arg", p.display())).unwrap()
    }

    fn insecure_component(r: Result<SecurityVerdict, ScriptError>) -> PathBuf {
        match r {
            Err(ScriptError::Insecure { component, .. }) => component,
            other => panic!("expected Insecure, got {other:?}"),
        }
    }

    #[test]
    fn file_open_tests_run_through_the_shell_unchecked() {
        // keepalived's own sample (vrrp.localcheck): SC_SYSTEM, system().
        for cmd in ["</dev/tcp/127.0.0.1/80", "\"<  /dev/tcp/127.0.0.1/443\""] {
            let p = prepare(cmd, Some(("root", None)), &root_policy(true)).unwrap();
            assert_eq!(p.script.argv[..2], ["/bin/sh", "-c"], "{cmd}");
            assert_eq!(p.script.argv[2], cmd.trim_matches('"'));
            assert!(p.insecure_component.is_none());
        }
        // `<` not followed by `/` in the same word: an ordinary (missing)
        // program, as keepalived tests only args[0].
        for cmd in ["<foo", "< /dev/tcp/127.0.0.1/80"] {
            assert!(
                prepare(cmd, Some(("root", None)), &root_policy(true)).is_err(),
                "{cmd}"
            );
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
    fn world_writable_script_or_directory_is_refused_when_enforced() {
        if !is_root() {
            return;
        }
        let t = TempDir::new("ww");
        let d = t.dir("d", 0o755);
        let p = d.join("check.sh");
        write_script(&p, 0o777);
        let s = script(&p);
        assert_eq!(
            insecure_component(check_security(&s, &root_policy(true))),
            p
        );
        // Not enforced: allowed with a warning.
        let v = check_security(&s, &root_policy(false)).unwrap();
        assert_eq!(v.insecure_component, Some(p.clone()));
        // Group-writable by root's group is fine, by another group is not.
        write_script(&p, 0o775);
        assert!(check_security(&s, &root_policy(true)).is_ok());
        nix::unistd::chown(&p, None, Some(nix::unistd::Gid::from_raw(65534))).unwrap();
        assert_eq!(
            insecure_component(check_security(&s, &root_policy(true))),
            p
        );
        nix::unistd::chown(&p, None, Some(nix::unistd::Gid::from_raw(0))).unwrap();
        // Safe file in a world-writable directory (no sticky bit): refused for the directory.
        write_script(&p, 0o755);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(
            insecure_component(check_security(&s, &root_policy(true))),
            d
        );
        // Sticky world-writable directory (like /tmp) is fine.
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(check_security(&s, &root_policy(true)).is_ok());
        // Owned by a non-root user: refused.
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        nix::unistd::chown(&p, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        assert_eq!(
            insecure_component(check_security(&s, &root_policy(true))),
            p
        );
        // ... but fine when the script runs as that unprivileged user.
        let nobody = script(&p).with_user(RunAs {
            name: "nobody".into(),
            uid: 65534,
            gid: 65534,
        });
        assert!(check_security(&nobody, &root_policy(true)).is_ok());
    }

    /// The attack of issue #14 item 3: a root-owned symlink in a safe
    /// directory pointing into a world-writable one. `metadata()` follows the
    /// link and saw a root-owned 0755 file; every component must be looked at
    /// with `lstat`, on the resolved path too.
    #[test]
    fn symlink_into_a_world_writable_directory_is_refused() {
        if !is_root() {
            return;
        }
        let t = TempDir::new("link");
        let safe = t.dir("safe", 0o755);
        let ww = t.dir("ww", 0o777);
        let real = ww.join("real.sh");
        write_script(&real, 0o755);
        // Same name and another name: both refused for the writable directory.
        for name in ["real.sh", "other.sh"] {
            let link = safe.join(name);
            std::os::unix::fs::symlink(&real, &link).unwrap();
            assert_eq!(
                insecure_component(check_security(&script(&link), &root_policy(true))),
                ww,
                "{name}"
            );
            std::fs::remove_file(&link).unwrap();
        }
        // A directory symlink on the configured path: the same.
        let dirlink = safe.join("scripts");
        std::os::unix::fs::symlink(&ww, &dirlink).unwrap();
        assert_eq!(
            insecure_component(check_security(
                &script(&dirlink.join("real.sh")),
                &root_policy(true)
            )),
            ww
        );
        // prepare() refuses it as well (the one entry point).
        let cmd = format!("{} arg", dirlink.join("real.sh").display());
        assert!(matches!(
            prepare(&cmd, None, &root_policy(true)),
            Err(ScriptError::Insecure { .. })
        ));
    }

    #[test]
    fn symlink_owned_by_a_user_is_refused_and_safe_links_resolve() {
        if !is_root() {
            return;
        }
        let t = TempDir::new("own");
        let safe = t.dir("safe", 0o755);
        let bin = t.dir("bin", 0o755);
        let real = bin.join("real.sh");
        write_script(&real, 0o755);
        let link = safe.join("link.sh");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        // Root-owned link to a safe file: fine, and run by its real path.
        let p = prepare(&format!("{} a b", link.display()), None, &root_policy(true)).unwrap();
        assert_eq!(
            p.script.argv,
            vec![real.display().to_string(), "a".into(), "b".into()]
        );
        assert_eq!(p.script.user, Some(RunAs::root()));
        // A link owned by someone else: refused (keepalived: owner not root).
        std::os::unix::fs::lchown(&link, Some(65534), None).unwrap();
        assert_eq!(
            insecure_component(check_security(&script(&link), &root_policy(true))),
            link
        );
        // A root-owned directory symlink to a safe directory: fine.
        let dirlink = safe.join("bindir");
        std::os::unix::fs::symlink(&bin, &dirlink).unwrap();
        let v = check_security(&script(&dirlink.join("real.sh")), &root_policy(true)).unwrap();
        assert_eq!(v.resolved_program, real);
        // Same-directory link with another name: keepalived keeps the
        // configured name (programs may look at argv[0]).
        let alias = bin.join("alias.sh");
        std::os::unix::fs::symlink("real.sh", &alias).unwrap();
        let v = check_security(&script(&alias), &root_policy(true)).unwrap();
        assert_eq!(v.resolved_program, alias);
    }

    #[test]
    fn non_executable_and_missing_are_errors() {
        let t = TempDir::new("nx");
        let p = t.0.join("check.sh");
        write_script(&p, 0o644);
        let s = Script::parse(&p.display().to_string()).unwrap();
        assert!(matches!(
            check_security(&s, &root_policy(true)),
            Err(ScriptError::NotExecutable { .. })
        ));
        let missing = Script::parse(&t.0.join("nope.sh").display().to_string()).unwrap();
        let e = check_security(&missing, &root_policy(true)).unwrap_err();
        assert_eq!(e.refusal(), crate::Refusal::NotFound, "{e}");
    }

    #[test]
    fn users_are_never_replaced_by_root() {
        // Unknown explicit user or group: an error, not the default user.
        let e = prepare(
            "/bin/true",
            Some(("no-such-user-rkc", None)),
            &root_policy(false),
        )
        .unwrap_err();
        assert!(matches!(e, ScriptError::UnknownUser(_)), "{e}");
        let e = prepare(
            "/bin/true",
            Some(("root", Some("no-such-group-rkc"))),
            &root_policy(false),
        )
        .unwrap_err();
        assert!(matches!(e, ScriptError::UnknownGroup(_)), "{e}");
        // No user and no usable default user: refused.
        let none = ScriptSecurity {
            enable_script_security: true,
            default_user: None,
        };
        let e = prepare("/bin/true", None, &none).unwrap_err();
        assert_eq!(e.refusal(), crate::Refusal::DefaultUser, "{e}");
        // keepalived_script does not exist here (checked): with
        // enable_script_security there is no default user; without, the daemon's.
        if nix::unistd::User::from_name(crate::user::DEFAULT_SCRIPT_USER)
            .ok()
            .flatten()
            .is_none()
        {
            assert_eq!(ScriptSecurity::new(true, None).default_user, None);
            assert_eq!(
                ScriptSecurity::new(false, None).default_user,
                Some(RunAs::daemon())
            );
        }
    }
}
