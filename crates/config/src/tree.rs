//! Block structure: `keyword args... [{ statements }]`, one statement per
//! line; `{` may follow on the next line, `}` may share a line with
//! statements (`group { VI_1 VI_2 }`).

use crate::diag::{Diagnostic, Pos};
use crate::lexer::{Tok, Token};

/// Nesting limit for blocks (keepalived's deepest real nesting is ~5).
pub const MAX_BLOCK_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: Token,
    pub args: Vec<Token>,
    pub block: Option<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub open: Pos,
    pub nodes: Vec<Node>,
}

impl Node {
    /// Position of the keyword.
    pub fn pos(&self) -> &Pos {
        &self.name.pos
    }

    /// Keyword text.
    pub fn key(&self) -> &str {
        &self.name.text
    }

    /// Every word in the block (names and arguments), for list blocks such
    /// as `group { A B }` or `notification_email { a@b c@d }`.
    pub fn block_words(&self) -> Vec<&Token> {
        let mut out = Vec::new();
        if let Some(b) = &self.block {
            for n in &b.nodes {
                out.push(&n.name);
                out.extend(n.args.iter());
            }
        }
        out
    }
}

/// Builds the tree from tokens pushed one at a time, as the lexer produces
/// them, so that the whole file's token list never exists at once (a
/// keepalived issue #2318-size configuration has about a million tokens;
/// keepalived itself parses line by line, lib/parser.c).
///
/// A statement is `keyword args...`, ended by the end of its line or by a
/// `}`; a `{` on the same line, or first on the next line, opens its block.
#[derive(Default)]
pub struct StreamBuilder {
    /// Open blocks, innermost last; the bottom frame is the top level.
    frames: Vec<Frame>,
    /// The statement being read: its keyword and arguments so far, and
    /// whether its line has ended (then only a `{` can still join it).
    pending: Option<(Token, Vec<Token>, bool)>,
    /// Inside a skipped block: how deep, and where it opened.
    skipping: Option<(usize, Pos)>,
    pub errors: Vec<Diagnostic>,
    /// Where finished top-level statements go when set (else they are
    /// kept and returned by [`StreamBuilder::finish`]).
    pub sink: Option<crate::parse::stream::TopLevel>,
    /// Top-level statements finished so far (reparse.rs checks that a
    /// span made exactly one).
    pub top_emitted: usize,
}

/// A block being read: the statement that opened it, and its statements.
struct Frame {
    header: Option<(Token, Vec<Token>, Pos)>,
    nodes: Vec<Node>,
}

impl StreamBuilder {
    pub fn new() -> Self {
        StreamBuilder {
            frames: vec![Frame {
                header: None,
                nodes: Vec::new(),
            }],
            ..Default::default()
        }
    }

    /// Depth of the statements now being read (0 at the top level).
    fn depth(&self) -> usize {
        self.frames.len().saturating_sub(1)
    }

    /// A finished statement of the innermost open block (or of the top
    /// level, which goes to the sink if there is one).
    fn emit(&mut self, node: Node) {
        if self.frames.len() <= 1 {
            self.top_emitted += 1;
            if let Some(sink) = &mut self.sink {
                sink.push(node);
                return;
            }
        }
        self.top_nodes().push(node);
    }

    fn top_nodes(&mut self) -> &mut Vec<Node> {
        if self.frames.is_empty() {
            self.frames.push(Frame {
                header: None,
                nodes: Vec::new(),
            });
        }
        let last = self.frames.len() - 1;
        &mut self.frames[last].nodes
    }

    /// No block is open or being skipped: the next statement is a
    /// top-level one.
    pub fn at_top_level(&self) -> bool {
        self.frames.len() <= 1 && self.skipping.is_none()
    }

    /// A statement is waiting for its line's end or a `{`.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Ends a pending statement, as the next line's first word would.
    pub fn end_pending(&mut self) {
        if self.skipping.is_none() {
            self.end_statement();
        }
    }

    /// A top-level statement read from the re-parse cache (reparse.rs),
    /// where a `virtual_server` line starts: it ends a pending statement,
    /// as the keyword's word would, and goes to the sink. False (nothing
    /// done) if not at the top level or without a sink.
    pub fn push_cached(&mut self, c: std::sync::Arc<crate::reparse::CachedStatement>) -> bool {
        if !self.at_top_level() || self.sink.is_none() {
            return false;
        }
        self.end_statement();
        self.top_emitted += 1;
        if let Some(sink) = &mut self.sink {
            sink.push_cached(c);
        }
        true
    }

    /// The pending statement, without a block.
    fn end_statement(&mut self) {
        if let Some((name, args, _)) = self.pending.take() {
            self.emit(Node {
                name,
                args,
                block: None,
            });
        }
    }

    /// The pending statement's `{`.
    fn open_block(&mut self, open: Pos) {
        let Some((name, args, _)) = self.pending.take() else {
            return;
        };
        if self.depth() + 1 > MAX_BLOCK_DEPTH {
            self.errors.push(open.error(format!(
                "blocks nested deeper than {MAX_BLOCK_DEPTH} levels"
            )));
            self.emit(Node {
                name,
                args,
                block: Some(Block {
                    open: open.clone(),
                    nodes: Vec::new(),
                }),
            });
            self.skipping = Some((1, open));
            return;
        }
        self.frames.push(Frame {
            header: Some((name, args, open)),
            nodes: Vec::new(),
        });
    }

    /// Close the innermost block into its statement.
    fn close_block(&mut self) {
        if self.frames.len() < 2 {
            return;
        }
        let Some(frame) = self.frames.pop() else {
            return;
        };
        if let Some((name, args, open)) = frame.header {
            self.emit(Node {
                name,
                args,
                block: Some(Block {
                    open,
                    nodes: frame.nodes,
                }),
            });
        }
    }

    /// One token, in order.
    pub fn push(&mut self, tok: Tok) {
        if let Some((depth, _)) = &mut self.skipping {
            match tok {
                Tok::Open(_) => *depth += 1,
                Tok::Close(_) => {
                    *depth -= 1;
                    if *depth == 0 {
                        self.skipping = None;
                    }
                }
                Tok::Word(_) | Tok::Eol => {}
            }
            return;
        }
        if let Some((_, args, line_ended)) = &mut self.pending {
            match tok {
                Tok::Word(w) if !*line_ended => {
                    args.push(w);
                    return;
                }
                Tok::Eol if !*line_ended => {
                    *line_ended = true;
                    return;
                }
                Tok::Open(pos) => {
                    self.open_block(pos);
                    return;
                }
                // Anything else ends the statement and is read on its own.
                _ => self.end_statement(),
            }
        }
        match tok {
            Tok::Eol => {}
            Tok::Word(name) => self.pending = Some((name, Vec::new(), false)),
            Tok::Close(pos) => {
                if self.frames.len() > 1 {
                    self.close_block();
                } else {
                    self.errors
                        .push(pos.error("unexpected '}' without a matching '{'"));
                }
            }
            Tok::Open(pos) => {
                self.errors
                    .push(pos.error("unexpected '{' without a keyword before it"));
                // Skip the orphan block so its contents don't leak out.
                self.skipping = Some((1, pos));
            }
        }
    }

    /// End of input: the top-level statements (none if they went to the
    /// sink), the sink, and the syntax errors.
    pub fn finish_with_sink(
        mut self,
    ) -> (
        Vec<Node>,
        Option<crate::parse::stream::TopLevel>,
        Vec<Diagnostic>,
    ) {
        self.close_all();
        let nodes = self.frames.pop().map(|f| f.nodes).unwrap_or_default();
        (nodes, self.sink, self.errors)
    }

    /// End of input: the top-level statements, and the syntax errors.
    #[cfg(test)]
    pub fn finish(self) -> (Vec<Node>, Vec<Diagnostic>) {
        let (nodes, _, errors) = self.finish_with_sink();
        (nodes, errors)
    }

    /// Close what is still open at the end of input (with an error each).
    pub fn close_all(&mut self) {
        self.end_statement();
        if let Some((_, open)) = self.skipping.take() {
            self.errors
                .push(open.error("unclosed '{': missing '}' before end of configuration"));
        }
        while self.frames.len() > 1 {
            if let Some(Some((_, _, open))) = self.frames.last().map(|f| f.header.as_ref()) {
                let e = open.error("unclosed '{': missing '}' before end of configuration");
                self.errors.push(e);
            }
            self.close_block();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn pos(line: u32) -> Pos {
        Pos {
            file: Arc::new(PathBuf::from("t.conf")),
            line,
            col: 1,
        }
    }

    /// Tokens of a tiny language: words, "{", "}", ";" = end of line.
    fn build(src: &str) -> (Vec<Node>, Vec<Diagnostic>) {
        let mut b = StreamBuilder::new();
        for (i, w) in src.split_whitespace().enumerate() {
            let line = u32::try_from(i).unwrap_or(0) + 1;
            b.push(match w {
                "{" => Tok::Open(pos(line)),
                "}" => Tok::Close(pos(line)),
                ";" => Tok::Eol,
                _ => Tok::Word(Token {
                    text: w.to_string(),
                    pos: pos(line),
                    quoted: false,
                }),
            });
        }
        b.finish()
    }

    fn shape(nodes: &[Node]) -> String {
        nodes
            .iter()
            .map(|n| {
                let mut s = n.key().to_string();
                for a in &n.args {
                    s.push(' ');
                    s.push_str(&a.text);
                }
                if let Some(b) = &n.block {
                    s.push_str(&format!(" {{{}}}", shape(&b.nodes)));
                }
                s
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn statements_blocks_and_braces_on_the_next_line() {
        let (n, e) = build("a 1 2 ; b { c ; d e ; } ; f ; { ; g ; } ; h { i } j ;");
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(shape(&n), "a 1 2; b {c; d e}; f {g}; h {i}; j");
    }

    #[test]
    fn stray_braces_and_unclosed_blocks_are_errors() {
        let (n, e) = build("} ; a ; ; { x { y } } ; b { c { d ;");
        assert_eq!(shape(&n), "a; b {c {d}}");
        let msgs: Vec<_> = e.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "unexpected '}' without a matching '{'",
                "unexpected '{' without a keyword before it",
                "unclosed '{': missing '}' before end of configuration",
                "unclosed '{': missing '}' before end of configuration",
            ]
        );
    }

    #[test]
    fn blocks_deeper_than_the_limit_are_skipped() {
        let mut src = String::new();
        for _ in 0..=MAX_BLOCK_DEPTH {
            src.push_str("k { ");
        }
        src.push_str("deep ; ");
        for _ in 0..=MAX_BLOCK_DEPTH {
            src.push_str("} ");
        }
        src.push_str("after ;");
        let (n, e) = build(&src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("nested deeper"));
        assert_eq!(n.len(), 2);
        assert_eq!(n[1].key(), "after");
    }
}
