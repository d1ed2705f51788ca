//! Fake checkers whose verdict a test sets per destination, for engine
//! tests through the real parser and plan (MockIpvs instead of the kernel).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rkeepalived_check::checkers::{BoxFuture, CheckOutcome, Checker};
use rkeepalived_check::spec::CheckerSpec;
use rkeepalived_check::{CheckFailure, CheckerFactory};

/// Up while its flag is set. It calls itself a TCP_CHECK, so the engine's
/// log and FIFO lines read as keepalived's for that checker.
struct FlagChecker(Arc<AtomicBool>);

impl Checker for FlagChecker {
    fn kind(&self) -> &'static str {
        "TCP_CHECK"
    }
    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        let up = self.0.load(Ordering::SeqCst);
        Box::pin(async move {
            if up {
                CheckOutcome::Up
            } else {
                CheckOutcome::Down(CheckFailure::NoReply)
            }
        })
    }
}

/// One flag per checked destination, up until set otherwise.
#[derive(Clone, Default)]
pub struct Flags(Arc<Mutex<HashMap<SocketAddr, Arc<AtomicBool>>>>);

impl Flags {
    fn get(&self, dst: SocketAddr) -> Arc<AtomicBool> {
        Arc::clone(
            self.0
                .lock()
                .unwrap()
                .entry(dst)
                .or_insert_with(|| Arc::new(AtomicBool::new(true))),
        )
    }

    /// The verdict of the checkers of `dst` ("ip:port").
    pub fn set(&self, dst: &str, up: bool) {
        self.get(dst.parse().unwrap()).store(up, Ordering::SeqCst);
    }

    /// Builds a [`FlagChecker`] for every checker of the plan.
    pub fn factory(&self) -> CheckerFactory {
        let flags = self.clone();
        Arc::new(move |spec: &Arc<CheckerSpec>, _| {
            Arc::new(FlagChecker(flags.get(spec.conn.dst))) as Arc<dyn Checker>
        })
    }
}
