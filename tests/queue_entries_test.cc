// The registry's queue entries (SIOCOUTQ, out-of-band bytes, SO_RCVLOWAT)
// explain their difference only on the connection their trigger touched:
// each test is the witness's outcomes with the trigger on another
// connection (a finding), and the same with it on this one (explained).
#include <string>
#include <vector>

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
  std::string elsewhere;  // the trigger on connection c-d
  std::string here;       // the trigger on connection a-b
  std::string entry;
  std::vector<std::string> unix_outcomes;
  std::vector<std::string> tcp_outcomes;
};

class QueueEntryScope : public ::testing::TestWithParam<Case> {};

TEST_P(QueueEntryScope, OnlyOnTheTriggersConnection) {
  const Case& c = GetParam();
  const Trace unix = MakeTrace(TransportKind::kSocketpair, c.unix_outcomes);
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
  EXPECT_EQ(explained.entries, std::vector<std::string>{c.entry});
}

INSTANTIATE_TEST_SUITE_P(
    Registry, QueueEntryScope,
    ::testing::Values(
        Case{"a pair b\nc pair d\nd rcvlowat 10\na send 5\nb poll\n",
             "a pair b\nc pair d\nb rcvlowat 10\na send 5\nb poll\n",
             "rcvlowat_ignored_by_unix_poll",
             {"ok", "ok", "ok", "ok", "IN|OUT"},
             {"ok", "ok", "ok", "ok", "OUT"}},
        Case{"a pair b\nc pair d\nc send-oob\nb poll\n",
             "a pair b\nc pair d\na send-oob\nb poll\n",
             "oob_byte_queued_inline_on_unix",
             {"ok", "ok", "ok", "IN|PRI|OUT"},
             {"ok", "ok", "ok", "PRI|OUT"}},
        Case{"a pair b\nc pair d\nc send 5\na outq\n",
             "a pair b\nc pair d\na send 5\na outq\n",
             "unix_outq_is_unread_memory",
             {"ok", "ok", "ok", "unread-memory"},
             {"ok", "ok", "ok", "0"}},
        Case{"a pair b\nc pair d\nc send-oob\nb nonblock\nb recv 10\n",
             "a pair b\nc pair d\na send-oob\nb nonblock\nb recv 10\n",
             "superseded_oob_byte_kept_on_unix",
             {"ok", "ok", "ok", "ok", "data"},
             {"ok", "ok", "ok", "ok", "EAGAIN"}},
        Case{"a pair b\nc pair d\nd send-oob\na recv 10\n",
             "a pair b\nc pair d\nb send-oob\na recv 10\n",
             "unix_read_woken_by_a_lone_oob_byte_discards_it",
             {"ok", "ok", "ok", "EAGAIN"},
             {"ok", "ok", "ok", "timeout"}},
        // A read on another connection frees nothing on this one.
        Case{"a pair b\nc pair d\na fill\nd recv-exactly 100\na send 1\n",
             "a pair b\nc pair d\na fill\nb recv-exactly 100\na send 1\n",
             "tcp_window_stays_shut_after_a_small_read",
             {"ok", "ok", "EAGAIN", "ok", "ok"},
             {"ok", "ok", "EAGAIN", "ok", "EAGAIN"}}),
    [](const ::testing::TestParamInfo<Case>& info) {
      return info.param.entry;
    });

}  // namespace
}  // namespace sockparity::testing
