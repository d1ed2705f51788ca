//! Route announcement keywords (rkeepalived extension, issue #16):
//! `announce_table`, `announce_protocol`, `announce_metric`,
//! `announce_drain_delay` in `global_defs`, `announce_route` in
//! `virtual_server`. They are ours (keepalived 2.2.7 rejects them), so a
//! bad value is an error at its position, never keepalived's "ignoring".

use std::time::Duration;

use crate::diag::{Diagnostic, Severity};
use crate::model::{
    AnnounceDefaults, Config, VirtualService, VsAnnounce, VsgMember, RTPROT_RKEEPALIVED,
};
use crate::tree::Node;
use crate::values::{int, PResult};

/// Longest `announce_drain_delay`: one hour (the supervisor's stop timeout
/// grows by it).
const MAX_DRAIN_DELAY: i64 = 3600;

/// A routing table for announced routes: 1..2^32-1, but not the kernel's
/// own `default` (253), `main` (254) and `local` (255): routes there would
/// change how the director itself forwards.
fn table(n: &Node, i: usize) -> PResult<u32> {
    let t = n.arg(i, "a routing table number")?;
    let v: u32 = int(t, 1, i64::from(u32::MAX), n.key())?;
    if (253..=255).contains(&v) {
        return Err(t.pos.error(format!(
            "'{}': table {v} is one of the kernel's own (default, main, local); \
             use a dedicated table",
            n.key()
        )));
    }
    Ok(v)
}

fn metric(n: &Node, i: usize) -> PResult<u32> {
    let t = n.arg(i, "a metric")?;
    int(t, 0, i64::from(u32::MAX), n.key())
}

/// One `global_defs` keyword of [`GLOBAL_KEYWORDS`].
pub(super) fn global(a: &mut AnnounceDefaults, n: &Node) -> PResult<()> {
    match n.key() {
        "announce_table" => a.table = Some(table(n, 0)?),
        "announce_protocol" => {
            let t = n.arg(0, "a routing protocol number or 'rkeepalived'")?;
            let v: u8 = match t.text.as_str() {
                "rkeepalived" => RTPROT_RKEEPALIVED,
                // 0-4 mean something to the kernel and to `ip route`
                // (unspec, redirect, kernel, boot, static): routes of those
                // protocols are not ours to delete.
                _ => int(t, 5, 255, n.key())?,
            };
            a.protocol = Some(v);
        }
        "announce_metric" => a.metric = Some(metric(n, 0)?),
        "announce_drain_delay" => {
            let secs: u64 = n.int(0, 0, MAX_DRAIN_DELAY)?;
            a.drain_delay = Some(Duration::from_secs(secs));
        }
        other => {
            return Err(n
                .pos()
                .error(format!("'{other}' is not an announce keyword")))
        }
    }
    Ok(())
}

/// `announce_route [on|off] [table N] [metric N]` in a `virtual_server`.
pub(super) fn virtual_server(n: &Node) -> PResult<VsAnnounce> {
    let mut out = VsAnnounce {
        enabled: true,
        ..VsAnnounce::default()
    };
    let mut i = 0;
    while let Some(t) = n.args.get(i) {
        match t.text.as_str() {
            "on" | "yes" | "true" if i == 0 => out.enabled = true,
            "off" | "no" | "false" if i == 0 => out.enabled = false,
            "table" => {
                out.table = Some(table(n, i + 1)?);
                i += 1;
            }
            "metric" => {
                out.metric = Some(metric(n, i + 1)?);
                i += 1;
            }
            other => {
                return Err(t.pos.error(format!(
                    "'announce_route': unknown option '{other}' \
                     (expected [on|off] [table N] [metric N])"
                )))
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Announcement settings that cannot take effect, warned where they are
/// written: `announce_route` without a table, on a fwmark service (no
/// address to announce).
pub(crate) fn validate(cfg: &Config, warnings: &mut Vec<Diagnostic>) {
    let g = &cfg.global_defs.announce;
    for vs in &cfg.virtual_servers {
        let Some(a) = vs.announce.as_deref().filter(|a| a.enabled) else {
            continue;
        };
        let name = crate::validate::service_name(&vs.service);
        let warn = |msg: String| Diagnostic {
            file: vs.origin.file.clone(),
            line: vs.origin.line,
            col: 1,
            severity: Severity::Warning,
            message: msg,
        };
        if a.table.or(g.table).is_none() {
            warnings.push(warn(format!(
                "virtual_server {name}: announce_route without a table (no 'table N' and no \
                 global_defs announce_table): its route is not announced"
            )));
            continue;
        }
        let addresses = match &vs.service {
            VirtualService::Addr { .. } => true,
            VirtualService::Fwmark(_) => false,
            VirtualService::Group(gname) => cfg
                .virtual_server_groups
                .iter()
                .filter(|grp| &grp.name == gname)
                .flat_map(|grp| &grp.members)
                .any(|m| matches!(m, VsgMember::Range { .. })),
        };
        if !addresses {
            warnings.push(warn(format!(
                "virtual_server {name}: announce_route on a fwmark service has no address \
                 to announce; put the VIPs in a virtual_server_group (IP ranges are announced \
                 address by address) or announce them from another virtual_server"
            )));
            continue;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::RTPROT_RKEEPALIVED;
    use crate::{parse_str, LoadOptions};
    use std::time::Duration;

    fn load(text: &str) -> Result<crate::Loaded, String> {
        parse_str(text, "test.conf", &LoadOptions::default()).map_err(|e| e.to_string())
    }

    const VS: &str = "virtual_server 192.0.2.100 80 {\n  ANNOUNCE\n  real_server 203.0.113.10 80 {\n    TCP_CHECK {\n    }\n  }\n}\n";

    #[test]
    fn announce_keywords_parse_print_and_round_trip() {
        let text = format!(
            "global_defs {{\n  announce_table 100\n  announce_protocol rkeepalived\n  announce_metric 7\n  announce_drain_delay 5\n}}\n{}",
            VS.replace("ANNOUNCE", "announce_route table 101 metric 9")
        );
        let l = load(&text).unwrap();
        let a = &l.config.global_defs.announce;
        assert_eq!(a.table, Some(100));
        assert_eq!(a.protocol(), RTPROT_RKEEPALIVED);
        assert_eq!(a.metric, Some(7));
        assert_eq!(a.drain_delay(), Duration::from_secs(5));
        let vs = l.config.virtual_servers[0].announce.as_deref().unwrap();
        assert!(vs.enabled);
        assert_eq!((vs.table, vs.metric), (Some(101), Some(9)));
        assert!(l.not_acted_on.is_empty(), "{:?}", l.not_acted_on);
        // The printed configuration reads back to the same model.
        let printed = crate::print::print(&l.config);
        assert!(printed.contains("announce_table 100"), "{printed}");
        assert!(
            printed.contains("announce_route table 101 metric 9"),
            "{printed}"
        );
        let again = load(&printed).unwrap();
        assert_eq!(again.config.global_defs.announce, *a);
        assert_eq!(
            again.config.virtual_servers[0].announce.as_deref(),
            Some(vs)
        );
    }

    #[test]
    fn announce_route_off_and_defaults() {
        let l = load(&VS.replace("ANNOUNCE", "announce_route off")).unwrap();
        assert!(
            !l.config.virtual_servers[0]
                .announce
                .as_ref()
                .unwrap()
                .enabled
        );
        assert!(l.config.global_defs.announce.is_default());
        let l = load(&VS.replace("ANNOUNCE", "announce_route")).unwrap();
        assert!(
            l.config.virtual_servers[0]
                .announce
                .as_ref()
                .unwrap()
                .enabled
        );
    }

    #[test]
    fn bad_announce_values_are_errors_at_their_position() {
        for (line, want) in [
            ("announce_table 254", "kernel's own"),
            ("announce_table 0", "out of range"),
            ("announce_protocol 3", "out of range"),
            ("announce_protocol bird", "invalid number"),
            ("announce_drain_delay 99999", "out of range"),
            ("announce_metric -1", "out of range"),
        ] {
            let err = load(&format!("global_defs {{\n  {line}\n}}\n")).unwrap_err();
            assert!(
                err.contains(want) && err.contains("test.conf:2"),
                "{line}: {err}"
            );
        }
        for (line, want) in [
            ("announce_route table 255", "kernel's own"),
            ("announce_route metric", "needs a metric"),
            ("announce_route bogus", "unknown option 'bogus'"),
        ] {
            let err = load(&VS.replace("ANNOUNCE", line)).unwrap_err();
            assert!(err.contains(want), "{line}: {err}");
        }
    }

    #[test]
    fn announce_route_that_cannot_take_effect_is_warned() {
        let l = load(&VS.replace("ANNOUNCE", "announce_route")).unwrap();
        let w: Vec<String> = l.warnings.iter().map(|d| d.to_string()).collect();
        assert!(
            w.iter()
                .any(|w| w.contains("announce_route without a table")),
            "{w:?}"
        );
        let fw = "global_defs {\n  announce_table 100\n}\nvirtual_server fwmark 7 {\n  announce_route\n  real_server 203.0.113.10 80 {\n    TCP_CHECK {\n    }\n  }\n}\n";
        let l = load(fw).unwrap();
        let w: Vec<String> = l.warnings.iter().map(|d| d.to_string()).collect();
        assert!(
            w.iter()
                .any(|w| w.contains("fwmark service has no address")),
            "{w:?}"
        );
    }
}
