// Internal: what the peer checker's cases work with (the link to the
// server on one transport, the case context, helpers) and the catalog
// (peer_catalog.cc), which peer_check.cc runs and judges.
#ifndef SOCKPARITY_SRC_PEER_CASES_H_
#define SOCKPARITY_SRC_PEER_CASES_H_

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sockparity/script/differences.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/errors.h"
#include "sockparity/script/glob.h"
#include "sockparity/net/io.h"
#include "sockparity/net/listener.h"
#include "sockparity/check/peer_check.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/check/sut_process.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity::internal {

inline constexpr uint32_t kMaxFrame = 16u << 20;

// How a case reaches the server on one transport. With fd:N every
// connection is a fresh server over a socketpair.
class PeerLink {
 public:
  PeerLink(const CheckOptions& options, TransportKind kind,
           uint64_t perturb_seed)
      : options_(options), kind_(kind), perturb_seed_(perturb_seed) {}

  // Starts the server for an addressed transport. UNIMPLEMENTED: exit 64.
  absl::Status Start() {
    if (absl::Status ready = PreparePerturbation(); !ready.ok()) return ready;
    if (kind_ == TransportKind::kSocketpair) {
      // One server over one socketpair, to learn whether it serves fd:N.
      absl::StatusOr<Socket> probe = Connect();
      EndCase();
      return probe.status();
    }
    absl::StatusOr<std::string> address = FreshAddress();
    if (!address.ok()) return address.status();
    address_ = *address;
    absl::StatusOr<SutProcess> sut =
        SutProcess::Start(options_.command, address_, absl::Seconds(10),
                          nullptr, -1, Environment());
    if (!sut.ok()) return sut.status();
    server_.emplace(std::move(*sut));
    absl::StatusOr<Endpoint> endpoint = Endpoint::Parse(address_);
    if (!endpoint.ok()) return endpoint.status();
    endpoint_ = *endpoint;
    return absl::OkStatus();
  }

  TransportKind kind() const { return kind_; }
  bool single_connection() const { return kind_ == TransportKind::kSocketpair; }
  SutProcess* server() { return server_ ? &*server_ : nullptr; }
  const std::optional<Endpoint>& endpoint() const { return endpoint_; }

  absl::StatusOr<Socket> Connect() {
    if (kind_ != TransportKind::kSocketpair) {
      return sockparity::Connect(*endpoint_, options_.timeout);
    }
    absl::StatusOr<SocketPair> pair =
        MakeConnectedPair(TransportKind::kSocketpair);
    if (!pair.ok()) return pair.status();
    absl::StatusOr<SutProcess> sut =
        SutProcess::Start(options_.command, "fd:3", options_.timeout,
                          &pair->b.owned_fd(), 3, Environment());
    if (!sut.ok()) return sut.status();
    fd_servers_.push_back(std::make_unique<SutProcess>(std::move(*sut)));
    return std::move(pair->a);
  }

  // Ends the per-connection servers of fd:N.
  void EndCase() { fd_servers_.clear(); }

  std::optional<SutExit> Stop() {
    EndCase();
    if (!server_) return std::nullopt;
    return server_->Stop(absl::Seconds(2));
  }

  // What a server started for this transport gets in its environment: the
  // perturbation library and its settings, when the run asks for them.
  std::vector<std::string> Environment() const {
    if (options_.perturb.empty()) return {};
    std::string preload = options_.perturb_library;
    if (const char* existing = ::getenv("LD_PRELOAD");
        existing != nullptr && *existing != '\0') {
      absl::StrAppend(&preload, ":", existing);
    }
    return {absl::StrCat("LD_PRELOAD=", preload),
            absl::StrCat("SOCKPARITY_PERTURB=",
                         absl::StrJoin(options_.perturb, ",")),
            absl::StrCat("SOCKPARITY_PERTURB_SEED=", perturb_seed_),
            absl::StrCat("SOCKPARITY_PERTURB_ANNOUNCE=", AnnouncePath())};
  }

  // OK when the perturbation reached the server: some process started for
  // this transport made a socket call through the library. A static binary,
  // or a runtime that makes system calls itself, never does.
  absl::Status PerturbationInEffect() const {
    if (options_.perturb.empty()) return absl::OkStatus();
    std::ifstream in(AnnouncePath());
    std::string line;
    bool loaded = false;
    while (std::getline(in, line)) {
      if (line.rfind("active ", 0) == 0) return absl::OkStatus();
      loaded |= line.rfind("loaded ", 0) == 0;
    }
    return absl::FailedPreconditionError(
        loaded ? "the library was loaded, but no socket call went through "
                 "it (the server makes its system calls without libc)"
               : "the server never loaded the library (a static binary, or "
                 "a runtime that ignores LD_PRELOAD)");
  }

 private:
  absl::Status PreparePerturbation() {
    if (options_.perturb.empty() || perturb_dir_) return absl::OkStatus();
    if (options_.perturb_library.empty()) {
      return absl::InvalidArgumentError(
          "perturbation modes were given without the library");
    }
    absl::StatusOr<TempDir> dir = TempDir::Create();
    if (!dir.ok()) return dir.status();
    perturb_dir_.emplace(std::move(*dir));
    return absl::OkStatus();
  }
  std::string AnnouncePath() const {
    return perturb_dir_ ? perturb_dir_->path() + "/announce.log" : "";
  }

  absl::StatusOr<std::string> FreshAddress() {
    switch (kind_) {
      case TransportKind::kUnixPath: {
        absl::StatusOr<TempDir> dir = TempDir::Create();
        if (!dir.ok()) return dir.status();
        dir_.emplace(std::move(*dir));
        return absl::StrCat("unix:", dir_->path(), "/sut.sock");
      }
      case TransportKind::kUnixAbstract: {
        static std::atomic<int> counter{0};
        return absl::StrCat("unix:@sockparity-check-", ::getpid(), "-",
                            counter++, "-", absl::ToUnixMicros(absl::Now()));
      }
      default: {
        // A port the kernel picked, released for the server to bind.
        absl::StatusOr<Listener> probe = Listener::Open(kind_);
        if (!probe.ok()) return probe.status();
        return probe->endpoint().ToString();
      }
    }
  }

  const CheckOptions& options_;
  TransportKind kind_;
  uint64_t perturb_seed_;
  std::optional<TempDir> dir_;
  std::optional<TempDir> perturb_dir_;
  std::string address_;
  std::optional<Endpoint> endpoint_;
  std::optional<SutProcess> server_;
  std::vector<std::unique_ptr<SutProcess>> fd_servers_;
};

inline Bytes Frame(absl::Span<const uint8_t> payload) {
  return ContractFrame(payload);
}
inline Bytes Frame(absl::string_view payload) { return ContractFrame(payload); }
inline Bytes Header(uint32_t n) { return LengthHeader(n); }

inline void Append(Bytes& out, const Bytes& more) {
  const size_t old = out.size();
  out.resize(old + more.size());
  std::copy(more.begin(), more.end(), out.begin() + old);
}

inline std::string Show(const Bytes& payload) {
  std::string text;
  for (size_t i = 0; i < payload.size() && i < 12; ++i) {
    const char c = static_cast<char>(payload[i]);
    text += (c >= 0x20 && c < 0x7f) ? std::string(1, c)
                                    : absl::StrFormat("\\x%02x", payload[i]);
  }
  if (payload.size() > 12) absl::StrAppend(&text, "...");
  return absl::StrCat(payload.size(), " bytes '", text, "'");
}

// What a case works with.
class Context {
 public:
  Context(PeerLink& link, const CheckOptions& options, uint64_t seed)
      : link_(link), options_(options), seed_(seed) {}

  uint64_t seed() const { return seed_; }
  absl::Duration timeout() const { return options_.timeout; }
  PeerLink& link() { return link_; }

  std::optional<Socket> Connect() {
    absl::StatusOr<Socket> socket = link_.Connect();
    if (!socket.ok()) {
      Fail("a connection", socket.status().ToString());
      return std::nullopt;
    }
    Log("connected");
    return std::move(*socket);
  }

  bool Send(const Socket& socket, const Bytes& bytes) {
    absl::Status sent = SendAll(socket, bytes, options_.timeout);
    Log(absl::StrCat("> ", bytes.size(), " bytes"));
    if (!sent.ok()) Fail("to send the request", Describe(sent));
    return sent.ok();
  }

  // Sends `bytes` where the server may end the connection once it has read
  // the first `must_arrive` of them (after a frame that ends it, or inside
  // bad input it may reject as soon as it can tell): the rest may meet
  // EPIPE or ECONNRESET, which is then no failure. How much of the rest
  // the server read first depends on how it reads, not on whether it is
  // right.
  bool SendUntilClosed(const Socket& socket, const Bytes& bytes,
                       size_t must_arrive) {
    must_arrive = std::min(must_arrive, bytes.size());
    if (must_arrive > 0 &&
        !Send(socket, Bytes(bytes.begin(), bytes.begin() + must_arrive))) {
      return false;
    }
    if (must_arrive == bytes.size()) return true;
    absl::Status sent =
        SendAll(socket, Bytes(bytes.begin() + must_arrive, bytes.end()),
                options_.timeout);
    Log(absl::StrCat("> ", bytes.size() - must_arrive, " bytes"));
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

  // The end of the connection the registry entry `entry_id` documents for
  // this transport's family (e.g. a TCP abort is a reset): anything else
  // fails, naming the entry.
  bool ExpectEndAsRegistered(const Socket& socket, absl::string_view entry_id) {
    std::optional<std::string> end = End(socket);
    if (!end) return false;
    Record("recv", *end);
    const Difference* entry = DifferenceRegistry::Default().Find(entry_id);
    const TransportKind kind = link_.kind();
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

  // Reads one frame; on failure records what came instead. Replies whose
  // number depends on timing (polling) stay out of the compared record.
  std::optional<Bytes> ReadFrame(const Socket& socket, bool recorded = true) {
    absl::StatusOr<Bytes> header = RecvExactly(socket, 4, options_.timeout);
    if (!header.ok()) {
      Fail("a reply frame", Describe(header.status()));
      return std::nullopt;
    }
    const uint32_t n = (uint32_t{(*header)[0]} << 24) |
                       (uint32_t{(*header)[1]} << 16) |
                       (uint32_t{(*header)[2]} << 8) | (*header)[3];
    if (n == 0 || n > kMaxFrame) {
      Fail("a reply of 1 to 16777216 bytes",
           absl::StrCat("a length prefix of ", n));
      return std::nullopt;
    }
    absl::StatusOr<Bytes> payload = RecvExactly(socket, n, options_.timeout);
    if (!payload.ok()) {
      Fail(absl::StrCat("the ", n, " bytes of a reply"),
           Describe(payload.status()));
      return std::nullopt;
    }
    Log(absl::StrCat("< ", Show(*payload)));
    if (recorded) Digest(*payload);
    return std::move(*payload);
  }

  bool ExpectFrame(const Socket& socket, const Bytes& want) {
    std::optional<Bytes> got = ReadFrame(socket);
    if (!got) return false;
    if (*got != want) {
      Fail(absl::StrCat("the reply ", Show(want)),
           absl::StrCat("the reply ", Show(*got)));
      return false;
    }
    return true;
  }

  // The connection's end as the client sees it: "eof" or an errno name;
  // any bytes first are a failure (a reply that should not be).
  std::optional<std::string> End(const Socket& socket) {
    absl::StatusOr<Bytes> rest =
        RecvUntilEof(socket, options_.timeout, 1 << 20);
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

  bool ExpectEnd(const Socket& socket) {
    std::optional<std::string> end = End(socket);
    if (!end) return false;
    Record("recv", *end);
    if (*end != "eof") Fail("end of stream", *end);
    return *end == "eof";
  }

  // The server still serves: a new connection echoes.
  bool StillServes() {
    if (link_.single_connection()) return true;
    std::optional<Socket> socket = Connect();
    return socket && Send(*socket, Frame("Estill here")) &&
           ExpectFrame(*socket, ToBytes("Estill here"));
  }

  void Record(absl::string_view verb, absl::string_view outcome) {
    result_.record.push_back(absl::StrCat(verb, ":", outcome));
  }
  void Log(absl::string_view line) {
    absl::StrAppend(&result_.wire_log, line, "\n");
  }
  void Fail(absl::string_view expected, absl::string_view seen) {
    if (result_.verdict == Verdict::kFailed) return;
    result_.verdict = Verdict::kFailed;
    result_.reason = absl::StrCat("expected ", expected, "; saw ", seen);
  }
  void Unsupported(absl::string_view why) {
    result_.verdict = Verdict::kUnsupported;
    result_.reason = std::string(why);
  }
  bool failed() const { return result_.verdict == Verdict::kFailed; }

  CaseResult Finish() {
    result_.record.push_back(
        absl::StrFormat("bytes:%d:%016x", received_, hash_));
    return std::move(result_);
  }

  static Bytes ToBytes(absl::string_view text) {
    return Bytes(text.begin(), text.end());
  }

 private:
  static std::string Describe(const absl::Status& status) {
    if (absl::IsOutOfRange(status)) return "end of stream";
    if (absl::IsDeadlineExceeded(status)) return "nothing (timed out)";
    if (ErrnoOf(status)) return std::string(status.message());
    return status.ToString();
  }
  void Digest(const Bytes& payload) {
    for (uint8_t b : payload) hash_ = (hash_ ^ b) * 1099511628211ull;
    received_ += payload.size();
  }

  PeerLink& link_;
  const CheckOptions& options_;
  uint64_t seed_;
  CaseResult result_;
  uint64_t hash_ = 1469598103934665603ull;
  uint64_t received_ = 0;
};

inline Bytes BulkRequest(uint32_t n) {
  Bytes request = {'B'};
  Append(request, Header(n));
  return request;
}

inline Bytes EchoPayload(size_t size, uint8_t seed) {
  Bytes payload(size);
  payload[0] = 'E';
  for (size_t i = 1; i < size; ++i)
    payload[i] = static_cast<uint8_t>((i * 7 + seed) % 256);
  return payload;
}

// Sends `bytes` on a thread while the case reads, for requests larger than
// both socket buffers together.
class BackgroundSend {
 public:
  BackgroundSend(const Socket& socket, Bytes bytes, absl::Duration timeout)
      : thread_([this, &socket, bytes = std::move(bytes), timeout] {
          status_ = SendAll(socket, bytes, timeout);
        }) {}
  absl::Status Join() {
    thread_.join();
    return status_;
  }

 private:
  absl::Status status_;
  std::thread thread_;
};

struct Case {
  CaseInfo info;
  bool needs_many_connections = false;
  // Step texts that give the registry its context (e.g. "abort").
  std::vector<std::string> context;
  std::function<void(Context&)> run;
};

// Every case, in catalog order.
std::vector<Case> Catalog();

}  // namespace sockparity::internal

#endif  // SOCKPARITY_SRC_PEER_CASES_H_
