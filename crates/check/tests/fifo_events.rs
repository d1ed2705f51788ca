//! Checker-side notify FIFO events (global `notify_fifo`, `lvs_notify_fifo`
//! and `lvs_notify_fifo_script`) and `log_all_failures` /
//! `checker_log_all_failures`, through the real parser and the engine
//! (MockIpvs, fake checkers or a real TCP_CHECK on loopback). The lines are
//! keepalived 2.2.7's (check/ipwrapper.c `notify_fifo_vs()`,
//! `notify_fifo_rs()`, check/check_tcp.c `tcp_check_thread()`).

use std::io::Read;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::{
    from_config, run_plan, CheckPlan, CheckerFactory, EngineBackend, EngineOptions, SharedBackend,
};
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_control::Control;
use rkeepalived_ipvs::MockIpvs;
use rkeepalived_testkit::log_capture::LogCapture;
use tokio::sync::mpsc;

mod flags;
use flags::Flags;

fn plan(text: &str) -> CheckPlan {
    let loaded = parse_str(
        text,
        "test.conf",
        &LoadOptions {
            config_id: Some("t".into()),
        },
    )
    .expect("config parses");
    from_config(&loaded.config).expect("plan builds")
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rkc-fifo-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn start(
    plan: CheckPlan,
    factory: Option<CheckerFactory>,
) -> (mpsc::Sender<Control>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(8);
    let mock: Arc<Mutex<MockIpvs>> = Arc::default();
    let mut opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(mock))));
    if let Some(f) = factory {
        opts.checker_factory = f;
    }
    opts.ipvs_retry_interval = Duration::from_millis(200);
    opts.script_timeout = Duration::from_secs(10);
    let handle = tokio::spawn(async move { run_plan(plan, rx, opts).await.expect("engine ran") });
    (tx, handle)
}

async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

/// A non-blocking reader of a FIFO, collecting what was written so far.
struct FifoReader(std::fs::File, String);

impl FifoReader {
    fn open(path: &Path) -> FifoReader {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .expect("open fifo for reading");
        FifoReader(f, String::new())
    }
    fn lines(&mut self) -> Vec<String> {
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.0.read(&mut buf) {
            if n == 0 {
                break;
            }
            self.1.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        self.1.lines().map(str::to_string).collect()
    }
}

fn read_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

const RS1: &str = "RS [192.0.2.20]:tcp:8080 [192.0.2.10]:tcp:80";
const RS2: &str = "RS [192.0.2.21]:tcp:8080 [192.0.2.10]:tcp:80";
const VS: &str = "VS [192.0.2.10]:tcp:80";

/// A real server going down and up writes `RS ... DOWN` / `RS ... UP`, the
/// quorum it takes with it `VS ... DOWN` / `VS ... UP`, to both the global
/// `notify_fifo` and the `lvs_notify_fifo` (whose `lvs_notify_fifo_script`
/// reads it); a stop with `omega` writes the DOWN lines of everything still
/// up. Exactly the lines keepalived 2.2.7 writes.
#[tokio::test]
async fn notify_fifo_and_lvs_notify_fifo_get_rs_and_vs_lines() {
    let d = temp_dir("events");
    let global = d.join("global.fifo");
    let lvs = d.join("lvs.fifo");
    let out = d.join("lvs-script.out");
    let script = d.join("reader.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nexec cat \"$1\" > {}\n", out.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let conf = format!(
        "global_defs {{
    notify_fifo {global}
    lvs_notify_fifo {lvs}
    lvs_notify_fifo_script {script}
}}
virtual_server 192.0.2.10 80 {{
    delay_loop 0.05
    quorum 2
    omega
    protocol TCP
    real_server 192.0.2.20 8080 {{
        weight 1
        TCP_CHECK {{
            retry 0
            warmup 0
        }}
    }}
    real_server 192.0.2.21 8080 {{
        weight 1
        TCP_CHECK {{
            retry 0
            warmup 0
        }}
    }}
}}
",
        global = global.display(),
        lvs = lvs.display(),
        script = script.display()
    );
    let flags = Flags::default();
    let (tx, engine) = start(plan(&conf), Some(flags.factory()));
    assert!(eventually(Duration::from_secs(5), || global.exists()).await);
    let mut reader = FifoReader::open(&global);
    // keepalived starts each virtual server with its quorum down: one that
    // has quorum "gains" it at start (VS UP); the first checks confirming
    // the initial state write nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reader.lines(), [format!("{VS} UP")]);

    flags.set("192.0.2.20:8080", false);
    let want = [
        format!("{VS} UP"),
        format!("{RS1} DOWN"),
        format!("{VS} DOWN"),
    ];
    assert!(
        eventually(Duration::from_secs(5), || reader.lines() == want).await,
        "{:?}",
        reader.lines()
    );
    flags.set("192.0.2.20:8080", true);
    let want = [
        format!("{VS} UP"),
        format!("{RS1} DOWN"),
        format!("{VS} DOWN"),
        format!("{RS1} UP"),
        format!("{VS} UP"),
    ];
    assert!(
        eventually(Duration::from_secs(5), || reader.lines() == want).await,
        "{:?}",
        reader.lines()
    );
    // The lvs_notify_fifo_script got the same lines on the LVS FIFO.
    assert!(
        eventually(Duration::from_secs(5), || read_lines(&out) == want).await,
        "{:?}",
        read_lines(&out)
    );
    // omega: at stop, both real servers and the virtual server go DOWN.
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
    let all = reader.lines();
    assert_eq!(
        all[5..],
        [
            format!("{RS1} DOWN"),
            format!("{RS2} DOWN"),
            format!("{VS} DOWN")
        ]
    );
    // The FIFOs we created are removed at stop (notify_fifo_close()).
    assert!(!global.exists() && !lvs.exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// keepalived ignores `lvs_notify_fifo` when it is the global
/// `notify_fifo`: each event is written once, not twice.
#[tokio::test]
async fn lvs_notify_fifo_same_as_global_is_written_once() {
    let d = temp_dir("same");
    let fifo = d.join("events.fifo");
    let conf = format!(
        "global_defs {{
    notify_fifo {f}
    lvs_notify_fifo {f}
}}
virtual_server 192.0.2.10 80 {{
    delay_loop 0.05
    protocol TCP
    real_server 192.0.2.20 8080 {{
        TCP_CHECK {{
            retry 0
            warmup 0
        }}
    }}
}}
",
        f = fifo.display()
    );
    let flags = Flags::default();
    let (tx, engine) = start(plan(&conf), Some(flags.factory()));
    assert!(eventually(Duration::from_secs(5), || fifo.exists()).await);
    let mut reader = FifoReader::open(&fifo);
    flags.set("192.0.2.20:8080", false);
    let want = [
        format!("{VS} UP"),
        format!("{RS1} DOWN"),
        format!("{VS} DOWN"),
    ];
    assert!(
        eventually(Duration::from_secs(5), || reader.lines() == want).await,
        "{:?}",
        reader.lines()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(reader.lines(), want);
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
    let _ = std::fs::remove_dir_all(&d);
}

/// Runs a real TCP_CHECK (retry 2) against a closed loopback port and
/// counts keepalived's per-failure line `TCP connection to %s failed.`.
async fn failure_lines(global: &str, checker: &str) -> (usize, usize) {
    // A port nobody listens on: bind, learn it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = format!(
        "global_defs {{
{global}
}}
virtual_server 127.0.0.1 80 {{
    delay_loop 0.05
    protocol TCP
    real_server 127.0.0.1 {port} {{
        TCP_CHECK {{
            retry 2
            delay_before_retry 0.05
            connect_timeout 1
            warmup 0
{checker}
        }}
    }}
}}
"
    );
    let cap = LogCapture::start(tracing::Level::INFO);
    let (tx, engine) = start(plan(&conf), None);
    let done = format!("TCP_CHECK on service [127.0.0.1]:tcp:{port} failed after 2 retries.");
    assert!(
        eventually(Duration::from_secs(10), || cap.count(&done) == 1).await,
        "checker never went down"
    );
    // Several more failed attempts while down: never logged.
    tokio::time::sleep(Duration::from_millis(400)).await;
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
    (
        cap.count(&format!("TCP connection to [127.0.0.1]:tcp:{port} failed.")),
        cap.count(&done),
    )
}

/// Per-checker `log_all_failures`: each of the retry + 1 failures of the
/// up checker is logged, then none while it is down; without it only the
/// state change is.
#[tokio::test]
async fn log_all_failures_logs_each_failure_while_up() {
    assert_eq!(failure_lines("", "log_all_failures").await, (3, 1));
    assert_eq!(failure_lines("", "").await, (0, 1));
}

/// The global `checker_log_all_failures` does the same for every checker.
#[tokio::test]
async fn checker_log_all_failures_logs_each_failure_while_up() {
    assert_eq!(failure_lines("checker_log_all_failures", "").await, (3, 1));
}

/// At start keepalived writes `VS ... DOWN` for a virtual server without
/// quorum only when it has a sorry server to add (ipwrapper.c
/// `update_quorum_state(vs, true)`: "Starting with quorum down"); one
/// without a sorry server writes nothing.
#[tokio::test]
async fn start_without_quorum_writes_vs_down_only_with_a_sorry_server() {
    let d = temp_dir("start");
    let fifo = d.join("events.fifo");
    let conf = format!(
        "global_defs {{
    notify_fifo {f}
}}
virtual_server 192.0.2.10 80 {{
    delay_loop 0.05
    protocol TCP
    alpha
    sorry_server 192.0.2.30 8080
    real_server 192.0.2.20 8080 {{
        TCP_CHECK {{
            warmup 0
        }}
    }}
}}
virtual_server 192.0.2.11 80 {{
    delay_loop 0.05
    protocol TCP
    alpha
    real_server 192.0.2.20 8080 {{
        TCP_CHECK {{
            warmup 0
        }}
    }}
}}
",
        f = fifo.display()
    );
    let flags = Flags::default();
    flags.set("192.0.2.20:8080", false);
    let (tx, engine) = start(plan(&conf), Some(flags.factory()));
    assert!(eventually(Duration::from_secs(5), || fifo.exists()).await);
    let mut reader = FifoReader::open(&fifo);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // (keepalived also writes `RS ... DOWN` when an alpha checker's first
    // check fails; that is not mirrored, see the README.)
    let lines = reader.lines();
    assert_eq!(lines.first(), Some(&format!("{VS} DOWN")), "{lines:?}");
    assert!(
        !lines.iter().any(|l| l.starts_with("VS [192.0.2.11]")),
        "{lines:?}"
    );
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
    let _ = std::fs::remove_dir_all(&d);
}
