// Binding a UNIX socket path for the Java NIO server (see Server.java), with
// the socket file's lifecycle around it.
//
// - A socket path of 107 bytes (the most Linux takes): bind throws
//   "Unix domain path too long". The JDK caps paths at sizeof(sun_path) - 2
//   = 106 bytes, keeping a byte "for abstract name" although it binds no
//   abstract names (MAX_UNIX_DOMAIN_PATH_LEN in
//   src/java.base/unix/native/libnio/ch/nio_util.h). Nothing in the API
//   gets around it; the server exits 1 with that exception.
// - Java never removes a UNIX socket file itself (ServerSocketChannel docs:
//   deleting it is the application's job), and bind fails with "Address
//   already in use" on an existing file, so the stale/live check and the
//   removal (only if the file's BasicFileAttributes.fileKey(), i.e. device
//   and inode, is still the one bound) are done here. The removal is a
//   shutdown hook, so it runs on SIGTERM (via the server's System.exit),
//   SIGINT, SIGHUP or any other orderly exit.
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

final class UnixListener {
  private UnixListener() {}

  // Binds a UNIX path. A stale socket file (nobody accepts on it) is
  // replaced; a live one, or a file that is not a socket, stays and we
  // refuse to start.
  static ServerSocketChannel bind(Path path) throws IOException {
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
  private static Object fileKey(Path path) {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class,
                                  LinkOption.NOFOLLOW_LINKS).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  // Only a refused connection proves the file stale. Non-blocking, so a
  // live server with a full backlog cannot keep us waiting.
  private static boolean someoneListens(SocketAddress where) {
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
}
