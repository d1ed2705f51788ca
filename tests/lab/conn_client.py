#!/usr/bin/env python3
"""Long-lived TCP connections for the connection-survival lab (survive.sh).

conn_client.py HOST PORT N INTERVAL_S DIR
  Opens N TCP connections to HOST:PORT (one process, one selector,
  TCP_NODELAY) and, every INTERVAL_S, sends one short line on each
  established connection; the server echoes it. Runs until DIR/stop exists
  (or 900 s at most).
  DIR/status  rewritten every second: "connected=N echoing=N dead=N"
              (echoing = connections with at least 3 echoes so far)
  DIR/crash   written by the lab: the crash time (unix seconds)
  DIR/report  written at exit: one "SURVIVE ..." line, see below
A connection is *established* when it got an echo before the crash time;
it *survived* when it is established, never saw an error or EOF, and got
an echo in the last 2 s before the stop. outage = a connection's longest
time without an echo after the crash (p50/max over the survivors).
"""
import errno
import os
import selectors
import socket
import sys
import time


class Conn:
    __slots__ = ("sock", "connected", "dead", "seq", "echoes", "first_echo", "last_echo",
                 "max_gap")

    def __init__(self, sock):
        self.sock = sock
        self.connected = False
        self.dead = None
        self.seq = 0
        self.echoes = 0
        self.first_echo = None
        self.last_echo = None
        # Longest time between two echoes once the crash time is known.
        self.max_gap = 0.0


def read_crash(path):
    try:
        with open(path) as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def main() -> int:
    host, port, n, interval, rundir = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                       float(sys.argv[4]), sys.argv[5])
    stop_file = os.path.join(rundir, "stop")
    crash_file = os.path.join(rundir, "crash")
    sel = selectors.DefaultSelector()
    conns = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = Conn(s)
        rc = s.connect_ex((host, port))
        if rc not in (0, errno.EINPROGRESS):
            c.dead = "connect:" + errno.errorcode.get(rc, str(rc))
            s.close()
        else:
            sel.register(s, selectors.EVENT_WRITE, c)
        conns.append(c)

    crash = None
    deadline = time.time() + 900
    next_tick = time.time() + interval
    ticks = 0
    while True:
        now = time.time()
        for key, mask in sel.select(max(0.0, next_tick - now)):
            c = key.data
            if not c.connected:
                rc = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if rc:
                    c.dead = "connect:" + errno.errorcode.get(rc, str(rc))
                    sel.unregister(c.sock)
                    c.sock.close()
                    continue
                c.connected = True
                sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            try:
                data = c.sock.recv(65536)
            except OSError as exc:
                c.dead = errno.errorcode.get(exc.errno, type(exc).__name__)
                data = None
            if not data:
                c.dead = c.dead or "eof"
                sel.unregister(c.sock)
                c.sock.close()
                continue
            t = time.time()
            lines = data.count(b"\n")
            if lines:
                if crash is not None and c.last_echo is not None and t > crash:
                    c.max_gap = max(c.max_gap, t - c.last_echo)
                c.echoes += lines
                c.last_echo = t
                if c.first_echo is None:
                    c.first_echo = t
        now = time.time()
        if now < next_tick:
            continue
        # Never burst to catch up after a stall: one message per interval.
        next_tick = max(next_tick + interval, now + interval / 2)
        for c in conns:
            if c.connected and c.dead is None:
                c.seq += 1
                try:
                    c.sock.send(b"%d\n" % c.seq)
                except BlockingIOError:
                    pass
                except OSError as exc:
                    c.dead = errno.errorcode.get(exc.errno, type(exc).__name__)
                    sel.unregister(c.sock)
                    c.sock.close()
        ticks += 1
        if ticks % 10 == 0:
            if crash is None:
                crash = read_crash(crash_file)
            connected = sum(1 for c in conns if c.connected and c.dead is None)
            echoing = sum(1 for c in conns if c.dead is None and c.echoes >= 3)
            dead = sum(1 for c in conns if c.dead is not None)
            with open(os.path.join(rundir, "status.tmp"), "w") as f:
                f.write(f"connected={connected} echoing={echoing} dead={dead}\n")
            os.replace(os.path.join(rundir, "status.tmp"), os.path.join(rundir, "status"))
            if os.path.exists(stop_file) or now > deadline:
                break

    end = time.time()
    crash = read_crash(crash_file)
    if crash is None:
        crash = end
    established = [c for c in conns if c.first_echo is not None and c.first_echo < crash]
    survived = [c for c in established
                if c.dead is None and c.last_echo is not None and c.last_echo >= end - 2.0
                and c.last_echo > crash]
    dead = [c for c in established if c.dead is not None]
    stalled = len(established) - len(survived) - len(dead)
    reasons = {}
    for c in dead:
        reasons[c.dead] = reasons.get(c.dead, 0) + 1
    rec = sorted(c.max_gap for c in survived)
    p50 = rec[len(rec) // 2] if rec else -1.0
    mx = rec[-1] if rec else -1.0
    why = ",".join(f"{k}:{v}" for k, v in sorted(reasons.items())) or "-"
    line = (f"SURVIVE n={n} established={len(established)} survived={len(survived)} "
            f"dead={len(dead)} stalled={stalled} dead_reasons={why} "
            f"outage_p50_s={p50:.1f} outage_max_s={mx:.1f}\n")
    with open(os.path.join(rundir, "report"), "w") as f:
        f.write(line)
    for c in conns:
        if c.dead is None:
            c.sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
