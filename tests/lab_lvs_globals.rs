//! keepalived 2.2.7 and rkeepalived side by side on real IPVS (the qemu
//! lab, tests/lab/): the global_defs keywords that act on the whole table.
//!
//! * `lvs_timeouts`: `ipvsadm -L --timeout` after start (unconfigured
//!   fields keep the kernel's value), after a SIGHUP that changes them
//!   (fields no longer configured return to the value saved at start), and
//!   after stop (the saved values are restored);
//! * `lvs_flush`: a foreign service, and a foreign real server inside the
//!   configured service, are gone after start; a service added by hand
//!   while running survives a reload and the stop;
//! * `lvs_flush_on_stop` (ALL), `lvs_flush_on_stop VS` and the default:
//!   the table left after a clean stop, with a foreign service present;
//! * `lvs_sync_daemon eth0 id 7` (no instance: the checker runs master and
//!   backup) and `lvs_sync_daemon eth0 inst VI_1` (the VRRP process runs the
//!   master daemon once VI_1 is MASTER, sync id = VRID): `ipvsadm -L
//!   --daemon` after start and after stop.
//!
//! One guest boot; every (daemon, case) pair runs in its own network
//! namespace (IPVS tables and timeouts are per namespace), all at once.

#[path = "lab/harness.rs"]
mod lab;

const SCRIPT: &str = r#"
RK_BIN=$1
KA_BIN=$(command -v keepalived)
W=$(mktemp -d /tmp/lvsg.XXXXXX)
CASES="flush vs all default syncc syncv"
wait_for() { local n=$1; shift; local i; for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.5; done; return 1; }

globals() { # globals CASE PHASE
  case "$1:$2" in
    flush:start) printf '    lvs_flush\n    lvs_timeouts tcp 1000 udp 20\n' ;;
    flush:reload) printf '    lvs_flush\n    lvs_timeouts tcpfin 5\n' ;;
    vs:*) printf '    lvs_flush_on_stop VS\n' ;;
    all:*) printf '    lvs_flush_on_stop\n' ;;
    syncc:*) printf '    lvs_sync_daemon eth0 id 7\n' ;;
    syncv:*) printf '    lvs_sync_daemon eth0 inst VI_1\n' ;;
    default:*) ;;
  esac
}
write_conf() { # write_conf CASE PHASE FILE
  {
    printf 'global_defs {\n    router_id lvsg_%s\n' "$1"
    globals "$1" "$2"
    printf '}\n'
    cat <<'CONF'
virtual_server 192.0.2.100 80 {
    delay_loop 2
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 192.0.2.11 80 {
        weight 3
    }
}
CONF
    if [ "$1" = syncv ]; then
      cat <<'CONF'
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.50/24
    }
}
CONF
    fi
  } >"$3"
}
inns() { local tag=$1; shift; nsenter --net="/run/netns/lvsg-$tag" "$@"; }
table() { inns "$1" ipvsadm -Sn 2>&1 | sort; }
tmo() { inns "$1" ipvsadm -L --timeout 2>&1; }
daemons() { inns "$1" ipvsadm -L --daemon 2>&1; }
syncd_master() { daemons "$1" | grep -q 'master sync daemon'; }
programmed() { table "$1" | grep -q -- '-a -t 192.0.2.100:80 -r 192.0.2.11:80'; }

start_daemon() { # start_daemon TAG BIN [EXTRA...]
  local tag=$1 bin=$2 only=-C
  shift 2
  # The syncv case needs the VRRP process too.
  case $tag in *-syncv) only=-D ;; esac
  nsenter --net="/run/netns/lvsg-$tag" setsid "$bin" $only -n -l -D -f "$W/$tag.conf" \
    -p "$W/$tag.pid" -r "$W/$tag-vrrp.pid" -c "$W/$tag-checkers.pid" "$@" \
    </dev/null >"$W/$tag.log" 2>&1 &
  echo $! >"$W/$tag.daemon"
}
stop_daemon() { # SIGTERM, exit status in $W/TAG.exit
  local tag=$1 pid status=killed
  pid=$(cat "$W/$tag.daemon")
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 -- "-$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  else wait "$pid" 2>/dev/null; status=$?; fi
  echo "$status" >"$W/$tag.exit"
}

tags=""
for c in $CASES; do
  for d in ka rk; do
    tag=$d-$c
    tags="$tags $tag"
    ip netns add "lvsg-$tag"
    inns "$tag" ip link set lo up
    inns "$tag" ip link add eth0 type dummy
    # keepalived disables a VRRP instance on an interface without multicast.
    inns "$tag" ip link set eth0 multicast on
    inns "$tag" ip addr add 192.0.2.2/24 dev eth0
    inns "$tag" ip link set eth0 up
    # Timeouts differing from the kernel's defaults: a restore must bring
    # back these, not 900 120 300.
    inns "$tag" ipvsadm --set 7200 60 30
    # A service some other tool created.
    inns "$tag" ipvsadm -A -t 203.0.113.9:8080 -s wlc
    inns "$tag" ipvsadm -a -t 203.0.113.9:8080 -r 198.51.100.9:80 -g -w 1
    if [ "$c" = flush ]; then
      # The configured service already there, with a real server we do not configure.
      inns "$tag" ipvsadm -A -t 192.0.2.100:80 -s wlc
      inns "$tag" ipvsadm -a -t 192.0.2.100:80 -r 198.51.100.20:80 -g -w 1
    fi
    write_conf "$c" start "$W/$tag.conf"
    if [ "$d" = ka ]; then start_daemon "$tag" "$KA_BIN"
    else start_daemon "$tag" "$RK_BIN" --status-socket "$W/$tag.sock"; fi
  done
done

for tag in $tags; do
  wait_for 240 programmed "$tag" || echo "LAB-FAIL $tag never programmed"
done
# syncv: VI_1 becomes MASTER after Master_Down_Interval (~3.6 s).
for d in ka rk; do
  wait_for 120 syncd_master "$d-syncv" || echo "LAB-NOTE $d-syncv no master sync daemon"
done
# One more checker pass for both daemons (delay_loop 2).
sleep 3
for tag in $tags; do
  section "$tag:start:table" table "$tag"
  section "$tag:start:timeout" tmo "$tag"
  section "$tag:start:daemon" daemons "$tag"
done

# flush: a service added by hand while running, then a reload that changes
# lvs_timeouts (and still says lvs_flush).
for d in ka rk; do
  tag=$d-flush
  inns "$tag" ipvsadm -A -t 203.0.113.10:80 -s rr
  write_conf flush reload "$W/$tag.conf"
  kill -HUP "$(cat "$W/$tag.daemon")"
done
for d in ka rk; do
  tag=$d-flush
  wait_for 120 sh -c "nsenter --net=/run/netns/lvsg-$tag ipvsadm -L --timeout | grep -q '7200 5 30'" ||
    echo "LAB-NOTE $tag timeouts unchanged after reload"
done
sleep 3
for d in ka rk; do
  tag=$d-flush
  section "$tag:reload:table" table "$tag"
  section "$tag:reload:timeout" tmo "$tag"
done

for tag in $tags; do stop_daemon "$tag" & done
wait
for tag in $tags; do
  # stop_daemon ran in a subshell: the status is only known there; the
  # daemon is gone either way.
  section "$tag:stop:table" table "$tag"
  section "$tag:stop:timeout" tmo "$tag"
  section "$tag:stop:daemon" daemons "$tag"
done
for tag in $tags; do
  section "$tag:log" tail -n 25 "$W/$tag.log"
  for pid in $(ip netns pids "lvsg-$tag" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  ip netns del "lvsg-$tag"
done
exit 0
"#;

const FOREIGN: &str = "-A -t 203.0.113.9:8080 -s wlc";
const OURS: &str = "-A -t 192.0.2.100:80 -s rr";
const OUR_RS: &str = "-a -t 192.0.2.100:80 -r 192.0.2.11:80 -g -w 3";

fn timeout_line(t: &str) -> String {
    format!("Timeout (tcp tcpfin udp): {t}")
}

struct Run(lab::LabOutput);

impl Run {
    /// The section for `tag:what`, keepalived's and ours, asserted equal.
    fn same(&self, case: &str, what: &str) -> String {
        let ka = self.get(&format!("ka-{case}:{what}"));
        let rk = self.get(&format!("rk-{case}:{what}"));
        assert_eq!(
            rk,
            ka,
            "{case} {what}: rkeepalived (left) differs from keepalived 2.2.7 (right)\n\
             rk log:\n{}\nka log:\n{}",
            self.get(&format!("rk-{case}:log")),
            self.get(&format!("ka-{case}:log"))
        );
        ka
    }

    fn get(&self, name: &str) -> String {
        self.0
            .section(name)
            .unwrap_or_else(|| panic!("no section {name}:\n{}", self.0.stdout))
    }
}

#[test]
fn lvs_timeouts_flush_and_flush_on_stop_match_keepalived() {
    let Some(lab) = lab::require() else { return };
    let script = format!("#!/bin/bash\nset -u\n{}{}", lab::SHELL_SECTION_FN, SCRIPT);
    let opts = lab::RunOptions {
        args: vec![env!("CARGO_BIN_EXE_rkeepalived").into()],
        timeout_s: Some(600),
        ..Default::default()
    };
    let out = lab.run_script_with(&script, &opts);
    out.save("lvs-globals.txt");
    out.assert_success();
    assert!(
        out.lines_with_prefix("LAB-FAIL").next().is_none(),
        "{}",
        out.stdout
    );
    let run = Run(out);

    // lvs_timeouts tcp 1000 udp 20: tcpfin keeps the kernel's 60.
    let t = run.same("flush", "start:timeout");
    assert!(t.contains(&timeout_line("1000 60 20")), "{t}");
    // lvs_flush: the foreign service and the foreign real server are gone.
    let start = run.same("flush", "start:table");
    assert!(
        !start.contains(FOREIGN) && !start.contains("198.51.100.20"),
        "{start}"
    );
    assert!(start.contains(OURS) && start.contains(OUR_RS), "{start}");
    // Reload to `lvs_timeouts tcpfin 5`: tcp and udp back to the saved
    // 7200 and 30; the service added by hand survives (no flush on reload).
    let t = run.same("flush", "reload:timeout");
    assert!(t.contains(&timeout_line("7200 5 30")), "{t}");
    let reload = run.same("flush", "reload:table");
    assert!(reload.contains("-A -t 203.0.113.10:80 -s rr"), "{reload}");
    // Default stop: ours removed, the one added by hand stays; the
    // timeouts found at start restored.
    let stop = run.same("flush", "stop:table");
    assert!(stop.contains("-A -t 203.0.113.10:80 -s rr"), "{stop}");
    assert!(!stop.contains("192.0.2.100"), "{stop}");
    let t = run.same("flush", "stop:timeout");
    assert!(t.contains(&timeout_line("7200 60 30")), "{t}");

    // lvs_sync_daemon without an instance: the checker runs both daemons;
    // with one, the VRRP process runs the master daemon while VI_1 is
    // MASTER (sync id = its VRID 51). All stopped on exit.
    let d = run.same("syncc", "start:daemon");
    assert!(
        d.contains("master sync daemon (mcast=eth0, syncid=7")
            && d.contains("backup sync daemon (mcast=eth0, syncid=7"),
        "{d}"
    );
    let d = run.same("syncv", "start:daemon");
    assert!(
        d.contains("master sync daemon (mcast=eth0, syncid=51") && !d.contains("backup"),
        "{d}"
    );
    for case in ["flush", "vs", "all", "default", "syncc", "syncv"] {
        let d = run.same(case, "stop:daemon");
        assert!(!d.contains("sync daemon"), "{case}: {d}");
    }

    for case in ["vs", "all", "default"] {
        // Without lvs_flush the foreign service survives the start.
        let start = run.same(case, "start:table");
        assert!(
            start.contains(FOREIGN) && start.contains(OUR_RS),
            "{case}: {start}"
        );
        // Without lvs_timeouts the timeouts are never touched.
        for phase in ["start", "stop"] {
            let t = run.same(case, &format!("{phase}:timeout"));
            assert!(
                t.contains(&timeout_line("7200 60 30")),
                "{case} {phase}: {t}"
            );
        }
        let stop = run.same(case, "stop:table");
        assert!(!stop.contains("192.0.2.100"), "{case}: {stop}");
        if case == "all" {
            assert!(
                stop.trim().is_empty(),
                "lvs_flush_on_stop empties the table: {stop}"
            );
        } else {
            assert!(stop.contains(FOREIGN), "{case}: {stop}");
        }
    }
}
