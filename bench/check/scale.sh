#!/usr/bin/env bash
# Checker scale benchmark: N real servers with TCP_CHECK every 1 s
# (listeners on 127.1.0.0/16 served by one accept-and-close listener),
# keepalived 2.2.7's checker vs rkeepalived's, same config, same run.
#
#   bench/check/scale.sh [N=10000] [SECONDS=30]
#
# keepalived's checker refuses to start without IPVS and this host kernel
# has none, so both run inside the qemu lab guest (tests/lab, Debian 6.1
# kernel, TCG emulation): absolute numbers are slow, the ratio is what we
# compare. Prints CPU seconds, CPU per check, peak RSS, and detection
# latency (victim server killed -> gone from /proc/net/ip_vs) against the
# budget delay_loop + retry x delay_before_retry + 100 ms = 2.1 s.
set -euo pipefail
N=${1:-10000}
SECS=${2:-30}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"

cargo build --release -q -p rkeepalived-check --example check-node
[[ -x tests/lab/lab.sh ]] || { echo "tests/lab/lab.sh missing: the lab is needed for keepalived's checker (IPVS)" >&2; exit 1; }
out=$(mktemp /tmp/rkc-scale.XXXXXX)
trap 'rm -f "$out"' EXIT
LAB_TIMEOUT=${LAB_TIMEOUT:-$((6 * SECS + 400))} tests/lab/lab.sh run bench/check/guest.sh "$N" "$SECS" "$ROOT" | tee "$out"

awk -v n="$N" -v secs="$SECS" '
  $1 == "RESULT" { cpu[$2] = $3; rss[$2] = $4; det[$2] = $5 }
  END {
    checks = n * secs   # one check per server per second (delay_loop 1)
    printf "\n%-12s %10s %14s %12s %12s\n", "checker", "cpu_s", "cpu_us/check", "rss_KiB", "detect_ms"
    for (k in cpu) printf "%-12s %10.2f %14.2f %12d %12s\n", k, cpu[k], cpu[k] * 1e6 / checks, rss[k], det[k]
    if (cpu["keepalived"] > 0 && rss["keepalived"] > 0) {
      printf "\nratio rkeepalived/keepalived: cpu %.3f (target <= 0.5), rss %.3f (target <= 1.0)\n",
        cpu["rkeepalived"] / cpu["keepalived"], rss["rkeepalived"] / rss["keepalived"]
    }
    printf "detection budget: 2100 ms (delay_loop 1 s + retry 1 x delay_before_retry 1 s + 100 ms)\n"
  }' "$out"
