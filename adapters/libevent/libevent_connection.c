// One client connection of the libevent adapter: its socket bufferevent,
// the peer-contract protocol on the input and output evbuffers, and its
// close.
#define _DEFAULT_SOURCE
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "libevent_server.h"

#define MAX_FRAME (16u << 20)
#define HIGH_WATER (1u << 20)
#define LOW_WATER (HIGH_WATER / 2)

typedef struct Conn {
  struct bufferevent *bev;
  struct Conn *prev, *next;
  int reading, eof, stop, discard;
  int shut_after_flush, shut_done, close_after_flush;
} Conn;

static Conn *conns;  // the open connections, for SIGTERM
static unsigned n_open;  // what N replies

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

void serve(evutil_socket_t fd) {
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

void close_all_conns(void) {
  while (conns) conn_free(conns, 0);
}
