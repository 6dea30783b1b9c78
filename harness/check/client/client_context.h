// Internal: what a client case works with on one transport. The suite plays
// the server: it listens (or hands the client one end of a socketpair),
// starts the client with its requests on standard input, and reads what the
// client prints (docs/CLIENT_CONTRACT.md).
#ifndef SOCKPARITY_CHECK_CLIENT_CLIENT_CONTEXT_H_
#define SOCKPARITY_CHECK_CLIENT_CLIENT_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sockparity/check/client_report.h"
#include "sockparity/check/peer_check.h"
#include "sockparity/check/sut_process.h"
#include "sockparity/net/bytes.h"
#include "sockparity/net/listener.h"
#include "sockparity/net/socket.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity::internal {

// What a client case needs of the transport; elsewhere it is N/A.
enum class ClientNeed {
  kAny,
  kConnect,   // the client connects: not fd:N, a connection made already
  kUnixPath,  // a socket file: unix: alone
  kFd,        // a connection the suite can end before the client starts
};
std::optional<std::string> ClientLacks(ClientNeed need,
                                       ContractTransport transport);

// The transport-wide part: where the perturbation library reports.
struct ClientRunSetup {
  const CheckOptions* options = nullptr;
  ContractTransport transport = ContractTransport::kUnix;
  uint64_t seed = 0;
  std::vector<std::string> environment;  // added to every client's
};

class ClientContext {
 public:
  explicit ClientContext(const ClientRunSetup& setup) : setup_(setup) {}
  ClientContext(const ClientContext&) = delete;
  ~ClientContext();

  ContractTransport transport() const { return setup_.transport; }
  absl::Duration timeout() const { return setup_.options->timeout; }
  uint64_t seed() const { return setup_.seed; }

  // A listener of this transport's kind (not fd:N).
  std::optional<Listener> Listen(int backlog = 16);
  // Starts the client on `address`, `requests` its standard input.
  bool Launch(const std::string& address, const Bytes& requests);
  // fd:N: starts the client with one end of a socketpair as descriptor 3,
  // and returns the other.
  std::optional<Socket> LaunchConnected(const Bytes& requests);
  // fd:N with the other end closed before the client starts.
  bool LaunchConnectedClosed(const Bytes& requests);
  // Listen, Launch and accept; or LaunchConnected on fd:N.
  std::optional<Socket> Connected(const Bytes& requests);
  // The client's connection, leaving out the suite's own (`Filler`);
  // fails the case if the client ends or says `end` first.
  std::optional<Socket> AcceptClient(const Listener& listener,
                                     absl::Duration within) {
    return AcceptClient(listener.fd(), listener.endpoint().ToString(), within);
  }
  std::optional<Socket> AcceptClient(int listen_fd, absl::string_view address,
                                     absl::Duration within);
  // A connection of the suite's own to `listener`, to fill its backlog.
  // None once one cannot complete (the backlog is full).
  bool AddFiller(const Listener& listener);
  std::vector<Socket>& fillers() { return fillers_; }

  // Sends `bytes` as the server; fails the case on an error.
  bool Send(Socket& s, const Bytes& bytes, absl::string_view what);
  // Reads exactly `n` bytes the client sent.
  bool ReadRequests(Socket& s, size_t n);
  // Closes with SO_LINGER {1, 0}: on TCP a reset, on UNIX an end of
  // stream unless data is left unread.
  void CloseWithUnread(Socket& s);

  // Waits for the `end` line (or the client's exit, or the timeout).
  std::optional<ClientReport> AwaitEnd();
  // What the client printed so far; nullopt (and the case fails) when a
  // contract line is malformed.
  std::optional<ClientReport> ReportSoFar();
  SutProcess* client() { return client_ ? &*client_ : nullptr; }
  // The inode of the client's end of its connection, once made.
  std::optional<uint64_t> client_socket() const { return client_socket_; }

  // The verdict's inputs (decided in DecideClientCase).
  void Fail(absl::string_view expected, absl::string_view saw);
  void MissShould(absl::string_view expected, absl::string_view saw);
  void CannotJudge(absl::string_view why);
  void Log(absl::string_view line);
  // What the across comparison sees: by default the report's lines without
  // `connected` (absent on fd:N); `keep_end` false leaves the end out.
  void Record(const ClientReport& report, bool keep_end = true);
  // A case whose across comparison is of something else than the lines.
  void RecordOnly(std::vector<std::string> lines);

  // Expected replies (payloads) then `end`: fails with what was seen.
  bool ExpectReport(const ClientReport& got, const std::vector<Bytes>& replies,
                    absl::string_view end);

  struct Outcome {
    std::vector<std::pair<std::string, std::string>> missed;  // MUST
    std::vector<std::pair<std::string, std::string>> missed_should;
    std::optional<std::string> cannot_judge;
    std::optional<SutExit> exit;
    bool unsupported = false;  // exit 64 before any line
    std::string wire_log;
    std::string output;
    std::vector<std::string> record;
  };
  // Stops the client (SIGTERM) and hands over what the case saw.
  Outcome Finish();

 private:
  bool StartClient(const std::string& address, const Bytes& requests,
                   const Fd* inherited);
  bool ClientEnded(absl::string_view while_doing);

  const ClientRunSetup& setup_;
  std::optional<TempDir> dir_;
  std::optional<SutProcess> client_;
  std::vector<Socket> fillers_;
  std::set<uint16_t> filler_ports_;
  std::optional<uint64_t> client_socket_;
  Outcome outcome_;
};

// Whether the client was seen idle in the kernel within `within`: a window
// of 150 ms in which it was runnable for under 30 ms. Describes what was
// seen otherwise.
std::optional<std::string> ClientBusy(pid_t pid, absl::Duration within);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_CLIENT_CLIENT_CONTEXT_H_
