//! VRRP engine (RFC 3768 v2, RFC 5798 v3) for IPv4 and IPv6.
//!
//! Pure core: [`wire`] (codec; [`packet`] is an alias), [`auth_ah`] (VRRPv2 IPsec AH,
//! keepalived's variant), [`fsm`] (one instance's state machine: events in, actions out),
//! [`router`] (every instance and sync group: `Router::handle(input, now) -> Vec<Effect>`),
//! [`demux`] (a received advert -> its instances, own-advert filter, receive policy),
//! [`track`] (tracking arithmetic), [`sync_group`] (group coordination).
//!
//! IO edge and engine:
//! * [`run`] ([`engine`]): runs every `vrrp_instance` of a [`rkeepalived_config::Config`]
//!   until `Control::Stop`; handles reload, dumps and metrics.
//! * [`socket`]: raw IP-112 sockets (TTL/hop limit 255, multicast joins, SO_BINDTODEVICE).
//! * [`iface`]: interface lifecycle (sockets and vmacs follow interfaces that appear,
//!   disappear, are re-created or renamed).
//! * [`garp`]: gratuitous ARP (AF_PACKET) and unsolicited neighbour advertisements.
//! * [`ops`]: the edge behind traits (`AddressOps`, `Announce`, `AdvertSocket`), with
//!   the engine's address changes, advert sends and GARP/NA rounds written against them.
//! * [`addr`]: VIPs, virtual routes/rules, vmac links via rtnetlink; link/address events.
//! * [`instance`]: configuration -> fsm parameters, receive policy, adverts, tracking.
//! * [`reload`]: which running instances a reload keeps, updates in place, or restarts.
//! * [`recovery`]: the stale-VIP sweep before the engine starts.
//! * [`firewall`]: keepalived's nftables rules (no accept mode, vmac reports).
//! * [`timer`]: timerfd-precise wake-ups for fsm deadlines (tokio's timer ticks in ms).
//! * [`watch`]: vrrp_script pollers and track file readers; [`track_process`]:
//!   vrrp_track_process (process-event connector, /proc fallback); [`notify`]: scripts + FIFO;
//!   [`metrics`]: Prometheus text. `sys` holds the crate's only `unsafe`.

pub mod auth_ah;
pub mod demux;
pub mod fsm;
pub mod router;
pub mod sync_group;
pub mod track;
pub mod wire;

pub mod addr;
pub mod engine;
pub mod error;
pub mod firewall;
pub mod garp;
pub mod iface;
pub mod instance;
pub mod late_wakeup;
pub mod mail;
pub mod metrics;
pub mod notify;
pub mod ops;
pub mod proc_event;
pub mod proc_table;
pub mod progress;
pub mod recovery;
pub mod reload;
pub mod socket;
#[allow(unsafe_code)]
mod sys;
pub mod timer;
pub mod track_process;
pub mod watch;

pub use engine::{run, run_with, RunOptions};
pub use error::{NetlinkError, SocketError, VrrpError};
/// The codec's former name, kept for existing users.
pub use wire as packet;
