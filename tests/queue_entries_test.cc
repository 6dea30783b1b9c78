// The registry's queue entries (SIOCOUTQ, out-of-band bytes, SO_RCVLOWAT)
// explain their difference only on the connection their trigger touched:
// each test is the witness's outcomes with the trigger on another
// connection (a finding), and the same with it on this one (explained).
#include <string>
#include <vector>

#include "comparison_util.h"

namespace sockparity::testing {
namespace {

class QueueEntryScope : public ::testing::TestWithParam<ScopeCase> {};

TEST_P(QueueEntryScope, OnlyWhereItsTriggerReaches) {
  ExpectOnlyWhereTheTriggerReaches(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Registry, QueueEntryScope,
    ::testing::Values(
        Witness(TransportKind::kSocketpair, "rcvlowat_ignored_by_unix_poll",
                "a pair b\nc pair d\n{d|b} rcvlowat 10\na send 5\nb poll\n",
                "ok ok ok ok IN|OUT", "ok ok ok ok OUT"),
        Witness(TransportKind::kSocketpair, "oob_byte_queued_inline_on_unix",
                "a pair b\nc pair d\n{c|a} send-oob\nb poll\n",
                "ok ok ok IN|PRI|OUT", "ok ok ok PRI|OUT"),
        Witness(TransportKind::kSocketpair, "unix_outq_is_unread_memory",
                "a pair b\nc pair d\n{c|a} send 5\na outq\n",
                "ok ok ok unread-memory", "ok ok ok 0"),
        Witness(TransportKind::kSocketpair, "superseded_oob_byte_kept_on_unix",
                "a pair b\nc pair d\n{c|a} send-oob\nb nonblock\nb recv 10\n",
                "ok ok ok ok data", "ok ok ok ok EAGAIN"),
        Witness(TransportKind::kSocketpair,
                "unix_read_woken_by_a_lone_oob_byte_discards_it",
                "a pair b\nc pair d\n{d|b} send-oob\na recv 10\n",
                "ok ok ok EAGAIN", "ok ok ok timeout"),
        // A read on another connection frees nothing on this one.
        Witness(
            TransportKind::kSocketpair,
            "tcp_window_stays_shut_after_a_small_read",
            "a pair b\nc pair d\na fill\n{d|b} recv-exactly 100\na send 1\n",
            "ok ok EAGAIN ok ok", "ok ok EAGAIN ok EAGAIN")),
    [](const ::testing::TestParamInfo<ScopeCase>& info) {
      return info.param.entry;
    });

}  // namespace
}  // namespace sockparity::testing
