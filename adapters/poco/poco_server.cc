// The peer contract (docs/SUT_CONTRACT.md, v1.1) on POCO C++ Libraries
// (PocoNet + PocoUtil, Debian 12's libpoco-dev: POCO 1.11).
//
// Idiom: Poco::Util::ServerApplication running a Poco::Net::TCPServer with a
// TCPServerConnectionFactory: POCO's thread-pool, one-thread-per-connection
// server, the one its HTTPServer is built on and its samples (TimeServer,
// EchoServer) show. Chosen over SocketReactor + SocketAcceptor because a
// framed request/reply protocol reads naturally as a blocking loop per
// connection (receiveBytes, decode, sendBytes), and POCO's blocking calls
// already retry EINTR and complete short writes (StreamSocketImpl::sendBytes
// loops until all is sent). Backpressure is the blocking send itself: while a
// reply does not fit in the kernel's buffer the thread waits in sendBytes and
// reads nothing more; replies are gathered per read and sent once they pass
// 1 MiB or the read is decoded.
//
// Address forms:
//   unix:/path  SocketAddress(SocketAddress::UNIX_LOCAL, path) + ServerSocket
//   tcp:...     SocketAddress("127.0.0.1:PORT" / "[::1]:PORT"), bind/bind6
//   fd:N        StreamSocket(new StreamSocketImpl(N)): POCO's public API
//               adopts a native descriptor (StreamSocketImpl(poco_socket_t),
//               StreamSocket(SocketImpl*)), served like any connection.
//   unix:@name  not served: exit 64. POCO 1.11 (and 1.12, master) gives a
//               UNIX_LOCAL address the length sizeof(sockaddr_un) always
//               (LocalSocketAddressImpl::length()), so a name "\0name" would
//               be bound as 108 bytes: the name, a NUL and uninitialised heap
//               bytes (the sockaddr_un is new'd, not zeroed). No client could
//               name it. See pocoproject/poco#2042 (abstract names asked for).
//
// POCO leaves to the user: removing a stale socket file (bind fails with
// EADDRINUSE) and removing the file at exit; both are done here with a
// connect probe and a dev+inode check. POCO blocks SIGPIPE itself (main
// thread and every Poco::Thread), so a vanished peer is an exception.
// SIGTERM: ServerApplication::waitForTerminationRequest(), then
// TCPServer::stop() and a shutdown() of every open connection.
// Out of descriptors: POCO's default is kept. TCPServer::run polls the
// listener with SocketImpl::poll, which creates an epoll descriptor per call;
// with none left that fails first, and TCPServer::run sleeps 50 ms after a
// failed poll. So the acceptor naps instead of spinning (case 12.1 passes),
// and when poll does get a descriptor it frees it before accept() runs.
// An accept() failure alone (e.g. ECONNABORTED) is handed to
// Poco::ErrorHandler and the loop polls again.
#include <Poco/Exception.h>
#include <Poco/File.h>
#include <Poco/Mutex.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/NumberParser.h>
#include <Poco/Thread.h>
#include <Poco/ThreadPool.h>
#include <Poco/Timespan.h>
#include <Poco/Util/ServerApplication.h>

#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

using Poco::Net::StreamSocket;

namespace {

constexpr size_t kHighWater = 1 << 20;  // send gathered replies beyond this
constexpr uint32_t kMaxFrame = 16u << 20;
constexpr int kMaxConnections = 512;    // threads = connections served at once
constexpr int kBacklog = 128;

// Every connection being served, so that SIGTERM can close them and N can
// count them.
Poco::FastMutex registry_mutex;
std::set<StreamSocket*> registry;

size_t OpenConnections() {
  Poco::FastMutex::ScopedLock lock(registry_mutex);
  return registry.size();
}

// Shuts down every open connection: a thread blocked in receiveBytes or
// sendBytes returns (end of stream or an exception) and ends.
void ShutDownAll() {
  Poco::FastMutex::ScopedLock lock(registry_mutex);
  for (StreamSocket* socket : registry) {
    try {
      socket->shutdown();
    } catch (const Poco::Exception&) {
    }
  }
}

class Registration {
 public:
  explicit Registration(StreamSocket& socket) : socket_(socket) {
    Poco::FastMutex::ScopedLock lock(registry_mutex);
    registry.insert(&socket_);
  }
  // Closed under the lock, so ShutDownAll never touches a closed descriptor.
  ~Registration() {
    Poco::FastMutex::ScopedLock lock(registry_mutex);
    registry.erase(&socket_);
    socket_.close();
  }

 private:
  StreamSocket& socket_;
};

enum class Next { kMore, kShut, kClose, kAbort };

void AppendFrame(std::string& out, const char* payload, size_t size) {
  const uint32_t n = uint32_t(size);
  const char header[4] = {char(n >> 24), char(n >> 16), char(n >> 8), char(n)};
  out.append(header, 4);
  out.append(payload, size);
}

Next Handle(const std::string& frame, std::string& out) {
  switch (frame[0]) {
    case 'E':
      AppendFrame(out, frame.data(), frame.size());
      return Next::kMore;
    case 'B': {
      if (frame.size() != 5) return Next::kClose;
      const uint32_t n = uint32_t(uint8_t(frame[1])) << 24 |
                         uint32_t(uint8_t(frame[2])) << 16 |
                         uint32_t(uint8_t(frame[3])) << 8 | uint32_t(uint8_t(frame[4]));
      if (n > kMaxFrame - 1) return Next::kClose;
      std::string reply(size_t(n) + 1, '\0');
      reply[0] = 'B';
      for (uint32_t i = 0; i < n; ++i) reply[i + 1] = char(i % 251);
      AppendFrame(out, reply.data(), reply.size());
      return Next::kMore;
    }
    case 'N': {
      if (frame.size() != 1) return Next::kClose;
      const std::string count = "N" + std::to_string(OpenConnections());
      AppendFrame(out, count.data(), count.size());
      return Next::kMore;
    }
    case 'S':
      return Next::kShut;
    case 'C':
      return Next::kClose;
    case 'A':
      return Next::kAbort;
    default:  // unknown opcode: a protocol error
      return Next::kClose;
  }
}

void Send(StreamSocket& socket, std::string& out) {
  if (out.empty()) return;
  socket.sendBytes(out.data(), int(out.size()));  // blocks until all is sent
  out.clear();
}

// One connection, start to end, in the calling thread.
void Serve(StreamSocket& socket) {
  Registration registration(socket);
  std::vector<char> in(64 * 1024);
  std::string out;
  unsigned char header[4];
  size_t header_have = 0;
  std::string body;
  size_t body_have = 0;
  try {
    for (;;) {
      const int n = socket.receiveBytes(in.data(), int(in.size()));
      // End of stream: every reply due was sent; a partial frame gets none.
      if (n <= 0) return;
      Next next = Next::kMore;
      for (int i = 0; i < n && next == Next::kMore;) {
        if (header_have < 4) {
          header[header_have++] = uint8_t(in[i++]);
          if (header_have < 4) continue;
          const uint32_t length = uint32_t(header[0]) << 24 | uint32_t(header[1]) << 16 |
                                  uint32_t(header[2]) << 8 | uint32_t(header[3]);
          if (length == 0 || length > kMaxFrame) {
            next = Next::kClose;  // protocol error: nothing reserved for it
            break;
          }
          body.assign(length, '\0');
          body_have = 0;
          continue;
        }
        const size_t take = std::min(size_t(n - i), body.size() - body_have);
        std::memcpy(&body[body_have], &in[i], take);
        i += int(take);
        body_have += take;
        if (body_have < body.size()) continue;
        header_have = 0;
        next = Handle(body, out);
        if (next == Next::kMore && out.size() >= kHighWater) Send(socket, out);
      }
      if (next == Next::kAbort) {
        socket.setLinger(true, 0);  // the close in ~Registration resets
        return;
      }
      Send(socket, out);
      if (next == Next::kClose) return;
      if (next == Next::kShut) {
        socket.shutdownSend();
        while (socket.receiveBytes(in.data(), int(in.size())) > 0) {
        }
        return;
      }
    }
  } catch (const Poco::Exception&) {
    // Reset, broken pipe, or shut down on SIGTERM: drop this connection.
  }
}

class FrameConnection : public Poco::Net::TCPServerConnection {
 public:
  using TCPServerConnection::TCPServerConnection;
  void run() override { Serve(socket()); }
};

// Whether a server accepts connections at `where`. Only a refused
// connection (or no file) proves a socket file stale. POCO's connect with a
// timeout is non-blocking, so a live server with a full backlog cannot
// keep us waiting.
bool SomeoneListens(const Poco::Net::SocketAddress& where) {
  try {
    StreamSocket probe;
    probe.connect(where, Poco::Timespan(1, 0));
    return true;
  } catch (const Poco::Exception& e) {
    return e.code() != ECONNREFUSED && e.code() != ENOENT;
  }
}

class Server : public Poco::Util::ServerApplication {
 protected:
  int main(const ArgVec& args) override {
    if (args.size() != 1) {
      std::cerr << "usage: sockparity_poco_server ADDRESS\n";
      return 2;
    }
    const std::string& address = args[0];
    try {
      if (address.rfind("fd:", 0) == 0) return ServeInherited(address.substr(3));
      if (address.rfind("unix:@", 0) == 0) {
        // POCO cannot bind an abstract name of exactly the given bytes (see
        // the note at the top): an optional form, not served.
        std::cerr << "abstract names are not supported by POCO's SocketAddress\n";
        return 64;
      }
      Poco::Net::ServerSocket listener;
      std::string path;
      if (address.rfind("unix:", 0) == 0) {
        path = address.substr(5);
        if (!BindPath(listener, path)) return 1;
      } else if (address.rfind("tcp:", 0) == 0) {
        const Poco::Net::SocketAddress where(address.substr(4));
        // reusePort false: SO_REUSEPORT (which the ServerSocket(address)
        // constructor sets) would let a second server share the port.
        if (where.family() == Poco::Net::SocketAddress::IPv6) {
          listener.bind6(where, true, false, true);
        } else {
          listener.bind(where, true, false);
        }
      } else {
        std::cerr << "unknown address form: " << address << "\n";
        return 2;
      }
      listener.listen(kBacklog);
      std::optional<struct stat> bound;  // the socket file, to remove if ours
      struct stat st;
      if (!path.empty() && ::stat(path.c_str(), &st) == 0) bound = st;

      Poco::ThreadPool pool(2, kMaxConnections);
      auto* params = new Poco::Net::TCPServerParams;
      params->setMaxThreads(kMaxConnections);
      params->setMaxQueued(kMaxConnections);
      // An idle dispatcher thread notices TCPServer::stop() only when its
      // wait times out (the default is 10 s); shutdown must take < 2 s.
      params->setThreadIdleTime(Poco::Timespan(0, 250000));
      Poco::Net::TCPServer server(
          new Poco::Net::TCPServerConnectionFactoryImpl<FrameConnection>(), pool,
          listener, params);
      server.start();
      Ready();
      waitForTerminationRequest();
      server.stop();
      ShutDownAll();
      for (int i = 0; i < 150 && OpenConnections() > 0; ++i) Poco::Thread::sleep(10);
      // Only if the file at the path is still ours: another server may have
      // bound the path since (an overlapping restart).
      if (bound && ::stat(path.c_str(), &st) == 0 && st.st_dev == bound->st_dev &&
          st.st_ino == bound->st_ino) {
        Poco::File(path).remove();
      }
      return EXIT_OK;
    } catch (const Poco::Exception& e) {
      std::cerr << "cannot serve " << address << ": " << e.displayText() << "\n";
      return 1;
    }
  }

 private:
  static void Ready() { std::cout << "ready" << std::endl; }

  // fd:N: one inherited connection, served in a Poco::Thread; its end asks
  // the application to terminate, as SIGTERM does.
  int ServeInherited(const std::string& number) {
    int fd;
    if (!Poco::NumberParser::tryParse(number, fd) || fd < 0) {
      std::cerr << "bad descriptor: " << number << "\n";
      return 2;
    }
    StreamSocket socket(new Poco::Net::StreamSocketImpl(fd));
    socket.setBlocking(true);
    Poco::Thread thread;
    thread.startFunc([&socket] {
      Serve(socket);
      Poco::Util::ServerApplication::terminate();
    });
    Ready();
    waitForTerminationRequest();
    ShutDownAll();
    thread.join();
    return EXIT_OK;
  }

  // Binds `path`. A stale socket file (its server died) is replaced; a live
  // one, or a file that is not a socket, is left alone.
  static bool BindPath(Poco::Net::ServerSocket& listener, const std::string& path) {
    const Poco::Net::SocketAddress where(Poco::Net::SocketAddress::UNIX_LOCAL, path);
    for (int attempt = 0;; ++attempt) {
      try {
        listener.bind(where, false, false);
        return true;
      } catch (const Poco::Net::NetException& e) {
        if (e.code() != EADDRINUSE || attempt == 3) throw;
      }
      struct stat st;
      if (::lstat(path.c_str(), &st) != 0) continue;  // gone: bind again
      if (!S_ISSOCK(st.st_mode)) {
        std::cerr << path << " exists and is not a socket; leaving it alone\n";
        return false;
      }
      if (SomeoneListens(where)) {
        std::cerr << "a server already listens on " << path << "; leaving it alone\n";
        return false;
      }
      Poco::File(path).remove();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  // WORKAROUND: waitForTerminationRequest() blocks SIGINT/SIGQUIT/SIGTERM
  // only when it is called. A SIGTERM that comes earlier (just after
  // `ready`), or the SIGINT that ServerApplication::terminate() sends when
  // the fd:N connection ends first, would kill the process by the default
  // action. Blocking the same set here, before any thread starts, keeps such
  // a request pending until sigwait() takes it.
  sigset_t termination;
  sigemptyset(&termination);
  sigaddset(&termination, SIGINT);
  sigaddset(&termination, SIGQUIT);
  sigaddset(&termination, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &termination, nullptr);
  Server server;
  return server.run(argc, argv);
}
