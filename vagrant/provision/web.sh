#!/usr/bin/env bash
# Provisions an LVS-DR real server: nginx answering with its hostname, the
# VIP on lo, and the ARP sysctls that keep it from answering ARP for the VIP.
#   web.sh NAME VIP [CLIENT_NET ROUTER_IP]
# With CLIENT_NET (the scale-out topology, RKL_TOPOLOGY=ecmp) replies to
# clients there go straight back through ROUTER_IP (LVS-DR: not through a
# director).
set -euo pipefail
# Shared functions: next to this script when run from the repository, in
# the synced repository when the Vagrantfile uploaded this script alone.
LIB=$(dirname "$0")/lib.sh
[[ -r $LIB ]] || LIB=${RKL_REPO:-/vagrant}/vagrant/provision/lib.sh
# shellcheck source=vagrant/provision/lib.sh
. "$LIB"
NAME=${1:?name}
VIP=${2:?vip}
CLIENT_NET=${3:-}
ROUTER_IP=${4:-}

export DEBIAN_FRONTEND=noninteractive
ensure_packages nginx-light curl

echo "$NAME" >/var/www/html/index.html
systemctl enable --now nginx
systemctl reload nginx

# arp_ignore=1: answer ARP only for addresses on the receiving interface;
# arp_announce=2: never use the VIP as ARP source. Persisted for reboots.
cat >/etc/sysctl.d/90-lvs-dr.conf <<SYSCTL
net.ipv4.conf.all.arp_ignore = 1
net.ipv4.conf.all.arp_announce = 2
net.ipv4.conf.default.arp_ignore = 1
net.ipv4.conf.default.arp_announce = 2
SYSCTL
sysctl -q --system

# The VIP on lo, now and at every boot.
vip_on_lo_unit lvs-dr-vip.service "LVS-DR: VIP $VIP on lo" "$VIP"
systemctl daemon-reload
systemctl enable --now lvs-dr-vip.service
ip -4 addr show dev lo

if [[ -n $CLIENT_NET ]]; then
  cat >/etc/systemd/system/rkl-client-route.service <<UNIT
[Unit]
Description=LVS-DR: replies to $CLIENT_NET via the router $ROUTER_IP
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/ip route replace $CLIENT_NET via $ROUTER_IP
ExecStop=/sbin/ip route del $CLIENT_NET via $ROUTER_IP

[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
  systemctl enable --now rkl-client-route.service
  ip route get "${CLIENT_NET%/*}"
fi
