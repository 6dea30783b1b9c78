// The client contract's output parser (ParseClientReport): any text is
// refused with a message naming the line, or parsed to a report whose
// lines, written out again, parse to the same report.
#include <string>

#include "absl/strings/str_join.h"
#include "fuzz_util.h"
#include "sockparity/check/client_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sockparity::fuzz::LeakGuard guard;
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sockparity::ClientReport> report =
      sockparity::ParseClientReport(text);
  if (!report.ok()) {
    if (report.status().message().find("the client's output, line ") != 0)
      sockparity::fuzz::Finding("a parse error that does not name the line");
    return 0;
  }
  if (report->lines.size() != report->replies.size() + report->connected +
                                  (report->end.has_value() ? 1 : 0)) {
    sockparity::fuzz::Finding("lines and parsed parts disagree");
  }
  std::string again = absl::StrJoin(report->lines, "\n");
  if (!again.empty()) again.push_back('\n');
  absl::StatusOr<sockparity::ClientReport> reparsed =
      sockparity::ParseClientReport(again);
  if (!reparsed.ok() || reparsed->lines != report->lines ||
      reparsed->replies != report->replies) {
    sockparity::fuzz::Finding("the report's lines do not parse back to it");
  }
  return 0;
}
