#include "check/process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
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

}  // namespace

std::vector<pid_t> ProcessTree(pid_t pid) {
  std::vector<pid_t> tree = {pid};
  for (size_t i = 0; i < tree.size() && tree.size() < 4096; ++i) {
    for (pid_t child : ChildrenOf(tree[i])) tree.push_back(child);
  }
  return tree;
}

std::optional<absl::Duration> CpuTimeOf(pid_t pid) {
  static const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  int64_t ticks = 0;
  bool any = false;
  for (pid_t member : ProcessTree(pid)) {
    std::optional<std::vector<std::string>> fields = StatFields(member);
    if (!fields || fields->size() < 15) continue;
    // utime, stime, cutime, cstime: fields 14 to 17 of proc(5).
    for (int field = 14; field <= 17; ++field) {
      int64_t value = 0;
      if (absl::SimpleAtoi((*fields)[field - 3], &value)) ticks += value;
    }
    any = true;
  }
  if (!any || ticks_per_second <= 0) return std::nullopt;
  return absl::Seconds(static_cast<double>(ticks) / ticks_per_second);
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

IdleResult WaitUntilIdle(pid_t pid, absl::Duration window,
                         absl::Duration busy, absl::Duration within) {
  IdleResult result;
  result.least = absl::InfiniteDuration();
  const absl::Time deadline = absl::Now() + within;
  std::optional<absl::Duration> before = CpuTimeOf(pid);
  while (before) {
    absl::SleepFor(window);  // the measurement's window, not a wait
    std::optional<absl::Duration> after = CpuTimeOf(pid);
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
