//! `global_defs`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::keywords::{ignored, IGNORED_GLOBAL};
use super::{fixup, Block, Parser};
use crate::diag::Diagnostic;
use crate::model::*;
use crate::tree::Node;
use crate::values::{ignoring_line, keepalived_int, PResult};

/// All `global_defs` blocks of a load (they add up); the values whose
/// default depends on whether they were set.
#[derive(Default)]
pub(super) struct GlobalBuilder {
    pub(super) seen: fixup::GlobalSeen,
}

impl Block<'_> for GlobalBuilder {
    type Output = ();

    /// keepalived's global_defs handlers (core/global_parser.c) log a bad
    /// value and return, keeping the previous value or the default; only a
    /// missing parameter makes keepalived exit (lib/parser.c `null_strvec`).
    /// So a statement error here is a warning saying the line is ignored,
    /// except for a missing value, our extension keywords and `script_user`
    /// (an unknown script user is refused on purpose, see SECURITY.md).
    fn keyword(&mut self, p: &mut Parser, n: &Node) -> PResult<()> {
        match self.statement(p, n) {
            Ok(()) => Ok(()),
            Err(d) if keeps_error(n) => Err(d),
            Err(d) => {
                p.warnings.push(ignoring_line(d));
                Ok(())
            }
        }
    }

    fn finish(mut self, p: &mut Parser) -> PResult<()> {
        let pending = std::mem::take(&mut self.seen.pending_fifo_scripts);
        fixup::notify_fifo_scripts_without_fifo(pending, &mut p.warnings);
        let g = &mut p.cfg.global_defs;
        fixup::garp_lower_prio_follows_master(g, &self.seen);
        fixup::smtp_alert_vrrp_checker_follow_smtp_alert(g, &self.seen);
        p.smtp_alert_set = self.seen.smtp_alert || self.seen.smtp_alert_checker;
        Ok(())
    }
}

/// Keywords whose errors stay errors: ours (no keepalived behaviour to
/// follow) and `script_user` (SECURITY.md).
const STRICT_GLOBAL: &[&str] = &[
    "metrics_listen",
    "metrics_serve_status",
    "metrics_web_config",
    "status_socket",
    "script_user",
    "drain_on_remove",
    "announce_table",
    "announce_protocol",
    "announce_metric",
    "announce_drain_delay",
];

/// Handlers that check for their parameter and log "... missing - ignoring"
/// (or similar) instead of exiting.
const MISSING_VALUE_IGNORED: &[&str] = &[
    "router_id",
    "notification_email_from",
    "smtp_helo_name",
    "default_interface",
    "startup_script",
    "shutdown_script",
    "startup_script_timeout",
    "shutdown_script_timeout",
    "lvs_sync_daemon",
    "lvs_timeouts",
    "notify_fifo",
    "vrrp_notify_fifo",
    "lvs_notify_fifo",
    "notify_fifo_script",
    "vrrp_notify_fifo_script",
    "lvs_notify_fifo_script",
    "vrrp_priority",
    "checker_priority",
    "vrrp_rt_priority",
    "checker_rt_priority",
    "vrrp_cpu_affinity",
    "checker_cpu_affinity",
    "bfd_priority",
    "bfd_rt_priority",
    "bfd_cpu_affinity",
    "min_auto_priority_delay",
    "process_monitor_rcv_bufs",
];

fn keeps_error(n: &Node) -> bool {
    STRICT_GLOBAL.contains(&n.key())
        || (n.args.is_empty() && !MISSING_VALUE_IGNORED.contains(&n.key()))
}

impl GlobalBuilder {
    fn statement(&mut self, p: &mut Parser, n: &Node) -> PResult<()> {
        if mail_and_scripts_kw(p, &mut self.seen, n)?
            || vrrp_kw(p, &mut self.seen, n)?
            || fifo_lvs_and_rest_kw(p, &mut self.seen, n)?
            || super::identity::global_kw(p, n)
            || super::nftables::nftables_kw(p, n)?
        {
            return Ok(());
        }
        let g = &mut p.cfg.global_defs;
        let k = n.key();
        if let Some(rest) = k.strip_prefix("vrrp_").filter(|r| is_process_kw(r)) {
            process_kw(&mut g.vrrp_process, rest, n, &mut p.warnings)?;
        } else if let Some(rest) = k.strip_prefix("checker_").filter(|r| is_process_kw(r)) {
            process_kw(&mut g.checker_process, rest, n, &mut p.warnings)?;
        } else if let Some(rest) = k.strip_prefix("bfd_").filter(|r| is_process_kw(r)) {
            process_kw(&mut g.bfd_process, rest, n, &mut p.warnings)?;
        } else if IGNORED_GLOBAL.contains(&k) {
            p.warnings.push(ignored(n));
        } else {
            p.push_unknown(n, "global_defs");
        }
        Ok(())
    }
}

/// router_id, e-mail, SMTP, script and interface defaults.
fn mail_and_scripts_kw(p: &mut Parser, seen: &mut fixup::GlobalSeen, n: &Node) -> PResult<bool> {
    let w = &mut p.warnings;
    let g = &mut p.cfg.global_defs;
    match n.key() {
        "router_id" => g.router_id = Some(n.string(0)?),
        "notification_email" => {
            g.notification_email = n
                .block_words()
                .into_iter()
                .map(|t| t.text.clone())
                .collect();
            if n.block.is_none() {
                g.notification_email = n.args.iter().map(|t| t.text.clone()).collect();
            }
        }
        "notification_email_from" => g.notification_email_from = Some(n.string(0)?),
        "smtp_server" => {
            let host = n.string(0)?;
            // keepalived: core/global_parser.c `smtpserver_handler()`: an
            // unusable port leaves no SMTP server ("Invalid smtp server").
            let port = match n.args.get(1) {
                Some(_) => n.int(1, 1, 65535)?,
                None => defaults::SMTP_PORT,
            };
            g.smtp_server = Some(SmtpServer { host, port });
        }
        "smtp_helo_name" => g.smtp_helo_name = Some(n.string(0)?),
        "smtp_connect_timeout" => {
            g.smtp_connect_timeout = Duration::from_secs(n.kint(0, 0, MAX_SECS, w)?);
            fixup::smtp_connect_timeout_zero(g, n, w);
        }
        "smtp_alert" => {
            g.smtp_alert = n.kflag()?;
            seen.smtp_alert = true;
        }
        "smtp_alert_vrrp" => {
            g.smtp_alert_vrrp = n.kflag()?;
            seen.smtp_alert_vrrp = true;
        }
        "smtp_alert_checker" => {
            g.smtp_alert_checker = n.kflag()?;
            seen.smtp_alert_checker = true;
        }
        "no_email_faults" => g.no_email_faults = fixup::flag_without_value(n, w),
        "checker_log_all_failures" => g.checker_log_all_failures = n.kflag()?,
        "script_user" => g.script_user = Some(n.script_user()?),
        "enable_script_security" => g.enable_script_security = fixup::flag_without_value(n, w),
        "startup_script" => {
            let script = n.notify()?;
            fixup::set_once(&mut g.startup_script, script, n, w);
        }
        "startup_script_timeout" => {
            g.startup_script_timeout = Duration::from_secs(n.kint(0, 1, 1000, w)?)
        }
        "shutdown_script" => {
            let script = n.notify()?;
            fixup::set_once(&mut g.shutdown_script, script, n, w);
        }
        "shutdown_script_timeout" => {
            g.shutdown_script_timeout = Duration::from_secs(n.kint(0, 1, 1000, w)?)
        }
        "default_interface" => g.default_interface = n.string(0)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// `sched_get_priority_max(SCHED_RR)` on Linux.
const MAX_RR_PRIORITY: i32 = 99;

/// Longest whole-second timer keepalived reads (`UINT_MAX / TIMER_HZ`).
const MAX_SECS: i64 = (u32::MAX / 1_000_000) as i64;

/// The `vrrp_*` defaults for every instance.
fn vrrp_kw(p: &mut Parser, seen: &mut fixup::GlobalSeen, n: &Node) -> PResult<bool> {
    let w = &mut p.warnings;
    let g = &mut p.cfg.global_defs;
    match n.key() {
        // keepalived: `vrrp_version_handler()` (read_int_strvec, 2..3).
        "vrrp_version" => {
            g.vrrp_version = match n.kint::<u8>(0, 2, 3, w)? {
                2 => VrrpVersion::V2,
                _ => VrrpVersion::V3,
            }
        }
        "vrrp_mcast_group4" => match n.ip(0) {
            Ok(IpAddr::V4(a)) if a.is_multicast() => g.vrrp_mcast_group4 = a,
            r => return Err(fixup::mcast_group_skipped(n, r.is_err(), "IPv4")),
        },
        "vrrp_mcast_group6" => match n.ip(0) {
            Ok(IpAddr::V6(a)) if a.is_multicast() => {
                fixup::mcast_group6_not_link_local(a, n, w);
                g.vrrp_mcast_group6 = a
            }
            r => return Err(fixup::mcast_group_skipped(n, r.is_err(), "IPv6")),
        },
        "vrrp_garp_master_delay" => {
            g.vrrp_garp_master_delay = Duration::from_secs(n.kint(0, 0, MAX_SECS, w)?)
        }
        "vrrp_garp_master_repeat" => {
            g.vrrp_garp_master_repeat =
                fixup::repeat_at_least_one(n, n.kint(0, 0, u32::MAX.into(), w)?, "", w)
        }
        "vrrp_garp_master_refresh" => {
            // Without a value keepalived exits (lib/parser.c `null_strvec()`).
            n.arg(0, "whole seconds")?;
            g.vrrp_garp_master_refresh = fixup::garp_refresh(n, w)
        }
        "vrrp_garp_master_refresh_repeat" => {
            g.vrrp_garp_master_refresh_repeat =
                fixup::repeat_at_least_one(n, n.kint(0, 0, u32::MAX.into(), w)?, "", w)
        }
        "vrrp_garp_lower_prio_delay" => {
            g.vrrp_garp_lower_prio_delay = Duration::from_secs(n.kint(0, 0, MAX_SECS, w)?);
            seen.lower_prio_delay = true;
        }
        "vrrp_garp_lower_prio_repeat" => {
            g.vrrp_garp_lower_prio_repeat = n.kint(0, 0, i32::MAX.into(), w)?;
            seen.lower_prio_repeat = true;
        }
        // keepalived: `vrrp_garp_interval_handler()` etc. read with
        // read_decimal_unsigned_strvec (microseconds, 1..UINT_MAX).
        "vrrp_garp_interval" => g.vrrp_garp_interval = n.ktimer(0, 1, u32::MAX.into(), w)?,
        "vrrp_gna_interval" => g.vrrp_gna_interval = n.ktimer(0, 1, u32::MAX.into(), w)?,
        "vrrp_min_garp" => {
            if n.kflag()? {
                g.vrrp_min_garp = true;
                fixup::min_garp(g);
            }
        }
        "vrrp_down_timer_adverts" => g.vrrp_down_timer_adverts = n.kint(0, 1, 100, w)?,
        "vrrp_lower_prio_no_advert" => g.vrrp_lower_prio_no_advert = n.kflag()?,
        "vrrp_higher_prio_send_advert" => g.vrrp_higher_prio_send_advert = n.kflag()?,
        "vrrp_strict" => g.vrrp_strict = fixup::flag_without_value(n, w),
        "vrrp_skip_check_adv_addr" => g.vrrp_skip_check_adv_addr = fixup::flag_without_value(n, w),
        "vrrp_check_unicast_src" => g.vrrp_check_unicast_src = fixup::flag_without_value(n, w),
        "vrrp_startup_delay" => g.vrrp_startup_delay = n.ktimer(0, 1000, u32::MAX.into(), w)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Notify FIFOs, LVS, interfaces and the rkeepalived extensions.
fn fifo_lvs_and_rest_kw(p: &mut Parser, seen: &mut fixup::GlobalSeen, n: &Node) -> PResult<bool> {
    let w = &mut p.warnings;
    let g = &mut p.cfg.global_defs;
    match n.key() {
        "notify_fifo" => fifo(n, &mut g.notify_fifo, seen, w)?,
        "vrrp_notify_fifo" => fifo(n, &mut g.vrrp_notify_fifo, seen, w)?,
        "lvs_notify_fifo" => fifo(n, &mut g.lvs_notify_fifo, seen, w)?,
        "notify_fifo_script" | "vrrp_notify_fifo_script" | "lvs_notify_fifo_script" => {
            let fifo_key = n.key().trim_end_matches("_script").to_string();
            let fifo = match fifo_key.as_str() {
                "notify_fifo" => &mut g.notify_fifo,
                "vrrp_notify_fifo" => &mut g.vrrp_notify_fifo,
                _ => &mut g.lvs_notify_fifo,
            };
            fifo_script(n, fifo, &fifo_key, seen, w)?
        }
        "lvs_sync_daemon" => {
            if let Some(d) = lvs_sync_daemon(n, g.lvs_sync_daemon.as_ref(), w)? {
                g.lvs_sync_daemon = Some(d);
                p.lvs_sync_pos = Some(n.pos().clone());
            }
        }
        "lvs_timeouts" => lvs_timeouts(n, &mut g.lvs_timeouts, w)?,
        // keepalived: core/global_parser.c `max_auto_priority_handler()`:
        // no value is sched_get_priority_max(SCHED_RR).
        "max_auto_priority" => {
            g.max_auto_priority = match n.args.first() {
                None => MAX_RR_PRIORITY,
                Some(t) => {
                    keepalived_int(t, -1, MAX_RR_PRIORITY.into(), n.key(), w).map_err(|_| {
                        t.pos.error(format!(
                    "max_auto_priority '{}' must be in [0, {MAX_RR_PRIORITY}] (or -1 to disable)",
                    t.text
                ))
                    })?
                }
            }
        }
        // keepalived: `process_monitor_rcv_bufs_handler()` /
        // `get_netlink_rcv_bufs_size()`: 0 leaves the kernel's default.
        "process_monitor_rcv_bufs" => {
            let t = n.arg(0, "a buffer size")?;
            let v: u32 = keepalived_int(t, 0, u32::MAX.into(), n.key(), w).map_err(|_| {
                t.pos.error(format!(
                    "process_monitor_rcv_bufs size ({}) invalid",
                    t.text
                ))
            })?;
            if v != 0 {
                g.process_monitor_rcv_bufs = Some(v);
            }
        }
        "process_monitor_rcv_bufs_force" => g.process_monitor_rcv_bufs_force = n.kflag()?,
        // keepalived: `min_auto_priority_delay_handler()`, microseconds.
        "min_auto_priority_delay" => {
            let t = n.arg(0, "a delay in microseconds")?;
            let us: u64 = keepalived_int(t, 1, 10_000_000, n.key(), w).map_err(|_| {
                t.pos.error(format!(
                    "min_auto_priority_delay '{}' must be in [1, 10000000]",
                    t.text
                ))
            })?;
            g.min_auto_priority_delay = Duration::from_micros(us);
        }
        "lvs_flush" => g.lvs_flush = fixup::flag_without_value(n, w),
        "drain_on_remove" => g.drain_on_remove = Some(super::lvs::drain_on_remove(n)?),
        "announce_table" | "announce_protocol" | "announce_metric" | "announce_drain_delay" => {
            super::announce::global(&mut g.announce, n)?
        }
        "lvs_flush_on_stop" | "lvs_flush_onstop" => {
            // keepalived: core/global_parser.c `lvs_flush_on_stop_handler()`:
            // no value or `VS`; any other word is reported and ignored.
            g.lvs_flush_on_stop = match n.args.first().map(|t| t.text.as_str()) {
                None => LvsFlushOnStop::Flush,
                Some("VS") => LvsFlushOnStop::VirtualServers,
                Some(other) => {
                    return Err(n.args[0].pos.error(format!(
                        "Unknown lvs_flush_on_stop type {other} (expected no value or VS)"
                    )))
                }
            }
        }
        "dynamic_interfaces" => {
            // keepalived: `dynamic_interfaces_handler()` sets it whatever
            // follows; only `allow_if_changes` is a known option.
            g.dynamic_interfaces = true;
            if let Some(t) = n.args.first().filter(|t| t.text != "allow_if_changes") {
                w.push(t.pos.warning(format!(
                    "Unknown dynamic_interfaces option '{}'; dynamic_interfaces is set (as keepalived does)",
                    t.text
                )));
            }
        }
        "vmac_prefix" => {
            // keepalived: core/global_parser.c `vrrp_vmac_prefix_handler()`.
            let v = n.string(0)?;
            if seen.vmac_prefix {
                w.push(n.pos().warning(format!(
                    "vmac prefix has already been specified - ignoring {v} (as keepalived does)"
                )));
            } else {
                seen.vmac_prefix = true;
                g.vmac_prefix = v;
            }
        }
        "metrics_listen" => {
            let t = n.arg(0, "ADDR:PORT")?;
            g.metrics_listen = Some(t.text.parse().map_err(|_| {
                t.pos.error(format!(
                    "'metrics_listen': invalid socket address '{}' (expected e.g. 127.0.0.1:9650 or [::1]:9650)",
                    t.text
                ))
            })?);
        }
        "metrics_serve_status" => g.metrics_serve_status = n.flag()?,
        "metrics_web_config" => g.metrics_web_config = Some(PathBuf::from(n.string(0)?)),
        "status_socket" => g.status_socket = Some(PathBuf::from(n.string(0)?)),
        // keepalived core/global_parser.c `snmp_*_handler()`, `trap_handler()`:
        // bare flags (any value ignored).
        "enable_snmp_vrrp" | "enable_snmp_keepalived" => g.snmp.vrrp = true,
        "enable_snmp_checker" => g.snmp.checker = true,
        "enable_snmp_rfc" => {
            g.snmp.rfcv2 = true;
            g.snmp.rfcv3 = true;
        }
        "enable_snmp_rfcv2" => g.snmp.rfcv2 = true,
        "enable_snmp_rfcv3" => g.snmp.rfcv3 = true,
        "enable_traps" => g.snmp.traps = true,
        // keepalived `snmp_socket_handler()`: one word, the first one wins.
        "snmp_socket" => {
            match (&g.snmp.socket, n.args.as_slice()) {
                (_, [_, _, ..]) => w.push(n.pos().warning(
                    "Too many parameters specified for snmp_socket - ignoring (as keepalived does)",
                )),
                (Some(prev), _) => w.push(n.pos().warning(format!(
                    "SNMP socket already set to {prev} - ignoring (as keepalived does)"
                ))),
                (None, [s]) => g.snmp.socket = Some(s.text.clone()),
                (None, []) => w.push(n.pos().warning(
                    "SNMP error : snmp socket name missing - ignoring (as keepalived does)",
                )),
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn is_process_kw(rest: &str) -> bool {
    matches!(
        rest,
        "priority" | "rt_priority" | "no_swap" | "cpu_affinity" | "rlimit_rttime" | "rlimit_rtime"
    )
}

/// keepalived: core/global_parser.c `get_priority()`,
/// `get_realtime_priority()`, `get_cpu_affinity()`, `get_rt_rlimit()`.
fn process_kw(
    p: &mut ProcessOptions,
    rest: &str,
    n: &Node,
    w: &mut Vec<Diagnostic>,
) -> PResult<()> {
    match rest {
        // An invalid nice value leaves 0 (no change).
        "priority" => {
            p.priority = None;
            p.priority = Some(n.kint(0, -20, 19, w)?);
        }
        "rt_priority" => {
            let v: i64 = n.kint(0, i32::MIN.into(), i32::MAX.into(), w)?;
            p.rt_priority = Some(fixup::rt_priority_clamped(v, n, w));
        }
        "no_swap" => p.no_swap = fixup::flag_without_value(n, w),
        "cpu_affinity" => {
            // The mask is cleared at the first invalid CPU.
            p.cpu_affinity = Vec::new();
            p.cpu_affinity = n
                .args
                .iter()
                .map(|t| keepalived_int(t, 0, 4095, n.key(), w))
                .collect::<PResult<_>>()?
        }
        _ => {
            p.rlimit_rttime = None;
            let v: u64 = n.kint(0, 1, i64::from(u32::MAX), w)?;
            // "The rlim value is divided by 2 elsewhere": 1 becomes 2.
            p.rlimit_rttime = Some(v.max(2));
        }
    }
    Ok(())
}

/// keepalived: core/global_parser.c `notify_fifo()`: the first definition
/// wins; `notify_fifo_script` may come before or after it.
fn fifo(
    n: &Node,
    slot: &mut Option<NotifyFifo>,
    seen: &mut fixup::GlobalSeen,
    w: &mut Vec<Diagnostic>,
) -> PResult<()> {
    let path = PathBuf::from(n.string(0)?);
    if slot.is_some() {
        w.push(n.pos().warning(format!(
            "{} already specified - ignoring {} (as keepalived does)",
            n.key(),
            path.display()
        )));
        return Ok(());
    }
    let user = n.args.get(1).map(|u| ScriptUser {
        user: u.text.clone(),
        group: n.args.get(2).map(|g| g.text.clone()),
    });
    let script = seen
        .pending_fifo_scripts
        .iter()
        .position(|(k, _, _)| k == n.key())
        .map(|i| seen.pending_fifo_scripts.remove(i).1);
    *slot = Some(NotifyFifo { path, user, script });
    Ok(())
}

/// keepalived: core/global_parser.c `notify_fifo_script()`.
fn fifo_script(
    n: &Node,
    fifo: &mut Option<NotifyFifo>,
    fifo_key: &str,
    seen: &mut fixup::GlobalSeen,
    w: &mut Vec<Diagnostic>,
) -> PResult<()> {
    let script = n.notify()?;
    let pending = seen
        .pending_fifo_scripts
        .iter()
        .any(|(k, _, _)| k == fifo_key);
    match fifo {
        Some(NotifyFifo {
            script: Some(_), ..
        }) => {}
        Some(f) => {
            f.script = Some(script);
            return Ok(());
        }
        None if !pending => {
            seen.pending_fifo_scripts
                .push((fifo_key.to_string(), script, n.pos().clone()));
            return Ok(());
        }
        None => {}
    }
    w.push(n.pos().warning(format!(
        "{} already specified - ignoring {} (as keepalived does)",
        n.key(),
        n.args[0].text
    )));
    Ok(())
}

/// keepalived: core/global_parser.c `lvs_syncd_handler()`: only the first
/// `lvs_sync_daemon` counts; a bad option value is reported and ignored
/// (the rest of the line is still read).
fn lvs_sync_daemon(
    n: &Node,
    previous: Option<&LvsSyncDaemon>,
    w: &mut Vec<Diagnostic>,
) -> PResult<Option<LvsSyncDaemon>> {
    if let Some(prev) = previous {
        w.push(n.pos().warning(format!(
            "lvs_sync_daemon has already been specified as {} {} - ignoring (as keepalived does)",
            prev.interface,
            prev.vrrp_instance.as_deref().unwrap_or("")
        )));
        return Ok(None);
    }
    let interface = n.string(0)?;
    if interface.len() >= 16 {
        return Err(n.args[0].pos.error(format!(
            "lvs_sync_daemon interface name '{interface}' too long"
        )));
    }
    let mut d = LvsSyncDaemon {
        interface,
        vrrp_instance: None,
        sync_id: None,
        maxlen: None,
        port: defaults::LVS_SYNC_PORT,
        ttl: None,
        group: IpAddr::V4(defaults::LVS_SYNC_GROUP),
    };
    let mut i = 1;
    while i < n.args.len() {
        let key = n.args[i].text.as_str();
        let value = n.args.get(i + 1);
        let ignored = |what: &str| {
            n.args[i]
                .pos
                .warning(format!("{what}; ignoring it (as keepalived does)"))
        };
        let Some(v) =
            value.filter(|_| matches!(key, "inst" | "id" | "maxlen" | "port" | "ttl" | "group"))
        else {
            if matches!(key, "inst" | "id" | "maxlen" | "port" | "ttl" | "group") {
                w.push(ignored(&format!(
                    "No value specified for lvs_sync_daemon {key}"
                )));
            } else if i == 1 {
                // Legacy form: the instance name without `inst`.
                d.vrrp_instance = Some(key.to_string());
            } else if i == 2 && d.vrrp_instance.is_some() && d.sync_id.is_none() {
                // Legacy form: `IF INSTANCE SYNCID`.
                // read_unsigned_strvec(..., false): no trailing text.
                match crate::values::keepalived_number(key, 0, 255, true) {
                    crate::values::KeepalivedNumber::Exact(id) => d.sync_id = u8::try_from(id).ok(),
                    _ => w.push(ignored(&format!(
                        "Invalid syncid ({key}) - defaulting to vrid"
                    ))),
                }
            } else {
                w.push(ignored(&format!(
                    "Unknown option {key} specified for lvs_sync_daemon"
                )));
            }
            i += 1;
            continue;
        };
        // These options use keepalived's strict readers (ignore_error false).
        let num =
            |min: i64, max: i64| match crate::values::keepalived_number(&v.text, min, max, true) {
                crate::values::KeepalivedNumber::Exact(x) => Some(x),
                _ => None,
            };
        match key {
            "inst" => {
                if d.vrrp_instance.is_some() {
                    w.push(ignored(
                        "lvs_sync_daemon vrrp instance has already been specified",
                    ));
                } else {
                    d.vrrp_instance = Some(v.text.clone());
                }
            }
            "id" => match num(0, 255) {
                Some(x) => d.sync_id = u8::try_from(x).ok(),
                None => w.push(ignored(&format!(
                    "Invalid syncid ({}) - defaulting to vrid",
                    v.text
                ))),
            },
            "maxlen" => match num(1, 65535 - 20 - 8) {
                Some(x) => d.maxlen = u16::try_from(x).ok(),
                None => w.push(ignored(&format!(
                    "Invalid lvs_sync_daemon maxlen ({})",
                    v.text
                ))),
            },
            "port" => match num(1, 65535) {
                Some(x) => d.port = u16::try_from(x).unwrap_or(d.port),
                None => w.push(ignored(&format!(
                    "Invalid lvs_sync_daemon port ({})",
                    v.text
                ))),
            },
            "ttl" => match num(1, 255) {
                Some(x) => d.ttl = u8::try_from(x).ok(),
                None => w.push(ignored(&format!(
                    "Invalid lvs_sync_daemon ttl ({})",
                    v.text
                ))),
            },
            _ => match v.text.parse::<IpAddr>() {
                Ok(a) if a.is_multicast() => d.group = a,
                Ok(_) => w.push(ignored(&format!(
                    "lvs_sync_daemon group address {} is not multicast",
                    v.text
                ))),
                Err(_) => w.push(ignored(&format!(
                    "Invalid lvs_sync_daemon group ({})",
                    v.text
                ))),
            },
        }
        i += 2;
    }
    Ok(Some(d))
}

/// keepalived: core/global_parser.c `lvs_timeouts()`: each bad option is
/// reported and ignored; 0 leaves the kernel's value, as not setting it.
fn lvs_timeouts(n: &Node, t: &mut LvsTimeouts, w: &mut Vec<Diagnostic>) -> PResult<()> {
    if n.args.len() < 2 {
        return Err(n
            .pos()
            .error("lvs_timeouts requires at least one option (tcp|tcpfin|udp SECS)"));
    }
    let mut i = 0;
    while i < n.args.len() {
        let key = n.args[i].text.as_str();
        let slot = match key {
            "tcp" => &mut t.tcp,
            "tcpfin" => &mut t.tcpfin,
            "udp" => &mut t.udp,
            other => {
                w.push(n.args[i].pos.warning(format!(
                    "Unknown option {other} specified for lvs_timeouts; ignoring it (as keepalived does)"
                )));
                i += 1;
                continue;
            }
        };
        match n.args.get(i + 1) {
            None => w.push(n.args[i].pos.warning(format!(
                "No value specified for lvs_timeout {key}; ignoring it (as keepalived does)"
            ))),
            Some(v) => match crate::values::keepalived_number(&v.text, 0, 86400 * 31, true) {
                crate::values::KeepalivedNumber::Exact(x) => {
                    *slot = u64::try_from(x)
                        .ok()
                        .filter(|x| *x > 0)
                        .map(Duration::from_secs)
                }
                _ => w.push(v.pos.warning(format!(
                    "Invalid lvs_timeout {key} ({}); ignoring it (as keepalived does)",
                    v.text
                ))),
            },
        }
        i += 2;
    }
    Ok(())
}
