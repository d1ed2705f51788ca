//! keepalived-style pid files: `<pid>\n`, refused when a live daemon holds
//! the file, removed on exit (only if it still names us).

use std::path::{Path, PathBuf};

use rkeepalived_script::safe_file::{self, SafeFileError};

#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    #[error("{path}: daemon already running with pid {pid}")]
    AlreadyRunning { path: PathBuf, pid: i32 },
    #[error("{path}: cannot write pid file: {source}")]
    Write {
        path: PathBuf,
        source: SafeFileError,
    },
}

/// Parses pid file content as keepalived writes it (`"1234\n"`).
pub fn parse_pid(text: &str) -> Option<i32> {
    text.trim().parse::<i32>().ok().filter(|p| *p > 0)
}

/// The pid recorded in `path`, if that process is alive and looks like a
/// keepalived (ours or the C one: both may share the default paths).
/// A stale file whose pid was reused by an unrelated process is not "live".
pub fn live_pid(path: &Path) -> Option<i32> {
    let pid = parse_pid(&std::fs::read_to_string(path).ok()?)?;
    if pid == std::process::id() as i32 {
        return None;
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => {}
        Err(_) => return None,
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => {
            let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
            let argv0 = String::from_utf8_lossy(argv0);
            let is_keepalived = argv0.contains("keepalived");
            // Our own role children re-exec /proc/self/exe: argv0 is that path.
            let is_exe_alias = argv0 == "/proc/self/exe";
            (is_keepalived || is_exe_alias).then_some(pid)
        }
        Err(_) => Some(pid),
    }
}

/// The parent of `pid` (from /proc), if it can be read.
fn parent_of(pid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|p| p.trim().parse().ok())
}

/// A role child whose supervisor was killed (SIGKILL, OOM) gets SIGTERM
/// from its parent-death signal and stops cleanly — removing its VIPs and
/// IPVS entries, which takes a moment. A daemon restarted at once (a service
/// manager's `Restart=`) finds that child's pid file still live. When the
/// process holding `path` is such an orphan (its parent is not a keepalived
/// any more), wait up to `limit` for it to finish instead of refusing to
/// start; returns the pid still holding the file, if any.
pub fn wait_for_orphaned_child(path: &Path, limit: std::time::Duration) -> Option<i32> {
    let start = std::time::Instant::now();
    let mut announced = false;
    loop {
        let pid = live_pid(path)?;
        let orphan = match parent_of(pid) {
            Some(ppid) => {
                ppid <= 1
                    || !std::fs::read(format!("/proc/{ppid}/cmdline")).is_ok_and(|c| {
                        let argv0 = c.split(|b| *b == 0).next().unwrap_or_default();
                        String::from_utf8_lossy(argv0).contains("keepalived")
                    })
            }
            None => false,
        };
        if !orphan || start.elapsed() >= limit {
            return Some(pid);
        }
        if !announced {
            eprintln!(
                "rkeepalived: {}: pid {pid} belongs to a daemon that died; waiting for it to finish stopping",
                path.display()
            );
            announced = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Refuses when a live daemon holds `path`.
pub fn ensure_not_running(path: &Path) -> Result<(), PidFileError> {
    match live_pid(path) {
        Some(pid) => Err(PidFileError::AlreadyRunning {
            path: path.to_owned(),
            pid,
        }),
        None => Ok(()),
    }
}

/// Writes `pid\n` atomically, mode 0644 whatever the umask (keepalived's
/// `pidfile_write`, core/pidfile.c, opens `O_NOFOLLOW`): through an
/// exclusively created, unpredictably named temporary file renamed over
/// `path`, so a symlink planted at the pid file or at a temporary name is
/// never followed.
pub fn write_pid(path: &Path, pid: u32) -> Result<(), PidFileError> {
    let err = |source| PidFileError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        safe_file::create_dir_all(dir).map_err(|e| {
            err(SafeFileError::Io {
                path: dir.to_owned(),
                op: "create the directory",
                source: e,
            })
        })?;
    }
    safe_file::write_replace(path, format!("{pid}\n").as_bytes(), safe_file::PUBLIC_MODE)
        .map_err(err)
}

/// Removes `path` only if it still records `pid` (a newer daemon may own it).
pub fn remove_if_owned(path: &Path, pid: u32) {
    if let Ok(text) = std::fs::read_to_string(path) {
        if parse_pid(&text) == Some(pid as i32) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A pid file held for the lifetime of the value.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    pid: u32,
}

impl PidFile {
    pub fn create(path: &Path, pid: u32) -> Result<PidFile, PidFileError> {
        ensure_not_running(path)?;
        write_pid(path, pid)?;
        Ok(PidFile {
            path: path.to_owned(),
            pid,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        remove_if_owned(&self.path, self.pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rkd-pid-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("tmpdir");
        d
    }

    #[test]
    fn parse_forms() {
        assert_eq!(parse_pid("123\n"), Some(123));
        assert_eq!(parse_pid(" 7 "), Some(7));
        assert_eq!(parse_pid("0\n"), None);
        assert_eq!(parse_pid("-5"), None);
        assert_eq!(parse_pid("abc"), None);
        assert_eq!(parse_pid(""), None);
    }

    #[test]
    fn create_writes_pid_newline_and_drop_removes() {
        let d = tmpdir("create");
        let p = d.join("k.pid");
        {
            let f = PidFile::create(&p, 4242).expect("create");
            assert_eq!(std::fs::read_to_string(f.path()).expect("read"), "4242\n");
        }
        assert!(!p.exists());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn pid_file_is_0644_and_a_planted_symlink_is_replaced() {
        use std::os::unix::fs::MetadataExt;
        let d = tmpdir("symlink");
        let target = d.join("passwd");
        std::fs::write(&target, "root:x:0:0\n").expect("target");
        let p = d.join("k.pid");
        std::os::unix::fs::symlink(&target, &p).expect("plant");
        // The temporary name of the old implementation, planted too.
        let old_tmp = d.join(format!("k.pid.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&target, &old_tmp).expect("plant tmp");
        write_pid(&p, 4242).expect("write");
        assert_eq!(
            std::fs::read_to_string(&target).expect("read"),
            "root:x:0:0\n"
        );
        let meta = std::fs::symlink_metadata(&p).expect("stat");
        assert!(meta.file_type().is_file());
        assert_eq!(meta.mode() & 0o7777, 0o644);
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "4242\n");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn stale_pid_is_ignored_and_foreign_file_kept() {
        let d = tmpdir("stale");
        let p = d.join("k.pid");
        // pid_max is at most 2^22: this pid cannot be alive.
        std::fs::write(&p, "4194304999\n").expect("write");
        assert!(ensure_not_running(&p).is_ok());
        std::fs::write(&p, "99\n").expect("write");
        remove_if_owned(&p, 98);
        assert!(p.exists(), "a file naming another pid is left alone");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn unrelated_live_process_is_not_a_daemon() {
        let d = tmpdir("unrelated");
        let p = d.join("k.pid");
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep");
        std::fs::write(&p, format!("{}\n", child.id())).expect("write");
        assert!(ensure_not_running(&p).is_ok());
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&d);
    }
}
