#include "sockparity/check/client_check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/utsname.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "check/client/client_cases.h"
#include "check/client/client_context.h"
#include "check/run_parts.h"
#include "sockparity/check/client_report.h"
#include "sockparity/check/sut_process.h"
#include "sockparity/net/transport.h"

namespace sockparity {
namespace {

using internal::ClientCase;
using internal::ClientCases;
using internal::ClientContext;
using internal::ClientLacks;
using internal::ClientRunSetup;

std::string Reason(const std::pair<std::string, std::string>& miss) {
  return absl::StrCat("expected ", miss.first, "; saw ", miss.second);
}

// The verdict of one case on one transport, in one place. Precedence:
// a form the client declines is UNSUPPORTED (FAILED for a required one);
// a client killed by a signal, or that outlived its grace period, FAILED;
// a MUST missed FAILED; a case the suite could not set up N/A; a SHOULD
// missed NON-STRICT; the rest OK.
CaseResult DecideClientCase(const ClientContext::Outcome& seen,
                            ContractTransport transport) {
  CaseResult result;
  result.wire_log = seen.wire_log;
  result.record = seen.record;
  if (seen.unsupported) {
    if (ContractRequires(transport)) {
      result.verdict = Verdict::kFailed;
      result.reason = absl::StrCat(
          "expected the client to serve ", ContractTransportName(transport),
          ", a form the contract requires; saw exit status 64");
    } else {
      result.verdict = Verdict::kUnsupported;
      result.reason = "the client exits 64 for this address form";
    }
    return result;
  }
  std::vector<std::string> reasons;
  if (seen.exit) {
    const SutExit& exit = *seen.exit;
    if (exit.killed) {
      reasons.push_back(
          absl::StrCat("expected the client to end within 2 s of SIGTERM; saw ",
                       exit.Describe()));
    } else if (!exit.exited && exit.signal != SIGTERM) {
      reasons.push_back(absl::StrCat(
          "expected the client to stay alive until SIGTERM; saw it ",
          exit.Describe(),
          exit.signal == SIGPIPE
              ? " (a write to a connection the server had reset; the "
                "library must use MSG_NOSIGNAL or ignore SIGPIPE)"
              : ""));
    }
  }
  for (const auto& miss : seen.missed) reasons.push_back(Reason(miss));
  if (!reasons.empty()) {
    result.verdict = Verdict::kFailed;
    result.reason = absl::StrJoin(reasons, "\n");
    result.server_output = seen.output;
    return result;
  }
  if (seen.cannot_judge) {
    result.verdict = Verdict::kNotApplicable;
    result.reason = absl::StrCat("cannot judge here: ", *seen.cannot_judge);
    return result;
  }
  if (!seen.missed_should.empty()) {
    result.verdict = Verdict::kNonStrict;
    result.reason = absl::StrCat("(SHOULD) ", Reason(seen.missed_should[0]));
    return result;
  }
  return result;
}

// What the clients reported on the transports where the case passed: the
// same lines everywhere. The cases are built so that every transport gives
// the same; the registry documents no difference a client sees.
CaseResult CompareClientAcross(
    const std::vector<std::pair<ContractTransport, const CaseResult*>>& runs) {
  CaseResult cross;
  const auto& [first_transport, first] = runs.front();
  for (const auto& [transport, result] : runs) {
    if (result->record == first->record) continue;
    cross.verdict = Verdict::kFailed;
    cross.reason =
        absl::StrCat("expected the same lines on every transport; saw ",
                     ContractTransportName(first_transport), ": ",
                     absl::StrJoin(first->record, "; "), ", ",
                     ContractTransportName(transport), ": ",
                     absl::StrJoin(result->record, "; "));
    break;
  }
  return cross;
}

struct TransportRun {
  ContractTransport transport;
  ClientRunSetup setup;
  std::optional<TempDir> perturb_dir;
  std::vector<CheckReport::Cell> cells;
};

std::string AnnouncePath(const TransportRun& run) {
  return run.perturb_dir ? run.perturb_dir->path() + "/announce.log" : "";
}

std::optional<std::string> PerturbationMissing(const TransportRun& run) {
  if (!run.perturb_dir) return std::nullopt;
  std::ifstream in(AnnouncePath(run));
  std::string line;
  bool loaded = false;
  while (std::getline(in, line)) {
    if (line.rfind("active ", 0) == 0) return std::nullopt;
    loaded |= line.rfind("loaded ", 0) == 0;
  }
  return loaded ? "the library was loaded, but no socket call went through "
                  "it (the client makes its system calls without libc)"
                : "the client never loaded the library (a static binary, "
                  "or a runtime that ignores LD_PRELOAD)";
}

}  // namespace

std::vector<CaseInfo> ClientCatalog() {
  std::vector<CaseInfo> infos;
  for (const ClientCase& c : ClientCases()) infos.push_back(c.info);
  return infos;
}

std::vector<CaseInfo> SelectClientCases(
    const std::vector<std::string>& include,
    const std::vector<std::string>& exclude) {
  std::vector<CaseInfo> selected;
  for (const ClientCase& c : ClientCases()) {
    if (!internal::Selected(c.info, include, exclude)) continue;
    CaseInfo info = c.info;
    for (ContractTransport transport : kAllContractTransports) {
      if (!ClientLacks(c.need, transport)) info.runs_on.push_back(transport);
    }
    selected.push_back(std::move(info));
  }
  return selected;
}

absl::StatusOr<CheckReport> RunClientCheck(const CheckOptions& options) {
  if (options.command.empty())
    return absl::InvalidArgumentError("no client command given");
  if (!options.perturb.empty() && options.perturb_library.empty()) {
    return absl::InvalidArgumentError(
        "perturbation modes need the perturbation library's path");
  }
  std::vector<const ClientCase*> cases;
  for (const ClientCase& c : ClientCases()) {
    if (internal::Selected(c.info, options)) cases.push_back(&c);
  }
  if (cases.empty()) {
    return absl::InvalidArgumentError(
        "the case filters match no case; 'sockparity check-client --list' "
        "lists them");
  }
  CheckReport report;
  report.subject = "client";
  report.provenance.sockparity_version = std::string(SockparityVersion());
  report.provenance.contract_version =
      absl::StrCat("client ", kClientContractVersion);
  report.provenance.command = options.command;
  report.provenance.started = absl::Now();
  if (utsname name; ::uname(&name) == 0) {
    report.provenance.kernel =
        absl::StrCat(name.sysname, " ", name.release, " ", name.machine);
  }
  report.seed = options.seed != 0 ? options.seed : std::random_device{}() | 1;
  report.perturb = options.perturb;
  for (const ClientCase* c : cases) report.cases.push_back(c->info);

  // A command that cannot be run at all is one message, not a failure per
  // case.
  {
    const Fd nothing(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    absl::StatusOr<SutProcess> probe =
        SutProcess::Launch(options.command, "unix:/nonexistent", nothing);
    if (!probe.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the client cannot be started: ", probe.status().message()));
    }
    probe->Stop(absl::Milliseconds(500));
  }

  std::vector<std::unique_ptr<TransportRun>> runs;
  for (ContractTransport transport : options.transports) {
    auto run = std::make_unique<TransportRun>();
    run->transport = transport;
    run->setup.options = &options;
    run->setup.transport = transport;
    run->setup.seed = report.seed;
    if (!options.perturb.empty()) {
      absl::StatusOr<TempDir> dir = TempDir::Create();
      if (!dir.ok()) return dir.status();
      run->perturb_dir.emplace(std::move(*dir));
      std::string preload = options.perturb_library;
      if (const char* existing = ::getenv("LD_PRELOAD");
          existing != nullptr && *existing != '\0') {
        absl::StrAppend(&preload, ":", existing);
      }
      run->setup.environment = {
          absl::StrCat("LD_PRELOAD=", preload),
          absl::StrCat("SOCKPARITY_PERTURB=",
                       absl::StrJoin(options.perturb, ",")),
          absl::StrCat("SOCKPARITY_PERTURB_SEED=", report.seed),
          absl::StrCat("SOCKPARITY_PERTURB_ANNOUNCE=", AnnouncePath(*run))};
    }
    runs.push_back(std::move(run));
  }

  std::mutex progress_mutex;
  const size_t cells_in_all = cases.size() * runs.size();
  size_t cells_done = 0;
  const absl::Time run_start = absl::Now();
  const absl::Time run_end = options.max_run_time > absl::ZeroDuration()
                                 ? run_start + options.max_run_time
                                 : absl::InfiniteFuture();
  auto play_transport = [&](TransportRun& run) {
    const bool ipv6_off = run.transport == ContractTransport::kTcp6 &&
                          !TransportAvailability(TransportKind::kTcp6).ok();
    bool declined = false;
    for (const ClientCase* c : cases) {
      CaseResult result;
      const absl::Time start = absl::Now();
      if (std::optional<std::string> lacks =
              ClientLacks(c->need, run.transport)) {
        result.verdict = Verdict::kNotApplicable;
        result.reason = *lacks;
      } else if (ipv6_off) {
        result.verdict = Verdict::kNotApplicable;
        result.reason = "IPv6 is off on this machine";
      } else if (declined) {
        result.verdict = Verdict::kUnsupported;
        result.reason = "the client exits 64 for this address form";
      } else if (absl::Now() >= run_end) {
        result.verdict = Verdict::kNotApplicable;
        result.reason = "not played: --max-run-time was spent";
      } else {
        ClientContext context(run.setup);
        c->play(context);
        result = DecideClientCase(context.Finish(), run.transport);
        declined = result.verdict == Verdict::kUnsupported;
      }
      result.duration = absl::Now() - start;
      if (options.progress) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        ++cells_done;
        const int width = static_cast<int>(absl::StrCat(cells_in_all).size());
        const std::string reason =
            result.reason.substr(0, result.reason.find('\n'));
        options.progress(absl::StrFormat(
            "[%*d/%d %5.1fs] %-5s %-32s %-13s %-11s %s", width, cells_done,
            cells_in_all, absl::ToDoubleSeconds(absl::Now() - run_start),
            c->info.id, c->info.name, ContractTransportName(run.transport),
            VerdictName(result.verdict), reason.substr(0, 100)));
      }
      run.cells.push_back({c->info.id, run.transport, std::move(result)});
    }
  };
  std::vector<std::thread> threads;
  for (auto& run : runs) threads.emplace_back(play_transport, std::ref(*run));
  for (std::thread& thread : threads) thread.join();

  for (auto& run : runs) {
    // A transport the client declines made no socket call to perturb.
    const bool played =
        std::any_of(run->cells.begin(), run->cells.end(), [](const auto& cell) {
          return cell.result.verdict != Verdict::kUnsupported &&
                 cell.result.verdict != Verdict::kNotApplicable;
        });
    if (std::optional<std::string> missing = PerturbationMissing(*run);
        missing && played) {
      report.perturb_not_in_effect.emplace_back(run->transport, *missing);
    }
    for (CheckReport::Cell& cell : run->cells)
      report.cells.push_back(std::move(cell));
  }
  for (const ClientCase* c : cases) {
    std::vector<std::pair<ContractTransport, const CaseResult*>> passed;
    for (const CheckReport::Cell& cell : report.cells) {
      if (cell.case_id == c->info.id && cell.result.verdict == Verdict::kOk)
        passed.emplace_back(cell.transport, &cell.result);
    }
    if (passed.size() < 2) continue;
    report.cross.emplace_back(c->info.id, CompareClientAcross(passed));
  }
  report.provenance.took = absl::Now() - report.provenance.started;
  return report;
}

}  // namespace sockparity
