#!/usr/bin/env bash
# keepalived issue #2318 in the lab guest (real IPVS): rkeepalived against
# keepalived 2.2.7, one at a time, on the gen_2318.py configuration (TUN,
# TCP_CHECK on every real server) plus one VRRP instance with a VIP:
#
#   * -t: wall time and peak RSS;
#   * start until the whole table is in the kernel (/proc/net/ip_vs lines);
#   * SIGHUP with 1 real server's weight changed, until the kernel shows it
#     (that one service's dests read over one netlink socket every 5 ms by
#     ipvs-watch; `ipvsadm -Ln -t` every 20 ms without it);
#   * SIGHUP with 10 % of the real servers' weights changed, until three
#     sampled services show it, then checked on the whole table;
#   * peak RSS (VmHWM) of every process of the daemon;
#   * no unchanged service touched: rkeepalived's own op counter (SIGUSR2
#     `keepalived_check.stats`: "ipvs ops N (last reload M)");
#   * no VIP flap: `ip monitor address` across both reloads.
#
# Host usage (the guest cannot build; release build first):
#   cargo build --release --bin rkeepalived
#   cargo build --release -p rkeepalived-ipvs --example ipvs-watch
#   LAB_TIMEOUT=3600 flock /tmp/rkd-bench.lock tests/lab/lab.sh run \
#       bench/scale/lab_reload.sh target/release/rkeepalived [VS] [RS_PER_VS]
# VS / RS_PER_VS default to issue #2318's 2,284 x 16. LAB_ONLY=rkeepalived or
# LAB_ONLY=keepalived runs just that one. STEP_TIMEOUT (s,
# default 900) bounds each wait; a daemon that does not finish a step in
# time gets "> STEP_TIMEOUT" and the next step is skipped.
#
# The real servers are made reachable so that health checks keep them in
# the table: their addresses (198.51.100.1-250, 192.0.2.1-250) go on a dummy
# interface and one listener accepts on their check ports; delay_loop is
# raised from 10 s to 120 s so that the checks (36,544 of them) do not
# dominate an emulated CPU.
set -u
RKD=$(realpath "${1:-target/release/rkeepalived}")
NVS=${2:-2284}
NRS=${3:-16}
STEP_TIMEOUT=${STEP_TIMEOUT:-900}
# The netlink watcher for the 1-change step (built beside the binary by
# `cargo build --release -p rkeepalived-ipvs --example ipvs-watch`); without
# it the step polls `ipvsadm`.
WATCH=${LAB_WATCH:-$(dirname "$RKD")/examples/ipvs-watch}
# lab.sh runs a copy of this script from the caller's directory.
HERE=${SCALE_DIR:-$PWD/bench/scale}
W=$(mktemp -d /tmp/rkd-scale.XXXXXX)
IF=rkdscale0
VIP=203.0.113.253
LISTENER=
cleanup() {
  [[ -n $LISTENER ]] && kill "$LISTENER" 2>/dev/null
  [[ -n ${MON:-} ]] && kill "$MON" 2>/dev/null
  [[ -n ${DPID:-} ]] && kill -9 "$DPID" 2>/dev/null
  ip link del "$IF" 2>/dev/null
  ipvsadm -C 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "NA" && b != "NA" && b > 0) printf "%.1f", a / b; else print "NA" }'; }
# Real-server lines of /proc/net/ip_vs (cheaper to poll than ipvsadm).
dest_count() { grep -c -- '->' /proc/net/ip_vs 2>/dev/null | awk '{print $1 - 1}'; }

# --- the configuration -----------------------------------------------------
python3 "$HERE/gen_2318.py" "$NVS" "$NRS" | sed 's/^    delay_loop 10$/    delay_loop 120/' >"$W/base.conf"
cat >>"$W/base.conf" <<EOF
vrrp_instance VI_SCALE {
    state MASTER
    interface $IF
    virtual_router_id 77
    priority 150
    advert_int 1
    virtual_ipaddress {
        $VIP/32
    }
}
EOF
TOTAL=$((NVS * NRS))
# The changed real server: the 5th of service number NVS/2 (file order).
# (No process substitution: the guest has no /dev/fd.)
chg=$(python3 - "$NVS" "$NRS" <<'EOF'
import sys
nvs, nrs = int(sys.argv[1]), int(sys.argv[2])
v = nvs // 2; r = min(4, nrs - 1); n = v * nrs + r
rs = f"198.51.100.{n % 250 + 1}" if n % 2 == 0 else f"192.0.2.{n % 250 + 1}"
print(f"203.0.113.{v % 250 + 1}", 1000 + v // 250, rs)
EOF
)
read -r CHG_VIP CHG_PORT CHG_RS <<<"$chg"
# keepalived.conf with one real server's weight changed, and with every
# 10th real server's (file order) changed.
python3 - "$W/base.conf" "$CHG_VIP" "$CHG_PORT" "$CHG_RS" "$W/one.conf" "$W/tenth.conf" <<'EOF'
import sys
src, vip, port, rs, one, tenth = sys.argv[1:]
lines = open(src).read().split("\n")
out1, out10 = [], []
cur_vs = None; cur_rs = None; rs_seen = 0
for line in lines:
    s = line.strip()
    if s.startswith("virtual_server "):
        cur_vs = s.split()[1:3]
    elif s.startswith("real_server "):
        cur_rs = s.split()[1]; rs_seen += 1
    if s == "weight 1" and cur_vs is not None:
        out1.append(line.replace("weight 1", "weight 7") if cur_vs == [vip, port] and cur_rs == rs else line)
        out10.append(line.replace("weight 1", "weight 2") if rs_seen % 10 == 0 else line)
        continue
    out1.append(line); out10.append(line)
open(one, "w").write("\n".join(out1))
open(tenth, "w").write("\n".join(out10))
EOF
cmp -s "$W/base.conf" "$W/one.conf" && { echo "setup error: the 1-change config is unchanged"; exit 1; }
# Three services with a changed real server, to poll: the first, the middle, the last.
samples=$(python3 - "$W/tenth.conf" <<'EOF'
import sys
vs = None; rs = None; hits = []
for line in open(sys.argv[1]):
    s = line.strip()
    if s.startswith("virtual_server "): vs = s.split()[1:3]
    elif s.startswith("real_server "): rs = s.split()[1]
    elif s == "weight 2": hits.append(f"{vs[0]}:{vs[1]} {rs}")
for i in sorted({0, len(hits) // 2, len(hits) - 1}): print(hits[i])
EOF
)
mapfile -t SAMPLES <<<"$samples"
CHANGED10=$(grep -c 'weight 2$' "$W/tenth.conf")

# --- the guest's network: real servers reachable, VRRP interface ---------------
ip link add "$IF" type dummy && ip link set "$IF" multicast on up
{
  for i in $(seq 1 250); do echo "addr add 198.51.100.$i/32 dev $IF"; echo "addr add 192.0.2.$i/32 dev $IF"; done
} >"$W/addrs" && ip -batch "$W/addrs"
PORTS=$(awk '/connect_port/ {print $2}' "$W/base.conf" | sort -un | tr '\n' ' ')
python3 - $PORTS >/dev/null 2>&1 <<'EOF' &
import selectors, socket, sys
sel = selectors.DefaultSelector()
for p in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(p))); s.listen(4096); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        for _ in range(64):
            try:
                c, _ = key.fileobj.accept(); c.close()
            except (BlockingIOError, OSError):
                break
EOF
LISTENER=$!
sysctl -qw net.ipv4.vs.conntrack=0 2>/dev/null || true

echo "== issue #2318 size: $NVS TUN virtual servers x $NRS real servers = $TOTAL (TCP_CHECK, delay_loop 120), + 1 VRRP VIP"
echo "== $(uname -r), $(nproc) vCPU, $(date -u +%FT%TZ)"

# VmHWM of the daemon's processes (the parent and its children), in MB.
peaks() {
  local p out=""
  for p in $1 $(pgrep -P "$1"); do
    out+=" $(tr -d '\0' </proc/"$p"/comm 2>/dev/null || echo "?")[$p]=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' /proc/"$p"/status 2>/dev/null)MB"
  done
  echo "$out"
}
service_has() { ipvsadm -Ln -t "$1" 2>/dev/null | grep -q -- "-> $2:.* $3 "; }
wait_until() { # $1: timeout (s), rest: a command
  local limit=$1; shift
  local end=$(( $(date +%s) + limit ))
  until "$@"; do (( $(date +%s) >= end )) && return 1; sleep 0.02; done
}
all_samples() {
  local s
  for s in "${SAMPLES[@]}"; do
    local svc=${s% *} rs=${s#* }
    service_has "$svc" "$rs" 2 || return 1
  done
}

run_daemon() { # $1 label, $2 var prefix, rest: the command (without -f)
  local label=$1 var=$2; shift 2
  local t_start=NA t_one=NA t_tenth=NA ops="" flaps=NA
  cp "$W/base.conf" "$W/keepalived.conf"
  local ttime
  /usr/bin/time -o "$W/time" -f "%e %M" "$@" -t -f "$W/keepalived.conf" >/dev/null 2>&1
  ttime=$(tail -1 "$W/time")
  printf '%-12s -t: %ss, peak RSS %s kB\n' "$label" "${ttime% *}" "${ttime#* }"
  ipvsadm -C
  ip addr del "$VIP/32" dev "$IF" 2>/dev/null
  local t0 t1
  t0=$(now)
  "$@" -n -l -D -f "$W/keepalived.conf" -p "$W/$var.pid" -c "$W/$var.c.pid" -r "$W/$var.v.pid" \
    >"$W/$var.log" 2>&1 &
  DPID=$!
  if wait_until "$STEP_TIMEOUT" bash -c "(( \$(grep -c -- '->' /proc/net/ip_vs) - 1 >= $TOTAL ))"; then
    t1=$(now); t_start=$(secs "$t0" "$t1")
    echo "$label start -> $TOTAL dests in the kernel: ${t_start}s"
  else
    echo "$label start: > ${STEP_TIMEOUT}s ($(dest_count) dests)"; tail -3 "$W/$var.log"
  fi
  if [[ $t_start != NA ]]; then
    wait_until 60 bash -c "ip -4 addr show dev $IF | grep -q ' $VIP/'" ||
      { echo "$label: VIP $VIP never came up"; grep -ai vrrp "$W/$var.log" | tail -3; }
    ip monitor address >"$W/$var.mon" 2>&1 &
    MON=$!
    sleep 1
    cp "$W/one.conf" "$W/keepalived.conf"
    if [[ -x $WATCH ]]; then
      # One netlink socket polled every 5 ms (crates/ipvs/examples/ipvs-watch.rs):
      # the `ipvsadm` poll below costs a process start per poll, 0.1-0.3 s
      # in the emulated guest, which it adds to what it measures.
      "$WATCH" "$CHG_VIP:$CHG_PORT" "$CHG_RS" 7 "$STEP_TIMEOUT" >"$W/watch.out" &
      local watcher=$!
      sleep 0.5
      t0=$(now); kill -HUP "$DPID"
      if wait "$watcher"; then
        t1=$(cat "$W/watch.out"); t_one=$(secs "$t0" "$t1")
        echo "$label SIGHUP 1 real server changed -> visible in the kernel: ${t_one}s (netlink watch)"
      else
        echo "$label SIGHUP 1 change: > ${STEP_TIMEOUT}s"
      fi
    else
      t0=$(now); kill -HUP "$DPID"
      if wait_until "$STEP_TIMEOUT" service_has "$CHG_VIP:$CHG_PORT" "$CHG_RS" 7; then
        t1=$(now); t_one=$(secs "$t0" "$t1")
        echo "$label SIGHUP 1 real server changed -> visible in the kernel: ${t_one}s (ipvsadm poll)"
      else
        echo "$label SIGHUP 1 change: > ${STEP_TIMEOUT}s"
      fi
    fi
    if [[ $var = rkd ]]; then
      sleep 2 # the reload's own log lines
      grep -aE 'reload:|SIGHUP|ipc: decoded|encoded and written|config: read' "$W/$var.log" | sed 's/^/    /' | tail -11
      kill -USR2 "$DPID"; sleep 2
      ops=$(grep -ho 'ipvs ops [0-9]* (last reload [0-9]*)' "$W"/keepalived_check.stats 2>/dev/null)
      echo "$label op counter after the 1-change reload: ${ops:-not found}"
    fi
    # Reloads may still be running (keepalived); wait for the next one to be
    # accepted before timing it: a HUP during a reload is queued by both.
    sleep 2
    cp "$W/tenth.conf" "$W/keepalived.conf"
    t0=$(now); kill -HUP "$DPID"
    if wait_until "$STEP_TIMEOUT" all_samples; then
      t1=$(now); t_tenth=$(secs "$t0" "$t1")
      local got
      got=$(ipvsadm -Sn | grep -c -- '-w 2\b')
      echo "$label SIGHUP 10% changed ($CHANGED10 real servers) -> visible in the kernel: ${t_tenth}s ($got with the new weight)"
    else
      echo "$label SIGHUP 10% change: > ${STEP_TIMEOUT}s"
    fi
    if [[ $var = rkd ]]; then
      sleep 2
      # This reload's own lines: its phases (parse, fingerprints, the delta
      # frame's trip to the checker, plan, matching, IPVS).
      awk '/SIGHUP: reloading/ { n = 0; delete buf } { buf[n++] = $0 } END { for (i = 0; i < n; i++) print buf[i] }' "$W/$var.log" |
        grep -aE 'reload:|SIGHUP|ipc: decoded|encoded and written|delta reload|reloading configuration|config: read' | sed 's/^/    /' | tail -14
      kill -USR2 "$DPID"; sleep 2
      ops=$(grep -ho 'ipvs ops [0-9]* (last reload [0-9]*)' "$W"/keepalived_check.stats 2>/dev/null)
      echo "$label op counter after the 10% reload: ${ops:-not found} (expected last reload $((CHANGED10 + 1)): the 10 % plus the first change undone)"
    fi
    sleep 2
    kill "$MON" 2>/dev/null; wait "$MON" 2>/dev/null; MON=
    flaps=$(grep -c "Deleted.* $VIP/" "$W/$var.mon")
    echo "$label VIP $VIP deleted during the reloads: $flaps time(s)"
    echo "$label peak RSS:$(peaks "$DPID")"
  fi
  kill "$DPID" 2>/dev/null
  wait_until 120 bash -c "! kill -0 $DPID 2>/dev/null" || kill -9 "$DPID"
  wait "$DPID" 2>/dev/null; DPID=
  ipvsadm -C
  printf -v "${var}_start" '%s' "$t_start"
  printf -v "${var}_one" '%s' "$t_one"
  printf -v "${var}_tenth" '%s' "$t_tenth"
}

rkd_start=NA rkd_one=NA rkd_tenth=NA ka_start=NA ka_one=NA ka_tenth=NA
# LAB_ONLY=rkeepalived (or keepalived) runs one of them (a quick look at one
# side's phases; the ratios then print NA).
ONLY=${LAB_ONLY:-}
[[ -x $RKD && $ONLY != keepalived ]] && run_daemon rkeepalived rkd "$RKD" --dump-dir "$W" --status-socket "$W/rkd.sock"
command -v keepalived >/dev/null && [[ $ONLY != rkeepalived ]] && run_daemon keepalived ka keepalived --no-syslog

echo "== ratios keepalived / rkeepalived (higher = rkeepalived faster), same boot"
echo "start until the table is in the kernel: $(ratio "$ka_start" "$rkd_start")x"
echo "SIGHUP, 1 real server changed:          $(ratio "$ka_one" "$rkd_one")x"
echo "SIGHUP, 10% changed:                    $(ratio "$ka_tenth" "$rkd_tenth")x"
