// What the kernel could do to this call, in this process, now: signal(7)
// and the socket's own timeouts decide whether a blocking call may fail
// with EINTR or return early. Read at the call, never cached: a program
// may install a handler, change its mask or set a timeout at any moment
// (and some runtimes call rt_sigaction without libc, so no interposition
// of sigaction could keep a cache right). It runs only once the random
// draw has chosen to perturb a call, so its cost (one rt_sigprocmask and
// up to SIGRTMAX-2 rt_sigaction reads) is paid by perturbed calls alone.
#undef _FORTIFY_SOURCE  // as in every file of the library

#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "perturb_internal.h"

// Whether a handler that `mask` leaves deliverable to this thread exists:
// any handler, or (without_restart) one installed without SA_RESTART.
// glibc's sigaction refuses its two internal signals (SIGCANCEL, SIGSETXID);
// they come only from the program's own pthread_cancel and set*id calls.
static bool HandlerExists(const sigset_t* mask, bool without_restart) {
  for (int sig = 1; sig <= SIGRTMAX; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (sigismember(mask, sig) == 1) continue;
    struct sigaction action;
    if (sigaction(sig, NULL, &action) != 0) continue;
    if (!(action.sa_flags & SA_SIGINFO) &&
        (action.sa_handler == SIG_DFL || action.sa_handler == SIG_IGN)) {
      continue;  // the default action stops, ends or ignores: no return
    }
    if (!without_restart || !(action.sa_flags & SA_RESTART)) return true;
  }
  return false;
}

static void ThreadMask(sigset_t* mask) {
  if (pthread_sigmask(SIG_SETMASK, NULL, mask) != 0) sigemptyset(mask);
}

// SO_RCVTIMEO (reads, accept) or SO_SNDTIMEO (writes) set and not zero.
static bool TimeoutSet(int fd, enum Direction direction) {
  struct timeval tv = {0, 0};
  socklen_t length = sizeof(tv);
  int option = direction == kWrite ? SO_SNDTIMEO : SO_RCVTIMEO;
  if (getsockopt(fd, SOL_SOCKET, option, &tv, &length) != 0) return false;
  return tv.tv_sec != 0 || tv.tv_usec != 0;
}

// signal(7): a blocking socket call is restarted after a handler with
// SA_RESTART, so only a handler without it makes it fail with EINTR;
// with a timeout set (SO_RCVTIMEO for input, SO_SNDTIMEO for output) it
// is never restarted, and a stop signal and SIGCONT interrupt it even
// with no handler at all ("Interruption ... by stop signals"). In the
// kernel: sock_intr_errno() in include/net/sock.h, -ERESTARTSYS without a
// timeout, -EINTR with one; read/write on a socket take the same path.
bool EintrLegal(int fd, enum Direction direction) {
  int saved = errno;
  bool legal = TimeoutSet(fd, direction);
  if (!legal) {
    sigset_t mask;
    ThreadMask(&mask);
    legal = HandlerExists(&mask, true);
  }
  errno = saved;
  return legal;
}

// A blocking send, or a recv with MSG_WAITALL, returns less than asked
// only when something ends it early: a handler runs (with or without
// SA_RESTART, a transfer that has begun returns its count: send(2),
// recv(2) MSG_WAITALL), or the timeout expires (socket(7) SO_SNDTIMEO).
bool BlockingCutLegal(int fd, enum Direction direction) {
  int saved = errno;
  bool legal = TimeoutSet(fd, direction);
  if (!legal) {
    sigset_t mask;
    ThreadMask(&mask);
    legal = HandlerExists(&mask, false);
  }
  errno = saved;
  return legal;
}

// signal(7): poll, ppoll, select, pselect and epoll_wait are never
// restarted, so any handler interrupts them; during ppoll, pselect and
// epoll_pwait the mask passed in is the thread's. epoll_wait and
// epoll_pwait also fail with EINTR after a stop signal and SIGCONT, with
// no handler ("Interruption ... by stop signals"); poll and select are
// restarted then (-ERESTART_RESTARTBLOCK, -ERESTARTNOHAND).
bool WaitEintrLegal(const sigset_t* call_mask, bool is_epoll) {
  if (is_epoll) return true;
  int saved = errno;
  sigset_t mask;
  if (call_mask != NULL) {
    mask = *call_mask;
  } else {
    ThreadMask(&mask);
  }
  bool legal = HandlerExists(&mask, false);
  errno = saved;
  return legal;
}
