// The script runner under signals: a signal may interrupt any blocking call
// (signal(7)), and the outcome a step reports must not depend on whether
// one did. In the fuzzer, a child's SIGCHLD does.
#include <signal.h>
#include <sys/time.h>

#include "sockparity/script/runner.h"
#include "sockparity/script/script.h"
#include "test_util.h"

namespace sockparity::testing {
namespace {

void Ignore(int) {}

// SIGALRM every `period` until destroyed, with a handler that does nothing,
// so a blocking call it interrupts returns EINTR.
class Interrupter {
 public:
  explicit Interrupter(absl::Duration period) {
    struct sigaction action{};
    action.sa_handler = &Ignore;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(SIGALRM, &action, &previous_);
    itimerval timer{};
    timer.it_interval = absl::ToTimeval(period);
    timer.it_value = timer.it_interval;
    ::setitimer(ITIMER_REAL, &timer, nullptr);
  }
  ~Interrupter() {
    itimerval off{};
    ::setitimer(ITIMER_REAL, &off, nullptr);
    ::sigaction(SIGALRM, &previous_, nullptr);
  }

 private:
  struct sigaction previous_{};
};

class RunnerSignalTest : public ::testing::TestWithParam<TransportKind> {
 protected:
  void SetUp() override {
    if (absl::Status available = TransportAvailability(GetParam());
        !available.ok()) {
      GTEST_SKIP() << available;
    }
  }
};

// A UNIX connect to a full backlog waits for room; signals every 20 ms cut
// that wait short again and again. At the deadline the step is a timeout,
// as it is without signals, never EINTR.
TEST_P(RunnerSignalTest, ConnectInterruptedUntilItsDeadlineIsATimeout) {
  absl::StatusOr<Script> script =
      ParseScript("l listen 0\nc1 connect l\nc2 connect l\n");
  ASSERT_TRUE(script.ok()) << script.status();
  RunOptions options;
  options.step_timeout = absl::Milliseconds(300);
  options.connect_timeout = absl::Milliseconds(300);
  absl::StatusOr<Trace> quiet = RunScript(*script, GetParam(), options);
  ASSERT_TRUE(quiet.ok()) << quiet.status();
  absl::StatusOr<Trace> interrupted;
  {
    Interrupter interrupter(absl::Milliseconds(20));
    interrupted = RunScript(*script, GetParam(), options);
  }
  ASSERT_TRUE(interrupted.ok()) << interrupted.status();
  ASSERT_EQ(quiet->steps.size(), 3u);
  ASSERT_EQ(interrupted->steps.size(), 3u);
  EXPECT_EQ(quiet->steps[2].outcome, "timeout");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(interrupted->steps[i].outcome, quiet->steps[i].outcome)
        << "step " << i + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(Unix, RunnerSignalTest,
                         ::testing::Values(TransportKind::kUnixPath,
                                           TransportKind::kUnixAbstract),
                         [](const auto& info) {
                           return std::string(TransportTestName(info.param));
                         });

}  // namespace
}  // namespace sockparity::testing
