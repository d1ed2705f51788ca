#!/bin/bash
# VRRP failover benchmark, ours vs keepalived 2.2.7, in one run on one host.
#
# Lab: two nodes (network namespaces) on a bridge, documentation addresses.
# Node 1 (192.0.2.11, priority 150) is master, node 2 (192.0.2.12, priority
# 100) backup. Node 1 is killed (kill -9 of every process in its namespace,
# frozen first) or stopped gracefully (SIGTERM -> priority-0 advert), and in
# node 2's namespace we record, with timestamps and no fork per event:
#   * every RTM_NEWADDR of the VIP     (`ip -ts monitor address`, netlink event)
#   * every advert node 1 sent         (`tcpdump -tt`, kernel receive stamps)
# and the kill time ($EPOCHREALTIME, a bash builtin). Two delays per failover:
#   kill -> VIP         what an operator sees; depends on the kill's phase in
#                       the advert cycle (kill at a random phase each time);
#   last advert -> VIP  what the RFC bounds, phase independent: for kill -9
#                       Master_Down_Interval = 3 * Master_Adver_Interval +
#                       Skew_Time, for a graceful stop Skew_Time counted from
#                       the priority-0 advert (RFC 5798 §6.4.2, RFC 3768 §6.4.2).
#
# Scenarios: VRRPv2 advert_int 1 s, VRRPv3 100 ms and 10 ms (target < 100 ms).
# Each row is $REPS failovers: median and min-max, ratio = ours / keepalived
# median, the RFC bound for priority 100 (skew exact, not rounded to
# centiseconds) and last advert -> VIP as a percentage of that bound.
#
# Usage (root):  flock /tmp/rkd-bench.lock bench/vrrp/failover.sh
#   REPS=11              failovers per row
#   SCENARIOS="2:1 3:0.1 3:0.01"   version:advert_int pairs to run
#   STOPS="kill9 graceful"
#   KA_FAST=0            skip keepalived at advert_int < 0.1 (default: run it)
#   RKV_DAEMON=path      our daemon (default: release build of rkeepalived),
#                        run like keepalived: -P -n -l -D -G (same log detail;
#                        -G: no syslog, see many.sh: without a /dev/log
#                        listener glibc writes each keepalived line to /dev/console)
#   RKV_BIN=path         drive the vrrp-node example instead (engine only,
#                        warn-level logs: not like for like with keepalived)
#   VIPS=1               VIPs per instance (>1: 198.51.100.100.., time to the last)
#   RAW=file             append every failover's raw numbers to file
#   KEEP=dir             keep every failover's observer logs (debugging)
set -euo pipefail

REPS=${REPS:-11}
SCENARIOS=${SCENARIOS:-"2:1 3:0.1 3:0.01"}
STOPS=${STOPS:-"kill9 graceful"}
KA_FAST=${KA_FAST:-1}
VIPS=${VIPS:-1}
[ "$VIPS" -ge 1 ] && [ "$VIPS" -le 100 ] || { echo "failover.sh: VIPS must be 1..100" >&2; exit 1; }
VIP=192.0.2.100                                 # the first VIP
VIP_LIST=$(for i in $(seq 0 $((VIPS - 1))); do printf '198.51.100.%d ' $((100 + i)); done)
[ "$VIPS" = 1 ] && VIP_LIST=$VIP
LAST_VIP=${VIP_LIST% }; LAST_VIP=${LAST_VIP##* }  # failover is done when this one is up
MASTER_IP=192.0.2.11
TAG=rkvb-$$
BR=$TAG-br
N1=$TAG-n1
N2=$TAG-n2
WORK=$(mktemp -d /tmp/rkvb-bench.XXXXXX)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

die() { echo "failover.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (network namespaces)"
for tool in keepalived tcpdump python3 ip; do
    command -v $tool >/dev/null || die "$tool not installed (apt-get install keepalived tcpdump python3 iproute2)"
done
[ -n "${EPOCHREALTIME:-}" ] || die "bash >= 5 needed (EPOCHREALTIME)"

if [ -z "${RKV_BIN:-}" ] && [ -z "${RKV_DAEMON:-}" ]; then
    (cd "$ROOT" && cargo build -q --release --bin rkeepalived) || die "build failed"
    RKV_DAEMON=$ROOT/target/release/rkeepalived
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
$(for v in $VIP_LIST; do echo "        $v/24 dev eth0"; done)
    }
}
CONF
}

# start IMPL NODE VERSION ADVERT PRIORITY -> pid
start() {
    local impl=$1 n=$2 ns=$TAG-n$2
    local RUN=$n-$RANDOM$RANDOM
    conf "$3" "$4" "$5" > "$WORK/n$n.conf"
    if [ "$impl" = keepalived ]; then
        # Fresh pid files per run: after kill -9 a stale pid may have been
        # reused by another process and keepalived would refuse to start.
        ip netns exec $ns keepalived -n -l -D -G -P -f "$WORK/n$n.conf" \
            -p "$WORK/run$RUN.pid" -r "$WORK/run$RUN.vrrp.pid" >"$WORK/n$n.log" 2>&1 &
    elif [ -n "${RKV_DAEMON:-}" ]; then
        mkdir -p "$WORK/d$n"
        ip netns exec $ns "$RKV_DAEMON" -P -n -l -D -G -f "$WORK/n$n.conf" -p "$WORK/run$RUN.pid" \
            -r "$WORK/run$RUN.vrrp.pid" --dump-dir "$WORK/d$n" --status-socket "$WORK/d$n/s.sock" \
            >"$WORK/n$n.log" 2>&1 &
    else
        RUST_LOG=warn ip netns exec $ns "$RKV_BIN" -f "$WORK/n$n.conf" >"$WORK/n$n.log" 2>&1 &
    fi
    echo $!
}

has_vip() { ip -n "$1" -o addr show dev eth0 | grep -q " $LAST_VIP/"; }
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
    for ns in $N1 $N2; do
        for v in $VIP_LIST; do ip -n $ns addr del $v/24 dev eth0 2>/dev/null || true; done
    done
}

# Observers in node 2: VIP events and node 1's adverts, both timestamped.
start_observers() {
    : > "$WORK/mon"; : > "$WORK/cap"; : > "$WORK/cap.err"
    TZ=UTC ip -n $N2 -ts monitor address > "$WORK/mon" 2>/dev/null &
    MON_PID=$!
    ip netns exec $N2 tcpdump --immediate-mode -tt -n -l -i eth0 "ip proto 112" \
        > "$WORK/cap" 2> "$WORK/cap.err" &
    CAP_PID=$!
    wait_for 5 grep -q "listening on" "$WORK/cap.err" || echo "tcpdump did not start" >&2
}

stop_observers() {
    kill "$MON_PID" "$CAP_PID" 2>/dev/null || true
    wait "$MON_PID" "$CAP_PID" 2>/dev/null || true
}

# Wait (at most $1 s) for the last VIP's add in the monitor log without forking: the
# backup must not compete with this script for the 2 CPUs during a failover.
wait_vip_event() {
    local limit=$((SECONDS + $1)) line partial= fd
    exec {fd}<"$WORK/mon"
    while [ $SECONDS -le $limit ]; do
        while IFS= read -r line <&$fd; do
            line=$partial$line partial=
            if [[ $line == *" $LAST_VIP/"* && $line != *Deleted* ]]; then
                exec {fd}<&-
                return 0
            fi
        done
        partial=$partial$line  # a line still being written
        read -r -t 0.01 -u $IDLE_FD _ || true  # fork-free 10 ms sleep
    done
    exec {fd}<&-
    return 1
}

# measure IMPL VERSION ADVERT HOW REP -> "KILL_MS LAST_MS PRIO PHASE_MS" (or "fail ..."/"flap ...")
measure() {
    local impl=$1 ver=$2 adv=$3 how=$4 rep=$5
    local p1
    start "$impl" 2 "$ver" "$adv" 100 >/dev/null
    p1=$(start "$impl" 1 "$ver" "$adv" 150)
    if ! wait_for 20 has_vip $N1 || ! wait_for 5 no_vip $N2; then
        echo "measure $*: node 1 never became the sole master" >&2
        tail -n 3 "$WORK/n1.log" "$WORK/n2.log" >&2
        stop_all; echo fail never-master; return
    fi
    start_observers
    # Let the backup settle on the master's adverts (and learn v3 intervals).
    sleep "$(awk -v a="$adv" 'BEGIN { s = a * 2; if (s < 0.5) s = 0.5; print s }')"
    # Kill at phase (REP + 0.5) / REPS of the advert cycle, counted from the
    # master's last advert: both implementations get the same phases, so
    # kill -> VIP compares engines, not luck. (The realised phase is a few ms
    # later, fork + sleep; events.py reports it.)
    local last wait_s
    last=$(awk -v m="$MASTER_IP" '$3 == m { t = $1 } END { print t }' "$WORK/cap")
    wait_s=$(awk -v l="${last:-0}" -v now="$EPOCHREALTIME" -v a="$adv" -v k="$rep" -v n="$REPS" 'BEGIN {
        t = (l > 0) ? l + a * (k + 0.5) / n : now
        while (t < now + 0.02) t += a
        printf "%.6f", t - now }')
    sleep "$wait_s"
    local t0 pids
    if [ "$how" = kill9 ]; then
        # Freeze every process first: keepalived's VRRP child gets SIGTERM
        # when its parent dies (PR_SET_PDEATHSIG) and could otherwise still
        # send a priority-0 advert, turning the crash into a graceful stop.
        pids=$(ip netns pids $N1)
        t0=$EPOCHREALTIME
        kill -STOP $pids; kill -9 $pids
    else
        t0=$EPOCHREALTIME
        kill -TERM "$p1"
    fi
    if wait_vip_event 20; then
        sleep 0.05  # let the observers write their last lines
        stop_observers
        python3 "$HERE/events.py" "$t0" "$WORK/mon" "$WORK/cap" "$how" "${VIP_LIST% }" "$MASTER_IP"
        if [ -n "${KEEP:-}" ]; then
            local d; d=$KEEP/$impl-v$ver-$adv-$how-$rep; mkdir -p "$d"
            echo "$t0" > "$d/t0"; cp "$WORK/mon" "$WORK/cap" "$WORK"/n?.log "$d/" 2>/dev/null || true
        fi
    else
        stop_observers
        echo "measure $*: VIP never appeared on node 2" >&2
        tail -n 3 "$WORK/n2.log" >&2
        echo fail no-failover
    fi
    stop_all
    wait_for 5 bash -c "[ -z \"\$(ip netns pids $N1)\" ]" || true
}

stats() { # values... -> "median min max" (numeric values only)
    printf '%s\n' "$@" | grep -E '^[0-9]+(\.[0-9]+)?$' | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "fail - -"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}

# RFC bound in ms for backup priority 100: kill9 -> 3*adv + skew, graceful -> skew.
bound() { # version advert how
    awk -v v="$1" -v a="$2" -v h="$3" 'BEGIN {
        ms = a * 1000
        skew = (v == 2) ? (256 - 100) / 256 * 1000 : (256 - 100) * ms / 256
        printf "%.1f", (h == "kill9") ? 3 * ms + skew : skew }'
}

ratio() { awk -v o="$1" -v k="$2" 'BEGIN { if (o == "fail" || k == "fail" || k + 0 <= 0) print "-"; else printf "%.2f", o / k }'; }

setup
exec {IDLE_FD}<> <(:)  # never readable: `read -t` on it sleeps without a fork
echo "# $(date -u '+%F %T') UTC, $(nproc) CPUs, kernel $(uname -r), $(keepalived -v 2>&1 | head -n 1)"
echo "# ours: ${RKV_DAEMON:-$RKV_BIN}; REPS=$REPS; VIPS=$VIPS (VIP = all of them installed)"
fmt='%-9s %-8s %-10s %7s %15s %7s %7s %15s %7s %7s %6s\n'
printf "$fmt" scenario stop impl "kill->VIP" "min-max" ratio "last->VIP" "min-max" ratio "RFC" "%RFC"
for scen in $SCENARIOS; do
    ver=${scen%%:*} adv=${scen#*:}
    for how in $STOPS; do
        kmed=fail lmed=fail
        for impl in ours keepalived; do
            if [ "$impl" = keepalived ] && [ "$KA_FAST" = 0 ] && awk -v a="$adv" 'BEGIN { exit !(a < 0.1) }'; then
                continue
            fi
            kills=() lasts=() bad=()
            for rep in $(seq 0 $((REPS - 1))); do
                read -r k l p ph <<<"$(measure $impl $ver $adv $how $rep)"
                [ -n "${RAW:-}" ] && echo "v$ver/${adv}s $how $impl $k $l $p $ph" >> "$RAW"
                case $k in
                    fail|flap) bad+=("$k:$l") ;;
                    *) kills+=("$k"); lasts+=("$l") ;;
                esac
            done
            read -r km klo khi <<<"$(stats "${kills[@]}")"
            read -r lm llo lhi <<<"$(stats "${lasts[@]}")"
            b=$(bound $ver $adv $how)
            kr=- lr=-
            if [ "$impl" = ours ]; then
                kmed=$km lmed=$lm
            else
                kr=$(ratio "$kmed" "$km"); lr=$(ratio "$lmed" "$lm")
            fi
            pct=$(awk -v l="$lm" -v b="$b" 'BEGIN { if (l == "fail") print "-"; else printf "%.0f%%", 100 * l / b }')
            printf "$fmt" "v$ver/${adv}s" $how $impl "$km" "$klo-$khi" "$kr" "$lm" "$llo-$lhi" "$lr" "$b" "$pct"
            if [ ${#bad[@]} -gt 0 ]; then
                echo "          ${#bad[@]} of $REPS failovers not counted: ${bad[*]}"
            fi
        done
    done
done
echo "ratio = ours median / keepalived median (lower is faster). RFC = Master_Down_Interval (kill9) or"
echo "Skew_Time (graceful) for priority 100; %RFC = last advert -> VIP median / RFC."
