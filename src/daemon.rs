//! Process entry points: the supervisor (parent), the role children, and
//! the one-shot modes (`-t`, `-v`, `--signum`, `--status`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rkeepalived_script::safe_file;

use crate::cli::{Cli, Role};
use crate::config_source::{self, LoadedConfig};
use crate::logging::{self, LogOptions};
use crate::pidfile::{self, PidFile};
use crate::supervisor::Supervisor;
use crate::{role, status, sys};

/// How long a restarted daemon waits for the children of a killed
/// predecessor to finish their clean stop (their engine's stop bound plus
/// the final IPC frame).
const ORPHAN_STOP_WAIT: std::time::Duration =
    role::ENGINE_STOP_TIMEOUT.saturating_add(std::time::Duration::from_secs(3));

/// Exit status for a configuration that does not load: keepalived 2.2.7's
/// KEEPALIVED_EXIT_CONFIG (what `keepalived -t` returns on errors).
pub const EXIT_CONFIG: u8 = 5;
/// keepalived's KEEPALIVED_EXIT_NO_CONFIG: `-e` found a missing include.
pub const EXIT_NO_CONFIG: u8 = 6;
/// `--config-test-strict`: the configuration loads, but uses keywords
/// rkeepalived parses without acting on them. Not one of keepalived's
/// `-t` codes (0, 4 fatal, 5 notices, 6 security), so a gate can tell
/// "runs differently here" from "broken".
pub const EXIT_NOT_ACTED_ON: u8 = 7;
pub const EXIT_FAILURE: u8 = 1;

pub fn main_with(cli: Cli) -> ExitCode {
    if let Some(name) = &cli.signum {
        // core/main.c parse_cmdline(): the number on stdout, exit 0; an
        // unknown name on stderr, exit 1.
        return match crate::cli::SigFunc::from_keepalived_name(name) {
            Some(func) => {
                println!("{}", func.signal_number());
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("Unknown sigfunc {name}");
                ExitCode::from(EXIT_FAILURE)
            }
        };
    }
    if cli.version {
        print!("{}", crate::cli::version_text());
        return ExitCode::SUCCESS;
    }
    if let Some(role) = cli.role {
        return child_main(cli, role);
    }
    if cli.status {
        return status_main(&cli);
    }
    parent_main(cli)
}

pub(crate) fn log_options(cli: &Cli, role: Option<Role>) -> LogOptions {
    let ident = cli.syslog_ident(role);
    LogOptions {
        console: cli.log_console,
        detail: cli.log_detail,
        syslog: !cli.no_syslog,
        facility: cli.log_facility.unwrap_or_default(),
        // keepalived: one file per process (FILE, FILE_vrrp, FILE_check).
        file: cli
            .log_file
            .as_deref()
            .map(|f| crate::instance::log_file_name(f, role, &cli.instance_id())),
        ident,
        syslog_socket: cli.syslog_socket.clone(),
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        return p.to_owned();
    }
    std::env::current_dir()
        .map(|d| d.join(p))
        .unwrap_or_else(|_| p.to_owned())
}

/// Daemonizing changes the cwd to `/`: resolve every path first.
fn absolutize(cli: &mut Cli) {
    cli.config_file = absolute(&cli.config_file);
    cli.pid_file = absolute(&cli.pid_file);
    cli.vrrp_pid_file = absolute(&cli.vrrp_pid_file);
    cli.checkers_pid_file = absolute(&cli.checkers_pid_file);
    cli.dump_dir = absolute(&cli.dump_dir);
    cli.log_file = cli.log_file.as_deref().map(absolute);
    cli.status_socket = cli.status_socket.as_deref().map(absolute);
    cli.syslog_socket = absolute(&cli.syslog_socket);
}

fn warn_unsupported(cli: &Cli) {
    let mut notes = Vec::new();
    if cli.snmp_agent_socket.is_some() && !cli.snmp {
        notes.push("-A/--snmp-agent-socket has no effect without -x/--snmp");
    }
    if cli.core_dump_pattern.is_some() {
        notes.push("-M/--core-dump-pattern: core_pattern is left unchanged");
    }
    if cli.address_monitoring && !cli.vrrp_only {
        notes.push(
            "-a/--address-monitoring: only the VRRP process logs address changes; the health checker does not yet",
        );
    }
    for n in notes {
        tracing::warn!("{n}");
        eprintln!("rkeepalived: warning: {n}");
    }
}

fn load(cli: &Cli) -> Result<LoadedConfig, crate::config_source::ConfigLoadError> {
    config_source::set_all_config(cli.all_config);
    config_source::load_config(
        &cli.config_file,
        cli.config_id.as_deref(),
        config_source::processes(cli),
    )
}

/// [`load`] for a daemon that will run (not `-t`): with the re-parse cache
/// its first reload uses.
fn load_to_run(cli: &Cli) -> Result<LoadedConfig, crate::config_source::ConfigLoadError> {
    if cli.config_test.is_some() || cli.config_test_strict {
        return load(cli);
    }
    config_source::set_all_config(cli.all_config);
    config_source::load_config_reusing(
        &cli.config_file,
        cli.config_id.as_deref(),
        config_source::processes(cli),
        None,
    )
}

fn parent_main(mut cli: Cli) -> ExitCode {
    let unset_signals = sys::swallow_unused_signals();
    if let Some(mask) = cli.umask {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
    }
    if cli.core_dump {
        // core/main.c -m: RLIMIT_CORE unlimited (the children inherit it).
        let _ = nix::sys::prctl::set_dumpable(true);
        use nix::sys::resource::{setrlimit, Resource, RLIM_INFINITY};
        if setrlimit(Resource::RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY).is_err() {
            eprintln!("rkeepalived: Failed to set core file size");
        }
    }
    absolutize(&mut cli);
    // keepalived reads the configuration first, then enters the namespace
    // it names (core/main.c keepalived_main); -t stays where it is.
    let loaded = load_to_run(&cli);
    if cli.config_test.is_some() || cli.config_test_strict {
        let log_file = cli.config_test.clone().flatten();
        return config_test(&cli, loaded, log_file.as_deref());
    }
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            for d in &e.diagnostics {
                eprintln!("{d}");
            }
            eprintln!(
                "rkeepalived: configuration {} has errors; not starting",
                cli.config_file.display()
            );
            if config_source::is_all_config_failure(&e) {
                // core/main.c: had_config_file_error() -> KEEPALIVED_EXIT_NO_CONFIG.
                return ExitCode::from(EXIT_NO_CONFIG);
            }
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    if cli.dump_conf {
        print!("{}", config_source::dump_config(&loaded.config));
        let _ = std::io::stdout().flush();
    }
    let (namespaces, mut startup_notes) = match crate::startup_identity::enter(&mut cli, &loaded) {
        Ok(v) => v,
        Err(code) => return code,
    };
    absolutize(&mut cli);

    for path in [&cli.pid_file, &cli.vrrp_pid_file, &cli.checkers_pid_file] {
        if path != &cli.pid_file && pidfile::live_pid(&cli.pid_file).is_none() {
            // Children of a killed supervisor are still stopping: let them.
            pidfile::wait_for_orphaned_child(path, ORPHAN_STOP_WAIT);
        }
        if let Err(e) = pidfile::ensure_not_running(path) {
            eprintln!("rkeepalived: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    }

    if !cli.dont_fork {
        if let Err(e) = sys::daemonize() {
            eprintln!("rkeepalived: cannot daemonize: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    let sinks = match logging::init(&log_options(&cli, None)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("rkeepalived: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    tracing::info!(
        "starting rkeepalived v{} (pid {}, config {}, logging to {})",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        cli.config_file.display(),
        if sinks.is_empty() {
            "nowhere".to_string()
        } else {
            sinks.join("+")
        }
    );
    for w in &loaded.warnings {
        tracing::warn!("{w}");
    }
    for n in startup_notes.drain(..) {
        tracing::info!("{n}");
    }
    if !loaded.not_acted_on.is_empty() {
        tracing::warn!("{}", not_acted_on_summary(&loaded.not_acted_on));
    }
    if !unset_signals.is_empty() {
        tracing::warn!("cannot set the disposition of signals {unset_signals:?}");
    }
    warn_unsupported(&cli);

    let _pid_file = match PidFile::create(&cli.pid_file, std::process::id()) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("rkeepalived: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let run_dirs = cli.instance_id().private_run_dirs();
    let result = runtime.block_on(async move {
        Supervisor::new(cli, loaded.config, loaded.reparse)?
            .run()
            .await
    });
    drop(_pid_file);
    drop(namespaces);
    for dir in run_dirs {
        // Only if empty: another daemon's or the operator's files stay.
        let _ = std::fs::remove_dir(dir);
    }
    match result {
        Ok(()) => {
            tracing::info!("rkeepalived stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("rkeepalived stopping: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// `-t[=LOG_FILE]`: exit 0 if the configuration loads, 5 otherwise, with
/// every diagnostic (`file:line:col: message`) on stderr or in LOG_FILE.
/// A configuration that loads ends with one summary line of the keywords
/// parsed but not acted on ([`not_acted_on_summary`]); with
/// `--config-test-strict` any such keyword exits 7.
fn config_test(
    cli: &Cli,
    loaded: Result<LoadedConfig, config_source::ConfigLoadError>,
    log_file: Option<&Path>,
) -> ExitCode {
    let mut no_config = false;
    let (lines, ok, config, not_acted_on) = match loaded {
        // Refused scripts fail -t (the daemon would run without them).
        Ok(l) => (
            l.warnings,
            l.test_errors == 0,
            Some(l.config),
            Some(l.not_acted_on),
        ),
        Err(e) => {
            no_config = config_source::is_all_config_failure(&e);
            (e.diagnostics, false, None, None)
        }
    };
    let mut out: Box<dyn Write> = match log_file {
        // keepalived (core/main.c, -t): open(O_WRONLY | O_APPEND | O_CREAT |
        // O_NOFOLLOW, 0644), and exit on failure.
        Some(p) => match safe_file::open_append(p, safe_file::PUBLIC_MODE) {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("rkeepalived: unable to open config-test log file: {e}");
                return ExitCode::from(EXIT_FAILURE);
            }
        },
        None => Box::new(std::io::stderr()),
    };
    for l in &lines {
        let _ = writeln!(out, "{l}");
    }
    let missing = config.as_ref().map(missing_interfaces).unwrap_or_default();
    for l in &missing {
        let _ = writeln!(out, "{l}");
    }
    let ok = ok && missing.is_empty();
    if !ok {
        let _ = writeln!(
            out,
            "rkeepalived: configuration {} is not valid",
            cli.config_file.display()
        );
    }
    if let Some(kws) = &not_acted_on {
        let _ = writeln!(out, "{}", not_acted_on_summary(kws));
    }
    if no_config {
        return ExitCode::from(EXIT_NO_CONFIG);
    }
    if !ok {
        return ExitCode::from(EXIT_CONFIG);
    }
    if cli.dump_conf {
        if let Some(cfg) = &config {
            print!("{}", config_source::dump_config(cfg));
        }
    }
    if cli.config_test_strict && not_acted_on.is_some_and(|k| !k.is_empty()) {
        return ExitCode::from(EXIT_NOT_ACTED_ON);
    }
    ExitCode::SUCCESS
}

/// `-t` on this host: instances whose interface does not exist here.
/// keepalived 2.2.7 without `dynamic_interfaces` warns "interface X for
/// vrrp_instance Y doesn't exist", then "Non-existent interface specified
/// in configuration" and fails the test (exit 5; vrrp/vrrp.c
/// `vrrp_complete_instance()`, vrrp/vrrp_daemon.c `start_vrrp()`). The
/// daemon itself starts anyway and holds such an instance in FAULT until the
/// interface appears (crates/vrrp `iface::missing_at_start_message`), which
/// the last line says.
fn missing_interfaces(cfg: &rkeepalived_config::Config) -> Vec<String> {
    if cfg.global_defs.dynamic_interfaces {
        return Vec::new();
    }
    let mut out: Vec<String> = cfg
        .vrrp_instances
        .iter()
        // A unicast instance may run without an interface in keepalived.
        .filter(|i| i.unicast_peers.is_empty())
        .filter(|i| nix::net::if_::if_nametoindex(i.interface.as_str()).is_err())
        .map(|i| {
            format!(
                "{}:{}:1: warning: interface {} for vrrp_instance {} doesn't exist",
                i.origin.file.display(),
                i.origin.line,
                i.interface,
                i.name
            )
        })
        .collect();
    if !out.is_empty() {
        out.push(
            "Non-existent interface specified in configuration (keepalived refuses to start; rkeepalived starts and holds the instance in FAULT until the interface appears; with dynamic_interfaces both wait for it)"
                .to_string(),
        );
    }
    out
}

/// The last line of `-t`: "N keywords parsed but not acted on: a, b, c"
/// (also for 0, without the list, so scripts always find the line).
pub fn not_acted_on_summary(keywords: &[String]) -> String {
    let n = keywords.len();
    let noun = if n == 1 { "keyword" } else { "keywords" };
    if keywords.is_empty() {
        format!("{n} {noun} parsed but not acted on")
    } else {
        format!(
            "{n} {noun} parsed but not acted on: {}",
            keywords.join(", ")
        )
    }
}

fn status_main(cli: &Cli) -> ExitCode {
    let path = match &cli.status_socket {
        Some(p) => p.clone(),
        None => match load(cli) {
            Ok(l) => {
                // The daemon's paths follow its net_namespace and instance.
                let mut cli = cli.clone();
                let _ = cli.apply_identity(&l.config.global_defs.identity);
                status::socket_path(
                    None,
                    l.config.global_defs.status_socket.as_deref(),
                    cli.default_status_socket(),
                )
            }
            Err(_) => cli.default_status_socket(),
        },
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rkeepalived: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(status::fetch(&path)) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rkeepalived: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn child_main(cli: Cli, role: Role) -> ExitCode {
    // Exec reset the parent's handlers: no stray signal (a real-time one
    // sent to the whole process group) may kill a child either.
    let unset_signals = sys::swallow_unused_signals();
    // keepalived's children are forks: they keep the parent's name, or take
    // vrrp_process_name/checker_process_name (lib/utils.c set_process_name).
    let comm_error = cli
        .process_name
        .as_deref()
        .and_then(|name| crate::instance::set_comm(name).err());
    if let Err(e) = logging::init(&log_options(&cli, Some(role))) {
        eprintln!("rkeepalived {role}: {e}");
    }
    if let Some(e) = comm_error {
        tracing::info!(%role, "Failed to set process name: {e}");
    }
    if !unset_signals.is_empty() {
        tracing::warn!(%role, "cannot set the disposition of signals {unset_signals:?}");
    }
    // The checker is one event loop, like keepalived's: thousands of short
    // checks gain nothing from a second worker, and every worker thread
    // would fragment the heap into its own malloc arena. VRRP keeps two
    // workers so a slow notify or netlink call never delays an advert.
    let runtime = match role {
        Role::Checker | Role::Bfd => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Role::Vrrp => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(%role, "cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let fd = cli.ipc_fd.unwrap_or(sys::CHILD_IPC_FD);
    crate::engines::set_dont_release_ipvs(cli.dont_release_ipvs);
    crate::engines::set_vrrp_options(&cli);
    crate::engines::set_role_flags(&cli);
    crate::engines::set_log_detail(cli.log_detail);
    let result = runtime.block_on(async move {
        let stream = role::ipc_stream_from_fd(fd)?;
        role::run_role(role, stream).await
    });
    // Engines may leave blocking tasks (scripts); do not wait for them forever.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(%role, "{role} child: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::not_acted_on_summary;

    #[test]
    fn summary_line_forms() {
        assert_eq!(
            not_acted_on_summary(&[]),
            "0 keywords parsed but not acted on"
        );
        assert_eq!(
            not_acted_on_summary(&["lvs_timeouts".into()]),
            "1 keyword parsed but not acted on: lvs_timeouts"
        );
        assert_eq!(
            not_acted_on_summary(&["a".into(), "b".into()]),
            "2 keywords parsed but not acted on: a, b"
        );
    }
}
