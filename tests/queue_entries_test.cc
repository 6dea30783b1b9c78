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
        ScopeCase{"a pair b\nc pair d\nd rcvlowat 10\na send 5\nb poll\n",
                  "a pair b\nc pair d\nb rcvlowat 10\na send 5\nb poll\n",
                  "rcvlowat_ignored_by_unix_poll",
                  TransportKind::kSocketpair,
                  {"ok", "ok", "ok", "ok", "IN|OUT"},
                  {"ok", "ok", "ok", "ok", "OUT"}},
        ScopeCase{"a pair b\nc pair d\nc send-oob\nb poll\n",
                  "a pair b\nc pair d\na send-oob\nb poll\n",
                  "oob_byte_queued_inline_on_unix",
                  TransportKind::kSocketpair,
                  {"ok", "ok", "ok", "IN|PRI|OUT"},
                  {"ok", "ok", "ok", "PRI|OUT"}},
        ScopeCase{"a pair b\nc pair d\nc send 5\na outq\n",
                  "a pair b\nc pair d\na send 5\na outq\n",
                  "unix_outq_is_unread_memory",
                  TransportKind::kSocketpair,
                  {"ok", "ok", "ok", "unread-memory"},
                  {"ok", "ok", "ok", "0"}},
        ScopeCase{"a pair b\nc pair d\nc send-oob\nb nonblock\nb recv 10\n",
                  "a pair b\nc pair d\na send-oob\nb nonblock\nb recv 10\n",
                  "superseded_oob_byte_kept_on_unix",
                  TransportKind::kSocketpair,
                  {"ok", "ok", "ok", "ok", "data"},
                  {"ok", "ok", "ok", "ok", "EAGAIN"}},
        ScopeCase{"a pair b\nc pair d\nd send-oob\na recv 10\n",
                  "a pair b\nc pair d\nb send-oob\na recv 10\n",
                  "unix_read_woken_by_a_lone_oob_byte_discards_it",
                  TransportKind::kSocketpair,
                  {"ok", "ok", "ok", "EAGAIN"},
                  {"ok", "ok", "ok", "timeout"}},
        // A read on another connection frees nothing on this one.
        ScopeCase{"a pair b\nc pair d\na fill\nd recv-exactly 100\na send 1\n",
                  "a pair b\nc pair d\na fill\nb recv-exactly 100\na send 1\n",
                  "tcp_window_stays_shut_after_a_small_read",
                  TransportKind::kSocketpair,
                  {"ok", "ok", "EAGAIN", "ok", "ok"},
                  {"ok", "ok", "EAGAIN", "ok", "EAGAIN"}}),
    [](const ::testing::TestParamInfo<ScopeCase>& info) {
      return info.param.entry;
    });

}  // namespace
}  // namespace sockparity::testing
