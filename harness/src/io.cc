#include "sockparity/io.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "poll_wait.h"
#include "sockparity/errors.h"

namespace sockparity {
namespace {

// Non-blocking calls first, poll only when the kernel says "not now": on the
// fast path an I/O call costs one system call, as a raw one does.
class Waiter {
 public:
  Waiter(const IoTarget& target, absl::Duration timeout)
      : target_(target), timeout_(timeout) {}

  // Waits for `events`; OK means try the call again.
  absl::Status Wait(short events, absl::string_view call,
                    absl::string_view progress) {
    if (!deadline_) deadline_ = absl::Now() + timeout_;
    absl::StatusOr<short> revents = internal::PollUntil(
        target_.fd(), events, *deadline_, target_.Describe());
    if (!revents.ok()) return revents.status();
    if (*revents == 0) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "%s on %s: timed out after %s with %s", call, target_.Describe(),
          absl::FormatDuration(timeout_), progress));
    }
    if (*revents & POLLNVAL) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s on %s: POLLNVAL (descriptor not open)", call,
                          target_.Describe()));
    }
    return absl::OkStatus();
  }

 private:
  const IoTarget& target_;
  absl::Duration timeout_;
  std::optional<absl::Time> deadline_;
};

bool WouldBlock(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

}  // namespace

std::string IoTarget::Describe() const {
  if (has_kind_) return absl::StrCat(TransportName(kind_), " (fd ", fd_, ")");
  return absl::StrCat(label_, " (fd ", fd_, ")");
}

absl::Status SendAll(IoTarget target, absl::Span<const uint8_t> data,
                     absl::Duration timeout) {
  Waiter waiter(target, timeout);
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(target.fd(), data.data() + sent, data.size() - sent,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    int error = errno;
    if (n < 0 && error == EINTR) continue;
    std::string progress =
        absl::StrCat(sent, " of ", data.size(), " bytes sent");
    if (n < 0 && WouldBlock(error)) {
      absl::Status waited = waiter.Wait(POLLOUT, "send", progress);
      if (!waited.ok()) return waited;
      continue;
    }
    return ErrnoStatus(n < 0 ? error : EIO,
                       absl::StrCat("send (", progress, ")"),
                       target.Describe());
  }
  return absl::OkStatus();
}

absl::StatusOr<Bytes> RecvExactly(IoTarget target, size_t n,
                                  absl::Duration timeout) {
  Waiter waiter(target, timeout);
  Bytes buffer(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::recv(target.fd(), buffer.data() + got, n - got, MSG_DONTWAIT);
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    std::string progress = absl::StrCat(got, " of ", n, " bytes received");
    if (r == 0) {
      return absl::OutOfRangeError(absl::StrFormat(
          "recv on %s: end of stream after %s", target.Describe(), progress));
    }
    int error = errno;
    if (error == EINTR) continue;
    if (WouldBlock(error)) {
      absl::Status waited = waiter.Wait(POLLIN, "recv", progress);
      if (!waited.ok()) return waited;
      continue;
    }
    return ErrnoStatus(error, absl::StrCat("recv (", progress, ")"),
                       target.Describe());
  }
  return buffer;
}

absl::StatusOr<Bytes> RecvSome(IoTarget target, size_t max,
                               absl::Duration timeout) {
  Waiter waiter(target, timeout);
  Bytes buffer(max);
  while (true) {
    ssize_t r = ::recv(target.fd(), buffer.data(), max, MSG_DONTWAIT);
    if (r >= 0) {
      buffer.resize(static_cast<size_t>(r));
      return buffer;
    }
    int error = errno;
    if (error == EINTR) continue;
    if (WouldBlock(error)) {
      absl::Status waited = waiter.Wait(POLLIN, "recv", "no bytes received");
      if (!waited.ok()) return waited;
      continue;
    }
    return ErrnoStatus(error, "recv", target.Describe());
  }
}

absl::StatusOr<Bytes> RecvUntilEof(IoTarget target, absl::Duration timeout,
                                   size_t limit) {
  constexpr size_t kChunk = size_t{64} << 10;
  Waiter waiter(target, timeout);
  Bytes buffer;
  while (true) {
    size_t old_size = buffer.size();
    // One byte past the limit tells "exactly at the limit" from "over it".
    size_t want = std::min(kChunk, limit + 1 - old_size);
    buffer.resize(old_size + want);
    ssize_t r =
        ::recv(target.fd(), buffer.data() + old_size, want, MSG_DONTWAIT);
    buffer.resize(old_size + static_cast<size_t>(std::max<ssize_t>(r, 0)));
    if (r == 0) return buffer;
    if (buffer.size() > limit) {
      return absl::ResourceExhaustedError(
          absl::StrFormat("recv on %s: more than %d bytes before end of stream",
                          target.Describe(), limit));
    }
    if (r > 0) continue;
    int error = errno;
    if (error == EINTR) continue;
    std::string progress =
        absl::StrCat(buffer.size(), " bytes received, no end of stream");
    if (WouldBlock(error)) {
      absl::Status waited = waiter.Wait(POLLIN, "recv", progress);
      if (!waited.ok()) return waited;
      continue;
    }
    return ErrnoStatus(error, absl::StrCat("recv (", progress, ")"),
                       target.Describe());
  }
}

absl::StatusOr<short> WaitForEvents(IoTarget target, short events,
                                    absl::Duration timeout) {
  absl::StatusOr<short> revents = internal::PollUntil(
      target.fd(), events, absl::Now() + timeout, target.Describe());
  if (!revents.ok()) return revents.status();
  if (*revents == 0) {
    return absl::DeadlineExceededError(absl::StrFormat(
        "poll on %s: none of events 0x%x within %s", target.Describe(), events,
        absl::FormatDuration(timeout)));
  }
  return *revents;
}

absl::Status Shutdown(IoTarget target, int how) {
  if (::shutdown(target.fd(), how) != 0) {
    const char* name = how == SHUT_RD   ? "shutdown(SHUT_RD)"
                       : how == SHUT_WR ? "shutdown(SHUT_WR)"
                                        : "shutdown(SHUT_RDWR)";
    return ErrnoStatus(errno, name, target.Describe());
  }
  return absl::OkStatus();
}

}  // namespace sockparity
