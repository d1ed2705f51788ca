//! Shared by the runtime comparisons with keepalived 2.2.7
//! (tests/lab_keepalived_compare.rs: IPVS tables in the qemu lab;
//! tests/vrrp_keepalived_compare.rs: VRRP adverts and installed addresses,
//! routes and rules in network namespaces): which configs to compare.
//!
//! The configs are every Debian sample
//! (/usr/share/doc/keepalived/samples/keepalived.conf.*) and every file under
//! tests/data/corpus/ (or `RKL_CORPUS_DIR`) that defines the block family a
//! comparison is about, read when the test runs: a file added to the corpus
//! is compared without touching the tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const SAMPLE_DIR: &str = "/usr/share/doc/keepalived/samples";

/// One config to compare.
#[derive(Debug, Clone)]
pub struct Case {
    /// `sample:<suffix>` for keepalived.conf.<suffix>, `corpus:<relative
    /// path>` for a corpus file (only `[A-Za-z0-9._-]`, other characters
    /// become `_`), unique among the cases.
    pub name: String,
    pub path: PathBuf,
    pub text: String,
}

impl Case {
    /// The file without comments (`!` and `#` start one, as keepalived reads).
    pub fn live(&self) -> String {
        live_text(&self.text)
    }

    /// Whether a line of the live text starts with `keyword` (a block or a
    /// keyword the comparison needs).
    pub fn has(&self, keyword: &str) -> bool {
        has_keyword(&self.text, keyword)
    }

    pub fn is_sample(&self) -> bool {
        self.name.starts_with("sample:")
    }
}

/// `text` without comments.
pub fn live_text(text: &str) -> String {
    text.lines()
        .map(|l| l.split(['!', '#']).next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a live line's first word is `keyword`.
pub fn has_keyword(text: &str, keyword: &str) -> bool {
    live_text(text)
        .lines()
        .any(|l| l.split_whitespace().next() == Some(keyword))
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The corpus directory: `RKL_CORPUS_DIR` when set, else tests/data/corpus.
pub fn corpus_dir(repo_root: &Path) -> PathBuf {
    std::env::var_os("RKL_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root.join("tests/data/corpus"))
}

/// Debian's samples whose live text has a line starting with `keyword`,
/// sorted by name.
pub fn samples_with(keyword: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(SAMPLE_DIR)
        .map(|rd| rd.filter_map(Result::ok).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            let suffix = file.strip_prefix("keepalived.conf.")?.to_owned();
            let text = std::fs::read_to_string(e.path()).ok()?;
            Some(Case {
                name: format!("sample:{}", sanitize(&suffix)),
                path: e.path(),
                text,
            })
        })
        .filter(|c| c.has(keyword))
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// Every regular file under the corpus directory (recursively) whose live
/// text has a line starting with `keyword`, sorted by path. Documentation
/// and metadata files (`*.md`, `*.txt`, `*.json`, `*.toml`, `*.sh`, `*.py`)
/// are not configs.
pub fn corpus_with(repo_root: &Path, keyword: &str) -> Vec<Case> {
    let dir = corpus_dir(repo_root);
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .filter(|p| {
            !matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("md" | "txt" | "json" | "toml" | "sh" | "py")
            )
        })
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let rel = p.strip_prefix(&dir).unwrap_or(&p).to_string_lossy();
            Some(Case {
                name: format!("corpus:{}", sanitize(&rel)),
                path: p,
                text,
            })
        })
        .filter(|c| c.has(keyword))
        .collect()
}

/// Samples then corpus files with `keyword`.
pub fn cases_with(repo_root: &Path, keyword: &str) -> Vec<Case> {
    let mut all = samples_with(keyword);
    all.extend(corpus_with(repo_root, keyword));
    all
}
