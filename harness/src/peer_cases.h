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
#include "sockparity/differences.h"
#include "sockparity/endpoint.h"
#include "sockparity/errors.h"
#include "sockparity/glob.h"
#include "sockparity/io.h"
#include "sockparity/listener.h"
#include "sockparity/peer_check.h"
#include "sockparity/peer_contract.h"
#include "sockparity/sut_process.h"
#include "sockparity/temp_dir.h"

namespace sockparity::internal {

inline constexpr uint32_t kMaxFrame = 16u << 20;

// How a case reaches the server on one transport. With fd:N every
// connection is a fresh server over a socketpair.
class PeerLink {
 public:
  PeerLink(const CheckOptions& options, TransportKind kind)
      : options_(options), kind_(kind) {}

  // Starts the server for an addressed transport. UNIMPLEMENTED: exit 64.
  absl::Status Start() {
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
        SutProcess::Start(options_.command, address_);
    if (!sut.ok()) return sut.status();
    server_.emplace(std::move(*sut));
    absl::StatusOr<Endpoint> endpoint = Endpoint::Parse(address_);
    if (!endpoint.ok()) return endpoint.status();
    endpoint_ = *endpoint;
    return absl::OkStatus();
  }

  bool single_connection() const { return kind_ == TransportKind::kSocketpair; }
  const std::string& address() const { return address_; }
  SutProcess* server() { return server_ ? &*server_ : nullptr; }
  const std::optional<Endpoint>& endpoint() const { return endpoint_; }

  absl::StatusOr<Socket> Connect() {
    if (kind_ != TransportKind::kSocketpair) {
      return sockparity::Connect(*endpoint_, options_.timeout);
    }
    absl::StatusOr<SocketPair> pair =
        MakeConnectedPair(TransportKind::kSocketpair);
    if (!pair.ok()) return pair.status();
    absl::StatusOr<SutProcess> sut = SutProcess::Start(
        options_.command, "fd:3", options_.timeout, &pair->b.owned_fd(), 3);
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

 private:
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
  std::optional<TempDir> dir_;
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
    if (!sent.ok()) Fail("to send the request", sent.ToString());
    return sent.ok();
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
