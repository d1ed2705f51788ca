//! VRRP-MIB (RFC 2787, mib-2.68) for VRRPv2 IPv4 instances, as keepalived
//! 2.2.7 serves it (vrrp/vrrp_snmp.c `vrrp_rfcv2_snmp_node_info`,
//! `vrrp_rfcv2_snmp_opertable`, `vrrp_rfcv2_snmp_assoiptable`). Served: the
//! node scalars, vrrpOperTable and vrrpAssoIpAddrTable. VRRPv3-MIB
//! (RFC 6527, mib-2.207, `vrrp_rfcv3_snmp_opertable` /
//! `vrrp_rfcv3_snmp_assoiptable`): vrrpv3OperationsTable and
//! vrrpv3AssociatedIpAddrTable for every instance with a VIP (Debian's
//! build answers for VRRPv2 instances too). The statistics of both MIBs
//! (mib-2.68.2, mib-2.207.1.2) come from the VRRP engine's per-instance
//! counters and drop reasons; the router-wide checksum / version / VRID
//! error counters sum the instances' drops (packets no instance matched are
//! not in the engine's status yet).

use std::net::{IpAddr, Ipv4Addr};

use rkeepalived_config::model::{AddressFamily, Config, VrrpVersion};
use serde_json::Value as Json;

use crate::agentx::Value;
use crate::keepalived_mib::Live;
use crate::mib::Mib;
use crate::oid::Oid;

/// mib-2.vrrpMIB(68)
pub const VRRP_MIB_OID: [u32; 7] = [1, 3, 6, 1, 2, 1, 68];

pub fn vrrp_mib_oid() -> Oid {
    Oid::new(&VRRP_MIB_OID)
}

/// mib-2.vrrpv3MIB(207)
pub const VRRPV3_MIB_OID: [u32; 7] = [1, 3, 6, 1, 2, 1, 207];

pub fn vrrpv3_mib_oid() -> Oid {
    Oid::new(&VRRPV3_MIB_OID)
}

fn ip_octets(v: Option<&Json>, v6: bool) -> Vec<u8> {
    let ip = v
        .and_then(Json::as_str)
        .and_then(|s| s.parse::<IpAddr>().ok());
    match (ip, v6) {
        (Some(IpAddr::V4(a)), false) => a.octets().to_vec(),
        (Some(IpAddr::V6(a)), true) => a.octets().to_vec(),
        (_, false) => vec![0; 4],
        (_, true) => vec![0; 16],
    }
}

/// VRRPv3-MIB vrrpv3OperationsTable and vrrpv3AssociatedIpAddrTable.
pub fn build_v3(mib: &mut Mib, cfg: &Config, live: &Live<'_>) {
    let base = vrrpv3_mib_oid();
    let vrrp_status = engine_instances(live);
    for i in cfg
        .vrrp_instances
        .iter()
        .filter(|i| !i.virtual_ipaddresses.is_empty())
    {
        let v6 = i.family == AddressFamily::Inet6;
        let ifindex = live.ifindex.and_then(|f| f(&i.interface)).unwrap_or(0);
        let idx = [ifindex, i.virtual_router_id as u32, if v6 { 2 } else { 1 }];
        let l = vrrp_status
            .iter()
            .find(|s| s.get("iname").and_then(Json::as_str) == Some(&*i.name));
        let state = l.and_then(|l| l.get("state")).and_then(Json::as_str);
        let oper = |mib: &mut Mib, col: u32, v: Value| {
            let mut o = base.child(&[1, 1, 1, 1, col]);
            o.0.extend_from_slice(&idx);
            mib.insert(o, v);
        };
        let primary = ip_octets(l.and_then(|l| l.get("src")), v6);
        // The master's address; when we are master, our primary address.
        let master = if state == Some("MASTER") {
            primary.clone()
        } else {
            ip_octets(l.and_then(|l| l.get("master_addr")), v6)
        };
        oper(mib, 3, Value::OctetString(master));
        oper(mib, 4, Value::OctetString(primary));
        oper(mib, 6, Value::Integer(rfc_state(state)));
        oper(mib, 7, Value::Gauge32(i.priority as u32));
        oper(mib, 8, Value::Integer(i.virtual_ipaddresses.len() as i32));
        oper(
            mib,
            9,
            Value::Integer((i.advert_int.as_millis() / 10) as i32),
        );
        oper(mib, 10, Value::Integer(if i.nopreempt { 2 } else { 1 }));
        oper(mib, 11, Value::Integer(if i.accept { 1 } else { 2 }));
        oper(mib, 13, Value::Integer(1));
        for a in &i.virtual_ipaddresses {
            let mut o = base.child(&[1, 1, 2, 1, 2]);
            o.0.extend_from_slice(&idx);
            match a.addr {
                IpAddr::V4(v) => o.0.extend(v.octets().iter().map(|b| *b as u32)),
                IpAddr::V6(v) => {
                    o.0.push(16);
                    o.0.extend(v.octets().iter().map(|b| *b as u32));
                }
            }
            mib.insert(o, Value::Integer(1));
        }
    }
}

/// One counter from an instance's status: a `stats` field or a sum of
/// `stats.drops` reasons.
fn stat(l: Option<&&Json>, field: &str) -> u64 {
    l.and_then(|l| l.get("stats"))
        .and_then(|s| s.get(field))
        .and_then(Json::as_u64)
        .unwrap_or(0)
}

fn drops(l: Option<&&Json>, reasons: &[&str]) -> u64 {
    let d = l.and_then(|l| l.get("stats")).and_then(|s| s.get("drops"));
    reasons
        .iter()
        .filter_map(|r| d.and_then(|d| d.get(*r)).and_then(Json::as_u64))
        .fold(0u64, u64::saturating_add)
}

/// The router-wide error counters: (checksum, version, vrid).
fn router_errors(vrrp_status: &[&Json]) -> (u64, u64, u64) {
    let sum = |r: &str| {
        vrrp_status
            .iter()
            .map(|l| drops(Some(l), &[r]))
            .fold(0u64, u64::saturating_add)
    };
    (
        sum("bad_checksum"),
        sum("bad_version"),
        sum("vrid_mismatch"),
    )
}

/// VRRP-MIB vrrpStatistics (mib-2.68.2): `vrrp_rfcv2_snmp_stats`,
/// `vrrp_rfcv2_snmp_statstable`.
pub fn build_stats(mib: &mut Mib, cfg: &Config, live: &Live<'_>) {
    let base = vrrp_mib_oid();
    let vrrp_status = engine_instances(live);
    let (cks, ver, vrid) = router_errors(&vrrp_status);
    mib.insert(base.child(&[2, 1, 0]), Value::Counter32(cks as u32));
    mib.insert(base.child(&[2, 2, 0]), Value::Counter32(ver as u32));
    mib.insert(base.child(&[2, 3, 0]), Value::Counter32(vrid as u32));
    for i in cfg.vrrp_instances.iter().filter(|i| suitable(i)) {
        let ifindex = live.ifindex.and_then(|f| f(&i.interface)).unwrap_or(0);
        let idx = [ifindex, i.virtual_router_id as u32];
        let l = vrrp_status
            .iter()
            .find(|s| s.get("iname").and_then(Json::as_str) == Some(&*i.name));
        let cols: [(u32, u64); 12] = [
            (1, stat(l, "became_master")),
            (2, stat(l, "adverts_rx")),
            (3, drops(l, &["adver_int_mismatch"])),
            (4, drops(l, &["auth_failure", "ah_icv_mismatch"])),
            (5, drops(l, &["bad_ttl"])),
            (6, stat(l, "priority_zero_rx")),
            (7, stat(l, "priority_zero_tx")),
            (8, drops(l, &["bad_type"])),
            (9, drops(l, &["addr_list_mismatch", "addr_count_mismatch"])),
            (10, drops(l, &["invalid_auth_type"])),
            (11, drops(l, &["auth_type_mismatch"])),
            (12, drops(l, &["length_mismatch", "truncated"])),
        ];
        for (col, v) in cols {
            let mut o = base.child(&[2, 4, 1, col]);
            o.0.extend_from_slice(&idx);
            mib.insert(o, Value::Counter32(v as u32));
        }
    }
}

/// VRRPv3-MIB vrrpv3Statistics (mib-2.207.1.2): `vrrp_rfcv3_snmp_stats`,
/// `vrrp_rfcv3_snmp_statstable`.
pub fn build_v3_stats(mib: &mut Mib, cfg: &Config, live: &Live<'_>) {
    let base = vrrpv3_mib_oid();
    let vrrp_status = engine_instances(live);
    let (cks, ver, vrid) = router_errors(&vrrp_status);
    mib.insert(base.child(&[1, 2, 1, 0]), Value::Counter64(cks));
    mib.insert(base.child(&[1, 2, 2, 0]), Value::Counter64(ver));
    mib.insert(base.child(&[1, 2, 3, 0]), Value::Counter64(vrid));
    mib.insert(base.child(&[1, 2, 4, 0]), Value::TimeTicks(0));
    for i in cfg
        .vrrp_instances
        .iter()
        .filter(|i| !i.virtual_ipaddresses.is_empty())
    {
        let v6 = i.family == AddressFamily::Inet6;
        let ifindex = live.ifindex.and_then(|f| f(&i.interface)).unwrap_or(0);
        let idx = [ifindex, i.virtual_router_id as u32, if v6 { 2 } else { 1 }];
        let l = vrrp_status
            .iter()
            .find(|s| s.get("iname").and_then(Json::as_str) == Some(&*i.name));
        let set = |mib: &mut Mib, col: u32, v: Value| {
            let mut o = base.child(&[1, 2, 5, 1, col]);
            o.0.extend_from_slice(&idx);
            mib.insert(o, v);
        };
        let became = stat(l, "became_master");
        set(mib, 1, Value::Counter32(became as u32));
        // vrrpv3StatisticsNewMasterReason: how this router last became
        // master is not in the status; masterNoResponse(3) once it has been
        // master, notMaster(0) before.
        set(mib, 2, Value::Integer(if became > 0 { 3 } else { 0 }));
        set(mib, 3, Value::Counter64(stat(l, "adverts_rx")));
        set(mib, 4, Value::Counter64(drops(l, &["adver_int_mismatch"])));
        set(mib, 5, Value::Counter64(drops(l, &["bad_ttl"])));
        set(mib, 6, Value::Integer(0));
        set(mib, 7, Value::Counter64(stat(l, "priority_zero_rx")));
        set(mib, 8, Value::Counter64(stat(l, "priority_zero_tx")));
        set(mib, 9, Value::Counter64(drops(l, &["bad_type"])));
        set(
            mib,
            10,
            Value::Counter64(drops(l, &["addr_list_mismatch", "addr_count_mismatch"])),
        );
        set(
            mib,
            11,
            Value::Counter64(drops(l, &["length_mismatch", "truncated"])),
        );
        set(mib, 12, Value::TimeTicks(0));
        set(mib, 13, Value::Gauge32(i.advert_int.as_millis() as u32));
    }
}

fn engine_instances<'a>(live: &Live<'a>) -> Vec<&'a Json> {
    live.status
        .and_then(|s| s.get("children"))
        .and_then(|c| c.get("vrrp"))
        .and_then(|v| v.get("engine"))
        .and_then(|e| e.get("vrrp"))
        .and_then(Json::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// suitable_for_rfc2787: VRRPv2, IPv4, at least one VIP.
fn suitable(i: &rkeepalived_config::model::VrrpInstance) -> bool {
    i.version == VrrpVersion::V2
        && i.family == AddressFamily::Inet
        && !i.virtual_ipaddresses.is_empty()
}

/// vrrp_snmp_rfc_state: initialize(1) backup(2) master(3).
fn rfc_state(name: Option<&str>) -> i32 {
    match name {
        Some("BACKUP") => 2,
        Some("MASTER") => 3,
        _ => 1,
    }
}

fn ipv4(v: Option<&Json>) -> [u8; 4] {
    v.and_then(Json::as_str)
        .and_then(|s| s.parse::<IpAddr>().ok())
        .and_then(|ip| match ip {
            IpAddr::V4(a) => Some(a.octets()),
            IpAddr::V6(_) => None,
        })
        .unwrap_or(Ipv4Addr::UNSPECIFIED.octets())
}

/// Adds the VRRP-MIB objects to `mib`.
pub fn build(mib: &mut Mib, cfg: &Config, live: &Live<'_>) {
    let base = vrrp_mib_oid();
    // vrrpNodeVersion: 2; vrrpNotificationCntl: enabled(1) only with
    // enable_traps (keepalived vrrp_snmp.c), else disabled(2).
    mib.insert(base.child(&[1, 1, 0]), Value::Integer(2));
    let cntl = if cfg.global_defs.snmp.traps { 1 } else { 2 };
    mib.insert(base.child(&[1, 2, 0]), Value::Integer(cntl));
    let vrrp_status = engine_instances(live);
    for i in cfg.vrrp_instances.iter().filter(|i| suitable(i)) {
        // Indexed by ifIndex and VRID; an interface that does not exist
        // (yet) has index 0, as keepalived's `vrrp->ifp ? ... : 0`.
        let ifindex = live.ifindex.and_then(|f| f(&i.interface)).unwrap_or(0);
        let idx = [ifindex, i.virtual_router_id as u32];
        let l = vrrp_status
            .iter()
            .find(|s| s.get("iname").and_then(Json::as_str) == Some(&*i.name));
        let state = l.and_then(|l| l.get("state")).and_then(Json::as_str);
        let oper = |mib: &mut Mib, col: u32, v: Value| {
            let mut o = base.child(&[1, 3, 1, col]);
            o.0.extend_from_slice(&idx);
            mib.insert(o, v);
        };
        oper(mib, 3, Value::Integer(rfc_state(state)));
        oper(mib, 4, Value::Integer(1));
        oper(mib, 5, Value::Integer(i.priority as i32));
        oper(mib, 6, Value::Integer(i.virtual_ipaddresses.len() as i32));
        oper(
            mib,
            7,
            Value::IpAddress(ipv4(l.and_then(|l| l.get("master_addr")))),
        );
        oper(mib, 8, Value::IpAddress(ipv4(l.and_then(|l| l.get("src")))));
        let auth = match &i.authentication {
            None => 1,
            Some(a) => match a.auth_type {
                rkeepalived_config::model::AuthType::Pass => 2,
                rkeepalived_config::model::AuthType::Ah => 3,
            },
        };
        oper(mib, 9, Value::Integer(auth));
        oper(mib, 11, Value::Integer(i.advert_int.as_secs() as i32));
        oper(mib, 12, Value::Integer(if i.nopreempt { 2 } else { 1 }));
        oper(mib, 14, Value::Integer(1));
        oper(mib, 15, Value::Integer(1));
        for a in &i.virtual_ipaddresses {
            if let IpAddr::V4(v4) = a.addr {
                let mut o = base.child(&[1, 4, 1, 2]);
                o.0.extend_from_slice(&idx);
                o.0.extend(v4.octets().iter().map(|b| *b as u32));
                mib.insert(o, Value::Integer(1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oper_and_assoc_rows() {
        let dir = std::env::temp_dir().join(format!("rk-snmp-rfc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("k.conf");
        std::fs::write(
            &path,
            "vrrp_instance VI_1 {\ninterface eth0\nvirtual_router_id 51\npriority 150\nvirtual_ipaddress {\n192.0.2.100/24\n}\n}\n\
             vrrp_instance VI_6 {\ninterface eth0\nvirtual_router_id 9\nvirtual_ipaddress {\n2001:db8::1/64\n}\n}\n",
        )
        .expect("write");
        let cfg = rkeepalived_config::load(&path, &rkeepalived_config::LoadOptions::default())
            .expect("config")
            .config;
        let _ = std::fs::remove_dir_all(&dir);
        let status = serde_json::json!({"children": {"vrrp": {"engine": {"vrrp": [
            {"iname": "VI_1", "state": "MASTER", "src": "192.0.2.1", "master_addr": null}
        ]}}}});
        let idx = |_: &str| Some(3u32);
        let live = Live {
            status: Some(&status),
            version: "v",
            hostname: "h",
            ifindex: Some(&idx),
        };
        let mut m = Mib::new();
        build(&mut m, &cfg, &live);
        let g = |s: &str| m.value(&s.parse().expect("oid")).cloned();
        assert_eq!(g("1.3.6.1.2.1.68.1.3.1.3.3.51"), Some(Value::Integer(3)));
        assert_eq!(g("1.3.6.1.2.1.68.1.3.1.5.3.51"), Some(Value::Integer(150)));
        assert_eq!(
            g("1.3.6.1.2.1.68.1.3.1.8.3.51"),
            Some(Value::IpAddress([192, 0, 2, 1]))
        );
        assert_eq!(
            g("1.3.6.1.2.1.68.1.4.1.2.3.51.192.0.2.100"),
            Some(Value::Integer(1))
        );
        // The IPv6 (VRRPv3) instance is not in VRRP-MIB.
        assert!(!m.iter().any(|(o, _)| o.0.ends_with(&[3, 9])));
        // VRRPv3-MIB has both, indexed by ifIndex, VRID and address type.
        build_v3(&mut m, &cfg, &live);
        let g = |s: &str| m.value(&s.parse().expect("oid")).cloned();
        assert_eq!(
            g("1.3.6.1.2.1.207.1.1.1.1.3.3.51.1"),
            Some(Value::OctetString(vec![192, 0, 2, 1]))
        );
        assert_eq!(
            g("1.3.6.1.2.1.207.1.1.1.1.9.3.51.1"),
            Some(Value::Integer(100))
        );
        assert_eq!(
            g("1.3.6.1.2.1.207.1.1.1.1.6.3.9.2"),
            Some(Value::Integer(1))
        );
        assert_eq!(
            g("1.3.6.1.2.1.207.1.1.2.1.2.3.51.1.192.0.2.100"),
            Some(Value::Integer(1))
        );
    }
}
