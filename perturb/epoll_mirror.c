// Edge-triggered readiness stays truthful.
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

// Our definitions of libc's functions must not meet the fortified inline
// ones; so before any header (CMake also passes -U_FORTIFY_SOURCE).
#undef _FORTIFY_SOURCE

#include <errno.h>
#include <stdatomic.h>

#include "perturb_internal.h"

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

bool CutsAreSafe(void) {
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

ssize_t Finish(const struct Cut* cut, ssize_t n) {
  if (cut->active && n >= 0 && (size_t)n == cut->want) Rearm(cut->fd);
  return n;
}
