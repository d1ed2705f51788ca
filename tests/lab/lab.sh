#!/usr/bin/env bash
# Real-kernel IPVS lab: boots Debian's stock kernel under qemu (TCG) with the
# host root shared read-only over 9p, and runs a script inside a chroot of it.
#
#   lab.sh build                 fetch kernel + modules, build the initramfs (idempotent)
#   lab.sh run SCRIPT [ARGS...]  boot, run SCRIPT in the guest, print its output,
#                                exit with its exit code
#   lab.sh shell                 boot into an interactive shell (debugging)
#   lab.sh clean                 remove the build cache
#
# Environment: LAB_TIMEOUT (s, default 300), LAB_MEM (MiB, default 1536),
# LAB_SMP (default 2), LAB_KERNEL (e.g. 6.1.0-56-amd64, default: what
# linux-image-amd64 depends on), LAB_BUILD_DIR (default tests/lab/.build),
# LAB_VERBOSE=1 (show the whole serial console), LAB_NO_LOCK=1 (allow
# concurrent guests; by default runs are serialised: the CPU is shared).
# See README.md in this directory for the recipe and for how tests use it.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${LAB_BUILD_DIR:-$LAB_DIR/.build}
LAB_TIMEOUT=${LAB_TIMEOUT:-300}
LAB_MEM=${LAB_MEM:-1536}
LAB_SMP=${LAB_SMP:-2}

# Modules loaded at boot, in this order (their dependencies are resolved and
# loaded first). crc32c_generic must precede ip_vs: libcrc32c only soft-depends
# on it and busybox does not honour softdeps.
BOOT_MODULES=(
  virtio_pci virtio_ring virtio virtio-rng
  netfs fscache 9pnet 9pnet_virtio 9p
  crc32c_generic libcrc32c
  nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6
  ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh
  ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh ip_vs_pe_sip
  tunnel4 ip_tunnel ipip tunnel6 ip6_tunnel fou gre ip_gre
  veth bridge macvlan dummy
)
# Copied into the initramfs but only loaded on demand (modprobe in the guest).
EXTRA_MODULES=(
  ip_vs_ftp nf_nat xt_MASQUERADE iptable_nat iptable_filter ip6_gre sit 8021q
  nfnetlink nf_tables
)

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 125; }

need_tools() {
  local missing=()
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  ((${#missing[@]} == 0)) || die "missing host tools: ${missing[*]} (apt-get install -y qemu-system-x86 busybox-static kmod cpio ipvsadm)"
}

kernel_version() {
  if [[ -n ${LAB_KERNEL:-} ]]; then echo "$LAB_KERNEL"; return; fi
  local v
  v=$(apt-cache depends linux-image-amd64 2>/dev/null |
      sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -n1)
  if [[ -z $v ]]; then
    # No apt lists (or offline): fall back to whatever is cached.
    v=$(ls "$BUILD"/kernel 2>/dev/null | sed -n 's/^vmlinuz-//p' | sort -V | tail -n1)
  fi
  [[ -n $v ]] || die "cannot determine kernel version: run 'apt-get update' or set LAB_KERNEL"
  echo "$v"
}

fetch_kernel() {
  local kver=$1 deb
  mkdir -p "$BUILD/kernel" "$BUILD/debs"
  if [[ -f $BUILD/kernel/vmlinuz-$kver && -d $BUILD/kernel/root/lib/modules/$kver ]]; then return; fi
  deb=$(ls "$BUILD"/debs/linux-image-"$kver"_*.deb 2>/dev/null | head -n1 || true)
  if [[ -z $deb ]]; then
    log "downloading linux-image-$kver"
    (cd "$BUILD/debs" && apt-get download "linux-image-$kver" >&2) ||
      die "apt-get download linux-image-$kver failed (try 'apt-get update')"
    deb=$(ls "$BUILD"/debs/linux-image-"$kver"_*.deb | head -n1)
  fi
  log "extracting $deb"
  rm -rf "$BUILD/kernel/root"
  dpkg-deb -x "$deb" "$BUILD/kernel/root"
  # The .deb ships no modules.dep: generate it so modprobe -d can resolve deps.
  depmod -b "$BUILD/kernel/root" "$kver"
  cp "$BUILD/kernel/root/boot/vmlinuz-$kver" "$BUILD/kernel/vmlinuz-$kver"
}

# Prints the .ko paths (relative to the module tree) needed for the given
# modules, dependencies first, each once.
module_closure() {
  local kver=$1; shift
  local root=$BUILD/kernel/root m
  for m in "$@"; do
    # Built-in modules print "builtin ..."; unknown ones fail: both are fine.
    modprobe -d "$root" -S "$kver" --show-depends "$m" 2>/dev/null |
      sed -n 's/^insmod \([^ ]*\).*/\1/p' || true
  done | awk '!seen[$0]++' | sed "s|^$root/lib/modules/$kver/||"
}

build_initramfs() {
  local kver=$1 stamp want ir
  want=$(printf '%s\n' "$kver" "${BOOT_MODULES[*]}" "${EXTRA_MODULES[*]}" |
         cat - "$LAB_DIR/lab.sh" "$LAB_DIR/guest-init.sh" | sha256sum | cut -c1-16)
  stamp=$BUILD/initramfs-$kver.stamp
  if [[ -f $BUILD/initramfs-$kver.cpio.gz && -f $stamp && $(cat "$stamp") == "$want" ]]; then return; fi
  log "building initramfs for $kver"
  ir=$BUILD/initramfs.tmp
  rm -rf "$ir"
  mkdir -p "$ir"/{bin,sbin,proc,sys,dev,host,tmp,run,etc,lib/modules/"$kver"}
  cp /bin/busybox "$ir/bin/busybox"
  # Only the applets init needs; the real work happens in the host chroot.
  local a
  for a in sh mount umount mkdir insmod modprobe chroot sleep cat echo poweroff reboot \
           ln ls hostname ip mdev sync dmesg seq rm grep sed; do
    ln -sf busybox "$ir/bin/$a"
  done
  ln -sf ../bin/busybox "$ir/sbin/modprobe"
  local src=$BUILD/kernel/root/lib/modules/$kver rel
  module_closure "$kver" "${BOOT_MODULES[@]}" >"$ir/etc/boot-modules"
  [[ -s $ir/etc/boot-modules ]] || die "module resolution found nothing (kmod modprobe -d broken?)"
  { cat "$ir/etc/boot-modules"; module_closure "$kver" "${EXTRA_MODULES[@]}"; } |
    awk '!seen[$0]++' | while read -r rel; do
      mkdir -p "$ir/lib/modules/$kver/$(dirname "$rel")"
      cp "$src/$rel" "$ir/lib/modules/$kver/$rel"
    done
  cp "$src"/modules.{order,builtin,builtin.modinfo} "$ir/lib/modules/$kver/" 2>/dev/null || true
  depmod -b "$ir" "$kver"
  install -m 0755 "$LAB_DIR/guest-init.sh" "$ir/init"
  echo "$kver" >"$ir/etc/kernel-version"
  (cd "$ir" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$BUILD/initramfs-$kver.cpio.gz.tmp"
  mv "$BUILD/initramfs-$kver.cpio.gz.tmp" "$BUILD/initramfs-$kver.cpio.gz"
  rm -rf "$ir"
  echo "$want" >"$stamp"
  log "initramfs: $(du -h "$BUILD/initramfs-$kver.cpio.gz" | cut -f1)"
}

cmd_build() {
  need_tools qemu-system-x86_64 busybox modprobe depmod cpio dpkg-deb gzip flock
  mkdir -p "$BUILD"
  exec 9>"$BUILD/build.lock"
  flock 9
  local kver
  kver=$(kernel_version)
  fetch_kernel "$kver"
  build_initramfs "$kver"
  echo "$kver" >"$BUILD/current-kernel"
  exec 9>&-
}

QEMU_PID_FILE=
RUN_DIR=
cleanup() {
  local pid
  if [[ -n $QEMU_PID_FILE && -s $QEMU_PID_FILE ]]; then
    pid=$(cat "$QEMU_PID_FILE" 2>/dev/null || true)
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      sleep 0.5
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  if [[ -n $RUN_DIR && -z ${LAB_KEEP_RUN:-} ]]; then rm -rf "$RUN_DIR"; fi
}

# boot MODE: MODE is "run" (script in $RUN_DIR) or "shell".
boot() {
  local mode=$1 kver nonce
  cmd_build
  kver=$(cat "$BUILD/current-kernel")
  nonce=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  mkdir -p "$BUILD/runs"
  RUN_DIR=$(mktemp -d "$BUILD/runs/run.XXXXXX")
  mkdir -p "$RUN_DIR/out"
  QEMU_PID_FILE=$RUN_DIR/qemu.pid
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  printf '%s\n' "$nonce" >"$RUN_DIR/nonce"
  printf '%s\n' "$mode" >"$RUN_DIR/mode"
  if [[ $mode == run ]]; then
    cp "$SCRIPT" "$RUN_DIR/script"
    chmod 0755 "$RUN_DIR/script"
    : >"$RUN_DIR/args"
    local a
    for a in "${SCRIPT_ARGS[@]}"; do printf '%s\0' "$a" >>"$RUN_DIR/args"; done
    # The guest cds to the caller's directory when it exists on the host root.
    printf '%s\n' "$PWD" >"$RUN_DIR/cwd"
    env | grep -E '^(LAB_|RUST_|CI=|RKL_|RKEEPALIVED_)' | grep -vE '^(LAB_OUT|LAB_RUN_DIR|LAB_GUEST)=' >"$RUN_DIR/env" || true
  fi
  if [[ -z ${LAB_NO_LOCK:-} && $mode == run ]]; then
    exec 8>"$BUILD/run.lock"
    if ! flock -n 8; then log "waiting for another lab guest to finish"; flock 8; fi
  fi
  local serial=(-serial stdio)
  local append="console=ttyS0 quiet loglevel=1 panic=-1 lab.run=$RUN_DIR lab.nonce=$nonce rootwait=0"
  # shellcheck disable=SC2054 # commas are qemu option syntax
  local qemu=(qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp "$LAB_SMP" -m "$LAB_MEM"
    -nodefaults -no-reboot -display none -monitor none "${serial[@]}"
    -kernel "$BUILD/kernel/vmlinuz-$kver" -initrd "$BUILD/initramfs-$kver.cpio.gz"
    -append "$append"
    -device virtio-rng-pci
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
    -virtfs "local,path=$RUN_DIR,mount_tag=labrun,security_model=none,multidevs=remap"
    -pidfile "$QEMU_PID_FILE")
  if [[ $mode == shell ]]; then
    "${qemu[@]}"
    return
  fi
  local rcfile=$RUN_DIR/rc verbose=${LAB_VERBOSE:-0} start=$SECONDS
  set +e
  timeout -k 5 "$LAB_TIMEOUT" "${qemu[@]}" </dev/null 2>&1 | tr -d '\r' | tee "$RUN_DIR/console.log" |
    awk -v nonce="$nonce" -v rcfile="$rcfile" -v verbose="$verbose" '
      $0 == "@@LAB-BEGIN " nonce "@@" { inside = 1; next }
      (i = index($0, "@@LAB-END " nonce " rc=")) > 0 {
        if (i > 1 && (inside || verbose == "1")) print substr($0, 1, i - 1)
        $0 = substr($0, i)
        rc = substr($0, length("@@LAB-END " nonce " rc=") + 1); sub(/@@$/, "", rc)
        print rc > rcfile; close(rcfile); inside = 0; next }
      inside || verbose == "1" { print; fflush() }'
  local qrc=${PIPESTATUS[0]}
  set -e
  if [[ -s $rcfile ]]; then
    local rc
    rc=$(cat "$rcfile")
    log "guest script exited $rc after $((SECONDS - start)) s"
    [[ -n ${LAB_OUT_COPY:-} ]] && cp -a "$RUN_DIR/out/." "$LAB_OUT_COPY/"
    return "$rc"
  fi
  if ((qrc == 124 || qrc == 137)); then
    log "TIMEOUT: guest did not finish within ${LAB_TIMEOUT} s (LAB_TIMEOUT)"
  else
    log "guest ended without an exit marker (qemu exit $qrc)"
  fi
  log "last console lines:"
  tail -n 40 "$RUN_DIR/console.log" >&2 || true
  [[ -n ${LAB_OUT_COPY:-} ]] && cp -a "$RUN_DIR/out/." "$LAB_OUT_COPY/" 2>/dev/null
  if ((qrc == 124 || qrc == 137)); then return 124; fi
  return 125
}

case ${1:-} in
  build) cmd_build; log "ready: $BUILD (kernel $(cat "$BUILD/current-kernel"))" ;;
  run)
    shift
    [[ $# -ge 1 ]] || die "usage: lab.sh run SCRIPT [ARGS...]"
    SCRIPT=$1; shift
    SCRIPT_ARGS=("$@")
    [[ -f $SCRIPT ]] || die "no such script: $SCRIPT"
    # The guest mounts fresh tmpfs over these host directories (the list in
    # guest-init.sh): a repository below one of them is invisible there.
    for d in /tmp /run /var/tmp /var/log /var/lib /etc/keepalived /root /home /mnt /srv; do
      case "$LAB_DIR/" in
        "$d"/*) die "the repository ($LAB_DIR) is below $d, which the guest covers with a tmpfs: clone it elsewhere (e.g. /work, /opt or /usr/src)" ;;
      esac
    done
    need_tools qemu-system-x86_64 timeout awk
    boot run
    ;;
  shell) boot shell ;;
  clean) rm -rf "$BUILD" ;;
  *) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
