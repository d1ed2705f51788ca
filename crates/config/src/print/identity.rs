//! The root identity keywords and the global_defs process names.

use super::*;

/// `net_namespace`, `instance`, ... (root keywords, before global_defs).
pub(super) fn root(w: &mut Out, id: &DaemonIdentity) {
    opt(w, "net_namespace", id.net_namespace.as_deref().map(q));
    match id.net_namespace_ipvs.as_deref() {
        Some("") => w.line("net_namespace_ipvs"),
        Some(ns) => w.kv("net_namespace_ipvs", q(ns)),
        None => {}
    }
    w.plain("namespace_with_ipsets", id.namespace_with_ipsets);
    opt(w, "instance", id.instance.as_deref().map(q));
    w.plain("use_pid_dir", id.use_pid_dir);
}

/// Process names and `data_use_instance` (inside global_defs).
pub(super) fn global(w: &mut Out, id: &DaemonIdentity) {
    opt(w, "process_name", id.process_name.as_deref().map(q));
    opt(
        w,
        "vrrp_process_name",
        id.vrrp_process_name.as_deref().map(q),
    );
    opt(
        w,
        "checker_process_name",
        id.checker_process_name.as_deref().map(q),
    );
    opt(w, "bfd_process_name", id.bfd_process_name.as_deref().map(q));
    w.plain("data_use_instance", id.data_use_instance);
}
