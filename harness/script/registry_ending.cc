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
                                 // Nothing arrived to count but what
                                 // came before the shutdown, still queued
                                 // (TCP counts that and what came after).
                                 "inq:*",
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
                    "shutdown, getpeername and recv(MSG_OOB) fail with "
                    "ENOTCONN. A UNIX socket stays connected and keeps its "
                    "peer's name; with no urgent byte, its recv(MSG_OOB) "
                    "is EINVAL.",
       .source = "shutdown(2), getpeername(2), ERRORS (ENOTCONN); "
                 "net/ipv4/af_inet.c (inet_shutdown, inet_getname); "
                 "net/ipv4/tcp.c (tcp_recv_urg: ENOTCONN in CLOSE); "
                 "net/unix/af_unix.c (unix_shutdown, unix_getname; "
                 "unix_stream_recv_urg: EINVAL without an urgent skb)",
       .behaviour = {{kUnix,
                      "still connected",
                      {"shutdown:ok", "peername:unnamed", "peername:path:*",
                       "peername:abstract:*", "recv-oob:EINVAL"}},
                     {kTcp,
                      "not connected",
                      {"shutdown:ENOTCONN", "peername:ENOTCONN",
                       "recv-oob:ENOTCONN"}}},
       // A listener's close or shutdown resets the connections queued on
       // it (inet_csk_listen_stop): they reach CLOSE too.
       .after = {"close", "shutdown *"},
       .witness = "closed_connection_not_connected"},
  };
}

}  // namespace sockparity::internal
