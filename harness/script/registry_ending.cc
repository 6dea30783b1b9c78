// The registry's entries on how connections end: aborts, shutdowns, closes,
// and the errors they leave pending. Each was found by running the scripts
// in corpus/scripts on Linux and is confirmed by its witness.
#include "script/registry_entries.h"

namespace sockparity::internal {

std::vector<Difference> EndingEntries() {
  return {
      {.id = "linger_zero_resets_only_tcp",
       .statement = "Closing with SO_LINGER {1, 0} resets a TCP connection, so "
                    "the peer sees ECONNRESET on any read (EPIPE as the "
                    "pending error when the reset came after the closer's "
                    "FIN); UNIX sockets ignore the linger time and the peer "
                    "sees an orderly end of stream.",
       .source = "socket(7), SO_LINGER; tcp(7); net/ipv4/tcp_input.c "
                 "(tcp_reset: EPIPE in CLOSE_WAIT); net/unix/af_unix.c "
                 "(unix_release_sock)",
       // An out-of-band byte sent before the abort stays readable on UNIX
       // once, and then there is none (unix_stream_recv_urg: EINVAL); TCP's
       // CLOSE state refuses recv(MSG_OOB) (tcp_recv_urg: ENOTCONN).
       .behaviour = {{kUnix, "end of stream",
                      Patterns({{"poll:IN|OUT|RDHUP|HUP", "so-error:0",
                                 "recv-oob:data", "recv-oob:EINVAL"},
                                Reads("eof")})},
                     {kTcp, "connection reset",
                      Patterns(
                          {{"poll:IN|OUT|RDHUP|ERR|HUP", "so-error:ECONNRESET",
                            "so-error:EPIPE", "recv-oob:ENOTCONN"},
                           Reads("ECONNRESET")})}},
       .after = {"abort"},
       .after_on = TriggerSocket::kConnection,
       .witness = "linger_zero"},
      {.id = "shutdown_rd_is_local_on_tcp",
       .statement = "shutdown(SHUT_RD) on a UNIX socket also ends the peer's "
                    "writes (EPIPE); on TCP it is local, so the peer's writes "
                    "succeed and the data can still be read (until the socket "
                    "also shuts down writing: "
                    "tcp_resets_data_after_full_shutdown). The UNIX shutdown "
                    "wakes the peer, a new edge for edge-triggered epoll; "
                    "on TCP the peer learns nothing.",
       .source = "shutdown(2); net/unix/af_unix.c (unix_shutdown sets the "
                 "peer's SEND_SHUTDOWN and calls its sk_state_change); "
                 "net/ipv4/tcp.c (tcp_shutdown acts on SEND_SHUTDOWN only)",
       // TCP queues what arrives after SHUT_RD as ever (tcp_data_queue
       // does not look at RCV_SHUTDOWN), so reads return it.
       .behaviour = {{kUnix, "the peer cannot write",
                      // With nothing queued the writer stays writable.
                      Patterns({Writes("EPIPE"),
                                Reads("eof"),
                                // Nothing queued to read ahead of the
                                // reset a peer closing with its own data
                                // unread leaves (unix_release_sock); on
                                // TCP the data that came is read first.
                                Reads("ECONNRESET"),
                                // No urgent byte came.
                                {"recv-oob:EINVAL", "poll:+OUT", "poll:-PRI",
                                 // Nothing arrived to count.
                                 "inq:0",
                                 // nor to wake an edge-triggered epoll
                                 "epoll-edge:-IN", "epoll-edge:-OUT",
                                 "epoll-edge:-RDHUP",
                                 // but the shutdown itself wakes the peer
                                 "epoll-edge:+IN", "epoll-edge:+OUT"}})},
                     {kTcp, "the peer's data arrives",
                      // Writes go through, or wait for room like any.
                      Patterns({Writes("ok"),
                                Writes("EAGAIN"),
                                Writes("timeout"),
                                {"recv:data", "peek:data", "recv-exactly:ok",
                                 "recv-waitall:ok", "recv-fd:no-fd",
                                 "recv-oob:data", "poll:-OUT",
                                 // Urgent data from the peer is pending too.
                                 "poll:+PRI",
                                 // SIOCINQ counts what arrived.
                                 "inq:*",
                                 // Each arrival is a new edge, reported
                                 // with every event then ready.
                                 "epoll-edge:+IN", "epoll-edge:+OUT",
                                 "epoll-edge:+RDHUP",
                                 // The shutdown sends nothing: no edge.
                                 "epoll-edge:-IN", "epoll-edge:-OUT"}})}},
       .after = {"shutdown rd"},
       .after_on = TriggerSocket::kConnection,
       .affects_received_data = true,
       .witness = "shutdown_rd_then_peer_writes"},
      {.id = "tcp_resets_data_after_full_shutdown",
       .statement = "Data arriving at a TCP socket that shut down reading and "
                    "writing is answered with a reset (RFC 1122): the "
                    "receiver's pending error and reads are ECONNRESET, the "
                    "sender's pending error EPIPE. On UNIX the sender's write "
                    "already fails with EPIPE and nothing is pending.",
       .source = "RFC 1122, 4.2.2.13; net/ipv4/tcp_input.c "
                 "(tcp_rcv_state_process resets data in FIN_WAIT1/2 after "
                 "SHUT_RD; tcp_reset); net/unix/af_unix.c (unix_shutdown "
                 "sets the peer's SEND_SHUTDOWN)",
       // The side that shut down writes into its own SEND_SHUTDOWN on UNIX
       // (EPIPE) and, on TCP, meets the reset it sent first (ECONNRESET).
       .behaviour = {{kUnix, "the write is refused",
                      Patterns({{"send:EPIPE", "poll:IN|OUT|RDHUP|HUP",
                                 "poll:-ERR", "poll:-PRI", "so-error:0",
                                 // an urgent byte that came before the
                                 // shutdown stays readable out of band;
                                 // without one, unix_stream_recv_urg
                                 // refuses (EINVAL)
                                 "recv-oob:data", "recv-oob:EINVAL",
                                 "epoll-level:IN|OUT|RDHUP|HUP",
                                 // nothing new happened: no edge
                                 "epoll-edge:none"},
                                Reads("eof"),
                                Writes("EPIPE")})},
                     {kTcp, "the data is answered with a reset",
                      Patterns({Writes("ok"),
                                {"poll:IN|OUT|RDHUP|ERR|HUP",
                                 "so-error:ECONNRESET", "so-error:EPIPE",
                                 // the reset's error; an urgent byte in the
                                 // reset segment was taken first (tcp_urg
                                 // comes before the text in
                                 // tcp_rcv_state_process)
                                 "poll:+ERR", "poll:+PRI",
                                 // in CLOSE, tcp_recv_urg refuses
                                 "recv-oob:ENOTCONN",
                                 // the reset is a new edge
                                 "epoll-level:IN|OUT|RDHUP|ERR|HUP",
                                 "epoll-edge:IN|OUT|RDHUP|ERR|HUP"},
                                Reads("ECONNRESET"),
                                Writes("ECONNRESET")})}},
       .after = {"shutdown rd"},
       .after_on = TriggerSocket::kConnection,
       .witness = "data_after_shutdown_rd_and_wr"},
      {.id = "tcp_first_write_after_peer_close_succeeds",
       .statement = "After the peer has closed, the first write on TCP "
                    "succeeds (the peer answers it with a reset, which leaves "
                    "EPIPE pending: SO_ERROR, POLLERR, a new edge for "
                    "edge-triggered epoll) and only later writes fail with "
                    "EPIPE; on UNIX sockets the first write already fails "
                    "with EPIPE and nothing is pending.",
       .source = "tcp(7); send(2), ERRORS (EPIPE); net/ipv4/tcp_input.c "
                 "(tcp_reset: EPIPE in CLOSE_WAIT); net/unix/af_unix.c "
                 "(unix_stream_sendmsg checks the peer's shutdown)",
       .behaviour = {{kUnix, "EPIPE at once",
                      Patterns({Writes("EPIPE"),
                                {"so-error:0", "poll:IN|OUT|RDHUP|HUP",
                                 "epoll-edge:none"}})},
                     {kTcp, "the first write is accepted",
                      Patterns({Writes("ok"),
                                {"so-error:EPIPE", "poll:IN|OUT|RDHUP|ERR|HUP",
                                 "epoll-edge:IN|OUT|RDHUP|ERR|HUP",
                                 // a later write took the error
                                 "epoll-edge:IN|OUT|RDHUP|HUP"}})}},
       .after = {"close"},
       .after_on = TriggerSocket::kConnection,
       .witness = "write_after_peer_close"},
      {.id = "tcp_reset_comes_before_a_held_back_fin",
       .statement = "When the peer closed with its send queue full (after a "
                    "fill), its FIN waits behind that data "
                    "(tcp_fin_waits_behind_unsent_data), so the reset a "
                    "write then draws comes while the connection is still "
                    "established: ECONNRESET is pending and reads return it "
                    "after the bytes that came. On UNIX the write fails with "
                    "EPIPE, nothing is pending and reads end at the end of "
                    "stream.",
       .source = "net/ipv4/tcp_input.c (tcp_reset: ECONNRESET before "
                 "CLOSE_WAIT, EPIPE in it); net/ipv4/tcp_output.c "
                 "(tcp_send_fin queues the FIN on the last segment); "
                 "net/unix/af_unix.c (unix_stream_sendmsg checks the peer's "
                 "shutdown)",
       .behaviour = {{kUnix, "nothing pending, the end of stream",
                      Patterns({Reads("eof"), {"so-error:0"}})},
                     {kTcp, "reset before the FIN came",
                      Patterns(
                          {Reads("ECONNRESET"), {"so-error:ECONNRESET"}})}},
       // What holds the FIN back: the full queue a fill leaves.
       .after = {"fill"},
       .after_on = TriggerSocket::kConnection,
       .witness = "reads_after_reset_before_fin"},
      {.id = "pending_error_after_peer_reset",
       .statement = "A peer that closes with data unread leaves an error "
                    "pending, which the kinds report differently. UNIX: "
                    "ECONNRESET, which a read returns before the end of "
                    "stream while a write fails with EPIPE and leaves it. "
                    "TCP: the reset is ECONNRESET, which the next write "
                    "returns and clears, or EPIPE after the peer's FIN, "
                    "which reads do not return (the FIN ends the stream "
                    "first).",
       .source = "net/unix/af_unix.c (unix_release_sock sets ECONNRESET on "
                 "the peer when data was unread; unix_stream_sendmsg fails "
                 "with EPIPE first; unix_stream_read_generic returns the "
                 "error before the end); net/ipv4/tcp_input.c (tcp_reset); "
                 "net/ipv4/tcp.c (tcp_recvmsg stops at the FIN; "
                 "tcp_sendmsg returns sk_err)",
       .behaviour = {{kUnix, "ECONNRESET pending; writes fail with EPIPE",
                      Patterns({Writes("EPIPE"),
                                {"so-error:ECONNRESET", "so-error:0"},
                                Reads("ECONNRESET"),
                                Reads("eof"),
                                // The pending error shows in poll as ERR
                                // until a call takes it.
                                {"poll:+ERR", "poll:-ERR",
                                 // an urgent byte that came before stays
                                 // readable out of band
                                 "recv-oob:data"}})},
                     {kTcp, "ECONNRESET or, after a FIN, EPIPE pending",
                      Patterns({Writes("ECONNRESET"),
                                Writes("EPIPE"),
                                {"so-error:0", "so-error:EPIPE"},
                                Reads("eof"),
                                {"poll:+ERR", "poll:-ERR",
                                 // in CLOSE, tcp_recv_urg refuses
                                 "recv-oob:ENOTCONN"}})}},
       .after = {"close"},
       .after_on = TriggerSocket::kConnection,
       .witness = "peer_reset_with_unread_data"},
      {.id = "tcp_poll_out_after_own_shut_wr",
       .statement = "After a socket shuts down writing with its send queue "
                    "full, poll on TCP reports POLLOUT (a writer then sees "
                    "the error); a UNIX socket reports POLLOUT only when its "
                    "queue has room, shut down or not.",
       .source = "net/ipv4/tcp.c (tcp_poll: EPOLLOUT once SEND_SHUTDOWN); "
                 "net/unix/af_unix.c (unix_poll: EPOLLOUT only while "
                 "unix_writable)",
       .behaviour = {{kUnix, "not writable", {"poll:-OUT"}},
                     {kTcp, "writable", {"poll:+OUT"}}},
       .after = {"shutdown wr", "shutdown rdwr"},
       .after_on = TriggerSocket::kConnection,
       .witness = "shut_wr_with_full_queue_poll"},
      {.id = "tcp_fin_waits_behind_unsent_data",
       .statement = "A TCP FIN (of a shutdown or a close) is queued behind "
                    "the data not yet sent: with the send queue full, the "
                    "peer sees no end of stream (no POLLRDHUP) until it has "
                    "read what came before. A UNIX shutdown or close "
                    "reaches the peer at once.",
       .source = "net/ipv4/tcp_output.c (tcp_send_fin: the FIN goes on the "
                 "last queued segment); net/unix/af_unix.c (unix_shutdown "
                 "sets the peer's RCV_SHUTDOWN)",
       // The UNIX shutdown wakes the peer (a new edge, with RDHUP); the
       // TCP FIN that waits wakes nothing yet.
       .behaviour = {{kUnix,
                      "end of stream seen",
                      // event by event: the peer may be full itself
                      {"poll:IN|OUT|RDHUP", "poll:IN|OUT|RDHUP|HUP",
                       "poll:+RDHUP", "epoll-level:+RDHUP", "epoll-edge:+IN",
                       "epoll-edge:+OUT", "epoll-edge:+RDHUP"}},
                     {kTcp,
                      "not yet",
                      {"poll:IN|OUT", "poll:-RDHUP", "epoll-level:-RDHUP",
                       "epoll-edge:-IN", "epoll-edge:-OUT",
                       "epoll-edge:-RDHUP"}}},
       .after = {"shutdown wr", "shutdown rdwr", "close"},
       .after_on = TriggerSocket::kConnection,
       .witness = "shut_wr_with_full_queue_fin"},
      {.id = "poll_hup_on_peer_close",
       .statement = "After the peer closes, or shuts down reading and "
                    "writing, poll on a UNIX socket reports POLLHUP; a TCP "
                    "socket reports only POLLRDHUP, since POLLHUP needs both "
                    "directions shut down.",
       .source = "poll(2); net/unix/af_unix.c (unix_shutdown mirrors a "
                 "shutdown onto the peer; unix_poll); net/ipv4/tcp.c "
                 "(tcp_poll)",
       .behaviour = {{kUnix, "POLLHUP", {"poll:+HUP"}},
                     {kTcp, "no POLLHUP while writing is open", {"poll:-HUP"}}},
       .after = {"close", "shutdown rd"},
       .after_on = TriggerSocket::kConnection,
       .witness = "poll_after_close_shutdown_reset"},
      {.id = "tcp_closed_connection_is_not_connected",
       .statement = "A TCP socket whose connection reached CLOSE (after a "
                    "reset, its listener's close while it was queued, or "
                    "FINs both ways) is no longer connected: "
                    "shutdown and getpeername fail with ENOTCONN. A UNIX "
                    "socket stays connected and keeps its peer's name.",
       .source = "shutdown(2), getpeername(2), ERRORS (ENOTCONN); "
                 "net/ipv4/af_inet.c (inet_shutdown, inet_getname); "
                 "net/unix/af_unix.c (unix_shutdown, unix_getname)",
       .behaviour = {{kUnix,
                      "still connected",
                      {"shutdown:ok", "peername:unnamed", "peername:path:*",
                       "peername:abstract:*"}},
                     {kTcp,
                      "not connected",
                      {"shutdown:ENOTCONN", "peername:ENOTCONN"}}},
       // A listener's close or shutdown resets the connections queued on
       // it (inet_csk_listen_stop): they reach CLOSE too.
       .after = {"close", "shutdown *"},
       .witness = "closed_connection_not_connected"},
      {.id = "unix_socket_shut_for_reading_refuses_when_it_listens",
       .statement = "A bound UNIX socket that shut down reading (which "
                    "succeeds: shutdown_of_unconnected_socket) keeps the mark "
                    "when it then listens: connects to it are refused "
                    "(ECONNREFUSED) and accept fails at once (EINVAL; EAGAIN "
                    "when non-blocking). TCP refused that shutdown "
                    "(ENOTCONN), and its socket listens and accepts, each "
                    "connection with the shutdown copied into it "
                    "(tcp_listener_passes_its_shutdown_to_its_connections). "
                    "poll on the UNIX listener shows the mark (IN|RDHUP, "
                    "and HUP if it shut down both ways); on the TCP one, "
                    "nothing while nothing is queued.",
       .source = "net/unix/af_unix.c (unix_shutdown marks a socket in any "
                 "state; unix_stream_connect refuses a listener with "
                 "RCV_SHUTDOWN; unix_accept: EINVAL when skb_recv_datagram "
                 "returns nothing because of the shutdown; unix_poll: "
                 "EPOLLIN|EPOLLRDHUP for RCV_SHUTDOWN, EPOLLHUP for "
                 "SHUTDOWN_MASK, in any state); "
                 "net/ipv4/af_inet.c (inet_shutdown: ENOTCONN in TCP_CLOSE; "
                 "neither inet_csk_accept nor the SYN's path looks at "
                 "sk_shutdown)",
       // The refused client's socket is closed on UNIX, the accepted one
       // never made; on TCP both live on.
       .behaviour =
           {{kUnixAddressed,
             "refuses connections",
             {"connect:ECONNREFUSED", "connect-nb:ECONNREFUSED",
              "reconnect:ECONNREFUSED", "connect-as-nobody:ECONNREFUSED",
              "accept:EINVAL", "accept:EAGAIN", "*:closed", "*:no-socket",
              // the shutdown that marked it
              "shutdown:ok",
              // unix_poll shows the mark on a listener too: IN and
              // RDHUP, and HUP after a shutdown of both ways
              "poll:+IN", "poll:+RDHUP", "poll:+HUP", "epoll-level:+IN",
              "epoll-level:+RDHUP", "epoll-level:+HUP", "epoll-edge:+IN",
              "epoll-edge:+RDHUP", "epoll-edge:+HUP"}},
            {kTcp,
             "listens",
             {"connect:ok", "connect-nb:EINPROGRESS", "reconnect:*",
              "connect-as-nobody:ok", "accept:ok", "accept:timeout",
              "accept:EAGAIN", "*:*", "shutdown:ENOTCONN",
              // a listener with nothing queued shows nothing
              "poll:-IN", "poll:-RDHUP", "poll:-HUP", "epoll-level:-IN",
              "epoll-level:-RDHUP", "epoll-level:-HUP", "epoll-edge:-IN",
              "epoll-edge:-RDHUP", "epoll-edge:-HUP"}}},
       .after = {"shutdown rd"},
       .after_on = TriggerSocket::kBound,

       .witness = "bound_socket_shut_rd_then_listens"},
      {.id = "tcp_listener_passes_its_shutdown_to_its_connections",
       .statement = "A TCP socket that shut down writing before it listens "
                    "(shutdown gives ENOTCONN, but the socket keeps the "
                    "mark) copies the mark into every connection made to "
                    "it: the accepted socket cannot write (EPIPE) and its "
                    "client sees end of stream at once, before any accept. "
                    "A UNIX listener's connections are new sockets, and "
                    "carry on as any.",
       .source = "net/ipv4/af_inet.c (inet_shutdown sets sk_shutdown on a "
                 "TCP_CLOSE socket before it returns ENOTCONN); "
                 "net/core/sock.c (sk_clone_lock copies the listener's "
                 "sock, sk_shutdown with it); net/unix/af_unix.c "
                 "(unix_stream_connect makes the server's end with "
                 "sk_alloc)",
       .behaviour = {{kUnixAddressed,
                      "a fresh connection",
                      Patterns({Writes("ok"), Reads("EAGAIN"),
                                Reads("timeout"), ReadsData(),
                                {"poll:-IN", "poll:-RDHUP", "epoll-level:-IN",
                                 "epoll-level:-RDHUP", "epoll-edge:-IN",
                                 "epoll-edge:-RDHUP"}})},
                     {kTcp,
                      "shut for writing",
                      Patterns({Writes("EPIPE"), Reads("eof"),
                                {"poll:+IN", "poll:+RDHUP", "epoll-level:+IN",
                                 "epoll-level:+RDHUP", "epoll-edge:+IN",
                                 "epoll-edge:+RDHUP"}})}},
       .after = {"shutdown wr"},
       .after_on = TriggerSocket::kBound,
       .affects_received_data = true,
       .witness = "bound_socket_shut_wr_then_listens"},
      {.id = "listener_shutdown_rd_stops_only_tcp_listening",
       .statement = "shutdown(SHUT_RD) on a TCP listener stops it listening: "
                    "its queued connections are reset, accept fails with "
                    "EINVAL, poll shows OUT|HUP and a port the kernel chose "
                    "is free again. A UNIX listener only refuses new "
                    "connections: it still hands out the queued ones (the "
                    "socket accepted is on UNIX only, its later steps not "
                    "compared), non-blocking it finds none (EAGAIN) where "
                    "TCP's accept fails (EINVAL), it "
                    "holds its name, and keeps the mark when it listens "
                    "again (with its queue empty, a blocking accept fails "
                    "with EINVAL), "
                    "where a TCP listener listening again is a fresh one.",
       .source = "shutdown(2); net/ipv4/af_inet.c (inet_shutdown "
                 "disconnects a listener); net/ipv4/tcp.c (tcp_disconnect: "
                 "inet_csk_listen_stop; tcp_set_state releases an unlocked "
                 "port); net/unix/af_unix.c (unix_shutdown only marks it; "
                 "unix_stream_connect refuses RCV_SHUTDOWN; unix_accept: "
                 "EINVAL when a blocking skb_recv_datagram finds "
                 "RCV_SHUTDOWN)",
       // A queued client's connection stays open on UNIX: reads wait (or
       // EAGAIN), writes go to the queued peer until its buffer is full.
       .behaviour =
           {{kUnixAddressed, "refuses new connections, keeps its queue",
             Patterns({{"poll:IN|RDHUP", "poll:IN|RDHUP|HUP", "poll:OUT",
                        "so-error:0", "accept:ok", "accept:EINVAL",
                        // non-blocking, with nothing queued
                        "accept:EAGAIN", "bind-same:EADDRINUSE",
                        // a bind-same on the socket whose bind failed
                        "bind-same:n/a",
                        // its own connect to its name, refused: it shut
                        // down reading (unix_stream_connect)
                        "reconnect:ECONNREFUSED",
                        // still listening: unix_inq_len refuses
                        "inq:EINVAL", "outq:0",
                        // a queued client's connection is alive: what its
                        // poll shows is its queues' doing
                        "poll:-IN", "poll:-OUT", "poll:-RDHUP", "poll:-ERR",
                        "poll:-HUP"},
                       Reads("timeout"),
                       Reads("EAGAIN"),
                       Writes("ok"),
                       Writes("EAGAIN"),
                       // a queued client that shut down writing itself
                       Writes("EPIPE"),
                       // a queued client whose buffer is full
                       Writes("timeout")})},
            {kTcp, "stops listening, resets its queue",
             Patterns({{"poll:OUT|HUP", "poll:IN|OUT|RDHUP|ERR|HUP",
                        // once a write took the reset's error
                        "poll:IN|OUT|RDHUP|HUP", "so-error:ECONNRESET",
                        "accept:EINVAL", "bind-same:ok",
                        // listening again: a fresh, empty listener
                        "poll:none", "accept:EAGAIN", "accept:timeout",
                        // its own connect: no longer a listener
                        "reconnect:EINVAL",
                        // closed, not listening: tcp_ioctl answers, and
                        // tcp_disconnect moved write_seq on by
                        // max_window + 2 (0 + 2 for a listener)
                        "inq:0", "outq:2",
                        // a queued client's connection was reset
                        "poll:+IN", "poll:+OUT", "poll:+RDHUP", "poll:+ERR",
                        "poll:+HUP"},
                       Reads("ECONNRESET"),
                       Reads("eof"),
                       Writes("ECONNRESET"),
                       Writes("EPIPE")})}},
       .after = {"shutdown rd"},
       .after_on = TriggerSocket::kListener,
       .witness = "listener_shutdown_rd"},
  };
}

}  // namespace sockparity::internal
