#!/usr/bin/env python3
"""Rewrite the IPv4 addresses of corpus files to documentation ranges,
consistently within each file (line 1, the source URL, is left alone).

Usage: python3 doc-addresses.py FILE...   (idempotent)
"""
import re, sys, ipaddress
DOC = ["192.0.2", "198.51.100", "203.0.113"]
V4 = re.compile(r'(?<![\w.:-])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:-(\d{1,3}))?(?:/(\d{1,2}))?(?![\w.])')
def keep(a, b, c, d):
    if a in (0, 127) or a >= 224 or a == 255:
        return True
    return f"{a}.{b}.{c}" in DOC
def process(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    nets = []
    for i, l in enumerate(lines):
        if i == 0: continue
        for m in V4.finditer(l):
            a, b, c, d = map(int, m.group(1, 2, 3, 4))
            if keep(a, b, c, d): continue
            n = (a, b, c)
            if n not in nets: nets.append(n)
    small = len(nets) <= 3
    seen = {}
    order = {}
    def sub(m):
        a, b, c, d = map(int, m.group(1, 2, 3, 4))
        if keep(a, b, c, d): return m.group(0)
        k = nets.index((a, b, c))
        end, plen = m.group(5), m.group(6)
        if small:
            out = f"{DOC[k]}.{d}"
            if end: out += f"-{end}"
            if plen: out += f"/{plen}"
        else:
            # More networks than documentation /24s: each network gets a
            # /27 block, its hosts numbered in order of appearance (.0 stays
            # the network, .254/.255 the block's last two addresses).
            base = 32 * (k % 8)
            net = DOC[k // 8]
            def host(x):
                if x == 0: return base
                if x >= 254: return base + 30 + (x - 254)
                hosts = order.setdefault((a, b, c), [])
                if x not in hosts: hosts.append(x)
                return base + hosts.index(x) + 1
            out = f"{net}.{host(d)}"
            if end: out += f"-{host(d) + int(end) - d}"
            if plen: out += f"/{max(int(plen), 27)}"
        key = out.split('/')[0]
        orig = m.group(0).split('/')[0]
        if key in seen and seen[key] != orig:
            print(f"{path}: COLLISION {orig} and {seen[key]} -> {key}", file=sys.stderr)
        seen[key] = orig
        return out
    for i in range(1, len(lines)):
        lines[i] = V4.sub(sub, lines[i])
    new = "\n".join(lines)
    if not small:
        print(f"{path}: {len(nets)} networks, mapped to /27 blocks", file=sys.stderr)
    open(path, "w", encoding="utf-8").write(new)
for p in sys.argv[1:]:
    process(p)
