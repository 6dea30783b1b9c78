// An owning file descriptor: closed exactly once, when its owner goes away.
#ifndef SOCKPARITY_NET_FD_H_
#define SOCKPARITY_NET_FD_H_

#include "absl/status/status.h"

namespace sockparity {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.Release()) {}
  Fd& operator=(Fd&& other) noexcept;
  ~Fd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing.
  int Release();

  // Closes now. Reports close(2)'s error; the descriptor is released either
  // way, since retrying close on Linux could close an unrelated descriptor.
  absl::Status Close();

 private:
  int fd_ = -1;
};

}  // namespace sockparity

#endif  // SOCKPARITY_NET_FD_H_
