//! SNMP for rkeepalived, as keepalived's Debian build offers it: an AgentX
//! (RFC 2741) subagent that connects to a master agent (net-snmp `snmpd`)
//! and serves KEEPALIVED-MIB from the daemon's configuration and live state.
//!
//! - [`agentx`]: the PDU codec (sans-IO; bad input is a typed error).
//! - [`mib`]: an ordered snapshot of OID → value with Get/GetNext semantics.
//! - [`keepalived_mib`]: builds that snapshot from the validated `Config` and
//!   the engines' status JSON (keepalived/core/snmp.c, vrrp/vrrp_snmp.c,
//!   check/check_snmp.c).
//! - [`subagent`]: the session (open, register, answer, reconnect).

pub mod agentx;
pub mod keepalived_mib;
pub mod mib;
pub mod oid;
pub mod subagent;
pub mod traps;
pub mod vrrp_mib;

pub use agentx::{Pdu, Value};
pub use mib::Mib;
pub use oid::Oid;
