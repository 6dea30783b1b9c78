#include "sockparity/script/differences.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "sockparity/script/glob.h"

namespace sockparity {

std::vector<std::string> Difference::Verbs() const {
  std::set<std::string> verbs;
  for (const KindBehaviour& row : behaviour) {
    for (const std::string& pattern : row.outcomes) {
      verbs.insert(pattern.substr(0, pattern.find(':')));
    }
  }
  return {verbs.begin(), verbs.end()};
}

const KindBehaviour* Difference::RowFor(TransportKind kind) const {
  for (const KindBehaviour& row : behaviour) {
    if (std::find(row.kinds.begin(), row.kinds.end(), kind) !=
        row.kinds.end()) {
      return &row;
    }
  }
  return nullptr;
}

bool Difference::Expects(TransportKind kind, absl::string_view verb,
                         absl::string_view outcome) const {
  const KindBehaviour* row = RowFor(kind);
  Verb typed;
  if (row == nullptr || !VerbFromName(verb, &typed)) return false;
  for (const std::string& pattern : row->outcomes) {
    if (internal::CompiledPattern::Compile(pattern, ':')
            .Matches(typed, outcome)) {
      return true;
    }
  }
  return false;
}

std::optional<Observation> Observation::Parse(absl::string_view text) {
  const size_t colon = text.find(':');
  Observation observation;
  if (colon == absl::string_view::npos ||
      !VerbFromName(text.substr(0, colon), &observation.verb)) {
    return std::nullopt;
  }
  observation.outcome = std::string(text.substr(colon + 1));
  return observation;
}

std::string Observation::ToString() const {
  return absl::StrCat(VerbName(verb), ":", outcome);
}

namespace internal {

CompiledPattern CompiledPattern::Compile(absl::string_view pattern,
                                         char separator) {
  const size_t split = pattern.find(separator);
  const absl::string_view verb_glob = pattern.substr(0, split);
  CompiledPattern compiled;
  for (int v = 0; v < kVerbCount; ++v) {
    compiled.verbs[v] = GlobMatch(verb_glob, VerbName(static_cast<Verb>(v)));
  }
  if (split != absl::string_view::npos) {
    compiled.rest = std::string(pattern.substr(split + 1));
  }
  compiled.literal = compiled.rest.find_first_of("*?") == std::string::npos;
  return compiled;
}

bool CompiledPattern::Matches(Verb verb, absl::string_view rest_text) const {
  if (!verbs[static_cast<int>(verb)]) return false;
  return literal ? rest == rest_text : GlobMatch(rest, rest_text);
}

}  // namespace internal

namespace {

// A step's text without its socket name and verb: "4" for "l listen 4".
std::string Arguments(const Step& step) {
  const std::string text = FormatStep(step);
  absl::string_view arguments = absl::string_view(text).substr(
      step.slot.size() + 1 + VerbName(step.verb).size());
  absl::ConsumePrefix(&arguments, " ");
  return std::string(arguments);
}

// "VERB [ARGS]" as a context step is written.
bool MatchesText(const internal::CompiledPattern& pattern,
                 absl::string_view text) {
  const size_t space = text.find(' ');
  Verb verb;
  if (!VerbFromName(text.substr(0, space), &verb)) return false;
  return pattern.Matches(verb, space == absl::string_view::npos
                                   ? absl::string_view()
                                   : text.substr(space + 1));
}

bool RowMatches(const std::vector<internal::CompiledPattern>& row, Verb verb,
                absl::string_view outcome) {
  for (const internal::CompiledPattern& pattern : row) {
    if (pattern.Matches(verb, outcome)) return true;
  }
  return false;
}

}  // namespace

DifferenceRegistry::DifferenceRegistry(std::vector<Difference> entries)
    : entries_(std::move(entries)) {
  compiled_.reserve(entries_.size());
  for (const Difference& entry : entries_) {
    Compiled compiled;
    compiled.row.fill(-1);
    for (size_t r = 0; r < entry.behaviour.size(); ++r) {
      const KindBehaviour& row = entry.behaviour[r];
      for (TransportKind kind : row.kinds) {
        // The first row naming a kind is its row, as in RowFor.
        int& slot = compiled.row[static_cast<size_t>(kind)];
        if (slot < 0) slot = static_cast<int>(r);
      }
      compiled.rows.emplace_back();
      for (const std::string& pattern : row.outcomes) {
        compiled.rows.back().push_back(
            internal::CompiledPattern::Compile(pattern, ':'));
      }
    }
    for (const std::string& pattern : entry.after) {
      compiled.after.push_back(
          internal::CompiledPattern::Compile(pattern, ' '));
    }
    compiled_.push_back(std::move(compiled));
  }
}

const Difference* DifferenceRegistry::Find(absl::string_view id) const {
  for (const Difference& entry : entries_) {
    if (entry.id == id) return &entry;
  }
  return nullptr;
}

std::vector<size_t> DifferenceRegistry::ApplicableFrom(
    const Script& script) const {
  std::vector<size_t> from(entries_.size(), 0);
  // Each step's arguments are formatted at most once, and only for a step
  // whose verb some `after` names.
  std::vector<std::optional<std::string>> arguments(script.steps.size());
  for (size_t e = 0; e < compiled_.size(); ++e) {
    if (compiled_[e].after.empty()) continue;
    from[e] = std::numeric_limits<size_t>::max();
    for (size_t i = 0; i < script.steps.size() && from[e] > i; ++i) {
      const Step& step = script.steps[i];
      for (const internal::CompiledPattern& pattern : compiled_[e].after) {
        if (!pattern.verbs[static_cast<int>(step.verb)]) continue;
        if (!arguments[i]) arguments[i] = Arguments(step);
        if (pattern.Matches(step.verb, *arguments[i])) {
          from[e] = i + 1;
          break;
        }
      }
    }
  }
  return from;
}

const Difference* DifferenceRegistry::AllowingAt(
    Verb verb, TransportKind kind_x, absl::string_view x, TransportKind kind_y,
    absl::string_view y,
    absl::FunctionRef<bool(size_t entry)> triggered) const {
  for (size_t e = 0; e < compiled_.size(); ++e) {
    const Compiled& entry = compiled_[e];
    const int row_x = entry.row[static_cast<size_t>(kind_x)];
    const int row_y = entry.row[static_cast<size_t>(kind_y)];
    // Kinds that the entry says behave alike may not differ through it.
    if (row_x == row_y || row_x < 0 || row_y < 0) continue;
    if (!triggered(e)) continue;
    if (RowMatches(entry.rows[row_x], verb, x) &&
        RowMatches(entry.rows[row_y], verb, y)) {
      return &entries_[e];
    }
  }
  return nullptr;
}

const Difference* DifferenceRegistry::Allowing(
    const Script& script, size_t index, TransportKind kind_x,
    absl::string_view x, TransportKind kind_y, absl::string_view y) const {
  if (index >= script.steps.size()) return nullptr;
  const std::vector<size_t> from = ApplicableFrom(script);
  return AllowingAt(script.steps[index].verb, kind_x, x, kind_y, y,
                    [&](size_t e) { return from[e] <= index; });
}

const Difference* DifferenceRegistry::Allowing(
    TransportKind kind_x, const Observation& x, TransportKind kind_y,
    const Observation& y, absl::Span<const std::string> context) const {
  if (x.verb != y.verb) return nullptr;
  return AllowingAt(x.verb, kind_x, x.outcome, kind_y, y.outcome,
                    [&](size_t e) {
                      const std::vector<internal::CompiledPattern>& after =
                          compiled_[e].after;
                      if (after.empty()) return true;
                      for (const std::string& text : context) {
                        for (const internal::CompiledPattern& pattern : after) {
                          if (MatchesText(pattern, text)) return true;
                        }
                      }
                      return false;
                    });
}

namespace {

std::string KindList(const std::vector<TransportKind>& kinds) {
  std::vector<std::string> names;
  for (TransportKind kind : kinds) names.emplace_back(TransportName(kind));
  return absl::StrJoin(names, ", ");
}

}  // namespace

std::string DifferenceRegistry::Markdown() const {
  std::string out =
      "# Documented differences between transports\n\n"
      "Generated by `sockparity differences --markdown` from the registry in\n"
      "`harness/src/registry.cc`; do not edit by hand. Each entry is the only\n"
      "way the traces of one script on two transport kinds may differ, and\n"
      "each is confirmed by the test `DifferenceConfirmation.Entry/<id>`,\n"
      "which replays the entry's witness script from `corpus/scripts/` on\n"
      "every kind. Outcomes are written `verb:outcome`.\n\n";
  absl::StrAppend(&out, "| id | statement |\n| --- | --- |\n");
  for (const Difference& entry : entries_) {
    absl::StrAppend(&out, "| [`", entry.id, "`](#", entry.id, ") | ",
                    entry.statement, " |\n");
  }
  for (const Difference& entry : entries_) {
    absl::StrAppend(&out, "\n## ", entry.id, "\n\n", entry.statement, "\n\n",
                    "- Source: ", entry.source, "\n",
                    "- Steps: ", absl::StrJoin(entry.Verbs(), ", "), "\n",
                    "- Witness: `corpus/scripts/", entry.witness, ".script`\n");
    if (!entry.after.empty()) {
      absl::StrAppend(&out, "- Applies after a step: `",
                      absl::StrJoin(entry.after, "`, `"), "`\n");
    }
    if (entry.affects_received_data) {
      absl::StrAppend(&out, "- The bytes a socket receives may differ too.\n");
    }
    absl::StrAppend(
        &out, "\n| kinds | what they do | outcomes |\n| --- | --- | --- |\n");
    for (const KindBehaviour& row : entry.behaviour) {
      std::vector<std::string> outcomes;
      for (const std::string& pattern : row.outcomes) {
        outcomes.push_back(absl::StrCat("`", pattern, "`"));
      }
      absl::StrAppend(&out, "| ", KindList(row.kinds), " | ", row.description,
                      " | ", absl::StrJoin(outcomes, ", "), " |\n");
    }
  }
  return out;
}

std::string DifferenceRegistry::Text() const {
  std::string out;
  for (const Difference& entry : entries_) {
    absl::StrAppend(&out, entry.id, "\n  ", entry.statement,
                    "\n  source: ", entry.source,
                    "\n  witness: corpus/scripts/", entry.witness, ".script\n");
    for (const KindBehaviour& row : entry.behaviour) {
      absl::StrAppend(&out, "  ", KindList(row.kinds), ": ", row.description,
                      " (", absl::StrJoin(row.outcomes, ", "), ")\n");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string Comparison::Describe() const {
  switch (verdict) {
    case Verdict::kEqual:
      return "equal";
    case Verdict::kEqualApartFrom:
      return absl::StrCat("equal apart from ", absl::StrJoin(entries, ", "));
    case Verdict::kDiverged:
      return absl::StrCat("diverged: ", reason);
  }
  return "?";
}

Comparison CompareTraces(const Script& script, const Trace& x, const Trace& y,
                         const DifferenceRegistry& registry) {
  Comparison result;
  bool data_allowed = false;
  std::optional<std::vector<size_t>> from;
  auto diverge = [&](int step, std::string reason) {
    result.verdict = Comparison::Verdict::kDiverged;
    result.step = step;
    result.reason = std::move(reason);
    return result;
  };
  const size_t steps = std::min(x.steps.size(), y.steps.size());
  if (x.steps.size() != y.steps.size() || steps != script.steps.size()) {
    return diverge(
        static_cast<int>(steps),
        absl::StrFormat("traces have %d and %d steps for a script of %d",
                        x.steps.size(), y.steps.size(), script.steps.size()));
  }
  for (size_t i = 0; i < steps; ++i) {
    const std::string& a = x.steps[i].outcome;
    const std::string& b = y.steps[i].outcome;
    if (a == b) continue;
    // Most pairs agree everywhere: the triggers are found only once needed.
    if (!from) from = registry.ApplicableFrom(script);
    const Difference* entry =
        registry.AllowingAt(script.steps[i].verb, x.kind, a, y.kind, b,
                            [&](size_t e) { return (*from)[e] <= i; });
    if (entry == nullptr) {
      return diverge(
          static_cast<int>(i),
          absl::StrFormat("step %d '%s': %s gives %s, %s gives %s", i + 1,
                          FormatStep(script.steps[i]), TransportName(x.kind), a,
                          TransportName(y.kind), b));
    }
    data_allowed |= entry->affects_received_data;
    if (std::find(result.entries.begin(), result.entries.end(), entry->id) ==
        result.entries.end()) {
      result.entries.push_back(entry->id);
    }
  }
  std::set<std::string> sockets;
  for (const auto& [name, digest] : x.received) sockets.insert(name);
  for (const auto& [name, digest] : y.received) sockets.insert(name);
  for (const std::string& name : sockets) {
    auto in_x = x.received.find(name);
    auto in_y = y.received.find(name);
    std::string got_x = in_x == x.received.end() ? "nothing" : in_x->second;
    std::string got_y = in_y == y.received.end() ? "nothing" : in_y->second;
    if (got_x == got_y || data_allowed) continue;
    return diverge(-1, absl::StrFormat("%s received %s on %s but %s on %s",
                                       name, got_x, TransportName(x.kind),
                                       got_y, TransportName(y.kind)));
  }
  if (!result.entries.empty()) {
    result.verdict = Comparison::Verdict::kEqualApartFrom;
  }
  return result;
}

}  // namespace sockparity
