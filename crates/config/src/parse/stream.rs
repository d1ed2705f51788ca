//! The top level read as the tree builder closes each statement, so that a
//! large configuration never exists whole as a tree (keepalived reads line
//! by line, lib/parser.c, and a keepalived issue #2318-size file is about
//! 90,000 statements).
//!
//! The parser reads the top level in two passes ([`Parser::early`]: every
//! `global_defs`, then the script, track-file and group definitions; then
//! [`Parser::late`] for every statement in file order), so that the order of
//! the file does not matter. Streaming keeps exactly that result:
//!
//! * statements are queued until the queue holds more than a budget of
//!   statements (a small configuration is read whole, as before);
//! * then the queue is read with the two passes, and every later statement
//!   is read (and dropped) as it comes;
//! * an early statement after that point (a `global_defs` or a group after
//!   the first big batch of virtual servers) would change what was already
//!   read: the load is then started again without streaming
//!   ([`TopLevel::restart`]), which costs a second read of the files but
//!   gives the same result as the two passes.

use std::sync::Arc;

use super::{acted, Parser};
use crate::reparse::CachedStatement;
use crate::tree::Node;

/// A top-level statement: read from the files, or a `virtual_server`
/// statement taken from the re-parse cache (reparse.rs).
pub(crate) enum Item {
    Node(Node),
    Cached(Arc<CachedStatement>),
}

impl Item {
    pub fn node(&self) -> Option<&Node> {
        match self {
            Item::Node(n) => Some(n),
            Item::Cached(_) => None,
        }
    }
}

/// Statements queued before streaming starts. Enough for every hand-written
/// configuration; about 1 MB of tree.
pub const STREAM_AFTER_STATEMENTS: usize = 4096;

/// The top level, fed one statement at a time.
pub(crate) struct TopLevel {
    pub p: Parser,
    scan: acted::Scan,
    queue: Vec<Item>,
    /// Statements (at every depth) in `queue`.
    queued: usize,
    budget: usize,
    /// The queue has been read; statements are read as they come.
    streaming: bool,
    /// An early statement came after streaming started: the caller must
    /// read the configuration again with [`TopLevel::whole`].
    pub restart: bool,
}

impl TopLevel {
    /// Streams once more than `budget` statements are queued.
    pub fn new(p: Parser, budget: usize) -> Self {
        TopLevel {
            p,
            scan: acted::Scan::default(),
            queue: Vec::new(),
            queued: 0,
            budget,
            streaming: false,
            restart: false,
        }
    }

    /// Never streams: the whole top level is read at the end.
    pub fn whole(p: Parser) -> Self {
        Self::new(p, usize::MAX)
    }

    /// One top-level statement, in file order.
    pub fn push(&mut self, n: Node) {
        if self.restart {
            return;
        }
        if self.streaming {
            if self.p.is_early(n.key()) {
                self.restart = true;
                self.queue = Vec::new();
                return;
            }
            self.p.late(&mut self.scan, n);
            return;
        }
        self.queued = self.queued.saturating_add(statements(&n));
        self.queue.push(Item::Node(n));
        self.after_queued();
    }

    /// A `virtual_server` statement from the re-parse cache, in file order
    /// (never an early statement).
    pub fn push_cached(&mut self, c: Arc<CachedStatement>) {
        if self.restart {
            return;
        }
        if self.streaming {
            self.p.late_cached(&mut self.scan, &c);
            return;
        }
        self.queued = self.queued.saturating_add(c.out.statements);
        self.queue.push(Item::Cached(c));
        self.after_queued();
    }

    fn after_queued(&mut self) {
        if self.queued > self.budget {
            self.read_queue();
            self.streaming = true;
        }
    }

    fn read_queue(&mut self) {
        let queue = std::mem::take(&mut self.queue);
        self.p.early(&queue);
        for item in queue {
            match item {
                Item::Node(n) => self.p.late(&mut self.scan, n),
                Item::Cached(c) => self.p.late_cached(&mut self.scan, &c),
            }
        }
    }

    /// End of input: the parser and the scan of keywords not acted on.
    pub fn finish(mut self) -> (Parser, acted::Scan) {
        if !self.streaming {
            self.read_queue();
        }
        (self.p, self.scan)
    }
}

/// Statements in `n` and its blocks.
pub(crate) fn statements(n: &Node) -> usize {
    1 + n
        .block
        .as_ref()
        .map_or(0, |b| b.nodes.iter().map(statements).sum())
}
