// Address parsing and listening sockets for the epoll server. Independent of
// sockparity's own code: this server checks the suite, so it must not share
// the suite's bugs.
#ifndef SOCKPARITY_ADAPTERS_EPOLL_LISTENER_H_
#define SOCKPARITY_ADAPTERS_EPOLL_LISTENER_H_

#include <sys/types.h>

#include <string>

namespace epoll_server {

// Exit statuses.
constexpr int kExitBadAddress = 2;
constexpr int kExitFailure = 1;

struct Listener {
  int fd = -1;          // listening socket, or -1 in fd:N mode
  int connection = -1;  // the inherited connection in fd:N mode, else -1
  // Set when bound to a filesystem path: the file we own and may remove.
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;
};

// Parses ADDRESS and opens it. On failure prints why on stderr and returns
// the exit status to use (non-zero); on success returns 0.
int OpenAddress(const std::string& address, Listener* out);

// Removes the socket file, but only if it is still the one we bound: another
// server may have replaced it since.
void RemoveOwnSocketFile(const Listener& listener);

}  // namespace epoll_server

#endif  // SOCKPARITY_ADAPTERS_EPOLL_LISTENER_H_
