//! Delta reloads between the supervisor and its children
//! (rkeepalived_control::delta has the difference itself).
//!
//! On SIGHUP the supervisor compares the new configuration's
//! [`Fingerprints`] with those of the running one and decides per child
//! ([`ReloadPlan::decide`]):
//!
//! * checker: when only virtual servers changed (added, removed, edited,
//!   moved), a [`ToChild::ReloadDelta`] with just those; otherwise the
//!   whole configuration, as before. After each whole configuration it
//!   names its digest ([`ToChild::ConfigDigest`]), the base of the next
//!   delta; a child that does not run that base answers
//!   [`FromChild::NeedFullConfig`] and gets the whole one.
//! * VRRP and BFD children: they read nothing of the virtual servers (the
//!   only thing they take from them, whether a checker runs, is a role
//!   change), so when nothing else changed they are not reloaded at all.
//!   keepalived reloads its VRRP process anyway, and that reload leaves
//!   unchanged instances as they are (vrrp_daemon.c `reload_vrrp_thread()`:
//!   addresses and state kept, no advert or notify of its own); only its
//!   "Reloading" log lines are missing here (documented in the README).
//!
//!
//! The VRRP and BFD children never get the virtual servers at all
//! ([`for_other_children`]).
//!
//! [`FromChild::NeedFullConfig`]: crate::ipc::FromChild::NeedFullConfig

use std::sync::Arc;

use rkeepalived_config::Config;
use rkeepalived_control::delta::{ConfigDelta, DeltaMsg, DeltaOutcome, Fingerprints};
use rkeepalived_control::Control;
use tokio::sync::{mpsc, oneshot};

use crate::cli::Role;
use crate::ipc::{FromChild, ToChild};

/// How a reload reaches each running child.
#[derive(Debug)]
pub struct ReloadPlan {
    /// The checker's delta, if one can express the change.
    pub checker_delta: Option<ConfigDelta>,
    /// Nothing but virtual servers changed: the VRRP and BFD children keep
    /// running as they are.
    pub others_unchanged: bool,
}

impl ReloadPlan {
    /// `old`: the running configuration's fingerprints (empty: no delta);
    /// `roles_same`: the same children run before and after.
    pub fn decide(
        old: &Fingerprints,
        new_fp: &Fingerprints,
        new: &Config,
        roles_same: bool,
    ) -> ReloadPlan {
        if !roles_same || old.digest.is_empty() || new_fp.digest.is_empty() {
            return ReloadPlan {
                checker_delta: None,
                others_unchanged: false,
            };
        }
        let total = new.virtual_servers.len();
        let checker_delta = ConfigDelta::between(old, new_fp, new).filter(|d| {
            let most = mostly_changed(d.changed(), total);
            if most {
                tracing::info!(
                    "reload: {} of {total} virtual servers changed: the checker gets the whole configuration (one encoding, not two)",
                    d.changed()
                );
            }
            !most
        });
        ReloadPlan {
            checker_delta,
            others_unchanged: old.rest == new_fp.rest,
        }
    }
}

/// Whether a delta carrying `changed` of `total` virtual servers is better
/// handed over whole. Such a delta is about as large as the whole
/// configuration, and the whole configuration is encoded anyway (the copy
/// kept for respawns, sent as it is by a whole hand-over): sending the
/// delta would encode the same virtual servers twice. At keepalived issue
/// #2318 size with a weight changed in every virtual server, the delta's
/// own encoding was ~0.4 s of the supervisor's CPU on the host and several
/// seconds in a 2-vCPU guest (issue #17, bench/scale/README.md). The
/// checker's side is the same either way: every virtual server planned and
/// matched, the IPVS changes from the last programmed table.
pub fn mostly_changed(changed: usize, total: usize) -> bool {
    changed > 0 && changed * 2 > total
}

/// The fingerprints of `config`, or empty ones (no delta next time) if it
/// cannot be encoded (it always can: the same encoding goes to the children).
pub fn fingerprints(config: &mut Config) -> Fingerprints {
    Fingerprints::of(config).unwrap_or_else(|e| {
        tracing::warn!("reload: cannot fingerprint the configuration ({e}); the next reload hands it over whole");
        Fingerprints::default()
    })
}

/// [`fingerprints`], reusing the fingerprint the re-parse cache keeps for
/// each virtual server read from a cached statement (and keeping there
/// those computed now), so that a reload hashes only what it parsed.
/// A virtual server with scripts is always hashed (the script check may
/// change it: `ReparseCache::fingerprint_slot`).
pub fn fingerprints_reusing(
    config: &mut Config,
    cache: Option<&rkeepalived_config::ReparseCache>,
) -> Fingerprints {
    let Some(cache) = cache else {
        return fingerprints(config);
    };
    // One look-up per virtual server (each hashes its file's path).
    let slots: Vec<_> = config
        .virtual_servers
        .iter()
        .map(|vs| cache.fingerprint_slot(vs))
        .collect();
    let known: Vec<Option<rkeepalived_control::delta::Digest>> = slots
        .iter()
        .map(|s| s.and_then(|s| s.get().copied()))
        .collect();
    let fp = Fingerprints::of_known(config, &known).unwrap_or_else(|e| {
        tracing::warn!("reload: cannot fingerprint the configuration ({e}); the next reload hands it over whole");
        Fingerprints::default()
    });
    if fp.virtual_servers.len() == slots.len() {
        for (slot, d) in slots.iter().zip(&fp.virtual_servers) {
            if let Some(slot) = slot {
                let _ = slot.set(*d);
            }
        }
    }
    // Debug builds: the reused ones are what hashing would give.
    #[cfg(debug_assertions)]
    if known.iter().any(Option::is_some) {
        assert_eq!(
            fp,
            fingerprints(config),
            "reused fingerprints differ from the configuration's"
        );
    }
    fp
}

/// The configuration the VRRP and BFD children get: no virtual servers or
/// groups (they read none: crates/vrrp, bfd_child.rs), so that a child
/// that never looks at them does not decode tens of MB of them at each
/// start and reload. The one thing the VRRP child took from them, whether
/// a checker runs (engines.rs `engine_config`: then the checker runs the
/// `notify_fifo` script), is applied here: `checker_runs`.
pub fn for_other_children(config: &Config, checker_runs: bool) -> Config {
    let mut rest = rkeepalived_control::delta::rest_of(config);
    rest.virtual_server_groups = Vec::new();
    if checker_runs {
        if let Some(f) = rest.global_defs.notify_fifo.as_mut() {
            f.script = None;
        }
    }
    rest
}

/// The checker child's side of a [`ToChild::ReloadDelta`]: handed to the
/// engine in order with the other messages; its outcome answered without
/// holding up the child's loop.
pub async fn child_reload(
    role: Role,
    delta: ConfigDelta,
    ctl_tx: &mpsc::Sender<Control>,
    out_tx: &mpsc::Sender<FromChild>,
) {
    tracing::info!(
        %role,
        "reloading configuration ({} changed or added virtual server(s))",
        delta.changed()
    );
    let (tx, rx) = oneshot::channel();
    if ctl_tx
        .send(Control::Delta(DeltaMsg::Apply(Arc::new(delta), tx)))
        .await
        .is_err()
    {
        return;
    }
    let out = out_tx.clone();
    tokio::spawn(async move {
        let reply = match rx.await {
            Ok(DeltaOutcome::Applied | DeltaOutcome::Rejected) => FromChild::Reloaded,
            Ok(DeltaOutcome::BaseMismatch) => FromChild::NeedFullConfig,
            // Not a checker engine (it drops the message), or it stopped.
            Err(_) => FromChild::NeedFullConfig,
        };
        let _ = out.send(reply).await;
    });
}

/// The running configuration's fingerprints. At start they are computed
/// on a thread of their own once the configuration is encoded for the
/// children: only the first reload needs them, and the start (the parse,
/// the encoding, the children's decode) need not wait for them.
pub enum KeptFingerprints {
    Ready(Fingerprints),
    Pending(std::thread::JoinHandle<Fingerprints>),
}

impl KeptFingerprints {
    /// Fingerprints `config` in the background (then frees it), keeping
    /// each virtual server's in `reparse` ([`fingerprints_reusing`]).
    pub fn background(
        config: Config,
        reparse: Option<Arc<rkeepalived_config::ReparseCache>>,
    ) -> KeptFingerprints {
        let (tx, rx) = std::sync::mpsc::channel::<Config>();
        let spawned = std::thread::Builder::new()
            .name("fingerprint".into())
            .spawn(move || {
                let Ok(mut config) = rx.recv() else {
                    return Fingerprints::default();
                };
                let fp = fingerprints_reusing(&mut config, reparse.as_deref());
                drop(config);
                drop(reparse);
                crate::sys::release_free_memory();
                fp
            });
        match spawned {
            Ok(handle) => match tx.send(config) {
                Ok(()) => KeptFingerprints::Pending(handle),
                Err(std::sync::mpsc::SendError(mut config)) => {
                    KeptFingerprints::Ready(fingerprints(&mut config))
                }
            },
            Err(_) => {
                // No thread: no delta at the first reload (empty ones).
                KeptFingerprints::Ready(Fingerprints::default())
            }
        }
    }

    /// The fingerprints (waiting for the thread if it is still at it).
    pub fn get(&mut self) -> &Fingerprints {
        static EMPTY: Fingerprints = Fingerprints {
            rest: [0; 32],
            virtual_servers: Vec::new(),
            digest: String::new(),
        };
        if let KeptFingerprints::Pending(_) = self {
            let taken = std::mem::replace(self, KeptFingerprints::Ready(Fingerprints::default()));
            if let KeptFingerprints::Pending(handle) = taken {
                // A panicked thread: empty ones, the next reload is whole.
                *self = KeptFingerprints::Ready(handle.join().unwrap_or_default());
            }
        }
        match self {
            KeptFingerprints::Ready(fp) => fp,
            KeptFingerprints::Pending(_) => &EMPTY,
        }
    }

    /// The fingerprints if they are known already.
    pub fn ready(&self) -> Option<&Fingerprints> {
        match self {
            KeptFingerprints::Ready(fp) => Some(fp),
            KeptFingerprints::Pending(_) => None,
        }
    }
}

/// The message naming `digest` as the checker's base for the next delta.
pub fn digest_message(fp: &Fingerprints) -> Option<ToChild> {
    (!fp.digest.is_empty()).then(|| ToChild::ConfigDigest(fp.digest.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded() -> Config {
        let text = "global_defs {\n  notify_fifo /run/fifo\n  notify_fifo_script /bin/true\n}\n\
            virtual_server_group g {\n  192.0.2.1 80\n}\n\
            virtual_server group g {\n  real_server 192.0.2.2 80 {\n  }\n}\n";
        rkeepalived_config::parse_str(text, "t.conf", &Default::default())
            .expect("parses")
            .config
    }

    /// The VRRP and BFD children's copy has no virtual servers or groups,
    /// and the notify_fifo script goes to the checker when one runs, as
    /// engines.rs `engine_config` decides from the whole configuration.
    #[test]
    fn other_children_get_no_virtual_servers() {
        let cfg = loaded();
        assert!(cfg
            .global_defs
            .notify_fifo
            .as_ref()
            .is_some_and(|f| f.script.is_some()));
        let with_checker = for_other_children(&cfg, true);
        assert!(with_checker.virtual_servers.is_empty());
        assert!(with_checker.virtual_server_groups.is_empty());
        assert!(with_checker
            .global_defs
            .notify_fifo
            .as_ref()
            .is_some_and(|f| f.script.is_none()));
        let alone = for_other_children(&cfg, false);
        assert_eq!(alone.global_defs, cfg.global_defs);
    }

    #[test]
    fn no_delta_when_the_roles_change_or_without_a_base() {
        let mut cfg = loaded();
        let fp = fingerprints(&mut cfg);
        let plan = ReloadPlan::decide(&fp, &fp, &cfg, false);
        assert!(plan.checker_delta.is_none() && !plan.others_unchanged);
        let plan = ReloadPlan::decide(&Fingerprints::default(), &fp, &cfg, true);
        assert!(plan.checker_delta.is_none() && !plan.others_unchanged);
        let plan = ReloadPlan::decide(&fp, &fp, &cfg, true);
        assert!(plan.others_unchanged);
        assert_eq!(plan.checker_delta.map(|d| d.changed()), Some(0));
    }

    #[test]
    fn a_delta_changing_most_virtual_servers_is_handed_over_whole() {
        assert!(!mostly_changed(0, 0));
        assert!(!mostly_changed(1, 2));
        assert!(mostly_changed(2, 3));
        assert!(mostly_changed(1, 1));
        assert!(!mostly_changed(1, 200));
        assert!(mostly_changed(2284, 2284));
        let mut old = loaded();
        let old_fp = fingerprints(&mut old);
        let mut new = old.clone();
        new.virtual_servers[0].real_servers[0].weight += 1;
        let new_fp = fingerprints(&mut new);
        // Its one virtual server changed: whole, with the others untouched.
        let plan = ReloadPlan::decide(&old_fp, &new_fp, &new, true);
        assert!(plan.checker_delta.is_none());
        assert!(plan.others_unchanged);
    }

    #[test]
    fn start_fingerprints_in_the_background_are_the_same() {
        let mut cfg = loaded();
        let direct = fingerprints(&mut cfg);
        let mut kept = KeptFingerprints::background(cfg, None);
        assert_eq!(kept.get(), &direct);
        assert_eq!(kept.ready(), Some(&direct));
    }
}
