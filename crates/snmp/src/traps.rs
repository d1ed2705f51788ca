//! keepalived's notifications, found by comparing two snapshots:
//! vrrpSyncGroupStateChange and vrrpInstanceStateChange
//! (vrrp/vrrp_snmp.c `vrrp_snmp_group_trap`, `vrrp_snmp_instance_trap`) and
//! realServerStateChange and virtualServerQuorumStateChange
//! (check/check_snmp.c `check_snmp_rs_trap`, `check_snmp_quorum_trap`). As in
//! keepalived, the objects are named by their column OIDs without an index.
//! The RFC notifications vrrpTrapNewMaster (RFC 2787,
//! `vrrp_rfcv2_snmp_new_master_trap`) and vrrpv3NotifyNewMaster (RFC 6527,
//! `vrrp_rfcv3_snmp_new_master_notify`) name their objects with the row's
//! index.

use crate::agentx::{Value, VarBind};
use crate::keepalived_mib::KEEPALIVED_OID;
use crate::mib::Mib;
use crate::oid::Oid;

fn k(path: &[u32]) -> Oid {
    Oid::new(&KEEPALIVED_OID).child(path)
}

/// snmpTrapOID.0 (SNMPv2-MIB).
pub fn snmp_trap_oid() -> Oid {
    Oid::new(&[1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0])
}

/// The rows (index suffixes) of a column, with their values.
fn column<'a>(mib: &'a Mib, col: &Oid) -> Vec<(Vec<u32>, &'a Value)> {
    mib.iter()
        .filter(|(o, _)| o.starts_with(col))
        .map(|(o, v)| (o.0[col.0.len()..].to_vec(), v))
        .collect()
}

fn cell(mib: &Mib, col: &[u32], idx: &[u32]) -> Option<Value> {
    let mut o = k(col);
    o.0.extend_from_slice(idx);
    mib.value(&o).cloned()
}

/// (trap number, state column, name column, extra columns).
type VrrpTrap = (
    u32,
    &'static [u32],
    &'static [u32],
    &'static [&'static [u32]],
);

/// The notifications (each a varbind list starting with snmpTrapOID.0)
/// for what changed from `old` to `new`. Rows are matched by index and
/// name, so a reload that reorders instances does not raise traps.
pub fn diff(old: &Mib, new: &Mib) -> Vec<Vec<VarBind>> {
    let mut out = Vec::new();
    let router_id = new
        .value(&k(&[1, 2, 0]))
        .cloned()
        .unwrap_or(Value::OctetString(Vec::new()));
    let vb = |name: Oid, value: Value| VarBind { name, value };
    let vrrp_kinds: [VrrpTrap; 2] = [
        (1, &[2, 1, 1, 3], &[2, 1, 1, 2], &[]),
        (2, &[2, 3, 1, 4], &[2, 3, 1, 2], &[&[2, 3, 1, 5]]),
    ];
    for (trap, state_col, name_col, extra) in vrrp_kinds {
        for (idx, state) in column(new, &k(state_col)) {
            let name = cell(new, name_col, &idx);
            if cell(old, name_col, &idx) != name {
                continue;
            }
            match cell(old, state_col, &idx) {
                Some(prev) if &prev != state => {}
                _ => continue,
            }
            let mut v = vec![
                vb(
                    snmp_trap_oid(),
                    Value::ObjectIdentifier(k(&[2, 10, 0, trap])),
                ),
                vb(k(name_col), name.unwrap_or(Value::Null)),
                vb(k(state_col), state.clone()),
            ];
            for c in extra {
                v.push(vb(k(c), cell(new, c, &idx).unwrap_or(Value::Null)));
            }
            v.push(vb(k(&[1, 2, 0]), router_id.clone()));
            out.push(v);
        }
    }
    // realServerStateChange: realServerStatus (check 4, column 6), index
    // (virtual server, real server).
    for (idx, status) in column(new, &k(&[3, 4, 1, 6])) {
        let same_row = [3u32, 4, 5]
            .iter()
            .all(|c| cell(old, &[3, 4, 1, *c], &idx) == cell(new, &[3, 4, 1, *c], &idx));
        if !same_row {
            continue;
        }
        match cell(old, &[3, 4, 1, 6], &idx) {
            Some(prev) if &prev != status => {}
            _ => continue,
        }
        let vs = &idx[..1];
        let mut v = vec![vb(
            snmp_trap_oid(),
            Value::ObjectIdentifier(k(&[3, 5, 0, 1])),
        )];
        for c in [3u32, 4, 5, 6] {
            v.push(vb(
                k(&[3, 4, 1, c]),
                cell(new, &[3, 4, 1, c], &idx).unwrap_or(Value::Null),
            ));
        }
        // virtualServerType, Protocol, RealServersUp, RealServersTotal,
        // then the service's identity by type.
        for c in [2u32, 8, 21, 20, 3, 4, 5, 6, 7] {
            if let Some(val) = cell(new, &[3, 3, 1, c], vs) {
                v.push(vb(k(&[3, 3, 1, c]), val));
            }
        }
        v.push(vb(k(&[1, 2, 0]), router_id.clone()));
        out.push(v);
    }
    // vrrpTrapNewMaster: vrrpOperState (mib-2.68.1.3.1.3) became master(3);
    // the varbind is vrrpOperMasterIpAddr carrying our primary address.
    let rfc2 = Oid::new(&crate::vrrp_mib::VRRP_MIB_OID);
    for (idx, state) in column(new, &rfc2.child(&[1, 3, 1, 3])) {
        let at = |col: u32, m: &Mib| {
            let mut o = rfc2.child(&[1, 3, 1, col]);
            o.0.extend_from_slice(&idx);
            m.value(&o).cloned()
        };
        if *state != Value::Integer(3) || at(3, old).is_none_or(|p| p == Value::Integer(3)) {
            continue;
        }
        let mut name = rfc2.child(&[1, 3, 1, 7]);
        name.0.extend_from_slice(&idx);
        out.push(vec![
            vb(
                snmp_trap_oid(),
                Value::ObjectIdentifier(rfc2.child(&[0, 1])),
            ),
            vb(name, at(8, new).unwrap_or(Value::IpAddress([0; 4]))),
        ]);
    }
    // vrrpv3NotifyNewMaster: vrrpv3OperationsStatus (mib-2.207.1.1.1.1.6)
    // became master(3): vrrpv3OperationsMasterIpAddr and
    // vrrpv3StatisticsNewMasterReason.
    let rfc3 = Oid::new(&crate::vrrp_mib::VRRPV3_MIB_OID);
    for (idx, state) in column(new, &rfc3.child(&[1, 1, 1, 1, 6])) {
        let row = |path: &[u32], m: &Mib| {
            let mut o = rfc3.child(path);
            o.0.extend_from_slice(&idx);
            (o.clone(), m.value(&o).cloned())
        };
        if *state != Value::Integer(3)
            || row(&[1, 1, 1, 1, 6], old)
                .1
                .is_none_or(|p| p == Value::Integer(3))
        {
            continue;
        }
        let (mip, mip_v) = row(&[1, 1, 1, 1, 3], new);
        let (reason, reason_v) = row(&[1, 2, 5, 1, 2], new);
        out.push(vec![
            vb(
                snmp_trap_oid(),
                Value::ObjectIdentifier(rfc3.child(&[0, 1])),
            ),
            vb(mip, mip_v.unwrap_or(Value::OctetString(vec![0; 4]))),
            vb(reason, reason_v.unwrap_or(Value::Integer(0))),
        ]);
    }
    // virtualServerQuorumStateChange: virtualServerQuorumStatus (check 3,
    // column 23), for a virtual server with the same identity.
    for (idx, status) in column(new, &k(&[3, 3, 1, 23])) {
        let same_row = [2u32, 3, 4, 6, 7]
            .iter()
            .all(|c| cell(old, &[3, 3, 1, *c], &idx) == cell(new, &[3, 3, 1, *c], &idx));
        if !same_row {
            continue;
        }
        match cell(old, &[3, 3, 1, 23], &idx) {
            Some(prev) if &prev != status => {}
            _ => continue,
        }
        let mut v = vec![vb(
            snmp_trap_oid(),
            Value::ObjectIdentifier(k(&[3, 5, 0, 2])),
        )];
        for c in [2u32, 8, 23, 22, 21, 20, 3, 4, 5, 6, 7] {
            if let Some(val) = cell(new, &[3, 3, 1, c], &idx) {
                v.push(vb(k(&[3, 3, 1, c]), val));
            }
        }
        v.push(vb(k(&[1, 2, 0]), router_id.clone()));
        out.push(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mib(entries: &[(&[u32], Value)]) -> Mib {
        let mut m = Mib::new();
        m.insert(k(&[1, 2, 0]), Value::string("r1"));
        for (p, v) in entries {
            m.insert(k(p), v.clone());
        }
        m
    }

    #[test]
    fn instance_state_change_raises_one_trap() {
        let row = |state: i32| {
            mib(&[
                (&[2, 3, 1, 2, 1], Value::string("VI_1")),
                (&[2, 3, 1, 4, 1], Value::Integer(state)),
                (&[2, 3, 1, 5, 1], Value::Integer(1)),
            ])
        };
        assert!(diff(&row(1), &row(1)).is_empty());
        let traps = diff(&row(1), &row(2));
        assert_eq!(traps.len(), 1);
        assert_eq!(
            traps[0][0].value,
            Value::ObjectIdentifier(k(&[2, 10, 0, 2]))
        );
        assert_eq!(traps[0][1].value, Value::string("VI_1"));
        assert_eq!(traps[0][2].value, Value::Integer(2));
        assert_eq!(
            traps[0].last().map(|v| &v.value),
            Some(&Value::string("r1"))
        );
    }

    #[test]
    fn a_renamed_row_is_not_a_transition() {
        let a = mib(&[
            (&[2, 3, 1, 2, 1], Value::string("VI_1")),
            (&[2, 3, 1, 4, 1], Value::Integer(1)),
        ]);
        let b = mib(&[
            (&[2, 3, 1, 2, 1], Value::string("VI_9")),
            (&[2, 3, 1, 4, 1], Value::Integer(2)),
        ]);
        assert!(diff(&a, &b).is_empty());
    }

    #[test]
    fn rfc_new_master_notifications() {
        let m = |state: i32| {
            let mut m = Mib::new();
            let o = |s: &str| s.parse::<Oid>().expect("oid");
            m.insert(o("1.3.6.1.2.1.68.1.3.1.3.3.51"), Value::Integer(state));
            m.insert(
                o("1.3.6.1.2.1.68.1.3.1.8.3.51"),
                Value::IpAddress([192, 0, 2, 2]),
            );
            m.insert(o("1.3.6.1.2.1.207.1.1.1.1.6.3.51.1"), Value::Integer(state));
            m
        };
        assert!(diff(&m(2), &m(2)).is_empty());
        let traps = diff(&m(2), &m(3));
        assert_eq!(traps.len(), 2);
        assert_eq!(
            traps[0][0].value,
            Value::ObjectIdentifier("1.3.6.1.2.1.68.0.1".parse().expect("oid"))
        );
        assert_eq!(traps[0][1].value, Value::IpAddress([192, 0, 2, 2]));
        assert_eq!(
            traps[1][0].value,
            Value::ObjectIdentifier("1.3.6.1.2.1.207.0.1".parse().expect("oid"))
        );
        // Leaving master raises nothing.
        assert!(diff(&m(3), &m(2)).is_empty());
    }

    #[test]
    fn quorum_state_change() {
        let vs = |met: i32| {
            mib(&[
                (&[3, 3, 1, 2, 1], Value::Integer(2)),
                (&[3, 3, 1, 7, 1], Value::Gauge32(80)),
                (&[3, 3, 1, 23, 1], Value::Integer(met)),
            ])
        };
        assert!(diff(&vs(1), &vs(1)).is_empty());
        let traps = diff(&vs(1), &vs(2));
        assert_eq!(traps.len(), 1);
        assert_eq!(traps[0][0].value, Value::ObjectIdentifier(k(&[3, 5, 0, 2])));
    }

    #[test]
    fn real_server_state_change() {
        let rs = |alive: i32| {
            mib(&[
                (&[3, 3, 1, 2, 1], Value::Integer(2)),
                (&[3, 3, 1, 7, 1], Value::Gauge32(80)),
                (&[3, 4, 1, 3, 1, 1], Value::Integer(1)),
                (&[3, 4, 1, 4, 1, 1], Value::OctetString(vec![192, 0, 2, 2])),
                (&[3, 4, 1, 5, 1, 1], Value::Gauge32(8080)),
                (&[3, 4, 1, 6, 1, 1], Value::Integer(alive)),
            ])
        };
        let traps = diff(&rs(2), &rs(1));
        assert_eq!(traps.len(), 1);
        assert_eq!(traps[0][0].value, Value::ObjectIdentifier(k(&[3, 5, 0, 1])));
        assert!(traps[0]
            .iter()
            .any(|v| v.name == k(&[3, 4, 1, 6]) && v.value == Value::Integer(1)));
    }
}
