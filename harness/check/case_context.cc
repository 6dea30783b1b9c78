#include "check/case_context.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "check/case_helpers.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/errors.h"
#include "sockparity/net/io.h"
#include "sockparity/net/listener.h"
#include "sockparity/net/transport.h"
#include "sockparity/script/differences.h"

namespace sockparity::internal {
namespace {

uint64_t InodeOf(const Socket& socket) {
  struct stat st;
  return ::fstat(socket.fd(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

std::shared_ptr<SentBytes> Context::SentOn(const Socket& socket) const {
  auto it = sent_.find(InodeOf(socket));
  return it == sent_.end() ? nullptr : it->second;
}

void Context::CountSent(const Socket& socket, const absl::Status& sent,
                        size_t n) {
  if (std::shared_ptr<SentBytes> count = SentOn(socket)) {
    // A failed send took an unknown part of the bytes.
    if (sent.ok()) count->bytes += n;
    if (!sent.ok()) count->exact = false;
  }
}

std::optional<Socket> Context::Connect() {
  if (link_.endpoint()) return ConnectTo(*link_.endpoint(), link_.ServerPid());
  absl::StatusOr<Socket> socket = link_.Connect();
  if (!socket.ok()) {
    Fail("a connection", socket.status().ToString());
    return std::nullopt;
  }
  Log("connected");
  sent_[InodeOf(*socket)] = std::make_shared<SentBytes>();
  return std::move(*socket);
}

std::optional<Socket> Context::ConnectTo(const Endpoint& endpoint,
                                         std::optional<pid_t> server) {
  absl::StatusOr<Socket> socket = sockparity::Connect(endpoint, timeout());
  if (!socket.ok()) {
    std::string seen = Describe(socket.status());
    const std::optional<int> error = ErrnoOf(socket.status());
    if (endpoint.domain() == AF_UNIX && server &&
        (error == ECONNREFUSED || error == ENOENT)) {
      absl::StrAppend(&seen, "; ", WhatItListensOn(*server));
    }
    Fail(absl::StrCat("a connection to ", endpoint.ToString()), seen);
    return std::nullopt;
  }
  Log(absl::StrCat("connected to ", endpoint.ToString()));
  sent_[InodeOf(*socket)] = std::make_shared<SentBytes>();
  if (server) {
    servers_[socket->fd()] = *server;
  } else {
    servers_.erase(socket->fd());
  }
  return std::move(*socket);
}

bool Context::Send(const Socket& socket, const Bytes& bytes) {
  absl::Status sent = SendAll(socket, bytes, timeout());
  CountSent(socket, sent, bytes.size());
  Log(WireLine(">", bytes));
  if (!sent.ok()) Fail("to send the request", Describe(sent));
  return sent.ok();
}

bool Context::SendUntilClosed(const Socket& socket, const Bytes& bytes,
                              size_t must_arrive) {
  must_arrive = std::min(must_arrive, bytes.size());
  if (must_arrive > 0 &&
      !Send(socket, Bytes(bytes.begin(), bytes.begin() + must_arrive))) {
    return false;
  }
  if (must_arrive == bytes.size()) return true;
  absl::Status sent = SendAll(
      socket, Bytes(bytes.begin() + must_arrive, bytes.end()), timeout());
  CountSent(socket, sent, bytes.size() - must_arrive);
  Log(WireLine(">", Bytes(bytes.begin() + must_arrive, bytes.end())));
  if (sent.ok()) return true;
  const std::optional<int> error = ErrnoOf(sent);
  if (error == EPIPE || error == ECONNRESET) {
    Log(absl::StrCat("  (", ErrnoName(*error),
                     ": the server had ended the connection, as it may)"));
    return true;
  }
  Fail("to send the request", Describe(sent));
  return false;
}

bool Context::ExpectEndAsRegistered(const Socket& socket,
                                    absl::string_view entry_id) {
  std::optional<std::string> end = End(socket);
  if (!end) return false;
  Record("recv", *end);
  const Difference* entry = DifferenceRegistry::Default().Find(entry_id);
  const TransportKind kind = link_.socket_kind();
  if (entry == nullptr || entry->RowFor(kind) == nullptr) {
    Fail(absl::StrCat("registry entry ", entry_id, " to describe ",
                      TransportName(kind)),
         "no such row (a bug in sockparity)");
    return false;
  }
  if (!entry->Expects(kind, "recv", *end)) {
    Fail(absl::StrCat(entry->RowFor(kind)->description, " (registry entry ",
                      entry_id, ")"),
         *end == "eof" ? "end of stream" : *end);
    return false;
  }
  return true;
}

std::optional<Bytes> Context::ReadFrame(const Socket& socket, bool recorded) {
  absl::StatusOr<Bytes> header = Receive(socket, 4);
  if (!header.ok()) {
    Log(absl::StrCat("< no reply frame: ", Describe(header.status())));
    Fail("a reply frame", Describe(header.status()));
    return std::nullopt;
  }
  const uint32_t n = DecodeLength(header->data());
  if (n == 0 || n > kContractMaxFrame) {
    Log(absl::StrCat("< a length prefix ", Hex(*header), " = ", n));
    Fail("a reply of 1 to 16777216 bytes",
         absl::StrCat("a length prefix of ", n, " (", Hex(*header),
                      ", big-endian as the contract says)"));
    return std::nullopt;
  }
  absl::StatusOr<Bytes> payload = Receive(socket, n);
  if (!payload.ok()) {
    Log(absl::StrCat("< a length prefix ", Hex(*header), " = ", n, ", then ",
                     Describe(payload.status())));
    Fail(absl::StrCat("the ", n, " bytes of a reply"),
         Describe(payload.status()));
    return std::nullopt;
  }
  Log(absl::StrCat("< frame, length ", n, " = ", Hex(*header), ": ",
                   Show(*payload)));
  if (recorded) Digest(*payload);
  return std::move(*payload);
}

SentCount Context::SentCountOf(const Socket& socket) const {
  std::shared_ptr<SentBytes> count = SentOn(socket);
  if (!count) return {};
  return [count]() -> std::optional<uint64_t> {
    if (!count->exact) return std::nullopt;
    return count->bytes.load();
  };
}

std::optional<pid_t> Context::ServerOf(const Socket& socket) const {
  auto it = servers_.find(socket.fd());
  if (it != servers_.end()) return it->second;
  return link_.ServerPid();
}

std::optional<std::string> Context::NoPointWaiting(StallWatch& watch) {
  if (SutProcess* server = link_.server()) {
    if (std::optional<SutExit> exit = server->Poll())
      return absl::StrCat("the server ended: ", exit->Describe());
  }
  return watch.Stalled();
}

namespace {

// How long a wait may last: --timeout without progress either way (the
// server taking what the client sends, or the client receiving), and at
// most kStretch timeouts in all. A server that works through a 16 MiB
// request on a loaded machine makes progress and is waited for; one that
// trickles still ends.
constexpr int kStretch = 3;

class WaitDeadline {
 public:
  WaitDeadline(absl::Duration timeout, absl::Time end, SentCount sent)
      : timeout_(timeout), end_(end), sent_(std::move(sent)) {
    if (sent_) last_sent_ = sent_();
  }
  void Progress() { last_progress_ = absl::Now(); }
  absl::Duration Left() {
    if (sent_) {
      const std::optional<uint64_t> now_sent = sent_();
      if (now_sent && (!last_sent_ || *now_sent > *last_sent_)) {
        last_sent_ = now_sent;
        Progress();
      }
    }
    return std::min({last_progress_ + timeout_, start_ + kStretch * timeout_,
                     end_}) -
           absl::Now();
  }

 private:
  absl::Duration timeout_;
  absl::Time end_;  // the case's or the run's
  SentCount sent_;
  std::optional<uint64_t> last_sent_;
  absl::Time start_ = absl::Now();
  absl::Time last_progress_ = start_;
};

}  // namespace

absl::StatusOr<Bytes> Context::Receive(const Socket& socket, size_t n) {
  StallWatch watch(socket, ServerOf(socket), options_.stalled_after,
                   Awaiting::kReply, accept_may_wait_, SentCountOf(socket));
  WaitDeadline deadline(options_.timeout, end(), SentCountOf(socket));
  Bytes out(n);
  size_t got = 0;
  while (got < n) {
    const absl::Duration left = deadline.Left();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("recv: ", got, " of ", n, " bytes, then nothing"));
    }
    absl::StatusOr<size_t> r =
        RecvSomeInto(socket, absl::MakeSpan(out).subspan(got),
                     std::min(left, StallWatch::kLookEvery));
    if (r.ok() && *r == 0) {
      return absl::OutOfRangeError(
          absl::StrCat("recv: end of stream after ", got, " of ", n, " bytes"));
    }
    if (r.ok()) {
      got += *r;
      watch.Progress();
      deadline.Progress();
      continue;
    }
    if (!absl::IsDeadlineExceeded(r.status())) return r.status();
    if (std::optional<std::string> why = NoPointWaiting(watch))
      return absl::AbortedError(*why);
  }
  return out;
}

absl::StatusOr<Bytes> Context::ReceiveUntilEnd(const Socket& socket,
                                               size_t limit) {
  StallWatch watch(socket, ServerOf(socket), options_.stalled_after,
                   Awaiting::kEnd, accept_may_wait_, SentCountOf(socket));
  WaitDeadline deadline(options_.timeout, end(), SentCountOf(socket));
  Bytes out;
  uint8_t chunk[64 << 10];
  while (true) {
    const absl::Duration left = deadline.Left();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("recv: ", out.size(), " bytes, then no end of stream"));
    }
    absl::StatusOr<size_t> r = RecvSomeInto(
        socket, absl::MakeSpan(chunk), std::min(left, StallWatch::kLookEvery));
    if (r.ok() && *r == 0) return out;
    if (r.ok()) {
      out.insert(out.end(), chunk, chunk + *r);
      if (out.size() > limit) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "recv: more than ", limit, " bytes before end of stream"));
      }
      watch.Progress();
      deadline.Progress();
      continue;
    }
    if (!absl::IsDeadlineExceeded(r.status())) return r.status();
    if (std::optional<std::string> why = NoPointWaiting(watch))
      return absl::AbortedError(*why);
  }
}

bool Context::ExpectFrame(const Socket& socket, const Bytes& want) {
  std::optional<Bytes> got = ReadFrame(socket);
  if (!got) return false;
  if (*got != want) {
    Fail(absl::StrCat("the reply ", Show(want)),
         absl::StrCat("the reply ", Show(*got)));
    return false;
  }
  return true;
}

std::optional<std::string> Context::End(const Socket& socket) {
  absl::StatusOr<Bytes> rest = ReceiveUntilEnd(socket, 1 << 20);
  if (rest.ok()) {
    if (!rest->empty()) {
      Fail("no reply, then end of stream",
           absl::StrCat("more bytes: ", Show(*rest)));
      return std::nullopt;
    }
    Log("< end of stream");
    return "eof";
  }
  if (std::optional<int> error = ErrnoOf(rest.status())) {
    Log(absl::StrCat("< ", ErrnoName(*error)));
    return ErrnoName(*error);
  }
  Fail("the connection to end", Describe(rest.status()));
  return std::nullopt;
}

bool Context::ExpectEnd(const Socket& socket) {
  std::optional<std::string> end = End(socket);
  if (!end) return false;
  Record("recv", *end);
  if (*end != "eof") Fail("end of stream", *end);
  return *end == "eof";
}

bool Context::StillServes() {
  if (link_.single_connection()) return true;
  std::optional<Socket> socket = Connect();
  return socket && Send(*socket, ContractFrame("Estill here")) &&
         ExpectFrame(*socket, ToBytes("Estill here"));
}

void Context::Record(absl::string_view verb, absl::string_view outcome) {
  result_.record.push_back(absl::StrCat(verb, ":", outcome));
}

void Context::Log(absl::string_view line) {
  absl::StrAppend(&result_.wire_log, line, "\n");
}

absl::Duration Context::timeout() const {
  return std::max(absl::ZeroDuration(),
                  std::min(options_.timeout, end() - absl::Now()));
}

void Context::Fail(absl::string_view expected, absl::string_view seen) {
  if (failed() || cut_by_run_) return;
  const absl::Time now = absl::Now();
  const std::string step = stage_.empty()
                               ? std::string(expected)
                               : absl::StrCat(expected, " (", stage_, ")");
  if (now >= clock_.case_end) {
    // The wait that ended was cut by the budget: what it saw is only that
    // the time was up.
    observed_ = Observed::Missed(
        absl::StrCat("expected the case done within its budget of ",
                     absl::FormatDuration(clock_.budget), " (",
                     kContractCaseBudgetClause, "); the budget ran out after ",
                     absl::FormatDuration(
                         absl::Trunc(now - start_, absl::Milliseconds(100))),
                     ", in the step: ", step, "; that step saw: ", seen));
    return;
  }
  if (now >= clock_.run_end) {
    cut_by_run_ = true;
    cut_reason_ = absl::StrCat(
        "the run's time (--max-run-time) ran out in the step: ", step);
    return;
  }
  observed_ = Observed::Missed(
      stage_.empty()
          ? absl::StrCat("expected ", expected, "; saw ", seen)
          : absl::StrCat("expected ", expected, " (", stage_, "); saw ", seen));
}

void Context::CannotJudge(absl::string_view why) {
  if (failed()) return;
  observed_ = Observed::DoesNotApply(std::string(why));
}

std::string Context::Describe(const absl::Status& status) {
  if (absl::IsOutOfRange(status)) return "end of stream";
  if (absl::IsDeadlineExceeded(status)) return "nothing (timed out)";
  if (absl::IsAborted(status))
    return absl::StrCat("nothing (", status.message(), ")");
  if (ErrnoOf(status)) return std::string(status.message());
  return status.ToString();
}

}  // namespace sockparity::internal
