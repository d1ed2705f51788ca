#!/usr/bin/env bash
# Provisions the ECMP router of the scale-out topology (RKL_TOPOLOGY=ecmp):
# FRR with bgpd (one eBGP session per director, AS 65000 <- 65001, the
# VIP's /32 installed as one multipath route over every director that
# announces it) and bfdd (BFD on each session: a dead director is dropped
# in 300 ms, not after the 9 s hold time), forwarding on, L4 ECMP hashing
# (a flow sticks to one director while the set of directors is stable).
#   router.sh LAN_IP CLIENT_IP DIRECTOR_IPS(comma-separated)
# RKL_RENDER_ONLY=DIR writes frr.conf and the sysctl file into DIR and
# stops there (tests/vagrant_lab.rs checks them with FRR's dry run).
set -euo pipefail
# Shared functions: next to this script when run from the repository, in
# the synced repository when the Vagrantfile uploaded this script alone.
LIB=$(dirname "$0")/lib.sh
[[ -r $LIB ]] || LIB=${RKL_REPO:-/vagrant}/vagrant/provision/lib.sh
# shellcheck source=vagrant/provision/lib.sh
. "$LIB"
LAN_IP=${1:?router lan ip}
CLIENT_IP=${2:?router client-side ip}
IFS=, read -r -a DIRECTORS <<<"${3:?director ips}"
OUT=${RKL_RENDER_ONLY:-}

render() {
  local dir=$1
  {
    echo "! rendered by vagrant/provision/router.sh"
    echo "frr defaults traditional"
    echo "hostname router"
    echo "!"
    echo "router bgp 65000"
    echo " bgp router-id $LAN_IP"
    echo " no bgp ebgp-requires-policy"
    echo " timers bgp 3 9"
    # The same AS path from every director: plain multipath applies.
    echo " bgp bestpath as-path multipath-relax"
    for d in "${DIRECTORS[@]}"; do
      echo " neighbor $d remote-as 65001"
      echo " neighbor $d bfd"
      echo " neighbor $d bfd profile directors"
    done
    echo " address-family ipv4 unicast"
    echo "  maximum-paths 16"
    echo " exit-address-family"
    echo "exit"
    echo "!"
    echo "bfd"
    echo " profile directors"
    echo "  receive-interval 100"
    echo "  transmit-interval 100"
    echo "  detect-multiplier 3"
    echo " exit"
    echo "exit"
    echo "!"
  } >"$dir/frr.conf"
  cat >"$dir/90-rkl-router.conf" <<SYSCTL
net.ipv4.ip_forward = 1
# ECMP over the directors by the 5-tuple, not just the addresses.
net.ipv4.fib_multipath_hash_policy = 1
SYSCTL
}

if [[ -n $OUT ]]; then
  render "$OUT"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
ensure_packages frr curl tcpdump iproute2

render /etc/frr
chown frr:frr /etc/frr/frr.conf
mv /etc/frr/90-rkl-router.conf /etc/sysctl.d/90-rkl-router.conf
sysctl -q -p /etc/sysctl.d/90-rkl-router.conf
sed -i -e 's/^bgpd=no/bgpd=yes/' -e 's/^bfdd=no/bfdd=yes/' /etc/frr/daemons
systemctl enable frr
systemctl restart frr
ip -4 addr show | grep -E "$LAN_IP|$CLIENT_IP"
