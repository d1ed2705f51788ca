#!/usr/bin/env python3
"""Short TCP connections for the ECMP lab (tests/lab/ecmp.sh).

ecmp_short.py HOST PORT COUNT DURATION_S CONCURRENCY [TIMEOUT_S]
  Opens COUNT connections to HOST:PORT spread evenly over DURATION_S (one
  process, one selector), at most CONCURRENCY at a time. Each connection
  sends one line, waits for its echo and closes. COUNT = 0: as many as
  possible for DURATION_S (throughput: connections per second).
  Prints one line:
  SHORT attempted=N ok=N errors=N reasons=why:n,... elapsed_s=S rate=R
  (rate = completed connections per second; an error is a refused, reset,
  closed-before-the-echo or timed-out connection).
"""
import errno
import selectors
import socket
import sys
import time


def main() -> int:
    host, port, count, duration, conc = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                         float(sys.argv[4]), int(sys.argv[5]))
    timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 10.0
    sel = selectors.DefaultSelector()
    interval = duration / count if count else 0.0
    start = time.time()
    end_by = start + duration
    attempted = ok = 0
    reasons = {}
    live = {}  # sock -> [deadline, state]

    def fail(s, why):
        reasons[why] = reasons.get(why, 0) + 1
        sel.unregister(s)
        live.pop(s, None)
        s.close()

    while True:
        now = time.time()
        more = (attempted < count) if count else (now < end_by)
        while more and len(live) < conc and (not count or now >= start + attempted * interval):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            attempted += 1
            rc = s.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                reasons["connect:" + errno.errorcode.get(rc, str(rc))] = \
                    reasons.get("connect:" + errno.errorcode.get(rc, str(rc)), 0) + 1
                s.close()
            else:
                live[s] = [now + timeout, 0]
                sel.register(s, selectors.EVENT_WRITE)
            more = (attempted < count) if count else (now < end_by)
        if not more and not live:
            break
        wait = 0.05
        if more and count:
            wait = max(0.0, min(wait, start + attempted * interval - now))
        for key, _ in sel.select(wait):
            s = key.fileobj
            st = live.get(s)
            if st is None:
                continue
            if st[1] == 0:
                rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if rc:
                    fail(s, "connect:" + errno.errorcode.get(rc, str(rc)))
                    continue
                try:
                    s.send(b"ping\n")
                except OSError as exc:
                    fail(s, "send:" + errno.errorcode.get(exc.errno, type(exc).__name__))
                    continue
                st[1] = 1
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(64)
            except OSError as exc:
                fail(s, "recv:" + errno.errorcode.get(exc.errno, type(exc).__name__))
                continue
            if not data:
                fail(s, "eof")
                continue
            if b"\n" in data:
                ok += 1
                sel.unregister(s)
                del live[s]
                s.close()
        now = time.time()
        for s in [s for s, st in live.items() if st[0] < now]:
            fail(s, "timeout")
    elapsed = time.time() - start
    errors = sum(reasons.values())
    why = ",".join(f"{k}:{v}" for k, v in sorted(reasons.items())) or "-"
    print(f"SHORT attempted={attempted} ok={ok} errors={errors} reasons={why} "
          f"elapsed_s={elapsed:.1f} rate={ok / elapsed if elapsed > 0 else 0:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
