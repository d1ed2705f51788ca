#!/usr/bin/env python3
"""Accept-and-close TCP listener for the checker benchmark.

Listens on 0.0.0.0:PORT so every 127.x.y.z address on loopback is served by
one socket; several processes share the port with SO_REUSEPORT. Bounded:
exits after --seconds.
"""
import argparse, os, selectors, signal, socket, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--bind", default="0.0.0.0")
p.add_argument("--procs", type=int, default=2)
p.add_argument("--seconds", type=int, default=600)
a = p.parse_args()

def serve():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((a.bind, a.port))
    s.listen(4096)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    end = time.time() + a.seconds
    while time.time() < end:
        for _ in sel.select(timeout=1.0):
            for _ in range(256):
                try:
                    c, _ = s.accept()
                except BlockingIOError:
                    break
                except OSError:
                    continue  # reset before accept (checkers close with RST)
                c.close()
    os._exit(0)

kids = []
for _ in range(a.procs):
    pid = os.fork()
    if pid == 0:
        serve()
    kids.append(pid)
def stop(*_):
    for k in kids:
        try: os.kill(k, signal.SIGTERM)
        except ProcessLookupError: pass
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
for k in kids:
    os.waitpid(k, 0)
