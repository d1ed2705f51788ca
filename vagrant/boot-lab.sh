#!/usr/bin/env bash
# Boots the Vagrant lab for real with vagrant-libvirt on a host without an
# init system and without (usable) KVM, and walks README.md's steps:
#
#   nice -n 19 vagrant/boot-lab.sh          (as root; minutes, not part of CI)
#
# 1. starts virtlogd and libvirtd by hand when they are not running (qemu
#    runs as root, no security driver: see /etc/libvirt/qemu.conf);
# 2. builds the box with make-box.sh unless it exists, and adds it;
# 3. builds rkeepalived (debug, the host's glibc is bookworm's) and uploads
#    a stripped copy to the directors (RKL_BIN);
# 4. `vagrant up` of a reduced lab under qemu TCG (driver "qemu"): the two
#    directors and web01, RKL_MEMORY MiB each, every libvirt network on a
#    documentation range (lab 198.51.100.0/25, management
#    198.51.100.128/25, both isolated);
# 5. `ipvsadm -ln` and the VIP on the master, curl of the VIP from the
#    backup, `systemctl stop rkeepalived` on the master, the backup's
#    takeover (journal, VIP, curl from the old master);
# 6. `vagrant destroy -f` and removal of the networks (RKL_KEEP=1 keeps the
#    lab up for a look around).
#
# Every step prints "== STEP name: ok|FAIL (N s)"; the script exits non-zero
# at the first failed step. Scratch (box, Vagrant home, libvirt pool) lives
# under RKL_SCRATCH (default /var/tmp/rkl-vagrant), never in the git tree.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
export RKL_SCRATCH=${RKL_SCRATCH:-/var/tmp/rkl-vagrant}
mkdir -p "$RKL_SCRATCH"
export VAGRANT_HOME=$RKL_SCRATCH/vagrant.d
export VAGRANT_DOTFILE_PATH=$RKL_SCRATCH/dot
export VAGRANT_DEFAULT_PROVIDER=libvirt
export VAGRANT_CHECKPOINT_DISABLE=1
export LIBVIRT_DEFAULT_URI=qemu:///system
export RKL_BOX=${RKL_BOX:-rkl/bookworm}
export RKL_LIBVIRT_DRIVER=${RKL_LIBVIRT_DRIVER:-qemu}
export RKL_NODES=${RKL_NODES:-director1,director2,web01}
export RKL_MEMORY=${RKL_MEMORY:-320}
export RKL_MGMT_MODE=${RKL_MGMT_MODE:-none}
export RKL_LIBVIRT_POOL=${RKL_LIBVIRT_POOL:-rkl-lab}
export RKL_BOOT_TIMEOUT=${RKL_BOOT_TIMEOUT:-900}
export RKL_CONSOLE_DIR=${RKL_CONSOLE_DIR:-$RKL_SCRATCH/console}
mkdir -p "$RKL_CONSOLE_DIR"
# Both libvirt networks in 198.51.100.0/24 (RFC 5737), split in halves:
# the lab in 198.51.100.0/25 (directors .11/.12, web01 .21, VIP .100) and
# the management network in 198.51.100.128/25. Not the Vagrantfile's
# 192.0.2.0/24: where the host's own uplink is on it, libvirt refuses the
# lab network ("Network is already in use by interface eth0"); and not
# 203.0.113.0/24, where a host may reach its package mirrors (a route to a
# libvirt bridge there cuts them off).
export RKL_LAN_PREFIX=${RKL_LAN_PREFIX:-198.51.100}
export RKL_LAN_NETMASK=${RKL_LAN_NETMASK:-255.255.255.128}
export RKL_MGMT_NET=${RKL_MGMT_NET:-198.51.100.128/25}
LAN=$RKL_LAN_PREFIX
# Refuse ranges the host already routes anywhere but through a lab bridge.
for net in "$LAN.0/25" "$RKL_MGMT_NET"; do
  if ip -4 route show match "${net%/*}" | grep -v '^default' | grep -vq 'virbr'; then
    echo "boot-lab.sh: the host already routes $net: $(ip -4 route show match "${net%/*}" | grep -v '^default')" >&2
    exit 1
  fi
done
for host in deb.debian.org crates.io; do
  addr=$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR==1 {print $1}')
  if [[ $addr == "$LAN".* ]]; then
    echo "boot-lab.sh: $host is $addr, inside the lab's $LAN.0/24: pick another RKL_LAN_PREFIX" >&2
    exit 1
  fi
done
VIP=$LAN.100
BOX_FILE=$RKL_SCRATCH/rkl-bookworm.box

T0=$SECONDS
step_t=$SECONDS
step() { step_name=$1; step_t=$SECONDS; echo; echo "== STEP $step_name ($(date -u +%T))"; }
ok() { echo "== STEP $step_name: ok ($((SECONDS - step_t)) s)"; }
fail() { echo "== STEP $step_name: FAIL ($((SECONDS - step_t)) s): $*"; finish 1; }
finish() {
  local rc=$1
  if [[ ${RKL_KEEP:-0} != 1 && ${lab_started:-0} == 1 ]]; then
    echo; echo "== cleanup: vagrant destroy -f"
    (cd "$HERE" && vagrant destroy -f) || true
    for n in rkl-mgmt rkl-lan; do
      virsh net-destroy "$n" >/dev/null 2>&1; virsh net-undefine "$n" >/dev/null 2>&1
    done
  fi
  echo "== total $((SECONDS - T0)) s, exit $rc"
  exit "$rc"
}
on() { local vm=$1; shift; (cd "$HERE" && vagrant ssh "$vm" -c "$*" -- -o LogLevel=ERROR); }

step libvirtd
grep -q '^security_driver = "none"' /etc/libvirt/qemu.conf || cat >>/etc/libvirt/qemu.conf <<'CONF'

# rkeepalived vagrant/boot-lab.sh: no init system, no AppArmor/SELinux;
# qemu runs as root so that it reads the box's kernel and images anywhere.
user = "root"
group = "root"
security_driver = "none"
CONF
alive() { [[ -r $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
alive /run/virtlogd.pid || virtlogd -d || fail "virtlogd did not start"
alive /run/libvirtd.pid || libvirtd -d || fail "libvirtd did not start"
for _ in $(seq 30); do virsh version >/dev/null 2>&1 && break; sleep 1; done
virsh version || fail "libvirtd does not answer"
virsh domcapabilities --virttype qemu >/dev/null || fail "no qemu (TCG) domain type"
if ! virsh pool-info "$RKL_LIBVIRT_POOL" >/dev/null 2>&1; then
  mkdir -p "$RKL_SCRATCH/pool"
  virsh pool-define-as "$RKL_LIBVIRT_POOL" dir --target "$RKL_SCRATCH/pool" || fail "pool"
fi
virsh pool-start "$RKL_LIBVIRT_POOL" >/dev/null 2>&1 || true
ok

step box
if ! (vagrant box list 2>/dev/null | grep -q "^$RKL_BOX "); then
  [[ -s $BOX_FILE ]] || "$HERE/make-box.sh" "$BOX_FILE" || fail "make-box.sh"
  vagrant box add --force --name "$RKL_BOX" "$BOX_FILE" || fail "vagrant box add"
fi
vagrant box list
ok

step binary
(cd "$REPO" && CARGO_INCREMENTAL=0 cargo build -q -p rkeepalived --bin rkeepalived) || fail "cargo build"
strip -o "$RKL_SCRATCH/rkeepalived" "$REPO/target/debug/rkeepalived" || fail "strip"
export RKL_BIN=$RKL_SCRATCH/rkeepalived
"$RKL_BIN" --version
ok

step "vagrant up ($RKL_NODES, driver $RKL_LIBVIRT_DRIVER, ${RKL_MEMORY} MiB each)"
lab_started=1
# web01 first: the directors' TCP_CHECK finds it up when they start.
(cd "$HERE" && vagrant up --no-parallel web01 director1 director2) || fail "vagrant up"
(cd "$HERE" && vagrant status)
virsh net-dumpxml rkl-mgmt | grep -E '<ip |<forward' || true
virsh net-dumpxml rkl-lan | grep -E '<ip |<forward' || true
ok

step "master: rkeepalived, VIP and ipvsadm -ln"
on director1 "sudo systemctl is-active rkeepalived; ip -4 -br addr; sudo ipvsadm -ln" | tee "$RKL_SCRATCH/master.txt"
grep -q " $VIP/" "$RKL_SCRATCH/master.txt" || fail "VIP $VIP not on director1"
grep -q "TCP  $VIP:80 rr" "$RKL_SCRATCH/master.txt" || fail "no virtual server $VIP:80"
grep -q "$LAN.21:80 *Route" "$RKL_SCRATCH/master.txt" || fail "web01 not in the table"
ok

step "backup: no VIP, same table"
on director2 "sudo systemctl is-active rkeepalived; ip -4 -br addr; sudo ipvsadm -ln" | tee "$RKL_SCRATCH/backup.txt"
grep -q " $VIP/" "$RKL_SCRATCH/backup.txt" && fail "the backup holds the VIP too"
grep -q "TCP  $VIP:80 rr" "$RKL_SCRATCH/backup.txt" || fail "no virtual server on the backup"
ok

step "curl the VIP from the backup"
on director2 "for i in 1 2 3 4; do curl -s -m 5 http://$VIP/; done" | tee "$RKL_SCRATCH/curl1.txt"
[[ $(grep -c web01 "$RKL_SCRATCH/curl1.txt") == 4 ]] || fail "curl through the VIP"
ok

step "stop the master, the backup takes over"
on director1 "sudo systemctl stop rkeepalived; date -u +%T.%N; ip -4 -br addr"
took=
for i in $(seq 60); do
  if on director2 "ip -4 addr" | grep -q " $VIP/"; then took=$i; break; fi
  sleep 1
done
[[ -n $took ]] || fail "director2 never got the VIP"
echo "VIP seen on director2 at poll $took ($(date -u +%T); each poll is one vagrant ssh)"
on director2 "sudo journalctl -u rkeepalived --no-pager -o short-precise | grep -E 'Entering (BACKUP|MASTER) STATE|received lower prio|priority 0|Sending gratuitous' | tail -n 8; ip -4 -br addr; sudo ipvsadm -ln"
on director1 "for i in 1 2 3 4; do curl -s -m 5 http://$VIP/; done" | tee "$RKL_SCRATCH/curl2.txt"
[[ $(grep -c web01 "$RKL_SCRATCH/curl2.txt") == 4 ]] || fail "curl through the VIP after the takeover"
ok

step "master back: preemption"
on director1 "sudo systemctl start rkeepalived"
back=
for i in $(seq 60); do
  if on director1 "ip -4 addr" | grep -q " $VIP/"; then back=$i; break; fi
  sleep 1
done
[[ -n $back ]] || fail "director1 did not take the VIP back"
on director2 "ip -4 -br addr" | grep -q " $VIP/" && fail "both directors hold the VIP"
ok

finish 0
