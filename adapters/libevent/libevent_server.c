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
#define _DEFAULT_SOURCE
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FRAME (16u << 20)
#define HIGH_WATER (1u << 20)
#define LOW_WATER (HIGH_WATER / 2)

typedef struct Conn {
  struct bufferevent *bev;
  struct Conn *prev, *next;
  int reading, eof, stop, discard;
  int shut_after_flush, shut_done, close_after_flush;
} Conn;

static struct event_base *base;
static struct evconnlistener *listener;
static struct event *accept_retry;
static int accept_paused;
static Conn *conns;
static unsigned n_open;
static int single;  // fd:N: the run ends with the connection

static uint32_t get_be32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | p[3];
}

// A frame header for `len` bytes of payload, into the output evbuffer.
static void add_header(struct evbuffer *out, uint32_t len) {
  unsigned char header[4] = {len >> 24, len >> 16, len >> 8, len};
  evbuffer_add(out, header, 4);
}

static void conn_free(Conn *c, int abortive) {
  if (c->prev) c->prev->next = c->next; else conns = c->next;
  if (c->next) c->next->prev = c->prev;
  n_open--;
  if (abortive) {
    // WORKAROUND: libevent has no call for an abortive close; SO_LINGER
    // {1, 0} on the bufferevent's descriptor, so TCP closes with a reset.
    struct linger abort_now = {1, 0};
    setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET, SO_LINGER, &abort_now,
               sizeof abort_now);
  }
  bufferevent_free(c->bev);  // BEV_OPT_CLOSE_ON_FREE: closes the socket
  free(c);
  if (single) event_base_loopexit(base, NULL);
}

static void protocol_error(Conn *c) {
  c->stop = 1;
  c->close_after_flush = 1;
}

// Serves one complete frame of `len` bytes at the head of the input;
// `head` holds its first (up to) 9 bytes. Returns -1 when it freed c.
static int handle(Conn *c, const unsigned char *head, uint32_t len) {
  struct evbuffer *in = bufferevent_get_input(c->bev);
  struct evbuffer *out = bufferevent_get_output(c->bev);
  switch (head[4]) {
    case 'E':
      evbuffer_drain(in, 4);
      add_header(out, len);
      evbuffer_remove_buffer(in, out, len);
      return 0;
    case 'B': {
      uint32_t n = get_be32(head + 5);
      if (len != 5 || n > MAX_FRAME - 1) break;
      evbuffer_drain(in, 9);
      add_header(out, n + 1);
      evbuffer_add(out, "B", 1);
      struct evbuffer_iovec space;
      if (n > 0 && evbuffer_reserve_space(out, n, &space, 1) == 1) {
        unsigned char *bytes = space.iov_base;
        for (uint32_t i = 0; i < n; i++) bytes[i] = (unsigned char)(i % 251);
        space.iov_len = n;
        evbuffer_commit_space(out, &space, 1);
      }
      return 0;
    }
    case 'N': {
      if (len != 1) break;
      evbuffer_drain(in, 5);
      char count[16];
      int size = snprintf(count, sizeof count, "N%u", n_open);
      add_header(out, (uint32_t)size);
      evbuffer_add(out, count, (size_t)size);
      return 0;
    }
    case 'S':  // shut down after the replies; read and discard until EOF
      c->shut_after_flush = 1;
      c->discard = 1;
      c->stop = 1;
      return 0;
    case 'C':
      c->stop = 1;
      c->close_after_flush = 1;
      return 0;
    case 'A':
      conn_free(c, 1);
      return -1;
  }
  protocol_error(c);
  return 0;
}

// Serves the complete frames in the input while the output allows.
// Returns 1 when a complete frame waits for the output to drain, -1 when
// it freed c, else 0.
static int process(Conn *c) {
  struct evbuffer *in = bufferevent_get_input(c->bev);
  struct evbuffer *out = bufferevent_get_output(c->bev);
  size_t want = 4;  // the bytes the next frame needs in full
  int blocked = 0;
  while (!c->stop) {
    size_t avail = evbuffer_get_length(in);
    unsigned char head[9] = {0};
    want = 4;
    if (avail < 4) break;
    evbuffer_copyout(in, head, avail < 9 ? avail : 9);
    uint32_t len = get_be32(head);
    if (len == 0 || len > MAX_FRAME) {  // checked before waiting for L bytes
      protocol_error(c);
      break;
    }
    want = 4 + (size_t)len;
    if (avail < want) break;
    if (evbuffer_get_length(out) >= HIGH_WATER) {
      blocked = 1;
      break;
    }
    if (handle(c, head, len) < 0) return -1;
  }
  if (c->stop) {
    evbuffer_drain(in, evbuffer_get_length(in));
    want = 0;
  }
  bufferevent_setwatermark(c->bev, EV_READ, blocked ? 0 : want, 0);
  return blocked;
}

// Once the output evbuffer is empty: shut down (S) or close (C, EOF,
// error). Returns -1 when it freed c.
static int maybe_finish(Conn *c) {
  if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) return 0;
  if (c->shut_after_flush && !c->shut_done) {
    c->shut_done = 1;
    // WORKAROUND: bufferevents have no half-close; shutdown(2) on the
    // descriptor, with nothing left in the output evbuffer.
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
  }
  if (!c->close_after_flush) return 0;
  conn_free(c, 0);
  return -1;
}

static void pump(Conn *c) {
  int blocked = process(c);
  if (blocked < 0) return;
  // End of stream: serve the complete frames, drop a partial one, flush,
  // close. The client's half-close is not a close.
  if (c->eof && !blocked) {
    c->stop = 1;
    c->close_after_flush = 1;
  }
  if (maybe_finish(c) < 0) return;
  int read = !c->eof && !c->close_after_flush &&
             (c->discard ||
              (!blocked && evbuffer_get_length(bufferevent_get_output(
                               c->bev)) < HIGH_WATER));
  if (read && !c->reading) bufferevent_enable(c->bev, EV_READ);
  if (!read && c->reading) bufferevent_disable(c->bev, EV_READ);
  c->reading = read;
}

static void on_read(struct bufferevent *bev, void *arg) {
  Conn *c = arg;
  if (c->discard) {
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    return;
  }
  pump(c);
}

// The output drained to the low watermark (512 KiB) or below.
static void on_write(struct bufferevent *bev, void *arg) {
  (void)bev;
  pump(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg) {
  (void)bev;
  Conn *c = arg;
  if ((what & BEV_EVENT_READING) && (what & BEV_EVENT_EOF)) {
    c->eof = 1;  // libevent has disabled EV_READ; writing goes on
    c->reading = 0;
    pump(c);
    return;
  }
  if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) conn_free(c, 0);
}

static void serve(evutil_socket_t fd) {
  struct bufferevent *bev = bufferevent_socket_new(base, fd,
                                                   BEV_OPT_CLOSE_ON_FREE);
  Conn *c = calloc(1, sizeof *c);
  if (bev == NULL || c == NULL) {
    if (bev) bufferevent_free(bev); else evutil_closesocket(fd);
    free(c);
    return;
  }
  c->bev = bev;
  c->next = conns;
  if (conns) conns->prev = c;
  conns = c;
  n_open++;
  bufferevent_setcb(bev, on_read, on_write, on_event, c);
  bufferevent_setwatermark(bev, EV_WRITE, LOW_WATER, 0);
  pump(c);
}

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
  while (conns) conn_free(conns, 0);
  event_base_loopexit(base, NULL);
}

// Whether a server accepts connections at `sa`. Only a refused connection
// (or a vanished file) proves a socket file stale; anything else counts as
// live. Non-blocking, so a live server with a full backlog (EAGAIN) cannot
// keep us waiting.
static int someone_listens(const struct sockaddr *sa, socklen_t len) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return 1;
  int live = connect(fd, sa, len) == 0 ||
             !(errno == ECONNREFUSED || errno == ENOENT);
  close(fd);
  return live;
}

// The sockaddr for ADDRESS, of the exact length, or -1 after saying why.
static int parse_address(const char *text, struct sockaddr_storage *ss,
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
