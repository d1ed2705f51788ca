#!/usr/bin/env bash
# keepalived vs rkeepalived IPVS tables across SIGHUP reloads (issue #17
# item 1: the delta reload must leave the kernel exactly as keepalived's
# reload does). Runs inside the lab guest:
#   reload_compare.sh RKEEPALIVED_BIN
# Both daemons (`-C -n -l`) start on the same base configuration in twin
# director / real-server namespace pairs (tests/lab/compare.sh's pair_up),
# then every step writes the step's configuration over the file, sends
# SIGHUP to both, waits until both tables have settled and prints them
# sorted (`ipvsadm -Sn`) as sections "ka:STEP" and "rk:STEP", our daemon's
# reload log lines as "rkreload:STEP", and a line
#   LAB-RELOAD step=STEP settle_s=N same=yes|no
# The steps change one thing each, in the ways an operator edits a
# director: one weight (the 1-change delta), real servers added and
# removed, a virtual server added and another removed, virtual server
# options (scheduler, persistence), forwarding method, a quorum above the
# total weight (keepalived lowers it to the total, with a warning) lost to a
# failing real server so that the sorry server comes in, and back to the
# base configuration.
set -uo pipefail
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RK_BIN=${1:?usage: reload_compare.sh RKEEPALIVED_BIN | --print STEP}

# What pair_up gives the real-server namespace and the director.
RS_ADDRS="198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.4 198.51.100.5 198.51.100.6 198.51.100.7 198.51.100.8 198.51.100.9 198.51.100.20 2001:db8:1::1 2001:db8:1::2"
BIND_ADDRS=""
TCP_PORTS="80 8080 8081"
UDP_PORTS=""

# conf STEP: the configuration of one step on stdout. 198.51.100.8's check
# port 8099 answers nothing (inhibit_on_failure keeps it at weight 0 in both); the
# virtual server that turns DR has its real servers on its own port.
# check [PORT]: a TCP_CHECK block, one keyword a line. (On one line,
# `TCP_CHECK { connect_timeout 2 retry 1 }`, keepalived reads only the
# first keyword of the line: the rest are its extra parameters.)
check() {
  printf 'TCP_CHECK {\n      connect_timeout 2\n      retry 1\n      delay_before_retry 1\n'
  [[ -n ${1:-} ]] && printf '      connect_port %s\n' "$1"
  printf '    }'
}

conf() {
  local step=$1
  local w1=1 algo=rr persist="" vs3=yes vs5=no kind=NAT quorum="" rs2b="198.51.100.3" rs2c="" port2=""
  case $step in
    base) ;;
    weight) w1=5 ;;
    real_servers) w1=5 rs2b="" rs2c="198.51.100.9" ;;
    virtual_servers) w1=5 rs2b="" rs2c="198.51.100.9" vs3=no vs5=yes ;;
    vs_options) w1=5 rs2b="" rs2c="198.51.100.9" vs3=no vs5=yes algo=wlc persist="persistence_timeout 300" ;;
    lb_kind) w1=5 rs2b="" rs2c="198.51.100.9" vs3=no vs5=yes algo=wlc persist="persistence_timeout 300" kind=DR ;;
    quorum) w1=5 rs2b="" rs2c="198.51.100.9" vs3=no vs5=yes algo=wlc persist="persistence_timeout 300" kind=DR quorum="quorum 100" port2=8099 ;;
    back) ;;
    *) echo "unknown step $step" >&2; return 1 ;;
  esac
  cat <<EOF
global_defs {
  router_id reload_cmp
}
virtual_server 203.0.113.10 80 {
  delay_loop 2
  lb_algo $algo
  lb_kind NAT
  protocol TCP
  $persist
  $quorum
  sorry_server 198.51.100.20 8080
  real_server 198.51.100.1 8080 {
    weight $w1
    $(check)
  }
  real_server 198.51.100.2 8080 {
    weight 2
    $(check "$port2")
  }
}
virtual_server 203.0.113.11 80 {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.2 8080 {
    $(check)
  }
$(for a in $rs2b $rs2c; do printf '  real_server %s 8080 {\n    weight 3\n    %s\n  }\n' "$a" "$(check)"; done)
}
$(if [[ $vs3 == yes ]]; then cat <<EOT
virtual_server 203.0.113.12 443 {
  delay_loop 2
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.4 8081 {
    $(check)
  }
  real_server 198.51.100.5 8081 {
    $(check)
  }
}
EOT
fi)
virtual_server 203.0.113.13 80 {
  delay_loop 2
  lb_algo sh
  lb_kind $kind
  protocol TCP
  real_server 198.51.100.6 80 {
    $(check)
  }
  real_server 198.51.100.8 80 {
    inhibit_on_failure
    $(check 8099)
  }
}
virtual_server 2001:db8:ffff::10 80 {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 2001:db8:1::1 8080 {
    $(check)
  }
  real_server 2001:db8:1::2 8080 {
    $(check)
  }
}
$(if [[ $vs5 == yes ]]; then cat <<EOT
virtual_server 203.0.113.14 443 {
  delay_loop 2
  lb_algo lc
  lb_kind NAT
  protocol TCP
  real_server 198.51.100.1 8081 {
    $(check)
  }
  real_server 198.51.100.7 8081 {
    weight 4
    $(check)
  }
}
EOT
fi)
EOF
}

# `reload_compare.sh --print STEP` shows a step's configuration (host or guest).
if [[ $RK_BIN == --print ]]; then conf "${2:?step}"; exit; fi

# shellcheck source=compare.sh
. "$LAB_DIR/compare.sh" || { echo "reload_compare.sh: cannot source $LAB_DIR/compare.sh (run the script from the repository, not a copy)"; exit 1; }
W=/tmp/rkl-reload
mkdir -p "$W"
KA_BIN=$(command -v keepalived)
SETTLE_MIN_S=${LAB_RELOAD_SETTLE_MIN_S:-8}
SETTLE_MAX_S=${LAB_RELOAD_SETTLE_MAX_S:-40}
CONF=/etc/keepalived/reload-cmp.conf

# settle KA RK: wait at least SETTLE_MIN_S, then until both tables are
# unchanged for three samples one second apart (or SETTLE_MAX_S). Prints
# the seconds waited.
settle() {
  local t1=$SECONDS prev="" cur stable=0
  while ((SECONDS - t1 < SETTLE_MAX_S)); do
    sleep 1
    cur="$(table "$1")|$(table "$2")"
    if [[ $cur == "$prev" ]]; then stable=$((stable + 1)); else stable=0; fi
    prev=$cur
    ((SECONDS - t1 >= SETTLE_MIN_S && stable >= 3)) && break
  done
  echo $((SECONDS - t1))
}

# report STEP KA RK: both tables, our reload lines since the last step, the verdict.
report() {
  local step=$1 ka=$2 rk=$3 t=$4 same=no
  table "$ka" >"$W/$step.ka"; table "$rk" >"$W/$step.rk"
  section "ka:$step" cat "$W/$step.ka"
  section "rk:$step" cat "$W/$step.rk"
  section "rkreload:$step" grep -E 'reload|virtual servers re-parsed|changed or added virtual server' "$W/$rk.log.step"
  cmp -s "$W/$step.ka" "$W/$step.rk" && same=yes
  [[ $same == no ]] && section "rklog:$step" tail -n 30 "$W/$rk.log"
  echo "LAB-RELOAD step=$step settle_s=$t ka_dests=$(grep -c '^-a' "$W/$step.ka") rk_dests=$(grep -c '^-a' "$W/$step.rk") same=$same"
}

cleanup_reload() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '/^rkl-r(ka|rk)-(dir|rs)/ {print $1}'); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
}
trap cleanup_reload EXIT

ka=rka rk=rrk
conf base >"$CONF"
pair_up "$ka"; pair_up "$rk"
start_daemon "$ka" "$KA_BIN" "$CONF"
start_daemon "$rk" "$RK_BIN" "$CONF" --status-socket "$W/$rk.sock"
: >"$W/$rk.log.step"
t=$(settle "$ka" "$rk")
report base "$ka" "$rk" "$t"
for step in weight real_servers virtual_servers vs_options lb_kind quorum back; do
  conf "$step" >"$CONF"
  lines=$(wc -l <"$W/$rk.log")
  kill -HUP "$(cat "$W/$ka.pid")" "$(cat "$W/$rk.pid")"
  t=$(settle "$ka" "$rk")
  tail -n +"$((lines + 1))" "$W/$rk.log" >"$W/$rk.log.step"
  report "$step" "$ka" "$rk" "$t"
done
stop_daemon "$ka"; stop_daemon "$rk"
echo "LAB-RELOAD done ka_exit=$(cat "$W/$ka.exit") rk_exit=$(cat "$W/$rk.exit")"
pair_down "$ka"; pair_down "$rk"
