//! Clean start of a VRRP child: remove the VIPs, routes and rules a previous
//! run left behind, with the supervisor's journal of what earlier
//! configurations owned. The sweep lives with the VRRP engine
//! (`rkeepalived_vrrp::recovery`).

pub use rkeepalived_vrrp::recovery::*;
