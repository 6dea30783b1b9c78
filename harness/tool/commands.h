// The subcommands of the sockparity command, each in a file of its own:
// Add* declares its options on the parser, Run* does the work and returns
// an ExitCode (exit_codes.h).
#ifndef SOCKPARITY_TOOL_COMMANDS_H_
#define SOCKPARITY_TOOL_COMMANDS_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "sockparity/check/peer_check.h"

namespace sockparity::tool {

struct ReplayArgs {
  std::string file;
  std::vector<std::string> transports;
  bool details = false;
  std::vector<std::string> without;
  bool assert_outcomes = false;
  bool reference = false;  // print docs/SCRIPTS.md and exit
};
CLI::App* AddReplay(CLI::App& app, ReplayArgs& args);
int RunReplay(const ReplayArgs& args);

struct DifferencesArgs {
  bool markdown = false;
  bool ids = false;
};
CLI::App* AddDifferences(CLI::App& app, DifferencesArgs& args);
int RunDifferences(const DifferencesArgs& args);

struct CheckArgs {
  std::vector<std::string> cases, exclude, transports, perturb;
  // The library's default, as the command line spells it.
  std::string timeout = absl::FormatDuration(CheckOptions{}.timeout);
  uint64_t seed = 0;
  std::string json, junit, html;
  bool list = false;
  bool list_modes = false;
  bool strict = false;  // NON-STRICT counts as a failure in the exit status
  std::string stalled_after = absl::FormatDuration(kContractReplyWindow);
  std::string case_budget = absl::FormatDuration(kContractCaseBudget);
  std::string max_run_time = "10m";
  bool fail_fast = false;
  bool quiet = false;               // no progress line per case
  std::vector<std::string> server;  // what follows "--"
  // `check-client`: the command is a client (docs/CLIENT_CONTRACT.md).
  bool client = false;
};
CLI::App* AddCheck(CLI::App& app, CheckArgs& args);
CLI::App* AddCheckClient(CLI::App& app, CheckArgs& args);
int RunCheck(const CheckArgs& args);

}  // namespace sockparity::tool

#endif  // SOCKPARITY_TOOL_COMMANDS_H_
