#!/usr/bin/env python3
"""Minimal always-healthy real servers for the comparison lab.

fake_services.py --tcp PORTS --udp PORTS   (PORTS: space separated)
  TCP 25/587: an SMTP dialog good enough for SMTP_CHECK (220 banner, 250 to
  HELO/EHLO, 221 to QUIT). Any other TCP port: HTTP/1.0 "200 OK" to any
  request (HTTP_GET status_code checks pass; digest checks cannot, since a
  digest names one specific page), plain connects satisfy TCP_CHECK.
  UDP ports: echo, so UDP_CHECK sees no ICMP port-unreachable.
Binds the wildcard address (IPv4 and IPv6) so every real server address in
the namespace is served.
"""
import argparse
import socket
import sys
import threading
import time


def smtp(conn: socket.socket) -> None:
    conn.settimeout(30)
    conn.sendall(b"220 lab.example ESMTP\r\n")
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            log(conn, f"smtp closed by peer, unanswered: {buf!r}")
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            verb = line.strip().split(b" ", 1)[0].upper()
            if verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            conn.sendall(b"250 ok\r\n")


def log(conn: socket.socket, what: str) -> None:
    """One line per notable event on stderr (the lab keeps it per namespace)."""
    try:
        local, peer = conn.getsockname(), conn.getpeername()
    except OSError:
        local = peer = ("?", 0)
    print(f"{time.strftime('%H:%M:%S')} {peer[0]} -> {local[0]}:{local[1]} {what}", file=sys.stderr, flush=True)


def http(conn: socket.socket) -> None:
    conn.settimeout(5)
    buf = b""
    while b"\r\n\r\n" not in buf and b"\n\n" not in buf:
        data = conn.recv(4096)
        if not data:
            return
        buf += data
    body = b"lab ok\n"
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def serve_tcp(port: int) -> None:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    sock.listen(64)
    handler = smtp if port in (25, 587) else http
    while True:
        conn, _ = sock.accept()

        def run(c=conn):
            try:
                handler(c)
            except OSError as exc:
                log(c, f"error: {exc}")
            finally:
                c.close()

        threading.Thread(target=run, daemon=True).start()


def serve_udp(port: int) -> None:
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    while True:
        data, peer = sock.recvfrom(65535)
        sock.sendto(data, peer)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tcp", default="")
    parser.add_argument("--udp", default="")
    args = parser.parse_args()
    threads = [threading.Thread(target=serve_tcp, args=(int(p),), daemon=True) for p in args.tcp.split()]
    threads += [threading.Thread(target=serve_udp, args=(int(p),), daemon=True) for p in args.udp.split()]
    for t in threads:
        t.start()
    print("fake services ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
