//! Which keywords rkeepalived acts on, and the "parsed but not acted on"
//! warning for those it does not (yet).
//!
//! Every keyword the parser knows ([`super::keywords`]) has one line in
//! [`TABLE`] (a few have one line per block where their status differs).
//! The unit tests below fail when a keyword has no line, and check each
//! claim: an [`Status::Acted`] keyword names the test that observes its
//! effect (the test function must exist in that file, and the file must
//! mention the keyword or its model field), a [`Status::Unobserved`]
//! keyword names the engine source that reads it (and their number may
//! only go down), a [`Status::Via`] keyword names another keyword that is
//! itself acted on.
//!
//! [`scan`] walks the block tree after parsing and warns at every
//! occurrence of a [`Status::NotActedOn`] keyword, in keepalived's own
//! words where it helps: `'lvs_timeouts' is parsed but not acted on by
//! rkeepalived yet (keepalived: sets the IPVS connection timeouts)`.
//! Keywords of the `IGNORED_*` lists ([`Status::Unsupported`]) already
//! warn "not supported by rkeepalived; ignored"; both kinds end up in
//! [`crate::Loaded::not_acted_on`], which `rkeepalived -t` summarises and
//! `--config-test-strict` refuses.
//!
//! Editing: when an engine starts acting on a keyword, change its line to
//! `acted("path/to/test.rs::test_fn")` naming the test that observes the
//! effect, and delete its `EXPECTED` entries in `tests/not_acted_on.rs`
//! (leave the configuration text there as it is: the other positions stay).

use std::collections::BTreeSet;

use super::keywords::{IGNORED_GLOBAL, IGNORED_INSTANCE, IGNORED_TOP};
use crate::diag::Diagnostic;
use crate::tree::Node;

mod table;
use table::TABLE;

/// The block a keyword is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// Any block (the status is the same wherever the keyword appears).
    Any,
    Top,
    Global,
    Instance,
    SyncGroup,
    VirtualServer,
    RealServer,
    Checker,
    /// The top-level `SSL` block.
    Ssl,
    /// An option word on a `virtual_ipaddress` / `static_ipaddress` line.
    Address,
    /// An option word on a `virtual_routes` / `static_routes` line.
    Route,
    /// An option word on a `virtual_rules` / `static_rules` line.
    Rule,
    /// Inside `bfd_instance` (not scanned: the block keyword warns once).
    Bfd,
}

/// What rkeepalived does with a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// An engine acts on it (or its whole effect is keepalived's fix-up,
    /// applied by this crate): `"path/file.rs::test_fn"` observes it.
    Acted(&'static str),
    /// An engine reads it (`"path/file.rs"` of the reader), but no test
    /// observes the effect yet. Not warned; the count may only go down.
    Unobserved(&'static str),
    /// A spelling of, or the global default for, another keyword: acted on
    /// exactly when that one is.
    Via(&'static str),
    /// keepalived 2.2.7 has no runtime effect for it either (it only prints
    /// it in its `-d` dump, or the keyword is newer than 2.2.7).
    NoEffect(&'static str),
    /// Parsed into the model, read by no engine: warned at each occurrence.
    /// (No keyword has this status at the moment; kept for the next one.)
    #[allow(dead_code)]
    NotActedOn {
        /// The issue that implements it.
        companion: &'static str,
        /// What keepalived does with it.
        keepalived: &'static str,
    },
    /// Acted on, but part of keepalived's effect is missing: warned at
    /// each occurrence and listed like [`Status::NotActedOn`].
    Partly {
        /// The issue that implements the rest.
        companion: &'static str,
        /// What keepalived does that rkeepalived does not yet.
        missing: &'static str,
    },
    /// In an `IGNORED_*` list, or otherwise warned "not supported by
    /// rkeepalived" by the parser itself.
    Unsupported,
}

/// The status of `kw` written in `ctx`: its line for that block, else its
/// line for any block (an alias takes the status of what it names);
/// keywords of the `IGNORED_*` lists are unsupported.
pub(crate) fn status(kw: &str, ctx: Ctx) -> Option<Status> {
    let mut kw = kw;
    // Aliases chain at most a few deep; the bound keeps a table loop finite.
    for _ in 0..4 {
        let line = TABLE
            .iter()
            .find(|e| e.kw == kw && e.ctx == ctx && ctx != Ctx::Any)
            .or_else(|| TABLE.iter().find(|e| e.kw == kw && e.ctx == Ctx::Any));
        match line.map(|e| e.status) {
            Some(Status::Via(other)) => kw = other,
            Some(s) => return Some(s),
            None => {
                let ignored = match ctx {
                    Ctx::Top => IGNORED_TOP,
                    Ctx::Global => IGNORED_GLOBAL,
                    Ctx::Instance => IGNORED_INSTANCE,
                    _ => &[],
                };
                return ignored.contains(&kw).then_some(Status::Unsupported);
            }
        }
    }
    None
}

/// The warning for a keyword that is parsed but not acted on.
fn not_acted_warning(tok: &crate::lexer::Token, keepalived: &str) -> Diagnostic {
    tok.pos.warning(format!(
        "'{}' is parsed but not acted on by rkeepalived yet (keepalived: {keepalived})",
        tok.text
    ))
}

fn partly_warning(tok: &crate::lexer::Token, missing: &str) -> Diagnostic {
    tok.pos.warning(format!(
        "'{}' is only partly acted on by rkeepalived yet (not yet: {missing})",
        tok.text
    ))
}

/// What [`scan`] found: one warning per occurrence of a not-acted-on
/// keyword, and every not-acted-on or unsupported keyword seen.
#[derive(Default)]
pub(crate) struct Scan {
    pub warnings: Vec<Diagnostic>,
    pub seen: BTreeSet<String>,
}

/// Walks the blocks the parser reads and records the keywords rkeepalived
/// does not act on. Blocks the parser skips (unknown keywords) are not
/// visited.
impl Scan {
    /// One top-level statement (the parser scans each as it reads it, so
    /// that the statement can be dropped at once).
    pub(crate) fn top_level(&mut self, n: &Node) {
        self.keyword(n, Ctx::Top);
        let ctx = match n.key() {
            "global_defs" => Ctx::Global,
            "vrrp_instance" => Ctx::Instance,
            "vrrp_sync_group" => Ctx::SyncGroup,
            "virtual_server" => Ctx::VirtualServer,
            "SSL" => Ctx::Ssl,
            "static_ipaddress" => Ctx::Address,
            "static_routes" => Ctx::Route,
            "static_rules" => Ctx::Rule,
            _ => return,
        };
        self.block(n, ctx);
    }

    fn keyword(&mut self, n: &Node, ctx: Ctx) {
        self.token(&n.name, ctx);
    }

    fn token(&mut self, tok: &crate::lexer::Token, ctx: Ctx) {
        match status(&tok.text, ctx) {
            Some(Status::NotActedOn { keepalived, .. }) => {
                self.warnings.push(not_acted_warning(tok, keepalived));
                self.seen.insert(tok.text.clone());
            }
            Some(Status::Partly { missing, .. }) => {
                self.warnings.push(partly_warning(tok, missing));
                self.seen.insert(tok.text.clone());
            }
            Some(Status::Unsupported) => {
                self.seen.insert(tok.text.clone());
            }
            _ => {}
        }
    }

    fn block(&mut self, n: &Node, ctx: Ctx) {
        let Some(block) = &n.block else { return };
        for k in &block.nodes {
            match ctx {
                // List lines: the option words after the address or prefix.
                Ctx::Address | Ctx::Route | Ctx::Rule => {
                    // A rule line starts with an option word; a VIP or route
                    // line with the address, prefix or route type.
                    let first = (ctx == Ctx::Rule).then_some(&k.name);
                    for t in first.into_iter().chain(&k.args) {
                        if !t.quoted {
                            self.token(t, ctx);
                        }
                    }
                    continue;
                }
                _ => self.keyword(k, ctx),
            }
            let inner = match (ctx, k.key()) {
                (Ctx::Instance, "virtual_ipaddress" | "virtual_ipaddress_excluded") => Ctx::Address,
                (Ctx::Instance, "virtual_routes") => Ctx::Route,
                (Ctx::Instance, "virtual_rules") => Ctx::Rule,
                (Ctx::VirtualServer, "real_server") => Ctx::RealServer,
                (Ctx::RealServer, c) if c.ends_with("_CHECK") || c.ends_with("_GET") => {
                    Ctx::Checker
                }
                (Ctx::Checker, "url") => Ctx::Checker,
                _ => continue,
            };
            self.block(k, inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::keywords::KNOWN_KEYWORDS;
    use super::table::{todo, Entry};
    use super::*;

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// Every keyword keepalived 2.2.7 installs is known here (acted on,
    /// warned as not acted on, or "not supported by rkeepalived"), so none
    /// is reported as an unknown keyword. The exceptions are keywords that
    /// only exist inside blocks rkeepalived skips as a whole (garp_group,
    /// the garp_group block), which warn once for the block.
    #[test]
    fn every_keepalived_keyword_is_known() {
        const INSIDE_SKIPPED_BLOCKS: &[&str] = &["garp_interval", "gna_interval", "interfaces"];
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keepalived-2.2.7-keywords.txt");
        let text = std::fs::read_to_string(&path).expect("keepalived keyword list");
        let known = every_keyword();
        let missing: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter(|k| !known.contains(k) && !INSIDE_SKIPPED_BLOCKS.contains(k))
            .collect();
        assert!(
            missing.is_empty(),
            "keepalived 2.2.7 keywords we would call unknown: {missing:?}"
        );
    }

    fn every_keyword() -> Vec<&'static str> {
        let mut all: Vec<&str> = KNOWN_KEYWORDS
            .iter()
            .chain(IGNORED_TOP)
            .chain(IGNORED_GLOBAL)
            .chain(IGNORED_INSTANCE)
            .copied()
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Where a keyword's status is looked up by the enumeration: its line
    /// for any block, else its first line.
    fn lines_of(kw: &str) -> Vec<&'static Entry> {
        TABLE.iter().filter(|e| e.kw == kw).collect()
    }

    /// The model field a keyword sets, where its name differs (for the
    /// "the observing test's file mentions it" check).
    fn also_known_as(kw: &str) -> &[&'static str] {
        match kw {
            "lb_algo" => &["lvs_sched", "rr", "wlc"],
            "unicast_peer" => &["unicast_peers"],
            "nodad" => &["Nodad"],
            "brd" => &["Broadcast"],
            "ICMP_CHECK" | "PING_CHECK" => &["Ping"],
            "flag-1" => &["sh-fallback", "mh-fallback", "flag_1"],
            "flag-2" => &["sh-port", "mh-port", "flag_2"],
            "global_defs" | "vrrp_instance" | "interface" | "virtual_router_id" => {
                &["VrrpInstance"]
            }
            "virtual_ipaddress" => &["vips", "VirtualIpAddress"],
            "file" => &["TrackFile"],
            // The top-level block's other spelling.
            "vrrp_track_file" => &["track_file"],
            "init_file" => &["init_value", "init_file", "overwrite"],
            "init_fail" => &["init_fail", "Init"],
            "lvs_flush" => &["flush", "flushing"],
            "ha_suspend" => &["ha_suspend", "HaSuspend"],
            "dont_track_primary" => &["dont_track_primary"],
            "unicast_ttl" => &["ttl"],
            "max_reply_length" | "min_reply_length" => &["reply_length", "max_len", "min_len"],
            "unicast_src_ip" => &["unicast"],
            "notify_fifo" | "vrrp_notify_fifo" => &["notify_fifo", "fifo"],
            "sorry_server_inhibit" => &["inhibit"],
            "nopreempt" => &["nopreempt", "preempt"],
            "preempt" => &["preempt"],
            "weight" => &["weight"],
            "DNS_CHECK" => &["Dns"],
            "HTTP_GET" => &["Http"],
            "MISC_CHECK" | "misc_path" => &["Misc"],
            "misc_timeout" => &["timeout"],
            "SMTP_CHECK" => &["Smtp"],
            "SSL_GET" => &["Ssl", "tls: true"],
            "UDP_CHECK" => &["Udp"],
            "goto" => &["Goto"],
            "lvs_flags" => &["sched_flags"],
            "sorry_server_lvs_method" => &["sorry_server"],
            "vrrp_mcast_group4" | "vrrp_mcast_group6" => &["mcast_group"],
            "notify_fifo_script" | "vrrp_notify_fifo_script" => &["script"],
            "garp_master_refresh" => &["refresh"],
            "garp_master_refresh_repeat" => &["master_refresh_repeat"],
            "garp_lower_prio_repeat" => &["lower_prio_repeat"],
            "garp_master_repeat" => &["repeat"],
            // The lab runs every Debian sample, which write these.
            "lb_kind" | "persistence_timeout" | "protocol" => &["samples"],
            "version" => &["v3"],
            _ => &[],
        }
    }

    /// The enumeration: every keyword the parser knows has a status, and
    /// each claim holds. A keyword added to the parser without a line in
    /// TABLE fails here, so no keyword can be silently ignored.
    #[test]
    fn every_known_keyword_is_acted_on_or_warned() {
        let mut problems = Vec::new();
        for kw in every_keyword() {
            let lines = lines_of(kw);
            let ignored = IGNORED_TOP.contains(&kw)
                || IGNORED_GLOBAL.contains(&kw)
                || IGNORED_INSTANCE.contains(&kw);
            if lines.is_empty() && !ignored {
                problems.push(format!("{kw}: no line in acted::TABLE"));
            }
            for e in lines {
                if let Err(p) = check_claim(kw, e.status) {
                    problems.push(format!("{kw} ({:?}): {p}", e.ctx));
                }
            }
        }
        for e in TABLE {
            if !every_keyword().contains(&e.kw) {
                problems.push(format!(
                    "{}: in acted::TABLE but not known to the parser",
                    e.kw
                ));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The warning a `todo(...)` keyword gets (none is left at the moment).
    #[test]
    fn not_acted_on_warning_names_the_keyword_and_what_keepalived_does() {
        let tok = crate::lexer::Token {
            text: "no_accept".into(),
            pos: crate::diag::Pos {
                file: std::sync::Arc::new(std::path::PathBuf::from("k.conf")),
                line: 4,
                col: 5,
            },
            quoted: false,
        };
        assert_eq!(
            not_acted_warning(&tok, "drops traffic to the VIPs").to_string(),
            "k.conf:4:5: 'no_accept' is parsed but not acted on by rkeepalived yet (keepalived: drops traffic to the VIPs)"
        );
        assert!(matches!(
            todo("#0", "x"),
            Status::NotActedOn {
                companion: "#0",
                keepalived: "x"
            }
        ));
    }

    /// `tests/not_acted_on.rs` writes every not-acted-on keyword and checks
    /// its warning: a new `todo(...)` line needs its case there.
    #[test]
    fn every_not_acted_on_keyword_has_a_warning_case() {
        let cases = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/not_acted_on.rs"),
        )
        .expect("tests/not_acted_on.rs");
        let missing: Vec<&str> = TABLE
            .iter()
            .filter(|e| matches!(e.status, Status::NotActedOn { .. }))
            .map(|e| e.kw)
            .filter(|kw| !cases.contains(&format!("(\"{kw}\", ")))
            .collect();
        assert!(
            missing.is_empty(),
            "no case in tests/not_acted_on.rs: {missing:?}"
        );
    }

    /// Words the block parsers match that are values, not keywords (enum
    /// values, option words inside one keyword's arguments).
    const VALUES: &[&str] = &[
        "1.0",
        "1.0C",
        "1.0c",
        "1.1",
        "AH",
        "BACKUP",
        "DR",
        "MASTER",
        "NAT",
        "PASS",
        "SCTP",
        "TCP",
        "TUN",
        "UDP",
        "allow_if_changes",
        "blackhole",
        "false",
        "boot",
        "csum",
        "gre",
        "gue",
        "id",
        "inet",
        "inet6",
        "inst",
        "ipip",
        "keepalived",
        "kernel",
        "local",
        "maxlen",
        "+",
        "-",
        "multicast",
        "no",
        "off",
        "on",
        "nocsum",
        "nop",
        "port",
        "prohibit",
        "redirect",
        "remcsum",
        "rkeepalived",
        "reverse",
        "noreverse",
        "static",
        "tcp",
        "tcpfin",
        "throw",
        "true",
        "ttl",
        "udp",
        "unicast",
        "unreachable",
        "yes",
    ];

    /// Every word a block parser matches in a `"word" =>` arm (the parser
    /// sources are read) is a known keyword or a value: a keyword added to
    /// a parser without its `KNOWN_KEYWORDS` entry (and so its TABLE line)
    /// fails here.
    #[test]
    fn every_parser_arm_is_a_known_keyword() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/parse");
        let mut files: Vec<PathBuf> = Vec::new();
        for d in [dir.clone(), dir.join("fixup")] {
            for e in std::fs::read_dir(&d).expect("parse dir").flatten() {
                let p = e.path();
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if name.ends_with(".rs") && !["keywords.rs", "acted.rs"].contains(&name) {
                    files.push(p);
                }
            }
        }
        assert!(files.len() >= 8, "{files:?}");
        let known = every_keyword();
        let mut missing = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("read parser source");
            for line in text.lines() {
                let Some((pattern, _)) = line.split_once("=>") else {
                    continue;
                };
                let pattern = pattern.split(" if ").next().unwrap_or_default().trim();
                // Only arms made of string literals: "a" | "b".
                let alts: Vec<&str> = pattern.split('|').map(str::trim).collect();
                if !alts
                    .iter()
                    .all(|a| a.len() >= 2 && a.starts_with('"') && a.ends_with('"'))
                {
                    continue;
                }
                for a in alts {
                    let w = &a[1..a.len() - 1];
                    if !known.contains(&w) && !VALUES.contains(&w) {
                        missing.push(format!("{}: {w}", f.display()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "parser words neither in KNOWN_KEYWORDS nor in VALUES:\n{}",
            missing.join("\n")
        );
    }

    fn check_claim(kw: &str, status: Status) -> Result<(), String> {
        match status {
            Status::Acted(test) => {
                let (file, func) = test
                    .split_once("::")
                    .ok_or_else(|| format!("'{test}' is not FILE::TEST_FN"))?;
                let mut text = std::fs::read_to_string(workspace().join(file))
                    .map_err(|e| format!("{file}: {e}"))?;
                if !text.contains(&format!("fn {func}(")) {
                    return Err(format!("{file} has no fn {func}"));
                }
                // Integration tests write their configs with a shared helper.
                for helper in ["common/mod.rs", "daemon_util/mod.rs"] {
                    let dir = Path::new(file).parent().unwrap_or(Path::new(""));
                    if let Ok(h) = std::fs::read_to_string(workspace().join(dir).join(helper)) {
                        text.push_str(&h);
                    }
                }
                let field = kw.replace('-', "_");
                let names = [kw, field.as_str()];
                let mentioned = names
                    .iter()
                    .chain(also_known_as(kw))
                    .any(|n| text.contains(n));
                if !mentioned {
                    return Err(format!("{file} never mentions '{kw}'"));
                }
                Ok(())
            }
            Status::Unobserved(file) => {
                let text = std::fs::read_to_string(workspace().join(file))
                    .map_err(|e| format!("{file}: {e}"))?;
                let field = kw.replace('-', "_");
                let names = [kw, field.as_str()];
                let mentioned = names
                    .iter()
                    .chain(also_known_as(kw))
                    .any(|n| text.contains(n));
                if mentioned {
                    Ok(())
                } else {
                    Err(format!("{file} never reads '{kw}'"))
                }
            }
            Status::Via(other) => match lines_of(other).first().map(|e| e.status) {
                Some(Status::Via(_)) | None => {
                    Err(format!("via '{other}', which needs a line of its own"))
                }
                Some(_) => Ok(()),
            },
            Status::NotActedOn {
                companion,
                keepalived,
            } => {
                if companion.is_empty() || keepalived.is_empty() {
                    Err("a not-acted-on keyword names its issue and what keepalived does".into())
                } else {
                    Ok(())
                }
            }
            Status::Partly { companion, missing } => {
                if companion.is_empty() || missing.is_empty() {
                    Err("a partly acted-on keyword names its issue and what is missing".into())
                } else {
                    Ok(())
                }
            }
            Status::NoEffect("") => Err("say why".into()),
            Status::NoEffect(_) | Status::Unsupported => Ok(()),
        }
    }

    /// Keywords an engine reads without a test observing the effect: this
    /// number may only go down (name the test with `acted(...)` instead).
    const MAX_UNOBSERVED: usize = 25;

    #[test]
    fn unobserved_keywords_do_not_grow() {
        let unobserved: Vec<&str> = TABLE
            .iter()
            .filter(|e| matches!(e.status, Status::Unobserved(_)))
            .map(|e| e.kw)
            .collect();
        assert!(
            unobserved.len() <= MAX_UNOBSERVED,
            "{} keywords are read by an engine with no test observing them (at most {MAX_UNOBSERVED}): {unobserved:?}",
            unobserved.len()
        );
    }

    #[test]
    fn table_is_sorted_by_keyword() {
        let kws: Vec<&str> = TABLE.iter().map(|e| e.kw).collect();
        let mut sorted = kws.clone();
        sorted.sort();
        assert_eq!(kws, sorted, "keep acted::TABLE sorted by keyword");
    }
}
