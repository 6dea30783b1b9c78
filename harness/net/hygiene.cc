#include "sockparity/net/hygiene.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "net/socket_files.h"
#include "sockparity/net/temp_dir.h"

namespace sockparity {
namespace {

// Calls `visit(name)` for each numeric entry of `path`, skipping the
// descriptor the listing itself uses.
template <typename Visit>
void ForEachNumericEntry(const char* path, Visit visit) {
  DIR* dir = ::opendir(path);
  if (dir == nullptr) return;
  const int own = ::dirfd(dir);
  while (dirent* entry = ::readdir(dir)) {
    int number = 0;
    if (absl::SimpleAtoi(entry->d_name, &number)) visit(number, own);
  }
  ::closedir(dir);
}

std::string Readlink(const std::string& path) {
  char buffer[4096];
  ssize_t n = ::readlink(path.c_str(), buffer, sizeof(buffer) - 1);
  return n < 0 ? std::string("?") : std::string(buffer, static_cast<size_t>(n));
}

// The parent pid from /proc/PID/stat; the command name may hold spaces and
// parentheses, so fields are counted from the last ')'.
int ParentOf(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return -1;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(line.substr(close + 1));
  std::string state;
  int parent = -1;
  fields >> state >> parent;
  return parent;
}

}  // namespace

ResourceSnapshot TakeResourceSnapshot() {
  ResourceSnapshot snapshot;
  ForEachNumericEntry("/proc/self/fd", [&](int fd, int own) {
    if (fd != own) {
      snapshot.descriptors[fd] = Readlink(absl::StrCat("/proc/self/fd/", fd));
    }
  });
  ForEachNumericEntry("/proc/self/task",
                      [&](int tid, int) { snapshot.threads.insert(tid); });
  const int self = ::getpid();
  ForEachNumericEntry("/proc", [&](int pid, int) {
    if (ParentOf(pid) == self) snapshot.children.insert(pid);
  });
  std::error_code error;
  const std::string prefix = TempDirPrefix();
  for (const auto& entry :
       std::filesystem::directory_iterator(TempRoot(), error)) {
    std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, prefix)) {
      snapshot.temp_dirs.insert(entry.path().string());
    }
  }
  for (const std::string& path : internal::BoundSocketFiles()) {
    if (std::filesystem::exists(std::filesystem::symlink_status(path, error))) {
      snapshot.socket_files.insert(path);
    }
  }
  return snapshot;
}

std::vector<std::string> ResourceLeaks(const ResourceSnapshot& before,
                                       const ResourceSnapshot& after) {
  std::vector<std::string> leaks;
  for (const auto& [fd, target] : after.descriptors) {
    auto it = before.descriptors.find(fd);
    if (it == before.descriptors.end() || it->second != target) {
      leaks.push_back(absl::StrCat("descriptor ", fd, " (", target, ")"));
    }
  }
  for (int tid : after.threads) {
    if (!before.threads.contains(tid)) {
      leaks.push_back(absl::StrCat("thread ", tid, " still running"));
    }
  }
  for (int pid : after.children) {
    if (!before.children.contains(pid)) {
      leaks.push_back(absl::StrCat("child process ", pid, " not reaped"));
    }
  }
  for (const std::string& dir : after.temp_dirs) {
    if (!before.temp_dirs.contains(dir)) {
      leaks.push_back(absl::StrCat("temporary directory ", dir));
    }
  }
  for (const std::string& file : after.socket_files) {
    if (!before.socket_files.contains(file)) {
      leaks.push_back(absl::StrCat("socket file ", file));
    }
  }
  return leaks;
}

std::vector<std::string> WaitForNoResourceLeaks(const ResourceSnapshot& before,
                                                absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    std::vector<std::string> leaks =
        ResourceLeaks(before, TakeResourceSnapshot());
    if (leaks.empty() || absl::Now() >= deadline) return leaks;
    absl::SleepFor(pause);  // pacing re-checks, bounded by the deadline
    pause = std::min(pause * 2, absl::Milliseconds(100));
  }
}

}  // namespace sockparity
