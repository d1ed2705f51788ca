//! `net_namespace NAME` / `-s NAME`: the daemon runs in the network
//! namespace /run/netns/NAME (as `ip netns add` creates it), the way
//! keepalived 2.2.7's core/namespaces.c `set_namespaces()` does it, in the
//! parent before any child exists (children inherit both namespaces):
//!
//! 1. `setns()` into /run/netns/NAME;
//! 2. `set_run_mount()`: create /run/keepalived/NAME (0755), `unshare` a
//!    private mount namespace, make every mount a slave (systemd makes them
//!    shared), and bind-mount /run/keepalived/NAME on /run/keepalived. Inside
//!    the daemon (and the scripts it runs) the pid files are
//!    /run/keepalived/keepalived.pid, ...; outside they are
//!    /run/keepalived/NAME/keepalived.pid, ...
//! 3. on exit, `unmount_run()`: unmount and remove /run/keepalived/NAME if
//!    empty.
//!
//! Where we differ, deliberately: in the private mount namespace /sys is
//! mounted afresh, as `ip netns exec` does, so that /sys/class/net shows the
//! namespace's own interfaces (keepalived reads none of /sys; our GARP code
//! reads an interface's MAC there). If the mount namespace cannot be made
//! (no CAP_SYS_ADMIN in a container), keepalived logs it and writes its pid
//! files into the shared /run/keepalived, where a second daemon would
//! collide; we log the same line and use the outside paths instead.

use std::path::{Path, PathBuf};

use nix::mount::{mount, umount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::instance::KEEPALIVED_PID_DIR;

/// keepalived's `netns_dir` (`RUNSTATEDIR "/netns/"`).
pub const NETNS_DIR: &str = "/run/netns";

/// Why the daemon could not enter its namespace: keepalived's two lines.
#[derive(Debug, thiserror::Error)]
pub enum NamespaceError {
    /// `Failed to open /run/netns/NAME`.
    #[error("Failed to open {}", .0.display())]
    Open(PathBuf),
    /// `setns() failed with error N`.
    #[error("setns() failed with error {0}")]
    Setns(i32),
}

impl NamespaceError {
    /// The line keepalived logs after either: "Unable to set network
    /// namespace NAME - exiting" (core/main.c).
    pub fn exiting(name: &str) -> String {
        format!("Unable to set network namespace {name} - exiting")
    }
}

/// The namespaces this daemon entered; unmounts /run/keepalived and removes
/// /run/keepalived/NAME (when empty) on drop.
#[derive(Debug, Default)]
pub struct Namespaces {
    mount_dir: Option<PathBuf>,
    run_mounted: bool,
    /// keepalived's log lines about the mount namespace (logged once
    /// logging is up).
    pub notes: Vec<String>,
}

impl Namespaces {
    /// Whether /run/keepalived is this daemon's private directory (the pid
    /// files then have keepalived's inside names).
    pub fn run_mounted(&self) -> bool {
        self.run_mounted
    }
}

/// core/namespaces.c `set_namespaces()`. `config_test`: enter the network
/// namespace only (keepalived makes no mount for `-t`). Must be called
/// while the process has one thread (unshare(CLONE_NEWNS) refuses
/// otherwise).
pub fn set_namespaces(name: &str, config_test: bool) -> Result<Namespaces, NamespaceError> {
    let path = Path::new(NETNS_DIR).join(name);
    let file = std::fs::File::open(&path).map_err(|_| NamespaceError::Open(path.clone()))?;
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| NamespaceError::Setns(e as i32))?;
    drop(file);
    let mut ns = Namespaces::default();
    if !config_test {
        set_run_mount(name, &mut ns);
    }
    Ok(ns)
}

/// core/namespaces.c `set_run_mount()`, plus a fresh /sys.
fn set_run_mount(name: &str, ns: &mut Namespaces) {
    let pid_dir = Path::new(KEEPALIVED_PID_DIR);
    let dir = pid_dir.join(name);
    // create_pid_dir() then the namespace's own directory, rwxr-xr-x.
    if let Err(e) = create_dir_0755(pid_dir).and_then(|()| create_dir_0755(&dir)) {
        ns.notes.push(format!(
            "Unable to create directory {} ({e})",
            dir.display()
        ));
        return;
    }
    ns.mount_dir = Some(dir.clone());
    if let Err(e) = unshare(CloneFlags::CLONE_NEWNS) {
        ns.notes.push(format!(
            "mount unshare failed ({}) '{}'",
            e as i32,
            e.desc()
        ));
        return;
    }
    // Make all mounts unshared - systemd makes them shared by default.
    if let Err(e) = mount(
        Some(""),
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    ) {
        ns.notes.push(format!(
            "Mount slave failed, error ({}) '{}'",
            e as i32,
            e.desc()
        ));
    }
    if let Err(e) = mount(
        Some(&dir),
        pid_dir,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    ) {
        ns.notes
            .push(format!("Mount failed, error ({}) '{}'", e as i32, e.desc()));
        return;
    }
    ns.run_mounted = true;
    // Ours, as `ip netns exec`: /sys of this network namespace.
    let _ = umount2("/sys", MntFlags::MNT_DETACH);
    if let Err(e) = mount(
        Some(name),
        "/sys",
        Some("sysfs"),
        MsFlags::empty(),
        None::<&str>,
    ) {
        ns.notes.push(format!(
            "cannot mount /sys for network namespace {name}: {}",
            e.desc()
        ));
    }
}

fn create_dir_0755(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o755).create(dir) {
        Ok(()) => {
            // mkdir is subject to the umask; keepalived clears it for this.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl Drop for Namespaces {
    /// core/namespaces.c `unmount_run()`.
    fn drop(&mut self) {
        if !self.run_mounted {
            return;
        }
        if let Err(e) = umount(KEEPALIVED_PID_DIR) {
            tracing::info!(
                "unmount of {KEEPALIVED_PID_DIR} failed - errno {}",
                e as i32
            );
        }
        if let Some(dir) = &self.mount_dir {
            match std::fs::remove_dir(dir) {
                Ok(()) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ENOTEMPTY) | Some(libc::EBUSY) | Some(libc::ENOENT)
                    ) => {}
                Err(e) => tracing::info!(
                    "unlink of {} failed - error ({}) '{e}'",
                    dir.display(),
                    e.raw_os_error().unwrap_or(0)
                ),
            }
        }
    }
}
