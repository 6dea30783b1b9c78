// What the libevent adapter's files share: the event base, the
// connections' entry points (libevent_connection.c) and the address helpers
// (libevent_address.c).
#ifndef SOCKPARITY_ADAPTERS_LIBEVENT_LIBEVENT_SERVER_H_
#define SOCKPARITY_ADAPTERS_LIBEVENT_LIBEVENT_SERVER_H_

#include <event2/event.h>
#include <event2/util.h>
#include <sys/socket.h>

extern struct event_base *base;
extern int single;  // fd:N: the run ends with the connection

// Serves the connected, non-blocking socket `fd` until it closes; owns fd.
void serve(evutil_socket_t fd);
// Frees every connection at once (SIGTERM).
void close_all_conns(void);

// The sockaddr for ADDRESS, of the exact length, or -1 after saying why.
// Sets *path for a filesystem path.
int parse_address(const char *text, struct sockaddr_storage *ss, int *len,
                  const char **path);
// Whether a server accepts connections at `sa` (a socket file).
int someone_listens(const struct sockaddr *sa, socklen_t len);

#endif  // SOCKPARITY_ADAPTERS_LIBEVENT_LIBEVENT_SERVER_H_
