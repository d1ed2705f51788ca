#!/usr/bin/env python3
"""Where the time goes between a verdict and its IPVS delete.

    verdict_profile.py DIR [PERF_DATA]

DIR holds check.log and ops.log of `KEEP_LOG=DIR bench/check/verdict.sh`
(run with RUST_LOG=info,rkeepalived_check::engine=debug for the engine's
"planned/diffed in" lines). For every kill it prints the timeline: the
checker's "TCP_CHECK ... failed" line (the verdict), the health model's
"Removing service" line, the engine's IPVS update line with the time it
reports for planning and applying, and the op log's delete. With
PERF_DATA (`PERF=FILE`, sampled on CLOCK_REALTIME) it also sums the
samples that fall inside the verdict -> delete windows, by thread and by
function (self, and inclusive for this project's functions).
"""
import collections
import datetime
import re
import subprocess
import sys

VICTIM = "127.2.0.1"


def ts(stamp):
    # RFC 3339 with ns or us, UTC.
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d+)Z", stamp)
    base = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    frac = m.group(2).ljust(9, "0")[:9]
    return int(base.timestamp()) * 1_000_000_000 + int(frac)


def main():
    d = sys.argv[1]
    lines = open(f"{d}/check.log", errors="replace").read().splitlines()
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", l) for l in lines]
    deletes = []
    for l in open(f"{d}/ops.log"):
        if f"delete dest {VICTIM}" in l:
            deletes.append(int(l.split()[0]))
    windows = []
    for i, l in enumerate(lines):
        if "TCP_CHECK on service [" + VICTIM in l and "failed" in l:
            t0 = ts(l.split()[0])
            rem = upd = None
            for l2 in lines[i + 1:i + 40]:
                if rem is None and "Removing service [" + VICTIM in l2:
                    rem = ts(l2.split()[0])
                elif rem is not None and "IPVS" in l2 and "DEBUG" in l2:
                    upd = (ts(l2.split()[0]), l2.split("IPVS", 1)[1][:110])
                    break
            dl = next((x for x in deletes if x >= t0), None)
            windows.append((t0, dl))
            us = lambda t: "-" if t is None else f"+{(t - t0) / 1000:.0f} us"
            print(f"verdict {l.split()[0]}: model updated {us(rem)}, delete applied {us(dl)}")
            if upd:
                print(f"    engine: IPVS{upd[1]} (logged {us(upd[0])})")
    if len(sys.argv) < 3:
        return
    out = subprocess.run(
        ["perf", "script", "-i", sys.argv[2], "-F", "comm,tid,time,ip,sym", "--ns"],
        capture_output=True, text=True, check=True).stdout
    by_thread = collections.Counter()
    leaf = collections.Counter()
    incl = collections.Counter()
    total = 0
    for block in out.split("\n\n"):
        rows = block.strip("\n").splitlines()
        if not rows:
            continue
        m = re.match(r"\s*(.+?)\s+(\d+)\s+(\d+)\.(\d+):", rows[0])
        if not m:
            continue
        t = int(m.group(3)) * 1_000_000_000 + int(m.group(4).ljust(9, "0")[:9])
        if not any(a <= t <= (b or a) for a, b in windows):
            continue
        total += 1
        by_thread[m.group(1)] += 1
        frames = [r.strip().split(None, 1)[-1] for r in rows[1:] if r.strip()]
        frames = [re.sub(r"\+0x[0-9a-f]+$", "", f) for f in frames]
        if frames:
            leaf[frames[0][:110]] += 1
        for f in set(frames):
            if "rkeepalived" in f:
                incl[f[:110]] += 1
    span = sum((b - a) for a, b in windows if b) / 1e6
    print(f"\nperf samples in the verdict -> delete windows ({span:.1f} ms in all): {total}")
    print("by thread:", ", ".join(f"{k} {v}" for k, v in by_thread.most_common()))
    print("self (top 15):")
    for k, v in leaf.most_common(15):
        print(f"  {100 * v / max(total, 1):5.1f}%  {k}")
    print("inclusive, this project's functions (top 15):")
    for k, v in incl.most_common(15):
        print(f"  {100 * v / max(total, 1):5.1f}%  {k}")


if __name__ == "__main__":
    main()
