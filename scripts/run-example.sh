#!/usr/bin/env bash
# README's first command: set up and run the daemon on the example config.
#
# The example (conf/keepalived.conf) is the classic LVS-DR director: VRRP on
# eth0 with VIP 192.0.2.100 and a virtual server with two TCP-checked web real
# servers. So that trying it never sends VRRP multicast or ARP onto a real
# network, it runs inside a private network namespace "rk-example" whose eth0
# is one end of a veth pair (documentation range 192.0.2.0/24 only), with two
# tiny web servers for the real servers in a second namespace.
# Ctrl-C stops the daemon (clean stop: priority-0 advert, VIP removed) and
# removes the namespaces. Extra arguments are passed to rkeepalived.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run-example: needs root (network namespaces, raw sockets)" >&2; exit 1; }

bash scripts/setup-deps.sh >/dev/null
cargo build --release --bin rkeepalived
bin=$PWD/target/release/rkeepalived
conf=${RK_EXAMPLE_CONF:-$PWD/conf/keepalived.conf}

ns=rk-example
web=rk-example-web
cleanup() {
  set +e
  [ -n "${web_pid:-}" ] && kill "$web_pid" 2>/dev/null
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns pids "$web" 2>/dev/null | xargs -r kill 2>/dev/null
  sleep 0.5
  ip netns del "$ns" 2>/dev/null
  ip netns del "$web" 2>/dev/null
}
trap cleanup EXIT
cleanup

ip netns add "$ns"
ip netns add "$web"
ip link add eth0 netns "$ns" type veth peer name eth0 netns "$web"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 192.0.2.2/24 dev eth0
ip -n "$ns" link set eth0 up
ip -n "$web" link set lo up
ip -n "$web" addr add 192.0.2.11/24 dev eth0
ip -n "$web" addr add 192.0.2.12/24 dev eth0
ip -n "$web" link set eth0 up
# Web servers for the TCP checks (python's http.server on both real-server addresses).
ip netns exec "$web" python3 -m http.server 80 --bind 0.0.0.0 >/dev/null 2>&1 &
web_pid=$!

mkdir -p /run/rkeepalived-example
echo "run-example: rkeepalived on $conf in netns $ns (Ctrl-C to stop)"
# The status socket follows the pid file (like keepalived, several daemons
# can run side by side): --status finds it through the same -p.
echo "run-example: inspect with: ip netns exec $ns ip -br addr; ip netns exec $ns $bin --status -p /run/rkeepalived-example/keepalived.pid"
ip netns exec "$ns" "$bin" --dont-fork --log-console --log-detail -f "$conf" \
  -p /run/rkeepalived-example/keepalived.pid -r /run/rkeepalived-example/vrrp.pid \
  -c /run/rkeepalived-example/checkers.pid "$@"
