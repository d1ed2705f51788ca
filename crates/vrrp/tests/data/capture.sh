#!/bin/sh
# Capture real keepalived adverts (v2 PASS/IPv4, v3/IPv4, v3/IPv6, priority-0 on stop)
# into a pcap. Usage: capture.sh OUT.pcap [NETNS]
# RKP_CAPTURE_CONF (default keepalived-golden.conf, relative to this directory) and
# RKP_CAPTURE_FILTER (default: VRRP over IPv4/IPv6) select another capture, e.g. the
# IPsec AH one: RKP_CAPTURE_CONF=keepalived-ah.conf RKP_CAPTURE_FILTER='ip proto 51'.
# Needs root, keepalived, tcpdump, iproute2. Cleans up the netns and processes on exit.
set -eu
out=$(readlink -f "$1")
ns=${2:-rkp-cap-$$}
peer=${ns}p
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/rkp-cap.XXXXXX)
kpid=""; tpid=""
cleanup() {
    [ -n "$kpid" ] && kill "$kpid" 2>/dev/null || true
    [ -n "$tpid" ] && kill "$tpid" 2>/dev/null || true
    sleep 0.2
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns pids "$peer" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    ip netns del "$peer" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
ip netns add "$ns"
ip netns add "$peer"
ip -n "$ns" link set lo up
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip -n "$ns" link add rkpveth0 type veth peer name rkpveth1 netns "$peer"
ip -n "$ns" addr add 192.0.2.1/24 dev rkpveth0
ip -n "$ns" addr add 198.51.100.1/24 dev rkpveth0
ip -n "$ns" link set rkpveth0 address 02:00:00:00:00:01
ip -n "$peer" link set rkpveth1 address 02:00:00:00:00:02
ip -n "$peer" addr add 192.0.2.2/24 dev rkpveth1
ip -n "$ns" link set rkpveth0 up
ip -n "$peer" link set rkpveth1 up
# Fixed link-local address so the IPv6 capture is reproducible.
ip -n "$ns" addr add fe80::1/64 dev rkpveth0 nodad
conf="$here/${RKP_CAPTURE_CONF:-keepalived-golden.conf}"
filter=${RKP_CAPTURE_FILTER:-ip proto 112 or ip6 proto 112}
ip netns exec "$peer" tcpdump -q -n -U -i rkpveth1 -w "$out" "$filter" 2>"$tmp/tcpdump.log" &
tpid=$!
sleep 1
ip netns exec "$ns" keepalived -n -l -D -P -f "$conf" \
    -p "$tmp/k.pid" -r "$tmp/v.pid" -c "$tmp/c.pid" --vrrp >"$tmp/keepalived.log" 2>&1 &
kpid=$!
sleep "${RKP_CAPTURE_SECS:-7}"
cp "$tmp/keepalived.log" "${RKP_CAPTURE_LOG:-/dev/null}" 2>/dev/null || true
kill -TERM "$kpid"; wait "$kpid" 2>/dev/null || true; kpid=""
sleep 1
kill "$tpid"; wait "$tpid" 2>/dev/null || true; tpid=""
echo "captured to $out"
