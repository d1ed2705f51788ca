//! keepalived's SMTP alert e-mails (`notification_email`, `smtp_server`,
//! `smtp_alert`...): the exact dialogue of keepalived 2.2.7's core/smtp.c,
//! sent from a bounded background queue so that a slow or dead mail
//! server never stalls the VRRP or checker engine.
//!
//! [`message`] is the sans-IO core (message and dialogue state machine);
//! [`Mailer`] runs it on tokio with `smtp_connect_timeout` bounding the
//! connection and every read, as keepalived does.

pub mod message;
mod sys;

use std::time::Duration;

use rkeepalived_config::model::GlobalDefs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

pub use message::{Event, Message, Session, Stage, Step};
pub use sys::rfc822_now;

/// Alerts waiting to be sent; beyond this, new alerts are dropped (and
/// logged) rather than queued without bound.
const QUEUE: usize = 64;

/// keepalived's resolved mail settings (`init_global_data()` defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub helo: String,
    pub from: String,
    pub rcpt: Vec<String>,
    pub timeout: Duration,
    /// The subject's `[router_id]` prefix.
    pub router_id: Option<String>,
}

impl Settings {
    /// `None` when keepalived sends nothing: no `notification_email` or no
    /// `smtp_server` (`smtp_alert()`'s first test). Defaults as
    /// global_data.c: router_id, HELO name and From derive from the local
    /// canonical name; From is `<user>@<local name>`.
    pub fn from_global(g: &GlobalDefs) -> Option<Settings> {
        if g.notification_email.is_empty() {
            return None;
        }
        let server = g.smtp_server.as_ref()?;
        let need_local = g.router_id.is_none()
            || g.smtp_helo_name.is_none()
            || g.notification_email_from.is_none();
        let local = if need_local { sys::local_name() } else { None };
        let user = nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map(|u| u.name);
        let from = g.notification_email_from.clone().or_else(|| {
            let (l, u) = (local.as_ref()?, user?);
            Some(format!("{u}@{l}"))
        });
        Some(Settings {
            host: server.host.clone(),
            port: server.port,
            // helo_cmd(): "localhost" when no name could be found.
            helo: g
                .smtp_helo_name
                .clone()
                .or_else(|| local.clone())
                .unwrap_or_else(|| "localhost".into()),
            // glibc prints a NULL email_from as "(null)".
            from: from.unwrap_or_else(|| "(null)".into()),
            rcpt: g.notification_email.clone(),
            timeout: g.smtp_connect_timeout,
            router_id: g.router_id.clone().or(local).filter(|s| !s.is_empty()),
        })
    }

    /// keepalived's `FMT_SMTP_HOST()`: `[192.0.2.25]:25`.
    pub fn server_text(&self) -> String {
        format!("[{}]:{}", self.host, self.port)
    }

    /// The message for `subject` (already with its `VRRP Instance X - `
    /// part) and `body`.
    pub fn message(&self, subject: &str, body: &str) -> Message {
        Message::new(
            &self.helo,
            &self.from,
            &self.rcpt,
            self.router_id.as_deref(),
            subject,
            body,
        )
    }
}

/// vrrp_notify.c `vrrp_smtp_notifier()`: subject (after `VRRP Instance
/// NAME - `) and body for an instance state. `None` for states it does not
/// mail about.
pub fn vrrp_instance_texts(state: &str) -> Option<(&'static str, &'static str)> {
    Some(match state {
        "MASTER" => (
            "Entering MASTER state",
            "=> VRRP Instance is now owning VRRP VIPs <=",
        ),
        "BACKUP" => (
            "Entering BACKUP state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        "FAULT" => (
            "Entering FAULT state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        "STOP" => ("Stopping", "=> VRRP Instance stopping <="),
        "DELETED" => ("Deleted", "=> VRRP Deleted at reload <="),
        _ => return None,
    })
}

/// vrrp_notify.c `vrrp_sync_smtp_notifier()`: the same for a sync group.
pub fn vrrp_group_texts(state: &str) -> Option<(&'static str, &'static str)> {
    Some(match state {
        "MASTER" => (
            "Entering MASTER state",
            "=> All VRRP group instances are now in MASTER state <=",
        ),
        "BACKUP" => (
            "Entering BACKUP state",
            "=> All VRRP group instances are now in BACKUP state <=",
        ),
        "FAULT" => (
            "Entering FAULT state",
            "=> All VRRP group instances are now in FAULT state <=",
        ),
        "STOP" => (
            "Stopping",
            "=> All VRRP group instances are now stopping <=",
        ),
        _ => return None,
    })
}

/// Sends alerts from a background task. Cloning shares the queue.
#[derive(Debug, Clone)]
pub struct Mailer {
    settings: std::sync::Arc<Settings>,
    tx: mpsc::Sender<Message>,
}

impl Mailer {
    /// `None` when nothing is to be mailed (see [`Settings::from_global`])
    /// or when not inside a tokio runtime.
    pub fn new(g: &GlobalDefs) -> Option<Mailer> {
        Mailer::from_settings(Settings::from_global(g)?)
    }

    /// A mailer for already resolved settings (`None` outside a runtime).
    pub fn from_settings(settings: Settings) -> Option<Mailer> {
        let settings = std::sync::Arc::new(settings);
        let rt = tokio::runtime::Handle::try_current().ok()?;
        let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
        let s = settings.clone();
        rt.spawn(async move {
            // One alert at a time, in order, like one keepalived process
            // would mostly see them; each bounded by the timeouts.
            while let Some(msg) = rx.recv().await {
                deliver(&s, msg).await;
            }
        });
        Some(Mailer { settings, tx })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Queue an alert; never waits. A full queue drops the alert (logged).
    pub fn alert(&self, subject: &str, body: &str) {
        let msg = self.settings.message(subject, body);
        if self.tx.try_send(msg).is_err() {
            tracing::warn!(
                "SMTP alert queue to {} full, alert dropped",
                self.settings.server_text()
            );
        }
    }
}

/// One alert, with keepalived's log lines (core/smtp.c) for each failure.
/// The success lines keepalived logs only with `-D` are debug lines here
/// (`-D` sets the default level to debug).
pub async fn deliver(s: &Settings, msg: Message) {
    let host = s.server_text();
    let connect = TcpStream::connect((s.host.as_str(), s.port));
    let mut stream = match tokio::time::timeout(s.timeout, connect).await {
        Err(_) => {
            tracing::info!("Timeout opening connection to remote SMTP server {host}.");
            return;
        }
        Ok(Err(_)) => {
            tracing::info!("SMTP connection ERROR to {host}.");
            return;
        }
        Ok(Ok(st)) => st,
    };
    tracing::debug!("Remote SMTP server {host} connected.");
    let mut session = Session::new(msg, rfc822_now);
    let mut buf = [0u8; message::SMTP_BUFFER_MAX];
    let mut events = Vec::new();
    loop {
        let step = match tokio::time::timeout(s.timeout, stream.read(&mut buf)).await {
            Err(_) => {
                tracing::info!("Timeout reading data to remote SMTP server {host}.");
                session.read_timeout()
            }
            Ok(Err(_)) => {
                tracing::info!("Error reading data from remote SMTP server {host}.");
                session.read_timeout()
            }
            Ok(Ok(0)) => {
                tracing::info!("Remote SMTP server {host} has closed the connection.");
                return;
            }
            Ok(Ok(n)) => session.received(&buf[..n], &mut events),
        };
        for e in events.drain(..) {
            match e {
                Event::BadCode { cmd, code } => tracing::info!(
                    "Error processing {cmd} cmd on SMTP server {host}. SMTP status code = {code}"
                ),
                Event::Sent => tracing::debug!("SMTP alert successfully sent."),
                Event::Overflow => tracing::info!(
                    "Received buffer from remote SMTP server {host} overflow our get read buffer length."
                ),
            }
        }
        match step {
            Step::Read => {}
            Step::Close => return,
            Step::Send(cmd) => {
                let w = stream.write_all(cmd.as_bytes());
                if !matches!(tokio::time::timeout(s.timeout, w).await, Ok(Ok(()))) {
                    tracing::info!("Cannot send data to remote SMTP server {host}.");
                    return;
                }
            }
        }
    }
}
