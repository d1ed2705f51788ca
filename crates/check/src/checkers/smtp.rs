//! SMTP_CHECK (keepalived check_smtp.c): read the 220 banner, send
//! `HELO helo_name`, expect 250, send `QUIT`.
//!
//! The whole conversation runs against one deadline of `connect_timeout`
//! ([`Deadline`]); keepalived re-arms it per read (check_smtp.c
//! `smtp_get_line_cb`), so a server dripping its banner a byte at a time
//! kept the check pending there forever.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{BoxFuture, CheckOutcome, Checker};
use crate::conn::{tcp_connect_by, Deadline};
use crate::error::CheckFailure;
use crate::spec::ConnOpts;
use crate::wire::smtp::ReplyParser;

pub struct SmtpChecker {
    pub conn: ConnOpts,
    pub timeout: Duration,
    pub helo_name: String,
}

impl SmtpChecker {
    async fn converse(&self) -> Result<(), CheckFailure> {
        let deadline = Deadline::after(self.timeout);
        let mut stream = tcp_connect_by(&self.conn, deadline).await?;
        let mut parser = ReplyParser::new();
        expect(&mut stream, &mut parser, deadline, "banner", 220).await?;
        let helo = format!("HELO {}\r\n", self.helo_name);
        deadline
            .run("SMTP HELO", async {
                stream
                    .write_all(helo.as_bytes())
                    .await
                    .map_err(CheckFailure::Io)
            })
            .await?;
        expect(&mut stream, &mut parser, deadline, "HELO", 250).await?;
        // Best effort: a polite QUIT; its reply does not matter.
        let _ = deadline
            .run("SMTP QUIT", async {
                stream
                    .write_all(b"QUIT\r\n")
                    .await
                    .map_err(CheckFailure::Io)
            })
            .await;
        Ok(())
    }
}

async fn expect(
    stream: &mut TcpStream,
    parser: &mut ReplyParser,
    deadline: Deadline,
    stage: &'static str,
    expected: u16,
) -> Result<(), CheckFailure> {
    let mut buf = [0u8; 1024];
    loop {
        let n = deadline
            .run("SMTP reply", async {
                stream.read(&mut buf).await.map_err(CheckFailure::Io)
            })
            .await?;
        if n == 0 {
            return Err(CheckFailure::Closed);
        }
        // One reply per step; the server must not pipeline unasked replies.
        if let (_, Some(code)) = parser.feed(&buf[..n])? {
            return if code == expected {
                Ok(())
            } else {
                Err(CheckFailure::SmtpCode {
                    stage,
                    expected,
                    got: code,
                })
            };
        }
    }
}

impl Checker for SmtpChecker {
    fn kind(&self) -> &'static str {
        "SMTP_CHECK"
    }

    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async move { self.converse().await.into() })
    }
}
