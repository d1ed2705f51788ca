#!/bin/bash
# VRRP failover benchmark, ours vs keepalived 2.2.7, in one run on one host.
#
# Lab: two nodes (network namespaces) on a bridge, documentation addresses.
# Node 1 (priority 150) is master, node 2 (priority 100) backup. We measure
# the time from killing node 1 (kill -9 of every process in its namespace,
# or SIGTERM for a graceful stop) to the VIP being added on node 2, observed
# with `ip monitor address` inside node 2 (netlink event, ~1 ms resolution).
#
# Scenarios: VRRPv2 advert_int 1 s; VRRPv3 advert_int 100 ms; and ours only
# with VRRPv3 10 ms adverts (target < 100 ms). Each is repeated $REPS times;
# the table prints the median and the min/max, the ratio ours/keepalived and
# the RFC bound: kill -9 -> Master_Down_Interval = 3 * Adver_Int + Skew_Time,
# graceful (priority 0) -> Skew_Time (RFC 5798 §6.4.2, RFC 3768 §6.4.2).
#
# Usage: bench/vrrp/failover.sh            (root; builds the vrrp-node example)
#   REPS=5 RKV_BIN=/path/to/vrrp-node bench/vrrp/failover.sh
#   RKV_DAEMON=target/debug/rkeepalived bench/vrrp/failover.sh   (drive the daemon)
set -euo pipefail

REPS=${REPS:-3}
VIP=192.0.2.100
TAG=rkv-bench$$
BR=$TAG-br
N1=$TAG-n1
N2=$TAG-n2
WORK=$(mktemp -d /tmp/rkv-bench.XXXXXX)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

die() { echo "failover.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
command -v keepalived >/dev/null || die "keepalived not installed (apt-get install keepalived)"

if [ -z "${RKV_BIN:-}" ] && [ -z "${RKV_DAEMON:-}" ]; then
    (cd "$ROOT" && cargo build -q -p rkeepalived-vrrp --example vrrp-node) || die "build failed"
    RKV_BIN=$ROOT/target/debug/examples/vrrp-node
fi

cleanup() {
    for ns in $N1 $N2 $BR; do
        ip netns pids $ns 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del $ns 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup() {
    ip netns add $BR
    ip -n $BR link add br0 type bridge
    ip -n $BR link set br0 type bridge forward_delay 0 stp_state 0
    ip -n $BR link set br0 up
    local i
    for i in 1 2; do
        local ns=$TAG-n$i
        ip netns add $ns
        ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
        ip -n $BR link add p$i type veth peer name eth0 netns $ns
        ip -n $BR link set p$i master br0 up
        ip -n $ns link set lo up
        ip -n $ns addr add 192.0.2.1$i/24 dev eth0
        ip -n $ns link set eth0 up
    done
}

# conf VERSION ADVERT PRIORITY
conf() {
    cat <<CONF
global_defs {
    router_id bench
    vrrp_garp_master_delay 0
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority $3
    version $1
    advert_int $2
    garp_master_delay 0
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
}
CONF
}

# start IMPL NODE VERSION ADVERT PRIORITY
start() {
    local impl=$1 n=$2 ns=$TAG-n$2
    local RUN=$n-$(date +%s%N)
    conf "$3" "$4" "$5" > "$WORK/n$n.conf"
    if [ "$impl" = keepalived ]; then
        # Fresh pid files per run: after kill -9 a stale pid may have been
        # reused by another process and keepalived would refuse to start.
        ip netns exec $ns keepalived -n -l -D -P -f "$WORK/n$n.conf" \
            -p "$WORK/run$RUN.pid" -r "$WORK/run$RUN.vrrp.pid" >"$WORK/n$n.log" 2>&1 &
    elif [ -n "${RKV_DAEMON:-}" ]; then
        mkdir -p "$WORK/d$n"
        ip netns exec $ns "$RKV_DAEMON" -P -n -l -f "$WORK/n$n.conf" -p "$WORK/run$RUN.pid" \
            -r "$WORK/run$RUN.vrrp.pid" --dump-dir "$WORK/d$n" --status-socket "$WORK/d$n/s.sock" \
            >"$WORK/n$n.log" 2>&1 &
    else
        RUST_LOG=warn ip netns exec $ns "$RKV_BIN" -f "$WORK/n$n.conf" >"$WORK/n$n.log" 2>&1 &
    fi
    echo $!
}

has_vip() { ip -n "$1" -o addr show dev eth0 | grep -q " $VIP/"; }
no_vip() { ! has_vip "$1"; }

wait_for() { # seconds cmd...
    local limit=$(( $(date +%s) + $1 )); shift
    until "$@"; do
        [ "$(date +%s)" -le $limit ] || return 1
        sleep 0.02
    done
}

stop_all() {
    for ns in $N1 $N2; do ip netns pids $ns | xargs -r kill -9 2>/dev/null || true; done
    sleep 0.2
    for ns in $N1 $N2; do ip -n $ns addr del $VIP/24 dev eth0 2>/dev/null || true; done
}

# measure IMPL VERSION ADVERT HOW -> prints milliseconds (or "fail")
measure() {
    local impl=$1 ver=$2 adv=$3 how=$4
    local p1
    start "$impl" 2 "$ver" "$adv" 100 >/dev/null
    p1=$(start "$impl" 1 "$ver" "$adv" 150)
    if ! wait_for 20 has_vip $N1 || ! wait_for 5 no_vip $N2; then
        echo "measure $*: node 1 never became the sole master" >&2
        tail -n 3 "$WORK/n1.log" "$WORK/n2.log" >&2
        stop_all; echo fail; return
    fi
    # Let the backup settle on the master's adverts.
    sleep "$(awk -v a="$adv" 'BEGIN { s = a * 4; if (s < 1) s = 1; print s }')"
    rm -f "$WORK/t1"
    # Every VIP add on node 2 gets a timestamp; the first one after the kill
    # is the failover. An add before the kill is a flap (backup missed adverts).
    ( ip -n $N2 monitor address 2>/dev/null | while read -r line; do
        case "$line" in *" $VIP/"*) date +%s%N >> "$WORK/t1" ;; esac
      done ) &
    local mon=$!
    sleep 0.3
    if has_vip $N2; then
        echo "measure $*: backup already holds the VIP (flap under load)" >&2
        kill $mon 2>/dev/null || true; pkill -P "$mon" 2>/dev/null || true
        stop_all; echo flap; return
    fi
    # Kill at a random phase of the advert cycle, so that medians of both
    # implementations sample the same distribution (kill -9 failover is
    # Master_Down_Interval minus the time since the last advert).
    sleep "$(awk -v a="$adv" -v r="$RANDOM" 'BEGIN { printf "%.3f", a * r / 32768 }')"
    local t0
    t0=$(date +%s%N)
    if [ "$how" = kill9 ]; then
        # Freeze every process first: keepalived's VRRP child gets SIGTERM
        # when its parent dies (PR_SET_PDEATHSIG) and could otherwise still
        # send a priority-0 advert, turning the crash into a graceful stop.
        local pids; pids=$(ip netns pids $N1)
        kill -STOP $pids; kill -9 $pids
    else
        kill -TERM "$p1"
    fi
    local t1=
    after() { [ -s "$WORK/t1" ] && t1=$(awk -v t0="$t0" '$1 > t0 { print; exit }' "$WORK/t1") && [ -n "$t1" ]; }
    if wait_for 20 after; then
        echo $(( (t1 - t0) / 1000000 ))
    else
        echo "measure $*: VIP never appeared on node 2" >&2
        tail -n 3 "$WORK/n2.log" >&2
        echo fail
    fi
    kill $mon 2>/dev/null || true
    pkill -P "$mon" 2>/dev/null || true  # the monitor pipeline (by parent pid)
    stop_all
    wait_for 5 bash -c "[ -z \"\$(ip netns pids $N1)\" ]" || true
}

stats() { # values... -> "median min max"
    printf '%s\n' "$@" | grep -E '^[0-9]+$' | sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "fail - -"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%d %d %d\n", m, v[1], v[NR] }'
}

# RFC bound in ms for backup priority 100: kill9 -> 3*adv + skew, graceful -> skew.
bound() { # version advert how
    awk -v v="$1" -v a="$2" -v h="$3" 'BEGIN {
        ms = a * 1000
        skew = (v == 2) ? (256 - 100) / 256 * 1000 : (256 - 100) * ms / 256
        printf "%.0f", (h == "kill9") ? 3 * ms + skew : skew }'
}

setup
printf '%-10s %-9s %-9s %14s %14s %7s %9s\n' scenario stop impl "median ms" "min-max ms" ratio "RFC ms"
for scen in "2 1" "3 0.1" "3 0.01"; do
    set -- $scen
    ver=$1 adv=$2
    for how in kill9 graceful; do
        declare -A med=()
        for impl in ours keepalived; do
            # keepalived's timers cannot follow 10 ms adverts: ours only.
            if [ "$adv" = 0.01 ] && [ "$impl" = keepalived ]; then continue; fi
            vals=()
            for _ in $(seq "$REPS"); do vals+=("$(measure $impl $ver $adv $how)"); done
            read -r m lo hi <<<"$(stats "${vals[@]}")"
            flaps=$(printf '%s\n' "${vals[@]}" | grep -c flap || true)
            [ "$flaps" = 0 ] || lo="$lo($flaps flaps)"
            med[$impl]=$m
            ratio=-
            if [ "$impl" = keepalived ] && [ "${med[ours]:-fail}" != fail ] && [ "$m" != fail ] && [ "$m" -gt 0 ]; then
                ratio=$(awk -v o="${med[ours]}" -v k="$m" 'BEGIN { printf "%.2f", o / k }')
            fi
            printf '%-10s %-9s %-9s %14s %14s %7s %9s\n' "v$ver/${adv}s" $how $impl "$m" "$lo-$hi" "$ratio" "$(bound $ver $adv $how)"
        done
        unset med
    done
done
echo "ratio = ours median / keepalived median (lower is faster); REPS=$REPS per row; ours: ${RKV_DAEMON:-$RKV_BIN}"
echo "kill9 failover = Master_Down_Interval minus time since the last advert, so values below the RFC bound are expected."
