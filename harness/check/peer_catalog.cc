// The case catalog of `sockparity check`: what each case sends and what
// it expects back.
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
#include "check/peer_cases.h"
#include "sockparity/script/differences.h"
#include "sockparity/net/endpoint.h"
#include "sockparity/net/errors.h"
#include "sockparity/script/glob.h"
#include "sockparity/net/io.h"
#include "sockparity/net/listener.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/check/sut_process.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity::internal {

void Echo(Context& c, const std::vector<size_t>& sizes) {
  std::optional<Socket> s = c.Connect();
  if (!s) return;
  for (size_t size : sizes) {
    const Bytes payload = EchoPayload(size, static_cast<uint8_t>(size));
    BackgroundSend send(*s, Frame(payload), c.timeout());
    const bool ok = c.ExpectFrame(*s, payload);
    absl::Status sent = send.Join();
    if (!sent.ok()) c.Fail("to send the request", std::string(sent.message()));
    if (!ok || !sent.ok()) return;
  }
}

// Bad input ends the connection without a reply. The server may stop
// reading at any byte of it once it can tell (an exact reader stops after
// the header, a greedy one reads all), so the client's own send may meet
// the close; what is checked is what the client then receives.
void BadInput(Context& c, const Bytes& bytes, bool shut_wr) {
  {
    std::optional<Socket> s = c.Connect();
    if (!s) return;
    if (!c.SendUntilClosed(*s, bytes, 0)) return;
    if (shut_wr) (void)Shutdown(*s, SHUT_WR);
    // End of stream or a reset, as the contract allows: recorded alike.
    if (!c.End(*s)) return;
    c.Record("recv", "closed");
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

// Asks N on `s` until the server counts this connection alone, within the
// timeout: a server notices earlier connections' closes in its own time
// (under load, after this request has come), so one answer of N2 is not
// a wrong count. Records the last answer; fails unless it is N1.
bool CountComesToOne(Context& c, const Socket& s, absl::string_view when) {
  const absl::Time deadline = absl::Now() + c.timeout();
  if (!c.Send(s, Frame("N"))) return false;
  std::optional<Bytes> reply = c.ReadFrame(s, /*recorded=*/false);
  while (reply && *reply != Context::ToBytes("N1") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // pacing the next question
    if (!c.Send(s, Frame("N"))) return false;
    reply = c.ReadFrame(s, /*recorded=*/false);
  }
  if (!reply) return false;
  c.Record("count", Show(*reply));
  if (*reply != Context::ToBytes("N1")) {
    c.Fail(absl::StrCat("N1 ", when), Show(*reply));
    return false;
  }
  return true;
}

// The client asks for a 16 MiB reply, reads a little of it and closes (or
// resets): the server must let go of the connection and go on serving.
void ClientLeavesMidReply(Context& c, bool reset) {
  const int before =
      c.link().server() ? OpenDescriptorsOf(c.link().server()->pid()) : 0;
  {
    std::optional<Socket> s = c.Connect();
    if (!s || !c.Send(*s, Frame(BulkRequest(kMaxFrame - 1)))) return;
    (void)RecvExactly(*s, 1000, c.timeout());
    if (reset) {
      linger abort{1, 0};
      ::setsockopt(s->fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
    }
  }
  ExpectServerSurvives(c, before);
  if (!c.failed()) c.StillServes();
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
        if (s) CountComesToOne(c, *s, "on a single connection");
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
        if (!sent.ok()) c.Fail("to send the request", std::string(sent.message()));
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
        // Nothing after C: what the client sees after bytes the server
        // never read is 6.5's question.
        Bytes stream = Frame("Ebefore");
        Append(stream, Frame("C"));
        if (c.Send(*s, stream) &&
            c.ExpectFrame(*s, Context::ToBytes("Ebefore")))
          c.ExpectEnd(*s);
      });
  add("6.2", "close/A",
      "A: the server aborts; the client sees what the registry documents for "
      "its family (a reset on TCP, end of stream on UNIX sockets)",
      [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (s && c.Send(*s, Frame("A")))
          c.ExpectEndAsRegistered(*s, "linger_zero_resets_only_tcp");
      },
      false, {"abort"});
  add(
      "6.3", "close/client-closes-mid-reply",
      "the client closes during a 16 MiB reply; the server goes on",
      [](Context& c) { ClientLeavesMidReply(c, /*reset=*/false); }, true);
  add(
      "6.4", "close/client-resets-mid-reply",
      "the client resets during a 16 MiB reply; the server goes on",
      [](Context& c) { ClientLeavesMidReply(c, /*reset=*/true); }, true);
  add("6.5", "close/C-then-more",
      "C followed by another request: the reply before C, no reply after it, "
      "then end of stream or a reset (bytes the server never read may reset "
      "the connection on every transport)",
      [](Context& c) {
        std::optional<Socket> s = c.Connect();
        if (!s) return;
        Bytes stream = Frame("Ebefore");
        Append(stream, Frame("C"));
        const size_t through_c = stream.size();
        Append(stream, Frame("Eafter"));
        if (!c.SendUntilClosed(*s, stream, through_c) ||
            !c.ExpectFrame(*s, Context::ToBytes("Ebefore"))) {
          return;
        }
        std::optional<std::string> end = c.End(*s);
        if (!end) return;
        c.Record("recv", "closed");
        if (*end != "eof" && *end != "ECONNRESET")
          c.Fail("end of stream or ECONNRESET", *end);
      });
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
        BadInput(c, garbage, false);
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
      "1,000 connect/request/close cycles; then N is 1 and descriptors are "
      "stable",
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
          // One request per cycle, so the server has taken each connection
          // before the next comes: connecting faster than it accepts only
          // measured the backlog (a full TCP backlog drops the SYN, and the
          // retry comes a second later).
          absl::Status served = SendAll(*s, Frame("N"), c.timeout());
          absl::StatusOr<Bytes> header = served.ok()
                                             ? RecvExactly(*s, 4, c.timeout())
                                             : absl::StatusOr<Bytes>(served);
          if (header.ok()) {
            const uint32_t n = uint32_t{(*header)[2]} << 8 | (*header)[3];
            served = (*header)[0] != 0 || (*header)[1] != 0
                         ? absl::DataLossError("an N reply over 64 KiB")
                         : RecvExactly(*s, n, c.timeout()).status();
          } else {
            served = header.status();
          }
          if (!served.ok()) {
            c.Fail("a reply to N on each of 1,000 connections",
                   absl::StrCat("cycle ", i, ": ", served.ToString()));
            return;
          }
        }
        const absl::Time deadline = absl::Now() + c.timeout();
        std::optional<Socket> s = c.Connect();
        if (!s || !CountComesToOne(c, *s, "after the cycles")) return;
        if (server) {
          // One connection is still open now, which `before` did not have.
          int after = OpenDescriptorsOf(server->pid());
          while (after > before + 1 && absl::Now() < deadline) {
            absl::SleepFor(absl::Milliseconds(10));
            after = OpenDescriptorsOf(server->pid());
          }
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

}  // namespace sockparity::internal
