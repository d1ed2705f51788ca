#!/usr/bin/env python3
"""keepalived.conf with N real servers (127.1.x.y:PORT) under TCP_CHECK
every DELAY_LOOP seconds, plus one "victim" server on its own port whose
removal from IPVS measures detection latency."""
import sys

n, port, victim_port, delay_loop = (int(x) for x in sys.argv[1:5])
per_vs = 1000
out = ["global_defs {\n    router_id rkc_bench\n}\n"]
servers = [(f"127.1.{i // 250}.{i % 250 + 1}", port) for i in range(n)]
servers.append(("127.2.0.1", victim_port))
for vs_idx in range(0, len(servers), per_vs):
    out.append(f"virtual_server 203.0.113.{vs_idx // per_vs + 1} 80 {{\n"
               f"    delay_loop {delay_loop}\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n")
    for addr, p in servers[vs_idx:vs_idx + per_vs]:
        out.append(f"    real_server {addr} {p} {{\n        weight 1\n        TCP_CHECK {{\n"
                   f"            connect_timeout 2\n            retry 1\n            delay_before_retry 1\n"
                   f"        }}\n    }}\n")
    out.append("}\n")
sys.stdout.write("".join(out))
