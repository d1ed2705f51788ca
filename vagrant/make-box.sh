#!/usr/bin/env bash
# Builds a small Debian 12 (bookworm) Vagrant box for the libvirt provider
# from Debian packages alone, for hosts that cannot download boxes:
#
#   vagrant/make-box.sh [OUT.box]       (default: $RKL_SCRATCH/rkl-bookworm.box)
#   vagrant box add --name rkl/bookworm OUT.box
#
# debootstrap (minbase) + Debian's kernel, systemd, systemd-networkd (DHCP on
# eth0, the management network; Vagrant configures eth1.. through networkd),
# openssh-server, sudo, rsync, and the lab's packages baked in (keepalived,
# ipvsadm, curl, tcpdump, nginx-light) so that the VMs need no network beyond
# the lab. The user `vagrant` (password `vagrant`, passwordless sudo) accepts
# Vagrant's insecure key, which `vagrant up` replaces by a fresh one.
#
# No partition table and no boot loader: the root file system fills the
# whole disk (mke2fs -d, so no loop device or mount is needed to fill it) and
# the box boots the kernel directly: the box's own Vagrantfile points
# vagrant-libvirt's `kernel`/`initrd`/`cmdline` at the vmlinuz and initrd.img
# shipped inside the box. The box is libvirt box format v1 (metadata.json,
# box.img as qcow2, Vagrantfile).
#
# Needs root, debootstrap, qemu-img (qemu-utils), e2fsprogs and a Debian
# mirror (RKL_MIRROR, default deb.debian.org, or whatever apt uses).
set -euo pipefail

SCRATCH=${RKL_SCRATCH:-/var/tmp/rkl-vagrant}
OUT=${1:-$SCRATCH/rkl-bookworm.box}
SUITE=${RKL_SUITE:-bookworm}
MIRROR=${RKL_MIRROR:-http://deb.debian.org/debian}
DISK_SIZE=${RKL_DISK_SIZE:-2G}
INSECURE_PUB=${RKL_INSECURE_PUB:-}
if [[ -z $INSECURE_PUB ]]; then
  INSECURE_PUB=$(find /usr/share/rubygems-integration /usr/lib/ruby /opt/vagrant \
    -path '*vagrant*/keys/vagrant.pub' 2>/dev/null | head -n1 || true)
fi
[[ -r $INSECURE_PUB ]] || { echo "make-box.sh: Vagrant's insecure public key (keys/vagrant.pub) not found; set RKL_INSECURE_PUB" >&2; exit 1; }
for t in debootstrap qemu-img mke2fs; do
  command -v "$t" >/dev/null || { echo "make-box.sh: $t missing (apt-get install debootstrap qemu-utils e2fsprogs)" >&2; exit 1; }
done

WORK=$(mktemp -d "$SCRATCH/box.XXXXXX")
ROOT=$WORK/root
cleanup() {
  for m in "$ROOT/proc" "$ROOT/sys" "$ROOT/dev/pts" "$ROOT/dev"; do
    mountpoint -q "$m" 2>/dev/null && umount -l "$m"
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

PKGS=(
  systemd systemd-sysv dbus udev kmod iproute2 procps
  linux-image-amd64 initramfs-tools
  openssh-server sudo rsync ca-certificates
  keepalived ipvsadm curl tcpdump nginx-light
  frr bird2   # RKL_TOPOLOGY=ecmp: the router (FRR) and the directors (BIRD)
)
t0=$SECONDS
echo "make-box.sh: debootstrap $SUITE from $MIRROR into $ROOT"
mkdir -p "$ROOT"
debootstrap --variant=minbase --include="$(IFS=,; echo "${PKGS[*]}")" \
  "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
  tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
echo "make-box.sh: debootstrap done in $((SECONDS - t0)) s"

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
ls "$ROOT"/boot/vmlinuz-* >/dev/null
if ! ls "$ROOT"/boot/initrd.img-* >/dev/null 2>&1; then
  mount -t proc proc "$ROOT/proc"
  mount --bind /dev "$ROOT/dev"
  mount -t sysfs sysfs "$ROOT/sys"
  in_root update-initramfs -c -k all
  umount "$ROOT/sys" "$ROOT/dev" "$ROOT/proc"
fi

echo rkl-box >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\trkl-box\n' >"$ROOT/etc/hosts"
echo '/dev/vda / ext4 defaults,errors=remount-ro 0 1' >"$ROOT/etc/fstab"
# The management interface (eth0: the kernel command line sets
# net.ifnames=0) by DHCP; Vagrant adds 50-vagrant-ethN.network for the rest.
cat >"$ROOT/etc/systemd/network/10-mgmt.network" <<'NET'
[Match]
Name=eth0
[Network]
DHCP=ipv4
[DHCPv4]
UseDomains=yes
NET
in_root systemctl enable systemd-networkd.service ssh.service >/dev/null 2>&1
# The directors run rkeepalived, not Debian's keepalived.
in_root systemctl disable keepalived.service >/dev/null 2>&1 || true
# Only the scale-out topology runs them (its provisioning enables them):
# not on every VM of the classic lab, at 320 MiB each.
in_root systemctl disable frr.service bird.service >/dev/null 2>&1 || true
in_root systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer >/dev/null 2>&1 || true
# Serial console, no waiting on it.
in_root systemctl enable serial-getty@ttyS0.service >/dev/null 2>&1 || true
# A stable machine-id would make every VM ask for the same DHCP lease.
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"

# The vagrant user, Vagrant's insecure key, passwordless sudo.
in_root useradd -m -s /bin/bash -G sudo vagrant
echo 'vagrant:vagrant' | in_root chpasswd
install -d -m 0700 "$ROOT/home/vagrant/.ssh"
install -m 0600 "$INSECURE_PUB" "$ROOT/home/vagrant/.ssh/authorized_keys"
in_root chown -R vagrant:vagrant /home/vagrant/.ssh
echo 'vagrant ALL=(ALL) NOPASSWD:ALL' >"$ROOT/etc/sudoers.d/vagrant"
chmod 0440 "$ROOT/etc/sudoers.d/vagrant"
# Fast SSH logins under emulation: no reverse DNS.
echo 'UseDNS no' >"$ROOT/etc/ssh/sshd_config.d/vagrant.conf"
# Host keys made now (all VMs of this box share them: a lab, not production).
in_root ssh-keygen -A >/dev/null

# Smaller: no docs, manuals, locales, apt lists or caches, and no kernel
# modules for hardware a libvirt VM never has.
rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
       "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*_Packages
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name locale.alias -exec rm -rf {} +
KVER=$(basename "$(ls -d "$ROOT"/lib/modules/*)")
for d in drivers/gpu drivers/net/wireless drivers/media drivers/infiniband drivers/staging \
         drivers/bluetooth drivers/iio drivers/usb sound net/wireless net/mac80211 net/bluetooth; do
  rm -rf "${ROOT:?}/lib/modules/$KVER/kernel/$d"
done
in_root depmod "$KVER"

# Files outside the image: the kernel and initrd for direct kernel boot.
cp "$ROOT/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
cp "$ROOT/boot/initrd.img-$KVER" "$WORK/initrd.img"

echo "make-box.sh: filling a $DISK_SIZE ext4 image ($(du -sh "$ROOT" | cut -f1) of files)"
mke2fs -q -t ext4 -L rkl-root -d "$ROOT" "$WORK/root.raw" "$DISK_SIZE"
qemu-img convert -c -O qcow2 "$WORK/root.raw" "$WORK/box.img"
rm -f "$WORK/root.raw"
VSIZE=$(qemu-img info --output=json "$WORK/box.img" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')
VGB=$(( (VSIZE + 1073741823) / 1073741824 ))
cat >"$WORK/metadata.json" <<JSON
{"provider": "libvirt", "format": "qcow2", "virtual_size": $VGB}
JSON
cat >"$WORK/Vagrantfile" <<'RUBY'
# Box rkl/bookworm (vagrant/make-box.sh): no boot loader, the kernel and
# initrd shipped beside box.img are booted directly.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.kernel = File.expand_path("vmlinuz", __dir__)
    lv.initrd = File.expand_path("initrd.img", __dir__)
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0 quiet"
    lv.disk_bus = "virtio"
  end
end
RUBY
mkdir -p "$(dirname "$OUT")"
tar -C "$WORK" -cf "$OUT" metadata.json Vagrantfile box.img vmlinuz initrd.img
echo "make-box.sh: $OUT ($(du -h "$OUT" | cut -f1)), built in $((SECONDS - t0)) s"
