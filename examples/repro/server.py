#!/usr/bin/env python3
"""The server side of check-client's findings, alone, for a library's
maintainers: run it, point a client of the library at the address it
prints, and watch what the client's application is told.

    python3 examples/repro/server.py MODE unix:/tmp/r.sock   (or tcp:127.0.0.1:PORT)

MODE
  full-backlog   listen(0) and fill the backlog with one connection of its
                 own; after 3 s accept everything and echo. A client must
                 wait and then connect (c1.4); EAGAIN from a non-blocking
                 UNIX connect is the kernel saying "not yet".
  reset-after-replies
                 read one frame, send two reply frames, then close with the
                 client's next request unread: a reset on UNIX and TCP
                 alike (c3.2). A client must report both replies, then the
                 reset, not an end of stream.
  reset-while-writing
                 read one frame, send two replies, then reset while the
                 client is still writing a large request (c3.3, c3.7): both
                 replies, then an error, and no SIGPIPE death.

Frames: a 4-byte big-endian length, then the payload (docs/CLIENT_CONTRACT.md).
"""
import os
import select
import socket
import struct
import sys
import time


def listen(address, backlog):
    if address.startswith("unix:"):
        path = address[len("unix:"):]
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if path.startswith("@"):
            path = "\0" + path[1:]
        elif os.path.exists(path):
            os.unlink(path)
        sock.bind(path)
    elif address.startswith("tcp:"):
        host, port = address[len("tcp:"):].rsplit(":", 1)
        host = host.strip("[]")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
    else:
        sys.exit(f"address must be unix:PATH, unix:@NAME or tcp:HOST:PORT, not {address!r}")
    sock.listen(backlog)
    return sock


def read_frame(conn):
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError("end of stream inside a frame")
            data += chunk
        return data
    (length,) = struct.unpack(">I", exactly(4))
    return exactly(length)


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    mode, address = sys.argv[1], sys.argv[2]
    if mode == "full-backlog":
        listener = listen(address, 0)
        filler = socket.socket(listener.family, socket.SOCK_STREAM)
        filler.setblocking(False)
        try:
            filler.connect(listener.getsockname())
        except BlockingIOError:
            pass
        print(f"listening on {address}, backlog full; accepting in 3 s", flush=True)
        time.sleep(3)  # the scenario's pause: the client meets a full backlog
        listener.accept()  # the filler, first in the queue
        conn, _ = listener.accept()
        conn.sendall(frame(read_frame(conn)))
        conn.close()
        print("echoed one request, closed", flush=True)
        return
    listener = listen(address, 16)
    print(f"listening on {address}", flush=True)
    conn, _ = listener.accept()
    read_frame(conn)
    conn.sendall(frame(b"Efirst reply") + frame(b"Esecond reply"))
    # Wait until more of the client's requests are queued, unread: the
    # close then resets the connection (unix(7), tcp(7)).
    select.select([conn], [], [], 10)
    if mode == "reset-while-writing":
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    elif mode != "reset-after-replies":
        sys.exit(f"unknown mode {mode!r}")
    time.sleep(0.2)  # pacing: the replies reach the client first
    conn.close()
    print("sent two replies, closed with requests unread: a reset", flush=True)


if __name__ == "__main__":
    main()
