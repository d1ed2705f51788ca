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

enum Kind {
    End,
    Eol,
    Word,
    Open(Pos),
    Close(Pos),
}

pub struct TreeBuilder {
    /// Consumed front to back; taken words are replaced by `Eol`.
    toks: Vec<Tok>,
    i: usize,
    pub errors: Vec<Diagnostic>,
}

impl TreeBuilder {
    pub fn new(toks: Vec<Tok>) -> Self {
        TreeBuilder {
            toks,
            i: 0,
            errors: Vec::new(),
        }
    }

    /// Parse the whole stream.
    pub fn build(mut self) -> (Vec<Node>, Vec<Diagnostic>) {
        let nodes = self.statements(None, 0);
        (nodes, self.errors)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    /// What is at the cursor, without borrowing the token list.
    fn peek_kind(&self) -> Kind {
        match self.toks.get(self.i) {
            None => Kind::End,
            Some(Tok::Eol) => Kind::Eol,
            Some(Tok::Word(_)) => Kind::Word,
            Some(Tok::Open(p)) => Kind::Open(p.clone()),
            Some(Tok::Close(p)) => Kind::Close(p.clone()),
        }
    }

    /// Move the word at the cursor out (no clone) and advance.
    fn take_word(&mut self) -> Option<Token> {
        match self.toks.get_mut(self.i) {
            Some(t @ Tok::Word(_)) => {
                self.i += 1;
                match std::mem::replace(t, Tok::Eol) {
                    Tok::Word(w) => Some(w),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Statements until the matching `}` (consumed) or end of input.
    fn statements(&mut self, open: Option<&Pos>, depth: usize) -> Vec<Node> {
        let mut nodes = Vec::new();
        loop {
            match self.peek_kind() {
                Kind::End => {
                    if let Some(open) = open {
                        self.errors.push(
                            open.error("unclosed '{': missing '}' before end of configuration"),
                        );
                    }
                    return nodes;
                }
                Kind::Eol => self.i += 1,
                Kind::Close(pos) => {
                    self.i += 1;
                    if open.is_some() {
                        return nodes;
                    }
                    self.errors
                        .push(pos.error("unexpected '}' without a matching '{'"));
                }
                Kind::Open(pos) => {
                    self.i += 1;
                    self.errors
                        .push(pos.error("unexpected '{' without a keyword before it"));
                    // Skip the orphan block so its contents don't leak out.
                    self.skip_block(&pos);
                }
                Kind::Word => {
                    if let Some(name) = self.take_word() {
                        let node = self.statement(name, depth);
                        nodes.push(node);
                    }
                }
            }
        }
    }

    fn statement(&mut self, name: Token, depth: usize) -> Node {
        let mut args = Vec::new();
        while let Some(w) = self.take_word() {
            args.push(w);
        }
        // `{` on the same line, or alone at the start of the next line.
        let open = match self.peek() {
            Some(Tok::Open(pos)) => Some(pos.clone()),
            Some(Tok::Eol) => match self.toks.get(self.i + 1) {
                Some(Tok::Open(pos)) => {
                    self.i += 1;
                    Some(pos.clone())
                }
                _ => None,
            },
            _ => None,
        };
        let block = open.map(|open| {
            self.i += 1;
            if depth + 1 > MAX_BLOCK_DEPTH {
                self.errors.push(open.error(format!(
                    "blocks nested deeper than {MAX_BLOCK_DEPTH} levels"
                )));
                self.skip_block(&open);
                return Block {
                    open,
                    nodes: Vec::new(),
                };
            }
            let nodes = self.statements(Some(&open), depth + 1);
            Block { open, nodes }
        });
        Node { name, args, block }
    }

    /// Skip to the `}` matching an already consumed `{`, without recursion.
    fn skip_block(&mut self, open: &Pos) {
        let mut depth = 1usize;
        loop {
            let kind = self.peek_kind();
            self.i += 1;
            match kind {
                Kind::End => break,
                Kind::Open(_) => depth += 1,
                Kind::Close(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
        self.errors
            .push(open.error("unclosed '{': missing '}' before end of configuration"));
    }
}
