#!/bin/sh
# /init of the lab initramfs (busybox sh). Loads the IPVS/network/9p modules,
# mounts the host root read-only over 9p with writable tmpfs work dirs, runs
# the requested script in a chroot of it and reports its exit code on the
# serial console between unique markers. See tests/lab/README.md.
export PATH=/bin:/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Keep kernel chatter off the console the host parses.
echo "1 4 1 7" >/proc/sys/kernel/printk

arg() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
RUN=$(arg lab.run)
NONCE=$(arg lab.nonce)
KVER=$(cat /etc/kernel-version)

fail() {
  echo "lab-init: $*"
  echo "@@LAB-END $NONCE rc=125@@"
  sync
  reboot -f
}

while read -r ko; do
  insmod "/lib/modules/$KVER/$ko" 2>/dev/null || echo "lab-init: insmod $ko failed"
done </etc/boot-modules

H=/host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $H ||
  fail "cannot mount the host root over 9p"
mount -t proc proc $H/proc
mount -t sysfs sysfs $H/sys
mount -t devtmpfs devtmpfs $H/dev
mkdir -p $H/dev/pts $H/dev/shm
mount -t devpts devpts $H/dev/pts
mount -t tmpfs tmpfs $H/dev/shm
# Writable work dirs; everything else stays the read-only host root.
# (lab.sh refuses a repository below one of them: keep the two lists equal.)
for d in /tmp /run /var/tmp /var/log /var/lib /etc/keepalived /root /home /mnt /srv; do
  [ -d $H$d ] && mount -t tmpfs -o mode=0755 tmpfs $H$d
done
chmod 1777 $H/tmp $H/var/tmp
mkdir -p $H/run/netns $H/run/lock $H/var/lib/dhcp
# Guest kernel modules where the chroot's modprobe (keepalived, scripts) looks,
# when the host has a /lib/modules to mount over (a read-only 9p root cannot
# grow one). Everything the lab needs is loaded at boot anyway, and the
# kernel's own request_module() uses the initramfs modprobe.
if [ -d $H/lib/modules ]; then
  mount -t tmpfs tmpfs $H/lib/modules
  mkdir -p $H/lib/modules/$KVER
  mount --bind /lib/modules/$KVER $H/lib/modules/$KVER
fi
if [ -n "$RUN" ]; then
  mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 labrun $H$RUN ||
    fail "cannot mount the run directory $RUN"
fi
ip link set lo up
hostname lab
# A syslog for daemons (keepalived's openlog uses LOG_CONS: without /dev/log
# every log line would land on the serial console the host parses).
chroot $H /bin/busybox syslogd -O /var/log/messages 2>/dev/null ||
  echo "lab-init: syslogd did not start; daemon logs go to the console"

if [ "$(cat $H$RUN/mode 2>/dev/null)" = shell ] || [ -z "$RUN" ]; then
  echo "lab-init: interactive shell in the host-root chroot; 'exit' powers off"
  setsid cttyhack chroot $H /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root TERM=${TERM:-vt100} LAB_GUEST=1 LAB_RUN_DIR=$RUN LAB_OUT=$RUN/out /bin/bash -i
  sync
  reboot -f
fi

echo "@@LAB-BEGIN $NONCE@@"
chroot $H /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root TERM=dumb LANG=C.UTF-8 LAB_GUEST=1 LAB_RUN_DIR="$RUN" LAB_OUT="$RUN/out" \
  /bin/bash -c '
    while IFS= read -r line; do export "$line"; done <"$LAB_RUN_DIR/env"
    mapfile -d "" args <"$LAB_RUN_DIR/args"
    cwd=$(cat "$LAB_RUN_DIR/cwd"); cd "$cwd" 2>/dev/null || cd /
    exec "$LAB_RUN_DIR/script" "${args[@]}"' </dev/null 2>&1
rc=$?
echo "@@LAB-END $NONCE rc=$rc@@"
sync
reboot -f
