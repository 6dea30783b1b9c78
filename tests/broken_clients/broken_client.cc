// A client on the client contract with one bug at a time, the bugs socket
// libraries' clients have had, for the tests that check-client catches
// each in its case (and nowhere it should not):
//
//   broken_client --bug BUG ADDRESS < REQUESTS
//
//   none              correct (non-blocking connect, retried on EAGAIN)
//   eagain-fatal      EAGAIN from connect is reported as the end
//   spin              waits by polling with no timeout: a busy loop
//   one-read-a-reply  what one read gives after a header is a reply
//   partial-as-reply  at end of stream, a partial frame is a reply
//   eof-as-error      end of stream is reported as an error
//   reset-as-eof      a reset is reported as end of stream
//   hup-ends          a read that returns less than asked while poll says
//                     POLLHUP ends the stream (libuv's uv__stream_io): a
//                     reset that comes with the last data becomes an end
//                     of stream
//   sigpipe           sends without MSG_NOSIGNAL
//   leak              keeps the socket open after its end line
//   computes          correct, but computes for 7 s before its end line
//                     (what hashing a large reply in an interpreter takes)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
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

std::string bug = "none";

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
  if (error == ECONNRESET)
    return bug == "reset-as-eof" ? "end eof" : "end reset";
  if (error == ECONNREFUSED) return "end refused";
  return absl::StrCat("end error ", sockparity::ErrnoName(error));
}

Bytes in;  // what arrived of replies not yet reported

[[noreturn]] void EndAndWait(int fd, const std::string& end) {
  if (bug == "partial-as-reply" && in.size() > 4) {
    Say(absl::StrFormat(
        "reply %d %08x", in.size() - 4,
        sockparity::ClientReplyHash(absl::MakeConstSpan(in).subspan(4))));
    in.clear();
  }
  if (fd >= 0 && bug != "leak") ::close(fd);
  if (bug == "computes") {
    timespec start{}, now{};
    ::clock_gettime(CLOCK_MONOTONIC, &start);
    do {
      ::clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < 7);
  }
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

// The wait of the loop: forever, or not at all for the spinning client.
int PollWait(pollfd* p) { return ::poll(p, 1, bug == "spin" ? 0 : -1); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || std::strcmp(argv[1], "--bug") != 0) {
    std::fprintf(stderr, "usage: %s --bug BUG ADDRESS < REQUESTS\n", argv[0]);
    return 2;
  }
  bug = argv[2];
  Bytes requests;
  uint8_t buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(0, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    requests.insert(requests.end(), buffer, buffer + n);
  }
  const std::string address = argv[3];
  int fd = -1;
  if (absl::StartsWith(address, "fd:")) {
    absl::StatusOr<int> n = sockparity::ParseInheritedFd(address);
    if (!n.ok()) return 2;
    fd = *n;
  } else {
    std::optional<sockparity::Endpoint> endpoint =
        sockparity::ParseServerAddress(address);
    if (!endpoint) return 2;
    while (true) {
      fd = ::socket(endpoint->domain(),
                    SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (::connect(fd, endpoint->addr(), endpoint->length()) == 0) break;
      if (errno == EAGAIN && bug != "eagain-fatal") {
        ::close(fd);
        // A full UNIX backlog: try again soon (the correct client rests).
        if (bug != "spin") ::usleep(20 * 1000);
        continue;
      }
      if (errno != EINPROGRESS) EndAndWait(fd, EndFor(errno));
      pollfd p{fd, POLLOUT, 0};
      while (PollWait(&p) <= 0) {
      }
      int error = 0;
      socklen_t length = sizeof(error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) EndAndWait(fd, EndFor(error));
      break;
    }
    Say("connected");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  size_t sent = 0;
  int send_error = 0;
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (sent < requests.size()) p.events |= POLLOUT;
    if (PollWait(&p) < 0 && errno != EINTR) EndAndWait(fd, EndFor(errno));
    if ((p.revents & POLLOUT) != 0 && sent < requests.size()) {
      const ssize_t n =
          ::send(fd, requests.data() + sent, requests.size() - sent,
                 bug == "sigpipe" ? 0 : MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        if (errno != EPIPE && errno != ECONNRESET)
          EndAndWait(fd, EndFor(errno));
        send_error = errno;  // the kernel reports a reset once
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
      if (bug == "eof-as-error") EndAndWait(fd, "end error EIO");
      EndAndWait(fd, in.empty() || bug == "partial-as-reply"
                         ? "end eof"
                         : "end eof partial");
    }
    in.insert(in.end(), buffer, buffer + n);
    while (in.size() >= 4) {
      uint32_t length = sockparity::DecodeLength(in.data());
      if (bug == "one-read-a-reply") {
        length = static_cast<uint32_t>(std::min<size_t>(length, in.size() - 4));
      }
      if (in.size() - 4 < length) break;
      if (bug == "one-read-a-reply" && length == 0) break;
      Say(absl::StrFormat("reply %d %08x", length,
                          sockparity::ClientReplyHash(
                              absl::MakeConstSpan(in.data() + 4, length))));
      in.erase(in.begin(), in.begin() + 4 + length);
    }
    if (bug == "hup-ends" && static_cast<size_t>(n) < sizeof(buffer) &&
        (p.revents & POLLHUP) != 0) {
      EndAndWait(fd, in.empty() ? "end eof" : "end eof partial");
    }
  }
}
