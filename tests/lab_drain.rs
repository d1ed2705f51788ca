//! `drain_on_remove` (rkeepalived extension) on real IPVS (the qemu lab,
//! tests/lab/): a NAT virtual server, a client namespace, a real-server
//! namespace with two addresses (198.51.100.10 and .11) and our daemon
//! (checker only) in the director namespace. Each phase is a reload by
//! SIGHUP that removes the real server a live TCP connection goes to:
//!
//! * `idle`: with `drain_on_remove 40` the connection keeps exchanging a
//!   message every 200 ms for its 15 s, most of them after the reload
//!   (nothing lost, nothing reset), new connections go to the remaining real server, the removed
//!   dest is at weight 0; once the client closes, the dest is gone within
//!   a few polls;
//! * `timeout`: with `drain_on_remove 6` and a connection that stays open
//!   (and keeps getting answers), the dest is deleted 6 s after the reload
//!   (timed by the daemon's own log lines);
//! * `control`: without the keyword (keepalived's behaviour) the dest is
//!   deleted at the reload and the same kind of connection stops getting
//!   answers: what the drain prevents.
//!
//! One guest boot, seconds of guest time per phase.

#[path = "lab/harness.rs"]
mod lab;

const SCRIPT: &str = r#"
BIN=$1
W=$(mktemp -d /tmp/drain.XXXXXX)
C=drn-c D=drn-d S=drn-s
wait_for() { local n=$1; shift; local i; for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.2; done; return 1; }
fail() { echo "LAB-FAIL $*"; section log tail -n 60 "$W/log"; section ipvs ipvs; exit 1; }
ipvs() { ip netns exec $D ipvsadm -Ln; }
has_rs() { ip netns exec $D ipvsadm -Sn | grep -q -- "-r 198.51.100.$1:8080 -m -w $2\$"; }
no_rs() { ! ip netns exec $D ipvsadm -Sn | grep -q -- "-r 198.51.100.$1:8080"; }

for n in $C $D $S; do ip netns add $n; ip -n $n link set lo up; done
ip link add c0 netns $C type veth peer name c1 netns $D
ip link add s0 netns $S type veth peer name s1 netns $D
ip -n $C addr add 192.0.2.2/24 dev c0
ip -n $D addr add 192.0.2.1/24 dev c1
ip -n $D addr add 192.0.2.100/32 dev lo
ip -n $D addr add 198.51.100.1/24 dev s1
ip -n $S addr add 198.51.100.10/24 dev s0
ip -n $S addr add 198.51.100.11/24 dev s0
for l in "$C c0" "$D c1" "$D s1" "$S s0"; do set -- $l; ip -n $1 link set $2 up; done
ip -n $C route add default via 192.0.2.1
ip -n $S route add default via 198.51.100.1
ip netns exec $D sysctl -qw net.ipv4.ip_forward=1

cat >"$W/server.py" <<'PY'
import socket, socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        me = self.connection.getsockname()[0]
        for line in self.rfile:
            self.wfile.write(b"%s %s" % (me.encode(), line))
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
S(("0.0.0.0", 8080), H).serve_forever()
PY
# conn.py OUT SECONDS: one connection to the VIP, a message every 200 ms
# for SECONDS (then closed), or until killed when SECONDS is 0. Each line
# of OUT: "ok SERVER" or "fail ERROR" (1 s to answer).
cat >"$W/conn.py" <<'PY'
import socket, sys, time
out = open(sys.argv[1], "w", buffering=1)
secs = float(sys.argv[2])
s = socket.create_connection(("192.0.2.100", 8080), timeout=3)
s.settimeout(1.0)
f = s.makefile("rb")
out.write("open\n")
end = time.monotonic() + secs
i = 0
while secs == 0 or time.monotonic() < end:
    i += 1
    try:
        s.sendall(b"m%d\n" % i)
        line = f.readline()
        if not line:
            out.write("fail eof\n"); break
        out.write("ok %s %.2f\n" % (line.split()[0].decode(), time.time()))
    except Exception as e:
        out.write("fail %s\n" % type(e).__name__); break
    time.sleep(0.2)
s.close()
out.write("closed %.2f\n" % time.time())
PY
ip netns exec $S python3 "$W/server.py" &
wait_for 50 ip netns exec $S sh -c 'ss -ltn | grep -q :8080' || fail "server not listening"

conf() { # conf DRAIN SERVERS...
  local drain=$1; shift
  {
    printf 'global_defs {\n    router_id drain_lab\n}\n'
    printf 'virtual_server 192.0.2.100 8080 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n'
    [ "$drain" != 0 ] && printf '    drain_on_remove %s\n' "$drain"
    for n in "$@"; do printf '    real_server 198.51.100.%s 8080 {\n        weight 2\n    }\n' "$n"; done
    printf '}\n'
  } >"$W/k.conf"
}
reload() { conf "$@"; kill -HUP "$daemon"; }
# conn_to N OUT SECONDS: start conn.py in the background, wait for its first answer.
conn_to() {
  ip netns exec $C python3 "$W/conn.py" "$2" "$3" &
  conn_pid=$!
  wait_for 50 grep -q '^ok' "$2" || fail "no answer on $2"
  grep -q "^ok 198.51.100.$1 " "$2" || fail "$2 not served by .$1: $(head -3 "$2")"
}
t() { date +%s.%N | cut -c1-14; }

conf 8 11
ip netns exec $D "$BIN" -C -n -l -D -f "$W/k.conf" -p "$W/k.pid" -r "$W/v.pid" -c "$W/c.pid" \
  >"$W/log" 2>&1 &
daemon=$!
wait_for 300 has_rs 11 2 || fail "real server never programmed"

# Phase idle: connection A (15 s) on .11, reload to .10 only with drain_on_remove 40.
conn_to 11 "$W/a" 15
reload 40 10
wait_for 100 has_rs 11 0 || fail "idle: .11 not at weight 0"
echo "LAB-IDLE-RELOADED $(t)"
section idle:during ipvs
wait_for 100 has_rs 10 2 || fail "idle: .10 not added"
ip netns exec $C python3 "$W/conn.py" "$W/b" 0.5
wait_for 100 grep -q closed "$W/a" || fail "idle: A did not finish"
wait_for 100 no_rs 11 && echo "LAB-IDLE-GONE $(t)" || echo "LAB-FAIL idle: .11 still there after A closed"
section idle:a cat "$W/a"
section idle:b cat "$W/b"
section idle:after ipvs

# Phase timeout: back to .11 only, connection C stays open; reload with drain_on_remove 3.
reload 8 11
wait_for 50 no_rs 10 || fail "timeout: .10 still there"
wait_for 50 has_rs 11 2 || fail "timeout: .11 not back"
conn_to 11 "$W/c" 0
reload 6 10
wait_for 100 has_rs 11 0 || fail "timeout: .11 not at weight 0"
wait_for 100 no_rs 11 || echo "LAB-FAIL timeout: .11 never removed"
section timeout:after ipvs
sleep 1.5
kill "$conn_pid" 2>/dev/null
section timeout:c cat "$W/c"

# Phase control: no drain_on_remove, as keepalived.
reload 0 11
wait_for 50 has_rs 11 2 || fail "control: .11 not back"
wait_for 50 no_rs 10 || fail "control: .10 still there"
conn_to 11 "$W/d" 3
reload 0 10
wait_for 50 no_rs 11 || fail "control: .11 not deleted at once"
echo "LAB-CONTROL-DELETED $(t)"
wait_for 50 grep -q closed "$W/d"
section control:d cat "$W/d"

kill -TERM "$daemon"; wait "$daemon"
section log grep -E 'Drain|drain|SIGHUP' "$W/log"
for n in $C $D $S; do ip netns pids $n | xargs -r kill -9; ip netns del $n; done
exit 0
"#;

/// Seconds of the day of a log line's RFC 3339 UTC timestamp.
fn day_secs(line: &str) -> f64 {
    let t = line
        .split_whitespace()
        .next()
        .and_then(|ts| ts.split_once('T'))
        .map(|(_, t)| t.trim_end_matches('Z'))
        .unwrap_or_else(|| panic!("no timestamp: {line}"));
    let mut parts = t.split(':').map(|p| p.parse::<f64>().unwrap_or(f64::NAN));
    let (h, m, s) = (
        parts.next().unwrap_or(f64::NAN),
        parts.next().unwrap_or(f64::NAN),
        parts.next().unwrap_or(f64::NAN),
    );
    h * 3600.0 + m * 60.0 + s
}

#[test]
fn removed_real_server_keeps_its_connections_while_draining() {
    let Some(lab) = lab::require() else { return };
    let script = format!("#!/bin/bash\nset -u\n{}{}", lab::SHELL_SECTION_FN, SCRIPT);
    let opts = lab::RunOptions {
        args: vec![env!("CARGO_BIN_EXE_rkeepalived").into()],
        timeout_s: Some(300),
        ..Default::default()
    };
    let out = lab.run_script_with(&script, &opts);
    out.save("drain.txt");
    out.assert_success();
    assert!(
        out.lines_with_prefix("LAB-FAIL").next().is_none(),
        "{}",
        out.stdout
    );
    let section = |name: &str| {
        out.section(name)
            .unwrap_or_else(|| panic!("no section {name}:\n{}", out.stdout))
    };

    // The daemon's own log times the drains (the shell's observations lag
    // by seconds on a loaded TCG guest).
    let log = section("log");
    let when = |pat: &str, nth: usize| {
        log.lines()
            .filter(|l| l.contains(pat))
            .nth(nth)
            .map(day_secs)
            .unwrap_or_else(|| panic!("no {pat} #{nth} in the log:\n{log}"))
    };

    // idle: A (15 s, opened before the reload) got every answer from .11
    // and none failed, also after the reload; B (after it) went to .10;
    // .11 was at weight 0, and was deleted because it went idle (right
    // after A closed), long before its 40 s.
    let draining = when("Draining real server 198.51.100.11", 0);
    let a = section("idle:a");
    assert!(
        !a.contains("fail"),
        "connection reset or stalled while draining:\n{a}"
    );
    let closed: f64 = a
        .lines()
        .find_map(|l| l.strip_prefix("closed "))
        .and_then(|t| t.trim().parse::<f64>().ok())
        .map(|t| t % 86_400.0)
        .unwrap_or_else(|| panic!("A did not close:\n{a}"));
    let after_reload = a
        .lines()
        .filter_map(|l| l.strip_prefix("ok 198.51.100.11 "))
        .filter_map(|t| t.trim().parse::<f64>().ok())
        .filter(|t| t % 86_400.0 > draining)
        .count();
    assert!(
        after_reload >= 10,
        "too few answers while draining:\n{a}\n{log}"
    );
    let b = section("idle:b");
    assert!(
        b.contains("ok 198.51.100.10") && !b.contains("198.51.100.11"),
        "{b}"
    );
    let during = section("idle:during");
    assert!(during.contains("198.51.100.11:8080"), "{during}");
    assert!(!section("idle:after").contains("198.51.100.11"));
    let drained = when(
        "198.51.100.11:8080 of TCP 192.0.2.100:8080: no active connection left",
        0,
    );
    assert!(
        (-0.5..3.0).contains(&(drained - closed)),
        "idle: deleted {:.1} s after A closed",
        drained - closed
    );

    // timeout: with C open, .11 stays 6 s (the daemon's own log times it)
    // and C keeps getting answers until the delete.
    let start = when("Draining real server 198.51.100.11", 1);
    let end = when("timed out with 1 active connection", 0);
    assert!(
        (6.0..8.5).contains(&(end - start)),
        "timeout: removed {:.1} s after the reload",
        end - start
    );
    let c = section("timeout:c");
    let last_ok = c
        .lines()
        .filter_map(|l| l.strip_prefix("ok 198.51.100.11 "))
        .filter_map(|t| t.trim().parse::<f64>().ok())
        .map(|t| t % 86_400.0)
        .fold(0.0, f64::max);
    assert!(
        last_ok > start + 5.0,
        "timeout: C stopped getting answers {:.1} s into the 6 s drain:\n{c}",
        last_ok - start
    );

    // control (keepalived's behaviour): the connection stops getting answers.
    let d = section("control:d");
    assert!(d.contains("ok 198.51.100.11"), "{d}");
    assert!(
        d.contains("fail"),
        "without drain_on_remove the connection should break when its dest is deleted:\n{d}"
    );
}
