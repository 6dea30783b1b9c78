// The replay table fits 100 columns: side by side when it can, grouped by
// outcome when the transports' outcomes are too wide to stand side by side.
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/script/script.h"
#include "sockparity/script/trace_table.h"

namespace sockparity {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<Trace> Traces(const std::vector<std::string>& poll_outcomes) {
  const TransportKind kinds[] = {
      TransportKind::kSocketpair, TransportKind::kUnixPath,
      TransportKind::kUnixAbstract, TransportKind::kTcp4,
      TransportKind::kTcp6};
  std::vector<Trace> traces;
  for (size_t i = 0; i < poll_outcomes.size(); ++i) {
    Trace trace;
    trace.kind = kinds[i];
    trace.steps = {{"ok", ""}, {poll_outcomes[i], ""}};
    traces.push_back(trace);
  }
  return traces;
}

void ExpectEveryLineFits(const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n'))
    EXPECT_LE(line.size(), 100u) << line;
}

TEST(TraceTable, NarrowOutcomesStandSideBySide) {
  auto script = ParseScript("a pair b\nb poll\n");
  ASSERT_TRUE(script.ok()) << script.status();
  const std::string text = FormatTracesSideBySide(
      *script, Traces({"IN", "IN", "IN", "IN|ERR", "IN|ERR"}), false);
  ExpectEveryLineFits(text);
  EXPECT_THAT(text, HasSubstr("socketpair  unix  unix-abstract  tcp4"));
  EXPECT_THAT(text, HasSubstr("2  b poll    IN          IN    IN"));
}

TEST(TraceTable, WideOutcomesAreGroupedByOutcome) {
  auto script = ParseScript("a pair b\nb poll\n");
  ASSERT_TRUE(script.ok()) << script.status();
  const std::string unix_mask = "IN|PRI|OUT|RDHUP|HUP|RDNORM|WRNORM";
  const std::string tcp_mask = "IN|PRI|OUT|RDHUP|ERR|HUP|RDNORM|WRNORM";
  const std::string text = FormatTracesSideBySide(
      *script,
      Traces({unix_mask, unix_mask, unix_mask, tcp_mask, tcp_mask}), false);
  ExpectEveryLineFits(text);
  EXPECT_THAT(text, HasSubstr("1  a pair b  ok"));
  EXPECT_THAT(text, HasSubstr("all\n"));
  EXPECT_THAT(text, HasSubstr(unix_mask + "      socketpair, unix, "
                                          "unix-abstract\n"));
  EXPECT_THAT(text, HasSubstr(tcp_mask + "  tcp4, tcp6\n"));
  EXPECT_THAT(text, Not(HasSubstr("socketpair  unix")));
}

}  // namespace
}  // namespace sockparity
