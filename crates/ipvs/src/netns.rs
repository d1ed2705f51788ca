//! keepalived's `net_namespace_ipvs [NAME]`: the IPVS netlink socket is
//! opened in another network namespace than the daemon's (core/namespaces.c
//! `nl_ipvs_connect()` / `set_netns_name()` / `restore_net_namespace()`,
//! check/libipvs.c `ipvs_nl_socket`). A name means /var/run/netns/NAME; no
//! name (`""`) the default namespace, that of pid 1. The calling thread
//! switches, opens the socket and switches back; the socket stays in the
//! namespace it was opened in.

use std::fs::File;
use std::path::PathBuf;
use std::sync::RwLock;

use nix::sched::{setns, CloneFlags};

static NAMESPACE: RwLock<Option<String>> = RwLock::new(None);

/// Sets the namespace every later [`crate::NetlinkIpvs::connect`] opens
/// its socket in (None: the process's own).
pub fn set_ipvs_namespace(name: Option<String>) {
    if let Ok(mut ns) = NAMESPACE.write() {
        *ns = name;
    }
}

/// The namespace set by [`set_ipvs_namespace`].
pub fn ipvs_namespace() -> Option<String> {
    NAMESPACE.read().ok().and_then(|ns| ns.clone())
}

/// keepalived's `open_ipvs_namespace()` path.
pub fn namespace_path(name: &str) -> PathBuf {
    if name.is_empty() {
        PathBuf::from("/proc/1/ns/net")
    } else {
        PathBuf::from("/var/run/netns").join(name)
    }
}

/// Runs `f` with the calling thread in network namespace `name` (None: no
/// switch), then restores the thread's namespace.
pub fn in_namespace<T>(name: Option<&str>, f: impl FnOnce() -> T) -> std::io::Result<T> {
    let Some(name) = name else {
        return Ok(f());
    };
    let (current, target) = match (
        File::open("/proc/thread-self/ns/net"),
        File::open(namespace_path(name)),
    ) {
        (Ok(c), Ok(t)) => (c, t),
        (Err(e), _) | (_, Err(e)) => {
            return Err(std::io::Error::new(
                e.kind(),
                format!(
                    "Failed to open namespace fds, errno {} ({e}) for IPVS namespace '{name}'",
                    e.raw_os_error().unwrap_or(0)
                ),
            ))
        }
    };
    setns(&target, CloneFlags::CLONE_NEWNET).map_err(|e| {
        std::io::Error::other(format!(
            "Open socket - unable to set namespace, errno {} ({})",
            e as i32,
            e.desc()
        ))
    })?;
    let out = f();
    if let Err(e) = setns(&current, CloneFlags::CLONE_NEWNET) {
        // keepalived logs and carries on; a thread left in the wrong
        // namespace would open every later socket there: say so loudly.
        tracing::error!(
            "Open socket - unable to restore default namespace, errno {} ({})",
            e as i32,
            e.desc()
        );
    }
    Ok(out)
}
