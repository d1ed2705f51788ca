#!/usr/bin/env bash
# Topology of the connection-survival lab (survive.sh), in the guest:
#
#   survive_topology.sh up DR|NAT
#   survive_topology.sh down
#
# The addresses and names of topology.sh (client, dir1, dir2, web1, web2;
# LAN 192.0.2.0/24 on bridge rkl-lan, VIP 192.0.2.100; NAT: 198.51.100.0/24
# on bridge rkl-srv with the real servers' default route via the gateway
# VIP 198.51.100.1) plus a dedicated sync link between the directors (eth2,
# 203.0.113.11 <-> 203.0.113.12), without the web servers' httpd. Every
# step is an `ip -batch` (one process per namespace instead of one per
# command: each exec costs ~0.5 s on the emulated CPU).
set -euo pipefail

VIP=192.0.2.100
NAT_GW=198.51.100.1
NAMESPACES=(client dir1 dir2 web1 web2)

up() {
  local mode=$1 ns i
  case $mode in DR|NAT) ;; *) echo "survive_topology: unknown mode $mode (DR|NAT)" >&2; exit 2 ;; esac
  down
  # Root namespace: namespaces, bridges, veths (the inner ends created
  # directly in their namespace), the sync link.
  {
    for ns in "${NAMESPACES[@]}"; do echo "netns add $ns"; done
    echo "link add rkl-lan type bridge forward_delay 0 stp_state 0 mcast_snooping 0"
    echo "link set rkl-lan up"
    [[ $mode == NAT ]] && echo "link add rkl-srv type bridge forward_delay 0 stp_state 0 mcast_snooping 0" &&
      echo "link set rkl-srv up"
    veth() { # veth NS IFNAME BRIDGE
      echo "link add v-$1-$2 type veth peer name $2 netns $1"
      echo "link set v-$1-$2 master $3 up"
    }
    veth client eth0 rkl-lan
    veth dir1 eth0 rkl-lan
    veth dir2 eth0 rkl-lan
    if [[ $mode == NAT ]]; then
      veth dir1 eth1 rkl-srv
      veth dir2 eth1 rkl-srv
      veth web1 eth0 rkl-srv
      veth web2 eth0 rkl-srv
    else
      veth web1 eth0 rkl-lan
      veth web2 eth0 rkl-lan
    fi
    echo "link add s-dir1 netns dir1 type veth peer name s-dir2 netns dir2"
  } | ip -batch -
  nsb() { ip -n "$1" -batch -; }
  printf 'link set lo up\naddr add 192.0.2.2/24 dev eth0\nlink set eth0 up\n' | nsb client
  for i in 1 2; do
    {
      echo "link set lo up"
      echo "addr add 192.0.2.1$i/24 dev eth0"
      echo "link set eth0 up"
      if [[ $mode == NAT ]]; then
        echo "addr add 198.51.100.1$i/24 dev eth1"
        echo "link set eth1 up"
      fi
      echo "link set s-dir$i name eth2"
      echo "addr add 203.0.113.1$i/24 dev eth2"
      echo "link set eth2 up"
    } | nsb "dir$i"
    # expire_nodest_conn / conn_reuse_mode as in topology.sh (production
    # directors); NAT directors route.
    ip netns exec "dir$i" sysctl -qw net.ipv4.vs.expire_nodest_conn=1 net.ipv4.vs.conn_reuse_mode=1 \
      net.ipv4.ip_forward=$([[ $mode == NAT ]] && echo 1 || echo 0)
    {
      echo "link set lo up"
      if [[ $mode == NAT ]]; then
        echo "addr add 198.51.100.2$i/24 dev eth0"
        echo "link set eth0 up"
        echo "route add default via $NAT_GW"
      else
        echo "addr add 192.0.2.2$i/24 dev eth0"
        echo "link set eth0 up"
        echo "addr add $VIP/32 dev lo"
      fi
    } | nsb "web$i"
    if [[ $mode == DR ]]; then
      ip netns exec "web$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
        net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
    fi
  done
}

down() {
  local ns pid
  for ns in "${NAMESPACES[@]}"; do
    [[ -e /run/netns/$ns ]] || continue
    # Anything still running in our namespaces belongs to the lab.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  done
  # Deleting the root ends of the veths removes their peers at once
  # (namespace teardown is asynchronous): the next `up` can reuse the names.
  {
    ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
      grep -E '^v-(client|dir1|dir2|web1|web2)-' | sed 's/^/link del /'
    ip -o link show rkl-lan >/dev/null 2>&1 && echo "link del rkl-lan"
    ip -o link show rkl-srv >/dev/null 2>&1 && echo "link del rkl-srv"
    for ns in "${NAMESPACES[@]}"; do [[ -e /run/netns/$ns ]] && echo "netns del $ns"; done
    true
  } | ip -force -batch - 2>/dev/null || true
}

case ${1:-} in
  up) up "${2:-DR}" ;;
  down) down ;;
  *) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
