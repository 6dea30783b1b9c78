// The registry's entries about receive and send queues: SIOCINQ/SIOCOUTQ,
// out-of-band bytes and SO_RCVLOWAT, where UNIX sockets count and wake on
// the skbs in their receive queue and TCP on sequence numbers.
#include "script/registry_entries.h"

namespace sockparity::internal {

std::vector<Difference> QueueEntries() {
  return {
      {.id = "unix_outq_is_unread_memory",
       .statement = "SIOCOUTQ on a UNIX socket is the memory of the buffers "
                    "it sent that the peer has not read to the end (not a "
                    "byte count: shown as unread-memory); on TCP it is the "
                    "bytes not yet acknowledged, 0 over loopback once ACKed "
                    "however much the peer left unread.",
       .source = "unix(7) and tcp(7), SIOCOUTQ; net/unix/af_unix.c "
                 "(unix_outq_len returns sk_wmem_alloc); net/ipv4/tcp.c "
                 "(tcp_ioctl: write_seq - snd_una)",
       .behaviour = {{kUnix,
                      "memory of buffers the peer has not read",
                      {"outq:unread-memory"}},
                     {kTcp, "every byte acknowledged", {"outq:0"}}},
       .after = {"send *", "send-fd", "send-oob", "fill"},
       .after_on = TriggerSocket::kConnection,
       .witness = "queues"},
      {.id = "tcp_outq_counts_bytes_a_reset_left_unacknowledged",
       .statement = "After a connection ended in a reset (the peer closed "
                    "with data unread, or shut down reading and got data, or "
                    "the listener it was queued on closed or stopped), "
                    "SIOCOUTQ on TCP still counts the bytes that were never "
                    "acknowledged; on UNIX it counts only the buffers the "
                    "peer still holds unread: 0 once the peer closed, and a "
                    "write after the peer's close or shutdown queued nothing "
                    "(EPIPE).",
       .source = "tcp(7), SIOCOUTQ; net/ipv4/tcp.c (tcp_ioctl: write_seq - "
                 "snd_una in every state but LISTEN and SYN_*); "
                 "net/ipv4/tcp_input.c (tcp_reset purges the write queue "
                 "and leaves the sequence numbers); net/unix/af_unix.c "
                 "(unix_outq_len is sk_wmem_alloc, which the peer's "
                 "unix_release_sock gives back)",
       // A peer that only shut down reading still holds, on UNIX, the
       // buffers it had not read (they count until it reads or closes).
       .behaviour = {{kUnix,
                      "what the peer still holds unread",
                      {"outq:0", "outq:unread-memory"}},
                     {kTcp, "the unacknowledged bytes", {"outq:*"}}},
       // What makes the peer reset: its close, or its shutdown(SHUT_RD);
       // on a listener, the same resets the connections queued on it
       // (inet_csk_listen_stop), which are the sockets it touched.
       .after = {"close", "shutdown rd"},
       .witness = "outq_after_reset"},
      {.id = "outq_on_listener",
       .statement = "SIOCOUTQ on a UNIX listener gives 0; TCP refuses it on a "
                    "listener with EINVAL (SIOCINQ is EINVAL on both).",
       .source = "net/unix/af_unix.c (unix_ioctl: unix_outq_len checks no "
                 "state, unix_inq_len is EINVAL in TCP_LISTEN); "
                 "net/ipv4/tcp.c (tcp_ioctl: both EINVAL in TCP_LISTEN)",
       .behaviour = {{kUnixAddressed, "nothing queued", {"outq:0"}},
                     {kTcp, "not on a listener", {"outq:EINVAL"}}},
       .after = {"listen *", "relisten *"},
       .after_on = TriggerSocket::kListener,
       .witness = "queues_listener"},
      {.id = "fill_queues_a_buffer_size",
       .statement = "fill queues what the kind's buffers hold before EAGAIN: "
                    "about 233 KB on UNIX, megabytes on TCP (autotuned, "
                    "tcp4 and tcp6 apart: default_buffer_sizes). So the "
                    "bytes the peer then reads differ in length, and TCP's "
                    "SIOCOUTQ counts the bytes the peer's full window holds "
                    "back (on UNIX: unread-memory); the peer's SIOCINQ counts "
                    "what arrived, and as the peer reads, the TCP sender's "
                    "bytes still flow in (new edges for edge-triggered "
                    "epoll).",
       .source = "socket(7), SO_SNDBUF; tcp(7), tcp_wmem and SIOCOUTQ; "
                 "net/ipv4/tcp.c (tcp_ioctl: write_seq - snd_una counts "
                 "unsent bytes); net/unix/af_unix.c (unix_outq_len)",
       // tcp4 and tcp6 in rows of their own: their amounts differ too.
       // A TCP sender's unsent bytes flow in as the receiver reads, each
       // arrival a new edge for edge-triggered epoll; a UNIX sender's are
       // all queued already.
       .behaviour =
           {{kUnix,
             "one UNIX buffer",
             {"outq:unread-memory", "inq:*", "epoll-edge:-IN",
              "epoll-edge:-OUT"}},
            {{K::kTcp4},
             "unsent bytes; what arrived",
             {"outq:*", "inq:*", "epoll-edge:+IN", "epoll-edge:+OUT"}},
            {{K::kTcp6},
             "unsent bytes; what arrived",
             {"outq:*", "inq:*", "epoll-edge:+IN", "epoll-edge:+OUT"}}},
       .after = {"fill"},
       .after_on = TriggerSocket::kConnection,
       .affects_received_data = true,
       .data_differs_after_trigger = true,
       .witness = "fill_then_read"},
      {.id = "tcp_window_probe_moves_a_full_connection",
       .statement = "A full TCP connection moves again while nobody reads: "
                    "the persist timer probes the zero window (from about "
                    "200 ms on), and the receiver's answers can open it by "
                    "some kilobytes, so after a wait a send may find room "
                    "(when depends on the timer: tcp4 and tcp6 may differ "
                    "too). A full UNIX socket stays full until its peer "
                    "reads.",
       .source = "net/ipv4/tcp_timer.c (tcp_probe_timer); "
                 "net/ipv4/tcp_output.c (tcp_send_probe0, tcp_select_window); "
                 "net/unix/af_unix.c (unix_writable: only reads free room)",
       // A race with a timer: tcp4 and tcp6, run side by side, may be on
       // either side of a probe, so each has a row of its own.
       .behaviour = {{kUnix,
                      "full until the peer reads",
                      Patterns({Writes("EAGAIN"), {"send:timeout"}})},
                     {{K::kTcp4},
                      "room again once a probe was answered",
                      Patterns({Writes("ok"), Writes("EAGAIN"),
                                {"send:timeout"}})},
                     {{K::kTcp6},
                      "room again once a probe was answered",
                      Patterns({Writes("ok"), Writes("EAGAIN"),
                                {"send:timeout"}})}},
       .after = {"fill"},
       .after_on = TriggerSocket::kConnection,
       .affects_received_data = true,
       .witness = "window_probe_after_fill"},
      {.id = "tcp_window_stays_shut_after_a_small_read",
       .statement = "When the peer of a full connection reads less than one "
                    "MSS (65,483 bytes over loopback), a UNIX writer has room "
                    "again as soon as the read used up one of the buffers it "
                    "had sent (each at most about 36 KB: a buffer is freed "
                    "whole); a TCP "
                    "receiver keeps advertising a zero window (receiver "
                    "silly window avoidance), so its writer's send buffer "
                    "stays full and a write finds no room (EAGAIN, or a "
                    "blocking write waits). A read of one MSS or more opens "
                    "the window on TCP too.",
       .source = "RFC 1122 4.2.3.3; net/ipv4/tcp_output.c "
                 "(__tcp_select_window: free space under the receive MSS "
                 "is advertised as 0); net/ipv4/tcp.c (tcp_cleanup_rbuf: a "
                 "window update only when the window at least doubles); "
                 "net/unix/af_unix.c (unix_stream_sendmsg splits a write "
                 "into skbs of at most SKB_MAX_HEAD + 32 KiB; sock_wfree "
                 "gives the writer their memory back as the reader frees "
                 "each one)",
       .behaviour = {{kUnix, "room once a buffer was read whole", Writes("ok")},
                     {kTcp,
                      "still full",
                      Patterns({Writes("EAGAIN"), {"send:timeout"}})}},
       .after = {"recv *", "recv-exactly *", "recv-waitall *", "recv-fd",
                 "drain"},
       .after_on = TriggerSocket::kConnection,
       .affects_received_data = true,
       .witness = "window_shut_after_small_read"},
      {.id = "oob_byte_queued_inline_on_unix",
       .statement = "A UNIX out-of-band byte is an skb in the receive queue: "
                    "with only it pending poll shows IN as well as PRI, and "
                    "after recv(MSG_OOB) took it its emptied skb stays queued, "
                    "so poll shows IN with nothing to read (a recv drops the "
                    "skb and gives EAGAIN). TCP keeps the urgent byte out of "
                    "line: PRI without IN, then nothing.",
       .source = "net/unix/af_unix.c (queue_oob, unix_poll: IN while the "
                 "receive queue is not empty, unix_stream_recv_urg, "
                 "manage_oob); net/ipv4/tcp.c (tcp_poll: the urgent byte "
                 "does not count towards IN)",
       .behaviour = {{kUnix,
                      "IN while the byte's skb is queued",
                      {"poll:IN|PRI|OUT", "poll:IN|OUT", "poll:IN|PRI",
                       "poll:IN"}},
                     {kTcp,
                      "the urgent byte is not readable data",
                      {"poll:PRI|OUT", "poll:OUT", "poll:PRI",
                       "poll:none"}}},
       .after = {"send-oob"},
       .witness = "oob"},
      {.id = "unix_read_woken_by_a_lone_oob_byte_discards_it",
       .statement = "When an out-of-band byte is all that is queued, a "
                    "read that waits for readable data (poll for IN, then "
                    "recv) wakes at once on UNIX, finds nothing (EAGAIN) and "
                    "has discarded the byte's mark: poll shows no PRI and "
                    "recv(MSG_OOB) is EINVAL. On TCP the urgent byte is not "
                    "readable data, so the wait goes on to its timeout and "
                    "the byte stays for recv(MSG_OOB). (A recv that does not "
                    "wait passes the mark on both.)",
       .source = "net/unix/af_unix.c (unix_poll: IN while the receive queue "
                 "holds the byte's skb; manage_oob in "
                 "unix_stream_read_generic skips the byte and clears "
                 "oob_skb); net/ipv4/tcp.c (tcp_poll: the urgent byte does "
                 "not count towards IN)",
       .behaviour = {{kUnix,
                      "woken, nothing to read, the mark gone",
                      Patterns({Reads("EAGAIN"),
                                {"recv-oob:EINVAL", "poll:-PRI"}})},
                     {kTcp,
                      "not woken, the byte kept",
                      Patterns({Reads("timeout"),
                                {"recv-oob:data", "poll:+PRI"}})}},
       .after = {"send-oob"},
       .affects_received_data = true,
       .witness = "oob_alone_wakes_a_unix_read"},
      {.id = "superseded_oob_byte_kept_on_unix",
       .statement = "When a second out-of-band byte is sent before the first "
                    "was read, UNIX keeps the first as ordinary data in the "
                    "stream; TCP moves its urgent mark and, the old urgent "
                    "byte being the next to read, drops it: a recv finds "
                    "nothing.",
       .source = "net/unix/af_unix.c (queue_oob: the old oob_skb stays "
                 "queued as data); net/ipv4/tcp_input.c (tcp_check_urg skips "
                 "the old urgent byte at copied_seq)",
       .behaviour = {{kUnix, "the first byte is data", ReadsData()},
                     {kTcp,
                      "the first byte is gone",
                      // or, the connection reset, its error
                      Patterns({Reads("EAGAIN"), Reads("timeout"),
                                Reads("eof"), Reads("ECONNRESET")})}},
       .after = {"send-oob"},
       .affects_received_data = true,
       // A drain or recv-until-eof ends alike on both, with the byte or not.
       .data_differs_after_trigger = true,
       .witness = "oob_superseded"},
      {.id = "read_meets_the_new_mark_after_a_kept_oob_byte",
       .statement = "After a second out-of-band byte superseded the first "
                    "(superseded_oob_byte_kept_on_unix), a read on UNIX "
                    "takes the kept first byte and stops before the new "
                    "one, which stays pending (PRI, recv(MSG_OOB) gets it); "
                    "on TCP, where the first byte is gone, the read starts "
                    "at the new mark and passes over the urgent byte, and "
                    "the mark is gone (no PRI, recv(MSG_OOB) is EINVAL).",
       .source = "net/unix/af_unix.c (manage_oob stops a read that took "
                 "bytes at oob_skb); net/ipv4/tcp.c (tcp_recvmsg skips an "
                 "urgent byte at the start of a read and clears urg_data "
                 "once past it)",
       .behaviour = {{kUnix,
                      "the new byte still pending",
                      {"poll:+PRI", "recv-oob:data"}},
                     {kTcp,
                      "the read passed the mark",
                      {"poll:-PRI", "recv-oob:EINVAL"}}},
       // Both: the bytes sent out of band, and a read over them.
       .after = {"send-oob"},
       .and_after = {"recv *", "recv-exactly *", "recv-waitall *",
                     "recv-fd", "recv-until-eof", "drain"},
       .witness = "oob_new_mark_after_kept_byte"},
      {.id = "tcp_urgent_byte_counts_as_unread_at_close",
       .statement = "An urgent byte stays in a TCP receiver's sequence "
                    "space after recv(MSG_OOB) took it, so closing that "
                    "socket finds data unread and resets the connection: the "
                    "peer reads ECONNRESET. On UNIX the byte read out of band "
                    "leaves nothing unread, and the peer sees end of stream.",
       .source = "net/ipv4/tcp.c (tcp_close: data_was_unread counts the "
                 "receive queue's sequence space; tcp_recv_urg leaves the "
                 "byte's skb queued); net/unix/af_unix.c "
                 "(unix_stream_recv_urg takes the out-of-band skb)",
       .behaviour = {{kUnix,
                      "end of stream",
                      Patterns({Reads("eof"),
                                {"poll:IN|OUT|RDHUP|HUP", "so-error:0"}})},
                     {kTcp,
                      "connection reset",
                      Patterns({Reads("ECONNRESET"),
                                {"poll:IN|OUT|RDHUP|ERR|HUP",
                                 "so-error:ECONNRESET"}})}},
       .after = {"close"},
       .and_after = {"send-oob"},
       .after_on = TriggerSocket::kConnection,
       .witness = "close_after_urgent_byte"},
      {.id = "siocinq_stops_at_urgent_mark_on_tcp",
       .statement = "With an urgent byte pending after queued data, SIOCINQ on "
                    "TCP counts only the bytes before the mark; on UNIX it "
                    "counts every queued byte, the out-of-band one too. (A "
                    "recv stops at the mark on both.)",
       .source = "net/ipv4/tcp.c (tcp_ioctl, tcp_inq: urg_seq - copied_seq); "
                 "net/unix/af_unix.c (unix_inq_len sums every skb)",
       .behaviour = {{kUnix, "every queued byte", {"inq:*"}},
                     {kTcp, "the bytes before the urgent mark", {"inq:*"}}},
       .after = {"send-oob"},
       .witness = "oob"},
      {.id = "unix_peer_read_wakes_the_writer",
       .statement = "When the peer reads, a UNIX writer is woken (its sent "
                    "buffers are freed, and it is writable), so "
                    "edge-triggered epoll reports OUT again (with all else "
                    "it then shows: IN if data is queued for it, RDHUP and "
                    "HUP after a shutdown); a TCP writer is "
                    "woken only if it had found its send buffer full, so "
                    "edge-triggered epoll reports nothing new.",
       .source = "epoll(7), EPOLLET; net/unix/af_unix.c (unix_write_space, "
                 "called through sock_wfree as the peer frees each skb); "
                 "net/core/stream.c (sk_stream_write_space) and "
                 "net/ipv4/tcp_input.c (tcp_check_space: only with "
                 "SOCK_NOSPACE)",
       // The new edge reports all the writer then has: IN as well when
       // data is queued for it, RDHUP and HUP once it or its peer shut
       // down.
       .behaviour = {{kUnix, "woken again",
                      {"epoll-edge:+OUT", "epoll-edge:+IN",
                       "epoll-edge:+RDHUP", "epoll-edge:+HUP"}},
                     {kTcp, "not woken",
                      {"epoll-edge:-OUT", "epoll-edge:-IN",
                       "epoll-edge:-RDHUP", "epoll-edge:-HUP"}}},
       .after = {"recv *", "recv-exactly *", "recv-until-eof",
                 "recv-waitall *", "recv-fd", "drain"},
       .after_on = TriggerSocket::kConnection,
       .witness = "edge_wakeup_after_peer_read"},
      {.id = "rcvlowat_ignored_by_unix_poll",
       .statement = "With fewer bytes queued than SO_RCVLOWAT, poll on a UNIX "
                    "socket shows IN (any queued byte is readable); TCP's "
                    "poll shows IN only once the mark is reached.",
       .source = "socket(7), SO_RCVLOWAT; net/unix/af_unix.c (unix_poll "
                 "ignores sk_rcvlowat); net/ipv4/tcp.c (tcp_poll: "
                 "tcp_stream_is_readable with sock_rcvlowat)",
       .behaviour = {{kUnix, "readable at one byte", {"poll:+IN"}},
                     {kTcp, "not readable below the mark", {"poll:-IN"}}},
       .after = {"rcvlowat *"},
       .witness = "rcvlowat"},
      {.id = "tcp_rcvlowat_wakes_a_ready_reader",
       .statement = "Setting SO_RCVLOWAT on a TCP socket that is readable at "
                    "the new mark (enough queued, or the peer's FIN came) "
                    "wakes it: a new edge for edge-triggered epoll. On UNIX "
                    "the option wakes nothing.",
       .source = "socket(7), SO_RCVLOWAT; net/ipv4/tcp.c (tcp_set_rcvlowat "
                 "calls tcp_data_ready); net/core/sock.c (sk_setsockopt "
                 "only stores sk_rcvlowat for other protocols)",
       .behaviour = {{kUnix,
                      "not woken",
                      {"epoll-edge:-IN", "epoll-edge:-OUT",
                       "epoll-edge:-RDHUP"}},
                     {kTcp,
                      "woken",
                      {"epoll-edge:+IN", "epoll-edge:+OUT",
                       "epoll-edge:+RDHUP"}}},
       .after = {"rcvlowat *"},
       .witness = "rcvlowat_wakes_a_tcp_reader"},
  };
}

}  // namespace sockparity::internal
