// Each broken server is caught by the case meant for its bug, on the
// transport where the bug is, for the right reason: read from check's JSON
// report (the verdict, and the reason's key facts), never from its text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "command_run.h"

namespace sockparity {
namespace {

using ::sockparity::testing::CheckRun;
using ::testing::HasSubstr;

// A broken server, the case meant for its bug, and what the report must
// say: the verdict on each transport named, with the reason's key facts.
struct Cell {
  std::string id;
  // One transport, or several joined by '|': the bug shows on at least one
  // of them (which one first meets it is the kernel's timing).
  std::string transports;
  std::string verdict;
  // Each somewhere in the reason or in the server's output of the case.
  std::vector<std::string> facts;
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

class CheckCatches : public testing::CheckTest,
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
      // What the server wrote during the case is part of what it says.
      const std::string reason =
          absl::StrCat(run.Reason(cell.id, std::string(transport)), "\n",
                       run.ServerOutput(cell.id, std::string(transport)));
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
       {{"8.3",
         "unix",
         "FAILED",
         {"socket descriptors in the server", "saw 1003"}}}},
      {"helper_fd_leak",
       Broken("helper-fd-leak", "8.3", "unix"),
       1,
       {{"8.3",
         "unix",
         "FAILED",
         {"descriptors other than sockets in the server", "saw 100"}}}},
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
