// The script text parser: any text either parses, and then its formatted
// form parses back to the same script, or is refused with a line and column.
#include <string>

#include "absl/strings/match.h"
#include "fuzz_util.h"
#include "sockparity/script/script.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sockparity::fuzz::LeakGuard guard;
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sockparity::Script> script = sockparity::ParseScript(text);
  if (!script.ok()) {
    if (!absl::StartsWith(script.status().message(), "line ") ||
        !absl::StrContains(script.status().message(), ", column ")) {
      sockparity::fuzz::Finding("a parse error without its line and column");
    }
    return 0;
  }
  const std::string formatted = sockparity::FormatScript(*script);
  absl::StatusOr<sockparity::Script> again = sockparity::ParseScript(formatted);
  if (!again.ok()) sockparity::fuzz::Finding("formatted text does not parse");
  if (sockparity::FormatScript(*again) != formatted) {
    sockparity::fuzz::Finding("the text form does not round trip");
  }
  return 0;
}
