//! global_defs `process_name`, `vrrp_process_name`, `checker_process_name`
//! (`lvs_process_name`) and `process_names`, as keepalived 2.2.7 applies
//! them with lib/utils.c `set_process_name()` (`prctl(PR_SET_NAME)`: the
//! comm `ps -o comm` shows; the command line is left alone):
//!
//! - the parent takes `process_name` after reading the configuration
//!   (core/main.c), before forking, so the children inherit it;
//! - each child then takes its own name if one is set (vrrp_daemon.c
//!   `start_vrrp`, check_daemon.c `start_check`);
//! - a reload that changes a name sets the new one; one that removes it
//!   sets `keepalived` (set_process_name(NULL)). We restore the name the
//!   process had instead, which is `keepalived` when started as keepalived
//!   and `rkeepalived` when started under its own name.
//!
//! Without any of these keywords (the default), all three processes keep
//! the name they were started with.

use std::sync::OnceLock;

use rkeepalived_config::model::DaemonIdentity;

use crate::cli::Role;

/// The name this process had before any keyword renamed it.
static ORIGINAL: OnceLock<Option<String>> = OnceLock::new();

fn original() -> Option<&'static str> {
    ORIGINAL
        .get_or_init(crate::instance::current_comm)
        .as_deref()
}

/// The configured name of the parent (None) or a child.
pub fn configured(id: &DaemonIdentity, role: Option<Role>) -> Option<&str> {
    match role {
        None => id.process_name.as_deref(),
        Some(Role::Vrrp) => id.vrrp_process_name.as_deref(),
        Some(Role::Checker) => id.checker_process_name.as_deref(),
        Some(Role::Bfd) => id.bfd_process_name.as_deref(),
    }
}

fn set(name: &str) {
    if let Err(e) = crate::instance::set_comm(name) {
        tracing::info!("Failed to set process name '{name}' ({e})");
    }
}

/// The name the process was started with (a role child: its parent's),
/// before any keyword renamed it.
pub fn original_name() -> Option<String> {
    original().map(str::to_owned)
}

/// At start: the parent takes `process_name`; a child its own name, else
/// the parent's `process_name` (a forked child of keepalived inherits the
/// renamed parent's comm).
pub fn apply_start(id: &DaemonIdentity, role: Option<Role>) {
    let _ = original();
    let name = match role {
        None => configured(id, None),
        Some(_) => configured(id, role).or(configured(id, None)),
    };
    if let Some(name) = name {
        set(name);
    }
}

/// At a reload: takes the new name if it changed, the original one if it
/// was removed.
pub fn apply_reload(old: &DaemonIdentity, new: &DaemonIdentity, role: Option<Role>) {
    let (before, after) = (configured(old, role), configured(new, role));
    if before == after {
        return;
    }
    match after {
        Some(name) => set(name),
        None => set(original().unwrap_or("keepalived")),
    }
}
