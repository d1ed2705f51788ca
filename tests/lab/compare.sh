#!/usr/bin/env bash
# keepalived vs rkeepalived IPVS comparison on keepalived's sample configs.
# Runs inside the lab guest:
#   compare.sh RKEEPALIVED_BIN [NAME=]CONF...
# NAME (default: CONF's file name without "keepalived.conf.") names the
# config in the output.
# For each sample (rewritten by compare_prep.py: documentation addresses,
# short checker timing) it builds two identical director/real-server
# namespace pairs, runs `keepalived -C -n -l` in one and `RKEEPALIVED_BIN -C
# -n -l` in the other at the same time, waits until both IPVS tables are
# stable and prints them sorted as sections "ka:NAME" and "rk:NAME", followed
# by a "LAB-COMPARE sample=NAME ... same=yes|no" line (and "rklog:NAME", the
# tail of our daemon's log, when they differ). Real servers are namespaces
# owning the real server addresses with fake_services.py answering
# TCP/SMTP/HTTP/UDP, so every check except HTTP/SSL digests can come up.
# LAB_COMPARE_JOBS samples (default 4) run concurrently: most of the time is
# spent waiting for checks, not computing.
set -uo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  RK_BIN=${1:?usage: compare.sh RKEEPALIVED_BIN SAMPLE...}
  shift
fi
KA_BIN=$(command -v keepalived)
W=/tmp/rkl-compare
JOBS=${LAB_COMPARE_JOBS:-4}
# A table is not settled before every checker had its whole failure budget:
# compare_prep.py sets connect_timeout 5, retry 1, delay_before_retry 1 and
# delay_loop 2, i.e. up to 5*2 + 1 + 2 (first-check stagger) = 13 s. That
# budget is counted from the moment both daemons' checkers run, not from the
# daemons' launch: start-up in the TCG guest with 4 samples at once varied
# from 2 to over 5 s (loading the binaries over 9p), and a fixed budget from
# launch once snapshotted a server a moment before its TLS handshake timed
# out a second time. 18 s leaves 5 s for late timers in the loaded guest.
CHECKERS_UP_MAX_S=${LAB_CHECKERS_UP_MAX_S:-20}
SETTLE_MIN_S=${LAB_SETTLE_MIN_S:-18}
SETTLE_MAX_S=${LAB_SETTLE_MAX_S:-40}
DIR_V4=203.0.113.254
DIR_V6=2001:db8:ffff::254

mkdir -p "$W"
# MISC_CHECK samples call /usr/local/bin/script.sh: make it a healthy check.
if [[ -d /usr/local/bin ]] && ! mountpoint -q /usr/local/bin; then
  mount -t tmpfs tmpfs /usr/local/bin
  printf '#!/bin/sh\nexit 0\n' >/usr/local/bin/script.sh
  chmod 0755 /usr/local/bin/script.sh
fi

section() { local n=$1; shift; echo "@@BEGIN $n@@"; "$@" 2>&1; echo "@@END $n@@"; }
addr_cmd() { # addr_cmd ADDR DEV: an `ip -batch` line adding a host address
  if [[ $1 == *:* ]]; then echo "addr add $1/128 dev $2 nodad"; else echo "addr add $1/32 dev $2"; fi
}

# pair_up TAG: namespaces rkl-TAG-dir and rkl-TAG-rs joined by a veth.
pair_up() {
  local tag=$1 d=rkl-$1-dir r=rkl-$1-rs a net
  ip netns add "$d"; ip netns add "$r"
  ip link add eth0 netns "$d" type veth peer name eth0 netns "$r"
  {
    echo "link set lo up"; echo "link set eth0 up"
    addr_cmd "$DIR_V4" eth0; addr_cmd "$DIR_V6" eth0
    for a in $BIND_ADDRS; do addr_cmd "$a" eth0; done
    for net in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32; do echo "route add $net dev eth0"; done
  } >"$W/$tag-dir.ip"
  {
    echo "link set lo up"; echo "link set eth0 up"
    for a in $RS_ADDRS; do addr_cmd "$a" eth0; done
    for net in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32; do echo "route add $net dev eth0"; done
  } >"$W/$tag-rs.ip"
  ip -n "$d" -force -batch "$W/$tag-dir.ip" 2>/dev/null
  ip -n "$r" -force -batch "$W/$tag-rs.ip" 2>/dev/null
  nsenter --net="/run/netns/$r" python3 "$LAB_DIR/fake_services.py" --tcp "$TCP_PORTS" --udp "$UDP_PORTS" \
    >"$W/$tag-fake.log" 2>&1 &
}

pair_down() {
  local tag=$1 pid ns
  for ns in "rkl-$tag-dir" "rkl-$tag-rs"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
}

start_daemon() { # start_daemon TAG BIN CONF [EXTRA_ARGS...]
  local tag=$1 bin=$2 conf=$3
  shift 3
  nsenter --net="/run/netns/rkl-$tag-dir" setsid "$bin" -C -n -l -D -f "$conf" -p "$W/$tag.pid" \
    -r "$W/$tag-vrrp.pid" -c "$W/$tag-checkers.pid" "$@" </dev/null >"$W/$tag.log" 2>&1 &
  echo $! >"$W/$tag.daemon"
}

# stop_daemon TAG: SIGTERM, then the daemon's exit status (or "killed" after
# 10 s, or "none") in $W/TAG.exit. The daemon is a job of this shell, so
# `wait` reads its status.
stop_daemon() {
  local tag=$1 pid status=killed
  pid=$(cat "$W/$tag.daemon")
  if [[ $pid == none ]]; then echo none >"$W/$tag.exit"; return; fi
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 -- "-$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  else wait "$pid" 2>/dev/null; status=$?; fi
  echo "$status" >"$W/$tag.exit"
}

table() { nsenter --net="/run/netns/rkl-$1-dir" ipvsadm -Sn 2>&1 | sort; }

# compare_one IDX SAMPLE: everything for one sample; output on stdout.
compare_one() {
  local idx=$1 sample=$2 name conf ka rk t0 t1 t prev cur stable same rk_alive rk_pid
  if [[ $sample == *=* ]]; then name=${sample%%=*}; sample=${sample#*=}
  else name=$(basename "$sample"); name=${name#keepalived.conf.}; fi
  conf=/etc/keepalived/cmp-$idx.conf
  ka=$idx-ka rk=$idx-rk
  t0=$SECONDS
  python3 "$LAB_DIR/compare_prep.py" "$sample" "$conf" "$W/$idx.env" || { echo "LAB-COMPARE sample=$name prep=failed same=no"; return; }
  # shellcheck disable=SC1090
  . "$W/$idx.env"
  pair_up "$ka"; pair_up "$rk"
  start_daemon "$ka" "$KA_BIN" "$conf"
  # Several instances run at once: each needs its own status socket.
  if [[ -x $RK_BIN ]]; then start_daemon "$rk" "$RK_BIN" "$conf" --status-socket "$W/$rk.sock"
  else echo "rkeepalived binary missing: $RK_BIN" >"$W/$rk.log"; echo none >"$W/$rk.daemon"; fi
  # Settle: wait until both checker engines run (their start-up lines, or
  # CHECKERS_UP_MAX_S for a config without checkers), then at least
  # SETTLE_MIN_S more, then until both tables are unchanged for three
  # consecutive samples one second apart (or SETTLE_MAX_S).
  t1=$SECONDS
  while ((SECONDS - t1 < CHECKERS_UP_MAX_S)); do
    grep -q 'ctivating healthchecker' "$W/$ka.log" 2>/dev/null &&
      grep -q 'health checker starting' "$W/$rk.log" 2>/dev/null && break
    sleep 0.2
  done
  t1=$SECONDS prev="" stable=0
  while ((SECONDS - t1 < SETTLE_MAX_S)); do
    sleep 1
    cur="$(table "$ka")|$(table "$rk")"
    if [[ $cur == "$prev" ]]; then stable=$((stable + 1)); else stable=0; fi
    prev=$cur
    ((SECONDS - t1 >= SETTLE_MIN_S && stable >= 3)) && break
  done
  t=$((SECONDS - t1))
  table "$ka" >"$W/$idx.ka"; table "$rk" >"$W/$idx.rk"
  section "ka:$name" cat "$W/$idx.ka"
  section "rk:$name" cat "$W/$idx.rk"
  same=no; cmp -s "$W/$idx.ka" "$W/$idx.rk" && same=yes
  rk_alive=no; rk_pid=$(cat "$W/$rk.daemon"); [[ $rk_pid != none ]] && kill -0 "$rk_pid" 2>/dev/null && rk_alive=yes
  [[ $same == no ]] && section "rklog:$name" tail -n 20 "$W/$rk.log"
  # Why keepalived took real servers out (the lab's fake servers should
  # satisfy every check but digests).
  section "kalog:$name" grep -iE 'fail|timeout|error|remov|lost' "$W/$ka.log"
  stop_daemon "$ka"; stop_daemon "$rk"
  # What each daemon left in the kernel after a clean stop (keepalived
  # removes its services on exit; so must we). Read before the namespaces go.
  table "$ka" >"$W/$idx.ka-left"; table "$rk" >"$W/$idx.rk-left"
  section "rkleft:$name" cat "$W/$idx.rk-left"
  pair_down "$ka"; pair_down "$rk"
  echo "LAB-COMPARE sample=$name settle_s=$t total_s=$((SECONDS - t0)) ka_services=$(grep -c '^-A' "$W/$idx.ka") ka_dests=$(grep -c '^-a' "$W/$idx.ka") rk_services=$(grep -c '^-A' "$W/$idx.rk") rk_dests=$(grep -c '^-a' "$W/$idx.rk") rk_running=$rk_alive ka_exit=$(cat "$W/$ka.exit") rk_exit=$(cat "$W/$rk.exit") ka_left=$(grep -c '^-[Aa]' "$W/$idx.ka-left") rk_left=$(grep -c '^-[Aa]' "$W/$idx.rk-left") same=$same"
}

cleanup() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '/^rkl-[0-9]+-(ka|rk)-(dir|rs)/ {print $1}'); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
}
# reload_compare.sh sources this file for the functions above.
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0

trap cleanup EXIT

idx=0
for sample in "$@"; do
  idx=$((idx + 1))
  while (($(jobs -rp | wc -l) >= JOBS)); do wait -n; done
  compare_one "$idx" "$sample" >"$W/$idx.out" 2>&1 &
done
wait
# Results in the order given, one sample after the other.
for ((i = 1; i <= idx; i++)); do cat "$W/$i.out"; done
