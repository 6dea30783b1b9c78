// The registry of documented differences: each entry confirmed by its
// witness script on every kind, every corpus script explained by the
// registry and nothing else, and the comparison able to fail.
#include "sockparity/script/differences.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "comparison_util.h"
#include "sockparity/script/differential.h"
#include "sockparity/script/runner.h"
#include "sockparity/script/script.h"
#include "test_util.h"

namespace sockparity {
void PrintTo(const Difference& entry, std::ostream* out) { *out << entry.id; }
}  // namespace sockparity

namespace sockparity::testing {
namespace {

using ::testing::HasSubstr;

std::string ScriptPath(absl::string_view name) {
  return absl::StrCat(SOCKPARITY_CORPUS_DIR, "/scripts/", name, ".script");
}

absl::StatusOr<Script> LoadScript(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseScript(text.str());
}

std::vector<std::string> CorpusScripts() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(
           absl::StrCat(SOCKPARITY_CORPUS_DIR, "/scripts"))) {
    if (entry.path().extension() == ".script") {
      names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Each entry's witness, run on every kind, shows exactly what the entry
// says: at each step the entry covers, every kind's outcome is one its row
// lists, and kinds in different rows really differ somewhere.
class DifferenceConfirmation : public ::testing::TestWithParam<Difference> {};

TEST_P(DifferenceConfirmation, Entry) {
  const Difference& entry = GetParam();
  SP_ASSERT_OK_AND_ASSIGN(Script script, LoadScript(ScriptPath(entry.witness)));
  const std::vector<std::string> verbs = entry.Verbs();
  const DifferentialRun run =
      RunDifferential(script, AvailableTransportKinds());
  ASSERT_THAT(run.skipped, ::testing::IsEmpty());
  const std::vector<Trace>& traces = run.traces;
  bool shown = false;
  for (size_t i = 0; i < script.steps.size(); ++i) {
    const std::string verb(VerbName(script.steps[i].verb));
    const bool covered =
        std::find(verbs.begin(), verbs.end(), verb) != verbs.end() ||
        std::find(verbs.begin(), verbs.end(), "*") != verbs.end();
    if (!covered) continue;
    for (const Trace& trace : traces) {
      if (trace.steps[i].outcome == "skipped") {
        GTEST_SKIP() << "step " << i + 1 << " was skipped on "
                     << TransportName(trace.kind) << ": "
                     << trace.steps[i].detail;
      }
    }
    std::set<const KindBehaviour*> rows_here;
    std::set<std::string> outcomes_here;
    for (const Trace& trace : traces) {
      const std::string& outcome = trace.steps[i].outcome;
      const KindBehaviour* row = entry.RowFor(trace.kind);
      if (row == nullptr) continue;
      if (!entry.Expects(trace.kind, verb, outcome)) {
        // A step that does not exist on this kind (socketpair has no
        // address to connect to, a connect refused there made no socket)
        // says nothing about the entry.
        if (outcome == "n/a" || outcome == "no-socket") continue;
        // Outcomes equal across every kind the entry describes are not its
        // business (a kind without a row, as socketpair for an address
        // entry, may give n/a there).
        bool all_equal = true;
        for (const Trace& other : traces) {
          if (entry.RowFor(other.kind) == nullptr) continue;
          all_equal &= other.steps[i].outcome == outcome;
        }
        if (all_equal) continue;
        ADD_FAILURE() << entry.id << ": step " << i + 1 << " '"
                      << FormatStep(script.steps[i]) << "' gives " << outcome
                      << " on " << TransportName(trace.kind)
                      << ", which the entry does not list for it";
      }
      rows_here.insert(row);
      outcomes_here.insert(outcome);
    }
    shown |= rows_here.size() > 1 && outcomes_here.size() > 1;
  }
  EXPECT_TRUE(shown) << entry.id << ": its witness " << entry.witness
                     << " shows no difference between the kinds it contrasts";
}

INSTANTIATE_TEST_SUITE_P(
    Registry, DifferenceConfirmation,
    ::testing::ValuesIn(DifferenceRegistry::Default().entries().begin(),
                        DifferenceRegistry::Default().entries().end()),
    [](const ::testing::TestParamInfo<Difference>& info) {
      return info.param.id;
    });

// Every corpus script, on every kind: traces are the same on a second run,
// and any two kinds are equal or differ only through registry entries.
class CorpusReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(CorpusReplay, Script) {
  // Under the perturbation library (Perturb.CorpusReplayInProcess), a
  // script whose kernel state depends on the sizes of its writes says so.
  if (std::getenv("SOCKPARITY_PERTURB") != nullptr) {
    std::ifstream in(ScriptPath(GetParam()));
    for (std::string line; std::getline(in, line);) {
      if (absl::StartsWith(line, "# not-under-perturbation:"))
        GTEST_SKIP() << GetParam() << ": " << line;
    }
  }
  SP_ASSERT_OK_AND_ASSIGN(Script script, LoadScript(ScriptPath(GetParam())));
  const std::vector<TransportKind> kinds = AvailableTransportKinds();
  const DifferentialRun first = RunDifferential(script, kinds);
  const DifferentialRun second = RunDifferential(script, kinds);
  ASSERT_THAT(first.skipped, ::testing::IsEmpty());
  ASSERT_THAT(second.skipped, ::testing::IsEmpty());
  for (size_t k = 0; k < kinds.size(); ++k) {
    const Trace& one = first.traces[k];
    const Trace& two = second.traces[k];
    for (size_t i = 0; i < one.steps.size() && i < two.steps.size(); ++i) {
      EXPECT_EQ(one.steps[i].outcome, two.steps[i].outcome)
          << TransportName(one.kind) << " step " << i + 1 << " '"
          << FormatStep(script.steps[i]) << "' is not the same every run";
    }
    EXPECT_EQ(one.received, two.received) << TransportName(one.kind);
  }
  for (const PairComparison& pair : first.pairs) {
    EXPECT_NE(pair.comparison.verdict, Comparison::Verdict::kDiverged)
        << TransportName(pair.x) << " vs " << TransportName(pair.y) << ": "
        << pair.comparison.Describe() << "\n"
        << FormatDivergence(script, first);
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, CorpusReplay,
                         ::testing::ValuesIn(CorpusScripts()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(RegistryTest, EntriesAreWellFormed) {
  std::set<std::string> ids;
  for (const Difference& entry : DifferenceRegistry::Default().entries()) {
    EXPECT_TRUE(ids.insert(entry.id).second) << "duplicate id " << entry.id;
    EXPECT_FALSE(entry.statement.empty()) << entry.id;
    EXPECT_FALSE(entry.source.empty()) << entry.id;
    EXPECT_GE(entry.behaviour.size(), 2u) << entry.id << " contrasts nothing";
    EXPECT_TRUE(std::filesystem::exists(ScriptPath(entry.witness)))
        << entry.id << ": no witness " << ScriptPath(entry.witness);
    // A pattern naming no verb would silently allow nothing.
    for (const KindBehaviour& row : entry.behaviour) {
      for (const std::string& pattern : row.outcomes) {
        EXPECT_NE(pattern.find(':'), std::string::npos) << entry.id;
        EXPECT_TRUE(
            internal::CompiledPattern::Compile(pattern, ':').verbs.any())
            << entry.id << ": '" << pattern << "' names no verb";
      }
    }
    for (const std::string& pattern : entry.after) {
      EXPECT_TRUE(internal::CompiledPattern::Compile(pattern, ' ').verbs.any())
          << entry.id << ": after '" << pattern << "' names no verb";
    }
    std::set<TransportKind> seen;
    for (const KindBehaviour& row : entry.behaviour) {
      for (TransportKind kind : row.kinds) {
        EXPECT_TRUE(seen.insert(kind).second)
            << entry.id << ": " << TransportName(kind) << " is in two rows";
      }
    }
  }
}

// Compare (comparison_util.h) parses each script and compares, as every
// test of the comparison does.
TEST(CompareTest, UnexplainedDifferenceDivergesAtItsStep) {
  const Comparison comparison =
      Compare("a pair b\na send 1\nb recv 1\n",
              MakeTrace(TransportKind::kUnixPath, {"ok", "ok", "data"}),
              MakeTrace(TransportKind::kTcp4, {"ok", "ok", "ECONNRESET"}),
              DifferenceRegistry::Default());
  EXPECT_EQ(comparison.verdict, Comparison::Verdict::kDiverged);
  EXPECT_EQ(comparison.step, 2);
  EXPECT_THAT(
      comparison.reason,
      HasSubstr("step 3 'b recv 1': unix gives data, tcp4 gives ECONNRESET"));
}

TEST(CompareTest, EntryExplainsOnlyWhatItSaysAndOnlyAfterItsTrigger) {
  const Difference* entry =
      DifferenceRegistry::Default().Find("linger_zero_resets_only_tcp");
  ASSERT_NE(entry, nullptr);
  const char* with_abort = "a pair b\na abort\nb so-error\n";
  const Trace unix = MakeTrace(TransportKind::kSocketpair, {"ok", "ok", "0"});
  const Trace tcp = MakeTrace(TransportKind::kTcp6, {"ok", "ok", "ECONNRESET"});
  const Comparison allowed =
      Compare(with_abort, unix, tcp, DifferenceRegistry::Default());
  EXPECT_EQ(allowed.verdict, Comparison::Verdict::kEqualApartFrom);
  EXPECT_EQ(allowed.entries, std::vector<std::string>{entry->id});

  // The same outcomes without an abort before them are a finding.
  EXPECT_EQ(Compare("a pair b\na close\nb so-error\n", unix, tcp,
                    DifferenceRegistry::Default())
                .verdict,
            Comparison::Verdict::kDiverged);
  // Two kinds the entry puts in one row may not differ through it.
  const Trace tcp4 = MakeTrace(TransportKind::kTcp4, {"ok", "ok", "0"});
  EXPECT_EQ(
      Compare(with_abort, tcp4, tcp, DifferenceRegistry::Default()).verdict,
      Comparison::Verdict::kDiverged);
}

// A registry with a wrong entry (it claims UNIX sockets deliver no
// descriptor) fails the comparison of the real traces.
TEST(CompareTest, WrongEntryIsCaughtByTheRealTraces) {
  DifferenceRegistry wrong(
      {{.id = "wrong_scm_rights",
        .statement = "claims UNIX drops descriptors",
        .source = "nowhere",
        .behaviour =
            {{{TransportKind::kSocketpair}, "no descriptor", {"recv-fd:no-fd"}},
             {{TransportKind::kTcp4}, "descriptor", {"recv-fd:fd"}}},
        .witness = "scm_rights"}});
  SP_ASSERT_OK_AND_ASSIGN(Script script, LoadScript(ScriptPath("scm_rights")));
  const std::vector<TransportKind> kinds = {TransportKind::kSocketpair,
                                            TransportKind::kTcp4};
  const DifferentialRun run = RunDifferential(script, kinds, wrong);
  ASSERT_THAT(run.skipped, ::testing::IsEmpty());
  EXPECT_TRUE(run.diverged());
  const std::vector<PairComparison> right =
      CompareEveryPair(script, run.traces);
  ASSERT_EQ(right.size(), 1u);
  EXPECT_EQ(right[0].comparison.verdict, Comparison::Verdict::kEqualApartFrom);
}

TEST(CompareTest, ReceivedBytesAreComparedAsStreams) {
  SP_ASSERT_OK_AND_ASSIGN(Script script, ParseScript("a pair b\n"));
  Trace x = MakeTrace(TransportKind::kUnixPath, {"ok"});
  Trace y = MakeTrace(TransportKind::kTcp4, {"ok"});
  x.received["b"] = "10 bytes fnv1a64=1";
  y.received["b"] = "10 bytes fnv1a64=2";
  Comparison comparison =
      CompareTraces(script, x, y, DifferenceRegistry::Default());
  EXPECT_EQ(comparison.verdict, Comparison::Verdict::kDiverged);
  EXPECT_THAT(comparison.reason, HasSubstr("b received"));
}

TEST(ObservationTest, ParsesVerbAndOutcome) {
  const std::optional<Observation> seen = Observation::Parse("sockname:path:x");
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->verb, Verb::kSockname);
  EXPECT_EQ(seen->outcome, "path:x");
  EXPECT_EQ(seen->ToString(), "sockname:path:x");
  EXPECT_FALSE(Observation::Parse("(nothing)").has_value());
  EXPECT_FALSE(Observation::Parse("bytes:3:abc").has_value());
}

// The overload for callers without a script (the peer check): the same
// entry, with the steps before given as text.
TEST(CompareTest, AllowingTakesTypedObservationsAndContext) {
  const DifferenceRegistry& registry = DifferenceRegistry::Default();
  const Observation eof{Verb::kRecv, "eof"};
  const Observation reset{Verb::kRecv, "ECONNRESET"};
  const Difference* entry = registry.Allowing(
      TransportKind::kUnixPath, eof, TransportKind::kTcp4, reset, {"abort"});
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->id, "linger_zero_resets_only_tcp");
  EXPECT_EQ(registry.Allowing(TransportKind::kUnixPath, eof,
                              TransportKind::kTcp4, reset, {"close"}),
            nullptr);
  EXPECT_EQ(
      registry.Allowing(TransportKind::kUnixPath, eof, TransportKind::kTcp4,
                        Observation{Verb::kSend, "ECONNRESET"}, {"abort"}),
      nullptr);
  // An `after` with arguments: "listen *" matches "listen 4".
  const Observation refused{Verb::kConnectNb, "EAGAIN"};
  const Observation pending{Verb::kConnectNb, "EINPROGRESS"};
  EXPECT_NE(registry.Allowing(TransportKind::kUnixPath, refused,
                              TransportKind::kTcp6, pending, {"listen 4"}),
            nullptr);
}

TEST(DifferentialTest, PrefixStopsAtTheEarliestDivergence) {
  SP_ASSERT_OK_AND_ASSIGN(
      Script script,
      ParseScript("a pair b\na send 1\nb recv 1\nb nodelay\na close\n"));
  DifferentialRun run;
  run.traces = {
      MakeTrace(TransportKind::kUnixPath, {"ok", "ok", "data", "x", "ok"}),
      MakeTrace(TransportKind::kTcp4, {"ok", "ok", "data", "y", "ok"}),
      MakeTrace(TransportKind::kTcp6, {"ok", "ok", "eof", "y", "ok"})};
  run.pairs = CompareEveryPair(script, run.traces);
  ASSERT_TRUE(run.diverged());
  EXPECT_EQ(run.first_divergence()->y, TransportKind::kTcp4);
  std::optional<Script> prefix = run.ShortestDivergingPrefix(script);
  ASSERT_TRUE(prefix.has_value());
  EXPECT_EQ(FormatScript(*prefix), "a pair b\na send 1\nb recv 1\n");
  const std::string shown = FormatDifferentialRun(script, run, false);
  EXPECT_THAT(shown, HasSubstr("unix vs tcp4: diverged: step 4"));
  EXPECT_THAT(shown, HasSubstr("--transport unix,tcp4):\na pair b\n"));
  EXPECT_THAT(shown, HasSubstr("verdict: DIVERGED"));
  EXPECT_THAT(FormatDivergence(script, run),
              HasSubstr("corpus/scripts/ and run 'sockparity replay FILE'):\n"
                        "a pair b\na send 1\nb recv 1\n"));

  DifferentialRun agreeing;
  agreeing.traces = {run.traces[1], run.traces[1]};
  agreeing.traces[1].kind = TransportKind::kTcp6;
  agreeing.pairs = CompareEveryPair(script, agreeing.traces);
  EXPECT_FALSE(agreeing.diverged());
  EXPECT_FALSE(agreeing.ShortestDivergingPrefix(script).has_value());
  EXPECT_THAT(FormatDifferentialRun(script, agreeing, false),
              HasSubstr("verdict: OK"));
}

// A script's bytes arrive as the same stream however reads split them.
TEST(TraceTest, SplitReadsGiveTheSameStream) {
  SP_ASSERT_OK_AND_ASSIGN(
      Script whole,
      ParseScript("a pair b\na send 1000\nb recv-exactly 1000\n"));
  SP_ASSERT_OK_AND_ASSIGN(
      Script split,
      ParseScript(
          "a pair b\na send 1000\nb recv 1\nb recv 10\nb recv-exactly 989\n"));
  for (TransportKind kind : AvailableTransportKinds()) {
    SP_ASSERT_OK_AND_ASSIGN(Trace one, RunScript(whole, kind));
    SP_ASSERT_OK_AND_ASSIGN(Trace many, RunScript(split, kind));
    EXPECT_EQ(one.received, many.received) << TransportName(kind);
    EXPECT_EQ(one.received.at("b").substr(0, 10), "1000 bytes");
  }
}

}  // namespace
}  // namespace sockparity::testing
