//! `vrrp_script`, `vrrp_track_file`, `vrrp_sync_group`, `vrrp_instance`.

use std::fmt::Write;

use super::*;

pub(super) fn vrrp_script(w: &mut Out, s: &VrrpScript) {
    w.open(&format!("vrrp_script {}", q(&s.name)));
    w.kv("script", q(&s.script));
    w.time("interval", s.interval);
    w.time("timeout", s.timeout);
    w.line(&format!("weight {}{}", s.weight, rev(s.weight_reverse)));
    w.kv("rise", s.rise);
    w.kv("fall", s.fall);
    opt(w, "user", s.user.as_ref().map(user));
    w.plain("init_fail", s.init_fail);
    w.close();
}
pub(super) fn vrrp_track_file(w: &mut Out, t: &VrrpTrackFile) {
    w.open(&format!("vrrp_track_file {}", q(&t.name)));
    w.line(&format!("file {}", q(&t.file.to_string_lossy())));
    w.line(&format!("weight {}{}", t.weight, rev(t.reverse)));
    if let Some(i) = &t.init_file {
        w.line(&format!(
            "init_file {}{}",
            i.value,
            if i.overwrite { " overwrite" } else { "" }
        ));
    }
    w.close();
}
/// keepalived vrrp/vrrp_parser.c `vrrp_tprocess_*_handler()`: `param_match`
/// before `process` (parameters imply an exact match only if none was set),
/// `quorum` before `quorum_max` (each is checked against the other).
pub(super) fn vrrp_track_process(w: &mut Out, t: &VrrpTrackProcess) {
    w.open(&format!("vrrp_track_process {}", q(&t.name)));
    match t.param_match {
        ParamMatch::None => {}
        ParamMatch::Exact => w.line("param_match"),
        ParamMatch::Initial => w.line("param_match initial"),
        ParamMatch::Partial => w.line("param_match partial"),
    }
    let mut line = format!("process {}", q(&t.process));
    for a in &t.params {
        line.push(' ');
        line.push_str(&q(a));
    }
    w.line(&line);
    w.plain("full_command", t.full_command);
    if t.quorum > 0 {
        w.kv("quorum", t.quorum);
    }
    if t.quorum_max != u32::MAX {
        w.kv("quorum_max", t.quorum_max);
    }
    w.line(&format!("weight {}{}", t.weight, rev(t.reverse)));
    if let Some(d) = t.terminate_delay {
        w.time("terminate_delay", d);
    }
    if let Some(d) = t.fork_delay {
        w.time("fork_delay", d);
    }
    w.close();
}

pub(super) fn tracks(w: &mut Out, key: &str, list: &[TrackRef]) {
    if list.is_empty() {
        return;
    }
    w.open(key);
    for t in list {
        // An explicit weight keeps the script's/file's `reverse` unless
        // told otherwise (keepalived vrrp/vrrp_track.c `alloc_track_script()`),
        // so write `noreverse` where it matters; track_interface has no
        // default reverse and keepalived does not know `noreverse` there.
        let r = match (t.reverse, key) {
            (true, _) => " reverse",
            (false, "track_interface") => "",
            (false, _) => " noreverse",
        };
        w.line(&format!("{} weight {}{r}", q(&t.name), t.weight));
    }
    w.close();
}
pub(super) fn notifies(w: &mut Out, items: &[(&str, &Option<Notify>)]) {
    for (k, n) in items {
        opt(w, k, n.as_ref().map(notify));
    }
}
pub(super) fn sync_group(w: &mut Out, g: &VrrpSyncGroup) {
    w.open(&format!("vrrp_sync_group {}", q(&g.name)));
    w.open("group");
    for m in &g.group {
        w.line(&q(m));
    }
    w.close();
    tracks(w, "track_interface", &g.track_interfaces);
    tracks(w, "track_script", &g.track_scripts);
    tracks(w, "track_file", &g.track_files);
    tracks(w, "track_process", &g.track_processes);
    tracks(w, "track_bfd", &g.track_bfds);
    notifies(
        w,
        &[
            ("notify_master", &g.notify_master),
            ("notify_backup", &g.notify_backup),
            ("notify_fault", &g.notify_fault),
            ("notify_stop", &g.notify_stop),
            ("notify", &g.notify),
        ],
    );
    w.flag("notify_priority_changes", g.notify_priority_changes);
    w.flag("smtp_alert", g.smtp_alert);
    w.plain("global_tracking", g.global_tracking);
    w.plain("sync_group_tracking_weight", g.sync_group_tracking_weight);
    w.close();
}
pub(super) fn vrrp_instance(w: &mut Out, v: &VrrpInstance) {
    w.open(&format!("vrrp_instance {}", q(&v.name)));
    w.kv(
        "state",
        match v.state {
            InitialState::Master => "MASTER",
            InitialState::Backup => "BACKUP",
        },
    );
    w.kv("interface", q(&v.interface));
    w.kv("virtual_router_id", v.virtual_router_id);
    w.kv("priority", v.priority);
    w.kv("version", v.version.number());
    w.time("advert_int", v.advert_int);
    if v.nopreempt {
        w.line("nopreempt");
    }
    w.time("preempt_delay", v.preempt_delay);
    opt(w, "mcast_src_ip", v.mcast_src_ip.map(|a| a.to_string()));
    opt(w, "mcast_dst_ip", v.mcast_dst_ip.map(|a| a.to_string()));
    opt(w, "unicast_src_ip", v.unicast_src_ip.map(|a| a.to_string()));
    if !v.unicast_peers.is_empty() {
        w.open("unicast_peer");
        for p in &v.unicast_peers {
            let mut s = p.addr.to_string();
            if let Some(t) = p.min_ttl {
                let _ = write!(s, " min_ttl {t}");
            }
            if let Some(t) = p.max_ttl {
                let _ = write!(s, " max_ttl {t}");
            }
            w.line(&s);
        }
        w.close();
    }
    opt(w, "unicast_ttl", v.unicast_ttl.map(|t| t.to_string()));
    w.plain("unicast_fault_no_peer", v.unicast_fault_no_peer);
    w.plain("check_unicast_src", v.check_unicast_src);
    if let Some(a) = &v.authentication {
        w.open("authentication");
        w.kv(
            "auth_type",
            match a.auth_type {
                AuthType::Pass => "PASS",
                AuthType::Ah => "AH",
            },
        );
        w.kv("auth_pass", q(&a.auth_pass));
        w.close();
    }
    for (key, list) in [
        ("virtual_ipaddress", &v.virtual_ipaddresses),
        (
            "virtual_ipaddress_excluded",
            &v.virtual_ipaddresses_excluded,
        ),
    ] {
        if !list.is_empty() {
            w.open(key);
            for a in list {
                w.line(&vip(a));
            }
            w.close();
        }
    }
    if !v.virtual_routes.is_empty() {
        w.open("virtual_routes");
        for r in &v.virtual_routes {
            w.line(&route(r));
        }
        w.close();
    }
    if !v.virtual_rules.is_empty() {
        w.open("virtual_rules");
        for r in &v.virtual_rules {
            w.line(&rule(r));
        }
        w.close();
    }
    instance_tracking_and_options(w, v);
    w.close();
}

/// Tracking, notify scripts, modes and GARP options of an instance.
pub(super) fn instance_tracking_and_options(w: &mut Out, v: &VrrpInstance) {
    tracks(w, "track_interface", &v.track_interfaces);
    tracks(w, "track_script", &v.track_scripts);
    tracks(w, "track_file", &v.track_files);
    tracks(w, "track_process", &v.track_processes);
    tracks(w, "track_bfd", &v.track_bfds);
    w.plain("dont_track_primary", v.dont_track_primary);
    if let Some(m) = &v.use_vmac {
        let mut s = format!("use_vmac {}", q(&m.name));
        if let Some(mac) = m.mac {
            let hex: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
            let _ = write!(s, " {}", hex.join(":"));
        }
        w.line(&s);
        w.plain("vmac_xmit_base", m.xmit_base);
    }
    w.line(if v.accept { "accept" } else { "no_accept" });
    w.flag("strict_mode", v.strict_mode);
    // keepalived sets it for any boolean value, `off` included.
    w.plain("skip_check_adv_addr", v.skip_check_adv_addr);
    w.plain("promote_secondaries", v.promote_secondaries);
    notifies(
        w,
        &[
            ("notify_master", &v.notify_master),
            ("notify_backup", &v.notify_backup),
            ("notify_fault", &v.notify_fault),
            ("notify_stop", &v.notify_stop),
            ("notify", &v.notify),
            ("notify_master_rx_lower_pri", &v.notify_master_rx_lower_pri),
        ],
    );
    w.flag("notify_priority_changes", v.notify_priority_changes);
    w.flag("smtp_alert", v.smtp_alert);
    w.time("garp_master_delay", v.garp_master_delay);
    w.kv("garp_master_repeat", v.garp_master_repeat);
    w.time(
        "garp_master_refresh",
        v.garp_master_refresh.unwrap_or_default(),
    );
    w.kv("garp_master_refresh_repeat", v.garp_master_refresh_repeat);
    w.time("garp_lower_prio_delay", v.garp_lower_prio_delay);
    w.kv("garp_lower_prio_repeat", v.garp_lower_prio_repeat);
    w.kv("down_timer_adverts", v.down_timer_adverts);
    w.flag("lower_prio_no_advert", v.lower_prio_no_advert);
    w.flag("higher_prio_send_advert", v.higher_prio_send_advert);
    opt(
        w,
        "lvs_sync_daemon_interface",
        v.lvs_sync_daemon_interface.as_deref().map(q),
    );
    w.kv("debug", v.debug);
}
