#include "sockparity/script/trace_table.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sockparity {

std::string FormatTracesSideBySide(const Script& script,
                                   const std::vector<Trace>& traces,
                                   bool details) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"#", "step"};
  for (const Trace& trace : traces)
    header.emplace_back(TransportName(trace.kind));
  rows.push_back(header);
  for (size_t i = 0; i < script.steps.size(); ++i) {
    std::vector<std::string> row = {absl::StrCat(i + 1),
                                    FormatStep(script.steps[i])};
    for (const Trace& trace : traces) {
      if (i >= trace.steps.size()) {
        row.emplace_back("-");
        continue;
      }
      const StepOutcome& step = trace.steps[i];
      row.push_back(details && !step.detail.empty()
                        ? absl::StrCat(step.outcome, " [", step.detail, "]")
                        : step.outcome);
    }
    rows.push_back(row);
  }
  std::set<std::string> sockets;
  for (const Trace& trace : traces) {
    for (const auto& [name, digest] : trace.received) sockets.insert(name);
  }
  for (const std::string& name : sockets) {
    std::vector<std::string> row = {"", absl::StrCat(name, " received")};
    for (const Trace& trace : traces) {
      auto it = trace.received.find(name);
      row.push_back(it == trace.received.end() ? "nothing" : it->second);
    }
    rows.push_back(row);
  }
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      absl::StrAppend(&line, row[c],
                      std::string(widths[c] - row[c].size() + 2, ' '));
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

}  // namespace sockparity
