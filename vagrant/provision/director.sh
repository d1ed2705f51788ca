#!/usr/bin/env bash
# Provisions an LVS-DR director running rkeepalived.
#   director.sh STATE PRIORITY OWN_IP VIP LAN_PREFIX
# Installs ipvsadm, our binary ($RKL_BIN when the Vagrantfile uploaded one,
# else a release build from the synced repository, else builds one with
# rustup), the systemd unit
# systemd/rkeepalived.service and /etc/keepalived/keepalived.conf rendered
# from vagrant/conf/keepalived.conf.in, then starts rkeepalived.
set -euo pipefail
STATE=${1:?state}
PRIORITY=${2:?priority}
OWN_IP=${3:?own ip}
VIP=${4:?vip}
LAN=${5:?lan prefix}
REPO=/vagrant

export DEBIAN_FRONTEND=noninteractive
# Boxes made by vagrant/make-box.sh have these baked in (and no network
# beyond the lab): only reach for apt when something is missing.
need=()
for p in ipvsadm curl ca-certificates iproute2 tcpdump; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The interface that carries the private network (the one holding OWN_IP).
IFACE=$(ip -o -4 addr show | awk -v ip="$OWN_IP" '$4 ~ "^"ip"/" {print $2; exit}')
[[ -n $IFACE ]] || { echo "director.sh: no interface has $OWN_IP" >&2; exit 1; }

BIN=${RKL_BIN:-$REPO/target/release/rkeepalived}
if [[ ! -x $BIN ]] || ! "$BIN" --version >/dev/null 2>&1; then
  echo "director.sh: no usable $BIN from the host; building in the VM (slow)"
  apt-get install -y -qq --no-install-recommends build-essential pkg-config
  if ! command -v cargo >/dev/null; then
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  fi
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
  export CARGO_TARGET_DIR=/var/tmp/rkeepalived-target
  (cd "$REPO" && cargo build --release --locked -p rkeepalived --bin rkeepalived)
  BIN=$CARGO_TARGET_DIR/release/rkeepalived
fi
install -D -m 0755 "$BIN" /usr/sbin/rkeepalived
install -D -m 0644 "$REPO/systemd/rkeepalived.service" /etc/systemd/system/rkeepalived.service

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
