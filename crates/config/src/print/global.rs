//! `global_defs`.

use std::fmt::Write;

use super::*;

pub(super) fn global_defs(w: &mut Out, g: &GlobalDefs) {
    w.open("global_defs");
    opt(w, "router_id", g.router_id.as_deref().map(q));
    if !g.notification_email.is_empty() {
        w.open("notification_email");
        for e in &g.notification_email {
            w.line(&q(e));
        }
        w.close();
    }
    opt(
        w,
        "notification_email_from",
        g.notification_email_from.as_deref().map(q),
    );
    if let Some(s) = &g.smtp_server {
        w.line(&format!("smtp_server {} {}", q(&s.host), s.port));
    }
    opt(w, "smtp_helo_name", g.smtp_helo_name.as_deref().map(q));
    w.time("smtp_connect_timeout", g.smtp_connect_timeout);
    w.flag("smtp_alert", g.smtp_alert);
    w.flag("smtp_alert_vrrp", g.smtp_alert_vrrp);
    w.flag("smtp_alert_checker", g.smtp_alert_checker);
    w.plain("no_email_faults", g.no_email_faults);
    w.flag("checker_log_all_failures", g.checker_log_all_failures);
    opt(w, "script_user", g.script_user.as_ref().map(user));
    w.plain("enable_script_security", g.enable_script_security);
    opt(w, "startup_script", g.startup_script.as_ref().map(notify));
    w.kv("startup_script_timeout", g.startup_script_timeout.as_secs());
    opt(w, "shutdown_script", g.shutdown_script.as_ref().map(notify));
    w.kv(
        "shutdown_script_timeout",
        g.shutdown_script_timeout.as_secs(),
    );
    w.kv("default_interface", q(&g.default_interface));
    w.kv("vrrp_version", g.vrrp_version.number());
    w.kv("vrrp_mcast_group4", g.vrrp_mcast_group4);
    w.kv("vrrp_mcast_group6", g.vrrp_mcast_group6);
    // vrrp_min_garp first: it resets the GARP values written after it.
    w.flag("vrrp_min_garp", g.vrrp_min_garp);
    w.time("vrrp_garp_master_delay", g.vrrp_garp_master_delay);
    w.kv("vrrp_garp_master_repeat", g.vrrp_garp_master_repeat);
    w.time(
        "vrrp_garp_master_refresh",
        g.vrrp_garp_master_refresh.unwrap_or_default(),
    );
    w.kv(
        "vrrp_garp_master_refresh_repeat",
        g.vrrp_garp_master_refresh_repeat,
    );
    w.time("vrrp_garp_lower_prio_delay", g.vrrp_garp_lower_prio_delay);
    w.kv("vrrp_garp_lower_prio_repeat", g.vrrp_garp_lower_prio_repeat);
    w.time_nonzero("vrrp_garp_interval", g.vrrp_garp_interval);
    w.time_nonzero("vrrp_gna_interval", g.vrrp_gna_interval);
    w.kv("vrrp_down_timer_adverts", g.vrrp_down_timer_adverts);
    w.flag("vrrp_lower_prio_no_advert", g.vrrp_lower_prio_no_advert);
    w.flag(
        "vrrp_higher_prio_send_advert",
        g.vrrp_higher_prio_send_advert,
    );
    w.plain("vrrp_strict", g.vrrp_strict);
    // `nftables` resets the priority: the priority line comes after it.
    if let Some(t) = &g.nftables.table {
        w.kv("nftables", q(t));
    }
    if g.nftables.priority != -1 {
        w.kv("nftables_priority", g.nftables.priority);
    }
    w.plain("nftables_ifindex", g.nftables.ifindex);
    w.plain("nftables_counters", g.nftables.counters);
    w.plain("disable_local_igmp", g.disable_local_igmp);
    w.plain("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr);
    w.plain("vrrp_check_unicast_src", g.vrrp_check_unicast_src);
    w.time_nonzero("vrrp_startup_delay", g.vrrp_startup_delay);
    global_fifos_lvs_and_rest(w, g);
    super::identity::global(w, &g.identity);
    w.close();
}

/// Notify FIFOs, LVS, process options and the rkeepalived extensions.
fn global_fifos_lvs_and_rest(w: &mut Out, g: &GlobalDefs) {
    for (key, f) in [
        ("notify_fifo", &g.notify_fifo),
        ("vrrp_notify_fifo", &g.vrrp_notify_fifo),
        ("lvs_notify_fifo", &g.lvs_notify_fifo),
    ] {
        if let Some(f) = f {
            let mut s = q(&f.path.to_string_lossy());
            if let Some(u) = &f.user {
                let _ = write!(s, " {}", user(u));
            }
            w.kv(key, s);
            if let Some(sc) = &f.script {
                w.kv(&format!("{key}_script"), notify(sc));
            }
        }
    }
    if let Some(d) = &g.lvs_sync_daemon {
        let mut s = q(&d.interface);
        if let Some(i) = &d.vrrp_instance {
            let _ = write!(s, " inst {}", q(i));
        }
        if let Some(id) = d.sync_id {
            let _ = write!(s, " id {id}");
        }
        if let Some(m) = d.maxlen {
            let _ = write!(s, " maxlen {m}");
        }
        let _ = write!(s, " port {}", d.port);
        if let Some(t) = d.ttl {
            let _ = write!(s, " ttl {t}");
        }
        let _ = write!(s, " group {}", d.group);
        w.kv("lvs_sync_daemon", s);
    }
    let t = &g.lvs_timeouts;
    let mut ts = String::new();
    for (k, v) in [("tcp", t.tcp), ("tcpfin", t.tcpfin), ("udp", t.udp)] {
        if let Some(v) = v {
            let _ = write!(ts, " {k} {}", v.as_secs());
        }
    }
    if !ts.is_empty() {
        w.line(&format!("lvs_timeouts{ts}"));
    }
    w.plain("lvs_flush", g.lvs_flush);
    if let Some(d) = g.drain_on_remove {
        w.kv("drain_on_remove", d.as_secs());
    }
    let a = &g.announce;
    if let Some(t) = a.table {
        w.kv("announce_table", t);
    }
    if let Some(p) = a.protocol {
        w.kv("announce_protocol", p);
    }
    if let Some(m) = a.metric {
        w.kv("announce_metric", m);
    }
    if let Some(d) = a.drain_delay {
        w.kv("announce_drain_delay", d.as_secs());
    }
    match g.lvs_flush_on_stop {
        LvsFlushOnStop::No => {}
        LvsFlushOnStop::Flush => w.line("lvs_flush_on_stop"),
        LvsFlushOnStop::VirtualServers => w.line("lvs_flush_on_stop VS"),
    }
    for (prefix, p) in [
        ("vrrp", &g.vrrp_process),
        ("checker", &g.checker_process),
        ("bfd", &g.bfd_process),
    ] {
        if let Some(v) = p.priority {
            w.kv(&format!("{prefix}_priority"), v);
        }
        if let Some(v) = p.rt_priority {
            w.kv(&format!("{prefix}_rt_priority"), v);
        }
        w.plain(&format!("{prefix}_no_swap"), p.no_swap);
        if !p.cpu_affinity.is_empty() {
            let cpus: Vec<String> = p.cpu_affinity.iter().map(|c| c.to_string()).collect();
            w.kv(&format!("{prefix}_cpu_affinity"), cpus.join(" "));
        }
        if let Some(v) = p.rlimit_rttime {
            w.kv(&format!("{prefix}_rlimit_rttime"), v);
        }
    }
    w.plain("dynamic_interfaces", g.dynamic_interfaces);
    w.kv("vmac_prefix", q(&g.vmac_prefix));
    w.plain("enable_snmp_vrrp", g.snmp.vrrp);
    w.plain("enable_snmp_checker", g.snmp.checker);
    w.plain("enable_snmp_rfcv2", g.snmp.rfcv2);
    w.plain("enable_snmp_rfcv3", g.snmp.rfcv3);
    w.plain("enable_traps", g.snmp.traps);
    opt(w, "snmp_socket", g.snmp.socket.as_deref().map(q));
    opt(w, "metrics_listen", g.metrics_listen.map(|a| a.to_string()));
    w.plain("metrics_serve_status", g.metrics_serve_status);
    opt(
        w,
        "metrics_web_config",
        g.metrics_web_config
            .as_ref()
            .map(|p| q(&p.to_string_lossy())),
    );
    opt(
        w,
        "status_socket",
        g.status_socket.as_ref().map(|p| q(&p.to_string_lossy())),
    );
}
