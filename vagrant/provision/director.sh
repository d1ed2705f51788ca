#!/usr/bin/env bash
# Provisions an LVS-DR director running rkeepalived.
#   director.sh STATE PRIORITY OWN_IP VIP LAN_PREFIX
# Installs ipvsadm, our binary ($RKL_BIN when the Vagrantfile uploaded one,
# else a release build from the synced repository, else builds one with
# rustup), the systemd unit
# systemd/rkeepalived.service and /etc/keepalived/keepalived.conf rendered
# from vagrant/conf/keepalived.conf.in, then starts rkeepalived.
set -euo pipefail
# Shared functions: next to this script when run from the repository, in
# the synced repository when the Vagrantfile uploaded this script alone.
LIB=$(dirname "$0")/lib.sh
[[ -r $LIB ]] || LIB=${RKL_REPO:-/vagrant}/vagrant/provision/lib.sh
# shellcheck source=vagrant/provision/lib.sh
. "$LIB"
STATE=${1:?state}
PRIORITY=${2:?priority}
OWN_IP=${3:?own ip}
VIP=${4:?vip}
LAN=${5:?lan prefix}
REPO=/vagrant

export DEBIAN_FRONTEND=noninteractive
ensure_packages ipvsadm curl ca-certificates iproute2 tcpdump

# The interface that carries the private network (the one holding OWN_IP).
IFACE=$(ip -o -4 addr show | awk -v ip="$OWN_IP" '$4 ~ "^"ip"/" {print $2; exit}')
[[ -n $IFACE ]] || { echo "director.sh: no interface has $OWN_IP" >&2; exit 1; }

install_rkeepalived director.sh "$REPO"

# ip_vs is loaded at boot, not by the (hardened) daemon.
echo ip_vs >/etc/modules-load.d/rkeepalived.conf
modprobe ip_vs
# Expire connections whose real server the checker removed, so that a reused
# client port is not steered to a dead server (standard LVS director tuning).
cat >/etc/sysctl.d/90-lvs-director.conf <<'SYSCTL'
net.ipv4.vs.expire_nodest_conn = 1
net.ipv4.vs.conn_reuse_mode = 1
SYSCTL
sysctl -q -p /etc/sysctl.d/90-lvs-director.conf

install -d -m 0755 /etc/keepalived
sed -e "s/@STATE@/$STATE/g" -e "s/@PRIORITY@/$PRIORITY/g" -e "s/@IFACE@/$IFACE/g" \
    -e "s/@VIP@/$VIP/g" -e "s/@LAN@/$LAN/g" -e "s/@ROUTER_ID@/$(hostname)/g" \
    "$REPO/vagrant/conf/keepalived.conf.in" >/etc/keepalived/keepalived.conf
[[ -f /etc/default/rkeepalived ]] || echo 'KEEPALIVED_OPTIONS="-D"' >/etc/default/rkeepalived

/usr/sbin/rkeepalived --config-test -f /etc/keepalived/keepalived.conf
systemctl stop keepalived.service 2>/dev/null || true
systemctl daemon-reload
systemctl enable --now rkeepalived.service
systemctl reload-or-restart rkeepalived.service
sleep 3
systemctl --no-pager status rkeepalived.service | head -n 12 || true
ipvsadm -ln
