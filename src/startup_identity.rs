//! The start of a daemon between reading its configuration and writing its
//! pid files, as keepalived 2.2.7's core/main.c `keepalived_main` orders
//! it: take `process_name`, let `-s` override `net_namespace` (and say
//! so), enter the namespace (src/namespace.rs), then derive the pid file
//! names inside it.

use std::process::ExitCode;

use crate::cli::Cli;
use crate::config_source::LoadedConfig;
use crate::namespace::{self, NamespaceError, Namespaces};

/// keepalived's exit status when the namespace cannot be entered: it
/// jumps to its normal end with KEEPALIVED_EXIT_OK (core/main.c, `goto
/// end` after "Unable to set network namespace"); checked against
/// keepalived 2.2.7 in tests/daemon_namespace.rs.
pub const EXIT_NO_NAMESPACE: u8 = 0;

/// Applies the configuration's identity to `cli` and enters its network
/// namespace. Returns the namespaces (kept until exit) and the lines to
/// log once logging is up; Err(exit code) when the namespace is missing.
/// Must run while the process has a single thread.
pub fn enter(
    cli: &mut Cli,
    loaded: &LoadedConfig,
) -> Result<(Option<Namespaces>, Vec<String>), ExitCode> {
    let id = &loaded.config.global_defs.identity;
    let mut notes = Vec::new();
    // core/main.c: "Update process name if necessary", before the
    // namespace and the fork, so the children inherit it.
    crate::process_names::apply_start(id, None);
    notes.extend(cli.apply_identity(id));
    let mut entered = None;
    if let Some(ns) = cli.namespace.clone() {
        match namespace::set_namespaces(&ns, false) {
            Ok(n) => {
                cli.run_mounted = n.run_mounted();
                cli.resolve_paths();
                entered = Some(n);
            }
            Err(e) => {
                if !cli.log_console {
                    eprintln!("rkeepalived: {e}");
                    eprintln!("rkeepalived: {}", NamespaceError::exiting(&ns));
                }
                log_early(cli, &[e.to_string(), NamespaceError::exiting(&ns)]);
                return Err(ExitCode::from(EXIT_NO_NAMESPACE));
            }
        }
    }
    if let Some(n) = &mut entered {
        notes.append(&mut n.notes);
    }
    if cli.namespace.is_some() || cli.instance_name.is_some() {
        notes.push(format!(
            "Changing syslog ident to {}",
            cli.syslog_ident(None)
        ));
    }
    Ok((entered, notes))
}

/// keepalived logs these to syslog before it exits; logging is not up yet
/// here, so open it just for them (console only with `-l`).
fn log_early(cli: &Cli, lines: &[String]) {
    let Ok(_sinks) = crate::logging::init(&crate::daemon::log_options(cli, None)) else {
        return;
    };
    for l in lines {
        tracing::error!("{l}");
    }
}
