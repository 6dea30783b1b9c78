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

class CheckVerdicts : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(*dir));
  }
  CheckRun Check(std::vector<std::string> args,
                 std::vector<std::string> env = {}) {
    return testing::RunCheck(SOCKPARITY_TOOL, dir_->path(), std::move(args),
                             std::move(env));
  }
  std::optional<TempDir> dir_;
};

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

// A broken server, the case meant for its bug, and what the report must
// say: the verdict on each transport named, with the reason's key facts.
struct Cell {
  std::string id;
  // One transport, or several joined by '|': the bug shows on at least one
  // of them (which one first meets it is the kernel's timing).
  std::string transports;
  std::string verdict;
  std::vector<std::string> facts;  // each somewhere in the reason
};
struct Caught {
  std::string name;
  std::vector<std::string> args;  // check's options, "--", the server
  int exit_status;
  std::vector<Cell> cells;
  std::vector<std::string> env = {};
  // A run that must end well before its --timeout: the stall is seen.
  absl::Duration within = absl::InfiniteDuration();
};

void PrintTo(const Caught& caught, std::ostream* out) { *out << caught.name; }

std::vector<std::string> Broken(const std::string& bug,
                                const std::string& cases,
                                const std::string& transports,
                                std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--cases",  cases,       "--transport",
                                   transports, "--timeout", "3s"};
  args.insert(args.end(), more.begin(), more.end());
  args.insert(args.end(), {"--", SOCKPARITY_BROKEN_SERVER, "--bug", bug});
  return args;
}
std::vector<std::string> BrokenLoop(const std::string& bug,
                                    const std::string& cases,
                                    const std::string& transports) {
  return {"--cases",   cases, "--transport", transports,
          "--timeout", "3s",  "--",          SOCKPARITY_BROKEN_LOOP_SERVER,
          "--bug",     bug};
}

class CheckCatches : public CheckVerdicts,
                     public ::testing::WithParamInterface<Caught> {};

TEST_P(CheckCatches, TheBugWithTheCaseMeantForIt) {
  const Caught& caught = GetParam();
  const CheckRun run = Check(caught.args, caught.env);
  ASSERT_TRUE(run.report.is_object()) << run.outcome.output.substr(0, 4000);
  EXPECT_EQ(run.outcome.exit_status, caught.exit_status) << run.Failed();
  EXPECT_LT(run.outcome.took, caught.within);
  for (const Cell& cell : caught.cells) {
    bool seen = false;
    std::string saw;
    for (absl::string_view transport : absl::StrSplit(cell.transports, '|')) {
      const std::string verdict = run.Verdict(cell.id, std::string(transport));
      absl::StrAppend(&saw, " ", transport, ": ", verdict);
      if (verdict != cell.verdict) continue;
      seen = true;
      const std::string reason = run.Reason(cell.id, std::string(transport));
      for (const std::string& fact : cell.facts) {
        EXPECT_THAT(reason, HasSubstr(fact)) << cell.id << " on " << transport;
      }
    }
    EXPECT_TRUE(seen) << "expected " << cell.verdict << " for " << cell.id
                      << " on " << cell.transports << "; saw" << saw;
  }
}

const std::vector<Caught>& CaughtBugs() {
  static const auto* const kCaught = new std::vector<Caught>{
      {"partial_write",
       Broken("partial-write", "1.2", "unix,tcp4"),
       1,
       {{"1.2",
         "unix|tcp4",
         "FAILED",
         {"expected the", "bytes of a reply; saw nothing",
          "took all the client sent"}}}},
      {"half_close_drop",
       Broken("half-close-drop", "5.2", "unix,tcp4"),
       1,
       {{"5.2",
         "unix|tcp4",
         "FAILED",
         {"expected a reply frame; saw end of stream"}}}},
      {"no_length_limit",
       Broken("no-length-limit", "7.3", "unix"),
       1,
       {{"7.3",
         "unix",
         "FAILED",
         {"expected the connection to end", "holds the connection open"}}}},
      {"truncated_reply",
       Broken("truncated-reply", "7.5", "unix"),
       1,
       {{"7.5",
         "unix",
         "FAILED",
         {"expected no reply, then end of stream; saw more bytes"}}}},
      {"sigpipe",
       Broken("sigpipe", "6.3", "unix"),
       1,
       {{"6.3",
         "unix",
         "FAILED",
         {"expected the server to keep running", "killed by signal 13"}}}},
      {"fd_leak",
       Broken("fd-leak", "8.3", "unix"),
       1,
       {{"8.3", "unix", "FAILED", {"descriptors in the server; saw 1009"}}}},
      {"one_at_a_time",
       Broken("one-at-a-time", "8.1", "unix"),
       1,
       {{"8.1",
         "unix",
         "FAILED",
         {"has not accepted the connection", "in the listener's queue"}}}},
      {"stale_file",
       Broken("stale-file", "9.4", "unix"),
       1,
       {{"9.4",
         "unix",
         "FAILED",
         {"expected a start over a stale socket file",
          "ended before it was ready (exit status 1)"}}}},
      {"tcp_only_option",
       Broken("tcp-only-option", "1.1", "unix,tcp4"),
       1,
       {{"1.1",
         "unix",
         "FAILED",
         {"it ended during the case: exit status 1",
          "TCP_NODELAY: Operation not supported"}},
        {"1.1", "tcp4", "OK", {}}}},
      {"abstract_padded",
       Broken("abstract-padded", "10.1", "unix-abstract"),
       1,
       {{"10.1",
         "unix-abstract",
         "FAILED",
         {"expected a connection to unix:@", "ECONNREFUSED",
          "NUL bytes (108 bytes)"}}}},
      {"path_truncated",
       Broken("path-truncated", "10.2", "unix"),
       1,
       {{"10.2",
         "unix",
         "FAILED",
         {"expected a connection to unix:/", "ENOENT", "(100 bytes)"}}}},
      {"steal_live_path_strict",
       Broken("steal-live-path", "10.3", "unix", {"--strict"}),
       1,
       {{"10.3",
         "unix",
         "NON-STRICT",
         {"(SHOULD)", "removed the live socket file"}}}},
      {"steal_live_path",
       Broken("steal-live-path", "10.3", "unix"),
       0,
       {{"10.3", "unix", "NON-STRICT", {"removed the live socket file"}}}},
      {"unlink_not_own_strict",
       Broken("unlink-not-own", "10.4", "unix", {"--strict"}),
       1,
       {{"10.4",
         "unix",
         "NON-STRICT",
         {"(SHOULD)", "removed a socket file it did not own"}}}},
      {"leak_on_reset",
       Broken("leak-on-reset", "11.2", "unix,tcp4"),
       1,
       {{"11.2", "unix", "OK", {}},
        {"11.2",
         "tcp4",
         "FAILED",
         {"expected the connection released within 1 s",
          "still holds a descriptor of its socket"}}}},
      {"abort_as_close",
       Broken("abort-as-close", "6.2", "unix,tcp4"),
       1,
       {{"6.2", "unix", "OK", {}},
        {"6.2",
         "tcp4",
         "FAILED",
         {"linger_zero_resets_only_tcp", "saw end of stream"}}}},
      {"hangup_spin",
       BrokenLoop("hangup-spin", "11.4", "unix,tcp4"),
       1,
       {{"11.4",
         "unix|tcp4",
         "FAILED",
         {"still holds a descriptor of its socket", "a busy loop"}}}},
      {"reset_after_fin_leak",
       BrokenLoop("reset-after-fin-leak", "11.3", "unix,tcp4"),
       1,
       {{"11.3",
         "unix|tcp4",
         "FAILED",
         {"expected the connection released within 1 s",
          "after the client's FIN, then its reset"}}}},
      {"spin_after_close",
       BrokenLoop("spin-after-close", "11.1", "unix,tcp4"),
       1,
       {{"11.1",
         "unix|tcp4",
         "FAILED",
         {"wait in the kernel after the client's close", "a busy loop"}}}},
      {"emfile_spin",
       BrokenLoop("emfile-spin", "12.1", "unix,tcp4"),
       1,
       {{"12.1",
         "unix|tcp4",
         "FAILED",
         {"while descriptors are exhausted", "a busy loop"}}}},
      // Under ASan, LeakSanitizer's check at exit needs descriptors the bug
      // has used up, and aborts; the exit status named is the server's own.
      {"emfile_exit",
       BrokenLoop("emfile-exit", "12.1", "unix,tcp4"),
       1,
       {{"12.1",
         "unix|tcp4",
         "FAILED",
         {"keep running when accept fails with EMFILE",
          "ended (exit status 1)"}}},
       {"ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=0"}},
      {"unbounded_replies",
       BrokenLoop("unbounded-replies", "13.1", "unix,tcp4"),
       1,
       {{"13.1",
         "unix|tcp4",
         "FAILED",
         {"memory bounded while replies are unread", "VmRSS grow from"}}}},
      // Half-close taken for a close on UNIX sockets alone.
      {"half_close_unix",
       BrokenLoop("half-close-unix", "5.3,5.4", "unix,tcp4"),
       1,
       {{"5.3",
         "unix",
         "FAILED",
         {"after the client's SHUT_WR", "the reply was cut short"}},
        {"5.4", "unix", "FAILED", {"mid-reply", "the reply was cut short"}},
        {"5.3", "tcp4", "OK", {}},
        {"5.4", "tcp4", "OK", {}}}},
      {"read_as_frame",
       {"--cases", "1.1,2.1", "--transport", "unix,tcp4", "--timeout", "2s",
        "--", SOCKPARITY_READ_AS_FRAME_SERVER},
       1,
       {{"1.1", "unix", "OK", {}}, {"2.1", "unix", "FAILED", {"expected"}}}},
      // A reply left half sent (no write wakeup): the server has taken all
      // the client sent and waits in the kernel, so the case fails at once
      // instead of waiting out its 120 s timeout.
      {"write_on_read_only",
       {"--cases", "1.2", "--transport", "unix,tcp4", "--timeout", "120s", "--",
        SOCKPARITY_BROKEN_LOOP_SERVER, "--bug", "write-on-read-only"},
       1,
       {{"1.2",
         "unix|tcp4",
         "FAILED",
         {"; saw nothing (the server (pid ", "took all the client sent",
          "then sat idle in the kernel for 2s"}}},
       {},
       absl::Seconds(60)},
      // A correct server that is slow beyond the contract's 2 s reply
      // window: it took the E before C and sat idle before reading C.
      {"slow_beyond_the_window",
       {"--cases", "1.1,6.1", "--transport", "unix,tcp4", "--",
        SOCKPARITY_BROKEN_SERVER, "--bug", "none", "--reply-delay-ms", "3000"},
       1,
       {{"6.1",
         "unix|tcp4",
         "FAILED",
         {"expected a reply frame; saw nothing",
          "took the first 11 of the 16 bytes the client sent and left the "
          "other 5 unread",
          "(docs/SUT_CONTRACT.md, \"When a reply is due\")"}}}},
  };
  return *kCaught;
}

INSTANTIATE_TEST_SUITE_P(Bugs, CheckCatches, ::testing::ValuesIn(CaughtBugs()),
                         [](const ::testing::TestParamInfo<Caught>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace sockparity
