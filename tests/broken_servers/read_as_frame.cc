// A broken server for the tests of `sockparity check`: it takes whatever
// one read returns as one whole frame (the bug), which only holds while
// every request arrives in a single segment. Everything else follows the
// peer contract closely enough to start, echo and stop.
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "sockparity/net/endpoint.h"

namespace {
volatile sig_atomic_t stop = 0;
void OnTerm(int) { stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  absl::StatusOr<sockparity::Endpoint> endpoint =
      sockparity::Endpoint::Parse(argv[1]);
  if (!endpoint.ok()) return 64;
  struct sigaction action {};
  action.sa_handler = OnTerm;
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  int listener = ::socket(endpoint->domain(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(listener, endpoint->addr(), endpoint->length()) != 0 ||
      ::listen(listener, 64) != 0) {
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  while (!stop) {
    pollfd entry{listener, POLLIN, 0};
    if (::poll(&entry, 1, 100) <= 0) continue;
    int client = ::accept(listener, nullptr, nullptr);
    if (client < 0) continue;
    std::vector<unsigned char> buffer(1 << 16);
    while (!stop) {
      ssize_t n = ::read(client, buffer.data(), buffer.size());
      if (n <= 0) break;
      // The bug: these n bytes are taken to be exactly one frame, its
      // header first; anything shorter than a header and an opcode is
      // "bad input".
      if (n < 5 || buffer[4] != 'E') break;
      const size_t payload = static_cast<size_t>(n) - 4;
      unsigned char header[4] = {static_cast<unsigned char>(payload >> 24),
                                 static_cast<unsigned char>(payload >> 16),
                                 static_cast<unsigned char>(payload >> 8),
                                 static_cast<unsigned char>(payload)};
      (void)!::write(client, header, 4);
      (void)!::write(client, buffer.data() + 4, payload);
    }
    ::close(client);
  }
  ::close(listener);
  if (!endpoint->path().empty())
    ::unlink(std::string(endpoint->path()).c_str());
  return 0;
}
