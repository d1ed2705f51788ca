//! Clean start of a VRRP child: remove VIPs a previous run left behind.
//! The sweep lives with the VRRP engine (`rkeepalived_vrrp::recovery`).

pub use rkeepalived_vrrp::recovery::sweep_stale_vips;
