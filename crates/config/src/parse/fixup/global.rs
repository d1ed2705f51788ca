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
    pub(in crate::parse) vmac_prefix: bool,
    /// `*notify_fifo_script` written before its `*notify_fifo`:
    /// (fifo keyword, script).
    pub(in crate::parse) pending_fifo_scripts: Vec<(String, Notify, crate::diag::Pos)>,
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

/// `vrrp_min_garp`: one GARP, no second block, "but don't overwrite any
/// parameters already set" (values still at their default change).
/// keepalived: core/global_parser.c `vrrp_min_garp_handler()`.
pub(in crate::parse) fn min_garp(g: &mut GlobalDefs) {
    if g.vrrp_min_garp {
        if g.vrrp_garp_master_repeat == defaults::GARP_MASTER_REPEAT {
            g.vrrp_garp_master_repeat = 1;
        }
        if g.vrrp_garp_master_delay == defaults::GARP_MASTER_DELAY {
            g.vrrp_garp_master_delay = Duration::ZERO;
        }
    }
}

/// Flags keepalived sets whatever follows them (`vrrp_strict`,
/// `vrrp_check_unicast_src`, `vrrp_skip_check_adv_addr`, `no_email_faults`,
/// `enable_script_security`, `lvs_flush`, `*_no_swap`): their handlers in
/// core/global_parser.c never read an argument, so `vrrp_strict off` turns
/// strict mode ON. Always true; a value that reads as "off" gets a warning.
pub(in crate::parse) fn flag_without_value(n: &Node, warnings: &mut Vec<Diagnostic>) -> bool {
    if let Some(t) = n.args.first() {
        if crate::values::keepalived_bool(&t.text) != Some(true) {
            warnings.push(t.pos.warning(format!(
                "'{}' takes no value; '{}' ignored and {} set (as keepalived does)",
                n.key(),
                t.text,
                n.key()
            )));
        }
    }
    true
}

/// `startup_script`/`shutdown_script` given twice: the first is kept.
/// keepalived: core/global_parser.c `startup_shutdown_script()` ("%s script
/// already specified").
pub(in crate::parse) fn set_once(
    slot: &mut Option<Notify>,
    value: Notify,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if slot.is_some() {
        warnings.push(n.pos().warning(format!(
            "{} already specified; ignoring this one (as keepalived does)",
            n.key()
        )));
    } else {
        *slot = Some(value);
    }
}

/// `vrrp_mcast_group4/6` that is unreadable, of the other family or not
/// multicast: the line is skipped, the default group stays.
/// keepalived: core/global_parser.c `vrrp_mcast_group4_handler()` ("... is
/// not multicast. Skipping"). The caller turns this into the warning.
pub(in crate::parse) fn mcast_group_skipped(
    n: &Node,
    unreadable: bool,
    family: &str,
) -> Diagnostic {
    let t = n.args.first().map(|t| (t.pos.clone(), t.text.clone()));
    let (pos, text) = t.unwrap_or_else(|| (n.pos().clone(), String::new()));
    let why = if unreadable {
        format!("Can't parse {} [{text}]", n.key())
    } else if text.contains(':') != (family == "IPv6") {
        format!("{} [{text}] is not {family}", n.key())
    } else {
        format!("{} [{text}] is not multicast", n.key())
    };
    pos.error(format!("{why}, keeping the default group"))
}

/// keepalived warns (and uses it) when the IPv6 group is not link-local
/// (core/global_parser.c `vrrp_mcast_group6_handler()`).
pub(in crate::parse) fn mcast_group6_not_link_local(
    a: std::net::Ipv6Addr,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if a.segments()[0] & 0xff0f != 0xff02 {
        warnings.push(n.args[0].pos.warning(format!(
            "vrrp_mcast_group6 [{a}] should be link-local multicast (keepalived warns too)"
        )));
    }
}

/// `[vrrp_]garp_master_repeat 0` / `[vrrp_]garp_master_refresh_repeat 0`
/// become 1; `prefix` is keepalived's "(VI_1): " for an instance's keyword.
/// keepalived: core/global_parser.c `vrrp_garp_rep_handler()`,
/// `vrrp_garp_refresh_rep_handler()`; vrrp/vrrp_parser.c the same names
/// ("must be greater than 0, setting to 1").
pub(in crate::parse) fn repeat_at_least_one(
    n: &Node,
    v: u64,
    prefix: &str,
    warnings: &mut Vec<Diagnostic>,
) -> u32 {
    if v == 0 {
        warnings.push(n.pos().warning(format!(
            "{prefix}{} must be greater than 0, setting to 1 (as keepalived does)",
            n.key()
        )));
        return 1;
    }
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// `vrrp_garp_master_refresh`: an invalid value turns the refresh off.
/// keepalived: core/global_parser.c `vrrp_garp_refresh_handler()` (sets 0
/// after "Invalid vrrp_garp_master_refresh '%s' - ignoring").
pub(in crate::parse) fn garp_refresh(n: &Node, warnings: &mut Vec<Diagnostic>) -> Option<Duration> {
    let t = n.args.first()?;
    match crate::values::keepalived_int::<u64>(t, 0, i64::from(u32::MAX), n.key(), warnings) {
        Ok(v) => (v > 0).then(|| Duration::from_secs(v)),
        Err(_) => {
            warnings.push(t.pos.warning(format!(
                "Invalid vrrp_garp_master_refresh '{}'; no periodic refresh (as keepalived does)",
                t.text
            )));
            None
        }
    }
}

/// `*_rt_priority` outside SCHED_RR's 1..99 is clamped.
/// keepalived: core/global_parser.c `get_realtime_priority()` ("less than
/// minimum %d - setting to minimum").
pub(in crate::parse) fn rt_priority_clamped(
    v: i64,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) -> u32 {
    let clamped = v.clamp(1, 99);
    if clamped != v {
        let side = if v < 1 { "minimum" } else { "maximum" };
        warnings.push(n.args[0].pos.warning(format!(
            "{} {v} outside 1..99 - setting to {side} {clamped} (as keepalived does)",
            n.key()
        )));
    }
    u32::try_from(clamped).unwrap_or(1)
}

/// A `*notify_fifo_script` without its `*notify_fifo`: keepalived keeps the
/// script but, with no FIFO, never runs it. Dropped with a warning.
pub(in crate::parse) fn notify_fifo_scripts_without_fifo(
    pending: Vec<(String, Notify, crate::diag::Pos)>,
    warnings: &mut Vec<Diagnostic>,
) {
    for (fifo, script, pos) in pending {
        warnings.push(pos.warning(format!(
            "{fifo}_script '{}' has no {fifo}; it is never run (as under keepalived)",
            script.command
        )));
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

// ---------------------------------------------------------------------------
// vrrp_script (vrrp/vrrp_parser.c)
// ---------------------------------------------------------------------------

/// vrrp_script `weight`: keepalived stores what `strtol` read even when it
/// reports the value ("vrrp_script %s weight %s must be in [-253, 253]"),
/// so `weight 300` is 300 and `weight abc` is 0 (the instance priority is
/// clamped to 1..254 later, as keepalived clamps it).
/// keepalived: vrrp/vrrp_parser.c `vrrp_vscript_weight_handler()`.
pub(in crate::parse) fn script_weight(
    t: &crate::lexer::Token,
    name: &str,
    warnings: &mut Vec<Diagnostic>,
) -> i32 {
    use crate::values::{keepalived_number, KeepalivedNumber};
    match keepalived_number(&t.text, -253, 253, false) {
        KeepalivedNumber::Exact(v) => i32::try_from(v).unwrap_or(0),
        KeepalivedNumber::Prefix(v) => {
            warnings.push(t.pos.warning(format!(
                "'weight': invalid number '{}'; using {v} (as keepalived does)",
                t.text
            )));
            i32::try_from(v).unwrap_or(0)
        }
        KeepalivedNumber::Rejected => {
            // What strtol read, as a C int.
            let v = match keepalived_number(&t.text, i64::MIN, i64::MAX, false) {
                KeepalivedNumber::Exact(v) | KeepalivedNumber::Prefix(v) => v,
                KeepalivedNumber::Rejected => 0,
            };
            let v = i32::try_from(v.clamp(i32::MIN.into(), i32::MAX.into())).unwrap_or(0);
            warnings.push(t.pos.warning(format!(
                "vrrp_script {name} weight {} must be in [-253, 253]; using {v} anyway (as keepalived does)",
                t.text
            )));
            v
        }
    }
}

/// vrrp_script `rise`/`fall`: an invalid value becomes 1.
/// keepalived: vrrp/vrrp_parser.c `vrrp_vscript_rise_handler()` ("invalid,
/// defaulting to 1").
pub(in crate::parse) fn rise_fall(
    n: &Node,
    name: &str,
    warnings: &mut Vec<Diagnostic>,
) -> crate::values::PResult<u32> {
    let t = n.arg(0, "an integer 1..2147483647")?;
    match crate::values::keepalived_int(t, 1, i32::MAX.into(), n.key(), warnings) {
        Ok(v) => Ok(v),
        Err(_) => {
            warnings.push(t.pos.warning(format!(
                "({name}): vrrp script {} value '{}' invalid, defaulting to 1 (as keepalived does)",
                n.key(),
                t.text
            )));
            Ok(1)
        }
    }
}
