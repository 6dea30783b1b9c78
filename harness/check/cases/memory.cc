// Case 13.x: a client that sends requests and never reads the replies.
// The server must stop reading it (backpressure) rather than hold its
// replies without limit: its resident memory is measured while the client
// pushes up to 128 MiB of echo requests.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "check/case_helpers.h"
#include "check/case_table.h"
#include "check/process_stats.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/errors.h"

namespace sockparity::internal {
namespace {

constexpr char kDrain[] = "https://github.com/python/asyncio/issues/263";
constexpr size_t kOffered = 128u << 20;
constexpr size_t kFrame = 1u << 20;
// Generous: the kernel's buffers, a frame being read and a bounded queue
// of replies stay far below; a server that holds every reply grows by
// about what was offered.
constexpr uint64_t kGrowthAllowed = 64u << 20;
// The client counts the server as not reading once a send makes no
// progress for this long while the server is idle.
constexpr int kStalledMs = 250;
// A server that runs but has read nothing for this long is judged as it
// is: reading again after that is no backpressure anyone relies on.
constexpr absl::Duration kBusyWithoutReading = absl::Seconds(2);

std::string Mib(uint64_t bytes) {
  return absl::StrFormat("%.1f MiB", bytes / 1048576.0);
}

void UnreadReplies(Context& c) {
  std::optional<Socket> s = c.Connect();
  const std::optional<pid_t> pid = c.link().ServerPid();
  if (!s || !pid || !c.Send(*s, ContractFrame("Ewarm")) ||
      !c.ExpectFrame(*s, ToBytes("Ewarm"))) {
    return;
  }
  const std::optional<uint64_t> before = ResidentBytesOf(*pid);
  if (!before) {
    c.CannotJudge("the server's memory cannot be read from /proc");
    return;
  }
  const Bytes frame = ContractFrame(EchoPayload(kFrame - 4, 3));
  size_t sent = 0;
  bool stalled = false;
  std::optional<absl::Time> no_progress_since;
  while (sent < kOffered) {
    const size_t at = sent % frame.size();
    const ssize_t n = ::send(s->fd(), frame.data() + at, frame.size() - at,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      no_progress_since.reset();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      c.Fail("the server to keep the connection while replies are unread",
             absl::StrCat("send after ", Mib(sent), ": ", ErrnoName(errno)));
      return;
    }
    pollfd writable{s->fd(), POLLOUT, 0};
    const std::optional<absl::Duration> ran_before = RunnableTimeOf(*pid);
    const absl::Time waited_from = absl::Now();
    if (::poll(&writable, 1, kStalledMs) != 0) {
      no_progress_since.reset();
      continue;
    }
    // A server that ran or waited for a CPU meanwhile may still be on its
    // way to the next read (a loaded machine); one idle in the kernel has
    // stopped reading. A server busy without reading is judged as it is
    // after the timeout.
    const std::optional<absl::Duration> ran_after = RunnableTimeOf(*pid);
    const absl::Time now = absl::Now();
    if (!no_progress_since) no_progress_since = waited_from;
    if (!ran_before || !ran_after ||
        *ran_after - *ran_before < (now - waited_from) / 10 ||
        now - *no_progress_since >= kBusyWithoutReading) {
      stalled = true;
      break;
    }
  }
  const std::optional<uint64_t> after = ResidentBytesOf(*pid);
  const uint64_t growth = after && *after > *before ? *after - *before : 0;
  c.Log(absl::StrCat("> ", Mib(sent), " of E requests, no reply read; ",
                     stalled ? "the server stopped reading" : "all taken",
                     "; its memory grew by ", Mib(growth)));
  if (growth > kGrowthAllowed) {
    c.Fail(absl::StrCat("memory bounded while replies are unread (growth "
                        "under ",
                        Mib(kGrowthAllowed), ")"),
           absl::StrCat("VmRSS grow from ", Mib(*before), " to ", Mib(*after),
                        " while the client sent ", Mib(sent),
                        " and read nothing"));
  } else if (!stalled) {
    c.Fail("the server to stop reading a client that reads no reply",
           absl::StrCat("it took all ", Mib(sent),
                        " of requests without a reply read"));
  }
}

}  // namespace

void AddMemoryCases(CaseTable& table) {
  table.Add({
      .info = {.id = "13.1",
               .name = "memory/unread-replies",
               .description =
                   "up to 128 MiB of requests, no reply read: the server "
                   "stops reading and its memory grows by under 64 MiB",
               .clause = "Memory stays bounded when a client sends requests "
                         "and never reads the replies: the SUT stops reading "
                         "that connection (backpressure)",
               .reference = kDrain},
      .play = UnreadReplies,
  });
}

}  // namespace sockparity::internal
