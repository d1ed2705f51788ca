//! keepalived.conf-compatible configuration: lexer/parser, typed model,
//! diagnostics with file:line:col (the engine control messages live in
//! `rkeepalived-control`).
//!
//! ```no_run
//! use rkeepalived_config::{load, LoadOptions};
//! let loaded = load("/etc/keepalived/keepalived.conf".as_ref(), &LoadOptions::default())?;
//! for w in &loaded.warnings { eprintln!("warning: {w}"); }
//! # Ok::<(), rkeepalived_config::ConfigError>(())
//! ```

pub mod diag;
mod lexer;
pub mod model;
mod parse;
pub mod print;
pub mod reparse;
mod source;
#[allow(unsafe_code)] // the only unsafe: the spares thread's scheduling class (SAFETY note inside)
mod sys;
mod tree;
mod validate;
mod values;

use std::path::{Path, PathBuf};

pub use diag::{cap_diagnostics, ConfigError, Diagnostic, Severity, MAX_DIAGNOSTICS};
pub use lexer::ALL_CONFIG_SUFFIX;
pub use model::Config;
pub use print::print;
pub use reparse::{ReparseCache, ReparseStats};
pub use source::MAX_CONFIG_BYTES;

/// How to load a configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Config id for `@id` conditional lines (keepalived `-i`). None = the
    /// first label of the host name, as keepalived does.
    pub config_id: Option<String>,
}

impl LoadOptions {
    /// The effective config id.
    pub fn effective_config_id(&self) -> String {
        self.config_id.clone().unwrap_or_else(default_config_id)
    }
}

/// A loaded, validated configuration and its warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
    /// Keywords of this configuration that rkeepalived parses but does not
    /// act on: those warned "parsed but not acted on" and those "not
    /// supported by rkeepalived" (sorted, each once). Every one has a
    /// runtime effect under keepalived; `rkeepalived -t` lists them and
    /// `--config-test-strict` refuses a configuration that has any.
    pub not_acted_on: Vec<String>,
}

/// First label of the host name (`uname -n` up to the first dot).
pub fn default_config_id() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    name.trim()
        .split('.')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Which keepalived processes will read the configuration: keepalived's
/// `-P` runs only the VRRP process and `-C` only the checker, and each
/// process installs the other's keywords inactive, so it skips their blocks
/// unread (core/main.c, `init_vrrp_keywords(false)` /
/// `init_check_keywords(false)`): a broken `vrrp_instance` does not stop
/// `keepalived -C`, nor a broken `virtual_server` `keepalived -P`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processes {
    pub vrrp: bool,
    pub checker: bool,
}

impl Processes {
    /// Both processes (keepalived's default, and what `-t` checks).
    pub const ALL: Processes = Processes {
        vrrp: true,
        checker: true,
    };
}

/// Load `path` (with its includes).
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Loaded, ConfigError> {
    load_for(path, opts, Processes::ALL)
}

/// Load `path` for the given processes only: blocks only the other process
/// reads (VRRP: vrrp_instance, vrrp_sync_group, vrrp_script,
/// vrrp_track_process, static_*; checker: `virtual_server[_group]`, SSL) are
/// skipped unread, as keepalived's processes skip them.
pub fn load_for(path: &Path, opts: &LoadOptions, procs: Processes) -> Result<Loaded, ConfigError> {
    load_checked(path, opts, procs, false)
}

/// [`load_for`], with keepalived's `-e`/`--all-config` when
/// `check_includes`: a skipped include is an error ending in
/// [`ALL_CONFIG_SUFFIX`].
pub fn load_checked(
    path: &Path,
    opts: &LoadOptions,
    procs: Processes,
    check_includes: bool,
) -> Result<Loaded, ConfigError> {
    let id = opts.effective_config_id();
    load_with(
        procs,
        parse::stream::STREAM_AFTER_STATEMENTS,
        |lx| lx.file(path, None),
        &id,
        check_includes,
    )
}

/// Parse configuration text named `name` (for diagnostics); relative
/// includes resolve against the directory part of `name`, else the cwd.
pub fn parse_str(text: &str, name: &str, opts: &LoadOptions) -> Result<Loaded, ConfigError> {
    parse_str_streaming(text, name, opts, parse::stream::STREAM_AFTER_STATEMENTS)
}

/// [`parse_str`], streaming once more than `budget` top-level statements
/// are queued (see `parse/stream.rs`; 0 streams from the first statement).
/// For tests that the streamed and whole reads agree.
#[doc(hidden)]
pub fn parse_str_streaming(
    text: &str,
    name: &str,
    opts: &LoadOptions,
    budget: usize,
) -> Result<Loaded, ConfigError> {
    let id = opts.effective_config_id();
    let name = PathBuf::from(name);
    load_with(
        Processes::ALL,
        budget,
        |lx| lx.text(text, &name),
        &id,
        false,
    )
}

/// One load: `read` feeds the lexer, whose tree builder hands each
/// top-level statement to the parser as it is closed. If streaming had to
/// give up (an early statement after streaming started, see
/// `parse/stream.rs`), the load runs once more reading the whole tree.
fn load_with(
    procs: Processes,
    budget: usize,
    read: impl Fn(&mut lexer::Lexer<'_>),
    id: &str,
    check_includes: bool,
) -> Result<Loaded, ConfigError> {
    load_inner(procs, budget, &read, id, check_includes, Reuse::Off).0
}

/// How a load uses the re-parse cache (reparse.rs).
#[derive(Clone, Copy)]
enum Reuse<'c> {
    /// Neither uses nor builds one.
    Off,
    /// Builds one, using `Some` old one where it can.
    Build(Option<&'c ReparseCache>),
}

/// [`load_with`], with a re-parse cache: the result, the cache for the
/// next load (if this one could make one) and what was reused.
fn load_inner(
    procs: Processes,
    budget: usize,
    read: &dyn Fn(&mut lexer::Lexer<'_>),
    id: &str,
    check_includes: bool,
    reuse: Reuse<'_>,
) -> ReusingLoad {
    let old = match reuse {
        Reuse::Build(old) => old,
        Reuse::Off => None,
    };
    // `use_old`: with the old cache (else building a new one only).
    let attempt = |budget: usize, use_old: bool| {
        let mut lx = lexer::Lexer::new(lexer::LexOptions {
            config_id: id,
            check_includes,
        });
        let mut p = parse::Parser::new();
        p.procs = procs;
        if let Reuse::Build(_) = reuse {
            p.record = Some(std::collections::HashMap::new());
            let old = if use_old { old } else { None };
            lx.reparse = Some(reparse::Session::new(old, id, check_includes, procs));
        }
        lx.tree.sink = Some(parse::stream::TopLevel::new(p, budget));
        read(&mut lx);
        // Unclosed blocks at the end are top-level statements too.
        lx.tree.close_all();
        lx
    };
    let once = |use_old: bool| {
        let lx = attempt(budget, use_old);
        if lx.tree.sink.as_ref().is_some_and(|s| s.restart) {
            drop(lx);
            return attempt(usize::MAX, use_old);
        }
        lx
    };
    let mut stats = ReparseStats::default();
    reparse::take_cloned_count();
    let mut lx = once(true);
    let mut session = lx.reparse.take();
    // The cached statements hold only if this load's rest is the cache's
    // and none met a parser state it was not read in (known once the
    // queued statements are parsed, in `finish`).
    let used = session.as_ref().is_some_and(|s| s.used_cache());
    let mut why = session.as_ref().filter(|_| used).and_then(|s| {
        s.problem
            .or((!s.old_rest_matches())
                .then_some("something besides virtual_server blocks changed"))
    });
    let mut out = None;
    if why.is_none() {
        let parsed = finish(lx);
        if used && parsed.3 {
            why = Some("a cached virtual_server would meet a different parser state");
        } else {
            out = Some(parsed);
        }
    } else {
        drop(lx);
    }
    let (result, p_stats, record, _) = match out {
        Some(out) => out,
        None => {
            stats.fallback = why.map(str::to_string);
            let mut lx = once(false);
            session = lx.reparse.take();
            finish(lx)
        }
    };
    stats.statements = p_stats.0;
    stats.reused = p_stats.1;
    stats.spliced = session.as_ref().map_or(0, |s| s.spliced);
    stats.cloned = reparse::take_cloned_count();
    let cache = match (session, &result) {
        (Some(session), Ok(_)) => session.finish(record.unwrap_or_default()),
        _ => None,
    };
    (result, cache, stats)
}

/// What a load with a re-parse cache gives: the result, the cache to keep
/// for the next load (None if this load cannot make one) and what was
/// reused.
pub type ReusingLoad = (
    Result<Loaded, ConfigError>,
    Option<ReparseCache>,
    ReparseStats,
);

/// [`load_checked`], keeping a [`ReparseCache`] for the next load and
/// using `old` (the previous load's) to skip the `virtual_server` blocks
/// that did not change (see [`reparse`]). Returns the result, the cache
/// to keep (None if this load cannot make one) and what was reused.
///
/// In debug builds, a load that used the cache is read again in full and
/// must give the same configuration (origins included) and diagnostics.
pub fn load_reusing(
    path: &Path,
    opts: &LoadOptions,
    procs: Processes,
    check_includes: bool,
    old: Option<&ReparseCache>,
) -> ReusingLoad {
    let id = opts.effective_config_id();
    let read = |lx: &mut lexer::Lexer<'_>| lx.file(path, None);
    let out = load_inner(
        procs,
        parse::stream::STREAM_AFTER_STATEMENTS,
        &read,
        &id,
        check_includes,
        Reuse::Build(old),
    );
    #[cfg(debug_assertions)]
    if out.2.reused > 0 {
        let full = load_inner(
            procs,
            parse::stream::STREAM_AFTER_STATEMENTS,
            &read,
            &id,
            check_includes,
            Reuse::Off,
        );
        assert_same_load(&out.0, &full.0);
    }
    out
}

/// [`load_reusing`] for configuration text named `name` (tests).
#[doc(hidden)]
pub fn parse_str_reusing(
    text: &str,
    name: &str,
    opts: &LoadOptions,
    budget: usize,
    old: Option<&ReparseCache>,
) -> ReusingLoad {
    let id = opts.effective_config_id();
    let name = PathBuf::from(name);
    let read = |lx: &mut lexer::Lexer<'_>| lx.text(text, &name);
    load_inner(Processes::ALL, budget, &read, &id, false, Reuse::Build(old))
}

/// A cached load and the full one must agree: configuration (its JSON,
/// which has the origins `==` ignores), warnings, keywords not acted on,
/// or the same errors.
#[doc(hidden)]
pub fn assert_same_load(cached: &Result<Loaded, ConfigError>, full: &Result<Loaded, ConfigError>) {
    match (cached, full) {
        (Ok(a), Ok(b)) => {
            assert!(
                a == b,
                "a cached reload's result differs from the full parse's"
            );
            let (ja, jb) = (
                serde_json::to_string(&a.config),
                serde_json::to_string(&b.config),
            );
            assert!(
                ja.ok() == jb.ok(),
                "a cached reload's configuration (origins) differs from the full parse's"
            );
        }
        (Err(a), Err(b)) => assert_eq!(
            a.diagnostics(),
            b.diagnostics(),
            "a cached reload's errors differ from the full parse's"
        ),
        (a, b) => panic!(
            "a cached reload and the full parse disagree: cached {}, full {}",
            a.is_ok(),
            b.is_ok()
        ),
    }
}

/// The result of a load, the parser's (statements, reused) counts, its
/// re-parse record, and whether a cached statement met a parser state it
/// was not read in.
#[allow(clippy::type_complexity)]
fn finish(
    lx: lexer::Lexer<'_>,
) -> (
    Result<Loaded, ConfigError>,
    (usize, usize),
    Option<std::collections::HashMap<reparse::SpanKey, reparse::StatementOutput>>,
    bool,
) {
    let mut warnings = lx.warnings;
    if !lx.errors.is_empty() {
        let mut errors = lx.errors;
        cap_diagnostics(&mut errors, "errors");
        return (Err(ConfigError::Read(errors)), (0, 0), None, false);
    }
    let (nodes, sink, tree_errors) = lx.tree.finish_with_sink();
    let mut top = sink.unwrap_or_else(|| parse::stream::TopLevel::whole(parse::Parser::new()));
    for n in nodes {
        top.push(n);
    }
    let (mut p, acted) = top.finish();
    let counts = (p.vs_statements, p.vs_reused);
    let record = p.record.take();
    let conflict = p.reparse_conflict;
    warnings.extend(p.warnings);
    warnings.extend(acted.warnings);
    let mut errors = tree_errors;
    errors.extend(p.errors);
    if !errors.is_empty() {
        errors.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
        cap_diagnostics(&mut errors, "errors");
        return (Err(ConfigError::Syntax(errors)), counts, None, conflict);
    }
    let mut config = p.cfg;
    // Grown by doubling while parsing: up to half of it spare.
    config.virtual_servers.shrink_to_fit();
    let (errors, more_warnings) = validate::validate(&mut config, p.lvs_sync_pos.as_ref());
    warnings.extend(more_warnings);
    let mut errors = errors;
    if !errors.is_empty() {
        cap_diagnostics(&mut errors, "errors");
        return (Err(ConfigError::Semantic(errors)), counts, None, conflict);
    }
    cap_diagnostics(&mut warnings, "warnings");
    (
        Ok(Loaded {
            config,
            warnings,
            not_acted_on: acted.seen.into_iter().collect(),
        }),
        counts,
        record,
        conflict,
    )
}
