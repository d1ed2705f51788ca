//! keepalived's fix-ups: where keepalived 2.2.7 silently (or with a log
//! line) changes a configured value, so do we, with a warning that says
//! "as keepalived does". One function per rule, each naming the keepalived
//! source it mirrors (paths relative to keepalived-2.2.7/keepalived/).
//!
//! Adding fidelity means adding a function here and calling it from the
//! block's `finish()` at the point keepalived applies it.
//!
//! One file per block family, as keepalived splits its own parsers.

mod addresses;
pub(crate) mod bfd;
mod global;
mod lvs;
mod vrrp;
mod vrrp_values;

pub(in crate::parse) use addresses::*;
pub(in crate::parse) use global::*;
pub(crate) use lvs::*;
pub(crate) use vrrp::*;
pub(crate) use vrrp_values::*;

/// rtnetlink route protocol number keepalived uses for routes it tracks.
pub(in crate::parse) const RTPROT_KEEPALIVED: u8 = 18;
