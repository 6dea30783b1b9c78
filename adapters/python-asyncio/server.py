"""The peer contract (docs/SUT_CONTRACT.md) on Python's asyncio streams.

Library: asyncio of the Python 3.11 standard library (no other package).
Idiom: asyncio.start_unix_server / asyncio.start_server with one coroutine
per connection on a StreamReader/StreamWriter pair: readexactly() for the
4-byte header and then the payload (whose length is checked first, so no
buffer is reserved for a bad L), writer.write(), and `await writer.drain()`
after each request for backpressure, with the transport's high-water mark
set to 1 MiB (set_write_buffer_limits). While the coroutine waits in
drain() it reads nothing, and the StreamReader pauses the transport once
its own buffer passes twice its limit: that is how asyncio stops reading a
client that reads no reply. Short reads and writes are the transport's
business; EINTR is retried by Python itself (PEP 475).

Address forms: unix:/path and unix:@name (start_unix_server with a str path;
a leading '\\0' makes it abstract, bound with exactly the name's length),
tcp:127.0.0.1 and tcp:[::1] (start_server), fd:N (socket.socket(fileno=N)
handed to asyncio.open_unix_connection(sock=...)).

What asyncio does that the contract would not:
- create_unix_server() removes any socket file at the path before binding,
  also one a live server listens on, and so steals its path:
  https://github.com/python/cpython/issues/121252 (case 10.3). Worked
  around below (WORKAROUND: a connect probe before start_unix_server).
- In 3.11 the server never removes its socket file; done here at exit, only
  if the file is still the one bound (same device and inode).
- accept's EMFILE/ENFILE: asyncio logs it, stops watching the listener and
  tries again after 1 s (its default; nothing to add).
"""
import asyncio
import errno
import os
import signal
import socket
import stat
import struct
import sys

MAX_FRAME = 16 * 1024 * 1024
HIGH_WATER = 1 << 20
PATTERN = bytes(range(251))
_bulk = b""  # i mod 251 for i < MAX_FRAME, made at the first B

# The open connections (their coroutines' tasks and writers): N counts them.
connections = {}


def bulk(n):
    global _bulk
    if len(_bulk) < n:
        _bulk = (PATTERN * (MAX_FRAME // len(PATTERN) + 1))[:MAX_FRAME]
    return memoryview(_bulk)[:n]


def frame_header(length):
    return struct.pack(">I", length)


async def serve(reader, writer):
    """One connection: requests in, replies out in order."""
    task = asyncio.current_task()
    connections[task] = writer
    writer.transport.set_write_buffer_limits(high=HIGH_WATER)
    try:
        while True:
            try:
                header = await reader.readexactly(4)
            except asyncio.IncompleteReadError:
                break  # end of stream at a boundary, or inside the header
            (length,) = struct.unpack(">I", header)
            if length == 0 or length > MAX_FRAME:
                break  # protocol error: close, no reply
            try:
                request = await reader.readexactly(length)
            except asyncio.IncompleteReadError:
                break  # end of stream inside a frame: no reply
            op = request[0]
            if op == 0x45:  # E
                writer.writelines([header, request])
            elif op == 0x42 and length == 5:  # B
                (n,) = struct.unpack(">I", request[1:5])
                if n > MAX_FRAME - 1:
                    break
                writer.writelines([frame_header(n + 1), b"B", bulk(n)])
            elif op == 0x4E and length == 1:  # N
                reply = b"N%d" % len(connections)
                writer.writelines([frame_header(len(reply)), reply])
            elif op == 0x53:  # S
                # write_eof() shuts down the sending side once the
                # transport's buffer is flushed; then discard until EOF.
                writer.write_eof()
                while await reader.read(1 << 16):
                    pass
                break
            elif op == 0x41:  # A
                sock = writer.get_extra_info("socket")
                # TCP: a reset; UNIX sockets ignore the linger time.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            else:
                break  # C, an unknown opcode or a malformed request
            await writer.drain()
        # C, end of stream, bad input: close() flushes what is queued,
        # then closes the socket.
        writer.close()
        await writer.wait_closed()
    except (ConnectionError, OSError):
        writer.transport.abort()  # reset or gone: drop it, serve the others
    finally:
        connections.pop(task, None)


def someone_listens(path):
    """Whether a server accepts connections on the socket file at path.

    Only a refused connection (or no file) proves it stale. Non-blocking:
    a live server with a full backlog (EAGAIN) cannot keep us waiting.
    """
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.setblocking(False)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        return False
    except OSError:
        return True
    finally:
        probe.close()
    return True


def parse(address):
    if address.startswith("unix:@") and len(address) > 6:
        return ("unix", "\0" + address[6:])
    if address.startswith("unix:/"):
        return ("unix", address[5:])
    for prefix, host in (("tcp:127.0.0.1:", "127.0.0.1"), ("tcp:[::1]:", "::1")):
        if address.startswith(prefix) and address[len(prefix):].isdigit():
            return ("tcp", (host, int(address[len(prefix):])))
    if address.startswith("fd:") and address[3:].isdigit():
        return ("fd", int(address[3:]))
    return None


async def main(address):
    where = parse(address)
    if where is None:
        print("usage: server.py unix:/PATH|unix:@NAME|tcp:HOST:PORT|fd:N",
              file=sys.stderr)
        return 2
    kind, arg = where
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    if kind == "fd":
        sock = socket.socket(fileno=arg)  # family and type from the descriptor
        if sock.family == socket.AF_UNIX:
            reader, writer = await asyncio.open_unix_connection(sock=sock)
        else:
            reader, writer = await asyncio.open_connection(sock=sock)
        print("ready", flush=True)
        one = asyncio.create_task(serve(reader, writer))
        await asyncio.wait([one, asyncio.create_task(stop.wait())],
                           return_when=asyncio.FIRST_COMPLETED)
        writer.transport.abort()
        return 0

    path = None
    bound = None  # (st_dev, st_ino) of the socket file we bound
    try:
        if kind == "unix":
            if not arg.startswith("\0"):
                path = arg
                # WORKAROUND: create_unix_server() would unlink a live
                # server's socket file (cpython#121252); refuse to start
                # instead. A stale file it removes itself.
                try:
                    st = os.lstat(path)
                except FileNotFoundError:
                    st = None
                if st is not None and stat.S_ISSOCK(st.st_mode) \
                        and someone_listens(path):
                    print(f"a server already listens on {path}; "
                          "leaving it alone", file=sys.stderr)
                    return 1
            server = await asyncio.start_unix_server(serve, path=arg)
            if path is not None:
                st = os.stat(path)
                bound = (st.st_dev, st.st_ino)
        else:
            host, port = arg
            server = await asyncio.start_server(serve, host=host, port=port)
    except OSError as e:
        print(f"cannot listen on {address}: {e}", file=sys.stderr)
        return 1
    print("ready", flush=True)

    await stop.wait()
    server.close()
    for task, writer in list(connections.items()):
        writer.transport.abort()
        task.cancel()
    # Only if the file at the path is still ours: another server may have
    # bound the path since (an overlapping restart).
    if bound is not None:
        try:
            st = os.stat(path)
            if (st.st_dev, st.st_ino) == bound:
                os.unlink(path)
        except FileNotFoundError:
            pass
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: server.py ADDRESS", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1])))
