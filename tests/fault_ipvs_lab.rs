//! IPVS fault tests against a real kernel (the qemu lab, tests/lab/), all
//! in ONE guest boot (issue #14):
//!
//! * `kill9_reload`: SIGKILL of the checker child or of the supervisor at a
//!   random moment (seeded: `FAULT_SEED=N` replays) of a reload that changes
//!   virtual and real servers. After each round the IPVS table must be
//!   exactly the new config's: no orphaned service of an older config, no
//!   duplicate, nothing missing.
//! * `module_missing`: the daemon starts while `ip_vs` is not loaded and
//!   cannot be auto-loaded (the kernel's modprobe path is broken for the
//!   while); the checker keeps running and programs the table once the
//!   module is loaded by hand, without a restart.
//! * `module_reloaded`: `ip_vs` is unloaded under the running daemon and
//!   loaded again; the next reload puts the whole table back (the stale
//!   cached table fails to apply, so the checker re-dumps), without a
//!   restart. Without a reload the periodic full resync (60 s) does it.

#[path = "lab/harness.rs"]
mod lab;

const SCRIPT: &str = r#"
BIN=$1
SEED=$2
RANDOM=$SEED
W=$(mktemp -d /tmp/rkd-fault.XXXXXX)
ns=rkd-faultlab
wait_for() { local n=$1; shift; local i; for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.2; done; return 1; }
fail() { echo "LAB-FAIL $*"; section log tail -n 80 "$W/log"; exit 1; }

ip netns add $ns
ip -n $ns link set lo up
ip -n $ns link add eth0 type dummy
ip -n $ns addr add 192.0.2.2/24 dev eth0
ip -n $ns link set eth0 up

# Variant k: VS :80 with .11 and .1(2+k), and VS :800k with .11. Real servers
# without a checker are always up (as in keepalived).
conf() {
  local k=$1
  cat <<CONF
global_defs {
    router_id rkd_fault_lab
}
virtual_server 192.0.2.100 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 192.0.2.11 80 {
        weight 1
    }
    real_server 192.0.2.1$((2 + k)) 80 {
        weight 1
    }
}
virtual_server 192.0.2.100 800$k {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 192.0.2.11 800$k {
        weight 1
    }
}
CONF
}
expected() {
  local k=$1
  printf '%s\n' "-A -t 192.0.2.100:80 -s rr" \
    "-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 1" \
    "-a -t 192.0.2.100:80 -r 192.0.2.1$((2 + k)):80 -g -w 1" \
    "-A -t 192.0.2.100:800$k -s rr" \
    "-a -t 192.0.2.100:800$k -r 192.0.2.11:800$k -g -w 1" | sort
}
table() { ip netns exec $ns ipvsadm -Sn | sort; }
is_table() { [ "$(table)" = "$(expected "$1")" ]; }
# The table is right and still right 2 s later.
stable() { is_table "$1" && sleep 2 && is_table "$1"; }
start() {
  ip netns exec $ns "$BIN" -n -l -D --no-syslog -f "$W/k.conf" -p "$W/k.pid" -r "$W/v.pid" -c "$W/c.pid" \
    --status-socket "$W/s.sock" --dump-dir "$W" >>"$W/log" 2>&1 &
  daemon=$!
}
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
checker_pid() { [ -s "$W/c.pid" ] && cat "$W/c.pid"; }

# ---- kill9_reload ----
conf 0 >"$W/k.conf"
start
wait_for 300 is_table 0 || fail "kill9_reload: initial table never programmed"
echo "LAB-SEED $SEED"
for round in 1 2 3 4; do
  k=$((round % 3))
  if ((round % 2)); then target=checker; else target=supervisor; fi
  # Half the rounds inside the few ms between the supervisor accepting the
  # config and the child applying it, the others anywhere in 0.3 s.
  if ((round <= 2)); then delay=$((RANDOM % 15)); else delay=$((RANDOM % 300)); fi
  conf $k >"$W/k.conf"
  old=$(checker_pid)
  kill -HUP $daemon
  sleep "$(printf '0.%03d' $delay)"
  if [ $target = checker ]; then
    kill -9 "$old"
  else
    kill -9 $daemon
    wait $daemon 2>/dev/null
    start
  fi
  t0=$(date +%s.%N)
  replaced() { local p; p=$(checker_pid) && [ "$p" != "$old" ] && kill -0 "$p" 2>/dev/null; }
  wait_for 150 replaced || fail "kill9_reload round $round: checker not replaced"
  if wait_for 150 stable $k; then
    echo "LAB-RESULT kill9_reload round $round: SIGKILL $target ${delay} ms into the reload to variant $k: converged after $(since $t0) s"
  else
    echo "LAB-RESULT kill9_reload round $round: SIGKILL $target ${delay} ms into the reload to variant $k: NOT converged"
    section got table
    section want expected $k
    fail "kill9_reload round $round"
  fi
done
kill -TERM $daemon; wait $daemon
[ -z "$(table)" ] || fail "kill9_reload: table left after SIGTERM"

# ---- module_missing ----
# rmmod (delete_module) needs no modules.dep; the schedulers and the SIP
# persistence engine hold ip_vs, so they go first.
unload() {
  ip netns exec $ns ipvsadm -C 2>/dev/null
  local m
  for m in $(awk '/^ip_vs_/ {print $1}' /proc/modules); do rmmod "$m" || echo "LAB-NOTE rmmod $m failed"; done
  rmmod ip_vs || echo "LAB-NOTE rmmod ip_vs failed"
  ! grep -q '^ip_vs ' /proc/modules
}
# The chroot may have no /lib/modules (the host's is mounted over only when
# it exists): then ipvsadm's family lookup makes the kernel load ip_vs with
# the initramfs modprobe.
load() {
  modprobe ip_vs 2>/dev/null || ip netns exec $ns ipvsadm -Ln >/dev/null 2>&1
  grep -q '^ip_vs ' /proc/modules
}
unload || fail "module_missing: cannot unload ip_vs: $(grep ip_vs /proc/modules | tr '\n' ' ')"
# The kernel loads ip_vs by itself when the "IPVS" generic netlink family is
# looked up (alias net-pf-16-proto-16-family-IPVS): make that fail, as on a
# host where the module cannot be loaded, until we load it by hand.
kmodprobe=$(cat /proc/sys/kernel/modprobe)
echo /nonexistent-modprobe >/proc/sys/kernel/modprobe
conf 1 >"$W/k.conf"
: >"$W/log"
start
missing() { grep -q 'cannot program IPVS' "$W/log"; }
wait_for 150 missing || fail "module_missing: the checker never reported IPVS missing"
pid_before=$(checker_pid)
grep -q '^ip_vs ' /proc/modules && fail "module_missing: ip_vs got loaded anyway"
echo "$kmodprobe" >/proc/sys/kernel/modprobe
t0=$(date +%s.%N)
load || fail "module_missing: cannot load ip_vs"
if wait_for 150 stable 1 && [ "$(checker_pid)" = "$pid_before" ]; then
  echo "LAB-RESULT module_missing: table programmed $(since $t0) s after modprobe, checker pid $pid_before kept"
else
  section got table
  fail "module_missing: table not programmed after modprobe (checker $pid_before -> $(checker_pid))"
fi

# ---- module_reloaded ----
unload || fail "module_reloaded: cannot unload ip_vs under the daemon: $(grep ip_vs /proc/modules | tr '\n' ' ')"
load || fail "module_reloaded: cannot load ip_vs"
t0=$(date +%s.%N)
conf 2 >"$W/k.conf"
kill -HUP $daemon
if wait_for 150 stable 2 && [ "$(checker_pid)" = "$pid_before" ]; then
  echo "LAB-RESULT module_reloaded: table back $(since $t0) s after modprobe + reload, checker pid $pid_before kept"
else
  section got table
  fail "module_reloaded: table not restored (checker $pid_before -> $(checker_pid))"
fi
kill -TERM $daemon; wait $daemon
section log grep -E 'IPVS|exited|respawn|stale' "$W/log"
ip netns del $ns
exit 0
"#;

fn seed() -> u64 {
    let seed = std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos() as u64)
                .unwrap_or(1)
        });
    // bash's RANDOM takes a 32-bit seed.
    seed % 32768
}

#[test]
fn ipvs_faults_kill9_during_reload_and_module_unload() {
    let Some(lab) = lab::require() else { return };
    let seed = seed();
    eprintln!("ipvs faults: FAULT_SEED={seed}");
    let script = format!("#!/bin/bash\nset -u\n{}{}", lab::SHELL_SECTION_FN, SCRIPT);
    let opts = lab::RunOptions {
        args: vec![env!("CARGO_BIN_EXE_rkeepalived").into(), seed.to_string()],
        timeout_s: Some(600),
        ..Default::default()
    };
    let out = lab.run_script_with(&script, &opts);
    out.save("fault-ipvs");
    for line in out.lines_with_prefix("LAB-RESULT") {
        eprintln!("{line}");
    }
    out.assert_success();
    assert!(
        out.lines_with_prefix("LAB-FAIL").next().is_none(),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.lines_with_prefix("LAB-RESULT kill9_reload").count(),
        4,
        "{}",
        out.stdout
    );
    assert!(
        out.lines_with_prefix("LAB-RESULT module_missing")
            .next()
            .is_some(),
        "{}",
        out.stdout
    );
    assert!(
        out.lines_with_prefix("LAB-RESULT module_reloaded")
            .next()
            .is_some(),
        "{}",
        out.stdout
    );
}
