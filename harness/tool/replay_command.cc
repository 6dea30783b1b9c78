// `sockparity replay`: a script on every transport kind, the traces side by
// side, and the verdict through the registry.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "commands.h"
#include "exit_codes.h"
#include "run_guard.h"
#include "sockparity/net/errors.h"
#include "sockparity/script/differences.h"
#include "sockparity/script/differential.h"
#include "sockparity/script/script.h"

namespace sockparity::tool {
namespace {

void Complain(absl::string_view message) {
  std::cerr << "sockparity replay: " << message << "\n";
}

// `text` with each step's line saying what every kind gave ("= ..."), its
// comment kept: a draft of the assertions that pin what ran, to be read
// before it is committed.
std::string WithOutcomesAsserted(absl::string_view text, const Script& script,
                                 const DifferentialRun& run) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (size_t i = 0; i < script.steps.size(); ++i) {
    Expectation expect;
    for (const Trace& trace : run.traces) {
      for (size_t k = 0; k < kAllTransportKinds.size(); ++k) {
        if (kAllTransportKinds[k] == trace.kind) {
          expect.outcomes[k] = trace.steps[i].outcome;
        }
      }
    }
    std::string& line = lines[script.steps[i].line - 1];
    const size_t comment = line.find('#');
    std::string rest =
        comment == std::string::npos ? "" : "  " + line.substr(comment);
    line = absl::StrCat(FormatStep(script.steps[i]), " = ",
                        FormatExpectation(expect), rest);
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace

CLI::App* AddReplay(CLI::App& app, ReplayArgs& args) {
  CLI::App* replay = app.add_subcommand(
      "replay",
      "Run the script in FILE ('-': standard input) on each transport kind, "
      "print the traces side by side and the verdict.");
  replay->add_option("FILE", args.file,
                     "the script (its syntax and verbs: below)");
  replay
      ->add_option("--transport", args.transports,
                   "kinds to run it on (default all): socketpair, unix, "
                   "unix-abstract, tcp4, tcp6")
      ->delimiter(',')
      ->allow_extra_args(false);
  replay->add_flag("--details", args.details,
                   "also show byte counts and other uncompared details");
  replay
      ->add_option("--without", args.without,
                   "leave these registry entries out, to see what they "
                   "explain")
      ->delimiter(',')
      ->allow_extra_args(false);
  replay->add_flag("--assert", args.assert_outcomes,
                   "print the script with what every kind gave asserted "
                   "after each step ('= ...'), instead of the traces; needs "
                   "every kind");
  replay->add_flag("--reference", args.reference,
                   "print the whole script reference (docs/SCRIPTS.md) in "
                   "Markdown, from the verb table, and exit");
  // The script's syntax and every verb, from the verb table: what a user
  // writing FILE needs, where they look first.
  replay->footer(absl::StrCat(ScriptSyntaxHelp(), "\n", kReplayExitCodesHelp));
  return replay;
}

int RunReplay(const ReplayArgs& args) {
  if (args.reference) {
    std::cout << ScriptReferenceMarkdown();
    return kExitOk;
  }
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
    // open(2)'s own errno (ENOENT, EACCES, EISDIR...): ifstream hides it.
    const int fd = ::open(args.file.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat info {};
    const int error = fd < 0                    ? errno
                      : ::fstat(fd, &info) != 0 ? errno
                      : S_ISDIR(info.st_mode)   ? EISDIR
                                                : 0;
    if (fd >= 0) ::close(fd);
    std::ifstream in(args.file);
    if (error != 0 || !in) {
      Complain(absl::StrCat("cannot read '", args.file,
                            "': ", ErrnoName(error != 0 ? error : EIO), " (",
                            std::strerror(error != 0 ? error : EIO), ")"));
      return kExitUsage;
    }
    text << in.rdbuf();
  }
  absl::StatusOr<Script> script = ParseScript(text.str());
  if (!script.ok()) {
    Complain(absl::StrCat(args.file, ": ", script.status().message()));
    return kExitUsage;
  }
  GuardRun();
  const DifferentialRun run = RunDifferential(*script, kinds, *registry);
  if (args.assert_outcomes) {
    if (run.traces.size() != kAllTransportKinds.size()) {
      Complain("--assert needs every kind to run");
      return kExitUsage;
    }
    std::cout << WithOutcomesAsserted(text.str(), *script, run);
    return run.diverged() ? kExitFailed : kExitOk;
  }
  std::cout << FormatDifferentialRun(*script, run, args.details);
  return run.failed() ? kExitFailed : kExitOk;
}

}  // namespace sockparity::tool
