// sockparity's registry of documented differences. Every entry was found by
// running the scripts in corpus/scripts on Linux, and each is confirmed by
// the test DifferenceConfirmation.Entry/<id>.
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "script/registry_entries.h"
#include "sockparity/script/differences.h"

namespace sockparity {
namespace internal {

std::vector<std::string> Reads(absl::string_view outcome) {
  std::vector<std::string> patterns;
  for (absl::string_view verb :
       {"recv", "recv-exactly", "recv-until-eof", "recv-waitall", "recv-fd",
        "recv-oob", "peek", "drain"}) {
    patterns.push_back(absl::StrCat(verb, ":", outcome));
  }
  return patterns;
}

std::vector<std::string> ReadsData() {
  return {"recv:data",       "peek:data",          "recv-exactly:ok",
          "recv-waitall:ok", "recv-waitall:short", "recv-fd:no-fd",
          "recv-fd:fd"};
}

std::vector<std::string> Writes(absl::string_view outcome) {
  std::vector<std::string> patterns;
  for (absl::string_view verb : {"send", "send-fd", "send-oob", "fill"}) {
    patterns.push_back(absl::StrCat(verb, ":", outcome));
  }
  return patterns;
}

std::vector<std::string> Patterns(
    std::initializer_list<std::vector<std::string>> lists) {
  std::vector<std::string> all;
  for (const std::vector<std::string>& list : lists) {
    all.insert(all.end(), list.begin(), list.end());
  }
  return all;
}

}  // namespace internal

namespace {

using namespace internal;  // NOLINT: the kind groups and pattern helpers

// Addresses, listeners, options: the entries before and after those about
// how connections end.
std::vector<Difference> AddressEntries() {
  return {
      {.id = "socketpair_has_no_address",
       .statement = "A socketpair has no address and no listener, so address "
                    "and listener steps do not apply to it.",
       .source = "socketpair(2); unix(7), \"unnamed\" sockets",
       .behaviour = {{{K::kSocketpair},
                      "every step on a listener or address gives n/a",
                      {"*:n/a"}},
                     {kAddressed, "the step runs", {"*:*"}}},
       .affects_received_data = true,
       .witness = "connect_bound_not_listening"},
      {.id = "connect_missing_unix_path_is_enoent",
       .statement = "Connecting to a UNIX path where no socket file exists "
                    "fails with ENOENT; with nothing bound to an abstract "
                    "name or TCP port it is ECONNREFUSED.",
       .source = "unix(7), ERRORS (ENOENT); connect(2), ERRORS (ECONNREFUSED)",
       .behaviour = {{{K::kUnixPath},
                      "no such file",
                      {"connect-missing:ENOENT"}},
                     {kAbstractAndTcp,
                      "nothing listens",
                      {"connect-missing:ECONNREFUSED"}}},
       .witness = "connect_missing"},
      {.id = "socket_file_outlives_listener",
       .statement = "A UNIX path listener's socket file stays after close, so "
                    "binding the path again fails with EADDRINUSE until it is "
                    "unlinked; a closed listener's abstract name or TCP port "
                    "can be bound again.",
       .source = "unix(7), \"pathname\" sockets: the socket file must be "
                 "removed with unlink(2)",
       // The socket whose bind failed is closed (later steps on it too).
       .behaviour = {{{K::kUnixPath},
                      "the path is taken",
                      {"bind-same:EADDRINUSE", "*:closed",
                       // a bind-same on the socket whose bind failed here,
                       // or a connect to it
                       "bind-same:n/a", "*:no-address"}},
                     {kAbstractAndTcp,
                      "the address is free",
                      {"bind-same:ok", "*:*"}}},
       .after = {"close"},
       // The file is the closed socket's: a bind to the address of a socket
       // it was connected to is that socket's business
       // (tcp_reset_frees_a_port_the_kernel_chose).
       .trigger_socket_only = true,
       .witness = "bind_after_listener_closed"},
      {.id = "tcp_time_wait_blocks_rebind",
       .statement = "A TCP port with a connection it accepted in TIME_WAIT "
                    "(or in another close state: closed first, the "
                    "connection stays in FIN_WAIT2 until the peer closes) "
                    "cannot be bound again unless the old socket and the new "
                    "one both set SO_REUSEADDR; an abstract UNIX name has no "
                    "TIME_WAIT.",
       .source = "socket(7), SO_REUSEADDR; net/ipv4/inet_connection_sock.c "
                 "(inet_bind_conflict)",
       .behaviour =
           {{kTcp, "TIME_WAIT holds the port", {"bind-same:EADDRINUSE"}},
            {{K::kUnixAbstract}, "the name is free", {"bind-same:ok"}}},
       // The close of an accepted socket, which shares the listener's port.
       .after = {"close"},
       .after_on = TriggerSocket::kConnection,
       .witness = "bind_over_time_wait"},
      {.id = "tcp_accepted_connection_holds_port",
       .statement = "A connection a TCP listener accepted is bound to the "
                    "listener's port: while it is open, the port cannot be "
                    "bound again, even after the listener closed. An "
                    "abstract UNIX name is free once the listener closed.",
       .source = "net/ipv4/inet_hashtables.c (__inet_inherit_port puts the "
                 "accepted socket in its listener's bind bucket); "
                 "net/unix/af_unix.c (only the bound socket is in the name "
                 "table)",
       .behaviour = {{kTcp,
                      "the accepted connection holds the port",
                      {"bind-same:EADDRINUSE"}},
                     {{K::kUnixAbstract},
                      "the name is free",
                      {"bind-same:ok"}}},
       .after = {"accept *"},
       .while_trigger_open = true,
       .witness = "accepted_connection_holds_port"},
      {.id = "tcp_close_states",
       .statement = "TCP connections pass through close states (FIN_WAIT2, "
                    "CLOSE_WAIT, TIME_WAIT...) that TCP_INFO and "
                    "/proc/net/tcp show; UNIX sockets have none, and TCP_INFO "
                    "on them is EOPNOTSUPP.",
       .source = "tcp(7), TCP_INFO; net/ipv4/tcp.c (tcp_set_state); "
                 "net/unix/af_unix.c (no SOL_TCP options)",
       .behaviour = {{kUnix,
                      "no TCP state",
                      {"tcp-state:EOPNOTSUPP", "tcp-state:closed"}},
                     {kTcp,
                      "a TCP state, or gone once fully closed",
                      {"tcp-state:ESTABLISHED", "tcp-state:FIN_WAIT?",
                       "tcp-state:CLOSE_WAIT", "tcp-state:CLOSE",
                       "tcp-state:TIME_WAIT", "tcp-state:LAST_ACK",
                       "tcp-state:CLOSING", "tcp-state:gone"}}},
       .witness = "tcp_close_states"},
  };
}

std::vector<Difference> OptionEntries() {
  return {
      {.id = "nonblocking_connect_completes_at_once_on_unix",
       .statement = "A non-blocking connect on a UNIX socket completes at "
                    "once; on TCP it returns EINPROGRESS, even over loopback "
                    "(and for a bound socket's first connect: reconnect is "
                    "non-blocking).",
       .source = "connect(2), ERRORS (EINPROGRESS); net/unix/af_unix.c "
                 "(unix_stream_connect); net/ipv4/af_inet.c "
                 "(__inet_stream_connect)",
       .behaviour = {{kUnixAddressed,
                      "connected at once",
                      {"connect-nb:ok", "reconnect:ok"}},
                     {kTcp,
                      "in progress",
                      {"connect-nb:EINPROGRESS", "reconnect:EINPROGRESS"}}},
       .witness = "nonblocking_connect"},
      {.id = "full_backlog_refuses_unix_connect",
       .statement = "With the listen backlog full, a non-blocking UNIX connect "
                    "fails with EAGAIN and leaves its socket unconnected "
                    "(poll OUT|HUP, send ENOTCONN); a TCP connect returns "
                    "EINPROGRESS and its SYN waits to be retried (no poll "
                    "events, send EAGAIN).",
       .source = "unix(7), ERRORS (EAGAIN); listen(2); net/ipv4/tcp_input.c "
                 "(tcp_conn_request drops the SYN); net/core/stream.c "
                 "(sk_stream_wait_connect: EAGAIN while connecting); "
                 "net/unix/af_unix.c (unix_poll, unix_stream_sendmsg)",
       .behaviour = {{kUnixAddressed,
                      "refused at once, unconnected",
                      {"connect-nb:EAGAIN", "reconnect:EAGAIN", "poll:OUT|HUP",
                       "send:ENOTCONN"}},
                     {kTcp,
                      "in progress",
                      {"connect-nb:EINPROGRESS", "reconnect:EINPROGRESS",
                       "poll:none", "send:EAGAIN"}}},
       .after = {"listen *", "relisten *"},
       .witness = "full_backlog"},
      {.id = "peercred_only_on_unix",
       .statement = "SO_PEERCRED gives the peer's pid, uid and gid on UNIX "
                    "sockets; on TCP there are none (pid 0, uid and gid -1).",
       .source = "unix(7), SO_PEERCRED; net/core/sock.c (sk_getsockopt)",
       .behaviour = {{kUnix,
                      "the peer's credentials",
                      {"peercred:pid=self uid=self gid=self",
                       "peercred:pid=other *"}},
                     {kTcp,
                      "no credentials",
                      {"peercred:pid=0 uid=4294967295 gid=4294967295"}}},
       .witness = "peer_credentials"},
      {.id = "tcp_nodelay_only_on_tcp",
       .statement = "TCP_NODELAY is a TCP option: setting it on a UNIX socket "
                    "fails with EOPNOTSUPP.",
       .source = "tcp(7), TCP_NODELAY; net/unix/af_unix.c (no SOL_TCP options)",
       .behaviour = {{kUnix, "refused", {"nodelay:EOPNOTSUPP"}},
                     {kTcp, "set", {"nodelay:ok"}}},
       .witness = "tcp_nodelay"},
      {.id = "scm_rights_only_on_unix",
       .statement = "Descriptors pass with SCM_RIGHTS only over UNIX sockets; "
                    "TCP carries the data byte and drops the descriptor.",
       .source = "unix(7), SCM_RIGHTS; net/ipv4/tcp.c (tcp_sendmsg ignores "
                 "SOL_SOCKET control messages)",
       .behaviour = {{kUnix, "the descriptor arrives", {"recv-fd:fd"}},
                     {kTcp, "no descriptor", {"recv-fd:no-fd"}}},
       .witness = "scm_rights"},
      {.id = "default_buffer_sizes",
       .statement = "Buffer sizes come from different settings for UNIX and "
                    "TCP sockets. A UNIX socket's are fixed numbers; a TCP "
                    "socket's are autotuned: the send buffer is sized from "
                    "the connection's cwnd and reordering, which start from "
                    "the kernel's cache of earlier connections to the same "
                    "address (so tcp4 and tcp6, and two runs, can differ), and "
                    "the receive buffer grows as data flows. TCP sizes, and "
                    "how much a sender queues before EAGAIN, are uncompared "
                    "details; a sender queues about 233 KB on UNIX and about "
                    "3.9 MB on TCP, so a send of 500 KB to a peer that does "
                    "not read waits (or is EAGAIN) on UNIX only, and what "
                    "the peer then reads differs.",
       .source = "socket(7), SO_SNDBUF and net.core.wmem_default; tcp(7), "
                 "tcp_wmem, tcp_rmem and tcp_no_metrics_save; "
                 "net/ipv4/tcp_input.c (tcp_sndbuf_expand) and "
                 "net/ipv4/tcp_metrics.c (tcp_init_metrics)",
       .behaviour = {{kUnix,
                      "net.core.wmem_default / rmem_default; a full buffer "
                      "stops a send",
                      {"sndbuf:*", "rcvbuf:*", "send:timeout", "send:EAGAIN"}},
                     {kTcp,
                      "autotuned; the number is a detail",
                      {"sndbuf:autotuned", "rcvbuf:autotuned", "send:ok"}}},
       .affects_received_data = true,
       .witness = "buffer_sizes"},
      {.id = "socket_names_by_kind",
       .statement = "getsockname and getpeername: socketpair ends are "
                    "unnamed; a UNIX client is unnamed and its peer is the "
                    "listener's path or abstract name; every TCP end has an "
                    "address and a port.",
       .source = "unix(7), Address format (unnamed, pathname, abstract); ip(7)",
       .behaviour = {{{K::kSocketpair},
                      "unnamed",
                      {"sockname:unnamed", "peername:unnamed"}},
                     {{K::kUnixPath},
                      "unnamed client, path of the listener",
                      {"sockname:unnamed", "sockname:path:*",
                       "peername:unnamed", "peername:path:*"}},
                     {{K::kUnixAbstract},
                      "unnamed client, abstract name of the listener",
                      {"sockname:unnamed", "sockname:abstract:*",
                       "peername:unnamed", "peername:abstract:*"}},
                     {kTcp,
                      "loopback address and port",
                      {"sockname:loopback:*", "peername:loopback:*"}}},
       .witness = "socket_names"},
      {.id = "only_unix_paths_are_files",
       .statement = "Only a UNIX path socket is a file: stat shows S_IFSOCK, "
                    "even after the listener closed; abstract names and TCP "
                    "ports are not in the filesystem.",
       .source = "unix(7), Address format (pathname, abstract)",
       .behaviour = {{{K::kUnixPath}, "a socket file", {"stat:socket"}},
                     {kAbstractAndTcp, "no path", {"stat:no-path"}}},
       .witness = "socket_path_stat"},
      {.id = "unix_path_permissions",
       .statement = "Connecting to a UNIX path needs search permission on its "
                    "directory and write permission on the socket file; "
                    "abstract names and TCP ports have no permissions. The "
                    "refused connect queues nothing, so an accept meant for "
                    "it waits on the path where the other kinds accept the "
                    "child's connection: a consequence of a connection made "
                    "on some kinds only, which the comparison allows "
                    "without an entry of its own.",
       .source = "unix(7), Pathname socket ownership and permissions; "
                 "abstract sockets ignore permissions",
       .behaviour = {{{K::kUnixPath},
                      "EACCES for another user",
                      {"connect-as-nobody:EACCES"}},
                     // The path's permission is checked before anything
                     // else (unix_find_bsd), so EACCES even where nothing
                     // listens.
                     {kAbstractAndTcp,
                      "anyone may connect (if something listens; it waits "
                      "for room in a full backlog)",
                      {"connect-as-nobody:ok", "connect-as-nobody:ECONNREFUSED",
                       "connect-as-nobody:timeout"}}},
       .witness = "socket_path_permissions"},
      {.id = "path_length_socket_only_on_unix",
       .statement = "bind-path-length makes a UNIX socket bound to a long "
                    "path or abstract name (or not, past 108 bytes: "
                    "unix_address_length); TCP has no path, so the step and "
                    "every later one on that socket, or naming it, is n/a.",
       .source = "unix(7), Address format",
       .behaviour = {{kUnixAddressed, "a UNIX socket", {"*:*"}},
                     {kTcp,
                      "no socket",
                      {"bind-path-length:no-path", "*:n/a"}}},
       .after = {"bind-path-length *"},
       .witness = "unix_path_length"},
      {.id = "unix_address_length",
       .statement = "A UNIX address holds at most 108 bytes of sun_path (a "
                    "path may fill it without a terminating NUL, an abstract "
                    "name's leading NUL counts); longer is EINVAL. TCP "
                    "addresses have no path.",
       .source = "unix(7), Address format and BUGS; net/unix/af_unix.c "
                 "(unix_validate_addr)",
       .behaviour = {{kUnixAddressed,
                      "up to 108 bytes",
                      {"bind-path-length:ok", "bind-path-length:EINVAL"}},
                     {kTcp, "no path", {"bind-path-length:no-path"}}},
       .witness = "unix_path_length"},
  };
}

std::vector<Difference> Entries() {
  std::vector<Difference> all = AddressEntries();
  for (std::vector<Difference> more :
       {EndingEntries(), ListenerEntries(), OptionEntries(), QueueEntries(),
        UnconnectedEntries()}) {
    all.insert(all.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
  }
  return all;
}

}  // namespace

const DifferenceRegistry& DifferenceRegistry::Default() {
  static const auto* registry = new DifferenceRegistry(Entries());
  return *registry;
}

const DifferenceRegistry& DifferenceRegistry::InEffect() {
  static const auto* registry = [] {
    const char* hidden = std::getenv("SOCKPARITY_REGISTRY_WITHOUT");
    const std::vector<std::string> ids =
        hidden == nullptr ? std::vector<std::string>{}
                          : absl::StrSplit(hidden, ',', absl::SkipEmpty());
    absl::StatusOr<DifferenceRegistry> kept = Default().Without(ids);
    if (!kept.ok()) {
      // A misspelt id hiding nothing would let a run pass for the wrong
      // reason.
      std::fprintf(stderr, "SOCKPARITY_REGISTRY_WITHOUT: %s\n",
                   std::string(kept.status().message()).c_str());
      std::_Exit(2);
    }
    return new DifferenceRegistry(*std::move(kept));
  }();
  return *registry;
}

}  // namespace sockparity
