#!/usr/bin/env bash
# Provisions an active-active director of the scale-out topology
# (RKL_TOPOLOGY=ecmp): IPVS (mh, DR) with rkeepalived announcing the VIP
# into kernel table 100 while the virtual server has quorum
# (conf/examples/anycast-director.conf), BIRD 2 exporting that table to
# the router over BGP with BFD (conf/bird.conf), the VIP on lo, and
# conf/examples/anycast-sysctl.conf (sloppy_tcp) plus the LVS-DR ARP
# sysctls (the VIP on lo must not be answered for on the LAN).
#   director-ecmp.sh NAME OWN_IP VIP LAN_PREFIX ROUTER_IP
# $RKL_BIN: a binary uploaded by the Vagrantfile (else the synced
# target/release/rkeepalived, else a build in the VM, as director.sh).
# RKL_RENDER_ONLY=DIR writes keepalived.conf, bird.conf (+ the included
# rkeepalived.conf) and the sysctl files into DIR and stops there
# (tests/vagrant_lab.rs checks them with `rkeepalived --config-test` and
# `bird -p`).
set -euo pipefail
# Shared functions: next to this script when run from the repository, in
# the synced repository when the Vagrantfile uploaded this script alone.
LIB=$(dirname "$0")/lib.sh
[[ -r $LIB ]] || LIB=${RKL_REPO:-/vagrant}/vagrant/provision/lib.sh
# shellcheck source=vagrant/provision/lib.sh
. "$LIB"
NAME=${1:?name}
OWN_IP=${2:?own ip}
VIP=${3:?vip}
LAN=${4:?lan prefix}
ROUTER_IP=${5:?router ip}
REPO=${RKL_REPO:-/vagrant}
OUT=${RKL_RENDER_ONLY:-}

render() {
  local dir=$1 bird_include=$2
  # The example as shipped, with this director's router id, the lab's VIP
  # and real servers (web01 = LAN.21, web02 = LAN.22).
  sed -e "s/^\(    router_id \).*/\1$NAME/" \
      -e "s/192\.0\.2\.100/$VIP/g" \
      -e "s/198\.51\.100\.\(2[12]\)/$LAN.\1/g" \
      "$REPO/conf/examples/anycast-director.conf" >"$dir/keepalived.conf"
  cp "$REPO/conf/bird.conf" "$dir/rkeepalived.conf"
  cat >"$dir/bird.conf" <<BIRD
# rendered by vagrant/provision/director-ecmp.sh
router id $OWN_IP;
protocol device {}
include "$bird_include";
protocol bfd {
    interface "*" {
        min rx interval 100 ms;
        min tx interval 100 ms;
        multiplier 3;
    };
}
protocol bgp uplink from rkeepalived_bgp {
    neighbor $ROUTER_IP as 65000;
    bfd on;
}
BIRD
  cp "$REPO/conf/examples/anycast-sysctl.conf" "$dir/90-rkeepalived-anycast.conf"
  cat >"$dir/90-lvs-dr-director.conf" <<'SYSCTL'
# The VIP is on lo: answer ARP only for the receiving interface's
# addresses, never use the VIP as an ARP source.
net.ipv4.conf.all.arp_ignore = 1
net.ipv4.conf.all.arp_announce = 2
net.ipv4.vs.expire_nodest_conn = 1
net.ipv4.vs.conn_reuse_mode = 1
SYSCTL
}

if [[ -n $OUT ]]; then
  render "$OUT" "$OUT/rkeepalived.conf"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
ensure_packages ipvsadm bird2 curl ca-certificates iproute2 tcpdump

install_rkeepalived director-ecmp.sh "$REPO"

echo ip_vs >/etc/modules-load.d/rkeepalived.conf
modprobe ip_vs
modprobe ip_vs_mh 2>/dev/null || true

install -d -m 0755 /etc/keepalived /etc/bird
render /etc/keepalived /etc/bird/rkeepalived.conf
mv /etc/keepalived/rkeepalived.conf /etc/bird/rkeepalived.conf
mv /etc/keepalived/bird.conf /etc/bird/bird.conf
mv /etc/keepalived/90-rkeepalived-anycast.conf /etc/keepalived/90-lvs-dr-director.conf /etc/sysctl.d/
sysctl -q -p /etc/sysctl.d/90-lvs-dr-director.conf
sysctl -q -p /etc/sysctl.d/90-rkeepalived-anycast.conf
chown -R bird:bird /etc/bird

# The VIP on lo, now and at every boot (IPVS needs it local; no VRRP).
vip_on_lo_unit anycast-vip.service "Anycast director: VIP $VIP on lo" "$VIP" rkeepalived.service

/usr/sbin/rkeepalived --config-test -f /etc/keepalived/keepalived.conf
systemctl stop keepalived.service 2>/dev/null || true
systemctl disable keepalived.service 2>/dev/null || true
[[ -f /etc/default/rkeepalived ]] || echo 'KEEPALIVED_OPTIONS="-D"' >/etc/default/rkeepalived
systemctl daemon-reload
systemctl enable --now anycast-vip.service
systemctl enable --now rkeepalived.service
systemctl reload-or-restart rkeepalived.service
systemctl enable bird
systemctl restart bird
sleep 3
ipvsadm -ln
ip route show table 100
birdc show protocols || true
