#!/bin/bash
# The kernel's floor under many.sh's failover row: how long does it take just
# to add the 4,000 IPv6 VIPs of 1,000 instances to 250 interfaces, with no
# VRRP daemon at all? `ip -batch` sends one RTM_NEWADDR per address over one
# netlink socket and waits for each ack, as keepalived (netlink_ipaddress())
# and ours (rkeepalived_vrrp::addr) do; the addresses and flags are the ones
# many_gen.py gives the daemons (2001:db8:<VID>:<VRID>::<n>/64, nodad,
# preferred_lft forever). If this alone takes longer than the slack between
# Master_Down_Interval and the bound (+10 %), no implementation can meet the
# 100 ms failover target on this host.
#
# Usage (root): flock /tmp/rkd-bench.lock bench/vrrp/vip_floor.sh
#   VLANS=250 PER_VLAN=4 VIPS=4 REPS=5 PERF=file (perf record -a -g of one rep)
set -euo pipefail
VLANS=${VLANS:-250}
PER_VLAN=${PER_VLAN:-4}
VIPS=${VIPS:-4}
REPS=${REPS:-5}
VID0=10
TAG=rkvf-$$
NS=$TAG-n1
PEER=$TAG-n2
[ "$(id -u)" = 0 ] || { echo "vip_floor.sh: must run as root" >&2; exit 1; }
cleanup() { ip netns del $NS 2>/dev/null || true; ip netns del $PEER 2>/dev/null || true; rm -f "${BATCH:-}"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
BATCH=$(mktemp /tmp/rkvf.XXXXXX)
for ns in $NS $PEER; do
    ip netns add $ns
    ip netns exec $ns sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n $ns link set lo up
done
for v in $(seq $VID0 $((VID0 + VLANS - 1))); do
    echo "link add vl$v type veth peer name vl$v netns $PEER"
    echo "link set vl$v up"
done | ip -n $NS -batch -
for v in $(seq $VID0 $((VID0 + VLANS - 1))); do echo "link set vl$v up"; done | ip -n $PEER -batch -
for v in $(seq $VID0 $((VID0 + VLANS - 1))); do
    for r in $(seq 1 "$PER_VLAN"); do
        vrid=$((VID0 + r - 1))
        for n in $(seq 1 "$VIPS"); do
            printf 'addr add 2001:db8:%x:%x::%x/64 dev vl%d nodad preferred_lft forever\n' "$v" "$vrid" "$n" "$v"
        done
    done
done > "$BATCH"
total=$(wc -l < "$BATCH")
echo "# $(date -u '+%F %T') UTC, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r); $VLANS interfaces, $total IPv6 addresses"
for rep in $(seq 1 "$REPS"); do
    ip -n $NS -6 addr flush scope global
    perfp=
    if [ "$rep" = 1 ] && [ -n "${PERF:-}" ]; then
        perf record -q -a -g -o "$PERF" 2>/dev/null & perfp=$!
        sleep 1
    fi
    t0=$EPOCHREALTIME
    ip -n $NS -batch "$BATCH"
    t1=$EPOCHREALTIME
    [ -n "$perfp" ] && { kill -INT $perfp; wait $perfp 2>/dev/null || true; }
    n=$(ip -n $NS -6 -o addr show scope global | wc -l)
    awk -v a="$t0" -v b="$t1" -v n="$n" -v rep="$rep" 'BEGIN { printf "rep %d: %d addresses in %.1f ms (%.1f us each)\n", rep, n, 1000 * (b - a), 1e6 * (b - a) / n }'
done
