#include "sockparity/net/listener.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "net/poll_wait.h"
#include "net/socket_files.h"
#include "sockparity/net/errors.h"

namespace sockparity {
namespace {

std::string Where(TransportKind kind, int fd) {
  return absl::StrCat(TransportName(kind), " (fd ", fd, ")");
}

std::string UniqueAbstractName() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt =
      std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  return absl::StrFormat("sockparity-%d-%d-%016x", ::getpid(),
                         counter.fetch_add(1), salt);
}

absl::StatusOr<Fd> NewSocket(int domain, TransportKind kind, int extra_flags) {
  int fd = ::socket(domain, SOCK_STREAM | SOCK_CLOEXEC | extra_flags, 0);
  if (fd < 0) return ErrnoStatus(errno, "socket", TransportName(kind));
  return Fd(fd);
}

absl::Status SetBlocking(int fd, bool blocking, TransportKind kind) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return ErrnoStatus(errno, "fcntl(F_GETFL)", Where(kind, fd));
  flags = blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
  if (::fcntl(fd, F_SETFL, flags) != 0) {
    return ErrnoStatus(errno, "fcntl(F_SETFL)", Where(kind, fd));
  }
  return absl::OkStatus();
}

// Binds `fd`; for kUnixAbstract retries with a new name if one is taken.
absl::StatusOr<Endpoint> BindFresh(const Fd& fd, TransportKind kind,
                                   const std::optional<TempDir>& dir) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<Endpoint> wanted;
    switch (kind) {
      case TransportKind::kUnixPath:
        wanted =
            Endpoint::UnixPath(absl::StrCat(dir->path(), "/listener.sock"));
        break;
      case TransportKind::kUnixAbstract:
        wanted = Endpoint::UnixAbstract(UniqueAbstractName());
        break;
      case TransportKind::kTcp4:
        wanted = Endpoint::Tcp4Loopback(0);
        break;
      case TransportKind::kTcp6:
        wanted = Endpoint::Tcp6Loopback(0);
        break;
      case TransportKind::kSocketpair:
        return absl::InvalidArgumentError("socketpair has no address");
    }
    if (!wanted.ok()) return wanted.status();
    if (::bind(fd.get(), wanted->addr(), wanted->length()) == 0) {
      if (kind == TransportKind::kUnixPath) {
        internal::NoteSocketFileBound(std::string(wanted->path()));
      }
      return Endpoint::BoundTo(fd.get(), kind);
    }
    int error = errno;
    if (error == EADDRINUSE && kind == TransportKind::kUnixAbstract &&
        attempt < 8) {
      continue;
    }
    return ErrnoStatus(error, absl::StrCat("bind to ", wanted->ToString()),
                       Where(kind, fd.get()));
  }
}

int DomainOf(TransportKind kind) {
  switch (kind) {
    case TransportKind::kTcp4:
      return AF_INET;
    case TransportKind::kTcp6:
      return AF_INET6;
    default:
      return AF_UNIX;
  }
}

}  // namespace

absl::StatusOr<Listener> Listener::Open(TransportKind kind,
                                        const ListenOptions& options) {
  if (!HasAddress(kind)) {
    return absl::InvalidArgumentError(
        absl::StrCat(TransportName(kind), " has no listener"));
  }
  std::optional<TempDir> dir;
  if (kind == TransportKind::kUnixPath) {
    absl::StatusOr<TempDir> created = TempDir::Create();
    if (!created.ok()) return created.status();
    dir = std::move(*created);
  }
  absl::StatusOr<Fd> fd = NewSocket(DomainOf(kind), kind, SOCK_NONBLOCK);
  if (!fd.ok()) return fd.status();
  absl::StatusOr<Endpoint> endpoint = BindFresh(*fd, kind, dir);
  if (!endpoint.ok()) return endpoint.status();
  Listener listener(std::move(*fd), *endpoint, std::move(dir));
  if (::listen(listener.fd(), options.backlog) != 0) {
    return ErrnoStatus(errno, "listen", Where(kind, listener.fd()));
  }
  return listener;
}

Listener::Listener(Listener&& other) noexcept
    : fd_(std::move(other.fd_)),
      endpoint_(other.endpoint_),
      dir_(std::move(other.dir_)) {
  other.dir_.reset();
}

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    (void)Close();
    fd_ = std::move(other.fd_);
    endpoint_ = other.endpoint_;
    dir_ = std::move(other.dir_);
    other.dir_.reset();
  }
  return *this;
}

Listener::~Listener() { (void)Close(); }

absl::Status Listener::Close() {
  absl::Status status = fd_.Close();
  if (endpoint_.kind() == TransportKind::kUnixPath && dir_.has_value()) {
    std::string path(endpoint_.path());
    if (::unlink(path.c_str()) != 0 && errno != ENOENT && status.ok()) {
      status = ErrnoStatus(errno, "unlink", path);
    }
    internal::NoteSocketFileRemoved(path);
    absl::Status removed = dir_->Remove();
    if (status.ok()) status = removed;
    dir_.reset();
  }
  return status;
}

absl::StatusOr<Socket> Listener::Accept(absl::Duration timeout) {
  const TransportKind kind = endpoint_.kind();
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int fd = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) return Socket(Fd(fd), kind);
    // A connection reset before accept shows up as ECONNABORTED: wait on.
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
      return ErrnoStatus(errno, "accept", Where(kind, fd_.get()));
    }
    absl::StatusOr<short> revents = internal::PollUntil(
        fd_.get(), POLLIN, deadline, Where(kind, fd_.get()));
    if (!revents.ok()) return revents.status();
    if (*revents == 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          "accept on ", Where(kind, fd_.get()), ": no connection within ",
          absl::FormatDuration(timeout)));
    }
  }
}

absl::StatusOr<Socket> Connect(const Endpoint& endpoint,
                               absl::Duration timeout) {
  const TransportKind kind = endpoint.kind();
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<Fd> fd = NewSocket(endpoint.domain(), kind, SOCK_NONBLOCK);
  if (!fd.ok()) return fd.status();
  const std::string call = absl::StrCat("connect to ", endpoint.ToString());
  while (true) {
    if (::connect(fd->get(), endpoint.addr(), endpoint.length()) == 0) break;
    int error = errno;
    if (error == EISCONN) break;
    // A unix listener's full backlog refuses a non-blocking connect with
    // EAGAIN; there is nothing to poll for, so retry until the deadline.
    if (error == EAGAIN && FamilyOf(kind) == Family::kUnix) {
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat(call, " on ", Where(kind, fd->get()),
                         ": listener backlog stayed full for ",
                         absl::FormatDuration(timeout)));
      }
      ::poll(nullptr, 0, 1);  // pacing the retry, not waiting for an outcome
      continue;
    }
    if (error != EINPROGRESS && error != EINTR && error != EALREADY) {
      return ErrnoStatus(error, call, Where(kind, fd->get()));
    }
    absl::StatusOr<short> revents = internal::PollUntil(
        fd->get(), POLLOUT, deadline, Where(kind, fd->get()));
    if (!revents.ok()) return revents.status();
    if (*revents == 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          call, " on ", Where(kind, fd->get()), ": not connected within ",
          absl::FormatDuration(timeout)));
    }
    int so_error = 0;
    socklen_t length = sizeof(so_error);
    if (::getsockopt(fd->get(), SOL_SOCKET, SO_ERROR, &so_error, &length) !=
        0) {
      return ErrnoStatus(errno, "getsockopt(SO_ERROR)", Where(kind, fd->get()));
    }
    if (so_error != 0) {
      return ErrnoStatus(so_error, call, Where(kind, fd->get()));
    }
    break;
  }
  if (absl::Status status = SetBlocking(fd->get(), true, kind); !status.ok()) {
    return status;
  }
  return Socket(std::move(*fd), kind);
}

}  // namespace sockparity
