// Helpers for the tests of the comparison and the registry's scopes: traces
// made from outcomes alone, and the check that an entry explains a
// difference only where its trigger reaches.
#ifndef SOCKPARITY_TESTS_COMPARISON_UTIL_H_
#define SOCKPARITY_TESTS_COMPARISON_UTIL_H_

#include <string>
#include <vector>

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

}  // namespace sockparity::testing

#endif  // SOCKPARITY_TESTS_COMPARISON_UTIL_H_
