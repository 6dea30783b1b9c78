// `sockparity check`: the case catalog against a server on the peer
// contract, on every transport, with a matrix of verdicts and reports.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "commands.h"
#include "exit_codes.h"
#include "perturb/modes.h"
#include "run_guard.h"
#include "sockparity/check/client_check.h"

namespace sockparity::tool {
namespace {

// The one list of modes, the library's (perturb/modes.h).
constexpr absl::Span<const char* const> kPerturbModes(kSockparityPerturbModes);

// The modes as a sentence lists them, for messages and help.
std::string ModeList() { return absl::StrJoin(kPerturbModes, ", "); }

// "check" or "check-client", for messages.
const char* command_name = "check";

void Complain(absl::string_view message) {
  std::cerr << "sockparity " << command_name << ": " << message << "\n";
}

// libsockparity_perturb.so: $SOCKPARITY_PERTURB_LIBRARY, else next to this
// command (the build tree), else in the installed library directory.
absl::StatusOr<std::string> FindPerturbLibrary() {
  constexpr char kName[] = "libsockparity_perturb.so";
  if (const char* path = std::getenv("SOCKPARITY_PERTURB_LIBRARY")) {
    if (::access(path, R_OK) == 0) return std::string(path);
    return absl::NotFoundError(absl::StrCat(
        "SOCKPARITY_PERTURB_LIBRARY names '", path, "', which cannot be read"));
  }
  std::error_code error;
  const std::filesystem::path self =
      std::filesystem::read_symlink("/proc/self/exe", error);
  const std::vector<std::filesystem::path> tried = {
      self.parent_path() / kName,
      self.parent_path() / SOCKPARITY_LIBDIR_FROM_BINDIR / kName};
  for (const std::filesystem::path& path : tried) {
    if (::access(path.c_str(), R_OK) == 0) return path.lexically_normal();
  }
  return absl::NotFoundError(
      absl::StrCat("--perturb needs ", kName, ", which is neither at ",
                   tried[0].lexically_normal().string(), " nor at ",
                   tried[1].lexically_normal().string(),
                   " (set SOCKPARITY_PERTURB_LIBRARY to its path)"));
}

// Whole or not at all: a full disk shows only when the buffer is flushed.
// "-" is standard output, as in most tools: a file named '-' was never
// what a user meant.
constexpr char kStdout[] = "-";

bool WriteFile(const std::string& path, const std::string& text) {
  if (path == kStdout) {
    std::cout << text << std::flush;
    if (std::cout.fail()) {
      Complain("cannot write the report to standard output whole");
      return false;
    }
    return true;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (out.fail()) {
    const int error = errno;
    Complain(absl::StrCat(
        "cannot write the report '", path, "' whole",
        error != 0 ? absl::StrCat(": ", ::strerror(error)) : std::string()));
    return false;
  }
  return true;
}

// A report path that cannot be written is a usage error found before the
// run, not after it.
bool ReportPathWritable(const std::string& flag, const std::string& path) {
  if (path.empty() || path == kStdout) return true;
  std::string dir = ".";
  if (const size_t slash = path.rfind('/'); slash != std::string::npos)
    dir = slash == 0 ? "/" : path.substr(0, slash);
  const bool exists = ::access(path.c_str(), F_OK) == 0;
  if (exists ? ::access(path.c_str(), W_OK) == 0
             : ::access(dir.c_str(), W_OK | X_OK) == 0) {
    return true;
  }
  const int error = errno;
  Complain(absl::StrCat(flag, " '", path, "' cannot be written",
                        exists ? "" : absl::StrCat(" (in '", dir, "')"), ": ",
                        ::strerror(error)));
  return false;
}

// The options as the check library takes them, or the exit status of a
// usage error already reported.
std::variant<CheckOptions, int> ToOptions(const CheckArgs& args) {
  CheckOptions options;
  options.command = args.server;
  if (!args.cases.empty()) options.include = args.cases;
  options.exclude = args.exclude;
  options.seed = args.seed;
  if (!absl::ParseDuration(args.timeout, &options.timeout) ||
      options.timeout <= absl::ZeroDuration()) {
    Complain(absl::StrCat("--timeout '", args.timeout,
                          "' is not a duration like 5s or 500ms"));
    return kExitUsage;
  }
  if (!absl::ParseDuration(args.stalled_after, &options.stalled_after) ||
      options.stalled_after < absl::ZeroDuration()) {
    Complain(absl::StrCat("--stalled-after '", args.stalled_after,
                          "' is not a duration like 1s, 500ms or 0"));
    return kExitUsage;
  }
  if (!absl::ParseDuration(args.case_budget, &options.case_budget) ||
      options.case_budget < absl::ZeroDuration()) {
    Complain(absl::StrCat("--case-budget '", args.case_budget,
                          "' is not a duration like 60s, 2m or 0"));
    return kExitUsage;
  }
  if (!absl::ParseDuration(args.max_run_time, &options.max_run_time) ||
      options.max_run_time < absl::ZeroDuration()) {
    Complain(absl::StrCat("--max-run-time '", args.max_run_time,
                          "' is not a duration like 10m, 90s or 0"));
    return kExitUsage;
  }
  options.fail_fast = args.fail_fast;
  if (!args.transports.empty()) {
    options.transports.clear();
    for (const std::string& name : args.transports) {
      absl::StatusOr<ContractTransport> transport =
          ParseContractTransport(name);
      if (!transport.ok()) {
        Complain(transport.status().message());
        return kExitUsage;
      }
      options.transports.push_back(*transport);
    }
  }
  for (const std::string& mode : args.perturb) {
    if (mode == "all") {
      options.perturb.assign(kPerturbModes.begin(), kPerturbModes.end());
      break;
    }
    if (std::find(kPerturbModes.begin(), kPerturbModes.end(), mode) ==
        kPerturbModes.end()) {
      Complain(absl::StrCat("unknown perturbation mode '", mode, "'; expected ",
                            ModeList(), " or all"));
      return kExitUsage;
    }
    options.perturb.push_back(mode);
  }
  if (!options.perturb.empty()) {
    absl::StatusOr<std::string> library = FindPerturbLibrary();
    if (!library.ok()) {
      Complain(library.status().message());
      return kExitUsage;
    }
    options.perturb_library = *library;
  }
  return options;
}

}  // namespace

namespace {

// One usage line, with the server command CLI11 cannot know of (it is
// taken from after "--" before parsing).
class CheckUsage : public CLI::Formatter {
 public:
  explicit CheckUsage(bool client) : client_(client) {}
  std::string make_usage(const CLI::App*, std::string) const override {
    return client_ ? "Usage: sockparity check-client [OPTIONS] -- CLIENT "
                     "[ARGS...]\n"
                   : "Usage: sockparity check [OPTIONS] -- SERVER [ARGS...]\n";
  }

 private:
  bool client_;
};

CLI::App* AddOptions(CLI::App* check, CheckArgs& args);

}  // namespace

CLI::App* AddCheck(CLI::App& app, CheckArgs& args) {
  CLI::App* check = app.add_subcommand(
      "check",
      "Start the server once per transport (it gets its ADDRESS as the last "
      "argument, see docs/SUT_CONTRACT.md), play every case as the client, "
      "print a matrix of verdicts.");
  check->formatter(std::make_shared<CheckUsage>(false));
  return AddOptions(check, args);
}

CLI::App* AddCheckClient(CLI::App& app, CheckArgs& args) {
  args.client = true;
  CLI::App* check = app.add_subcommand(
      "check-client",
      "Play the server on every transport and start the client once per "
      "case (it gets the ADDRESS as the last argument and its requests on "
      "standard input, see docs/CLIENT_CONTRACT.md); print a matrix of "
      "verdicts. Options, reports and exit statuses are check's.");
  check->formatter(std::make_shared<CheckUsage>(true));
  return AddOptions(check, args);
}

namespace {

CLI::App* AddOptions(CLI::App* check, CheckArgs& args) {
  check
      ->add_option("--cases", args.cases,
                   "only these case ids or names (globs, e.g. '7.*'), or "
                   "groups by number or name (e.g. '7', 'bad-input')")
      ->delimiter(',')
      ->allow_extra_args(false);
  check->add_option("--exclude", args.exclude, "not these (globs)")
      ->delimiter(',')
      ->allow_extra_args(false);
  check
      ->add_option("--transport", args.transports,
                   "of unix, unix-abstract, tcp4, tcp6, fd (default all)")
      ->delimiter(',')
      ->allow_extra_args(false);
  check->add_option("--timeout", args.timeout,
                    "per wait inside a case, e.g. 5s or 500ms (default 10s)");
  check->add_option(
      "--stalled-after", args.stalled_after,
      absl::StrCat(
          "a wait for a reply or an end fails once the server sat idle in "
          "the kernel this long with nothing on its way to the client "
          "(default ",
          absl::FormatDuration(kContractReplyWindow),
          ": the contract's window for holding a due reply, ",
          kContractReplyWindowClause,
          "; 0: wait out --timeout). A server that is running or waiting "
          "for a CPU is waited for up to --timeout"));
  check->add_option(
      "--case-budget", args.case_budget,
      absl::StrCat("a case still waiting after this long FAILED, naming the "
                   "step it was in (default ",
                   absl::FormatDuration(kContractCaseBudget),
                   ": the contract's budget, ", kContractCaseBudgetClause,
                   "; 0: none)"));
  check->add_option(
      "--max-run-time", args.max_run_time,
      "the whole run: cases not begun by then are not played and a case "
      "it cuts short is not judged, exit status 7 unless a case FAILED "
      "(default 10m; 0: none)");
  check->add_flag("--quiet", args.quiet,
                  "no progress line per case on standard error (the table, "
                  "the failures and the reports are the same)");
  check->add_flag("--fail-fast", args.fail_fast,
                  "play no further case once one has FAILED (cases not "
                  "played show as '-')");
  check->add_option("--seed", args.seed,
                    "for the random cases and the perturbation (default: "
                    "fresh, printed)");
  check
      ->add_option(
          "--perturb", args.perturb,
          absl::StrCat("run the server under libsockparity_perturb.so: ",
                       ModeList(), " or all (docs/PERTURBATION.md)"))
      ->delimiter(',')
      ->allow_extra_args(false);
  check->add_option("--json", args.json,
                    "write the JSON report here ('-': standard output, and "
                    "the table goes to standard error)");
  check->add_option("--junit", args.junit,
                    "write the JUnit report here ('-': standard output)");
  check->add_option("--html", args.html,
                    "write the HTML report here ('-': standard output)");
  check->add_flag("--list-modes", args.list_modes,
                  "print the perturbation modes, one a line, and exit (for "
                  "scripts)");
  check->add_flag("--list", args.list,
                  "print the catalog (the cases --cases and --exclude select) "
                  "and exit: id, name, what it checks, the contract clause, "
                  "the public reference, MUST or SHOULD; with --json, also "
                  "as JSON");
  check->add_flag("--strict", args.strict,
                  "a SHOULD clause missed (NON-STRICT) counts as a failure in "
                  "the exit status");
  check->footer(absl::StrCat(
      kCheckExitCodesHelp,
      "\n\nPaths cited here and in the reports (docs/..., corpus/...) are in "
      "the source tree, and installed under PREFIX/share/doc/sockparity."));
  return check;
}

}  // namespace

int RunCheck(const CheckArgs& args) {
  command_name = args.client ? "check-client" : "check";
  if (args.list_modes) {
    for (const char* mode : kPerturbModes) std::cout << mode << "\n";
    return kExitOk;
  }
  if (args.list) {
    // A dry run of the filters.
    const std::vector<std::string> include =
        args.cases.empty() ? std::vector<std::string>{"*"} : args.cases;
    const std::vector<CaseInfo> cases =
        args.client ? SelectClientCases(include, args.exclude)
                    : SelectCases(include, args.exclude);
    if (cases.empty()) {
      Complain(absl::StrCat("the case filters match no case ('sockparity ",
                            command_name, " --list' lists them all)"));
      return kExitNoCaseMatched;
    }
    if (!args.json.empty()) {
      if (!ReportPathWritable("--json", args.json)) return kExitUsage;
      if (!WriteFile(args.json, CatalogJson(cases)))
        return kExitReportNotWritten;
      if (args.json == kStdout) return kExitOk;  // the JSON alone
    }
    // id, name, description, then the contract clause and the public
    // reference: consumers parse the first columns, so new ones go last,
    // and skip the header (it does not start with an id).
    std::cout << "# id\tname\tdescription\tclause\treference\tMUST or "
                 "SHOULD\ttransports\n";
    for (const CaseInfo& info : cases) {
      std::vector<std::string> runs_on;
      for (ContractTransport t : info.runs_on)
        runs_on.emplace_back(ContractTransportName(t));
      std::cout << info.id << "\t" << info.name << "\t" << info.description
                << "\t" << info.clause << "\t" << info.reference << "\t"
                << (info.should ? "SHOULD" : "MUST") << "\t"
                << absl::StrJoin(runs_on, ",") << "\n";
    }
    return kExitOk;
  }
  if (args.server.empty()) {
    Complain(absl::StrCat("missing the ", args.client ? "client" : "server",
                          " command after '--' ('sockparity ", command_name,
                          " --help')"));
    return kExitUsage;
  }
  std::variant<CheckOptions, int> parsed = ToOptions(args);
  if (const int* code = std::get_if<int>(&parsed)) return *code;
  CheckOptions& options = std::get<CheckOptions>(parsed);
  if (!ReportPathWritable("--json", args.json) ||
      !ReportPathWritable("--junit", args.junit) ||
      !ReportPathWritable("--html", args.html)) {
    return kExitUsage;
  }
  const int to_stdout =
      (args.json == kStdout) + (args.junit == kStdout) + (args.html == kStdout);
  if (to_stdout > 1) {
    Complain("only one report can go to standard output ('-')");
    return kExitUsage;
  }
  GuardRun();
  if (!args.quiet) {
    options.progress = [](const std::string& line) {
      std::cerr << line << "\n";
    };
  }
  absl::StatusOr<CheckReport> report = args.client
                                           ? sockparity::RunClientCheck(options)
                                           : sockparity::RunCheck(options);
  if (!report.ok()) {
    Complain(report.status().message());
    return absl::IsFailedPrecondition(report.status()) ? kExitUsage
                                                       : kExitNoCaseMatched;
  }
  // A report on standard output has it to itself; the table goes with the
  // progress lines.
  (to_stdout > 0 ? std::cerr : std::cout) << "\n" << report->Matrix();
  bool written = true;
  if (!args.json.empty()) written &= WriteFile(args.json, report->Json());
  if (!args.junit.empty()) written &= WriteFile(args.junit, report->Junit());
  if (!args.html.empty()) written &= WriteFile(args.html, report->Html());
  if (!report->startup_errors.empty()) {
    std::cerr << "sockparity " << command_name
              << ": the server did not start on:\n"
              << report->startup_errors;
  }
  if (!written) return kExitReportNotWritten;
  if (report->Count(Verdict::kFailed) > 0) return kExitFailed;
  if (report->ran_out_of_time) {
    std::cerr << "sockparity " << command_name << ": --max-run-time "
              << args.max_run_time << " ran out before every case was played\n";
    return kExitOutOfTime;
  }
  if (args.strict && report->Count(Verdict::kNonStrict) > 0) {
    std::cerr << "sockparity " << command_name
              << ": --strict: " << report->Count(Verdict::kNonStrict)
              << " NON-STRICT verdicts count as failures\n";
    return kExitFailed;
  }
  if (report->NothingRan()) {
    std::string why;
    for (const CheckReport::Cell& cell : report->cells) {
      const std::string line =
          absl::StrCat("  ", ContractTransportName(cell.transport), ": ",
                       cell.result.reason);
      if (why.find(line + "\n") == std::string::npos)
        absl::StrAppend(&why, line, "\n");
    }
    std::cerr << "sockparity " << command_name
              << ": no case could run on any transport:\n"
              << why;
    return kExitNothingRan;
  }
  if (!report->perturb_not_in_effect.empty())
    return kExitPerturbationNotInEffect;
  return kExitOk;
}

}  // namespace sockparity::tool
