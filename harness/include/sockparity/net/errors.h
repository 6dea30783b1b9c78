// Turning a failed system call into an absl::Status that says what failed,
// where, and with which errno, by name.
#ifndef SOCKPARITY_NET_ERRORS_H_
#define SOCKPARITY_NET_ERRORS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sockparity {

// "ECONNRESET" for ECONNRESET; "errno 4242" for a number with no name.
std::string ErrnoName(int error_number);

// A status for `call` failing with `error_number` in context `where`, e.g.
// "send on tcp4 (fd 7): EPIPE (Broken pipe)". The errno is kept as a payload,
// so ErrnoOf() recovers it without parsing the message.
absl::Status ErrnoStatus(int error_number, absl::string_view call,
                         absl::string_view where);

// The errno a status was made from, if it was made by ErrnoStatus.
std::optional<int> ErrnoOf(const absl::Status& status);

}  // namespace sockparity

#endif  // SOCKPARITY_NET_ERRORS_H_
