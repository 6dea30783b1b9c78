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
        Witness(TransportKind::kUnixPath, "io_on_unconnected_socket",
                "a pair b\nk bind\n{a|k} recv 10\n", "ok ok EINVAL",
                "ok ok ENOTCONN"),
        Witness(TransportKind::kUnixPath, "io_on_unconnected_socket",
                "a pair b\nl listen 2\n{b|l} send 5\n", "ok ok ENOTCONN",
                "ok ok EPIPE"),
        Witness(TransportKind::kUnixPath, "shutdown_of_unconnected_socket",
                "a pair b\nk bind\n{a|k} shutdown rd\n", "ok ok ok",
                "ok ok ENOTCONN"),
        Witness(TransportKind::kUnixPath,
                "nonblocking_connect_refused_later_on_tcp",
                "l listen 1\nm listen 1\nm close\nc connect-nb {l|m}\n",
                "ok ok ok ECONNREFUSED", "ok ok ok EINPROGRESS"),
        Witness(TransportKind::kUnixPath, "reconnect_after_nonblocking_connect",
                "l listen 4\nc connect-nb l\nd connect l\n{d|c} reconnect l\n",
                "ok ok ok EISCONN", "ok EINPROGRESS ok ok"),
        Witness(TransportKind::kUnixPath, "connect_on_listener",
                "k bind\nj bind\n{m bind|m listen 2}\nm reconnect j\n",
                "ok ok ok EINVAL", "ok ok ok EISCONN"),
        Witness(TransportKind::kUnixPath,
                "closed_listener_resets_queued_connections",
                "l listen 4\nc connect l\nm listen 4\n{m|l} close\nc send 5\n",
                "ok ok ok ok EPIPE", "ok ok ok ok ECONNRESET"),
        // Another connection's shutdown does not make this one disconnecting.
        Witness(TransportKind::kUnixPath,
                "tcp_connecting_socket_shut_down_after_a_reset_refuses_connect",
                "l listen 2\nc connect-nb l\nd connect-nb l\nl close\n"
                "{d|c} shutdown wr\nc reconnect l\n",
                "ok ok ok ok ok ECONNREFUSED",
                "ok EINPROGRESS EINPROGRESS ok ENOTCONN EINVAL"),
        // A connect to an address reaches the socket that took it over
        // (bind-same): its shutdown before it listens, not another's.
        Witness(TransportKind::kUnixAbstract,
                "tcp_listener_passes_its_shutdown_to_its_connections",
                "l listen 1\nl abort\nk bind-same l reuseaddr\nj bind\n"
                "{j|k} shutdown wr\nk relisten 1\nc connect-nb l\nc poll\n",
                "ok ok ok ok ok ok ok OUT",
                "ok ok ok ok ENOTCONN ok EINPROGRESS IN|OUT|RDHUP")),
    [](const ::testing::TestParamInfo<ScopeCase>& info) {
      return absl::StrCat(info.param.entry, "_", info.index);
    });

}  // namespace
}  // namespace sockparity::testing
