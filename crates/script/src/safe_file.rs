//! Opening files for writing without being tricked by what a non-root user
//! planted at the path: every file the daemon creates or writes (dumps, pid
//! files, log files, notify FIFOs) goes through here.
//!
//! Mirrors keepalived 2.2.7's fixes for CVE-2018-19044/19045/19046:
//! * `fopen_safe(path, "w")` (lib/utils.c): write a fresh temporary file
//!   created `O_EXCL` with owner-only access, `fchmod` it, then `rename` it
//!   over the target. A symlink at the target is replaced, never followed;
//!   nobody who had the old file open can read the new content.
//!   → [`write_replace`].
//! * `fopen_safe(path, "a")` (lib/logger.c `open_log_file`, core/main.c
//!   `-t` file): `O_NOFOLLOW | O_APPEND | O_CREAT`, then `fchmod`.
//!   → [`open_append`].
//! * `fifo_open` (lib/notify.c): `mkfifo`, then
//!   `open(O_RDWR | O_NONBLOCK | O_NOFOLLOW)`. → [`open_fifo`].
//!
//! Beyond keepalived, what was opened is verified with `fstat` on the
//! descriptor (no window between check and use): the right file type, owned
//! by us (or the configured FIFO user), and no second hard link (a hard link
//! to a system file is the symlink attack's twin).
//!
//! Modes are fixed, not derived from the `-u` umask: `-u 0` never makes a
//! dump or FIFO world-writable (keepalived computes `0666 & ~umask`).

use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// keepalived's default `umask_val` (0177) applied to `fopen_safe`'s 0666:
/// what dumps and log files get.
pub const PRIVATE_MODE: u32 = 0o600;
/// Pid files and the `-t` log: `rw-r--r--` whatever the umask (core/pidfile.c
/// `pidfile_write`, core/main.c `-t`).
pub const PUBLIC_MODE: u32 = 0o644;
/// Directories the daemon creates (pid, status socket): `rwxr-xr-x`
/// (core/pidfile.c `create_pid_dir`).
pub const DIR_MODE: u32 = 0o755;

/// Why a path was not opened.
#[derive(Debug, thiserror::Error)]
pub enum SafeFileError {
    #[error("{path} is a symbolic link: refusing to follow it (possible symlink attack)")]
    Symlink { path: PathBuf },
    #[error("{path} is a {found}, not a {expected}: refusing to use it")]
    WrongType {
        path: PathBuf,
        found: &'static str,
        expected: &'static str,
    },
    #[error("{path} is owned by uid {uid}, not by uid {expected}: refusing to use it")]
    Owner {
        path: PathBuf,
        uid: u32,
        expected: u32,
    },
    #[error("{path} has {nlink} hard links: refusing to write to it (possible hard link attack)")]
    HardLinked { path: PathBuf, nlink: u64 },
    #[error("{path}: cannot {op}: {source}")]
    Io {
        path: PathBuf,
        op: &'static str,
        source: io::Error,
    },
}

impl SafeFileError {
    fn io(path: &Path, op: &'static str, source: io::Error) -> Self {
        if source.raw_os_error() == Some(libc::ELOOP) {
            // O_NOFOLLOW on a symlink as the last component.
            return SafeFileError::Symlink {
                path: path.to_owned(),
            };
        }
        SafeFileError::Io {
            path: path.to_owned(),
            op,
            source,
        }
    }
}

/// A human name for a file type, for error messages.
pub fn kind_name(ft: std::fs::FileType) -> &'static str {
    if ft.is_symlink() {
        "symbolic link"
    } else if ft.is_file() {
        "regular file"
    } else if ft.is_dir() {
        "directory"
    } else if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Flags every open here uses on top of its own.
const BASE_FLAGS: i32 = libc::O_NOFOLLOW | libc::O_NOCTTY | libc::O_CLOEXEC;

/// fstat checks on an opened descriptor: type, owner (one of `owners`), one link.
fn verify(
    file: &File,
    path: &Path,
    expected: &'static str,
    is_expected: fn(std::fs::FileType) -> bool,
    owners: &[u32],
) -> Result<std::fs::Metadata, SafeFileError> {
    let meta = file
        .metadata()
        .map_err(|e| SafeFileError::io(path, "fstat", e))?;
    if !is_expected(meta.file_type()) {
        return Err(SafeFileError::WrongType {
            path: path.to_owned(),
            found: kind_name(meta.file_type()),
            expected,
        });
    }
    if !owners.contains(&meta.uid()) {
        return Err(SafeFileError::Owner {
            path: path.to_owned(),
            uid: meta.uid(),
            expected: owners.first().copied().unwrap_or(0),
        });
    }
    if meta.nlink() > 1 {
        return Err(SafeFileError::HardLinked {
            path: path.to_owned(),
            nlink: meta.nlink(),
        });
    }
    Ok(meta)
}

/// An unpredictable temporary name beside `path` (mkostemp's role):
/// `.NAME.XXXXXXXXXXXXXXXX` in the same directory, so the rename is atomic.
fn temp_name(path: &Path) -> PathBuf {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    let base = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{base}.{:016x}", h.finish()))
}

/// Creates `tmp` exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`: an existing
/// file or symlink there is an error, never opened) and sets `mode` exactly.
fn create_exclusive(tmp: &Path, mode: u32) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(BASE_FLAGS)
        .open(tmp)?;
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    Ok(file)
}

/// Replaces `path` with `content` atomically (keepalived's
/// `fopen_safe(path, "w")`): a fresh exclusively-created temporary file in
/// the same directory with exactly `mode`, synced, renamed over `path`.
/// Whatever was at `path` (a symlink to /etc/passwd, a file someone holds
/// open) is replaced, never written through.
pub fn write_replace(path: &Path, content: &[u8], mode: u32) -> Result<(), SafeFileError> {
    let mut attempt = 0;
    let (tmp, mut file) = loop {
        let tmp = temp_name(path);
        match create_exclusive(&tmp, mode) {
            Ok(f) => break (tmp, f),
            // Someone raced us to the (random) name: pick another.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
            Err(e) => return Err(SafeFileError::io(&tmp, "create a temporary file", e)),
        }
    };
    let result = file
        .write_all(content)
        .and_then(|()| file.sync_all())
        .map_err(|e| SafeFileError::io(&tmp, "write", e))
        .and_then(|()| {
            std::fs::rename(&tmp, path).map_err(|e| SafeFileError::io(path, "rename into place", e))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Opens `path` for appending (keepalived's `fopen_safe(path, "a")` for the
/// `-g` log file and `open(O_APPEND | O_NOFOLLOW)` for `-t FILE`): never
/// through a symlink, only a regular file we own with a single link, then
/// set to exactly `mode`.
pub fn open_append(path: &Path, mode: u32) -> Result<File, SafeFileError> {
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode)
        .custom_flags(BASE_FLAGS)
        .open(path)
        .map_err(|e| SafeFileError::io(path, "open", e))?;
    let meta = verify(&file, path, "regular file", |t| t.is_file(), &[euid()])?;
    if meta.mode() & 0o7777 != mode {
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| SafeFileError::io(path, "fchmod", e))?;
    }
    Ok(file)
}

/// A notify FIFO opened for writing.
#[derive(Debug)]
pub struct OpenedFifo {
    pub file: File,
    /// We created it (keepalived removes only FIFOs it created).
    pub created: bool,
}

/// Opens (creating if absent) the notify FIFO at `path` (keepalived's
/// `fifo_open`, lib/notify.c): `mkfifo` 0600, handed to `owner` (the FIFO's
/// configured `uid, gid`) when we created it, opened `O_RDWR | O_NONBLOCK`
/// (no wait for a reader, a slow reader costs lines, never a blocked
/// engine) with `O_NOFOLLOW`. Refused unless what was opened is a FIFO
/// owned by us or by `owner`: a regular file, a device or someone else's
/// FIFO planted at the path is never written.
pub fn open_fifo(path: &Path, owner: Option<(u32, u32)>) -> Result<OpenedFifo, SafeFileError> {
    let created = match nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)) {
        Ok(()) => true,
        Err(nix::errno::Errno::EEXIST) => false,
        Err(e) => return Err(SafeFileError::io(path, "mkfifo", e.into())),
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(BASE_FLAGS | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| SafeFileError::io(path, "open", e))?;
    let me = euid();
    let owners: Vec<u32> = std::iter::once(me)
        .chain(owner.map(|(uid, _)| uid))
        .collect();
    let meta = match verify(&file, path, "FIFO", |t| t.is_fifo(), &owners) {
        Ok(m) => m,
        Err(e) => {
            if created {
                let _ = std::fs::remove_file(path);
            }
            return Err(e);
        }
    };
    if let Some((uid, gid)) = owner.filter(|_| created) {
        if meta.uid() != uid || meta.gid() != gid {
            if let Err(e) = std::os::unix::fs::fchown(&file, Some(uid), Some(gid)) {
                tracing::warn!(path = %path.display(), error = %e, "cannot give the notify FIFO to its user");
            }
        }
    }
    Ok(OpenedFifo { file, created })
}

/// Sets the mode of the socket we just bound at `path`, without following a
/// symlink someone may have swapped in: opened `O_PATH | O_NOFOLLOW`,
/// verified with `fstat` (a socket we own), then changed through
/// `/proc/self/fd` (`fchmod` does not work on `O_PATH` descriptors, and on a
/// socket descriptor it would not reach the file-system node).
pub fn chmod_socket(path: &Path, mode: u32) -> Result<(), SafeFileError> {
    let node = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| SafeFileError::io(path, "open", e))?;
    verify(&node, path, "socket", |t| t.is_socket(), &[euid()])?;
    use std::os::fd::AsRawFd;
    let proc_path = PathBuf::from(format!("/proc/self/fd/{}", node.as_raw_fd()));
    std::fs::set_permissions(&proc_path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| SafeFileError::io(path, "chmod", e))
}

/// `create_dir_all` with `rwxr-xr-x` for every directory it creates, whatever
/// the umask (keepalived's `create_pid_dir`): `-u 0` never yields a
/// world-writable directory.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    struct Dir(PathBuf);
    impl Dir {
        fn new(tag: &str) -> Dir {
            let d = std::env::temp_dir().join(format!("rk-safe-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).expect("dir");
            Dir(d)
        }
        fn p(&self, n: &str) -> PathBuf {
            self.0.join(n)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).expect("stat").mode() & 0o7777
    }

    #[test]
    fn replace_writes_exact_mode_whatever_the_umask() {
        let d = Dir::new("mode");
        let p = d.p("keepalived.data");
        write_replace(&p, b"one", PRIVATE_MODE).expect("write");
        assert_eq!(mode(&p), 0o600);
        write_replace(&p, b"two", PUBLIC_MODE).expect("rewrite");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        assert_eq!(mode(&p), 0o644);
        assert_eq!(
            std::fs::read_dir(&d.0).expect("ls").count(),
            1,
            "no temp left"
        );
    }

    #[test]
    fn replace_does_not_write_through_a_symlink() {
        let d = Dir::new("symlink");
        let target = d.p("passwd");
        std::fs::write(&target, "root:x:0:0\n").expect("target");
        let p = d.p("keepalived.data");
        symlink(&target, &p).expect("plant");
        write_replace(&p, b"dump", PRIVATE_MODE).expect("write");
        assert_eq!(
            std::fs::read_to_string(&target).expect("read"),
            "root:x:0:0\n"
        );
        assert!(std::fs::symlink_metadata(&p)
            .expect("stat")
            .file_type()
            .is_file());
        assert_eq!(mode(&p), 0o600);
    }

    #[test]
    fn exclusive_temp_creation_refuses_a_planted_symlink() {
        let d = Dir::new("tmp");
        let target = d.p("target");
        std::fs::write(&target, "keep").expect("target");
        let tmp = d.p(".k.pid.tmp");
        symlink(&target, &tmp).expect("plant");
        let err = create_exclusive(&tmp, PUBLIC_MODE).expect_err("must refuse");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "keep");
    }

    #[test]
    fn append_refuses_symlinks_hard_links_and_non_files() {
        let d = Dir::new("append");
        let target = d.p("shadow");
        std::fs::write(&target, "secret\n").expect("target");
        let log = d.p("k.log");
        symlink(&target, &log).expect("plant");
        let err = open_append(&log, PRIVATE_MODE).expect_err("symlink");
        assert!(matches!(err, SafeFileError::Symlink { .. }), "{err}");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        std::fs::remove_file(&log).expect("rm");

        std::fs::hard_link(&target, &log).expect("hard link");
        let err = open_append(&log, PRIVATE_MODE).expect_err("hard link");
        assert!(matches!(err, SafeFileError::HardLinked { .. }), "{err}");
        std::fs::remove_file(&log).expect("rm");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "secret\n");

        std::fs::create_dir(&log).expect("dir");
        assert!(open_append(&log, PRIVATE_MODE).is_err());
    }

    #[test]
    fn append_creates_private_and_appends() {
        let d = Dir::new("append2");
        let log = d.p("k.log");
        let mut f = open_append(&log, PRIVATE_MODE).expect("open");
        f.write_all(b"a\n").expect("w");
        drop(f);
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        let mut f = open_append(&log, PRIVATE_MODE).expect("reopen");
        f.write_all(b"b\n").expect("w");
        assert_eq!(std::fs::read_to_string(&log).expect("read"), "a\nb\n");
        assert_eq!(mode(&log), 0o600, "a widened mode is narrowed again");
    }

    #[test]
    fn fifo_refuses_symlink_and_regular_file() {
        let d = Dir::new("fifo");
        let target = d.p("shadow");
        std::fs::write(&target, "secret\n").expect("target");
        let fifo = d.p("notify.fifo");
        symlink(&target, &fifo).expect("plant");
        let err = open_fifo(&fifo, None).expect_err("symlink");
        assert!(matches!(err, SafeFileError::Symlink { .. }), "{err}");
        std::fs::remove_file(&fifo).expect("rm");

        std::fs::write(&fifo, "user data\n").expect("regular");
        let err = open_fifo(&fifo, None).expect_err("regular");
        assert!(
            matches!(
                err,
                SafeFileError::WrongType {
                    found: "regular file",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&fifo).expect("read"), "user data\n");
        std::fs::remove_file(&fifo).expect("rm");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "secret\n");

        let opened = open_fifo(&fifo, None).expect("create");
        assert!(opened.created);
        assert_eq!(mode(&fifo), 0o600);
        let again = open_fifo(&fifo, None).expect("reopen existing");
        assert!(!again.created);
    }

    #[test]
    fn fifo_owned_by_someone_else_is_refused_unless_configured() {
        if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Root]) {
            return;
        }
        let d = Dir::new("fifo-owner");
        let fifo = d.p("notify.fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("fifo");
        std::os::unix::fs::chown(&fifo, Some(65534), Some(65534)).expect("chown");
        let err = open_fifo(&fifo, None).expect_err("foreign owner");
        assert!(
            matches!(err, SafeFileError::Owner { uid: 65534, .. }),
            "{err}"
        );
        open_fifo(&fifo, Some((65534, 65534))).expect("the configured FIFO user may own it");
    }

    #[test]
    fn created_fifo_goes_to_its_configured_user() {
        if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Root]) {
            return;
        }
        let d = Dir::new("fifo-chown");
        let fifo = d.p("notify.fifo");
        open_fifo(&fifo, Some((65534, 65534))).expect("create");
        let meta = std::fs::symlink_metadata(&fifo).expect("stat");
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    }

    #[test]
    fn socket_mode_is_set_and_symlinks_are_refused() {
        let d = Dir::new("sock");
        let sock = d.p("status.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
        chmod_socket(&sock, 0o660).expect("chmod");
        assert_eq!(mode(&sock), 0o660);
        let target = d.p("shadow");
        std::fs::write(&target, "x").expect("target");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let link = d.p("link.sock");
        symlink(&target, &link).expect("plant");
        assert!(chmod_socket(&link, 0o666).is_err());
        assert_eq!(mode(&target), 0o600, "the symlink's target is untouched");
        assert!(matches!(
            chmod_socket(&target, 0o666),
            Err(SafeFileError::WrongType { .. })
        ));
        assert_eq!(mode(&target), 0o600);
    }

    #[test]
    fn dirs_are_not_world_writable_with_umask_zero() {
        let d = Dir::new("dirs");
        // The umask is process-wide: only check the mode we ask for is the
        // upper bound (the test runner's umask may narrow it further).
        let sub = d.p("a/b");
        create_dir_all(&sub).expect("mkdir");
        assert_eq!(mode(&sub) & 0o022, 0);
    }
}
