#!/usr/bin/env python3
"""Seed inputs for every fuzz target, from the project's golden data.

    python3 fuzz/seeds.py OUTDIR

writes OUTDIR/<target>/<name> for each target. scripts/fuzz.sh merges these
into the committed corpora (`cargo fuzz cmin`); run it again after adding a
target or golden data. Sources:

- VRRP/AH: crates/vrrp/tests/data/*.pcap (keepalived 2.2.7 adverts, v2/v3,
  plain/AH), plus IPv6 v3 adverts built here with a correct checksum.
- ARP: gratuitous ARP frames as keepalived sends them.
- rtnetlink: a live RTM_GETLINK/RTM_GETADDR dump of this host (split into
  single messages), when AF_NETLINK is available.
- IPVS: crates/ipvs/tests/data/ipvsadm-1.31-strace.txt (real kernel requests
  and replies; the IPVS family id rewritten to the 0x20 the target expects).
- Checker replies: HTTP/SMTP/DNS/ICMP/UDP replies as real servers send them.
- Config: conf/, crates/vrrp/tests/data/*.conf and keepalived's doc/samples.
- Daemon: IPC frames, metrics HTTP request heads, web config YAML.
- BFD: crates/bfd/tests/golden/*.bin (FRR bfdd's packets captured in a netns,
  and ours), alone and as handshakes in the bfd_packet record format.
"""

import os
import re
import socket
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KASRC = "/work/kasrc/keepalived-2.2.7/doc/samples"


def out(base, target, name, data):
    d = os.path.join(base, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pcap_frames(path):
    data = open(path, "rb").read()
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8 : off + 12])[0]
        yield data[off + 16 : off + 16 + incl]
        off += 16 + incl


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def vrrp_seeds(base):
    n = 0
    for pcap in ("keepalived-2.2.7-adverts.pcap", "keepalived-2.2.7-ah.pcap"):
        for frame in pcap_frames(os.path.join(ROOT, "crates/vrrp/tests/data", pcap)):
            if frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
            ihl = (ip[0] & 0xF) * 4
            n += 1
            out(base, "decode_ipv4", "pcap-%d" % n, ip)
            if ip[9] == 51:
                out(base, "decode_ah", "pcap-%d" % n, b"\0" + ip[ihl:])
                # Unicast variant (selector bit 0).
                out(base, "decode_ah", "pcap-uc-%d" % n, b"\1" + ip[ihl:])
            elif ip[9] == 112:
                out(base, "decode_vrrp", "pcap-%d" % n, b"\0" + ip[ihl:])
    # IPv6 VRRPv3 adverts (RFC 5798), fe80::1 -> ff02::12.
    src = socket.inet_pton(socket.AF_INET6, "fe80::1")
    dst = socket.inet_pton(socket.AF_INET6, "ff02::12")
    for vrid, prio, addrs in (
        (1, 100, ["2001:db8::10"]),
        (51, 255, ["2001:db8::10", "2001:db8::11"]),
        (7, 0, []),
    ):
        body = bytearray(struct.pack("!BBBBHH", 0x31, vrid, prio, len(addrs), 100, 0))
        for a in addrs:
            body += socket.inet_pton(socket.AF_INET6, a)
        pseudo = src + dst + struct.pack("!IxxxB", len(body), 112)
        struct.pack_into("!H", body, 6, csum(pseudo + bytes(body)))
        for sel in (1, 5, 0x35):
            out(base, "decode_ipv6", "v3-%d-%d-%x" % (vrid, prio, sel), bytes([sel]) + body)
        out(base, "decode_vrrp", "v6-%d-%d" % (vrid, prio), b"\1" + bytes(body))


def arp_seeds(base):
    for i, (mac, ip) in enumerate(
        (("00005e000101", "192.0.2.10"), ("525400123456", "198.51.100.1"))
    ):
        m = bytes.fromhex(mac)
        a = socket.inet_aton(ip)
        frame = b"\xff" * 6 + m + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
        frame += m + a + b"\0" * 6 + a
        out(base, "arp_frame", "garp-%d" % i, frame)
        reply = frame[:20] + b"\x00\x02" + frame[22:]
        out(base, "arp_frame", "reply-%d" % i, reply)
    out(base, "arp_frame", "mac-text", "00:00:5e:00:01:01")


def netlink_seeds(base):
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    except OSError:
        return
    n = 0
    for typ in (18, 22):  # RTM_GETLINK, RTM_GETADDR
        hdr = struct.pack("=IHHII", 16 + 16, typ, 0x301, 1, 0) + b"\0" * 16
        s.send(hdr)
        done = False
        while not done:
            buf = s.recv(65536)
            off = 0
            while off + 16 <= len(buf):
                ln, t = struct.unpack("=IH", buf[off : off + 6])
                if t == 3 or ln < 16:
                    done = True
                    break
                msg = bytearray(buf[off : off + ln])
                n += 1
                out(base, "netlink_event", "dump-%d" % n, bytes(msg))
                # The same message as a multicast event (NEW and DEL).
                struct.pack_into("=H", msg, 4, t + 1)
                out(base, "netlink_event", "del-%d" % n, bytes(msg))
                off += (ln + 3) & ~3
    s.close()


FLAGS = {"NLM_F_REQUEST": 1, "NLM_F_MULTI": 2, "NLM_F_ACK": 4, "NLM_F_CAPPED": 0x100}


def ipvs_seeds(base):
    text = open(os.path.join(ROOT, "crates/ipvs/tests/data/ipvsadm-1.31-strace.txt")).read()
    hdr = re.compile(
        r'\{nlmsg_len=(\d+), nlmsg_type=0x20(?: /\* [^*]* \*/)?, nlmsg_flags=([A-Za-z_|0-9x]+), '
        r'nlmsg_seq=(\d+), nlmsg_pid=(\d+)\}, "((?:\\x[0-9a-f]{2})*)"'
    )
    seen = set()
    n = 0
    for line in text.splitlines():
        msgs = []
        for m in hdr.finditer(line):
            flags = 0
            for f in m.group(2).split("|"):
                flags |= FLAGS.get(f, int(f, 16) if f.startswith("0x") else 0)
            payload = bytes.fromhex(m.group(5).replace("\\x", ""))
            msg = struct.pack("=IHHII", 16 + len(payload), 0x20, flags, int(m.group(3)), 0)
            msgs.append(msg + payload)
            if payload and payload not in seen:
                seen.add(payload)
                n += 1
                out(base, "decode", "msg-%d" % n, msg + payload)
                # IpvsMessage::parse(cmd, attrs): genl header is 4 bytes.
                out(base, "decode", "attrs-%d" % n, payload[:1] + payload[4:])
        if len(msgs) > 1:
            n += 1
            out(base, "decode", "multi-%d" % n, b"".join(msgs))
    # An ACK and a DONE.
    out(base, "decode", "ack", struct.pack("=IHHIIi", 36, 2, 0x100, 7, 0, 0) + b"\0" * 16)
    out(base, "decode", "done", struct.pack("=IHHIIi", 20, 3, 2, 7, 0, 0))


def check_seeds(base):
    http = [
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nTrailer: 1\r\n\r\n",
        "HTTP/1.0 301 Moved Permanently\r\nLocation: /x\r\nConnection: close\r\n\r\nbody until close",
        "HTTP/1.1 204 No Content\r\nServer: nginx\r\n\r\n",
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
    ]
    for i, r in enumerate(http):
        out(base, "http_response", "r%d" % i, bytes([7]) + r.encode())
        out(base, "http_response", "r%d-whole" % i, bytes([255]) + r.encode())
    smtp = [
        "220 mail.example.com ESMTP Postfix\r\n",
        "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n",
        "221 2.0.0 Bye\r\n",
        "554 5.7.1 Rejected\r\n",
    ]
    for i, r in enumerate(smtp):
        out(base, "smtp_reply", "r%d" % i, r)
    # DNS: an A answer for example.com and an NXDOMAIN.
    q = b"\x07example\x03com\x00\x00\x01\x00\x01"
    ans = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\xc0\x00\x02\x01"
    dns = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + q + ans
    out(base, "dns_reply", "a", b"\x12\x34" + dns)
    nx = struct.pack("!HHHHHH", 0x1234, 0x8183, 1, 0, 0, 0) + q
    out(base, "dns_reply", "nxdomain", b"\x12\x34" + nx)
    out(base, "dns_reply", "wrong-id", b"\x43\x21" + dns)
    # ICMP echo replies, bare and behind an IPv4 header; ICMPv6 echo reply.
    echo = bytearray(struct.pack("!BBHHH", 0, 0, 0, 0x1234, 1) + b"rkeepalived ping")
    struct.pack_into("!H", echo, 2, csum(bytes(echo)))
    out(base, "icmp_reply", "echo", bytes(echo))
    iph = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(echo), 1, 0, 64, 1, 0,
                                socket.inet_aton("192.0.2.2"), socket.inet_aton("192.0.2.1")))
    struct.pack_into("!H", iph, 10, csum(bytes(iph)))
    out(base, "icmp_reply", "ip-echo", bytes(iph) + bytes(echo))
    out(base, "icmp_reply", "v6-echo", struct.pack("!BBHHH", 129, 0, 0, 0x1234, 1) + b"x" * 8)
    for i, (pat, reply) in enumerate(
        (("Ab12f 3 456", b"\xab\x12\x0f\x03\x04\x56"), ("xx 00 ff", b"\x99\x00\xff"), ("", b"pong"))
    ):
        out(base, "udp_reply", "p%d" % i, pat.encode() + b"\0" + reply)


def config_seeds(base):
    srcs = []
    for d in (os.path.join(ROOT, "conf"), os.path.join(ROOT, "conf/examples"),
              os.path.join(ROOT, "crates/vrrp/tests/data"), KASRC):
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                p = os.path.join(d, f)
                if os.path.isfile(p) and (".conf" in f or f.startswith("keepalived")):
                    srcs.append(p)
    for p in srcs:
        data = open(p, "rb").read()
        if len(data) > 64 * 1024:
            continue
        name = os.path.basename(p)
        out(base, "parse_config", name, data)
        out(base, "print_round_trip", name, data)


def daemon_seeds(base):
    frames = [
        '"Stop"',
        '{"Request":{"id":1,"query":"Data"}}',
        '{"Request":{"id":18446744073709551615,"query":"StatsClear"}}',
        '{"Start":{}}',
        '{"Ready":{"pid":4242}}',
        '{"Reply":{"id":1,"reply":{"Text":"VRRP topology"}}}',
        '{"Reply":{"id":2,"reply":{"Json":{"a":[1,2,{"b":null}]}}}}',
        '"Reloaded"',
        '{"Stopped":{"error":"bind failed"}}',
    ]
    for i, f in enumerate(frames):
        body = f.encode()
        out(base, "ipc_frame", "f%d" % i, struct.pack("!I", len(body)) + body)
    heads = [
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9650\r\nAccept: */*\r\n\r\n",
        "GET /metrics?x=1 HTTP/1.0\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: [::1]\r\nAccept-Encoding: gzip\r\n\r\n",
        "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\n",
    ]
    for i, h in enumerate(heads):
        out(base, "http_head", "h%d" % i, h)
    yamls = [
        "",
        "basic_auth_users:\n  prometheus: $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi\n",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS12\n"
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n",
        "http_server_config:\n  http2: false\n",
        "tls_server_config:\n  cert_file: /nonexistent/a.crt\n  key_file: /nonexistent/a.key\n"
        "  max_version: TLS13\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
    ]
    for i, y in enumerate(yamls):
        out(base, "web_config", "y%d" % i, y)


def bfd_seeds(base):
    gdir = os.path.join(ROOT, "crates/bfd/tests/golden")
    g = {f[:-4]: open(os.path.join(gdir, f), "rb").read() for f in sorted(os.listdir(gdir)) if f.endswith(".bin")}

    def rec(pkt, dt):
        return bytes([len(pkt)]) + pkt + bytes([dt])

    # Selector: bit 0 IPv6, bit 1 patch Your Discriminator, bits 2-3 TTL.
    for name, pkt in g.items():
        out(base, "bfd_packet", "one_" + name, b"\x02" + rec(pkt, 10))
        out(base, "bfd_packet", "ttl254_" + name, b"\x06" + rec(pkt, 1))
    for v in ("v4", "v6"):
        sel = b"\x02" if v == "v4" else b"\x03"
        hs = (rec(g["frr_%s_down" % v], 50) + rec(g["frr_%s_init" % v], 5)
              + rec(g["frr_%s_up_poll" % v], 5) + rec(g["frr_%s_up" % v], 8)
              + rec(g["frr_%s_up_final" % v], 8) + rec(g["frr_%s_up" % v], 40))
        out(base, "bfd_packet", "handshake_" + v, sel + hs)
        out(base, "bfd_packet", "handshake_passive_" + v, bytes([sel[0] | 0x10]) + hs)
    down = bytearray(g["frr_v4_down"])
    down[1] |= 0x04
    out(base, "bfd_packet", "auth_bit", b"\x02" + rec(bytes(down), 1))
    out(base, "bfd_packet", "simple_password", b"\x02" + rec(bytes(down[:3]) + b"\x1b" + bytes(down[4:]) + b"\x01\x03\x01", 1))


def main():
    base = sys.argv[1]
    bfd_seeds(os.path.join(base, "bfd"))
    vrrp_seeds(os.path.join(base, "vrrp"))
    arp_seeds(os.path.join(base, "vrrp"))
    netlink_seeds(os.path.join(base, "vrrp"))
    ipvs_seeds(os.path.join(base, "ipvs"))
    check_seeds(os.path.join(base, "check"))
    config_seeds(os.path.join(base, "config"))
    daemon_seeds(os.path.join(base, "daemon"))


if __name__ == "__main__":
    main()
