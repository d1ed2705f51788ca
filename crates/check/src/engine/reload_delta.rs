//! Delta reloads in the engine ([`rkeepalived_control::delta`]): the
//! supervisor names the digest of each configuration it gives in full,
//! and sends later reloads as a difference from it when it can.

use std::time::Instant;

use rkeepalived_control::delta::{DeltaMsg, DeltaOutcome};

use super::Engine;

impl Engine {
    pub(super) fn reload_delta(&mut self, msg: DeltaMsg) {
        match msg {
            DeltaMsg::Digest(digest) => {
                // After a rejected reload the plan is an older one.
                self.config_digest = self.last_reload_ok.then_some(digest);
            }
            DeltaMsg::Apply(delta, reply) => {
                let outcome = if self.config_digest.as_deref() != Some(delta.base.as_str()) {
                    tracing::info!(
                        "delta reload: not based on the running configuration; asking for the whole one"
                    );
                    DeltaOutcome::BaseMismatch
                } else {
                    let started = Instant::now();
                    tracing::info!(
                        "delta reload: {} changed or added virtual server(s) of {}",
                        delta.changed(),
                        delta.layout.len()
                    );
                    let plan = crate::plan_delta::apply(&self.plan, &delta);
                    if self.reload_plan(plan, started, Some(&delta.layout)) {
                        self.config_digest = Some(delta.digest.clone());
                        DeltaOutcome::Applied
                    } else {
                        self.config_digest = None;
                        DeltaOutcome::Rejected
                    }
                };
                let _ = reply.send(outcome);
            }
        }
    }
}
