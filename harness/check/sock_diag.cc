#include "check/sock_diag.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "check/process_stats.h"
#include "net/sock_diag_query.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/fd.h"

// The netlink macros (NLMSG_OK, RTA_OK) compare the kernel's unsigned
// lengths with the int they count down: clang's -Wsign-compare objects to
// code that is not ours.
#pragma GCC diagnostic ignored "-Wsign-compare"

namespace sockparity::internal {
namespace {

absl::Status ErrnoError(absl::string_view call);

// Every socket `request` matches, each answer to `each`.
template <typename Request, typename Each>
absl::Status Dump(const Request& request, Each each) {
  return SockDiagQuery(request, SockDiagScope::kDump,
                       [&](const nlmsghdr& h) { each(&h); });
}

uint64_t InodeOfLink(const std::string& target) {
  // "socket:[12345]"
  if (target.rfind("socket:[", 0) != 0 || target.back() != ']') return 0;
  uint64_t inode = 0;
  if (!absl::SimpleAtoi(target.substr(8, target.size() - 9), &inode)) return 0;
  return inode;
}

absl::Status ErrnoError(absl::string_view call) {
  return ErrnoStatus(errno, call, "the socket diagnostics");
}

}  // namespace

absl::StatusOr<std::vector<UnixSocketEntry>> UnixStreamSockets() {
  unix_diag_req request{};
  request.sdiag_family = AF_UNIX;
  request.udiag_states = ~0u;
  request.udiag_show =
      UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | UDIAG_SHOW_RQLEN;
  std::vector<UnixSocketEntry> entries;
  absl::Status dumped = Dump(request, [&](const nlmsghdr* h) {
    const auto* msg = static_cast<const unix_diag_msg*>(NLMSG_DATA(h));
    if (msg->udiag_type != SOCK_STREAM) return;
    UnixSocketEntry entry;
    entry.inode = msg->udiag_ino;
    entry.state = msg->udiag_state;
    int left = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
    for (auto* a = reinterpret_cast<const rtattr*>(msg + 1); RTA_OK(a, left);
         a = RTA_NEXT(a, left)) {
      const char* data = static_cast<const char*>(RTA_DATA(a));
      if (a->rta_type == UNIX_DIAG_NAME) {
        entry.name.assign(data, RTA_PAYLOAD(a));
      } else if (a->rta_type == UNIX_DIAG_PEER &&
                 RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
        uint32_t peer;
        std::memcpy(&peer, data, sizeof(peer));
        entry.peer = peer;
      } else if (a->rta_type == UNIX_DIAG_ICONS) {
        for (size_t at = 0; at + sizeof(uint32_t) <= RTA_PAYLOAD(a);
             at += sizeof(uint32_t)) {
          uint32_t waiting;
          std::memcpy(&waiting, data + at, sizeof(waiting));
          entry.queued_peers.push_back(waiting);
        }
      } else if (a->rta_type == UNIX_DIAG_RQLEN &&
                 RTA_PAYLOAD(a) >= sizeof(unix_diag_rqlen)) {
        unix_diag_rqlen rqlen;
        std::memcpy(&rqlen, data, sizeof(rqlen));
        // A listener's is its queue of connections, not bytes.
        if (entry.state != TCP_LISTEN) entry.unread = rqlen.udiag_rqueue;
      }
    }
    entries.push_back(std::move(entry));
  });
  if (!dumped.ok()) return dumped;
  return entries;
}

std::set<uint64_t> SocketInodesHeldBy(pid_t pid) {
  std::set<uint64_t> inodes;
  for (pid_t member : ProcessTree(pid)) {
    const std::string dir_path = absl::StrCat("/proc/", member, "/fd");
    DIR* dir = ::opendir(dir_path.c_str());
    if (dir == nullptr) continue;
    while (const dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      char target[64];
      const ssize_t n =
          ::readlinkat(::dirfd(dir), entry->d_name, target, sizeof(target));
      if (n <= 0 || n >= static_cast<ssize_t>(sizeof(target))) continue;
      if (uint64_t inode = InodeOfLink(std::string(target, n)))
        inodes.insert(inode);
    }
    ::closedir(dir);
  }
  return inodes;
}

absl::StatusOr<std::vector<std::string>> UnixListenerNamesOf(pid_t pid) {
  absl::StatusOr<std::vector<UnixSocketEntry>> all = UnixStreamSockets();
  if (!all.ok()) return all.status();
  const std::set<uint64_t> held = SocketInodesHeldBy(pid);
  std::vector<std::string> names;
  for (const UnixSocketEntry& entry : *all) {
    if (entry.state == TCP_LISTEN && held.count(entry.inode))
      names.push_back(entry.name);
  }
  return names;
}

std::string ShowUnixName(const std::string& name) {
  if (name.empty()) return "(unnamed)";
  const bool abstract = name[0] == '\0';
  std::string text = abstract ? "@" : "";
  size_t trailing_nuls = 0;
  while (trailing_nuls < name.size() &&
         name[name.size() - 1 - trailing_nuls] == '\0') {
    ++trailing_nuls;
  }
  const size_t shown_end = name.size() - trailing_nuls;
  for (size_t i = abstract ? 1 : 0; i < shown_end; ++i) {
    const char c = name[i];
    if (c >= 0x20 && c < 0x7f) {
      text += c;
    } else {
      absl::StrAppendFormat(&text, "\\x%02x", static_cast<uint8_t>(c));
    }
  }
  // A path's own terminating NUL is no padding; an abstract name has none.
  if (abstract && trailing_nuls > 0 && shown_end > 0) {
    absl::StrAppend(&text, " followed by ", trailing_nuls, " NUL bytes");
  }
  absl::StrAppend(&text, " (", abstract ? name.size() : shown_end, " bytes)");
  return text;
}

namespace {

// The server's end of a TCP client's connection, as sock_diag lists it.
struct TcpPeerEntry {
  uint64_t inode = 0;
  uint32_t unread = 0;   // bytes in its receive queue
  uint32_t unacked = 0;  // bytes it sent or has yet to send, not acknowledged
};

absl::StatusOr<TcpPeerEntry> TcpPeerOf(const Socket& client,
                                       const sockaddr_storage& local) {
  sockaddr_storage remote{};
  socklen_t remote_length = sizeof(remote);
  if (::getpeername(client.fd(), reinterpret_cast<sockaddr*>(&remote),
                    &remote_length) != 0) {
    return ErrnoError("getpeername");
  }
  inet_diag_req_v2 request{};
  request.sdiag_family = local.ss_family;
  request.sdiag_protocol = IPPROTO_TCP;
  request.idiag_states = ~0u;
  // The server's end: its source is the client's remote address.
  auto port_of = [](const sockaddr_storage& a) {
    return a.ss_family == AF_INET
               ? reinterpret_cast<const sockaddr_in&>(a).sin_port
               : reinterpret_cast<const sockaddr_in6&>(a).sin6_port;
  };
  const uint16_t server_port = port_of(remote), client_port = port_of(local);
  std::optional<TcpPeerEntry> found;
  // An IPv6 socket may carry IPv4 (a v4-mapped address, as Java's
  // SocketChannel.open() makes): the peer of a tcp4 socket is looked for
  // among both families.
  std::vector<int> families = {local.ss_family};
  if (local.ss_family == AF_INET) families.push_back(AF_INET6);
  for (const int family : families) {
    if (found) break;
    request.sdiag_family = static_cast<uint8_t>(family);
    absl::Status dumped = Dump(request, [&](const nlmsghdr* h) {
      const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      if (msg->id.idiag_sport == server_port &&
          msg->id.idiag_dport == client_port &&
          msg->idiag_state != TCP_LISTEN) {
        found = TcpPeerEntry{msg->idiag_inode, msg->idiag_rqueue,
                             msg->idiag_wqueue};
      }
    });
    if (!dumped.ok()) return dumped;
  }
  if (!found) return absl::NotFoundError("no TCP socket is the client's peer");
  return *found;
}

absl::StatusOr<sockaddr_storage> LocalAddressOf(const Socket& client) {
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  if (::getsockname(client.fd(), reinterpret_cast<sockaddr*>(&local),
                    &length) != 0) {
    return ErrnoError("getsockname");
  }
  return local;
}

}  // namespace

absl::StatusOr<uint64_t> PeerSocketInode(const Socket& client) {
  absl::StatusOr<sockaddr_storage> local = LocalAddressOf(client);
  if (!local.ok()) return local.status();
  if (local->ss_family == AF_UNIX) {
    struct stat own;
    if (::fstat(client.fd(), &own) != 0) return ErrnoError("fstat");
    absl::StatusOr<std::vector<UnixSocketEntry>> all = UnixStreamSockets();
    if (!all.ok()) return all.status();
    for (const UnixSocketEntry& entry : *all) {
      if (entry.peer == own.st_ino) return entry.inode;
    }
    // Not accepted yet: the listener lists the client among its queue.
    for (const UnixSocketEntry& entry : *all) {
      for (uint64_t queued : entry.queued_peers) {
        if (queued == own.st_ino) return 0;
      }
    }
    return absl::NotFoundError("no UNIX socket has the client's as its peer");
  }
  absl::StatusOr<TcpPeerEntry> peer = TcpPeerOf(client, *local);
  if (!peer.ok()) return peer.status();
  return peer->inode;
}

absl::StatusOr<ConnectionQueues> QueuesOf(const Socket& client) {
  absl::StatusOr<sockaddr_storage> local = LocalAddressOf(client);
  if (!local.ok()) return local.status();
  // UNIX: what the client sent and the peer has not read is still charged
  // to the client's send buffer (as memory), and in bytes in the peer's
  // receive queue; what the peer sent is in the client's receive queue.
  // TCP: add the server's queues, read through sock_diag.
  int sent = 0, arrived = 0;
  if (::ioctl(client.fd(), SIOCOUTQ, &sent) != 0)
    return ErrnoError("ioctl(SIOCOUTQ)");
  if (::ioctl(client.fd(), SIOCINQ, &arrived) != 0)
    return ErrnoError("ioctl(SIOCINQ)");
  ConnectionQueues queues{static_cast<uint64_t>(sent),
                          static_cast<uint64_t>(arrived)};
  if (local->ss_family == AF_UNIX) {
    struct stat own;
    absl::StatusOr<std::vector<UnixSocketEntry>> all = UnixStreamSockets();
    if (::fstat(client.fd(), &own) == 0 && all.ok()) {
      for (const UnixSocketEntry& entry : *all) {
        if (entry.peer == own.st_ino && entry.state != TCP_LISTEN) {
          queues.not_taken = entry.unread;
          return queues;
        }
      }
    }
    // Not accepted yet, or not to be read: the memory, in place of bytes.
    queues.not_taken_in_bytes = false;
    return queues;
  }
  absl::StatusOr<TcpPeerEntry> peer = TcpPeerOf(client, *local);
  if (!peer.ok()) return peer.status();
  queues.not_taken += peer->unread;
  queues.toward_client += peer->unacked;
  return queues;
}

}  // namespace sockparity::internal
