#include "sockparity/peer_check.h"

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sockparity/differences.h"
#include "sockparity/endpoint.h"
#include "sockparity/errors.h"
#include "sockparity/glob.h"
#include "sockparity/io.h"
#include "sockparity/listener.h"
#include "sockparity/peer_contract.h"
#include "sockparity/sut_process.h"
#include "sockparity/temp_dir.h"

namespace sockparity {

std::string VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return "OK";
    case Verdict::kNonStrict:
      return "NON-STRICT";
    case Verdict::kInformational:
      return "INFORMATIONAL";
    case Verdict::kUnsupported:
      return "UNSUPPORTED";
    case Verdict::kFailed:
      return "FAILED";
  }
  return "?";
}

std::string ContractTransportName(TransportKind kind) {
  return kind == TransportKind::kSocketpair ? "fd"
                                            : std::string(TransportName(kind));
}

namespace {

constexpr uint32_t kMaxFrame = 16u << 20;

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

Bytes Frame(absl::Span<const uint8_t> payload) {
  return ContractFrame(payload);
}
Bytes Frame(absl::string_view payload) { return ContractFrame(payload); }
Bytes Header(uint32_t n) { return LengthHeader(n); }

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

Bytes BulkRequest(uint32_t n) {
  Bytes request = {'B'};
  Append(request, Header(n));
  return request;
}

Bytes EchoPayload(size_t size, uint8_t seed) {
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

void Echo(Context& c, const std::vector<size_t>& sizes) {
  std::optional<Socket> s = c.Connect();
  if (!s) return;
  for (size_t size : sizes) {
    const Bytes payload = EchoPayload(size, static_cast<uint8_t>(size));
    BackgroundSend send(*s, Frame(payload), c.timeout());
    const bool ok = c.ExpectFrame(*s, payload);
    absl::Status sent = send.Join();
    if (!sent.ok()) c.Fail("to send the request", sent.ToString());
    if (!ok || !sent.ok()) return;
  }
}

void BadInput(Context& c, const Bytes& bytes, bool shut_wr) {
  {
    std::optional<Socket> s = c.Connect();
    if (!s) return;
    if (!c.Send(*s, bytes)) return;
    if (shut_wr) (void)Shutdown(*s, SHUT_WR);
    std::optional<std::string> end = c.End(*s);
    if (!end) return;
    c.Record("recv", *end == "eof" ? "closed" : "closed");
  }
  c.StillServes();
}

int OpenDescriptorsOf(pid_t pid) {
  int count = 0;
  if (DIR* dir = ::opendir(absl::StrCat("/proc/", pid, "/fd").c_str())) {
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
  }
  return count;
}

// After the client vanished mid-reply: waits until the server has let go
// of that connection (its descriptor count is back to `before`) or has
// died, then fails the case if it died. Either ends the wait; only the
// deadline bounds it, so the verdict does not depend on timing.
void ExpectServerSurvives(Context& c, int before) {
  SutProcess* server = c.link().server();
  if (server == nullptr) return;
  const absl::Time deadline = absl::Now() + c.timeout();
  absl::Duration pause = absl::Milliseconds(1);
  while (!server->Poll() && OpenDescriptorsOf(server->pid()) > before &&
         absl::Now() < deadline) {
    absl::SleepFor(pause);  // pacing re-checks, bounded by the deadline
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
  if (std::optional<SutExit> exit = server->Poll()) {
    c.Fail("the server to survive a client that vanished mid-reply",
           absl::StrCat("it ended: ", exit->Describe()));
  }
}

std::vector<Case> Catalog() {
  std::vector<Case> cases;
  auto add = [&](std::string id, std::string name, std::string description,
                 std::function<void(Context&)> run, bool many = false,
                 std::vector<std::string> context = {}) {
    cases.push_back({{std::move(id), std::move(name), std::move(description)},
                     many,
                     std::move(context),
                     std::move(run)});
  };
  add("1.1", "echo/small", "E with a few bytes comes back identical",
      [](Context& c) { Echo(c, {6}); });
  add("1.2", "echo/sizes", "E of 1 byte up to 16 MiB comes back identical",
      [](Context& c) {
        Echo(c, {1, 255, 256, 65535, 65536, 1 << 20, kMaxFrame});
      });
  add("1.3", "echo/bulk", "B N replies with N+1 bytes, byte i = i mod 251",
      [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        for (uint32_t n : {0u, 1u, 250u, 251u, 100000u, kMaxFrame - 1}) {
          if (!c.Send(*s, Frame(BulkRequest(n))) ||
              !c.ExpectFrame(*s, BulkReply(n)))
            return;
        }
      });
  add("1.4", "echo/count", "N on a single connection reports 1",
      [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (s && c.Send(*s, Frame("N")))
          c.ExpectFrame(*s, Context::ToBytes("N1"));
      });
  add("2.1", "segmentation/one-byte-writes",
      "requests written one byte per call", [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        Bytes all = Frame("Eabc");
        Append(all, Frame("Exyz"));
        for (uint8_t byte : all) {
          if (!c.Send(*s, Bytes{byte})) return;
        }
        if (c.ExpectFrame(*s, Context::ToBytes("Eabc")))
          c.ExpectFrame(*s, Context::ToBytes("Exyz"));
      });
  add("2.2", "segmentation/paced-header",
      "a header split and paced so the server reads part of it",
      [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        const Bytes frame = Frame("Epaced");
        for (auto [from, to] :
             {std::pair{0, 1}, {1, 3}, {3, 4}, {4, 6}, {6, 10}}) {
          if (!c.Send(*s, Bytes(frame.begin() + from, frame.begin() + to)))
            return;
          // Pacing the stimulus so each piece arrives on its own.
          std::this_thread::sleep_for(std::chrono::milliseconds(15));
        }
        c.ExpectFrame(*s, Context::ToBytes("Epaced"));
      });
  add("2.3", "segmentation/random-splits",
      "20 frames split at random points (seed printed)", [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        std::mt19937_64 rng(c.seed());
        Bytes stream;
        std::vector<Bytes> payloads;
        for (int i = 0; i < 20; ++i) {
          payloads.push_back(
              EchoPayload(1 + rng() % 3000, static_cast<uint8_t>(i)));
          Append(stream, Frame(payloads.back()));
        }
        for (size_t at = 0; at < stream.size();) {
          size_t piece = std::min<size_t>(1 + rng() % 700, stream.size() - at);
          if (!c.Send(*s,
                      Bytes(stream.begin() + at, stream.begin() + at + piece)))
            return;
          at += piece;
        }
        for (const Bytes& payload : payloads) {
          if (!c.ExpectFrame(*s, payload)) return;
        }
      });
  add("3.1", "pipelining/500-frames",
      "500 frames in one write, 500 replies in order", [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        Bytes stream;
        for (int i = 0; i < 500; ++i)
          Append(stream, Frame(absl::StrCat("E", i)));
        BackgroundSend send(*s, stream, c.timeout());
        for (int i = 0; i < 500 && !c.failed(); ++i) {
          c.ExpectFrame(*s, Context::ToBytes(absl::StrCat("E", i)));
        }
        (void)send.Join();
      });
  add("4.1", "backpressure/slow-reader",
      "large B replies while the client reads slowly", [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        Bytes requests;
        for (int i = 0; i < 4; ++i)
          Append(requests, Frame(BulkRequest(4u << 20)));
        if (!c.Send(*s, requests)) return;
        // Pacing the reads: the server must hold its replies meanwhile.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        for (int i = 0; i < 4; ++i) {
          if (!c.ExpectFrame(*s, BulkReply(4u << 20))) return;
        }
      });
  add("4.2", "backpressure/large-request",
      "an 8 MiB request while the server writes", [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        Bytes stream = Frame(BulkRequest(8u << 20));
        const Bytes big = EchoPayload(8u << 20, 9);
        Append(stream, Frame(big));
        BackgroundSend send(*s, stream, c.timeout());
        if (c.ExpectFrame(*s, BulkReply(8u << 20))) c.ExpectFrame(*s, big);
        absl::Status sent = send.Join();
        if (!sent.ok()) c.Fail("to send the request", sent.ToString());
      });
  add("5.1", "half-close/client-shut-wr",
      "after the client's SHUT_WR: every reply, then end of stream",
      [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        Bytes stream = Frame("E1");
        Append(stream, Frame("E2"));
        Append(stream, Frame("E3"));
        if (!c.Send(*s, stream)) return;
        (void)Shutdown(*s, SHUT_WR);
        for (const char* want : {"E1", "E2", "E3"}) {
          if (!c.ExpectFrame(*s, Context::ToBytes(want))) return;
        }
        c.ExpectEnd(*s);
      });
  add("5.2", "half-close/S",
      "S: replies to earlier requests, then the server's end of stream",
      [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        Bytes stream = Frame("Ebefore");
        Append(stream, Frame("S"));
        Append(stream, Frame("Eafter"));
        if (!c.Send(*s, stream)) return;
        if (!c.ExpectFrame(*s, Context::ToBytes("Ebefore"))) return;
        c.ExpectEnd(*s);
      });
  add("6.1", "close/C",
      "C: replies to earlier requests, then the server closes", [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        Bytes stream = Frame("Ebefore");
        Append(stream, Frame("C"));
        Append(stream, Frame("Eafter"));
        if (c.Send(*s, stream) &&
            c.ExpectFrame(*s, Context::ToBytes("Ebefore")))
          c.ExpectEnd(*s);
      });
  add("6.2", "close/A",
      "A: the server aborts; the client sees a reset (TCP) or end of stream",
      [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s || !c.Send(*s, Frame("A"))) return;
        std::optional<std::string> end = c.End(*s);
        if (!end) return;
        c.Record("recv", *end);
        if (*end != "eof" && *end != "ECONNRESET")
          c.Fail("a reset or end of stream", *end);
      },
      false, {"abort"});
  add(
      "6.3", "close/client-closes-mid-reply",
      "the client closes during a 16 MiB reply; the server goes on",
      [](Context& c) {
        const int before =
            c.link().server() ? OpenDescriptorsOf(c.link().server()->pid()) : 0;
        {
          std::optional<Socket> s = c.Connect();
          if (!s || !c.Send(*s, Frame(BulkRequest(kMaxFrame - 1)))) return;
          (void)RecvExactly(*s, 1000, c.timeout());
        }
        ExpectServerSurvives(c, before);
        if (!c.failed()) c.StillServes();
      },
      true);
  add(
      "6.4", "close/client-resets-mid-reply",
      "the client resets during a 16 MiB reply; the server goes on",
      [](Context& c) {
        const int before =
            c.link().server() ? OpenDescriptorsOf(c.link().server()->pid()) : 0;
        {
          std::optional<Socket> s = c.Connect();
          if (!s || !c.Send(*s, Frame(BulkRequest(kMaxFrame - 1)))) return;
          (void)RecvExactly(*s, 1000, c.timeout());
          linger abort{1, 0};
          ::setsockopt(s->fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
        }
        ExpectServerSurvives(c, before);
        if (!c.failed()) c.StillServes();
      },
      true);
  add(
      "7.1", "bad-input/zero-length",
      "L = 0 closes the connection without a reply",
      [](Context& c) { BadInput(c, Header(0), false); }, true);
  add(
      "7.2", "bad-input/over-16-MiB",
      "L = 16 MiB + 1 closes the connection without a reply",
      [](Context& c) { BadInput(c, Header(kMaxFrame + 1), false); }, true);
  add(
      "7.3", "bad-input/length-ffffffff",
      "L = 0xFFFFFFFF closes without a reply or a 4 GiB buffer",
      [](Context& c) { BadInput(c, Header(0xffffffffu), false); }, true);
  add(
      "7.4", "bad-input/unknown-opcode",
      "an unknown opcode closes the connection without a reply",
      [](Context& c) { BadInput(c, Frame("Zzz"), false); }, true);
  add(
      "7.5", "bad-input/truncated",
      "end of stream inside a frame: no reply, the server closes",
      [](Context& c) {
        Bytes truncated = Header(100);
        Append(truncated, Bytes(10, 'E'));
        BadInput(c, truncated, true);
      },
      true);
  add(
      "7.6", "bad-input/garbage",
      "random bytes (seed printed): the server survives",
      [](Context& c) {
        std::mt19937_64 rng(c.seed() ^ 0x7761726261676521ull);
        Bytes garbage(512);
        for (uint8_t& b : garbage) b = static_cast<uint8_t>(rng());
        garbage[0] = 0xff;  // a length over the limit: the stream is bad input
        {
          std::optional<Socket> s = c.Connect();
          if (!s || !c.Send(*s, garbage)) return;
          (void)c.End(*s);
        }
        c.StillServes();
      },
      true);
  add(
      "8.1", "concurrency/64-connections",
      "64 connections at once, interleaved; N reports 64",
      [](Context& c) {
        std::vector<Socket> sockets;
        for (int i = 0; i < 64; ++i) {
          std::optional<Socket> s = c.Connect();
          if (!s) return;
          sockets.push_back(std::move(*s));
        }
        for (int i = 0; i < 64; ++i) {
          if (!c.Send(sockets[i], Frame(absl::StrCat("E", i)))) return;
        }
        for (int i = 63; i >= 0; --i) {
          if (!c.ExpectFrame(sockets[i],
                             Context::ToBytes(absl::StrCat("E", i))))
            return;
        }
        if (c.Send(sockets[0], Frame("N")))
          c.ExpectFrame(sockets[0], Context::ToBytes("N64"));
      },
      true);
  add(
      "8.2", "concurrency/stalled-connection",
      "a connection stalled mid-frame does not delay others",
      [](Context& c) {
        std::optional<Socket> stalled = c.Connect();
        if (!stalled || !c.Send(*stalled, Bytes{0, 0})) return;
        std::optional<Socket> other = c.Connect();
        if (other && c.Send(*other, Frame("Eother")))
          c.ExpectFrame(*other, Context::ToBytes("Eother"));
      },
      true);
  add(
      "8.3", "concurrency/1000-cycles",
      "1,000 connect/close cycles; then N is 1 and descriptors are stable",
      [](Context& c) {
        SutProcess* server = c.link().server();
        const int before = server ? OpenDescriptorsOf(server->pid()) : 0;
        for (int i = 0; i < 1000; ++i) {
          absl::StatusOr<Socket> s = c.link().Connect();
          if (!s.ok()) {
            c.Fail("1,000 connections",
                   absl::StrCat("cycle ", i, ": ", s.status().ToString()));
            return;
          }
        }
        std::optional<Socket> s = c.Connect();
        if (!s || !c.Send(*s, Frame("N"))) return;
        // The server notices the closes in its own time: ask until it has,
        // within the timeout (polling with a deadline).
        const absl::Time deadline = absl::Now() + c.timeout();
        std::optional<Bytes> reply = c.ReadFrame(*s, /*recorded=*/false);
        while (reply && *reply != Context::ToBytes("N1") &&
               absl::Now() < deadline) {
          absl::SleepFor(absl::Milliseconds(10));
          if (!c.Send(*s, Frame("N"))) return;
          reply = c.ReadFrame(*s, /*recorded=*/false);
        }
        if (reply) c.Record("count", Show(*reply));
        if (reply && *reply != Context::ToBytes("N1")) {
          c.Fail("N1 after the cycles", Show(*reply));
          return;
        }
        if (server) {
          int after = OpenDescriptorsOf(server->pid());
          while (after > before && absl::Now() < deadline) {
            absl::SleepFor(absl::Milliseconds(10));
            after = OpenDescriptorsOf(server->pid());
          }
          // One connection is still open now, which `before` did not have.
          if (after > before + 1) {
            c.Fail(absl::StrCat("at most ", before + 1,
                                " descriptors in the server"),
                   absl::StrCat(after));
          }
        }
      },
      true);
  return cases;
}

bool Selected(const CaseInfo& info, const CheckOptions& options) {
  auto matches = [&](const std::vector<std::string>& globs) {
    for (const std::string& glob : globs) {
      if (GlobMatch(glob, info.id) || GlobMatch(glob, info.name)) return true;
    }
    return false;
  };
  return matches(options.include) && !matches(options.exclude);
}

// Compares the records of one case across transports through the registry.
CaseResult CrossVerdict(
    const Case& c,
    const std::vector<std::pair<TransportKind, const CaseResult*>>& runs) {
  CaseResult cross;
  std::vector<std::string> entries;
  for (size_t i = 0; i + 1 < runs.size(); ++i) {
    for (size_t j = i + 1; j < runs.size(); ++j) {
      const auto& [kind_x, x] = runs[i];
      const auto& [kind_y, y] = runs[j];
      const size_t n = std::max(x->record.size(), y->record.size());
      for (size_t k = 0; k < n; ++k) {
        const std::string a = k < x->record.size() ? x->record[k] : "(nothing)";
        const std::string b = k < y->record.size() ? y->record[k] : "(nothing)";
        if (a == b) continue;
        const std::string verb = a.substr(0, a.find(':'));
        Script script;
        for (const std::string& action : c.context) {
          Step step;
          step.slot = "b";
          if (!VerbFromName(action, &step.verb)) continue;
          script.steps.push_back(step);
        }
        Step observed;
        observed.slot = "a";
        const bool known =
            VerbFromName(verb, &observed.verb) && b.rfind(verb + ":", 0) == 0;
        script.steps.push_back(observed);
        const Difference* entry = known
                                      ? DifferenceRegistry::Default().Allowing(
                                            script, script.steps.size() - 1,
                                            kind_x, a.substr(verb.size() + 1),
                                            kind_y, b.substr(verb.size() + 1))
                                      : nullptr;
        if (entry == nullptr) {
          cross.verdict = Verdict::kFailed;
          cross.reason =
              absl::StrCat("undocumented difference between transports: ",
                           ContractTransportName(kind_x), " saw ", a, ", ",
                           ContractTransportName(kind_y), " saw ", b);
          return cross;
        }
        if (std::find(entries.begin(), entries.end(), entry->id) ==
            entries.end()) {
          entries.push_back(entry->id);
        }
      }
    }
  }
  if (!entries.empty()) {
    cross.verdict = Verdict::kInformational;
    cross.reason = absl::StrCat("differs only as documented: ",
                                absl::StrJoin(entries, ", "));
  }
  return cross;
}

}  // namespace

std::vector<CaseInfo> CheckCatalog() {
  std::vector<CaseInfo> infos;
  for (const Case& c : Catalog()) infos.push_back(c.info);
  infos.push_back(
      {"9.1", "listener/ready", "prints 'ready' within 10 s of its start"});
  infos.push_back(
      {"9.2", "listener/sigterm", "SIGTERM: exit status 0 within 2 s"});
  infos.push_back({"9.3", "listener/socket-file-removed",
                   "a unix path server removes its socket file"});
  infos.push_back(
      {"9.4", "listener/stale-socket-file", "starts over a stale socket file"});
  return infos;
}

absl::StatusOr<CheckReport> RunCheck(const CheckOptions& options) {
  if (options.command.empty())
    return absl::InvalidArgumentError("no server command given");
  CheckReport report;
  report.seed = options.seed != 0 ? options.seed : std::random_device{}() | 1;
  const std::vector<Case> catalog = Catalog();
  std::vector<const Case*> cases;
  for (const Case& c : catalog) {
    if (Selected(c.info, options)) cases.push_back(&c);
  }
  std::vector<CaseInfo> lifecycle;
  for (const CaseInfo& info : CheckCatalog()) {
    if (info.id.rfind("9.", 0) == 0 && Selected(info, options))
      lifecycle.push_back(info);
  }
  if (cases.empty() && lifecycle.empty()) {
    return absl::InvalidArgumentError(
        "the case filters match no case; 'sockparity check --list' lists them");
  }
  for (const Case* c : cases) report.cases.push_back(c->info);
  for (const CaseInfo& info : lifecycle) report.cases.push_back(info);
  auto progress = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  auto add = [&](const std::string& id, TransportKind kind, CaseResult result) {
    std::string name;
    for (const CaseInfo& info : report.cases) {
      if (info.id == id) name = info.name;
    }
    progress(absl::StrFormat("%-5s %-38s %-13s %-13s %s", id,
                             name.substr(0, 38), ContractTransportName(kind),
                             VerdictName(result.verdict),
                             result.reason.substr(0, 120)));
    report.cells.push_back({id, kind, std::move(result)});
  };
  for (TransportKind kind : options.transports) {
    if (kind == TransportKind::kTcp6 && !TransportAvailability(kind).ok()) {
      for (const CaseInfo& info : report.cases) {
        add(info.id, kind,
            {Verdict::kUnsupported, "IPv6 is off on this machine", "", {}, {}});
      }
      continue;
    }
    report.transports.push_back(kind);
    PeerLink link(options, kind);
    const absl::Time start = absl::Now();
    absl::Status started = link.Start();
    const absl::Duration ready_after = absl::Now() - start;
    if (!started.ok()) {
      const Verdict verdict = absl::IsUnimplemented(started)
                                  ? Verdict::kUnsupported
                                  : Verdict::kFailed;
      if (verdict == Verdict::kFailed) {
        absl::StrAppend(&report.startup_errors, ContractTransportName(kind),
                        ": ", started.message(), "\n");
      }
      for (const CaseInfo& info : report.cases) {
        add(info.id, kind,
            {verdict, std::string(started.message()), "", {}, {}});
      }
      continue;
    }
    for (const Case* c : cases) {
      CaseResult result;
      const absl::Time case_start = absl::Now();
      if (c->needs_many_connections && link.single_connection()) {
        result.verdict = Verdict::kUnsupported;
        result.reason = "fd:N carries one connection";
      } else {
        Context context(link, options, report.seed);
        c->run(context);
        link.EndCase();
        result = context.Finish();
      }
      result.duration = absl::Now() - case_start;
      if (SutProcess* server = link.server();
          server != nullptr && server->Poll()) {
        result.verdict = Verdict::kFailed;
        result.reason = absl::StrCat(
            "the server ended during the case: ", server->Poll()->Describe(),
            "\n", server->Output());
        add(c->info.id, kind, std::move(result));
        break;
      }
      add(c->info.id, kind, std::move(result));
    }
    // The listener's lifecycle.
    const std::optional<Endpoint> endpoint = link.endpoint();
    std::optional<SutExit> exit = link.Stop();
    for (const CaseInfo& info : lifecycle) {
      CaseResult result;
      if (info.id == "9.1") {
        result.reason =
            absl::StrCat("ready after ", absl::FormatDuration(ready_after));
        if (kind == TransportKind::kSocketpair)
          result.reason = "each fd:N server was ready in time";
      } else if (info.id == "9.2") {
        if (!exit) {
          result.reason = "fd:N servers end with their connection";
        } else if (!exit->exited || exit->code != 0 || exit->killed) {
          result.verdict = Verdict::kFailed;
          result.reason =
              absl::StrCat("expected exit status 0 within 2 s of SIGTERM; saw ",
                           exit->Describe());
        } else {
          result.reason =
              absl::StrCat("exit 0 after ", absl::FormatDuration(exit->took));
        }
      } else if (info.id == "9.3" || info.id == "9.4") {
        if (kind != TransportKind::kUnixPath || !endpoint) {
          result.verdict = Verdict::kInformational;
          result.reason = "no socket file on this transport";
        } else if (info.id == "9.3") {
          if (std::filesystem::exists(std::string(endpoint->path()))) {
            result.verdict = Verdict::kFailed;
            result.reason = absl::StrCat("the socket file ", endpoint->path(),
                                         " is still there");
          }
        } else {
          // A socket file nobody listens on, then a start over it.
          absl::StatusOr<TempDir> dir = TempDir::Create();
          const std::string path = dir.ok() ? dir->path() + "/stale.sock" : "";
          absl::StatusOr<Endpoint> stale = Endpoint::Parse("unix:" + path);
          Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
          if (!stale.ok() ||
              ::bind(fd.get(), stale->addr(), stale->length()) != 0) {
            result.verdict = Verdict::kFailed;
            result.reason = "could not make a stale socket file";
          } else {
            fd.Close().IgnoreError();
            absl::StatusOr<SutProcess> again =
                SutProcess::Start(options.command, "unix:" + path);
            if (!again.ok()) {
              result.verdict = Verdict::kFailed;
              result.reason = absl::StrCat(
                  "expected a start over a stale socket file; saw ",
                  again.status().message());
            } else {
              again->Stop();
            }
          }
        }
      }
      add(info.id, kind, std::move(result));
    }
  }
  // Cross-transport verdicts.
  for (const Case* c : cases) {
    std::vector<std::pair<TransportKind, const CaseResult*>> runs;
    for (const CheckReport::Cell& cell : report.cells) {
      if (cell.case_id == c->info.id &&
          (cell.result.verdict == Verdict::kOk ||
           cell.result.verdict == Verdict::kInformational)) {
        runs.emplace_back(cell.transport, &cell.result);
      }
    }
    if (runs.size() < 2) continue;
    report.cross.emplace_back(c->info.id, CrossVerdict(*c, runs));
  }
  return report;
}

int CheckReport::Count(Verdict verdict) const {
  int n = 0;
  for (const Cell& cell : cells) n += cell.result.verdict == verdict;
  for (const auto& [id, result] : cross) n += result.verdict == verdict;
  return n;
}

}  // namespace sockparity
