// A private temporary directory (mode 0700), removed with its contents when
// its owner goes away. Socket paths of the unix kind live in one.
#ifndef SOCKPARITY_NET_TEMP_DIR_H_
#define SOCKPARITY_NET_TEMP_DIR_H_

#include <string>

#include "absl/status/statusor.h"

namespace sockparity {

class TempDir {
 public:
  // Creates "$TMPDIR/sockparity-<pid>-XXXXXX" (or under /tmp).
  static absl::StatusOr<TempDir> Create();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  const std::string& path() const { return path_; }
  // Removes the directory and everything in it; idempotent.
  absl::Status Remove();

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Where TempDir::Create puts directories, and the name prefix this process
// gives them: the hygiene check looks for leftovers there.
std::string TempRoot();
std::string TempDirPrefix();

// Starts a process that removes this process's directories (TempRoot,
// TempDirPrefix) once this process has ended, however it ended: a
// destructor does not run on SIGTERM or _exit. The sweeper waits for every
// holder of the returned descriptor (close-on-exec) to end; a caller may
// give a duplicate to children that outlive it. -1 if it could not start.
int StartTempDirSweeper();

}  // namespace sockparity

#endif  // SOCKPARITY_NET_TEMP_DIR_H_
