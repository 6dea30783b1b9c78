// `check` against hostile servers and started in hostile ways (issue 26):
// output floods, a server that says ready on the wrong stream, a pre-fork
// server whose leader crashes, closed standard descriptors. Each run has
// an exit status, a bounded time and memory, bounded reports, and leaves
// no process behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "command_run.h"
#include "gtest/gtest.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity {
namespace {

using ::sockparity::testing::Outcome;
using ::sockparity::testing::ReadWhole;
using ::sockparity::testing::RunCommand;

std::vector<pid_t> Marked(const std::string& marker) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (ReadWhole(entry.path().string() + "/environ").find(marker) !=
        std::string::npos)
      found.push_back(std::stoi(name));
  }
  return found;
}

class HostileRun : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TempDir> dir = TempDir::Create();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(*dir));
  }
  std::string Path(const std::string& name) {
    return dir_->path() + "/" + name;
  }
  // check [OPTIONS] -- hostile_server.sh MODE reference_server
  std::vector<std::string> Check(std::vector<std::string> options,
                                 const std::string& mode) {
    std::vector<std::string> args = {SOCKPARITY_TOOL, "check"};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {"--", "env", marker_, SOCKPARITY_HOSTILE_SERVER,
                             mode, SOCKPARITY_REFERENCE_SERVER});
    return args;
  }
  void ExpectNothingLeft() {
    std::vector<pid_t> left;
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!(left = Marked(marker_)).empty() && absl::Now() < deadline)
      absl::SleepFor(absl::Milliseconds(10));  // polling
    EXPECT_TRUE(left.empty()) << "left running: " << absl::StrJoin(left, ", ");
    for (pid_t pid : left) ::kill(pid, SIGKILL);
  }
  std::optional<TempDir> dir_;
  std::string marker_ = absl::StrCat(
      "SOCKPARITY_HOSTILE_MARK=", ::getpid(), "-",
      ::testing::UnitTest::GetInstance()->current_test_info()->name());
};

constexpr long kMaxRssKib = 200 * 1024;
constexpr uintmax_t kMaxReportBytes = 2 * 1024 * 1024;

TEST_F(HostileRun, OutputFloodBeforeReadyIsReadInLinearTimeAndBounded) {
  const Outcome run = RunCommand(Check({"--cases", "1.1,9.1", "--transport",
                                        "unix,tcp4", "--json", Path("r.json")},
                                       "flood-before-ready"),
                                 Path("log"));
  EXPECT_EQ(run.exit_status, 0) << run.output.substr(0, 4000);
  EXPECT_LT(run.peak_rss_kib, kMaxRssKib);
  EXPECT_LT(std::filesystem::file_size(Path("r.json")), kMaxReportBytes);
  EXPECT_LT(run.output.size(), kMaxReportBytes);
  ExpectNothingLeft();
}

TEST_F(HostileRun, OutputFloodThenCrashKeepsReportsAndMemoryBounded) {
  const Outcome run =
      RunCommand(Check({"--cases", "1.*,2.*,3.*,4.*,5.*,6.*,7.*", "--transport",
                        "unix,tcp4", "--json", Path("r.json"), "--junit",
                        Path("r.xml"), "--html", Path("r.html")},
                       "flood-and-crash"),
                 Path("log"));
  EXPECT_EQ(run.exit_status, 1) << run.output.substr(0, 4000);
  EXPECT_LT(run.peak_rss_kib, kMaxRssKib);
  for (const char* report : {"r.json", "r.xml", "r.html"})
    EXPECT_LT(std::filesystem::file_size(Path(report)), kMaxReportBytes)
        << report;
  EXPECT_LT(run.output.size(), kMaxReportBytes);
  EXPECT_NE(run.output.find("earlier bytes not kept"), std::string::npos)
      << run.output.substr(0, 6000);
  ExpectNothingLeft();
}

TEST_F(HostileRun, ReadyOnStderrIsNotReadiness) {
  const Outcome run = RunCommand(
      Check({"--cases", "1.1", "--transport", "unix,tcp4", "--timeout", "2s"},
            "ready-on-stderr"),
      Path("log"));
  EXPECT_EQ(run.exit_status, 2) << run.output;
  EXPECT_NE(run.output.find("did not print 'ready'"), std::string::npos)
      << run.output;
  // The first mistake a new server makes: "ready" left in a stdio buffer.
  EXPECT_NE(run.output.find("is its standard output buffered?"),
            std::string::npos)
      << run.output;
  ExpectNothingLeft();
}

// --timeout bounds waits inside a case; the contract gives 10 s to start,
// on fd:N too.
TEST_F(HostileRun, AShortTimeoutDoesNotShortenTheStart) {
  const Outcome run = RunCommand(
      Check({"--cases", "1.1", "--transport", "fd,unix", "--timeout", "500ms"},
            "slow-start"),
      Path("log"));
  EXPECT_EQ(run.exit_status, 0) << run.output;
  ExpectNothingLeft();
}

// Case 9.2 asks for an exit 0 within 2 s of SIGTERM: a server that had
// ended before SIGTERM never showed it.
TEST_F(HostileRun, AServerThatEndedBeforeSigtermFailsCase92) {
  const Outcome run = RunCommand(
      // 10.2 plays while the server serves (it starts an instance of its
      // own), so the server has surely ended before the suite stops it.
      Check({"--cases", "10.2,9.2", "--transport", "unix", "--json",
             Path("r.json")},
            "exit-after-ready"),
      Path("log"));
  EXPECT_EQ(run.exit_status, 1) << run.output;
  EXPECT_NE(ReadWhole(Path("r.json"))
                .find("saw it had already ended before SIGTERM was sent"),
            std::string::npos)
      << run.output;
}

TEST_F(HostileRun, WorkersOfALeaderThatCrashedEndWithTheRun) {
  const Outcome run = RunCommand(
      Check({"--cases", "1.*", "--transport", "unix"}, "leader-crashes"),
      Path("log"));
  EXPECT_NE(run.exit_status, 0) << run.output;  // the server ended
  ExpectNothingLeft();
}

// With a standard descriptor closed, the suite's own files and sockets
// would take its number: the server's log, or the fd:N socketpair that
// then receives the progress lines.
TEST_F(HostileRun, ClosedStandardDescriptorsDoNotFailACorrectServer) {
  for (int closed : {0, 1, 2}) {
    std::vector<std::string> args = {SOCKPARITY_TOOL,
                                     "check",
                                     "--cases",
                                     "1.*,2.*",
                                     "--transport",
                                     "fd,unix",
                                     "--json",
                                     Path("r.json"),
                                     "--",
                                     SOCKPARITY_REFERENCE_SERVER};
    const Outcome run = RunCommand(args, Path("log"), {closed});
    EXPECT_EQ(run.exit_status, 0) << "descriptor " << closed << " closed:\n"
                                  << run.output;
    EXPECT_NE(ReadWhole(Path("r.json")).find("\"verdict\": \"OK\""),
              std::string::npos);
  }
}

}  // namespace
}  // namespace sockparity
