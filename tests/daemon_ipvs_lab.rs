//! The supervisor against a real IPVS kernel (the qemu lab, tests/lab/):
//! the checker child programs IPVS, a SIGKILLed checker is respawned and
//! reconciles to the same table (no duplicate, no orphan), SIGUSR1 dumps
//! the checker data, SIGTERM leaves an empty table and no pid files.

#[path = "lab/harness.rs"]
mod lab;

const SCRIPT: &str = r#"
BIN=$1
W=$(mktemp -d /tmp/rkd-lab.XXXXXX)
ns=rkd-ipvslab
wait_for() { local n=$1; shift; local i; for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.5; done; return 1; }
fail() { echo "LAB-FAIL $*"; section log cat "$W/log"; exit 1; }

ip netns add $ns
ip -n $ns link set lo up
ip -n $ns link add eth0 type dummy
ip -n $ns addr add 192.0.2.2/24 dev eth0
ip -n $ns link set eth0 up
ip -n $ns addr add 192.0.2.11/32 dev lo
mkdir -p "$W/www" && echo ok >"$W/www/index.html"
ip netns exec $ns busybox httpd -p 192.0.2.11:80 -h "$W/www"

cat >"$W/k.conf" <<'CONF'
global_defs {
    router_id rkd_ipvs_lab
}
virtual_server 192.0.2.100 80 {
    delay_loop 2
    lb_algo wlc
    lb_kind DR
    protocol TCP
    real_server 192.0.2.11 80 {
        weight 3
        TCP_CHECK {
            connect_timeout 2
        }
    }
}
CONF
ip netns exec $ns "$BIN" -n -l -D -G -f "$W/k.conf" -p "$W/k.pid" -r "$W/v.pid" -c "$W/c.pid" \
  --status-socket "$W/s.sock" --dump-dir "$W" >"$W/log" 2>&1 &
daemon=$!
ipvs() { ip netns exec $ns ipvsadm -Sn; }
has_rs() { ipvs | grep -q -- '-a -t 192.0.2.100:80 -r 192.0.2.11:80'; }
wait_for 240 has_rs || fail "real server never programmed"
section before ipvs
[ -e "$W/v.pid" ] && echo "LAB-NOTE vrrp child started without vrrp_instance"

old=$(cat "$W/c.pid")
kill -9 "$old"
new_checker() { [ -s "$W/c.pid" ] && [ "$(cat "$W/c.pid")" != "$old" ] && kill -0 "$(cat "$W/c.pid")" 2>/dev/null; }
wait_for 240 new_checker || fail "checker not respawned"
echo "LAB-RESPAWNED $old -> $(cat "$W/c.pid")"
# Give the new checker a few delay_loops to reconcile.
sleep 6
wait_for 240 has_rs || fail "real server lost after respawn"
section after_respawn ipvs

kill -USR1 "$daemon"
wait_for 120 test -s "$W/keepalived_check.data" || fail "no checker dump"
section check_data head -c 2000 "$W/keepalived_check.data"

kill -TERM "$daemon"
wait "$daemon"
echo "LAB-DAEMON-EXIT $?"
section after_stop ipvs
for f in k.pid c.pid s.sock; do [ -e "$W/$f" ] && echo "LAB-LEFTOVER $f"; done
section log tail -n 40 "$W/log"
ip netns pids $ns | xargs -r kill -9
ip netns del $ns
exit 0
"#;

#[test]
fn checker_child_programs_ipvs_survives_respawn_and_cleans_up() {
    let Some(lab) = lab::require() else { return };
    let script = format!("#!/bin/bash\nset -u\n{}{}", lab::SHELL_SECTION_FN, SCRIPT);
    let opts = lab::RunOptions {
        args: vec![env!("CARGO_BIN_EXE_rkeepalived").into()],
        ..Default::default()
    };
    let out = lab.run_script_with(&script, &opts);
    out.assert_success();
    assert!(
        out.lines_with_prefix("LAB-FAIL").next().is_none(),
        "{}",
        out.stdout
    );

    let before = out.section("before").expect("before section");
    assert!(before.contains("-A -t 192.0.2.100:80 -s wlc"), "{before}");
    assert!(
        before.contains("-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 3"),
        "{before}"
    );
    let after = out.section("after_respawn").expect("after_respawn section");
    assert_eq!(
        after, before,
        "a respawned checker reconciles to the same table (no duplicate, no orphan)"
    );
    assert!(
        out.lines_with_prefix("LAB-RESPAWNED").next().is_some(),
        "{}",
        out.stdout
    );
    assert!(
        out.lines_with_prefix("LAB-NOTE").next().is_none(),
        "no vrrp child without vrrp_instance"
    );

    let data = out.section("check_data").unwrap_or_default();
    assert!(!data.trim().is_empty(), "checker dump written");

    assert!(
        out.lines_with_prefix("LAB-DAEMON-EXIT 0").next().is_some(),
        "clean exit:\n{}",
        out.stdout
    );
    let after_stop = out.section("after_stop").expect("after_stop section");
    assert!(
        !after_stop.contains("-a -t"),
        "IPVS entries removed on stop:\n{after_stop}"
    );
    assert!(
        !after_stop.contains("-A -t 192.0.2.100:80"),
        "virtual service removed on stop:\n{after_stop}"
    );
    assert!(
        out.lines_with_prefix("LAB-LEFTOVER").next().is_none(),
        "{}",
        out.stdout
    );
}
