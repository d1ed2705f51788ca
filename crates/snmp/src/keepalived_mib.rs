//! KEEPALIVED-MIB (enterprises.9586.100.5) built from the validated
//! configuration and the engines' live status, as keepalived 2.2.7 serves it
//! (keepalived/core/snmp.c `snmp_scalar`, vrrp/vrrp_snmp.c
//! `vrrp_snmp_instance` / `vrrp_snmp_syncgroup` / `vrrp_snmp_address`,
//! check/check_snmp.c `check_snmp_virtualserver` / `check_snmp_realserver`).
//!
//! Columns keepalived leaves out for a row (a NULL return: no sync group, no
//! script, unicast instances' multicast address, ...) are left out here too,
//! so a walk shows the same OIDs.

use std::net::IpAddr;

use rkeepalived_config::model::{
    AddressFamily, AuthType, Config, ForwardingMethod, InitialState, Notify, Protocol,
    VirtualService, VrrpVersion,
};
use serde_json::Value as Json;

use crate::agentx::Value;
use crate::mib::Mib;
use crate::oid::Oid;

/// enterprises.debian(9586).project(100).keepalived(5)
pub const KEEPALIVED_OID: [u32; 9] = [1, 3, 6, 1, 4, 1, 9586, 100, 5];

pub fn keepalived_oid() -> Oid {
    Oid::new(&KEEPALIVED_OID)
}

/// Looks an interface's index up by name.
pub type IfIndex = dyn Fn(&str) -> Option<u32>;

/// What the subagent knows beyond the configuration.
#[derive(Clone, Default)]
pub struct Live<'a> {
    /// The supervisor's status document (`rkeepalived --status`): the VRRP
    /// engine's `children.vrrp.engine.vrrp[]` and the checker's
    /// `children.checker.engine.virtual_servers[]` are read.
    pub status: Option<&'a Json>,
    /// The version string served as `version.0`.
    pub version: &'a str,
    /// Host name, for a config without `router_id` (keepalived's default).
    pub hostname: &'a str,
    /// ifindex of an interface name, if it exists.
    pub ifindex: Option<&'a IfIndex>,
}

/// SNMP_TruthValue (keepalived/include/snmp.h): true(1) / false(2).
fn truth(b: bool) -> Value {
    Value::Integer(if b { 1 } else { 2 })
}

/// SNMP_InetAddressType: ipv4(1), anything else ipv6(2).
fn inet_type(ip: &IpAddr) -> Value {
    Value::Integer(if ip.is_ipv4() { 1 } else { 2 })
}

fn inet_addr(ip: &IpAddr) -> Value {
    match ip {
        IpAddr::V4(a) => Value::OctetString(a.octets().to_vec()),
        IpAddr::V6(a) => Value::OctetString(a.octets().to_vec()),
    }
}

/// keepalived's cmd_str_r: the command line as configured.
fn cmd(n: &Option<Notify>) -> Option<Value> {
    n.as_ref().map(|n| Value::string(&n.command))
}

/// vrrp_snmp_state: init(0) backup(1) master(2) fault(3), else 4.
fn state_number(name: &str) -> i32 {
    match name {
        "INIT" => 0,
        "BACKUP" => 1,
        "MASTER" => 2,
        "FAULT" => 3,
        _ => 4,
    }
}

/// snmp_scope (keepalived/core/snmp.c): Linux scope → InetScopeType.
fn scope_number(scope: u8) -> i32 {
    match scope {
        0 => 14,
        254 => 1,
        253 => 2,
        200 => 5,
        _ => 0,
    }
}

struct Table {
    entry: Oid,
}

impl Table {
    fn new(base: &Oid, path: &[u32]) -> Table {
        let mut p = path.to_vec();
        p.push(1);
        Table {
            entry: base.child(&p),
        }
    }
    fn set(&self, mib: &mut Mib, column: u32, index: &[u32], v: Value) {
        let mut o = self.entry.child(&[column]);
        o.0.extend_from_slice(index);
        mib.insert(o, v);
    }
    fn opt(&self, mib: &mut Mib, column: u32, index: &[u32], v: Option<Value>) {
        if let Some(v) = v {
            self.set(mib, column, index, v);
        }
    }
}

fn engine<'a>(live: &Live<'a>, role: &str) -> Option<&'a Json> {
    live.status?.get("children")?.get(role)?.get("engine")
}

/// The VRRP engine's entry for instance `name`.
fn vrrp_live<'a>(live: &Live<'a>, name: &str) -> Option<&'a Json> {
    engine(live, "vrrp")?
        .get("vrrp")?
        .as_array()?
        .iter()
        .find(|i| i.get("iname").and_then(Json::as_str) == Some(name))
}

fn live_state(live: &Live<'_>, name: &str) -> Option<i32> {
    vrrp_live(live, name)
        .and_then(|i| i.get("state"))
        .and_then(Json::as_str)
        .map(state_number)
}

/// Builds the whole KEEPALIVED-MIB subtree.
pub fn build(cfg: &Config, live: &Live<'_>) -> Mib {
    let mut mib = Mib::new();
    global(&mut mib, cfg, live);
    // keepalived registers the VRRP tables in its VRRP child and the LVS
    // tables in its checker child: with -P / -C (or nothing to run) the
    // other subtree is absent.
    if role_enabled(live, "vrrp") {
        vrrp(&mut mib, cfg, live);
        crate::vrrp_mib::build(&mut mib, cfg, live);
        crate::vrrp_mib::build_v3(&mut mib, cfg, live);
        crate::vrrp_mib::build_stats(&mut mib, cfg, live);
        crate::vrrp_mib::build_v3_stats(&mut mib, cfg, live);
    }
    if role_enabled(live, "checker") {
        check(&mut mib, cfg, live);
    }
    mib
}

/// Whether the supervisor runs (or respawns) the role's child.
fn role_enabled(live: &Live<'_>, role: &str) -> bool {
    let Some(status) = live.status else {
        return true;
    };
    status
        .get("children")
        .and_then(|c| c.get(role))
        .and_then(|r| r.get("state"))
        .and_then(Json::as_str)
        .is_none_or(|s| s != "disabled")
}

/// keepalived/core/snmp.c `snmp_scalar`, `snmp_mail`.
fn global(mib: &mut Mib, cfg: &Config, live: &Live<'_>) {
    let g = &cfg.global_defs;
    let base = keepalived_oid().child(&[1]);
    let scalar = |mib: &mut Mib, path: &[u32], v: Value| {
        let mut p = path.to_vec();
        p.push(0);
        mib.insert(base.child(&p), v);
    };
    scalar(mib, &[1], Value::string(live.version));
    scalar(
        mib,
        &[2],
        Value::string(g.router_id.as_deref().unwrap_or(live.hostname)),
    );
    // smtp_server: keepalived keeps a resolved sockaddr; an unset server is
    // family 0, served as ipv6(2) with 4 zero octets and port 0.
    let smtp: Option<(IpAddr, u16)> = g
        .smtp_server
        .as_ref()
        .and_then(|s| s.host.parse::<IpAddr>().ok().map(|ip| (ip, s.port)));
    match smtp {
        Some((ip, port)) => {
            scalar(mib, &[3, 1], inet_type(&ip));
            scalar(mib, &[3, 2], inet_addr(&ip));
            scalar(
                mib,
                &[3, 3],
                Value::Gauge32(g.smtp_connect_timeout.as_secs() as u32),
            );
            scalar(mib, &[3, 6], Value::Gauge32(port as u32));
        }
        None => {
            scalar(mib, &[3, 1], Value::Integer(2));
            scalar(mib, &[3, 2], Value::OctetString(vec![0; 4]));
            scalar(mib, &[3, 3], Value::Gauge32(0));
            scalar(mib, &[3, 6], Value::Gauge32(0));
        }
    }
    if let Some(from) = &g.notification_email_from {
        scalar(mib, &[3, 4], Value::string(from));
    }
    for (i, addr) in g.notification_email.iter().enumerate() {
        mib.insert(base.child(&[3, 5, 1, 2, i as u32 + 1]), Value::string(addr));
    }
    scalar(mib, &[3, 7], truth(!g.no_email_faults));
    // smtp_alert{,_vrrp,_checker}: keepalived's -1 (unset) is 3; the model
    // holds booleans, so "unset" and "off" both read false here.
    let tri = |b: bool| Value::Integer(if b { 1 } else { 3 });
    scalar(mib, &[3, 8], tri(g.smtp_alert));
    scalar(mib, &[3, 9], tri(g.smtp_alert_vrrp));
    scalar(mib, &[3, 10], tri(g.smtp_alert_checker));
    // trapEnable: enable_traps (keepalived snmp.c `snmp_scalar()`).
    scalar(mib, &[4], truth(g.snmp.traps));
    // linkBeat: polling(2) only with linkbeat_use_polling (not supported).
    scalar(mib, &[5], Value::Integer(1));
    scalar(mib, &[6], truth(g.lvs_flush));
    // ipvs64BitStats: IPVS statistics are read 64-bit.
    scalar(mib, &[7], truth(true));
    // netNamespace: the `net_namespace` keyword is not supported.
    scalar(mib, &[8], Value::string(""));
    // dbus: not supported.
    scalar(mib, &[9], Value::Integer(2));
    scalar(mib, &[10], truth(g.dynamic_interfaces));
    use rkeepalived_config::model::LvsFlushOnStop;
    scalar(
        mib,
        &[11],
        Value::Integer(match g.lvs_flush_on_stop {
            LvsFlushOnStop::Flush => 1,
            LvsFlushOnStop::VirtualServers => 3,
            LvsFlushOnStop::No => 2,
        }),
    );
}

/// keepalived/vrrp/vrrp_snmp.c: sync groups (vrrp 1), members (vrrp 2),
/// instances (vrrp 3), addresses (vrrp 6).
fn vrrp(mib: &mut Mib, cfg: &Config, live: &Live<'_>) {
    let base = keepalived_oid().child(&[2]);
    let groups = Table::new(&base, &[1]);
    let members = Table::new(&base, &[2]);
    for (gi, g) in cfg.vrrp_sync_groups.iter().enumerate() {
        let idx = [gi as u32 + 1];
        groups.set(mib, 2, &idx, Value::string(&g.name));
        // The group's state: MASTER when every member is, FAULT when one
        // is, else BACKUP (vrrp_sync.c moves members together).
        let states: Vec<i32> = g.group.iter().filter_map(|m| live_state(live, m)).collect();
        let state = if states.is_empty() {
            0
        } else if states.contains(&3) {
            3
        } else if states.iter().all(|s| *s == 2) {
            2
        } else {
            1
        };
        groups.set(mib, 3, &idx, Value::Integer(state));
        groups.set(mib, 4, &idx, truth(g.smtp_alert));
        let notify_exec = g.notify_master.is_some()
            || g.notify_backup.is_some()
            || g.notify_fault.is_some()
            || g.notify_stop.is_some()
            || g.notify.is_some();
        groups.set(mib, 5, &idx, truth(notify_exec));
        groups.opt(mib, 6, &idx, cmd(&g.notify_master));
        groups.opt(mib, 7, &idx, cmd(&g.notify_backup));
        groups.opt(mib, 8, &idx, cmd(&g.notify_fault));
        groups.opt(mib, 9, &idx, cmd(&g.notify));
        groups.set(mib, 10, &idx, truth(g.sync_group_tracking_weight));
        groups.opt(mib, 11, &idx, cmd(&g.notify_stop));
        for (mi, m) in g.group.iter().enumerate() {
            members.set(mib, 2, &[gi as u32 + 1, mi as u32 + 1], Value::string(m));
        }
    }

    let inst = Table::new(&base, &[3]);
    let addrs = Table::new(&base, &[6]);
    // static_ipaddress entries come first, with instance index 0; they are
    // always set and never advertised.
    for (ai, a) in cfg.static_ipaddresses.iter().enumerate() {
        address_row(mib, &addrs, &[0, ai as u32 + 1], a, true, false, live);
    }
    let lvs_syncd = cfg.global_defs.lvs_sync_daemon.as_ref();
    for (ii, i) in cfg.vrrp_instances.iter().enumerate() {
        let idx = [ii as u32 + 1];
        let l = vrrp_live(live, &i.name);
        let state = l
            .and_then(|l| l.get("state"))
            .and_then(Json::as_str)
            .map(state_number);
        let master = state == Some(2);
        inst.set(mib, 2, &idx, Value::string(&i.name));
        inst.set(mib, 3, &idx, Value::Gauge32(i.virtual_router_id as u32));
        if let Some(s) = state {
            inst.set(mib, 4, &idx, Value::Integer(s));
        }
        let initial = if i.state == InitialState::Master || i.priority == 255 {
            2
        } else {
            1
        };
        inst.set(mib, 5, &idx, Value::Integer(initial));
        // wantstate: the state the instance is heading to; a running
        // instance wants the state it is in (FAULT wants BACKUP).
        if let Some(s) = state {
            inst.set(mib, 6, &idx, Value::Integer(if s == 3 { 1 } else { s }));
        }
        inst.set(mib, 7, &idx, Value::Integer(i.priority as i32));
        let eff = l
            .and_then(|l| l.get("effective_priority"))
            .and_then(Json::as_i64)
            .unwrap_or(i.priority as i64);
        inst.set(mib, 8, &idx, Value::Integer(eff as i32));
        inst.set(mib, 9, &idx, truth(master));
        inst.set(mib, 10, &idx, Value::string(&i.interface));
        inst.set(mib, 11, &idx, truth(!i.track_interfaces.is_empty()));
        let adv = match i.version {
            VrrpVersion::V2 => i.advert_int.as_secs() as u32,
            VrrpVersion::V3 => (i.advert_int.as_millis() / 10) as u32,
        };
        inst.set(mib, 12, &idx, Value::Gauge32(adv));
        inst.set(mib, 13, &idx, truth(!i.nopreempt));
        inst.set(
            mib,
            14,
            &idx,
            Value::Gauge32(i.preempt_delay.as_secs() as u32),
        );
        let auth = match (i.version, &i.authentication) {
            (VrrpVersion::V2, Some(a)) => match a.auth_type {
                AuthType::Pass => 1,
                AuthType::Ah => 2,
            },
            _ => 0,
        };
        inst.set(mib, 15, &idx, Value::Integer(auth));
        let syncd = lvs_syncd.is_some_and(|s| s.vrrp_instance.as_deref() == Some(&*i.name));
        inst.set(mib, 16, &idx, truth(syncd));
        if syncd {
            if let Some(s) = lvs_syncd {
                inst.set(mib, 17, &idx, Value::string(&s.interface));
            }
        }
        if let Some(g) = cfg.sync_group_of(&i.name) {
            inst.set(mib, 18, &idx, Value::string(&g.name));
        }
        inst.set(
            mib,
            19,
            &idx,
            Value::Gauge32(i.garp_master_delay.as_secs() as u32),
        );
        inst.set(mib, 20, &idx, truth(i.smtp_alert));
        let notify_exec = i.notify_master.is_some()
            || i.notify_backup.is_some()
            || i.notify_fault.is_some()
            || i.notify_stop.is_some()
            || i.notify.is_some()
            || i.notify_master_rx_lower_pri.is_some();
        inst.set(mib, 21, &idx, truth(notify_exec));
        inst.opt(mib, 22, &idx, cmd(&i.notify_master));
        inst.opt(mib, 23, &idx, cmd(&i.notify_backup));
        inst.opt(mib, 24, &idx, cmd(&i.notify_fault));
        inst.opt(mib, 25, &idx, cmd(&i.notify_stop));
        inst.opt(mib, 26, &idx, cmd(&i.notify));
        let accept = match i.version {
            VrrpVersion::V3 => {
                if i.accept {
                    1
                } else {
                    2
                }
            }
            VrrpVersion::V2 => 0,
        };
        inst.set(mib, 27, &idx, Value::Integer(accept));
        inst.set(mib, 28, &idx, truth(i.promote_secondaries));
        inst.set(mib, 29, &idx, truth(false));
        inst.set(mib, 30, &idx, Value::Integer(i.version.number() as i32));
        inst.opt(mib, 31, &idx, cmd(&i.notify_master_rx_lower_pri));
        inst.set(mib, 33, &idx, truth(false));
        if i.unicast_peers.is_empty() {
            let group = i.mcast_group(&cfg.global_defs);
            inst.set(mib, 34, &idx, inet_type(&group));
            inst.set(mib, 35, &idx, inet_addr(&group));
        }

        // vrrp_header_ar_table ITER_ADDRESSES: virtual_ipaddress (advertised)
        // then virtual_ipaddress_excluded. keepalived 2.2.7 sets its `adv`
        // flag back to true for the first instance only, so the VIPs of
        // every later instance read advertising=false(2); we serve the
        // documented meaning (a deliberate difference, see README).
        let all = i
            .virtual_ipaddresses
            .iter()
            .map(|a| (a, true))
            .chain(i.virtual_ipaddresses_excluded.iter().map(|a| (a, false)));
        for (ai, (a, adv)) in all.enumerate() {
            let aidx = [ii as u32 + 1, ai as u32 + 1];
            address_row(mib, &addrs, &aidx, a, master, adv, live);
        }
    }
}

/// One vrrpAddressTable row (`vrrp_snmp_address`).
fn address_row(
    mib: &mut Mib,
    addrs: &Table,
    aidx: &[u32],
    a: &rkeepalived_config::model::VirtualIpAddress,
    set: bool,
    adv: bool,
    live: &Live<'_>,
) {
    addrs.set(mib, 2, aidx, inet_type(&a.addr));
    addrs.set(mib, 3, aidx, inet_addr(&a.addr));
    if a.addr.is_ipv4() {
        let brd = match a.brd {
            Some(IpAddr::V4(b)) => b.octets().to_vec(),
            _ => vec![0; 4],
        };
        addrs.set(mib, 4, aidx, Value::OctetString(brd));
    }
    addrs.set(mib, 5, aidx, Value::Gauge32(a.prefix_len as u32));
    let scope = a.scope.map(|s| s.as_u8()).unwrap_or(0);
    addrs.set(mib, 6, aidx, Value::Integer(scope_number(scope)));
    if let Some(ix) = live.ifindex.and_then(|f| f(&a.dev)) {
        addrs.set(mib, 7, aidx, Value::Integer(ix as i32));
    }
    addrs.set(mib, 8, aidx, Value::string(&a.dev));
    if let Some(label) = &a.label {
        addrs.set(mib, 9, aidx, Value::string(label));
    }
    addrs.set(mib, 10, aidx, truth(set));
    addrs.set(mib, 11, aidx, truth(adv));
    if let Some(peer) = &a.peer {
        addrs.set(mib, 12, aidx, inet_addr(peer));
    }
}

/// check_snmp_virtualserver scheduler numbering.
fn sched_number(name: &str) -> i32 {
    match name {
        "rr" => 1,
        "wrr" => 2,
        "lc" => 3,
        "wlc" => 4,
        "lblc" => 5,
        "lblcr" => 6,
        "dh" => 7,
        "sh" => 8,
        "sed" => 9,
        "nq" => 10,
        "fo" => 11,
        "ovf" => 12,
        "mh" => 13,
        "twos" => 14,
        _ => 99,
    }
}

fn method_number(m: &ForwardingMethod) -> i32 {
    match m {
        ForwardingMethod::Nat => 1,
        ForwardingMethod::Dr => 2,
        ForwardingMethod::Tun { .. } => 3,
    }
}

/// keepalived/check/check_snmp.c: virtual servers (check 3) and real
/// servers (check 4), the sorry server first (STATE_RS_SORRY).
fn check(mib: &mut Mib, cfg: &Config, live: &Live<'_>) {
    let base = keepalived_oid().child(&[3]);
    let vst = Table::new(&base, &[3]);
    let rst = Table::new(&base, &[4]);
    let live_vss: Vec<&Json> = engine(live, "checker")
        .and_then(|e| e.get("virtual_servers"))
        .and_then(Json::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    for (vi, vs) in cfg.virtual_servers.iter().enumerate() {
        let idx = [vi as u32 + 1];
        let lv = live_vss.get(vi).copied();
        let live_rss: Vec<&Json> = lv
            .and_then(|v| v.get("real_servers"))
            .and_then(Json::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let rs_alive = |ri: usize| -> Option<bool> {
            live_rss
                .get(ri)
                .and_then(|r| r.get("alive"))
                .and_then(Json::as_bool)
        };
        let family_ip = |vs_ip: Option<&IpAddr>| -> IpAddr {
            match vs_ip {
                Some(ip) => *ip,
                None => match vs.ip_family {
                    Some(AddressFamily::Inet6) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
                    _ => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                },
            }
        };
        match &vs.service {
            VirtualService::Group(name) => {
                vst.set(mib, 2, &idx, Value::Integer(3));
                vst.set(mib, 3, &idx, Value::string(name));
                vst.set(mib, 5, &idx, inet_type(&family_ip(None)));
            }
            VirtualService::Fwmark(m) => {
                vst.set(mib, 2, &idx, Value::Integer(1));
                vst.set(mib, 4, &idx, Value::Gauge32(*m));
                vst.set(mib, 5, &idx, inet_type(&family_ip(None)));
            }
            VirtualService::Addr { addr, port } => {
                vst.set(mib, 2, &idx, Value::Integer(2));
                vst.set(mib, 5, &idx, inet_type(addr));
                vst.set(mib, 6, &idx, inet_addr(addr));
                vst.set(mib, 7, &idx, Value::Gauge32(port.unwrap_or(0) as u32));
            }
        }
        if !matches!(vs.service, VirtualService::Fwmark(_)) {
            let p = match vs.protocol {
                Protocol::Tcp => 1,
                Protocol::Udp => 2,
                Protocol::Sctp => 3,
            };
            vst.set(mib, 8, &idx, Value::Integer(p));
        }
        vst.set(
            mib,
            9,
            &idx,
            Value::Integer(sched_number(vs.lvs_sched.name())),
        );
        vst.set(mib, 10, &idx, Value::Integer(method_number(&vs.lvs_method)));
        let up = lv.and_then(|v| v.get("quorum_up")).and_then(Json::as_bool);
        // v->alive: the service is in IPVS (its quorum is met).
        vst.set(mib, 11, &idx, truth(up.unwrap_or(false)));
        if let Some(h) = &vs.virtualhost {
            vst.set(mib, 12, &idx, Value::string(h));
        }
        let persist = vs
            .persistence_timeout
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        vst.set(mib, 13, &idx, truth(persist != 0));
        if persist != 0 {
            vst.set(mib, 14, &idx, Value::Gauge32(persist));
        }
        vst.set(
            mib,
            16,
            &idx,
            Value::Gauge32(vs.delay_loop().as_secs() as u32),
        );
        vst.set(mib, 17, &idx, truth(vs.ha_suspend));
        vst.set(mib, 18, &idx, truth(vs.alpha));
        vst.set(mib, 19, &idx, truth(vs.omega));
        vst.set(mib, 20, &idx, Value::Gauge32(vs.real_servers.len() as u32));
        let n_up = (0..vs.real_servers.len())
            .filter(|ri| rs_alive(*ri) == Some(true))
            .count();
        vst.set(mib, 21, &idx, Value::Gauge32(n_up as u32));
        vst.set(mib, 22, &idx, Value::Gauge32(vs.quorum));
        vst.set(mib, 23, &idx, truth(up.unwrap_or(false)));
        vst.opt(mib, 24, &idx, cmd(&vs.quorum_up));
        vst.opt(mib, 25, &idx, cmd(&vs.quorum_down));
        vst.set(mib, 26, &idx, Value::Gauge32(vs.hysteresis));
        vst.set(mib, 37, &idx, truth(vs.ops));
        vst.set(
            mib,
            56,
            &idx,
            Value::Integer(if vs.inhibit_on_failure { 2 } else { 1 }),
        );
        vst.set(mib, 61, &idx, truth(vs.smtp_alert));

        let mut ri_snmp = 0u32;
        if let Some(sorry) = &vs.sorry_server {
            ri_snmp += 1;
            let ridx = [vi as u32 + 1, ri_snmp];
            rst.set(mib, 2, &ridx, Value::Integer(2));
            rst.set(mib, 3, &ridx, inet_type(&sorry.addr));
            rst.set(mib, 4, &ridx, inet_addr(&sorry.addr));
            rst.set(
                mib,
                5,
                &ridx,
                Value::Gauge32(sorry.port.unwrap_or(0) as u32),
            );
        }
        for (ri, rs) in vs.real_servers.iter().enumerate() {
            ri_snmp += 1;
            let ridx = [vi as u32 + 1, ri_snmp];
            rst.set(mib, 2, &ridx, Value::Integer(1));
            rst.set(mib, 3, &ridx, inet_type(&rs.addr));
            rst.set(mib, 4, &ridx, inet_addr(&rs.addr));
            rst.set(mib, 5, &ridx, Value::Gauge32(rs.port.unwrap_or(0) as u32));
            rst.set(mib, 6, &ridx, truth(rs_alive(ri).unwrap_or(false)));
            let weight = live_rss
                .get(ri)
                .and_then(|r| r.get("effective_weight"))
                .and_then(Json::as_i64)
                .unwrap_or(rs.weight as i64);
            rst.set(mib, 7, &ridx, Value::Integer(weight as i32));
            rst.set(mib, 8, &ridx, Value::Gauge32(rs.uthreshold.unwrap_or(0)));
            rst.set(mib, 9, &ridx, Value::Gauge32(rs.lthreshold.unwrap_or(0)));
            rst.set(
                mib,
                10,
                &ridx,
                Value::Integer(if rs.inhibit_on_failure { 2 } else { 1 }),
            );
            rst.opt(mib, 11, &ridx, cmd(&rs.notify_up));
            rst.opt(mib, 12, &ridx, cmd(&rs.notify_down));
            rst.set(
                mib,
                40,
                &ridx,
                Value::Integer(method_number(&rs.lvs_method)),
            );
            if let Some(h) = &rs.virtualhost {
                rst.set(mib, 41, &ridx, Value::string(h));
            }
            rst.set(mib, 47, &ridx, truth(rs.smtp_alert));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, text: &str) -> Config {
        let dir = std::env::temp_dir().join(format!("rk-snmp-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("k.conf");
        std::fs::write(&path, text).expect("write");
        let loaded = rkeepalived_config::load(&path, &rkeepalived_config::LoadOptions::default())
            .expect("config");
        let _ = std::fs::remove_dir_all(&dir);
        loaded.config
    }

    fn get(m: &Mib, s: &str) -> Option<Value> {
        m.value(&s.parse().expect("oid")).cloned()
    }

    #[test]
    fn instance_rows_follow_keepalived() {
        let cfg = load(
            "instances",
            "global_defs {\nrouter_id r1\n}\n\
             vrrp_sync_group G1 {\ngroup {\nVI_1\n}\n}\n\
             vrrp_instance VI_1 {\nstate MASTER\ninterface eth0\nvirtual_router_id 51\npriority 150\nadvert_int 1\nvirtual_ipaddress {\n192.0.2.100/24\n}\n}\n\
             vrrp_instance VI_2 {\ninterface eth0\nvirtual_router_id 52\npriority 90\nadvert_int 2\nnopreempt\nvirtual_ipaddress {\n192.0.2.101/24\n}\n}\n",
        );
        let status = serde_json::json!({"children": {"vrrp": {"engine": {"vrrp": [
            {"iname": "VI_1", "state": "MASTER", "effective_priority": 150},
            {"iname": "VI_2", "state": "BACKUP", "effective_priority": 90}
        ]}}}});
        let live = Live {
            status: Some(&status),
            version: "rkeepalived v0",
            hostname: "h",
            ifindex: None,
        };
        let m = build(&cfg, &live);
        let k = ".1.3.6.1.4.1.9586.100.5";
        assert_eq!(get(&m, &format!("{k}.1.2.0")), Some(Value::string("r1")));
        assert_eq!(
            get(&m, &format!("{k}.2.3.1.2.2")),
            Some(Value::string("VI_2"))
        );
        assert_eq!(get(&m, &format!("{k}.2.3.1.4.1")), Some(Value::Integer(2)));
        assert_eq!(get(&m, &format!("{k}.2.3.1.4.2")), Some(Value::Integer(1)));
        assert_eq!(get(&m, &format!("{k}.2.3.1.12.2")), Some(Value::Gauge32(2)));
        assert_eq!(get(&m, &format!("{k}.2.3.1.13.2")), Some(Value::Integer(2)));
        assert_eq!(
            get(&m, &format!("{k}.2.3.1.18.1")),
            Some(Value::string("G1"))
        );
        assert_eq!(get(&m, &format!("{k}.2.3.1.18.2")), None);
        assert_eq!(
            get(&m, &format!("{k}.2.3.1.35.1")),
            Some(Value::OctetString(vec![224, 0, 0, 18]))
        );
        assert_eq!(get(&m, &format!("{k}.2.1.1.3.1")), Some(Value::Integer(2)));
        assert_eq!(
            get(&m, &format!("{k}.2.2.1.2.1.1")),
            Some(Value::string("VI_1"))
        );
        assert_eq!(
            get(&m, &format!("{k}.2.6.1.3.1.1")),
            Some(Value::OctetString(vec![192, 0, 2, 100]))
        );
        assert_eq!(
            get(&m, &format!("{k}.2.6.1.10.1.1")),
            Some(Value::Integer(1))
        );
        assert_eq!(
            get(&m, &format!("{k}.2.6.1.10.2.1")),
            Some(Value::Integer(2))
        );
    }

    #[test]
    fn virtual_and_real_servers() {
        let cfg = load(
            "servers",
            "virtual_server 192.0.2.100 80 {\ndelay_loop 3\nlb_algo wrr\nlb_kind DR\nprotocol TCP\n\
               sorry_server 192.0.2.9 80\n\
               real_server 192.0.2.11 80 {\nweight 2\nTCP_CHECK {\nconnect_timeout 1\n}\n}\n\
               real_server 192.0.2.12 80 {\nweight 1\n}\n}\n",
        );
        let status = serde_json::json!({"children": {"checker": {"engine": {"virtual_servers": [
            {"quorum_up": true, "real_servers": [
                {"alive": true, "effective_weight": 2}, {"alive": false, "effective_weight": 0}]}
        ]}}}});
        let live = Live {
            status: Some(&status),
            version: "v",
            hostname: "h",
            ifindex: None,
        };
        let m = build(&cfg, &live);
        let k = ".1.3.6.1.4.1.9586.100.5.3";
        assert_eq!(get(&m, &format!("{k}.3.1.9.1")), Some(Value::Integer(2)));
        assert_eq!(get(&m, &format!("{k}.3.1.10.1")), Some(Value::Integer(2)));
        assert_eq!(get(&m, &format!("{k}.3.1.7.1")), Some(Value::Gauge32(80)));
        assert_eq!(get(&m, &format!("{k}.3.1.21.1")), Some(Value::Gauge32(1)));
        // The sorry server is row 1, the real servers follow.
        assert_eq!(get(&m, &format!("{k}.4.1.2.1.1")), Some(Value::Integer(2)));
        assert_eq!(get(&m, &format!("{k}.4.1.6.1.2")), Some(Value::Integer(1)));
        assert_eq!(get(&m, &format!("{k}.4.1.6.1.3")), Some(Value::Integer(2)));
        assert_eq!(get(&m, &format!("{k}.4.1.7.1.2")), Some(Value::Integer(2)));
    }
}
