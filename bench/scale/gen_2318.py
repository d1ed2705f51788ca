#!/usr/bin/env python3
"""A keepalived.conf the size of keepalived issue #2318: 2,284 TUN virtual
servers with 16 TCP-checked real servers each (36,544), documentation
addresses only. Usage: gen_2318.py [VS] [RS_PER_VS] > keepalived.conf
"""
import sys

vs_count = int(sys.argv[1]) if len(sys.argv) > 1 else 2284
rs_per_vs = int(sys.argv[2]) if len(sys.argv) > 2 else 16

out = sys.stdout
out.write("global_defs {\n    router_id scale2318\n}\n\n")
for v in range(vs_count):
    # VIPs: 203.0.113.0/24 x ports 1000.. (one address per 256 services).
    vip = f"203.0.113.{v % 250 + 1}"
    port = 1000 + v // 250
    out.write(f"virtual_server {vip} {port} {{\n")
    out.write("    delay_loop 10\n    lb_algo wrr\n    lb_kind TUN\n    protocol TCP\n")
    for r in range(rs_per_vs):
        n = v * rs_per_vs + r
        rs = f"198.51.100.{n % 250 + 1}" if n % 2 == 0 else f"192.0.2.{n % 250 + 1}"
        rport = 20000 + (n // 250) % 40000
        out.write(f"    real_server {rs} {port} {{\n")
        out.write("        weight 1\n")
        out.write("        TCP_CHECK {\n")
        out.write(f"            connect_port {rport}\n")
        out.write("            connect_timeout 3\n")
        out.write("        }\n")
        out.write("    }\n")
    out.write("}\n")
