//! The supervisor's ownership journal: what it handed each child since that
//! child started, kept next to the child's pid file so that the child's
//! respawn can remove what a killed predecessor installed for a
//! configuration reloaded away (keepalived leaks those). One journal type
//! serves the VRRP child (VIPs, routes, rules: crates/vrrp `recovery`) and
//! the checker child (IPVS entries: the daemon's `recovery_ipvs`).
//!
//! Only the supervisor writes the file (never two writers); it is replaced
//! atomically and privately ([`crate::safe_file::write_replace`]).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a child may install, as a set that grows by union.
pub trait Owned: Default + Clone + Serialize + DeserializeOwned {
    /// Who owns it, for messages ("VRRP", "checker").
    const OWNER: &'static str;
    /// Add everything `other` names.
    fn union(&mut self, other: &Self);
}

/// The journal file for a pid file: `/run/vrrp.pid` → `/run/vrrp.owned.json`
/// (`default_stem` when the pid file has no name).
pub fn journal_path(pid_file: &Path, default_stem: &str) -> PathBuf {
    let stem = pid_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| default_stem.into());
    pid_file.with_file_name(format!("{stem}.owned.json"))
}

/// Reads a journal; a missing file is an empty journal, a corrupt one too
/// (with a warning: it only ever widens a clean-up).
pub fn read_journal<T: Owned>(path: &Path) -> T {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(
                "ignoring unreadable {} journal {}: {e}",
                T::OWNER,
                path.display()
            );
            T::default()
        }),
        Err(_) => T::default(),
    }
}

/// The supervisor's side of one child's journal.
#[derive(Debug)]
pub struct Journal<T> {
    path: PathBuf,
    /// Configurations handed to the running child (start + reloads).
    sent: T,
}

impl<T: Owned> Journal<T> {
    /// The journal next to `pid_file` (see [`journal_path`]).
    pub fn new(pid_file: &Path, default_stem: &str) -> Journal<T> {
        Journal {
            path: journal_path(pid_file, default_stem),
            sent: T::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn store(&self, owned: &T) {
        let write = serde_json::to_vec(owned)
            .map_err(|e| e.to_string())
            .and_then(|json| {
                crate::safe_file::write_replace(&self.path, &json, crate::safe_file::PRIVATE_MODE)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = write {
            tracing::warn!(
                "cannot write the {} journal {}: {e}",
                T::OWNER,
                self.path.display()
            );
        }
    }

    /// A child is about to start with `cfg`: the file keeps what earlier
    /// children may have left (for its sweep) plus `cfg`.
    pub fn child_starting(&mut self, cfg: &T) {
        let mut all: T = read_journal(&self.path);
        all.union(cfg);
        self.store(&all);
        self.sent = cfg.clone();
    }

    /// A reload with `cfg` is about to be sent to the running child.
    pub fn reload_sent(&mut self, cfg: &T) {
        let mut all: T = read_journal(&self.path);
        all.union(cfg);
        self.store(&all);
        self.sent.union(cfg);
    }

    /// The child swept before reporting ready: only what it was handed
    /// remains.
    pub fn child_ready(&mut self) {
        self.store(&self.sent);
    }

    /// The child stopped cleanly (everything removed): forget all.
    pub fn clean_stop(&mut self) {
        self.sent = T::default();
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeSet;

    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    struct Names(BTreeSet<String>);

    impl Owned for Names {
        const OWNER: &'static str = "test";
        fn union(&mut self, other: &Self) {
            self.0.extend(other.0.iter().cloned());
        }
    }

    fn names(n: &[&str]) -> Names {
        Names(n.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn journal_keeps_what_children_were_handed() {
        let dir = std::env::temp_dir().join(format!("rk-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid = dir.join("child.pid");
        assert_eq!(journal_path(&pid, "x"), dir.join("child.owned.json"));
        let mut j: Journal<Names> = Journal::new(&pid, "x");
        // A killed predecessor left "old" in the file.
        std::fs::write(j.path(), serde_json::to_vec(&names(&["old"])).unwrap()).unwrap();
        j.child_starting(&names(&["a"]));
        assert_eq!(read_journal::<Names>(j.path()), names(&["a", "old"]));
        j.reload_sent(&names(&["b"]));
        assert_eq!(read_journal::<Names>(j.path()), names(&["a", "b", "old"]));
        // The child swept "old" before it reported ready.
        j.child_ready();
        assert_eq!(read_journal::<Names>(j.path()), names(&["a", "b"]));
        j.clean_stop();
        assert!(!j.path().exists());
        // A corrupt file reads as empty.
        std::fs::write(j.path(), b"{not json").unwrap();
        assert_eq!(read_journal::<Names>(j.path()), Names::default());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
