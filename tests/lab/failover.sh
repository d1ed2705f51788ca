#!/usr/bin/env bash
# Two-director LVS failover lab: failover.sh DAEMON MODE
#   DAEMON = keepalived | rkeepalived   (rkeepalived: $RKEEPALIVED_BIN or
#            target/debug/rkeepalived of this checkout)
#   MODE   = DR | NAT | TUN
# Runs inside the lab guest (tests/lab/lab.sh run tests/lab/failover.sh ...).
# Both directors run DAEMON with the same keepalived.conf except state and
# priority; a client requests http://VIP/ every 50 ms while the phases run:
#   steady         nothing happens
#   master_crash   dir1 (MASTER) crashes: daemon kill -9, its links go down
#   web_kill       web1's :80 server is killed; TCP_CHECK must remove it
#   reload         the :8080 service is changed in the config + SIGHUP on
#                  the new master; the :80 service must not lose requests
# Prints LAB-RESULT lines (per phase losses) and LAB-CHECK lines; exits 0
# only when every check passed.
set -uo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DAEMON=${1:?usage: failover.sh keepalived|rkeepalived DR|NAT|TUN}
MODE=${2:?usage: failover.sh keepalived|rkeepalived DR|NAT|TUN}
VIP=192.0.2.100
W=/tmp/rkl-failover
CONF_DIR=/etc/keepalived
STEADY_S=${LAB_STEADY_S:-5}
CRASH_S=${LAB_CRASH_S:-12}
WEBKILL_S=${LAB_WEBKILL_S:-8}
RELOAD_S=${LAB_RELOAD_S:-8}

case $DAEMON in
  keepalived) BIN=$(command -v keepalived) ;;
  rkeepalived) BIN=${RKEEPALIVED_BIN:-$(cd "$LAB_DIR/../.." && pwd)/target/debug/rkeepalived} ;;
  *) echo "unknown daemon $DAEMON" >&2; exit 2 ;;
esac
case $MODE in DR|NAT|TUN) ;; *) echo "unknown mode $MODE" >&2; exit 2 ;; esac

FAILED=0
check() { # check NAME OK(0/1) DETAIL
  if [[ $2 == 0 ]]; then echo "LAB-CHECK daemon=$DAEMON mode=$MODE $1 ok $3"
  else echo "LAB-CHECK daemon=$DAEMON mode=$MODE $1 FAIL $3"; FAILED=1; fi
}
now() { date +%s.%N; }
phase() { echo "$(now) $1" >>"$W/phases"; echo "== phase $1 ($(date +%T.%N | cut -c1-12))"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_until TIMEOUT_S CMD...: polls every 0.2 s; prints seconds waited.
wait_until() {
  local timeout_ms=$(( $1 * 1000 )) start; shift
  start=$(now_ms)
  while ! "$@" >/dev/null 2>&1; do
    (( $(now_ms) - start > timeout_ms )) && return 1
    sleep 0.2
  done
  local waited=$(( $(now_ms) - start ))
  printf '%d.%01d\n' $((waited / 1000)) $((waited % 1000 / 100))
}
# sleep_rest START_MS TOTAL_S: sleep until TOTAL_S after START_MS.
sleep_rest() {
  local left=$(( $1 + $2 * 1000 - $(now_ms) ))
  (( left > 0 )) && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
  return 0
}
has_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q "inet $VIP/"; }
ipvs_of() { ip netns exec "$1" ipvsadm -Sn 2>/dev/null; }
rs_count() { ipvs_of "$1" | grep -c "^-a -t $VIP:$2 "; }
has_rs_count() { [[ $(rs_count "$1" "$2") == "$3" ]]; }
lacks_web1_80() { ipvs_of "$1" | grep -q "^-A -t $VIP:80 " && ! ipvs_of "$1" | grep -q "^-a -t $VIP:80 -r $(web_addr 1):80 "; }
web_addr() { if [[ $MODE == NAT ]]; then echo "198.51.100.2$1"; else echo "192.0.2.2$1"; fi; }
reloaded() { ipvs_of "$1" | grep -q "^-A -t $VIP:8080 -s wrr" && ipvs_of "$1" | grep -q "^-a -t $VIP:8080 -r $(web_addr 1):8080 .* -w 3"; }

write_conf() { # write_conf NODE STATE PRIORITY VARIANT(initial|reloaded)
  local node=$1 state=$2 prio=$3 variant=$4 kind=$MODE i port algo weight1 gw=
  [[ $MODE == NAT ]] && gw="    198.51.100.1/32 dev eth1"
  {
    cat <<CONF
! rkeepalived lab: $MODE director $node ($variant)
global_defs {
    router_id LAB_$node
}

vrrp_instance VI_LAB {
    state $state
    interface eth0
    virtual_router_id 51
    priority $prio
    advert_int 1
    virtual_ipaddress {
        $VIP/32 dev eth0
$gw
    }
}
CONF
    for port in 80 8080; do
      algo=rr weight1=1
      if [[ $port == 8080 && $variant == reloaded ]]; then algo=wrr weight1=3; fi
      cat <<CONF

virtual_server $VIP $port {
    delay_loop 1
    lb_algo $algo
    lb_kind $kind
    protocol TCP
CONF
      for i in 1 2; do
        cat <<CONF
    real_server $(web_addr $i) $port {
        weight $([[ $i == 1 ]] && echo "$weight1" || echo 1)
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
        }
    }
CONF
      done
      echo "}"
    done
  } >"$CONF_DIR/rkl-$node.conf"
}

start_daemon() { # start_daemon NODE
  local node=$1 extra=()
  # Two instances share /run: rkeepalived's status socket must differ.
  [[ $DAEMON == rkeepalived ]] && extra=(--status-socket "$W/$node.sock")
  ip netns exec "$node" setsid "$BIN" -n -l -D -f "$CONF_DIR/rkl-$node.conf" \
    -p "$W/$node.pid" -r "$W/$node-vrrp.pid" -c "$W/$node-checkers.pid" "${extra[@]}" \
    </dev/null >"$W/$node.log" 2>&1 &
  echo $! >"$W/$node.daemon"
}

CLIENT_PID=
cleanup() {
  touch "$W/stop"
  [[ -n $CLIENT_PID ]] && kill "$CLIENT_PID" 2>/dev/null
  for node in dir1 dir2; do
    [[ -s $W/$node.daemon ]] && kill -9 -- "-$(cat "$W/$node.daemon")" 2>/dev/null
  done
  "$LAB_DIR/topology.sh" down
}
trap cleanup EXIT

dump_state() {
  local node
  for node in dir1 dir2; do
    echo "---- $node: addresses"; ip -n "$node" -4 -br addr 2>&1
    echo "---- $node: ipvsadm -Sn"; ipvs_of "$node"
    echo "---- $node: daemon log (last 40 lines)"; tail -n 40 "$W/$node.log" 2>/dev/null
  done
}

echo "== failover lab: daemon=$DAEMON ($BIN) mode=$MODE kernel=$(uname -r)"
if [[ ! -x $BIN ]]; then
  check daemon_binary 1 "missing $BIN (cargo build first)"
  exit 1
fi
rm -rf "$W"; mkdir -p "$W" "$CONF_DIR"
"$LAB_DIR/topology.sh" up "$MODE" || { echo "topology setup failed"; exit 1; }
write_conf dir1 MASTER 150 initial
write_conf dir2 BACKUP 100 initial
start_daemon dir1
start_daemon dir2

t=$(wait_until 30 has_vip dir1); check master_holds_vip $? "dir1 VIP after ${t:-timeout}s"
t=$(wait_until 20 has_rs_count dir1 80 2); check master_ipvs_programmed $? "dir1 :80 has 2 real servers after ${t:-timeout}s"
t=$(wait_until 20 has_rs_count dir2 80 2); check backup_ipvs_programmed $? "dir2 :80 has 2 real servers after ${t:-timeout}s"
has_vip dir2; check backup_without_vip $((1 - $?)) "dir2 does not hold the VIP"
t=$(wait_until 10 ip netns exec client curl -fsS -m 1 "http://$VIP/"); check client_reaches_vip $? "first curl ok after ${t:-timeout}s"
if (( FAILED )); then dump_state; exit 1; fi

ip netns exec client python3 "$LAB_DIR/client.py" "http://$VIP/" 0.05 "$W/stop" "$W/client.log" &
CLIENT_PID=$!
# python startup under TCG takes seconds: phases start once requests flow.
t=$(wait_until 30 test -s "$W/client.log"); check client_loop_started $? "first request logged after ${t:-timeout}s"

phase steady
sleep "$STEADY_S"

phase master_crash
start=$(now_ms)
kill -9 -- "-$(cat "$W/dir1.daemon")" 2>/dev/null
ip -n dir1 link set eth0 down
[[ $MODE == NAT ]] && ip -n dir1 link set eth1 down
t=$(wait_until 20 has_vip dir2); check backup_takes_over $? "dir2 holds the VIP ${t:-timeout}s after the crash"
# Bounded in tests/lab_failover.rs (RFC Master_Down_Interval, and keepalived).
TAKEOVER_S=${t:-timeout}
sleep_rest "$start" "$CRASH_S"

phase web_kill
start=$(now_ms)
kill -9 "$(cat /run/rkl-topo/httpd-web1-80.pid)"
t=$(wait_until 20 lacks_web1_80 dir2); check checker_removes_dead_web1 $? "web1:80 left dir2's IPVS table ${t:-timeout}s after the kill"
# Bounded in tests/lab_failover.rs (checker detection time, and keepalived).
REMOVAL_S=${t:-timeout}
sleep_rest "$start" "$WEBKILL_S"

phase reload
start=$(now_ms)
write_conf dir2 BACKUP 100 reloaded
kill -HUP "$(cat "$W/dir2.daemon")"
t=$(wait_until 20 reloaded dir2); check reload_applies_change $? ":8080 became wrr with web1 weight 3 ${t:-timeout}s after SIGHUP"
sleep_rest "$start" "$RELOAD_S"
phase end
touch "$W/stop"; wait "$CLIENT_PID" 2>/dev/null; CLIENT_PID=

python3 "$LAB_DIR/summarize.py" "$W/client.log" "$W/phases" | sed "s/^LAB-RESULT /LAB-RESULT daemon=$DAEMON mode=$MODE /" | tee "$W/results"
echo "LAB-TIMING daemon=$DAEMON mode=$MODE takeover_s=${TAKEOVER_S:-none} removal_s=${REMOVAL_S:-none}"
field() { sed -n "s/.*phase=$1 .*$2=\([0-9]*\).*/\1/p" "$W/results"; }
[[ $(field steady failed) == 0 ]]; check steady_no_loss $? "failed=$(field steady failed)"
[[ $(field master_crash tail_failed) == 0 ]]; check traffic_continues_after_takeover $? "failed in last 2 s=$(field master_crash tail_failed)"
[[ $(field web_kill tail_failed) == 0 ]]; check traffic_continues_after_web_kill $? "failed in last 2 s=$(field web_kill tail_failed)"
[[ $(field reload failed) == 0 ]]; check reload_keeps_other_service $? "failed=$(field reload failed)"
ipvs_of dir2 | grep -q "^-A -t $VIP:80 -s rr"; check reload_keeps_port80_service $? ":80 still rr"
[[ -n ${LAB_OUT:-} ]] && cp "$W"/*.log "$W/results" "$LAB_OUT/" 2>/dev/null
if (( FAILED )); then dump_state; exit 1; fi
echo "== all checks passed"
