//! Interface lifecycle: VRRP sockets and vmacs follow the interfaces they
//! live on.
//!
//! An interface can appear after the daemon started (a VLAN, bond or veth
//! created later), be deleted and re-created (a new ifindex), be renamed, or
//! (a vmac) be deleted by hand. A raw socket is bound to the *index* of the
//! device it was opened on (SO_BINDTODEVICE stores the index) and its
//! multicast memberships die with that device, so after any of these events
//! the old socket neither sends nor receives. keepalived handles this in
//! `cleanup_lost_interface()` (close the instance's sockets, take the
//! instance down), `update_added_interface()` (reopen sockets) and
//! `recreate_vmac_thread()` (vrrp/vrrp_if.c), driven by RTM_NEWLINK /
//! RTM_DELLINK and renames in `netlink_if_link_filter()`
//! (core/keepalived_netlink.c).
//!
//! This module is the pure part: given the sockets that are open (with the
//! ifindex each was opened on), the sockets the instances want, and the
//! interfaces present *now*, [`plan_sockets`] says which to close and which
//! to (re)open; [`plan_vmacs`] says which vmacs to (re)create. The engine
//! re-runs the plan on every link event and after a failed send, and holds an
//! instance in FAULT while one of its sockets is missing, so an instance is
//! never Master without a socket that can advertise.

use std::collections::{HashMap, HashSet};

use crate::wire::Family;

/// Sockets are shared per (interface name, family).
pub type SockKey = (String, Family);

/// What the engine must do with one socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockOp {
    /// Close the socket (its interface is gone, was replaced or renamed, or
    /// no instance uses it any more).
    Close(SockKey),
    /// Open the socket on the interface that has this index now.
    Open(SockKey, u32),
}

/// Socket changes that bring `open` (key -> ifindex it was opened on) in line
/// with `wanted`, given `present` (interface name -> its ifindex now, `None`
/// if no interface has that name). A socket whose interface has a different
/// index now (deleted and re-created, or renamed away and another interface
/// renamed in) is closed and opened again on the new index. Closes come
/// before opens.
pub fn plan_sockets(
    wanted: &HashSet<SockKey>,
    open: &HashMap<SockKey, u32>,
    present: impl Fn(&str) -> Option<u32>,
) -> Vec<SockOp> {
    let mut closes = Vec::new();
    let mut opens = Vec::new();
    for (key, &idx) in open {
        let now = present(&key.0);
        if !wanted.contains(key) || now != Some(idx) {
            closes.push(SockOp::Close(key.clone()));
        }
    }
    for key in wanted {
        let Some(now) = present(&key.0) else { continue };
        if open.get(key) != Some(&now) {
            opens.push(SockOp::Open(key.clone(), now));
        }
    }
    closes.extend(opens);
    closes
}

/// A vmac an instance wants on its base interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacWant {
    pub vmac: String,
    pub base: String,
}

/// The vmacs to create now: wanted, missing, and their base interface
/// present (keepalived's `recreate_vmac_thread()` does not try while the
/// configured interface does not exist; a base that appears later triggers
/// the creation from `update_added_interface()`).
pub fn plan_vmacs<'a>(
    wanted: impl IntoIterator<Item = &'a VmacWant>,
    present: impl Fn(&str) -> Option<u32>,
) -> Vec<VmacWant> {
    let mut out: Vec<VmacWant> = Vec::new();
    for w in wanted {
        if present(&w.vmac).is_none() && present(&w.base).is_some() && !out.contains(w) {
            out.push(w.clone());
        }
    }
    out
}

/// The log line for an instance whose interface does not exist at startup.
///
/// keepalived 2.2.7 without `dynamic_interfaces` refuses such a config
/// ("Non-existent interface specified in configuration", exit code
/// KEEPALIVED_EXIT_CONFIG, vrrp/vrrp_daemon.c); with it, it waits for the
/// interface. rkeepalived always starts and waits, holding the instance in
/// FAULT (documented difference): refusing would stop every other instance
/// and the checkers too, for an interface that systemd ordering or a
/// container runtime usually creates a moment later.
pub fn missing_at_start_message(dynamic_interfaces: bool) -> &'static str {
    if dynamic_interfaces {
        "interface does not exist yet; instance held in FAULT until it appears (dynamic_interfaces)"
    } else {
        "Non-existent interface specified in configuration; keepalived would refuse to start without 'dynamic_interfaces': instance held in FAULT until it appears"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(n: &str) -> SockKey {
        (n.to_string(), Family::Ipv4)
    }

    fn present<'a>(m: &'a [(&'a str, u32)]) -> impl Fn(&str) -> Option<u32> + 'a {
        move |n| m.iter().find(|(k, _)| *k == n).map(|(_, i)| *i)
    }

    #[test]
    fn late_interface_is_opened_when_it_appears() {
        let wanted: HashSet<_> = [key("vl10")].into();
        let open = HashMap::new();
        assert!(plan_sockets(&wanted, &open, present(&[])).is_empty());
        assert_eq!(
            plan_sockets(&wanted, &open, present(&[("vl10", 7)])),
            vec![SockOp::Open(key("vl10"), 7)]
        );
    }

    #[test]
    fn recreated_interface_gets_a_fresh_socket() {
        let wanted: HashSet<_> = [key("vl10")].into();
        let open: HashMap<_, _> = [(key("vl10"), 7)].into();
        // Unchanged: nothing to do.
        assert!(plan_sockets(&wanted, &open, present(&[("vl10", 7)])).is_empty());
        // Deleted: close, nothing to open yet.
        assert_eq!(
            plan_sockets(&wanted, &open, present(&[])),
            vec![SockOp::Close(key("vl10"))]
        );
        // Deleted and re-created before we looked: close the old, open the new.
        assert_eq!(
            plan_sockets(&wanted, &open, present(&[("vl10", 9)])),
            vec![SockOp::Close(key("vl10")), SockOp::Open(key("vl10"), 9)]
        );
    }

    #[test]
    fn renamed_interface_counts_as_lost() {
        let wanted: HashSet<_> = [key("vl10")].into();
        let open: HashMap<_, _> = [(key("vl10"), 7)].into();
        // vl10 renamed to vl10x: index 7 no longer answers to "vl10".
        assert_eq!(
            plan_sockets(&wanted, &open, present(&[("vl10x", 7)])),
            vec![SockOp::Close(key("vl10"))]
        );
    }

    #[test]
    fn unused_sockets_are_closed() {
        let wanted = HashSet::new();
        let open: HashMap<_, _> = [(key("eth0"), 2)].into();
        assert_eq!(
            plan_sockets(&wanted, &open, present(&[("eth0", 2)])),
            vec![SockOp::Close(key("eth0"))]
        );
    }

    #[test]
    fn vmacs_are_created_only_on_an_existing_base() {
        let w = [VmacWant {
            vmac: "vrrp.10".into(),
            base: "vl10".into(),
        }];
        assert!(plan_vmacs(&w, present(&[])).is_empty());
        assert_eq!(plan_vmacs(&w, present(&[("vl10", 3)])), w.to_vec());
        assert!(plan_vmacs(&w, present(&[("vl10", 3), ("vrrp.10", 4)])).is_empty());
        // Two instances sharing a vmac: created once.
        let two = [w[0].clone(), w[0].clone()];
        assert_eq!(plan_vmacs(&two, present(&[("vl10", 3)])).len(), 1);
    }

    #[test]
    fn missing_interface_message_names_keepalived_wording() {
        assert!(missing_at_start_message(false)
            .starts_with("Non-existent interface specified in configuration"));
        assert!(missing_at_start_message(true).contains("dynamic_interfaces"));
    }

    proptest! {
        /// After applying the plan, every open socket is wanted and on its
        /// interface's current index, and every wanted socket on a present
        /// interface is open: one pass converges.
        #[test]
        fn one_pass_converges(
            wanted in proptest::collection::btree_set(0u8..4, 0..4),
            open in proptest::collection::btree_map(0u8..4, 1u32..4, 0..4),
            now in proptest::collection::btree_map(0u8..4, 1u32..4, 0..4),
        ) {
            let name = |n: u8| format!("if{n}");
            let wanted: HashSet<SockKey> = wanted.into_iter().map(|n| key(&name(n))).collect();
            let mut open: HashMap<SockKey, u32> = open.into_iter().map(|(n, i)| (key(&name(n)), i)).collect();
            let now: HashMap<String, u32> = now.into_iter().map(|(n, i)| (name(n), i)).collect();
            let look = |n: &str| now.get(n).copied();
            for op in plan_sockets(&wanted, &open, look) {
                match op {
                    SockOp::Close(k) => { prop_assert!(open.remove(&k).is_some()); }
                    SockOp::Open(k, i) => { prop_assert!(open.insert(k, i).is_none()); }
                }
            }
            for (k, i) in &open {
                prop_assert!(wanted.contains(k));
                prop_assert_eq!(look(&k.0), Some(*i));
            }
            for k in &wanted {
                prop_assert_eq!(open.contains_key(k), look(&k.0).is_some());
            }
            prop_assert!(plan_sockets(&wanted, &open, look).is_empty());
        }
    }
}
