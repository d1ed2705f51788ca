//! The crate's one system call outside std: the scheduling class of the
//! re-parse cache's background thread (reparse.rs, spares).

/// Puts the calling thread in `SCHED_IDLE` (Linux: it runs only when
/// nothing else wants the CPU), so preparing the next reload's spares never
/// competes with the reload being applied, nor with a real-time supervisor
/// whose policy the thread would otherwise inherit. Best effort: false if
/// the kernel refused.
pub(crate) fn idle_priority() -> bool {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a fully initialised sched_param that outlives the
    // call; pid 0 is the calling thread; no memory is handed to the kernel
    // beyond the call.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) == 0 }
}
