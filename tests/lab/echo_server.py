#!/usr/bin/env python3
"""Echo server for the connection-survival lab (tests/lab/survive.sh).

echo_server.py PORT
  One process, one selector, non-blocking sockets: echoes every byte back
  on the same connection until the peer closes it. Health-check connects
  (TCP_CHECK) are accepted and closed when the peer closes. Runs until it
  is killed (the lab's topology teardown kills everything in the
  namespace).
"""
import selectors
import socket
import sys


def main() -> int:
    port = int(sys.argv[1])
    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("0.0.0.0", port))
    lsock.listen(1024)
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, None)
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            if key.data is None:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sel.register(conn, selectors.EVENT_READ, True)
                continue
            try:
                data = sock.recv(65536)
                if data:
                    # Tiny messages: the send buffer never fills in this lab.
                    sock.sendall(data)
                    continue
            except OSError:
                pass
            sel.unregister(sock)
            sock.close()


if __name__ == "__main__":
    sys.exit(main())
