#!/usr/bin/env python3
"""Prepares a keepalived sample config for the comparison lab.

compare_prep.py IN_CONF OUT_CONF OUT_ENV

* Moves every IPv4/IPv6 address into documentation ranges (the lab only uses
  192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32), with a
  fixed prefix map so both daemons see the same rewritten file.
* Shortens checker timing (delay_loop 2, connect_timeout 5, retry 1,
  delay_before_retry 1) so the IPVS table settles in seconds; the structure
  of the config is untouched.
* Writes OUT_ENV, a shell fragment naming what the fake real servers must
  provide: RS_ADDRS (real server / connect_ip addresses), BIND_ADDRS
  (bindto addresses the director must own), TCP_PORTS, UDP_PORTS.
"""
import re
import sys

# Sample /24 -> documentation /24 (host octet kept; +100 where two sources
# share a target inside one sample).
PREFIX_MAP = [
    ("192.168.200.", "192.0.2.", 0),
    ("192.168.201.", "198.51.100.", 0),
    ("10.10.10.", "203.0.113.", 0),
    ("10.0.0.", "198.51.100.", 0),
    ("10.0.1.", "203.0.113.", 0),
    ("172.16.1.", "198.51.100.", 0),
    ("192.168.155.", "203.0.113.", 0),
    ("64.233.167.", "203.0.113.", 100),
    ("192.168.100.", "203.0.113.", 0),
]
IPV4 = re.compile(r"(?<![\d.])(\d{1,3}\.\d{1,3}\.\d{1,3}\.)(\d{1,3})(?![\d.])")
TIMING = [
    (re.compile(r"^(\s*delay_loop\s+)\d+", re.M), r"\g<1>2"),
    (re.compile(r"^(\s*connect_timeout\s+)\d+", re.M), r"\g<1>5"),
    (re.compile(r"^(\s*retry\s+)\d+", re.M), r"\g<1>1"),
    (re.compile(r"^(\s*nb_get_retry\s+)\d+", re.M), r"\g<1>1"),
    (re.compile(r"^(\s*delay_before_retry\s+)\d+", re.M), r"\g<1>1"),
]


def map_v4(match: re.Match) -> str:
    prefix, host = match.group(1), int(match.group(2))
    for src, dst, offset in PREFIX_MAP:
        if prefix == src:
            return f"{dst}{min(host + offset, 254)}"
    return match.group(0)  # loopback, 0.0.0.0 masks, already-documentation


def strip_comments(text: str) -> str:
    return "\n".join(re.split(r"[!#]", line, maxsplit=1)[0] for line in text.splitlines())


def main() -> int:
    src, out_conf, out_env = sys.argv[1:4]
    text = open(src).read()
    text = IPV4.sub(map_v4, text)
    text = re.sub(r"\bae00::", "2001:db8:ae00::", text)
    for pattern, repl in TIMING:
        text = pattern.sub(repl, text)
    open(out_conf, "w").write(text)

    live = strip_comments(text)
    rs_addrs, tcp_ports, udp_ports, bind_addrs = [], [], [], []
    addr = r"([0-9a-fA-F:.]+)"
    # Which protocol each virtual_server block uses decides the listener kind.
    for block in re.split(r"\bvirtual_server\b", live)[1:]:
        proto_udp = re.search(r"^\s*protocol\s+UDP", block, re.M) is not None
        # fwmark services have port-less real servers (checks name connect_port).
        for rs_ip, rs_port in re.findall(r"^\s*real_server\s+" + addr + r"(?:[ \t]+(\d+))?", block, re.M):
            rs_addrs.append(rs_ip)
            if rs_port:
                (udp_ports if proto_udp else tcp_ports).append(rs_port)
        rs_addrs += re.findall(r"^\s*connect_ip\s+" + addr, block, re.M)
        ports = re.findall(r"^\s*connect_port\s+(\d+)", block, re.M)
        (udp_ports if proto_udp else tcp_ports).extend(ports)
        for m in re.finditer(r"^\s*sorry_server\s+" + addr + r"\s+(\d+)", block, re.M):
            rs_addrs.append(m.group(1))
            tcp_ports.append(m.group(2))
        bind_addrs += re.findall(r"^\s*bind_?to\s+" + addr, block, re.M)
    if re.search(r"\bSMTP_CHECK\b", live):
        tcp_ports += ["25"]

    def uniq(items):
        return " ".join(dict.fromkeys(items))

    with open(out_env, "w") as env:
        env.write(f'RS_ADDRS="{uniq(rs_addrs)}"\n')
        env.write(f'BIND_ADDRS="{uniq(bind_addrs)}"\n')
        env.write(f'TCP_PORTS="{uniq(tcp_ports)}"\n')
        env.write(f'UDP_PORTS="{uniq(udp_ports)}"\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
