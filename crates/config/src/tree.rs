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

pub struct TreeBuilder<'t> {
    toks: &'t [Tok],
    i: usize,
    pub errors: Vec<Diagnostic>,
}

impl<'t> TreeBuilder<'t> {
    pub fn new(toks: &'t [Tok]) -> Self {
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

    fn peek(&self) -> Option<&'t Tok> {
        self.toks.get(self.i)
    }

    /// Statements until the matching `}` (consumed) or end of input.
    fn statements(&mut self, open: Option<&Pos>, depth: usize) -> Vec<Node> {
        let mut nodes = Vec::new();
        loop {
            let Some(tok) = self.peek() else {
                if let Some(open) = open {
                    self.errors
                        .push(open.error("unclosed '{': missing '}' before end of configuration"));
                }
                return nodes;
            };
            match tok {
                Tok::Eol => self.i += 1,
                Tok::Close(pos) => {
                    self.i += 1;
                    if open.is_some() {
                        return nodes;
                    }
                    self.errors
                        .push(pos.error("unexpected '}' without a matching '{'"));
                }
                Tok::Open(pos) => {
                    self.i += 1;
                    self.errors
                        .push(pos.error("unexpected '{' without a keyword before it"));
                    // Skip the orphan block so its contents don't leak out.
                    let pos = pos.clone();
                    self.skip_block(&pos);
                }
                Tok::Word(name) => {
                    self.i += 1;
                    let node = self.statement(name.clone(), depth);
                    nodes.push(node);
                }
            }
        }
    }

    fn statement(&mut self, name: Token, depth: usize) -> Node {
        let mut args = Vec::new();
        while let Some(Tok::Word(w)) = self.peek() {
            args.push(w.clone());
            self.i += 1;
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
        while let Some(tok) = self.peek() {
            self.i += 1;
            match tok {
                Tok::Open(_) => depth += 1,
                Tok::Close(_) => {
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
