// The registry's entries on sockets that are not (or not yet) connected:
// listeners and bound sockets, refused non-blocking connects, a connect
// repeated, and the connections a closing listener had queued. UNIX
// sockets check their state (af_unix.c); TCP checks the socket's
// SS_* state and the TCP state machine (af_inet.c, tcp.c).
#include "script/registry_entries.h"

namespace sockparity::internal {
namespace {

// The steps that make a socket that never connects: what the entries on
// unconnected sockets apply after.
const std::vector<std::string> kUnconnected = {
    "listen *", "relisten *", "bind", "bind-same *", "bind-path-length *"};

}  // namespace

std::vector<Difference> UnconnectedEntries() {
  return {
      {.id = "tcp_listen_picks_a_port_for_an_unbound_socket",
       .statement = "A socket never bound (its blocking connect gave up "
                    "on a full backlog) can listen on TCP, which picks a "
                    "free port for it as a connect would; a UNIX socket "
                    "must be bound to listen (EINVAL).",
       .source = "listen(2), ERRORS (EINVAL for UNIX); net/unix/af_unix.c "
                 "(unix_listen: no listen on an unbound socket); "
                 "net/ipv4/inet_connection_sock.c (inet_csk_listen_start: "
                 "get_port with port 0 chooses one)",
       // What the socket then does differs with it: it listens on TCP only
       // (a socket set up on one kind only).
       .behaviour = {{kUnixAddressed, "refused", {"relisten:EINVAL"}},
                     {kTcp, "listens on a port it is given", {"relisten:ok"}}},
       .after = {"connect *"},
       .witness = "listen_on_unbound_socket"},
      {.id = "tcp_reset_frees_a_port_the_kernel_chose",
       .statement = "A TCP socket on a port the kernel chose (a bind to "
                    "port 0, or a connect's) gives the port back when its "
                    "connection is reset: a bind to that address then "
                    "succeeds. A UNIX socket holds its name until it is "
                    "closed (EADDRINUSE).",
       .source = "net/ipv4/af_inet.c (__inet_bind: SOCK_BINDPORT_LOCK only "
                 "for a port the caller named); net/ipv4/tcp.c "
                 "(tcp_set_state: TCP_CLOSE puts the port back unless "
                 "locked); net/unix/af_unix.c (the name is released in "
                 "unix_release_sock)",
       .behaviour = {{kUnixAddressed,
                      "name still held",
                      {"bind-same:EADDRINUSE"}},
                     {kTcp, "port free", {"bind-same:ok"}}},
       // What resets a connection: the peer's close with data unread, its
       // abort, or its listener's close with it queued. (A listener's
       // shutdown(SHUT_RD) resets them too, but on a bound socket that
       // listens later it resets nothing.)
       .after = {"close"},
       .witness = "bind_after_reset_of_kernel_chosen_port"},
      {.id = "io_on_unconnected_socket",
       .statement = "Reading from a socket that was never connected (a "
                    "listener, a bound socket) is EINVAL on UNIX and ENOTCONN "
                    "on TCP; writing to it is ENOTCONN on UNIX and EPIPE on "
                    "TCP.",
       .source = "net/unix/af_unix.c (unix_stream_read_generic: EINVAL "
                 "unless TCP_ESTABLISHED; unix_stream_sendmsg: ENOTCONN "
                 "without a peer); net/ipv4/tcp.c (tcp_recvmsg_locked: "
                 "ENOTCONN in LISTEN or CLOSE); net/core/stream.c "
                 "(sk_stream_wait_connect: EPIPE unless connecting)",
       .behaviour = {{kUnixAddressed, "EINVAL to read, ENOTCONN to write",
                      Patterns({Reads("EINVAL"), Writes("ENOTCONN")})},
                     {kTcp, "ENOTCONN to read, EPIPE to write",
                      Patterns({Reads("ENOTCONN"), Writes("EPIPE")})}},
       .after = kUnconnected,
       .witness = "unconnected_socket_io"},
      {.id = "read_after_shut_rd_of_unconnected_tcp_socket_is_eof",
       .statement = "Once a TCP socket that is not connected has shut down "
                    "reading (a bound socket: shutdown marks it though it "
                    "answers ENOTCONN; a listener: only a second shutdown, "
                    "since the first one's disconnect clears the marks), a "
                    "read returns end of stream: tcp_recvmsg looks at "
                    "RCV_SHUTDOWN before the state. A UNIX socket that is "
                    "not connected refuses every read with EINVAL.",
       .source = "net/ipv4/tcp.c (tcp_recvmsg_locked: RCV_SHUTDOWN ends the "
                 "read before the TCP_CLOSE check gives ENOTCONN; "
                 "tcp_disconnect clears sk_shutdown); net/ipv4/af_inet.c "
                 "(inet_shutdown: ENOTCONN in TCP_CLOSE, marks it anyway); "
                 "net/unix/af_unix.c (unix_stream_read_generic: EINVAL "
                 "unless TCP_ESTABLISHED)",
       .behaviour = {{kUnixAddressed, "not connected", Reads("EINVAL")},
                     {kTcp, "end of stream", Reads("eof")}},
       .after = {"shutdown rd"},
       .witness = "unconnected_socket_read_after_shut_rd"},
      {.id = "tcp_reuseaddr_sockets_share_a_port",
       .statement = "Two sockets with SO_REUSEADDR may bind the same TCP "
                    "port while neither listens; a UNIX name (a path or an "
                    "abstract name) is bound by one socket at a time. Seen "
                    "once the address's listener is closed and a second "
                    "socket binds it again; once one of them listens, a "
                    "connect to either's address reaches it on TCP.",
       .source = "socket(7), SO_REUSEADDR; net/ipv4/inet_connection_sock.c "
                 "(inet_bind_conflict: no conflict between two reusing "
                 "sockets not in LISTEN); net/unix/af_unix.c (unix_bind: "
                 "EADDRINUSE while the name is bound)",
       // A path is still taken by the file the listener left
       // (socket_file_outlives_listener); an abstract name shows this.
       // Once one of the sharers listens, a connect to the other's address
       // reaches it on TCP (one port); the abstract name's only holder
       // does not listen.
       .behaviour = {{{K::kUnixAbstract},
                      "the name is taken",
                      {"bind-same:EADDRINUSE", "*:closed",
                       "connect:ECONNREFUSED", "connect-nb:ECONNREFUSED",
                       "connect-as-nobody:ECONNREFUSED"}},
                     {kTcp, "the port is shared", {"bind-same:ok", "*:*"}}},
       .after = {"close"},
       // Sharing needs SO_REUSEADDR on the address's sockets.
       .and_after = {"listen * reuseaddr", "bind-same * reuseaddr"},
       .witness = "reuseaddr_binds_after_close"},
      {.id = "shutdown_of_unconnected_socket",
       .statement = "shutdown on a socket that was never connected (a bound "
                    "socket, a listener TCP already stopped) succeeds on "
                    "UNIX; TCP refuses it with ENOTCONN.",
       .source = "shutdown(2), ERRORS (ENOTCONN); net/ipv4/af_inet.c "
                 "(inet_shutdown: ENOTCONN in TCP_CLOSE); net/unix/af_unix.c "
                 "(unix_shutdown checks no state)",
       .behaviour = {{kUnixAddressed, "shut down", {"shutdown:ok"}},
                     {kTcp, "not connected", {"shutdown:ENOTCONN"}}},
       .after = kUnconnected,
       .witness = "unconnected_socket_io"},
      {.id = "nonblocking_connect_refused_later_on_tcp",
       .statement = "A non-blocking connect where nothing listens (a closed "
                    "or stopped listener, a bound socket) fails at once on "
                    "UNIX with ECONNREFUSED; on TCP it returns EINPROGRESS "
                    "and the reset arrives after it, or, where the address "
                    "is the socket's own port, the SYN it sends is the one "
                    "it receives and it connects to itself (a simultaneous "
                    "open): what it sends it reads back. The refused UNIX "
                    "socket is closed by the runner (every later step on it "
                    "is 'closed'); the TCP one stays open, ECONNREFUSED "
                    "pending, and its later steps are not compared: it is "
                    "a socket on one kind only.",
       .source = "connect(2), ERRORS (EINPROGRESS, ECONNREFUSED); "
                 "net/unix/af_unix.c (unix_stream_connect refuses at once a "
                 "peer not listening); net/ipv4/tcp_ipv4.c (tcp_v4_connect "
                 "only sends the SYN); net/ipv4/tcp_input.c (tcp_reset: "
                 "ECONNREFUSED in SYN_SENT; tcp_rcv_synsent_state_process: "
                 "a SYN without ACK in SYN_SENT is RFC 793's simultaneous "
                 "open)",
       // reconnect is a non-blocking connect of a socket already open.
       .behaviour = {{kUnixAddressed,
                      "refused at once",
                      {"connect-nb:ECONNREFUSED", "reconnect:ECONNREFUSED"}},
                     {kTcp,
                      "in progress",
                      {"connect-nb:EINPROGRESS", "reconnect:EINPROGRESS"}}},
       // What leaves an address with nothing listening; the connect names
       // it.
       .after = {"close", "shutdown rd", "bind", "bind-same *",
                 "bind-path-length *"},
       .witness = "nonblocking_connect_refused"},
      {.id = "reconnect_after_nonblocking_connect",
       .statement = "After a non-blocking connect completed, connecting again "
                    "is EISCONN on UNIX; on TCP the socket is still marked "
                    "connecting, so the next connect succeeds (and marks it "
                    "connected) and only the one after is EISCONN.",
       .source = "connect(2); net/ipv4/af_inet.c (__inet_stream_connect: "
                 "SS_CONNECTING with the handshake done becomes "
                 "SS_CONNECTED, returning 0); net/unix/af_unix.c "
                 "(unix_stream_connect: EISCONN when established)",
       // Still marked connecting, a TCP socket whose connection was reset
       // meanwhile returns the reset's error (or ECONNABORTED once it was
       // read) and is disconnected
       // (tcp_connect_again_after_a_reset_disconnects).
       .behaviour = {{kUnixAddressed,
                      "already connected",
                      {"reconnect:EISCONN"}},
                     {kTcp,
                      "connected now",
                      {"reconnect:ok", "reconnect:ECONNRESET",
                       "reconnect:ECONNABORTED"}}},
       .after = {"connect-nb *", "reconnect *"},
       .witness = "reconnect_repeated"},
      {.id = "tcp_connect_again_after_a_reset_disconnects",
       .statement = "Connecting again a TCP socket whose non-blocking "
                    "connect (a connect-nb, or a bound socket's first "
                    "reconnect) was reset (its listener closed or stopped with "
                    "it queued) fails with the pending error, or "
                    "ECONNABORTED once that was read, and disconnects the "
                    "socket: it is unconnected again, so reads give "
                    "ENOTCONN, poll shows OUT|HUP and SIOCOUTQ the "
                    "max_window + 2 that the disconnect moved write_seq on "
                    "by. On UNIX the connect is refused at its target and "
                    "leaves the socket as it was: reads give end of stream, "
                    "its pending error stays, and a connect to a target "
                    "that listens gives EISCONN where TCP's starts a new "
                    "connection. The reset may also come from the "
                    "accepted peer's abort.",
       .source = "net/ipv4/af_inet.c (__inet_stream_connect: SS_CONNECTING "
                 "in TCP_CLOSE gives sock_error or ECONNABORTED, then "
                 "sk_prot->disconnect); net/ipv4/tcp.c (tcp_disconnect "
                 "clears sk_shutdown, adds max_window + 2 to write_seq); "
                 "net/unix/af_unix.c (unix_stream_connect looks the target "
                 "up first)",
       .behaviour =
           {{kUnixAddressed, "as it was",
             Patterns({{"poll:IN|OUT|RDHUP|HUP", "epoll-level:IN|OUT|RDHUP|HUP",
                        // the reset's error still pending
                        "poll:IN|OUT|RDHUP|ERR|HUP",
                        "epoll-level:IN|OUT|RDHUP|ERR|HUP",
                        "so-error:ECONNRESET", "outq:0",
                        // the connect itself: refused at its
                        // target, or, when that listens, still
                        // connected to a peer that is gone
                        "reconnect:ECONNREFUSED", "reconnect:EISCONN"},
                       Reads("eof"),
                       Reads("ECONNRESET"),
                       // a connection a listener's shutdown(SHUT_RD)
                       // left queued is alive on UNIX
                       Reads("EAGAIN"),
                       Reads("timeout"),
                       ReadsData()})},
            {kTcp, "disconnected",
             Patterns({{"poll:OUT|HUP", "epoll-level:OUT|HUP", "so-error:0",
                        "outq:*",
                        // the connect itself: the pending error,
                        // or ECONNABORTED once it was read; then,
                        // unconnected, the next one starts a new
                        // connection
                        "reconnect:ECONNRESET", "reconnect:ECONNABORTED",
                        "reconnect:EINPROGRESS", "reconnect:ok"},
                       Reads("ENOTCONN")})}},
       .after = {"reconnect *"},
       // A bound socket's first reconnect is a non-blocking connect too.
       .and_after = {"connect-nb *", "reconnect *"},
       .after_on = TriggerSocket::kConnection,
       .witness = "connect_again_after_reset"},
      {.id = "tcp_connecting_socket_shut_down_after_a_reset_refuses_connect",
       .statement = "A TCP socket whose non-blocking connect was reset and "
                    "which was then shut down (shutdown gives ENOTCONN) is "
                    "disconnecting: connect on it is EINVAL and leaves it as "
                    "it was, its reset's error still pending. A UNIX "
                    "socket's connect looks at the target first "
                    "(unix_connect_checks_the_target_first).",
       .source = "net/ipv4/af_inet.c (inet_shutdown turns SS_CONNECTING in "
                 "TCP_CLOSE into SS_DISCONNECTING; __inet_stream_connect "
                 "refuses that state with EINVAL); net/unix/af_unix.c "
                 "(unix_stream_connect: unix_find_other first)",
       .behaviour = {{kUnixAddressed,
                      "the target first",
                      {"reconnect:ECONNREFUSED", "reconnect:EAGAIN",
                       "reconnect:EISCONN"}},
                     {kTcp, "disconnecting", {"reconnect:EINVAL"}}},
       .after = {"shutdown *"},
       // A bound socket's reconnect is a non-blocking connect too.
       .and_after = {"connect-nb *", "reconnect *"},
       .after_on = TriggerSocket::kConnection,
       .witness = "connect_after_shutting_down_a_reset_connect"},
      {.id = "connect_on_listener",
       .statement = "connect on a listening socket is EINVAL on UNIX and "
                    "EISCONN on TCP.",
       .source = "net/unix/af_unix.c (unix_stream_connect: EINVAL unless "
                 "TCP_CLOSE or established); net/ipv4/af_inet.c "
                 "(__inet_stream_connect: SS_UNCONNECTED with sk_state not "
                 "TCP_CLOSE is EISCONN)",
       // unix_stream_connect looks the target up first: one that does not
       // listen (any more) refuses before the socket's own state counts.
       .behaviour = {{kUnixAddressed,
                      "invalid",
                      {"reconnect:EINVAL", "reconnect:ECONNREFUSED"}},
                     {kTcp, "already connected", {"reconnect:EISCONN"}}},
       .after = {"listen *", "relisten *"},
       .witness = "reconnect_on_listener"},
      {.id = "unix_connect_checks_the_target_first",
       .statement = "connect on a socket that is connected or listening "
                    "looks at the target first on UNIX: one that does not "
                    "listen refuses it (ECONNREFUSED), a full backlog makes "
                    "it wait for room and fail (EAGAIN). TCP answers from "
                    "the socket's own state at once: EISCONN, or 0 for the "
                    "first connect after a non-blocking one completed "
                    "(reconnect_after_nonblocking_connect).",
       .source = "connect(2), EAGAIN, ECONNREFUSED; net/unix/af_unix.c "
                 "(unix_stream_connect: unix_find_other, the peer's "
                 "TCP_LISTEN check and unix_recvq_full come before the "
                 "TCP_ESTABLISHED/TCP_LISTEN checks of the socket itself); "
                 "net/ipv4/af_inet.c (__inet_stream_connect: EISCONN, or "
                 "SS_CONNECTING with the handshake done returns 0)",
       .behaviour = {{kUnixAddressed,
                      "the target first",
                      {"reconnect:EAGAIN", "reconnect:ECONNREFUSED"}},
                     // (a connecting socket whose connection was reset: its
                     // error, tcp_connect_again_after_a_reset_disconnects;
                     // EPIPE when a FIN came before the reset, as from a
                     // listener that passed its shutdown on: tcp_reset in
                     // CLOSE_WAIT)
                     {kTcp,
                      "its own state first",
                      {"reconnect:EISCONN", "reconnect:ok",
                       "reconnect:ECONNRESET", "reconnect:EPIPE",
                       "reconnect:ECONNABORTED"}}},
       .witness = "reconnect_meets_the_target_first"},
      {.id = "unix_path_of_108_bytes_comes_back_too_long",
       .statement = "A socket bound to a path of 108 bytes (sun_path full, "
                    "no NUL) reports its address with the NUL the kernel "
                    "added: 111 bytes, longer than a sockaddr_un, so "
                    "connecting to or binding the address it reports is "
                    "EINVAL. A 108-byte abstract name comes back as it was "
                    "bound.",
       .source = "unix(7), BUGS (108 non-null bytes); net/unix/af_unix.c "
                 "(unix_bind_bsd: addr_len = strlen + 1; "
                 "unix_validate_addr: EINVAL above sizeof(sockaddr_un))",
       .behaviour = {{{K::kUnixPath},
                      "its reported address is refused",
                      {"connect:EINVAL", "connect-nb:EINVAL",
                       "reconnect:EINVAL", "connect-as-nobody:EINVAL",
                       "bind-same:EINVAL"}},
                     {{K::kUnixAbstract},
                      "its name works",
                      {"connect:*", "connect-nb:*", "reconnect:*",
                       "connect-as-nobody:*", "bind-same:*"}}},
       .after = {"bind-path-length 108"},
       .witness = "unix_path_of_108_bytes"},
      {.id = "tcp_listener_state",
       .statement = "TCP_INFO on a TCP listener shows LISTEN; a UNIX listener "
                    "has no TCP state (EOPNOTSUPP), as tcp_close_states says "
                    "of connections.",
       .source = "tcp(7), TCP_INFO; net/ipv4/tcp.c (tcp_get_info); "
                 "net/unix/af_unix.c (no SOL_TCP options)",
       .behaviour = {{kUnixAddressed, "no TCP state", {"tcp-state:EOPNOTSUPP"}},
                     {kTcp, "listening", {"tcp-state:LISTEN"}}},
       .after = {"listen *", "relisten *"},
       .after_on = TriggerSocket::kAny,
       .witness = "tcp_listener_state"},
      {.id = "closed_listener_resets_queued_connections",
       .statement = "A listener closed with connections queued ends them: on "
                    "UNIX each queued client's peer is released, which "
                    "leaves ECONNRESET pending (a read returns it, a write "
                    "fails with EPIPE first and leaves it); on TCP the "
                    "listener resets them, and the reset's ECONNRESET is "
                    "what the next read or write returns (and clears).",
       .source = "net/unix/af_unix.c (unix_release_sock releases the "
                 "embryos in its queue and sets ECONNRESET on their peers; "
                 "unix_stream_sendmsg: EPIPE first); "
                 "net/ipv4/inet_connection_sock.c (inet_csk_listen_stop: "
                 "inet_child_forget disconnects each child, which sends a "
                 "reset); net/ipv4/tcp.c (tcp_sendmsg returns sk_err)",
       .behaviour = {{kUnixAddressed,
                      "ECONNRESET pending; writes fail with EPIPE",
                      Patterns({Writes("EPIPE"),
                                {"so-error:ECONNRESET", "so-error:0",
                                 // the error a write left pending
                                 "poll:IN|OUT|RDHUP|ERR|HUP"},
                                Reads("ECONNRESET")})},
                     {kTcp, "the reset's error, returned once",
                      Patterns({Writes("ECONNRESET"),
                                Writes("EPIPE"),
                                {"so-error:0", "so-error:ECONNRESET",
                                 // the write took the error
                                 "poll:IN|OUT|RDHUP|HUP"},
                                Reads("eof")})}},
       .after = {"close"},
       .after_on = TriggerSocket::kListener,
       .witness = "listener_closed_with_queue"},
  };
}

}  // namespace sockparity::internal
