// Internal: one request to sock_diag(7) (NETLINK_SOCK_DIAG), the kernel's
// socket diagnostics, shared by the check (whose end of a connection is
// the server's, what its queues hold) and the script runner (what the
// kernel still has of a closed TCP connection).
#ifndef SOCKPARITY_NET_SOCK_DIAG_QUERY_H_
#define SOCKPARITY_NET_SOCK_DIAG_QUERY_H_

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstddef>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace sockparity::internal {

enum class SockDiagScope {
  kExact,  // the one socket the request names (NOT_FOUND when none)
  kDump,   // every socket it matches (NLM_F_DUMP)
};

// Sends `request` (an inet_diag_req_v2, unix_diag_req...) and hands each
// answer to `each`. An error names the call that failed (sock_diag cannot
// be asked: no netlink, an old kernel); NOT_FOUND when kExact finds none.
absl::Status SockDiagQuery(const void* request, size_t size,
                           SockDiagScope scope,
                           absl::FunctionRef<void(const nlmsghdr&)> each);

template <typename Request>
absl::Status SockDiagQuery(const Request& request, SockDiagScope scope,
                           absl::FunctionRef<void(const nlmsghdr&)> each) {
  return SockDiagQuery(&request, sizeof(request), scope, each);
}

// The request for the TCP socket whose own address is `local` and whose
// peer's is `remote` (AF_INET or AF_INET6), with tcp_info.
inet_diag_req_v2 TcpSocketRequest(const sockaddr_storage& local,
                                  const sockaddr_storage& remote);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_NET_SOCK_DIAG_QUERY_H_
