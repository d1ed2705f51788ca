//! include / glob / parameters / conditionals / comments / repetition.

use std::path::Path;

use rkeepalived_config::{load, parse_str, ConfigError, LoadOptions};

/// A scratch directory removed on drop (also when the test fails).
use rkeepalived_testkit::TempDir;

fn id(s: &str) -> LoadOptions {
    LoadOptions {
        config_id: Some(s.to_string()),
    }
}

fn instance(name: &str, vrid: u8) -> String {
    format!("vrrp_instance {name} {{\n    interface eth0\n    virtual_router_id {vrid}\n}}\n")
}

fn names(path: &Path, opts: &LoadOptions) -> Vec<String> {
    load(path, opts)
        .unwrap_or_else(|e| panic!("load failed: {e}"))
        .config
        .vrrp_instances
        .iter()
        .map(|v| v.name.clone())
        .collect()
}

#[test]
fn include_glob_relative_to_including_file_sorted() {
    let t = TempDir::new("config-test");
    t.write("conf.d/b.conf", &instance("VI_B", 2));
    t.write("conf.d/a.conf", &instance("VI_A", 1));
    t.write("conf.d/ignored.txt", &instance("VI_X", 3));
    let main = t.write("etc/../main.conf", "include conf.d/*.conf\n");
    assert_eq!(names(&main, &id("x")), ["VI_A", "VI_B"]);
}

#[test]
fn nested_include_resolves_against_the_included_files_directory() {
    let t = TempDir::new("config-test");
    t.write("sub/inner/leaf.conf", &instance("VI_LEAF", 9));
    t.write("sub/mid.conf", "include inner/leaf.conf\n");
    let abs = t.write("abs.conf", &instance("VI_ABS", 8));
    let main = t.write(
        "main.conf",
        &format!("include sub/mid.conf\ninclude {}\n", abs.display()),
    );
    assert_eq!(names(&main, &id("x")), ["VI_LEAF", "VI_ABS"]);
}

#[test]
fn include_loop_is_an_error_at_the_include_line() {
    let t = TempDir::new("config-test");
    t.write("a.conf", "! a\ninclude b.conf\n");
    t.write("b.conf", "include a.conf\n");
    let main = t.0.join("a.conf");
    let e = load(&main, &id("x")).unwrap_err();
    assert!(matches!(e, ConfigError::Read(_)));
    let d = &e.diagnostics()[0];
    assert!(d.message.contains("include loop"), "{e}");
    assert!(
        d.file.ends_with("b.conf") && d.line == 1 && d.col == 9,
        "{e}"
    );
}

#[test]
fn missing_include_file_and_empty_glob_are_skipped_with_a_warning() {
    // keepalived 2.2.7 logs "Config files missing '...'." and reads on
    // (lib/parser.c `open_and_check_glob()`).
    let t = TempDir::new("config-test");
    let main = t.write(
        "main.conf",
        "include nothere.conf\nglobal_defs {\n    router_id R\n}\n",
    );
    let l = load(&main, &id("x")).expect("missing include is skipped");
    let w = l.warnings[0].to_string();
    assert!(
        w.contains("main.conf:1:9: Config files missing '")
            && w.contains("nothere.conf' - skipping (as keepalived does)"),
        "{w}"
    );
    assert_eq!(l.config.global_defs.router_id.as_deref(), Some("R"));
    let main = t.write("main2.conf", "include empty.d/*.conf\n");
    let l = load(&main, &id("x")).expect("empty glob is fine");
    assert!(l.warnings[0].message.contains("matches no file"));
}

#[test]
fn missing_top_level_file_is_a_read_error() {
    let e = load(Path::new("/nonexistent-rkeepalived.conf"), &id("x")).unwrap_err();
    assert!(matches!(e, ConfigError::Read(_)));
    assert!(e
        .to_string()
        .starts_with("/nonexistent-rkeepalived.conf:0:0: cannot read"));
}

#[test]
fn parameters_substitute_with_and_without_braces() {
    let text = "$IF=eth3\n$VRID=42\n$NAME=VI\nvrrp_instance ${NAME}_1 {\n    interface $IF\n    virtual_router_id $VRID\n    notify_master \"/bin/echo $UNDEFINED ${ALSO_UNDEFINED}\"\n}\n";
    let l = parse_str(text, "p.conf", &id("x")).expect("loads");
    let v = &l.config.vrrp_instances[0];
    assert_eq!(v.name, "VI_1");
    assert_eq!(v.interface, "eth3");
    assert_eq!(v.virtual_router_id, 42);
    assert_eq!(
        v.notify_master.as_ref().map(|n| n.command.as_str()),
        Some("/bin/echo $UNDEFINED ${ALSO_UNDEFINED}")
    );
}

#[test]
fn parameters_are_recursive_at_replacement_time() {
    // The keepalived.conf(5) example.
    let text = "$ADDRESS_BASE=192.0.${ADDRESS_BASE_SUB}\n$ADDRESS_BASE_SUB=2\nvrrp_instance V {\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n        ${ADDRESS_BASE}.100/32\n$ADDRESS_BASE_SUB=3\n        ${ADDRESS_BASE}.100/32\n    }\n}\n";
    let l = parse_str(text, "p.conf", &id("x")).expect("loads");
    let vips: Vec<String> = l.config.vrrp_instances[0]
        .virtual_ipaddresses
        .iter()
        .map(|a| a.addr.to_string())
        .collect();
    assert_eq!(vips, ["192.0.2.100", "192.0.3.100"]);
}

#[test]
fn multi_line_parameter_expands_to_blocks() {
    let text = "$INSTANCE= \\\nvrrp_instance VI_${NUM} { \\\n    interface eth0 \\\n    virtual_router_id ${NUM} \\\n    @high priority 130 \\\n    @low priority 120 \\\n}\n$NUM=1\n$INSTANCE\n$NUM=2\n$INSTANCE\n";
    let l = parse_str(text, "p.conf", &id("low")).expect("loads");
    let v: Vec<(String, u8, u8)> = l
        .config
        .vrrp_instances
        .iter()
        .map(|v| (v.name.clone(), v.virtual_router_id, v.priority))
        .collect();
    assert_eq!(v, [("VI_1".into(), 1, 120), ("VI_2".into(), 2, 120)]);
}

#[test]
fn conditional_lines_follow_the_config_id() {
    let text = "global_defs {\n    @main router_id main_router\n    @backup router_id backup_router\n}\n@main $PRIO=240\n@^main $PRIO=200\nvrrp_instance V {\n    interface eth0\n    virtual_router_id 1\n    priority $PRIO\n    unicast_peer {\n        @^main 192.0.2.1\n        @^backup 192.0.2.2\n    }\n}\n";
    let main = parse_str(text, "c.conf", &id("main"))
        .expect("loads")
        .config;
    assert_eq!(main.global_defs.router_id.as_deref(), Some("main_router"));
    assert_eq!(main.vrrp_instances[0].priority, 240);
    let peers: Vec<String> = main.vrrp_instances[0]
        .unicast_peers
        .iter()
        .map(|p| p.addr.to_string())
        .collect();
    assert_eq!(peers, ["192.0.2.2"]);
    let other = parse_str(text, "c.conf", &id("other"))
        .expect("loads")
        .config;
    assert_eq!(other.global_defs.router_id, None);
    assert_eq!(other.vrrp_instances[0].priority, 200);
    assert_eq!(other.vrrp_instances[0].unicast_peers.len(), 2);
}

#[test]
fn parameter_can_hold_a_conditional() {
    let text = "$IF_MAIN=@main\nvrrp_instance V {\n    interface eth0\n    virtual_router_id 1\n    $IF_MAIN priority 240\n}\n";
    assert_eq!(
        parse_str(text, "c.conf", &id("main"))
            .expect("loads")
            .config
            .vrrp_instances[0]
            .priority,
        240
    );
    assert_eq!(
        parse_str(text, "c.conf", &id("x"))
            .expect("loads")
            .config
            .vrrp_instances[0]
            .priority,
        100
    );
}

#[test]
fn default_config_id_is_the_first_hostname_label() {
    let id = rkeepalived_config::default_config_id();
    assert!(!id.contains('.'), "{id}");
    assert_eq!(LoadOptions::default().effective_config_id(), id);
}

#[test]
fn comments_quotes_and_braces() {
    let text = "! bang comment\n# hash comment\nglobal_defs { # trailing\n    router_id \"has # and ! inside\" ! comment\n    notification_email { a@example.com b@example.com }\n    notification_email_from x#y@example.com\n    smtp_helo_name ${_HASH}notcomment\n}\nvrrp_instance V\n{\n    interface eth0\n    virtual_router_id 1\n    notify_master 'single \"quoted\"' root\n    notify_backup \"tab\\there\"\n}\n";
    let l = parse_str(text, "q.conf", &id("x")).expect("loads");
    let g = &l.config.global_defs;
    assert_eq!(g.router_id.as_deref(), Some("has # and ! inside"));
    assert_eq!(g.notification_email, ["a@example.com", "b@example.com"]);
    // keepalived's decomment() cuts at '#' even inside a word.
    assert_eq!(g.notification_email_from.as_deref(), Some("x"));
    assert!(l
        .warnings
        .iter()
        .any(|w| w.line == 6 && w.col == 30 && w.message.contains("'#' starts a comment")));
    assert_eq!(g.smtp_helo_name.as_deref(), Some("#notcomment"));
    let v = &l.config.vrrp_instances[0];
    let nm = v.notify_master.as_ref().expect("notify_master");
    assert_eq!(nm.command, "single \"quoted\"");
    assert_eq!(nm.user.as_ref().map(|u| u.user.as_str()), Some("root"));
    assert_eq!(
        v.notify_backup.as_ref().map(|n| n.command.as_str()),
        Some("tab\there")
    );
}

#[test]
fn seq_and_lst_repeat_lines() {
    let text = "vrrp_instance V {\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n        ~SEQ(N, 1, 3) 192.0.2.${N}/32\n        ~LST({A,B}, {5,6}, {7,8}) 198.51.100.${A}${B}/32\n        ~SEQx(H, 0xa, 0xb) 2001:db8::${H}/128\n    }\n}\n";
    let l = parse_str(text, "s.conf", &id("x")).expect("loads");
    let v = &l.config.vrrp_instances[0];
    let all: Vec<String> = v
        .virtual_ipaddresses
        .iter()
        .map(|a| a.addr.to_string())
        .collect();
    assert_eq!(
        all,
        [
            "192.0.2.1",
            "192.0.2.2",
            "192.0.2.3",
            "198.51.100.56",
            "198.51.100.78"
        ]
    );
    // The IPv6 lines are the other family: keepalived drops them with a warning.
    assert!(l
        .warnings
        .iter()
        .any(|w| w.message.contains("other address family")));
}

#[test]
fn pwd_is_the_directory_of_the_current_file() {
    let t = TempDir::new("config-test");
    t.write(
        "sub/inc.conf",
        "vrrp_script s {\n    script \"${_PWD}/check.sh\"\n}\n",
    );
    let main = t.write(
        "main.conf",
        "include sub/inc.conf\nvrrp_script m {\n    script \"${_PWD}/m.sh\"\n}\n",
    );
    let cfg = load(&main, &id("x")).expect("loads").config;
    assert_eq!(
        cfg.vrrp_scripts[0].script,
        format!("{}/check.sh", t.0.join("sub").display())
    );
    assert_eq!(
        cfg.vrrp_scripts[1].script,
        format!("{}/m.sh", t.0.display())
    );
}

#[test]
fn runaway_parameter_expansion_is_an_error_not_a_hang() {
    let text = "$A=${A}${A}\nglobal_defs {\n    router_id ${A}\n}\n";
    let e = parse_str(text, "r.conf", &id("x")).unwrap_err();
    assert!(matches!(e, ConfigError::Read(_)), "{e}");
    assert!(e.to_string().starts_with("r.conf:3:"), "{e}");
}

#[test]
fn deeply_nested_braces_are_an_error_not_a_stack_overflow() {
    let text = "{".repeat(100_000);
    let e = parse_str(&text, "d.conf", &id("x")).unwrap_err();
    assert!(e.to_string().contains("d.conf:1:1:"), "{e}");
    let text = format!("global_defs {}\n", "x {".repeat(10_000));
    let e = parse_str(&text, "d.conf", &id("x")).unwrap_err();
    assert!(e.to_string().contains("nested deeper"), "{e}");
}

#[test]
fn include_inside_a_block_and_braces_glued_to_words() {
    let t = TempDir::new("config-test");
    t.write("vips.conf", "192.0.2.10/24\n192.0.2.11/24\n");
    let main = t.write(
        "main.conf",
        "vrrp_instance VI_1{\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n        include vips.conf\n    }\n    track_interface { eth1 weight 5 }\n}\n",
    );
    let cfg = load(&main, &id("x")).expect("loads").config;
    let v = &cfg.vrrp_instances[0];
    let vips: Vec<String> = v
        .virtual_ipaddresses
        .iter()
        .map(|a| a.addr.to_string())
        .collect();
    assert_eq!(vips, ["192.0.2.10", "192.0.2.11"]);
    assert_eq!(v.track_interfaces[0].name, "eth1");
    assert_eq!(v.track_interfaces[0].weight, 5);
}

#[test]
fn errors_in_included_files_name_that_file() {
    let t = TempDir::new("config-test");
    t.write(
        "inc/bad.conf",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n}\n",
    );
    let main = t.write("main.conf", "! main\ninclude inc/bad.conf\n");
    let e = load(&main, &id("x")).unwrap_err();
    let d = &e.diagnostics()[0];
    assert!(d.file.ends_with("inc/bad.conf"), "{e}");
    assert_eq!((d.line, d.col), (3, 23), "{e}");
}
