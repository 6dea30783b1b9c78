#include "sockparity/net/errors.h"

#include <string.h>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sockparity {
namespace {
constexpr absl::string_view kErrnoPayloadUrl = "sockparity/errno";
}  // namespace

std::string ErrnoName(int error_number) {
  // glibc >= 2.32; returns nullptr for numbers it has no name for.
  if (const char* name = ::strerrorname_np(error_number)) return name;
  return absl::StrCat("errno ", error_number);
}

absl::Status ErrnoStatus(int error_number, absl::string_view call,
                         absl::string_view where) {
  absl::Status status(
      absl::ErrnoToStatusCode(error_number),
      absl::StrFormat("%s on %s: %s (%s)", call, where, ErrnoName(error_number),
                      ::strerrordesc_np(error_number)
                          ? ::strerrordesc_np(error_number)
                          : "unknown error"));
  status.SetPayload(kErrnoPayloadUrl, absl::Cord(absl::StrCat(error_number)));
  return status;
}

std::optional<int> ErrnoOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kErrnoPayloadUrl);
  int value = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace sockparity
