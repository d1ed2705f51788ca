#!/usr/bin/env python3
"""Config generator for bench/vrrp/many.sh (and the same layout the
`vrrp_many` test uses at reduced size).

    many_gen.py VLANS PER_VLAN VIPS ADVERT PRIORITY [VID0 [IFPREFIX]]

Prints a keepalived.conf with VLANS * PER_VLAN VRRPv3 IPv6 instances:
instance k (0..PER_VLAN-1) of link v (VID = VID0 + v, interface
IFPREFIX<VID>, default "vl": many.sh gives every "VLAN" its own veth pair)
has VRID 10 + k (distinct on its VLAN, repeated across VLANs like real
deployments) and VIPS addresses 2001:db8:VID:VRID::1..VIPS/64.

Why IPv6: 1,000 instances x 4 VIPs = 4,000 host-unique VIPs, and the three
IPv4 documentation /24s hold 762 usable addresses. 2001:db8::/32 holds all
of them, one /64 per (VLAN, VRID), so every VIP is unique per host and the
VLAN and VRID can be read back from the address.
"""
import sys


def main() -> None:
    vlans, per_vlan, vips = (int(a) for a in sys.argv[1:4])
    advert, prio = sys.argv[4], int(sys.argv[5])
    vid0 = int(sys.argv[6]) if len(sys.argv) > 6 else 10
    prefix = sys.argv[7] if len(sys.argv) > 7 else "vl"
    out = [
        "global_defs {",
        "    router_id many",
        "}",
    ]
    for v in range(vlans):
        vid = vid0 + v
        for k in range(per_vlan):
            vrid = 10 + k
            out += [
                f"vrrp_instance VI_{vid}_{vrid} {{",
                "    state BACKUP",
                f"    interface {prefix}{vid}",
                f"    virtual_router_id {vrid}",
                f"    priority {prio}",
                "    version 3",
                f"    advert_int {advert}",
                "    virtual_ipaddress {",
            ]
            out += [f"        2001:db8:{vid:x}:{vrid:x}::{i + 1:x}/64" for i in range(vips)]
            out += ["    }", "}"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
