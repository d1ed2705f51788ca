//! keepalived.conf text -> check plan through the real parser, including
//! script security refusal at load time.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use rkeepalived_check::checkers::{build, CheckOutcome};
use rkeepalived_check::spec::CheckKind;
use rkeepalived_check::{from_config, CheckFailure};
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_ipvs::{Forwarding, ServiceFlags, ServiceKey};
use rkeepalived_script::ScriptRunner;

fn plan(text: &str) -> rkeepalived_check::CheckPlan {
    let loaded = parse_str(
        text,
        "test.conf",
        &LoadOptions {
            config_id: Some("t".into()),
        },
    )
    .expect("config parses");
    from_config(&loaded.config).expect("plan builds")
}

#[test]
fn keepalived_conf_maps_to_checkers_with_defaults() {
    let p = plan(
        r#"
virtual_server_group web {
    192.0.2.10-12 80
    fwmark 5
}
virtual_server group web {
    delay_loop 6
    lb_algo wrr
    lb_kind DR
    protocol TCP
    persistence_timeout 120
    quorum 2
    hysteresis 1
    sorry_server 203.0.113.1 8080
    real_server 198.51.100.1 80 {
        weight 3
        inhibit_on_failure
        HTTP_GET {
            url {
                path /health
                digest 5d41402abc4b2a76b9719d911017c592
                status_code 200-299 301
            }
            virtualhost www.example.test
        }
        DNS_CHECK {
            type A
            name www.example.test
        }
        SMTP_CHECK {
            helo_name checker.example.test
        }
    }
    real_server 198.51.100.2 80 {
        MISC_CHECK {
            misc_path "/bin/true arg"
            misc_dynamic
        }
        UDP_CHECK {
            connect_port 53
            require_reply ab
        }
        PING_CHECK {
        }
    }
}
"#,
    );
    let vs = &p.virtual_servers[0];
    assert_eq!(vs.keys.len(), 4, "3 addresses + 1 fwmark: {:?}", vs.keys);
    assert!(vs
        .keys
        .contains(&ServiceKey::tcp("192.0.2.11".parse().unwrap(), 80)));
    assert!(vs.service.flags.contains(ServiceFlags::PERSISTENT));
    assert_eq!((vs.quorum, vs.hysteresis), (2, 1));
    assert_eq!(vs.sorry_server.map(|s| s.port), Some(8080));
    let rs1 = &vs.real_servers[0];
    assert_eq!(rs1.dest.fwd, Forwarding::Direct);
    assert!(rs1.inhibit_on_failure);
    let http = &rs1.checkers[0];
    assert_eq!(http.timing.delay_loop, Duration::from_secs(6));
    assert_eq!(
        http.timing.delay_before_retry,
        Duration::from_secs(3),
        "HTTP default delay_before_retry"
    );
    assert_eq!(http.timing.connect_timeout, Duration::from_secs(5));
    match &http.kind {
        CheckKind::Http(h) => {
            assert!(!h.tls);
            assert!(h.urls[0].status_codes.matches(301) && !h.urls[0].status_codes.matches(302));
            assert_eq!(h.virtualhost.as_deref(), Some("www.example.test"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rs1.checkers[1].timing.retry, 3, "DNS_CHECK retry default");
    assert_eq!(
        rs1.checkers[1].timing.delay_before_retry,
        Duration::from_secs(6),
        "DNS delay_before_retry = delay_loop"
    );
    let rs2 = &vs.real_servers[1];
    assert_eq!(rs2.checkers[0].timing.retry, 0, "MISC_CHECK retry default");
    match &rs2.checkers[0].kind {
        CheckKind::Misc(m) => {
            assert!(m.dynamic);
            // Run by its resolved path, as keepalived does (/bin may be a symlink).
            let truth = std::fs::canonicalize("/bin/true").unwrap();
            assert_eq!(m.script.argv, [truth.to_str().unwrap(), "arg"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rs2.checkers[1].conn.dst.port(), 53);
    assert!(matches!(rs2.checkers[2].kind, CheckKind::Ping));
}

#[tokio::test]
async fn insecure_misc_script_is_refused_with_enable_script_security() {
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Root]) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("rkc-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = dir.join("check.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o777)).unwrap();
    let conf = |security: &str| {
        format!(
            "global_defs {{\n script_user root\n {security}\n}}\nvirtual_server 192.0.2.1 80 {{\n real_server 198.51.100.1 80 {{\n  MISC_CHECK {{\n   misc_path {}\n  }}\n }}\n}}\n",
            script.display()
        )
    };
    let enforced = plan(&conf("enable_script_security"));
    let spec = &enforced.virtual_servers[0].real_servers[0].checkers[0];
    match &spec.kind {
        CheckKind::Misc(m) => assert!(
            m.refused
                .as_deref()
                .is_some_and(|r| r.contains("Unsafe permissions found")),
            "{m:?}"
        ),
        other => panic!("{other:?}"),
    }
    let runner = ScriptRunner::new(enforced.script_security.clone().unwrap());
    assert!(matches!(
        build(spec, &runner).check().await,
        CheckOutcome::Down(CheckFailure::ScriptRefused(_))
    ));
    // Without enable_script_security it runs (keepalived only warns).
    let relaxed = plan(&conf(""));
    let spec = &relaxed.virtual_servers[0].real_servers[0].checkers[0];
    let runner = ScriptRunner::new(relaxed.script_security.clone().unwrap());
    assert!(build(spec, &runner).check().await.is_up());
    std::fs::remove_dir_all(&dir).unwrap();
}
