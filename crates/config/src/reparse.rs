//! Re-parsing only what changed on a reload (issue #17 item 1).
//!
//! A load can keep a [`ReparseCache`]: for every top-level
//! `virtual_server` statement (a *span*: its file, first line, line count
//! and a SHA-256 of its lines) what reading it produced — the virtual
//! server, its warnings (lexer, parser and "not acted on" ones, each in
//! order), the "not acted on" keywords it contained and how many unknown
//! keywords it reported — plus one SHA-256 of everything else the load read
//! (the *rest*: every other non-blank line of every file, in order, with a
//! marker where one or more spans were; the names of the files read and
//! the outcome of every include; the config id, `-e` and the processes).
//!
//! The next load with that cache reads the files as always, line by line.
//! At the top level (the block tree has no open block), a line whose first
//! word is `virtual_server` starts a span candidate: the lines up to the
//! one closing its block are gathered by a byte-level scan (`SpanScan`)
//! that gives up on anything it is not sure about (`$`, `\`, a line
//! starting with `@`, `~` or `include`, an unterminated quote, a brace
//! closing before one opened, text after the closing brace, a keyword line
//! without a block, more than [`MAX_SPAN_BYTES`]): such lines are read
//! normally and are part of the rest. A span whose (file, first line, line
//! count, hash) is in the cache is not lexed or parsed: the tree builder
//! takes the cached result as the statement, and the parser replays its
//! warnings and pushes its virtual server at the point where it would have
//! read the statement. Every other span is lexed and parsed as always and
//! checked afterwards (`Session`): it must have made exactly one complete
//! top-level statement with no error, else the load's cache is not kept
//! (and a cached load starts again without the cache).
//!
//! The splice: a load with a cache reads each file whole and keeps its
//! bytes and, for each span, where its lines were (`KeptFile`). The next
//! load compares each file with the kept bytes (common prefix and common
//! suffix, memcmp). A kept span that lies in the common prefix, or in the
//! common suffix when the bytes between hold as many lines in both (and,
//! either way, with the byte before it, so it still starts a line), has the
//! same lines at the same line numbers: the scan would gather the same
//! lines and hash them to the same value, so the lexer takes the cached
//! statement where its first line starts, at the top level, without
//! reading the lines (`Lexer::splice`), and goes on after its last line
//! (`ReparseStats::spliced`). Everything else is read as above, the rest's
//! hash included, so what the splice needs to be right is only that the
//! bytes are the same.
//!
//! Why the result is the full parse's, statement by statement:
//!
//! * Lexing a span depends on its text only: without `$`, `@`, `~SEQ` and
//!   `include` lines no parameter, conditional, repetition or include
//!   applies, quotes do not span lines, and the span starts on a fresh line
//!   at the top level (a pending keyword-only statement before it ends at
//!   its first word, as `StreamBuilder::push_cached` does).
//! * Parsing a `virtual_server` reads, besides its own block: global_defs,
//!   the `virtual_server_group`s, the `vrrp_track_file`s (all read before
//!   any late statement: `parse/stream.rs`), the `bfd_instance`s before it
//!   (in file order), and the count of unknown keywords so far (the "did
//!   you mean" budget). The first four come from statements outside the
//!   spans: the rest's hash is the same, and since spans appear in it as
//!   markers, a `bfd_instance` cannot move across a virtual server without
//!   changing it. The budget is compared when the statement had unknown
//!   keywords (`StatementOutput::unknown_at_entry`).
//! * What a virtual server's reading leaves for later statements is the
//!   virtual server, its warnings and the unknown-keyword count, all
//!   replayed.
//!
//! A load whose rest hash differs from the cache's, or that hits any of the
//! checks above, is read again without the cache. In debug builds every
//! load that used the cache is also read in full and compared
//! ([`crate::load_reusing`]).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::diag::Diagnostic;
use crate::model::{CheckerKind, Origin, VirtualServer};

/// Whether loads make their cache's spares on a background thread
/// ([`set_background_spares`]).
static BACKGROUND_SPARES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns the loads' background spares thread off or on (benchmarks that
/// time the clones, `examples/reparse_time.rs`).
#[doc(hidden)]
pub fn set_background_spares(on: bool) {
    BACKGROUND_SPARES.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// A SHA-256.
pub type Hash = [u8; 32];

/// Bumped when what a cache entry means changes.
const FORMAT: &[u8] = b"rkeepalived reparse cache 1\n";

/// Largest span gathered (bytes of its lines); a larger block is read
/// normally.
pub const MAX_SPAN_BYTES: usize = 4 << 20;

/// Where a span starts: the file as the lexer names it, and its line.
pub(crate) type SpanKey = (Arc<PathBuf>, u32);

/// What reading one top-level `virtual_server` statement produced.
#[derive(Debug, Clone)]
pub(crate) struct StatementOutput {
    pub parser_warnings: Vec<Diagnostic>,
    /// "parsed but not acted on" warnings (`parse/acted.rs`).
    pub scan_warnings: Vec<Diagnostic>,
    /// Keywords not acted on that it contains.
    pub seen: Vec<String>,
    /// The virtual server (None: skipped, e.g. "no real servers").
    pub vs: Option<VirtualServer>,
    /// The unknown-keyword count before it, capped where hints stop
    /// (`keywords::MAX_SUGGESTIONS`): its warnings depend on it only if it
    /// had unknown keywords.
    pub unknown_at_entry: usize,
    pub unknown_added: usize,
    /// Statements in it (the streaming budget, `parse/stream.rs`).
    pub statements: usize,
}

/// One cached span.
#[derive(Debug)]
pub struct CachedStatement {
    hash: Hash,
    lines: usize,
    lexer_warnings: Vec<Diagnostic>,
    pub(crate) out: StatementOutput,
    /// The supervisor's fingerprint of the virtual server as validated
    /// (see [`ReparseCache::fingerprint_slot`]).
    fingerprint: OnceLock<Hash>,
    /// [`has_scripts`] of the virtual server, worked out once: the
    /// fingerprints and the script check of every later reload ask it of
    /// each reused virtual server, and walking 36,544 real servers for it
    /// was most of their time at keepalived issue #2318 size.
    scripts: bool,
    /// A copy of `out.vs` made ahead of time, for the next load that
    /// reuses the statement to take instead of cloning on the reload's
    /// path ([`ReparseCache::prepare_spares`]).
    spare: Mutex<Option<VirtualServer>>,
}

/// What a load keeps for the next one to skip unchanged virtual servers.
pub struct ReparseCache {
    rest: Hash,
    entries: HashMap<SpanKey, Arc<CachedStatement>>,
    /// The bytes of every file read whole, as the lexer names it, and
    /// where its spans were (the splice, see the module docs).
    files: HashMap<PathBuf, KeptFile>,
}

/// A file as a load read it, for the next load to find what changed.
#[derive(Debug, Default)]
pub(crate) struct KeptFile {
    bytes: Vec<u8>,
    spans: Vec<KeptSpan>,
}

/// Where a span's lines were in its file: its first line, and the bytes
/// from that line's start to the end of its last line, `\n` included if
/// there was one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeptSpan {
    pub line: u32,
    pub start: usize,
    pub end: usize,
}

/// For one file read again: the spans whose bytes (and the byte before
/// them) are the same as in the file the cache was made from, at the same
/// line: line -> (start, end) in the new bytes.
pub(crate) type SplicePlan = HashMap<u32, (usize, usize)>;

impl KeptFile {
    pub fn new(bytes: Vec<u8>, spans: Vec<KeptSpan>) -> Self {
        KeptFile { bytes, spans }
    }

    /// The spans of this (old) file that `new` has unchanged at the same
    /// line: every byte of a span and the one before it (so it still starts
    /// a line) lies in the common prefix or the common suffix of the two
    /// files, and for the suffix the bytes between hold as many lines in
    /// both (so no line number moved).
    pub fn plan(&self, new: &[u8]) -> SplicePlan {
        let old = &self.bytes[..];
        let prefix = common_prefix(old, new);
        let max_suffix = old.len().min(new.len()) - prefix;
        let suffix = common_suffix(old, new).min(max_suffix);
        let (old_mid_end, new_mid_end) = (old.len() - suffix, new.len() - suffix);
        let same_lines = memchr::memchr_iter(b'\n', &old[prefix..old_mid_end]).count()
            == memchr::memchr_iter(b'\n', &new[prefix..new_mid_end]).count();
        let identical = old.len() == new.len() && prefix == old.len();
        let mut plan = SplicePlan::with_capacity(self.spans.len());
        for s in &self.spans {
            // A last line without its `\n` may go on in the new file
            // unless the files are the same.
            let whole = s.end > s.start && (old[s.end - 1] == b'\n' || identical);
            if s.end <= prefix && whole {
                plan.insert(s.line, (s.start, s.end));
            } else if same_lines && s.start > old_mid_end {
                let shift = |x: usize| x - old_mid_end + new_mid_end;
                plan.insert(s.line, (shift(s.start), shift(s.end)));
            }
        }
        plan
    }
}

/// How many bytes `a` and `b` share at the start (memcmp by blocks).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 4096;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[i..i + BLOCK] == b[i..i + BLOCK] {
        i += BLOCK;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// How many bytes `a` and `b` share at the end.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 4096;
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut i = 0;
    while i + BLOCK <= n && a[n - i - BLOCK..n - i] == b[n - i - BLOCK..n - i] {
        i += BLOCK;
    }
    while i < n && a[n - i - 1] == b[n - i - 1] {
        i += 1;
    }
    i
}

impl std::fmt::Debug for ReparseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReparseCache")
            .field("entries", &self.entries.len())
            .field("files", &self.files.len())
            .finish()
    }
}

impl ReparseCache {
    /// Cached virtual_server statements.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Makes, for every cached virtual server that has none, the copy the
    /// next load that reuses it takes instead of cloning it (at keepalived
    /// issue #2318's size the 2,283 clones were most of a spliced reload's
    /// parse). A load does this itself on a background thread at idle
    /// priority once it has made its cache; this waits for none of it.
    /// Memory: one more copy of the cached virtual servers.
    pub fn prepare_spares(&self) {
        for e in self.entries.values() {
            e.prepare_spare();
        }
    }

    /// [`Self::prepare_spares`] on a thread of its own at idle priority,
    /// holding the statements weakly: a cache dropped meanwhile is not
    /// kept alive, and a load that comes first clones what is missing.
    fn spares_in_background(&self) {
        if !BACKGROUND_SPARES.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let todo: Vec<Weak<CachedStatement>> = self
            .entries
            .values()
            .filter(|e| e.out.vs.is_some())
            .map(Arc::downgrade)
            .collect();
        if todo.is_empty() {
            return;
        }
        // No thread (resources): the next load clones, as without spares.
        let _ = std::thread::Builder::new()
            .name("reparse-spares".into())
            .spawn(move || {
                crate::sys::idle_priority();
                for w in todo {
                    if let Some(e) = w.upgrade() {
                        e.prepare_spare();
                    }
                }
            });
    }

    /// Where to keep (or find) the fingerprint of `vs`, a virtual server of
    /// the configuration this cache was built with, after validation:
    /// only for a virtual server read from a cached statement and without
    /// scripts. Validation changes a virtual server only by its group
    /// (part of the rest, the same for every load that reuses the
    /// statement), but the script check after the load
    /// (rkeepalived_script `secure_config`) depends on the files' modes, so
    /// one with scripts is fingerprinted again each time.
    pub fn fingerprint_slot(&self, vs: &VirtualServer) -> Option<&OnceLock<Hash>> {
        let e = self.script_free_entry(vs)?;
        Some(&e.fingerprint)
    }

    /// Whether `vs`, a virtual server of the configuration this cache was
    /// built with, is known to have no script ([`has_scripts`] false),
    /// without walking its real servers: then the script check has nothing
    /// to do in it (rkeepalived_script `secure_config_skipping`).
    pub fn script_free(&self, vs: &VirtualServer) -> bool {
        self.script_free_entry(vs).is_some()
    }

    fn script_free_entry(&self, vs: &VirtualServer) -> Option<&CachedStatement> {
        let e = self
            .entries
            .get(&(vs.origin.file.clone(), vs.origin.line))?;
        let cached = e.out.vs.as_ref()?;
        debug_assert_eq!(e.scripts, has_scripts(cached));
        (same_origin(&cached.origin, &vs.origin) && !e.scripts).then_some(&**e)
    }
}

fn same_origin(a: &Origin, b: &Origin) -> bool {
    a.line == b.line && a.file == b.file
}

/// Whether the script check may change `vs`.
pub fn has_scripts(vs: &VirtualServer) -> bool {
    vs.quorum_up.is_some()
        || vs.quorum_down.is_some()
        || vs.real_servers.iter().any(|rs| {
            rs.notify_up.is_some()
                || rs.notify_down.is_some()
                || rs
                    .checkers
                    .iter()
                    .any(|c| matches!(c.kind, CheckerKind::Misc(_)))
        })
}

thread_local! {
    /// Cached virtual servers this thread's load cloned because no spare
    /// was ready ([`ReparseStats::cloned`]; a load runs on one thread).
    static CLONED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Resets this thread's clone count (at the start of a load) and returns
/// the previous value.
pub(crate) fn take_cloned_count() -> usize {
    CLONED.with(|c| c.replace(0))
}

/// How much a load could reuse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReparseStats {
    /// Top-level `virtual_server` statements read.
    pub statements: usize,
    /// Of those, taken from the cache.
    pub reused: usize,
    /// Why the cache was not used (or dropped after a first attempt).
    pub fallback: Option<String>,
    /// Of the reused ones, taken without reading their lines at all (the
    /// splice: their bytes are unchanged since the cache's load).
    pub spliced: usize,
    /// Of the reused ones, cloned from the cache because their copy made
    /// ahead (the spare) was not ready: the background thread had not run
    /// yet. Each is a clone on the reload's path.
    pub cloned: usize,
}

impl ReparseStats {
    /// Statements lexed and parsed.
    pub fn reparsed(&self) -> usize {
        self.statements - self.reused.min(self.statements)
    }
}

/// A span lexed and parsed in full, for the next cache.
pub(crate) struct SpanRecord {
    key: SpanKey,
    hash: Hash,
    lines: usize,
    lexer_warnings: Vec<Diagnostic>,
}

/// The reparse state of one load attempt (held by the lexer).
pub(crate) struct Session<'c> {
    old: Option<&'c ReparseCache>,
    rest: ring::digest::Context,
    last_was_span: bool,
    keys: HashSet<SpanKey>,
    spans: Vec<SpanRecord>,
    hits: Vec<(SpanKey, Arc<CachedStatement>)>,
    /// Files read whole, for the next load's splice.
    files: HashMap<PathBuf, KeptFile>,
    /// Spans taken by the splice.
    pub spliced: usize,
    /// Why this load cannot keep a cache (or, with an old cache, must be
    /// read again without it).
    pub problem: Option<&'static str>,
}

impl<'c> Session<'c> {
    pub fn new(
        old: Option<&'c ReparseCache>,
        config_id: &str,
        check_includes: bool,
        procs: crate::Processes,
    ) -> Self {
        let mut rest = ring::digest::Context::new(&ring::digest::SHA256);
        rest.update(FORMAT);
        rest.update(config_id.as_bytes());
        rest.update(&[
            0,
            u8::from(check_includes),
            u8::from(procs.vrrp),
            u8::from(procs.checker),
        ]);
        Session {
            old,
            rest,
            last_was_span: false,
            keys: HashSet::new(),
            spans: Vec::new(),
            hits: Vec::new(),
            files: HashMap::new(),
            spliced: 0,
            problem: None,
        }
    }

    /// Something the lexer did outside the spans (a file opened, an
    /// include that failed...).
    pub fn event(&mut self, what: &str) {
        self.rest.update(b"\x00event ");
        self.rest.update(what.as_bytes());
        self.rest.update(b"\n");
        self.last_was_span = false;
    }

    /// A line read outside the spans. Lines with nothing but blanks and a
    /// comment have no effect (`Lexer::line`) and are left out, so that
    /// blank lines between virtual servers do not separate them.
    pub fn other_line(&mut self, raw: &str) {
        if crate::lexer::strip_comment(raw).trim().is_empty() {
            return;
        }
        self.raw_line(raw);
    }

    /// A line outside the spans that counts whatever it holds (the
    /// continuation lines of a `$NAME= \` definition).
    pub fn raw_line(&mut self, raw: &str) {
        self.rest.update(b"\x00line ");
        self.rest.update(raw.as_bytes());
        self.rest.update(b"\n");
        self.last_was_span = false;
    }

    /// A span at `key`: the cached statement for it if there is one.
    fn span(&mut self, key: &SpanKey, hash: &Hash, lines: usize) -> Option<Arc<CachedStatement>> {
        if !self.last_was_span {
            self.rest.update(b"\x00spans\n");
            self.last_was_span = true;
        }
        if !self.keys.insert(key.clone()) {
            // The same file read twice: one key, two statements.
            self.problem.get_or_insert("a file is read twice");
            return None;
        }
        let e = self.old?.entries.get(key)?;
        (e.hash == *hash && e.lines == lines).then(|| e.clone())
    }

    pub fn used_cache(&self) -> bool {
        !self.hits.is_empty()
    }

    /// The rest's hash so far.
    fn rest_hash(&self) -> Hash {
        let mut h = [0u8; 32];
        h.copy_from_slice(self.rest.clone().finish().as_ref());
        h
    }

    /// Whether the old cache's rest is this load's (at its end).
    pub fn old_rest_matches(&self) -> bool {
        self.old.is_some_and(|o| o.rest == self.rest_hash())
    }

    /// End of the load: the cache for the next load from this load's spans
    /// and the parser's `outputs` (None if this load cannot make one).
    pub fn finish(self, mut outputs: HashMap<SpanKey, StatementOutput>) -> Option<ReparseCache> {
        let rest = self.rest_hash();
        if self.problem.is_some() {
            return None;
        }
        let mut entries: HashMap<SpanKey, Arc<CachedStatement>> =
            HashMap::with_capacity(self.hits.len() + self.spans.len());
        for (k, e) in self.hits {
            entries.insert(k, e);
        }
        for s in self.spans {
            let Some(out) = outputs.remove(&s.key) else {
                continue;
            };
            entries.insert(
                s.key,
                Arc::new(CachedStatement {
                    hash: s.hash,
                    lines: s.lines,
                    lexer_warnings: s.lexer_warnings,
                    scripts: out.vs.as_ref().is_some_and(has_scripts),
                    out,
                    fingerprint: OnceLock::new(),
                    spare: Mutex::new(None),
                }),
            );
        }
        let cache = ReparseCache {
            rest,
            entries,
            files: self.files,
        };
        cache.spares_in_background();
        Some(cache)
    }
}

/// Gathers the lines of a span candidate (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SpanScan {
    depth: usize,
    opened: bool,
    bytes: usize,
    lines: usize,
}

/// What [`SpanScan::line`] decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The block is still open: the next line belongs to the span.
    More,
    /// This line closes the span.
    End,
    /// Not a span: read these lines normally.
    GiveUp,
}

impl SpanScan {
    /// Whether `raw` starts a span candidate: `virtual_server` as its first
    /// word.
    pub fn starts(raw: &str) -> bool {
        let t = crate::lexer::strip_comment(raw).trim_start();
        t.strip_prefix("virtual_server")
            .is_some_and(|r| r.is_empty() || r.starts_with(char::is_whitespace))
    }

    pub fn new() -> Self {
        SpanScan {
            depth: 0,
            opened: false,
            bytes: 0,
            lines: 0,
        }
    }

    /// The next line of the candidate.
    ///
    /// Every line of every `virtual_server` block passes here on each
    /// reload (5.7 MB at keepalived issue #2318's size, issue #17 item 1):
    /// an ASCII line is looked at in one pass over its bytes, with the
    /// outcome of [`Self::line_reference`] (debug builds check it).
    pub fn line(&mut self, raw: &str) -> Step {
        if !raw.is_ascii() {
            return self.line_reference(raw);
        }
        #[cfg(debug_assertions)]
        let mut reference = self.clone();
        let step = self.line_ascii(raw);
        #[cfg(debug_assertions)]
        {
            let want = reference.line_reference(raw);
            if want != Step::GiveUp {
                assert_eq!(step, want, "span scan of {raw:?}");
                assert_eq!(*self, reference, "span scan state after {raw:?}");
            } else {
                assert_eq!(step, Step::GiveUp, "span scan of {raw:?}");
            }
        }
        step
    }

    /// [`Self::line`] for an ASCII line.
    fn line_ascii(&mut self, raw: &str) -> Step {
        self.bytes += raw.len() + 1;
        self.lines += 1;
        if self.bytes > MAX_SPAN_BYTES {
            return Step::GiveUp;
        }
        let opened_before = self.opened;
        let mut quote: Option<u8> = None;
        // The first byte that is not blank (before the comment), and
        // whether one came after the block closed.
        let mut first: Option<u8> = None;
        let mut closed = false;
        let mut in_comment = false;
        for &c in raw.as_bytes() {
            // Anywhere in the line, comment included: give up.
            if c == b'$' || c == b'\\' {
                return Step::GiveUp;
            }
            if in_comment {
                continue;
            }
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                continue;
            }
            if c == b'#' || c == b'!' {
                // strip_comment's cut (no escapes here: no '\\').
                in_comment = true;
                continue;
            }
            // What `str::trim` takes away, in ASCII (with VT, unlike
            // `u8::is_ascii_whitespace`).
            if matches!(c, b' ' | b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r') {
                continue;
            }
            if first.is_none() {
                first = Some(c);
            }
            if closed {
                // Text after the block closed.
                return Step::GiveUp;
            }
            match c {
                b'"' | b'\'' => quote = Some(c),
                b'{' | b'}' => {
                    let Some(d) = self.brace(c) else {
                        return Step::GiveUp;
                    };
                    closed = d == 0;
                }
                _ => {}
            }
        }
        match first {
            Some(b'@' | b'~') => return Step::GiveUp,
            // "include" holds no comment or quote character: the stripped
            // line starts with it when the line does.
            Some(b'i') if raw.trim_start().starts_with("include") => return Step::GiveUp,
            Some(f) if !opened_before && self.lines > 1 && f != b'{' => return Step::GiveUp,
            _ => {}
        }
        if closed {
            Step::End
        } else if quote.is_some() {
            Step::GiveUp
        } else {
            Step::More
        }
    }

    /// One brace outside quotes (`{` or `}`), for both scans: the depth
    /// after it, or None for a `}` with no block open.
    fn brace(&mut self, c: u8) -> Option<usize> {
        if c == b'{' {
            self.depth += 1;
            self.opened = true;
        } else {
            self.depth = self.depth.checked_sub(1)?;
        }
        Some(self.depth)
    }

    /// [`Self::line`] step by step (the reference; any line with a
    /// non-ASCII byte, whose blanks `trim` knows better).
    fn line_reference(&mut self, raw: &str) -> Step {
        self.bytes += raw.len() + 1;
        self.lines += 1;
        if self.bytes > MAX_SPAN_BYTES || raw.bytes().any(|b| b == b'$' || b == b'\\') {
            return Step::GiveUp;
        }
        let s = crate::lexer::strip_comment(raw);
        let t = s.trim_start();
        if t.starts_with(['@', '~']) || t.starts_with("include") {
            return Step::GiveUp;
        }
        // Before the block opens only the keyword line, blank lines and a
        // line starting with '{' may come (else the statement has no block).
        if !self.opened && self.lines > 1 && !t.is_empty() && !t.starts_with('{') {
            return Step::GiveUp;
        }
        let mut quote: Option<u8> = None;
        for (i, &c) in s.as_bytes().iter().enumerate() {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                b'"' | b'\'' => quote = Some(c),
                b'{' => {
                    self.brace(c);
                }
                b'}' => {
                    let Some(d) = self.brace(c) else {
                        return Step::GiveUp;
                    };
                    if d == 0 {
                        return if s[i + 1..].trim().is_empty() {
                            Step::End
                        } else {
                            Step::GiveUp
                        };
                    }
                }
                _ => {}
            }
        }
        if quote.is_some() {
            return Step::GiveUp;
        }
        Step::More
    }
}

/// SHA-256 of a span's lines.
pub(crate) fn span_hash<S: AsRef<str>>(lines: &[S]) -> Hash {
    let mut c = ring::digest::Context::new(&ring::digest::SHA256);
    for l in lines {
        c.update(l.as_ref().as_bytes());
        c.update(b"\n");
    }
    let mut h = [0u8; 32];
    h.copy_from_slice(c.finish().as_ref());
    h
}

impl Session<'_> {
    /// A span gathered by the lexer: the cached statement to use, if any.
    pub fn lookup(
        &mut self,
        key: &SpanKey,
        hash: &Hash,
        lines: usize,
    ) -> Option<Arc<CachedStatement>> {
        self.span(key, hash, lines)
    }

    /// The splice plan for file `name` read again as `bytes` (empty without
    /// an old cache that read it whole).
    pub fn plan(&self, name: &std::path::Path, bytes: &[u8]) -> SplicePlan {
        self.old
            .and_then(|o| o.files.get(name))
            .map(|f| f.plan(bytes))
            .unwrap_or_default()
    }

    /// The old cache's statement at `key`, for a span the splice found
    /// unchanged.
    pub fn old_entry(&self, key: &SpanKey) -> Option<Arc<CachedStatement>> {
        self.old?.entries.get(key).cloned()
    }

    /// A file read whole, for the next load. A file read twice keeps no
    /// spans (its spans' keys are not unique: `span` refuses the cache).
    pub fn keep_file(&mut self, name: PathBuf, file: KeptFile) {
        self.files.insert(name, file);
    }

    /// A cached statement was used for `key`.
    pub fn hit(&mut self, key: SpanKey, e: Arc<CachedStatement>) {
        self.hits.push((key, e));
    }

    /// A span lexed in full; `ok`: it made exactly one complete top-level
    /// statement without error.
    pub fn lexed(
        &mut self,
        key: SpanKey,
        hash: Hash,
        lines: usize,
        lexer_warnings: Vec<Diagnostic>,
        ok: bool,
    ) {
        if !ok {
            self.problem
                .get_or_insert("a virtual_server block that is not one whole statement");
            return;
        }
        self.spans.push(SpanRecord {
            key,
            hash,
            lines,
            lexer_warnings,
        });
    }
}

impl CachedStatement {
    /// The virtual server for a load that reuses this statement: the spare
    /// if one is ready, else a clone.
    pub(crate) fn take_vs(&self) -> Option<VirtualServer> {
        let vs = self.out.vs.as_ref()?;
        // `try_lock`: the idle-priority thread may hold it and not run for
        // a while; then this load clones.
        let spare = self.spare.try_lock().ok().and_then(|mut s| s.take());
        Some(spare.unwrap_or_else(|| {
            CLONED.with(|c| c.set(c.get() + 1));
            vs.clone()
        }))
    }

    fn prepare_spare(&self) {
        let Some(vs) = &self.out.vs else {
            return;
        };
        let ready = |s: &Mutex<Option<VirtualServer>>| s.lock().map_or(true, |s| s.is_some());
        if ready(&self.spare) {
            return;
        }
        // Cloned outside the lock: a load taking it meanwhile is not held up.
        let copy = vs.clone();
        if let Ok(mut s) = self.spare.lock() {
            s.get_or_insert(copy);
        }
    }

    pub(crate) fn lexer_warnings(&self) -> &[Diagnostic] {
        &self.lexer_warnings
    }

    pub(crate) fn hash(&self) -> &Hash {
        &self.hash
    }

    pub(crate) fn lines(&self) -> usize {
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(lines: &[&str]) -> Vec<Step> {
        let mut s = SpanScan::new();
        lines.iter().map(|l| s.line(l)).collect()
    }

    /// The block-wise common prefix and suffix are the byte-wise ones.
    #[test]
    fn common_prefix_and_suffix() {
        let naive_prefix = |a: &[u8], b: &[u8]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let naive_suffix = |a: &[u8], b: &[u8]| {
            a.iter()
                .rev()
                .zip(b.iter().rev())
                .take_while(|(x, y)| x == y)
                .count()
        };
        let base: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for &(at, len, grow) in &[
            (0, 1, 0),
            (4095, 1, 0),
            (4096, 2, 3),
            (8191, 0, 5),
            (19_999, 1, 0),
            (10_000, 0, 0),
            (12_345, 100, 4096),
        ] {
            let mut b = base.clone();
            let end = (at + len).min(b.len());
            b.splice(at..end, std::iter::repeat_n(0xEE, len + grow));
            assert_eq!(common_prefix(&base, &b), naive_prefix(&base, &b), "{at}");
            assert_eq!(common_suffix(&base, &b), naive_suffix(&base, &b), "{at}");
        }
        assert_eq!(common_prefix(&base, &base[..5000]), 5000);
        assert_eq!(common_suffix(&base, &base[15_000..]), 5000);
    }

    #[test]
    fn span_candidates_start_with_the_keyword() {
        assert!(SpanScan::starts("virtual_server 192.0.2.1 80 {"));
        assert!(SpanScan::starts("  virtual_server"));
        assert!(!SpanScan::starts("virtual_server_group g {"));
        assert!(!SpanScan::starts("# virtual_server 192.0.2.1 80 {"));
        assert!(!SpanScan::starts("@id virtual_server 192.0.2.1 80 {"));
    }

    #[test]
    fn spans_end_where_the_block_closes() {
        use Step::*;
        assert_eq!(
            scan(&["virtual_server a 1 {", " x { # }", " }", "} # c"]),
            [More, More, More, End]
        );
        assert_eq!(
            scan(&["virtual_server a 1", "", "{", "}"]),
            [More, More, More, End]
        );
        assert_eq!(scan(&["virtual_server a 1 { x \"}\" }"]), [End]);
        // Unsure: give up.
        assert_eq!(scan(&["virtual_server a 1", "x"]), [More, GiveUp]);
        assert_eq!(scan(&["virtual_server a 1 {", "} y"]), [More, GiveUp]);
        assert_eq!(scan(&["virtual_server a 1 {", " w $X"]), [More, GiveUp]);
        assert_eq!(scan(&["virtual_server a 1 {", "@id w 1"]), [More, GiveUp]);
        assert_eq!(
            scan(&["virtual_server a 1 {", " include x"]),
            [More, GiveUp]
        );
        assert_eq!(scan(&["virtual_server a 1 {", " w \"x"]), [More, GiveUp]);
        assert_eq!(scan(&["virtual_server a 1 {", " w a\\{"]), [More, GiveUp]);
        assert_eq!(scan(&["virtual_server a 1 }"]), [GiveUp]);
        assert_eq!(
            scan(&["virtual_server a 1 { # }", " x '#' \"!\" {", "}}!{"]),
            [More, More, End]
        );
        assert_eq!(scan(&["virtual_server a 1 {", "\x0B}\x0B"]), [More, End]);
        assert_eq!(scan(&["virtual_server a 1 {", "} # $x"]), [More, GiveUp]);
    }

    /// The one-pass scan of ASCII lines decides as the reference, from
    /// every kind of state, for every short line over the characters it
    /// looks at.
    #[test]
    fn the_ascii_scan_is_the_reference() {
        let alphabet = [
            "{", "}", "\"", "'", "#", "!", " ", "a", "@", "~", "$", "\\", "\x0B", "include",
        ];
        let states = {
            let fresh = SpanScan::new();
            let mut keyword = SpanScan::new();
            keyword.line("virtual_server a 1");
            let mut open = SpanScan::new();
            open.line("virtual_server a 1 {");
            let mut deep = open.clone();
            deep.line(" x {");
            [fresh, keyword, open, deep]
        };
        let mut line = String::new();
        let n = alphabet.len();
        for len in 0..=4u32 {
            for code in 0..n.pow(len) {
                line.clear();
                let mut c = code;
                for _ in 0..len {
                    line.push_str(alphabet[c % n]);
                    c /= n;
                }
                for st in &states {
                    let (mut a, mut b) = (st.clone(), st.clone());
                    let (sa, sb) = (a.line_ascii(&line), b.line_reference(&line));
                    assert_eq!(sa, sb, "{line:?} from {st:?}");
                    if sb != Step::GiveUp {
                        assert_eq!(a, b, "{line:?} from {st:?}");
                    }
                }
            }
        }
    }
}
