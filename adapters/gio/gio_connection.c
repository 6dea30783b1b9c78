// One client connection of the GIO adapter: its read buffer, its output
// queue of replies, the peer-contract protocol on them, and its close.
#define _DEFAULT_SOURCE
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>

#include "gio_server.h"

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

static GList *conns;  // the open connections, for SIGTERM
static guint n_open;  // what N replies

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

void serve(GSocketConnection *connection) {
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

void close_all_conns(void) {
  while (conns != NULL) close_conn(conns->data, FALSE);
}
