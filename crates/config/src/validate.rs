//! Cross-object checks after parsing. Where keepalived warns and fixes the
//! configuration up, we do the same and say so in the warning.

use std::collections::HashSet;

use crate::diag::{Diagnostic, Pos, Severity};
use crate::model::*;
use crate::parse::fixup;

fn at(origin: &Origin, severity: Severity, message: String) -> Diagnostic {
    Diagnostic {
        file: (*origin.file).clone(),
        line: origin.line,
        col: 1,
        severity,
        message,
    }
}

/// Validate and fix up `cfg`; returns (errors, warnings).
pub fn validate(
    cfg: &mut Config,
    lvs_sync_pos: Option<&Pos>,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let instance_names: HashSet<String> =
        cfg.vrrp_instances.iter().map(|v| v.name.clone()).collect();
    sync_group_members(cfg, &instance_names, &mut warnings);
    fixup::sync_group_drops_weighted_tracking(cfg, &mut |origin, msg| {
        warnings.push(at(origin, Severity::Warning, msg))
    });
    fixup::bfd::sync_group_owner_clears_bfd_weights(cfg, &mut |origin, msg| {
        warnings.push(at(origin, Severity::Warning, msg))
    });
    fixup::bfd::instance_and_sync_group_track_same_bfd(cfg, &mut |origin, msg| {
        warnings.push(at(origin, Severity::Warning, msg))
    });
    lvs_sync_daemon_instance(cfg, &instance_names, lvs_sync_pos, &mut warnings);
    virtual_servers(cfg, &mut errors, &mut warnings);
    crate::parse::announce::validate(cfg, &mut warnings);
    (errors, warnings)
}

/// Sync groups: members must exist, an instance is in at most one group.
fn sync_group_members(
    cfg: &mut Config,
    instance_names: &HashSet<String>,
    warnings: &mut Vec<Diagnostic>,
) {
    let mut grouped: HashSet<String> = HashSet::new();
    for g in &mut cfg.vrrp_sync_groups {
        let mut kept = Vec::new();
        for m in std::mem::take(&mut g.group) {
            if !instance_names.contains(&m) {
                warnings.push(at(
                    &g.origin,
                    Severity::Warning,
                    format!(
                        "vrrp_sync_group '{}': vrrp_instance '{m}' does not exist; ignoring it (as keepalived does)",
                        g.name
                    ),
                ));
            } else if !grouped.insert(m.clone()) {
                // keepalived: vrrp/vrrp_sync.c `vrrp_sync_set_group()`: the
                // first group keeps it.
                warnings.push(at(
                    &g.origin,
                    Severity::Warning,
                    format!(
                        "vrrp_sync_group '{}': vrrp_instance '{m}' cannot exist in more than one sync group; ignoring it here (as keepalived does)",
                        g.name
                    ),
                ));
            } else if !kept.contains(&m) {
                kept.push(m);
            }
        }
        g.group = kept;
        if g.group.is_empty() {
            warnings.push(at(
                &g.origin,
                Severity::Warning,
                format!(
                    "vrrp_sync_group '{}' has no valid members; it has no effect",
                    g.name
                ),
            ));
        }
    }
}

/// lvs_sync_daemon's instance must exist, or keepalived clears the whole
/// sync daemon configuration (vrrp/vrrp.c `vrrp_complete_init()`: "Unable
/// to find vrrp instance %s for lvs_syncd - clearing lvs_syncd config").
fn lvs_sync_daemon_instance(
    cfg: &mut Config,
    instance_names: &HashSet<String>,
    lvs_sync_pos: Option<&Pos>,
    warnings: &mut Vec<Diagnostic>,
) {
    let Some(d) = &cfg.global_defs.lvs_sync_daemon else {
        return;
    };
    if let Some(inst) = &d.vrrp_instance {
        if !instance_names.contains(inst) {
            let pos = lvs_sync_pos.cloned().unwrap_or(Pos {
                file: std::sync::Arc::new(Default::default()),
                line: 0,
                col: 0,
            });
            warnings.push(pos.warning(format!(
                "Unable to find vrrp instance {inst} for lvs_syncd - clearing lvs_syncd config (as keepalived does)"
            )));
            cfg.global_defs.lvs_sync_daemon = None;
        }
    }
}

/// Virtual servers: groups must exist (with the group fix-ups); no
/// duplicate services.
fn virtual_servers(cfg: &mut Config, errors: &mut Vec<Diagnostic>, warnings: &mut Vec<Diagnostic>) {
    let groups: HashSet<String> = cfg
        .virtual_server_groups
        .iter()
        .map(|g| g.name.clone())
        .collect();
    // Where each service was first defined (a map: keepalived issue #2318
    // has 2,284 virtual servers, a list search would be quadratic).
    let mut seen: std::collections::HashMap<(VirtualService, Protocol), Origin> =
        std::collections::HashMap::with_capacity(cfg.virtual_servers.len());
    let mut kept = Vec::new();
    for mut vs in std::mem::take(&mut cfg.virtual_servers) {
        if let VirtualService::Group(name) = &vs.service {
            if let Some(g) = cfg.virtual_server_groups.iter().find(|g| &g.name == name) {
                let mut warn = |msg: String| warnings.push(at(&vs.origin, Severity::Warning, msg));
                let (ha_suspend, persistence) =
                    fixup::vsg_fixups(g, vs.ha_suspend, vs.persistence_timeout, &mut warn);
                vs.ha_suspend = ha_suspend;
                vs.persistence_timeout = persistence;
            }
            if !groups.contains(name) {
                warnings.push(at(
                    &vs.origin,
                    Severity::Warning,
                    format!(
                        "virtual_server group '{name}': no virtual_server_group of that name; ignoring this virtual_server (keepalived accepts it silently but cannot program it)"
                    ),
                ));
                continue;
            }
        }
        match seen.entry((vs.service.clone(), vs.protocol)) {
            std::collections::hash_map::Entry::Occupied(first) => {
                errors.push(at(
                    &vs.origin,
                    Severity::Error,
                    format!(
                        "virtual_server {} {:?} is already defined at {}",
                        service_name(&vs.service),
                        vs.protocol,
                        first.get()
                    ),
                ));
                continue;
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(vs.origin.clone());
            }
        }
        kept.push(vs);
    }
    cfg.virtual_servers = kept;
}

pub fn service_name(s: &VirtualService) -> String {
    match s {
        VirtualService::Addr {
            addr,
            port: Some(p),
        } => format!("{addr} {p}"),
        VirtualService::Addr { addr, port: None } => addr.to_string(),
        VirtualService::Fwmark(m) => format!("fwmark {m}"),
        VirtualService::Group(g) => format!("group {g}"),
    }
}
