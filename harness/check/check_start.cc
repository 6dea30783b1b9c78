// Whether and how the server started, as facts for Decide.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "check/run_parts.h"

namespace sockparity::internal {
namespace {

// The first line of a start failure, which names no address: equal on
// every form when the server fails the same way everywhere.
std::string StartFailureKind(const absl::Status& status) {
  if (absl::IsUnimplemented(status)) return "exit status 64";
  const absl::string_view message = status.message();
  return std::string(message.substr(0, message.find_first_of(";\n")));
}

}  // namespace

absl::Status CannotStart(
    const CheckOptions& options,
    const std::vector<std::pair<ContractTransport, absl::Status>>& starts) {
  if (starts.empty()) return absl::OkStatus();
  // A form the server declines (exit 64) is neutral: a server that
  // declines fd: and hangs on every other form cannot be started.
  std::vector<std::pair<ContractTransport, absl::Status>> tried;
  std::vector<std::string> declined;
  for (const auto& start : starts) {
    if (absl::IsUnimplemented(start.second)) {
      declined.push_back(ContractTransportName(start.first));
    } else {
      tried.push_back(start);
    }
  }
  const bool all_declined = tried.empty();
  if (all_declined) tried = starts;
  std::vector<std::string> names;
  bool required_tried = false;
  for (const auto& [transport, status] : tried) {
    if (status.ok()) return absl::OkStatus();
    if (StartFailureKind(status) != StartFailureKind(tried[0].second))
      return absl::OkStatus();
    names.push_back(ContractTransportName(transport));
    required_tried |= ContractRequires(transport);
  }
  const std::string& program = options.command[0];
  const absl::Status& first = tried[0].second;
  if (all_declined) {
    if (!required_tried) return absl::OkStatus();  // nothing ran: reported
    return absl::FailedPreconditionError(absl::StrCat(
        program, " serves no address form: it exited with status 64 ",
        "(not supported) on every one tried (", absl::StrJoin(names, ", "),
        "), but unix: and tcp:127.0.0.1: are required by the contract"));
  }
  if (absl::StartsWith(first.message(), "cannot run ")) {
    return absl::FailedPreconditionError(first.message());
  }
  return absl::FailedPreconditionError(absl::StrCat(
      program, " cannot be started: on every address form tried (",
      absl::StrJoin(names, ", "),
      declined.empty()
          ? std::string()
          : absl::StrCat("; it declined ", absl::StrJoin(declined, ", "),
                         " with exit status 64"),
      "): ", first.message()));
}


// What every case observed on a transport whose server did not start.
CaseFacts StartFacts(ContractTransport transport, const absl::Status& started) {
  CaseFacts facts;
  if (absl::IsUnavailable(started)) {
    facts.observed = Observed::DoesNotApply(std::string(started.message()));
  } else if (absl::IsUnimplemented(started) && !ContractRequires(transport)) {
    facts.observed = Observed::NotServed(std::string(started.message()));
  } else if (absl::IsUnimplemented(started)) {
    facts.start_failed = absl::StrCat(
        "expected the server to serve ", ContractTransportName(transport),
        " (required by the contract); saw ", started.message());
  } else {
    facts.start_failed =
        absl::StrCat("expected the server to start; saw ", started.message());
  }
  return facts;
}


}  // namespace sockparity::internal
