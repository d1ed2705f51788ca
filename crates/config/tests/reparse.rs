//! The re-parse cache (src/reparse.rs): a reload that reuses the cached
//! `virtual_server` statements gives exactly what a full parse of the new
//! files gives (configuration with its origins, warnings, keywords not
//! acted on, or the same errors), and reuses what did not change.
//!
//! Hand-made edits (one virtual server edited, moved, added; a global, an
//! included file, conditionals, parameters, quoted braces, comments) and a
//! property over generated configurations with random line edits.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rkeepalived_config::{
    assert_same_load, load_checked, load_reusing, parse_str_reusing, LoadOptions, Processes,
    ReparseCache, ReparseStats,
};

#[path = "roundtrip/generator.rs"]
#[allow(dead_code)]
mod generator;

fn opts() -> LoadOptions {
    LoadOptions {
        config_id: Some("lb1".to_string()),
    }
}

/// A directory of configuration files, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("rkd-reparse-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        Dir(d)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn vs(addr: &str, port: u16, weights: &[u32]) -> String {
    let mut s = format!(
        "virtual_server {addr} {port} {{\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n"
    );
    for (i, w) in weights.iter().enumerate() {
        s.push_str(&format!(
            "    real_server 198.51.100.{} 8080 {{\n        weight {w}\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n",
            i + 1
        ));
    }
    s.push_str("}\n");
    s
}

fn many(n: u16) -> Vec<String> {
    (0..n)
        .map(|i| vs("192.0.2.1", 1000 + i, &[1, 2, 3]))
        .collect()
}

const GLOBAL: &str = "global_defs {\n    router_id lb\n}\n";

/// Loads `path` with `old`; checks the result against a full parse and
/// that a second load of the same files reuses every cached statement.
fn reload(
    path: &Path,
    procs: Processes,
    old: Option<&ReparseCache>,
) -> (Option<ReparseCache>, ReparseStats) {
    let (cached, cache, stats) = load_reusing(path, &opts(), procs, false, old);
    let full = load_checked(path, &opts(), procs, false);
    assert_same_load(&cached, &full);
    if let (Some(c), Ok(_)) = (&cache, &cached) {
        let (again, _, st) = load_reusing(path, &opts(), procs, false, Some(c));
        assert_same_load(&again, &full);
        assert_eq!(st.fallback, None, "unchanged files, no fallback");
        assert_eq!(
            st.reused,
            c.len(),
            "unchanged files reuse every cached statement"
        );
    }
    (cache, stats)
}

/// Start with `before`, reload with `after` (main file only).
fn change(test: &str, before: &str, after: &str) -> ReparseStats {
    let d = Dir::new(test);
    let p = d.write("keepalived.conf", before);
    let (cache, st0) = reload(&p, Processes::ALL, None);
    assert_eq!(st0.reused, 0);
    let cache = cache.expect("the first load makes a cache");
    d.write("keepalived.conf", after);
    reload(&p, Processes::ALL, Some(&cache)).1
}

#[test]
fn one_weight_edited_reparses_one_virtual_server() {
    let vss = many(20);
    let before = format!("{GLOBAL}{}", vss.concat());
    let mut edited = vss.clone();
    edited[7] = vs("192.0.2.1", 1007, &[1, 5, 3]);
    let st = change("weight", &before, &format!("{GLOBAL}{}", edited.concat()));
    assert_eq!((st.statements, st.reused, st.fallback), (20, 19, None));
}

#[test]
fn a_longer_block_shifts_only_what_follows() {
    let vss = many(10);
    let before = format!("{GLOBAL}{}", vss.concat());
    let mut edited = vss.clone();
    edited[3] = vs("192.0.2.1", 1003, &[1, 2, 3, 4]);
    let st = change("longer", &before, &format!("{GLOBAL}{}", edited.concat()));
    // 0..=2 unchanged at the same lines; 3 edited; 4.. start later.
    assert_eq!((st.statements, st.reused), (10, 3));
}

#[test]
fn moved_added_and_removed_virtual_servers() {
    let vss = many(8);
    let before = format!("{GLOBAL}{}", vss.concat());
    let mut moved = vss.clone();
    moved.swap(1, 6);
    change("moved", &before, &format!("{GLOBAL}{}", moved.concat()));
    let mut added = vss.clone();
    added.push(vs("192.0.2.9", 80, &[1]));
    let st = change("added", &before, &format!("{GLOBAL}{}", added.concat()));
    assert_eq!((st.statements, st.reused), (9, 8));
    let removed = vss[..7].concat();
    let st = change("removed", &before, &format!("{GLOBAL}{removed}"));
    assert_eq!((st.statements, st.reused), (7, 7));
    // A duplicate: an error, as in the full parse.
    let mut dup = vss.clone();
    dup.push(vss[0].clone());
    change("dup", &before, &format!("{GLOBAL}{}", dup.concat()));
}

#[test]
fn anything_else_changed_reads_in_full() {
    let vss = many(5).concat();
    let before = format!("{GLOBAL}{vss}");
    let st = change(
        "global",
        &before,
        &format!("global_defs {{\n    router_id lb2\n}}\n{vss}"),
    );
    assert_eq!(
        st.fallback.as_deref(),
        Some("something besides virtual_server blocks changed")
    );
    // smtp_alert_checker is read by every virtual server.
    let st = change(
        "smtp",
        &before,
        &format!("global_defs {{\n    smtp_alert_checker\n}}\n{vss}"),
    );
    assert!(st.fallback.is_some());
    // A longer global_defs: every virtual server starts later, none is
    // taken from the cache.
    let st = change(
        "longglobal",
        &before,
        &format!("global_defs {{\n    router_id lb\n    smtp_alert_checker\n}}\n{vss}"),
    );
    assert_eq!((st.reused, st.fallback), (0, None));
    // A group the virtual servers do not use, added after them.
    let st = change(
        "group",
        &before,
        &format!("{before}virtual_server_group g {{\n    192.0.2.7 80\n}}\n"),
    );
    assert!(st.fallback.is_some());
}

#[test]
fn comments_and_blank_lines_between_blocks_do_not_matter() {
    let vss = many(4);
    let before = format!("{GLOBAL}{}", vss.concat());
    let after = format!(
        "{GLOBAL}# a comment\n\n{}\n! another\n{}{}{}",
        vss[0], vss[1], vss[2], vss[3]
    );
    let st = change("comments", &before, &after);
    assert_eq!(st.fallback, None);
}

#[test]
fn lexer_and_parser_warnings_are_replayed_in_order() {
    let odd = "virtual_server 192.0.2.2 80 {\n    lb_algo wrr\n    lb_kind NAT\n    persistence_engine abcdefghijklmnopqrstuvwxyz0123456789\n    typo_keyword 1\n    real_server 198.51.100.1 80 {\n        weight 1#2\n        TCP_CHECK {\n        }\n    }\n    real_server 198.51.100.1 80 {\n    }\n}\n";
    let empty = "virtual_server 192.0.2.3 80 {\n    lb_algo rr\n}\n";
    let vss = many(3);
    let before = format!("{GLOBAL}{odd}{empty}{}", vss.concat());
    let mut edited = vss.clone();
    edited[1] = vs("192.0.2.1", 1001, &[9, 2, 3]);
    let after = format!("{GLOBAL}{odd}{empty}{}", edited.concat());
    let st = change("warnings", &before, &after);
    assert_eq!((st.statements, st.reused), (5, 4));
}

#[test]
fn blocks_the_scan_is_not_sure_about_are_read_normally() {
    let dollar = "$W=7\nvirtual_server 192.0.2.4 80 {\n    real_server 198.51.100.1 80 {\n        weight $W\n    }\n}\n";
    let cond = "virtual_server 192.0.2.5 80 {\n@lb1    lb_algo wrr\n@^lb1    lb_algo rr\n    real_server 198.51.100.1 80 {\n    }\n}\n";
    let quoted = "virtual_server 192.0.2.6 80 {\n    virtualhost \"a}b{\"\n    real_server 198.51.100.1 80 {\n        HTTP_GET {\n            url {\n                path \"/x}\"\n            }\n        }\n    }\n}\n";
    let same_line = "virtual_server 192.0.2.7 80 { real_server 198.51.100.1 80 { weight 5 } }\n";
    let brace_next =
        "virtual_server 192.0.2.8 80\n{\n    real_server 198.51.100.1 80 {\n    }\n}\n";
    let vss = many(3).concat();
    let before = format!("{GLOBAL}{dollar}{cond}{quoted}{same_line}{brace_next}{vss}");
    let after = before.replace("$W=7", "$W=8");
    let st = change("unsure", &before, &after);
    // The $ line is part of the rest.
    assert!(st.fallback.is_some());
    let after = before.replace("weight 5", "weight 6");
    let st = change("unsure2", &before, &after);
    assert_eq!(st.fallback, None);
    assert_eq!(
        st.statements - st.reused,
        3,
        "the $ one, the conditional one and the edited one"
    );
}

#[test]
fn unknown_keywords_keep_the_suggestion_budget() {
    // 60 unknown keywords each: the hints stop after 100 (keywords.rs).
    // `n` unknown keywords of 60 lines (the others known), so that the
    // blocks keep their lines.
    let block = |port: u16, n: usize| {
        let mut s = format!("virtual_server 192.0.2.1 {port} {{\n");
        for i in 0..60 {
            if i < n {
                s.push_str("    lb_algx 1\n");
            } else {
                s.push_str("    delay_loop 3\n");
            }
        }
        s.push_str("    real_server 198.51.100.1 80 {\n    }\n}\n");
        s
    };
    let before = format!("{GLOBAL}{}{}{}", block(1, 60), block(2, 60), block(3, 0));
    let after = format!("{GLOBAL}{}{}{}", block(1, 30), block(2, 60), block(3, 0));
    let st = change("unknown", &before, &after);
    assert!(
        st.fallback.is_some(),
        "the second block's hints change: {st:?}"
    );
}

#[test]
fn bfd_instances_before_and_after_virtual_servers() {
    // Three lines each, so that the BFD_CHECK's block keeps its line while
    // the bfd_instance moves from before it to after it.
    let bfd = "bfd_instance b1 {\n    neighbor_ip 198.51.100.1\n}\n";
    let other = "virtual_server 192.0.2.2 80 {\n    real_server 198.51.100.2 80 { weight 1 }\n}\n";
    let check = "virtual_server 192.0.2.1 80 {\n    real_server 198.51.100.1 80 {\n        BFD_CHECK {\n            name b1\n        }\n    }\n}\n";
    let before = format!("{GLOBAL}{bfd}{check}{other}");
    let after = format!("{GLOBAL}{other}{check}{bfd}");
    let st = change("bfd", &before, &after);
    assert!(st.fallback.is_some());
    let after = format!("{GLOBAL}{bfd}{other}{check}");
    change("bfd2", &before, &after);
}

/// Six virtual servers, three in `a.conf` and three in `b.conf`, both
/// included by `keepalived.conf` (returned with the six blocks).
fn two_included_files(d: &Dir) -> (Vec<String>, PathBuf) {
    let vss = many(6);
    d.write("a.conf", &vss[..3].concat());
    d.write("b.conf", &vss[3..].concat());
    let main = d.write(
        "keepalived.conf",
        &format!("{GLOBAL}include a.conf\ninclude b.conf\n"),
    );
    (vss, main)
}

#[test]
fn included_files() {
    let d = Dir::new("include");
    let (vss, main) = two_included_files(&d);
    let (cache, _) = reload(&main, Processes::ALL, None);
    let cache = cache.expect("cache");
    // One virtual server of an included file edited.
    let mut b = vss[3..].to_vec();
    b[1] = vs("192.0.2.1", 1004, &[4, 4, 4]);
    d.write("b.conf", &b.concat());
    let (cache, st) = reload(&main, Processes::ALL, Some(&cache));
    assert_eq!((st.statements, st.reused, st.fallback), (6, 5, None));
    let cache = cache.expect("cache");
    // An included file with a global: read in full.
    d.write(
        "a.conf",
        &format!("global_defs {{\n    router_id x\n}}\n{}", vss[..3].concat()),
    );
    let (cache, st) = reload(&main, Processes::ALL, Some(&cache));
    assert!(st.fallback.is_some());
    // An included file gone: its warning, read in full.
    std::fs::remove_file(d.0.join("a.conf")).expect("rm");
    let (_, st) = reload(&main, Processes::ALL, cache.as_ref());
    assert!(st.fallback.is_some());
    // The same file included twice: no cache from that load.
    let d2 = Dir::new("include2");
    d2.write("a.conf", &vss[0]);
    let main = d2.write("keepalived.conf", "include a.conf\ninclude a.conf\n");
    let (cache, _) = reload(&main, Processes::ALL, None);
    assert!(cache.is_none());
}

#[test]
fn checker_only_processes() {
    let d = Dir::new("procs");
    let vss = many(4);
    let inst = "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 1\n    priority 100\n    virtual_ipaddress {\n        192.0.2.100\n    }\n}\n";
    let p = d.write(
        "keepalived.conf",
        &format!("{GLOBAL}{inst}{}", vss.concat()),
    );
    let checker = Processes {
        vrrp: false,
        checker: true,
    };
    let vrrp = Processes {
        vrrp: true,
        checker: false,
    };
    let (cache, _) = reload(&p, checker, None);
    let cache = cache.expect("cache");
    let mut e = vss.clone();
    e[2] = vs("192.0.2.1", 1002, &[7, 2, 3]);
    d.write("keepalived.conf", &format!("{GLOBAL}{inst}{}", e.concat()));
    let (_, st) = reload(&p, checker, Some(&cache));
    assert_eq!((st.reused, st.fallback), (3, None));
    // Another process set: a different rest.
    let (_, st) = reload(&p, vrrp, Some(&cache));
    assert!(st.fallback.is_some());
}

#[test]
fn streaming_and_whole_reads_agree() {
    let vss = many(30);
    let text = format!("{GLOBAL}{}", vss.concat());
    let mut e = vss.clone();
    e[12] = vs("192.0.2.1", 1012, &[3, 2, 1]);
    let edited = format!("{GLOBAL}{}", e.concat());
    for budget in [0, 5, usize::MAX] {
        let (_, cache, _) = parse_str_reusing(&text, "s.conf", &opts(), budget, None);
        let cache = cache.expect("cache");
        let (cached, _, st) = parse_str_reusing(&edited, "s.conf", &opts(), budget, Some(&cache));
        assert_eq!(
            (st.reused, st.fallback.as_deref()),
            (29, None),
            "budget {budget}"
        );
        let full = rkeepalived_config::parse_str(&edited, "s.conf", &opts());
        assert_same_load(&cached, &full);
    }
    // A global after streaming started (budget 0): the read starts again.
    let late_global = format!("{}{GLOBAL}", e.concat());
    let (_, cache, _) = parse_str_reusing(&late_global, "s.conf", &opts(), 0, None);
    let (cached, _, _) = parse_str_reusing(&late_global, "s.conf", &opts(), 0, cache.as_ref());
    let full = rkeepalived_config::parse_str(&late_global, "s.conf", &opts());
    assert_same_load(&cached, &full);
}

/// Line edits of a printed configuration.
fn edit(text: &str, ops: &[(u8, usize, usize)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for &(op, a, b) in ops {
        if lines.is_empty() {
            break;
        }
        let a = a % lines.len();
        let b = b % lines.len();
        match op % 6 {
            0 => lines.insert(a, "# comment".into()),
            1 => {
                lines.remove(a);
            }
            2 => {
                let l = lines[a].clone();
                lines.insert(a, l);
            }
            3 => {
                // A digit changed.
                let l = &mut lines[a];
                if let Some(i) = l.find(|c: char| c.is_ascii_digit()) {
                    let d = (l.as_bytes()[i] - b'0' + 1 + (b % 8) as u8) % 10;
                    l.replace_range(i..=i, &d.to_string());
                }
            }
            4 => {
                // Two top-level statements swapped.
                let starts: Vec<usize> = (0..lines.len())
                    .filter(|&i| !lines[i].is_empty() && !lines[i].starts_with([' ', '}', '#']))
                    .collect();
                if starts.len() >= 2 {
                    let (i, j) = (starts[a % starts.len()], starts[b % starts.len()]);
                    let (i, j) = (i.min(j), i.max(j));
                    let end = |s: usize| {
                        (s..lines.len())
                            .find(|&k| lines[k] == "}")
                            .map_or(s + 1, |k| k + 1)
                    };
                    let (ei, ej) = (end(i), end(j));
                    if i != j && ei <= j {
                        let second: Vec<String> = lines[j..ej].to_vec();
                        let first: Vec<String> = lines[i..ei].to_vec();
                        lines.splice(j..ej, first);
                        lines.splice(i..ei, second);
                    }
                }
            }
            _ => {
                // A line appended to another.
                let l = lines[b].clone();
                lines[a].push(' ');
                lines[a].push_str(&l);
            }
        }
    }
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

fn cached_equals_full(
    seed: u64,
    ops: &[(u8, usize, usize)],
    budget: usize,
) -> Result<(), TestCaseError> {
    let cfg = generator::config(seed, false);
    let text = rkeepalived_config::print(&cfg);
    let (_, cache, _) = parse_str_reusing(&text, "gen.conf", &opts(), budget, None);
    let edited = edit(&text, ops);
    let (cached, next, _) = parse_str_reusing(&edited, "gen.conf", &opts(), budget, cache.as_ref());
    let full = rkeepalived_config::parse_str(&edited, "gen.conf", &opts());
    assert_same_load(&cached, &full);
    // Once more, from the edited load's cache.
    let (again, _, _) = parse_str_reusing(&edited, "gen.conf", &opts(), budget, next.as_ref());
    assert_same_load(&again, &full);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn cached_reload_is_the_full_parse(
        seed in any::<u64>(),
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 0..4),
        streamed in any::<bool>(),
    ) {
        cached_equals_full(seed, &ops, if streamed { 0 } else { usize::MAX })?;
    }
}

/// Start with the bytes `before`, reload with `after` (main file only):
/// checked against the full parse by `reload`.
fn change_bytes(test: &str, before: &[u8], after: &[u8]) -> ReparseStats {
    let d = Dir::new(test);
    let p = d.0.join("keepalived.conf");
    std::fs::write(&p, before).expect("write");
    let (cache, _) = reload(&p, Processes::ALL, None);
    std::fs::write(&p, after).expect("write");
    reload(&p, Processes::ALL, cache.as_ref()).1
}

/// The splice (src/reparse.rs): what a one-place edit leaves unchanged is
/// taken without reading its lines, and the result is the full parse's.
#[test]
fn splice_takes_the_unchanged_blocks_unread() {
    let vss = many(20);
    let text = |v: &[String]| format!("{GLOBAL}{}", v.concat());
    let before = text(&vss);
    let stats = |st: &ReparseStats| (st.statements, st.reused, st.spliced, st.fallback.clone());
    // An edit inside one block.
    let mut e = vss.clone();
    e[7] = vs("192.0.2.1", 1007, &[1, 5, 3]);
    let st = change_bytes("s-one", before.as_bytes(), text(&e).as_bytes());
    assert_eq!(stats(&st), (20, 19, 19, None));
    // The file identical.
    let st = change_bytes("s-same", before.as_bytes(), before.as_bytes());
    assert_eq!(stats(&st), (20, 20, 20, None));
    // An edit spanning two blocks (the end of one, the start of the next).
    let mut e = vss.clone();
    e[3] = vs("192.0.2.1", 1003, &[1, 2, 9]);
    e[4] = vs("192.0.2.1", 1004, &[9, 2, 3]);
    let st = change_bytes("s-two", before.as_bytes(), text(&e).as_bytes());
    assert_eq!(stats(&st), (20, 18, 18, None));
    // A line more: the blocks after it are at other lines (not reused).
    let mut e = vss.clone();
    e[3] = vs("192.0.2.1", 1003, &[1, 2, 3, 4]);
    let st = change_bytes("s-longer", before.as_bytes(), text(&e).as_bytes());
    assert_eq!(stats(&st), (20, 3, 3, None));
    // A line less and a line more between them: the same lines after.
    let mut e = vss.clone();
    e[3] = format!("# a comment\n{}", vss[3]);
    e[9] = vss[9].replacen("    protocol TCP\n", "", 1);
    let st = change_bytes("s-same-lines", before.as_bytes(), text(&e).as_bytes());
    // 0..=2 before, 10.. after: unread; 3..=8 moved a line down.
    assert_eq!(stats(&st), (20, 13, 13, None));
    // An edit of the rest: read in full.
    let after = before.replacen("router_id lb", "router_id lc", 1);
    let st = change_bytes("s-rest", before.as_bytes(), after.as_bytes());
    assert!(st.fallback.is_some());
    // A comment between blocks is not part of the rest.
    let mut e = vss.clone();
    e[5] = format!("# between\n{}", vss[5]);
    e[6] = vss[6].replacen("    lb_kind NAT\n", "", 1);
    let st = change_bytes("s-comment", before.as_bytes(), text(&e).as_bytes());
    // 5 a line down, 6 edited.
    assert_eq!(stats(&st), (20, 18, 18, None));
    // Truncated in the middle of a block, then at a block's end.
    let cut = before.len() - vss[19].len() / 2;
    change_bytes("s-cut", before.as_bytes(), &before.as_bytes()[..cut]);
    let cut = before.len() - vss[19].len();
    let st = change_bytes("s-cut2", before.as_bytes(), &before.as_bytes()[..cut]);
    assert_eq!(stats(&st), (19, 19, 19, None));
    // Blocks at the very start and the very end of the file, the last
    // without its newline; the last line grows.
    let bare = vss.concat();
    let bare = bare.strip_suffix('\n').expect("newline");
    let grown = format!("{bare} # x");
    let st = change_bytes("s-ends", bare.as_bytes(), grown.as_bytes());
    assert_eq!(stats(&st), (20, 19, 19, None));
    // A newline after the last line: its lines are the same (read again,
    // reused).
    let st = change_bytes("s-ends2", grown.as_bytes(), format!("{grown}\n").as_bytes());
    assert_eq!(stats(&st), (20, 20, 19, None));
    let mut e = vss.clone();
    e[0] = vs("192.0.2.1", 1000, &[1, 2, 4]);
    let e = e.concat();
    let e = e.strip_suffix('\n').expect("newline");
    let st = change_bytes("s-first", bare.as_bytes(), e.as_bytes());
    assert_eq!(stats(&st), (20, 19, 19, None));
}

#[test]
fn splice_crlf_and_bytes_that_are_not_utf8() {
    let vss = many(8);
    let before = format!("{GLOBAL}{}", vss.concat());
    let crlf = before.replace('\n', "\r\n");
    // CRLF files: an edit in one block.
    let after = crlf.replacen("weight 2\r\n", "weight 7\r\n", 1);
    let st = change_bytes("crlf", crlf.as_bytes(), after.as_bytes());
    assert_eq!((st.reused, st.spliced, st.fallback), (7, 7, None));
    // One line end turned into CRLF (a byte more, the same lines).
    let after = before.replacen("weight 2\n", "weight 2\r\n", 1);
    let st = change_bytes("crlf2", before.as_bytes(), after.as_bytes());
    // The edited block's lines are the same: scanned, and reused.
    assert_eq!((st.reused, st.spliced, st.fallback), (8, 7, None));
    // A CR alone (part of the line).
    let after = before.replacen("weight 2\n", "weight 2\r \n", 1);
    change_bytes("cr", before.as_bytes(), after.as_bytes());
    // Bytes that are not UTF-8 in a comment, then in a value.
    let mut bad = before.clone().into_bytes();
    let at = before.find("weight 3\n").expect("weight") + "weight 3".len();
    bad.splice(at..at, *b" # \xff\xfe");
    let st = change_bytes("latin1", before.as_bytes(), &bad);
    assert_eq!((st.reused, st.spliced, st.fallback), (7, 7, None));
    let mut bad2 = before.clone().into_bytes();
    bad2.splice(at - 1..at, *b"\xe9");
    change_bytes("latin1b", before.as_bytes(), &bad2);
    change_bytes("latin1c", &bad2, &bad);
}

#[test]
fn splice_in_included_files() {
    let d = Dir::new("splice-include");
    let (vss, main) = two_included_files(&d);
    let (cache, _) = reload(&main, Processes::ALL, None);
    let mut b = vss[3..].to_vec();
    b[2] = vs("192.0.2.1", 1005, &[4, 4, 4]);
    d.write("b.conf", &b.concat());
    let (cache, st) = reload(&main, Processes::ALL, cache.as_ref());
    assert_eq!((st.reused, st.spliced, st.fallback), (5, 5, None));
    // The included files swapped: each one's blocks are its own.
    d.write(
        "keepalived.conf",
        &format!("{GLOBAL}include b.conf\ninclude a.conf\n"),
    );
    let (_, st) = reload(&main, Processes::ALL, cache.as_ref());
    assert!(st.fallback.is_some());
}

/// Random byte edits (replace, insert, delete a byte; insert a newline)
/// of a generated configuration: the cached load is the full parse.
fn byte_edits_equal_full(seed: u64, ops: &[(u8, usize, u8)]) -> Result<(), TestCaseError> {
    let cfg = generator::config(seed, false);
    let text = rkeepalived_config::print(&cfg).into_bytes();
    let mut edited = text.clone();
    for &(op, at, b) in ops {
        let at = at % (edited.len() + 1);
        match op % 4 {
            0 if at < edited.len() => edited[at] = b,
            1 => edited.insert(at, b),
            2 if at < edited.len() => {
                edited.remove(at);
            }
            _ => edited.insert(at, b'\n'),
        }
    }
    let d = Dir::new(&format!("bytes-{seed:x}"));
    let p = d.0.join("keepalived.conf");
    std::fs::write(&p, &text).expect("write");
    let (_, cache, _) = load_reusing(&p, &opts(), Processes::ALL, false, None);
    std::fs::write(&p, &edited).expect("write");
    let (cached, next, _) = load_reusing(&p, &opts(), Processes::ALL, false, cache.as_ref());
    let full = load_checked(&p, &opts(), Processes::ALL, false);
    assert_same_load(&cached, &full);
    let (again, _, _) = load_reusing(&p, &opts(), Processes::ALL, false, next.as_ref());
    assert_same_load(&again, &full);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn spliced_reload_is_the_full_parse(
        seed in any::<u64>(),
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..3),
    ) {
        byte_edits_equal_full(seed, &ops)?;
    }
}

/// The spares (copies made ahead for the next load): taken once, then
/// cloned again; either way the full parse's result.
#[test]
fn spares_are_taken_once_then_cloned() {
    let d = Dir::new("spares");
    let vss = many(6);
    let p = d.write("keepalived.conf", &format!("{GLOBAL}{}", vss.concat()));
    let (cache, _) = reload(&p, Processes::ALL, None);
    let cache = cache.expect("cache");
    cache.prepare_spares();
    let mut e = vss.clone();
    e[1] = vs("192.0.2.1", 1001, &[2, 2, 2]);
    d.write("keepalived.conf", &format!("{GLOBAL}{}", e.concat()));
    // The first load takes the 5 spares, so it clones none; the second
    // clones what the new cache's background thread has not copied again
    // by then (the same statements: not asserted).
    let (_, st) = reload(&p, Processes::ALL, Some(&cache));
    assert_eq!(
        (st.reused, st.spliced, st.cloned, st.fallback),
        (5, 5, 0, None)
    );
    let (_, st) = reload(&p, Processes::ALL, Some(&cache));
    assert_eq!((st.reused, st.spliced, st.fallback), (5, 5, None));
}
