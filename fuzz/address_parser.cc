// The peer contract's address parser: any text is refused with a message
// or parses to an address whose text form parses back to the same address.
#include <string>

#include "fuzz_util.h"
#include "sockparity/net/endpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sockparity::fuzz::LeakGuard guard;
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sockparity::Endpoint> endpoint =
      sockparity::Endpoint::Parse(text);
  absl::StatusOr<int> fd = sockparity::ParseInheritedFd(text);
  if (endpoint.ok() && fd.ok())
    sockparity::fuzz::Finding("text is both an address and fd:N");
  if (!endpoint.ok()) {
    if (endpoint.status().message().find("address '") != 0) {
      sockparity::fuzz::Finding(
          "an address error that does not name the address");
    }
    return 0;
  }
  // Abstract names print escaped; only printable ones round trip as text.
  if (endpoint->kind() == sockparity::TransportKind::kUnixAbstract) return 0;
  const std::string again = endpoint->ToString();
  absl::StatusOr<sockparity::Endpoint> reparsed =
      sockparity::Endpoint::Parse(again);
  if (!reparsed.ok() || reparsed->ToString() != again) {
    sockparity::fuzz::Finding(
        "an address's text form does not parse back to it");
  }
  return 0;
}
