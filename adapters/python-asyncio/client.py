"""The client contract (docs/CLIENT_CONTRACT.md) on Python's asyncio streams.

Library: asyncio of the Python 3.11 standard library (no other package).
Idiom: asyncio.open_unix_connection / asyncio.open_connection give a
StreamReader/StreamWriter pair; the requests go out with writer.write() and
`await writer.drain()` in a task of their own while the main coroutine reads
replies with readexactly() (4-byte header, then the payload). Short reads and
writes are the transport's business; EINTR is retried by Python itself (PEP
475). SIGPIPE: the interpreter sets it to SIG_IGN at startup (its own
idiom, not done here), so a write to a reset connection raises
BrokenPipeError / ConnectionResetError.

Address forms: unix:/path and unix:@name (a str path; a leading '\\0' makes
it abstract, connected with exactly the name's length), tcp:127.0.0.1 and
tcp:[::1] (open_connection), fd:N (socket.socket(fileno=N) handed to
open_unix_connection(sock=...) / open_connection(sock=...)).

Errors are reported from the exception's errno (errno.errorcode), the way a
user maps an OSError; ConnectionResetError is `end reset` and
ConnectionRefusedError `end refused`.

What asyncio does that the contract would not (findings, not worked around):
- A UNIX listener whose backlog is full: the non-blocking connect() fails
  with EAGAIN, which BaseSelectorEventLoop._sock_connect
  (Lib/asyncio/selector_events.py) catches as BlockingIOError, like
  EINPROGRESS; it then waits for the socket to be writable (an unconnected
  UNIX socket is, at once), finds SO_ERROR 0 and reports the socket
  connected. It never is: 'connected', then the first read fails with
  EINVAL (`end error EINVAL`).
"""
import asyncio
import errno
import signal
import socket
import struct
import sys


def say(line):
    print(line, flush=True)


def fnv1a32(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


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


def end_line(exc):
    if isinstance(exc, ConnectionResetError):
        return "end reset"
    if isinstance(exc, ConnectionRefusedError):
        return "end refused"
    name = errno.errorcode.get(getattr(exc, "errno", None) or -1, "EOTHER")
    return "end error " + name


async def send_all(writer, requests):
    """Sends the requests; a failure shows up in the reader as well."""
    try:
        writer.write(requests)
        await writer.drain()
    except (ConnectionError, OSError) as e:
        print(f"write: {e!r}", file=sys.stderr, flush=True)


async def read_replies(reader):
    """Reads reply frames until the stream ends; returns the end line."""
    while True:
        try:
            header = await reader.readexactly(4)
            (length,) = struct.unpack(">I", header)
            payload = await reader.readexactly(length)
        except asyncio.IncompleteReadError as e:
            at_boundary = e.expected == 4 and not e.partial
            return "end eof" if at_boundary else "end eof partial"
        except (ConnectionError, OSError) as e:
            return end_line(e)
        say(f"reply {length} {fnv1a32(payload):08x}")


async def main(address):
    where = parse(address)
    if where is None:
        print("usage: client.py unix:/PATH|unix:@NAME|tcp:HOST:PORT|fd:N",
              file=sys.stderr)
        return 2
    kind, arg = where
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    requests = sys.stdin.buffer.read()

    async def run():
        try:
            if kind == "fd":
                sock = socket.socket(fileno=arg)  # family from the descriptor
                if sock.family == socket.AF_UNIX:
                    return await asyncio.open_unix_connection(sock=sock)
                return await asyncio.open_connection(sock=sock)
            if kind == "unix":
                streams = await asyncio.open_unix_connection(path=arg)
            else:
                streams = await asyncio.open_connection(*arg)
            say("connected")
            return streams
        except (ConnectionError, OSError) as e:
            say(end_line(e))
            return None

    connecting = asyncio.create_task(run())
    term = asyncio.create_task(stop.wait())
    await asyncio.wait([connecting, term], return_when=asyncio.FIRST_COMPLETED)
    if not connecting.done():
        return 0  # SIGTERM while connecting
    streams = connecting.result()
    if streams is not None:
        reader, writer = streams
        sending = asyncio.create_task(send_all(writer, requests))
        reading = asyncio.create_task(read_replies(reader))
        await asyncio.wait([reading, term], return_when=asyncio.FIRST_COMPLETED)
        if reading.done():
            say(reading.result())
        writer.transport.abort()  # closes the socket at once
        sending.cancel()
    await term  # idle in the selector until SIGTERM
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: client.py ADDRESS", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1])))
