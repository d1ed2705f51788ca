//! The only module with `unsafe`: process-level operations that have no safe
//! wrapper because they must run between fork and exec, or must run before
//! any thread exists (daemonizing).

use std::os::fd::RawFd;
use std::path::Path;

use nix::sys::signal::Signal;
use nix::unistd::{ForkResult, Pid};

/// The fixed descriptor number on which a role child finds its IPC socket.
pub const CHILD_IPC_FD: RawFd = 3;

/// Classic double-fork daemonization (what keepalived does without `-n`):
/// detach from the controlling terminal, new session, cwd `/`, stdio to
/// /dev/null. Must be called while the process is still single-threaded
/// (before the tokio runtime is built).
pub fn daemonize() -> nix::Result<()> {
    // SAFETY: called before any other thread exists (documented contract,
    // main() builds the runtime afterwards), so the child is a faithful copy.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    nix::unistd::setsid()?;
    // SAFETY: still single-threaded, see above.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Parent { .. } => std::process::exit(0),
        ForkResult::Child => {}
    }
    nix::unistd::chdir(Path::new("/"))?;
    redirect_stdio_to_null()
}

fn redirect_stdio_to_null() -> nix::Result<()> {
    use nix::fcntl::{open, OFlag};
    use nix::sys::stat::Mode;
    let null = open(Path::new("/dev/null"), OFlag::O_RDWR, Mode::empty())?;
    for fd in 0..=2 {
        nix::unistd::dup2(null, fd)?;
    }
    if null > 2 {
        nix::unistd::close(null)?;
    }
    Ok(())
}

/// Prepares `cmd` so that the spawned role child gets `ipc_fd` as
/// [`CHILD_IPC_FD`] (without close-on-exec) and receives SIGTERM when the
/// supervisor dies (PR_SET_PDEATHSIG), so a child never outlives its parent
/// holding VIPs while a new daemon starts.
pub fn prepare_role_child(cmd: &mut tokio::process::Command, ipc_fd: RawFd) {
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe syscalls (dup2, fcntl, prctl, getppid); it allocates
    // nothing.
    unsafe {
        cmd.pre_exec(move || child_after_fork(ipc_fd, parent).map_err(std::io::Error::from));
    }
}

fn child_after_fork(ipc_fd: RawFd, parent: Pid) -> nix::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    if ipc_fd == CHILD_IPC_FD {
        // dup2 onto itself is a no-op that keeps FD_CLOEXEC: clear it by hand.
        fcntl(ipc_fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
    } else {
        // dup2 never copies FD_CLOEXEC, so fd 3 survives exec.
        nix::unistd::dup2(ipc_fd, CHILD_IPC_FD)?;
    }
    nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
    // The parent may have died between fork and prctl: then nobody would
    // ever send us the death signal.
    if nix::unistd::getppid() != parent {
        return Err(nix::Error::ESRCH);
    }
    Ok(())
}

/// Moves the whole process into the named network namespace
/// (`-s/--namespace`, like `ip netns exec`). Children inherit it.
pub fn enter_netns(name: &str) -> std::io::Result<()> {
    let path = Path::new("/run/netns").join(name);
    let file = std::fs::File::open(&path)?;
    nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)
}

/// Takes ownership of a socket descriptor inherited across exec (the role
/// child's IPC channel), after checking it really is an open unix socket so
/// a wrong `--ipc-fd` cannot make us own someone else's descriptor.
pub fn take_inherited_socket(fd: RawFd) -> std::io::Result<std::os::unix::net::UnixStream> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let stat = nix::sys::stat::fstat(fd).map_err(std::io::Error::from)?;
    if stat.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a socket",
        ));
    }
    // Keep it from leaking into scripts the engine execs.
    nix::fcntl::fcntl(
        fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )
    .map_err(std::io::Error::from)?;
    // SAFETY: fd is open (fstat succeeded), is a socket, and was handed to
    // this process by the supervisor for exclusive use; nothing else owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(std::os::unix::net::UnixStream::from(owned))
}
