#include "sockparity/check/peer_check.h"

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
#include "absl/strings/match.h"
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

absl::StatusOr<TransportKind> ParseContractTransport(absl::string_view name) {
  if (name == "fd") return TransportKind::kSocketpair;
  absl::StatusOr<TransportKind> kind = ParseTransportKind(name);
  if (!kind.ok() || *kind == TransportKind::kSocketpair) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown transport '", name,
                     "'; expected unix, unix-abstract, tcp4, tcp6 or fd"));
  }
  return *kind;
}

namespace {

using internal::Case;
using internal::Catalog;
using internal::Context;
using internal::PeerLink;

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
          cross.reason = absl::StrCat(
              "expected the same record on every transport, or a "
              "difference a registry entry allows; saw an undocumented "
              "difference: ",
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

bool ContractRequires(TransportKind kind) {
  return kind == TransportKind::kUnixPath || kind == TransportKind::kTcp4;
}

namespace {

// The first line of a start failure, which names no address: equal on
// every form when the server fails the same way everywhere.
std::string StartFailureKind(const absl::Status& status) {
  if (absl::IsUnimplemented(status)) return "exit status 64";
  const absl::string_view message = status.message();
  return std::string(message.substr(0, message.find_first_of(";\n")));
}

// FAILED_PRECONDITION when the server cannot be started at all: every form
// tried failed the same way, or it serves none of the required forms.
absl::Status CannotStart(
    const CheckOptions& options,
    const std::vector<std::pair<TransportKind, absl::Status>>& starts) {
  if (starts.empty()) return absl::OkStatus();
  std::vector<std::string> names;
  bool required_tried = false;
  for (const auto& [kind, status] : starts) {
    if (status.ok()) return absl::OkStatus();
    if (StartFailureKind(status) != StartFailureKind(starts[0].second))
      return absl::OkStatus();
    names.push_back(ContractTransportName(kind));
    required_tried |= ContractRequires(kind);
  }
  const std::string& program = options.command[0];
  const absl::Status& first = starts[0].second;
  if (absl::IsUnimplemented(first)) {
    if (!required_tried) return absl::OkStatus();  // nothing ran: reported
    return absl::FailedPreconditionError(absl::StrCat(
        program, " serves no address form: it exited with status 64 ",
        "(not supported) on every one tried (", absl::StrJoin(names, ", "),
        "), but unix: and tcp:127.0.0.1: are required by the contract"));
  }
  if (absl::StartsWith(first.message(), "cannot run ")) {
    return absl::FailedPreconditionError(first.message());
  }
  return absl::FailedPreconditionError(
      absl::StrCat(program, " cannot be started: on every address form tried (",
                   absl::StrJoin(names, ", "), "): ", first.message()));
}

// The listener's lifecycle cases (9.x), after the server on `kind` stopped.
CaseResult LifecycleCase(const CaseInfo& info, const CheckOptions& options,
                         PeerLink& link, absl::Duration ready_after,
                         const std::optional<Endpoint>& endpoint,
                         const std::optional<SutExit>& exit) {
  const TransportKind kind = link.kind();
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
        result.reason =
            absl::StrCat("expected the socket file ", endpoint->path(),
                         " to be removed on exit; it is still there");
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
        result.reason =
            "expected to make a stale socket file for the case; saw "
            "bind fail (a problem of this machine, not of the server)";
      } else {
        fd.Close().IgnoreError();
        absl::StatusOr<SutProcess> again =
            SutProcess::Start(options.command, "unix:" + path,
                              absl::Seconds(10), nullptr, -1,
                              link.Environment());
        if (!again.ok()) {
          result.verdict = Verdict::kFailed;
          result.reason =
              absl::StrCat("expected a start over a stale socket file; saw ",
                           again.status().message());
        } else {
          again->Stop();
        }
      }
    }
  }
  return result;
}

}  // namespace

absl::StatusOr<CheckReport> RunCheck(const CheckOptions& options) {
  if (options.command.empty())
    return absl::InvalidArgumentError("no server command given");
  if (!options.perturb.empty() && options.perturb_library.empty()) {
    return absl::InvalidArgumentError(
        "perturbation modes need the perturbation library's path");
  }
  CheckReport report;
  report.seed = options.seed != 0 ? options.seed : std::random_device{}() | 1;
  report.perturb = options.perturb;
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
    if (result.verdict == Verdict::kFailed && result.reason.empty()) {
      result.reason =
          "expected a reason for this verdict; saw none (a bug in sockparity)";
    }
    progress(absl::StrFormat("%-5s %-38s %-13s %-13s %s", id,
                             name.substr(0, 38), ContractTransportName(kind),
                             VerdictName(result.verdict),
                             result.reason.substr(0, 120)));
    report.cells.push_back({id, kind, std::move(result)});
  };

  // Every server starts before any case, so one that cannot start at all
  // is one message, not a failure per case.
  struct Started {
    std::unique_ptr<PeerLink> link;
    absl::Status status;
    absl::Duration ready_after;
  };
  std::vector<Started> links;
  std::vector<std::pair<TransportKind, absl::Status>> starts;
  for (TransportKind kind : options.transports) {
    Started started;
    started.link = std::make_unique<PeerLink>(options, kind, report.seed);
    if (kind == TransportKind::kTcp6 && !TransportAvailability(kind).ok()) {
      started.status = absl::UnavailableError("IPv6 is off on this machine");
    } else {
      const absl::Time start = absl::Now();
      started.status = started.link->Start();
      started.ready_after = absl::Now() - start;
      starts.emplace_back(kind, started.status);
    }
    links.push_back(std::move(started));
  }
  if (absl::Status fatal = CannotStart(options, starts); !fatal.ok()) {
    return fatal;
  }

  for (Started& started : links) {
    PeerLink& link = *started.link;
    const TransportKind kind = link.kind();
    if (absl::IsUnavailable(started.status)) {
      for (const CaseInfo& info : report.cases) {
        add(info.id, kind,
            {Verdict::kUnsupported, std::string(started.status.message()), "",
             {}, {}});
      }
      continue;
    }
    report.transports.push_back(kind);
    if (!started.status.ok()) {
      Verdict verdict = Verdict::kFailed;
      std::string reason = std::string(started.status.message());
      if (absl::IsUnimplemented(started.status)) {
        if (ContractRequires(kind)) {
          reason = absl::StrCat("expected the server to serve ",
                                ContractTransportName(kind),
                                " (required by the contract); saw ", reason);
        } else {
          verdict = Verdict::kUnsupported;
        }
      } else {
        reason = absl::StrCat("expected the server to start; saw ", reason);
      }
      if (verdict == Verdict::kFailed) {
        absl::StrAppend(&report.startup_errors, ContractTransportName(kind),
                        ": ", started.status.message(), "\n");
      }
      for (const CaseInfo& info : report.cases) {
        add(info.id, kind, {verdict, reason, "", {}, {}});
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
            "expected the server to keep running; it ended during the case: ",
            server->Poll()->Describe(), "\n", server->Output());
        add(c->info.id, kind, std::move(result));
        break;
      }
      add(c->info.id, kind, std::move(result));
    }
    const std::optional<Endpoint> endpoint = link.endpoint();
    std::optional<SutExit> exit = link.Stop();
    for (const CaseInfo& info : lifecycle) {
      add(info.id, kind,
          LifecycleCase(info, options, link, started.ready_after, endpoint,
                        exit));
    }
    if (absl::Status in_effect = link.PerturbationInEffect(); !in_effect.ok()) {
      report.perturb_not_in_effect.emplace_back(
          kind, std::string(in_effect.message()));
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

bool CheckReport::NothingRan() const {
  for (const Cell& cell : cells) {
    if (cell.result.verdict != Verdict::kUnsupported) return false;
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
