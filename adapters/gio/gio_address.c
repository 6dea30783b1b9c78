// The GIO adapter's addresses: ADDRESS parsed into a GSocketAddress, and
// the probe that tells a stale socket file from a live server's.
#define _DEFAULT_SOURCE
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "gio_server.h"

// Whether a server accepts connections at `address`. Only a refused
// connection (or a vanished file) proves a socket file stale; anything else
// counts as live. Non-blocking, so a live server with a full backlog
// (EAGAIN) cannot keep us waiting.
gboolean someone_listens(GSocketAddress *address) {
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
GSocketAddress *parse_address(const char *text, const char **path) {
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
