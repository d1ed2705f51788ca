#!/usr/bin/env python3
"""Flapping TCP backends for the soak: COUNT listeners on 127.0.0.1
(ports BASE..BASE+COUNT-1), accept-and-close. Every PERIOD seconds a random
FRACTION of the open ports is closed and the ports closed last time are
reopened, so TCP_CHECKs see real servers fail and recover all the time.
Bounded: exits after --seconds. Prints one line per flip on stdout
("epoch closed reopened")."""
import argparse, random, selectors, socket, sys, time

p = argparse.ArgumentParser()
p.add_argument("--base", type=int, default=21000)
p.add_argument("--count", type=int, default=1000)
p.add_argument("--period", type=float, default=7.0)
p.add_argument("--fraction", type=float, default=0.05)
p.add_argument("--seconds", type=int, default=21600)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
rng = random.Random(a.seed)
sel = selectors.DefaultSelector()
open_socks = {}


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, port)
    open_socks[port] = s


def close(port):
    s = open_socks.pop(port)
    sel.unregister(s)
    s.close()


for port in range(a.base, a.base + a.count):
    listen(port)
closed = []
end = time.time() + a.seconds
next_flip = time.time() + a.period
while time.time() < end:
    for key, _ in sel.select(timeout=0.5):
        for _ in range(64):
            try:
                c, _ = key.fileobj.accept()
            except (BlockingIOError, OSError):
                break
            c.close()
    if time.time() >= next_flip:
        next_flip += a.period
        reopen = closed
        closed = rng.sample(sorted(open_socks), int(len(open_socks) * a.fraction))
        for port in closed:
            close(port)
        for port in reopen:
            try:
                listen(port)
            except OSError:
                pass  # TIME_WAIT on a listening port is not possible; be safe
        print(f"{time.time():.3f} {len(closed)} {len(reopen)}", flush=True)
