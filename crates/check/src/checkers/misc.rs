//! MISC_CHECK (keepalived check_misc.c): run `misc_path` for at most
//! `misc_timeout` (default delay_loop). Exit 0 = up, anything else (or a
//! timeout or signal) = down. With `misc_dynamic`: 0 = up, 1 = down,
//! 2..=255 = up with the real server's weight set to status - 2.

use std::time::Duration;

use rkeepalived_script::{ExitStatusKind, ScriptRunner};

use super::{BoxFuture, CheckOutcome, Checker};
use crate::error::CheckFailure;
use crate::spec::MiscSpec;

pub struct MiscChecker {
    pub runner: ScriptRunner,
    pub spec: MiscSpec,
    pub timeout: Duration,
}

/// Map a script result to a check outcome (pure; unit-tested).
pub fn outcome_of(status: ExitStatusKind, dynamic: bool) -> CheckOutcome {
    match status {
        ExitStatusKind::Exited(0) => CheckOutcome::Up,
        ExitStatusKind::Exited(code) if dynamic && (2..=255).contains(&code) => {
            CheckOutcome::UpWithWeight(code - 2)
        }
        ExitStatusKind::Exited(code) => CheckOutcome::Down(CheckFailure::ScriptExit(code)),
        ExitStatusKind::Signaled(sig) => CheckOutcome::Down(CheckFailure::ScriptSignal(sig)),
        ExitStatusKind::TimedOut => CheckOutcome::Down(CheckFailure::ScriptTimeout),
    }
}

impl Checker for MiscChecker {
    fn kind(&self) -> &'static str {
        "MISC_CHECK"
    }

    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async move {
            if let Some(why) = &self.spec.refused {
                return CheckOutcome::Down(CheckFailure::ScriptRefused(why.clone()));
            }
            match self.runner.run(&self.spec.script, &[], self.timeout).await {
                Ok(out) => outcome_of(out.status, self.spec.dynamic),
                Err(e) => CheckOutcome::Down(CheckFailure::Script(e)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_keepalived() {
        assert!(matches!(
            outcome_of(ExitStatusKind::Exited(0), false),
            CheckOutcome::Up
        ));
        assert!(matches!(
            outcome_of(ExitStatusKind::Exited(2), false),
            CheckOutcome::Down(_)
        ));
        assert!(matches!(
            outcome_of(ExitStatusKind::Exited(0), true),
            CheckOutcome::Up
        ));
        assert!(matches!(
            outcome_of(ExitStatusKind::Exited(1), true),
            CheckOutcome::Down(_)
        ));
        assert!(matches!(
            outcome_of(ExitStatusKind::Exited(2), true),
            CheckOutcome::UpWithWeight(0)
        ));
        assert!(matches!(
            outcome_of(ExitStatusKind::Exited(255), true),
            CheckOutcome::UpWithWeight(253)
        ));
        assert!(matches!(
            outcome_of(ExitStatusKind::TimedOut, true),
            CheckOutcome::Down(CheckFailure::ScriptTimeout)
        ));
        assert!(matches!(
            outcome_of(ExitStatusKind::Signaled(9), false),
            CheckOutcome::Down(_)
        ));
    }
}
