// `sockparity replay`: a script on every transport kind, the traces side by
// side, and the verdict through the registry.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "exit_codes.h"
#include "sockparity/script/differences.h"
#include "sockparity/script/script.h"
#include "sockparity/script/trace.h"
#include "sockparity/script/trace_table.h"

namespace sockparity::tool {
namespace {

void Complain(absl::string_view message) {
  std::cerr << "sockparity replay: " << message << "\n";
}

}  // namespace

CLI::App* AddReplay(CLI::App& app, ReplayArgs& args) {
  CLI::App* replay = app.add_subcommand(
      "replay",
      "Run the script in FILE ('-': standard input) on each transport kind, "
      "print the traces side by side and the verdict.");
  replay->add_option("FILE", args.file,
                     "the script ('sockparity help' for "
                     "its syntax)");
  replay
      ->add_option("--transport", args.transports,
                   "kinds to run it on (default all): socketpair, unix, "
                   "unix-abstract, tcp4, tcp6")
      ->delimiter(',');
  replay->add_flag("--details", args.details,
                   "also show byte counts and other uncompared details");
  replay
      ->add_option("--without", args.without,
                   "leave these registry entries out, to see what they "
                   "explain")
      ->delimiter(',');
  replay->footer(kReplayExitCodesHelp);
  return replay;
}

int RunReplay(const ReplayArgs& args) {
  std::vector<TransportKind> kinds(kAllTransportKinds.begin(),
                                   kAllTransportKinds.end());
  if (!args.transports.empty()) {
    kinds.clear();
    for (const std::string& name : args.transports) {
      absl::StatusOr<TransportKind> kind = ParseTransportKind(name);
      if (!kind.ok()) {
        Complain(kind.status().message());
        return kExitUsage;
      }
      kinds.push_back(*kind);
    }
  }
  for (const std::string& id : args.without) {
    if (DifferenceRegistry::Default().Find(id) == nullptr) {
      Complain(absl::StrCat("no registry entry '", id,
                            "'; 'sockparity differences' lists them"));
      return kExitUsage;
    }
  }
  if (args.file.empty()) {
    Complain("missing the script FILE ('sockparity replay --help')");
    return kExitUsage;
  }
  std::stringstream text;
  if (args.file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(args.file);
    if (!in) {
      Complain(absl::StrCat("cannot read '", args.file, "'"));
      return kExitUsage;
    }
    text << in.rdbuf();
  }
  absl::StatusOr<Script> script = ParseScript(text.str());
  if (!script.ok()) {
    Complain(absl::StrCat(args.file, ": ", script.status().message()));
    return kExitUsage;
  }
  std::vector<Trace> traces;
  for (TransportKind kind : kinds) {
    absl::StatusOr<Trace> trace = RunScript(*script, kind);
    if (!trace.ok()) {
      std::cout << TransportName(kind)
                << ": skipped: " << trace.status().message() << "\n";
      continue;
    }
    traces.push_back(std::move(*trace));
  }
  std::cout << FormatTracesSideBySide(*script, traces, args.details);
  if (traces.size() < 2) {
    std::cout << "\nverdict: nothing to compare (fewer than two kinds ran)\n";
    return kExitOk;
  }
  std::vector<Difference> kept;
  for (const Difference& entry : DifferenceRegistry::Default().entries()) {
    if (std::find(args.without.begin(), args.without.end(), entry.id) ==
        args.without.end()) {
      kept.push_back(entry);
    }
  }
  const DifferenceRegistry registry(std::move(kept));
  bool diverged = false;
  std::cout << "\n";
  for (size_t i = 0; i < traces.size(); ++i) {
    for (size_t j = i + 1; j < traces.size(); ++j) {
      Comparison comparison =
          CompareTraces(*script, traces[i], traces[j], registry);
      if (comparison.verdict == Comparison::Verdict::kEqual) continue;
      std::cout << TransportName(traces[i].kind) << " vs "
                << TransportName(traces[j].kind) << ": "
                << comparison.Describe() << "\n";
      if (comparison.verdict != Comparison::Verdict::kDiverged) continue;
      if (!diverged && comparison.step >= 0) {
        // Later steps cannot change an earlier divergence: the steps up to
        // it are a smaller script that shows it.
        Script prefix;
        prefix.steps.assign(script->steps.begin(),
                            script->steps.begin() + comparison.step + 1);
        std::cout << "  a script that shows it (save it and run: sockparity "
                     "replay FILE --transport "
                  << TransportName(traces[i].kind) << ","
                  << TransportName(traces[j].kind) << "):\n"
                  << FormatScript(prefix) << "\n";
      }
      diverged = true;
    }
  }
  std::cout << (diverged ? "verdict: DIVERGED: a difference no registry entry "
                           "allows (a finding)\n"
                         : "verdict: OK: equal, or different only as the "
                           "registry allows\n");
  return diverged ? kExitFailed : kExitOk;
}

}  // namespace sockparity::tool
