//! Cross-object checks after parsing. Where keepalived warns and fixes the
//! configuration up, we do the same and say so in the warning.

use std::collections::HashSet;

use crate::diag::{Diagnostic, Pos, Severity};
use crate::model::*;

fn at(origin: &Origin, severity: Severity, message: String) -> Diagnostic {
    Diagnostic {
        file: origin.file.clone(),
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

    // Sync groups: members must exist, an instance is in at most one group.
    let instance_names: HashSet<String> =
        cfg.vrrp_instances.iter().map(|v| v.name.clone()).collect();
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
                errors.push(at(
                    &g.origin,
                    Severity::Error,
                    format!(
                        "vrrp_sync_group '{}': vrrp_instance '{m}' is already in another sync group",
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

    // keepalived: tracking weights of grouped instances are set to 0 unless
    // the group has sync_group_tracking_weight.
    let zero_weights: HashSet<String> = cfg
        .vrrp_sync_groups
        .iter()
        .filter(|g| !g.sync_group_tracking_weight)
        .flat_map(|g| g.group.iter().cloned())
        .collect();
    for v in &mut cfg.vrrp_instances {
        if !zero_weights.contains(&v.name) {
            continue;
        }
        let origin = v.origin.clone();
        let name = v.name.clone();
        let mut warn = |msg: String| {
            warnings.push(at(
                &origin,
                Severity::Warning,
                format!(
                    "vrrp_instance '{name}': {msg}; use sync_group_tracking_weight to keep weights"
                ),
            ))
        };
        crate::parse::fixup::drop_weighted_tracking(v, true, &mut warn, "its sync group");
    }

    // lvs_sync_daemon instance (position recorded by the parser).
    if let Some(d) = &mut cfg.global_defs.lvs_sync_daemon {
        if let Some(inst) = &d.vrrp_instance {
            if !instance_names.contains(inst) {
                let pos = lvs_sync_pos.cloned().unwrap_or(Pos {
                    file: std::sync::Arc::new(Default::default()),
                    line: 0,
                    col: 0,
                });
                warnings.push(pos.warning(format!(
                    "lvs_sync_daemon: vrrp_instance '{inst}' does not exist; the sync daemon will not follow VRRP state"
                )));
                d.vrrp_instance = None;
            }
        }
    }

    // Virtual servers: groups must exist; no duplicate services.
    let groups: HashSet<String> = cfg
        .virtual_server_groups
        .iter()
        .map(|g| g.name.clone())
        .collect();
    let mut seen: Vec<(VirtualService, Protocol, Origin)> = Vec::new();
    let mut kept = Vec::new();
    for mut vs in std::mem::take(&mut cfg.virtual_servers) {
        if let VirtualService::Group(name) = &vs.service {
            if let Some(g) = cfg.virtual_server_groups.iter().find(|g| &g.name == name) {
                let has_fwmark = g
                    .members
                    .iter()
                    .any(|m| matches!(m, VsgMember::Fwmark { .. }));
                if vs.ha_suspend && has_fwmark {
                    warnings.push(at(&vs.origin, Severity::Warning, format!(
                        "virtual_server group {name}: ha_suspend cannot be used with firewall marks; clearing it (as keepalived does)"
                    )));
                    vs.ha_suspend = false;
                }
                let portless = g
                    .members
                    .iter()
                    .any(|m| matches!(m, VsgMember::Range { port: None, .. }));
                if portless && vs.persistence_timeout.is_none() {
                    warnings.push(at(&vs.origin, Severity::Warning, format!(
                        "virtual_server group {name}: a zero port is only valid for persistent services; setting persistence_timeout 360 (as keepalived does)"
                    )));
                    vs.persistence_timeout = Some(defaults::PERSISTENCE_TIMEOUT);
                }
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
        if let Some((_, _, first)) = seen
            .iter()
            .find(|(s, p, _)| *s == vs.service && *p == vs.protocol)
        {
            errors.push(at(
                &vs.origin,
                Severity::Error,
                format!(
                    "virtual_server {} {:?} is already defined at {first}",
                    service_name(&vs.service),
                    vs.protocol
                ),
            ));
            continue;
        }
        seen.push((vs.service.clone(), vs.protocol, vs.origin.clone()));
        kept.push(vs);
    }
    cfg.virtual_servers = kept;

    (errors, warnings)
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
