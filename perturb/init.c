// libsockparity_perturb.so: an LD_PRELOAD library that makes socket calls
// do what the peer contract says they may do (docs/SUT_CONTRACT.md,
// Resources): transfer fewer bytes than asked, fail with EINTR, and (for
// accept) fail with ECONNABORTED. See perturb/README.md for the interface.
//
// C, not C++, and no dependency but libc: it is loaded into processes of
// any language and build (Node, Java, sanitizer builds), where neither
// libstdc++ nor a sanitizer runtime may come with it.
//
// This file resolves the real functions once, then reads the settings.
#undef _FORTIFY_SOURCE  // as in every file of the library

#include <dlfcn.h>
#include <errno.h>

#include "perturb_internal.h"

struct RealFunctions real;
pthread_once_t init_once = PTHREAD_ONCE_INIT;

#define RESOLVE(field, name) \
  real.field = (__typeof__(real.field))dlsym(RTLD_NEXT, name)

void Init(void) {
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

__attribute__((constructor)) static void Construct(void) { EnsureInit(); }
