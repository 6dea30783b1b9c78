// The sending verbs: send, fill, send-fd (SCM_RIGHTS).
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "net/poll_wait.h"
#include "script/script_runner.h"
#include "script/tcp_lookup.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/fd.h"
#include "sockparity/net/temp_dir.h"
#include "sockparity/script/trace.h"


namespace sockparity::internal {
namespace {

// After a send returned less than asked: whether it was not for want of
// buffer space (still writable) and an error or hangup is now pending.
bool ErrorAfterCut(int fd) {
  pollfd entry{fd, POLLOUT, 0};
  int r;
  do {
    r = ::poll(&entry, 1, 0);
  } while (r < 0 && errno == EINTR);
  return r > 0 && (entry.revents & POLLOUT) &&
         (entry.revents & (POLLERR | POLLHUP));
}

}  // namespace

StepOutcome Runner::Send(const Step& step, Slot& slot) {
  const int fd = slot.fd.get();
  const absl::Time deadline = absl::Now() + options_.step_timeout;
  if (step.number == 0) {
    // send(2) of nothing: still an outcome (EPIPE after a shutdown...).
    ssize_t n;
    do {
      n = ::send(fd, nullptr, 0, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Errno(errno, "sent 0 of 0");
    return {"ok", "sent 0"};
  }
  uint64_t done = 0;
  Bytes chunk;
  const uint64_t seed = PatternSeed(step.slot);
  while (done < static_cast<uint64_t>(step.number)) {
    size_t size = std::min<uint64_t>(kChunk, step.number - done);
    chunk.resize(size);
    FillPattern(seed, slot.sent, chunk.data(), size);
    ssize_t n = ::send(fd, chunk.data(), size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      slot.sent += n;
      done += n;
      // Short with room to spare (a signal, or an interposer cutting
      // it on purpose): the kernel took all it was asked for, before
      // the error now pending. That error is the next call's to see,
      // as it would be had the whole chunk been asked for and taken.
      if (static_cast<size_t>(n) < size && ErrorAfterCut(fd)) {
        return {"ok", absl::StrCat("sent ", done, " of ", step.number,
                                   ", cut short before an error")};
      }
      continue;
    }
    int error = errno;
    if (error == EINTR) continue;
    std::string detail = absl::StrCat("sent ", done, " of ", step.number);
    if (error == EAGAIN && slot.nonblocking) return Errno(error, detail);
    if (error == EAGAIN) {
      absl::StatusOr<short> revents =
          internal::PollUntil(fd, POLLOUT, deadline, "script");
      if (revents.ok() && *revents == 0) return {"timeout", detail};
      continue;
    }
    return Errno(error, detail);
  }
  return {"ok", absl::StrCat("sent ", done)};
}

StepOutcome Runner::Fill(const Step& step, Slot& slot) {
  const int fd = slot.fd.get();
  uint64_t done = 0;
  Bytes chunk(kChunk);
  const uint64_t seed = PatternSeed(step.slot);
  // Each round ends at EAGAIN; on TCP a few rounds reach the window's end.
  constexpr int kMaxFillRounds = 1000;
  int rounds = 0;
  bool settled = false;  // no byte accepted since the ACKs were back
  while (true) {
    FillPattern(seed, slot.sent, chunk.data(), kChunk);
    ssize_t n = ::send(fd, chunk.data(), kChunk, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      slot.sent += n;
      done += n;
      settled = false;
      continue;
    }
    if (errno == EINTR) continue;
    // How much fits before EAGAIN depends, on TCP, on how far loopback
    // delivery got meanwhile (softirq work is deferred under load), so
    // the count is a detail; the buffer sizes themselves are compared.
    if (errno != EAGAIN) {
      return Errno(errno, absl::StrCat("accepted ", done, " bytes"));
    }
    // A TCP send buffer grows when the ACKs of what it holds come back
    // (tcp_new_space, tcp_sndbuf_expand), so the first EAGAIN is not yet
    // full: a send right after it finds room. Full is EAGAIN with the ACKs
    // back, which is what any later step sees.
    if (!Tcp() || settled || ++rounds > kMaxFillRounds) {
      return {"EAGAIN", absl::StrCat("accepted ", done, " bytes")};
    }
    Quiesce(Settle::kAcknowledged, &step.slot);
    settled = true;
  }
}

StepOutcome Runner::SendFd(const Step& step, Slot& slot) {
  const int fd = slot.fd.get();
  uint8_t byte = PatternByte(PatternSeed(step.slot), slot.sent);
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  Fd passed(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int raw = passed.get();
  std::memcpy(CMSG_DATA(cmsg), &raw, sizeof(int));
  ssize_t n;
  do {
    n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Errno(errno);
  slot.sent += 1;
  return {"ok", ""};
}

}  // namespace sockparity::internal
