//! keepalived's nftables setup state and the `nft -f` script of each change
//! (vrrp/vrrp_nftables.c). Pure: the caller runs the scripts.
//!
//! keepalived builds netlink batches with libnftnl; these scripts make the
//! same objects, in the same order, so `nft list ruleset` reads the same
//! after the same events (tests/vrrp_nftables.rs compares them).

use std::collections::HashMap;
use std::fmt::Write;

use super::{FwAddr, Settings, VmacFw};

/// One transaction: the script for `nft -f -` and keepalived's log lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub script: String,
    pub logs: Vec<String>,
}

impl Batch {
    fn line(&mut self, s: impl AsRef<str>) {
        self.script.push_str(s.as_ref());
        self.script.push('\n');
    }
}

/// An nftables family: `ip` (NFPROTO_IPV4) or `ip6` (NFPROTO_IPV6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NfFamily {
    Ip,
    Ip6,
}

impl NfFamily {
    pub fn name(self) -> &'static str {
        match self {
            NfFamily::Ip => "ip",
            NfFamily::Ip6 => "ip6",
        }
    }
}

/// keepalived's file-static setup flags (`ipv4_table_setup`, ...) and each
/// address's `nftable_rule_set`, per instance.
#[derive(Debug)]
pub struct Planner {
    s: Settings,
    ipv4_table: bool,
    ipv4_vips: bool,
    ipv6_table: bool,
    ipv6_vips: bool,
    ll_ifname: bool,
    ll_ifindex: bool,
    ipv4_igmp: bool,
    ipv6_igmp: bool,
    /// Addresses in the sets, per instance, in the order added.
    addrs: HashMap<String, Vec<FwAddr>>,
    /// The vmac entries of each instance.
    vmacs: HashMap<String, VmacFw>,
}

impl Planner {
    pub fn new(s: Settings) -> Planner {
        Planner {
            s,
            ipv4_table: false,
            ipv4_vips: false,
            ipv6_table: false,
            ipv6_vips: false,
            ll_ifname: false,
            ll_ifindex: false,
            ipv4_igmp: false,
            ipv6_igmp: false,
            addrs: HashMap::new(),
            vmacs: HashMap::new(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.s
    }

    /// Whether the next setup is the run's first (and so checks for stale
    /// tables: ask [`Planner::stale_check_needed`] then pass the answer).
    pub fn stale_check_needed(&self) -> bool {
        !self.ipv4_table && !self.ipv6_table
    }

    /// The addresses currently in the sets for `inst`.
    pub fn addresses(&self, inst: &str) -> &[FwAddr] {
        self.addrs.get(inst).map_or(&[], Vec::as_slice)
    }

    /// The instances with entries (addresses or a vmac).
    pub fn instances(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .addrs
            .iter()
            .filter(|(_, a)| !a.is_empty())
            .map(|(k, _)| k.clone())
            .chain(self.vmacs.keys().cloned())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn table(&self) -> String {
        quote(&self.s.table)
    }

    fn counter(&self) -> &'static str {
        if self.s.counters {
            "counter "
        } else {
            ""
        }
    }

    fn base_chain(&self, b: &mut Batch, fam: NfFamily, name: &str, hook: &str) {
        b.line(format!(
            "add chain {} {} {name} {{ type filter hook {hook} priority {}; policy accept; }}",
            fam.name(),
            self.table(),
            self.s.priority
        ));
    }

    /// keepalived `check_and_delete_tables()`: before the run's first table,
    /// delete tables of our name an earlier run left. `stale` says which
    /// exist (keepalived asks the kernel first, NFT_MSG_GETTABLE).
    fn delete_stale(&self, b: &mut Batch, stale: (bool, bool)) {
        for (exists, fam) in [(stale.0, NfFamily::Ip), (stale.1, NfFamily::Ip6)] {
            if exists {
                b.logs.push(format!(
                    "Deleting old {} {} table",
                    fam.name(),
                    self.s.table
                ));
                b.line(format!("delete table {} {}", fam.name(), self.table()));
            }
        }
    }

    /// `nft_setup_ipv4()`: table ip + chain out.
    fn setup_ipv4(&mut self, b: &mut Batch, stale: &mut dyn FnMut() -> (bool, bool)) {
        if !self.ipv6_table {
            self.delete_stale(b, stale());
        }
        b.line(format!("add table ip {}", self.table()));
        self.base_chain(b, NfFamily::Ip, "out", "output");
        self.ipv4_table = true;
    }

    /// `nft_setup_ipv4_vips()`.
    fn setup_ipv4_vips(&mut self, b: &mut Batch, stale: &mut dyn FnMut() -> (bool, bool)) {
        if !self.ipv4_table {
            self.setup_ipv4(b, stale);
        }
        let t = self.table();
        let c = self.counter();
        self.base_chain(b, NfFamily::Ip, "in", "input");
        b.line(format!("add set ip {t} vips {{ type ipv4_addr; }}"));
        b.line(format!("add rule ip {t} in ip daddr @vips {c}drop"));
        b.line(format!("add rule ip {t} out ip saddr @vips {c}drop"));
        self.ipv4_vips = true;
    }

    /// `nft_setup_ipv6()`: table ip6 + chain out.
    fn setup_ipv6(&mut self, b: &mut Batch, stale: &mut dyn FnMut() -> (bool, bool)) {
        if !self.ipv4_table {
            self.delete_stale(b, stale());
        }
        b.line(format!("add table ip6 {}", self.table()));
        self.base_chain(b, NfFamily::Ip6, "out", "output");
        self.ipv6_table = true;
    }

    /// `nft_setup_ipv6_vips()`: neighbour discovery always passes,
    /// link-local addresses are checked per interface.
    fn setup_ipv6_vips(&mut self, b: &mut Batch, stale: &mut dyn FnMut() -> (bool, bool)) {
        if !self.ipv6_table {
            self.setup_ipv6(b, stale);
        }
        let t = self.table();
        let c = self.counter();
        self.base_chain(b, NfFamily::Ip6, "in", "input");
        b.line(format!("add chain ip6 {t} in_link_local"));
        b.line(format!("add chain ip6 {t} out_link_local"));
        b.line(format!("add set ip6 {t} vips {{ type ipv6_addr; }}"));
        b.line(format!(
            "add set ip6 {t} neighbor-discovery {{ type icmpv6_type; flags constant; elements = {{ nd-neighbor-solicit, nd-neighbor-advert }}; }}"
        ));
        // setup_rule_icmpv6() matches the next header field, not meta l4proto.
        b.line(format!(
            "add rule ip6 {t} in ip6 nexthdr icmpv6 icmpv6 type @neighbor-discovery {c}accept"
        ));
        b.line(format!(
            "add rule ip6 {t} in ip6 daddr fe80::/10 {c}goto in_link_local"
        ));
        b.line(format!(
            "add rule ip6 {t} out ip6 nexthdr icmpv6 icmpv6 type @neighbor-discovery {c}accept"
        ));
        b.line(format!(
            "add rule ip6 {t} out ip6 saddr fe80::/10 {c}goto out_link_local"
        ));
        b.line(format!("add rule ip6 {t} in ip6 daddr @vips {c}drop"));
        b.line(format!("add rule ip6 {t} out ip6 saddr @vips {c}drop"));
        self.ipv6_vips = true;
    }

    /// `setup_link_local_checks()`.
    fn setup_link_local(&mut self, b: &mut Batch, by_name: bool) {
        let t = self.table();
        let c = self.counter();
        let (set, ty, iif, oif) = if by_name {
            ("vips_link_local_name", "ifname", "iifname", "oifname")
        } else {
            ("vips_link_local", "iface_index", "iif", "oif")
        };
        b.line(format!(
            "add set ip6 {t} {set} {{ type ipv6_addr . {ty}; }}"
        ));
        b.line(format!(
            "add rule ip6 {t} in_link_local ip6 daddr . {iif} @{set} {c}drop"
        ));
        b.line(format!(
            "add rule ip6 {t} out_link_local ip6 saddr . {oif} @{set} {c}drop"
        ));
        if by_name {
            self.ll_ifname = true;
        } else {
            self.ll_ifindex = true;
        }
    }

    /// Make the sets of `inst` hold exactly `want` (keepalived
    /// `nft_update_addresses()`: NEWSETELEM for addresses not yet set,
    /// DELSETELEM for those set). `stale` is asked (once) whether tables
    /// of our name exist when this is the run's first setup. None when
    /// nothing changes.
    pub fn sync_addresses(
        &mut self,
        inst: &str,
        want: &[FwAddr],
        stale: &mut dyn FnMut() -> (bool, bool),
    ) -> Option<Batch> {
        let have = self.addrs.get(inst).cloned().unwrap_or_default();
        let gone: Vec<FwAddr> = have.iter().filter(|a| !want.contains(a)).cloned().collect();
        let mut new: Vec<FwAddr> = Vec::new();
        for a in want {
            if !have.contains(a) && !new.contains(a) {
                new.push(a.clone());
            }
        }
        if gone.is_empty() && new.is_empty() {
            return None;
        }
        let mut b = Batch::default();
        if !gone.is_empty() {
            self.elements(&mut b, "delete", &gone);
        }
        for a in &new {
            match a {
                FwAddr::V4(_) => {
                    if !self.ipv4_vips {
                        self.setup_ipv4_vips(&mut b, stale);
                    }
                }
                FwAddr::V6(_) | FwAddr::V6LinkLocal(..) | FwAddr::V6LinkLocalName(..) => {
                    if !self.ipv6_vips {
                        self.setup_ipv6_vips(&mut b, stale);
                    }
                    match a {
                        FwAddr::V6LinkLocalName(..) if !self.ll_ifname => {
                            self.setup_link_local(&mut b, true)
                        }
                        FwAddr::V6LinkLocal(..) if !self.ll_ifindex => {
                            self.setup_link_local(&mut b, false)
                        }
                        _ => {}
                    }
                }
            }
        }
        if !new.is_empty() {
            self.elements(&mut b, "add", &new);
        }
        let entry = self.addrs.entry(inst.to_string()).or_default();
        entry.retain(|a| want.contains(a));
        entry.extend(new);
        Some(b)
    }

    /// One element statement per set, in keepalived's order (ip vips, ip6
    /// vips, vips_link_local, vips_link_local_name).
    fn elements(&self, b: &mut Batch, verb: &str, addrs: &[FwAddr]) {
        let t = self.table();
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut ll = Vec::new();
        let mut ll_name = Vec::new();
        for a in addrs {
            match a {
                FwAddr::V4(x) => v4.push(x.to_string()),
                FwAddr::V6(x) => v6.push(x.to_string()),
                FwAddr::V6LinkLocal(x, i) => ll.push(format!("{x} . {i}")),
                FwAddr::V6LinkLocalName(x, n) => ll_name.push(format!("{x} . {}", nft_string(n))),
            }
        }
        for (fam, set, elems) in [
            ("ip", "vips", v4),
            ("ip6", "vips", v6),
            ("ip6", "vips_link_local", ll),
            ("ip6", "vips_link_local_name", ll_name),
        ] {
            if !elems.is_empty() {
                b.line(format!(
                    "{verb} element {fam} {t} {set} {{ {} }}",
                    elems.join(", ")
                ));
            }
        }
    }

    /// `nft_setup_igmp()`: the vmac map (and set, IPv6) and the rules that
    /// send IGMP / MLD reports leaving by a vmac out of its base interface
    /// instead, and drop router solicitations leaving by a vmac.
    fn setup_igmp(
        &mut self,
        b: &mut Batch,
        fam: NfFamily,
        stale: &mut dyn FnMut() -> (bool, bool),
    ) {
        match fam {
            NfFamily::Ip if !self.ipv4_table => self.setup_ipv4(b, stale),
            NfFamily::Ip6 if !self.ipv6_table => self.setup_ipv6(b, stale),
            _ => {}
        }
        let t = self.table();
        let c = self.counter();
        let f = fam.name();
        b.line(format!(
            "add map {f} {t} vmac_map {{ type iface_index : iface_index; }}"
        ));
        match fam {
            NfFamily::Ip => {
                b.line(format!(
                    "add rule ip {t} out ip protocol igmp meta oifkind \"macvlan\" dup to ip daddr device oif map @vmac_map {c}drop"
                ));
                self.ipv4_igmp = true;
            }
            NfFamily::Ip6 => {
                b.line(format!("add set ip6 {t} vmac_set {{ type iface_index; }}"));
                b.line(format!(
                    "add rule ip6 {t} out icmpv6 type mld2-listener-report meta oifkind \"macvlan\" dup to ip6 daddr device oif map @vmac_map {c}drop"
                ));
                b.line(format!(
                    "add rule ip6 {t} out icmpv6 type nd-router-solicit meta oifkind \"macvlan\" oif @vmac_set {c}drop"
                ));
                self.ipv6_igmp = true;
            }
        }
    }

    fn vmac_families(v: &VmacFw) -> Vec<NfFamily> {
        let (own, other) = if v.ipv6 {
            (NfFamily::Ip6, NfFamily::Ip)
        } else {
            (NfFamily::Ip, NfFamily::Ip6)
        };
        if v.other_family {
            vec![own, other]
        } else {
            vec![own]
        }
    }

    /// `nft_update_vmac_family()` for every family of `v`.
    fn vmac_elements(
        &mut self,
        b: &mut Batch,
        v: &VmacFw,
        add: bool,
        stale: &mut dyn FnMut() -> (bool, bool),
    ) {
        let verb = if add { "add" } else { "delete" };
        for fam in Self::vmac_families(v) {
            let ready = match fam {
                NfFamily::Ip => self.ipv4_igmp,
                NfFamily::Ip6 => self.ipv6_igmp,
            };
            if !ready {
                if !add {
                    continue;
                }
                self.setup_igmp(b, fam, stale);
            }
            let t = self.table();
            let f = fam.name();
            b.line(format!(
                "{verb} element {f} {t} vmac_map {{ {} : {} }}",
                v.vmac_ifindex, v.base_ifindex
            ));
            if fam == NfFamily::Ip6 {
                b.line(format!(
                    "{verb} element ip6 {t} vmac_set {{ {} }}",
                    v.vmac_ifindex
                ));
            }
        }
    }

    /// keepalived `nft_add_vmac()`: the vmac of `inst` is up (again); a
    /// previous one's entries (another ifindex) go first.
    pub fn add_vmac(
        &mut self,
        inst: &str,
        v: VmacFw,
        stale: &mut dyn FnMut() -> (bool, bool),
    ) -> Option<Batch> {
        if self.vmacs.get(inst) == Some(&v) {
            return None;
        }
        let mut b = Batch::default();
        if let Some(old) = self.vmacs.remove(inst) {
            self.vmac_elements(&mut b, &old, false, stale);
        }
        self.vmac_elements(&mut b, &v, true, stale);
        self.vmacs.insert(inst.to_string(), v);
        Some(b)
    }

    /// keepalived `nft_remove_vmac()`.
    pub fn remove_vmac(&mut self, inst: &str) -> Option<Batch> {
        let old = self.vmacs.remove(inst)?;
        let mut b = Batch::default();
        self.vmac_elements(&mut b, &old, false, &mut || (false, false));
        (!b.script.is_empty()).then_some(b)
    }

    /// keepalived `nft_cleanup()` at exit: delete the tables set up.
    pub fn fini(&mut self) -> Option<Batch> {
        let mut b = Batch::default();
        if self.ipv4_table {
            b.line(format!("delete table ip {}", self.table()));
        }
        if self.ipv6_table {
            b.line(format!("delete table ip6 {}", self.table()));
        }
        *self = Planner::new(self.s.clone());
        (!b.script.is_empty()).then_some(b)
    }
}

/// A table name as an nft identifier (quoted unless plain).
fn quote(name: &str) -> String {
    if !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        name.to_string()
    } else {
        nft_string(name)
    }
}

/// A double-quoted nft string (interface names, odd table names).
fn nft_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' || c.is_control() {
            // nft strings have no escapes: leave such characters out.
            continue;
        }
        let _ = write!(out, "{c}");
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planner(counters: bool) -> Planner {
        Planner::new(Settings {
            table: "keepalived".into(),
            priority: -1,
            ifindex: false,
            counters,
        })
    }

    fn no_stale() -> impl FnMut() -> (bool, bool) {
        || (false, false)
    }

    #[test]
    fn first_ipv4_vip_sets_up_the_ip_table_as_keepalived() {
        let mut p = planner(false);
        let b = p
            .sync_addresses(
                "VI_1",
                &[FwAddr::V4("192.0.2.100".parse().unwrap())],
                &mut no_stale(),
            )
            .unwrap();
        assert_eq!(
            b.script,
            "add table ip keepalived\n\
             add chain ip keepalived out { type filter hook output priority -1; policy accept; }\n\
             add chain ip keepalived in { type filter hook input priority -1; policy accept; }\n\
             add set ip keepalived vips { type ipv4_addr; }\n\
             add rule ip keepalived in ip daddr @vips drop\n\
             add rule ip keepalived out ip saddr @vips drop\n\
             add element ip keepalived vips { 192.0.2.100 }\n"
        );
        assert!(b.logs.is_empty());
        // Same again: nothing to do (keepalived's nftable_rule_set).
        assert!(p
            .sync_addresses(
                "VI_1",
                &[FwAddr::V4("192.0.2.100".parse().unwrap())],
                &mut no_stale()
            )
            .is_none());
        // Removing: only the element goes; the tables stay until fini.
        let b = p.sync_addresses("VI_1", &[], &mut no_stale()).unwrap();
        assert_eq!(
            b.script,
            "delete element ip keepalived vips { 192.0.2.100 }\n"
        );
        assert_eq!(p.fini().unwrap().script, "delete table ip keepalived\n");
        assert!(p.fini().is_none());
    }

    #[test]
    fn stale_tables_are_deleted_once_at_the_first_setup() {
        let mut p = planner(true);
        let mut asked = 0;
        let mut stale = || {
            asked += 1;
            (true, true)
        };
        let b = p
            .sync_addresses(
                "a",
                &[FwAddr::V6("2001:db8::1".parse().unwrap())],
                &mut stale,
            )
            .unwrap();
        assert_eq!(
            b.logs,
            [
                "Deleting old ip keepalived table",
                "Deleting old ip6 keepalived table"
            ]
        );
        assert!(b.script.starts_with(
            "delete table ip keepalived\ndelete table ip6 keepalived\nadd table ip6 keepalived\n"
        ));
        assert!(b
            .script
            .contains("add rule ip6 keepalived in ip6 daddr @vips counter drop\n"));
        let b = p
            .sync_addresses("b", &[FwAddr::V4("192.0.2.1".parse().unwrap())], &mut stale)
            .unwrap();
        assert!(b.logs.is_empty());
        assert!(!b.script.contains("delete table"));
        assert_eq!(asked, 1);
    }

    #[test]
    fn link_local_sets_are_made_on_first_use() {
        let mut p = planner(false);
        let want = [
            FwAddr::V6LinkLocal("fe80::1".parse().unwrap(), 3),
            FwAddr::V6("2001:db8::1".parse().unwrap()),
            FwAddr::V6LinkLocalName("fe80::2".parse().unwrap(), "eth0".into()),
        ];
        let s = p
            .sync_addresses("a", &want, &mut no_stale())
            .unwrap()
            .script;
        let idx = |needle: &str| s.find(needle).unwrap_or_else(|| panic!("{needle} in {s}"));
        assert!(
            idx("add set ip6 keepalived vips_link_local { type ipv6_addr . iface_index; }")
                < idx("add set ip6 keepalived vips_link_local_name { type ipv6_addr . ifname; }")
        );
        assert!(s.contains(
            "add rule ip6 keepalived in_link_local ip6 daddr . iif @vips_link_local drop\n"
        ));
        assert!(s.contains("add rule ip6 keepalived out_link_local ip6 saddr . oifname @vips_link_local_name drop\n"));
        assert!(s.ends_with(
            "add element ip6 keepalived vips { 2001:db8::1 }\n\
             add element ip6 keepalived vips_link_local { fe80::1 . 3 }\n\
             add element ip6 keepalived vips_link_local_name { fe80::2 . \"eth0\" }\n"
        ));
        // A changed set: only the difference.
        let b = p.sync_addresses("a", &want[1..], &mut no_stale()).unwrap();
        assert_eq!(
            b.script,
            "delete element ip6 keepalived vips_link_local { fe80::1 . 3 }\n"
        );
        assert_eq!(p.addresses("a"), &want[1..]);
    }

    #[test]
    fn vmac_rules_and_replacement() {
        let mut p = planner(false);
        let v = VmacFw {
            vmac_ifindex: 9,
            base_ifindex: 3,
            ipv6: false,
            other_family: false,
        };
        let s = p.add_vmac("a", v.clone(), &mut no_stale()).unwrap().script;
        assert_eq!(
            s,
            "add table ip keepalived\n\
             add chain ip keepalived out { type filter hook output priority -1; policy accept; }\n\
             add map ip keepalived vmac_map { type iface_index : iface_index; }\n\
             add rule ip keepalived out ip protocol igmp meta oifkind \"macvlan\" dup to ip daddr device oif map @vmac_map drop\n\
             add element ip keepalived vmac_map { 9 : 3 }\n"
        );
        assert!(p.add_vmac("a", v.clone(), &mut no_stale()).is_none());
        let again = VmacFw {
            vmac_ifindex: 12,
            ipv6: true,
            other_family: true,
            ..v
        };
        let s = p.add_vmac("a", again, &mut no_stale()).unwrap().script;
        assert!(s.starts_with("delete element ip keepalived vmac_map { 9 : 3 }\n"));
        assert!(s.contains("add set ip6 keepalived vmac_set { type iface_index; }\n"));
        assert!(
            s.contains("icmpv6 type nd-router-solicit meta oifkind \"macvlan\" oif @vmac_set drop")
        );
        assert!(s.ends_with(
            "add element ip6 keepalived vmac_set { 12 }\nadd element ip keepalived vmac_map { 12 : 3 }\n"
        ));
        let s = p.remove_vmac("a").unwrap().script;
        assert_eq!(
            s,
            "delete element ip6 keepalived vmac_map { 12 : 3 }\n\
             delete element ip6 keepalived vmac_set { 12 }\n\
             delete element ip keepalived vmac_map { 12 : 3 }\n"
        );
        assert_eq!(
            p.fini().unwrap().script,
            "delete table ip keepalived\ndelete table ip6 keepalived\n"
        );
    }

    #[test]
    fn odd_table_names_are_quoted() {
        assert_eq!(quote("keepalived"), "keepalived");
        assert_eq!(quote("my-table"), "\"my-table\"");
        assert_eq!(quote("1x"), "\"1x\"");
        assert_eq!(nft_string("a\"b\n"), "\"ab\"");
    }
}
