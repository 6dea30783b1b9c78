// The peer contract (docs/SUT_CONTRACT.md, v1.1) on GLib's GIO, 2.74
// (Debian 12: libglib2.0-dev, gio-2.0 + gio-unix-2.0).
//
// Idiom: a GSocketService (a GSocketListener that accepts by itself) on a
// GMainLoop; its "incoming" signal hands over each GSocketConnection. Per
// connection, g_input_stream_read_async into a buffer, and an output queue
// of GBytes written with g_output_stream_writev_all_async (GIO retries
// short writes and EINTR itself). Backpressure: no new request is decoded
// and no read is started while more than 1 MiB of replies is queued.
// Addresses: GUnixSocketAddress for a path and for an abstract name,
// GInetSocketAddress for TCP, g_socket_new_from_fd +
// g_socket_connection_factory_create_connection for fd:N. SIGTERM comes
// through g_unix_signal_add. Every address form is served.
//
// What GIO does not do, and how this adapter copes:
// - GSocketService, when accept fails (EMFILE, ENFILE, ECONNABORTED...),
//   logs g_warning ("fail: ...") and queues the next accept at once
//   (gio/gsocketservice.c, g_socket_service_ready). While descriptors are
//   exhausted the connection stays in the backlog, the listening socket
//   stays readable, and the service spins, logging a warning per turn. The
//   service gives its user no hook for accept errors, so the adapter keeps
//   the library's behaviour (the suite reports it).
// - GSocketListener never replaces a socket file, so a stale one makes
//   g_socket_listener_add_address fail with G_IO_ERROR_ADDRESS_IN_USE; the
//   adapter probes with a GSocket connect and unlinks only a dead file. It
//   does not unlink at close either: done here, only if it is still ours.
// - g_unix_socket_address_new copies the path with g_strlcpy into 108
//   bytes: a longer path would be bound truncated. The contract's paths fit
//   (at most 107 bytes); a longer one is refused here.
// - No half-close on GIOStream: g_socket_shutdown on the connection's
//   GSocket. No struct-valued socket options: see WORKAROUND at 'A'.
#define _DEFAULT_SOURCE
#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define MAX_FRAME (16u << 20)
#define HIGH_WATER (1u << 20)
#define READ_CHUNK (64u * 1024)
#define MAX_VECTORS 64

typedef struct Conn {
  GSocketConnection *connection;
  GSocket *socket;  // owned by connection
  GInputStream *in;
  GOutputStream *out;
  GCancellable *cancel;
  guint8 *chunk;     // READ_CHUNK bytes, target of the pending read
  GByteArray *inbuf; // received bytes not yet decoded
  GQueue outq;       // GBytes, encoded replies in order
  gsize queued;      // bytes in outq
  GOutputVector vec[MAX_VECTORS];
  guint in_flight;   // buffers of outq in the pending writev
  int refs;          // the list's, plus one per pending operation
  gboolean reading, writing, eof, stop, discard;
  gboolean shut_after_flush, shut_done, close_after_flush, closed;
} Conn;

static GMainLoop *loop;
static GList *conns;
static guint n_open;
static gboolean single;  // fd:N: the run ends with the connection

static guint32 get_be32(const guint8 *p) {
  return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) |
         ((guint32)p[2] << 8) | p[3];
}

static void put_be32(guint8 *p, guint32 n) {
  p[0] = n >> 24;
  p[1] = n >> 16;
  p[2] = n >> 8;
  p[3] = n;
}

static void pump(Conn *c);
static void kick_write(Conn *c);

static void conn_unref(Conn *c) {
  if (--c->refs > 0) return;
  g_byte_array_unref(c->inbuf);
  g_queue_clear_full(&c->outq, (GDestroyNotify)g_bytes_unref);
  g_object_unref(c->cancel);
  g_object_unref(c->connection);
  g_free(c->chunk);
  g_free(c);
}

// Closes at once. Pending operations end cancelled; each drops its ref.
// g_socket_close is documented not to wait for outstanding I/O, unlike
// g_io_stream_close, which refuses while an operation is pending.
static void close_conn(Conn *c, gboolean abortive) {
  if (c->closed) return;
  c->closed = TRUE;
  conns = g_list_remove(conns, c);
  n_open--;
  g_cancellable_cancel(c->cancel);
  if (abortive) {
    // WORKAROUND: g_socket_set_option passes an int (sizeof (gint)), and
    // SO_LINGER takes a struct linger, so GIO cannot set it; setsockopt on
    // the GSocket's descriptor. On TCP the close then sends a reset.
    struct linger abort_now = {1, 0};
    setsockopt(g_socket_get_fd(c->socket), SOL_SOCKET, SO_LINGER, &abort_now,
               sizeof abort_now);
  }
  g_socket_close(c->socket, NULL);
  if (single) g_main_loop_quit(loop);
  conn_unref(c);
}

static void on_written(GObject *source, GAsyncResult *result, gpointer data) {
  Conn *c = data;
  GError *error = NULL;
  gboolean ok = g_output_stream_writev_all_finish(G_OUTPUT_STREAM(source),
                                                  result, NULL, &error);
  c->writing = FALSE;
  g_clear_error(&error);
  if (!c->closed && !ok) close_conn(c, FALSE);  // peer reset or vanished
  if (!c->closed) {
    for (guint i = 0; i < c->in_flight; i++) {
      GBytes *done = g_queue_pop_head(&c->outq);
      c->queued -= g_bytes_get_size(done);
      g_bytes_unref(done);
    }
    c->in_flight = 0;
    kick_write(c);
    pump(c);
  }
  conn_unref(c);
}

static void kick_write(Conn *c) {
  if (c->writing || c->closed || g_queue_is_empty(&c->outq)) return;
  guint n = 0;
  for (GList *l = c->outq.head; l != NULL && n < MAX_VECTORS; l = l->next) {
    gsize size;
    c->vec[n].buffer = g_bytes_get_data(l->data, &size);
    c->vec[n].size = size;
    n++;
  }
  c->in_flight = n;
  c->writing = TRUE;
  c->refs++;
  g_output_stream_writev_all_async(c->out, c->vec, n, G_PRIORITY_DEFAULT,
                                   c->cancel, on_written, c);
}

// Queues a frame of header + `len` bytes; returns where the payload goes.
static guint8 *reply(Conn *c, guint32 len) {
  guint8 *frame = g_malloc(4 + (gsize)len);
  put_be32(frame, len);
  g_queue_push_tail(&c->outq, g_bytes_new_take(frame, 4 + (gsize)len));
  c->queued += 4 + (gsize)len;
  return frame + 4;
}

static void protocol_error(Conn *c) {
  c->stop = TRUE;
  c->close_after_flush = TRUE;
}

static void handle(Conn *c, const guint8 *p, guint32 len) {
  switch (p[0]) {
    case 'E':
      memcpy(reply(c, len), p, len);
      break;
    case 'B': {
      if (len != 5 || get_be32(p + 1) > MAX_FRAME - 1) {
        protocol_error(c);
        break;
      }
      guint32 n = get_be32(p + 1);
      guint8 *out = reply(c, n + 1);
      out[0] = 'B';
      for (guint32 i = 0; i < n; i++) out[i + 1] = (guint8)(i % 251);
      break;
    }
    case 'N': {
      if (len != 1) {
        protocol_error(c);
        break;
      }
      char count[16];
      int size = g_snprintf(count, sizeof count, "N%u", n_open);
      memcpy(reply(c, (guint32)size), count, (gsize)size);
      break;
    }
    case 'S':  // shut down after the replies; read and discard until EOF
      c->shut_after_flush = TRUE;
      c->discard = TRUE;
      c->stop = TRUE;
      break;
    case 'C':
      c->stop = TRUE;
      c->close_after_flush = TRUE;
      break;
    case 'A':
      c->stop = TRUE;
      close_conn(c, TRUE);
      break;
    default:
      protocol_error(c);
  }
  kick_write(c);
}

// Decodes and serves the complete frames buffered, while the output queue
// allows. Returns TRUE when a complete frame waits for the queue to drain.
static gboolean process(Conn *c) {
  gsize pos = 0;
  gboolean blocked = FALSE;
  while (!c->stop) {
    gsize avail = c->inbuf->len - pos;
    if (avail < 4) break;
    const guint8 *frame = c->inbuf->data + pos;
    guint32 len = get_be32(frame);
    if (len == 0 || len > MAX_FRAME) {  // checked before waiting for L bytes
      protocol_error(c);
      break;
    }
    if (avail - 4 < len) break;
    if (c->queued >= HIGH_WATER) {
      blocked = TRUE;
      break;
    }
    handle(c, frame + 4, len);
    pos += 4 + (gsize)len;
  }
  if (c->stop)
    g_byte_array_set_size(c->inbuf, 0);
  else if (pos > 0)
    g_byte_array_remove_range(c->inbuf, 0, (guint)pos);
  return blocked;
}

// Once every queued reply is out: shut down (S) or close (C, EOF, error).
static void maybe_finish(Conn *c) {
  if (c->closed || c->writing || !g_queue_is_empty(&c->outq)) return;
  if (c->shut_after_flush && !c->shut_done) {
    c->shut_done = TRUE;
    g_socket_shutdown(c->socket, FALSE, TRUE, NULL);
  }
  if (c->close_after_flush) close_conn(c, FALSE);
}

static void on_read(GObject *source, GAsyncResult *result, gpointer data) {
  Conn *c = data;
  GError *error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
  c->reading = FALSE;
  g_clear_error(&error);
  if (!c->closed) {
    if (n < 0) {
      close_conn(c, FALSE);  // reset: drop it, serve the others
    } else {
      if (n == 0)
        c->eof = TRUE;
      else if (!c->stop)
        g_byte_array_append(c->inbuf, c->chunk, (guint)n);
      pump(c);
    }
  }
  conn_unref(c);
}

static void pump(Conn *c) {
  c->refs++;
  gboolean blocked = process(c);
  // End of stream: serve the complete frames, drop a partial one, flush,
  // close. The client's half-close is not a close.
  if (c->eof && !blocked) {
    c->stop = TRUE;
    c->close_after_flush = TRUE;
  }
  maybe_finish(c);
  if (!c->closed && !c->reading && !c->eof && !c->close_after_flush &&
      (c->discard || (!c->stop && c->queued < HIGH_WATER))) {
    c->reading = TRUE;
    c->refs++;
    g_input_stream_read_async(c->in, c->chunk, READ_CHUNK, G_PRIORITY_DEFAULT,
                              c->cancel, on_read, c);
  }
  conn_unref(c);
}

static void serve(GSocketConnection *connection) {
  Conn *c = g_new0(Conn, 1);
  c->connection = g_object_ref(connection);
  c->socket = g_socket_connection_get_socket(connection);
  c->in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
  c->out = g_io_stream_get_output_stream(G_IO_STREAM(connection));
  c->cancel = g_cancellable_new();
  c->chunk = g_malloc(READ_CHUNK);
  c->inbuf = g_byte_array_new();
  g_queue_init(&c->outq);
  c->refs = 1;
  conns = g_list_prepend(conns, c);
  n_open++;
  pump(c);
}

static gboolean on_incoming(GSocketService *service,
                            GSocketConnection *connection, GObject *source,
                            gpointer data) {
  (void)service, (void)source, (void)data;
  serve(connection);
  return TRUE;
}

static GSocketService *service;

static gboolean on_sigterm(gpointer data) {
  (void)data;
  if (service != NULL) {
    g_socket_service_stop(service);
    g_socket_listener_close(G_SOCKET_LISTENER(service));
  }
  while (conns != NULL) close_conn(conns->data, FALSE);
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

// Whether a server accepts connections at `address`. Only a refused
// connection (or a vanished file) proves a socket file stale; anything else
// counts as live. Non-blocking, so a live server with a full backlog
// (EAGAIN) cannot keep us waiting.
static gboolean someone_listens(GSocketAddress *address) {
  GError *error = NULL;
  GSocket *probe = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_DEFAULT, &error);
  if (probe == NULL) {
    g_clear_error(&error);
    return TRUE;
  }
  g_socket_set_blocking(probe, FALSE);
  gboolean live = g_socket_connect(probe, address, NULL, &error) ||
                  !(g_error_matches(error, G_IO_ERROR,
                                    G_IO_ERROR_CONNECTION_REFUSED) ||
                    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
  g_clear_error(&error);
  g_socket_close(probe, NULL);
  g_object_unref(probe);
  return live;
}

// The GSocketAddress for ADDRESS, or NULL after saying why. Sets *path for
// a filesystem path.
static GSocketAddress *parse_address(const char *text, const char **path) {
  *path = NULL;
  if (g_str_has_prefix(text, "unix:@")) {
    const char *name = text + 6;
    size_t len = strlen(name);
    if (len == 0 || len > sizeof(((struct sockaddr_un *)0)->sun_path) - 1) {
      fprintf(stderr, "abstract name of %zu bytes: 1 to 107 fit\n", len);
      return NULL;
    }
    // GIO offers two abstract types. G_UNIX_SOCKET_ADDRESS_ABSTRACT_PADDED
    // (what the deprecated g_unix_socket_address_new_abstract creates)
    // binds the name NUL-padded to the whole sun_path, address length
    // sizeof (struct sockaddr_un): a different name to the kernel. The
    // contract asks for the exact bytes: G_UNIX_SOCKET_ADDRESS_ABSTRACT,
    // whose address length covers the name only.
    return g_unix_socket_address_new_with_type(name, (gint)len,
                                               G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  }
  if (g_str_has_prefix(text, "unix:/")) {
    *path = text + 5;
    if (strlen(*path) > sizeof(((struct sockaddr_un *)0)->sun_path) - 1) {
      fprintf(stderr, "%s: longer than 107 bytes, which sun_path holds\n",
              *path);
      return NULL;
    }
    return g_unix_socket_address_new(*path);
  }
  if (g_str_has_prefix(text, "tcp:")) {
    const char *host = text + 4, *colon = strrchr(host, ':');
    char *end;
    unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (colon == NULL || colon[1] == '\0' || *end != '\0' || port == 0 ||
        port > 65535) {
      fprintf(stderr, "%s: expected tcp:HOST:PORT\n", text);
      return NULL;
    }
    char *name = g_strndup(host, (gsize)(colon - host));
    if (name[0] == '[' && name[strlen(name) - 1] == ']') {
      memmove(name, name + 1, strlen(name) - 2);
      name[strlen(name) - 2] = '\0';
    }
    GSocketAddress *address =
        g_inet_socket_address_new_from_string(name, (guint)port);
    if (address == NULL) fprintf(stderr, "%s: not an IP address\n", name);
    g_free(name);
    return address;
  }
  fprintf(stderr, "%s: expected unix:/PATH, unix:@NAME, tcp:HOST:PORT or fd:N\n",
          text);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s ADDRESS\n", argv[0]);
    return 2;
  }
  const char *text = argv[1];
  loop = g_main_loop_new(NULL, FALSE);
  g_unix_signal_add(SIGTERM, on_sigterm, NULL);
  GError *error = NULL;
  const char *path = NULL;
  GStatBuf bound;  // the socket file we bound, removed at exit only if ours
  if (g_str_has_prefix(text, "fd:")) {
    char *end;
    long fd = strtol(text + 3, &end, 10);
    if (text[3] == '\0' || *end != '\0' || fd < 0 || fd > 1023) {
      fprintf(stderr, "%s: expected fd:N\n", text);
      return 2;
    }
    GSocket *socket = g_socket_new_from_fd((gint)fd, &error);
    if (socket == NULL) {
      fprintf(stderr, "%s: %s\n", text, error->message);
      return 1;
    }
    GSocketConnection *connection =
        g_socket_connection_factory_create_connection(socket);
    single = TRUE;
    serve(connection);
    g_object_unref(connection);
    g_object_unref(socket);
  } else {
    GSocketAddress *address = parse_address(text, &path);
    if (address == NULL) return 2;
    service = g_socket_service_new();
    GSocketListener *listener = G_SOCKET_LISTENER(service);
    // GSocketListener's default backlog is 10; the contract wants 64
    // connections at once.
    g_socket_listener_set_backlog(listener, 128);
    for (int attempt = 0;; attempt++) {
      if (g_socket_listener_add_address(listener, address, G_SOCKET_TYPE_STREAM,
                                        G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL,
                                        &error)) {
        break;
      }
      if (path == NULL || attempt == 3 ||
          !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE)) {
        fprintf(stderr, "cannot listen on %s: %s\n", text, error->message);
        return 1;
      }
      g_clear_error(&error);
      GStatBuf st;
      if (g_lstat(path, &st) != 0) continue;  // gone: bind again
      if (!S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "%s exists and is not a socket; leaving it alone\n",
                path);
        return 1;
      }
      if (someone_listens(address)) {
        fprintf(stderr, "a server already listens on %s; leaving it alone\n",
                path);
        return 1;
      }
      g_unlink(path);  // stale: its server is gone
    }
    if (path != NULL && g_stat(path, &bound) != 0) path = NULL;
    g_object_unref(address);
    g_signal_connect(service, "incoming", G_CALLBACK(on_incoming), NULL);
    g_socket_service_start(service);
  }
  printf("ready\n");
  fflush(stdout);
  g_main_loop_run(loop);
  // Only if the file at the path is still ours: another server may have
  // bound the path since (an overlapping restart).
  GStatBuf now;
  if (path != NULL && g_stat(path, &now) == 0 && now.st_dev == bound.st_dev &&
      now.st_ino == bound.st_ino) {
    g_unlink(path);
  }
  return 0;
}
