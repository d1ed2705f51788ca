//! The configurations we ship in conf/ load cleanly and mean what they say.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rkeepalived_config::model::*;
use rkeepalived_config::{load, LoadOptions};

fn conf(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../conf")
        .join(rel)
}

fn load_clean(rel: &str, id: &str) -> Config {
    let opts = LoadOptions {
        config_id: Some(id.to_string()),
    };
    let l = load(&conf(rel), &opts).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert!(
        l.warnings.is_empty(),
        "{rel}: unexpected warnings: {:?}",
        l.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>()
    );
    l.config
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

#[test]
fn lab_master_and_backup() {
    for (file, state, prio) in [
        ("keepalived.conf", InitialState::Master, 150),
        ("keepalived-backup.conf", InitialState::Backup, 100),
    ] {
        let c = load_clean(file, "x");
        let v = &c.vrrp_instances[0];
        assert_eq!((v.name.as_str(), v.interface.as_str()), ("VI_1", "eth0"));
        assert_eq!(
            (v.state, v.virtual_router_id, v.priority),
            (state, 51, prio)
        );
        assert_eq!(v.advert_int, Duration::from_secs(1));
        assert_eq!(v.version, VrrpVersion::V2);
        assert_eq!(
            v.authentication.as_ref().map(|a| a.auth_type),
            Some(AuthType::Pass)
        );
        assert_eq!(v.virtual_ipaddresses[0].addr, ip("192.0.2.100"));
        assert_eq!(v.virtual_ipaddresses[0].prefix_len, 24);
        let vs = &c.virtual_servers[0];
        assert_eq!(
            vs.service,
            VirtualService::Addr {
                addr: ip("192.0.2.100"),
                port: Some(80)
            }
        );
        assert_eq!(
            (vs.lvs_sched, vs.lvs_method, vs.protocol),
            (Scheduler::Wlc, ForwardingMethod::Dr, Protocol::Tcp)
        );
        assert_eq!(vs.persistence_timeout, Some(Duration::from_secs(50)));
        let rss: Vec<IpAddr> = vs.real_servers.iter().map(|r| r.addr).collect();
        assert_eq!(rss, [ip("192.0.2.11"), ip("192.0.2.12")]);
        for rs in &vs.real_servers {
            assert_eq!(rs.lvs_method, ForwardingMethod::Dr, "inherited from the VS");
            let c = &rs.checkers[0];
            assert_eq!(c.kind, CheckerKind::Tcp);
            assert_eq!(c.common.connect_timeout, Duration::from_secs(3));
            assert_eq!(c.common.retry, 3);
            assert_eq!(c.common.delay_before_retry, Duration::from_secs(3));
            assert_eq!(
                c.common.delay_loop,
                Duration::from_secs(6),
                "inherited delay_loop"
            );
            assert_eq!(
                c.common.warmup,
                Duration::from_secs(6),
                "warmup defaults to delay_loop"
            );
        }
    }
}

#[test]
fn unicast_example_per_node() {
    let one = load_clean("examples/unicast.conf", "director1");
    let v = &one.vrrp_instances[0];
    assert_eq!(one.global_defs.router_id.as_deref(), Some("director1"));
    assert_eq!((v.state, v.priority), (InitialState::Master, 150));
    assert_eq!(v.unicast_src_ip, Some(ip("192.0.2.1")));
    assert_eq!(
        v.unicast_peers.iter().map(|p| p.addr).collect::<Vec<_>>(),
        [ip("192.0.2.2")]
    );
    assert_eq!(
        v.track_scripts[0].weight, -20,
        "weight from the vrrp_script"
    );
    let two = load_clean("examples/unicast.conf", "director2");
    let v = &two.vrrp_instances[0];
    assert_eq!((v.state, v.priority), (InitialState::Backup, 100));
    assert_eq!(
        v.unicast_peers.iter().map(|p| p.addr).collect::<Vec<_>>(),
        [ip("192.0.2.1")]
    );
}

#[test]
fn vrrp3_ipv6_example() {
    let c = load_clean("examples/ipv6-vrrp3.conf", "x");
    let v6 = c.vrrp_instance("VI_V6").expect("VI_V6");
    assert_eq!(
        (v6.version, v6.family),
        (VrrpVersion::V3, AddressFamily::Inet6)
    );
    assert_eq!(v6.advert_int, Duration::from_millis(100));
    let v4 = c.vrrp_instance("VI_V4").expect("VI_V4");
    assert_eq!(
        (v4.version, v4.family),
        (VrrpVersion::V3, AddressFamily::Inet)
    );
    assert_eq!(
        c.sync_group_of("VI_V4").map(|g| g.name.as_str()),
        Some("VG_DUAL")
    );
    assert_eq!(v6.mcast_group(&c.global_defs), ip("ff02::12"));
    assert_eq!(c.virtual_servers[0].real_servers.len(), 2);
}

#[test]
fn http_get_example() {
    let c = load_clean("examples/http-get.conf", "x");
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.lvs_sched, Scheduler::Wrr);
    assert_eq!(
        vs.sorry_server.as_ref().map(|s| (s.addr, s.port)),
        Some((ip("198.51.100.250"), Some(8080)))
    );
    let rs = &vs.real_servers[0];
    assert!(rs.inhibit_on_failure);
    let CheckerKind::Http(h) = &rs.checkers[0].kind else {
        panic!("expected HTTP_GET")
    };
    assert_eq!(h.urls.len(), 2);
    assert_eq!(h.urls[0].status_codes, [StatusRange { min: 200, max: 299 }]);
    assert_eq!(
        h.urls[1].status_codes,
        [
            StatusRange { min: 200, max: 200 },
            StatusRange { min: 301, max: 301 },
            StatusRange { min: 302, max: 302 }
        ]
    );
    assert_eq!(
        h.urls[0].virtualhost.as_deref(),
        Some("www.example.com"),
        "inherited from the VS"
    );
    let c2 = &vs.real_servers[1].checkers[0];
    assert_eq!(c2.common.retry, 1, "HTTP_GET default retry");
    assert_eq!(
        c2.common.delay_before_retry,
        Duration::from_secs(3),
        "HTTP_GET default delay_before_retry"
    );
}

/// keepalived itself accepts our shipped configs (`keepalived -t`).
#[test]
fn keepalived_accepts_shipped_configs() {
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Keepalived]) {
        return;
    }
    for (rel, id) in [
        ("keepalived.conf", "x"),
        ("keepalived-backup.conf", "x"),
        ("examples/unicast.conf", "director1"),
        ("examples/ipv6-vrrp3.conf", "x"),
        ("examples/http-get.conf", "x"),
        // Shipped with the Kubernetes static-pod example.
        ("../packaging/kubernetes/keepalived-apiserver.conf", "x"),
    ] {
        let out = std::process::Command::new("/usr/sbin/keepalived")
            .args(["-t", "-l", "-i", id, "-f"])
            .arg(conf(rel))
            .output()
            .expect("run keepalived -t");
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Interfaces of the lab don't exist on the test host: exit code 1 with
        // "Non-existent interface" only is fine; anything else is a real problem.
        let real_errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains("doesn't exist") && !l.contains("Non-existent interface"))
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert!(
            real_errors.is_empty(),
            "{rel}: keepalived -t says:\n{stderr}"
        );
    }
}

/// The Kubernetes API-VIP example: one VIP, a weighted apiserver health
/// script run as `nobody` under enable_script_security.
#[test]
fn kubernetes_apiserver_example() {
    let c = load_clean("../packaging/kubernetes/keepalived-apiserver.conf", "x");
    assert_eq!(c.vrrp_instances.len(), 1);
    let vi = &c.vrrp_instances[0];
    assert_eq!(vi.virtual_router_id, 51);
    assert_eq!(vi.virtual_ipaddresses.len(), 1);
    assert!(c.global_defs.enable_script_security);
    assert_eq!(c.vrrp_scripts.len(), 1);
    assert_eq!(c.vrrp_scripts[0].weight, -20);
}

/// The ECMP scale-out example: mh with mh-port, alpha, announce_route into
/// table 100 with a drain delay (rkeepalived extension keywords).
#[test]
fn anycast_director_example() {
    let c = load_clean("examples/anycast-director.conf", "x");
    assert_eq!(c.global_defs.announce.table, Some(100));
    assert_eq!(
        c.global_defs.announce.drain_delay(),
        Duration::from_secs(10)
    );
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.lvs_sched, Scheduler::Mh);
    assert!(vs.sched_flags.flag_2, "mh-port");
    assert!(vs.alpha);
    assert!(vs.announce.as_ref().is_some_and(|a| a.enabled));
    assert_eq!(vs.real_servers.len(), 2);
}
