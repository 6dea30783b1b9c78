#include "check/process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace sockparity::internal {
namespace {

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> children;
  DIR* tasks = ::opendir(absl::StrCat("/proc/", pid, "/task").c_str());
  if (tasks == nullptr) return children;
  while (const dirent* task = ::readdir(tasks)) {
    if (task->d_name[0] == '.') continue;
    std::ifstream in(
        absl::StrCat("/proc/", pid, "/task/", task->d_name, "/children"));
    pid_t child;
    while (in >> child) children.push_back(child);
  }
  ::closedir(tasks);
  return children;
}

// The fields of /proc/PID/stat after the command name, which may hold
// spaces and parentheses: the first is field 3 (state).
std::optional<std::vector<std::string>> StatFields(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::stringstream text;
  text << in.rdbuf();
  const std::string line = text.str();
  const size_t end = line.rfind(')');
  if (end == std::string::npos) return std::nullopt;
  return absl::StrSplit(line.substr(end + 2), ' ', absl::SkipEmpty());
}

// What a process's live threads spent running and, with `waiting`, also
// runnable but waiting for a CPU, in nanoseconds, from
// /proc/PID/task/TID/schedstat: exact, where utime and stime are sampled
// at clock ticks (10 ms).
std::optional<int64_t> ThreadTimeNs(pid_t pid, bool waiting) {
  DIR* tasks = ::opendir(absl::StrCat("/proc/", pid, "/task").c_str());
  if (tasks == nullptr) return std::nullopt;
  int64_t total = 0;
  bool any = false;
  while (const dirent* task = ::readdir(tasks)) {
    if (task->d_name[0] == '.') continue;
    std::ifstream in(
        absl::StrCat("/proc/", pid, "/task/", task->d_name, "/schedstat"));
    int64_t running = 0, queued = 0;
    if (in >> running >> queued) {
      total += running + (waiting ? queued : 0);
      any = true;
    }
  }
  ::closedir(tasks);
  if (!any) return std::nullopt;
  return total;
}

// CPU time of the tree; with `waiting`, runnable time (running or waiting
// for a CPU).
std::optional<absl::Duration> TreeTime(pid_t pid, bool waiting) {
  static const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  absl::Duration total;
  bool any = false;
  for (pid_t member : ProcessTree(pid)) {
    std::optional<std::vector<std::string>> fields = StatFields(member);
    if (!fields || fields->size() < 15 || ticks_per_second <= 0) continue;
    auto ticks = [&](int field) -> int64_t {  // field numbers of proc(5)
      int64_t value = 0;
      return absl::SimpleAtoi((*fields)[field - 3], &value) ? value : 0;
    };
    // Reaped children's time (cutime, cstime) is only known in ticks.
    int64_t sampled = ticks(16) + ticks(17);
    std::optional<int64_t> exact = ThreadTimeNs(member, waiting);
    if (!exact) sampled += ticks(14) + ticks(15);  // utime, stime
    total += absl::Nanoseconds(exact.value_or(0)) +
             absl::Seconds(static_cast<double>(sampled) / ticks_per_second);
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

}  // namespace

std::vector<pid_t> ProcessTree(pid_t pid) {
  std::vector<pid_t> tree = {pid};
  for (size_t i = 0; i < tree.size() && tree.size() < 4096; ++i) {
    for (pid_t child : ChildrenOf(tree[i])) tree.push_back(child);
  }
  return tree;
}

std::optional<absl::Duration> CpuTimeOf(pid_t pid) {
  return TreeTime(pid, /*waiting=*/false);
}

std::optional<absl::Duration> RunnableTimeOf(pid_t pid) {
  return TreeTime(pid, /*waiting=*/true);
}

std::optional<absl::Duration> QueuedTimeOf(pid_t pid) {
  std::optional<absl::Duration> runnable = TreeTime(pid, /*waiting=*/true);
  std::optional<absl::Duration> running = TreeTime(pid, /*waiting=*/false);
  if (!runnable || !running) return std::nullopt;
  return *runnable - *running;
}

namespace {

// The state letter of /proc/PID/task/TID/stat (field 3), '?' if unknown.
char ThreadState(const std::string& task_dir) {
  std::ifstream in(task_dir + "/stat");
  std::string stat;
  std::getline(in, stat);
  const size_t end = stat.rfind(')');
  return end != std::string::npos && end + 2 < stat.size() ? stat[end + 2]
                                                           : '?';
}

}  // namespace

bool AnyThreadBusy(pid_t pid) {
  // Busy: R or D; every other state of proc(5) is not.
  return !EveryThreadIn(pid, "SZTtXxKWPI?");
}

bool EveryThreadIn(pid_t pid, const std::string& states) {
  for (pid_t member : ProcessTree(pid)) {
    DIR* tasks = ::opendir(absl::StrCat("/proc/", member, "/task").c_str());
    if (tasks == nullptr) continue;
    bool in = true;
    while (const dirent* task = ::readdir(tasks)) {
      if (task->d_name[0] == '.') continue;
      const char state =
          ThreadState(absl::StrCat("/proc/", member, "/task/", task->d_name));
      if (states.find(state) == std::string::npos) {
        in = false;
        break;
      }
    }
    ::closedir(tasks);
    if (!in) return false;
  }
  return true;
}

std::string WaitingIn(pid_t pid) {
  std::map<std::string, int> where;  // ordered: the same text every time
  for (pid_t member : ProcessTree(pid)) {
    DIR* tasks = ::opendir(absl::StrCat("/proc/", member, "/task").c_str());
    if (tasks == nullptr) continue;
    while (const dirent* task = ::readdir(tasks)) {
      if (task->d_name[0] == '.') continue;
      const std::string dir =
          absl::StrCat("/proc/", member, "/task/", task->d_name);
      std::ifstream wchan_in(dir + "/wchan");
      std::string wchan;
      std::getline(wchan_in, wchan);
      const char state = ThreadState(dir);
      if (state == 'R') {
        wchan = "running";
      } else if (wchan.empty() || wchan == "0") {
        continue;  // hidden (kernel.kptr_restrict) or not waiting
      }
      if (state == 'D') wchan += " (D)";
      ++where[wchan];
    }
    ::closedir(tasks);
  }
  std::string text;
  for (const auto& [wchan, count] : where) {
    absl::StrAppend(&text, text.empty() ? "" : ", ", wchan,
                    count > 1 ? absl::StrCat(" x", count) : "");
  }
  return text;
}

std::optional<uint64_t> ResidentBytesOf(pid_t pid) {
  uint64_t total = 0;
  bool any = false;
  for (pid_t member : ProcessTree(pid)) {
    std::ifstream in(absl::StrCat("/proc/", member, "/status"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) != 0) continue;
      uint64_t kib = 0;
      std::istringstream fields(line.substr(6));
      if (fields >> kib) {
        total += kib * 1024;
        any = true;
      }
    }
  }
  if (!any) return std::nullopt;
  return total;
}

IdleResult WaitUntilIdle(pid_t pid, absl::Duration window, absl::Duration busy,
                         absl::Duration within) {
  IdleResult result;
  result.least = absl::InfiniteDuration();
  const absl::Time deadline = absl::Now() + within;
  std::optional<absl::Duration> before = RunnableTimeOf(pid);
  while (before) {
    absl::SleepFor(window);  // the measurement's window, not a wait
    std::optional<absl::Duration> after = RunnableTimeOf(pid);
    if (!after) break;
    ++result.windows;
    result.least = std::min(result.least, *after - *before);
    if (*after - *before < busy) {
      result.idle = true;
      break;
    }
    if (absl::Now() >= deadline) break;
    before = after;
  }
  return result;
}

}  // namespace sockparity::internal
