// What the GIO adapter's files share: the main loop, the connections'
// entry points (gio_connection.c) and the address helpers (gio_address.c).
#ifndef SOCKPARITY_ADAPTERS_GIO_GIO_SERVER_H_
#define SOCKPARITY_ADAPTERS_GIO_GIO_SERVER_H_

#include <gio/gio.h>

extern GMainLoop *loop;
extern gboolean single;  // fd:N: the run ends with the connection

// Serves a connection until it closes; takes a reference of its own.
void serve(GSocketConnection *connection);
// Closes every connection at once (SIGTERM).
void close_all_conns(void);

// The GSocketAddress for ADDRESS, or NULL after saying why. Sets *path for
// a filesystem path.
GSocketAddress *parse_address(const char *text, const char **path);
// Whether a server accepts connections at `address` (a socket file).
gboolean someone_listens(GSocketAddress *address);

#endif  // SOCKPARITY_ADAPTERS_GIO_GIO_SERVER_H_
