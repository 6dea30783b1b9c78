// The registry's entries on a listener's shutdown: what a socket shut down
// before or while it listens does to the connections made to it. Each was
// found by running the scripts in corpus/scripts on Linux and is confirmed
// by its witness.
#include "script/registry_entries.h"

namespace sockparity::internal {

std::vector<Difference> ListenerEntries() {
  return {
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
                    "client sees end of stream at once, before any accept; "
                    "a reset that follows (the listener's close) leaves "
                    "EPIPE pending, as after any FIN, where UNIX's client "
                    "gets ECONNRESET. "
                    "A UNIX listener's connections are new sockets, and "
                    "carry on as any.",
       .source = "net/ipv4/af_inet.c (inet_shutdown sets sk_shutdown on a "
                 "TCP_CLOSE socket before it returns ENOTCONN); "
                 "net/ipv4/tcp_input.c (tcp_reset: EPIPE in CLOSE_WAIT); "
                 "net/core/sock.c (sk_clone_lock copies the listener's "
                 "sock, sk_shutdown with it); net/unix/af_unix.c "
                 "(unix_stream_connect makes the server's end with "
                 "sk_alloc)",
       .behaviour = {{kUnixAddressed, "a fresh connection",
                      Patterns({Writes("ok"),
                                Reads("EAGAIN"),
                                Reads("timeout"),
                                ReadsData(),
                                // reset by the listener's close
                                Reads("ECONNRESET"),
                                {"so-error:ECONNRESET"},
                                {"poll:-IN", "poll:-RDHUP", "epoll-level:-IN",
                                 "epoll-level:-RDHUP", "epoll-edge:-IN",
                                 "epoll-edge:-RDHUP"}})},
                     {kTcp, "shut for writing",
                      // tcp_reset: EPIPE in CLOSE_WAIT (the FIN came first)
                      Patterns({Writes("EPIPE"),
                                Reads("eof"),
                                Reads("EPIPE"),
                                {"so-error:EPIPE"},
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
                    "EINVAL, SO_ACCEPTCONN is 0, poll shows OUT|HUP and a "
                    "port the kernel chose is free again. A UNIX listener only "
                    "refuses new "
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
                        "so-error:0", "so-acceptconn:1", "accept:ok",
                        "accept:EINVAL",
                        // non-blocking, with nothing queued
                        "accept:EAGAIN", "bind-same:EADDRINUSE",
                        // a bind-same on the socket whose bind failed
                        "bind-same:n/a",
                        // its own connect to its name, refused: it shut
                        // down reading (unix_stream_connect)
                        "reconnect:ECONNREFUSED",
                        // to another listener's full backlog: the target
                        // is looked at first (unix_recvq_full)
                        "reconnect:EAGAIN",
                        // still listening: unix_inq_len refuses
                        "inq:EINVAL", "outq:0",
                        // a queued client's connection is alive: what its
                        // poll shows is its queues' doing
                        "poll:-IN", "poll:-OUT", "poll:-RDHUP", "poll:-ERR",
                        "poll:-HUP"},
                       Reads("timeout"),
                       Reads("EAGAIN"),
                       // what the socket accepted on UNIX only sent it
                       ReadsData(),
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
                        "so-acceptconn:0", "accept:EINVAL", "bind-same:ok",
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
       // A queued client receives on UNIX what the socket accepted there
       // sends; on TCP its connection was reset.
       .affects_received_data = true,
       .witness = "listener_shutdown_rd"},
  };
}

}  // namespace sockparity::internal
