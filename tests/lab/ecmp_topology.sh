#!/usr/bin/env bash
# Topology of the ECMP active-active director lab (ecmp.sh), in the guest:
#
#   ecmp_topology.sh up [DIRECTORS]   (DIRECTORS namespaces d1..dN, default 4)
#   ecmp_topology.sh down
#
#   client (203.0.113.2/24) --veth-- rtr eth0 (203.0.113.1/24)
#   rtr eth1 198.51.100.1/24 --- bridge ecmp-lan --- d1..dN eth0 198.51.100.1N/24
#                                              \--- rs1..rs3 eth0 198.51.100.2N/24
#
# One L2 segment for the router, the directors and the real servers (LVS-DR
# needs directors and real servers on one L2). The VIP 192.0.2.100/32 is on
# lo of every director (IPVS needs it local; no VRRP) and of every real
# server (DR); both have arp_ignore=1/arp_announce=2 on eth0, so nobody
# answers ARP for the VIP on the LAN: the router reaches it only through
# the routes the directors announce over BGP. Router: ip_forward,
# fib_multipath_hash_policy=1 (L4 hash: one client's flows spread), no
# rp_filter. Directors: sloppy_tcp (conf/examples/anycast-sysctl.conf).
# Every step is an `ip -batch` (each exec costs ~0.5 s of TCG).
set -euo pipefail

VIP=192.0.2.100
RS_COUNT=3

namespaces() {
  local n=$1 i
  echo client rtr
  for ((i = 1; i <= n; i++)); do echo "d$i"; done
  for ((i = 1; i <= RS_COUNT; i++)); do echo "rs$i"; done
}

up() {
  local n=$1 ns i
  ((n >= 1 && n <= 9)) || { echo "ecmp_topology: 1..9 directors" >&2; exit 2; }
  down
  read -ra NS <<<"$(namespaces "$n" | tr "\n" " ")"
  {
    for ns in "${NS[@]}"; do echo "netns add $ns"; done
    echo "link add ecmp-lan type bridge forward_delay 0 stp_state 0 mcast_snooping 0"
    echo "link set ecmp-lan up"
    echo "link add eth0 netns client type veth peer name eth0 netns rtr"
    veth() { # veth NS: NS's eth0 on the bridge
      echo "link add e-$1 type veth peer name ${2:-eth0} netns $1"
      echo "link set e-$1 master ecmp-lan up"
    }
    veth rtr eth1
    for ((i = 1; i <= n; i++)); do veth "d$i"; done
    for ((i = 1; i <= RS_COUNT; i++)); do veth "rs$i"; done
  } | ip -batch -
  nsb() { ip -n "$1" -batch -; }
  printf 'link set lo up\naddr add 203.0.113.2/24 dev eth0\nlink set eth0 up\nroute add default via 203.0.113.1\n' |
    nsb client
  printf 'link set lo up\naddr add 203.0.113.1/24 dev eth0\nlink set eth0 up\naddr add 198.51.100.1/24 dev eth1\nlink set eth1 up\n' |
    nsb rtr
  ip netns exec rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0
  for ((i = 1; i <= n; i++)); do
    printf 'link set lo up\naddr add %s/32 dev lo\naddr add 198.51.100.1%d/24 dev eth0\nlink set eth0 up\nroute add default via 198.51.100.1\n' \
      "$VIP" "$i" | nsb "d$i"
    # anycast-sysctl.conf, plus the DR director's ARP settings for the VIP.
    ip netns exec "d$i" sysctl -qw net.ipv4.vs.sloppy_tcp=1 net.ipv4.vs.conntrack=0 \
      net.ipv4.vs.expire_nodest_conn=1 \
      net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
      net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
  done
  for ((i = 1; i <= RS_COUNT; i++)); do
    printf 'link set lo up\naddr add %s/32 dev lo\naddr add 198.51.100.2%d/24 dev eth0\nlink set eth0 up\nroute add default via 198.51.100.1\n' \
      "$VIP" "$i" | nsb "rs$i"
    ip netns exec "rs$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
      net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
  done
}

down() {
  local ns pid
  read -ra NS <<<"$(namespaces 9 | tr "\n" " ")"
  for ns in "${NS[@]}"; do
    [[ -e /run/netns/$ns ]] || continue
    # Anything still running in our namespaces belongs to the lab.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  done
  {
    ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
      grep -E '^e-(rtr|d[0-9]|rs[0-9])$' | sed 's/^/link del /'
    ip -o link show ecmp-lan >/dev/null 2>&1 && echo "link del ecmp-lan"
    for ns in "${NS[@]}"; do [[ -e /run/netns/$ns ]] && echo "netns del $ns"; done
    true
  } | ip -force -batch - 2>/dev/null || true
}

case ${1:-} in
  up) up "${2:-4}" ;;
  down) down ;;
  *) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
