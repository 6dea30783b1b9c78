#include "net/socket_files.h"

#include <mutex>
#include <set>

namespace sockparity::internal {
namespace {
std::mutex& Mutex() {
  static std::mutex mutex;
  return mutex;
}
std::set<std::string>& Paths() {
  static auto* paths = new std::set<std::string>();
  return *paths;
}
}  // namespace

void NoteSocketFileBound(const std::string& path) {
  std::lock_guard lock(Mutex());
  Paths().insert(path);
}

void NoteSocketFileRemoved(const std::string& path) {
  std::lock_guard lock(Mutex());
  Paths().erase(path);
}

std::vector<std::string> BoundSocketFiles() {
  std::lock_guard lock(Mutex());
  return {Paths().begin(), Paths().end()};
}

}  // namespace sockparity::internal
