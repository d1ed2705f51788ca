//! rkeepalived: the daemon (supervisor, roles, CLI). The engines live in
//! the workspace crates `rkeepalived-config`, `-vrrp`, `-check`, `-ipvs`.
