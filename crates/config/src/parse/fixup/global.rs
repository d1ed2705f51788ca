//! global_defs fix-ups: keepalived's core/global_parser.c and the
//! defaults vrrp/vrrp.c and check/check_data.c derive from global values.

use std::time::Duration;

use crate::diag::Diagnostic;
use crate::model::*;
use crate::tree::Node;

// ---------------------------------------------------------------------------
// global_defs
// ---------------------------------------------------------------------------

/// Global values whose default depends on whether they were set.
#[derive(Default)]
pub(in crate::parse) struct GlobalSeen {
    pub(in crate::parse) smtp_alert: bool,
    pub(in crate::parse) lower_prio_delay: bool,
    pub(in crate::parse) lower_prio_repeat: bool,
    pub(in crate::parse) smtp_alert_vrrp: bool,
    pub(in crate::parse) smtp_alert_checker: bool,
}

/// `smtp_connect_timeout 0` becomes 1.
/// keepalived: core/global_parser.c `smtpto_handler()`.
pub(in crate::parse) fn smtp_connect_timeout_zero(
    g: &mut GlobalDefs,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if g.smtp_connect_timeout.is_zero() {
        warnings.push(
            n.pos().warning(
                "smtp_connect_timeout must be greater than 0; using 1 (as keepalived does)",
            ),
        );
        g.smtp_connect_timeout = Duration::from_secs(1);
    }
}

/// `vrrp_min_garp`: one GARP, no second block.
/// keepalived: core/global_parser.c `vrrp_min_garp_handler()`.
pub(in crate::parse) fn min_garp(g: &mut GlobalDefs) {
    if g.vrrp_min_garp {
        g.vrrp_garp_master_repeat = 1;
        g.vrrp_garp_master_delay = Duration::ZERO;
    }
}

/// Unset `vrrp_garp_lower_prio_delay/_repeat` follow `vrrp_garp_master_*`.
/// keepalived: vrrp/vrrp.c `vrrp_complete_init()` ("Set defaults if not
/// specified").
pub(in crate::parse) fn garp_lower_prio_follows_master(g: &mut GlobalDefs, seen: &GlobalSeen) {
    if !seen.lower_prio_delay {
        g.vrrp_garp_lower_prio_delay = g.vrrp_garp_master_delay;
    }
    if !seen.lower_prio_repeat {
        g.vrrp_garp_lower_prio_repeat = g.vrrp_garp_master_repeat;
    }
}

/// Unset `smtp_alert_vrrp/_checker` follow `smtp_alert`.
/// keepalived: core/global_data.c (`-1` = unset), vrrp/vrrp.c
/// `vrrp_complete_instance()` and check/check_data.c
/// `validate_check_config()` (`smtp_alert == -1` defaults).
pub(in crate::parse) fn smtp_alert_vrrp_checker_follow_smtp_alert(
    g: &mut GlobalDefs,
    seen: &GlobalSeen,
) {
    if !seen.smtp_alert_vrrp {
        g.smtp_alert_vrrp = g.smtp_alert;
    }
    if !seen.smtp_alert_checker {
        g.smtp_alert_checker = g.smtp_alert;
    }
}
