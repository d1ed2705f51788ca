//! The typed configuration model.
//!
//! Every value here is *effective*: the parser fills keepalived 2.2.7's
//! defaults (keepalived.conf(5)) and resolves inheritance (global -> instance,
//! virtual server -> real server -> checker), so engines never need to know a
//! default. Where keepalived leaves something to run time (e.g. router_id
//! defaults to the host name) the field is an `Option` and the doc says what
//! `None` means.
//!
//! Everything is `Serialize + Deserialize` because the supervisor hands the
//! validated config to child processes as JSON.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// keepalived 2.2.7 defaults, in one place so parser, printer and tests agree.
pub mod defaults {
    use super::*;

    pub const ADVERT_INT: Duration = Duration::from_secs(1);
    pub const PRIORITY: u8 = 100;
    /// RFC 5798 §5.2.7: priority 255 is the address owner.
    pub const PRIORITY_OWNER: u8 = 255;
    pub const GARP_MASTER_DELAY: Duration = Duration::from_secs(5);
    pub const GARP_MASTER_REPEAT: u32 = 5;
    pub const GARP_MASTER_REFRESH_REPEAT: u32 = 1;
    pub const DOWN_TIMER_ADVERTS: u32 = 3;
    pub const MCAST_GROUP4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
    pub const MCAST_GROUP6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
    pub const DEFAULT_INTERFACE: &str = "eth0";
    pub const SMTP_PORT: u16 = 25;
    pub const SMTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
    pub const SCRIPT_INTERVAL: Duration = Duration::from_secs(1);
    pub const SCRIPT_RISE: u32 = 1;
    pub const SCRIPT_FALL: u32 = 1;
    pub const TRACK_FILE_WEIGHT: i32 = 1;
    pub const DELAY_LOOP: Duration = Duration::from_secs(60);
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// `retry` default for every checker except DNS_CHECK (3) and MISC_CHECK (0).
    pub const RETRY: u32 = 1;
    pub const RETRY_DNS: u32 = 3;
    pub const RETRY_MISC: u32 = 0;
    /// `delay_before_retry` default except HTTP/SSL (3s) and DNS (= delay_loop).
    pub const DELAY_BEFORE_RETRY: Duration = Duration::from_secs(1);
    pub const DELAY_BEFORE_RETRY_HTTP: Duration = Duration::from_secs(3);
    pub const WEIGHT: u32 = 1;
    pub const QUORUM: u32 = 1;
    pub const HYSTERESIS: u32 = 0;
    /// `persistence_timeout` given without a value.
    pub const PERSISTENCE_TIMEOUT: Duration = Duration::from_secs(360);
    pub const LVS_SYNC_PORT: u16 = 8848;
    pub const LVS_SYNC_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 81);
    pub const UDP_MAX_REPLY_LENGTH: u32 = 255;
    pub const SMTP_HELO_NAME: &str = "smtpchecker.keepalived.org";
    pub const DNS_NAME: &str = ".";
    pub const VMAC_PREFIX: &str = "vrrp";
    pub const STARTUP_SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);
    /// auth_type PASS carries at most 8 octets (RFC 2338 §5.3.10).
    pub const AUTH_PASS_MAX_LEN: usize = 8;
}

/// Where an object was defined (for later diagnostics). Deliberately ignored
/// by equality: a reload diff or a print/parse round-trip compares
/// configuration, not layout.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Origin {
    /// Shared by every object of the same file: the lexer's one `Arc` per
    /// file, and again after a round trip through JSON (the `shared_path` serde adapter).
    /// A `PathBuf` each cost two allocations' worth (~56 bytes) per real
    /// server and checker at keepalived issue #2318 scale.
    #[serde(with = "shared_path")]
    pub file: Arc<PathBuf>,
    pub line: u32,
}

/// (De)serializes an [`Origin`] file as a plain path; consecutive equal
/// paths deserialize to one shared `Arc` (a configuration's objects come
/// file by file), so a child process's copy of the model shares them as
/// the parser's does.
mod shared_path {
    use std::cell::RefCell;
    use std::path::PathBuf;
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    thread_local! {
        static LAST: RefCell<Option<Arc<PathBuf>>> = const { RefCell::new(None) };
    }

    pub fn serialize<S: Serializer>(p: &Arc<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
        p.as_path().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<PathBuf>, D::Error> {
        let p = PathBuf::deserialize(d)?;
        Ok(LAST.with(|last| {
            let mut last = last.borrow_mut();
            match &*last {
                Some(a) if **a == p => a.clone(),
                _ => {
                    let a = Arc::new(p);
                    *last = Some(a.clone());
                    a
                }
            }
        }))
    }
}

impl PartialEq for Origin {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// A whole, validated keepalived.conf.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub global_defs: GlobalDefs,
    /// `static_ipaddress { }`: addresses configured regardless of VRRP state.
    pub static_ipaddresses: Vec<VirtualIpAddress>,
    pub static_routes: Vec<VirtualRoute>,
    pub static_rules: Vec<VirtualRule>,
    pub vrrp_scripts: Vec<VrrpScript>,
    pub vrrp_track_files: Vec<VrrpTrackFile>,
    #[serde(default)]
    pub vrrp_track_processes: Vec<VrrpTrackProcess>,
    pub vrrp_sync_groups: Vec<VrrpSyncGroup>,
    pub vrrp_instances: Vec<VrrpInstance>,
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    pub virtual_servers: Vec<VirtualServer>,
    /// Top-level `SSL { }` block used by SSL_GET checkers.
    pub ssl: Option<SslConfig>,
    /// `bfd_instance NAME { }` blocks (model/bfd.rs), in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bfd_instances: Vec<BfdInstance>,
}

impl Config {
    pub fn vrrp_script(&self, name: &str) -> Option<&VrrpScript> {
        self.vrrp_scripts.iter().find(|s| s.name == name)
    }
    pub fn vrrp_track_file(&self, name: &str) -> Option<&VrrpTrackFile> {
        self.vrrp_track_files.iter().find(|s| s.name == name)
    }
    pub fn vrrp_track_process(&self, name: &str) -> Option<&VrrpTrackProcess> {
        self.vrrp_track_processes.iter().find(|s| s.name == name)
    }
    pub fn vrrp_instance(&self, name: &str) -> Option<&VrrpInstance> {
        self.vrrp_instances.iter().find(|s| s.name == name)
    }
    pub fn virtual_server_group(&self, name: &str) -> Option<&VirtualServerGroup> {
        self.virtual_server_groups.iter().find(|s| s.name == name)
    }
    /// The sync group an instance belongs to, if any.
    pub fn sync_group_of(&self, instance: &str) -> Option<&VrrpSyncGroup> {
        self.vrrp_sync_groups
            .iter()
            .find(|g| g.group.iter().any(|m| m == instance))
    }
}

// ---------------------------------------------------------------------------
// Shared small types
// ---------------------------------------------------------------------------

/// `user USERNAME [GROUPNAME]` (also `script_user`). No group = the user's group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptUser {
    pub user: String,
    pub group: Option<String>,
}

/// A script to run: `<STRING>|<QUOTED-STRING> [username [groupname]]`.
/// `command` is the command line as written (after unquoting); the script
/// crate splits it into argv with keepalived's rules. `user: None` means the
/// global `script_user` (default keepalived_script, else root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    pub command: String,
    pub user: Option<ScriptUser>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddressFamily {
    Inet,
    Inet6,
}

impl AddressFamily {
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        }
    }
}

/// An address with prefix length, e.g. `192.0.2.0/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpPrefix {
    pub addr: IpAddr,
    pub len: u8,
}

impl std::fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Route/address scope (`ip addr ... scope S`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Global,
    Site,
    Link,
    Host,
    Nowhere,
    /// Numeric scope not covered by a name.
    Other(u8),
}

impl Scope {
    pub fn as_u8(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Site => 200,
            Scope::Link => 253,
            Scope::Host => 254,
            Scope::Nowhere => 255,
            Scope::Other(n) => n,
        }
    }
}

/// A tracked object with its weight: `NAME [weight N [reverse|noreverse]]`.
/// The weight is resolved (an omitted weight takes the weight declared in the
/// tracked object's definition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackRef {
    pub name: String,
    pub weight: i32,
    pub reverse: bool,
}

mod addresses;
mod announce;
mod bfd;
mod checkers;
mod global;
mod identity;
mod lvs;
mod vrrp;

pub use addresses::*;
pub use announce::*;
pub use bfd::*;
pub use checkers::*;
pub use global::*;
pub use identity::*;
pub use lvs::*;
pub use vrrp::*;
