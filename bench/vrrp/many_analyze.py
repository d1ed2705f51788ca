#!/usr/bin/env python3
"""Analysis helpers for bench/vrrp/many.sh (standard library only).

    many_analyze.py late PCAP ADVERT EXPECTED_FLOWS
        -> "LATE FLOWS MISSING MAXGAP_MS PACKETS"
    Adverts captured on the backup (tcpdump -i any -y LINUX_SLL2 -w: the
    cooked v2 header carries the receiving ifindex, one per "VLAN" link;
    Ethernet captures with an 802.1Q tag are read too). Per (link, VRID) the inter-arrival
    times are compared with the advert interval: a gap > 1.1 x interval is a
    late advert. MISSING = expected flows never seen.

    many_analyze.py vips T0 MONITOR_LOG EXPECTED
        -> "LAST_MS SEEN FIRST_MS"
    `ip -ts monitor address` output (TZ=UTC): the time from T0 (epoch
    seconds) to the RTM_NEWADDR of the last of the EXPECTED 2001:db8:: VIPs
    (each counted once, at its first add after T0), how many were seen, and
    the first one.
"""
import datetime
import struct
import sys


def late(path: str, advert: float, expected: int) -> None:
    flows: dict[tuple[int, int], list[float]] = {}
    packets = 0
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            print(f"0 0 {expected} - 0")
            return
        magic = struct.unpack("<I", hdr[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        linktype = struct.unpack(endian + "I", hdr[20:24])[0] & 0xFFFF
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, frac, incl, _orig = struct.unpack(endian + "IIII", rec)
            data = f.read(incl)
            if len(data) < incl:
                break
            ts = sec + frac / (1e9 if nano else 1e6)
            if linktype == 276:  # LINUX_SLL2: protocol, reserved, ifindex, ...
                if len(data) < 20:
                    continue
                vid = struct.unpack(">I", data[4:8])[0]
                etype = data[0:2]
                ip = data[20:]
            elif linktype == 1 and len(data) >= 18 and data[12:14] == b"\x81\x00":
                vid = struct.unpack(">H", data[14:16])[0] & 0x0FFF
                etype = data[16:18]
                ip = data[18:]
            else:
                continue
            if etype == b"\x86\xdd" and len(ip) >= 42 and ip[6] == 112:
                vrid = ip[41]
            elif etype == b"\x08\x00" and len(ip) >= 20 and ip[9] == 112:
                ihl = (ip[0] & 0x0F) * 4
                if len(ip) < ihl + 2:
                    continue
                vrid = ip[ihl + 1]
            else:
                continue
            packets += 1
            flows.setdefault((vid, vrid), []).append(ts)
    limit = 1.1 * advert
    late_n = 0
    maxgap = 0.0
    for times in flows.values():
        times.sort()
        for a, b in zip(times, times[1:]):
            gap = b - a
            maxgap = max(maxgap, gap)
            if gap > limit:
                late_n += 1
    missing = max(0, expected - len(flows))
    print(f"{late_n} {len(flows)} {missing} {maxgap * 1000:.1f} {packets}")


def vips(t0: float, path: str, expected: int) -> None:
    first_add: dict[str, float] = {}
    with open(path, errors="replace") as f:
        for line in f:
            if not line.startswith("["):
                continue
            stamp, _, rest = line[1:].partition("]")
            if rest.lstrip().startswith("Deleted") or " inet6 2001:db8:" not in rest:
                continue
            try:
                t = (
                    datetime.datetime.fromisoformat(stamp)
                    .replace(tzinfo=datetime.timezone.utc)
                    .timestamp()
                )
            except ValueError:
                continue
            if t < t0:
                continue
            addr = rest.split(" inet6 ", 1)[1].split()[0]
            first_add.setdefault(addr, t)
    if not first_add:
        print("fail 0 fail")
        return
    last = max(first_add.values())
    first = min(first_add.values())
    done = len(first_add) >= expected
    last_ms = f"{(last - t0) * 1000:.1f}" if done else "fail"
    print(f"{last_ms} {len(first_add)} {(first - t0) * 1000:.1f}")


if __name__ == "__main__":
    if sys.argv[1] == "late":
        late(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "vips":
        vips(float(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit("usage: many_analyze.py late|vips ...")
