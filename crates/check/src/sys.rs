//! The crate's only `unsafe`: libc calls that no safe crate wraps.

use std::io;
use std::os::fd::AsRawFd;

/// Hand the memory the allocator holds free back to the kernel.
///
/// Loading a configuration is a burst of short-lived allocations (the
/// config model, the plan, the first desired table); glibc keeps the freed
/// chunks in the middle of its heap mapped for reuse, so a checker for
/// 10,000 real servers would keep megabytes it never touches again.
/// `malloc_trim(0)` returns every whole free page (madvise DONTNEED).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only walks glibc's own free
    // lists under its arena locks; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `connect(fd, AF_UNSPEC)`: the kernel's way to return a connected (or
/// failed) TCP socket to the closed state so it can connect again
/// (tcp_disconnect: an established connection is aborted with RST, as a
/// close with SO_LINGER 0 would do).
pub fn tcp_disconnect(sock: &impl AsRawFd) -> io::Result<()> {
    let unspec = libc::sockaddr {
        sa_family: libc::AF_UNSPEC as libc::sa_family_t,
        sa_data: [0; 14],
    };
    // SAFETY: `unspec` is a valid sockaddr for the length passed and lives
    // across the call; the kernel only reads it. An invalid fd is EBADF.
    let rc = unsafe {
        libc::connect(
            sock.as_raw_fd(),
            &unspec,
            std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// TCP_DEFER_ACCEPT on a client socket: the handshake's final ACK is
/// delayed (tcp_rcv_synsent_state_process), and, unlike TCP_QUICKACK,
/// the setting survives [`tcp_disconnect`].
pub fn set_tcp_defer_accept(sock: &impl AsRawFd, seconds: libc::c_int) -> io::Result<()> {
    // SAFETY: passes a pointer to a live c_int and its exact size; the
    // kernel only reads it. An invalid fd is EBADF.
    let rc = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&seconds as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// How long ago the kernel received the last segment of a TCP
/// connection's peer: the younger of `TCP_INFO`'s `tcpi_last_data_recv`
/// (`lrcvtime`, set by tcp_event_data_recv() for in-order data) and
/// `tcpi_last_ack_recv` (`rcv_tstamp`, set by tcp_ack() for every segment
/// that carries an ACK, the peer's FIN included). Milliseconds at the
/// kernel's tick resolution. Read right after a response has been
/// consumed, it is how long that response waited in the socket for us.
pub fn tcp_last_segment_age(sock: &impl AsRawFd) -> io::Result<std::time::Duration> {
    // SAFETY: all-zero bytes are a valid tcp_info (plain integers).
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: passes a pointer to a live tcp_info and its exact size; the
    // kernel writes at most `len` bytes and updates `len`. An invalid fd
    // is EBADF, a non-TCP socket ENOPROTOOPT.
    let rc = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // Both fields are in the part every kernel since 2.6 fills
    // (include/uapi/linux/tcp.h).
    let ms = info.tcpi_last_data_recv.min(info.tcpi_last_ack_recv);
    Ok(std::time::Duration::from_millis(u64::from(ms)))
}
