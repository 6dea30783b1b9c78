// The sockparity command.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "sockparity/script/differences.h"
#include "sockparity/check/peer_check.h"
#include "sockparity/script/trace_table.h"
#include "sockparity/script/script.h"
#include "sockparity/script/trace.h"

namespace sockparity {
namespace {

// Exit statuses of the command.
constexpr int kUsageError = 2;  // also: the server command cannot be started
constexpr int kCheckFailed = 1;
constexpr int kNoCaseMatched = 3;
constexpr int kNothingRan = 4;
constexpr int kPerturbationNotInEffect = 5;

constexpr absl::string_view kPerturbModes[] = {"short-io", "eintr",
                                                "accept-aborted"};

void PrintUsage(std::ostream& out) {
  out << "usage: sockparity COMMAND [ARGS]\n\n"
         "commands:\n"
         "  replay FILE [--transport LIST] [--details] [--without IDS]\n"
         "      run the script in FILE on each transport kind (all by "
         "default;\n"
         "      LIST is comma-separated: "
         "socketpair,unix,unix-abstract,tcp4,tcp6),\n"
         "      print the traces side by side and the verdict. Exits 1 on an\n"
         "      undocumented divergence. --details shows byte counts and "
         "other\n"
         "      uncompared details; --without IDS (comma-separated) leaves "
         "those\n"
         "      registry entries out, to see what they explain.\n"
         "  differences [--markdown]\n"
         "      print the registry of documented differences between "
         "transports\n"
         "      (--markdown: as docs/DIFFERENCES.md)\n"
         "  check [OPTIONS] -- SUT_COMMAND [ARGS...]\n"
         "      start the server once per transport (it gets its ADDRESS as "
         "the last\n"
         "      argument, see docs/SUT_CONTRACT.md), play every case as the "
         "client,\n"
         "      print a matrix of verdicts.\n"
         "      --cases GLOB[,GLOB]   only these case ids or names (e.g. "
         "'7.*')\n"
         "      --exclude GLOB[,GLOB] not these\n"
         "      --transport LIST      of unix,unix-abstract,tcp4,tcp6,fd "
         "(default all)\n"
         "      --timeout DURATION    per wait inside a case (default 10s)\n"
         "      --seed N              for the random cases (default: fresh, "
         "printed)\n"
         "      --perturb MODES       run the server under "
         "libsockparity_perturb.so\n"
         "                            (LD_PRELOAD): short-io, eintr, "
         "accept-aborted or all,\n"
         "                            comma-separated; seeded by --seed\n"
         "      --json FILE, --junit FILE, --html FILE   reports\n"
         "      --list                print the catalog and exit\n"
         "      Exit status: 0 nothing FAILED; 1 a case FAILED; 2 bad usage, "
         "or the\n"
         "      server cannot be started at all; 3 the filters match no case; "
         "4 no case\n"
         "      could run on any transport; 5 perturbation asked for but not "
         "in effect.\n"
         "  help\n"
         "      this text, and the script syntax\n";
}

int Replay(const std::vector<std::string>& args) {
  std::string file;
  std::vector<TransportKind> kinds(kAllTransportKinds.begin(),
                                   kAllTransportKinds.end());
  bool details = false;
  std::vector<std::string> without;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--details") {
      details = true;
    } else if (arg == "--without") {
      if (i + 1 >= args.size()) {
        std::cerr << "sockparity replay: --without needs entry ids\n";
        return kUsageError;
      }
      for (absl::string_view id :
           absl::StrSplit(args[++i], ',', absl::SkipEmpty())) {
        if (DifferenceRegistry::Default().Find(id) == nullptr) {
          std::cerr << "sockparity replay: no registry entry '" << id
                    << "'; 'sockparity differences' lists them\n";
          return kUsageError;
        }
        without.emplace_back(id);
      }
    } else if (arg == "--transport" || arg.rfind("--transport=", 0) == 0) {
      std::string list;
      if (arg == "--transport") {
        if (i + 1 >= args.size()) {
          std::cerr << "sockparity replay: --transport needs a list\n";
          return kUsageError;
        }
        list = args[++i];
      } else {
        list = arg.substr(std::string("--transport=").size());
      }
      kinds.clear();
      for (absl::string_view name :
           absl::StrSplit(list, ',', absl::SkipEmpty())) {
        absl::StatusOr<TransportKind> kind = ParseTransportKind(name);
        if (!kind.ok()) {
          std::cerr << "sockparity replay: " << kind.status().message() << "\n";
          return kUsageError;
        }
        kinds.push_back(*kind);
      }
      if (kinds.empty()) {
        std::cerr << "sockparity replay: --transport names no kind\n";
        return kUsageError;
      }
    } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
      std::cerr << "sockparity replay: unknown option '" << arg << "'\n";
      return kUsageError;
    } else if (file.empty()) {
      file = arg;
    } else {
      std::cerr << "sockparity replay: one script file only; got '" << arg
                << "' too\n";
      return kUsageError;
    }
  }
  if (file.empty()) {
    std::cerr << "sockparity replay: missing the script FILE\n";
    PrintUsage(std::cerr);
    return kUsageError;
  }
  std::stringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "sockparity replay: cannot read '" << file << "'\n";
      return kUsageError;
    }
    text << in.rdbuf();
  }
  absl::StatusOr<Script> script = ParseScript(text.str());
  if (!script.ok()) {
    std::cerr << "sockparity replay: " << file << ": "
              << script.status().message() << "\n";
    return kUsageError;
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
  std::cout << FormatTracesSideBySide(*script, traces, details);
  if (traces.size() < 2) {
    std::cout << "\nverdict: nothing to compare (fewer than two kinds ran)\n";
    return 0;
  }
  std::vector<Difference> kept;
  for (const Difference& entry : DifferenceRegistry::Default().entries()) {
    if (std::find(without.begin(), without.end(), entry.id) == without.end()) {
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
  return diverged ? 1 : 0;
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
  std::vector<std::filesystem::path> tried = {
      self.parent_path() / kName,
      self.parent_path() / SOCKPARITY_LIBDIR_FROM_BINDIR / kName};
  for (const std::filesystem::path& path : tried) {
    if (::access(path.c_str(), R_OK) == 0) return path.lexically_normal();
  }
  return absl::NotFoundError(absl::StrCat(
      "--perturb needs ", kName, ", which is neither at ",
      tried[0].lexically_normal().string(), " nor at ",
      tried[1].lexically_normal().string(),
      " (set SOCKPARITY_PERTURB_LIBRARY to its path)"));
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) std::cerr << "sockparity check: cannot write '" << path << "'\n";
  return static_cast<bool>(out);
}

int Check(const std::vector<std::string>& args) {
  CheckOptions options;
  std::string json, junit, html;
  bool list = false;
  size_t i = 0;
  auto value = [&](const std::string& flag) -> std::optional<std::string> {
    if (i + 1 >= args.size()) {
      std::cerr << "sockparity check: " << flag << " needs a value\n";
      return std::nullopt;
    }
    return args[++i];
  };
  auto globs = [](const std::string& text) {
    std::vector<std::string> out;
    for (absl::string_view g : absl::StrSplit(text, ',', absl::SkipEmpty()))
      out.emplace_back(g);
    return out;
  };
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      options.command.assign(args.begin() + i + 1, args.end());
      break;
    }
    std::optional<std::string> v;
    if (arg == "--list") {
      list = true;
    } else if (arg == "--cases" || arg == "--exclude" || arg == "--transport" ||
               arg == "--timeout" || arg == "--seed" || arg == "--json" ||
               arg == "--junit" || arg == "--html" || arg == "--perturb") {
      if (!(v = value(arg))) return kUsageError;
      if (arg == "--cases") options.include = globs(*v);
      if (arg == "--exclude") options.exclude = globs(*v);
      if (arg == "--json") json = *v;
      if (arg == "--junit") junit = *v;
      if (arg == "--html") html = *v;
      if (arg == "--perturb") {
        options.perturb.clear();
        for (absl::string_view mode :
             absl::StrSplit(*v, ',', absl::SkipEmpty())) {
          if (mode == "all") {
            options.perturb.clear();
            for (absl::string_view all : kPerturbModes)
              options.perturb.emplace_back(all);
            continue;
          }
          if (std::find(std::begin(kPerturbModes), std::end(kPerturbModes),
                        mode) == std::end(kPerturbModes)) {
            std::cerr << "sockparity check: unknown perturbation mode '"
                      << mode
                      << "'; expected short-io, eintr, accept-aborted or all\n";
            return kUsageError;
          }
          options.perturb.emplace_back(mode);
        }
        if (options.perturb.empty()) {
          std::cerr << "sockparity check: --perturb names no mode\n";
          return kUsageError;
        }
      }
      if (arg == "--timeout" && (!absl::ParseDuration(*v, &options.timeout) ||
                                 options.timeout <= absl::ZeroDuration())) {
        std::cerr << "sockparity check: --timeout '" << *v
                  << "' is not a duration like 5s or 500ms\n";
        return kUsageError;
      }
      if (arg == "--seed" && !absl::SimpleAtoi(*v, &options.seed)) {
        std::cerr << "sockparity check: --seed '" << *v
                  << "' is not a number\n";
        return kUsageError;
      }
      if (arg == "--transport") {
        options.transports.clear();
        for (absl::string_view name :
             absl::StrSplit(*v, ',', absl::SkipEmpty())) {
          if (name == "fd") {
            options.transports.push_back(TransportKind::kSocketpair);
            continue;
          }
          absl::StatusOr<TransportKind> kind = ParseTransportKind(name);
          if (!kind.ok() || *kind == TransportKind::kSocketpair) {
            std::cerr << "sockparity check: unknown transport '" << name
                      << "'; expected unix, unix-abstract, tcp4, tcp6 or fd\n";
            return kUsageError;
          }
          options.transports.push_back(*kind);
        }
        if (options.transports.empty()) {
          std::cerr << "sockparity check: --transport names no transport\n";
          return kUsageError;
        }
      }
    } else {
      std::cerr << "sockparity check: unknown option '" << arg
                << "' (the server command goes after '--')\n";
      return kUsageError;
    }
  }
  if (list) {
    for (const CaseInfo& info : CheckCatalog()) {
      std::cout << info.id << "\t" << info.name << "\t" << info.description
                << "\n";
    }
    return 0;
  }
  if (options.command.empty()) {
    std::cerr << "sockparity check: missing the server command after '--'\n";
    PrintUsage(std::cerr);
    return kUsageError;
  }
  if (!options.perturb.empty()) {
    absl::StatusOr<std::string> library = FindPerturbLibrary();
    if (!library.ok()) {
      std::cerr << "sockparity check: " << library.status().message() << "\n";
      return kUsageError;
    }
    options.perturb_library = *library;
  }
  options.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  absl::StatusOr<CheckReport> report = RunCheck(options);
  if (!report.ok()) {
    std::cerr << "sockparity check: " << report.status().message() << "\n";
    return absl::IsFailedPrecondition(report.status()) ? kUsageError
                                                         : kNoCaseMatched;
  }
  std::cout << "\n" << report->Matrix();
  bool written = true;
  if (!json.empty()) written &= WriteFile(json, report->Json());
  if (!junit.empty()) written &= WriteFile(junit, report->Junit());
  if (!html.empty()) written &= WriteFile(html, report->Html());
  if (!report->startup_errors.empty()) {
    std::cerr << "sockparity check: the server did not start on:\n"
              << report->startup_errors;
  }
  if (!written) return kUsageError;
  if (report->Count(Verdict::kFailed) > 0) return kCheckFailed;
  if (report->NothingRan()) {
    std::string why;
    for (const CheckReport::Cell& cell : report->cells) {
      const std::string line = absl::StrCat(
          "  ", ContractTransportName(cell.transport), ": ", cell.result.reason);
      if (why.find(line + "\n") == std::string::npos)
        absl::StrAppend(&why, line, "\n");
    }
    std::cerr << "sockparity check: no case could run on any transport:\n"
              << why;
    return kNothingRan;
  }
  if (!report->perturb_not_in_effect.empty()) return kPerturbationNotInEffect;
  return 0;
}

int Differences(const std::vector<std::string>& args) {
  bool markdown = false;
  for (const std::string& arg : args) {
    if (arg == "--markdown") {
      markdown = true;
    } else {
      std::cerr << "sockparity differences: unknown argument '" << arg << "'\n";
      return kUsageError;
    }
  }
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  std::cout << (markdown ? registry.Markdown() : registry.Text());
  return 0;
}

}  // namespace
}  // namespace sockparity

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" ||
      args[0] == "-h") {
    sockparity::PrintUsage(args.empty() ? std::cerr : std::cout);
    if (!args.empty()) std::cout << "\n" << sockparity::ScriptSyntaxHelp();
    return args.empty() ? sockparity::kUsageError : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "replay") return sockparity::Replay(args);
  if (command == "differences") return sockparity::Differences(args);
  if (command == "check") return sockparity::Check(args);
  std::cerr << "sockparity: unknown command '" << command << "'\n";
  sockparity::PrintUsage(std::cerr);
  return sockparity::kUsageError;
}
