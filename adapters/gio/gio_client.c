// The client contract (docs/CLIENT_CONTRACT.md, v0.1) on GLib's GIO, 2.74
// (Debian 12: libglib2.0-dev, gio-2.0 + gio-unix-2.0).
//
// Idiom: a GSocketClient connects with g_socket_client_connect_async to the
// GSocketAddress that gio_address.c parses (GUnixSocketAddress for a path,
// G_UNIX_SOCKET_ADDRESS_ABSTRACT for an abstract name: exact bytes,
// GInetSocketAddress for TCP); fd:N becomes a GSocketConnection through
// g_socket_new_from_fd. Then one g_output_stream_write_all_async of the
// requests (GIO retries short writes and EINTR) and a chain of
// g_input_stream_read_async, all on a GMainLoop; SIGTERM comes through
// g_unix_signal_add. Every address form is supported.
//
// Errors arrive as GError codes of G_IO_ERROR, not errno values; errno_name
// maps each code back to the errno that GIO maps to it
// (gio/gioerror.c, g_io_error_from_errno). GIO maps EPIPE and ECONNRESET
// to one code (G_IO_ERROR_BROKEN_PIPE == G_IO_ERROR_CONNECTION_CLOSED,
// "Connection closed by peer"): it is reported as `end reset`, from either
// direction. GSocket ignores SIGPIPE for the whole process itself
// (gio/gsocket.c, g_socket_class_init), so this client does not.
#define _DEFAULT_SOURCE
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gio_server.h"

GMainLoop *loop;  // declared by gio_server.h, shared with gio_address.c
gboolean single;

static GSocketConnection *connection;
static GCancellable *cancel;
static GByteArray *requests;
static guint8 chunk[64 * 1024];
static guint8 head[4];  // the current reply frame's header as it arrives
static guint head_got;
static guint32 length, left, hash;
static gboolean ended;

static void say(const char *format, ...) G_GNUC_PRINTF(1, 2);
static void say(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vprintf(format, args);
  va_end(args);
  putchar('\n');
  fflush(stdout);
}

// The errno that gio/gioerror.c maps to each G_IO_ERROR code.
static const char *errno_name(const GError *error) {
  if (error->domain != G_IO_ERROR) return "EOTHER";
  switch (error->code) {
    case G_IO_ERROR_NOT_FOUND:
      return "ENOENT";
    case G_IO_ERROR_PERMISSION_DENIED:
      return "EACCES";
    case G_IO_ERROR_WOULD_BLOCK:
      return "EAGAIN";
    case G_IO_ERROR_TIMED_OUT:
      return "ETIMEDOUT";
    case G_IO_ERROR_ADDRESS_IN_USE:
      return "EADDRINUSE";
    case G_IO_ERROR_HOST_UNREACHABLE:
      return "EHOSTUNREACH";
    case G_IO_ERROR_NETWORK_UNREACHABLE:
      return "ENETUNREACH";
    case G_IO_ERROR_NOT_CONNECTED:
      return "ENOTCONN";
    case G_IO_ERROR_TOO_MANY_OPEN_FILES:
      return "EMFILE";
    case G_IO_ERROR_NO_SPACE:
      return "ENOSPC";
    case G_IO_ERROR_INVALID_ARGUMENT:
      return "EINVAL";
    case G_IO_ERROR_NOT_SUPPORTED:
      return "EOPNOTSUPP";
    case G_IO_ERROR_MESSAGE_TOO_LARGE:
      return "EMSGSIZE";
    case G_IO_ERROR_FILENAME_TOO_LONG:
      return "ENAMETOOLONG";
    case G_IO_ERROR_NOT_DIRECTORY:
      return "ENOTDIR";
    case G_IO_ERROR_CANCELLED:
      return "ECANCELED";
    default:
      return "EOTHER";
  }
}

// Prints the one `end` line and closes the socket; pending operations then
// end cancelled, and the main loop idles until SIGTERM.
static void finish(const char *how, const GError *error) {
  if (ended) return;
  ended = TRUE;
  if (error == NULL)
    say("end %s", how);
  else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    say("end refused");
  else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
    say("end reset");
  else
    say("end error %s", errno_name(error));
  if (error != NULL) fprintf(stderr, "%s\n", error->message);
  g_cancellable_cancel(cancel);
  if (connection != NULL) {
    g_socket_close(g_socket_connection_get_socket(connection), NULL);
  }
}

// Reply frames, however split: a reply is printed once all of it is here.
static void feed(const guint8 *p, gsize n) {
  gsize i = 0;
  while (i < n) {
    if (head_got < 4) {
      head[head_got++] = p[i++];
      if (head_got < 4) continue;
      length = left = ((guint32)head[0] << 24) | ((guint32)head[1] << 16) |
                      ((guint32)head[2] << 8) | head[3];
      hash = 2166136261u;
    }
    for (; left > 0 && i < n; left--) hash = (hash ^ p[i++]) * 16777619u;
    if (left == 0) {
      say("reply %u %08x", length, hash);
      head_got = 0;
    }
  }
}

static void on_read(GObject *source, GAsyncResult *result, gpointer data);

static void read_more(void) {
  g_input_stream_read_async(
      g_io_stream_get_input_stream(G_IO_STREAM(connection)), chunk,
      sizeof chunk, G_PRIORITY_DEFAULT, cancel, on_read, NULL);
}

static void on_read(GObject *source, GAsyncResult *result, gpointer data) {
  (void)data;
  GError *error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
  if (ended) {
    g_clear_error(&error);
    return;
  }
  if (n < 0) {
    finish(NULL, error);
    g_error_free(error);
  } else if (n == 0) {
    finish(head_got > 0 ? "eof partial" : "eof", NULL);
  } else {
    feed(chunk, (gsize)n);
    read_more();
  }
}

static void on_written(GObject *source, GAsyncResult *result, gpointer data) {
  (void)data;
  GError *error = NULL;
  if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL,
                                        &error)) {
    if (!ended) finish(NULL, error);
    g_error_free(error);
  }
}

static void start(void) {
  if (requests->len > 0) {
    g_output_stream_write_all_async(
        g_io_stream_get_output_stream(G_IO_STREAM(connection)), requests->data,
        requests->len, G_PRIORITY_DEFAULT, cancel, on_written, NULL);
  }
  read_more();
}

static void on_connected(GObject *source, GAsyncResult *result, gpointer data) {
  (void)data;
  GError *error = NULL;
  connection =
      g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
  g_object_unref(source);
  if (connection == NULL) {
    finish(NULL, error);
    g_error_free(error);
    return;
  }
  say("connected");
  start();
}

static gboolean on_sigterm(gpointer data) {
  (void)data;
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s ADDRESS < REQUESTS\n", argv[0]);
    return 2;
  }
  const char *text = argv[1];
  // The requests: all of standard input (a file), read before connecting.
  requests = g_byte_array_new();
  for (;;) {
    guint8 block[65536];
    ssize_t n = read(STDIN_FILENO, block, sizeof block);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      perror("reading standard input");
      return 1;
    }
    if (n == 0) break;
    g_byte_array_append(requests, block, (guint)n);
  }
  loop = g_main_loop_new(NULL, FALSE);
  cancel = g_cancellable_new();
  g_unix_signal_add(SIGTERM, on_sigterm, NULL);
  if (g_str_has_prefix(text, "fd:")) {
    char *end;
    long fd = strtol(text + 3, &end, 10);
    if (text[3] == '\0' || *end != '\0' || fd < 0 || fd > 1023) {
      fprintf(stderr, "%s: expected fd:N\n", text);
      return 2;
    }
    GError *error = NULL;
    GSocket *socket = g_socket_new_from_fd((gint)fd, &error);
    if (socket == NULL) {
      finish(NULL, error);
      g_error_free(error);
    } else {
      connection = g_socket_connection_factory_create_connection(socket);
      g_object_unref(socket);
      start();
    }
  } else {
    const char *path;
    GSocketAddress *address = parse_address(text, &path);
    if (address == NULL) return 2;
    GSocketClient *client = g_socket_client_new();
    g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(address), cancel,
                                  on_connected, NULL);
    g_object_unref(address);
  }
  g_main_loop_run(loop);
  return 0;
}
