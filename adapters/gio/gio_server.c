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
//   GSocket. No struct-valued socket options: see WORKAROUND at 'A'
//   (gio_connection.c).
//
// This file: startup, listening, SIGTERM and the socket file's removal.
// gio_connection.c serves the connections; gio_address.c parses ADDRESS.
#define _DEFAULT_SOURCE
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "gio_server.h"

GMainLoop *loop;
gboolean single;

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
  close_all_conns();
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
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
