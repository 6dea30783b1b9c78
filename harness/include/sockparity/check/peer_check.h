// `sockparity check`: the suite as the client of a server built on another
// library (the peer contract, docs/SUT_CONTRACT.md). A catalog of cases with
// stable ids runs on every transport the server supports; each gets a
// verdict, and the client-side records are compared across transports.
#ifndef SOCKPARITY_PEER_CHECK_H_
#define SOCKPARITY_PEER_CHECK_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sockparity/net/transport.h"

namespace sockparity {

enum class Verdict { kOk, kNonStrict, kInformational, kUnsupported, kFailed };
std::string VerdictName(Verdict verdict);  // "OK", "NON-STRICT", ...

// The transports of the peer contract: the five kinds, where socketpair is
// the contract's fd:N.
std::string ContractTransportName(TransportKind kind);  // "unix", "fd", ...
// The inverse, for command lines: unix, unix-abstract, tcp4, tcp6 or fd.
absl::StatusOr<TransportKind> ParseContractTransport(absl::string_view name);

struct CaseResult {
  Verdict verdict = Verdict::kOk;
  std::string reason;    // for anything but OK: expected and seen
  std::string wire_log;  // what the client sent and saw, in order
  // What the client observed, compared across transports: lines of
  // "verb:outcome" (e.g. "recv:eof", "bytes:<digest>").
  std::vector<std::string> record;
  absl::Duration duration;
};

struct CheckOptions {
  std::vector<std::string> command;  // the SUT and its arguments
  std::vector<TransportKind> transports = {kAllTransportKinds.begin(),
                                           kAllTransportKinds.end()};
  std::vector<std::string> include = {"*"};  // case id or name globs
  std::vector<std::string> exclude;
  absl::Duration timeout = absl::Seconds(10);        // per wait inside a case
  uint64_t seed = 0;                                 // 0: a fresh one, printed
  // Runs the server under libsockparity_perturb.so (LD_PRELOAD) in these
  // modes: "short-io", "eintr", "accept-aborted" (docs/PERTURBATION.md).
  // Empty: plain. The library's path is required with modes.
  std::vector<std::string> perturb;
  std::string perturb_library;
  std::function<void(const std::string&)> progress;  // one line per case
};

struct CaseInfo {
  std::string id;    // "2.3": stable, never renumbered
  std::string name;  // "segmentation/random-splits"
  std::string description;
};

struct CheckReport {
  struct Cell {
    std::string case_id;
    TransportKind transport;
    CaseResult result;
  };
  std::vector<CaseInfo> cases;  // the cases that ran, in catalog order
  std::vector<TransportKind> transports;
  std::vector<Cell> cells;
  // Per case: the cross-transport verdict.
  std::vector<std::pair<std::string, CaseResult>> cross;
  uint64_t seed = 0;
  std::string startup_errors;  // transports whose server would not start
  std::vector<std::string> perturb;  // the modes asked for
  // Transports where the perturbation did not reach the server, and why:
  // their verdicts are for plain I/O.
  std::vector<std::pair<TransportKind, std::string>> perturb_not_in_effect;

  // True when no case could run: every cell is UNSUPPORTED.
  bool NothingRan() const;

  int Count(Verdict verdict) const;
  std::string Matrix() const;  // the console table and totals
  std::string Json() const;
  std::string Junit() const;
  std::string Html() const;
};

// The whole catalog, in order.
std::vector<CaseInfo> CheckCatalog();

// Runs the selected cases. Fails with INVALID_ARGUMENT on bad options (a
// filter that matches no case) and with FAILED_PRECONDITION, before any
// case, when the server cannot be started at all (it cannot be run, or it
// ends the same way on every address form, or serves none of the required
// ones). A server that fails to start on some forms gives FAILED verdicts
// there, with the reason.
absl::StatusOr<CheckReport> RunCheck(const CheckOptions& options);

// The address forms the contract requires: unix: (a path) and
// tcp:127.0.0.1:.
bool ContractRequires(TransportKind kind);

}  // namespace sockparity

#endif  // SOCKPARITY_PEER_CHECK_H_
