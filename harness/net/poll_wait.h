// Internal: one poll(2) wait bounded by an absolute deadline, retried on EINTR.
#ifndef SOCKPARITY_NET_POLL_WAIT_H_
#define SOCKPARITY_NET_POLL_WAIT_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sockparity::internal {

// Returns the revents seen, or 0 when the deadline passed first. The error
// case (poll itself failing) carries `call` and `where` in its message.
absl::StatusOr<short> PollUntil(int fd, short events, absl::Time deadline,
                                absl::string_view where);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_NET_POLL_WAIT_H_
