// sockparity's reference client: the client contract
// (docs/CLIENT_CONTRACT.md) in plain POSIX. A blocking connect (it waits
// for room in a full backlog), then one poll loop that sends the requests
// and reads replies as they come; every read and write may be short.
//
//   reference_client ADDRESS < REQUESTS
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sockparity/check/client_report.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/errors.h"

namespace {

using sockparity::Bytes;

void Say(const std::string& line) {
  const std::string text = line + "\n";
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(1, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

std::string EndFor(int error) {
  if (error == ECONNRESET) return "end reset";
  if (error == ECONNREFUSED) return "end refused";
  return absl::StrCat("end error ", sockparity::ErrnoName(error));
}

// The contract: after the end line, hold nothing and wait for SIGTERM.
[[noreturn]] void EndAndWait(int fd, const std::string& end) {
  if (fd >= 0) ::close(fd);
  Say(end);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, nullptr);
  int signal = 0;
  while (sigwait(&term, &signal) != 0) {
  }
  ::_exit(0);
}

Bytes ReadAll(int fd) {
  Bytes all;
  uint8_t buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    all.insert(all.end(), buffer, buffer + n);
  }
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s ADDRESS < REQUESTS\n", argv[0]);
    return 2;
  }
  const Bytes requests = ReadAll(0);
  const std::string address = argv[1];
  int fd = -1;
  if (absl::StartsWith(address, "fd:")) {
    absl::StatusOr<int> n = sockparity::ParseInheritedFd(address);
    if (!n.ok()) {
      std::fprintf(stderr, "%s\n", std::string(n.status().message()).c_str());
      return 2;
    }
    fd = *n;
  } else {
    std::optional<sockparity::Endpoint> endpoint =
        sockparity::ParseServerAddress(address);
    if (!endpoint) return 2;
    fd = ::socket(endpoint->domain(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) EndAndWait(-1, EndFor(errno));
    // Blocking: a full backlog is waited out in the kernel. EINTR leaves
    // the connect going on: wait for it as for a non-blocking one.
    if (::connect(fd, endpoint->addr(), endpoint->length()) != 0) {
      if (errno != EINTR) EndAndWait(fd, EndFor(errno));
      pollfd p{fd, POLLOUT, 0};
      while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
      }
      int error = 0;
      socklen_t length = sizeof(error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) EndAndWait(fd, EndFor(error));
    }
    Say("connected");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  size_t sent = 0;
  int send_error = 0;
  Bytes in;
  size_t consumed = 0;
  uint8_t buffer[1 << 16];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (sent < requests.size()) p.events |= POLLOUT;
    if (::poll(&p, 1, -1) < 0) {
      if (errno == EINTR) continue;
      EndAndWait(fd, EndFor(errno));
    }
    if ((p.revents & POLLOUT) != 0 && sent < requests.size()) {
      const ssize_t n = ::send(fd, requests.data() + sent,
                               requests.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        // The server's end may still have replies to read. The error is
        // the end: the kernel reports a reset once, to this send, and the
        // reads after the replies see only end of stream.
        if (errno != EPIPE && errno != ECONNRESET)
          EndAndWait(fd, EndFor(errno));
        send_error = errno;
        sent = requests.size();
      }
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      EndAndWait(fd, EndFor(errno));
    }
    if (n == 0) {
      if (send_error != 0) EndAndWait(fd, EndFor(send_error));
      EndAndWait(fd, in.size() == consumed ? "end eof" : "end eof partial");
    }
    in.insert(in.end(), buffer, buffer + n);
    while (in.size() - consumed >= 4) {
      const uint32_t length = sockparity::DecodeLength(in.data() + consumed);
      if (in.size() - consumed - 4 < length) break;
      const uint32_t hash = sockparity::ClientReplyHash(
          absl::MakeConstSpan(in.data() + consumed + 4, length));
      Say(absl::StrFormat("reply %d %08x", length, hash));
      consumed += 4 + length;
    }
    if (consumed > (1u << 20) && consumed * 2 > in.size()) {
      in.erase(in.begin(), in.begin() + static_cast<ptrdiff_t>(consumed));
      consumed = 0;
    }
  }
}
