//! keepalived 2.2.7 as an oracle for configuration behaviour.
//!
//! [`keepalived_check`] runs `keepalived -t` (exit status and messages);
//! [`keepalived_dump`] starts keepalived with `--dump-conf` in a private
//! network namespace, where each interface the config names exists (one end
//! of a veth pair), and returns what it logged:
//! the parser's messages with their `(file: Line N)` positions and the dump
//! of the *effective* configuration (`------< VRRP Topology >------`, the
//! values after keepalived's fix-ups). The checker child cannot dump here
//! (the host kernel has no IPVS, so it stops at "Can't initialize ipvs");
//! its fix-up messages are still logged while it parses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Netns;

/// What keepalived said about one configuration.
#[derive(Debug, Clone)]
pub struct KeepalivedRun {
    /// Exit status of `keepalived -t` (`None` for [`keepalived_dump`]).
    pub exit_code: Option<i32>,
    /// Every log line, with the timestamp prefix removed.
    pub lines: Vec<String>,
}

impl KeepalivedRun {
    /// Every line, newline-joined.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// Parser messages: `(line, message)` from lines shaped
    /// `(FILE: Line N) message`.
    pub fn positioned(&self) -> Vec<(u32, String)> {
        self.lines
            .iter()
            .filter_map(|l| {
                let rest = l.strip_prefix('(')?;
                let (head, msg) = rest.split_once(") ")?;
                let n = head.rsplit_once("Line ")?.1.parse().ok()?;
                Some((n, msg.to_string()))
            })
            .collect()
    }

    /// The `-d` dump section starting at `------< TITLE >------` up to the
    /// next section (empty when absent).
    pub fn section(&self, title: &str) -> Vec<String> {
        let head = format!("------< {title} >------");
        let mut out = Vec::new();
        let mut inside = false;
        for l in &self.lines {
            if l.starts_with("------<") {
                inside = l.trim() == head;
                continue;
            }
            if inside {
                out.push(l.clone());
            }
        }
        out
    }

    /// The value of `KEY = VALUE` in the dump of one VRRP instance
    /// (`VRRP Instance = NAME` up to the next instance).
    pub fn instance_value(&self, instance: &str, key: &str) -> Option<String> {
        let topo = self.section("VRRP Topology");
        let start = topo
            .iter()
            .position(|l| l.trim() == format!("VRRP Instance = {instance}"))?;
        topo[start + 1..]
            .iter()
            .take_while(|l| !l.trim_start().starts_with("VRRP Instance = "))
            .find_map(|l| {
                let (k, v) = l.trim().split_once(" = ")?;
                (k == key).then(|| v.to_string())
            })
    }

    /// The value of `KEY = VALUE` in the global definitions dump.
    pub fn global_value(&self, key: &str) -> Option<String> {
        self.section("Global definitions").iter().find_map(|l| {
            let (k, v) = l.trim().split_once(" = ")?;
            (k == key).then(|| v.to_string())
        })
    }
}

fn strip_timestamp(line: &str) -> String {
    // "Sun Dec  6 05:36:40 2026: message"
    match line.get(24..26) {
        Some(": ") => line[26..].to_string(),
        _ => line.to_string(),
    }
}

fn scratch_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rkt-oracle-{tag}-{}-{}",
        std::process::id(),
        crate::SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

/// `keepalived -t -f FILE` (keepalived exits non-zero on any notice).
pub fn keepalived_check(conf: &Path) -> KeepalivedRun {
    let out = Command::new("keepalived")
        .args(["-t", "-l", "-f"])
        .arg(conf)
        .output()
        .unwrap_or_else(|e| panic!("keepalived -t: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    KeepalivedRun {
        exit_code: out.status.code(),
        lines: text.lines().map(strip_timestamp).collect(),
    }
}

/// Starts keepalived 2.2.7 with `--dump-conf` on `conf_text` in a private
/// netns where every interface in `interfaces` exists (up, with
/// 192.0.2.1+n/24 so IPv4 instances do not go to FAULT for want of an
/// address), waits until it has dumped its configuration (at most 5 s),
/// stops it and returns its log. Panics if keepalived cannot be started.
pub fn keepalived_dump(conf_text: &str, interfaces: &[&str]) -> KeepalivedRun {
    let ns = Netns::with_prefix("rko", "dump");
    for (n, ifname) in interfaces.iter().enumerate() {
        let peer = format!("rkop{n}");
        ns.ip(&["link", "add", ifname, "type", "veth", "peer", "name", &peer]);
        ns.ip(&["link", "set", ifname, "up"]);
        ns.ip(&["link", "set", &peer, "up"]);
        let addr = format!("192.0.2.{}/24", 1 + n);
        ns.ip(&["addr", "add", &addr, "dev", ifname]);
    }
    let dir = scratch_dir("dump");
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, conf_text).unwrap_or_else(|e| panic!("{}: {e}", conf.display()));
    let mut daemon = ns.spawn_keepalived(&conf, &dir, &["-d"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = daemon.log();
        let dumped = log.contains("------< Interfaces >------");
        let exited = matches!(daemon.child().try_wait(), Ok(Some(_)));
        if exited || Instant::now() > deadline {
            break;
        }
        if dumped {
            // The rest of the dump follows within a few milliseconds.
            std::thread::sleep(Duration::from_millis(300));
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = daemon.log();
    drop(daemon);
    drop(ns);
    let _ = std::fs::remove_dir_all(&dir);
    KeepalivedRun {
        exit_code: None,
        lines: log.lines().map(strip_timestamp).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_positions_sections_and_values() {
        let run = KeepalivedRun {
            exit_code: None,
            lines: [
                "(/tmp/k.conf: Line 6) (VI_1) unknown state 'MASTR', defaulting to BACKUP",
                "------< Global definitions >------",
                " Router ID = x",
                "------< VRRP Topology >------",
                " VRRP Instance = VI_1",
                "   Wantstate = BACKUP",
                "   Priority = 100",
                " VRRP Instance = VI_2",
                "   Priority = 50",
                "------< Interfaces >------",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        };
        assert_eq!(
            run.positioned(),
            vec![(
                6,
                "(VI_1) unknown state 'MASTR', defaulting to BACKUP".to_string()
            )]
        );
        assert_eq!(run.global_value("Router ID").as_deref(), Some("x"));
        assert_eq!(
            run.instance_value("VI_1", "Priority").as_deref(),
            Some("100")
        );
        assert_eq!(
            run.instance_value("VI_2", "Priority").as_deref(),
            Some("50")
        );
        assert_eq!(run.instance_value("VI_2", "Wantstate"), None);
        assert_eq!(
            strip_timestamp("Sun Dec  6 05:36:40 2026: Priority = 1"),
            "Priority = 1"
        );
    }

    #[test]
    fn keepalived_dump_shows_its_fixups() {
        use crate::{prerequisites, Need};
        if !prerequisites(&[Need::Root, Need::Keepalived, Need::Tool("ip")]) {
            return;
        }
        let conf = "vrrp_instance VI_1 {\n  interface eth0\n  state MASTR\n  virtual_router_id 51\n  priority 0\n  virtual_ipaddress {\n    192.0.2.10/24\n  }\n}\n";
        let run = keepalived_dump(conf, &["eth0"]);
        assert!(
            run.positioned().contains(&(
                3,
                "(VI_1) unknown state 'MASTR', defaulting to BACKUP".to_string()
            )),
            "{}",
            run.text()
        );
        assert_eq!(
            run.instance_value("VI_1", "Priority").as_deref(),
            Some("100"),
            "{}",
            run.text()
        );
        assert_eq!(
            run.instance_value("VI_1", "Wantstate").as_deref(),
            Some("BACKUP")
        );
    }
}
