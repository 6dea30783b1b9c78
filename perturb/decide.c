// Per-thread randomness and the decision of what to perturb: which calls
// (socket descriptors only), fail with EINTR or go on, and how much of a
// transfer to ask the kernel for.
#undef _FORTIFY_SOURCE  // as in every file of the library

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "perturb_internal.h"

// ---- Per-thread randomness. ----

static atomic_uint_fast64_t thread_counter;

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

bool OneIn(uint64_t n) { return Next() % n == 0; }

// A uniformly random length in [1, length-1] half of the time, else length.
static size_t MaybeCut(size_t length) {
  if (!(modes & kShortIo) || length <= 1 || !OneIn(2)) return length;
  return 1 + (size_t)(Next() % (length - 1));
}

// ---- Which calls are perturbed. ----

static atomic_int announced_pid;  // the process that wrote its "active" line

// fstat on every call: descriptors are reused, so nothing is cached.
// Stream sockets alone: a datagram (or netlink) read cut short loses the
// rest of its message, which the kernel never does to a reader.
bool IsStreamSocket(int fd) {
  struct stat info;
  if (fstat(fd, &info) != 0) return false;
  if (!S_ISSOCK(info.st_mode)) return false;
  int type = 0;
  socklen_t type_length = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) != 0 ||
      type != SOCK_STREAM) {
    return false;
  }
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

bool Blocking(int fd, int flags) {
  if (flags & MSG_DONTWAIT) return false;
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && !(fl & O_NONBLOCK);
}

bool Perturb(int fd, int flags, enum Direction direction, size_t* length,
             struct Cut* cut) {
  int saved = errno;
  bool go_on = true;
  cut->active = false;
  if (modes != 0 && IsStreamSocket(fd)) {
    const bool blocking = Blocking(fd, flags);
    // The draw comes first, the (costlier) legality check only for a call
    // drawn: the sequence of draws is the seed's whatever is legal.
    if ((modes & kEintr) && *length > 0 && blocking && OneIn(4) &&
        EintrLegal(fd, direction)) {
      go_on = false;
    } else if (!(flags & MSG_PEEK) && CutsAreSafe()) {
      // Not for MSG_PEEK: a peek consumes nothing, so a cut peek leaves no
      // remainder for the caller to come back for; it would only see less.
      // A read returns what is there (always legal to be less); a
      // non-blocking write stops when the buffer is full; a blocking write
      // or MSG_WAITALL read ends early only for a signal or a timeout.
      const size_t before = *length;
      const size_t want = MaybeCut(before);
      const bool needs_reason =
          blocking && (direction == kWrite || (flags & MSG_WAITALL));
      if (want < before && (!needs_reason || BlockingCutLegal(fd, direction))) {
        *length = want;
        *cut = (struct Cut){fd, want, true};
      }
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

bool PerturbIov(int fd, int flags, enum Direction direction,
                const struct iovec** iov, int* count, struct iovec* copy,
                struct Cut* cut) {
  cut->active = false;
  if (*count <= 0) return true;
  size_t total = IovTotal(*iov, *count);
  size_t want = total;
  if (!Perturb(fd, flags, direction, &want, cut)) return false;
  if (want < total) {
    *iov = TrimIov(*iov, count, want, copy);
    cut->want = IovTotal(*iov, *count);
    cut->active = cut->want < total;
  }
  return true;
}

bool WaitInterrupted(bool may_block, const sigset_t* mask, bool is_epoll) {
  if (!(modes & kEintr) || !may_block || !OneIn(4)) return false;
  if (!WaitEintrLegal(mask, is_epoll)) return false;
  errno = EINTR;
  return true;
}

bool TimespecNonZero(const struct timespec* t) {
  return t == NULL || t->tv_sec != 0 || t->tv_nsec != 0;
}
