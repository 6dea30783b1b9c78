#include "sockparity/script/trace_table.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sockparity {

namespace {

// A terminal or a review diff shows 100 columns without wrapping; outcomes
// that differ (poll masks, errno names) make a column per transport wider.
constexpr size_t kMaxWidth = 100;

// Cells padded to each column's widest, two spaces between, no trailing
// blanks.
std::string Layout(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
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

size_t Widest(const std::string& text) {
  size_t widest = 0, start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    widest = std::max(widest, end - start);
    start = end + 1;
  }
  return widest;
}

// Too wide side by side: each step on one line when every transport saw
// the same, else one line per distinct outcome naming its transports.
std::string Grouped(const std::vector<std::vector<std::string>>& rows,
                    const std::vector<std::string>& names) {
  std::vector<std::vector<std::string>> out = {{"#", "step", "outcome", "on"}};
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::vector<std::string>& row = rows[r];
    std::vector<std::string> distinct;
    for (size_t c = 2; c < row.size(); ++c) {
      if (std::find(distinct.begin(), distinct.end(), row[c]) == distinct.end())
        distinct.push_back(row[c]);
    }
    for (size_t d = 0; d < distinct.size(); ++d) {
      std::vector<std::string> on;
      for (size_t c = 2; c < row.size(); ++c) {
        if (row[c] == distinct[d]) on.push_back(names[c - 2]);
      }
      out.push_back({d == 0 ? row[0] : "", d == 0 ? row[1] : "", distinct[d],
                     distinct.size() == 1 ? "all" : absl::StrJoin(on, ", ")});
    }
  }
  return Layout(out);
}

}  // namespace

std::string FormatTracesSideBySide(const Script& script,
                                   const std::vector<Trace>& traces,
                                   bool details) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"#", "step"};
  std::vector<std::string> names;
  for (const Trace& trace : traces) {
    names.emplace_back(TransportName(trace.kind));
    header.push_back(names.back());
  }
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
  std::string side_by_side = Layout(rows);
  if (Widest(side_by_side) <= kMaxWidth) return side_by_side;
  return Grouped(rows, names);
}

}  // namespace sockparity
