// `sockparity check`: the suite as the client of a server built on another
// library (the peer contract, docs/SUT_CONTRACT.md). A catalog of cases with
// stable ids runs on every transport the server supports; each gets a
// verdict, and the client-side records are compared across transports.
#ifndef SOCKPARITY_CHECK_PEER_CHECK_H_
#define SOCKPARITY_CHECK_PEER_CHECK_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sockparity/check/peer_contract.h"
#include "sockparity/check/verdict.h"

namespace sockparity {

// The address forms of the peer contract, each a transport of the check.
enum class ContractTransport {
  kFd,            // fd:N, one inherited connection (one end of a socketpair)
  kUnix,          // unix:/path
  kUnixAbstract,  // unix:@name
  kTcp4,          // tcp:127.0.0.1:PORT
  kTcp6,          // tcp:[::1]:PORT
};
inline constexpr std::array<ContractTransport, 5> kAllContractTransports = {
    ContractTransport::kFd, ContractTransport::kUnix,
    ContractTransport::kUnixAbstract, ContractTransport::kTcp4,
    ContractTransport::kTcp6};

// "fd", "unix", "unix-abstract", "tcp4" or "tcp6".
std::string ContractTransportName(ContractTransport transport);
// The inverse, for command lines.
absl::StatusOr<ContractTransport> ParseContractTransport(
    absl::string_view name);

struct CheckOptions {
  std::vector<std::string> command;  // the SUT and its arguments
  std::vector<ContractTransport> transports = {kAllContractTransports.begin(),
                                               kAllContractTransports.end()};
  std::vector<std::string> include = {"*"};  // case id or name globs
  std::vector<std::string> exclude;
  absl::Duration timeout = absl::Seconds(10);  // per wait inside a case
  // A case still waiting after this long FAILED, saying in which step (the
  // contract's budget). The whole run: cases not begun by then are not
  // played, and a case this cuts short is not judged (see not_played).
  absl::Duration case_budget = kContractCaseBudget;
  absl::Duration max_run_time = absl::Minutes(10);
  uint64_t seed = 0;  // 0: a fresh one, printed
  // Runs the server under libsockparity_perturb.so (LD_PRELOAD) in these
  // modes (`sockparity check --list-modes`, docs/PERTURBATION.md).
  // Empty: plain. The library's path is required with modes.
  std::vector<std::string> perturb;
  std::string perturb_library;
  std::function<void(const std::string&)> progress;  // one line per case
  // A wait for a reply or an end ends early, FAILED, once the server sat
  // idle in the kernel (neither running nor waiting for a CPU) this long
  // with nothing on its way to the client: by default the contract's
  // window for holding a due reply. Zero waits out every timeout.
  absl::Duration stalled_after = kContractReplyWindow;
  // Play no further case once one has FAILED.
  bool fail_fast = false;
};

struct CaseInfo {
  std::string id;    // "2.3": stable, never renumbered
  std::string name;  // "segmentation/random-splits"
  std::string description;
  // What of docs/SUT_CONTRACT.md the case checks: a short quote or the
  // name of its section.
  std::string clause;
  // Where the behaviour is specified publicly, or the public record that
  // motivated the case: a manual page, an issue URL, the contract's section.
  std::string reference;
  // A SHOULD clause of the contract: missing it gives NON-STRICT, not
  // FAILED.
  bool should = false;
  // The transports it can run on (on the others it is N/A); filled by
  // SelectCases.
  std::vector<ContractTransport> runs_on = {};
};

struct CheckReport {
  // What was checked: "server" (RunCheck) or "client" (RunClientCheck,
  // client_check.h); the reports name it.
  std::string subject = "server";
  struct Cell {
    std::string case_id;
    ContractTransport transport;
    CaseResult result;
  };
  std::vector<CaseInfo> cases;  // the cases that ran, in catalog order
  std::vector<Cell> cells;
  // Per case: the cross-transport verdict.
  std::vector<std::pair<std::string, CaseResult>> cross;
  uint64_t seed = 0;
  std::string startup_errors;        // transports whose server would not start
  std::vector<std::string> perturb;  // the modes asked for
  // Transports where the perturbation did not reach the server, and why:
  // their verdicts are for plain I/O.
  std::vector<std::pair<ContractTransport, std::string>> perturb_not_in_effect;

  // Why some cases were not played (--fail-fast, or a server that ended),
  // one line each; their cells are missing.
  std::vector<std::string> not_played;
  // --max-run-time ran out before every case was played and judged.
  bool ran_out_of_time = false;

  // Where the verdicts come from: which suite and contract, which server,
  // when, on which kernel, how long.
  struct Provenance {
    std::string sockparity_version;
    std::string contract_version;
    std::vector<std::string> command;
    absl::Time started;
    absl::Duration took;
    std::string kernel;  // uname: sysname release machine
  };
  Provenance provenance;

  // What a reader should know about how the run went that no verdict says
  // (a server started again on a fresh port), one line each.
  std::vector<std::string> notes;
  // True when no case could run: every cell is UNSUPPORTED or N/A.
  bool NothingRan() const;

  int Count(Verdict verdict) const;
  std::string Matrix() const;  // the console table and totals
  std::string Json() const;
  std::string Junit() const;
  std::string Html() const;
};

// This suite's version (the CMake project's).
absl::string_view SockparityVersion();

// The whole catalog, in order.
std::vector<CaseInfo> CheckCatalog();

// The cases `include` selects and `exclude` does not (globs on the id or
// the name, or a group by number or name), in catalog order.
std::vector<CaseInfo> SelectCases(const std::vector<std::string>& include,
                                  const std::vector<std::string>& exclude);

// The catalog as JSON: {"cases": [{"id", "name", ...}, ...]}.
std::string CatalogJson(const std::vector<CaseInfo>& cases);

// Runs the selected cases. Fails with INVALID_ARGUMENT on bad options (a
// filter that matches no case) and with FAILED_PRECONDITION, before any
// case, when the server cannot be started at all (it cannot be run, or it
// ends the same way on every address form, or serves none of the required
// ones). A server that fails to start on some forms gives FAILED verdicts
// there, with the reason.
absl::StatusOr<CheckReport> RunCheck(const CheckOptions& options);

// The address forms the contract requires: unix: (a path) and
// tcp:127.0.0.1:.
bool ContractRequires(ContractTransport transport);

}  // namespace sockparity

#endif  // SOCKPARITY_CHECK_PEER_CHECK_H_
