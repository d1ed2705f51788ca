#!/usr/bin/env bash
# Provisions an LVS-DR real server: nginx answering with its hostname, the
# VIP on lo, and the ARP sysctls that keep it from answering ARP for the VIP.
#   web.sh NAME VIP [CLIENT_NET ROUTER_IP]
# With CLIENT_NET (the scale-out topology, RKL_TOPOLOGY=ecmp) replies to
# clients there go straight back through ROUTER_IP (LVS-DR: not through a
# director).
set -euo pipefail
NAME=${1:?name}
VIP=${2:?vip}
CLIENT_NET=${3:-}
ROUTER_IP=${4:-}

export DEBIAN_FRONTEND=noninteractive
# Boxes made by vagrant/make-box.sh have these baked in (and no network
# beyond the lab): only reach for apt when something is missing.
need=()
for p in nginx-light curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

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
cat >/etc/systemd/system/lvs-dr-vip.service <<UNIT
[Unit]
Description=LVS-DR: VIP $VIP on lo
After=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/ip addr replace $VIP/32 dev lo
ExecStop=/sbin/ip addr del $VIP/32 dev lo

[Install]
WantedBy=multi-user.target
UNIT
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
