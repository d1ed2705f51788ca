//! Command line, mirroring keepalived 2.2.7's options (`keepalived --help`)
//! plus a few rkeepalived extensions (`--status`, `--metrics-listen`, ...).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgAction, Parser, ValueEnum};
use serde::{Deserialize, Serialize};

pub const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";
pub const DEFAULT_PID_FILE: &str = "/run/keepalived.pid";
pub const DEFAULT_VRRP_PID_FILE: &str = "/run/vrrp.pid";
pub const DEFAULT_CHECKERS_PID_FILE: &str = "/run/checkers.pid";
/// keepalived's BFD child pid file (pidfile.h `BFD_PID_FILE`).
pub const DEFAULT_BFD_PID_FILE: &str = "/run/bfd.pid";
pub const DEFAULT_STATUS_SOCKET: &str = "/run/rkeepalived/status.sock";
pub const DEFAULT_DUMP_DIR: &str = "/tmp";
/// keepalived's default `umask_val` (lib/utils.c: S_IXUSR | S_IRWXG | S_IRWXO).
pub const KEEPALIVED_UMASK: u32 = 0o177;

/// Which engine a child process runs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Vrrp,
    Checker,
    /// keepalived's bfd process (bfd/bfd_daemon.c): runs the `bfd_instance`
    /// sessions and sends their states to the other two.
    Bfd,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Vrrp, Role::Checker, Role::Bfd];

    /// How keepalived names the process in its log lines ("Starting VRRP
    /// child process", "Healthcheck child process(PID) died").
    pub fn keepalived_name(self) -> &'static str {
        match self {
            Role::Vrrp => "VRRP",
            Role::Checker => "Healthcheck",
            Role::Bfd => "BFD",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Vrrp => "vrrp",
            Role::Checker => "checker",
            Role::Bfd => "bfd",
        }
    }

    /// keepalived's syslog identity: `Keepalived_vrrp` / `Keepalived_healthcheckers`
    /// (without the `_NS_INSTANCE` suffix, see [`crate::instance`]).
    pub fn syslog_ident(self) -> &'static str {
        crate::instance::base_syslog_ident(Some(self))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Syslog facility (`-S`): `0`-`7` mean local0-local7 as in keepalived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facility(pub u8);

impl Facility {
    pub const DAEMON: Facility = Facility(3);
    pub const USER: Facility = Facility(1);
    pub fn local(n: u8) -> Facility {
        Facility(16 + n)
    }

    /// The `-S` spelling of this facility (inverse of [`parse_facility`]).
    pub fn to_arg(self) -> String {
        match self.0 {
            1 => "user".into(),
            16..=23 => format!("local{}", self.0 - 16),
            _ => "daemon".into(),
        }
    }
}

impl Default for Facility {
    fn default() -> Self {
        Facility::DAEMON
    }
}

pub fn parse_facility(s: &str) -> Result<Facility, String> {
    let local = |d: &str| match d.parse::<u8>() {
        Ok(n) if n <= 7 => Ok(Facility::local(n)),
        _ => Err(format!(
            "invalid log facility '{s}': expected 0-7, local0-local7, user or daemon"
        )),
    };
    match s {
        "user" => Ok(Facility::USER),
        "daemon" => Ok(Facility::DAEMON),
        _ => match s.strip_prefix("local") {
            Some(d) => local(d),
            None => local(s),
        },
    }
}

fn parse_umask(s: &str) -> Result<u32, String> {
    let v = if let Some(hex) = s.strip_prefix("0x") {
        u32::from_str_radix(hex, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8)
    } else {
        s.parse::<u32>()
    };
    match v {
        Ok(m) if m <= 0o777 => Ok(m),
        _ => Err(format!("invalid umask '{s}' (numeric, e.g. 022)")),
    }
}

/// keepalived's `--signum=SIGFUNC` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SigFunc {
    Stop,
    Reload,
    Data,
    Stats,
    StatsClear,
    Json,
    /// rkeepalived extension: withdraw the announced routes (graceful
    /// director drain), keep serving.
    Drain,
    /// rkeepalived extension: announce again.
    Undrain,
}

impl SigFunc {
    /// keepalived's `get_signum()` (lib/signals.c): exact, case-sensitive
    /// names; TDUMP only exists in keepalived builds with THREAD_DUMP, which
    /// Debian's is not.
    pub fn from_keepalived_name(name: &str) -> Option<SigFunc> {
        Some(match name {
            "STOP" => SigFunc::Stop,
            "RELOAD" => SigFunc::Reload,
            "DATA" => SigFunc::Data,
            "STATS" => SigFunc::Stats,
            "STATS_CLEAR" => SigFunc::StatsClear,
            "JSON" => SigFunc::Json,
            // rkeepalived extensions (keepalived 2.2.7 answers "Unknown sigfunc").
            "DRAIN" => SigFunc::Drain,
            "UNDRAIN" => SigFunc::Undrain,
            _ => return None,
        })
    }

    pub fn signal_number(self) -> i32 {
        match self {
            SigFunc::Stop => libc::SIGTERM,
            SigFunc::Reload => libc::SIGHUP,
            SigFunc::Data => libc::SIGUSR1,
            SigFunc::Stats => libc::SIGUSR2,
            SigFunc::StatsClear => sigstats_clear(),
            SigFunc::Json => sigjson(),
            SigFunc::Drain => sigdrain(),
            SigFunc::Undrain => sigundrain(),
        }
    }
}

/// `--signum`'s value: any string (an unknown one is answered like
/// keepalived, not by clap), with keepalived's names offered to shell
/// completion and `--help`.
#[derive(Debug, Clone, Copy)]
pub struct SigFuncNames;

impl clap::builder::TypedValueParser for SigFuncNames {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            [
                "STOP",
                "RELOAD",
                "DATA",
                "STATS",
                "STATS_CLEAR",
                "JSON",
                "DRAIN",
                "UNDRAIN",
            ]
            .into_iter()
            .map(clap::builder::PossibleValue::new),
        ))
    }
}

/// keepalived's SIGJSON is SIGRTMIN+2 (lib/signals.h).
pub fn sigjson() -> i32 {
    libc::SIGRTMIN() + 2
}

/// rkeepalived's drain signal (`--signum=DRAIN`): SIGRTMIN+5, a number
/// keepalived 2.2.7 does not use (it has SIGRTMIN+2, SIGRTMAX-1, SIGRTMAX).
pub fn sigdrain() -> i32 {
    libc::SIGRTMIN() + 5
}

/// `--signum=UNDRAIN`: SIGRTMIN+6.
pub fn sigundrain() -> i32 {
    libc::SIGRTMIN() + 6
}

/// keepalived's SIGSTATS_CLEAR is SIGRTMAX-1 (lib/signals.h): 63 on Linux.
pub fn sigstats_clear() -> i32 {
    libc::SIGRTMAX() - 1
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "rkeepalived",
    about = "keepalived.conf-compatible VRRP + IPVS health-checking daemon",
    disable_version_flag = true,
    // keepalived (getopt) accepts repeated options; the unit file adds
    // --dont-fork to $KEEPALIVED_OPTIONS which may already hold -n.
    args_override_self = true
)]
pub struct Cli {
    /// Use the specified configuration file
    #[arg(short = 'f', long = "use-file", value_name = "FILE", default_value = DEFAULT_CONFIG)]
    pub config_file: PathBuf,
    /// Only run with VRRP subsystem
    #[arg(short = 'P', long = "vrrp")]
    pub vrrp_only: bool,
    /// Only run with Health-checker subsystem
    #[arg(short = 'C', long = "check")]
    pub check_only: bool,
    /// Don't run BFD subsystem (accepted; rkeepalived has no BFD)
    #[arg(short = 'B', long = "no_bfd")]
    pub no_bfd: bool,
    /// Force all child processes to run, even if have no configuration
    #[arg(long = "all")]
    pub all: bool,
    /// Log messages to local console
    #[arg(short = 'l', long = "log-console")]
    pub log_console: bool,
    /// Detailed log messages
    #[arg(short = 'D', long = "log-detail")]
    pub log_detail: bool,
    /// Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)
    #[arg(short = 'S', long = "log-facility", value_name = "([0-7]|local[0-7]|user|daemon)", value_parser = parse_facility)]
    pub log_facility: Option<Facility>,
    /// Don't log via syslog
    #[arg(short = 'G', long = "no-syslog")]
    pub no_syslog: bool,
    /// Also log to the specified file
    #[arg(short = 'g', long = "log-file", value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// umask for file creation (in numeric form)
    #[arg(short = 'u', long = "umask", value_name = "MASK", value_parser = parse_umask)]
    pub umask: Option<u32>,
    /// Drop VIP on transition from signal.
    #[arg(short = 'X', long = "release-vips")]
    pub release_vips: bool,
    /// Don't remove VRRP VIPs and VROUTEs on daemon stop
    #[arg(short = 'V', long = "dont-release-vrrp")]
    pub dont_release_vrrp: bool,
    /// Don't remove IPVS topology on daemon stop
    #[arg(short = 'I', long = "dont-release-ipvs")]
    pub dont_release_ipvs: bool,
    /// genhash mode (keepalived's genhash): print a url's MD5 digest for a
    /// `digest` line, `-T -s IP -p PORT -u URL` (see `rkeepalived -T -h`);
    /// must be the first option
    // Handled in main() before this parser runs; declared for --help.
    #[arg(short = 'T', long = "genhash")]
    pub genhash: bool,
    /// Don't respawn child processes
    #[arg(short = 'R', long = "dont-respawn")]
    pub dont_respawn: bool,
    /// Don't fork the daemon process
    #[arg(short = 'n', long = "dont-fork")]
    pub dont_fork: bool,
    /// Dump the configuration data
    #[arg(short = 'd', long = "dump-conf")]
    pub dump_conf: bool,
    /// Use specified pidfile for parent process [default: /run/keepalived.pid; with -s NS: /run/keepalived/NS/keepalived.pid]
    #[arg(short = 'p', long = "pid", value_name = "FILE")]
    pub pid_file_arg: Option<PathBuf>,
    /// Use specified pidfile for VRRP child process [default: /run/vrrp.pid; with -s NS: /run/keepalived/NS/vrrp.pid]
    #[arg(short = 'r', long = "vrrp_pid", value_name = "FILE")]
    pub vrrp_pid_file_arg: Option<PathBuf>,
    /// Use specified pidfile for checkers child process [default: /run/checkers.pid; with -s NS: /run/keepalived/NS/checkers.pid]
    #[arg(short = 'c', long = "checkers_pid", value_name = "FILE")]
    pub checkers_pid_file_arg: Option<PathBuf>,
    /// The parent's pid file: `-p`, else derived per instance ([`Cli::resolve_paths`]).
    #[arg(skip)]
    pub pid_file: PathBuf,
    /// The VRRP child's pid file: `-r`, else derived per instance.
    #[arg(skip)]
    pub vrrp_pid_file: PathBuf,
    /// The checker child's pid file: `-c`, else derived per instance.
    #[arg(skip)]
    pub checkers_pid_file: PathBuf,
    /// Report all address additions/deletions notified via netlink
    #[arg(short = 'a', long = "address-monitoring")]
    pub address_monitoring: bool,
    /// Use specified pidfile for BFD child process [default: /run/bfd.pid; with -s NS: /run/keepalived/NS/bfd.pid]
    #[arg(short = 'b', long = "bfd_pid", value_name = "FILE")]
    pub bfd_pid_file_arg: Option<PathBuf>,
    /// The BFD child's pid file: `-b`, else derived per instance.
    #[arg(skip)]
    pub bfd_pid_file: PathBuf,
    /// Enable SNMP subsystem (AgentX subagent serving KEEPALIVED-MIB)
    #[arg(short = 'x', long = "snmp")]
    pub snmp: bool,
    /// Use the specified socket for master agent (default unix:/var/agentx/master)
    #[arg(short = 'A', long = "snmp-agent-socket", value_name = "FILE")]
    pub snmp_agent_socket: Option<PathBuf>,
    /// Run in network namespace NAME (/run/netns/NAME)
    #[arg(short = 's', long = "namespace", value_name = "NAME")]
    pub namespace: Option<String>,
    /// Produce core dump if terminate abnormally
    #[arg(short = 'm', long = "core-dump")]
    pub core_dump: bool,
    /// Also set /proc/sys/kernel/core_pattern to PATN (accepted; not changed)
    #[arg(short = 'M', long = "core-dump-pattern", value_name = "PATN", num_args = 0..=1, require_equals = true)]
    pub core_dump_pattern: Option<Option<String>>,
    /// Error if any configuration file missing (same as includet)
    #[arg(short = 'e', long = "all-config")]
    pub all_config: bool,
    /// Skip any configuration lines beginning '@' that don't match id
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    pub config_id: Option<String>,
    /// Print the signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON (DRAIN, UNDRAIN: rkeepalived)
    // A plain string: keepalived matches the names exactly (strcmp) and
    // answers anything else with "Unknown sigfunc NAME" and exit 1.
    #[arg(long = "signum", value_name = "SIGFUNC", value_parser = SigFuncNames)]
    pub signum: Option<String>,
    /// Check the configuration for obvious errors, output to stderr by default
    #[arg(short = 't', long = "config-test", value_name = "LOG_FILE", num_args = 0..=1, require_equals = true)]
    pub config_test: Option<Option<PathBuf>>,
    /// Like -t, and also fail (exit 7) if the configuration uses keywords
    /// rkeepalived parses but does not act on (keepalived would)
    // Not `--config-test=strict`: keepalived reads `--config-test=X` as a
    // log file named X. Combines with `--config-test=LOG_FILE`.
    #[arg(long = "config-test-strict")]
    pub config_test_strict: bool,
    /// Display the version number
    #[arg(short = 'v', long = "version", action = ArgAction::SetTrue)]
    pub version: bool,

    // ---- rkeepalived extensions ----
    /// Print the JSON status of the running daemon (from its status socket)
    #[arg(long = "status")]
    pub status: bool,
    /// Status socket path (overrides global_defs status_socket)
    #[arg(long = "status-socket", value_name = "PATH")]
    pub status_socket: Option<PathBuf>,
    /// Serve Prometheus metrics on ADDR:PORT (overrides global_defs metrics_listen)
    #[arg(long = "metrics-listen", value_name = "ADDR:PORT")]
    pub metrics_listen: Option<SocketAddr>,
    /// Directory for the SIGUSR1/SIGUSR2/SIGJSON dump files (else $TMPDIR if absolute, as keepalived)
    #[arg(long = "dump-dir", value_name = "DIR", default_value = DEFAULT_DUMP_DIR)]
    pub dump_dir: PathBuf,
    /// Seconds to wait for children to stop cleanly on SIGTERM
    #[arg(long = "stop-timeout", value_name = "SECS", default_value_t = 20)]
    pub stop_timeout_secs: u64,

    /// Seconds between liveness probes of the children (3 misses = restart)
    #[arg(
        long = "liveness-interval",
        value_name = "SECS",
        default_value_t = 10,
        hide = true
    )]
    pub liveness_interval_secs: u64,

    /// Syslog socket (tests point it at a private socket)
    #[arg(
        long = "syslog-socket",
        value_name = "PATH",
        default_value = "/dev/log",
        hide = true
    )]
    pub syslog_socket: PathBuf,

    /// Internal: run as a role child (used by the supervisor's re-exec)
    #[arg(long = "role", hide = true)]
    pub role: Option<Role>,
    /// Internal: the IPC descriptor of a role child
    #[arg(long = "ipc-fd", hide = true)]
    pub ipc_fd: Option<i32>,
    /// Internal: the process name (comm) a role child takes
    #[arg(long = "process-name", hide = true)]
    pub process_name: Option<String>,
    /// Internal: the configuration's `instance NAME` (a role child's syslog identity)
    #[arg(long = "instance-name", hide = true)]
    pub instance_name: Option<String>,
    /// `use_pid_dir` (from the configuration).
    #[arg(skip)]
    pub use_pid_dir: bool,
    /// The daemon runs in its private mount namespace (src/namespace.rs).
    #[arg(skip)]
    pub run_mounted: bool,
    /// Where `namespace` came from: `-s` (true) or the configuration.
    #[arg(skip)]
    pub namespace_from_config: bool,
}

impl Cli {
    /// Parses the process's command line (a role child's own arguments
    /// come from [`crate::instance::CHILD_ARGS_ENV`]) and resolves the
    /// per-instance paths.
    pub fn from_process() -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().get_matches_from(crate::instance::process_args());
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        if matches.value_source("dump_dir") == Some(clap::parser::ValueSource::DefaultValue) {
            cli.dump_dir = crate::runtime_paths::tmp_dir(std::env::var_os("TMPDIR"));
        }
        cli.resolve_paths();
        cli
    }

    /// This daemon's identity among others on the host.
    pub fn instance_id(&self) -> crate::instance::InstanceId {
        crate::instance::InstanceId {
            namespace: self.namespace.clone(),
            instance: self.instance_name.clone(),
            use_pid_dir: self.use_pid_dir,
            run_mounted: self.run_mounted,
        }
    }

    /// Takes the daemon's identity from the configuration (core/main.c
    /// after `read_config_file`): `net_namespace` unless `-s` overrides it,
    /// `instance`, `use_pid_dir`; then re-derives the default paths.
    /// Returns keepalived's line about an overridden namespace, if any.
    pub fn apply_identity(
        &mut self,
        id: &rkeepalived_config::model::DaemonIdentity,
    ) -> Option<String> {
        let mut note = None;
        match (&self.namespace, &id.net_namespace) {
            (Some(cli), Some(cfg)) if !self.namespace_from_config => {
                note = Some(format!(
                    "Overriding config net_namespace '{cfg}' with command line namespace '{cli}'"
                ));
            }
            (_, Some(cfg)) if self.namespace.is_none() || self.namespace_from_config => {
                self.namespace = Some(cfg.clone());
                self.namespace_from_config = true;
            }
            _ => {}
        }
        self.instance_name = id.instance.clone();
        self.use_pid_dir =
            id.use_pid_dir || self.namespace.is_some() || self.instance_name.is_some();
        self.resolve_paths();
        note
    }

    /// Fills the pid file paths: `-p`/`-r`/`-c`, else keepalived's
    /// per-instance defaults (see [`crate::instance`]).
    pub fn resolve_paths(&mut self) {
        let id = self.instance_id();
        self.pid_file = self
            .pid_file_arg
            .clone()
            .unwrap_or_else(|| id.main_pid_file());
        self.vrrp_pid_file = self
            .vrrp_pid_file_arg
            .clone()
            .unwrap_or_else(|| id.child_pid_file(Role::Vrrp));
        self.checkers_pid_file = self
            .checkers_pid_file_arg
            .clone()
            .unwrap_or_else(|| id.child_pid_file(Role::Checker));
        self.bfd_pid_file = self
            .bfd_pid_file_arg
            .clone()
            .unwrap_or_else(|| id.child_pid_file(Role::Bfd));
    }

    /// The status socket when neither `--status-socket` nor `status_socket` is set.
    pub fn default_status_socket(&self) -> PathBuf {
        self.instance_id().status_socket(&self.pid_file)
    }

    /// Syslog identity of the parent (None) or a child, keepalived's
    /// `make_syslog_ident`.
    pub fn syslog_ident(&self, role: Option<Role>) -> String {
        self.instance_id()
            .syslog_ident(crate::instance::base_syslog_ident(role))
    }

    pub fn pid_file_for(&self, role: Role) -> &PathBuf {
        match role {
            Role::Vrrp => &self.vrrp_pid_file,
            Role::Checker => &self.checkers_pid_file,
            Role::Bfd => &self.bfd_pid_file,
        }
    }

    /// Flags a role child inherits from the supervisor's command line.
    pub fn child_args(
        &self,
        role: Role,
        ipc_fd: i32,
        process_name: Option<&str>,
    ) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = vec![
            "--role".into(),
            role.as_str().into(),
            "--ipc-fd".into(),
            ipc_fd.to_string().into(),
            "--dont-fork".into(),
            "--use-file".into(),
            self.config_file.clone().into_os_string(),
        ];
        if let Some(name) = process_name {
            args.push("--process-name".into());
            args.push(name.into());
        }
        // Only for the syslog identity: the child is already in the namespace.
        if let Some(ns) = &self.namespace {
            args.push("--namespace".into());
            args.push(ns.into());
        }
        if let Some(name) = &self.instance_name {
            args.push("--instance-name".into());
            args.push(name.into());
        }
        if self.log_console {
            args.push("--log-console".into());
        }
        if self.log_detail {
            args.push("--log-detail".into());
        }
        if self.no_syslog {
            args.push("--no-syslog".into());
        }
        if let Some(f) = self.log_facility {
            args.push(format!("--log-facility={}", f.to_arg()).into());
        }
        if self.syslog_socket.as_os_str() != "/dev/log" {
            args.push("--syslog-socket".into());
            args.push(self.syslog_socket.clone().into_os_string());
        }
        if let Some(file) = &self.log_file {
            args.push("--log-file".into());
            args.push(file.clone().into_os_string());
        }
        if self.dont_release_ipvs && role == Role::Checker {
            args.push("--dont-release-ipvs".into());
        }
        if role == Role::Vrrp {
            for (on, flag) in [
                (self.dont_release_vrrp, "--dont-release-vrrp"),
                (self.release_vips, "--release-vips"),
                (self.address_monitoring, "--address-monitoring"),
            ] {
                if on {
                    args.push(flag.into());
                }
            }
        }
        // For the dumps' "umask = " line (the child inherits the mask itself).
        if let Some(m) = self.umask {
            args.push(format!("--umask=0{m:o}").into());
        }
        // The VRRP child needs to know whether a checker runs
        // (engines::vrrp_config: keepalived's running_checker()).
        if role == Role::Vrrp {
            for (on, flag) in [
                (self.vrrp_only, "--vrrp"),
                (self.check_only, "--check"),
                (self.all, "--all"),
            ] {
                if on {
                    args.push(flag.into());
                }
            }
        }
        args
    }
}

pub fn version_text() -> String {
    format!(
        "rkeepalived v{} (keepalived 2.2.7 compatible configuration and command line)\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_forms() {
        assert_eq!(parse_facility("0"), Ok(Facility::local(0)));
        assert_eq!(parse_facility("local7"), Ok(Facility(23)));
        assert_eq!(parse_facility("daemon"), Ok(Facility::DAEMON));
        assert_eq!(parse_facility("user"), Ok(Facility::USER));
        assert!(parse_facility("8").is_err());
        assert!(parse_facility("local9").is_err());
        assert!(parse_facility("kern").is_err());
    }

    #[test]
    fn umask_forms() {
        assert_eq!(parse_umask("022"), Ok(0o22));
        assert_eq!(parse_umask("0x12"), Ok(0x12));
        assert_eq!(parse_umask("18"), Ok(18));
        assert!(parse_umask("0999").is_err());
    }

    #[test]
    fn keepalived_flags_parse() {
        let cli = Cli::try_parse_from([
            "rkeepalived",
            "-f",
            "/x.conf",
            "-n",
            "-l",
            "-D",
            "-S",
            "local3",
            "-P",
            "-p",
            "/a.pid",
            "-r",
            "/b.pid",
            "-c",
            "/c.pid",
            "-i",
            "lb1",
            "-x",
            "-d",
            "-R",
            "-G",
        ])
        .expect("parses");
        assert_eq!(cli.config_file, PathBuf::from("/x.conf"));
        assert!(cli.dont_fork && cli.log_console && cli.log_detail && cli.vrrp_only);
        assert_eq!(cli.log_facility, Some(Facility::local(3)));
        assert_eq!(cli.config_id.as_deref(), Some("lb1"));
        assert!(cli.snmp && cli.dump_conf && cli.dont_respawn && cli.no_syslog);
        assert_eq!(cli.config_test, None);
    }

    #[test]
    fn repeated_flags_are_accepted() {
        let cli = Cli::try_parse_from([
            "rkeepalived",
            "--dont-fork",
            "-n",
            "-D",
            "-D",
            "-f",
            "/a",
            "-f",
            "/b",
        ])
        .expect("repeats parse");
        assert!(cli.dont_fork && cli.log_detail);
        assert_eq!(cli.config_file, PathBuf::from("/b"), "last one wins");
    }

    #[test]
    fn config_test_optional_value() {
        let cli = Cli::try_parse_from(["rkeepalived", "-t"]).expect("parses");
        assert_eq!(cli.config_test, Some(None));
        let cli = Cli::try_parse_from(["rkeepalived", "--config-test=/tmp/x.log"]).expect("parses");
        assert_eq!(cli.config_test, Some(Some(PathBuf::from("/tmp/x.log"))));
    }

    #[test]
    fn config_test_strict_is_its_own_flag() {
        let cli = Cli::try_parse_from(["rkeepalived", "--config-test-strict"]).expect("parses");
        assert!(cli.config_test_strict);
        assert_eq!(cli.config_test, None);
        let cli = Cli::try_parse_from(["rkeepalived", "--config-test=strict"]).expect("parses");
        assert!(!cli.config_test_strict, "keepalived's meaning: a log file");
        assert_eq!(cli.config_test, Some(Some(PathBuf::from("strict"))));
    }

    #[test]
    fn child_args_round_trip() {
        let cli =
            Cli::try_parse_from(["rkeepalived", "-f", "/k.conf", "-l", "-S", "2"]).expect("parses");
        let mut argv: Vec<std::ffi::OsString> = vec!["rkeepalived".into()];
        argv.extend(cli.child_args(Role::Checker, 3, Some("keepalived")));
        let child = Cli::try_parse_from(argv).expect("child args parse");
        assert_eq!(child.role, Some(Role::Checker));
        assert_eq!(child.ipc_fd, Some(3));
        assert!(child.log_console && child.dont_fork);
        assert_eq!(child.log_facility, Some(Facility::local(2)));
        assert_eq!(child.config_file, PathBuf::from("/k.conf"));
        assert_eq!(child.process_name.as_deref(), Some("keepalived"));
        assert!(!child.dont_release_ipvs);
        let cli = Cli::try_parse_from(["rkeepalived", "-I"]).expect("parses");
        let mut argv: Vec<std::ffi::OsString> = vec!["rkeepalived".into()];
        argv.extend(cli.child_args(Role::Checker, 3, None));
        assert!(Cli::try_parse_from(argv).expect("parses").dont_release_ipvs);
    }

    #[test]
    fn pid_files_default_per_namespace_and_flags_win() {
        let mut cli = Cli::try_parse_from(["rkeepalived"]).expect("parses");
        cli.resolve_paths();
        assert_eq!(cli.pid_file, PathBuf::from(DEFAULT_PID_FILE));
        assert_eq!(cli.vrrp_pid_file, PathBuf::from(DEFAULT_VRRP_PID_FILE));
        assert_eq!(
            cli.default_status_socket(),
            PathBuf::from(DEFAULT_STATUS_SOCKET)
        );
        assert_eq!(cli.syslog_ident(None), "Keepalived");
        let mut cli =
            Cli::try_parse_from(["rkeepalived", "-s", "blue", "-c", "/x/c.pid"]).expect("parses");
        cli.resolve_paths();
        assert_eq!(
            cli.pid_file,
            PathBuf::from("/run/keepalived/blue/keepalived.pid")
        );
        assert_eq!(
            cli.vrrp_pid_file,
            PathBuf::from("/run/keepalived/blue/vrrp.pid")
        );
        assert_eq!(cli.checkers_pid_file, PathBuf::from("/x/c.pid"));
        assert_eq!(
            cli.default_status_socket(),
            PathBuf::from("/run/rkeepalived/blue/status.sock")
        );
        assert_eq!(cli.syslog_ident(Some(Role::Vrrp)), "Keepalived_vrrp_blue");
        let mut cli = Cli::try_parse_from(["rkeepalived", "-p", "/x/lb1.pid"]).expect("parses");
        cli.resolve_paths();
        assert_eq!(
            cli.default_status_socket(),
            PathBuf::from("/x/lb1.status.sock")
        );
    }

    #[test]
    fn signum_names() {
        let cli = Cli::try_parse_from(["rkeepalived", "--signum=RELOAD"]).expect("parses");
        assert_eq!(
            cli.signum
                .as_deref()
                .and_then(SigFunc::from_keepalived_name)
                .map(SigFunc::signal_number),
            Some(libc::SIGHUP)
        );
        assert_eq!(SigFunc::from_keepalived_name("reload"), None);
        assert_eq!(SigFunc::Json.signal_number(), libc::SIGRTMIN() + 2);
        assert_eq!(SigFunc::StatsClear.signal_number(), libc::SIGRTMAX() - 1);
    }
}
