// The client contract (docs/CLIENT_CONTRACT.md, v0.1) on libevent 2.1
// (Debian 12: libevent-dev, libevent_core).
//
// Idiom: one event_base; a socket bufferevent connected with
// bufferevent_socket_connect to the struct sockaddr that
// libevent_address.c parses (an abstract name: offsetof(sun_path) + 1 + the
// name, no NUL padding), or made on the inherited descriptor for fd:N. The
// requests go into the output evbuffer before the connect (libevent writes
// them once connected); replies are decoded from the input evbuffer in the
// read callback, with a read low watermark of the bytes the next frame
// needs; the event callback reports BEV_EVENT_CONNECTED, EOF and ERROR, the
// error as EVUTIL_SOCKET_ERROR(). SIGTERM: evsignal_new. Every address form
// is supported.
//
// bufferevent_socket_connect fails at once (returns -1, errno set) when
// connect(2) fails with anything but EINPROGRESS, EINTR or ECONNREFUSED
// (event-internal evutil_socket_connect_): that is reported as the end.
// SIGPIPE is left alone: libevent documents no guard against it, and writes
// with writev(2), which raises it on a broken connection.
#define _GNU_SOURCE  // strerrorname_np
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libevent_server.h"

struct event_base *base;  // declared by libevent_server.h
int single;

static struct bufferevent *bev;
static int ended;

static void say(const char *line) {
  puts(line);
  fflush(stdout);
}

// The one `end` line for the error `error`; frees the bufferevent (closing
// the socket), after which only the SIGTERM event is left in the base.
static void finish(const char *how, int error) {
  if (ended) return;
  ended = 1;
  if (how != NULL) {
    printf("end %s\n", how);
  } else if (error == ECONNRESET) {
    printf("end reset\n");
  } else if (error == ECONNREFUSED) {
    printf("end refused\n");
  } else {
    const char *name = error != 0 ? strerrorname_np(error) : NULL;
    printf("end error %s\n", name != NULL ? name : "EOTHER");
  }
  fflush(stdout);
  if (bev != NULL) bufferevent_free(bev);  // BEV_OPT_CLOSE_ON_FREE
  bev = NULL;
}

// Prints every whole reply in the input evbuffer; the read low watermark is
// set to what the next one needs.
static void on_read(struct bufferevent *b, void *arg) {
  (void)arg;
  struct evbuffer *in = bufferevent_get_input(b);
  for (;;) {
    size_t have = evbuffer_get_length(in);
    unsigned char head[4];
    if (have < 4) {
      bufferevent_setwatermark(b, EV_READ, 4, 0);
      return;
    }
    evbuffer_copyout(in, head, 4);
    uint32_t len = ((uint32_t)head[0] << 24) | ((uint32_t)head[1] << 16) |
                   ((uint32_t)head[2] << 8) | head[3];
    if (have - 4 < len) {
      bufferevent_setwatermark(b, EV_READ, 4 + (size_t)len, 0);
      return;
    }
    evbuffer_drain(in, 4);
    uint32_t hash = 2166136261u;
    for (size_t left = len; left > 0;) {  // the payload, chunk by chunk
      struct evbuffer_iovec vec[16];
      int n = evbuffer_peek(in, (ev_ssize_t)left, NULL, vec, 16);
      size_t done = 0;
      for (int i = 0; i < n && i < 16 && done < left; i++) {
        size_t take =
            vec[i].iov_len < left - done ? vec[i].iov_len : left - done;
        const unsigned char *p = vec[i].iov_base;
        for (size_t j = 0; j < take; j++) hash = (hash ^ p[j]) * 16777619u;
        done += take;
      }
      evbuffer_drain(in, done);
      left -= done;
    }
    printf("reply %u %08x\n", len, hash);
    fflush(stdout);
  }
}

static void on_event(struct bufferevent *b, short what, void *arg) {
  (void)arg;
  int error = EVUTIL_SOCKET_ERROR();
  if (what & BEV_EVENT_CONNECTED) {
    say("connected");
    return;
  }
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) on_read(b, NULL);
  if (what & BEV_EVENT_EOF) {
    finish(evbuffer_get_length(bufferevent_get_input(b)) > 0 ? "eof partial"
                                                             : "eof",
           0);
  } else if (what & BEV_EVENT_ERROR) {
    finish(NULL, error);
  }
}

static void on_sigterm(evutil_socket_t fd, short what, void *arg) {
  (void)fd, (void)what, (void)arg;
  event_base_loopexit(base, NULL);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s ADDRESS < REQUESTS\n", argv[0]);
    return 2;
  }
  const char *text = argv[1];
  base = event_base_new();
  if (base == NULL) return 1;
  struct event *sigterm = evsignal_new(base, SIGTERM, on_sigterm, NULL);
  event_add(sigterm, NULL);
  evutil_socket_t fd = -1;
  struct sockaddr_storage ss;
  int len = 0;
  if (strncmp(text, "fd:", 3) == 0) {
    char *end;
    long n = strtol(text + 3, &end, 10);
    if (text[3] == '\0' || *end != '\0' || n < 0 || n > 1023) {
      fprintf(stderr, "%s: expected fd:N\n", text);
      return 2;
    }
    fd = (evutil_socket_t)n;
    if (evutil_make_socket_nonblocking(fd) != 0) {
      finish(NULL, EVUTIL_SOCKET_ERROR());
      fd = -2;
    }
  } else {
    const char *path;
    if (parse_address(text, &ss, &len, &path) != 0) return 2;
  }
  if (fd != -2) {
    bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(bev, on_read, NULL, on_event, NULL);
    bufferevent_setwatermark(bev, EV_READ, 4, 0);
    // The requests: all of standard input, queued in the output evbuffer.
    struct evbuffer *out = bufferevent_get_output(bev);
    for (;;) {
      int n = evbuffer_read(out, STDIN_FILENO, 65536);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        perror("reading standard input");
        return 1;
      }
      if (n == 0) break;
    }
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    if (fd == -1 &&
        bufferevent_socket_connect(bev, (struct sockaddr *)&ss, len) != 0) {
      finish(NULL, EVUTIL_SOCKET_ERROR());
    }
  }
  event_base_dispatch(base);
  if (bev != NULL) bufferevent_free(bev);
  event_free(sigterm);
  event_base_free(base);
  return 0;
}
