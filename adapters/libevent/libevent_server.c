// The peer contract (docs/SUT_CONTRACT.md, v1.1) on libevent 2.1
// (Debian 12: libevent-dev, libevent_core).
//
// Idiom: one event_base; an evconnlistener (evconnlistener_new_bind) for
// every address form, given a struct sockaddr of the exact length (for an
// abstract name: offsetof(sun_path) + 1 + the name, no NUL padding); a
// socket bufferevent per connection with read, write and event callbacks.
// Frames are decoded from the input evbuffer; an echo moves the payload to
// the output evbuffer (evbuffer_remove_buffer) without copying it.
// Backpressure: while the output evbuffer holds 1 MiB or more, no request
// is decoded and EV_READ is disabled; the write low-water callback
// (bufferevent_setwatermark EV_WRITE, 512 KiB) resumes. A read low
// watermark of the bytes the next frame needs keeps a large frame from
// waking the callback per 4 KiB read. BEV_EVENT_EOF on reading is the
// client's half-close, not a close: the complete requests are served and
// the output flushed before the bufferevent is freed. fd:N: a socket
// bufferevent on the inherited descriptor. SIGTERM: evsignal_new. Every
// address form is served.
//
// What libevent leaves to its user:
// - Accept errors other than EINTR/EAGAIN/ECONNABORTED go to the listener's
//   error callback, and the listener stays enabled: its event is level-
//   triggered, so with EMFILE it would call accept (and the callback, or
//   log a warning without one) in a busy loop. As the maintainers advise
//   (https://github.com/libevent/libevent/issues/71), the error callback
//   disables the listener and a timer re-enables it 100 ms later.
// - No half-close in the bufferevent API: shutdown(2) on
//   bufferevent_getfd once the output evbuffer is empty (WORKAROUND).
// - No abortive close: setsockopt SO_LINGER on bufferevent_getfd for 'A'
//   (WORKAROUND).
// - libevent writes with writev(2) (no MSG_NOSIGNAL), so a write to a
//   vanished peer raises SIGPIPE; libevent leaves signal dispositions to
//   the program, which ignores SIGPIPE.
// - evconnlistener_new_bind does not replace a stale socket file (bind fails
//   with EADDRINUSE) nor remove it at exit: a connect probe before binding
//   again, and a dev+inode check before unlinking at exit.
//
// This file: startup, the listener and its accept errors, SIGTERM and the
// socket file's removal. libevent_connection.c serves the connections;
// libevent_address.c parses ADDRESS.
#define _DEFAULT_SOURCE
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libevent_server.h"

struct event_base *base;
int single;
static struct evconnlistener *listener;
static struct event *accept_retry;
static int accept_paused;

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *peer, int peer_len, void *arg) {
  (void)l, (void)peer, (void)peer_len, (void)arg;
  accept_paused = 0;
  serve(fd);
}

// accept failed with a non-retriable error, mostly EMFILE or ENFILE: the
// connection stays queued and the listener readable. Pause accepting.
static void on_accept_error(struct evconnlistener *l, void *arg) {
  (void)arg;
  int error = EVUTIL_SOCKET_ERROR();
  if (!accept_paused)
    fprintf(stderr, "accept: %s; pausing accepts for 100 ms at a time\n",
            evutil_socket_error_to_string(error));
  accept_paused = 1;
  evconnlistener_disable(l);
  struct timeval wait = {0, 100 * 1000};
  evtimer_add(accept_retry, &wait);
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg) {
  (void)fd, (void)what, (void)arg;
  if (listener) evconnlistener_enable(listener);
}

static void on_sigterm(evutil_socket_t fd, short what, void *arg) {
  (void)fd, (void)what, (void)arg;
  if (listener) evconnlistener_free(listener);  // closes the socket
  listener = NULL;
  close_all_conns();
  event_base_loopexit(base, NULL);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
    return 2;
  }
  const char *text = argv[1];
  signal(SIGPIPE, SIG_IGN);
  base = event_base_new();
  if (base == NULL) return 1;
  struct event *sigterm = evsignal_new(base, SIGTERM, on_sigterm, NULL);
  event_add(sigterm, NULL);
  accept_retry = evtimer_new(base, on_accept_retry, NULL);
  const char *path = NULL;
  struct stat bound;  // the socket file we bound, removed at exit only if ours
  if (strncmp(text, "fd:", 3) == 0) {
    char *end;
    long fd = strtol(text + 3, &end, 10);
    if (text[3] == '\0' || *end != '\0' || fd < 0 || fd > 1023) {
      fprintf(stderr, "%s: expected fd:N\n", text);
      return 2;
    }
    if (evutil_make_socket_nonblocking((evutil_socket_t)fd) != 0) return 1;
    single = 1;
    serve((evutil_socket_t)fd);
  } else {
    struct sockaddr_storage ss;
    int len;
    if (parse_address(text, &ss, &len, &path) != 0) return 2;
    const struct sockaddr *sa = (const struct sockaddr *)&ss;
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    if (sa->sa_family != AF_UNIX) flags |= LEV_OPT_REUSEABLE;
    for (int attempt = 0;; attempt++) {
      listener = evconnlistener_new_bind(base, on_accept, NULL, flags, -1, sa,
                                         len);
      if (listener != NULL) break;
      int error = errno;
      if (path == NULL || error != EADDRINUSE || attempt == 3) {
        fprintf(stderr, "cannot listen on %s: %s\n", text, strerror(error));
        return 1;
      }
      struct stat st;
      if (lstat(path, &st) != 0) continue;  // gone: bind again
      if (!S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "%s exists and is not a socket; leaving it alone\n",
                path);
        return 1;
      }
      if (someone_listens(sa, (socklen_t)len)) {
        fprintf(stderr, "a server already listens on %s; leaving it alone\n",
                path);
        return 1;
      }
      unlink(path);  // stale: its server is gone
    }
    if (path != NULL && stat(path, &bound) != 0) path = NULL;
    evconnlistener_set_error_cb(listener, on_accept_error);
  }
  printf("ready\n");
  fflush(stdout);
  event_base_dispatch(base);
  // Only if the file at the path is still ours: another server may have
  // bound the path since (an overlapping restart).
  struct stat now;
  if (path != NULL && stat(path, &now) == 0 && now.st_dev == bound.st_dev &&
      now.st_ino == bound.st_ino) {
    unlink(path);
  }
  if (listener) evconnlistener_free(listener);
  event_free(accept_retry);
  event_free(sigterm);
  event_base_free(base);
  return 0;
}
