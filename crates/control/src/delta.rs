//! Delta reloads: what changed between two validated configurations, by
//! virtual server.
//!
//! keepalived re-reads the whole file in every process on SIGHUP and then
//! matches the old and new virtual and real servers (check/ipwrapper.c
//! `clear_diff_services()` with `vs_exist()` / `rs_exist()`, check_data.c),
//! so a one-line change of a 2,284-service file (keepalived issue #2318)
//! costs as much as a start. rkeepalived parses once, in the supervisor,
//! which keeps a [`Fingerprints`] of the configuration it handed over: a
//! SHA-256 of the canonical (JSON) encoding of each virtual server, and one
//! of everything else. On a reload it sends the checker a [`ConfigDelta`]
//! when only virtual servers changed: the changed and added ones, in full,
//! and for every other position of the new list the index of the identical
//! virtual server in the previous one (a removed one is simply not named).
//! Anything else changed (global_defs, groups, SSL, VRRP, BFD: a
//! different [`Fingerprints::rest`]) falls back to the full hand-over.
//!
//! The delta's identity is the whole virtual server (its fingerprint), which
//! is finer than keepalived's `vs_exist()` (address, port, protocol or
//! fwmark or group, and `lvs_method`): a virtual server with any change is
//! re-planned whole, and the checker then keeps whatever of it is unchanged
//! (its checkers, their state, its IPVS entries) exactly as a full reload
//! does. The digest of the configuration the delta applies to
//! ([`ConfigDelta::base`]) guards against a checker that does not hold it
//! (a rejected reload, a respawn): it answers that it needs the full one.

use std::sync::Arc;

use rkeepalived_config::model::VirtualServer;
use rkeepalived_config::Config;
use serde::{Deserialize, Serialize};

/// A SHA-256.
pub type Digest = [u8; 32];

/// What the supervisor remembers of a configuration to compute the next
/// delta: a few dozen bytes per virtual server, not the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprints {
    /// Everything but the virtual servers.
    pub rest: Digest,
    /// Each virtual server, in configuration order.
    pub virtual_servers: Vec<Digest>,
    /// Of the whole configuration (`rest` and every virtual server, in
    /// order), hex: what a delta names as its base.
    pub digest: String,
}

/// `io::Write` into a running SHA-256 (serde_json writes token by token).
struct HashWriter(ring::digest::Context);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn digest_of<T: Serialize + ?Sized>(value: &T) -> std::io::Result<Digest> {
    let mut w = std::io::BufWriter::with_capacity(
        1 << 14,
        HashWriter(ring::digest::Context::new(&ring::digest::SHA256)),
    );
    serde_json::to_writer(&mut w, value)?;
    let w = w.into_inner().map_err(|e| e.into_error())?;
    let mut out = [0u8; 32];
    out.copy_from_slice(w.0.finish().as_ref());
    Ok(out)
}

fn hex(d: &[u8]) -> String {
    use std::fmt::Write;
    d.iter()
        .fold(String::with_capacity(d.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl Fingerprints {
    /// The fingerprints of `config` (its virtual servers are put back).
    /// Thousands of virtual servers are hashed on up to 4 threads (on a
    /// reload this is on the way to the checker).
    pub fn of(config: &mut Config) -> std::io::Result<Fingerprints> {
        Self::of_known(config, &[])
    }

    /// [`Fingerprints::of`], taking the digest of virtual server `i` from
    /// `known[i]` where it is `Some` (the supervisor's re-parse cache
    /// keeps those of the virtual servers it did not parse again).
    pub fn of_known(
        config: &mut Config,
        known: &[Option<Digest>],
    ) -> std::io::Result<Fingerprints> {
        let n = config.virtual_servers.len();
        let threads = std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .min(4);
        let digest_at = |i: usize, vs: &VirtualServer| match known.get(i).copied().flatten() {
            Some(d) => Ok(d),
            None => digest_of(vs),
        };
        let missing = (0..n)
            .filter(|&i| known.get(i).copied().flatten().is_none())
            .count();
        let virtual_servers: Vec<Digest> = if missing >= 512 && threads > 1 {
            let size = n.div_ceil(threads);
            std::thread::scope(|scope| {
                let parts: Vec<_> = config
                    .virtual_servers
                    .chunks(size)
                    .enumerate()
                    .map(|(c, part)| {
                        let digest_at = &digest_at;
                        scope.spawn(move || {
                            part.iter()
                                .enumerate()
                                .map(|(j, vs)| digest_at(c * size + j, vs))
                                .collect::<std::io::Result<Vec<_>>>()
                        })
                    })
                    .collect();
                let mut all = Vec::with_capacity(n);
                for part in parts {
                    let part = part
                        .join()
                        .map_err(|_| std::io::Error::other("fingerprint thread panicked"))??;
                    all.extend(part);
                }
                Ok::<_, std::io::Error>(all)
            })?
        } else {
            config
                .virtual_servers
                .iter()
                .enumerate()
                .map(|(i, vs)| digest_at(i, vs))
                .collect::<Result<_, _>>()?
        };
        let vss = std::mem::take(&mut config.virtual_servers);
        let rest = digest_of(&*config);
        config.virtual_servers = vss;
        let rest = rest?;
        let mut all = ring::digest::Context::new(&ring::digest::SHA256);
        all.update(&rest);
        for d in &virtual_servers {
            all.update(d);
        }
        Ok(Fingerprints {
            rest,
            virtual_servers,
            digest: hex(all.finish().as_ref()),
        })
    }
}

/// A copy of `config` without its virtual servers.
pub fn rest_of(config: &Config) -> Config {
    // Every field named: a new one must be decided on here.
    let Config {
        global_defs,
        static_ipaddresses,
        static_routes,
        static_rules,
        vrrp_scripts,
        vrrp_track_files,
        vrrp_track_processes,
        vrrp_sync_groups,
        vrrp_instances,
        virtual_server_groups,
        virtual_servers: _,
        ssl,
        bfd_instances,
    } = config;
    Config {
        global_defs: global_defs.clone(),
        static_ipaddresses: static_ipaddresses.clone(),
        static_routes: static_routes.clone(),
        static_rules: static_rules.clone(),
        vrrp_scripts: vrrp_scripts.clone(),
        vrrp_track_files: vrrp_track_files.clone(),
        vrrp_track_processes: vrrp_track_processes.clone(),
        vrrp_sync_groups: vrrp_sync_groups.clone(),
        vrrp_instances: vrrp_instances.clone(),
        virtual_server_groups: virtual_server_groups.clone(),
        virtual_servers: Vec::new(),
        ssl: ssl.clone(),
        bfd_instances: bfd_instances.clone(),
    }
}

/// One virtual server of the new configuration, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VsSlot {
    /// Identical to the previous configuration's virtual server at this
    /// index.
    Kept(u32),
    /// New or changed: [`ConfigDelta::config`]'s virtual server at this
    /// index.
    Changed(u32),
}

/// A reload as a difference from the configuration the checker holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigDelta {
    /// [`Fingerprints::digest`] of the configuration this applies to.
    pub base: String,
    /// [`Fingerprints::digest`] of the resulting configuration.
    pub digest: String,
    /// The new configuration's virtual servers, in order.
    pub layout: Vec<VsSlot>,
    /// The new configuration with only the changed and added virtual
    /// servers (in the order [`VsSlot::Changed`] names them); everything
    /// else is as in the base (that is what makes a delta possible).
    pub config: Config,
}

impl ConfigDelta {
    /// The delta from the configuration `old` describes to `new` (with
    /// `new_fp`, its fingerprints); `None` when a delta cannot express it:
    /// something besides the virtual servers changed.
    pub fn between(old: &Fingerprints, new_fp: &Fingerprints, new: &Config) -> Option<ConfigDelta> {
        if old.rest != new_fp.rest || old.digest.is_empty() {
            return None;
        }
        if new_fp.virtual_servers.len() != new.virtual_servers.len() {
            return None;
        }
        // Old positions by fingerprint; equal twins are matched in order.
        let mut by_digest: std::collections::HashMap<&Digest, std::collections::VecDeque<u32>> =
            std::collections::HashMap::with_capacity(old.virtual_servers.len());
        for (i, d) in old.virtual_servers.iter().enumerate() {
            by_digest
                .entry(d)
                .or_default()
                .push_back(u32::try_from(i).ok()?);
        }
        let mut layout = Vec::with_capacity(new_fp.virtual_servers.len());
        let mut changed = Vec::new();
        for (i, d) in new_fp.virtual_servers.iter().enumerate() {
            match by_digest.get_mut(d).and_then(|q| q.pop_front()) {
                Some(old_index) => layout.push(VsSlot::Kept(old_index)),
                None => {
                    layout.push(VsSlot::Changed(u32::try_from(changed.len()).ok()?));
                    changed.push(new.virtual_servers.get(i)?.clone());
                }
            }
        }
        let mut config = rest_of(new);
        config.virtual_servers = changed;
        Some(ConfigDelta {
            base: old.digest.clone(),
            digest: new_fp.digest.clone(),
            layout,
            config,
        })
    }

    /// How many virtual servers the delta carries in full.
    pub fn changed(&self) -> usize {
        self.config.virtual_servers.len()
    }

    /// How many previous virtual servers are not kept (removed or changed),
    /// out of `previous`.
    pub fn dropped(&self, previous: usize) -> usize {
        let kept = self
            .layout
            .iter()
            .filter(|s| matches!(s, VsSlot::Kept(_)))
            .count();
        previous.saturating_sub(kept)
    }
}

/// What the checker engine did with a [`DeltaMsg::Apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaOutcome {
    Applied,
    /// The engine does not run [`ConfigDelta::base`]: it needs the whole
    /// configuration.
    BaseMismatch,
    /// The new configuration's plan could not be built; the running one is
    /// kept (as for a full reload).
    Rejected,
}

/// Delta reload messages to an engine (only the checker uses them).
#[derive(Debug)]
pub enum DeltaMsg {
    /// The digest of the configuration the engine was just given in full
    /// (`Start` or `Reload`): a later delta may apply to it.
    Digest(String),
    /// Apply a delta; the outcome is answered.
    Apply(Arc<ConfigDelta>, tokio::sync::oneshot::Sender<DeltaOutcome>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeepalived_config::model::VirtualServer;

    fn vs(port: u16) -> VirtualServer {
        VirtualServer::new(rkeepalived_config::model::VirtualService::Addr {
            addr: "192.0.2.1".parse().unwrap(),
            port: Some(port),
        })
    }

    fn config(ports: &[u16]) -> Config {
        Config {
            virtual_servers: ports.iter().map(|&p| vs(p)).collect(),
            ..Config::default()
        }
    }

    #[test]
    fn unchanged_services_are_named_by_index() {
        let mut a = config(&[1, 2, 3, 4]);
        let fa = Fingerprints::of(&mut a).unwrap();
        let mut b = config(&[1, 5, 3]);
        b.virtual_servers[2].quorum = 2;
        let fb = Fingerprints::of(&mut b).unwrap();
        assert_eq!(b.virtual_servers.len(), 3, "put back");
        let d = ConfigDelta::between(&fa, &fb, &b).expect("delta");
        assert_eq!(d.base, fa.digest);
        assert_eq!(d.digest, fb.digest);
        assert_eq!(
            d.layout,
            [VsSlot::Kept(0), VsSlot::Changed(0), VsSlot::Changed(1)]
        );
        assert_eq!(d.changed(), 2);
        assert_eq!(d.dropped(4), 3);
        assert_eq!(d.config.virtual_servers[1].quorum, 2);
    }

    #[test]
    fn anything_else_changed_means_no_delta() {
        let mut a = config(&[1, 2]);
        let fa = Fingerprints::of(&mut a).unwrap();
        let mut b = config(&[1, 2]);
        b.global_defs.lvs_flush = !b.global_defs.lvs_flush;
        let fb = Fingerprints::of(&mut b).unwrap();
        assert_ne!(fa.digest, fb.digest);
        assert!(ConfigDelta::between(&fa, &fb, &b).is_none());
        // Without a previous configuration: none either.
        assert!(ConfigDelta::between(&Fingerprints::default(), &fb, &b).is_none());
    }

    /// Hashed on several threads or on one: the same fingerprints.
    #[test]
    fn threads_do_not_change_the_fingerprints() {
        let ports: Vec<u16> = (1..=600).collect();
        let mut big = config(&ports);
        let fp = Fingerprints::of(&mut big).unwrap();
        assert_eq!(fp.virtual_servers.len(), 600);
        for (i, vs) in big.virtual_servers.iter().enumerate() {
            assert_eq!(digest_of(vs).unwrap(), fp.virtual_servers[i]);
        }
    }

    #[test]
    fn the_digest_covers_order() {
        let mut a = config(&[1, 2]);
        let mut b = config(&[2, 1]);
        let (fa, fb) = (
            Fingerprints::of(&mut a).unwrap(),
            Fingerprints::of(&mut b).unwrap(),
        );
        assert_ne!(fa.digest, fb.digest);
        let d = ConfigDelta::between(&fa, &fb, &b).expect("delta");
        assert_eq!(d.layout, [VsSlot::Kept(1), VsSlot::Kept(0)]);
        assert_eq!(d.changed(), 0);
    }
}
