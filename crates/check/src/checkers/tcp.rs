//! TCP_CHECK (keepalived check_tcp.c): a completed TCP connect within
//! connect_timeout means up; the connection is closed right away (with RST,
//! see [`abortive_close`]).

use std::time::Duration;

use super::{BoxFuture, CheckOutcome, Checker};
use crate::conn::{abortive_close, tcp_connect};
use crate::spec::ConnOpts;

pub struct TcpChecker {
    pub conn: ConnOpts,
    pub timeout: Duration,
}

impl Checker for TcpChecker {
    fn kind(&self) -> &'static str {
        "TCP_CHECK"
    }

    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async move {
            tcp_connect(&self.conn, self.timeout)
                .await
                .map(abortive_close)
                .into()
        })
    }
}
