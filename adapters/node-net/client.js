'use strict';
// The client contract (docs/CLIENT_CONTRACT.md) on Node.js's `net` module
// (Node 18.17+ / 20.x; no npm packages): one net.Socket, the event loop of
// the process.
//
// Idiom: net.connect({path}) / net.connect({host, port}); an abstract name
// is given as a path starting with '\0' (Node's documented Linux form).
// fd:N wraps the inherited socket with new net.Socket({fd}) (no 'connect'
// event: the connection is already made). The requests (all of standard
// input) go out with one socket.write() once 'connect' fires; Node queues
// what the kernel does not take and retries short writes and EINTR itself.
// Replies arrive as 'data' chunks split anywhere: the frame parser below
// hashes each payload as its bytes come, so a 16 MiB reply is never
// concatenated. allowHalfOpen stays false (the default): Node ends our side
// only after the server's end of stream. SIGPIPE: Node ignores it at
// startup (its own behaviour, not done here), so a write to a reset
// connection is an 'error' event (EPIPE or ECONNRESET).
//
// Errors: the 'error' event's err.code is the errno name libuv gives
// (ECONNRESET -> end reset, ECONNREFUSED -> end refused, else `end error
// CODE`; EOTHER when there is no code).
//
// What Node does that the contract would not (findings, not worked around):
// - A UNIX listener whose backlog is full: libuv's uv_pipe_connect2
//   (src/unix/pipe.c) treats every connect() error but EINPROGRESS as
//   final, so EAGAIN is an 'error' (`end error EAGAIN`), no wait.
// - Node 20 (libuv 1.46) connects to an abstract name padded with NULs to
//   sizeof(sockaddr_un), so an exact-length name is refused; fixed in libuv
//   1.48 (https://github.com/nodejs/node/issues/50889).
// - A reset that arrives with the last data in one wakeup (EPOLLIN|ERR|HUP)
//   is reported as end of stream: uv__stream_io (src/unix/stream.c) skips
//   the read that would return ECONNRESET after a partial read when POLLHUP
//   is set (https://github.com/libuv/libuv/issues/2319).
const net = require('net');
const fs = require('fs');

// process.stdout on a file or (on Linux) a pipe writes synchronously: each
// line is out when say() returns.
function say(line) {
  process.stdout.write(`${line}\n`);
}

function parseAddress(address) {
  let m;
  if ((m = /^unix:@(.+)$/s.exec(address))) return { path: `\0${m[1]}` };
  if ((m = /^unix:(\/.*)$/s.exec(address))) return { path: m[1] };
  if ((m = /^tcp:127\.0\.0\.1:(\d+)$/.exec(address)))
    return { host: '127.0.0.1', port: Number(m[1]) };
  if ((m = /^tcp:\[::1\]:(\d+)$/.exec(address)))
    return { host: '::1', port: Number(m[1]) };
  if ((m = /^fd:(\d{1,4})$/.exec(address))) return { fd: Number(m[1]) };
  return null;
}

// Reply frames from a stream of chunks: 4-byte big-endian length, then the
// payload, hashed (FNV-1a 32) as it arrives.
function frameParser() {
  const header = Buffer.alloc(4);
  let have = 0; // header bytes so far
  let left = -1; // payload bytes still due, -1 while reading the header
  let length = 0;
  let hash = 0;
  return {
    feed(chunk) {
      let i = 0;
      while (i < chunk.length) {
        if (left < 0) {
          header[have++] = chunk[i++];
          if (have < 4) continue;
          length = header.readUInt32BE(0);
          left = length;
          hash = 0x811c9dc5;
        } else {
          const stop = Math.min(chunk.length, i + left);
          left -= stop - i;
          for (; i < stop; i++) hash = Math.imul(hash ^ chunk[i], 16777619);
        }
        if (left === 0) {
          say(`reply ${length} ${(hash >>> 0).toString(16).padStart(8, '0')}`);
          have = 0;
          left = -1;
        }
      }
    },
    atBoundary() {
      return left < 0 && have === 0;
    },
  };
}

function main() {
  const address = process.argv[2];
  const where = address === undefined ? null : parseAddress(address);
  if (where === null) {
    console.error('usage: client.js unix:/PATH|unix:@NAME|tcp:HOST:PORT|fd:N');
    process.exit(2);
  }
  const requests = fs.readFileSync(0); // all of standard input
  // Idle until SIGTERM: a signal listener alone does not keep the loop
  // alive, so a timer that fires every 24 days does (no polling).
  const idle = setInterval(() => {}, 2 ** 31 - 1);
  process.on('SIGTERM', () => {
    clearInterval(idle);
    process.exit(0);
  });

  let ended = false;
  function end(line) {
    if (ended) return;
    ended = true;
    say(line);
    socket.destroy(); // closes the descriptor; the process waits on
  }

  const parser = frameParser();
  let socket;
  if (where.fd !== undefined) {
    socket = new net.Socket({ fd: where.fd, readable: true, writable: true });
    socket.write(requests);
  } else {
    socket = net.connect(where);
    socket.on('connect', () => {
      say('connected');
      socket.write(requests);
    });
  }
  socket.on('data', (chunk) => parser.feed(chunk));
  socket.on('end', () => {
    end(parser.atBoundary() ? 'end eof' : 'end eof partial');
  });
  socket.on('error', (err) => {
    if (err.code === 'ECONNRESET') end('end reset');
    else if (err.code === 'ECONNREFUSED') end('end refused');
    else end(`end error ${typeof err.code === 'string' ? err.code : 'EOTHER'}`);
  });
}

main();
