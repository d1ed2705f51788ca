//! keepalived's alert dialogue (core/smtp.c) byte for byte, against a
//! fake SMTP server on loopback; and the failure paths keep the sender
//! bounded (connect/read timeouts = smtp_connect_timeout).

use std::time::{Duration, Instant};

use rkeepalived_config::model::{GlobalDefs, SmtpServer};
use rkeepalived_smtp::{deliver, Event, Message, Session, Settings, Step};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

fn fixed_date() -> String {
    "Mon, 01 Mar 2021 09:44:08 +0000".into()
}

fn msg() -> Message {
    Message::new(
        "lb1.example.org",
        "keepalived@example.org",
        &["ops@example.org".into(), "noc@example.org".into()],
        Some("LB1"),
        "VRRP Instance VI_1 - Entering MASTER state",
        "=> VRRP Instance is now owning VRRP VIPs <=",
    )
}

/// The whole dialogue, the bytes of every command (notification_email with
/// two addresses: two RCPT TO, one To: header).
#[test]
fn message_builder_exact_bytes() {
    let mut s = Session::new(msg(), fixed_date);
    let mut ev = Vec::new();
    let mut sent = Vec::new();
    for reply in [
        "220 mail ESMTP\r\n",
        "250 hello\r\n",
        "250 ok\r\n",
        "250 ok\r\n",
        "250 ok\r\n",
        "354 go\r\n",
        "250 queued\r\n",
    ] {
        match s.received(reply.as_bytes(), &mut ev) {
            Step::Send(c) => sent.push(c),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(s.received(b"221 bye\r\n", &mut ev), Step::Close);
    assert_eq!(ev, vec![Event::Sent]);
    assert_eq!(
        sent,
        vec![
            "HELO lb1.example.org\r\n",
            "MAIL FROM:<keepalived@example.org>\r\n",
            "RCPT TO:<ops@example.org>\r\n",
            "RCPT TO:<noc@example.org>\r\n",
            "DATA\r\n",
            "Date: Mon, 01 Mar 2021 09:44:08 +0000\r\nFrom: keepalived@example.org\r\n\
             Subject: [LB1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n\
             To: ops@example.org, noc@example.org\r\n\r\n\
             => VRRP Instance is now owning VRRP VIPs <=\r\n\r\n.\r\n",
            "QUIT\r\n",
        ]
    );
}

/// Multi-line replies count by their last line; a partial line waits; a
/// wrong code logs keepalived's error and goes to QUIT.
#[test]
fn replies_multiline_partial_and_wrong_code() {
    let mut s = Session::new(msg(), fixed_date);
    let mut ev = Vec::new();
    // "220 la" has no line end yet: wait for the rest.
    assert_eq!(s.received(b"220-first\r\n220 la", &mut ev), Step::Read);
    assert_eq!(
        s.received(b"st\r\n", &mut ev),
        Step::Send("HELO lb1.example.org\r\n".into())
    );
    assert_eq!(
        s.received(b"250 hi\r\n", &mut ev),
        Step::Send("MAIL FROM:<keepalived@example.org>\r\n".into())
    );
    assert_eq!(
        s.received(b"550 no such user\r\n", &mut ev),
        Step::Send("QUIT\r\n".into())
    );
    assert_eq!(
        ev,
        vec![Event::BadCode {
            cmd: "MAIL",
            code: 550
        }]
    );
    assert_eq!(s.received(b"221 bye\r\n", &mut ev), Step::Close);
    // Read timeout before QUIT sends QUIT, after QUIT closes.
    let mut s = Session::new(msg(), fixed_date);
    assert_eq!(s.read_timeout(), Step::Send("QUIT\r\n".into()));
    assert_eq!(s.read_timeout(), Step::Close);
}

/// keepalived's buffers: subject 255 bytes, body 511 bytes.
#[test]
fn subject_and_body_truncated_like_keepalived() {
    let long = "x".repeat(2000);
    let m = Message::new("h", "f", &["a@example.org".into()], Some("R"), &long, &long);
    assert_eq!(m.subject.len(), 255);
    assert!(m.subject.starts_with("[R] xxx"));
    assert_eq!(m.body.len(), 511);
    let m = Message::new("h", "f", &[], None, "plain", "b");
    assert_eq!(m.subject, "plain");
}

/// Settings: nothing is mailed without notification_email or smtp_server;
/// explicit values are used as written.
#[test]
fn settings_from_global_defs() {
    let mut g = GlobalDefs::default();
    assert!(Settings::from_global(&g).is_none());
    g.notification_email = vec!["ops@example.org".into()];
    assert!(Settings::from_global(&g).is_none());
    g.smtp_server = Some(SmtpServer {
        host: "192.0.2.25".into(),
        port: 2525,
    });
    g.smtp_helo_name = Some("helo.example.org".into());
    g.notification_email_from = Some("lb@example.org".into());
    g.router_id = Some("LB1".into());
    g.smtp_connect_timeout = Duration::from_secs(7);
    let s = Settings::from_global(&g).expect("settings");
    assert_eq!(s.server_text(), "[192.0.2.25]:2525");
    assert_eq!(s.helo, "helo.example.org");
    assert_eq!(s.from, "lb@example.org");
    assert_eq!(s.router_id.as_deref(), Some("LB1"));
    assert_eq!(s.timeout, Duration::from_secs(7));
    // Defaults: HELO and From from the local name, From's user is ours.
    g.smtp_helo_name = None;
    g.notification_email_from = None;
    let s = Settings::from_global(&g).expect("settings");
    assert!(!s.helo.is_empty());
    assert!(
        s.from.starts_with("root@") || s.from.contains('@'),
        "{}",
        s.from
    );
}

/// A fake SMTP server: replies `replies` in turn to each line it reads
/// (the DATA block counts as one, up to its "."), records what it got.
async fn fake_server(replies: Vec<&'static str>) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let h = tokio::spawn(async move {
        let (sock, _) = l.accept().await.expect("accept");
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        let mut got = Vec::new();
        let mut replies = replies.into_iter();
        if let Some(greet) = replies.next() {
            w.write_all(greet.as_bytes()).await.expect("greet");
        }
        let mut in_data = false;
        let mut block = String::new();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                break;
            }
            if in_data {
                block.push_str(&line);
                if line != ".\r\n" {
                    continue;
                }
                in_data = false;
                got.push(std::mem::take(&mut block));
            } else {
                in_data = line == "DATA\r\n";
                got.push(line);
            }
            if !in_data || got.last().map(String::as_str) == Some("DATA\r\n") {
                match replies.next() {
                    Some(rep) => w.write_all(rep.as_bytes()).await.expect("reply"),
                    None => break,
                }
            }
        }
        got
    });
    (port, h)
}

fn settings(port: u16, timeout: Duration) -> Settings {
    Settings {
        host: "127.0.0.1".into(),
        port,
        helo: "lb1.example.org".into(),
        from: "keepalived@example.org".into(),
        rcpt: vec!["ops@example.org".into()],
        timeout,
        router_id: Some("LB1".into()),
    }
}

#[tokio::test]
async fn deliver_to_fake_server() {
    let (port, h) = fake_server(vec![
        "220 fake ESMTP\r\n",
        "250-fake\r\n250 HELP\r\n",
        "250 ok\r\n",
        "250 ok\r\n",
        "354 go\r\n",
        "250 queued\r\n",
        "221 bye\r\n",
    ])
    .await;
    let s = settings(port, Duration::from_secs(5));
    let m = s.message(
        "VRRP Instance VI_1 - Entering MASTER state",
        "=> VRRP Instance is now owning VRRP VIPs <=",
    );
    deliver(&s, m).await;
    let got = h.await.expect("server");
    assert_eq!(got.len(), 6, "{got:?}");
    assert_eq!(got[0], "HELO lb1.example.org\r\n");
    assert_eq!(got[2], "RCPT TO:<ops@example.org>\r\n");
    assert!(got[4].contains("\r\nSubject: [LB1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\nTo: ops@example.org\r\n\r\n=> VRRP Instance is now owning VRRP VIPs <=\r\n\r\n.\r\n"), "{}", got[4]);
    assert!(got[4].starts_with("Date: "));
    assert_eq!(got[5], "QUIT\r\n");
}

/// A server that accepts and never speaks: the sender gives up after
/// smtp_connect_timeout (after sending QUIT), it does not hang.
#[tokio::test]
async fn silent_server_bounded_by_timeout() {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    let _keep = tokio::spawn(async move {
        let (_s, _) = l.accept().await.expect("accept");
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let s = settings(port, Duration::from_millis(300));
    let t = Instant::now();
    deliver(&s, s.message("x", "y")).await;
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // Nothing listening: returns at once with an error (logged).
    drop(_keep);
    let t = Instant::now();
    deliver(&settings(1, Duration::from_secs(5)), s.message("x", "y")).await;
    assert!(t.elapsed() < Duration::from_secs(3));
}
