#include "check/case_helpers.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "check/process_stats.h"
#include "check/sock_diag.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/io.h"

namespace sockparity::internal {

Bytes ToBytes(absl::string_view text) {
  return Bytes(text.begin(), text.end());
}

void Append(Bytes& out, const Bytes& more) {
  const size_t old = out.size();
  out.resize(old + more.size());
  std::copy(more.begin(), more.end(), out.begin() + old);
}

std::string Show(const Bytes& payload) {
  std::string text;
  for (size_t i = 0; i < payload.size() && i < 12; ++i) {
    const char c = static_cast<char>(payload[i]);
    text += (c >= 0x20 && c < 0x7f) ? std::string(1, c)
                                    : absl::StrFormat("\\x%02x", payload[i]);
  }
  if (payload.size() > 12) absl::StrAppend(&text, "...");
  return absl::StrCat(payload.size(), " bytes '", text, "'");
}

std::string Hex(const Bytes& bytes, size_t at_most) {
  std::string text;
  for (size_t i = 0; i < bytes.size() && i < at_most; ++i)
    absl::StrAppend(&text, i == 0 ? "" : " ",
                    absl::Hex(bytes[i], absl::kZeroPad2));
  if (bytes.size() > at_most)
    absl::StrAppend(&text, " ... (", bytes.size() - at_most, " more)");
  return text;
}

std::string WireLine(absl::string_view arrow, const Bytes& bytes) {
  if (bytes.size() > 4) {
    const Bytes header(bytes.begin(), bytes.begin() + 4);
    const uint32_t length = DecodeLength(header.data());
    if (length == bytes.size() - 4) {
      return absl::StrCat(arrow, " frame, length ", length, " = ", Hex(header),
                          ": ", Show(Bytes(bytes.begin() + 4, bytes.end())));
    }
  }
  return absl::StrCat(arrow, " ", bytes.size(), " bytes: ", Hex(bytes));
}

Bytes BulkRequest(uint32_t n) {
  Bytes request = {'B'};
  Append(request, LengthHeader(n));
  return request;
}

Bytes EchoPayload(size_t size, uint8_t seed) {
  Bytes payload(size);
  payload[0] = 'E';
  for (size_t i = 1; i < size; ++i)
    payload[i] = static_cast<uint8_t>((i * 7 + seed) % 256);
  return payload;
}

int OpenDescriptorsOf(pid_t pid) {
  int count = 0;
  if (DIR* dir = ::opendir(absl::StrCat("/proc/", pid, "/fd").c_str())) {
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
  }
  return count;
}

DescriptorCount DescriptorsOf(pid_t pid) {
  DescriptorCount count;
  const std::string dir_name = absl::StrCat("/proc/", pid, "/fd");
  DIR* dir = ::opendir(dir_name.c_str());
  if (dir == nullptr) return count;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char target[64];
    const ssize_t n =
        ::readlink(absl::StrCat(dir_name, "/", entry->d_name).c_str(), target,
                   sizeof(target) - 1);
    if (n < 0) continue;  // closed since the directory was read
    if (absl::string_view(target, n).substr(0, 8) == "socket:[") {
      ++count.sockets;
    } else {
      ++count.others;
    }
  }
  ::closedir(dir);
  return count;
}

std::string WhatItListensOn(pid_t server) {
  absl::StatusOr<std::vector<std::string>> names = UnixListenerNamesOf(server);
  if (!names.ok()) {
    return absl::StrCat(
        "what the server (pid ", server,
        ") listens on cannot be read: ", names.status().message());
  }
  if (names->empty()) {
    return absl::StrCat("the server (pid ", server,
                        ") listens on no UNIX socket");
  }
  std::vector<std::string> shown;
  for (const std::string& name : *names) shown.push_back(ShowUnixName(name));
  return absl::StrCat("the server (pid ", server, ") listens on ",
                      absl::StrJoin(shown, " and "));
}

std::optional<std::string> BusyLoopSeen(pid_t server) {
  constexpr absl::Duration kWindow = absl::Milliseconds(200);
  constexpr absl::Duration kBusy = absl::Milliseconds(50);
  constexpr absl::Duration kWithin = absl::Seconds(3);
  const IdleResult idle = WaitUntilIdle(server, kWindow, kBusy, kWithin);
  if (idle.idle) return std::nullopt;
  // A server that has ended (its shepherd reaps it at once) is not busy:
  // the caller tells its end.
  if (::kill(server, 0) != 0 && errno == ESRCH) return std::nullopt;
  return absl::StrCat("it was running or waiting for a CPU for at least ",
                      absl::FormatDuration(idle.least), " of each of ",
                      idle.windows, " windows of 200 ms: a busy loop");
}

bool ExpectIdle(Context& c, pid_t server, absl::string_view when) {
  std::optional<std::string> busy = BusyLoopSeen(server);
  if (!busy) return true;
  c.Fail(absl::StrCat("the server to wait in the kernel ", when,
                      " (a window of 200 ms in which it was runnable for "
                      "under 50 ms, within 3 s)"),
         *busy);
  return false;
}

bool CountComesToOne(Context& c, const Socket& s, absl::string_view when,
                     absl::Duration within) {
  // Connections closed before are released within kReleaseWithin, or
  // never: waiting the whole timeout does not change the verdict.
  const absl::Time deadline = absl::Now() + std::min(c.timeout(), within);
  if (!c.Send(s, ContractFrame("N"))) return false;
  std::optional<Bytes> reply = c.ReadFrame(s, /*recorded=*/false);
  while (reply && *reply != ToBytes("N1") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // pacing the next question
    if (!c.Send(s, ContractFrame("N"))) return false;
    reply = c.ReadFrame(s, /*recorded=*/false);
  }
  if (!reply) return false;
  c.Record("count", Show(*reply));
  if (*reply != ToBytes("N1")) {
    c.Fail(absl::StrCat("N1 ", when), Show(*reply));
    return false;
  }
  return true;
}

namespace {

// SendAll, counting into `count` after each send(2): while the rest waits
// for room, the count is what the kernel has.
absl::Status SendCounted(const Socket& socket, const Bytes& bytes,
                         absl::Duration timeout, absl::Time end,
                         SentBytes& count, const std::atomic<bool>& cancel) {
  // --timeout without progress, at most 3 in all: a server working through
  // a large request on a loaded machine keeps taking bytes.
  const absl::Time cap = std::min(absl::Now() + 3 * timeout, end);
  absl::Time deadline = std::min(absl::Now() + timeout, cap);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(socket.fd(), bytes.data() + done,
                             bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<size_t>(n);
      count.bytes += static_cast<uint64_t>(n);
      deadline = std::min(absl::Now() + timeout, cap);
      continue;
    }
    const int error = n < 0 ? errno : EIO;
    if (error == EINTR) continue;
    if (error != EAGAIN && error != EWOULDBLOCK) {
      count.exact = false;  // (nothing was taken; the case fails anyway)
      return ErrnoStatus(
          error, absl::StrCat("send (", done, " of ", bytes.size(), " bytes)"),
          socket.Describe());
    }
    if (cancel) return absl::CancelledError("the case ended first");
    absl::StatusOr<short> ready =
        WaitForEvents(socket, POLLOUT,
                      std::min(deadline - absl::Now(), absl::Milliseconds(50)));
    if (!ready.ok() &&
        !(absl::IsDeadlineExceeded(ready.status()) && absl::Now() < deadline)) {
      return ready.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace

Context& BackgroundSend::Logged(Context& c, const Bytes& bytes) {
  c.Log(WireLine(">", bytes));
  return c;
}

BackgroundSend::BackgroundSend(Context& c, const Socket& socket, Bytes bytes)
    : context_(Logged(c, bytes)),
      thread_([this, &socket, bytes = std::move(bytes), timeout = c.timeout(),
               end = c.end(), count = c.SentOn(socket)] {
        status_ =
            count ? SendCounted(socket, bytes, timeout, end, *count, cancel_)
                  : SendAll(socket, bytes, timeout);
      }) {}

absl::Status BackgroundSend::Join() {
  if (context_.failed()) cancel_ = true;
  thread_.join();
  return status_;
}

}  // namespace sockparity::internal
