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
//! Keys are journalled in a short text form of this module (`6 192.0.2.1 80`,
//! `fwmark 5 2`; a real server `192.0.2.11 80`): written and compared by
//! the same binary (an entry this version cannot read is skipped: it only
//! ever narrows a clean-up).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rkeepalived_config::Config;
use rkeepalived_ipvs::model::{DestKey, Family, Protocol, ServiceKey};
use rkeepalived_ipvs::{IpvsBackend, Op};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Environment variable by which the supervisor tells a checker child where
/// its journal is.
pub const JOURNAL_ENV: &str = "RKEEPALIVED_CHECKER_JOURNAL";

/// IPVS services and (service, real server) pairs a configuration programs:
/// sorted, deduplicated typed keys behind an `Arc`. The supervisor keeps
/// this for the life of a configuration, twice (the running configuration's
/// and its journal's record of what the child was sent, a clone that now
/// shares the slices): ~48 bytes per real server. As two `BTreeSet`s of
/// `Debug` strings it was ~250 bytes per real server per copy, 18 MB of the
/// supervisor's steady RSS at keepalived issue #2318 scale (36,544 real
/// servers), bench/scale/README.md.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpvsOwned {
    services: Arc<[ServiceKey]>,
    dests: Arc<[(ServiceKey, DestKey)]>,
}

/// `6 192.0.2.1 80` (protocol number, address, port) or `fwmark 5 2`
/// (mark, address family number).
fn service_text(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { proto, addr, port } => format!("{} {addr} {port}", proto.to_raw()),
        ServiceKey::Fwmark { mark, family } => {
            let af = match family {
                Family::Inet => Family::AF_INET,
                Family::Inet6 => Family::AF_INET6,
            };
            format!("fwmark {mark} {af}")
        }
    }
}

fn parse_service(s: &str) -> Option<ServiceKey> {
    let mut f = s.split(' ');
    let (a, b, c) = (f.next()?, f.next()?, f.next()?);
    if f.next().is_some() {
        return None;
    }
    if a == "fwmark" {
        return Some(ServiceKey::Fwmark {
            mark: b.parse().ok()?,
            family: Family::from_raw(c.parse().ok()?)?,
        });
    }
    Some(ServiceKey::Addr {
        proto: Protocol::from_raw(a.parse().ok()?),
        addr: b.parse().ok()?,
        port: c.parse().ok()?,
    })
}

fn dest_text(k: &DestKey) -> String {
    format!("{} {}", k.addr, k.port)
}

fn parse_dest(s: &str) -> Option<DestKey> {
    let (addr, port) = s.split_once(' ')?;
    Some(DestKey {
        addr: addr.parse::<IpAddr>().ok()?,
        port: port.parse().ok()?,
    })
}

/// The journal's JSON shape: `{"services": [..], "dests": [[service, dest], ..]}`.
#[derive(Serialize, Deserialize)]
struct OwnedText {
    services: Vec<String>,
    dests: Vec<(String, String)>,
}

impl Serialize for IpvsOwned {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        OwnedText {
            services: self.services.iter().map(service_text).collect(),
            dests: self
                .dests
                .iter()
                .map(|(sk, dk)| (service_text(sk), dest_text(dk)))
                .collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for IpvsOwned {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = OwnedText::deserialize(d)?;
        Ok(IpvsOwned::from_keys(
            text.services
                .iter()
                .filter_map(|s| parse_service(s))
                .collect(),
            text.dests
                .iter()
                .filter_map(|(s, d)| Some((parse_service(s)?, parse_dest(d)?)))
                .collect(),
        ))
    }
}

impl IpvsOwned {
    fn from_keys(mut services: Vec<ServiceKey>, mut dests: Vec<(ServiceKey, DestKey)>) -> Self {
        services.sort_unstable();
        services.dedup();
        dests.sort_unstable();
        dests.dedup();
        IpvsOwned {
            services: services.into(),
            dests: dests.into(),
        }
    }

    /// Everything `cfg`'s virtual servers may program (empty if its plan
    /// cannot be built: the checker reports that itself).
    pub fn of(cfg: &Config) -> IpvsOwned {
        if cfg.virtual_servers.is_empty() {
            return IpvsOwned::default();
        }
        let Ok(plan) = rkeepalived_check::plan::without_dump(cfg) else {
            return IpvsOwned::default();
        };
        let mut services = Vec::new();
        let mut dests = Vec::new();
        for vs in &plan.virtual_servers {
            for key in &vs.keys {
                for rs in &vs.real_servers {
                    dests.push((*key, rs.dest.key()));
                }
                if let Some(sorry) = &vs.sorry_server {
                    dests.push((*key, sorry.key()));
                }
                services.push(*key);
            }
        }
        drop(plan);
        IpvsOwned::from_keys(services, dests)
    }

    pub fn union(&mut self, other: &IpvsOwned) {
        if other.services.is_empty() && other.dests.is_empty() {
            return;
        }
        if self.services.is_empty() && self.dests.is_empty() {
            *self = other.clone();
            return;
        }
        *self = IpvsOwned::from_keys(
            self.services
                .iter()
                .chain(other.services.iter())
                .copied()
                .collect(),
            self.dests
                .iter()
                .chain(other.dests.iter())
                .copied()
                .collect(),
        );
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && self.dests.is_empty()
    }

    pub fn has_service(&self, k: &ServiceKey) -> bool {
        self.services.binary_search(k).is_ok()
    }

    pub fn has_dest(&self, sk: &ServiceKey, dk: &DestKey) -> bool {
        self.dests.binary_search(&(*sk, *dk)).is_ok()
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
    if journal.is_empty() {
        return 0;
    }
    sweep_lazily(backend, || journal.clone(), || current.clone())
}

/// [`sweep`] with the journal read only if the kernel has any IPVS entry,
/// and `current` built only if the kernel has an entry the journal lists:
/// on the checker's start path at keepalived issue #2318 size they are a
/// file of 36,544 entries to parse and a whole check plan (~0.1 s), and a
/// kernel without journalled entries (a start after a clean stop) has
/// nothing stale.
fn sweep_lazily(
    backend: &mut dyn IpvsBackend,
    journal: impl FnOnce() -> IpvsOwned,
    current: impl FnOnce() -> IpvsOwned,
) -> usize {
    let table = match backend.dump() {
        Ok(t) => t,
        Err(e) => {
            tracing::debug!("no stale IPVS check: {e}");
            return 0;
        }
    };
    if table.services.is_empty() {
        return 0;
    }
    let journal = journal();
    let journalled = table.services.iter().any(|(key, entry)| {
        journal.has_service(key) || entry.dests.keys().any(|dk| journal.has_dest(key, dk))
    });
    if !journalled {
        return 0;
    }
    let current = current();
    let mut ops = Vec::new();
    for (key, entry) in &table.services {
        if journal.has_service(key) && !current.has_service(key) {
            ops.push(Op::DelService(*key));
            continue;
        }
        for dk in entry.dests.keys() {
            if journal.has_dest(key, dk) && !current.has_dest(key, dk) {
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
    let mut backend = match rkeepalived_ipvs::NetlinkIpvs::connect() {
        Ok(b) => b,
        Err(e) => {
            tracing::debug!("no stale IPVS check: {e}");
            return 0;
        }
    };
    sweep_lazily(
        &mut backend,
        || read_journal(Path::new(&path)),
        || IpvsOwned::of(cfg),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeepalived_ipvs::model::{
        Dest, DestKey, Forwarding, IpvsState, Protocol, Scheduler, Service, ServiceEntry,
        ServiceKey,
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
                svc(port),
                Dest::new(host.parse().expect("ip"), port, Forwarding::Direct, 1).key(),
            )
        };
        // Old config: :80 with .11 and .12, :8000. New: :80 with .11 only.
        let journal = IpvsOwned::from_keys(
            vec![svc(80), svc(8000)],
            vec![
                d(80, "192.0.2.11"),
                d(80, "192.0.2.12"),
                d(8000, "192.0.2.11"),
            ],
        );
        let current = IpvsOwned::from_keys(vec![svc(80)], vec![d(80, "192.0.2.11")]);
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

    /// A kernel without IPVS entries needs no journal, and one without any
    /// journalled entry (a start after a clean stop, or entries added by
    /// hand only) no plan of the configuration.
    #[test]
    fn the_configuration_is_not_planned_without_journalled_entries() {
        let mut state = IpvsState::new();
        let mut e = ServiceEntry::new(Service::new(svc(9999), Scheduler::Rr));
        let d = Dest::new(
            "192.0.2.11".parse().expect("ip"),
            9999,
            Forwarding::Direct,
            1,
        );
        e.dests.insert(d.key(), d);
        state.services.insert(svc(9999), e);
        let read = std::cell::Cell::new(0);
        let planned = std::cell::Cell::new(0);
        let read_ref = &read;
        let journal_of = move |services: Vec<ServiceKey>| {
            let journal = IpvsOwned::from_keys(services, vec![]);
            move || {
                read_ref.set(read_ref.get() + 1);
                journal
            }
        };
        let current = || {
            planned.set(planned.get() + 1);
            IpvsOwned::default()
        };
        // An empty kernel: the journal is not even read.
        let mut empty = MockIpvs::with_state(IpvsState::new());
        assert_eq!(
            sweep_lazily(&mut empty, journal_of(vec![svc(80)]), current),
            0
        );
        assert_eq!((read.get(), planned.get()), (0, 0));
        // Only a foreign service: read, nothing planned.
        let mut mock = MockIpvs::with_state(state);
        assert_eq!(
            sweep_lazily(&mut mock, journal_of(vec![svc(80)]), current),
            0
        );
        assert_eq!(
            (read.get(), planned.get()),
            (1, 0),
            "planned with nothing to sweep"
        );
        // A journalled service in the kernel: planned, and swept.
        assert_eq!(
            sweep_lazily(&mut mock, journal_of(vec![svc(9999)]), current),
            1
        );
        assert_eq!((read.get(), planned.get()), (2, 1));
    }

    #[test]
    fn journal_text_round_trips_and_skips_unreadable_entries() {
        let v6: std::net::IpAddr = "2001:db8::7".parse().expect("ip");
        let services = vec![
            svc(80),
            ServiceKey::Addr {
                proto: Protocol::Other(33),
                addr: v6,
                port: 0,
            },
            ServiceKey::Fwmark {
                mark: 5,
                family: rkeepalived_ipvs::model::Family::Inet6,
            },
        ];
        let dests = services
            .iter()
            .map(|s| {
                (
                    *s,
                    DestKey {
                        addr: v6,
                        port: 8080,
                    },
                )
            })
            .collect();
        let owned = IpvsOwned::from_keys(services, dests);
        let json = serde_json::to_string(&owned).expect("encode");
        let back: IpvsOwned = serde_json::from_str(&json).expect("decode");
        assert_eq!(back, owned);
        // A journal of another version (keys as Debug text): nothing matches.
        let old = r#"{"services":["Addr { proto: Tcp, addr: 192.0.2.100, port: 80 }"],"dests":[]}"#;
        let back: IpvsOwned = serde_json::from_str(old).expect("decode");
        assert!(back.is_empty());
    }

    #[test]
    fn union_merges_and_a_clone_shares() {
        let a = IpvsOwned::from_keys(vec![svc(80)], vec![]);
        let b = IpvsOwned::from_keys(vec![svc(81), svc(80)], vec![]);
        let mut u = IpvsOwned::default();
        u.union(&a);
        assert!(
            Arc::ptr_eq(&u.services, &a.services),
            "no copy into an empty set"
        );
        u.union(&b);
        assert_eq!(&u.services[..], &[svc(80), svc(81)]);
        assert!(u.has_service(&svc(81)) && !u.has_service(&svc(82)));
    }
}
