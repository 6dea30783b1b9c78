// The client contract (docs/CLIENT_CONTRACT.md) on Java NIO, OpenJDK 17, in
// the style of Server.java: one thread, one java.nio.channels.Selector, a
// non-blocking SocketChannel. connect() and then finishConnect() on
// OP_CONNECT; replies are read on OP_READ into a ByteBuffer and parsed as
// they come, each payload hashed (FNV-1a 32) byte by byte, so a 16 MiB reply
// is never held whole; the requests (all of standard input) go out from one
// ByteBuffer on OP_WRITE, short writes resumed. When both are ready the read
// comes first. UNIX paths use SocketChannel.open(StandardProtocolFamily.UNIX)
// and a UnixDomainSocketAddress (JEP 380, JDK 16+); TCP uses
// SocketChannel.open() and an InetSocketAddress.
//
// What it cannot do, and why (as Server.java):
// - unix:@name (abstract): exits 64; JEP 380 lists the abstract namespace as
//   a non-goal and a Path cannot hold the leading NUL.
// - fd:N: exits 64. The only way Java adopts an inherited socket is
//   System.inheritedChannel(), on descriptor 0, and standard input holds
//   the requests here.
// - A socket path of 107 bytes: "Unix domain path too long" (see
//   UnixListener.java), reported as `end error EOTHER`.
// - A UNIX listener whose backlog is full: the non-blocking connect() fails
//   with EAGAIN, which UnixDomainSockets.connect0
//   (src/java.base/unix/native/libnio/ch/UnixDomainSockets.c) throws like
//   any error but EINPROGRESS and EINTR: `end error EAGAIN`, no wait. (A
//   blocking-mode SocketChannel waits in the kernel; a Selector client
//   cannot.) A finding, not worked around.
//
// Errors: NIO gives an IOException whose message is the C library's
// strerror text (sun.nio.ch's handleSocketError), or the JDK's own
// "Connection reset" (sun.net.ConnectionResetException); no errno. The
// table below turns the texts a client can meet into errno names, EOTHER
// for any other. SIGPIPE: the JVM itself ignores it, so a write to a reset
// connection is an IOException ("Broken pipe"). SIGTERM: sun.misc.Signal,
// as in Server.java (a plain JVM exits 143).
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

public final class Client {
  private static final int EXIT_UNSUPPORTED = 64;
  private static final Map<String, String> ERRNO_NAMES = Map.ofEntries(
      Map.entry("No such file or directory", "ENOENT"),
      Map.entry("Resource temporarily unavailable", "EAGAIN"),
      Map.entry("Broken pipe", "EPIPE"),
      Map.entry("Permission denied", "EACCES"),
      Map.entry("Connection timed out", "ETIMEDOUT"),
      Map.entry("Transport endpoint is not connected", "ENOTCONN"),
      Map.entry("Invalid argument", "EINVAL"),
      Map.entry("Not a directory", "ENOTDIR"),
      Map.entry("Protocol wrong type for socket", "EPROTOTYPE"),
      Map.entry("Network is unreachable", "ENETUNREACH"),
      Map.entry("No route to host", "EHOSTUNREACH"),
      Map.entry("Too many open files", "EMFILE"));

  private static final CountDownLatch term = new CountDownLatch(1);

  // Reply parsing state: header bytes so far, payload bytes still due (-1
  // while reading the header), the payload's length and hash.
  private static int headerHave;
  private static final byte[] header = new byte[4];
  private static long left = -1;
  private static long length;
  private static int hash;

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: Client ADDRESS");
      System.exit(2);
    }
    String address = args[0];
    if (address.startsWith("fd:")) {
      System.err.println(address + ": Java adopts an inherited socket only "
          + "on standard input (System.inheritedChannel)");
      System.exit(EXIT_UNSUPPORTED);
    }
    if (address.startsWith("unix:@")) {
      System.err.println(address + ": JDK 17 has no abstract UNIX socket names "
          + "(JEP 380 non-goal)");
      System.exit(EXIT_UNSUPPORTED);
    }
    ByteBuffer out = ByteBuffer.wrap(System.in.readAllBytes());
    Selector selector = Selector.open();
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> {
      term.countDown();
      if (selector.isOpen()) selector.wakeup();
    });

    SocketChannel channel;
    SocketAddress where;
    if (address.startsWith("unix:/")) {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      where = UnixDomainSocketAddress.of(Path.of(address.substring(5)));
    } else if (address.startsWith("tcp:")) {
      String hostPort = address.substring(4);
      int colon = hostPort.lastIndexOf(':');
      String host = hostPort.substring(0, colon);
      if (host.startsWith("[")) host = host.substring(1, host.length() - 1);
      int port = Integer.parseInt(hostPort.substring(colon + 1));
      channel = SocketChannel.open();
      where = new InetSocketAddress(InetAddress.getByName(host), port);
    } else {
      System.err.println("unknown address: " + address);
      System.exit(2);
      return;
    }

    String end = null;
    String writeEnd = null;
    try {
      channel.configureBlocking(false);
      SelectionKey key = channel.register(selector, 0);
      if (channel.connect(where)) {
        connected(key, out);
      } else {
        key.interestOps(SelectionKey.OP_CONNECT);
      }
      ByteBuffer in = ByteBuffer.allocate(64 * 1024);
      while (end == null && term.getCount() > 0) {
        selector.select();
        if (!selector.selectedKeys().remove(key)) continue;
        if (key.isConnectable() && channel.finishConnect()) connected(key, out);
        // Replies first: what the server sent (or its reset) comes before
        // more requests.
        if (key.isValid() && key.isReadable()) {
          int n = channel.read(in);
          in.flip();
          parse(in);
          in.clear();
          if (n < 0) {
            // The kernel reports a reset to one call: when a write took
            // it, the reads after the replies see only the end of stream.
            end = writeEnd != null ? writeEnd
                : left < 0 && headerHave == 0 ? "end eof" : "end eof partial";
            break;
          }
        }
        if (key.isValid() && key.isWritable()) {
          try {
            channel.write(out);
          } catch (IOException e) {
            // What the server sent before its end is still to be read.
            System.err.println(e);
            writeEnd = endLine(e);
            out.position(out.limit());
          }
          if (!out.hasRemaining()) key.interestOps(SelectionKey.OP_READ);
        }
      }
    } catch (IOException e) {
      System.err.println(e);
      end = endLine(e);
    }
    if (end != null) say(end);
    channel.close();
    selector.close();
    term.await();  // idle, in the kernel, until SIGTERM
    System.exit(0);
  }

  private static void connected(SelectionKey key, ByteBuffer out) {
    say("connected");
    key.interestOps(SelectionKey.OP_READ
        | (out.hasRemaining() ? SelectionKey.OP_WRITE : 0));
  }

  private static void parse(ByteBuffer in) {
    while (in.hasRemaining()) {
      if (left < 0) {
        header[headerHave++] = in.get();
        if (headerHave < 4) continue;
        length = ByteBuffer.wrap(header).getInt() & 0xffffffffL;
        left = length;
        hash = 0x811c9dc5;
      } else {
        int n = (int) Math.min(left, in.remaining());
        for (int i = 0; i < n; i++) {
          hash = (hash ^ (in.get() & 0xff)) * 16777619;
        }
        left -= n;
      }
      if (left == 0) {
        say(String.format("reply %d %08x", length, hash));
        headerHave = 0;
        left = -1;
      }
    }
  }

  private static String endLine(IOException e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    if (message.startsWith("Connection reset")) return "end reset";
    if (message.equals("Connection refused")) return "end refused";
    return "end error " + ERRNO_NAMES.getOrDefault(message, "EOTHER");
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
