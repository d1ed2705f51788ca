//! Smoke test of the real-kernel IPVS lab (tests/lab/README.md): in one
//! guest boot, ipvsadm programs IPVS, `ipvsadm -Sn` comes back, the reference
//! keepalived 2.2.7 programs a virtual_server without checkers, and network
//! namespaces + veth work.

#[path = "lab/harness.rs"]
mod lab;

const SMOKE_SCRIPT: &str = r#"#!/bin/bash
set -u
section() { local n=$1; shift; echo "@@BEGIN $n@@"; "$@" 2>&1; local rc=$?; echo "@@END $n@@"; return $rc; }
echo "kernel $(uname -r)"

# 1. ipvsadm against the real kernel.
ipvsadm -A -t 192.0.2.100:80 -s wlc && ipvsadm -a -t 192.0.2.100:80 -r 192.0.2.21:80 -g -w 2 &&
  ipvsadm -a -t 192.0.2.100:80 -r 192.0.2.22:80 -m -w 1 && echo "IPVSADM-ADD ok"
section ipvsadm ipvsadm -Sn
ipvsadm -C

# 2. keepalived 2.2.7 programs IPVS from a config (real servers, no checkers).
cat >/etc/keepalived/smoke.conf <<'CONF'
global_defs {
    router_id LAB_SMOKE
}
virtual_server 192.0.2.100 80 {
    delay_loop 5
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 192.0.2.21 80 {
        weight 1
    }
    real_server 192.0.2.22 80 {
        weight 3
    }
}
virtual_server 192.0.2.100 443 {
    delay_loop 5
    lb_algo sh
    lb_kind NAT
    persistence_timeout 60
    protocol TCP
    real_server 192.0.2.21 443 {
        weight 1
    }
}
CONF
keepalived -n -l -D -f /etc/keepalived/smoke.conf -p /run/smoke.pid -r /run/smoke-vrrp.pid -c /run/smoke-chk.pid >/tmp/smoke-keepalived.log 2>&1 &
ka=$!
for _ in $(seq 100); do
  [[ $(ipvsadm -Sn | grep -c '^-a') == 3 ]] && break
  sleep 0.2
done
section keepalived_ipvs ipvsadm -Sn
kill -TERM "$ka"; wait "$ka"
echo "KEEPALIVED-EXIT $?"
section keepalived_after_stop ipvsadm -Sn
grep -q 'Keepalived v2' /tmp/smoke-keepalived.log && echo "KEEPALIVED-VERSION ok"

# 3. namespaces + veth.
ip netns add rkl-a && ip netns add rkl-b &&
  ip link add veth-a netns rkl-a type veth peer name veth-b netns rkl-b &&
  ip -n rkl-a addr add 192.0.2.1/24 dev veth-a && ip -n rkl-b addr add 192.0.2.2/24 dev veth-b &&
  ip -n rkl-a link set veth-a up && ip -n rkl-b link set veth-b up &&
  ip netns exec rkl-a ping -c 1 -W 2 192.0.2.2 >/dev/null && echo "NETNS-VETH ok"
# IPVS is per network namespace.
ip netns exec rkl-a ipvsadm -A -u 192.0.2.1:53 -s rr && [[ -z $(ipvsadm -Sn) ]] && echo "IPVS-PER-NETNS ok"
ip netns del rkl-a; ip netns del rkl-b
head -c 16 /dev/urandom | wc -c | grep -q 16 && echo "URANDOM ok"
"#;

#[test]
fn lab_smoke_ipvsadm_keepalived_netns() {
    let Some(lab) = lab::require() else { return };
    let out = lab.run_script_with(
        SMOKE_SCRIPT,
        &lab::RunOptions {
            timeout_s: Some(180),
            ..Default::default()
        },
    );
    out.assert_success();
    for marker in [
        "IPVSADM-ADD ok",
        "KEEPALIVED-VERSION ok",
        "NETNS-VETH ok",
        "IPVS-PER-NETNS ok",
        "URANDOM ok",
    ] {
        assert!(
            out.stdout.contains(marker),
            "missing {marker:?} in:\n{}",
            out.stdout
        );
    }
    let ipvsadm = out.section("ipvsadm").expect("ipvsadm section");
    assert_eq!(
        ipvsadm.lines().collect::<Vec<_>>(),
        [
            "-A -t 192.0.2.100:80 -s wlc",
            "-a -t 192.0.2.100:80 -r 192.0.2.21:80 -g -w 2",
            "-a -t 192.0.2.100:80 -r 192.0.2.22:80 -m -w 1",
        ],
        "ipvsadm -Sn from the guest"
    );
    let mut programmed: Vec<String> = out
        .section("keepalived_ipvs")
        .expect("keepalived section")
        .lines()
        .map(str::to_owned)
        .collect();
    programmed.sort();
    assert_eq!(
        programmed,
        [
            "-A -t 192.0.2.100:443 -s sh -p 60",
            "-A -t 192.0.2.100:80 -s rr",
            "-a -t 192.0.2.100:443 -r 192.0.2.21:443 -m -w 1",
            "-a -t 192.0.2.100:80 -r 192.0.2.21:80 -g -w 1",
            "-a -t 192.0.2.100:80 -r 192.0.2.22:80 -g -w 3",
        ],
        "IPVS programmed by keepalived 2.2.7"
    );
    assert!(
        out.stdout.contains("KEEPALIVED-EXIT 0"),
        "keepalived did not stop cleanly:\n{}",
        out.stdout
    );
    // keepalived removes its virtual servers on a clean stop.
    assert_eq!(out.section("keepalived_after_stop").as_deref(), Some(""));
}
