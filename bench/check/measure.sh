#!/usr/bin/env bash
# One benchmark run of one checker (inside the lab guest or on the host).
#   measure.sh NAME CONF SECONDS -- COMMAND...
# Starts COMMAND, waits for warm-up (all checks started), samples CPU time
# (utime+stime of the whole process tree) and peak RSS over SECONDS, then
# kills the victim listener and measures how long until 127.2.0.1 leaves
# IPVS (ipvsadm -Ln). Prints one "RESULT name cpu_s rss_kib detect_ms" line.
set -euo pipefail
name=$1 conf=$2 seconds=$3; shift 4
VICTIM_PORT=${VICTIM_PORT:-18081}
VICTIM_VS=${VICTIM_VS:?virtual service holding the victim, e.g. 203.0.113.11:80}
WARMUP=${WARMUP:-3}
HERE=$(cd "$(dirname "$0")" && pwd)

tree_pids() { # pid and all descendants
  local p=$1; echo "$p"
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree_pids "$c"; done
}
cpu_ticks() { local t=0; for p in $(tree_pids "$1"); do
  [[ -r /proc/$p/stat ]] || continue
  # Fields after "pid (comm) ": utime and stime are the 12th and 13th.
  f=($(sed 's/^.*) //' /proc/"$p"/stat 2>/dev/null || echo))
  ((${#f[@]} > 12)) && t=$((t + f[11] + f[12])); done; echo "$t"; }
rss_kib() { local r=0; for p in $(tree_pids "$1"); do
  v=$(awk '/^VmRSS/ {print $2}' /proc/"$p"/status 2>/dev/null || echo 0); r=$((r + ${v:-0})); done; echo "$r"; }
victim_in_ipvs() {
  # Only the victim's virtual service: listing 10k dests per poll is slow under TCG.
  ipvsadm -Ln -t "$VICTIM_VS" 2>/dev/null | grep -q -- "-> 127.2.0.1:$VICTIM_PORT "
}

python3 "$HERE/listener.py" --port "$VICTIM_PORT" --bind 127.2.0.1 --procs 1 --seconds $((seconds + 1800)) &
victim=$!
log=$(mktemp /tmp/rkc-measure-"$name".XXXXXX)
"$@" >"$log" 2>&1 &
pid=$!
trap 'kill $pid $victim 2>/dev/null || true; wait 2>/dev/null || true' EXIT
# Warm-up: warmup spreads first checks over delay_loop; then IPVS is populated.
sleep "$WARMUP"
for _ in $(seq 1 200); do victim_in_ipvs && break; sleep 0.1; done
victim_in_ipvs || {
  echo "victim never entered IPVS for $name; ipvsadm -Ln -t $VICTIM_VS and the checker log:" >&2
  ipvsadm -Ln -t "$VICTIM_VS" 2>&1 | tail -5 >&2
  tail -20 "$log" >&2
}
hz=$(getconf CLK_TCK)
t0=$(cpu_ticks "$pid")
peak=0
for _ in $(seq 1 "$seconds"); do
  sleep 1
  r=$(rss_kib "$pid"); ((r > peak)) && peak=$r
done
t1=$(cpu_ticks "$pid")
cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
# Detection latency: victim down -> removed from IPVS.
kill "$victim"; wait "$victim" 2>/dev/null || true
start=$(date +%s%N)
detect=timeout
for _ in $(seq 1 200); do
  if ! victim_in_ipvs; then detect=$(( ($(date +%s%N) - start) / 1000000 )); break; fi
  sleep 0.02
done
echo "RESULT $name $cpu $peak $detect"
