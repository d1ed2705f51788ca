//! rkeepalived ipvs (skeleton; see the crate docs once filled in).
