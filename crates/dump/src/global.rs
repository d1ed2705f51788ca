//! `------< Global definitions >------`: keepalived 2.2.7's
//! `dump_global_data()` (core/global_data.c), line for line, for the
//! options of the Debian build (VRRP, LVS, BFD, SNMP, DBus, nftables).
//!
//! Where the configuration model keeps no trace of a keepalived setting
//! (DBus, BFD, netlink buffer sizes, auto priorities, ...), keepalived's
//! default is printed. Tri-state options that keepalived prints as
//! `unset` (`smtp_alert*`) print `unset` unless enabled.

use std::fmt::Write as _;

use rkeepalived_config::model::{GlobalDefs, LvsFlushOnStop, NotifyFifo, VrrpVersion};

use crate::{cfmt, cmd_str, default_script_ids, local_name, script_ids};

/// keepalived's `PARAMETER_UNSET` printed with `%u`.
const PARAMETER_UNSET: u32 = u32::MAX;
/// keepalived's RT_RLIMIT_DEFAULT (µs).
const RT_RLIMIT_DEFAULT: u64 = 10_000;
/// keepalived's DFLT_INT.
const DFLT_INT: &str = "eth0";

/// Which process writes the dump (keepalived's `prog_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prog {
    /// `keepalived_parent.data`.
    Parent,
    /// `keepalived.data`.
    Vrrp,
    /// `keepalived_check.data`.
    Checker,
}

/// What the dump needs besides the configuration.
#[derive(Debug, Clone)]
pub struct Context {
    pub prog: Prog,
    /// `-s NAME` / `net_namespace`.
    pub namespace: Option<String>,
    /// keepalived's `umask_val`: `-u`, default 0177.
    pub umask: u32,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            prog: Prog::Vrrp,
            namespace: None,
            umask: 0o177,
        }
    }
}

fn tf(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn on_unset(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "unset"
    }
}

fn able(b: bool) -> &'static str {
    if b {
        "enabled"
    } else {
        "disabled"
    }
}

fn fifo(out: &mut String, kind: &str, f: &NotifyFifo, gd: &GlobalDefs) {
    let (uid, gid) = f
        .user
        .as_ref()
        .and_then(|u| rkeepalived_script::RunAs::resolve(&u.user, u.group.as_deref()).ok())
        .map(|r| (r.uid, r.gid))
        .or_else(|| default_script_ids(gd))
        .unwrap_or((0, 0));
    let _ = writeln!(
        out,
        " {kind} notify fifo = {}, uid:gid {uid}:{gid}",
        f.path.display()
    );
    if let Some(s) = &f.script {
        let (u, g) = script_ids(s, gd);
        let _ = writeln!(
            out,
            " {kind} notify fifo script = {}, uid:gid {u}:{g}",
            cmd_str(&s.command)
        );
    }
}

fn process_lines(
    out: &mut String,
    who: &str,
    opts: Option<&rkeepalived_config::model::ProcessOptions>,
) {
    let priority = opts.and_then(|o| o.priority).unwrap_or(0);
    let no_swap = opts.is_some_and(|o| o.no_swap);
    let rt = opts.and_then(|o| o.rt_priority).unwrap_or(0);
    let _ = writeln!(out, " {who} process priority = {priority}");
    let _ = writeln!(out, " {who} don't swap = {}", tf(no_swap));
    let _ = writeln!(out, " {who} realtime priority = {rt}");
    if let Some(o) = opts.filter(|o| !o.cpu_affinity.is_empty()) {
        let mut cpus = o.cpu_affinity.clone();
        cpus.sort_unstable();
        cpus.dedup();
        let list: String = cpus.iter().map(|c| format!("{c} ")).collect();
        let _ = writeln!(out, " {who} CPU Affinity = {list}");
    }
    let limit = opts
        .and_then(|o| o.rlimit_rttime)
        .unwrap_or(RT_RLIMIT_DEFAULT);
    let _ = writeln!(out, " {who} realtime limit = {limit}");
}

/// The global definitions section, as `dump_global_data(fp, global_data)`
/// writes it in the process `ctx.prog`.
pub fn global_definitions(gd: &GlobalDefs, ctx: &Context) -> String {
    let mut o = String::from("------< Global definitions >------\n");
    let out = &mut o;
    let _ = writeln!(
        out,
        " Network namespace = {}",
        ctx.namespace.as_deref().unwrap_or("(default)")
    );
    let _ = writeln!(out, " Network namespace ipvs = (main namespace)");
    let _ = writeln!(
        out,
        " Router ID = {}",
        gd.router_id.clone().unwrap_or_else(local_name)
    );
    if let Some(s) = &gd.smtp_server {
        let _ = writeln!(out, " Smtp server = {}", s.host);
        let _ = writeln!(out, " Smtp server port = {}", s.port);
    }
    let helo = gd
        .smtp_helo_name
        .clone()
        .or_else(|| gd.smtp_server.as_ref().map(|_| local_name()));
    if let Some(h) = helo {
        let _ = writeln!(out, " Smtp HELO name = {h}");
    }
    if gd.smtp_server.is_some() || gd.smtp_connect_timeout != std::time::Duration::from_secs(30) {
        let _ = writeln!(
            out,
            " Smtp server connection timeout = {}",
            gd.smtp_connect_timeout.as_secs()
        );
    }
    let from = gd.notification_email_from.clone().or_else(|| {
        gd.smtp_server.as_ref().map(|_| {
            let user = nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_else(|| "root".into());
            format!("{user}@{}", local_name())
        })
    });
    if let Some(f) = from {
        let _ = writeln!(out, " Email notification from = {f}");
        let _ = writeln!(out, " Email notification to:");
        for e in &gd.notification_email {
            let _ = writeln!(out, "   {e}");
        }
    }
    let _ = writeln!(out, " Default smtp_alert = {}", on_unset(gd.smtp_alert));
    let _ = writeln!(
        out,
        " Default smtp_alert_vrrp = {}",
        on_unset(gd.smtp_alert_vrrp)
    );
    let _ = writeln!(
        out,
        " Default smtp_alert_checker = {}",
        on_unset(gd.smtp_alert_checker)
    );
    let _ = writeln!(
        out,
        " Checkers log all failures = {}",
        tf(gd.checker_log_all_failures)
    );
    let _ = writeln!(out, " No test config before reload");
    if let Some(s) = &gd.startup_script {
        let (u, g) = script_ids(s, gd);
        let _ = writeln!(
            out,
            " Startup script = {}, uid:gid {u}:{g}, timeout {}",
            cmd_str(&s.command),
            gd.startup_script_timeout.as_secs()
        );
    }
    if let Some(s) = &gd.shutdown_script {
        let (u, g) = script_ids(s, gd);
        let _ = writeln!(
            out,
            " Shutdown script = {}, uid:gid {u}:{g} timeout {}",
            cmd_str(&s.command),
            gd.shutdown_script_timeout.as_secs()
        );
    }
    let _ = writeln!(out, " Dynamic interfaces = {}", tf(gd.dynamic_interfaces));
    if gd.dynamic_interfaces {
        let _ = writeln!(out, " Allow interface changes = false");
    }
    if gd.no_email_faults {
        let _ = writeln!(out, " Send emails for fault transitions = off");
    }
    let secs = |d: Option<std::time::Duration>| d.map(|d| d.as_secs()).filter(|s| *s > 0);
    if let Some(s) = secs(gd.lvs_timeouts.tcp) {
        let _ = writeln!(out, " LVS TCP timeout = {s}");
    }
    if let Some(s) = secs(gd.lvs_timeouts.tcpfin) {
        let _ = writeln!(out, " LVS TCP FIN timeout = {s}");
    }
    if let Some(s) = secs(gd.lvs_timeouts.udp) {
        // sic: keepalived labels the UDP timeout "TCP".
        let _ = writeln!(out, " LVS TCP timeout = {s}");
    }
    if ctx.prog == Prog::Vrrp {
        let ifname = if gd.default_interface.is_empty() {
            DFLT_INT
        } else {
            gd.default_interface.as_str()
        };
        let _ = writeln!(out, " Default interface = {ifname}");
    }
    let _ = writeln!(out, " Disable local IGMP = no");
    if let Some(s) = &gd.lvs_sync_daemon {
        if let Some(i) = &s.vrrp_instance {
            let label = if ctx.prog == Prog::Vrrp {
                "LVS syncd vrrp instance"
            } else {
                "LVS syncd vrrp name"
            };
            let _ = writeln!(out, " {label} = {i}");
        }
        let _ = writeln!(out, " LVS syncd interface = {}", s.interface);
        let _ = writeln!(out, " LVS syncd syncid = {}", s.sync_id.unwrap_or(0));
        if let Some(m) = s.maxlen {
            let _ = writeln!(out, " LVS syncd maxlen = {m}");
        }
        let _ = writeln!(out, " LVS mcast group {}", s.group);
        if s.port != 0 {
            let _ = writeln!(out, " LVS syncd mcast port = {}", s.port);
        }
        if let Some(t) = s.ttl {
            let _ = writeln!(out, " LVS syncd mcast ttl = {t}");
        }
    }
    let _ = writeln!(out, " LVS flush = {}", tf(gd.lvs_flush));
    let _ = writeln!(
        out,
        " LVS flush on stop = {}",
        match gd.lvs_flush_on_stop {
            LvsFlushOnStop::No => "disabled",
            LvsFlushOnStop::Flush => "full",
            LvsFlushOnStop::VirtualServers => "VS",
        }
    );
    if let Some(f) = &gd.notify_fifo {
        fifo(out, "Global", f, gd);
    }
    if let Some(f) = &gd.vrrp_notify_fifo {
        fifo(out, "VRRP", f, gd);
    }
    if let Some(f) = &gd.lvs_notify_fifo {
        fifo(out, "LVS", f, gd);
    }
    let _ = writeln!(out, " FIFO write vrrp states on reload = false");
    let _ = writeln!(out, " VRRP notify priority changes = false");
    let _ = writeln!(out, " VRRP IPv4 mcast group = {}", gd.vrrp_mcast_group4);
    let _ = writeln!(out, " VRRP IPv6 mcast group = {}", gd.vrrp_mcast_group6);
    let _ = writeln!(
        out,
        " Gratuitous ARP delay = {}",
        gd.vrrp_garp_master_delay.as_secs()
    );
    let _ = writeln!(
        out,
        " Gratuitous ARP repeat = {}",
        gd.vrrp_garp_master_repeat
    );
    let _ = writeln!(
        out,
        " Gratuitous ARP refresh timer = {}",
        gd.vrrp_garp_master_refresh.map_or(0, |d| d.as_secs())
    );
    let _ = writeln!(
        out,
        " Gratuitous ARP refresh repeat = {}",
        gd.vrrp_garp_master_refresh_repeat
    );
    // keepalived's VRRP process copies the GARP delay/repeat into the
    // unset lower-priority ones (vrrp_parser.c); the other processes print
    // them unset.
    let (lp_delay, lp_rep) = if ctx.prog == Prog::Vrrp
        || gd.vrrp_garp_lower_prio_delay != gd.vrrp_garp_master_delay
        || gd.vrrp_garp_lower_prio_repeat != gd.vrrp_garp_master_repeat
    {
        (
            gd.vrrp_garp_lower_prio_delay.as_secs() as u32,
            gd.vrrp_garp_lower_prio_repeat,
        )
    } else {
        (PARAMETER_UNSET, PARAMETER_UNSET)
    };
    let _ = writeln!(out, " Gratuitous ARP lower priority delay = {lp_delay}");
    let _ = writeln!(out, " Gratuitous ARP lower priority repeat = {lp_rep}");
    let _ = writeln!(
        out,
        " Num adverts before down = {}",
        gd.vrrp_down_timer_adverts
    );
    let _ = writeln!(out, " Gratuitous ARP for each secondary VMAC = 0s");
    let _ = writeln!(
        out,
        " Send advert after receive lower priority advert = {}",
        tf(!gd.vrrp_lower_prio_no_advert)
    );
    let _ = writeln!(
        out,
        " Send advert after receive higher priority advert = {}",
        tf(gd.vrrp_higher_prio_send_advert)
    );
    let _ = writeln!(
        out,
        " Gratuitous ARP interval = {}",
        cfmt::f(gd.vrrp_garp_interval.as_secs_f64())
    );
    let _ = writeln!(
        out,
        " Gratuitous NA interval = {}",
        cfmt::f(gd.vrrp_gna_interval.as_secs_f64())
    );
    let _ = writeln!(
        out,
        " VRRP default protocol version = {}",
        match gd.vrrp_version {
            VrrpVersion::V2 => 2,
            VrrpVersion::V3 => 3,
        }
    );
    let _ = writeln!(out, " nftables without counters");
    // The libnftnl keepalived 2.2.7 is built against in Debian 12.
    let _ = writeln!(out, " libnftnl version 1.2.3");
    let _ = writeln!(
        out,
        " VRRP check unicast_src = {}",
        tf(gd.vrrp_check_unicast_src)
    );
    let _ = writeln!(
        out,
        " VRRP skip check advert addresses = {}",
        tf(gd.vrrp_skip_check_adv_addr)
    );
    let _ = writeln!(out, " VRRP strict mode = {}", tf(gd.vrrp_strict));
    let _ = writeln!(out, " Max auto priority = 0");
    let _ = writeln!(out, " Min auto priority delay = 1000000 usecs");
    process_lines(out, "VRRP", Some(&gd.vrrp_process));
    process_lines(out, "Checker", Some(&gd.checker_process));
    process_lines(out, "BFD", Some(&gd.bfd_process));
    let _ = writeln!(out, " SNMP vrrp {}", able(gd.snmp.vrrp));
    let _ = writeln!(out, " SNMP checker {}", able(gd.snmp.checker));
    let _ = writeln!(out, " SNMP RFCv2 {}", able(gd.snmp.rfcv2));
    let _ = writeln!(out, " SNMP RFCv3 {}", able(gd.snmp.rfcv3));
    let _ = writeln!(out, " SNMP traps {}", able(gd.snmp.traps));
    let _ = writeln!(
        out,
        " SNMP socket = {}",
        gd.snmp
            .socket
            .as_deref()
            .unwrap_or("default (unix:/var/agentx/master)")
    );
    let _ = writeln!(out, " DBus disabled");
    let _ = writeln!(out, " DBus service name = ");
    let _ = writeln!(out, " Script security {}", able(gd.enable_script_security));
    if let Some((u, g)) = default_script_ids(gd) {
        let _ = writeln!(out, " Default script uid:gid {u}:{g}");
    }
    for name in [
        "vrrp_netlink_cmd_rcv_bufs",
        "vrrp_netlink_cmd_rcv_bufs_force",
        "vrrp_netlink_monitor_rcv_bufs",
        "vrrp_netlink_monitor_rcv_bufs_force",
        "process_monitor_rcv_bufs",
        "process_monitor_rcv_bufs_force",
        "lvs_netlink_cmd_rcv_bufs",
        "lvs_netlink_cmd_rcv_bufs_force",
        "lvs_netlink_monitor_rcv_bufs",
        "lvs_netlink_monitor_rcv_bufs_force",
        "rs_init_notifies",
        "no_checker_emails",
    ] {
        let _ = writeln!(out, " {name} = 0");
    }
    let _ = writeln!(out, " rx_bufs_multiples = 3");
    let _ = writeln!(out, " umask = 0{:o}", ctx.umask);
    if !gd.vrrp_startup_delay.is_zero() {
        let _ = writeln!(
            out,
            " vrrp_startup_delay = {}",
            cfmt::g(gd.vrrp_startup_delay.as_secs_f64())
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// keepalived 2.2.7's VRRP process, `router_id rkd_dump`, nothing else
    /// in global_defs (captured from /tmp/keepalived.data).
    const KEEPALIVED_VRRP: &str = include_str!("../tests/data/global_vrrp.txt");

    #[test]
    fn defaults_match_keepalived_vrrp_process() {
        let gd = GlobalDefs {
            router_id: Some("rkd_dump".into()),
            ..GlobalDefs::default()
        };
        let got = global_definitions(&gd, &Context::default());
        // The default script user depends on the host (keepalived_script or root).
        let normalise = |s: &str| {
            s.lines()
                .map(|l| {
                    if l.starts_with(" Default script uid:gid") {
                        " Default script uid:gid U:G".to_string()
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(normalise(&got), normalise(KEEPALIVED_VRRP));
    }
}
