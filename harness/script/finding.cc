// Findings: an undocumented divergence reduced to a signature, kept once
// per signature with its shortest script.
#include "sockparity/script/finding.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sockparity/net/errors.h"

namespace sockparity {
namespace {

int EarliestDivergingStep(const DifferentialRun& run) {
  int earliest = -1;
  for (const PairComparison& pair : run.pairs) {
    if (pair.comparison.verdict != Comparison::Verdict::kDiverged) continue;
    const int step = pair.comparison.step;
    if (step >= 0 && (earliest < 0 || step < earliest)) earliest = step;
  }
  return earliest;
}

std::string KindConstant(TransportKind kind) {
  switch (kind) {
    case TransportKind::kSocketpair: return "K::kSocketpair";
    case TransportKind::kUnixPath: return "K::kUnixPath";
    case TransportKind::kUnixAbstract: return "K::kUnixAbstract";
    case TransportKind::kTcp4: return "K::kTcp4";
    case TransportKind::kTcp6: return "K::kTcp6";
  }
  return "?";
}

// What each kind gave, grouped, in the order the kinds ran.
std::vector<std::pair<std::string, std::vector<TransportKind>>> Groups(
    const DifferentialRun& run, int step) {
  std::vector<std::pair<std::string, std::vector<TransportKind>>> groups;
  // Received bytes differ from script to script: the signature says only
  // which kinds got the same, as A, B, ...
  std::map<std::string, std::string> letters;
  for (const Trace& trace : run.traces) {
    std::string outcome;
    if (step >= 0) {
      outcome = static_cast<size_t>(step) < trace.steps.size()
                    ? trace.steps[step].outcome
                    : "(not reached)";
    } else {
      std::vector<std::string> received;
      for (const auto& [slot, digest] : trace.received)
        received.push_back(absl::StrCat(slot, " ", digest));
      const std::string text =
          received.empty() ? "nothing" : absl::StrJoin(received, ", ");
      auto [it, added] = letters.try_emplace(
          text, std::string(1, static_cast<char>('A' + letters.size())));
      outcome = it->second;
    }
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return g.first == outcome; });
    if (it == groups.end()) {
      groups.push_back({outcome, {trace.kind}});
    } else {
      it->second.push_back(trace.kind);
    }
  }
  return groups;
}

uint64_t Fnv1a64(absl::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

size_t StepsIn(const std::string& path) {
  std::ifstream in(path);
  size_t steps = 0;
  for (std::string line; std::getline(in, line);)
    steps += !line.empty() && line[0] != '#';
  return steps;
}

}  // namespace

std::optional<Finding> FindingOf(const Script& script,
                                 const DifferentialRun& run) {
  if (!run.diverged()) return std::nullopt;
  const int step = EarliestDivergingStep(run);
  std::string what = "received bytes";
  std::string verb = "bytes";
  if (step >= 0) {
    const Step& s = script.steps[step];
    verb = std::string(VerbName(s.verb));
    what = s.keyword.empty() ? verb : absl::StrCat(verb, " ", s.keyword);
  }
  Finding finding;
  std::vector<std::string> parts, behaviours;
  for (const auto& [outcome, kinds] : Groups(run, step)) {
    std::vector<std::string> names, constants;
    for (TransportKind kind : kinds) {
      names.push_back(std::string(TransportName(kind)));
      constants.push_back(KindConstant(kind));
    }
    parts.push_back(absl::StrCat(absl::StrJoin(names, ","), "=", outcome));
    behaviours.push_back(absl::StrFormat(
        "{{%s}, \"TODO: what these kinds do\", {\"%s:%s\"}}",
        absl::StrJoin(constants, ", "), verb, outcome));
  }
  finding.signature = absl::StrCat(what, ": ", absl::StrJoin(parts, " | "));
  std::optional<Script> prefix = run.ShortestDivergingPrefix(script);
  finding.script = prefix ? *prefix : script;
  finding.draft_entry = absl::StrCat(
      "{.id = \"TODO\", .statement = \"TODO\",\n"
      " .source = \"TODO: the manual page or kernel file\",\n"
      " .behaviour = {",
      absl::StrJoin(behaviours, ",\n                "),
      "},\n .after = {\"TODO: the steps that lead there, if any\"},\n"
      " .witness = \"TODO: this script's name in corpus/scripts\"}");
  return finding;
}

std::optional<Finding> ReplayedFindingOf(const Script& script,
                                         const DifferentialRun& run,
                                         const DifferenceRegistry& registry) {
  std::optional<Finding> finding = FindingOf(script, run);
  if (!finding) return std::nullopt;
  std::vector<TransportKind> kinds;
  for (const Trace& trace : run.traces) kinds.push_back(trace.kind);
  const DifferentialRun again =
      RunDifferential(finding->script, kinds, registry);
  if (std::optional<Finding> replayed = FindingOf(finding->script, again)) {
    return replayed;
  }
  finding->signature = absl::StrCat("did not replay: ", finding->signature);
  return finding;
}

std::string FormatFinding(const Finding& finding) {
  std::string out = absl::StrCat("# signature: ", finding.signature, "\n",
                                 "# the registry entry it would need (a draft):\n");
  for (absl::string_view line : absl::StrSplit(finding.draft_entry, '\n'))
    absl::StrAppend(&out, "#   ", line, "\n");
  absl::StrAppend(&out, FormatScript(finding.script));
  return out;
}

absl::Status RecordFinding(absl::string_view dir, const Finding& finding) {
  const std::string directory(dir);
  if (::mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST)
    return ErrnoStatus(errno, "mkdir", directory);
  const std::string base = absl::StrFormat("%s/%016x", directory,
                                           Fnv1a64(finding.signature));
  // One byte appended per sighting: O_APPEND writes this small do not mix.
  const int seen = ::open((base + ".seen").c_str(),
                          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (seen < 0) return ErrnoStatus(errno, "open", base + ".seen");
  const bool counted = ::write(seen, "x", 1) == 1;
  const int write_error = errno;
  ::close(seen);
  if (!counted) return ErrnoStatus(write_error, "write", base + ".seen");

  const std::string path = base + ".script";
  if (::access(path.c_str(), F_OK) == 0 &&
      StepsIn(path) <= finding.script.steps.size()) {
    return absl::OkStatus();
  }
  // Written aside and renamed: a reader never sees half a file.
  const std::string temporary =
      absl::StrCat(path, ".", ::getpid(), ".tmp");
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << FormatFinding(finding);
    out.close();
    if (out.fail()) {
      ::unlink(temporary.c_str());
      return absl::DataLossError(
          absl::StrCat("cannot write the finding ", temporary));
    }
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return ErrnoStatus(error, "rename", path);
  }
  return absl::OkStatus();
}

}  // namespace sockparity
