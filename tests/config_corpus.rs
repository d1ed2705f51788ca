//! Differential `-t` check against keepalived 2.2.7 over real configurations
//! written by others (tests/data/corpus/, see its README.md) and Debian's
//! samples (/usr/share/doc/keepalived/samples/keepalived.conf.*).
//!
//! Each file runs through `keepalived -t` and `rkeepalived -t` inside a
//! private network namespace in which every interface the file names exists
//! (one end of a veth pair), so keepalived validates every instance.
//!
//! keepalived -t exits non-zero on any notice, so its exit status is not the
//! verdict. Each of its messages is classified by [`KEEPALIVED_MESSAGES`]:
//! * `HostDependent`: about this machine, not the configuration (a missing
//!   script file or script user, a name that does not resolve, a feature
//!   this build lacks);
//! * `FixedUpAndRuns`: keepalived substitutes a default, drops a line or a
//!   keyword and keeps going with the object;
//! * `CannotRun`: an object is lost or keepalived exits.
//!
//! An unclassified message fails the test, naming it, so the table grows
//! honestly. keepalived runs the file when no message is `CannotRun`.
//!
//! rkeepalived runs the file when `-t` exits 0, or exits 5 having loaded the
//! configuration (its summary line is printed) with only `error:` findings:
//! those are refused scripts
//! (missing file, missing script user, insecure), which the daemon runs
//! without (src/daemon.rs `config_test`), i.e. host-dependent as well.
//!
//! The verdicts must agree, except for the files in [`KNOWN_DISAGREEMENTS`]
//! (the test also fails when one of those agrees, so the list only shrinks).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rkeepalived_testkit::{prerequisites, Need, Netns};

const DEBIAN_SAMPLES: &str = "/usr/share/doc/keepalived/samples";
const WORKERS: usize = 3;

use rkeepalived_testkit::keepalived_messages::{self, classify, Class, Class::*};

/// Files whose verdicts differ today, and why. The test fails when a listed
/// file agrees (remove it then), and lists every other disagreement.
const KNOWN_DISAGREEMENTS: &[(&str, &str)] = &[];

/// Interface names a configuration uses: the word after `interface`, `dev`,
/// `default_interface`, `lvs_sync_daemon`, `lvs_sync_daemon_interface`, and
/// the members of `track_interface` / `linkbeat_interfaces` blocks.
fn interfaces(text: &str) -> Vec<String> {
    const AFTER: &[&str] = &[
        "interface",
        "dev",
        "default_interface",
        "lvs_sync_daemon",
        "lvs_sync_daemon_interface",
    ];
    const BLOCKS: &[&str] = &["track_interface", "linkbeat_interfaces"];
    let mut out: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        let name = name.trim_matches('"');
        let ok = !name.is_empty()
            && name.len() <= 15
            && name != "lo"
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            && !name.chars().all(|c| c.is_ascii_digit());
        if ok && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    };
    let mut in_block = false;
    for line in text.lines() {
        // Braces are words of their own, as keepalived reads them
        // (`track_interface{` is a block opening).
        let spaced = line.replace('{', " { ").replace('}', " } ");
        let words: Vec<&str> = spaced
            .split_whitespace()
            .take_while(|w| !w.starts_with('#') && !w.starts_with('!'))
            .collect();
        if in_block {
            if let Some(first) = words.first() {
                if *first != "}" && *first != "{" {
                    add(first);
                }
            }
            if words.contains(&"}") {
                in_block = false;
            }
            continue;
        }
        for pair in words.windows(2) {
            if AFTER.contains(&pair[0]) {
                add(pair[1]);
            }
        }
        if let Some(first) = words.first() {
            if BLOCKS.contains(first) {
                let rest: Vec<&str> = words[1..].iter().copied().filter(|w| *w != "{").collect();
                if rest.contains(&"}") {
                    let mut skip_next = false;
                    for w in rest.iter().take_while(|w| **w != "}") {
                        if skip_next {
                            skip_next = false;
                        } else if *w == "weight" {
                            skip_next = true;
                        } else {
                            add(w);
                        }
                    }
                } else {
                    in_block = true;
                }
            }
        }
    }
    out
}

/// Whether rkeepalived's `-t` output shows a refusal. `-t` ends with the
/// "N keywords parsed but not acted on" summary only when the configuration
/// loaded (src/daemon.rs `config_test`); a load that failed has no summary.
/// A loaded configuration may still exit 5 for refused scripts (missing
/// file, missing script user, insecure), which the daemon runs without.
fn rkeepalived_refuses(output: &str) -> bool {
    !output.lines().any(|l| {
        let l = l.trim();
        l.ends_with(" parsed but not acted on") || l.contains(" parsed but not acted on: ")
    })
}

#[derive(Debug)]
struct Outcome {
    file: String,
    interfaces: Vec<String>,
    messages: Vec<(Option<u32>, String, Option<Class>)>,
    keepalived_exit: Option<i32>,
    keepalived_runs: bool,
    ours: String,
    ours_exit: Option<i32>,
    ours_runs: bool,
}

fn run_one(path: &Path, bin: &str) -> Outcome {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ifs = interfaces(&text);
    let ns = Netns::with_prefix("rkc", "corpus");
    for (n, name) in ifs.iter().enumerate() {
        let peer = format!("rkcp{n}");
        ns.ip(&["link", "add", name, "type", "veth", "peer", "name", &peer]);
        ns.ip(&["link", "set", name, "up"]);
        ns.ip(&["link", "set", &peer, "up"]);
    }
    let run = |program: &str| {
        let out = Command::new("ip")
            .args(["netns", "exec", ns.name(), program, "-t", "-f"])
            .arg(path)
            .output()
            .unwrap_or_else(|e| panic!("{program} -t: {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (keepalived_exit, k_text) = run("keepalived");
    let (ours_exit, ours) = run(bin);
    drop(ns);
    let messages: Vec<_> = keepalived_messages::parse(&k_text)
        .into_iter()
        .map(|(n, m)| {
            let c = classify(&m);
            (n, m, c)
        })
        .collect();
    let keepalived_runs = !messages.iter().any(|(_, _, c)| *c == Some(CannotRun));
    let ours_runs = ours_exit == Some(0) || (ours_exit == Some(5) && !rkeepalived_refuses(&ours));
    Outcome {
        file: path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        interfaces: ifs,
        messages,
        keepalived_exit,
        keepalived_runs,
        ours,
        ours_exit,
        ours_runs,
    }
}

/// keepalived's `FixedUpAndRuns` messages on a line about which rkeepalived
/// printed nothing (for files rkeepalived runs: a refusal stops early).
fn silent_fixups(o: &Outcome) -> Vec<(u32, String)> {
    if !o.ours_runs {
        return Vec::new();
    }
    o.messages
        .iter()
        .filter(|(_, _, c)| *c == Some(FixedUpAndRuns))
        .filter_map(|(n, m, _)| {
            let n = (*n)?;
            let said = o.ours.lines().any(|l| {
                l.rsplit_once(".conf:")
                    .or_else(|| l.split_once("/samples/"))
                    .is_some_and(|(_, rest)| {
                        rest.split(':').find_map(|w| w.parse::<u32>().ok()) == Some(n)
                    })
            });
            (!said).then(|| (n, m.clone()))
        })
        .collect()
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    files.sort();
    // Absent without the keepalived package: the differential test checks
    // for it up front.
    let mut samples: Vec<PathBuf> = std::fs::read_dir(DEBIAN_SAMPLES)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with("keepalived.conf."))
        })
        .collect();
    samples.sort();
    files.extend(samples);
    files
}

fn verdict(runs: bool) -> &'static str {
    if runs {
        "runs"
    } else {
        "cannot run"
    }
}

fn describe(o: &Outcome) -> String {
    let mut s = format!(
        "{}: keepalived {} (exit {:?}), rkeepalived {} (exit {:?}); interfaces {:?}\n  keepalived says:\n",
        o.file,
        verdict(o.keepalived_runs),
        o.keepalived_exit,
        verdict(o.ours_runs),
        o.ours_exit,
        o.interfaces
    );
    for (n, m, c) in &o.messages {
        let line = n.map(|n| format!("line {n}: ")).unwrap_or_default();
        s.push_str(&format!("    [{c:?}] {line}{m}\n"));
    }
    s.push_str("  rkeepalived says:\n");
    for l in o.ours.lines() {
        // Paths are long and the same for every line.
        let l = l.rsplit_once(".conf:").map_or(l, |(_, rest)| rest);
        s.push_str(&format!("    {l}\n"));
    }
    s
}

#[test]
fn keepalived_and_rkeepalived_agree_on_the_corpus() {
    if !prerequisites(&[
        Need::Root,
        Need::Keepalived,
        Need::Tool("ip"),
        Need::Path(DEBIAN_SAMPLES, "apt-get install keepalived"),
    ]) {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_rkeepalived");
    let files = corpus_files();
    let corpus = files
        .iter()
        .filter(|p| !p.starts_with(DEBIAN_SAMPLES))
        .count();
    assert!(
        corpus >= 40,
        "the corpus has {corpus} files, want at least 40"
    );

    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let o = run_one(path, bin);
                outcomes.lock().unwrap_or_else(|e| e.into_inner()).push(o);
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
    outcomes.sort_by(|a, b| a.file.cmp(&b.file));

    let mut failures = Vec::new();
    let mut agree = 0;
    for o in &outcomes {
        let unclassified: Vec<&String> = o
            .messages
            .iter()
            .filter(|(_, _, c)| c.is_none())
            .map(|(_, m, _)| m)
            .collect();
        if !unclassified.is_empty() {
            failures.push(format!(
                "UNCLASSIFIED keepalived message(s) {unclassified:?}: add them to KEEPALIVED_MESSAGES\n{}",
                describe(o)
            ));
        }
        // Every interface must exist, or keepalived does not validate the
        // instance the way it would on the host the file was written for.
        let missing: Vec<&String> = o
            .messages
            .iter()
            .map(|(_, m, _)| m)
            .filter(|m| m.contains("doesn't exist") || m.contains("Non-existent interface"))
            .collect();
        if !missing.is_empty() {
            failures.push(format!(
                "MISSED INTERFACE {missing:?}: teach interfaces() to find it\n{}",
                describe(o)
            ));
        }
        let known = KNOWN_DISAGREEMENTS.iter().find(|(f, _)| *f == o.file);
        let same = o.keepalived_runs == o.ours_runs;
        match (same, known) {
            (true, None) => agree += 1,
            (true, Some((_, why))) => failures.push(format!(
                "NOW AGREES (remove it from KNOWN_DISAGREEMENTS, was: {why})\n{}",
                describe(o)
            )),
            (false, Some(_)) => {}
            (false, None) => failures.push(format!("DISAGREEMENT\n{}", describe(o))),
        }
    }
    eprintln!(
        "config_corpus: {} files ({corpus} corpus, {} Debian samples): {agree} agree, {} known disagreements",
        outcomes.len(),
        outcomes.len() - corpus,
        KNOWN_DISAGREEMENTS.len()
    );
    if std::env::var_os("CORPUS_VERBOSE").is_some() {
        for o in &outcomes {
            eprintln!("{}", describe(o));
        }
        // Not a failure (the verdicts agree), but where keepalived fixes a
        // line up and we say nothing about that line, our reading of it
        // may differ: a list to work through.
        eprintln!("keepalived fix-ups on lines rkeepalived says nothing about:");
        for o in &outcomes {
            for (n, m) in silent_fixups(o) {
                eprintln!("  {}:{n}: {m}", o.file);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn interface_names_are_found() {
    let conf = "global_defs {\n  default_interface bond0\n  lvs_sync_daemon eth9 VI_1\n}\n\
        vrrp_instance VI_1 {\n  interface eth0 # uplink\n  track_interface {\n    eth1 weight 10\n    vlan.933\n  }\n\
        virtual_ipaddress {\n    192.0.2.1/24 dev eth2 label eth2:1\n  }\n}\n\
        vrrp_instance VI_2 {\n  interface lo\n  track_interface { ens3 weight -5 ens4 }\n}\n\
        vrrp_instance VI_3 {\n  track_interface{ \t\t# tabs\n\t\tens5\n\t}\n}\n";
    assert_eq!(
        interfaces(conf),
        ["bond0", "eth9", "eth0", "eth1", "vlan.933", "eth2", "ens3", "ens4", "ens5"]
    );
}

#[test]
fn keepalived_messages_are_deduplicated_with_their_lines() {
    let text = "(/x/k.conf: Line 6) Unknown keyword 'lvs_id'\n(Line 6) Unknown keyword 'lvs_id'\n\
        (VI_1) No VIP specified; at least one is sensible\n(VI_1) No VIP specified; at least one is sensible\n";
    assert_eq!(
        keepalived_messages::parse(text),
        [
            (Some(6), "Unknown keyword 'lvs_id'".to_string()),
            (
                None,
                "(VI_1) No VIP specified; at least one is sensible".to_string()
            ),
        ]
    );
    assert_eq!(classify("Unknown keyword 'lvs_id'"), Some(FixedUpAndRuns));
    assert_eq!(
        classify("*** Configuration line starting `preempt_delay` is missing a parameter after keyword `preempt_delay` at word position 2"),
        Some(CannotRun)
    );
}

#[test]
fn rkeepalived_refusals_are_told_from_script_findings() {
    assert!(!rkeepalived_refuses(
        "/a.conf:3:1: warning: unknown keyword 'x' in the top level; ignored\n\
         /a.conf:8:1: error: Disabling track script c since not found/accessible\n\
         rkeepalived: configuration /a.conf is not valid\n\
         1 keyword parsed but not acted on: lvs_notify_fifo\n"
    ));
    assert!(rkeepalived_refuses(
        "/a.conf:26:25: 'persistence_timeout': value 0 out of range 1..4294967295\n\
         rkeepalived: configuration /a.conf is not valid\n"
    ));
}

/// Every corpus file names its source and rendering on its first two lines,
/// and uses only documentation, loopback or multicast IPv4 addresses (and
/// netmasks): test traffic never leaves those ranges, even if a file is run.
#[test]
fn corpus_files_name_their_source_and_use_documentation_addresses() {
    let files: Vec<PathBuf> = corpus_files()
        .into_iter()
        .filter(|p| !p.starts_with(DEBIAN_SAMPLES))
        .collect();
    assert!(files.len() >= 40, "{} corpus files", files.len());
    let mut bad = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut lines = text.lines();
        let name = path.display();
        if !lines
            .next()
            .is_some_and(|l| l.starts_with("# source: https://github.com/"))
        {
            bad.push(format!(
                "{name}: line 1 is not '# source: https://github.com/...'"
            ));
        }
        if !lines.next().is_some_and(|l| l.starts_with("# rendered: ")) {
            bad.push(format!("{name}: line 2 is not '# rendered: ...'"));
        }
        for (n, line) in text.lines().enumerate().skip(1) {
            for word in line.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
                let Ok(ip) = word.parse::<std::net::Ipv4Addr>() else {
                    continue;
                };
                let [a, b, c, _] = ip.octets();
                let ok = matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113))
                    || ip.is_loopback()
                    || ip.is_multicast()
                    || ip.is_unspecified()
                    || a == 255;
                if !ok {
                    bad.push(format!("{name}:{}: address {ip}", n + 1));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
