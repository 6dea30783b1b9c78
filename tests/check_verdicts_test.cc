// What `sockparity check` decides, read from its JSON report: correct
// servers get no FAILED, each broken server is caught by the case meant for
// it, on the transport where the bug is, for the right reason (the
// reason's key facts), and the run's options (case filters, --fail-fast,
// --strict, --perturb) shape the report as documented.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "command_run.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity {
namespace {

using ::sockparity::testing::CheckRun;
using ::testing::HasSubstr;
using ::testing::Not;

class CheckVerdicts : public testing::CheckTest {};

// No FAILED and no NON-STRICT: what a correct server gets.
void ExpectPasses(const CheckRun& run) {
  EXPECT_EQ(run.outcome.exit_status, 0) << run.outcome.output.substr(0, 4000);
  ASSERT_TRUE(run.report.is_object()) << run.outcome.output.substr(0, 4000);
  EXPECT_EQ(run.Total("FAILED"), 0) << run.Failed();
  EXPECT_EQ(run.Total("NON-STRICT"), 0);
  EXPECT_GT(run.Total("OK"), 0);
}

TEST_F(CheckVerdicts, ReferenceServerPassesEveryCase) {
  ExpectPasses(Check({"--", SOCKPARITY_REFERENCE_SERVER}));
}

#ifdef SOCKPARITY_ASIO_SERVER
TEST_F(CheckVerdicts, AsioServerPassesEveryCase) {
  ExpectPasses(Check({"--", SOCKPARITY_ASIO_SERVER}));
}
#endif
#ifdef SOCKPARITY_LIBUV_SERVER
TEST_F(CheckVerdicts, LibuvServerPassesEveryCase) {
  ExpectPasses(Check({"--", SOCKPARITY_LIBUV_SERVER}));
}
#endif

// The loop server without a bug passes every case on every transport.
TEST_F(CheckVerdicts, LoopServerWithoutABugPassesEveryCase) {
  ExpectPasses(Check({"--", SOCKPARITY_BROKEN_LOOP_SERVER, "--bug", "none"}));
}

// The threaded broken server without a bug, on the cases its bugs are
// meant for: the default timeout, since a sanitizer build of the server can
// be slower than the broken servers' 3 s allow.
TEST_F(CheckVerdicts, BrokenServerWithoutABugPasses) {
  ExpectPasses(Check({"--cases", "1.*,5.*,6.*,7.*,8.*,9.4,10.*,11.*,13.*",
                      "--transport", "unix,unix-abstract,tcp4", "--",
                      SOCKPARITY_BROKEN_SERVER, "--bug", "none"}));
}

// A correct server that opens a descriptor that is not a socket at its
// 10th connection and keeps it (a log, a cache, a pool's timer) has not
// leaked one: 8.3 counts the connections' sockets exactly, and the other
// descriptors only for a growth over the cycles.
TEST_F(CheckVerdicts, DescriptorOpenedOnFirstNeedIsNoLeak) {
  const CheckRun run =
      Check({"--cases", "8.3", "--transport", "unix,tcp4", "--",
             SOCKPARITY_BROKEN_SERVER, "--bug", "lazy-fd"});
  ExpectPasses(run);
  EXPECT_EQ(run.Verdict("8.3", "unix"), "OK");
  EXPECT_EQ(run.Verdict("8.3", "tcp4"), "OK");
}

// What the server wrote while a case ran is in that case's FAILED result,
// whether the server serves on (a handler's error) or ends; and the end is
// blamed on the case during which it came, in every run.
TEST_F(CheckVerdicts, AFailedCaseCarriesTheServerOutput) {
  const CheckRun serves_on = Check(
      {"--cases", "1.1,1.2", "--transport", "unix,tcp4", "--timeout", "3s",
       "--", SOCKPARITY_BROKEN_SERVER, "--bug", "throws-on-second-frame"});
  for (const char* transport : {"unix", "tcp4"}) {
    EXPECT_EQ(serves_on.Verdict("1.1", transport), "OK") << transport;
    EXPECT_EQ(serves_on.ServerOutput("1.1", transport), "") << transport;
    EXPECT_EQ(serves_on.Verdict("1.2", transport), "FAILED") << transport;
    EXPECT_THAT(serves_on.ServerOutput("1.2", transport),
                HasSubstr("[stderr]\nTraceback: handler error"))
        << transport;
    // Only what came during the case: not the 'ready' of the start.
    EXPECT_THAT(serves_on.ServerOutput("1.2", transport),
                Not(HasSubstr("ready")))
        << transport;
  }
  const CheckRun ends = Check(
      {"--cases", "1.1,1.2", "--transport", "unix,tcp4", "--timeout", "3s",
       "--", SOCKPARITY_BROKEN_SERVER, "--bug", "exits-on-second-frame"});
  for (const char* transport : {"unix", "tcp4"}) {
    EXPECT_EQ(ends.Verdict("1.2", transport), "FAILED") << transport;
    EXPECT_THAT(ends.Reason("1.2", transport),
                HasSubstr("it ended during the case: exit status 3"))
        << transport;
    EXPECT_THAT(ends.ServerOutput("1.2", transport),
                HasSubstr("[stderr]\nfatal: giving up after the first frame"))
        << transport;
  }
}

// A group by its number or its name selects its cases, and only them.
TEST_F(CheckVerdicts, CasesSelectsAGroupByNumberOrName) {
  for (const char* group : {"7", "bad-input"}) {
    const CheckRun run = Check({"--cases", group, "--transport", "unix", "--",
                                SOCKPARITY_REFERENCE_SERVER});
    ExpectPasses(run);
    EXPECT_EQ(run.Total("OK"), 6) << group;
    for (const nlohmann::json& result : run.report["results"]) {
      EXPECT_THAT(result["case"].get<std::string>(),
                  ::testing::StartsWith("7."))
          << group;
    }
  }
}

// --stalled-after 0: every timeout waited out, the same verdicts.
TEST_F(CheckVerdicts, NeverStalledGivesTheSameVerdicts) {
  ExpectPasses(Check({"--stalled-after", "0", "--cases", "1.*,5.*,7.*", "--",
                      SOCKPARITY_REFERENCE_SERVER}));
}

// A server that serves every form but UNIX paths fails on unix, with the
// contract's requirement and what the server said.
TEST_F(CheckVerdicts, RequiredFormNotServed) {
  const CheckRun run =
      Check({"--transport", "unix,tcp4", "--", SOCKPARITY_WITHOUT_UNIX_PATH,
             SOCKPARITY_REFERENCE_SERVER});
  EXPECT_EQ(run.outcome.exit_status, 1);
  EXPECT_EQ(run.Verdict("1.1", "unix"), "FAILED");
  EXPECT_THAT(run.Reason("1.1", "unix"), HasSubstr("required by the contract"));
  EXPECT_THAT(run.Reason("1.1", "unix"), HasSubstr("exit status 64"));
  EXPECT_EQ(run.Verdict("1.1", "tcp4"), "OK");
}

// --fail-fast: the first FAILED ends the run (the transports run side by
// side: at most one FAILED each), and what was not played is in the
// report with why.
TEST_F(CheckVerdicts, FailFastStopsAtTheFirstFailure) {
  const CheckRun run =
      Check({"--fail-fast", "--transport", "unix,tcp4", "--timeout", "3s", "--",
             SOCKPARITY_READ_AS_FRAME_SERVER});
  EXPECT_EQ(run.outcome.exit_status, 1);
  ASSERT_TRUE(run.report.is_object());
  std::map<std::string, int> failed;
  for (const nlohmann::json& result : run.report["results"]) {
    if (result["verdict"] == "FAILED") ++failed[result["transport"]];
  }
  EXPECT_FALSE(failed.empty());
  for (const auto& [transport, count] : failed) {
    EXPECT_EQ(count, 1) << transport << "\n" << run.Failed();
  }
  ASSERT_FALSE(run.report["not_played"].empty());
  EXPECT_THAT(run.report["not_played"].dump(), HasSubstr("--fail-fast"));
}

// A correct server that is slow: before each reply its connection's thread
// sleeps (a timer, an upstream call), idle in the kernel. Within the
// contract's 2 s reply window ("When a reply is due") it passes: a small
// delay on each of the ~1,600 replies of the whole catalog, and 1.5 s on
// the cases with few replies that cover each kind of wait.
TEST_F(CheckVerdicts, SlowServerWithinTheWindowPasses) {
  ExpectPasses(Check({"--", SOCKPARITY_BROKEN_SERVER, "--bug", "none",
                      "--reply-delay-ms", "10"}));
  ExpectPasses(Check({"--cases", "1.1,5.1,6.1,6.5,7.5,8.2,11.4,12.1,13.1", "--",
                      SOCKPARITY_BROKEN_SERVER, "--bug", "none",
                      "--reply-delay-ms", "1500"}));
}

// Bugs only perturbation shows on loopback with small frames: the same
// server passes without it, and fails with it, each FAILED saying what it
// expected and what it saw.
TEST_F(CheckVerdicts, PerturbationShowsBugsPlainRunsMiss) {
  const struct {
    const char* bug;
    const char* mode;
    const char* cases;
  } kBugs[] = {{"partial-write", "short-io", "1.1,2.*,3.1"},
               {"eintr-fatal", "eintr", "1.1,1.3,2.*,3.1"}};
  for (const auto& bug : kBugs) {
    const std::vector<std::string> server = {"--", SOCKPARITY_BROKEN_SERVER,
                                             "--bug", bug.bug};
    std::vector<std::string> plain = {"--cases",   bug.cases,   "--transport",
                                      "unix,tcp4", "--timeout", "3s",
                                      "--seed",    "7"};
    std::vector<std::string> perturbed = plain;
    perturbed.insert(perturbed.end(), {"--perturb", bug.mode});
    plain.insert(plain.end(), server.begin(), server.end());
    perturbed.insert(perturbed.end(), server.begin(), server.end());
    const CheckRun without = Check(plain);
    EXPECT_EQ(without.outcome.exit_status, 0) << bug.bug << without.Failed();
    EXPECT_EQ(without.Total("FAILED"), 0) << bug.bug;
    const CheckRun with = Check(perturbed);
    EXPECT_EQ(with.outcome.exit_status, 1) << bug.bug;
    EXPECT_GT(with.Total("FAILED"), 0) << bug.bug;
    for (const nlohmann::json& result : with.report["results"]) {
      if (result["verdict"] != "FAILED") continue;
      EXPECT_THAT(result["reason"].get<std::string>(),
                  ::testing::AllOf(::testing::StartsWith("expected "),
                                   HasSubstr("; saw ")))
          << bug.bug;
    }
  }
}

#ifdef SOCKPARITY_EPOLL_SERVER_STATIC
// A static binary never loads the perturbation library: said in the
// report, and exit 5.
TEST_F(CheckVerdicts, PerturbationNotInEffectOnAStaticServer) {
  const CheckRun run =
      Check({"--perturb", "short-io", "--cases", "1.1", "--transport", "unix",
             "--", SOCKPARITY_EPOLL_SERVER_STATIC});
  EXPECT_EQ(run.outcome.exit_status, 5);
  ASSERT_TRUE(run.report.is_object()) << run.outcome.output;
  EXPECT_THAT(run.report["perturbation_not_in_effect"].dump(),
              HasSubstr("unix"));
}
#endif

}  // namespace
}  // namespace sockparity
