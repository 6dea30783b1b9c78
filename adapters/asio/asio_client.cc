// The client contract (docs/CLIENT_CONTRACT.md) on Boost.Asio: one
// io_context, async_connect, one async_write of the requests, and for each
// reply an async_read of its 4-byte header, then one of its payload.
// generic::stream_protocol for every address form, as in asio_server.cc.
//
// SIGPIPE is left alone: Asio sends with MSG_NOSIGNAL on Linux.
// Asio 1.74 (Boost 1.74) turns connect's EAGAIN (a UNIX listener's backlog
// is full) into ENOBUFS (socket_ops::connect) and completes the connect
// with it; this client reports what Asio says.
#include <netinet/in.h>
#include <string.h>  // strerrorname_np
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

// Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
#include <utility>
// clang-format off
#include <boost/asio.hpp>
// clang-format on
#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "sockparity/net/endpoint.h"

namespace asio = boost::asio;
using Protocol = asio::generic::stream_protocol;
using boost::system::error_code;

namespace {

void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// The errno name of a system error; EOTHER for Asio's own categories.
std::string ErrnoName(const error_code& error) {
  if (error.category() == boost::system::system_category() ||
      error.category() == boost::system::generic_category()) {
    if (const char* name = strerrorname_np(error.value())) return name;
  }
  return "EOTHER";
}

// All of standard input (a file or a pipe: not something Asio can poll).
bool ReadAll(int fd, std::vector<uint8_t>& out) {
  uint8_t chunk[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n == 0) return true;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    out.insert(out.end(), chunk, chunk + n);
  }
}

class Client {
 public:
  Client(Protocol::socket socket, std::vector<uint8_t> requests)
      : socket_(std::move(socket)), requests_(std::move(requests)) {}

  void Connect(const Protocol::endpoint& where) {
    socket_.async_connect(where, [this](error_code error) {
      if (error == asio::error::connection_refused) return End("refused");
      if (error) return End("error " + ErrnoName(error));
      Say("connected");
      Start();
    });
  }

  void Start() {
    if (!requests_.empty()) {
      writing_ = true;
      asio::async_write(socket_, asio::buffer(requests_),
                        [this](error_code error, size_t) {
                          writing_ = false;
                          // A reset this write took is gone for the read.
                          if (error == asio::error::connection_reset)
                            write_reset_ = true;
                          if (ending_) End();
                        });
    }
    ReadHeader();
  }

 private:
  void ReadHeader() {
    asio::async_read(
        socket_, asio::buffer(header_), [this](error_code error, size_t n) {
          if (error) return Ended(error, n > 0);
          const uint32_t length = uint32_t{header_[0]} << 24 |
                                  uint32_t{header_[1]} << 16 |
                                  uint32_t{header_[2]} << 8 | header_[3];
          payload_.resize(length);
          asio::async_read(socket_, asio::buffer(payload_),
                           [this](error_code error, size_t) {
                             if (error) return Ended(error, true);
                             Reply();
                             ReadHeader();
                           });
        });
  }

  void Reply() {
    uint32_t hash = 2166136261u;
    for (uint8_t byte : payload_) hash = (hash ^ byte) * 16777619u;
    char line[64];
    std::snprintf(line, sizeof(line), "reply %zu %08x", payload_.size(), hash);
    Say(line);
  }

  // The read ended the connection. How, the write may still have to tell:
  // when both operations fail on a reset, the kernel gives ECONNRESET to
  // the one that asks first and end of stream to the other, and Asio may run
  // the read's handler first. So a pending write is cancelled, and the end
  // is reported once its handler has run.
  void Ended(const error_code& error, bool inside_frame) {
    ending_ = true;
    if (error == asio::error::connection_reset) {
      read_end_ = "reset";
    } else if (error == asio::error::eof) {
      read_end_ = inside_frame ? "eof partial" : "eof";
    } else {
      read_end_ = "error " + ErrnoName(error);
    }
    error_code ignored;
    if (writing_) return (void)socket_.cancel(ignored);
    End();
  }

  void End() { End(write_reset_ ? "reset" : read_end_); }
  void End(const std::string& how) {
    Say("end " + how);
    error_code ignored;
    socket_.close(ignored);
  }

  Protocol::socket socket_;
  std::vector<uint8_t> requests_;
  std::array<uint8_t, 4> header_;
  std::vector<uint8_t> payload_;
  std::string read_end_;
  bool writing_ = false, write_reset_ = false, ending_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS < requests\n", argv[0]);
    return 2;
  }
  const std::string address = argv[1];
  const absl::StatusOr<int> fd = sockparity::ParseInheritedFd(address);
  std::optional<sockparity::Endpoint> endpoint;
  if (!fd.ok()) {
    endpoint = sockparity::ParseServerAddress(address);
    if (!endpoint) return 2;
  }
  asio::io_context io;
  asio::signal_set signals(io, SIGTERM);
  signals.async_wait([&](error_code, int) { io.stop(); });
  std::vector<uint8_t> requests;
  if (!ReadAll(STDIN_FILENO, requests)) {
    std::perror("reading standard input");
    return 1;
  }
  // fd:N is connected already; otherwise Asio opens the socket to connect.
  Client client(fd.ok() ? Protocol::socket(io, Protocol(AF_UNIX, 0), *fd)
                        : Protocol::socket(io),
                std::move(requests));
  if (fd.ok()) {
    client.Start();
  } else {
    const int protocol = endpoint->domain() == AF_UNIX ? 0 : IPPROTO_TCP;
    client.Connect(
        Protocol::endpoint(endpoint->addr(), endpoint->length(), protocol));
  }
  io.run();  // after "end", sleeps in epoll_wait until SIGTERM
  return 0;
}
