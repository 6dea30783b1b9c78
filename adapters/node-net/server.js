'use strict';
// The peer contract (docs/SUT_CONTRACT.md) on Node.js's `net` module
// (Node 18.17+ / 20.x; no npm packages): one net.Server per listening
// address, net.Socket streams, the event loop of the process.
//
// Idiom: net.createServer({allowHalfOpen, highWaterMark}) and
// server.listen({path}) / listen({host, port}); an abstract name is given
// to listen() as a path starting with '\0' (Node's documented Linux form).
// fd:N wraps the inherited socket with new net.Socket({fd}), which Node
// opens as a pipe handle (its guessHandleType says PIPE for a UNIX
// socket). Backpressure: socket.write() returning false pauses the socket
// (socket.pause()) until 'drain'; the writable high-water mark is 1 MiB.
// The client's SHUT_WR arrives as 'end' with allowHalfOpen: pending replies
// still go out, then socket.end(). S is socket.end() (queued after pending
// replies); C and bad input are socket.end(), then destroy() on 'finish'.
// A on TCP is socket.resetAndDestroy() (SO_LINGER {1, 0} in libuv); Node
// refuses resetAndDestroy on a pipe, where destroy() is the abort.
//
// What Node does that the contract would not (findings, not worked around):
// - server.close() on a UNIX path always unlinks the path (libuv's pipe
//   close does it), even when another server has bound the path since:
//   https://github.com/nodejs/node/issues/19729 (case 10.4).
// - Node leaves stale socket files to the user: listen() fails with
//   EADDRINUSE; the usual Node answer (connect probe: ECONNREFUSED means
//   stale, unlink, listen again) is done below.
// - accept's EMFILE/ENFILE: libuv's own remedy, silent to the program: it
//   closes a descriptor it holds in reserve, accepts every waiting
//   connection and closes it at once (those clients see a reset or end of
//   stream), then takes the reserve again. Only when that cannot run does
//   the server emit 'error', which is logged; Node keeps listening.
const net = require('net');
const fs = require('fs');

const kMaxFrame = 16 * 1024 * 1024;
const kHighWater = 1 << 20;
const kPattern = Buffer.from(Array.from({ length: 251 }, (_, i) => i));

const connections = new Set();

function frame(payload) {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}

// B N: 'B', then byte i = i mod 251, framed: one buffer, one write.
function bulkReply(n) {
  const out = Buffer.allocUnsafe(5 + n);
  out.writeUInt32BE(n + 1, 0);
  out[4] = 0x42;
  if (n > 0) out.fill(kPattern, 5);
  return out;
}

function serve(socket, isTcp) {
  connections.add(socket);
  let chunks = [];
  let buffered = 0;
  let state = 'open'; // 'open' | 'discard' (after S) | 'done'
  let blocked = false; // a write returned false: wait for 'drain'
  let peerEnded = false;

  // The first n buffered bytes as one buffer (concatenated only once the
  // whole of them is here), removed from the queue when `take`.
  function bytes(n, take) {
    if (chunks[0].length < n) chunks = [Buffer.concat(chunks, buffered)];
    const out = chunks[0].subarray(0, n);
    if (take) {
      buffered -= n;
      if (chunks[0].length === n) chunks.shift();
      else chunks[0] = chunks[0].subarray(n);
    }
    return out;
  }

  function write(buffer) {
    if (!socket.write(buffer)) {
      blocked = true;
      socket.pause();
    }
  }

  // Replies to what was queued, then close (C, bad input, end of stream).
  function finish() {
    state = 'done';
    chunks = [];
    buffered = 0;
    socket.pause();
    socket.end();
    // With allowHalfOpen the socket lives on until the peer ends too; C
    // and bad input close it once the replies are out.
    socket.once('finish', () => socket.destroy());
  }

  // Returns false when the connection takes no more requests.
  function handle(request, whole) {
    switch (request[0]) {
      case 0x45: // E: the identical frame back
        write(whole);
        return true;
      case 0x42: { // B
        if (request.length !== 5) break;
        const n = request.readUInt32BE(1);
        if (n > kMaxFrame - 1) break;
        write(bulkReply(n));
        return true;
      }
      case 0x4e: // N
        if (request.length !== 1) break;
        write(frame(Buffer.from(`N${connections.size}`)));
        return true;
      case 0x53: // S: half-close after the replies, then discard
        state = 'discard';
        chunks = [];
        buffered = 0;
        socket.end();
        socket.resume();
        return false;
      case 0x43: // C
        finish();
        return false;
      case 0x41: // A
        state = 'done';
        if (isTcp) socket.resetAndDestroy();
        else socket.destroy();
        return false;
    }
    finish(); // unknown opcode or malformed request: a protocol error
    return false;
  }

  function pump() {
    while (state === 'open' && !blocked && buffered >= 4) {
      const length = bytes(4, false).readUInt32BE(0);
      if (length === 0 || length > kMaxFrame) {
        finish(); // protocol error: no reply, nothing reserved for L
        return;
      }
      if (buffered < 4 + length) break;
      const whole = bytes(4 + length, true);
      if (!handle(whole.subarray(4), whole)) return;
    }
    // End of stream: at a frame boundary or inside one (no reply for the
    // partial frame); either way the replies due go out, then close.
    if (state === 'open' && peerEnded && !blocked) finish();
  }

  socket.on('data', (chunk) => {
    if (state !== 'open') return; // after S (or done): discarded
    chunks.push(chunk);
    buffered += chunk.length;
    pump();
  });
  socket.on('drain', () => {
    if (!blocked) return;
    blocked = false;
    pump();
    if (!blocked && state !== 'done') socket.resume();
  });
  socket.on('end', () => {
    peerEnded = true;
    // After S the socket ends by itself (autoDestroy) once our end() is
    // out too.
    if (state === 'open') pump();
  });
  // A reset or EPIPE: Node destroys the socket; drop it, serve the others.
  socket.on('error', () => {});
  socket.on('close', () => connections.delete(socket));
}

function parseAddress(address) {
  let m;
  if ((m = /^unix:@(.+)$/s.exec(address))) return { path: `\0${m[1]}` };
  if ((m = /^unix:(\/.*)$/s.exec(address))) return { path: m[1], file: true };
  if ((m = /^tcp:127\.0\.0\.1:(\d+)$/.exec(address)))
    return { host: '127.0.0.1', port: Number(m[1]), tcp: true };
  if ((m = /^tcp:\[::1\]:(\d+)$/.exec(address)))
    return { host: '::1', port: Number(m[1]), tcp: true };
  if ((m = /^fd:(\d{1,4})$/.exec(address))) return { fd: Number(m[1]) };
  return null;
}

function main() {
  const address = process.argv[2];
  const where = address === undefined ? null : parseAddress(address);
  if (where === null) {
    console.error(`usage: server.js unix:/PATH|unix:@NAME|tcp:HOST:PORT|fd:N`);
    process.exit(2);
  }

  if (where.fd !== undefined) {
    // One inherited connected socket; the process ends with it (no other
    // handle keeps the loop alive).
    const socket = new net.Socket({
      fd: where.fd,
      readable: true,
      writable: true,
      allowHalfOpen: true,
      highWaterMark: kHighWater,
    });
    serve(socket, false);
    process.on('SIGTERM', () => socket.destroy());
    process.stdout.write('ready\n');
    return;
  }

  const server = net.createServer(
    { allowHalfOpen: true, highWaterMark: kHighWater },
    (socket) => serve(socket, Boolean(where.tcp)),
  );
  let listening = false;
  const listenOptions = where.path !== undefined
    ? { path: where.path }
    : { host: where.host, port: where.port };

  server.on('listening', () => {
    listening = true;
    process.stdout.write('ready\n');
  });
  server.on('error', (err) => {
    if (listening) {
      // accept() failed and libuv's EMFILE remedy could not run: the
      // server keeps listening.
      console.error(`accept: ${err.code || err.message}`);
      return;
    }
    if (err.code === 'EADDRINUSE' && where.file) return replaceIfStale(err);
    console.error(`cannot listen on ${address}: ${err.message}`);
    process.exit(1);
  });

  // listen() found the path taken. Only a refused connection proves the
  // socket file stale (its server died): then unlink it and listen again.
  // A live server, or a file that is not a socket, is left alone.
  let retried = false;
  function replaceIfStale(err) {
    let st;
    try {
      st = fs.lstatSync(where.path);
    } catch {
      st = null; // gone meanwhile: listen again
    }
    if (st !== null && !st.isSocket()) {
      console.error(`${where.path} exists and is not a socket; leaving it alone`);
      process.exit(1);
    }
    if (retried) {
      console.error(`cannot listen on ${address}: ${err.message}`);
      process.exit(1);
    }
    retried = true;
    if (st === null) return server.listen(listenOptions);
    const probe = net.connect({ path: where.path });
    probe.on('connect', () => {
      console.error(`a server already listens on ${where.path}; leaving it alone`);
      process.exit(1);
    });
    probe.on('error', (probeErr) => {
      if (probeErr.code === 'ECONNREFUSED' || probeErr.code === 'ENOENT') {
        try {
          fs.unlinkSync(where.path);
        } catch {}
        return server.listen(listenOptions);
      }
      // EAGAIN (a full backlog) and the like: someone is there.
      console.error(`a server may listen on ${where.path} (${probeErr.code}); leaving it alone`);
      process.exit(1);
    });
  }

  process.on('SIGTERM', () => {
    // Stops accepting; libuv unlinks a UNIX path here (see the header).
    server.close();
    for (const socket of connections) socket.destroy();
    // Everything is closed, so the loop ends and the process exits 0; the
    // timer only bounds it.
    setTimeout(() => process.exit(0), 1500).unref();
  });

  server.listen(listenOptions);
}

main();
