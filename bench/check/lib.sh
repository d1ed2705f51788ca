# Shared by the checker benchmarks (sourced; they set ROOT, HERE and NS).

# bench_prologue WHO: must be root with keepalived and a C compiler; makes
# the scratch dir $work and removes it and the namespace $NS (killing what
# runs there) at exit, also on ^C.
bench_prologue() {
  local who=$1
  [[ $(id -u) = 0 ]] || { echo "$who: must run as root (network namespace)" >&2; exit 1; }
  command -v keepalived >/dev/null || { echo "$who: keepalived not installed" >&2; exit 1; }
  command -v cc >/dev/null || { echo "$who: a C compiler is needed for fake_ipvs.so" >&2; exit 1; }
  work=$(mktemp -d "/tmp/rkc-${who%.sh}.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$work"
}

# build_fake_ipvs: $work/fake_ipvs.so, preloaded into keepalived in place
# of the kernel's IPVS (this host has none; its checker exits without).
build_fake_ipvs() {
  cc -O2 -Wall -shared -fPIC -o "$work/fake_ipvs.so" "$HERE/fake_ipvs.c" -ldl
}
