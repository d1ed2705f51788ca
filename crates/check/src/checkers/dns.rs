//! DNS_CHECK (keepalived check_dns.c): one UDP query; see [`crate::wire::dns`].
//!
//! Query and replies share one deadline of `connect_timeout`, as in
//! keepalived (`dns_recv_thread` re-arms the read with the time left, not
//! a fresh timeout), so stray or flooded datagrams cannot extend it.

use std::time::Duration;

use super::{BoxFuture, CheckOutcome, Checker};
use crate::conn::{is_unreachable, random_u64, udp_connect, Deadline};
use crate::error::CheckFailure;
use crate::spec::{ConnOpts, DnsSpec};
use crate::wire::dns::{classify_reply, encode_query, ReplyVerdict};

pub struct DnsChecker {
    pub conn: ConnOpts,
    pub timeout: Duration,
    pub spec: DnsSpec,
}

impl DnsChecker {
    async fn query(&self) -> Result<(), CheckFailure> {
        let id = random_u64() as u16;
        let query = encode_query(id, &self.spec.name, self.spec.qtype)?;
        let deadline = Deadline::after(self.timeout);
        let sock = udp_connect(&self.conn)?;
        deadline
            .run("DNS query", async {
                sock.send(&query).await.map_err(CheckFailure::Io)?;
                let mut buf = [0u8; 1024];
                loop {
                    let n = match sock.recv(&mut buf).await {
                        Ok(n) => n,
                        Err(e) if is_unreachable(&e) => return Err(CheckFailure::Unreachable(e)),
                        Err(e) => return Err(CheckFailure::Io(e)),
                    };
                    match classify_reply(id, &buf[..n]) {
                        // A flood of stray datagrams must not hold the task
                        // past the deadline: give the timer a look each time.
                        ReplyVerdict::Ignore => {
                            if tokio::time::Instant::now() >= deadline.instant() {
                                return Err(CheckFailure::Timeout("DNS query"));
                            }
                            tokio::task::yield_now().await;
                            continue;
                        }
                        ReplyVerdict::Failed(rcode) => return Err(CheckFailure::DnsRcode(rcode)),
                        ReplyVerdict::Success => return Ok(()),
                    }
                }
            })
            .await
    }
}

impl Checker for DnsChecker {
    fn kind(&self) -> &'static str {
        "DNS_CHECK"
    }

    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async move { self.query().await.into() })
    }
}
