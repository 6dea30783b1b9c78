// The client contract (docs/CLIENT_CONTRACT.md) on POCO C++ Libraries
// (PocoNet, Debian 12's libpoco-dev: POCO 1.11).
//
// Idiom: blocking Poco::Net::StreamSocket calls, as POCO's samples and its
// own clients (HTTPClientSession) use them: StreamSocket::connect (a
// blocking connect(2), retried on EINTR), then receiveBytes in a loop in
// the session thread while a second Poco::Thread sends every request with
// one sendBytes (POCO completes short writes and retries EINTR). Sending
// from its own thread keeps a large request from blocking while the server
// waits for its replies to be read. The reading side decides the end; a
// failed send is the end when the reads then see only the end of stream (or
// the reset that caused it).
//
// Address forms:
//   unix:/path  SocketAddress(SocketAddress::UNIX_LOCAL, path)
//   tcp:...     SocketAddress("127.0.0.1:PORT" / "[::1]:PORT")
//   fd:N        StreamSocket(new StreamSocketImpl(N)), already connected
//   unix:@name  exit 64. POCO 1.11 (and devel) gives a UNIX_LOCAL address
//               the length sizeof(sockaddr_un) always
//               (LocalSocketAddressImpl::length()), so "\0name" would name
//               the 108-byte sun_path: name, NUL, uninitialised heap bytes.
//
// Errors are Poco::Exception subclasses whose code() is the errno
// (SocketImpl::error): ConnectionRefusedException is `end refused`,
// ConnectionResetException `end reset`, anything else its errno's name.
// SIGPIPE is POCO's business: libPocoFoundation blocks it in the main thread
// at load time and in every Poco::Thread (Thread_POSIX.cpp).
// SIGTERM is blocked before any thread starts and taken with sigwait() by
// the main thread, which then exits at once, whatever the session is doing.
#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/NumberParser.h>
#include <Poco/Thread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

using Poco::Net::SocketAddress;
using Poco::Net::StreamSocket;

namespace {

void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// The `end` line for a failure of a POCO call.
std::string EndFor(const Poco::Exception& e) {
  std::fprintf(stderr, "%s\n", e.displayText().c_str());
  if (dynamic_cast<const Poco::Net::ConnectionRefusedException*>(&e))
    return "end refused";
  if (dynamic_cast<const Poco::Net::ConnectionResetException*>(&e))
    return "end reset";
  const char* name = e.code() > 0 ? strerrorname_np(e.code()) : nullptr;
  return std::string("end error ") + (name ? name : "EOTHER");
}

// Reads replies until the connection ends; returns the `end` line.
std::string ReadReplies(StreamSocket& socket) {
  std::vector<unsigned char> chunk(64 * 1024);
  unsigned char head[4];
  int head_got = 0;
  uint32_t length = 0, left = 0, hash = 0;
  try {
    for (;;) {
      const int n = socket.receiveBytes(chunk.data(), int(chunk.size()));
      if (n <= 0) return head_got > 0 ? "end eof partial" : "end eof";
      for (int i = 0; i < n;) {
        if (head_got < 4) {
          head[head_got++] = chunk[i++];
          if (head_got < 4) continue;
          length = left = uint32_t(head[0]) << 24 | uint32_t(head[1]) << 16 |
                          uint32_t(head[2]) << 8 | uint32_t(head[3]);
          hash = 2166136261u;
        }
        for (; left > 0 && i < n; left--)
          hash = (hash ^ chunk[i++]) * 16777619u;
        if (left == 0) {
          char line[40];
          std::snprintf(line, sizeof line, "reply %u %08x", length, hash);
          Say(line);
          head_got = 0;
        }
      }
    }
  } catch (const Poco::Exception& e) {
    return EndFor(e);
  }
}

// One connection: connect, send and read at once, the end, the close.
void Session(const std::string& address, const std::string& requests) {
  StreamSocket socket;
  if (address.rfind("fd:", 0) == 0) {
    int fd = -1;
    Poco::NumberParser::tryParse(address.substr(3), fd);
    socket = StreamSocket(new Poco::Net::StreamSocketImpl(fd));
    socket.setBlocking(true);
  } else {
    try {
      const SocketAddress where =
          address.rfind("unix:", 0) == 0
              ? SocketAddress(SocketAddress::UNIX_LOCAL, address.substr(5))
              : SocketAddress(address.substr(4));
      socket.connect(where);
    } catch (const Poco::Exception& e) {
      Say(EndFor(e));
      return;
    }
    Say("connected");
  }
  Poco::Thread writer;
  std::string write_end;  // the writer's failure, read after join()
  writer.startFunc([&socket, &requests, &write_end] {
    try {
      if (!requests.empty())
        socket.sendBytes(requests.data(), int(requests.size()));
    } catch (const Poco::Exception& e) {
      write_end = EndFor(e);
    }
  });
  std::string end = ReadReplies(socket);
  // After the end: wake a send still blocked, then close.
  try {
    socket.shutdown();
  } catch (const Poco::Exception&) {
  }
  writer.join();
  // The kernel reports a reset to one call: when the send took it, the
  // reads after the replies see only the end of stream.
  if (end == "end eof" && !write_end.empty()) end = write_end;
  Say(end);
  socket.close();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS < REQUESTS\n", argv[0]);
    return 2;
  }
  const std::string address = argv[1];
  if (address.rfind("unix:@", 0) == 0) {
    std::fprintf(stderr, "POCO cannot address an abstract name exactly\n");
    return 64;
  }
  int fd;
  if (!(address.rfind("unix:/", 0) == 0 || address.rfind("tcp:", 0) == 0 ||
        (address.rfind("fd:", 0) == 0 &&
         Poco::NumberParser::tryParse(address.substr(3), fd) && fd >= 0))) {
    std::fprintf(stderr, "%s: expected unix:/PATH, tcp:HOST:PORT or fd:N\n",
                 argv[1]);
    return 2;
  }
  // The requests: all of standard input (std::cin retries EINTR).
  std::ios::sync_with_stdio(false);
  const std::string requests{std::istreambuf_iterator<char>(std::cin),
                             std::istreambuf_iterator<char>()};

  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, nullptr);  // before any thread starts
  Poco::Thread session;
  session.startFunc([&address, &requests] { Session(address, requests); });
  int signal;
  sigwait(&term, &signal);
  // The session may still wait in connect or receive: do not wait for it.
  std::fflush(stdout);
  std::_Exit(0);
}
