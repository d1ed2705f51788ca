//! `global_defs`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::keywords::{ignored, IGNORED_GLOBAL};
use super::{fixup, nonzero, vrrp_version, Block, Parser};
use crate::model::*;
use crate::tree::Node;
use crate::values::{boolean, int, PResult};

/// All `global_defs` blocks of a load (they add up); the values whose
/// default depends on whether they were set.
#[derive(Default)]
pub(super) struct GlobalBuilder {
    pub(super) seen: fixup::GlobalSeen,
}

impl Block<'_> for GlobalBuilder {
    type Output = ();

    fn keyword(&mut self, p: &mut Parser, n: &Node) -> PResult<()> {
        if mail_and_scripts_kw(p, &mut self.seen, n)?
            || vrrp_kw(p, &mut self.seen, n)?
            || fifo_lvs_and_rest_kw(p, n)?
        {
            return Ok(());
        }
        let g = &mut p.cfg.global_defs;
        let k = n.key();
        if let Some(rest) = k.strip_prefix("vrrp_").filter(|r| is_process_kw(r)) {
            process_kw(&mut g.vrrp_process, rest, n)?;
        } else if let Some(rest) = k.strip_prefix("checker_").filter(|r| is_process_kw(r)) {
            process_kw(&mut g.checker_process, rest, n)?;
        } else if IGNORED_GLOBAL.contains(&k) {
            p.warnings.push(ignored(n));
        } else {
            p.push_unknown(n, "global_defs");
        }
        Ok(())
    }

    fn finish(self, p: &mut Parser) -> PResult<()> {
        let g = &mut p.cfg.global_defs;
        fixup::garp_lower_prio_follows_master(g, &self.seen);
        fixup::smtp_alert_vrrp_checker_follow_smtp_alert(g, &self.seen);
        p.smtp_alert_set = self.seen.smtp_alert || self.seen.smtp_alert_checker;
        Ok(())
    }
}

/// router_id, e-mail, SMTP, script and interface defaults.
fn mail_and_scripts_kw(p: &mut Parser, seen: &mut fixup::GlobalSeen, n: &Node) -> PResult<bool> {
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
            let port = match n.args.get(1) {
                Some(_) => n.int(1, 1, 65535)?,
                None => defaults::SMTP_PORT,
            };
            g.smtp_server = Some(SmtpServer { host, port });
        }
        "smtp_helo_name" => g.smtp_helo_name = Some(n.string(0)?),
        "smtp_connect_timeout" => {
            g.smtp_connect_timeout = n.secs(0, 0, 4294)?;
            fixup::smtp_connect_timeout_zero(g, n, &mut p.warnings);
        }
        "smtp_alert" => {
            g.smtp_alert = n.flag()?;
            seen.smtp_alert = true;
        }
        "smtp_alert_vrrp" => {
            g.smtp_alert_vrrp = n.flag()?;
            seen.smtp_alert_vrrp = true;
        }
        "smtp_alert_checker" => {
            g.smtp_alert_checker = n.flag()?;
            seen.smtp_alert_checker = true;
        }
        "no_email_faults" => g.no_email_faults = n.flag()?,
        "checker_log_all_failures" => g.checker_log_all_failures = n.flag()?,
        "script_user" => g.script_user = Some(n.script_user()?),
        "enable_script_security" => g.enable_script_security = n.flag()?,
        "startup_script" => g.startup_script = Some(n.notify()?),
        "startup_script_timeout" => {
            g.startup_script_timeout = Duration::from_secs(n.int(0, 1, 1000)?)
        }
        "shutdown_script" => g.shutdown_script = Some(n.notify()?),
        "shutdown_script_timeout" => {
            g.shutdown_script_timeout = Duration::from_secs(n.int(0, 1, 1000)?)
        }
        "default_interface" => g.default_interface = n.string(0)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// The `vrrp_*` defaults for every instance.
fn vrrp_kw(p: &mut Parser, seen: &mut fixup::GlobalSeen, n: &Node) -> PResult<bool> {
    let g = &mut p.cfg.global_defs;
    match n.key() {
        "vrrp_version" => g.vrrp_version = vrrp_version(n)?,
        "vrrp_mcast_group4" => match n.ip(0)? {
            IpAddr::V4(a) if a.is_multicast() => g.vrrp_mcast_group4 = a,
            _ => {
                return Err(n.args[0].pos.error(format!(
                    "'vrrp_mcast_group4': '{}' is not an IPv4 multicast address",
                    n.args[0].text
                )))
            }
        },
        "vrrp_mcast_group6" => match n.ip(0)? {
            IpAddr::V6(a) if a.is_multicast() => g.vrrp_mcast_group6 = a,
            _ => {
                return Err(n.args[0].pos.error(format!(
                    "'vrrp_mcast_group6': '{}' is not an IPv6 multicast address",
                    n.args[0].text
                )))
            }
        },
        "vrrp_garp_master_delay" => g.vrrp_garp_master_delay = n.secs(0, 0, 86400)?,
        "vrrp_garp_master_repeat" => g.vrrp_garp_master_repeat = n.int(0, 1, 65535)?,
        "vrrp_garp_master_refresh" => g.vrrp_garp_master_refresh = nonzero(n.secs(0, 0, 86400)?),
        "vrrp_garp_master_refresh_repeat" => {
            g.vrrp_garp_master_refresh_repeat = n.int(0, 1, 65535)?
        }
        "vrrp_garp_lower_prio_delay" => {
            g.vrrp_garp_lower_prio_delay = n.secs(0, 0, 86400)?;
            seen.lower_prio_delay = true;
        }
        "vrrp_garp_lower_prio_repeat" => {
            g.vrrp_garp_lower_prio_repeat = n.int(0, 0, 65535)?;
            seen.lower_prio_repeat = true;
        }
        "vrrp_garp_interval" => g.vrrp_garp_interval = n.timer(0)?,
        "vrrp_gna_interval" => g.vrrp_gna_interval = n.timer(0)?,
        "vrrp_min_garp" => {
            g.vrrp_min_garp = n.flag()?;
            fixup::min_garp(g);
        }
        "vrrp_down_timer_adverts" => g.vrrp_down_timer_adverts = n.int(0, 1, 100)?,
        "vrrp_lower_prio_no_advert" => g.vrrp_lower_prio_no_advert = n.flag()?,
        "vrrp_higher_prio_send_advert" => g.vrrp_higher_prio_send_advert = n.flag()?,
        "vrrp_strict" => g.vrrp_strict = n.flag()?,
        "vrrp_skip_check_adv_addr" => g.vrrp_skip_check_adv_addr = n.flag()?,
        "vrrp_check_unicast_src" => g.vrrp_check_unicast_src = n.flag()?,
        "vrrp_startup_delay" => g.vrrp_startup_delay = n.timer(0)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Notify FIFOs, LVS, interfaces and the rkeepalived extensions.
fn fifo_lvs_and_rest_kw(p: &mut Parser, n: &Node) -> PResult<bool> {
    let g = &mut p.cfg.global_defs;
    match n.key() {
        "notify_fifo" => g.notify_fifo = Some(fifo(n, g.notify_fifo.take())?),
        "vrrp_notify_fifo" => g.vrrp_notify_fifo = Some(fifo(n, g.vrrp_notify_fifo.take())?),
        "lvs_notify_fifo" => g.lvs_notify_fifo = Some(fifo(n, g.lvs_notify_fifo.take())?),
        "notify_fifo_script" => fifo_script(n, &mut g.notify_fifo)?,
        "vrrp_notify_fifo_script" => fifo_script(n, &mut g.vrrp_notify_fifo)?,
        "lvs_notify_fifo_script" => fifo_script(n, &mut g.lvs_notify_fifo)?,
        "lvs_sync_daemon" => {
            g.lvs_sync_daemon = Some(lvs_sync_daemon(n)?);
            p.lvs_sync_pos = Some(n.pos().clone());
        }
        "lvs_timeouts" => g.lvs_timeouts = lvs_timeouts(n)?,
        "lvs_flush" => g.lvs_flush = n.flag()?,
        "lvs_flush_on_stop" => {
            g.lvs_flush_on_stop = match n.args.first().map(|t| t.text.as_str()) {
                None => LvsFlushOnStop::Flush,
                Some("VS") => LvsFlushOnStop::VirtualServers,
                Some(_) => match boolean(&n.args[0], n.key())? {
                    true => LvsFlushOnStop::Flush,
                    false => LvsFlushOnStop::No,
                },
            }
        }
        "dynamic_interfaces" => {
            g.dynamic_interfaces = match n.args.first() {
                Some(t) if t.text == "allow_if_changes" => true,
                _ => n.flag()?,
            }
        }
        "vmac_prefix" => g.vmac_prefix = n.string(0)?,
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

fn process_kw(p: &mut ProcessOptions, rest: &str, n: &Node) -> PResult<()> {
    match rest {
        "priority" => p.priority = Some(n.int(0, -20, 19)?),
        "rt_priority" => p.rt_priority = Some(n.int(0, 1, 99)?),
        "no_swap" => p.no_swap = n.flag()?,
        "cpu_affinity" => {
            p.cpu_affinity = n
                .args
                .iter()
                .map(|t| int(t, 0, 4095, n.key()))
                .collect::<PResult<_>>()?
        }
        _ => p.rlimit_rttime = Some(n.int(0, 1, i64::from(u32::MAX))?),
    }
    Ok(())
}

fn fifo(n: &Node, previous: Option<NotifyFifo>) -> PResult<NotifyFifo> {
    let path = PathBuf::from(n.string(0)?);
    let user = n.args.get(1).map(|u| ScriptUser {
        user: u.text.clone(),
        group: n.args.get(2).map(|g| g.text.clone()),
    });
    Ok(NotifyFifo {
        path,
        user,
        script: previous.and_then(|p| p.script),
    })
}

fn fifo_script(n: &Node, fifo: &mut Option<NotifyFifo>) -> PResult<()> {
    let script = n.notify()?;
    match fifo {
        Some(f) => f.script = Some(script),
        None => {
            return Err(n.pos().error(format!(
                "'{}' needs the matching notify_fifo defined before it",
                n.key()
            )))
        }
    }
    Ok(())
}

fn lvs_sync_daemon(n: &Node) -> PResult<LvsSyncDaemon> {
    let interface = n.string(0)?;
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
        match key {
            "inst" => d.vrrp_instance = Some(n.string(i + 1)?),
            "id" => d.sync_id = Some(n.int(i + 1, 0, 255)?),
            "maxlen" => d.maxlen = Some(n.int(i + 1, 1, 65507)?),
            "port" => d.port = n.int(i + 1, 1, 65535)?,
            "ttl" => d.ttl = Some(n.int(i + 1, 1, 255)?),
                        "group" => {
                d.group = n.ip(i + 1)?;
                if !d.group.is_multicast() {
                    return Err(n.args[i + 1].pos.error(format!(
                        "'lvs_sync_daemon': group {} is not a multicast address",
                        d.group
                    )));
                }
            }
            _ if i == 1 => {
                // Legacy form: the instance name without `inst`.
                d.vrrp_instance = Some(key.to_string());
                i += 1;
                continue;
            }
            _ => {
                return Err(n.args[i].pos.error(format!(
                    "'lvs_sync_daemon': unknown option '{key}' (expected inst|id|maxlen|port|ttl|group)"
                )))
            }
        }
        i += 2;
    }
    Ok(d)
}

fn lvs_timeouts(n: &Node) -> PResult<LvsTimeouts> {
    let mut t = LvsTimeouts::default();
    if n.args.is_empty() {
        return Err(n
            .pos()
            .error("'lvs_timeouts' needs at least one of tcp|tcpfin|udp SECS"));
    }
    let mut i = 0;
    while i < n.args.len() {
        let secs = Some(Duration::from_secs(n.int(i + 1, 1, 86400 * 31)?));
        match n.args[i].text.as_str() {
            "tcp" => t.tcp = secs,
            "tcpfin" => t.tcpfin = secs,
            "udp" => t.udp = secs,
            other => {
                return Err(n.args[i].pos.error(format!(
                    "'lvs_timeouts': unknown protocol '{other}' (expected tcp, tcpfin or udp)"
                )))
            }
        }
        i += 2;
    }
    Ok(t)
}
