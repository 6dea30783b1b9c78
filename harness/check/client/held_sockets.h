// Internal: whether a client process still holds its connection after its
// end line.
#ifndef SOCKPARITY_CHECK_CLIENT_HELD_SOCKETS_H_
#define SOCKPARITY_CHECK_CLIENT_HELD_SOCKETS_H_

#include "check/client/client_context.h"

namespace sockparity::internal {

// Fails the case unless, within 2 s of its end line, the client (still
// running, as the contract asks) holds no descriptor of the socket it
// connected with: found by inode (ClientContext::client_socket), so a
// socket the library keeps for itself (a wakeup socketpair) is not taken
// for a leak, and one a reset closed is still seen.
void ExpectNothingHeld(ClientContext& c);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_CLIENT_HELD_SOCKETS_H_
