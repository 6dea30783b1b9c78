// `sockparity check` ended by a signal, at start-up, in the middle of the
// catalog and during the descriptor-exhaustion case, leaves nothing behind:
// no process of the server (its workers and a daemon that called setsid
// included), and nothing in its temporary directory (socket files, logs).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity {
namespace {

enum class Phase { kStart, kMidCatalog, kDescriptorCase };

struct Interruption {
  int signal;
  Phase phase;
};

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The processes whose environment holds `marker`: every process the
// server started inherits it, however it detached.
std::vector<pid_t> Marked(const std::string& marker) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string environ = ReadWhole(entry.path().string() + "/environ");
    if (environ.find(marker) != std::string::npos)
      found.push_back(std::stoi(name));
  }
  return found;
}

// Case 12.1 lowers the descriptor limit of an instance of the server.
bool AnyHasLoweredDescriptorLimit(const std::vector<pid_t>& pids) {
  for (pid_t pid : pids) {
    std::ifstream limits(absl::StrCat("/proc/", pid, "/limits"));
    std::string line;
    while (std::getline(limits, line)) {
      if (line.rfind("Max open files", 0) != 0) continue;
      std::istringstream fields(line.substr(14));
      long soft = 0;
      if (fields >> soft && soft < 256) return true;
    }
  }
  return false;
}

std::string Describe(const Interruption& interruption) {
  const char* phase = interruption.phase == Phase::kStart ? "Start"
                      : interruption.phase == Phase::kMidCatalog
                          ? "MidCatalog"
                          : "DescriptorCase";
  return absl::StrCat(sigabbrev_np(interruption.signal), "At", phase);
}

class InterruptedRun : public ::testing::TestWithParam<Interruption> {};

TEST_P(InterruptedRun, LeavesNothingBehind) {
  const Interruption interruption = GetParam();
  absl::StatusOr<TempDir> run_tmp = TempDir::Create();  // the run's TMPDIR
  absl::StatusOr<TempDir> logs = TempDir::Create();
  ASSERT_TRUE(run_tmp.ok() && logs.ok());
  static int counter = 0;
  const std::string marker =
      absl::StrCat("SOCKPARITY_INTERRUPT_MARK=", ::getpid(), "-", ++counter);
  std::vector<std::string> args = {SOCKPARITY_TOOL, "check"};
  if (interruption.phase == Phase::kDescriptorCase) {
    args.insert(args.end(), {"--cases", "12.1", "--transport", "unix"});
  }
  args.insert(args.end(), {"--", "env", marker, SOCKPARITY_FORKING_SERVER,
                           SOCKPARITY_REFERENCE_SERVER});
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string tmpdir = run_tmp->path();
  const std::string output = logs->path() + "/output.txt";
  const pid_t check = ::fork();
  ASSERT_GE(check, 0);
  if (check == 0) {
    ::setenv("TMPDIR", tmpdir.c_str(), 1);
    const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(out, 2);
    for (int signal : {SIGINT, SIGQUIT, SIGTERM, SIGHUP})
      ::signal(signal, SIG_DFL);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }

  // Waits for the phase: polled, with a deadline.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  bool reached = false;
  while (!reached && absl::Now() < deadline) {
    const std::vector<pid_t> marked = Marked(marker);
    switch (interruption.phase) {
      case Phase::kStart:
        reached = !marked.empty();
        break;
      case Phase::kMidCatalog: {
        const std::string text = ReadWhole(output);
        reached = std::count(text.begin(), text.end(), '\n') >= 20;
        break;
      }
      case Phase::kDescriptorCase:
        reached = AnyHasLoweredDescriptorLimit(marked);
        break;
    }
    if (!reached) absl::SleepFor(absl::Milliseconds(5));  // polling
  }
  ASSERT_TRUE(reached) << "the run never reached the phase; its output:\n"
                       << ReadWhole(output);
  ASSERT_FALSE(Marked(marker).empty()) << "no server ran at that point";
  ::kill(check, interruption.signal);
  int status = 0;
  ASSERT_EQ(::waitpid(check, &status, 0), check);

  // What is left must go soon, without anyone's help.
  std::vector<pid_t> left;
  std::vector<std::string> files;
  const absl::Time gone_by = absl::Now() + absl::Seconds(15);
  do {
    left = Marked(marker);
    files.clear();
    for (const auto& entry : std::filesystem::directory_iterator(tmpdir))
      files.push_back(entry.path().string());
    if (left.empty() && files.empty()) break;
    absl::SleepFor(absl::Milliseconds(10));  // polling
  } while (absl::Now() < gone_by);
  EXPECT_TRUE(left.empty())
      << "server processes left running: " << absl::StrJoin(left, ", ");
  EXPECT_TRUE(files.empty())
      << "left in TMPDIR: " << absl::StrJoin(files, ", ");
  for (pid_t pid : left) ::kill(pid, SIGKILL);  // not for the next test
}

std::vector<Interruption> Matrix() {
  std::vector<Interruption> all;
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGKILL}) {
    all.push_back({signal, Phase::kStart});
    all.push_back({signal, Phase::kMidCatalog});
    all.push_back({signal, Phase::kDescriptorCase});
  }
  return all;
}

INSTANTIATE_TEST_SUITE_P(
    EverySignal, InterruptedRun, ::testing::ValuesIn(Matrix()),
    [](const ::testing::TestParamInfo<Interruption>& info) {
      return Describe(info.param);
    });

}  // namespace
}  // namespace sockparity
