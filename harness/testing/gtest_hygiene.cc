#include "sockparity/testing/gtest_hygiene.h"

#include <optional>
#include <thread>

#include "sockparity/check/sut_process.h"
#include "sockparity/net/hygiene.h"

namespace sockparity {
namespace {

class HygieneListener : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo&) override {
    before_ = TakeResourceSnapshot();
  }

  // GoogleTest calls OnTestEnd in reverse order of installation, so this
  // runs before the result printer and a failure added here is reported
  // against the test.
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (!before_) return;
    for (const std::string& leak : WaitForNoResourceLeaks(*before_)) {
      ADD_FAILURE() << "sockparity hygiene: " << info.test_suite_name() << "."
                    << info.name() << " left behind " << leak;
    }
    before_.reset();
  }

 private:
  std::optional<ResourceSnapshot> before_;
};

}  // namespace

void InstallHygieneListener() {
  // Some runtimes (ThreadSanitizer's, for one) start a helper thread of
  // their own at the first thread creation. Creating one thread now puts
  // such helpers in every test's baseline instead of blaming the test.
  std::thread([] {}).join();
  // Likewise the process servers are started from, which lives as long as
  // this one (and is best started while this process is small).
  SutProcess::PrepareToStartServers();
  ::testing::UnitTest::GetInstance()->listeners().Append(new HygieneListener);
}

}  // namespace sockparity
