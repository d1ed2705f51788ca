#!/usr/bin/env bash
# Classic two-director LVS lab inside the lab guest (or any root shell with
# IPVS; it only touches namespaces and bridges it creates).
#
#   topology.sh up MODE     MODE = DR | NAT | TUN
#   topology.sh down
#
# LAN 192.0.2.0/24 on bridge rkl-lan:
#   client 192.0.2.2   dir1 192.0.2.11   dir2 192.0.2.12   VIP 192.0.2.100
#   DR/TUN: web1 192.0.2.21  web2 192.0.2.22 (VIP on lo or tunl0, arp_ignore=1,
#           arp_announce=2)
# NAT: second net 198.51.100.0/24 on bridge rkl-srv: dir1 .11, dir2 .12 (eth1),
#      gateway VIP 198.51.100.1 (held by the VRRP master), web1 .21, web2 .22
#      with their default route via the gateway VIP.
# Every web server runs busybox httpd on :80 and :8080 answering "webN port".
set -euo pipefail

VIP=192.0.2.100
NAT_GW=198.51.100.1
NAMESPACES=(client dir1 dir2 web1 web2)
WWW_ROOT=${LAB_WWW_ROOT:-/tmp/rkl-www}
PIDS_DIR=${LAB_TOPO_RUN:-/run/rkl-topo}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# link NS IFNAME BRIDGE ADDR/PLEN
link() {
  local ns=$1 ifname=$2 br=$3 addr=$4 peer="v-$1-$2"
  ip link add "$peer" type veth peer name "$ifname" netns "$ns"
  ip link set "$peer" master "$br" up
  nsx "$ns" ip addr add "$addr" dev "$ifname"
  nsx "$ns" ip link set "$ifname" up
}

bridge_up() {
  ip link add "$1" type bridge
  # Forward at once (no STP listening delay), no multicast snooping surprises.
  ip link set "$1" type bridge forward_delay 0 stp_state 0 mcast_snooping 0
  ip link set "$1" up
}

# start_httpd NS NAME PORT: busybox httpd in the foreground, pid in $PIDS_DIR.
start_httpd() {
  local ns=$1 name=$2 port=$3 dir=$WWW_ROOT/$2-$3
  mkdir -p "$dir"
  echo "$name $port" >"$dir/index.html"
  # Not via nsx: $! must be the server itself (ip netns exec execs it).
  ip netns exec "$ns" busybox httpd -f -p "0.0.0.0:$port" -h "$dir" </dev/null >/dev/null 2>&1 &
  echo $! >"$PIDS_DIR/httpd-$name-$port.pid"
}

real_server_sysctls() {
  local ns=$1
  nsx "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
    net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
}

up() {
  local mode=${1:-DR} i ns
  case $mode in DR|NAT|TUN) ;; *) echo "topology: unknown mode $mode (DR|NAT|TUN)" >&2; exit 2 ;; esac
  down
  mkdir -p "$PIDS_DIR" "$WWW_ROOT"
  echo "$mode" >"$PIDS_DIR/mode"
  for ns in "${NAMESPACES[@]}"; do
    ip netns add "$ns"
    nsx "$ns" ip link set lo up
  done
  # Production LVS directors expire connections whose real server was
  # removed (otherwise the kernel keeps steering a reused client port to the
  # dead server, and those requests fail long after the checker reacted).
  for ns in dir1 dir2; do
    nsx "$ns" sysctl -qw net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.conn_reuse_mode=1 ||
      echo "topology: warning: cannot set net.ipv4.vs sysctls in $ns (ip_vs not loaded?)" >&2
  done
  bridge_up rkl-lan
  link client eth0 rkl-lan 192.0.2.2/24
  link dir1 eth0 rkl-lan 192.0.2.11/24
  link dir2 eth0 rkl-lan 192.0.2.12/24
  if [[ $mode == NAT ]]; then
    bridge_up rkl-srv
    link dir1 eth1 rkl-srv 198.51.100.11/24
    link dir2 eth1 rkl-srv 198.51.100.12/24
    for i in 1 2; do
      link "web$i" eth0 rkl-srv "198.51.100.2$i/24"
      nsx "web$i" ip route add default via "$NAT_GW"
    done
    for ns in dir1 dir2; do nsx "$ns" sysctl -qw net.ipv4.ip_forward=1; done
  else
    for i in 1 2; do
      link "web$i" eth0 rkl-lan "192.0.2.2$i/24"
      real_server_sysctls "web$i"
    done
  fi
  for i in 1 2; do
    case $mode in
      DR) nsx "web$i" ip addr add "$VIP/32" dev lo ;;
      TUN)
        # The ipip module's fallback tunl0 exists in every namespace.
        nsx "web$i" ip link set tunl0 up
        nsx "web$i" ip addr add "$VIP/32" dev tunl0
        nsx "web$i" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0 \
          net.ipv4.conf.default.rp_filter=0
        ;;
    esac
    start_httpd "web$i" "web$i" 80
    start_httpd "web$i" "web$i" 8080
  done
}

down() {
  local f ns
  if [[ -d $PIDS_DIR ]]; then
    for f in "$PIDS_DIR"/*.pid; do
      [[ -e $f ]] || continue
      kill -9 "$(cat "$f")" 2>/dev/null || true
      rm -f "$f"
    done
  fi
  for ns in "${NAMESPACES[@]}"; do
    if ip netns pids "$ns" >/dev/null 2>&1; then
      # Anything still running in our namespaces belongs to the lab.
      for f in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$f" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  # Namespace teardown is asynchronous in the kernel: delete our veth ends
  # explicitly so a following `up` can reuse their names at once.
  for f in $(ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
             grep -E '^v-(client|dir1|dir2|web1|web2)-'); do
    ip link del "$f" 2>/dev/null || true
  done
  ip link del rkl-lan 2>/dev/null || true
  ip link del rkl-srv 2>/dev/null || true
}

case ${1:-} in
  up) up "${2:-DR}" ;;
  down) down ;;
  *) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
