//! rkeepalived check (skeleton; see the crate docs once filled in).
