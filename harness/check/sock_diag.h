// Internal: what the kernel knows about sockets, read through sock_diag(7)
// (NETLINK_SOCK_DIAG) and /proc/PID/fd: the names UNIX sockets are bound to
// (abstract ones too, with any NUL padding), which socket is the server's
// end of a client's connection, and which sockets a process holds.
#ifndef SOCKPARITY_CHECK_SOCK_DIAG_H_
#define SOCKPARITY_CHECK_SOCK_DIAG_H_

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sockparity/net/socket.h"

namespace sockparity::internal {

struct UnixSocketEntry {
  uint64_t inode = 0;
  uint8_t state = 0;  // TCP_LISTEN (10) for a listener
  std::string name;   // the bound address: "\0..." when abstract
  uint64_t peer = 0;  // the peer's inode, 0 when none
  // A listener's queue: the inodes of the clients whose connections wait
  // to be accepted.
  std::vector<uint64_t> queued_peers;
  // A connected socket's bytes received and not yet read.
  uint32_t unread = 0;
};

// Every UNIX stream socket of the network namespace.
absl::StatusOr<std::vector<UnixSocketEntry>> UnixStreamSockets();

// The inodes of the sockets `pid` and its descendants hold descriptors of.
std::set<uint64_t> SocketInodesHeldBy(pid_t pid);

// The names the UNIX stream sockets listening in `pid` (or a descendant)
// are bound to.
absl::StatusOr<std::vector<std::string>> UnixListenerNamesOf(pid_t pid);

// A bound name as a reader sees it: "@name" for an abstract one, NULs as
// \0, with its length when it has NULs or is long.
std::string ShowUnixName(const std::string& name);

// The inode of the other end of `client`'s connection (the server's socket):
// through the peer link of UNIX sockets, or the TCP four-tuple. 0 while the
// connection waits in the listener's queue: not accepted, it has no inode.
absl::StatusOr<uint64_t> PeerSocketInode(const Socket& client);

// What is still on its way in each direction of `client`'s connection.
struct ConnectionQueues {
  // What the client sent that its peer has not read yet (on TCP with what
  // is not acknowledged): 0 means the peer took everything.
  uint64_t not_taken = 0;
  // Bytes the peer sent (or queued to send) that the client has not read.
  uint64_t toward_client = 0;
  // Whether not_taken counts bytes. Where the peer's queue cannot be read
  // it is the buffer memory the client's unread bytes take.
  bool not_taken_in_bytes = true;
};
absl::StatusOr<ConnectionQueues> QueuesOf(const Socket& client);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_SOCK_DIAG_H_
