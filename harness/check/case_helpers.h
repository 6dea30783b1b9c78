// Internal: what the cases of several groups share: payloads, requests,
// and questions to the server.
#ifndef SOCKPARITY_CHECK_CASE_HELPERS_H_
#define SOCKPARITY_CHECK_CASE_HELPERS_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "check/case_context.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/socket.h"

namespace sockparity::internal {

Bytes ToBytes(absl::string_view text);
void Append(Bytes& out, const Bytes& more);
// The first bytes, printable, for messages and wire logs.
std::string Show(const Bytes& payload);

// The first `at_most` bytes in hex ("00 00 00 05 45 68"), then how many
// more there are.
std::string Hex(const Bytes& bytes, size_t at_most = 16);
// A wire log line for bytes sent or received (`arrow` ">" or "<"): a whole
// frame with its length prefix decoded ("> frame, length 5 = 00 00 00 05:
// 5 bytes 'Ehello'"), anything else in hex.
std::string WireLine(absl::string_view arrow, const Bytes& bytes);

// `B` N: asks for a reply of N + 1 bytes.
Bytes BulkRequest(uint32_t n);
// An `E` request of `size` bytes in all, with a pattern from `seed`.
Bytes EchoPayload(size_t size, uint8_t seed);

// The descriptors the process has open now (0 when it cannot be read).
int OpenDescriptorsOf(pid_t pid);

// The process's open descriptors by kind: sockets (a connection's own
// descriptor, which the contract says is closed) and all the others
// (epoll sets, eventfds, timers, pipes: a library's internals, some of
// which come and go around every call, as POCO's per-poll epoll set does).
struct DescriptorCount {
  int sockets = 0;
  int others = 0;
};
DescriptorCount DescriptorsOf(pid_t pid);

// What the server's process listens on among UNIX sockets, for a reason
// line: "the server (pid 7) listens on @name followed by 90 NUL bytes
// (108 bytes)".
std::string WhatItListensOn(pid_t server);

// The server waits in the kernel `when` ...: within 3 s, a window of
// 200 ms in which its process tree was runnable (running, or waiting for a
// CPU) for under 50 ms. A busy loop is runnable all the time, however
// loaded the machine; a server waiting in the kernel nearly never. Fails
// the case otherwise.
bool ExpectIdle(Context& c, pid_t server, absl::string_view when);
// The same measurement: what was seen when the server is busy, else none.
std::optional<std::string> BusyLoopSeen(pid_t server);

// Asks N on `s` until the server counts this connection alone, within the
// timeout: a server notices earlier connections' closes in its own time
// (under load, after this request has come), so one answer of N2 is not
// a wrong count. Records the last answer; fails unless it is N1.
// The contract gives 1 s to release a connection; the suite allows 2 s, so
// a loaded machine does not make a correct server late.
inline constexpr absl::Duration kReleaseWithin = absl::Seconds(2);

// `within` replaces kReleaseWithin where what is awaited is not the
// release of a connection the client closed alone but also the requests
// the server read from it before the close, each of which it may hold for
// the contract's reply window.
bool CountComesToOne(Context& c, const Socket& s, absl::string_view when,
                     absl::Duration within = kReleaseWithin);

// Sends `bytes` on a thread while the case reads, for requests larger than
// both socket buffers together. Each byte is counted as the kernel takes
// it (Context::SentOn), so a stall found meanwhile says how much of the
// stream the server took.
// Join gives up the rest once the case has FAILED: a server that stopped
// reading would otherwise hold the case for the whole send timeout.
class BackgroundSend {
 public:
  BackgroundSend(Context& c, const Socket& socket, Bytes bytes);
  absl::Status Join();

 private:
  // Logs what is sent, before the thread takes the bytes.
  static Context& Logged(Context& c, const Bytes& bytes);

  Context& context_;
  std::atomic<bool> cancel_{false};
  absl::Status status_;
  std::thread thread_;
};

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_CASE_HELPERS_H_
