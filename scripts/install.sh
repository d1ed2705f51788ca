#!/usr/bin/env bash
# Builds and installs rkeepalived as a drop-in for keepalived:
#   /usr/sbin/rkeepalived, /etc/systemd/system/rkeepalived.service,
#   /etc/default/rkeepalived (only if absent), a sample config under
#   /usr/share/doc/rkeepalived/samples/ (never the live keepalived.conf),
#   /etc/modules-load.d/rkeepalived.conf (ip_vs), docs, and a
#   /usr/sbin/keepalived -> rkeepalived symlink for tools that run or look
#   for `keepalived`, only when no keepalived is installed (never replaced).
# Usage: scripts/install.sh [--no-build] [--destdir DIR] [--no-keepalived-link]
# --destdir installs into a staging root (packaging; no systemctl calls, no
# keepalived symlink: the package's postinst decides that on the target).
# It never enables or starts the service: review the config first, then
#   systemctl enable --now rkeepalived   (and disable keepalived.service).
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
destdir=""
keepalived_link=1
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    --destdir) destdir=${2:?--destdir needs a directory}; shift ;;
    --no-keepalived-link) keepalived_link=0 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$destdir" ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (or use --destdir for a staging install)" >&2
  exit 1
fi

if ((build)); then
  cargo build --release --locked -p rkeepalived --bin rkeepalived
fi
bin=target/release/rkeepalived
[ -x "$bin" ] || { echo "install.sh: $bin missing (build first or drop --no-build)" >&2; exit 1; }

# Refuse to install a binary that cannot even check the shipped config.
"$bin" --version >/dev/null

d=$destdir
install -D -m 0755 "$bin" "$d/usr/sbin/rkeepalived"
# `genhash` (rkeepalived acts as keepalived's genhash by that name), unless
# keepalived's own is installed.
if [ ! -e "$d/usr/bin/genhash" ] && [ ! -L "$d/usr/bin/genhash" ]; then
  install -d "$d/usr/bin"
  ln -s ../sbin/rkeepalived "$d/usr/bin/genhash"
fi
install -D -m 0644 systemd/rkeepalived.service "$d/etc/systemd/system/rkeepalived.service"
install -D -m 0644 systemd/README.md "$d/usr/share/doc/rkeepalived/README.md"
# Opt-in (CAP_SYS_ADMIN for net_namespace): copy into
# /etc/systemd/system/rkeepalived.service.d/ to use it.
install -D -m 0644 systemd/rkeepalived.service.d/net-namespace.conf "$d/usr/share/doc/rkeepalived/examples/net-namespace.conf"

install_if_absent() { # src dst mode
  if [ -e "$2" ]; then
    echo "install.sh: keeping existing $2"
  else
    install -D -m "$3" "$1" "$2"
    echo "install.sh: installed $2"
  fi
}

install_if_absent packaging/rkeepalived.default "$d/etc/default/rkeepalived" 0644
install_if_absent packaging/modules-load.conf "$d/etc/modules-load.d/rkeepalived.conf" 0644
# The example is a sample, never the live config: its VRID 51 on eth0 could
# collide with a real network's VRRP routers the moment the service starts.
install -D -m 0644 conf/keepalived.conf "$d/usr/share/doc/rkeepalived/samples/keepalived.conf"

if [ -z "$destdir" ] && ((keepalived_link)); then
  # The same rule as the package's postinst: a real keepalived is never
  # clobbered; the link is ours only while nothing else is there.
  if [ -e /usr/sbin/keepalived ] || [ -L /usr/sbin/keepalived ] || command -v keepalived >/dev/null; then
    echo "install.sh: keepalived is installed ($(command -v keepalived || echo /usr/sbin/keepalived)); no keepalived symlink"
  else
    ln -s rkeepalived /usr/sbin/keepalived
    echo "install.sh: installed /usr/sbin/keepalived -> rkeepalived"
  fi
fi

if [ -z "$destdir" ]; then
  if [ -s /etc/keepalived/keepalived.conf ]; then
    "$d/usr/sbin/rkeepalived" --config-test -f /etc/keepalived/keepalived.conf \
      || echo "install.sh: WARNING: /etc/keepalived/keepalived.conf does not pass --config-test" >&2
  else
    echo "install.sh: no /etc/keepalived/keepalived.conf yet; a sample is in /usr/share/doc/rkeepalived/samples/ (the unit does not start without a config)"
  fi
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl daemon-reload
    echo "install.sh: done. Start with: systemctl disable --now keepalived; systemctl enable --now rkeepalived"
  else
    echo "install.sh: done (no running systemd: start with /usr/sbin/rkeepalived)"
  fi
fi
