# Shared by the provisioning scripts (sourced from the synced repository:
# `. /vagrant/vagrant/provision/lib.sh`; the Vagrantfile uploads each
# script on its own, so they cannot find it next to themselves).

# ensure_packages PKG...: install the missing ones. Boxes made by
# vagrant/make-box.sh have them baked in (and no network beyond the lab):
# only reach for apt when something is missing.
ensure_packages() {
  local need=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if ((${#need[@]})); then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
}

# install_rkeepalived WHO REPO: /usr/sbin/rkeepalived and its unit, from
# $RKL_BIN (uploaded by the Vagrantfile), else REPO's release build, else
# a build in the VM with rustup (slow).
install_rkeepalived() {
  local who=$1 repo=$2
  local bin=${RKL_BIN:-$repo/target/release/rkeepalived}
  if [[ ! -x $bin ]] || ! "$bin" --version >/dev/null 2>&1; then
    echo "$who: no usable $bin from the host; building in the VM (slow)"
    apt-get install -y -qq --no-install-recommends build-essential pkg-config
    if ! command -v cargo >/dev/null; then
      curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    fi
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
    export CARGO_TARGET_DIR=/var/tmp/rkeepalived-target
    (cd "$repo" && cargo build --release --locked -p rkeepalived --bin rkeepalived)
    bin=$CARGO_TARGET_DIR/release/rkeepalived
  fi
  install -D -m 0755 "$bin" /usr/sbin/rkeepalived
  install -D -m 0644 "$repo/systemd/rkeepalived.service" /etc/systemd/system/rkeepalived.service
}

# vip_on_lo_unit UNIT DESCRIPTION VIP [BEFORE]: a oneshot unit holding VIP
# on lo, now and at every boot (LVS-DR real servers, anycast directors).
vip_on_lo_unit() {
  local unit=$1 desc=$2 vip=$3 before=${4:-}
  {
    echo "[Unit]"
    echo "Description=$desc"
    echo "After=network.target"
    if [[ -n $before ]]; then echo "Before=$before"; fi
    echo
    echo "[Service]"
    echo "Type=oneshot"
    echo "RemainAfterExit=yes"
    echo "ExecStart=/sbin/ip addr replace $vip/32 dev lo"
    echo "ExecStop=/sbin/ip addr del $vip/32 dev lo"
    echo
    echo "[Install]"
    echo "WantedBy=multi-user.target"
  } >"/etc/systemd/system/$unit"
}
