// ClientHeldStill: while the suite holds a client still, the client runs
// nothing, so that what the suite's server does meanwhile (replies, then a
// reset) reaches it in one wakeup; released, it takes all of it.
#include <dirent.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "check/client/client_cases.h"
#include "check/client/client_serve.h"
#include "check/client/held_still.h"
#include "check/process_stats.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sockparity/check/peer_contract.h"

namespace sockparity::internal {
namespace {

using ::testing::ElementsAre;

// The state letters of every thread of `pid`'s tree.
std::string ThreadStates(pid_t pid) {
  std::string states;
  for (pid_t member : ProcessTree(pid)) {
    DIR* tasks = ::opendir(absl::StrCat("/proc/", member, "/task").c_str());
    if (tasks == nullptr) continue;
    while (const dirent* task = ::readdir(tasks)) {
      if (task->d_name[0] == '.') continue;
      std::ifstream in(
          absl::StrCat("/proc/", member, "/task/", task->d_name, "/stat"));
      std::string stat;
      std::getline(in, stat);
      const size_t end = stat.rfind(')');
      if (end != std::string::npos && end + 2 < stat.size())
        states += stat[end + 2];
    }
    ::closedir(tasks);
  }
  return states;
}

class ClientHeldStillTest : public ::testing::TestWithParam<ContractTransport> {
};

TEST_P(ClientHeldStillTest, TheClientRunsNothingUntilReleased) {
  CheckOptions options;
  options.command = {SOCKPARITY_REFERENCE_CLIENT};
  options.timeout = absl::Seconds(5);
  const ClientRunSetup setup{&options, GetParam(), 1, {}};
  ClientContext c(setup);
  const std::vector<Bytes> payloads = {EchoRequest("one"), EchoRequest("two"),
                                       EchoRequest("never read")};
  std::optional<Socket> s = c.Connected(Requests(payloads));
  ASSERT_TRUE(s.has_value()) << c.Finish().wire_log;
  ASSERT_TRUE(c.ReadRequests(*s, FramedSize({payloads[0], payloads[1]})));
  {
    ClientHeldStill still(c, *s);
    const pid_t pid = c.client()->pid();
    EXPECT_THAT(ThreadStates(pid), ::testing::MatchesRegex("T+"));
    ASSERT_TRUE(c.Send(*s, Requests({payloads[0], payloads[1]}), "replies"));
    WaitUntilDelivered(*s);
    (void)s->Close();
    still.Release();
    // Released only once the reset is there: the client may run again.
    EXPECT_THAT(ThreadStates(pid),
                ::testing::Not(::testing::MatchesRegex("T+")));
  }
  std::optional<ClientReport> report = c.AwaitEnd();
  ASSERT_TRUE(report.has_value()) << c.Finish().wire_log;
  EXPECT_THAT(report->lines,
              ElementsAre("connected", ::testing::StartsWith("reply 4 "),
                          ::testing::StartsWith("reply 4 "), "end reset"))
      << c.Finish().wire_log;
}

INSTANTIATE_TEST_SUITE_P(Transports, ClientHeldStillTest,
                         ::testing::Values(ContractTransport::kUnix,
                                           ContractTransport::kTcp4),
                         [](const auto& info) {
                           return std::string(
                               info.param == ContractTransport::kUnix ? "unix"
                                                                      : "tcp4");
                         });

}  // namespace
}  // namespace sockparity::internal
