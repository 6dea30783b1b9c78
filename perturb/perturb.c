// libsockparity_perturb.so: an LD_PRELOAD library that makes socket calls
// do what the peer contract says they may do (docs/SUT_CONTRACT.md,
// Resources): transfer fewer bytes than asked, fail with EINTR, and (for
// accept) fail with ECONNABORTED. See perturb/README.md for the interface.
//
// C, not C++, and no dependency but libc: it is loaded into processes of
// any language and build (Node, Java, sanitizer builds), where neither
// libstdc++ nor a sanitizer runtime may come with it.

// Our definitions of read, recv... must not meet the fortified inline ones.
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

// The fortified entry points have no public prototypes.
ssize_t __read_chk(int fd, void* buf, size_t nbytes, size_t buflen);
ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags,
                       __SOCKADDR_ARG addr, socklen_t* addrlen);
int __poll_chk(struct pollfd* fds, nfds_t nfds, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd* fds, nfds_t nfds, const struct timespec* tmo,
                const sigset_t* mask, size_t fdslen);

enum {
  kShortIo = 1,
  kEintr = 2,
  kAcceptAborted = 4,
};

// ---- The real functions, resolved once. ----

static struct {
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
} real;

static int modes;  // 0: do nothing at all
static uint64_t seed = 1;
static char announce_path[4096];  // empty: no announcements
static char modes_text[64];       // canonical, for the "loaded" line
static atomic_uint_fast64_t thread_counter;
static atomic_int announced_pid;  // the process that wrote its "active" line
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define RESOLVE(field, name) \
  real.field = (__typeof__(real.field))dlsym(RTLD_NEXT, name)

static void RawWrite(int fd, const char* text, size_t length) {
  // A raw system call: our own write() wrapper must not cut it short.
  while (length > 0) {
    long n = syscall(SYS_write, fd, text, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    length -= (size_t)n;
  }
}

static size_t AppendText(char* out, size_t at, size_t size, const char* s) {
  while (*s != '\0' && at + 1 < size) out[at++] = *s++;
  out[at] = '\0';
  return at;
}

static size_t AppendNumber(char* out, size_t at, size_t size, uint64_t v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0 && at + 1 < size) out[at++] = digits[--n];
  out[at] = '\0';
  return at;
}

// One line, one write(2) with O_APPEND: lines from several processes do not
// interleave.
static void Announce(const char* what, bool with_modes) {
  if (announce_path[0] == '\0') return;
  int saved = errno;
  char line[160];
  size_t n = AppendText(line, 0, sizeof(line), what);
  n = AppendText(line, n, sizeof(line), " ");
  n = AppendNumber(line, n, sizeof(line), (uint64_t)getpid());
  if (with_modes) {
    n = AppendText(line, n, sizeof(line), " ");
    n = AppendText(line, n, sizeof(line), modes_text);
    n = AppendText(line, n, sizeof(line), " ");
    n = AppendNumber(line, n, sizeof(line), seed);
  }
  n = AppendText(line, n, sizeof(line), "\n");
  long fd = syscall(SYS_openat, AT_FDCWD, announce_path,
                    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    RawWrite((int)fd, line, n);
    syscall(SYS_close, fd);
  }
  errno = saved;
}

static void Complain(const char* what, const char* value, size_t length) {
  char line[256];
  size_t n = AppendText(line, 0, sizeof(line), "sockparity_perturb: ");
  n = AppendText(line, n, sizeof(line), what);
  n = AppendText(line, n, sizeof(line), " '");
  for (size_t i = 0; i < length && n + 1 < sizeof(line); ++i) {
    line[n++] = value[i];
  }
  line[n] = '\0';
  n = AppendText(line, n, sizeof(line), "': perturbation disabled\n");
  RawWrite(2, line, n);
}

static bool Is(const char* token, size_t length, const char* name) {
  return strlen(name) == length && memcmp(token, name, length) == 0;
}

static void ParseEnvironment(void) {
  const char* text = getenv("SOCKPARITY_PERTURB");
  if (text == NULL || text[0] == '\0') return;
  int parsed = 0;
  for (const char* p = text; *p != '\0';) {
    const char* end = strchr(p, ',');
    size_t length = end ? (size_t)(end - p) : strlen(p);
    if (length == 0) {
      // "a,,b" or a trailing comma: nothing to name.
    } else if (Is(p, length, "short-io")) {
      parsed |= kShortIo;
    } else if (Is(p, length, "eintr")) {
      parsed |= kEintr;
    } else if (Is(p, length, "accept-aborted")) {
      parsed |= kAcceptAborted;
    } else if (Is(p, length, "all")) {
      parsed |= kShortIo | kEintr | kAcceptAborted;
    } else {
      Complain("unknown mode in SOCKPARITY_PERTURB:", p, length);
      return;
    }
    p += length;
    if (*p == ',') ++p;
  }
  const char* seed_text = getenv("SOCKPARITY_PERTURB_SEED");
  if (seed_text != NULL && seed_text[0] != '\0') {
    uint64_t value = 0;
    for (const char* p = seed_text; *p != '\0'; ++p) {
      uint64_t digit = (uint64_t)(*p - '0');
      if (*p < '0' || *p > '9' || value > (UINT64_MAX - digit) / 10) {
        Complain("bad SOCKPARITY_PERTURB_SEED", seed_text, strlen(seed_text));
        return;
      }
      value = value * 10 + digit;
    }
    seed = value;
  }
  const char* path = getenv("SOCKPARITY_PERTURB_ANNOUNCE");
  if (path != NULL && strlen(path) < sizeof(announce_path)) {
    strcpy(announce_path, path);
  }
  size_t n = 0;
  const char* names[] = {"short-io", "eintr", "accept-aborted"};
  for (int i = 0; i < 3; ++i) {
    if (!(parsed & (1 << i))) continue;
    if (n > 0) n = AppendText(modes_text, n, sizeof(modes_text), ",");
    n = AppendText(modes_text, n, sizeof(modes_text), names[i]);
  }
  modes = parsed;
}

static void Init(void) {
  int saved = errno;
  RESOLVE(read, "read");
  RESOLVE(read_chk, "__read_chk");
  RESOLVE(recv, "recv");
  RESOLVE(recv_chk, "__recv_chk");
  RESOLVE(recvfrom, "recvfrom");
  RESOLVE(recvfrom_chk, "__recvfrom_chk");
  RESOLVE(recvmsg, "recvmsg");
  RESOLVE(readv, "readv");
  RESOLVE(write, "write");
  RESOLVE(send, "send");
  RESOLVE(sendto, "sendto");
  RESOLVE(sendmsg, "sendmsg");
  RESOLVE(writev, "writev");
  RESOLVE(accept, "accept");
  RESOLVE(accept4, "accept4");
  RESOLVE(poll, "poll");
  RESOLVE(poll_chk, "__poll_chk");
  RESOLVE(ppoll, "ppoll");
  RESOLVE(ppoll_chk, "__ppoll_chk");
  RESOLVE(select, "select");
  RESOLVE(pselect, "pselect");
  RESOLVE(epoll_ctl, "epoll_ctl");
  RESOLVE(epoll_wait, "epoll_wait");
  RESOLVE(epoll_pwait, "epoll_pwait");
  RESOLVE(epoll_pwait2, "epoll_pwait2");
  ParseEnvironment();
  if (modes != 0) Announce("loaded", true);
  errno = saved;
}

static inline void EnsureInit(void) { pthread_once(&once, Init); }

__attribute__((constructor)) static void Construct(void) { EnsureInit(); }

// ---- Per-thread randomness. ----

static uint64_t Mix(uint64_t z) {  // splitmix64's finalizer
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// initial-exec: no lazy TLS allocation on a thread's first call.
static __thread __attribute__((tls_model("initial-exec"))) uint64_t rng_state;
static __thread __attribute__((tls_model("initial-exec"))) bool rng_ready;

// splitmix64. Threads are numbered in the order they first draw, so a
// single-threaded program sees one sequence per seed.
static uint64_t Next(void) {
  if (!rng_ready) {
    uint64_t index = atomic_fetch_add(&thread_counter, 1);
    rng_state = Mix(seed) ^ Mix(index + 0x9e3779b97f4a7c15ull);
    rng_ready = true;
  }
  rng_state += 0x9e3779b97f4a7c15ull;
  return Mix(rng_state);
}

static bool OneIn(uint64_t n) { return Next() % n == 0; }

// A uniformly random length in [1, length-1] half of the time, else length.
static size_t MaybeCut(size_t length) {
  if (!(modes & kShortIo) || length <= 1 || !OneIn(2)) return length;
  return 1 + (size_t)(Next() % (length - 1));
}

// ---- Which calls are perturbed. ----

// fstat on every call: descriptors are reused, so nothing is cached.
static bool IsSocket(int fd) {
  struct stat info;
  if (fstat(fd, &info) != 0) return false;
  if (!S_ISSOCK(info.st_mode)) return false;
  if (announce_path[0] != '\0') {
    int pid = (int)getpid();  // a forked child announces itself too
    int seen = atomic_load_explicit(&announced_pid, memory_order_relaxed);
    if (seen != pid &&
        atomic_compare_exchange_strong(&announced_pid, &seen, pid)) {
      Announce("active", false);
    }
  }
  return true;
}

static bool Blocking(int fd, int flags) {
  if (flags & MSG_DONTWAIT) return false;
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && !(fl & O_NONBLOCK);
}

static bool CutsAreSafe(void);

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
static bool Perturb(int fd, int flags, size_t* length, struct Cut* cut) {
  int saved = errno;
  bool go_on = true;
  cut->active = false;
  if (modes != 0 && IsSocket(fd)) {
    if ((modes & kEintr) && *length > 0 && Blocking(fd, flags) && OneIn(4)) {
      go_on = false;
    } else if (!(flags & MSG_PEEK) && CutsAreSafe()) {
      // Not for MSG_PEEK: a peek consumes nothing, so a cut peek leaves no
      // remainder for the caller to come back for; it would only see less.
      size_t before = *length;
      *length = MaybeCut(*length);
      if (*length < before) *cut = (struct Cut){fd, *length, true};
    }
  }
  errno = go_on ? saved : EINTR;
  return go_on;
}

static size_t IovTotal(const struct iovec* iov, int count) {
  size_t total = 0;
  for (int i = 0; i < count; ++i) {
    if (iov[i].iov_len > SIZE_MAX - total) return SIZE_MAX;
    total += iov[i].iov_len;
  }
  return total;
}

#define kIovCopy 64

// Trims `iov` to `want` bytes: into `copy` when the cut falls within its
// first kIovCopy entries; past that, at the last whole entry before the
// cut (still shorter, with no allocation and no large stack frame).
static const struct iovec* TrimIov(const struct iovec* iov, int* count,
                                   size_t want, struct iovec* copy) {
  size_t so_far = 0;
  for (int i = 0; i < *count; ++i) {
    if (so_far + iov[i].iov_len < want) {
      so_far += iov[i].iov_len;
      continue;
    }
    if (i < kIovCopy) {
      memcpy(copy, iov, sizeof(*iov) * (size_t)(i + 1));
      copy[i].iov_len = want - so_far;
      *count = i + 1;
      return copy;
    }
    if (so_far > 0) *count = i;
    return iov;
  }
  return iov;
}

static bool PerturbIov(int fd, int flags, const struct iovec** iov, int* count,
                       struct iovec* copy, struct Cut* cut) {
  cut->active = false;
  if (*count <= 0) return true;
  size_t total = IovTotal(*iov, *count);
  size_t want = total;
  if (!Perturb(fd, flags, &want, cut)) return false;
  if (want < total) {
    *iov = TrimIov(*iov, count, want, copy);
    cut->want = IovTotal(*iov, *count);
    cut->active = cut->want < total;
  }
  return true;
}

// Blocking calls of the poll family: EINTR before doing anything.
static bool WaitInterrupted(bool may_block) {
  if (!(modes & kEintr) || !may_block || !OneIn(4)) return false;
  errno = EINTR;
  return true;
}

static bool TimespecNonZero(const struct timespec* t) {
  return t == NULL || t->tv_sec != 0 || t->tv_nsec != 0;
}

// ---- Edge-triggered readiness stays truthful. ----
//
// epoll(7): on a stream socket, a read or write that transfers less than
// asked means the buffer is exhausted, and event loops rely on it (Asio and
// tokio stop after a short read and wait for the next edge). A cut the
// kernel would not have made breaks that promise: the data left behind gets
// no new edge. So the program's epoll registrations are mirrored here, and
// after a cut the kernel carried out in full, the descriptor's
// edge-triggered registrations are re-armed with EPOLL_CTL_MOD, which
// reports the readiness that is still there: one more event, the same the
// program would get from new data arriving. EPOLLONESHOT registrations need
// nothing: the program re-arms them itself, which reports it the same way.

#define kMaxRegistrations 4096

static struct {
  int epfd;
  int fd;
  struct epoll_event event;
} registrations[kMaxRegistrations];
static int registration_count;
// Past the table's size nothing is known for sure: no more cuts.
static atomic_bool registrations_overflowed;
static pthread_mutex_t registrations_lock = PTHREAD_MUTEX_INITIALIZER;

static bool CutsAreSafe(void) {
  return !atomic_load_explicit(&registrations_overflowed, memory_order_relaxed);
}

static int FindRegistration(int epfd, int fd) {
  for (int i = 0; i < registration_count; ++i) {
    if (registrations[i].epfd == epfd && registrations[i].fd == fd) return i;
  }
  return -1;
}

static void ForgetRegistration(int i) {
  registrations[i] = registrations[--registration_count];
}

// The program's epoll_ctl runs under the same lock as the re-arming, so a
// re-arm never writes back events the program has since changed.
EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  EnsureInit();
  if (modes == 0) return real.epoll_ctl(epfd, op, fd, event);
  pthread_mutex_lock(&registrations_lock);
  int r = real.epoll_ctl(epfd, op, fd, event);
  int saved = errno;
  int i = FindRegistration(epfd, fd);
  if (r == 0 && op == EPOLL_CTL_DEL) {
    if (i >= 0) ForgetRegistration(i);
  } else if (r == 0 && event != NULL) {
    if (i < 0 && registration_count < kMaxRegistrations) {
      i = registration_count++;
    }
    if (i >= 0) {
      registrations[i].epfd = epfd;
      registrations[i].fd = fd;
      registrations[i].event = *event;
    } else {
      atomic_store(&registrations_overflowed, true);
    }
  } else if (r != 0 && op == EPOLL_CTL_ADD && saved == EEXIST && i < 0) {
    // Registered before we saw it (an inherited epoll set): unknown events.
    atomic_store(&registrations_overflowed, true);
  }
  pthread_mutex_unlock(&registrations_lock);
  errno = saved;
  return r;
}

static void Rearm(int fd) {
  int saved = errno;
  pthread_mutex_lock(&registrations_lock);
  for (int i = 0; i < registration_count; ++i) {
    if (registrations[i].fd != fd) continue;
    const uint32_t events = registrations[i].event.events;
    if (!(events & EPOLLET) || (events & EPOLLONESHOT)) continue;
    struct epoll_event event = registrations[i].event;
    if (real.epoll_ctl(registrations[i].epfd, EPOLL_CTL_MOD, fd, &event) != 0) {
      // The descriptor (or the epoll set) was closed since: a stale entry.
      ForgetRegistration(i--);
    }
  }
  pthread_mutex_unlock(&registrations_lock);
  errno = saved;
}

// The result of a data call: after a cut the kernel carried out in full,
// the descriptor's readiness is reported again.
static ssize_t Finish(const struct Cut* cut, ssize_t n) {
  if (cut->active && n >= 0 && (size_t)n == cut->want) Rearm(cut->fd);
  return n;
}

// ---- The wrappers. ----

EXPORT ssize_t read(int fd, void* buf, size_t count) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, 0, &count, &cut)) return -1;
  return Finish(&cut, real.read(fd, buf, count));
}

EXPORT ssize_t __read_chk(int fd, void* buf, size_t nbytes, size_t buflen) {
  EnsureInit();
  struct Cut cut = {0};
  // The check is against the caller's length: only a valid call is cut.
  if (nbytes <= buflen && !Perturb(fd, 0, &nbytes, &cut)) return -1;
  return Finish(&cut, real.read_chk(fd, buf, nbytes, buflen));
}

EXPORT ssize_t recv(int fd, void* buf, size_t len, int flags) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, flags, &len, &cut)) return -1;
  return Finish(&cut, real.recv(fd, buf, len, flags));
}

EXPORT ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen,
                          int flags) {
  EnsureInit();
  struct Cut cut = {0};
  if (len <= buflen && !Perturb(fd, flags, &len, &cut)) return -1;
  return Finish(&cut, real.recv_chk(fd, buf, len, buflen, flags));
}

EXPORT ssize_t recvfrom(int fd, void* buf, size_t len, int flags,
                        __SOCKADDR_ARG addr, socklen_t* addrlen) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, flags, &len, &cut)) return -1;
  return Finish(&cut, real.recvfrom(fd, buf, len, flags, addr, addrlen));
}

EXPORT ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen,
                              int flags, __SOCKADDR_ARG addr,
                              socklen_t* addrlen) {
  EnsureInit();
  struct Cut cut = {0};
  if (len <= buflen && !Perturb(fd, flags, &len, &cut)) return -1;
  return Finish(&cut,
                real.recvfrom_chk(fd, buf, len, buflen, flags, addr, addrlen));
}

EXPORT ssize_t readv(int fd, const struct iovec* iov, int iovcnt) {
  EnsureInit();
  struct iovec copy[kIovCopy];
  struct Cut cut;
  if (!PerturbIov(fd, 0, &iov, &iovcnt, copy, &cut)) return -1;
  return Finish(&cut, real.readv(fd, iov, iovcnt));
}

EXPORT ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  EnsureInit();
  if (modes == 0 || msg == NULL || msg->msg_iovlen > INT32_MAX) {
    return real.recvmsg(fd, msg, flags);
  }
  const struct iovec* iov = msg->msg_iov;
  int count = (int)msg->msg_iovlen;
  struct iovec copy[kIovCopy];
  struct Cut cut;
  if (!PerturbIov(fd, flags, &iov, &count, copy, &cut)) return -1;
  if (iov == msg->msg_iov && count == (int)msg->msg_iovlen) {
    return real.recvmsg(fd, msg, flags);
  }
  // A copy with fewer bytes; the name and control buffers are the caller's,
  // and what the kernel reports about them goes back to the caller.
  struct msghdr shorter = *msg;
  shorter.msg_iov = (struct iovec*)iov;
  shorter.msg_iovlen = (size_t)count;
  ssize_t n = real.recvmsg(fd, &shorter, flags);
  msg->msg_namelen = shorter.msg_namelen;
  msg->msg_controllen = shorter.msg_controllen;
  msg->msg_flags = shorter.msg_flags;
  return Finish(&cut, n);
}

EXPORT ssize_t write(int fd, const void* buf, size_t count) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, 0, &count, &cut)) return -1;
  return Finish(&cut, real.write(fd, buf, count));
}

EXPORT ssize_t send(int fd, const void* buf, size_t len, int flags) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, flags, &len, &cut)) return -1;
  return Finish(&cut, real.send(fd, buf, len, flags));
}

EXPORT ssize_t sendto(int fd, const void* buf, size_t len, int flags,
                      __CONST_SOCKADDR_ARG addr, socklen_t addrlen) {
  EnsureInit();
  struct Cut cut;
  if (!Perturb(fd, flags, &len, &cut)) return -1;
  return Finish(&cut, real.sendto(fd, buf, len, flags, addr, addrlen));
}

EXPORT ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  EnsureInit();
  struct iovec copy[kIovCopy];
  struct Cut cut;
  if (!PerturbIov(fd, 0, &iov, &iovcnt, copy, &cut)) return -1;
  return Finish(&cut, real.writev(fd, iov, iovcnt));
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  EnsureInit();
  if (modes == 0 || msg == NULL || msg->msg_iovlen > INT32_MAX) {
    return real.sendmsg(fd, msg, flags);
  }
  const struct iovec* iov = msg->msg_iov;
  int count = (int)msg->msg_iovlen;
  struct iovec copy[kIovCopy];
  struct Cut cut;
  if (!PerturbIov(fd, flags, &iov, &count, copy, &cut)) return -1;
  if (iov == msg->msg_iov && count == (int)msg->msg_iovlen) {
    return real.sendmsg(fd, msg, flags);
  }
  // Ancillary data (SCM_RIGHTS...) stays: it goes with the first byte.
  struct msghdr shorter = *msg;
  shorter.msg_iov = (struct iovec*)iov;
  shorter.msg_iovlen = (size_t)count;
  return Finish(&cut, real.sendmsg(fd, &shorter, flags));
}

// accept(2) lists ECONNABORTED ("a connection has been aborted"): a caller
// must retry.
static bool AcceptFails(int fd) {
  if (modes == 0) return false;
  int saved = errno;
  if (!IsSocket(fd)) {
    errno = saved;
    return false;
  }
  if ((modes & kAcceptAborted) && OneIn(4)) {
    errno = ECONNABORTED;
    return true;
  }
  if ((modes & kEintr) && Blocking(fd, 0) && OneIn(4)) {
    errno = EINTR;
    return true;
  }
  errno = saved;
  return false;
}

// __SOCKADDR_ARG: a transparent union in GNU C, as glibc declares it.
EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t* addrlen) {
  EnsureInit();
  if (AcceptFails(fd)) return -1;
  return real.accept(fd, addr, addrlen);
}

EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t* addrlen, int flags) {
  EnsureInit();
  if (AcceptFails(fd)) return -1;
  return real.accept4(fd, addr, addrlen, flags);
}

EXPORT int poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  EnsureInit();
  if (WaitInterrupted(timeout != 0)) return -1;
  return real.poll(fds, nfds, timeout);
}

EXPORT int __poll_chk(struct pollfd* fds, nfds_t nfds, int timeout,
                      size_t fdslen) {
  EnsureInit();
  if (WaitInterrupted(timeout != 0)) return -1;
  return real.poll_chk(fds, nfds, timeout, fdslen);
}

EXPORT int ppoll(struct pollfd* fds, nfds_t nfds, const struct timespec* tmo,
                 const sigset_t* mask) {
  EnsureInit();
  if (WaitInterrupted(TimespecNonZero(tmo))) return -1;
  return real.ppoll(fds, nfds, tmo, mask);
}

EXPORT int __ppoll_chk(struct pollfd* fds, nfds_t nfds,
                       const struct timespec* tmo, const sigset_t* mask,
                       size_t fdslen) {
  EnsureInit();
  if (WaitInterrupted(TimespecNonZero(tmo))) return -1;
  return real.ppoll_chk(fds, nfds, tmo, mask, fdslen);
}

EXPORT int select(int nfds, fd_set* r, fd_set* w, fd_set* e,
                  struct timeval* timeout) {
  EnsureInit();
  bool may_block =
      timeout == NULL || timeout->tv_sec != 0 || timeout->tv_usec != 0;
  if (WaitInterrupted(may_block)) return -1;
  return real.select(nfds, r, w, e, timeout);
}

EXPORT int pselect(int nfds, fd_set* r, fd_set* w, fd_set* e,
                   const struct timespec* timeout, const sigset_t* mask) {
  EnsureInit();
  if (WaitInterrupted(TimespecNonZero(timeout))) return -1;
  return real.pselect(nfds, r, w, e, timeout, mask);
}

EXPORT int epoll_wait(int epfd, struct epoll_event* events, int max,
                      int timeout) {
  EnsureInit();
  if (WaitInterrupted(timeout != 0)) return -1;
  return real.epoll_wait(epfd, events, max, timeout);
}

EXPORT int epoll_pwait(int epfd, struct epoll_event* events, int max,
                       int timeout, const sigset_t* mask) {
  EnsureInit();
  if (WaitInterrupted(timeout != 0)) return -1;
  return real.epoll_pwait(epfd, events, max, timeout, mask);
}

// glibc 2.35's epoll_pwait2; where libc lacks it, so does the caller.
EXPORT int epoll_pwait2(int epfd, struct epoll_event* events, int max,
                        const struct timespec* timeout, const sigset_t* mask) {
  EnsureInit();
  if (real.epoll_pwait2 == NULL) {
    errno = ENOSYS;
    return -1;
  }
  if (WaitInterrupted(TimespecNonZero(timeout))) return -1;
  return real.epoll_pwait2(epfd, events, max, timeout, mask);
}
