//! From the block tree to the typed model: keyword dispatch, value checks,
//! keepalived defaults and inheritance.
//!
//! One module per block family, each with a small builder ([`Block`]):
//! `keyword()` reads one statement, `finish()` applies keepalived's
//! defaults, fix-ups ([`fixup`], one named function per keepalived rule)
//! and checks, and yields the model object.
//!
//! * [`global`] — `global_defs`
//! * [`track`] — `vrrp_script`, `vrrp_track_file`, `vrrp_sync_group` and the
//!   `track_*` reference lists
//! * [`vrrp`] — `vrrp_instance`
//! * [`addresses`], [`routes`] — VIPs, `static_*`, routes and rules
//! * [`lvs`] — `virtual_server_group`, `virtual_server`, `real_server`, `SSL`
//! * [`checkers`] — `TCP_CHECK`, `HTTP_GET`, ... and `url`
//! * [`bfd`] — `bfd_instance`, `track_bfd`, the `BFD_CHECK` name
//!
//! Errors are collected per statement (one bad line does not hide the
//! next). Unknown keywords are warnings, as in keepalived.

use std::time::Duration;

use crate::diag::{Diagnostic, Pos};
use crate::model::*;
use crate::tree::Node;
use crate::values::PResult;

pub(crate) mod acted;
mod addresses;
pub(crate) mod announce;
mod bfd;
mod checkers;
pub(crate) mod fixup;
mod global;
mod identity;
mod keywords;
mod lvs;
mod lvs_read;
mod nftables;
mod routes;
pub(crate) mod stream;
mod track;
mod track_process;
mod vrrp;

use keywords::{ignored, unknown, IGNORED_TOP, MAX_SUGGESTIONS};

/// A block's parser: statements in, one model object (or an error) out.
///
/// Diagnostics go to the [`Parser`] (`p.warnings`, `p.errors`): statements
/// and `finish` both produce them, and unknown keywords share one budget of
/// "did you mean" hints per load.
pub(super) trait Block<'a>: Sized {
    type Output;
    /// One statement of the block.
    fn keyword(&mut self, p: &mut Parser, k: &'a Node) -> PResult<()>;
    /// After the last statement: keepalived's defaults, fix-ups and the
    /// checks against objects defined earlier.
    fn finish(self, p: &mut Parser) -> PResult<Self::Output>;
}

/// Builds a [`Config`] from the tree.
pub struct Parser {
    /// Unknown keywords seen so far (bounds the suggestion work).
    unknown_count: usize,
    /// Where global lvs_sync_daemon was written (for later diagnostics).
    pub lvs_sync_pos: Option<Pos>,
    /// Global smtp_alert or smtp_alert_checker was written.
    smtp_alert_set: bool,
    /// Priority for the next rule written without one (keepalived: 16384 down).
    next_rule_priority: u32,
    pub cfg: Config,
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
    /// The processes that read this configuration (the others' blocks are
    /// skipped unread).
    pub procs: crate::Processes,
    /// What `bfd_instance` blocks leave for later ones (parse/bfd.rs).
    pub(crate) bfd: bfd::BfdState,
    /// With a re-parse cache (reparse.rs): what each top-level
    /// `virtual_server` statement produced, by where it starts.
    pub(crate) record:
        Option<std::collections::HashMap<crate::reparse::SpanKey, crate::reparse::StatementOutput>>,
    /// A cached statement met a parser state it was not read in (the
    /// load is read again without the cache).
    pub(crate) reparse_conflict: bool,
    /// Top-level `virtual_server` statements, and those from the cache.
    pub(crate) vs_statements: usize,
    pub(crate) vs_reused: usize,
}

impl Parser {
    pub fn new() -> Self {
        Parser {
            unknown_count: 0,
            lvs_sync_pos: None,
            smtp_alert_set: false,
            next_rule_priority: 16384,
            cfg: Config::default(),
            warnings: Vec::new(),
            errors: Vec::new(),
            procs: crate::Processes::ALL,
            bfd: bfd::BfdState::default(),
            record: None,
            reparse_conflict: false,
            vs_statements: 0,
            vs_reused: 0,
        }
    }

    fn push_unknown(&mut self, n: &Node, ctx: &str) {
        let with_hint = self.unknown_count < MAX_SUGGESTIONS;
        self.unknown_count += 1;
        self.warnings.push(unknown(n, ctx, with_hint));
    }

    fn run(&mut self, r: PResult<()>) {
        if let Err(d) = r {
            self.errors.push(d);
        }
    }

    /// Feeds every statement of `block` to `b`, one error per failing
    /// statement. True if any statement failed.
    fn feed<'a, B: Block<'a>>(
        &mut self,
        b: &mut B,
        block: impl IntoIterator<Item = &'a Node>,
    ) -> bool {
        let before = self.errors.len();
        for k in block {
            let r = b.keyword(self, k);
            self.run(r);
        }
        self.errors.len() > before
    }

    /// Feeds `block` to `b` and finishes it, unless a statement failed
    /// (already reported; no follow-on errors piled on top): then None.
    fn build<'a, B: Block<'a>>(
        &mut self,
        mut b: B,
        block: &'a [Node],
    ) -> PResult<Option<B::Output>> {
        if self.feed(&mut b, block) {
            return Ok(None);
        }
        b.finish(self).map(Some)
    }

    /// The early statements of the top level: every `global_defs`, then
    /// script, track-file and group definitions, so instances and
    /// checkers see their defaults and weights regardless of the order in
    /// the file. See [`stream::TopLevel`] for the order.
    fn early(&mut self, items: &[stream::Item]) {
        let nodes = || items.iter().filter_map(stream::Item::node);
        let mut g = global::GlobalBuilder::default();
        for n in nodes().filter(|n| n.key() == "global_defs") {
            match n.require_block() {
                Ok(block) => {
                    self.feed(&mut g, block);
                }
                Err(e) => self.errors.push(e),
            }
        }
        let r = g.finish(self);
        self.run(r);
        for n in nodes() {
            let r = match n.key() {
                _ if self.skipped_by_process(n.key()) => Ok(()),
                "vrrp_script" => self.vrrp_script(n),
                "vrrp_track_file" | "track_file" => self.vrrp_track_file(n),
                "vrrp_track_process" => self.vrrp_track_process(n),
                // Groups before virtual servers: keepalived checks a
                // service against its group after the whole file is read
                // (check/check_data.c `validate_check_config()`).
                "virtual_server_group" => self.virtual_server_group(n),
                _ => Ok(()),
            };
            self.run(r);
        }
    }

    /// A statement [`Parser::early`] reads (then the late pass only scans
    /// it).
    fn is_early(&self, key: &str) -> bool {
        matches!(
            key,
            "global_defs"
                | "vrrp_script"
                | "vrrp_track_file"
                | "track_file"
                | "vrrp_track_process"
                | "virtual_server_group"
        ) && (key == "global_defs" || !self.skipped_by_process(key))
    }

    /// One top-level statement in file order, after [`Parser::early`] has
    /// read them all: scanned for keywords rkeepalived does not act on, read
    /// unless early, and dropped.
    fn late(&mut self, scan: &mut acted::Scan, n: Node) {
        if n.key() == "virtual_server" {
            self.vs_statements += 1;
            if self.record.is_some() {
                self.late_recorded(scan, &n);
                return;
            }
        }
        self.late_node(scan, &n);
    }

    /// [`Parser::late`] of a top-level `virtual_server` statement, with
    /// what it produced recorded for the re-parse cache (reparse.rs).
    fn late_recorded(&mut self, scan: &mut acted::Scan, n: &Node) {
        let mut local = acted::Scan::default();
        let (w0, e0, v0, u0) = (
            self.warnings.len(),
            self.errors.len(),
            self.cfg.virtual_servers.len(),
            self.unknown_count,
        );
        self.late_node(&mut local, n);
        let produced = self.cfg.virtual_servers.len().saturating_sub(v0);
        if self.errors.len() == e0 && produced <= 1 {
            let out = crate::reparse::StatementOutput {
                parser_warnings: self.warnings.get(w0..).unwrap_or_default().to_vec(),
                scan_warnings: local.warnings.clone(),
                seen: local.seen.iter().cloned().collect(),
                vs: (produced == 1)
                    .then(|| self.cfg.virtual_servers.get(v0).cloned())
                    .flatten(),
                unknown_at_entry: u0.min(MAX_SUGGESTIONS),
                unknown_added: self.unknown_count.saturating_sub(u0),
                statements: stream::statements(n),
            };
            if let Some(record) = &mut self.record {
                record.insert((n.pos().file.clone(), n.pos().line), out);
            }
        }
        scan.warnings.append(&mut local.warnings);
        scan.seen.append(&mut local.seen);
    }

    /// A top-level `virtual_server` statement from the re-parse cache:
    /// what reading it did, done again.
    pub(crate) fn late_cached(
        &mut self,
        scan: &mut acted::Scan,
        c: &crate::reparse::CachedStatement,
    ) {
        let o = &c.out;
        self.vs_statements += 1;
        self.vs_reused += 1;
        if o.unknown_added > 0 && self.unknown_count.min(MAX_SUGGESTIONS) != o.unknown_at_entry {
            // Its "did you mean" hints would differ.
            self.reparse_conflict = true;
        }
        self.warnings.extend(o.parser_warnings.iter().cloned());
        scan.warnings.extend(o.scan_warnings.iter().cloned());
        scan.seen.extend(o.seen.iter().cloned());
        self.unknown_count += o.unknown_added;
        if let Some(vs) = c.take_vs() {
            self.cfg.virtual_servers.push(vs);
        }
    }

    /// One top-level statement read (see [`Parser::late`]).
    fn late_node(&mut self, scan: &mut acted::Scan, n: &Node) {
        scan.top_level(n);
        let r = match n.key() {
            "global_defs"
            | "vrrp_script"
            | "vrrp_track_file"
            | "track_file"
            | "vrrp_track_process"
            | "virtual_server_group" => Ok(()),
            k if self.skipped_by_process(k) => Ok(()),
            "vrrp_sync_group" => self.sync_group(n),
            "vrrp_instance" => self.vrrp_instance(n),
            "virtual_server" => self.virtual_server(n),
            "static_ipaddress" => self.static_ipaddress(n),
            "static_routes" => self.static_routes(n),
            "static_rules" => self.static_rules(n),
            "SSL" => self.ssl(n),
            // In file order: track_bfd and BFD_CHECK find only the
            // bfd_instance blocks before them, as in keepalived.
            "bfd_instance" => self.bfd_instance(n),
            _ if identity::root_kw(self, n) => Ok(()),
            k if IGNORED_TOP.contains(&k) => {
                self.warnings.push(ignored(n));
                Ok(())
            }
            _ => {
                self.push_unknown(n, "the top level");
                Ok(())
            }
        };
        self.run(r);
    }
}

impl Parser {
    /// A block only the process that is not running reads (see
    /// [`crate::Processes`]).
    fn skipped_by_process(&self, key: &str) -> bool {
        const VRRP_ONLY: &[&str] = &[
            "vrrp_instance",
            "vrrp_sync_group",
            "vrrp_script",
            "vrrp_track_process",
            "static_ipaddress",
            "static_routes",
            "static_rules",
        ];
        const CHECKER_ONLY: &[&str] = &["virtual_server", "virtual_server_group", "SSL"];
        (!self.procs.vrrp && VRRP_ONLY.contains(&key))
            || (!self.procs.checker && CHECKER_ONLY.contains(&key))
    }
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

// ---------------------------------------------------------------------------
// Small helpers shared by the block parsers
// ---------------------------------------------------------------------------

fn origin(pos: &Pos) -> Origin {
    Origin {
        file: pos.file.clone(),
        line: pos.line,
    }
}

/// An error turned into "skipping this WHAT" warning (keepalived skips
/// malformed routes and rules).
fn skipped(mut d: Diagnostic, what: &str) -> Diagnostic {
    d.severity = crate::diag::Severity::Warning;
    d.message = format!("{}; skipping this {what} (as keepalived does)", d.message);
    d
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

pub(crate) use bfd::fmt_ms;

pub fn fmt_duration(d: Duration) -> String {
    let micros = d.subsec_micros();
    if micros == 0 {
        d.as_secs().to_string()
    } else {
        let frac = format!("{micros:06}");
        format!("{}.{}", d.as_secs(), frac.trim_end_matches('0'))
    }
}
