//! Clean start of a checker child: remove the IPVS services and real
//! servers a killed checker created for a configuration the new one no
//! longer names.
//!
//! A checker only removes entries it created itself (keepalived's rule, so
//! services added by hand survive; crates/ipvs `OwnedSet`). A checker killed
//! between the supervisor accepting a reload and the checker applying it
//! leaves the old configuration's services behind, and its respawn, which
//! starts with the new configuration, does not own them: they would stay
//! forever (keepalived leaks them the same way). The supervisor keeps a
//! journal (next to the checkers pid file) of the IPVS entries of every
//! configuration it handed a checker since that checker started; before the
//! engine runs, the new checker deletes the kernel entries the journal lists
//! and its own configuration does not.
//!
//! Keys are journalled as their `Debug` text: written and compared by the
//! same binary (a journal from another version simply matches nothing).

use std::collections::BTreeSet;
use std::path::Path;

use rkeepalived_config::Config;
use rkeepalived_ipvs::{IpvsBackend, Op};
use serde::{Deserialize, Serialize};

/// Environment variable by which the supervisor tells a checker child where
/// its journal is.
pub const JOURNAL_ENV: &str = "RKEEPALIVED_CHECKER_JOURNAL";

/// IPVS services and (service, real server) pairs a configuration programs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpvsOwned {
    pub services: BTreeSet<String>,
    pub dests: BTreeSet<(String, String)>,
}

fn key_text(k: &impl std::fmt::Debug) -> String {
    format!("{k:?}")
}

impl IpvsOwned {
    /// Everything `cfg`'s virtual servers may program (empty if its plan
    /// cannot be built: the checker reports that itself).
    pub fn of(cfg: &Config) -> IpvsOwned {
        let mut o = IpvsOwned::default();
        if cfg.virtual_servers.is_empty() {
            return o;
        }
        let Ok(plan) = rkeepalived_check::plan::without_dump(cfg) else {
            return o;
        };
        for vs in &plan.virtual_servers {
            for key in &vs.keys {
                let sk = key_text(key);
                for rs in &vs.real_servers {
                    o.dests.insert((sk.clone(), key_text(&rs.dest.key())));
                }
                if let Some(sorry) = &vs.sorry_server {
                    o.dests.insert((sk.clone(), key_text(&sorry.key())));
                }
                o.services.insert(sk);
            }
        }
        o
    }

    pub fn union(&mut self, other: &IpvsOwned) {
        self.services.extend(other.services.iter().cloned());
        self.dests.extend(other.dests.iter().cloned());
    }
}

/// The supervisor's journal of the IPVS entries handed to checker children
/// (`/run/checkers.pid` → `/run/checkers.owned.json`; the VRRP child's
/// journal is the same type, crates/vrrp `recovery`).
pub type IpvsJournal = rkeepalived_script::journal::Journal<IpvsOwned>;

/// The default journal name stem when the pid file has none.
pub const JOURNAL_STEM: &str = "checkers";

impl rkeepalived_script::journal::Owned for IpvsOwned {
    const OWNER: &'static str = "checker";
    fn union(&mut self, other: &Self) {
        IpvsOwned::union(self, other)
    }
}

fn read_journal(path: &Path) -> IpvsOwned {
    rkeepalived_script::journal::read_journal(path)
}

/// Deletes the entries of `backend` that `journal` lists and `current`
/// does not; returns how many ops succeeded.
pub fn sweep(backend: &mut dyn IpvsBackend, journal: &IpvsOwned, current: &IpvsOwned) -> usize {
    if journal.services.is_empty() && journal.dests.is_empty() {
        return 0;
    }
    let table = match backend.dump() {
        Ok(t) => t,
        Err(e) => {
            tracing::debug!("no stale IPVS check: {e}");
            return 0;
        }
    };
    let mut ops = Vec::new();
    for (key, entry) in &table.services {
        let sk = key_text(key);
        if journal.services.contains(&sk) && !current.services.contains(&sk) {
            ops.push(Op::DelService(*key));
            continue;
        }
        for dk in entry.dests.keys() {
            let pair = (sk.clone(), key_text(dk));
            if journal.dests.contains(&pair) && !current.dests.contains(&pair) {
                ops.push(Op::DelDest(*key, *dk));
            }
        }
    }
    let mut done = 0;
    for (op, res) in ops.iter().zip(backend.apply_batch(&ops)) {
        match res {
            Ok(()) => {
                done += 1;
                tracing::warn!("removed stale IPVS entry left by a previous checker: {op:?}");
            }
            Err(e) => tracing::error!("cannot remove stale IPVS entry {op:?}: {e}"),
        }
    }
    done
}

/// Checker child start: sweep with the journal named by [`JOURNAL_ENV`].
pub fn sweep_stale_ipvs(cfg: &Config) -> usize {
    let Some(path) = std::env::var_os(JOURNAL_ENV) else {
        return 0;
    };
    let journal = read_journal(Path::new(&path));
    if journal.services.is_empty() {
        return 0;
    }
    let mut backend = match rkeepalived_ipvs::NetlinkIpvs::connect() {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!("no stale IPVS check: {e}");
            return 0;
        }
    };
    sweep(&mut backend, &journal, &IpvsOwned::of(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeepalived_ipvs::model::{
        Dest, Forwarding, IpvsState, Protocol, Scheduler, Service, ServiceEntry, ServiceKey,
    };
    use rkeepalived_ipvs::MockIpvs;

    fn svc(port: u16) -> ServiceKey {
        ServiceKey::Addr {
            proto: Protocol::Tcp,
            addr: "192.0.2.100".parse().expect("addr"),
            port,
        }
    }

    #[test]
    fn sweep_removes_only_journalled_entries_the_config_lacks() {
        let mut state = IpvsState::new();
        for port in [80, 8000, 9999] {
            let mut e = ServiceEntry::new(Service::new(svc(port), Scheduler::Rr));
            for host in ["192.0.2.11", "192.0.2.12"] {
                let d = Dest::new(host.parse().expect("ip"), port, Forwarding::Direct, 1);
                e.dests.insert(d.key(), d);
            }
            state.services.insert(svc(port), e);
        }
        let mut mock = MockIpvs::with_state(state.clone());
        let d = |port: u16, host: &str| {
            (
                key_text(&svc(port)),
                key_text(&Dest::new(host.parse().expect("ip"), port, Forwarding::Direct, 1).key()),
            )
        };
        // Old config: :80 with .11 and .12, :8000. New: :80 with .11 only.
        let journal = IpvsOwned {
            services: [key_text(&svc(80)), key_text(&svc(8000))].into(),
            dests: [
                d(80, "192.0.2.11"),
                d(80, "192.0.2.12"),
                d(8000, "192.0.2.11"),
            ]
            .into(),
        };
        let current = IpvsOwned {
            services: [key_text(&svc(80))].into(),
            dests: [d(80, "192.0.2.11")].into(),
        };
        assert_eq!(sweep(&mut mock, &journal, &current), 2);
        let after = mock.dump().expect("dump");
        assert!(!after.services.contains_key(&svc(8000)), "old service gone");
        assert!(
            after.services.contains_key(&svc(9999)),
            "foreign service kept"
        );
        assert_eq!(after.services[&svc(80)].dests.len(), 1, "old dest gone");
        assert_eq!(
            after.services[&svc(9999)].dests.len(),
            2,
            "foreign dests kept"
        );
    }
}
