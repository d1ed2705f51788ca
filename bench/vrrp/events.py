#!/usr/bin/env python3
"""Turn one failover's raw logs into two delays (used by failover.sh).

    events.py T0 MONITOR CAPTURE HOW "VIP [VIP...]" MASTER_IP

T0       kill time, seconds since the epoch ($EPOCHREALTIME, taken right
         before the kill/SIGTERM is delivered)
MONITOR  output of `TZ=UTC ip -ts monitor address` in the backup's netns
         (userspace timestamp when the RTM_NEWADDR event was read)
CAPTURE  output of `tcpdump -tt -n -l ... ip proto 112 and src MASTER_IP` in
         the backup's netns (kernel receive timestamps)
HOW      kill9 | graceful
VIP      space-separated VIPs: the failover is done when all of them are added

Prints "KILL_MS LAST_MS PRIO PHASE_MS": kill -> VIP, last advert from the
dying master -> VIP, that advert's priority (0 for a graceful stop), and the
kill's phase (kill time - the master's last advert before it). On failure it
prints "fail REASON" / "flap REASON".
"""

import datetime
import re
import sys

TS_MONITOR = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\]")
TS_CAPTURE = re.compile(r"^(\d+\.\d+) IP (\S+) > \S+ VRRPv\d, Advertisement, .*?prio (\d+)")


def vip_adds(path, vip):
    """Epoch times of every RTM_NEWADDR of `vip` (Deleted lines excluded)."""
    times = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = TS_MONITOR.match(line)
            if not m or "Deleted" in line or f" {vip}/" not in line:
                continue
            t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
            times.append(t.replace(tzinfo=datetime.timezone.utc).timestamp())
    return times


def adverts(path, master):
    """(epoch time, priority) of every advert the master sent, as received."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = TS_CAPTURE.match(line)
            if m and m.group(2) == master:
                out.append((float(m.group(1)), int(m.group(3))))
    return out


def main(argv):
    if len(argv) != 7:
        print("fail usage")
        return 0
    t0, monitor, capture, how, vips, master = float(argv[1]), *argv[2:]
    adds = {vip: vip_adds(monitor, vip) for vip in vips.split()}
    if any(t < t0 for times in adds.values() for t in times):
        print("flap VIP-added-on-backup-before-the-kill")
        return 0
    if not all(adds.values()):
        print("fail no-VIP-event")
        return 0
    # Done when the last of the VIPs is installed.
    t_vip = max(times[0] for times in adds.values())
    before = [(t, p) for t, p in adverts(capture, master) if t <= t_vip]
    if not before:
        print("fail no-advert-captured")
        return 0
    t_last, prio = before[-1]
    if how == "graceful" and prio != 0:
        # A graceful stop must end with a priority-0 advert (RFC 5798 §6.4.3).
        print(f"fail last-advert-priority-{prio}-not-0")
        return 0
    if how == "kill9" and prio == 0:
        # The frozen master still got a priority-0 advert out: not a crash.
        print("fail priority-0-advert-after-kill-9")
        return 0
    # Phase of the kill: time since the master's last advert before it.
    sent_before_kill = [t for t, _ in before if t <= t0]
    phase = (t0 - sent_before_kill[-1]) * 1000 if sent_before_kill else float("nan")
    print(f"{(t_vip - t0) * 1000:.1f} {(t_vip - t_last) * 1000:.1f} {prio} {phase:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
