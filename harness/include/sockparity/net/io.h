// Deadline-bounded stream I/O. Every call waits at most its timeout, handles
// short reads and writes and EINTR, never raises SIGPIPE, and reports failure
// as a status naming the call, the errno and the transport.
#ifndef SOCKPARITY_NET_IO_H_
#define SOCKPARITY_NET_IO_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/transport.h"

namespace sockparity {

inline constexpr absl::Duration kDefaultIoTimeout = absl::Seconds(10);
// RecvUntilEof refuses to buffer more than this unless told otherwise.
inline constexpr size_t kDefaultRecvLimit = size_t{256} << 20;

// The descriptor a call works on and how errors name it. Made implicitly
// from a Socket; `label` must outlive the call.
class IoTarget {
 public:
  IoTarget(const Socket& socket)  // NOLINT(google-explicit-constructor)
      : fd_(socket.fd()), kind_(socket.kind()), has_kind_(true) {}
  IoTarget(int fd, absl::string_view label) : fd_(fd), label_(label) {}

  int fd() const { return fd_; }
  std::string Describe() const;

 private:
  int fd_;
  TransportKind kind_ = TransportKind::kSocketpair;
  bool has_kind_ = false;
  absl::string_view label_;
};

// Sends every byte of `data`.
absl::Status SendAll(IoTarget target, absl::Span<const uint8_t> data,
                     absl::Duration timeout = kDefaultIoTimeout);

// Receives exactly `n` bytes; end of stream first is OUT_OF_RANGE.
absl::StatusOr<Bytes> RecvExactly(IoTarget target, size_t n,
                                  absl::Duration timeout = kDefaultIoTimeout);

// The same into a buffer the caller owns (no allocation per call, for bulk
// transfers): fills all of `out`, or fails as RecvExactly does.
absl::StatusOr<size_t> RecvExactlyInto(
    IoTarget target, absl::Span<uint8_t> out,
    absl::Duration timeout = kDefaultIoTimeout);

// Waits for at least one byte and returns what one recv gives, up to `max`;
// an empty result means end of stream.
absl::StatusOr<Bytes> RecvSome(IoTarget target, size_t max,
                               absl::Duration timeout = kDefaultIoTimeout);

// The same into a buffer the caller owns: returns how many bytes one recv
// put at the start of `out` (0 means end of stream).
absl::StatusOr<size_t> RecvSomeInto(IoTarget target, absl::Span<uint8_t> out,
                                    absl::Duration timeout = kDefaultIoTimeout);

// Receives until end of stream; more than `limit` bytes is RESOURCE_EXHAUSTED.
absl::StatusOr<Bytes> RecvUntilEof(IoTarget target,
                                   absl::Duration timeout = kDefaultIoTimeout,
                                   size_t limit = kDefaultRecvLimit);

// Waits until poll reports any of `events` (POLLERR, POLLHUP and POLLNVAL are
// always reported) and returns the revents seen.
absl::StatusOr<short> WaitForEvents(IoTarget target, short events,
                                    absl::Duration timeout = kDefaultIoTimeout);

// shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR.
absl::Status Shutdown(IoTarget target, int how);

}  // namespace sockparity

#endif  // SOCKPARITY_NET_IO_H_
