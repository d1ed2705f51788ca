//! HTTP_GET and SSL_GET report how long their answer waited in the kernel before the
//! attempt read it (`Checker::answer_waited`, from TCP_INFO): the driver
//! schedules the next attempt from the answer's arrival, so checkers whose
//! answers a busy process reads together do not stay bunched.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use rkeepalived_check::checkers::{build, CheckOutcome, Checker};
use rkeepalived_check::spec::*;
use rkeepalived_script::{RunAs, ScriptRunner, ScriptSecurity};

mod tls_server;

/// A one-connection HTTP server on its own thread: it reports the request
/// (`got`), answers when told (`go`) and closes.
fn server() -> (SocketAddr, mpsc::Receiver<()>, mpsc::Sender<()>) {
    serve(|sock| Box::new(sock))
}

/// The same over TLS (self-signed, rustls' blocking stream).
fn tls_server() -> (SocketAddr, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let config = tls_server::self_signed_config(rustls::DEFAULT_VERSIONS);
    let config = Arc::new(config);
    serve(move |sock| {
        let conn = rustls::ServerConnection::new(Arc::clone(&config)).expect("tls");
        Box::new(rustls::StreamOwned::new(conn, sock))
    })
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

fn serve(
    wrap: impl FnOnce(TcpStream) -> Box<dyn Stream> + Send + 'static,
) -> (SocketAddr, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (got_tx, got) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let Ok((sock, _)) = listener.accept() else {
            return;
        };
        let mut sock = wrap(sock);
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match sock.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let _ = got_tx.send(());
        if go_rx.recv().is_ok() {
            let _ = sock.write_all(b"HTTP/1.0 200 OK\r\n\r\nok");
            let _ = sock.flush();
        }
    });
    (addr, got, go)
}

fn checker(addr: SocketAddr, tls: bool, connect_timeout: Duration) -> Arc<dyn Checker> {
    let kind = CheckKind::Http(Box::new(HttpSpec {
        tls,
        urls: vec![UrlSpec::path("/")],
        protocol: HttpProtocol::Http10,
        virtualhost: None,
        enable_sni: false,
        client_auth: None,
    }));
    let mut timing = CheckTiming::defaults_for(&kind, Duration::from_secs(1));
    timing.connect_timeout = connect_timeout;
    let spec = Arc::new(CheckerSpec {
        kind,
        conn: ConnOpts::to(addr),
        timing: Arc::new(timing),
    });
    let runner = ScriptRunner::new(ScriptSecurity {
        enable_script_security: false,
        default_user: Some(RunAs::root()),
    });
    build(&spec, &runner)
}

/// One attempt; the runtime's thread is blocked for `busy` right after the
/// server was told to answer (the process busy with other work).
async fn attempt(tls: bool, busy: Duration) -> (CheckOutcome, Duration) {
    let (addr, got, go) = if tls { tls_server() } else { server() };
    let checker = checker(addr, tls, Duration::from_secs(5));
    let mut check = checker.check();
    // Drive the attempt until the server has the request (it cannot end
    // before the server answers).
    loop {
        tokio::select! {
            outcome = &mut check => panic!("ended before the answer: {outcome:?}"),
            _ = tokio::time::sleep(Duration::from_millis(1)) => {}
        }
        if got.try_recv().is_ok() {
            break;
        }
    }
    go.send(()).expect("server");
    std::thread::sleep(busy);
    let outcome = check.await;
    (outcome, checker.answer_waited())
}

#[tokio::test(flavor = "current_thread")]
async fn an_answer_read_late_reports_how_long_it_waited() {
    for tls in [false, true] {
        let (outcome, waited) = attempt(tls, Duration::from_millis(300)).await;
        assert!(
            matches!(outcome, CheckOutcome::Up),
            "tls {tls}: {outcome:?}"
        );
        // The kernel counts in ticks (1-10 ms): the answer arrived within
        // a few ms of `go`, then waited out the 300 ms.
        assert!(
            (Duration::from_millis(250)..=Duration::from_millis(1000)).contains(&waited),
            "tls {tls}: waited {waited:?}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn an_answer_read_at_once_reports_no_wait_to_speak_of() {
    for tls in [false, true] {
        let (outcome, waited) = attempt(tls, Duration::ZERO).await;
        assert!(
            matches!(outcome, CheckOutcome::Up),
            "tls {tls}: {outcome:?}"
        );
        // Generous for a loaded CI host; on an idle one it is 0 or one tick.
        assert!(
            waited < Duration::from_millis(200),
            "tls {tls}: waited {waited:?}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_server_that_never_answers_reports_no_wait() {
    // Its silence is the server's, not our lateness: the timeout's age of
    // the last segment must not be taken back from the next delay.
    let (addr, got, go) = server();
    let checker = checker(addr, false, Duration::from_millis(300));
    let outcome = checker.check().await;
    assert!(!outcome.is_up(), "{outcome:?}");
    assert_eq!(checker.answer_waited(), Duration::ZERO);
    assert!(got.try_recv().is_ok(), "the request reached the server");
    drop(go);
}
