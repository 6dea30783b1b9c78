// What the probe's checks share: reporting, a socketpair, a byte pattern.
#ifndef SOCKPARITY_TESTS_PERTURB_PROBE_H_
#define SOCKPARITY_TESTS_PERTURB_PROBE_H_

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sockparity::probe {

inline int failures = 0;

inline void Check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what.c_str());
  if (!ok) ++failures;
}

[[noreturn]] inline void Die(const char* what) {
  std::perror(what);
  std::exit(2);
}

struct Pair {
  int a = -1, b = -1;
  Pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      Die("socketpair");
    a = fds[0];
    b = fds[1];
  }
  ~Pair() {
    ::close(a);
    ::close(b);
  }
};

inline uint8_t PatternByte(size_t i) {
  return static_cast<uint8_t>(i * 131 % 251);
}

// Checks run inside a process with the library preloaded.
int ShortIo();
int Eintr();
int AcceptAborted();
int PipeUntouched();
int EdgeTriggered();
int Announce();
int Cuts();
// Checks that only what the kernel could do is done (probe_legal.cc).
int NoHandlerNoEintr();
int HandlerWithoutRestart();
int HandlerWithRestart();
int BlockedSignal();
int TimeoutAllowsEintr();
int ShortOnlyWhereAllowed();
int AbortedOnlyWhereLinuxCan();
// A handler with SA_RESTART: blocking sends may then be cut (signal(7)).
void InstallRestartingHandler();
// Checks that run the probe itself under the library.
int Seeds(const char* self, const char* library);
int Unknown(const char* self, const char* library);

}  // namespace sockparity::probe

#endif  // SOCKPARITY_TESTS_PERTURB_PROBE_H_
