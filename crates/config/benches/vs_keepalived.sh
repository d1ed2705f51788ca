#!/bin/sh
# Config load time, rkeepalived-config vs keepalived 2.2.7 (`keepalived -t`),
# same machine, same generated file (1000 virtual servers x 8 real servers
# with HTTP_GET, 125 VRRP instances). Prints both medians and the ratio.
# Usage: crates/config/benches/vs_keepalived.sh [runs]
set -eu
runs=${1:-7}
root=$(cd "$(dirname "$0")/../../.." && pwd)
conf=$(mktemp /tmp/rk-bench-XXXXXX.conf)
trap 'rm -f "$conf"' EXIT INT TERM
command -v keepalived >/dev/null || { echo "keepalived not installed (apt-get install -y keepalived)"; exit 1; }
cd "$root"
cargo build -q --release -p rkeepalived-config --example print_conf
# The criterion bench writes its largest generated config when asked.
RK_WRITE_BENCH_CONF="$conf" cargo bench -q -p rkeepalived-config --bench parse -- \
    --warm-up-time 0.1 --measurement-time 0.1 "load/print/1000" >/dev/null 2>&1
[ -s "$conf" ] || { echo "bench config not written"; exit 1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() {
    i=0
    while [ "$i" -lt "$runs" ]; do
        s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
        echo $(( (e - s) / 1000000 ))
        i=$((i + 1))
    done | median
}
rk=$(time_runs ./target/release/examples/print_conf "$conf")
ka=$(time_runs keepalived -t -f "$conf")
echo "config: $(wc -c < "$conf") bytes"
echo "rkeepalived load+print: ${rk} ms (median of $runs)"
echo "keepalived -t:          ${ka} ms (median of $runs)"
awk -v a="$rk" -v b="$ka" 'BEGIN { if (b > 0) printf "ratio rkeepalived/keepalived: %.2f\n", a / b }'
