//! `config::secure_config`: keepalived's outcome for each kind of refused
//! script (removed with its references, dropped, "Disabling ..." wording).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rkeepalived_config::{model::CheckerKind, parse_str, Config, LoadOptions};
use rkeepalived_script::config::{secure_config, Finding, Severity};

/// Creating root-owned scripts needs root: skip (fail in CI) otherwise.
fn is_root() -> bool {
    rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Root])
}

/// `<tmp>/rkc-cfg-TAG-PID/{safe (0755), ww (0777)}`, removed on drop.
struct Dirs(PathBuf);

impl Dirs {
    fn new(tag: &str) -> Dirs {
        let d = std::env::temp_dir().join(format!("rkc-cfg-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for (sub, mode) in [("", 0o755), ("safe", 0o755), ("ww", 0o777)] {
            let p = d.join(sub);
            std::fs::create_dir_all(&p).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        Dirs(d)
    }
    fn script(&self, sub: &str, name: &str) -> String {
        let p = self.0.join(sub).join(name);
        std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.display().to_string()
    }
}

impl Drop for Dirs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn load(text: &str) -> Config {
    parse_str(text, "/etc/keepalived/test.conf", &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

fn errors(f: &[Finding]) -> Vec<&str> {
    f.iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.message.as_str())
        .collect()
}

fn has(f: &[Finding], needle: &str) -> bool {
    f.iter().any(|f| f.message.contains(needle))
}

fn instances(ww: &str, safe: &str, global: &str) -> String {
    format!(
        "global_defs {{
    script_user root
{global}
}}
vrrp_script bad {{
    script \"{ww} arg\"
}}
vrrp_script good {{
    script \"{safe}\"
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {{
        192.0.2.1
    }}
    track_script {{
        bad
        good
    }}
    notify_master \"{ww}\"
    notify_backup \"{safe}\"
}}
vrrp_sync_group G {{
    group {{
        VI_1
    }}
    track_script {{
        bad
    }}
    notify_fault \"{ww}\"
}}
virtual_server 192.0.2.100 80 {{
    quorum_up \"{ww}\"
    real_server 192.0.2.11 80 {{
        notify_down \"{ww}\"
        MISC_CHECK {{
            misc_path \"{ww}\"
        }}
        TCP_CHECK {{
        }}
    }}
    real_server 192.0.2.12 80 {{
        MISC_CHECK {{
            misc_path \"{safe}\"
        }}
    }}
}}
"
    )
}

/// Skipping the virtual servers known to be script-free (a reload's
/// unchanged ones) gives the full check's configuration and findings.
#[test]
fn skipping_script_free_virtual_servers_changes_nothing() {
    if !is_root() {
        return;
    }
    let d = Dirs::new("skipping");
    let ww = d.script("ww", "x.sh");
    let safe = d.script("safe", "ok.sh");
    let text = format!(
        "{}virtual_server 192.0.2.20 80 {{\n    real_server 192.0.2.21 80 {{\n        TCP_CHECK {{\n        }}\n    }}\n}}\n",
        instances(&ww, &safe, "    enable_script_security")
    );
    let mut full = load(&text);
    let mut skipped = full.clone();
    let f_full = secure_config(&mut full);
    let free = |vs: &rkeepalived_config::model::VirtualServer| {
        !rkeepalived_config::reparse::has_scripts(vs)
    };
    assert!(skipped.virtual_servers.iter().any(free));
    assert!(!skipped.virtual_servers.iter().all(free));
    let f_skipped = rkeepalived_script::config::secure_config_skipping(&mut skipped, &free);
    assert_eq!(full, skipped);
    assert_eq!(
        f_full.iter().map(ToString::to_string).collect::<Vec<_>>(),
        f_skipped
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
}

#[test]
fn refused_scripts_are_removed_the_way_keepalived_does() {
    if !is_root() {
        return;
    }
    let d = Dirs::new("enforced");
    let ww = d.script("ww", "x.sh");
    let safe = d.script("safe", "ok.sh");
    let mut cfg = load(&instances(&ww, &safe, "    enable_script_security"));
    let f = secure_config(&mut cfg);

    // vrrp_script removed with every reference (instance and sync group).
    assert_eq!(
        cfg.vrrp_scripts.iter().map(|s| &s.name).collect::<Vec<_>>(),
        ["good"]
    );
    let vi = &cfg.vrrp_instances[0];
    assert_eq!(
        vi.track_scripts.iter().map(|t| &t.name).collect::<Vec<_>>(),
        ["good"]
    );
    assert!(cfg.vrrp_sync_groups[0].track_scripts.is_empty());
    assert!(has(&f, "Disabling track script bad due to insecure"));
    let bad = f
        .iter()
        .find(|f| f.message.contains("track script bad"))
        .unwrap();
    assert_eq!(bad.origin.as_ref().map(|o| o.line), Some(5), "{bad}");
    assert!(bad
        .to_string()
        .starts_with("/etc/keepalived/test.conf:5:1: error: "));
    // Notify scripts dropped, safe ones kept.
    assert!(vi.notify_master.is_none());
    assert!(vi.notify_backup.is_some());
    assert!(cfg.vrrp_sync_groups[0].notify_fault.is_none());
    // MISC_CHECK removed (the TCP_CHECK stays), checker notifies dropped.
    let vs = &cfg.virtual_servers[0];
    assert!(vs.quorum_up.is_none());
    assert!(vs.real_servers[0].notify_down.is_none());
    assert_eq!(vs.real_servers[0].checkers.len(), 1);
    assert!(matches!(
        vs.real_servers[0].checkers[0].kind,
        CheckerKind::Tcp
    ));
    assert!(matches!(
        vs.real_servers[1].checkers[0].kind,
        CheckerKind::Misc(_)
    ));
    assert!(has(
        &f,
        &format!("Disabling misc script {ww} due to insecure")
    ));
    // Each refused script is an error (-t fails), nothing else is.
    assert_eq!(errors(&f).len(), 6, "{f:#?}");
    assert!(!has(&f, "SECURITY VIOLATION"));
}

#[test]
fn without_enable_script_security_insecure_scripts_run_with_a_warning() {
    if !is_root() {
        return;
    }
    let d = Dirs::new("relaxed");
    let ww = d.script("ww", "x.sh");
    let safe = d.script("safe", "ok.sh");
    let mut cfg = load(&instances(&ww, &safe, ""));
    let before = cfg.clone();
    let f = secure_config(&mut cfg);
    assert_eq!(cfg, before, "nothing removed");
    assert!(errors(&f).is_empty(), "{f:#?}");
    assert!(has(&f, "Unsafe permissions found for script"));
    // keepalived's summary, once per process.
    assert!(has(
        &f,
        "SECURITY VIOLATION - scripts are being executed but script_security not enabled. There are insecure scripts."
    ));
    assert!(has(
        &f,
        "SECURITY VIOLATION - check scripts are being executed but script_security not enabled. There are insecure scripts."
    ));
}

#[test]
fn unknown_users_remove_scripts_instead_of_running_them_as_root() {
    let text = |global: &str, user: &str| {
        format!(
            "global_defs {{
{global}
}}
vrrp_script own_user {{
    script \"/bin/true\"
    user {user}
}}
vrrp_script default_user {{
    script \"/bin/true\"
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 1
    virtual_ipaddress {{
        192.0.2.1
    }}
    track_script {{
        own_user
        default_user
    }}
    notify_master \"/bin/true\" {user}
}}
"
        )
    };
    // A script's own unknown user.
    let mut cfg = load(&text("    script_user root", "rkc-no-such-user"));
    let f = secure_config(&mut cfg);
    assert_eq!(
        cfg.vrrp_scripts.iter().map(|s| &s.name).collect::<Vec<_>>(),
        ["default_user"]
    );
    assert!(cfg.vrrp_instances[0].notify_master.is_none());
    assert!(has(&f, "Unable to set uid/gid for script /bin/true"));
    assert!(has(&f, "Script user 'rkc-no-such-user' does not exist"));
    assert!(has(
        &f,
        "(VI_1) Invalid user/group for notify_master script"
    ));
    assert_eq!(errors(&f).len(), 2, "{f:#?}");

    // An unknown script_user: scripts without their own user go, the others stay.
    let mut cfg = load(&text("    script_user rkc-no-such-user", "root"));
    let f = secure_config(&mut cfg);
    assert_eq!(
        cfg.vrrp_scripts.iter().map(|s| &s.name).collect::<Vec<_>>(),
        ["own_user"]
    );
    assert!(cfg.vrrp_instances[0].notify_master.is_some());
    assert!(has(&f, "Error setting global script uid/gid"));
    assert!(has(
        &f,
        "Unable to set default user for vrrp script default_user - removing"
    ));

    // enable_script_security without script_user and without a
    // keepalived_script user: no default user (keepalived refuses too).
    if nix::unistd::User::from_name("keepalived_script")
        .ok()
        .flatten()
        .is_none()
    {
        let mut cfg = load(&text("    enable_script_security", "root"));
        let f = secure_config(&mut cfg);
        assert_eq!(
            cfg.vrrp_scripts.iter().map(|s| &s.name).collect::<Vec<_>>(),
            ["own_user"]
        );
        assert!(has(
            &f,
            "Unable to set default user keepalived_script for script"
        ));
    }
}

#[test]
fn scripts_are_run_by_their_resolved_path() {
    let mut cfg = load(
        "vrrp_script t {\n    script \"/bin/true x\"\n}\nvrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n        192.0.2.1\n    }\n    track_script {\n        t\n    }\n}\n",
    );
    let f = secure_config(&mut cfg);
    assert!(errors(&f).is_empty(), "{f:#?}");
    let security = rkeepalived_script::config::security_from_config(&cfg.global_defs);
    let p = rkeepalived_script::prepare(&cfg.vrrp_scripts[0].script, None, &security).unwrap();
    let truth = std::fs::canonicalize(Path::new("/bin/true")).unwrap();
    assert_eq!(p.script.argv, [truth.to_str().unwrap(), "x"]);
    assert!(p.script.user.is_some());
}
