#!/usr/bin/env bash
# Installs the Debian packages rkeepalived's build, tests and labs need.
# Idempotent; safe to re-run. Needs root (apt-get).
set -euo pipefail
pkgs=(
  # reference peer + its sample configs (VRRP interop, config samples, IPVS comparison)
  keepalived ipvsadm
  # real-kernel IPVS lab: qemu (TCG) + a busybox initramfs around Debian's kernel
  qemu-system-x86 busybox-static kmod cpio
  # netns labs and tests
  iproute2 iputils-ping tcpdump curl procps psmisc python3
  # GNU time: peak RSS of `rkeepalived -t` on an oversized config (tests/cli_config_bounds.rs)
  time
  # systemd-analyze verify for the shipped unit (tests/daemon_systemd_unit.rs)
  systemd
  # a real Prometheus scraping /metrics, and promtool (tests/daemon_metrics.rs)
  prometheus
  # net-snmp master agent + snmpwalk/snmpget for the AgentX subagent (tests/daemon_snmp.rs)
  snmpd snmp
  # libfaketime: the daemon under a stepped wall clock (tests/fault_vrrp.rs)
  faketime
  # nft: the VRRP firewall rules (no accept mode, vmac) and their tests (tests/vrrp_nftables.rs)
  nftables
  # encrypted SSL client keys written by OpenSSL (crates/check/tests/ssl_client.rs)
  openssl
  # `vagrant validate` of vagrant/Vagrantfile, libvirt provider options included (tests/vagrant_lab.rs)
  vagrant vagrant-libvirt
  # FRR (bfdd, zebra + bgpd) and BIRD 2: BFD interop peers (crates/bfd/tests/interop_frr.rs,
  # interop_bird.rs) and BGP daemons redistributing announced VIP routes
  # (crates/check/tests/announce_netns.rs, conf/bird.conf, conf/frr.conf)
  frr bird2
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Some machine images ship qemu-utils from bookworm-backports (qemu-img 10.x)
# without that suite in their sources. Bookworm's qemu-system-x86 (7.2) then
# cannot be installed beside it ("qemu-utils : Breaks: qemu-system-common
# (< 1:8.0...)"), so take qemu-system-x86 from the same backports suite.
qemu_from_backports=0
qemu_utils_version=$(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null || true)
if [[ "$qemu_utils_version" == *bpo12* ]] && [[ " ${missing[*]:-} " == *" qemu-system-x86 "* ]]; then
  qemu_from_backports=1
  backports=/etc/apt/sources.list.d/bookworm-backports.sources
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    cat >"$backports" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  fi
  kept=()
  for p in "${missing[@]}"; do [ "$p" = qemu-system-x86 ] || kept+=("$p"); done
  missing=("${kept[@]}")
fi
if ((${#missing[@]})) || ((qemu_from_backports)); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  if ((qemu_from_backports)); then
    echo "setup-deps: qemu-utils $qemu_utils_version is from bookworm-backports; installing qemu-system-x86 from there too"
    apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86
  fi
  if ((${#missing[@]})); then
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
# keepalived's Debian package starts its service where an init system runs; the
# tests run their own instances in namespaces, never the system one.
if command -v systemctl >/dev/null && systemctl is-active --quiet keepalived 2>/dev/null; then
  systemctl stop keepalived || true
fi
# Without an init system, stop only a daemon holding the system pid file:
# keepalived instances that tests run use their own pid files and must live.
if [ -r /run/keepalived.pid ]; then
  pid=$(cat /run/keepalived.pid 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = keepalived ]; then
    kill "$pid" 2>/dev/null || true
  fi
fi
# cargo-deb packs the .deb (tests/package_deb.rs); from crates.io.
if ! cargo deb --version >/dev/null 2>&1; then
  cargo install cargo-deb --locked --version "${CARGO_DEB_VERSION:-3.8.0}"
fi
echo "setup-deps: all packages present"
