//! rkeepalived vrrp (skeleton; see the crate docs once filled in).
