// The sockparity command: replay, differences, check, check-client, help.
// Options are parsed by CLI11, the same way for every subcommand; each answers
// --help.
#include <malloc.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "exit_codes.h"
#include "sockparity/check/client_report.h"
#include "sockparity/check/peer_check.h"
#include "sockparity/script/script.h"

namespace sockparity::tool {
namespace {

constexpr const char* kCommands[] = {"replay", "differences", "check",
                                     "check-client", "help"};

// A parse error in one line, pointing at the help of the command it is in.
int UsageError(CLI::App& app, const CLI::ParseError& e) {
  std::cerr << "sockparity: " << e.what() << " ('sockparity "
            << (app.get_subcommands().empty()
                    ? std::string("--help")
                    : app.get_subcommands()[0]->get_name() + " --help")
            << "')\n";
  return kExitUsage;
}

// "--transport unix tcp4": a second value after an option that takes one
// comma-separated list. The hint that says so, or "".
std::string ListHint(const CLI::App& command,
                     const std::vector<std::string>& args) {
  for (size_t i = 0; i + 2 < args.size(); ++i) {
    const std::string& name = args[i];
    if (name.rfind("--", 0) != 0 || name.find('=') != std::string::npos) {
      continue;
    }
    const CLI::Option* option = command.get_option_no_throw(name);
    if (option == nullptr || option->get_delimiter() != ',') continue;
    if (args[i + 2].empty() || args[i + 2][0] == '-') continue;
    return absl::StrCat("; ", name, " takes one list, comma-separated: ", name,
                        " ", args[i + 1], ",", args[i + 2]);
  }
  return "";
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // The server command of `check` is everything after the first "--",
  // taken as it is (its own options are not sockparity's).
  std::vector<std::string> server;
  if (auto dashes = std::find(args.begin(), args.end(), "--");
      dashes != args.end()) {
    server.assign(dashes + 1, args.end());
    args.erase(dashes, args.end());
  }
  if (!args.empty() && args[0][0] != '-' &&
      std::find(std::begin(kCommands), std::end(kCommands), args[0]) ==
          std::end(kCommands)) {
    std::cerr << "sockparity: unknown command '" << args[0]
              << "'; commands: replay, differences, check, check-client, help "
                 "('sockparity --help')\n";
    return kExitUsage;
  }

  CLI::App app(
      "sockparity: runs stream-socket code over every local transport and "
      "checks that they behave the same, apart from documented "
      "differences.",
      "sockparity");
  app.require_subcommand(0, 1);
  app.set_version_flag(
      "--version",
      absl::StrCat("sockparity ", SockparityVersion(), " (peer contract ",
                   kContractVersion, ", client contract ",
                   kClientContractVersion, ")"));
  ReplayArgs replay_args;
  DifferencesArgs differences_args;
  CheckArgs check_args;
  check_args.server = server;
  CheckArgs client_args;
  client_args.server = server;
  CLI::App* replay = AddReplay(app, replay_args);
  CLI::App* differences = AddDifferences(app, differences_args);
  CLI::App* check = AddCheck(app, check_args);
  CLI::App* check_client = AddCheckClient(app, client_args);
  CLI::App* help = app.add_subcommand(
      "help", "This text, and the syntax of scripts (for replay).");
  app.footer("'sockparity COMMAND --help' describes each command.");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    if (!app.get_subcommands().empty()) {
      const CLI::App& command = *app.get_subcommands()[0];
      if (std::string hint = ListHint(command, args); !hint.empty()) {
        std::cerr << "sockparity " << command.get_name() << ": " << e.what()
                  << hint << "\n";
        return kExitUsage;
      }
    }
    // A server command without "--" before it (not an unknown option).
    const std::string what = e.what();
    const size_t listed = what.find(": ");
    const bool option =
        listed != std::string::npos && what.compare(listed + 2, 1, "-") == 0;
    if (!option && !app.get_subcommands().empty() &&
        app.get_subcommands()[0]->get_name() == "check") {
      std::cerr << "sockparity check: " << e.what()
                << "; put '--' before the server command: sockparity check "
                   "[OPTIONS] -- SERVER [ARGS...]\n";
      return kExitUsage;
    }
    if (!option && !app.get_subcommands().empty() &&
        app.get_subcommands()[0]->get_name() == "check-client") {
      std::cerr << "sockparity check-client: " << e.what()
                << "; put '--' before the client command: sockparity "
                   "check-client [OPTIONS] -- CLIENT [ARGS...]\n";
      return kExitUsage;
    }
    return UsageError(app, e);
  } catch (const CLI::ParseError& e) {
    return UsageError(app, e);
  }
  if (!server.empty() && !check->parsed() && !check_client->parsed()) {
    std::cerr << "sockparity: '--' and a command belong to 'check' or "
                 "'check-client'\n";
    return kExitUsage;
  }
  if (replay->parsed()) return RunReplay(replay_args);
  if (differences->parsed()) return RunDifferences(differences_args);
  if (check->parsed()) return RunCheck(check_args);
  if (check_client->parsed()) return RunCheck(client_args);
  if (help->parsed()) {
    std::cout << app.help() << "\n" << ScriptSyntaxHelp();
    return kExitOk;
  }
  std::cerr << app.help();
  return kExitUsage;
}

}  // namespace
}  // namespace sockparity::tool

int main(int argc, char** argv) {
  // Frames of up to 16 MiB are allocated and freed all run long. Taken
  // from the heap and kept there when freed, their pages stay mapped and
  // are reused; above glibc's default threshold each would be a fresh
  // mapping whose every page faults in (measured: bench/README.md).
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return sockparity::tool::Main(argc, argv);
}
