//! Process limits the supervisor sets for itself (and its children inherit).

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// The soft `RLIMIT_NOFILE` we ask for (the hard limit permitting): the
/// checker child opens one socket per running check, and the supervisor
/// must always keep descriptors for a respawn (socketpair, exec), a reload
/// and a dump. Higher soft limits are kept as they are.
pub const WANTED_NOFILE: u64 = 65_536;

/// Raises the soft `RLIMIT_NOFILE` towards [`WANTED_NOFILE`], capped by the
/// hard limit, as keepalived's `set_max_file_limit()` (lib/process.c) does
/// for its own needs. Returns the soft limit in force afterwards.
pub fn raise_nofile_limit() -> Option<u64> {
    let (soft, hard) = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok(l) => l,
        Err(e) => {
            tracing::info!("cannot read RLIMIT_NOFILE: {e}");
            return None;
        }
    };
    let want = WANTED_NOFILE.min(hard);
    if soft >= want {
        return Some(soft);
    }
    match setrlimit(Resource::RLIMIT_NOFILE, want, hard) {
        Ok(()) => {
            tracing::debug!("open file limit raised from {soft} to {want} (hard {hard})");
            Some(want)
        }
        Err(e) => {
            tracing::info!("cannot raise the open file limit from {soft} to {want}: {e}");
            Some(soft)
        }
    }
}
