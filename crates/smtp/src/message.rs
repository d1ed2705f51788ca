//! Sans-IO core of keepalived's alert mailer (core/smtp.c): the message
//! (subject, body, `To:` header with keepalived's size limits) and the
//! dialogue state machine `SMTP_FSM` (HELO, MAIL FROM, one RCPT TO per
//! address, DATA, headers + body, QUIT), fed with the server's bytes.

/// keepalived's `MAX_HEADERS_LENGTH` (include/smtp.h): the subject buffer.
pub const MAX_HEADERS_LENGTH: usize = 256;
/// keepalived's `MAX_BODY_LENGTH`: the body buffer.
pub const MAX_BODY_LENGTH: usize = 512;
/// keepalived's `SMTP_BUFFER_MAX`: the reply buffer and the `To:` buffer.
pub const SMTP_BUFFER_MAX: usize = 1024;

/// One alert e-mail, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub helo: String,
    pub from: String,
    /// `RCPT TO` addresses, in configuration order.
    pub rcpt: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// Truncate to at most `max` bytes on a character boundary (keepalived's
/// `snprintf`/`strncpy` into fixed buffers, less the NUL).
fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

impl Message {
    /// keepalived's `smtp_alert()`: the subject is `[router_id] ...` (or
    /// the bare text without a router_id), truncated like its buffers.
    pub fn new(
        helo: &str,
        from: &str,
        rcpt: &[String],
        router_id: Option<&str>,
        subject: &str,
        body: &str,
    ) -> Message {
        let subject = match router_id {
            Some(id) => format!("[{id}] {subject}"),
            None => subject.to_string(),
        };
        Message {
            helo: helo.to_string(),
            from: from.to_string(),
            rcpt: rcpt.to_vec(),
            subject: truncate(&subject, MAX_HEADERS_LENGTH - 1),
            body: truncate(body, MAX_BODY_LENGTH - 1),
        }
    }

    /// keepalived's `build_to_header_rcpt_addrs()`: the addresses joined
    /// by ", ", stopping at the first one that no longer fits.
    pub fn to_header(&self) -> String {
        let mut out = String::new();
        let mut available = SMTP_BUFFER_MAX - 1;
        for (i, addr) in self.rcpt.iter().enumerate() {
            if i > 0 {
                if available < 2 {
                    break;
                }
                out.push_str(", ");
                available -= 2;
            }
            if available < addr.len() {
                break;
            }
            out.push_str(addr);
            available -= addr.len();
        }
        out
    }

    /// What `body_cmd()` sends after `354`: `SMTP_HEADERS_CMD SMTP_BODY_CMD
    /// SMTP_SEND_CMD` with `date` (see [`crate::rfc822_now`]).
    pub fn data(&self, date: &str) -> String {
        format!(
            "Date: {date}\r\nFrom: {}\r\nSubject: {}\r\nX-Mailer: Keepalived\r\nTo: {}\r\n\r\n{}\r\n\r\n.\r\n",
            self.from,
            self.subject,
            self.to_header(),
            self.body
        )
    }
}

/// keepalived's `SMTP_FSM` stages after the connection is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Waiting for the `220` greeting.
    Greeting,
    Helo,
    Mail,
    Rcpt,
    Data,
    Body,
    Quit,
    End,
}

impl Stage {
    /// `(expected code, cmd_name)` of `SMTP_FSM`.
    fn expect(self) -> (i32, &'static str) {
        match self {
            Stage::Greeting => (220, "(E)SMTP"),
            Stage::Helo => (250, "HELO"),
            Stage::Mail => (250, "MAIL"),
            Stage::Rcpt => (250, "RCPT"),
            Stage::Data => (354, "DATA"),
            Stage::Body => (250, "BODY"),
            Stage::Quit | Stage::End => (221, "QUIT"),
        }
    }
}

/// What the session wants logged (the caller adds the server `[ip]:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `Error processing %s cmd on SMTP server %s. SMTP status code = %d`.
    BadCode { cmd: &'static str, code: i32 },
    /// `SMTP alert successfully sent.` (keepalived logs it with `-D`).
    Sent,
    /// `Received buffer from remote SMTP server %s overflow our get read
    /// buffer length.`
    Overflow,
}

/// What to do next on the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send these bytes, then read the reply.
    Send(String),
    /// Read more (no complete reply line yet).
    Read,
    /// Close the connection: the dialogue is over.
    Close,
}

/// The dialogue of one alert.
#[derive(Debug)]
pub struct Session {
    msg: Message,
    stage: Stage,
    next_rcpt: usize,
    buf: Vec<u8>,
    date: fn() -> String,
}

impl Session {
    /// A session whose connection was just established (`connect_success`).
    pub fn new(msg: Message, date: fn() -> String) -> Session {
        Session {
            msg,
            stage: Stage::Greeting,
            next_rcpt: 0,
            buf: Vec::new(),
            date,
        }
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The command of the current stage (`SMTP_FSM[stage].send`).
    fn command(&mut self) -> Step {
        let m = &self.msg;
        let cmd = match self.stage {
            Stage::Greeting => return Step::Read,
            Stage::Helo => format!("HELO {}\r\n", m.helo),
            Stage::Mail => format!("MAIL FROM:<{}>\r\n", m.from),
            Stage::Rcpt => {
                // rcpt_cmd(): one RCPT TO per configured address.
                let Some(addr) = m.rcpt.get(self.next_rcpt) else {
                    return Step::Close;
                };
                self.next_rcpt += 1;
                format!("RCPT TO:<{addr}>\r\n")
            }
            Stage::Data => "DATA\r\n".to_string(),
            Stage::Body => m.data(&(self.date)()),
            Stage::Quit => "QUIT\r\n".to_string(),
            Stage::End => return Step::Close,
        };
        Step::Send(cmd)
    }

    /// The server's bytes arrived: `smtp_read_thread()`. An empty `data`
    /// is not end-of-file here; the caller handles EOF and errors.
    pub fn received(&mut self, data: &[u8], events: &mut Vec<Event>) -> Step {
        if self.buf.len() + data.len() >= SMTP_BUFFER_MAX {
            events.push(Event::Overflow);
            self.buf.clear();
            return self.quit();
        }
        self.buf.extend_from_slice(data);
        // The code of the last line of a (multi-line) reply.
        let at = |b: &[u8], i: usize| i32::from(b.get(i).copied().unwrap_or(0));
        let mut pos = 0;
        let mut status = None;
        while pos < self.buf.len() {
            let Some(eol) = self.buf[pos..].windows(2).position(|w| w == b"\r\n") else {
                break;
            };
            let line = &self.buf[pos..];
            if line.get(3) == Some(&b'-') {
                pos += eol + 2;
                continue;
            }
            let b0 = i32::from(b'0');
            status = Some((at(line, 0) - b0) * 100 + (at(line, 1) - b0) * 10 + (at(line, 2) - b0));
            pos += eol + 2;
            break;
        }
        if status.is_none() {
            // Keep the partial line (and skipped continuation lines are gone,
            // as keepalived's memmove drops them).
            self.buf.drain(..pos);
            return Step::Read;
        }
        self.buf.drain(..pos);
        let status = status.unwrap_or_default();
        let (expected, cmd) = self.stage.expect();
        if status == expected {
            match self.stage {
                // rcpt_code(): next address, or on to DATA after the last.
                Stage::Rcpt if self.next_rcpt < self.msg.rcpt.len() => {}
                Stage::Body => {
                    events.push(Event::Sent);
                    self.stage = Stage::Quit;
                }
                Stage::Quit => self.stage = Stage::End,
                s => self.stage = next(s),
            }
        } else {
            events.push(Event::BadCode { cmd, code: status });
            if self.stage == Stage::Quit {
                // keepalived would send QUIT again; a server refusing QUIT
                // could keep it going until the read timeout. We stop.
                return Step::Close;
            }
            self.stage = Stage::Quit;
        }
        self.command()
    }

    /// `Timeout reading data to remote SMTP server`: QUIT, or close if the
    /// QUIT was already sent.
    pub fn read_timeout(&mut self) -> Step {
        if self.stage == Stage::Quit {
            return Step::Close;
        }
        self.quit()
    }

    fn quit(&mut self) -> Step {
        self.stage = Stage::Quit;
        self.command()
    }
}

fn next(s: Stage) -> Stage {
    match s {
        Stage::Greeting => Stage::Helo,
        Stage::Helo => Stage::Mail,
        Stage::Mail => Stage::Rcpt,
        Stage::Rcpt => Stage::Data,
        Stage::Data => Stage::Body,
        Stage::Body => Stage::Quit,
        Stage::Quit | Stage::End => Stage::End,
    }
}
