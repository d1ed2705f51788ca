//! FILE_CHECK against keepalived 2.2.7 itself: the same config and the same
//! file writes, keepalived's checker on bench/check/fake_ipvs.so (this host
//! kernel has no IPVS; the preload logs every destination command) and ours
//! on MockIpvs end in the same IPVS destinations after every step.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::{run_plan, EngineBackend, EngineOptions, SharedBackend};
use rkeepalived_config::{Control, LoadOptions};
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

#[tokio::test]
async fn file_check_matches_keepalived() {
    if let Err(why) = prerequisites() {
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipping: {why}");
        return;
    }
    let dir = Dir(std::env::temp_dir().join(format!("rkc-ka-file-{}", std::process::id())));
    let d = &dir.0;
    let _ = std::fs::remove_dir_all(d);
    std::fs::create_dir_all(d).unwrap();
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
    let conf = format!(
        "track_file drain {{\n file {d}/drain\n weight 0\n}}\n\
         track_file level {{\n file {d}/level\n weight 1\n}}\n\
         virtual_server 192.0.2.1 80 {{\n protocol TCP\n\
          real_server 198.51.100.1 80 {{\n  weight 10\n  FILE_CHECK {{\n   track_file drain\n  }}\n }}\n\
          real_server 198.51.100.2 80 {{\n  weight 10\n  FILE_CHECK {{\n   track_file level\n   weight -2\n  }}\n }}\n}}\n",
        d = d.display()
    );
    std::fs::write(d.join("keepalived.conf"), &conf).unwrap();
    let ops = d.join("ops");
    let _ka = Keepalived(
        Command::new("/usr/sbin/keepalived")
            .args(["-n", "-C", "-l", "-f"])
            .arg(d.join("keepalived.conf"))
            .arg("-p")
            .arg(d.join("ka.pid"))
            .arg("-c")
            .arg(d.join("ka-check.pid"))
            .env("LD_PRELOAD", &fake)
            .env("FAKE_IPVS_LOG", &ops)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let config = rkeepalived_config::parse_str(&conf, "k.conf", &LoadOptions::default())
        .unwrap()
        .config;
    let mock: Arc<Mutex<MockIpvs>> = Arc::default();
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let plan = rkeepalived_check::from_config(&config).unwrap();
    let opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(Arc::clone(
        &mock,
    )))));
    let engine = tokio::spawn(async move { run_plan(plan, rx, opts).await.unwrap() });
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
