// What a test may leave behind: descriptors, threads, child processes,
// sockparity temporary directories and socket files. Two snapshots, before
// and after, tell what leaked.
#ifndef SOCKPARITY_NET_HYGIENE_H_
#define SOCKPARITY_NET_HYGIENE_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace sockparity {

struct ResourceSnapshot {
  std::map<int, std::string> descriptors;  // fd -> what /proc says it is
  std::set<int> threads;                   // thread ids
  std::set<int> children;                  // child pids, zombies included
  std::set<std::string> temp_dirs;         // this process's TempDirs on disk
  std::set<std::string> socket_files;      // bound by a Listener, still there
};

ResourceSnapshot TakeResourceSnapshot();

// One line per thing in `after` that was not in `before`.
std::vector<std::string> ResourceLeaks(const ResourceSnapshot& before,
                                       const ResourceSnapshot& after);

// A joined thread or reaped child can take a moment to leave /proc, so this
// re-checks until nothing leaks or `timeout` passes, and returns the leaks.
std::vector<std::string> WaitForNoResourceLeaks(
    const ResourceSnapshot& before, absl::Duration timeout = absl::Seconds(2));

}  // namespace sockparity

#endif  // SOCKPARITY_NET_HYGIENE_H_
