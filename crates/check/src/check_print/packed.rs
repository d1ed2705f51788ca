//! The dump's configuration as the checker keeps it between dumps
//! ([`PackedDump`]).

use rkeepalived_config::model as cfg;

use super::DumpConfig;

/// [`DumpConfig`]'s fields borrowed from a [`cfg::Config`], serialized in
/// the same shape (so they deserialize into a `DumpConfig`) without first
/// cloning the model.
#[derive(serde::Serialize)]
struct DumpConfigRef<'a> {
    groups: &'a [cfg::VirtualServerGroup],
    virtual_servers: &'a [cfg::VirtualServer],
    ssl: &'a Option<cfg::SslConfig>,
    global_defs: &'a cfg::GlobalDefs,
    track_files: &'a [cfg::VrrpTrackFile],
    bfd_names: Vec<&'a str>,
}

/// The configuration `keepalived_check.data` prints, as the checker keeps
/// it between dumps: [`DumpConfig`]'s JSON, DEFLATE-compressed, unpacked
/// only on SIGUSR1. As a model it was the checker's largest allocation
/// (a second copy of every virtual and real server: at 10,000 real servers
/// the daemon's checker tree went from 20 to 38 MB RSS, bench/check
/// host.sh of 2026-12-06); packed it is a few hundred KB.
///
/// After a delta reload ([`rkeepalived_control::delta`]) the packed copy
/// stays as it was, and `patch` lists the configuration's virtual servers:
/// each one of the packed copy (by index) or one the delta brought. So a
/// delta reload costs the dump only its changed virtual servers.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PackedDump {
    deflated: std::sync::Arc<[u8]>,
    patch: Option<std::sync::Arc<[DumpVs]>>,
}

/// One virtual server of a patched [`PackedDump`].
#[derive(Clone, PartialEq)]
enum DumpVs {
    Packed(u32),
    Own(std::sync::Arc<cfg::VirtualServer>),
}

// The model holds no floats that could be NaN.
impl Eq for DumpVs {}

impl std::fmt::Debug for PackedDump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PackedDump({} bytes deflated", self.deflated.len())?;
        if let Some(p) = &self.patch {
            let own = p.iter().filter(|v| matches!(v, DumpVs::Own(_))).count();
            write!(f, ", {own} of {} virtual servers patched", p.len())?;
        }
        write!(f, ")")
    }
}

impl PackedDump {
    pub fn from_config(c: &cfg::Config) -> Self {
        let parts = DumpConfigRef {
            groups: &c.virtual_server_groups,
            virtual_servers: &c.virtual_servers,
            ssl: &c.ssl,
            global_defs: &c.global_defs,
            track_files: &c.vrrp_track_files,
            bfd_names: c
                .bfd_instances
                .iter()
                .filter(|b| b.checker)
                .map(|b| b.name.as_str())
                .collect(),
        };
        match rkeepalived_control::packed_json::deflate_json(&parts) {
            Ok(deflated) => PackedDump {
                deflated: deflated.into(),
                patch: None,
            },
            Err(e) => {
                // Cannot happen for an in-memory writer; the dump then shows
                // no configuration rather than the checker failing.
                tracing::warn!("cannot keep the configuration for keepalived_check.data: {e}");
                PackedDump::default()
            }
        }
    }

    /// The configuration for one dump (empty if none was packed).
    pub fn unpack(&self) -> DumpConfig {
        if self.deflated.is_empty() {
            return DumpConfig::default();
        }
        let mut dump: DumpConfig = rkeepalived_control::packed_json::inflate_json(&self.deflated)
            .unwrap_or_else(|e| {
                tracing::warn!("cannot unpack the configuration for keepalived_check.data: {e}");
                DumpConfig::default()
            });
        if let Some(patch) = &self.patch {
            let packed = std::mem::take(&mut dump.virtual_servers);
            dump.virtual_servers = patch
                .iter()
                .filter_map(|v| match v {
                    DumpVs::Packed(i) => packed.get(*i as usize).cloned(),
                    DumpVs::Own(vs) => Some(cfg::VirtualServer::clone(vs)),
                })
                .collect();
        }
        dump
    }

    /// This configuration after a delta reload: the virtual servers as
    /// `layout` lists them, the changed ones from `changed` (a delta's
    /// [`rkeepalived_control::delta::ConfigDelta::config`]); the rest of the
    /// configuration is the same by the delta's definition.
    pub fn patched(
        &self,
        layout: &[rkeepalived_control::delta::VsSlot],
        changed: &[cfg::VirtualServer],
    ) -> PackedDump {
        use rkeepalived_control::delta::VsSlot;
        if self.deflated.is_empty() {
            return PackedDump::default();
        }
        let patch: Vec<DumpVs> = layout
            .iter()
            .filter_map(|slot| match *slot {
                VsSlot::Kept(i) => match &self.patch {
                    Some(p) => p.get(i as usize).cloned(),
                    None => Some(DumpVs::Packed(i)),
                },
                VsSlot::Changed(i) => changed
                    .get(i as usize)
                    .map(|vs| DumpVs::Own(std::sync::Arc::new(vs.clone()))),
            })
            .collect();
        PackedDump {
            deflated: std::sync::Arc::clone(&self.deflated),
            patch: Some(patch.into()),
        }
    }
}
