//! keepalived 2.2.7's `-t` messages, classified: what each means for the
//! configuration that caused it. Shared by the corpus comparison
//! (tests/config_corpus.rs) and the printer's round trip through keepalived
//! (crates/config/tests/roundtrip.rs).

use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// About this machine (a missing interface, user or script), not the file.
    HostDependent,
    /// keepalived changes or drops something and runs.
    FixedUpAndRuns,
    /// keepalived cannot run the configuration.
    CannotRun,
}
use Class::*;

/// keepalived 2.2.7 messages (substring, first match wins) and what they
/// mean for the configuration. Sources are keepalived's own files.
pub const KEEPALIVED_MESSAGES: &[(&str, Class)] = &[
    // lib/parser.c null_strvec(): exit(KEEPALIVED_EXIT_CONFIG).
    ("is missing a parameter", CannotRun),
    // vrrp/vrrp.c chk_min_cfg(): vrrp_complete_init() fails, the VRRP
    // process stops (under -t it only returns).
    ("Unknown interface!", CannotRun),
    ("the virtual router id must be set", CannotRun),
    // vrrp/vrrp_daemon.c start_vrrp(): CONFIG_BAD_IF, the VRRP process
    // stops. The test creates every interface it finds in the file.
    (
        "Non-existent interface specified in configuration",
        HostDependent,
    ),
    ("doesn't exist", HostDependent),
    // Script user and script files (lib/notify.c, core/global_parser.c,
    // vrrp/vrrp_parser.c, vrrp/vrrp.c): this machine, not the file.
    ("Unable to set default user", HostDependent),
    ("Error setting global script uid/gid", HostDependent),
    ("Unable to set uid/gid for script", HostDependent),
    ("since not found/accessible", HostDependent),
    ("Disabling notify script", HostDependent),
    // core/global_parser.c `set_script_params_array()`: lib/notify.c
    // `notify_script_init()` failed, which it does when the script user
    // does not exist here.
    ("Invalid startup script", HostDependent),
    // check/check_misc.c `misc_end_handler()`: the script user does not
    // exist here.
    (
        "Failed to set uid/gid for misc checker script",
        HostDependent,
    ),
    ("Invalid shutdown script", HostDependent),
    // core/global_parser.c smtp_server: the name does not resolve here.
    ("Invalid smtp server", HostDependent),
    // This build has no iptables support.
    (
        "iptables not supported, using nftables instead",
        HostDependent,
    ),
    // Parser-level fix-ups: the line or block is skipped.
    ("Unknown keyword", FixedUpAndRuns),
    ("Unexpected '{' - ignoring", FixedUpAndRuns),
    ("Config files missing", FixedUpAndRuns),
    // Values: a default is used, or the value is dropped.
    ("outside range", FixedUpAndRuns),
    ("persistence_timeout invalid", FixedUpAndRuns),
    ("persistence_granularity specified", FixedUpAndRuns),
    ("Invalid bindto address", FixedUpAndRuns),
    ("is invalid", FixedUpAndRuns),
    ("Invalid lvs_scheduler", FixedUpAndRuns),
    ("is deprecated", FixedUpAndRuns),
    ("Please use global lvs_sync_daemon", FixedUpAndRuns),
    ("Truncating auth_pass to 8 characters", FixedUpAndRuns),
    ("no scheduler set, setting default", FixedUpAndRuns),
    ("no protocol set - defaulting to", FixedUpAndRuns),
    ("no forwarding method set, setting default", FixedUpAndRuns),
    // VRRP instance fix-ups (vrrp/vrrp.c vrrp_complete_instance()).
    (
        "will not work with initial state MASTER - clearing",
        FixedUpAndRuns,
    ),
    (
        "is incompatible with AH authentication - clearing",
        FixedUpAndRuns,
    ),
    ("since own interface", FixedUpAndRuns),
    ("No VIP specified; at least one is sensible", FixedUpAndRuns),
    ("must match being address owner", FixedUpAndRuns),
    (
        "Strict mode does not support authentication. Ignoring.",
        FixedUpAndRuns,
    ),
    ("cannot use a loopback interface", FixedUpAndRuns),
    ("unknown authentication type", FixedUpAndRuns),
    ("with weights due to address_owner", FixedUpAndRuns),
    (
        "Cannot specify native_ipv6 with IPv4 addresses",
        FixedUpAndRuns,
    ),
    ("cannot track route", FixedUpAndRuns),
    // vrrp/vrrp.c vrrp_complete_init(): a group without members is freed;
    // the instances run.
    ("has no virtual router(s). removing", FixedUpAndRuns),
    // Static/virtual rules and addresses (vrrp/vrrp_iprule.c,
    // vrrp_ipaddress.c): the bad entry is skipped, a default is used.
    (
        "Rule has no preference specified - setting to",
        FixedUpAndRuns,
    ),
    ("skipping IP", FixedUpAndRuns),
    ("Invalid rule to address", FixedUpAndRuns),
    // track_script naming a vrrp_script that does not exist (or was
    // removed): the reference is dropped, the instance runs.
    ("not found, ignoring", FixedUpAndRuns),
    // A checker without a url is dropped; the real server stays.
    // keepalived logs "ignoring" but cannot run it: check_http.c
    // `http_get_check_end()` reads the checker it has just freed and the
    // checker process crashes and restarts in a loop (seen with 2.2.7), so
    // rkeepalived refuses the config (tests/errors.rs has the case).
    ("checker has no urls specified - ignoring", CannotRun),
    // check/check_data.c: the protocol of a fwmark service is ignored.
    (
        "protocol specified for fwmark - protocol will be ignored",
        FixedUpAndRuns,
    ),
    // vrrp/vrrp_parser.c: a vrrp_script without `script` is removed with
    // its track_script references; the instances run.
    ("No script set for vrrp_script", FixedUpAndRuns),
    // vrrp/vrrp_parser.c `vrrp_end_handler()` and vrrp/vrrp.c
    // `vrrp_complete_instance()`: vmac and unicast fix-ups.
    (
        "unicast with use_vmac requires vmac_xmit_base",
        FixedUpAndRuns,
    ),
    (
        "Cannot use VMAC/ipvlan with unicast and no interface",
        FixedUpAndRuns,
    ),
    (
        "cannot specify MAC address with strict mode",
        FixedUpAndRuns,
    ),
    ("xmit_base is incompatible with strict mode", FixedUpAndRuns),
    (
        "A unicast keyword has been specified without any unicast peers",
        FixedUpAndRuns,
    ),
    (
        "the first IPv6 VIP address must be link local",
        FixedUpAndRuns,
    ),
    // vrrp/vrrp_ipaddress.c `parse_ipaddress()`, vrrp/vrrp_iprule.c
    // `alloc_rule()`, vrrp/vrrp_data.c `alloc_vrrp_unicast_peer()`,
    // check/check_udp.c `udp_check_end_handler()`.
    ("Cannot specify scope for IPv6 addresses", FixedUpAndRuns),
    ("Invalid rule - preference", FixedUpAndRuns),
    ("Invalid rule - goto target", FixedUpAndRuns),
    ("all packets will be discarded", FixedUpAndRuns),
    ("will always fail", FixedUpAndRuns),
    (
        "lvs_sync_daemon_interface has already been specified",
        FixedUpAndRuns,
    ),
    // check/check_data.c `validate_check_config()`, virtual server groups:
    // warnings only.
    ("has port specified - port will be ignored", FixedUpAndRuns),
    ("ports don't match", FixedUpAndRuns),
    // BFD (bfd/bfd_parser.c, bfd/bfd_data.c, vrrp/vrrp_track.c
    // `alloc_track_bfd()`, vrrp/vrrp.c, check/check_bfd.c): a value is
    // ignored, a bfd_instance disabled, a track_bfd entry or a BFD_CHECK
    // dropped; everything else runs. crates/config/tests/bfd.rs compares
    // each with rkeepalived's warning.
    ("Configuration error: BFD instance", FixedUpAndRuns),
    ("max_hops exceeds ttl/hoplimit", FixedUpAndRuns),
    ("has too many decimal places", FixedUpAndRuns),
    // "BFD %s already specified" (a second bfd_instance of that name, in
    // the VRRP and checker processes): the block is skipped.
    ("already specified", FixedUpAndRuns),
    ("BFD name ", FixedUpAndRuns),
    ("duplicate track_bfd", FixedUpAndRuns),
    ("unknown track bfd", FixedUpAndRuns),
    ("specified for track bfd", FixedUpAndRuns),
    ("weight for track bfd", FixedUpAndRuns),
    ("ignoring tracked bfd", FixedUpAndRuns),
    ("Cannot have weighted track bfd", FixedUpAndRuns),
    ("BFD_CHECK - ", FixedUpAndRuns),
    ("No name has been specified for BFD_CHECKER", FixedUpAndRuns),
    // vrrp/vrrp.c, check/check_data.c: a notice, keepalived runs the
    // scripts.
    (
        "SECURITY VIOLATION - scripts are being executed",
        FixedUpAndRuns,
    ),
];

/// The class of a keepalived message (first matching pattern), if known.
pub fn classify(msg: &str) -> Option<Class> {
    KEEPALIVED_MESSAGES
        .iter()
        .find(|(pat, _)| msg.contains(pat))
        .map(|&(_, c)| c)
}

/// keepalived's messages, `(line, message)`, deduplicated (the parent and
/// each child parse the file and say the same things).
pub fn parse(text: &str) -> Vec<(Option<u32>, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for raw in text.lines() {
        if raw.trim().is_empty() {
            continue;
        }
        // "(FILE: Line N) message" or "(Line N) message".
        let parsed = raw.strip_prefix('(').and_then(|rest| {
            let (head, msg) = rest.split_once(") ")?;
            let n: u32 = head.rsplit_once("Line ")?.1.parse().ok()?;
            Some((Some(n), msg.to_string()))
        });
        let item = parsed.unwrap_or((None, raw.to_string()));
        if seen.insert(item.clone()) {
            out.push(item);
        }
    }
    out
}
