#!/usr/bin/env python3
"""Per-phase loss report for the failover labs.

summarize.py CLIENT_LOG PHASES_FILE
  PHASES_FILE lines: "<unix time> <phase name>" in order; a phase lasts until
  the next one starts ("end" closes the last). Prints one line per phase:
  LAB-RESULT phase=NAME requests=N failed=N max_outage_ms=N tail_failed=N served=web1_80:N,...
  (tail_failed counts failures in the phase's last 2 s.)
"""
import sys


def main() -> int:
    requests = []
    with open(sys.argv[1]) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 2:
                requests.append((float(fields[0]), fields[1] == "ok", fields[2] if len(fields) > 2 else ""))
    phases = []
    with open(sys.argv[2]) as f:
        for line in f:
            fields = line.split()
            if len(fields) == 2:
                phases.append((float(fields[0]), fields[1]))
    for (start, name), (end, _) in zip(phases, phases[1:]):
        in_phase = [r for r in requests if start <= r[0] < end]
        failed = sum(1 for r in in_phase if not r[1])
        # Longest run of consecutive failures, measured first-fail to next ok.
        outage, max_outage, fail_start = 0.0, 0.0, None
        for t, ok, _ in in_phase:
            if not ok and fail_start is None:
                fail_start = t
            elif ok and fail_start is not None:
                max_outage = max(max_outage, t - fail_start)
                fail_start = None
        if fail_start is not None:
            max_outage = max(max_outage, end - fail_start)
        # Requests in the phase's last 2 s: did service settle by its end?
        tail_failed = sum(1 for r in in_phase if r[0] >= end - 2.0 and not r[1])
        served = {}
        for _, ok, body in in_phase:
            if ok:
                served[body] = served.get(body, 0) + 1
        served_txt = ",".join(f"{k}:{v}" for k, v in sorted(served.items())) or "-"
        print(f"LAB-RESULT phase={name} requests={len(in_phase)} failed={failed} "
              f"max_outage_ms={int(max_outage * 1000)} tail_failed={tail_failed} served={served_txt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
