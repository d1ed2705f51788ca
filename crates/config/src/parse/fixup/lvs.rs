//! virtual_server, real_server and checker fix-ups: keepalived's
//! check/check_parser.c and check/check_data.c `validate_check_config()`.

use std::time::Duration;

use crate::diag::Diagnostic;
use crate::model::*;
use crate::tree::Node;

// ---------------------------------------------------------------------------
// LVS: keepalived's check/check_parser.c and check/check_data.c
// validate_check_config()
// ---------------------------------------------------------------------------

/// `quorum 0` becomes 1. keepalived: check/check_parser.c `quorum_handler()`.
pub(in crate::parse) fn quorum_at_least_one(
    vs: &mut VirtualServer,
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if vs.quorum == 0 {
        warnings.push(
            k.pos()
                .warning("'quorum': must be at least 1; using 1 (as keepalived does)"),
        );
        vs.quorum = 1;
    }
}

/// The virtual server's `alpha` is a plain flag: only "on" is meaningful.
/// keepalived: check/check_parser.c `vs_alpha_handler()` (sets it, never
/// clears it).
pub(in crate::parse) fn vs_alpha_is_a_flag(vs: &mut VirtualServer) {
    if vs.checker_defaults.alpha == Some(false) {
        vs.checker_defaults.alpha = None;
    }
    vs.alpha = vs.checker_defaults.alpha.unwrap_or(false);
}

/// Firewall-mark services have no protocol.
/// keepalived: check/check_data.c `validate_check_config()` ("protocol
/// specified for fwmark - protocol will be ignored").
pub(in crate::parse) fn fwmark_protocol_ignored(
    vs: &mut VirtualServer,
    protocol_set: bool,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if matches!(vs.service, VirtualService::Fwmark(_)) && protocol_set {
        warnings.push(n.pos().warning(
            "virtual_server fwmark: protocol is ignored for firewall-mark services (as keepalived does)",
        ));
        vs.protocol = Protocol::Tcp;
    }
}

/// No protocol: UDP (the kernel's default for protocol 0).
/// keepalived: check/check_data.c `validate_check_config()` ("no protocol
/// set - defaulting to UDP").
pub(in crate::parse) fn protocol_defaults_to_udp(
    vs: &mut VirtualServer,
    protocol_set: bool,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if !matches!(vs.service, VirtualService::Fwmark(_)) && !protocol_set {
        warnings.push(n.pos().warning(
            "virtual_server: no protocol set; defaulting to UDP (as keepalived does). Add 'protocol TCP' for TCP services",
        ));
        vs.protocol = Protocol::Udp;
    }
}

/// A zero port needs persistence (360 s).
/// keepalived: check/check_data.c `validate_check_config()` ("zero port
/// only valid for persistent services - setting").
pub(in crate::parse) fn zero_port_needs_persistence(
    vs: &mut VirtualServer,
    persistence_set: bool,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if let VirtualService::Addr { port: None, .. } = vs.service {
        if !persistence_set {
            warnings.push(n.pos().warning(
                "virtual_server: a zero port is only valid for persistent services; setting persistence_timeout 360 (as keepalived does)",
            ));
            vs.persistence_timeout = Some(defaults::PERSISTENCE_TIMEOUT);
        }
    }
}

/// No ha_suspend with firewall marks.
/// keepalived: check/check_data.c `validate_check_config()` ("cannot use
/// ha_suspend with fwmarks - clearing ha_suspend").
pub(in crate::parse) fn fwmark_no_ha_suspend(
    vs: &mut VirtualServer,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if matches!(vs.service, VirtualService::Fwmark(_)) && vs.ha_suspend {
        warnings.push(n.pos().warning(
            "virtual_server fwmark: ha_suspend cannot be used with firewall marks; clearing it (as keepalived does)",
        ));
        vs.ha_suspend = false;
    }
}

/// One-packet scheduling only with UDP address services.
/// keepalived: check/check_data.c `validate_check_config()` ("OPS is only
/// valid for UDP, or with a firewall mark").
pub(in crate::parse) fn ops_needs_udp(
    vs: &mut VirtualServer,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if matches!(vs.service, VirtualService::Addr { .. }) && vs.ops && vs.protocol != Protocol::Udp {
        warnings.push(n.pos().warning(
            "virtual_server: 'ops' is only valid with protocol UDP; ignoring it (as keepalived does)",
        ));
        vs.ops = false;
    }
}

/// Real/sorry server ports follow the virtual server's, except with NAT
/// (where a missing port is the VS port); fwmark services have none.
/// keepalived: check/check_data.c `validate_check_config()`.
pub(in crate::parse) fn ports_follow_virtual_server(
    vs: &mut VirtualServer,
    notes: &mut Vec<String>,
) {
    let vs_port = match vs.service {
        VirtualService::Addr { port, .. } => Some(port),
        VirtualService::Fwmark(_) => Some(None),
        VirtualService::Group(_) => None,
    };
    let fwmark = matches!(vs.service, VirtualService::Fwmark(_));
    let mut fix = |what: String, method: ForwardingMethod, port: &mut Option<u16>| {
        let Some(vs_port) = vs_port else { return };
        if method == ForwardingMethod::Nat {
            if !fwmark && port.is_none() {
                *port = vs_port;
            }
            return;
        }
        if fwmark {
            if port.is_some() {
                notes.push(format!(
                    "fwmark virtual_server: {what} has a port; clearing it (as keepalived does)"
                ));
                *port = None;
            }
        } else if port.is_none() {
            *port = vs_port;
        } else if *port != vs_port {
            notes.push(format!("{what}: port differs from the virtual server's (only NAT can remap ports); using the virtual server's port (as keepalived does)"));
            *port = vs_port;
        }
    };
    for rs in &mut vs.real_servers {
        fix(
            format!("real_server {}", rs.addr),
            rs.lvs_method,
            &mut rs.port,
        );
    }
    if let Some(s) = &mut vs.sorry_server {
        fix("sorry_server".to_string(), s.lvs_method, &mut s.port);
    }
}

/// Quorum at most the total real-server weight.
/// keepalived: check/check_data.c `validate_check_config()`.
pub(in crate::parse) fn quorum_at_most_total_weight(
    vs: &mut VirtualServer,
    notes: &mut Vec<String>,
) {
    let weight_sum: u64 = vs.real_servers.iter().map(|r| u64::from(r.weight)).sum();
    if u64::from(vs.quorum) > weight_sum {
        let q = u32::try_from(weight_sum).unwrap_or(u32::MAX);
        notes.push(format!(
            "quorum {} exceeds the total weight of the real servers {weight_sum}; reducing quorum to {q} (as keepalived does)",
            vs.quorum
        ));
        vs.quorum = q;
    }
}

/// Hysteresis below quorum.
/// keepalived: check/check_data.c `validate_check_config()`.
pub(in crate::parse) fn hysteresis_below_quorum(vs: &mut VirtualServer, notes: &mut Vec<String>) {
    if vs.hysteresis > 0 && vs.hysteresis >= vs.quorum {
        let h = vs.quorum.saturating_sub(1);
        notes.push(format!(
            "hysteresis {} >= quorum {}; setting hysteresis to {h} (as keepalived does)",
            vs.hysteresis, vs.quorum
        ));
        vs.hysteresis = h;
    }
}

/// A real server alerts by default unless `smtp_alert` or
/// `smtp_alert_checker` was set globally (backwards compatibility).
/// keepalived: check/check_data.c `validate_check_config()`
/// (`rs->smtp_alert == -1`).
pub(in crate::parse) fn real_server_smtp_alert_default(
    smtp_alert_set: bool,
    g: &GlobalDefs,
) -> bool {
    if smtp_alert_set {
        g.smtp_alert_checker
    } else {
        true
    }
}

/// A virtual server on a group: no ha_suspend when the group has fwmarks;
/// a port-less address range needs persistence (360 s). Returns the new
/// (ha_suspend, persistence_timeout).
/// keepalived: check/check_data.c `validate_check_config()`.
pub(crate) fn vsg_fixups(
    g: &VirtualServerGroup,
    ha_suspend: bool,
    persistence: Option<Duration>,
    warn: &mut impl FnMut(String),
) -> (bool, Option<Duration>) {
    let name = &g.name;
    let mut out = (ha_suspend, persistence);
    let has_fwmark = g
        .members
        .iter()
        .any(|m| matches!(m, VsgMember::Fwmark { .. }));
    if ha_suspend && has_fwmark {
        warn(format!(
            "virtual_server group {name}: ha_suspend cannot be used with firewall marks; clearing it (as keepalived does)"
        ));
        out.0 = false;
    }
    let portless = g
        .members
        .iter()
        .any(|m| matches!(m, VsgMember::Range { port: None, .. }));
    if portless && persistence.is_none() {
        warn(format!(
            "virtual_server group {name}: a zero port is only valid for persistent services; setting persistence_timeout 360 (as keepalived does)"
        ));
        out.1 = Some(defaults::PERSISTENCE_TIMEOUT);
    }
    out
}
