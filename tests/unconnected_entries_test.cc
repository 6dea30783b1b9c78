// The registry's entries on unconnected sockets (registry_unconnected.cc)
// explain their difference only on the sockets their trigger touched: each
// test is the witness's outcomes with the trigger elsewhere (a finding),
// and the same with it where it belongs (explained).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "comparison_util.h"

namespace sockparity::testing {
namespace {

class UnconnectedEntryScope : public ::testing::TestWithParam<ScopeCase> {};

TEST_P(UnconnectedEntryScope, OnlyWhereItsTriggerReaches) {
  ExpectOnlyWhereTheTriggerReaches(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    Registry, UnconnectedEntryScope,
    ::testing::Values(
        ScopeCase{"a pair b\nk bind\na recv 10\n",
                  "a pair b\nk bind\nk recv 10\n",
                  "io_on_unconnected_socket",
                  TransportKind::kUnixPath,
                  {"ok", "ok", "EINVAL"},
                  {"ok", "ok", "ENOTCONN"}},
        ScopeCase{"a pair b\nl listen 2\nb send 5\n",
                  "a pair b\nl listen 2\nl send 5\n",
                  "io_on_unconnected_socket",
                  TransportKind::kUnixPath,
                  {"ok", "ok", "ENOTCONN"},
                  {"ok", "ok", "EPIPE"}},
        ScopeCase{"a pair b\nk bind\na shutdown rd\n",
                  "a pair b\nk bind\nk shutdown rd\n",
                  "shutdown_of_unconnected_socket",
                  TransportKind::kUnixPath,
                  {"ok", "ok", "ok"},
                  {"ok", "ok", "ENOTCONN"}},
        ScopeCase{"l listen 1\nm listen 1\nm close\nc connect-nb l\n",
                  "l listen 1\nm listen 1\nm close\nc connect-nb m\n",
                  "nonblocking_connect_refused_later_on_tcp",
                  TransportKind::kUnixPath,
                  {"ok", "ok", "ok", "ECONNREFUSED"},
                  {"ok", "ok", "ok", "EINPROGRESS"}},
        ScopeCase{"l listen 4\nc connect-nb l\nd connect l\nd reconnect l\n",
                  "l listen 4\nc connect-nb l\nd connect l\nc reconnect l\n",
                  "reconnect_after_nonblocking_connect",
                  TransportKind::kUnixPath,
                  {"ok", "ok", "ok", "EISCONN"},
                  {"ok", "EINPROGRESS", "ok", "ok"}},
        ScopeCase{"k bind\nj bind\nm bind\nm reconnect j\n",
                  "k bind\nj bind\nm listen 2\nm reconnect j\n",
                  "connect_on_listener",
                  TransportKind::kUnixPath,
                  {"ok", "ok", "ok", "EINVAL"},
                  {"ok", "ok", "ok", "EISCONN"}},
        ScopeCase{"l listen 4\nc connect l\nm listen 4\nm close\nc send 5\n",
                  "l listen 4\nc connect l\nm listen 4\nl close\nc send 5\n",
                  "closed_listener_resets_queued_connections",
                  TransportKind::kUnixPath,
                  {"ok", "ok", "ok", "ok", "EPIPE"},
                  {"ok", "ok", "ok", "ok", "ECONNRESET"}},
        // Another connection's shutdown does not make this one disconnecting.
        ScopeCase{
            "l listen 2\nc connect-nb l\nd connect-nb l\nl close\n"
            "d shutdown wr\nc reconnect l\n",
            "l listen 2\nc connect-nb l\nd connect-nb l\nl close\n"
            "c shutdown wr\nc reconnect l\n",
            "tcp_connecting_socket_shut_down_after_a_reset_refuses_connect",
            TransportKind::kUnixPath,
            {"ok", "ok", "ok", "ok", "ok", "ECONNREFUSED"},
            {"ok", "EINPROGRESS", "EINPROGRESS", "ok", "ENOTCONN", "EINVAL"}},
        // A connect to an address reaches the socket that took it over
        // (bind-same): its shutdown before it listens, not another's.
        ScopeCase{"l listen 1\nl abort\nk bind-same l reuseaddr\nj bind\n"
                  "j shutdown wr\nk relisten 1\nc connect-nb l\nc poll\n",
                  "l listen 1\nl abort\nk bind-same l reuseaddr\nj bind\n"
                  "k shutdown wr\nk relisten 1\nc connect-nb l\nc poll\n",
                  "tcp_listener_passes_its_shutdown_to_its_connections",
                  TransportKind::kUnixAbstract,
                  {"ok", "ok", "ok", "ok", "ok", "ok", "ok", "OUT"},
                  {"ok", "ok", "ok", "ok", "ENOTCONN", "ok", "EINPROGRESS",
                   "IN|OUT|RDHUP"}}),
    [](const ::testing::TestParamInfo<ScopeCase>& info) {
      return absl::StrCat(info.param.entry, "_", info.index);
    });

}  // namespace
}  // namespace sockparity::testing
