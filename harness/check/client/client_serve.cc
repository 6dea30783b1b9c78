#include "check/client/client_serve.h"

#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "check/sock_diag.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/io.h"

namespace sockparity::internal {

Bytes Requests(const std::vector<Bytes>& payloads) {
  Bytes stream;
  stream.reserve(FramedSize(payloads));
  for (const Bytes& payload : payloads) {
    const Bytes frame = ContractFrame(payload);
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  return stream;
}

size_t FramedSize(const std::vector<Bytes>& payloads) {
  size_t n = 0;
  for (const Bytes& payload : payloads) n += 4 + payload.size();
  return n;
}

std::optional<ClientReport> AwaitEndConnected(ClientContext& c, bool keep_end) {
  std::optional<ClientReport> report = c.AwaitEnd();
  if (!report) return std::nullopt;
  c.Record(*report, keep_end);
  if (c.transport() != ContractTransport::kFd && !report->connected) {
    c.Fail("'connected' before the replies", "no 'connected' line");
  }
  return report;
}

void ServeEchoThenEnd(ClientContext& c, Socket& s,
                      const std::vector<Bytes>& payloads) {
  if (!c.ReadRequests(s, FramedSize(payloads))) return;
  if (!c.Send(s, Requests(payloads), "the replies")) return;
  // The end in a wakeup of its own (see LargestReply).
  if (!WaitUntilTaken(c, s)) return;
  (void)s.Close();
  c.Log("closed once the client read the replies: end of stream");
  std::optional<ClientReport> report = AwaitEndConnected(c);
  if (report) c.ExpectReport(*report, payloads, "eof");
}

void WaitUntilDelivered(const Socket& s) {
  if (s.kind() != TransportKind::kTcp4 && s.kind() != TransportKind::kTcp6)
    return;
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  int queued = 0;
  while (::ioctl(s.fd(), SIOCOUTQ, &queued) == 0 && queued > 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));  // polling, bounded above
  }
}

bool WaitForUnread(ClientContext& c, const Socket& s, size_t bytes) {
  const absl::Time deadline = absl::Now() + c.timeout();
  while (true) {
    absl::StatusOr<short> events =
        WaitForEvents(s, POLLIN, deadline - absl::Now());
    int queued = 0;
    if (events.ok() && (*events & POLLIN) != 0 &&
        ::ioctl(s.fd(), SIOCINQ, &queued) == 0 &&
        static_cast<size_t>(queued) >= bytes) {
      return true;
    }
    if (!events.ok() || absl::Now() >= deadline) {
      c.Fail(absl::StrCat("the client to send its requests (", bytes,
                          " bytes the server has not read)"),
             !events.ok() ? std::string(events.status().message())
                          : absl::StrCat(queued, " bytes came"));
      return false;
    }
    absl::SleepFor(absl::Milliseconds(1));  // polling, bounded above
  }
}

bool WaitUntilTaken(ClientContext& c, const Socket& s) {
  const absl::Time deadline = absl::Now() + 3 * c.timeout();
  while (true) {
    absl::StatusOr<ConnectionQueues> queues = QueuesOf(s);
    if (!queues.ok()) {
      c.CannotJudge(absl::StrCat("what the client has read is unknown: ",
                                 queues.status().message()));
      return false;
    }
    if (queues->not_taken == 0 && queues->not_taken_in_bytes) return true;
    if (absl::Now() >= deadline) {
      c.Fail("the client to read the reply as it comes",
             absl::StrCat(queues->not_taken, " bytes still unread after ",
                          absl::FormatDuration(3 * c.timeout())));
      return false;
    }
    absl::SleepFor(absl::Milliseconds(1));  // polling, bounded above
  }
}

}  // namespace sockparity::internal
