//! The start plan built on a thread of its own, so that it lives in a
//! glibc malloc arena apart from the decoded configuration.
//!
//! The checker child decodes the configuration (the model: several small
//! allocations per real server) and builds its plan (the long-lived
//! `Arc<CheckerSpec>`s, real server lists, ...) from it, then drops the
//! model. Built on the same thread, the plan's objects are interleaved with
//! the model's on the same heap pages, so freeing the model leaves every
//! page partly used and `malloc_trim` can return almost none of them: at
//! keepalived issue #2318 scale (36,544 real servers) the checker's steady
//! RSS was about twice its live heap (bench/scale/README.md, "The running
//! daemon"). A thread's allocations go to its own arena (glibc gives each
//! new thread one while there are fewer than 8 per core), so the model's
//! pages empty completely and are trimmed, and the plan's are dense.
//! Freeing the plan later from another thread is fine (a chunk knows its
//! arena).

use rkeepalived_config::Config;

use crate::error::PlanError;
use crate::spec::CheckPlan;

/// [`crate::plan::from_config`] on a scoped thread; on the calling thread
/// if none can be started (same plan, only a less compact heap).
pub fn from_config_apart(config: &Config) -> Result<CheckPlan, PlanError> {
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name("plan".into())
            .spawn_scoped(s, || crate::plan::from_config(config))
        {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(e) => {
                tracing::debug!("cannot start a thread for the plan ({e}); building it here");
                crate::plan::from_config(config)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_plan_as_on_the_calling_thread() {
        let text = "virtual_server 192.0.2.1 80 {\n  real_server 192.0.2.11 80 {\n    TCP_CHECK {\n    }\n  }\n}\n";
        let loaded =
            rkeepalived_config::parse_str(text, "t.conf", &Default::default()).expect("config");
        assert_eq!(
            super::from_config_apart(&loaded.config).expect("plan"),
            crate::plan::from_config(&loaded.config).expect("plan")
        );
    }
}
