#include "sockparity/net/fd.h"

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "sockparity/net/errors.h"

namespace sockparity {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    (void)Close();
    fd_ = other.Release();
  }
  return *this;
}

Fd::~Fd() { (void)Close(); }

int Fd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

absl::Status Fd::Close() {
  if (fd_ < 0) return absl::OkStatus();
  int fd = Release();
  // On Linux the descriptor is gone even when close reports EINTR.
  if (::close(fd) != 0 && errno != EINTR) {
    return ErrnoStatus(errno, "close", absl::StrCat("fd ", fd));
  }
  return absl::OkStatus();
}

}  // namespace sockparity
