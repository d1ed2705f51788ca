//! Per-instance identity: the runtime paths, syslog identities and process
//! names that let several daemons run side by side on one host, derived the
//! way keepalived 2.2.7 derives them.
//!
//! keepalived (core/main.c `keepalived_main`, core/pidfile.c
//! `make_pidfile_name`, core/namespaces.c `set_run_mount`):
//!
//! | started with | pid files |
//! | --- | --- |
//! | nothing | `/run/keepalived.pid`, `/run/vrrp.pid`, `/run/checkers.pid` |
//! | `use_pid_dir` | `/run/keepalived/keepalived.pid`, `vrrp.pid`, `checkers.pid` |
//! | `instance NAME` | `/run/keepalived/keepalived_NAME.pid`, `vrrp_NAME.pid`, `checkers_NAME.pid` |
//! | `-s NS` / `net_namespace NS` | `/run/keepalived/NS/keepalived.pid`, ... |
//!
//! With a namespace, keepalived (and we, src/namespace.rs) writes
//! `/run/keepalived/keepalived.pid` inside a private mount namespace in
//! which `/run/keepalived/NS` is bind-mounted on `/run/keepalived`; from
//! outside (where systemd, scripts and a second daemon look) the file is
//! `/run/keepalived/NS/keepalived.pid`. [`InstanceId::run_mounted`] says
//! which of the two names the daemon itself uses. `-p`/`-r`/`-c` always
//! win.
//!
//! Our own runtime path, the status socket, follows the instance: the
//! default one (`/run/rkeepalived/status.sock`) for the default pid file,
//! `/run/rkeepalived/NS/status_NAME.sock` for a namespace/instance, and
//! beside the pid file (`/x/lb1.pid` -> `/x/lb1.status.sock`) for a daemon
//! started with its own `-p`. `--status-socket` and `status_socket` win.
//!
//! Syslog identities (core/main.c `make_syslog_ident`): `Keepalived`,
//! `Keepalived_vrrp`, `Keepalived_healthcheckers`, each followed by `_NS`
//! and `_NAME` when set.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::cli::{
    Role, DEFAULT_BFD_PID_FILE, DEFAULT_CHECKERS_PID_FILE, DEFAULT_PID_FILE, DEFAULT_VRRP_PID_FILE,
};

/// keepalived's KEEPALIVED_PID_DIR (`RUNSTATEDIR "/" PACKAGE "/"`).
pub const KEEPALIVED_PID_DIR: &str = "/run/keepalived";
/// Where our own runtime files go by default.
pub const RUN_DIR: &str = "/run/rkeepalived";

/// What distinguishes one daemon from another on the same host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceId {
    /// `-s NS` or `net_namespace NS` (`-s` wins).
    pub namespace: Option<String>,
    /// keepalived's `instance NAME` (a root keyword).
    pub instance: Option<String>,
    /// `use_pid_dir` (implied by the two above).
    pub use_pid_dir: bool,
    /// The daemon runs in keepalived's private mount namespace, with
    /// /run/keepalived/NS mounted on /run/keepalived (src/namespace.rs):
    /// its own pid files then have the inside names.
    pub run_mounted: bool,
}

impl InstanceId {
    fn is_default(&self) -> bool {
        self.namespace.is_none() && self.instance.is_none() && !self.use_pid_dir
    }

    /// `/run/keepalived` or `/run/keepalived/NS` (seen from outside the
    /// daemon's mount namespace).
    fn pid_dir(&self) -> Option<PathBuf> {
        if self.is_default() {
            return None;
        }
        let base = Path::new(KEEPALIVED_PID_DIR);
        Some(match &self.namespace {
            Some(ns) if !self.run_mounted => base.join(ns),
            _ => base.to_path_buf(),
        })
    }

    /// keepalived's `make_pidfile_name(dir STEM, instance, ".pid")`.
    fn pid_file(&self, stem: &str, default: &str) -> PathBuf {
        match self.pid_dir() {
            None => PathBuf::from(default),
            Some(dir) => match &self.instance {
                Some(i) => dir.join(format!("{stem}_{i}.pid")),
                None => dir.join(format!("{stem}.pid")),
            },
        }
    }

    /// The parent's pid file when `-p` is not given.
    pub fn main_pid_file(&self) -> PathBuf {
        self.pid_file("keepalived", DEFAULT_PID_FILE)
    }

    /// A child's pid file when `-r`/`-c` is not given.
    pub fn child_pid_file(&self, role: Role) -> PathBuf {
        match role {
            Role::Vrrp => self.pid_file("vrrp", DEFAULT_VRRP_PID_FILE),
            Role::Checker => self.pid_file("checkers", DEFAULT_CHECKERS_PID_FILE),
            Role::Bfd => self.pid_file("bfd", DEFAULT_BFD_PID_FILE),
        }
    }

    /// The status socket when neither `--status-socket` nor `status_socket`
    /// is set, for a daemon whose parent pid file is `pid_file`.
    pub fn status_socket(&self, pid_file: &Path) -> PathBuf {
        if pid_file != self.main_pid_file() && pid_file != self.outside().main_pid_file() {
            return beside_pid_file(pid_file);
        }
        let mut dir = PathBuf::from(RUN_DIR);
        if let Some(ns) = &self.namespace {
            dir.push(ns);
        }
        match &self.instance {
            Some(i) => dir.join(format!("status_{i}.sock")),
            // `use_pid_dir` alone: its pid files are not the default ones,
            // so neither is its socket.
            None if self.namespace.is_none() && !self.is_default() => {
                dir.join("status_pid_dir.sock")
            }
            None => dir.join("status.sock"),
        }
    }

    /// The same daemon seen from outside its mount namespace.
    fn outside(&self) -> InstanceId {
        InstanceId {
            run_mounted: false,
            ..self.clone()
        }
    }

    /// The directories to remove on exit when empty: keepalived's
    /// namespaces.c `unmount_run` removes /run/keepalived/NS, pidfile.c
    /// `remove_pid_dir` /run/keepalived (with `use_pid_dir`); ours
    /// /run/rkeepalived/NS. Most specific first.
    pub fn private_run_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        if let Some(ns) = &self.namespace {
            dirs.push(Path::new(KEEPALIVED_PID_DIR).join(ns));
            dirs.push(Path::new(RUN_DIR).join(ns));
        }
        if !self.is_default() {
            dirs.push(PathBuf::from(KEEPALIVED_PID_DIR));
        }
        dirs
    }

    /// keepalived's `make_syslog_ident(name)`: `name[_NS][_INSTANCE]`.
    pub fn syslog_ident(&self, base: &str) -> String {
        let mut ident = base.to_owned();
        for part in [&self.namespace, &self.instance].into_iter().flatten() {
            ident.push('_');
            ident.push_str(part);
        }
        ident
    }
}

/// keepalived's log file (`-g FILE`) for the parent (None) or a child: lib/
/// utils.c `make_file_name(FILE, prog, namespace, instance)` as
/// lib/logger.c `open_log_file` calls it, `prog` being `vrrp` or `check`:
/// `/var/log/ka.log` -> `/var/log/ka_vrrp_NS_INST.log`. Each process has
/// its own file, as in keepalived.
pub fn log_file_name(name: &Path, role: Option<Role>, id: &InstanceId) -> PathBuf {
    let prog = role.map(|r| match r {
        Role::Vrrp => "vrrp",
        Role::Checker => "check",
        Role::Bfd => "bfd",
    });
    let parts: Vec<&str> = [prog, id.namespace.as_deref(), id.instance.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if parts.is_empty() {
        return name.to_path_buf();
    }
    let Some(file) = name.file_name().map(|f| f.to_string_lossy().into_owned()) else {
        return name.to_path_buf();
    };
    let (stem, ext) = match file.rfind('.') {
        Some(i) => file.split_at(i),
        None => (file.as_str(), ""),
    };
    name.with_file_name(format!("{stem}_{}{ext}", parts.join("_")))
}

/// `/x/lb1.pid` -> `/x/lb1.status.sock`; `/x/lb1` -> `/x/lb1.status.sock`.
fn beside_pid_file(pid_file: &Path) -> PathBuf {
    let name = pid_file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".pid").unwrap_or(&name);
    pid_file.with_file_name(format!("{stem}.status.sock"))
}

/// keepalived's syslog identities (PACKAGE_NAME, PROG_VRRP, PROG_CHECK).
pub fn base_syslog_ident(role: Option<Role>) -> &'static str {
    match role {
        None => "Keepalived",
        Some(Role::Vrrp) => "Keepalived_vrrp",
        Some(Role::Checker) => "Keepalived_healthcheckers",
        Some(Role::Bfd) => "Keepalived_bfd",
    }
}

/// Linux keeps 15 bytes of a process name (TASK_COMM_LEN - 1); keepalived's
/// `save_process_name` truncates the configured names to that.
pub const COMM_MAX: usize = 15;

/// Truncates to what the kernel keeps, on a character boundary.
pub fn truncate_comm(name: &str) -> &str {
    if name.len() <= COMM_MAX {
        return name;
    }
    let mut end = COMM_MAX;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// This process's name (`/proc/self/comm`).
pub fn current_comm() -> Option<String> {
    nix::sys::prctl::get_name()
        .ok()
        .map(|c| c.to_string_lossy().into_owned())
}

/// lib/utils.c `set_process_name`: `prctl(PR_SET_NAME)`.
pub fn set_comm(name: &str) -> std::io::Result<()> {
    let name = truncate_comm(name);
    let c = std::ffi::CString::new(name)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in name"))?;
    nix::sys::prctl::set_name(&c).map_err(std::io::Error::from)
}

/// The environment variable that carries a role child's own arguments.
///
/// keepalived's children are forks: their command line is the parent's,
/// byte for byte, so `ps`/`pgrep -f` show three identical lines. We re-exec
/// (a child must not inherit the supervisor's runtime), so the child gets
/// the parent's argv and its own settings here, as a JSON array of strings.
pub const CHILD_ARGS_ENV: &str = "RKEEPALIVED_CHILD_ARGS";

/// Encodes a child's arguments for [`CHILD_ARGS_ENV`]; None if one is not
/// UTF-8 (the caller then passes them on the command line).
pub fn encode_child_args(args: &[OsString]) -> Option<String> {
    let strings: Option<Vec<&str>> = args.iter().map(|a| a.to_str()).collect();
    serde_json::to_string(&strings?).ok()
}

/// The command line to parse: a role child's own arguments from
/// [`CHILD_ARGS_ENV`] (removed from the environment so the scripts it runs
/// do not see it), else the real one.
pub fn process_args() -> Vec<OsString> {
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    if let Some(value) = std::env::var_os(CHILD_ARGS_ENV) {
        // Single-threaded here (main has not built a runtime yet).
        std::env::remove_var(CHILD_ARGS_ENV);
        if let Some(args) = value
            .to_str()
            .and_then(|v| serde_json::from_str::<Vec<String>>(v).ok())
        {
            argv.truncate(1);
            argv.extend(args.into_iter().map(OsString::from));
        }
    }
    argv
}

/// Sets up the re-exec of a role child so that it looks like keepalived's
/// forked children: the parent's argv (argv\[0\] included) and the parent's
/// process name (the child sets it, see `--process-name`); the child's own
/// settings travel in [`CHILD_ARGS_ENV`].
pub fn child_command(
    cmd: &mut tokio::process::Command,
    cli: &crate::cli::Cli,
    role: Role,
    ipc_fd: i32,
) {
    let mut argv = std::env::args_os();
    let argv0 = argv.next().unwrap_or_else(|| "rkeepalived".into());
    // The name the parent was started with: the child takes the configured
    // names itself (src/process_names.rs).
    let comm = crate::process_names::original_name().or_else(current_comm);
    let own = cli.child_args(role, ipc_fd, comm.as_deref());
    cmd.arg0(argv0);
    match encode_child_args(&own) {
        Some(encoded) => {
            cmd.args(argv).env(CHILD_ARGS_ENV, encoded);
        }
        None => {
            cmd.args(own).env_remove(CHILD_ARGS_ENV);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ns: Option<&str>, inst: Option<&str>) -> InstanceId {
        InstanceId {
            namespace: ns.map(Into::into),
            instance: inst.map(Into::into),
            use_pid_dir: false,
            run_mounted: false,
        }
    }

    #[test]
    fn pid_files_follow_keepalived() {
        let d = id(None, None);
        assert_eq!(d.main_pid_file(), PathBuf::from("/run/keepalived.pid"));
        assert_eq!(d.child_pid_file(Role::Vrrp), PathBuf::from("/run/vrrp.pid"));
        assert_eq!(
            d.child_pid_file(Role::Checker),
            PathBuf::from("/run/checkers.pid")
        );
        let ns = id(Some("blue"), None);
        assert_eq!(
            ns.main_pid_file(),
            PathBuf::from("/run/keepalived/blue/keepalived.pid")
        );
        assert_eq!(
            ns.child_pid_file(Role::Vrrp),
            PathBuf::from("/run/keepalived/blue/vrrp.pid")
        );
        let inst = id(None, Some("lb1"));
        assert_eq!(
            inst.main_pid_file(),
            PathBuf::from("/run/keepalived/keepalived_lb1.pid")
        );
        assert_eq!(
            inst.child_pid_file(Role::Checker),
            PathBuf::from("/run/keepalived/checkers_lb1.pid")
        );
        let both = id(Some("blue"), Some("lb1"));
        assert_eq!(
            both.child_pid_file(Role::Vrrp),
            PathBuf::from("/run/keepalived/blue/vrrp_lb1.pid")
        );
    }

    #[test]
    fn status_socket_per_instance() {
        let d = id(None, None);
        assert_eq!(
            d.status_socket(Path::new("/run/keepalived.pid")),
            PathBuf::from("/run/rkeepalived/status.sock")
        );
        assert_eq!(
            d.status_socket(Path::new("/srv/a/lb1.pid")),
            PathBuf::from("/srv/a/lb1.status.sock")
        );
        assert_eq!(
            d.status_socket(Path::new("/srv/a/lb1")),
            PathBuf::from("/srv/a/lb1.status.sock")
        );
        let ns = id(Some("blue"), None);
        assert_eq!(
            ns.status_socket(&ns.main_pid_file()),
            PathBuf::from("/run/rkeepalived/blue/status.sock")
        );
        let both = id(Some("blue"), Some("lb1"));
        assert_eq!(
            both.status_socket(&both.main_pid_file()),
            PathBuf::from("/run/rkeepalived/blue/status_lb1.sock")
        );
    }

    #[test]
    fn syslog_idents_follow_make_syslog_ident() {
        assert_eq!(id(None, None).syslog_ident("Keepalived"), "Keepalived");
        assert_eq!(
            id(Some("blue"), Some("lb1")).syslog_ident(base_syslog_ident(Some(Role::Vrrp))),
            "Keepalived_vrrp_blue_lb1"
        );
        assert_eq!(
            id(None, Some("lb1")).syslog_ident(base_syslog_ident(Some(Role::Checker))),
            "Keepalived_healthcheckers_lb1"
        );
    }

    #[test]
    fn log_files_follow_make_file_name() {
        let f = Path::new("/var/log/ka.log");
        assert_eq!(
            log_file_name(f, None, &id(None, None)),
            PathBuf::from("/var/log/ka.log")
        );
        assert_eq!(
            log_file_name(f, Some(Role::Vrrp), &id(None, None)),
            PathBuf::from("/var/log/ka_vrrp.log")
        );
        assert_eq!(
            log_file_name(f, Some(Role::Checker), &id(Some("blue"), Some("lb1"))),
            PathBuf::from("/var/log/ka_check_blue_lb1.log")
        );
        assert_eq!(
            log_file_name(Path::new("/v.d/ka"), None, &id(Some("blue"), None)),
            PathBuf::from("/v.d/ka_blue")
        );
    }

    #[test]
    fn comm_is_truncated_like_the_kernel() {
        assert_eq!(truncate_comm("keepalived_vrrp"), "keepalived_vrrp");
        assert_eq!(truncate_comm("keepalived_vrrp_long"), "keepalived_vrrp");
        assert_eq!(truncate_comm("ééééééééé"), "ééééééé");
    }

    #[test]
    fn child_args_round_trip_through_json() {
        let args: Vec<OsString> = vec!["--role".into(), "vrrp".into(), "-f".into(), "/a b".into()];
        let enc = encode_child_args(&args).expect("utf-8");
        let back: Vec<String> = serde_json::from_str(&enc).expect("json");
        assert_eq!(back, ["--role", "vrrp", "-f", "/a b"]);
        use std::os::unix::ffi::OsStringExt;
        assert_eq!(encode_child_args(&[OsString::from_vec(vec![0xff])]), None);
    }
}
