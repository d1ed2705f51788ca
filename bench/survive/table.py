#!/usr/bin/env python3
"""Markdown table from survive.sh's LAB-SURVIVE lines (bench/survive/run.sh).

table.py GUEST_OUTPUT DATE COMMIT N OBSERVE_S KEEPALIVED_VERSION
"""
import sys


def fields(line):
    return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)


def main() -> int:
    path, date, commit, n, observe, kaver = sys.argv[1:7]
    rows, env, fails = [], {}, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("LAB-SURVIVE "):
                rows.append(fields(line))
            elif line.startswith("== survival lab: "):
                env.update(kv.split("=", 1) for kv in line.split() if kv.startswith("kernel="))
            elif line.startswith("LAB-CHECK ") and " FAIL " in line:
                fails.append(line)
    out = []
    out.append(
        f"Run of {date}: commit {commit}, guest kernel {env.get('kernel', '?')} "
        f"(qemu TCG, 2 vCPUs on the shared 2-CPU host), keepalived "
        f"{kaver} (Debian), rkeepalived debug build, "
        f"N = {n} connections per run, observed {observe} s after the crash.\n"
    )
    out.append("| mode | lvs_sync_daemon | implementation | survived / established | fraction "
               "| outage p50 / max (s) | takeover (s) | last advert -> backup's first (s) | synced to backup "
               "| lost connections |")
    out.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        est = int(r.get("established", 0))
        sur = int(r.get("survived", 0))
        frac = f"{100.0 * sur / est:.1f} %" if est else "-"
        outage = "-" if r.get("outage_p50_s", "-1.0").startswith("-") else \
            f"{r['outage_p50_s']} / {r['outage_max_s']}"
        lost = []
        if r.get("dead", "0") != "0":
            lost.append(f"{r['dead']} reset ({r.get('dead_reasons', '')})")
        if r.get("stalled", "0") != "0":
            lost.append(f"{r['stalled']} stalled")
        out.append(
            f"| {r.get('mode')} | {'yes' if r.get('sync') == 'sync' else 'no'} | {r.get('daemon')} "
            f"| {sur} / {est} | {frac} | {outage} | {r.get('takeover_s', '-')} "
            f"| {r.get('advert_gap_s', '-')} "
            f"| {r.get('dir2_conns_before', '-')} | {', '.join(lost) or '-'} |"
        )
    spurious = [r for r in rows if r.get("dir2_masters_before", "0") not in ("0", "")]
    if spurious:
        out.append("\nThe backup had been MASTER before the crash (startup race or starved "
                   "adverts) in: " + ", ".join(
                       f"{r.get('mode')} {r.get('sync')} {r.get('daemon')} "
                       f"({r['dir2_masters_before']}x)" for r in spurious))
    if fails:
        out.append("\nSetup checks that failed in this run:\n")
        out.extend(f"    {l}" for l in fails)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
