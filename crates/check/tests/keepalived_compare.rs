//! FILE_CHECK and HTTP_GET regex/digest against keepalived 2.2.7 itself:
//! the same config, keepalived's checker on bench/check/fake_ipvs.so (this
//! host kernel has no IPVS; the preload logs every destination command) and
//! ours on MockIpvs end in the same IPVS destinations.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::{run_plan, EngineBackend, EngineOptions, SharedBackend};
use rkeepalived_config::LoadOptions;
use rkeepalived_control::Control;
use rkeepalived_ipvs::{MockIpvs, ServiceKey};

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Keepalived(Child);
impl Drop for Keepalived {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn prerequisites() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("needs root (keepalived's checker)".into());
    }
    for tool in ["/usr/sbin/keepalived", "/usr/bin/cc"] {
        if !Path::new(tool).exists() {
            return Err(format!("{tool} is missing"));
        }
    }
    Ok(())
}

/// keepalived's table from the fake IPVS log: NEW_DEST (5) / SET_DEST (6)
/// set a weight, DEL_DEST (7) removes.
fn keepalived_dests(log: &Path) -> BTreeMap<String, u32> {
    let mut dests = BTreeMap::new();
    for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 4 {
            continue;
        }
        match f[1] {
            "5" | "6" => {
                dests.insert(f[2].to_string(), f[3].parse().unwrap_or(0));
            }
            "7" => {
                dests.remove(f[2]);
            }
            _ => {}
        }
    }
    dests
}

fn our_dests(mock: &Arc<Mutex<MockIpvs>>) -> BTreeMap<String, u32> {
    let m = mock.lock().unwrap();
    m.state
        .services
        .get(&ServiceKey::tcp("192.0.2.1".parse().unwrap(), 80))
        .map(|e| {
            e.dests
                .values()
                .map(|d| (SocketAddr::new(d.addr, d.port).to_string(), d.weight as u32))
                .collect()
        })
        .unwrap_or_default()
}

fn temp(tag: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("rkc-ka-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

/// Start keepalived's checker on `conf` in `d` (ops logged to `d/ops`).
fn start_keepalived(d: &Path, conf: &str) -> Keepalived {
    let fake = d.join("fake_ipvs.so");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/check/fake_ipvs.c");
    let st = Command::new("cc")
        .args(["-O2", "-shared", "-fPIC", "-o"])
        .arg(&fake)
        .arg(&src)
        .arg("-ldl")
        .status()
        .unwrap();
    assert!(st.success(), "building fake_ipvs.so");
    std::fs::write(d.join("keepalived.conf"), conf).unwrap();
    Keepalived(
        Command::new("/usr/sbin/keepalived")
            .args(["-n", "-C", "-l", "-f"])
            .arg(d.join("keepalived.conf"))
            .arg("-p")
            .arg(d.join("ka.pid"))
            .arg("-c")
            .arg(d.join("ka-check.pid"))
            .env("LD_PRELOAD", &fake)
            .env("FAKE_IPVS_LOG", d.join("ops"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Our engine on `conf` with a MockIpvs.
fn start_ours(
    conf: &str,
) -> (
    Arc<Mutex<MockIpvs>>,
    tokio::sync::mpsc::Sender<Control>,
    tokio::task::JoinHandle<()>,
) {
    let config = rkeepalived_config::parse_str(conf, "k.conf", &LoadOptions::default())
        .unwrap()
        .config;
    let mock: Arc<Mutex<MockIpvs>> = Arc::default();
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let plan = rkeepalived_check::from_config(&config).unwrap();
    let opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(Arc::clone(
        &mock,
    )))));
    let engine = tokio::spawn(async move { run_plan(plan, rx, opts).await.unwrap() });
    (mock, tx, engine)
}

#[tokio::test]
async fn file_check_matches_keepalived() {
    if let Err(why) = prerequisites() {
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipping: {why}");
        return;
    }
    let dir = temp("file");
    let d = &dir.0;
    let conf = format!(
        "track_file drain {{\n file {d}/drain\n weight 0\n}}\n\
         track_file level {{\n file {d}/level\n weight 1\n}}\n\
         virtual_server 192.0.2.1 80 {{\n protocol TCP\n\
          real_server 198.51.100.1 80 {{\n  weight 10\n  FILE_CHECK {{\n   track_file drain\n  }}\n }}\n\
          real_server 198.51.100.2 80 {{\n  weight 10\n  FILE_CHECK {{\n   track_file level\n   weight -2\n  }}\n }}\n}}\n",
        d = d.display()
    );
    let ops = d.join("ops");
    let _ka = start_keepalived(d, &conf);
    let (mock, tx, engine) = start_ours(&conf);
    // (drain, level) written, then both tables must reach the expected one
    // (weight 0 drains; value x weight moves the weight: 10 + 3 x -2 = 4).
    let table = |v: &[(&str, u32)]| -> BTreeMap<String, u32> {
        v.iter().map(|(a, w)| (a.to_string(), *w)).collect()
    };
    let (rs1, rs2) = ("198.51.100.1:80", "198.51.100.2:80");
    let steps = [
        (None, None, table(&[(rs1, 10), (rs2, 10)])),
        (Some("1"), Some("3"), table(&[(rs2, 4)])),
        (Some("0"), Some("5"), table(&[(rs1, 10), (rs2, 0)])),
        (Some("0"), Some("0"), table(&[(rs1, 10), (rs2, 10)])),
    ];
    for (drain, level, want) in steps {
        if let Some(v) = drain {
            std::fs::write(d.join("drain"), v).unwrap();
        }
        if let Some(v) = level {
            std::fs::write(d.join("level"), v).unwrap();
        }
        let mut agreed = false;
        for _ in 0..60 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if keepalived_dests(&ops) == want && our_dests(&mock) == want {
                agreed = true;
                break;
            }
        }
        assert!(
            agreed,
            "after drain={drain:?} level={level:?}: want {want:?}, keepalived {:?}, ours {:?}",
            keepalived_dests(&ops),
            our_dests(&mock)
        );
    }
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
}

/// A body of 10,000 bytes whose only "NEEDLE" starts at offset 4093
/// (across keepalived's 4,096-byte read buffer).
fn big_body() -> Vec<u8> {
    let mut b = vec![b'x'; 10_000];
    b[4093..4099].copy_from_slice(b"NEEDLE");
    b
}

fn response(path: &str) -> Vec<u8> {
    match path {
        "/big" => {
            let mut r = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
            r.extend(big_body());
            r
        }
        "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: y\r\n\r\n".to_vec(),
        _ => b"HTTP/1.0 404 Not Found\r\n\r\n".to_vec(),
    }
}

/// One loopback HTTP listener per real server (distinct ports).
async fn listener() -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match sock.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
                for piece in response(&path).chunks(1000) {
                    if sock.write_all(piece).await.is_err() {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    port
}

/// regex, regex_no_match, the offsets and a digest of a chunked body: the
/// real servers keepalived keeps are the ones we keep.
#[tokio::test]
async fn http_regex_and_digest_match_keepalived() {
    if let Err(why) = prerequisites() {
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipping: {why}");
        return;
    }
    let dir = temp("regex");
    let d = &dir.0;
    // (url block, stays up?)
    let cases = [
        ("path /big\n regex \"NEE+DLE\"", true),
        ("path /big\n regex NEEDLE\n regex_no_match", false),
        // keepalived matches from the response's first byte (the 19-byte
        // head arrives with the body): the match is at 4112, not 4093.
        (
            "path /big\n regex NEEDLE\n regex_min_offset 4112\n regex_max_offset 4112",
            true,
        ),
        ("path /big\n regex NEEDLE\n regex_max_offset 4111", false),
        ("path /big\n regex NEEDLE\n regex_min_offset 4113", false),
        ("path /big\n regex NEEDLE\n regex_min_offset 4094", true),
        ("path /big\n regex \"^HTTP/1.0 200\"", true),
        (
            "path /chunked\n digest 4b8e6072486154d02dc3e6e119f1c658",
            true,
        ),
        (
            "path /chunked\n digest 8ebae10329decbd3ba62500857e6aa64",
            false,
        ),
    ];
    let mut conf = String::from("virtual_server 192.0.2.1 80 {\n protocol TCP\n delay_loop 1\n");
    let mut want = BTreeMap::new();
    for (url, up) in cases {
        let port = listener().await;
        conf.push_str(&format!(
            " real_server 127.0.0.1 {port} {{\n  weight 1\n  HTTP_GET {{\n   url {{\n {url}\n   }}\n   connect_timeout 2\n   retry 0\n   delay_before_retry 1\n  }}\n }}\n"
        ));
        if up {
            want.insert(format!("127.0.0.1:{port}"), 1);
        }
    }
    conf.push_str("}\n");
    let ops = d.join("ops");
    let _ka = start_keepalived(d, &conf);
    let (mock, tx, engine) = start_ours(&conf);
    let mut agreed = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if keepalived_dests(&ops) == want && our_dests(&mock) == want {
            agreed = true;
            break;
        }
    }
    assert!(
        agreed,
        "want {want:?}, keepalived {:?}, ours {:?}",
        keepalived_dests(&ops),
        our_dests(&mock)
    );
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
}
