#!/usr/bin/env bash
# Connection-survival lab: survive.sh DAEMON MODE SYNC
#   DAEMON = keepalived | rkeepalived   (rkeepalived: $RKEEPALIVED_BIN or
#            target/debug/rkeepalived of this checkout)
#   MODE   = DR | NAT
#   SYNC   = sync | nosync     (with or without `lvs_sync_daemon`)
# Runs inside the lab guest (tests/lab/lab.sh run ...). The topology
# (survive_topology.sh) is topology.sh's (client, dir1, dir2, web1, web2)
# plus a dedicated sync link between the directors (eth2, 203.0.113.11 <->
# .12). Both directors run
# DAEMON with the same keepalived.conf except state and priority:
#   DR:  VRRP instance VI_EXT (VIP 192.0.2.100 on eth0)
#   NAT: vrrp_sync_group VG_LVS { VI_EXT VI_INT }, VI_INT holding the real
#        servers' default gateway 198.51.100.1 on eth1, so the return path
#        follows the VIP
#   sync: lvs_sync_daemon eth2 inst VI_EXT
# One virtual service VIP:9000 (rr, TCP_CHECK) over web1/web2, which run an
# echo server (echo_server.py). The client opens N long-lived connections
# (conn_client.py) exchanging a line every 100 ms; once all of them echo
# and the sync daemon had time to send them, dir1 crashes (kill -9 of its
# daemon's process group, all its links down), dir2 takes over, and after
# OBSERVE_S the client counts the connections that still work.
# Prints LAB-SURVIVE (the numbers) and LAB-CHECK lines (setup checks);
# exits non-zero when the setup failed (not when connections died: the
# caller judges the numbers).
set -uo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DAEMON=${1:?usage: survive.sh keepalived|rkeepalived DR|NAT sync|nosync}
MODE=${2:?usage: survive.sh keepalived|rkeepalived DR|NAT sync|nosync}
SYNC=${3:?usage: survive.sh keepalived|rkeepalived DR|NAT sync|nosync}
N=${LAB_SURVIVE_N:-200}
INTERVAL_S=${LAB_SURVIVE_INTERVAL_S:-0.1}
# After every connection echoes: time for the sync daemon to send them
# (IPVS syncs an established connection at its 3rd packet and every 50th,
# and flushes its send buffer at least every 2 s).
SETTLE_S=${LAB_SURVIVE_SETTLE_S:-5}
# After the crash: takeover (~3.6 s) plus TCP's retransmission back-off
# (a segment lost at the crash is resent at +0.2, 0.6, 1.4, 3.0, 6.2,
# 12.6 s), with room for the slow emulated CPU.
OBSERVE_S=${LAB_SURVIVE_OBSERVE_S:-20}
VIP=192.0.2.100
PORT=9000
W=/tmp/rkl-survive
CONF_DIR=/etc/keepalived

case $DAEMON in
  keepalived) BIN=$(command -v keepalived) ;;
  rkeepalived) BIN=${RKEEPALIVED_BIN:-$(cd "$LAB_DIR/../.." && pwd)/target/debug/rkeepalived} ;;
  *) echo "unknown daemon $DAEMON" >&2; exit 2 ;;
esac
case $MODE in DR|NAT) ;; *) echo "unknown mode $MODE" >&2; exit 2 ;; esac
case $SYNC in sync|nosync) ;; *) echo "unknown sync setting $SYNC" >&2; exit 2 ;; esac
TAG="daemon=$DAEMON mode=$MODE sync=$SYNC"

FAILED=0
check() { # check NAME OK(0/1) DETAIL
  if [[ $2 == 0 ]]; then echo "LAB-CHECK $TAG $1 ok $3"
  else echo "LAB-CHECK $TAG $1 FAIL $3"; FAILED=1; fi
}
# The case's elapsed time on the console (where does the emulated CPU go).
T0=$(date +%s%N)
step() { echo "-- $(( ($(date +%s%N) - T0) / 100000000 ))ds $*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_until TIMEOUT_S CMD...: polls every 0.5 s; prints seconds waited.
wait_until() {
  local timeout_ms=$(( $1 * 1000 )) start; shift
  start=$(now_ms)
  while ! "$@" >/dev/null 2>&1; do
    (( $(now_ms) - start > timeout_ms )) && return 1
    sleep 0.5
  done
  local waited=$(( $(now_ms) - start ))
  printf '%d.%01d\n' $((waited / 1000)) $((waited % 1000 / 100))
}
has_vip() { ip -n "$1" -4 addr show dev eth0 | grep -q "inet $VIP/"; }
web_addr() { if [[ $MODE == NAT ]]; then echo "198.51.100.2$1"; else echo "192.0.2.2$1"; fi; }
rs_count() { ip netns exec "$1" ipvsadm -Sn 2>/dev/null | grep -c "^-a -t $VIP:$PORT "; }
has_rs_count() { [[ $(rs_count "$1") == "$2" ]]; }
syncd_is() { ip netns exec "$1" ipvsadm -L --daemon 2>/dev/null | grep -q "$2 sync daemon"; }
# Connections to the service in NODE's IPVS table in STATE.
conns_in() { ip netns exec "$1" ipvsadm -Lnc 2>/dev/null | awk -v v="$VIP:$PORT" -v s="$2" '$5 == v && $3 == s' | wc -l; }
# How often NODE's VI_EXT entered MASTER (keepalived's wording, both daemons).
masters() { grep -c "(VI_EXT) Entering MASTER STATE" "$W/$1.log" 2>/dev/null; }
client_status() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" "$W/status" 2>/dev/null; }
all_echoing() { [[ $(client_status echoing) == "$N" ]]; }

write_conf() { # write_conf NODE STATE PRIORITY
  local node=$1 state=$2 prio=$3 i
  {
    echo "! rkeepalived connection-survival lab: $MODE director $node, $SYNC"
    echo "global_defs {"
    echo "    router_id LAB_$node"
    [[ $SYNC == sync ]] && echo "    lvs_sync_daemon eth2 inst VI_EXT"
    echo "}"
    if [[ $MODE == NAT ]]; then
      cat <<CONF

vrrp_sync_group VG_LVS {
    group {
        VI_EXT
        VI_INT
    }
}
CONF
    fi
    cat <<CONF

vrrp_instance VI_EXT {
    state $state
    interface eth0
    virtual_router_id 51
    priority $prio
    advert_int 1
    virtual_ipaddress {
        $VIP/32 dev eth0
    }
}
CONF
    if [[ $MODE == NAT ]]; then
      cat <<CONF

vrrp_instance VI_INT {
    state $state
    interface eth1
    virtual_router_id 52
    priority $prio
    advert_int 1
    virtual_ipaddress {
        198.51.100.1/32 dev eth1
    }
}
CONF
    fi
    cat <<CONF

virtual_server $VIP $PORT {
    delay_loop 3
    lb_algo rr
    lb_kind $MODE
    protocol TCP
CONF
    for i in 1 2; do
      cat <<CONF
    real_server $(web_addr "$i") $PORT {
        weight 1
        TCP_CHECK {
            connect_timeout 2
            retry 1
            delay_before_retry 1
        }
    }
CONF
    done
    echo "}"
  } >"$CONF_DIR/rkl-survive-$node.conf"
}

start_daemon() { # start_daemon NODE
  local node=$1 extra=()
  [[ $DAEMON == rkeepalived ]] && extra=(--status-socket "$W/$node.sock")
  ip netns exec "$node" setsid "$BIN" -n -l -D -f "$CONF_DIR/rkl-survive-$node.conf" \
    -p "$W/$node.pid" -r "$W/$node-vrrp.pid" -c "$W/$node-checkers.pid" "${extra[@]}" \
    </dev/null >"$W/$node.log" 2>&1 &
  echo $! >"$W/$node.daemon"
  disown  # no "Killed" job notice on the console at the crash
}

cleanup() {
  touch "$W/stop"
  for node in dir1 dir2; do
    [[ -s $W/$node.daemon ]] && kill -9 -- "-$(cat "$W/$node.daemon")" 2>/dev/null
  done
  "$LAB_DIR/survive_topology.sh" down
  step done
}
trap cleanup EXIT

dump_state() {
  local node
  for node in dir1 dir2; do
    echo "---- $node: addresses"; ip -n "$node" -4 -br addr 2>&1
    echo "---- $node: ipvsadm -Sn"; ip netns exec "$node" ipvsadm -Sn 2>&1
    echo "---- $node: ipvsadm -L --daemon"; ip netns exec "$node" ipvsadm -L --daemon 2>&1
    echo "---- $node: daemon log (last 30 lines)"; tail -n 30 "$W/$node.log" 2>/dev/null
  done
  echo "---- client status: $(cat "$W/status" 2>/dev/null)"
}

echo "== survival lab: $TAG n=$N ($BIN) kernel=$(uname -r)"
if [[ ! -x $BIN ]]; then
  check daemon_binary 1 "missing $BIN (cargo build first)"
  exit 1
fi
rm -rf "$W"; mkdir -p "$W" "$CONF_DIR"
step topology
"$LAB_DIR/survive_topology.sh" up "$MODE" || { echo "topology setup failed"; exit 1; }
for i in 1 2; do
  ip netns exec "web$i" python3 -S "$LAB_DIR/echo_server.py" "$PORT" </dev/null >"$W/echo-web$i.log" 2>&1 &
  disown
done
step daemons
write_conf dir1 MASTER 150
write_conf dir2 BACKUP 100
# The master first, then the backup: started together, a backup whose
# daemon comes up faster on the emulated CPU times out before the master's
# first advert and is MASTER for a moment (no harm, but not the steady
# state this lab wants to crash).
start_daemon dir1
t=$(wait_until 40 has_vip dir1); check master_holds_vip $? "dir1 VIP after ${t:-timeout}s"
start_daemon dir2
t=$(wait_until 30 has_rs_count dir1 2); check master_ipvs_programmed $? "dir1 has 2 real servers after ${t:-timeout}s"
t=$(wait_until 30 has_rs_count dir2 2); check backup_ipvs_programmed $? "dir2 has 2 real servers after ${t:-timeout}s"
if [[ $SYNC == sync ]]; then
  t=$(wait_until 20 syncd_is dir1 master); check master_sync_daemon $? "dir1 runs the master sync daemon after ${t:-timeout}s"
  t=$(wait_until 20 syncd_is dir2 backup); check backup_sync_daemon $? "dir2 runs the backup sync daemon after ${t:-timeout}s"
fi
if (( FAILED )); then dump_state; exit 1; fi

# VI_EXT's adverts as dir2 sees them: the takeover as the RFC bounds it is
# the master's last advert -> the backup's first (Master_Down_Interval,
# 3.61 s here), independent of the kill's phase and of the polling below.
ip netns exec dir2 tcpdump -i eth0 -tt -n -l ip proto 112 >"$W/adverts" 2>/dev/null </dev/null &
disown
step client
ip netns exec client python3 -S "$LAB_DIR/conn_client.py" "$VIP" "$PORT" "$N" "$INTERVAL_S" "$W" \
  </dev/null >"$W/client.log" 2>&1 &
disown
t=$(wait_until 90 all_echoing); check all_connections_echo $? "all $N connections echo after ${t:-timeout}s"
if (( FAILED )); then dump_state; cat "$W/client.log"; exit 1; fi
sleep "$SETTLE_S"
dir1_est=$(conns_in dir1 ESTABLISHED)
dir2_est=$(conns_in dir2 ESTABLISHED)
# dir2 must still be the backup: a spurious takeover (adverts starved on the
# loaded emulated CPU) would make the crash test something else.
has_vip dir2; check backup_without_vip_before_crash $((1 - $?)) "dir2 does not hold the VIP"
masters_before=$(masters dir2)

# Node crash of dir1.
step crash
date +%s.%N >"$W/crash"
start=$(now_ms)
kill -9 -- "-$(cat "$W/dir1.daemon")" 2>/dev/null
for dev in eth0 eth1 eth2; do ip -n dir1 link set "$dev" down 2>/dev/null; done
t=$(wait_until 30 has_vip dir2); check backup_takes_over $? "dir2 holds the VIP ${t:-timeout}s after the crash"
takeover=${t:-none}
left=$(( start + OBSERVE_S * 1000 - $(now_ms) ))
(( left > 0 )) && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
dir2_after=$(conns_in dir2 ESTABLISHED)
masters_after=$(masters dir2)
advert_gap=$(awk -v crash="$(cat "$W/crash")" '
  $3 == "192.0.2.11" { m = $1 }
  $3 == "192.0.2.12" && $1 > crash && m && !b { b = $1 }
  END { if (m && b) printf "%.2f", b - m; else print "none" }' "$W/adverts" 2>/dev/null)
step stop
touch "$W/stop"
wait_until 30 test -s "$W/report" >/dev/null
report=$(cat "$W/report" 2>/dev/null)
[[ -n $report ]]; check client_report $? "${report:-no report: $(cat "$W/client.log")}"
echo "LAB-SURVIVE $TAG ${report#SURVIVE } takeover_s=$takeover advert_gap_s=${advert_gap:-none}" \
  "dir1_conns_before=$dir1_est dir2_conns_before=$dir2_est dir2_conns_after=$dir2_after" \
  "dir2_masters_before=$masters_before dir2_masters_after=$masters_after"
step teardown
[[ -n ${LAB_OUT:-} ]] && for f in "$W"/*.log; do cp "$f" "$LAB_OUT/survive-$DAEMON-$MODE-$SYNC-$(basename "$f")"; done
if (( FAILED )); then dump_state; exit 1; fi
exit 0
