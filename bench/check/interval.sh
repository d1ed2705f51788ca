#!/usr/bin/env bash
# The interval between successive HTTP_GETs of one real server
# (delay_loop 1), keepalived 2.2.7's checker (fake_ipvs.so preloaded) and
# ours (check-node --mock), one after the other, from the SYNs tcpdump sees
# in a private namespace. On an idle host both schedule the next check
# delay_loop after the previous one ended (ours from the answer's arrival,
# driver.rs answer_arrival): the intervals must agree to about a ms.
#
#   flock /tmp/rkd-bench.lock bench/check/interval.sh   (SECS=14 per contender)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd); HERE=$ROOT/bench/check; NS=rkc-int$$; PORT=18080
. $HERE/lib.sh
bench_prologue interval.sh
build_fake_ipvs
cc -O2 -Wall -o "$work/tiny_server" "$HERE/tiny_server.c"
listener_netns $PORT
python3 "$HERE/gen_conf.py" 1 $PORT 18081 1 http 1 > "$work/k.conf"
ip netns exec $NS $work/tiny_server http 0.0.0.0 $PORT 1 100000 >/dev/null 2>&1 &
ip netns exec $NS $work/tiny_server http 127.2.0.1 18081 1 100000 >/dev/null 2>&1 &
disown -a; sleep 0.3
for who in keepalived rkeepalived; do
  ip netns exec $NS tcpdump -i lo -nn -tt -l 'tcp dst port 18080 and tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0' > $work/$who.cap 2>/dev/null &
  tp=$!; sleep 0.5
  if [[ $who = keepalived ]]; then
    ip netns exec $NS env LD_PRELOAD=$work/fake_ipvs.so FAKE_IPVS_LOG=$work/ops keepalived -n -C -l -f $work/k.conf -p $work/ka.pid -c $work/kc.pid >/dev/null 2>&1 &
  else
    ip netns exec $NS env RUST_LOG=warn $ROOT/target/release/examples/check-node --mock $work/k.conf >/dev/null 2>&1 &
  fi
  p=$!; sleep ${SECS:-14}; kill $p; wait $p 2>/dev/null || true; sleep 0.3; kill $tp; wait $tp 2>/dev/null || true
  awk -v who=$who '$1 ~ /^[0-9]+[.][0-9]+$/ {t=$1+0; if (p) { d=(t-p)*1000; n++; s+=d; if (d>mx) mx=d; if (!mn || d<mn) mn=d } p=t} END { printf "%-11s checks %d  interval ms: mean %.2f min %.2f max %.2f\n", who, n+1, s/n, mn, mx }' $work/$who.cap
done
