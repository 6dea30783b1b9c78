// Servers are started from the spawner, a process forked while the suite
// was small, so no shepherd shares the suite's grown memory; when the
// spawner is gone, servers still start (their shepherds forked here).
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "check/shepherd_spawner.h"
#include "gtest/gtest.h"
#include "sockparity/check/sut_process.h"

namespace sockparity {
namespace {

// The parent pid in /proc/PID/stat ("pid (comm) S ppid ...").
pid_t ParentOf(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::stringstream text;
  text << file.rdbuf();
  const std::string stat = text.str();
  const size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close_paren + 2));
  std::string state;
  pid_t parent = -1;
  rest >> state >> parent;
  return parent;
}

const std::vector<std::string> kServer = {"/bin/sh", "-c",
                                          "echo ready; exec sleep 30", "sh"};

TEST(ShepherdSpawner, ShepherdsAreTheSpawnersChildren) {
  SutProcess::PrepareToStartServers();
  const pid_t spawner = internal::ShepherdSpawnerPid();
  ASSERT_GT(spawner, 0);
  EXPECT_EQ(ParentOf(spawner), ::getpid());
  absl::StatusOr<SutProcess> sut = SutProcess::Start(kServer, "unix:@s1");
  ASSERT_TRUE(sut.ok()) << sut.status();
  const pid_t shepherd = ParentOf(sut->pid());
  EXPECT_NE(shepherd, ::getpid());
  EXPECT_EQ(ParentOf(shepherd), spawner);
  const SutExit exit = sut->Stop(absl::Seconds(2));
  EXPECT_TRUE(!exit.exited && exit.signal == SIGTERM) << exit.Describe();
}

// Last in this file: it leaves the process without a spawner.
TEST(ShepherdSpawner, ServersStillStartWhenTheSpawnerIsGone) {
  SutProcess::PrepareToStartServers();
  const pid_t spawner = internal::ShepherdSpawnerPid();
  ASSERT_GT(spawner, 0);
  ASSERT_EQ(::kill(spawner, SIGKILL), 0);
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<SutProcess> sut = SutProcess::Start(kServer, "unix:@s2");
    ASSERT_TRUE(sut.ok()) << sut.status();
    EXPECT_EQ(ParentOf(ParentOf(sut->pid())), ::getpid());
    const SutExit exit = sut->Stop(absl::Seconds(2));
    EXPECT_TRUE(!exit.exited && exit.signal == SIGTERM) << exit.Describe();
  }
  EXPECT_EQ(internal::ShepherdSpawnerPid(), -1);
}

}  // namespace
}  // namespace sockparity
