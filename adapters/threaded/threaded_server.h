// What the files of the threaded server share: the exit statuses, the
// parsed address, the listener, and the registry of live connections.
#ifndef SOCKPARITY_ADAPTERS_THREADED_THREADED_SERVER_H_
#define SOCKPARITY_ADAPTERS_THREADED_THREADED_SERVER_H_

#include <sys/socket.h>
#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace threaded_server {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnsupported = 64;

// ---- address.cc ----

struct Address {
  int inherited_fd = -1;  // fd:N
  int family = AF_UNSPEC;
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string path;  // a filesystem socket's path; empty otherwise
};

// Parses ADDRESS (unix:/path, unix:@name, tcp:HOST:PORT, tcp:[HOST]:PORT,
// fd:N); on failure, says why in `error`.
std::optional<Address> ParseAddress(const std::string& text,
                                    std::string& error);

// ---- listener.cc ----

struct Listener {
  int fd = -1;
  dev_t dev = 0;  // identity of the socket file we bound
  ino_t ino = 0;
};

// Binds and listens (replacing a stale socket file, never a live one).
// Returns an exit status on failure, after saying why on stderr.
std::optional<int> OpenListener(const Address& address, Listener& listener);
// Removes the socket file only if it is still the one we bound: another
// server may have replaced it since.
void RemoveSocketFile(const Address& address, const Listener& listener);

// ---- connection.cc ----

// Live connection sockets. A socket leaves the set and is closed under the
// lock, so the stopping thread never shuts down a number already reused.
struct Registry {
  std::mutex mu;
  std::condition_variable empty;
  std::set<int> fds;
  int done_fd = -1;  // fd:N mode: poked when the last connection ends
};
// Never destroyed: detached threads may still hold it while main exits.
extern Registry& registry;

// Fills the pattern that B replies are cut from; once, before serving.
void FillPattern();
// The descriptor is counted (for N) from the moment it is accepted.
void Spawn(int fd);

}  // namespace threaded_server

#endif  // SOCKPARITY_ADAPTERS_THREADED_THREADED_SERVER_H_
