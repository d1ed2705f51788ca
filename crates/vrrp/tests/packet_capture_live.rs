//! Live interop: run keepalived 2.2.7 in private network namespaces (`rkp-` prefix),
//! capture its adverts with tcpdump (tests/data/capture.sh) and check every frame
//! decodes and re-encodes byte-identically with our codec.
//!
//! Needs root, keepalived, tcpdump and iproute2. Without them the test prints why and
//! passes, unless the `CI` environment variable is set, in which case it fails.
//! `RKP_UPDATE_GOLDEN=1` also refreshes tests/data/keepalived-2.2.7-adverts.pcap
//! (and keepalived-2.2.7-ah.pcap for the IPsec AH capture).

#[path = "data/pcap.rs"]
mod pcap;

use std::path::{Path, PathBuf};
use std::process::Command;

fn missing_prerequisite() -> Option<String> {
    if !nix_is_root() {
        return Some("not running as root".into());
    }
    for tool in ["keepalived", "tcpdump", "ip"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            return Some(format!("`{tool}` not installed"));
        }
    }
    None
}

fn nix_is_root() -> bool {
    // Effective uid from /proc: no libc call needed in a test.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// Removes the capture file even if an assertion fails.
struct TempFile(PathBuf);
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn keepalived_live_adverts_round_trip() {
    if let Some(why) = missing_prerequisite() {
        rkeepalived_testkit::skip(&format!("live keepalived capture: {why}"));
        return;
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let out = TempFile(std::env::temp_dir().join(format!("rkp-live-{}.pcap", std::process::id())));
    // capture.sh cleans up its namespaces and processes on every exit path (trap).
    let ns = format!("rkp-live-{}", std::process::id());
    let status = Command::new("sh")
        .arg(data.join("capture.sh"))
        .arg(&out.0)
        .arg(&ns)
        .env("RKP_CAPTURE_SECS", "6")
        .status()
        .expect("run capture.sh");
    assert!(status.success(), "capture.sh failed: {status}");
    let bytes = std::fs::read(&out.0).expect("read capture");
    let frames = pcap::read_frames(&bytes).expect("parse capture");
    let mut vrids = std::collections::BTreeSet::new();
    for (i, f) in frames.iter().enumerate() {
        match pcap::decode_and_reencode(f) {
            Ok(Some(rx)) => {
                vrids.insert(rx.adv.vrid);
            }
            Ok(None) => {}
            Err(e) => panic!("live frame {i} from {:?}: {e}", pcap::src_of(f)),
        }
    }
    assert_eq!(
        vrids.into_iter().collect::<Vec<_>>(),
        vec![51, 52, 53, 54, 55]
    );
    if std::env::var_os("RKP_UPDATE_GOLDEN").is_some() {
        std::fs::copy(&out.0, data.join("keepalived-2.2.7-adverts.pcap")).expect("update golden");
    }
}

/// The same for `auth_type AH` (tests/data/keepalived-ah.conf): every live frame
/// is re-encoded byte for byte by our AH encoder with keepalived's sequence
/// number and IP id, which also proves our ICV equals keepalived's.
#[test]
fn keepalived_live_ah_adverts_round_trip() {
    use rkeepalived_vrrp::auth_ah::{emit_ipv4_ah, AhKey};
    use rkeepalived_vrrp::packet::{decode_ipv4, Ipv4Emit};
    use std::net::IpAddr;

    if let Some(why) = missing_prerequisite() {
        rkeepalived_testkit::skip(&format!("live keepalived capture: {why}"));
        return;
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let out =
        TempFile(std::env::temp_dir().join(format!("rkp-live-ah-{}.pcap", std::process::id())));
    let ns = format!("rkp-lah-{}", std::process::id());
    let status = Command::new("sh")
        .arg(data.join("capture.sh"))
        .arg(&out.0)
        .arg(&ns)
        .env("RKP_CAPTURE_SECS", "6")
        .env("RKP_CAPTURE_CONF", "keepalived-ah.conf")
        .env("RKP_CAPTURE_FILTER", "ip proto 51")
        .status()
        .expect("run capture.sh");
    assert!(status.success(), "capture.sh failed: {status}");
    let bytes = std::fs::read(&out.0).expect("read capture");
    let mut vrids = std::collections::BTreeSet::new();
    for (i, f) in pcap::read_frames(&bytes)
        .expect("parse capture")
        .iter()
        .enumerate()
    {
        let pcap::Frame::Ipv4(p) = f else { continue };
        let rx = decode_ipv4(p).unwrap_or_else(|e| panic!("live AH frame {i}: {e}"));
        let (IpAddr::V4(src), IpAddr::V4(dst)) = (rx.src, rx.dst) else {
            panic!("live AH frame {i}: not IPv4");
        };
        let ah = rx.ah.as_ref().expect("AH header");
        let key = AhKey::from_pass(if rx.adv.vrid == 61 {
            b"rkpahpass1"
        } else {
            b"s3cr"
        });
        let ip = Ipv4Emit {
            src,
            dst,
            ttl: rx.ttl.unwrap_or(255),
            ident: rx.ipv4_ident.unwrap_or(0),
            tos: rx.ipv4_tos.unwrap_or(0),
        };
        let ours = emit_ipv4_ah(&rx.adv, &ip, &key, ah.seq, !dst.is_multicast()).expect("emit");
        assert_eq!(&ours, p, "live AH frame {i} (vrid {})", rx.adv.vrid);
        vrids.insert(rx.adv.vrid);
    }
    assert_eq!(vrids.into_iter().collect::<Vec<_>>(), vec![61, 62]);
    if std::env::var_os("RKP_UPDATE_GOLDEN").is_some() {
        std::fs::copy(&out.0, data.join("keepalived-2.2.7-ah.pcap")).expect("update golden");
    }
}
