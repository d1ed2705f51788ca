#!/usr/bin/env bash
# Provisions the client of the scale-out topology (RKL_TOPOLOGY=ecmp): curl,
# and the route to the VIP through the router (the client's default route
# is Vagrant's management network), now and at every boot.
#   client.sh VIP ROUTER_CLIENT_IP
set -euo pipefail
VIP=${1:?vip}
ROUTER=${2:?router client-side ip}

export DEBIAN_FRONTEND=noninteractive
if ! command -v curl >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends curl
fi
cat >/etc/systemd/system/rkl-vip-route.service <<UNIT
[Unit]
Description=Route to the anycast VIP $VIP via the ECMP router
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/ip route replace $VIP/32 via $ROUTER
ExecStop=/sbin/ip route del $VIP/32 via $ROUTER

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now rkl-vip-route.service
ip route get "$VIP"
