// A broken server for the tests of `sockparity check`, of another shape
// than broken_server.cc: one thread, non-blocking sockets and a
// level-triggered poll(2) loop on the peer contract, run with exactly one
// bug switched on:
//
//   broken_loop_server --bug NAME ADDRESS
//
//   hangup-spin          a peer gone while output is pending (its read sees
//                        end of stream or an error, also after a failed
//                        write): the connection is marked dead but stays
//                        polled (events 0), and the POLLHUP / POLLERR poll
//                        keeps returning are ignored: a busy loop and a
//                        leaked descriptor (swift-nio#277)
//   reset-after-fin-leak a write failing after the client's FIN (it reset
//                        meanwhile) is ignored and the connection dropped
//                        from the poll set unclosed, still counted by N
//                        (libuv#3449)
//   spin-after-close     once any connection has closed, poll's timeout is 0
//                        for good: correct, but busy while idle
//   emfile-spin          accept failing with EMFILE/ENFILE is retried at once
//                        (the listener stays polled): a busy loop while
//                        descriptors are exhausted
//   emfile-exit          accept failing with EMFILE/ENFILE ends the process
//                        (exit status 1)
//   unbounded-replies    no backpressure: input always read, every reply
//                        queued
//   half-close-unix      on UNIX sockets, the client's hang-up (POLLRDHUP, as
//                        soon as it shuts down writing) closes the connection
//                        at once, dropping queued replies (julia#60959)
//   write-on-read-only   output is written only right after input was read,
//                        never on POLLOUT: a reply larger than the socket
//                        buffer takes stays half sent while the client
//                        waits for it (a lost write wakeup)
//   none                 no bug (the control)
//
// fd:N is not served (exit 64).
//
// This file: the bugs' table, the options and main; the rest is in the
// files broken_loop_server.h lists.
#include "broken_loop_server.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <optional>
#include <string>

#include "sockparity/net/endpoint.h"

namespace broken_loop {

std::string bug = "none";

}  // namespace broken_loop

int main(int argc, char** argv) {
  using broken_loop::bug;
  if (argc != 4 || std::string(argv[1]) != "--bug") {
    std::fprintf(stderr, "usage: %s --bug NAME ADDRESS\n", argv[0]);
    return 2;
  }
  bug = argv[2];
  // A misspelt bug would run as the control and pass: refuse it.
  static const char* const kBugs[] = {
      "hangup-spin",     "reset-after-fin-leak", "spin-after-close",
      "emfile-spin",     "emfile-exit",          "unbounded-replies",
      "half-close-unix", "write-on-read-only",   "none"};
  if (std::find(std::begin(kBugs), std::end(kBugs), bug) == std::end(kBugs)) {
    std::fprintf(stderr, "unknown bug '%s'\n", bug.c_str());
    return 2;
  }
  const std::string address = argv[3];
  if (address.rfind("fd:", 0) == 0) return 64;
  const std::optional<sockparity::Endpoint> endpoint =
      sockparity::ParseServerAddress(address);
  if (!endpoint) return 2;
  ::signal(SIGPIPE, SIG_IGN);
  if (!broken_loop::WatchSigterm()) return 1;
  broken_loop::BoundFile file;
  const int listener = broken_loop::Listen(*endpoint, file);
  std::printf("ready\n");
  std::fflush(stdout);
  if (!broken_loop::RunLoop(listener, endpoint->kind())) return 1;

  for (const auto& c : broken_loop::conns) {
    if (!c->gone) ::close(c->fd);
  }
  ::close(listener);
  broken_loop::RemoveOwnFile(file);
  return 0;
}
