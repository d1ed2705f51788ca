#!/usr/bin/env python3
"""keepalived.conf with N real servers (127.1.x.y:PORT) under TCP_CHECK
every DELAY_LOOP seconds, plus one "victim" server on its own port whose
removal from IPVS measures detection latency.

    gen_conf.py N PORT VICTIM_PORT DELAY_LOOP [KIND=tcp|http|ssl] [DELAY_BEFORE_RETRY=1]

DELAY_LOOP and DELAY_BEFORE_RETRY may be fractional (keepalived 2.2.7's
read_timer() takes microseconds: "0.2" is 200 ms). KIND=http checks
HTTP_GET of "/" with the MD5 digest of the body "ok" (bench/check/tiny_server.c);
KIND=ssl the same as SSL_GET (crates/check/examples/tls-server.rs).
"""
import hashlib
import sys

n, port, victim_port = (int(x) for x in sys.argv[1:4])
delay_loop = sys.argv[4]
kind = sys.argv[5] if len(sys.argv) > 5 else "tcp"
dbr = sys.argv[6] if len(sys.argv) > 6 else "1"
digest = hashlib.md5(b"ok").hexdigest()
if kind == "tcp":
    check = "TCP_CHECK {\n"
elif kind in ("http", "ssl"):
    check = (f"{'HTTP_GET' if kind == 'http' else 'SSL_GET'} {{\n            url {{\n                path /\n"
             f"                digest {digest}\n            }}\n")
else:
    sys.exit(f"gen_conf.py: unknown kind {kind}")
per_vs = 1000
out = ["global_defs {\n    router_id rkc_bench\n}\n"]
servers = [(f"127.1.{i // 250}.{i % 250 + 1}", port) for i in range(n)]
servers.append(("127.2.0.1", victim_port))
for vs_idx in range(0, len(servers), per_vs):
    out.append(f"virtual_server 203.0.113.{vs_idx // per_vs + 1} 80 {{\n"
               f"    delay_loop {delay_loop}\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n")
    for addr, p in servers[vs_idx:vs_idx + per_vs]:
        out.append(f"    real_server {addr} {p} {{\n        weight 1\n        {check}"
                   f"            connect_timeout 2\n            retry 1\n            delay_before_retry {dbr}\n"
                   f"        }}\n    }}\n")
    out.append("}\n")
sys.stdout.write("".join(out))
