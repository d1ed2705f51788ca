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

# listener_netns PORT: the namespace $NS with loopback up, 127.2.0.1 (the
# victim's address), room for many short connections (ports, TIME_WAIT
# reuse, backlogs), and an nft counter of the SYN-ACKs sent from PORT: the
# listener side of every check, the same for every contender (a half-open
# probe and a full handshake both get one).
listener_netns() {
  local port=$1
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  ip -n "$NS" addr add 127.2.0.1/32 dev lo 2>/dev/null || true
  ip netns exec "$NS" sysctl -q -w net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1 \
    net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535
  ip netns exec "$NS" nft -f - <<NFT
table inet bench {
  chain out {
    type filter hook output priority 0; policy accept;
    tcp sport $port tcp flags & (syn | ack) == syn | ack counter
  }
}
NFT
}

# synacks: the SYN-ACKs counted so far in $NS.
synacks() {
  ip netns exec "$NS" nft list ruleset | awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}
