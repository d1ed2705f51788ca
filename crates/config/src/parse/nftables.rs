//! The nftables keywords of `global_defs` as keepalived 2.2.7 built with
//! nftables and without iptables (Debian's build: `keepalived -v` lists
//! `NFTABLES`, no `IPTABLES`, no `LIBIPSET`) reads them:
//! core/global_parser.c `vrrp_iptables_handler()` (the nftables variant),
//! `vrrp_nftables_handler()`, `vrrp_nftables_priority_handler()`,
//! `vrrp_nftables_ifindex_handler()`, `nftables_counters_handler()`.

use super::Parser;
use crate::tree::Node;
use crate::values::{keepalived_number, KeepalivedNumber, PResult};

/// keepalived's DEFAULT_NFTABLES_TABLE.
pub const DEFAULT_TABLE: &str = "keepalived";
/// NFT_TABLE_MAXNAMELEN (linux/netfilter/nf_tables.h: NFT_NAME_MAXLEN).
const TABLE_MAXNAMELEN: usize = 256;

/// One `global_defs` statement; false when it is not an nftables keyword.
pub(super) fn nftables_kw(p: &mut Parser, n: &Node) -> PResult<bool> {
    let w = &mut p.warnings;
    let o = &mut p.cfg.global_defs.nftables;
    match n.key() {
        // Without iptables support keepalived maps the legacy keyword to
        // nftables with the default table (whatever was set before).
        "vrrp_iptables" => {
            w.push(n.pos().warning(
                "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option".to_string(),
            ));
            o.table = Some(DEFAULT_TABLE.to_string());
            o.priority = -1;
        }
        "nftables" => {
            if o.table.is_some() {
                w.push(
                    n.pos()
                        .warning("nftables already specified - ignoring".to_string()),
                );
                return Ok(true);
            }
            let name = match n.args.first() {
                Some(t) if t.text.len() >= TABLE_MAXNAMELEN => {
                    w.push(
                        t.pos
                            .warning("nftables table name too long - ignoring".to_string()),
                    );
                    return Ok(true);
                }
                Some(t) => t.text.clone(),
                None => DEFAULT_TABLE.to_string(),
            };
            o.table = Some(name);
            // keepalived resets the priority here, after any nftables_priority.
            o.priority = -1;
        }
        "nftables_priority" => {
            let t = n.arg(0, "a chain priority")?;
            match keepalived_number(&t.text, i32::MIN.into(), i32::MAX.into(), false) {
                KeepalivedNumber::Exact(v) => {
                    o.priority = i32::try_from(v).unwrap_or(-1);
                }
                _ => w.push(
                    t.pos
                        .warning(format!("invalid nftables chain priority '{}'", t.text)),
                ),
            }
        }
        "nftables_ifindex" => o.ifindex = true,
        // keepalived `disable_local_igmp_handler()` (its check that the
        // kernel has the sysctl is made by the VRRP process here).
        "disable_local_igmp" => p.cfg.global_defs.disable_local_igmp = true,
        "nftables_counters" => o.counters = true,
        _ => return Ok(false),
    }
    Ok(true)
}
