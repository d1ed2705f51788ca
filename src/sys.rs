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
    use std::os::fd::{AsRawFd, IntoRawFd};
    let null = open(Path::new("/dev/null"), OFlag::O_RDWR, Mode::empty())?;
    nix::unistd::dup2_stdin(&null)?;
    nix::unistd::dup2_stdout(&null)?;
    nix::unistd::dup2_stderr(&null)?;
    if null.as_raw_fd() <= 2 {
        // /dev/null landed on a closed stdio slot: it is that slot now.
        let _ = null.into_raw_fd();
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
    use std::os::fd::{BorrowedFd, IntoRawFd};
    // SAFETY: ipc_fd is the supervisor's end-to-be of the socketpair, open
    // in this freshly forked child until exec; it is only borrowed here.
    let ipc = unsafe { BorrowedFd::borrow_raw(ipc_fd) };
    if ipc_fd == CHILD_IPC_FD {
        // dup2 onto itself is a no-op that keeps FD_CLOEXEC: clear it by hand.
        fcntl(ipc, FcntlArg::F_SETFD(FdFlag::empty()))?;
    } else {
        // dup2 never copies FD_CLOEXEC, so fd 3 survives exec.
        // SAFETY: nothing in the forked child owns CHILD_IPC_FD (the parent
        // marks all its descriptors close-on-exec); dup2 replaces it
        // atomically, and the new descriptor is deliberately leaked to exec.
        let fd3 = unsafe { nix::unistd::dup2_raw(ipc, CHILD_IPC_FD) }?;
        let _ = fd3.into_raw_fd();
    }
    nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
    // The parent may have died between fork and prctl: then nobody would
    // ever send us the death signal.
    if nix::unistd::getppid() != parent {
        return Err(nix::Error::ESRCH);
    }
    Ok(())
}

/// Takes ownership of a socket descriptor inherited across exec (the role
/// child's IPC channel), after checking it really is an open unix socket so
/// a wrong `--ipc-fd` cannot make us own someone else's descriptor.
pub fn take_inherited_socket(fd: RawFd) -> std::io::Result<std::os::unix::net::UnixStream> {
    use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
    // SAFETY: only borrowed for fstat/fcntl; a descriptor that is not open
    // makes fstat fail with EBADF before anything else uses it.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let stat = nix::sys::stat::fstat(borrowed).map_err(std::io::Error::from)?;
    if stat.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a socket",
        ));
    }
    // Keep it from leaking into scripts the engine execs.
    nix::fcntl::fcntl(
        borrowed,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )
    .map_err(std::io::Error::from)?;
    // SAFETY: fd is open (fstat succeeded), is a socket, and was handed to
    // this process by the supervisor for exclusive use; nothing else owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Ok(std::os::unix::net::UnixStream::from(owned))
}

/// Does nothing: the disposition of signals the daemon does not use.
extern "C" fn swallow_signal(_signal: libc::c_int) {}

/// Signals keepalived leaves at their default action
/// (lib/signals.c `signal_handler_parent_init`: SIGILL, SIGFPE, SIGSEGV,
/// SIGBUS, SIGKILL, SIGSTOP), plus the ones we must not catch: SIGCHLD (the
/// runtime reaps children), SIGABRT/SIGTRAP/SIGSYS (crashes, debuggers,
/// seccomp), SIGCONT, and SIGTERM/SIGINT (a stop request before the runtime
/// installs its handlers must still stop the process). SIGPIPE is already
/// ignored by the Rust runtime.
const DEFAULT_ACTION: [libc::c_int; 15] = [
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGCHLD,
    libc::SIGABRT,
    libc::SIGTRAP,
    libc::SIGSYS,
    libc::SIGCONT,
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGPIPE,
    libc::SIGWINCH,
];

/// Keeps every other signal, real-time ones included, from killing the
/// daemon by its default action, like keepalived, which sets all of them to
/// SIG_IGN at start (lib/signals.c `signal_handler_parent_init`; the
/// children inherit it). The signals we use (SIGHUP, SIGUSR1/2, SIGJSON,
/// SIGSTATS_CLEAR) get their real handlers from the runtime afterwards.
///
/// We install a handler that does nothing rather than SIG_IGN: a caught
/// signal is reset to its default on exec, so scripts start with the
/// standard dispositions (what keepalived's `signal_handler_script` restores
/// by hand before exec).
///
/// Must run before the tokio runtime registers its own handlers (it chains
/// to the one found, this no-op). Returns the signals that could not be set.
pub fn swallow_unused_signals() -> Vec<libc::c_int> {
    // glibc reserves the first real-time signals (32, 33) for itself:
    // SIGRTMIN() is the first one applications may use.
    let classic = 1..32;
    let realtime = libc::SIGRTMIN()..=libc::SIGRTMAX();
    let mut failed = Vec::new();
    for sig in classic.chain(realtime) {
        if DEFAULT_ACTION.contains(&sig) {
            continue;
        }
        // SAFETY: `swallow_signal` is async-signal-safe (it does nothing);
        // the sigaction struct is fully initialised (zeroed, then the
        // handler, an empty mask and SA_RESTART so no syscall sees EINTR).
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = swallow_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            failed.push(sig);
        }
    }
    failed
}

/// Hands the memory the allocator holds free back to the kernel, after a
/// config load or reload (a burst of short-lived allocations: the parse
/// tree, the model, the JSON handed to the children). glibc keeps freed
/// chunks in the middle of its heap mapped for reuse; `malloc_trim(0)`
/// returns every whole free page (madvise DONTNEED).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only walks glibc's own free
    // lists under its arena locks; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `SCHED_RESET_ON_FORK` (linux/sched.h; not exported by libc for glibc):
/// threads and processes forked by a real-time thread start SCHED_OTHER.
const SCHED_RESET_ON_FORK: libc::c_int = 0x4000_0000;

fn check_rc(rc: libc::c_int) -> std::io::Result<()> {
    if rc == -1 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Nice value of one thread (`getpriority(PRIO_PROCESS, tid)`: on Linux the
/// nice value is per thread).
pub fn thread_nice(tid: libc::pid_t) -> std::io::Result<i32> {
    let who =
        libc::id_t::try_from(tid).map_err(|_| std::io::Error::from_raw_os_error(libc::ESRCH))?;
    // getpriority may legitimately return -1: clear errno first.
    nix::errno::Errno::clear();
    // SAFETY: plain syscall wrapper taking integers only.
    let v = unsafe { libc::getpriority(libc::PRIO_PROCESS, who) };
    if v == -1 && nix::errno::Errno::last_raw() != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(v)
}

/// `setpriority(PRIO_PROCESS, tid, nice)` for one thread.
pub fn set_thread_nice(tid: libc::pid_t, nice: i32) -> std::io::Result<()> {
    let who =
        libc::id_t::try_from(tid).map_err(|_| std::io::Error::from_raw_os_error(libc::ESRCH))?;
    // SAFETY: plain syscall wrapper taking integers only.
    check_rc(unsafe { libc::setpriority(libc::PRIO_PROCESS, who, nice) })
}

/// `sched_setscheduler(tid, SCHED_RR | SCHED_RESET_ON_FORK, priority)`, as
/// keepalived's `set_process_priorities` (lib/process.c); `None` puts the
/// thread back to SCHED_OTHER (its `reset_process_priorities`).
pub fn set_thread_realtime(tid: libc::pid_t, priority: Option<i32>) -> std::io::Result<()> {
    let (policy, prio) = match priority {
        Some(p) => (libc::SCHED_RR | SCHED_RESET_ON_FORK, p),
        None => (libc::SCHED_OTHER, 0),
    };
    let param = libc::sched_param {
        sched_priority: prio,
    };
    // SAFETY: `param` is a fully initialised sched_param that outlives the
    // call; the kernel only reads it.
    check_rc(unsafe { libc::sched_setscheduler(tid, policy, &param) })
}

/// `mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)` (keepalived's
/// `set_process_dont_swap`), or `munlockall()` when `lock` is false.
pub fn lock_memory(lock: bool) -> std::io::Result<()> {
    if lock {
        // SAFETY: takes flags only; affects this process's page tables.
        check_rc(unsafe {
            libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE | libc::MCL_ONFAULT)
        })
    } else {
        // SAFETY: no arguments.
        check_rc(unsafe { libc::munlockall() })
    }
}

/// `sysconf(_SC_NPROCESSORS_ONLN)`: the bound keepalived's parser checks
/// `*_cpu_affinity` ids against (core/global_parser.c `get_cpu_affinity`).
pub fn online_cpus() -> usize {
    // SAFETY: sysconf takes an integer and reads no memory of ours.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}
