//! The one libc call this crate needs: keepalived's local-time `Date:`
//! header (`strftime("%a, %d %b %Y %H:%M:%S %z")` of `localtime_r`).
#![allow(unsafe_code)]

/// The current local time as keepalived's `body_cmd()` (core/smtp.c)
/// formats it, e.g. `Mon, 01 Mar 2021 09:44:08 +0000`.
pub fn rfc822_now() -> String {
    // SAFETY: time(NULL) only reads the clock.
    let now = unsafe { libc::time(std::ptr::null_mut()) };
    // SAFETY: `tm` is a plain C struct for which all-zero bytes are valid.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is the
    // thread-safe variant and writes only into `tm`.
    if unsafe { libc::localtime_r(&now, &mut tm) }.is_null() {
        return String::new();
    }
    let mut buf = [0u8; 80];
    let fmt = c"%a, %d %b %Y %H:%M:%S %z";
    // SAFETY: `buf` is writable for `buf.len()` bytes, `fmt` is a NUL-terminated
    // string and `tm` was filled by localtime_r; strftime returns the number of
    // bytes written (0 on overflow), never more than `buf.len()`.
    let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), &tm) };
    String::from_utf8_lossy(&buf[..n.min(buf.len())]).into_owned()
}

/// keepalived's `get_local_name()` (lib/utils.c): the canonical name
/// `getaddrinfo(uname().nodename, AI_CANONNAME)` (gethostname() is the
/// same string) returns, `None` when the
/// lookup fails (keepalived then uses no default From:/HELO name).
pub fn local_name() -> Option<String> {
    let node = nix::unistd::gethostname().ok()?;
    let node = std::ffi::CString::new(node.into_encoded_bytes()).ok()?;
    // SAFETY: an all-zero addrinfo is the documented "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_flags = libc::AI_CANONNAME;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `node` is NUL-terminated, `hints` and `res` are valid pointers;
    // on success `res` is a list we free below with freeaddrinfo.
    let rc = unsafe { libc::getaddrinfo(node.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 || res.is_null() {
        return None;
    }
    // SAFETY: `res` is non-null and was returned by getaddrinfo; its
    // ai_canonname is either null or a NUL-terminated string owned by the
    // list, copied before the list is freed.
    let name = unsafe {
        let c = (*res).ai_canonname;
        let name =
            (!c.is_null()).then(|| std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned());
        libc::freeaddrinfo(res);
        name
    };
    name
}
