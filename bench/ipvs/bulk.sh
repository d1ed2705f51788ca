#!/bin/bash
# IPVS bulk-load benchmark: 1,000 services x 10 real servers, then a
# one-real-server change, programmed by
#   * rk-ipvsadm --apply (rkeepalived-ipvs reconciler + pipelined netlink),
#   * rk-ipvsadm -R      (same client, plain restore),
#   * ipvsadm -R         (reference),
#   * rkeepalived -C and keepalived -C, the daemons, measured alike
#                        (generated keepalived.conf, no checkers; timed until
#                         `ipvsadm -Sn` shows all 10,000 dests, then SIGHUP
#                         with one dest changed, timed until it shows),
# all in the same guest boot. Prints seconds and ratios.
#
# Host usage (boots the lab guest; needs a release build of the example):
#   cargo build --release -p rkeepalived-ipvs --example rk-ipvsadm
#   cargo build --release
#   tests/lab/lab.sh run bench/ipvs/bulk.sh target/release/examples/rk-ipvsadm
# Optional 2nd/3rd args: number of services (1000) and dests per service (10);
# 4th: the daemon (target/release/rkeepalived).
set -u
RK=$(realpath "${1:-target/release/examples/rk-ipvsadm}")
NSVC=${2:-1000}
NDEST=${3:-10}
TOTAL=$((NSVC * NDEST))
RKD=$(realpath "${4:-target/release/rkeepalived}" 2>/dev/null || true)
W=$(mktemp -d /tmp/rki-bench.XXXXXX)
trap 'pkill -F $W/ka.pid 2>/dev/null; pkill -F $W/rkd.pid 2>/dev/null; rm -rf "$W"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
dest_count() { ipvsadm -Sn | grep -c '^-a'; }

# Services on 192.0.2.1 ports 10000+, dests 198.51.100.1..N:8080 (NAT, wrr).
{
  for ((s = 0; s < NSVC; s++)); do
    port=$((10000 + s))
    echo "-A -t 192.0.2.1:$port -s wrr"
    for ((d = 1; d <= NDEST; d++)); do
      echo "-a -t 192.0.2.1:$port -r 198.51.100.$d:8080 -m -w 1"
    done
  done
} >"$W/rules"
# The 1-dest change: weight of the 5th dest of the 500th service.
chg_port=$((10000 + NSVC / 2))
sed "s/^-a -t 192.0.2.1:$chg_port -r 198.51.100.5:8080 -m -w 1\$/-a -t 192.0.2.1:$chg_port -r 198.51.100.5:8080 -m -w 7/" \
  "$W/rules" >"$W/rules.changed"
cmp -s "$W/rules" "$W/rules.changed" && { echo "bench setup error: change not applied"; exit 1; }

{
  echo 'global_defs {'
  echo '  router_id rki-bench'
  echo '}'
  for ((s = 0; s < NSVC; s++)); do
    echo "virtual_server 192.0.2.1 $((10000 + s)) {"
    echo '  lb_algo wrr'
    echo '  lb_kind NAT'
    echo '  protocol TCP'
    for ((d = 1; d <= NDEST; d++)); do
      echo "  real_server 198.51.100.$d 8080 {"
      echo '    weight 1'
      echo '  }'
    done
    echo '}'
  done
} >"$W/keepalived.conf"
sed "/^virtual_server 192.0.2.1 $chg_port {/,/^}/ { /real_server 198.51.100.5 8080/,/}/ s/weight 1/weight 7/ }" \
  "$W/keepalived.conf" >"$W/keepalived.changed.conf"

echo "== $NSVC services x $NDEST dests = $TOTAL dests"
ipvsadm -C

# --- rk-ipvsadm --apply (reconciler) ---
t0=$(now); "$RK" --apply "$W/rules" 2>"$W/apply.log"; t1=$(now)
rk_apply=$(secs "$t0" "$t1")
[[ $(dest_count) -eq $TOTAL ]] || { echo "rk --apply: wrong dest count $(dest_count)"; exit 1; }
echo "rk-ipvsadm --apply      bulk: ${rk_apply}s  ($(head -1 "$W/apply.log"))"
t0=$(now); "$RK" --apply "$W/rules.changed" 2>"$W/apply2.log"; t1=$(now)
rk_change=$(secs "$t0" "$t1")
echo "rk-ipvsadm --apply  1-change: ${rk_change}s  ($(head -1 "$W/apply2.log"))"
grep -q "^planned 1 ops, applied 1" "$W/apply2.log" || { echo "FAIL: 1-dest change was not exactly one op"; exit 1; }
ipvsadm -Sn | grep -q -- "-r 198.51.100.5:8080 -m -w 7" || { echo "FAIL: change not visible"; exit 1; }
t0=$(now); "$RK" --apply "$W/rules.changed" 2>"$W/apply3.log"; t1=$(now)
echo "rk-ipvsadm --apply     no-op: $(secs "$t0" "$t1")s  ($(head -1 "$W/apply3.log"))"
ipvsadm -C

# --- rk-ipvsadm -R ---
t0=$(now); "$RK" -R <"$W/rules"; t1=$(now)
rk_restore=$(secs "$t0" "$t1")
[[ $(dest_count) -eq $TOTAL ]] || { echo "rk -R: wrong dest count"; exit 1; }
echo "rk-ipvsadm -R           bulk: ${rk_restore}s"
ipvsadm -C

# --- ipvsadm -R ---
t0=$(now); ipvsadm -R <"$W/rules"; t1=$(now)
ipvsadm_restore=$(secs "$t0" "$t1")
[[ $(dest_count) -eq $TOTAL ]] || { echo "ipvsadm -R: wrong dest count"; exit 1; }
echo "ipvsadm -R              bulk: ${ipvsadm_restore}s"
ipvsadm -C

# --- the daemons (checker process only), measured the same way: started
# on the generated keepalived.conf, timed until `ipvsadm -Sn` shows every
# dest (polled every 50 ms), then SIGHUP with one dest's weight changed,
# timed until the change shows. Sets ${2}_bulk / ${2}_change.
daemon_rows() {
  local label=$1 var=$2; shift 2
  local bulk=NA change=NA
  cp "$W/keepalived.orig.conf" "$W/keepalived.conf"
  t0=$(now)
  "$@" -C -n -l -f "$W/keepalived.conf" -p "$W/$var.pid" -c "$W/$var.c.pid" \
    -r "$W/$var.v.pid" >"$W/$var.log" 2>&1 &
  local pid=$!
  for ((i = 0; i < 6000; i++)); do
    [[ $(dest_count) -ge $TOTAL ]] && break
    sleep 0.05
  done
  t1=$(now)
  if [[ $(dest_count) -ge $TOTAL ]]; then
    bulk=$(secs "$t0" "$t1")
    printf '%-24s bulk: %ss (until ipvsadm shows %s dests)\n' "$label" "$bulk" "$TOTAL"
    cp "$W/keepalived.changed.conf" "$W/keepalived.conf"
    t0=$(now)
    kill -HUP "$pid"
    for ((i = 0; i < 6000; i++)); do
      ipvsadm -Sn | grep -q -- "-r 198.51.100.5:8080 -m -w 7" && break
      sleep 0.05
    done
    t1=$(now)
    change=$(secs "$t0" "$t1")
    printf '%-24s 1-change: %ss (SIGHUP)\n' "$label" "$change"
  else
    echo "$label did not load all dests in time; log:"; tail -5 "$W/$var.log"
  fi
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  ipvsadm -C
  printf -v "${var}_bulk" '%s' "$bulk"
  printf -v "${var}_change" '%s' "$change"
}
cp "$W/keepalived.conf" "$W/keepalived.orig.conf"
ka_bulk=NA ka_change=NA rkd_bulk=NA rkd_change=NA
if [[ -x $RKD ]]; then
  daemon_rows "rkeepalived (daemon)" rkd "$RKD" --dump-dir "$W" --status-socket "$W/rkd.sock"
fi
if command -v keepalived >/dev/null; then
  daemon_rows "keepalived" ka keepalived --no-syslog
fi

echo "== ratios (higher = rkeepalived faster)"
echo "ipvsadm -R / rk --apply   : $(ratio "$ipvsadm_restore" "$rk_apply")x"
echo "ipvsadm -R / rk -R        : $(ratio "$ipvsadm_restore" "$rk_restore")x"
if [[ $ka_bulk != NA ]]; then
  echo "keepalived / rk --apply   : $(ratio "$ka_bulk" "$rk_apply")x (bulk load, tool vs daemon)"
  echo "keepalived / rk --apply   : $(ratio "$ka_change" "$rk_change")x (1-dest reload, tool vs daemon)"
fi
if [[ $ka_bulk != NA && $rkd_bulk != NA ]]; then
  echo "keepalived / rkeepalived  : $(ratio "$ka_bulk" "$rkd_bulk")x (bulk load, daemon vs daemon, same polling)"
  echo "keepalived / rkeepalived  : $(ratio "$ka_change" "$rkd_change")x (1-dest SIGHUP, daemon vs daemon, same polling)"
fi
