#!/usr/bin/env bash
# Connection-survival benchmark (issue #12, stateful director failover).
#
#   flock /tmp/rkd-bench.lock bench/survive/run.sh
#
# One lab guest boot (tests/lab/lab.sh) runs tests/lab/survive.sh for every
# mode (DR, NAT) x sync (lvs_sync_daemon or none) x implementation
# (keepalived 2.2.7, rkeepalived), the two implementations back to back for
# each (mode, sync), then writes the table into bench/survive/README.md
# (between the results markers) and the raw LAB-SURVIVE lines into
# bench/survive/results.txt.
#
# Environment: N (connections, default 200), OBSERVE_S (20), SETTLE_S (5),
# MODES ("DR NAT"), SYNCS ("sync nosync"), RKEEPALIVED_BIN (default: a
# debug build of this checkout, built here), NO_WRITE=1 (print only),
# KEEP=DIR (keep the daemons', client's and echo servers' logs there).
# Needs root, the lab's packages (tests/lab/README.md) and ~15 min of the
# emulated CPU; hold the shared benchmark lock, as above.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
N=${N:-200}
OBSERVE_S=${OBSERVE_S:-20}
SETTLE_S=${SETTLE_S:-5}
MODES=${MODES:-DR NAT}
SYNCS=${SYNCS:-sync nosync}
OUT=$ROOT/bench/survive

if [[ -z ${RKEEPALIVED_BIN:-} ]]; then
  CARGO_INCREMENTAL=0 cargo build --bin rkeepalived
  RKEEPALIVED_BIN=$ROOT/target/debug/rkeepalived
fi
tests/lab/lab.sh build >/dev/null

mkdir -p tests/lab/.build/scripts
guest=tests/lab/.build/scripts/survive-bench-$$.sh
{
  echo '#!/bin/bash'
  echo "export LAB_SURVIVE_N=$N LAB_SURVIVE_OBSERVE_S=$OBSERVE_S LAB_SURVIVE_SETTLE_S=$SETTLE_S"
  for mode in $MODES; do
    for sync in $SYNCS; do
      for daemon in keepalived rkeepalived; do
        echo "$ROOT/tests/lab/survive.sh $daemon $mode $sync"
      done
    done
  done
} >"$guest"
chmod +x "$guest"
trap 'rm -f "$guest"' EXIT

raw=$(mktemp /tmp/survive-bench.XXXXXX)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
cases=$(( $(wc -w <<<"$MODES") * $(wc -w <<<"$SYNCS") * 2 ))
[[ -n ${KEEP:-} ]] && mkdir -p "$KEEP" && export LAB_OUT_COPY=$KEEP
RKEEPALIVED_BIN=$RKEEPALIVED_BIN LAB_TIMEOUT=$(( cases * (OBSERVE_S + 150) + 120 )) \
  tests/lab/lab.sh run "$guest" | tee "$raw" || true

commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- crates src tests/lab ':!*.md' || commit="$commit+changes"
kaver=$(keepalived --version 2>&1 | sed -n '1s/^Keepalived v\([^ ]*\).*/\1/p')
python3 "$OUT/table.py" "$raw" "$started" "$commit" "$N" "$OBSERVE_S" "$kaver" >"$raw.md"
cat "$raw.md"
if [[ -z ${NO_WRITE:-} ]]; then
  grep -E '^(== survival lab|LAB-SURVIVE|LAB-CHECK .* FAIL)' "$raw" >"$OUT/results.txt" || true
  python3 - "$OUT/README.md" "$raw.md" <<'EOF'
import sys
readme, table = sys.argv[1], open(sys.argv[2]).read()
text = open(readme).read()
begin, end = "<!-- results:begin -->\n", "<!-- results:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open(readme, "w").write(text[:a] + table + text[b:])
EOF
  echo "written: $OUT/README.md, $OUT/results.txt"
fi
rm -f "$raw" "$raw.md"
