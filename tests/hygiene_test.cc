// The hygiene check finds what a test leaves behind, and the GoogleTest
// listener fails the test that left it.
#include "sockparity/net/hygiene.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <thread>

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
