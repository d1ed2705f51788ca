#!/usr/bin/env python3
"""Bounded HTTP client loop for the failover labs.

client.py URL INTERVAL_S STOP_FILE LOG
  One new TCP connection per request (so IPVS schedules every request),
  timeout 0.5 s, one request every INTERVAL_S until STOP_FILE exists
  (or 600 s at most). Appends "<unix time> ok <body>" or
  "<unix time> fail <reason>" per request to LOG.
"""
import http.client
import os
import sys
import time
from urllib.parse import urlsplit


def main() -> int:
    url, interval, stop_file, log_path = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    parts = urlsplit(url)
    deadline = time.time() + 600
    with open(log_path, "a", buffering=1) as log:
        while not os.path.exists(stop_file) and time.time() < deadline:
            started = time.time()
            conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=0.5)
            try:
                conn.request("GET", parts.path or "/")
                resp = conn.getresponse()
                body = resp.read().decode(errors="replace").strip().replace(" ", "_")
                status = "ok" if resp.status == 200 else "fail"
                log.write(f"{started:.3f} {status} {body or resp.status}\n")
            except Exception as exc:  # any failure is a lost request
                log.write(f"{started:.3f} fail {type(exc).__name__}\n")
            finally:
                conn.close()
            time.sleep(max(0.0, interval - (time.time() - started)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
