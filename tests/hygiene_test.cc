// The hygiene check finds what a test leaves behind, and the GoogleTest
// listener fails the test that left it.
#include "sockparity/net/hygiene.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sockparity/net/listener.h"
#include "sockparity/net/temp_dir.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(HygieneTest, FindsALeakedDescriptor) {
  const ResourceSnapshot before = TakeResourceSnapshot();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::vector<std::string> leaks =
      ResourceLeaks(before, TakeResourceSnapshot());
  EXPECT_THAT(leaks, Contains(HasSubstr(absl::StrCat("descriptor ", fds[0]))));
  EXPECT_THAT(leaks, Contains(HasSubstr("pipe:")));
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_THAT(WaitForNoResourceLeaks(before), IsEmpty());
}

TEST(HygieneTest, FindsARunningThread) {
  const ResourceSnapshot before = TakeResourceSnapshot();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::thread waiter([&] {
    char byte;
    (void)::read(fds[0], &byte, 1);
  });
  EXPECT_THAT(ResourceLeaks(before, TakeResourceSnapshot()),
              Contains(HasSubstr("still running")));
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  waiter.join();
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_THAT(WaitForNoResourceLeaks(before), IsEmpty());
}

TEST(HygieneTest, FindsAnUnreapedChild) {
  const ResourceSnapshot before = TakeResourceSnapshot();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  EXPECT_THAT(ResourceLeaks(before, TakeResourceSnapshot()),
              Contains(HasSubstr(absl::StrCat("child process ", child))));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_THAT(WaitForNoResourceLeaks(before), IsEmpty());
}

TEST(HygieneTest, FindsATemporaryDirectory) {
  const ResourceSnapshot before = TakeResourceSnapshot();
  SP_ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create());
  EXPECT_THAT(ResourceLeaks(before, TakeResourceSnapshot()),
              Contains(HasSubstr("temporary directory " + dir.path())));
  ASSERT_THAT(dir.Remove(), IsOk());
  EXPECT_THAT(WaitForNoResourceLeaks(before), IsEmpty());
}

TEST(HygieneTest, SweeperRemovesTheDirectoriesOfARunEndedBySigterm) {
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(report[0]);
    if (StartTempDirSweeper() < 0) ::_exit(3);
    absl::StatusOr<TempDir> dir = TempDir::Create();
    if (!dir.ok()) ::_exit(4);
    const std::string path = dir->path() + "\n";
    if (::write(report[1], path.data(), path.size()) !=
        static_cast<ssize_t>(path.size())) {
      ::_exit(5);
    }
    // As `timeout` or ctest ends a run: no destructor runs.
    ::raise(SIGTERM);
    ::_exit(6);
  }
  ::close(report[1]);
  std::string path;
  char byte;
  while (::read(report[0], &byte, 1) == 1 && byte != '\n') path += byte;
  ::close(report[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
      << "the child ended with status " << status;
  ASSERT_FALSE(path.empty());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (std::filesystem::exists(path) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));  // polling for the sweeper
  }
  EXPECT_FALSE(std::filesystem::exists(path))
      << path << " outlived its run by 10 s";
}

TEST(HygieneTest, FindsASocketFile) {
  const ResourceSnapshot before = TakeResourceSnapshot();
  SP_ASSERT_OK_AND_ASSIGN(Listener listener,
                          Listener::Open(TransportKind::kUnixPath));
  EXPECT_THAT(ResourceLeaks(before, TakeResourceSnapshot()),
              Contains(HasSubstr(
                  absl::StrCat("socket file ", listener.endpoint().path()))));
  ASSERT_THAT(listener.Close(), IsOk());
  EXPECT_THAT(WaitForNoResourceLeaks(before), IsEmpty());
}

struct CanaryRun {
  int exit_code;
  std::string output;
};

CanaryRun RunCanary(const std::string& test) {
  const std::string command = absl::StrCat(SOCKPARITY_HYGIENE_CANARY,
                                           " --gtest_filter=", test, " 2>&1");
  CanaryRun run{-1, ""};
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer;
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) {
    run.output.append(buffer.data(), n);
  }
  int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// The listener itself, run on a binary whose tests leak on purpose.
class HygieneListenerTest
    : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(HygieneListenerTest, FailsTheTestThatLeaks) {
  const auto& [test, leak] = GetParam();
  CanaryRun run = RunCanary("Canary." + test);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("sockparity hygiene: Canary." + test +
                                    " left behind " + leak))
      << run.output;
  EXPECT_THAT(run.output, HasSubstr("[  FAILED  ] Canary." + test));
}

INSTANTIATE_TEST_SUITE_P(
    Leaks, HygieneListenerTest,
    ::testing::Values(std::pair{"LeaksDescriptor", "descriptor"},
                      std::pair{"LeaksThread", "thread"},
                      std::pair{"LeaksChild", "child process"},
                      std::pair{"LeaksTemporaryDirectory",
                                "temporary directory"}),
    [](const auto& info) { return info.param.first; });

TEST(HygieneListenerTest, PassesATestThatCleansUp) {
  CanaryRun run = RunCanary("Canary.CleansUp");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("[  PASSED  ] 1 test"));
}

}  // namespace
}  // namespace sockparity::testing
