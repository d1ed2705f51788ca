//! The metrics endpoint of a running daemon, in a private network
//! namespace: a flood of idle and slow clients must not delay a respawn, a
//! reload or a dump; `promtool check metrics` accepts the exposition; a
//! real Prometheus (Debian's package) scrapes it and answers queries for
//! the VRRP and checker series. Needs root.

mod daemon_util;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use daemon_util::*;

const METRICS: &str = "127.0.0.1:9650";

fn wait_children(d: &Daemon) -> (i32, i32) {
    wait_for("both children running", LIMIT, || {
        d.status().is_some_and(|s| {
            s["children"]["vrrp"]["state"] == "running"
                && s["children"]["checker"]["state"] == "running"
        })
    });
    let v = d.child_pid("vrrp.pid").expect("vrrp.pid");
    let c = d.child_pid("checkers.pid").expect("checkers.pid");
    (v, c)
}

/// `curl` inside the namespace: (HTTP code, body).
fn curl(ns: &Netns, url: &str) -> (String, String) {
    let out = ns.exec(&["curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", url]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    match text.rsplit_once('\n') {
        Some((body, code)) => (code.to_string(), body.to_string()),
        None => (text, String::new()),
    }
}

fn scrape(ns: &Netns) -> String {
    let mut body = String::new();
    wait_for("/metrics answers", LIMIT, || {
        let (code, b) = curl(ns, &format!("http://{METRICS}/metrics"));
        body = b;
        code == "200"
    });
    body
}

/// Runs `f` on a thread that joined `ns`'s network namespace: the sockets
/// it makes live there.
fn in_netns<T: Send + 'static>(ns: &Netns, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{}", ns.name);
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("netns thread")
}

fn fd_count(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Idle connections (connected, never a byte) and slow ones (a byte of a
/// request head every 200 ms, forever), until dropped.
struct Flood {
    idle: Vec<TcpStream>,
    slow_count: usize,
    stop: Arc<AtomicBool>,
    slow: Option<std::thread::JoinHandle<()>>,
}

impl Flood {
    fn start(ns: &Netns, idle: usize, slow: usize) -> Flood {
        let addr: SocketAddr = METRICS.parse().expect("addr");
        let (idle, slow_streams) = in_netns(ns, move || {
            // Past the cap and a full backlog, connects time out: stop
            // after a few in a row (the flood is then as big as it gets).
            let mut failures = 0;
            let mut connect = |n: usize| {
                let mut out = Vec::new();
                while out.len() < n && failures < 3 {
                    match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                        Ok(s) => {
                            failures = 0;
                            out.push(s);
                        }
                        Err(_) => failures += 1,
                    }
                }
                out
            };
            // The slow ones first: they take the served slots.
            let slow = connect(slow);
            let idle = connect(idle);
            (idle, slow)
        });
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let slow_count = slow_streams.len();
        let slow = std::thread::spawn(move || {
            let mut streams = slow_streams;
            let head = b"GET /metrics HTTP/1.1\r\nX-Slow: ";
            let mut i = 0usize;
            while !flag.load(Ordering::Relaxed) {
                for s in &mut streams {
                    let _ = s.set_write_timeout(Some(Duration::from_millis(50)));
                    let _ = s.write(&[head.get(i).copied().unwrap_or(b'a')]);
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        Flood {
            idle,
            slow_count,
            stop,
            slow: Some(slow),
        }
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.slow.take() {
            let _ = t.join();
        }
        self.idle.clear();
    }
}

#[test]
fn client_flood_does_not_delay_respawn_reload_or_dumps() {
    if !prerequisites(&["curl"]) {
        return;
    }
    let ns = Netns::new("mflood");
    let scratch = Scratch::new("mflood");
    scratch.write(
        "keepalived.conf",
        &config("192.0.2.100", &format!("    metrics_listen {METRICS}\n")),
    );
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    let (vrrp_pid, _) = wait_children(&d);
    let _ = scrape(&ns);
    let baseline = fd_count(d.pid);
    // The soft open file limit was raised at start (up to the hard limit).
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", d.pid)).expect("limits");
    let nofile: Vec<u64> = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        nofile.len() == 2 && nofile[0] >= nofile[1].min(65_536),
        "RLIMIT_NOFILE not raised: {nofile:?}"
    );

    // 40 slow clients and up to 300 idle ones: more than the cap (16) by
    // far; those past it wait in the kernel's backlog (until it is full)
    // and cost the supervisor nothing.
    let flood = Flood::start(&ns, 300, 40);
    eprintln!(
        "flood: {} slow and {} idle clients connected",
        flood.slow_count,
        flood.idle.len()
    );
    assert!(
        flood.slow_count == 40 && flood.idle.len() >= 60,
        "only {} slow and {} idle clients connected",
        flood.slow_count,
        flood.idle.len()
    );
    std::thread::sleep(Duration::from_millis(500));
    let fds = fd_count(d.pid);
    assert!(
        fds <= baseline + 16 + 8,
        "supervisor holds {fds} descriptors under the flood (baseline {baseline})"
    );

    // kill -9 the VRRP child: respawned after the normal delay (200 ms),
    // plus a margin for a loaded machine.
    let killed = Instant::now();
    let _ = sh(&["kill", "-9", &vrrp_pid.to_string()]);
    wait_for("a new vrrp child", Duration::from_secs(5), || {
        d.child_pid("vrrp.pid")
            .is_some_and(|p| p != vrrp_pid && alive(p))
    });
    let respawn = killed.elapsed();
    eprintln!("respawn under the flood: {respawn:?}");
    let limit = rkeepalived::supervisor::RESPAWN_BASE + Duration::from_millis(1800);
    assert!(
        respawn < limit,
        "respawn took {respawn:?} under the flood (limit {limit:?})"
    );

    // SIGHUP and SIGUSR1 still work.
    d.signal("HUP");
    wait_for("the reload", Duration::from_secs(10), || {
        d.status().is_some_and(|s| s["reloads"]["ok"] == 1)
    });
    let _ = std::fs::remove_file(scratch.p("keepalived.data"));
    d.signal("USR1");
    wait_for("the data dump", Duration::from_secs(10), || {
        scratch.p("keepalived.data").exists()
    });
    let fds = fd_count(d.pid);
    assert!(
        fds <= baseline + 16 + 8,
        "supervisor holds {fds} descriptors under the flood (baseline {baseline})"
    );

    // Once the flood is gone, scrapes go through again.
    drop(flood);
    let body = scrape(&ns);
    assert!(
        body.contains("rkeepalived_child_restarts_total{role=\"vrrp\"} 1"),
        "{body}"
    );
    assert!(body.contains("rkeepalived_http_timeouts_total "), "{body}");
}

#[test]
fn status_is_opt_in_and_promtool_accepts_the_exposition() {
    if !prerequisites(&["curl", "promtool"]) {
        return;
    }
    let ns = Netns::new("mpromtool");
    let scratch = Scratch::new("mpromtool");
    scratch.write(
        "keepalived.conf",
        &config("192.0.2.100", &format!("    metrics_listen {METRICS}\n")),
    );
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_children(&d);
    let body = scrape(&ns);
    for needle in [
        "# TYPE rkeepalived_build_info gauge\n",
        "rkeepalived_vrrp_state{vrrp_instance=\"VI_1\",interface=\"eth0\",vrid=\"51\"} ",
        "rkeepalived_check_result{vs=",
        "rkeepalived_child_up{role=\"vrrp\"} 1\n",
    ] {
        assert!(body.contains(needle), "/metrics lacks {needle:?}:\n{body}");
    }
    assert!(!body.contains("# EOF"), "{body}");
    let (code, _) = curl(&ns, &format!("http://{METRICS}/status"));
    assert_eq!(code, "404", "/status is off unless metrics_serve_status");

    let file = scratch.write("metrics.txt", &body);
    let out = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&file).expect("metrics.txt"))
        .output()
        .expect("promtool");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // promtool's linter (naming, units, help) has nothing to say either.
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool check metrics: {said}\n{body}"
    );

    // metrics_serve_status turns /status on (after a reload).
    std::fs::write(
        scratch.p("keepalived.conf"),
        config(
            "192.0.2.100",
            &format!("    metrics_listen {METRICS}\n    metrics_serve_status\n"),
        ),
    )
    .expect("write");
    d.signal("HUP");
    wait_for("/status served", LIMIT, || {
        let (code, body) = curl(&ns, &format!("http://{METRICS}/status"));
        code == "200" && body.contains("\"children\"")
    });
}

/// A Prometheus server in the namespace; killed on drop.
struct Prometheus {
    child: Child,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn prom_query(ns: &Netns, query: &str) -> Vec<serde_json::Value> {
    let out = ns.exec(&[
        "curl",
        "-s",
        "--max-time",
        "5",
        "--data-urlencode",
        &format!("query={query}"),
        "http://127.0.0.1:9090/api/v1/query",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_real_prometheus_scrapes_the_daemon() {
    if !prerequisites(&["curl", "prometheus"]) {
        return;
    }
    let ns = Netns::new("mprom");
    let scratch = Scratch::new("mprom");
    // Over TLS with basic auth, configured the way exporters are: the
    // daemon reads an exporter-toolkit web config, Prometheus scrapes with
    // `scheme: https` and `basic_auth`.
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    scratch.write("server.crt", &cert.cert.pem());
    scratch.write("server.key", &cert.key_pair.serialize_pem());
    let hash = bcrypt::hash("s3cret", 4).expect("bcrypt");
    let web = scratch.write(
        "web-config.yml",
        &format!(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n\
             basic_auth_users:\n  prometheus: '{hash}'\n"
        ),
    );
    scratch.write(
        "keepalived.conf",
        &config(
            "192.0.2.100",
            &format!(
                "    metrics_listen {METRICS}\n    metrics_web_config {}\n",
                web.display()
            ),
        ),
    );
    let prom_cfg = scratch.write(
        "prometheus.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: rkeepalived\n    scheme: https\n\
             \x20   tls_config:\n      insecure_skip_verify: true\n\
             \x20   basic_auth:\n      username: prometheus\n      password: s3cret\n\
             \x20   static_configs:\n      - targets: ['{METRICS}']\n"
        ),
    );
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_children(&d);
    let log = std::fs::File::create(scratch.p("prometheus.log")).expect("log");
    let tsdb = scratch.p("tsdb");
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name, "prometheus"])
        .arg(format!("--config.file={}", prom_cfg.display()))
        .arg(format!("--storage.tsdb.path={}", tsdb.display()))
        .arg("--web.listen-address=127.0.0.1:9090")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup"))
        .stderr(log)
        .spawn()
        .expect("spawn prometheus");
    let _prom = Prometheus { child };
    let prom_log = || std::fs::read_to_string(scratch.p("prometheus.log")).unwrap_or_default();

    let mut targets = serde_json::Value::Null;
    let up = (|| {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let out = ns.exec(&[
                "curl",
                "-s",
                "--max-time",
                "2",
                "http://127.0.0.1:9090/api/v1/targets",
            ]);
            targets = serde_json::from_slice(&out.stdout).unwrap_or_default();
            if targets["data"]["activeTargets"][0]["health"] == "up" {
                return true;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        false
    })();
    assert!(
        up,
        "target not up: {targets:#}\n---- prometheus log ----\n{}",
        prom_log()
    );

    let mut state = Vec::new();
    wait_for("the VRRP state series", Duration::from_secs(10), || {
        state = prom_query(&ns, "rkeepalived_vrrp_state");
        !state.is_empty()
    });
    let s = &state[0];
    assert_eq!(s["metric"]["vrrp_instance"], "VI_1", "{s:#}");
    assert_eq!(s["metric"]["interface"], "eth0", "{s:#}");
    assert_eq!(s["metric"]["vrid"], "51", "{s:#}");
    // Prometheus' own target label is left alone (no exported_instance).
    assert_eq!(s["metric"]["instance"], METRICS, "{s:#}");
    assert!(s["metric"].get("exported_instance").is_none(), "{s:#}");
    wait_for("VI_1 MASTER (2) in Prometheus", LIMIT, || {
        prom_query(&ns, "rkeepalived_vrrp_state{vrrp_instance=\"VI_1\"}")
            .first()
            .is_some_and(|r| r["value"][1] == "2")
    });
    let checks = prom_query(&ns, "rkeepalived_check_result");
    assert!(!checks.is_empty(), "no checker series");
    assert_eq!(
        checks[0]["metric"]["rs"], "192.0.2.11:80",
        "{:#}",
        checks[0]
    );
    let runs = prom_query(&ns, "sum(rkeepalived_check_runs_total)");
    assert!(!runs.is_empty(), "no checker counters");
    let info = prom_query(&ns, "rkeepalived_build_info");
    assert_eq!(
        info.first().map(|r| r["value"][1].clone()),
        Some("1".into())
    );
}

#[test]
fn tls_and_basic_auth_from_a_web_config_file() {
    if !prerequisites(&["curl"]) {
        return;
    }
    let ns = Netns::new("mtls");
    let scratch = Scratch::new("mtls");
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    scratch.write("server.crt", &cert.cert.pem());
    scratch.write("server.key", &cert.key_pair.serialize_pem());
    let hash = bcrypt::hash("s3cret", 4).expect("bcrypt");
    let web = scratch.write(
        "web-config.yml",
        &format!(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n\
             basic_auth_users:\n  prometheus: '{hash}'\n"
        ),
    );
    scratch.write(
        "keepalived.conf",
        &config(
            "192.0.2.100",
            &format!(
                "    metrics_listen {METRICS}\n    metrics_web_config {}\n",
                web.display()
            ),
        ),
    );
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_children(&d);
    let https = format!("https://{METRICS}/metrics");
    let code = |args: &[&str]| {
        let mut full = vec!["curl", "-s", "-k", "--max-time", "5", "-o", "/dev/null"];
        full.extend_from_slice(&["-w", "%{http_code}"]);
        full.extend_from_slice(args);
        String::from_utf8_lossy(&ns.exec(&full).stdout).into_owned()
    };
    wait_for("https /metrics with the password", LIMIT, || {
        code(&["-u", "prometheus:s3cret", &https]) == "200"
    });
    assert_eq!(code(&[&https]), "401", "no credentials");
    assert_eq!(code(&["-u", "prometheus:wrong", &https]), "401");
    assert_eq!(code(&["-u", "nobody:s3cret", &https]), "401");
    // Plain HTTP on the TLS port gets no HTTP answer.
    assert_ne!(code(&[&format!("http://{METRICS}/metrics")]), "200");
    let (code, body) = {
        let out = ns.exec(&[
            "curl",
            "-s",
            "-k",
            "--max-time",
            "5",
            "-u",
            "prometheus:s3cret",
            "-w",
            "\n%{http_code}",
            &https,
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (b, c) = text.rsplit_once('\n').unwrap_or((&text, ""));
        (c.to_string(), b.to_string())
    };
    assert_eq!(code, "200");
    assert!(body.contains("rkeepalived_vrrp_state{"), "{body}");
    assert!(
        d.log().contains("serving Prometheus metrics on https://"),
        "{}",
        d.log()
    );
}
