#include "sockparity/check/peer_check.h"

#include <sys/utsname.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "check/case_context.h"
#include "check/case_table.h"
#include "check/decide.h"
#include "check/peer_link.h"
#include "check/run_parts.h"
#include "check/stall_watch.h"
#include "sockparity/check/sut_process.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity {

namespace {

using internal::CannotStart;
using internal::Case;
using internal::CaseFacts;
using internal::CasePhase;
using internal::Catalog;
using internal::CompareAcross;
using internal::Context;
using internal::Decide;
using internal::Decision;
using internal::Observed;
using internal::PeerLink;
using internal::Selected;
using internal::StartFacts;

// One case on one transport: what it observed, and its details. `stopped`
// is what the phase after the stop judges, null before it.
struct PlayedCase {
  CaseFacts facts;
  CaseResult details;
  bool cut_by_run = false;
};

PlayedCase RunCase(const Case& c, PeerLink& link, const CheckOptions& options,
                   uint64_t seed, const internal::StoppedServer* stopped,
                   absl::Time run_end) {
  const absl::Time start = absl::Now();
  const internal::CaseClock clock{
      .case_end = options.case_budget > absl::ZeroDuration()
                      ? start + options.case_budget
                      : absl::InfiniteFuture(),
      .run_end = run_end,
      .budget = options.case_budget};
  PlayedCase played;
  played.facts.should = c.info.should;
  auto play = [&](PeerLink& on) {
    Context context(on, options, seed, clock);
    c.play(context);
    on.EndCase();
    played.cut_by_run = context.cut_by_run();
    Context::Finished finished = context.Finish();
    played.facts.observed = std::move(finished.observed);
    played.details = std::move(finished.details);
    if (played.cut_by_run) played.details.reason = context.cut_reason();
  };
  if (std::optional<std::string> lacks =
          internal::Lacks(c.need, link.transport())) {
    played.facts.observed = Observed::DoesNotApply(*lacks);
  } else if (c.phase == CasePhase::kWhileServing && c.fresh_server) {
    PeerLink fresh(options, link.transport(), seed);
    if (absl::Status started = fresh.Start(); !started.ok()) {
      played.facts.start_failed = absl::StrCat(
          "expected an instance of the server of its own for this case to "
          "start; saw ",
          started.message());
    } else {
      play(fresh);
      // Its output is gone with it: kept now, shown if the case FAILED.
      if (SutProcess* server = fresh.server())
        played.details.server_output = server->Output();
      fresh.Stop();
    }
  } else if (c.phase == CasePhase::kWhileServing) {
    play(link);
  } else {
    played.facts.observed = c.judge(*stopped);
  }
  played.details.duration = absl::Now() - start;
  return played;
}

// How long a case that missed what it expected waits for the server's end
// to be noticed: a crash seen on the socket reaches waitpid within
// milliseconds.
constexpr absl::Duration kServerEndGrace = absl::Milliseconds(300);
// After any other case, how long the server may take to settle (sit idle
// in the kernel for kSettledFor) or end: a server that ends of what a case
// sent last ends during that case, not the next one.
constexpr absl::Duration kSettleWithin = absl::Milliseconds(100);
constexpr absl::Duration kSettledFor = absl::Milliseconds(10);

// Waits until the server has ended, or sat idle for kSettledFor, or the
// bound has passed. A server's end is often seen on the socket first (end
// of stream, a reset) and by waitpid a moment later; what it writes about
// the case (a stack trace) comes then too. Waiting for that moment makes
// the reason name the end, and the output, in every run and for the case
// that caused them. A busy server is waited for only up to the bound.
// A reason on a progress line: its first line, cut to fit (the reports
// have all of it).
std::string ProgressReason(absl::string_view reason) {
  constexpr size_t kWidest = 120;
  const size_t end = reason.find('\n');
  absl::string_view first = reason.substr(0, end);
  if (first.size() <= kWidest && end == absl::string_view::npos)
    return std::string(first);
  return absl::StrCat(first.substr(0, kWidest - 3), "...");
}

void SettleAfterCase(SutProcess& server, bool missed) {
  const absl::Time by =
      absl::Now() + (missed ? kServerEndGrace : kSettleWithin);
  internal::IdleWatch idle(server.pid(), kSettledFor);
  while (!server.Poll() && absl::Now() < by && !idle.Look()) {
    absl::SleepFor(absl::Milliseconds(2));  // polling
  }
}

// sun_path holds 108 bytes, the last for the terminating NUL.
constexpr size_t kMaxUnixPathBytes = 107;

// One transport's server and what its cases gave, kept apart so that
// transports can run at the same time and the report keeps a fixed order.
struct TransportRun {
  std::unique_ptr<PeerLink> link;
  absl::Status started;
  std::vector<CheckReport::Cell> cells;
  std::vector<std::string> not_played;
  std::optional<std::string> perturbation_missing;
  bool out_of_time = false;  // --max-run-time left cases unplayed
};

// Runs `each` on every element, on threads of its own or in turn.
template <typename T, typename Each>
void ForEach(std::vector<T>& items, Each each) {
  if (items.size() < 2) {
    for (T& item : items) each(item);
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(items.size());
  for (T& item : items) threads.emplace_back([&each, &item] { each(item); });
  for (std::thread& thread : threads) thread.join();
}

}  // namespace

absl::string_view SockparityVersion() { return SOCKPARITY_VERSION; }

absl::StatusOr<CheckReport> RunCheck(const CheckOptions& options) {
  if (options.command.empty())
    return absl::InvalidArgumentError("no server command given");
  // The unix: server's socket file lives in a directory under TMPDIR: a
  // path Linux cannot bind is the environment's fault, not the server's.
  if (std::find(options.transports.begin(), options.transports.end(),
                ContractTransport::kUnix) != options.transports.end()) {
    const std::string example =
        absl::StrCat(TempRoot(), "/", TempDirPrefix(), "XXXXXX/sut.sock");
    if (example.size() > kMaxUnixPathBytes) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "TMPDIR '%s' is too long: the server's socket path (%s) would be "
          "%d bytes, and Linux allows %d (sockaddr_un); set TMPDIR to a "
          "shorter directory",
          TempRoot(), example, example.size(), kMaxUnixPathBytes));
    }
  }
  if (!options.perturb.empty() && options.perturb_library.empty()) {
    return absl::InvalidArgumentError(
        "perturbation modes need the perturbation library's path");
  }
  CheckReport report;
  report.provenance.sockparity_version = std::string(SockparityVersion());
  report.provenance.contract_version = kContractVersion;
  report.provenance.command = options.command;
  report.provenance.started = absl::Now();
  if (utsname name; ::uname(&name) == 0) {
    report.provenance.kernel =
        absl::StrCat(name.sysname, " ", name.release, " ", name.machine);
  }
  // Zero is no limit, for both.
  const absl::Time run_end = options.max_run_time > absl::ZeroDuration()
                                 ? absl::Now() + options.max_run_time
                                 : absl::InfiniteFuture();
  report.seed = options.seed != 0 ? options.seed : std::random_device{}() | 1;
  report.perturb = options.perturb;
  std::vector<const Case*> cases;  // the selected ones, in catalog order
  for (const Case& c : Catalog()) {
    if (Selected(c.info, options)) cases.push_back(&c);
  }
  if (cases.empty()) {
    return absl::InvalidArgumentError(
        "the case filters match no case; 'sockparity check --list' lists them");
  }
  for (const Case* c : cases) report.cases.push_back(c->info);

  std::mutex progress_mutex;  // progress lines come from every transport
  const size_t cells_in_all = cases.size() * options.transports.size();
  size_t cells_done = 0;  // under progress_mutex
  const absl::Time run_start = absl::Now();
  std::atomic<bool> failed{false};
  // Every cell's verdict is Decide's, from what its case observed.
  auto add = [&](TransportRun& run, const Case& c, const CaseFacts& facts,
                 CaseResult details) {
    Decision decision = Decide(facts);
    details.verdict = decision.verdict;
    details.reason = std::move(decision.reason);
    if (details.verdict != Verdict::kFailed) details.server_output.clear();
    if (details.verdict == Verdict::kFailed) failed = true;
    if (options.progress) {
      std::lock_guard<std::mutex> lock(progress_mutex);
      ++cells_done;
      const int width = static_cast<int>(absl::StrCat(cells_in_all).size());
      options.progress(absl::StrFormat(
          "[%*d/%d %5.1fs] %-5s %-38s %-13s %-13s %s", width, cells_done,
          cells_in_all, absl::ToDoubleSeconds(absl::Now() - run_start),
          c.info.id, c.info.name.substr(0, 38),
          ContractTransportName(run.link->transport()),
          VerdictName(details.verdict), ProgressReason(details.reason)));
    }
    run.cells.push_back({c.info.id, run.link->transport(), std::move(details)});
  };

  // Every server starts before any case, so one that cannot start at all
  // is one message, not a failure per case.
  std::vector<TransportRun> runs;
  for (ContractTransport transport : options.transports) {
    TransportRun run;
    run.link = std::make_unique<PeerLink>(options, transport, report.seed);
    runs.push_back(std::move(run));
  }
  ForEach(runs, [](TransportRun& run) {
    if (run.link->transport() == ContractTransport::kTcp6 &&
        !TransportAvailability(TransportKind::kTcp6).ok()) {
      run.started = absl::UnavailableError("IPv6 is off on this machine");
    } else {
      run.started = run.link->Start();
    }
  });
  std::vector<std::pair<ContractTransport, absl::Status>> starts;
  for (const TransportRun& run : runs) {
    if (!absl::IsUnavailable(run.started))
      starts.emplace_back(run.link->transport(), run.started);
  }
  if (absl::Status fatal = CannotStart(options, starts); !fatal.ok()) {
    return fatal;
  }

  ForEach(runs, [&](TransportRun& run) {
    PeerLink& link = *run.link;
    const ContractTransport transport = link.transport();
    if (!run.started.ok()) {
      for (const Case* c : cases) {
        CaseFacts facts = StartFacts(transport, run.started);
        if (std::optional<std::string> lacks =
                internal::Lacks(c->need, transport)) {
          facts.observed = Observed::DoesNotApply(*lacks);
        }
        add(run, *c, facts, {});
      }
      return;
    }
    // The phases in order: entering the one after the stop stops the
    // server, and its cases judge how it went.
    std::optional<internal::StoppedServer> stopped;
    for (CasePhase phase : {CasePhase::kWhileServing, CasePhase::kAfterStop}) {
      if (phase == CasePhase::kAfterStop) {
        stopped.emplace(internal::StoppedServer{link, options, link.Stop()});
      }
      for (size_t i = 0; i < cases.size(); ++i) {
        const Case& c = *cases[i];
        if (c.phase != phase) continue;
        if (options.fail_fast && failed) {
          run.not_played.push_back(
              absl::StrCat(ContractTransportName(transport),
                           ": --fail-fast: the cases from ", c.info.id,
                           " on, after a case FAILED"));
          return;
        }
        // The cases after the stop only judge how the stop went: they are
        // played whatever the time, so the server is always stopped.
        if (phase == CasePhase::kWhileServing && absl::Now() >= run_end) {
          run.not_played.push_back(absl::StrCat(
              ContractTransportName(transport), ": the cases from ", c.info.id,
              " on while the server runs: --max-run-time ",
              absl::FormatDuration(options.max_run_time), " was spent"));
          run.out_of_time = true;
          break;
        }
        SutProcess* const server_before = link.server();
        const SutProcess::OutputMark mark = server_before != nullptr
                                                ? server_before->MarkOutput()
                                                : SutProcess::OutputMark{};
        PlayedCase played = RunCase(c, link, options, report.seed,
                                    stopped ? &*stopped : nullptr, run_end);
        if (played.cut_by_run) {
          run.not_played.push_back(absl::StrCat(
              ContractTransportName(transport), ": ", c.info.id,
              " was cut short and not judged: ", played.details.reason));
          run.out_of_time = true;
          continue;
        }
        // A server that ended while it should serve fails this case; the
        // rest of the phase is not played.
        SutProcess* server = link.server();
        if (phase == CasePhase::kWhileServing && server != nullptr)
          SettleAfterCase(
              *server, played.facts.observed.kind == Observed::Kind::kMissed);
        const bool ended = phase == CasePhase::kWhileServing &&
                           server != nullptr && server->Poll();
        if (ended) played.facts.ended = server->Poll()->Describe();
        if (server != nullptr && server == server_before &&
            played.details.server_output.empty()) {
          played.details.server_output = server->OutputSince(mark);
        }
        add(run, c, played.facts, std::move(played.details));
        if (ended) {
          const auto next = std::find_if(
              cases.begin() + i + 1, cases.end(),
              [&](const Case* later) { return later->phase == phase; });
          if (next != cases.end()) {
            run.not_played.push_back(
                absl::StrCat(ContractTransportName(transport),
                             ": the cases from ", (*next)->info.id,
                             " on while the server runs, after it ended "
                             "during ",
                             c.info.id));
          }
          break;
        }
      }
    }
    if (absl::Status in_effect = link.PerturbationInEffect(); !in_effect.ok())
      run.perturbation_missing = std::string(in_effect.message());
  });
  for (TransportRun& run : runs) {
    const ContractTransport transport = run.link->transport();
    if (!run.started.ok() && StartFacts(transport, run.started).start_failed) {
      absl::StrAppend(&report.startup_errors, ContractTransportName(transport),
                      ": ", run.started.message(), "\n");
    }
    for (CheckReport::Cell& cell : run.cells)
      report.cells.push_back(std::move(cell));
    for (std::string& line : run.not_played)
      report.not_played.push_back(std::move(line));
    report.ran_out_of_time |= run.out_of_time;
    for (const std::string& note : run.link->notes())
      report.notes.push_back(note);
    if (run.perturbation_missing) {
      report.perturb_not_in_effect.emplace_back(transport,
                                                *run.perturbation_missing);
    }
  }
  // Cross-transport verdicts, of what the client recorded: the cases after
  // the stop play no client.
  for (const Case* c : cases) {
    if (c->phase != CasePhase::kWhileServing) continue;
    std::vector<std::pair<TransportKind, const CaseResult*>> runs_ok;
    for (const CheckReport::Cell& cell : report.cells) {
      if (cell.case_id == c->info.id &&
          (cell.result.verdict == Verdict::kOk ||
           cell.result.verdict == Verdict::kInformational)) {
        runs_ok.emplace_back(internal::SocketKindOf(cell.transport),
                             &cell.result);
      }
    }
    if (runs_ok.size() < 2) continue;
    // The comparison across transports is the suite's own: no SHOULD.
    CaseFacts facts;
    facts.observed = CompareAcross(*c, runs_ok);
    Decision decision = Decide(facts);
    CaseResult cross;
    cross.verdict = decision.verdict;
    cross.reason = std::move(decision.reason);
    report.cross.emplace_back(c->info.id, std::move(cross));
  }
  report.provenance.took = absl::Now() - report.provenance.started;
  return report;
}

bool CheckReport::NothingRan() const {
  for (const Cell& cell : cells) {
    if (cell.result.verdict != Verdict::kUnsupported &&
        cell.result.verdict != Verdict::kNotApplicable) {
      return false;
    }
  }
  return true;
}

int CheckReport::Count(Verdict verdict) const {
  int n = 0;
  for (const Cell& cell : cells) n += cell.result.verdict == verdict;
  for (const auto& [id, result] : cross) n += result.verdict == verdict;
  return n;
}

}  // namespace sockparity