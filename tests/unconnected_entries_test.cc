// The registry's entries on unconnected sockets (registry_unconnected.cc)
// explain their difference only on the sockets their trigger touched: each
// test is the witness's outcomes with the trigger elsewhere (a finding),
// and the same with it where it belongs (explained).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sockparity/script/differences.h"
#include "sockparity/script/script.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

using Verdict = Comparison::Verdict;

Trace MakeTrace(TransportKind kind, std::vector<std::string> outcomes) {
  Trace trace;
  trace.kind = kind;
  for (std::string& outcome : outcomes) trace.steps.push_back({outcome, ""});
  return trace;
}

struct Case {
  std::string elsewhere;  // the last step away from the trigger's sockets
  std::string here;       // the last step on them
  std::string entry;
  std::vector<std::string> unix_outcomes;
  std::vector<std::string> tcp_outcomes;
};

class UnconnectedEntryScope : public ::testing::TestWithParam<Case> {};

TEST_P(UnconnectedEntryScope, OnlyWhereItsTriggerReaches) {
  const Case& c = GetParam();
  const Trace unix = MakeTrace(TransportKind::kUnixPath, c.unix_outcomes);
  const Trace tcp = MakeTrace(TransportKind::kTcp4, c.tcp_outcomes);
  SP_ASSERT_OK_AND_ASSIGN(Script elsewhere, ParseScript(c.elsewhere));
  EXPECT_EQ(CompareTraces(elsewhere, unix, tcp, DifferenceRegistry::Default())
                .verdict,
            Verdict::kDiverged);
  SP_ASSERT_OK_AND_ASSIGN(Script here, ParseScript(c.here));
  const Comparison explained =
      CompareTraces(here, unix, tcp, DifferenceRegistry::Default());
  EXPECT_EQ(explained.verdict, Verdict::kEqualApartFrom)
      << explained.Describe();
  // The last step's: earlier steps may need the entries that explain a
  // trigger's own outcome.
  ASSERT_FALSE(explained.entries.empty());
  EXPECT_EQ(explained.entries.back(), c.entry);
}

INSTANTIATE_TEST_SUITE_P(
    Registry, UnconnectedEntryScope,
    ::testing::Values(
        Case{"a pair b\nk bind\na recv 10\n",
             "a pair b\nk bind\nk recv 10\n",
             "io_on_unconnected_socket",
             {"ok", "ok", "EINVAL"},
             {"ok", "ok", "ENOTCONN"}},
        Case{"a pair b\nl listen 2\nb send 5\n",
             "a pair b\nl listen 2\nl send 5\n",
             "io_on_unconnected_socket",
             {"ok", "ok", "ENOTCONN"},
             {"ok", "ok", "EPIPE"}},
        Case{"a pair b\nk bind\na shutdown rd\n",
             "a pair b\nk bind\nk shutdown rd\n",
             "shutdown_of_unconnected_socket",
             {"ok", "ok", "ok"},
             {"ok", "ok", "ENOTCONN"}},
        Case{"l listen 1\nm listen 1\nm close\nc connect-nb l\n",
             "l listen 1\nm listen 1\nm close\nc connect-nb m\n",
             "nonblocking_connect_refused_later_on_tcp",
             {"ok", "ok", "ok", "ECONNREFUSED"},
             {"ok", "ok", "ok", "EINPROGRESS"}},
        Case{"l listen 4\nc connect-nb l\nd connect l\nd reconnect l\n",
             "l listen 4\nc connect-nb l\nd connect l\nc reconnect l\n",
             "reconnect_after_nonblocking_connect",
             {"ok", "ok", "ok", "EISCONN"},
             {"ok", "EINPROGRESS", "ok", "ok"}},
        Case{"k bind\nj bind\nm bind\nm reconnect j\n",
             "k bind\nj bind\nm listen 2\nm reconnect j\n",
             "connect_on_listener",
             {"ok", "ok", "ok", "EINVAL"},
             {"ok", "ok", "ok", "EISCONN"}},
        Case{"l listen 4\nc connect l\nm listen 4\nm close\nc send 5\n",
             "l listen 4\nc connect l\nm listen 4\nl close\nc send 5\n",
             "closed_listener_resets_queued_connections",
             {"ok", "ok", "ok", "ok", "EPIPE"},
             {"ok", "ok", "ok", "ok", "ECONNRESET"}}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return absl::StrCat(info.param.entry, "_", info.index);
    });

}  // namespace
}  // namespace sockparity::testing
