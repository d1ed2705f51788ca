//! What a reload may not change about the daemon, and the process name it
//! may (core/main.c `reload_config`). keepalived logs each refused change
//! and keeps the running namespace and instance name: the pid files, the
//! status socket and the namespace stay, the rest of the configuration is
//! applied (its children keep the old values, global_data.c
//! `init_global_data(..., copy_unchangeable_config)`).

use rkeepalived_config::model::DaemonIdentity;

/// keepalived's messages for the changes a reload cannot make.
pub fn unsupported_changes(old: &DaemonIdentity, new: &DaemonIdentity) -> Vec<&'static str> {
    let mut out = Vec::new();
    if old.net_namespace != new.net_namespace {
        out.push("Cannot change network namespace at a reload - please restart keepalived");
    }
    if old.net_namespace_ipvs != new.net_namespace_ipvs {
        out.push("Cannot change IPVS network namespace at a reload - please restart keepalived");
    }
    if old.instance != new.instance {
        out.push("Cannot change instance name at a reload - please restart keepalived");
    }
    out
}

/// The identity as the daemon runs it: `-s` overrides `net_namespace`.
pub fn effective(mut id: DaemonIdentity, cli: &crate::cli::Cli) -> DaemonIdentity {
    if !cli.namespace_from_config && cli.namespace.is_some() {
        id.net_namespace = cli.namespace.clone();
    }
    id
}

/// The parent's side of a reload: log what cannot change and keep the old
/// identity (keepalived keeps its old global data then); otherwise take a
/// changed `process_name`. Returns the identity to run with.
pub fn on_reload(old: &DaemonIdentity, new: DaemonIdentity) -> DaemonIdentity {
    let refused = unsupported_changes(old, &new);
    for line in &refused {
        tracing::info!("{line}");
    }
    if !refused.is_empty() {
        return old.clone();
    }
    crate::process_names::apply_reload(old, &new, None);
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_and_instance_cannot_change() {
        let old = DaemonIdentity {
            net_namespace: Some("blue".into()),
            instance: Some("lb1".into()),
            ..Default::default()
        };
        assert!(unsupported_changes(&old, &old.clone()).is_empty());
        let new = DaemonIdentity {
            instance: Some("lb2".into()),
            net_namespace: None,
            ..Default::default()
        };
        assert_eq!(
            unsupported_changes(&old, &new),
            [
                "Cannot change network namespace at a reload - please restart keepalived",
                "Cannot change instance name at a reload - please restart keepalived"
            ]
        );
    }
}
