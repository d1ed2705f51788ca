//! Virtual/real server and checker keywords that only shape the desired
//! IPVS table or a checker's connection: keepalived.conf text through the
//! real parser into the plan the reconciler programs. Each assertion is
//! the effect keepalived gives the keyword (check/ipvswrapper.c
//! `ipvs_set_srule()`/`ipvs_set_drule()`, check/check_api.c).

use rkeepalived_check::from_config;
use rkeepalived_check::spec::{CheckKind, HttpProtocol};
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_ipvs::{Forwarding, ServiceFlags};

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
fn service_and_dest_keywords_reach_the_desired_ipvs_entries() {
    let p = plan(
        r#"
virtual_server 192.0.2.10 53 {
    protocol UDP
    lb_algo sh
    lb_kind NAT
    persistence_timeout 300
    persistence_granularity 255.255.255.0
    persistence_engine sip
    ops
    sh-port
    flag-3
    sorry_server 203.0.113.1 53
    sorry_server_lvs_method DR
    real_server 198.51.100.1 53 {
        uthreshold 1000
        lthreshold 100
        TCP_CHECK {
            connect_port 53
            bind_if lo
        }
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
            http_protocol 1.1
        }
        SMTP_CHECK {
            host {
                connect_ip 198.51.100.7
                connect_port 25
            }
            host {
                connect_ip 198.51.100.8
                connect_port 2525
            }
        }
    }
}
"#,
    );
    let vs = &p.virtual_servers[0];
    // persistence_granularity: the persistence netmask.
    assert_eq!(vs.service.netmask, 0xffff_ff00);
    // persistence_engine: the IPVS persistence engine name.
    assert_eq!(vs.service.pe_name.as_deref(), Some("sip"));
    // ops: one-packet scheduling; sh-port, flag-3: the scheduler flags.
    let flags = vs.service.flags;
    assert!(flags.contains(ServiceFlags::ONEPACKET), "ops: {flags:?}");
    assert!(flags.contains(ServiceFlags::SH_PORT), "sh-port: {flags:?}");
    assert!(flags.contains(ServiceFlags::SCHED3), "flag-3: {flags:?}");
    assert!(!flags.contains(ServiceFlags::SH_FALLBACK), "{flags:?}");
    // sorry_server_lvs_method: the sorry server's own forwarding method.
    let sorry = vs.sorry_server.as_ref().expect("sorry server");
    assert_eq!(sorry.fwd, Forwarding::Direct);
    // uthreshold / lthreshold: the destination's connection thresholds.
    let rs = &vs.real_servers[0];
    assert_eq!(rs.dest.fwd, Forwarding::Masq);
    assert_eq!((rs.dest.u_threshold, rs.dest.l_threshold), (1000, 100));
    // bind_if: the checker's socket is bound to that interface.
    let tcp = &rs.checkers[0];
    let source = tcp.conn.source.as_ref().expect("source options");
    assert_eq!(source.bind_if.as_deref(), Some("lo"));
    // http_protocol: the request's HTTP version.
    match &rs.checkers[1].kind {
        CheckKind::Http(h) => assert_eq!(h.protocol, HttpProtocol::Http11),
        other => panic!("{other:?}"),
    }
    // SMTP_CHECK host{}: one check per host, each to its own address.
    let smtp: Vec<String> = rs.checkers[2..]
        .iter()
        .map(|c| {
            assert!(matches!(c.kind, CheckKind::Smtp(_)), "{:?}", c.kind);
            c.conn.dst.to_string()
        })
        .collect();
    assert_eq!(smtp, ["198.51.100.7:25", "198.51.100.8:2525"]);
}
