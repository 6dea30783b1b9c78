// Internal: the server side of the client cases, shared by their groups.
#ifndef SOCKPARITY_CHECK_CLIENT_CLIENT_SERVE_H_
#define SOCKPARITY_CHECK_CLIENT_CLIENT_SERVE_H_

#include <optional>
#include <vector>

#include "check/client/client_context.h"

namespace sockparity::internal {

// The payloads, each framed, in one stream.
Bytes Requests(const std::vector<Bytes>& payloads);
size_t FramedSize(const std::vector<Bytes>& payloads);

// Reads every request, echoes each payload as a reply (all in one send),
// closes, and expects the replies, then 'end eof'.
void ServeEchoThenEnd(ClientContext& c, Socket& s,
                      const std::vector<Bytes>& payloads);

// The end line, and 'connected' where the client connects; records what
// the across comparison sees.
std::optional<ClientReport> AwaitEndConnected(ClientContext& c,
                                              bool keep_end = true);

// On TCP, waits (up to 2 s) until the peer has acknowledged all that was
// sent: a reset discards what the sender still holds.
void WaitUntilDelivered(const Socket& s);

// Waits (up to the timeout) until `bytes` the server has not read are
// queued on `s`: closing then resets the connection on every transport.
// All of what the client has left to send: it has no write pending then.
bool WaitForUnread(ClientContext& c, const Socket& s, size_t bytes = 1);

// Waits (up to 3 timeouts) until the client has read everything sent on
// `s`, so that what the suite does next reaches it in a wakeup of its own.
bool WaitUntilTaken(ClientContext& c, const Socket& s);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_CLIENT_CLIENT_SERVE_H_
