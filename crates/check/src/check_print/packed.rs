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
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PackedDump {
    deflated: std::sync::Arc<[u8]>,
}

impl std::fmt::Debug for PackedDump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PackedDump({} bytes deflated)", self.deflated.len())
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
        rkeepalived_control::packed_json::inflate_json(&self.deflated).unwrap_or_else(|e| {
            tracing::warn!("cannot unpack the configuration for keepalived_check.data: {e}");
            DumpConfig::default()
        })
    }
}
