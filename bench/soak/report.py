#!/usr/bin/env python3
"""Soak report: the RSS / descriptor curve of each process (first, last,
min, max and the least-squares slope per hour) from soak.sh's CSV, and the
advert lateness of our node from a `tcpdump -tt` capture: an advert is late
when it follows the previous one by more than 1.1 x the advert interval
(RFC 5798 s. 6.4.3 sends one every Advertisement_Interval) outside the
windows in which a fault was injected and the node settled again (a killed
or restarted VRRP process is silent by design)."""
import argparse, csv, re

p = argparse.ArgumentParser()
p.add_argument("--csv", required=True)
p.add_argument("--adverts", required=True)
p.add_argument("--faults", required=True)
p.add_argument("--source", required=True)
p.add_argument("--interval", type=float, required=True)
p.add_argument("--margin", type=float, default=1.0, help="s after a fault window's settle")
a = p.parse_args()


def slope_per_hour(ts, vs):
    n = len(ts)
    if n < 2:
        return 0.0
    mt, mv = sum(ts) / n, sum(vs) / n
    den = sum((t - mt) ** 2 for t in ts)
    return 0.0 if den == 0 else 3600 * sum((t - mt) * (v - mv) for t, v in zip(ts, vs)) / den


rows = list(csv.DictReader(open(a.csv)))
print(f"rounds: {len(rows)}, violations: {sum(1 for r in rows if r['ok'] != '1')}")
if rows:
    ts = [float(r["t"]) for r in rows]
    print(f"{'column':<16}{'first':>10}{'last':>10}{'min':>10}{'max':>10}{'slope/h':>12}")
    for col in ("sup_rss_kb", "vrrp_rss_kb", "checker_rss_kb", "sup_fds", "vrrp_fds", "checker_fds"):
        # A respawned child starts small again: the curve is what matters.
        vs = [float(r[col] or 0) for r in rows]
        print(f"{col:<16}{vs[0]:>10.0f}{vs[-1]:>10.0f}{min(vs):>10.0f}{max(vs):>10.0f}{slope_per_hour(ts, vs):>12.1f}")

windows = []
for line in open(a.faults):
    f = line.split()
    if len(f) >= 2:
        windows.append((float(f[0]) - 0.1, float(f[1]) + a.margin))
src = re.compile(r"^(\d+\.\d+) IP6? (\S+) > .*VRRP")
times = []
for line in open(a.adverts):
    m = src.match(line)
    if m and m.group(2) == a.source:
        times.append(float(m.group(1)))
late = 0
worst = 0.0
counted = 0
for prev, cur in zip(times, times[1:]):
    if any(s < cur and prev < e for s, e in windows):
        continue
    counted += 1
    gap = cur - prev
    worst = max(worst, gap)
    if gap > 1.1 * a.interval:
        late += 1
print(f"adverts from {a.source}: {len(times)}, gaps outside fault windows: {counted}, "
      f"longest {worst:.3f} s (interval {a.interval} s, late above {1.1 * a.interval:.3f} s)")
print(f"late adverts outside fault windows: {late}")
