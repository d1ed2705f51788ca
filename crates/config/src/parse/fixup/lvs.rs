//! virtual_server, real_server and checker fix-ups: keepalived's
//! check/check_parser.c and check/check_data.c `validate_check_config()`.

use std::time::Duration;

use crate::diag::Diagnostic;
use crate::lexer::Token;
use crate::model::*;
use crate::parse::lvs_read::Read;
use crate::parse::Parser;
use crate::tree::Node;

// ---------------------------------------------------------------------------
// LVS: keepalived's check/check_parser.c and check/check_data.c
// validate_check_config()
// ---------------------------------------------------------------------------

/// The virtual server's `alpha` is a plain flag: only "on" is meaningful.
/// keepalived: check/check_parser.c `vs_alpha_handler()` (sets it, never
/// clears it).
pub(in crate::parse) fn vs_alpha_is_a_flag(vs: &mut VirtualServer) {
    if vs.checker_defaults.alpha == Some(false) {
        vs.checker_defaults.alpha = None;
    }
    vs.alpha = vs.checker_defaults.alpha.unwrap_or(false);
}

/// Firewall-mark services have no protocol.
/// keepalived: check/check_data.c `validate_check_config()` ("protocol
/// specified for fwmark - protocol will be ignored").
pub(in crate::parse) fn fwmark_protocol_ignored(
    vs: &mut VirtualServer,
    protocol_set: bool,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if matches!(vs.service, VirtualService::Fwmark(_)) && protocol_set {
        warnings.push(n.pos().warning(
            "virtual_server fwmark: protocol is ignored for firewall-mark services (as keepalived does)",
        ));
        vs.protocol = Protocol::Tcp;
    }
}

/// The same warning for a group of firewall marks only (keepalived tests
/// `list_empty(&vs->vsg->addr_range) && !list_empty(&vs->vsg->vfwmark)`).
pub(in crate::parse) fn fwmark_group_protocol_ignored(
    vs: &VirtualServer,
    protocol_set: bool,
    groups: &[VirtualServerGroup],
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    let VirtualService::Group(name) = &vs.service else {
        return;
    };
    let Some(g) = groups.iter().find(|g| &g.name == name) else {
        return;
    };
    let fwmark_only = !g.members.is_empty()
        && g.members
            .iter()
            .all(|m| matches!(m, VsgMember::Fwmark { .. }));
    if protocol_set && fwmark_only {
        warnings.push(n.pos().warning(format!(
            "virtual_server group {name}: protocol is ignored for a group of firewall marks (as keepalived does)"
        )));
    }
}

/// No protocol: UDP (the kernel's default for protocol 0).
/// keepalived: check/check_data.c `validate_check_config()` ("no protocol
/// set - defaulting to UDP").
pub(in crate::parse) fn protocol_defaults_to_udp(
    vs: &mut VirtualServer,
    protocol_set: bool,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if !matches!(vs.service, VirtualService::Fwmark(_)) && !protocol_set {
        warnings.push(n.pos().warning(
            "virtual_server: no protocol set; defaulting to UDP (as keepalived does). Add 'protocol TCP' for TCP services",
        ));
        vs.protocol = Protocol::Udp;
    }
}

/// A zero port needs persistence (360 s).
/// keepalived: check/check_data.c `validate_check_config()` ("zero port
/// only valid for persistent services - setting").
pub(in crate::parse) fn zero_port_needs_persistence(
    vs: &mut VirtualServer,
    persistence_set: bool,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if let VirtualService::Addr { port: None, .. } = vs.service {
        if !persistence_set {
            warnings.push(n.pos().warning(
                "virtual_server: a zero port is only valid for persistent services; setting persistence_timeout 360 (as keepalived does)",
            ));
            vs.persistence_timeout = Some(defaults::PERSISTENCE_TIMEOUT);
        }
    }
}

/// No ha_suspend with firewall marks.
/// keepalived: check/check_data.c `validate_check_config()` ("cannot use
/// ha_suspend with fwmarks - clearing ha_suspend").
pub(in crate::parse) fn fwmark_no_ha_suspend(
    vs: &mut VirtualServer,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if matches!(vs.service, VirtualService::Fwmark(_)) && vs.ha_suspend {
        warnings.push(n.pos().warning(
            "virtual_server fwmark: ha_suspend cannot be used with firewall marks; clearing it (as keepalived does)",
        ));
        vs.ha_suspend = false;
    }
}

/// One-packet scheduling only with UDP address services.
/// keepalived: check/check_data.c `validate_check_config()` ("OPS is only
/// valid for UDP, or with a firewall mark").
pub(in crate::parse) fn ops_needs_udp(
    vs: &mut VirtualServer,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if matches!(vs.service, VirtualService::Addr { .. }) && vs.ops && vs.protocol != Protocol::Udp {
        warnings.push(n.pos().warning(
            "virtual_server: 'ops' is only valid with protocol UDP; ignoring it (as keepalived does)",
        ));
        vs.ops = false;
    }
}

/// A `virtual_server group` keeps its real servers' ports; keepalived only
/// warns when they cannot mean anything: a port on a non-NAT server of a
/// group with fwmark entries, and a non-NAT port that differs from an
/// address entry's. keepalived: check/check_data.c `validate_check_config()`
/// (the `vs->vsg` branch, which corrects nothing).
pub(in crate::parse) fn group_ports_warned(
    vs: &VirtualServer,
    groups: &[VirtualServerGroup],
    notes: &mut Vec<String>,
) {
    let VirtualService::Group(name) = &vs.service else {
        return;
    };
    let Some(group) = groups.iter().find(|g| &g.name == name) else {
        return;
    };
    let servers = vs
        .real_servers
        .iter()
        .map(|rs| (format!("real_server {}", rs.addr), rs.lvs_method, rs.port))
        .chain(
            vs.sorry_server
                .iter()
                .map(|s| ("sorry_server".to_string(), s.lvs_method, s.port)),
        );
    let has_fwmark = group
        .members
        .iter()
        .any(|m| matches!(m, VsgMember::Fwmark { .. }));
    for (what, method, port) in servers {
        let Some(port) = port.filter(|_| method != ForwardingMethod::Nat) else {
            continue;
        };
        if has_fwmark {
            notes.push(format!(
                "{what} has port {port} with the fwmark entries of virtual_server_group {name}; the port is ignored (keepalived warns too)"
            ));
        }
        for m in &group.members {
            if let VsgMember::Range {
                first,
                port: entry_port,
                ..
            } = m
            {
                if *entry_port != Some(port) {
                    notes.push(format!(
                        "{what} port {port} does not match virtual_server_group {name} entry {first} port {}; only NAT can remap ports (keepalived warns too)",
                        entry_port.unwrap_or(0)
                    ));
                }
            }
        }
    }
}

/// Real/sorry server ports follow the virtual server's, except with NAT
/// (where a missing port is the VS port); fwmark services have none.
/// keepalived: check/check_data.c `validate_check_config()`.
pub(in crate::parse) fn ports_follow_virtual_server(
    vs: &mut VirtualServer,
    notes: &mut Vec<String>,
) {
    let vs_port = match vs.service {
        VirtualService::Addr { port, .. } => Some(port),
        VirtualService::Fwmark(_) => Some(None),
        VirtualService::Group(_) => None,
    };
    let fwmark = matches!(vs.service, VirtualService::Fwmark(_));
    let mut fix = |what: String, method: ForwardingMethod, port: &mut Option<u16>| {
        let Some(vs_port) = vs_port else { return };
        if method == ForwardingMethod::Nat {
            if !fwmark && port.is_none() {
                *port = vs_port;
            }
            return;
        }
        if fwmark {
            if port.is_some() {
                notes.push(format!(
                    "fwmark virtual_server: {what} has a port; clearing it (as keepalived does)"
                ));
                *port = None;
            }
        } else if port.is_none() {
            *port = vs_port;
        } else if *port != vs_port {
            notes.push(format!("{what}: port differs from the virtual server's (only NAT can remap ports); using the virtual server's port (as keepalived does)"));
            *port = vs_port;
        }
    };
    for rs in &mut vs.real_servers {
        fix(
            format!("real_server {}", rs.addr),
            rs.lvs_method,
            &mut rs.port,
        );
    }
    if let Some(s) = &mut vs.sorry_server {
        fix("sorry_server".to_string(), s.lvs_method, &mut s.port);
    }
    // A server whose port now equals an earlier server's is the same IPVS
    // destination: keepalived's duplicate check (check_data.c
    // `validate_check_config()`, `rs_iseq()`) ran before the port was
    // filled in, so it adds the destination twice and the kernel refuses
    // the second (EEXIST). Keep the first, as the kernel ends up doing.
    let mut seen: Vec<(std::net::IpAddr, Option<u16>)> = Vec::new();
    vs.real_servers.retain(|rs| {
        if seen.contains(&(rs.addr, rs.port)) {
            notes.push(format!(
                "real_server {} {}: the same IPVS destination as an earlier real_server once its port follows the virtual server's; keeping the first (keepalived adds it twice and the kernel refuses the second)",
                rs.addr,
                rs.port.map(|p| p.to_string()).unwrap_or_default()
            ));
            return false;
        }
        seen.push((rs.addr, rs.port));
        true
    });
}

/// Quorum at most the total real-server weight.
/// keepalived: check/check_data.c `validate_check_config()`.
pub(in crate::parse) fn quorum_at_most_total_weight(
    vs: &mut VirtualServer,
    notes: &mut Vec<String>,
) {
    let weight_sum: u64 = vs.real_servers.iter().map(|r| u64::from(r.weight)).sum();
    if u64::from(vs.quorum) > weight_sum {
        let q = u32::try_from(weight_sum).unwrap_or(u32::MAX);
        notes.push(format!(
            "quorum {} exceeds the total weight of the real servers {weight_sum}; reducing quorum to {q} (as keepalived does)",
            vs.quorum
        ));
        vs.quorum = q;
    }
}

/// Hysteresis below quorum.
/// keepalived: check/check_data.c `validate_check_config()`.
pub(in crate::parse) fn hysteresis_below_quorum(vs: &mut VirtualServer, notes: &mut Vec<String>) {
    if vs.hysteresis > 0 && vs.hysteresis >= vs.quorum {
        let h = vs.quorum.saturating_sub(1);
        notes.push(format!(
            "hysteresis {} >= quorum {}; setting hysteresis to {h} (as keepalived does)",
            vs.hysteresis, vs.quorum
        ));
        vs.hysteresis = h;
    }
}

/// A real server alerts by default unless `smtp_alert` or
/// `smtp_alert_checker` was set globally (backwards compatibility).
/// keepalived: check/check_data.c `validate_check_config()`
/// (`rs->smtp_alert == -1`).
pub(in crate::parse) fn real_server_smtp_alert_default(
    smtp_alert_set: bool,
    g: &GlobalDefs,
) -> bool {
    if smtp_alert_set {
        g.smtp_alert_checker
    } else {
        true
    }
}

/// A virtual server on a group: no ha_suspend when the group has fwmarks;
/// a port-less address range needs persistence (360 s). Returns the new
/// (ha_suspend, persistence_timeout).
/// keepalived: check/check_data.c `validate_check_config()`.
pub(crate) fn vsg_fixups(
    g: &VirtualServerGroup,
    ha_suspend: bool,
    persistence: Option<Duration>,
    warn: &mut impl FnMut(String),
) -> (bool, Option<Duration>) {
    let name = &g.name;
    let mut out = (ha_suspend, persistence);
    let has_fwmark = g
        .members
        .iter()
        .any(|m| matches!(m, VsgMember::Fwmark { .. }));
    if ha_suspend && has_fwmark {
        warn(format!(
            "virtual_server group {name}: ha_suspend cannot be used with firewall marks; clearing it (as keepalived does)"
        ));
        out.0 = false;
    }
    let portless = g
        .members
        .iter()
        .any(|m| matches!(m, VsgMember::Range { port: None, .. }));
    if portless && persistence.is_none() {
        warn(format!(
            "virtual_server group {name}: a zero port is only valid for persistent services; setting persistence_timeout 360 (as keepalived does)"
        ));
        out.1 = Some(defaults::PERSISTENCE_TIMEOUT);
    }
    out
}

// ---------------------------------------------------------------------------
// Values keepalived reads differently from the man page, or ignores:
// check/check_parser.c handlers.
// ---------------------------------------------------------------------------

/// `lb_algo`/`lvs_sched`: keepalived's list of schedulers, matched
/// case-sensitively; anything else is ignored (the previous scheduler, or
/// the default wlc, stays). keepalived: check/check_parser.c
/// `lbalgo_handler()` ("Invalid lvs_scheduler 'X' - ignoring") and
/// check_data.c `validate_check_config()` ("no scheduler set, setting
/// default 'wlc'").
pub(in crate::parse) fn scheduler_exact_name(
    k: &Node,
    t: &Token,
    current: Option<Scheduler>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Scheduler> {
    if let Some(s) = Scheduler::ALL.iter().copied().find(|s| s.name() == t.text) {
        return Some(s);
    }
    let using = match current {
        Some(s) => format!("keeping '{}' from an earlier line", s.name()),
        None => "using the default wlc".to_string(),
    };
    warnings.push(t.pos.warning(format!(
        "'{}': invalid scheduler '{}' (keepalived knows exactly {}) - ignoring it; {using} (as keepalived does: \"Invalid lvs_scheduler\")",
        k.key(),
        t.text,
        Scheduler::ALL.map(|s| s.name()).join("|")
    )));
    None
}

/// An unknown forwarding method (matched case-sensitively: `dr` is not
/// `DR`) is ignored; a virtual server without one uses NAT, and real and
/// sorry servers without their own follow it — so with `lb_kind dr` the
/// real servers keep their own ports, as NAT does.
/// keepalived: check/check_parser.c `svr_forwarding_handler()` ("PARSER :
/// unknown [dr] routing method for virtual server.") and check_data.c
/// `validate_check_config()` ("no forwarding method set, setting default
/// NAT").
pub(in crate::parse) fn unknown_forwarding_method(
    k: &Node,
    t: &Token,
    prev: Option<ForwardingMethod>,
    server: &str,
    warnings: &mut Vec<Diagnostic>,
) {
    let using = match (prev, server) {
        (Some(m), _) => format!("keeping {} from an earlier line", method_name(m)),
        (None, "virtual") => "using the default NAT".to_string(),
        (None, _) => "using the virtual server's method".to_string(),
    };
    warnings.push(t.pos.warning(format!(
        "'{}': unknown forwarding method '{}' for the {server} server (keepalived matches exactly NAT, DR or TUN) - ignoring it; {using} (as keepalived does)",
        k.key(),
        t.text
    )));
}

/// A virtual server without `lb_kind` uses NAT; keepalived says so once
/// when a real server or the sorry server has no method of its own to
/// inherit (check_data.c `validate_check_config()`: "Virtual server %s: no
/// forwarding method set, setting default NAT"), and its `-t` exits 5 for
/// it.
pub(in crate::parse) fn no_forwarding_method(
    vs: &VirtualServer,
    n: &Node,
    sorry_without_method: bool,
    warnings: &mut Vec<Diagnostic>,
) {
    let real_server_without_method = n.block.as_ref().is_some_and(|b| {
        b.nodes.iter().any(|rs| {
            rs.key() == "real_server"
                && !rs
                    .block
                    .as_ref()
                    .is_some_and(|rb| rb.nodes.iter().any(|k| k.key() == "lvs_method"))
        })
    });
    if real_server_without_method || sorry_without_method {
        warnings.push(n.pos().warning(format!(
            "virtual_server {}: no forwarding method set, setting default NAT (as keepalived does)",
            crate::validate::service_name(&vs.service)
        )));
    }
}

fn method_name(m: ForwardingMethod) -> &'static str {
    match m {
        ForwardingMethod::Nat => "NAT",
        ForwardingMethod::Dr => "DR",
        ForwardingMethod::Tun { .. } => "TUN",
    }
}

/// A bad tunnel option keeps TUN with the previous tunnel settings.
/// keepalived: check/check_parser.c `svr_forwarding_handler()` sets the
/// method before reading the options and returns on the first bad one.
pub(in crate::parse) fn bad_tunnel_option(
    k: &Node,
    msg: String,
    server: &str,
    warnings: &mut Vec<Diagnostic>,
) {
    warnings.push(k.pos().warning(format!(
        "'{}': {msg}; the {server} server uses TUN with its previous tunnel settings (as keepalived does)",
        k.key()
    )));
}

/// `protocol` is matched case-insensitively; an unknown one is ignored
/// (then UDP, keepalived's default for protocol 0).
/// keepalived: check/check_parser.c `proto_handler()` ("Unknown protocol X
/// - ignoring").
pub(in crate::parse) fn protocol_any_case(
    k: &Node,
    t: &Token,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Protocol> {
    match t.text.to_ascii_uppercase().as_str() {
        "TCP" => Some(Protocol::Tcp),
        "UDP" => Some(Protocol::Udp),
        "SCTP" => Some(Protocol::Sctp),
        _ => {
            warnings.push(t.pos.warning(format!(
                "'{}': unknown protocol '{}' (expected TCP, UDP or SCTP) - ignoring it (as keepalived does)",
                k.key(),
                t.text
            )));
            None
        }
    }
}

/// `ip_family`: exactly `inet` or `inet6`, and not against the address's
/// family; otherwise ignored. keepalived: check/check_parser.c
/// `ip_family_handler()` ("unknown address family", "Virtual server
/// specified family X conflicts with server family").
pub(in crate::parse) fn ip_family_exact(
    k: &Node,
    t: &Token,
    vs_family: Option<AddressFamily>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<AddressFamily> {
    let f = match t.text.as_str() {
        "inet" => AddressFamily::Inet,
        "inet6" => AddressFamily::Inet6,
        other => {
            warnings.push(t.pos.warning(format!(
                "'{}': unknown address family '{other}' (expected inet or inet6) - ignoring it (as keepalived does)",
                k.key()
            )));
            return None;
        }
    };
    if vs_family.is_some_and(|v| v != f) {
        warnings.push(t.pos.warning(format!(
            "'{}': family {} conflicts with the virtual server's address - ignoring it (as keepalived does)",
            k.key(),
            t.text
        )));
        return None;
    }
    Some(f)
}

/// `sorry_server_inhibit` and `sorry_server_lvs_method` act on the sorry
/// server defined *before* them; otherwise they are ignored.
/// keepalived: check/check_parser.c `ssvri_handler()` ("Ignoring
/// sorry_server inhibit used before or without sorry_server"),
/// `ss_forwarding_handler()` ("sorry_server forwarding used without
/// sorry_server").
pub(in crate::parse) fn needs_sorry_server(
    k: &Node,
    have_sorry_server: bool,
    warnings: &mut Vec<Diagnostic>,
) -> bool {
    if !have_sorry_server {
        warnings.push(k.pos().warning(format!(
            "'{}' used before or without sorry_server - ignoring it (as keepalived does)",
            k.key()
        )));
    }
    have_sorry_server
}

/// An invalid quorum is 1. keepalived: check/check_parser.c
/// `quorum_handler()` ("Quorum X must be in [1, 4294967295]. Setting to
/// 1."); `quorum 2;` is read as 2 (lenient number reading).
pub(in crate::parse) fn quorum_invalid_is_one(
    k: &Node,
    r: Read<u64>,
    warnings: &mut Vec<Diagnostic>,
) -> u32 {
    let pos = k
        .args
        .first()
        .map_or_else(|| k.pos().clone(), |t| t.pos.clone());
    match r {
        Read::Ok(v) => u32::try_from(v).unwrap_or(u32::MAX),
        Read::Lenient(v, note) => {
            warnings.push(pos.warning(format!("'quorum': {note} (as keepalived does)")));
            u32::try_from(v).unwrap_or(u32::MAX)
        }
        Read::Bad(why) => {
            warnings.push(pos.warning(format!(
                "'quorum': {why}; must be at least 1; using 1 (as keepalived does)"
            )));
            1
        }
    }
}

/// `sh-port`/`sh-fallback` act only when the scheduler read so far is sh,
/// `mh-port`/`mh-fallback` only when it is mh (write `lb_algo` first).
/// keepalived: check/check_parser.c `lbflags_handler()` ("X only applies
/// to sh scheduler - ignoring").
pub(in crate::parse) fn sched_flag_for_current_scheduler(
    k: &Node,
    sched: Option<Scheduler>,
    warnings: &mut Vec<Diagnostic>,
) -> bool {
    let want = if k.key().starts_with("sh-") {
        Scheduler::Sh
    } else {
        Scheduler::Mh
    };
    if sched == Some(want) {
        return true;
    }
    let msg = match sched {
        Some(Scheduler::Sh | Scheduler::Mh) => format!(
            "'{}' does not apply to scheduler {}; ignoring it (as keepalived does)",
            k.key(),
            sched.map_or("", |s| s.name())
        ),
        _ => format!(
            "'{}' only applies to the {} scheduler, and no such lb_algo comes before it - ignoring it (as keepalived does)",
            k.key(),
            want.name()
        ),
    };
    warnings.push(k.pos().warning(msg));
    false
}

/// A keyword keepalived 2.2.7 does not know in this block (its parser
/// logs "Unknown keyword" and skips the line).
pub(in crate::parse) fn not_a_keepalived_keyword(
    k: &Node,
    ctx: &str,
    hint: &str,
    warnings: &mut Vec<Diagnostic>,
) {
    warnings.push(k.pos().warning(format!(
        "unknown keyword '{}' in {ctx}: keepalived 2.2.7 does not know it here ({hint}); ignored (as keepalived does)",
        k.key()
    )));
}

/// A real server address (or port) keepalived cannot read skips the real
/// server and its checkers. keepalived: check/check_data.c `alloc_rs()`
/// ("Invalid real server ip address/port X/Y - skipping").
pub(in crate::parse) fn skip_real_server_on_bad_address(
    p: &mut Parser,
    n: &Node,
    r: Read<(std::net::IpAddr, Option<u16>)>,
) -> Option<(std::net::IpAddr, Option<u16>)> {
    match r {
        Read::Bad(why) => {
            let pos = n
                .args
                .first()
                .map_or_else(|| n.pos().clone(), |t| t.pos.clone());
            p.warnings.push(pos.warning(format!(
                "real_server: {why}; skipping this real server and its checkers (as keepalived does)"
            )));
            None
        }
        r => p.ka_apply(n, r),
    }
}

/// A direct (not tunnelled) real server must share the virtual server's
/// family (its address, `ip_family`, else the first such real server's);
/// one that does not is skipped. keepalived: check/check_parser.c
/// `rs_end_handler()` ("Address family of virtual server and real server X
/// don't match - skipping real server.").
pub(in crate::parse) fn real_server_family(
    family: &mut Option<AddressFamily>,
    rs: &RealServer,
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) -> bool {
    if matches!(rs.lvs_method, ForwardingMethod::Tun { .. }) {
        return true;
    }
    let f = AddressFamily::of(&rs.addr);
    match family {
        None => {
            *family = Some(f);
            true
        }
        Some(v) if *v == f => true,
        Some(_) => {
            warnings.push(k.pos().warning(format!(
                "Address family of virtual server and real server {} don't match - skipping real server (as keepalived does; only tunnelled real servers may differ)",
                rs.addr
            )));
            false
        }
    }
}

/// Same for the sorry server, dropped when its family differs.
/// keepalived: check/check_parser.c `vs_end_handler()` ("Address family of
/// virtual server and sorry server X don't match - skipping sorry
/// server.").
pub(in crate::parse) fn sorry_server_family(
    vs: &mut VirtualServer,
    family: Option<AddressFamily>,
    n: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    let Some(s) = &vs.sorry_server else { return };
    if matches!(s.lvs_method, ForwardingMethod::Tun { .. }) {
        return;
    }
    if family.is_some_and(|f| f != AddressFamily::of(&s.addr)) {
        warnings.push(n.pos().warning(format!(
            "Address family of virtual server and sorry server {} don't match - skipping sorry server (as keepalived does)",
            s.addr
        )));
        vs.sorry_server = None;
    }
}

/// A checker keepalived drops at the end of its block (the real server
/// keeps its other checkers; with none it is never checked).
/// keepalived: check/check_http.c `http_get_check_end()`, check_misc.c
/// `misc_end_handler()`, check_file.c `file_end_handler()`, check_bfd.c
/// `bfd_end_handler()`, check_api.c `check_conn_opts()`.
pub(in crate::parse) fn checker_dropped(n: &Node, why: &str, warnings: &mut Vec<Diagnostic>) {
    warnings.push(n.pos().warning(format!(
        "{}: {why} - ignoring this checker (as keepalived does)",
        n.key()
    )));
}

/// A second `notify_up`/`notify_down`/`quorum_up`/`quorum_down` is ignored:
/// the first one stays. keepalived: check/check_parser.c
/// `notify_up_handler()` ... ("notify_up script already specified -
/// ignoring"). True when this line is to be read.
pub(in crate::parse) fn first_script_kept(
    k: &Node,
    already: bool,
    warnings: &mut Vec<Diagnostic>,
) -> bool {
    if already {
        warnings.push(k.pos().warning(format!(
            "{} script already specified - ignoring this one (as keepalived does)",
            k.key()
        )));
    }
    !already
}

/// keepalived keeps at most 15 characters of a persistence engine name
/// (IP_VS_PENAME_MAXLEN). keepalived: check/check_parser.c
/// `pengine_handler()` ("persistence_name too long, truncating").
pub(in crate::parse) fn persistence_engine_truncated(
    k: &Node,
    mut name: String,
    warnings: &mut Vec<Diagnostic>,
) -> String {
    if name.len() > 15 {
        let mut cut = 15;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
        warnings.push(k.pos().warning(format!(
            "persistence_engine name too long, truncating to '{name}' (as keepalived does)"
        )));
    }
    name
}

/// A real server that is also the sorry server gives it its
/// inhibit_on_failure. keepalived: check/check_data.c
/// `validate_check_config()` ("real server X matches sorry server, but
/// inhibit setting differs, setting/clearing on sorry server").
pub(in crate::parse) fn sorry_server_inhibit_follows_real_server(
    vs: &mut VirtualServer,
    notes: &mut Vec<String>,
) {
    let Some(s) = &mut vs.sorry_server else {
        return;
    };
    if let Some(rs) = vs
        .real_servers
        .iter()
        .find(|rs| rs.addr == s.addr && rs.port == s.port)
    {
        if rs.inhibit_on_failure != s.inhibit {
            notes.push(format!(
                "real server {} matches the sorry server, but inhibit_on_failure differs; {} it on the sorry server (as keepalived does)",
                rs.addr,
                if rs.inhibit_on_failure { "setting" } else { "clearing" }
            ));
            s.inhibit = rs.inhibit_on_failure;
        }
    }
}
