// The console report of `sockparity check`: the table of verdicts, the
// likely causes, and each failure with its wire log and the command that
// plays it again.
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "check/report_format.h"
#include "sockparity/check/peer_check.h"

namespace sockparity {

constexpr size_t kMatrixWidth = 100;

namespace {

// The wire log without the lines that name the address (which differ by
// transport whatever the server did).
std::string WireShape(const std::string& wire_log) {
  std::vector<std::string> kept;
  for (absl::string_view line : absl::StrSplit(wire_log, '\n')) {
    if (!absl::StartsWith(line, "connected")) kept.emplace_back(line);
  }
  return absl::StrJoin(kept, "\n");
}

bool SameFailure(const CheckReport::Cell& a, const CheckReport::Cell& b) {
  return a.case_id == b.case_id && b.result.verdict == Verdict::kFailed &&
         a.result.reason == b.result.reason &&
         a.result.server_output == b.result.server_output &&
         WireShape(a.result.wire_log) == WireShape(b.result.wire_log);
}

// A word as a POSIX shell reads it back: as it is when it is plain, else
// in single quotes.
std::string ShellWord(absl::string_view word) {
  const bool plain =
      !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
               absl::StrContains("@%+=:,./-_", c);
      });
  if (plain) return std::string(word);
  return absl::StrCat("'", absl::StrReplaceAll(word, {{"'", "'\\''"}}), "'");
}

// The command that plays these cells again, with the run's seed.
std::string ReproduceCommand(const CheckReport& report,
                             const std::string& case_id,
                             const std::vector<std::string>& transports) {
  std::string command = absl::StrCat(
      "sockparity ", report.subject == "client" ? "check-client" : "check",
      " --cases ", case_id, " --transport ", absl::StrJoin(transports, ","),
      " --seed ", report.seed);
  if (!report.perturb.empty()) {
    absl::StrAppend(&command, " --perturb ",
                    absl::StrJoin(report.perturb, ","));
  }
  absl::StrAppend(&command, " --");
  for (const std::string& word : report.provenance.command)
    absl::StrAppend(&command, " ", ShellWord(word));
  return command;
}

// Patterns that explain many FAILED cells at once, said above the list.
std::string LikelyCauses(const CheckReport& report) {
  // The patterns below are a server's.
  if (report.subject != "server") return "";
  int failed = 0, without_a_reply = 0;
  std::set<ContractTransport> failing;
  bool any_reply = false;
  for (const CheckReport::Cell& cell : report.cells) {
    if (absl::StrContains(cell.result.wire_log, "< frame,")) any_reply = true;
    if (cell.result.verdict != Verdict::kFailed) continue;
    ++failed;
    failing.insert(cell.transport);
    if (absl::StartsWith(cell.result.reason, "expected a reply frame") &&
        !absl::StrContains(cell.result.wire_log, "< frame,")) {
      ++without_a_reply;
    }
  }
  std::string causes;
  // The server's own words, when it spoke during most failures.
  int with_output = 0;
  const CheckReport::Cell* first_spoken = nullptr;
  for (const CheckReport::Cell& cell : report.cells) {
    if (cell.result.verdict != Verdict::kFailed ||
        cell.result.server_output.empty()) {
      continue;
    }
    ++with_output;
    if (first_spoken == nullptr) first_spoken = &cell;
  }
  if (with_output >= 2 && with_output * 2 >= failed) {
    std::string last_line;
    for (absl::string_view line :
         absl::StrSplit(first_spoken->result.server_output, '\n')) {
      if (!absl::StripAsciiWhitespace(line).empty() &&
          !absl::StartsWith(line, "[std") && !absl::StartsWith(line, "---"))
        last_line = std::string(line.substr(0, 200));
    }
    absl::StrAppend(&causes,
                    "\nLikely cause: the server wrote to its output "
                    "during ",
                    with_output, " of the ", failed,
                    " FAILED cases (an error in its handler?); the last line "
                    "it wrote during ",
                    first_spoken->case_id, " on ",
                    ContractTransportName(first_spoken->transport), ": ",
                    last_line, "\n");
  }
  // Most cells missed a reply and no cell got one: not one frame the
  // server sent was read.
  if (failed >= 3 && without_a_reply * 2 >= failed && !any_reply) {
    absl::StrAppend(
        &causes,
        "\nLikely cause: no case got a reply frame; the server ends (or "
        "resets) connections without replying. It may not read the "
        "contract's frame: a 4-byte length, big-endian (network byte order), "
        "then that many bytes (docs/SUT_CONTRACT.md, \"Frames\"). A "
        "little-endian reader takes 00 00 00 05 for 83886080, over the 16 "
        "MiB limit, and closes.\n");
  }
  // Transports that passed a case that FAILED elsewhere, and none FAILED.
  std::set<std::string> failed_cases;
  for (const CheckReport::Cell& cell : report.cells) {
    if (cell.result.verdict == Verdict::kFailed)
      failed_cases.insert(cell.case_id);
  }
  std::set<ContractTransport> passing;
  for (const CheckReport::Cell& cell : report.cells) {
    if (cell.result.verdict == Verdict::kOk && !failing.count(cell.transport) &&
        failed_cases.count(cell.case_id)) {
      passing.insert(cell.transport);
    }
  }
  if (failed >= 3 && !passing.empty()) {
    std::vector<std::string> bad, good;
    for (ContractTransport t : failing)
      bad.push_back(std::string(ContractTransportName(t)));
    for (ContractTransport t : passing)
      good.push_back(std::string(ContractTransportName(t)));
    absl::StrAppend(&causes, "\nLikely cause: every FAILED is on ",
                    absl::StrJoin(bad, ", "), "; the same cases pass on ",
                    absl::StrJoin(good, ", "),
                    ": look at how the server serves those address forms.\n");
  }
  return causes;
}

}  // namespace

std::string CheckReport::Matrix() const {
  std::map<std::pair<std::string, int>, const CaseResult*> at;
  for (const Cell& cell : cells)
    at[{cell.case_id, static_cast<int>(cell.transport)}] = &cell.result;
  std::map<std::string, const CaseResult*> cross_at;
  for (const auto& [id, result] : cross) cross_at[id] = &result;
  std::vector<ContractTransport> columns;
  for (const Cell& cell : cells) {
    if (std::find(columns.begin(), columns.end(), cell.transport) ==
        columns.end()) {
      columns.push_back(cell.transport);
    }
  }
  // Fits 100 columns: each verdict column as wide as its widest entry,
  // "abstract" heading unix-abstract (named in full under the table), the
  // case name cut to what is left.
  auto heading = [](ContractTransport kind) {
    return kind == ContractTransport::kUnixAbstract
               ? std::string("abstract")
               : ContractTransportName(kind);
  };
  auto verdict_at = [&](const CaseInfo& info, ContractTransport kind) {
    auto it = at.find({info.id, static_cast<int>(kind)});
    return it == at.end() ? std::string("-") : Short(it->second->verdict);
  };
  auto cross_verdict = [&](const CaseInfo& info) {
    auto it = cross_at.find(info.id);
    return it == cross_at.end() ? std::string("-") : Short(it->second->verdict);
  };
  std::vector<size_t> widths;
  size_t id_width = 4, name_width = 0, cross_width = 6;
  for (ContractTransport kind : columns) widths.push_back(heading(kind).size());
  for (const CaseInfo& info : cases) {
    id_width = std::max(id_width, info.id.size());
    name_width = std::max(name_width, info.name.size());
    cross_width = std::max(cross_width, cross_verdict(info).size());
    for (size_t c = 0; c < columns.size(); ++c)
      widths[c] = std::max(widths[c], verdict_at(info, columns[c]).size());
  }
  size_t fixed = id_width + 1 + cross_width;
  for (size_t width : widths) fixed += width + 2;
  name_width = std::clamp<size_t>(
      kMatrixWidth > fixed + 2 ? kMatrixWidth - fixed - 2 : 0, 12,
      std::max<size_t>(name_width, 12));
  auto line = [&](const std::string& id, const std::string& name,
                  const std::vector<std::string>& verdicts,
                  const std::string& across) {
    std::string text = absl::StrFormat("%-*s %-*s", static_cast<int>(id_width),
                                       id, static_cast<int>(name_width),
                                       name.substr(0, name_width));
    for (size_t c = 0; c < verdicts.size(); ++c)
      absl::StrAppendFormat(&text, "  %-*s", static_cast<int>(widths[c]),
                            verdicts[c]);
    absl::StrAppend(&text, "  ", across);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return absl::StrCat(text, "\n");
  };
  std::vector<std::string> headings;
  for (ContractTransport kind : columns) headings.push_back(heading(kind));
  std::string out = line("case", "", headings, "across");
  for (const CaseInfo& info : cases) {
    std::vector<std::string> verdicts;
    for (ContractTransport kind : columns)
      verdicts.push_back(verdict_at(info, kind));
    absl::StrAppend(&out,
                    line(info.id, info.name, verdicts, cross_verdict(info)));
  }
  if (std::find(columns.begin(), columns.end(),
                ContractTransport::kUnixAbstract) != columns.end()) {
    absl::StrAppend(&out, "(abstract: unix-abstract)\n");
  }
  std::string failures = LikelyCauses(*this);
  std::vector<bool> shown(cells.size(), false);
  for (size_t i = 0; i < cells.size(); ++i) {
    const Cell& cell = cells[i];
    if (cell.result.verdict != Verdict::kFailed || shown[i]) continue;
    const CaseInfo* info = InfoFor(cases, cell.case_id);
    absl::StrAppend(&failures, "\nFAILED ", cell.case_id, " ",
                    info ? info->name : "");
    // A transport whose server did not start fails every case the same
    // way: one line names them all.
    size_t same = i + 1;
    std::vector<std::string> others;
    while (same < cells.size() && cells[same].transport == cell.transport &&
           cells[same].result.verdict == Verdict::kFailed &&
           cells[same].result.reason == cell.result.reason &&
           cells[same].result.wire_log.empty() &&
           cell.result.wire_log.empty() &&
           cells[same].result.server_output.empty() &&
           cell.result.server_output.empty()) {
      others.push_back(cells[same].case_id);
      shown[same] = true;
      ++same;
    }
    if (!others.empty())
      absl::StrAppend(&failures, " (and ", absl::StrJoin(others, ", "), ")");
    // The same case failing the same way on other transports: said once.
    std::vector<std::string> transports = {
        std::string(ContractTransportName(cell.transport))};
    if (others.empty()) {
      for (size_t j = i + 1; j < cells.size(); ++j) {
        if (!shown[j] && SameFailure(cell, cells[j])) {
          transports.push_back(
              std::string(ContractTransportName(cells[j].transport)));
          shown[j] = true;
        }
      }
    }
    absl::StrAppend(&failures, " on ", absl::StrJoin(transports, ", "), ": ",
                    cell.result.reason, "\n");
    if (!cell.result.wire_log.empty()) {
      absl::StrAppend(&failures, "wire log",
                      transports.size() > 1
                          ? absl::StrCat(" (", transports[0], ")")
                          : std::string(),
                      ":\n", cell.result.wire_log);
    }
    if (!cell.result.server_output.empty()) {
      absl::StrAppend(&failures, "the ", subject,
                      "'s output during the case:\n",
                      cell.result.server_output);
    }
    if (!provenance.command.empty()) {
      absl::StrAppend(&failures, "again: ",
                      ReproduceCommand(*this, cell.case_id, transports), "\n");
    }
  }
  // SHOULD clauses missed: said, but not failures unless --strict.
  for (const Cell& cell : cells) {
    if (cell.result.verdict != Verdict::kNonStrict) continue;
    const CaseInfo* info = InfoFor(cases, cell.case_id);
    absl::StrAppend(&failures, "\nNON-STRICT ", cell.case_id, " ",
                    info ? info->name : "", " on ",
                    ContractTransportName(cell.transport), ": ",
                    cell.result.reason, "\n");
    if (!cell.result.wire_log.empty())
      absl::StrAppend(&failures, "wire log:\n", cell.result.wire_log);
  }
  for (const auto& [id, result] : cross) {
    if (result.verdict == Verdict::kFailed) {
      absl::StrAppend(&failures, "\nFAILED ", id,
                      " across transports: ", result.reason, "\n");
    }
  }
  absl::StrAppend(&out, failures);
  if (!not_played.empty()) {
    absl::StrAppend(&out, "\nnot played (\"-\" above):\n");
    for (const std::string& line : not_played)
      absl::StrAppend(&out, "  ", line, "\n");
  }
  if (!notes.empty()) {
    absl::StrAppend(&out, "\nnotes:\n");
    for (const std::string& line : notes)
      absl::StrAppend(&out, "  ", line, "\n");
  }
  if (!perturb.empty()) {
    absl::StrAppend(&out, "\nperturbation: ", absl::StrJoin(perturb, ","),
                    " (libsockparity_perturb.so, seed ", seed, ")\n");
    for (const auto& [kind, why] : perturb_not_in_effect) {
      absl::StrAppend(&out, "PERTURBATION NOT IN EFFECT on ",
                      ContractTransportName(kind), ": ", why,
                      "; its verdicts are for plain I/O\n");
    }
  }
  absl::StrAppend(&out, "\ntotals: ", Totals(*this, ", ", " "), " (seed ", seed,
                  ")\n");
  return out;
}

}  // namespace sockparity
