#include "net/poll_wait.h"

#include <poll.h>

#include <cerrno>
#include <cmath>

#include "sockparity/net/errors.h"

namespace sockparity::internal {

absl::StatusOr<short> PollUntil(int fd, short events, absl::Time deadline,
                                absl::string_view where) {
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left < absl::ZeroDuration()) left = absl::ZeroDuration();
    // Round up so a wait never ends a little before its deadline.
    int64_t ms =
        absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
    pollfd entry{fd, events, 0};
    int ready =
        ::poll(&entry, 1, static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
    if (ready > 0) return entry.revents;
    if (ready < 0 && errno != EINTR) return ErrnoStatus(errno, "poll", where);
    if (ready == 0 && absl::Now() >= deadline) return 0;
  }
}

}  // namespace sockparity::internal
