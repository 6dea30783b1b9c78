// What the files of libsockparity_perturb.so share. Private: nothing here is
// exported; the target builds with hidden visibility, and only the wrappers
// (marked EXPORT) enter the dynamic symbol table.
#ifndef SOCKPARITY_PERTURB_PERTURB_INTERNAL_H_
#define SOCKPARITY_PERTURB_PERTURB_INTERNAL_H_

// Each .c file undefines _FORTIFY_SOURCE before its first #include: our
// definitions of read, recv... must not meet the fortified inline ones.

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

// The fortified entry points have no public prototypes.
ssize_t __read_chk(int fd, void* buf, size_t nbytes, size_t buflen);
ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags,
                       __SOCKADDR_ARG addr, socklen_t* addrlen);
int __poll_chk(struct pollfd* fds, nfds_t nfds, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd* fds, nfds_t nfds, const struct timespec* tmo,
                const sigset_t* mask, size_t fdslen);

// Hidden even if the target's visibility preset were lost: these names must
// never interpose on the host program's.
#pragma GCC visibility push(hidden)

// Bit i is kSockparityPerturbModes[i] (modes.h).
enum {
  kShortIo = 1,
  kEintr = 2,
  kAcceptAborted = 4,
};

enum Direction { kRead, kWrite };

// ---- settings.c: the environment and the announce file. ----

extern int modes;  // 0: do nothing at all
extern uint64_t seed;
extern char announce_path[4096];  // empty: no announcements

void ParseEnvironment(void);
// One line to the announce file: "WHAT PID" (and " MODES SEED").
void Announce(const char* what, bool with_modes);

// ---- init.c: the real functions, resolved once. ----

struct RealFunctions {
  ssize_t (*read)(int, void*, size_t);
  ssize_t (*read_chk)(int, void*, size_t, size_t);
  ssize_t (*recv)(int, void*, size_t, int);
  ssize_t (*recv_chk)(int, void*, size_t, size_t, int);
  ssize_t (*recvfrom)(int, void*, size_t, int, __SOCKADDR_ARG, socklen_t*);
  ssize_t (*recvfrom_chk)(int, void*, size_t, size_t, int, __SOCKADDR_ARG,
                          socklen_t*);
  ssize_t (*recvmsg)(int, struct msghdr*, int);
  ssize_t (*readv)(int, const struct iovec*, int);
  ssize_t (*write)(int, const void*, size_t);
  ssize_t (*send)(int, const void*, size_t, int);
  ssize_t (*sendto)(int, const void*, size_t, int, __CONST_SOCKADDR_ARG,
                    socklen_t);
  ssize_t (*sendmsg)(int, const struct msghdr*, int);
  ssize_t (*writev)(int, const struct iovec*, int);
  int (*accept)(int, __SOCKADDR_ARG, socklen_t*);
  int (*accept4)(int, __SOCKADDR_ARG, socklen_t*, int);
  int (*poll)(struct pollfd*, nfds_t, int);
  int (*poll_chk)(struct pollfd*, nfds_t, int, size_t);
  int (*ppoll)(struct pollfd*, nfds_t, const struct timespec*, const sigset_t*);
  int (*ppoll_chk)(struct pollfd*, nfds_t, const struct timespec*,
                   const sigset_t*, size_t);
  int (*select)(int, fd_set*, fd_set*, fd_set*, struct timeval*);
  int (*pselect)(int, fd_set*, fd_set*, fd_set*, const struct timespec*,
                 const sigset_t*);
  int (*epoll_ctl)(int, int, int, struct epoll_event*);
  int (*epoll_wait)(int, struct epoll_event*, int, int);
  int (*epoll_pwait)(int, struct epoll_event*, int, int, const sigset_t*);
  int (*epoll_pwait2)(int, struct epoll_event*, int, const struct timespec*,
                      const sigset_t*);
};
extern struct RealFunctions real;

extern pthread_once_t init_once;
void Init(void);

// Every wrapper starts here: a call may come before our constructor runs
// (from another library's constructor).
static inline void EnsureInit(void) { pthread_once(&init_once, Init); }

// ---- decide.c: randomness, and which calls are perturbed. ----

bool OneIn(uint64_t n);
bool IsStreamSocket(int fd);
bool Blocking(int fd, int flags);

// A length this library cut, so the caller's readiness can be re-armed when
// the kernel transferred all of it (see Finish).
struct Cut {
  int fd;
  size_t want;
  bool active;
};

// Decides a data call on `fd`: false means "fail with EINTR now"; else
// *length is what to ask the kernel for, and *cut says whether it was cut.
// errno is left as the caller had it.
bool Perturb(int fd, int flags, enum Direction direction, size_t* length,
             struct Cut* cut);

#define kIovCopy 64

// Perturb for a vector: may point *iov at `copy` (kIovCopy entries), trimmed.
bool PerturbIov(int fd, int flags, enum Direction direction,
                const struct iovec** iov, int* count, struct iovec* copy,
                struct Cut* cut);

// Blocking calls of the poll family: EINTR before doing anything, where
// signal(7) allows it (`mask`: the one passed in for the call, or NULL).
bool WaitInterrupted(bool may_block, const sigset_t* mask, bool is_epoll);
bool TimespecNonZero(const struct timespec* t);

// ---- legal.c: what the kernel could do to this call now (signal(7)). ----

// A blocking data call or accept on `fd` may fail with EINTR.
bool EintrLegal(int fd, enum Direction direction);
// A blocking send (or MSG_WAITALL recv) on `fd` may return early.
bool BlockingCutLegal(int fd, enum Direction direction);
// A blocking wait of the poll family may fail with EINTR.
bool WaitEintrLegal(const sigset_t* call_mask, bool is_epoll);

// ---- epoll_mirror.c: edge-triggered readiness stays truthful. ----

// False once the registration mirror is incomplete: no more cuts.
bool CutsAreSafe(void);
// The result of a data call: after a cut the kernel carried out in full,
// the descriptor's readiness is reported again.
ssize_t Finish(const struct Cut* cut, ssize_t n);

#pragma GCC visibility pop

#endif  // SOCKPARITY_PERTURB_PERTURB_INTERNAL_H_
