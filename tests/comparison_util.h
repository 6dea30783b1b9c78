// Helpers for the tests of the comparison and the registry's scopes: traces
// made from outcomes alone, and the check that an entry explains a
// difference only where its trigger reaches.
#ifndef SOCKPARITY_TESTS_COMPARISON_UTIL_H_
#define SOCKPARITY_TESTS_COMPARISON_UTIL_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sockparity/script/differences.h"
#include "sockparity/script/script.h"
#include "test_util.h"

namespace sockparity::testing {

inline Trace MakeTrace(TransportKind kind, std::vector<std::string> outcomes) {
  Trace trace;
  trace.kind = kind;
  for (std::string& outcome : outcomes) trace.steps.push_back({outcome, ""});
  return trace;
}

inline DifferenceRegistry Without(std::vector<std::string> ids) {
  absl::StatusOr<DifferenceRegistry> registry =
      DifferenceRegistry::Default().Without(ids);
  EXPECT_TRUE(registry.ok()) << registry.status();
  return *std::move(registry);
}

inline Comparison Compare(absl::string_view text, const Trace& x,
                          const Trace& y, const DifferenceRegistry& registry) {
  absl::StatusOr<Script> script = ParseScript(text);
  EXPECT_TRUE(script.ok()) << script.status();
  return CompareTraces(*script, x, y, registry);
}

// One entry's witness outcomes under two scripts: the trigger away from
// the sockets the last step is on (a finding), and on them (explained by
// `entry`, the last entry the comparison names: earlier steps may need the
// entries that explain the trigger's own outcome).
struct ScopeCase {
  std::string elsewhere;
  std::string here;
  std::string entry;
  TransportKind kind;  // compared with kTcp4
  std::vector<std::string> kind_outcomes;
  std::vector<std::string> tcp_outcomes;
};

// A ScopeCase written once: the two scripts differ in one place alone, so
// `script` writes it `{elsewhere|here}`, and the outcomes are
// space-separated. A script without that place gives the same script twice,
// which no comparison can both find and explain: the case fails, not hides.
inline ScopeCase Witness(TransportKind kind, std::string entry,
                         absl::string_view script,
                         absl::string_view kind_outcomes,
                         absl::string_view tcp_outcomes) {
  std::string elsewhere(script);
  std::string here(script);
  const size_t open = script.find('{');
  const size_t bar = script.find('|', open);
  const size_t close = script.find('}', bar);
  if (close != absl::string_view::npos) {
    const absl::string_view before = script.substr(0, open);
    const absl::string_view after = script.substr(close + 1);
    elsewhere =
        absl::StrCat(before, script.substr(open + 1, bar - open - 1), after);
    here = absl::StrCat(before, script.substr(bar + 1, close - bar - 1), after);
  }
  return ScopeCase{std::move(elsewhere),
                   std::move(here),
                   std::move(entry),
                   kind,
                   absl::StrSplit(kind_outcomes, ' '),
                   absl::StrSplit(tcp_outcomes, ' ')};
}

inline void ExpectOnlyWhereTheTriggerReaches(const ScopeCase& c) {
  const Trace x = MakeTrace(c.kind, c.kind_outcomes);
  const Trace tcp = MakeTrace(TransportKind::kTcp4, c.tcp_outcomes);
  const Comparison elsewhere =
      Compare(c.elsewhere, x, tcp, DifferenceRegistry::Default());
  EXPECT_EQ(elsewhere.verdict, Comparison::Verdict::kDiverged)
      << elsewhere.Describe();
  const Comparison here =
      Compare(c.here, x, tcp, DifferenceRegistry::Default());
  EXPECT_EQ(here.verdict, Comparison::Verdict::kEqualApartFrom)
      << here.Describe();
  ASSERT_FALSE(here.entries.empty());
  EXPECT_EQ(here.entries.back(), c.entry);
}

// `trace` with the outcomes of some steps (by index) replaced: the control
// of a test, the same traces but where what the entry explains is gone.
inline Trace WithOutcomes(Trace trace,
                          const std::map<int, std::string>& outcomes) {
  for (const auto& [step, outcome] : outcomes) {
    trace.steps[step].outcome = outcome;
  }
  return trace;
}

// `trace` where `socket` received bytes with this digest.
inline Trace WithReceived(Trace trace, const std::string& socket,
                          std::string received) {
  trace.received[socket] = std::move(received);
  return trace;
}

struct ExplainedAndControl {
  Comparison explained;
  Comparison control;
};

// The default registry explains `x` against `y` under `script`, and not
// `x_control` against `y_control`, the same traces with the explained
// difference moved or a new one added: most tests of the comparison pair a
// difference with the control that shows the entry is what explains it.
// Both comparisons are returned for what a test checks beyond the verdicts.
inline ExplainedAndControl ExpectExplainedButNotTheControl(
    absl::string_view script, const Trace& x, const Trace& y,
    const Trace& x_control, const Trace& y_control) {
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  ExplainedAndControl both{Compare(script, x, y, registry),
                           Compare(script, x_control, y_control, registry)};
  EXPECT_EQ(both.explained.verdict, Comparison::Verdict::kEqualApartFrom)
      << both.explained.Describe();
  EXPECT_EQ(both.control.verdict, Comparison::Verdict::kDiverged)
      << both.control.Describe();
  return both;
}

// The default registry explains `x` against `y` under `explained`, and not
// under any of `controls`: the same outcomes after the trigger moved to
// another socket or left out, which no entry may explain. Returns the
// explained comparison for what a test checks beyond its verdict.
inline Comparison ExpectExplainedOnlyUnder(
    const Trace& x, const Trace& y, absl::string_view explained,
    const std::vector<std::string>& controls) {
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  Comparison comparison = Compare(explained, x, y, registry);
  EXPECT_EQ(comparison.verdict, Comparison::Verdict::kEqualApartFrom)
      << comparison.Describe();
  for (const std::string& control : controls) {
    const Comparison diverged = Compare(control, x, y, registry);
    EXPECT_EQ(diverged.verdict, Comparison::Verdict::kDiverged)
        << control << diverged.Describe();
  }
  return comparison;
}

// The received-bytes control: `x` and `y` (whose received bytes differ
// where an entry allows it) explained under `script`, and not once `other`,
// a socket no trigger touched, received differently on each too.
inline ExplainedAndControl ExpectReceivedMayDifferOnlyWhereAllowed(
    absl::string_view script, const Trace& x, const Trace& y,
    const std::string& other, std::string x_received, std::string y_received) {
  ExplainedAndControl both = ExpectExplainedButNotTheControl(
      script, x, y, WithReceived(x, other, std::move(x_received)),
      WithReceived(y, other, std::move(y_received)));
  EXPECT_THAT(both.control.reason,
              ::testing::HasSubstr(absl::StrCat(other, " received")));
  return both;
}

}  // namespace sockparity::testing

#endif  // SOCKPARITY_TESTS_COMPARISON_UTIL_H_
