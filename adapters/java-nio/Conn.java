// One connection of the Java NIO server (see Server.java): the framing state
// machine of the peer contract and the write path. Each connection has its
// own ByteBuffers: an input buffer, the frame being read, and a queue of
// replies. OP_WRITE is wanted while replies are queued; OP_READ is dropped
// while more than HIGH_WATER bytes of replies are queued (backpressure) and
// comes back when the queue drains.
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Set;

final class Conn {
  static final int MAX_FRAME = 16 << 20;
  static final long HIGH_WATER = 1 << 20;
  // Bytes handed to one write call: the JDK copies a heap buffer's whole
  // remaining content into a temporary direct buffer on every write, so a
  // 16 MiB reply to a slow reader would be copied again and again.
  static final int WRITE_SLICE = 1 << 20;
  static final byte[] PATTERN = new byte[251];

  static {
    for (int i = 0; i < PATTERN.length; i++) PATTERN[i] = (byte) i;
  }

  private final SocketChannel channel;
  private final boolean tcp;
  // The server's open connections: 'N' replies with their count, and a
  // closed connection leaves it.
  private final Set<Conn> conns;
  SelectionKey key;  // set by the server once the channel is registered
  boolean closed;
  // Kept in fill mode between calls; handleFrames flips it only to parse.
  private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
  private ByteBuffer frame;  // the payload being read, once its length is known
  private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
  private long queued;
  private boolean eof, readDone, discarding, shutAfterFlush, shutDone,
      closeAfterFlush;

  Conn(SocketChannel channel, boolean tcp, Set<Conn> conns) {
    this.channel = channel;
    this.tcp = tcp;
    this.conns = conns;
  }

  void read() throws IOException {
    int n = channel.read(in);
    if (n < 0) {
      eof = true;  // handleFrames ends the connection once it is due
    } else if (discarding) {
      in.clear();
    }
    pump();
  }

  // Handles frames and writes replies, alternately, until the socket is
  // full, the input holds no complete frame, or the connection ends; then
  // sets the interest set. Frames wait in `in` while more than HIGH_WATER
  // bytes of replies are queued.
  void pump() throws IOException {
    while (true) {
      handleFrames();
      if (closed) return;
      boolean drained = write();
      if (drained) finishIfFlushed();
      if (closed) return;
      if (!drained || !moreToHandle()) break;
    }
    updateInterest();
  }

  private boolean moreToHandle() {
    if (readDone || queued > HIGH_WATER) return false;
    if (eof) return true;
    if (discarding) return false;
    return frame != null ? in.position() > 0 : in.position() >= 4;
  }

  private void handleFrames() throws IOException {
    in.flip();
    while (!readDone && !discarding && !closed && queued <= HIGH_WATER) {
      if (frame == null) {
        if (in.remaining() < 4) break;
        long length = in.getInt() & 0xffffffffL;
        if (length == 0 || length > MAX_FRAME) {
          protocolError();  // no buffer reserved for a bad length
          break;
        }
        frame = ByteBuffer.allocate((int) length);
      }
      int take = Math.min(in.remaining(), frame.remaining());
      frame.put(frame.position(), in, in.position(), take);
      frame.position(frame.position() + take);
      in.position(in.position() + take);
      if (frame.hasRemaining()) break;
      byte[] payload = frame.array();
      frame = null;
      handle(payload);
    }
    if (eof && !readDone && !closed && (discarding || queued <= HIGH_WATER)) {
      // End of stream and no complete frame left: every pending reply,
      // then close. A partial frame gets no reply.
      readDone = true;
      closeAfterFlush = true;
      frame = null;
    }
    if (discarding || readDone) {
      in.clear();
    } else {
      in.compact();
    }
  }

  private void handle(byte[] payload) throws IOException {
    switch (payload[0]) {
      case 'E':
        reply(payload);
        break;
      case 'B': {
        if (payload.length != 5) {
          protocolError();
          break;
        }
        long n = ByteBuffer.wrap(payload, 1, 4).getInt() & 0xffffffffL;
        if (n > MAX_FRAME - 1) {
          protocolError();
          break;
        }
        byte[] bulk = new byte[(int) n + 1];
        bulk[0] = 'B';
        for (int i = 0; i < n; i += PATTERN.length) {
          System.arraycopy(PATTERN, 0, bulk, 1 + i,
                           (int) Math.min(PATTERN.length, n - i));
        }
        reply(bulk);
        break;
      }
      case 'N':
        if (payload.length != 1) {
          protocolError();
          break;
        }
        reply(("N" + conns.size()).getBytes(StandardCharsets.US_ASCII));
        break;
      case 'S':
        shutAfterFlush = true;
        discarding = true;  // read on until end of stream, dropping it all
        break;
      case 'C':
        readDone = true;
        closeAfterFlush = true;
        break;
      case 'A':
        if (tcp) {
          // Linger {on, 0}: the close sends a reset. UNIX channels do not
          // support SO_LINGER; their close is the abort there.
          channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        }
        close();
        break;
      default:
        protocolError();
    }
  }

  private void protocolError() {
    readDone = true;
    closeAfterFlush = true;
  }

  private void reply(byte[] payload) {
    ByteBuffer header = ByteBuffer.allocate(4).putInt(payload.length).flip();
    out.add(header);
    out.add(ByteBuffer.wrap(payload));
    queued += 4 + payload.length;
  }

  // Writes what the socket takes now; the rest waits for OP_WRITE. True
  // when nothing is left queued.
  private boolean write() throws IOException {
    while (!out.isEmpty()) {
      ByteBuffer[] batch = new ByteBuffer[Math.min(out.size(), 64)];
      int count = 0;
      int budget = WRITE_SLICE;
      for (ByteBuffer b : out) {
        if (count == batch.length || budget == 0) break;
        ByteBuffer view = b.duplicate();
        if (view.remaining() > budget) view.limit(view.position() + budget);
        budget -= view.remaining();
        batch[count++] = view;
      }
      long written = channel.write(batch, 0, count);
      queued -= written;
      while (written > 0) {
        ByteBuffer head = out.peek();
        int step = (int) Math.min(written, head.remaining());
        head.position(head.position() + step);
        written -= step;
        if (!head.hasRemaining()) out.poll();
      }
      if (batch[count - 1].hasRemaining()) return false;  // socket full
    }
    return true;
  }

  private void finishIfFlushed() throws IOException {
    if (!out.isEmpty() || closed) return;
    if (shutAfterFlush && !shutDone) {
      shutDone = true;
      channel.shutdownOutput();
    }
    if (closeAfterFlush) close();
  }

  private void updateInterest() {
    if (closed || !key.isValid()) return;
    int ops = 0;
    if (!out.isEmpty()) ops |= SelectionKey.OP_WRITE;
    if (!readDone && !eof && (discarding || queued <= HIGH_WATER)) {
      ops |= SelectionKey.OP_READ;
    }
    key.interestOps(ops);
  }

  void close() {
    if (closed) return;
    closed = true;
    conns.remove(this);
    out.clear();
    queued = 0;
    try {
      channel.close();  // also cancels the key
    } catch (IOException ignored) {
    }
  }
}
