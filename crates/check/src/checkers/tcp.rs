//! TCP_CHECK (keepalived check_tcp.c): a completed TCP connect within
//! connect_timeout means up; the connection is closed right away (with RST,
//! see [`crate::conn::abortive_close`]).

use std::sync::Arc;

use super::{BoxFuture, CheckOutcome, Checker};
use crate::conn::tcp_probe;
use crate::spec::CheckerSpec;

/// Connects to `spec.conn` within `spec.timing.connect_timeout`.
pub struct TcpChecker {
    pub spec: Arc<CheckerSpec>,
}

impl Checker for TcpChecker {
    fn kind(&self) -> &'static str {
        "TCP_CHECK"
    }

    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async move {
            tcp_probe(&self.spec.conn, self.spec.timing.connect_timeout)
                .await
                .into()
        })
    }
}
