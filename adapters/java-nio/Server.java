// The peer contract (docs/SUT_CONTRACT.md, v1.1) on Java NIO, OpenJDK 17:
// one thread, one java.nio.channels.Selector, non-blocking channels.
// UNIX paths use ServerSocketChannel.open(StandardProtocolFamily.UNIX) bound
// to a UnixDomainSocketAddress (JEP 380, JDK 16+); TCP uses
// ServerSocketChannel.open() bound to an InetSocketAddress. Each connection
// has its own ByteBuffers: an input buffer, the frame being read, and a queue
// of replies. OP_WRITE is wanted while replies are queued; OP_READ is dropped
// while more than 1 MiB of replies is queued (backpressure) and comes back
// when the queue drains.
//
// What it cannot do, and why:
// - unix:@name (abstract): exits 64. JEP 380 lists "Linux-specific features
//   such as the abstract filesystem-independent namespace" as a non-goal
//   (https://openjdk.org/jeps/380); UnixDomainSocketAddress takes a Path,
//   and a Path cannot hold the leading NUL (InvalidPathException).
// - fd:N: exits 64 unless N is 0. Java has no public API that adopts an
//   inherited descriptor; the one documented mechanism is
//   System.inheritedChannel() (SelectorProvider.inheritedChannel), which
//   looks at standard input only (inetd style), so fd:0 is served and any
//   other N is not.
// - A socket path of 107 bytes (the most Linux takes): bind throws
//   "Unix domain path too long". The JDK caps paths at sizeof(sun_path) - 2
//   = 106 bytes, keeping a byte "for abstract name" although it binds no
//   abstract names (MAX_UNIX_DOMAIN_PATH_LEN in
//   src/java.base/unix/native/libnio/ch/nio_util.h). Nothing in the API
//   gets around it; the server exits 1 with that exception.
// - SIGTERM: the JVM's own SIGTERM handling runs the shutdown hooks and then
//   exits 143 (128 + 15), and no hook can change that status (Runtime.exit
//   from a hook blocks forever). So SIGTERM is handled with sun.misc.Signal,
//   which JEP 260 (https://openjdk.org/jeps/260) keeps accessible in the
//   jdk.unsupported module for exactly this purpose: the handler only wakes
//   the selector; the loop closes the channels and calls System.exit(0), and
//   the shutdown hook removes the socket file (it also runs on SIGINT, SIGHUP
//   or any other orderly exit).
// - Java never removes a UNIX socket file itself (ServerSocketChannel docs:
//   deleting it is the application's job), and bind fails with "Address
//   already in use" on an existing file, so the stale/live check and the
//   removal (only if the file's BasicFileAttributes.fileKey(), i.e. device
//   and inode, is still the one bound) are done here.
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;

public final class Server {
  static final int MAX_FRAME = 16 << 20;
  static final long HIGH_WATER = 1 << 20;
  // Bytes handed to one write call: the JDK copies a heap buffer's whole
  // remaining content into a temporary direct buffer on every write, so a
  // 16 MiB reply to a slow reader would be copied again and again.
  static final int WRITE_SLICE = 1 << 20;
  static final long ACCEPT_BACKOFF_MS = 100;
  static final int EXIT_UNSUPPORTED = 64;

  static final class Conn {
    final SocketChannel channel;
    final boolean tcp;
    SelectionKey key;
    final ByteBuffer in = ByteBuffer.allocate(64 * 1024);  // kept in fill mode
    ByteBuffer frame;  // the payload being read, once its length is known
    final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
    long queued;
    boolean eof, readDone, discarding, shutAfterFlush, shutDone,
        closeAfterFlush, closed;

    Conn(SocketChannel channel, boolean tcp) {
      this.channel = channel;
      this.tcp = tcp;
    }
  }

  static Selector selector;
  static final Set<Conn> conns = new HashSet<>();
  static volatile boolean stopping;
  static boolean singleConnection;
  static final byte[] PATTERN = new byte[251];

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: Server ADDRESS");
      System.exit(2);
    }
    for (int i = 0; i < PATTERN.length; i++) PATTERN[i] = (byte) i;
    String address = args[0];
    selector = Selector.open();
    // See the header: without this the JVM exits 143 on SIGTERM.
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> {
      stopping = true;
      selector.wakeup();
    });

    ServerSocketChannel listener = null;
    if (address.startsWith("fd:")) {
      if (!address.equals("fd:0")) {
        System.err.println(address + ": Java adopts an inherited socket only "
            + "on standard input (System.inheritedChannel)");
        System.exit(EXIT_UNSUPPORTED);
      }
      Channel inherited = System.inheritedChannel();
      if (!(inherited instanceof SocketChannel)) {
        System.err.println("fd:0 is not a connected stream socket");
        System.exit(1);
      }
      SocketChannel channel = (SocketChannel) inherited;
      singleConnection = true;
      register(channel, channel.getLocalAddress() instanceof InetSocketAddress);
    } else if (address.startsWith("unix:@")) {
      System.err.println(address + ": JDK 17 has no abstract UNIX socket names "
          + "(JEP 380 non-goal)");
      System.exit(EXIT_UNSUPPORTED);
    } else if (address.startsWith("unix:")) {
      listener = bindUnix(Path.of(address.substring(5)));
    } else if (address.startsWith("tcp:")) {
      String hostPort = address.substring(4);
      int colon = hostPort.lastIndexOf(':');
      String host = hostPort.substring(0, colon);
      if (host.startsWith("[")) host = host.substring(1, host.length() - 1);
      int port = Integer.parseInt(hostPort.substring(colon + 1));
      listener = ServerSocketChannel.open();
      listener.bind(new InetSocketAddress(InetAddress.getByName(host), port),
                    128);
    } else {
      System.err.println("unknown address: " + address);
      System.exit(2);
    }
    if (listener != null) {
      listener.configureBlocking(false);
      listener.register(selector, SelectionKey.OP_ACCEPT);
    }
    System.out.println("ready");
    System.out.flush();
    run(listener);
    if (listener != null) listener.close();
    for (Conn c : new ArrayList<>(conns)) close(c);
    selector.close();
    System.exit(0);  // the shutdown hook removes the socket file
  }

  // Binds a UNIX path. A stale socket file (nobody accepts on it) is
  // replaced; a live one, or a file that is not a socket, stays and we
  // refuse to start.
  static ServerSocketChannel bindUnix(Path path) throws IOException {
    UnixDomainSocketAddress where = UnixDomainSocketAddress.of(path);
    for (int attempt = 0;; attempt++) {
      ServerSocketChannel channel =
          ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        channel.bind(where, 128);
        Object bound = fileKey(path);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          try {
            if (bound != null && bound.equals(fileKey(path))) {
              Files.deleteIfExists(path);
            }
          } catch (IOException ignored) {
          }
        }));
        return channel;
      } catch (BindException e) {
        channel.close();
        if (attempt == 3) throw e;
        BasicFileAttributes attrs;
        try {
          attrs = Files.readAttributes(path, BasicFileAttributes.class,
                                       LinkOption.NOFOLLOW_LINKS);
        } catch (IOException gone) {
          continue;  // gone since: bind again
        }
        if (!attrs.isOther()) {
          System.err.println(path + " exists and is not a socket; leaving it"
              + " alone");
          System.exit(1);
        }
        if (someoneListens(where)) {
          System.err.println("a server already listens on " + path
              + "; leaving it alone");
          System.exit(1);
        }
        Files.deleteIfExists(path);
      }
    }
  }

  // The file's identity (device and inode on Linux), or null if none.
  static Object fileKey(Path path) {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class,
                                  LinkOption.NOFOLLOW_LINKS).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  // Only a refused connection proves the file stale. Non-blocking, so a
  // live server with a full backlog cannot keep us waiting.
  static boolean someoneListens(SocketAddress where) {
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.configureBlocking(false);
      probe.connect(where);
      return true;
    } catch (ConnectException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  static void run(ServerSocketChannel listener) throws IOException {
    long acceptResumeAt = 0;
    while (!stopping) {
      if (singleConnection && conns.isEmpty()) return;
      long timeout = 0;
      if (acceptResumeAt != 0) {
        timeout = Math.max(1, acceptResumeAt - System.currentTimeMillis());
      }
      selector.select(timeout);
      if (acceptResumeAt != 0 && System.currentTimeMillis() >= acceptResumeAt) {
        acceptResumeAt = 0;
        listener.keyFor(selector).interestOps(SelectionKey.OP_ACCEPT);
      }
      for (SelectionKey key : selector.selectedKeys()) {
        if (!key.isValid()) continue;
        if (key.channel() == listener) {
          if (!accept(listener)) {
            // Out of descriptors: the selector is level-triggered, so
            // accepting again at once would spin. Rest, as Netty does, and
            // keep serving the open connections meanwhile.
            key.interestOps(0);
            acceptResumeAt = System.currentTimeMillis() + ACCEPT_BACKOFF_MS;
          }
          continue;
        }
        Conn c = (Conn) key.attachment();
        try {
          if (key.isWritable()) pump(c);
          if (!c.closed && key.isReadable()
              && (key.interestOps() & SelectionKey.OP_READ) != 0) {
            read(c);
          }
        } catch (IOException e) {
          close(c);  // reset or gone: drop it, serve the others
        }
      }
      selector.selectedKeys().clear();
    }
  }

  // False when accept failed (EMFILE, ENFILE, ...).
  static boolean accept(ServerSocketChannel listener) {
    for (int i = 0; i < 64; i++) {
      SocketChannel channel;
      try {
        channel = listener.accept();
      } catch (IOException e) {
        System.err.println("accept: " + e.getMessage());
        return false;
      }
      if (channel == null) return true;
      try {
        register(channel, isTcp(channel));
      } catch (IOException e) {
        try {
          channel.close();
        } catch (IOException ignored) {
        }
      }
    }
    return true;
  }

  static boolean isTcp(SocketChannel channel) throws IOException {
    return channel.getLocalAddress() instanceof InetSocketAddress;
  }

  static void register(SocketChannel channel, boolean tcp) throws IOException {
    channel.configureBlocking(false);
    Conn c = new Conn(channel, tcp);
    c.key = channel.register(selector, SelectionKey.OP_READ, c);
    conns.add(c);
  }

  static void read(Conn c) throws IOException {
    int n = c.channel.read(c.in);
    if (n < 0) {
      c.eof = true;  // handleFrames ends the connection once it is due
    } else if (c.discarding) {
      c.in.clear();
    }
    pump(c);
  }

  // Handles frames and writes replies, alternately, until the socket is
  // full, the input holds no complete frame, or the connection ends; then
  // sets the interest set. Frames wait in c.in while more than HIGH_WATER
  // bytes of replies are queued.
  static void pump(Conn c) throws IOException {
    while (true) {
      handleFrames(c);
      if (c.closed) return;
      boolean drained = write(c);
      if (drained) finishIfFlushed(c);
      if (c.closed) return;
      if (!drained || !moreToHandle(c)) break;
    }
    updateInterest(c);
  }

  static boolean moreToHandle(Conn c) {
    if (c.readDone || c.queued > HIGH_WATER) return false;
    if (c.eof) return true;
    if (c.discarding) return false;
    return c.frame != null ? c.in.position() > 0 : c.in.position() >= 4;
  }

  static void handleFrames(Conn c) throws IOException {
    ByteBuffer in = c.in;
    in.flip();
    while (!c.readDone && !c.discarding && !c.closed
           && c.queued <= HIGH_WATER) {
      if (c.frame == null) {
        if (in.remaining() < 4) break;
        long length = in.getInt() & 0xffffffffL;
        if (length == 0 || length > MAX_FRAME) {
          protocolError(c);  // no buffer reserved for a bad length
          break;
        }
        c.frame = ByteBuffer.allocate((int) length);
      }
      int take = Math.min(in.remaining(), c.frame.remaining());
      c.frame.put(c.frame.position(), in, in.position(), take);
      c.frame.position(c.frame.position() + take);
      in.position(in.position() + take);
      if (c.frame.hasRemaining()) break;
      byte[] payload = c.frame.array();
      c.frame = null;
      handle(c, payload);
    }
    if (c.eof && !c.readDone && !c.closed
        && (c.discarding || c.queued <= HIGH_WATER)) {
      // End of stream and no complete frame left: every pending reply,
      // then close. A partial frame gets no reply.
      c.readDone = true;
      c.closeAfterFlush = true;
      c.frame = null;
    }
    if (c.discarding || c.readDone) {
      in.clear();
    } else {
      in.compact();
    }
  }

  static void handle(Conn c, byte[] frame) throws IOException {
    switch (frame[0]) {
      case 'E':
        reply(c, frame);
        break;
      case 'B': {
        if (frame.length != 5) {
          protocolError(c);
          break;
        }
        long n = ByteBuffer.wrap(frame, 1, 4).getInt() & 0xffffffffL;
        if (n > MAX_FRAME - 1) {
          protocolError(c);
          break;
        }
        byte[] bulk = new byte[(int) n + 1];
        bulk[0] = 'B';
        for (int i = 0; i < n; i += PATTERN.length) {
          System.arraycopy(PATTERN, 0, bulk, 1 + i,
                           (int) Math.min(PATTERN.length, n - i));
        }
        reply(c, bulk);
        break;
      }
      case 'N':
        if (frame.length != 1) {
          protocolError(c);
          break;
        }
        reply(c, ("N" + conns.size()).getBytes(StandardCharsets.US_ASCII));
        break;
      case 'S':
        c.shutAfterFlush = true;
        c.discarding = true;  // read on until end of stream, dropping it all
        break;
      case 'C':
        c.readDone = true;
        c.closeAfterFlush = true;
        break;
      case 'A':
        if (c.tcp) {
          // Linger {on, 0}: the close sends a reset. UNIX channels do not
          // support SO_LINGER; their close is the abort there.
          c.channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        }
        close(c);
        break;
      default:
        protocolError(c);
    }
  }

  static void protocolError(Conn c) {
    c.readDone = true;
    c.closeAfterFlush = true;
  }

  static void reply(Conn c, byte[] payload) {
    ByteBuffer header = ByteBuffer.allocate(4).putInt(payload.length).flip();
    c.out.add(header);
    c.out.add(ByteBuffer.wrap(payload));
    c.queued += 4 + payload.length;
  }

  // Writes what the socket takes now; the rest waits for OP_WRITE. True
  // when nothing is left queued.
  static boolean write(Conn c) throws IOException {
    while (!c.out.isEmpty()) {
      ByteBuffer[] batch = new ByteBuffer[Math.min(c.out.size(), 64)];
      int count = 0;
      int budget = WRITE_SLICE;
      for (ByteBuffer b : c.out) {
        if (count == batch.length || budget == 0) break;
        ByteBuffer view = b.duplicate();
        if (view.remaining() > budget) view.limit(view.position() + budget);
        budget -= view.remaining();
        batch[count++] = view;
      }
      long written = c.channel.write(batch, 0, count);
      c.queued -= written;
      while (written > 0) {
        ByteBuffer head = c.out.peek();
        int step = (int) Math.min(written, head.remaining());
        head.position(head.position() + step);
        written -= step;
        if (!head.hasRemaining()) c.out.poll();
      }
      if (batch[count - 1].hasRemaining()) return false;  // socket full
    }
    return true;
  }

  static void finishIfFlushed(Conn c) throws IOException {
    if (!c.out.isEmpty() || c.closed) return;
    if (c.shutAfterFlush && !c.shutDone) {
      c.shutDone = true;
      c.channel.shutdownOutput();
    }
    if (c.closeAfterFlush) close(c);
  }

  static void updateInterest(Conn c) {
    if (c.closed || !c.key.isValid()) return;
    int ops = 0;
    if (!c.out.isEmpty()) ops |= SelectionKey.OP_WRITE;
    if (!c.readDone && !c.eof && (c.discarding || c.queued <= HIGH_WATER)) {
      ops |= SelectionKey.OP_READ;
    }
    c.key.interestOps(ops);
  }

  static void close(Conn c) {
    if (c.closed) return;
    c.closed = true;
    conns.remove(c);
    c.out.clear();
    c.queued = 0;
    try {
      c.channel.close();  // also cancels the key
    } catch (IOException ignored) {
    }
  }
}
