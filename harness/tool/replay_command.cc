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
#include "sockparity/script/differential.h"
#include "sockparity/script/script.h"

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
  // SOCKPARITY_REGISTRY_WITHOUT's entries are gone already (InEffect).
  absl::StatusOr<DifferenceRegistry> registry =
      DifferenceRegistry::InEffect().Without(args.without);
  if (!registry.ok()) {
    Complain(registry.status().message());
    return kExitUsage;
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
  const DifferentialRun run = RunDifferential(*script, kinds, *registry);
  std::cout << FormatDifferentialRun(*script, run, args.details);
  return run.diverged() ? kExitFailed : kExitOk;
}

}  // namespace sockparity::tool
