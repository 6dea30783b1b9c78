#include "sockparity/net/io.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "net/poll_wait.h"
#include "sockparity/net/errors.h"

namespace sockparity {
namespace {

// Non-blocking calls first, poll only when the kernel says "not now": on the
// fast path an I/O call costs one system call, as a raw one does. Messages
// are only built on failure, so waiting costs no allocation either.
class Waiter {
 public:
  Waiter(const IoTarget& target, absl::Duration timeout)
      : target_(target), timeout_(timeout) {}

  // Waits for `events`; OK means try the call again. `progress()` says how
  // far the call got, for the timeout message.
  template <typename Progress>
  absl::Status Wait(short events, absl::string_view call,
                    const Progress& progress) {
    if (!deadline_) deadline_ = absl::Now() + timeout_;
    absl::StatusOr<short> revents =
        internal::PollUntil(target_.fd(), events, *deadline_, call);
    if (!revents.ok()) {
      absl::Status named(
          revents.status().code(),
          absl::StrCat(revents.status().message(), " on ", target_.Describe()));
      revents.status().ForEachPayload(
          [&](absl::string_view url, const absl::Cord& payload) {
            named.SetPayload(url, payload);
          });
      return named;
    }
    if (*revents == 0) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "%s on %s: timed out after %s with %s", call, target_.Describe(),
          absl::FormatDuration(timeout_), progress()));
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

enum class RecvMode { kExactly, kSome };

// The receive loop behind RecvExactly* and RecvSome*.
absl::StatusOr<size_t> RecvInto(const IoTarget& target, absl::Span<uint8_t> out,
                                RecvMode mode, absl::Duration timeout) {
  Waiter waiter(target, timeout);
  const size_t n = out.size();
  size_t got = 0;
  auto progress = [&] {
    return mode == RecvMode::kSome
               ? std::string("no bytes received")
               : absl::StrCat(got, " of ", n, " bytes received");
  };
  // A short read emptied the queue: the next recv would only say EAGAIN.
  bool drained = false;
  while (got < n) {
    if (drained) {
      drained = false;
      absl::Status waited = waiter.Wait(POLLIN, "recv", progress);
      if (!waited.ok()) return waited;
    }
    ssize_t r = ::recv(target.fd(), out.data() + got, n - got, MSG_DONTWAIT);
    if (r > 0) {
      got += static_cast<size_t>(r);
      if (mode == RecvMode::kSome) return got;
      drained = got < n;
      continue;
    }
    if (r == 0) {
      if (mode == RecvMode::kSome) return size_t{0};
      return absl::OutOfRangeError(absl::StrFormat(
          "recv on %s: end of stream after %s", target.Describe(), progress()));
    }
    int error = errno;
    if (error == EINTR) continue;
    if (WouldBlock(error)) {
      absl::Status waited = waiter.Wait(POLLIN, "recv", progress);
      if (!waited.ok()) return waited;
      continue;
    }
    return ErrnoStatus(error, absl::StrCat("recv (", progress(), ")"),
                       target.Describe());
  }
  return got;
}

}  // namespace

std::string IoTarget::Describe() const {
  if (has_kind_) return absl::StrCat(TransportName(kind_), " (fd ", fd_, ")");
  return absl::StrCat(label_, " (fd ", fd_, ")");
}

absl::Status SendAll(IoTarget target, absl::Span<const uint8_t> data,
                     absl::Duration timeout) {
  Waiter waiter(target, timeout);
  size_t sent = 0;
  auto progress = [&] {
    return absl::StrCat(sent, " of ", data.size(), " bytes sent");
  };
  // A short send filled the buffer: the next send would only say EAGAIN.
  bool full = false;
  while (sent < data.size()) {
    if (full) {
      full = false;
      absl::Status waited = waiter.Wait(POLLOUT, "send", progress);
      if (!waited.ok()) return waited;
    }
    ssize_t n = ::send(target.fd(), data.data() + sent, data.size() - sent,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      full = sent < data.size();
      continue;
    }
    int error = errno;
    if (n < 0 && error == EINTR) continue;
    if (n < 0 && WouldBlock(error)) {
      absl::Status waited = waiter.Wait(POLLOUT, "send", progress);
      if (!waited.ok()) return waited;
      continue;
    }
    return ErrnoStatus(n < 0 ? error : EIO,
                       absl::StrCat("send (", progress(), ")"),
                       target.Describe());
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> RecvExactlyInto(IoTarget target, absl::Span<uint8_t> out,
                                       absl::Duration timeout) {
  return RecvInto(target, out, RecvMode::kExactly, timeout);
}

absl::StatusOr<Bytes> RecvExactly(IoTarget target, size_t n,
                                  absl::Duration timeout) {
  Bytes buffer(n);
  absl::StatusOr<size_t> got =
      RecvInto(target, absl::MakeSpan(buffer), RecvMode::kExactly, timeout);
  if (!got.ok()) return got.status();
  return buffer;
}

absl::StatusOr<size_t> RecvSomeInto(IoTarget target, absl::Span<uint8_t> out,
                                    absl::Duration timeout) {
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "recv on %s: an empty buffer cannot tell data from end of stream",
        target.Describe()));
  }
  return RecvInto(target, out, RecvMode::kSome, timeout);
}

absl::StatusOr<Bytes> RecvSome(IoTarget target, size_t max,
                               absl::Duration timeout) {
  Bytes buffer(max);
  absl::StatusOr<size_t> got =
      RecvSomeInto(target, absl::MakeSpan(buffer), timeout);
  if (!got.ok()) return got.status();
  buffer.resize(*got);
  return buffer;
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
      absl::Status waited =
          waiter.Wait(POLLIN, "recv", [&] { return progress; });
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
