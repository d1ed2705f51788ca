//! The daemon's identity on the host: keepalived 2.2.7's root keywords
//! `net_namespace`, `net_namespace_ipvs`, `namespace_with_ipsets`,
//! `instance`, `use_pid_dir` (core/global_parser.c, installed with
//! `install_keyword_root`) and the global_defs process names and
//! `data_use_instance`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonIdentity {
    /// `net_namespace NAME`: run in /run/netns/NAME (`-s` overrides it).
    pub net_namespace: Option<String>,
    /// `net_namespace_ipvs [NAME]`: the namespace of the IPVS socket;
    /// `Some("")` (no name) is the default namespace (/proc/1/ns/net).
    pub net_namespace_ipvs: Option<String>,
    /// `namespace_with_ipsets`.
    pub namespace_with_ipsets: bool,
    /// `instance NAME`: per-instance pid files, syslog ident, dump names.
    pub instance: Option<String>,
    /// `use_pid_dir`: pid files in /run/keepalived/ (implied by
    /// `net_namespace` and `instance`).
    pub use_pid_dir: bool,
    /// `data_use_instance`: `/tmp/keepalived.NS_INSTANCE.data`.
    pub data_use_instance: bool,
    /// `process_name`, `vrrp_process_name`, `checker_process_name`
    /// (`lvs_process_name`), `bfd_process_name`, `process_names`: each
    /// already truncated to 15 bytes as keepalived's `save_process_name`.
    pub process_name: Option<String>,
    pub vrrp_process_name: Option<String>,
    pub checker_process_name: Option<String>,
    pub bfd_process_name: Option<String>,
}

impl DaemonIdentity {
    /// None of these keywords is set (left out of the JSON form then).
    pub fn is_default(&self) -> bool {
        self == &DaemonIdentity::default()
    }
}
