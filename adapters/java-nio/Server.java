// The peer contract (docs/SUT_CONTRACT.md, v1.1) on Java NIO, OpenJDK 17:
// one thread, one java.nio.channels.Selector, non-blocking channels. This
// file holds the entry point: the address, the listener and the event loop.
// Conn.java holds one connection's framing state machine and write path;
// UnixListener.java binds UNIX paths and removes the socket file on exit.
// UNIX paths use ServerSocketChannel.open(StandardProtocolFamily.UNIX) bound
// to a UnixDomainSocketAddress (JEP 380, JDK 16+); TCP uses
// ServerSocketChannel.open() bound to an InetSocketAddress.
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
// - A socket path of 107 bytes, and removing the socket file: see
//   UnixListener.java.
// - SIGTERM: the JVM's own SIGTERM handling runs the shutdown hooks and then
//   exits 143 (128 + 15), and no hook can change that status (Runtime.exit
//   from a hook blocks forever). So SIGTERM is handled with sun.misc.Signal,
//   which JEP 260 (https://openjdk.org/jeps/260) keeps accessible in the
//   jdk.unsupported module for exactly this purpose: the handler only wakes
//   the selector; the loop closes the channels and calls System.exit(0), and
//   the shutdown hook removes the socket file (it also runs on SIGINT, SIGHUP
//   or any other orderly exit).
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;

public final class Server {
  private static final long ACCEPT_BACKOFF_MS = 100;
  private static final int EXIT_UNSUPPORTED = 64;

  private static Selector selector;
  private static final Set<Conn> conns = new HashSet<>();
  private static volatile boolean stopping;
  private static boolean singleConnection;

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: Server ADDRESS");
      System.exit(2);
    }
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
      listener = UnixListener.bind(Path.of(address.substring(5)));
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
    for (Conn c : new ArrayList<>(conns)) c.close();
    selector.close();
    System.exit(0);  // the shutdown hook removes the socket file
  }

  private static void run(ServerSocketChannel listener) throws IOException {
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
          if (key.isWritable()) c.pump();
          if (!c.closed && key.isReadable()
              && (key.interestOps() & SelectionKey.OP_READ) != 0) {
            c.read();
          }
        } catch (IOException e) {
          c.close();  // reset or gone: drop it, serve the others
        }
      }
      selector.selectedKeys().clear();
    }
  }

  // False when accept failed (EMFILE, ENFILE, ...).
  private static boolean accept(ServerSocketChannel listener) {
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

  private static boolean isTcp(SocketChannel channel) throws IOException {
    return channel.getLocalAddress() instanceof InetSocketAddress;
  }

  private static void register(SocketChannel channel, boolean tcp)
      throws IOException {
    channel.configureBlocking(false);
    Conn c = new Conn(channel, tcp, conns);
    c.key = channel.register(selector, SelectionKey.OP_READ, c);
    conns.add(c);
  }
}
