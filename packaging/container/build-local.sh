#!/usr/bin/env bash
# Builds the rkeepalived image without any registry, then runs it as the
# Containerfile's header says (--network host, NET_ADMIN/NET_RAW) inside a
# network namespace made for the purpose, and checks that the VIP comes up
# and goes away on stop:
#
#   packaging/container/build-local.sh          (as root; about a few minutes)
#
# 1. base image: debootstrap (minbase) of Debian bookworm, `podman import`ed
#    as localhost/rkl-debian:bookworm (kept between runs; RKL_REBUILD_BASE=1
#    makes it again);
# 2. binary: cargo build (debug unless RKL_PROFILE=release), stripped into
#    target/container/rkeepalived (.containerignore lets only it in);
# 3. `podman build` of packaging/container/Containerfile with
#    RUNTIME_IMAGE=localhost/rkl-debian:bookworm and BINARY_FROM=prebuilt
#    (--network host: the runtime stage's apt-get reaches Debian's mirror
#    without a podman bridge);
# 4. a netns rkc-PID with eth0 (192.0.2.2/24, veth to peer0), a VRRP MASTER
#    config for 192.0.2.100/24 on eth0, and `nsenter --net=NS podman run
#    --network host --cap-add NET_ADMIN --cap-add NET_RAW`: the VIP must
#    appear on eth0 of the namespace, and disappear after `podman stop`.
#
# Prints "== STEP name: ok|FAIL (N s)"; exits non-zero on the first failure.
# Podman's storage lives under RKL_SCRATCH (default /var/tmp/rkl-container).
# Needs root, debootstrap, podman (buildah inside) and runc.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCRATCH=${RKL_SCRATCH:-/var/tmp/rkl-container}
BASE=localhost/rkl-debian:bookworm
IMAGE=localhost/rkeepalived:latest
MIRROR=${RKL_MIRROR:-http://deb.debian.org/debian}
PROFILE=${RKL_PROFILE:-debug}
NS=rkc-$$
CTR=rkl-vip-$$
VIP=192.0.2.100
mkdir -p "$SCRATCH"
# runc, not crun: crun refuses a host with hybrid cgroups ("cgroups in
# hybrid mode not supported, drop all controllers from cgroupv2").
RUNTIME=${RKL_OCI_RUNTIME:-runc}
PODMAN=(podman --root "$SCRATCH/storage" --runroot "$SCRATCH/run"
  --cgroup-manager cgroupfs --events-backend file --runtime "$RUNTIME")
podman() { command "${PODMAN[@]}" "$@"; }
# Limits no higher than ours: podman's defaults (nofile 1048576) fail where
# the host denies raising them ("setrlimit RLIMIT_NOFILE: Operation not
# permitted").
nproc=$(ulimit -Hu); [[ $nproc == unlimited || $nproc -gt 4096 ]] && nproc=4096
ULIMITS=(--ulimit "nofile=$(ulimit -Sn):$(ulimit -Sn)" --ulimit "nproc=$nproc:$nproc")

T0=$SECONDS
step() { step_name=$1; step_t=$SECONDS; echo; echo "== STEP $step_name ($(date -u +%T))"; }
ok() { echo "== STEP $step_name: ok ($((SECONDS - step_t)) s)"; }
cleanup() {
  podman rm -f -t 5 "$CTR" >/dev/null 2>&1
  ip netns del "$NS" 2>/dev/null
  rm -rf "$SCRATCH/base-root" "$SCRATCH/conf-$$"
}
fail() { echo "== STEP $step_name: FAIL ($((SECONDS - step_t)) s): $*"; cleanup; echo "== total $((SECONDS - T0)) s, exit 1"; exit 1; }
trap cleanup EXIT

step "base image $BASE"
if [[ ${RKL_REBUILD_BASE:-0} == 1 ]] || ! podman image exists "$BASE"; then
  rm -rf "$SCRATCH/base-root"
  debootstrap --variant=minbase --include=iproute2,ipvsadm,ca-certificates \
    bookworm "$SCRATCH/base-root" "$MIRROR" >"$SCRATCH/debootstrap.log" 2>&1 \
    || { tail -n 20 "$SCRATCH/debootstrap.log"; fail "debootstrap"; }
  rm -rf "$SCRATCH"/base-root/var/cache/apt/archives/*.deb "$SCRATCH"/base-root/var/lib/apt/lists/*
  tar -C "$SCRATCH/base-root" --numeric-owner -c . | podman import \
    --change 'CMD ["/bin/bash"]' - "$BASE" || fail "podman import"
  rm -rf "$SCRATCH/base-root"
fi
podman image ls "$BASE"
ok

step "binary ($PROFILE)"
flags=(); [[ $PROFILE == release ]] && flags=(--release)
(cd "$REPO" && CARGO_INCREMENTAL=0 cargo build -q "${flags[@]}" -p rkeepalived --bin rkeepalived) || fail "cargo build"
mkdir -p "$REPO/target/container"
strip -o "$REPO/target/container/rkeepalived" "$REPO/target/$PROFILE/rkeepalived" || fail "strip"
ok

step "podman build $IMAGE"
podman build --network host "${ULIMITS[@]}" \
  --build-arg RUNTIME_IMAGE="$BASE" --build-arg BINARY_FROM=prebuilt \
  --build-arg PREBUILT=target/container/rkeepalived \
  -t "$IMAGE" -f "$REPO/packaging/container/Containerfile" "$REPO" || fail "podman build"
podman image ls "$IMAGE"
podman run --rm "${ULIMITS[@]}" --network none "$IMAGE" --version || fail "the image's binary does not run"
ok

step "run with --network host in netns $NS: the VIP comes up"
ip netns add "$NS" || fail "ip netns add"
ip -n "$NS" link add eth0 type veth peer name peer0
ip -n "$NS" addr add 192.0.2.2/24 dev eth0
ip -n "$NS" link set lo up
ip -n "$NS" link set eth0 up
ip -n "$NS" link set peer0 up
mkdir -p "$SCRATCH/conf-$$"
cat >"$SCRATCH/conf-$$/keepalived.conf" <<CONF
global_defs {
    router_id container_test
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        $VIP/24
    }
}
CONF
# nsenter, not `ip netns exec`: that one mounts a fresh /sys, without the
# cgroup mounts the OCI runtime needs ("no cgroup mount found in mountinfo").
nsenter --net="/run/netns/$NS" "${PODMAN[@]}" run -d --name "$CTR" --network host "${ULIMITS[@]}" \
  --cap-add NET_ADMIN --cap-add NET_RAW --cap-add NET_BIND_SERVICE \
  -v "$SCRATCH/conf-$$:/etc/keepalived:ro" "$IMAGE" || fail "podman run"
up=
for i in $(seq 30); do
  if ip -n "$NS" -4 addr show dev eth0 | grep -q "$VIP/24"; then up=$i; break; fi
  sleep 1
done
podman logs "$CTR" 2>&1 | tail -n 15
ip -n "$NS" -4 -br addr
[[ -n $up ]] || fail "no $VIP on eth0 of $NS after 30 s"
echo "VIP up after ~${up} s"
ok

step "podman stop: the VIP goes away"
podman stop -t 10 "$CTR" >/dev/null || fail "podman stop"
podman logs "$CTR" 2>&1 | tail -n 4
ip -n "$NS" -4 -br addr
ip -n "$NS" -4 addr show dev eth0 | grep -q "$VIP" && fail "$VIP still on eth0 after stop"
ok

echo "== total $((SECONDS - T0)) s, exit 0"
