//! Checker features from keepalived.conf text through the engine to a
//! MockIpvs table: FILE_CHECK (the maintenance-drain idiom), one probe per
//! distinct target, and `-I` (leave IPVS entries on stop).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::{run_plan, EngineBackend, EngineOptions, SharedBackend};
use rkeepalived_config::{Config, LoadOptions};
use rkeepalived_control::Control;
use rkeepalived_ipvs::{MockIpvs, ServiceKey};
use tokio::sync::mpsc;

type Mock = Arc<Mutex<MockIpvs>>;

fn parse(text: &str) -> Config {
    rkeepalived_config::parse_str(text, "test.conf", &LoadOptions::default())
        .expect("config parses")
        .config
}

fn start(config: &Config, mock: &Mock) -> (mpsc::Sender<Control>, tokio::task::JoinHandle<()>) {
    let plan = rkeepalived_check::from_config(config).expect("plan");
    let (tx, rx) = mpsc::channel(8);
    let opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(Arc::clone(
        mock,
    )))));
    let handle = tokio::spawn(async move { run_plan(plan, rx, opts).await.expect("engine ran") });
    (tx, handle)
}

fn dests(mock: &Mock, vs: ServiceKey) -> Vec<(String, i32)> {
    let m = mock.lock().unwrap();
    m.state
        .services
        .get(&vs)
        .map(|e| {
            e.dests
                .values()
                .map(|d| (SocketAddr::new(d.addr, d.port).to_string(), d.weight))
                .collect()
        })
        .unwrap_or_default()
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

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rkc-features-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn vs_key() -> ServiceKey {
    ServiceKey::tcp("192.0.2.1".parse().unwrap(), 80)
}

#[tokio::test]
async fn file_check_drains_and_reweights_real_servers() {
    let d = temp_dir("file");
    let drain = d.join("drain");
    let level = d.join("level");
    std::fs::write(&drain, "0\n").unwrap();
    let conf = format!(
        r#"
track_file drain {{
    file {drain}
    weight 0
}}
track_file level {{
    file {level}
    weight 1
}}
virtual_server 192.0.2.1 80 {{
    protocol TCP
    delay_loop 1
    real_server 198.51.100.1 80 {{
        weight 10
        FILE_CHECK {{
            track_file drain
        }}
    }}
    real_server 198.51.100.2 80 {{
        weight 10
        FILE_CHECK {{
            track_file level
            weight -2
        }}
    }}
}}
"#,
        drain = drain.display(),
        level = level.display()
    );
    let config = parse(&conf);
    let mock: Mock = Arc::default();
    let (tx, engine) = start(&config, &mock);
    let want = |a: i32, b: Option<i32>| {
        let mut v = vec![("198.51.100.1:80".to_string(), a)];
        if let Some(b) = b {
            v.push(("198.51.100.2:80".to_string(), b));
        }
        v
    };
    // A missing file reads as 0 (keepalived process_track_file).
    assert!(
        eventually(Duration::from_secs(5), || dests(&mock, vs_key())
            == want(10, Some(10)))
        .await,
        "{:?}",
        dests(&mock, vs_key())
    );
    // Drain: a non-zero value with weight 0 is FAULT -> the server leaves IPVS.
    std::fs::write(&drain, "1\n").unwrap();
    // Re-weight: 3 x -2 moves the weight from 10 to 4.
    std::fs::write(&level, "3").unwrap();
    assert!(
        eventually(Duration::from_secs(5), || {
            let d = dests(&mock, vs_key());
            d == vec![("198.51.100.2:80".to_string(), 4)]
        })
        .await,
        "{:?}",
        dests(&mock, vs_key())
    );
    // Garbage beyond 32 bits is ignored (previous value kept).
    std::fs::write(&level, "99999999999").unwrap();
    std::fs::write(&drain, "0").unwrap();
    assert!(
        eventually(Duration::from_secs(5), || dests(&mock, vs_key())
            == want(10, Some(4)))
        .await,
        "{:?}",
        dests(&mock, vs_key())
    );
    // 5 x -2 = -10: weight 0, still in the table (not a fault).
    std::fs::write(&level, "5").unwrap();
    assert!(
        eventually(Duration::from_secs(5), || dests(&mock, vs_key())
            == want(10, Some(0)))
        .await,
        "{:?}",
        dests(&mock, vs_key())
    );
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
    std::fs::remove_dir_all(&d).unwrap();
}

/// `-I` / `--dont-release-ipvs`: on stop the IPVS entries stay (keepalived
/// check_daemon.c skips `clear_services()`); by default they are removed.
#[tokio::test]
async fn dont_release_ipvs_leaves_the_entries_on_stop() {
    let conf = r#"
virtual_server 192.0.2.1 80 {
    protocol TCP
    real_server 198.51.100.1 80 {
        weight 3
    }
}
"#;
    let config = parse(conf);
    for release in [true, false] {
        let mock: Mock = Arc::default();
        let plan = rkeepalived_check::from_config(&config).unwrap();
        let (tx, rx) = mpsc::channel(8);
        let mut opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(
            Arc::clone(&mock),
        ))));
        opts.release_ipvs_on_stop = release;
        let engine = tokio::spawn(async move { run_plan(plan, rx, opts).await.unwrap() });
        assert!(
            eventually(Duration::from_secs(5), || dests(&mock, vs_key()).len() == 1).await,
            "programmed"
        );
        tx.send(Control::Stop).await.unwrap();
        engine.await.unwrap();
        let left = dests(&mock, vs_key());
        if release {
            assert!(left.is_empty(), "{left:?}");
        } else {
            assert_eq!(left, vec![("198.51.100.1:80".to_string(), 3)]);
        }
    }
}

/// A checker whose answer the test flips; counts attempts.
struct Flag {
    up: Arc<std::sync::atomic::AtomicBool>,
    calls: Arc<std::sync::atomic::AtomicU32>,
}

impl rkeepalived_check::checkers::Checker for Flag {
    fn kind(&self) -> &'static str {
        "TCP_CHECK"
    }
    fn check(
        &self,
    ) -> rkeepalived_check::checkers::BoxFuture<'_, rkeepalived_check::checkers::CheckOutcome> {
        use std::sync::atomic::Ordering::SeqCst;
        self.calls.fetch_add(1, SeqCst);
        let up = self.up.load(SeqCst);
        Box::pin(async move {
            if up {
                rkeepalived_check::checkers::CheckOutcome::Up
            } else {
                rkeepalived_check::checkers::CheckOutcome::Down(
                    rkeepalived_check::CheckFailure::NoReply,
                )
            }
        })
    }
}

/// One probe per distinct target: the same real server behind three
/// virtual servers (and listed twice in one) with the same TCP_CHECK is
/// probed by one checker, whose result reaches every user; a reload keeps
/// it one probe.
#[tokio::test]
async fn one_probe_per_distinct_target_fans_out() {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
    let mut conf = String::new();
    for vip in 1..=3 {
        conf.push_str(&format!(
            "virtual_server 192.0.2.{vip} 80 {{\n protocol TCP\n delay_loop 1\n"
        ));
        let copies = if vip == 3 { 2 } else { 1 };
        for _ in 0..copies {
            conf.push_str(
                " real_server 198.51.100.7 80 {\n  TCP_CHECK {\n   connect_timeout 1\n   retry 0\n   warmup 0\n  }\n }\n",
            );
        }
        // A different check of the same server is its own probe.
        conf.push_str(
            " real_server 198.51.100.8 80 {\n  TCP_CHECK {\n   connect_timeout 1\n   retry 0\n   warmup 0\n   connect_port 8080\n  }\n }\n}\n",
        );
    }
    let config = parse(&conf);
    let up = Arc::new(AtomicBool::new(true));
    let calls = Arc::new(AtomicU32::new(0));
    let built = Arc::new(AtomicU32::new(0));
    let mock: Mock = Arc::default();
    let plan = rkeepalived_check::from_config(&config).unwrap();
    let (tx, rx) = mpsc::channel(8);
    let mut opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(Arc::clone(
        &mock,
    )))));
    {
        let (up, calls, built) = (Arc::clone(&up), Arc::clone(&calls), Arc::clone(&built));
        opts.checker_factory = Arc::new(
            move |spec: &Arc<rkeepalived_check::spec::CheckerSpec>, _: &_| {
                built.fetch_add(1, SeqCst);
                if spec.conn.dst.port() == 8080 {
                    // The other probe: always up, not counted.
                    return Arc::new(Flag {
                        up: Arc::new(AtomicBool::new(true)),
                        calls: Arc::new(AtomicU32::new(0)),
                    }) as Arc<dyn rkeepalived_check::checkers::Checker>;
                }
                Arc::new(Flag {
                    up: Arc::clone(&up),
                    calls: Arc::clone(&calls),
                })
            },
        );
    }
    let engine = tokio::spawn(async move { run_plan(plan, rx, opts).await.unwrap() });
    let key = |vip: u8| ServiceKey::tcp(format!("192.0.2.{vip}").parse().unwrap(), 80);
    let all_have = |mock: &Mock, want: bool| {
        (1..=3).all(|v| {
            dests(mock, key(v))
                .iter()
                .any(|(a, _)| a == "198.51.100.7:80")
                == want
        })
    };
    assert!(eventually(Duration::from_secs(5), || all_have(&mock, true)).await);
    // 2 distinct targets (198.51.100.7:80 and .8:8080) for 7 checkers.
    assert_eq!(built.load(SeqCst), 2, "one checker per distinct target");
    // Down: one probe's result removes the server from all three services.
    up.store(false, SeqCst);
    assert!(
        eventually(Duration::from_secs(5), || all_have(&mock, false)).await,
        "{:?}",
        (1..=3).map(|v| dests(&mock, key(v))).collect::<Vec<_>>()
    );
    // ~1 attempt per delay_loop, not 4 (one per user).
    let before = calls.load(SeqCst);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let per_2s = calls.load(SeqCst) - before;
    assert!(
        (1..=3).contains(&per_2s),
        "{per_2s} attempts in 2.1 s at delay_loop 1"
    );
    // A reload of the same configuration keeps the one probe.
    tx.send(Control::Reload(Arc::new(config.clone())))
        .await
        .unwrap();
    up.store(true, SeqCst);
    assert!(eventually(Duration::from_secs(5), || all_have(&mock, true)).await);
    assert_eq!(built.load(SeqCst), 2, "reload keeps the shared probes");
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
}
