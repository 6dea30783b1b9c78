// The libevent adapter's addresses: ADDRESS parsed into a sockaddr of the
// exact length, and the probe that tells a stale socket file from a live
// server's.
#define _DEFAULT_SOURCE
#include <errno.h>
#include <event2/util.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libevent_server.h"

// Whether a server accepts connections at `sa`. Only a refused connection
// (or a vanished file) proves a socket file stale; anything else counts as
// live. Non-blocking, so a live server with a full backlog (EAGAIN) cannot
// keep us waiting.
int someone_listens(const struct sockaddr *sa, socklen_t len) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return 1;
  int live = connect(fd, sa, len) == 0 ||
             !(errno == ECONNREFUSED || errno == ENOENT);
  close(fd);
  return live;
}

// The sockaddr for ADDRESS, of the exact length, or -1 after saying why.
int parse_address(const char *text, struct sockaddr_storage *ss,
                         int *len, const char **path) {
  struct sockaddr_un *un = (struct sockaddr_un *)ss;
  memset(ss, 0, sizeof *ss);
  *path = NULL;
  if (strncmp(text, "unix:@", 6) == 0 || strncmp(text, "unix:/", 6) == 0) {
    int abstract = text[5] == '@';
    const char *name = text + 5 + abstract;
    size_t size = strlen(name);
    if (size == 0 || size > sizeof un->sun_path - 1) {
      fprintf(stderr, "%s: 1 to 107 bytes fit in sun_path\n", text);
      return -1;
    }
    un->sun_family = AF_UNIX;
    // An abstract name: a leading NUL, the name, and no more (no padding).
    // A path: the path and its terminating NUL.
    memcpy(un->sun_path + abstract, name, size);
    *len = (int)(offsetof(struct sockaddr_un, sun_path) + size + 1);
    if (!abstract) *path = name;
    return 0;
  }
  *len = (int)sizeof *ss;
  if (strncmp(text, "tcp:", 4) == 0 &&
      evutil_parse_sockaddr_port(text + 4, (struct sockaddr *)ss, len) == 0) {
    return 0;
  }
  fprintf(stderr, "%s: expected unix:/PATH, unix:@NAME, tcp:HOST:PORT or fd:N\n",
          text);
  return -1;
}
