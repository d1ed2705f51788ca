//! The IO edge of the firewall: the [`Planner`]'s scripts run by the `nft`
//! command (`nft -f -`, one atomic transaction each).
//!
//! keepalived talks NFNL_SUBSYS_NFTABLES netlink directly. rkeepalived runs
//! Debian's `nft` instead (package nftables), behind [`NftBackend`], which
//! keeps this crate free of a second netlink codec; a change costs one short
//! process (a few ms) and happens only on state transitions. Without `nft`
//! the daemon logs an error once and runs unfiltered (keepalived cannot be
//! in that situation: its rules need no external command).

use std::io::Write;
use std::process::{Command, Stdio};

use super::plan::{Batch, NfFamily, Planner};
use super::{FwAddr, Settings, VmacFw};

/// Why an nft transaction failed.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("the nft command was not found (install Debian's nftables package); VRRP firewall rules cannot be set")]
    NftMissing,
    #[error("cannot run nft: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("nft failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
}

/// Runs nft scripts; [`NftCommand`] in the daemon, a recorder in tests.
pub trait NftBackend: Send {
    /// Apply one script as one transaction.
    fn apply(&mut self, script: &str) -> Result<(), FirewallError>;
    /// Whether `table` exists in `family` (`nft list table`).
    fn table_exists(&mut self, family: NfFamily, table: &str) -> Result<bool, FirewallError>;
}

/// The `nft` command found on PATH (or a given path).
#[derive(Debug, Clone)]
pub struct NftCommand {
    program: String,
}

impl Default for NftCommand {
    fn default() -> Self {
        NftCommand {
            program: "nft".to_string(),
        }
    }
}

impl NftCommand {
    pub fn new(program: impl Into<String>) -> Self {
        NftCommand {
            program: program.into(),
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.program);
        c.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    }
}

fn spawn_error(e: std::io::Error) -> FirewallError {
    if e.kind() == std::io::ErrorKind::NotFound {
        FirewallError::NftMissing
    } else {
        FirewallError::Spawn(e)
    }
}

impl NftBackend for NftCommand {
    fn apply(&mut self, script: &str) -> Result<(), FirewallError> {
        let mut child = self
            .command()
            .args(["-f", "-"])
            .spawn()
            .map_err(spawn_error)?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .map_err(FirewallError::Spawn)?;
        }
        let out = child.wait_with_output().map_err(FirewallError::Spawn)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(FirewallError::Failed {
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    fn table_exists(&mut self, family: NfFamily, table: &str) -> Result<bool, FirewallError> {
        let out = self
            .command()
            .stdin(Stdio::null())
            .args(["list", "table", family.name(), table])
            .output()
            .map_err(spawn_error)?;
        Ok(out.status.success())
    }
}

/// The planner with its backend: applies each change and logs failures
/// (a failed transaction changes nothing; keepalived also only logs).
pub struct Firewall {
    planner: Planner,
    backend: Box<dyn NftBackend>,
    /// Failed transactions.
    pub errors: u64,
    missing_reported: bool,
}

impl Firewall {
    pub fn new(s: Settings, backend: Box<dyn NftBackend>) -> Firewall {
        Firewall {
            planner: Planner::new(s),
            backend,
            errors: 0,
            missing_reported: false,
        }
    }

    pub fn planner(&self) -> &Planner {
        &self.planner
    }

    /// Make the drop sets hold `want` for instance `inst`.
    pub fn sync_addresses(&mut self, inst: &str, want: &[FwAddr]) {
        let table = self.planner.settings().table.clone();
        let backend = &mut self.backend;
        let mut stale = || stale_tables(backend.as_mut(), &table);
        let batch = self.planner.sync_addresses(inst, want, &mut stale);
        self.run(batch);
    }

    pub fn add_vmac(&mut self, inst: &str, v: VmacFw) {
        let table = self.planner.settings().table.clone();
        let backend = &mut self.backend;
        let mut stale = || stale_tables(backend.as_mut(), &table);
        let batch = self.planner.add_vmac(inst, v, &mut stale);
        self.run(batch);
    }

    pub fn remove_vmac(&mut self, inst: &str) {
        let batch = self.planner.remove_vmac(inst);
        self.run(batch);
    }

    /// Delete our tables (at exit).
    pub fn fini(&mut self) {
        let batch = self.planner.fini();
        self.run(batch);
    }

    fn run(&mut self, batch: Option<Batch>) {
        let Some(b) = batch else { return };
        for l in &b.logs {
            tracing::info!("{l}");
        }
        tracing::debug!(script = %b.script, "nftables transaction");
        match self.backend.apply(&b.script) {
            Ok(()) => {}
            Err(FirewallError::NftMissing) => {
                self.errors += 1;
                if !self.missing_reported {
                    self.missing_reported = true;
                    tracing::error!("{}", FirewallError::NftMissing);
                }
            }
            Err(e) => {
                self.errors += 1;
                tracing::error!(error = %e, "nftables transaction failed");
            }
        }
    }
}

/// keepalived `check_table()` for both families.
fn stale_tables(backend: &mut dyn NftBackend, table: &str) -> (bool, bool) {
    let mut exists = |f| backend.table_exists(f, table).unwrap_or(false);
    (exists(NfFamily::Ip), exists(NfFamily::Ip6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Recorder {
        scripts: Arc<Mutex<Vec<String>>>,
        fail: bool,
    }

    impl NftBackend for Recorder {
        fn apply(&mut self, script: &str) -> Result<(), FirewallError> {
            self.scripts.lock().unwrap().push(script.to_string());
            if self.fail {
                Err(FirewallError::NftMissing)
            } else {
                Ok(())
            }
        }
        fn table_exists(&mut self, f: NfFamily, _: &str) -> Result<bool, FirewallError> {
            Ok(f == NfFamily::Ip)
        }
    }

    fn settings() -> Settings {
        Settings {
            table: "keepalived".into(),
            priority: -1,
            ifindex: false,
            counters: false,
        }
    }

    #[test]
    fn transactions_reach_the_backend_in_order() {
        let rec = Recorder::default();
        let mut fw = Firewall::new(settings(), Box::new(rec.clone()));
        fw.sync_addresses("a", &[FwAddr::V4("192.0.2.1".parse().unwrap())]);
        fw.sync_addresses("a", &[FwAddr::V4("192.0.2.1".parse().unwrap())]);
        fw.sync_addresses("a", &[]);
        fw.fini();
        let s = rec.scripts.lock().unwrap().clone();
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[0].starts_with("delete table ip keepalived\nadd table ip keepalived\n"));
        assert_eq!(s[1], "delete element ip keepalived vips { 192.0.2.1 }\n");
        assert_eq!(s[2], "delete table ip keepalived\n");
        assert_eq!(fw.errors, 0);
    }

    #[test]
    fn a_missing_nft_is_counted_not_fatal() {
        let rec = Recorder {
            fail: true,
            ..Recorder::default()
        };
        let mut fw = Firewall::new(settings(), Box::new(rec));
        fw.sync_addresses("a", &[FwAddr::V4("192.0.2.1".parse().unwrap())]);
        fw.fini();
        assert_eq!(fw.errors, 2);
    }

    #[test]
    fn an_absent_program_is_nft_missing() {
        let mut c = NftCommand::new("/nonexistent/nft");
        assert!(matches!(
            c.apply("list ruleset"),
            Err(FirewallError::NftMissing)
        ));
    }
}
