#include "io_paths.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "sockparity/net/io.h"

namespace sockparity::bench {

absl::string_view IoPathName(IoPath path) {
  return path == IoPath::kRaw ? "raw" : "harness";
}

bool SendAllVia(IoPath path, const Socket& socket,
                absl::Span<const uint8_t> data) {
  if (path == IoPath::kHarness) return SendAll(socket, data).ok();
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(socket.fd(), data.data() + sent, data.size() - sent,
                       MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool RecvExactlyVia(IoPath path, const Socket& socket,
                    absl::Span<uint8_t> out) {
  if (path == IoPath::kHarness) {
    absl::StatusOr<size_t> got = RecvExactlyInto(socket, out);
    return got.ok();
  }
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::recv(socket.fd(), out.data() + got, out.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

ptrdiff_t RecvSomeVia(IoPath path, const Socket& socket,
                      absl::Span<uint8_t> out) {
  if (path == IoPath::kHarness) {
    absl::StatusOr<size_t> got = RecvSomeInto(socket, out);
    return got.ok() ? static_cast<ptrdiff_t>(*got) : -1;
  }
  while (true) {
    ssize_t n = ::recv(socket.fd(), out.data(), out.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

}  // namespace sockparity::bench
