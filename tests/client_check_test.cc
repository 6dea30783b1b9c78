// check-client, read from its JSON report: the reference client passes
// every case on every transport, and each broken client is FAILED by the
// case meant for its bug and passes the others it is run on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "command_run.h"
#include "sockparity/check/client_report.h"

namespace sockparity {
namespace {

using ::sockparity::testing::CheckRun;
using ::testing::HasSubstr;

class ClientCheck : public testing::CheckTest {
 protected:
  CheckRun Client(std::vector<std::string> args,
                  std::vector<std::string> env = {}) {
    return testing::CheckClient(SOCKPARITY_TOOL, dir_->path(), std::move(args),
                                std::move(env));
  }
};

TEST_F(ClientCheck, TheReferenceClientPassesEveryCaseOnEveryTransport) {
  const CheckRun run =
      Client({"--seed", "7", "--", SOCKPARITY_REFERENCE_CLIENT});
  ASSERT_TRUE(run.report.is_object()) << run.outcome.output.substr(0, 4000);
  EXPECT_EQ(run.outcome.exit_status, 0) << run.Failed();
  EXPECT_EQ(run.Total("FAILED"), 0) << run.Failed();
  EXPECT_EQ(run.Total("NON-STRICT"), 0);
  EXPECT_EQ(run.report["subject"], "client");
  int ok = 0;
  for (const nlohmann::json& result : run.report["results"]) {
    const std::string verdict = result["verdict"];
    EXPECT_TRUE(verdict == "OK" || verdict == "N/A")
        << result["case"] << " on " << result["transport"] << ": " << verdict
        << " " << result["reason"];
    ok += verdict == "OK";
  }
  // 17 cases: 12 on every transport, 2 where the client connects, 2 on
  // unix: alone, 1 on fd: alone; and the across verdict of the 14 that run
  // twice or more.
  EXPECT_EQ(ok, 12 * 5 + 2 * 4 + 2 + 1 + 14);
  EXPECT_EQ(run.Verdict("c1.4", "across"), "OK");
}

// Short reads and writes and EINTR where the kernel allows them: still no
// cell FAILED (a reset reported to a send once, then end of stream to the
// reads, is still the reset).
TEST_F(ClientCheck, TheReferenceClientPassesUnderPerturbation) {
  const CheckRun run = Client({"--seed", "20261125", "--perturb", "short-io",
                               "--", SOCKPARITY_REFERENCE_CLIENT});
  ASSERT_TRUE(run.report.is_object()) << run.outcome.output.substr(0, 4000);
  EXPECT_EQ(run.Total("FAILED"), 0) << run.Failed();
  EXPECT_EQ(run.outcome.exit_status, 0) << run.Failed();
}

// A broken client, the cases it must fail, and those it must pass.
struct Caught {
  std::string bug;
  std::string transports;
  std::vector<std::string> failed;  // "c1.4 unix"
  std::vector<std::string> passed;
  std::string fact;  // in the first FAILED reason
};

void PrintTo(const Caught& caught, std::ostream* out) { *out << caught.bug; }

class ClientCheckCatches : public ClientCheck,
                           public ::testing::WithParamInterface<Caught> {};

TEST_P(ClientCheckCatches, TheBugWithTheCaseMeantForIt) {
  const Caught& caught = GetParam();
  std::vector<std::string> ids;
  for (const auto& cells : {caught.failed, caught.passed}) {
    for (const std::string& cell : cells) {
      const std::string id = cell.substr(0, cell.find(' '));
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
  }
  const CheckRun run =
      Client({"--cases", absl::StrJoin(ids, ","), "--transport",
              caught.transports, "--timeout", "5s", "--seed", "3", "--",
              SOCKPARITY_BROKEN_CLIENT, "--bug", caught.bug});
  ASSERT_TRUE(run.report.is_object()) << run.outcome.output.substr(0, 4000);
  for (const std::string& cell : caught.failed) {
    const std::vector<std::string> part = absl::StrSplit(cell, ' ');
    EXPECT_EQ(run.Verdict(part[0], part[1]), "FAILED")
        << cell << ": " << run.Reason(part[0], part[1]);
    EXPECT_THAT(run.Reason(part[0], part[1]), HasSubstr(caught.fact)) << cell;
  }
  for (const std::string& cell : caught.passed) {
    const std::vector<std::string> part = absl::StrSplit(cell, ' ');
    EXPECT_EQ(run.Verdict(part[0], part[1]), "OK")
        << cell << ": " << run.Reason(part[0], part[1]);
  }
  EXPECT_EQ(run.outcome.exit_status, caught.failed.empty() ? 0 : 1)
      << run.Failed();
}

INSTANTIATE_TEST_SUITE_P(
    Bugs, ClientCheckCatches,
    ::testing::Values(
        Caught{"none",
               "unix,tcp4",
               {},
               {"c1.4 unix", "c1.4 tcp4", "c2.1 unix", "c3.1 tcp4", "c3.3 unix",
                "c4.2 tcp4"},
               ""},
        Caught{"eagain-fatal",
               "unix,unix-abstract,tcp4",
               {"c1.4 unix", "c1.4 unix-abstract"},
               {"c1.4 tcp4", "c1.1 unix"},
               "end error EAGAIN"},
        Caught{"spin",
               "unix,tcp4",
               {"c3.4 unix", "c3.4 tcp4", "c1.4 unix"},
               {"c1.1 unix", "c1.1 tcp4"},
               "busy loop"},
        Caught{"one-read-a-reply",
               "unix,tcp4,fd",
               {"c2.1 unix", "c2.1 tcp4", "c2.1 fd"},
               {"c2.3 unix"},
               "not as sent"},
        Caught{"partial-as-reply",
               "unix,tcp6",
               {"c3.1 unix", "c3.1 tcp6", "c3.5 unix", "c3.5 tcp6"},
               {"c1.1 unix", "c3.2 tcp6"},
               "not as sent"},
        Caught{"eof-as-error",
               "unix,tcp4,fd",
               {"c1.1 unix", "c1.1 tcp4", "c1.1 fd"},
               {"c3.2 unix"},
               "end error EIO"},
        Caught{"reset-as-eof",
               "unix,tcp4",
               {"c3.2 unix", "c3.2 tcp4"},
               {"c1.1 unix", "c1.1 tcp4"},
               "then 'end eof'"},
        // Only when the replies and the reset arrive in one wakeup: the
        // client is held still (SIGSTOP) meanwhile, so in every run.
        Caught{"hup-ends",
               "unix,tcp4,fd",
               {"c3.2 unix", "c3.2 tcp4", "c3.2 fd", "c3.7 unix", "c3.7 tcp4"},
               {"c1.1 unix", "c1.1 tcp4", "c3.5 unix", "c2.2 fd"},
               "then 'end eof'"},
        // On TCP a write after a reset fails with ECONNRESET, no signal:
        // a client that stops writing then is never killed there.
        Caught{"sigpipe",
               "unix,fd,tcp4",
               {"c3.3 unix", "c3.3 fd", "c3.6 fd"},
               {"c1.1 unix", "c3.3 tcp4"},
               "SIGPIPE"},
        // Longer than --timeout (5 s), on the CPU all along: not a hang.
        Caught{"computes", "unix", {}, {"c1.1 unix"}, ""},
        Caught{"leak",
               "unix,tcp4,fd",
               {"c4.1 unix", "c4.1 tcp4", "c4.1 fd", "c4.2 tcp4"},
               {"c1.1 unix"},
               "still held"}));

TEST_F(ClientCheck, ACommandThatCannotRunIsOneMessage) {
  const CheckRun run = Client({"--", "/nonexistent/client"});
  EXPECT_EQ(run.outcome.exit_status, 2);
  EXPECT_THAT(run.outcome.output, HasSubstr("cannot run /nonexistent/client"));
  EXPECT_FALSE(run.report.is_object());
}

TEST(ClientReport, ParsesTheContractsLines) {
  absl::StatusOr<ClientReport> report = ParseClientReport(
      "connected\nmy own log line\nreply 5 811c9dc5\nendpoint ok\nend error "
      "EAGAIN\n");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->connected);
  ASSERT_EQ(report->replies.size(), 1u);
  EXPECT_EQ(report->replies[0].length, 5u);
  ASSERT_TRUE(report->end.has_value());
  EXPECT_EQ(report->end->ToString(), "error EAGAIN");
  EXPECT_EQ(report->lines.size(), 3u);
}

TEST(ClientReport, AnUnfinishedLineWaits) {
  absl::StatusOr<ClientReport> report = ParseClientReport("reply 1 0000");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->replies.empty());
}

TEST(ClientReport, MalformedLinesAreNamed) {
  for (const char* bad :
       {"reply x 811c9dc5\n", "reply 5 811C9DC5\n", "reply 5\n", "end maybe\n",
        "end error eagain\n", "end eof\nend eof\n",
        "end eof\nreply 1 00000000\n", "connected\nconnected\n"}) {
    absl::StatusOr<ClientReport> report = ParseClientReport(bad);
    EXPECT_FALSE(report.ok()) << bad;
    EXPECT_THAT(report.status().message(), HasSubstr("line ")) << bad;
  }
}

TEST(ClientReport, TheHashIsFnv1a32) {
  EXPECT_EQ(ClientReplyHash({}), 0x811c9dc5u);
  const std::string a = "a";
  EXPECT_EQ(ClientReplyHash(absl::MakeConstSpan(
                reinterpret_cast<const uint8_t*>(a.data()), a.size())),
            0xe40c292cu);
}

}  // namespace
}  // namespace sockparity
