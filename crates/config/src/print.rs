//! Canonical keepalived.conf output.
//!
//! Every effective value is written explicitly, so the text parses back to an
//! equal [`Config`] whatever keepalived's defaults and inheritance rules are
//! (and documents what the daemon actually runs with). `Origin`s are not
//! printed (they compare equal).

use std::fmt::Write;
use std::time::Duration;

use crate::model::*;
use crate::parse::fmt_duration;

/// Render `cfg` as keepalived.conf text.
pub fn print(cfg: &Config) -> String {
    let mut w = Out::default();
    global_defs(&mut w, &cfg.global_defs);
    if !cfg.static_ipaddresses.is_empty() {
        w.open("static_ipaddress");
        for a in &cfg.static_ipaddresses {
            w.line(&vip(a));
        }
        w.close();
    }
    if !cfg.static_routes.is_empty() {
        w.open("static_routes");
        for r in &cfg.static_routes {
            w.line(&route(r));
        }
        w.close();
    }
    if !cfg.static_rules.is_empty() {
        w.open("static_rules");
        for r in &cfg.static_rules {
            w.line(&rule(r));
        }
        w.close();
    }
    for s in &cfg.vrrp_scripts {
        vrrp_script(&mut w, s);
    }
    for t in &cfg.vrrp_track_files {
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
    for v in &cfg.vrrp_instances {
        vrrp_instance(&mut w, v);
    }
    for g in &cfg.vrrp_sync_groups {
        sync_group(&mut w, g);
    }
    if let Some(s) = &cfg.ssl {
        w.open("SSL");
        opt(&mut w, "password", s.password.as_deref().map(q));
        opt(&mut w, "ca", s.ca.as_ref().map(|p| q(&p.to_string_lossy())));
        opt(
            &mut w,
            "certificate",
            s.certificate.as_ref().map(|p| q(&p.to_string_lossy())),
        );
        opt(
            &mut w,
            "key",
            s.key.as_ref().map(|p| q(&p.to_string_lossy())),
        );
        w.close();
    }
    for g in &cfg.virtual_server_groups {
        w.open(&format!("virtual_server_group {}", q(&g.name)));
        for m in &g.members {
            w.line(&match m {
                VsgMember::Range { first, last, port } => {
                    let mut s = if first == last {
                        first.to_string()
                    } else {
                        format!("{first}-{last}")
                    };
                    if let Some(p) = port {
                        let _ = write!(s, " {p}");
                    }
                    s
                }
                VsgMember::Fwmark { mark, family } => {
                    format!("fwmark {mark}{}", family.map(fam).unwrap_or_default())
                }
            });
        }
        w.close();
    }
    for vs in &cfg.virtual_servers {
        virtual_server(&mut w, vs);
    }
    w.s
}

#[derive(Default)]
struct Out {
    s: String,
    depth: usize,
}

impl Out {
    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.s.push_str("    ");
        }
        self.s.push_str(text);
        self.s.push('\n');
    }
    fn open(&mut self, head: &str) {
        self.line(&format!("{head} {{"));
        self.depth += 1;
    }
    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
    }
    fn kv(&mut self, key: &str, value: impl std::fmt::Display) {
        self.line(&format!("{key} {value}"));
    }
    fn flag(&mut self, key: &str, value: bool) {
        self.kv(key, onoff(value));
    }
    fn time(&mut self, key: &str, d: Duration) {
        self.kv(key, fmt_duration(d));
    }
    /// A keyword that keepalived takes without a value: written only when set.
    fn plain(&mut self, key: &str, on: bool) {
        if on {
            self.line(key);
        }
    }
    /// keepalived rejects 0 for these timers; 0 is the default anyway.
    fn time_nonzero(&mut self, key: &str, d: Duration) {
        if !d.is_zero() {
            self.time(key, d);
        }
    }
}

fn opt(w: &mut Out, key: &str, value: Option<String>) {
    if let Some(v) = value {
        w.kv(key, v);
    }
}

fn onoff(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn rev(b: bool) -> &'static str {
    if b {
        " reverse"
    } else {
        ""
    }
}

fn fam(f: AddressFamily) -> String {
    match f {
        AddressFamily::Inet => " inet".into(),
        AddressFamily::Inet6 => " inet6".into(),
    }
}

/// Quote a word when it would not survive as a bare word. `$` is written as
/// an octal escape so parameter substitution never sees it.
pub fn q(s: &str) -> String {
    let safe = !s.is_empty()
        && !s.starts_with(['@', '~', '!', '#'])
        && s != "include"
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | '@' | ',' | '+' | '=' | '%')
        });
    if safe {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\044"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn notify(n: &Notify) -> String {
    let mut s = q(&n.command);
    if let Some(u) = &n.user {
        let _ = write!(s, " {}", q(&u.user));
        if let Some(g) = &u.group {
            let _ = write!(s, " {}", q(g));
        }
    }
    s
}

fn user(u: &ScriptUser) -> String {
    match &u.group {
        Some(g) => format!("{} {}", q(&u.user), q(g)),
        None => q(&u.user),
    }
}

fn global_defs(w: &mut Out, g: &GlobalDefs) {
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
    w.plain("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr);
    w.plain("vrrp_check_unicast_src", g.vrrp_check_unicast_src);
    w.time_nonzero("vrrp_startup_delay", g.vrrp_startup_delay);
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
    match g.lvs_flush_on_stop {
        LvsFlushOnStop::No => {}
        LvsFlushOnStop::Flush => w.line("lvs_flush_on_stop"),
        LvsFlushOnStop::VirtualServers => w.line("lvs_flush_on_stop VS"),
    }
    for (prefix, p) in [("vrrp", &g.vrrp_process), ("checker", &g.checker_process)] {
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
    w.close();
}

fn vrrp_script(w: &mut Out, s: &VrrpScript) {
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

fn tracks(w: &mut Out, key: &str, list: &[TrackRef]) {
    if list.is_empty() {
        return;
    }
    w.open(key);
    for t in list {
        w.line(&format!(
            "{} weight {}{}",
            q(&t.name),
            t.weight,
            rev(t.reverse)
        ));
    }
    w.close();
}

fn notifies(w: &mut Out, items: &[(&str, &Option<Notify>)]) {
    for (k, n) in items {
        opt(w, k, n.as_ref().map(notify));
    }
}

fn sync_group(w: &mut Out, g: &VrrpSyncGroup) {
    w.open(&format!("vrrp_sync_group {}", q(&g.name)));
    w.open("group");
    for m in &g.group {
        w.line(&q(m));
    }
    w.close();
    tracks(w, "track_interface", &g.track_interfaces);
    tracks(w, "track_script", &g.track_scripts);
    tracks(w, "track_file", &g.track_files);
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

fn vrrp_instance(w: &mut Out, v: &VrrpInstance) {
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
    tracks(w, "track_interface", &v.track_interfaces);
    tracks(w, "track_script", &v.track_scripts);
    tracks(w, "track_file", &v.track_files);
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
    w.flag("skip_check_adv_addr", v.skip_check_adv_addr);
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
    w.close();
}

fn scope_name(s: Scope) -> String {
    match s {
        Scope::Global => "global".into(),
        Scope::Site => "site".into(),
        Scope::Link => "link".into(),
        Scope::Host => "host".into(),
        Scope::Nowhere => "nowhere".into(),
        Scope::Other(n) => n.to_string(),
    }
}

fn vip(a: &VirtualIpAddress) -> String {
    let mut s = format!("{}/{}", a.addr, a.prefix_len);
    if let Some(b) = a.brd {
        let _ = write!(s, " brd {b}");
    }
    let _ = write!(s, " dev {}", q(&a.dev));
    if let Some(sc) = a.scope {
        let _ = write!(s, " scope {}", scope_name(sc));
    }
    if let Some(l) = &a.label {
        let _ = write!(s, " label {}", q(l));
    }
    if let Some(p) = a.peer {
        let _ = write!(s, " peer {p}");
    }
    for (on, word) in [
        (a.home, "home"),
        (a.nodad, "-nodad"),
        (a.mngtmpaddr, "mngtmpaddr"),
        (a.noprefixroute, "noprefixroute"),
        (a.autojoin, "autojoin"),
        (a.no_track, "no_track"),
        (a.use_vmac, "use_vmac"),
    ] {
        if on {
            let _ = write!(s, " {word}");
        }
    }
    if let Some(l) = a.preferred_lft {
        let _ = write!(s, " preferred_lft {l}");
    }
    s
}

/// keepalived 2.2.7 accepts `[TYPE] PREFIX [from P] [src IP] [via ...]`
/// (not `TYPE to PREFIX`), and multipath as `nexthop via ...` clauses.
fn route(r: &VirtualRoute) -> String {
    let ty = match r.route_type {
        RouteType::Unicast => "",
        RouteType::Blackhole => "blackhole ",
        RouteType::Unreachable => "unreachable ",
        RouteType::Prohibit => "prohibit ",
        RouteType::Throw => "throw ",
        RouteType::Local => "local ",
        RouteType::Broadcast => "broadcast ",
        RouteType::Multicast => "multicast ",
    };
    let mut s = format!("{ty}{}", r.to);
    if let Some(f) = r.from {
        let _ = write!(s, " from {f}");
    }
    if let Some(a) = r.src {
        let _ = write!(s, " src {a}");
    }
    let hop =
        |s: &mut String, via: Option<std::net::IpAddr>, dev: &Option<String>, onlink: bool| {
            if let Some(v) = via {
                let _ = write!(s, " via {v}");
            }
            if let Some(d) = dev {
                let _ = write!(s, " dev {}", q(d));
            }
            if onlink {
                s.push_str(" onlink");
            }
        };
    if r.nexthops.is_empty() {
        hop(&mut s, r.via, &r.dev, r.onlink);
    }
    for (k, v) in [
        ("table", r.table),
        ("metric", r.metric),
        ("mtu", r.mtu),
        ("advmss", r.advmss),
    ] {
        if let Some(v) = v {
            let _ = write!(s, " {k} {v}");
        }
    }
    if let Some(sc) = r.scope {
        let _ = write!(s, " scope {}", scope_name(sc));
    }
    if let Some(p) = r.protocol {
        let _ = write!(s, " protocol {p}");
    }
    if let Some(t) = r.tos {
        let _ = write!(s, " tos {t}");
    }
    if r.no_track {
        s.push_str(" no_track");
    }
    // keepalived: nexthop clauses must come last.
    if !r.nexthops.is_empty() {
        if r.via.is_some() || r.dev.is_some() || r.onlink {
            s.push_str(" nexthop");
            hop(&mut s, r.via, &r.dev, r.onlink);
        }
        for nh in &r.nexthops {
            s.push_str(" nexthop");
            hop(&mut s, nh.via, &nh.dev, nh.onlink);
            if let Some(wt) = nh.weight {
                let _ = write!(s, " weight {wt}");
            }
        }
    }
    s
}

/// keepalived 2.2.7 takes `inet`/`inet6` only after the selectors, and
/// needs it only when there is no address.
fn rule(r: &VirtualRule) -> String {
    let mut s = String::new();
    if r.invert {
        s.push_str("not ");
    }
    match (r.from, r.to) {
        (None, None) => s.push_str("from all"),
        (f, t) => {
            if let Some(f) = f {
                let _ = write!(s, "from {f}");
            }
            if let Some(t) = t {
                if f.is_some() {
                    s.push(' ');
                }
                let _ = write!(s, "to {t}");
            }
        }
    }
    if let Some(p) = r.priority {
        let _ = write!(s, " priority {p}");
    }
    if let Some(t) = r.tos {
        let _ = write!(s, " tos {t}");
    }
    if let Some(m) = r.fwmark {
        let _ = write!(s, " fwmark {m}");
        if let Some(mask) = r.fwmask {
            let _ = write!(s, "/{mask}");
        }
    }
    if let Some(i) = &r.iif {
        let _ = write!(s, " iif {}", q(i));
    }
    if let Some(o) = &r.oif {
        let _ = write!(s, " oif {}", q(o));
    }
    match &r.action {
        RuleAction::Table(t) => {
            let _ = write!(s, " table {t}");
        }
        RuleAction::Goto(t) => {
            let _ = write!(s, " goto {t}");
        }
        RuleAction::Blackhole => s.push_str(" blackhole"),
        RuleAction::Unreachable => s.push_str(" unreachable"),
        RuleAction::Prohibit => s.push_str(" prohibit"),
        RuleAction::Nop => s.push_str(" nop"),
    }
    if r.no_track {
        s.push_str(" no_track");
    }
    if r.from.is_none() && r.to.is_none() {
        s.push_str(match r.family {
            AddressFamily::Inet => " inet",
            AddressFamily::Inet6 => " inet6",
        });
    }
    s
}

fn method(m: &ForwardingMethod) -> String {
    match m {
        ForwardingMethod::Nat => "NAT".into(),
        ForwardingMethod::Dr => "DR".into(),
        ForwardingMethod::Tun {
            tunnel_type,
            checksum,
        } => {
            let mut s = match tunnel_type {
                TunnelType::Ipip => "TUN type ipip".to_string(),
                TunnelType::Gre => "TUN type gre".to_string(),
                TunnelType::Gue { port } => format!("TUN type gue port {port}"),
            };
            s.push_str(match checksum {
                TunnelChecksum::Default => "",
                TunnelChecksum::NoCsum => " nocsum",
                TunnelChecksum::Csum => " csum",
                TunnelChecksum::RemCsum => " remcsum",
            });
            s
        }
    }
}

fn checker_defaults(w: &mut Out, d: &CheckerDefaults) {
    if let Some(v) = d.connect_timeout {
        w.time("connect_timeout", v);
    }
    if let Some(v) = d.retry {
        w.kv("retry", v);
    }
    if let Some(v) = d.delay_before_retry {
        w.time("delay_before_retry", v);
    }
    if let Some(v) = d.warmup {
        w.time("warmup", v);
    }
    if let Some(v) = d.delay_loop {
        w.time("delay_loop", v);
    }
    if let Some(v) = d.alpha {
        w.flag("alpha", v);
    }
}

fn virtual_server(w: &mut Out, vs: &VirtualServer) {
    let head = match &vs.service {
        VirtualService::Addr { addr, port } => match port {
            Some(p) => format!("virtual_server {addr} {p}"),
            None => format!("virtual_server {addr}"),
        },
        VirtualService::Fwmark(m) => format!("virtual_server fwmark {m}"),
        VirtualService::Group(g) => format!("virtual_server group {}", q(g)),
    };
    w.open(&head);
    // keepalived ignores (and warns about) a protocol on fwmark services.
    if !matches!(vs.service, VirtualService::Fwmark(_)) {
        w.kv(
            "protocol",
            match vs.protocol {
                Protocol::Tcp => "TCP",
                Protocol::Udp => "UDP",
                Protocol::Sctp => "SCTP",
            },
        );
    }
    w.kv("lvs_sched", vs.lvs_sched.name());
    for (on, f) in [
        (vs.sched_flags.flag_1, "flag-1"),
        (vs.sched_flags.flag_2, "flag-2"),
        (vs.sched_flags.flag_3, "flag-3"),
    ] {
        if on {
            w.line(f);
        }
    }
    w.plain("ops", vs.ops);
    w.kv("lvs_method", method(&vs.lvs_method));
    opt(
        w,
        "persistence_engine",
        vs.persistence_engine.as_deref().map(q),
    );
    opt(
        w,
        "persistence_timeout",
        vs.persistence_timeout.map(|d| d.as_secs().to_string()),
    );
    opt(
        w,
        "persistence_granularity",
        vs.persistence_granularity.map(|a| a.to_string()),
    );
    if let Some(f) = vs.ip_family {
        w.kv("ip_family", fam(f).trim());
    }
    w.plain("ha_suspend", vs.ha_suspend);
    w.flag("smtp_alert", vs.smtp_alert);
    opt(w, "virtualhost", vs.virtualhost.as_deref().map(q));
    w.plain("omega", vs.omega);
    w.kv("quorum", vs.quorum);
    opt(w, "quorum_up", vs.quorum_up.as_ref().map(notify));
    opt(w, "quorum_down", vs.quorum_down.as_ref().map(notify));
    w.kv("hysteresis", vs.hysteresis);
    w.plain("inhibit_on_failure", vs.inhibit_on_failure);
    if let Some(s) = &vs.sorry_server {
        match s.port {
            Some(p) => w.line(&format!("sorry_server {} {p}", s.addr)),
            None => w.line(&format!("sorry_server {}", s.addr)),
        }
        w.kv("sorry_server_lvs_method", method(&s.lvs_method));
        w.plain("sorry_server_inhibit", s.inhibit);
    }
    // The VS `alpha` is a plain flag in keepalived (= checker_defaults.alpha).
    let mut d = vs.checker_defaults.clone();
    w.plain("alpha", d.alpha.take().unwrap_or(false));
    checker_defaults(w, &d);
    for rs in &vs.real_servers {
        real_server(w, rs);
    }
    w.close();
}

fn real_server(w: &mut Out, rs: &RealServer) {
    match rs.port {
        Some(p) => w.open(&format!("real_server {} {p}", rs.addr)),
        None => w.open(&format!("real_server {}", rs.addr)),
    }
    w.kv("weight", rs.weight);
    w.kv("lvs_method", method(&rs.lvs_method));
    w.flag("inhibit_on_failure", rs.inhibit_on_failure);
    opt(w, "notify_up", rs.notify_up.as_ref().map(notify));
    opt(w, "notify_down", rs.notify_down.as_ref().map(notify));
    opt(w, "uthreshold", rs.uthreshold.map(|v| v.to_string()));
    opt(w, "lthreshold", rs.lthreshold.map(|v| v.to_string()));
    w.flag("smtp_alert", rs.smtp_alert);
    opt(w, "virtualhost", rs.virtualhost.as_deref().map(q));
    checker_defaults(w, &rs.checker_defaults);
    for c in &rs.checkers {
        checker(w, c);
    }
    w.close();
}

fn checker(w: &mut Out, c: &Checker) {
    w.open(c.kind.keyword());
    let cm = &c.common;
    // keepalived: MISC_CHECK takes only the timing options (no
    // connect_timeout); FILE_CHECK and BFD_CHECK take none.
    let (connection, timing) = match c.kind {
        CheckerKind::Misc(_) => (false, true),
        CheckerKind::File(_) | CheckerKind::Bfd { .. } => (false, false),
        _ => (true, true),
    };
    if connection {
        opt(w, "connect_ip", cm.connect_ip.map(|a| a.to_string()));
        opt(w, "connect_port", cm.connect_port.map(|a| a.to_string()));
        opt(w, "bindto", cm.bindto.map(|a| a.to_string()));
        opt(w, "bind_port", cm.bind_port.map(|a| a.to_string()));
        opt(w, "bind_if", cm.bind_if.as_deref().map(q));
        opt(w, "fwmark", cm.fwmark.map(|a| a.to_string()));
        w.time("connect_timeout", cm.connect_timeout);
    }
    if timing {
        w.kv("retry", cm.retry);
        w.time("delay_before_retry", cm.delay_before_retry);
        w.time("delay_loop", cm.delay_loop);
        w.time("warmup", cm.warmup);
        w.flag("alpha", cm.alpha);
        w.flag("log_all_failures", cm.log_all_failures);
    }
    match &c.kind {
        CheckerKind::Tcp | CheckerKind::Ping => {}
        CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
            w.kv(
                "http_protocol",
                match h.http_protocol {
                    HttpProtocol::V1_0 => "1.0",
                    HttpProtocol::V1_0C => "1.0C",
                    HttpProtocol::V1_1 => "1.1",
                },
            );
            w.flag("fast_recovery", h.fast_recovery);
            opt(w, "virtualhost", h.virtualhost.as_deref().map(q));
            w.plain("enable_sni", h.enable_sni);
            // Newer than keepalived 2.2.7: written only when used.
            w.plain("tls_compliant", h.tls_compliant);
            for u in &h.urls {
                w.open("url");
                w.kv("path", q(&u.path));
                opt(w, "digest", u.digest.clone());
                let codes: Vec<String> = u
                    .status_codes
                    .iter()
                    .map(|r| {
                        if r.min == r.max {
                            r.min.to_string()
                        } else {
                            format!("{}-{}", r.min, r.max)
                        }
                    })
                    .collect();
                if !codes.is_empty() {
                    w.kv("status_code", codes.join(" "));
                }
                opt(w, "virtualhost", u.virtualhost.as_deref().map(q));
                opt(w, "regex", u.regex.as_deref().map(q));
                w.plain("regex_no_match", u.regex_no_match);
                opt(
                    w,
                    "regex_min_offset",
                    u.regex_min_offset.map(|v| v.to_string()),
                );
                opt(
                    w,
                    "regex_max_offset",
                    u.regex_max_offset.map(|v| v.to_string()),
                );
                w.close();
            }
        }
        CheckerKind::Smtp(s) => w.kv("helo_name", q(&s.helo_name)),
        CheckerKind::Dns(d) => {
            w.kv("type", d.query_type.name());
            w.kv("name", q(&d.name));
        }
        CheckerKind::Misc(m) => {
            w.kv("misc_path", q(&m.misc_path));
            w.time("misc_timeout", m.misc_timeout);
            w.plain("misc_dynamic", m.misc_dynamic);
            opt(w, "user", m.user.as_ref().map(user));
        }
        CheckerKind::Udp(u) => {
            if let Some(p) = &u.payload {
                let hex: Vec<String> = p.iter().map(|b| format!("{b:02x}")).collect();
                w.line(format!("payload {}", hex.join(" ")).trim_end());
            }
            if let Some(r) = &u.require_reply {
                let hex: Vec<String> = r
                    .iter()
                    .map(|b| {
                        let hi = if b.mask & 0xf0 != 0 {
                            format!("{:x}", b.value >> 4)
                        } else {
                            "X".into()
                        };
                        let lo = if b.mask & 0x0f != 0 {
                            format!("{:x}", b.value & 0xf)
                        } else {
                            "X".into()
                        };
                        format!("{hi}{lo}")
                    })
                    .collect();
                w.line(format!("require_reply {}", hex.join(" ")).trim_end());
            }
            w.kv("min_reply_length", u.min_reply_length);
            w.kv("max_reply_length", u.max_reply_length);
        }
        CheckerKind::File(f) => {
            w.kv("track_file", q(&f.track_file));
            w.plain("dynamic", f.dynamic);
            w.line(&format!("weight {}{}", f.weight, rev(f.reverse)));
        }
        CheckerKind::Bfd { name } => w.kv("name", q(name)),
    }
    w.close();
}
